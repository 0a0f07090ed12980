/*
 * Ingest rules against a real store (SQLite in a temp dir, or PostgreSQL
 * under tests/run-with-pg; see testutil_store_url): dedupe, status
 * order, reactions/edits/revokes in any order, orders, routing, renumbering.
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

#include "core/jsonx.h"
#include "core/wa.h"
#include "core/xalloc.h"
#include "relay/config.h"
#include "relay/ingest.h"
#include "relay/store.h"

#include "../testutil.h"

struct fixture {
	char dir[64];
	char *url;
	struct store *st;
	struct relay_config cfg;
	struct relay_number numbers[2];
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	char *cause = NULL;

	snprintf(f->dir, sizeof f->dir, "/tmp/glivi-ingest-XXXXXX");
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
	f->numbers[0].name = xstrdup("main");
	f->numbers[0].phone_number_id = xstrdup("106540352242922");
	f->numbers[1].name = xstrdup("second");
	f->numbers[1].phone_number_id = xstrdup("106540352242923");
	f->cfg.numbers = f->numbers;
	f->cfg.nnumbers = 2;
	assert_int_equal(store_begin(f->st, &cause), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(store_number_ensure(f->st, f->numbers[i].name,
		    f->numbers[i].phone_number_id, NULL,
		    &f->numbers[i].store_id, &cause), 0);
	assert_int_equal(store_commit(f->st, &cause), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	store_close(f->st);
	testutil_store_drop(f->url);
	free(f->url);
	for (int i = 0; i < 2; i++) {
		free(f->numbers[i].name);
		free(f->numbers[i].phone_number_id);
	}
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(cmd);
	free(f);
	return 0;
}

/* Ingests one body in its own transaction, as the committer does. */
static struct ingest_result
ingest(struct fixture *f, const char *body)
{
	struct ingest_result res;
	struct wa_batch *b = NULL;
	char *cause = NULL;

	if (wa_parse(body, strlen(body), &b, &cause) != 0)
		fail_msg("parse: %s", cause);
	assert_int_equal(store_begin(f->st, &cause), 0);
	assert_int_equal(ingest_webhook(f->st, &f->cfg, body, strlen(body), b,
	    1785400000, &res), 0);
	assert_int_equal(store_commit(f->st, &cause), 0);
	wa_batch_free(b);
	return res;
}

static char *
envelope(const char *number, const char *value_inner)
{
	return xasprintf("{\"object\":\"whatsapp_business_account\",\"entry\":"
	    "[{\"id\":\"102290129340398\",\"changes\":[{\"field\":\"messages\","
	    "\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":"
	    "{\"display_phone_number\":\"15550783881\",\"phone_number_id\":"
	    "\"%s\"},%s}}]}]}", number, value_inner);
}

static char *
text_message(const char *wamid, const char *ts, const char *body)
{
	char *inner = xasprintf("\"contacts\":[{\"profile\":{\"name\":"
	    "\"Sheena\"},\"wa_id\":\"16505551234\"}],\"messages\":[{\"from\":"
	    "\"16505551234\",\"id\":\"%s\",\"timestamp\":\"%s\",\"type\":"
	    "\"text\",\"text\":{\"body\":\"%s\"}}]", wamid, ts, body);
	char *e = envelope("106540352242922", inner);

	free(inner);
	return e;
}

static char *
status(const char *wamid, const char *st, const char *ts)
{
	char *inner = xasprintf("\"statuses\":[{\"id\":\"%s\",\"status\":"
	    "\"%s\",\"timestamp\":\"%s\",\"recipient_id\":\"16505551234\"%s}]",
	    wamid, st, ts, strcmp(st, "failed") == 0 ? ",\"errors\":[{\"code\""
	    ":131047,\"title\":\"Re-engagement message\",\"error_data\":"
	    "{\"details\":\"window closed\"}}]" : "");
	char *e = envelope("106540352242922", inner);

	free(inner);
	return e;
}

static cJSON *
message(struct fixture *f, const char *wamid)
{
	int64_t id = 0;

	assert_int_equal(store_message_id_by_wamid(f->st, wamid, &id), 0);
	if (id == 0)
		return NULL;
	return store_entity(f->st, STORE_MESSAGE, id);
}

