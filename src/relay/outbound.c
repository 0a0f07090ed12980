/*
 * The outbound sender thread (glivi-send). It reads due messages from its
 * own read-only connection, spends rate-limit tokens, and records every
 * state change (sending, sent, retry, failed) as a job on the committer, so
 * the store keeps one writer. It never touches the HTTP server.
 */
#include "relay/outbound.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "relay/ingest.h"
#include "relay/outmedia.h"
#include "relay/store.h"

#define BATCH 16
#define PAIRS 1024	       /* recipients whose pair limit is tracked */
#define WINDOW (24 * 3600)     /* the customer service window, seconds */
#define MAX_BACKOFF 300	       /* seconds */
#define MAX_ANSWER (64 * 1024) /* Graph API answers are small */

struct bucket {
	double tokens;
	double last; /* monotonic seconds */
};

struct pair {
	uint64_t key;
	struct bucket b;
};

struct outbound {
	const struct relay_config *cfg;
	struct committer *committer;
	char *auth_header;

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping;
	int pending;

	struct bucket *numbers; /* one per configured number, by index */
	struct pair pairs[PAIRS];
	struct store *reader;	/* the sender thread's */
	atomic_int media_stop;	/* ends a media upload in flight */
};

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Refills a bucket; takes a token if there is one. Returns the seconds
 * until one is available (0 when taken). */
static double
bucket_take(struct bucket *b, double capacity, double per_second)
{
	double t = now_mono();

	if (b->last == 0) {
		b->tokens = capacity;
		b->last = t;
	}
	b->tokens += (t - b->last) * per_second;
	if (b->tokens > capacity)
		b->tokens = capacity;
	b->last = t;
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return 0;
	}
	return (1 - b->tokens) / per_second;
}

static uint64_t recipient_key(int64_t, const char *);

static struct bucket *
pair_bucket(struct outbound *o, int64_t number_id, const char *recipient)
{
	uint64_t h = recipient_key(number_id, recipient);
	struct pair *p;

	/* A collision reuses the slot: the worst case is Meta's 131056 for
	 * the other customer, which is retried. */
	p = &o->pairs[h % PAIRS];
	if (p->key != h) {
		p->key = h;
		memset(&p->b, 0, sizeof p->b);
	}
	return &p->b;
}

/* -- the Graph API body ----------------------------------------------- */

static int
is_media(const char *t)
{
	return strcmp(t, "image") == 0 || strcmp(t, "video") == 0 ||
	    strcmp(t, "audio") == 0 || strcmp(t, "document") == 0 ||
	    strcmp(t, "sticker") == 0;
}

cJSON *
outbound_body(const char *type, const cJSON *req, const char *wa_id,
    const char *user_id, const char *target, int64_t message_id)
{
	cJSON *b = cJSON_CreateObject(), *o;
	char opaque[48];

	cJSON_AddStringToObject(b, "messaging_product", "whatsapp");
	cJSON_AddStringToObject(b, "recipient_type", "individual");
	/* "to" wins over "recipient" at Meta; a BSUID-only customer has
	 * only the latter. */
	if (wa_id != NULL && *wa_id != '\0')
		cJSON_AddStringToObject(b, "to", wa_id);
	else
		cJSON_AddStringToObject(b, "recipient", user_id);
	cJSON_AddStringToObject(b, "type", type);
	if (target != NULL && strcmp(type, "reaction") != 0) {
		o = cJSON_AddObjectToObject(b, "context");
		cJSON_AddStringToObject(o, "message_id", target);
	}
	if (strcmp(type, "text") == 0) {
		o = cJSON_AddObjectToObject(b, "text");
		jx_add_str(o, "body", jx_str(req, "text"));
		if (jx_bool(req, "preview_url"))
			cJSON_AddTrueToObject(o, "preview_url");
	} else if (strcmp(type, "reaction") == 0) {
		o = cJSON_AddObjectToObject(b, "reaction");
		jx_add_str(o, "message_id", target);
		jx_add_str(o, "emoji", jx_str(req, "emoji") ?
		    jx_str(req, "emoji") : "");
	} else if (strcmp(type, "template") == 0) {
		cJSON *t = cJSON_Duplicate(jx_obj(req, "template"), 1);
		const char *lang = jx_str(t, "language");

		/* Agents name the language; Meta wants {"code": …}. */
		if (lang != NULL) {
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "code", lang);
			cJSON_ReplaceItemInObjectCaseSensitive(t, "language", o);
		}
		cJSON_AddItemToObject(b, "template", t);
	} else if (is_media(type)) {
		cJSON_AddItemToObject(b, type,
		    cJSON_Duplicate(jx_obj(req, "media"), 1));
	}
	snprintf(opaque, sizeof opaque, OUTBOUND_OPAQUE_PREFIX "%" PRId64,
	    message_id);
	cJSON_AddStringToObject(b, "biz_opaque_callback_data", opaque);
	return b;
}

