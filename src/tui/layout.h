/*
 * Where each pane goes for a terminal size: three panes (list | thread |
 * sidebar) from 100 columns, two below that (the sidebar folds away; its
 * key shows it in the list's place), one below 60 (the list or the
 * thread, whichever has the focus), and below the minimum a "terminal too
 * small" screen. The compose area spans the width above the status bar.
 * Pure arithmetic, so it is tested for every size.
 */
#ifndef GLIVI_TUI_LAYOUT_H
#define GLIVI_TUI_LAYOUT_H

#define LAYOUT_MIN_W 30
#define LAYOUT_MIN_H 8
#define LAYOUT_THREE_W 100 /* from here, all three panes */
#define LAYOUT_TWO_W 60	   /* from here, list and thread side by side */

struct rect {
	unsigned x, y, w, h; /* w or h 0: not shown */
};

enum layout_focus { LAYOUT_LIST, LAYOUT_THREAD, LAYOUT_COMPOSE };

struct layout_in {
	unsigned w, h;
	enum layout_focus focus;
	int sidebar;	      /* the agent asked for the sidebar */
	unsigned compose_lines; /* lines the draft wants (at least 1) */
};

struct layout {
	int too_small;
	int panes; /* 1, 2 or 3 side by side */
	struct rect list, thread, sidebar, compose, status;
	/* Column of the separator after list and after thread (0: none). */
	unsigned sep1, sep2;
	/* The row between the panes and the compose area. */
	unsigned compose_rule;
};

void layout_compute(const struct layout_in *, struct layout *);

#endif
