/*
 * The conversation list against a real cache file: order, filters, the
 * cursor staying on its conversation while the list reorders, paging by
 * keys, and what a row shows (drawn into a canvas and read back).
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "client/cache.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "tui/layout.h"
#include "tui/list.h"
#include "ui/canvas.h"
#include "../testutil.h"

#define NOW 1795400000 /* 02:13:20 UTC */
#define ME 7

struct fx {
	char root[64];
	struct cache *c;
	struct list *l;
	int64_t seq;
};

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);
	char *dir, *notice = NULL, *cause = NULL;

	snprintf(fx->root, sizeof fx->root, "/tmp/glivi-list-XXXXXX");
	if (mkdtemp(fx->root) == NULL)
		return -1;
	log_set_level(LOG_ERROR);
	dir = xasprintf("%s/cache", fx->root);
	fx->c = cache_open(dir, "https://relay.test", &notice, &cause);
	free(dir);
	if (fx->c == NULL)
		return -1;
	fx->l = list_new(fx->c, ME);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	list_free(fx->l);
	cache_close(fx->c);
	testutil_rmtree(fx->root);
	free(fx);
	return 0;
}

static void
put(struct fx *fx, const char *kind, int64_t id, const char *data)
{
	struct buf b;
	char *cause = NULL;
	struct cache_applied a = { 0 };

	buf_init(&b);
	buf_printf(&b, "[{\"kind\":\"%s\",\"id\":%lld,\"seq\":%lld,"
	    "\"deleted\":false,\"data\":%s}]", kind, (long long)id,
	    (long long)++fx->seq, data);
	if (cache_apply(fx->c, b.data, b.len, "$", "c", &a, &cause) != 0)
		fail_msg("apply: %s", cause);
	assert_int_equal(a.applied, 1);
	buf_free(&b);
}

/* Conversation id with contact id + 100, active at NOW - age. */
static void
conv(struct fx *fx, int64_t id, const char *name, int64_t age,
    const char *status, int64_t assignee, const char *labels,
    const char *last_text)
{
	char *d;

	d = xasprintf("{\"profile_name\":\"%s\",\"wa_id\":\"4915%06lld\"}",
	    name, (long long)id);
	put(fx, "contact", id + 100, d);
	free(d);
	d = xasprintf("{\"conversation_id\":%lld,\"direction\":\"in\","
	    "\"type\":\"text\",\"text\":\"%s\",\"timestamp\":%lld}",
	    (long long)id, last_text, (long long)(NOW - age));
	put(fx, "message", id * 1000, d);
	free(d);
	d = xasprintf("{\"contact_id\":%lld,\"status\":\"%s\","
	    "\"assignee_id\":%s,\"last_activity_at\":%lld,"
	    "\"last_inbound_at\":%lld,\"last_message_id\":%lld,"
	    "\"labels\":%s,\"read_by\":{}}", (long long)id + 100, status,
	    assignee ? "7" : "null", (long long)(NOW - age),
	    (long long)(NOW - age), (long long)id * 1000, labels);
	put(fx, "conversation", id, d);
	free(d);
}

/* Ten conversations: id 1 newest ... id 10 oldest. */
static void
ten(struct fx *fx)
{
	char name[32];

	put(fx, "agent", ME, "{\"name\":\"alice\",\"role\":\"agent\"}");
	for (int i = 1; i <= 10; i++) {
		snprintf(name, sizeof name, "Customer %02d", i);
		conv(fx, i, name, i * 60, i % 3 == 0 ? "pending" : "open",
		    i % 2, i == 4 ? "[\"vip\"]" : "[]", "hello");
	}
	list_reload(fx->l);
}

static char *
draw(struct fx *fx, unsigned w, unsigned h)
{
	struct canvas *cv = canvas_new(w, h);
	struct rect r = { 0, 0, w, h };
	struct buf b;

	list_draw(fx->l, cv, &r, 1, NOW);
	buf_init(&b);
	canvas_dump(cv, &b);
	canvas_free(cv);
	buf_add(&b, "", 1);
	return buf_steal(&b);
}

