/* bench_common: what the load generators (ingest_load, fanout_load,
 * sync_load) share: option checks, secret files, growable buffers, signed
 * WhatsApp webhooks, latency statistics, clocks and the curl options of a
 * verified HTTPS keep-alive HTTP/1.1 connection.
 *
 * Messages go to stderr and start with bench_prog, which each program
 * defines: const char bench_prog[] = "ingest_load"; */

#ifndef GLIVI_BENCH_COMMON_H
#define GLIVI_BENCH_COMMON_H

#include <stddef.h>
#include <time.h>

#include <curl/curl.h>

extern const char bench_prog[];

/* ------------------------------------------------------------------ */
/* Options                                                             */

/* Parses s as a decimal integer in [min, max] into *out. Returns 0, or -1
 * after saying that --name must be one. */
int bench_parse_long(const char *name, const char *s, long min, long max,
                     long *out);

/* Values pasted verbatim into JSON strings must not need escaping. Returns
 * 0, or -1 after saying what --name must not contain. */
int bench_json_safe(const char *name, const char *s);

/* Nonzero when url starts with http:// or https://. */
int bench_http_url(const char *url);

/* After getopt_long: 0 when it took every argument, else -1 after saying
 * which one is left over. */
int bench_no_more_args(int argc, char **argv);

/* ------------------------------------------------------------------ */
/* Files and buffers                                                   */

/* Reads a one-line secret file (what: "secret file", "token file") of at
 * most max_bytes bytes, stripping one trailing "\n" or "\r\n", into a new
 * NUL-terminated buffer. Returns its length, or -1 after saying why (the
 * file is missing, unreadable, larger or empty). */
int bench_read_secret(const char *what, const char *path, long max_bytes,
                      unsigned char **out);

/* Wipes and frees a buffer from bench_read_secret (NULL is fine). */
void bench_free_secret(unsigned char *secret, int len);

/* Grows *p, of *cap bytes, to at least need bytes. Returns 0 or -1. */
int bench_grow(char **p, size_t *cap, size_t need);

struct bench_buf {
	char *p; /* NUL-terminated once anything was written */
	size_t len, cap;
};

/* CURLOPT_WRITEFUNCTION appending to the struct bench_buf of
 * CURLOPT_WRITEDATA; bench_discard_cb throws the body away. */
size_t bench_buf_cb(char *ptr, size_t size, size_t nmemb, void *userdata);
size_t bench_discard_cb(char *ptr, size_t size, size_t nmemb, void *userdata);

/* ------------------------------------------------------------------ */
/* Webhooks                                                            */

/* Writes n bytes of lorem ipsum padding to dst (no NUL). */
void bench_pad(char *dst, size_t n);

/* One customer text message, as WhatsApp posts it to the webhook. The
 * strings must be JSON-safe (bench_json_safe). */
struct bench_webhook {
	const char *number_id; /* metadata.phone_number_id */
	const char *name;      /* the contact's profile name */
	const char *wa_id;     /* the customer who writes */
	const char *prefix;    /* the wamid is prefix followed by index */
	long index;
	const char *text; /* the start of the text, padded to body_bytes */
	long body_bytes;  /* the body's approximate size */
};

/* Renders w, stamped with the current time, into b. Returns 0, or -1
 * after saying it ran out of memory. */
int bench_webhook_body(struct bench_buf *b, const struct bench_webhook *w);

/* Makes e POST body (which must outlive the transfer) with Content-Type:
 * application/json, no Expect: and X-Hub-Signature-256, the HMAC-SHA256
 * of the body under secret. *headers is replaced by the new
 * header list (free it with curl_slist_free_all). Returns 0, or -1 after
 * saying why. */
int bench_sign_post(CURL *e, const unsigned char *secret, int secret_len,
                    const struct bench_buf *body, struct curl_slist **headers);

/* ------------------------------------------------------------------ */
/* HTTPS                                                               */

/* Sets an option when everything before it was set: rc is the CURLcode
 * that collects the first failure. */
#define BENCH_SETOPT(rc, easy, opt, val)                                       \
	do {                                                                   \
		if ((rc) == CURLE_OK)                                          \
			(rc) = curl_easy_setopt((easy), (opt), (val));         \
	} while (0)

/* 0 when c is CURLE_OK, else -1 after saying that curl_easy_setopt
 * failed. */
int bench_setopt_result(CURLcode c);

/* The options every bench connection has: HTTP/1.1 (one request at a time
 * on a keep-alive connection), TLS verified against cacert (or the system's
 * CAs when NULL), TCP_NODELAY, no signals, errors into errbuf (of
 * CURL_ERROR_SIZE bytes) and user_agent. */
CURLcode bench_curl_opts(CURL *e, const char *cacert, char *errbuf,
                         const char *user_agent);

/* GETs of the relay's JSON API over one keep-alive connection. */
struct bench_api {
	CURL *e;
	struct curl_slist *headers;
	struct bench_buf body; /* the last answer */
	char errbuf[CURL_ERROR_SIZE];
};

/* Sets a up (bench_curl_opts, the one header auth such as
 * "Authorization: Bearer ...", answers into a->body); a must not move
 * while in use. More options can be set on a->e. Returns 0, or -1 (then
 * bench_api_close a all the same, as a zeroed one). */
int bench_api_open(struct bench_api *a, const char *auth, const char *cacert,
                   const char *user_agent);

/* GETs url into a->body. Returns the HTTP status, or -1 after saying why
 * the transfer failed. */
long bench_api_get(struct bench_api *a, const char *url);

void bench_api_close(struct bench_api *a);

/* ------------------------------------------------------------------ */
/* Clocks and statistics                                               */

/* Milliseconds from a to b. */
double bench_elapsed_ms(const struct timespec *a, const struct timespec *b);

/* Milliseconds since t0 on CLOCK_MONOTONIC. */
double bench_ms_since(const struct timespec *t0);

/* Sorts n values in ascending order, for bench_percentile. */
void bench_sort(double *v, long n);

/* The nearest-rank p-quantile (0 < p <= 1) of n sorted values; p = 1 gives
 * the largest. 0 when there are none. */
double bench_percentile(const double *sorted, long n, double p);

#endif
