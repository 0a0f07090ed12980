/*
 * Webhook payload parsing. Every level is an array and every field may be
 * missing, of another type, or new; this file indexes what is there and
 * leaves judging it to the ingest. It never allocates strings of its own:
 * numeric ids are turned into strings inside the tree itself.
 */
#include "core/wa.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jscan.h"
#include "core/jsonx.h"
#include "core/xalloc.h"

static const char *status_names[] = {
	[WA_STATUS_NONE] = "none",
	[WA_STATUS_QUEUED] = "queued",
	[WA_STATUS_SENT] = "sent",
	[WA_STATUS_FAILED] = "failed",
	[WA_STATUS_DELIVERED] = "delivered",
	[WA_STATUS_READ] = "read",
	[WA_STATUS_PLAYED] = "played",
};

enum wa_status
wa_status_parse(const char *s)
{
	if (s == NULL)
		return WA_STATUS_NONE;
	for (size_t i = WA_STATUS_SENT; i <= WA_STATUS_PLAYED; i++) {
		if (strcmp(s, status_names[i]) == 0)
			return (enum wa_status)i;
	}
	return WA_STATUS_NONE;
}

const char *
wa_status_name(enum wa_status s)
{
	if ((size_t)s >= sizeof status_names / sizeof status_names[0])
		return "none";
	return status_names[s];
}

/* Message types the inbox understands; anything else is kept as unknown. */
static const char *known_types[] = {
	"text", "image", "video", "audio", "document", "sticker", "location",
	"contacts", "interactive", "button", "reaction", "order", "system",
	"unsupported", "unknown", "request_welcome", "edit", "revoke", NULL
};

static int
is_known_type(const char *t)
{
	for (size_t i = 0; known_types[i] != NULL; i++) {
		if (strcmp(known_types[i], t) == 0)
			return 1;
	}
	return 0;
}

/*
 * Ids are strings on the wire, but some senders write digits as numbers.
 * Turn an integral number into its string in place so callers see one type.
 */
static const char *
id_member(cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char tmp[32];
	double d;

	if (cJSON_IsString(v))
		return v->valuestring;
	if (!cJSON_IsNumber(v))
		return NULL;
	d = v->valuedouble;
	/* Past 2^53 a double no longer holds every integer: the id would be
	 * silently another one. */
	if (!isfinite(d) || d < 0 || signbit(d) || d >= 9007199254740992.0 ||
	    floor(d) != d)
		return NULL;
	snprintf(tmp, sizeof tmp, "%.0f", d);
	cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateString(tmp));
	return jx_str(o, key);
}

static const char *
nonempty(const char *s)
{
	return (s != NULL && *s != '\0') ? s : NULL;
}

static void
parse_message(cJSON *json, struct wa_message *m)
{
	const char *type;
	cJSON *sub;

	memset(m, 0, sizeof *m);
	m->json = json;
	m->type = "unknown";
	if (!cJSON_IsObject(json))
		return;
	m->id = nonempty(id_member(json, "id"));
	m->from = nonempty(id_member(json, "from"));
	m->from_user_id = nonempty(jx_str(json, "from_user_id"));
	m->to = nonempty(id_member(json, "to"));
	m->to_user_id = nonempty(jx_str(json, "to_user_id"));
	if (jx_int64(json, "timestamp", &m->timestamp) != 0)
		m->timestamp = 0;

	type = nonempty(jx_str(json, "type"));
	if (type == NULL) {
		/* Some senders omit "type"; the typed object still names it. */
		for (size_t i = 0; known_types[i] != NULL; i++) {
			if (cJSON_GetObjectItemCaseSensitive(json,
			    known_types[i]) != NULL &&
			    strcmp(known_types[i], "unknown") != 0) {
				type = known_types[i];
				break;
			}
		}
	}
	m->type = type != NULL ? type : "unknown";
	m->known_type = is_known_type(m->type);

	sub = jx_obj(json, m->type);
	if (strcmp(m->type, "reaction") == 0)
		m->target_id = nonempty(jx_str(sub, "message_id"));
	else if (strcmp(m->type, "edit") == 0 ||
	    strcmp(m->type, "revoke") == 0)
		m->target_id = nonempty(jx_str(sub, "original_message_id"));
}

static void
parse_contact(cJSON *json, struct wa_contact *c)
{
	cJSON *profile = jx_obj(json, "profile");

	memset(c, 0, sizeof *c);
	if (!cJSON_IsObject(json))
		return;
	c->wa_id = nonempty(id_member(json, "wa_id"));
	c->user_id = nonempty(jx_str(json, "user_id"));
	c->parent_user_id = nonempty(jx_str(json, "parent_user_id"));
	c->name = nonempty(jx_str(profile, "name"));
	c->username = nonempty(jx_str(profile, "username"));
}

