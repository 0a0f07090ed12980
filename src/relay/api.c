/*
 * Agent API handlers. Reads (sync, events) use the HTTP thread's reader
 * connection. Writes are two halves: check() on the HTTP thread refuses
 * what is malformed without touching the store; apply() runs on the
 * committer, inside the group's transaction, under the Idempotency-Key.
 * Every error is {"error":{"code","message","field"}} with the right 4xx.
 */
#include "relay/api.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/canned.h"
#include "core/hmac.h"
#include "core/jsonw.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/wamedia.h"
#include "core/xalloc.h"
#include "relay/agent.h"
#include "relay/privacy.h"
#include "relay/events.h"
#include "relay/inbox.h"
#include "relay/ingest.h"
#include "relay/media.h"
#include "relay/sync.h"

#define IDEMPOTENCY_KEY_MAX 255
#define WINDOW_SECONDS (24 * 3600)

/* ------------------------------------------------------------------ */
/* Reads                                                               */

static enum MHD_Result
cursor_error(struct request *r, enum sync_cursor_result rc)
{
	if (rc == SYNC_CURSOR_OTHER_EPOCH)
		return server_error(r, MHD_HTTP_GONE, "cannotCalculateChanges",
		    "the cursor is from another store or epoch; sync again "
		    "from the start");
	return server_error_field(r, MHD_HTTP_BAD_REQUEST, "bad_cursor",
	    "the cursor is not one this relay hands out", "since");
}

/* Parses since (query or Last-Event-ID); 0 when absent. */
static int
since_of(struct request *r, struct store *st, const char *value,
    int64_t *since, enum MHD_Result *answer)
{
	enum sync_cursor_result rc;
	int64_t head, horizon;

	*since = 0;
	if (value == NULL || *value == '\0')
		return 0;
	rc = sync_cursor_parse(value, store_epoch(st), since);
	if (rc != SYNC_CURSOR_OK) {
		*answer = cursor_error(r, rc);
		return -1;
	}
	if (store_head(st, &head, &horizon) != 0) {
		*answer = server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "store_unavailable", "the store cannot be read");
		return -1;
	}
	if (*since < horizon || *since > head) {
		/* Older than the tombstones kept, or from the future of a
		 * store that was restored from a backup. */
		*answer = cursor_error(r, SYNC_CURSOR_OTHER_EPOCH);
		return -1;
	}
	return 0;
}

struct page {
	struct jw w;
	struct store *st;
	int64_t last;
	int n;
};

static int
page_add(void *arg, const char *kind, int64_t id, int64_t seq, int deleted)
{
	struct page *p = arg;

	sync_change_text(p->st, kind, id, seq, deleted, &p->w);
	p->last = seq;
	p->n++;
	return 0;
}

enum MHD_Result
api_me(struct server *srv, struct request *r)
{
	enum MHD_Result answer;
	cJSON *o = cJSON_CreateObject();
	char *s;

	(void)srv;
	jx_add_int(o, "id", r->agent.id);
	cJSON_AddStringToObject(o, "name", r->agent.name);
	cJSON_AddStringToObject(o, "role", r->agent.admin ? "admin" : "agent");
	s = jx_print(o);
	cJSON_Delete(o);
	answer = server_respond(r, MHD_HTTP_OK, "application/json", s,
	    strlen(s));
	free(s);
	return answer;
}

enum MHD_Result
api_sync(struct server *srv, struct request *r)
{
	struct store *st = server_reader(srv);
	const char *v;
	struct page p;
	enum MHD_Result answer;
	int64_t since, limit = srv->cfg->sync_page_max, head, horizon;
	char cursor[64], *end;
	struct buf text;

	if (st == NULL)
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "store_unavailable", "the store cannot be read");
	v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    "limit");
	if (v != NULL) {
		limit = strtoll(v, &end, 10);
		if (*v == '\0' || *end != '\0' || limit < 1)
			return server_error_field(r, MHD_HTTP_BAD_REQUEST,
			    "bad_limit", "limit is a whole number from 1",
			    "limit");
		if (limit > srv->cfg->sync_page_max)
			limit = srv->cfg->sync_page_max;
	}
	/* One read transaction: the page and its entities are one snapshot
	 * of committed data, so the cursor never passes an uncommitted
	 * change. */
	if (store_read_begin(st) != 0)
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "store_unavailable", "the store cannot be read");
	if (since_of(r, st, MHD_lookup_connection_value(r->conn,
	    MHD_GET_ARGUMENT_KIND, "since"), &since, &answer) != 0) {
		store_read_end(st);
		return answer;
	}
	/* The page is written as text as it is read: no tree per entity. */
	buf_init(&text);
	jw_init(&p.w, &text);
	jw_object(&p.w, NULL);
	jw_array(&p.w, "events");
	p.st = st;
	p.last = since;
	p.n = 0;
	if (store_changes(st, since, limit, page_add, &p) != 0 ||
	    store_head(st, &head, &horizon) != 0) {
		store_read_end(st);
		buf_free(&text);
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "store_unavailable", "the store cannot be read");
	}
	store_read_end(st);
	jw_array_end(&p.w);
	sync_cursor_format(store_epoch(st), p.last, cursor);
	jw_string(&p.w, "cursor", cursor);
	/* Same snapshot as the page: more is exact. remaining counts seq
	 * numbers, an upper bound on the changes left (an entity changed
	 * twice travels once), enough for a progress bar. */
	jw_bool(&p.w, "more", p.last < head);
	jw_int(&p.w, "remaining", head > p.last ? head - p.last : 0);
	jw_object_end(&p.w);
	answer = server_respond(r, MHD_HTTP_OK, "application/json",
	    text.data, text.len);
	buf_free(&text);
	atomic_fetch_add(&srv->counters.sync_pages, 1);
	return answer;
}

enum MHD_Result
api_events(struct server *srv, struct request *r)
{
	struct store *st = server_reader(srv);
	struct MHD_Response *resp;
	enum MHD_Result answer;
	const char *v;
	int64_t since;

	if (st == NULL)
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "store_unavailable", "the store cannot be read");
	v = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    "Last-Event-ID");
	if (v == NULL || *v == '\0')
		v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
		    "since");
	if (since_of(r, st, v, &since, &answer) != 0)
		return answer;
	resp = events_open(srv->events, r->conn, r->agent.id, r->agent.name,
	    since);
	if (resp == NULL)
		return MHD_NO;
	answer = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return answer;
}

/* ------------------------------------------------------------------ */
/* Checking agents' input                                              */

struct fault;
static int fault(struct fault *, unsigned, const char *, const char *,
    const char *, ...) __attribute__((format(printf, 5, 6)));

/* Where a check failed: the answer to send. */
struct fault {
	unsigned status;
	const char *code;
	char *message;
	char *field; /* a copy: names may point into a body being freed */
};

static int
fault(struct fault *f, unsigned status, const char *code, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
fault_free(struct fault *f)
{
	free(f->message);
	free(f->field);
	f->message = NULL;
	f->field = NULL;
}

static int
fault(struct fault *f, unsigned status, const char *code, const char *field,
    const char *fmt, ...)
{
	va_list ap;

	f->status = status;
	f->code = code;
	f->field = field != NULL ? xstrdup(field) : NULL;
	va_start(ap, fmt);
	if (vasprintf(&f->message, fmt, ap) < 0)
		f->message = NULL;
	va_end(ap);
	return -1;
}

/*
 * A request body: one JSON object and nothing after it. No body at all is
 * an empty object ({"message_id"} of /read and the like are optional). A
 * \u0000 escape is refused: C strings would silently end there.
 */
static int
parse_body(struct request *r, cJSON **out, struct fault *f)
{
	const char *end = NULL, *p = r->body.data, *stop;
	size_t n = r->body.len;
	char *copy = NULL;

	*out = NULL;
	if (n == 0) {
		*out = cJSON_CreateObject();
		return 0;
	}
	if (jx_has_nul_escape(p, n)) {
		/* Parse a copy where each \u0000 is \u0001: the checks of
		 * each member then refuse it as a control character, by
		 * name, instead of C strings silently ending there. */
		copy = xstrndup(p, n);
		jx_nul_escapes_to_soh(copy, n);
		p = copy;
	}
	*out = cJSON_ParseWithLengthOpts(p, n, &end, 0);
	stop = p + n;
	while (end != NULL && end < stop && (*end == ' ' || *end == '\n' ||
	    *end == '\r' || *end == '\t'))
		end++;
	free(copy);
	if (!cJSON_IsObject(*out) || end != stop) {
		cJSON_Delete(*out);
		*out = NULL;
		f->status = 400;
		f->code = "malformed";
		f->message = xstrdup("the body must be one JSON object");
		f->field = NULL;
		return -1;
	}
	return 0;
}

/*
 * A text member: absent is fine unless required; present, it must be a
 * string of valid UTF-8 with at most max UTF-16 units and (unless
 * multiline) no control characters.
 */
static int
text_member(const cJSON *body, const char *field, long min, long max,
    int multiline, const char **out, struct fault *f)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, field);
	long units;
	size_t len;

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v)) {
		if (min > 0)
			return fault(f, 422, "required", field, "%s is required",
			    field);
		return 0;
	}
	if (!cJSON_IsString(v))
		return fault(f, 422, "invalid", field, "%s must be a string",
		    field);
	if (min == 0 && !multiline && v->valuestring[0] == '\0' &&
	    strcmp(field, "emoji") != 0 && strcmp(field, "display_name") != 0)
		return fault(f, 422, "invalid", field, "%s must not be empty",
		    field);
	len = strlen(v->valuestring);
	units = utf8_utf16_length(v->valuestring, len);
	if (units < 0)
		return fault(f, 422, "invalid", field,
		    "%s is not valid UTF-8", field);
	if (units < min || units > max)
		return fault(f, 422, "invalid", field,
		    "%s must be %ld to %ld characters long", field, min, max);
	if (utf8_has_controls(v->valuestring, len) || (!multiline &&
	    strpbrk(v->valuestring, "\t\n") != NULL))
		return fault(f, 422, "invalid", field, multiline ?
		    "%s must not contain control characters other than tab and "
		    "newline" : "%s must be one line without control characters",
		    field);
	*out = v->valuestring;
	return 0;
}

