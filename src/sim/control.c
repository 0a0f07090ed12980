/*
 * /_sim/ handlers. Simulated customers' messages are built here from a
 * few fields (or taken raw), wrapped in Meta's envelope by wire.c and
 * posted at once, so a test knows the relay's answer when this returns.
 */
#include "sim/control.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/hmac.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/wamedia.h"
#include "core/xalloc.h"
#include "sim/graph.h"
#include "sim/wire.h"

enum MHD_Result
control_error(struct httpd_req *r, unsigned status, const char *message)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "error"), "message",
	    message);
	return httpd_json(r, status, o);
}

/* The request body as a JSON object, or NULL after answering 400. */
static cJSON *
body_object(struct httpd_req *r, enum MHD_Result *rc)
{
	cJSON *o = cJSON_ParseWithLength(r->body.data ? r->body.data : "",
	    r->body.len);

	if (cJSON_IsObject(o))
		return o;
	cJSON_Delete(o);
	*rc = control_error(r, 400, "the body must be a JSON object");
	return NULL;
}

/* The number named by "number", or the first one; NULL if unknown. */
static const struct sim_number *
number_of(struct sim *s, const cJSON *body)
{
	const char *id = jx_str(body, "number");

	if (cJSON_GetObjectItemCaseSensitive(body, "number") == NULL)
		return &s->cfg->numbers[0];
	return id ? sim_number_find(s, id) : NULL;
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return 0;
	}
	return 1;
}

/* -- injections --------------------------------------------------------- */

/* The kind of request a media error applies to; -1 for other errors. */
static int
media_error_on(enum state_error e)
{
	switch (e) {
	case INJ_MEDIA_UPLOAD_ERROR:
		return ON_UPLOAD;
	case INJ_MEDIA_URL_EXPIRED:
	case INJ_MEDIA_WRONG_SHA256:
		return ON_RESOLVE;
	case INJ_MEDIA_DOWNLOAD_ERROR:
		return ON_DOWNLOAD;
	default:
		return -1;
	}
}

/* Errors that mean something on any media request too. */
static int
generic_media_error(enum state_error e)
{
	return e == INJ_RATE_LIMIT || e == INJ_SERVER_ERROR ||
	    e == INJ_HTTP_429 || e == INJ_TOKEN_EXPIRED || e == INJ_SLOW;
}

