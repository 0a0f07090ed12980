/* bench_common: what the load generators share; see bench_common.h. */

#include "bench_common.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char pad_text[] =
    " lorem ipsum dolor sit amet consectetur adipiscing elit";

/* ------------------------------------------------------------------ */
/* Options                                                             */

int
bench_parse_long(const char *name, const char *s, long min, long max, long *out)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr,
		        "%s: --%s must be an integer in [%ld, %ld], got '%s'\n",
		        bench_prog, name, min, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

int
bench_json_safe(const char *name, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f) {
			fprintf(stderr,
			        "%s: --%s must not contain quotes, backslashes "
			        "or control characters\n",
			        bench_prog, name);
			return -1;
		}
	}
	return 0;
}

int
bench_http_url(const char *url)
{
	return strncmp(url, "https://", 8) == 0 ||
	       strncmp(url, "http://", 7) == 0;
}

int
bench_no_more_args(int argc, char **argv)
{
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", bench_prog,
		        argv[optind]);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Files and buffers                                                   */

int
bench_read_secret(const char *what, const char *path, long max_bytes,
                  unsigned char **out)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: cannot open %s %s: %s\n", bench_prog, what,
		        path, strerror(errno));
		return -1;
	}
	unsigned char *buf = malloc((size_t)max_bytes + 1);
	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", bench_prog);
		fclose(f);
		return -1;
	}
	size_t n = fread(buf, 1, (size_t)max_bytes + 1, f);
	int err = ferror(f);
	fclose(f);
	if (err || n > (size_t)max_bytes) {
		fprintf(stderr,
		        "%s: cannot read %s %s (error or larger than %ld "
		        "bytes)\n",
		        bench_prog, what, path, max_bytes);
		free(buf);
		return -1;
	}
	if (n > 0 && buf[n - 1] == '\n') {
		n--;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
	}
	if (n == 0) {
		fprintf(stderr, "%s: %s %s is empty\n", bench_prog, what, path);
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	return (int)n;
}

void
bench_free_secret(unsigned char *secret, int len)
{
	if (!secret)
		return;
	if (len > 0)
		OPENSSL_cleanse(secret, (size_t)len);
	free(secret);
}

int
bench_grow(char **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 4096;
	while (c < need)
		c *= 2;
	char *np = realloc(*p, c);
	if (!np)
		return -1;
	*p = np;
	*cap = c;
	return 0;
}

size_t
bench_buf_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct bench_buf *b = userdata;
	size_t n = size * nmemb;
	if (bench_grow(&b->p, &b->cap, b->len + n + 1) != 0)
		return 0;
	memcpy(b->p + b->len, ptr, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

size_t
bench_discard_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr;
	(void)userdata;
	return size * nmemb;
}

/* ------------------------------------------------------------------ */
/* Webhooks                                                            */

void
bench_pad(char *dst, size_t n)
{
	for (size_t j = 0; j < n; j++)
		dst[j] = pad_text[j % (sizeof pad_text - 1)];
}

int
bench_webhook_body(struct bench_buf *b, const struct bench_webhook *w)
{
	static const char tail[] = "\"}}]}}]}]}";

	for (;;) {
		int head = snprintf(
		    b->p, b->cap,
		    "{\"object\":\"whatsapp_business_account\","
		    "\"entry\":[{\"id\":\"102290129340398\","
		    "\"changes\":[{\"field\":\"messages\",\"value\":{"
		    "\"messaging_product\":\"whatsapp\","
		    "\"metadata\":{\"display_phone_number\":"
		    "\"15550783881\",\"phone_number_id\":\"%s\"},"
		    "\"contacts\":[{\"profile\":{\"name\":\"%s\"},"
		    "\"wa_id\":\"%s\"}],"
		    "\"messages\":[{\"from\":\"%s\",\"id\":\"%s%ld\","
		    "\"timestamp\":\"%lld\",\"type\":\"text\","
		    "\"text\":{\"body\":\"%s",
		    w->number_id, w->name, w->wa_id, w->wa_id, w->prefix,
		    w->index, (long long)time(NULL), w->text);
		if (head < 0)
			break;
		size_t hlen = (size_t)head, tlen = sizeof tail - 1;
		size_t target = (size_t)w->body_bytes;
		size_t pad = target > hlen + tlen ? target - hlen - tlen : 0;
		size_t total = hlen + pad + tlen;
		if (b->p == NULL || total + 1 > b->cap) {
			if (bench_grow(&b->p, &b->cap, total + 1) != 0)
				break;
			continue; /* render the head again, into room for it */
		}
		bench_pad(b->p + hlen, pad);
		memcpy(b->p + hlen + pad, tail, tlen + 1);
		b->len = total;
		return 0;
	}
	fprintf(stderr, "%s: out of memory building body\n", bench_prog);
	return -1;
}