static int
id_member(const cJSON *body, const char *field, int required, int64_t *out,
    struct fault *f)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, field);

	*out = 0;
	if (v == NULL || cJSON_IsNull(v)) {
		if (required)
			return fault(f, 422, "required", field, "%s is required",
			    field);
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble < 1 ||
	    v->valuedouble > 9007199254740991.0 ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return fault(f, 422, "invalid", field,
		    "%s must be a positive whole number", field);
	*out = (int64_t)v->valuedouble;
	return 0;
}

/* Only the members listed may appear: a typo is an error, not a no-op. */
static int
only_members(const cJSON *body, const char *const *allowed, struct fault *f)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, body) {
		size_t i;

		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(allowed[i], m->string) == 0)
				break;
		}
		if (allowed[i] == NULL)
			return fault(f, 422, "unknown_field", m->string,
			    "unknown field '%.64s'", m->string);
	}
	return 0;
}

static int
one_of(const char *v, const char *const *choices)
{
	for (size_t i = 0; choices[i] != NULL; i++) {
		if (strcmp(v, choices[i]) == 0)
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Writes                                                              */

struct write;

struct write_def {
	const char *name;
	const char *const *members; /* allowed body members */
	int (*check)(struct write *, struct fault *);
	int (*apply)(struct write *, struct store *, struct fault *);
	unsigned created; /* status of success: 200 or 201 */
	/* Run on the HTTP thread once the write committed (not on a
	 * replay): what must follow the commit, such as an erasure's files. */
	void (*after)(struct write *);
};

struct write {
	const struct write_def *def;
	struct server *srv;
	struct store_agent agent;
	int64_t ids[2];
	cJSON *body;
	char *key;
	unsigned char hash[32];
	int64_t now;
	unsigned status;
	char *response;
	int replayed;
	cJSON *result; /* the entity answered */
	/* Ephemeral events for agents once the write is durable: an array
	 * of {"agent_id", "event", "data"}. */
	cJSON *notify;
	struct store_erased erased; /* what an erasure removed */
};

struct inflight {
	int64_t agent_id;
	char *key;
	struct inflight *next;
};

/* Claims an idempotency key for this process; 0 when it is in flight. */
static int
inflight_claim(struct server *srv, int64_t agent_id, const char *key)
{
	struct inflight *i;

	pthread_mutex_lock(&srv->inflight_lock);
	for (i = srv->inflight; i != NULL; i = i->next) {
		if (i->agent_id == agent_id && strcmp(i->key, key) == 0) {
			pthread_mutex_unlock(&srv->inflight_lock);
			return 0;
		}
	}
	i = xcalloc(1, sizeof *i);
	i->agent_id = agent_id;
	i->key = xstrdup(key);
	i->next = srv->inflight;
	srv->inflight = i;
	pthread_mutex_unlock(&srv->inflight_lock);
	return 1;
}

static void
inflight_release(struct server *srv, int64_t agent_id, const char *key)
{
	struct inflight **p, *i;

	pthread_mutex_lock(&srv->inflight_lock);
	for (p = &srv->inflight; (i = *p) != NULL; p = &i->next) {
		if (i->agent_id == agent_id && strcmp(i->key, key) == 0) {
			*p = i->next;
			free(i->key);
			free(i);
			break;
		}
	}
	pthread_mutex_unlock(&srv->inflight_lock);
}

static char *
error_json(const struct fault *f)
{
	cJSON *o = cJSON_CreateObject(), *e = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(e, "code", f->code);
	cJSON_AddStringToObject(e, "message", f->message ? f->message : "");
	if (f->field != NULL)
		cJSON_AddStringToObject(e, "field", f->field);
	cJSON_AddItemToObject(o, "error", e);
	s = jx_print(o);
	cJSON_Delete(o);
	return s;
}

/* The committer half: runs inside the group's transaction. */
static int
write_apply(struct commit_job *job, struct store *st,
    const struct relay_config *cfg)
{
	struct write *w = job->apply_arg;
	struct fault f = { 0 };
	unsigned char stored[32];
	int status, rc;

	(void)cfg;
	w->now = (int64_t)time(NULL);
	if (w->key != NULL) {
		rc = store_idempotency_get(st, w->agent.id, w->key, stored,
		    &status, &w->response);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			if (CRYPTO_memcmp(stored, w->hash, 32) != 0) {
				free(w->response);
				fault(&f, 422, "idempotency_key_reused", NULL,
				    "this Idempotency-Key was used for another "
				    "request");
				w->response = error_json(&f);
				fault_free(&f);
				w->status = 422;
			} else {
				w->status = (unsigned)status;
				w->replayed = 1;
			}
			job->status = (int)w->status;
			return 0;
		}
	}
	rc = w->def->apply(w, st, &f);
	if (rc < 0 && f.code == NULL)
		return -1; /* the store failed: roll back, answer 500 */
	if (rc < 0) {
		w->status = f.status;
		w->response = error_json(&f);
		fault_free(&f);
		job->status = (int)w->status;
		return 1; /* refused: whatever it wrote before is undone */
	} else {
		w->status = w->def->created;
		w->response = w->result ? jx_print(w->result) : xstrdup("{}");
		/* Stripe's rule: keep the answer of what was done, so a retry
		 * replays it; a refused request may be corrected and sent
		 * again under the same key. */
		if (w->key != NULL && store_idempotency_put(st, w->agent.id,
		    w->key, w->hash, (int)w->status, w->response, w->now) != 0)
			return -1;
	}
	job->status = (int)w->status;
	return 0;
}

static void
write_done(struct commit_job *job, void *arg)
{
	struct request *r = arg;
	struct write *w = r->write;
	const cJSON *n;

	if (w->key != NULL)
		inflight_release(w->srv, w->agent.id, w->key);
	/* Only what committed is announced; a replay announces nothing. */
	if (job->status == (int)w->def->created && !w->replayed) {
		cJSON_ArrayForEach(n, w->notify) {
			char *data = jx_print(jx_obj(n, "data"));
			int64_t agent = 0;

			jx_int64(n, "agent_id", &agent);
			events_to_agent(w->srv->events, agent, jx_str(n,
			    "event"), data);
			free(data);
		}
	}
	r->job_done = 1;
	MHD_resume_connection(r->conn);
}

void
api_request_free(struct request *r)
{
	struct write *w = r->write;

	if (w == NULL)
		return;
	cJSON_Delete(w->body);
	cJSON_Delete(w->result);
	cJSON_Delete(w->notify);
	store_erased_free(&w->erased);
	free(w->key);
	free(w->response);
	free(w);
	r->write = NULL;
}

static enum MHD_Result
write_answer(struct request *r)
{
	struct write *w = r->write;
	struct MHD_Response *resp;
	enum MHD_Result rc;

	if (r->job.status != (int)w->status || w->response == NULL) {
		if (r->job.status == 500)
			return server_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "internal", "the write failed; nothing was "
			    "changed");
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "unavailable", "the store is not accepting writes; "
		    "retry with the same Idempotency-Key");
	}
	resp = MHD_create_response_from_buffer(strlen(w->response),
	    w->response, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	if (w->replayed)
		MHD_add_response_header(resp, "Idempotent-Replayed", "true");
	rc = MHD_queue_response(r->conn, w->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result
fault_answer(struct request *r, struct fault *f)
{
	enum MHD_Result rc = server_error_field(r, f->status, f->code,
	    f->message ? f->message : "", f->field);

	fault_free(f);
	return rc;
}

/* The HTTP half of every write. */
static enum MHD_Result
write_handle(struct server *srv, struct request *r,
    const struct write_def *def)
{
	struct write *w;
	struct fault f = { 0 };
	const char *key;
	const char *method = r->route->method;
	struct buf h;

	if (r->job_done) {
		w = r->write;
		if (w->def->after != NULL && !w->replayed &&
		    r->job.status == (int)w->status && w->status < 300)
			w->def->after(w);
		return write_answer(r);
	}
	w = xcalloc(1, sizeof *w);
	r->write = w;
	w->def = def;
	w->srv = srv;
	w->agent = r->agent;
	w->ids[0] = r->ids[0];
	w->ids[1] = r->ids[1];

	if (r->route->takes_body) {
		if (parse_body(r, &w->body, &f) != 0)
			return fault_answer(r, &f);
		if (only_members(w->body, def->members, &f) != 0 ||
		    (def->check != NULL && def->check(w, &f) != 0))
			return fault_answer(r, &f);
	}

	key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    "Idempotency-Key");
	if (key != NULL) {
		if (*key == '\0' || strlen(key) > IDEMPOTENCY_KEY_MAX ||
		    utf8_has_controls(key, strlen(key)) ||
		    strchr(key, '\t') != NULL)
			return server_error_field(r, MHD_HTTP_BAD_REQUEST,
			    "bad_idempotency_key", "Idempotency-Key must be 1 "
			    "to 255 printable characters", "Idempotency-Key");
		/* The request's identity: method, path and exact body. */
		buf_init(&h);
		buf_printf(&h, "%s %s\n", method, r->path);
		buf_add(&h, r->body.data ? r->body.data : "", r->body.len);
		sha256(h.data, h.len, w->hash);
		buf_free(&h);
		if (!inflight_claim(srv, r->agent.id, key)) {
			struct MHD_Response *resp;
			static const char busy[] = "{\"error\":{\"code\":"
			    "\"idempotency_key_in_flight\",\"message\":\"a "
			    "request with this Idempotency-Key is still being "
			    "processed; retry\"}}";
			enum MHD_Result rc;

			resp = MHD_create_response_from_buffer(sizeof busy - 1,
			    (void *)(uintptr_t)busy, MHD_RESPMEM_PERSISTENT);
			MHD_add_response_header(resp,
			    MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
			MHD_add_response_header(resp,
			    MHD_HTTP_HEADER_RETRY_AFTER, "1");
			rc = MHD_queue_response(r->conn, MHD_HTTP_CONFLICT,
			    resp);
			MHD_destroy_response(resp);
			return rc;
		}
		w->key = xstrdup(key);
	}

	r->job.apply = write_apply;
	r->job.apply_arg = w;
	r->job.done = write_done;
	r->job.arg = r;
	MHD_suspend_connection(r->conn);
	if (atomic_load(&srv->stopping) ||
	    committer_submit(srv->committer, &r->job) != 0) {
		if (w->key != NULL)
			inflight_release(srv, r->agent.id, w->key);
		r->job.status = 503;
		r->job_done = 1;
		MHD_resume_connection(r->conn);
	}
	return MHD_YES;
}

/* Loads the conversation of the path; a fault when there is none. */
static int
conversation(struct write *w, struct store *st,
    struct store_conversation_info *c, struct fault *f)
{
	int rc = store_conversation_info(st, w->ids[0], c);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return fault(f, 404, "not_found", NULL,
		    "no conversation %" PRId64, w->ids[0]);
	return 0;
}

static int
answer_entity(struct write *w, struct store *st, const char *kind,
    int64_t id)
{
	w->result = store_entity(st, kind, id);
	return w->result != NULL ? 0 : -1;
}

/* -- send a message ------------------------------------------------- */

static const char *const send_members[] = { "type", "text", "preview_url",
	"reply_to", "message_id", "emoji", "template", "media", NULL };
static const char *const text_members[] = { "type", "text", "preview_url",
	"reply_to", NULL };
static const char *const reaction_members[] = { "type", "message_id",
	"emoji", NULL };
static const char *const template_members[] = { "type", "template",
	"reply_to", NULL };
static const char *const media_members[] = { "type", "media", "reply_to",
	NULL };
static const char *const template_inner[] = { "name", "language",
	"components", NULL };
static const char *const media_inner[] = { "link", "id", "caption",
	"filename", NULL };
static const char *const media_types[] = { "image", "video", "audio",
	"document", "sticker", NULL };

static int
send_check(struct write *w, struct fault *f)
{
	const cJSON *b = w->body, *t, *m;
	const char *type = jx_str(b, "type"), *s;
	int64_t id;

	if (type == NULL)
		return fault(f, 422, cJSON_GetObjectItem(b, "type") ? "invalid" :
		    "required", "type", "type is required: text, reaction, "
		    "template, image, video, audio, document or sticker");
	/* Each type takes its own members; a stray one is a mistake. */
	if (only_members(b, strcmp(type, "text") == 0 ? text_members :
	    strcmp(type, "reaction") == 0 ? reaction_members :
	    strcmp(type, "template") == 0 ? template_members : media_members,
	    f) != 0)
		return -1;
	if (id_member(b, "reply_to", 0, &id, f) != 0)
		return -1;
	if (strcmp(type, "text") == 0) {
		if (text_member(b, "text", 1, 4096, 1, &s, f) != 0)
			return -1;
		if (cJSON_GetObjectItem(b, "preview_url") != NULL &&
		    !cJSON_IsBool(cJSON_GetObjectItem(b, "preview_url")))
			return fault(f, 422, "invalid", "preview_url",
			    "preview_url must be true or false");
		return 0;
	}
	if (strcmp(type, "reaction") == 0) {
		if (id_member(b, "message_id", 1, &id, f) != 0 ||
		    text_member(b, "emoji", 0, 16, 0, &s, f) != 0)
			return -1;
		if (s == NULL)
			return fault(f, 422, "required", "emoji", "emoji is "
			    "required (\"\" removes the reaction)");
		return 0;
	}
	if (strcmp(type, "template") == 0) {
		t = jx_obj(b, "template");
		if (t == NULL)
			return fault(f, 422, cJSON_GetObjectItem(b, "template") ?
			    "invalid" : "required", "template", "template must "
			    "be an object with name and language");
		if (only_members(t, template_inner, f) != 0)
			return -1;
		if (text_member(t, "name", 1, 512, 0, &s, f) != 0 ||
		    text_member(t, "language", 2, 16, 0, &s, f) != 0)
			return -1;
		if (cJSON_GetObjectItem(t, "components") != NULL &&
		    jx_arr(t, "components") == NULL)
			return fault(f, 422, "invalid", "components",
			    "template components must be an array");
		return 0;
	}
	if (one_of(type, media_types)) {
		m = jx_obj(b, "media");
		if (m == NULL)
			return fault(f, 422, cJSON_GetObjectItem(b, "media") ?
			    "invalid" : "required", "media", "media must be an "
			    "object with a link or an id");
		if (only_members(m, media_inner, f) != 0)
			return -1;
		if (cJSON_GetObjectItem(m, "link") != NULL &&
		    jx_str(m, "link") == NULL)
			return fault(f, 422, "invalid", "link", "link must be "
			    "a string");
		if (cJSON_GetObjectItem(m, "id") != NULL &&
		    jx_str(m, "id") == NULL)
			return fault(f, 422, "invalid", "id", "id must be a "
			    "string");
		if ((jx_str(m, "link") == NULL) == (jx_str(m, "id") == NULL))
			return fault(f, 422, "invalid", "media", "media needs "
			    "exactly one of link and id");
		if (jx_str(m, "link") != NULL &&
		    (strncmp(jx_str(m, "link"), "https://", 8) != 0 ||
		    strlen(jx_str(m, "link")) > 2048 ||
		    utf8_has_controls(jx_str(m, "link"),
		    strlen(jx_str(m, "link"))) ||
		    strpbrk(jx_str(m, "link"), " \t\n") != NULL))
			return fault(f, 422, "invalid", "link", "media link "
			    "must be an https URL of at most 2048 bytes");
		if (text_member(m, "id", 0, 128, 0, &s, f) != 0 ||
		    text_member(m, "caption", 0, 1024, 1, &s, f) != 0 ||
		    text_member(m, "filename", 0, 240, 0, &s, f) != 0)
			return -1;
		if (jx_str(m, "caption") != NULL && (strcmp(type, "audio") == 0
		    || strcmp(type, "sticker") == 0))
			return fault(f, 422, "invalid", "caption",
			    "%s takes no caption", type);
		return 0;
	}
	return fault(f, 422, "invalid", "type", "unknown message type "
	    "'%.32s'", type);
}

/*
 * A media message naming one of the relay's uploads: the upload must
 * exist and suit the type. The message then describes the file the way an
 * inbound one does (*described, caller deletes).
 */
static int
send_upload(struct store *st, const char *type, const cJSON *media,
    cJSON **described, struct fault *f)
{
	const char *id = jx_str(media, "id");
	struct store_media u;
	int rc;

	*described = NULL;
	if (!media_upload_id(id))
		return 0; /* a link, or Meta's own media id */
	rc = store_media_get(st, id, &u);
	if (rc < 0)
		return -1;
	if (rc == 0 || strcmp(u.direction, "out") != 0)
		return fault(f, 422, "invalid", "id", "no upload %s: POST the "
		    "file to /api/v1/media first", id);
	if (!wamedia_type_accepts(type, u.mime_type))
		return fault(f, 422, "invalid", "type", "a%s %s message cannot "
		    "carry a %s file", strcmp(type, "image") == 0 ||
		    strcmp(type, "audio") == 0 ? "n" : "", type, u.mime_type);
	*described = cJSON_Duplicate(media, 1);
	cJSON_AddStringToObject(*described, "mime_type", u.mime_type);
	cJSON_AddStringToObject(*described, "sha256", u.sha256);
	jx_add_int(*described, "file_size", u.size);
	return 0;
}

static int
send_apply(struct write *w, struct store *st, struct fault *f)
{
	struct store_conversation_info c;
	struct store_outbound o = { 0 };
	const cJSON *b = w->body;
	const char *type = jx_str(b, "type");
	char *target = NULL;
	cJSON *described = NULL;
	int64_t ref = 0, id;
	int rc;

	if (conversation(w, st, &c, f) != 0)
		return -1;
	if (!c.has_recipient)
		return fault(f, 422, "no_recipient", NULL, "this conversation "
		    "has no WhatsApp id to send to");
	if (store_number_disconnected(st, c.number_id) == 1)
		return fault(f, 422, "number_disconnected", NULL, "the "
		    "business number of this conversation was disconnected");
	/* Outside the 24-hour customer service window only templates go. */
	if (strcmp(type, "template") != 0 &&
	    c.last_inbound_at + WINDOW_SECONDS <= w->now)
		return fault(f, 422, "window_closed", "type", "the customer "
		    "last wrote more than 24 hours ago; only a template can be "
		    "sent now");
	if (strcmp(type, "reaction") == 0)
		id_member(b, "message_id", 1, &ref, f);
	else
		id_member(b, "reply_to", 0, &ref, f);
	if (ref != 0) {
		rc = store_message_in_conversation(st, ref, c.id, &target);
		if (rc < 0)
			return -1;
		if (rc == 0 || target == NULL) {
			free(target);
			return fault(f, 422, "invalid",
			    strcmp(type, "reaction") == 0 ? "message_id" :
			    "reply_to", "message %" PRId64 " is not a "
			    "WhatsApp message of this conversation", ref);
		}
	}
	o.number_id = c.number_id;
	o.conversation_id = c.id;
	o.agent_id = w->agent.id;
	o.client_id = w->key;
	o.type = type;
	o.target_wamid = target;
	o.text = strcmp(type, "text") == 0 ? jx_str(b, "text") :
	    jx_str(jx_obj(b, "media"), "caption");
	o.media = jx_obj(b, "media");
	if (o.media != NULL && send_upload(st, type, o.media, &described,
	    f) != 0) {
		free(target);
		return -1;
	}
	if (described != NULL)
		o.media = described;
	o.request = b;
	o.now = w->now;
	rc = store_outbound_add(st, &o, &id);
	cJSON_Delete(described);
	free(target);
	if (rc != 0)
		return -1;
	return answer_entity(w, st, STORE_MESSAGE, id);
}

/* -- conversation state --------------------------------------------- */

static const char *const read_members[] = { "message_id", NULL };

static int
read_check(struct write *w, struct fault *f)
{
	int64_t id;

	return id_member(w->body, "message_id", 0, &id, f);
}

static int
read_apply(struct write *w, struct store *st, struct fault *f)
{
	struct store_conversation_info c;
	struct store_value v = { 0 };
	cJSON *conv, *read_by;
	char agent[32], *wamid = NULL;
	int64_t mid = 0;
	int rc, queued;

	if (conversation(w, st, &c, f) != 0)
		return -1;
	id_member(w->body, "message_id", 0, &mid, f);
	conv = store_entity(st, STORE_CONVERSATION, c.id);
	if (conv == NULL)
		return -1;
	if (mid == 0)
		jx_int64(conv, "last_message_id", &mid);
	else {
		rc = store_message_in_conversation(st, mid, c.id, &wamid);
		free(wamid);
		if (rc <= 0) {
			cJSON_Delete(conv);
			return rc < 0 ? -1 : fault(f, 422, "invalid",
			    "message_id", "message %" PRId64 " is not in this "
			    "conversation", mid);
		}
	}
	read_by = cJSON_Duplicate(jx_obj(conv, "read_by"), 1);
	cJSON_Delete(conv);
	snprintf(agent, sizeof agent, "%" PRId64, w->agent.id);
	cJSON_DeleteItemFromObjectCaseSensitive(read_by, agent);
	cJSON_AddNumberToObject(read_by, agent, (double)mid);
	v.json = read_by;
	rc = store_set(st, STORE_CONVERSATION, c.id, "read_by", &v);
	cJSON_Delete(read_by);
	if (rc != 0)
		return -1;
	/* The customer sees blue ticks up to the newest message of theirs
	 * the agent read; the sender tells WhatsApp, in the same commit's
	 * wake. Reads of messages marked before change nothing. */
	if (w->srv->cfg->read_receipts && store_read_receipt_queue(st, c.id,
	    mid, w->now, &queued) != 0)
		return -1;
	return answer_entity(w, st, STORE_CONVERSATION, c.id);
}

static const char *const assign_members[] = { "agent", NULL };

static int
assign_check(struct write *w, struct fault *f)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(w->body, "agent");
	const char *s;

	if (a == NULL)
		return fault(f, 422, "required", "agent", "agent is required: "
		    "a name, or null to unassign");
	if (cJSON_IsNull(a))
		return 0;
	return text_member(w->body, "agent", 1, 64, 0, &s, f);
}

static int
assign_apply(struct write *w, struct store *st, struct fault *f)
{
	struct store_conversation_info c;
	const char *name = jx_str(w->body, "agent");
	int64_t id = 0;
	int changed;

	if (conversation(w, st, &c, f) != 0)
		return -1;
	if (name != NULL) {
		if (store_agent_id_by_name(st, name, &id) != 0)
			return -1;
		if (id == 0)
			return fault(f, 422, "invalid", "agent", "no active "
			    "agent named '%.64s'", name);
	}
	if (inbox_assign(st, c.id, w->agent.id, id, NULL, w->now,
	    &changed) != 0)
		return -1;
	return answer_entity(w, st, STORE_CONVERSATION, c.id);
}

static const char *const status_members[] = { "status", "snoozed_until",
	NULL };
static const char *const statuses[] = { "open", "pending", "resolved",
	"snoozed", NULL };

static int
status_check(struct write *w, struct fault *f)
{
	const char *s = jx_str(w->body, "status");
	int64_t until;
	const cJSON *u = cJSON_GetObjectItem(w->body, "snoozed_until");

	if (s == NULL || !one_of(s, statuses))
		return fault(f, 422, cJSON_GetObjectItem(w->body, "status") ?
		    "invalid" : "required", "status", "status must be open, "
		    "pending, resolved or snoozed");
	if (strcmp(s, "snoozed") != 0)
		return u == NULL || cJSON_IsNull(u) ? 0 : fault(f, 422,
		    "invalid", "snoozed_until", "snoozed_until goes only with "
		    "status snoozed");
	if (id_member(w->body, "snoozed_until", 1, &until, f) != 0)
		return -1;
	if (until <= (int64_t)time(NULL))
		return fault(f, 422, "invalid", "snoozed_until",
		    "snoozed_until must be in the future (Unix seconds)");
	return 0;
}

static int
status_apply(struct write *w, struct store *st, struct fault *f)
{
	struct store_conversation_info c;
	int64_t until = 0;
	int changed;

	if (conversation(w, st, &c, f) != 0)
		return -1;
	id_member(w->body, "snoozed_until", 0, &until, f);
	if (inbox_set_status(st, c.id, w->agent.id, jx_str(w->body,
	    "status"), until, NULL, w->now, &changed) != 0)
		return -1;
	return answer_entity(w, st, STORE_CONVERSATION, c.id);
}

#define LABELS_MAX 50

static const char *const labels_members[] = { "add", "remove", NULL };

static int
labels_check(struct write *w, struct fault *f)
{
	static const char *const lists[] = { "add", "remove" };
	const cJSON *l, *item;

	for (size_t i = 0; i < 2; i++) {
		l = cJSON_GetObjectItemCaseSensitive(w->body, lists[i]);
		if (l == NULL)
			continue;
		if (!cJSON_IsArray(l) || cJSON_GetArraySize(l) > LABELS_MAX)
			return fault(f, 422, "invalid", lists[i], "%s must be "
			    "an array of at most 50 labels", lists[i]);
		cJSON_ArrayForEach(item, l) {
			long n;

			if (!cJSON_IsString(item))
				return fault(f, 422, "invalid", lists[i],
				    "labels are strings");
			n = utf8_utf16_length(item->valuestring,
			    strlen(item->valuestring));
			if (n < 1 || n > 50 || utf8_has_controls(
			    item->valuestring, strlen(item->valuestring)) ||
			    strpbrk(item->valuestring, "\t\n") != NULL)
				return fault(f, 422, "invalid", lists[i],
				    "a label is 1 to 50 printable characters");
		}
	}
	return 0;
}

/* Names in a that are not in b. */
static cJSON *
names_minus(const cJSON *a, const cJSON *b)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *x, *y;

	cJSON_ArrayForEach(x, a) {
		int found = 0;

		cJSON_ArrayForEach(y, b)
			found |= strcmp(cJSON_GetStringValue(x) ?
			    cJSON_GetStringValue(x) : "",
			    cJSON_GetStringValue(y) ?
			    cJSON_GetStringValue(y) : "") == 0;
		if (!found)
			cJSON_AddItemToArray(out, cJSON_Duplicate(x, 1));
	}
	return out;
}

