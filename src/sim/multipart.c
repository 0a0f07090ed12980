/*
 * A strict multipart/form-data reader over a body held in memory. Parts
 * point into the body; only their names and header values are copied.
 */
#include "sim/multipart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>

#include "core/xalloc.h"

#define BOUNDARY_MAX 70	     /* RFC 2046 */
#define PART_HEADERS_MAX 8192 /* all of one part's header lines */

/* Skips spaces and tabs. */
static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/*
 * Finds parameter name (case-insensitive) in a header value's
 * "; name=value" list and copies its value (token or quoted string) into
 * a new string. NULL when absent or malformed.
 */
static char *
header_param(const char *v, size_t len, const char *name)
{
	const char *p = v, *end = v + len, *start;
	size_t n = strlen(name);
	char *out;

	/* The first item is the value itself (form-data, multipart/…). */
	p = memchr(p, ';', (size_t)(end - p));
	while (p != NULL && p < end) {
		p = skip_ws(p + 1, end);
		if ((size_t)(end - p) > n && strncasecmp(p, name, n) == 0 &&
		    p[n] == '=') {
			p += n + 1;
			if (p < end && *p == '"') {
				start = ++p;
				while (p < end && *p != '"') {
					if (*p == '\\' || *p == '\r' ||
					    *p == '\n')
						return NULL; /* kept simple */
					p++;
				}
				if (p >= end)
					return NULL;
				return xstrndup(start, (size_t)(p - start));
			}
			start = p;
			while (p < end && *p != ';' && *p != ' ' && *p != '\t')
				p++;
			if (p == start)
				return NULL;
			out = xstrndup(start, (size_t)(p - start));
			return out;
		}
		p = memchr(p, ';', (size_t)(end - p));
	}
	return NULL;
}

static int
is_multipart_form(const char *ct)
{
	static const char want[] = "multipart/form-data";
	size_t n = sizeof want - 1;

	return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' ||
	    ct[n] == ';' || ct[n] == ' ');
}

static void
part_free(struct multipart_part *p)
{
	free(p->name);
	free(p->filename);
	free(p->content_type);
	memset(p, 0, sizeof *p);
}

void
multipart_free(struct multipart *m)
{
	for (size_t i = 0; i < m->n; i++)
		part_free(&m->parts[i]);
	m->n = 0;
}

/* Reads one part's header block [p, hend): fills name, filename, type. */
static int
part_headers(const char *p, const char *hend, struct multipart_part *part,
    const char **why)
{
	while (p < hend) {
		const char *eol = p, *colon, *v;

		while (eol + 1 < hend && !(eol[0] == '\r' && eol[1] == '\n'))
			eol++;
		if (eol + 1 >= hend)
			eol = hend;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL) {
			*why = "a part header line has no colon";
			return -1;
		}
		v = skip_ws(colon + 1, eol);
		if ((size_t)(colon - p) == 19 && strncasecmp(p,
		    "Content-Disposition", 19) == 0) {
			if ((size_t)(eol - v) < 9 || strncasecmp(v,
			    "form-data", 9) != 0) {
				*why = "a part's Content-Disposition is not "
				    "form-data";
				return -1;
			}
			free(part->name);
			free(part->filename);
			part->name = header_param(v, (size_t)(eol - v), "name");
			part->filename = header_param(v, (size_t)(eol - v),
			    "filename");
		} else if ((size_t)(colon - p) == 12 && strncasecmp(p,
		    "Content-Type", 12) == 0) {
			free(part->content_type);
			part->content_type = xstrndup(v, (size_t)(eol - v));
		}
		p = eol + 2;
	}
	if (part->name == NULL || part->name[0] == '\0') {
		*why = "a part has no Content-Disposition name";
		return -1;
	}
	return 0;
}

int
multipart_parse(const char *content_type, const char *body, size_t len,
    struct multipart *m, const char **why)
{
	char *boundary = NULL, delim[BOUNDARY_MAX + 5];
	const char *p, *end = body + len, *hend, *next;
	size_t dlen;

	memset(m, 0, sizeof *m);
	if (content_type == NULL || !is_multipart_form(content_type)) {
		*why = "the body is not multipart/form-data";
		return -1;
	}
	boundary = header_param(content_type, strlen(content_type),
	    "boundary");
	if (boundary == NULL || boundary[0] == '\0' ||
	    strlen(boundary) > BOUNDARY_MAX) {
		free(boundary);
		*why = "multipart/form-data without a boundary of 1 to 70 "
		    "characters";
		return -1;
	}
	/* Every delimiter but the first follows a CRLF; matching the CRLF
	 * too keeps a boundary-like run inside data from ending a part. */
	dlen = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", boundary);
	free(boundary);
	if (body == NULL || len < dlen - 2 || memcmp(body, delim + 2,
	    dlen - 2) != 0) {
		/* A preamble is allowed: look for the first delimiter. */
		p = body ? memmem(body, len, delim, dlen) : NULL;
		if (p == NULL) {
			*why = "the body does not start with the boundary";
			return -1;
		}
		p += dlen;
	} else
		p = body + dlen - 2;
	for (;;) {
		struct multipart_part *part;

		/* After a delimiter: "--" ends the body, CRLF starts a part. */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;
		p = skip_ws(p, end); /* transport padding */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
			*why = "a boundary is not followed by CRLF or --";
			goto fail;
		}
		p += 2;
		if (m->n == MULTIPART_MAX_PARTS) {
			*why = "more than 32 parts";
			goto fail;
		}
		part = &m->parts[m->n++];
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			hend = p; /* no header lines */
		else {
			hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
			if (hend == NULL || hend - p > PART_HEADERS_MAX) {
				*why = "a part's headers do not end with an "
				    "empty line";
				goto fail;
			}
		}
		if (part_headers(p, hend, part, why) != 0)
			goto fail;
		p = hend + (hend == p ? 2 : 4);
		next = memmem(p, (size_t)(end - p), delim, dlen);
		if (next == NULL) {
			*why = "the body ends without a closing boundary";
			goto fail;
		}
		part->data = p;
		part->len = (size_t)(next - p);
		p = next + dlen;
	}
	return 0;
fail:
	multipart_free(m);
	return -1;
}

const struct multipart_part *
multipart_find(const struct multipart *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->parts[i].name, name) == 0)
			return &m->parts[i];
	}
	return NULL;
}
