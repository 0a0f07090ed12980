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

/*
 * The page cache outside a first sync, in KiB (16 MiB unless set): the
 * screen keeps a small one, so its memory does not grow with the cache.
 */
void cache_set_page_cache(struct cache *, int kib);
/* A first sync writes without indexes or full-text triggers... */
int cache_initial_begin(struct cache *, char **cause);
/* ...and builds them once, at its end. */
int cache_initial_end(struct cache *, char **cause);

int cache_begin(struct cache *, char **cause);
int cache_commit(struct cache *, char **cause);
void cache_rollback(struct cache *);
/* After tombstones: merges the full-text index and truncates the WALs,
 * so deleted text leaves the files (cache_commit calls it). */
void cache_scrub(struct cache *);
/* Drops cached messages older than before (a unix time), with their
 * full-text entries: [cache] keep_days. *n gets how many. */
int cache_prune(struct cache *, int64_t before, long *n, char **cause);

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
/* Applies the events of a page cache_page_envelope checked, and its
 * cursor, as cache_apply does (without checking the text again). */
int cache_apply_page(struct cache *, const struct cache_page *,
    struct cache_applied *, char **cause);
/* Frees what cache_page_envelope allocated (the cursor). */
void cache_page_free(struct cache_page *);
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
	    templates, labels, canned_replies, history;
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

/* -- reading for the screen: the conversation list and the sidebar --- */

/*
 * Which conversations the list shows. The list is read a screenful at a
 * time by key (last activity, then id, newest first), never whole.
 */
enum cache_assigned { CACHE_ASSIGNED_ANY, CACHE_ASSIGNED_ME,
    CACHE_ASSIGNED_NOBODY, CACHE_ASSIGNED_ME_OR_NOBODY };
struct cache_filter {
	enum cache_assigned assigned;
	int64_t me;	    /* the agent: "mine" and unread counts */
	const char *status; /* NULL: any */
	const char *label;  /* NULL: any */
};

/* A position in the list's order; {INT64_MAX, INT64_MAX} is before all. */
struct cache_list_key {
	int64_t activity;
	int64_t id;
};

struct cache_list_row {
	struct cache_list_key key;
	int64_t contact_id;
	int64_t assignee_id;	/* 0: nobody */
	int64_t last_inbound_at; /* 0: never */
	int64_t unread;		/* inbound messages after the agent's
				   read marker, at most 100 */
	const char *name;	/* display or profile name, else number,
				   else user id; raw, NULL when none */
	const char *status;
	const char *assignee;	/* the agent's name, or NULL */
	const char *preview;	/* the last message's text, raw, or NULL */
	const char *preview_type; /* its type ("image", ...), or NULL */
	const char *direction;	/* of the last message: "in", "out" */
	const char *labels;	/* a JSON array, or NULL */
};

/*
 * Up to limit rows after key (dir > 0: older, further down the list) or
 * before it (dir < 0: newer, nearest first). fn's strings last for the
 * call only. Returns the number of rows, or -1.
 */
int cache_list_rows(struct cache *, const struct cache_filter *,
    const struct cache_list_key *, int dir, int limit,
    void (*fn)(void *, const struct cache_list_row *), void *arg);
/* The key of a conversation; 0, or -1 when it is not cached. */
int cache_list_key_of(struct cache *, int64_t id, struct cache_list_key *);
/* How many conversations the filter shows (-1 on error). */
int64_t cache_list_count(struct cache *, const struct cache_filter *);
/* How many of those come before key. */
int64_t cache_list_position(struct cache *, const struct cache_filter *,
    const struct cache_list_key *);
/*
 * The first conversation after key (wrapping round to the top) with an
 * inbound message the agent has not read; 0 and its key, or -1 when none.
 */
int cache_list_next_unread(struct cache *, const struct cache_filter *,
    const struct cache_list_key *, int64_t *id, struct cache_list_key *);

/*
 * The sidebar's rows, each as its stored JSON text (fn's string lasts for
 * the call only), newest first, at most limit: a contact's orders, the
 * notes of all their conversations, and their conversations.
 */
enum cache_side { CACHE_SIDE_ORDERS, CACHE_SIDE_NOTES,
    CACHE_SIDE_CONVERSATIONS };
int cache_side_rows(struct cache *, enum cache_side, int64_t contact_id,
    int limit, void (*fn)(void *, int64_t id, const char *json), void *arg);
/* An agent's name by id, copied into out (empty when unknown). */
void cache_agent_name(struct cache *, int64_t id, char *out, size_t len);
/*
 * New inbound messages since *after (a message id), in conversations the
 * filter shows; *after moves to the newest. For notifications. Returns
 * how many, at most limit passed to fn.
 */
int cache_new_inbound(struct cache *, const struct cache_filter *,
    int64_t *after, int limit,
    void (*fn)(void *, int64_t conversation_id, const char *name,
    const char *text), void *arg);
/* The newest message id (0 when none). */
int64_t cache_newest_message(struct cache *);
/*
 * Approved templates whose name starts with prefix, by name then
 * language, after the (name, language) pair given (NULL, NULL: from the
 * start); the first one copied out. 0, or -1 when there is none.
 */
int cache_template_next(struct cache *, const char *prefix,
    const char *after_name, const char *after_lang, char *name,
    size_t name_len, char *lang, size_t lang_len);

/* -- reading for the screen: threads ----------------------------------- */

/*
 * One row of a thread, valid only during the callback. Customer text in
 * data is raw: the screen sanitises it before drawing.
 */
struct cache_thread_row {
	int64_t id;
	int64_t conversation_id;
	int64_t ts;	       /* messages: timestamp; notes, outbox: created */
	const char *direction; /* messages: "in" or "out"; else NULL */
	const char *status;    /* messages: delivery; outbox: its state */
	const char *data;      /* the entity's JSON; outbox: the request body */
	size_t data_len;
	const char *error;     /* outbox: why it failed or waits; else NULL */
};
typedef void (*cache_thread_fn)(void *, const struct cache_thread_row *);

/*
 * Up to limit messages of a conversation beside anchor, by keyset on
 * (conversation_id, id): dir < 0 those with id < anchor, newest first;
 * dir > 0 those with id > anchor, oldest first. Returns how many, or -1.
 */
int cache_thread_messages(struct cache *, int64_t conversation_id,
    int64_t anchor, int dir, int limit, cache_thread_fn, void *arg);
/* One message by id, whatever its conversation; 1 found, 0 not, -1. */
int cache_thread_message(struct cache *, int64_t id, cache_thread_fn,
    void *arg);
/*
 * The newest message of a conversation before before_id with this wamid
 * (the target of a reply), looking back at most `depth` messages: the
 * cache keeps no wamid index, and a quote is almost always recent.
 */
int cache_thread_by_wamid(struct cache *, int64_t conversation_id,
    int64_t before_id, const char *wamid, int depth, cache_thread_fn,
    void *arg);
/* A conversation's notes created in [from, to), oldest first. */
int cache_thread_notes(struct cache *, int64_t conversation_id, int64_t from,
    int64_t to, int limit, cache_thread_fn, void *arg);
/* Reaction messages of a conversation with id > after_id, oldest first. */
int cache_thread_reactions(struct cache *, int64_t conversation_id,
    int64_t after_id, cache_thread_fn, void *arg);
/* Outbox messages of a conversation not accepted yet (queued, failed). */
int cache_thread_pending(struct cache *, int64_t conversation_id,
    cache_thread_fn, void *arg);

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
