/*
 * The client's local cache: the only place glivi-tui speaks SQL.
 *
 * Two SQLite files per relay account under the cache directory, both mode
 * 0600 in a 0700 directory:
 *   <name>.db       what the relay sent: conversations, messages, contacts,
 *                   orders, notes, agents, templates, the sync cursor and a
 *                   full-text index. Disposable: deleted and rebuilt from
 *                   the relay when damaged or when the relay says so (410).
 *   <name>.work.db  the agent's own work: the outbox and drafts. Never
 *                   rebuilt; written with synchronous=FULL.
 */
#ifndef GLIVI_CLIENT_CACHE_H
#define GLIVI_CLIENT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct cache;

/*
 * Opens (creating when needed) the cache of relay_url in dir. A damaged
 * cache file is moved aside and started afresh, with *notice saying so
 * (caller frees); a damaged work file is an error, never thrown away.
 */
struct cache *cache_open(const char *dir, const char *relay_url,
    char **notice, char **cause);
void cache_close(struct cache *);
const char *cache_path(const struct cache *);
/* Whether the last failure was the cache file being damaged. */
int cache_damaged(const struct cache *);

/* -- sync state ------------------------------------------------------- */

/* The cursor of the last applied change, or NULL before the first sync. */
char *cache_cursor(struct cache *);
/* Whether a first sync is under way (indexes are built at its end). */
int cache_initial(struct cache *);
int cache_meta_get_int(struct cache *, const char *key, int64_t *);
int cache_meta_set_int(struct cache *, const char *key, int64_t);

/*
 * Drops everything the relay sent (a new epoch, or a damaged file); the
 * work file is untouched. The next sync is a first sync.
 */
int cache_reset(struct cache *, char **cause);

/* A first sync writes without indexes or full-text triggers... */
int cache_initial_begin(struct cache *, char **cause);
/* ...and builds them once, at its end. */
int cache_initial_end(struct cache *, char **cause);

int cache_begin(struct cache *, char **cause);
int cache_commit(struct cache *, char **cause);
void cache_rollback(struct cache *);

struct cache_applied {
	long events;	/* change events in the input */
	long applied;	/* rows written or deleted */
	long skipped;	/* malformed events left out */
	long messages;	/* message events */
};

/*
 * Checks a /sync page and reads its envelope: its cursor (caller frees),
 * whether more follows, how many changes remain (-1: not said), and where
 * its events array is (inside page).
 */
struct cache_page {
	char *cursor;
	int more;
	int64_t remaining;
	const char *events;
	size_t events_len;
};
int cache_page_envelope(struct cache *, const char *page, size_t len,
    struct cache_page *, char **cause);
/* Applies the events array of a page cache_page_envelope checked, and its
 * cursor, as cache_apply does (without checking the text again). */
int cache_apply_page(struct cache *, const struct cache_page *,
    struct cache_applied *, char **cause);
/*
 * Applies change events — the array at JSON path `path` of text ("$.events"
 * for a sync page, "$" for a batch of stream events) — and stores cursor,
 * in the open transaction (or one of its own). An entity only moves
 * forward: an older seq than the cached one is ignored.
 */
int cache_apply(struct cache *, const char *text, size_t len,
    const char *path, const char *cursor, struct cache_applied *,
    char **cause);
/*
 * Stores an entity a write returned (kind and id inside) when the cache
 * does not hold it yet; the sync stream brings its stamped state later.
 */
int cache_put_provisional(struct cache *, const cJSON *entity);

/* -- reading ---------------------------------------------------------- */

struct cache_counts {
	int64_t conversations, messages, contacts, orders, notes, agents,
	    templates;
};
int cache_counts(struct cache *, struct cache_counts *);
/* The stored JSON of one entity, or NULL. */
cJSON *cache_entity(struct cache *, const char *kind, int64_t id);
/* A conversation by id, or by its contact's WhatsApp number. */
int cache_find_conversation(struct cache *, const char *spec, int64_t *id);

/* One search hit: a message, or a contact matched by name or number. */
struct cache_hit {
	const char *kind; /* "message" or "contact" */
	int64_t id;
	int64_t conversation_id; /* 0 when none */
	int64_t timestamp;
	const char *contact;	 /* the conversation's contact name, or NULL */
	const char *text;	 /* message text or contact number */
};
/*
 * Full-text search over message text and contact names, case and accent
 * insensitive; words are ANDed, a trailing * is a prefix. Newest first.
 * Returns the number of hits, or -1 with *cause.
 */
int cache_search(struct cache *, const char *query, int limit,
    void (*fn)(void *, const struct cache_hit *), void *arg, char **cause);
