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


#include "core/buf.h"
#include "core/jsonw.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "relay/server.h"
#include "relay/sync.h"

#define PRESENCE_MAX 256 /* queued presence events before a stream closes */
#define PAGE 200	 /* changes read from the store per refill */
#define POLL_MS 250	 /* how often other processes' commits are noticed */
#define RING_MAX 4096	 /* change frames shared between streams */
#define RING_BYTES (16 * 1024 * 1024)
#define PRESENCE_PER_AGENT 16 /* conversations remembered per agent */

struct frame {
	int64_t seq;
	uint64_t key;	       /* kind and id: frames of one entity share it */
	int stale;	       /* a later frame in the ring has the entity */
	int64_t revoked_agent; /* an agent revoked or deleted here, or 0 */
	char *text;
	size_t len;
};

static void frame_free(struct frame *);
static uint64_t entity_key(const char *, int64_t);

#define INDEX_SLOTS (4 * RING_MAX) /* open addressing, power of two */

struct ring {
	struct frame *f; /* RING_MAX slots, circular from start */
	size_t start, n, bytes;
	int64_t lo, hi; /* covers every change with lo < seq <= hi */
	/* The commit generation at which hi was the store's head: a commit
	 * since may have re-stamped an entity of the ring past hi, and then
	 * a frame of it in the ring is no longer its latest state. */
	uint64_t generation;
	/* entity key -> ring slot + 1 of its newest frame (0: empty) */
	uint64_t *index_key;
	size_t *index_slot;
};

struct stream {
	struct events *ev;
	struct MHD_Connection *conn;
	int64_t agent_id;
	char agent[72];
	int64_t cursor; /* last seq written to out */
	struct buf out;
	size_t off;
	char *presence[PRESENCE_MAX]; /* whole frames, "event: …\n…\n\n" */
	unsigned npresence;
	int started;
	int suspended;
	int closing;
	int ping;
	struct stream *prev, *next;
};

/* What an agent is doing where, until idle or its last stream ends. */
struct presence_rec {
	int64_t agent_id;
	char agent[72];
	int64_t conversation_id;
	char state[12];
	int64_t at;
	struct presence_rec *next;
};

