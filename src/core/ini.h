/*
 * A small INI reader: "[section]" headers, "key = value" lines, ";" or "#"
 * comments (whole-line, or after whitespace), double-quoted values. It only
 * tokenises; what keys mean is the business of an options table.
 */
#ifndef GLIVI_INI_H
#define GLIVI_INI_H

#include <stddef.h>

/*
 * Called once per section header with key == NULL, then once per key.
 * Return 0, or -1 with *cause set to an allocated reason (no location: the
 * parser prefixes "file:line: ").
 */
typedef int (*ini_cb)(void *ctx, const char *section, const char *key,
    const char *value, char **cause);

int ini_parse_file(const char *path, ini_cb, void *ctx, char **cause);
int ini_parse_string(const char *name, const char *text, size_t len, ini_cb,
    void *ctx, char **cause);

#endif
