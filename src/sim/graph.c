/*
 * Graph API handlers: check the token, the number and the body the way
 * Meta does, apply injected errors, record what is accepted and schedule
 * its status webhooks. Never logs message text or tokens.
 */
#include "sim/graph.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/jsonx.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "sim/wire.h"

/* How long a timeout_after_accept request is held at most. */
#define HOLD_MAX_MS (10 * 60 * 1000L)

/* -- the approved templates ------------------------------------------- */

struct tmpl {
	const char *id;
	const char *name;
	const char *language;
	const char *category; /* as Graph lists it: UTILITY, MARKETING */
	const char *header;   /* a TEXT header, or NULL */
	const char *body;
	const char *footer;
	int params; /* {{1}}… in the body */
	const char *example[2];
};

static const struct tmpl templates[] = {
	{ "1192837465019283", "hello_world", "en_US", "UTILITY", "Hello World",
	  "Welcome and congratulations!! This message demonstrates your "
	  "ability to send a WhatsApp message notification from the Cloud "
	  "API, hosted by Meta. Thank you for taking the time to test with "
	  "us.", "WhatsApp Business Platform sample message", 0,
	  { NULL, NULL } },
	{ "1192837465019284", "order_update", "en_US", "UTILITY", NULL,
	  "Hi {{1}}, there is an update on your order {{2}}. Reply to this "
	  "message if you have any questions.", NULL, 2,
	  { "Sheena", "5531" } },
	{ "1192837465019285", "order_update", "de", "UTILITY", NULL,
	  "Hallo {{1}}, es gibt Neuigkeiten zu deiner Bestellung {{2}}. "
	  "Antworte auf diese Nachricht, wenn du Fragen hast.", NULL, 2,
	  { "Sheena", "5531" } },
	{ "1192837465019286", "welcome_back", "en_US", "MARKETING", NULL,
	  "Hi {{1}}, we have missed you! Reply to this message to pick up "
	  "where we left off.", "Reply STOP to opt out", 1,
	  { "Sheena", NULL } },
};
#define NTEMPLATES (sizeof templates / sizeof templates[0])

/* -- refusals ---------------------------------------------------------- */

struct refusal {
	unsigned http;
	long code;
	char *details;
	int uncounted; /* not a request to /messages: not in sends_refused */
};

struct code_text {
	long code;
	const char *message;
};

static const struct code_text code_texts[] = {
	{ 131008, "(#131008) Required parameter is missing" },
	{ 131009, "(#131009) Parameter value is not valid" },
	{ 131051, "(#131051) Unsupported message type" },
	{ 132000, "(#132000) Number of parameters does not match the expected "
		  "number of params" },
	{ 132001, "(#132001) Template name does not exist in the translation" },
};

