/*
 * The strict UTF-8 decoder behind every check of agents' text, the
 * sanitiser for untrusted text on its way to a terminal, and its JSON
 * counterpart jx_terminal_safe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "core/utf8.h"
#include "core/xalloc.h"

#define LEN(s) (sizeof(s) - 1)

static void
utf8_valid__accepts_every_length_of_sequence(void **state)
{
	static const char s[] = "a\xc3\xa9\xe2\x80\x94\xf0\x9f\x91\x8d";

	(void)state;
	assert_true(utf8_valid(s, LEN(s)));
	assert_true(utf8_valid("", 0));
	/* U+10FFFF, the last code point. */
	assert_true(utf8_valid("\xf4\x8f\xbf\xbf", 4));
}

static void
utf8_valid__refuses_malformed_sequences(void **state)
{
	static const struct {
		const char *s;
		size_t n;
	} bad[] = {
		{ "\x80", 1 },		    /* lone continuation */
		{ "\xc3", 1 },		    /* truncated */
		{ "\xc0\xaf", 2 },	    /* overlong '/' */
		{ "\xe0\x80\xaf", 3 },	    /* overlong, 3 bytes */
		{ "\xed\xa0\x80", 3 },	    /* UTF-16 surrogate */
		{ "\xf0\x82\x82\xac", 4 },  /* overlong, 4 bytes */
		{ "\xf4\x90\x80\x80", 4 },  /* past U+10FFFF */
		{ "\xf5\x80\x80\x80", 4 },  /* not a lead byte */
		{ "\xff", 1 },
		{ "ab\xe2\x80", 4 },	    /* truncated at the end */
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(utf8_valid(bad[i].s, bad[i].n));
}

static void
utf8_utf16_length__counts_astral_characters_as_two(void **state)
{
	(void)state;
	assert_int_equal(utf8_utf16_length("abc", 3), 3);
	assert_int_equal(utf8_utf16_length("\xc3\xa9", 2), 1);
	assert_int_equal(utf8_utf16_length("\xf0\x9f\x91\x8d", 4), 2);
	assert_int_equal(utf8_utf16_length("\xf0\x9f\x91", 3), -1);
}

static void
utf8_has_controls__finds_c0_c1_and_del_but_allows_tab_and_newline(void **state)
{
	(void)state;
	assert_false(utf8_has_controls("a\tb\nc", 5));
	assert_true(utf8_has_controls("a\rb", 3));
	assert_true(utf8_has_controls("\x1b[31m", 5));
	assert_true(utf8_has_controls("\x7f", 1));
	assert_true(utf8_has_controls("\xc2\x9b", 2)); /* C1 CSI */
	assert_false(utf8_has_controls("\xc2\xa0", 2)); /* NBSP */
	assert_true(utf8_has_controls("\xff", 1));	/* invalid counts */
}

/* utf8_decode */

static void
utf8_decode__reads_each_length_of_sequence(void **state)
{
	static const struct {
		const char *s;
		size_t n;
		uint32_t cp;
	} ok[] = {
		{ "A", 1, 0x41 },
		{ "\x00", 1, 0 },
		{ "\x7f", 1, 0x7f },
		{ "\xc2\x80", 2, 0x80 },
		{ "\xc3\xa9", 2, 0xe9 },
		{ "\xdf\xbf", 2, 0x7ff },
		{ "\xe0\xa0\x80", 3, 0x800 },
		{ "\xe2\x80\xae", 3, 0x202e },
		{ "\xed\x9f\xbf", 3, 0xd7ff },
		{ "\xee\x80\x80", 3, 0xe000 },
		{ "\xef\xbf\xbf", 3, 0xffff },
		{ "\xf0\x90\x80\x80", 4, 0x10000 },
		{ "\xf0\x9f\x91\x8d", 4, 0x1f44d },
		{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
	};

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		uint32_t cp = 0xdeadbeef;

		/* Extra bytes after the sequence are not read into it. */
		char in[8] = { 0 };

		memcpy(in, ok[i].s, ok[i].n);
		in[ok[i].n] = 'z';
		assert_int_equal(utf8_decode((const unsigned char *)in,
		    ok[i].n + 1, &cp), ok[i].n);
		assert_int_equal(cp, ok[i].cp);
	}
}

static void
utf8_decode__returns_0_for_malformed_or_cut_sequences(void **state)
{
	static const struct {
		const char *s;
		size_t n;
	} bad[] = {
		{ "\x80", 1 }, { "\xbf", 1 }, { "\xc0\x80", 2 }, { "\xc1\xbf", 2 },
		{ "\xc3", 1 }, { "\xc3\x41", 2 }, { "\xe0\x9f\xbf", 3 },
		{ "\xed\xa0\x80", 3 }, { "\xed\xbf\xbf", 3 }, { "\xe2\x82", 2 },
		{ "\xe2\x82\x41", 3 }, { "\xf0\x8f\xbf\xbf", 4 },
		{ "\xf4\x90\x80\x80", 4 }, { "\xf5\x80\x80\x80", 4 },
		{ "\xf0\x9f\x91", 3 }, { "\xfe", 1 }, { "\xff", 1 },
		/* The bytes are there, but n says they are not ours. */
		{ "\xc3\xa9", 1 }, { "\xe2\x80\xae", 2 },
		{ "\xf0\x9f\x91\x8d", 3 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint32_t cp = 0;

		assert_int_equal(utf8_decode((const unsigned char *)bad[i].s,
		    bad[i].n, &cp), 0);
	}
}

static void
utf8_decode__returns_0_for_no_bytes_at_all(void **state)
{
	/* With n == 0 there is no code point, and s[0] is not ours to read:
	 * a caller stepping by the result must not step past the end. */
	const unsigned char *s = (const unsigned char *)"A";
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(utf8_decode(s, 0, &cp), 0);
}

/* utf8_sanitize */

static char *
sanitize(const char *s, size_t n, int flags)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "");
	utf8_sanitize(s, n, flags, &b);
	return buf_steal(&b);
}

