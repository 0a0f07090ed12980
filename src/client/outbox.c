/*
 * The outbox sender; see outbox.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "client/client.h"
#include "client/outbox.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/xalloc.h"

#define MAX_IN_FLIGHT 4
#define AUTH_RETRY_S 60

struct flight {
	struct outbox *ob;
	struct http_xfer *xfer;
	int64_t id;
	int64_t attempts;
};

struct outbox {
	struct client *cl;
	uv_timer_t timer;
	struct flight flights[MAX_IN_FLIGHT];
	int paused;
	int unreachable;
};

static void pump(struct outbox *);

static void
on_timer(uv_timer_t *t)
{
	pump(t->data);
}

struct outbox *
outbox_new(struct client *cl)
{
	struct outbox *ob = xcalloc(1, sizeof *ob);

	ob->cl = cl;
	uv_timer_init(cl->loop, &ob->timer);
	ob->timer.data = ob;
	return ob;
}

static void
timer_closed(uv_handle_t *h)
{
	free(h->data);
}

void
outbox_free(struct outbox *ob)
{
	if (ob == NULL)
		return;
	for (int i = 0; i < MAX_IN_FLIGHT; i++) {
		if (ob->flights[i].xfer != NULL)
			http_cancel(ob->flights[i].xfer);
	}
	uv_close((uv_handle_t *)&ob->timer, timer_closed);
}

void
outbox_kick(struct outbox *ob)
{
	ob->paused = 0;
	uv_timer_start(&ob->timer, on_timer, 0, 0);
}

void
outbox_pause(struct outbox *ob)
{
	ob->paused = 1;
	uv_timer_stop(&ob->timer);
}

void
outbox_relay_reachable(struct outbox *ob)
{
	if (ob == NULL || ob->paused)
		return;
	ob->unreachable = 0;
	cache_outbox_wake(ob->cl->cache);
	outbox_kick(ob);
}

int
outbox_in_flight(const struct outbox *ob)
{
	int n = 0;

	for (int i = 0; i < MAX_IN_FLIGHT; i++)
		n += ob->flights[i].xfer != NULL;
	return n;
}

int
outbox_unreachable(const struct outbox *ob)
{
	return ob->unreachable;
}

int
outbox_queue(struct client *cl, int64_t conversation_id, const char *kind,
    const char *method, const char *path, const char *body, int64_t *id,
    char **cause)
{
	if (cache_outbox_add(cl->cache, conversation_id, kind, method, path,
	    body, id, cause) != 0)
		return -1;
	client_emit(cl, CLIENT_OUTBOX, NULL);
	outbox_kick(cl->outbox);
	return 0;
}

/* Seconds to wait after a failed attempt: doubling, capped, jittered. */
static int64_t
backoff_s(const struct outbox *ob, int64_t attempts)
{
	int64_t s = 1, max = ob->cl->cfg->retry_max;
	unsigned r = 0;

	for (int64_t i = 0; i < attempts && s < max; i++)
		s *= 2;
	if (s > max)
		s = max;
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = (unsigned)time(NULL);
	return s / 2 + (int64_t)(r % (unsigned)(s / 2 + 1));
}

static void
on_answer(void *arg, const struct http_result *r)
{
	struct flight *f = arg;
	struct outbox *ob = f->ob;
	struct cache *c = ob->cl->cache;
	int64_t id = f->id, now = time(NULL);
	char *text = NULL;
	int refused = 0;

	f->xfer = NULL;
	if (r->fail != HTTP_OK) {
		/* Not answered: the key makes the next attempt safe. */
		ob->unreachable = 1;
		log_info("outbox: entry %lld not sent yet: %s", (long long)id,
		    r->error);
		cache_outbox_retry_later(c, id, now + backoff_s(ob,
		    f->attempts), r->error);
	} else if (r->status >= 200 && r->status < 300) {
		cJSON *e = cJSON_ParseWithLength(r->body, r->len);
		int64_t rid = 0;

		ob->unreachable = 0;
		/* The entity's id, when it is one (a whole number in range). */
		if (jx_int64(e, "id", &rid) != 0 || rid < 1)
			rid = 0;
		cache_outbox_accepted(c, id, rid);
		if (e != NULL && cache_put_provisional(c, e) == 0)
			client_emit(ob->cl, CLIENT_DATA, NULL);
		cJSON_Delete(e);
		log_info("outbox: entry %lld accepted by the relay",
		    (long long)id);
	} else if (r->status == 409 || r->status == 429 ||
	    r->status >= 500) {
		/* In flight elsewhere, or the relay is struggling. */
		ob->unreachable = 0;
		text = client_error_text(r);
		cache_outbox_retry_later(c, id, now + (r->retry_after > 0 ?
		    r->retry_after : backoff_s(ob, f->attempts)), text);
	} else if (r->status == 401) {
		/* The token: nothing goes until it is fixed. */
		text = client_error_text(r);
		cache_outbox_retry_later(c, id, now + AUTH_RETRY_S, text);
	} else {
		text = client_error_text(r);
		log_warn("outbox: entry %lld refused by the relay (HTTP %ld)",
		    (long long)id, r->status);
		cache_outbox_failed(c, id, text);
		refused = 1;
	}
	/* A refusal says why, for the agent to read. */
	client_emit(ob->cl, CLIENT_OUTBOX, refused ? text : NULL);
	free(text);
	if (!ob->paused)
		uv_timer_start(&ob->timer, on_timer, 0, 0);
}

static int
in_flight(const struct outbox *ob, int64_t id)
{
	for (int i = 0; i < MAX_IN_FLIGHT; i++) {
		if (ob->flights[i].xfer != NULL && ob->flights[i].id == id)
			return 1;
	}
	return 0;
}

static void
send_entry(struct outbox *ob, struct flight *f, const struct outbox_entry *e)
{
	struct http_request rq = { 0 };

	f->ob = ob;
	f->id = e->id;
	f->attempts = e->attempts;
	rq.method = e->method;
	rq.url = client_url(ob->cl, "%s", e->path);
	rq.idempotency_key = e->key;
	rq.body = e->body;
	rq.body_len = e->body != NULL ? strlen(e->body) : 0;
	rq.on_done = on_answer;
	rq.arg = f;
	f->xfer = client_request(ob->cl, &rq);
	free((char *)rq.url);
}

static void
pump(struct outbox *ob)
{
	struct outbox_entry due[MAX_IN_FLIGHT];
	int64_t now = time(NULL), next;
	int n, free_slots = MAX_IN_FLIGHT - outbox_in_flight(ob);

	if (ob->paused)
		return;
	if (free_slots > 0) {
		n = cache_outbox_due(ob->cl->cache, now, due, MAX_IN_FLIGHT);
		for (int i = 0; i < n; i++) {
			if (free_slots > 0 && !in_flight(ob, due[i].id)) {
				for (int j = 0; j < MAX_IN_FLIGHT; j++) {
					if (ob->flights[j].xfer == NULL) {
						send_entry(ob, &ob->flights[j],
						    &due[i]);
						free_slots--;
						break;
					}
				}
			}
			outbox_entry_free(&due[i]);
		}
	}
	/* Wake again for the next entry whose wait ends. */
	next = cache_outbox_next_at(ob->cl->cache);
	if (next > now)
		uv_timer_start(&ob->timer, on_timer,
		    (uint64_t)(next - now) * 1000, 0);
}
