/*
 * The editor: a text, a cursor on a cluster boundary, a kill ring of one
 * entry, and the rows it draws. Boundaries are never stored: each is
 * found by walking clusters from a place known to be one (see
 * safe_start), which is near in any text but one without ASCII.
 */
#include "ui/edit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "ui/canvas.h"
#include "ui/commands.h"
#include "ui/text.h"

struct row {
	size_t off, len, width;
};

struct edit {
	int flags;
	struct buf text;
	size_t cursor;

	struct buf kill;
	int last;      /* the previous command, -1 after anything else */
	size_t goal;   /* the column Up and Down keep */
	unsigned cols; /* the width of the last draw, 0 before one */
	size_t top;    /* the first row shown */

	/* Scratch: the rows of the text, and boundaries of a line. */
	struct row *rows;
	size_t nrows, rows_cap;
	size_t *at;
	size_t nat, at_cap;
};

struct edit *
edit_new(int flags)
{
	struct edit *e = xcalloc(1, sizeof *e);

	e->flags = flags;
	buf_init(&e->text);
	buf_adds(&e->text, "");
	buf_init(&e->kill);
	e->last = -1;
	return e;
}

void
edit_free(struct edit *e)
{
	if (e == NULL)
		return;
	buf_free(&e->text);
	buf_free(&e->kill);
	free(e->rows);
	free(e->at);
	free(e);
}

const char *
edit_text(const struct edit *e, size_t *len)
{
	if (len != NULL)
		*len = e->text.len;
	return e->text.data;
}

size_t
edit_cursor(const struct edit *e)
{
	return e->cursor;
}

size_t
edit_utf16_length(const struct edit *e)
{
	long n = utf8_utf16_length(e->text.data, e->text.len);

	return n < 0 ? 0 : (size_t)n;
}

size_t
edit_lines(const struct edit *e)
{
	size_t n = 1, i;

	for (i = 0; i < e->text.len; i++)
		n += e->text.data[i] == '\n';
	return n;
}

static size_t
line_start(const struct edit *e, size_t p)
{
	while (p > 0 && e->text.data[p - 1] != '\n')
		p--;
	return p;
}

static size_t
line_end(const struct edit *e, size_t p)
{
	const char *nl = memchr(e->text.data + p, '\n', e->text.len - p);

	return nl != NULL ? (size_t)(nl - e->text.data) : e->text.len;
}

static size_t
cluster_at(const struct edit *e, size_t p)
{
	return text_cluster(e->text.data + p, e->text.len - p, NULL);
}

/*
 * A boundary before p (p > 0), found without walking clusters: the start
 * of the line (a newline is a cluster of its own), or a place between two
 * ASCII characters, which no rule of UAX #29 joins (none is an extender,
 * a spacing mark, a prepend, ZWJ, a regional indicator or a jamo; CR is
 * never in the text).
 */
static size_t
safe_start(const struct edit *e, size_t p)
{
	const unsigned char *s = (const unsigned char *)e->text.data;
	size_t i;

	for (i = p - 1; i > 0; i--) {
		if (s[i - 1] == '\n')
			return i;
		if (s[i] < 0x80 && s[i - 1] < 0x80)
			return i;
	}
	return 0;
}

/*
 * Boundaries from a safe start before p up to p, and one past p when p
 * is inside a cluster, into e->at (at least one; the last is >= p).
 */
static void
boundaries_to(struct edit *e, size_t p)
{
	size_t off = p > 0 ? safe_start(e, p) : 0;

	e->nat = 0;
	for (;;) {
		if (e->nat == e->at_cap) {
			e->at_cap = e->at_cap == 0 ? 64 : e->at_cap * 2;
			e->at = xrealloc(e->at, e->at_cap * sizeof *e->at);
		}
		e->at[e->nat++] = off;
		if (off >= p || off == e->text.len)
			break;
		off += cluster_at(e, off);
	}
}

/* The boundary before p (a boundary), or 0. */
static size_t
prev_boundary(struct edit *e, size_t p)
{
	if (p == 0)
		return 0;
	if (e->text.data[p - 1] == '\n')
		return p - 1;
	boundaries_to(e, p);
	return e->nat >= 2 ? e->at[e->nat - 2] : 0;
}