static void
parse_status(cJSON *json, struct wa_status_event *s)
{
	memset(s, 0, sizeof *s);
	s->json = json;
	if (!cJSON_IsObject(json))
		return;
	s->id = nonempty(id_member(json, "id"));
	s->status_text = nonempty(jx_str(json, "status"));
	s->status = wa_status_parse(s->status_text);
	if (jx_int64(json, "timestamp", &s->timestamp) != 0)
		s->timestamp = 0;
	s->recipient_id = nonempty(id_member(json, "recipient_id"));
	s->recipient_user_id = nonempty(jx_str(json, "recipient_user_id"));
	s->biz_opaque = jx_str(json, "biz_opaque_callback_data");
	s->errors = jx_arr(json, "errors");
}

static void
parse_change(const char *waba_id, cJSON *json, struct wa_change *c)
{
	cJSON *metadata, *arr, *item;
	size_t i;

	memset(c, 0, sizeof *c);
	c->waba_id = waba_id;
	if (!cJSON_IsObject(json))
		return;
	c->field = nonempty(jx_str(json, "field"));
	c->value = jx_obj(json, "value");
	if (c->value == NULL)
		return;
	metadata = jx_obj(c->value, "metadata");
	c->phone_number_id = nonempty(id_member(metadata, "phone_number_id"));
	c->display_phone_number =
	    nonempty(id_member(metadata, "display_phone_number"));
	c->errors = jx_arr(c->value, "errors");

	if ((arr = jx_arr(c->value, "contacts")) != NULL) {
		c->ncontacts = (size_t)cJSON_GetArraySize(arr);
		c->contacts = xcalloc(c->ncontacts, sizeof *c->contacts);
		i = 0;
		cJSON_ArrayForEach(item, arr)
			parse_contact(item, &c->contacts[i++]);
	}
	arr = jx_arr(c->value, "messages");
	if (arr == NULL && (arr = jx_arr(c->value, "message_echoes")) != NULL)
		c->echoes = 1;
	if (arr != NULL) {
		c->nmessages = (size_t)cJSON_GetArraySize(arr);
		c->messages = xcalloc(c->nmessages, sizeof *c->messages);
		i = 0;
		cJSON_ArrayForEach(item, arr)
			parse_message(item, &c->messages[i++]);
	}
	if ((arr = jx_arr(c->value, "statuses")) != NULL) {
		c->nstatuses = (size_t)cJSON_GetArraySize(arr);
		c->statuses = xcalloc(c->nstatuses, sizeof *c->statuses);
		i = 0;
		cJSON_ArrayForEach(item, arr)
			parse_status(item, &c->statuses[i++]);
	}
}

int
wa_parse(const char *body, size_t len, struct wa_batch **out, char **cause)
{
	struct wa_batch *b;
	const char *end = NULL;
	cJSON *root, *entries, *entry, *changes, *change;
	size_t n = 0, i = 0;

	*out = NULL;
	if (len > WA_MAX_BODY) {
		*cause = xstrdup("body larger than the 4 MiB limit");
		return -1;
	}
	root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (root == NULL) {
		size_t at = (end != NULL && end >= body) ?
		    (size_t)(end - body) : 0;

		*cause = xasprintf("malformed JSON near byte %zu", at);
		return -1;
	}
	while (end < body + len && (*end == ' ' || *end == '\n' ||
	    *end == '\r' || *end == '\t'))
		end++;
	if (end != body + len) {
		*cause = xasprintf("text after the JSON value at byte %zu",
		    (size_t)(end - body));
		cJSON_Delete(root);
		return -1;
	}
	if (!cJSON_IsObject(root)) {
		*cause = xstrdup("body is not a JSON object");
		cJSON_Delete(root);
		return -1;
	}
	entries = jx_arr(root, "entry");
	if (entries == NULL) {
		*cause = xstrdup("no \"entry\" array");
		cJSON_Delete(root);
		return -1;
	}

	cJSON_ArrayForEach(entry, entries) {
		changes = jx_arr(entry, "changes");
		if (changes != NULL)
			n += (size_t)cJSON_GetArraySize(changes);
	}
	b = xcalloc(1, sizeof *b);
	b->root = root;
	b->nchanges = n;
	b->changes = xcalloc(n, sizeof *b->changes);
	cJSON_ArrayForEach(entry, entries) {
		const char *waba_id;

		if (!cJSON_IsObject(entry))
			continue;
		waba_id = nonempty(id_member(entry, "id"));
		changes = jx_arr(entry, "changes");
		if (changes == NULL)
			continue;
		cJSON_ArrayForEach(change, changes)
			parse_change(waba_id, change, &b->changes[i++]);
	}
	*out = b;
	return 0;
}

void
wa_batch_free(struct wa_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->nchanges; i++) {
		free(b->changes[i].contacts);
		free(b->changes[i].messages);
		free(b->changes[i].statuses);
	}
	free(b->changes);
	cJSON_Delete(b->root);
	free(b);
}

const struct wa_contact *
wa_change_contact(const struct wa_change *c, const char *wa_id,
    const char *user_id)
{
	for (size_t i = 0; i < c->ncontacts; i++) {
		const struct wa_contact *k = &c->contacts[i];

		if (user_id != NULL && k->user_id != NULL &&
		    strcmp(k->user_id, user_id) == 0)
			return k;
		if (wa_id != NULL && k->wa_id != NULL &&
		    strcmp(k->wa_id, wa_id) == 0)
			return k;
	}
	/* A lone contact with no ids to compare is the sender. */
	if (c->ncontacts == 1 && (wa_id == NULL || c->contacts[0].wa_id ==
	    NULL) && (user_id == NULL || c->contacts[0].user_id == NULL))
		return &c->contacts[0];
	return NULL;
}

