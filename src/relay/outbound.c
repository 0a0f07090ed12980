/*
 * The outbound sender thread (glivi-send). It reads due messages and owed
 * read receipts from its own read-only connection, keeps up to
 * [outbound] concurrency Graph API requests in flight on one curl multi
 * handle, paces them per number, and records every state change (sending,
 * sent, retry, failed) in batches of jobs on the committer, so the store
 * keeps one writer. It never touches the HTTP server.
 */
#include "relay/outbound.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
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
#include "relay/pace.h"
#include "relay/graphmedia.h"
#include "relay/outmedia.h"
#include "relay/store.h"

#define PAGE 64
#define PAIRS 1024	       /* recipients whose pair limit is tracked */
#define WINDOW (24 * 3600)     /* the customer service window, seconds */
#define MAX_BACKOFF 300	       /* seconds */
#define MAX_ANSWER (64 * 1024) /* Graph API answers are small */
#define TICK 1.0	       /* seconds between looks for retries due */
#define SCAN_GAP 0.002	       /* seconds between two looks at the store */
/* Messages marked 'sending' ahead of their turn, in seconds of the rate:
 * enough to hide a commit, few enough that a crash strands few. */
#define AHEAD 0.1
/* Busy keys of read receipts: conversation ids with the top bit set, apart
 * from the recipient hashes of messages. */
#define RECEIPT_KEY(conv) (0x8000000000000000ULL | (uint64_t)(conv))

struct pair {
	uint64_t key;
	struct pace_bucket b;
};

/* A number's pace, and its jobs marked or being marked, not yet started. */
struct number {
	struct pace *pace;
	size_t ready;
};

enum job_kind { JOB_MESSAGE, JOB_RECEIPT };

/* What a job's commit records. */
enum mark_kind {
	MARK_NONE,
	MARK_SENDING,  /* before the call */
	MARK_RETRY,    /* queued again, for later */
	MARK_FAILED,   /* refused for good */
	MARK_ACCEPTED, /* Meta's wamid */
	MARK_PUTBACK,  /* never went out: queued again, as if untried */
	MARK_RETRY_COUNTED, /* a try that failed before 'sending' (a media
			       upload): queued again, the try counted */
	RCPT_SENT,
	RCPT_RETRY,
	RCPT_FAILED,
};

/* One message or read receipt, from the scan that found it to the commit
 * of its outcome. Its busy key is held all that time. */
struct job {
	enum job_kind kind;
	int64_t id;	    /* message id; receipt: conversation id */
	int64_t message_id; /* receipt: the message marked read */
	int64_t number_id;
	size_t number; /* index in cfg->numbers */
	uint64_t key;
	int attempts;
	char phone_number_id[64];
	char *json; /* the request body */

	int media_failed; /* its upload failed: 1 retry, 2 for good */
	enum mark_kind mark;
	int64_t when; /* sending since / next attempt at */
	char *wamid;
	cJSON *failure;
	struct job *next;
};

/* One request in flight. */
struct xfer {
	CURL *easy;
	struct outbound *o;
	struct job *job;
	int sent; /* its bytes went out (CURLOPT_PREREQFUNCTION) */
	char *url;
	struct buf answer;
	char errbuf[CURL_ERROR_SIZE];
};

/* A commit of several jobs' marks. */
struct batch {
	struct commit_job cj;
	struct outbound *o;
	int prepare; /* marks 'sending' before the calls */
	int tries;
	struct job *jobs;
	struct batch *next;
};

struct outbound {
	const struct relay_config *cfg;
	struct committer *committer;
	struct curl_slist *headers; /* authorization, content type */
	char *auth_header;	    /* for media uploads */
	struct store *reader;	    /* the sender thread's */

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;	 /* a batch committed (for the last waits) */
	atomic_int stopping;
	int pending;		 /* something committed: look again */
	int stopped;		 /* the thread and the multi handle are gone */
	struct batch *committed; /* batches back from the committer */
	size_t outstanding;	 /* batches submitted, not yet back */

	/* The rest belongs to the sender thread. */
	CURLM *multi;
	struct xfer *xfers;
	size_t nxfers, inflight;
	struct number *numbers; /* one per configured number, by index */
	struct pair pairs[PAIRS];
	uint64_t *busy; /* keys of recipients with a job, unordered */
	size_t nbusy, busy_cap;
	struct job *ready, *ready_tail; /* marked, waiting for a token */
	struct job *outcomes, *outcomes_tail;
	int scan_more;	/* the last scan stopped for want of room */
	double wake_at; /* monotonic: a pair budget refills */
	int stale_unread; /* the last look for stale sends failed */

	atomic_uint_fast64_t sent, retried, failed;
	atomic_uint_fast64_t receipts_sent, receipts_retried, receipts_dropped;
};

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t recipient_key(int64_t, const char *);

static struct pace_bucket *
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

/* Meta's refusal (or an answer that is none of Meta's shapes) as the
 * failure kept with a message; *code is Meta's code, 0 if none. */
