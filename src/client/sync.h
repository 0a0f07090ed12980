/*
 * The sync engine: the only place the network changes the cache. Pages
 * /api/v1/sync until caught up (each page one transaction, written on a
 * thread of its own while the next is received; a first sync builds the
 * indexes at its end), then holds /api/v1/events, applying changes in
 * short batches; on a drop it reconnects with backoff and jitter from the
 * last committed cursor; 410 rebuilds the cache (the work file stays).
 */
#ifndef GLIVI_SYNC_H
#define GLIVI_SYNC_H

#include <stdint.h>

struct client;
struct sync;

enum sync_state {
	SYNC_IDLE,
	SYNC_CONNECTING,
	SYNC_INITIAL,  /* first sync: percent says how far */
	SYNC_CATCHUP,  /* paging changes made while away */
	SYNC_LIVE,     /* the event stream is open */
	SYNC_OFFLINE,  /* waiting to retry; error says why */
};

struct sync_status {
	enum sync_state state;
	int percent;		/* SYNC_INITIAL: 0 to 100, or -1 */
	int64_t applied;	/* changes applied since start */
	int64_t messages;	/* of which messages */
	int64_t offline_since;	/* unix time, or 0 */
	int64_t retry_at;	/* SYNC_OFFLINE: next attempt, unix time */
	int fatal;		/* the relay refused us (token, TLS): an
				   agent must act */
	int rebuilt;		/* the cache was rebuilt (410 or damage) */
	char error[512];	/* the last failure, sanitised */
};

struct sync *sync_new(struct client *);
/* Starts syncing; with once, stops at the relay's head (CLIENT_CAUGHT_UP)
 * or at the first failure (state SYNC_OFFLINE) instead of streaming. */
void sync_start(struct sync *, int once);
void sync_free(struct sync *);
const struct sync_status *sync_status(const struct sync *);
const char *sync_state_name(enum sync_state);

#endif