/*
 * Labels come from the shared set (as in Chatwoot): adding one nobody
 * created is refused, and its name is taken as the set spells it.
 * Removing goes by name, whatever its case; the change is recorded in the
 * conversation's history.
 */
static int
labels_apply(struct write *w, struct store *st, struct fault *f)
{
	struct store_conversation_info c;
	struct store_value v = { 0 };
	cJSON *conv, *labels, *before, *item, *l, *added, *removed;
	int64_t label_id;
	char *canon;
	int rc;

	if (conversation(w, st, &c, f) != 0)
		return -1;
	conv = store_entity(st, STORE_CONVERSATION, c.id);
	if (conv == NULL)
		return -1;
	labels = cJSON_Duplicate(jx_arr(conv, "labels"), 1);
	if (labels == NULL)
		labels = cJSON_CreateArray();
	before = cJSON_Duplicate(labels, 1);
	cJSON_Delete(conv);
	cJSON_ArrayForEach(l, jx_arr(w->body, "remove")) {
		for (int i = cJSON_GetArraySize(labels) - 1; i >= 0; i--) {
			item = cJSON_GetArrayItem(labels, i);
			if (strcasecmp(cJSON_GetStringValue(item) ?
			    cJSON_GetStringValue(item) : "",
			    l->valuestring) == 0)
				cJSON_DeleteItemFromArray(labels, i);
		}
	}
	cJSON_ArrayForEach(l, jx_arr(w->body, "add")) {
		int found = 0;

		rc = store_label_find(st, l->valuestring, &label_id, &canon);
		if (rc <= 0) {
			cJSON_Delete(labels);
			cJSON_Delete(before);
			return rc < 0 ? -1 : fault(f, 422, "unknown_label",
			    "add", "no label '%.50s': an admin creates labels "
			    "first (POST /api/v1/labels)", l->valuestring);
		}
		cJSON_ArrayForEach(item, labels)
			found |= strcmp(cJSON_GetStringValue(item) ?
			    cJSON_GetStringValue(item) : "", canon) == 0;
		if (!found)
			cJSON_AddItemToArray(labels, cJSON_CreateString(canon));
		free(canon);
	}
	if (cJSON_GetArraySize(labels) > LABELS_MAX) {
		cJSON_Delete(labels);
		cJSON_Delete(before);
		return fault(f, 422, "invalid", "add", "a conversation has at "
		    "most 50 labels");
	}
	v.json = labels;
	added = names_minus(labels, before);
	removed = names_minus(before, labels);
	/* Nothing changed, nothing to stamp: no needless sync traffic. */
	rc = cJSON_Compare(labels, before, 1) ? 0 :
	    store_set(st, STORE_CONVERSATION, c.id, "labels", &v);
	if (rc == 0)
		rc = inbox_labels_history(st, c.id, w->agent.id, added,
		    removed, NULL, w->now);
	cJSON_Delete(added);
	cJSON_Delete(removed);
	cJSON_Delete(labels);
	cJSON_Delete(before);
	if (rc != 0)
		return -1;
	return answer_entity(w, st, STORE_CONVERSATION, c.id);
}

