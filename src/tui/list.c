/* The conversation list; see list.h. */
#include "tui/list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "tui/layout.h"
#include "tui/theme.h"
#include "ui/canvas.h"
#include "ui/text.h"

/* A row as drawn: every string already sanitised. */
struct list_row {
	int64_t id;
	struct cache_list_key key;
	int64_t contact_id;
	int64_t unread;
	int64_t last_inbound_at;
	char *name;
	char *preview;
	char *tags; /* "@alice #vip #paid" */
	char status;  /* ' ' open, 'P' pending, 'R' resolved, 'Z' snoozed */
	int outbound; /* the last message is ours */
};

struct list {
	struct cache *cache;
	struct cache_filter filter;
	char *status;
	char *label;

	int64_t selected;
	struct cache_list_key sel_key;
	unsigned offset; /* screen row (in conversations) of the cursor */
	unsigned height; /* conversations that fit */

	struct list_row *rows;
	unsigned nrows;
	unsigned sel_index;

	int64_t count;
	int64_t position; /* of the cursor, from 0 */
};

static const struct cache_list_key key_top = { INT64_MAX, INT64_MAX };
static const struct cache_list_key key_bottom = { -1, -1 };

/* Rows a query brings, in its own order. */
struct fetch {
	struct list_row *rows;
	unsigned n, cap;
};

static char *
clean(const char *s, int keep_newlines)
{
	struct buf b;

	buf_init(&b);
	if (s != NULL)
		utf8_sanitize(s, strlen(s), keep_newlines, &b);
	buf_add(&b, "", 1);
	return buf_steal(&b);
}

static char
status_mark(const char *s)
{
	if (s == NULL || strcmp(s, "open") == 0)
		return ' ';
	if (strcmp(s, "pending") == 0)
		return 'P';
	if (strcmp(s, "resolved") == 0)
		return 'R';
	if (strcmp(s, "snoozed") == 0)
		return 'Z';
	return '?';
}

static char *
preview_of(const struct cache_list_row *r)
{
	struct buf b;
	char *s;

	buf_init(&b);
	if (r->direction != NULL && strcmp(r->direction, "out") == 0)
		buf_adds(&b, "You: ");
	if (r->preview != NULL && *r->preview != '\0')
		utf8_sanitize(r->preview, strlen(r->preview), 0, &b);
	else if (r->preview_type != NULL)
		buf_printf(&b, "[%s]", r->preview_type);
	buf_add(&b, "", 1);
	s = buf_steal(&b);
	return s;
}

static char *
tags_of(const struct cache_list_row *r)
{
	struct buf b;
	cJSON *labels, *l;

	buf_init(&b);
	if (r->assignee != NULL) {
		buf_adds(&b, "@");
		utf8_sanitize(r->assignee, strlen(r->assignee), 0, &b);
	}
	labels = r->labels != NULL ? cJSON_Parse(r->labels) : NULL;
	cJSON_ArrayForEach(l, labels) {
		if (!cJSON_IsString(l))
			continue;
		buf_adds(&b, b.len > 0 ? " #" : "#");
		utf8_sanitize(l->valuestring, strlen(l->valuestring), 0, &b);
	}
	cJSON_Delete(labels);
	buf_add(&b, "", 1);
	return buf_steal(&b);
}

static void
fetch_row(void *arg, const struct cache_list_row *r)
{
	struct fetch *f = arg;
	struct list_row *o;

	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->rows = xreallocarray(f->rows, f->cap, sizeof *f->rows);
	}
	o = &f->rows[f->n++];
	o->id = r->key.id;
	o->key = r->key;
	o->contact_id = r->contact_id;
	o->unread = r->unread;
	o->last_inbound_at = r->last_inbound_at;
	o->name = clean(r->name != NULL ? r->name : "(unknown)", 0);
	o->preview = preview_of(r);
	o->tags = tags_of(r);
	o->status = status_mark(r->status);
	o->outbound = r->direction != NULL && strcmp(r->direction, "out") == 0;
}

