/*
 * The snooze timer's thread. It reads the soonest end from its own reader
 * connection and never writes but through committer_call; it never
 * touches HTTP state. Ends are whole seconds, so the wait is until that
 * second and the check is "ended at or before now".
 */
#include "relay/snooze.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "relay/inbox.h"

/* Looked at again this often even without news (another process may
 * have snoozed a conversation), and after a failed attempt. */
#define IDLE_SECONDS 60
#define RETRY_SECONDS 1

struct snooze {
	const struct relay_config *cfg;
	struct committer *committer;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int pending;
	int stopping;
};

static int
end_due(struct store *st, void *arg)
{
	size_t n;

	(void)arg;
	if (inbox_snoozes_end(st, (int64_t)time(NULL), &n) != 0)
		return -1;
	if (n > 0)
		log_info("snooze: reopened %zu conversation(s)", n);
	return 0;
}

/* The soonest end of a snooze, 0 when none, -1 when it cannot be read. */
static int64_t
next_end(struct store *reader)
{
	int64_t until = 0;

	if (reader == NULL || store_read_begin(reader) != 0)
		return -1;
	if (store_snooze_next(reader, &until) != 0)
		until = -1;
	store_read_end(reader);
	return until;
}

static void *
snooze_main(void *arg)
{
	struct snooze *z = arg;
	struct store *reader = NULL;
	struct timespec deadline;
	char *cause = NULL;
	int64_t until;

	pthread_setname_np(pthread_self(), "glivi-snooze");
	if (store_open_reader(z->cfg->store_url, &reader, &cause) != 0) {
		log_error("snooze: cannot read the store: %s", cause);
		free(cause);
	}
	pthread_mutex_lock(&z->lock);
	while (!z->stopping) {
		z->pending = 0;
		pthread_mutex_unlock(&z->lock);
		until = next_end(reader);
		if (until > 0 && until <= (int64_t)time(NULL)) {
			if (committer_call(z->committer, end_due, NULL) != 0)
				until = -1; /* look again shortly */
			else {
				pthread_mutex_lock(&z->lock);
				continue;
			}
		}
		pthread_mutex_lock(&z->lock);
		if (z->pending || z->stopping)
			continue;
		clock_gettime(CLOCK_REALTIME, &deadline);
		if (until < 0)
			deadline.tv_sec += RETRY_SECONDS;
		else if (until == 0 || until > deadline.tv_sec + IDLE_SECONDS)
			deadline.tv_sec += IDLE_SECONDS;
		else {
			deadline.tv_sec = (time_t)until;
			deadline.tv_nsec = 0;
		}
		while (!z->pending && !z->stopping &&
		    pthread_cond_timedwait(&z->wake, &z->lock, &deadline) !=
		    ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&z->lock);
	store_close(reader);
	return NULL;
}

struct snooze *
snooze_start(const struct relay_config *cfg, struct committer *committer,
    char **cause)
{
	struct snooze *z = xcalloc(1, sizeof *z);
	int rc;

	z->cfg = cfg;
	z->committer = committer;
	pthread_mutex_init(&z->lock, NULL);
	pthread_cond_init(&z->wake, NULL);
	rc = pthread_create(&z->thread, NULL, snooze_main, z);
	if (rc != 0) {
		*cause = xasprintf("cannot start the snooze timer: %s",
		    strerror(rc));
		pthread_mutex_destroy(&z->lock);
		pthread_cond_destroy(&z->wake);
		free(z);
		return NULL;
	}
	return z;
}

void
snooze_notify(struct snooze *z)
{
	if (z == NULL)
		return;
	pthread_mutex_lock(&z->lock);
	z->pending = 1;
	pthread_cond_signal(&z->wake);
	pthread_mutex_unlock(&z->lock);
}

void
snooze_stop(struct snooze *z)
{
	if (z == NULL)
		return;
	pthread_mutex_lock(&z->lock);
	z->stopping = 1;
	pthread_cond_signal(&z->wake);
	pthread_mutex_unlock(&z->lock);
	pthread_join(z->thread, NULL);
}

void
snooze_free(struct snooze *z)
{
	if (z == NULL)
		return;
	pthread_mutex_destroy(&z->lock);
	pthread_cond_destroy(&z->wake);
	free(z);
}
