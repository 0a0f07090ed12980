/* send_load: the load and the measurement of bench/relay-send.
 *
 *   send_load setup    customers write to the relay (signed webhooks), then
 *                      an agent queues replies spread over them (agent API)
 *   send_load blast    the baseline: sends posted straight to glivi-sim by
 *                      a plain concurrent client
 *   send_load measure  waits until glivi-sim accepted N sends, reads them
 *                      back (/_sim/sent) and judges rate, windows, order
 *
 * Every request goes over verified HTTPS keep-alive connections (one curl
 * multi). Nothing here is timed by this process's clock: the rate is the
 * simulator's, from its accepted-send timestamps. */

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "bench_common.h"

#define MAX_CONNECTIONS 256L
#define MAX_COUNT 10000000L
#define MAX_SECRET_BYTES (64L * 1024)

const char bench_prog[] = "send_load";

struct options {
	const char *relay;       /* https://host:port of the relay */
	const char *sim;         /* https://host:port of glivi-sim */
	const char *cacert;
	const char *secret_file; /* the app secret that signs webhooks */
	const char *token_file;  /* agent token (setup) or Graph token */
	const char *number_id;
	long customers;
	long count; /* replies (setup), sends (blast), expected (measure) */
	long connections;
	long rate;    /* measure: the configured limit; 0 = no bar */
	long timeout; /* measure: seconds to wait for the sends */
	const char *label;
	int per_second; /* measure: print the sends of each second */
};

/* ------------------------------------------------------------------ */
/* Many POSTs over a few connections                                   */

struct post_slot {
	CURL *easy;
	struct curl_slist *headers;
	struct bench_buf body;
	struct bench_buf answer;
	long index; /* -1 when idle */
	char errbuf[CURL_ERROR_SIZE];
};

/* Fills the body, URL and headers of request i on s->easy. */
typedef int (*post_prepare)(void *ctx, struct post_slot *s, long i);

struct post_run {
	CURLM *multi;
	struct post_slot *slots;
	long nslots;
	long n, next, inflight;
	long ok, refused, errors;
	post_prepare prepare;
	void *ctx;
};

static int
post_start(struct post_run *r, struct post_slot *s, long i)
{
	s->answer.len = 0;
	s->errbuf[0] = '\0';
	if (r->prepare(r->ctx, s, i) != 0)
		return -1;
	s->index = i;
	if (curl_multi_add_handle(r->multi, s->easy) != CURLM_OK) {
		fprintf(stderr, "send_load: curl_multi_add_handle failed\n");
		s->index = -1;
		return -1;
	}
	r->inflight++;
	return 0;
}

/* POSTs n requests, r->nslots at a time; counts 2xx, other statuses and
 * transport errors (each kind said once). Returns 0, or -1 when a request
 * could not even be made. */
