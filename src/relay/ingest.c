/*
 * Ingest rules. Each message, status and change of a webhook is applied on
 * its own terms: one malformed item is recorded as an event and never costs
 * the rest of the delivery. Logs name ids and counts, never message text.
 */
#include "relay/ingest.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "relay/inbox.h"

struct ingest {
	struct store *st;
	const struct relay_config *cfg;
	int64_t webhook_id;
	int64_t now;
	struct ingest_result *res;
};

static int
event(struct ingest *in, const struct wa_change *c, int64_t number_id,
    const char *what, const cJSON *value)
{
	in->res->events++;
	return store_event_add(in->st, in->webhook_id, in->now, c->waba_id,
	    number_id, c->field, what, value);
}

/* Money is summed in millionths so 7.99 * 2 is 15.98, exactly. */
#define MICRO 1000000LL

static int
to_micro(const cJSON *v, long long *out)
{
	double d;

	if (jx_number(v, &d) != 0 || d < 0 || d > 1e12)
		return -1;
	*out = llround(d * (double)MICRO);
	return 0;
}

static int
to_quantity(const cJSON *v, long long *out)
{
	double d;

	if (jx_number(v, &d) != 0 || d < 0 || d > 1e6 || floor(d) != d)
		return -1;
	*out = (long long)d;
	return 0;
}