/* -- what Meta answered ------------------------------------------------ */

static int
retryable_code(int64_t code)
{
	static const int64_t codes[] = { 1, 2, 4, 190, 80007, 130429, 131000,
		131016, 131056, 131057 };

	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		if (codes[i] == code)
			return 1;
	}
	return 0;
}

enum outbound_verdict
outbound_classify(long status, const char *body, char **wamid,
    cJSON **failure, int *pair_limited)
{
	cJSON *root = body ? cJSON_Parse(body) : NULL, *e, *f;
	const char *id;
	int64_t code = 0;
	enum outbound_verdict v;

	*wamid = NULL;
	*failure = NULL;
	*pair_limited = 0;
	if (status == 200) {
		id = jx_str(cJSON_GetArrayItem(jx_arr(root, "messages"), 0),
		    "id");
		if (id != NULL && *id != '\0') {
			*wamid = xstrdup(id);
			cJSON_Delete(root);
			return OUTBOUND_ACCEPTED;
		}
	}
	e = jx_obj(root, "error");
	f = cJSON_CreateObject();
	if (e != NULL && jx_int64(e, "code", &code) == 0)
		jx_add_int(f, "code", code);
	else
		jx_add_int(f, "code", status);
	jx_add_str(f, "title", e ? jx_str(e, "type") : NULL);
	jx_add_str(f, "message", e ? jx_str(e, "message") :
	    "the Graph API answered without an error object");
	jx_add_str(f, "details", jx_str(jx_obj(e, "error_data"), "details"));
	jx_add_str(f, "fbtrace_id", jx_str(e, "fbtrace_id"));
	jx_add_int(f, "http_status", status);
	if (code == 131047)
		cJSON_ReplaceItemInObject(f, "message", cJSON_CreateString(
		    "the customer last wrote more than 24 hours ago; only a "
		    "template can be sent now"));
	*failure = f;
	*pair_limited = code == 131056;
	if (status >= 500 || status == 429 || retryable_code(code) ||
	    (status == 200 && e == NULL))
		v = OUTBOUND_RETRY;
	else
		v = OUTBOUND_FAILED;
	cJSON_Delete(root);
	return v;
}

/* -- recording outcomes through the committer -------------------------- */

enum mark_kind { MARK_SENDING, MARK_RETRY, MARK_FAILED, MARK_ACCEPTED,
	MARK_RETRY_COUNTED };

struct mark {
	struct commit_job job;
	enum mark_kind kind;
	int64_t id;
	int64_t number_id;
	int64_t when;
	const char *wamid;
	const cJSON *failure;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
};

static int
mark_apply(struct commit_job *job, struct store *st,
    const struct relay_config *cfg)
{
	struct mark *m = job->apply_arg;
	int rc;

	(void)cfg;
	switch (m->kind) {
	case MARK_SENDING:
		rc = store_outbound_mark(st, m->id, "sending", 0, m->when, 1,
		    NULL);
		break;
	case MARK_RETRY:
		rc = store_outbound_mark(st, m->id, "queued", m->when, 0, 0,
		    m->failure);
		break;
	case MARK_RETRY_COUNTED:
		/* A try that failed before 'sending' (a media upload)
		 * counts here. */
		rc = store_outbound_mark(st, m->id, "queued", m->when, 0, 1,
		    m->failure);
		break;
	case MARK_FAILED:
		rc = store_outbound_mark(st, m->id, "failed", 0, 0, 0,
		    m->failure);
		break;
	case MARK_ACCEPTED:
		rc = store_outbound_accepted(st, m->id, m->number_id, m->wamid);
		break;
	default:
		rc = -1;
	}
	job->status = rc == 0 ? 200 : 500;
	return rc;
}