enum MHD_Result
control_inject(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	static const char *ons[] = { "send", "mark_read", "any", "upload",
		"resolve", "download", "templates" };
	struct state_injection inj;
	enum MHD_Result rc = MHD_NO;
	const char *name, *on, *why = NULL;
	cJSON *body, *o, *q;
	int64_t v;
	size_t pending;
	int media_on, natural;

	if ((body = body_object(r, &rc)) == NULL)
		return rc;
	memset(&inj, 0, sizeof inj);
	inj.count = 1;
	inj.ms = 2000;
	inj.code = 2;
	name = jx_str(body, "error");
	if (name == NULL || state_error_parse(name, &inj.error) != 0) {
		cJSON_Delete(body);
		return control_error(r, 400, "\"error\" must be one of "
		    "rate_limit, pair_rate_limit, server_error, http_429, "
		    "window_closed, token_expired, slow, timeout_after_accept, "
		    "undeliverable, media_upload_error, media_url_expired, "
		    "media_wrong_sha256, media_download_error");
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "number") != NULL &&
	    ((inj.number = (char *)jx_str(body, "number")) == NULL ||
	    sim_number_find(s, inj.number) == NULL)) {
		cJSON_Delete(body);
		return control_error(r, 400, "\"number\" is not a "
		    "phone_number_id this simulator serves");
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "recipient") != NULL &&
	    (inj.recipient = (char *)jx_str(body, "recipient")) == NULL) {
		cJSON_Delete(body);
		return control_error(r, 400, "\"recipient\" must be a string");
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "media_id") != NULL &&
	    (inj.media_id = (char *)jx_str(body, "media_id")) == NULL) {
		cJSON_Delete(body);
		return control_error(r, 400, "\"media_id\" must be a string");
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "count") != NULL) {
		if (jx_int64(body, "count", &v) != 0 || v < 1 || v > 1000000) {
			cJSON_Delete(body);
			return control_error(r, 400, "\"count\" must be an "
			    "integer from 1 to 1000000");
		}
		inj.count = (long)v;
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "ms") != NULL) {
		if (jx_int64(body, "ms", &v) != 0 || v > 600000) {
			cJSON_Delete(body);
			return control_error(r, 400, "\"ms\" must be an integer "
			    "from 0 to 600000");
		}
		inj.ms = (long)v;
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "code") != NULL) {
		if (inj.error != INJ_SERVER_ERROR || jx_int64(body, "code",
		    &v) != 0 || (v != 2 && v != 131016)) {
			cJSON_Delete(body);
			return control_error(r, 400, "\"code\" is for "
			    "server_error only: 2 or 131016");
		}
		inj.code = (int)v;
	}
	natural = media_error_on(inj.error);
	inj.on = natural >= 0 ? (enum state_on)natural : ON_SEND;
	if ((on = jx_str(body, "on")) != NULL ||
	    cJSON_GetObjectItemCaseSensitive(body, "on") != NULL) {
		int found = 0;

		for (int i = 0; on != NULL &&
		    i < (int)(sizeof ons / sizeof ons[0]); i++) {
			if (strcmp(on, ons[i]) == 0) {
				inj.on = (enum state_on)i;
				found = 1;
			}
		}
		if (!found) {
			cJSON_Delete(body);
			return control_error(r, 400, "\"on\" must be send, "
			    "mark_read, any, upload, resolve, download or "
			    "templates");
		}
	}
	media_on = inj.on == ON_UPLOAD || inj.on == ON_RESOLVE ||
	    inj.on == ON_DOWNLOAD;
	if (natural >= 0 && (int)inj.on != natural)
		why = "a media_* error applies only to its own kind of request "
		    "(upload, resolve or download); leave \"on\" out";
	else if (media_on && natural < 0 && !generic_media_error(inj.error))
		why = "on upload, resolve or download only rate_limit, "
		    "server_error, http_429, token_expired, slow and the "
		    "media_* errors apply";
	else if (media_on && inj.recipient != NULL)
		why = "\"recipient\" does not apply to media requests";
	else if (inj.media_id != NULL && inj.on != ON_RESOLVE &&
	    inj.on != ON_DOWNLOAD)
		why = "\"media_id\" applies only to resolve and download "
		    "requests";
	else if (inj.on == ON_TEMPLATES && (inj.number != NULL ||
	    inj.recipient != NULL))
		why = "a template list has no number or recipient: leave them "
		    "out with \"on\": \"templates\"";
	if (why != NULL) {
		cJSON_Delete(body);
		return control_error(r, 400, why);
	}
	pending = state_inject_add(s->state, &inj);
	log_info("control: injected %s x%ld (on %s)%s%s",
	    state_error_name(inj.error), inj.count, ons[inj.on],
	    inj.number ? " for number " : "", inj.number ? inj.number : "");
	o = cJSON_CreateObject();
	q = cJSON_AddObjectToObject(o, "injected");
	cJSON_AddStringToObject(q, "error", state_error_name(inj.error));
	jx_add_str(q, "number", inj.number);
	jx_add_str(q, "recipient", inj.recipient);
	if (inj.media_id != NULL)
		cJSON_AddStringToObject(q, "media_id", inj.media_id);
	jx_add_int(q, "count", inj.count);
	cJSON_AddStringToObject(q, "on", ons[inj.on]);
	if (inj.error == INJ_SLOW)
		jx_add_int(q, "ms", inj.ms);
	if (inj.error == INJ_SERVER_ERROR)
		jx_add_int(q, "code", inj.code);
	jx_add_int(o, "pending", (int64_t)pending);
	cJSON_Delete(body);
	return httpd_json(r, 200, o);
}

