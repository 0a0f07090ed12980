/*
 * Typed access to cJSON trees of untrusted origin.
 */
#include "core/jsonx.h"

#include "core/buf.h"
#include "core/utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

const char *
jx_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

cJSON *
jx_obj(const cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsObject(v) ? v : NULL;
}

cJSON *
jx_arr(const cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsArray(v) ? v : NULL;
}

int
jx_bool(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

int
jx_int64(const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char *end;
	long long n;

	if (cJSON_IsNumber(v)) {
		/* Doubles are exact to 2^53, far past any Unix time. */
		if (!isfinite(v->valuedouble) || v->valuedouble < 0 ||
		    v->valuedouble > 9007199254740992.0)
			return -1;
		*out = (int64_t)v->valuedouble;
		return 0;
	}
	if (!cJSON_IsString(v) || v->valuestring[0] < '0' ||
	    v->valuestring[0] > '9')
		return -1;
	errno = 0;
	n = strtoll(v->valuestring, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

int
jx_number(const cJSON *v, double *out)
{
	char *end;
	double d;

	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return isfinite(*out) ? 0 : -1;
	}
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
		return -1;
	errno = 0;
	d = strtod(v->valuestring, &end);
	if (errno != 0 || *end != '\0' || !isfinite(d))
		return -1;
	*out = d;
	return 0;
}

void
jx_add_str(cJSON *o, const char *key, const char *s)
{
	if (s != NULL)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

void
jx_add_int(cJSON *o, const char *key, int64_t v)
{
	char tmp[32];

	/* Doubles hold integers exactly up to 2^53; past that the digits are
	 * emitted raw so none is lost on the wire. */
	if (v >= -9007199254740992LL && v <= 9007199254740992LL) {
		cJSON_AddNumberToObject(o, key, (double)v);
		return;
	}
	snprintf(tmp, sizeof tmp, "%" PRId64, v);
	cJSON_AddItemToObject(o, key, cJSON_CreateRaw(tmp));
}

char *
jx_print(const cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (s == NULL) {
		fprintf(stderr, "fatal: out of memory printing JSON\n");
		abort();
	}
	return s;
}

int
jx_has_nul_escape(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] != '\\')
			continue;
		/* Backslashes only occur inside strings, each escaping the
		 * next character; skip that one so "\\\\u0000" is text. */
		if (p[i + 1] == 'u' && i + 5 < n && p[i + 2] == '0' &&
		    p[i + 3] == '0' && p[i + 4] == '0' && p[i + 5] == '0')
			return 1;
		i++;
	}
	return 0;
}

void
jx_nul_escapes_to_soh(char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] != '\\')
			continue;
		if (p[i + 1] == 'u' && i + 5 < n && p[i + 2] == '0' &&
		    p[i + 3] == '0' && p[i + 4] == '0' && p[i + 5] == '0')
			p[i + 5] = '1';
		i++;
	}
}

void
jx_terminal_safe(const char *json, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)json;
	size_t n = strlen(json), k;
	uint32_t cp;

	while (n > 0) {
		k = utf8_decode(p, n, &cp);
		if (k == 0) {
			buf_adds(out, "\\ufffd");
			k = 1;
		} else if (cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 ||
		    cp == 0x2029) {
			buf_printf(out, "\\u%04x", (unsigned)cp);
		} else {
			buf_add(out, p, k);
		}
		p += k;
		n -= k;
	}
}
