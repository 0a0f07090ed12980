/*
 * The client's cache and work files: applying sync pages, search, damage
 * handling and the outbox. Each test gets its own temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "client/cache.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "../testutil.h"

#define URL "https://relay.test:8443"

struct fx {
	char root[64]; /* from mkdtemp */
	char *dir;     /* root/data/cache: cache_open makes it */
	struct cache *c;
};

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);

	snprintf(fx->root, sizeof fx->root, "/tmp/glivi-cache-XXXXXX");
	if (mkdtemp(fx->root) == NULL)
		return -1;
	fx->dir = xasprintf("%s/data/cache", fx->root);
	/* The cache logs what it leaves out; keep test output quiet. */
	log_set_level(LOG_ERROR);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	cache_close(fx->c);
	testutil_rmtree(fx->root);
	free(fx->dir);
	free(fx);
	return 0;
}

static struct cache *
open_cache(struct fx *fx)
{
	char *notice = NULL, *cause = NULL;
	struct cache *c = cache_open(fx->dir, URL, &notice, &cause);

	if (c == NULL)
		fail_msg("cache_open: %s", cause);
	if (notice != NULL)
		fail_msg("unexpected notice: %s", notice);
	return c;
}

/* A cache as a finished first sync leaves it: indexes and triggers built. */
static struct cache *
open_synced(struct fx *fx)
{
	char *cause = NULL;
	struct cache *c = open_cache(fx);

	if (cache_initial_begin(c, &cause) != 0 ||
	    cache_initial_end(c, &cause) != 0)
		fail_msg("%s", cause);
	assert_false(cache_initial(c));
	return c;
}

static char *
work_path(struct cache *c)
{
	const char *p = cache_path(c);
	size_t n = strlen(p);

	assert_true(n > 3 && strcmp(p + n - 3, ".db") == 0);
	return xasprintf("%.*s.work.db", (int)(n - 3), p);
}

/* One change event. data is JSON text, or NULL for a tombstone. */
static char *
ev(const char *kind, int64_t id, int64_t seq, const char *data)
{
	if (data == NULL)
		return xasprintf("{\"kind\":\"%s\",\"id\":%lld,\"seq\":%lld,"
		    "\"deleted\":true,\"data\":null}", kind, (long long)id,
		    (long long)seq);
	return xasprintf("{\"kind\":\"%s\",\"id\":%lld,\"seq\":%lld,"
	    "\"deleted\":false,\"data\":%s}", kind, (long long)id,
	    (long long)seq, data);
}

/* A sync page of the given events (each freed here), NULL-terminated. */
static char *
page_of(const char *cursor, char **events)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "{\"events\":[");
	for (size_t i = 0; events[i] != NULL; i++) {
		if (i > 0)
			buf_adds(&b, ",");
		buf_adds(&b, events[i]);
		free(events[i]);
	}
	buf_printf(&b, "],\"cursor\":\"%s\",\"more\":false,\"remaining\":0}",
	    cursor);
	return buf_steal(&b);
}

/* Reads a page's envelope and applies it, as the sync engine does. */
static struct cache_applied
apply_text(struct cache *c, const char *page)
{
	struct cache_applied a = { 0 };
	struct cache_page pg;
	char *cause = NULL;

	if (cache_page_envelope(c, page, strlen(page), &pg, &cause) != 0)
		fail_msg("envelope: %s", cause);
	if (cache_apply_page(c, &pg, &a, &cause) != 0)
		fail_msg("apply: %s", cause);
	cache_page_free(&pg);
	return a;
}

#define APPLY(c, cursor, ...)                                                 \
	apply_page(c, cursor, (char *[]){ __VA_ARGS__, NULL })

static struct cache_applied
apply_page(struct cache *c, const char *cursor, char **events)
{
	char *page = page_of(cursor, events);
	struct cache_applied a = apply_text(c, page);

	free(page);
	return a;
}

/* The entity's member as a string ("" when absent), for comparisons. */
static char *
member(struct cache *c, const char *kind, int64_t id, const char *key)
{
	cJSON *o = cache_entity(c, kind, id), *v;
	char *s;

	if (o == NULL)
		return xstrdup("(none)");
	v = cJSON_GetObjectItem(o, key);
	if (cJSON_IsString(v))
		s = xstrdup(v->valuestring);
	else if (cJSON_IsNumber(v))
		s = xasprintf("%lld", (long long)v->valuedouble);
	else
		s = xstrdup("");
	cJSON_Delete(o);
	return s;
}

static void
expect_member(struct cache *c, const char *kind, int64_t id, const char *key,
    const char *want)
{
	char *got = member(c, kind, id, key);

	assert_string_equal(got, want);
	free(got);
}

/* Search hits as "kind:id " in order. */
static void
add_hit(void *arg, const struct cache_hit *h)
{
	buf_printf(arg, "%s:%lld ", h->kind, (long long)h->id);
}

static char *
search(struct cache *c, const char *q, int limit)
{
	struct buf b;
	char *cause = NULL;
	int n;

	buf_init(&b);
	buf_adds(&b, "");
	n = cache_search(c, q, limit, add_hit, &b, &cause);
	if (n < 0)
		fail_msg("search '%s': %s", q, cause);
	return buf_steal(&b);
}

static void
expect_search(struct cache *c, const char *q, const char *want)
{
	char *got = search(c, q, 50);

	if (strcmp(got, want) != 0)
		fail_msg("search '%s': got '%s', wanted '%s'", q, got, want);
	free(got);
}

static int64_t
mode_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		fail_msg("stat %s failed", path);
	return st.st_mode & 07777;
}

static char *
read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char tmp[4096];
	size_t n;

	assert_non_null(f);
	buf_init(&b);
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_add(&b, tmp, n);
	fclose(f);
	*len = b.len;
	return buf_steal(&b);
}