/* -- simulated customers ------------------------------------------------ */

struct inbound {
	struct sim *s;
	const struct sim_number *number;
	const cJSON *req;
	const char *type;
	cJSON *msg;
	const char *why; /* what is wrong with the request */
};

static int
need_str(struct inbound *in, const char *key, const char **out,
    const char *why)
{
	*out = jx_str(in->req, key);
	if (*out == NULL) {
		in->why = why;
		return -1;
	}
	return 0;
}

static int
build_text(struct inbound *in)
{
	const char *text;

	if (need_str(in, "text", &text, "type text needs \"text\"") != 0)
		return -1;
	cJSON_AddStringToObject(cJSON_AddObjectToObject(in->msg, "text"),
	    "body", text);
	return 0;
}

/* Bytes for a customer's file when the test gave none: random, so each
 * file has its own sha256. */
#define GENERATED_MEDIA_SIZE 512

static int
build_media(struct inbound *in)
{
	static const struct {
		const char *type, *mime;
	} mimes[] = {
		{ "image", "image/jpeg" },
		{ "video", "video/mp4" },
		{ "audio", "audio/ogg; codecs=opus" },
		{ "document", "application/pdf" },
		{ "sticker", "image/webp" },
	};
	const char *mime = jx_str(in->req, "mime_type"), *caption;
	const char *media_id = jx_str(in->req, "media_id");
	unsigned char b64[48], bytes[GENERATED_MEDIA_SIZE];
	struct state_media m;
	cJSON *o;

	if (mime != NULL && !wamedia_mime_valid(mime)) {
		in->why = "\"mime_type\" is not a MIME type";
		return -1;
	}
	if (media_id != NULL) {
		/* A file registered with POST /_sim/media: the relay can
		 * fetch these bytes. */
		if (!state_media_find(in->s->state, media_id, &m, NULL) ||
		    m.deleted) {
			in->why = "\"media_id\" is not a file this simulator "
			    "holds (POST /_sim/media registers one)";
			return -1;
		}
		if (strcmp(m.number, in->number->id) != 0) {
			in->why = "\"media_id\" was registered for another "
			    "number";
			return -1;
		}
		if (mime == NULL)
			mime = m.mime;
	} else {
		for (size_t i = 0; mime == NULL &&
		    i < sizeof mimes / sizeof *mimes; i++) {
			if (strcmp(mimes[i].type, in->type) == 0)
				mime = mimes[i].mime;
		}
		if (RAND_bytes(bytes, sizeof bytes) != 1) {
			in->why = "no random bytes for the file";
			return -1;
		}
		state_media_add(in->s->state, in->number->id, mime,
		    "registered", jx_str(in->req, "filename"), NULL, bytes,
		    sizeof bytes, &m);
	}
	/* Webhooks carry the digest in base64 (the Graph lookup in hex). */
	EVP_EncodeBlock(b64, m.sha256, sizeof m.sha256);
	o = cJSON_AddObjectToObject(in->msg, in->type);
	cJSON_AddStringToObject(o, "mime_type", mime);
	cJSON_AddStringToObject(o, "sha256", (const char *)b64);
	cJSON_AddStringToObject(o, "id", m.id);
	caption = jx_str(in->req, "caption") ? jx_str(in->req, "caption") :
	    jx_str(in->req, "text");
	if (caption != NULL && (strcmp(in->type, "image") == 0 ||
	    strcmp(in->type, "video") == 0 || strcmp(in->type,
	    "document") == 0))
		cJSON_AddStringToObject(o, "caption", caption);
	if (strcmp(in->type, "document") == 0)
		cJSON_AddStringToObject(o, "filename", jx_str(in->req,
		    "filename") ? jx_str(in->req, "filename") :
		    "document.pdf");
	if (strcmp(in->type, "audio") == 0)
		cJSON_AddBoolToObject(o, "voice", jx_bool(in->req, "voice"));
	if (strcmp(in->type, "sticker") == 0)
		cJSON_AddBoolToObject(o, "animated", jx_bool(in->req,
		    "animated"));
	return 0;
}

