/*
 * The sync engine; see sync.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "client/client.h"
#include "client/outbox.h"
#include "client/sync.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "net/sse.h"

#define BACKOFF_BASE_MS 1000
#define BACKOFF_MAX_MS 60000
#define AUTH_RETRY_MS 60000
#define BATCH_EVENTS 256   /* stream events applied per transaction */
#define BATCH_DELAY_MS 20  /* ...or after this long */

/*
 * A sync page the writer thread applies: its text (owned), its envelope,
 * and what came of it. The thread touches nothing else of the sync.
 */
struct page_job {
	uv_work_t req;
	struct sync *s;
	char *text;
	struct cache_page pg;	/* points into text */
	int end;		/* the last page of a first sync: build the
				   indexes after it */
	struct cache_applied a;
	int rc;
	char *cause;
};

/* A page's answer that came while the writer was busy with the one before. */
struct page_answer {
	int held;
	struct http_result r;
	char *body;
	char *error;
};

struct sync {
	struct client *cl;
	struct sync_status st;
	int once;
	int running;
	int initial;	    /* a first sync: bulk mode */
	int64_t base_done;  /* changes applied when the first page came */
	int attempts;	    /* consecutive failures, for the backoff */
	/*
	 * Pages are written on a thread of libuv's pool through a connection
	 * of their own (wc), one at a time, while the loop receives the next
	 * one: the screen never waits for a page's writes or a first sync's
	 * index build. wc is used by one thread at a time: the writer while
	 * a job runs, the loop otherwise.
	 */
	struct cache *wc;
	struct page_job *job;	    /* being written */
	struct page_answer held;    /* the next page, waiting for it */
	int freeing;		    /* sync_free came while a job ran */
	struct http_xfer *page;
	struct http_xfer *stream;
	uv_timer_t retry;
	uv_timer_t watchdog;
	uv_timer_t flush;
	int closing;	    /* handles still to close */

	struct sse sse;
	struct buf batch; /* "[change,change,…" of stream events */
	int batch_n;
	char batch_cursor[256];
	int stream_up;
};

static void keep_less(struct sync *);
static void handle_page(struct sync *, const struct http_result *,
    char *);
static void finish_free(struct sync *);

static void fetch_page(struct sync *);
static void on_page(void *, const struct http_result *);
static void request_page(struct sync *, const char *);
static void open_stream(struct sync *);
static void schedule_retry(struct sync *, long ms);

static const char *const state_names[] = { "idle", "connecting",
	"initial sync", "catching up", "live", "offline" };

const char *
sync_state_name(enum sync_state s)
{
	return state_names[s];
}

static void
set_state(struct sync *s, enum sync_state state)
{
	if (state == SYNC_LIVE || state == SYNC_CATCHUP ||
	    state == SYNC_INITIAL) {
		s->st.offline_since = 0;
		s->st.fatal = 0;
		s->st.error[0] = '\0';
	}
	if (state == SYNC_OFFLINE && s->st.offline_since == 0)
		s->st.offline_since = time(NULL);
	s->st.state = state;
	client_emit(s->cl, CLIENT_SYNC_STATE, NULL);
}

static void
set_error(struct sync *s, const char *what, const char *why)
{
	struct buf b;

	buf_init(&b);
	utf8_sanitize(why, strlen(why), 0, &b);
	snprintf(s->st.error, sizeof s->st.error, "%s: %s", what,
	    b.data ? b.data : "");
	buf_free(&b);
	log_info("sync: %s", s->st.error);
}

struct sync *
sync_new(struct client *cl)
{
	struct sync *s = xcalloc(1, sizeof *s);

	s->cl = cl;
	s->st.percent = -1;
	uv_timer_init(cl->loop, &s->retry);
	uv_timer_init(cl->loop, &s->watchdog);
	uv_timer_init(cl->loop, &s->flush);
	s->retry.data = s->watchdog.data = s->flush.data = s;
	buf_init(&s->batch);
	return s;
}

const struct sync_status *
sync_status(const struct sync *s)
{
	return &s->st;
}