static void
write_all(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Entities of every kind, as the relay sends them. */
#define CONV1 "{\"contact_id\":10,\"status\":\"open\",\"assignee_id\":null," \
	"\"last_activity_at\":1700000300,\"last_message_id\":102}"
#define CONTACT10 "{\"wa_id\":\"15551234567\",\"profile_name\":" \
	"\"J\\u00fcrgen M\\u00fcller\",\"updated_at\":1700000000}"
#define CONTACT11 "{\"wa_id\":\"4915112345678\",\"display_name\":" \
	"\"Ana Garc\\u00eda\",\"updated_at\":1700000100}"
#define MSG(conv, ts, text) "{\"conversation_id\":" #conv ",\"timestamp\":" \
	#ts ",\"direction\":\"in\",\"status\":\"received\",\"text\":\"" text \
	"\"}"

static void
load_every_kind(struct cache *c)
{
	struct cache_applied a = APPLY(c, "v1.e.7",
	    ev("contact", 10, 1, CONTACT10),
	    ev("conversation", 1, 2, CONV1),
	    ev("message", 100, 3, MSG(1, 1700000100, "Un caf\\u00e9, s'il vous pla\\u00eet")),
	    ev("order", 20, 4, "{\"contact_id\":10,\"conversation_id\":1}"),
	    ev("note", 30, 5, "{\"conversation_id\":1,\"text\":\"VIP\"}"),
	    ev("agent", 40, 6, "{\"name\":\"alice\"}"),
	    ev("template", 50, 7, "{\"name\":\"welcome\",\"language\":\"en\","
		"\"status\":\"APPROVED\"}"));

	assert_int_equal(a.events, 7);
	assert_int_equal(a.applied, 7);
	assert_int_equal(a.skipped, 0);
	assert_int_equal(a.messages, 1);
}

/* -- opening ----------------------------------------------------------- */

static void
cache_open__creates_a_private_dir_and_private_files(void **state)
{
	struct fx *fx = *state;
	mode_t old = umask(0); /* the cache must not rely on the caller's */
	char *work, *parent;

	fx->c = open_cache(fx);
	umask(old);
	work = work_path(fx->c);
	assert_int_equal(mode_of(fx->dir), 0700);
	parent = xasprintf("%s/data", fx->root);
	assert_int_equal(mode_of(parent), 0700);
	assert_int_equal(mode_of(cache_path(fx->c)), 0600);
	assert_int_equal(mode_of(work), 0600);
	/* The cache is named after the relay's host and port. */
	assert_non_null(strstr(cache_path(fx->c), "/relay.test_8443-"));
	free(work);
	free(parent);
}

static void
cache_open__gives_its_write_ahead_logs_the_files_mode(void **state)
{
	struct fx *fx = *state;
	mode_t old = umask(0);
	struct buf p;

	fx->c = open_synced(fx);
	load_every_kind(fx->c);
	umask(old);
	buf_init(&p);
	buf_printf(&p, "%s-wal", cache_path(fx->c));
	assert_int_equal(mode_of(p.data), 0600);
	buf_free(&p);
}

static void
cache_open__reopens_what_it_wrote(void **state)
{
	struct fx *fx = *state;
	struct cache_counts n;
	char *cur;

	fx->c = open_synced(fx);
	load_every_kind(fx->c);
	cache_close(fx->c);
	fx->c = open_cache(fx);
	assert_int_equal(cache_counts(fx->c, &n), 0);
	assert_int_equal(n.messages, 1);
	cur = cache_cursor(fx->c);
	assert_string_equal(cur, "v1.e.7");
	free(cur);
}

/* -- applying pages ----------------------------------------------------- */

static void
cache_apply__inserts_entities_of_every_kind(void **state)
{
	struct fx *fx = *state;
	struct cache_counts n;

	fx->c = open_synced(fx);
	load_every_kind(fx->c);
	assert_int_equal(cache_counts(fx->c, &n), 0);
	assert_int_equal(n.conversations, 1);
	assert_int_equal(n.messages, 1);
	assert_int_equal(n.contacts, 1);
	assert_int_equal(n.orders, 1);
	assert_int_equal(n.notes, 1);
	assert_int_equal(n.agents, 1);
	assert_int_equal(n.templates, 1);
	expect_member(fx->c, "conversation", 1, "status", "open");
	expect_member(fx->c, "message", 100, "text",
	    "Un caf\xc3\xa9, s'il vous pla\xc3\xaet");
	expect_member(fx->c, "contact", 10, "wa_id", "15551234567");
	expect_member(fx->c, "order", 20, "contact_id", "10");
	expect_member(fx->c, "note", 30, "text", "VIP");
	expect_member(fx->c, "agent", 40, "name", "alice");
	expect_member(fx->c, "template", 50, "language", "en");
}

static void
cache_apply__reads_an_event_whatever_the_order_of_its_members(void **state)
{
	struct fx *fx = *state;
	char *page;

	fx->c = open_synced(fx);
	/* data before kind; a kind given twice (the last one counts); an
	 * unknown member holding an object; a data object given twice. */
	page = xasprintf("{\"events\":["
	    "{\"data\":%s,\"seq\":2,\"id\":100,\"kind\":\"message\"},"
	    "{\"kind\":\"contact\",\"id\":101,\"kind\":\"message\","
	    "\"x\":{\"a\":[1,{\"b\":\"}\"}]},\"seq\":3,\"data\":%s},"
	    "{\"kind\":\"message\",\"id\":102,\"seq\":4,\"data\":%s,"
	    "\"data\":%s}],"
	    "\"cursor\":\"v1.o.4\",\"more\":false,\"remaining\":0}",
	    MSG(1, 1700000100, "erste Nachricht"),
	    MSG(1, 1700000200, "zweite Nachricht"),
	    MSG(1, 1700000300, "verworfen"),
	    MSG(1, 1700000400, "dritte Nachricht"));
	assert_int_equal(apply_text(fx->c, page).applied, 3);
	free(page);
	expect_member(fx->c, "message", 100, "text", "erste Nachricht");
	expect_member(fx->c, "message", 101, "text", "zweite Nachricht");
	expect_member(fx->c, "message", 102, "text", "dritte Nachricht");
	expect_search(fx->c, "nachricht", "message:102 message:101 "
	    "message:100 ");
	expect_search(fx->c, "verworfen", "");
}

static void
cache_apply__stores_the_cursor_with_the_page(void **state)
{
	struct fx *fx = *state;
	char *cur;

	fx->c = open_cache(fx);
	assert_null(cache_cursor(fx->c));
	assert_true(cache_initial(fx->c));
	APPLY(fx->c, "v1.e.1", ev("agent", 40, 1, "{\"name\":\"a\"}"));
	cur = cache_cursor(fx->c);
	assert_string_equal(cur, "v1.e.1");
	free(cur);
	APPLY(fx->c, "v1.e.2", ev("agent", 40, 2, "{\"name\":\"b\"}"));
	cur = cache_cursor(fx->c);
	assert_string_equal(cur, "v1.e.2");
	free(cur);
}

static void
cache_apply__leaves_the_cursor_alone_when_the_page_fails(void **state)
{
	struct fx *fx = *state;
	struct cache_applied a = { 0 };
	char *cause = NULL, *cur;
	static const char bad[] = "[{\"kind\":\"agent\",\"id\":1,\"seq\":1,";

	fx->c = open_cache(fx);
	APPLY(fx->c, "v1.e.1", ev("agent", 40, 1, "{\"name\":\"a\"}"));
	assert_int_equal(cache_apply(fx->c, bad, strlen(bad), "$", "v1.e.9",
	    &a, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cur = cache_cursor(fx->c);
	assert_string_equal(cur, "v1.e.1");
	free(cur);
	assert_false(cache_damaged(fx->c));
}

static void
cache_apply__never_overwrites_with_a_lower_or_equal_seq(void **state)
{
	struct fx *fx = *state;
	struct cache_applied a;

	fx->c = open_synced(fx);
	APPLY(fx->c, "c1", ev("message", 100, 10, MSG(1, 1, "ten")));
	/* Older and equal pages, as when a page arrives out of order. */
	a = APPLY(fx->c, "c2", ev("message", 100, 9, MSG(1, 1, "nine")),
	    ev("message", 100, 10, MSG(1, 1, "ten again")));
	assert_int_equal(a.applied, 0);
	assert_int_equal(a.skipped, 0);
	expect_member(fx->c, "message", 100, "text", "ten");
	expect_search(fx->c, "nine", "");
	expect_search(fx->c, "ten", "message:100 ");
	a = APPLY(fx->c, "c3", ev("message", 100, 11, MSG(1, 1, "eleven")));
	assert_int_equal(a.applied, 1);
	expect_member(fx->c, "message", 100, "text", "eleven");
	expect_search(fx->c, "ten", "");
	expect_search(fx->c, "eleven", "message:100 ");
}

static void
cache_apply__deletes_a_row_and_its_search_entry_on_a_tombstone(void **state)
{
	struct fx *fx = *state;
	struct cache_counts n;
	struct cache_applied a;
	cJSON *o;

	fx->c = open_synced(fx);
	load_every_kind(fx->c);
	expect_search(fx->c, "cafe", "message:100 ");
	expect_search(fx->c, "muller", "contact:10 ");
	a = APPLY(fx->c, "v1.e.9", ev("message", 100, 8, NULL),
	    ev("contact", 10, 9, NULL));
	assert_int_equal(a.applied, 2);
	assert_null(cache_entity(fx->c, "message", 100));
	assert_null(cache_entity(fx->c, "contact", 10));
	expect_search(fx->c, "cafe", "");
	expect_search(fx->c, "muller", "");
	assert_int_equal(cache_counts(fx->c, &n), 0);
	assert_int_equal(n.messages, 0);
	assert_int_equal(n.contacts, 0);
	/* The rest stays. */
	o = cache_entity(fx->c, "conversation", 1);
	assert_non_null(o);
	cJSON_Delete(o);
}

static void
cache_apply__takes_a_repeated_or_older_tombstone_calmly(void **state)
{
	struct fx *fx = *state;
	struct cache_applied a;

	fx->c = open_synced(fx);
	APPLY(fx->c, "c1", ev("note", 30, 5, "{\"conversation_id\":1}"),
	    ev("note", 31, 6, "{\"conversation_id\":1}"));
	a = APPLY(fx->c, "c2", ev("note", 30, 7, NULL), ev("note", 30, 7, NULL),
	    ev("note", 30, 8, NULL), ev("note", 99, 9, NULL));
	assert_int_equal(a.applied, 1);
	assert_int_equal(a.skipped, 0);
	/* A tombstone older than the row's state does not delete it. */
	a = APPLY(fx->c, "c3", ev("note", 31, 4, NULL));
	assert_int_equal(a.applied, 0);
	expect_member(fx->c, "note", 31, "conversation_id", "1");
}

static void
cache_apply__skips_and_counts_malformed_events_and_applies_the_rest(
    void **state)
{
	struct fx *fx = *state;
	struct cache_applied a;
	struct cache_counts n;
	static const char page[] = "{\"events\":["
	    "{\"kind\":\"conversation\",\"id\":1,\"seq\":1,\"data\":" CONV1 "},"
	    /* an id that is not an integer */
	    "{\"kind\":\"message\",\"id\":\"7\",\"seq\":2,\"data\":{\"conversation_id\":1}},"
	    "{\"kind\":\"message\",\"id\":7.5,\"seq\":3,\"data\":{\"conversation_id\":1}},"
	    "{\"kind\":\"message\",\"seq\":3,\"data\":{\"conversation_id\":1}},"
	    "{\"kind\":\"contact\",\"id\":0,\"seq\":3,\"data\":{}},"
	    "{\"kind\":\"contact\",\"id\":-4,\"seq\":3,\"data\":{}},"
	    /* no seq */
	    "{\"kind\":\"message\",\"id\":8,\"data\":{\"conversation_id\":1}},"
	    /* data missing, null, a string, an array */
	    "{\"kind\":\"message\",\"id\":9,\"seq\":4},"
	    "{\"kind\":\"message\",\"id\":9,\"seq\":4,\"deleted\":false,\"data\":null},"
	    "{\"kind\":\"message\",\"id\":9,\"seq\":4,\"data\":\"hello\"},"
	    "{\"kind\":\"message\",\"id\":9,\"seq\":4,\"data\":[1,2]},"
	    /* a message of no conversation */
	    "{\"kind\":\"message\",\"id\":10,\"seq\":5,\"data\":{\"text\":\"orphan\"}},"
	    /* a kind this client does not know: ignored, not malformed */
	    "{\"kind\":\"widget\",\"id\":1,\"seq\":6,\"data\":{}},"
	    "{\"kind\":\"message\",\"id\":11,\"seq\":7,\"data\":" MSG(1, 5, "kept") "}"
	    "],\"cursor\":\"v1.x.7\",\"more\":false}";

	fx->c = open_synced(fx);
	a = apply_text(fx->c, page);
	assert_int_equal(a.events, 14);
	assert_int_equal(a.applied, 2);
	assert_int_equal(a.skipped, 11);
	assert_int_equal(cache_counts(fx->c, &n), 0);
	assert_int_equal(n.conversations, 1);
	assert_int_equal(n.messages, 1);
	assert_int_equal(n.contacts, 0);
	expect_member(fx->c, "message", 11, "text", "kept");
	expect_search(fx->c, "orphan", "");
	expect_search(fx->c, "kept", "message:11 ");
}

static void
cache_apply__skips_events_that_are_not_objects(void **state)
{
	/*
	 * A string, a number or null in the events array is a malformed
	 * event like any other: left out and counted, and the page still
	 * applies. A string holding JSON text is not an event either.
	 */
	struct fx *fx = *state;
	struct cache_applied a;
	struct cache_counts n;
	static const char page[] = "{\"events\":["
	    "{\"kind\":\"agent\",\"id\":1,\"seq\":1,\"data\":{\"name\":\"a\"}},"
	    "\"oops\", 42, null, true, [1],"
	    "\"{\\\"kind\\\":\\\"agent\\\",\\\"id\\\":2,\\\"seq\\\":2,"
	    "\\\"data\\\":{}}\","
	    "{\"kind\":\"agent\",\"id\":3,\"seq\":3,\"data\":{\"name\":\"c\"}}"
	    "],\"cursor\":\"v1.x.3\",\"more\":false}";

	fx->c = open_synced(fx);
	a = apply_text(fx->c, page);
	assert_int_equal(a.events, 8);
	assert_int_equal(a.applied, 2);
	assert_int_equal(a.skipped, 6);
	assert_int_equal(cache_counts(fx->c, &n), 0);
	assert_int_equal(n.agents, 2);
	expect_member(fx->c, "agent", 2, "name", "(none)");
}

static void
cache_apply__ignores_an_unknown_kind(void **state)
{
	struct fx *fx = *state;
	struct cache_applied a;
	char *cur;

	fx->c = open_synced(fx);
	a = APPLY(fx->c, "v1.u.2", ev("hologram", 1, 1, "{}"),
	    ev("agent", 40, 2, "{\"name\":\"alice\"}"));
	assert_int_equal(a.events, 2);
	assert_int_equal(a.applied, 1);
	assert_int_equal(a.skipped, 0);
	assert_null(cache_entity(fx->c, "hologram", 1));
	cur = cache_cursor(fx->c);
	assert_string_equal(cur, "v1.u.2"); /* the page still counts */
	free(cur);
}

static void
cache_apply__reads_a_batch_of_stream_events_at_the_root(void **state)
{
	struct fx *fx = *state;
	struct cache_applied a = { 0 };
	char *cause = NULL, *cur;
	char *e1 = ev("agent", 40, 1, "{\"name\":\"a\"}");
	char *e2 = ev("agent", 41, 2, "{\"name\":\"b\"}");
	char *batch = xasprintf("[%s,%s]", e1, e2);

	fx->c = open_synced(fx);
	assert_int_equal(cache_apply(fx->c, batch, strlen(batch), "$",
	    "v1.s.2", &a, &cause), 0);
	assert_int_equal(a.applied, 2);
	cur = cache_cursor(fx->c);
	assert_string_equal(cur, "v1.s.2");
	free(cur);
	free(batch);
	free(e1);
	free(e2);
}

/* -- page envelopes ----------------------------------------------------- */

static char *
envelope_error(struct cache *c, const char *page)
{
	struct cache_page pg;
	char *cause = NULL;

	pg.cursor = (char *)"unset";
	assert_int_equal(cache_page_envelope(c, page, strlen(page), &pg,
	    &cause), -1);
	assert_null(pg.cursor);
	assert_non_null(cause);
	return cause;
}

static void
expect_envelope_error(struct cache *c, const char *page, const char *want)
{
	char *cause = envelope_error(c, page);

	if (strstr(cause, want) == NULL)
		fail_msg("'%s' for '%s': wanted '%s'", cause, page, want);
	free(cause);
}

static void
cache_page_envelope__reads_cursor_more_and_remaining(void **state)
{
	struct fx *fx = *state;
	static const char p1[] = "{\"events\":[],\"cursor\":\"v1.a.5\","
	    "\"more\":true,\"remaining\":1234}";
	static const char p2[] = "{\"events\":[],\"cursor\":\"v1.a.6\","
	    "\"more\":false}";
	struct cache_page pg;
	char *cause = NULL;

	fx->c = open_cache(fx);
	assert_int_equal(cache_page_envelope(fx->c, p1, strlen(p1), &pg,
	    &cause), 0);
	assert_string_equal(pg.cursor, "v1.a.5");
	assert_int_equal(pg.more, 1);
	assert_int_equal(pg.remaining, 1234);
	assert_int_equal(pg.events_len, 2); /* "[]" inside the page */
	assert_memory_equal(pg.events, "[]", 2);
	cache_page_free(&pg);
	assert_int_equal(cache_page_envelope(fx->c, p2, strlen(p2), &pg,
	    &cause), 0);
	assert_string_equal(pg.cursor, "v1.a.6");
	assert_int_equal(pg.more, 0);
	assert_int_equal(pg.remaining, -1); /* not said */
	cache_page_free(&pg);
	assert_null(cause);
}

static void
cache_page_envelope__refuses_a_page_that_is_not_a_sync_page(void **state)
{
	struct fx *fx = *state;
	char cursor[300];

	fx->c = open_cache(fx);
	expect_envelope_error(fx->c, "", "not valid JSON");
	expect_envelope_error(fx->c, "<html>502</html>", "not valid JSON");
	expect_envelope_error(fx->c, "{\"events\":[],\"cursor\":\"a\"",
	    "not valid JSON");
	/* Broken after the events, which are read in the same pass. */
	expect_envelope_error(fx->c, "{\"events\":[{\"kind\":\"note\"}],"
	    "\"cursor\":\"a\",\"more\":fals}", "not valid JSON");
	expect_envelope_error(fx->c, "{\"events\":[],\"cursor\":\"a\","
	    "\"more\":false} {}", "not valid JSON");
	expect_envelope_error(fx->c, "{\"events\":[],\"cursor\":\"a\","
	    "\"more\":false,}", "not valid JSON");
	expect_envelope_error(fx->c, "{\"events\":[]\"cursor\":\"a\"}",
	    "not valid JSON");
	expect_envelope_error(fx->c, "{\"events\":[\"\x1f\"],"
	    "\"cursor\":\"a\",\"more\":false}", "not valid JSON");
	expect_envelope_error(fx->c, "[]", "no cursor");
	expect_envelope_error(fx->c, "{}", "no cursor");
	expect_envelope_error(fx->c, "{\"events\":[],\"more\":false}",
	    "no cursor");
	expect_envelope_error(fx->c,
	    "{\"events\":[],\"cursor\":5,\"more\":false}", "no cursor");
	expect_envelope_error(fx->c,
	    "{\"events\":[],\"cursor\":null,\"more\":false}", "no cursor");
	expect_envelope_error(fx->c, "{\"cursor\":\"a\",\"more\":false}",
	    "no events");
	expect_envelope_error(fx->c,
	    "{\"events\":{},\"cursor\":\"a\",\"more\":false}", "no events");
	expect_envelope_error(fx->c, "{\"events\":[],\"cursor\":\"a\"}",
	    "no 'more'");
	expect_envelope_error(fx->c,
	    "{\"events\":[],\"cursor\":\"a\",\"more\":1}", "no 'more'");
	expect_envelope_error(fx->c,
	    "{\"events\":[],\"cursor\":\"\",\"more\":false}", "empty or too long");
	memset(cursor, 'c', 256);
	cursor[256] = '\0';
	{
		char *p = xasprintf("{\"events\":[],\"cursor\":\"%s\","
		    "\"more\":false}", cursor);

		expect_envelope_error(fx->c, p, "empty or too long");
		free(p);
	}
}

/* -- first sync and search ---------------------------------------------- */

static void
cache_initial_end__builds_the_index_of_bulk_loaded_rows(void **state)
{
	struct fx *fx = *state;
	char *cause = NULL;
	char *cur;

	fx->c = open_cache(fx);
	assert_true(cache_initial(fx->c));
	assert_int_equal(cache_initial_begin(fx->c, &cause), 0);
	assert_true(cache_initial(fx->c));
	/* A first sync writes many pages in one transaction. */
	assert_int_equal(cache_begin(fx->c, &cause), 0);
	load_every_kind(fx->c);
	APPLY(fx->c, "v1.e.9", ev("contact", 11, 8, CONTACT11),
	    ev("message", 101, 9, MSG(1, 1700000200, "Zweiter Kaffee")));
	assert_int_equal(cache_commit(fx->c, &cause), 0);
	assert_true(cache_initial(fx->c));
	assert_int_equal(cache_initial_end(fx->c, &cause), 0);
	assert_false(cache_initial(fx->c));
	expect_search(fx->c, "cafe", "message:100 ");
	expect_search(fx->c, "kaffee", "message:101 ");
	expect_search(fx->c, "garcia", "contact:11 ");
	expect_search(fx->c, "muller", "contact:10 ");
	/* After the first sync, new rows are indexed as they come. */
	APPLY(fx->c, "v1.e.10", ev("message", 102, 10,
	    MSG(1, 1700000300, "Dritter Kaffee")));
	expect_search(fx->c, "kaffee", "message:102 message:101 ");
	cur = cache_cursor(fx->c);
	assert_string_equal(cur, "v1.e.10");
	free(cur);
	assert_null(cause);
}

static void
cache_initial__survives_a_restart_in_the_middle(void **state)
{
	struct fx *fx = *state;
	char *cause = NULL;

	fx->c = open_cache(fx);
	assert_int_equal(cache_initial_begin(fx->c, &cause), 0);
	load_every_kind(fx->c);
	cache_close(fx->c);
	/* A cursor is stored, yet the first sync did not finish. */
	fx->c = open_cache(fx);
	assert_true(cache_initial(fx->c));
	assert_int_equal(cache_initial_begin(fx->c, &cause), 0);
	assert_int_equal(cache_initial_end(fx->c, &cause), 0);
	expect_search(fx->c, "cafe", "message:100 ");
}

/* FTS5's own check that its index matches the rows it was built from. */
static void
assert_fts_true(struct cache *c)
{
	sqlite3 *db;
	char *err = NULL;

	assert_int_equal(sqlite3_open(cache_path(c), &db), SQLITE_OK);
	if (sqlite3_exec(db, "INSERT INTO message_fts(message_fts) VALUES"
	    "('integrity-check'); INSERT INTO contact_fts(contact_fts) VALUES"
	    "('integrity-check')", NULL, NULL, &err) != SQLITE_OK)
		fail_msg("full-text index: %s", err);
	sqlite3_close(db);
}

static void
cache_initial__indexes_messages_as_written_through_updates_and_deletes(
    void **state)
{
	struct fx *fx = *state;
	char *cause = NULL;

	fx->c = open_cache(fx);
	assert_int_equal(cache_initial_begin(fx->c, &cause), 0);
	APPLY(fx->c, "v1.f.3", ev("conversation", 1, 1, CONV1),
	    ev("message", 100, 2, MSG(1, 1700000100, "alpha eins")),
	    ev("message", 101, 3, MSG(1, 1700000200, "gamma zwei")));
	/* Searchable before the first sync ends. */
	expect_search(fx->c, "alpha", "message:100 ");
	/* Changed while the first sync ran: the entity comes again, later;
	 * and one is erased. */
	APPLY(fx->c, "v1.f.6", ev("message", 100, 5,
	    MSG(1, 1700000100, "beta eins")), ev("message", 101, 6, NULL),
	    ev("message", 102, 4, MSG(1, 1700000300, "delta drei")));
	/* The same page twice: nothing indexed twice. */
	APPLY(fx->c, "v1.f.6", ev("message", 102, 4,
	    MSG(1, 1700000300, "delta drei")));
	assert_int_equal(cache_initial_end(fx->c, &cause), 0);
	expect_search(fx->c, "alpha", "");
	expect_search(fx->c, "gamma", "");
	expect_search(fx->c, "beta", "message:100 ");
	expect_search(fx->c, "eins", "message:100 ");
	expect_search(fx->c, "delta", "message:102 ");
	assert_fts_true(fx->c);
	assert_null(cause);
}

static void
cache_initial__finishes_a_first_sync_an_older_version_began(void **state)
{
	struct fx *fx = *state;
	char *cause = NULL;

	/* initial = 1: the messages were written with no index at all. */
	fx->c = open_cache(fx);
	assert_int_equal(cache_meta_set_int(fx->c, "initial", 1), 0);
	assert_int_equal(cache_initial_begin(fx->c, &cause), 0);
	APPLY(fx->c, "v1.g.2", ev("conversation", 1, 1, CONV1),
	    ev("message", 100, 2, MSG(1, 1700000100, "alpha eins")));
	expect_search(fx->c, "alpha", "");
	APPLY(fx->c, "v1.g.3", ev("message", 100, 3,
	    MSG(1, 1700000100, "beta eins")));
	assert_int_equal(cache_initial_end(fx->c, &cause), 0);
	expect_search(fx->c, "alpha", "");
	expect_search(fx->c, "beta", "message:100 ");
	assert_fts_true(fx->c);
	assert_null(cause);
}

static struct cache *
open_searchable(struct fx *fx)
{
	struct cache *c = open_synced(fx);

	APPLY(c, "v1.s.9", ev("contact", 10, 1, CONTACT10),
	    ev("contact", 11, 2, CONTACT11),
	    ev("conversation", 1, 3, CONV1),
	    ev("message", 100, 4, MSG(1, 1700000100, "Un caf\\u00e9 noir")),
	    ev("message", 101, 5, MSG(1, 1700000200, "CAF\\u00c9 au lait")),
	    ev("message", 102, 6, MSG(1, 1700000300, "Herr M\\u00fcller "
		"will the order shipped")),
	    ev("message", 103, 7, MSG(1, 1700000400, "\\\"quoted\\\" AND "
		"NEAR(x) - minus")));
	return c;
}

static void
cache_search__ignores_case_and_accents(void **state)
{
	struct fx *fx = *state;

	fx->c = open_searchable(fx);
	expect_search(fx->c, "CAFE", "message:101 message:100 ");
	expect_search(fx->c, "caf\xc3\xa9", "message:101 message:100 ");
	expect_search(fx->c, "Caf\xc3\x89", "message:101 message:100 ");
	expect_search(fx->c, "muller", "contact:10 message:102 ");
	expect_search(fx->c, "M\xc3\x9cLLER", "contact:10 message:102 ");
	expect_search(fx->c, "garcia", "contact:11 ");
}

static void
cache_search__ands_words_and_takes_a_trailing_star_as_prefix(void **state)
{
	struct fx *fx = *state;

	fx->c = open_searchable(fx);
	expect_search(fx->c, "cafe noir", "message:100 ");
	expect_search(fx->c, "noir  lait", "");
	expect_search(fx->c, "caf", "");
	expect_search(fx->c, "caf*", "message:101 message:100 ");
	expect_search(fx->c, "caf* lait", "message:101 ");
	expect_search(fx->c, "mull*", "contact:10 message:102 ");
}

static void
cache_search__finds_contacts_by_name_and_by_number(void **state)
{
	struct fx *fx = *state;

	fx->c = open_searchable(fx);
	expect_search(fx->c, "jurgen", "contact:10 ");
	expect_search(fx->c, "15551234567", "contact:10 ");
	expect_search(fx->c, "+15551234567", "contact:10 ");
	expect_search(fx->c, "4915112345678", "contact:11 ");
	expect_search(fx->c, "49151*", "contact:11 ");
	expect_search(fx->c, "ana", "contact:11 ");
}

static void
cache_search__lists_the_newest_first(void **state)
{
	struct fx *fx = *state;

	fx->c = open_searchable(fx);
	APPLY(fx->c, "v1.s.12", ev("message", 104, 12, MSG(1, 1700000500,
	    "cafe again")), ev("contact", 12, 13,
	    "{\"wa_id\":\"1\",\"profile_name\":\"Cafe Owner\"}"));
	expect_search(fx->c, "cafe",
	    "contact:12 message:104 message:101 message:100 ");
}

static void
cache_search__returns_at_most_limit_hits(void **state)
{
	struct fx *fx = *state;
	char *got;

	fx->c = open_searchable(fx);
	got = search(fx->c, "cafe", 1);
	assert_string_equal(got, "message:101 ");
	free(got);
	/* A contact and a message match: still only limit hits in all. */
	got = search(fx->c, "muller", 1);
	assert_string_equal(got, "contact:10 ");
	free(got);
	got = search(fx->c, "muller", 2);
	assert_string_equal(got, "contact:10 message:102 ");
	free(got);
}

static void
cache_search__takes_query_syntax_as_plain_text(void **state)
{
	static const char *queries[] = { "\"", "\"\"", "AND", "OR", "NOT",
		"NEAR(", "NEAR(x)", "*", "**", "-", "-minus", "(", ")", ":",
		"body:x", "^", "a\"b", "\"quoted", "quoted\"", "+", "{body}",
		"x AND", "AND x", "*cafe", "caf**", "'", "\\", NULL };
	struct fx *fx = *state;

	fx->c = open_searchable(fx);
	for (size_t i = 0; queries[i] != NULL; i++) {
		char *q = xasprintf("cafe %s", queries[i]);

		free(search(fx->c, queries[i], 50));
		free(search(fx->c, q, 50));
		free(q);
	}
	/* The words are words: AND is searched for, not an operator. */
	expect_search(fx->c, "AND", "message:103 ");
	expect_search(fx->c, "near", "message:103 ");
	expect_search(fx->c, "\"quoted\"", "message:103 ");
	expect_search(fx->c, "cafe OR noir", "");
	expect_search(fx->c, "minus -", "message:103 ");
}

static void
cache_search__refuses_an_empty_query(void **state)
{
	static const char *empty[] = { "", " ", "\t\n ", NULL };
	struct fx *fx = *state;

	fx->c = open_searchable(fx);
	for (size_t i = 0; empty[i] != NULL; i++) {
		char *cause = NULL;
		struct buf b;

		buf_init(&b);
		assert_int_equal(cache_search(fx->c, empty[i], 10, add_hit, &b,
		    &cause), -1);
		assert_non_null(cause);
		assert_string_equal(cause, "search needs at least one word");
		free(cause);
		buf_free(&b);
	}
}

/* -- reset and damage ---------------------------------------------------- */

static int64_t
queue_one(struct cache *c, int64_t conv, const char *body)
{
	char *cause = NULL;
	int64_t id = -1;

	if (cache_outbox_add(c, conv, "message", "POST",
	    "/api/v1/conversations/1/messages", body, &id, &cause) != 0)
		fail_msg("%s", cause);
	assert_true(id > 0);
	return id;
}

static void
expect_outbox(struct cache *c, int64_t queued, int64_t accepted,
    int64_t failed)
{
	struct outbox_counts n;

	assert_int_equal(cache_outbox_counts(c, &n), 0);
	assert_int_equal(n.queued, queued);
	assert_int_equal(n.accepted, accepted);
	assert_int_equal(n.failed, failed);
}

static void
expect_empty_cache(struct cache *c)
{
	struct cache_counts n;

	assert_int_equal(cache_counts(c, &n), 0);
	assert_int_equal(n.conversations + n.messages + n.contacts + n.orders +
	    n.notes + n.agents + n.templates, 0);
	assert_null(cache_cursor(c));
	assert_true(cache_initial(c));
}

static void
expect_draft(struct cache *c, int64_t conv, const char *want)
{
	char *d = cache_draft_get(c, conv);

	if (want == NULL) {
		assert_null(d);
		return;
	}
	assert_non_null(d);
	assert_string_equal(d, want);
	free(d);
}

static void
cache_reset__drops_the_relays_data_and_keeps_outbox_and_drafts(void **state)
{
	struct fx *fx = *state;
	char *cause = NULL;

	fx->c = open_synced(fx);
	load_every_kind(fx->c);
	queue_one(fx->c, 1, "{\"text\":\"hi\"}");
	assert_int_equal(cache_draft_set(fx->c, 1, "half a reply"), 0);
	assert_int_equal(cache_reset(fx->c, &cause), 0);
	expect_empty_cache(fx->c);
	expect_outbox(fx->c, 1, 0, 0);
	expect_draft(fx->c, 1, "half a reply");
	expect_search(fx->c, "cafe", "");
	/* And the fresh cache works. */
	APPLY(fx->c, "v2.e.1", ev("agent", 40, 1, "{\"name\":\"a\"}"));
	expect_member(fx->c, "agent", 40, "name", "a");
}

/* Fills a cache and the outbox, closes it; returns the cache's path. */
static char *
prepare_files(struct fx *fx)
{
	char *path;

	fx->c = open_synced(fx);
	load_every_kind(fx->c);
	for (int i = 0; i < 200; i++) {
		char *e = ev("message", 1000 + i, 100 + i,
		    MSG(1, 1700000000, "padding padding padding padding "
		    "padding padding padding padding padding padding"));

		APPLY(fx->c, "v1.e.300", e);
	}
	queue_one(fx->c, 1, "{\"text\":\"one\"}");
	queue_one(fx->c, 2, "{\"text\":\"two\"}");
	assert_int_equal(cache_draft_set(fx->c, 1, "draft"), 0);
	path = xstrdup(cache_path(fx->c));
	cache_close(fx->c);
	fx->c = NULL;
	return path;
}

static void
expect_rebuilt_after_damage(struct fx *fx, const char *path)
{
	char *notice = NULL, *cause = NULL, *aside;
	struct stat st;

	fx->c = cache_open(fx->dir, URL, &notice, &cause);
	if (fx->c == NULL)
		fail_msg("cache_open: %s", cause);
	assert_non_null(notice);
	assert_non_null(strstr(notice, "will be rebuilt"));
	expect_empty_cache(fx->c);
	expect_outbox(fx->c, 2, 0, 0);
	expect_draft(fx->c, 1, "draft");
	aside = xasprintf("%s.damaged", path);
	assert_non_null(strstr(notice, aside));
	assert_int_equal(stat(aside, &st), 0);
	free(aside);
	free(notice);
	/* The new cache takes pages and finds them. */
	assert_int_equal(cache_initial_begin(fx->c, &cause), 0);
	APPLY(fx->c, "v1.e.1", ev("message", 5, 1, MSG(1, 1, "rebuilt")));
	assert_int_equal(cache_initial_end(fx->c, &cause), 0);
	expect_search(fx->c, "rebuilt", "message:5 ");
}

static void
cache_open__rebuilds_a_cache_file_full_of_garbage(void **state)
{
	struct fx *fx = *state;
	char *path = prepare_files(fx), *junk;
	size_t n = 64 * 1024;

	junk = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		junk[i] = (char)(i * 7 + 3);
	write_all(path, junk, n);
	expect_rebuilt_after_damage(fx, path);
	free(junk);
	free(path);
}

static void
cache_open__rebuilds_a_cache_file_damaged_after_its_header(void **state)
{
	struct fx *fx = *state;
	char *path = prepare_files(fx), *data;
	size_t n;

	/* The header intact, every page after the first overwritten. */
	data = read_all(path, &n);
	assert_true(n > 8192);
	memset(data + 4096, 0x5a, n - 4096);
	write_all(path, data, n);
	expect_rebuilt_after_damage(fx, path);
	free(data);
	free(path);
}

static void
cache_open__rebuilds_a_truncated_cache_file(void **state)
{
	struct fx *fx = *state;
	char *path = prepare_files(fx);

	assert_int_equal(truncate(path, 4096 + 100), 0);
	expect_rebuilt_after_damage(fx, path);
	free(path);
}

static void
cache_open__rebuilds_a_cache_file_cut_to_a_few_bytes(void **state)
{
	struct fx *fx = *state;
	char *path = prepare_files(fx);

	assert_int_equal(truncate(path, 50), 0);
	expect_rebuilt_after_damage(fx, path);
	free(path);
}

static void
expect_work_file_refused(struct fx *fx, const char *work)
{
	char *notice = NULL, *cause = NULL, *before, *after, *aside;
	size_t nb, na;
	struct stat st;

	before = read_all(work, &nb);
	fx->c = cache_open(fx->dir, URL, &notice, &cause);
	assert_null(fx->c);
	assert_non_null(cause);
	/* The cause names the work file and what it holds. */
	if (strstr(cause, work) == NULL || strstr(cause, "outbox") == NULL)
		fail_msg("unclear cause: %s", cause);
	free(cause);
	assert_null(notice);
	after = read_all(work, &na);
	assert_int_equal(na, nb);
	assert_memory_equal(after, before, nb);
	/* Nothing was set aside: the cache file was not at fault. */
	aside = xasprintf("%s.damaged", work);
	assert_int_not_equal(stat(aside, &st), 0);
	free(aside);
	free(before);
	free(after);
}

static void
cache_open__refuses_a_damaged_work_file_and_leaves_it_as_it_is(void **state)
{
	struct fx *fx = *state;
	char *path = prepare_files(fx), *work, *junk, *aside;
	size_t n = 16 * 1024;
	struct stat st;

	work = xasprintf("%.*s.work.db", (int)(strlen(path) - 3), path);
	junk = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		junk[i] = (char)(i * 13 + 1);
	write_all(work, junk, n);
	expect_work_file_refused(fx, work);
	/* The cache file is not thrown away for the work file's sake. */
	aside = xasprintf("%s.damaged", path);
	assert_int_not_equal(stat(aside, &st), 0);
	assert_int_equal(stat(path, &st), 0);
	free(aside);
	free(junk);
	free(work);
	free(path);
}

static void
cache_open__refuses_a_work_file_damaged_after_its_header(void **state)
{
	struct fx *fx = *state;
	char *path = prepare_files(fx), *work, *data;
	size_t n;

	work = xasprintf("%.*s.work.db", (int)(strlen(path) - 3), path);
	data = read_all(work, &n);
	assert_true(n > 4096);
	memset(data + 4096, 0xa5, n - 4096);
	write_all(work, data, n);
	expect_work_file_refused(fx, work);
	free(data);
	free(work);
	free(path);
}

/* -- outbox ------------------------------------------------------------- */

static void
cache_outbox_add__gives_each_entry_a_fresh_key(void **state)
{
	struct fx *fx = *state;
	struct outbox_entry e1, e2;
	int64_t a, b;

	fx->c = open_cache(fx);
	a = queue_one(fx->c, 1, "{\"text\":\"x\"}");
	b = queue_one(fx->c, 1, "{\"text\":\"x\"}");
	assert_true(a != b);
	assert_int_equal(cache_outbox_get(fx->c, a, &e1), 0);
	assert_int_equal(cache_outbox_get(fx->c, b, &e2), 0);
	assert_int_equal(strlen(e1.key), 32);
	assert_int_equal(strspn(e1.key, "0123456789abcdef"), 32);
	assert_string_not_equal(e1.key, e2.key);
	assert_int_equal(e1.state, OUTBOX_QUEUED);
	assert_int_equal(e1.conversation_id, 1);
	assert_string_equal(e1.kind, "message");
	assert_string_equal(e1.method, "POST");
	assert_string_equal(e1.body, "{\"text\":\"x\"}");
	assert_int_equal(e1.attempts, 0);
	assert_int_equal(e1.next_at, 0);
	assert_true(e1.created_at > 0);
	outbox_entry_free(&e1);
	outbox_entry_free(&e2);
	assert_int_equal(cache_outbox_get(fx->c, 999, &e1), -1);
}

/* The ids cache_outbox_due returns, as text. */
static char *
due(struct cache *c, int64_t now, int max)
{
	struct outbox_entry e[16];
	struct buf b;
	int n = cache_outbox_due(c, now, e, max);

	assert_true(n >= 0 && n <= max);
	buf_init(&b);
	buf_adds(&b, "");
	for (int i = 0; i < n; i++) {
		buf_printf(&b, "%lld ", (long long)e[i].id);
		outbox_entry_free(&e[i]);
	}
	return buf_steal(&b);
}

static void
expect_due(struct cache *c, int64_t now, const char *want)
{
	char *got = due(c, now, 16);

	assert_string_equal(got, want);
	free(got);
}

static void
cache_outbox_due__gives_the_oldest_queued_entry_of_each_conversation(
    void **state)
{
	struct fx *fx = *state;
	int64_t now = time(NULL);
	char *got;

	fx->c = open_cache(fx);
	/* 1: conv 7, 2: conv 8, 3: conv 7, 4: none, 5: conv 8, 6: none */
	queue_one(fx->c, 7, "a1");
	queue_one(fx->c, 8, "b1");
	queue_one(fx->c, 7, "a2");
	queue_one(fx->c, 0, "n1");
	queue_one(fx->c, 8, "b2");
	queue_one(fx->c, 0, "n2");
	expect_due(fx->c, now, "1 2 4 6 ");
	got = due(fx->c, now, 2);
	assert_string_equal(got, "1 2 ");
	free(got);
	/* Once the first of a conversation is done, the next is due. */
	assert_int_equal(cache_outbox_accepted(fx->c, 1, 500), 0);
	expect_due(fx->c, now, "2 3 4 6 ");
	assert_int_equal(cache_outbox_failed(fx->c, 2, "refused"), 0);
	expect_due(fx->c, now, "3 4 5 6 ");
}

static void
cache_outbox_retry_later__hides_an_entry_until_next_at(void **state)
{
	struct fx *fx = *state;
	int64_t now = time(NULL);
	struct outbox_entry e;

	fx->c = open_cache(fx);
	queue_one(fx->c, 7, "a1");
	queue_one(fx->c, 7, "a2");
	queue_one(fx->c, 8, "b1");
	assert_int_equal(cache_outbox_next_at(fx->c), 0);
	assert_int_equal(cache_outbox_retry_later(fx->c, 1, now + 60,
	    "relay unreachable"), 0);
	/* Its conversation waits with it: a2 must not overtake a1. */
	expect_due(fx->c, now, "3 ");
	expect_due(fx->c, now + 59, "3 ");
	expect_due(fx->c, now + 60, "1 3 ");
	assert_int_equal(cache_outbox_get(fx->c, 1, &e), 0);
	assert_int_equal(e.attempts, 1);
	assert_int_equal(e.next_at, now + 60);
	assert_string_equal(e.error, "relay unreachable");
	assert_int_equal(e.state, OUTBOX_QUEUED);
	outbox_entry_free(&e);
	/* next_at is the soonest wait among queued entries. */
	assert_int_equal(cache_outbox_next_at(fx->c), 0);
	assert_int_equal(cache_outbox_retry_later(fx->c, 3, now + 30, "x"), 0);
	assert_int_equal(cache_outbox_retry_later(fx->c, 2, now + 90, "x"), 0);
	assert_int_equal(cache_outbox_next_at(fx->c), now + 30);
}

static void
cache_outbox_wake__ends_every_wait(void **state)
{
	struct fx *fx = *state;
	int64_t now = time(NULL);
	struct outbox_entry e;

	fx->c = open_cache(fx);
	queue_one(fx->c, 7, "a1");
	queue_one(fx->c, 8, "b1");
	assert_int_equal(cache_outbox_retry_later(fx->c, 1, now + 600, "x"),
	    0);
	assert_int_equal(cache_outbox_retry_later(fx->c, 2, now + 300, "x"),
	    0);
	expect_due(fx->c, now, "");
	assert_int_equal(cache_outbox_wake(fx->c), 0);
	expect_due(fx->c, now, "1 2 ");
	assert_int_equal(cache_outbox_get(fx->c, 1, &e), 0);
	assert_int_equal(e.next_at, 0);
	assert_int_equal(e.attempts, 1); /* the count of tries stays */
	outbox_entry_free(&e);
	/* No queued entry: nothing to wait for. */
	assert_int_equal(cache_outbox_accepted(fx->c, 1, 0), 0);
	assert_int_equal(cache_outbox_accepted(fx->c, 2, 0), 0);
	assert_int_equal(cache_outbox_next_at(fx->c), -1);
}

static void
cache_outbox__moves_entries_from_queued_to_accepted_or_failed(void **state)
{
	struct fx *fx = *state;
	struct outbox_entry e;
	int64_t now = time(NULL);

	fx->c = open_synced(fx);
	queue_one(fx->c, 1, "a");
	queue_one(fx->c, 2, "b");
	expect_outbox(fx->c, 2, 0, 0);
	assert_int_equal(cache_outbox_accepted(fx->c, 1, 100), 0);
	assert_int_equal(cache_outbox_failed(fx->c, 2, "HTTP 422: too long"),
	    0);
	expect_outbox(fx->c, 0, 1, 1);
	assert_int_equal(cache_outbox_get(fx->c, 1, &e), 0);
	assert_int_equal(e.state, OUTBOX_ACCEPTED);
	assert_int_equal(e.result_id, 100);
	assert_int_equal(e.attempts, 1);
	assert_null(e.error);
	assert_null(e.delivery);
	assert_string_equal(outbox_state_name(e.state), "accepted");
	outbox_entry_free(&e);
	/* An accepted message shows its delivery state once it is synced. */
	APPLY(fx->c, "v1.e.1", ev("message", 100, 1,
	    "{\"conversation_id\":1,\"status\":\"delivered\"}"));
	assert_int_equal(cache_outbox_get(fx->c, 1, &e), 0);
	assert_string_equal(e.delivery, "delivered");
	outbox_entry_free(&e);
	assert_int_equal(cache_outbox_get(fx->c, 2, &e), 0);
	assert_int_equal(e.state, OUTBOX_FAILED);
	assert_string_equal(e.error, "HTTP 422: too long");
	assert_string_equal(outbox_state_name(e.state), "failed");
	outbox_entry_free(&e);
	/* Neither is due, nor can wait for a retry. */
	expect_due(fx->c, now, "");
	assert_int_equal(cache_outbox_retry_later(fx->c, 1, now, "x"), -1);
	assert_int_equal(cache_outbox_retry_later(fx->c, 2, now, "x"), -1);
	assert_int_equal(cache_outbox_accepted(fx->c, 99, 1), -1);
	assert_int_equal(cache_outbox_failed(fx->c, 99, "x"), -1);
}

static void
cache_outbox_requeue__queues_a_failed_entry_under_a_new_key(void **state)
{
	struct fx *fx = *state;
	struct outbox_entry before, after;
	char *cause = NULL;
	int64_t now = time(NULL);

	fx->c = open_cache(fx);
	queue_one(fx->c, 1, "a");
	queue_one(fx->c, 2, "b");
	queue_one(fx->c, 3, "c");
	assert_int_equal(cache_outbox_failed(fx->c, 1, "refused"), 0);
	assert_int_equal(cache_outbox_accepted(fx->c, 2, 0), 0);
	assert_int_equal(cache_outbox_get(fx->c, 1, &before), 0);
	assert_int_equal(cache_outbox_requeue(fx->c, 1, &cause), 0);
	assert_null(cause);
	assert_int_equal(cache_outbox_get(fx->c, 1, &after), 0);
	assert_int_equal(after.state, OUTBOX_QUEUED);
	assert_string_not_equal(after.key, before.key);
	assert_int_equal(strlen(after.key), 32);
	assert_int_equal(after.attempts, 0);
	assert_null(after.error);
	assert_string_equal(after.body, "a");
	outbox_entry_free(&before);
	outbox_entry_free(&after);
	expect_due(fx->c, now, "1 3 ");
	/* Only failed entries: not an accepted, nor a queued one. */
	assert_int_equal(cache_outbox_requeue(fx->c, 2, &cause), -1);
	assert_non_null(strstr(cause, "not a failed one"));
	free(cause);
	cause = NULL;
	assert_int_equal(cache_outbox_requeue(fx->c, 3, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(cache_outbox_requeue(fx->c, 42, &cause), -1);
	free(cause);
}

static void
cache_outbox_discard__drops_all_but_accepted_entries(void **state)
{
	struct fx *fx = *state;
	struct outbox_entry e;
	char *cause = NULL;

	fx->c = open_cache(fx);
	queue_one(fx->c, 1, "a");
	queue_one(fx->c, 2, "b");
	queue_one(fx->c, 3, "c");
	assert_int_equal(cache_outbox_accepted(fx->c, 1, 10), 0);
	assert_int_equal(cache_outbox_failed(fx->c, 2, "no"), 0);
	assert_int_equal(cache_outbox_discard(fx->c, 1, &cause), -1);
	assert_non_null(strstr(cause, "already accepted"));
	free(cause);
	cause = NULL;
	assert_int_equal(cache_outbox_get(fx->c, 1, &e), 0);
	outbox_entry_free(&e);
	assert_int_equal(cache_outbox_discard(fx->c, 2, &cause), 0);
	assert_int_equal(cache_outbox_discard(fx->c, 3, &cause), 0);
	assert_null(cause);
	assert_int_equal(cache_outbox_get(fx->c, 2, &e), -1);
	assert_int_equal(cache_outbox_get(fx->c, 3, &e), -1);
	assert_int_equal(cache_outbox_discard(fx->c, 3, &cause), -1);
	free(cause);
	expect_outbox(fx->c, 0, 1, 0);
}

static void
list_one(void *arg, const struct outbox_entry *e)
{
	buf_printf(arg, "%lld:%s ", (long long)e->id,
	    outbox_state_name(e->state));
}

static void
cache_outbox_list__lists_newest_first_and_can_leave_out_accepted(
    void **state)
{
	struct fx *fx = *state;
	struct buf b;

	fx->c = open_cache(fx);
	queue_one(fx->c, 1, "a");
	queue_one(fx->c, 2, "b");
	queue_one(fx->c, 3, "c");
	assert_int_equal(cache_outbox_accepted(fx->c, 1, 0), 0);
	assert_int_equal(cache_outbox_failed(fx->c, 2, "no"), 0);
	buf_init(&b);
	assert_int_equal(cache_outbox_list(fx->c, 0, list_one, &b), 3);
	assert_string_equal(b.data, "3:queued 2:failed 1:accepted ");
	buf_reset(&b);
	assert_int_equal(cache_outbox_list(fx->c, 1, list_one, &b), 2);
	assert_string_equal(b.data, "3:queued 2:failed ");
	buf_free(&b);
	expect_outbox(fx->c, 1, 1, 1);
}

static void
cache_outbox__survives_reopening(void **state)
{
	struct fx *fx = *state;
	int64_t now = time(NULL);

	fx->c = open_cache(fx);
	queue_one(fx->c, 1, "a");
	queue_one(fx->c, 1, "b");
	cache_close(fx->c);
	fx->c = open_cache(fx);
	expect_outbox(fx->c, 2, 0, 0);
	expect_due(fx->c, now, "1 ");
}

/* -- drafts and provisional entities ------------------------------------- */

static void
cache_draft__sets_gets_and_clears(void **state)
{
	struct fx *fx = *state;

	fx->c = open_cache(fx);
	expect_draft(fx->c, 1, NULL);
	assert_int_equal(cache_draft_set(fx->c, 1, "Hello"), 0);
	assert_int_equal(cache_draft_set(fx->c, 2, "Other"), 0);
	expect_draft(fx->c, 1, "Hello");
	assert_int_equal(cache_draft_set(fx->c, 1, "Hello, Ana"), 0);
	expect_draft(fx->c, 1, "Hello, Ana");
	assert_int_equal(cache_draft_set(fx->c, 1, ""), 0);
	expect_draft(fx->c, 1, NULL);
	assert_int_equal(cache_draft_set(fx->c, 2, NULL), 0);
	expect_draft(fx->c, 2, NULL);
	assert_int_equal(cache_draft_set(fx->c, 2, NULL), 0); /* again */
}

static int
put_provisional(struct cache *c, const char *json)
{
	cJSON *e = cJSON_Parse(json);
	int rc;

	assert_non_null(e);
	rc = cache_put_provisional(c, e);
	cJSON_Delete(e);
	return rc;
}

static void
cache_put_provisional__inserts_only_what_the_cache_lacks(void **state)
{
	struct fx *fx = *state;

	fx->c = open_synced(fx);
	APPLY(fx->c, "v1.e.5", ev("message", 100, 5, MSG(1, 1, "synced")));
	/* A synced row is not overwritten... */
	assert_int_equal(put_provisional(fx->c, "{\"kind\":\"message\","
	    "\"id\":100,\"conversation_id\":1,\"text\":\"provisional\"}"), 0);
	expect_member(fx->c, "message", 100, "text", "synced");
	/* ...a missing one is stored... */
	assert_int_equal(put_provisional(fx->c, "{\"kind\":\"message\","
	    "\"id\":101,\"conversation_id\":1,\"text\":\"just sent\"}"), 0);
	expect_member(fx->c, "message", 101, "text", "just sent");
	expect_search(fx->c, "sent", "message:101 ");
	/* ...and the first synced state replaces it. */
	APPLY(fx->c, "v1.e.6", ev("message", 101, 6, MSG(1, 1, "stamped")));
	expect_member(fx->c, "message", 101, "text", "stamped");
	assert_int_equal(put_provisional(fx->c, "{\"kind\":\"message\","
	    "\"id\":101,\"conversation_id\":1,\"text\":\"late\"}"), 0);
	expect_member(fx->c, "message", 101, "text", "stamped");
}

static void
cache_put_provisional__leaves_it_to_a_first_sync_in_progress(void **state)
{
	struct fx *fx = *state;
	char *cause = NULL;

	fx->c = open_cache(fx);
	assert_int_equal(cache_initial_begin(fx->c, &cause), 0);
	/* The first sync brings the entity; written now it would miss the
	 * full-text index the first sync builds as it writes. */
	assert_int_equal(put_provisional(fx->c, "{\"kind\":\"message\","
	    "\"id\":101,\"conversation_id\":1,\"text\":\"just sent\"}"), -1);
	APPLY(fx->c, "v1.e.6", ev("message", 101, 6, MSG(1, 1, "stamped")));
	assert_int_equal(cache_initial_end(fx->c, &cause), 0);
	expect_member(fx->c, "message", 101, "text", "stamped");
	expect_search(fx->c, "stamped", "message:101 ");
	assert_fts_true(fx->c);
}

static void
cache_put_provisional__refuses_what_is_not_an_entity(void **state)
{
	struct fx *fx = *state;
	struct cache_counts n;

	fx->c = open_synced(fx);
	assert_int_equal(put_provisional(fx->c, "{\"id\":5}"), -1);
	assert_int_equal(put_provisional(fx->c, "{\"kind\":\"message\"}"), -1);
	assert_int_equal(put_provisional(fx->c,
	    "{\"kind\":\"hologram\",\"id\":5}"), -1);
	assert_int_equal(put_provisional(fx->c,
	    "{\"kind\":\"agent\",\"id\":\"5\"}"), -1);
	assert_int_equal(put_provisional(fx->c,
	    "{\"kind\":\"agent\",\"id\":0}"), -1);
	assert_int_equal(put_provisional(fx->c,
	    "{\"kind\":\"agent\",\"id\":2.5}"), -1);
	/* Ids past what a double holds exactly, or any int64: no UB. */
	assert_int_equal(put_provisional(fx->c,
	    "{\"kind\":\"agent\",\"id\":1e300}"), -1);
	assert_int_equal(put_provisional(fx->c,
	    "{\"kind\":\"agent\",\"id\":9223372036854775808}"), -1);
	assert_int_equal(cache_counts(fx->c, &n), 0);
	assert_int_equal(n.agents, 0);
	/* A message with no conversation is refused by the table. */
	assert_int_equal(put_provisional(fx->c,
	    "{\"kind\":\"message\",\"id\":5}"), -1);
}

/* -- data protection ---------------------------------------------------- */

static void
cache_open__refuses_a_directory_others_can_read(void **state)
{
	struct fx *fx = *state;
	char *notice = NULL, *cause = NULL;

	fx->c = open_cache(fx);
	cache_close(fx->c);
	fx->c = NULL;
	assert_int_equal(chmod(fx->dir, 0750), 0);
	assert_null(cache_open(fx->dir, URL, &notice, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "chmod 700"));
	free(cause);
	assert_int_equal(chmod(fx->dir, 0700), 0);
	fx->c = open_cache(fx);
}

static void
cache_apply__a_conversation_tombstone_takes_its_draft_and_outbox(
    void **state)
{
	struct fx *fx = *state;
	struct outbox_entry e[4];
	char *d, *cause = NULL;
	int64_t id;
	int n;

	fx->c = open_synced(fx);
	load_every_kind(fx->c);
	assert_int_equal(cache_draft_set(fx->c, 1, "a secret draft"), 0);
	assert_int_equal(cache_draft_set(fx->c, 2, "another one"), 0);
	assert_int_equal(cache_outbox_add(fx->c, 1, "message", "POST",
	    "/api/v1/conversations/1/messages", "{\"text\":\"x\"}", &id,
	    &cause), 0);
	APPLY(fx->c, "v1.e.20", ev("conversation", 1, 20, NULL));
	assert_null(cache_draft_get(fx->c, 1));
	d = cache_draft_get(fx->c, 2);
	assert_string_equal(d, "another one");
	free(d);
	n = cache_outbox_due(fx->c, INT64_MAX, e, 4);
	assert_int_equal(n, 0);
}

static void
cache_prune__drops_old_messages_and_their_search_entries(void **state)
{
	struct fx *fx = *state;
	struct cache_counts n;
	char *cause = NULL;
	long dropped;

	fx->c = open_synced(fx);
	load_every_kind(fx->c);
	expect_search(fx->c, "cafe", "message:100 ");
	assert_int_equal(cache_prune(fx->c, 0, &dropped, &cause), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(cache_prune(fx->c, INT64_MAX, &dropped, &cause), 0);
	assert_true(dropped > 0);
	expect_search(fx->c, "cafe", "");
	assert_int_equal(cache_counts(fx->c, &n), 0);
	assert_int_equal(n.messages, 0);
	assert_true(n.contacts > 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* -- the shared inbox ------------------------------------------------- */

static void
add_label(void *arg, const struct cache_label *l)
{
	buf_printf(arg, "%lld:%s:%s ", (long long)l->id, l->name,
	    l->color ? l->color : "-");
}

static void
add_canned(void *arg, const struct cache_canned *r)
{
	buf_printf(arg, "%s=%s ", r->shortcut, r->text);
}

static void
add_history(void *arg, const struct cache_history *h)
{
	buf_printf(arg, "%lld:%lld:%s:%s:%s|", (long long)h->id,
	    (long long)h->agent_id, h->action, h->reason ? h->reason : "-",
	    h->text);
}

static void
cache_labels__lists_the_shared_set_by_name_and_drops_deleted_ones(
    void **state)
{
	struct fx *fx = *state;
	struct buf b;

	fx->c = open_synced(fx);
	APPLY(fx->c, "v1.e.3",
	    ev("label", 1, 1, "{\"name\":\"vip\",\"color\":\"#ff0000\"}"),
	    ev("label", 2, 2, "{\"name\":\"Billing\",\"color\":null}"),
	    ev("label", 3, 3, "{\"name\":\"zeta\"}"));
	buf_init(&b);
	assert_int_equal(cache_labels(fx->c, add_label, &b), 3);
	assert_string_equal(b.data, "2:Billing:- 1:vip:#ff0000 3:zeta:- ");
	APPLY(fx->c, "v1.e.5", ev("label", 3, 4, NULL),
	    ev("label", 1, 5, "{\"name\":\"VIP\",\"color\":\"#00ff00\"}"));
	buf_reset(&b);
	assert_int_equal(cache_labels(fx->c, add_label, &b), 2);
	assert_string_equal(b.data, "2:Billing:- 1:VIP:#00ff00 ");
	buf_free(&b);
}

static void
cache_canned_find__matches_a_shortcut_prefix_shortest_first(void **state)
{
	struct fx *fx = *state;
	struct buf b;

	fx->c = open_synced(fx);
	APPLY(fx->c, "v1.e.4",
	    ev("canned_reply", 1, 1, "{\"shortcut\":\"thanks-long\","
	    "\"text\":\"B\"}"),
	    ev("canned_reply", 2, 2, "{\"shortcut\":\"thanks\","
	    "\"text\":\"Thanks {{contact.name}}\"}"),
	    ev("canned_reply", 3, 3, "{\"shortcut\":\"hello\","
	    "\"text\":\"Hi\"}"),
	    ev("canned_reply", 4, 4, "{\"shortcut\":\"t_x\","
	    "\"text\":\"U\"}"));
	buf_init(&b);
	assert_int_equal(cache_canned_find(fx->c, "th", add_canned, &b), 2);
	assert_string_equal(b.data, "thanks=Thanks {{contact.name}} "
	    "thanks-long=B ");
	buf_reset(&b);
	assert_int_equal(cache_canned_find(fx->c, "thanks-", add_canned, &b),
	    1);
	buf_reset(&b);
	/* No wildcard: "_" and "%" are themselves; no case folding. */
	assert_int_equal(cache_canned_find(fx->c, "t_", add_canned, &b), 1);
	assert_int_equal(cache_canned_find(fx->c, "%", add_canned, &b), 0);
	assert_int_equal(cache_canned_find(fx->c, "TH", add_canned, &b), 0);
	assert_int_equal(cache_canned_find(fx->c, "nope", add_canned, &b), 0);
	buf_reset(&b);
	assert_int_equal(cache_canned_replies(fx->c, add_canned, &b), 4);
	assert_string_equal(b.data, "t_x=U hello=Hi thanks=Thanks "
	    "{{contact.name}} thanks-long=B ");
	buf_free(&b);
}

static void
cache_history__lists_a_conversations_lines_oldest_first(void **state)
{
	struct fx *fx = *state;
	struct buf b;

	fx->c = open_synced(fx);
	APPLY(fx->c, "v1.e.3",
	    ev("history", 2, 2, "{\"conversation_id\":7,\"agent_id\":null,"
	    "\"action\":\"status\",\"reason\":\"inbound\","
	    "\"text\":\"The customer wrote again: reopened\","
	    "\"created_at\":20}"),
	    ev("history", 1, 1, "{\"conversation_id\":7,\"agent_id\":3,"
	    "\"action\":\"status\",\"reason\":null,"
	    "\"text\":\"alice resolved the conversation\","
	    "\"created_at\":10}"),
	    ev("history", 3, 3, "{\"conversation_id\":8,\"agent_id\":3,"
	    "\"action\":\"assign\",\"text\":\"x\"}"));
	buf_init(&b);
	assert_int_equal(cache_history(fx->c, 7, add_history, &b), 2);
	assert_string_equal(b.data, "1:3:status:-:alice resolved the "
	    "conversation|2:0:status:inbound:The customer wrote again: "
	    "reopened|");
	buf_free(&b);
}

static void
cache_canned_expand__fills_the_conversations_contact_and_the_agent(
    void **state)
{
	struct fx *fx = *state;
	char *got;

	fx->c = open_synced(fx);
	APPLY(fx->c, "v1.e.3",
	    ev("contact", 5, 1, "{\"display_name\":null,\"profile_name\":"
	    "\"J\u00fcrgen Wei\u00df\",\"wa_id\":\"4915112345678\"}"),
	    ev("conversation", 9, 2, "{\"contact_id\":5}"));
	got = cache_canned_expand(fx->c, "Hallo {{contact.first_name}} "
	    "({{contact.name}}, {{contact.phone}}), {{agent.name}} hier, "
	    "Fall {{conversation.id}}.", 9, "alice");
	assert_string_equal(got, "Hallo J\xc3\xbcrgen (J\xc3\xbcrgen "
	    "Wei\xc3\x9f, 4915112345678), alice hier, Fall 9.");
	free(got);
	/* A conversation not cached: what is known, and nothing else. */
	got = cache_canned_expand(fx->c, "Hi {{contact.name}}, "
	    "{{agent.name}}", 404, "bob");
	assert_string_equal(got, "Hi , bob");
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(cache_open__creates_a_private_dir_and_private_files),
		T(cache_open__gives_its_write_ahead_logs_the_files_mode),
		T(cache_open__reopens_what_it_wrote),
		T(cache_open__refuses_a_directory_others_can_read),
		T(cache_apply__a_conversation_tombstone_takes_its_draft_and_outbox),
		T(cache_prune__drops_old_messages_and_their_search_entries),
		T(cache_apply__inserts_entities_of_every_kind),
		T(cache_apply__stores_the_cursor_with_the_page),
		T(cache_apply__leaves_the_cursor_alone_when_the_page_fails),
		T(cache_apply__never_overwrites_with_a_lower_or_equal_seq),
		T(cache_apply__deletes_a_row_and_its_search_entry_on_a_tombstone),
		T(cache_apply__takes_a_repeated_or_older_tombstone_calmly),
		T(cache_apply__skips_and_counts_malformed_events_and_applies_the_rest),
		T(cache_apply__skips_events_that_are_not_objects),
		T(cache_apply__ignores_an_unknown_kind),
		T(cache_apply__reads_a_batch_of_stream_events_at_the_root),
		T(cache_page_envelope__reads_cursor_more_and_remaining),
		T(cache_page_envelope__refuses_a_page_that_is_not_a_sync_page),
		T(cache_initial_end__builds_the_index_of_bulk_loaded_rows),
		T(cache_apply__reads_an_event_whatever_the_order_of_its_members),
		T(cache_initial__indexes_messages_as_written_through_updates_and_deletes),
		T(cache_initial__finishes_a_first_sync_an_older_version_began),
		T(cache_initial__survives_a_restart_in_the_middle),
		T(cache_search__ignores_case_and_accents),
		T(cache_search__ands_words_and_takes_a_trailing_star_as_prefix),
		T(cache_search__finds_contacts_by_name_and_by_number),
		T(cache_search__lists_the_newest_first),
		T(cache_search__returns_at_most_limit_hits),
		T(cache_search__takes_query_syntax_as_plain_text),
		T(cache_search__refuses_an_empty_query),
		T(cache_reset__drops_the_relays_data_and_keeps_outbox_and_drafts),
		T(cache_open__rebuilds_a_cache_file_full_of_garbage),
		T(cache_open__rebuilds_a_cache_file_damaged_after_its_header),
		T(cache_open__rebuilds_a_truncated_cache_file),
		T(cache_open__rebuilds_a_cache_file_cut_to_a_few_bytes),
		T(cache_open__refuses_a_damaged_work_file_and_leaves_it_as_it_is),
		T(cache_open__refuses_a_work_file_damaged_after_its_header),
		T(cache_outbox_add__gives_each_entry_a_fresh_key),
		T(cache_outbox_due__gives_the_oldest_queued_entry_of_each_conversation),
		T(cache_outbox_retry_later__hides_an_entry_until_next_at),
		T(cache_outbox_wake__ends_every_wait),
		T(cache_outbox__moves_entries_from_queued_to_accepted_or_failed),
		T(cache_outbox_requeue__queues_a_failed_entry_under_a_new_key),
		T(cache_outbox_discard__drops_all_but_accepted_entries),
		T(cache_outbox_list__lists_newest_first_and_can_leave_out_accepted),
		T(cache_outbox__survives_reopening),
		T(cache_draft__sets_gets_and_clears),
		T(cache_put_provisional__inserts_only_what_the_cache_lacks),
		T(cache_put_provisional__leaves_it_to_a_first_sync_in_progress),
		T(cache_put_provisional__refuses_what_is_not_an_entity),
		T(cache_labels__lists_the_shared_set_by_name_and_drops_deleted_ones),
		T(cache_canned_find__matches_a_shortcut_prefix_shortest_first),
		T(cache_history__lists_a_conversations_lines_oldest_first),
		T(cache_canned_expand__fills_the_conversations_contact_and_the_agent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