/* -- notes ------------------------------------------------------------ */

static const char *const note_members[] = { "body", NULL };

static int
note_check(struct write *w, struct fault *f)
{
	const char *s;

	return text_member(w->body, "body", 1, 10000, 1, &s, f);
}

#define MENTIONS_MAX 50

static int
mention_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/*
 * The agents a note mentions: "@name" where name is an active agent's,
 * at the start or after a character that cannot be part of a name (so an
 * e-mail address mentions nobody). Punctuation closing a sentence
 * ("@bob.") is not part of the name. Ids in order of first mention.
 */
static int
note_mentions(struct store *st, const char *body, cJSON **out)
{
	char name[72];
	const char *p;
	int64_t id = 0;
	size_t n;

	*out = cJSON_CreateArray();
	for (p = body; (p = strchr(p, '@')) != NULL; p++) {
		if (p > body && mention_char(p[-1]))
			continue;
		for (n = 0; mention_char(p[1 + n]) && n < 64; n++)
			name[n] = p[1 + n];
		for (; n > 0; n--) {
			name[n] = '\0';
			if (store_agent_id_by_name(st, name, &id) != 0)
				return -1;
			if (id != 0 || !(name[n - 1] == '.' ||
			    name[n - 1] == '-' || name[n - 1] == '_'))
				break;
		}
		if (n == 0 || id == 0)
			continue;
		int seen = 0;
		const cJSON *m;

		cJSON_ArrayForEach(m, *out)
			seen |= (int64_t)m->valuedouble == id;
		if (!seen && cJSON_GetArraySize(*out) < MENTIONS_MAX)
			cJSON_AddItemToArray(*out, cJSON_CreateNumber(
			    (double)id));
	}
	return 0;
}

