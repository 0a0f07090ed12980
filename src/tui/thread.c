/*
 * The thread pane; see thread.h. It owns a window of a conversation's
 * messages, the notes and unsent replies that fall in it, and their lines
 * wrapped for the width last drawn. It reads the cache only when the
 * window moves or the cache changes, never to draw, and every string from
 * outside goes through utf8_sanitize before it is kept.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "client/cache.h"
#include "core/buf.h"
#include "core/jsonx.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "tui/theme.h"
#include "tui/thread.h"
#include "ui/canvas.h"
#include "ui/text.h"

/*
 * Messages read per step past the window's edge, and the most the window
 * keeps. A step is at least a screen of lines (every message takes two),
 * so the trimmed end is never on screen.
 */
#define CHUNK_MIN 64
#define WINDOW_CHUNKS 3
#define NOTES_MAX 256
/* How far back a reply's quoted message is looked for by wamid. */
#define QUOTE_DEPTH 200
/* Columns before every line: the direction marker and a space. */
#define GUTTER 2

enum item_kind { ITEM_MESSAGE, ITEM_NOTE, ITEM_EVENT, ITEM_PENDING };

/* A paragraph of an item: wrapped, or cut to one line. */
#define PARA_ONE_LINE 0x1
struct para {
	char *text; /* sanitised */
	int attr;
	int flags;
};

/* One drawn line of an item, into its rendered text. */
#define LINE_DAY 0x1	/* a day separator: centred, ruled */
#define LINE_HEADER 0x2 /* the selection shows on it */
struct line {
	size_t off, len;
	size_t split; /* bytes drawn with attr; the rest with attr2 */
	unsigned width;
	int attr, attr2;
	int flags;
};

struct item {
	enum item_kind kind;
	int64_t id;
	int64_t ts;
	char mark;	/* the gutter: < inbound, > outbound, # note, * event */
	int hidden;	/* reactions, edits, revokes: shown on their target */
	int event;	/* a system event: one line, no header */
	char *wamid;
	char *name;	/* sanitised */
	char *state;	/* delivery state, or NULL */
	int state_attr;
	int edited;
	int head_attr;
	struct para *paras;
	size_t npara;

	char *quote_wamid; /* what a reply quotes */
	int64_t quote_id;  /* ...once found; or the relay's reply_to */
	int quote_done;
	char *quote;	   /* "name: text", sanitised; NULL none */
	char *reactions;   /* sanitised; NULL none */
	char *relay_reaction;

	int has_media;
	struct thread_media media;

	/* Rendered for width rw (0: not yet), with a day rule when day. */
	int day;
	unsigned rw;
	struct buf text;
	struct line *lines;
	size_t nlines;
};

struct ivec {
	struct item **v;
	size_t n, cap;
};

struct agent_name {
	int64_t id;
	char *name;
};

struct thread {
	struct cache *cache;
	int64_t me;
	int64_t conv;
	char *contact; /* the customer's name, sanitised */
	struct agent_name *agents;
	size_t nagents;

	/* The window: messages in id order, and what lies past its edges. */
	struct ivec msgs;
	int at_start, at_end;
	int64_t before_ts; /* the message before the window; when !at_start */
	int64_t after_ts;  /* the message after it; when !at_end */
	struct ivec notes;
	struct ivec pending;
	/* What is drawn, in order: messages, notes by time, then pending. */
	struct ivec items;

	/* The view: item top, line off of it at the pane's top row. */
	size_t top;
	size_t off;
	int bottom; /* pinned to the newest line */
	int64_t sel;
	unsigned w, h;
};

/* Where the view is, by what it shows, to find again after a reload. */
struct pos {
	enum item_kind kind;
	int64_t id;
	size_t off;
	int valid;
};

static void window_changed(struct thread *);
static struct pos pos_save(const struct thread *);
static void pos_restore(struct thread *, struct pos);

/* -- small helpers ----------------------------------------------------- */

#define S(s) ((s) != NULL ? (s) : "")

/* An array of n elements; the counts here are far from overflowing. */
static void *
xgrow(void *p, size_t n, size_t size)
{
	return xrealloc(p, n * size);
}

static void
ivec_push(struct ivec *v, struct item *it)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->v = xgrow(v->v, v->cap, sizeof *v->v);
	}
	v->v[v->n++] = it;
}

static void
item_free(struct item *it)
{
	if (it == NULL)
		return;
	for (size_t i = 0; i < it->npara; i++)
		free(it->paras[i].text);
	free(it->paras);
	free(it->wamid);
	free(it->name);
	free(it->state);
	free(it->quote_wamid);
	free(it->quote);
	free(it->reactions);
	free(it->relay_reaction);
	buf_free(&it->text);
	free(it->lines);
	free(it);
}

static void
ivec_clear(struct ivec *v, int free_items)
{
	if (free_items) {
		for (size_t i = 0; i < v->n; i++)
			item_free(v->v[i]);
	}
	v->n = 0;
}

/* Untrusted text made safe to draw; NULL stays NULL. */
static char *
clean(const char *s, int flags)
{
	struct buf b;

	if (s == NULL)
		return NULL;
	buf_init(&b);
	utf8_sanitize(s, strlen(s), flags, &b);
	return b.data != NULL ? buf_steal(&b) : xstrdup("");
}

/*
 * Adds a paragraph. The formatted text is sanitised as a whole, so the
 * arguments may be anything from outside.
 */
static void __attribute__((format(printf, 4, 5)))
para_add(struct item *it, int attr, int flags, const char *fmt, ...)
{
	va_list ap;
	char *raw;
	struct para *p;

	va_start(ap, fmt);
	if (vasprintf(&raw, fmt, ap) < 0)
		raw = NULL;
	va_end(ap);
	if (raw == NULL)
		return;
	it->paras = xgrow(it->paras, it->npara + 1, sizeof *it->paras);
	p = &it->paras[it->npara++];
	p->text = clean(raw, (flags & PARA_ONE_LINE) ? 0 : UTF8_KEEP_NEWLINES);
	p->attr = attr;
	p->flags = flags;
	free(raw);
	it->rw = 0;
}

static int
nonempty(const char *s)
{
	return s != NULL && *s != '\0';
}

static void
hhmm(int64_t ts, char out[8])
{
	time_t t = (time_t)ts;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(out, 8, "%H:%M", &tm) == 0)
		snprintf(out, 8, "--:--");
}

/* A local day as one number, for day separators. */
static long
day_of(int64_t ts)
{
	time_t t = (time_t)ts;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 +
	    tm.tm_mday;
}

static void
size_text(int64_t n, char *out, size_t len)
{
	if (n < 1024)
		snprintf(out, len, "%lld B", (long long)n);
	else if (n < 1024 * 1024)
		snprintf(out, len, "%.1f KB", (double)n / 1024);
	else if (n < 1024LL * 1024 * 1024)
		snprintf(out, len, "%.1f MB", (double)n / (1024 * 1024));
	else
		snprintf(out, len, "%.1f GB", (double)n / (1024.0 * 1024 *
		    1024));
}

/* Parses an entity's JSON; a \u0000 inside would cut C strings short. */
static cJSON *
parse(const char *data, size_t len)
{
	char *copy;
	cJSON *o;

	if (!jx_has_nul_escape(data, len))
		return cJSON_ParseWithLength(data, len);
	copy = xstrndup(data, len);
	jx_nul_escapes_to_soh(copy, len);
	o = cJSON_ParseWithLength(copy, len);
	free(copy);
	return o;
}

/* -- names ------------------------------------------------------------- */

