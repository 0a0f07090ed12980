/*
 * Terminal bytes to events. Every case is checked twice, fed whole and
 * fed one byte at a time (draining after each), and both must agree: a
 * slow link splits sequences anywhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "ui/input.h"

#define LEN(s) (sizeof(s) - 1)
#define FFFD "\xef\xbf\xbd"

/* One event as text: a key's name, or what else it is. */
static void
event_text(const struct input_event *ev, struct buf *out)
{
	char name[KEY_NAME_MAX];
	size_t i;

	if (out->len > 0)
		buf_adds(out, " ");
	switch (ev->type) {
	case INPUT_KEY:
		key_name(ev->key, name);
		buf_adds(out, name);
		break;
	case INPUT_PASTE:
		buf_printf(out, "paste%s%s[", (ev->flags &
		    INPUT_PASTE_TRUNCATED) ? "-cut" : "", (ev->flags &
		    INPUT_PASTE_UNTERMINATED) ? "-open" : "");
		buf_add(out, ev->text, ev->len);
		buf_adds(out, "]");
		assert_int_equal(strlen(ev->text), ev->len);
		assert_true(utf8_valid(ev->text, ev->len));
		break;
	case INPUT_FOCUS_IN:
		buf_adds(out, "FocusIn");
		break;
	case INPUT_FOCUS_OUT:
		buf_adds(out, "FocusOut");
		break;
	case INPUT_UNKNOWN:
		buf_adds(out, "?");
		for (i = 0; i < ev->rawlen; i++)
			buf_printf(out, "%02x", (unsigned char)ev->raw[i]);
		break;
	}
}

static void
drain(struct input *in, struct buf *out)
{
	struct input_event ev;

	while (input_next(in, &ev))
		event_text(&ev, out);
}

/*
 * The events of s, fed whole and then byte by byte; with flush, the
 * stream ends there (input_flush). Returns them as text (to free).
 */
static char *
events_of(const char *s, size_t n, int flush)
{
	struct input *in;
	struct buf whole, split;
	size_t i;

	buf_init(&whole);
	buf_adds(&whole, "");
	in = input_new();
	input_feed(in, s, n);
	drain(in, &whole);
	if (flush) {
		input_flush(in);
		drain(in, &whole);
		assert_int_equal(input_pending(in), INPUT_PENDING_NONE);
	}
	input_free(in);

	buf_init(&split);
	buf_adds(&split, "");
	in = input_new();
	for (i = 0; i < n; i++) {
		input_feed(in, s + i, 1);
		drain(in, &split);
	}
	if (flush) {
		input_flush(in);
		drain(in, &split);
	}
	input_free(in);

	assert_string_equal(whole.data, split.data);
	buf_free(&split);
	return buf_steal(&whole);
}

static void
expect_n(const char *s, size_t n, const char *want)
{
	char *got = events_of(s, n, 1);

	assert_string_equal(got, want);
	free(got);
}

#define EXPECT(lit, want) expect_n(lit, LEN(lit), want)

static void
input__types_utf8_text_one_key_per_code_point(void **state)
{
	(void)state;
	EXPECT("ab", "a b");
	EXPECT(" ", "Space");
	EXPECT("\xc3\xa9\xe4\xb8\xad", "\xc3\xa9 \xe4\xb8\xad"); /* é 中 */
	EXPECT("\xf0\x9f\x91\x8d", "\xf0\x9f\x91\x8d");	       /* 👍 */
	/* A ZWJ sequence is several code points: the editor joins them. */
	EXPECT("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9",
	    "\xf0\x9f\x91\xa8 \xe2\x80\x8d \xf0\x9f\x91\xa9");
	EXPECT("e\xcc\x81", "e \xcc\x81");
}