static int
is_media(const char *t)
{
	return strcmp(t, "image") == 0 || strcmp(t, "video") == 0 ||
	    strcmp(t, "audio") == 0 || strcmp(t, "document") == 0 ||
	    strcmp(t, "sticker") == 0;
}

const char *
wa_message_text(const struct wa_message *m)
{
	cJSON *sub, *inner;
	const char *t = m->type, *s = NULL;

	if (!cJSON_IsObject(m->json))
		return NULL;
	sub = jx_obj(m->json, t);
	if (strcmp(t, "text") == 0)
		s = jx_str(sub, "body");
	else if (is_media(t))
		s = jx_str(sub, "caption");
	else if (strcmp(t, "button") == 0)
		s = jx_str(sub, "text");
	else if (strcmp(t, "interactive") == 0) {
		inner = jx_obj(sub, jx_str(sub, "type") ? jx_str(sub, "type") :
		    "");
		s = jx_str(inner, "title");
		if (s == NULL)
			s = jx_str(inner, "body");
	} else if (strcmp(t, "location") == 0) {
		s = jx_str(sub, "name");
		if (s == NULL)
			s = jx_str(sub, "address");
	} else if (strcmp(t, "system") == 0)
		s = jx_str(sub, "body");
	else if (strcmp(t, "order") == 0)
		s = jx_str(sub, "text");
	else if (strcmp(t, "edit") == 0) {
		inner = jx_obj(sub, "message");
		if (inner != NULL) {
			struct wa_message im = { .json = inner,
				.type = jx_str(inner, "type") };

			if (im.type != NULL && strcmp(im.type, "edit") != 0)
				s = wa_message_text(&im);
		}
	}
	return nonempty(s);
}

cJSON *
wa_message_media(const struct wa_message *m)
{
	static const char *keys[] = { "id", "mime_type", "sha256", "filename",
		"caption", "url", NULL };
	cJSON *sub, *out, *v;

	if (!cJSON_IsObject(m->json) || m->type == NULL || !is_media(m->type) ||
	    (sub = jx_obj(m->json, m->type)) == NULL)
		return NULL;
	out = cJSON_CreateObject();
	for (size_t i = 0; keys[i] != NULL; i++) {
		const char *s = keys[i][0] == 'i' ? id_member(sub, keys[i]) :
		    jx_str(sub, keys[i]);

		if (s != NULL)
			cJSON_AddStringToObject(out, keys[i], s);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(sub, "file_size")) != NULL) {
		double d;

		if (jx_number(v, &d) == 0 && d >= 0 && d <= 9007199254740992.0)
			jx_add_int(out, "file_size", (int64_t)d);
	}
	if (cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(sub, "voice")))
		cJSON_AddBoolToObject(out, "voice", jx_bool(sub, "voice"));
	if (cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(sub, "animated")))
		cJSON_AddBoolToObject(out, "animated",
		    jx_bool(sub, "animated"));
	return out;
}

/* Whether a string value, unescaped, is text. */
static int
string_is(const struct jscan_val *v, const char *text)
{
	size_t n = (size_t)(v->end - v->start) - 2;
	struct buf b;
	int same;

	if (memchr(v->start + 1, '\\', n) == NULL)
		return strlen(text) == n && memcmp(v->start + 1, text, n) == 0;
	buf_init(&b);
	jscan_string(v, &b);
	same = strlen(text) == b.len &&
	    (b.len == 0 || memcmp(b.data, text, b.len) == 0);
	buf_free(&b);
	return same;
}

/* wa_text_redundant's walk: bodies seen, and whether anything says more. */
struct redundant {
	const char *text;
	int bodies, more;
};

static void
redundant_member(void *arg, const struct jscan_val *key,
    const struct jscan_val *v)
{
	struct redundant *r = arg;
	struct jscan_val tkey, tv;
	const char *tcur = NULL;

	if (jscan_key_is(key, "text")) {
		if (v->type != JSCAN_OBJECT)
			r->more = 1;
		while (!r->more && jscan_next(v, &tcur, &tkey, &tv)) {
			r->bodies++;
			if (!jscan_key_is(&tkey, "body") ||
			    tv.type != JSCAN_STRING || !string_is(&tv, r->text))
				r->more = 1;
		}
	} else if (!jscan_key_is(key, "from") && !jscan_key_is(key, "id") &&
	    !jscan_key_is(key, "timestamp") && !jscan_key_is(key, "type"))
		r->more = 1;
}

int
wa_text_redundant(const char *wa, size_t len, const char *text)
{
	struct redundant r = { text, 0, 0 };

	/* One pass: each member is checked as it is read. */
	if (wa == NULL || text == NULL || jscan_document_members(wa,
	    wa + len, redundant_member, &r) != JSCAN_OBJECT)
		return 0;
	return !r.more && r.bodies == 1;
}
