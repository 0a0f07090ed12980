/*
 * Display width, cutting and wrapping of text by grapheme cluster (UAX #29,
 * through utf8proc). Every view measures and cuts with these, so that a
 * cluster is never split and half a wide character is never drawn.
 *
 * The input is text that has already been through utf8_sanitize() (core/
 * utf8.h): customers' text must never reach a view any other way. These
 * functions still take any bytes without crashing: an invalid byte is a
 * cluster of its own, one byte long and one column wide (the canvas draws
 * it as U+FFFD), and a control character measures 0.
 *
 * Width of a cluster. No table agrees with every terminal; this one
 * follows terminals that lay out whole clusters (kitty, WezTerm, foot,
 * Ghostty, and what DEC mode 2027 announces), and it agrees with wcwidth
 * terminals on everything but emoji sequences:
 *
 *  1. the largest utf8proc_charwidth() of its code points, where format
 *     characters (Cf: ZWSP, ZWJ, WJ, BOM, soft hyphen, tags) count 0, so a
 *     base with combining marks, a Hangul syllable in jamo and an emoji
 *     with a skin tone or a ZWJ family all measure as their widest part;
 *     plus one for each spacing mark (Mc, as in Devanagari "कि"), which
 *     wcwidth terminals draw in a column of its own; at most 2;
 *  2. 2 when a pictograph or a keycap base (0-9 # *) is followed in it by
 *     U+FE0F VARIATION SELECTOR-16 (emoji presentation: a red heart with
 *     VS16, a keycap); VS16 after anything else changes nothing;
 *  3. 2 for a flag (a pair of regional indicators); a lone indicator is 1;
 *  4. 1 for nonspacing marks with no base (the canvas puts them on a
 *     space);
 *  5. otherwise 0: a cluster of only format or control characters takes
 *     no column and the canvas never draws it.
 *
 * Ambiguous-width characters (box drawing, "…") are 1, as utf8proc has
 * them. Widths are at most 2 per cluster.
 */
#ifndef GLIVI_UI_TEXT_H
#define GLIVI_UI_TEXT_H

#include <stddef.h>

struct buf;

/*
 * The cluster that starts at s: its length in bytes (at least 1 when
 * len > 0, 0 when len is 0) and its width in *width (may be NULL).
 */
size_t text_cluster(const char *s, size_t len, unsigned *width);

/* Columns that s takes on one line (a newline counts 0, like a control). */
size_t text_width(const char *s, size_t len);

/*
 * The longest prefix of s that fits in cols columns, in bytes; it ends on
 * a cluster boundary, and zero-width clusters right after it are taken
 * too. *width (may be NULL) gets its width, which is cols - 1 when a wide
 * character would straddle the edge: the caller pads that column.
 */
size_t text_cut(const char *s, size_t len, size_t cols, size_t *width);

/*
 * Appends s cut to cols columns to out and returns the columns appended.
 * With TEXT_ELLIPSIS, text that does not fit ends in "…" (U+2026, one
 * column) inside the cols columns, so the reader sees something was cut.
 */
#define TEXT_ELLIPSIS 0x1
size_t text_cut_buf(struct buf *out, const char *s, size_t len, size_t cols,
    int flags);

/*
 * Wrapping a paragraph into lines of at most cols columns:
 *
 *  - a newline ends a line; n newlines make n + 1 lines, and empty text is
 *    one empty line;
 *  - lines break at spaces (U+0020); the run of spaces at a break is not
 *    part of either line, nor is one newline right after it;
 *  - a word longer than a line is broken between clusters;
 *  - spaces that lead a paragraph are kept (indentation), and so are
 *    spaces at its end when they fit;
 *  - a cluster wider than the whole line (a wide character with cols < 2)
 *    gets a line of its own: the only line wider than cols, so a narrow
 *    pane still moves forward instead of looping.
 *
 * No space other than U+0020 is a break: CJK text without spaces, and
 * no-break spaces, are broken between clusters like a long word.
 *
 * Use:
 *	struct text_wrap w;
 *	struct text_line l;
 *
 *	text_wrap_init(&w, s, len, cols);
 *	while (text_wrap_next(&w, &l))
 *		draw(s + l.off, l.len, l.width);
 */
struct text_line {
	size_t off;   /* into the paragraph */
	size_t len;   /* bytes */
	size_t width; /* columns */
};

struct text_wrap {
	const char *s;
	size_t len;
	size_t off;
	size_t cols;
	int done;
};

void text_wrap_init(struct text_wrap *, const char *s, size_t len,
    size_t cols);
int text_wrap_next(struct text_wrap *, struct text_line *);
/* How many lines text_wrap_next() would give. */
size_t text_wrap_count(const char *s, size_t len, size_t cols);

#endif