static size_t
next_boundary(const struct edit *e, size_t p)
{
	return p < e->text.len ? p + cluster_at(e, p) : p;
}

/* The boundary at p, or the nearest one after (forward) or before. */
static size_t
snap(struct edit *e, size_t p, int forward)
{
	boundaries_to(e, p);
	if (e->at[e->nat - 1] == p)
		return p;
	if (forward)
		return e->at[e->nat - 1];
	return e->nat >= 2 ? e->at[e->nat - 2] : 0;
}

/* Letters, digits and marks (a cluster led by one): readline's words. */
static int
is_word(const struct edit *e, size_t p)
{
	uint32_t cp;

	if (utf8_decode((const unsigned char *)e->text.data + p,
	    e->text.len - p, &cp) == 0)
		return 0;
	switch (utf8proc_category((utf8proc_int32_t)cp)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return 1;
	default:
		return 0;
	}
}

/* The start of the word before p: back over non-words, then words. */
static size_t
word_left(struct edit *e, size_t p)
{
	size_t i;
	int in_word = 0;

	while (p > 0) {
		if (e->text.data[p - 1] == '\n') {
			if (in_word)
				return p;
			p--;
			continue;
		}
		/* A stretch of boundaries, then back along them. */
		boundaries_to(e, p);
		for (i = e->nat - 1; i > 0; i--) {
			if (is_word(e, e->at[i - 1]))
				in_word = 1;
			else if (in_word)
				return e->at[i];
		}
		p = e->at[0];
	}
	return 0;
}

/* The end of the word after p: over non-words, then words. */
static size_t
word_right(const struct edit *e, size_t p)
{
	int in_word = 0;

	while (p < e->text.len) {
		if (is_word(e, p))
			in_word = 1;
		else if (in_word)
			break;
		p = next_boundary(e, p);
	}
	return p;
}

/* Deletes [from, to); the cursor, if inside or after, moves with it. */
static void
delete_range(struct edit *e, size_t from, size_t to)
{
	char *s = e->text.data;

	memmove(s + from, s + to, e->text.len - to + 1);
	e->text.len -= to - from;
	if (e->cursor >= to)
		e->cursor -= to - from;
	else if (e->cursor > from)
		e->cursor = from;
	e->cursor = snap(e, e->cursor, 0);
}

static int
kill_range(struct edit *e, size_t from, size_t to, int backward)
{
	int run = e->last == CMD_EDIT_DELETE_WORD_BACK ||
	    e->last == CMD_EDIT_DELETE_WORD ||
	    e->last == CMD_EDIT_KILL_TO_END ||
	    e->last == CMD_EDIT_KILL_TO_START;
	struct buf b;

	if (from == to)
		return 0;
	if (!run)
		buf_reset(&e->kill);
	if (backward && e->kill.len > 0) {
		buf_init(&b);
		buf_add(&b, e->text.data + from, to - from);
		buf_add(&b, e->kill.data, e->kill.len);
		buf_free(&e->kill);
		e->kill = b;
	} else
		buf_add(&e->kill, e->text.data + from, to - from);
	delete_range(e, from, to);
	return EDIT_CHANGED;
}

/* Text cleaned as the header says, into out (reset first). */
static void
clean(const struct edit *e, const char *s, size_t n, struct buf *out)
{
	int flags = UTF8_DROP_CONTROLS;

	if (!(e->flags & EDIT_SINGLE_LINE))
		flags |= UTF8_KEEP_NEWLINES;
	buf_reset(out);
	utf8_sanitize(s, n, flags, out);
}

int
edit_insert(struct edit *e, const char *s, size_t n)
{
	struct buf b;
	char *t;

	e->last = -1;
	buf_init(&b);
	clean(e, s, n, &b);
	if (e->text.len + b.len > EDIT_MAX) {
		buf_free(&b);
		return -1;
	}
	if (b.len > 0) {
		buf_add(&e->text, b.data, b.len); /* room, then move */
		t = e->text.data;
		memmove(t + e->cursor + b.len, t + e->cursor,
		    e->text.len - b.len - e->cursor);
		memcpy(t + e->cursor, b.data, b.len);
		e->cursor = snap(e, e->cursor + b.len, 1);
	}
	buf_free(&b);
	return 0;
}

