/*
 * A strict UTF-8 decoder (RFC 3629 table 3-7) and what is built on it.
 */
#include "core/utf8.h"

#include <stdint.h>

#include "core/buf.h"

size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c;

	if (n == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		if (n < 2 || (s[1] & 0xc0) != 0x80)
			return 0;
		*cp = (uint32_t)(c & 0x1f) << 6 | (s[1] & 0x3f);
		return 2;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0; /* overlong, or a UTF-16 surrogate */
		*cp = (uint32_t)(c & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 |
		    (s[2] & 0x3f);
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0; /* overlong, or past U+10FFFF */
		*cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
		    (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
		return 4;
	}
	return 0;
}

int
utf8_valid(const char *s, size_t n)
{
	return utf8_utf16_length(s, n) >= 0;
}

long
utf8_utf16_length(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	long units = 0;
	uint32_t cp;
	size_t k;

	while (n > 0) {
		if ((k = utf8_decode(p, n, &cp)) == 0)
			return -1;
		units += cp >= 0x10000 ? 2 : 1;
		p += k;
		n -= k;
	}
	return units;
}

int
utf8_has_controls(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t k;

	while (n > 0) {
		if ((k = utf8_decode(p, n, &cp)) == 0)
			return 1;
		if ((cp < 0x20 && cp != '\t' && cp != '\n') ||
		    (cp >= 0x7f && cp < 0xa0))
			return 1;
		p += k;
		n -= k;
	}
	return 0;
}

/* Bidirectional overrides and isolates: they reorder what follows. */
static int
is_bidi_control(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void
utf8_sanitize(const char *s, size_t n, int flags, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t k;

	while (n > 0) {
		if ((k = utf8_decode(p, n, &cp)) == 0) {
			buf_adds(out, "\xef\xbf\xbd"); /* U+FFFD */
			p++;
			n--;
			continue;
		}
		if (cp == '\n') {
			buf_adds(out, (flags & UTF8_KEEP_NEWLINES) ? "\n" : " ");
		} else if (cp == '\t') {
			buf_adds(out, " ");
		} else if (cp == '\r') {
			/* CRLF is a newline; a lone CR would rewind the line. */
			if (n < 2 || p[1] != '\n')
				buf_adds(out, " ");
		} else if ((flags & UTF8_DROP_CONTROLS) &&
		    (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))) {
			/* Dropped: what a user typed or pasted by mistake. */
		} else if (cp < 0x20) {
			char pic[4] = { (char)0xe2, (char)0x90,
				(char)(0x80 + cp), 0 }; /* U+2400 + cp */

			buf_adds(out, pic);
		} else if (cp == 0x7f) {
			buf_adds(out, "\xe2\x90\xa1"); /* U+2421 */
		} else if ((cp >= 0x80 && cp <= 0x9f) || is_bidi_control(cp)) {
			buf_adds(out, "\xef\xbf\xbd");
		} else if (cp == 0x2028 || cp == 0x2029) {
			buf_adds(out, (flags & UTF8_KEEP_NEWLINES) ? "\n" : " ");
		} else {
			buf_add(out, p, k);
		}
		p += k;
		n -= k;
	}
}
