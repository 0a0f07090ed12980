/*
 * Widths, cuts and wraps by grapheme cluster: the hard cases every
 * terminal client gets wrong sooner or later (emoji sequences, flags,
 * skin tones, combining marks, CJK, zero-width characters).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "ui/text.h"

#define ZWJ "\xe2\x80\x8d"
#define ZWSP "\xe2\x80\x8b"
#define WJ "\xe2\x81\xa0"
#define BOM "\xef\xbb\xbf"
#define SHY "\xc2\xad"
#define VS16 "\xef\xb8\x8f"
#define ACUTE "\xcc\x81" /* U+0301 COMBINING ACUTE ACCENT */
#define MAN "\xf0\x9f\x91\xa8"
#define WOMAN "\xf0\x9f\x91\xa9"
#define GIRL "\xf0\x9f\x91\xa7"
#define BOY "\xf0\x9f\x91\xa6"
#define FAMILY MAN ZWJ WOMAN ZWJ GIRL ZWJ BOY /* 25 bytes, 2 columns */
#define THUMBS_MEDIUM "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd" /* 👍 + 🏽 */
#define FLAG_NZ "\xf0\x9f\x87\xb3\xf0\x9f\x87\xbf"	   /* 🇳🇿 */
#define FLAG_AU "\xf0\x9f\x87\xa6\xf0\x9f\x87\xba"	   /* 🇦🇺 */
#define RI_A "\xf0\x9f\x87\xa6"
#define HEART "\xe2\x9d\xa4" /* U+2764, text presentation by default */
#define KEYCAP_1 "1" VS16 "\xe2\x83\xa3"
#define ENGLAND                                                        \
	"\xf0\x9f\x8f\xb4\xf3\xa0\x81\xa7\xf3\xa0\x81\xa2\xf3\xa0\x81\xa5" \
	"\xf3\xa0\x81\xae\xf3\xa0\x81\xa7\xf3\xa0\x81\xbf"
#define HANGUL_JAMO "\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8" /* ᄀ ᅡ ᆨ */
#define KI "\xe0\xa4\x95\xe0\xa4\xbf" /* Devanagari क + vowel sign ि */

#define LEN(s) (sizeof(s) - 1)
#define WIDTH(s) text_width(s, LEN(s))

static void
text_width__counts_ascii_latin_and_cjk(void **state)
{
	(void)state;
	assert_int_equal(WIDTH(""), 0);
	assert_int_equal(WIDTH("abc"), 3);
	assert_int_equal(WIDTH("h\xc3\xa9llo"), 5);	  /* precomposed é */
	assert_int_equal(WIDTH("he" ACUTE "llo"), 5); /* decomposed é */
	assert_int_equal(WIDTH("中文"), 4);
	assert_int_equal(WIDTH("中a"), 3);
	assert_int_equal(WIDTH("\xe3\x80\x80"), 2); /* ideographic space */
}

static void
text_width__measures_emoji_sequences_as_one_wide_cluster(void **state)
{
	(void)state;
	assert_int_equal(WIDTH(FAMILY), 2);
	assert_int_equal(WIDTH(FAMILY FAMILY), 4);
	assert_int_equal(WIDTH(THUMBS_MEDIUM), 2);
	assert_int_equal(WIDTH(ENGLAND), 2);
	assert_int_equal(WIDTH(HEART), 1);
	assert_int_equal(WIDTH(HEART VS16), 2);
	assert_int_equal(WIDTH(KEYCAP_1), 2);
	assert_int_equal(WIDTH("#" VS16 "\xe2\x83\xa3"), 2);
	assert_int_equal(WIDTH("\xc2\xa9" VS16), 2); /* © */
}

static void
text_width__ignores_vs16_where_it_makes_no_emoji(void **state)
{
	(void)state;
	assert_int_equal(WIDTH("a" VS16), 1);
	assert_int_equal(WIDTH("\xe4\xb8\xad" VS16), 2); /* 中 stays 2 */
	/* Alone it is a mark without base, and so it is on a space. */
	assert_int_equal(WIDTH(VS16), 1);
	assert_int_equal(WIDTH(" " VS16), 1);
}

static void
text_width__pairs_regional_indicators_into_flags(void **state)
{
	(void)state;
	assert_int_equal(WIDTH(FLAG_NZ), 2);
	assert_int_equal(WIDTH(FLAG_NZ FLAG_AU), 4);
	assert_int_equal(WIDTH(RI_A), 1);
	/* Three indicators: one flag and a lone one. */
	assert_int_equal(WIDTH(FLAG_AU RI_A), 3);
}

