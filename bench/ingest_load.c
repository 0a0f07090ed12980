/* ingest_load: load generator for glivi-relay benchmarks and crash tests.
 * POSTs N distinct HMAC-signed WhatsApp webhook bodies over C keep-alive
 * connections (one curl multi). */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bench_common.h"

#define MAX_CONNECTIONS 4096L
#define MAX_REQUESTS 100000000L
#define MAX_CUSTOMERS 10000000L /* customer suffix is 7 digits */
#define MAX_BODY_BYTES (16L * 1024 * 1024)
#define MAX_SECRET_BYTES (64L * 1024)
#define MAX_DISTINCT_ERRORS 8
#define MSG_SIZE 512

const char bench_prog[] = "ingest_load";

struct options {
	const char *url;
	const char *secret_file;
	const char *cacert;
	const char *number_id;
	const char *prefix;
	const char *acked_file;
	long connections;
	long requests;
	long customers;
	long body_bytes;
	long timeout_ms;
	int stop_on_error;
};

struct slot {
	CURL *easy;
	struct curl_slist *headers;
	struct bench_buf body;
	long index; /* request index currently in flight, -1 when idle */
	struct timespec started;
	char errbuf[CURL_ERROR_SIZE];
};

struct run {
	const struct options *opt;
	const unsigned char *secret;
	int secret_len;
	CURLM *multi;
	struct slot *slots;
	FILE *acked;
	long next; /* next request index to issue */
	long issued;
	long inflight;
	long ok;
	long non200;
	long errors;
	int stopping;
	int acked_failed;
	double *lat_ms; /* latencies of 200 responses */
	char seen[MAX_DISTINCT_ERRORS][MSG_SIZE];
	int nseen;
};

static void
usage(FILE *f, const char *argv0)
{
	fprintf(f,
	        "usage: %s --url URL --secret-file PATH [options]\n"
	        "  --cacert PATH        CA bundle for TLS verification (always "
	        "on)\n"
	        "  --connections C      concurrent keep-alive connections "
	        "(default 16)\n"
	        "  --requests N         number of requests (default 20000)\n"
	        "  --number-id ID       metadata.phone_number_id (default "
	        "106540352242922)\n"
	        "  --prefix STR         message id prefix (default "
	        "wamid.LOAD-<pid>-)\n"
	        "  --customers K        distinct customers (default 500)\n"
	        "  --body-bytes B       approximate body size (default 1500)\n"
	        "  --acked-file PATH    append the wamid of each 200 response, "
	        "flushed per line\n"
	        "  --stop-on-error      issue no new requests after the first "
	        "transport error\n"
	        "  --timeout-ms T       per-request total timeout (default "
	        "10000)\n",
	        argv0);
}

/* Reports a failure the first time its kind (key) is seen, up to
 * MAX_DISTINCT_ERRORS kinds. */
static void
note_error(struct run *r, const char *key, const char *detail)
{
	for (int k = 0; k < r->nseen; k++)
		if (strcmp(r->seen[k], key) == 0)
			return;
	if (r->nseen >= MAX_DISTINCT_ERRORS)
		return;
	snprintf(r->seen[r->nseen], sizeof r->seen[r->nseen], "%s", key);
	r->nseen++;
	fprintf(stderr, "ingest_load: %s%s%s\n", key, detail[0] ? ": " : "",
	        detail);
}

/* Builds the webhook body for request i into the slot buffer. */
static int
build_body(const struct run *r, struct slot *s, long i)
{
	const struct options *o = r->opt;
	char customer[32], name[48], text[96];
	long k = i % o->customers;
	snprintf(customer, sizeof customer, "1555%07ld", k);
	snprintf(name, sizeof name, "Load Customer %ld", k);
	snprintf(text, sizeof text,
	         "load test message %ld with some padding text", i);
	const struct bench_webhook w = {
	    .number_id = o->number_id,
	    .name = name,
	    .wa_id = customer,
	    .prefix = o->prefix,
	    .index = i,
	    .text = text,
	    .body_bytes = o->body_bytes,
	};
	return bench_webhook_body(&s->body, &w);
}

