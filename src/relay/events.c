/*
 * Event streams. A stream suspends its connection when it has nothing to
 * send; a commit (events_notify), a presence event or the heartbeat resumes
 * it, and libmicrohttpd calls the reader again when the socket can take
 * more. The generation counter makes "check, then suspend" race-free: a
 * notify between the two is seen before suspending.
 */
#include "relay/events.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "relay/server.h"
#include "relay/sync.h"

#define PRESENCE_MAX 256 /* queued presence events before a stream closes */
#define PAGE 200	 /* changes read from the store per refill */
#define POLL_MS 250	 /* how often other processes' commits are noticed */

struct stream {
	struct events *ev;
	struct MHD_Connection *conn;
	int64_t agent_id;
	int64_t cursor; /* last seq written to out */
	struct buf out;
	size_t off;
	char *presence[PRESENCE_MAX];
	unsigned npresence;
	int started;
	int suspended;
	int closing;
	int ping;
	struct stream *prev, *next;
};

struct events {
	struct server *srv;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct stream *streams;
	unsigned nstreams;
	uint64_t generation;
	int stopping;
	long long interval;
	pthread_t thread;
	atomic_uint_fast64_t delivered;
};

/* Wakes every suspended stream; called with ev->lock held. */
static void
wake_all(struct events *ev)
{
	for (struct stream *s = ev->streams; s != NULL; s = s->next) {
		if (s->suspended) {
			s->suspended = 0;
			MHD_resume_connection(s->conn);
		}
	}
}

void
events_notify(void *arg)
{
	struct events *ev = arg;

	pthread_mutex_lock(&ev->lock);
	ev->generation++;
	wake_all(ev);
	pthread_mutex_unlock(&ev->lock);
}

void
events_presence(struct events *ev, const char *json)
{
	pthread_mutex_lock(&ev->lock);
	for (struct stream *s = ev->streams; s != NULL; s = s->next) {
		if (s->npresence == PRESENCE_MAX) {
			/* Too slow to keep up: let it go; it resumes by cursor
			 * and presence is ephemeral anyway. */
			s->closing = 1;
		} else
			s->presence[s->npresence++] = xstrdup(json);
		if (s->suspended) {
			s->suspended = 0;
			MHD_resume_connection(s->conn);
		}
	}
	pthread_mutex_unlock(&ev->lock);
}

/*
 * The heartbeat thread: pings idle streams every interval, and notices
 * commits made by other processes (the admin CLI revoking an agent) by
 * watching the store's data_version.
 */
static void *
heartbeat_main(void *arg)
{
	struct events *ev = arg;
	struct store *reader = NULL;
	struct timespec deadline;
	time_t last_ping = time(NULL);
	int64_t head = -1, h, horizon;
	char *cause = NULL;

	pthread_setname_np(pthread_self(), "glivi-events");
	if (store_open_reader(ev->srv->cfg->store_url, &reader, &cause) != 0) {
		log_warn("events: no watcher for other writers: %s", cause);
		free(cause);
	}
	pthread_mutex_lock(&ev->lock);
	while (!ev->stopping) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_nsec += POLL_MS * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ev->cond, &ev->lock, &deadline);
		if (ev->stopping)
			break;
		if (time(NULL) - last_ping >= ev->interval) {
			last_ping = time(NULL);
			for (struct stream *s = ev->streams; s != NULL;
			    s = s->next)
				s->ping = 1;
			wake_all(ev);
		}
		pthread_mutex_unlock(&ev->lock);
		if (reader != NULL && store_head(reader, &h, &horizon) == 0 &&
		    h != head) {
			if (head != -1)
				events_notify(ev);
			head = h;
		}
		pthread_mutex_lock(&ev->lock);
	}
	pthread_mutex_unlock(&ev->lock);
	store_close(reader);
	return NULL;
}

struct events *
events_start(struct server *srv, long long interval, char **cause)
{
	struct events *ev = xcalloc(1, sizeof *ev);
	int rc;

	ev->srv = srv;
	ev->interval = interval;
	pthread_mutex_init(&ev->lock, NULL);
	pthread_cond_init(&ev->cond, NULL);
	rc = pthread_create(&ev->thread, NULL, heartbeat_main, ev);
	if (rc != 0) {
		*cause = xasprintf("cannot start the event heartbeat: %s",
		    strerror(rc));
		pthread_mutex_destroy(&ev->lock);
		pthread_cond_destroy(&ev->cond);
		free(ev);
		return NULL;
	}
	return ev;
}

void
events_stop(struct events *ev)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };

	if (ev == NULL)
		return;
	pthread_mutex_lock(&ev->lock);
	ev->stopping = 1;
	for (struct stream *s = ev->streams; s != NULL; s = s->next)
		s->closing = 1;
	wake_all(ev);
	pthread_cond_signal(&ev->cond);
	pthread_mutex_unlock(&ev->lock);
	pthread_join(ev->thread, NULL);
	/* Let the HTTP thread end each stream: a suspended connection must
	 * not outlive the daemon. */
	for (int i = 0; i < 300 && events_count(ev) > 0; i++)
		nanosleep(&pause, NULL);
}