static int64_t
count(struct fixture *f, const char *table)
{
	cJSON *c = store_counts(f->st);
	int64_t n = -1;

	jx_int64(c, table, &n);
	cJSON_Delete(c);
	return n;
}

static void
ingest__same_message_twice_is_stored_once(void **state)
{
	struct fixture *f = *state;
	char *a = text_message("wamid.A", "1785312000", "hello");
	char *b = text_message("wamid.A", "1785312000", "hello again");
	struct ingest_result r;

	r = ingest(f, a);
	assert_int_equal(r.messages, 1);
	/* Identical bytes: the delivery itself is recognised. */
	r = ingest(f, a);
	assert_true(r.duplicate_delivery);
	/* Other bytes, same wamid: the message is recognised. */
	r = ingest(f, b);
	assert_int_equal(r.messages, 0);
	assert_int_equal(r.messages_seen, 1);
	assert_int_equal(count(f, "messages"), 1);
	cJSON *m = message(f, "wamid.A");
	assert_string_equal(jx_str(m, "text"), "hello");
	cJSON_Delete(m);
	free(a);
	free(b);
}

static void
stand_in(struct fixture *f, const char *wamid)
{
	char *s = status(wamid, "sent", "1785312400");

	ingest(f, s);
	free(s);
}

static void
ingest__statuses_in_reverse_order_end_at_read(void **state)
{
	struct fixture *f = *state;
	const char *order[] = { "read", "delivered", "sent" };
	cJSON *m;

	for (int i = 0; i < 3; i++) {
		char *s = status("wamid.OUT-1", order[i], "1785312400");

		ingest(f, s);
		free(s);
	}
	m = message(f, "wamid.OUT-1");
	assert_non_null(m);
	assert_string_equal(jx_str(m, "direction"), "out");
	assert_string_equal(jx_str(m, "status"), "read");
	assert_int_equal(count(f, "statuses"), 3);
	cJSON_Delete(m);
}

static void
ingest__failed_after_delivered_keeps_delivered_and_the_reason(void **state)
{
	struct fixture *f = *state;
	char *d = status("wamid.OUT-2", "delivered", "1785312405");
	char *x = status("wamid.OUT-2", "failed", "1785312470");
	cJSON *m, *failure;
	int64_t code = 0;

	ingest(f, d);
	ingest(f, x);
	m = message(f, "wamid.OUT-2");
	assert_string_equal(jx_str(m, "status"), "delivered");
	failure = jx_obj(m, "failure");
	assert_non_null(failure);
	assert_int_equal(jx_int64(failure, "code", &code), 0);
	assert_int_equal(code, 131047);
	assert_string_equal(jx_str(failure, "details"), "window closed");
	cJSON_Delete(m);
	free(d);
	free(x);
}

static void
ingest__failed_after_sent_shows_failed(void **state)
{
	struct fixture *f = *state;
	char *x = status("wamid.OUT-3", "failed", "1785312470");
	cJSON *m;

	stand_in(f, "wamid.OUT-3");
	ingest(f, x);
	m = message(f, "wamid.OUT-3");
	assert_string_equal(jx_str(m, "status"), "failed");
	assert_non_null(jx_obj(m, "failure"));
	cJSON_Delete(m);
	free(x);
}

static void
ingest__repeated_status_is_a_no_op(void **state)
{
	struct fixture *f = *state;
	char *s = status("wamid.OUT-4", "delivered", "1785312405");
	char *s2 = status("wamid.OUT-4", "delivered", "1785312999");
	struct ingest_result r;

	ingest(f, s);
	r = ingest(f, s2);
	assert_int_equal(r.statuses, 0);
	assert_int_equal(r.statuses_seen, 1);
	free(s);
	free(s2);
}

static char *
reaction(const char *wamid, const char *target, const char *ts,
    const char *emoji_member)
{
	char *inner = xasprintf("\"contacts\":[{\"wa_id\":\"16505551234\"}],"
	    "\"messages\":[{\"from\":\"16505551234\",\"id\":\"%s\","
	    "\"timestamp\":\"%s\",\"type\":\"reaction\",\"reaction\":"
	    "{\"message_id\":\"%s\"%s}}]", wamid, ts, target, emoji_member);
	char *e = envelope("106540352242922", inner);

	free(inner);
	return e;
}