static int
post_many(struct post_run *r, const char *cacert, long n)
{
	int said_refused = 0, said_error = 0;

	r->n = n;
	r->multi = curl_multi_init();
	r->slots = calloc((size_t)r->nslots, sizeof *r->slots);
	if (!r->multi || !r->slots)
		return -1;
	curl_multi_setopt(r->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, r->nslots);
	curl_multi_setopt(r->multi, CURLMOPT_MAXCONNECTS, r->nslots);
	for (long j = 0; j < r->nslots; j++) {
		struct post_slot *s = &r->slots[j];
		CURLcode c;
		s->index = -1;
		if ((s->easy = curl_easy_init()) == NULL)
			return -1;
		c = bench_curl_opts(s->easy, cacert, s->errbuf,
		                    "glivi-send-load/1");
		BENCH_SETOPT(c, s->easy, CURLOPT_POST, 1L);
		BENCH_SETOPT(c, s->easy, CURLOPT_TIMEOUT_MS, 30000L);
		BENCH_SETOPT(c, s->easy, CURLOPT_WRITEFUNCTION, bench_buf_cb);
		BENCH_SETOPT(c, s->easy, CURLOPT_WRITEDATA, (void *)&s->answer);
		BENCH_SETOPT(c, s->easy, CURLOPT_PRIVATE, (void *)s);
		if (bench_setopt_result(c) != 0)
			return -1;
	}
	for (long j = 0; j < r->nslots && r->next < n; j++)
		if (post_start(r, &r->slots[j], r->next++) != 0)
			return -1;
	while (r->inflight > 0) {
		int running = 0, left = 0;
		CURLMsg *msg;
		if (curl_multi_perform(r->multi, &running) != CURLM_OK)
			return -1;
		while ((msg = curl_multi_info_read(r->multi, &left)) != NULL) {
			struct post_slot *s = NULL;
			CURLcode result = msg->data.result;
			long status = 0;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			                  (char **)&s);
			curl_multi_remove_handle(r->multi, s->easy);
			r->inflight--;
			if (result != CURLE_OK) {
				r->errors++;
				if (!said_error++)
					fprintf(stderr, "send_load: %s %s\n",
					        curl_easy_strerror(result),
					        s->errbuf);
			} else {
				curl_easy_getinfo(s->easy,
				                  CURLINFO_RESPONSE_CODE,
				                  &status);
				if (status >= 200 && status < 300)
					r->ok++;
				else {
					r->refused++;
					if (!said_refused++)
						fprintf(stderr,
						        "send_load: HTTP %ld: "
						        "%.300s\n",
						        status,
						        s->answer.p ? s->answer.p
						                    : "");
				}
			}
			s->index = -1;
			if (r->next < n &&
			    post_start(r, s, r->next++) != 0)
				return -1;
		}
		if (r->inflight > 0 &&
		    curl_multi_poll(r->multi, NULL, 0, 1000, NULL) != CURLM_OK)
			return -1;
	}
	return 0;
}

static void
post_free(struct post_run *r)
{
	for (long j = 0; r->slots && j < r->nslots; j++) {
		struct post_slot *s = &r->slots[j];
		if (s->easy) {
			if (s->index >= 0)
				curl_multi_remove_handle(r->multi, s->easy);
			curl_easy_cleanup(s->easy);
		}
		curl_slist_free_all(s->headers);
		free(s->body.p);
		free(s->answer.p);
	}
	free(r->slots);
	if (r->multi)
		curl_multi_cleanup(r->multi);
}

/* Sets a JSON body and the headers Content-Type, Expect: and auth. */
static int
set_json_post(struct post_slot *s, const char *url, const char *auth)
{
	CURLcode c = CURLE_OK;
	if (s->headers == NULL) {
		s->headers = curl_slist_append(NULL,
		                               "Content-Type: application/json");
		s->headers = curl_slist_append(s->headers, "Expect:");
		s->headers = curl_slist_append(s->headers, auth);
		if (s->headers == NULL)
			return -1;
	}
	BENCH_SETOPT(c, s->easy, CURLOPT_URL, url);
	BENCH_SETOPT(c, s->easy, CURLOPT_HTTPHEADER, s->headers);
	BENCH_SETOPT(c, s->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	             (curl_off_t)s->body.len);
	BENCH_SETOPT(c, s->easy, CURLOPT_POSTFIELDS, s->body.p);
	return bench_setopt_result(c);
}

