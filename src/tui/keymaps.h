/*
 * The key maps shipped in keymaps/, compiled into the program (the build
 * generates keymaps_data.c from the files).
 */
#ifndef GLIVI_TUI_KEYMAPS_H
#define GLIVI_TUI_KEYMAPS_H

/* The text of keymaps/NAME.keys, or NULL when there is no such map. */
const char *keymaps_builtin(const char *name);

#endif
