/*
 * The relay store's contract, written against store.h only, so the same
 * tests hold every implementation to it: SQLite by default, PostgreSQL
 * under tests/run-with-pg (testutil_store_url gives each test a fresh
 * database). Nothing here may know how a store keeps its rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/jsonw.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "relay/store.h"

#include "../testutil.h"

#define PNID "106540352242922"
#define PNID2 "106540352242923"
#define NOW 1785400000

struct fixture {
	char dir[64];
	char *url;
	struct store *st;
	int64_t number, number2;
};

static void
begin(struct fixture *f)
{
	char *cause = NULL;

	if (store_begin(f->st, &cause) != 0)
		fail_msg("store_begin: %s", cause);
}

static void
commit(struct fixture *f)
{
	char *cause = NULL;

	if (store_commit(f->st, &cause) != 0)
		fail_msg("store_commit: %s", cause);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	char *cause = NULL;

	snprintf(f->dir, sizeof f->dir, "/tmp/glivi-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->url = testutil_store_url(f->dir);
	if (store_open(f->url, STORE_RELAXED, &f->st, &cause) != 0) {
		/* Returned, not failed, so nothing leaks: cmocka reports the
		 * setup as failed and runs no teardown. */
		print_error("store_open %s: %s\n", f->url, cause);
		free(cause);
		testutil_store_drop(f->url);
		testutil_rmtree(f->dir);
		free(f->url);
		free(f);
		return -1;
	}
	begin(f);
	assert_int_equal(store_number_ensure(f->st, "main", PNID, "waba1",
	    &f->number, &cause), 0);
	assert_int_equal(store_number_ensure(f->st, "second", PNID2, "waba1",
	    &f->number2, &cause), 0);
	commit(f);
	assert_true(f->number > 0);
	assert_true(f->number2 > 0 && f->number2 != f->number);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	testutil_store_drop(f->url);
	if (testutil_rmtree(f->dir) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(f->url);
	free(f);
	return 0;
}

/* -- helpers building entities --------------------------------------------- */

static int64_t
contact(struct fixture *f, int64_t number, const char *wa_id)
{
	struct store_contact c = { .number_id = number, .wa_id = wa_id,
		.profile_name = "Sheena" };
	int64_t id = 0;

	assert_int_equal(store_contact_upsert(f->st, &c, NOW, &id), 0);
	assert_true(id > 0);
	return id;
}

static int64_t
conversation(struct fixture *f, int64_t number, int64_t contact_id)
{
	int64_t id = 0;

	assert_int_equal(store_conversation_for(f->st, number, contact_id,
	    NOW, &id), 0);
	assert_true(id > 0);
	return id;
}

/* A contact of the main number with their conversation. */
static int64_t
customer(struct fixture *f, const char *wa_id, int64_t *contact_id)
{
	int64_t k = contact(f, f->number, wa_id);

	if (contact_id != NULL)
		*contact_id = k;
	return conversation(f, f->number, k);
}

static int64_t
message_full(struct fixture *f, int64_t conv, const char *wamid,
    const char *direction, const char *type, int64_t ts, const char *text,
    const char *target, const char *media_json, const char *wa_json)
{
	cJSON *media = media_json ? cJSON_Parse(media_json) : NULL;
	cJSON *wa = wa_json ? cJSON_Parse(wa_json) : NULL;
	struct store_message m = { .number_id = f->number,
		.conversation_id = conv, .wamid = wamid, .direction = direction,
		.type = type, .ts = ts, .received_at = NOW, .text = text,
		.target_wamid = target, .media = media, .wa = wa };
	int64_t id = 0;
	int existed = -1;

	assert_int_equal(store_message_add(f->st, &m, &id, &existed), 0);
	assert_int_equal(existed, 0);
	assert_true(id > 0);
	cJSON_Delete(media);
	cJSON_Delete(wa);
	return id;
}

static int64_t
inbound(struct fixture *f, int64_t conv, const char *wamid, int64_t ts,
    const char *text)
{
	return message_full(f, conv, wamid, "in", "text", ts, text, NULL, NULL,
	    NULL);
}

static int64_t
outbound(struct fixture *f, int64_t conv, const char *client_id)
{
	cJSON *req = cJSON_Parse("{\"type\":\"text\",\"text\":{\"body\":"
	    "\"hello\"}}");
	struct store_outbound o = { .number_id = f->number,
		.conversation_id = conv, .agent_id = 7, .client_id = client_id,
		.type = "text", .text = "hello", .request = req, .now = NOW };
	int64_t id = 0;

	assert_int_equal(store_outbound_add(f->st, &o, &id), 0);
	assert_true(id > 0);
	cJSON_Delete(req);
	return id;
}

static void
set_text(struct fixture *f, const char *kind, int64_t id, const char *col,
    const char *v)
{
	struct store_value val = { .text = v };

	assert_int_equal(store_set(f->st, kind, id, col, &val), 0);
}

static void
set_int(struct fixture *f, const char *kind, int64_t id, const char *col,
    int64_t v)
{
	struct store_value val = { .i = v, .has_int = 1 };

	assert_int_equal(store_set(f->st, kind, id, col, &val), 0);
}

static void
set_json(struct fixture *f, const char *kind, int64_t id, const char *col,
    const char *json)
{
	cJSON *j = cJSON_Parse(json);
	struct store_value val = { .json = j };

	assert_non_null(j);
	assert_int_equal(store_set(f->st, kind, id, col, &val), 0);
	cJSON_Delete(j);
}

/* -- helpers reading ------------------------------------------------------- */

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t
num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v))
		fail_msg("%s is not a number", key);
	return (int64_t)v->valuedouble;
}

static int
is_null(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL)
		fail_msg("no member %s", key);
	return cJSON_IsNull(v);
}

static void
assert_str(const cJSON *o, const char *key, const char *want)
{
	const char *got = str(o, key);

	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("%s: got %s, want %s", key, got ? got : "(none)",
		    want);
}

/* The JSON text of a member, for compact comparisons. */
static void
assert_json(const cJSON *o, const char *key, const char *want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	cJSON *w = cJSON_Parse(want);

	assert_non_null(w);
	if (v == NULL || !cJSON_Compare(v, w, 1)) {
		char *got = v ? cJSON_PrintUnformatted(v) : NULL;

		fail_msg("%s: got %s, want %s", key, got ? got : "(none)",
		    want);
	}
	cJSON_Delete(w);
}

struct change {
	char kind[16];
	int64_t id, seq;
	int deleted;
};

struct changes {
	struct change c[256];
	size_t n;
};

static int
on_change(void *arg, const char *kind, int64_t id, int64_t seq, int deleted)
{
	struct changes *cs = arg;

	assert_true(cs->n < 256);
	snprintf(cs->c[cs->n].kind, sizeof cs->c[cs->n].kind, "%s", kind);
	cs->c[cs->n].id = id;
	cs->c[cs->n].seq = seq;
	cs->c[cs->n].deleted = deleted;
	cs->n++;
	return 0;
}

static void
changes(struct fixture *f, int64_t since, int64_t limit, struct changes *cs)
{
	memset(cs, 0, sizeof *cs);
	assert_int_equal(store_changes(f->st, since, limit, on_change, cs), 0);
	for (size_t i = 1; i < cs->n; i++)
		assert_true(cs->c[i].seq > cs->c[i - 1].seq);
}

/* The change row of an entity: 1 found (seq, deleted set), 0 none. */
static int
change_of(struct fixture *f, const char *kind, int64_t id, int64_t *seq,
    int *deleted)
{
	struct changes cs;

	changes(f, 0, 100000, &cs);
	for (size_t i = 0; i < cs.n; i++) {
		if (strcmp(cs.c[i].kind, kind) == 0 && cs.c[i].id == id) {
			if (seq != NULL)
				*seq = cs.c[i].seq;
			if (deleted != NULL)
				*deleted = cs.c[i].deleted;
			return 1;
		}
	}
	return 0;
}

static void
assert_tombstone(struct fixture *f, const char *kind, int64_t id)
{
	int deleted = 0;

	if (!change_of(f, kind, id, NULL, &deleted) || !deleted)
		fail_msg("%s %lld has no tombstone", kind, (long long)id);
}

static int64_t
head(struct fixture *f)
{
	int64_t h = -1, horizon = -1;

	assert_int_equal(store_head(f->st, &h, &horizon), 0);
	return h;
}

static int64_t
count(struct fixture *f, const char *table)
{
	cJSON *c = store_counts(f->st);
	int64_t n;

	assert_non_null(c);
	n = num(c, table);
	cJSON_Delete(c);
	return n;
}

/* -- open, epoch, transactions --------------------------------------------- */

static void
store_open__creates_migrates_and_reopen_keeps_epoch(void **state)
{
	struct fixture *f = *state;
	struct store *again = NULL, *reader = NULL;
	char *cause = NULL, epoch[64];
	int version = store_schema_version(f->st);

	snprintf(epoch, sizeof epoch, "%s", store_epoch(f->st));
	assert_true(strlen(epoch) >= 8);
	assert_true(version >= 1);
	store_close(f->st);
	f->st = NULL;
	if (store_open(f->url, STORE_DURABLE, &again, &cause) != 0)
		fail_msg("reopen: %s", cause);
	f->st = again;
	assert_string_equal(store_epoch(again), epoch);
	assert_int_equal(store_schema_version(again), version);
	/* The numbers made in setup are still there. */
	int64_t id = 0;
	assert_int_equal(store_number_ensure(again, "main", PNID, "waba1", &id,
	    &cause), 0);
	assert_int_equal(id, f->number);
	if (store_open_reader(f->url, &reader, &cause) != 0)
		fail_msg("reader: %s", cause);
	assert_string_equal(store_epoch(reader), epoch);
	store_close(reader);
}

static void
store_open__two_stores_have_different_epochs(void **state)
{
	struct fixture *f = *state;
	char dir[64], *url, *cause = NULL;
	struct store *other = NULL;

	snprintf(dir, sizeof dir, "/tmp/glivi-store-XXXXXX");
	assert_non_null(mkdtemp(dir));
	url = testutil_store_url(dir);
	if (store_open(url, STORE_RELAXED, &other, &cause) != 0)
		fail_msg("store_open: %s", cause);
	assert_string_not_equal(store_epoch(other), store_epoch(f->st));
	store_close(other);
	testutil_store_drop(url);
	free(url);
	testutil_rmtree(dir);
}