static const char *
agent_name(struct thread *t, int64_t id)
{
	cJSON *a;
	char *name;

	if (id == 0)
		return "business";
	if (id == t->me)
		return "you";
	for (size_t i = 0; i < t->nagents; i++) {
		if (t->agents[i].id == id)
			return t->agents[i].name;
	}
	a = cache_entity(t->cache, "agent", id);
	name = nonempty(jx_str(a, "name")) ? clean(jx_str(a, "name"), 0) :
	    xasprintf("agent %lld", (long long)id);
	cJSON_Delete(a);
	t->agents = xgrow(t->agents, t->nagents + 1,
	    sizeof *t->agents);
	t->agents[t->nagents].id = id;
	t->agents[t->nagents].name = name;
	return t->agents[t->nagents++].name;
}

/* The customer, as the conversation list names them. */
static char *
contact_name(struct thread *t)
{
	cJSON *conv, *ct = NULL;
	int64_t cid = 0;
	const char *keys[] = { "display_name", "profile_name", "wa_id",
		"username", "user_id" };
	char *name = NULL;

	conv = cache_entity(t->cache, "conversation", t->conv);
	if (conv != NULL && jx_int64(conv, "contact_id", &cid) == 0)
		ct = cache_entity(t->cache, "contact", cid);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0] && !name; i++) {
		if (nonempty(jx_str(ct, keys[i])))
			name = clean(jx_str(ct, keys[i]), 0);
	}
	cJSON_Delete(ct);
	cJSON_Delete(conv);
	return name != NULL ? name : xstrdup("customer");
}

/* -- what a message shows ----------------------------------------------- */

/* A message's parts, for the describers. */
struct view {
	const cJSON *d;	  /* the entity */
	const cJSON *wa;  /* Meta's message, or the agent's request */
	const cJSON *sub; /* wa's member named after the type */
	const char *type;
	const char *text; /* text, caption or title; edited when edited */
	int out;
};

static int
body_attr(const struct item *it)
{
	return it->mark == '>' ? THEME_OUTBOUND : THEME_INBOUND;
}

static void
ty_text(struct thread *t, struct item *it, const struct view *v)
{
	(void)t;
	if (v->text != NULL)
		para_add(it, body_attr(it), 0, "%s", v->text);
	else
		para_add(it, THEME_DIM, 0, "(empty message)");
}

/*
 * A media id as the relay serves them (1 to 128 letters, digits, _ or -):
 * it goes into a request path, so anything else is no file to open.
 */