static char *
format_micro(long long v)
{
	char frac[8];
	int n;

	snprintf(frac, sizeof frac, "%06lld", v % MICRO);
	for (n = 6; n > 2 && frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	return xasprintf("%lld.%s", v / MICRO, frac);
}

char *
ingest_order_total(const cJSON *items, const char **currency)
{
	const cJSON *item;
	long long total = 0, price, qty;

	*currency = NULL;
	if (cJSON_GetArraySize(items) == 0)
		return NULL;
	cJSON_ArrayForEach(item, items) {
		const char *cur = jx_str(item, "currency");

		if (to_micro(cJSON_GetObjectItemCaseSensitive(item,
		    "item_price"), &price) != 0 ||
		    to_quantity(cJSON_GetObjectItemCaseSensitive(item,
		    "quantity"), &qty) != 0 || cur == NULL ||
		    (*currency != NULL && strcmp(*currency, cur) != 0)) {
			*currency = NULL;
			return NULL;
		}
		*currency = cur;
		/* Past 2^63 millionths the total is unknown, never wrong. */
		if (__builtin_mul_overflow(price, qty, &price) ||
		    __builtin_add_overflow(total, price, &total)) {
			*currency = NULL;
			return NULL;
		}
	}
	return format_micro(total);
}

cJSON *
ingest_order_items(const cJSON *items)
{
	cJSON *out = cJSON_CreateArray(), *item;
	const cJSON *in;
	long long v;

	cJSON_ArrayForEach(in, items) {
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(in,
		    "quantity");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(in,
		    "item_price");
		char *s;

		item = cJSON_CreateObject();
		jx_add_str(item, "product_retailer_id",
		    jx_str(in, "product_retailer_id"));
		if (to_quantity(q, &v) == 0)
			jx_add_int(item, "quantity", v);
		else
			cJSON_AddItemToObject(item, "quantity",
			    q ? cJSON_Duplicate(q, 1) : cJSON_CreateNull());
		if (to_micro(p, &v) == 0) {
			s = format_micro(v);
			cJSON_AddStringToObject(item, "item_price", s);
			free(s);
		} else
			cJSON_AddItemToObject(item, "item_price",
			    p ? cJSON_Duplicate(p, 1) : cJSON_CreateNull());
		jx_add_str(item, "currency", jx_str(in, "currency"));
		cJSON_AddItemToArray(out, item);
	}
	return out;
}

static int
ingest_order(struct ingest *in, const struct wa_message *m,
    int64_t number_id, int64_t contact_id, int64_t conversation_id,
    int64_t message_id)
{
	const cJSON *order = jx_obj(m->json, "order");
	struct store_order o = { 0 };
	cJSON *items, *raw_items;
	char *total;
	int64_t id;
	int rc;

	items = ingest_order_items(jx_arr(order, "product_items"));
	raw_items = jx_arr(order, "product_items");
	total = raw_items ? ingest_order_total(raw_items, &o.currency) : NULL;
	o.number_id = number_id;
	o.contact_id = contact_id;
	o.conversation_id = conversation_id;
	o.message_id = message_id;
	o.catalog_id = jx_str(order, "catalog_id");
	o.text = jx_str(order, "text");
	o.items = items;
	o.total = total;
	o.created_at = m->timestamp ? m->timestamp : in->now;
	rc = store_order_add(in->st, &o, &id);
	if (rc == 0)
		rc = store_message_set_order(in->st, message_id, id);
	cJSON_Delete(items);
	free(total);
	return rc;
}

/* Finds or creates the contact a message or status is about. */
static int
contact_for(struct ingest *in, const struct wa_change *c, int64_t number_id,
    const char *wa_id, const char *user_id, int64_t *contact_id)
{
	const struct wa_contact *k = wa_change_contact(c, wa_id, user_id);
	struct store_contact sc = { 0 };

	sc.number_id = number_id;
	sc.wa_id = wa_id;
	sc.user_id = user_id;
	if (k != NULL) {
		if (sc.wa_id == NULL)
			sc.wa_id = k->wa_id;
		if (sc.user_id == NULL)
			sc.user_id = k->user_id;
		sc.parent_user_id = k->parent_user_id;
		sc.username = k->username;
		sc.profile_name = k->name;
	}
	return store_contact_upsert(in->st, &sc, in->now, contact_id);
}

static int
ingest_message(struct ingest *in, const struct wa_change *c,
    int64_t number_id, const struct wa_message *m)
{
	struct store_message sm = { 0 };
	const char *wa_id, *user_id;
	int64_t contact_id, conversation_id, id, target, existing;
	cJSON *media;
	int existed, rc;

	if (m->id == NULL)
		return event(in, c, number_id, "message without an id",
		    m->json);
	/* An echo is the business's own message; the customer is "to". */
	wa_id = c->echoes ? m->to : m->from;
	user_id = c->echoes ? m->to_user_id : m->from_user_id;
	if (wa_id == NULL && user_id == NULL && !c->echoes &&
	    c->ncontacts == 1) {
		/* Some senders leave "from" out; a lone contact is the sender. */
		wa_id = c->contacts[0].wa_id;
		user_id = c->contacts[0].user_id;
	}
	if (wa_id == NULL && user_id == NULL)
		return event(in, c, number_id, "message without a sender",
		    m->json);
	if (contact_for(in, c, number_id, wa_id, user_id, &contact_id) != 0 ||
	    store_conversation_of_contact(in->st, contact_id, &existing) != 0 ||
	    store_conversation_for(in->st, number_id, contact_id, in->now,
	    &conversation_id) != 0)
		return -1;

	media = wa_message_media(m);
	sm.number_id = number_id;
	sm.conversation_id = conversation_id;
	sm.wamid = m->id;
	sm.direction = c->echoes ? "out" : "in";
	sm.type = m->type;
	sm.unknown_type = !m->known_type;
	sm.ts = m->timestamp ? m->timestamp : in->now;
	sm.received_at = in->now;
	sm.target_wamid = m->target_id;
	sm.text = wa_message_text(m);
	sm.media = media;
	sm.wa = m->json;
	sm.status = c->echoes ? "sent" : "received";
	rc = store_message_add(in->st, &sm, &id, &existed);
	cJSON_Delete(media);
	if (rc != 0)
		return -1;
	if (existed) {
		in->res->messages_seen++;
		return 0;
	}
	in->res->messages++;
	if (!m->known_type)
		log_info("ingest: kept message %" PRId64 " of unknown type "
		    "'%.40s'", id, m->type);

	if (store_conversation_activity(in->st, conversation_id, sm.ts,
	    !c->echoes, id) != 0)
		return -1;
	/* The customer wrote: a resolved or snoozed conversation is open
	 * again (a reaction or an edit is the customer writing too). */
	if (!c->echoes && inbox_inbound(in->st, in->cfg, conversation_id,
	    existing == 0, in->now) != 0)
		return -1;
	/* Reactions, edits and revokes may arrive before or after the message
	 * they act on: refresh the target now, and this message in case its
	 * actions came first. */
	if (m->target_id != NULL) {
		if (store_message_find(in->st, number_id, m->target_id,
		    &target, NULL) != 0)
			return -1;
		if (target != 0 && store_message_refresh_actions(in->st,
		    number_id, target, m->target_id) != 0)
			return -1;
	}
	if (store_message_refresh_actions(in->st, number_id, id, m->id) != 0)
		return -1;

	if (strcmp(m->type, "order") == 0)
		return ingest_order(in, m, number_id, contact_id,
		    conversation_id, id);
	if (strcmp(m->type, "system") == 0) {
		const cJSON *sys = jx_obj(m->json, "system");
		const char *t = jx_str(sys, "type"), *new_wa = jx_str(sys,
		    "wa_id");

		if (t != NULL && new_wa != NULL && *new_wa != '\0' &&
		    (strcmp(t, "user_changed_number") == 0 ||
		    strcmp(t, "customer_changed_number") == 0))
			return store_contact_renumber(in->st, contact_id,
			    new_wa, in->now);
	}
	return 0;
}

static cJSON *
failure_of(const struct wa_status_event *s)
{
	const cJSON *e = cJSON_GetArrayItem(s->errors, 0);
	cJSON *f;
	int64_t code;

	if (!cJSON_IsObject(e))
		return NULL;
	f = cJSON_CreateObject();
	if (jx_int64(e, "code", &code) == 0)
		jx_add_int(f, "code", code);
	jx_add_str(f, "title", jx_str(e, "title"));
	jx_add_str(f, "message", jx_str(e, "message"));
	jx_add_str(f, "details", jx_str(jx_obj(e, "error_data"), "details"));
	jx_add_str(f, "href", jx_str(e, "href"));
	cJSON_AddItemToObject(f, "errors", cJSON_Duplicate(s->errors, 1));
	return f;
}

/*
 * A status for a wamid the relay has no message for: sent by another tool
 * on the same number, or by the outbound worker before it stored the
 * wamid. Keep a stand-in so the conversation shows it and its ticks.
 */
static int
status_stand_in(struct ingest *in, const struct wa_change *c,
    int64_t number_id, const struct wa_status_event *s, int64_t *id)
{
	struct store_message sm = { 0 };
	int64_t contact_id, conversation_id;
	int existed;

	*id = 0;
	if (s->recipient_id == NULL && s->recipient_user_id == NULL)
		return 0;
	if (contact_for(in, c, number_id, s->recipient_id,
	    s->recipient_user_id, &contact_id) != 0 ||
	    store_conversation_for(in->st, number_id, contact_id, in->now,
	    &conversation_id) != 0)
		return -1;
	sm.number_id = number_id;
	sm.conversation_id = conversation_id;
	sm.wamid = s->id;
	sm.direction = "out";
	sm.type = "external";
	sm.ts = s->timestamp ? s->timestamp : in->now;
	sm.received_at = in->now;
	sm.status = "sent";
	sm.status_at = sm.ts;
	if (store_message_add(in->st, &sm, id, &existed) != 0)
		return -1;
	return store_conversation_activity(in->st, conversation_id, sm.ts, 0,
	    *id);
}

static int
ingest_status(struct ingest *in, const struct wa_change *c,
    int64_t number_id, const struct wa_status_event *s)
{
	const char *current_name;
	enum wa_status current;
	cJSON *failure = NULL;
	int64_t id, ts;
	int duplicate, rc = 0;

	if (s->id == NULL || s->status_text == NULL)
		return event(in, c, number_id, "status without id or status",
		    s->json);
	ts = s->timestamp ? s->timestamp : in->now;
	if (store_status_add(in->st, number_id, s->id, s->status_text, ts,
	    &duplicate) != 0)
		return -1;
	if (duplicate) {
		in->res->statuses_seen++;
		return 0;
	}
	in->res->statuses++;
	if (s->status == WA_STATUS_NONE) {
		/* deleted, warning, or a value from the future: on record in
		 * the statuses table, no effect on the ticks. */
		return 0;
	}
	if (store_message_find(in->st, number_id, s->id, &id, NULL) != 0)
		return -1;
	if (id == 0 && s->biz_opaque != NULL &&
	    strncmp(s->biz_opaque, OUTBOUND_OPAQUE_PREFIX,
	    strlen(OUTBOUND_OPAQUE_PREFIX)) == 0) {
		/* Our own send whose answer has not been recorded yet (or was
		 * lost to a timeout): the echoed id names the message. */
		char *end;
		long long mine = strtoll(s->biz_opaque +
		    strlen(OUTBOUND_OPAQUE_PREFIX), &end, 10);
		int claimed;

		if (*end == '\0' && mine > 0) {
			claimed = store_message_claim_wamid(in->st, number_id,
			    mine, s->id);
			if (claimed < 0)
				return -1;
			if (claimed == 1)
				id = mine;
		}
	}
	if (id == 0 && status_stand_in(in, c, number_id, s, &id) != 0)
		return -1;
	if (id == 0)
		return 0;
	if (store_message_status(in->st, id, &current_name) != 0)
		return -1;
	current = wa_status_parse(current_name);
	if (s->status == WA_STATUS_FAILED)
		failure = failure_of(s);
	if (s->status > current)
		rc = store_message_set_status(in->st, id, s->status_text, ts,
		    failure);
	else if (failure != NULL)
		/* Delivered already, yet a device failed: keep the reason. */
		rc = store_message_set_failure(in->st, id, failure);
	cJSON_Delete(failure);
	return rc;
}

static int
ingest_template(struct ingest *in, const struct wa_change *c)
{
	const cJSON *v = c->value;
	struct store_template t = { 0 };
	char idbuf[32];
	const cJSON *tid = cJSON_GetObjectItemCaseSensitive(v,
	    "message_template_id");
	int64_t id;

	if (cJSON_IsString(tid))
		t.template_id = tid->valuestring;
	else if (jx_int64(v, "message_template_id", &id) == 0) {
		snprintf(idbuf, sizeof idbuf, "%" PRId64, id);
		t.template_id = idbuf;
	}
	if (t.template_id == NULL)
		return event(in, c, 0, "template update without an id", v);
	t.waba_id = c->waba_id;
	t.name = jx_str(v, "message_template_name");
	t.language = jx_str(v, "message_template_language");
	t.status = jx_str(v, "event");
	t.reason = jx_str(v, "reason");
	t.category = jx_str(v, "message_template_category");
	return store_template_upsert(in->st, &t, in->now, &id);
}

/* A number disconnected by "glivi-relay number disconnect". */
static int
disconnected(struct ingest *in, const struct relay_number *n)
{
	return store_number_disconnected(in->st, n->store_id) == 1;
}

static int
ingest_change(struct ingest *in, const struct wa_change *c)
{
	const struct relay_number *n;
	int64_t number_id = 0;
	int is_messages;

	if (c->field == NULL || c->value == NULL)
		return event(in, c, 0, "change without field or value", NULL);
	if (strcmp(c->field, "message_template_status_update") == 0)
		return ingest_template(in, c);

	if (c->phone_number_id != NULL) {
		n = relay_config_number(in->cfg, c->phone_number_id);
		if (n != NULL && disconnected(in, n))
			return 0; /* dropped, and logged, in ingest_webhook */
		if (n == NULL) {
			/* Never mixed into another inbox; kept for ops. */
			in->res->quarantined++;
			log_warn("ingest: webhook %" PRId64 " is for phone "
			    "number id %.40s, which this relay does not serve; "
			    "quarantined", in->webhook_id, c->phone_number_id);
			return store_quarantine_add(in->st, in->webhook_id,
			    in->now, c->phone_number_id, c->field, c->value);
		}
		number_id = n->store_id;
	}

	is_messages = strcmp(c->field, "messages") == 0 || c->echoes;
	if (!is_messages)
		return event(in, c, number_id, c->field, c->value);
	if (number_id == 0)
		return event(in, c, 0, "messages without a phone number id",
		    c->value);

	for (size_t i = 0; i < c->nmessages; i++) {
		if (ingest_message(in, c, number_id, &c->messages[i]) != 0)
			return -1;
	}
	for (size_t i = 0; i < c->nstatuses; i++) {
		if (ingest_status(in, c, number_id, &c->statuses[i]) != 0)
			return -1;
	}
	if (c->errors != NULL) {
		int64_t code = 0;

		jx_int64(cJSON_GetArrayItem(c->errors, 0), "code", &code);
		log_warn("ingest: webhook %" PRId64 " carries %d error(s) from "
		    "Meta (first code %" PRId64 ")", in->webhook_id,
		    cJSON_GetArraySize(c->errors), code);
		return event(in, c, number_id, "errors", c->errors);
	}
	return 0;
}

/*
 * Changes for a disconnected number are answered (so Meta stops
 * retrying) and kept nowhere: not even the raw body, which holds them.
 */
static size_t
count_disconnected(struct ingest *in, const struct wa_batch *batch)
{
	const struct relay_number *n;
	size_t k = 0;

	for (size_t i = 0; i < batch->nchanges; i++) {
		const char *pid = batch->changes[i].phone_number_id;

		if (pid != NULL && (n = relay_config_number(in->cfg, pid)) !=
		    NULL && disconnected(in, n)) {
			log_info("ingest: a change for phone number id %.40s, "
			    "which is disconnected, answered and not stored",
			    pid);
			k++;
		}
	}
	return k;
}

int
ingest_webhook(struct store *st, const struct relay_config *cfg,
    const void *body, size_t len, const struct wa_batch *batch, int64_t now,
    struct ingest_result *res)
{
	struct ingest in = { st, cfg, 0, now, res };
	int duplicate;

	memset(res, 0, sizeof *res);
	if (count_disconnected(&in, batch) > 0) {
		/* Retries of what is stored stay no-ops by wamid. */
		res->disconnected = 1;
		duplicate = 0;
	} else if (store_webhook_add(st, body, len, now, &in.webhook_id,
	    &duplicate) != 0)
		return -1;
	if (duplicate) {
		/* The same bytes were committed with their effects before. */
		res->duplicate_delivery = 1;
		return 0;
	}
	for (size_t i = 0; i < batch->nchanges; i++) {
		if (ingest_change(&in, &batch->changes[i]) != 0)
			return -1;
	}
	return 0;
}