static int
build_reaction(struct inbound *in)
{
	const char *target, *emoji = jx_str(in->req, "emoji");
	cJSON *o;

	if (need_str(in, "message_id", &target, "type reaction needs "
	    "\"message_id\" (the wamid reacted to)") != 0)
		return -1;
	o = cJSON_AddObjectToObject(in->msg, "reaction");
	cJSON_AddStringToObject(o, "message_id", target);
	/* Meta omits the emoji when a reaction is removed. */
	if (emoji != NULL && *emoji != '\0')
		cJSON_AddStringToObject(o, "emoji", emoji);
	return 0;
}

static int
build_location(struct inbound *in)
{
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(in->req,
	    "latitude"), *lon = cJSON_GetObjectItemCaseSensitive(in->req,
	    "longitude");
	cJSON *o;

	if (!cJSON_IsNumber(lat) || !cJSON_IsNumber(lon)) {
		in->why = "type location needs numeric \"latitude\" and "
		    "\"longitude\"";
		return -1;
	}
	o = cJSON_AddObjectToObject(in->msg, "location");
	cJSON_AddNumberToObject(o, "latitude", lat->valuedouble);
	cJSON_AddNumberToObject(o, "longitude", lon->valuedouble);
	/* "name" is the customer's; the place has its own key. */
	if (jx_str(in->req, "place") != NULL)
		cJSON_AddStringToObject(o, "name", jx_str(in->req, "place"));
	if (jx_str(in->req, "address") != NULL)
		cJSON_AddStringToObject(o, "address", jx_str(in->req,
		    "address"));
	return 0;
}

static int
build_button(struct inbound *in)
{
	const char *text, *payload = jx_str(in->req, "payload");
	cJSON *o;

	if (need_str(in, "text", &text, "type button needs \"text\" (the "
	    "button's label)") != 0)
		return -1;
	o = cJSON_AddObjectToObject(in->msg, "button");
	cJSON_AddStringToObject(o, "payload", payload ? payload : text);
	cJSON_AddStringToObject(o, "text", text);
	return 0;
}

static int
build_interactive(struct inbound *in)
{
	const char *text, *id, *kind = jx_str(in->req, "reply_type");
	cJSON *o, *reply;

	if (kind == NULL)
		kind = "button_reply";
	if (strcmp(kind, "button_reply") != 0 && strcmp(kind,
	    "list_reply") != 0) {
		in->why = "\"reply_type\" must be button_reply or list_reply";
		return -1;
	}
	if (need_str(in, "text", &text, "type interactive needs \"text\" "
	    "(the reply's title)") != 0 || need_str(in, "reply_id", &id,
	    "type interactive needs \"reply_id\"") != 0)
		return -1;
	o = cJSON_AddObjectToObject(in->msg, "interactive");
	cJSON_AddStringToObject(o, "type", kind);
	reply = cJSON_AddObjectToObject(o, kind);
	cJSON_AddStringToObject(reply, "id", id);
	cJSON_AddStringToObject(reply, "title", text);
	if (jx_str(in->req, "description") != NULL && strcmp(kind,
	    "list_reply") == 0)
		cJSON_AddStringToObject(reply, "description", jx_str(in->req,
		    "description"));
	return 0;
}

static const struct inbound_type {
	const char *name;
	int (*build)(struct inbound *);
} inbound_types[] = {
	{ "text", build_text },
	{ "image", build_media },
	{ "video", build_media },
	{ "audio", build_media },
	{ "document", build_media },
	{ "sticker", build_media },
	{ "reaction", build_reaction },
	{ "location", build_location },
	{ "button", build_button },
	{ "interactive", build_interactive },
};
#define NINBOUND_TYPES (sizeof inbound_types / sizeof inbound_types[0])