static void
row_free(struct list_row *r)
{
	free(r->name);
	free(r->preview);
	free(r->tags);
}

static void
fetch_free(struct fetch *f, unsigned from)
{
	for (unsigned i = from; i < f->n; i++)
		row_free(&f->rows[i]);
	free(f->rows);
}

static void
fetch(struct list *l, const struct cache_list_key *key, int dir, int limit,
    struct fetch *f)
{
	memset(f, 0, sizeof *f);
	if (limit > 0)
		cache_list_rows(l->cache, &l->filter, key, dir, limit,
		    fetch_row, f);
}

static void
rows_free(struct list *l)
{
	for (unsigned i = 0; i < l->nrows; i++)
		row_free(&l->rows[i]);
	free(l->rows);
	l->rows = NULL;
	l->nrows = 0;
}

/*
 * Reads the window: the selected conversation at screen row offset when
 * there are enough rows above it, the rows below it after. A selection
 * that is gone (or none) becomes the row that follows its key.
 */
static void
load(struct list *l)
{
	struct fetch above, below;
	struct cache_list_key from = l->sel_key;
	unsigned h = l->height > 0 ? l->height : 1, want, n_above, i, j;

	/* From just before the selection's key, so it comes first. */
	if (l->selected != 0 && from.id < INT64_MAX)
		from.id++;
	if (l->selected == 0)
		from = key_top;
	fetch(l, &from, 1, (int)h, &below);
	if (below.n == 0 && l->selected != 0) {
		/* Nothing at or below: the last rows of the list. */
		fetch_free(&below, 0);
		fetch(l, &key_bottom, -1, 1, &below);
	}
	rows_free(l);
	if (below.n == 0) {
		fetch_free(&below, 0);
		l->selected = 0;
		l->sel_key = key_top;
		l->offset = 0;
		l->sel_index = 0;
		return;
	}
	l->selected = below.rows[0].id;
	l->sel_key = below.rows[0].key;
	fetch(l, &l->sel_key, -1, (int)h - 1, &above);

	want = l->offset;
	if (want + below.n < h)
		want = h - below.n;
	n_above = want < above.n ? want : above.n;

	l->rows = xreallocarray(NULL, h, sizeof *l->rows);
	l->nrows = 0;
	for (i = n_above; i > 0; i--)
		l->rows[l->nrows++] = above.rows[i - 1];
	for (j = 0; j < below.n && l->nrows < h; j++)
		l->rows[l->nrows++] = below.rows[j];
	/* What was read but not kept. */
	for (i = n_above; i < above.n; i++)
		row_free(&above.rows[i]);
	free(above.rows);
	fetch_free(&below, j);
	l->sel_index = n_above;
	l->offset = n_above;
}

static void
recount(struct list *l)
{
	l->count = cache_list_count(l->cache, &l->filter);
	l->position = l->selected != 0 ?
	    cache_list_position(l->cache, &l->filter, &l->sel_key) : 0;
}

struct list *
list_new(struct cache *c, int64_t me)
{
	struct list *l = xcalloc(1, sizeof *l);

	l->cache = c;
	l->filter.me = me;
	l->filter.assigned = CACHE_ASSIGNED_ANY;
	l->sel_key = key_top;
	l->height = 1;
	return l;
}

void
list_set_me(struct list *l, int64_t me)
{
	l->filter.me = me;
}

void
list_free(struct list *l)
{
	if (l == NULL)
		return;
	rows_free(l);
	free(l->status);
	free(l->label);
	free(l);
}

void
list_set_filter(struct list *l, enum cache_assigned a, const char *status,
    const char *label)
{
	free(l->status);
	free(l->label);
	l->status = status != NULL ? xstrdup(status) : NULL;
	l->label = label != NULL ? xstrdup(label) : NULL;
	l->filter.assigned = a;
	l->filter.status = l->status;
	l->filter.label = l->label;
	/* Keep the cursor on its conversation if the new filter shows it. */
	list_reload(l);
}