static void
store_open__refuses_a_url_it_does_not_know(void **state)
{
	struct store *st = NULL;
	char *cause = NULL;

	(void)state;
	assert_int_equal(store_open("nosuch:/tmp/x", STORE_RELAXED, &st,
	    &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(store_open_reader("nosuch:/tmp/x", &st, &cause), -1);
	assert_non_null(cause);
	free(cause);
}

static void
store_counts__names_every_table_and_starts_empty(void **state)
{
	struct fixture *f = *state;
	static const char *tables[] = { "webhooks", "events", "quarantine",
		"contacts", "conversations", "messages", "statuses", "orders",
		"notes", "agents", "templates", "changes", "media",
		"read_receipts", "history", "labels", "canned_replies", NULL };
	cJSON *c = store_counts(f->st);

	assert_non_null(c);
	for (size_t i = 0; tables[i] != NULL; i++)
		assert_int_equal(num(c, tables[i]), 0);
	cJSON_Delete(c);
}

static void
store_commit__keeps_and_rollback_discards(void **state)
{
	struct fixture *f = *state;
	int64_t kept, gone, ids[4];
	size_t n = 9;

	begin(f);
	assert_true(store_in_transaction(f->st));
	kept = contact(f, f->number, "111");
	commit(f);
	assert_false(store_in_transaction(f->st));

	begin(f);
	gone = contact(f, f->number, "222");
	store_rollback(f->st);
	assert_false(store_in_transaction(f->st));

	assert_int_equal(store_contact_exists(f->st, kept, NULL), 1);
	assert_int_equal(store_contact_exists(f->st, gone, NULL), 0);
	assert_int_equal(store_contact_lookup(f->st, "222", ids, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(change_of(f, STORE_CONTACT, kept, NULL, NULL), 1);
	assert_int_equal(change_of(f, STORE_CONTACT, gone, NULL, NULL), 0);
	assert_int_equal(count(f, "contacts"), 1);
}

static void
store_rollback__gives_the_seqs_back(void **state)
{
	struct fixture *f = *state;
	int64_t a, b, sa, sb;

	begin(f);
	a = contact(f, f->number, "111");
	commit(f);
	begin(f);
	contact(f, f->number, "222");
	contact(f, f->number, "333");
	store_rollback(f->st);
	begin(f);
	b = contact(f, f->number, "444");
	commit(f);
	assert_int_equal(change_of(f, STORE_CONTACT, a, &sa, NULL), 1);
	assert_int_equal(change_of(f, STORE_CONTACT, b, &sb, NULL), 1);
	/* Cursors see no hole where the rolled-back changes were. */
	assert_int_equal(sb, sa + 1);
	assert_int_equal(head(f), sb);
}

static void
store_rollback__after_a_failed_statement_the_store_works_again(void **state)
{
	struct fixture *f = *state;
	unsigned char h[32] = { 7 };
	char *cause = NULL;
	int64_t id = 0, k;

	begin(f);
	assert_int_equal(store_agent_add(f->st, "ann", "agent", h, NOW, &id,
	    &cause), 0);
	commit(f);
	/* A statement the database refuses (a name taken), then rollback:
	 * the next transaction and reads work as before. */
	begin(f);
	assert_int_equal(store_agent_add(f->st, "ann", "agent", h, NOW, &id,
	    &cause), -1);
	free(cause);
	store_rollback(f->st);
	assert_false(store_in_transaction(f->st));
	assert_int_equal(store_agent_id_by_name(f->st, "ann", &id), 0);
	assert_true(id > 0);
	begin(f);
	k = contact(f, f->number, "111");
	commit(f);
	assert_int_equal(store_contact_exists(f->st, k, NULL), 1);
}

static void
store_savepoint_rollback__undoes_rows_and_seq(void **state)
{
	struct fixture *f = *state;
	int64_t a, b, c, d, sa, sc, sd, ids[4];
	char *cause = NULL;
	size_t n = 9;

	begin(f);
	a = contact(f, f->number, "111");
	assert_int_equal(store_savepoint(f->st, &cause), 0);
	b = contact(f, f->number, "222");
	conversation(f, f->number, b);
	store_savepoint_rollback(f->st);
	assert_true(store_in_transaction(f->st));
	c = contact(f, f->number, "333");
	assert_int_equal(store_savepoint(f->st, &cause), 0);
	d = contact(f, f->number, "444");
	store_savepoint_release(f->st);
	commit(f);

	/* An id rolled back may be given again (SQLite does): look for the
	 * row by what it held. */
	assert_int_equal(store_contact_lookup(f->st, "222", ids, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_contact_exists(f->st, a, NULL), 1);
	assert_int_equal(store_contact_exists(f->st, c, NULL), 1);
	assert_int_equal(store_contact_exists(f->st, d, NULL), 1);
	assert_int_equal(count(f, "contacts"), 3);
	assert_int_equal(count(f, "conversations"), 0);
	if (b != c)
		assert_int_equal(change_of(f, STORE_CONTACT, b, NULL, NULL), 0);
	assert_int_equal(change_of(f, STORE_CONTACT, a, &sa, NULL), 1);
	assert_int_equal(change_of(f, STORE_CONTACT, c, &sc, NULL), 1);
	assert_int_equal(change_of(f, STORE_CONTACT, d, &sd, NULL), 1);
	assert_int_equal(sc, sa + 1);
	assert_int_equal(sd, sc + 1);
}

static void
store_background_checkpoints__and_scrub_keep_every_commit(void **state)
{
	struct fixture *f = *state;
	char *cause = NULL, wa[16];

	if (store_background_checkpoints(f->st, &cause) != 0)
		fail_msg("store_background_checkpoints: %s", cause);
	for (int i = 0; i < 50; i++) {
		begin(f);
		snprintf(wa, sizeof wa, "%d", 1000 + i);
		contact(f, f->number, wa);
		commit(f);
	}
	if (store_scrub(f->url, &cause) != 0)
		fail_msg("store_scrub: %s", cause);
	assert_int_equal(count(f, "contacts"), 50);
	assert_int_equal(head(f), 50);
}

/* -- the change log -------------------------------------------------------- */

static void
store_changes__in_seq_order_once_per_entity(void **state)
{
	struct fixture *f = *state;
	struct changes cs;
	int64_t s5;

	assert_int_equal(head(f), 0);
	begin(f);
	for (int64_t id = 1; id <= 5; id++)
		assert_int_equal(store_stamp(f->st, STORE_MESSAGE, id), 0);
	/* Stamped again: it moves to the end, and is listed once. */
	assert_int_equal(store_stamp(f->st, STORE_MESSAGE, 2), 0);
	assert_int_equal(store_stamp(f->st, STORE_NOTE, 2), 0);
	commit(f);

	changes(f, 0, 100, &cs);
	assert_int_equal(cs.n, 6);
	assert_string_equal(cs.c[0].kind, STORE_MESSAGE);
	assert_int_equal(cs.c[0].id, 1);
	assert_int_equal(cs.c[3].id, 5);
	assert_string_equal(cs.c[4].kind, STORE_MESSAGE);
	assert_int_equal(cs.c[4].id, 2);
	assert_string_equal(cs.c[5].kind, STORE_NOTE);
	assert_int_equal(cs.c[5].id, 2);
	for (size_t i = 0; i < cs.n; i++)
		assert_int_equal(cs.c[i].deleted, 0);
	assert_int_equal(head(f), cs.c[5].seq);

	/* since and limit. */
	s5 = cs.c[3].seq;
	changes(f, s5, 100, &cs);
	assert_int_equal(cs.n, 2);
	assert_int_equal(cs.c[0].id, 2);
	changes(f, 0, 2, &cs);
	assert_int_equal(cs.n, 2);
	assert_int_equal(cs.c[1].id, 3);
}

static int
stop_after_one(void *arg, const char *kind, int64_t id, int64_t seq,
    int deleted)
{
	(void)kind;
	(void)id;
	(void)seq;
	(void)deleted;
	(*(int *)arg)++;
	return 1;
}

static void
store_changes__stops_when_the_callback_says(void **state)
{
	struct fixture *f = *state;
	int calls = 0;

	begin(f);
	assert_int_equal(store_stamp(f->st, STORE_MESSAGE, 1), 0);
	assert_int_equal(store_stamp(f->st, STORE_MESSAGE, 2), 0);
	commit(f);
	assert_int_not_equal(store_changes(f->st, 0, 100, stop_after_one,
	    &calls), 0);
	assert_int_equal(calls, 1);
}

static void
store_tombstone__marks_deleted_and_a_stamp_revives(void **state)
{
	struct fixture *f = *state;
	int64_t s1, s2, s3;
	int deleted = -1;

	begin(f);
	assert_int_equal(store_stamp(f->st, STORE_ORDER, 9), 0);
	commit(f);
	assert_int_equal(change_of(f, STORE_ORDER, 9, &s1, &deleted), 1);
	assert_int_equal(deleted, 0);
	begin(f);
	assert_int_equal(store_tombstone(f->st, STORE_ORDER, 9), 0);
	/* A tombstone of something never stamped is a change too. */
	assert_int_equal(store_tombstone(f->st, STORE_NOTE, 4), 0);
	commit(f);
	assert_int_equal(change_of(f, STORE_ORDER, 9, &s2, &deleted), 1);
	assert_int_equal(deleted, 1);
	assert_true(s2 > s1);
	assert_tombstone(f, STORE_NOTE, 4);
	begin(f);
	assert_int_equal(store_stamp(f->st, STORE_ORDER, 9), 0);
	commit(f);
	assert_int_equal(change_of(f, STORE_ORDER, 9, &s3, &deleted), 1);
	assert_int_equal(deleted, 0);
	assert_true(s3 > s2);
}

static void
store_head__newest_seq_and_horizon(void **state)
{
	struct fixture *f = *state;
	int64_t h = -1, horizon = -1;

	assert_int_equal(store_head(f->st, &h, &horizon), 0);
	assert_int_equal(h, 0);
	assert_int_equal(horizon, 0);
	begin(f);
	contact(f, f->number, "111");
	contact(f, f->number, "222");
	commit(f);
	assert_int_equal(store_head(f->st, &h, &horizon), 0);
	assert_int_equal(h, 2);
	assert_int_equal(horizon, 0);
}

static void
store_reader__sees_only_committed_data(void **state)
{
	struct fixture *f = *state;
	struct store *r = NULL;
	char *cause = NULL;
	int64_t k, h = -1, horizon;
	cJSON *e;

	if (store_open_reader(f->url, &r, &cause) != 0)
		fail_msg("store_open_reader: %s", cause);
	begin(f);
	k = contact(f, f->number, "111");
	assert_int_equal(store_read_begin(r), 0);
	assert_int_equal(store_head(r, &h, &horizon), 0);
	assert_int_equal(h, 0);
	assert_null(store_entity(r, STORE_CONTACT, k));
	store_read_end(r);
	commit(f);

	assert_int_equal(store_read_begin(r), 0);
	assert_int_equal(store_head(r, &h, &horizon), 0);
	assert_int_equal(h, 1);
	e = store_entity(r, STORE_CONTACT, k);
	assert_non_null(e);
	assert_str(e, "wa_id", "111");
	cJSON_Delete(e);
	store_read_end(r);
	store_close(r);
}

/* -- numbers, webhooks, events --------------------------------------------- */

struct numbers {
	char name[4][32];
	int64_t disconnected_at[4];
	size_t n;
};

static int
on_number(void *arg, const cJSON *o)
{
	struct numbers *ns = arg;

	assert_true(ns->n < 4);
	snprintf(ns->name[ns->n], sizeof ns->name[ns->n], "%s", str(o,
	    "name"));
	assert_non_null(str(o, "phone_number_id"));
	ns->disconnected_at[ns->n] = is_null(o, "disconnected_at") ? 0 :
	    num(o, "disconnected_at");
	ns->n++;
	return 0;
}

static void
store_number_ensure__renames_and_refuses_another_id(void **state)
{
	struct fixture *f = *state;
	struct numbers ns = { 0 };
	char *cause = NULL;
	int64_t id = 0;

	begin(f);
	assert_int_equal(store_number_ensure(f->st, "main", PNID, "waba1", &id,
	    &cause), 0);
	assert_int_equal(id, f->number);
	/* A new name for the same phone_number_id renames the inbox. */
	assert_int_equal(store_number_ensure(f->st, "shop", PNID, "waba2", &id,
	    &cause), 0);
	assert_int_equal(id, f->number);
	/* A known name with another phone_number_id would split it. */
	id = 0;
	assert_int_equal(store_number_ensure(f->st, "shop", "999", NULL, &id,
	    &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "999"));
	free(cause);
	cause = NULL;
	commit(f);

	assert_int_equal(store_number_each(f->st, on_number, &ns), 0);
	assert_int_equal(ns.n, 2);
	/* In name order. */
	assert_string_equal(ns.name[0], "second");
	assert_string_equal(ns.name[1], "shop");
}

static void
store_webhook_add__dedupes_until_expired(void **state)
{
	struct fixture *f = *state;
	const char *a = "{\"a\":1}", *b = "{\"b\":2}";
	int64_t id = -1, id2 = -1, n = -1;
	int dup = -1;

	begin(f);
	assert_int_equal(store_webhook_add(f->st, a, strlen(a), 100, &id,
	    &dup), 0);
	assert_int_equal(dup, 0);
	assert_true(id > 0);
	assert_int_equal(store_webhook_add(f->st, a, strlen(a), 150, &id2,
	    &dup), 0);
	assert_int_equal(dup, 1);
	assert_int_equal(id2, 0);
	assert_int_equal(store_webhook_add(f->st, b, strlen(b), 200, &id2,
	    &dup), 0);
	assert_int_equal(dup, 0);
	assert_true(id2 > id);
	commit(f);
	assert_int_equal(count(f, "webhooks"), 2);

	begin(f);
	assert_int_equal(store_webhooks_expire(f->st, 200, &n), 0);
	assert_int_equal(n, 1);
	/* Expired, the same bytes are a new delivery. */
	assert_int_equal(store_webhook_add(f->st, a, strlen(a), 300, &id,
	    &dup), 0);
	assert_int_equal(dup, 0);
	commit(f);
	assert_int_equal(count(f, "webhooks"), 2);
}

static void
store_event_add__and_quarantine_are_kept(void **state)
{
	struct fixture *f = *state;
	cJSON *v = cJSON_Parse("{\"x\":1}");
	int64_t wh = 0;
	int dup;

	begin(f);
	assert_int_equal(store_webhook_add(f->st, "{}", 2, NOW, &wh, &dup), 0);
	assert_int_equal(store_event_add(f->st, wh, NOW, "waba1", f->number,
	    "account_update", "ban", v), 0);
	assert_int_equal(store_event_add(f->st, 0, NOW, NULL, 0, NULL,
	    "unknown", NULL), 0);
	assert_int_equal(store_quarantine_add(f->st, wh, NOW, "777",
	    "messages", v), 0);
	commit(f);
	cJSON_Delete(v);
	assert_int_equal(count(f, "events"), 2);
	assert_int_equal(count(f, "quarantine"), 1);
}

/* -- contacts and conversations -------------------------------------------- */

static void
store_contact_upsert__finds_by_user_id_then_wa_id(void **state)
{
	struct fixture *f = *state;
	struct store_contact c = { .number_id = f->number, .wa_id = "111",
		.profile_name = "Old" };
	int64_t id = 0, id2 = 0, s1, s2;
	cJSON *e;

	begin(f);
	assert_int_equal(store_contact_upsert(f->st, &c, NOW, &id), 0);
	commit(f);
	assert_int_equal(change_of(f, STORE_CONTACT, id, &s1, NULL), 1);

	/* Ids learnt later fill in; the latest profile name wins. */
	begin(f);
	c = (struct store_contact){ .number_id = f->number, .wa_id = "111",
		.user_id = "US.1", .username = "@sheena",
		.profile_name = "New" };
	assert_int_equal(store_contact_upsert(f->st, &c, NOW + 5, &id2), 0);
	assert_int_equal(id2, id);
	/* By user id alone, and what it does not say is kept. */
	c = (struct store_contact){ .number_id = f->number,
		.user_id = "US.1" };
	assert_int_equal(store_contact_upsert(f->st, &c, NOW + 6, &id2), 0);
	assert_int_equal(id2, id);
	commit(f);
	assert_int_equal(change_of(f, STORE_CONTACT, id, &s2, NULL), 1);
	assert_true(s2 > s1);

	e = store_entity(f->st, STORE_CONTACT, id);
	assert_non_null(e);
	assert_str(e, "kind", STORE_CONTACT);
	assert_int_equal(num(e, "id"), id);
	assert_str(e, "number", "main");
	assert_str(e, "wa_id", "111");
	assert_str(e, "user_id", "US.1");
	assert_str(e, "username", "@sheena");
	assert_str(e, "profile_name", "New");
	assert_int_equal(num(e, "created_at"), NOW);
	assert_int_equal(num(e, "updated_at"), NOW + 5);
	assert_true(is_null(e, "previous_wa_ids"));
	assert_json(e, "attributes", "{}");
	cJSON_Delete(e);

	/* The same wa_id on another number is another contact. */
	begin(f);
	id2 = contact(f, f->number2, "111");
	commit(f);
	assert_int_not_equal(id2, id);
	int64_t n = 0;
	assert_int_equal(store_contact_exists(f->st, id2, &n), 1);
	assert_int_equal(n, f->number2);
}

static void
store_contact_upsert__unchanged_is_not_stamped(void **state)
{
	struct fixture *f = *state;
	int64_t id, s1, s2;

	begin(f);
	id = contact(f, f->number, "111");
	commit(f);
	assert_int_equal(change_of(f, STORE_CONTACT, id, &s1, NULL), 1);
	begin(f);
	assert_int_equal(contact(f, f->number, "111"), id);
	commit(f);
	assert_int_equal(change_of(f, STORE_CONTACT, id, &s2, NULL), 1);
	assert_int_equal(s2, s1);
}

static void
store_contact_upsert__keeps_ids_another_contact_holds(void **state)
{
	struct fixture *f = *state;
	struct store_contact c = { .number_id = f->number, .user_id = "US.9",
		.profile_name = "By user" };
	int64_t phone, bsuid = 0, id = 0;
	cJSON *e;

	begin(f);
	phone = contact(f, f->number, "111");
	assert_int_equal(store_contact_upsert(f->st, &c, NOW, &bsuid), 0);
	commit(f);

	/* The user-id contact learns a wa_id the phone contact has: it keeps
	 * its ids, takes the rest, and the transaction goes on. */
	begin(f);
	c = (struct store_contact){ .number_id = f->number, .wa_id = "111",
		.user_id = "US.9", .profile_name = "Renamed" };
	assert_int_equal(store_contact_upsert(f->st, &c, NOW + 1, &id), 0);
	assert_int_equal(id, bsuid);
	contact(f, f->number, "222");
	commit(f);

	e = store_entity(f->st, STORE_CONTACT, bsuid);
	assert_true(is_null(e, "wa_id"));
	assert_str(e, "user_id", "US.9");
	assert_str(e, "profile_name", "Renamed");
	cJSON_Delete(e);
	e = store_entity(f->st, STORE_CONTACT, phone);
	assert_str(e, "wa_id", "111");
	assert_true(is_null(e, "user_id"));
	cJSON_Delete(e);
	assert_int_equal(count(f, "contacts"), 3);
}

static void
store_contact_renumber__keeps_the_old_wa_id(void **state)
{
	struct fixture *f = *state;
	int64_t id, other, found = 0;
	struct store_contact c = { .number_id = f->number, .wa_id = "222" };
	cJSON *e;

	begin(f);
	id = contact(f, f->number, "111");
	other = contact(f, f->number, "333");
	assert_int_equal(store_contact_renumber(f->st, id, "222", NOW + 1), 0);
	/* A number another contact holds: both stay as they are. */
	assert_int_equal(store_contact_renumber(f->st, id, "333", NOW + 2), 0);
	commit(f);

	e = store_entity(f->st, STORE_CONTACT, id);
	assert_str(e, "wa_id", "222");
	assert_json(e, "previous_wa_ids", "[\"111\"]");
	cJSON_Delete(e);
	e = store_entity(f->st, STORE_CONTACT, other);
	assert_str(e, "wa_id", "333");
	cJSON_Delete(e);
	begin(f);
	assert_int_equal(store_contact_upsert(f->st, &c, NOW, &found), 0);
	commit(f);
	assert_int_equal(found, id);
}

static void
store_contact_lookup__by_id_wa_id_or_user_id(void **state)
{
	struct fixture *f = *state;
	struct store_contact c = { .number_id = f->number, .wa_id = "555",
		.user_id = "US.5" };
	int64_t a, b, ids[4];
	char key[32];
	size_t n = 9;

	begin(f);
	assert_int_equal(store_contact_upsert(f->st, &c, NOW, &a), 0);
	b = contact(f, f->number2, "555");
	contact(f, f->number, "666");
	commit(f);

	assert_int_equal(store_contact_lookup(f->st, "555", ids, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], a < b ? a : b);
	assert_int_equal(ids[1], a < b ? b : a);
	assert_int_equal(store_contact_lookup(f->st, "US.5", ids, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], a);
	snprintf(key, sizeof key, "%lld", (long long)b);
	assert_int_equal(store_contact_lookup(f->st, key, ids, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], b);
	assert_int_equal(store_contact_lookup(f->st, "nobody", ids, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_contact_lookup(f->st, "555", ids, 1, &n), 0);
	assert_int_equal(n, 1);
}

static void
store_conversation_for__one_per_contact(void **state)
{
	struct fixture *f = *state;
	struct store_conversation_info ci;
	int64_t k, conv, again = 0, of = -1;
	cJSON *e;

	begin(f);
	conv = customer(f, "111", &k);
	assert_int_equal(store_conversation_for(f->st, f->number, k, NOW + 50,
	    &again), 0);
	commit(f);
	assert_int_equal(again, conv);
	assert_int_equal(store_conversation_of_contact(f->st, k, &of), 0);
	assert_int_equal(of, conv);
	assert_int_equal(store_conversation_of_contact(f->st, k + 100, &of),
	    0);
	assert_int_equal(of, 0);
	assert_int_equal(count(f, "conversations"), 1);

	e = store_entity(f->st, STORE_CONVERSATION, conv);
	assert_non_null(e);
	assert_str(e, "kind", STORE_CONVERSATION);
	assert_str(e, "number", "main");
	assert_int_equal(num(e, "contact_id"), k);
	assert_str(e, "status", "open");
	assert_int_equal(num(e, "created_at"), NOW);
	assert_int_equal(num(e, "last_activity_at"), NOW);
	assert_true(is_null(e, "last_message_id"));
	assert_true(is_null(e, "last_inbound_at"));
	assert_true(is_null(e, "assignee_id"));
	assert_true(is_null(e, "snoozed_until"));
	assert_json(e, "labels", "[]");
	assert_json(e, "read_by", "{}");
	cJSON_Delete(e);

	assert_int_equal(store_conversation_info(f->st, conv, &ci), 1);
	assert_int_equal(ci.id, conv);
	assert_int_equal(ci.number_id, f->number);
	assert_int_equal(ci.contact_id, k);
	assert_int_equal(ci.last_inbound_at, 0);
	assert_string_equal(ci.status, "open");
	assert_int_equal(ci.has_recipient, 1);
	assert_int_equal(store_conversation_info(f->st, conv + 100, &ci), 0);
}

static void
store_conversation_activity__first_message_is_last_even_when_older(
    void **state)
{
	struct fixture *f = *state;
	int64_t conv, m1, m2, m3, s1, s2;
	cJSON *e;

	begin(f);
	conv = customer(f, "111", NULL);
	commit(f);
	assert_int_equal(change_of(f, STORE_CONVERSATION, conv, &s1, NULL), 1);

	begin(f);
	/* The customer's clock is behind the conversation's start. */
	m1 = inbound(f, conv, "w1", NOW - 100, "first");
	assert_int_equal(store_conversation_activity(f->st, conv, NOW - 100, 1,
	    m1), 0);
	commit(f);
	assert_int_equal(change_of(f, STORE_CONVERSATION, conv, &s2, NULL), 1);
	assert_true(s2 > s1);
	e = store_entity(f->st, STORE_CONVERSATION, conv);
	assert_int_equal(num(e, "last_message_id"), m1);
	assert_int_equal(num(e, "last_activity_at"), NOW);
	assert_int_equal(num(e, "last_inbound_at"), NOW - 100);
	cJSON_Delete(e);

	begin(f);
	m2 = message_full(f, conv, "w2", "out", "text", NOW + 10, "reply",
	    NULL, NULL, NULL);
	assert_int_equal(store_conversation_activity(f->st, conv, NOW + 10, 0,
	    m2), 0);
	/* Older than the last: changes neither the last message nor time. */
	m3 = inbound(f, conv, "w3", NOW + 5, "late");
	assert_int_equal(store_conversation_activity(f->st, conv, NOW + 5, 1,
	    m3), 0);
	commit(f);
	e = store_entity(f->st, STORE_CONVERSATION, conv);
	assert_int_equal(num(e, "last_message_id"), m2);
	assert_int_equal(num(e, "last_activity_at"), NOW + 10);
	assert_int_equal(num(e, "last_inbound_at"), NOW + 5);
	cJSON_Delete(e);
}

static void
store_conversation_info__no_recipient_without_an_id(void **state)
{
	struct fixture *f = *state;
	struct store_contact c = { .number_id = f->number,
		.profile_name = "nameless" };
	struct store_conversation_info ci;
	int64_t k = 0, conv;

	begin(f);
	assert_int_equal(store_contact_upsert(f->st, &c, NOW, &k), 0);
	conv = conversation(f, f->number, k);
	assert_int_equal(store_conversation_activity(f->st, conv, NOW + 1, 1,
	    0), 0);
	commit(f);
	assert_int_equal(store_conversation_info(f->st, conv, &ci), 1);
	assert_int_equal(ci.has_recipient, 0);
	assert_int_equal(ci.last_inbound_at, NOW + 1);
}

/* -- messages -------------------------------------------------------------- */

static void
store_message_add__existed_and_find(void **state)
{
	struct fixture *f = *state;
	int64_t conv, id, again = 0, found = -1, fconv = -1, s1, s2;
	struct store_message m;
	char *wamid = NULL;
	int existed = -1;
	cJSON *e;

	begin(f);
	conv = customer(f, "111", NULL);
	id = message_full(f, conv, "wamid.A", "in", "image", NOW - 5, "caption",
	    NULL, "{\"id\":\"M1\",\"mime_type\":\"image/jpeg\"}",
	    "{\"from\":\"111\",\"type\":\"image\"}");
	commit(f);
	assert_int_equal(change_of(f, STORE_MESSAGE, id, &s1, NULL), 1);

	begin(f);
	m = (struct store_message){ .number_id = f->number,
		.conversation_id = conv, .wamid = "wamid.A", .direction = "in",
		.type = "text", .ts = NOW, .received_at = NOW, .text = "other" };
	assert_int_equal(store_message_add(f->st, &m, &again, &existed), 0);
	commit(f);
	assert_int_equal(existed, 1);
	assert_int_equal(again, id);
	assert_int_equal(change_of(f, STORE_MESSAGE, id, &s2, NULL), 1);
	assert_int_equal(s2, s1);
	assert_int_equal(count(f, "messages"), 1);

	assert_int_equal(store_message_find(f->st, f->number, "wamid.A", &found,
	    &fconv), 0);
	assert_int_equal(found, id);
	assert_int_equal(fconv, conv);
	assert_int_equal(store_message_find(f->st, f->number2, "wamid.A",
	    &found, NULL), 0);
	assert_int_equal(found, 0);
	assert_int_equal(store_message_find(f->st, f->number, "nope", &found,
	    NULL), 0);
	assert_int_equal(found, 0);
	assert_int_equal(store_message_id_by_wamid(f->st, "wamid.A", &found),
	    0);
	assert_int_equal(found, id);
	assert_int_equal(store_message_id_by_wamid(f->st, "nope", &found), 0);
	assert_int_equal(found, 0);
	assert_int_equal(store_message_in_conversation(f->st, id, conv,
	    &wamid), 1);
	assert_string_equal(wamid, "wamid.A");
	free(wamid);
	assert_int_equal(store_message_in_conversation(f->st, id, conv + 1,
	    &wamid), 0);
	assert_null(wamid);

	e = store_entity(f->st, STORE_MESSAGE, id);
	assert_non_null(e);
	assert_str(e, "kind", STORE_MESSAGE);
	assert_int_equal(num(e, "conversation_id"), conv);
	assert_str(e, "number", "main");
	assert_str(e, "wamid", "wamid.A");
	assert_str(e, "direction", "in");
	assert_str(e, "type", "image");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(e, "unknown_type")));
	assert_int_equal(num(e, "timestamp"), NOW - 5);
	assert_int_equal(num(e, "received_at"), NOW);
	assert_str(e, "text", "caption");
	assert_json(e, "media", "{\"id\":\"M1\",\"mime_type\":\"image/jpeg\"}");
	assert_json(e, "wa", "{\"from\":\"111\",\"type\":\"image\"}");
	assert_true(is_null(e, "status"));
	assert_true(is_null(e, "failure"));
	assert_true(is_null(e, "reaction"));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(e, "revoked")));
	assert_true(is_null(e, "order_id"));
	cJSON_Delete(e);
}

static void
store_message_status__set_read_and_failure_kept(void **state)
{
	struct fixture *f = *state;
	cJSON *fail = cJSON_Parse("{\"code\":131047,\"title\":\"window\"}");
	cJSON *fail2 = cJSON_Parse("{\"code\":1}");
	const char *status = "x";
	int64_t conv, id, s1, s2;
	cJSON *e;

	begin(f);
	conv = customer(f, "111", NULL);
	id = message_full(f, conv, "wamid.O", "out", "text", NOW, "hi", NULL,
	    NULL, NULL);
	commit(f);
	assert_int_equal(store_message_status(f->st, id, &status), 0);
	assert_null(status);
	assert_int_equal(change_of(f, STORE_MESSAGE, id, &s1, NULL), 1);

	begin(f);
	assert_int_equal(store_message_set_status(f->st, id, "failed", NOW + 1,
	    fail), 0);
	commit(f);
	assert_int_equal(store_message_status(f->st, id, &status), 0);
	assert_string_equal(status, "failed");
	assert_int_equal(change_of(f, STORE_MESSAGE, id, &s2, NULL), 1);
	assert_true(s2 > s1);

	/* A later status without a failure keeps the one recorded. */
	begin(f);
	assert_int_equal(store_message_set_status(f->st, id, "delivered",
	    NOW + 2, NULL), 0);
	commit(f);
	assert_int_equal(store_message_status(f->st, id, &status), 0);
	assert_string_equal(status, "delivered");
	e = store_entity(f->st, STORE_MESSAGE, id);
	assert_str(e, "status", "delivered");
	assert_int_equal(num(e, "status_at"), NOW + 2);
	assert_json(e, "failure", "{\"code\":131047,\"title\":\"window\"}");
	cJSON_Delete(e);

	begin(f);
	assert_int_equal(store_message_set_failure(f->st, id, fail2), 0);
	commit(f);
	e = store_entity(f->st, STORE_MESSAGE, id);
	assert_json(e, "failure", "{\"code\":1}");
	cJSON_Delete(e);
	cJSON_Delete(fail);
	cJSON_Delete(fail2);
}

static void
store_status_add__a_pair_seen_before_is_a_duplicate(void **state)
{
	struct fixture *f = *state;
	int dup = -1;

	begin(f);
	assert_int_equal(store_status_add(f->st, f->number, "w1", "sent", NOW,
	    &dup), 0);
	assert_int_equal(dup, 0);
	assert_int_equal(store_status_add(f->st, f->number, "w1", "sent",
	    NOW + 9, &dup), 0);
	assert_int_equal(dup, 1);
	assert_int_equal(store_status_add(f->st, f->number, "w1", "read", NOW,
	    &dup), 0);
	assert_int_equal(dup, 0);
	assert_int_equal(store_status_add(f->st, f->number2, "w1", "sent", NOW,
	    &dup), 0);
	assert_int_equal(dup, 0);
	commit(f);
	assert_int_equal(count(f, "statuses"), 3);
}

static void
store_message_refresh_actions__newest_wins_whatever_the_order(void **state)
{
	struct fixture *f = *state;
	int64_t conv, target, s1, s2;
	cJSON *e;

	begin(f);
	conv = customer(f, "111", NULL);
	target = inbound(f, conv, "wamid.T", NOW, "original");
	/* Nothing aimed at it: nothing changes, nothing is stamped. */
	assert_int_equal(store_message_refresh_actions(f->st, f->number,
	    target, "wamid.T"), 0);
	commit(f);
	assert_int_equal(change_of(f, STORE_MESSAGE, target, &s1, NULL), 1);
	e = store_entity(f->st, STORE_MESSAGE, target);
	assert_true(is_null(e, "reaction"));
	cJSON_Delete(e);

	begin(f);
	message_full(f, conv, "wamid.R2", "in", "reaction", NOW + 20, NULL,
	    "wamid.T", NULL, "{\"reaction\":{\"emoji\":\"B\"}}");
	/* Arrives later, but is older. */
	message_full(f, conv, "wamid.R1", "in", "reaction", NOW + 10, NULL,
	    "wamid.T", NULL, "{\"reaction\":{\"emoji\":\"A\"}}");
	message_full(f, conv, "wamid.E1", "in", "edit", NOW + 30, "edited",
	    "wamid.T", NULL, NULL);
	message_full(f, conv, "wamid.E0", "in", "edit", NOW + 5, "stale",
	    "wamid.T", NULL, NULL);
	assert_int_equal(store_message_refresh_actions(f->st, f->number,
	    target, "wamid.T"), 0);
	commit(f);
	assert_int_equal(change_of(f, STORE_MESSAGE, target, &s2, NULL), 1);
	assert_true(s2 > s1);
	e = store_entity(f->st, STORE_MESSAGE, target);
	assert_str(e, "reaction", "B");
	assert_str(e, "edited_text", "edited");
	assert_str(e, "text", "original");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(e, "revoked")));
	cJSON_Delete(e);

	/* Refreshed again with nothing new: not stamped again. */
	begin(f);
	assert_int_equal(store_message_refresh_actions(f->st, f->number,
	    target, "wamid.T"), 0);
	commit(f);
	assert_int_equal(change_of(f, STORE_MESSAGE, target, &s1, NULL), 1);
	assert_int_equal(s1, s2);

	/* An empty emoji, newest, removes the reaction; a revoke (even an
	 * older one) empties the message. */
	begin(f);
	message_full(f, conv, "wamid.R3", "in", "reaction", NOW + 40, NULL,
	    "wamid.T", NULL, "{\"reaction\":{\"emoji\":\"\"}}");
	message_full(f, conv, "wamid.X", "in", "revoke", NOW + 1, NULL,
	    "wamid.T", NULL, NULL);
	assert_int_equal(store_message_refresh_actions(f->st, f->number,
	    target, "wamid.T"), 0);
	commit(f);
	e = store_entity(f->st, STORE_MESSAGE, target);
	assert_true(is_null(e, "reaction"));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(e, "revoked")));
	assert_true(is_null(e, "text"));
	assert_true(is_null(e, "edited_text"));
	assert_true(is_null(e, "wa"));
	cJSON_Delete(e);
}