static void
list__orders_by_last_activity_and_shows_name_preview_and_time(void **state)
{
	struct fx *fx = *state;
	char *s;

	ten(fx);
	s = draw(fx, 40, 6);
	/* Never read by this agent: one unread message each. */
	assert_string_equal(s,
	    "   Customer 01                (1) 02:12\n"
	    "   hello                         @alice\n"
	    "   Customer 02                (1) 02:11\n"
	    "   hello\n"
	    "P  Customer 03                (1) 02:10\n"
	    "   hello                         @alice\n");
	free(s);
	assert_int_equal(list_count(fx->l), 10);
	assert_int_equal(list_selected(fx->l), 1);
}

static void
list__filters_by_assignee_status_and_label(void **state)
{
	struct fx *fx = *state;

	ten(fx);
	list_set_filter(fx->l, CACHE_ASSIGNED_ME, NULL, NULL);
	assert_int_equal(list_count(fx->l), 5);
	list_set_filter(fx->l, CACHE_ASSIGNED_NOBODY, NULL, NULL);
	assert_int_equal(list_count(fx->l), 5);
	assert_int_equal(list_selected(fx->l) % 2, 0);
	list_set_filter(fx->l, CACHE_ASSIGNED_ANY, "pending", NULL);
	assert_int_equal(list_count(fx->l), 3);
	list_set_filter(fx->l, CACHE_ASSIGNED_ANY, NULL, "vip");
	assert_int_equal(list_count(fx->l), 1);
	assert_int_equal(list_selected(fx->l), 4);
	list_set_filter(fx->l, CACHE_ASSIGNED_ANY, "resolved", NULL);
	assert_int_equal(list_count(fx->l), 0);
	assert_int_equal(list_selected(fx->l), 0);
}

static void
list__moves_pages_and_stops_at_the_ends(void **state)
{
	struct fx *fx = *state;
	char *s;

	ten(fx);
	s = draw(fx, 40, 6); /* 3 conversations a screen */
	free(s);
	list_move(fx->l, 1);
	assert_int_equal(list_selected(fx->l), 2);
	list_move(fx->l, 4);
	assert_int_equal(list_selected(fx->l), 6);
	list_move(fx->l, 100);
	assert_int_equal(list_selected(fx->l), 10);
	list_move(fx->l, 1);
	assert_int_equal(list_selected(fx->l), 10);
	list_page(fx->l, -1);
	assert_int_equal(list_selected(fx->l), 8);
	list_first(fx->l);
	assert_int_equal(list_selected(fx->l), 1);
	list_move(fx->l, -1);
	assert_int_equal(list_selected(fx->l), 1);
	list_last(fx->l);
	assert_int_equal(list_selected(fx->l), 10);
	s = draw(fx, 40, 6);
	/* The last one on the last row: no empty screen below the list. */
	assert_non_null(strstr(s, "Customer 08"));
	assert_non_null(strstr(s, "Customer 10"));
	free(s);
}

static void
list__keeps_the_cursor_on_its_conversation_when_the_list_reorders(
    void **state)
{
	struct fx *fx = *state;
	char *s;

	ten(fx);
	free(draw(fx, 40, 8));
	list_move(fx->l, 2);
	assert_int_equal(list_selected(fx->l), 3);
	/* Conversation 9 comes to the top with a new message. */
	conv(fx, 9, "Customer 09", 1, "open", 0, "[]", "news");
	list_reload(fx->l);
	assert_int_equal(list_selected(fx->l), 3);
	s = draw(fx, 40, 8);
	/* Same screen row for the cursor: still the third one shown. */
	assert_null(strstr(s, "Customer 09"));
	assert_true(strncmp(strstr(s, "Customer 01") - 3, "   Customer 01", 14)
	    == 0);
	assert_true(strstr(s, "Customer 02") < strstr(s, "Customer 03"));
	free(s);
	list_first(fx->l);
	assert_int_equal(list_selected(fx->l), 9);
	list_move(fx->l, 3);
	assert_int_equal(list_selected(fx->l), 3);
	/* Its own conversation leaves the filter: the next takes its place. */
	list_set_filter(fx->l, CACHE_ASSIGNED_ANY, "open", NULL);
	assert_int_equal(list_selected(fx->l), 4);
}

