/*
 * libFuzzer target for cutting and wrapping by grapheme cluster. The
 * first byte picks the width (0 to 63 columns); the rest is text, checked
 * raw (invalid UTF-8 must never crash these functions) and after the
 * sanitiser (what views really get). Invariants: clusters tile the text;
 * a cut is a prefix on a cluster boundary, at most N columns and as long
 * as fits; wrapped lines are in order, on cluster boundaries, at most N
 * columns (or a single cluster wider than N), with only spaces and
 * newlines between them; a canvas never holds half a wide character.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "ui/canvas.h"
#include "ui/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(x)                \
	do {                    \
		if (!(x))       \
			abort(); \
	} while (0)

/* A map of the offsets where a cluster starts (and the end). */
static unsigned char *
boundaries(const char *s, size_t len)
{
	unsigned char *at = xcalloc(len + 1, 1);
	size_t off = 0, n, total = 0;
	unsigned w;

	while (off < len) {
		at[off] = 1;
		n = text_cluster(s + off, len - off, &w);
		CHECK(n >= 1 && n <= len - off && w <= 2);
		total += w;
		off += n;
	}
	at[len] = 1;
	CHECK(total == text_width(s, len));
	return at;
}

static void
check_cut(const char *s, size_t len, size_t cols, const unsigned char *at)
{
	size_t n, w, bw;
	unsigned next;
	struct buf b;

	n = text_cut(s, len, cols, &w);
	CHECK(n <= len && at[n] && w <= cols);
	CHECK(w == text_width(s, n));
	if (n < len) {
		/* As long as fits: what stopped it is a cluster too wide. */
		text_cluster(s + n, len - n, &next);
		CHECK(next > 0 && w + next > cols);
	}
	buf_init(&b);
	bw = text_cut_buf(&b, s, len, cols, TEXT_ELLIPSIS);
	CHECK(bw <= cols && bw == text_width(b.data, b.len));
	if (n == len)
		CHECK(b.len == len && memcmp(b.data, s, len) == 0);
	buf_free(&b);
}

static void
check_wrap(const char *s, size_t len, size_t cols, const unsigned char *at)
{
	struct text_wrap tw;
	struct text_line l;
	size_t prev_end = 0, lines = 0, i, newlines;
	unsigned w;

	text_wrap_init(&tw, s, len, cols);
	while (text_wrap_next(&tw, &l)) {
		CHECK(++lines <= len + 1);
		CHECK(l.off >= prev_end && l.off + l.len <= len);
		CHECK(at[l.off] && at[l.off + l.len]);
		CHECK(l.width == text_width(s + l.off, l.len));
		if (l.width > cols)
			CHECK(text_cluster(s + l.off, l.len, &w) == l.len);
		/* Between lines: spaces, and at most one newline. */
		for (i = prev_end, newlines = 0; i < l.off; i++) {
			CHECK(s[i] == ' ' || s[i] == '\n');
			newlines += s[i] == '\n';
		}
		CHECK(newlines <= 1);
		prev_end = l.off + l.len;
	}
	CHECK(lines >= 1 && lines == text_wrap_count(s, len, cols));
	for (i = prev_end; i < len; i++)
		CHECK(s[i] == ' ');
}

static void
check_canvas(const char *s, size_t len, size_t cols)
{
	struct canvas *cv = canvas_new((unsigned)cols, 4);
	struct canvas_cell_info ci, prev = { 0 };
	struct text_wrap tw;
	struct text_line l;
	unsigned x, y = 0;
	struct buf b;
	const char *p, *nl;

	text_wrap_init(&tw, s, len, cols);
	while (y < 4 && text_wrap_next(&tw, &l))
		canvas_put(cv, 0, y++, s + l.off, l.len, 0);
	canvas_clip(cv, 1, 1, (unsigned)cols / 2, 2);
	canvas_put(cv, 0, 2, s, len, CANVAS_BOLD);
	canvas_unclip(cv);
	for (y = 0; y < 4; y++) {
		for (x = 0; x < cols; x++) {
			CHECK(canvas_cell(cv, x, y, &ci) == 0);
			CHECK(ci.width <= 2);
			if (ci.width == 0)
				CHECK(x > 0 && prev.width == 2 && ci.len == 0);
			if (ci.width == 2)
				CHECK(x + 1 < cols);
			if (ci.width > 0)
				CHECK(ci.len > 0 &&
				    utf8_valid(ci.text, ci.len));
			prev = ci;
		}
	}
	buf_init(&b);
	canvas_dump(cv, &b);
	for (p = b.data, y = 0; y < 4; y++, p = nl + 1) {
		nl = strchr(p, '\n');
		CHECK(nl != NULL);
		CHECK(text_width(p, (size_t)(nl - p)) <= cols);
	}
	CHECK(*p == '\0');
	buf_free(&b);
	canvas_free(cv);
}

static void
check_all(const char *s, size_t len, size_t cols)
{
	unsigned char *at = boundaries(s, len);

	check_cut(s, len, cols, at);
	check_wrap(s, len, cols, at);
	check_canvas(s, len, cols);
	free(at);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf clean;
	size_t cols;

	if (size == 0)
		return 0;
	cols = data[0] & 0x3f;
	check_all((const char *)data + 1, size - 1, cols);
	buf_init(&clean);
	utf8_sanitize((const char *)data + 1, size - 1, UTF8_KEEP_NEWLINES,
	    &clean);
	check_all(clean.data != NULL ? clean.data : "", clean.len, cols);
	buf_free(&clean);
	return 0;
}