const struct cache_filter *
list_filter(const struct list *l)
{
	return &l->filter;
}

void
list_filter_name(const struct list *l, struct buf *b)
{
	static const char *const names[] = { "all", "mine", "unassigned" };

	buf_adds(b, names[l->filter.assigned]);
	if (l->status != NULL)
		buf_printf(b, " · %s", l->status);
	if (l->label != NULL) {
		buf_adds(b, " · #");
		utf8_sanitize(l->label, strlen(l->label), 0, b);
	}
}

void
list_reload(struct list *l)
{
	/* The selection's key moves with its activity. */
	if (l->selected != 0 &&
	    cache_list_key_of(l->cache, l->selected, &l->sel_key) != 0)
		l->sel_key.id--; /* gone: the next row takes its place */
	load(l);
	recount(l);
}

/* The key of the row delta rows from the cursor, read as far as needed. */
static int
key_at(struct list *l, int delta, struct cache_list_key *out)
{
	int target = (int)l->sel_index + delta, got = -1;
	struct fetch f;

	if (l->nrows == 0)
		return -1;
	if (target >= 0 && target < (int)l->nrows) {
		*out = l->rows[target].key;
		return 0;
	}
	if (target < 0)
		fetch(l, &l->rows[0].key, -1, -target, &f);
	else
		fetch(l, &l->rows[l->nrows - 1].key, 1,
		    target - (int)l->nrows + 1, &f);
	if (f.n > 0) {
		*out = f.rows[f.n - 1].key;
		got = 0;
	}
	fetch_free(&f, 0);
	return got;
}

/*
 * Moves the window by the rows beyond it that delta reaches, reading only
 * those; -1 when the list ends first (the caller reads it all again).
 */
static int
scroll(struct list *l, int delta)
{
	struct fetch f;
	unsigned need, i;
	int down = delta > 0;

	need = down ? l->sel_index + (unsigned)delta - (l->nrows - 1) :
	    (unsigned)(-delta) - l->sel_index;
	if (l->nrows < l->height)
		return -1; /* a short list: nothing beyond it */
	fetch(l, down ? &l->rows[l->nrows - 1].key : &l->rows[0].key,
	    down ? 1 : -1, (int)need, &f);
	if (f.n < need) {
		fetch_free(&f, 0);
		return -1;
	}
	if (down) {
		for (i = 0; i < need; i++)
			row_free(&l->rows[i]);
		memmove(l->rows, l->rows + need, (l->nrows - need) *
		    sizeof *l->rows);
		memcpy(l->rows + l->nrows - need, f.rows, need *
		    sizeof *l->rows);
		l->sel_index = l->nrows - 1;
	} else {
		for (i = l->nrows - need; i < l->nrows; i++)
			row_free(&l->rows[i]);
		memmove(l->rows + need, l->rows, (l->nrows - need) *
		    sizeof *l->rows);
		/* Newer rows come nearest first. */
		for (i = 0; i < need; i++)
			l->rows[need - 1 - i] = f.rows[i];
		l->sel_index = 0;
	}
	free(f.rows);
	l->offset = l->sel_index;
	l->selected = l->rows[l->sel_index].id;
	l->sel_key = l->rows[l->sel_index].key;
	return 0;
}

void
list_move(struct list *l, int delta)
{
	struct cache_list_key k;
	int64_t before = l->position;
	int off;

	if (delta == 0 || l->nrows == 0)
		return;
	/* Within the rows on screen nothing needs reading. */
	off = (int)l->sel_index + delta;
	if (off >= 0 && off < (int)l->nrows) {
		l->sel_index = (unsigned)off;
		l->offset = (unsigned)off;
		l->selected = l->rows[off].id;
		l->sel_key = l->rows[off].key;
		l->position = before + delta;
		return;
	}
	/* A step past the bottom or top scrolls by the rows it needs. */
	if (abs(delta) < (int)l->height && scroll(l, delta) == 0) {
		l->position = before + delta;
		return;
	}
	/* Past an end, the cursor stops at the last row there is. */
	while (key_at(l, delta, &k) != 0) {
		delta += delta > 0 ? -1 : 1;
		if (delta == 0)
			return;
	}
	off = (int)l->offset + delta;
	if (abs(delta) >= (int)l->height)
		off = (int)l->offset; /* a page keeps the cursor's row */
	l->offset = off < 0 ? 0 : off >= (int)l->height ?
	    l->height - 1 : (unsigned)off;
	l->selected = k.id;
	l->sel_key = k;
	load(l);
	l->position = before + delta;
}