static int
note_apply(struct write *w, struct store *st, struct fault *f)
{
	struct store_conversation_info c;
	const cJSON *m;
	cJSON *mentions, *n, *data;
	int64_t id;

	if (conversation(w, st, &c, f) != 0)
		return -1;
	if (store_note_add(st, c.id, w->agent.id, jx_str(w->body, "body"),
	    w->now, &id) != 0)
		return -1;
	if (note_mentions(st, jx_str(w->body, "body"), &mentions) != 0 ||
	    (cJSON_GetArraySize(mentions) > 0 && store_note_set_mentions(st,
	    id, mentions) != 0)) {
		cJSON_Delete(mentions);
		return -1;
	}
	/* Each agent mentioned (but the author) hears of it on its streams
	 * once the note is durable; one offline finds the note's mentions
	 * in sync. */
	cJSON_ArrayForEach(m, mentions) {
		if ((int64_t)m->valuedouble == w->agent.id)
			continue;
		if (w->notify == NULL)
			w->notify = cJSON_CreateArray();
		n = cJSON_CreateObject();
		jx_add_int(n, "agent_id", (int64_t)m->valuedouble);
		cJSON_AddStringToObject(n, "event", "mention");
		data = cJSON_CreateObject();
		jx_add_int(data, "note_id", id);
		jx_add_int(data, "conversation_id", c.id);
		jx_add_int(data, "agent_id", w->agent.id);
		cJSON_AddStringToObject(data, "agent", w->agent.name);
		jx_add_int(data, "at", w->now);
		cJSON_AddItemToObject(n, "data", data);
		cJSON_AddItemToArray(w->notify, n);
	}
	cJSON_Delete(mentions);
	return answer_entity(w, st, STORE_NOTE, id);
}

static int
note_delete_apply(struct write *w, struct store *st, struct fault *f)
{
	cJSON *note = store_entity(st, STORE_NOTE, w->ids[0]);
	int64_t author = 0, ignored;
	int rc;

	if (note == NULL)
		return fault(f, 404, "not_found", NULL, "no note %" PRId64,
		    w->ids[0]);
	jx_int64(note, "agent_id", &author);
	cJSON_Delete(note);
	if (author != w->agent.id && !w->agent.admin)
		return fault(f, 403, "forbidden", NULL, "only its author or an "
		    "admin deletes a note");
	rc = store_note_delete(st, w->ids[0], &ignored);
	if (rc < 0)
		return -1;
	w->result = cJSON_CreateObject();
	cJSON_AddStringToObject(w->result, "kind", STORE_NOTE);
	jx_add_int(w->result, "id", w->ids[0]);
	cJSON_AddBoolToObject(w->result, "deleted", 1);
	return 0;
}

/* -- contacts ----------------------------------------------------------- */

#define ATTRIBUTES_MAX 100

static const char *const contact_members[] = { "display_name", "attributes",
	NULL };

static int
attribute_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || *s == '-' || *s == '.'))
			return 0;
	}
	return 1;
}

static int
contact_check(struct write *w, struct fault *f)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(w->body,
	    "attributes"), *item;
	const char *s;

	if (text_member(w->body, "display_name", 0, 200, 0, &s, f) != 0)
		return -1;
	if (a == NULL)
		return 0;
	if (!cJSON_IsObject(a))
		return fault(f, 422, "invalid", "attributes", "attributes must "
		    "be an object of strings (null removes one)");
	cJSON_ArrayForEach(item, a) {
		if (!attribute_name_valid(item->string))
			return fault(f, 422, "invalid", "attributes",
			    "attribute names are 1 to 64 of a-z, 0-9, '_', "
			    "'-' and '.'");
		if (cJSON_IsNull(item))
			continue;
		if (!cJSON_IsString(item) || utf8_utf16_length(
		    item->valuestring, strlen(item->valuestring)) < 0 ||
		    utf8_has_controls(item->valuestring,
		    strlen(item->valuestring)) ||
		    strlen(item->valuestring) > 1000)
			return fault(f, 422, "invalid", item->string,
			    "attribute values are strings of at most 1000 "
			    "bytes");
	}
	return 0;
}

static int
contact_apply(struct write *w, struct store *st, struct fault *f)
{
	const cJSON *b = w->body, *patch, *item;
	struct store_value v = { 0 };
	cJSON *contact, *attrs;
	int rc;

	rc = store_contact_exists(st, w->ids[0], NULL);
	if (rc <= 0)
		return rc < 0 ? -1 : fault(f, 404, "not_found", NULL,
		    "no contact %" PRId64, w->ids[0]);
	if (cJSON_GetObjectItemCaseSensitive(b, "display_name") != NULL) {
		v.text = jx_str(b, "display_name");
		if (v.text != NULL && *v.text == '\0')
			v.text = NULL;
		if (store_set(st, STORE_CONTACT, w->ids[0], "display_name",
		    &v) != 0)
			return -1;
	}
	patch = jx_obj(b, "attributes");
	if (patch != NULL) {
		contact = store_entity(st, STORE_CONTACT, w->ids[0]);
		if (contact == NULL)
			return -1;
		attrs = cJSON_Duplicate(jx_obj(contact, "attributes"), 1);
		cJSON_Delete(contact);
		cJSON_ArrayForEach(item, patch) {
			cJSON_DeleteItemFromObjectCaseSensitive(attrs,
			    item->string);
			if (!cJSON_IsNull(item))
				cJSON_AddStringToObject(attrs, item->string,
				    item->valuestring);
		}
		if (cJSON_GetArraySize(attrs) > ATTRIBUTES_MAX) {
			cJSON_Delete(attrs);
			return fault(f, 422, "invalid", "attributes", "a "
			    "contact has at most 100 attributes");
		}
		v.text = NULL;
		v.json = attrs;
		rc = store_set(st, STORE_CONTACT, w->ids[0], "attributes", &v);
		cJSON_Delete(attrs);
		if (rc != 0)
			return -1;
	}
	return answer_entity(w, st, STORE_CONTACT, w->ids[0]);
}

/* -- orders ------------------------------------------------------------- */

