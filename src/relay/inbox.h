/*
 * The shared inbox's rules: a conversation's status, assignee and labels
 * change here, and each change leaves a history line (who, when, what) in
 * the same transaction. A new inbound message reopens a resolved or
 * snoozed conversation; a snooze that ends reopens it. Runs on the
 * committer, inside the caller's transaction; knows rules, not SQL.
 */
#ifndef GLIVI_INBOX_H
#define GLIVI_INBOX_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "relay/config.h"
#include "relay/store.h"

/* Why the relay itself changed a conversation (history's "reason"). */
#define INBOX_REASON_INBOUND "inbound"
#define INBOX_REASON_SNOOZE "snooze_expired"
#define INBOX_REASON_AUTO "auto_assign"
#define INBOX_REASON_LABEL_DELETED "label_deleted"
#define INBOX_REASON_LABEL_RENAMED "label_renamed"

/*
 * Sets the status (until: the end of a snooze, else 0). actor is the
 * agent, 0 for the relay. Nothing is written when nothing changes
 * (*changed 0).
 */
int inbox_set_status(struct store *, int64_t conversation_id, int64_t actor,
    const char *status, int64_t until, const char *reason, int64_t now,
    int *changed);
/* Sets the assignee (0: nobody); likewise. */
int inbox_assign(struct store *, int64_t conversation_id, int64_t actor,
    int64_t assignee, const char *reason, int64_t now, int *changed);
/* Records a change of labels already made (added, removed: arrays of
 * names, either may be NULL or empty). */
int inbox_labels_history(struct store *, int64_t conversation_id,
    int64_t actor, const cJSON *added, const cJSON *removed,
    const char *reason, int64_t now);

/*
 * A new inbound message in a conversation (created: it is new): reopens it
 * when resolved or snoozed, and with [inbox] auto_assign = round-robin
 * assigns a new or reopened conversation nobody holds to the next agent
 * online.
 */
int inbox_inbound(struct store *, const struct relay_config *,
    int64_t conversation_id, int created, int64_t now);

/* Reopens every conversation whose snooze ended by now; *n of them. */
int inbox_snoozes_end(struct store *, int64_t now, size_t *n);

/*
 * Who is online, for auto-assignment: fn fills ids (ascending) of agents
 * with an open event stream and returns how many. Set once, before the
 * committer runs.
 */
void inbox_online_source(size_t (*fn)(void *, int64_t *ids, size_t max),
    void *arg);

#endif
