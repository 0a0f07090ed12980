/*
 * tui-load: the screen's costs on a large cache, measured in-process with
 * the panes the screen draws (list, thread, sidebar) into a canvas.
 *
 *   tui-load make --dir DIR --url URL --messages N --conversations C
 *       [--big B]
 *	Builds DIR's cache for URL as a first sync leaves it: N messages in
 *	C conversations, conversation 1 holding B of them (default 10,000).
 *   tui-load measure --dir DIR --url URL [--keys K]
 *	Prints, one "name value" per line:
 *	  first_frame_ms   opening the cache to the first frame drawn
 *	  list_query_ms    baseline: the raw SQL of the list's first screen
 *	  thread_open_ms   p50 of opening the B-message thread and drawing it
 *	  thread_open_max_ms
 *	  key_cpu_ms       CPU per list.next keystroke (the cursor moves, the
 *	                   thread, sidebar and draft follow, all redrawn)
 *	  rss_kb           peak resident set of this process
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <sqlite3.h>

#include "client/cache.h"
#include "core/buf.h"
#include "core/log.h"
#include "tui/layout.h"
#include "tui/list.h"
#include "tui/sidebar.h"
#include "tui/thread.h"
#include "ui/canvas.h"

#define NOW 1795400000LL
#define W 200
#define H 50

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	    ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct cache *
open_cache(const char *dir, const char *url)
{
	char *notice = NULL, *cause = NULL;
	struct cache *c = cache_open(dir, url, &notice, &cause);

	if (c == NULL) {
		fprintf(stderr, "tui-load: %s\n", cause);
		exit(1);
	}
	free(notice);
	return c;
}

static void
flush(struct cache *c, struct buf *b, long *seq)
{
	struct cache_applied a = { 0 };
	char *cause = NULL, cursor[32];

	if (b->len <= 1)
		return;
	buf_adds(b, "]");
	snprintf(cursor, sizeof cursor, "%ld", *seq);
	if (cache_apply(c, b->data, b->len, "$", cursor, &a, &cause) != 0) {
		fprintf(stderr, "tui-load: %s\n", cause);
		exit(1);
	}
	buf_reset(b);
	buf_adds(b, "[");
}

static void
event(struct cache *c, struct buf *b, long *seq, const char *kind, long id,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void
event(struct cache *c, struct buf *b, long *seq, const char *kind, long id,
    const char *fmt, ...)
{
	va_list ap;
	char data[1024];

	va_start(ap, fmt);
	vsnprintf(data, sizeof data, fmt, ap);
	va_end(ap);
	if (b->len > 1)
		buf_adds(b, ",");
	buf_printf(b, "{\"kind\":\"%s\",\"id\":%ld,\"seq\":%ld,"
	    "\"deleted\":false,\"data\":%s}", kind, id, ++*seq, data);
	if (b->len > (1 << 20))
		flush(c, b, seq);
}

static int
make(const char *dir, const char *url, long messages, long convs, long big)
{
	struct cache *c = open_cache(dir, url);
	struct buf b;
	long seq = 0, id = 0, i, conv, *last;
	char *cause = NULL;

	if (cache_initial_begin(c, &cause) != 0 || cache_begin(c, &cause) !=
	    0) {
		fprintf(stderr, "tui-load: %s\n", cause);
		return 1;
	}
	buf_init(&b);
	buf_adds(&b, "[");
	event(c, &b, &seq, "agent", 1, "{\"name\":\"bench\",\"role\":"
	    "\"agent\"}");
	for (i = 1; i <= convs; i++)
		event(c, &b, &seq, "contact", i, "{\"profile_name\":\"Kunde "
		    "%ld\",\"wa_id\":\"49151%08ld\"}", i, i);
	last = calloc((size_t)convs + 1, sizeof *last);
	for (i = 0; i < messages; i++) {
		/* The big thread first, then round robin over the rest. */
		conv = i < big ? 1 : 2 + (i - big) % (convs - 1);
		id++;
		event(c, &b, &seq, "message", id, "{\"conversation_id\":%ld,"
		    "\"wamid\":\"wamid.b%ld\",\"direction\":\"%s\","
		    "\"type\":\"text\",\"text\":\"message %ld of the bench, "
		    "lorem ipsum dolor sit amet\",\"timestamp\":%lld,"
		    "\"status\":\"read\"}", conv, id, id % 3 ? "in" : "out", id,
		    NOW - messages + i);
		last[conv] = id;
	}
	for (i = 1; i <= convs; i++)
		event(c, &b, &seq, "conversation", i, "{\"contact_id\":%ld,"
		    "\"status\":\"open\",\"assignee_id\":%s,"
		    "\"last_activity_at\":%lld,\"last_inbound_at\":%lld,"
		    "\"last_message_id\":%ld,\"labels\":[],\"read_by\":{}}", i,
		    i % 2 ? "1" : "null", NOW - messages + last[i],
		    NOW - messages + last[i], last[i]);
	flush(c, &b, &seq);
	if (cache_commit(c, &cause) != 0 || cache_initial_end(c, &cause) !=
	    0) {
		fprintf(stderr, "tui-load: %s\n", cause);
		return 1;
	}
	buf_free(&b);
	free(last);
	cache_close(c);
	return 0;
}