/* -- orders ---------------------------------------------------------------- */

static void
store_order__add_create_link_and_delete(void **state)
{
	struct fixture *f = *state;
	cJSON *items = cJSON_Parse("[{\"product_retailer_id\":\"sku1\","
	    "\"quantity\":2}]");
	int64_t k, conv, msg, o1 = 0, o2 = 0;
	struct store_order o;
	cJSON *e;

	begin(f);
	conv = customer(f, "111", &k);
	msg = message_full(f, conv, "wamid.ORD", "in", "order", NOW, "please",
	    NULL, NULL, NULL);
	o = (struct store_order){ .number_id = f->number, .contact_id = k,
		.conversation_id = conv, .message_id = msg, .catalog_id = "cat",
		.text = "please", .items = items, .currency = "EUR",
		.total = "12.50", .created_at = NOW };
	assert_int_equal(store_order_add(f->st, &o, &o1), 0);
	assert_int_equal(store_message_set_order(f->st, msg, o1), 0);
	o.message_id = 0;
	assert_int_equal(store_order_create(f->st, &o, "confirmed", &o2), 0);
	commit(f);
	assert_true(o1 > 0 && o2 > 0 && o1 != o2);

	e = store_entity(f->st, STORE_ORDER, o1);
	assert_non_null(e);
	assert_str(e, "kind", STORE_ORDER);
	assert_str(e, "number", "main");
	assert_int_equal(num(e, "contact_id"), k);
	assert_int_equal(num(e, "conversation_id"), conv);
	assert_int_equal(num(e, "message_id"), msg);
	assert_str(e, "catalog_id", "cat");
	assert_json(e, "items", "[{\"product_retailer_id\":\"sku1\","
	    "\"quantity\":2}]");
	assert_str(e, "currency", "EUR");
	assert_str(e, "total", "12.50");
	assert_str(e, "status", "received");
	assert_int_equal(num(e, "created_at"), NOW);
	cJSON_Delete(e);
	e = store_entity(f->st, STORE_ORDER, o2);
	assert_str(e, "status", "confirmed");
	assert_true(is_null(e, "message_id"));
	cJSON_Delete(e);
	e = store_entity(f->st, STORE_MESSAGE, msg);
	assert_int_equal(num(e, "order_id"), o1);
	cJSON_Delete(e);

	begin(f);
	set_text(f, STORE_ORDER, o2, "total", "99.00");
	assert_int_equal(store_order_delete(f->st, o1), 1);
	assert_int_equal(store_order_delete(f->st, o1), 0);
	commit(f);
	assert_null(store_entity(f->st, STORE_ORDER, o1));
	assert_tombstone(f, STORE_ORDER, o1);
	/* The message keeps its text and loses the link. */
	e = store_entity(f->st, STORE_MESSAGE, msg);
	assert_true(is_null(e, "order_id"));
	assert_str(e, "text", "please");
	cJSON_Delete(e);
	e = store_entity(f->st, STORE_ORDER, o2);
	assert_str(e, "total", "99.00");
	cJSON_Delete(e);
	cJSON_Delete(items);
}