static int
media_id_ok(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	return n >= 1 && n <= 128 && strspn(id, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static void
ty_media(struct thread *t, struct item *it, const struct view *v)
{
	const cJSON *m = jx_obj(v->d, "media");
	const char *fn = jx_str(m, "filename"), *id = jx_str(m, "id");
	const char *what = v->type;
	char size[32] = "";
	int64_t n = -1;

	(void)t;
	if (m == NULL)
		m = v->sub;
	if (jx_int64(m, "file_size", &n) == 0 && n >= 0)
		size_text(n, size, sizeof size);
	if (strcmp(v->type, "audio") == 0 && jx_bool(m, "voice"))
		what = "voice message";
	para_add(it, body_attr(it) | CANVAS_BOLD, 0, "[%s%s%s]%s%s", what,
	    *size ? ", " : "", size, nonempty(fn) ? " " : "", S(fn));
	if (v->text != NULL)
		para_add(it, body_attr(it), 0, "%s", v->text);
	if (media_id_ok(id)) {
		struct thread_media *md = &it->media;
		char *f = clean(fn, 0), *mime = clean(jx_str(m, "mime_type"), 0);

		it->has_media = 1;
		snprintf(md->id, sizeof md->id, "%s", id);
		snprintf(md->mime, sizeof md->mime, "%s", S(mime));
		snprintf(md->filename, sizeof md->filename, "%s", S(f));
		snprintf(md->kind, sizeof md->kind, "%s", v->type);
		md->size = n;
		free(mime);
		free(f);
	}
}

static void
ty_location(struct thread *t, struct item *it, const struct view *v)
{
	const cJSON *l = v->sub;
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(l, "latitude");
	const cJSON *lon = cJSON_GetObjectItemCaseSensitive(l, "longitude");
	double a, b;

	(void)t;
	para_add(it, body_attr(it) | CANVAS_BOLD, 0, "[location]%s%s",
	    nonempty(jx_str(l, "name")) ? " " : "", S(jx_str(l, "name")));
	if (nonempty(jx_str(l, "address")))
		para_add(it, body_attr(it), 0, "%s", jx_str(l, "address"));
	if (jx_number(lat, &a) == 0 && jx_number(lon, &b) == 0)
		para_add(it, body_attr(it), 0, "%.5f, %.5f", a, b);
}

static void
ty_contacts(struct thread *t, struct item *it, const struct view *v)
{
	const cJSON *c, *p;
	const cJSON *cards = cJSON_IsArray(v->sub) ? v->sub :
	    jx_arr(v->wa, "contacts");
	int n = 0;

	(void)t;
	cJSON_ArrayForEach(c, cards) {
		struct buf b;

		buf_init(&b);
		buf_printf(&b, "[contact] %s",
		    S(jx_str(jx_obj(c, "name"), "formatted_name")));
		cJSON_ArrayForEach(p, jx_arr(c, "phones"))
			buf_printf(&b, ", %s", S(jx_str(p, "phone")));
		cJSON_ArrayForEach(p, jx_arr(c, "emails"))
			buf_printf(&b, ", %s", S(jx_str(p, "email")));
		para_add(it, body_attr(it), 0, "%s", S(b.data));
		buf_free(&b);
		n++;
	}
	if (n == 0)
		para_add(it, body_attr(it), 0, "[contact]");
}

/* A price or quantity as the order has it: a string or a number. */
static void
amount(const cJSON *o, const char *key, char *out, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	double d;

	if (cJSON_IsString(v))
		snprintf(out, len, "%s", v->valuestring);
	else if (jx_number(v, &d) == 0)
		snprintf(out, len, "%g", d);
	else
		snprintf(out, len, "?");
}

static void
ty_order(struct thread *t, struct item *it, const struct view *v)
{
	int64_t oid;
	cJSON *order = NULL;
	const cJSON *items, *i;
	char q[32], p[48];
	int n;

	if (jx_int64(v->d, "order_id", &oid) == 0)
		order = cache_entity(t->cache, "order", oid);
	items = order != NULL ? jx_arr(order, "items") :
	    jx_arr(v->sub, "product_items");
	n = cJSON_GetArraySize(items);
	if (order != NULL && nonempty(jx_str(order, "total")))
		para_add(it, body_attr(it) | CANVAS_BOLD, 0,
		    "[order] %d item%s, total %s %s (%s)", n, n == 1 ? "" : "s",
		    jx_str(order, "total"), S(jx_str(order, "currency")),
		    S(jx_str(order, "status")));
	else
		para_add(it, body_attr(it) | CANVAS_BOLD, 0,
		    "[order] %d item%s", n, n == 1 ? "" : "s");
	cJSON_ArrayForEach(i, items) {
		amount(i, "quantity", q, sizeof q);
		amount(i, "item_price", p, sizeof p);
		para_add(it, body_attr(it), 0, "%s x %s @ %s %s", q,
		    S(jx_str(i, "product_retailer_id")), p,
		    S(jx_str(i, "currency")));
	}
	if (v->text != NULL)
		para_add(it, body_attr(it), 0, "%s", v->text);
	cJSON_Delete(order);
}

static void
ty_interactive(struct thread *t, struct item *it, const struct view *v)
{
	const char *sub = jx_str(v->sub, "type");
	const cJSON *r = jx_obj(v->sub, S(sub));

	(void)t;
	if (sub != NULL && strcmp(sub, "button_reply") == 0)
		para_add(it, body_attr(it), 0, "[button] %s",
		    S(jx_str(r, "title")));
	else if (sub != NULL && strcmp(sub, "list_reply") == 0)
		para_add(it, body_attr(it), 0, "[list] %s%s%s",
		    S(jx_str(r, "title")),
		    nonempty(jx_str(r, "description")) ? " - " : "",
		    S(jx_str(r, "description")));
	else if (sub != NULL && strcmp(sub, "nfm_reply") == 0)
		para_add(it, body_attr(it), 0, "[form] %s",
		    jx_str(r, "body") ? jx_str(r, "body") :
		    S(jx_str(r, "name")));
	else
		para_add(it, body_attr(it), 0, "[interactive: %s]%s%s",
		    sub ? sub : "?", v->text ? " " : "", S(v->text));
}

static void
ty_button(struct thread *t, struct item *it, const struct view *v)
{
	(void)t;
	para_add(it, body_attr(it), 0, "[button] %s",
	    v->text ? v->text : S(jx_str(v->sub, "text")));
}

static void
ty_template(struct thread *t, struct item *it, const struct view *v)
{
	const cJSON *tp = v->sub, *c, *p;
	const cJSON *lang = cJSON_GetObjectItemCaseSensitive(tp, "language");
	struct buf b;

	(void)t;
	buf_init(&b);
	cJSON_ArrayForEach(c, jx_arr(tp, "components")) {
		cJSON_ArrayForEach(p, jx_arr(c, "parameters")) {
			if (jx_str(p, "text") != NULL)
				buf_printf(&b, "%s%s", b.len ? ", " : "",
				    jx_str(p, "text"));
		}
	}
	para_add(it, body_attr(it) | CANVAS_BOLD, 0, "[template %s%s%s%s]",
	    S(jx_str(tp, "name")), cJSON_IsString(lang) ||
	    jx_str(lang, "code") ? " (" : "", cJSON_IsString(lang) ?
	    lang->valuestring : S(jx_str(lang, "code")),
	    cJSON_IsString(lang) || jx_str(lang, "code") ? ")" : "");
	if (b.len > 0)
		para_add(it, body_attr(it), 0, "%s", b.data);
	else if (v->text != NULL)
		para_add(it, body_attr(it), 0, "%s", v->text);
	buf_free(&b);
}

static void
ty_system(struct thread *t, struct item *it, const struct view *v)
{
	(void)t;
	it->event = 1;
	it->mark = '*';
	para_add(it, THEME_SYSTEM, 0, "%s", v->text ? v->text :
	    S(jx_str(v->sub, "body")));
}

static void
ty_welcome(struct thread *t, struct item *it, const struct view *v)
{
	(void)t;
	(void)v;
	it->event = 1;
	it->mark = '*';
	para_add(it, THEME_SYSTEM, 0, "the customer opened the chat");
}

static void
ty_unsupported(struct thread *t, struct item *it, const struct view *v)
{
	const char *what = jx_str(v->sub, "type");

	(void)t;
	para_add(it, THEME_DIM, 0, "[unsupported: %s]",
	    nonempty(what) ? what : v->type);
}

/* What each type shows; NULL: drawn on the message it acts on. */
static const struct {
	const char *type;
	void (*fn)(struct thread *, struct item *, const struct view *);
} types[] = {
	{ "text", ty_text },
	{ "image", ty_media },
	{ "video", ty_media },
	{ "audio", ty_media },
	{ "document", ty_media },
	{ "sticker", ty_media },
	{ "location", ty_location },
	{ "contacts", ty_contacts },
	{ "order", ty_order },
	{ "interactive", ty_interactive },
	{ "button", ty_button },
	{ "template", ty_template },
	{ "system", ty_system },
	{ "request_welcome", ty_welcome },
	{ "unsupported", ty_unsupported },
	{ "reaction", NULL },
	{ "edit", NULL },
	{ "revoke", NULL },
};

/* Meta's reason for a failed send, as one line. */
static void
failure(struct item *it, const cJSON *f)
{
	const char *why = jx_str(f, "details");
	int64_t code;
	char num[32] = "";

	if (!nonempty(why))
		why = jx_str(f, "message");
	if (!nonempty(why))
		why = jx_str(f, "title");
	if (jx_int64(f, "code", &code) == 0)
		snprintf(num, sizeof num, " (%lld)", (long long)code);
	para_add(it, THEME_ERROR, 0, "! not delivered%s: %s", num,
	    nonempty(why) ? why : "no reason given");
}

static const char *
state_word(const char *status, int *attr, int base)
{
	*attr = base;
	if (status == NULL)
		return NULL;
	if (strcmp(status, "failed") == 0) {
		*attr = THEME_ERROR;
		return "FAILED";
	}
	if (strcmp(status, "queued") == 0 || strcmp(status, "sending") == 0)
		*attr = THEME_WARN;
	return status;
}

static void
describe(struct thread *t, struct item *it, const cJSON *d)
{
	struct view v = { 0 };
	const cJSON *ctx;
	int64_t agent = 0, reply = 0;
	size_t i;

	v.d = d;
	v.wa = jx_obj(d, "wa");
	v.type = nonempty(jx_str(d, "type")) ? jx_str(d, "type") : "unknown";
	v.sub = cJSON_GetObjectItemCaseSensitive(v.wa, v.type);
	v.out = it->mark == '>';
	v.text = jx_str(d, "edited_text");
	it->edited = v.text != NULL;
	if (v.text == NULL)
		v.text = jx_str(d, "text");
	it->wamid = nonempty(jx_str(d, "wamid")) ?
	    xstrdup(jx_str(d, "wamid")) : NULL;
	if (v.out) {
		jx_int64(d, "agent_id", &agent);
		it->name = xstrdup(agent_name(t, agent));
	} else
		it->name = xstrdup(t->contact);
	it->head_attr = body_attr(it) | CANVAS_BOLD;
	if (nonempty(jx_str(d, "reaction")))
		it->relay_reaction = clean(jx_str(d, "reaction"), 0);

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "revoked"))) {
		para_add(it, THEME_DIM | CANVAS_ITALIC, 0, "message deleted");
		return;
	}
	/* A reply: Meta's context names a wamid; the agent's, an id. */
	ctx = jx_obj(v.wa, "context");
	if (nonempty(jx_str(ctx, "id")))
		it->quote_wamid = xstrdup(jx_str(ctx, "id"));
	else if (nonempty(jx_str(ctx, "message_id")))
		it->quote_wamid = xstrdup(jx_str(ctx, "message_id"));
	if (jx_int64(v.wa, "reply_to", &reply) == 0 && reply > 0)
		it->quote_id = reply;
	else if (v.out && it->quote_wamid == NULL &&
	    strcmp(v.type, "reaction") != 0 &&
	    nonempty(jx_str(d, "target_wamid")))
		it->quote_wamid = xstrdup(jx_str(d, "target_wamid"));

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		if (strcmp(types[i].type, v.type) == 0)
			break;
	}
	if (i < sizeof types / sizeof types[0] && types[i].fn == NULL) {
		it->hidden = 1;
		return;
	}
	if (i == sizeof types / sizeof types[0] ||
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d,
	    "unknown_type")))
		para_add(it, THEME_DIM, 0, "[unsupported: %s]", v.type);
	else
		types[i].fn(t, it, &v);
	if (jx_obj(d, "failure") != NULL && jx_str(d, "status") != NULL &&
	    strcmp(jx_str(d, "status"), "failed") == 0)
		failure(it, jx_obj(d, "failure"));
}

static struct item *
message_item(struct thread *t, const struct cache_thread_row *r)
{
	struct item *it = xcalloc(1, sizeof *it);
	cJSON *d = parse(r->data, r->data_len);

	it->kind = ITEM_MESSAGE;
	it->id = r->id;
	it->ts = r->ts;
	it->mark = r->direction != NULL && strcmp(r->direction, "out") == 0 ?
	    '>' : '<';
	if (d == NULL) {
		it->name = xstrdup(it->mark == '>' ? "business" : t->contact);
		para_add(it, THEME_DIM, 0, "[unreadable message]");
		return it;
	}
	describe(t, it, d);
	if (it->mark == '>') {
		const char *w = state_word(r->status, &it->state_attr,
		    it->head_attr);

		it->state = w != NULL ? clean(w, 0) : NULL;
	}
	cJSON_Delete(d);
	return it;
}

