/*
 * The in-place JSON scanner (src/core/jscan.c) on arbitrary bytes: it
 * must never read outside the input, and for whatever it calls valid,
 * walking every member and element (as the cache does with sync pages),
 * unescaping every string and reading every integer must stay within the
 * value it came from. (cJSON is no oracle: it refuses lone surrogates,
 * which JSON allows, and takes things JSON does not.) wa_text_redundant,
 * which reads a stored message object the same way, rides along: it must
 * agree with itself whatever the bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jscan.h"
#include "core/wa.h"

static void
walk(const struct jscan_val *v, const char *lo, const char *hi, int depth)
{
	struct jscan_val key, val, chk;
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
			/* Skipping agrees with scanning and checking. */
			if (jscan_value(val.start, v->end, &chk, NULL) !=
			    val.type || chk.end != val.end)
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

/*
 * The same container read with jscan_next_open: every member, opened and
 * closed after reading none, some or all of it, ends where jscan_next
 * says, and the walk goes on from there.
 */
static void
walk_open(const struct jscan_val *v)
{
	struct jscan_val key, val, key2, val2, in_key, in_val;
	const char *cur = NULL, *cur2 = NULL, *inner;
	unsigned i = 0;

	if (v->type != JSCAN_OBJECT && v->type != JSCAN_ARRAY)
		return;
	while (jscan_next(v, &cur, &key, &val)) {
		if (!jscan_next_open(v, &cur2, &key2, &val2) ||
		    val2.start != val.start || val2.type != val.type)
			abort();
		inner = NULL;
		for (unsigned n = 0; n < i % 3 && jscan_next(&val2, &inner,
		    &in_key, &in_val); n++)
			;
		if (i % 3 == 2) /* all of it */
			while (jscan_next(&val2, &inner, &in_key, &in_val))
				;
		jscan_close(&val2, inner, &cur2);
		if (val2.end != val.end || cur2 != cur)
			abort();
		walk_open(&val);
		i++;
	}
	if (jscan_next_open(v, &cur2, &key2, &val2))
		abort();
}

/* What jscan_document_members hands over, the first 256 of it. */
struct members {
	struct jscan_val key[256], val[256];
	size_t n;
};

static void
collect(void *arg, const struct jscan_val *key, const struct jscan_val *val)
{
	struct members *m = arg;

	if (m->n < 256) {
		m->key[m->n] = *key;
		m->val[m->n] = *val;
	}
	m->n++;
}

/* jscan_document_members agrees with jscan_document, then jscan_next. */
static void
members_agree(const char *p, size_t size)
{
	static struct members m;
	struct jscan_val doc, key, val;
	const char *cur = NULL;
	enum jscan_type t;
	int valid;
	size_t i = 0;

	m.n = 0;
	t = jscan_document_members(p, p + size, collect, &m);
	valid = jscan_document(p, p + size, &doc);
	if ((t != JSCAN_ERROR) != valid || (valid && t != doc.type))
		abort();
	if (!valid || doc.type != JSCAN_OBJECT)
		return;
	while (jscan_next(&doc, &cur, &key, &val)) {
		if (i < 256 && (key.start != m.key[i].start ||
		    key.end != m.key[i].end || val.start != m.val[i].start ||
		    val.end != m.val[i].end || val.type != m.val[i].type))
			abort();
		i++;
	}
	if (i != m.n)
		abort();
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
	if (jscan_document(p, p + size, &doc)) {
		walk(&doc, p, p + size, 0);
		walk_open(&doc);
	}
	members_agree(p, size);
	/* The first line is the text, the rest the object: redundant only
	 * when the object scans and its body is that text. */
	{
		char *nl = memchr(p, '\n', size), *text;

		/* The text is a C string: one with a NUL says nothing. */
		if (nl != NULL && memchr(p, '\0', (size_t)(nl - p)) == NULL) {
			text = strndup(p, (size_t)(nl - p));
			if (text != NULL && wa_text_redundant(nl + 1,
			    size - (size_t)(nl + 1 - p), text) &&
			    !jscan_document(nl + 1, p + size, &doc))
				abort();
			free(text);
		}
	}
	free(p);
	return 0;
}