void
events_free(struct events *ev)
{
	if (ev == NULL)
		return;
	pthread_mutex_destroy(&ev->lock);
	pthread_cond_destroy(&ev->cond);
	free(ev);
}

unsigned
events_count(struct events *ev)
{
	unsigned n;

	pthread_mutex_lock(&ev->lock);
	n = ev->nstreams;
	pthread_mutex_unlock(&ev->lock);
	return n;
}

uint64_t
events_delivered(struct events *ev)
{
	return atomic_load(&ev->delivered);
}

struct refill {
	struct stream *s;
	struct store *st;
	int revoked;
};

static int refill_once(struct stream *);

static int
add_change(void *arg, const char *kind, int64_t id, int64_t seq, int deleted)
{
	struct refill *r = arg;
	char cursor[64], *json;
	cJSON *o = sync_change_json(r->st, kind, id, seq, deleted);

	if (r->s->agent_id == id && strcmp(kind, STORE_AGENT) == 0) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "data");

		if (deleted || !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d,
		    "revoked_at")))
			r->revoked = 1;
	}
	json = jx_print(o);
	cJSON_Delete(o);
	sync_cursor_format(store_epoch(r->st), seq, cursor);
	buf_printf(&r->s->out, "id: %s\nevent: change\ndata: %s\n\n", cursor,
	    json);
	free(json);
	r->s->cursor = seq;
	atomic_fetch_add(&r->s->ev->delivered, 1);
	return 0;
}

/*
 * Fills s->out with what is due: 1 when there is something, 0 when the
 * stream was suspended for want of news, -1 when it is to close.
 */
static int
refill(struct stream *s)
{
	int rc;

	/* News may land between looking and suspending; look again then. */
	while ((rc = refill_once(s)) == 2)
		;
	return rc;
}

static int
refill_once(struct stream *s)
{
	struct events *ev = s->ev;
	struct refill r = { s, server_reader(ev->srv), 0 };
	uint64_t generation;
	unsigned n;

	buf_reset(&s->out);
	s->off = 0;
	pthread_mutex_lock(&ev->lock);
	if (s->closing) {
		pthread_mutex_unlock(&ev->lock);
		return -1;
	}
	if (!s->started) {
		buf_adds(&s->out, "retry: 5000\n: glivi-relay events\n\n");
		s->started = 1;
	}
	for (n = 0; n < s->npresence; n++) {
		buf_printf(&s->out, "event: presence\ndata: %s\n\n",
		    s->presence[n]);
		free(s->presence[n]);
	}
	s->npresence = 0;
	if (s->ping && s->out.len == 0)
		buf_adds(&s->out, ": ping\n\n");
	s->ping = 0;
	generation = ev->generation;
	pthread_mutex_unlock(&ev->lock);

	if (r.st != NULL && store_read_begin(r.st) == 0) {
		store_changes(r.st, s->cursor, PAGE, add_change, &r);
		store_read_end(r.st);
	}
	if (r.revoked) {
		buf_adds(&s->out, "event: revoked\ndata: {}\n\n");
		pthread_mutex_lock(&ev->lock);
		s->closing = 1;
		pthread_mutex_unlock(&ev->lock);
	}
	if (s->out.len > 0)
		return 1;

	pthread_mutex_lock(&ev->lock);
	if (ev->generation != generation || s->npresence > 0 || s->ping ||
	    s->closing) {
		pthread_mutex_unlock(&ev->lock);
		return 2;
	}
	s->suspended = 1;
	MHD_suspend_connection(s->conn);
	pthread_mutex_unlock(&ev->lock);
	return 0;
}

static ssize_t
reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *s = cls;
	size_t n;
	int rc;

	if (s->off >= s->out.len) {
		rc = refill(s);
		if (rc < 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (rc == 0)
			return 0; /* suspended until there is news */
	}
	n = s->out.len - s->off;
	if (n > max)
		n = max;
	memcpy(out, s->out.data + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void
stream_free(void *cls)
{
	struct stream *s = cls;
	struct events *ev = s->ev;

	pthread_mutex_lock(&ev->lock);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		ev->streams = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	ev->nstreams--;
	pthread_mutex_unlock(&ev->lock);
	for (unsigned i = 0; i < s->npresence; i++)
		free(s->presence[i]);
	buf_free(&s->out);
	free(s);
}

struct MHD_Response *
events_open(struct events *ev, struct MHD_Connection *conn, int64_t agent_id,
    int64_t since)
{
	struct stream *s = xcalloc(1, sizeof *s);
	struct MHD_Response *resp;

	s->ev = ev;
	s->conn = conn;
	s->agent_id = agent_id;
	s->cursor = since;
	buf_init(&s->out);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
	    reader, s, stream_free);
	if (resp == NULL) {
		free(s);
		return NULL;
	}
	pthread_mutex_lock(&ev->lock);
	s->next = ev->streams;
	if (ev->streams != NULL)
		ev->streams->prev = s;
	ev->streams = s;
	ev->nstreams++;
	if (ev->stopping)
		s->closing = 1;
	pthread_mutex_unlock(&ev->lock);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/event-stream; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return resp;
}