static int refuse(struct refusal *, long code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(struct refusal *f, long code, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	f->http = 400;
	f->code = code;
	f->details = xstrdup(tmp);
	return -1;
}

static void
trace_id(struct sim *s, char *out, size_t len)
{
	state_unique(s->state, "ASIM", out, len);
}

static enum MHD_Result
answer_refusal(struct sim *s, struct httpd_req *r, struct refusal *f)
{
	const char *message = NULL;
	char trace[48], *own = NULL;
	enum MHD_Result rc;

	for (size_t i = 0; i < sizeof code_texts / sizeof *code_texts; i++) {
		if (code_texts[i].code == f->code)
			message = code_texts[i].message;
	}
	/* Code 100 carries what is wrong in the message itself. */
	if (message == NULL)
		message = own = xasprintf("(#%ld) %s", f->code, f->details);
	trace_id(s, trace, sizeof trace);
	if (!f->uncounted)
		atomic_fetch_add(&state_stats(s->state)->sends_refused, 1);
	log_info("graph: refused a request: HTTP %u, code %ld", f->http,
	    f->code);
	rc = httpd_json(r, f->http, wire_error(message, "OAuthException",
	    f->code, 0, f->details, 0, trace));
	free(own);
	free(f->details);
	f->details = NULL;
	return rc;
}

static enum MHD_Result
answer_unauthorized(struct sim *s, struct httpd_req *r, int count_refused)
{
	char trace[48];

	trace_id(s, trace, sizeof trace);
	if (count_refused)
		atomic_fetch_add(&state_stats(s->state)->sends_refused, 1);
	log_info("graph: refused a request without a valid access token");
	return httpd_json(r, 401, wire_error("Invalid OAuth access token - "
	    "Cannot parse access token", "OAuthException", 190, 0, NULL, 0,
	    trace));
}

static enum MHD_Result
answer_unknown_object(struct sim *s, struct httpd_req *r, const char *verb,
    const char *id, int count_refused)
{
	char trace[48], *msg;
	enum MHD_Result rc;

	trace_id(s, trace, sizeof trace);
	if (count_refused)
		atomic_fetch_add(&state_stats(s->state)->sends_refused, 1);
	log_info("graph: refused a request for unknown object %s", id);
	msg = xasprintf("Unsupported %s request. Object with ID '%s' does not "
	    "exist, cannot be loaded due to missing permissions, or does not "
	    "support this operation. Please read the Graph API documentation "
	    "at https://developers.facebook.com/docs/graph-api", verb, id);
	rc = httpd_json(r, 400, wire_error(msg, "GraphMethodException", 100,
	    33, NULL, 0, trace));
	free(msg);
	return rc;
}

static int
authorized(struct sim *s, struct httpd_req *r)
{
	const char *h = httpd_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
	size_t n;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	n = strlen(h);
	return n == s->token_len && CRYPTO_memcmp(h, s->token, n) == 0;
}

/* -- what each injected error answers ---------------------------------- */

struct injected_answer {
	enum state_error error;
	long code;
	unsigned http;
	long subcode;
	int transient;
	const char *message;
	const char *details;
};

static const struct injected_answer injected_answers[] = {
	{ INJ_RATE_LIMIT, 130429, 400, 0, 0, "(#130429) Rate limit hit",
	  "Cloud API message throughput has been reached." },
	{ INJ_PAIR_RATE_LIMIT, 131056, 400, 0, 0, "(#131056) (Business "
	  "Account, Consumer Account) pair rate limit hit", "Message failed to "
	  "send because there were too many messages sent from this phone "
	  "number to the same phone number in a short period of time." },
	{ INJ_SERVER_ERROR, 2, 500, 0, 1, "An unexpected error has occurred. "
	  "Please retry your request later.", NULL },
	{ INJ_SERVER_ERROR, 131016, 500, 0, 1, "(#131016) Service unavailable",
	  "A service is temporarily unavailable. Please check the status page "
	  "at https://metastatus.com before retrying." },
	{ INJ_HTTP_429, 4, 429, 0, 1, "(#4) Application request limit reached",
	  NULL },
	{ INJ_WINDOW_CLOSED, 131047, 400, 0, 0, "(#131047) Re-engagement "
	  "message", "Message failed to send because more than 24 hours have "
	  "passed since the customer last replied to this number." },
	{ INJ_TOKEN_EXPIRED, 190, 401, 463, 0, NULL, NULL },
};

/* The error an injected answering kind gives; NULL for another kind. */
static cJSON *
injected_error(struct sim *s, const struct state_injection *inj,
    unsigned *http)
{
	const struct injected_answer *a = NULL;
	char trace[48], msg[256], when[64], now[64];
	time_t t = time(NULL), expired = t - 3600;
	struct tm tm;

	for (size_t i = 0; i < sizeof injected_answers /
	    sizeof *injected_answers; i++) {
		if (injected_answers[i].error == inj->error && (a == NULL ||
		    injected_answers[i].code == inj->code))
			a = &injected_answers[i];
	}
	if (a == NULL)
		return NULL;
	if (a->message != NULL)
		snprintf(msg, sizeof msg, "%s", a->message);
	else {
		gmtime_r(&expired, &tm);
		strftime(when, sizeof when, "%A, %d-%b-%Y %H:%M:%S UTC", &tm);
		gmtime_r(&t, &tm);
		strftime(now, sizeof now, "%A, %d-%b-%Y %H:%M:%S UTC", &tm);
		snprintf(msg, sizeof msg, "Error validating access token: "
		    "Session has expired on %s. The current time is %s.", when,
		    now);
	}
	trace_id(s, trace, sizeof trace);
	log_info("graph: injected %s: HTTP %u, code %ld",
	    state_error_name(inj->error), a->http, a->code);
	*http = a->http;
	return wire_error(msg, "OAuthException", a->code, a->subcode,
	    a->details, a->transient, trace);
}

static enum MHD_Result
answer_injected(struct sim *s, struct httpd_req *r,
    const struct state_injection *inj, int count_refused)
{
	unsigned http;
	cJSON *e = injected_error(s, inj, &http);

	if (e == NULL)
		return MHD_NO; /* not an answering kind: a bug in the caller */
	/* Template reads are not sends: they are not counted as refused. */
	if (count_refused)
		atomic_fetch_add(&state_stats(s->state)->sends_refused, 1);
	return httpd_json(r, http, e);
}

/* -- checking a send ---------------------------------------------------- */

struct send {
	cJSON *body;
	const char *type;
	const char *to;	   /* as given */
	char wa_id[24];	   /* digits of "to"; "" when sent by BSUID */
	const char *bsuid; /* "recipient" */
	const char *text;
	const char *biz;
	const char *context_id;
	struct sim *sim;
	int is_template;      /* a template of the list was found */
	char tmpl_name[520];
	char tmpl_category[32]; /* as listed: UTILITY, MARKETING, … */
};

/*
 * A string member: required or not, at most max UTF-16 units (Meta's
 * "characters"), at least min.
 */
static int
check_str(const cJSON *o, const char *key, const char *what, long min,
    long max, int required, const char **out, struct refusal *f)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	long n;

	if (out != NULL)
		*out = NULL;
	if (v == NULL || cJSON_IsNull(v)) {
		if (required)
			return refuse(f, 131008, "The parameter %s is required.",
			    what);
		return 0;
	}
	if (!cJSON_IsString(v))
		return refuse(f, 100, "Param %s must be a string.", what);
	n = utf8_utf16_length(v->valuestring, strlen(v->valuestring));
	if (n < 0)
		return refuse(f, 131009, "%s is not valid UTF-8", what);
	if (n < min)
		return refuse(f, 100, "Param %s must be at least %ld character%s "
		    "long.", what, min, min == 1 ? "" : "s");
	if (n > max)
		return refuse(f, 100, "Param %s must be at most %ld characters "
		    "long.", what, max);
	if (out != NULL)
		*out = v->valuestring;
	return 0;
}

static cJSON *
need_obj(const cJSON *o, const char *key, const char *what,
    struct refusal *f)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v)) {
		refuse(f, 131008, "The parameter %s is required.", what);
		return NULL;
	}
	if (!cJSON_IsObject(v)) {
		refuse(f, 100, "Param %s must be a JSON object.", what);
		return NULL;
	}
	return (cJSON *)v;
}

static int
check_text(struct send *m, const cJSON *o, struct refusal *f)
{
	const cJSON *pv = cJSON_GetObjectItemCaseSensitive(o, "preview_url");

	if (check_str(o, "body", "text['body']", 1, 4096, 1, &m->text, f) != 0)
		return -1;
	if (pv != NULL && !cJSON_IsBool(pv))
		return refuse(f, 100, "Param text['preview_url'] must be a "
		    "boolean.");
	return 0;
}

static int
check_reaction(struct send *m, const cJSON *o, struct refusal *f)
{
	const char *emoji;

	if (check_str(o, "message_id", "reaction['message_id']", 1, 128, 1,
	    NULL, f) != 0)
		return -1;
	/* "" removes a reaction; the emoji itself is one grapheme, which a
	 * few UTF-16 units (skin tones, ZWJ sequences) may spell. */
	if (cJSON_GetObjectItemCaseSensitive(o, "emoji") == NULL)
		return refuse(f, 131008, "The parameter reaction['emoji'] is "
		    "required.");
	if (check_str(o, "emoji", "reaction['emoji']", 0, 32, 0, &emoji,
	    f) != 0)
		return -1;
	return 0;
}

