/*
 * Grapheme clusters and their widths (utf8proc), and the cutting and
 * wrapping built on them. Pure functions on bytes: no terminal, no state,
 * no allocation except into the caller's buffer.
 */
#include "ui/text.h"

#include <stdint.h>

#include <utf8proc.h>

#include "core/buf.h"
#include "core/utf8.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026 */

static int
is_regional_indicator(uint32_t cp)
{
	return cp >= 0x1f1e6 && cp <= 0x1f1ff;
}

/*
 * What VS16 can turn into an emoji: pictographs, and the keycap bases
 * 0-9 # *. After anything else (a space the canvas put under a lone mark,
 * a letter) it changes nothing on screen, so it must not change the width.
 */
static int
takes_emoji_presentation(uint32_t cp)
{
	const utf8proc_property_t *p;

	if ((cp >= '0' && cp <= '9') || cp == '#' || cp == '*')
		return 1;
	p = utf8proc_get_property((utf8proc_int32_t)cp);
	return p->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC;
}

static int
is_mark(uint32_t cp)
{
	utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);

	return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC ||
	    c == UTF8PROC_CATEGORY_ME;
}

/* One code point's part in rule 1 of the header: Cf and Cc count 0. */
static unsigned
codepoint_width(uint32_t cp)
{
	utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
	int w;

	if (c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_CC)
		return 0;
	w = utf8proc_charwidth((utf8proc_int32_t)cp);
	return w < 0 ? 0 : w > 2 ? 2 : (unsigned)w;
}

static int
is_spacing_mark(uint32_t cp)
{
	return utf8proc_category((utf8proc_int32_t)cp) == UTF8PROC_CATEGORY_MC;
}

size_t
text_cluster(const char *s, size_t len, unsigned *width)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp, prev;
	utf8proc_int32_t state = 0;
	size_t k, n;
	unsigned w, regional = 0, spacing;
	int emoji_base, vs16 = 0, mark = 0, lead_mark;

	if (len == 0) {
		if (width != NULL)
			*width = 0;
		return 0;
	}
	/*
	 * Printable ASCII before ASCII (or the end) is a cluster of one
	 * column: no rule of UAX #29 joins two ASCII characters but CR LF.
	 * Most text is this, and editors and wraps walk all of it.
	 */
	if (p[0] >= 0x20 && p[0] < 0x7f && (len == 1 || p[1] < 0x80)) {
		if (width != NULL)
			*width = 1;
		return 1;
	}
	if ((n = utf8_decode(p, len, &cp)) == 0) {
		/* Invalid: one byte, drawn as U+FFFD by the canvas. */
		if (width != NULL)
			*width = 1;
		return 1;
	}
	w = is_spacing_mark(cp) ? 0 : codepoint_width(cp);
	spacing = is_spacing_mark(cp);
	emoji_base = takes_emoji_presentation(cp);
	regional = is_regional_indicator(cp);
	mark = is_mark(cp);
	lead_mark = mark && !spacing;
	for (;;) {
		prev = cp;
		if (n == len || (k = utf8_decode(p + n, len - n, &cp)) == 0)
			break;
		if (utf8proc_grapheme_break_stateful((utf8proc_int32_t)prev,
		    (utf8proc_int32_t)cp, &state))
			break;
		if (is_spacing_mark(cp))
			spacing++;
		else if (codepoint_width(cp) > w)
			w = codepoint_width(cp);
		if (cp == 0xfe0f)
			vs16 = 1;
		regional += is_regional_indicator(cp);
		mark |= is_mark(cp);
		n += k;
	}
	w += spacing;
	/* A cluster that starts with a non-spacing mark is drawn on a space
	 * (the canvas adds one): it measures as that space and its spacing
	 * marks, or a spacing mark after it would be a column short; a wide
	 * code point joined to it (a skin tone after a lone selector) still
	 * takes its two columns, as it does measured after that space. */
	if (lead_mark)
		w = (w > 1 ? w : 1) + spacing;
	if ((vs16 && emoji_base) || regional >= 2 || w > 2)
		w = 2;
	else if (w == 0 && mark)
		w = 1;
	if (width != NULL)
		*width = w;
	return n;
}

