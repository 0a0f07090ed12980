/*
 * The template reader thread (glivi-tmpl). It reads each WABA's template
 * list from the Graph API, checks every page as outside input, and hands
 * the whole list to the committer in one job; it never writes the store
 * itself and never logs a template's text.
 */
#include "relay/templates.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "relay/graphmedia.h"
#include "relay/store.h"

#define PAGE_LIMIT 100		      /* templates asked for per page */
#define MAX_PAGE_BYTES (4 << 20)      /* one page's answer */
#define MAX_PAGES 200		      /* pages of one list */
#define MAX_TEMPLATES 10000	      /* Meta allows 6000 per WABA */
#define MAX_COMPONENTS (64 * 1024)    /* one template's, as JSON */
#define MAX_CURSOR 1024
#define FIRST_RETRY 30.0 /* seconds after a failed read; doubles */
#define LEASE_RETRY 30.0 /* seconds: another relay refreshes; look again */

struct waba {
	char *id;
	double next_at; /* monotonic seconds; 0: now */
	int failures;
};

struct templates {
	const struct relay_config *cfg;
	struct committer *committer;
	struct curl_slist *headers;
	struct waba *wabas;
	size_t nwabas;

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC; signalled at stop */
	atomic_int stopping;
	int stopped; /* joined: only the stats are left */
	atomic_uint_fast64_t fetches, failures;
};

/* -- one page, as outside input ------------------------------------------ */

/*
 * A string member of at most max bytes of valid UTF-8 without controls.
 * Returns 1 with *out (a copy) when usable, 0 when absent (or null), -1
 * when present and unusable.
 */
static int
str_member(const cJSON *o, const char *key, size_t max, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	size_t len;

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return -1;
	len = strlen(v->valuestring);
	if (len == 0 || len > max || !utf8_valid(v->valuestring, len) ||
	    utf8_has_controls(v->valuestring, len) ||
	    strpbrk(v->valuestring, "\t\n") != NULL)
		return -1;
	*out = xstrdup(v->valuestring);
	return 1;
}

static void
item_free(struct template_item *t)
{
	free(t->id);
	free(t->name);
	free(t->language);
	free(t->status);
	free(t->category);
	free(t->reason);
	free(t->parameter_format);
	cJSON_Delete(t->components);
	memset(t, 0, sizeof *t);
}

/* Graph's ids are numeric strings; a bare number is taken too. */
static char *
id_of(const cJSON *o)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "id");
	char *s = NULL;
	int64_t n;

	if (cJSON_IsNumber(v)) {
		if (jx_int64(o, "id", &n) == 0)
			s = xasprintf("%" PRId64, n);
		return s;
	}
	if (str_member(o, "id", 64, &s) != 1 || strpbrk(s, " /?&#%") != NULL) {
		free(s);
		return NULL;
	}
	return s;
}

/* Fills t from one entry of "data"; t->valid says whether all of it is
 * usable. Returns -1 when not even its id is. */
static int
item_parse(const cJSON *o, struct template_item *t)
{
	const cJSON *c;
	char *printed;
	int ok = 1;

	memset(t, 0, sizeof *t);
	if (!cJSON_IsObject(o) || (t->id = id_of(o)) == NULL)
		return -1;
	ok &= str_member(o, "name", 512, &t->name) == 1;
	ok &= str_member(o, "language", 16, &t->language) == 1;
	ok &= str_member(o, "status", 32, &t->status) == 1;
	ok &= str_member(o, "category", 32, &t->category) >= 0;
	ok &= str_member(o, "parameter_format", 32, &t->parameter_format) >=
	    0;
	ok &= str_member(o, "rejected_reason", 128, &t->reason) >= 0;
	if (t->reason != NULL && strcmp(t->reason, "NONE") == 0) {
		free(t->reason);
		t->reason = NULL;
	}
	c = cJSON_GetObjectItemCaseSensitive(o, "components");
	if (c != NULL && !cJSON_IsNull(c)) {
		printed = cJSON_IsArray(c) ? cJSON_PrintUnformatted(c) : NULL;
		if (printed == NULL || strlen(printed) > MAX_COMPONENTS ||
		    !utf8_valid(printed, strlen(printed)))
			ok = 0;
		else
			t->components = cJSON_Parse(printed);
		free(printed);
	}
	t->valid = ok;
	return 0;
}