void
list_page(struct list *l, int dir)
{
	list_move(l, dir * (int)(l->height > 1 ? l->height - 1 : 1));
}

static void
jump(struct list *l, const struct cache_list_key *k, unsigned offset)
{
	l->selected = k->id;
	l->sel_key = *k;
	l->offset = offset;
	load(l);
	recount(l);
}

void
list_first(struct list *l)
{
	struct fetch f;

	fetch(l, &key_top, 1, 1, &f);
	if (f.n > 0)
		jump(l, &f.rows[0].key, 0);
	fetch_free(&f, 0);
}

void
list_last(struct list *l)
{
	struct fetch f;

	fetch(l, &key_bottom, -1, 1, &f);
	if (f.n > 0)
		jump(l, &f.rows[0].key, l->height - 1);
	fetch_free(&f, 0);
}

int
list_next_unread(struct list *l)
{
	struct cache_list_key k;
	int64_t id;

	if (cache_list_next_unread(l->cache, &l->filter, &l->sel_key, &id,
	    &k) != 0 || id == l->selected)
		return -1;
	jump(l, &k, l->offset);
	return 0;
}

int
list_select(struct list *l, int64_t id)
{
	struct cache_list_key k;
	int64_t old = l->selected;

	if (cache_list_key_of(l->cache, id, &k) != 0)
		return -1;
	jump(l, &k, l->height / 2);
	if (l->selected != id) {
		/* The filter hides it: stay where we were. */
		if (old != 0 && cache_list_key_of(l->cache, old, &k) == 0)
			jump(l, &k, l->offset);
		return -1;
	}
	return 0;
}

int64_t
list_selected(const struct list *l)
{
	return l->selected;
}

int64_t
list_selected_contact(const struct list *l)
{
	return l->nrows > 0 ? l->rows[l->sel_index].contact_id : 0;
}

const char *
list_selected_name(const struct list *l)
{
	return l->nrows > 0 ? l->rows[l->sel_index].name : "";
}

int64_t
list_count(const struct list *l)
{
	return l->count;
}

int64_t
list_selected_unread(const struct list *l)
{
	return l->nrows > 0 ? l->rows[l->sel_index].unread : 0;
}

void
list_mark_read(struct list *l)
{
	if (l->nrows > 0)
		l->rows[l->sel_index].unread = 0;
}

/* "14:05" today, "Mon" this week, "23 Nov" this year, else "2025". */
static void
short_time(int64_t t, int64_t now, char *out, size_t len)
{
	time_t tt = (time_t)t, tn = (time_t)now;
	struct tm a, b;

	if (t <= 0 || localtime_r(&tt, &a) == NULL ||
	    localtime_r(&tn, &b) == NULL) {
		snprintf(out, len, "%s", "");
		return;
	}
	if (a.tm_year == b.tm_year && a.tm_yday == b.tm_yday)
		strftime(out, len, "%H:%M", &a);
	else if (now - t < 6 * 86400 && t <= now)
		strftime(out, len, "%a", &a);
	else if (a.tm_year == b.tm_year)
		strftime(out, len, "%d %b", &a);
	else
		strftime(out, len, "%Y", &a);
}

/*
 * The 24-hour customer service window: "×" closed (only templates may be
 * sent), "!" closing within four hours, else a space.
 */
static const char *
window_mark(const struct list_row *r, int64_t now)
{
	int64_t age = now - r->last_inbound_at;

	if (r->last_inbound_at <= 0 || age >= 86400)
		return "×";
	if (age >= 86400 - 4 * 3600)
		return "!";
	return " ";
}

