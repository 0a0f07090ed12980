/*
 * Small whole-file helpers for the programs' start-up: reading a PEM file,
 * and writing a file atomically (ready files that tests and scripts wait
 * on must never be seen half-written).
 */
#ifndef GLIVI_FILEUTIL_H
#define GLIVI_FILEUTIL_H

#include <stddef.h>

/* The whole file, NUL-terminated; refuses an empty one or one over max. */
char *file_read_all(const char *path, size_t max, char **cause);
/* A TLS certificate chain and its key, each at most 1 MiB; both or
 * neither are returned. Free the key with file_free_secret. */
int file_read_pem_pair(const char *cert_path, const char *key_path,
    char **cert, char **key, char **cause);
void file_free_secret(char *);
/* Writes text to path.tmp, then renames it over path. */
int file_write_atomic(const char *path, const char *text);
/* The ready file of a server: "host:port\n", written atomically; logs. */
int file_write_ready(const char *path, const char *host, unsigned port);

#endif
