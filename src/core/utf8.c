/*
 * A strict UTF-8 decoder (RFC 3629 table 3-7) and what is built on it.
 */
#include "core/utf8.h"

#include <stdint.h>

/* Decodes one code point at s; returns its length, or 0 when malformed. */
static size_t
decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];

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
		if ((k = decode(p, n, &cp)) == 0)
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
		if ((k = decode(p, n, &cp)) == 0)
			return 1;
		if ((cp < 0x20 && cp != '\t' && cp != '\n') ||
		    (cp >= 0x7f && cp < 0xa0))
			return 1;
		p += k;
		n -= k;
	}
	return 0;
}