/* Prepares and adds request i on slot s. Returns 0 or -1 on a fatal error. */
static int
start_request(struct run *r, struct slot *s, long i)
{
	if (build_body(r, s, i) != 0 ||
	    bench_sign_post(s->easy, r->secret, r->secret_len, &s->body,
	                    &s->headers) != 0)
		return -1;
	s->errbuf[0] = '\0';
	s->index = i;
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	CURLMcode m = curl_multi_add_handle(r->multi, s->easy);
	if (m != CURLM_OK) {
		fprintf(stderr, "ingest_load: curl_multi_add_handle: %s\n",
		        curl_multi_strerror(m));
		s->index = -1;
		return -1;
	}
	r->issued++;
	r->inflight++;
	return 0;
}

static void
record_ack(struct run *r, const struct slot *s)
{
	if (!r->acked || r->acked_failed)
		return;
	if (fprintf(r->acked, "%s%ld\n", r->opt->prefix, s->index) < 0 ||
	    fflush(r->acked) != 0) {
		fprintf(stderr,
		        "ingest_load: writing acked file failed: %s (no "
		        "further acks recorded)\n",
		        strerror(errno));
		r->acked_failed = 1;
		r->stopping = 1;
	}
}

/* Handles one finished transfer. Returns 0 or -1 on a fatal error. */
static int
finish_request(struct run *r, struct slot *s, CURLcode result)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double ms = bench_elapsed_ms(&s->started, &now);
	char msg[MSG_SIZE];

	CURLMcode m = curl_multi_remove_handle(r->multi, s->easy);
	r->inflight--;
	if (m != CURLM_OK) {
		fprintf(stderr, "ingest_load: curl_multi_remove_handle: %s\n",
		        curl_multi_strerror(m));
		return -1;
	}

	if (result != CURLE_OK) {
		r->errors++;
		snprintf(msg, sizeof msg, "transport error: %s",
		         curl_easy_strerror(result));
		note_error(r, msg, s->errbuf);
		if (r->opt->stop_on_error)
			r->stopping = 1;
	} else {
		long status = 0;
		CURLcode c =
		    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
		if (c != CURLE_OK) {
			fprintf(stderr, "ingest_load: curl_easy_getinfo: %s\n",
			        curl_easy_strerror(c));
			return -1;
		}
		if (status == 200) {
			r->lat_ms[r->ok++] = ms;
			record_ack(r, s);
		} else {
			r->non200++;
			snprintf(msg, sizeof msg, "HTTP status %ld", status);
			note_error(r, msg, "");
		}
	}
	s->index = -1;

	if (!r->stopping && r->next < r->opt->requests)
		return start_request(r, s, r->next++);
	return 0;
}