static void
ingest__reaction_then_removal_by_missing_or_empty_emoji(void **state)
{
	struct fixture *f = *state;
	char *t = text_message("wamid.T", "1785312000", "hi");
	char *r1 = reaction("wamid.R1", "wamid.T", "1785312100",
	    ",\"emoji\":\"\\ud83d\\udc4d\"");
	char *r2 = reaction("wamid.R2", "wamid.T", "1785312200", "");
	char *r3 = reaction("wamid.R3", "wamid.T", "1785312300",
	    ",\"emoji\":\"x\"");
	char *r4 = reaction("wamid.R4", "wamid.T", "1785312400",
	    ",\"emoji\":\"\"");
	cJSON *m;

	ingest(f, t);
	ingest(f, r1);
	m = message(f, "wamid.T");
	assert_string_equal(jx_str(m, "reaction"), "\xf0\x9f\x91\x8d");
	cJSON_Delete(m);
	ingest(f, r2);
	m = message(f, "wamid.T");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "reaction")));
	cJSON_Delete(m);
	ingest(f, r3);
	ingest(f, r4);
	m = message(f, "wamid.T");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "reaction")));
	cJSON_Delete(m);
	free(t);
	free(r1);
	free(r2);
	free(r3);
	free(r4);
}

static void
ingest__reaction_arriving_before_its_message_still_applies(void **state)
{
	struct fixture *f = *state;
	char *r = reaction("wamid.R9", "wamid.LATE", "1785312100",
	    ",\"emoji\":\"ok\"");
	char *t = text_message("wamid.LATE", "1785312000", "late");
	cJSON *m;

	ingest(f, r);
	ingest(f, t);
	m = message(f, "wamid.LATE");
	assert_string_equal(jx_str(m, "reaction"), "ok");
	cJSON_Delete(m);
	free(r);
	free(t);
}

static void
ingest__older_reaction_arriving_late_does_not_win(void **state)
{
	struct fixture *f = *state;
	char *t = text_message("wamid.T2", "1785312000", "hi");
	char *newer = reaction("wamid.RN", "wamid.T2", "1785312300",
	    ",\"emoji\":\"new\"");
	char *older = reaction("wamid.RO", "wamid.T2", "1785312100",
	    ",\"emoji\":\"old\"");
	cJSON *m;

	ingest(f, t);
	ingest(f, newer);
	ingest(f, older);
	m = message(f, "wamid.T2");
	assert_string_equal(jx_str(m, "reaction"), "new");
	cJSON_Delete(m);
	free(t);
	free(newer);
	free(older);
}

static void
ingest__edit_and_revoke_change_the_target(void **state)
{
	struct fixture *f = *state;
	char *t = text_message("wamid.E", "1785312000", "teh typo");
	char *inner = xasprintf("\"messages\":[{\"from\":\"16505551234\","
	    "\"id\":\"wamid.EDIT\",\"timestamp\":\"1785312050\",\"type\":"
	    "\"edit\",\"edit\":{\"original_message_id\":\"wamid.E\","
	    "\"message\":{\"type\":\"text\",\"text\":{\"body\":\"the fix\"}}}}]");
	char *edit = envelope("106540352242922", inner);
	char *inner2 = xasprintf("\"messages\":[{\"from\":\"16505551234\","
	    "\"id\":\"wamid.REV\",\"timestamp\":\"1785312060\",\"type\":"
	    "\"revoke\",\"revoke\":{\"original_message_id\":\"wamid.E\"}}]");
	char *revoke = envelope("106540352242922", inner2);
	cJSON *m;

	ingest(f, t);
	ingest(f, edit);
	m = message(f, "wamid.E");
	assert_string_equal(jx_str(m, "edited_text"), "the fix");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(m, "revoked")));
	cJSON_Delete(m);
	ingest(f, revoke);
	m = message(f, "wamid.E");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(m, "revoked")));
	/* A deleted message keeps no content. */
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "text")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "edited_text")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "wa")));
	cJSON_Delete(m);
	free(t);
	free(inner);
	free(edit);
	free(inner2);
	free(revoke);
}