static int
buf_printf(struct bench_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
buf_printf(struct bench_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p, b->cap, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if (b->p != NULL && (size_t)n < b->cap)
			break;
		if (bench_grow(&b->p, &b->cap, (size_t)n + 1) != 0)
			return -1;
	}
	b->len = (size_t)n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* setup: customers write, then replies are queued                     */

struct setup {
	const struct options *o;
	const unsigned char *secret;
	int secret_len;
	char *auth;
	char url[512];
	long *conversations; /* by customer, in the order they wrote */
	long nconversations;
};

static void
customer_id(long k, char *out, size_t len)
{
	snprintf(out, len, "1555%07ld", k);
}

static int
prepare_inbound(void *ctx, struct post_slot *s, long i)
{
	struct setup *st = ctx;
	char wa_id[32], name[48];
	customer_id(i, wa_id, sizeof wa_id);
	snprintf(name, sizeof name, "Send Bench Customer %ld", i);
	const struct bench_webhook w = {
	    .number_id = st->o->number_id,
	    .name = name,
	    .wa_id = wa_id,
	    .prefix = "wamid.SENDBENCH-IN-",
	    .index = i,
	    .text = "hello, a question about my order",
	    .body_bytes = 600,
	};
	CURLcode c = CURLE_OK;
	if (bench_webhook_body(&s->body, &w) != 0 ||
	    bench_sign_post(s->easy, st->secret, st->secret_len, &s->body,
	                    &s->headers) != 0)
		return -1;
	BENCH_SETOPT(c, s->easy, CURLOPT_URL, st->url);
	return bench_setopt_result(c);
}

static int
prepare_reply(void *ctx, struct post_slot *s, long i)
{
	struct setup *st = ctx;
	char url[512];
	long conv = st->conversations[i % st->nconversations];
	snprintf(url, sizeof url, "%s/api/v1/conversations/%ld/messages",
	         st->o->relay, conv);
	if (buf_printf(&s->body,
	               "{\"type\":\"text\",\"text\":\"reply %ld: your order "
	               "ships tomorrow\"}",
	               i) != 0)
		return -1;
	return set_json_post(s, url, st->auth);
}

/* Reads /api/v1/sync to the end; collects conversation ids, oldest first
 * (the order customers first wrote in). */
static int
collect_conversations(struct setup *st)
{
	struct bench_api a;
	char url[1024], cursor[256] = "";
	int more = 1, rc = -1;

	if (bench_api_open(&a, st->auth, st->o->cacert, "glivi-send-load/1") !=
	    0)
		goto out;
	st->conversations = calloc((size_t)st->o->customers,
	                           sizeof *st->conversations);
	if (st->conversations == NULL)
		goto out;
	while (more) {
		cJSON *doc, *e;
		snprintf(url, sizeof url, "%s/api/v1/sync?limit=1000%s%s",
		         st->o->relay, cursor[0] ? "&since=" : "", cursor);
		if (bench_api_get(&a, url) != 200) {
			fprintf(stderr, "send_load: sync failed: %.300s\n",
			        a.body.p ? a.body.p : "");
			goto out;
		}
		doc = cJSON_Parse(a.body.p);
		if (doc == NULL) {
			fprintf(stderr, "send_load: sync answer is not JSON\n");
			goto out;
		}
		cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "events"))
		{
			const cJSON *k = cJSON_GetObjectItem(e, "kind");
			const cJSON *id = cJSON_GetObjectItem(e, "id");
			if (cJSON_IsString(k) &&
			    strcmp(k->valuestring, "conversation") == 0 &&
			    cJSON_IsNumber(id) &&
			    st->nconversations < st->o->customers)
				st->conversations[st->nconversations++] =
				    (long)id->valuedouble;
		}
		more = cJSON_IsTrue(cJSON_GetObjectItem(doc, "more"));
		const cJSON *c = cJSON_GetObjectItem(doc, "cursor");
		snprintf(cursor, sizeof cursor, "%s",
		         cJSON_IsString(c) ? c->valuestring : "");
		cJSON_Delete(doc);
	}
	rc = 0;
out:
	bench_api_close(&a);
	return rc;
}

static int
cmd_setup(const struct options *o)
{
	struct setup st = {.o = o};
	struct post_run in = {.nslots = o->connections}, out = {
	                                                     .nslots =
	                                                         o->connections};
	unsigned char *token = NULL;
	int token_len, rc = 1;
	struct timespec t0;

	st.secret_len = bench_read_secret("secret file", o->secret_file,
	                                  MAX_SECRET_BYTES,
	                                  (unsigned char **)&st.secret);
	token_len = bench_read_secret("token file", o->token_file, 4096, &token);
	if (st.secret_len < 0 || token_len < 0)
		goto done;
	st.auth = malloc((size_t)token_len + 32);
	if (st.auth == NULL)
		goto done;
	snprintf(st.auth, (size_t)token_len + 32, "Authorization: Bearer %s",
	         token);
	snprintf(st.url, sizeof st.url, "%s/webhook", o->relay);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	in.prepare = prepare_inbound;
	in.ctx = &st;
	if (post_many(&in, o->cacert, o->customers) != 0 ||
	    in.ok != o->customers) {
		fprintf(stderr, "send_load: %ld of %ld customer messages "
		                "stored\n",
		        in.ok, o->customers);
		goto done;
	}
	if (collect_conversations(&st) != 0)
		goto done;
	if (st.nconversations != o->customers) {
		fprintf(stderr, "send_load: %ld conversations, expected %ld\n",
		        st.nconversations, o->customers);
		goto done;
	}
	out.prepare = prepare_reply;
	out.ctx = &st;
	if (post_many(&out, o->cacert, o->count) != 0 || out.ok != o->count) {
		fprintf(stderr, "send_load: %ld of %ld replies queued\n",
		        out.ok, o->count);
		goto done;
	}
	printf("setup: %ld customers wrote, %ld replies queued in %.1f s\n",
	       o->customers, o->count, bench_ms_since(&t0) / 1000.0);
	rc = 0;
done:
	post_free(&in);
	post_free(&out);
	if (st.auth)
		OPENSSL_cleanse(st.auth, strlen(st.auth));
	free(st.auth);
	free(st.conversations);
	bench_free_secret((unsigned char *)st.secret, st.secret_len);
	bench_free_secret(token, token_len);
	return rc;
}

