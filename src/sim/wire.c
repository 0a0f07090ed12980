/*
 * Builders for Meta's JSON: what the Graph API answers on error and what
 * webhooks look like. Texts are Meta's own where the reference has them.
 */
#include "sim/wire.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/jsonx.h"
#include "core/xalloc.h"

#define ERROR_HREF \
	"https://developers.facebook.com/docs/whatsapp/cloud-api/support/" \
	"error-codes/"

struct webhook_error {
	long code;
	const char *title;
	const char *details;
};

static const struct webhook_error webhook_errors[] = {
	{ 131000, "Something went wrong", "Something went wrong" },
	{ 130429, "Rate limit hit", "Message failed to send because there "
	  "were too many messages sent from this phone number in a short "
	  "period of time" },
	{ 131026, "Message undeliverable", "Message Undeliverable." },
	{ 131047, "Re-engagement message", "Message failed to send because "
	  "more than 24 hours have passed since the customer last replied to "
	  "this number." },
	{ 131049, "This message was not delivered to maintain healthy "
	  "ecosystem engagement.", "In order to maintain a healthy ecosystem "
	  "engagement, the message failed to be delivered." },
	{ 131050, "Unable to deliver the message. This recipient has chosen "
	  "to stop receiving marketing messages on WhatsApp from your "
	  "business.", "Unable to deliver the message. This recipient has "
	  "chosen to stop receiving marketing messages on WhatsApp from your "
	  "business." },
	{ 131056, "(Business Account, Consumer Account) pair rate limit hit",
	  "Message failed to send because there were too many messages sent "
	  "from this phone number to the same phone number in a short period "
	  "of time." },
};

cJSON *
wire_error(const char *message, const char *type, long code, long subcode,
    const char *details, int transient, const char *fbtrace)
{
	cJSON *o = cJSON_CreateObject(), *e, *d;

	e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "message", message);
	cJSON_AddStringToObject(e, "type", type);
	jx_add_int(e, "code", code);
	if (subcode != 0)
		jx_add_int(e, "error_subcode", subcode);
	if (transient)
		cJSON_AddTrueToObject(e, "is_transient");
	if (details != NULL) {
		d = cJSON_AddObjectToObject(e, "error_data");
		cJSON_AddStringToObject(d, "messaging_product", "whatsapp");
		cJSON_AddStringToObject(d, "details", details);
	}
	cJSON_AddStringToObject(e, "fbtrace_id", fbtrace);
	return o;
}

cJSON *
wire_webhook_error(long code)
{
	const struct webhook_error *w = &webhook_errors[0];
	cJSON *o = cJSON_CreateObject(), *d;

	for (size_t i = 0; i < sizeof webhook_errors / sizeof *webhook_errors;
	    i++) {
		if (webhook_errors[i].code == code)
			w = &webhook_errors[i];
	}
	jx_add_int(o, "code", code);
	cJSON_AddStringToObject(o, "title", w->title);
	cJSON_AddStringToObject(o, "message", w->title);
	d = cJSON_AddObjectToObject(o, "error_data");
	cJSON_AddStringToObject(d, "details", w->details);
	cJSON_AddStringToObject(o, "href", ERROR_HREF);
	return o;
}

static char *
envelope(const struct wire_origin *from, cJSON *value_items,
    const char *items_key, cJSON *contact)
{
	cJSON *root = cJSON_CreateObject(), *entry, *e, *changes, *c, *v, *m;
	char *s;

	cJSON_AddStringToObject(root, "object", "whatsapp_business_account");
	entry = cJSON_AddArrayToObject(root, "entry");
	e = cJSON_CreateObject();
	cJSON_AddItemToArray(entry, e);
	cJSON_AddStringToObject(e, "id", from->waba_id);
	changes = cJSON_AddArrayToObject(e, "changes");
	c = cJSON_CreateObject();
	cJSON_AddItemToArray(changes, c);
	v = cJSON_AddObjectToObject(c, "value");
	cJSON_AddStringToObject(v, "messaging_product", "whatsapp");
	m = cJSON_AddObjectToObject(v, "metadata");
	cJSON_AddStringToObject(m, "display_phone_number",
	    from->display_phone_number);
	cJSON_AddStringToObject(m, "phone_number_id", from->phone_number_id);
	if (contact != NULL)
		cJSON_AddItemToArray(cJSON_AddArrayToObject(v, "contacts"),
		    contact);
	cJSON_AddItemToObject(v, items_key, value_items);
	cJSON_AddStringToObject(c, "field", "messages");
	s = jx_print(root);
	cJSON_Delete(root);
	return s;
}

char *
wire_status_webhook(const struct wire_origin *from,
    const struct wire_status *st)
{
	cJSON *list = cJSON_CreateArray(), *s, *o, *errs;
	char ts[24];

	s = cJSON_CreateObject();
	cJSON_AddItemToArray(list, s);
	cJSON_AddStringToObject(s, "id", st->wamid);
	cJSON_AddStringToObject(s, "status", st->status);
	snprintf(ts, sizeof ts, "%" PRId64, st->timestamp);
	cJSON_AddStringToObject(s, "timestamp", ts);
	if (st->recipient_id != NULL)
		cJSON_AddStringToObject(s, "recipient_id", st->recipient_id);
	if (st->recipient_user_id != NULL)
		cJSON_AddStringToObject(s, "recipient_user_id",
		    st->recipient_user_id);
	if (st->biz_opaque != NULL)
		cJSON_AddStringToObject(s, "biz_opaque_callback_data",
		    st->biz_opaque);
	if (st->conversation_id != NULL && st->category != NULL) {
		o = cJSON_AddObjectToObject(s, "conversation");
		cJSON_AddStringToObject(o, "id", st->conversation_id);
		snprintf(ts, sizeof ts, "%" PRId64, st->timestamp + 86400);
		cJSON_AddStringToObject(o, "expiration_timestamp", ts);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "origin"),
		    "type", st->category);
	}
	if (st->category != NULL) {
		o = cJSON_AddObjectToObject(s, "pricing");
		cJSON_AddBoolToObject(o, "billable", st->billable);
		cJSON_AddStringToObject(o, "pricing_model", "PMP");
		cJSON_AddStringToObject(o, "type", st->billable ? "regular" :
		    "free_customer_service");
		cJSON_AddStringToObject(o, "category", st->category);
	}
	if (st->error_code != 0) {
		errs = cJSON_AddArrayToObject(s, "errors");
		cJSON_AddItemToArray(errs, wire_webhook_error(st->error_code));
	}
	return envelope(from, list, "statuses", NULL);
}

char *
wire_message_webhook(const struct wire_origin *from, cJSON *contact,
    cJSON *message)
{
	cJSON *list = cJSON_CreateArray();

	cJSON_AddItemToArray(list, message);
	return envelope(from, list, "messages", contact);
}