static void
text_width__gives_marks_the_width_of_their_base(void **state)
{
	(void)state;
	assert_int_equal(WIDTH("e" ACUTE ACUTE ACUTE), 1);
	assert_int_equal(WIDTH("中" ACUTE), 2);
	assert_int_equal(WIDTH(HANGUL_JAMO), 2);
	/* A spacing mark takes a column of its own, as wcwidth has it. */
	assert_int_equal(WIDTH(KI), 2);
	assert_int_equal(WIDTH("\xe0\xa4\xbf"), 1); /* ि alone */
	/* A mark with no base is shown on a space: one column. */
	assert_int_equal(WIDTH(ACUTE), 1);
	assert_int_equal(WIDTH(ACUTE "a"), 2);
}

static void
text_width__measures_a_baseless_mark_with_the_space_it_is_drawn_on(
    void **state)
{
	/*
	 * U+1928 (a non-spacing Limbu sign) then ि (spacing): the canvas
	 * draws the cluster on a space, and the terminal gives that space
	 * and ि a column each. Found by fuzz-text: the canvas's row was a
	 * column wider than its cells said.
	 */
	(void)state;
	assert_int_equal(WIDTH("\xe1\xa4\xa8\xe0\xa4\xbf"), 2);
	assert_int_equal(WIDTH(" \xe1\xa4\xa8\xe0\xa4\xbf"), 2);
	assert_int_equal(WIDTH(ACUTE), 1);
	/*
	 * U+FE0D (a selector) then a skin tone, which is wide: on its space
	 * it is two columns, alone or not. Found by fuzz-text too.
	 */
	assert_int_equal(WIDTH("\xef\xb8\x8d\xf0\x9f\x8f\xbd"), 2);
	assert_int_equal(WIDTH(" \xef\xb8\x8d\xf0\x9f\x8f\xbd"), 2);
}

static void
text_width__gives_zero_width_characters_no_column(void **state)
{
	(void)state;
	assert_int_equal(WIDTH("a" ZWSP "b"), 2);
	assert_int_equal(WIDTH("a" WJ "b"), 2);
	assert_int_equal(WIDTH("a" BOM "b"), 2);
	assert_int_equal(WIDTH("a" SHY "b"), 2);
	assert_int_equal(WIDTH("a" ZWJ "b"), 2);
	assert_int_equal(WIDTH("\n\x1b\x7f"), 0);
}

static void
text_width__survives_invalid_utf8_as_one_column_a_byte(void **state)
{
	(void)state;
	assert_int_equal(WIDTH("\xff"), 1);
	assert_int_equal(WIDTH("a\xe2\x80"), 3);
	assert_int_equal(WIDTH("\xed\xa0\x80"), 3); /* a surrogate */
	assert_int_equal(WIDTH(MAN ZWJ "\xf0\x9f\x91"), 5);
}

static void
text_width__agrees_with_what_the_sanitiser_leaves(void **state)
{
	static const char raw[] = "\x1b[31mred\rX\xe2\x80\xaeY\xff";
	struct buf b;

	(void)state;
	buf_init(&b);
	utf8_sanitize(raw, LEN(raw), 0, &b);
	/* ␛ [31mred, a space for the CR, X, U+FFFD, Y, U+FFFD. */
	assert_string_equal(b.data,
	    "\xe2\x90\x9b[31mred X\xef\xbf\xbdY\xef\xbf\xbd");
	assert_int_equal(text_width(b.data, b.len), 13);
	buf_free(&b);
}

static void
text_cluster__returns_whole_clusters(void **state)
{
	unsigned w;

	(void)state;
	assert_int_equal(text_cluster(FAMILY "x", LEN(FAMILY "x"), &w), 25);
	assert_int_equal(w, 2);
	assert_int_equal(text_cluster(FLAG_NZ FLAG_AU, 16, &w), 8);
	assert_int_equal(w, 2);
	assert_int_equal(text_cluster("e" ACUTE ACUTE "x", 6, &w), 5);
	assert_int_equal(w, 1);
	assert_int_equal(text_cluster(ENGLAND, LEN(ENGLAND), &w),
	    LEN(ENGLAND));
	assert_int_equal(text_cluster("\r\n", 2, &w), 2);
	assert_int_equal(w, 0);
	assert_int_equal(text_cluster("", 0, &w), 0);
	assert_int_equal(w, 0);
	/* A cluster stops before an invalid byte. */
	assert_int_equal(text_cluster("e" ACUTE "\xff", 4, &w), 3);
	assert_int_equal(text_cluster("\xff" ACUTE, 3, &w), 1);
	assert_int_equal(w, 1);
}

/* text_cut's prefix as a string, and its width. */
static void
check_cut(const char *s, size_t cols, const char *want, size_t want_width)
{
	size_t w, n = text_cut(s, strlen(s), cols, &w);
	char got[256];

	assert_true(n < sizeof got);
	memcpy(got, s, n);
	got[n] = '\0';
	assert_string_equal(got, want);
	assert_int_equal(w, want_width);
}