static const char *const order_members[] = { "contact_id", "items",
	"status", "text", NULL };
static const char *const order_patch_members[] = { "items", "status", NULL };
static const char *const order_statuses[] = { "received", "pending",
	"confirmed", "paid", "shipped", "delivered", "cancelled", "refunded",
	NULL };

/* A plain decimal: digits, optionally a point and 1 to 6 digits. */
static int
decimal_valid(const char *s)
{
	size_t i = 0, frac = 0;

	while (s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0 || i > 12)
		return 0;
	if (s[i] == '.') {
		while (s[i + 1 + frac] >= '0' && s[i + 1 + frac] <= '9')
			frac++;
		if (frac == 0 || frac > 6)
			return 0;
		i += 1 + frac;
	}
	return s[i] == '\0';
}

static int
items_check(const cJSON *items, int required, struct fault *f)
{
	const cJSON *item;
	const char *s, *currency = NULL;
	double d;

	if (items == NULL)
		return required ? fault(f, 422, "required", "items",
		    "items is required") : 0;
	if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) < 1 ||
	    cJSON_GetArraySize(items) > 200)
		return fault(f, 422, "invalid", "items", "items must be an "
		    "array of 1 to 200 items");
	cJSON_ArrayForEach(item, items) {
		static const char *const item_members[] = {
			"product_retailer_id", "quantity", "item_price",
			"currency", NULL };
		const cJSON *q, *p;

		if (!cJSON_IsObject(item))
			return fault(f, 422, "invalid", "items",
			    "each item is an object");
		if (only_members(item, item_members, f) != 0)
			return -1;
		q = cJSON_GetObjectItemCaseSensitive(item, "quantity");
		p = cJSON_GetObjectItemCaseSensitive(item, "item_price");
		if (!cJSON_IsNumber(q))
			return fault(f, 422, q ? "invalid" : "required",
			    "quantity", "quantity is a whole number from 1 to "
			    "1000000");
		if (!cJSON_IsNumber(p) && !(cJSON_IsString(p) &&
		    decimal_valid(p->valuestring)))
			return fault(f, 422, p ? "invalid" : "required",
			    "item_price", "item_price is a number, or a decimal "
			    "string like \"12.50\"");
		if (text_member(item, "product_retailer_id", 1, 100, 0, &s,
		    f) != 0 || text_member(item, "currency", 3, 3, 0, &s, f) !=
		    0)
			return -1;
		if (s == NULL || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' ||
		    s[1] > 'Z' || s[2] < 'A' || s[2] > 'Z')
			return fault(f, 422, "invalid", "currency", "currency "
			    "is an ISO 4217 code such as EUR");
		if (currency != NULL && strcmp(currency, s) != 0)
			return fault(f, 422, "invalid", "currency", "all items "
			    "of an order share one currency");
		currency = s;
		if (jx_number(cJSON_GetObjectItem(item, "quantity"), &d) != 0 ||
		    d < 1 || d > 1e6 || d != (double)(long)d)
			return fault(f, 422, "invalid", "quantity", "quantity "
			    "is a whole number from 1 to 1000000");
		if (jx_number(cJSON_GetObjectItem(item, "item_price"), &d) !=
		    0 || d < 0 || d > 1e9)
			return fault(f, 422, "invalid", "item_price",
			    "item_price is a number from 0 to 1000000000");
	}
	return 0;
}

static int
order_status_check(const cJSON *b, struct fault *f)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(b, "status");

	if (s != NULL && (!cJSON_IsString(s) || !one_of(s->valuestring,
	    order_statuses)))
		return fault(f, 422, "invalid", "status", "status is one of "
		    "received, pending, confirmed, paid, shipped, delivered, "
		    "cancelled, refunded");
	return 0;
}

static int
order_check(struct write *w, struct fault *f)
{
	int64_t id;
	const char *s;

	if (id_member(w->body, "contact_id", 1, &id, f) != 0 ||
	    items_check(cJSON_GetObjectItem(w->body, "items"), 1, f) != 0 ||
	    text_member(w->body, "text", 0, 1000, 1, &s, f) != 0)
		return -1;
	return order_status_check(w->body, f);
}

static int
order_apply(struct write *w, struct store *st, struct fault *f)
{
	struct store_order o = { 0 };
	const cJSON *items = jx_arr(w->body, "items");
	int64_t contact_id = 0, number_id = 0, id;
	cJSON *normal;
	char *total;
	int rc;

	id_member(w->body, "contact_id", 1, &contact_id, f);
	rc = store_contact_exists(st, contact_id, &number_id);
	if (rc <= 0)
		return rc < 0 ? -1 : fault(f, 422, "invalid", "contact_id",
		    "no contact %" PRId64, contact_id);
	total = ingest_order_total(items, &o.currency);
	normal = ingest_order_items(items);
	o.number_id = number_id;
	o.contact_id = contact_id;
	o.text = jx_str(w->body, "text");
	o.items = normal;
	o.total = total;
	o.created_at = w->now;
	rc = store_order_create(st, &o, jx_str(w->body, "status"), &id);
	cJSON_Delete(normal);
	free(total);
	if (rc != 0)
		return -1;
	return answer_entity(w, st, STORE_ORDER, id);
}

static int
order_patch_check(struct write *w, struct fault *f)
{
	if (items_check(cJSON_GetObjectItem(w->body, "items"), 0, f) != 0)
		return -1;
	return order_status_check(w->body, f);
}

static int
order_patch_apply(struct write *w, struct store *st, struct fault *f)
{
	const cJSON *items = jx_arr(w->body, "items");
	struct store_value v = { 0 };
	const char *currency;
	cJSON *order = store_entity(st, STORE_ORDER, w->ids[0]);
	char *total;
	int rc = 0;

	if (order == NULL)
		return fault(f, 404, "not_found", NULL, "no order %" PRId64,
		    w->ids[0]);
	cJSON_Delete(order);
	if (items != NULL) {
		cJSON *normal = ingest_order_items(items);

		total = ingest_order_total(items, &currency);
		v.json = normal;
		rc |= store_set(st, STORE_ORDER, w->ids[0], "items", &v);
		cJSON_Delete(normal);
		v.json = NULL;
		v.text = currency;
		rc |= store_set(st, STORE_ORDER, w->ids[0], "currency", &v);
		v.text = total;
		rc |= store_set(st, STORE_ORDER, w->ids[0], "total", &v);
		free(total);
	}
	if (jx_str(w->body, "status") != NULL) {
		v.json = NULL;
		v.text = jx_str(w->body, "status");
		rc |= store_set(st, STORE_ORDER, w->ids[0], "status", &v);
	}
	if (rc != 0)
		return -1;
	return answer_entity(w, st, STORE_ORDER, w->ids[0]);
}

/* -- agents (admin) ---------------------------------------------------- */

static const char *const agent_members[] = { "name", "role", NULL };

static int
agent_check(struct write *w, struct fault *f)
{
	const char *name = jx_str(w->body, "name"), *role = jx_str(w->body,
	    "role");

	if (name == NULL || !agent_name_valid(name))
		return fault(f, 422, "invalid", "name", "name is 1 to 64 "
		    "letters, digits, '.', '_' or '-', starting with a letter "
		    "or digit");
	if (role != NULL && strcmp(role, "agent") != 0 &&
	    strcmp(role, "admin") != 0)
		return fault(f, 422, "invalid", "role", "role is agent or "
		    "admin");
	return 0;
}

static int
agent_apply(struct write *w, struct store *st, struct fault *f)
{
	const char *role = jx_str(w->body, "role");
	unsigned char hash[32];
	char token[64], *cause = NULL;
	int64_t id;

	if (agent_token_new(token) != 0)
		return -1;
	sha256(token, strlen(token), hash);
	if (store_agent_add(st, jx_str(w->body, "name"), role ? role : "agent",
	    hash, w->now, &id, &cause) != 0) {
		int rc = fault(f, 409, "exists", "name", "%s", cause);

		free(cause);
		return rc;
	}
	if (answer_entity(w, st, STORE_AGENT, id) != 0)
		return -1;
	/* The token is in this one answer only (and, under an
	 * Idempotency-Key, in its stored replay). */
	cJSON_AddStringToObject(w->result, "token", token);
	OPENSSL_cleanse(token, sizeof token);
	return 0;
}

static int
agent_revoke_apply(struct write *w, struct store *st, struct fault *f)
{
	cJSON *a = store_entity(st, STORE_AGENT, w->ids[0]);
	char *cause = NULL;
	int rc;

	if (a == NULL)
		return fault(f, 404, "not_found", NULL, "no agent %" PRId64,
		    w->ids[0]);
	rc = store_agent_revoke(st, jx_str(a, "name"), w->now, &cause);
	cJSON_Delete(a);
	if (rc != 0) {
		rc = fault(f, 409, "revoked", NULL, "%s", cause);
		free(cause);
		return rc;
	}
	return answer_entity(w, st, STORE_AGENT, w->ids[0]);
}

/* -- labels (admin) ---------------------------------------------------- */

static const char *const label_members[] = { "name", "color", NULL };

/* "#rrggbb", or null for the client's own choice. */
static int
color_check(const cJSON *b, struct fault *f)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(b, "color");
	const char *s;

	if (c == NULL || cJSON_IsNull(c))
		return 0;
	s = cJSON_GetStringValue(c);
	if (s == NULL || strlen(s) != 7 || s[0] != '#' ||
	    strspn(s + 1, "0123456789abcdefABCDEF") != 6)
		return fault(f, 422, "invalid", "color", "color is \"#rrggbb\" "
		    "or null");
	return 0;
}

