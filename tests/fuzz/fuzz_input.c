/*
 * libFuzzer target for terminal input. The first two bytes seed how the
 * rest is split into feeds; the rest is what a terminal (or anything
 * writing to our stdin) sends. Invariants: the events do not depend on
 * the split; a key is a code point or a named key; a paste is valid UTF-8
 * with no control but "\n" and at most INPUT_PASTE_MAX bytes; raw bytes
 * are at most INPUT_SEQ_MAX; after a flush nothing is held. A third run
 * flushes after every feed, as a too-short ESC timer would, and must only
 * keep the invariants. The key-dump text of the bytes is valid UTF-8
 * with no control but the newline ending each line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "ui/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(x)                \
	do {                    \
		if (!(x))       \
			abort(); \
	} while (0)

static void
check_event(const struct input_event *ev)
{
	key_code base = KEYC_BASE(ev->key);
	size_t i;

	CHECK(ev->rawlen <= INPUT_SEQ_MAX);
	switch (ev->type) {
	case INPUT_KEY:
		CHECK((base >= KEYC_NAMED && base < KEYC_NAMED_END) ||
		    (base <= 0x10ffff && !(base >= 0xd800 && base <= 0xdfff) &&
		    base >= 0x20 && !(base >= 0x7f && base <= 0x9f)));
		CHECK(ev->rawlen > 0);
		break;
	case INPUT_PASTE:
		CHECK(ev->text != NULL && ev->len <= INPUT_PASTE_MAX);
		CHECK(strlen(ev->text) == ev->len);
		CHECK(utf8_valid(ev->text, ev->len));
		for (i = 0; i < ev->len; i++)
			CHECK((unsigned char)ev->text[i] >= 0x20 ||
			    ev->text[i] == '\n');
		CHECK(!utf8_has_controls(ev->text, ev->len));
		break;
	case INPUT_FOCUS_IN:
	case INPUT_FOCUS_OUT:
	case INPUT_UNKNOWN:
		break;
	default:
		abort();
	}
}

/* The events as bytes, to compare runs. */
static void
record(struct input *in, struct buf *out)
{
	struct input_event ev;

	while (input_next(in, &ev)) {
		check_event(&ev);
		buf_add(out, &ev.type, sizeof ev.type);
		buf_add(out, &ev.key, sizeof ev.key);
		buf_add(out, &ev.flags, sizeof ev.flags);
		buf_add(out, &ev.len, sizeof ev.len);
		if (ev.len > 0)
			buf_add(out, ev.text, ev.len);
		buf_add(out, &ev.rawlen, sizeof ev.rawlen);
		if (ev.rawlen > 0)
			buf_add(out, ev.raw, ev.rawlen);
	}
}

static uint32_t
next_rand(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 16;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input *in;
	struct buf whole, split, b;
	const char *s;
	uint32_t seed;
	size_t n, off, k;

	if (size < 2)
		return 0;
	seed = (uint32_t)data[0] << 8 | data[1];
	s = (const char *)data + 2;
	n = size - 2;

	buf_init(&whole);
	in = input_new();
	input_feed(in, s, n);
	record(in, &whole);
	input_flush(in);
	record(in, &whole);
	CHECK(input_pending(in) == INPUT_PENDING_NONE);
	input_free(in);

	buf_init(&split);
	in = input_new();
	for (off = 0; off < n; off += k) {
		k = 1 + next_rand(&seed) % 16;
		if (k > n - off)
			k = n - off;
		input_feed(in, s + off, k);
		/* Sometimes drain late, with several feeds waiting. */
		if (next_rand(&seed) % 4 != 0)
			record(in, &split);
	}
	record(in, &split);
	input_flush(in);
	record(in, &split);
	CHECK(input_pending(in) == INPUT_PENDING_NONE);
	input_free(in);

	CHECK(whole.len == split.len);
	CHECK(whole.len == 0 || memcmp(whole.data, split.data, whole.len) == 0);
	buf_free(&whole);
	buf_free(&split);

	/* A timer that fires between every two reads. */
	buf_init(&b);
	in = input_new();
	for (off = 0; off < n; off += k) {
		k = 1 + next_rand(&seed) % 8;
		if (k > n - off)
			k = n - off;
		input_feed(in, s + off, k);
		record(in, &b);
		input_flush(in);
		record(in, &b);
		CHECK(input_pending(in) == INPUT_PENDING_NONE);
	}
	input_free(in);
	buf_reset(&b);

	/* What the key-dump mode puts on screen: text, one line an event. */
	input_describe(s, n < 4096 ? n : 4096, &b);
	CHECK(b.len == 0 || utf8_valid(b.data, b.len));
	CHECK(b.len == 0 || b.data[b.len - 1] == '\n');
	for (off = 0; off < b.len; off++)
		CHECK((unsigned char)b.data[off] >= 0x20 ||
		    b.data[off] == '\n');
	buf_free(&b);
	return 0;
}