struct events {
	struct server *srv;
	struct presence_rec *present;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct stream *streams;
	unsigned nstreams;
	uint64_t generation;
	int stopping;
	long long interval;
	pthread_t thread;
	pthread_t doorbell;
	int has_doorbell;
	atomic_int doorbell_stop;
	atomic_uint_fast64_t delivered;
	struct ring ring;
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

/*
 * Queues an ephemeral event for every stream, or only agent's streams
 * (agent != 0); called with ev->lock held.
 */
static void
queue_locked(struct events *ev, int64_t agent, const char *event,
    const char *json)
{
	char *frame = xasprintf("event: %s\ndata: %s\n\n", event, json);

	for (struct stream *s = ev->streams; s != NULL; s = s->next) {
		if (agent != 0 && s->agent_id != agent)
			continue;
		if (s->npresence == PRESENCE_MAX) {
			/* Too slow to keep up: let it go; it resumes by cursor
			 * and presence is ephemeral anyway. */
			s->closing = 1;
		} else
			s->presence[s->npresence++] = xstrdup(frame);
		if (s->suspended) {
			s->suspended = 0;
			MHD_resume_connection(s->conn);
		}
	}
	free(frame);
}

void
events_presence(struct events *ev, const char *json)
{
	pthread_mutex_lock(&ev->lock);
	queue_locked(ev, 0, "presence", json);
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

/*
 * Several relays on one PostgreSQL store: another relay's commit rings
 * NOTIFY, and this thread passes it on to the streams here, which read
 * the changes from the store. A notification carries nothing, and none
 * is replayed after the listening connection broke: so every (re)start of
 * listening also wakes the streams, which catch up by query. The
 * heartbeat's poll of the store's head stays as the safety net.
 */
static void *
doorbell_main(void *arg)
{
	struct events *ev = arg;
	struct store *reader = NULL;
	char *cause = NULL;
	int listening = 0, rc;

	pthread_setname_np(pthread_self(), "glivi-doorbell");
	while (!atomic_load(&ev->doorbell_stop)) {
		if (reader == NULL &&
		    store_open_reader(ev->srv->cfg->store_url, &reader,
		    &cause) != 0) {
			log_warn("events: doorbell: %s", cause);
			free(cause);
			cause = NULL;
			reader = NULL;
		}
		if (reader != NULL && !listening) {
			if (store_listen(reader) == 0) {
				listening = 1;
				events_notify(ev);
			}
		}
		if (!listening) {
			/* The store is away: the connection retries with
			 * its own backoff; look again shortly. */
			struct timespec pause = { 0, 200 * 1000 * 1000 };

			nanosleep(&pause, NULL);
			continue;
		}
		rc = store_doorbell(reader, 250);
		if (rc > 0)
			events_notify(ev);
		else if (rc < 0) {
			log_warn("events: lost the doorbell; listening again");
			listening = 0;
		}
	}
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
	ev->ring.f = xcalloc(RING_MAX, sizeof *ev->ring.f);
	ev->ring.index_key = xcalloc(INDEX_SLOTS, sizeof *ev->ring.index_key);
	ev->ring.index_slot = xcalloc(INDEX_SLOTS,
	    sizeof *ev->ring.index_slot);
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
	if (strncmp(srv->cfg->store_url, "postgres", 8) == 0) {
		rc = pthread_create(&ev->doorbell, NULL, doorbell_main, ev);
		if (rc != 0)
			log_warn("events: no doorbell (%s); other relays' "
			    "commits are seen within %d ms", strerror(rc),
			    POLL_MS);
		else
			ev->has_doorbell = 1;
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
	if (ev->has_doorbell) {
		atomic_store(&ev->doorbell_stop, 1);
		pthread_join(ev->doorbell, NULL);
		ev->has_doorbell = 0;
	}
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
	for (size_t i = 0; i < ev->ring.n; i++)
		frame_free(&ev->ring.f[(ev->ring.start + i) % RING_MAX]);
	while (ev->present != NULL) {
		struct presence_rec *p = ev->present;

		ev->present = p->next;
		free(p);
	}
	free(ev->ring.f);
	free(ev->ring.index_key);
	free(ev->ring.index_slot);
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

/*
 * Change events are formatted once and shared: the first stream to read a
 * range of changes from the store keeps the frames in a ring, and streams
 * whose cursor falls inside the ring copy from it. The ring covers every
 * change with lo < seq <= hi, contiguously, as the store had them when
 * read; an entity changed since has a newer frame too, and clients keep the
 * latest. A stream behind the ring (a replay) reads the store itself.
 */

struct batch {
	struct store *st;
	struct frame *f;
	size_t n, cap;
};

static int
collect(void *arg, const char *kind, int64_t id, int64_t seq, int deleted)
{
	struct batch *b = arg;
	struct buf out;
	struct jw w;
	char cursor[64];
	size_t at;
	struct frame *f;

	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 64;
		b->f = xrealloc(b->f, b->cap * sizeof *b->f);
	}
	f = &b->f[b->n++];
	f->seq = seq;
	f->key = entity_key(kind, id);
	f->stale = 0;
	f->revoked_agent = 0;
	sync_cursor_format(store_epoch(b->st), seq, cursor);
	buf_init(&out);
	buf_adds(&out, "id: ");
	buf_adds(&out, cursor);
	buf_adds(&out, "\nevent: change\ndata: ");
	at = out.len;
	jw_init(&w, &out);
	sync_change_text(b->st, kind, id, seq, deleted, &w);
	if (strcmp(kind, STORE_AGENT) == 0) {
		cJSON *o = cJSON_ParseWithLength(out.data + at, out.len - at);
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "data");

		/* A revocation, not a read that failed (data null). */
		if (deleted || cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(d,
		    "revoked_at")))
			f->revoked_agent = id;
		cJSON_Delete(o);
	}
	buf_adds(&out, "\n\n");
	f->len = out.len;
	f->text = buf_steal(&out);
	return 0;
}

static void
frame_free(struct frame *f)
{
	free(f->text);
	f->text = NULL;
}

static uint64_t
entity_key(const char *kind, int64_t id)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a of the kind */

	for (; *kind != '\0'; kind++)
		h = (h ^ (unsigned char)*kind) * 1099511628211ULL;
	return (h << 48) ^ (uint64_t)id;
}

static size_t
index_find(struct ring *r, uint64_t key)
{
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 40) &
	    (INDEX_SLOTS - 1);

	while (r->index_slot[i] != 0 && r->index_key[i] != key)
		i = (i + 1) & (INDEX_SLOTS - 1);
	return i;
}

