/*
 * Allocation that never returns NULL: running out of memory is not an error
 * the programs can recover from, so these abort with a message instead.
 */
#ifndef GLIVI_XALLOC_H
#define GLIVI_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
/* n * size bytes, refusing a product that overflows. */
void *xreallocarray(void *, size_t n, size_t size);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
char *xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