/* A history line: who changed the status, assignee or labels. */
static struct item *
event_item(struct thread *t, const struct cache_thread_row *r)
{
	struct item *it = xcalloc(1, sizeof *it);
	cJSON *d = parse(r->data, r->data_len);

	/* One line, "14:05 alice set the status to pending". */
	(void)t;
	it->kind = ITEM_EVENT;
	it->id = r->id;
	it->ts = r->ts;
	it->mark = '*';
	it->head_attr = THEME_SYSTEM;
	it->name = clean(S(jx_str(d, "text")), 0);
	cJSON_Delete(d);
	return it;
}

static struct item *
note_item(struct thread *t, const struct cache_thread_row *r)
{
	struct item *it;
	cJSON *d;
	int64_t agent = 0;

	if (r->status != NULL && strcmp(r->status, "history") == 0)
		return event_item(t, r);
	it = xcalloc(1, sizeof *it);
	d = parse(r->data, r->data_len);
	it->kind = ITEM_NOTE;
	it->id = r->id;
	it->ts = r->ts;
	it->mark = '#';
	it->head_attr = THEME_NOTE | CANVAS_BOLD;
	jx_int64(d, "agent_id", &agent);
	it->name = xasprintf("NOTE %s", agent ? agent_name(t, agent) :
	    "(agent unknown)");
	para_add(it, THEME_NOTE, 0, "%s", S(jx_str(d, "body")));
	cJSON_Delete(d);
	return it;
}

/* An outbox entry: the request body the agent wrote, not yet accepted. */
static struct item *
pending_item(struct thread *t, const struct cache_thread_row *r)
{
	struct item *it = xcalloc(1, sizeof *it);
	cJSON *body = parse(r->data, r->data_len), *d = cJSON_CreateObject();
	const cJSON *media = jx_obj(body, "media");
	const char *type = S(jx_str(body, "type"));
	int failed = r->status != NULL && strcmp(r->status, "failed") == 0;

	it->kind = ITEM_PENDING;
	it->id = r->id;
	it->ts = r->ts;
	it->mark = '>';
	/* Shaped as the message the relay will make of it. */
	jx_add_str(d, "type", type);
	jx_add_str(d, "text", jx_str(body, "text") ? jx_str(body, "text") :
	    jx_str(media, "caption"));
	if (media != NULL)
		cJSON_AddItemToObject(d, "media", cJSON_Duplicate(media, 1));
	if (body != NULL)
		cJSON_AddItemToObject(d, "wa", cJSON_Duplicate(body, 1));
	jx_add_int(d, "agent_id", t->me);
	if (strcmp(type, "reaction") == 0) {
		it->head_attr = THEME_OUTBOUND | CANVAS_BOLD;
		para_add(it, THEME_OUTBOUND, 0, "[reaction %s]",
		    S(jx_str(body, "emoji")));
	} else
		describe(t, it, d);
	it->hidden = 0;
	free(it->wamid);
	it->wamid = NULL;
	/* The outbox is this agent's own, whoever the relay says they are. */
	free(it->name);
	it->name = xstrdup("you");
	it->state = xstrdup(failed ? "FAILED, not sent" : "queued, not sent");
	it->state_attr = failed ? THEME_ERROR : THEME_WARN;
	if (nonempty(r->error))
		para_add(it, failed ? THEME_ERROR : THEME_WARN, 0, "! %s%s",
		    failed ? "" : "waiting: ", r->error);
	cJSON_Delete(d);
	cJSON_Delete(body);
	return it;
}

/* -- the window --------------------------------------------------------- */

struct collect {
	struct thread *t;
	struct ivec *v;
	struct item *(*make)(struct thread *, const struct cache_thread_row *);
};

static void
collect_row(void *arg, const struct cache_thread_row *r)
{
	struct collect *c = arg;

	ivec_push(c->v, c->make(c->t, r));
}

static size_t
chunk(const struct thread *t)
{
	return t->h > CHUNK_MIN ? t->h : CHUNK_MIN;
}

/* Reads messages next to anchor into v (dir < 0: newest first). */
static int
read_messages(struct thread *t, int64_t anchor, int dir, size_t limit,
    struct ivec *v)
{
	struct collect c = { t, v, message_item };

	return cache_thread_messages(t->cache, t->conv, anchor, dir,
	    (int)limit, collect_row, &c);
}

/* Drops the oldest n messages; the window no longer starts at the start. */
static void
drop_oldest(struct thread *t, size_t n)
{
	if (n == 0)
		return;
	t->before_ts = t->msgs.v[n - 1]->ts;
	t->at_start = 0;
	for (size_t i = 0; i < n; i++)
		item_free(t->msgs.v[i]);
	memmove(t->msgs.v, t->msgs.v + n, (t->msgs.n - n) * sizeof *t->msgs.v);
	t->msgs.n -= n;
}

static void
drop_newest(struct thread *t, size_t n)
{
	if (n == 0)
		return;
	t->after_ts = t->msgs.v[t->msgs.n - n]->ts;
	t->at_end = 0;
	for (size_t i = t->msgs.n - n; i < t->msgs.n; i++)
		item_free(t->msgs.v[i]);
	t->msgs.n -= n;
}

/*
 * Prepends older messages read newest first; one more than asked for
 * tells whether the start was reached, and its time.
 */
static void
take_older(struct thread *t, struct ivec *rows, size_t limit)
{
	size_t n = rows->n;

	if (n > limit) {
		t->before_ts = rows->v[limit]->ts;
		for (size_t i = limit; i < rows->n; i++)
			item_free(rows->v[i]);
		n = limit;
	} else
		t->at_start = 1;
	if (n == 0)
		return;
	if (t->msgs.cap < t->msgs.n + n) {
		t->msgs.cap = t->msgs.n + n;
		t->msgs.v = xgrow(t->msgs.v, t->msgs.cap,
		    sizeof *t->msgs.v);
	}
	memmove(t->msgs.v + n, t->msgs.v, t->msgs.n * sizeof *t->msgs.v);
	for (size_t i = 0; i < n; i++)
		t->msgs.v[n - 1 - i] = rows->v[i];
	t->msgs.n += n;
}

static void
take_newer(struct thread *t, struct ivec *rows, size_t limit)
{
	size_t n = rows->n;

	if (n > limit) {
		t->after_ts = rows->v[limit]->ts;
		for (size_t i = limit; i < rows->n; i++)
			item_free(rows->v[i]);
		n = limit;
	} else
		t->at_end = 1;
	for (size_t i = 0; i < n; i++)
		ivec_push(&t->msgs, rows->v[i]);
}

static void
window_reset(struct thread *t)
{
	ivec_clear(&t->msgs, 1);
	t->at_start = t->at_end = 0;
	t->before_ts = t->after_ts = 0;
}

/* The newest messages, or the oldest (from_start). */
static void
window_edge(struct thread *t, int from_start)
{
	struct ivec rows = { 0 };
	size_t n = chunk(t);

	window_reset(t);
	if (from_start) {
		t->at_start = 1;
		read_messages(t, 0, 1, n + 1, &rows);
		take_newer(t, &rows, n);
	} else {
		t->at_end = 1;
		read_messages(t, INT64_MAX, -1, n + 1, &rows);
		take_older(t, &rows, n);
	}
	free(rows.v);
	window_changed(t);
}

