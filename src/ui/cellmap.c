/*
 * Canvas cells to what ncurses can hold without disagreeing with the
 * terminal about widths. Pure: no curses here, so it is unit-tested.
 */
#include "ui/cellmap.h"

#include <stdint.h>
#include <wchar.h>

#include <utf8proc.h>

#include "core/utf8.h"

#define REPLACEMENT 0xfffd

/* Characters that change a cell's look or width without taking one. */
static int
is_dropped(uint32_t cp)
{
	utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);

	return c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_CC ||
	    (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef);
}

static void
set_cell(struct cellmap *m, unsigned i, wchar_t wc)
{
	m->cell[i][0] = wc;
	m->cell[i][1] = L'\0';
}

/* Fills the cells from `from` on with spaces, up to the width. */
static void
pad(struct cellmap *m, unsigned from, unsigned width)
{
	unsigned i;

	for (i = from; i < width; i++)
		set_cell(m, i, L' ');
	m->n = width;
}

static void
replacement(struct cellmap *m, unsigned width)
{
	set_cell(m, 0, wcwidth(REPLACEMENT) == 1 ? REPLACEMENT : L'?');
	pad(m, 1, width);
}

void
cellmap_cell(const char *s, size_t len, unsigned width, struct cellmap *m)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned used = 0, cells = 0, marks = 0;
	size_t off = 0, k;
	uint32_t cp;
	int w;

	if (width < 1 || width > 2)
		width = width < 1 ? 1 : 2;
	m->n = 0;
	while (off < len) {
		if ((k = utf8_decode(p + off, len - off, &cp)) == 0)
			break;
		off += k;
		if (is_dropped(cp))
			continue;
		if ((w = wcwidth((wchar_t)cp)) < 0)
			break;
		if (w == 0) {
			/* A mark: it joins the cell before, if there is one. */
			if (cells > 0 && marks < CELLMAP_MARKS) {
				m->cell[cells - 1][1 + marks++] = (wchar_t)cp;
				m->cell[cells - 1][1 + marks] = L'\0';
			}
			continue;
		}
		if (used + (unsigned)w > width)
			break;
		set_cell(m, cells++, (wchar_t)cp);
		used += (unsigned)w;
		marks = 0;
	}
	if (cells == 0) {
		replacement(m, width);
		return;
	}
	/*
	 * A wide character fills both columns with one terminal cell; the
	 * second is then the right half, which the caller does not draw.
	 */
	if (used == 2 && cells == 1) {
		m->n = 1;
		return;
	}
	pad(m, cells, width);
}
