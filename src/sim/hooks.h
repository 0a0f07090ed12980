/*
 * Webhooks the simulator sends to the relay, signed with the app secret
 * (X-Hub-Signature-256 over the exact body bytes). Scheduled ones (status
 * changes) go out from worker threads (one by default: strictly in due
 * order), retried with backoff until answered 200 or given up; a
 * synchronous post serves the control API's simulated customers. Bodies
 * are built elsewhere.
 */
#ifndef GLIVI_SIM_HOOKS_H
#define GLIVI_SIM_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "sim/state.h"

/* Attempts for a scheduled webhook before it is dropped. */
#define HOOKS_MAX_TRIES 10

struct hooks;

struct hooks_options {
	const char *url;    /* the relay's /webhook; NULL: nothing is posted */
	const char *cacert; /* CA file for an https url; NULL: system CAs */
	const char *secret; /* app secret, owned by the caller */
	size_t secret_len;
	struct state_stats *stats;
	size_t senders; /* worker threads, each its own connection; 0: 1 */
};

/* Checks the URL (http only to a loopback host) and starts the worker. */
int hooks_start(struct hooks **, const struct hooks_options *, char **cause);
/* Milliseconds on the monotonic clock, the scale of due times. */
int64_t hooks_now_ms(void);
/*
 * Queues body (taken over) to be posted at due_ms; what names it in logs
 * (never message text).
 */
void hooks_schedule(struct hooks *, int64_t due_ms, char *body,
    const char *what);
/*
 * Posts body once from the calling thread. Returns the HTTP status, or 0
 * with *cause set when no answer came (or no URL is configured).
 */
long hooks_post_now(struct hooks *, const char *body, size_t len,
    char **cause);
size_t hooks_pending(struct hooks *);
/*
 * Posts what is still queued (due or not, once each) for at most grace_ms,
 * drops the rest, and stops the worker.
 */
void hooks_stop(struct hooks *, long grace_ms);
void hooks_free(struct hooks *);

#endif
