/*
 * The webhook sender: a due-ordered queue drained by one or more threads,
 * each with one libcurl easy handle (kept alive between posts), plus
 * one-off posts on the caller's thread. Certificate checks are always on
 * for https.
 */
#include "sim/hooks.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "core/hmac.h"
#include "core/log.h"
#include "core/xalloc.h"

struct job {
	int64_t due;
	uint64_t seq; /* ties on due go in the order queued */
	char *body;
	char *what;
	int tries;
};

struct hooks {
	char *url;
	char *cacert;
	const char *secret;
	size_t secret_len;
	struct state_stats *stats;
	pthread_t *threads;
	size_t started;
	size_t senders;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled on a new job and on stop */
	struct job **heap;   /* a min-heap by (due, seq) */
	size_t nheap, heap_cap;
	uint64_t seq;
	size_t pending;	     /* queued or being posted */
	int stopping;
	int64_t deadline; /* while stopping: when to drop what is left */
	/* The same two, read by transfers in flight without the lock. */
	atomic_int halting;
	atomic_int_fast64_t halt_at;
};

int64_t
hooks_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char tmp[64];
	size_t n = strlen(host);

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (host[0] == '[' && n > 2 && n - 2 < sizeof tmp) {
		memcpy(tmp, host + 1, n - 2);
		tmp[n - 2] = '\0';
		return inet_pton(AF_INET6, tmp, &a6) == 1 &&
		    IN6_IS_ADDR_LOOPBACK(&a6);
	}
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return 0;
}

static int
check_url(const char *url, char **cause)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = -1;

	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		*cause = xasprintf("--webhook-url '%s' is not a URL", url);
	else if (strcmp(scheme, "https") == 0)
		rc = 0;
	else if (strcmp(scheme, "http") != 0)
		*cause = xasprintf("--webhook-url '%s': only https (or http to "
		    "a loopback host) is allowed", url);
	else if (!host_is_loopback(host))
		*cause = xasprintf("--webhook-url '%s': plain http only to a "
		    "loopback host (127.0.0.1, ::1, localhost)", url);
	else
		rc = 0;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

/* Cuts a transfer short once a stop's grace period is over. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct hooks *h = arg;

	return atomic_load(&h->halting) && hooks_now_ms() >=
	    atomic_load(&h->halt_at);
}

/* One POST; returns the HTTP status or 0 with errbuf filled. */
static long
post(struct hooks *h, CURL *c, const char *body, size_t len, long timeout_ms,
    char errbuf[CURL_ERROR_SIZE])
{
	struct curl_slist *hdrs = NULL;
	char sig[72], line[128];
	long status = 0;
	CURLcode rc;

	hmac_sign(h->secret, h->secret_len, body, len, sig);
	snprintf(line, sizeof line, "X-Hub-Signature-256: %s", sig);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, line);
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, h->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "facebookexternalua");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->cacert);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    timeout_ms < 3000 ? timeout_ms : 3000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	errbuf[0] = '\0';
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else if (errbuf[0] == '\0')
		snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	return status;
}

static void
job_free(struct job *j)
{
	free(j->body);
	free(j->what);
	free(j);
}

/*
 * The queue is a binary heap: thousands of statuses a second, each due at
 * its own delay, queue and leave in O(log n) whatever the backlog. Called
 * with the lock held.
 */
static int
before(const struct job *a, const struct job *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void
enqueue(struct hooks *h, struct job *j)
{
	size_t i, parent;

	if (h->nheap == h->heap_cap) {
		h->heap_cap = h->heap_cap ? 2 * h->heap_cap : 256;
		h->heap = xrealloc(h->heap, h->heap_cap * sizeof *h->heap);
	}
	j->seq = h->seq++;
	for (i = h->nheap++; i > 0; i = parent) {
		parent = (i - 1) / 2;
		if (!before(j, h->heap[parent]))
			break;
		h->heap[i] = h->heap[parent];
	}
	h->heap[i] = j;
	pthread_cond_signal(&h->cond);
}

static struct job *
dequeue(struct hooks *h)
{
	struct job *top = h->heap[0], *last = h->heap[--h->nheap];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < h->nheap) {
		if (c + 1 < h->nheap && before(h->heap[c + 1], h->heap[c]))
			c++;
		if (!before(h->heap[c], last))
			break;
		h->heap[i] = h->heap[c];
		i = c;
	}
	if (h->nheap > 0)
		h->heap[i] = last;
	return top;
}

static void
wait_until(struct hooks *h, int64_t due)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(due / 1000);
	ts.tv_nsec = (long)(due % 1000) * 1000000L;
	pthread_cond_timedwait(&h->cond, &h->lock, &ts);
}

