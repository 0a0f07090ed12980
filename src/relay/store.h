/*
 * The relay's store: the one record of conversations, contacts, messages,
 * orders, notes, agents and the raw webhooks they came from. Only the store
 * implementation speaks SQL; callers see entities, ids and a change log.
 *
 * Every change re-stamps the changed entity with a strictly increasing seq
 * (store_stamp), which the sync API serves in order. Writes happen inside
 * store_begin/store_commit on the one writer; savepoints let one webhook of a
 * group commit fail without undoing the others.
 */
#ifndef GLIVI_STORE_H
#define GLIVI_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct store;

/* Entity kinds, as named on the wire. */
#define STORE_CONVERSATION "conversation"
#define STORE_MESSAGE "message"
#define STORE_CONTACT "contact"
#define STORE_ORDER "order"
#define STORE_NOTE "note"
#define STORE_AGENT "agent"
#define STORE_TEMPLATE "template"
#define STORE_HISTORY "history"
#define STORE_LABEL "label"
#define STORE_CANNED "canned_reply"

enum store_durability {
	STORE_DURABLE, /* fsync at every commit: for anything acknowledged */
	STORE_RELAXED, /* for tools that can redo their work */
};

/* url: "sqlite:PATH". Creates and migrates the database as needed. */
int store_open(const char *url, enum store_durability, struct store **,
    char **cause);
void store_close(struct store *);
/* Moves WAL checkpoints off the writer onto a thread of their own. */
int store_background_checkpoints(struct store *, char **cause);
const char *store_epoch(const struct store *);
int store_schema_version(const struct store *);

int store_begin(struct store *, char **cause);
int store_commit(struct store *, char **cause);
void store_rollback(struct store *);
int store_savepoint(struct store *, char **cause);
void store_savepoint_release(struct store *);
void store_savepoint_rollback(struct store *);
/* False once SQLite itself rolled the transaction back (disk full, I/O). */
int store_in_transaction(struct store *);

/* Stamps an entity with the next seq; within a transaction. */
int store_stamp(struct store *, const char *kind, int64_t id);

/* Business numbers, from the config; returns the number's store id. */
int store_number_ensure(struct store *, const char *name,
    const char *phone_number_id, const char *waba_id, int64_t *id,
    char **cause);

/*
 * Raw webhook bodies, kept for audit until store_webhooks_expire. A body
 * already stored (a retried delivery) sets *duplicate and stores nothing.
 */
int store_webhook_add(struct store *, const void *body, size_t len,
    int64_t now, int64_t *id, int *duplicate);
int store_webhooks_expire(struct store *, int64_t older_than, int64_t *n);

/* Things that are not conversation entities, kept and visible to ops. */
int store_event_add(struct store *, int64_t webhook_id, int64_t now,
    const char *waba_id, int64_t number_id, const char *field,
    const char *what, const cJSON *value);
int store_quarantine_add(struct store *, int64_t webhook_id, int64_t now,
    const char *phone_number_id, const char *field, const cJSON *value);

struct store_contact {
	int64_t number_id;
	const char *wa_id;
	const char *user_id;
	const char *parent_user_id;
	const char *username;
	const char *profile_name;
};

/* Finds the contact by user id, then wa_id, creating it if new; fills in
 * ids learnt later and keeps the latest profile name. */
int store_contact_upsert(struct store *, const struct store_contact *,
    int64_t now, int64_t *id);
/* A number change: the contact continues under new_wa_id. */
int store_contact_renumber(struct store *, int64_t id, const char *new_wa_id,
    int64_t now);

/* The conversation of a contact, created on first use; activity moves its
 * last activity (and last inbound time, for the 24-hour window) forward. */
int store_conversation_for(struct store *, int64_t number_id,
    int64_t contact_id, int64_t now, int64_t *id);
int store_conversation_activity(struct store *, int64_t id, int64_t ts,
    int inbound, int64_t message_id);

struct store_message {
	int64_t number_id;
	int64_t conversation_id;
	const char *wamid;
	const char *direction; /* "in" or "out" */
	const char *type;
	int unknown_type;
	int64_t ts;
	int64_t received_at;
	const char *target_wamid;
	const char *text;
	const cJSON *media;
	const cJSON *wa; /* the message object as received */
	const char *status;
	int64_t status_at;
};

/* Inserts a message; *existed is set (and nothing written) when a message
 * with this wamid is already stored for the number. */
int store_message_add(struct store *, const struct store_message *,
    int64_t *id, int *existed);
