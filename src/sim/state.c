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

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/hmac.h"
#include "core/xalloc.h"

struct inj {
	struct state_injection v;
	struct inj *next;
};

struct state_blob {
	atomic_int refs;
	size_t len;
	unsigned char data[];
};

struct media {
	struct state_media v;
	char *origin;
	char *filename;
	char *part_type;
	double created_at;
	uint64_t resolves;
	uint64_t downloads;
	struct state_blob *blob;
	struct media *next;
};

struct media_url {
	char hash[40];
	char id[64];
	int64_t expires_ms;
	struct media_url *next;
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
	struct media *media, *media_tail;
	struct media_url *urls;
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
	[INJ_MEDIA_UPLOAD_ERROR] = "media_upload_error",
	[INJ_MEDIA_URL_EXPIRED] = "media_url_expired",
	[INJ_MEDIA_WRONG_SHA256] = "media_wrong_sha256",
	[INJ_MEDIA_DOWNLOAD_ERROR] = "media_download_error",
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
		free(i->v.media_id);
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
	while (st->media != NULL) {
		struct media *m = st->media;

		st->media = m->next;
		state_blob_release(m->blob);
		free(m->origin);
		free(m->filename);
		free(m->part_type);
		free(m);
	}
	while (st->urls != NULL) {
		struct media_url *u = st->urls;

		st->urls = u->next;
		free(u);
	}
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
	i->v.media_id = v->media_id ? xstrdup(v->media_id) : NULL;
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
    const char *const *recipients, size_t n, const char *media_id,
    enum state_on on)
{
	int hit = 0;

	/* ON_ANY means any request to /messages, never a media one. */
	if (v->on != on && !(v->on == ON_ANY && (on == ON_SEND ||
	    on == ON_MARK_READ)))
		return 0;
	if (v->number != NULL && strcmp(v->number, number) != 0)
		return 0;
	if (v->media_id != NULL && (media_id == NULL ||
	    strcmp(v->media_id, media_id) != 0))
		return 0;
	if (v->recipient == NULL)
		return 1;
	for (size_t k = 0; k < n; k++)
		if (recipients[k] != NULL && strcmp(recipients[k],
		    v->recipient) == 0)
			hit = 1;
	return hit;
}

static int
inject_take(struct state *st, const char *number,
    const char *const *recipients, size_t n, const char *media_id,
    enum state_on on, struct state_injection *out)
{
	struct inj *i, *prev = NULL;
	int found = 0;

	pthread_mutex_lock(&st->lock);
	for (i = st->inj_head; i != NULL; prev = i, i = i->next) {
		if (!inj_matches(&i->v, number, recipients, n, media_id, on))
			continue;
		found = 1;
		*out = i->v;
		out->number = out->recipient = out->media_id = NULL;
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
		free(i->v.media_id);
		free(i);
		break;
	}
	pthread_mutex_unlock(&st->lock);
	return found;
}

int
state_inject_take(struct state *st, const char *number,
    const char *const *recipients, size_t n, enum state_on on,
    struct state_injection *out)
{
	return inject_take(st, number, recipients, n, NULL, on, out);
}

int
state_inject_take_media(struct state *st, const char *number,
    const char *media_id, enum state_on on, struct state_injection *out)
{
	return inject_take(st, number, NULL, 0, media_id, on, out);
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
	cJSON_AddNumberToObject(o, "media_uploads",
	    (double)atomic_load(&k->media_uploads));
	cJSON_AddNumberToObject(o, "media_uploads_refused",
	    (double)atomic_load(&k->media_uploads_refused));
	cJSON_AddNumberToObject(o, "media_resolves",
	    (double)atomic_load(&k->media_resolves));
	cJSON_AddNumberToObject(o, "media_downloads",
	    (double)atomic_load(&k->media_downloads));
	cJSON_AddNumberToObject(o, "media_downloads_refused",
	    (double)atomic_load(&k->media_downloads_refused));
	cJSON_AddNumberToObject(o, "media_deleted",
	    (double)atomic_load(&k->media_deleted));
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
	atomic_store(&k->media_uploads, 0);
	atomic_store(&k->media_uploads_refused, 0);
	atomic_store(&k->media_resolves, 0);
	atomic_store(&k->media_downloads, 0);
	atomic_store(&k->media_downloads_refused, 0);
	atomic_store(&k->media_deleted, 0);
	/* The files stay (like windows); their counts start again. */
	for (struct media *m = st->media; m != NULL; m = m->next)
		m->resolves = m->downloads = 0;
	pthread_mutex_unlock(&st->lock);
}

/* -- media ----------------------------------------------------------------- */

static double
unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

/* Called with the lock held. */
static struct media *
media_find(struct state *st, const char *id)
{
	for (struct media *m = st->media; m != NULL; m = m->next) {
		if (strcmp(m->v.id, id) == 0)
			return m;
	}
	return NULL;
}