static void
text_cut__stops_before_what_does_not_fit(void **state)
{
	(void)state;
	check_cut("abcdef", 3, "abc", 3);
	check_cut("abc", 10, "abc", 3);
	check_cut("abc", 0, "", 0);
	check_cut("", 5, "", 0);
}

static void
text_cut__never_draws_half_a_wide_character(void **state)
{
	(void)state;
	check_cut("中文字", 3, "中", 2);
	check_cut("中文字", 4, "中文", 4);
	check_cut("a中", 2, "a", 1);
	check_cut("中", 1, "", 0);
}

static void
text_cut__never_splits_a_cluster(void **state)
{
	(void)state;
	check_cut(FAMILY "x", 1, "", 0);
	check_cut(FAMILY "x", 2, FAMILY, 2);
	check_cut(FAMILY FAMILY, 3, FAMILY, 2);
	check_cut("e" ACUTE "x", 1, "e" ACUTE, 1);
	check_cut(FLAG_NZ FLAG_AU, 3, FLAG_NZ, 2);
	check_cut(THUMBS_MEDIUM "!", 2, THUMBS_MEDIUM, 2);
	check_cut(HEART VS16 "!", 1, "", 0);
	check_cut(KI KI, 3, KI, 2);
}

static void
text_cut__takes_zero_width_clusters_at_the_edge(void **state)
{
	(void)state;
	check_cut("ab" ZWSP "c", 2, "ab" ZWSP, 2);
	check_cut(ZWSP "a", 0, ZWSP, 0);
}

static void
check_cut_buf(const char *s, size_t cols, int flags, const char *want,
    size_t want_width)
{
	struct buf b;
	size_t w;

	buf_init(&b);
	buf_adds(&b, "[");
	w = text_cut_buf(&b, s, strlen(s), cols, flags);
	assert_string_equal(b.data + 1, want);
	assert_int_equal(w, want_width);
	assert_int_equal(text_width(b.data + 1, b.len - 1), want_width);
	buf_free(&b);
}

static void
text_cut_buf__ends_cut_text_in_an_ellipsis(void **state)
{
	(void)state;
	check_cut_buf("hello world", 8, TEXT_ELLIPSIS, "hello w…", 8);
	check_cut_buf("hello", 5, TEXT_ELLIPSIS, "hello", 5);
	check_cut_buf("hello", 4, TEXT_ELLIPSIS, "hel…", 4);
	check_cut_buf("hello", 1, TEXT_ELLIPSIS, "…", 1);
	check_cut_buf("hello", 0, TEXT_ELLIPSIS, "", 0);
	check_cut_buf("hello", 3, 0, "hel", 3);
}

static void
text_cut_buf__makes_room_for_the_ellipsis_by_cluster(void **state)
{
	(void)state;
	/* "中文" is 4: it fits; "中文字" is cut to 3 columns and "…". */
	check_cut_buf("中文", 4, TEXT_ELLIPSIS, "中文", 4);
	check_cut_buf("中文字", 4, TEXT_ELLIPSIS, "中…", 3);
	check_cut_buf("中文字", 5, TEXT_ELLIPSIS, "中文…", 5);
	check_cut_buf(FAMILY FAMILY, 3, TEXT_ELLIPSIS, FAMILY "…", 3);
	check_cut_buf(FLAG_NZ FLAG_AU, 2, TEXT_ELLIPSIS, "…", 1);
	check_cut_buf("e" ACUTE "e" ACUTE "e", 2, TEXT_ELLIPSIS,
	    "e" ACUTE "…", 2);
}

/* Wraps s and checks the lines, given as one string joined by '|'. */
static void
check_wrap(const char *s, size_t cols, const char *want)
{
	struct text_wrap tw;
	struct text_line l;
	struct buf b;
	size_t n = 0;

	buf_init(&b);
	text_wrap_init(&tw, s, strlen(s), cols);
	while (text_wrap_next(&tw, &l)) {
		if (n++ > 0)
			buf_adds(&b, "|");
		buf_add(&b, s + l.off, l.len);
		assert_int_equal(l.width, text_width(s + l.off, l.len));
	}
	assert_string_equal(b.data != NULL ? b.data : "", want);
	assert_int_equal(text_wrap_count(s, strlen(s), cols), n);
	buf_free(&b);
}

static void
text_wrap__breaks_at_spaces(void **state)
{
	(void)state;
	check_wrap("the quick brown fox", 10, "the quick|brown fox");
	check_wrap("the quick brown fox", 9, "the quick|brown fox");
	check_wrap("aaaa bbbb", 4, "aaaa|bbbb");
	check_wrap("a  b", 1, "a|b");
	check_wrap("one two three", 100, "one two three");
}

