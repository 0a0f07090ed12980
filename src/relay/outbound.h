/*
 * The outbound sender: one thread that hands queued agent messages and
 * read receipts to the Graph API, many requests at a time, within Meta's
 * rate limits, and records each outcome through the committer. A send whose answer was lost after the request went out is
 * never sent again blindly: it waits for the status webhook that echoes its
 * id (biz_opaque_callback_data).
 */
#ifndef GLIVI_OUTBOUND_H
#define GLIVI_OUTBOUND_H

#include <cjson/cJSON.h>

#include "relay/committer.h"
#include "relay/config.h"

struct outbound;

struct outbound *outbound_start(const struct relay_config *,
    struct committer *, const char *access_token, char **cause);
/* Something was committed (maybe a new queued message): look now. Safe
 * from any thread until outbound_free. */
void outbound_notify(void *outbound);
/* Ends the thread, recording every outcome first (the committer must
 * still run); notifications and stats are harmless afterwards. */
void outbound_stop(struct outbound *);
/* Stops it if need be and frees it: once nothing can call it any more. */
void outbound_free(struct outbound *);

/*
 * The Graph API body for a queued message: the agent's request (as the
 * agent API stored it), the recipient, the reply/reaction target and the
 * opaque id Meta echoes in status webhooks. Exposed for tests.
 */
cJSON *outbound_body(const char *type, const cJSON *request,
    const char *wa_id, const char *user_id, const char *target_wamid,
    int64_t message_id);

enum outbound_verdict {
	OUTBOUND_ACCEPTED,  /* 200 with a wamid */
	OUTBOUND_RETRY,	    /* transient: try again later */
	OUTBOUND_FAILED,    /* permanent: Meta's reason is recorded */
	OUTBOUND_AMBIGUOUS, /* may have been sent: wait for a status webhook */
};

/* Classifies a Graph API answer (HTTP status and body). Exposed for tests;
 * *failure (caller deletes) describes a refusal. */
enum outbound_verdict outbound_classify(long http_status, const char *body,
    char **wamid, cJSON **failure, int *pair_limited);

/* The body that marks an inbound message read (caller frees), and the
 * verdict on Meta's answer to it: ACCEPTED, RETRY or FAILED. */
char *outbound_read_body(const char *wamid);
enum outbound_verdict outbound_classify_read(long http_status,
    const char *body, cJSON **failure);

struct outbound_stats {
	uint64_t sent;	   /* messages Meta accepted */
	uint64_t retried;  /* transient refusals, tried again later */
	uint64_t failed;   /* messages failed for good */
	uint64_t receipts_sent;
	uint64_t receipts_retried;
	uint64_t receipts_dropped; /* refused for good, or out of attempts */
};
/* Counters since start; all zero without a sender (NULL). */
void outbound_get_stats(struct outbound *, struct outbound_stats *);

#endif