static int
check_media(struct send *m, const cJSON *o, struct refusal *f)
{
	const char *id, *link;
	char what[32];
	int captioned = strcmp(m->type, "image") == 0 ||
	    strcmp(m->type, "video") == 0 || strcmp(m->type, "document") == 0;

	snprintf(what, sizeof what, "%s['id']", m->type);
	if (check_str(o, "id", what, 1, 256, 0, &id, f) != 0)
		return -1;
	snprintf(what, sizeof what, "%s['link']", m->type);
	if (check_str(o, "link", what, 1, 2048, 0, &link, f) != 0)
		return -1;
	if (id == NULL && link == NULL)
		return refuse(f, 131008, "%s: one of id or link is required",
		    m->type);
	if (id != NULL && link != NULL)
		return refuse(f, 131009, "%s: give exactly one of id or link, "
		    "not both", m->type);
	if (link != NULL && strncmp(link, "https://", 8) != 0 &&
	    strncmp(link, "http://", 7) != 0)
		return refuse(f, 131009, "%s['link'] must be an http(s) URL",
		    m->type);
	if (!captioned && cJSON_GetObjectItemCaseSensitive(o, "caption"))
		return refuse(f, 131009, "%s does not take a caption", m->type);
	snprintf(what, sizeof what, "%s['caption']", m->type);
	if (check_str(o, "caption", what, 0, 1024, 0, &m->text, f) != 0)
		return -1;
	if (strcmp(m->type, "document") == 0 && check_str(o, "filename",
	    "document['filename']", 1, 240, 0, NULL, f) != 0)
		return -1;
	return 0;
}

static int
check_buttons(const cJSON *action, struct refusal *f)
{
	const cJSON *buttons = jx_arr(action, "buttons"), *b, *b2;
	int n = cJSON_GetArraySize(buttons), i = 0;

	if (buttons == NULL || n < 1 || n > 3)
		return refuse(f, 131009, "interactive['action']['buttons'] must "
		    "hold 1 to 3 buttons");
	cJSON_ArrayForEach(b, buttons) {
		const cJSON *reply = jx_obj(b, "reply");
		const char *id, *title;
		char what[64];

		if (!cJSON_IsObject(b) || jx_str(b, "type") == NULL ||
		    strcmp(jx_str(b, "type"), "reply") != 0 || reply == NULL)
			return refuse(f, 131009, "interactive['action']"
			    "['buttons'][%d] must be {\"type\":\"reply\","
			    "\"reply\":{\"id\",\"title\"}}", i);
		snprintf(what, sizeof what, "buttons[%d]['reply']['id']", i);
		if (check_str(reply, "id", what, 1, 256, 1, &id, f) != 0)
			return -1;
		snprintf(what, sizeof what, "buttons[%d]['reply']['title']", i);
		if (check_str(reply, "title", what, 1, 20, 1, &title, f) != 0)
			return -1;
		cJSON_ArrayForEach(b2, buttons) {
			const cJSON *r2 = jx_obj(b2, "reply");

			if (b2 == b)
				break;
			if ((jx_str(r2, "id") && strcmp(jx_str(r2, "id"),
			    id) == 0) || (jx_str(r2, "title") &&
			    strcmp(jx_str(r2, "title"), title) == 0))
				return refuse(f, 131009, "button ids and titles "
				    "must be unique");
		}
		i++;
	}
	return 0;
}

static int
check_list(const cJSON *action, struct refusal *f)
{
	const cJSON *sections = jx_arr(action, "sections"), *sec, *row;
	int nsec = cJSON_GetArraySize(sections), rows = 0, i = 0;
	char what[64];

	if (check_str(action, "button", "interactive['action']['button']", 1,
	    20, 1, NULL, f) != 0)
		return -1;
	if (sections == NULL || nsec < 1 || nsec > 10)
		return refuse(f, 131009, "interactive['action']['sections'] must "
		    "hold 1 to 10 sections");
	cJSON_ArrayForEach(sec, sections) {
		const cJSON *list = jx_arr(sec, "rows");
		int j = 0;

		if (!cJSON_IsObject(sec))
			return refuse(f, 131009, "sections[%d] must be a JSON "
			    "object", i);
		snprintf(what, sizeof what, "sections[%d]['title']", i);
		if (check_str(sec, "title", what, 1, 24, nsec > 1, NULL, f) != 0)
			return -1;
		if (list == NULL || cJSON_GetArraySize(list) < 1)
			return refuse(f, 131009, "sections[%d]['rows'] must hold "
			    "at least one row", i);
		cJSON_ArrayForEach(row, list) {
			snprintf(what, sizeof what,
			    "sections[%d]['rows'][%d]['id']", i, j);
			if (check_str(row, "id", what, 1, 200, 1, NULL, f) != 0)
				return -1;
			snprintf(what, sizeof what,
			    "sections[%d]['rows'][%d]['title']", i, j);
			if (check_str(row, "title", what, 1, 24, 1, NULL, f) != 0)
				return -1;
			snprintf(what, sizeof what,
			    "sections[%d]['rows'][%d]['description']", i, j);
			if (check_str(row, "description", what, 0, 72, 0, NULL,
			    f) != 0)
				return -1;
			j++;
			rows++;
		}
		i++;
	}
	if (rows > 10)
		return refuse(f, 131009, "a list holds at most 10 rows in all; "
		    "this one has %d", rows);
	return 0;
}

