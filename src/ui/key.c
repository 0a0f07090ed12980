/*
 * Key names both ways. The table of named keys is the one place their
 * spellings live; the first spelling of a key is the one shown in help.
 */
#include "ui/key.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/utf8.h"
#include "core/xalloc.h"

static const struct {
	const char *name;
	key_code key;
} key_names[] = {
	{ "Enter", KEYC_ENTER },
	{ "Tab", KEYC_TAB },
	{ "BTab", KEYC_BTAB },
	{ "Escape", KEYC_ESCAPE },
	{ "Space", ' ' },
	{ "BSpace", KEYC_BSPACE },
	{ "Up", KEYC_UP },
	{ "Down", KEYC_DOWN },
	{ "Left", KEYC_LEFT },
	{ "Right", KEYC_RIGHT },
	{ "Home", KEYC_HOME },
	{ "End", KEYC_END },
	{ "PageUp", KEYC_PAGEUP },
	{ "PageDown", KEYC_PAGEDOWN },
	{ "Insert", KEYC_INSERT },
	{ "Delete", KEYC_DELETE },
	{ "F1", KEYC_F1 },
	{ "F2", KEYC_F1 + 1 },
	{ "F3", KEYC_F1 + 2 },
	{ "F4", KEYC_F1 + 3 },
	{ "F5", KEYC_F1 + 4 },
	{ "F6", KEYC_F1 + 5 },
	{ "F7", KEYC_F1 + 6 },
	{ "F8", KEYC_F1 + 7 },
	{ "F9", KEYC_F1 + 8 },
	{ "F10", KEYC_F1 + 9 },
	{ "F11", KEYC_F1 + 10 },
	{ "F12", KEYC_F1 + 11 },
	/* Other spellings people write (tmux's and readline's among them). */
	{ "Return", KEYC_ENTER },
	{ "BackTab", KEYC_BTAB },
	{ "Esc", KEYC_ESCAPE },
	{ "Backspace", KEYC_BSPACE },
	{ "PgUp", KEYC_PAGEUP },
	{ "PPage", KEYC_PAGEUP },
	{ "PgDn", KEYC_PAGEDOWN },
	{ "NPage", KEYC_PAGEDOWN },
	{ "Ins", KEYC_INSERT },
	{ "IC", KEYC_INSERT },
	{ "Del", KEYC_DELETE },
	{ "DC", KEYC_DELETE },
};
#define N_KEY_NAMES (sizeof key_names / sizeof key_names[0])

static int
is_named(key_code base)
{
	return base >= KEYC_NAMED && base < KEYC_NAMED_END;
}

/* The base key of a name without modifiers, or -1. */
static int
parse_base(const char *s, key_code *base, char **cause)
{
	size_t n = strlen(s), i;
	uint32_t cp;

	for (i = 0; i < N_KEY_NAMES; i++) {
		if (strcasecmp(s, key_names[i].name) == 0) {
			*base = key_names[i].key;
			return 0;
		}
	}
	if (n == 0 || utf8_decode((const unsigned char *)s, n, &cp) != n) {
		*cause = xasprintf("unknown key name '%s'", s);
		return -1;
	}
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
		*cause = xstrdup("a key cannot be a control character");
		return -1;
	}
	*base = cp;
	return 0;
}

/* Ctrl: what terminals can send, folded to one spelling per key. */
static int
apply_ctrl(key_code *k, const char *name, char **cause)
{
	key_code base = KEYC_BASE(*k);

	if (base >= 'A' && base <= 'Z')
		base += 'a' - 'A';
	switch (base) {
	case 'i':
		*k = (*k & ~KEYC_CTRL & KEYC_MODS) | KEYC_TAB;
		return 0;
	case 'm':
		*k = (*k & ~KEYC_CTRL & KEYC_MODS) | KEYC_ENTER;
		return 0;
	case '[':
		*k = (*k & ~KEYC_CTRL & KEYC_MODS) | KEYC_ESCAPE;
		return 0;
	case '@':
		base = ' ';
		break;
	}
	if (!((base >= 'a' && base <= 'z') || is_named(base) ||
	    (base < 0x80 && base != '\0' &&
	    strchr(" \\]^_", (int)base) != NULL))) {
		*cause = xasprintf("'%s': Ctrl goes only with a letter, "
		    "Space, a named key or one of @ [ \\ ] ^ _", name);
		return -1;
	}
	*k = (*k & KEYC_MODS) | base;
	return 0;
}

static int
apply_shift(key_code *k, const char *name, char **cause)
{
	key_code base = KEYC_BASE(*k);

	if (base == KEYC_TAB) {
		*k = (*k & ~KEYC_SHIFT & KEYC_MODS) | KEYC_BTAB;
		return 0;
	}
	if (!is_named(base) || base == KEYC_BTAB) {
		*cause = xasprintf("'%s': Shift goes only with a named key; "
		    "write a shifted character as itself ('G', not 'S-g')",
		    name);
		return -1;
	}
	return 0;
}

int
key_parse(const char *name, key_code *out, char **cause)
{
	const char *s = name;
	key_code mods = 0, bit, k;

	/* "C-", "M-", "S-" are modifiers only when a key follows them. */
	while (s[0] != '\0' && s[1] == '-' && s[2] != '\0') {
		if (s[0] == 'C')
			bit = KEYC_CTRL;
		else if (s[0] == 'M')
			bit = KEYC_META;
		else if (s[0] == 'S')
			bit = KEYC_SHIFT;
		else
			break;
		if (mods & bit) {
			*cause = xasprintf("'%s': a modifier given twice",
			    name);
			return -1;
		}
		mods |= bit;
		s += 2;
	}
	if (parse_base(s, &k, cause) != 0)
		return -1;
	k |= mods;
	if ((mods & KEYC_SHIFT) && apply_shift(&k, name, cause) != 0)
		return -1;
	if ((mods & KEYC_CTRL) && apply_ctrl(&k, name, cause) != 0)
		return -1;
	*out = k;
	return 0;
}

void
key_name(key_code k, char out[KEY_NAME_MAX])
{
	key_code base = KEYC_BASE(k);
	size_t n = 0, i;
	uint32_t cp = base;

	if (k & KEYC_CTRL)
		n += (size_t)snprintf(out + n, KEY_NAME_MAX - n, "C-");
	if (k & KEYC_META)
		n += (size_t)snprintf(out + n, KEY_NAME_MAX - n, "M-");
	if (k & KEYC_SHIFT)
		n += (size_t)snprintf(out + n, KEY_NAME_MAX - n, "S-");
	for (i = 0; i < N_KEY_NAMES; i++) {
		if (key_names[i].key == base) {
			snprintf(out + n, KEY_NAME_MAX - n, "%s",
			    key_names[i].name);
			return;
		}
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		snprintf(out + n, KEY_NAME_MAX - n, "<%#x>", (unsigned)cp);
		return;
	}
	/* UTF-8 by hand: core/utf8 only decodes. */
	if (cp < 0x80)
		out[n++] = (char)cp;
	else if (cp < 0x800) {
		out[n++] = (char)(0xc0 | cp >> 6);
		out[n++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[n++] = (char)(0xe0 | cp >> 12);
		out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[n++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[n++] = (char)(0xf0 | cp >> 18);
		out[n++] = (char)(0x80 | (cp >> 12 & 0x3f));
		out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[n++] = (char)(0x80 | (cp & 0x3f));
	}
	out[n] = '\0';
}

int
key_is_text(key_code k)
{
	return (k & (KEYC_CTRL | KEYC_META)) == 0 && KEYC_BASE(k) < KEYC_NAMED;
}