/* Half a chunk each side of id, id included; -1 when not there. */
static int
window_around(struct thread *t, int64_t id)
{
	struct ivec older = { 0 }, newer = { 0 };
	size_t half = chunk(t) / 2;

	read_messages(t, id + 1, -1, half + 1, &older);
	if (older.n == 0 || older.v[0]->id != id) {
		ivec_clear(&older, 1);
		free(older.v);
		return -1;
	}
	read_messages(t, id, 1, half + 1, &newer);
	window_reset(t);
	take_older(t, &older, half);
	take_newer(t, &newer, half);
	free(older.v);
	free(newer.v);
	window_changed(t);
	return 0;
}

/* Moving the window keeps the view on what it shows. */
static int
window_older(struct thread *t)
{
	struct ivec rows = { 0 };
	size_t n = chunk(t), max = WINDOW_CHUNKS * chunk(t);
	struct pos p;

	if (t->at_start || t->msgs.n == 0)
		return 0;
	p = pos_save(t);
	read_messages(t, t->msgs.v[0]->id, -1, n + 1, &rows);
	take_older(t, &rows, n);
	free(rows.v);
	if (t->msgs.n > max)
		drop_newest(t, t->msgs.n - max);
	window_changed(t);
	pos_restore(t, p);
	return 1;
}

static int
window_newer(struct thread *t)
{
	struct ivec rows = { 0 };
	size_t n = chunk(t), max = WINDOW_CHUNKS * chunk(t);
	struct pos p;

	if (t->at_end || t->msgs.n == 0)
		return 0;
	p = pos_save(t);
	read_messages(t, t->msgs.v[t->msgs.n - 1]->id, 1, n + 1, &rows);
	take_newer(t, &rows, n);
	free(rows.v);
	if (t->msgs.n > max)
		drop_oldest(t, t->msgs.n - max);
	window_changed(t);
	pos_restore(t, p);
	return 1;
}

/* -- what the window's messages need from beyond it --------------------- */

static struct item *
find_wamid(struct thread *t, const char *wamid)
{
	for (size_t i = 0; i < t->msgs.n; i++) {
		if (t->msgs.v[i]->wamid != NULL &&
		    strcmp(t->msgs.v[i]->wamid, wamid) == 0)
			return t->msgs.v[i];
	}
	return NULL;
}

static struct item *
find_id(const struct thread *t, int64_t id)
{
	size_t lo = 0, hi = t->msgs.n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->msgs.v[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->msgs.n && t->msgs.v[lo]->id == id ? t->msgs.v[lo] :
	    NULL;
}

/* The line a quote shows: who wrote the quoted message and its start. */
static void
set_quote(struct item *it, const struct item *q)
{
	const char *text = q->npara > 0 ? q->paras[0].text : "";

	free(it->quote);
	it->quote = xasprintf("| %s: %s", S(q->name), text);
	for (char *p = it->quote; *p != '\0'; p++) {
		if (*p == '\n')
			*p = ' ';
	}
	it->quote_id = q->id;
	it->rw = 0;
}

struct one {
	struct thread *t;
	struct item *it;
};

static void
one_row(void *arg, const struct cache_thread_row *r)
{
	struct one *o = arg;

	if (o->it == NULL)
		o->it = message_item(o->t, r);
}

static void
resolve_quote(struct thread *t, struct item *it)
{
	struct one o = { t, NULL };
	struct item *q = NULL;

	it->quote_done = 1;
	if (it->quote_id > 0)
		q = find_id(t, it->quote_id);
	else if (it->quote_wamid != NULL)
		q = find_wamid(t, it->quote_wamid);
	if (q == NULL && it->quote_id > 0)
		cache_thread_message(t->cache, it->quote_id, one_row, &o);
	else if (q == NULL && it->quote_wamid != NULL)
		cache_thread_by_wamid(t->cache, t->conv, it->id,
		    it->quote_wamid, QUOTE_DEPTH, one_row, &o);
	if (o.it != NULL && o.it->id != it->id)
		q = o.it;
	if (q != NULL)
		set_quote(it, q);
	else if (it->quote_id > 0 || it->quote_wamid != NULL) {
		it->quote = xstrdup("| (a message not in the cache)");
		it->quote_id = 0;
	}
	item_free(o.it);
}

/* One reaction: the newest by each person on each message counts. */
struct reaction {
	char *target;
	char *who;
	char *emoji;
};

struct reactions {
	struct thread *t;
	struct reaction *v;
	size_t n;
};

static void
reaction_row(void *arg, const struct cache_thread_row *r)
{
	struct reactions *rs = arg;
	cJSON *d = parse(r->data, r->data_len);
	const cJSON *wa = jx_obj(d, "wa");
	const char *target = jx_str(d, "target_wamid"), *emoji, *who;
	int64_t agent = 0;
	size_t i;

	emoji = jx_str(jx_obj(wa, "reaction"), "emoji");
	if (emoji == NULL)
		emoji = jx_str(wa, "emoji");
	if (r->direction != NULL && strcmp(r->direction, "out") == 0) {
		jx_int64(d, "agent_id", &agent);
		who = agent_name(rs->t, agent);
	} else
		who = rs->t->contact;
	if (!nonempty(target)) {
		cJSON_Delete(d);
		return;
	}
	for (i = 0; i < rs->n; i++) {
		if (strcmp(rs->v[i].target, target) == 0 &&
		    strcmp(rs->v[i].who, who) == 0)
			break;
	}
	if (i == rs->n) {
		rs->v = xgrow(rs->v, rs->n + 1, sizeof *rs->v);
		rs->v[i].target = xstrdup(target);
		rs->v[i].who = xstrdup(who);
		rs->v[i].emoji = NULL;
		rs->n++;
	}
	free(rs->v[i].emoji);
	rs->v[i].emoji = xstrdup(S(emoji));
	cJSON_Delete(d);
}

static void
set_reactions(struct item *it, char *text)
{
	if ((it->reactions == NULL) != (text == NULL) ||
	    (text != NULL && strcmp(it->reactions, text) != 0))
		it->rw = 0;
	free(it->reactions);
	it->reactions = text;
}

/*
 * Reactions to the window's messages. They follow what they react to, so
 * only messages after the window's first are read; the relay's newest
 * reaction on the message itself covers one that came before it.
 */
static void
load_reactions(struct thread *t)
{
	struct reactions rs = { t, NULL, 0 };

	if (t->msgs.n == 0)
		return;
	cache_thread_reactions(t->cache, t->conv, t->msgs.v[0]->id,
	    reaction_row, &rs);
	for (size_t i = 0; i < t->msgs.n; i++) {
		struct item *it = t->msgs.v[i];
		struct buf b;

		if (it->hidden || it->wamid == NULL)
			continue;
		buf_init(&b);
		for (size_t j = 0; j < rs.n; j++) {
			if (strcmp(rs.v[j].target, it->wamid) == 0 &&
			    *rs.v[j].emoji != '\0')
				buf_printf(&b, "%s%s %s", b.len ? "  " : "",
				    rs.v[j].emoji, rs.v[j].who);
		}
		if (b.len == 0 && it->relay_reaction != NULL)
			buf_adds(&b, it->relay_reaction);
		set_reactions(it, b.len ? clean(b.data, 0) : NULL);
		buf_free(&b);
	}
	for (size_t j = 0; j < rs.n; j++) {
		free(rs.v[j].target);
		free(rs.v[j].who);
		free(rs.v[j].emoji);
	}
	free(rs.v);
}

static void
load_notes(struct thread *t)
{
	struct collect c = { t, &t->notes, note_item };
	int64_t from = INT64_MIN, to = INT64_MAX;

	ivec_clear(&t->notes, 1);
	if (!t->at_start && t->msgs.n > 0)
		from = t->msgs.v[0]->ts;
	if (!t->at_end)
		to = t->after_ts;
	cache_thread_notes(t->cache, t->conv, from, to, NOTES_MAX,
	    collect_row, &c);
}

static void
load_pending(struct thread *t)
{
	struct collect c = { t, &t->pending, pending_item };

	ivec_clear(&t->pending, 1);
	if (t->at_end)
		cache_thread_pending(t->cache, t->conv, collect_row, &c);
}

/* Messages in id order with notes by time between them, then pending. */
static void
merge(struct thread *t)
{
	size_t j = 0;
	long prev = t->at_start ? -1 : day_of(t->before_ts);

	ivec_clear(&t->items, 0);
	for (size_t i = 0; i < t->msgs.n; i++) {
		struct item *m = t->msgs.v[i];

		if (m->hidden)
			continue;
		while (j < t->notes.n && t->notes.v[j]->ts < m->ts)
			ivec_push(&t->items, t->notes.v[j++]);
		ivec_push(&t->items, m);
	}
	while (j < t->notes.n)
		ivec_push(&t->items, t->notes.v[j++]);
	for (size_t i = 0; i < t->pending.n; i++)
		ivec_push(&t->items, t->pending.v[i]);
	/* Unsent replies are the present, below the history: no rule. */
	for (size_t i = 0; i < t->items.n - t->pending.n; i++) {
		struct item *it = t->items.v[i];
		long d = day_of(it->ts);

		if ((d != prev) != it->day)
			it->rw = 0;
		it->day = d != prev;
		prev = d;
	}
}

/* -- positions ---------------------------------------------------------- */

static struct pos
pos_save(const struct thread *t)
{
	struct pos p = { 0 };

	if (t->top < t->items.n) {
		p.kind = t->items.v[t->top]->kind;
		p.id = t->items.v[t->top]->id;
		p.off = t->off;
		p.valid = 1;
	}
	return p;
}

static size_t lines_of(struct thread *, size_t);

static void
pos_restore(struct thread *t, struct pos p)
{
	size_t i, best = 0;

	t->top = t->off = 0;
	if (!p.valid || t->items.n == 0)
		return;
	for (i = 0; i < t->items.n; i++) {
		const struct item *it = t->items.v[i];

		if (it->kind == p.kind && it->id == p.id)
			break;
		/* Gone: the nearest message before it stands in. */
		if (p.kind == ITEM_MESSAGE && it->kind == ITEM_MESSAGE &&
		    it->id < p.id)
			best = i;
	}
	if (i < t->items.n) {
		t->top = i;
		t->off = p.off;
		if (t->off >= lines_of(t, i))
			t->off = lines_of(t, i) - 1;
	} else
		t->top = best;
}

static void
window_changed(struct thread *t)
{
	load_notes(t);
	load_pending(t);
	load_reactions(t);
	merge(t);
}

/* -- rendering ---------------------------------------------------------- */

static void
line_add(struct item *it, size_t off, size_t len, unsigned width, int attr,
    int flags)
{
	struct line *l;

	it->lines = xgrow(it->lines, it->nlines + 1,
	    sizeof *it->lines);
	l = &it->lines[it->nlines++];
	l->off = off;
	l->len = len;
	l->split = len;
	l->width = width;
	l->attr = l->attr2 = attr;
	l->flags = flags;
}

/* Appends s to the item's text, cut to cols with an ellipsis. */
static void
one_line(struct item *it, const char *s, size_t cols, int attr, int flags)
{
	size_t off = it->text.len, w;

	w = text_cut_buf(&it->text, s, strlen(s), cols, TEXT_ELLIPSIS);
	line_add(it, off, it->text.len - off, (unsigned)w, attr, flags);
}

static void
wrapped(struct item *it, const char *s, size_t cols, int attr)
{
	struct text_wrap w;
	struct text_line l;

	text_wrap_init(&w, s, strlen(s), cols);
	while (text_wrap_next(&w, &l)) {
		size_t off = it->text.len;

		buf_add(&it->text, s + l.off, l.len);
		line_add(it, off, l.len, (unsigned)l.width, attr, 0);
	}
}

static void
day_line(struct item *it)
{
	time_t tt = (time_t)it->ts;
	struct tm tm;
	char label[64];
	size_t off = it->text.len;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(label, sizeof label, "%a %d %b %Y", &tm) == 0)
		snprintf(label, sizeof label, "?");
	buf_adds(&it->text, label);
	line_add(it, off, it->text.len - off, (unsigned)text_width(label,
	    strlen(label)), THEME_SYSTEM, LINE_DAY);
}