/* Removes the entry at i, shifting back the ones that probed past it. */
static void
index_delete(struct ring *r, size_t i)
{
	size_t j = i, home;

	r->index_slot[i] = 0;
	for (;;) {
		j = (j + 1) & (INDEX_SLOTS - 1);
		if (r->index_slot[j] == 0)
			return;
		home = (size_t)((r->index_key[j] * 0x9e3779b97f4a7c15ULL) >>
		    40) & (INDEX_SLOTS - 1);
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if ((i < j) ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		r->index_key[i] = r->index_key[j];
		r->index_slot[i] = r->index_slot[j];
		r->index_slot[j] = 0;
		i = j;
	}
}

/*
 * Appends frames to the ring (ev->lock held); the ring takes the texts.
 * generation: the commit generation before they were read; at_head: the
 * read reached the store's head then.
 */
static void
ring_extend(struct events *ev, int64_t from, struct frame *f, size_t n,
    uint64_t generation, int at_head)
{
	struct ring *r = &ev->ring;

	if (r->n > 0 && from != r->hi) {
		if (r->generation == ev->generation) {
			for (size_t i = 0; i < n; i++)
				frame_free(&f[i]);
			return; /* not contiguous with what the ring covers */
		}
		/* The ring fell behind commits nobody read into it: start
		 * it again from here rather than keep it unusable. */
		for (size_t i = 0; i < r->n; i++)
			frame_free(&r->f[(r->start + i) % RING_MAX]);
		memset(r->index_slot, 0, INDEX_SLOTS * sizeof *r->index_slot);
		r->start = r->n = r->bytes = 0;
	}
	if (r->n == 0)
		r->lo = from;
	/* Current only when the read reached the head: otherwise a frame
	 * in the ring may have a newer state past hi already. */
	r->generation = at_head ? generation : UINT64_MAX;
	for (size_t i = 0; i < n; i++) {
		size_t slot, at;

		while (r->n == RING_MAX || (r->n > 0 &&
		    r->bytes + f[i].len > RING_BYTES)) {
			struct frame *old = &r->f[r->start];

			at = index_find(r, old->key);
			if (r->index_slot[at] == r->start + 1)
				index_delete(r, at);
			r->lo = old->seq;
			r->bytes -= old->len;
			frame_free(old);
			r->start = (r->start + 1) % RING_MAX;
			r->n--;
		}
		slot = (r->start + r->n) % RING_MAX;
		/* A newer state of the entity makes its older frame stale:
		 * streams copying from the ring skip it, so a replay carries
		 * each entity's latest state once, as the store would. */
		at = index_find(r, f[i].key);
		if (r->index_slot[at] != 0)
			r->f[r->index_slot[at] - 1].stale = 1;
		r->index_key[at] = f[i].key;
		r->index_slot[at] = slot + 1;
		r->f[slot] = f[i];
		r->n++;
		r->bytes += f[i].len;
		r->hi = f[i].seq;
	}
}

/* Copies the ring's frames after the stream's cursor (ev->lock held);
 * 1 when the ring covered the cursor. */
static int
ring_copy(struct stream *s, int *revoked)
{
	struct ring *r = &s->ev->ring;
	size_t i, copied = 0;

	if (r->n == 0 || s->cursor < r->lo || s->cursor >= r->hi ||
	    r->generation != s->ev->generation)
		return 0;
	for (i = 0; i < r->n && r->f[(r->start + i) % RING_MAX].seq <=
	    s->cursor; i++)
		;
	for (; i < r->n && copied < PAGE; i++) {
		struct frame *f = &r->f[(r->start + i) % RING_MAX];

		s->cursor = f->seq;
		if (f->stale)
			continue;
		buf_add(&s->out, f->text, f->len);
		copied++;
		if (f->revoked_agent == s->agent_id)
			*revoked = 1;
	}
	atomic_fetch_add(&s->ev->delivered, copied);
	return 1;
}

/* Reads the changes after the cursor from the store into the stream and
 * offers them to the ring. Runs without ev->lock. */
static void
store_copy(struct stream *s, int *revoked)
{
	struct events *ev = s->ev;
	struct batch b = { server_reader(ev->srv), NULL, 0, 0 };
	int64_t from = s->cursor;
	uint64_t generation;

	pthread_mutex_lock(&ev->lock);
	generation = ev->generation;
	pthread_mutex_unlock(&ev->lock);
	if (b.st == NULL || store_read_begin(b.st) != 0)
		return;
	store_changes(b.st, from, PAGE, collect, &b);
	store_read_end(b.st);
	for (size_t i = 0; i < b.n; i++) {
		buf_add(&s->out, b.f[i].text, b.f[i].len);
		s->cursor = b.f[i].seq;
		if (b.f[i].revoked_agent == s->agent_id)
			*revoked = 1;
	}
	atomic_fetch_add(&ev->delivered, b.n);
	pthread_mutex_lock(&ev->lock);
	ring_extend(ev, from, b.f, b.n, generation, b.n < PAGE);
	pthread_mutex_unlock(&ev->lock);
	free(b.f);
}

static int refill_once(struct stream *);

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
	uint64_t generation;
	int revoked = 0, from_ring;
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
		buf_adds(&s->out, s->presence[n]);
		free(s->presence[n]);
	}
	s->npresence = 0;
	if (s->ping && s->out.len == 0)
		buf_adds(&s->out, ": ping\n\n");
	s->ping = 0;
	generation = ev->generation;
	from_ring = ring_copy(s, &revoked);
	pthread_mutex_unlock(&ev->lock);

	if (!from_ring)
		store_copy(s, &revoked);
	if (revoked) {
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

static int agent_streams_locked(struct events *, int64_t);
static void agent_gone_locked(struct events *, int64_t, const char *);
static void online_locked(struct events *, int64_t, const char *, int);

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
	agent_gone_locked(ev, s->agent_id, s->agent);
	pthread_mutex_unlock(&ev->lock);
	for (unsigned i = 0; i < s->npresence; i++)
		free(s->presence[i]);
	buf_free(&s->out);
	free(s);
}

