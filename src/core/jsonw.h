/*
 * A JSON text writer: appends members and values to a buf without
 * building a tree first. The output is what cJSON_PrintUnformatted would
 * print for the same values (same escapes, integers as digits), so text
 * from either can be compared byte for byte. For hot paths such as sync
 * pages, where building and freeing a cJSON tree per entity cost more
 * than reading the store.
 */
#ifndef GLIVI_JSONW_H
#define GLIVI_JSONW_H

#include <stdint.h>

#include "core/buf.h"

#define JW_MAX_DEPTH 16

struct jw {
	struct buf *b;
	int depth;
	unsigned char need_comma[JW_MAX_DEPTH];
};

void jw_init(struct jw *, struct buf *);
/* key is NULL inside an array or at the top level. */
void jw_object(struct jw *, const char *key);
void jw_object_end(struct jw *);
void jw_array(struct jw *, const char *key);
void jw_array_end(struct jw *);
void jw_string(struct jw *, const char *key, const char *s); /* NULL: null */
void jw_int(struct jw *, const char *key, int64_t);
void jw_bool(struct jw *, const char *key, int);
void jw_null(struct jw *, const char *key);
/* Text that already is JSON, copied as it is; NULL: null. */
void jw_raw(struct jw *, const char *key, const char *json);
/* A string escaped as cJSON escapes it, quotes included. */
void jw_escape(struct buf *, const char *s);

#endif