int store_message_find(struct store *, int64_t number_id, const char *wamid,
    int64_t *id, int64_t *conversation_id);

/*
 * The message's stored status, as a static string: "queued", "sending",
 * "sent", "failed", "delivered", "read", "played" or "received". *status
 * is NULL when the message has no status, one not in that list, or does
 * not exist; all three return 0, and -1 is a store failure. No rank is
 * returned and nothing is compared here: the order a status may replace
 * another in is enum wa_status (core/wa.h: queued < sent < failed <
 * delivered < read < played), and store_message_set_status writes what
 * it is given. Keeping a status from moving back when Meta's webhooks
 * arrive out of order is the caller's: ingest ranks both with
 * wa_status_parse (which ranks "queued", "sending" and "received" as
 * none) and writes only a higher one.
 */
int store_message_status(struct store *, int64_t id, const char **status);
int store_message_set_status(struct store *, int64_t id, const char *status,
    int64_t at, const cJSON *failure);
int store_message_set_failure(struct store *, int64_t id,
    const cJSON *failure);
/* A (wamid, status) pair seen before sets *duplicate. */
int store_status_add(struct store *, int64_t number_id, const char *wamid,
    const char *status, int64_t ts, int *duplicate);

/* The newest reaction / edit / revoke aimed at a message, recomputed from
 * the stored reaction, edit and revoke messages so arrival order does not
 * matter. */
int store_message_refresh_actions(struct store *, int64_t number_id,
    int64_t id, const char *wamid);
int store_message_set_order(struct store *, int64_t id, int64_t order_id);

struct store_order {
	int64_t number_id;
	int64_t contact_id;
	int64_t conversation_id;
	int64_t message_id;
	const char *catalog_id;
	const char *text;
	const cJSON *items;
	const char *currency;
	const char *total;
	int64_t created_at;
};
int store_order_add(struct store *, const struct store_order *, int64_t *id);

struct store_template {
	const char *waba_id;
	const char *template_id;
	const char *name;
	const char *language;
	const char *status;
	const char *reason;
	const char *category;
	const cJSON *components;      /* as Meta lists them; NULL: keep */
	const char *parameter_format; /* POSITIONAL or NAMED */
};
/* A status update (webhook): what it does not say is kept. */
int store_template_upsert(struct store *, const struct store_template *,
    int64_t now, int64_t *id);
/* A template as Meta's list shows it: written and stamped only when it
 * differs from what is stored (*changed). */
int store_template_sync(struct store *, const struct store_template *,
    int64_t now, int *changed);
/* Removes (with a tombstone) every template of the WABA whose template_id
 * is not in keep (sorted in strcmp order). */
int store_template_prune(struct store *, const char *waba_id,
    const char *const *keep, size_t nkeep, int64_t *removed);

/* Agents. */
int store_agent_add(struct store *, const char *name, const char *role,
    const unsigned char hash[32], int64_t now, int64_t *id, char **cause);
int store_agent_revoke(struct store *, const char *name, int64_t now,
    char **cause);
/* Calls fn for each agent; stops on a non-zero return. */
int store_agent_each(struct store *, int (*fn)(void *, const cJSON *),
    void *arg);

/* The read path: an entity whole (write answers, inspect, export), or
 * NULL. */
cJSON *store_entity(struct store *, const char *kind, int64_t id);
/* An entity as the sync and event streams serve it, as JSON text written
 * to w (as member key, or a value when key is NULL); -1 when absent. The
 * same as store_entity but for a plain text message's "wa", null there
 * when it only repeats the entity (wa_text_redundant). */
struct jw;
int store_entity_text(struct store *, const char *kind, int64_t id,
    struct jw *, const char *key);
/* Changes with seq > since, in seq order; fn gets kind, id, seq, deleted. */
int store_changes(struct store *, int64_t since, int64_t limit,
    int (*fn)(void *, const char *, int64_t, int64_t, int), void *arg);
int store_message_id_by_wamid(struct store *, const char *wamid,
    int64_t *id);
/* Row counts of every table, as one JSON object (for ops and tests). */
cJSON *store_counts(struct store *);

/*
 * The agent API. Readers are read-only connections for other threads;
 * they see committed data only, so a cursor never passes an uncommitted
 * change.
 */
int store_open_reader(const char *url, struct store **, char **cause);
int store_read_begin(struct store *);
void store_read_end(struct store *);
/* The newest seq, and the oldest seq a cursor may still start from. */
int store_head(struct store *, int64_t *head, int64_t *horizon);

