/*
 * Keys as numbers and names. A key is a Unicode code point (what a
 * printable key types) or a named key, plus Ctrl, Meta (Alt) and Shift
 * bits. Names are what keymap files and the help screen use: "C-l",
 * "M-Enter", "PageUp", "F1", "?", "Space".
 *
 * Parsing normalises what a terminal cannot tell apart, so two spellings
 * of one key are one key: C-L is C-l, C-i is Tab, C-m is Enter, C-[ is
 * Escape, C-@ is C-Space, S-Tab is BTab. Shift combines only with named
 * keys (a shifted character is written as itself: "G", not "S-g"); Ctrl
 * only with a letter, Space, a named key or one of @ [ \ ] ^ _.
 */
#ifndef GLIVI_UI_KEY_H
#define GLIVI_UI_KEY_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t key_code;

#define KEYC_CTRL 0x01000000u
#define KEYC_META 0x02000000u
#define KEYC_SHIFT 0x04000000u
#define KEYC_MODS (KEYC_CTRL | KEYC_META | KEYC_SHIFT)
#define KEYC_BASE(k) ((k) & ~KEYC_MODS)

/* Named keys sit above every code point. */
#define KEYC_NAMED 0x00200000u
enum {
	KEYC_ENTER = KEYC_NAMED,
	KEYC_TAB,
	KEYC_BTAB,
	KEYC_ESCAPE,
	KEYC_BSPACE,
	KEYC_UP,
	KEYC_DOWN,
	KEYC_LEFT,
	KEYC_RIGHT,
	KEYC_HOME,
	KEYC_END,
	KEYC_PAGEUP,
	KEYC_PAGEDOWN,
	KEYC_INSERT,
	KEYC_DELETE,
	KEYC_F1,
	KEYC_F12 = KEYC_F1 + 11,
	KEYC_NAMED_END
};

/* Longest name key_name() writes, with its NUL. */
#define KEY_NAME_MAX 32

/*
 * Parses a key name; returns 0, or -1 with *cause set (allocated, no
 * location: the caller adds it).
 */
int key_parse(const char *name, key_code *, char **cause);
/* The canonical name (what key_parse reads back as the same key). */
void key_name(key_code, char out[KEY_NAME_MAX]);
/* A key that types text: a code point with neither Ctrl nor Meta. */
int key_is_text(key_code);

#endif
