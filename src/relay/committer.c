/*
 * The committer thread: the only writer to the store while the relay
 * serves. It must never call back into the HTTP library except through a
 * job's done() hook, and never touch a job after calling it.
 */
#include "relay/committer.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xalloc.h"

/* How often old raw webhook bodies are swept. */
#define SWEEP_INTERVAL 3600

struct committer {
	struct store *st;
	const struct relay_config *cfg;
	int discard;
	size_t max_batch;

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct commit_job *head, *tail;
	size_t queued;
	int stopping;
	struct committer_stats stats;
	time_t last_sweep;
	void (*on_commit)(void *);
	void *on_commit_arg;
};

void
committer_on_commit(struct committer *c, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&c->lock);
	c->on_commit = fn;
	c->on_commit_arg = arg;
	pthread_mutex_unlock(&c->lock);
}

/*
 * Removes raw bodies and idempotency answers past their retention, in
 * chunks of their own transactions so no commit waits long behind it.
 */
static void
sweep(struct committer *c)
{
	int64_t n = 0, m = 0, total = 0;
	time_t now = time(NULL);

	c->last_sweep = now;
	if (c->discard)
		return;
	for (int round = 0; round < 1000; round++) {
		if (store_begin(c->st, NULL) != 0)
			return;
		if (store_webhooks_expire(c->st, (int64_t)now -
		    c->cfg->raw_retention, &n) != 0 ||
		    store_idempotency_expire(c->st, (int64_t)now -
		    c->cfg->idempotency_retention, &m) != 0 ||
		    store_commit(c->st, NULL) != 0) {
			store_rollback(c->st);
			log_warn("committer: sweeping expired rows failed");
			return;
		}
		total += n + m;
		if (n < 5000 && m < 5000)
			break;
	}
	if (total > 0)
		log_info("committer: removed %" PRId64 " raw webhook bodies and "
		    "stored answers past their retention", total);
}