/*
 * Several relays on one PostgreSQL store: every commit rings a doorbell
 * (NOTIFY, carrying nothing) that the other relays' event streams listen
 * for, then read what changed from the store itself. store_listen is -1 on
 * SQLite (one relay: nothing to listen for), and starts listening again
 * after the connection broke. store_doorbell waits up to ms, or until
 * wake_fd (-1: none) is readable: the number of doorbells that rang, 0
 * none, -1 the connection broke (what rang meanwhile is gone: catch up
 * by query).
 *
 * Relays also tell each other what is not stored (who is online, viewing,
 * typing; mentions): store_peer_send publishes a short text, and
 * store_doorbell gives every other relay's to peer(arg, text).
 */
int store_listen(struct store *);
int store_doorbell(struct store *, int ms, int wake_fd,
    void (*peer)(void *, const char *), void *arg);
int store_peer_send(struct store *, const char *text);

/*
 * Work that must run on one relay of several at a time (the sender, the
 * snooze timer, the retention sweep, the template refresh) holds a lease:
 * a PostgreSQL session lock on a connection of its own, released when the
 * relay stops or dies (its connection closes). On SQLite there is one
 * relay, and store_lease_held is always true.
 */
struct store_lease;
struct store_lease *store_lease_new(const char *url, const char *name);
/* Takes the lease when free; 1 while it is held, 0 when another relay
 * holds it (or the database is away). Cheap enough to call every second. */
int store_lease_held(struct store_lease *);
void store_lease_free(struct store_lease *);

struct store_agent {
	int64_t id;
	char name[72];
	int admin;
	int revoked;
	unsigned char hash[32];
};
/* 1 found, 0 none, -1 error. */
int store_agent_by_token_hash(struct store *, const unsigned char hash[32],
    struct store_agent *);
int store_agent_id_by_name(struct store *, const char *, int64_t *id);

struct store_conversation_info {
	int64_t id;
	int64_t number_id;
	int64_t contact_id;
	int64_t last_inbound_at;
	char status[16];
	int has_recipient;
};
int store_conversation_info(struct store *, int64_t id,
    struct store_conversation_info *);
/* 1 when message id belongs to the conversation; *wamid (may be NULL). */
int store_message_in_conversation(struct store *, int64_t id,
    int64_t conversation_id, char **wamid);
int store_contact_exists(struct store *, int64_t id, int64_t *number_id);

struct store_outbound {
	int64_t number_id;
	int64_t conversation_id;
	int64_t agent_id;
	const char *client_id;
	const char *type;
	const char *text;
	const char *target_wamid;
	const cJSON *media;
	const cJSON *request; /* what the agent asked to send */
	int64_t now;
};
/* Queues an outbound message for the sender. */
int store_outbound_add(struct store *, const struct store_outbound *,
    int64_t *id);

struct store_value {
	const char *text;
	const cJSON *json;
	int64_t i;
	int has_int; /* all unset: NULL */
};
/* Sets one agent-settable column and stamps the entity. */
int store_set(struct store *, const char *kind, int64_t id,
    const char *column, const struct store_value *);
int store_note_add(struct store *, int64_t conversation_id, int64_t agent_id,
    const char *body, int64_t now, int64_t *id);
/* 1 deleted (tombstoned), 0 no such note. */
int store_note_delete(struct store *, int64_t id, int64_t *agent_id);
int store_tombstone(struct store *, const char *kind, int64_t id);
int store_order_create(struct store *, const struct store_order *,
    const char *status, int64_t *id);

int store_idempotency_get(struct store *, int64_t agent_id, const char *key,
    unsigned char hash[32], int *status, char **response);
int store_idempotency_put(struct store *, int64_t agent_id, const char *key,
    const unsigned char hash[32], int status, const char *response,
    int64_t now);
/* Outbound messages not yet handed to WhatsApp. */
int store_outbox_depth(struct store *, int64_t *n);
int store_idempotency_expire(struct store *, int64_t older_than, int64_t *n);

/* The outbound sender. */
struct store_send {
	int64_t id;
	int64_t number_id;
	char phone_number_id[64];
	char wa_id[64];
	char user_id[128];
	char type[24];
	char *request;	    /* what the agent asked to send (JSON) */
	char *target_wamid; /* reply-to or reaction target */
	int attempts;
	int64_t last_inbound_at;
};
/* Queued messages due at now with ids above after_id, oldest first; none
 * that would overtake an earlier queued message of its conversation. */
int store_outbound_due(struct store *, int64_t now, int64_t after_id,
    struct store_send *, size_t max, size_t *n);
