/*
 * A validating JSON scanner that works in place: it finds values and
 * their byte ranges without building a tree or copying, for large
 * documents read once (sync pages: a thousand entities each, whose JSON is
 * stored as it came). Everything is checked as it is skipped: strings
 * (escapes, UTF-8 is left to the caller), numbers, literals, nesting (at
 * most JSCAN_MAX_DEPTH). Never reads past end; needs no NUL.
 */
#ifndef GLIVI_JSCAN_H
#define GLIVI_JSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define JSCAN_MAX_DEPTH 64

enum jscan_type {
	JSCAN_ERROR,
	JSCAN_OBJECT,
	JSCAN_ARRAY,
	JSCAN_STRING,
	JSCAN_NUMBER,
	JSCAN_TRUE,
	JSCAN_FALSE,
	JSCAN_NULL,
};

/* A value: [start, end) of its text, and its type. */
struct jscan_val {
	enum jscan_type type;
	const char *start;
	const char *end;
};

/*
 * Scans one value at p (leading white space skipped) up to end; *next is
 * just after it. JSCAN_ERROR when it is not valid JSON.
 */
enum jscan_type jscan_value(const char *p, const char *end,
    struct jscan_val *, const char **next);
/* Whether [p, end) is exactly one valid JSON value (white space around). */
int jscan_document(const char *p, const char *end, struct jscan_val *);
/*
 * jscan_document that hands over an object's members as it checks them:
 * fn gets each key (as jscan_next gives it) and value, in order. The
 * document's type, or JSCAN_ERROR: then what fn was given is no document
 * (it may have been given members before the error). One pass where
 * jscan_document and a jscan_next walk make two.
 */
enum jscan_type jscan_document_members(const char *p, const char *end,
    void (*fn)(void *, const struct jscan_val *key,
    const struct jscan_val *value), void *arg);

/*
 * Iterates an object's members or an array's elements: start with
 * *cursor = NULL; each call gives the next (key is NULL for arrays; a
 * key's range excludes its quotes and is still escaped). Returns 1, 0 at
 * the end. The container must come from jscan_value, jscan_document or
 * jscan_next on a validated document: values are not checked again, only
 * skipped (a memchr per string).
 */
int jscan_next(const struct jscan_val *container, const char **cursor,
    struct jscan_val *key, struct jscan_val *value);
/*
 * jscan_next that leaves an object or array value unskipped: its end is
 * only a bound (its container's) until the caller, having read as much of
 * it as it wants with jscan_next from its own cursor (NULL: none read),
 * calls jscan_close, which sets its end and moves *cursor past it. A
 * value read this way is walked once instead of twice.
 */
int jscan_next_open(const struct jscan_val *container, const char **cursor,
    struct jscan_val *key, struct jscan_val *value);
void jscan_close(struct jscan_val *value, const char *inner,
    const char **cursor);
/* Whether a key (as jscan_next gives it) equals s, escapes unfolded. */
int jscan_key_is(const struct jscan_val *key, const char *s);

/* A string value unescaped into out (appended; \u0000 becomes U+FFFD). */
void jscan_string(const struct jscan_val *, struct buf *out);
/* An integer value (no fraction or exponent) within int64; -1 if not. */
int jscan_int(const struct jscan_val *, int64_t *);

#endif