int
templates_parse_page(const char *body, size_t len, struct template_page *p,
    char **cause)
{
	cJSON *root, *paging;
	const cJSON *data, *e;
	char *after = NULL;
	size_t n = 0;

	memset(p, 0, sizeof *p);
	root = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
	data = jx_arr(root, "data");
	if (data == NULL) {
		*cause = xstrdup(root == NULL ? "the answer is not JSON" :
		    "the answer has no \"data\" array");
		cJSON_Delete(root);
		return -1;
	}
	/* A next page is announced by "next"; its cursor is what we use,
	 * never the URL, which could point anywhere with our token. */
	paging = jx_obj(root, "paging");
	if (cJSON_GetObjectItemCaseSensitive(paging, "next") != NULL &&
	    !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(paging, "next"))) {
		if (str_member(jx_obj(paging, "cursors"), "after", MAX_CURSOR,
		    &after) != 1) {
			*cause = xstrdup("a next page without a usable \"after\" "
			    "cursor");
			cJSON_Delete(root);
			return -1;
		}
	}
	if (cJSON_GetArraySize(data) > MAX_TEMPLATES) {
		*cause = xasprintf("more than %d templates on one page",
		    MAX_TEMPLATES);
		free(after);
		cJSON_Delete(root);
		return -1;
	}
	p->items = xcalloc((size_t)cJSON_GetArraySize(data) + 1,
	    sizeof *p->items);
	cJSON_ArrayForEach(e, data) {
		if (item_parse(e, &p->items[n]) != 0) {
			item_free(&p->items[n]);
			p->skipped++;
			continue;
		}
		n++;
	}
	p->n = n;
	p->after = after;
	cJSON_Delete(root);
	return 0;
}

void
templates_page_free(struct template_page *p)
{
	for (size_t i = 0; i < p->n; i++)
		item_free(&p->items[i]);
	free(p->items);
	free(p->after);
	memset(p, 0, sizeof *p);
}

/* -- recording a whole list ---------------------------------------------- */

struct list {
	const char *waba_id;
	struct template_item *items;
	size_t n, cap;
	size_t skipped, invalid;
	int changed;
	int64_t removed;
};

struct sync_job {
	struct commit_job job;
	struct list *list;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
sync_apply(struct commit_job *job, struct store *st,
    const struct relay_config *cfg)
{
	struct sync_job *s = job->apply_arg;
	struct list *l = s->list;
	int64_t now = (int64_t)time(NULL);
	const char **keep = xcalloc(l->n + 1, sizeof *keep);
	int changed, rc = 0;

	(void)cfg;
	l->changed = 0;
	l->removed = 0;
	for (size_t i = 0; i < l->n && rc == 0; i++) {
		struct template_item *t = &l->items[i];
		struct store_template st_t = {
			.waba_id = l->waba_id,
			.template_id = t->id,
			.name = t->name,
			.language = t->language,
			.status = t->status,
			.reason = t->reason,
			.category = t->category,
			.components = t->components,
			.parameter_format = t->parameter_format,
		};

		/* An entry Meta lists but that is unusable is left as stored
		 * (and not removed): one odd entry costs nothing else. */
		keep[i] = t->id;
		if (!t->valid)
			continue;
		rc = store_template_sync(st, &st_t, now, &changed);
		l->changed += changed;
	}
	if (rc == 0) {
		qsort(keep, l->n, sizeof *keep, cmp_str);
		rc = store_template_prune(st, l->waba_id, keep, l->n,
		    &l->removed);
	}
	free(keep);
	job->status = rc == 0 ? 200 : 500;
	return rc == 0 ? 0 : -1;
}

static void
sync_done(struct commit_job *job, void *arg)
{
	struct sync_job *s = arg;

	pthread_mutex_lock(&s->lock);
	s->done = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static int
record(struct templates *t, struct list *l)
{
	struct sync_job s;
	int rc = -1;

	memset(&s, 0, sizeof s);
	s.list = l;
	s.job.apply = sync_apply;
	s.job.apply_arg = &s;
	s.job.done = sync_done;
	s.job.arg = &s;
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	if (committer_submit(t->committer, &s.job) == 0) {
		pthread_mutex_lock(&s.lock);
		while (!s.done)
			pthread_cond_wait(&s.cond, &s.lock);
		pthread_mutex_unlock(&s.lock);
		rc = s.job.status == 200 ? 0 : -1;
	}
	pthread_mutex_destroy(&s.lock);
	pthread_cond_destroy(&s.cond);
	return rc;
}

/* -- reading a list --------------------------------------------------------- */

static size_t
on_answer(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > MAX_PAGE_BYTES)
		return 0; /* curl fails the transfer: the page is too big */
	buf_add(b, p, size * n);
	return size * n;
}

static void
list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		item_free(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof *l);
}

