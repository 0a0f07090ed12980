/* Pane geometry; see layout.h. */
#include "tui/layout.h"

#include <string.h>

static unsigned
clampu(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void
layout_compute(const struct layout_in *in, struct layout *l)
{
	unsigned body, compose, x, list_w, side_w;
	int side = in->sidebar;

	memset(l, 0, sizeof *l);
	if (in->w < LAYOUT_MIN_W || in->h < LAYOUT_MIN_H) {
		l->too_small = 1;
		return;
	}
	/* Status bar on the last row; the draft above it, with a rule. */
	l->status = (struct rect){ 0, in->h - 1, in->w, 1 };
	compose = clampu(in->compose_lines, 1, in->h / 4 > 1 ? in->h / 4 : 1);
	body = in->h - 1 - compose - 1;
	l->compose = (struct rect){ 0, in->h - 1 - compose, in->w, compose };
	l->compose_rule = body;

	if (in->w >= LAYOUT_THREE_W) {
		l->panes = 3;
		list_w = clampu(in->w * 28 / 100, 24, 44);
		side_w = clampu(in->w * 22 / 100, 24, 40);
		l->list = (struct rect){ 0, 0, list_w, body };
		l->sep1 = list_w;
		x = list_w + 1;
		l->thread = (struct rect){ x, 0, in->w - x - side_w - 1, body };
		l->sep2 = in->w - side_w - 1;
		l->sidebar = (struct rect){ in->w - side_w, 0, side_w, body };
		return;
	}
	if (in->w >= LAYOUT_TWO_W) {
		/* The sidebar, when asked for, takes the list's place. */
		l->panes = 2;
		list_w = clampu(in->w * 35 / 100, 20, 34);
		if (side)
			l->sidebar = (struct rect){ 0, 0, list_w, body };
		else
			l->list = (struct rect){ 0, 0, list_w, body };
		l->sep1 = list_w;
		x = list_w + 1;
		l->thread = (struct rect){ x, 0, in->w - x, body };
		return;
	}
	/* One pane: what has the focus (compose writes to the thread). */
	l->panes = 1;
	if (side)
		l->sidebar = (struct rect){ 0, 0, in->w, body };
	else if (in->focus == LAYOUT_LIST)
		l->list = (struct rect){ 0, 0, in->w, body };
	else
		l->thread = (struct rect){ 0, 0, in->w, body };
}