/*
 * "HH:MM name · state": the name gives way first, so the time and the
 * delivery state always show.
 */
static void
header_line(struct item *it, size_t cols)
{
	char tm[8], *tail;
	size_t off = it->text.len, tw, room, nw, split;
	struct line *l;

	hhmm(it->ts, tm);
	tail = xasprintf("%s%s%s%s", it->state ? " · " : "", S(it->state),
	    it->edited ? " · " : "", it->edited ? "edited" : "");
	tw = text_width(tail, strlen(tail));
	buf_printf(&it->text, "%s ", tm);
	if (cols > tw + 7) {
		room = cols - tw - 6;
		nw = text_cut_buf(&it->text, it->name, strlen(it->name), room,
		    TEXT_ELLIPSIS);
		split = it->text.len - off;
		buf_adds(&it->text, tail);
		line_add(it, off, it->text.len - off, (unsigned)(6 + nw + tw),
		    it->head_attr, LINE_HEADER);
	} else {
		/* Too narrow for all of it: as much as fits, in one piece. */
		char *all = xasprintf("%s %s%s", tm, it->name, tail);

		it->text.len = off;
		one_line(it, all, cols, it->head_attr, LINE_HEADER);
		split = it->lines[it->nlines - 1].len;
		free(all);
	}
	l = &it->lines[it->nlines - 1];
	l->split = split;
	l->attr2 = it->state ? it->state_attr : it->head_attr;
	free(tail);
}

static void
render(struct item *it, unsigned w)
{
	size_t cols = w > GUTTER ? w - GUTTER : 1;

	buf_reset(&it->text);
	it->nlines = 0;
	if (it->day)
		day_line(it);
	if (it->event) {
		char tm[8];
		char *s;

		hhmm(it->ts, tm);
		s = xasprintf("%s %s", tm, it->npara ? it->paras[0].text : "");
		wrapped(it, s, cols, THEME_SYSTEM);
		free(s);
	} else {
		header_line(it, cols);
		if (it->quote != NULL)
			one_line(it, it->quote, cols, THEME_DIM, 0);
		for (size_t i = 0; i < it->npara; i++) {
			if (it->paras[i].flags & PARA_ONE_LINE)
				one_line(it, it->paras[i].text, cols,
				    it->paras[i].attr, 0);
			else
				wrapped(it, it->paras[i].text, cols,
				    it->paras[i].attr);
		}
		if (it->reactions != NULL)
			wrapped(it, it->reactions, cols, body_attr(it));
	}
	it->rw = w;
}

/*
 * An item's lines at the current width. A quote is looked up here, the
 * first time its message comes near the screen, not for the whole window.
 */
static size_t
lines_of(struct thread *t, size_t i)
{
	struct item *it = t->items.v[i];

	if (it->kind != ITEM_NOTE && !it->quote_done)
		resolve_quote(t, it);
	if (it->rw != t->w)
		render(it, t->w);
	return it->nlines;
}

/* -- moving ------------------------------------------------------------- */

/*
 * The view's top when pinned to the bottom: h lines up from the end.
 * *pad gets the blank rows above when everything is shorter than h.
 */
static void
bottom_pos(struct thread *t, size_t *top, size_t *off, size_t *pad)
{
	size_t need = t->h;

	*top = *off = *pad = 0;
	for (;;) {
		size_t i = t->items.n;

		need = t->h;
		while (i > 0) {
			size_t n = lines_of(t, i - 1);

			i--;
			if (n >= need) {
				*top = i;
				*off = n - need;
				return;
			}
			need -= n;
		}
		/* Short of a screen: read older messages, if any. */
		if (t->at_start || !window_older(t))
			break;
	}
	*pad = need;
}

