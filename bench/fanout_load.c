/* fanout_load: event stream fan-out benchmark for glivi-relay.
 *
 * Opens N Server-Sent Event streams (GET /api/v1/events, HTTP/1.1, one
 * connection each) in one curl multi handle, waits until every stream has
 * replayed the store up to its head, then POSTs M HMAC-signed webhooks, each
 * a new customer text message with a unique wamid and the current time, and
 * records, per webhook, when its POST started, when its 200 came back and
 * when each stream read the change event of that message (matched on the
 * wamid inside the event's data).
 *
 * One thread, so the client takes as little as it can of a small machine's
 * cores from the relay. libcurl is driven socket by socket
 * (curl_multi_socket_action over epoll) and the webhook connections are
 * served first in every round: a POST's 200 is timed when its socket is
 * read, not after the streams that were ready at the same moment, and each
 * stream's event is timed when that stream's socket is read. Exits non-zero
 * when any stream missed any message, a POST failed or a stream ended
 * early. */

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "bench_common.h"

#define MAX_STREAMS 4000L
#define MAX_WEBHOOKS 1000000L
#define MAX_POSTERS 64L
#define MAX_BODY_BYTES (1024L * 1024)
#define MAX_SECRET_BYTES (64L * 1024 - 1) /* in a secret or token file */
#define MAX_LINE_BYTES (8L * 1024 * 1024) /* one SSE line, at most */
#define MAX_PAGES 1000000L
#define MAX_ERRORS_SHOWN 8
#define MAX_EVENTS 1024 /* epoll events per round */
#define POSTER_TAG (1ULL << 32) /* epoll data: a webhook connection */

const char bench_prog[] = "fanout_load";

struct options {
	const char *url; /* base: https://host:port */
	const char *secret_file;
	const char *token_file;
	const char *cacert;
	const char *number_id;
	const char *customer;
	const char *prefix;
	long streams;
	long webhooks;
	long posters;
	double rate; /* webhooks per second; 0: one at a time */
	long body_bytes;
	long connect_ms;
	long drain_ms;
};

struct run;

struct stream {
	struct run *r;
	long index;
	CURL *easy;
	struct curl_slist *headers;
	char *line; /* the line being read (no newline yet) */
	size_t line_len, line_cap;
	char *data; /* data: lines of the event being read */
	size_t data_len, data_cap;
	char event[32];
	int status_checked;
	int connected; /* 200 and text/event-stream */
	int replayed;  /* saw a change with seq >= head */
	int ended;     /* the transfer finished (it should not) */
	long long last_seq;
	long changes;  /* change events read */
	long messages; /* message events of this run's webhooks */
	long dups;
	char errbuf[CURL_ERROR_SIZE];
};

/* A webhook connection: one request at a time, kept alive. */
struct poster {
	CURL *easy;
	struct curl_slist *headers;
	struct bench_buf body;
	long index; /* webhook in flight, -1 idle, -2 the warm-up GET */
	char errbuf[CURL_ERROR_SIZE];
};

struct run {
	const struct options *opt;
	const unsigned char *secret;
	int secret_len;
	char auth[400];
	struct timespec t0;
	CURLM *multi;
	int epfd;
	double timer_at; /* ms since t0 when libcurl wants a timeout; -1 none */
	struct stream *streams;
	struct poster *posters;
	long long head;
	long next;     /* next webhook to post */
	long busy;     /* posters in flight */
	long post_ok;  /* 200 answers */
	long post_bad; /* other answers, transport errors */
	long matched;  /* (webhook, stream) pairs delivered */
	long changes;  /* change events read after the replay */
	long ended;    /* streams that ended */
	long errors_shown;
	int measuring;        /* the replay is over */
	double *post_start;   /* per webhook, ms since t0; -1 not sent */
	double *post_done;    /* per webhook, ms since t0; -1 no 200 */
	double *deliv;        /* webhooks x streams, ms since t0; -1 missing */
	long *deliv_count;    /* per webhook, streams that got it */
	double last_delivery; /* ms since t0 */
	double posting_from;  /* ms since t0; webhook w is due w / rate later */
};

static void
usage(FILE *f, const char *argv0)
{
	fprintf(f,
	        "usage: %s --url https://HOST:PORT --secret-file PATH "
	        "--token-file PATH [options]\n"
	        "  --cacert PATH        CA bundle for TLS verification (always "
	        "on)\n"
	        "  --streams N          concurrent event streams (default 100)\n"
	        "  --webhooks M         webhooks to post (default 200)\n"
	        "  --rate R             webhooks per second (default 0: the "
	        "next is posted\n"
	        "                       when every stream has the previous "
	        "one)\n"
	        "  --posters P          concurrent webhook connections in "
	        "--rate mode\n"
	        "                       (default 16)\n"
	        "  --number-id ID       metadata.phone_number_id (default "
	        "106540352242922)\n"
	        "  --customer WA_ID     the customer who writes (default "
	        "15550000000)\n"
	        "  --prefix STR         wamid prefix (default "
	        "wamid.FANOUT-<pid>-)\n"
	        "  --body-bytes B       approximate webhook size (default "
	        "1500)\n"
	        "  --connect-ms T       time allowed for every stream to "
	        "connect and replay\n"
	        "                       (default 30000)\n"
	        "  --drain-ms T         time allowed for a webhook's events to "
	        "arrive\n"
	        "                       (default 10000)\n",
	        argv0);
}

