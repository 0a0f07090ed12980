/*
 * What the simulator remembers: every accepted send and mark-read, the
 * counters tests assert on, the queue of injected errors and each
 * customer's 24-hour window. One lock guards it all; nothing here speaks
 * HTTP or builds wire bodies.
 */
#ifndef GLIVI_SIM_STATE_H
#define GLIVI_SIM_STATE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* The customer-service window Meta enforces, in seconds. */
#define STATE_WINDOW_SECONDS (24 * 60 * 60)

struct state;

struct state_stats {
	atomic_uint_fast64_t sends_accepted;
	atomic_uint_fast64_t sends_refused;
	atomic_uint_fast64_t mark_read;
	atomic_uint_fast64_t webhooks_posted;  /* answered 200 */
	atomic_uint_fast64_t webhooks_failed;  /* attempts not answered 200 */
	atomic_uint_fast64_t webhooks_dropped; /* given up on */
	atomic_uint_fast64_t inbound_posted;
	atomic_uint_fast64_t media_uploads;	     /* accepted */
	atomic_uint_fast64_t media_uploads_refused;
	atomic_uint_fast64_t media_resolves;	     /* GET /{media-id} answered */
	atomic_uint_fast64_t media_downloads;	     /* bytes served */
	atomic_uint_fast64_t media_downloads_refused;
	atomic_uint_fast64_t media_deleted;
	atomic_uint_fast64_t templates_served; /* GETs of message_templates */
};

/* The errors tests can inject, in the order of the docs. */
enum state_error {
	INJ_RATE_LIMIT,
	INJ_PAIR_RATE_LIMIT,
	INJ_SERVER_ERROR,
	INJ_HTTP_429,
	INJ_WINDOW_CLOSED,
	INJ_TOKEN_EXPIRED,
	INJ_SLOW,
	INJ_TIMEOUT_AFTER_ACCEPT,
	INJ_UNDELIVERABLE,
	INJ_MEDIA_UPLOAD_ERROR,
	INJ_MEDIA_URL_EXPIRED,
	INJ_MEDIA_WRONG_SHA256,
	INJ_MEDIA_DOWNLOAD_ERROR,
	INJ_COUNT
};

/*
 * Which requests an injection applies to: sends and mark-reads to
 * /messages (ON_ANY is either of those), one of the media requests, or
 * GETs of message_templates.
 */
enum state_on { ON_SEND, ON_MARK_READ, ON_ANY, ON_UPLOAD, ON_RESOLVE,
	ON_DOWNLOAD, ON_TEMPLATES };

struct state_injection {
	enum state_error error;
	enum state_on on;
	char *number;	 /* phone_number_id, or NULL for any */
	char *recipient; /* wa_id, "to" as given or BSUID; NULL for any */
	char *media_id;	 /* media requests about this id only; NULL: any */
	int code;	 /* server_error: 2 or 131016 */
	long ms;	 /* slow: how long to wait */
	long count;	 /* matching requests still to hit */
};

int state_error_parse(const char *, enum state_error *);
const char *state_error_name(enum state_error);

struct state *state_new(void);
void state_free(struct state *);
struct state_stats *state_stats(struct state *);

/* A fresh id: prefix, this run's random tag, a counter. */
void state_unique(struct state *, const char *prefix, char *out, size_t len);

/* Queues a copy of inj; returns how many injections are pending. */
size_t state_inject_add(struct state *, const struct state_injection *);
/*
 * Takes the oldest injection matching this request (number and any of the
 * n recipient spellings), counting it down. Fills *out (its strings are not
 * copied: NULL) and returns 1, or returns 0 when none matches.
 */
int state_inject_take(struct state *, const char *number,
    const char *const *recipients, size_t n, enum state_on,
    struct state_injection *out);
/* The same for a media request (upload, resolve, download) about
 * media_id (NULL for an upload). */
int state_inject_take_media(struct state *, const char *number,
    const char *media_id, enum state_on, struct state_injection *out);
size_t state_inject_pending(struct state *);

