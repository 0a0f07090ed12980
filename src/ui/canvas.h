/*
 * The screen as data: a grid of cells that views draw into and that tests
 * read back as text (canvas_dump). One file (term.c) copies a canvas to the
 * terminal; nothing here knows about curses.
 *
 * A cell holds one grapheme cluster (see ui/text.h for widths) and its
 * attributes. A wide cluster takes two cells: the cluster and, to its
 * right, a continuation cell. The canvas keeps that pairing whole: a
 * cluster never straddles the clip edge (the last column is padded with a
 * space instead), and writing over either half of a wide cluster blanks
 * the other half. Zero-width clusters (format characters, controls) are
 * never stored, an invalid byte is stored as U+FFFD, and a combining mark
 * with no base is stored on a space, so what is drawn takes exactly the
 * columns the layout counted.
 *
 * Each row has a dirty bit, set only when a write changes a cell, so views
 * may redraw everything on each pass and the terminal still gets only the
 * rows that changed.
 */
#ifndef GLIVI_UI_CANVAS_H
#define GLIVI_UI_CANVAS_H

#include <stddef.h>

struct buf;
struct canvas;

/*
 * Attributes: bits for the look, and a colour pair id that the theme
 * resolves (0 is the terminal's default colours).
 */
#define CANVAS_BOLD 0x01
#define CANVAS_DIM 0x02
#define CANVAS_UNDERLINE 0x04
#define CANVAS_REVERSE 0x08
#define CANVAS_ITALIC 0x10
#define CANVAS_PAIR(n) (((n)&0xff) << 8)
#define CANVAS_PAIR_OF(attr) (((attr) >> 8) & 0xff)

/* Longest cluster a cell keeps; longer ones (stacks of marks) are cut. */
#define CANVAS_CLUSTER_MAX 64

struct canvas *canvas_new(unsigned w, unsigned h);
void canvas_free(struct canvas *);
/* New size, every cell blank and every row dirty. */
void canvas_resize(struct canvas *, unsigned w, unsigned h);
unsigned canvas_width(const struct canvas *);
unsigned canvas_height(const struct canvas *);

/* Every cell a space with no attributes; rows that change become dirty. */
void canvas_clear(struct canvas *);

/*
 * Limits drawing to a rectangle (a pane), clipped to the canvas; the
 * coordinates stay those of the whole canvas. Reset with canvas_unclip.
 */
void canvas_clip(struct canvas *, unsigned x, unsigned y, unsigned w,
    unsigned h);
void canvas_unclip(struct canvas *);

/*
 * Draws s on row y from column x, cluster by cluster, up to the clip
 * edge. Returns the column after the last cell written (x when nothing
 * was). A newline is a control: it takes no column; wrap first.
 */
unsigned canvas_put(struct canvas *, unsigned x, unsigned y, const char *s,
    size_t len, int attr);
/* The same for a NUL-terminated string. */
unsigned canvas_puts(struct canvas *, unsigned x, unsigned y, const char *s,
    int attr);

/* Fills a rectangle with one cluster (" " to blank it). */
void canvas_fill(struct canvas *, unsigned x, unsigned y, unsigned w,
    unsigned h, const char *cluster, int attr);
/* Lines and boxes in Unicode box drawing characters ("─", "│", "┌"...). */
void canvas_hline(struct canvas *, unsigned x, unsigned y, unsigned w,
    int attr);
void canvas_vline(struct canvas *, unsigned x, unsigned y, unsigned h,
    int attr);
void canvas_box(struct canvas *, unsigned x, unsigned y, unsigned w,
    unsigned h, int attr);

/*
 * One cell, for the terminal backend and tests. Returns 0 and fills the
 * fields, or -1 outside the canvas. The right half of a wide cluster has
 * width 0 and empty text.
 */
struct canvas_cell_info {
	const char *text; /* not NUL-terminated */
	size_t len;
	unsigned width;
	int attr;
};
int canvas_cell(const struct canvas *, unsigned x, unsigned y,
    struct canvas_cell_info *);

int canvas_row_dirty(const struct canvas *, unsigned y);
/* After the terminal has been brought up to date. */
void canvas_clean(struct canvas *);

/*
 * The screen as text: one line per row, each cluster once (the right half
 * of a wide one is skipped), trailing spaces trimmed, each line ending in
 * "\n". Appends to out.
 */
void canvas_dump(const struct canvas *, struct buf *);

#endif
