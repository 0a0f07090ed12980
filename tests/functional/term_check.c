/*
 * term-check: draws a screen of hostile and hard text through the real
 * path (utf8_sanitize, wrap and cut, canvas, cellmap, ncurses) and writes
 * what the terminal should now show to EXPECTED, the way tmux's
 * capture-pane prints it. test_term.py runs it in tmux and in a pty and
 * compares. Exits when a key arrives on stdin.
 *
 *	term-check EXPECTED
 */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "core/buf.h"
#include "core/fileutil.h"
#include "core/utf8.h"
#include "ui/canvas.h"
#include "ui/cellmap.h"
#include "ui/term.h"
#include "ui/text.h"

/* What customers might send: every one goes through the sanitiser. */
static const char *const messages[] = {
	"OSC 52 \x1b]52;c;aGVsbG8=\x07 and OSC 8 \x1b]8;;http://evil\x1b\\"
	"link\x1b]8;;\x1b\\ end",
	"mouse \x1b[?1000h\x1b[?1006h on, cursor \x1b[99;99H\x1b[2J moved",
	"status \x1b[6n report, colour \x1b[38;2;1;2;3mtrue\x1b[0m",
	"carriage\rreturn and back\x08\x08spaces, bell\x07 delete\x7f",
	"bidi \xe2\x80\xae\x64\x6c\x72\x6f\x77\xe2\x80\xac olleh \xe2\x81\xa6x",
	"family \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0"
	"\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f\x91\xa6 flags \xf0\x9f\x87\xb3\xf0"
	"\x9f\x87\xbf\xf0\x9f\x87\xa6\xf0\x9f\x87\xba tones \xf0\x9f\x91\x8d"
	"\xf0\x9f\x8f\xbd heart \xe2\x9d\xa4\xef\xb8\x8f",
	"marks e\xcc\x81\xcc\x81 Zalgo z\xcc\x8d\xcc\x8e\xcc\x84\xcc\x85\xcc"
	"\x86\xcc\x87 cjk 中文字幕測試 kana カタカナ hangul 한국어",
	"devanagari \xe0\xa4\x95\xe0\xa4\xbf\xe0\xa4\xa4\xe0\xa4\xbe\xe0\xa4"
	"\xac thai \xe0\xb8\x81\xe0\xb8\xb1\xe0\xb8\x9a zw a\xe2\x80\x8b"
	"b\xe2\x81\xa0" "c",
	"invalid \xff\xfe \xc3\x28 \xed\xa0\x80 \xf0\x9f\x91 utf-8",
};

static char *
long_message(void)
{
	struct buf b;
	int i;

	buf_init(&b);
	for (i = 0; i < 4096 / 8; i++)
		buf_adds(&b, "longtext");
	return buf_steal(&b);
}

/* A pane: each message sanitised and wrapped, as a thread will be. */
static unsigned
draw_wrapped(struct canvas *cv, unsigned x, unsigned y, unsigned w,
    unsigned h, const char *s, size_t len, int attr)
{
	struct text_wrap tw;
	struct text_line l;
	struct buf clean;
	unsigned rows = 0;

	buf_init(&clean);
	utf8_sanitize(s, len, UTF8_KEEP_NEWLINES, &clean);
	text_wrap_init(&tw, clean.data, clean.len, w);
	while (rows < h && text_wrap_next(&tw, &l))
		canvas_put(cv, x, y + rows++, clean.data + l.off, l.len, attr);
	buf_free(&clean);
	return rows;
}

/* A list: one line each, cut with an ellipsis, as the list will be. */
static void
draw_cut(struct canvas *cv, unsigned x, unsigned y, unsigned w,
    const char *s, size_t len, int attr)
{
	struct buf clean, cut;

	buf_init(&clean);
	buf_init(&cut);
	utf8_sanitize(s, len, 0, &clean);
	text_cut_buf(&cut, clean.data, clean.len, w, TEXT_ELLIPSIS);
	canvas_put(cv, x, y, cut.data, cut.len, attr);
	buf_free(&cut);
	buf_free(&clean);
}