/* Draws s, then right-aligned right, in w columns from x. */
static void
draw_line(struct canvas *cv, unsigned x, unsigned y, unsigned w,
    const char *s, int attr, const char *right, int rattr)
{
	size_t rw = right != NULL ? text_width(right, strlen(right)) : 0;
	struct buf b;

	if (rw + 1 > w / 2 && right != NULL && *right != '\0') {
		/* Tags take at most half the line, cut with an ellipsis. */
		buf_init(&b);
		rw = text_cut_buf(&b, right, strlen(right), w / 2, TEXT_ELLIPSIS);
		buf_add(&b, "", 1);
		canvas_puts(cv, x + w - (unsigned)rw, y, b.data, rattr);
		buf_free(&b);
	} else if (rw > 0)
		canvas_puts(cv, x + w - (unsigned)rw, y, right, rattr);
	buf_init(&b);
	text_cut_buf(&b, s, strlen(s), w - (rw > 0 ? rw + 1 : 0),
	    TEXT_ELLIPSIS);
	canvas_put(cv, x, y, b.data, b.len, attr);
	buf_free(&b);
}

/* A row leaves its last column empty, so text never touches a border. */
static void
draw_row(struct list *l, struct canvas *cv, const struct rect *r,
    unsigned i, int focused, int64_t now)
{
	const struct list_row *row = &l->rows[i];
	unsigned y = r->y + i * LIST_ROW_LINES;
	int selected = i == l->sel_index;
	int base = selected ? (focused ? THEME_SELECT :
	    THEME_SELECT_UNFOCUSED) : THEME_NORMAL;
	char when[32], right[64], head[8];
	struct buf line;

	canvas_fill(cv, r->x, y, r->w, LIST_ROW_LINES, " ", base);
	short_time(row->key.activity, now, when, sizeof when);
	if (row->unread > 0)
		snprintf(right, sizeof right, "(%s%lld) %s",
		    row->unread >= 100 ? ">" : "",
		    (long long)(row->unread >= 100 ? 99 : row->unread), when);
	else
		snprintf(right, sizeof right, "%s", when);
	snprintf(head, sizeof head, "%c%s ", row->status,
	    window_mark(row, now));
	buf_init(&line);
	buf_adds(&line, head);
	buf_adds(&line, row->name);
	buf_add(&line, "", 1);
	draw_line(cv, r->x, y, r->w - 1, line.data, base | (row->unread > 0 ?
	    THEME_UNREAD : 0), right, base | (row->unread > 0 ?
	    THEME_UNREAD : THEME_DIM));
	buf_reset(&line);
	buf_adds(&line, "   ");
	buf_adds(&line, row->preview);
	buf_add(&line, "", 1);
	if (r->h > i * LIST_ROW_LINES + 1)
		draw_line(cv, r->x, y + 1, r->w - 1, line.data, base | (selected ?
		    0 : THEME_DIM), row->tags, base | THEME_LABEL);
	buf_free(&line);
}

void
list_draw(struct list *l, struct canvas *cv, const struct rect *r,
    int focused, int64_t now)
{
	unsigned h = r->h / LIST_ROW_LINES;

	if (r->w < 2 || r->h == 0)
		return;
	if (h == 0)
		h = 1;
	if (h != l->height) {
		l->height = h;
		if (l->offset >= h)
			l->offset = h - 1;
		load(l);
		if (l->count == 0 && l->nrows > 0)
			recount(l);
	}
	canvas_fill(cv, r->x, r->y, r->w, r->h, " ", THEME_NORMAL);
	canvas_clip(cv, r->x, r->y, r->w, r->h);
	if (l->nrows == 0)
		canvas_puts(cv, r->x + 1, r->y, "No conversations", THEME_DIM);
	for (unsigned i = 0; i < l->nrows; i++)
		draw_row(l, cv, r, i, focused, now);
	canvas_unclip(cv);
}