/* Reads every page of a WABA's list; returns 0, or -1 with *cause. */
static int
fetch(struct templates *t, CURL *curl, const char *waba, struct list *l,
    char **cause)
{
	const struct relay_config *cfg = t->cfg;
	struct template_page page;
	char *after = NULL, *url, *esc, *seen[MAX_PAGES];
	char errbuf[CURL_ERROR_SIZE];
	struct buf answer;
	size_t nseen = 0;
	long status;
	CURLcode cc;
	int rc = -1;

	buf_init(&answer);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	for (;;) {
		if (nseen == MAX_PAGES) {
			*cause = xasprintf("more than %d pages", MAX_PAGES);
			goto out;
		}
		esc = after ? curl_easy_escape(curl, after, 0) : NULL;
		url = xasprintf("%s/%s/%s/message_templates?limit=%d%s%s",
		    cfg->graph_url, cfg->graph_version, waba, PAGE_LIMIT,
		    esc ? "&after=" : "", esc ? esc : "");
		curl_free(esc);
		curl_easy_setopt(curl, CURLOPT_URL, url);
		buf_reset(&answer);
		errbuf[0] = '\0';
		status = 0;
		cc = curl_easy_perform(curl);
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		free(url);
		if (cc != CURLE_OK) {
			*cause = xstrdup(cc == CURLE_WRITE_ERROR ? "a page of "
			    "more than 4 MiB" : errbuf[0] ? errbuf :
			    curl_easy_strerror(cc));
			goto out;
		}
		if (status != 200) {
			cJSON *e = cJSON_Parse(answer.data ? answer.data : "");
			int64_t code = 0;

			jx_int64(jx_obj(e, "error"), "code", &code);
			cJSON_Delete(e);
			*cause = xasprintf("HTTP %ld, code %" PRId64, status,
			    code);
			goto out;
		}
		if (templates_parse_page(answer.data, answer.len, &page,
		    cause) != 0)
			goto out;
		if (l->n + page.n > MAX_TEMPLATES) {
			templates_page_free(&page);
			*cause = xasprintf("more than %d templates",
			    MAX_TEMPLATES);
			goto out;
		}
		if (l->n + page.n > l->cap) {
			l->cap = l->n + page.n + 16;
			l->items = xrealloc(l->items, l->cap * sizeof *l->items);
		}
		for (size_t i = 0; i < page.n; i++) {
			l->invalid += !page.items[i].valid;
			l->items[l->n++] = page.items[i];
		}
		page.n = 0;
		l->skipped += page.skipped;
		seen[nseen++] = after;
		after = page.after;
		page.after = NULL;
		templates_page_free(&page);
		if (after == NULL)
			break;
		for (size_t i = 0; i < nseen; i++) {
			if (seen[i] != NULL && strcmp(seen[i], after) == 0) {
				*cause = xstrdup("the pages' cursors go round in "
				    "a circle");
				goto out;
			}
		}
	}
	rc = 0;
out:
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(after);
	buf_free(&answer);
	return rc;
}

static void
refresh(struct templates *t, CURL *curl, struct waba *w)
{
	struct list l;
	char *cause = NULL;
	double retry;
	struct timespec ts;

	memset(&l, 0, sizeof l);
	l.waba_id = w->id;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (fetch(t, curl, w->id, &l, &cause) != 0 || record(t, &l) != 0) {
		w->failures++;
		retry = FIRST_RETRY;
		for (int i = 1; i < w->failures && retry < 1e6; i++)
			retry *= 2;
		if (retry > (double)t->cfg->template_refresh)
			retry = (double)t->cfg->template_refresh;
		if (!atomic_load(&t->stopping))
			log_warn("templates: reading WABA %s failed (%s); "
			    "trying again in %.0f s", w->id, cause ? cause :
			    "the store refused the list", retry);
		atomic_fetch_add(&t->failures, 1);
	} else {
		w->failures = 0;
		retry = (double)t->cfg->template_refresh;
		atomic_fetch_add(&t->fetches, 1);
		log_info("templates: WABA %s lists %zu template(s): %d "
		    "changed, %" PRId64 " removed%s", w->id, l.n, l.changed,
		    l.removed, l.invalid + l.skipped > 0 ? "; some entries "
		    "were unusable and left as they were" : "");
		if (l.invalid + l.skipped > 0)
			log_warn("templates: WABA %s: %zu unusable entr%s "
			    "(%zu without an id)", w->id, l.invalid + l.skipped,
			    l.invalid + l.skipped == 1 ? "y" : "ies",
			    l.skipped);
	}
	w->next_at = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + retry;
	free(cause);
	list_free(&l);
}