static int
check_interactive(struct send *m, const cJSON *o, struct refusal *f)
{
	const cJSON *body, *action, *header, *footer;
	const char *t;
	int list;

	if (check_str(o, "type", "interactive['type']", 1, 64, 1, &t, f) != 0)
		return -1;
	if (strcmp(t, "button") != 0 && strcmp(t, "list") != 0)
		return refuse(f, 100, "Param interactive['type'] must be one of "
		    "{BUTTON, LIST} - got \"%s\".", t);
	list = strcmp(t, "list") == 0;
	if ((body = need_obj(o, "body", "interactive['body']", f)) == NULL)
		return -1;
	if (check_str(body, "text", "interactive['body']['text']", 1,
	    list ? 4096 : 1024, 1, &m->text, f) != 0)
		return -1;
	if ((header = jx_obj(o, "header")) != NULL && jx_str(header, "type") &&
	    strcmp(jx_str(header, "type"), "text") == 0 && check_str(header,
	    "text", "interactive['header']['text']", 1, 60, 1, NULL, f) != 0)
		return -1;
	if (list && header != NULL && (jx_str(header, "type") == NULL ||
	    strcmp(jx_str(header, "type"), "text") != 0))
		return refuse(f, 131009, "a list's header must be of type text");
	if ((footer = jx_obj(o, "footer")) != NULL && check_str(footer, "text",
	    "interactive['footer']['text']", 1, 60, 1, NULL, f) != 0)
		return -1;
	if ((action = need_obj(o, "action", "interactive['action']", f)) ==
	    NULL)
		return -1;
	return list ? check_list(action, f) : check_buttons(action, f);
}

static int
count_params(const cJSON *components, const char *kind, int *n,
    struct refusal *f)
{
	const cJSON *c, *p;

	*n = 0;
	cJSON_ArrayForEach(c, components) {
		const char *t = jx_str(c, "type");

		if (t == NULL || strcasecmp(t, kind) != 0)
			continue;
		cJSON_ArrayForEach(p, jx_arr(c, "parameters")) {
			const char *pt = jx_str(p, "type");

			if (pt == NULL)
				return refuse(f, 131008, "The parameter "
				    "template['components'][%s]['parameters']"
				    "[%d]['type'] is required.", kind, *n);
			if (strcmp(pt, "text") == 0 && (jx_str(p, "text") ==
			    NULL || jx_str(p, "text")[0] == '\0'))
				return refuse(f, 131008, "The parameter "
				    "%s['parameters'][%d]['text'] is required.",
				    kind, *n);
			(*n)++;
		}
	}
	return 0;
}

/* The distinct {{…}} placeholders of a listed template's component text
 * (positional {{1}} or named {{name}}). */
static int
placeholders(const cJSON *tmpl, const char *kind)
{
	const cJSON *c;
	char seen[32][64];
	int n = 0;

	cJSON_ArrayForEach(c, jx_arr(tmpl, "components")) {
		const char *t = jx_str(c, "type"), *p = jx_str(c, "text"), *e;

		if (t == NULL || p == NULL || strcasecmp(t, kind) != 0)
			continue;
		while ((p = strstr(p, "{{")) != NULL &&
		    (e = strstr(p + 2, "}}")) != NULL) {
			int dup = 0;
			size_t len = (size_t)(e - p - 2);

			for (int i = 0; i < n; i++) {
				if (strlen(seen[i]) == len &&
				    strncmp(seen[i], p + 2, len) == 0)
					dup = 1;
			}
			if (!dup && n < 32 && len < sizeof seen[0]) {
				memcpy(seen[n], p + 2, len);
				seen[n++][len] = '\0';
			}
			p = e + 2;
		}
	}
	return n;
}

static int
check_template(struct send *m, const cJSON *o, struct refusal *f)
{
	const cJSON *lang, *components, *c;
	const char *name, *code, *status;
	cJSON *t;
	int body, header, want_body, want_header;

	if (check_str(o, "name", "template['name']", 1, 512, 1, &name, f) != 0)
		return -1;
	if ((lang = need_obj(o, "language", "template['language']", f)) ==
	    NULL)
		return -1;
	if (check_str(lang, "code", "template['language']['code']", 1, 16, 1,
	    &code, f) != 0)
		return -1;
	components = cJSON_GetObjectItemCaseSensitive(o, "components");
	if (components != NULL && !cJSON_IsArray(components))
		return refuse(f, 131009, "template['components'] must be an "
		    "array");
	/* Only an approved template of the current list can be sent. */
	t = state_template_find(m->sim->state, name, code);
	status = jx_str(t, "status");
	if (t == NULL || status == NULL || strcmp(status, "APPROVED") != 0) {
		cJSON_Delete(t);
		return refuse(f, 132001, "template name (%s) does not exist in "
		    "%s", name, code);
	}
	want_body = placeholders(t, "BODY");
	want_header = placeholders(t, "HEADER");
	snprintf(m->tmpl_name, sizeof m->tmpl_name, "%s", name);
	snprintf(m->tmpl_category, sizeof m->tmpl_category, "%s",
	    jx_str(t, "category") ? jx_str(t, "category") : "UTILITY");
	m->is_template = 1;
	cJSON_Delete(t);
	if (count_params(components, "body", &body, f) != 0 ||
	    count_params(components, "header", &header, f) != 0)
		return -1;
	if (body != want_body)
		return refuse(f, 132000, "body: number of localizable_params "
		    "(%d) does not match the expected number of params (%d)",
		    body, want_body);
	if (header != want_header)
		return refuse(f, 132000, "header: number of localizable_params "
		    "(%d) does not match the expected number of params (%d)",
		    header, want_header);
	cJSON_ArrayForEach(c, components) {
		const char *ct = jx_str(c, "type");

		if (ct != NULL && strcasecmp(ct, "button") == 0)
			return refuse(f, 131009, "Button at index %s of type %s "
			    "does not exist", jx_str(c, "index") ?
			    jx_str(c, "index") : "0", jx_str(c, "sub_type") ?
			    jx_str(c, "sub_type") : "?");
	}
	return 0;
}

static int
check_location(struct send *m, const cJSON *o, struct refusal *f)
{
	static const char *keys[] = { "latitude", "longitude" };
	static const double lim[] = { 90, 180 };
	double d;

	for (int i = 0; i < 2; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);

		if (v == NULL)
			return refuse(f, 131008, "The parameter location['%s'] "
			    "is required.", keys[i]);
		if (jx_number(v, &d) != 0 || d < -lim[i] || d > lim[i])
			return refuse(f, 131009, "location['%s'] must be a "
			    "number within ±%g", keys[i], lim[i]);
	}
	return 0;
}