static int
label_name_check(const cJSON *b, int required, struct fault *f)
{
	const char *s;

	if (text_member(b, "name", required ? 1 : 0, 50, 0, &s, f) != 0)
		return -1;
	if (s != NULL && (s[0] == ' ' || s[strlen(s) - 1] == ' '))
		return fault(f, 422, "invalid", "name", "a label's name does "
		    "not start or end with a space");
	return 0;
}

static int
label_check(struct write *w, struct fault *f)
{
	if (label_name_check(w->body, 1, f) != 0)
		return -1;
	return color_check(w->body, f);
}

static int
label_patch_check(struct write *w, struct fault *f)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(w->body, "name");

	if (n != NULL && cJSON_IsNull(n))
		return fault(f, 422, "invalid", "name", "a label keeps a name");
	if (label_name_check(w->body, 0, f) != 0)
		return -1;
	return color_check(w->body, f);
}

static int
label_write(struct write *w, struct store *st, int64_t id, const char *name,
    const char *color, struct fault *f)
{
	int taken;

	if (store_label_put(st, &id, name, color, w->now, &taken) != 0)
		return -1;
	if (taken)
		return fault(f, 409, "exists", "name", "a label named "
		    "'%.50s' exists already (names are compared without "
		    "case)", name);
	return answer_entity(w, st, STORE_LABEL, id);
}

static int
label_apply(struct write *w, struct store *st, struct fault *f)
{
	return label_write(w, st, 0, jx_str(w->body, "name"), jx_str(w->body,
	    "color"), f);
}

/*
 * Every conversation labelled old: old replaced with new (renamed), or
 * removed (new NULL: deleted, with a line in each one's history).
 */
static int
relabel(struct write *w, struct store *st, const char *old, const char *new)
{
	struct store_value v = { 0 };
	int64_t *ids;
	size_t n;
	int rc = 0;

	if (store_conversations_labelled(st, old, &ids, &n) != 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		cJSON *conv = store_entity(st, STORE_CONVERSATION, ids[i]);
		cJSON *labels, *gone = cJSON_CreateArray();

		if (conv == NULL) {
			cJSON_Delete(gone);
			rc = -1;
			break;
		}
		labels = cJSON_Duplicate(jx_arr(conv, "labels"), 1);
		cJSON_Delete(conv);
		int first = -1;

		for (int j = cJSON_GetArraySize(labels) - 1; j >= 0; j--) {
			cJSON *item = cJSON_GetArrayItem(labels, j);

			/* Whatever its case: a store upgraded from before
			 * the set may hold "VIP" beside the label "vip";
			 * both become the one new name, once. */
			if (strcasecmp(cJSON_GetStringValue(item) ?
			    cJSON_GetStringValue(item) : "", old) != 0)
				continue;
			cJSON_DeleteItemFromArray(labels, j);
			first = j;
		}
		if (new != NULL && first >= 0)
			cJSON_InsertItemInArray(labels, first,
			    cJSON_CreateString(new));
		v.json = labels;
		rc = store_set(st, STORE_CONVERSATION, ids[i], "labels", &v);
		if (rc == 0 && new == NULL) {
			cJSON_AddItemToArray(gone, cJSON_CreateString(old));
			rc = inbox_labels_history(st, ids[i], w->agent.id, NULL,
			    gone, INBOX_REASON_LABEL_DELETED, w->now);
		}
		cJSON_Delete(labels);
		cJSON_Delete(gone);
	}
	free(ids);
	return rc;
}

static int
label_patch_apply(struct write *w, struct store *st, struct fault *f)
{
	cJSON *label = store_entity(st, STORE_LABEL, w->ids[0]);
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(w->body, "color");
	const char *name = jx_str(w->body, "name"), *was;
	char *old, *color;
	int rc, same;

	if (label == NULL)
		return fault(f, 404, "not_found", NULL, "no label %" PRId64,
		    w->ids[0]);
	old = xstrdup(jx_str(label, "name"));
	was = jx_str(label, "color");
	color = c == NULL ? (was ? xstrdup(was) : NULL) :
	    (cJSON_GetStringValue(c) ? xstrdup(cJSON_GetStringValue(c)) :
	    NULL);
	if (name == NULL)
		name = old;
	same = strcmp(name, old) == 0 && (was == NULL ? color == NULL :
	    color != NULL && strcmp(was, color) == 0);
	cJSON_Delete(label);
	/* As it is: answered, not stamped again. */
	if (same)
		rc = answer_entity(w, st, STORE_LABEL, w->ids[0]);
	else
		rc = label_write(w, st, w->ids[0], name, color, f);
	/* A new name travels to every conversation that carries the label;
	 * it is the same label, so no history line. */
	if (rc == 0 && strcmp(name, old) != 0)
		rc = relabel(w, st, old, name);
	free(old);
	free(color);
	return rc;
}

static int
label_delete_apply(struct write *w, struct store *st, struct fault *f)
{
	cJSON *label = store_entity(st, STORE_LABEL, w->ids[0]);
	int rc;

	if (label == NULL)
		return fault(f, 404, "not_found", NULL, "no label %" PRId64,
		    w->ids[0]);
	rc = relabel(w, st, jx_str(label, "name"), NULL);
	cJSON_Delete(label);
	if (rc != 0 || store_label_delete(st, w->ids[0]) != 1)
		return -1;
	w->result = cJSON_CreateObject();
	cJSON_AddStringToObject(w->result, "kind", STORE_LABEL);
	jx_add_int(w->result, "id", w->ids[0]);
	cJSON_AddBoolToObject(w->result, "deleted", 1);
	return 0;
}

/* -- canned replies (admin) --------------------------------------------- */

#define SHORTCUT_MAX 32

static const char *const canned_members[] = { "shortcut", "text", NULL };

static int
canned_fields_check(const cJSON *b, int required, struct fault *f)
{
	const cJSON *sc = cJSON_GetObjectItemCaseSensitive(b, "shortcut");
	const char *s, *text;
	char *bad;

	if (sc != NULL || required) {
		s = cJSON_GetStringValue(sc);
		if (sc == NULL)
			return fault(f, 422, "required", "shortcut",
			    "shortcut is required");
		if (s == NULL || *s == '\0' || strlen(s) > SHORTCUT_MAX ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
		    strlen(s))
			return fault(f, 422, "invalid", "shortcut", "shortcut "
			    "is 1 to 32 of a-z, 0-9, '_' and '-'");
	}
	if (text_member(b, "text", required ? 1 : 0, 4096, 1, &text, f) != 0)
		return -1;
	if (text != NULL && *text == '\0')
		return fault(f, 422, "invalid", "text", "text must not be "
		    "empty");
	if (text != NULL && canned_check(text, strlen(text), &bad) != 0) {
		int rc = fault(f, 422, "unknown_placeholder", "text",
		    "unknown placeholder %.80s: use contact.name, "
		    "contact.first_name, contact.phone, agent.name or "
		    "conversation.id", bad);

		free(bad);
		return rc;
	}
	return 0;
}

static int
canned_check_body(struct write *w, struct fault *f)
{
	return canned_fields_check(w->body, 1, f);
}

static int
canned_patch_check(struct write *w, struct fault *f)
{
	return canned_fields_check(w->body, 0, f);
}

static int
canned_write(struct write *w, struct store *st, int64_t id,
    const char *shortcut, const char *text, struct fault *f)
{
	int taken;

	if (store_canned_put(st, &id, shortcut, text, w->agent.id, w->now,
	    &taken) != 0)
		return -1;
	if (taken)
		return fault(f, 409, "exists", "shortcut", "the shortcut "
		    "'%s' is taken", shortcut);
	return answer_entity(w, st, STORE_CANNED, id);
}

static int
canned_apply(struct write *w, struct store *st, struct fault *f)
{
	return canned_write(w, st, 0, jx_str(w->body, "shortcut"),
	    jx_str(w->body, "text"), f);
}

static int
canned_patch_apply(struct write *w, struct store *st, struct fault *f)
{
	cJSON *c = store_entity(st, STORE_CANNED, w->ids[0]);
	const char *shortcut = jx_str(w->body, "shortcut"),
	    *text = jx_str(w->body, "text");
	int rc;

	if (c == NULL)
		return fault(f, 404, "not_found", NULL, "no canned reply %"
		    PRId64, w->ids[0]);
	if (shortcut == NULL)
		shortcut = jx_str(c, "shortcut");
	if (text == NULL)
		text = jx_str(c, "text");
	/* As it is: answered, not stamped again. */
	if (strcmp(shortcut, jx_str(c, "shortcut")) == 0 &&
	    strcmp(text, jx_str(c, "text")) == 0)
		rc = answer_entity(w, st, STORE_CANNED, w->ids[0]);
	else
		rc = canned_write(w, st, w->ids[0], shortcut, text, f);
	cJSON_Delete(c);
	return rc;
}