static void
expect_sanitized(const char *s, size_t n, int flags, const char *want)
{
	char *got = sanitize(s, n, flags);

	assert_string_equal(got, want);
	free(got);
}

#define SAN(lit, want) expect_sanitized(lit, LEN(lit), 0, want)
#define SAN_NL(lit, want)                                                     \
	expect_sanitized(lit, LEN(lit), UTF8_KEEP_NEWLINES, want)
#define FFFD "\xef\xbf\xbd"

static void
utf8_sanitize__shows_escape_as_a_control_picture(void **state)
{
	char *got;

	(void)state;
	SAN("\x1b", "\xe2\x90\x9b"); /* U+241B */
	SAN("\x1b[31mred\x1b[0m", "\xe2\x90\x9b[31mred\xe2\x90\x9b[0m");
	/* An OSC that would set the window title. */
	SAN("\x1b]0;pwned\x07", "\xe2\x90\x9b]0;pwned\xe2\x90\x87");
	got = sanitize("\x1b[31m\x1b[2J", 9, UTF8_KEEP_NEWLINES);
	assert_null(strchr(got, 0x1b));
	free(got);
}

static void
utf8_sanitize__shows_other_c0_controls_and_del_as_pictures(void **state)
{
	(void)state;
	SAN("\x00", "\xe2\x90\x80");	 /* U+2400 */
	SAN("a\x07" "b", "a\xe2\x90\x87" "b"); /* BEL */
	SAN("\x08", "\xe2\x90\x88");	 /* BS */
	SAN("\x1f", "\xe2\x90\x9f");
	SAN("\x7f", "\xe2\x90\xa1"); /* U+2421 */
	SAN("\x0b\x0c", "\xe2\x90\x8b\xe2\x90\x8c");
}

static void
utf8_sanitize__replaces_c1_controls(void **state)
{
	(void)state;
	SAN("\xc2\x9b" "31m", FFFD "31m"); /* U+009B, the 8-bit CSI */
	SAN("\xc2\x80\xc2\x85\xc2\x9f", FFFD FFFD FFFD);
	/* A raw 0x9b byte is not UTF-8 at all. */
	SAN("\x9b" "31m", FFFD "31m");
	/* U+00A0 is past the C1 range: kept. */
	SAN("\xc2\xa0", "\xc2\xa0");
}