static int
check_contacts(struct send *m, const cJSON *body, struct refusal *f)
{
	const cJSON *cards = cJSON_GetObjectItemCaseSensitive(body, "contacts"),
	    *c;
	int i = 0;

	if (!cJSON_IsArray(cards) || cJSON_GetArraySize(cards) < 1)
		return refuse(f, 131008, "The parameter contacts is required "
		    "(an array of contact cards).");
	cJSON_ArrayForEach(c, cards) {
		if (jx_str(jx_obj(c, "name"), "formatted_name") == NULL)
			return refuse(f, 131008, "The parameter contacts[%d]"
			    "['name']['formatted_name'] is required.", i);
		i++;
	}
	return 0;
}

typedef int (*check_fn)(struct send *, const cJSON *, struct refusal *);

/* The types a send may have; obj: whether it has "<type>": {…}. */
static const struct send_type {
	const char *name;
	int obj;
	check_fn check;
} send_types[] = {
	{ "audio", 1, check_media },
	{ "contacts", 0, check_contacts },
	{ "document", 1, check_media },
	{ "image", 1, check_media },
	{ "interactive", 1, check_interactive },
	{ "location", 1, check_location },
	{ "reaction", 1, check_reaction },
	{ "sticker", 1, check_media },
	{ "template", 1, check_template },
	{ "text", 1, check_text },
	{ "video", 1, check_media },
};
#define NSEND_TYPES (sizeof send_types / sizeof send_types[0])

static check_fn
send_type_check(const char *type)
{
	for (size_t i = 0; i < NSEND_TYPES; i++) {
		if (strcmp(send_types[i].name, type) == 0)
			return send_types[i].check;
	}
	return NULL;
}

static int
check_recipient(struct send *m, const cJSON *body, struct refusal *f)
{
	const cJSON *to = cJSON_GetObjectItemCaseSensitive(body, "to");
	const cJSON *rcpt = cJSON_GetObjectItemCaseSensitive(body,
	    "recipient");
	const char *rt = jx_str(body, "recipient_type"), *p;
	size_t n = 0;

	if (cJSON_GetObjectItemCaseSensitive(body, "recipient_type") != NULL &&
	    (rt == NULL || strcmp(rt, "individual") != 0))
		return refuse(f, 100, "Param recipient_type must be one of "
		    "{INDIVIDUAL} - got \"%s\".", rt ? rt : "?");
	if (to != NULL) {
		if (!cJSON_IsString(to))
			return refuse(f, 100, "Param to must be a string.");
		m->to = p = to->valuestring;
		if (*p == '+')
			p++;
		while (*p >= '0' && *p <= '9' && n + 1 < sizeof m->wa_id)
			m->wa_id[n++] = *p++;
		m->wa_id[n] = '\0';
		if (*p != '\0' || n < 5 || n > 20) {
			m->wa_id[0] = '\0';
			return refuse(f, 131009, "to: expected a phone number "
			    "(5 to 20 digits, an optional leading +)");
		}
		/* "to" wins when both are given; "recipient" is ignored. */
		return 0;
	}
	if (rcpt == NULL)
		return refuse(f, 100, "The parameter to is required.");
	if (!cJSON_IsString(rcpt))
		return refuse(f, 100, "Param recipient must be a string.");
	p = rcpt->valuestring;
	n = strlen(p);
	if (n < 4 || n > 128 || strchr(p, '.') == NULL)
		return refuse(f, 131009, "recipient: expected a business-scoped "
		    "user id such as US.13491208655302741918");
	for (; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '.')
			return refuse(f, 131009, "recipient: expected a "
			    "business-scoped user id such as "
			    "US.13491208655302741918");
	}
	m->bsuid = rcpt->valuestring;
	return 0;
}

static int
check_send(struct send *m, const cJSON *body, struct refusal *f)
{
	const struct send_type *t = NULL;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(body, "type");
	const cJSON *obj, *ctx;

	if (check_recipient(m, body, f) != 0)
		return -1;
	/* Meta's default type is text. */
	if (type != NULL && !cJSON_IsString(type))
		return refuse(f, 100, "Param type must be a string.");
	m->type = type ? type->valuestring : "text";
	for (size_t i = 0; i < NSEND_TYPES; i++) {
		if (strcmp(send_types[i].name, m->type) == 0)
			t = &send_types[i];
	}
	if (t == NULL)
		return refuse(f, 100, "Param type must be one of {AUDIO, "
		    "CONTACTS, DOCUMENT, IMAGE, INTERACTIVE, LOCATION, REACTION, "
		    "STICKER, TEMPLATE, TEXT, VIDEO} - got \"%.64s\".", m->type);
	if (t->obj) {
		if ((obj = need_obj(body, m->type, m->type, f)) == NULL)
			return -1;
	} else
		obj = body;
	if (t->check(m, obj, f) != 0)
		return -1;
	ctx = cJSON_GetObjectItemCaseSensitive(body, "context");
	if (ctx != NULL) {
		if (!cJSON_IsObject(ctx))
			return refuse(f, 131009, "context must be a JSON object");
		if (check_str(ctx, "message_id", "context['message_id']", 1, 128,
		    1, &m->context_id, f) != 0)
			return -1;
	}
	if (check_str(body, "biz_opaque_callback_data",
	    "biz_opaque_callback_data", 0, 512, 0, &m->biz, f) != 0)
		return -1;
	return 0;
}

/* -- accepting a send --------------------------------------------------- */

