/* The contact and order sidebar; see sidebar.h. */
#include "tui/sidebar.h"

#include <inttypes.h>
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
#include "tui/layout.h"
#include "tui/theme.h"
#include "ui/canvas.h"
#include "ui/text.h"

#define SIDE_ORDERS 5
#define SIDE_NOTES 5
#define SIDE_CONVERSATIONS 5

/* A paragraph of the sidebar, wrapped when drawn. */
struct side_line {
	char *text; /* sanitised */
	int attr;
	unsigned indent;
};

struct sidebar {
	struct cache *cache;
	int64_t conversation;
	int stale;
	struct side_line *lines;
	size_t n, cap;
};

struct sidebar *
sidebar_new(struct cache *c)
{
	struct sidebar *s = xcalloc(1, sizeof *s);

	s->cache = c;
	s->stale = 1;
	return s;
}

static void
clear(struct sidebar *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->lines[i].text);
	s->n = 0;
}

void
sidebar_free(struct sidebar *s)
{
	if (s == NULL)
		return;
	clear(s);
	free(s->lines);
	free(s);
}

void
sidebar_show(struct sidebar *s, int64_t conversation_id)
{
	if (conversation_id != s->conversation) {
		s->conversation = conversation_id;
		s->stale = 1;
	}
}

void
sidebar_reload(struct sidebar *s)
{
	s->stale = 1;
}

/* Adds a line; pieces of outside text are sanitised by the caller. */
static void
add(struct sidebar *s, int attr, unsigned indent, const char *text)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->lines = xreallocarray(s->lines, s->cap, sizeof *s->lines);
	}
	s->lines[s->n].text = xstrdup(text);
	s->lines[s->n].attr = attr;
	s->lines[s->n].indent = indent;
	s->n++;
}

/* "label: value" with value from outside, sanitised. */
static void
add_field(struct sidebar *s, const char *label, const char *value)
{
	struct buf b;

	if (value == NULL || *value == '\0')
		return;
	buf_init(&b);
	if (label != NULL)
		buf_printf(&b, "%s: ", label);
	utf8_sanitize(value, strlen(value), 0, &b);
	buf_add(&b, "", 1);
	add(s, THEME_NORMAL, 0, b.data);
	buf_free(&b);
}

static void
day(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || localtime_r(&tt, &tm) == NULL)
		snprintf(out, len, "%s", "");
	else
		strftime(out, len, "%d %b %Y", &tm);
}

static void
build_contact(struct sidebar *s, const cJSON *conv, const cJSON *k)
{
	const char *name = jx_str(k, "display_name"), *profile;
	const cJSON *labels = jx_arr(conv, "labels"), *a, *l;
	struct buf b;

	profile = jx_str(k, "profile_name");
	if (name == NULL)
		name = profile;
	if (name == NULL)
		name = jx_str(k, "username");
	buf_init(&b);
	utf8_sanitize(name != NULL ? name : "(no name)",
	    strlen(name != NULL ? name : "(no name)"), 0, &b);
	buf_add(&b, "", 1);
	add(s, THEME_TITLE, 0, b.data);
	buf_reset(&b);
	if (jx_str(k, "wa_id") != NULL) {
		buf_adds(&b, "+");
		utf8_sanitize(jx_str(k, "wa_id"), strlen(jx_str(k, "wa_id")), 0,
		    &b);
		buf_add(&b, "", 1);
		add(s, THEME_NORMAL, 0, b.data);
	} else
		add(s, THEME_DIM, 0, "no phone number");
	buf_free(&b);
	add_field(s, "user id", jx_str(k, "user_id"));
	add_field(s, "username", jx_str(k, "username"));
	if (profile != NULL && (jx_str(k, "display_name") != NULL))
		add_field(s, "WhatsApp name", profile);
	if (cJSON_GetArraySize(labels) > 0) {
		buf_init(&b);
		buf_adds(&b, "labels:");
		cJSON_ArrayForEach(l, labels) {
			if (!cJSON_IsString(l))
				continue;
			buf_adds(&b, " #");
			utf8_sanitize(l->valuestring, strlen(l->valuestring), 0,
			    &b);
		}
		buf_add(&b, "", 1);
		add(s, THEME_LABEL, 0, b.data);
		buf_free(&b);
	}
	cJSON_ArrayForEach(a, jx_obj(k, "attributes")) {
		if (cJSON_IsString(a) && a->string != NULL) {
			buf_init(&b);
			utf8_sanitize(a->string, strlen(a->string), 0, &b);
			buf_add(&b, "", 1);
			add_field(s, b.data, a->valuestring);
			buf_free(&b);
		}
	}
}

static void
heading(struct sidebar *s, const char *title)
{
	add(s, THEME_NORMAL, 0, "");
	add(s, THEME_TITLE | CANVAS_UNDERLINE, 0, title);
}