static cJSON *
failure_of(long status, const cJSON *root, int64_t *code)
{
	const cJSON *e = jx_obj(root, "error");
	cJSON *f = cJSON_CreateObject();

	*code = 0;
	if (e != NULL && jx_int64(e, "code", code) == 0)
		jx_add_int(f, "code", *code);
	else
		jx_add_int(f, "code", status);
	jx_add_str(f, "title", e ? jx_str(e, "type") : NULL);
	jx_add_str(f, "message", e ? jx_str(e, "message") :
	    "the Graph API answered without an error object");
	jx_add_str(f, "details", jx_str(jx_obj(e, "error_data"), "details"));
	jx_add_str(f, "fbtrace_id", jx_str(e, "fbtrace_id"));
	jx_add_int(f, "http_status", status);
	return f;
}

static enum outbound_verdict
verdict_of(long status, const cJSON *root, int64_t code)
{
	if (status >= 500 || status == 429 || retryable_code(code) ||
	    (status == 200 && jx_obj(root, "error") == NULL))
		return OUTBOUND_RETRY;
	return OUTBOUND_FAILED;
}

enum outbound_verdict
outbound_classify(long status, const char *body, char **wamid,
    cJSON **failure, int *pair_limited)
{
	cJSON *root = body ? cJSON_Parse(body) : NULL, *f;
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
	f = failure_of(status, root, &code);
	if (code == 131047)
		cJSON_ReplaceItemInObject(f, "message", cJSON_CreateString(
		    "the customer last wrote more than 24 hours ago; only a "
		    "template can be sent now"));
	*failure = f;
	*pair_limited = code == 131056;
	v = verdict_of(status, root, code);
	cJSON_Delete(root);
	return v;
}

enum outbound_verdict
outbound_classify_read(long status, const char *body, cJSON **failure)
{
	cJSON *root = body ? cJSON_Parse(body) : NULL;
	int64_t code = 0;
	enum outbound_verdict v;

	*failure = NULL;
	if (status == 200 && jx_bool(root, "success")) {
		cJSON_Delete(root);
		return OUTBOUND_ACCEPTED;
	}
	*failure = failure_of(status, root, &code);
	v = verdict_of(status, root, code);
	cJSON_Delete(root);
	return v;
}

char *
outbound_read_body(const char *wamid)
{
	cJSON *b = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(b, "messaging_product", "whatsapp");
	cJSON_AddStringToObject(b, "status", "read");
	cJSON_AddStringToObject(b, "message_id", wamid);
	s = jx_print(b);
	cJSON_Delete(b);
	return s;
}

/* -- jobs and busy customers ------------------------------------------- */

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	free(j->json);
	free(j->wamid);
	cJSON_Delete(j->failure);
	free(j);
}

static int
busy(const struct outbound *o, uint64_t key)
{
	for (size_t i = 0; i < o->nbusy; i++) {
		if (o->busy[i] == key)
			return 1;
	}
	return 0;
}

static void
busy_add(struct outbound *o, uint64_t key)
{
	if (o->nbusy == o->busy_cap) {
		o->busy_cap = o->busy_cap ? 2 * o->busy_cap : 64;
		o->busy = xrealloc(o->busy, o->busy_cap * sizeof *o->busy);
	}
	o->busy[o->nbusy++] = key;
}

static void
busy_remove(struct outbound *o, uint64_t key)
{
	for (size_t i = 0; i < o->nbusy; i++) {
		if (o->busy[i] == key) {
			o->busy[i] = o->busy[--o->nbusy];
			return;
		}
	}
}

/* Ends a job that needs no record: its customer is free again. */
static void
job_done(struct outbound *o, struct job *j)
{
	busy_remove(o, j->key);
	job_free(j);
}

static void
outcome(struct outbound *o, struct job *j, enum mark_kind mark)
{
	j->mark = mark;
	j->next = NULL;
	if (o->outcomes_tail != NULL)
		o->outcomes_tail->next = j;
	else
		o->outcomes = j;
	o->outcomes_tail = j;
}

/* -- recording through the committer ----------------------------------- */

static int
mark_one(struct store *st, const struct job *j, int64_t now)
{
	switch (j->mark) {
	case MARK_SENDING:
		return store_outbound_mark(st, j->id, "sending", 0, j->when, 1,
		    NULL);
	case MARK_RETRY:
		return store_outbound_mark(st, j->id, "queued", j->when, 0, 0,
		    j->failure);
	case MARK_FAILED:
		return store_outbound_mark(st, j->id, "failed", 0, 0, 0,
		    j->failure);
	case MARK_ACCEPTED:
		return store_outbound_accepted(st, j->id, j->number_id,
		    j->wamid);
	case MARK_RETRY_COUNTED:
		return store_outbound_mark(st, j->id, "queued", j->when, 0, 1,
		    j->failure);
	case MARK_PUTBACK:
		/* Marked 'sending' but never sent: untried after all. */
		return store_outbound_mark(st, j->id, "queued", 0, 0, -1,
		    NULL);
	case RCPT_SENT:
		return store_read_receipt_mark(st, j->id, j->message_id,
		    "sent", 1, 0, now);
	case RCPT_RETRY:
		return store_read_receipt_mark(st, j->id, j->message_id,
		    "queued", 1, j->when, now);
	case RCPT_FAILED:
		return store_read_receipt_mark(st, j->id, j->message_id,
		    "failed", 1, 0, now);
	default:
		return 0;
	}
}

