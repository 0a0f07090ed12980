/*
 * Canvas to ncursesw. Each canvas cell goes through cellmap, so what
 * ncurses holds measures what the layout counted; nothing but this file
 * calls curses, and it draws only what a canvas holds.
 */
#include "ui/term.h"

#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <curses.h>

#include "core/xalloc.h"
#include "ui/canvas.h"
#include "ui/cellmap.h"

struct term {
	SCREEN *screen;
	int colours;
	int full; /* the next draw repaints every row */
	int cursor;
	unsigned cx, cy;
	int bell;
};

/* Bracketed paste (a paste arrives as one event) and focus reports. */
#define MODES_ON "\033[?2004h\033[?1004h"
#define MODES_OFF "\033[?1004l\033[?2004l"

static void
put_raw(const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static int
no_color(void)
{
	const char *v = getenv("NO_COLOR");

	return v != NULL && *v != '\0';
}

struct term *
term_open(char **cause)
{
	const char *codeset = nl_langinfo(CODESET);
	struct term *t;

	if (strcmp(codeset, "UTF-8") != 0) {
		*cause = xasprintf("the locale's character set is %s, not "
		    "UTF-8; set LANG (for example LANG=C.UTF-8)", codeset);
		return NULL;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		*cause = xstrdup("not a terminal");
		return NULL;
	}
	t = xcalloc(1, sizeof *t);
	if ((t->screen = newterm(NULL, stdout, stdin)) == NULL) {
		*cause = xasprintf("cannot use terminal type '%s'",
		    getenv("TERM") != NULL ? getenv("TERM") : "");
		free(t);
		return NULL;
	}
	/* Every key is a key: C-c and C-z are bindings, not signals. */
	raw();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	leaveok(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (!no_color() && has_colors() && start_color() == OK) {
		use_default_colors();
		t->colours = 1;
	}
	t->full = 1;
	refresh();
	put_raw(MODES_ON);
	return t;
}

void
term_close(struct term *t)
{
	if (t == NULL)
		return;
	curs_set(1);
	endwin();
	put_raw(MODES_OFF);
	delscreen(t->screen);
	free(t);
}

void
term_size(const struct term *t, unsigned *w, unsigned *h)
{
	int y, x;

	(void)t;
	getmaxyx(stdscr, y, x);
	*w = x > 0 ? (unsigned)x : 0;
	*h = y > 0 ? (unsigned)y : 0;
}

void
term_resize(struct term *t)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resize_term(ws.ws_row, ws.ws_col);
	/* What the terminal kept of the old size is unknown: repaint all. */
	clearok(curscr, TRUE);
	t->full = 1;
}

int
term_has_colours(const struct term *t)
{
	return t->colours;
}

int
term_colour_count(const struct term *t)
{
	return t->colours ? COLORS : 0;
}

void
term_set_pair(struct term *t, int id, int fg, int bg)
{
	if (t->colours && id > 0 && id < COLOR_PAIRS)
		init_pair((short)id, (short)fg, (short)bg);
}

void
term_cursor(struct term *t, unsigned x, unsigned y)
{
	t->cursor = 1;
	t->cx = x;
	t->cy = y;
}

void
term_cursor_hide(struct term *t)
{
	t->cursor = 0;
}

void
term_bell(struct term *t)
{
	t->bell = 1;
}

void
term_suspend(struct term *t)
{
	put_raw(MODES_OFF);
	curs_set(1);
	endwin();
	(void)t;
}

void
term_resume(struct term *t)
{
	reset_prog_mode();
	put_raw(MODES_ON);
	term_resize(t);
	clearok(curscr, TRUE);
	t->full = 1;
}

void
term_redraw(struct term *t)
{
	clearok(curscr, TRUE);
	t->full = 1;
}

static attr_t
curses_attrs(const struct term *t, int a, short *pair)
{
	attr_t out = A_NORMAL;

	if (a & CANVAS_BOLD)
		out |= A_BOLD;
	if (a & CANVAS_DIM)
		out |= A_DIM;
	if (a & CANVAS_UNDERLINE)
		out |= A_UNDERLINE;
	if (a & CANVAS_REVERSE)
		out |= A_REVERSE;
	if (a & CANVAS_ITALIC)
		out |= A_ITALIC;
	*pair = 0;
	if (t->colours && CANVAS_PAIR_OF(a) < COLOR_PAIRS)
		*pair = (short)CANVAS_PAIR_OF(a);
	return out;
}

static void
draw_row(struct term *t, struct canvas *cv, unsigned y, unsigned w)
{
	struct canvas_cell_info ci;
	struct cellmap m;
	cchar_t cc;
	attr_t attrs;
	short pair;
	unsigned x, i;

	for (x = 0; x < w; x++) {
		if (canvas_cell(cv, x, y, &ci) != 0 || ci.width == 0)
			continue;
		cellmap_cell(ci.text, ci.len, ci.width, &m);
		attrs = curses_attrs(t, ci.attr, &pair);
		for (i = 0; i < m.n && x + i < w; i++) {
			setcchar(&cc, m.cell[i], attrs, pair, NULL);
			/* The bottom-right cell answers ERR but is drawn. */
			mvwadd_wch(stdscr, (int)y, (int)(x + i), &cc);
		}
	}
}

void
term_draw(struct term *t, struct canvas *cv)
{
	unsigned w, h, y;

	term_size(t, &w, &h);
	if (w > canvas_width(cv))
		w = canvas_width(cv);
	if (h > canvas_height(cv))
		h = canvas_height(cv);
	for (y = 0; y < h; y++) {
		if (t->full || canvas_row_dirty(cv, y))
			draw_row(t, cv, y, w);
	}
	if (t->cursor && t->cx < w && t->cy < h) {
		leaveok(stdscr, FALSE);
		wmove(stdscr, (int)t->cy, (int)t->cx);
		curs_set(1);
	} else {
		leaveok(stdscr, TRUE);
		curs_set(0);
	}
	wnoutrefresh(stdscr);
	doupdate();
	if (t->bell) {
		beep();
		t->bell = 0;
	}
	canvas_clean(cv);
	t->full = 0;
}