/* Sets the customer's last inbound message to at (Unix seconds). */
void state_window_open(struct state *, const char *number,
    const char *customer, int64_t at);
/* Forgets the customer's last message: the window is closed. */
void state_window_close(struct state *, const char *number,
    const char *customer);
/*
 * Whether a free-form message to customer may go out at now. A customer
 * never seen is inside the window only when all_open is set.
 */
int state_window_is_open(struct state *, const char *number,
    const char *customer, int64_t now, int all_open);

/* Appends an accepted send or mark-read; takes ownership of the entry. */
void state_record_send(struct state *, cJSON *);
void state_record_read(struct state *, cJSON *);
/* A copy of the recorded send with this wamid, or NULL. */
cJSON *state_find_send(struct state *, const char *wamid);
/* Copies for the control API. */
cJSON *state_sent_json(struct state *);
cJSON *state_reads_json(struct state *);
cJSON *state_stats_json(struct state *);
/*
 * Media the simulator holds: files uploaded through the Graph API and
 * files registered by the control API for simulated customers to send.
 * Their bytes are shared, reference-counted and never change.
 */
struct state_blob;

struct state_media {
	char id[64];	  /* digits, as Meta's media ids */
	char number[64];  /* the phone_number_id it belongs to */
	char mime[256];
	unsigned char sha256[32];
	size_t size;
	int deleted;
};

/* Keeps a copy of the bytes; fills *out (its id among others). origin is
 * "upload" or "registered"; filename and part_type may be NULL. */
void state_media_add(struct state *, const char *number, const char *mime,
    const char *origin, const char *filename, const char *part_type,
    const void *data, size_t len, struct state_media *out);
/* 1 with *out (and a reference to the bytes when blob is not NULL), 0 for
 * an unknown id. */
int state_media_find(struct state *, const char *id, struct state_media *out,
    struct state_blob **blob);
const void *state_blob_data(const struct state_blob *);
size_t state_blob_len(const struct state_blob *);
void state_blob_release(struct state_blob *);
/* Marks the media deleted: 1, or 0 for an unknown or deleted id. */
int state_media_delete(struct state *, const char *id);
/* Counts a resolve or a download served for the media. */
void state_media_count(struct state *, const char *id, int resolves,
    int downloads);
/* Whether number may send media id (its own upload, or a file a
 * customer of it sent), not deleted. */
int state_media_usable(struct state *, const char *number, const char *id);
/* A download URL handed out: its hash and when it stops working
 * (hooks_now_ms scale). */
void state_media_url_add(struct state *, const char *hash, const char *id,
    int64_t expires_ms, int64_t now_ms);
/* 1 with the media id behind a URL hash still valid at now_ms; 0 for an
 * unknown or expired one. */
int state_media_url_find(struct state *, const char *hash, int64_t now_ms,
    char *id, size_t idlen);
cJSON *state_media_json(struct state *);

/*
 * The WABA's templates as Graph lists them: a JSON array of objects with
 * at least name, language, status, category and id (strings). Set takes
 * the array over and becomes the defaults restored by state_reset when
 * defaults is set. page_size > 0 caps every page at that many.
 */
void state_templates_set(struct state *, cJSON *list, long page_size,
    int defaults);
/* A copy of the list, and the page cap. */
cJSON *state_templates_json(struct state *, long *page_size);
/* A copy of the template with this name and language, or NULL. */
cJSON *state_template_find(struct state *, const char *name,
    const char *language);
/* The next count GETs of message_templates answer status and body as is,
 * followed by pad spaces (a big answer that is still JSON). */
void state_templates_raw(struct state *, unsigned status, const char *body,
    size_t pad, long count);
/* Takes one raw answer if any is pending: 1, *body (caller frees) and
 * *len. */
int state_templates_take_raw(struct state *, unsigned *status, char **body,
    size_t *len);
long state_templates_raw_pending(struct state *);

/* Clears the records, the counters and the pending injections; the
 * templates go back to the defaults. */
void state_reset(struct state *);

#endif