static void
text_wrap__hard_breaks_long_words_by_cluster(void **state)
{
	(void)state;
	check_wrap("abcdefghij", 4, "abcd|efgh|ij");
	check_wrap("ab cdefghij", 4, "ab|cdef|ghij");
	check_wrap("中文中文中", 5, "中文|中文|中");
	check_wrap(FAMILY FAMILY FAMILY, 5, FAMILY FAMILY "|" FAMILY);
	check_wrap("e" ACUTE "e" ACUTE "e" ACUTE, 2,
	    "e" ACUTE "e" ACUTE "|e" ACUTE);
}

static void
text_wrap__keeps_newlines_as_line_ends(void **state)
{
	(void)state;
	check_wrap("a\n\nb", 10, "a||b");
	check_wrap("abc\n", 10, "abc|");
	check_wrap("\n", 10, "|");
	check_wrap("", 10, "");
	/* A break right before a newline does not add an empty line. */
	check_wrap("aaa \nb", 3, "aaa|b");
	check_wrap("aaa \n", 3, "aaa|");
}

static void
text_wrap__keeps_indentation_and_spaces_that_fit(void **state)
{
	(void)state;
	check_wrap("  indented text", 10, "  indented|text");
	check_wrap("abc  ", 10, "abc  ");
	check_wrap("abc   ", 4, "abc");
	check_wrap("  abcdef", 4, "  ab|cdef");
}

static void
text_wrap__moves_on_past_a_cluster_wider_than_the_line(void **state)
{
	(void)state;
	check_wrap("中a", 1, "中|a");
	check_wrap("ab", 0, "a|b");
	check_wrap(FAMILY, 1, FAMILY);
}

static void
text_wrap__never_splits_a_space_that_carries_a_mark(void **state)
{
	(void)state;
	/* " ́" is one cluster and not a break; a plain space before it is. */
	check_wrap("ab  " ACUTE "c", 2, "ab| " ACUTE "c");
	check_wrap("ab " ACUTE "cd", 3, "ab " ACUTE "|cd");
}

static void
text_wrap__reports_the_columns_of_each_line(void **state)
{
	static const char s[] = "hi " FAMILY FAMILY " ok";
	struct text_wrap tw;
	struct text_line l;

	(void)state;
	text_wrap_init(&tw, s, LEN(s), 4);
	assert_true(text_wrap_next(&tw, &l));
	assert_int_equal(l.off, 0);
	assert_int_equal(l.len, 2);
	assert_int_equal(l.width, 2);
	assert_true(text_wrap_next(&tw, &l));
	assert_int_equal(l.off, 3);
	assert_int_equal(l.len, 50);
	assert_int_equal(l.width, 4);
	assert_true(text_wrap_next(&tw, &l));
	assert_int_equal(l.off, 54);
	assert_int_equal(l.width, 2);
	assert_false(text_wrap_next(&tw, &l));
	assert_false(text_wrap_next(&tw, &l));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_width__counts_ascii_latin_and_cjk),
		cmocka_unit_test(
		    text_width__measures_emoji_sequences_as_one_wide_cluster),
		cmocka_unit_test(
		    text_width__ignores_vs16_where_it_makes_no_emoji),
		cmocka_unit_test(
		    text_width__pairs_regional_indicators_into_flags),
		cmocka_unit_test(
		    text_width__gives_marks_the_width_of_their_base),
		cmocka_unit_test(
		    text_width__measures_a_baseless_mark_with_the_space_it_is_drawn_on),
		cmocka_unit_test(
		    text_width__gives_zero_width_characters_no_column),
		cmocka_unit_test(
		    text_width__survives_invalid_utf8_as_one_column_a_byte),
		cmocka_unit_test(
		    text_width__agrees_with_what_the_sanitiser_leaves),
		cmocka_unit_test(text_cluster__returns_whole_clusters),
		cmocka_unit_test(text_cut__stops_before_what_does_not_fit),
		cmocka_unit_test(text_cut__never_draws_half_a_wide_character),
		cmocka_unit_test(text_cut__never_splits_a_cluster),
		cmocka_unit_test(
		    text_cut__takes_zero_width_clusters_at_the_edge),
		cmocka_unit_test(
		    text_cut_buf__ends_cut_text_in_an_ellipsis),
		cmocka_unit_test(
		    text_cut_buf__makes_room_for_the_ellipsis_by_cluster),
		cmocka_unit_test(text_wrap__breaks_at_spaces),
		cmocka_unit_test(text_wrap__hard_breaks_long_words_by_cluster),
		cmocka_unit_test(text_wrap__keeps_newlines_as_line_ends),
		cmocka_unit_test(
		    text_wrap__keeps_indentation_and_spaces_that_fit),
		cmocka_unit_test(
		    text_wrap__moves_on_past_a_cluster_wider_than_the_line),
		cmocka_unit_test(
		    text_wrap__never_splits_a_space_that_carries_a_mark),
		cmocka_unit_test(text_wrap__reports_the_columns_of_each_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
