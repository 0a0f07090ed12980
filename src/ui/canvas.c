/*
 * The in-memory screen grid. Owns the cells and the rules that keep wide
 * clusters whole; it must not know about curses or about what views draw.
 */
#include "ui/canvas.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "ui/text.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
#define CELL_INLINE 16

/*
 * Most clusters are one to four bytes and live in the cell; the few longer
 * ones (emoji sequences, stacked marks) get their own allocation.
 */
struct cell {
	union {
		char in[CELL_INLINE];
		char *ext;
	} u;
	uint8_t len;   /* bytes of the cluster; 0 for a continuation */
	uint8_t width; /* 1 or 2; 0 for the right half of a wide cluster */
	uint16_t attr;
};

struct canvas {
	unsigned w, h;
	struct cell *cells;
	unsigned char *dirty;
	unsigned cx0, cy0, cx1, cy1; /* the clip: [cx0, cx1) x [cy0, cy1) */
};

static const char *
cell_text(const struct cell *c)
{
	return c->len > CELL_INLINE ? c->u.ext : c->u.in;
}

static void
cell_release(struct cell *c)
{
	if (c->len > CELL_INLINE)
		free(c->u.ext);
	c->len = 0;
}

static void
cell_blank(struct cell *c, int attr)
{
	cell_release(c);
	c->u.in[0] = ' ';
	c->len = 1;
	c->width = 1;
	c->attr = (uint16_t)attr;
}

static struct cell *
cell_at(struct canvas *cv, unsigned x, unsigned y)
{
	return &cv->cells[(size_t)y * cv->w + x];
}

static int
cell_equal(const struct cell *c, const char *s, size_t n, unsigned width,
    int attr)
{
	return c->len == n && c->width == width && c->attr == (uint16_t)attr &&
	    (n == 0 || memcmp(cell_text(c), s, n) == 0);
}

/* Sets one cell; the row is dirty only when something changed. */
static void
cell_set(struct canvas *cv, unsigned x, unsigned y, const char *s, size_t n,
    unsigned width, int attr)
{
	struct cell *c = cell_at(cv, x, y);

	if (cell_equal(c, s, n, width, attr))
		return;
	cell_release(c);
	if (n > CELL_INLINE) {
		c->u.ext = xmalloc(n);
		memcpy(c->u.ext, s, n);
	} else if (n > 0)
		memcpy(c->u.in, s, n);
	c->len = (uint8_t)n;
	c->width = (uint8_t)width;
	c->attr = (uint16_t)attr;
	cv->dirty[y] = 1;
}

static void
cell_set_blank(struct canvas *cv, unsigned x, unsigned y, int attr)
{
	cell_set(cv, x, y, " ", 1, 1, attr);
}

static void
canvas_alloc(struct canvas *cv, unsigned w, unsigned h)
{
	size_t i, n = (size_t)w * h;

	cv->w = w;
	cv->h = h;
	cv->cells = xcalloc(n > 0 ? n : 1, sizeof *cv->cells);
	for (i = 0; i < n; i++)
		cell_blank(&cv->cells[i], 0);
	cv->dirty = xmalloc(h > 0 ? h : 1);
	memset(cv->dirty, 1, h > 0 ? h : 1);
	canvas_unclip(cv);
}

static void
canvas_release(struct canvas *cv)
{
	size_t i, n = (size_t)cv->w * cv->h;

	for (i = 0; i < n; i++)
		cell_release(&cv->cells[i]);
	free(cv->cells);
	free(cv->dirty);
}

struct canvas *
canvas_new(unsigned w, unsigned h)
{
	struct canvas *cv = xcalloc(1, sizeof *cv);

	canvas_alloc(cv, w, h);
	return cv;
}

void
canvas_free(struct canvas *cv)
{
	if (cv == NULL)
		return;
	canvas_release(cv);
	free(cv);
}

void
canvas_resize(struct canvas *cv, unsigned w, unsigned h)
{
	canvas_release(cv);
	canvas_alloc(cv, w, h);
}

unsigned
canvas_width(const struct canvas *cv)
{
	return cv->w;
}

unsigned
canvas_height(const struct canvas *cv)
{
	return cv->h;
}