static void
schedule_statuses(struct sim *s, const struct sim_number *n,
    const char *wamid, const struct send *m, long fail_code, int in_window)
{
	static const char *names[3] = { "sent", "delivered", "read" };
	const long *delays = s->cfg->delays;
	struct wire_origin from = { s->cfg->waba_id, n->id, n->display };
	struct wire_status st;
	int64_t base = hooks_now_ms(), now = (int64_t)time(NULL);
	char conv[64], what[200], category[16];

	memset(&st, 0, sizeof st);
	st.wamid = wamid;
	st.recipient_id = m->wa_id[0] ? m->wa_id : NULL;
	st.recipient_user_id = m->wa_id[0] ? NULL : m->bsuid;
	st.biz_opaque = m->biz;
	if (fail_code != 0) {
		/* Meta reports such a failure once, where "sent" would be. */
		long d = delays[0] >= 0 ? delays[0] : 0;

		st.status = "failed";
		st.error_code = fail_code;
		st.timestamp = now + d / 1000;
		snprintf(what, sizeof what, "failed (%ld) for %s", fail_code,
		    wamid);
		hooks_schedule(s->hooks, base + d, wire_status_webhook(&from,
		    &st), what);
		return;
	}
	if (m->is_template) {
		size_t i;

		for (i = 0; m->tmpl_category[i] != '\0' && i + 1 <
		    sizeof category; i++)
			category[i] = (char)tolower(
			    (unsigned char)m->tmpl_category[i]);
		category[i] = '\0';
		st.billable = !(in_window && strcmp(category, "utility") == 0);
	} else {
		snprintf(category, sizeof category, "service");
		st.billable = 0;
	}
	state_unique(s->state, "SIMCONV", conv, sizeof conv);
	for (int i = 0; i < 3; i++) {
		if (delays[i] < 0)
			continue;
		/* A reaction only ever gets "sent". */
		if (i > 0 && strcmp(m->type, "reaction") == 0)
			break;
		st.status = names[i];
		st.timestamp = now + delays[i] / 1000;
		/* Pricing rides on sent and on delivered; the conversation
		 * only on sent. */
		st.category = i < 2 ? category : NULL;
		st.conversation_id = i == 0 ? conv : NULL;
		snprintf(what, sizeof what, "%s for %s", names[i], wamid);
		hooks_schedule(s->hooks, base + delays[i],
		    wire_status_webhook(&from, &st), what);
	}
}

static enum MHD_Result
accept_send(struct sim *s, struct httpd_req *r, const struct sim_number *n,
    struct send *m, long fail_code, const char *outcome, int hold)
{
	char wamid[64];
	const char *media_id;
	cJSON *e, *o, *c;
	int in_window = fail_code == 0;

	state_unique(s->state, "wamid.SIM", wamid, sizeof wamid);
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "wamid", wamid);
	cJSON_AddStringToObject(e, "number", n->id);
	jx_add_str(e, "to", m->to);
	jx_add_str(e, "wa_id", m->wa_id[0] ? m->wa_id : NULL);
	jx_add_str(e, "recipient", m->wa_id[0] ? NULL : m->bsuid);
	cJSON_AddStringToObject(e, "type", m->type);
	jx_add_str(e, "text", strcmp(m->type, "text") == 0 ? m->text : NULL);
	jx_add_str(e, "biz_opaque_callback_data", m->biz);
	jx_add_str(e, "template", m->is_template ? m->tmpl_name : NULL);
	jx_add_str(e, "context_message_id", m->context_id);
	if ((media_id = jx_str(jx_obj(m->body, m->type), "id")) != NULL &&
	    check_media == send_type_check(m->type)) {
		/* Which file the send names, and whether this number may
		 * send it (Meta's ids are usable by the number that owns
		 * them). */
		cJSON_AddStringToObject(e, "media_id", media_id);
		cJSON_AddBoolToObject(e, "media_known", state_media_usable(
		    s->state, n->id, media_id));
	}
	cJSON_AddStringToObject(e, "outcome", outcome);
	/* When Meta got it: its rate limits count arrivals, not how long
	 * this process took to get to it. */
	cJSON_AddNumberToObject(e, "received_at",
	    floor(r->arrived * 1000) / 1000);
	cJSON_AddItemToObject(e, "request", cJSON_Duplicate(m->body, 1));
	state_record_send(s->state, e);
	atomic_fetch_add(&state_stats(s->state)->sends_accepted, 1);
	log_info("graph: accepted %s %s from %s (%s)", m->type, wamid, n->id,
	    outcome);
	if (m->is_template && fail_code == 0)
		in_window = state_window_is_open(s->state, n->id, m->wa_id[0] ?
		    m->wa_id : m->bsuid, (int64_t)time(NULL),
		    s->cfg->all_windows_open);
	schedule_statuses(s, n, wamid, m, fail_code, in_window);
	if (hold) {
		httpd_hold(r, HOLD_MAX_MS);
		log_info("graph: closed the held request for %s unanswered",
		    wamid);
		return MHD_NO;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "messaging_product", "whatsapp");
	c = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "contacts"), c);
	cJSON_AddStringToObject(c, "input", m->to ? m->to : m->bsuid);
	if (m->wa_id[0])
		cJSON_AddStringToObject(c, "wa_id", m->wa_id);
	else
		cJSON_AddStringToObject(c, "user_id", m->bsuid);
	c = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "messages"), c);
	cJSON_AddStringToObject(c, "id", wamid);
	if (m->is_template)
		cJSON_AddStringToObject(c, "message_status", "accepted");
	return httpd_json(r, 200, o);
}

/* -- the handlers ------------------------------------------------------- */

static enum MHD_Result
mark_read(struct sim *s, struct httpd_req *r, const struct sim_number *n,
    const cJSON *body)
{
	const char *status = jx_str(body, "status"), *id;
	const cJSON *ti = cJSON_GetObjectItemCaseSensitive(body,
	    "typing_indicator");
	struct state_injection inj;
	struct refusal f = { 0 };
	int hold = 0;
	cJSON *e, *o;

	if (status == NULL || strcmp(status, "read") != 0) {
		refuse(&f, 100, "Param status must be one of {READ} - got "
		    "\"%.32s\".", status ? status : "?");
		return answer_refusal(s, r, &f);
	}
	if (check_str(body, "message_id", "message_id", 1, 128, 1, &id,
	    &f) != 0)
		return answer_refusal(s, r, &f);
	if (ti != NULL && (!cJSON_IsObject(ti) || jx_str(ti, "type") == NULL ||
	    strcmp(jx_str(ti, "type"), "text") != 0)) {
		refuse(&f, 131009, "typing_indicator must be "
		    "{\"type\":\"text\"}");
		return answer_refusal(s, r, &f);
	}
	if (state_inject_take(s->state, n->id, NULL, 0, ON_MARK_READ, &inj)) {
		switch (inj.error) {
		case INJ_SLOW:
			if (httpd_sleep(r, inj.ms) != 0)
				return MHD_NO;
			break;
		case INJ_TIMEOUT_AFTER_ACCEPT:
			hold = 1;
			break;
		case INJ_UNDELIVERABLE:
			break;
		default:
			return answer_injected(s, r, &inj, 1);
		}
	}
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "number", n->id);
	cJSON_AddStringToObject(e, "message_id", id);
	cJSON_AddBoolToObject(e, "typing_indicator", ti != NULL);
	cJSON_AddNumberToObject(e, "received_at",
	    floor(r->arrived * 1000) / 1000);
	state_record_read(s->state, e);
	atomic_fetch_add(&state_stats(s->state)->mark_read, 1);
	if (hold) {
		httpd_hold(r, HOLD_MAX_MS);
		return MHD_NO;
	}
	o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "success");
	return httpd_json(r, 200, o);
}