static void
input__replaces_each_invalid_byte(void **state)
{
	(void)state;
	EXPECT("\xff", FFFD);
	EXPECT("\x80" "a", FFFD " a");
	EXPECT("\xc3(", FFFD " (");
	EXPECT("\xc0\xaf", FFFD " " FFFD);	   /* overlong */
	EXPECT("\xed\xa0\x80", FFFD " " FFFD " " FFFD); /* surrogate */
	EXPECT("\xf4\x90\x80\x80", FFFD " " FFFD " " FFFD " " FFFD);
	EXPECT("\xe2\x82", FFFD);		/* cut short at the end */
	EXPECT("\xe2\x82\x1b[A", FFFD " Up"); /* cut short by a key */
	/* A C1 control is no key at all. */
	EXPECT("\xc2\x9b" "a", "?c29b a");
}

static void
input__names_c0_controls_as_keys(void **state)
{
	(void)state;
	EXPECT("\x01\x1a", "C-a C-z");
	EXPECT("\t", "Tab");
	EXPECT("\r\n", "Enter Enter");
	EXPECT("\x7f\x08", "BSpace BSpace");
	EXPECT("\x00", "C-Space");
	EXPECT("\x1c\x1d\x1e\x1f", "C-\\ C-] C-^ C-_");
	EXPECT("\x03\x0c", "C-c C-l");
}

static void
input__reads_esc_before_a_key_as_meta(void **state)
{
	(void)state;
	EXPECT("\033x", "M-x");
	EXPECT("\033X", "M-X");
	EXPECT("\033\r", "M-Enter");
	EXPECT("\033\x7f", "M-BSpace");
	EXPECT("\033\t", "M-Tab");
	EXPECT("\033\x01", "C-M-a");
	EXPECT("\033\xc3\xa9", "M-\xc3\xa9");
	EXPECT("\033\xff", "M-" FFFD);
	EXPECT("\033\033", "M-Escape");
	EXPECT("\033\033x", "M-Escape x");
	EXPECT("\033\033\033", "M-Escape Escape");
	EXPECT("\033\033[A", "M-Up");
	EXPECT("\033\033OB", "M-Down");
	EXPECT("\033\033[1;5C", "C-M-Right");
}

static void
input__holds_a_lone_esc_until_flushed(void **state)
{
	struct input *in = input_new();
	struct input_event ev;
	char *got;

	(void)state;
	input_feed(in, "\033", 1);
	assert_int_equal(input_next(in, &ev), 0);
	assert_int_equal(input_pending(in), INPUT_PENDING_KEY);
	input_flush(in);
	/* Bytes after the flush come after what it settled. */
	input_feed(in, "x", 1);
	assert_int_equal(input_next(in, &ev), 1);
	assert_int_equal(ev.type, INPUT_KEY);
	assert_int_equal(ev.key, KEYC_ESCAPE);
	assert_int_equal(ev.rawlen, 1);
	assert_int_equal(input_next(in, &ev), 1);
	assert_int_equal(ev.key, 'x');
	assert_int_equal(input_next(in, &ev), 0);
	assert_int_equal(input_pending(in), INPUT_PENDING_NONE);

	/* A flush with nothing held changes nothing. */
	input_flush(in);
	input_feed(in, "\033y", 2);
	assert_int_equal(input_next(in, &ev), 1);
	assert_int_equal(ev.key, KEYC_META | 'y');
	input_free(in);

	got = events_of("\033", 1, 0);
	assert_string_equal(got, "");
	free(got);
	EXPECT("\033", "Escape");
	EXPECT("\033[", "M-[");
	EXPECT("\033O", "M-O");
	EXPECT("a\033", "a Escape");
	/* A partial sequence with parameters is dropped, never typed. */
	EXPECT("\033[1;5", "?1b5b313b35");
	EXPECT("\033[[", "?1b5b5b");
}

static void
input__reads_arrows_with_xterm_modifiers(void **state)
{
	(void)state;
	EXPECT("\033[A\033[B\033[C\033[D", "Up Down Right Left");
	EXPECT("\033OA\033OB\033OC\033OD", "Up Down Right Left");
	EXPECT("\033[1;5A", "C-Up");
	EXPECT("\033[1;3A", "M-Up");
	EXPECT("\033[1;2A", "S-Up");
	EXPECT("\033[1;4B", "M-S-Down");
	EXPECT("\033[1;6D", "C-S-Left");
	EXPECT("\033[1;7C", "C-M-Right");
	EXPECT("\033[1;8C", "C-M-S-Right");
	/* Super, Hyper and the locks say nothing to a keymap. */
	EXPECT("\033[1;9A", "Up");
	EXPECT("\033[1;69A", "C-Up"); /* Ctrl + Caps Lock (kitty) */
	/* Old xterm put the modifier in SS3. */
	EXPECT("\033O5A", "C-Up");
	EXPECT("\033O1;3D", "M-Left");
}

