/*
 * Whole-file reads and atomic writes.
 */
#include "core/fileutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"

char *
file_read_all(const char *path, size_t max, char **cause)
{
	struct buf b;
	char chunk[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		buf_add(&b, chunk, n);
		if (b.len > max) {
			fclose(f);
			buf_free(&b);
			*cause = xasprintf("%s: larger than %zu bytes", path, max);
			return NULL;
		}
	}
	fclose(f);
	if (b.len == 0) {
		*cause = xasprintf("%s: empty", path);
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

int
file_read_pem_pair(const char *cert_path, const char *key_path, char **cert,
    char **key, char **cause)
{
	*key = NULL;
	if ((*cert = file_read_all(cert_path, 1 << 20, cause)) == NULL)
		return -1;
	if ((*key = file_read_all(key_path, 1 << 20, cause)) == NULL) {
		free(*cert);
		*cert = NULL;
		return -1;
	}
	return 0;
}

void
file_free_secret(char *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, strlen(p));
	free(p);
}

int
file_write_atomic(const char *path, const char *text)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	int rc = -1;

	if (f != NULL) {
		fputs(text, f);
		if (fclose(f) == 0 && rename(tmp, path) == 0)
			rc = 0;
	}
	free(tmp);
	return rc;
}

int
file_write_ready(const char *path, const char *host, unsigned port)
{
	char *text = xasprintf("%s:%u\n", host, port);
	int rc = file_write_atomic(path, text);

	if (rc != 0)
		log_error("cannot write %s: %s", path, strerror(errno));
	free(text);
	return rc;
}
