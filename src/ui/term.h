/*
 * The terminal, through ncursesw: the only file that includes curses. It
 * copies a canvas to the screen (the rows that changed, then one
 * doupdate) and knows the terminal's size. It never decides what to draw,
 * and it never reads the keyboard: the screen reads stdin itself (see
 * ui/input.h), and term_open turns on bracketed paste and focus events
 * for it.
 */
#ifndef GLIVI_UI_TERM_H
#define GLIVI_UI_TERM_H

struct canvas;
struct term;

/*
 * Takes over the terminal on stdin/stdout. The locale must already be set
 * (setlocale(LC_ALL, "")) and be UTF-8. Colours are off when NO_COLOR is
 * set and not empty, or the terminal has none. Returns NULL with *cause.
 */
struct term *term_open(char **cause);
/* Gives the terminal back as it was. */
void term_close(struct term *);

void term_size(const struct term *, unsigned *w, unsigned *h);
/* After SIGWINCH: asks the tty for its size and tells ncurses. */
void term_resize(struct term *);

int term_has_colours(const struct term *);
/* How many colours the terminal has (0 without colours). */
int term_colour_count(const struct term *);
/* Defines colour pair id (CANVAS_PAIR) as fg on bg (-1: default). */
void term_set_pair(struct term *, int id, int fg, int bg);

/*
 * Where the terminal's cursor shows after the next draw (a text field has
 * the focus), or hidden.
 */
void term_cursor(struct term *, unsigned x, unsigned y);
void term_cursor_hide(struct term *);
/* Rings the bell with the next draw. */
void term_bell(struct term *);
/*
 * Gives the terminal back for a while (an editor runs in it) and takes it
 * again; the next draw repaints everything.
 */
void term_suspend(struct term *);
void term_resume(struct term *);

/* Shows the canvas: its dirty rows, or all of them after a redraw. */
void term_draw(struct term *, struct canvas *);
/* The next term_draw repaints the whole screen (Ctrl+L). */
void term_redraw(struct term *);

#endif
