/*
 * A growable byte buffer, always NUL-terminated so it can be used as a
 * string. Used for request bodies, response text and generated files.
 */
#ifndef GLIVI_BUF_H
#define GLIVI_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *);
void buf_free(struct buf *);
void buf_reset(struct buf *);
/* Room for extra more bytes and the NUL after them (data may move). */
void buf_reserve(struct buf *, size_t extra);
void buf_add(struct buf *, const void *, size_t);
void buf_adds(struct buf *, const char *);
void buf_printf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
char *buf_steal(struct buf *);

#endif
