/*
 * libcurl multi on a libuv loop (the multi-uv.c pattern); see http.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "net/http.h"

#define DEFAULT_MAX_BODY (64u << 20)

struct http {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	char *ca_file;
	char *pinned_pubkey;
	struct http_xfer *xfers; /* every transfer in progress */
	int nxfers;
	int closing;
};

struct http_xfer {
	struct http *http;
	CURL *easy;
	struct curl_slist *headers;
	struct http_xfer *next, *prev;
	char *body_copy;
	struct buf body;
	size_t max_body;
	long status;
	long retry_after;
	char *content_type;
	int streaming; /* status 200 seen and on_data set */
	int aborted;   /* by the reader, or over max_body */
	const char *abort_why;
	int (*on_data)(void *, const char *, size_t);
	void (*on_done)(void *, const struct http_result *);
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
};

/* One per socket curl asks us to watch. */
struct sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct http *http;
};

static void check_done(struct http *);

static void
sock_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	struct sock *s = p->data;
	int flags = 0;
	int running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(s->http->multi, s->fd, flags, &running);
	check_done(s->http);
}

static int
socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct http *h = userp;
	struct sock *s = sockp;
	int events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			uv_poll_stop(&s->poll);
			uv_close((uv_handle_t *)&s->poll, sock_closed);
			curl_multi_assign(h->multi, fd, NULL);
		}
		return 0;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		s->fd = fd;
		s->http = h;
		if (uv_poll_init_socket(h->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		curl_multi_assign(h->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, on_poll);
	return 0;
}

static void
on_timer(uv_timer_t *t)
{
	struct http *h = t->data;
	int running;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;

	(void)multi;
	if (timeout_ms < 0)
		uv_timer_stop(&h->timer);
	else
		uv_timer_start(&h->timer, on_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

struct http *
http_new(uv_loop_t *loop, const struct http_tls *tls)
{
	struct http *h = xcalloc(1, sizeof *h);

	h->loop = loop;
	h->multi = curl_multi_init();
	if (h->multi == NULL) {
		log_error("curl_multi_init failed");
		abort();
	}
	if (tls != NULL) {
		h->ca_file = tls->ca_file ? xstrdup(tls->ca_file) : NULL;
		h->pinned_pubkey = tls->pinned_pubkey ?
		    xstrdup(tls->pinned_pubkey) : NULL;
	}
	uv_timer_init(loop, &h->timer);
	h->timer.data = h;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return h;
}

/* Takes a transfer off the multi handle and out of the list. */
static void
xfer_unlink(struct http_xfer *x)
{
	struct http *h = x->http;

	curl_multi_remove_handle(h->multi, x->easy);
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		h->xfers = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	x->next = x->prev = NULL;
	h->nxfers--;
}

static void
xfer_destroy(struct http_xfer *x)
{
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	buf_free(&x->body);
	free(x->body_copy);
	free(x->content_type);
	free(x);
}

static void
timer_closed(uv_handle_t *t)
{
	struct http *h = t->data;

	curl_multi_cleanup(h->multi);
	free(h->ca_file);
	free(h->pinned_pubkey);
	free(h);
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	h->closing = 1;
	while (h->xfers != NULL) {
		struct http_xfer *x = h->xfers;

		xfer_unlink(x); /* sockets close through socket_cb */
		xfer_destroy(x);
	}
	uv_timer_stop(&h->timer);
	uv_close((uv_handle_t *)&h->timer, timer_closed);
}

int
http_active(const struct http *h)
{
	return h->nxfers;
}

static size_t
header_cb(char *line, size_t size, size_t n, void *arg)
{
	struct http_xfer *x = arg;
	size_t len = size * n;

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue, say): start over. */
		free(x->content_type);
		x->content_type = NULL;
		x->retry_after = -1;
		return len;
	}
	if (len > 12 && strncasecmp(line, "Retry-After:", 12) == 0) {
		const char *v = line + 12;
		long s = 0;

		while (*v == ' ' || *v == '\t')
			v++;
		while (*v >= '0' && *v <= '9' && s < 86400)
			s = s * 10 + (*v++ - '0');
		x->retry_after = s;
	}
	return len;
}

static size_t
write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_xfer *x = arg;
	size_t len = size * n;

	if (x->status == 0)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->on_data != NULL && x->status == 200) {
		x->streaming = 1;
		if (x->on_data(x->arg, data, len) != 0) {
			x->aborted = 1;
			x->abort_why = "the stream was stopped by its reader";
			return 0;
		}
		return len;
	}
	if (x->body.len + len > x->max_body) {
		x->aborted = 1;
		x->abort_why = "the answer is larger than allowed";
		return 0;
	}
	buf_add(&x->body, data, len);
	return len;
}