static void
input__reads_home_end_and_the_editing_keys(void **state)
{
	(void)state;
	EXPECT("\033[H\033[F\033OH\033OF", "Home End Home End");
	EXPECT("\033[1~\033[4~\033[7~\033[8~", "Home End Home End");
	EXPECT("\033[1;5H\033[1;2F", "C-Home S-End");
	EXPECT("\033[2~\033[3~\033[5~\033[6~",
	    "Insert Delete PageUp PageDown");
	EXPECT("\033[3;5~\033[5;3~\033[6;2~", "C-Delete M-PageUp S-PageDown");
	EXPECT("\033[Z\033[1;2Z", "BTab BTab");
	EXPECT("\033[1;3Z", "M-BTab");
}

static void
input__reads_function_keys_of_every_family(void **state)
{
	(void)state;
	EXPECT("\033OP\033OQ\033OR\033OS", "F1 F2 F3 F4");
	EXPECT("\033[11~\033[12~\033[13~\033[14~\033[15~",
	    "F1 F2 F3 F4 F5");
	EXPECT("\033[17~\033[18~\033[19~\033[20~\033[21~",
	    "F6 F7 F8 F9 F10");
	EXPECT("\033[23~\033[24~", "F11 F12");
	EXPECT("\033[[A\033[[B\033[[C\033[[D\033[[E", "F1 F2 F3 F4 F5");
	EXPECT("\033[1;2P\033[1;5S\033[15;5~\033[24;3~",
	    "S-F1 C-F4 C-F5 M-F12");
	/* F13 and up, which rxvt and the console send for S-F1: unknown. */
	EXPECT("\033[25~", "?1b5b32357e");
}

static void
input__reads_modify_other_keys_and_csi_u(void **state)
{
	(void)state;
	EXPECT("\033[27;5;13~", "C-Enter");
	EXPECT("\033[27;3;13~", "M-Enter");
	EXPECT("\033[27;2;9~", "BTab");
	EXPECT("\033[27;3;97~", "M-a");
	EXPECT("\033[27;6;97~", "C-a");
	EXPECT("\033[27;5;105~", "Tab"); /* C-i, as key_parse spells it */
	EXPECT("\033[13;3u", "M-Enter");
	EXPECT("\033[13;2u", "S-Enter");
	EXPECT("\033[97;5u", "C-a");
	EXPECT("\033[97;2u", "A");
	EXPECT("\033[97:65;2u", "A");
	EXPECT("\033[49;2u", "1"); /* a shifted character is itself */
	EXPECT("\033[127;3u", "M-BSpace");
	EXPECT("\033[27u", "Escape");
	EXPECT("\033[9;5u", "C-Tab");
	EXPECT("\033[32;5u", "C-Space");
	EXPECT("\033[64;5u", "C-Space");
	EXPECT("\033[233;3u", "M-\xc3\xa9");
	/* Kitty's release events and private-use keys say nothing. */
	EXPECT("\033[97;5:3u", "?1b5b39373b353a3375");
	EXPECT("\033[57399u", "?1b5b353733393975");
	EXPECT("\033[55296u", "?1b5b353532393675"); /* a surrogate */
	EXPECT("\033[1114112u", "?1b5b3131313431313275");
}

static void
input__reads_focus_reports(void **state)
{
	(void)state;
	EXPECT("\033[I\033[O", "FocusIn FocusOut");
	EXPECT("a\033[Ob", "a FocusOut b");
}