void store_send_free(struct store_send *);
/* Sets the delivery state of an outbound message and stamps it. */
int store_outbound_mark(struct store *, int64_t id, const char *status,
    int64_t next_attempt_at, int64_t sending_since, int count_attempt,
    const cJSON *failure);
/* Meta accepted the message under wamid (folds in an early stand-in). */
int store_outbound_accepted(struct store *, int64_t id, int64_t number_id,
    const char *wamid);
/* Messages left 'sending' since before older_than: 0 with *n of them
 * (none is 0 too), -1 when the store could not be read (*n is 0). */
int store_outbound_stale(struct store *, int64_t older_than, int64_t *ids,
    size_t max, size_t *n);
/* Gives an outbound message without a wamid the wamid a status webhook
 * names (matched by biz_opaque_callback_data): 1 when it did. */
int store_message_claim_wamid(struct store *, int64_t number_id, int64_t id,
    const char *wamid);

/*
 * Media files the relay holds under data_dir: fetched from Meta ("in",
 * under Meta's media id) or uploaded by agents ("out", under the relay's
 * id), with Meta's id for an upload once it has been sent there.
 */
struct store_media {
	char id[136];
	char direction[4]; /* "in" or "out" */
	char mime_type[256];
	char sha256[65]; /* hex */
	int64_t size;
	int64_t agent_id;     /* who uploaded it; 0 for "in" */
	char meta_id[136];    /* "" until uploaded to Meta */
	int64_t meta_number_id;
	int64_t meta_uploaded_at;
	int64_t created_at;
};
/* 1 found, 0 none, -1 error. */
int store_media_get(struct store *, const char *id, struct store_media *);
/* Records a file; one already recorded under the id stays as it is. */
int store_media_add(struct store *, const struct store_media *);
int store_media_set_meta_id(struct store *, const char *id,
    int64_t number_id, const char *meta_id, int64_t at);

/* What the first stored message naming a media id says of it. */
struct store_media_ref {
	char phone_number_id[64]; /* of the message's number */
	char mime_type[256];	  /* "" when the message has none */
	char sha256[96];	  /* as the webhook had it; "" when none */
};
/* 1 when some message's media names id, 0 when none, -1 error. */
int store_media_referenced(struct store *, const char *id,
    struct store_media_ref *);

/*
 * Read receipts owed to WhatsApp, one per conversation. Queues one for the
 * newest inbound message at or before upto (0: the newest of all), unless
 * one as new is already owed or sent (*queued = 0 then).
 */
int store_read_receipt_queue(struct store *, int64_t conversation_id,
    int64_t upto, int64_t now, int *queued);
struct store_receipt {
	int64_t conversation_id;
	int64_t number_id;
	int64_t message_id;
	char wamid[160];
	char phone_number_id[64];
	int attempts;
};
/* Owed receipts due at now, conversation ids above after, in order. */
int store_read_receipts_due(struct store *, int64_t now, int64_t after,
    struct store_receipt *, size_t max, size_t *n);
/* state: "sent", "failed" (dropped), or "queued" again for a retry at
 * next_attempt_at. Changes nothing when a newer read replaced message_id. */
int store_read_receipt_mark(struct store *, int64_t conversation_id,
    int64_t message_id, const char *state, int count_attempt,
    int64_t next_attempt_at, int64_t now);
int store_read_receipts_queued(struct store *, int64_t *n);

/*
 * The shared inbox (inbox.c decides what to record; this only stores it):
 * history lines, labels, canned replies, mentions, snoozes.
 */
struct store_history {
	int64_t conversation_id;
	int64_t agent_id; /* who; 0 for the relay itself */
	const char *action; /* "status", "assign", "labels" */
	const char *reason; /* NULL, or why the relay did it */
	const cJSON *details;
	const char *text; /* the line a client shows */
	int64_t now;
};
int store_history_add(struct store *, const struct store_history *,
    int64_t *id);
/* An agent's name ("agent N" when unknown): 1 found, 0 none, -1 error. */
int store_agent_name(struct store *, int64_t id, char *name, size_t len);
/* A label by name, whatever its case: 1 found (*canonical, caller frees,
 * may be NULL), 0 none, -1 error. */
int store_label_find(struct store *, const char *name, int64_t *id,
    char **canonical);
/* Inserts (*id == 0) or rewrites a label; *taken when the name is. */
int store_label_put(struct store *, int64_t *id, const char *name,
    const char *color, int64_t now, int *taken);