/* ------------------------------------------------------------------ */
/* blast: the baseline, sends straight to the simulator                */

struct blast {
	const struct options *o;
	char *auth;
	char url[512];
};

static int
prepare_blast(void *ctx, struct post_slot *s, long i)
{
	struct blast *b = ctx;
	char wa_id[32];
	customer_id(i % b->o->customers, wa_id, sizeof wa_id);
	if (buf_printf(&s->body,
	               "{\"messaging_product\":\"whatsapp\","
	               "\"recipient_type\":\"individual\",\"to\":\"%s\","
	               "\"type\":\"text\",\"text\":{\"body\":\"reply %ld: "
	               "your order ships tomorrow\"},"
	               "\"biz_opaque_callback_data\":\"blast:%ld\"}",
	               wa_id, i, i) != 0)
		return -1;
	return set_json_post(s, b->url, b->auth);
}

static int
cmd_blast(const struct options *o)
{
	struct blast b = {.o = o};
	struct post_run r = {.nslots = o->connections};
	unsigned char *token = NULL;
	int token_len, rc = 1;

	token_len = bench_read_secret("token file", o->token_file, 4096, &token);
	if (token_len < 0)
		return 1;
	b.auth = malloc((size_t)token_len + 32);
	if (b.auth == NULL)
		goto done;
	snprintf(b.auth, (size_t)token_len + 32, "Authorization: Bearer %s",
	         token);
	snprintf(b.url, sizeof b.url, "%s/v25.0/%s/messages", o->sim,
	         o->number_id);
	r.prepare = prepare_blast;
	r.ctx = &b;
	if (post_many(&r, o->cacert, o->count) != 0 || r.ok != o->count) {
		fprintf(stderr, "send_load: %ld of %ld sends accepted\n", r.ok,
		        o->count);
		goto done;
	}
	rc = 0;
done:
	post_free(&r);
	if (b.auth)
		OPENSSL_cleanse(b.auth, strlen(b.auth));
	free(b.auth);
	bench_free_secret(token, token_len);
	return rc;
}

/* ------------------------------------------------------------------ */
/* measure: what the simulator accepted, and when                      */

struct sent {
	double at;
	const char *to;
	long seq; /* from biz_opaque_callback_data: glivi:ID or blast:I */
};

static int
cmp_at(const void *a, const void *b)
{
	const struct sent *x = a, *y = b;
	return (x->at > y->at) - (x->at < y->at);
}