static void
ingest__order_becomes_an_order_with_an_exact_total(void **state)
{
	struct fixture *f = *state;
	const char *inner = "\"contacts\":[{\"wa_id\":\"4915112345678\"}],"
	    "\"messages\":[{\"from\":\"4915112345678\",\"id\":\"wamid.O\","
	    "\"timestamp\":\"1785312000\",\"type\":\"order\",\"order\":"
	    "{\"catalog_id\":\"194836987003835\",\"text\":\"after 6pm\","
	    "\"product_items\":[{\"product_retailer_id\":\"a\",\"quantity\":2,"
	    "\"item_price\":7.99,\"currency\":\"EUR\"},{\"product_retailer_id\""
	    ":\"b\",\"quantity\":1,\"item_price\":12,\"currency\":\"EUR\"},"
	    "{\"product_retailer_id\":\"c\",\"quantity\":\"3\",\"item_price\":"
	    "0.5,\"currency\":\"EUR\"}]}}]";
	char *body = envelope("106540352242922", inner);
	cJSON *m, *o, *items;
	int64_t order_id = 0;

	ingest(f, body);
	m = message(f, "wamid.O");
	assert_int_equal(jx_int64(m, "order_id", &order_id), 0);
	o = store_entity(f->st, STORE_ORDER, order_id);
	assert_non_null(o);
	assert_string_equal(jx_str(o, "total"), "29.48");
	assert_string_equal(jx_str(o, "currency"), "EUR");
	assert_string_equal(jx_str(o, "catalog_id"), "194836987003835");
	items = jx_arr(o, "items");
	assert_int_equal(cJSON_GetArraySize(items), 3);
	assert_string_equal(jx_str(cJSON_GetArrayItem(items, 0),
	    "item_price"), "7.99");
	cJSON_Delete(m);
	cJSON_Delete(o);
	free(body);
}

static void
ingest__order_total__is_null_for_placeholders_or_mixed_currency(void **state)
{
	const char *cur;
	cJSON *a = cJSON_Parse("[{\"quantity\":\"QUANTITY\",\"item_price\":"
	    "\"ITEM_PRICE\",\"currency\":\"CURRENCY\"}]");
	cJSON *b = cJSON_Parse("[{\"quantity\":1,\"item_price\":1,\"currency\""
	    ":\"EUR\"},{\"quantity\":1,\"item_price\":1,\"currency\":\"USD\"}]");
	cJSON *c = cJSON_Parse("[{\"quantity\":3,\"item_price\":0.1,"
	    "\"currency\":\"USD\"}]");
	char *t;

	(void)state;
	assert_null(ingest_order_total(a, &cur));
	assert_null(ingest_order_total(b, &cur));
	t = ingest_order_total(c, &cur);
	assert_string_equal(t, "0.30");
	assert_string_equal(cur, "USD");
	free(t);
	{
		cJSON *huge = cJSON_Parse("[{\"quantity\":1000000,\"item_price\""
		    ":999999999999,\"currency\":\"EUR\"},{\"quantity\":"
		    "1000000,\"item_price\":999999999999,\"currency\":"
		    "\"EUR\"}]");

		/* Past what 64 bits of millionths hold: unknown, not wrong. */
		assert_null(ingest_order_total(huge, &cur));
		cJSON_Delete(huge);
	}
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
}

static void
ingest__unknown_number_is_quarantined_not_routed(void **state)
{
	struct fixture *f = *state;
	char *inner = xasprintf("\"messages\":[{\"from\":\"1\",\"id\":"
	    "\"wamid.Q\",\"timestamp\":\"1\",\"type\":\"text\",\"text\":"
	    "{\"body\":\"x\"}}]");
	char *body = envelope("999000999000999", inner);
	struct ingest_result r = ingest(f, body);

	assert_int_equal(r.quarantined, 1);
	assert_int_equal(count(f, "quarantine"), 1);
	assert_int_equal(count(f, "messages"), 0);
	assert_null(message(f, "wamid.Q"));
	free(inner);
	free(body);
}