static void
mark_done(struct commit_job *job, void *arg)
{
	struct mark *m = arg;

	pthread_mutex_lock(&m->lock);
	m->done = 1;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

/* Records one outcome durably; waits for its commit. */
static int
mark(struct outbound *o, enum mark_kind kind, int64_t id, int64_t number_id,
    int64_t when, const char *wamid, const cJSON *failure)
{
	struct mark m;
	int rc;

	memset(&m, 0, sizeof m);
	m.kind = kind;
	m.id = id;
	m.number_id = number_id;
	m.when = when;
	m.wamid = wamid;
	m.failure = failure;
	m.job.apply = mark_apply;
	m.job.apply_arg = &m;
	m.job.done = mark_done;
	m.job.arg = &m;
	pthread_mutex_init(&m.lock, NULL);
	pthread_cond_init(&m.cond, NULL);
	if (committer_submit(o->committer, &m.job) != 0) {
		rc = -1;
		goto out;
	}
	pthread_mutex_lock(&m.lock);
	while (!m.done)
		pthread_cond_wait(&m.cond, &m.lock);
	pthread_mutex_unlock(&m.lock);
	rc = m.job.status == 200 ? 0 : -1;
out:
	pthread_mutex_destroy(&m.lock);
	pthread_cond_destroy(&m.cond);
	return rc;
}

/* -- one send ------------------------------------------------------------ */

static size_t
on_answer(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > MAX_ANSWER)
		return 0;
	buf_add(b, p, size * n);
	return size * n;
}

/* Ends a transfer in flight when the relay stops. */
static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct outbound *o = arg;
	int stopping;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	pthread_mutex_lock(&o->lock);
	stopping = o->stopping;
	pthread_mutex_unlock(&o->lock);
	return stopping;
}

static int64_t
backoff(int attempts, int pair_limited)
{
	unsigned char r;
	double base = pair_limited ? pow(4, attempts) : pow(2, attempts);

	if (base > MAX_BACKOFF)
		base = MAX_BACKOFF;
	if (RAND_bytes(&r, 1) != 1)
		r = 128;
	/* Jitter up to half again, so retries from many messages spread. */
	return (int64_t)(base * (1.0 + (double)r / 512.0)) + 1;
}