/* Fixes the view's top from the bottom pin, so it can move. */
static void
unpin(struct thread *t)
{
	size_t pad;

	if (!t->bottom)
		return;
	bottom_pos(t, &t->top, &t->off, &pad);
	t->bottom = 0;
}

/* Lines from the view's top to the end, counting no further than max. */
static size_t
lines_below(struct thread *t, size_t max)
{
	size_t n = 0;

	for (size_t i = t->top; i < t->items.n && n < max; i++)
		n += lines_of(t, i) - (i == t->top ? t->off : 0);
	return n;
}

static size_t
lines_above(struct thread *t, size_t max)
{
	size_t n = t->off;

	for (size_t i = t->top; i > 0 && n < max; i--)
		n += lines_of(t, i - 1);
	return n;
}

/*
 * Keeps a screen of lines loaded past each edge of the view, and pins
 * the view when the newest line comes into it.
 */
static void
settle(struct thread *t)
{
	if (t->items.n == 0) {
		t->top = t->off = 0;
		t->bottom = 1;
		return;
	}
	if (t->bottom)
		return;
	if (!t->at_start && lines_above(t, t->h) < t->h)
		window_older(t);
	if (!t->at_end && lines_below(t, 2 * t->h) < 2 * t->h)
		window_newer(t);
	if (t->at_end && lines_below(t, t->h + 1) <= t->h)
		t->bottom = 1;
}

static void
move_up(struct thread *t, size_t n)
{
	while (n > 0) {
		if (t->off >= n) {
			t->off -= n;
			break;
		}
		n -= t->off + 1;
		if (t->top == 0 && (t->at_start || !window_older(t) ||
		    t->top == 0)) {
			t->off = 0;
			break;
		}
		t->top--;
		t->off = lines_of(t, t->top) - 1;
	}
}

static void
move_down(struct thread *t, size_t n)
{
	while (n > 0 && !t->bottom) {
		size_t rest = lines_of(t, t->top) - t->off - 1;

		if (rest >= n) {
			t->off += n;
			n = 0;
		} else {
			n -= rest + 1;
			if (t->top + 1 >= t->items.n && (t->at_end ||
			    !window_newer(t) || t->top + 1 >= t->items.n)) {
				t->off = lines_of(t, t->top) - 1;
				break;
			}
			t->top++;
			t->off = 0;
		}
		if (t->at_end && lines_below(t, t->h + 1) <= t->h)
			t->bottom = 1;
	}
}

void
thread_scroll(struct thread *t, int lines)
{
	if (t->conv == 0 || lines == 0)
		return;
	if (lines < 0) {
		unpin(t);
		move_up(t, (size_t)-(long)lines);
	} else if (!t->bottom)
		move_down(t, (size_t)lines);
	settle(t);
}

void
thread_page(struct thread *t, int halves)
{
	long n = (long)halves * (long)(t->h > 2 ? t->h / 2 : 1);

	thread_scroll(t, n > INT_MAX ? INT_MAX : n < -INT_MAX ? -INT_MAX :
	    (int)n);
}

void
thread_top(struct thread *t)
{
	if (t->conv == 0)
		return;
	if (!t->at_start)
		window_edge(t, 1);
	t->top = t->off = 0;
	t->bottom = 0;
	if (t->items.n > 0 && t->items.v[0]->kind == ITEM_MESSAGE)
		t->sel = t->items.v[0]->id;
	settle(t);
}

static int64_t
last_message(const struct thread *t)
{
	for (size_t i = t->items.n; i > 0; i--) {
		if (t->items.v[i - 1]->kind == ITEM_MESSAGE)
			return t->items.v[i - 1]->id;
	}
	return 0;
}

void
thread_bottom(struct thread *t)
{
	if (t->conv == 0)
		return;
	if (!t->at_end)
		window_edge(t, 0);
	t->bottom = 1;
	t->sel = last_message(t);
}

int
thread_at_bottom(const struct thread *t)
{
	return t->bottom;
}

/* -- selection ----------------------------------------------------------- */

static size_t
index_of(const struct thread *t, int64_t id)
{
	for (size_t i = 0; i < t->items.n; i++) {
		if (t->items.v[i]->kind == ITEM_MESSAGE &&
		    t->items.v[i]->id == id)
			return i;
	}
	return SIZE_MAX;
}

/*
 * The first and last items with a line in view; with whole, the first
 * and last shown whole (the partial ones when none is).
 */
static void
visible(struct thread *t, size_t *first, size_t *last, int whole)
{
	size_t rows, i;

	unpin(t);
	*first = t->top;
	rows = lines_of(t, t->top) - t->off;
	for (i = t->top; i + 1 < t->items.n && rows < t->h; i++)
		rows += lines_of(t, i + 1);
	*last = i;
	if (!whole)
		return;
	if (t->off > 0 && *first < *last)
		(*first)++;
	if (rows > t->h && *last > *first)
		(*last)--;
}

/* Scrolls so item i shows whole, or from its top when taller than h. */
static void
show(struct thread *t, size_t i)
{
	size_t first, last, rows;

	visible(t, &first, &last, 0);
	if (i < t->top || (i == t->top && t->off > 0)) {
		t->top = i;
		t->off = 0;
	} else {
		rows = lines_of(t, t->top) - t->off;
		for (size_t k = t->top + 1; k <= i; k++)
			rows += lines_of(t, k);
		if (rows > t->h) {
			/* Bring the item's last line to the bottom row. */
			size_t n = lines_of(t, i);

			if (n >= t->h) {
				t->top = i;
				t->off = 0;
			} else
				move_down(t, rows - t->h);
		}
	}
	settle(t);
}

/*
 * The next message item from item i in direction step, reading past the
 * window's edge when needed; SIZE_MAX when there is none.
 */
static size_t
next_message(struct thread *t, size_t i, int step)
{
	for (;;) {
		struct item *from = t->items.v[i];

		if (step > 0 ? i + 1 < t->items.n : i > 0) {
			i = step > 0 ? i + 1 : i - 1;
			if (t->items.v[i]->kind == ITEM_MESSAGE)
				return i;
			continue;
		}
		if (!(step > 0 ? window_newer(t) : window_older(t)))
			return SIZE_MAX;
		for (i = 0; i < t->items.n && t->items.v[i] != from; i++)
			;
		if (i == t->items.n)
			return SIZE_MAX;
	}
}

void
thread_select(struct thread *t, int delta)
{
	size_t i, j, first, last;
	int step = delta < 0 ? -1 : 1;

	if (t->conv == 0 || t->items.n == 0 || delta == 0)
		return;
	visible(t, &first, &last, 0);
	i = index_of(t, t->sel);
	if (i == SIZE_MAX || i < first || i > last) {
		/* Out of view: the message at the edge it left by is next. */
		visible(t, &first, &last, 1);
		for (i = step < 0 ? last : first; i >= first && i <= last &&
		    t->items.v[i]->kind != ITEM_MESSAGE; i += (size_t)step)
			;
		if (i < first || i > last)
			i = step < 0 ? last : first;
		else {
			t->sel = t->items.v[i]->id;
			delta -= step;
		}
	}
	while (delta != 0 && (j = next_message(t, i, step)) != SIZE_MAX) {
		i = j;
		t->sel = t->items.v[i]->id;
		delta -= step;
	}
	if ((i = index_of(t, t->sel)) != SIZE_MAX)
		show(t, i);
}

int64_t
thread_selected(const struct thread *t)
{
	return t->sel;
}