static double
now_ms(const struct run *r)
{
	return bench_ms_since(&r->t0);
}

static void
show_error(struct run *r, const char *what, long index, const char *detail,
           const char *detail2)
{
	if (r->errors_shown++ < MAX_ERRORS_SHOWN)
		fprintf(stderr, "fanout_load: %s %ld: %s%s%s\n", what, index,
		        detail, detail2[0] ? ": " : "", detail2);
}

/* ------------------------------------------------------------------ */
/* Server-Sent Events                                                  */

/* Reads "seq" and, for a message of this run, the webhook index from a
 * change event's data: {"kind":"message","id":N,"seq":S,...,"data":{...,
 * "wamid":"..."}}. A string scan, not a JSON parse: the client's own cost
 * must stay out of the latencies it measures. The first "wamid":" is the
 * entity's field (JSON escapes any quote inside a text). */
static void
on_change(struct stream *s, const char *data, double t)
{
	struct run *r = s->r;
	const char *p = strstr(data, "\"seq\":");
	long long seq = p ? strtoll(p + 6, NULL, 10) : -1;

	s->changes++;
	if (r->measuring)
		r->changes++;
	if (seq > s->last_seq)
		s->last_seq = seq;
	if (!s->replayed && seq >= r->head)
		s->replayed = 1;
	if (strncmp(data, "{\"kind\":\"message\",", 18) != 0)
		return;
	p = strstr(data, "\"wamid\":\"");
	if (!p)
		return;
	p += 9;
	size_t plen = strlen(r->opt->prefix);
	if (strncmp(p, r->opt->prefix, plen) != 0)
		return;
	char *end = NULL;
	errno = 0;
	long w = strtol(p + plen, &end, 10);
	if (errno != 0 || end == p + plen || *end != '"' || w < 0 ||
	    w >= r->opt->webhooks)
		return;
	double *slot = &r->deliv[w * r->opt->streams + s->index];
	if (*slot >= 0) {
		s->dups++;
		return;
	}
	*slot = t;
	s->messages++;
	r->matched++;
	r->deliv_count[w]++;
	if (t > r->last_delivery)
		r->last_delivery = t;
}

static int
sse_line(struct stream *s, char *line, size_t len, double t)
{
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len == 0) { /* dispatch */
		if (s->data_len > 0) {
			s->data[--s->data_len] = '\0'; /* the last newline */
			if (s->event[0] == '\0' ||
			    strcmp(s->event, "change") == 0)
				on_change(s, s->data, t);
		}
		s->data_len = 0;
		s->event[0] = '\0';
		return 0;
	}
	if (line[0] == ':')
		return 0; /* a comment: the banner or a ping */
	char *colon = memchr(line, ':', len);
	size_t flen = colon ? (size_t)(colon - line) : len;
	const char *value = colon ? colon + 1 : "";
	if (*value == ' ')
		value++;
	size_t vlen = strlen(value);
	if (flen == 4 && strncmp(line, "data", 4) == 0) {
		if (bench_grow(&s->data, &s->data_cap,
		               s->data_len + vlen + 2) != 0)
			return -1;
		memcpy(s->data + s->data_len, value, vlen);
		s->data_len += vlen;
		s->data[s->data_len++] = '\n';
		s->data[s->data_len] = '\0';
	} else if (flen == 5 && strncmp(line, "event", 5) == 0) {
		snprintf(s->event, sizeof s->event, "%s", value);
	}
	return 0; /* id:, retry: and unknown fields need nothing here */
}

static size_t
stream_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct stream *s = userdata;
	size_t n = size * nmemb;
	double t = now_ms(s->r);

	if (!s->status_checked) {
		long status = 0;
		char *ct = NULL;
		s->status_checked = 1;
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &ct);
		if (status != 200 || !ct ||
		    strncmp(ct, "text/event-stream", 17) != 0) {
			fprintf(stderr,
			        "fanout_load: stream %ld: HTTP %ld, "
			        "Content-Type %s\n",
			        s->index, status, ct ? ct : "(none)");
			return 0;
		}
		s->connected = 1;
	}
	while (n > 0) {
		char *nl = memchr(ptr, '\n', n);
		size_t take = nl ? (size_t)(nl - ptr) : n;
		if (s->line_len + take > (size_t)MAX_LINE_BYTES ||
		    bench_grow(&s->line, &s->line_cap,
		               s->line_len + take + 1) != 0) {
			fprintf(stderr,
			        "fanout_load: stream %ld: line too long or out "
			        "of memory\n",
			        s->index);
			return 0;
		}
		memcpy(s->line + s->line_len, ptr, take);
		s->line_len += take;
		s->line[s->line_len] = '\0';
		if (!nl)
			break;
		if (sse_line(s, s->line, s->line_len, t) != 0)
			return 0;
		s->line_len = 0;
		ptr += take + 1;
		n -= take + 1;
	}
	return size * nmemb;
}