enum MHD_Result
control_inbound(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	const struct sim_number *n;
	const struct inbound_type *t = NULL;
	struct inbound in;
	struct wire_origin from;
	const char *who, *user_id, *name, *ctx, *mtype;
	char wamid[160] = "", ts[24], *webhook, *cause = NULL;
	cJSON *body, *raw, *contact = NULL, *o;
	int64_t at = (int64_t)time(NULL);
	enum MHD_Result rc = MHD_NO;
	long status;

	if ((body = body_object(r, &rc)) == NULL)
		return rc;
	if ((n = number_of(s, body)) == NULL) {
		cJSON_Delete(body);
		return control_error(r, 400, "\"number\" is not a "
		    "phone_number_id this simulator serves");
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "timestamp") != NULL &&
	    jx_int64(body, "timestamp", &at) != 0) {
		cJSON_Delete(body);
		return control_error(r, 400, "\"timestamp\" must be Unix "
		    "seconds");
	}
	who = jx_str(body, "from");
	user_id = jx_str(body, "user_id");
	name = jx_str(body, "name") ? jx_str(body, "name") : "Sim Customer";
	memset(&in, 0, sizeof in);
	in.s = s;
	in.number = n;
	in.req = body;
	if ((raw = jx_obj(body, "message")) != NULL) {
		/* Sent as given; only the window needs to know who wrote. */
		in.msg = cJSON_Duplicate(raw, 1);
		if (jx_str(raw, "id") != NULL)
			snprintf(wamid, sizeof wamid, "%s", jx_str(raw, "id"));
		if (who == NULL)
			who = jx_str(raw, "from");
		if (user_id == NULL)
			user_id = jx_str(raw, "from_user_id");
		mtype = jx_str(raw, "type");
	} else {
		if (who == NULL && user_id == NULL) {
			cJSON_Delete(body);
			return control_error(r, 400, "\"from\" (a wa_id) or "
			    "\"user_id\" (a BSUID) is required");
		}
		if (who != NULL && !all_digits(who)) {
			cJSON_Delete(body);
			return control_error(r, 400, "\"from\" must be a wa_id: "
			    "digits only");
		}
		in.type = jx_str(body, "type") ? jx_str(body, "type") : "text";
		for (size_t i = 0; i < NINBOUND_TYPES; i++) {
			if (strcmp(inbound_types[i].name, in.type) == 0)
				t = &inbound_types[i];
		}
		if (t == NULL) {
			cJSON_Delete(body);
			return control_error(r, 400, "this type has no builder; "
			    "give the whole message as a raw \"message\" "
			    "object");
		}
		state_unique(s->state, "wamid.SIMIN", wamid, sizeof wamid);
		snprintf(ts, sizeof ts, "%" PRId64, at);
		in.msg = cJSON_CreateObject();
		if (who != NULL)
			cJSON_AddStringToObject(in.msg, "from", who);
		if (user_id != NULL)
			cJSON_AddStringToObject(in.msg, "from_user_id",
			    user_id);
		cJSON_AddStringToObject(in.msg, "id", wamid);
		cJSON_AddStringToObject(in.msg, "timestamp", ts);
		cJSON_AddStringToObject(in.msg, "type", in.type);
		if ((ctx = jx_str(body, "context")) != NULL) {
			o = cJSON_AddObjectToObject(in.msg, "context");
			cJSON_AddStringToObject(o, "from", n->display);
			cJSON_AddStringToObject(o, "id", ctx);
		}
		if (t->build(&in) != 0) {
			cJSON_Delete(in.msg);
			cJSON_Delete(body);
			return control_error(r, 400, in.why);
		}
		mtype = in.type;
	}
	/* System messages carry no contacts array. */
	if ((who != NULL || user_id != NULL) && (mtype == NULL ||
	    strcmp(mtype, "system") != 0)) {
		contact = cJSON_CreateObject();
		cJSON_AddStringToObject(cJSON_AddObjectToObject(contact,
		    "profile"), "name", name);
		if (who != NULL)
			cJSON_AddStringToObject(contact, "wa_id", who);
		if (user_id != NULL)
			cJSON_AddStringToObject(contact, "user_id", user_id);
	}
	if (who != NULL)
		state_window_open(s->state, n->id, who, at);
	if (user_id != NULL)
		state_window_open(s->state, n->id, user_id, at);
	from.waba_id = s->cfg->waba_id;
	from.phone_number_id = n->id;
	from.display_phone_number = n->display;
	webhook = wire_message_webhook(&from, contact, in.msg);
	cJSON_Delete(body);

	status = hooks_post_now(s->hooks, webhook, strlen(webhook), &cause);
	free(webhook);
	atomic_fetch_add(&state_stats(s->state)->inbound_posted, 1);
	if (status == 0)
		log_warn("control: inbound %s not delivered: %s", wamid, cause);
	else
		log_info("control: inbound %s posted; the relay answered %ld",
		    wamid, status);
	o = cJSON_CreateObject();
	jx_add_str(o, "wamid", wamid[0] ? wamid : NULL);
	jx_add_int(o, "relay_status", status);
	if (cause != NULL)
		cJSON_AddStringToObject(o, "error", cause);
	free(cause);
	return httpd_json(r, 200, o);
}