static void
ingest__same_wamid_on_two_numbers_is_two_messages(void **state)
{
	struct fixture *f = *state;
	char *a = text_message("wamid.SAME", "1", "one");
	char *inner = xasprintf("\"messages\":[{\"from\":\"1\",\"id\":"
	    "\"wamid.SAME\",\"timestamp\":\"1\",\"type\":\"text\",\"text\":"
	    "{\"body\":\"two\"}}]");
	char *b = envelope("106540352242923", inner);

	ingest(f, a);
	ingest(f, b);
	assert_int_equal(count(f, "messages"), 2);
	assert_int_equal(count(f, "conversations"), 2);
	free(a);
	free(b);
	free(inner);
}

static void
ingest__bsuid_only_user_is_a_contact_without_phone(void **state)
{
	struct fixture *f = *state;
	const char *inner = "\"contacts\":[{\"profile\":{\"name\":\"Kai\","
	    "\"username\":\"@kai\"},\"user_id\":\"US.1\"}],\"messages\":"
	    "[{\"from_user_id\":\"US.1\",\"id\":\"wamid.B\",\"timestamp\":"
	    "\"1\",\"type\":\"text\",\"text\":{\"body\":\"hi\"}}]";
	char *body = envelope("106540352242922", inner);
	cJSON *m, *conv, *contact;
	int64_t conv_id, contact_id;

	ingest(f, body);
	m = message(f, "wamid.B");
	assert_non_null(m);
	jx_int64(m, "conversation_id", &conv_id);
	conv = store_entity(f->st, STORE_CONVERSATION, conv_id);
	jx_int64(conv, "contact_id", &contact_id);
	contact = store_entity(f->st, STORE_CONTACT, contact_id);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(contact, "wa_id")));
	assert_string_equal(jx_str(contact, "user_id"), "US.1");
	assert_string_equal(jx_str(contact, "username"), "@kai");
	assert_string_equal(jx_str(contact, "profile_name"), "Kai");
	cJSON_Delete(m);
	cJSON_Delete(conv);
	cJSON_Delete(contact);
	free(body);
}

static void
ingest__number_change_moves_the_contact_to_the_new_number(void **state)
{
	struct fixture *f = *state;
	char *t = text_message("wamid.N1", "1785312000", "hi");
	const char *inner = "\"messages\":[{\"from\":\"16505551234\",\"id\":"
	    "\"wamid.SYS\",\"timestamp\":\"1785312100\",\"type\":\"system\","
	    "\"system\":{\"body\":\"changed\",\"wa_id\":\"16505559876\","
	    "\"type\":\"user_changed_number\"}}]";
	char *sys = envelope("106540352242922", inner);
	char *after = xasprintf("%s", t);
	cJSON *m, *conv, *contact;
	int64_t conv_id, contact_id;

	ingest(f, t);
	ingest(f, sys);
	m = message(f, "wamid.SYS");
	jx_int64(m, "conversation_id", &conv_id);
	conv = store_entity(f->st, STORE_CONVERSATION, conv_id);
	jx_int64(conv, "contact_id", &contact_id);
	contact = store_entity(f->st, STORE_CONTACT, contact_id);
	assert_string_equal(jx_str(contact, "wa_id"), "16505559876");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(
	    jx_arr(contact, "previous_wa_ids"), 0)), "16505551234");
	assert_string_equal(jx_str(m, "text"), "changed");
	cJSON_Delete(m);
	cJSON_Delete(conv);
	cJSON_Delete(contact);
	free(t);
	free(sys);
	free(after);
}

static char *
from_message(const char *wamid, const char *from, const char *user_id)
{
	char *inner = xasprintf("\"messages\":[{%s%s%s%s%s\"id\":\"%s\","
	    "\"timestamp\":\"1\",\"type\":\"text\",\"text\":{\"body\":"
	    "\"x\"}}]", from ? "\"from\":\"" : "", from ? from : "",
	    from ? "\"," : "", user_id ? "\"from_user_id\":\"" : "",
	    user_id ? user_id : "", wamid);
	char *e, *fixed;

	/* close the from_user_id string when there is one */
	if (user_id != NULL) {
		fixed = xasprintf("%s", inner);
		free(inner);
		inner = xasprintf("\"messages\":[{%s%s%s\"from_user_id\":"
		    "\"%s\",\"id\":\"%s\",\"timestamp\":\"1\",\"type\":"
		    "\"text\",\"text\":{\"body\":\"x\"}}]",
		    from ? "\"from\":\"" : "", from ? from : "",
		    from ? "\"," : "", user_id, wamid);
		free(fixed);
	}
	e = envelope("106540352242922", inner);
	free(inner);
	return e;
}