/* 1 deleted (tombstoned), 0 none, -1 error. */
int store_label_delete(struct store *, int64_t id);
/* The conversations whose labels hold name, whatever its case; *ids is
 * the caller's. */
int store_conversations_labelled(struct store *, const char *name,
    int64_t **ids, size_t *n);
int store_canned_put(struct store *, int64_t *id, const char *shortcut,
    const char *text, int64_t agent_id, int64_t now, int *taken);
int store_canned_delete(struct store *, int64_t id);
int store_note_set_mentions(struct store *, int64_t id,
    const cJSON *mentions);
/* The soonest end of a snooze, 0 when nothing is snoozed. */
int store_snooze_next(struct store *, int64_t *until);
/* Snoozed conversations whose snooze ended at or before now. */
int store_snoozes_due(struct store *, int64_t now, int64_t *ids,
    size_t max, size_t *n);
/* 1 found, 0 none, -1 error; assignee 0 when none. */
int store_conversation_state(struct store *, int64_t id, char *status,
    size_t len, int64_t *snoozed_until, int64_t *assignee_id);
int store_meta_int(struct store *, const char *key, int64_t *);
int store_meta_set_int(struct store *, const char *key, int64_t);
/* The contact's conversation, 0 when it has none yet. */
int store_conversation_of_contact(struct store *, int64_t contact_id,
    int64_t *id);

/*
 * Erasure of personal data, in the caller's transaction. A contact goes
 * with their conversations, messages (reactions, edits and statuses
 * too), notes, orders, history lines, read receipts, the stored answers
 * of writes about them, the events that name them, and the bodies of raw
 * webhooks that name them (emptied; the row keeps a retry a no-op); media
 * no other conversation names are dropped and their ids listed, for the
 * caller to remove the files once committed. Every entity a client may
 * have cached leaves a tombstone. 1 erased, 0 no such contact (or
 * conversation), -1.
 */
struct store_erased {
	int64_t contacts, conversations, messages, statuses, notes, orders,
	    history, media, receipts, idempotency, webhooks, events;
	char **media_ids;
	size_t nmedia;
};
int store_contact_erase(struct store *, int64_t contact_id,
    struct store_erased *);
int store_conversation_erase(struct store *, int64_t id,
    struct store_erased *);
/* 1 deleted (tombstoned), 0 no such order. */
int store_order_delete(struct store *, int64_t id);
int64_t store_erased_rows(const struct store_erased *);
cJSON *store_erased_json(const struct store_erased *);
void store_erased_free(struct store_erased *);
/* Contacts whose id, wa_id or user id is key (on every number). */
int store_contact_lookup(struct store *, const char *key, int64_t *ids,
    size_t max, size_t *n);
/* Checkpoints the WAL and truncates it, on a connection of its own, so
 * the pages an erasure replaced leave the disk files. */
int store_scrub(const char *url, char **cause);

/*
 * Everything held about a contact: {"contact", "conversations" (each with
 * its "messages", each with "status_history", and "notes"), "orders",
 * "media_ids"}; NULL when there is no such contact.
 */
cJSON *store_contact_export(struct store *, int64_t contact_id);

/* The audit trail of admin actions on personal data: ids and counts. */
int store_audit_add(struct store *, int64_t now, const char *actor,
    const char *action, const char *target, int64_t rows,
    const cJSON *detail);
int store_audit_each(struct store *, int64_t since,
    int (*fn)(void *, const cJSON *), void *arg);

/*
 * Disconnected numbers: their webhooks are answered and stored nowhere.
 * store_number_disconnect sets (now) or clears (0) the mark by name: 1,
 * or 0 when no number has that name.
 */
int store_number_disconnected(struct store *, int64_t number_id);
int store_number_disconnect(struct store *, const char *name, int64_t now,
    int64_t *number_id);
/* Fails the number's queued messages (stamped) and owed receipts. */
int store_number_cancel_queued(struct store *, int64_t number_id,
    int64_t *n);
/* The number's contacts; the caller frees *ids. */
int store_number_contacts(struct store *, int64_t number_id, int64_t **ids,
    size_t *n);
int store_number_each(struct store *, int (*fn)(void *, const cJSON *),
    void *arg);

/*
 * Retention: seconds each thing is kept (0: for ever). One sweep erases,
 * with tombstones, up to a chunk of what is past its time; *more when
 * there may be more to do.
 */
struct store_retention {
	int64_t messages;
	int64_t media;
	int64_t closed; /* resolved conversations, after last activity */
};
int store_retention_sweep(struct store *, int64_t now,
    const struct store_retention *, struct store_erased *, int *more);

#endif