static void
input__reads_rxvt_and_keypad_keys(void **state)
{
	(void)state;
	EXPECT("\033[a\033[b", "S-Up S-Down");
	EXPECT("\033Oc\033Od", "C-Right C-Left");
	EXPECT("\033[2^\033[3$\033[5@", "C-Insert S-Delete C-S-PageUp");
	EXPECT("\033OM", "Enter");
	EXPECT("\033Op\033Oy\033Ok\033Om\033Oj\033Oo\033On",
	    "0 9 + - * / .");
}

static void
input__swallows_unknown_and_malformed_sequences_whole(void **state)
{
	(void)state;
	EXPECT("\033[99xa", "?1b5b393978 a");
	EXPECT("\033[?1;2c", "?1b5b3f313b3263");		 /* DA answer */
	EXPECT("\033[<0;10;20Mq", "?1b5b3c303b31303b32304d q"); /* mouse */
	EXPECT("\033[M !!q", "?1b5b4d202121 q");		 /* X10 */
	EXPECT("\033[?2027;2$y", "?1b5b3f323032373b322479");
	EXPECT("\033[201~", "?1b5b3230317e"); /* a paste end alone */
	EXPECT("\033O1;5;7A", "?1b4f313b353b3741");
	EXPECT("\033Oz", "?1b4f7a");
	EXPECT("\033[[Z", "?1b5b5b5a");
	EXPECT("\033[1;2;3;4;5A", "?1b5b313b323b333b343b3541");
	EXPECT("\033[99999999999A", "?1b5b39393939393939393939394" "1");
	/* Broken by a control or non-ASCII byte: that byte starts anew. */
	EXPECT("\033[1;5\x01", "?1b5b313b35 C-a");
	EXPECT("\033[1\xc3\xa9", "?1b5b31 \xc3\xa9");
	EXPECT("\033[1\033[A", "?1b5b31 Up");
	EXPECT("\033O\r", "?1b4f Enter");
	EXPECT("\033[[\t", "?1b5b5b Tab");
}

static void
input__drops_a_sequence_longer_than_the_limit(void **state)
{
	char s[200];
	char *got;
	struct input *in = input_new();
	struct input_event ev;

	(void)state;
	memcpy(s, "\033[", 2);
	memset(s + 2, '1', 150);
	memcpy(s + 152, "Ax", 2);
	got = events_of(s, 154, 1);
	/* One event for the whole sequence, its kept bytes cut, then x. */
	assert_non_null(strstr(got, "?1b5b3131"));
	assert_string_equal(got + strlen(got) - 2, " x");
	assert_null(strchr(got + 1, '?'));
	free(got);

	input_feed(in, s, 154);
	assert_int_equal(input_next(in, &ev), 1);
	assert_int_equal(ev.type, INPUT_UNKNOWN);
	assert_int_equal(ev.rawlen, INPUT_SEQ_MAX);
	input_free(in);
}

static void
input__gives_each_event_its_raw_bytes(void **state)
{
	struct input *in = input_new();
	struct input_event ev;

	(void)state;
	input_feed(in, "\033[1;5Aa\xc3\xa9\033\033[B", 13);
	assert_int_equal(input_next(in, &ev), 1);
	assert_int_equal(ev.rawlen, 6);
	assert_memory_equal(ev.raw, "\033[1;5A", 6);
	assert_int_equal(input_next(in, &ev), 1);
	assert_int_equal(ev.rawlen, 1);
	assert_memory_equal(ev.raw, "a", 1);
	assert_int_equal(input_next(in, &ev), 1);
	assert_int_equal(ev.rawlen, 2);
	assert_int_equal(input_next(in, &ev), 1);
	assert_int_equal(ev.key, KEYC_META | KEYC_DOWN);
	assert_int_equal(ev.rawlen, 4);
	assert_memory_equal(ev.raw, "\033\033[B", 4);
	assert_int_equal(input_next(in, &ev), 0);
	input_free(in);
}

