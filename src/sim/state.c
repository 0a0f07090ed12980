/*
 * The simulator's memory, behind one mutex. Lists are plain arrays and
 * linked lists: a test tool holds thousands of entries, not millions.
 */
#include "sim/state.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "core/hmac.h"
#include "core/xalloc.h"

struct inj {
	struct state_injection v;
	struct inj *next;
};

struct window {
	char *number;
	char *customer;
	int64_t last; /* Unix seconds of the last inbound message; 0: closed */
};

struct state {
	pthread_mutex_t lock;
	struct state_stats stats;
	char tag[17]; /* hex, random per run: ids never repeat across runs */
	uint64_t serial;
	struct inj *inj_head, *inj_tail;
	size_t ninj;
	struct window *windows;
	size_t nwindows;
	cJSON *sent;
	cJSON *reads;
	cJSON *templates, *default_templates;
	long page_size, default_page_size;
	char *raw;	  /* a raw answer to GETs of message_templates */
	size_t raw_pad;
	unsigned raw_status;
	long raw_count;
};

static const char *const error_names[INJ_COUNT] = {
	[INJ_RATE_LIMIT] = "rate_limit",
	[INJ_PAIR_RATE_LIMIT] = "pair_rate_limit",
	[INJ_SERVER_ERROR] = "server_error",
	[INJ_HTTP_429] = "http_429",
	[INJ_WINDOW_CLOSED] = "window_closed",
	[INJ_TOKEN_EXPIRED] = "token_expired",
	[INJ_SLOW] = "slow",
	[INJ_TIMEOUT_AFTER_ACCEPT] = "timeout_after_accept",
	[INJ_UNDELIVERABLE] = "undeliverable",
};

int
state_error_parse(const char *s, enum state_error *out)
{
	for (int i = 0; i < INJ_COUNT; i++) {
		if (strcmp(s, error_names[i]) == 0) {
			*out = (enum state_error)i;
			return 0;
		}
	}
	return -1;
}

const char *
state_error_name(enum state_error e)
{
	return e < INJ_COUNT ? error_names[e] : "?";
}

struct state *
state_new(void)
{
	struct state *st = xcalloc(1, sizeof *st);
	unsigned char rnd[8];

	pthread_mutex_init(&st->lock, NULL);
	if (RAND_bytes(rnd, sizeof rnd) != 1) {
		uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;

		memcpy(rnd, &t, sizeof rnd);
	}
	hex_encode(rnd, sizeof rnd, st->tag);
	for (char *p = st->tag; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	}
	st->sent = cJSON_CreateArray();
	st->reads = cJSON_CreateArray();
	st->templates = cJSON_CreateArray();
	st->default_templates = cJSON_CreateArray();
	return st;
}

static void
inj_free_all(struct state *st)
{
	struct inj *i, *next;

	for (i = st->inj_head; i != NULL; i = next) {
		next = i->next;
		free(i->v.number);
		free(i->v.recipient);
		free(i);
	}
	st->inj_head = st->inj_tail = NULL;
	st->ninj = 0;
}