static void *
worker(void *arg)
{
	struct hooks *h = arg;
	char errbuf[CURL_ERROR_SIZE];
	CURL *c = curl_easy_init();
	struct job *j;
	int64_t now, backoff;
	long status, timeout;

	if (c == NULL) {
		log_error("webhooks: cannot create a curl handle");
		return NULL;
	}
	pthread_mutex_lock(&h->lock);
	for (;;) {
		now = hooks_now_ms();
		if (h->stopping && (h->nheap == 0 || now >= h->deadline))
			break;
		if (h->nheap == 0) {
			pthread_cond_wait(&h->cond, &h->lock);
			continue;
		}
		if (!h->stopping && h->heap[0]->due > now) {
			wait_until(h, h->heap[0]->due);
			continue;
		}
		j = dequeue(h);
		timeout = 10000;
		if (h->stopping && h->deadline - now < timeout)
			timeout = h->deadline - now > 1 ? (long)(h->deadline -
			    now) : 1;
		pthread_mutex_unlock(&h->lock);

		status = post(h, c, j->body, strlen(j->body), timeout, errbuf);
		j->tries++;
		pthread_mutex_lock(&h->lock);
		if (status == 200) {
			atomic_fetch_add(&h->stats->webhooks_posted, 1);
			log_debug("webhook %s: posted (try %d)", j->what,
			    j->tries);
			job_free(j);
			h->pending--;
			continue;
		}
		atomic_fetch_add(&h->stats->webhooks_failed, 1);
		if (j->tries >= HOOKS_MAX_TRIES || h->stopping) {
			atomic_fetch_add(&h->stats->webhooks_dropped, 1);
			if (status != 0)
				log_warn("webhook %s: HTTP %ld on try %d; giving "
				    "up", j->what, status, j->tries);
			else
				log_warn("webhook %s: %s on try %d; giving up",
				    j->what, errbuf, j->tries);
			job_free(j);
			h->pending--;
			continue;
		}
		backoff = 250LL << (j->tries - 1);
		if (backoff > 8000)
			backoff = 8000;
		if (status != 0)
			log_warn("webhook %s: HTTP %ld on try %d; retrying in "
			    "%lld ms", j->what, status, j->tries,
			    (long long)backoff);
		else
			log_warn("webhook %s: %s on try %d; retrying in %lld "
			    "ms", j->what, errbuf, j->tries, (long long)backoff);
		j->due = hooks_now_ms() + backoff;
		enqueue(h, j);
	}
	/* Past the grace period: drop what is left. */
	if (h->nheap > 0) {
		size_t n = h->nheap;

		while (h->nheap > 0)
			job_free(h->heap[--h->nheap]);
		h->pending -= n;
		atomic_fetch_add(&h->stats->webhooks_dropped, n);
		log_warn("stopping: dropped %zu webhook(s) not yet posted", n);
	}
	pthread_mutex_unlock(&h->lock);
	curl_easy_cleanup(c);
	return NULL;
}

int
hooks_start(struct hooks **out, const struct hooks_options *o, char **cause)
{
	struct hooks *h;
	pthread_condattr_t ca;

	if (o->url != NULL && check_url(o->url, cause) != 0)
		return -1;
	h = xcalloc(1, sizeof *h);
	h->url = o->url ? xstrdup(o->url) : NULL;
	h->cacert = o->cacert ? xstrdup(o->cacert) : NULL;
	h->secret = o->secret;
	h->secret_len = o->secret_len;
	h->stats = o->stats;
	h->senders = o->senders > 0 ? o->senders : 1;
	h->threads = xcalloc(h->senders, sizeof *h->threads);
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cond, &ca);
	pthread_condattr_destroy(&ca);
	for (size_t i = 0; h->url != NULL && i < h->senders; i++) {
		int rc = pthread_create(&h->threads[i], NULL, worker, h);

		if (rc != 0) {
			*cause = xasprintf("cannot start the webhook thread: %s",
			    strerror(rc));
			hooks_free(h);
			return -1;
		}
		h->started++;
	}
	*out = h;
	return 0;
}

void
hooks_schedule(struct hooks *h, int64_t due_ms, char *body, const char *what)
{
	struct job *j;

	if (h->url == NULL) {
		log_debug("webhook %s: not posted (no --webhook-url)", what);
		atomic_fetch_add(&h->stats->webhooks_dropped, 1);
		free(body);
		return;
	}
	j = xcalloc(1, sizeof *j);
	j->due = due_ms;
	j->body = body;
	j->what = xstrdup(what);
	pthread_mutex_lock(&h->lock);
	if (h->stopping) {
		pthread_mutex_unlock(&h->lock);
		atomic_fetch_add(&h->stats->webhooks_dropped, 1);
		job_free(j);
		return;
	}
	h->pending++;
	enqueue(h, j);
	pthread_mutex_unlock(&h->lock);
}

long
hooks_post_now(struct hooks *h, const char *body, size_t len, char **cause)
{
	char errbuf[CURL_ERROR_SIZE];
	CURL *c;
	long status;

	if (h->url == NULL) {
		*cause = xstrdup("no --webhook-url is configured");
		return 0;
	}
	if ((c = curl_easy_init()) == NULL) {
		*cause = xstrdup("cannot create a curl handle");
		return 0;
	}
	status = post(h, c, body, len, 10000, errbuf);
	curl_easy_cleanup(c);
	if (status == 200)
		atomic_fetch_add(&h->stats->webhooks_posted, 1);
	else
		atomic_fetch_add(&h->stats->webhooks_failed, 1);
	if (status == 0)
		*cause = xstrdup(errbuf);
	return status;
}

size_t
hooks_pending(struct hooks *h)
{
	size_t n;

	pthread_mutex_lock(&h->lock);
	n = h->pending;
	pthread_mutex_unlock(&h->lock);
	return n;
}

void
hooks_stop(struct hooks *h, long grace_ms)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	if (!h->stopping) {
		h->stopping = 1;
		h->deadline = hooks_now_ms() + grace_ms;
		atomic_store(&h->halt_at, h->deadline);
		atomic_store(&h->halting, 1);
	}
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	while (h->started > 0)
		pthread_join(h->threads[--h->started], NULL);
}

void
hooks_free(struct hooks *h)
{
	if (h == NULL)
		return;
	hooks_stop(h, 0);
	while (h->nheap > 0)
		job_free(h->heap[--h->nheap]);
	free(h->heap);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h->threads);
	free(h->url);
	free(h->cacert);
	free(h);
}