static void
ingest__contact_id_conflicts_never_refuse_a_delivery(void **state)
{
	struct fixture *f = *state;
	char *a = from_message("wamid.C1", NULL, "US.x");
	char *b = from_message("wamid.C2", "444", NULL);
	char *both = from_message("wamid.C3", "444", "US.x");
	const char *inner = "\"messages\":[{\"from\":\"333\",\"id\":"
	    "\"wamid.innocent\",\"timestamp\":\"1\",\"type\":\"text\","
	    "\"text\":{\"body\":\"hi\"}},{\"from\":\"444\",\"id\":"
	    "\"wamid.SYS2\",\"timestamp\":\"2\",\"type\":\"system\","
	    "\"system\":{\"body\":\"changed\",\"wa_id\":\"555\","
	    "\"type\":\"user_changed_number\"}}]";
	char *renumber = envelope("106540352242922", inner);
	char *c555 = from_message("wamid.C4", "555", NULL);
	cJSON *m;

	/* A BSUID contact and a phone contact met in one message. */
	ingest(f, a);
	ingest(f, b);
	assert_int_equal(ingest(f, both).messages, 1);
	/* A number change onto a number that has a contact already. */
	ingest(f, c555);
	assert_int_equal(ingest(f, renumber).messages, 2);
	m = message(f, "wamid.innocent");
	assert_non_null(m);
	cJSON_Delete(m);
	free(a);
	free(b);
	free(both);
	free(renumber);
	free(c555);
}

struct seq_check {
	int64_t last;
	int n;
	int64_t conversation_seq, message_seq;
};

static int
seq_check(void *arg, const char *kind, int64_t id, int64_t seq, int deleted)
{
	struct seq_check *c = arg;

	assert_true(seq > c->last);
	assert_false(deleted);
	c->last = seq;
	c->n++;
	if (strcmp(kind, STORE_CONVERSATION) == 0)
		c->conversation_seq = seq;
	if (strcmp(kind, STORE_MESSAGE) == 0 && c->message_seq == 0)
		c->message_seq = seq;
	return 0;
}

static void
ingest__every_change_gets_a_strictly_larger_seq(void **state)
{
	struct fixture *f = *state;
	char *a = text_message("wamid.S1", "1", "a");
	char *b = text_message("wamid.S2", "2", "b");
	struct seq_check c = { 0 };

	ingest(f, a);
	ingest(f, b);
	/* One row per entity (latest state): contact, conversation and two
	 * messages; the conversation was re-stamped after the first message. */
	assert_int_equal(store_changes(f->st, 0, 100, seq_check, &c), 0);
	assert_int_equal(c.n, 4);
	assert_true(c.conversation_seq > c.message_seq);
	free(a);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    ingest__same_message_twice_is_stored_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    ingest__statuses_in_reverse_order_end_at_read, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    ingest__failed_after_delivered_keeps_delivered_and_the_reason,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    ingest__failed_after_sent_shows_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    ingest__repeated_status_is_a_no_op, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    ingest__reaction_then_removal_by_missing_or_empty_emoji,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    ingest__reaction_arriving_before_its_message_still_applies,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    ingest__older_reaction_arriving_late_does_not_win, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    ingest__edit_and_revoke_change_the_target, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    ingest__order_becomes_an_order_with_an_exact_total, setup,
		    teardown),
		cmocka_unit_test(
		    ingest__order_total__is_null_for_placeholders_or_mixed_currency),
		cmocka_unit_test_setup_teardown(
		    ingest__unknown_number_is_quarantined_not_routed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    ingest__same_wamid_on_two_numbers_is_two_messages, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    ingest__bsuid_only_user_is_a_contact_without_phone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    ingest__number_change_moves_the_contact_to_the_new_number,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    ingest__every_change_gets_a_strictly_larger_seq, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    ingest__contact_id_conflicts_never_refuse_a_delivery,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