void
canvas_clear(struct canvas *cv)
{
	unsigned x, y;

	for (y = 0; y < cv->h; y++)
		for (x = 0; x < cv->w; x++)
			cell_set_blank(cv, x, y, 0);
}

/* [a, a + len) within [lo, hi) as [*from, *to), without overflow. */
static void
span_clip(unsigned a, unsigned len, unsigned lo, unsigned hi, unsigned *from,
    unsigned *to)
{
	unsigned end = len > UINT_MAX - a ? UINT_MAX : a + len;

	*from = a > lo ? a : lo;
	*to = end < hi ? end : hi;
	if (*to < *from)
		*to = *from;
}

void
canvas_clip(struct canvas *cv, unsigned x, unsigned y, unsigned w,
    unsigned h)
{
	span_clip(x, w, 0, cv->w, &cv->cx0, &cv->cx1);
	span_clip(y, h, 0, cv->h, &cv->cy0, &cv->cy1);
}

void
canvas_unclip(struct canvas *cv)
{
	cv->cx0 = cv->cy0 = 0;
	cv->cx1 = cv->w;
	cv->cy1 = cv->h;
}

/*
 * Before cell x changes, a wide cluster it is half of loses its other
 * half, which becomes a space in that cluster's attributes: never half a
 * wide character on screen. This may touch a cell just outside the clip.
 */
static void
break_wide(struct canvas *cv, unsigned x, unsigned y)
{
	struct cell *c = cell_at(cv, x, y);

	if (c->width == 0 && x > 0)
		cell_set_blank(cv, x - 1, y, cell_at(cv, x - 1, y)->attr);
	else if (c->width == 2 && x + 1 < cv->w)
		cell_set_blank(cv, x + 1, y, cell_at(cv, x + 1, y)->attr);
}

/*
 * Cuts an over-long cluster at a code point boundary: what goes is the end
 * of a stack of marks, never the base.
 */
static size_t
cluster_clamp(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0, k;
	uint32_t cp;

	while (off < n && (k = utf8_decode(p + off, n - off, &cp)) != 0 &&
	    off + k <= CANVAS_CLUSTER_MAX)
		off += k;
	return off;
}

/* Writes one cluster of width w at x, which the caller has checked fits. */
static void
put_cluster(struct canvas *cv, unsigned x, unsigned y, const char *s,
    size_t n, unsigned w, int attr)
{
	char tmp[CANVAS_CLUSTER_MAX + 1];
	uint32_t cp;
	utf8proc_category_t cat;

	if (utf8_decode((const unsigned char *)s, n, &cp) == 0) {
		s = REPLACEMENT;
		n = strlen(REPLACEMENT);
	} else {
		if (n > CANVAS_CLUSTER_MAX)
			n = cluster_clamp(s, n);
		cat = utf8proc_category((utf8proc_int32_t)cp);
		if (cat == UTF8PROC_CATEGORY_MN ||
		    cat == UTF8PROC_CATEGORY_ME) {
			/*
			 * A nonspacing mark with no base would join the cell
			 * before (a spacing mark takes its own column).
			 */
			tmp[0] = ' ';
			if (n > CANVAS_CLUSTER_MAX - 1)
				n = cluster_clamp(s, CANVAS_CLUSTER_MAX - 1);
			memcpy(tmp + 1, s, n);
			s = tmp;
			n++;
		}
	}
	break_wide(cv, x, y);
	if (w == 2) {
		break_wide(cv, x + 1, y);
		cell_set(cv, x, y, s, n, 2, attr);
		cell_set(cv, x + 1, y, "", 0, 0, attr);
	} else
		cell_set(cv, x, y, s, n, 1, attr);
}

unsigned
canvas_put(struct canvas *cv, unsigned x, unsigned y, const char *s,
    size_t len, int attr)
{
	size_t off = 0, n;
	unsigned w;

	if (y < cv->cy0 || y >= cv->cy1 || cv->cx0 >= cv->cx1)
		return x; /* the row is outside, or the clip is empty */
	while (off < len && x < cv->cx1) {
		n = text_cluster(s + off, len - off, &w);
		off += n;
		if (w == 0)
			continue;
		if (x < cv->cx0) {
			/* Left of the clip; a wide one may straddle it. */
			if (x + w > cv->cx0) {
				break_wide(cv, cv->cx0, y);
				cell_set_blank(cv, cv->cx0, y, attr);
			}
			x += w;
			continue;
		}
		if (x + w > cv->cx1) {
			/* Half a wide character would show: pad instead. */
			break_wide(cv, x, y);
			cell_set_blank(cv, x, y, attr);
			x++;
			break;
		}
		put_cluster(cv, x, y, s + off - n, n, w, attr);
		x += w;
	}
	return x;
}

