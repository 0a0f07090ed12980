/*
 * The in-place JSON scanner; see jscan.h.
 */
#include <stdint.h>
#include <string.h>

#include "core/jscan.h"
#include "core/hmac.h"

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

static int
hex4(const char *p, const char *end, unsigned *out)
{
	unsigned v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int d = hex_digit((unsigned char)p[i]);

		if (d < 0)
			return -1;
		v = v << 4 | (unsigned)d;
	}
	*out = v;
	return 0;
}

/* Bytes that end a run of plain string content: controls, '"', '\\'. */
static const unsigned char stops[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
	[0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
	[0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
	[0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
	[0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
	[0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

/* p is just past the opening quote; returns just past the closing one. */
static const char *
scan_string(const char *p, const char *end)
{
	unsigned u;

	while (p < end) {
		unsigned char c;

		while (p < end && !stops[(unsigned char)*p])
			p++;
		if (p >= end)
			break;
		c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL; /* raw control characters are not JSON */
		if (c != '\\') {
			p++;
			continue;
		}
		if (++p >= end)
			return NULL;
		switch (*p) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			p++;
			break;
		case 'u':
			if (hex4(p + 1, end, &u) != 0)
				return NULL;
			p += 5;
			break;
		default:
			return NULL;
		}
	}
	return NULL;
}

static const char *
scan_number(const char *p, const char *end)
{
	const char *d;

	if (p < end && *p == '-')
		p++;
	if (p >= end)
		return NULL;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else {
		return NULL;
	}
	if (p < end && *p == '.') {
		d = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == d)
			return NULL;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		d = p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == d)
			return NULL;
	}
	return p;
}

static const char *
scan_literal(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
		return NULL;
	return p + n;
}

/* A member's key and its colon, at p; returns just past the colon. */
static const char *
scan_key(const char *p, const char *end)
{
	if (p >= end || *p != '"' || (p = scan_string(p + 1, end)) == NULL)
		return NULL;
	p = skip_ws(p, end);
	if (p >= end || *p != ':')
		return NULL;
	return p + 1;
}

/*
 * Skips one value without recursion: an explicit stack of the open
 * containers, so hostile nesting cannot exhaust the C stack.
 */
static const char *
scan(const char *p, const char *end, enum jscan_type *type, int limit)
{
	char stack[JSCAN_MAX_DEPTH];
	int depth = 0;

	*type = JSCAN_ERROR;
	for (;;) {
		/* A value. */
		p = skip_ws(p, end);
		if (p >= end)
			return NULL;
		switch (*p) {
		case '{':
		case '[':
			if (depth == 0)
				*type = *p == '{' ? JSCAN_OBJECT : JSCAN_ARRAY;
			if (depth == limit)
				return NULL;
			stack[depth++] = *p == '{' ? '}' : ']';
			p = skip_ws(p + 1, end);
			if (p < end && *p == stack[depth - 1]) {
				p++;
				depth--;
				break;
			}
			/* The first key. */
			if (stack[depth - 1] == '}' &&
			    (p = scan_key(p, end)) == NULL)
				return NULL;
			continue;
		case '"':
			if (depth == 0)
				*type = JSCAN_STRING;
			p = scan_string(p + 1, end);
			break;
		case 't':
			if (depth == 0)
				*type = JSCAN_TRUE;
			p = scan_literal(p, end, "true");
			break;
		case 'f':
			if (depth == 0)
				*type = JSCAN_FALSE;
			p = scan_literal(p, end, "false");
			break;
		case 'n':
			if (depth == 0)
				*type = JSCAN_NULL;
			p = scan_literal(p, end, "null");
			break;
		default:
			if (depth == 0)
				*type = JSCAN_NUMBER;
			p = scan_number(p, end);
			break;
		}
		if (p == NULL)
			return NULL;
		/* After a value: a separator, or the end of containers. */
		for (;;) {
			if (depth == 0)
				return p;
			p = skip_ws(p, end);
			if (p >= end)
				return NULL;
			if (*p == stack[depth - 1]) {
				p++;
				depth--;
				continue;
			}
			if (*p != ',')
				return NULL;
			p = skip_ws(p + 1, end);
			if (stack[depth - 1] == '}' &&
			    (p = scan_key(p, end)) == NULL)
				return NULL;
			break;
		}
	}
}

enum jscan_type
jscan_value(const char *p, const char *end, struct jscan_val *v,
    const char **next)
{
	enum jscan_type type;
	const char *e;

	p = skip_ws(p, end);
	if ((e = scan(p, end, &type, JSCAN_MAX_DEPTH)) == NULL) {
		v->type = JSCAN_ERROR;
		return JSCAN_ERROR;
	}
	v->type = type;
	v->start = p;
	v->end = e;
	if (next != NULL)
		*next = e;
	return type;
}

int
jscan_document(const char *p, const char *end, struct jscan_val *v)
{
	const char *next;

	if (jscan_value(p, end, v, &next) == JSCAN_ERROR)
		return 0;
	return skip_ws(next, end) == end;
}

/*
 * The first '"' in [p, end), or NULL. Most strings (keys, numbers as text,
 * ids) are short: eight bytes at a time at first (a word with a zero byte
 * where a quote was: exact at its lowest flagged byte), memchr for what
 * goes on longer.
 */
static const char *
find_quote(const char *p, const char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ULL;
	const char *near = end - p > 32 ? p + 32 : end;

	while (near - p >= 8) {
		uint64_t w, t;

		memcpy(&w, p, 8);
		w ^= ones * '"';
		t = (w - ones) & ~w & ones * 0x80;
		if (t != 0)
			return p + (__builtin_ctzll(t) >> 3);
		p += 8;
	}
#endif
	return memchr(p, '"', (size_t)(end - p));
}

enum jscan_type
jscan_document_members(const char *p, const char *end,
    void (*fn)(void *, const struct jscan_val *, const struct jscan_val *),
    void *arg)
{
	struct jscan_val key, v;
	const char *q;

	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return jscan_document(p, end, &v) ? v.type : JSCAN_ERROR;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return skip_ws(p + 1, end) == end ? JSCAN_OBJECT : JSCAN_ERROR;
	for (;;) {
		if (p >= end || *p != '"' || (q = scan_string(p + 1, end)) == NULL)
			return JSCAN_ERROR;
		key.type = JSCAN_STRING;
		key.start = p + 1;
		key.end = q - 1;
		p = skip_ws(q, end);
		if (p >= end || *p != ':')
			return JSCAN_ERROR;
		/* The root is one level: members nest one less deep. */
		p = skip_ws(p + 1, end);
		if ((q = scan(p, end, &v.type, JSCAN_MAX_DEPTH - 1)) == NULL)
			return JSCAN_ERROR;
		v.start = p;
		v.end = q;
		fn(arg, &key, &v);
		p = skip_ws(q, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return skip_ws(p + 1, end) == end ? JSCAN_OBJECT :
			    JSCAN_ERROR;
		return JSCAN_ERROR;
	}
}

/* The end of a string of valid JSON: p is past its opening quote. */
static const char *
skip_string(const char *p, const char *end)
{
	for (;;) {
		const char *q = find_quote(p, end), *b;

		if (q == NULL)
			return end;
		/* Escaped when an odd number of backslashes precede it. */
		for (b = q; b > p && b[-1] == '\\'; b--)
			;
		if ((q - b) % 2 == 0)
			return q + 1;
		p = q + 1;
	}
}

/* Bytes a number is made of. */
static const unsigned char numeric[256] = {
	['-'] = 1, ['+'] = 1, ['.'] = 1, ['e'] = 1, ['E'] = 1, ['0'] = 1,
	['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
	['7'] = 1, ['8'] = 1, ['9'] = 1,
};

/*
 * Skips one value of text already validated (by jscan_value or
 * jscan_document): finds its end without checking it again. Iterating a
 * validated document this way costs a memchr per string.
 */
static const char *
skip_valid(const char *p, const char *end, enum jscan_type *type)
{
	int depth = 0;

	switch (*p) {
	case '{': *type = JSCAN_OBJECT; break;
	case '[': *type = JSCAN_ARRAY; break;
	case '"': *type = JSCAN_STRING; return skip_string(p + 1, end);
	case 't': *type = JSCAN_TRUE; return p + 4;
	case 'f': *type = JSCAN_FALSE; return p + 5;
	case 'n': *type = JSCAN_NULL; return p + 4;
	default:
		*type = JSCAN_NUMBER;
		while (p < end && numeric[(unsigned char)*p])
			p++;
		return p;
	}
	while (p < end) {
		switch (*p) {
		case '"':
			p = skip_string(p + 1, end);
			continue;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth == 0)
				return p + 1;
			break;
		}
		p++;
	}
	return end;
}

/*
 * The next member or element. A container's end may be only a bound (an
 * opened value, see jscan_next_open): the closing bracket ends it too, as
 * it must in validated text.
 */
static int
next(const struct jscan_val *c, const char **cursor, struct jscan_val *key,
    struct jscan_val *value, int open)
{
	const char *p = *cursor, *end = c->end;
	int object = c->type == JSCAN_OBJECT;

	if (c->type != JSCAN_OBJECT && c->type != JSCAN_ARRAY)
		return 0;
	if (p == NULL) {
		p = skip_ws(c->start + 1, end);
	} else {
		p = skip_ws(p, end);
		if (p >= end || *p != ',')
			return 0;
		p = skip_ws(p + 1, end); /* the comma */
	}
	if (p >= end || *p == '}' || *p == ']')
		return 0;
	if (object) {
		const char *k = p + 1;

		p = skip_string(k, end);
		if (key != NULL) {
			key->type = JSCAN_STRING;
			key->start = k;
			key->end = p - 1;
		}
		p = skip_ws(p, end) + 1; /* the colon */
	} else if (key != NULL) {
		key->type = JSCAN_ERROR;
		key->start = key->end = NULL;
	}
	p = skip_ws(p, end);
	if (p >= end)
		return 0;
	value->start = p;
	if (open && (*p == '{' || *p == '[')) {
		value->type = *p == '{' ? JSCAN_OBJECT : JSCAN_ARRAY;
		value->end = end; /* a bound until jscan_close */
		*cursor = p;
		return 1;
	}
	value->end = p = skip_valid(p, end, &value->type);
	*cursor = p;
	return 1;
}

int
jscan_next(const struct jscan_val *c, const char **cursor,
    struct jscan_val *key, struct jscan_val *value)
{
	return next(c, cursor, key, value, 0);
}

int
jscan_next_open(const struct jscan_val *c, const char **cursor,
    struct jscan_val *key, struct jscan_val *value)
{
	return next(c, cursor, key, value, 1);
}

void
jscan_close(struct jscan_val *v, const char *inner, const char **cursor)
{
	struct jscan_val k, x;
	const char *p;

	if (v->type != JSCAN_OBJECT && v->type != JSCAN_ARRAY) {
		*cursor = v->end;
		return;
	}
	if (inner == NULL) {
		v->end = skip_valid(v->start, v->end, &v->type);
		*cursor = v->end;
		return;
	}
	/* Members the caller did not read, then the bracket. */
	while (next(v, &inner, &k, &x, 0))
		;
	p = skip_ws(inner, v->end);
	v->end = p < v->end ? p + 1 : v->end;
	*cursor = v->end;
}

int
jscan_key_is(const struct jscan_val *key, const char *s)
{
	size_t len = (size_t)(key->end - key->start), n;

	/* Most keys asked about are not the one: the first byte says so
	 * (the caller's table of keys is walked for every member). */
	if (len == 0 || key->start[0] != s[0])
		return len == 0 && s[0] == '\0';
	n = strlen(s);
	/* Keys this program asks for hold no escapes. */
	return len == n && memcmp(key->start, s, n) == 0;
}

static void
put_utf8(struct buf *out, unsigned cp)
{
	char b[4];

	if (cp < 0x80) {
		b[0] = (char)cp;
		buf_add(out, b, 1);
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(out, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(out, b, 3);
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(out, b, 4);
	}
}

void
jscan_string(const struct jscan_val *v, struct buf *out)
{
	const char *p = v->start + 1, *end = v->end - 1, *run = p;
	unsigned u = 0, lo = 0;

	if (v->type != JSCAN_STRING)
		return;
	while (p < end) {
		if (*p != '\\') {
			p++;
			continue;
		}
		buf_add(out, run, (size_t)(p - run));
		p++;
		switch (*p) {
		case 'b': buf_add(out, "\b", 1); p++; break;
		case 'f': buf_add(out, "\f", 1); p++; break;
		case 'n': buf_add(out, "\n", 1); p++; break;
		case 'r': buf_add(out, "\r", 1); p++; break;
		case 't': buf_add(out, "\t", 1); p++; break;
		case 'u':
			hex4(p + 1, end, &u);
			p += 5;
			if (u >= 0xd800 && u <= 0xdbff && end - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u' &&
			    hex4(p + 2, end, &lo) == 0 && lo >= 0xdc00 &&
			    lo <= 0xdfff) {
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			} else if ((u >= 0xd800 && u <= 0xdfff) || u == 0) {
				u = 0xfffd; /* a lone surrogate, or NUL */
			}
			put_utf8(out, u);
			break;
		default: /* " \ / */
			buf_add(out, p, 1);
			p++;
			break;
		}
		run = p;
	}
	buf_add(out, run, (size_t)(p - run));
}

int
jscan_int(const struct jscan_val *v, int64_t *out)
{
	const char *p = v->start;
	int neg = 0;
	uint64_t n = 0;

	if (v->type != JSCAN_NUMBER)
		return -1;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; p < v->end; p++) {
		if (*p < '0' || *p > '9')
			return -1; /* a fraction or an exponent */
		if (n > (UINT64_C(9223372036854775807) - (uint64_t)(*p - '0')) /
		    10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*out = neg ? -(int64_t)n : (int64_t)n;
	return 0;
}