int
bench_sign_post(CURL *e, const unsigned char *secret, int secret_len,
                const struct bench_buf *body, struct curl_slist **headers)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char sig[32 + 2 * EVP_MAX_MD_SIZE];

	if (!HMAC(EVP_sha256(), secret, secret_len,
	          (const unsigned char *)body->p, body->len, md, &mdlen)) {
		fprintf(stderr, "%s: HMAC-SHA256 failed\n", bench_prog);
		return -1;
	}
	int off = snprintf(sig, sizeof sig, "X-Hub-Signature-256: sha256=");
	for (unsigned int j = 0; j < mdlen; j++) {
		sig[off++] = hex[md[j] >> 4];
		sig[off++] = hex[md[j] & 0x0f];
	}
	sig[off] = '\0';

	curl_slist_free_all(*headers);
	*headers = NULL;
	const char *hdrs[] = {"Content-Type: application/json", "Expect:", sig};
	for (size_t j = 0; j < sizeof hdrs / sizeof hdrs[0]; j++) {
		struct curl_slist *nl = curl_slist_append(*headers, hdrs[j]);
		if (!nl) {
			fprintf(stderr, "%s: out of memory building headers\n",
			        bench_prog);
			return -1;
		}
		*headers = nl;
	}

	CURLcode c = CURLE_OK;
	BENCH_SETOPT(c, e, CURLOPT_HTTPHEADER, *headers);
	BENCH_SETOPT(c, e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	BENCH_SETOPT(c, e, CURLOPT_POSTFIELDS, body->p);
	return bench_setopt_result(c);
}

/* ------------------------------------------------------------------ */
/* HTTPS                                                               */

int
bench_setopt_result(CURLcode c)
{
	if (c == CURLE_OK)
		return 0;
	fprintf(stderr, "%s: curl_easy_setopt: %s\n", bench_prog,
	        curl_easy_strerror(c));
	return -1;
}

CURLcode
bench_curl_opts(CURL *e, const char *cacert, char *errbuf,
                const char *user_agent)
{
	CURLcode c = CURLE_OK;
	BENCH_SETOPT(c, e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	BENCH_SETOPT(c, e, CURLOPT_SSL_VERIFYPEER, 1L);
	BENCH_SETOPT(c, e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cacert)
		BENCH_SETOPT(c, e, CURLOPT_CAINFO, cacert);
	BENCH_SETOPT(c, e, CURLOPT_TCP_NODELAY, 1L);
	BENCH_SETOPT(c, e, CURLOPT_NOSIGNAL, 1L);
	BENCH_SETOPT(c, e, CURLOPT_ERRORBUFFER, errbuf);
	BENCH_SETOPT(c, e, CURLOPT_USERAGENT, user_agent);
	return c;
}

int
bench_api_open(struct bench_api *a, const char *auth, const char *cacert,
               const char *user_agent)
{
	memset(a, 0, sizeof *a);
	a->e = curl_easy_init();
	a->headers = curl_slist_append(NULL, auth);
	if (!a->e || !a->headers)
		return -1;
	CURLcode c = bench_curl_opts(a->e, cacert, a->errbuf, user_agent);
	BENCH_SETOPT(c, a->e, CURLOPT_HTTPHEADER, a->headers);
	BENCH_SETOPT(c, a->e, CURLOPT_WRITEFUNCTION, bench_buf_cb);
	BENCH_SETOPT(c, a->e, CURLOPT_WRITEDATA, (void *)&a->body);
	return bench_setopt_result(c);
}

long
bench_api_get(struct bench_api *a, const char *url)
{
	long status = 0;
	CURLcode c;

	a->body.len = 0;
	if ((c = curl_easy_setopt(a->e, CURLOPT_URL, url)) != CURLE_OK ||
	    (c = curl_easy_perform(a->e)) != CURLE_OK) {
		fprintf(stderr, "%s: GET %s: %s %s\n", bench_prog, url,
		        curl_easy_strerror(c), a->errbuf);
		return -1;
	}
	curl_easy_getinfo(a->e, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

void
bench_api_close(struct bench_api *a)
{
	curl_slist_free_all(a->headers);
	if (a->e)
		curl_easy_cleanup(a->e);
	free(a->body.p);
	memset(a, 0, sizeof *a);
}

/* ------------------------------------------------------------------ */
/* Clocks and statistics                                               */

double
bench_elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1000.0 +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

double
bench_ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return bench_elapsed_ms(t0, &t);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void
bench_sort(double *v, long n)
{
	if (n > 0)
		qsort(v, (size_t)n, sizeof *v, cmp_double);
}

double
bench_percentile(const double *sorted, long n, double p)
{
	if (n <= 0)
		return 0.0;
	long idx = (long)ceil(p * (double)n) - 1;
	if (idx < 0)
		idx = 0;
	if (idx >= n)
		idx = n - 1;
	return sorted[idx];
}