/* -- extra statuses, windows -------------------------------------------- */

enum MHD_Result
control_status(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	const char *wamid, *status;
	char *webhook, *cause = NULL;
	cJSON *body, *sent, *o;
	int64_t code = 0, at = (int64_t)time(NULL);
	enum MHD_Result rc = MHD_NO;
	long http;

	if ((body = body_object(r, &rc)) == NULL)
		return rc;
	wamid = jx_str(body, "wamid");
	status = jx_str(body, "status");
	if (wamid == NULL || status == NULL || *status == '\0') {
		cJSON_Delete(body);
		return control_error(r, 400, "\"wamid\" and \"status\" are "
		    "required");
	}
	if ((cJSON_GetObjectItemCaseSensitive(body, "error_code") != NULL &&
	    jx_int64(body, "error_code", &code) != 0) ||
	    (cJSON_GetObjectItemCaseSensitive(body, "timestamp") != NULL &&
	    jx_int64(body, "timestamp", &at) != 0)) {
		cJSON_Delete(body);
		return control_error(r, 400, "\"error_code\" and \"timestamp\" "
		    "must be integers");
	}
	if ((sent = state_find_send(s->state, wamid)) == NULL) {
		cJSON_Delete(body);
		return control_error(r, 404, "no accepted send has this wamid");
	}
	webhook = graph_status_body(s, sent, status, (long)code, at);
	cJSON_Delete(sent);
	cJSON_Delete(body);
	if (webhook == NULL)
		return control_error(r, 500, "the send's number is gone");
	http = hooks_post_now(s->hooks, webhook, strlen(webhook), &cause);
	free(webhook);
	o = cJSON_CreateObject();
	jx_add_int(o, "relay_status", http);
	if (cause != NULL)
		cJSON_AddStringToObject(o, "error", cause);
	free(cause);
	return httpd_json(r, 200, o);
}