static int
batch_apply(struct commit_job *cj, struct store *st,
    const struct relay_config *cfg)
{
	struct batch *b = cj->apply_arg;
	int64_t now = (int64_t)time(NULL);

	(void)cfg;
	for (struct job *j = b->jobs; j != NULL; j = j->next) {
		if (mark_one(st, j, now) != 0) {
			cj->status = 500;
			return -1;
		}
	}
	cj->status = 200;
	return 0;
}

/* On the committer thread: hand the batch back and wake the sender. */
static void
batch_done(struct commit_job *cj, void *arg)
{
	struct batch *b = arg;
	struct outbound *o = b->o;

	pthread_mutex_lock(&o->lock);
	b->next = o->committed;
	o->committed = b;
	o->outstanding--;
	pthread_cond_broadcast(&o->cond);
	pthread_mutex_unlock(&o->lock);
	curl_multi_wakeup(o->multi);
}

static void
batch_submit(struct outbound *o, struct batch *b)
{
	memset(&b->cj, 0, sizeof b->cj);
	b->o = o;
	b->tries++;
	b->cj.apply = batch_apply;
	b->cj.apply_arg = b;
	b->cj.done = batch_done;
	b->cj.arg = b;
	pthread_mutex_lock(&o->lock);
	o->outstanding++;
	pthread_mutex_unlock(&o->lock);
	if (committer_submit(o->committer, &b->cj) != 0) {
		b->cj.status = 503;
		batch_done(&b->cj, b);
	}
}

static struct batch *
batch_new(struct job *jobs, int prepare)
{
	struct batch *b = xcalloc(1, sizeof *b);

	b->jobs = jobs;
	b->prepare = prepare;
	return b;
}

/* Records the outcomes gathered so far, in one commit. */
static void
flush_outcomes(struct outbound *o)
{
	if (o->outcomes == NULL)
		return;
	batch_submit(o, batch_new(o->outcomes, 0));
	o->outcomes = o->outcomes_tail = NULL;
}

static void
ready_push(struct outbound *o, struct job *j)
{
	j->next = NULL;
	if (o->ready_tail != NULL)
		o->ready_tail->next = j;
	else
		o->ready = j;
	o->ready_tail = j;
}

/* A batch is back from the committer. */
static void
batch_back(struct outbound *o, struct batch *b)
{
	struct job *j, *next;

	if (b->cj.status != 200 && !b->prepare && b->tries < 3 &&
	    !atomic_load(&o->stopping)) {
		/* Outcomes are worth another try: without them a message
		 * that went out would look ambiguous. */
		log_warn("outbound: recording %s failed; trying again",
		    "send outcomes");
		batch_submit(o, b);
		return;
	}
	for (j = b->jobs; j != NULL; j = next) {
		next = j->next;
		if (b->prepare && b->cj.status == 200) {
			ready_push(o, j);
			continue;
		}
		if (b->prepare) {
			/* Not marked: they stay queued for a later scan. */
			o->numbers[j->number].ready--;
		} else if (b->cj.status != 200)
			log_error("outbound: the outcome of %s %" PRId64 " could "
			    "not be recorded", j->kind == JOB_MESSAGE ?
			    "message" : "the read receipt of conversation",
			    j->id);
		job_done(o, j);
	}
	free(b);
}

/* Settles one outcome synchronously (rare paths only). */
struct mark {
	struct commit_job job;
	struct job *j;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
};

static int
mark_apply(struct commit_job *cj, struct store *st,
    const struct relay_config *cfg)
{
	struct mark *m = cj->apply_arg;

	(void)cfg;
	cj->status = mark_one(st, m->j, (int64_t)time(NULL)) == 0 ? 200 : 500;
	return cj->status == 200 ? 0 : -1;
}