static void
run_batch(struct committer *c, struct commit_job *jobs, size_t n)
{
	struct commit_job *j, *next;
	struct committer_stats add = { 0 };
	struct timespec t0, t1;
	char *cause = NULL;
	int failed = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (c->discard) {
		for (j = jobs; j != NULL; j = j->next) {
			if (j->apply == NULL)
				j->status = 200;
			else
				j->status = 503;
		}
		goto answer;
	}
	if (store_begin(c->st, &cause) != 0) {
		log_error("committer: cannot begin: %s", cause);
		free(cause);
		failed = 1;
	}
	for (j = jobs; j != NULL && !failed; j = j->next) {
		if (store_savepoint(c->st, NULL) != 0) {
			failed = 1;
			break;
		}
		if (j->apply != NULL) {
			int rc = j->apply(j, c->st, c->cfg);

			if (rc == 0) {
				store_savepoint_release(c->st);
				continue;
			}
			/* Refused (rc > 0, its answer set) or failed: nothing
			 * of it may stay. */
			store_savepoint_rollback(c->st);
			if (rc < 0) {
				log_error("committer: a write failed; "
				    "answering 500");
				j->status = 500;
			}
		} else if (ingest_webhook(c->st, c->cfg, j->body, j->len,
		    j->batch, j->received_at, &j->result) != 0) {
			store_savepoint_rollback(c->st);
			log_error("committer: a webhook could not be ingested; "
			    "answering 500 so Meta retries it");
			j->status = 500;
		} else {
			store_savepoint_release(c->st);
			j->status = 200;
			add.messages += j->result.messages;
			add.statuses += j->result.statuses;
			add.duplicates += j->result.duplicate_delivery +
			    j->result.messages_seen + j->result.statuses_seen;
			add.quarantined += j->result.quarantined;
			continue;
		}
		if (!store_in_transaction(c->st)) {
			/* SQLite rolled everything back (disk full, I/O
			 * error): the batch is gone; say so to all. */
			failed = 1;
			break;
		}
	}
	if (!failed && store_commit(c->st, &cause) != 0) {
		log_error("committer: commit failed: %s", cause);
		free(cause);
		failed = 1;
	}
	if (failed) {
		store_rollback(c->st);
		for (j = jobs; j != NULL; j = j->next)
			j->status = 503;
	}
answer:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_mutex_lock(&c->lock);
	c->stats.commit_seconds += (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	c->stats.commits++;
	c->stats.jobs += n;
	c->stats.failed_commits += (uint64_t)failed;
	if (n > c->stats.largest_batch)
		c->stats.largest_batch = n;
	if (!failed) {
		c->stats.messages += add.messages;
		c->stats.statuses += add.statuses;
		c->stats.duplicates += add.duplicates;
		c->stats.quarantined += add.quarantined;
	}
	pthread_mutex_unlock(&c->lock);
	/* Streams learn of the commit before any request is answered, so a
	 * client that reads its answer and then its stream misses nothing. */
	if (!failed && !c->discard && c->on_commit != NULL)
		c->on_commit(c->on_commit_arg);
	for (j = jobs; j != NULL; j = next) {
		next = j->next;
		j->done(j, j->arg);
	}
}

static void *
committer_main(void *arg)
{
	struct committer *c = arg;
	struct commit_job *batch, *last;
	struct timespec deadline;
	size_t n;

	pthread_setname_np(pthread_self(), "glivi-commit");
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (c->head == NULL && !c->stopping) {
			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_sec += 60;
			if (pthread_cond_timedwait(&c->wake, &c->lock,
			    &deadline) == ETIMEDOUT &&
			    time(NULL) - c->last_sweep >= SWEEP_INTERVAL) {
				pthread_mutex_unlock(&c->lock);
				sweep(c);
				pthread_mutex_lock(&c->lock);
			}
		}
		if (c->head == NULL)
			break; /* stopping, and nothing left */
		if (time(NULL) - c->last_sweep >= SWEEP_INTERVAL) {
			/* Under steady traffic the wait never times out. */
			pthread_mutex_unlock(&c->lock);
			sweep(c);
			pthread_mutex_lock(&c->lock);
		}
		/* Take what is queued, up to the batch limit, in order. */
		batch = last = c->head;
		for (n = 1; n < c->max_batch && last->next != NULL; n++)
			last = last->next;
		c->head = last->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->queued -= n;
		last->next = NULL;
		pthread_mutex_unlock(&c->lock);
		run_batch(c, batch, n);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

struct committer *
committer_start(struct store *st, const struct relay_config *cfg, int discard,
    char **cause)
{
	struct committer *c = xcalloc(1, sizeof *c);
	int rc;

	c->st = st;
	c->cfg = cfg;
	c->discard = discard;
	c->max_batch = (size_t)cfg->group_commit_max;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	sweep(c);
	rc = pthread_create(&c->thread, NULL, committer_main, c);
	if (rc != 0) {
		*cause = xasprintf("cannot start the committer: %s",
		    strerror(rc));
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->wake);
		free(c);
		return NULL;
	}
	return c;
}

int
committer_submit(struct committer *c, struct commit_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&c->lock);
	if (c->stopping) {
		pthread_mutex_unlock(&c->lock);
		return -1;
	}
	if (c->tail != NULL)
		c->tail->next = j;
	else
		c->head = j;
	c->tail = j;
	c->queued++;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void
committer_stop(struct committer *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
}

void
committer_free(struct committer *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->wake);
	free(c);
}

void
committer_get_stats(struct committer *c, struct committer_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	out->queued = c->queued;
	pthread_mutex_unlock(&c->lock);
}

/* committer_call's job: the caller's function, and a wait for its end. */
struct call {
	struct commit_job job;
	int (*fn)(struct store *, void *);
	void *arg;
	int rc;
	int done;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static int
call_apply(struct commit_job *job, struct store *st,
    const struct relay_config *cfg)
{
	struct call *c = job->apply_arg;

	(void)cfg;
	c->rc = c->fn(st, c->arg);
	job->status = c->rc < 0 ? 500 : 200;
	return c->rc < 0 ? -1 : c->rc > 0 ? 1 : 0;
}

static void
call_done(struct commit_job *job, void *arg)
{
	struct call *c = arg;

	pthread_mutex_lock(&c->lock);
	c->done = 1;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

int
committer_call(struct committer *committer, int (*fn)(struct store *, void *),
    void *arg)
{
	struct call c;
	int rc;

	memset(&c, 0, sizeof c);
	c.fn = fn;
	c.arg = arg;
	c.job.apply = call_apply;
	c.job.apply_arg = &c;
	c.job.done = call_done;
	c.job.arg = &c;
	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);
	if (committer_submit(committer, &c.job) != 0)
		rc = -1;
	else {
		pthread_mutex_lock(&c.lock);
		while (!c.done)
			pthread_cond_wait(&c.cond, &c.lock);
		pthread_mutex_unlock(&c.lock);
		/* 503: the group's commit failed, so nothing stayed. */
		rc = c.job.status == 200 ? c.rc : -1;
	}
	pthread_mutex_destroy(&c.lock);
	pthread_cond_destroy(&c.cond);
	return rc;
}