static int
canned_delete_apply(struct write *w, struct store *st, struct fault *f)
{
	int rc = store_canned_delete(st, w->ids[0]);

	if (rc <= 0)
		return rc < 0 ? -1 : fault(f, 404, "not_found", NULL,
		    "no canned reply %" PRId64, w->ids[0]);
	w->result = cJSON_CreateObject();
	cJSON_AddStringToObject(w->result, "kind", STORE_CANNED);
	jx_add_int(w->result, "id", w->ids[0]);
	cJSON_AddBoolToObject(w->result, "deleted", 1);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The writes, and their routes' handlers                              */

static const char *const no_members[] = { NULL };

static const struct write_def w_send = { "send", send_members, send_check,
	send_apply, 201 };
static const struct write_def w_read = { "read", read_members, read_check,
	read_apply, 200 };
static const struct write_def w_assign = { "assign", assign_members,
	assign_check, assign_apply, 200 };
static const struct write_def w_status = { "status", status_members,
	status_check, status_apply, 200 };
static const struct write_def w_labels = { "labels", labels_members,
	labels_check, labels_apply, 200 };
static const struct write_def w_note = { "note", note_members, note_check,
	note_apply, 201 };
static const struct write_def w_note_delete = { "note_delete", no_members,
	NULL, note_delete_apply, 200 };
static const struct write_def w_contact = { "contact", contact_members,
	contact_check, contact_apply, 200 };
static const struct write_def w_order = { "order", order_members,
	order_check, order_apply, 201 };
static const struct write_def w_order_patch = { "order_patch",
	order_patch_members, order_patch_check, order_patch_apply, 200 };
static const struct write_def w_agent = { "agent", agent_members,
	agent_check, agent_apply, 201 };
static const struct write_def w_agent_revoke = { "agent_revoke", no_members,
	NULL, agent_revoke_apply, 200 };

#define WRITE_ROUTE(fn, def)                                                  \
	enum MHD_Result fn(struct server *srv, struct request *r)           \
	{                                                                     \
		return write_handle(srv, r, &def);                           \
	}

WRITE_ROUTE(api_send_message, w_send)
WRITE_ROUTE(api_mark_read, w_read)
WRITE_ROUTE(api_assign, w_assign)
WRITE_ROUTE(api_set_status, w_status)
WRITE_ROUTE(api_labels, w_labels)
WRITE_ROUTE(api_add_note, w_note)
WRITE_ROUTE(api_delete_note, w_note_delete)
WRITE_ROUTE(api_edit_contact, w_contact)
WRITE_ROUTE(api_create_order, w_order)
WRITE_ROUTE(api_update_order, w_order_patch)
WRITE_ROUTE(api_create_agent, w_agent)
WRITE_ROUTE(api_revoke_agent, w_agent_revoke)

static const struct write_def w_label = { "label", label_members,
	label_check, label_apply, 201 };
static const struct write_def w_label_patch = { "label_patch", label_members,
	label_patch_check, label_patch_apply, 200 };
static const struct write_def w_label_delete = { "label_delete", no_members,
	NULL, label_delete_apply, 200 };
static const struct write_def w_canned = { "canned", canned_members,
	canned_check_body, canned_apply, 201 };
static const struct write_def w_canned_patch = { "canned_patch",
	canned_members, canned_patch_check, canned_patch_apply, 200 };
static const struct write_def w_canned_delete = { "canned_delete",
	no_members, NULL, canned_delete_apply, 200 };

WRITE_ROUTE(api_create_label, w_label)
WRITE_ROUTE(api_update_label, w_label_patch)
WRITE_ROUTE(api_delete_label, w_label_delete)
WRITE_ROUTE(api_create_canned, w_canned)
WRITE_ROUTE(api_update_canned, w_canned_patch)
WRITE_ROUTE(api_delete_canned, w_canned_delete)

/* ------------------------------------------------------------------ */
/* Presence: ephemeral, fanned out, never stored                       */

enum MHD_Result
api_presence(struct server *srv, struct request *r)
{
	static const char *const members[] = { "conversation_id", "state",
		NULL };
	static const char *const states[] = { "viewing", "typing", "idle",
		NULL };
	struct fault f = { 0 };
	cJSON *body;
	const char *state;
	int64_t conv;

	if (parse_body(r, &body, &f) != 0)
		return fault_answer(r, &f);
	state = jx_str(body, "state");
	if (only_members(body, members, &f) != 0 ||
	    id_member(body, "conversation_id", 1, &conv, &f) != 0 ||
	    ((state == NULL || !one_of(state, states)) && fault(&f, 422,
	    cJSON_GetObjectItem(body, "state") ? "invalid" : "required",
	    "state", "state is viewing, typing or idle") != 0)) {
		enum MHD_Result rc = fault_answer(r, &f);

		cJSON_Delete(body);
		return rc;
	}
	/* Remembered until idle or until the agent's last stream ends. */
	events_presence_set(srv->events, r->agent.id, r->agent.name, conv,
	    state);
	cJSON_Delete(body);
	return server_respond(r, MHD_HTTP_NO_CONTENT, NULL, NULL, 0);
}

/* Who is online and what each agent is doing now, for a client that
 * starts up; the event stream keeps it current from there. */
enum MHD_Result
api_presence_now(struct server *srv, struct request *r)
{
	char *s = events_presence_now(srv->events);
	enum MHD_Result rc = server_respond(r, MHD_HTTP_OK,
	    "application/json", s, strlen(s));

	free(s);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Erasure: a contact, a conversation (admin), an order                */

static void
erased_answer(struct write *w, const char *kind)
{
	w->result = cJSON_CreateObject();
	cJSON_AddStringToObject(w->result, "kind", kind);
	jx_add_int(w->result, "id", w->ids[0]);
	cJSON_AddBoolToObject(w->result, "deleted", 1);
	cJSON_AddItemToObject(w->result, "erased",
	    store_erased_json(&w->erased));
}

static int
erase_apply(struct write *w, struct store *st, struct fault *f,
    const char *kind)
{
	char actor[96], target[64];
	int rc;

	/* Applied again after a failed group commit: start from nothing. */
	store_erased_free(&w->erased);
	cJSON_Delete(w->result);
	w->result = NULL;
	rc = strcmp(kind, STORE_CONTACT) == 0 ?
	    store_contact_erase(st, w->ids[0], &w->erased) :
	    store_conversation_erase(st, w->ids[0], &w->erased);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return fault(f, 404, "not_found", NULL, "no %s %" PRId64, kind,
		    w->ids[0]);
	snprintf(actor, sizeof actor, "agent:%s", w->agent.name);
	snprintf(target, sizeof target, "%s %" PRId64, kind, w->ids[0]);
	if (privacy_audit(st, actor, "erase", target, &w->erased) != 0)
		return -1;
	erased_answer(w, kind);
	return 0;
}

static int
contact_erase_apply(struct write *w, struct store *st, struct fault *f)
{
	return erase_apply(w, st, f, STORE_CONTACT);
}

static int
conversation_erase_apply(struct write *w, struct store *st, struct fault *f)
{
	return erase_apply(w, st, f, STORE_CONVERSATION);
}

static void
erase_after(struct write *w)
{
	log_info("erase: %s %" PRId64 " by agent %" PRId64 ": %" PRId64
	    " row(s)", jx_str(w->result, "kind"), w->ids[0], w->agent.id,
	    store_erased_rows(&w->erased));
	privacy_erase_finish(w->srv->cfg, &w->erased);
}

static int
order_delete_apply(struct write *w, struct store *st, struct fault *f)
{
	char actor[96], target[64];
	int rc;

	store_erased_free(&w->erased);
	cJSON_Delete(w->result);
	w->result = NULL;
	rc = store_order_delete(st, w->ids[0]);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return fault(f, 404, "not_found", NULL, "no order %" PRId64,
		    w->ids[0]);
	w->erased.orders = 1;
	snprintf(actor, sizeof actor, "agent:%s", w->agent.name);
	snprintf(target, sizeof target, "order %" PRId64, w->ids[0]);
	if (privacy_audit(st, actor, "delete", target, &w->erased) != 0)
		return -1;
	erased_answer(w, STORE_ORDER);
	return 0;
}

static const struct write_def w_contact_erase = { "contact_erase",
	no_members, NULL, contact_erase_apply, 200, erase_after };
static const struct write_def w_conversation_erase = { "conversation_erase",
	no_members, NULL, conversation_erase_apply, 200, erase_after };
static const struct write_def w_order_delete = { "order_delete", no_members,
	NULL, order_delete_apply, 200, erase_after };

WRITE_ROUTE(api_erase_contact, w_contact_erase)
WRITE_ROUTE(api_erase_conversation, w_conversation_erase)
WRITE_ROUTE(api_delete_order, w_order_delete)

/* -- export (admin) ---------------------------------------------------- */

enum MHD_Result
api_export_contact(struct server *srv, struct request *r)
{
	struct store *st = server_reader(srv);
	struct store_erased none = { 0 };
	enum MHD_Result answer;
	cJSON *doc;
	char *s, actor[96], target[64];

	if (st == NULL || store_read_begin(st) != 0)
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "store_unavailable", "the store cannot be read");
	doc = privacy_export(srv->cfg, st, r->ids[0]);
	store_read_end(st);
	if (doc == NULL)
		return server_error(r, MHD_HTTP_NOT_FOUND, "not_found",
		    "no such contact");
	privacy_export_counts(doc, &none);
	s = jx_print(doc);
	cJSON_Delete(doc);
	/* Who took a copy of someone's data is itself on record. The
	 * reader cannot write; the audit row goes through a store of its
	 * own, like an admin command's. */
	snprintf(actor, sizeof actor, "agent:%s", r->agent.name);
	snprintf(target, sizeof target, "contact %" PRId64, r->ids[0]);
	if (privacy_audit_alone(srv->cfg, actor, "export", target,
	    &none) != 0) {
		free(s);
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "store_unavailable", "the export could not be recorded");
	}
	answer = server_respond(r, MHD_HTTP_OK, "application/json", s,
	    strlen(s));
	free(s);
	return answer;
}