unsigned
canvas_puts(struct canvas *cv, unsigned x, unsigned y, const char *s,
    int attr)
{
	return canvas_put(cv, x, y, s, strlen(s), attr);
}

void
canvas_fill(struct canvas *cv, unsigned x, unsigned y, unsigned w,
    unsigned h, const char *cluster, int attr)
{
	unsigned cw, col, row, x0, x1, y0, y1;
	size_t n;

	n = text_cluster(cluster, strlen(cluster), &cw);
	if (cw == 0)
		return;
	span_clip(x, w, cv->cx0, cv->cx1, &x0, &x1);
	span_clip(y, h, cv->cy0, cv->cy1, &y0, &y1);
	for (row = y0; row < y1; row++) {
		for (col = x0; col < x1; col += cw) {
			if (col + cw > x1) {
				/* A wide fill leaves an odd column. */
				break_wide(cv, col, row);
				cell_set_blank(cv, col, row, attr);
				break;
			}
			put_cluster(cv, col, row, cluster, n, cw, attr);
		}
	}
}

void
canvas_hline(struct canvas *cv, unsigned x, unsigned y, unsigned w,
    int attr)
{
	canvas_fill(cv, x, y, w, 1, "\xe2\x94\x80", attr); /* ─ */
}

void
canvas_vline(struct canvas *cv, unsigned x, unsigned y, unsigned h,
    int attr)
{
	canvas_fill(cv, x, y, 1, h, "\xe2\x94\x82", attr); /* │ */
}

void
canvas_box(struct canvas *cv, unsigned x, unsigned y, unsigned w,
    unsigned h, int attr)
{
	if (w < 2 || h < 2)
		return;
	canvas_hline(cv, x + 1, y, w - 2, attr);
	canvas_hline(cv, x + 1, y + h - 1, w - 2, attr);
	canvas_vline(cv, x, y + 1, h - 2, attr);
	canvas_vline(cv, x + w - 1, y + 1, h - 2, attr);
	canvas_puts(cv, x, y, "\xe2\x94\x8c", attr);		/* ┌ */
	canvas_puts(cv, x + w - 1, y, "\xe2\x94\x90", attr);	/* ┐ */
	canvas_puts(cv, x, y + h - 1, "\xe2\x94\x94", attr);	/* └ */
	canvas_puts(cv, x + w - 1, y + h - 1, "\xe2\x94\x98", attr); /* ┘ */
}

int
canvas_cell(const struct canvas *cv, unsigned x, unsigned y,
    struct canvas_cell_info *ci)
{
	const struct cell *c;

	if (x >= cv->w || y >= cv->h)
		return -1;
	c = &cv->cells[(size_t)y * cv->w + x];
	ci->text = cell_text(c);
	ci->len = c->len;
	ci->width = c->width;
	ci->attr = c->attr;
	return 0;
}

int
canvas_row_dirty(const struct canvas *cv, unsigned y)
{
	return y < cv->h && cv->dirty[y];
}

void
canvas_clean(struct canvas *cv)
{
	if (cv->h > 0)
		memset(cv->dirty, 0, cv->h);
}

void
canvas_dump(const struct canvas *cv, struct buf *out)
{
	const struct cell *c;
	unsigned x, y;
	size_t keep;

	for (y = 0; y < cv->h; y++) {
		keep = out->len;
		for (x = 0; x < cv->w; x++) {
			c = &cv->cells[(size_t)y * cv->w + x];
			if (c->width == 0)
				continue;
			buf_add(out, cell_text(c), c->len);
			if (c->len != 1 || cell_text(c)[0] != ' ')
				keep = out->len;
		}
		out->len = keep;
		buf_add(out, "\n", 1);
	}
}