enum MHD_Result
control_window(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	const struct sim_number *n;
	const char *customer;
	const cJSON *open;
	int64_t age = 0, now = (int64_t)time(NULL);
	enum MHD_Result rc = MHD_NO;
	cJSON *body, *o;

	if ((body = body_object(r, &rc)) == NULL)
		return rc;
	n = number_of(s, body);
	customer = jx_str(body, "customer");
	open = cJSON_GetObjectItemCaseSensitive(body, "open");
	if (n == NULL || customer == NULL || !cJSON_IsBool(open) ||
	    (cJSON_GetObjectItemCaseSensitive(body, "age_seconds") != NULL &&
	    jx_int64(body, "age_seconds", &age) != 0)) {
		cJSON_Delete(body);
		return control_error(r, 400, "give \"customer\" (wa_id or "
		    "BSUID), \"open\" (true or false), optionally \"number\" "
		    "and \"age_seconds\"");
	}
	if (cJSON_IsTrue(open))
		state_window_open(s->state, n->id, customer, now - age);
	else
		state_window_close(s->state, n->id, customer);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "number", n->id);
	cJSON_AddStringToObject(o, "customer", customer);
	cJSON_AddBoolToObject(o, "open", state_window_is_open(s->state, n->id,
	    customer, now, s->cfg->all_windows_open));
	cJSON_Delete(body);
	return httpd_json(r, 200, o);
}

/* -- the WABA's templates ----------------------------------------------- */

#define MAX_TEMPLATES 10000

/* Each template needs what a relay keys and shows it by; anything else
 * is served as given. */
static const char *
template_problem(const cJSON *t)
{
	static const char *const keys[] = { "name", "language", "status",
		"category", "id" };

	if (!cJSON_IsObject(t))
		return "each template must be an object";
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (jx_str(t, keys[i]) == NULL)
			return "each template needs name, language, status, "
			    "category and id as strings";
	}
	if (cJSON_GetObjectItemCaseSensitive(t, "components") != NULL &&
	    jx_arr(t, "components") == NULL)
		return "components must be an array";
	return NULL;
}

enum MHD_Result
control_templates(struct sim *s, struct httpd_req *r,
    const struct sim_args *a)
{
	const cJSON *list, *t, *raw;
	enum MHD_Result rc = MHD_NO;
	cJSON *body, *o;
	int64_t v, page_size = 0, status = 200, count = 1, pad = 0;
	long served_size;
	const char *why;

	if (strcmp(r->method, "GET") == 0) {
		o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "templates", state_templates_json(
		    s->state, &served_size));
		jx_add_int(o, "page_size", served_size);
		jx_add_int(o, "raw_pending", state_templates_raw_pending(
		    s->state));
		return httpd_json(r, 200, o);
	}
	if ((body = body_object(r, &rc)) == NULL)
		return rc;
	list = cJSON_GetObjectItemCaseSensitive(body, "templates");
	raw = cJSON_GetObjectItemCaseSensitive(body, "raw");
	if ((list == NULL) == (raw == NULL)) {
		cJSON_Delete(body);
		return control_error(r, 400, "give \"templates\" (the new list) "
		    "or \"raw\" (an answer to serve as is)");
	}
	if (raw != NULL) {
		if (!cJSON_IsString(raw) ||
		    (cJSON_GetObjectItemCaseSensitive(body, "status") != NULL &&
		    (jx_int64(body, "status", &status) != 0 || status < 100 ||
		    status > 599)) ||
		    (cJSON_GetObjectItemCaseSensitive(body, "count") != NULL &&
		    (jx_int64(body, "count", &count) != 0 || count < 1 ||
		    count > 1000000)) ||
		    (cJSON_GetObjectItemCaseSensitive(body, "pad") != NULL &&
		    (jx_int64(body, "pad", &pad) != 0 || pad > (64 << 20)))) {
			cJSON_Delete(body);
			return control_error(r, 400, "\"raw\" is a string; "
			    "\"status\" an HTTP status; \"count\" from 1; "
			    "\"pad\" up to 64 MiB");
		}
		state_templates_raw(s->state, (unsigned)status,
		    raw->valuestring, (size_t)pad, (long)count);
		log_info("control: the next %lld template list(s) answer "
		    "HTTP %lld, %zu bytes", (long long)count, (long long)status,
		    strlen(raw->valuestring));
	} else {
		if (!cJSON_IsArray(list) ||
		    cJSON_GetArraySize(list) > MAX_TEMPLATES) {
			cJSON_Delete(body);
			return control_error(r, 400, "\"templates\" must be an "
			    "array of at most 10000 templates");
		}
		cJSON_ArrayForEach(t, list) {
			if ((why = template_problem(t)) != NULL) {
				cJSON_Delete(body);
				return control_error(r, 400, why);
			}
		}
		if (cJSON_GetObjectItemCaseSensitive(body, "page_size") !=
		    NULL) {
			if (jx_int64(body, "page_size", &v) != 0 || v > 1000) {
				cJSON_Delete(body);
				return control_error(r, 400, "\"page_size\" must "
				    "be 0 (as asked) to 1000");
			}
			page_size = v;
		}
		state_templates_set(s->state, cJSON_Duplicate(list, 1),
		    (long)page_size, 0);
		log_info("control: %d template(s), pages of at most %lld",
		    cJSON_GetArraySize(list), (long long)page_size);
	}
	cJSON_Delete(body);
	o = cJSON_CreateObject();
	cJSON_Delete(state_templates_json(s->state, &served_size));
	jx_add_int(o, "page_size", served_size);
	jx_add_int(o, "raw_pending", state_templates_raw_pending(s->state));
	return httpd_json(r, 200, o);
}