static int
setup_easy(const struct run *r, struct slot *s)
{
	const struct options *o = r->opt;
	CURLcode c;
	s->easy = curl_easy_init();
	if (!s->easy) {
		fprintf(stderr, "ingest_load: curl_easy_init failed\n");
		return -1;
	}
	s->index = -1;
	c = bench_curl_opts(s->easy, o->cacert, s->errbuf,
	                    "glivi-ingest-load/1");
	BENCH_SETOPT(c, s->easy, CURLOPT_URL, o->url);
	BENCH_SETOPT(c, s->easy, CURLOPT_POST, 1L);
	BENCH_SETOPT(c, s->easy, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	BENCH_SETOPT(c, s->easy, CURLOPT_MAXCONNECTS, o->connections);
	BENCH_SETOPT(c, s->easy, CURLOPT_WRITEFUNCTION, bench_discard_cb);
	BENCH_SETOPT(c, s->easy, CURLOPT_PRIVATE, (void *)s);
	return bench_setopt_result(c);
}

/* Drives the multi handle until nothing is in flight. Returns 0 or -1 on a
 * fatal error. */
static int
run_loop(struct run *r)
{
	while (r->inflight > 0) {
		int running = 0;
		CURLMcode m = curl_multi_perform(r->multi, &running);
		if (m != CURLM_OK) {
			fprintf(stderr, "ingest_load: curl_multi_perform: %s\n",
			        curl_multi_strerror(m));
			return -1;
		}
		CURLMsg *msg;
		int left = 0;
		while ((msg = curl_multi_info_read(r->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			char *priv = NULL;
			CURL *easy = msg->easy_handle;
			CURLcode result =
			    msg->data.result; /* msg is invalid after
			                         remove_handle */
			if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) !=
			        CURLE_OK ||
			    !priv) {
				fprintf(
				    stderr,
				    "ingest_load: lost track of a transfer\n");
				return -1;
			}
			if (finish_request(r, (struct slot *)(void *)priv,
			                   result) != 0)
				return -1;
		}
		if (r->inflight == 0)
			break;
		m = curl_multi_poll(r->multi, NULL, 0, 1000, NULL);
		if (m != CURLM_OK) {
			fprintf(stderr, "ingest_load: curl_multi_poll: %s\n",
			        curl_multi_strerror(m));
			return -1;
		}
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct options *o, char *default_prefix,
           size_t dp_size)
{
	static const struct option longopts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"secret-file", required_argument, NULL, 's'},
	    {"cacert", required_argument, NULL, 'a'},
	    {"connections", required_argument, NULL, 'c'},
	    {"requests", required_argument, NULL, 'n'},
	    {"number-id", required_argument, NULL, 'i'},
	    {"prefix", required_argument, NULL, 'p'},
	    {"customers", required_argument, NULL, 'k'},
	    {"body-bytes", required_argument, NULL, 'b'},
	    {"acked-file", required_argument, NULL, 'f'},
	    {"stop-on-error", no_argument, NULL, 'e'},
	    {"timeout-ms", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	snprintf(default_prefix, dp_size, "wamid.LOAD-%ld-", (long)getpid());
	*o = (struct options){
	    .number_id = "106540352242922",
	    .prefix = default_prefix,
	    .connections = 16,
	    .requests = 20000,
	    .customers = 500,
	    .body_bytes = 1500,
	    .timeout_ms = 10000,
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int rc = 0;
		switch (ch) {
		case 'u':
			o->url = optarg;
			break;
		case 's':
			o->secret_file = optarg;
			break;
		case 'a':
			o->cacert = optarg;
			break;
		case 'c':
			rc = bench_parse_long("connections", optarg, 1,
			                      MAX_CONNECTIONS, &o->connections);
			break;
		case 'n':
			rc = bench_parse_long("requests", optarg, 1,
			                      MAX_REQUESTS, &o->requests);
			break;
		case 'i':
			o->number_id = optarg;
			break;
		case 'p':
			o->prefix = optarg;
			break;
		case 'k':
			rc = bench_parse_long("customers", optarg, 1,
			                      MAX_CUSTOMERS, &o->customers);
			break;
		case 'b':
			rc = bench_parse_long("body-bytes", optarg, 0,
			                      MAX_BODY_BYTES, &o->body_bytes);
			break;
		case 'f':
			o->acked_file = optarg;
			break;
		case 'e':
			o->stop_on_error = 1;
			break;
		case 't':
			rc =
			    bench_parse_long("timeout-ms", optarg, 1,
			                     24L * 3600 * 1000, &o->timeout_ms);
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
	if (!o->url) {
		fprintf(stderr, "ingest_load: --url is required\n");
		return -1;
	}
	if (!bench_http_url(o->url)) {
		fprintf(
		    stderr,
		    "ingest_load: --url must start with http:// or https://\n");
		return -1;
	}
	if (!o->secret_file) {
		fprintf(stderr, "ingest_load: --secret-file is required\n");
		return -1;
	}
	if (o->number_id[0] == '\0' ||
	    bench_json_safe("number-id", o->number_id) != 0 ||
	    bench_json_safe("prefix", o->prefix) != 0)
		return -1;
	if (strlen(o->prefix) > 200) {
		fprintf(stderr,
		        "ingest_load: --prefix is too long (max 200)\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct options opt;
	char default_prefix[64];
	if (parse_args(argc, argv, &opt, default_prefix,
	               sizeof default_prefix) != 0)
		return 2;

	unsigned char *secret = NULL;
	int secret_len = bench_read_secret("secret file", opt.secret_file,
	                                   MAX_SECRET_BYTES, &secret);
	if (secret_len < 0)
		return 2;

	signal(SIGPIPE, SIG_IGN);
	int exit_code = 1;
	struct run r = {
	    .opt = &opt, .secret = secret, .secret_len = secret_len};

	if (opt.acked_file) {
		r.acked = fopen(opt.acked_file, "a");
		if (!r.acked) {
			fprintf(stderr,
			        "ingest_load: cannot open acked file %s: %s\n",
			        opt.acked_file, strerror(errno));
			bench_free_secret(secret, secret_len);
			return 2;
		}
	}
	CURLcode gc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (gc != CURLE_OK) {
		fprintf(stderr, "ingest_load: curl_global_init: %s\n",
		        curl_easy_strerror(gc));
		if (r.acked)
			fclose(r.acked);
		bench_free_secret(secret, secret_len);
		return 1;
	}

	long nslots =
	    opt.connections < opt.requests ? opt.connections : opt.requests;
	r.lat_ms = malloc((size_t)opt.requests * sizeof *r.lat_ms);
	r.slots = calloc((size_t)nslots, sizeof *r.slots);
	r.multi = curl_multi_init();
	if (!r.lat_ms || !r.slots || !r.multi) {
		fprintf(
		    stderr,
		    "ingest_load: out of memory / curl_multi_init failed\n");
		goto out;
	}
	CURLMcode mc;
	if ((mc = curl_multi_setopt(r.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	                            opt.connections)) != CURLM_OK ||
	    (mc = curl_multi_setopt(r.multi, CURLMOPT_MAXCONNECTS,
	                            opt.connections)) != CURLM_OK ||
	    (mc = curl_multi_setopt(r.multi, CURLMOPT_PIPELINING,
	                            (long)CURLPIPE_NOTHING)) != CURLM_OK) {
		fprintf(stderr, "ingest_load: curl_multi_setopt: %s\n",
		        curl_multi_strerror(mc));
		goto out;
	}
	for (long j = 0; j < nslots; j++)
		if (setup_easy(&r, &r.slots[j]) != 0)
			goto out;

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int fatal = 0;
	for (long j = 0; j < nslots && !fatal; j++)
		if (start_request(&r, &r.slots[j], r.next++) != 0)
			fatal = 1;
	if (!fatal && run_loop(&r) != 0)
		fatal = 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (fatal)
		goto out;

	double secs = bench_elapsed_ms(&t0, &t1) / 1000.0;
	bench_sort(r.lat_ms, r.ok);
	if (r.issued < opt.requests)
		fprintf(stderr,
		        "ingest_load: stopped early; %ld of %ld requests were "
		        "never sent\n",
		        opt.requests - r.issued, opt.requests);
	printf(
	    "requests=%ld ok=%ld non200=%ld errors=%ld seconds=%.3f rate=%.1f "
	    "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
	    r.issued, r.ok, r.non200, r.errors, secs,
	    secs > 0 ? (double)r.ok / secs : 0.0,
	    bench_percentile(r.lat_ms, r.ok, 0.50),
	    bench_percentile(r.lat_ms, r.ok, 0.90),
	    bench_percentile(r.lat_ms, r.ok, 0.99),
	    bench_percentile(r.lat_ms, r.ok, 1.0));
	if (fflush(stdout) != 0)
		fprintf(stderr, "ingest_load: writing stdout failed\n");
	else if (r.ok == opt.requests && !r.acked_failed)
		exit_code = 0;

out:
	if (r.slots) {
		for (long j = 0; j < nslots; j++) {
			struct slot *s = &r.slots[j];
			if (s->easy) {
				if (s->index >= 0 && r.multi)
					curl_multi_remove_handle(r.multi,
					                         s->easy);
				curl_easy_cleanup(s->easy);
			}
			curl_slist_free_all(s->headers);
			free(s->body.p);
		}
		free(r.slots);
	}
	if (r.multi)
		curl_multi_cleanup(r.multi);
	curl_global_cleanup();
	if (r.acked && fclose(r.acked) != 0) {
		fprintf(stderr, "ingest_load: closing acked file failed: %s\n",
		        strerror(errno));
		exit_code = 1;
	}
	free(r.lat_ms);
	bench_free_secret(secret, secret_len);
	return exit_code;
}