struct screen {
	struct canvas *cv;
	struct list *list;
	struct thread *thread;
	struct sidebar *side;
	struct layout lay;
};

static void
draw(struct screen *s)
{
	struct rect l = s->lay.list, t = s->lay.thread;

	list_draw(s->list, s->cv, &l, 1, NOW);
	thread_draw(s->thread, s->cv, t.x, t.y, t.w, t.h, 0);
	sidebar_draw(s->side, s->cv, &s->lay.sidebar, NOW);
}

static void
follow(struct screen *s)
{
	thread_open(s->thread, list_selected(s->list));
	sidebar_show(s->side, list_selected(s->list));
}

/* The raw SQL the list's first screen needs, for the baseline. */
static double
list_query(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	double t0 = now_ms(), t;
	int n = 0;

	sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	sqlite3_prepare_v2(db, "SELECT c.id, k.name, m.body FROM"
	    " conversations c LEFT JOIN contacts k ON k.id = c.contact_id"
	    " LEFT JOIN messages m ON m.id = c.last_message_id"
	    " ORDER BY c.last_activity_at DESC, c.id DESC LIMIT 25", -1, &st,
	    NULL);
	while (sqlite3_step(st) == SQLITE_ROW)
		n++;
	sqlite3_finalize(st);
	sqlite3_close(db);
	t = now_ms() - t0;
	return n > 0 ? t : -1;
}

static int
measure(const char *dir, const char *url, int keys)
{
	struct layout_in in = { W, H, LAYOUT_LIST, 0, 1 };
	struct screen s;
	struct cache *c;
	struct rusage ru;
	double t0, first, times[20], c0;
	int i;

	t0 = now_ms();
	c = open_cache(dir, url);
	cache_set_page_cache(c, 4096); /* as the screen does */
	s.cv = canvas_new(W, H);
	layout_compute(&in, &s.lay);
	s.list = list_new(c, 1);
	s.thread = thread_new(c, 1);
	s.side = sidebar_new(c);
	list_reload(s.list);
	follow(&s);
	draw(&s);
	first = now_ms() - t0;
	printf("first_frame_ms %.3f\n", first);
	printf("list_query_ms %.3f\n", list_query(cache_path(c)));

	for (i = 0; i < 20; i++) {
		thread_open(s.thread, 0);
		t0 = now_ms();
		thread_open(s.thread, 1);
		thread_draw(s.thread, s.cv, s.lay.thread.x, s.lay.thread.y,
		    s.lay.thread.w, s.lay.thread.h, 0);
		times[i] = now_ms() - t0;
	}
	qsort(times, 20, sizeof times[0], cmp);
	printf("thread_open_ms %.3f\nthread_open_max_ms %.3f\n", times[10],
	    times[19]);

	c0 = cpu_ms();
	for (i = 0; i < keys; i++) {
		list_move(s.list, 1);
		follow(&s);
		draw(&s);
	}
	printf("key_cpu_ms %.4f\n", (cpu_ms() - c0) / keys);
	getrusage(RUSAGE_SELF, &ru);
	printf("rss_kb %ld\n", ru.ru_maxrss);

	sidebar_free(s.side);
	thread_free(s.thread);
	list_free(s.list);
	canvas_free(s.cv);
	cache_close(c);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "url", required_argument, NULL, 'u' },
		{ "messages", required_argument, NULL, 'm' },
		{ "conversations", required_argument, NULL, 'c' },
		{ "big", required_argument, NULL, 'b' },
		{ "keys", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *url = "https://127.0.0.1:9";
	long messages = 1000000, convs = 20000, big = 10000;
	int keys = 2000, c;

	if (argc < 2) {
		fprintf(stderr, "usage: tui-load make|measure --dir DIR ...\n");
		return 2;
	}
	log_set_level(LOG_ERROR);
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 'm':
			messages = atol(optarg);
			break;
		case 'c':
			convs = atol(optarg);
			break;
		case 'b':
			big = atol(optarg);
			break;
		case 'k':
			keys = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (dir == NULL || convs < 2 || big >= messages || keys < 1)
		return 2;
	if (strcmp(argv[1], "make") == 0)
		return make(dir, url, messages, convs, big);
	if (strcmp(argv[1], "measure") == 0)
		return measure(dir, url, keys);
	return 2;
}