enum MHD_Result
graph_messages(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	const struct sim_number *n;
	const char *mp, *recipients[3];
	struct state_injection inj;
	struct refusal f = { 0 };
	struct send m;
	cJSON *body;
	enum MHD_Result rc;
	long fail_code = 0;
	const char *outcome = "accepted";
	int hold = 0;

	if (!authorized(s, r))
		return answer_unauthorized(s, r, 1);
	if ((n = sim_number_find(s, a->id)) == NULL)
		return answer_unknown_object(s, r, "post", a->id, 1);
	body = cJSON_ParseWithLength(r->body.data ? r->body.data : "",
	    r->body.len);
	if (!cJSON_IsObject(body)) {
		cJSON_Delete(body);
		refuse(&f, 100, "Invalid parameter: the request body is not a "
		    "JSON object.");
		return answer_refusal(s, r, &f);
	}
	mp = jx_str(body, "messaging_product");
	if (cJSON_GetObjectItemCaseSensitive(body, "messaging_product") ==
	    NULL)
		refuse(&f, 100, "The parameter messaging_product is required.");
	else if (mp == NULL || strcmp(mp, "whatsapp") != 0)
		refuse(&f, 100, "Param messaging_product must be one of "
		    "{WHATSAPP} - got \"%.32s\".", mp ? mp : "?");
	if (f.details != NULL) {
		cJSON_Delete(body);
		return answer_refusal(s, r, &f);
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "status") != NULL) {
		rc = mark_read(s, r, n, body);
		cJSON_Delete(body);
		return rc;
	}

	memset(&m, 0, sizeof m);
	m.body = body;
	m.sim = s;
	if (check_send(&m, body, &f) != 0) {
		cJSON_Delete(body);
		return answer_refusal(s, r, &f);
	}
	recipients[0] = m.to;
	recipients[1] = m.wa_id[0] ? m.wa_id : NULL;
	recipients[2] = m.bsuid;
	if (state_inject_take(s->state, n->id, recipients, 3, ON_SEND, &inj)) {
		switch (inj.error) {
		case INJ_SLOW:
			log_info("graph: injected slow: answering in %ld ms",
			    inj.ms);
			if (httpd_sleep(r, inj.ms) != 0) {
				cJSON_Delete(body);
				return MHD_NO;
			}
			break;
		case INJ_TIMEOUT_AFTER_ACCEPT:
			hold = 1;
			outcome = "timeout_after_accept";
			break;
		case INJ_UNDELIVERABLE:
			fail_code = 131026;
			outcome = "undeliverable";
			break;
		default:
			cJSON_Delete(body);
			return answer_injected(s, r, &inj, 1);
		}
	}
	if (fail_code == 0 && !m.is_template && !state_window_is_open(s->state,
	    n->id, m.wa_id[0] ? m.wa_id : m.bsuid, (int64_t)time(NULL),
	    s->cfg->all_windows_open)) {
		/* Accepted now, failed later: how Meta reports 131047. */
		fail_code = 131047;
		outcome = "window_closed";
	}
	rc = accept_send(s, r, n, &m, fail_code, outcome, hold);
	cJSON_Delete(body);
	return rc;
}

static cJSON *
template_json(const struct tmpl *t)
{
	cJSON *o = cJSON_CreateObject(), *comps, *c, *ex, *row;

	cJSON_AddStringToObject(o, "name", t->name);
	cJSON_AddStringToObject(o, "parameter_format", "POSITIONAL");
	comps = cJSON_AddArrayToObject(o, "components");
	if (t->header != NULL) {
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "type", "HEADER");
		cJSON_AddStringToObject(c, "format", "TEXT");
		cJSON_AddStringToObject(c, "text", t->header);
		cJSON_AddItemToArray(comps, c);
	}
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "type", "BODY");
	cJSON_AddStringToObject(c, "text", t->body);
	if (t->params > 0) {
		ex = cJSON_AddObjectToObject(c, "example");
		row = cJSON_CreateArray();
		for (int i = 0; i < t->params && i < 2; i++)
			cJSON_AddItemToArray(row,
			    cJSON_CreateString(t->example[i]));
		cJSON_AddItemToArray(cJSON_AddArrayToObject(ex, "body_text"),
		    row);
	}
	cJSON_AddItemToArray(comps, c);
	if (t->footer != NULL) {
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "type", "FOOTER");
		cJSON_AddStringToObject(c, "text", t->footer);
		cJSON_AddItemToArray(comps, c);
	}
	cJSON_AddStringToObject(o, "language", t->language);
	cJSON_AddStringToObject(o, "status", "APPROVED");
	cJSON_AddStringToObject(o, "category", t->category);
	cJSON_AddStringToObject(o, "id", t->id);
	return o;
}

cJSON *
graph_default_templates(void)
{
	cJSON *list = cJSON_CreateArray();

	for (size_t i = 0; i < NTEMPLATES; i++)
		cJSON_AddItemToArray(list, template_json(&templates[i]));
	return list;
}

/* Page cursors are "SIMCUR" and the index of the first template after. */
#define CURSOR_PREFIX "SIMCUR"
#define TEMPLATES_PAGE 25 /* Graph's default page size */