/* A conversation with its contact, messages, notes and orders. */
cJSON *cache_export_conversation(struct cache *, int64_t id);

/* -- the agent's work: outbox and drafts ------------------------------ */

enum outbox_state { OUTBOX_QUEUED, OUTBOX_ACCEPTED, OUTBOX_FAILED };

struct outbox_entry {
	int64_t id;
	char *key; /* Idempotency-Key */
	int64_t conversation_id;
	char *kind; /* message, read, assign, status, labels, note, ... */
	char *method;
	char *path;
	char *body;
	enum outbox_state state;
	int64_t attempts;
	int64_t next_at;
	char *error;
	int64_t result_id;
	int64_t created_at;
	/* The delivery state of an accepted message, from the cache. */
	char *delivery;
};

void outbox_entry_free(struct outbox_entry *);
const char *outbox_state_name(enum outbox_state);

/* Durably queues a write under a fresh idempotency key; *id is its row. */
int cache_outbox_add(struct cache *, int64_t conversation_id,
    const char *kind, const char *method, const char *path, const char *body,
    int64_t *id, char **cause);
/*
 * The entries due now: for each conversation, its oldest queued entry
 * (writes of one conversation go in order), then queued entries of no
 * conversation. At most max.
 */
int cache_outbox_due(struct cache *, int64_t now, struct outbox_entry *,
    int max);
/* The soonest next_at among queued entries, or -1 when none is queued. */
int64_t cache_outbox_next_at(struct cache *);
/* Ends every queued entry's wait: the relay is back. */
int cache_outbox_wake(struct cache *);
int cache_outbox_get(struct cache *, int64_t id, struct outbox_entry *);
int cache_outbox_accepted(struct cache *, int64_t id, int64_t result_id);
int cache_outbox_failed(struct cache *, int64_t id, const char *error);
int cache_outbox_retry_later(struct cache *, int64_t id, int64_t next_at,
    const char *error);
/* Queues a failed entry again under a new key (so the relay does not
 * replay the refusal). */
int cache_outbox_requeue(struct cache *, int64_t id, char **cause);
int cache_outbox_discard(struct cache *, int64_t id, char **cause);
/* Entries, newest first; all or only those not accepted. */
int cache_outbox_list(struct cache *, int pending_only,
    void (*fn)(void *, const struct outbox_entry *), void *arg);
struct outbox_counts {
	int64_t queued, accepted, failed;
};
int cache_outbox_counts(struct cache *, struct outbox_counts *);

int cache_draft_set(struct cache *, int64_t conversation_id,
    const char *text);
char *cache_draft_get(struct cache *, int64_t conversation_id);

/* -- the shared inbox: labels, canned replies, history ------------------ */

/*
 * The readers call fn once per row; the strings live until fn returns
 * (copy what you keep) and are the relay's, unsanitised. Each returns the
 * number of rows, or -1.
 */
struct cache_label {
	int64_t id;
	const char *name;
	const char *color; /* "#rrggbb", or NULL: the screen's choice */
};
/* Every label of the shared set, by name (case folded). */
int cache_labels(struct cache *, void (*fn)(void *, const struct cache_label *),
    void *arg);

struct cache_canned {
	int64_t id;
	const char *shortcut;
	const char *text; /* with {{placeholders}}: core/canned.h expands */
};
/* Every canned reply, shortest shortcut first, then by shortcut. */
int cache_canned_replies(struct cache *,
    void (*fn)(void *, const struct cache_canned *), void *arg);
/* The canned replies whose shortcut starts with prefix, shortest first
 * (so an exact match comes first). */
int cache_canned_find(struct cache *, const char *prefix,
    void (*fn)(void *, const struct cache_canned *), void *arg);

/*
 * A canned reply's text with its placeholders filled for a conversation
 * (its contact's name and number, as cached) and the agent sending;
 * values the cache lacks expand to nothing. Caller frees.
 */
char *cache_canned_expand(struct cache *, const char *text,
    int64_t conversation_id, const char *agent_name);

struct cache_history {
	int64_t id;
	int64_t conversation_id;
	int64_t agent_id; /* who; 0 when the relay did it */
	int64_t at;
	const char *action; /* "status", "assign", "labels" */
	const char *reason; /* NULL, or "inbound", "snooze_expired", ... */
	const char *text;   /* the line to show in the thread */
};
/* A conversation's history lines, oldest first. */
int cache_history(struct cache *, int64_t conversation_id,
    void (*fn)(void *, const struct cache_history *), void *arg);

#endif