static void
mark_done(struct commit_job *cj, void *arg)
{
	struct mark *m = arg;

	pthread_mutex_lock(&m->lock);
	m->done = 1;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

static int
mark_now(struct outbound *o, struct job *j)
{
	struct mark m;
	int rc = -1;

	memset(&m, 0, sizeof m);
	m.j = j;
	m.job.apply = mark_apply;
	m.job.apply_arg = &m;
	m.job.done = mark_done;
	m.job.arg = &m;
	pthread_mutex_init(&m.lock, NULL);
	pthread_cond_init(&m.cond, NULL);
	if (committer_submit(o->committer, &m.job) == 0) {
		pthread_mutex_lock(&m.lock);
		while (!m.done)
			pthread_cond_wait(&m.cond, &m.lock);
		pthread_mutex_unlock(&m.lock);
		rc = m.job.status == 200 ? 0 : -1;
	}
	pthread_mutex_destroy(&m.lock);
	pthread_cond_destroy(&m.cond);
	return rc;
}

/* -- requests in flight --------------------------------------------------- */

static size_t
on_answer(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > MAX_ANSWER)
		return 0;
	buf_add(b, p, size * n);
	return size * n;
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

static int
xfer_start(struct outbound *o, struct job *j)
{
	const struct relay_config *cfg = o->cfg;
	struct xfer *x = NULL;

	for (size_t i = 0; i < o->nxfers; i++) {
		if (o->xfers[i].job == NULL) {
			x = &o->xfers[i];
			break;
		}
	}
	if (x == NULL)
		return -1;
	free(x->url);
	x->url = xasprintf("%s/%s/%s/messages", cfg->graph_url,
	    cfg->graph_version, j->phone_number_id);
	buf_reset(&x->answer);
	x->errbuf[0] = '\0';
	x->sent = 0;
	curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, j->json);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(j->json));
	if (curl_multi_add_handle(o->multi, x->easy) != CURLM_OK)
		return -1;
	x->job = j;
	o->inflight++;
	return 0;
}

static void
finish_message(struct outbound *o, struct job *j, CURLcode cc, long status,
    curl_off_t uploaded, const struct xfer *x)
{
	enum outbound_verdict v;
	int pair_limited = 0;

	if (cc != CURLE_OK) {
		if (uploaded > 0 || cc == CURLE_GOT_NOTHING ||
		    cc == CURLE_RECV_ERROR) {
			/* The request went out; Meta may have sent it. Leave it
			 * 'sending' for a status webhook to settle. */
			log_warn("outbound: message %" PRId64 " may have been "
			    "sent (%s); waiting for its status", j->id,
			    curl_easy_strerror(cc));
			job_done(o, j);
			return;
		}
		if (atomic_load(&o->stopping)) {
			outcome(o, j, MARK_PUTBACK);
			return;
		}
		j->failure = cJSON_CreateObject();
		cJSON_AddStringToObject(j->failure, "message",
		    curl_easy_strerror(cc));
		log_warn("outbound: message %" PRId64 " not sent: %s", j->id,
		    x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
		v = OUTBOUND_RETRY;
	} else
		v = outbound_classify(status, x->answer.data, &j->wamid,
		    &j->failure, &pair_limited);

	switch (v) {
	case OUTBOUND_ACCEPTED:
		atomic_fetch_add(&o->sent, 1);
		outcome(o, j, MARK_ACCEPTED);
		break;
	case OUTBOUND_RETRY:
		if (j->attempts + 1 >= o->cfg->max_attempts) {
			log_warn("outbound: message %" PRId64 " failed after %d "
			    "attempts", j->id, j->attempts + 1);
			atomic_fetch_add(&o->failed, 1);
			outcome(o, j, MARK_FAILED);
		} else {
			atomic_fetch_add(&o->retried, 1);
			j->when = (int64_t)time(NULL) + backoff(j->attempts,
			    pair_limited);
			outcome(o, j, MARK_RETRY);
		}
		break;
	case OUTBOUND_FAILED:
		log_info("outbound: message %" PRId64 " refused by the Graph "
		    "API (HTTP %ld)", j->id, status);
		atomic_fetch_add(&o->failed, 1);
		outcome(o, j, MARK_FAILED);
		break;
	case OUTBOUND_AMBIGUOUS:
		job_done(o, j);
		break;
	}
}

static void
finish_receipt(struct outbound *o, struct job *j, CURLcode cc, long status,
    const struct xfer *x)
{
	enum outbound_verdict v = OUTBOUND_RETRY;
	cJSON *failure = NULL;
	int64_t code = 0;

	/* Marking read twice is harmless: a lost answer is just retried. */
	if (cc != CURLE_OK) {
		if (atomic_load(&o->stopping)) {
			job_done(o, j); /* still owed; sent after a restart */
			return;
		}
		log_warn("outbound: read receipt for conversation %" PRId64
		    " not sent: %s", j->id, x->errbuf[0] ? x->errbuf :
		    curl_easy_strerror(cc));
	} else
		v = outbound_classify_read(status, x->answer.data, &failure);
	if (failure != NULL)
		jx_int64(failure, "code", &code);
	cJSON_Delete(failure);
	if (v == OUTBOUND_ACCEPTED) {
		atomic_fetch_add(&o->receipts_sent, 1);
		outcome(o, j, RCPT_SENT);
	} else if (v == OUTBOUND_RETRY && j->attempts + 1 <
	    o->cfg->max_attempts) {
		atomic_fetch_add(&o->receipts_retried, 1);
		j->when = (int64_t)time(NULL) + backoff(j->attempts, 0);
		outcome(o, j, RCPT_RETRY);
	} else {
		log_warn("outbound: read receipt for conversation %" PRId64
		    " dropped: HTTP %ld, code %" PRId64 "%s", j->id, status,
		    code, v == OUTBOUND_RETRY ? ", out of attempts" : "");
		atomic_fetch_add(&o->receipts_dropped, 1);
		outcome(o, j, RCPT_FAILED);
	}
}

/* Just before a request's bytes go out, on a connection made or reused:
 * from now on it counts in its number's window. */
static int
on_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port,
    int local_port)
{
	struct xfer *x = arg;

	(void)primary_ip;
	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	if (!x->sent && x->job != NULL) {
		x->sent = 1;
		pace_sent(x->o->numbers[x->job->number].pace, now_mono());
	}
	return CURL_PREREQFUNC_OK;
}

