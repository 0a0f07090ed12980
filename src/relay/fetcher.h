/*
 * The media fetcher: a small pool of threads that resolve a media id at
 * the Graph API, download the file with the access token, check its size
 * and sha256, and store it (temporary file, rename, then a row through
 * the committer). HTTP requests wait for it suspended, never in an HTTP
 * thread; concurrent requests for one id share one fetch.
 */
#ifndef GLIVI_FETCHER_H
#define GLIVI_FETCHER_H

#include "relay/committer.h"
#include "relay/config.h"
#include "relay/store.h"

struct fetcher;

/* A fetch's outcome: 200 when the file is stored; otherwise the error
 * the waiting request answers. */
struct fetch_result {
	unsigned status;
	const char *code; /* static */
	char message[400];
};

typedef void (*fetch_done_fn)(void *arg, const struct fetch_result *);

struct fetcher *fetcher_start(const struct relay_config *, struct committer *,
    const char *access_token, char **cause);
/*
 * Fetches media id (what the message naming it says: ref) and calls
 * done(arg, result) on a fetcher thread when it ends; a fetch of the same
 * id in progress is joined. Returns -1 (done never called) once stopping.
 */
int fetcher_submit(struct fetcher *, const char *id,
    const struct store_media_ref *ref, fetch_done_fn done, void *arg);
/* Ends transfers in flight, answers every waiter (503 when it was cut
 * short) and stops the threads. Later submits fail. */
void fetcher_stop(struct fetcher *);
void fetcher_free(struct fetcher *);

#endif