static void
input__gives_a_bracketed_paste_as_one_clean_event(void **state)
{
	(void)state;
	EXPECT("\033[200~hello\033[201~", "paste[hello]");
	EXPECT("\033[200~\033[201~", "paste[]");
	/* Terminals send a pasted line break as CR. */
	EXPECT("\033[200~a\r\nb\rc\nd\033[201~", "paste[a\nb\nc\nd]");
	/* Keys are not keys inside: a paste cannot run a binding. */
	EXPECT("\033[200~q\x03\033[A\r\033[201~x", "paste[q[A\n] x");
	/* Controls dropped, tabs spaces, invalid bytes and bidi U+FFFD. */
	EXPECT("\033[200~a\033[31mb\x07\x7f\x00" "c\td\033[201~",
	    "paste[a[31mbc d]");
	EXPECT("\033[200~\xff\xe2\x80\xae\xc2\x9b!\033[201~",
	    "paste[" FFFD FFFD "!]");
	EXPECT("\033[200~\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9"
	       "\033[201~", "paste[\xf0\x9f\x91\xa8\xe2\x80\x8d"
	       "\xf0\x9f\x91\xa9]");
	/* What looks like the start of the end marker is text. */
	EXPECT("\033[200~a\033[20b\033[201x\033\033[201~",
	    "paste[a[20b[201x]");
	EXPECT("\033[200~\033[200~x\033[201~", "paste[[200~x]");
	EXPECT("a\033[200~b\033[201~\033[200~c\033[201~d",
	    "a paste[b] paste[c] d");
}

static void
input__holds_an_open_paste_until_its_end_or_a_flush(void **state)
{
	struct input *in = input_new();
	struct input_event ev;

	(void)state;
	input_feed(in, "\033[200~abc\033[20", 13);
	assert_int_equal(input_next(in, &ev), 0);
	assert_int_equal(input_pending(in), INPUT_PENDING_PASTE);
	input_feed(in, "1~z", 3);
	assert_int_equal(input_next(in, &ev), 1);
	assert_int_equal(ev.type, INPUT_PASTE);
	assert_string_equal(ev.text, "abc");
	assert_int_equal(ev.flags, 0);
	assert_null(ev.raw);
	assert_int_equal(input_next(in, &ev), 1);
	assert_int_equal(ev.key, 'z');
	input_free(in);

	EXPECT("\033[200~abc", "paste-open[abc]");
	EXPECT("\033[200~abc\033[20", "paste-open[abc[20]");
	EXPECT("\033[200", "?1b5b323030");
}

static void
input__cuts_an_oversized_paste_and_says_so(void **state)
{
	size_t n = INPUT_PASTE_MAX + 5000, i;
	char *s = malloc(n + 20);
	struct input *in = input_new();
	struct input_event ev;

	(void)state;
	memcpy(s, "\033[200~", 6);
	for (i = 6; i < n; i++)
		s[i] = (char)('a' + i % 26);
	memcpy(s + n, "\033[201~x", 7);
	input_feed(in, s, n + 7);
	assert_int_equal(input_next(in, &ev), 1);
	assert_int_equal(ev.type, INPUT_PASTE);
	assert_int_equal(ev.flags, INPUT_PASTE_TRUNCATED);
	assert_int_equal(ev.len, INPUT_PASTE_MAX);
	assert_memory_equal(ev.text, s + 6, 100);
	assert_int_equal(input_next(in, &ev), 1);
	assert_int_equal(ev.key, 'x');

	/* A character cut by the limit goes whole, never half. */
	memcpy(s, "\033[200~", 6);
	for (i = 6; i + 3 <= n; i += 3)
		memcpy(s + i, "\xe4\xb8\xad", 3);
	memcpy(s + i, "\033[201~", 6);
	input_feed(in, s, i + 6);
	assert_int_equal(input_next(in, &ev), 1);
	assert_int_equal(ev.flags, INPUT_PASTE_TRUNCATED);
	assert_true(ev.len <= INPUT_PASTE_MAX);
	assert_int_equal(ev.len % 3, 0);
	assert_true(utf8_valid(ev.text, ev.len));
	assert_null(strstr(ev.text, FFFD));

	/* Cleaning can make text longer (U+FFFD for a byte): cut again. */
	memcpy(s, "\033[200~", 6);
	memset(s + 6, 0xff, n - 6);
	memcpy(s + n, "\033[201~", 6);
	input_feed(in, s, n + 6);
	assert_int_equal(input_next(in, &ev), 1);
	assert_int_equal(ev.flags, INPUT_PASTE_TRUNCATED);
	assert_true(ev.len <= INPUT_PASTE_MAX && ev.len % 3 == 0);
	assert_int_equal(input_next(in, &ev), 0);
	input_free(in);
	free(s);
}

