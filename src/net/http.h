/*
 * HTTPS requests on a libuv loop: one libcurl multi handle driven by
 * uv_poll watchers (one per socket) and one uv_timer, as in curl's
 * multi-uv.c. Nothing here blocks; every answer comes back through a
 * callback on the loop thread. Certificate and host name verification are
 * always on: a private CA is given as a file, and the server's public key
 * may additionally be pinned.
 */
#ifndef GLIVI_HTTP_H
#define GLIVI_HTTP_H

#include <stddef.h>

#include <uv.h>

struct http;
struct http_xfer;

struct http_tls {
	const char *ca_file;	   /* PEM bundle; NULL: the system's CAs */
	const char *pinned_pubkey; /* "sha256//BASE64[;sha256//…]" or a PEM
				      file; NULL: no pinning */
};

enum http_fail {
	HTTP_OK,      /* the exchange completed; look at the status */
	HTTP_CONNECT, /* no connection (refused, unreachable, DNS) */
	HTTP_TLS,     /* the certificate or key was refused */
	HTTP_TIMEOUT,
	HTTP_ABORTED, /* the reader stopped it, or the body was too big */
	HTTP_OTHER,
};

struct http_result {
	enum http_fail fail;
	long status;		  /* HTTP status when fail == HTTP_OK */
	const char *body;	  /* NUL-terminated; empty when none */
	size_t len;
	const char *content_type; /* or NULL */
	long retry_after;	  /* seconds from Retry-After, or -1 */
	const char *error;	  /* a sentence when fail != HTTP_OK */
};

struct http_request {
	const char *method; /* GET, POST, PATCH, DELETE */
	const char *url;
	const char *token;	   /* sent as "Authorization: Bearer" */
	const char *idempotency_key;
	const char *last_event_id;
	const char *body; /* JSON; NULL: none */
	size_t body_len;
	long connect_timeout_ms; /* 0: 10 s */
	long timeout_ms;	 /* whole exchange; 0: none (streams) */
	size_t max_body;	 /* 0: 64 MiB */
	/*
	 * A stream (text/event-stream): when the answer is 200, its body goes
	 * to on_data as it arrives instead of being collected; return -1 to
	 * stop. Any other answer is collected as usual for on_done.
	 */
	int (*on_data)(void *arg, const char *, size_t);
	void (*on_done)(void *arg, const struct http_result *);
	void *arg;
};

struct http *http_new(uv_loop_t *, const struct http_tls *);
/* Cancels every transfer (no callbacks); closes handles on the loop. */
void http_free(struct http *);
struct http_xfer *http_start(struct http *, const struct http_request *);
/* Stops a transfer; its on_done is not called. Not from inside on_data. */
void http_cancel(struct http_xfer *);
/* Transfers in progress. */
int http_active(const struct http *);

#endif