void
state_free(struct state *st)
{
	if (st == NULL)
		return;
	inj_free_all(st);
	for (size_t i = 0; i < st->nwindows; i++) {
		free(st->windows[i].number);
		free(st->windows[i].customer);
	}
	free(st->windows);
	cJSON_Delete(st->sent);
	cJSON_Delete(st->reads);
	cJSON_Delete(st->templates);
	cJSON_Delete(st->default_templates);
	free(st->raw);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

struct state_stats *
state_stats(struct state *st)
{
	return &st->stats;
}

void
state_unique(struct state *st, const char *prefix, char *out, size_t len)
{
	uint64_t n;

	pthread_mutex_lock(&st->lock);
	n = ++st->serial;
	pthread_mutex_unlock(&st->lock);
	snprintf(out, len, "%s%s%08" PRIu64, prefix, st->tag, n);
}

size_t
state_inject_add(struct state *st, const struct state_injection *v)
{
	struct inj *i = xcalloc(1, sizeof *i);
	size_t n;

	i->v = *v;
	i->v.number = v->number ? xstrdup(v->number) : NULL;
	i->v.recipient = v->recipient ? xstrdup(v->recipient) : NULL;
	pthread_mutex_lock(&st->lock);
	if (st->inj_tail != NULL)
		st->inj_tail->next = i;
	else
		st->inj_head = i;
	st->inj_tail = i;
	n = ++st->ninj;
	pthread_mutex_unlock(&st->lock);
	return n;
}

static int
inj_matches(const struct state_injection *v, const char *number,
    const char *const *recipients, size_t n, enum state_on on)
{
	int hit = 0;

	if (v->on != ON_ANY && v->on != on)
		return 0;
	if (v->number != NULL && strcmp(v->number, number) != 0)
		return 0;
	if (v->recipient == NULL)
		return 1;
	for (size_t k = 0; k < n; k++)
		if (recipients[k] != NULL && strcmp(recipients[k],
		    v->recipient) == 0)
			hit = 1;
	return hit;
}

int
state_inject_take(struct state *st, const char *number,
    const char *const *recipients, size_t n, enum state_on on,
    struct state_injection *out)
{
	struct inj *i, *prev = NULL;
	int found = 0;

	pthread_mutex_lock(&st->lock);
	for (i = st->inj_head; i != NULL; prev = i, i = i->next) {
		if (!inj_matches(&i->v, number, recipients, n, on))
			continue;
		found = 1;
		*out = i->v;
		out->number = out->recipient = NULL;
		if (--i->v.count > 0)
			break;
		if (prev != NULL)
			prev->next = i->next;
		else
			st->inj_head = i->next;
		if (st->inj_tail == i)
			st->inj_tail = prev;
		st->ninj--;
		free(i->v.number);
		free(i->v.recipient);
		free(i);
		break;
	}
	pthread_mutex_unlock(&st->lock);
	return found;
}

size_t
state_inject_pending(struct state *st)
{
	size_t n;

	pthread_mutex_lock(&st->lock);
	n = st->ninj;
	pthread_mutex_unlock(&st->lock);
	return n;
}

/* Called with the lock held. */
static struct window *
window_find(struct state *st, const char *number, const char *customer,
    int create)
{
	struct window *w;

	for (size_t i = 0; i < st->nwindows; i++) {
		w = &st->windows[i];
		if (strcmp(w->number, number) == 0 && strcmp(w->customer,
		    customer) == 0)
			return w;
	}
	if (!create)
		return NULL;
	st->windows = xrealloc(st->windows, (st->nwindows + 1) *
	    sizeof *st->windows);
	w = &st->windows[st->nwindows++];
	w->number = xstrdup(number);
	w->customer = xstrdup(customer);
	w->last = 0;
	return w;
}

void
state_window_open(struct state *st, const char *number, const char *customer,
    int64_t at)
{
	struct window *w;

	pthread_mutex_lock(&st->lock);
	w = window_find(st, number, customer, 1);
	w->last = at;
	pthread_mutex_unlock(&st->lock);
}

void
state_window_close(struct state *st, const char *number,
    const char *customer)
{
	pthread_mutex_lock(&st->lock);
	window_find(st, number, customer, 1)->last = 0;
	pthread_mutex_unlock(&st->lock);
}

int
state_window_is_open(struct state *st, const char *number,
    const char *customer, int64_t now, int all_open)
{
	struct window *w;
	int open;

	pthread_mutex_lock(&st->lock);
	w = window_find(st, number, customer, 0);
	if (w == NULL)
		open = all_open;
	else
		open = w->last > 0 && now - w->last < STATE_WINDOW_SECONDS;
	pthread_mutex_unlock(&st->lock);
	return open;
}

void
state_record_send(struct state *st, cJSON *entry)
{
	pthread_mutex_lock(&st->lock);
	cJSON_AddItemToArray(st->sent, entry);
	pthread_mutex_unlock(&st->lock);
}

void
state_record_read(struct state *st, cJSON *entry)
{
	pthread_mutex_lock(&st->lock);
	cJSON_AddItemToArray(st->reads, entry);
	pthread_mutex_unlock(&st->lock);
}

cJSON *
state_find_send(struct state *st, const char *wamid)
{
	const cJSON *e, *id;
	cJSON *copy = NULL;

	pthread_mutex_lock(&st->lock);
	cJSON_ArrayForEach(e, st->sent) {
		id = cJSON_GetObjectItemCaseSensitive(e, "wamid");
		if (cJSON_IsString(id) && strcmp(id->valuestring, wamid) == 0) {
			copy = cJSON_Duplicate(e, 1);
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return copy;
}

cJSON *
state_sent_json(struct state *st)
{
	cJSON *copy;

	pthread_mutex_lock(&st->lock);
	copy = cJSON_Duplicate(st->sent, 1);
	pthread_mutex_unlock(&st->lock);
	return copy;
}

cJSON *
state_reads_json(struct state *st)
{
	cJSON *copy;

	pthread_mutex_lock(&st->lock);
	copy = cJSON_Duplicate(st->reads, 1);
	pthread_mutex_unlock(&st->lock);
	return copy;
}

cJSON *
state_stats_json(struct state *st)
{
	struct state_stats *k = &st->stats;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "sends_accepted",
	    (double)atomic_load(&k->sends_accepted));
	cJSON_AddNumberToObject(o, "sends_refused",
	    (double)atomic_load(&k->sends_refused));
	cJSON_AddNumberToObject(o, "mark_read",
	    (double)atomic_load(&k->mark_read));
	cJSON_AddNumberToObject(o, "webhooks_posted",
	    (double)atomic_load(&k->webhooks_posted));
	cJSON_AddNumberToObject(o, "webhooks_failed",
	    (double)atomic_load(&k->webhooks_failed));
	cJSON_AddNumberToObject(o, "webhooks_dropped",
	    (double)atomic_load(&k->webhooks_dropped));
	cJSON_AddNumberToObject(o, "inbound_posted",
	    (double)atomic_load(&k->inbound_posted));
	cJSON_AddNumberToObject(o, "templates_served",
	    (double)atomic_load(&k->templates_served));
	cJSON_AddNumberToObject(o, "injections_pending",
	    (double)state_inject_pending(st));
	return o;
}

void
state_templates_set(struct state *st, cJSON *list, long page_size,
    int defaults)
{
	pthread_mutex_lock(&st->lock);
	cJSON_Delete(st->templates);
	st->templates = list;
	st->page_size = page_size;
	if (defaults) {
		cJSON_Delete(st->default_templates);
		st->default_templates = cJSON_Duplicate(list, 1);
		st->default_page_size = page_size;
	}
	pthread_mutex_unlock(&st->lock);
}

cJSON *
state_templates_json(struct state *st, long *page_size)
{
	cJSON *copy;

	pthread_mutex_lock(&st->lock);
	copy = cJSON_Duplicate(st->templates, 1);
	if (page_size != NULL)
		*page_size = st->page_size;
	pthread_mutex_unlock(&st->lock);
	return copy;
}

cJSON *
state_template_find(struct state *st, const char *name, const char *language)
{
	const cJSON *t, *n, *l;
	cJSON *copy = NULL;

	pthread_mutex_lock(&st->lock);
	cJSON_ArrayForEach(t, st->templates) {
		n = cJSON_GetObjectItemCaseSensitive(t, "name");
		l = cJSON_GetObjectItemCaseSensitive(t, "language");
		if (cJSON_IsString(n) && cJSON_IsString(l) &&
		    strcmp(n->valuestring, name) == 0 &&
		    strcmp(l->valuestring, language) == 0) {
			copy = cJSON_Duplicate(t, 1);
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return copy;
}

void
state_templates_raw(struct state *st, unsigned status, const char *body,
    size_t pad, long count)
{
	pthread_mutex_lock(&st->lock);
	free(st->raw);
	st->raw = xstrdup(body);
	st->raw_pad = pad;
	st->raw_status = status;
	st->raw_count = count;
	pthread_mutex_unlock(&st->lock);
}

int
state_templates_take_raw(struct state *st, unsigned *status, char **body,
    size_t *len)
{
	size_t n;
	int taken = 0;

	pthread_mutex_lock(&st->lock);
	if (st->raw_count > 0 && st->raw != NULL) {
		*status = st->raw_status;
		n = strlen(st->raw);
		*len = n + st->raw_pad;
		*body = xmalloc(*len + 1);
		memcpy(*body, st->raw, n);
		memset(*body + n, ' ', st->raw_pad);
		(*body)[*len] = '\0';
		taken = 1;
		if (--st->raw_count == 0) {
			free(st->raw);
			st->raw = NULL;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return taken;
}

long
state_templates_raw_pending(struct state *st)
{
	long n;

	pthread_mutex_lock(&st->lock);
	n = st->raw_count;
	pthread_mutex_unlock(&st->lock);
	return n;
}

void
state_reset(struct state *st)
{
	struct state_stats *k = &st->stats;

	pthread_mutex_lock(&st->lock);
	inj_free_all(st);
	cJSON_Delete(st->sent);
	cJSON_Delete(st->reads);
	st->sent = cJSON_CreateArray();
	st->reads = cJSON_CreateArray();
	cJSON_Delete(st->templates);
	st->templates = cJSON_Duplicate(st->default_templates, 1);
	st->page_size = st->default_page_size;
	free(st->raw);
	st->raw = NULL;
	st->raw_count = 0;
	atomic_store(&k->templates_served, 0);
	atomic_store(&k->sends_accepted, 0);
	atomic_store(&k->sends_refused, 0);
	atomic_store(&k->mark_read, 0);
	atomic_store(&k->webhooks_posted, 0);
	atomic_store(&k->webhooks_failed, 0);
	atomic_store(&k->webhooks_dropped, 0);
	atomic_store(&k->inbound_posted, 0);
	pthread_mutex_unlock(&st->lock);
}
