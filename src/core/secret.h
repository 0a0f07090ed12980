/*
 * Secrets (app secret, verify token, access token, agent token) live in
 * files that only their owner may read. Reading one checks that first.
 */
#ifndef GLIVI_SECRET_H
#define GLIVI_SECRET_H

#include <stddef.h>

/*
 * Reads a secret file: refuses one that group or others can access, one
 * that is empty, or one larger than 64 KiB; strips one trailing newline.
 * Returns the secret (caller frees, ideally with secret_free) or NULL with
 * *cause set.
 */
char *secret_read_file(const char *path, size_t *len, char **cause);
void secret_free(char *, size_t);

#endif