/* ------------------------------------------------------------------ */
/* curl handles                                                        */

static CURLcode
common_opts(const struct options *o, CURL *e, char *errbuf)
{
	CURLcode c =
	    bench_curl_opts(e, o->cacert, errbuf, "glivi-fanout-load/1");
	BENCH_SETOPT(c, e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	return c;
}

static int
setup_stream(struct run *r, struct stream *s, long i)
{
	const struct options *o = r->opt;
	char url[1024];
	CURLcode c;

	s->r = r;
	s->index = i;
	s->last_seq = -1;
	snprintf(url, sizeof url, "%s/api/v1/events", o->url);
	s->easy = curl_easy_init();
	if (!s->easy)
		return -1;
	s->headers = curl_slist_append(NULL, r->auth);
	if (!s->headers ||
	    !curl_slist_append(s->headers, "Accept: text/event-stream"))
		return -1;
	c = common_opts(o, s->easy, s->errbuf);
	BENCH_SETOPT(c, s->easy, CURLOPT_URL, url);
	BENCH_SETOPT(c, s->easy, CURLOPT_HTTPHEADER, s->headers);
	BENCH_SETOPT(c, s->easy, CURLOPT_WRITEFUNCTION, stream_cb);
	BENCH_SETOPT(c, s->easy, CURLOPT_WRITEDATA, (void *)s);
	BENCH_SETOPT(c, s->easy, CURLOPT_PRIVATE, (void *)s);
	if (bench_setopt_result(c) != 0)
		return -1;
	CURLMcode m = curl_multi_add_handle(r->multi, s->easy);
	if (m != CURLM_OK) {
		fprintf(stderr, "fanout_load: curl_multi_add_handle: %s\n",
		        curl_multi_strerror(m));
		return -1;
	}
	return 0;
}

static int
setup_poster(struct run *r, struct poster *p)
{
	CURLcode c;
	p->index = -1;
	p->easy = curl_easy_init();
	if (!p->easy)
		return -1;
	c = common_opts(r->opt, p->easy, p->errbuf);
	BENCH_SETOPT(c, p->easy, CURLOPT_TIMEOUT_MS, 30000L);
	BENCH_SETOPT(c, p->easy, CURLOPT_WRITEFUNCTION, bench_discard_cb);
	BENCH_SETOPT(c, p->easy, CURLOPT_PRIVATE, (void *)p);
	return bench_setopt_result(c);
}

/* A GET /healthz on each webhook connection, so the first webhook does not
 * pay for a TLS handshake. */
static int
start_warmup(struct run *r, struct poster *p)
{
	char url[1024];
	CURLcode c = CURLE_OK;
	snprintf(url, sizeof url, "%s/healthz", r->opt->url);
	BENCH_SETOPT(c, p->easy, CURLOPT_URL, url);
	BENCH_SETOPT(c, p->easy, CURLOPT_HTTPGET, 1L);
	if (c != CURLE_OK)
		return -1;
	p->index = -2;
	r->busy++;
	return curl_multi_add_handle(r->multi, p->easy) == CURLM_OK ? 0 : -1;
}

/* The webhook of message w: a text from the customer, stamped now. */
static int
build_body(const struct run *r, struct poster *p, long w)
{
	const struct options *o = r->opt;
	char text[48];
	snprintf(text, sizeof text, "fan-out message %ld", w);
	const struct bench_webhook wh = {
	    .number_id = o->number_id,
	    .name = "Load Customer 0",
	    .wa_id = o->customer,
	    .prefix = o->prefix,
	    .index = w,
	    .text = text,
	    .body_bytes = o->body_bytes,
	};
	return bench_webhook_body(&p->body, &wh);
}

/* Starts webhook w on poster p. Returns 0 or -1 on a local failure. */
static int
start_post(struct run *r, struct poster *p, long w)
{
	char url[1024];
	CURLcode c = CURLE_OK;

	if (build_body(r, p, w) != 0)
		return -1;
	snprintf(url, sizeof url, "%s/webhook", r->opt->url);
	BENCH_SETOPT(c, p->easy, CURLOPT_URL, url);
	BENCH_SETOPT(c, p->easy, CURLOPT_POST, 1L);
	if (bench_setopt_result(c) != 0)
		return -1;
	if (bench_sign_post(p->easy, r->secret, r->secret_len, &p->body,
	                    &p->headers) != 0)
		return -1;
	p->index = w;
	r->post_start[w] = now_ms(r);
	CURLMcode m = curl_multi_add_handle(r->multi, p->easy);
	if (m != CURLM_OK) {
		fprintf(stderr, "fanout_load: curl_multi_add_handle: %s\n",
		        curl_multi_strerror(m));
		p->index = -1;
		return -1;
	}
	r->busy++;
	/* Send it now rather than at the next round. */
	int running = 0;
	m = curl_multi_socket_action(r->multi, CURL_SOCKET_TIMEOUT, 0,
	                             &running);
	return m == CURLM_OK ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */

static void
finish_poster(struct run *r, struct poster *p, CURLcode result, double t)
{
	long status = 0;

	curl_multi_remove_handle(r->multi, p->easy);
	r->busy--;
	if (result == CURLE_OK)
		curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200 && p->index >= 0)
		r->post_done[p->index] = t;
	if (status == 200)
		r->post_ok += p->index >= 0;
	else {
		r->post_bad++;
		show_error(r, p->index == -2 ? "warm-up GET" : "webhook",
		           p->index,
		           result != CURLE_OK ? curl_easy_strerror(result)
		                              : "HTTP status not 200",
		           result != CURLE_OK ? p->errbuf : "");
	}
	p->index = -1;
}

/* Handles finished transfers, timed t. */
static void
reap(struct run *r, double t)
{
	CURLMsg *msg;
	int left = 0;
	while ((msg = curl_multi_info_read(r->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		char *priv = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		for (long i = 0; i < r->opt->posters; i++)
			if ((char *)(void *)&r->posters[i] == priv) {
				finish_poster(r, &r->posters[i], result, t);
				priv = NULL;
				break;
			}
		if (!priv)
			continue;
		struct stream *s = (struct stream *)(void *)priv;
		curl_multi_remove_handle(r->multi, easy);
		s->ended = 1;
		r->ended++;
		show_error(r, "stream ended:", s->index,
		           curl_easy_strerror(result), s->errbuf);
	}
}

/* libcurl tells which sockets to watch; webhook connections are tagged so
 * a round serves them first. */
static int
socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct run *r = userp;
	struct epoll_event ev = {0};
	char *priv = NULL;
	(void)socketp;

	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	int poster = 0;
	for (long i = 0; i < r->opt->posters; i++)
		poster |= (char *)(void *)&r->posters[i] == priv;
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) |
	            (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
	ev.data.u64 = (uint64_t)(unsigned)fd | (poster ? POSTER_TAG : 0);
	if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, fd, &ev) != 0 &&
	    (errno != ENOENT || epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) != 0))
		fprintf(stderr, "fanout_load: epoll_ctl: %s\n", strerror(errno));
	return 0;
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct run *r = userp;
	(void)multi;
	r->timer_at = timeout_ms < 0 ? -1 : now_ms(r) + (double)timeout_ms;
	return 0;
}

