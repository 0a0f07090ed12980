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

/* The length of s up to its first byte JSON must escape. */
static size_t
plain_span(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p >= 0x20 && *p != '"' && *p != '\\')
		p++;
	return (size_t)((const char *)p - s);
}

/* Appends "s" (n bytes needing no escape) with what goes before and after
 * it, in one reservation: most strings and every key of this program. */
static void
add_quoted(struct buf *b, const char *before, size_t nb, const char *s,
    size_t n, const char *after, size_t na)
{
	char *p;

	buf_reserve(b, nb + n + na + 2);
	p = b->data + b->len;
	memcpy(p, before, nb);
	p += nb;
	*p++ = '"';
	memcpy(p, s, n);
	p += n;
	*p++ = '"';
	memcpy(p, after, na);
	p += na;
	*p = '\0';
	b->len = (size_t)(p - b->data);
}

void
jw_escape(struct buf *b, const char *s)
{
	const char *run = s;
	size_t n = plain_span(s);

	if (s[n] == '\0') {
		add_quoted(b, "", 0, s, n, "", 0);
		return;
	}

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
	int comma = w->need_comma[w->depth];
	size_t n;

	w->need_comma[w->depth] = 1;
	if (key != NULL && key[n = plain_span(key)] == '\0') {
		add_quoted(w->b, ",", (size_t)comma, key, n, ":", 1);
		return;
	}
	if (comma)
		buf_add(w->b, ",", 1);
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
	char n[24], *p = n + sizeof n;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	member(w, key);
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--p = '-';
	buf_add(w->b, p, (size_t)(n + sizeof n - p));
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