int
edit_insert_key(struct edit *e, key_code k)
{
	uint8_t u[4];
	utf8proc_ssize_t n;

	if (!key_is_text(k) || KEYC_BASE(k) > 0x10ffff)
		return -1;
	n = utf8proc_encode_char((utf8proc_int32_t)KEYC_BASE(k), u);
	if (n <= 0)
		return -1;
	return edit_insert(e, (const char *)u, (size_t)n);
}

void
edit_clear(struct edit *e)
{
	buf_reset(&e->text);
	e->cursor = 0;
	e->top = 0;
	e->last = -1;
}

int
edit_set(struct edit *e, const char *s, size_t n)
{
	struct buf b;

	buf_init(&b);
	clean(e, s, n, &b);
	if (b.len > EDIT_MAX) {
		buf_free(&b);
		return -1;
	}
	edit_clear(e);
	buf_add(&e->text, b.data, b.len);
	e->cursor = e->text.len;
	buf_free(&b);
	return 0;
}

/* The rows of the text at the width of the last draw (none: lines). */
static void
layout(struct edit *e)
{
	struct text_wrap tw;
	struct text_line l;

	e->nrows = 0;
	text_wrap_init(&tw, e->text.data, e->text.len,
	    e->cols > 0 ? e->cols : SIZE_MAX);
	while (text_wrap_next(&tw, &l)) {
		if (e->nrows == e->rows_cap) {
			e->rows_cap = e->rows_cap == 0 ? 16 : e->rows_cap * 2;
			e->rows = xrealloc(e->rows,
			    e->rows_cap * sizeof *e->rows);
		}
		e->rows[e->nrows].off = l.off;
		e->rows[e->nrows].len = l.len;
		e->rows[e->nrows].width = l.width;
		e->nrows++;
	}
}

/*
 * Where position p shows: the first row that holds it (or, for a space
 * skipped at a break, the row before), and its column there. A column at
 * or past the width is the start of the next row, where what is typed
 * next will appear; that row may be one past the last.
 */
static void
place(const struct edit *e, size_t p, size_t *row, size_t *col)
{
	size_t i, r = 0;

	for (i = 0; i < e->nrows; i++) {
		if (e->rows[i].off > p)
			break;
		r = i;
		if (p <= e->rows[i].off + e->rows[i].len)
			break;
	}
	*row = r;
	*col = text_width(e->text.data + e->rows[r].off, p - e->rows[r].off);
	if (e->cols > 0 && *col >= e->cols) {
		*row = r + 1;
		*col = 0;
	}
}

/* The position in row r nearest column goal that shows on row r. */
static size_t
position_in_row(struct edit *e, size_t r, size_t goal)
{
	const struct row *rw = &e->rows[r];
	size_t p = rw->off, used = 0, n, row, col;
	unsigned w;

	while (p < rw->off + rw->len) {
		n = text_cluster(e->text.data + p, rw->off + rw->len - p, &w);
		if (used + w > goal)
			break;
		used += w;
		p += n;
	}
	/*
	 * The end of a full row shows at the start of the next: one back.
	 * The start of a row that a wide character began (it did not fit
	 * on the row before) shows at the end of that row: one on.
	 */
	place(e, p, &row, &col);
	if (row > r && p > rw->off)
		p = prev_boundary(e, p);
	else if (row < r && p < rw->off + rw->len)
		p = next_boundary(e, p);
	return p;
}

static int
vertical(struct edit *e, int cmd)
{
	size_t row, col, target;

	layout(e);
	place(e, e->cursor, &row, &col);
	if (e->last != CMD_EDIT_UP && e->last != CMD_EDIT_DOWN)
		e->goal = col;
	if (cmd == CMD_EDIT_UP) {
		if (row == 0)
			return 0;
		target = row - 1;
	} else {
		if (row + 1 >= e->nrows)
			return 0;
		target = row + 1;
	}
	e->cursor = position_in_row(e, target, e->goal);
	return EDIT_MOVED;
}