static long
backoff_ms(struct sync *s)
{
	long ms = BACKOFF_BASE_MS;
	unsigned r = 0;

	for (int i = 0; i < s->attempts && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = (unsigned)time(NULL);
	/* Full jitter in the upper half: between ms/2 and ms. */
	return ms / 2 + (long)(r % (unsigned)(ms / 2 + 1));
}

/* The writer's connection: opened when first needed, again after a rebuild. */
static struct cache *
writer(struct sync *s, char **cause)
{
	const struct client_config *cfg = s->cl->cfg;

	if (s->wc == NULL)
		s->wc = cache_open(cfg->cache_dir, cfg->url, NULL, cause);
	return s->wc;
}

static void
drop_held(struct sync *s)
{
	free(s->held.body);
	free(s->held.error);
	memset(&s->held, 0, sizeof s->held);
}

/* The cache file is damaged: start it again, from the relay. */
static void
rebuild(struct sync *s, const char *why)
{
	char *cause = NULL;

	log_warn("sync: rebuilding the cache (%s)", why);
	if (s->page != NULL) {
		http_cancel(s->page);
		s->page = NULL;
	}
	drop_held(s);
	/* The files go: the writer lets go of them first. */
	cache_close(s->wc);
	s->wc = NULL;
	if (cache_reset(s->cl->cache, &cause) != 0) {
		set_error(s, "cannot rebuild the cache", cause);
		free(cause);
		s->st.fatal = 1;
		set_state(s, SYNC_OFFLINE);
		return;
	}
	s->st.rebuilt = 1;
	s->initial = 0;
	client_emit(s->cl, CLIENT_DATA, NULL);
}

/* A failure: go offline and try again later. */
static void
failed(struct sync *s, long ms)
{
	drop_held(s);
	if (s->stream != NULL) {
		http_cancel(s->stream);
		s->stream = NULL;
	}
	if (s->page != NULL) {
		http_cancel(s->page);
		s->page = NULL;
	}
	uv_timer_stop(&s->watchdog);
	s->stream_up = 0;
	set_state(s, SYNC_OFFLINE);
	if (s->once) {
		s->running = 0;
		return;
	}
	schedule_retry(s, ms);
}

static void
on_retry(uv_timer_t *t)
{
	struct sync *s = t->data;

	if (!s->running)
		return;
	set_state(s, SYNC_CONNECTING);
	fetch_page(s);
}

static void
schedule_retry(struct sync *s, long ms)
{
	s->st.retry_at = time(NULL) + (ms + 999) / 1000;
	uv_timer_start(&s->retry, on_retry, (uint64_t)ms, 0);
}

/* An answer that is not 200: what it means for the sync. */
static void
answer_failed(struct sync *s, const struct http_result *r, const char *what)
{
	char *text = r->fail == HTTP_OK ? client_error_text(r) :
	    xstrdup(r->error);

	if (r->fail == HTTP_OK && r->status == 410) {
		free(text);
		rebuild(s, "the relay cannot calculate changes since our "
		    "cursor (another epoch or too old)");
		s->attempts = 0;
		set_state(s, SYNC_CONNECTING);
		fetch_page(s);
		return;
	}
	set_error(s, what, text);
	free(text);
	if ((r->fail == HTTP_OK && r->status == 401) || r->fail == HTTP_TLS) {
		/* Nothing changes until an agent acts; try now and then. */
		s->st.fatal = 1;
		failed(s, AUTH_RETRY_MS);
		return;
	}
	s->attempts++;
	failed(s, backoff_ms(s));
}

/* On the writer thread: the page, in one transaction with its cursor. */
static void
job_run(uv_work_t *req)
{
	struct page_job *j = req->data;
	struct cache *wc = j->s->wc;

	j->rc = cache_apply_page(wc, &j->pg, &j->a, &j->cause);
	if (j->rc == 0 && j->end)
		j->rc = cache_initial_end(wc, &j->cause);
}

static void
job_free(struct page_job *j)
{
	cache_page_free(&j->pg);
	free(j->text);
	free(j->cause);
	free(j);
}

/* Back on the loop: what the page changed, and what comes next. */
static void
job_done(uv_work_t *req, int status)
{
	struct page_job *j = req->data;
	struct sync *s = j->s;
	struct client *cl = s->cl;
	struct page_answer held;

	(void)status;
	s->job = NULL;
	if (s->freeing) {
		job_free(j);
		finish_free(s);
		return;
	}
	if (j->rc != 0) {
		int damaged = cache_damaged(s->wc);

		set_error(s, damaged ? "the cache file is damaged" :
		    "cannot apply a sync page", j->cause);
		job_free(j);
		if (damaged) {
			rebuild(s, "damaged");
			fetch_page(s);
			return;
		}
		s->attempts++;
		failed(s, backoff_ms(s));
		return;
	}
	if (s->attempts > 0 || s->st.state == SYNC_CONNECTING)
		outbox_relay_reachable(cl->outbox);
	s->attempts = 0;
	s->st.applied += j->a.applied;
	s->st.messages += j->a.messages;
	if (s->initial && j->pg.remaining >= 0) {
		int64_t done = s->st.applied - s->base_done;

		s->st.percent = j->pg.remaining == 0 ? 100 :
		    (int)(100 * done / (done + j->pg.remaining));
	}
	if (j->a.applied > 0)
		client_emit(cl, CLIENT_DATA, NULL);
	if (j->pg.more) {
		job_free(j);
		if (s->st.state != (s->initial ? SYNC_INITIAL : SYNC_CATCHUP))
			set_state(s, s->initial ? SYNC_INITIAL : SYNC_CATCHUP);
		else
			client_emit(cl, CLIENT_SYNC_STATE, NULL);
		if (s->held.held) {
			held = s->held;
			memset(&s->held, 0, sizeof s->held);
			held.r.body = held.body;
			held.r.error = held.error;
			handle_page(s, &held.r, held.body);
			free(held.error);
		}
		return;
	}
	if (j->end) {
		s->initial = 0;
		s->st.percent = 100;
	}
	job_free(j);
	keep_less(s);
	if (s->once) {
		s->running = 0;
		client_emit(cl, CLIENT_CAUGHT_UP, NULL);
		return;
	}
	open_stream(s);
}

static void
on_page(void *arg, const struct http_result *r)
{
	struct sync *s = arg;

	s->page = NULL;
	if (s->job == NULL) {
		handle_page(s, r, NULL);
		return;
	}
	/* The writer is busy with the page before: this one waits. */
	s->held.held = 1;
	s->held.r = *r;
	s->held.body = xmalloc(r->len + 1);
	memcpy(s->held.body, r->body, r->len);
	s->held.body[r->len] = '\0';
	s->held.error = r->error != NULL ? xstrdup(r->error) : NULL;
	s->held.r.content_type = NULL;
}

/*
 * A page's answer, with the writer idle: hands a good page to it. owned is
 * r's body when the caller gives it away (a held answer), else NULL.
 */
static void
handle_page(struct sync *s, const struct http_result *r, char *owned)
{
	struct page_job *j;
	char *cause = NULL;

	if (r->fail != HTTP_OK || r->status != 200) {
		answer_failed(s, r, "cannot sync with the relay");
		free(owned);
		return;
	}
	j = xcalloc(1, sizeof *j);
	j->s = s;
	if ((j->text = owned) == NULL) {
		j->text = xmalloc(r->len + 1);
		memcpy(j->text, r->body, r->len);
		j->text[r->len] = '\0';
	}
	if (cache_page_envelope(s->cl->cache, j->text, r->len, &j->pg, &cause) != 0) {
		set_error(s, "the relay sent a bad sync page", cause);
		free(cause);
		job_free(j);
		s->attempts++;
		failed(s, backoff_ms(s));
		return;
	}
	/* Ask for the next page now: the relay prepares it and we receive
	 * it while the writer writes this one. */
	if (j->pg.more)
		request_page(s, j->pg.cursor);
	j->end = s->initial && !j->pg.more;
	j->req.data = j;
	s->job = j;
	uv_queue_work(s->cl->loop, &j->req, job_run, job_done);
}

static void
request_page(struct sync *s, const char *cursor)
{
	struct client *cl = s->cl;
	struct http_request rq = { 0 };
	char *esc = NULL;

	if (cursor != NULL) {
		CURL *e = curl_easy_init();
		char *q = curl_easy_escape(e, cursor, 0);

		esc = xstrdup(q);
		curl_free(q);
		curl_easy_cleanup(e);
	}
	rq.method = "GET";
	rq.url = esc != NULL ? client_url(cl, "/api/v1/sync?limit=%lld&since=%s",
	    cl->cfg->page_size, esc) : client_url(cl, "/api/v1/sync?limit=%lld",
	    cl->cfg->page_size);
	rq.on_done = on_page;
	rq.arg = s;
	s->page = client_request(cl, &rq);
	free((char *)rq.url);
	free(esc);
}

/* Starts (or resumes) paging from the committed cursor. */
static void
fetch_page(struct sync *s)
{
	char *cursor, *cause = NULL;

	if (s->page != NULL || s->job != NULL)
		return;
	if (writer(s, &cause) == NULL) {
		set_error(s, "cannot open the cache", cause);
		free(cause);
		s->attempts++;
		failed(s, backoff_ms(s));
		return;
	}
	if (!s->initial && cache_initial(s->wc)) {
		if (cache_initial_begin(s->wc, &cause) != 0) {
			set_error(s, "cannot prepare the cache", cause);
			free(cause);
			s->attempts++;
			failed(s, backoff_ms(s));
			return;
		}
		s->initial = 1;
		s->base_done = s->st.applied;
	}
	cursor = cache_cursor(s->wc);
	request_page(s, cursor);
	free(cursor);
}

/* -- the event stream -------------------------------------------------- */

static int
flush_batch(struct sync *s)
{
	struct client *cl = s->cl;
	struct cache_applied a = { 0 };
	char *cause = NULL;

	uv_timer_stop(&s->flush);
	if (s->batch_n == 0)
		return 0;
	buf_add(&s->batch, "]", 1);
	if (cache_apply(cl->cache, s->batch.data, s->batch.len, "$",
	    s->batch_cursor, &a, &cause) != 0) {
		buf_reset(&s->batch);
		s->batch_n = 0;
		if (cache_damaged(cl->cache)) {
			set_error(s, "the cache file is damaged", cause);
			free(cause);
			rebuild(s, "damaged");
			failed(s, 0);
			return -1;
		}
		set_error(s, "cannot apply changes from the relay", cause);
		free(cause);
		s->attempts++;
		failed(s, backoff_ms(s));
		return -1;
	}
	buf_reset(&s->batch);
	s->batch_n = 0;
	s->st.applied += a.applied;
	s->st.messages += a.messages;
	if (a.applied > 0)
		client_emit(cl, CLIENT_DATA, NULL);
	return 0;
}

static void
on_flush(uv_timer_t *t)
{
	flush_batch(t->data);
}

static void
on_watchdog(uv_timer_t *t)
{
	struct sync *s = t->data;

	set_error(s, "the event stream went silent",
	    "no heartbeat from the relay; reconnecting");
	flush_batch(s);
	s->attempts = 0;
	failed(s, backoff_ms(s));
}

static int
on_sse_event(void *arg, const char *type, const char *data, size_t len,
    const char *id)
{
	struct sync *s = arg;

	if (strcmp(type, "change") == 0) {
		if (id[0] == '\0')
			return 0; /* a change must carry its cursor */
		buf_add(&s->batch, s->batch_n == 0 ? "[" : ",", 1);
		buf_add(&s->batch, data, len);
		snprintf(s->batch_cursor, sizeof s->batch_cursor, "%s", id);
		if (++s->batch_n >= BATCH_EVENTS)
			return flush_batch(s) == 0 ? 0 : -1;
		if (!uv_is_active((uv_handle_t *)&s->flush))
			uv_timer_start(&s->flush, on_flush, BATCH_DELAY_MS, 0);
	} else if (strcmp(type, "presence") == 0) {
		client_emit(s->cl, CLIENT_PRESENCE, data);
	} else if (strcmp(type, "mention") == 0) {
		client_emit(s->cl, CLIENT_MENTION, data);
	} else if (strcmp(type, "online") == 0) {
		client_emit(s->cl, CLIENT_ONLINE, data);
	} else if (strcmp(type, "revoked") == 0) {
		set_error(s, "the relay revoked this agent's token",
		    "ask an admin for a new one");
		s->st.fatal = 1;
		return -1;
	}
	return 0;
}

static int
on_stream_data(void *arg, const char *data, size_t len)
{
	struct sync *s = arg;
	const char *why = NULL;

	uv_timer_again(&s->watchdog);
	if (!s->stream_up) {
		s->stream_up = 1;
		s->attempts = 0;
		set_state(s, SYNC_LIVE);
		outbox_relay_reachable(s->cl->outbox);
	}
	if (sse_feed(&s->sse, data, len, &why) != 0) {
		if (!s->st.fatal)
			set_error(s, "the event stream broke", why);
		return -1;
	}
	return 0;
}

static void
on_stream_done(void *arg, const struct http_result *r)
{
	struct sync *s = arg;

	s->stream = NULL;
	if (flush_batch(s) != 0)
		return;
	uv_timer_stop(&s->watchdog);
	if (s->st.fatal) {
		failed(s, AUTH_RETRY_MS);
		return;
	}
	if (r->fail == HTTP_OK && r->status == 200) {
		set_error(s, "the event stream ended", "reconnecting");
		failed(s, backoff_ms(s));
		return;
	}
	if (r->fail == HTTP_ABORTED && s->st.error[0] != '\0') {
		s->attempts++;
		failed(s, backoff_ms(s));
		return;
	}
	answer_failed(s, r, "the event stream failed");
}


/* [cache] keep_days: what is older leaves the cache once caught up. */
static void
keep_less(struct sync *s)
{
	long long days = s->cl->cfg->keep_days;
	char *cause = NULL;
	long n;

	if (days <= 0)
		return;
	if (cache_prune(s->cl->cache, (int64_t)time(NULL) - days * 86400, &n,
	    &cause) != 0) {
		log_warn("sync: cannot drop old messages: %s", cause);
		free(cause);
	} else if (n > 0)
		log_info("sync: dropped %ld message(s) older than %lld days",
		    n, days);
}

static void
open_stream(struct sync *s)
{
	struct client *cl = s->cl;
	struct http_request rq = { 0 };
	char *cursor = cache_cursor(cl->cache);
	uint64_t hb = (uint64_t)cl->cfg->heartbeat_timeout * 1000;

	sse_free(&s->sse);
	sse_init(&s->sse, on_sse_event, s);
	buf_reset(&s->batch);
	s->batch_n = 0;
	s->stream_up = 0;
	rq.method = "GET";
	rq.url = client_url(cl, "/api/v1/events");
	rq.last_event_id = cursor;
	rq.on_data = on_stream_data;
	rq.on_done = on_stream_done;
	rq.arg = s;
	s->stream = client_request(cl, &rq);
	s->stream_up = 0;
	/* No total timeout on a stream: the watchdog tells a dead link. */
	uv_timer_start(&s->watchdog, on_watchdog, hb, hb);
	free((char *)rq.url);
	free(cursor);
	/* Caught up by paging: the relay is there. */
	set_state(s, SYNC_LIVE);
	outbox_relay_reachable(cl->outbox);
}

void
sync_start(struct sync *s, int once)
{
	s->once = once;
	s->running = 1;
	s->attempts = 0;
	set_state(s, SYNC_CONNECTING);
	fetch_page(s);
}

static void
handle_closed(uv_handle_t *h)
{
	struct sync *s = h->data;

	if (--s->closing == 0) {
		sse_free(&s->sse);
		buf_free(&s->batch);
		free(s);
	}
}

void
sync_free(struct sync *s)
{
	if (s == NULL)
		return;
	s->running = 0;
	flush_batch(s);
	if (s->page != NULL)
		http_cancel(s->page);
	if (s->stream != NULL)
		http_cancel(s->stream);
	s->page = s->stream = NULL;
	if (s->job != NULL) {
		/* A page is being written: done when it is. */
		s->freeing = 1;
		return;
	}
	finish_free(s);
}

static void
finish_free(struct sync *s)
{
	drop_held(s);
	cache_close(s->wc);
	s->wc = NULL;
	s->closing = 3;
	uv_close((uv_handle_t *)&s->retry, handle_closed);
	uv_close((uv_handle_t *)&s->watchdog, handle_closed);
	uv_close((uv_handle_t *)&s->flush, handle_closed);
}
