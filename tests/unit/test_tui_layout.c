/*
 * Pane geometry at every terminal size from 1x1 to 300x80: panes never
 * overlap or leave the screen, and the documented breakpoints hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tui/layout.h"

static int
inside(const struct rect *r, unsigned w, unsigned h)
{
	return r->w == 0 || r->h == 0 || (r->x + r->w <= w && r->y + r->h <= h);
}

static int
overlap(const struct rect *a, const struct rect *b)
{
	if (a->w == 0 || a->h == 0 || b->w == 0 || b->h == 0)
		return 0;
	return a->x < b->x + b->w && b->x < a->x + a->w &&
	    a->y < b->y + b->h && b->y < a->y + a->h;
}

static void
layout__fits_every_size_without_overlap(void **state)
{
	struct layout_in in = { 0 };
	struct layout l;

	(void)state;
	for (unsigned w = 1; w <= 300; w++) {
		for (unsigned h = 1; h <= 80; h++) {
			for (int f = 0; f < 3; f++) {
				for (int side = 0; side < 2; side++) {
					const struct rect *r[5];

					in.w = w;
					in.h = h;
					in.focus = (enum layout_focus)f;
					in.sidebar = side;
					in.compose_lines = (w * h) % 40;
					layout_compute(&in, &l);
					if (w < LAYOUT_MIN_W || h < LAYOUT_MIN_H) {
						assert_true(l.too_small);
						continue;
					}
					assert_false(l.too_small);
					r[0] = &l.list;
					r[1] = &l.thread;
					r[2] = &l.sidebar;
					r[3] = &l.compose;
					r[4] = &l.status;
					for (int i = 0; i < 5; i++) {
						assert_true(inside(r[i], w, h));
						for (int j = i + 1; j < 5; j++)
							assert_false(overlap(r[i],
							    r[j]));
					}
					/* Something to read and a line to type. */
					assert_true(l.thread.w > 0 || l.list.w > 0 ||
					    l.sidebar.w > 0);
					assert_true(l.compose.h >= 1);
					assert_int_equal(l.status.y, h - 1);
				}
			}
		}
	}
}

static void
layout__shows_three_panes_from_100_columns(void **state)
{
	struct layout_in in = { 100, 30, LAYOUT_LIST, 0, 1 };
	struct layout l;

	(void)state;
	layout_compute(&in, &l);
	assert_int_equal(l.panes, 3);
	assert_true(l.list.w >= 24 && l.thread.w >= 30 && l.sidebar.w >= 24);
	assert_int_equal(l.list.w + 1 + l.thread.w + 1 + l.sidebar.w, 100);
}

static void
layout__folds_the_sidebar_below_100_columns_until_asked(void **state)
{
	struct layout_in in = { 80, 24, LAYOUT_LIST, 0, 1 };
	struct layout l;

	(void)state;
	layout_compute(&in, &l);
	assert_int_equal(l.panes, 2);
	assert_int_equal(l.sidebar.w, 0);
	assert_true(l.list.w >= 20 && l.thread.w >= 40);
	in.sidebar = 1;
	layout_compute(&in, &l);
	assert_int_equal(l.list.w, 0);
	assert_true(l.sidebar.w >= 20 && l.thread.w >= 40);
}

static void
layout__shows_one_pane_below_60_columns_by_focus(void **state)
{
	struct layout_in in = { 59, 24, LAYOUT_LIST, 0, 1 };
	struct layout l;

	(void)state;
	layout_compute(&in, &l);
	assert_int_equal(l.panes, 1);
	assert_int_equal(l.list.w, 59);
	assert_int_equal(l.thread.w, 0);
	in.focus = LAYOUT_THREAD;
	layout_compute(&in, &l);
	assert_int_equal(l.thread.w, 59);
	assert_int_equal(l.list.w, 0);
	in.focus = LAYOUT_COMPOSE;
	layout_compute(&in, &l);
	assert_int_equal(l.thread.w, 59);
}

static void
layout__compose_grows_with_the_draft_up_to_a_quarter(void **state)
{
	struct layout_in in = { 80, 24, LAYOUT_COMPOSE, 0, 3 };
	struct layout l;

	(void)state;
	layout_compute(&in, &l);
	assert_int_equal(l.compose.h, 3);
	assert_int_equal(l.compose.y + l.compose.h, 23);
	assert_int_equal(l.compose_rule, l.compose.y - 1);
	assert_int_equal(l.thread.h, l.compose_rule);
	in.compose_lines = 100;
	layout_compute(&in, &l);
	assert_int_equal(l.compose.h, 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout__fits_every_size_without_overlap),
		cmocka_unit_test(layout__shows_three_panes_from_100_columns),
		cmocka_unit_test(
		    layout__folds_the_sidebar_below_100_columns_until_asked),
		cmocka_unit_test(layout__shows_one_pane_below_60_columns_by_focus),
		cmocka_unit_test(
		    layout__compose_grows_with_the_draft_up_to_a_quarter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