/* -- templates ------------------------------------------------------------- */

static void
store_template_upsert__keeps_what_the_update_does_not_say(void **state)
{
	struct fixture *f = *state;
	struct store_template t = { .waba_id = "waba1", .template_id = "T1",
		.name = "welcome", .language = "en", .status = "APPROVED",
		.category = "UTILITY" };
	int64_t id = 0, id2 = 0;
	cJSON *e;

	begin(f);
	assert_int_equal(store_template_upsert(f->st, &t, NOW, &id), 0);
	t = (struct store_template){ .waba_id = "waba1", .template_id = "T1",
		.status = "REJECTED", .reason = "INVALID_FORMAT" };
	assert_int_equal(store_template_upsert(f->st, &t, NOW + 1, &id2), 0);
	commit(f);
	assert_int_equal(id2, id);
	e = store_entity(f->st, STORE_TEMPLATE, id);
	assert_non_null(e);
	assert_str(e, "kind", STORE_TEMPLATE);
	assert_str(e, "waba_id", "waba1");
	assert_str(e, "template_id", "T1");
	assert_str(e, "name", "welcome");
	assert_str(e, "language", "en");
	assert_str(e, "status", "REJECTED");
	assert_str(e, "reason", "INVALID_FORMAT");
	assert_str(e, "category", "UTILITY");
	assert_int_equal(num(e, "updated_at"), NOW + 1);
	cJSON_Delete(e);
	assert_int_equal(count(f, "templates"), 1);
}