static int
move_to(struct edit *e, size_t p)
{
	if (p == e->cursor)
		return 0;
	e->cursor = p;
	return EDIT_MOVED;
}

static int
command(struct edit *e, int cmd)
{
	size_t p = e->cursor, q;

	switch (cmd) {
	case CMD_EDIT_LEFT:
		return move_to(e, prev_boundary(e, p));
	case CMD_EDIT_RIGHT:
		return move_to(e, next_boundary(e, p));
	case CMD_EDIT_WORD_LEFT:
		return move_to(e, word_left(e, p));
	case CMD_EDIT_WORD_RIGHT:
		return move_to(e, word_right(e, p));
	case CMD_EDIT_HOME:
		return move_to(e, line_start(e, p));
	case CMD_EDIT_END:
		return move_to(e, line_end(e, p));
	case CMD_EDIT_UP:
	case CMD_EDIT_DOWN:
		return vertical(e, cmd);
	case CMD_EDIT_BACKSPACE:
		if (p == 0)
			return 0;
		delete_range(e, prev_boundary(e, p), p);
		return EDIT_CHANGED;
	case CMD_EDIT_DELETE:
		if (p == e->text.len)
			return 0;
		delete_range(e, p, next_boundary(e, p));
		return EDIT_CHANGED;
	case CMD_EDIT_DELETE_WORD_BACK:
		return kill_range(e, word_left(e, p), p, 1);
	case CMD_EDIT_DELETE_WORD:
		return kill_range(e, p, word_right(e, p), 0);
	case CMD_EDIT_KILL_TO_END:
		q = line_end(e, p);
		if (q == p && q < e->text.len)
			q++; /* at the end of a line: join the next */
		return kill_range(e, p, q, 0);
	case CMD_EDIT_KILL_TO_START:
		q = line_start(e, p);
		if (q == p && q > 0)
			q--; /* at the start of a line: join the previous */
		return kill_range(e, q, p, 1);
	case CMD_EDIT_YANK:
		if (e->kill.len == 0 ||
		    edit_insert(e, e->kill.data, e->kill.len) != 0)
			return 0;
		return EDIT_CHANGED;
	case CMD_COMPOSE_NEWLINE:
		if ((e->flags & EDIT_SINGLE_LINE) ||
		    edit_insert(e, "\n", 1) != 0)
			return 0;
		return EDIT_CHANGED;
	}
	return -1;
}

int
edit_command(struct edit *e, int cmd)
{
	int r = command(e, cmd);

	if (r >= 0)
		e->last = cmd;
	return r;
}

size_t
edit_rows(struct edit *e, unsigned w)
{
	unsigned keep = e->cols;
	size_t row, col;

	e->cols = w;
	layout(e);
	place(e, e->cursor, &row, &col);
	e->cols = keep;
	return row + 1 > e->nrows ? row + 1 : e->nrows;
}

void
edit_draw(struct edit *e, struct canvas *cv, unsigned x, unsigned y,
    unsigned w, unsigned h, unsigned *cursor_x, unsigned *cursor_y)
{
	size_t row, col, total, i, n;
	const struct row *rw;

	*cursor_x = x;
	*cursor_y = y;
	if (w == 0 || h == 0)
		return;
	e->cols = w;
	layout(e);
	place(e, e->cursor, &row, &col);
	total = row + 1 > e->nrows ? row + 1 : e->nrows;
	/* Scroll only as far as the cursor needs, and no further down
	 * than the text goes. */
	if (e->top > row)
		e->top = row;
	if (row >= e->top + h)
		e->top = row - h + 1;
	if (e->top + h > total)
		e->top = total > h ? total - h : 0;

	canvas_fill(cv, x, y, w, h, " ", 0);
	for (i = 0; i < h && e->top + i < e->nrows; i++) {
		rw = &e->rows[e->top + i];
		/* A wide cluster alone on a row narrower than it: cut. */
		n = text_cut(e->text.data + rw->off, rw->len, w, NULL);
		canvas_put(cv, x, y + (unsigned)i, e->text.data + rw->off, n,
		    0);
	}
	*cursor_x = x + (unsigned)col;
	*cursor_y = y + (unsigned)(row - e->top);
}