struct http_xfer *
http_start(struct http *h, const struct http_request *rq)
{
	struct http_xfer *x = xcalloc(1, sizeof *x);
	char line[512];

	x->http = h;
	x->on_data = rq->on_data;
	x->on_done = rq->on_done;
	x->arg = rq->arg;
	x->retry_after = -1;
	x->max_body = rq->max_body ? rq->max_body : DEFAULT_MAX_BODY;
	buf_init(&x->body);
	x->easy = curl_easy_init();
	if (x->easy == NULL) {
		log_error("curl_easy_init failed");
		abort();
	}

	curl_easy_setopt(x->easy, CURLOPT_URL, rq->url);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file != NULL)
		curl_easy_setopt(x->easy, CURLOPT_CAINFO, h->ca_file);
	if (h->pinned_pubkey != NULL)
		curl_easy_setopt(x->easy, CURLOPT_PINNEDPUBLICKEY,
		    h->pinned_pubkey);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    rq->connect_timeout_ms > 0 ? rq->connect_timeout_ms : 10000L);
	if (rq->timeout_ms > 0)
		curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "glivi-tui/" GLIVI_VERSION);

	if (rq->token != NULL) {
		snprintf(line, sizeof line, "Authorization: Bearer %s",
		    rq->token);
		x->headers = curl_slist_append(x->headers, line);
		explicit_bzero(line, sizeof line);
	}
	if (rq->idempotency_key != NULL) {
		snprintf(line, sizeof line, "Idempotency-Key: %s",
		    rq->idempotency_key);
		x->headers = curl_slist_append(x->headers, line);
	}
	if (rq->on_data != NULL) {
		x->headers = curl_slist_append(x->headers,
		    "Accept: text/event-stream");
		x->headers = curl_slist_append(x->headers,
		    "Cache-Control: no-cache");
	} else {
		x->headers = curl_slist_append(x->headers,
		    "Accept: application/json");
	}
	if (rq->last_event_id != NULL) {
		snprintf(line, sizeof line, "Last-Event-ID: %s",
		    rq->last_event_id);
		x->headers = curl_slist_append(x->headers, line);
	}
	if (rq->body != NULL) {
		x->headers = curl_slist_append(x->headers,
		    "Content-Type: application/json");
		x->body_copy = xmalloc(rq->body_len + 1);
		memcpy(x->body_copy, rq->body, rq->body_len);
		x->body_copy[rq->body_len] = '\0';
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE,
		    (long)rq->body_len);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body_copy);
	}
	/* No "Expect: 100-continue" round trip for small JSON bodies. */
	x->headers = curl_slist_append(x->headers, "Expect:");
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "POST") != 0)
		curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, rq->method);
	else if (strcmp(rq->method, "POST") == 0 && rq->body == NULL)
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, 0L),
		    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, "");

	x->next = h->xfers;
	if (h->xfers != NULL)
		h->xfers->prev = x;
	h->xfers = x;
	h->nxfers++;
	curl_multi_add_handle(h->multi, x->easy);
	return x;
}

void
http_cancel(struct http_xfer *x)
{
	if (x != NULL) {
		xfer_unlink(x);
		xfer_destroy(x);
	}
}

/* A sentence for a failed exchange, with what to do where we know it. */
static void
describe(struct http_xfer *x, CURLcode code, enum http_fail *fail,
    struct buf *out)
{
	const char *detail = x->errbuf[0] != '\0' ? x->errbuf :
	    curl_easy_strerror(code);

	switch (code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		*fail = HTTP_CONNECT;
		buf_printf(out, "cannot connect: %s", detail);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		*fail = HTTP_TLS;
		buf_printf(out, "the server's TLS certificate was refused "
		    "(%s); for a relay with a private CA or a self-signed "
		    "certificate, set ca_file", detail);
		break;
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		*fail = HTTP_TLS;
		buf_printf(out, "the server's public key does not match "
		    "pinned_pubkey (%s)", detail);
		break;
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
		*fail = HTTP_TLS;
		buf_printf(out, "cannot use ca_file: %s", detail);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_USE_SSL_FAILED:
		*fail = HTTP_TLS;
		buf_printf(out, "TLS handshake failed: %s", detail);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		*fail = HTTP_TIMEOUT;
		buf_printf(out, "timed out: %s", detail);
		break;
	case CURLE_WRITE_ERROR:
		if (x->aborted) {
			*fail = HTTP_ABORTED;
			buf_adds(out, x->abort_why);
			break;
		}
		__attribute__((fallthrough));
	default:
		*fail = HTTP_OTHER;
		buf_printf(out, "%s", detail);
		break;
	}
}

static void
check_done(struct http *h)
{
	CURLMsg *m;
	int left;

	while (!h->closing &&
	    (m = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct http_xfer *x;
		struct http_result r;
		struct buf err;
		char *ct = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		memset(&r, 0, sizeof r);
		buf_init(&err);
		if (m->data.result == CURLE_OK) {
			r.fail = HTTP_OK;
			curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE,
			    &r.status);
		} else {
			describe(x, m->data.result, &r.fail, &err);
			r.error = err.data;
		}
		curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
		r.content_type = ct;
		r.body = x->body.data != NULL ? x->body.data : "";
		r.len = x->body.len;
		r.retry_after = x->retry_after;
		/* Detach first: the callback may start or cancel others,
		 * or free the whole http. */
		xfer_unlink(x);
		if (x->on_done != NULL)
			x->on_done(x->arg, &r);
		buf_free(&err);
		xfer_destroy(x);
	}
}