static void
send_one(struct outbound *o, CURL *curl, struct store_send *m)
{
	const struct relay_config *cfg = o->cfg;
	struct curl_slist *hdrs = NULL;
	struct buf answer;
	cJSON *req, *body, *failure = NULL;
	char *json, *url, *wamid = NULL, errbuf[CURL_ERROR_SIZE] = "";
	curl_off_t uploaded = 0;
	enum outbound_verdict v;
	enum mark_kind retry = MARK_RETRY;
	int64_t now = (int64_t)time(NULL);
	long status = 0;
	int pair_limited = 0;
	CURLcode cc;

	req = m->request ? cJSON_Parse(m->request) : NULL;
	if (strcmp(m->type, "template") != 0 &&
	    m->last_inbound_at + WINDOW <= now) {
		/* Refused before calling Meta: the window closed while the
		 * message waited. */
		failure = cJSON_CreateObject();
		jx_add_int(failure, "code", 131047);
		cJSON_AddStringToObject(failure, "message", "the customer last "
		    "wrote more than 24 hours ago; only a template can be sent "
		    "now");
		mark(o, MARK_FAILED, m->id, m->number_id, 0, NULL, failure);
		cJSON_Delete(failure);
		cJSON_Delete(req);
		return;
	}
	body = outbound_body(m->type, req, m->wa_id, m->user_id,
	    m->target_wamid, m->id);
	/* A file the relay holds goes to Meta first; the message is not
	 * 'sending' until then, so a crash meanwhile loses nothing. */
	v = outmedia_prepare(cfg, o->committer, o->reader, o->auth_header,
	    &o->media_stop, m, body, &status, &failure);
	if (v != OUTBOUND_ACCEPTED) {
		cJSON_Delete(body);
		cJSON_Delete(req);
		retry = MARK_RETRY_COUNTED;
		goto settle;
	}
	json = jx_print(body);
	cJSON_Delete(body);
	cJSON_Delete(req);

	/* On record before the call: a crash from here on leaves it
	 * 'sending', which is never sent again blindly. */
	if (mark(o, MARK_SENDING, m->id, m->number_id, now, NULL, NULL) != 0) {
		free(json);
		return;
	}
	url = xasprintf("%s/%s/%s/messages", cfg->graph_url, cfg->graph_version,
	    m->phone_number_id);
	buf_init(&answer);
	hdrs = curl_slist_append(hdrs, o->auth_header);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(curl, CURLINFO_SIZE_UPLOAD_T, &uploaded);
	curl_slist_free_all(hdrs);
	free(url);
	free(json);

	if (cc != CURLE_OK) {
		if (uploaded > 0 || cc == CURLE_GOT_NOTHING ||
		    cc == CURLE_RECV_ERROR) {
			/* The request went out; Meta may have sent it. Leave it
			 * 'sending' for a status webhook to settle. */
			log_warn("outbound: message %" PRId64 " may have been "
			    "sent (%s); waiting for its status", m->id,
			    curl_easy_strerror(cc));
			buf_free(&answer);
			return;
		}
		v = OUTBOUND_RETRY;
		failure = cJSON_CreateObject();
		cJSON_AddStringToObject(failure, "message",
		    curl_easy_strerror(cc));
		log_warn("outbound: message %" PRId64 " not sent: %s", m->id,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
	} else
		v = outbound_classify(status, answer.data, &wamid, &failure,
		    &pair_limited);
	buf_free(&answer);

settle:
	switch (v) {
	case OUTBOUND_ACCEPTED:
		mark(o, MARK_ACCEPTED, m->id, m->number_id, 0, wamid, NULL);
		break;
	case OUTBOUND_RETRY:
		if (m->attempts + 1 >= o->cfg->max_attempts) {
			log_warn("outbound: message %" PRId64 " failed after %d "
			    "attempts", m->id, m->attempts + 1);
			mark(o, MARK_FAILED, m->id, m->number_id, 0, NULL,
			    failure);
		} else
			mark(o, retry, m->id, m->number_id,
			    now + backoff(m->attempts, pair_limited), NULL,
			    failure);
		break;
	case OUTBOUND_FAILED:
		log_info("outbound: message %" PRId64 " refused by the Graph "
		    "API (HTTP %ld)", m->id, status);
		mark(o, MARK_FAILED, m->id, m->number_id, 0, NULL, failure);
		break;
	case OUTBOUND_AMBIGUOUS:
		break;
	}
	free(wamid);
	cJSON_Delete(failure);
}

/* Messages left 'sending' too long get "may not have been sent". */
static void
settle_ambiguous(struct outbound *o, struct store *reader)
{
	int64_t ids[BATCH];
	size_t n = 0;
	cJSON *failure;

	if (store_outbound_stale(reader, (int64_t)time(NULL) -
	    o->cfg->ambiguous_timeout, ids, BATCH, &n) != 0 || n == 0)
		return;
	failure = cJSON_CreateObject();
	cJSON_AddStringToObject(failure, "code", "unknown");
	cJSON_AddStringToObject(failure, "message", "may not have been sent: "
	    "the Graph API's answer was lost and no status arrived");
	for (size_t i = 0; i < n; i++)
		mark(o, MARK_FAILED, ids[i], 0, 0, NULL, failure);
	cJSON_Delete(failure);
}

static size_t
number_index(const struct outbound *o, int64_t number_id)
{
	for (size_t i = 0; i < o->cfg->nnumbers; i++) {
		if (o->cfg->numbers[i].store_id == number_id)
			return i;
	}
	return 0;
}

static uint64_t
recipient_key(int64_t number_id, const char *recipient)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)number_id;

	for (; *recipient != '\0'; recipient++)
		h = (h ^ (unsigned char)*recipient) * 1099511628211ULL;
	return h;
}

/*
 * Sends one due message if its number's rate and its customer's pair
 * budget allow; otherwise notes how long to wait, and blocks the customer
 * for the rest of this scan so their later messages keep their order.
 */
static void
try_send(struct outbound *o, CURL *curl, struct store_send *m,
    uint64_t *blocked, size_t *nblocked, double *wait)
{
	const char *who = *m->wa_id ? m->wa_id : m->user_id;
	uint64_t key = recipient_key(m->number_id, who);
	struct bucket *nb = &o->numbers[number_index(o, m->number_id)];
	double w1, w2 = 0;

	for (size_t i = 0; i < *nblocked; i++) {
		if (blocked[i] == key)
			return;
	}
	w1 = bucket_take(nb, (double)o->cfg->send_rate,
	    (double)o->cfg->send_rate);
	if (w1 == 0) {
		w2 = bucket_take(pair_bucket(o, m->number_id, who),
		    (double)o->cfg->pair_burst, 1.0 /
		    (double)o->cfg->pair_interval);
		if (w2 > 0)
			nb->tokens += 1; /* not spent after all */
	}
	if (w1 == 0 && w2 == 0) {
		send_one(o, curl, m);
		return;
	}
	if (*nblocked < PAIRS)
		blocked[(*nblocked)++] = key;
	if (w1 + w2 < *wait)
		*wait = w1 + w2;
}