struct MHD_Response *
events_open(struct events *ev, struct MHD_Connection *conn, int64_t agent_id,
    const char *agent, int64_t since)
{
	struct stream *s = xcalloc(1, sizeof *s);
	struct MHD_Response *resp;

	s->ev = ev;
	s->conn = conn;
	s->agent_id = agent_id;
	snprintf(s->agent, sizeof s->agent, "%s", agent);
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
	else if (agent_streams_locked(ev, agent_id) == 1)
		online_locked(ev, agent_id, s->agent, 1);
	pthread_mutex_unlock(&ev->lock);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/event-stream; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return resp;
}

/*
 * Presence and who is online. An agent is online while it holds an event
 * stream; when its last stream ends, whatever it was doing (viewing,
 * typing) ends too, and every stream is told so, as if it had said idle.
 */

static int
agent_streams_locked(struct events *ev, int64_t agent_id)
{
	int n = 0;

	for (struct stream *s = ev->streams; s != NULL; s = s->next)
		n += s->agent_id == agent_id;
	return n;
}

static char *
presence_json(int64_t agent_id, const char *agent, int64_t conversation_id,
    const char *state, int64_t at)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(o, "agent", agent);
	jx_add_int(o, "agent_id", agent_id);
	jx_add_int(o, "conversation_id", conversation_id);
	cJSON_AddStringToObject(o, "state", state);
	jx_add_int(o, "at", at);
	text = jx_print(o);
	cJSON_Delete(o);
	return text;
}

static void
online_locked(struct events *ev, int64_t agent_id, const char *agent,
    int online)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(o, "agent", agent);
	jx_add_int(o, "agent_id", agent_id);
	cJSON_AddBoolToObject(o, "online", online);
	jx_add_int(o, "at", (int64_t)time(NULL));
	text = jx_print(o);
	cJSON_Delete(o);
	queue_locked(ev, 0, "online", text);
	free(text);
}

static void
agent_gone_locked(struct events *ev, int64_t agent_id, const char *agent)
{
	struct presence_rec **pp, *p;

	if (ev->stopping || agent_streams_locked(ev, agent_id) > 0)
		return;
	for (pp = &ev->present; (p = *pp) != NULL;) {
		if (p->agent_id != agent_id) {
			pp = &p->next;
			continue;
		}
		char *text = presence_json(agent_id, p->agent,
		    p->conversation_id, "idle", (int64_t)time(NULL));

		queue_locked(ev, 0, "presence", text);
		free(text);
		*pp = p->next;
		free(p);
	}
	online_locked(ev, agent_id, agent, 0);
}

static int
agent_presences_locked(struct events *ev, int64_t agent_id)
{
	int n = 0;

	for (struct presence_rec *p = ev->present; p != NULL; p = p->next)
		n += p->agent_id == agent_id;
	return n;
}