/* Collects finished transfers. */
static void
reap(struct outbound *o)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(o->multi, &left)) != NULL) {
		struct xfer *x = NULL;
		struct job *j;
		CURLcode cc = msg->data.result;
		curl_off_t uploaded = 0;
		long status = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&x);
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T, &uploaded);
		curl_multi_remove_handle(o->multi, x->easy);
		o->inflight--;
		j = x->job;
		x->job = NULL;
		if (!x->sent)
			pace_unsent(o->numbers[j->number].pace);
		if (j->kind == JOB_MESSAGE)
			finish_message(o, j, cc, status, uploaded, x);
		else
			finish_receipt(o, j, cc, status, x);
	}
}

/* Starts what the numbers' budgets allow; returns the seconds until the
 * next job waiting could start (or TICK). */
static double
start_ready(struct outbound *o)
{
	struct job **pp = &o->ready, *j, *prev = NULL;
	double t = now_mono(), wait = TICK, w;

	while ((j = *pp) != NULL && o->inflight < o->nxfers) {
		struct number *l = &o->numbers[j->number];

		if ((w = pace_wait(l->pace, t)) > 0) {
			if (w < wait)
				wait = w;
			prev = j;
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		if (o->ready_tail == j)
			o->ready_tail = prev;
		if (xfer_start(o, j) != 0) {
			/* Never sent: put it back for the next scan. */
			l->ready--;
			if (j->kind == JOB_MESSAGE)
				outcome(o, j, MARK_PUTBACK);
			else
				job_done(o, j);
			continue;
		}
		l->ready--;
		pace_start(l->pace, t);
	}
	return wait;
}

/* -- finding work -------------------------------------------------------- */

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

/* How many jobs a number may have marked and waiting. */
static long
ahead(const struct outbound *o)
{
	long n = (long)ceil((double)o->cfg->send_rate * AHEAD);

	return n < 2 ? 2 : n;
}

/* How many more it may have now. */
static long
room(const struct outbound *o, size_t number)
{
	return ahead(o) - (long)o->numbers[number].ready;
}

/* Whether a scan would find room worth the queries: half of some number's
 * allowance (the other half hides the next scan and its commit). */
static int
worth_scanning(const struct outbound *o)
{
	for (size_t i = 0; i < o->cfg->nnumbers; i++) {
		if (room(o, i) >= (ahead(o) + 1) / 2)
			return 1;
	}
	return 0;
}

static struct job *
message_job(struct outbound *o, struct store_send *m, size_t number,
    uint64_t key)
{
	struct job *j = xcalloc(1, sizeof *j);
	cJSON *req = m->request ? cJSON_Parse(m->request) : NULL, *body;

	j->kind = JOB_MESSAGE;
	j->id = m->id;
	j->number_id = m->number_id;
	j->number = number;
	j->key = key;
	j->attempts = m->attempts;
	snprintf(j->phone_number_id, sizeof j->phone_number_id, "%s",
	    m->phone_number_id);
	body = outbound_body(m->type, req, m->wa_id, m->user_id,
	    m->target_wamid, m->id);
	/*
	 * A file the relay holds goes to Meta first, by its own request
	 * (this thread waits for it: uploads are rare beside sends). The
	 * message is not 'sending' until then, so a crash loses nothing.
	 */
	if (is_media(m->type)) {
		long http = 0;
		enum outbound_verdict v = outmedia_prepare(o->cfg,
		    o->committer, o->reader, o->auth_header, &o->stopping, m,
		    body, &http, &j->failure);

		if (v != OUTBOUND_ACCEPTED && j->failure == NULL)
			j->failure = cJSON_CreateObject();
		j->media_failed = v == OUTBOUND_FAILED ? 2 :
		    v != OUTBOUND_ACCEPTED;
	}
	j->json = jx_print(body);
	cJSON_Delete(body);
	cJSON_Delete(req);
	return j;
}

/* Whether no number has room for another job. */
static int
all_full(const struct outbound *o)
{
	for (size_t i = 0; i < o->cfg->nnumbers; i++) {
		if (room(o, i) > 0)
			return 0;
	}
	return 1;
}

/*
 * Looks for read receipts owed and messages due, and takes as many as the
 * numbers have room for: one per customer at a time, within each
 * customer's pair budget. Messages are marked 'sending' in one commit
 * before any of them goes out; receipts need no mark (marking read twice
 * is harmless). Stops once every number is full (scan_more).
 */
static void
scan(struct outbound *o, struct store *reader)
{
	struct store_send due[PAGE];
	struct store_receipt owed[PAGE];
	struct job *marks = NULL, **tail = &marks;
	int64_t now = (int64_t)time(NULL), last = 0;
	size_t n;
	double t = now_mono();

	o->scan_more = all_full(o);
	while (!o->scan_more) {
		if (store_read_receipts_due(reader, now, last, owed, PAGE,
		    &n) != 0)
			n = 0;
		for (size_t i = 0; i < n && !o->scan_more; i++) {
			struct store_receipt *r = &owed[i];
			size_t num = number_index(o, r->number_id);
			struct job *j;

			last = r->conversation_id;
			if (room(o, num) <= 0 ||
			    busy(o, RECEIPT_KEY(r->conversation_id)))
				continue;
			j = xcalloc(1, sizeof *j);
			j->kind = JOB_RECEIPT;
			j->id = r->conversation_id;
			j->message_id = r->message_id;
			j->number_id = r->number_id;
			j->number = num;
			j->key = RECEIPT_KEY(r->conversation_id);
			j->attempts = r->attempts;
			snprintf(j->phone_number_id, sizeof j->phone_number_id,
			    "%s", r->phone_number_id);
			j->json = outbound_read_body(r->wamid);
			busy_add(o, j->key);
			o->numbers[num].ready++;
			ready_push(o, j);
			o->scan_more = all_full(o);
		}
		if (n < PAGE)
			break;
	}

	last = 0;
	while (!o->scan_more) {
		if (store_outbound_due(reader, now, last, due, PAGE, &n) != 0)
			n = 0;
		for (size_t i = 0; i < n; i++) {
			struct store_send *m = &due[i];
			const char *who = *m->wa_id ? m->wa_id : m->user_id;
			uint64_t key = recipient_key(m->number_id, who);
			size_t num = number_index(o, m->number_id);
			struct job *j;
			double w;

			last = m->id;
			if (o->scan_more || room(o, num) <= 0) {
				/* Taken up: later, or by another number. */
			} else if (busy(o, key)) {
				/* One at a time per customer, in order. */
			} else if ((w = pace_bucket_take(pair_bucket(o,
			    m->number_id, who), (double)o->cfg->pair_burst,
			    1.0 / (double)o->cfg->pair_interval, t)) > 0) {
				if (o->wake_at == 0 || t + w < o->wake_at)
					o->wake_at = t + w;
			} else if (strcmp(m->type, "template") != 0 &&
			    m->last_inbound_at + WINDOW <= now) {
				/* Refused before calling Meta: the window
				 * closed while the message waited. */
				j = message_job(o, m, num, key);
				j->failure = cJSON_CreateObject();
				jx_add_int(j->failure, "code", 131047);
				cJSON_AddStringToObject(j->failure, "message",
				    "the customer last wrote more than 24 hours "
				    "ago; only a template can be sent now");
				busy_add(o, key);
				atomic_fetch_add(&o->failed, 1);
				outcome(o, j, MARK_FAILED);
			} else if ((j = message_job(o, m, num,
			    key))->media_failed) {
				/* The upload before the send failed. */
				busy_add(o, key);
				j->when = now + backoff(m->attempts + 1, 0);
				if (j->media_failed == 2)
					atomic_fetch_add(&o->failed, 1);
				else
					atomic_fetch_add(&o->retried, 1);
				outcome(o, j, j->media_failed == 2 ?
				    MARK_FAILED : MARK_RETRY_COUNTED);
			} else {
				j->mark = MARK_SENDING;
				j->when = now;
				busy_add(o, key);
				o->numbers[num].ready++;
				*tail = j;
				tail = &j->next;
				o->scan_more = all_full(o);
			}
			store_send_free(m);
		}
		if (n < PAGE)
			break;
	}
	if (marks != NULL)
		batch_submit(o, batch_new(marks, 1));
}

/* Messages left 'sending' too long get "may not have been sent". */
static void
settle_ambiguous(struct outbound *o, struct store *reader)
{
	int64_t ids[PAGE];
	size_t n = 0;
	struct job j;

	/* A failed read settles nothing now; the next tick looks again.
	 * Said once per outage, not once a second. */
	if (store_outbound_stale(reader, (int64_t)time(NULL) -
	    o->cfg->ambiguous_timeout, ids, PAGE, &n) != 0) {
		if (!o->stale_unread)
			log_warn("outbound: cannot look for messages left "
			    "'sending'; trying again every tick");
		o->stale_unread = 1;
		return;
	}
	if (o->stale_unread)
		log_info("outbound: looking for messages left 'sending' "
		    "again");
	o->stale_unread = 0;
	if (n == 0)
		return;
	memset(&j, 0, sizeof j);
	j.mark = MARK_FAILED;
	j.failure = cJSON_CreateObject();
	cJSON_AddStringToObject(j.failure, "code", "unknown");
	cJSON_AddStringToObject(j.failure, "message", "may not have been sent: "
	    "the Graph API's answer was lost and no status arrived");
	for (size_t i = 0; i < n; i++) {
		j.id = ids[i];
		mark_now(o, &j);
	}
	cJSON_Delete(j.failure);
}

/* -- the thread ------------------------------------------------------------ */

/* Takes the batches the committer gave back; returns whether anything
 * (a commit, a notification) asks for another look. */
static int
take_news(struct outbound *o)
{
	struct batch *b, *next, *rev = NULL;
	int pending;

	pthread_mutex_lock(&o->lock);
	b = o->committed;
	o->committed = NULL;
	pending = o->pending;
	o->pending = 0;
	pthread_mutex_unlock(&o->lock);
	/* The list is newest first; handle them in commit order. */
	for (; b != NULL; b = next) {
		next = b->next;
		b->next = rev;
		rev = b;
	}
	for (b = rev; b != NULL; b = next) {
		next = b->next;
		if (!b->prepare)
			pending = 1; /* customers are free again */
		batch_back(o, b);
	}
	return pending;
}

/*
 * Stopping: transfers in flight are ended by graph_curl's progress
 * check; what was marked 'sending' and never went out is put back; every
 * outcome is recorded before the thread ends, since the committer stops
 * after it.
 */
static void
drain(struct outbound *o)
{
	struct job *j, *next;

	while (o->inflight > 0) {
		int running;

		curl_multi_perform(o->multi, &running);
		reap(o);
		if (o->inflight > 0)
			curl_multi_poll(o->multi, NULL, 0, 100, NULL);
	}
	for (;;) {
		take_news(o);
		for (j = o->ready; j != NULL; j = next) {
			next = j->next;
			if (j->kind == JOB_MESSAGE)
				outcome(o, j, MARK_PUTBACK);
			else
				job_done(o, j);
		}
		o->ready = o->ready_tail = NULL;
		flush_outcomes(o);
		pthread_mutex_lock(&o->lock);
		if (o->outstanding == 0 && o->committed == NULL) {
			pthread_mutex_unlock(&o->lock);
			break;
		}
		while (o->committed == NULL)
			pthread_cond_wait(&o->cond, &o->lock);
		pthread_mutex_unlock(&o->lock);
	}
}

static void *
outbound_main(void *arg)
{
	struct outbound *o = arg;
	struct store *reader = NULL;
	struct store_lease *lease;
	char *cause = NULL;
	double last_tick = 0, last_scan = 0, t, wait;
	int look = 1, running, sender = 0;

	pthread_setname_np(pthread_self(), "glivi-send");
	if (store_open_reader(o->cfg->store_url, &reader, &cause) != 0) {
		log_error("outbound: cannot start: %s", cause);
		free(cause);
		return NULL;
	}
	o->reader = reader;
	/*
	 * Of several relays on one store, one sends: the holder of this
	 * lease. So each queued message is taken by one relay, and the
	 * per-number pace holds for the cluster. When the holder dies its
	 * lease goes with its connection and another relay takes over; what
	 * the dead one left 'sending' may have reached Meta, so it is never
	 * sent again: settle_ambiguous says so after ambiguous_timeout.
	 */
	lease = store_lease_new(o->cfg->store_url, "glivi-sender");
	while (!atomic_load(&o->stopping)) {
		if (take_news(o))
			look = 1;
		t = now_mono();
		if (t - last_tick >= TICK) {
			int was = sender;

			if ((sender = store_lease_held(lease)) != was)
				log_info("outbound: %s", sender ? "this relay "
				    "sends" : "another relay sends");
			if (sender)
				settle_ambiguous(o, reader);
			last_tick = t;
			look = 1;
		}
		if (o->wake_at != 0 && t >= o->wake_at) {
			o->wake_at = 0;
			look = 1;
		}
		/* Commits come by the thousand under load; a look at the
		 * store costs two queries, so not more often than SCAN_GAP. */
		if (sender && (look || o->scan_more) &&
		    t - last_scan >= SCAN_GAP && worth_scanning(o)) {
			look = 0;
			last_scan = t;
			scan(o, reader);
		}
		wait = start_ready(o);
		curl_multi_perform(o->multi, &running);
		reap(o);
		flush_outcomes(o);

		/* Sleep until a token, a transfer, a commit, a
		 * notification, a pair budget or the next tick. */
		t = now_mono();
		if (o->ready == NULL || o->inflight >= o->nxfers)
			wait = TICK;
		if (last_tick + TICK - t < wait)
			wait = last_tick + TICK - t;
		if (o->wake_at != 0 && o->wake_at - t < wait)
			wait = o->wake_at - t;
		if (sender && (look || o->scan_more) && worth_scanning(o) &&
		    last_scan + SCAN_GAP - t < wait)
			wait = last_scan + SCAN_GAP - t;
		curl_multi_poll(o->multi, NULL, 0, wait <= 0 ? 0 :
		    (int)ceil(wait * 1000), NULL);
	}
	drain(o);
	store_lease_free(lease);
	store_close(reader);
	return NULL;
}

struct outbound *
outbound_start(const struct relay_config *cfg, struct committer *committer,
    const char *token, char **cause)
{
	struct outbound *o = xcalloc(1, sizeof *o);
	char *auth;
	int rc;

	o->cfg = cfg;
	o->committer = committer;
	auth = xasprintf("Authorization: Bearer %s", token);
	o->headers = curl_slist_append(NULL, auth);
	o->headers = curl_slist_append(o->headers,
	    "Content-Type: application/json");
	o->auth_header = auth;
	o->numbers = xcalloc(cfg->nnumbers ? cfg->nnumbers : 1,
	    sizeof *o->numbers);
	for (size_t i = 0; i < (cfg->nnumbers ? cfg->nnumbers : 1); i++)
		o->numbers[i].pace = pace_new(cfg->send_rate);
	o->multi = curl_multi_init();
	curl_multi_setopt(o->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)cfg->send_concurrency);
	curl_multi_setopt(o->multi, CURLMOPT_MAXCONNECTS,
	    (long)cfg->send_concurrency);
	o->nxfers = (size_t)cfg->send_concurrency;
	o->xfers = xcalloc(o->nxfers, sizeof *o->xfers);
	for (size_t i = 0; i < o->nxfers; i++) {
		struct xfer *x = &o->xfers[i];
		/* Transfers in flight end when the relay stops. */
		CURL *c = graph_curl(cfg, &o->stopping);

		x->easy = c;
		buf_init(&x->answer);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg->request_timeout);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, o->headers);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &x->answer);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
		curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)x);
		curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prereq);
		curl_easy_setopt(c, CURLOPT_PREREQDATA, x);
		x->o = o;
	}
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->cond, NULL);
	rc = pthread_create(&o->thread, NULL, outbound_main, o);
	if (rc != 0) {
		*cause = xasprintf("cannot start the sender: %s",
		    strerror(rc));
		o->thread = 0;
		outbound_free(o);
		return NULL;
	}
	return o;
}