static void
utf8_sanitize__replaces_bidi_overrides_and_isolates(void **state)
{
	(void)state;
	SAN("abc\xe2\x80\xae" "fdp.exe", "abc" FFFD "fdp.exe"); /* U+202E */
	SAN("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad",
	    FFFD FFFD FFFD FFFD);
	SAN("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9",
	    FFFD FFFD FFFD FFFD);
	/* Marks that do not override (LRM, ZWJ) stay. */
	SAN("\xe2\x80\x8e\xe2\x80\x8d", "\xe2\x80\x8e\xe2\x80\x8d");
}

static void
utf8_sanitize__replaces_each_invalid_byte(void **state)
{
	(void)state;
	SAN("a\xff" "b", "a" FFFD "b");
	SAN("\xfe\xff", FFFD FFFD);
	SAN("\xc0\xaf", FFFD FFFD);	    /* overlong '/' */
	SAN("\xed\xa0\x80", FFFD FFFD FFFD); /* a surrogate */
	SAN("\xe2\x82", FFFD FFFD);	    /* cut at the end */
	SAN("\xe2\x82" "A", FFFD FFFD "A");   /* cut before text */
	SAN("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
}

static void
utf8_sanitize__keeps_crlf_as_a_newline_only_when_asked(void **state)
{
	(void)state;
	SAN_NL("a\r\nb", "a\nb");
	SAN_NL("a\nb", "a\nb");
	SAN_NL("a\r\n\r\nb", "a\n\nb");
	SAN("a\r\nb", "a b");
	SAN("a\nb", "a b");
	/* U+2028 and U+2029 are line breaks too. */
	SAN_NL("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", "a\nb\nc");
	SAN("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", "a b c");
}

static void
utf8_sanitize__turns_a_lone_cr_into_a_space(void **state)
{
	(void)state;
	/* A lone CR would send the cursor back over what was shown. */
	SAN("paid\rrefunded", "paid refunded");
	SAN_NL("paid\rrefunded", "paid refunded");
	SAN_NL("a\r", "a ");
	SAN_NL("\r\r\n", " \n");
	SAN_NL("\n\r", "\n ");
}

static void
utf8_sanitize__turns_tabs_into_spaces(void **state)
{
	(void)state;
	SAN("a\tb", "a b");
	SAN_NL("\t\t", "  ");
}

static void
utf8_sanitize__leaves_text_emoji_and_combining_marks_alone(void **state)
{
	static const char *keep[] = {
		"plain ASCII, with punctuation: {}[]<>!?",
		"caf\xc3\xa9 M\xc3\xbcller \xc3\x85ngstr\xc3\xb6m",
		"e\xcc\x81 a\xcc\x8a\xcc\x81",	  /* combining marks */
		"\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", /* thumbs up, skin tone */
		"\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", /* ZWJ seq */
		"\xf0\x9f\x87\xa9\xe2\x80\x8d\xf0\x9f\x87\xaa", /* flags */
		"\xe4\xbd\xa0\xe5\xa5\xbd \xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7",
		"\xef\xb8\x8f\xe2\x9c\x85",	  /* VS16, check mark */
		NULL
	};

	(void)state;
	for (size_t i = 0; keep[i] != NULL; i++) {
		expect_sanitized(keep[i], strlen(keep[i]), 0, keep[i]);
		expect_sanitized(keep[i], strlen(keep[i]), UTF8_KEEP_NEWLINES,
		    keep[i]);
	}
}

static void
utf8_sanitize__appends_to_what_the_buffer_holds(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	buf_adds(&b, "name: ");
	utf8_sanitize("Ana\x1b", 4, 0, &b);
	assert_string_equal(b.data, "name: Ana\xe2\x90\x9b");
	utf8_sanitize("", 0, 0, &b);
	assert_string_equal(b.data, "name: Ana\xe2\x90\x9b");
	buf_free(&b);
}

static void
utf8_sanitize__drops_controls_from_typed_text_when_asked(void **state)
{
	(void)state;
	expect_sanitized("a\x1b[31mb\x07\x7f\x00" "c", 12,
	    UTF8_DROP_CONTROLS, "a[31mbc");
	expect_sanitized("\xc2\x9b" "1\xc2\x85", 5, UTF8_DROP_CONTROLS, "1");
	/* Tabs, newlines and CRs keep their meaning; the rest stays. */
	expect_sanitized("a\tb\r\nc\nd\re", 11,
	    UTF8_DROP_CONTROLS | UTF8_KEEP_NEWLINES, "a b\nc\nd e");
	expect_sanitized("a\nb", 3, UTF8_DROP_CONTROLS, "a b");
	expect_sanitized("\xff\xe2\x80\xae", 4, UTF8_DROP_CONTROLS,
	    FFFD FFFD);
}

/* Bidi controls anywhere in s (valid UTF-8). */
static int
has_bidi(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t k;

	while (n > 0 && (k = utf8_decode(p, n, &cp)) > 0) {
		if ((cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return 1;
		p += k;
		n -= k;
	}
	return 0;
}

static void
check_safe(const unsigned char *in, size_t n)
{
	for (int flags = 0; flags <= UTF8_KEEP_NEWLINES; flags++) {
		struct buf b;

		buf_init(&b);
		buf_adds(&b, "");
		utf8_sanitize((const char *)in, n, flags, &b);
		if (!utf8_valid(b.data, b.len) || utf8_has_controls(b.data,
		    b.len) || memchr(b.data, '\t', b.len) != NULL ||
		    (!flags && memchr(b.data, '\n', b.len) != NULL) ||
		    has_bidi(b.data, b.len))
			fail_msg("unsafe output for %zu bytes %02x %02x %02x",
			    n, in[0], n > 1 ? in[1] : 0, n > 2 ? in[2] : 0);
		buf_free(&b);
	}
}

static void
utf8_sanitize__always_gives_valid_utf8_free_of_controls(void **state)
{
	unsigned char in[4];

	(void)state;
	/* Every one- and two-byte input, and three-byte ones that start
	 * like the bidi controls and line separators. */
	for (unsigned a = 0; a < 256; a++) {
		in[0] = (unsigned char)a;
		check_safe(in, 1);
		for (unsigned b = 0; b < 256; b++) {
			in[1] = (unsigned char)b;
			check_safe(in, 2);
		}
	}
	for (unsigned b = 0x80; b < 0xc0; b++) {
		for (unsigned c = 0; c < 256; c++) {
			in[0] = 0xe2;
			in[1] = (unsigned char)b;
			in[2] = (unsigned char)c;
			check_safe(in, 3);
		}
	}
}

/* jx_terminal_safe */

static const char *const nasty[] = {
	"\xc2\x85" "next line",
	"CSI \xc2\x9b" "31m",
	"del \x7f",
	"abc\xe2\x80\xae" "fdp.exe",
	"iso \xe2\x81\xa6x\xe2\x81\xa9",
	"line\xe2\x80\xa8sep\xe2\x80\xa9para",
	"esc \x1b[31m and tab\t and nl\n",
	"caf\xc3\xa9 \xf0\x9f\x91\x8d e\xcc\x81",
	"quote \" backslash \\ slash /",
	NULL
};

/* Raw bytes of what must not reach a terminal from printed JSON. */
static void
expect_no_raw_controls(const char *s)
{
	static const char *const raw[] = { "\xc2\x80", "\xc2\x85", "\xc2\x9b",
		"\xc2\x9f", "\x7f", "\xe2\x80\xa8", "\xe2\x80\xa9",
		"\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x81\xa9", "\x1b", NULL };

	for (size_t i = 0; raw[i] != NULL; i++) {
		if (strstr(s, raw[i]) != NULL)
			fail_msg("raw control %02x left in %s",
			    (unsigned char)raw[i][0], s);
	}
}

static void
jx_terminal_safe__escapes_what_cjson_leaves_raw(void **state)
{
	cJSON *o = cJSON_CreateObject();
	char *printed;
	struct buf b;

	(void)state;
	cJSON_AddStringToObject(o, "a", "\xc2\x9b" "\xe2\x80\xae\x7f"
	    "\xe2\x80\xa8");
	printed = jx_print(o);
	buf_init(&b);
	jx_terminal_safe(printed, &b);
	assert_string_equal(b.data, "{\"a\":\"\\u009b\\u202e\\u007f\\u2028\"}");
	buf_free(&b);
	free(printed);
	cJSON_Delete(o);
}

static void
jx_terminal_safe__gives_json_that_parses_back_to_the_same_strings(
    void **state)
{
	(void)state;
	for (int pretty = 0; pretty <= 1; pretty++) {
		cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();
		cJSON *back;
		char *printed;
		struct buf b;

		for (size_t i = 0; nasty[i] != NULL; i++) {
			char key[16];

			snprintf(key, sizeof key, "k%zu", i);
			cJSON_AddStringToObject(o, key, nasty[i]);
			cJSON_AddItemToArray(arr, cJSON_CreateString(nasty[i]));
		}
		/* A key may be nasty too. */
		cJSON_AddStringToObject(o, "\xe2\x80\xae" "key", "v");
		cJSON_AddItemToObject(o, "list", arr);
		printed = pretty ? cJSON_Print(o) : cJSON_PrintUnformatted(o);
		buf_init(&b);
		jx_terminal_safe(printed, &b);
		expect_no_raw_controls(b.data);
		assert_true(utf8_valid(b.data, b.len));
		back = cJSON_Parse(b.data);
		if (back == NULL)
			fail_msg("not JSON: %s", b.data);
		for (size_t i = 0; nasty[i] != NULL; i++) {
			char key[16];

			snprintf(key, sizeof key, "k%zu", i);
			assert_string_equal(jx_str(back, key), nasty[i]);
			assert_string_equal(cJSON_GetArrayItem(jx_arr(back,
			    "list"), (int)i)->valuestring, nasty[i]);
		}
		assert_string_equal(jx_str(back, "\xe2\x80\xae" "key"), "v");
		/* What needs no escape is left as it was. */
		assert_non_null(strstr(b.data, "caf\xc3\xa9 \xf0\x9f\x91\x8d"));
		cJSON_Delete(back);
		buf_free(&b);
		free(printed);
		cJSON_Delete(o);
	}
}

static void
jx_terminal_safe__replaces_invalid_utf8_and_stays_json(void **state)
{
	struct buf b;
	cJSON *back;

	(void)state;
	buf_init(&b);
	/* cJSON prints bytes it was given as they are, valid or not. */
	jx_terminal_safe("{\"a\":\"x\xff\xc2\"}", &b);
	assert_string_equal(b.data, "{\"a\":\"x\\ufffd\\ufffd\"}");
	back = cJSON_Parse(b.data);
	assert_non_null(back);
	assert_string_equal(jx_str(back, "a"), "x" FFFD FFFD);
	cJSON_Delete(back);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(utf8_valid__accepts_every_length_of_sequence),
		cmocka_unit_test(utf8_valid__refuses_malformed_sequences),
		cmocka_unit_test(
		    utf8_utf16_length__counts_astral_characters_as_two),
		cmocka_unit_test(
		    utf8_has_controls__finds_c0_c1_and_del_but_allows_tab_and_newline),
		cmocka_unit_test(utf8_decode__reads_each_length_of_sequence),
		cmocka_unit_test(utf8_decode__returns_0_for_malformed_or_cut_sequences),
		cmocka_unit_test(utf8_decode__returns_0_for_no_bytes_at_all),
		cmocka_unit_test(utf8_sanitize__shows_escape_as_a_control_picture),
		cmocka_unit_test(utf8_sanitize__shows_other_c0_controls_and_del_as_pictures),
		cmocka_unit_test(utf8_sanitize__replaces_c1_controls),
		cmocka_unit_test(utf8_sanitize__replaces_bidi_overrides_and_isolates),
		cmocka_unit_test(utf8_sanitize__replaces_each_invalid_byte),
		cmocka_unit_test(utf8_sanitize__keeps_crlf_as_a_newline_only_when_asked),
		cmocka_unit_test(utf8_sanitize__turns_a_lone_cr_into_a_space),
		cmocka_unit_test(utf8_sanitize__turns_tabs_into_spaces),
		cmocka_unit_test(utf8_sanitize__leaves_text_emoji_and_combining_marks_alone),
		cmocka_unit_test(utf8_sanitize__appends_to_what_the_buffer_holds),
		cmocka_unit_test(
		    utf8_sanitize__drops_controls_from_typed_text_when_asked),
		cmocka_unit_test(utf8_sanitize__always_gives_valid_utf8_free_of_controls),
		cmocka_unit_test(jx_terminal_safe__escapes_what_cjson_leaves_raw),
		cmocka_unit_test(jx_terminal_safe__gives_json_that_parses_back_to_the_same_strings),
		cmocka_unit_test(jx_terminal_safe__replaces_invalid_utf8_and_stays_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
