/*
 * INI tokeniser. Errors carry "file:line: what is wrong" so a person can fix
 * the file without guessing; nothing here knows any key.
 */
#include "core/ini.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/xalloc.h"

#define INI_MAX_FILE (1024 * 1024)
#define INI_MAX_LINE 4096
#define INI_MAX_SECTION 128

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Parse the value part of a line in place; returns NULL with *why on error. */
static char *
parse_value(char *v, const char **why)
{
	char *out, *p;

	v = trim(v);
	if (*v != '"') {
		/* An unquoted value ends at a comment that follows whitespace. */
		for (p = v; *p != '\0'; p++) {
			if ((*p == ';' || *p == '#') &&
			    (p == v || p[-1] == ' ' || p[-1] == '\t')) {
				*p = '\0';
				break;
			}
		}
		return trim(v);
	}
	out = v;
	for (p = v + 1; *p != '"'; p++) {
		if (*p == '\0') {
			*why = "unterminated quoted value";
			return NULL;
		}
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		*out++ = *p;
	}
	p = trim(p + 1);
	if (*p != '\0' && *p != ';' && *p != '#') {
		*why = "text after closing quote";
		return NULL;
	}
	*out = '\0';
	return v;
}

static int
valid_name(const char *s, int section)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || *s == '_' || *s == '-')
			continue;
		if (section && *s == '.')
			continue;
		return 0;
	}
	return 1;
}

int
ini_parse_string(const char *name, const char *text, size_t len, ini_cb cb,
    void *ctx, char **cause)
{
	char section[INI_MAX_SECTION + 1] = "";
	char line[INI_MAX_LINE + 2];
	const char *p = text, *end = text + len, *nl, *why = NULL;
	char *s, *eq, *key, *value, *inner = NULL;
	unsigned lineno = 0;
	size_t n;

	if (memchr(text, '\0', len) != NULL) {
		*cause = xasprintf("%s: file contains a NUL byte", name);
		return -1;
	}
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if (n > INI_MAX_LINE) {
			why = "line longer than 4096 bytes";
			goto fail;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : end;

		s = trim(line);
		if (lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
			s = trim(s + 3);
		if (*s == '\0' || *s == ';' || *s == '#')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			char *rest;

			if (close == NULL) {
				why = "section header without closing ']'";
				goto fail;
			}
			*close = '\0';
			rest = trim(close + 1);
			if (*rest != '\0' && *rest != ';' && *rest != '#') {
				why = "text after section header";
				goto fail;
			}
			s = trim(s + 1);
			if (strlen(s) > INI_MAX_SECTION || !valid_name(s, 1)) {
				why = "bad section name (letters, digits, "
				      "'_', '-' and '.' only)";
				goto fail;
			}
			strcpy(section, s);
			if (cb(ctx, section, NULL, NULL, &inner) != 0)
				goto fail_cb;
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			why = "expected 'key = value' or '[section]'";
			goto fail;
		}
		*eq = '\0';
		key = trim(s);
		if (!valid_name(key, 0)) {
			why = "bad key name (letters, digits, '_' and '-' only)";
			goto fail;
		}
		value = parse_value(eq + 1, &why);
		if (value == NULL)
			goto fail;
		if (cb(ctx, section, key, value, &inner) != 0)
			goto fail_cb;
	}
	return 0;

fail:
	*cause = xasprintf("%s:%u: %s", name, lineno, why);
	return -1;
fail_cb:
	*cause = xasprintf("%s:%u: %s", name, lineno,
	    inner ? inner : "rejected");
	free(inner);
	return -1;
}

int
ini_parse_file(const char *path, ini_cb cb, void *ctx, char **cause)
{
	struct buf b;
	char chunk[8192];
	FILE *f;
	size_t n;
	int rc;

	f = fopen(path, "r");
	if (f == NULL) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		buf_add(&b, chunk, n);
		if (b.len > INI_MAX_FILE) {
			fclose(f);
			buf_free(&b);
			*cause = xasprintf("%s: file larger than 1 MiB", path);
			return -1;
		}
	}
	if (ferror(f)) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		fclose(f);
		buf_free(&b);
		return -1;
	}
	fclose(f);
	rc = ini_parse_string(path, b.data ? b.data : "", b.len, cb, ctx,
	    cause);
	buf_free(&b);
	return rc;
}