void
outbound_notify(void *arg)
{
	struct outbound *o = arg;
	int was;

	if (o == NULL)
		return;
	/* Under the lock: outbound_stop cleans the multi handle up only
	 * after it has said so under the same lock. */
	pthread_mutex_lock(&o->lock);
	was = o->pending;
	o->pending = 1;
	if (!was && !o->stopped)
		curl_multi_wakeup(o->multi);
	pthread_mutex_unlock(&o->lock);
}

void
outbound_get_stats(struct outbound *o, struct outbound_stats *s)
{
	memset(s, 0, sizeof *s);
	if (o == NULL)
		return;
	s->sent = atomic_load(&o->sent);
	s->retried = atomic_load(&o->retried);
	s->failed = atomic_load(&o->failed);
	s->receipts_sent = atomic_load(&o->receipts_sent);
	s->receipts_retried = atomic_load(&o->receipts_retried);
	s->receipts_dropped = atomic_load(&o->receipts_dropped);
}

void
outbound_stop(struct outbound *o)
{
	if (o == NULL || o->stopped)
		return;
	atomic_store(&o->stopping, 1);
	if (o->thread != 0) {
		curl_multi_wakeup(o->multi);
		pthread_join(o->thread, NULL);
	}
	pthread_mutex_lock(&o->lock);
	o->stopped = 1;
	pthread_mutex_unlock(&o->lock);
	for (size_t i = 0; i < o->nxfers; i++) {
		curl_easy_cleanup(o->xfers[i].easy);
		free(o->xfers[i].url);
		buf_free(&o->xfers[i].answer);
	}
	free(o->xfers);
	curl_multi_cleanup(o->multi);
	for (struct curl_slist *h = o->headers; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(o->headers);
	if (o->auth_header != NULL) {
		explicit_bzero(o->auth_header, strlen(o->auth_header));
		free(o->auth_header);
		o->auth_header = NULL;
	}
	for (size_t i = 0; i < (o->cfg->nnumbers ? o->cfg->nnumbers : 1); i++)
		pace_free(o->numbers[i].pace);
	free(o->numbers);
	free(o->busy);
}

void
outbound_free(struct outbound *o)
{
	if (o == NULL)
		return;
	outbound_stop(o);
	pthread_mutex_destroy(&o->lock);
	pthread_cond_destroy(&o->cond);
	free(o);
}
