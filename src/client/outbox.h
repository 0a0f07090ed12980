/*
 * The outbox sender. Every write an agent makes (a reply, a read mark, an
 * assignment, a status, labels, a note, an order) is first committed to
 * the work file with a fresh Idempotency-Key (cache_outbox_add); only then
 * does this hand it to the relay, in order per conversation, until the
 * relay has answered it. A retry reuses the key, so the relay carries each
 * write out once however often the link drops. A refusal marks the entry
 * failed with the relay's reason; only the agent retries or discards it.
 */
#ifndef GLIVI_OUTBOX_H
#define GLIVI_OUTBOX_H

#include <stdint.h>

struct client;
struct outbox;

struct outbox *outbox_new(struct client *);
void outbox_free(struct outbox *);
/* Queues a write durably, then tries to send it. */
int outbox_queue(struct client *, int64_t conversation_id, const char *kind,
    const char *method, const char *path, const char *body, int64_t *id,
    char **cause);
/* Something may be due: look now. */
void outbox_kick(struct outbox *);
/* The relay answered us: entries waiting on a backoff go now. */
void outbox_relay_reachable(struct outbox *);
/* Writes being sent right now. */
int outbox_in_flight(const struct outbox *);
/* Whether the last attempt could not reach the relay at all. */
int outbox_unreachable(const struct outbox *);
/* Stops sending until outbox_kick (a one-shot command that is done). */
void outbox_pause(struct outbox *);

#endif
