/*
 * The strict UTF-8 decoder behind every check of agents' text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/utf8.h"

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