/* An agent is in a few conversations at once; one that claims more
 * loses its oldest claim rather than the relay's memory. */
static void
forget_oldest_locked(struct events *ev, int64_t agent_id)
{
	struct presence_rec **pp, **oldest = NULL, *p;

	for (pp = &ev->present; (p = *pp) != NULL; pp = &p->next) {
		if (p->agent_id == agent_id && (oldest == NULL ||
		    p->at <= (*oldest)->at))
			oldest = pp;
	}
	if (oldest != NULL) {
		p = *oldest;
		*oldest = p->next;
		free(p);
	}
}

void
events_presence_set(struct events *ev, int64_t agent_id, const char *agent,
    int64_t conversation_id, const char *state)
{
	struct presence_rec **pp, *p;
	int64_t now = (int64_t)time(NULL);
	char *text = presence_json(agent_id, agent, conversation_id, state,
	    now);

	pthread_mutex_lock(&ev->lock);
	for (pp = &ev->present; (p = *pp) != NULL; pp = &p->next) {
		if (p->agent_id == agent_id &&
		    p->conversation_id == conversation_id)
			break;
	}
	if (strcmp(state, "idle") == 0 || agent_streams_locked(ev,
	    agent_id) == 0) {
		/* Idle, or an agent with no stream (a script): nothing to
		 * remember, as nothing would ever end it. */
		if (p != NULL) {
			*pp = p->next;
			free(p);
		}
	} else {
		if (p == NULL && agent_presences_locked(ev, agent_id) >=
		    PRESENCE_PER_AGENT)
			forget_oldest_locked(ev, agent_id);
		if (p == NULL) {
			p = xcalloc(1, sizeof *p);
			p->agent_id = agent_id;
			p->conversation_id = conversation_id;
			p->next = ev->present;
			ev->present = p;
		}
		snprintf(p->agent, sizeof p->agent, "%s", agent);
		snprintf(p->state, sizeof p->state, "%s", state);
		p->at = now;
	}
	queue_locked(ev, 0, "presence", text);
	pthread_mutex_unlock(&ev->lock);
	free(text);
}

void
events_to_agent(struct events *ev, int64_t agent_id, const char *event,
    const char *json)
{
	pthread_mutex_lock(&ev->lock);
	queue_locked(ev, agent_id, event, json);
	pthread_mutex_unlock(&ev->lock);
}

size_t
events_online(void *arg, int64_t *ids, size_t max)
{
	struct events *ev = arg;
	size_t n = 0, i;

	pthread_mutex_lock(&ev->lock);
	for (struct stream *s = ev->streams; s != NULL; s = s->next) {
		for (i = 0; i < n && ids[i] != s->agent_id; i++)
			;
		if (i < n || n == max || s->closing)
			continue;
		/* Kept in ascending order: few agents, a simple insert. */
		for (i = n; i > 0 && ids[i - 1] > s->agent_id; i--)
			ids[i] = ids[i - 1];
		ids[i] = s->agent_id;
		n++;
	}
	pthread_mutex_unlock(&ev->lock);
	return n;
}

char *
events_presence_now(struct events *ev)
{
	cJSON *o = cJSON_CreateObject(), *online = cJSON_CreateArray(),
	    *present = cJSON_CreateArray(), *a;
	char *text;

	pthread_mutex_lock(&ev->lock);
	for (struct stream *s = ev->streams; s != NULL; s = s->next) {
		int seen = 0;

		for (struct stream *t = ev->streams; t != s; t = t->next)
			seen |= t->agent_id == s->agent_id;
		if (seen)
			continue;
		a = cJSON_CreateObject();
		jx_add_int(a, "agent_id", s->agent_id);
		cJSON_AddStringToObject(a, "agent", s->agent);
		cJSON_AddItemToArray(online, a);
	}
	for (struct presence_rec *p = ev->present; p != NULL; p = p->next) {
		a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "agent", p->agent);
		jx_add_int(a, "agent_id", p->agent_id);
		jx_add_int(a, "conversation_id", p->conversation_id);
		cJSON_AddStringToObject(a, "state", p->state);
		jx_add_int(a, "at", p->at);
		cJSON_AddItemToArray(present, a);
	}
	pthread_mutex_unlock(&ev->lock);
	cJSON_AddItemToObject(o, "online", online);
	cJSON_AddItemToObject(o, "presence", present);
	text = jx_print(o);
	cJSON_Delete(o);
	return text;
}