static void
add_order(void *arg, int64_t id, const char *json)
{
	struct sidebar *s = arg;
	cJSON *o = cJSON_Parse(json), *it;
	const char *status = jx_str(o, "status"), *cur = jx_str(o, "currency");
	const char *total = jx_str(o, "total");
	int64_t created = 0;
	char when[32];
	struct buf b;
	int n = cJSON_GetArraySize(jx_arr(o, "items"));

	if (o == NULL)
		return;
	jx_int64(o, "created_at", &created);
	day(created, when, sizeof when);
	buf_init(&b);
	buf_printf(&b, "#%" PRId64 " ", id);
	utf8_sanitize(status != NULL ? status : "new",
	    strlen(status != NULL ? status : "new"), 0, &b);
	buf_printf(&b, " · %d item%s", n, n == 1 ? "" : "s");
	if (total != NULL) {
		buf_adds(&b, " · ");
		if (cur != NULL) {
			utf8_sanitize(cur, strlen(cur), 0, &b);
			buf_adds(&b, " ");
		}
		utf8_sanitize(total, strlen(total), 0, &b);
	}
	buf_add(&b, "", 1);
	add(s, THEME_NORMAL, 0, b.data);
	cJSON_ArrayForEach(it, jx_arr(o, "items")) {
		const char *pid = jx_str(it, "product_retailer_id");
		double q = 0, price = 0;

		jx_number(cJSON_GetObjectItem(it, "quantity"), &q);
		jx_number(cJSON_GetObjectItem(it, "item_price"), &price);
		buf_reset(&b);
		buf_printf(&b, "%g× ", q);
		utf8_sanitize(pid != NULL ? pid : "?",
		    strlen(pid != NULL ? pid : "?"), 0, &b);
		buf_printf(&b, " @ %.2f", price);
		buf_add(&b, "", 1);
		add(s, THEME_DIM, 2, b.data);
	}
	if (*when != '\0')
		add(s, THEME_DIM, 2, when);
	buf_free(&b);
	cJSON_Delete(o);
}

static void
add_note(void *arg, int64_t id, const char *json)
{
	struct sidebar *s = arg;
	cJSON *o = cJSON_Parse(json);
	const char *body = jx_str(o, "body");
	int64_t agent = 0;
	char name[72];
	struct buf b;

	(void)id;
	if (o == NULL)
		return;
	jx_int64(o, "agent_id", &agent);
	cache_agent_name(s->cache, agent, name, sizeof name);
	buf_init(&b);
	utf8_sanitize(*name != '\0' ? name : "?", strlen(*name != '\0' ? name :
	    "?"), 0, &b);
	buf_adds(&b, ": ");
	if (body != NULL)
		utf8_sanitize(body, strlen(body), 0, &b);
	buf_add(&b, "", 1);
	add(s, THEME_NOTE, 0, b.data);
	buf_free(&b);
	cJSON_Delete(o);
}

static void
add_conversation(void *arg, int64_t id, const char *json)
{
	struct sidebar *s = arg;
	cJSON *o = cJSON_Parse(json);
	const char *status = jx_str(o, "status");
	int64_t at = 0;
	char when[32];
	struct buf b;

	if (o == NULL)
		return;
	jx_int64(o, "last_activity_at", &at);
	day(at, when, sizeof when);
	buf_init(&b);
	buf_printf(&b, "%s#%" PRId64 " ", id == s->conversation ? "▸" : " ",
	    id);
	utf8_sanitize(status != NULL ? status : "open",
	    strlen(status != NULL ? status : "open"), 0, &b);
	buf_printf(&b, " · %s", when);
	buf_add(&b, "", 1);
	add(s, id == s->conversation ? THEME_NORMAL : THEME_DIM, 0, b.data);
	buf_free(&b);
	cJSON_Delete(o);
}

static void
build(struct sidebar *s)
{
	cJSON *conv, *contact = NULL;
	int64_t cid = 0;
	size_t mark;

	clear(s);
	s->stale = 0;
	if (s->conversation == 0)
		return;
	conv = cache_entity(s->cache, "conversation", s->conversation);
	if (conv == NULL)
		return;
	if (jx_int64(conv, "contact_id", &cid) == 0 && cid > 0)
		contact = cache_entity(s->cache, "contact", cid);
	build_contact(s, conv, contact);
	heading(s, "Orders");
	mark = s->n;
	cache_side_rows(s->cache, CACHE_SIDE_ORDERS, cid, SIDE_ORDERS,
	    add_order, s);
	if (s->n == mark)
		add(s, THEME_DIM, 0, "none");
	heading(s, "Notes");
	mark = s->n;
	cache_side_rows(s->cache, CACHE_SIDE_NOTES, cid, SIDE_NOTES,
	    add_note, s);
	if (s->n == mark)
		add(s, THEME_DIM, 0, "none");
	heading(s, "Conversations");
	cache_side_rows(s->cache, CACHE_SIDE_CONVERSATIONS, cid,
	    SIDE_CONVERSATIONS, add_conversation, s);
	cJSON_Delete(contact);
	cJSON_Delete(conv);
}

void
sidebar_draw(struct sidebar *s, struct canvas *cv, const struct rect *r,
    int64_t now)
{
	unsigned y = r->y, w = r->w > 1 ? r->w - 1 : 1;

	(void)now;
	if (s->stale)
		build(s);
	canvas_fill(cv, r->x, r->y, r->w, r->h, " ", THEME_NORMAL);
	canvas_clip(cv, r->x, r->y, r->w, r->h);
	if (s->n == 0)
		canvas_puts(cv, r->x + 1, r->y, "No conversation", THEME_DIM);
	for (size_t i = 0; i < s->n && y < r->y + r->h; i++) {
		const struct side_line *l = &s->lines[i];
		unsigned ind = l->indent < w / 2 ? l->indent : 0;
		struct text_wrap tw;
		struct text_line tl;

		text_wrap_init(&tw, l->text, strlen(l->text), w - ind);
		while (text_wrap_next(&tw, &tl) && y < r->y + r->h) {
			canvas_put(cv, r->x + 1 + ind, y, l->text + tl.off,
			    tl.len, l->attr);
			y++;
			ind = l->indent < w / 2 ? l->indent : 0;
		}
	}
	canvas_unclip(cv);
}
