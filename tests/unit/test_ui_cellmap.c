/*
 * Canvas cells as ncurses can hold them: whatever a wcwidth() terminal
 * would measure differently from the canvas is cut or padded, so the
 * columns on screen are the columns the layout counted.
 */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <wchar.h>

#include <cmocka.h>

#include "ui/cellmap.h"

#define ZWJ "\xe2\x80\x8d"
#define VS16 "\xef\xb8\x8f"
#define ACUTE "\xcc\x81"

/* Maps s and checks the cells against up to two wide strings. */
static void
check(const char *s, unsigned width, unsigned n, const wchar_t *c0,
    const wchar_t *c1)
{
	struct cellmap m;

	cellmap_cell(s, strlen(s), width, &m);
	assert_int_equal(m.n, n);
	assert_true(wcscmp(m.cell[0], c0) == 0);
	if (n > 1)
		assert_true(wcscmp(m.cell[1], c1) == 0);
}

static void
cellmap_cell__keeps_what_wcwidth_measures_the_same(void **state)
{
	(void)state;
	check("a", 1, 1, L"a", NULL);
	check("\xe4\xb8\xad", 2, 1, L"\x4e2d", NULL); /* 中 */
	check("e" ACUTE ACUTE, 1, 1, L"e\x301\x301", NULL);
	check(" " ACUTE, 1, 1, L" \x301", NULL);
	/* Hangul in jamo: the vowel and final join the initial's cell. */
	check("\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8", 2, 1,
	    L"\x1100\x1161\x11a8", NULL);
}

static void
cellmap_cell__keeps_at_most_four_marks(void **state)
{
	(void)state;
	check("e" ACUTE ACUTE ACUTE ACUTE ACUTE ACUTE, 1, 1,
	    L"e\x301\x301\x301\x301", NULL);
}

static void
cellmap_cell__draws_an_emoji_sequence_as_its_first_emoji(void **state)
{
	(void)state;
	check("\xf0\x9f\x91\xa8" ZWJ "\xf0\x9f\x91\xa9" ZWJ "\xf0\x9f\x91\xa7",
	    2, 1, L"\x1f468", NULL);
	check("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", 2, 1, L"\x1f44d", NULL);
	/* England: the black flag without its tag characters. */
	check("\xf0\x9f\x8f\xb4\xf3\xa0\x81\xa7\xf3\xa0\x81\xa2"
	      "\xf3\xa0\x81\xbf",
	    2, 1, L"\x1f3f4", NULL);
}

static void
cellmap_cell__pads_what_vs16_made_wide(void **state)
{
	(void)state;
	check("\xe2\x9d\xa4" VS16, 2, 2, L"\x2764", L" ");
	check("1" VS16 "\xe2\x83\xa3", 2, 2, L"1\x20e3", L" ");
}

static void
cellmap_cell__splits_flags_and_spacing_marks(void **state)
{
	(void)state;
	check("\xf0\x9f\x87\xb3\xf0\x9f\x87\xbf", 2, 2, L"\x1f1f3",
	    L"\x1f1ff");
	check("\xe0\xa4\x95\xe0\xa4\xbf", 2, 2, L"\x915", L"\x93f");
}

static void
cellmap_cell__replaces_what_cannot_be_drawn_in_the_width(void **state)
{
	(void)state;
	check("\xe4\xb8\xad", 1, 1, L"\xfffd", NULL);
	check("", 2, 2, L"\xfffd", L" ");
	check("\xff", 1, 1, L"\xfffd", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    cellmap_cell__keeps_what_wcwidth_measures_the_same),
		cmocka_unit_test(cellmap_cell__keeps_at_most_four_marks),
		cmocka_unit_test(
		    cellmap_cell__draws_an_emoji_sequence_as_its_first_emoji),
		cmocka_unit_test(cellmap_cell__pads_what_vs16_made_wide),
		cmocka_unit_test(
		    cellmap_cell__splits_flags_and_spacing_marks),
		cmocka_unit_test(
		    cellmap_cell__replaces_what_cannot_be_drawn_in_the_width),
	};

	/* wcwidth() answers only in a UTF-8 locale, as under ncurses. */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