/* -- what happened ------------------------------------------------------ */

enum MHD_Result
control_sent(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	return httpd_json(r, 200, state_sent_json(s->state));
}

enum MHD_Result
control_reads(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	return httpd_json(r, 200, state_reads_json(s->state));
}

/* -- files for simulated customers ------------------------------------- */

enum MHD_Result
control_media_add(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	const char *mime = httpd_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *number = httpd_query(r, "number");
	const char *filename = httpd_query(r, "filename");
	const struct sim_number *n = &s->cfg->numbers[0];
	struct state_media m;
	unsigned char b64[48];
	char hex[65];
	cJSON *o;

	if (number != NULL && (n = sim_number_find(s, number)) == NULL)
		return control_error(r, 400, "?number= is not a phone_number_id "
		    "this simulator serves");
	if (mime == NULL || !wamedia_mime_valid(mime))
		return control_error(r, 400, "the Content-Type header must be "
		    "the file's MIME type");
	if (r->body.len == 0)
		return control_error(r, 400, "the body (the file) is empty");
	if (filename != NULL && (strlen(filename) > 240 ||
	    strpbrk(filename, "\r\n") != NULL))
		return control_error(r, 400, "?filename= is at most 240 "
		    "characters on one line");
	state_media_add(s->state, n->id, mime, "registered", filename, NULL,
	    r->body.data, r->body.len, &m);
	log_info("control: registered media %s (%zu bytes) for %s", m.id,
	    m.size, n->id);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", m.id);
	cJSON_AddStringToObject(o, "number", m.number);
	cJSON_AddStringToObject(o, "mime_type", m.mime);
	hex_encode(m.sha256, sizeof m.sha256, hex);
	cJSON_AddStringToObject(o, "sha256", hex);
	EVP_EncodeBlock(b64, m.sha256, sizeof m.sha256);
	cJSON_AddStringToObject(o, "sha256_base64", (const char *)b64);
	cJSON_AddNumberToObject(o, "file_size", (double)m.size);
	return httpd_json(r, 200, o);
}

enum MHD_Result
control_media_list(struct sim *s, struct httpd_req *r,
    const struct sim_args *a)
{
	return httpd_json(r, 200, state_media_json(s->state));
}

enum MHD_Result
control_stats(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	cJSON *o = state_stats_json(s->state);

	cJSON_AddNumberToObject(o, "webhooks_pending",
	    (double)hooks_pending(s->hooks));
	return httpd_json(r, 200, o);
}

enum MHD_Result
control_reset(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	cJSON *o = cJSON_CreateObject();

	state_reset(s->state);
	log_info("control: reset");
	cJSON_AddTrueToObject(o, "reset");
	return httpd_json(r, 200, o);
}
