/*
 * Secret files: permission check before reading, wiped on free.
 */
#include "core/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/xalloc.h"

#define SECRET_MAX (64 * 1024)

char *
secret_read_file(const char *path, size_t *len, char **cause)
{
	struct stat st;
	char *p;
	ssize_t n;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		*cause = xasprintf("%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		*cause = xasprintf("%s: mode %04o lets group or others read "
		    "it; a secret file must be private (chmod 600 %s)", path,
		    (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return NULL;
	}
	if (st.st_size > SECRET_MAX) {
		*cause = xasprintf("%s: larger than 64 KiB; not a secret",
		    path);
		close(fd);
		return NULL;
	}
	p = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, p + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got > 0 && p[got - 1] == '\n')
		got--;
	if (got > 0 && p[got - 1] == '\r')
		got--;
	p[got] = '\0';
	if (got == 0) {
		*cause = xasprintf("%s: empty", path);
		free(p);
		return NULL;
	}
	if (memchr(p, '\n', got) != NULL || memchr(p, '\0', got) != NULL) {
		*cause = xasprintf("%s: holds more than one line", path);
		secret_free(p, got);
		return NULL;
	}
	*len = got;
	return p;
}

void
secret_free(char *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}