static void
input__survives_hostile_bytes_the_same_however_split(void **state)
{
	uint32_t seed = 12345;
	char s[4096];
	size_t i, round;
	char *got;

	(void)state;
	for (round = 0; round < 50; round++) {
		for (i = 0; i < sizeof s; i++) {
			seed = seed * 1103515245u + 12345u;
			/* Lean on ESC and the bytes of sequences. */
			switch ((seed >> 16) % 8) {
			case 0:
				s[i] = '\033';
				break;
			case 1:
				s[i] = "[O;~u2015A"[(seed >> 8) % 10];
				break;
			default:
				s[i] = (char)(seed >> 20);
				break;
			}
		}
		got = events_of(s, sizeof s, 1);
		free(got);
	}
}

static void
input_describe__shows_bytes_hex_and_the_key(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	input_describe("\033[1;5A", 6, &b);
	assert_string_equal(b.data, "^[[1;5A  1b 5b 31 3b 35 41  C-Up\n");
	buf_reset(&b);
	input_describe("a\033", 2, &b);
	assert_string_equal(b.data, "a  61  a\n^[  1b  Escape\n");
	buf_reset(&b);
	input_describe("\033\r\x7f\xc3\xa9\xff", 6, &b);
	assert_string_equal(b.data, "^[^M  1b 0d  M-Enter\n"
	    "^?  7f  BSpace\n" "\xc3\xa9  c3 a9  \xc3\xa9\n"
	    "\\xff  ff  " FFFD "\n");
	buf_reset(&b);
	input_describe("\033[99x\033[I", 8, &b);
	assert_string_equal(b.data, "^[[99x  1b 5b 39 39 78  unknown sequence\n"
	    "^[[I  1b 5b 49  focus in\n");
	buf_reset(&b);
	input_describe("\033[200~ab\033[201~", 14, &b);
	assert_string_equal(b.data,
	    "^[[200~...^[[201~  paste, 2 bytes\n");
	buf_reset(&b);
	input_describe("\xc2\x9b", 2, &b);
	assert_string_equal(b.data, "\\xc2\\x9b  c2 9b  unknown sequence\n");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(input__types_utf8_text_one_key_per_code_point),
		cmocka_unit_test(input__replaces_each_invalid_byte),
		cmocka_unit_test(input__names_c0_controls_as_keys),
		cmocka_unit_test(input__reads_esc_before_a_key_as_meta),
		cmocka_unit_test(input__holds_a_lone_esc_until_flushed),
		cmocka_unit_test(input__reads_arrows_with_xterm_modifiers),
		cmocka_unit_test(input__reads_home_end_and_the_editing_keys),
		cmocka_unit_test(input__reads_function_keys_of_every_family),
		cmocka_unit_test(input__reads_modify_other_keys_and_csi_u),
		cmocka_unit_test(input__reads_focus_reports),
		cmocka_unit_test(input__reads_rxvt_and_keypad_keys),
		cmocka_unit_test(
		    input__swallows_unknown_and_malformed_sequences_whole),
		cmocka_unit_test(input__drops_a_sequence_longer_than_the_limit),
		cmocka_unit_test(input__gives_each_event_its_raw_bytes),
		cmocka_unit_test(
		    input__gives_a_bracketed_paste_as_one_clean_event),
		cmocka_unit_test(
		    input__holds_an_open_paste_until_its_end_or_a_flush),
		cmocka_unit_test(input__cuts_an_oversized_paste_and_says_so),
		cmocka_unit_test(
		    input__survives_hostile_bytes_the_same_however_split),
		cmocka_unit_test(input_describe__shows_bytes_hex_and_the_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
