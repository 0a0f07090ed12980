/*
 * The in-memory screen: text drawn at edges and over other text, read
 * back as the lines a terminal would show.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "ui/canvas.h"

#define ZWJ "\xe2\x80\x8d"
#define ZWSP "\xe2\x80\x8b"
#define ACUTE "\xcc\x81"
#define FAMILY                                                        \
	"\xf0\x9f\x91\xa8" ZWJ "\xf0\x9f\x91\xa9" ZWJ "\xf0\x9f\x91\xa7" ZWJ \
	"\xf0\x9f\x91\xa6"
#define FLAG_NZ "\xf0\x9f\x87\xb3\xf0\x9f\x87\xbf"

/* The canvas as text, compared with the expected screen. */
static void
check_dump(const struct canvas *cv, const char *want)
{
	struct buf b;

	buf_init(&b);
	canvas_dump(cv, &b);
	assert_string_equal(b.data != NULL ? b.data : "", want);
	buf_free(&b);
}

static void
check_cell(const struct canvas *cv, unsigned x, unsigned y,
    const char *text, unsigned width)
{
	struct canvas_cell_info ci;

	assert_int_equal(canvas_cell(cv, x, y, &ci), 0);
	assert_int_equal(ci.len, strlen(text));
	assert_memory_equal(ci.text, text, ci.len);
	assert_int_equal(ci.width, width);
}

static void
canvas_dump__gives_one_trimmed_line_per_row(void **state)
{
	struct canvas *cv = canvas_new(10, 3);

	(void)state;
	check_dump(cv, "\n\n\n");
	assert_int_equal(canvas_puts(cv, 2, 1, "hello", 0), 7);
	check_dump(cv, "\n  hello\n\n");
	canvas_free(cv);
}

static void
canvas_put__writes_wide_characters_once_in_the_dump(void **state)
{
	struct canvas *cv = canvas_new(6, 1);

	(void)state;
	assert_int_equal(canvas_puts(cv, 0, 0, "中文x", 0), 5);
	check_dump(cv, "中文x\n");
	check_cell(cv, 0, 0, "中", 2);
	check_cell(cv, 1, 0, "", 0);
	check_cell(cv, 4, 0, "x", 1);
	canvas_free(cv);
}

static void
canvas_put__pads_instead_of_drawing_half_a_wide_character(void **state)
{
	struct canvas *cv = canvas_new(5, 2);

	(void)state;
	canvas_fill(cv, 0, 0, 5, 2, "#", 0);
	assert_int_equal(canvas_puts(cv, 0, 0, "ab中文", 0), 5);
	check_dump(cv, "ab中\n#####\n");
	check_cell(cv, 4, 0, " ", 1);
	assert_int_equal(canvas_puts(cv, 3, 1, FAMILY, 0), 5);
	check_dump(cv, "ab中\n###" FAMILY "\n");
	assert_int_equal(canvas_puts(cv, 4, 1, FLAG_NZ, 0), 5);
	check_dump(cv, "ab中\n###\n");
	canvas_free(cv);
}

static void
canvas_put__stops_at_the_clip_and_leaves_other_panes_alone(void **state)
{
	struct canvas *cv = canvas_new(10, 2);

	(void)state;
	canvas_puts(cv, 0, 0, "xxxxxxxxxx", 0);
	canvas_puts(cv, 0, 1, "yyyyyyyyyy", 0);
	canvas_clip(cv, 2, 0, 3, 1);
	assert_int_equal(canvas_puts(cv, 2, 0, "中文字", 0), 5);
	assert_int_equal(canvas_puts(cv, 2, 1, "zzz", 0), 2);
	canvas_unclip(cv);
	check_dump(cv, "xx中 xxxxx\nyyyyyyyyyy\n");
	canvas_free(cv);
}

static void
canvas_put__clips_text_that_starts_left_of_the_clip(void **state)
{
	struct canvas *cv = canvas_new(8, 1);

	(void)state;
	canvas_puts(cv, 0, 0, "........", 0);
	canvas_clip(cv, 2, 0, 4, 1);
	/* 中 takes columns 1-2: its right half is in the clip, so a space. */
	assert_int_equal(canvas_puts(cv, 1, 0, "中ab", 0), 5);
	canvas_unclip(cv);
	check_dump(cv, ".. ab...\n");
	canvas_free(cv);
}