int
thread_jump(struct thread *t, int64_t id)
{
	size_t i;

	if (t->conv == 0 || id <= 0)
		return -1;
	if ((i = index_of(t, id)) == SIZE_MAX) {
		struct item *m = find_id(t, id);

		/* A hidden one (a reaction) or outside the window. */
		if (m != NULL || window_around(t, id) != 0 ||
		    (i = index_of(t, id)) == SIZE_MAX)
			return -1;
		t->bottom = 0;
		t->top = i;
		t->off = 0;
	}
	t->sel = id;
	show(t, i);
	return 0;
}

int
thread_jump_quoted(struct thread *t)
{
	struct item *m = find_id(t, t->sel);

	if (m != NULL && !m->quote_done)
		resolve_quote(t, m);
	if (m == NULL || m->quote_id <= 0)
		return -1;
	return thread_jump(t, m->quote_id);
}

int
thread_selected_media(const struct thread *t, struct thread_media *out)
{
	const struct item *m = find_id(t, t->sel);

	if (t->sel == 0 || m == NULL || !m->has_media)
		return -1;
	*out = m->media;
	return 0;
}

/* -- the whole ------------------------------------------------------------ */

struct thread *
thread_new(struct cache *c, int64_t me)
{
	struct thread *t = xcalloc(1, sizeof *t);

	t->cache = c;
	t->me = me;
	t->w = 80;
	t->h = 24;
	t->bottom = 1;
	return t;
}

static void
close_conversation(struct thread *t)
{
	window_reset(t);
	ivec_clear(&t->notes, 1);
	ivec_clear(&t->pending, 1);
	ivec_clear(&t->items, 0);
	free(t->contact);
	t->contact = NULL;
	for (size_t i = 0; i < t->nagents; i++)
		free(t->agents[i].name);
	free(t->agents);
	t->agents = NULL;
	t->nagents = 0;
	t->conv = 0;
	t->sel = 0;
	t->top = t->off = 0;
	t->bottom = 1;
}

void
thread_free(struct thread *t)
{
	if (t == NULL)
		return;
	close_conversation(t);
	free(t->msgs.v);
	free(t->notes.v);
	free(t->pending.v);
	free(t->items.v);
	free(t);
}

void
thread_open(struct thread *t, int64_t conv)
{
	close_conversation(t);
	if (conv <= 0)
		return;
	t->conv = conv;
	t->contact = contact_name(t);
	window_edge(t, 0);
	t->sel = last_message(t);
}

int64_t
thread_conversation(const struct thread *t)
{
	return t->conv;
}

/*
 * Reads the window's messages again, from its first: the same ones, and
 * at the end what arrived since (a reader at the bottom whom more than a
 * window arrived for moves on to the newest).
 */
static void
reread(struct thread *t, int bottom)
{
	struct ivec rows = { 0 };
	size_t max = WINDOW_CHUNKS * chunk(t), n = 0;
	int64_t lo = t->msgs.v[0]->id, hi = t->msgs.v[t->msgs.n - 1]->id;
	int64_t before = t->before_ts, after = t->after_ts;
	int at_start = t->at_start, at_end = t->at_end;

	read_messages(t, lo - 1, 1, max + 1, &rows);
	if (at_end && bottom && rows.n > max) {
		ivec_clear(&rows, 1);
		free(rows.v);
		window_edge(t, 0);
		return;
	}
	window_reset(t);
	t->at_start = at_start;
	t->before_ts = before;
	if (at_end)
		take_newer(t, &rows, max);
	else {
		while (n < rows.n && rows.v[n]->id <= hi)
			ivec_push(&t->msgs, rows.v[n++]);
		if (n < rows.n)
			after = rows.v[n]->ts;
		for (; n < rows.n; n++)
			item_free(rows.v[n]);
		t->after_ts = after;
	}
	free(rows.v);
	window_changed(t);
}

void
thread_reload(struct thread *t)
{
	struct pos p;
	int bottom = t->bottom;
	int64_t sel = t->sel;

	if (t->conv == 0)
		return;
	unpin(t);
	p = pos_save(t);
	/* Names may have changed with the rest. */
	free(t->contact);
	t->contact = contact_name(t);
	for (size_t i = 0; i < t->nagents; i++)
		free(t->agents[i].name);
	t->nagents = 0;
	if (t->msgs.n == 0)
		window_edge(t, 0);
	else
		reread(t, bottom);
	pos_restore(t, p);
	t->sel = index_of(t, sel) != SIZE_MAX ? sel : last_message(t);
	t->bottom = bottom && t->at_end;
	settle(t);
}

size_t
thread_rows_held(const struct thread *t)
{
	return t->msgs.n + t->notes.n + t->pending.n;
}

/* -- drawing -------------------------------------------------------------- */

static void
draw_line(struct canvas *cv, const struct item *it, const struct line *l,
    unsigned x, unsigned y, unsigned w, int selected)
{
	const char *s = it->text.data + l->off;
	char mark[2] = { it->mark, '\0' };
	int fill = it->kind == ITEM_NOTE ? THEME_NOTE : 0;
	int attr = l->attr, attr2 = l->attr2;
	unsigned cx;

	if (l->flags & LINE_DAY) {
		unsigned lw = l->width + 2, left;

		canvas_hline(cv, x, y, w, THEME_SYSTEM);
		if (lw > w)
			lw = w;
		left = (w - lw) / 2;
		canvas_fill(cv, x + left, y, lw, 1, " ", THEME_SYSTEM);
		canvas_put(cv, x + left + 1, y, s, l->len, THEME_SYSTEM);
		return;
	}
	if (selected && (l->flags & LINE_HEADER))
		fill = attr = attr2 = THEME_SELECT;
	if (fill != 0)
		canvas_fill(cv, x, y, w, 1, " ", fill);
	canvas_puts(cv, x, y, mark, selected ? THEME_SELECT : attr);
	cx = canvas_put(cv, x + GUTTER, y, s, l->split, attr);
	if (l->split < l->len)
		canvas_put(cv, cx > x + GUTTER ? cx : x + GUTTER, y,
		    s + l->split, l->len - l->split, attr2);
}

static void
draw_empty(struct canvas *cv, unsigned x, unsigned y, const char *what)
{
	canvas_puts(cv, x + GUTTER, y, what, THEME_DIM);
}

void
thread_draw(struct thread *t, struct canvas *cv, unsigned x, unsigned y,
    unsigned w, unsigned h, int focused)
{
	size_t top, off, pad = 0, row;

	if (w == 0 || h == 0)
		return;
	if (w != t->w || h != t->h) {
		/* Lines of another width: keep the same item at the top. */
		t->w = w;
		t->h = h;
		if (t->top < t->items.n && t->off >= lines_of(t, t->top))
			t->off = lines_of(t, t->top) - 1;
		settle(t);
	}
	canvas_clip(cv, x, y, w, h);
	canvas_fill(cv, x, y, w, h, " ", THEME_NORMAL);
	if (t->conv == 0) {
		draw_empty(cv, x, y, "no conversation open");
		canvas_unclip(cv);
		return;
	}
	if (t->items.n == 0) {
		draw_empty(cv, x, y, "no messages yet");
		canvas_unclip(cv);
		return;
	}
	if (t->bottom)
		bottom_pos(t, &top, &off, &pad);
	else {
		top = t->top < t->items.n ? t->top : t->items.n - 1;
		off = t->off < lines_of(t, top) ? t->off : 0;
	}
	row = pad;
	for (size_t i = top; i < t->items.n && row < h; i++) {
		struct item *it = t->items.v[i];
		int selected = focused && it->kind == ITEM_MESSAGE &&
		    it->id == t->sel;

		lines_of(t, i);
		for (size_t k = i == top ? off : 0; k < it->nlines && row < h;
		    k++)
			draw_line(cv, it, &it->lines[k], x, y + (unsigned)row++,
			    w, selected);
	}
	canvas_unclip(cv);
}