/* One round: wait at most wait_ms for a socket or libcurl's timer, serve
 * the webhook connections, then the streams, so the caller checks its
 * condition right after. Returns 0 or -1 on a fatal error. */
static int
step(struct run *r, int wait_ms)
{
	struct epoll_event evs[MAX_EVENTS];
	int running = 0, n;
	double t = now_ms(r);

	if (r->timer_at >= 0 && r->timer_at - t < wait_ms)
		wait_ms = r->timer_at <= t ? 0 : (int)ceil(r->timer_at - t);
	n = epoll_wait(r->epfd, evs, MAX_EVENTS, wait_ms);
	if (n < 0 && errno != EINTR) {
		fprintf(stderr, "fanout_load: epoll_wait: %s\n",
		        strerror(errno));
		return -1;
	}
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++) {
			int poster = (evs[i].data.u64 & POSTER_TAG) != 0;
			if (poster != (pass == 0))
				continue;
			int mask = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN
			                                    : 0) |
			           (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT
			                                     : 0) |
			           (evs[i].events & (EPOLLERR | EPOLLHUP)
			                ? CURL_CSELECT_ERR
			                : 0);
			curl_socket_t fd =
			    (curl_socket_t)(evs[i].data.u64 & 0xffffffffu);
			CURLMcode m = curl_multi_socket_action(r->multi, fd,
			                                       mask, &running);
			if (m != CURLM_OK) {
				fprintf(stderr,
				        "fanout_load: curl_multi_socket_action: "
				        "%s\n",
				        curl_multi_strerror(m));
				return -1;
			}
			if (poster)
				reap(r, now_ms(r));
		}
	if (r->timer_at >= 0 && now_ms(r) >= r->timer_at) {
		r->timer_at = -1;
		CURLMcode m = curl_multi_socket_action(
		    r->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		if (m != CURLM_OK) {
			fprintf(stderr,
			        "fanout_load: curl_multi_socket_action: %s\n",
			        curl_multi_strerror(m));
			return -1;
		}
	}
	reap(r, now_ms(r));
	return 0;
}

static long
count_replayed(const struct run *r)
{
	long n = 0;
	for (long i = 0; i < r->opt->streams; i++)
		n += r->streams[i].replayed && !r->streams[i].ended;
	return n;
}

