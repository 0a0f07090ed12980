/*
 * The in-place JSON scanner (src/core/jscan.c) on arbitrary bytes: it
 * must never read outside the input, and for whatever it calls valid,
 * walking every member and element (as the cache does with sync pages),
 * unescaping every string and reading every integer must stay within the
 * value it came from. (cJSON is no oracle: it refuses lone surrogates,
 * which JSON allows, and takes things JSON does not.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jscan.h"

static void
walk(const struct jscan_val *v, const char *lo, const char *hi, int depth)
{
	struct jscan_val key, val;
	const char *cur = NULL;
	struct buf b;
	int64_t n;

	if (v->start < lo || v->end > hi || v->start >= v->end)
		abort();
	switch (v->type) {
	case JSCAN_OBJECT:
	case JSCAN_ARRAY:
		if (depth > JSCAN_MAX_DEPTH)
			abort();
		while (jscan_next(v, &cur, &key, &val)) {
			if (v->type == JSCAN_OBJECT && (key.start < v->start ||
			    key.end > v->end))
				abort();
			walk(&val, v->start, v->end, depth + 1);
		}
		break;
	case JSCAN_STRING:
		buf_init(&b);
		jscan_string(v, &b);
		/* Unescaping never makes a string longer than its text. */
		if (b.len > (size_t)(v->end - v->start))
			abort();
		if (b.len > 0 && memchr(b.data, '\0', b.len) != NULL)
			abort(); /* \u0000 becomes U+FFFD */
		buf_free(&b);
		break;
	case JSCAN_NUMBER:
		(void)jscan_int(v, &n);
		break;
	case JSCAN_ERROR:
		abort();
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes: any read past it is caught. */
	char *p = malloc(size ? size : 1);
	struct jscan_val doc;

	if (p == NULL)
		return 0;
	memcpy(p, data, size);
	if (jscan_document(p, p + size, &doc))
		walk(&doc, p, p + size, 0);
	free(p);
	return 0;
}
