/*
 * The line editor of the compose area, the search box and the prompt: a
 * UTF-8 text, a cursor, a one-entry kill ring, and drawing into a canvas
 * rectangle with its own vertical scroll. It knows commands by id
 * (ui/commands.h), not keys; the screen looks keys up and calls in.
 *
 * The text is always valid UTF-8 without controls (a multi-line editor
 * keeps "\n"), and the cursor always sits between two grapheme clusters:
 * moving and deleting go a whole cluster at a time, so a ZWJ emoji, a
 * flag or a letter with its combining marks is never split. When an edit
 * joins clusters around the cursor (a mark typed at the start of a line
 * whose first character is a lone mark, two halves of a flag brought
 * together), the cursor moves to the nearest boundary: after an insertion
 * past what was inserted, after a deletion before.
 *
 * Lines: the text's own lines end at "\n"; rows are what edit_draw shows,
 * the lines wrapped with text_wrap() to the width of the last draw. Home,
 * End and the kills work on lines, Up and Down on rows (keeping the
 * column across a run of them, as editors do).
 */
#ifndef GLIVI_UI_EDIT_H
#define GLIVI_UI_EDIT_H

#include <stddef.h>

#include "ui/key.h"

struct canvas;
struct edit;

/* Most bytes of text an editor holds; inserts past it are refused. */
#define EDIT_MAX 65536

/* A search box or prompt: newlines typed or pasted become spaces. */
#define EDIT_SINGLE_LINE 0x1

struct edit *edit_new(int flags);
void edit_free(struct edit *);

/*
 * Runs an editing command: CMD_EDIT_* and CMD_COMPOSE_NEWLINE (refused by
 * a single-line editor). Returns -1 when cmd is none of those (the caller
 * handles it), else what changed: EDIT_MOVED, EDIT_CHANGED (the text, and
 * maybe the cursor), or 0 when nothing did (Left at the start, Up on the
 * first row, a yank with an empty kill ring or past EDIT_MAX), which a
 * prompt may take as "go further" (Up on the first row: history).
 *
 * The kill commands (delete-word-back, delete-word, kill-to-end,
 * kill-to-start) put what they delete in the kill ring, and a run of them
 * adds up there, as in readline; yank inserts it. Kill-to-end at the end
 * of a line deletes the newline, kill-to-start at its start the one before.
 * Words are runs of letters, digits and marks, as readline's.
 */
#define EDIT_MOVED 0x1
#define EDIT_CHANGED 0x2
int edit_command(struct edit *, int cmd);

/*
 * Inserts text at the cursor, cleaned with utf8_sanitize(UTF8_DROP_CONTROLS,
 * and UTF8_KEEP_NEWLINES unless single-line): controls dropped, tabs
 * spaces, invalid UTF-8 and bidi overrides U+FFFD. Returns 0, or -1 and
 * inserts nothing when the text would pass EDIT_MAX bytes.
 */
int edit_insert(struct edit *, const char *, size_t);
/* The same for a key that types text (key_is_text); -1 for another key. */
int edit_insert_key(struct edit *, key_code);

/* The text, NUL-terminated (valid until the next change); len may be NULL. */
const char *edit_text(const struct edit *, size_t *len);
/* The cursor, in bytes into the text. */
size_t edit_cursor(const struct edit *);
/* Empties the text; the kill ring stays. */
void edit_clear(struct edit *);
/* Replaces the text (cleaned as edit_insert does), cursor at its end;
 * -1 and no change when it would pass EDIT_MAX. */
int edit_set(struct edit *, const char *, size_t);

/* What WhatsApp's 4,096-character limit counts: UTF-16 code units. */
size_t edit_utf16_length(const struct edit *);
/* Lines of the text: newlines plus one. */
size_t edit_lines(const struct edit *);
/*
 * Rows edit_draw() needs to show everything at width w, one more when the
 * cursor sits past a full last row (so a compose area can grow to fit).
 */
size_t edit_rows(struct edit *, unsigned w);

/*
 * Draws the text wrapped to w columns into the rectangle (x, y, w, h),
 * blanking what the text does not cover, scrolled so that the cursor's
 * row is in view (the scroll is kept between draws and moves only as far
 * as it must). Writes nothing outside the rectangle. *cursor_x and
 * *cursor_y get the cell for the terminal's cursor, inside the rectangle:
 * where the next character typed will appear, which after a full row is
 * the start of the next. With w or h 0 nothing is drawn and the cursor
 * is (x, y). The width is kept for Up and Down.
 */
void edit_draw(struct edit *, struct canvas *, unsigned x, unsigned y,
    unsigned w, unsigned h, unsigned *cursor_x, unsigned *cursor_y);

#endif