static void
canvas_put__blanks_the_other_half_of_a_wide_char(void **state)
{
	struct canvas *cv = canvas_new(6, 3);

	(void)state;
	canvas_puts(cv, 0, 0, "中", 0);
	canvas_puts(cv, 1, 0, "a", 0);
	canvas_puts(cv, 0, 1, "中", 0);
	canvas_puts(cv, 0, 1, "b", 0);
	canvas_puts(cv, 0, 2, "中文", 0);
	canvas_puts(cv, 1, 2, "字", 0);
	check_dump(cv, " a\nb\n 字\n");
	check_cell(cv, 1, 1, " ", 1);
	check_cell(cv, 3, 2, " ", 1);
	canvas_free(cv);
}

static void
canvas_put__keeps_combining_marks_in_their_cell(void **state)
{
	struct canvas *cv = canvas_new(5, 1);

	(void)state;
	assert_int_equal(canvas_puts(cv, 3, 0, "e" ACUTE ACUTE "x", 0), 5);
	check_dump(cv, "   e" ACUTE ACUTE "x\n");
	check_cell(cv, 3, 0, "e" ACUTE ACUTE, 1);
	canvas_free(cv);
}

static void
canvas_put__puts_a_mark_without_base_on_a_space(void **state)
{
	struct canvas *cv = canvas_new(5, 1);

	(void)state;
	assert_int_equal(canvas_puts(cv, 0, 0, "a" ZWSP ACUTE "b", 0), 3);
	check_cell(cv, 1, 0, " " ACUTE, 1);
	check_dump(cv, "a " ACUTE "b\n");
	/* A spacing mark (Devanagari ि) takes its own column: no space. */
	canvas_puts(cv, 3, 0, "\xe0\xa4\xbf", 0);
	check_cell(cv, 3, 0, "\xe0\xa4\xbf", 1);
	canvas_free(cv);
}

static void
canvas_put__never_stores_zero_width_or_control_clusters(void **state)
{
	struct canvas *cv = canvas_new(8, 1);

	(void)state;
	assert_int_equal(canvas_puts(cv, 0, 0, "a" ZWSP "b\x1b[c\n\x7f", 0),
	    4);
	check_dump(cv, "ab[c\n");
	canvas_free(cv);
}