static void
store_template_sync__writes_only_what_changed_and_prune(void **state)
{
	struct fixture *f = *state;
	cJSON *comps = cJSON_Parse("[{\"type\":\"BODY\",\"text\":\"Hi {{1}}\"}]");
	struct store_template t = { .waba_id = "waba1", .template_id = "T1",
		.name = "welcome", .language = "en", .status = "REJECTED",
		.reason = "INVALID_FORMAT", .category = "UTILITY",
		.components = comps, .parameter_format = "POSITIONAL" };
	struct store_template t2 = { .waba_id = "waba1", .template_id = "T2",
		.name = "bye", .language = "en", .status = "APPROVED" };
	struct store_template t3 = { .waba_id = "waba2", .template_id = "T3",
		.name = "other", .language = "en", .status = "APPROVED" };
	const char *keep[] = { "T1" };
	int64_t id = 0, id2 = 0, id3 = 0, s1, s2, removed = -1;
	int changed = -1;
	cJSON *e;

	begin(f);
	assert_int_equal(store_template_sync(f->st, &t, NOW, &changed), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(store_template_sync(f->st, &t2, NOW, &changed), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(store_template_sync(f->st, &t3, NOW, &changed), 0);
	commit(f);
	assert_int_equal(count(f, "templates"), 3);
	/* Upsert finds the row sync made (and gives its id). */
	begin(f);
	assert_int_equal(store_template_upsert(f->st, &t2, NOW, &id2), 0);
	assert_int_equal(store_template_upsert(f->st, &t3, NOW, &id3), 0);
	assert_int_equal(store_template_upsert(f->st, &t, NOW, &id), 0);
	commit(f);
	assert_int_equal(change_of(f, STORE_TEMPLATE, id, &s1, NULL), 1);

	/* The same again: nothing written, nothing stamped; a list without
	 * the reason keeps the one stored while the status stays. */
	t.reason = NULL;
	begin(f);
	assert_int_equal(store_template_sync(f->st, &t, NOW + 5, &changed), 0);
	commit(f);
	assert_int_equal(changed, 0);
	assert_int_equal(change_of(f, STORE_TEMPLATE, id, &s2, NULL), 1);
	assert_int_equal(s2, s1);
	e = store_entity(f->st, STORE_TEMPLATE, id);
	assert_str(e, "reason", "INVALID_FORMAT");
	assert_json(e, "components",
	    "[{\"type\":\"BODY\",\"text\":\"Hi {{1}}\"}]");
	assert_str(e, "parameter_format", "POSITIONAL");
	assert_int_equal(num(e, "updated_at"), NOW);
	cJSON_Delete(e);

	/* A new status drops the old reason. */
	t.status = "APPROVED";
	begin(f);
	assert_int_equal(store_template_sync(f->st, &t, NOW + 6, &changed), 0);
	commit(f);
	assert_int_equal(changed, 1);
	assert_int_equal(change_of(f, STORE_TEMPLATE, id, &s2, NULL), 1);
	assert_true(s2 > s1);
	e = store_entity(f->st, STORE_TEMPLATE, id);
	assert_str(e, "status", "APPROVED");
	assert_true(is_null(e, "reason"));
	assert_int_equal(num(e, "updated_at"), NOW + 6);
	cJSON_Delete(e);

	begin(f);
	assert_int_equal(store_template_prune(f->st, "waba1", keep, 1,
	    &removed), 0);
	commit(f);
	assert_int_equal(removed, 1);
	assert_null(store_entity(f->st, STORE_TEMPLATE, id2));
	assert_tombstone(f, STORE_TEMPLATE, id2);
	assert_non_null(e = store_entity(f->st, STORE_TEMPLATE, id));
	cJSON_Delete(e);
	assert_non_null(e = store_entity(f->st, STORE_TEMPLATE, id3));
	cJSON_Delete(e);
	cJSON_Delete(comps);
}

/* -- agents ---------------------------------------------------------------- */

struct names {
	char name[4][32];
	char role[4][16];
	size_t n;
};

static int
on_agent(void *arg, const cJSON *a)
{
	struct names *ns = arg;

	assert_true(ns->n < 4);
	assert_string_equal(str(a, "kind"), STORE_AGENT);
	snprintf(ns->name[ns->n], sizeof ns->name[ns->n], "%s", str(a,
	    "name"));
	snprintf(ns->role[ns->n], sizeof ns->role[ns->n], "%s", str(a,
	    "role"));
	ns->n++;
	return 0;
}

static int
on_agent_stop(void *arg, const cJSON *a)
{
	(void)a;
	(*(int *)arg)++;
	return 1;
}

static void
store_agent__add_find_revoke(void **state)
{
	struct fixture *f = *state;
	unsigned char h1[32], h2[32], h3[32];
	struct store_agent a;
	struct names ns = { 0 };
	char *cause = NULL, name[72];
	int64_t alice = 0, bob = 0, id = -1;
	int calls = 0;
	cJSON *e;

	memset(h1, 1, sizeof h1);
	memset(h2, 2, sizeof h2);
	memset(h3, 3, sizeof h3);
	begin(f);
	assert_int_equal(store_agent_add(f->st, "zed", "agent", h2, NOW, &bob,
	    &cause), 0);
	assert_int_equal(store_agent_add(f->st, "alice", "admin", h1, NOW,
	    &alice, &cause), 0);
	commit(f);
	/* A name taken is an error with a cause. */
	begin(f);
	assert_int_equal(store_agent_add(f->st, "alice", "agent", h3, NOW, &id,
	    &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "alice"));
	free(cause);
	cause = NULL;
	store_rollback(f->st);
	assert_int_equal(count(f, "agents"), 2);

	assert_int_equal(store_agent_by_token_hash(f->st, h1, &a), 1);
	assert_int_equal(a.id, alice);
	assert_string_equal(a.name, "alice");
	assert_int_equal(a.admin, 1);
	assert_int_equal(a.revoked, 0);
	assert_memory_equal(a.hash, h1, 32);
	assert_int_equal(store_agent_by_token_hash(f->st, h3, &a), 0);
	assert_int_equal(store_agent_id_by_name(f->st, "alice", &id), 0);
	assert_int_equal(id, alice);
	assert_int_equal(store_agent_id_by_name(f->st, "nobody", &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(store_agent_name(f->st, bob, name, sizeof name), 1);
	assert_string_equal(name, "zed");
	assert_int_equal(store_agent_name(f->st, 999, name, sizeof name), 0);
	assert_string_equal(name, "agent 999");

	assert_int_equal(store_agent_each(f->st, on_agent, &ns), 0);
	assert_int_equal(ns.n, 2);
	assert_string_equal(ns.name[0], "alice");
	assert_string_equal(ns.role[0], "admin");
	assert_string_equal(ns.name[1], "zed");
	assert_string_equal(ns.role[1], "agent");
	assert_int_not_equal(store_agent_each(f->st, on_agent_stop, &calls),
	    0);
	assert_int_equal(calls, 1);

	begin(f);
	assert_int_equal(store_agent_revoke(f->st, "alice", NOW + 9, &cause),
	    0);
	assert_int_equal(store_agent_revoke(f->st, "alice", NOW + 10, &cause),
	    -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(store_agent_revoke(f->st, "nobody", NOW, &cause), -1);
	assert_non_null(cause);
	free(cause);
	commit(f);
	assert_int_equal(store_agent_by_token_hash(f->st, h1, &a), 1);
	assert_int_equal(a.revoked, 1);
	assert_int_equal(store_agent_id_by_name(f->st, "alice", &id), 0);
	assert_int_equal(id, 0);
	e = store_entity(f->st, STORE_AGENT, alice);
	assert_str(e, "name", "alice");
	assert_str(e, "role", "admin");
	assert_int_equal(num(e, "created_at"), NOW);
	assert_int_equal(num(e, "revoked_at"), NOW + 9);
	cJSON_Delete(e);
	e = store_entity(f->st, STORE_AGENT, bob);
	assert_true(is_null(e, "revoked_at"));
	cJSON_Delete(e);
}

static void
store_agent_add__a_name_taken_leaves_the_transaction_usable(void **state)
{
	struct fixture *f = *state;
	unsigned char h1[32], h2[32], h3[32];
	char *cause = NULL;
	int64_t id = 0, other = 0;

	memset(h1, 1, sizeof h1);
	memset(h2, 2, sizeof h2);
	memset(h3, 3, sizeof h3);
	begin(f);
	assert_int_equal(store_agent_add(f->st, "alice", "agent", h1, NOW, &id,
	    &cause), 0);
	commit(f);
	/* The API answers 409 inside a group of writes, and the others of
	 * the group commit. */
	begin(f);
	contact(f, f->number, "111");
	assert_int_equal(store_agent_add(f->st, "alice", "agent", h2, NOW,
	    &other, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(store_agent_add(f->st, "bob", "agent", h3, NOW,
	    &other, &cause), 0);
	commit(f);
	assert_int_equal(count(f, "agents"), 2);
	assert_int_equal(count(f, "contacts"), 1);
}

/* -- the read path --------------------------------------------------------- */

/* store_entity_text writes what store_entity parses, for every kind. */
static void
check_entity_text(struct fixture *f, const char *kind, int64_t id)
{
	cJSON *e = store_entity(f->st, kind, id), *t, *inner;
	struct buf b;
	struct jw w;

	if (e == NULL)
		fail_msg("no %s %lld", kind, (long long)id);
	assert_str(e, "kind", kind);
	assert_int_equal(num(e, "id"), id);

	buf_init(&b);
	jw_init(&w, &b);
	assert_int_equal(store_entity_text(f->st, kind, id, &w, NULL), 0);
	t = cJSON_ParseWithLength(b.data, b.len);
	assert_non_null(t);
	assert_true(cJSON_Compare(t, e, 1));
	cJSON_Delete(t);

	/* As a member of an object. */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_object(&w, NULL);
	assert_int_equal(store_entity_text(f->st, kind, id, &w, "e"), 0);
	jw_object_end(&w);
	t = cJSON_ParseWithLength(b.data, b.len);
	assert_non_null(t);
	inner = cJSON_GetObjectItemCaseSensitive(t, "e");
	assert_true(cJSON_Compare(inner, e, 1));
	cJSON_Delete(t);
	buf_free(&b);
	cJSON_Delete(e);

	assert_null(store_entity(f->st, kind, id + 1000));
}

static void
store_entity__every_kind_as_tree_and_text(void **state)
{
	struct fixture *f = *state;
	cJSON *d = cJSON_Parse("{\"from\":\"open\"}");
	struct store_template t = { .waba_id = "waba1", .template_id = "T1",
		.name = "welcome", .status = "APPROVED" };
	struct store_history h;
	struct store_order o;
	unsigned char hash[32] = { 9 };
	int64_t k, conv, msg, order, note, agent, tpl, hist, label = 0,
	    canned = 0;
	char *cause = NULL;
	int taken;
	struct buf b;
	struct jw w;

	begin(f);
	conv = customer(f, "111", &k);
	msg = inbound(f, conv, "w1", NOW, "hi \"there\"\n\xc3\xa9");
	o = (struct store_order){ .number_id = f->number, .contact_id = k,
		.conversation_id = conv, .items = d, .created_at = NOW };
	assert_int_equal(store_order_add(f->st, &o, &order), 0);
	assert_int_equal(store_note_add(f->st, conv, 3, "a note", NOW, &note),
	    0);
	assert_int_equal(store_agent_add(f->st, "ann", "agent", hash, NOW,
	    &agent, &cause), 0);
	assert_int_equal(store_template_upsert(f->st, &t, NOW, &tpl), 0);
	h = (struct store_history){ .conversation_id = conv, .agent_id = agent,
		.action = "status", .details = d, .text = "ann resolved it",
		.now = NOW };
	assert_int_equal(store_history_add(f->st, &h, &hist), 0);
	assert_int_equal(store_label_put(f->st, &label, "VIP", "red", NOW,
	    &taken), 0);
	assert_int_equal(store_canned_put(f->st, &canned, "/hi", "Hello!",
	    agent, NOW, &taken), 0);
	commit(f);

	check_entity_text(f, STORE_CONVERSATION, conv);
	check_entity_text(f, STORE_MESSAGE, msg);
	check_entity_text(f, STORE_CONTACT, k);
	check_entity_text(f, STORE_ORDER, order);
	check_entity_text(f, STORE_NOTE, note);
	check_entity_text(f, STORE_AGENT, agent);
	check_entity_text(f, STORE_TEMPLATE, tpl);
	check_entity_text(f, STORE_HISTORY, hist);
	check_entity_text(f, STORE_LABEL, label);
	check_entity_text(f, STORE_CANNED, canned);

	/* Text survives the round trip byte for byte. */
	cJSON *e = store_entity(f->st, STORE_MESSAGE, msg);
	assert_str(e, "text", "hi \"there\"\n\xc3\xa9");
	cJSON_Delete(e);

	assert_null(store_entity(f->st, "nosuchkind", conv));
	buf_init(&b);
	jw_init(&w, &b);
	assert_int_equal(store_entity_text(f->st, "nosuchkind", conv, &w,
	    NULL), -1);
	assert_int_equal(store_entity_text(f->st, STORE_MESSAGE, msg + 1000, &w,
	    NULL), -1);
	buf_free(&b);
	cJSON_Delete(d);
}

static void
store_set__writes_settable_columns_and_stamps(void **state)
{
	struct fixture *f = *state;
	int64_t k, conv, s1, s2;
	struct store_value none = { 0 };
	cJSON *e;

	begin(f);
	conv = customer(f, "111", &k);
	commit(f);
	assert_int_equal(change_of(f, STORE_CONTACT, k, &s1, NULL), 1);
	begin(f);
	set_text(f, STORE_CONVERSATION, conv, "status", "pending");
	set_int(f, STORE_CONVERSATION, conv, "assignee_id", 4);
	set_json(f, STORE_CONVERSATION, conv, "labels", "[\"a\",\"b\"]");
	set_json(f, STORE_CONVERSATION, conv, "read_by", "{\"4\":12}");
	set_text(f, STORE_CONTACT, k, "display_name", "Sheena B");
	set_json(f, STORE_CONTACT, k, "attributes", "{\"vip\":true}");
	commit(f);
	assert_int_equal(change_of(f, STORE_CONTACT, k, &s2, NULL), 1);
	assert_true(s2 > s1);
	e = store_entity(f->st, STORE_CONVERSATION, conv);
	assert_str(e, "status", "pending");
	assert_int_equal(num(e, "assignee_id"), 4);
	assert_json(e, "labels", "[\"a\",\"b\"]");
	assert_json(e, "read_by", "{\"4\":12}");
	cJSON_Delete(e);
	e = store_entity(f->st, STORE_CONTACT, k);
	assert_str(e, "display_name", "Sheena B");
	assert_json(e, "attributes", "{\"vip\":true}");
	cJSON_Delete(e);

	/* All unset: NULL. */
	begin(f);
	assert_int_equal(store_set(f->st, STORE_CONVERSATION, conv,
	    "assignee_id", &none), 0);
	assert_int_equal(store_set(f->st, STORE_CONVERSATION, conv, "labels",
	    &none), 0);
	commit(f);
	e = store_entity(f->st, STORE_CONVERSATION, conv);
	assert_true(is_null(e, "assignee_id"));
	assert_json(e, "labels", "[]");
	cJSON_Delete(e);
}

/* -- outbound -------------------------------------------------------------- */

static void
store_outbound_due__in_order_per_conversation(void **state)
{
	struct fixture *f = *state;
	struct store_send s[8];
	int64_t c1, c2, o1, o2, o3, depth = -1;
	size_t n = 99;
	cJSON *e;

	begin(f);
	c1 = customer(f, "111", NULL);
	c2 = customer(f, "222", NULL);
	o1 = outbound(f, c1, "cl-1");
	o2 = outbound(f, c1, "cl-2");
	o3 = outbound(f, c2, "cl-3");
	commit(f);
	assert_true(o1 < o2 && o2 < o3);
	assert_int_equal(store_outbox_depth(f->st, &depth), 0);
	assert_int_equal(depth, 3);

	e = store_entity(f->st, STORE_MESSAGE, o1);
	assert_str(e, "direction", "out");
	assert_str(e, "status", "queued");
	assert_str(e, "client_id", "cl-1");
	assert_int_equal(num(e, "agent_id"), 7);
	assert_true(is_null(e, "wamid"));
	cJSON_Delete(e);
	e = store_entity(f->st, STORE_CONVERSATION, c1);
	assert_int_equal(num(e, "last_message_id"), o2);
	cJSON_Delete(e);

	/* o2 waits behind o1, of the same conversation. */
	assert_int_equal(store_outbound_due(f->st, NOW, 0, s, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(s[0].id, o1);
	assert_int_equal(s[1].id, o3);
	assert_int_equal(s[0].number_id, f->number);
	assert_string_equal(s[0].phone_number_id, PNID);
	assert_string_equal(s[0].wa_id, "111");
	assert_string_equal(s[0].user_id, "");
	assert_string_equal(s[0].type, "text");
	assert_non_null(s[0].request);
	assert_non_null(strstr(s[0].request, "hello"));
	assert_int_equal(s[0].attempts, 0);
	assert_int_equal(s[1].last_inbound_at, 0);
	for (size_t i = 0; i < n; i++)
		store_send_free(&s[i]);
	assert_int_equal(store_outbound_due(f->st, NOW, o1, s, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].id, o3);
	store_send_free(&s[0]);
	assert_int_equal(store_outbound_due(f->st, NOW, 0, s, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].id, o1);
	store_send_free(&s[0]);

	/* A backoff holds o1, and o2 behind it. */
	begin(f);
	assert_int_equal(store_outbound_mark(f->st, o1, "queued", NOW + 100, 0,
	    1, NULL), 0);
	commit(f);
	assert_int_equal(store_outbound_due(f->st, NOW, 0, s, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].id, o3);
	store_send_free(&s[0]);
	assert_int_equal(store_outbound_due(f->st, NOW + 100, 0, s, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(s[0].id, o1);
	assert_int_equal(s[0].attempts, 1);
	for (size_t i = 0; i < n; i++)
		store_send_free(&s[i]);
}

static void
store_outbound_mark__sending_stale_and_accepted(void **state)
{
	struct fixture *f = *state;
	cJSON *fail = cJSON_Parse("{\"code\":130429}");
	int64_t c1, o1, o2, ids[4], depth, s1, s2;
	struct store_send s[4];
	size_t n = 9;
	cJSON *e;

	begin(f);
	c1 = customer(f, "111", NULL);
	o1 = outbound(f, c1, NULL);
	o2 = outbound(f, c1, NULL);
	assert_int_equal(store_outbound_mark(f->st, o1, "sending", 0, NOW, 1,
	    fail), 0);
	commit(f);
	e = store_entity(f->st, STORE_MESSAGE, o1);
	assert_str(e, "status", "sending");
	assert_json(e, "failure", "{\"code\":130429}");
	cJSON_Delete(e);
	/* Sending since NOW: stale only for a later cut. */
	assert_int_equal(store_outbound_stale(f->st, NOW, ids, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_outbound_stale(f->st, NOW + 1, ids, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], o1);
	/* o2 is not due while o1 is on its way (and not queued). */
	assert_int_equal(store_outbound_due(f->st, NOW, 0, s, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].id, o2);
	store_send_free(&s[0]);
	assert_int_equal(store_outbox_depth(f->st, &depth), 0);
	assert_int_equal(depth, 2);

	begin(f);
	assert_int_equal(store_outbound_accepted(f->st, o1, f->number,
	    "wamid.o1"), 0);
	commit(f);
	assert_int_equal(change_of(f, STORE_MESSAGE, o1, &s1, NULL), 1);
	e = store_entity(f->st, STORE_MESSAGE, o1);
	assert_str(e, "status", "sent");
	assert_str(e, "wamid", "wamid.o1");
	assert_true(is_null(e, "failure"));
	cJSON_Delete(e);
	assert_int_equal(store_outbox_depth(f->st, &depth), 0);
	assert_int_equal(depth, 1);

	/* Marks after the acceptance change nothing, stamp nothing. */
	begin(f);
	assert_int_equal(store_outbound_mark(f->st, o1, "failed", 0, 0, 1,
	    fail), 0);
	commit(f);
	assert_int_equal(change_of(f, STORE_MESSAGE, o1, &s2, NULL), 1);
	assert_int_equal(s2, s1);
	e = store_entity(f->st, STORE_MESSAGE, o1);
	assert_str(e, "status", "sent");
	cJSON_Delete(e);
	cJSON_Delete(fail);
}

/* The sender settles what it finds stale; a store it cannot read must
 * not look like one with nothing stale in it. */
static void
store_outbound_stale__a_failed_read_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct store *reader = NULL;
	char *cause = NULL;
	int64_t conv, o, ids[4];
	size_t n = 9;

	begin(f);
	conv = customer(f, "111", NULL);
	o = outbound(f, conv, NULL);
	assert_int_equal(store_outbound_mark(f->st, o, "sending", 0, NOW, 1,
	    NULL), 0);
	commit(f);
	if (store_open_reader(f->url, &reader, &cause) != 0)
		fail_msg("store_open_reader: %s", cause);
	assert_int_equal(store_outbound_stale(reader, NOW + 1, ids, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], o);

	assert_int_equal(store_scrub(f->url, &cause), 0);
	testutil_store_break(f->url);
	n = 9;
	assert_int_equal(store_outbound_stale(reader, NOW + 1, ids, 4, &n),
	    -1);
	assert_int_equal(n, 0);
	store_close(reader);
}

static void
store_outbound_accepted__folds_in_an_early_stand_in(void **state)
{
	struct fixture *f = *state;
	struct store_message m;
	int64_t c1, o1, standin = 0, found = 0;
	int existed;
	cJSON *e;

	begin(f);
	c1 = customer(f, "111", NULL);
	o1 = outbound(f, c1, NULL);
	/* The status webhook came before Meta's answer. */
	m = (struct store_message){ .number_id = f->number,
		.conversation_id = c1, .wamid = "wamid.o1", .direction = "out",
		.type = "external", .ts = NOW, .received_at = NOW,
		.status = "delivered", .status_at = NOW };
	assert_int_equal(store_message_add(f->st, &m, &standin, &existed), 0);
	assert_int_equal(store_outbound_accepted(f->st, o1, f->number,
	    "wamid.o1"), 0);
	commit(f);
	assert_null(store_entity(f->st, STORE_MESSAGE, standin));
	assert_tombstone(f, STORE_MESSAGE, standin);
	e = store_entity(f->st, STORE_MESSAGE, o1);
	assert_str(e, "wamid", "wamid.o1");
	assert_str(e, "status", "delivered");
	cJSON_Delete(e);
	assert_int_equal(store_message_find(f->st, f->number, "wamid.o1",
	    &found, NULL), 0);
	assert_int_equal(found, o1);
}

static void
store_message_claim_wamid__only_an_outbound_without_one(void **state)
{
	struct fixture *f = *state;
	int64_t c1, o1, in;

	begin(f);
	c1 = customer(f, "111", NULL);
	o1 = outbound(f, c1, NULL);
	in = message_full(f, c1, NULL, "in", "text", NOW, "x", NULL, NULL,
	    NULL);
	assert_int_equal(store_message_claim_wamid(f->st, f->number2, o1,
	    "wamid.x"), 0);
	assert_int_equal(store_message_claim_wamid(f->st, f->number, o1,
	    "wamid.x"), 1);
	assert_int_equal(store_message_claim_wamid(f->st, f->number, o1,
	    "wamid.y"), 0);
	assert_int_equal(store_message_claim_wamid(f->st, f->number, in,
	    "wamid.z"), 0);
	commit(f);
	int64_t found = 0;
	assert_int_equal(store_message_find(f->st, f->number, "wamid.x",
	    &found, NULL), 0);
	assert_int_equal(found, o1);
}

/* -- read receipts --------------------------------------------------------- */

static void
store_read_receipt__coalesces_and_marks(void **state)
{
	struct fixture *f = *state;
	struct store_receipt r[4];
	int64_t conv, m1, m2, m3, q = -1;
	size_t n = 9;
	int queued = -1;

	begin(f);
	conv = customer(f, "111", NULL);
	/* Nothing inbound yet: nothing owed. */
	assert_int_equal(store_read_receipt_queue(f->st, conv, 0, NOW,
	    &queued), 0);
	assert_int_equal(queued, 0);
	m1 = inbound(f, conv, "wamid.1", NOW + 10, "a");
	m2 = inbound(f, conv, "wamid.2", NOW + 20, "b");
	message_full(f, conv, "wamid.r", "in", "reaction", NOW + 30, NULL,
	    "wamid.2", NULL, "{\"reaction\":{\"emoji\":\"A\"}}");
	message_full(f, conv, "wamid.o", "out", "text", NOW + 40, "c", NULL,
	    NULL, NULL);
	assert_int_equal(store_read_receipt_queue(f->st, conv, 0, NOW,
	    &queued), 0);
	assert_int_equal(queued, 1);
	/* As new as what is owed: nothing more. */
	assert_int_equal(store_read_receipt_queue(f->st, conv, m1, NOW,
	    &queued), 0);
	assert_int_equal(queued, 0);
	assert_int_equal(store_read_receipt_queue(f->st, conv, 0, NOW,
	    &queued), 0);
	assert_int_equal(queued, 0);
	commit(f);
	assert_int_equal(store_read_receipts_queued(f->st, &q), 0);
	assert_int_equal(q, 1);
	assert_int_equal(store_read_receipts_due(f->st, NOW, 0, r, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].conversation_id, conv);
	assert_int_equal(r[0].number_id, f->number);
	assert_int_equal(r[0].message_id, m2);
	assert_string_equal(r[0].wamid, "wamid.2");
	assert_string_equal(r[0].phone_number_id, PNID);
	assert_int_equal(r[0].attempts, 0);
	assert_int_equal(store_read_receipts_due(f->st, NOW, conv, r, 4, &n),
	    0);
	assert_int_equal(n, 0);

	begin(f);
	assert_int_equal(store_read_receipt_mark(f->st, conv, m2, "sent", 1, 0,
	    NOW), 0);
	commit(f);
	assert_int_equal(store_read_receipts_queued(f->st, &q), 0);
	assert_int_equal(q, 0);
	assert_int_equal(store_read_receipts_due(f->st, NOW, 0, r, 4, &n), 0);
	assert_int_equal(n, 0);

	begin(f);
	/* Sent already: an older read is not marked again. */
	assert_int_equal(store_read_receipt_queue(f->st, conv, m1, NOW,
	    &queued), 0);
	assert_int_equal(queued, 0);
	m3 = inbound(f, conv, "wamid.3", NOW + 50, "d");
	assert_int_equal(store_read_receipt_queue(f->st, conv, 0, NOW,
	    &queued), 0);
	assert_int_equal(queued, 1);
	/* The sender's answer about the old receipt changes nothing. */
	assert_int_equal(store_read_receipt_mark(f->st, conv, m2, "failed", 1,
	    0, NOW), 0);
	assert_int_equal(store_read_receipt_mark(f->st, conv, m3, "queued", 1,
	    NOW + 60, NOW), 0);
	commit(f);
	assert_int_equal(store_read_receipts_due(f->st, NOW, 0, r, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_read_receipts_due(f->st, NOW + 60, 0, r, 4, &n),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].message_id, m3);
	assert_int_equal(r[0].attempts, 1);
}

/* -- media ----------------------------------------------------------------- */

static void
store_media__add_get_meta_id_and_referenced(void **state)
{
	struct fixture *f = *state;
	struct store_media m = { .id = "MEDIA1", .direction = "in",
		.mime_type = "image/jpeg", .sha256 = "ab12", .size = 1234,
		.created_at = NOW };
	struct store_media_ref ref;
	int64_t conv;

	begin(f);
	assert_int_equal(store_media_add(f->st, &m), 0);
	snprintf(m.mime_type, sizeof m.mime_type, "text/plain");
	m.size = 1;
	assert_int_equal(store_media_add(f->st, &m), 0);
	m = (struct store_media){ .id = "up-1", .direction = "out",
		.mime_type = "application/pdf", .sha256 = "cd34", .size = 9,
		.agent_id = 3, .created_at = NOW + 1 };
	assert_int_equal(store_media_add(f->st, &m), 0);
	assert_int_equal(store_media_set_meta_id(f->st, "up-1", f->number,
	    "META9", NOW + 2), 0);
	conv = customer(f, "111", NULL);
	message_full(f, conv, "w1", "in", "image", NOW, NULL, NULL,
	    "{\"id\":\"MEDIA1\",\"mime_type\":\"image/jpeg\",\"sha256\":"
	    "\"xyz=\"}", NULL);
	message_full(f, conv, "w2", "in", "document", NOW, NULL, NULL,
	    "{\"id\":\"BARE\"}", NULL);
	commit(f);

	memset(&m, 0x55, sizeof m);
	assert_int_equal(store_media_get(f->st, "MEDIA1", &m), 1);
	assert_string_equal(m.id, "MEDIA1");
	assert_string_equal(m.direction, "in");
	/* The first row stays. */
	assert_string_equal(m.mime_type, "image/jpeg");
	assert_string_equal(m.sha256, "ab12");
	assert_int_equal(m.size, 1234);
	assert_int_equal(m.agent_id, 0);
	assert_string_equal(m.meta_id, "");
	assert_int_equal(m.meta_number_id, 0);
	assert_int_equal(m.created_at, NOW);
	assert_int_equal(store_media_get(f->st, "up-1", &m), 1);
	assert_string_equal(m.direction, "out");
	assert_int_equal(m.agent_id, 3);
	assert_string_equal(m.meta_id, "META9");
	assert_int_equal(m.meta_number_id, f->number);
	assert_int_equal(m.meta_uploaded_at, NOW + 2);
	assert_int_equal(store_media_get(f->st, "nope", &m), 0);
	assert_int_equal(count(f, "media"), 2);

	assert_int_equal(store_media_referenced(f->st, "MEDIA1", &ref), 1);
	assert_string_equal(ref.phone_number_id, PNID);
	assert_string_equal(ref.mime_type, "image/jpeg");
	assert_string_equal(ref.sha256, "xyz=");
	assert_int_equal(store_media_referenced(f->st, "BARE", &ref), 1);
	assert_string_equal(ref.mime_type, "");
	assert_string_equal(ref.sha256, "");
	assert_int_equal(store_media_referenced(f->st, "up-1", &ref), 0);
}

/* -- the shared inbox ------------------------------------------------------ */

static void
store_history_add__is_an_entity(void **state)
{
	struct fixture *f = *state;
	cJSON *d = cJSON_Parse("{\"from\":\"open\",\"to\":\"resolved\"}");
	struct store_history h;
	int64_t conv, id = 0, id2 = 0;
	cJSON *e;

	begin(f);
	conv = customer(f, "111", NULL);
	h = (struct store_history){ .conversation_id = conv, .agent_id = 4,
		.action = "status", .details = d, .text = "resolved",
		.now = NOW };
	assert_int_equal(store_history_add(f->st, &h, &id), 0);
	h = (struct store_history){ .conversation_id = conv,
		.action = "status", .reason = "snooze ended",
		.text = "reopened", .now = NOW + 1 };
	assert_int_equal(store_history_add(f->st, &h, &id2), 0);
	commit(f);
	assert_true(id2 > id);
	assert_int_equal(change_of(f, STORE_HISTORY, id, NULL, NULL), 1);
	e = store_entity(f->st, STORE_HISTORY, id);
	assert_int_equal(num(e, "conversation_id"), conv);
	assert_int_equal(num(e, "agent_id"), 4);
	assert_str(e, "action", "status");
	assert_true(is_null(e, "reason"));
	assert_json(e, "details", "{\"from\":\"open\",\"to\":\"resolved\"}");
	assert_str(e, "text", "resolved");
	assert_int_equal(num(e, "created_at"), NOW);
	cJSON_Delete(e);
	e = store_entity(f->st, STORE_HISTORY, id2);
	assert_true(is_null(e, "agent_id"));
	assert_str(e, "reason", "snooze ended");
	assert_json(e, "details", "{}");
	cJSON_Delete(e);
	cJSON_Delete(d);
}

static void
store_label__names_unique_whatever_their_case(void **state)
{
	struct fixture *f = *state;
	int64_t vip = 0, other = 0, id = 0, c1, c2, *ids = NULL;
	char *canonical = NULL;
	size_t n = 9;
	int taken = -1;
	cJSON *e;

	begin(f);
	assert_int_equal(store_label_put(f->st, &vip, "Urgent", "red", NOW,
	    &taken), 0);
	assert_int_equal(taken, 0);
	assert_true(vip > 0);
	assert_int_equal(store_label_put(f->st, &other, "URGENT", NULL, NOW,
	    &taken), 0);
	assert_int_equal(taken, 1);
	assert_int_equal(other, 0);
	/* The transaction goes on after a name taken. */
	assert_int_equal(store_label_put(f->st, &other, "later", NULL, NOW,
	    &taken), 0);
	assert_int_equal(taken, 0);
	assert_true(other > 0);
	commit(f);

	assert_int_equal(store_label_find(f->st, "uRGENT", &id, &canonical), 1);
	assert_int_equal(id, vip);
	assert_string_equal(canonical, "Urgent");
	free(canonical);
	assert_int_equal(store_label_find(f->st, "nope", &id, NULL), 0);
	assert_int_equal(id, 0);

	begin(f);
	/* Renamed: its own name in another case is not taken. */
	assert_int_equal(store_label_put(f->st, &vip, "urgent", "blue",
	    NOW + 1, &taken), 0);
	assert_int_equal(taken, 0);
	assert_int_equal(store_label_put(f->st, &other, "URGENT", NULL, NOW + 1,
	    &taken), 0);
	assert_int_equal(taken, 1);
	commit(f);
	e = store_entity(f->st, STORE_LABEL, vip);
	assert_str(e, "name", "urgent");
	assert_str(e, "color", "blue");
	assert_int_equal(num(e, "created_at"), NOW);
	assert_int_equal(num(e, "updated_at"), NOW + 1);
	cJSON_Delete(e);
	e = store_entity(f->st, STORE_LABEL, other);
	assert_str(e, "name", "later");
	cJSON_Delete(e);

	begin(f);
	c1 = customer(f, "111", NULL);
	c2 = customer(f, "222", NULL);
	customer(f, "333", NULL);
	set_json(f, STORE_CONVERSATION, c1, "labels", "[\"x\",\"Urgent\"]");
	set_json(f, STORE_CONVERSATION, c2, "labels", "[\"urgent\"]");
	assert_int_equal(store_label_delete(f->st, other), 1);
	assert_int_equal(store_label_delete(f->st, other), 0);
	commit(f);
	assert_tombstone(f, STORE_LABEL, other);
	assert_null(store_entity(f->st, STORE_LABEL, other));
	assert_int_equal(store_conversations_labelled(f->st, "URGENT", &ids,
	    &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], c1);
	assert_int_equal(ids[1], c2);
	free(ids);
	assert_int_equal(store_conversations_labelled(f->st, "none", &ids, &n),
	    0);
	assert_int_equal(n, 0);
	free(ids);
}

static void
store_canned__shortcuts_unique(void **state)
{
	struct fixture *f = *state;
	int64_t id = 0, other = 0;
	int taken = -1;
	cJSON *e;

	begin(f);
	assert_int_equal(store_canned_put(f->st, &id, "/hi", "Hello!", 3, NOW,
	    &taken), 0);
	assert_int_equal(taken, 0);
	assert_int_equal(store_canned_put(f->st, &other, "/hi", "Again", 3,
	    NOW, &taken), 0);
	assert_int_equal(taken, 1);
	assert_int_equal(other, 0);
	assert_int_equal(store_canned_put(f->st, &id, "/hello", "Hello there",
	    5, NOW + 1, &taken), 0);
	assert_int_equal(taken, 0);
	commit(f);
	e = store_entity(f->st, STORE_CANNED, id);
	assert_str(e, "kind", STORE_CANNED);
	assert_str(e, "shortcut", "/hello");
	assert_str(e, "text", "Hello there");
	/* The author stays who wrote it first. */
	assert_int_equal(num(e, "agent_id"), 3);
	assert_int_equal(num(e, "created_at"), NOW);
	assert_int_equal(num(e, "updated_at"), NOW + 1);
	cJSON_Delete(e);

	begin(f);
	assert_int_equal(store_canned_delete(f->st, id), 1);
	assert_int_equal(store_canned_delete(f->st, id), 0);
	commit(f);
	assert_null(store_entity(f->st, STORE_CANNED, id));
	assert_tombstone(f, STORE_CANNED, id);
}

static void
store_note__add_mentions_delete(void **state)
{
	struct fixture *f = *state;
	cJSON *mentions = cJSON_Parse("[4,5]");
	int64_t conv, id = 0, agent = 0;
	cJSON *e;

	begin(f);
	conv = customer(f, "111", NULL);
	assert_int_equal(store_note_add(f->st, conv, 3, "call back", NOW, &id),
	    0);
	commit(f);
	e = store_entity(f->st, STORE_NOTE, id);
	assert_int_equal(num(e, "conversation_id"), conv);
	assert_int_equal(num(e, "agent_id"), 3);
	assert_str(e, "body", "call back");
	assert_int_equal(num(e, "created_at"), NOW);
	assert_json(e, "mentions", "[]");
	cJSON_Delete(e);

	begin(f);
	assert_int_equal(store_note_set_mentions(f->st, id, mentions), 0);
	commit(f);
	e = store_entity(f->st, STORE_NOTE, id);
	assert_json(e, "mentions", "[4,5]");
	cJSON_Delete(e);

	begin(f);
	assert_int_equal(store_note_delete(f->st, id, &agent), 1);
	assert_int_equal(agent, 3);
	assert_int_equal(store_note_delete(f->st, id, &agent), 0);
	commit(f);
	assert_null(store_entity(f->st, STORE_NOTE, id));
	assert_tombstone(f, STORE_NOTE, id);
	cJSON_Delete(mentions);
}

static void
store_snooze__next_and_due(void **state)
{
	struct fixture *f = *state;
	int64_t c1, c2, c3, until = -1, ids[4], snoozed, assignee;
	char status[16];
	size_t n = 9;

	assert_int_equal(store_snooze_next(f->st, &until), 0);
	assert_int_equal(until, 0);
	begin(f);
	c1 = customer(f, "111", NULL);
	c2 = customer(f, "222", NULL);
	c3 = customer(f, "333", NULL);
	set_text(f, STORE_CONVERSATION, c1, "status", "snoozed");
	set_int(f, STORE_CONVERSATION, c1, "snoozed_until", NOW + 500);
	set_text(f, STORE_CONVERSATION, c2, "status", "snoozed");
	set_int(f, STORE_CONVERSATION, c2, "snoozed_until", NOW + 300);
	/* Not snoozed: its snoozed_until means nothing. */
	set_int(f, STORE_CONVERSATION, c3, "snoozed_until", NOW + 100);
	set_int(f, STORE_CONVERSATION, c3, "assignee_id", 8);
	commit(f);

	assert_int_equal(store_snooze_next(f->st, &until), 0);
	assert_int_equal(until, NOW + 300);
	assert_int_equal(store_snoozes_due(f->st, NOW + 299, ids, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_snoozes_due(f->st, NOW + 400, ids, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], c2);
	assert_int_equal(store_snoozes_due(f->st, NOW + 500, ids, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], c2);
	assert_int_equal(ids[1], c1);
	assert_int_equal(store_snoozes_due(f->st, NOW + 500, ids, 1, &n), 0);
	assert_int_equal(n, 1);

	assert_int_equal(store_conversation_state(f->st, c1, status,
	    sizeof status, &snoozed, &assignee), 1);
	assert_string_equal(status, "snoozed");
	assert_int_equal(snoozed, NOW + 500);
	assert_int_equal(assignee, 0);
	assert_int_equal(store_conversation_state(f->st, c3, status,
	    sizeof status, &snoozed, &assignee), 1);
	assert_string_equal(status, "open");
	assert_int_equal(assignee, 8);
	assert_int_equal(store_conversation_state(f->st, c3 + 100, status,
	    sizeof status, &snoozed, &assignee), 0);
}

static void
store_meta_int__absent_is_zero_then_set(void **state)
{
	struct fixture *f = *state;
	int64_t v = -1;

	assert_int_equal(store_meta_int(f->st, "round_robin_last", &v), 0);
	assert_int_equal(v, 0);
	begin(f);
	assert_int_equal(store_meta_set_int(f->st, "round_robin_last", 42), 0);
	commit(f);
	assert_int_equal(store_meta_int(f->st, "round_robin_last", &v), 0);
	assert_int_equal(v, 42);
	begin(f);
	assert_int_equal(store_meta_set_int(f->st, "round_robin_last",
	    INT64_C(1) << 40), 0);
	commit(f);
	assert_int_equal(store_meta_int(f->st, "round_robin_last", &v), 0);
	assert_int_equal(v, INT64_C(1) << 40);
}

/* -- idempotency ----------------------------------------------------------- */

static void
store_idempotency__put_get_expire(void **state)
{
	struct fixture *f = *state;
	unsigned char h[32], got[32];
	char *resp = NULL;
	int status = 0;
	int64_t n = -1;

	memset(h, 0xab, sizeof h);
	begin(f);
	assert_int_equal(store_idempotency_put(f->st, 1, "k1", h, 201,
	    "{\"id\":5}", 100), 0);
	assert_int_equal(store_idempotency_put(f->st, 1, "k2", h, 200, "{}",
	    200), 0);
	commit(f);
	memset(got, 0, sizeof got);
	assert_int_equal(store_idempotency_get(f->st, 1, "k1", got, &status,
	    &resp), 1);
	assert_int_equal(status, 201);
	assert_string_equal(resp, "{\"id\":5}");
	assert_memory_equal(got, h, 32);
	free(resp);
	/* Keys are per agent. */
	assert_int_equal(store_idempotency_get(f->st, 2, "k1", got, &status,
	    &resp), 0);
	assert_null(resp);

	begin(f);
	assert_int_equal(store_idempotency_expire(f->st, 150, &n), 0);
	commit(f);
	assert_int_equal(n, 1);
	assert_int_equal(store_idempotency_get(f->st, 1, "k1", got, &status,
	    &resp), 0);
	assert_int_equal(store_idempotency_get(f->st, 1, "k2", got, &status,
	    &resp), 1);
	free(resp);
}

/* -- erasure --------------------------------------------------------------- */

/* A customer with everything a store can hold about them. */
struct everything {
	int64_t contact, conv, in, out, note, order, other_contact,
	    other_conv, other_msg;
};

static void
everything(struct fixture *f, struct everything *x)
{
	struct store_media m = { .direction = "in", .mime_type = "image/png",
		.sha256 = "00", .size = 1, .created_at = NOW };
	struct store_order o;
	struct store_contact c = { .number_id = f->number, .wa_id = "111",
		.user_id = "US.111" };
	cJSON *ev = cJSON_Parse("{\"wa_id\":\"111\"}");
	cJSON *ev2 = cJSON_Parse("{\"wa_id\":\"1110\"}");
	cJSON *items = cJSON_Parse("[]");
	unsigned char h[32] = { 1 };
	const char *body = "{\"contacts\":[{\"wa_id\":\"111\"}]}";
	const char *body2 = "{\"contacts\":[{\"wa_id\":\"1110\"}]}";
	char *resp;
	int64_t wh, note2;
	int dup, queued;

	begin(f);
	assert_int_equal(store_contact_upsert(f->st, &c, NOW, &x->contact), 0);
	x->conv = conversation(f, f->number, x->contact);
	x->in = message_full(f, x->conv, "wamid.in", "in", "image", NOW, NULL,
	    NULL, "{\"id\":\"OWN\"}", NULL);
	message_full(f, x->conv, "wamid.in2", "in", "image", NOW + 1, NULL,
	    NULL, "{\"id\":\"SHARED\"}", NULL);
	x->out = message_full(f, x->conv, "wamid.out", "out", "text", NOW + 2,
	    "reply", NULL, NULL, NULL);
	assert_int_equal(store_status_add(f->st, f->number, "wamid.out",
	    "sent", NOW, &dup), 0);
	assert_int_equal(store_status_add(f->st, f->number, "wamid.out",
	    "read", NOW + 3, &dup), 0);
	assert_int_equal(store_note_add(f->st, x->conv, 3, "vip", NOW,
	    &x->note), 0);
	o = (struct store_order){ .number_id = f->number,
		.contact_id = x->contact, .conversation_id = x->conv,
		.items = items, .created_at = NOW };
	assert_int_equal(store_order_add(f->st, &o, &x->order), 0);
	assert_int_equal(store_read_receipt_queue(f->st, x->conv, 0, NOW,
	    &queued), 0);
	assert_int_equal(queued, 1);
	resp = xasprintf("{\"kind\":\"note\",\"id\":5,\"conversation_id\":"
	    "%lld}", (long long)x->conv);
	assert_int_equal(store_idempotency_put(f->st, 3, "k1", h, 201, resp,
	    NOW), 0);
	free(resp);
	assert_int_equal(store_webhook_add(f->st, body, strlen(body), NOW, &wh,
	    &dup), 0);
	assert_int_equal(store_event_add(f->st, wh, NOW, NULL, f->number,
	    "messages", "x", ev), 0);
	snprintf(m.id, sizeof m.id, "OWN");
	assert_int_equal(store_media_add(f->st, &m), 0);
	snprintf(m.id, sizeof m.id, "SHARED");
	assert_int_equal(store_media_add(f->st, &m), 0);

	/* Someone else, whose longer number contains the first one's, and
	 * who was sent the same picture. */
	x->other_contact = contact(f, f->number, "1110");
	x->other_conv = conversation(f, f->number, x->other_contact);
	x->other_msg = message_full(f, x->other_conv, "wamid.other", "in",
	    "image", NOW, NULL, NULL, "{\"id\":\"SHARED\"}", NULL);
	assert_int_equal(store_note_add(f->st, x->other_conv, 3, "other", NOW,
	    &note2), 0);
	assert_int_equal(store_webhook_add(f->st, body2, strlen(body2), NOW,
	    &wh, &dup), 0);
	assert_int_equal(store_event_add(f->st, wh, NOW, NULL, f->number,
	    "messages", "x", ev2), 0);
	commit(f);
	cJSON_Delete(ev);
	cJSON_Delete(ev2);
	cJSON_Delete(items);
}

static void
store_contact_erase__removes_everything_with_tombstones(void **state)
{
	struct fixture *f = *state;
	struct store_erased e = { 0 };
	struct everything x;
	struct store_media m;
	const char *body = "{\"contacts\":[{\"wa_id\":\"111\"}]}";
	unsigned char got[32];
	char *resp = NULL;
	int64_t wh, ids[4];
	size_t n;
	int dup, status;
	cJSON *j;

	everything(f, &x);
	begin(f);
	assert_int_equal(store_contact_erase(f->st, x.contact, &e), 1);
	commit(f);

	assert_int_equal(e.contacts, 1);
	assert_int_equal(e.conversations, 1);
	assert_int_equal(e.messages, 3);
	assert_int_equal(e.statuses, 2);
	assert_int_equal(e.notes, 1);
	assert_int_equal(e.orders, 1);
	assert_int_equal(e.receipts, 1);
	assert_int_equal(e.idempotency, 1);
	assert_int_equal(e.webhooks, 1);
	assert_int_equal(e.events, 1);
	/* Only the picture nobody else was sent. */
	assert_int_equal(e.media, 1);
	assert_int_equal(e.nmedia, 1);
	assert_string_equal(e.media_ids[0], "OWN");
	assert_int_equal(store_erased_rows(&e), 1 + 1 + 3 + 2 + 1 + 1 + 1 + 1 +
	    1 + 1 + 1);
	j = store_erased_json(&e);
	assert_int_equal(num(j, "messages"), 3);
	assert_int_equal(num(j, "read_receipts"), 1);
	cJSON_Delete(j);
	store_erased_free(&e);
	assert_null(e.media_ids);

	assert_int_equal(store_contact_exists(f->st, x.contact, NULL), 0);
	assert_null(store_entity(f->st, STORE_CONTACT, x.contact));
	assert_null(store_entity(f->st, STORE_CONVERSATION, x.conv));
	assert_null(store_entity(f->st, STORE_MESSAGE, x.in));
	assert_null(store_entity(f->st, STORE_NOTE, x.note));
	assert_null(store_entity(f->st, STORE_ORDER, x.order));
	assert_tombstone(f, STORE_CONTACT, x.contact);
	assert_tombstone(f, STORE_CONVERSATION, x.conv);
	assert_tombstone(f, STORE_MESSAGE, x.in);
	assert_tombstone(f, STORE_MESSAGE, x.out);
	assert_tombstone(f, STORE_NOTE, x.note);
	assert_tombstone(f, STORE_ORDER, x.order);
	assert_int_equal(store_media_get(f->st, "OWN", &m), 0);
	assert_int_equal(store_media_get(f->st, "SHARED", &m), 1);
	assert_int_equal(store_idempotency_get(f->st, 3, "k1", got, &status,
	    &resp), 0);
	assert_int_equal(store_contact_lookup(f->st, "US.111", ids, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(count(f, "statuses"), 0);
	assert_int_equal(count(f, "read_receipts"), 0);

	/* The other customer is untouched. */
	assert_int_equal(store_contact_exists(f->st, x.other_contact, NULL), 1);
	j = store_entity(f->st, STORE_MESSAGE, x.other_msg);
	assert_non_null(j);
	cJSON_Delete(j);
	assert_int_equal(count(f, "notes"), 1);
	assert_int_equal(count(f, "events"), 1);
	assert_int_equal(count(f, "webhooks"), 2);

	/* The emptied webhook row still makes a retry a duplicate. */
	begin(f);
	assert_int_equal(store_webhook_add(f->st, body, strlen(body), NOW + 9,
	    &wh, &dup), 0);
	assert_int_equal(dup, 1);
	assert_int_equal(store_contact_erase(f->st, x.contact, &e), 0);
	commit(f);
	store_erased_free(&e);
}

/* A history line repeats who handled the customer and how ("assigned to
 * bob"): it goes with the conversation, and clients that cached it learn
 * so through a tombstone, like every other kind erasure deletes. */
static void
store_contact_erase__history_goes_with_tombstones(void **state)
{
	struct fixture *f = *state;
	struct store_erased e = { 0 };
	struct store_history h;
	struct everything x;
	int64_t mine, mine2, other;
	int deleted = -1;
	cJSON *j;

	everything(f, &x);
	begin(f);
	h = (struct store_history){ .conversation_id = x.conv, .agent_id = 4,
		.action = "assign", .text = "assigned to bob", .now = NOW };
	assert_int_equal(store_history_add(f->st, &h, &mine), 0);
	h.action = "status";
	h.text = "resolved";
	assert_int_equal(store_history_add(f->st, &h, &mine2), 0);
	h.conversation_id = x.other_conv;
	assert_int_equal(store_history_add(f->st, &h, &other), 0);
	commit(f);

	begin(f);
	assert_int_equal(store_contact_erase(f->st, x.contact, &e), 1);
	commit(f);
	assert_int_equal(e.history, 2);
	j = store_erased_json(&e);
	assert_int_equal(num(j, "history"), 2);
	cJSON_Delete(j);
	store_erased_free(&e);
	assert_null(store_entity(f->st, STORE_HISTORY, mine));
	assert_null(store_entity(f->st, STORE_HISTORY, mine2));
	assert_tombstone(f, STORE_HISTORY, mine);
	assert_tombstone(f, STORE_HISTORY, mine2);
	assert_int_equal(count(f, "history"), 1);

	/* The other customer's line stays, live. */
	j = store_entity(f->st, STORE_HISTORY, other);
	assert_non_null(j);
	cJSON_Delete(j);
	assert_int_equal(change_of(f, STORE_HISTORY, other, NULL, &deleted),
	    1);
	assert_int_equal(deleted, 0);
}

static void
store_conversation_erase__keeps_the_contact(void **state)
{
	struct fixture *f = *state;
	struct store_erased e = { 0 };
	struct everything x;
	int64_t of = -1;

	everything(f, &x);
	begin(f);
	assert_int_equal(store_conversation_erase(f->st, x.conv, &e), 1);
	assert_int_equal(store_conversation_erase(f->st, x.conv, &e), 0);
	commit(f);
	assert_int_equal(e.contacts, 0);
	assert_int_equal(e.conversations, 1);
	assert_int_equal(e.messages, 3);
	assert_int_equal(e.notes, 1);
	assert_int_equal(e.orders, 1);
	assert_int_equal(e.receipts, 1);
	assert_int_equal(e.idempotency, 1);
	assert_int_equal(e.nmedia, 1);
	assert_string_equal(e.media_ids[0], "OWN");
	store_erased_free(&e);
	assert_int_equal(store_contact_exists(f->st, x.contact, NULL), 1);
	assert_null(store_entity(f->st, STORE_CONVERSATION, x.conv));
	assert_tombstone(f, STORE_CONVERSATION, x.conv);
	assert_tombstone(f, STORE_MESSAGE, x.out);
	assert_int_equal(store_conversation_of_contact(f->st, x.contact, &of),
	    0);
	assert_int_equal(of, 0);
	assert_int_equal(count(f, "conversations"), 1);
}

static void
store_contact_export__everything_held_about_them(void **state)
{
	struct fixture *f = *state;
	struct everything x;
	cJSON *doc, *convs, *c, *msgs, *m, *h;

	everything(f, &x);
	doc = store_contact_export(f->st, x.contact);
	assert_non_null(doc);
	c = cJSON_GetObjectItem(doc, "contact");
	assert_str(c, "wa_id", "111");
	convs = cJSON_GetObjectItem(doc, "conversations");
	assert_int_equal(cJSON_GetArraySize(convs), 1);
	c = cJSON_GetArrayItem(convs, 0);
	assert_int_equal(num(c, "id"), x.conv);
	msgs = cJSON_GetObjectItem(c, "messages");
	assert_int_equal(cJSON_GetArraySize(msgs), 3);
	/* In time order, each with every status reported. */
	m = cJSON_GetArrayItem(msgs, 2);
	assert_str(m, "wamid", "wamid.out");
	h = cJSON_GetObjectItem(m, "status_history");
	assert_int_equal(cJSON_GetArraySize(h), 2);
	assert_str(cJSON_GetArrayItem(h, 0), "status", "sent");
	assert_str(cJSON_GetArrayItem(h, 1), "status", "read");
	assert_int_equal(num(cJSON_GetArrayItem(h, 1), "timestamp"), NOW + 3);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(msgs, 0), "status_history")), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c, "notes")),
	    1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc,
	    "orders")), 1);
	assert_json(doc, "media_ids", "[\"OWN\",\"SHARED\"]");
	cJSON_Delete(doc);
	assert_null(store_contact_export(f->st, x.contact + 1000));
}

/* -- audit, numbers, retention --------------------------------------------- */

struct audits {
	char action[4][16];
	int64_t rows[4];
	int target_null[4];
	size_t n;
};

static int
on_audit(void *arg, const cJSON *o)
{
	struct audits *a = arg;

	assert_true(a->n < 4);
	snprintf(a->action[a->n], sizeof a->action[a->n], "%s", str(o,
	    "action"));
	assert_str(o, "actor", "cli");
	assert_true(num(o, "id") > 0);
	a->rows[a->n] = num(o, "rows");
	a->target_null[a->n] = is_null(o, "target");
	a->n++;
	return 0;
}

static void
store_audit__add_and_each_since(void **state)
{
	struct fixture *f = *state;
	cJSON *d = cJSON_Parse("{\"messages\":3}");
	struct audits a = { 0 };

	begin(f);
	assert_int_equal(store_audit_add(f->st, 100, "cli", "erase",
	    "contact 5", 7, d), 0);
	assert_int_equal(store_audit_add(f->st, 200, "cli", "export", NULL, 0,
	    NULL), 0);
	assert_int_equal(store_audit_add(f->st, 300, "cli", "retention", "all",
	    9, NULL), 0);
	commit(f);
	assert_int_equal(store_audit_each(f->st, 150, on_audit, &a), 0);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.action[0], "export");
	assert_int_equal(a.target_null[0], 1);
	assert_string_equal(a.action[1], "retention");
	assert_int_equal(a.rows[1], 9);
	memset(&a, 0, sizeof a);
	assert_int_equal(store_audit_each(f->st, 0, on_audit, &a), 0);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.action[0], "erase");
	assert_int_equal(a.rows[0], 7);
	cJSON_Delete(d);
}

static void
store_number_disconnect__marks_and_cancels_queued(void **state)
{
	struct fixture *f = *state;
	struct numbers ns = { 0 };
	int64_t conv, o1, o2, id = 0, n = 0, q, k, *ids = NULL;
	size_t nids = 9;
	int queued;
	cJSON *e;

	assert_int_equal(store_number_disconnected(f->st, f->number), 0);
	begin(f);
	conv = customer(f, "111", &k);
	contact(f, f->number2, "999");
	o1 = outbound(f, conv, NULL);
	o2 = outbound(f, conv, NULL);
	inbound(f, conv, "wamid.i", NOW, "x");
	assert_int_equal(store_read_receipt_queue(f->st, conv, 0, NOW,
	    &queued), 0);
	assert_int_equal(store_number_disconnect(f->st, "main", NOW + 5, &id),
	    1);
	assert_int_equal(id, f->number);
	assert_int_equal(store_number_disconnect(f->st, "nosuch", NOW, &id),
	    0);
	assert_int_equal(store_number_cancel_queued(f->st, f->number, &n), 0);
	commit(f);
	assert_int_equal(n, 2);
	assert_int_equal(store_number_disconnected(f->st, f->number), 1);
	assert_int_equal(store_number_disconnected(f->st, f->number2), 0);
	e = store_entity(f->st, STORE_MESSAGE, o2);
	assert_str(e, "status", "failed");
	assert_str(cJSON_GetObjectItem(e, "failure"), "code",
	    "number_disconnected");
	cJSON_Delete(e);
	assert_int_equal(store_outbox_depth(f->st, &q), 0);
	assert_int_equal(q, 0);
	assert_int_equal(store_read_receipts_queued(f->st, &q), 0);
	assert_int_equal(q, 0);
	(void)o1;

	assert_int_equal(store_number_each(f->st, on_number, &ns), 0);
	assert_int_equal(ns.n, 2);
	assert_string_equal(ns.name[0], "main");
	assert_int_equal(ns.disconnected_at[0], NOW + 5);
	assert_int_equal(ns.disconnected_at[1], 0);

	assert_int_equal(store_number_contacts(f->st, f->number, &ids, &nids),
	    0);
	assert_int_equal(nids, 1);
	assert_int_equal(ids[0], k);
	free(ids);

	begin(f);
	assert_int_equal(store_number_disconnect(f->st, "main", 0, &id), 1);
	commit(f);
	assert_int_equal(store_number_disconnected(f->st, f->number), 0);
}

static void
store_retention_sweep__erases_what_is_past_its_time(void **state)
{
	struct fixture *f = *state;
	struct store_retention r = { .messages = 1000, .media = 500,
		.closed = 2000 };
	struct store_media m = { .direction = "out", .mime_type = "a/b",
		.sha256 = "00", .size = 1 };
	struct store_erased e = { 0 };
	int64_t now = NOW + 10000, c1, c2, oldmsg, newmsg, queued, closed;
	unsigned char h[32] = { 0 };
	int more = -1, status;
	char *resp = NULL;
	cJSON *j;

	begin(f);
	closed = customer(f, "111", NULL);
	set_text(f, STORE_CONVERSATION, closed, "status", "resolved");
	c1 = customer(f, "222", NULL);
	c2 = customer(f, "333", NULL);
	set_text(f, STORE_CONVERSATION, c2, "status", "resolved");
	assert_int_equal(store_conversation_activity(f->st, c2, now - 10, 1, 0),
	    0);
	oldmsg = message_full(f, c1, "wamid.old", "in", "image", now - 5000,
	    NULL, NULL, "{\"id\":\"OLDPIC\"}", NULL);
	newmsg = inbound(f, c1, "wamid.new", now - 10, "recent");
	/* Queued long ago and never sent: not the sweep's to erase. */
	queued = outbound(f, c1, NULL);
	snprintf(m.id, sizeof m.id, "OLDUP");
	m.created_at = now - 600;
	assert_int_equal(store_media_add(f->st, &m), 0);
	snprintf(m.id, sizeof m.id, "NEWUP");
	m.created_at = now - 10;
	assert_int_equal(store_media_add(f->st, &m), 0);
	assert_int_equal(store_idempotency_put(f->st, 1, "old", h, 200, "{}",
	    now - 5000), 0);
	commit(f);

	begin(f);
	assert_int_equal(store_retention_sweep(f->st, now, &r, &e, &more), 0);
	commit(f);
	assert_int_equal(more, 0);
	assert_int_equal(e.conversations, 1);
	assert_int_equal(e.messages, 1);
	assert_int_equal(e.idempotency, 1);
	assert_null(store_entity(f->st, STORE_CONVERSATION, closed));
	assert_tombstone(f, STORE_CONVERSATION, closed);
	j = store_entity(f->st, STORE_CONVERSATION, c2);
	assert_non_null(j);
	cJSON_Delete(j);
	assert_null(store_entity(f->st, STORE_MESSAGE, oldmsg));
	assert_tombstone(f, STORE_MESSAGE, oldmsg);
	j = store_entity(f->st, STORE_MESSAGE, newmsg);
	assert_non_null(j);
	cJSON_Delete(j);
	j = store_entity(f->st, STORE_MESSAGE, queued);
	assert_non_null(j);
	cJSON_Delete(j);
	assert_int_equal(store_media_get(f->st, "OLDUP", &m), 0);
	assert_int_equal(store_media_get(f->st, "NEWUP", &m), 1);
	int has_oldpic = 0, has_oldup = 0;
	for (size_t i = 0; i < e.nmedia; i++) {
		has_oldpic |= strcmp(e.media_ids[i], "OLDPIC") == 0;
		has_oldup |= strcmp(e.media_ids[i], "OLDUP") == 0;
		assert_string_not_equal(e.media_ids[i], "NEWUP");
	}
	assert_true(has_oldpic);
	assert_true(has_oldup);
	assert_int_equal(store_idempotency_get(f->st, 1, "old", h, &status,
	    &resp), 0);
	store_erased_free(&e);

	/* Nothing left to do: a second sweep erases nothing. */
	begin(f);
	assert_int_equal(store_retention_sweep(f->st, now, &r, &e, &more), 0);
	commit(f);
	assert_int_equal(store_erased_rows(&e), 0);
	store_erased_free(&e);
}

/* An inbound message that moves its conversation on, as ingest does. */
static int64_t
arrives(struct fixture *f, int64_t conv, const char *wamid, int64_t ts)
{
	int64_t id = inbound(f, conv, wamid, ts, "text");

	assert_int_equal(store_conversation_activity(f->st, conv, ts, 1, id),
	    0);
	return id;
}

static void
store_retention_sweep__last_message_is_the_newest_left(void **state)
{
	struct fixture *f = *state;
	struct store_retention r = { .messages = 1000 };
	struct store_erased e = { 0 };
	int64_t now = NOW + 10000, a, b, c, q, kept, convs[3], seq[3], after;
	int more;
	cJSON *j;

	begin(f);
	/* Every message old: nothing is left to be the last one. */
	a = customer(f, "111", NULL);
	arrives(f, a, "wamid.a1", now - 5000);
	arrives(f, a, "wamid.a2", now - 4000);
	/* The last message is old; a queued reply (never swept) with an
	 * earlier timestamp is all that is left. */
	b = customer(f, "222", NULL);
	arrives(f, b, "wamid.b1", now - 5000);
	q = outbound(f, b, NULL);
	/* Only an older message goes: the last one stays as it is. */
	c = customer(f, "333", NULL);
	arrives(f, c, "wamid.c1", now - 5000);
	kept = arrives(f, c, "wamid.c2", now - 10);
	commit(f);
	convs[0] = a;
	convs[1] = b;
	convs[2] = c;
	j = store_entity(f->st, STORE_CONVERSATION, b);
	assert_int_not_equal(num(j, "last_message_id"), q);
	cJSON_Delete(j);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(change_of(f, STORE_CONVERSATION, convs[i],
		    &seq[i], NULL), 1);
	}

	begin(f);
	assert_int_equal(store_retention_sweep(f->st, now, &r, &e, &more), 0);
	commit(f);
	assert_int_equal(e.messages, 4);
	store_erased_free(&e);

	j = store_entity(f->st, STORE_CONVERSATION, a);
	assert_true(is_null(j, "last_message_id"));
	cJSON_Delete(j);
	j = store_entity(f->st, STORE_CONVERSATION, b);
	assert_int_equal(num(j, "last_message_id"), q);
	cJSON_Delete(j);
	j = store_entity(f->st, STORE_CONVERSATION, c);
	assert_int_equal(num(j, "last_message_id"), kept);
	cJSON_Delete(j);

	/* Clients learn of the two that changed, and only of those. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(change_of(f, STORE_CONVERSATION, convs[i],
		    &after, NULL), 1);
		if (i < 2)
			assert_true(after > seq[i]);
		else
			assert_int_equal(after, seq[i]);
	}
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(store_open__creates_migrates_and_reopen_keeps_epoch),
		T(store_open__two_stores_have_different_epochs),
		cmocka_unit_test(store_open__refuses_a_url_it_does_not_know),
		T(store_counts__names_every_table_and_starts_empty),
		T(store_commit__keeps_and_rollback_discards),
		T(store_rollback__gives_the_seqs_back),
		T(store_rollback__after_a_failed_statement_the_store_works_again),
		T(store_savepoint_rollback__undoes_rows_and_seq),
		T(store_background_checkpoints__and_scrub_keep_every_commit),
		T(store_changes__in_seq_order_once_per_entity),
		T(store_changes__stops_when_the_callback_says),
		T(store_tombstone__marks_deleted_and_a_stamp_revives),
		T(store_head__newest_seq_and_horizon),
		T(store_reader__sees_only_committed_data),
		T(store_number_ensure__renames_and_refuses_another_id),
		T(store_webhook_add__dedupes_until_expired),
		T(store_event_add__and_quarantine_are_kept),
		T(store_contact_upsert__finds_by_user_id_then_wa_id),
		T(store_contact_upsert__unchanged_is_not_stamped),
		T(store_contact_upsert__keeps_ids_another_contact_holds),
		T(store_contact_renumber__keeps_the_old_wa_id),
		T(store_contact_lookup__by_id_wa_id_or_user_id),
		T(store_conversation_for__one_per_contact),
		T(store_conversation_info__no_recipient_without_an_id),
		T(store_conversation_activity__first_message_is_last_even_when_older),
		T(store_message_add__existed_and_find),
		T(store_message_status__set_read_and_failure_kept),
		T(store_status_add__a_pair_seen_before_is_a_duplicate),
		T(store_message_refresh_actions__newest_wins_whatever_the_order),
		T(store_order__add_create_link_and_delete),
		T(store_template_upsert__keeps_what_the_update_does_not_say),
		T(store_template_sync__writes_only_what_changed_and_prune),
		T(store_agent__add_find_revoke),
		T(store_agent_add__a_name_taken_leaves_the_transaction_usable),
		T(store_entity__every_kind_as_tree_and_text),
		T(store_set__writes_settable_columns_and_stamps),
		T(store_outbound_due__in_order_per_conversation),
		T(store_outbound_mark__sending_stale_and_accepted),
		T(store_outbound_stale__a_failed_read_is_an_error),
		T(store_outbound_accepted__folds_in_an_early_stand_in),
		T(store_message_claim_wamid__only_an_outbound_without_one),
		T(store_read_receipt__coalesces_and_marks),
		T(store_media__add_get_meta_id_and_referenced),
		T(store_history_add__is_an_entity),
		T(store_label__names_unique_whatever_their_case),
		T(store_canned__shortcuts_unique),
		T(store_note__add_mentions_delete),
		T(store_snooze__next_and_due),
		T(store_meta_int__absent_is_zero_then_set),
		T(store_idempotency__put_get_expire),
		T(store_contact_erase__removes_everything_with_tombstones),
		T(store_contact_erase__history_goes_with_tombstones),
		T(store_conversation_erase__keeps_the_contact),
		T(store_contact_export__everything_held_about_them),
		T(store_audit__add_and_each_since),
		T(store_number_disconnect__marks_and_cancels_queued),
		T(store_retention_sweep__erases_what_is_past_its_time),
		T(store_retention_sweep__last_message_is_the_newest_left),
	};

	/* Migrations say what they did at every open: once per test. */
	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