static void
draw_scene(struct canvas *cv, const char *longest)
{
	unsigned w = canvas_width(cv), h = canvas_height(cv), lw, y, i;
	size_t n = sizeof messages / sizeof messages[0];

	canvas_clear(cv);
	if (w < 3 || h < 2)
		return;
	canvas_fill(cv, 0, 0, w, 1, " ", CANVAS_REVERSE);
	canvas_puts(cv, 1, 0, "term-check: hostile text", CANVAS_REVERSE);
	lw = w / 3;
	canvas_vline(cv, lw, 1, h - 1, 0);
	for (i = 0; i < n && 1 + i < h; i++)
		draw_cut(cv, 0, 1 + (unsigned)i, lw, messages[i],
		    strlen(messages[i]), i == 0 ? CANVAS_BOLD : 0);
	if (1 + n < h)
		draw_cut(cv, 0, 1 + (unsigned)n, lw, longest, strlen(longest),
		    0);
	canvas_clip(cv, lw + 1, 1, w - lw - 1, h - 1);
	for (i = 0, y = 1; i < n && y < h; i++)
		y += draw_wrapped(cv, lw + 1, y, w - lw - 1, h - y,
		    messages[i], strlen(messages[i]), CANVAS_PAIR(1));
	if (y < h)
		draw_wrapped(cv, lw + 1, y, w - lw - 1, h - y, longest,
		    strlen(longest), 0);
	canvas_unclip(cv);
}

static void
add_wide(struct buf *b, const wchar_t *ws)
{
	char mb[8];
	mbstate_t st;
	size_t k;

	for (; *ws != L'\0'; ws++) {
		memset(&st, 0, sizeof st);
		if ((k = wcrtomb(mb, *ws, &st)) != (size_t)-1)
			buf_add(b, mb, k);
	}
}

/* The screen as the terminal has it: every cell through cellmap. */
static void
expected_screen(struct canvas *cv, struct buf *out)
{
	struct canvas_cell_info ci;
	struct cellmap m;
	unsigned x, y, i;
	size_t keep;

	for (y = 0; y < canvas_height(cv); y++) {
		keep = out->len;
		for (x = 0; x < canvas_width(cv); x++) {
			canvas_cell(cv, x, y, &ci);
			if (ci.width == 0)
				continue;
			cellmap_cell(ci.text, ci.len, ci.width, &m);
			for (i = 0; i < m.n; i++) {
				add_wide(out, m.cell[i]);
				if (wcscmp(m.cell[i], L" ") != 0)
					keep = out->len;
			}
		}
		out->len = keep;
		buf_add(out, "\n", 1);
	}
}

int
main(int argc, char **argv)
{
	struct term *t;
	struct canvas *cv;
	struct buf b;
	char *cause = NULL, *longest, c;
	unsigned w, h;

	if (argc != 2) {
		fprintf(stderr, "usage: term-check EXPECTED\n");
		return 2;
	}
	setlocale(LC_ALL, "");
	if ((t = term_open(&cause)) == NULL) {
		fprintf(stderr, "term-check: %s\n", cause);
		return 1;
	}
	term_set_pair(t, 1, 2, -1);
	term_size(t, &w, &h);
	cv = canvas_new(w, h);
	longest = long_message();
	draw_scene(cv, longest);
	term_draw(t, cv);
	buf_init(&b);
	expected_screen(cv, &b);
	if (file_write_atomic(argv[1], b.data) != 0) {
		term_close(t);
		fprintf(stderr, "term-check: cannot write %s\n", argv[1]);
		return 1;
	}
	/* Drawing the same canvas again must send nothing new. */
	draw_scene(cv, longest);
	term_draw(t, cv);
	while (read(STDIN_FILENO, &c, 1) < 0 && errno == EINTR)
		;
	term_close(t);
	buf_free(&b);
	free(longest);
	canvas_free(cv);
	return 0;
}