static void
canvas_put__stores_invalid_bytes_as_u_fffd(void **state)
{
	struct canvas *cv = canvas_new(8, 1);

	(void)state;
	/* Three bad bytes: \xff, then \xe2 \x80 cut short by 'z'. */
	assert_int_equal(canvas_puts(cv, 0, 0, "a\xff\xe2\x80z", 0), 5);
	check_dump(cv, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\n");
	canvas_free(cv);
}

static void
canvas_put__cuts_an_endless_stack_of_marks(void **state)
{
	struct canvas *cv = canvas_new(3, 1);
	struct canvas_cell_info ci;
	struct buf b;
	int i;

	(void)state;
	buf_init(&b);
	buf_adds(&b, "e");
	for (i = 0; i < 200; i++)
		buf_adds(&b, ACUTE);
	buf_adds(&b, "z");
	assert_int_equal(canvas_put(cv, 0, 0, b.data, b.len, 0), 2);
	assert_int_equal(canvas_cell(cv, 0, 0, &ci), 0);
	assert_int_equal(ci.len, 63); /* "e" and 31 marks */
	assert_memory_equal(ci.text, b.data, 63);
	check_cell(cv, 1, 0, "z", 1);
	buf_free(&b);
	canvas_free(cv);
}

static void
canvas_put__ignores_rows_and_columns_outside(void **state)
{
	struct canvas *cv = canvas_new(3, 1);
	struct canvas *empty = canvas_new(0, 0);

	(void)state;
	assert_int_equal(canvas_puts(cv, 0, 1, "abc", 0), 0);
	assert_int_equal(canvas_puts(cv, 7, 0, "abc", 0), 7);
	check_dump(cv, "\n");
	/* An empty clip at the edge: nothing drawn, nothing touched. */
	canvas_clip(cv, 3, 0, 5, 1);
	assert_int_equal(canvas_puts(cv, 0, 0, "\xe4\xb8\xad", 0), 0);
	canvas_unclip(cv);
	assert_int_equal(canvas_puts(empty, 0, 0, "abc", 0), 0);
	canvas_fill(empty, 0, 0, 5, 5, "x", 0);
	check_dump(empty, "");
	canvas_free(empty);
	canvas_free(cv);
}

static void
canvas_box__draws_lines_and_corners(void **state)
{
	struct canvas *cv = canvas_new(7, 5);

	(void)state;
	canvas_box(cv, 0, 0, 6, 4, 0);
	canvas_puts(cv, 1, 1, "hi", 0);
	canvas_vline(cv, 6, 0, 5, 0);
	canvas_hline(cv, 0, 4, 3, 0);
	check_dump(cv,
	    "┌────┐│\n"
	    "│hi  ││\n"
	    "│    ││\n"
	    "└────┘│\n"
	    "───   │\n");
	canvas_free(cv);
}

static void
canvas_fill__pads_the_odd_column_of_a_wide_fill(void **state)
{
	struct canvas *cv = canvas_new(6, 2);

	(void)state;
	canvas_fill(cv, 0, 0, 5, 2, "中", 0);
	canvas_fill(cv, 4, 1, 100, 100, "-", 0);
	check_dump(cv, "中中\n中中--\n");
	canvas_free(cv);
}

static void
canvas_cell__keeps_attributes_and_colour_pairs(void **state)
{
	struct canvas *cv = canvas_new(4, 1);
	struct canvas_cell_info ci;

	(void)state;
	canvas_puts(cv, 0, 0, "中", CANVAS_BOLD | CANVAS_PAIR(3));
	assert_int_equal(canvas_cell(cv, 0, 0, &ci), 0);
	assert_int_equal(ci.attr & 0xff, CANVAS_BOLD);
	assert_int_equal(CANVAS_PAIR_OF(ci.attr), 3);
	assert_int_equal(canvas_cell(cv, 1, 0, &ci), 0);
	assert_int_equal(CANVAS_PAIR_OF(ci.attr), 3);
	assert_int_equal(canvas_cell(cv, 4, 0, &ci), -1);
	canvas_free(cv);
}

static void
canvas_row_dirty__is_set_only_by_a_change(void **state)
{
	struct canvas *cv = canvas_new(4, 3);

	(void)state;
	assert_true(canvas_row_dirty(cv, 0));
	canvas_clean(cv);
	canvas_puts(cv, 0, 0, "    ", 0); /* what is already there */
	canvas_clear(cv);
	assert_false(canvas_row_dirty(cv, 0));
	canvas_puts(cv, 1, 1, "a", 0);
	assert_false(canvas_row_dirty(cv, 0));
	assert_true(canvas_row_dirty(cv, 1));
	canvas_clean(cv);
	canvas_puts(cv, 1, 1, "a", CANVAS_REVERSE);
	assert_true(canvas_row_dirty(cv, 1));
	assert_false(canvas_row_dirty(cv, 7));
	canvas_free(cv);
}

static void
canvas_resize__starts_blank_and_dirty(void **state)
{
	struct canvas *cv = canvas_new(4, 1);

	(void)state;
	canvas_puts(cv, 0, 0, "abcd", 0);
	canvas_clean(cv);
	canvas_resize(cv, 2, 2);
	assert_int_equal(canvas_width(cv), 2);
	assert_int_equal(canvas_height(cv), 2);
	assert_true(canvas_row_dirty(cv, 1));
	check_dump(cv, "\n\n");
	canvas_free(cv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(canvas_dump__gives_one_trimmed_line_per_row),
		cmocka_unit_test(
		    canvas_put__writes_wide_characters_once_in_the_dump),
		cmocka_unit_test(
		    canvas_put__pads_instead_of_drawing_half_a_wide_character),
		cmocka_unit_test(
		    canvas_put__stops_at_the_clip_and_leaves_other_panes_alone),
		cmocka_unit_test(
		    canvas_put__clips_text_that_starts_left_of_the_clip),
		cmocka_unit_test(
		    canvas_put__blanks_the_other_half_of_a_wide_char),
		cmocka_unit_test(
		    canvas_put__keeps_combining_marks_in_their_cell),
		cmocka_unit_test(
		    canvas_put__puts_a_mark_without_base_on_a_space),
		cmocka_unit_test(
		    canvas_put__never_stores_zero_width_or_control_clusters),
		cmocka_unit_test(
		    canvas_put__stores_invalid_bytes_as_u_fffd),
		cmocka_unit_test(canvas_put__cuts_an_endless_stack_of_marks),
		cmocka_unit_test(canvas_put__ignores_rows_and_columns_outside),
		cmocka_unit_test(canvas_box__draws_lines_and_corners),
		cmocka_unit_test(
		    canvas_fill__pads_the_odd_column_of_a_wide_fill),
		cmocka_unit_test(
		    canvas_cell__keeps_attributes_and_colour_pairs),
		cmocka_unit_test(canvas_row_dirty__is_set_only_by_a_change),
		cmocka_unit_test(canvas_resize__starts_blank_and_dirty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