static void *
outbound_main(void *arg)
{
	struct outbound *o = arg;
	struct store *reader = NULL;
	struct store_send due[BATCH];
	struct timespec deadline;
	uint64_t blocked[PAIRS];
	size_t nblocked;
	char *cause = NULL;
	int64_t last;
	double wait;
	size_t n;
	int stopping;
	CURL *curl;

	pthread_setname_np(pthread_self(), "glivi-send");
	curl = curl_easy_init();
	if (curl == NULL ||
	    store_open_reader(o->cfg->store_url, &reader, &cause) != 0) {
		log_error("outbound: cannot start: %s", cause ? cause :
		    "no curl handle");
		free(cause);
		if (curl)
			curl_easy_cleanup(curl);
		return NULL;
	}
	o->reader = reader;
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)o->cfg->request_timeout);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "glivi-relay/" GLIVI_VERSION);
	if (o->cfg->graph_ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, o->cfg->graph_ca_file);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, o);

	for (;;) {
		pthread_mutex_lock(&o->lock);
		if (o->stopping) {
			pthread_mutex_unlock(&o->lock);
			break;
		}
		o->pending = 0;
		pthread_mutex_unlock(&o->lock);

		settle_ambiguous(o, reader);
		wait = 1.0;
		nblocked = 0;
		last = 0;
		/* Scan every due message in pages: a customer held by the
		 * pair limit holds up only their own messages. */
		do {
			if (store_outbound_due(reader, (int64_t)time(NULL), last,
			    due, BATCH, &n) != 0)
				n = 0;
			pthread_mutex_lock(&o->lock);
			stopping = o->stopping;
			pthread_mutex_unlock(&o->lock);
			for (size_t i = 0; i < n; i++) {
				struct store_send *m = &due[i];

				last = m->id;
				if (!stopping)
					try_send(o, curl, m, blocked, &nblocked,
					    &wait);
				store_send_free(m);
			}
		} while (n == BATCH && !stopping);

		pthread_mutex_lock(&o->lock);
		if (!o->pending && !o->stopping) {
			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_sec += (time_t)wait;
			deadline.tv_nsec += (long)((wait - floor(wait)) * 1e9);
			if (deadline.tv_nsec >= 1000000000L) {
				deadline.tv_sec++;
				deadline.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&o->wake, &o->lock, &deadline);
		}
		pthread_mutex_unlock(&o->lock);
	}
	curl_easy_cleanup(curl);
	store_close(reader);
	return NULL;
}

struct outbound *
outbound_start(const struct relay_config *cfg, struct committer *committer,
    const char *token, char **cause)
{
	struct outbound *o = xcalloc(1, sizeof *o);
	int rc;

	o->cfg = cfg;
	o->committer = committer;
	o->auth_header = xasprintf("Authorization: Bearer %s", token);
	o->numbers = xcalloc(cfg->nnumbers ? cfg->nnumbers : 1,
	    sizeof *o->numbers);
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->wake, NULL);
	rc = pthread_create(&o->thread, NULL, outbound_main, o);
	if (rc != 0) {
		*cause = xasprintf("cannot start the sender: %s",
		    strerror(rc));
		pthread_mutex_destroy(&o->lock);
		pthread_cond_destroy(&o->wake);
		free(o->auth_header);
		free(o->numbers);
		free(o);
		return NULL;
	}
	return o;
}

void
outbound_notify(void *arg)
{
	struct outbound *o = arg;

	if (o == NULL)
		return;
	pthread_mutex_lock(&o->lock);
	o->pending = 1;
	pthread_cond_signal(&o->wake);
	pthread_mutex_unlock(&o->lock);
}

void
outbound_stop(struct outbound *o)
{
	if (o == NULL)
		return;
	pthread_mutex_lock(&o->lock);
	o->stopping = 1;
	atomic_store(&o->media_stop, 1);
	pthread_cond_signal(&o->wake);
	pthread_mutex_unlock(&o->lock);
	pthread_join(o->thread, NULL);
	pthread_mutex_destroy(&o->lock);
	pthread_cond_destroy(&o->wake);
	explicit_bzero(o->auth_header, strlen(o->auth_header));
	free(o->auth_header);
	free(o->numbers);
	free(o);
}