static int
parse_index(const char *s, const char *prefix, long max, long *out)
{
	size_t n = strlen(prefix);
	char *end;
	long v;

	if (strncmp(s, prefix, n) != 0 || s[n] < '0' || s[n] > '9')
		return -1;
	errno = 0;
	v = strtol(s + n, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

enum MHD_Result
graph_templates(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	const char *name = httpd_query(r, "name");
	const char *lang = httpd_query(r, "language");
	const char *limit_s = httpd_query(r, "limit");
	const char *after = httpd_query(r, "after");
	const char *host = httpd_header(r, MHD_HTTP_HEADER_HOST);
	struct state_injection inj;
	struct refusal f = { 0 };
	cJSON *list, *o, *data, *paging, *cur, *t;
	long page_size = 0, limit = TEMPLATES_PAGE, at = 0, n = 0, total = 0;
	char cursor[32], *raw, *next;
	unsigned status;
	size_t raw_len;
	enum MHD_Result rc;

	if (!authorized(s, r))
		return answer_unauthorized(s, r, 0);
	if (strcmp(a->id, s->cfg->waba_id) != 0)
		return answer_unknown_object(s, r, "get", a->id, 0);
	atomic_fetch_add(&state_stats(s->state)->templates_served, 1);
	if (state_inject_take(s->state, "", NULL, 0, ON_TEMPLATES, &inj)) {
		switch (inj.error) {
		case INJ_SLOW:
			if (httpd_sleep(r, inj.ms) != 0)
				return MHD_NO;
			break;
		case INJ_TIMEOUT_AFTER_ACCEPT:
			httpd_hold(r, HOLD_MAX_MS);
			return MHD_NO;
		case INJ_UNDELIVERABLE:
			break;
		default:
			return answer_injected(s, r, &inj, 0);
		}
	}
	if (state_templates_take_raw(s->state, &status, &raw, &raw_len)) {
		log_info("graph: a raw answer to message_templates: HTTP %u, "
		    "%zu bytes", status, raw_len);
		rc = httpd_respond(r, status, "application/json; charset=UTF-8",
		    raw, raw_len);
		free(raw);
		return rc;
	}
	f.uncounted = 1;
	if (limit_s != NULL && parse_index(limit_s, "", 1000, &limit) != 0)
		refuse(&f, 100, "Param limit must be an integer from 1 to 1000");
	else if (limit == 0)
		refuse(&f, 100, "Param limit must be an integer from 1 to 1000");
	else if (after != NULL && parse_index(after, CURSOR_PREFIX, 10000000,
	    &at) != 0)
		refuse(&f, 100, "Invalid after cursor");
	if (f.details != NULL)
		return answer_refusal(s, r, &f);

	list = state_templates_json(s->state, &page_size);
	if (page_size > 0 && limit > page_size)
		limit = page_size;
	o = cJSON_CreateObject();
	data = cJSON_AddArrayToObject(o, "data");
	cJSON_ArrayForEach(t, list) {
		if ((name != NULL && (jx_str(t, "name") == NULL ||
		    strcmp(name, jx_str(t, "name")) != 0)) || (lang != NULL &&
		    (jx_str(t, "language") == NULL || strcmp(lang,
		    jx_str(t, "language")) != 0)))
			continue;
		if (total >= at && n < limit) {
			cJSON_AddItemToArray(data, cJSON_Duplicate(t, 1));
			n++;
		}
		total++;
	}
	cJSON_Delete(list);
	if (at > total) {
		cJSON_Delete(o);
		refuse(&f, 100, "Invalid after cursor");
		return answer_refusal(s, r, &f);
	}
	if (n > 0) {
		paging = cJSON_AddObjectToObject(o, "paging");
		cur = cJSON_AddObjectToObject(paging, "cursors");
		snprintf(cursor, sizeof cursor, CURSOR_PREFIX "%ld", at);
		cJSON_AddStringToObject(cur, "before", cursor);
		snprintf(cursor, sizeof cursor, CURSOR_PREFIX "%ld", at + n);
		cJSON_AddStringToObject(cur, "after", cursor);
		if (at + n < total) {
			next = xasprintf("%s://%s/%s/%s/message_templates?"
			    "limit=%ld&after=%s", s->cfg->plain_http ? "http" :
			    "https", host ? host : "localhost", a->version,
			    a->id, limit, cursor);
			cJSON_AddStringToObject(paging, "next", next);
			free(next);
		}
	}
	return httpd_json(r, 200, o);
}

char *
graph_status_body(struct sim *s, const cJSON *sent, const char *status,
    long error_code, int64_t timestamp)
{
	const struct sim_number *n = sim_number_find(s, jx_str(sent,
	    "number") ? jx_str(sent, "number") : "");
	struct wire_origin from;
	struct wire_status st;

	if (n == NULL)
		return NULL;
	from.waba_id = s->cfg->waba_id;
	from.phone_number_id = n->id;
	from.display_phone_number = n->display;
	memset(&st, 0, sizeof st);
	st.wamid = jx_str(sent, "wamid");
	st.status = status;
	st.timestamp = timestamp;
	st.recipient_id = jx_str(sent, "wa_id");
	st.recipient_user_id = st.recipient_id ? NULL : jx_str(sent,
	    "recipient");
	st.biz_opaque = jx_str(sent, "biz_opaque_callback_data");
	if (strcmp(status, "failed") == 0)
		st.error_code = error_code ? error_code : 131000;
	return wire_status_webhook(&from, &st);
}

/* -- shared with the media endpoints ------------------------------------ */

int
graph_authorized(struct sim *s, struct httpd_req *r)
{
	return authorized(s, r);
}

enum MHD_Result
graph_unauthorized(struct sim *s, struct httpd_req *r)
{
	return answer_unauthorized(s, r, 0);
}

enum MHD_Result
graph_unknown_object(struct sim *s, struct httpd_req *r, const char *verb,
    const char *id)
{
	return answer_unknown_object(s, r, verb, id, 0);
}

cJSON *
graph_injected_error(struct sim *s, const struct state_injection *inj,
    unsigned *http)
{
	return injected_error(s, inj, http);
}

void
graph_trace_id(struct sim *s, char *out, size_t len)
{
	trace_id(s, out, len);
}
