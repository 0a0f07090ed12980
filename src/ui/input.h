/*
 * Terminal input: the bytes a terminal sends, turned into keys (ui/key.h),
 * bracketed pastes and focus reports. Pure: no terminal, no clock, no I/O.
 * The screen reads stdin itself, feeds what it read, and owns the timer
 * that settles a lone ESC.
 *
 *	input_feed(in, bytes, n);
 *	while (input_next(in, &ev))
 *		handle(&ev);
 *	if (input_pending(in) == INPUT_PENDING_KEY)
 *		arm a short timer (25-50 ms) that calls input_flush() and
 *		drains again;
 *	else if (input_pending(in) == INPUT_PENDING_PASTE)
 *		arm a long one (a second or two) that does the same.
 *
 * What is understood (the xterm family, which is what every terminal
 * emulator of note speaks, plus the Linux console and rxvt):
 *
 *  - UTF-8 text, one key per code point; each invalid byte is U+FFFD, and
 *    C1 control code points are dropped;
 *  - C0 controls: Tab, Enter (\r and \n), BSpace (0x7f and 0x08, so C-h
 *    never arrives as such), Escape, C-Space (NUL), C-a to C-z and
 *    C-\ C-] C-^ C-_;
 *  - ESC before a key is Meta: "\ex" is M-x, "\e\r" M-Enter, "\e\e[A"
 *    M-Up; ESC ESC alone is M-Escape;
 *  - CSI and SS3 keys with xterm's ";mod" parameter: arrows, Home, End,
 *    Insert, Delete, PageUp, PageDown, F1-F12 (SS3, "\e[11~"-"\e[24~",
 *    the Linux console's "\e[[A"-"\e[[E"), BTab "\e[Z", rxvt's "\e[a",
 *    "\eOa" and "\e[2^"-style modifiers, the keypad in application mode;
 *  - xterm's modifyOtherKeys "\e[27;mod;code~" and the CSI u form
 *    "\e[code;modu" (kitty's, without its release events);
 *  - focus reports "\e[I" and "\e[O" (DEC mode 1004);
 *  - bracketed paste "\e[200~ ... \e[201~" (DEC mode 2004), delivered as
 *    one event.
 *
 * Keys are normalised as key_parse() spells them, so a keymap lookup finds
 * them: Ctrl with an upper-case letter is the lower-case one, C-i is Tab,
 * C-m Enter, C-[ Escape, S-Tab BTab, and Shift with a character is the
 * shifted character ("A", not S-a). Alt from a modifier parameter is Meta.
 * Super, Hyper and lock bits are ignored.
 *
 * Any other escape sequence, and a malformed one, is reported whole as
 * INPUT_UNKNOWN (the key-dump mode shows it; everything else ignores it),
 * never typed as text. A sequence stops being kept at INPUT_SEQ_MAX bytes:
 * the rest of it is still read and dropped.
 *
 * The answer does not depend on how the bytes were split between feeds:
 * a sequence fed one byte at a time gives the same events as fed whole.
 * Only input_flush() cuts: it says no more bytes of what is held will come.
 */
#ifndef GLIVI_UI_INPUT_H
#define GLIVI_UI_INPUT_H

#include <stddef.h>

#include "ui/key.h"

struct buf;
struct input;

/* Longest escape sequence kept; a longer one is dropped whole. */
#define INPUT_SEQ_MAX 32
/* Most bytes of text a paste event carries; the rest is dropped. */
#define INPUT_PASTE_MAX 65536

enum input_type {
	INPUT_KEY,
	INPUT_PASTE,
	INPUT_FOCUS_IN,
	INPUT_FOCUS_OUT,
	INPUT_UNKNOWN /* a sequence not understood: raw has its bytes */
};

/* Flags of a paste. */
#define INPUT_PASTE_TRUNCATED 0x1    /* text past INPUT_PASTE_MAX dropped */
#define INPUT_PASTE_UNTERMINATED 0x2 /* ended by input_flush(), not 201~ */

/*
 * An event. Its pointers are the input's and stay valid until the next
 * call of any input_* function on it.
 *
 * A paste's text is what a user means to type, so it is cleaned as the
 * editor cleans typed text: CR LF and a lone CR (what most terminals send
 * for a pasted line break) are "\n", and then utf8_sanitize() with
 * UTF8_KEEP_NEWLINES | UTF8_DROP_CONTROLS: controls (ESC among them, so
 * an escape sequence inside a paste is left as its printable rest) are
 * dropped, tabs are spaces, invalid UTF-8 and bidi overrides are U+FFFD.
 * It is valid UTF-8 with no control but "\n", at most INPUT_PASTE_MAX
 * bytes, cut between grapheme clusters when cut.
 */
struct input_event {
	enum input_type type;
	key_code key;	  /* INPUT_KEY */
	const char *text; /* INPUT_PASTE, NUL-terminated */
	size_t len;
	int flags; /* INPUT_PASTE_* */
	/*
	 * The bytes the event came from, for the key-dump mode: a key's or
	 * a sequence's (at most INPUT_SEQ_MAX), none for a paste.
	 */
	const char *raw;
	size_t rawlen;
};

struct input *input_new(void);
void input_free(struct input *);

/* Takes a copy of bytes read from the terminal; drain with input_next. */
void input_feed(struct input *, const char *, size_t);
/* The next event: 1 and *ev filled, or 0 when more bytes are needed. */
int input_next(struct input *, struct input_event *);

/* What input_next is waiting for when it returns 0. */
#define INPUT_PENDING_NONE 0
#define INPUT_PENDING_KEY 1   /* an ESC, a partial sequence or character */
#define INPUT_PENDING_PASTE 2 /* inside a paste whose end has not come */
int input_pending(const struct input *);

/*
 * No more of what is held is coming: input_next then gives it as keys (a
 * lone ESC is Escape, "\e[" is M-[, "\eO" M-O, a partial character
 * U+FFFD, a longer partial sequence INPUT_UNKNOWN) and ends a paste with
 * what it has (INPUT_PASTE_UNTERMINATED). Bytes fed after the call are
 * read after that.
 */
void input_flush(struct input *);

/*
 * For the key-dump mode: what the bytes parse to, one line per event,
 * appended to out: the bytes in caret notation ("^[[1;5A"; bytes that are
 * not printable UTF-8 as "\xNN"), then in hex, then the key's name or
 * what else it is:
 *
 *	^[[1;5A  1b 5b 31 3b 35 41  C-Up
 *
 * The bytes are parsed alone and flushed at the end, so describe an
 * event's raw bytes, or whatever one read() returned.
 */
void input_describe(const char *, size_t, struct buf *out);

#endif