static void *
templates_main(void *arg)
{
	struct templates *t = arg;
	struct timespec now, until;
	struct store_lease *lease;
	double soonest, at;
	CURL *curl;
	int mine;

	pthread_setname_np(pthread_self(), "glivi-tmpl");
	if ((curl = graph_curl(t->cfg, &t->stopping)) == NULL) {
		log_error("templates: cannot create a curl handle");
		return NULL;
	}
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)t->cfg->request_timeout);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_answer);
	/* Of several relays on one store, the lease holder refreshes. */
	lease = store_lease_new(t->cfg->store_url, "glivi-templates");

	while (!atomic_load(&t->stopping)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		at = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
		soonest = 0;
		mine = store_lease_held(lease);
		for (size_t i = 0; i < t->nwabas; i++) {
			struct waba *w = &t->wabas[i];

			if (w->next_at <= at && !mine)
				w->next_at = at + LEASE_RETRY;
			else if (w->next_at <= at &&
			    !atomic_load(&t->stopping))
				refresh(t, curl, w);
			if (soonest == 0 || w->next_at < soonest)
				soonest = w->next_at;
		}
		pthread_mutex_lock(&t->lock);
		if (!atomic_load(&t->stopping)) {
			until.tv_sec = (time_t)soonest;
			until.tv_nsec = (long)((soonest - (double)until.tv_sec) *
			    1e9);
			pthread_cond_timedwait(&t->cond, &t->lock, &until);
		}
		pthread_mutex_unlock(&t->lock);
	}
	store_lease_free(lease);
	curl_easy_cleanup(curl);
	return NULL;
}

struct templates *
templates_start(const struct relay_config *cfg, struct committer *committer,
    const char *token, char **cause)
{
	struct templates *t = xcalloc(1, sizeof *t);
	pthread_condattr_t ca;
	char *auth;
	int rc;

	*cause = NULL;
	/* Each WABA once, however many of its numbers are served. */
	for (size_t i = 0; i < cfg->nnumbers; i++) {
		const char *id = cfg->numbers[i].waba_id;
		int dup = 0;

		for (size_t j = 0; id != NULL && j < t->nwabas; j++)
			dup |= strcmp(t->wabas[j].id, id) == 0;
		if (id == NULL || dup)
			continue;
		t->wabas = xrealloc(t->wabas, (t->nwabas + 1) *
		    sizeof *t->wabas);
		memset(&t->wabas[t->nwabas], 0, sizeof *t->wabas);
		t->wabas[t->nwabas++].id = xstrdup(id);
	}
	if (t->nwabas == 0) {
		free(t);
		return NULL;
	}
	t->cfg = cfg;
	t->committer = committer;
	auth = xasprintf("Authorization: Bearer %s", token);
	t->headers = curl_slist_append(NULL, auth);
	explicit_bzero(auth, strlen(auth));
	free(auth);
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	log_info("templates: %zu WABA%s to read, every %lld s", t->nwabas,
	    t->nwabas == 1 ? "" : "s", cfg->template_refresh);
	rc = pthread_create(&t->thread, NULL, templates_main, t);
	if (rc != 0) {
		*cause = xasprintf("cannot start the template reader: %s",
		    strerror(rc));
		atomic_store(&t->stopping, 1);
		t->thread = 0;
		templates_free(t);
		return NULL;
	}
	return t;
}

void
templates_get_stats(struct templates *t, struct templates_stats *s)
{
	memset(s, 0, sizeof *s);
	if (t == NULL)
		return;
	s->fetches = atomic_load(&t->fetches);
	s->failures = atomic_load(&t->failures);
}

void
templates_stop(struct templates *t)
{
	if (t == NULL || t->stopped)
		return;
	pthread_mutex_lock(&t->lock);
	atomic_store(&t->stopping, 1);
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	if (t->thread != 0)
		pthread_join(t->thread, NULL);
	t->stopped = 1;
	for (struct curl_slist *h = t->headers; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(t->headers);
	t->headers = NULL;
}

void
templates_free(struct templates *t)
{
	if (t == NULL)
		return;
	templates_stop(t);
	for (size_t i = 0; i < t->nwabas; i++)
		free(t->wabas[i].id);
	free(t->wabas);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->cond);
	free(t);
}