static void
list__counts_unread_after_the_agents_read_marker(void **state)
{
	struct fx *fx = *state;
	char *s;
	int64_t id;
	char *d;

	ten(fx);
	/* Conversation 2: read up to message 2000 by ME; two more arrive. */
	for (int m = 1; m <= 2; m++) {
		d = xasprintf("{\"conversation_id\":2,\"direction\":\"in\","
		    "\"type\":\"text\",\"text\":\"more\",\"timestamp\":%d}",
		    NOW - 100 + m);
		put(fx, "message", 2000 + m, d);
		free(d);
	}
	put(fx, "conversation", 2, "{\"contact_id\":102,\"status\":\"open\","
	    "\"last_activity_at\":1795399998,\"last_inbound_at\":1795399998,"
	    "\"last_message_id\":2002,\"labels\":[],"
	    "\"read_by\":{\"7\":2000}}");
	list_reload(fx->l);
	/* The cursor stays on conversation 1, now second in the list. */
	assert_int_equal(list_selected(fx->l), 1);
	list_first(fx->l);
	assert_int_equal(list_selected(fx->l), 2);
	assert_int_equal(list_selected_unread(fx->l), 2);
	s = draw(fx, 40, 4);
	assert_non_null(strstr(s, "Customer 02                (2) 02:13"));
	free(s);
	/* Read up to the newest: the next unread is the one after it. */
	put(fx, "conversation", 2, "{\"contact_id\":102,\"status\":\"open\","
	    "\"last_activity_at\":1795399998,\"last_inbound_at\":1795399998,"
	    "\"last_message_id\":2002,\"labels\":[],"
	    "\"read_by\":{\"7\":2002}}");
	list_reload(fx->l);
	assert_int_equal(list_selected_unread(fx->l), 0);
	assert_int_equal(list_next_unread(fx->l), 0);
	id = list_selected(fx->l);
	assert_int_equal(id, 1);
}

static void
list__sanitises_names_and_previews_and_cuts_by_cluster(void **state)
{
	struct fx *fx = *state;
	struct canvas *cv = canvas_new(24, 2);
	struct rect r = { 0, 0, 24, 2 };
	struct canvas_cell_info ci;

	conv(fx, 1, "\\u001b]52;c;aGk=\\u0007Eve\\u202e", 10, "open", 0, "[]",
	    "\\u001b[2J\\r家族👨‍👩‍👧 long preview text here");
	list_reload(fx->l);
	list_draw(fx->l, cv, &r, 1, NOW);
	for (unsigned y = 0; y < 2; y++) {
		for (unsigned x = 0; x < 24; x++) {
			if (canvas_cell(cv, x, y, &ci) != 0 || ci.len == 0)
				continue;
			for (size_t i = 0; i < ci.len; i++)
				assert_true((unsigned char)ci.text[i] >= 0x20 &&
				    ci.text[i] != 0x7f);
		}
	}
	canvas_free(cv);
}

static void
list__marks_a_closed_24_hour_window(void **state)
{
	struct fx *fx = *state;
	char *s;

	conv(fx, 1, "Old", 2 * 86400, "open", 0, "[]", "x");
	conv(fx, 2, "Closing", 86400 - 3600, "open", 0, "[]", "x");
	list_reload(fx->l);
	s = draw(fx, 40, 4);
	assert_non_null(strstr(s, " ! Closing"));
	assert_non_null(strstr(s, " × Old"));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    list__orders_by_last_activity_and_shows_name_preview_and_time,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    list__filters_by_assignee_status_and_label, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    list__moves_pages_and_stops_at_the_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    list__keeps_the_cursor_on_its_conversation_when_the_list_reorders,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    list__counts_unread_after_the_agents_read_marker, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    list__sanitises_names_and_previews_and_cuts_by_cluster,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    list__marks_a_closed_24_hour_window, setup, teardown),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
