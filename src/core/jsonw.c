/*
 * The JSON text writer; see jsonw.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/jsonw.h"

void
jw_init(struct jw *w, struct buf *b)
{
	memset(w, 0, sizeof *w);
	w->b = b;
}

void
jw_escape(struct buf *b, const char *s)
{
	const char *run = s;

	buf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\b': buf_add(b, "\\b", 2); break;
		case '\f': buf_add(b, "\\f", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		default:
			snprintf(esc, sizeof esc, "\\u%04x", c);
			buf_add(b, esc, 6);
			break;
		}
	}
	buf_add(b, run, (size_t)(s - run));
	buf_add(b, "\"", 1);
}

/* The comma and key before a value. */
static void
member(struct jw *w, const char *key)
{
	if (w->need_comma[w->depth])
		buf_add(w->b, ",", 1);
	w->need_comma[w->depth] = 1;
	if (key != NULL) {
		jw_escape(w->b, key);
		buf_add(w->b, ":", 1);
	}
}

static void
open_(struct jw *w, const char *key, const char *brace)
{
	member(w, key);
	buf_add(w->b, brace, 1);
	if (w->depth < JW_MAX_DEPTH - 1)
		w->depth++;
	w->need_comma[w->depth] = 0;
}

void
jw_object(struct jw *w, const char *key)
{
	open_(w, key, "{");
}

void
jw_object_end(struct jw *w)
{
	buf_add(w->b, "}", 1);
	if (w->depth > 0)
		w->depth--;
}

void
jw_array(struct jw *w, const char *key)
{
	open_(w, key, "[");
}

void
jw_array_end(struct jw *w)
{
	buf_add(w->b, "]", 1);
	if (w->depth > 0)
		w->depth--;
}

void
jw_string(struct jw *w, const char *key, const char *s)
{
	member(w, key);
	if (s == NULL)
		buf_add(w->b, "null", 4);
	else
		jw_escape(w->b, s);
}

void
jw_int(struct jw *w, const char *key, int64_t v)
{
	char n[24];

	member(w, key);
	buf_add(w->b, n, (size_t)snprintf(n, sizeof n, "%" PRId64, v));
}

void
jw_bool(struct jw *w, const char *key, int v)
{
	member(w, key);
	if (v)
		buf_add(w->b, "true", 4);
	else
		buf_add(w->b, "false", 5);
}

void
jw_null(struct jw *w, const char *key)
{
	member(w, key);
	buf_add(w->b, "null", 4);
}

void
jw_raw(struct jw *w, const char *key, const char *json)
{
	member(w, key);
	if (json == NULL)
		buf_add(w->b, "null", 4);
	else
		buf_adds(w->b, json);
}
