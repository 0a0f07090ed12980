/*
 * libFuzzer target for the compose editor. The input is a program: the
 * first byte picks single- or multi-line, then each byte an operation
 * (insert raw bytes, run an editing command, draw, set, clear, type a
 * key, insert a lot) with its arguments after it. After every step: the
 * text is valid UTF-8 with no control but "\n" (none at all single-line)
 * and within EDIT_MAX, the cursor is on a cluster boundary counted from
 * the start, and a draw wrote nothing outside its rectangle and put the
 * cursor inside it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "ui/canvas.h"
#include "ui/commands.h"
#include "ui/edit.h"
#include "ui/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(x)                \
	do {                    \
		if (!(x))       \
			abort(); \
	} while (0)

static const int commands[] = {
	CMD_EDIT_LEFT, CMD_EDIT_RIGHT, CMD_EDIT_WORD_LEFT, CMD_EDIT_WORD_RIGHT,
	CMD_EDIT_HOME, CMD_EDIT_END, CMD_EDIT_UP, CMD_EDIT_DOWN,
	CMD_EDIT_BACKSPACE, CMD_EDIT_DELETE, CMD_EDIT_DELETE_WORD_BACK,
	CMD_EDIT_DELETE_WORD, CMD_EDIT_KILL_TO_END, CMD_EDIT_KILL_TO_START,
	CMD_EDIT_YANK, CMD_COMPOSE_NEWLINE
};

static void
check(struct edit *e, int single)
{
	size_t len, cur = edit_cursor(e), off = 0;
	const char *t = edit_text(e, &len);
	int on_boundary = cur == 0;

	CHECK(t != NULL && strlen(t) == len && len <= EDIT_MAX);
	CHECK(utf8_valid(t, len) && !utf8_has_controls(t, len));
	CHECK(memchr(t, '\t', len) == NULL);
	if (single)
		CHECK(memchr(t, '\n', len) == NULL);
	CHECK(cur <= len);
	while (off < len && off < cur) {
		off += text_cluster(t + off, len - off, NULL);
		if (off == cur)
			on_boundary = 1;
	}
	CHECK(on_boundary);
	CHECK(edit_utf16_length(e) == (size_t)utf8_utf16_length(t, len));
}

static void
check_draw(struct edit *e, unsigned w, unsigned h)
{
	struct canvas *cv = canvas_new(w + 3, h + 3);
	struct canvas_cell_info ci;
	unsigned x, y, cx, cy;

	canvas_fill(cv, 0, 0, w + 3, h + 3, "#", 0);
	edit_draw(e, cv, 1, 2, w, h, &cx, &cy);
	if (w > 0 && h > 0)
		CHECK(cx >= 1 && cx < 1 + w && cy >= 2 && cy < 2 + h);
	else
		CHECK(cx == 1 && cy == 2);
	for (y = 0; y < h + 3; y++) {
		for (x = 0; x < w + 3; x++) {
			CHECK(canvas_cell(cv, x, y, &ci) == 0);
			if (x >= 1 && x < 1 + w && y >= 2 && y < 2 + h)
				continue;
			CHECK(ci.len == 1 && ci.text[0] == '#');
		}
	}
	canvas_free(cv);
	CHECK(edit_rows(e, w) >= 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char big[EDIT_MAX + 16];
	struct edit *e;
	size_t i = 0, n;
	int single, long_steps = 0;
	uint8_t op;

	if (size == 0)
		return 0;
	single = data[i++] & 1;
	e = edit_new(single ? EDIT_SINGLE_LINE : 0);
	while (i < size) {
		/* A long text makes each step slow: a few more, then stop. */
		if (edit_text(e, NULL) != NULL && strlen(edit_text(e, NULL)) >
		    2048 && ++long_steps > 4)
			break;
		op = data[i++];
		switch (op % 8) {
		case 0:
		case 1:
			/* Insert up to 31 raw bytes. */
			n = op >> 3;
			if (n > size - i)
				n = size - i;
			(void)edit_insert(e, (const char *)data + i, n);
			i += n;
			break;
		case 2:
		case 3:
		case 4:
			edit_command(e, commands[(op >> 3) % 16]);
			break;
		case 5:
			if (i + 2 > size)
				break;
			check_draw(e, data[i] % 24, data[i + 1] % 7);
			i += 2;
			break;
		case 6:
			/* A key typed: code points are taken from 3 bytes. */
			if (i + 3 > size)
				break;
			(void)edit_insert_key(e, (key_code)data[i] << 16 |
			    (key_code)data[i + 1] << 8 | data[i + 2]);
			i += 3;
			break;
		case 7:
			switch ((op >> 3) % 4) {
			case 0:
				edit_clear(e);
				break;
			case 1:
				/* A lot at once, now and then to the limit
				 * (cleaning that much is slow: rarely). */
				n = (op >> 5) == 7 ? EDIT_MAX - 8 :
				    (size_t)(op >> 5) * 300 + 100;
				memset(big, "a \n\xe4"[op >> 6], n);
				(void)edit_insert(e, big, n);
				break;
			case 2:
				n = size - i < 64 ? size - i : 64;
				(void)edit_set(e, (const char *)data + i, n);
				i += n;
				break;
			default:
				CHECK(edit_command(e, CMD_APP_QUIT) == -1);
				break;
			}
			break;
		}
		check(e, single);
	}
	check_draw(e, 7, 3);
	edit_free(e);
	return 0;
}