static int
cmp_seq(const void *a, const void *b)
{
	const struct sent *x = a, *y = b;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static long
sim_stat(struct bench_api *a, const char *sim, const char *name)
{
	char url[512];
	long v = -1;
	snprintf(url, sizeof url, "%s/_sim/stats", sim);
	if (bench_api_get(a, url) == 200) {
		cJSON *doc = cJSON_Parse(a->body.p);
		const cJSON *n = cJSON_GetObjectItem(doc, name);
		if (cJSON_IsNumber(n))
			v = (long)n->valuedouble;
		cJSON_Delete(doc);
	}
	return v;
}

static int
cmd_measure(const struct options *o)
{
	struct bench_api a;
	struct timespec t0;
	struct sent *s = NULL;
	char url[512];
	cJSON *doc = NULL, *e;
	long n = 0, accepted = 0, maxwin = 0, dup = 0, disorder = 0, bad = 0;
	int rc = 1;

	if (bench_api_open(&a, "X-Bench: measure", o->cacert,
	                   "glivi-send-load/1") != 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((accepted = sim_stat(&a, o->sim, "sends_accepted")) <
	       o->count) {
		if (bench_ms_since(&t0) > (double)o->timeout * 1000.0) {
			fprintf(stderr,
			        "send_load: %s: only %ld of %ld sends "
			        "accepted after %ld s\n",
			        o->label, accepted, o->count, o->timeout);
			goto out;
		}
		struct timespec pause = {0, 100 * 1000 * 1000};
		nanosleep(&pause, NULL);
	}
	snprintf(url, sizeof url, "%s/_sim/sent", o->sim);
	if (bench_api_get(&a, url) != 200 ||
	    (doc = cJSON_Parse(a.body.p)) == NULL) {
		fprintf(stderr, "send_load: cannot read /_sim/sent\n");
		goto out;
	}
	s = calloc((size_t)cJSON_GetArraySize(doc) + 1, sizeof *s);
	if (s == NULL)
		goto out;
	cJSON_ArrayForEach(e, doc)
	{
		const cJSON *at = cJSON_GetObjectItem(e, "received_at");
		const cJSON *to = cJSON_GetObjectItem(e, "to");
		const cJSON *op =
		    cJSON_GetObjectItem(e, "biz_opaque_callback_data");
		const char *colon;
		if (!cJSON_IsNumber(at) || !cJSON_IsString(to) ||
		    !cJSON_IsString(op) ||
		    (colon = strchr(op->valuestring, ':')) == NULL) {
			bad++;
			continue;
		}
		s[n].at = at->valuedouble;
		s[n].to = to->valuestring;
		s[n].seq = strtol(colon + 1, NULL, 10);
		n++;
	}
	/* Exactly once: every sequence number once. */
	qsort(s, (size_t)n, sizeof *s, cmp_seq);
	for (long i = 1; i < n; i++)
		if (s[i].seq == s[i - 1].seq)
			dup++;
	/* In order per customer: by arrival, each customer's sequence
	 * numbers only grow. Sorting by time is stable enough here: two
	 * sends to one customer never share a millisecond when each waits
	 * for the answer to the one before. */
	qsort(s, (size_t)n, sizeof *s, cmp_at);
	for (long i = 0; i < n; i++) {
		for (long j = i + 1; j < n; j++) {
			if (strcmp(s[j].to, s[i].to) == 0) {
				if (s[j].seq < s[i].seq)
					disorder++;
				break;
			}
		}
	}
	/* The busiest one-second window [t, t + 1 s) starting at a send. */
	double maxwin_at = 0;
	for (long i = 0, j = 0; i < n; i++) {
		while (j < n && s[j].at < s[i].at + 1.0 - 1e-9)
			j++;
		if (j - i > maxwin) {
			maxwin = j - i;
			maxwin_at = s[i].at - s[0].at;
		}
	}
	if (o->per_second && n > 0) {
		long sec = 0, c = 0;
		printf("%s: sends per second:", o->label);
		for (long i = 0; i < n; i++) {
			while (s[i].at >= s[0].at + (double)(sec + 1)) {
				printf(" %ld", c);
				c = 0;
				sec++;
			}
			c++;
		}
		printf(" %ld\n", c);
	}
	double span = n > 1 ? s[n - 1].at - s[0].at : 0;
	double rate = span > 0 ? (double)(n - 1) / span : 0;
	printf("%s: %ld sends accepted in %.3f s (first to last, the "
	       "simulator's clock): %.1f/s; busiest 1-s window %ld (from "
	       "+%.3f s)",
	       o->label, n, span, rate, maxwin, maxwin_at);
	if (o->rate > 0)
		printf("; limit %ld/s: %.1f%% of it", o->rate,
		       100.0 * rate / (double)o->rate);
	printf("\n%s: exactly once: %s (%ld duplicates, %ld unreadable, %ld "
	       "expected); per-customer order: %s (%ld inversions)\n",
	       o->label, dup == 0 && bad == 0 && n == o->count ? "yes" : "NO",
	       dup, bad, o->count, disorder == 0 ? "yes" : "NO", disorder);
	rc = dup == 0 && bad == 0 && n == o->count && disorder == 0 ? 0 : 1;
	if (o->rate > 0) {
		int pass = rate >= 0.95 * (double)o->rate &&
		           rate <= (double)o->rate && maxwin <= o->rate;
		printf("%s: bar (>= 95%% of %ld/s, never above it in any 1-s "
		       "window): %s\n",
		       o->label, o->rate, pass ? "PASS" : "FAIL");
		if (!pass)
			rc = 1;
	}
out:
	free(s);
	cJSON_Delete(doc);
	bench_api_close(&a);
	return rc;
}

/* ------------------------------------------------------------------ */

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: send_load setup --relay URL --secret-file PATH "
	        "--token-file PATH [options]\n"
	        "       send_load blast --sim URL --token-file PATH [options]\n"
	        "       send_load measure --sim URL [--rate R] [options]\n"
	        "  --cacert PATH       CA bundle for TLS verification\n"
	        "  --customers K       customers (default 1000)\n"
	        "  --count N           replies / sends / expected sends "
	        "(default 10000)\n"
	        "  --connections C     concurrent connections (default 8)\n"
	        "  --number-id ID      phone_number_id (default "
	        "106540352242922)\n"
	        "  --rate R            measure: the configured limit, for "
	        "the bar\n"
	        "  --timeout S         measure: seconds to wait (default 120)\n"
	        "  --label L           measure: how to name the run\n"
	        "  --per-second        measure: print the sends of each "
	        "second\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"relay", required_argument, NULL, 'r'},
	    {"sim", required_argument, NULL, 's'},
	    {"cacert", required_argument, NULL, 'a'},
	    {"secret-file", required_argument, NULL, 'S'},
	    {"token-file", required_argument, NULL, 'T'},
	    {"number-id", required_argument, NULL, 'i'},
	    {"customers", required_argument, NULL, 'k'},
	    {"count", required_argument, NULL, 'n'},
	    {"connections", required_argument, NULL, 'c'},
	    {"rate", required_argument, NULL, 'R'},
	    {"timeout", required_argument, NULL, 't'},
	    {"label", required_argument, NULL, 'l'},
	    {"per-second", no_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct options o = {
	    .number_id = "106540352242922",
	    .customers = 1000,
	    .count = 10000,
	    .connections = 8,
	    .timeout = 120,
	    .label = "run",
	};
	const char *cmd;
	int ch, rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int bad = 0;
		switch (ch) {
		case 'r':
			o.relay = optarg;
			break;
		case 's':
			o.sim = optarg;
			break;
		case 'a':
			o.cacert = optarg;
			break;
		case 'S':
			o.secret_file = optarg;
			break;
		case 'T':
			o.token_file = optarg;
			break;
		case 'i':
			o.number_id = optarg;
			bad = bench_json_safe("number-id", optarg);
			break;
		case 'k':
			bad = bench_parse_long("customers", optarg, 1, 9999999,
			                       &o.customers);
			break;
		case 'n':
			bad = bench_parse_long("count", optarg, 1, MAX_COUNT,
			                       &o.count);
			break;
		case 'c':
			bad = bench_parse_long("connections", optarg, 1,
			                       MAX_CONNECTIONS, &o.connections);
			break;
		case 'R':
			bad = bench_parse_long("rate", optarg, 0, 1000000,
			                       &o.rate);
			break;
		case 't':
			bad = bench_parse_long("timeout", optarg, 1, 86400,
			                       &o.timeout);
			break;
		case 'l':
			o.label = optarg;
			break;
		case 'P':
			o.per_second = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (bad)
			return 2;
	}
	if (bench_no_more_args(argc, argv) != 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(cmd, "setup") == 0 && o.relay && o.secret_file &&
	    o.token_file && bench_http_url(o.relay))
		rc = cmd_setup(&o);
	else if (strcmp(cmd, "blast") == 0 && o.sim && o.token_file &&
	         bench_http_url(o.sim))
		rc = cmd_blast(&o);
	else if (strcmp(cmd, "measure") == 0 && o.sim && bench_http_url(o.sim))
		rc = cmd_measure(&o);
	else {
		usage(stderr);
		rc = 2;
	}
	curl_global_cleanup();
	return rc;
}
