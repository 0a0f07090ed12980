/*
 * Key bindings as data: which action (ui/commands.h) a key runs in which
 * context, loaded from files in the keymap language (docs/keymaps.md):
 *
 *	# a comment
 *	bind list j list.next
 *	bind list,thread ? app.help	# a comment after the words
 *	unbind global C-n
 *
 * Files load in order, each on top of what came before: the shipped
 * keymaps/default.keys, then keymaps/vi.keys or keymaps/emacs.keys if
 * chosen, then the user's own file. Within a file, and across files, a
 * later bind of the same key in the same context replaces the earlier one
 * (so a file may bind a key twice; the last wins). unbind of a key that is
 * not bound is not an error, so a user file works on top of any map.
 *
 * A file loads whole or not at all: on the first error nothing in it is
 * applied, and the error says "file:line: what".
 *
 * Lookup: the focused context's binding, else the global one. In the text
 * contexts (compose, search, prompt) a key that types text (no Ctrl, no
 * Meta) and is not bound in that context is text: the global bindings do
 * not see it, so a global "?" never stops anyone typing a question mark.
 */
#ifndef GLIVI_UI_KEYMAP_H
#define GLIVI_UI_KEYMAP_H

#include <stddef.h>

#include "ui/key.h"

struct buf;
struct keymap;

enum keymap_context {
	KEYMAP_GLOBAL,
	KEYMAP_LIST,
	KEYMAP_THREAD,
	KEYMAP_COMPOSE,
	KEYMAP_SEARCH,
	KEYMAP_PROMPT,
	KEYMAP_NCONTEXTS
};

const char *keymap_context_name(enum keymap_context);
/* The context of a name, or -1. */
int keymap_context_find(const char *);

struct keymap *keymap_new(void);
void keymap_free(struct keymap *);

/* Both return 0, or -1 with *cause ("file:line: what") and no change. */
int keymap_load_file(struct keymap *, const char *path, char **cause);
int keymap_load_string(struct keymap *, const char *name, const char *text,
    size_t len, char **cause);

void keymap_bind(struct keymap *, enum keymap_context, key_code, int cmd);
void keymap_unbind(struct keymap *, enum keymap_context, key_code);

/* The command for a key in a context (see the rules above), or -1. */
int keymap_lookup(const struct keymap *, enum keymap_context, key_code);
/* The binding in exactly this context, with no global fallback, or -1. */
int keymap_lookup_exact(const struct keymap *, enum keymap_context,
    key_code);

/* The keys of a command in one context, "j, Down", in the order bound. */
void keymap_keys(const struct keymap *, enum keymap_context, int cmd,
    struct buf *);

/*
 * Help for a context, from the live map: its own bindings, then the global
 * ones that reach it, each a line of keys, action and description, in the
 * order of the command table.
 */
void keymap_help(const struct keymap *, enum keymap_context, struct buf *);
/* Only the context's own bindings, headed by its name (for the docs). */
void keymap_help_own(const struct keymap *, enum keymap_context,
    struct buf *);

#endif
