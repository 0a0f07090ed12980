/*
 * What a canvas cell becomes on a terminal driven through ncurses, which
 * keeps one spacing character and a few zero-width ones per screen cell
 * and measures them with the C library's wcwidth(). A cluster that such
 * a terminal would measure differently from the canvas (an emoji ZWJ
 * sequence, a skin tone, a heart with VS16) is drawn as the part of it
 * that measures the same, padded with spaces, so ncurses, the terminal
 * and the layout always agree on where every column is:
 *
 *  - each spacing code point starts a terminal cell; zero-width ones
 *    (combining marks, Hangul vowel and final jamo) join the cell before
 *    it, at most CELLMAP_MARKS of them; format characters (ZWJ, tags)
 *    and variation selectors are dropped, since they change how wide a
 *    terminal draws the cell;
 *  - terminal cells are taken while they fit in the canvas cell's width,
 *    then spaces fill it: a flag's two regional indicators are two cells
 *    that a capable terminal draws as a flag, a ZWJ family is its first
 *    emoji;
 *  - when even the first part does not measure right, U+FFFD stands in.
 *
 * Needs a UTF-8 LC_CTYPE, as ncurses does.
 */
#ifndef GLIVI_UI_CELLMAP_H
#define GLIVI_UI_CELLMAP_H

#include <stddef.h>
#include <wchar.h>

#define CELLMAP_MARKS 4 /* ncurses' CCHARW_MAX (5) less the spacing one */

struct cellmap {
	/* Each terminal cell: a spacing character and its marks, NUL-ended. */
	wchar_t cell[2][CELLMAP_MARKS + 2];
	/*
	 * Terminal cells to draw, at the canvas cell's column and the next:
	 * 1 for a character as wide as the canvas cell, else its width.
	 */
	unsigned n;
};

/* Maps one cluster that a canvas cell of `width` columns (1 or 2) holds. */
void cellmap_cell(const char *cluster, size_t len, unsigned width,
    struct cellmap *);

#endif
