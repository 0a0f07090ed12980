/*
 * The screen's looks, by meaning. Panes draw with these names, never with
 * colours: the theme (screen.c) maps each pair to colours, and on a
 * monochrome terminal or with NO_COLOR only the attribute bits show, so
 * every distinction that matters (focus, inbound and outbound, internal
 * notes, failures) is carried by the bits or by text as well, never by
 * colour alone.
 */
#ifndef GLIVI_TUI_THEME_H
#define GLIVI_TUI_THEME_H

#include "ui/canvas.h"

enum theme_pair {
	THEME_PAIR_DEFAULT, /* the terminal's own colours */
	THEME_PAIR_INBOUND,
	THEME_PAIR_OUTBOUND,
	THEME_PAIR_NOTE,
	THEME_PAIR_SYSTEM,
	THEME_PAIR_SELECT,
	THEME_PAIR_STATUS,
	THEME_PAIR_ERROR,
	THEME_PAIR_WARN,
	THEME_PAIR_OK,
	THEME_PAIR_UNREAD,
	THEME_PAIR_LABEL,
	THEME_PAIR_BORDER,
	THEME_PAIR_COUNT
};

#define THEME_NORMAL 0
#define THEME_INBOUND CANVAS_PAIR(THEME_PAIR_INBOUND)
#define THEME_OUTBOUND CANVAS_PAIR(THEME_PAIR_OUTBOUND)
/* Internal notes: reversed as well, unmistakable without colour. */
#define THEME_NOTE (CANVAS_PAIR(THEME_PAIR_NOTE) | CANVAS_REVERSE)
#define THEME_SYSTEM (CANVAS_PAIR(THEME_PAIR_SYSTEM) | CANVAS_DIM)
/* The selected row of the focused pane; unfocused, only bold. */
#define THEME_SELECT (CANVAS_PAIR(THEME_PAIR_SELECT) | CANVAS_REVERSE)
#define THEME_SELECT_UNFOCUSED CANVAS_BOLD
#define THEME_STATUS (CANVAS_PAIR(THEME_PAIR_STATUS) | CANVAS_REVERSE)
#define THEME_ERROR (CANVAS_PAIR(THEME_PAIR_ERROR) | CANVAS_BOLD)
#define THEME_WARN (CANVAS_PAIR(THEME_PAIR_WARN) | CANVAS_BOLD)
#define THEME_OK CANVAS_PAIR(THEME_PAIR_OK)
#define THEME_UNREAD (CANVAS_PAIR(THEME_PAIR_UNREAD) | CANVAS_BOLD)
#define THEME_LABEL CANVAS_PAIR(THEME_PAIR_LABEL)
#define THEME_DIM CANVAS_DIM
#define THEME_TITLE CANVAS_BOLD
#define THEME_BORDER CANVAS_PAIR(THEME_PAIR_BORDER)
#define THEME_BORDER_FOCUS (CANVAS_PAIR(THEME_PAIR_BORDER) | CANVAS_BOLD)

#endif