static struct poster *
idle_poster(struct run *r)
{
	for (long i = 0; i < r->opt->posters; i++)
		if (r->posters[i].index == -1)
			return &r->posters[i];
	return NULL;
}

/* Posts every webhook. With no rate, webhook w+1 starts once w has its 200
 * and every stream has read it (or drain_ms passed): the latency of one
 * message in isolation. With a rate, webhook w starts at w / rate seconds
 * (later when every poster is busy), whatever is still in flight. */
static int
post_all(struct run *r)
{
	const struct options *o = r->opt;
	long n = o->streams;

	r->posting_from = now_ms(r);
	while (r->next < o->webhooks && r->ended == 0) {
		double t = now_ms(r);
		if (o->rate == 0) {
			long w = r->next++;
			if (start_post(r, &r->posters[0], w) != 0)
				return -1;
			double deadline = now_ms(r) + (double)o->drain_ms;
			while ((r->busy > 0 || r->deliv_count[w] < n) &&
			       r->ended == 0 && now_ms(r) < deadline)
				if (step(r, 100) != 0)
					return -1;
			continue;
		}
		double due = r->posting_from + (double)r->next * 1000.0 / o->rate;
		struct poster *p;
		if (t >= due && (p = idle_poster(r)) != NULL) {
			if (start_post(r, p, r->next++) != 0)
				return -1;
			continue;
		}
		int wait = t >= due ? 100 : (int)ceil(due - t);
		if (step(r, wait > 100 ? 100 : wait) != 0)
			return -1;
	}
	/* Let the last ones arrive. */
	double deadline = now_ms(r) + (double)o->drain_ms;
	while ((r->busy > 0 || r->matched < n * o->webhooks) &&
	       r->ended == 0 && now_ms(r) < deadline)
		if (step(r, 100) != 0)
			return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The head of the store, from /api/v1/sync pages                      */

static int
sync_head(struct run *r, long long *head)
{
	const struct options *o = r->opt;
	struct bench_api a = {0};
	char url[1200], cursor[128] = "";
	int rc = -1, more = 1;
	long pages = 0;

	if (bench_api_open(&a, r->auth, o->cacert, "glivi-fanout-load/1") !=
	        0 ||
	    curl_easy_setopt(a.e, CURLOPT_CONNECTTIMEOUT_MS, 10000L) !=
	        CURLE_OK)
		goto out;
	while (more && pages++ < MAX_PAGES) {
		snprintf(url, sizeof url, "%s/api/v1/sync?limit=1000%s%s",
		         o->url, cursor[0] ? "&since=" : "", cursor);
		long status = bench_api_get(&a, url);
		if (status < 0)
			goto out;
		cJSON *page = a.body.p ? cJSON_Parse(a.body.p) : NULL;
		const cJSON *ev =
		    cJSON_GetObjectItemCaseSensitive(page, "events");
		const cJSON *cur =
		    cJSON_GetObjectItemCaseSensitive(page, "cursor");
		const cJSON *mo = cJSON_GetObjectItemCaseSensitive(page, "more");
		if (status != 200 || !cJSON_IsArray(ev) ||
		    !cJSON_IsString(cur) || !cJSON_IsBool(mo) ||
		    strlen(cur->valuestring) >= sizeof cursor ||
		    bench_json_safe("cursor", cur->valuestring) != 0) {
			fprintf(stderr,
			        "fanout_load: GET %s: HTTP %ld, not a sync "
			        "page\n",
			        url, status);
			cJSON_Delete(page);
			goto out;
		}
		snprintf(cursor, sizeof cursor, "%s", cur->valuestring);
		more = cJSON_IsTrue(mo);
		cJSON_Delete(page);
	}
	const char *dot = strrchr(cursor, '.');
	if (more || !dot) {
		fprintf(stderr, "fanout_load: no final sync cursor\n");
		goto out;
	}
	*head = strtoll(dot + 1, NULL, 10);
	rc = 0;
out:
	bench_api_close(&a);
	return rc;
}

/* ------------------------------------------------------------------ */

static int
parse_args(int argc, char **argv, struct options *o, char *default_prefix,
           size_t dp_size)
{
	static const struct option longopts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"secret-file", required_argument, NULL, 's'},
	    {"token-file", required_argument, NULL, 'T'},
	    {"cacert", required_argument, NULL, 'a'},
	    {"streams", required_argument, NULL, 'n'},
	    {"webhooks", required_argument, NULL, 'm'},
	    {"rate", required_argument, NULL, 'r'},
	    {"posters", required_argument, NULL, 'P'},
	    {"number-id", required_argument, NULL, 'i'},
	    {"customer", required_argument, NULL, 'k'},
	    {"prefix", required_argument, NULL, 'p'},
	    {"body-bytes", required_argument, NULL, 'b'},
	    {"connect-ms", required_argument, NULL, 'c'},
	    {"drain-ms", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	snprintf(default_prefix, dp_size, "wamid.FANOUT-%ld-", (long)getpid());
	*o = (struct options){
	    .number_id = "106540352242922",
	    .customer = "15550000000",
	    .prefix = default_prefix,
	    .streams = 100,
	    .webhooks = 200,
	    .posters = 16,
	    .body_bytes = 1500,
	    .connect_ms = 30000,
	    .drain_ms = 10000,
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int rc = 0;
		char *end = NULL;
		switch (ch) {
		case 'u':
			o->url = optarg;
			break;
		case 's':
			o->secret_file = optarg;
			break;
		case 'T':
			o->token_file = optarg;
			break;
		case 'a':
			o->cacert = optarg;
			break;
		case 'n':
			rc = bench_parse_long("streams", optarg, 1, MAX_STREAMS,
			                      &o->streams);
			break;
		case 'm':
			rc = bench_parse_long("webhooks", optarg, 1,
			                      MAX_WEBHOOKS, &o->webhooks);
			break;
		case 'r':
			errno = 0;
			o->rate = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(o->rate >= 0 && o->rate <= 100000)) {
				fprintf(stderr, "fanout_load: --rate must be a "
				                "number in [0, 100000]\n");
				rc = -1;
			}
			break;
		case 'P':
			rc = bench_parse_long("posters", optarg, 1, MAX_POSTERS,
			                      &o->posters);
			break;
		case 'i':
			o->number_id = optarg;
			break;
		case 'k':
			o->customer = optarg;
			break;
		case 'p':
			o->prefix = optarg;
			break;
		case 'b':
			rc = bench_parse_long("body-bytes", optarg, 0,
			                      MAX_BODY_BYTES, &o->body_bytes);
			break;
		case 'c':
			rc =
			    bench_parse_long("connect-ms", optarg, 1,
			                     24L * 3600 * 1000, &o->connect_ms);
			break;
		case 'd':
			rc = bench_parse_long("drain-ms", optarg, 1,
			                      24L * 3600 * 1000, &o->drain_ms);
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		default:
			usage(stderr, argv[0]);
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	if (bench_no_more_args(argc, argv) != 0)
		return -1;
	if (!o->url || !o->secret_file || !o->token_file) {
		fprintf(stderr, "fanout_load: --url, --secret-file and "
		                "--token-file are required\n");
		return -1;
	}
	if (!bench_http_url(o->url)) {
		fprintf(stderr, "fanout_load: --url must start with https:// "
		                "or http://\n");
		return -1;
	}
	if (strlen(o->url) > 900) {
		fprintf(stderr, "fanout_load: --url is too long\n");
		return -1;
	}
	if (o->number_id[0] == '\0' || o->customer[0] == '\0' ||
	    bench_json_safe("number-id", o->number_id) != 0 ||
	    bench_json_safe("customer", o->customer) != 0 ||
	    bench_json_safe("prefix", o->prefix) != 0)
		return -1;
	if (strlen(o->prefix) > 200) {
		fprintf(stderr, "fanout_load: --prefix is too long\n");
		return -1;
	}
	if (o->rate == 0)
		o->posters = 1;
	if (o->posters > o->webhooks)
		o->posters = o->webhooks;
	return 0;
}

static void
report(struct run *r, double t_connect)
{
	const struct options *o = r->opt;
	long n = o->streams, m = o->webhooks, k = 0;
	double *lat = malloc((size_t)(n * m) * sizeof *lat);
	double *post_lat = malloc((size_t)m * sizeof *post_lat);
	double *all = malloc((size_t)m * sizeof *all);
	double *first = malloc((size_t)m * sizeof *first);
	long np = 0, na = 0, nf = 0;

	if (!lat || !post_lat || !all || !first) {
		fprintf(stderr, "fanout_load: out of memory\n");
		free(lat);
		free(post_lat);
		free(all);
		free(first);
		return;
	}
	for (long w = 0; w < m; w++) {
		double last = -1, earliest = -1;
		for (long s = 0; s < n; s++) {
			double t = r->deliv[w * n + s];
			if (t >= 0 && r->post_start[w] >= 0) {
				lat[k++] = t - r->post_start[w];
				if (t > last)
					last = t;
				if (earliest < 0 || t < earliest)
					earliest = t;
			}
		}
		if (earliest >= 0)
			first[nf++] = earliest - r->post_start[w];
		if (r->deliv_count[w] == n && r->post_start[w] >= 0)
			all[na++] = last - r->post_start[w];
		if (r->post_done[w] >= 0)
			post_lat[np++] = r->post_done[w] - r->post_start[w];
	}
	bench_sort(lat, k);
	bench_sort(post_lat, np);
	bench_sort(all, na);
	bench_sort(first, nf);
	double secs = (r->last_delivery - r->posting_from) / 1000.0;
	long dups = 0;
	for (long s = 0; s < n; s++)
		dups += r->streams[s].dups;

	printf("streams=%ld connected_and_replayed_in_ms=%.0f webhooks=%ld "
	       "mode=%s body_bytes=%ld\n",
	       n, t_connect, m, o->rate == 0 ? "one-at-a-time" : "fixed-rate",
	       o->body_bytes);
	if (o->rate > 0) {
		/* A post starts late when its poster is still busy with an
		 * earlier one: the relay is not keeping up (or --posters is
		 * too low for its latency). */
		long late = 0;
		double worst = 0;
		for (long w = 0; w < m; w++) {
			if (r->post_start[w] < 0)
				continue;
			double d = r->post_start[w] - r->posting_from -
			           (double)w * 1000.0 / o->rate;
			late += d > 5.0;
			if (d > worst)
				worst = d;
		}
		double span = m > 1 && r->post_start[m - 1] >= 0
		                  ? r->post_start[m - 1] - r->post_start[0]
		                  : 0;
		printf("rate=%.1f/s posters=%ld achieved=%.1f/s "
		       "posts_started_over_5ms_late=%ld (worst %.0f ms)\n",
		       o->rate, o->posters,
		       span > 0 ? (double)(m - 1) * 1000.0 / span : 0.0, late,
		       worst);
	}
	printf("webhook POST -> 200 (baseline): ok=%ld failed=%ld "
	       "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
	       r->post_ok, r->post_bad, bench_percentile(post_lat, np, 0.50),
	       bench_percentile(post_lat, np, 0.99),
	       bench_percentile(post_lat, np, 1.0));
	printf("POST start -> event read, per stream per webhook: "
	       "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
	       bench_percentile(lat, k, 0.50), bench_percentile(lat, k, 0.90),
	       bench_percentile(lat, k, 0.99), bench_percentile(lat, k, 1.0));
	printf("POST start -> read by the first stream: p50_ms=%.2f "
	       "p99_ms=%.2f max_ms=%.2f\n",
	       bench_percentile(first, nf, 0.50),
	       bench_percentile(first, nf, 0.99),
	       bench_percentile(first, nf, 1.0));
	printf("POST start -> read by all %ld streams: p50_ms=%.2f "
	       "p99_ms=%.2f max_ms=%.2f\n",
	       n, bench_percentile(all, na, 0.50),
	       bench_percentile(all, na, 0.99), bench_percentile(all, na, 1.0));
	printf("message events delivered=%ld of %ld (missing=%ld "
	       "duplicates=%ld) change events read=%ld seconds=%.3f "
	       "events_per_s=%.0f\n",
	       r->matched, n * m, n * m - r->matched, dups, r->changes, secs,
	       secs > 0 ? (double)r->matched / secs : 0.0);
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		printf("client CPU (this program, whole run): %.2f s\n",
		       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) /
		               1e6);
	free(lat);
	free(post_lat);
	free(all);
	free(first);
}

int
main(int argc, char **argv)
{
	struct options opt;
	char default_prefix[64];
	if (parse_args(argc, argv, &opt, default_prefix,
	               sizeof default_prefix) != 0)
		return 2;

	unsigned char *secret = NULL, *token = NULL;
	int secret_len = bench_read_secret("secret file", opt.secret_file,
	                                   MAX_SECRET_BYTES, &secret);
	if (secret_len < 0)
		return 2;
	int token_len = bench_read_secret("token file", opt.token_file,
	                                  MAX_SECRET_BYTES, &token);
	if (token_len < 0 || token_len > 256 ||
	    bench_json_safe("token-file", (const char *)token) != 0) {
		bench_free_secret(secret, secret_len);
		bench_free_secret(token, token_len);
		return 2;
	}

	signal(SIGPIPE, SIG_IGN);
	int exit_code = 1;
	long n = opt.streams, m = opt.webhooks;
	struct run r = {.opt = &opt,
	                .secret = secret,
	                .secret_len = secret_len,
	                .epfd = -1,
	                .timer_at = -1};
	snprintf(r.auth, sizeof r.auth, "Authorization: Bearer %s",
	         (const char *)token);
	clock_gettime(CLOCK_MONOTONIC, &r.t0);

	CURLcode gc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (gc != CURLE_OK) {
		fprintf(stderr, "fanout_load: curl_global_init: %s\n",
		        curl_easy_strerror(gc));
		goto out_nocurl;
	}
	r.streams = calloc((size_t)n, sizeof *r.streams);
	r.posters = calloc((size_t)opt.posters, sizeof *r.posters);
	r.post_start = malloc((size_t)m * sizeof *r.post_start);
	r.post_done = malloc((size_t)m * sizeof *r.post_done);
	r.deliv = malloc((size_t)(n * m) * sizeof *r.deliv);
	r.deliv_count = calloc((size_t)m, sizeof *r.deliv_count);
	r.multi = curl_multi_init();
	r.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!r.streams || !r.posters || !r.post_start || !r.post_done ||
	    !r.deliv || !r.deliv_count || !r.multi || r.epfd < 0) {
		fprintf(stderr, "fanout_load: out of memory or no epoll\n");
		goto out;
	}
	for (long w = 0; w < m; w++)
		r.post_start[w] = r.post_done[w] = -1;
	for (long j = 0; j < n * m; j++)
		r.deliv[j] = -1;
	/* HTTP/1.1, one connection per transfer, none shared. */
	if (curl_multi_setopt(r.multi, CURLMOPT_PIPELINING,
	                      (long)CURLPIPE_NOTHING) != CURLM_OK ||
	    curl_multi_setopt(r.multi, CURLMOPT_MAXCONNECTS,
	                      n + opt.posters + 4) != CURLM_OK ||
	    curl_multi_setopt(r.multi, CURLMOPT_SOCKETFUNCTION, socket_cb) !=
	        CURLM_OK ||
	    curl_multi_setopt(r.multi, CURLMOPT_SOCKETDATA, (void *)&r) !=
	        CURLM_OK ||
	    curl_multi_setopt(r.multi, CURLMOPT_TIMERFUNCTION, timer_cb) !=
	        CURLM_OK ||
	    curl_multi_setopt(r.multi, CURLMOPT_TIMERDATA, (void *)&r) !=
	        CURLM_OK) {
		fprintf(stderr, "fanout_load: curl_multi_setopt failed\n");
		goto out;
	}
	for (long i = 0; i < opt.posters; i++)
		if (setup_poster(&r, &r.posters[i]) != 0)
			goto out;

	if (sync_head(&r, &r.head) != 0)
		goto out;

	/* Every stream starts from the beginning and must replay up to the
	 * head before anything is posted. */
	double t_open = now_ms(&r);
	for (long i = 0; i < n; i++)
		if (setup_stream(&r, &r.streams[i], i) != 0) {
			fprintf(stderr,
			        "fanout_load: cannot set up stream %ld\n", i);
			goto out;
		}
	double deadline = t_open + (double)opt.connect_ms;
	while (count_replayed(&r) < n && r.ended == 0 && now_ms(&r) < deadline)
		if (step(&r, 100) != 0)
			goto out;
	if (count_replayed(&r) < n) {
		long conn = 0;
		for (long i = 0; i < n; i++)
			conn += r.streams[i].connected;
		fprintf(stderr,
		        "fanout_load: only %ld of %ld streams replayed up to "
		        "seq %lld (%ld connected, %ld ended) in %ld ms\n",
		        count_replayed(&r), n, r.head, conn, r.ended,
		        opt.connect_ms);
		goto out;
	}
	double t_connect = now_ms(&r) - t_open;

	/* The webhook connections open after the streams', so no stream
	 * takes one of them over. */
	for (long i = 0; i < opt.posters; i++)
		if (start_warmup(&r, &r.posters[i]) != 0)
			goto out;
	while (r.busy > 0)
		if (step(&r, 100) != 0)
			goto out;
	if (r.post_bad > 0)
		goto out;

	r.measuring = 1;
	if (post_all(&r) != 0)
		goto out;
	report(&r, t_connect);
	if (fflush(stdout) != 0)
		fprintf(stderr, "fanout_load: writing stdout failed\n");
	else if (r.matched == n * m && r.post_ok == m && r.ended == 0)
		exit_code = 0;
	if (r.ended > 0)
		fprintf(stderr, "fanout_load: %ld streams ended early\n",
		        r.ended);
	if (r.matched < n * m) {
		long shown = 0;
		for (long i = 0; i < n && shown < MAX_ERRORS_SHOWN; i++)
			if (r.streams[i].messages < m) {
				fprintf(stderr,
				        "fanout_load: stream %ld missed %ld of "
				        "%ld messages (last seq %lld)\n",
				        i, m - r.streams[i].messages, m,
				        r.streams[i].last_seq);
				shown++;
			}
	}

out:
	if (r.streams) {
		for (long i = 0; i < n; i++) {
			struct stream *s = &r.streams[i];
			if (s->easy) {
				if (!s->ended && r.multi)
					curl_multi_remove_handle(r.multi,
					                         s->easy);
				curl_easy_cleanup(s->easy);
			}
			curl_slist_free_all(s->headers);
			free(s->line);
			free(s->data);
		}
		free(r.streams);
	}
	if (r.posters) {
		for (long i = 0; i < opt.posters; i++) {
			struct poster *p = &r.posters[i];
			if (p->easy) {
				if (p->index != -1 && r.multi)
					curl_multi_remove_handle(r.multi,
					                         p->easy);
				curl_easy_cleanup(p->easy);
			}
			curl_slist_free_all(p->headers);
			free(p->body.p);
		}
		free(r.posters);
	}
	if (r.multi)
		curl_multi_cleanup(r.multi);
	if (r.epfd >= 0)
		close(r.epfd);
	curl_global_cleanup();
	free(r.post_start);
	free(r.post_done);
	free(r.deliv);
	free(r.deliv_count);
out_nocurl:
	OPENSSL_cleanse(r.auth, sizeof r.auth);
	bench_free_secret(token, token_len);
	bench_free_secret(secret, secret_len);
	return exit_code;
}