size_t
text_width(const char *s, size_t len)
{
	size_t off = 0, total = 0, n;
	unsigned w;

	while (off < len) {
		n = text_cluster(s + off, len - off, &w);
		total += w;
		off += n;
	}
	return total;
}

size_t
text_cut(const char *s, size_t len, size_t cols, size_t *width)
{
	size_t off = 0, used = 0, n;
	unsigned w;

	while (off < len) {
		n = text_cluster(s + off, len - off, &w);
		if (used + w > cols)
			break;
		used += w;
		off += n;
	}
	if (width != NULL)
		*width = used;
	return off;
}

size_t
text_cut_buf(struct buf *out, const char *s, size_t len, size_t cols,
    int flags)
{
	size_t n, w;

	n = text_cut(s, len, cols, &w);
	if (n == len || !(flags & TEXT_ELLIPSIS) || cols == 0) {
		buf_add(out, s, n);
		return w;
	}
	/* Cut again one column shorter, to make room for the ellipsis. */
	n = text_cut(s, len, cols - 1, &w);
	buf_add(out, s, n);
	buf_adds(out, ELLIPSIS);
	return w + 1;
}

void
text_wrap_init(struct text_wrap *tw, const char *s, size_t len, size_t cols)
{
	tw->s = s;
	tw->len = len;
	tw->off = 0;
	tw->cols = cols;
	tw->done = 0;
}

/* A cluster that is one plain space: the only place a line may break. */
static int
is_space(const char *s, size_t n)
{
	return n == 1 && s[0] == ' ';
}

/*
 * Ends a line at a break: the run of spaces at p is skipped, and one
 * newline after it, since the break has already ended the line. Only
 * when no newline was skipped does reaching the end finish the wrap:
 * "a\n" is two lines however the break fell.
 */
static void
wrap_skip_break(struct text_wrap *tw, size_t p)
{
	size_t n;

	while (p < tw->len) {
		n = text_cluster(tw->s + p, tw->len - p, NULL);
		if (!is_space(tw->s + p, n))
			break;
		p += n;
	}
	if (p < tw->len && tw->s[p] == '\n')
		p++;
	else if (p == tw->len)
		tw->done = 1;
	tw->off = p;
}

static int
wrap_emit(struct text_line *l, size_t start, size_t end, size_t width)
{
	l->off = start;
	l->len = end - start;
	l->width = width;
	return 1;
}

int
text_wrap_next(struct text_wrap *tw, struct text_line *l)
{
	const char *s = tw->s;
	size_t start = tw->off, p = start, width = 0, n;
	size_t brk = 0, brk_width = 0; /* where the last space run begins */
	int have_brk = 0, after_word = 0;
	unsigned w;

	if (tw->done)
		return 0;
	for (;;) {
		if (p == tw->len) {
			tw->done = 1;
			return wrap_emit(l, start, p, width);
		}
		if (s[p] == '\n') {
			tw->off = p + 1;
			return wrap_emit(l, start, p, width);
		}
		n = text_cluster(s + p, tw->len - p, &w);
		if (is_space(s + p, n)) {
			/* Only spaces after a word break: indentation stays. */
			if (after_word) {
				brk = p;
				brk_width = width;
				have_brk = 1;
			}
			after_word = 0;
		} else if (w > 0)
			after_word = 1;
		if (width + w <= tw->cols) {
			width += w;
			p += n;
			continue;
		}
		/* The cluster at p does not fit: end the line before it. */
		if (have_brk) {
			wrap_skip_break(tw, brk);
			return wrap_emit(l, start, brk, brk_width);
		}
		if (p == start) {
			/* Wider than the whole line: it goes alone. */
			tw->off = p + n;
			if (tw->off == tw->len)
				tw->done = 1;
			return wrap_emit(l, start, p + n, w);
		}
		/* A word longer than the line: break it between clusters. */
		tw->off = p;
		return wrap_emit(l, start, p, width);
	}
}

size_t
text_wrap_count(const char *s, size_t len, size_t cols)
{
	struct text_wrap tw;
	struct text_line l;
	size_t n = 0;

	text_wrap_init(&tw, s, len, cols);
	while (text_wrap_next(&tw, &l))
		n++;
	return n;
}
