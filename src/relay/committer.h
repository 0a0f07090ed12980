/*
 * Group commit: one thread owns the store's writer connection and makes
 * every queued webhook durable in one transaction, then tells each waiting
 * request its outcome. Webhooks that arrive during a commit share the next
 * one, so throughput grows with load while no request waits on a timer.
 */
#ifndef GLIVI_COMMITTER_H
#define GLIVI_COMMITTER_H

#include <stddef.h>
#include <stdint.h>

#include "core/wa.h"
#include "relay/config.h"
#include "relay/ingest.h"
#include "relay/store.h"

struct commit_job {
	/*
	 * The work, run on the committer inside a savepoint of the group's
	 * transaction. NULL means "ingest this webhook". Returns 0 to keep
	 * its changes; 1 when it refused (its answer set in status), and -1
	 * when it failed (answered 500): either way its changes are undone.
	 */
	int (*apply)(struct commit_job *, struct store *,
	    const struct relay_config *);
	void *apply_arg;

	const char *body; /* raw bytes, as signed */
	size_t len;
	const struct wa_batch *batch;
	int64_t received_at;
	/*
	 * Set by the committer before done() is called: 200 when durable,
	 * 500 when this webhook could not be ingested (nothing of it kept),
	 * 503 when the commit failed (nothing of the batch kept).
	 */
	int status;
	struct ingest_result result;
	/* Called on the committer thread; the job must not be touched by the
	 * committer afterwards. */
	void (*done)(struct commit_job *, void *arg);
	void *arg;
	struct commit_job *next;
};

struct committer_stats {
	uint64_t commits;
	uint64_t jobs;
	uint64_t failed_commits;
	uint64_t largest_batch;
	uint64_t messages;
	uint64_t statuses;
	uint64_t duplicates;
	uint64_t quarantined;
	uint64_t queued;	/* jobs waiting for the next commit */
	double commit_seconds; /* time spent committing, all commits */
};

struct committer;

/* discard: acknowledge without storing (a benchmark baseline only). */
struct committer *committer_start(struct store *, const struct relay_config *,
    int discard, char **cause);
/* Queues a job; -1 (job untouched) once the committer is stopping. */
int committer_submit(struct committer *, struct commit_job *);
/*
 * Runs apply(arg) on the committer in the next group's transaction and
 * waits for the commit, from a thread that may block (never an HTTP
 * thread). Returns what apply returned, or -1 when the commit failed or
 * the committer is stopping (nothing of it kept then).
 */
int committer_call(struct committer *, int (*apply)(struct store *, void *),
    void *arg);
/* Finishes every job already submitted, then stops the thread; stats stay
 * readable until committer_free. */
void committer_stop(struct committer *);
void committer_free(struct committer *);
void committer_get_stats(struct committer *, struct committer_stats *);
/* Called on the committer thread after every successful commit. */
void committer_on_commit(struct committer *, void (*)(void *), void *);

#endif