void
state_media_add(struct state *st, const char *number, const char *mime,
    const char *origin, const char *filename, const char *part_type,
    const void *data, size_t len, struct state_media *out)
{
	struct media *m = xcalloc(1, sizeof *m);
	char tag[64];

	m->blob = xmalloc(sizeof *m->blob + len + 1);
	atomic_init(&m->blob->refs, 1);
	m->blob->len = len;
	if (len > 0)
		memcpy(m->blob->data, data, len);
	sha256(data, len, m->v.sha256);
	snprintf(m->v.number, sizeof m->v.number, "%s", number);
	snprintf(m->v.mime, sizeof m->v.mime, "%s", mime);
	m->v.size = len;
	m->origin = xstrdup(origin);
	m->filename = filename ? xstrdup(filename) : NULL;
	m->part_type = part_type ? xstrdup(part_type) : NULL;
	m->created_at = unix_now();
	/* Meta's media ids are digits: Unix time and this run's serial. */
	state_unique(st, "", tag, sizeof tag);
	snprintf(m->v.id, sizeof m->v.id, "%" PRId64 "%s",
	    (int64_t)time(NULL), tag + 16);
	pthread_mutex_lock(&st->lock);
	if (st->media_tail != NULL)
		st->media_tail->next = m;
	else
		st->media = m;
	st->media_tail = m;
	pthread_mutex_unlock(&st->lock);
	*out = m->v;
}

int
state_media_find(struct state *st, const char *id, struct state_media *out,
    struct state_blob **blob)
{
	struct media *m;

	pthread_mutex_lock(&st->lock);
	m = media_find(st, id);
	if (m != NULL) {
		*out = m->v;
		if (blob != NULL) {
			atomic_fetch_add(&m->blob->refs, 1);
			*blob = m->blob;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return m != NULL;
}

const void *
state_blob_data(const struct state_blob *b)
{
	return b->data;
}

size_t
state_blob_len(const struct state_blob *b)
{
	return b->len;
}

void
state_blob_release(struct state_blob *b)
{
	if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

int
state_media_delete(struct state *st, const char *id)
{
	struct media *m;
	int done = 0;

	pthread_mutex_lock(&st->lock);
	m = media_find(st, id);
	if (m != NULL && !m->v.deleted) {
		m->v.deleted = 1;
		done = 1;
	}
	pthread_mutex_unlock(&st->lock);
	return done;
}

void
state_media_count(struct state *st, const char *id, int resolves,
    int downloads)
{
	struct media *m;

	pthread_mutex_lock(&st->lock);
	m = media_find(st, id);
	if (m != NULL) {
		m->resolves += (uint64_t)resolves;
		m->downloads += (uint64_t)downloads;
	}
	pthread_mutex_unlock(&st->lock);
}

int
state_media_usable(struct state *st, const char *number, const char *id)
{
	struct media *m;
	int ok;

	pthread_mutex_lock(&st->lock);
	m = media_find(st, id);
	ok = m != NULL && !m->v.deleted && strcmp(m->v.number, number) == 0;
	pthread_mutex_unlock(&st->lock);
	return ok;
}

void
state_media_url_add(struct state *st, const char *hash, const char *id,
    int64_t expires_ms, int64_t now_ms)
{
	struct media_url *u = xcalloc(1, sizeof *u), **p;

	snprintf(u->hash, sizeof u->hash, "%s", hash);
	snprintf(u->id, sizeof u->id, "%s", id);
	u->expires_ms = expires_ms;
	pthread_mutex_lock(&st->lock);
	/* Expired URLs answer 404 whether remembered or not: forget them. */
	for (p = &st->urls; *p != NULL;) {
		struct media_url *old = *p;

		if (old->expires_ms <= now_ms) {
			*p = old->next;
			free(old);
		} else
			p = &old->next;
	}
	u->next = st->urls;
	st->urls = u;
	pthread_mutex_unlock(&st->lock);
}

int
state_media_url_find(struct state *st, const char *hash, int64_t now_ms,
    char *id, size_t idlen)
{
	int found = 0;

	pthread_mutex_lock(&st->lock);
	for (struct media_url *u = st->urls; u != NULL; u = u->next) {
		if (strcmp(u->hash, hash) == 0 && u->expires_ms > now_ms) {
			snprintf(id, idlen, "%s", u->id);
			found = 1;
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return found;
}

cJSON *
state_media_json(struct state *st)
{
	cJSON *a = cJSON_CreateArray(), *o;
	char hex[65];
	unsigned char b64[48];

	pthread_mutex_lock(&st->lock);
	for (struct media *m = st->media; m != NULL; m = m->next) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", m->v.id);
		cJSON_AddStringToObject(o, "number", m->v.number);
		cJSON_AddStringToObject(o, "origin", m->origin);
		cJSON_AddStringToObject(o, "mime_type", m->v.mime);
		hex_encode(m->v.sha256, 32, hex);
		cJSON_AddStringToObject(o, "sha256", hex);
		EVP_EncodeBlock(b64, m->v.sha256, 32);
		cJSON_AddStringToObject(o, "sha256_base64", (const char *)b64);
		cJSON_AddNumberToObject(o, "file_size", (double)m->v.size);
		if (m->filename != NULL)
			cJSON_AddStringToObject(o, "filename", m->filename);
		if (m->part_type != NULL)
			cJSON_AddStringToObject(o, "part_content_type",
			    m->part_type);
		cJSON_AddBoolToObject(o, "deleted", m->v.deleted);
		cJSON_AddNumberToObject(o, "resolves", (double)m->resolves);
		cJSON_AddNumberToObject(o, "downloads", (double)m->downloads);
		cJSON_AddNumberToObject(o, "created_at", m->created_at);
		cJSON_AddItemToArray(a, o);
	}
	pthread_mutex_unlock(&st->lock);
	return a;
}
