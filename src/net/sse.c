/*
 * text/event-stream parsing, slice by slice; see sse.h.
 */
#include <string.h>

#include "net/sse.h"

void
sse_init(struct sse *p, sse_event_cb cb, void *arg)
{
	memset(p, 0, sizeof *p);
	p->on_event = cb;
	p->arg = arg;
	p->retry_ms = -1;
	buf_init(&p->line);
	buf_init(&p->data);
}

void
sse_free(struct sse *p)
{
	buf_free(&p->line);
	buf_free(&p->data);
}

static int
dispatch(struct sse *p, const char **why)
{
	const char *type = p->type[0] != '\0' ? p->type : "message";
	int rc = 0;

	if (p->has_data) {
		/* Every data line added a '\n'; the last one goes. */
		if (p->data.len > 0)
			p->data.data[--p->data.len] = '\0';
		if (p->on_event(p->arg, type, p->data.data, p->data.len,
		    p->id) != 0) {
			*why = "stopped by the reader";
			rc = -1;
		}
	}
	buf_reset(&p->data);
	p->has_data = 0;
	p->type[0] = '\0';
	return rc;
}

static int
process_line(struct sse *p, const char **why)
{
	const char *line, *value, *colon;
	size_t len = p->line.len, flen, vlen;

	if (len == 0)
		return dispatch(p, why);
	line = p->line.data;
	if (line[0] == ':')
		return 0; /* a comment: a heartbeat */
	/* memchr, not strcspn: a NUL before the colon is part of the name. */
	colon = memchr(line, ':', len);
	flen = colon != NULL ? (size_t)(colon - line) : len;
	if (flen < len) {
		value = line + flen + 1;
		vlen = len - flen - 1;
		if (vlen > 0 && *value == ' ') {
			value++;
			vlen--;
		}
	} else {
		value = "";
		vlen = 0;
	}
	if (flen == 4 && memcmp(line, "data", 4) == 0) {
		if (p->data.len + vlen + 1 > SSE_MAX_EVENT) {
			*why = "event larger than 4 MiB";
			return -1;
		}
		buf_add(&p->data, value, vlen);
		buf_add(&p->data, "\n", 1);
		p->has_data = 1;
	} else if (flen == 5 && memcmp(line, "event", 5) == 0) {
		if (vlen >= sizeof p->type)
			vlen = sizeof p->type - 1;
		memcpy(p->type, value, vlen);
		p->type[vlen] = '\0';
	} else if (flen == 2 && memcmp(line, "id", 2) == 0) {
		/* An id holding NUL is ignored; one too long is refused. */
		if (memchr(value, '\0', vlen) != NULL)
			return 0;
		if (vlen >= sizeof p->id) {
			*why = "event id longer than 255 bytes";
			return -1;
		}
		memcpy(p->id, value, vlen);
		p->id[vlen] = '\0';
	} else if (flen == 5 && memcmp(line, "retry", 5) == 0) {
		long v = 0;
		size_t i;

		/* Digits only, and at most SSE_MAX_RETRY: else ignored. */
		for (i = 0; i < vlen && value[i] >= '0' && value[i] <= '9' &&
		    v <= SSE_MAX_RETRY; i++)
			v = v * 10 + (value[i] - '0');
		if (vlen > 0 && i == vlen && v <= SSE_MAX_RETRY)
			p->retry_ms = v;
	}
	return 0;
}

int
sse_feed(struct sse *p, const char *s, size_t n, const char **why)
{
	size_t i = 0;

	if (!p->started) {
		/* Skip one BOM, which may itself arrive in pieces. */
		static const char bom[] = "\xef\xbb\xbf";
		size_t have = p->line.len;

		while (i < n && have + i < 3 && (unsigned char)s[i] ==
		    (unsigned char)bom[have + i])
			i++;
		if (have + i < 3 && i == n) {
			buf_add(&p->line, s, n); /* maybe more BOM to come */
			return 0;
		}
		if (have + i < 3) {
			/* Not a BOM after all: what we held is text. */
			i = 0;
		} else {
			buf_reset(&p->line);
		}
		p->started = 1;
	}
	/* An empty slice says nothing about what follows a CR. */
	if (i < n) {
		if (p->saw_cr && s[i] == '\n')
			i++;
		p->saw_cr = 0;
	}
	while (i < n) {
		size_t j = i;

		while (j < n && s[j] != '\n' && s[j] != '\r')
			j++;
		if (p->line.len + (j - i) > SSE_MAX_LINE) {
			*why = "line longer than 1 MiB";
			return -1;
		}
		buf_add(&p->line, s + i, j - i);
		if (j == n)
			break;
		if (process_line(p, why) != 0)
			return -1;
		buf_reset(&p->line);
		if (s[j] == '\r') {
			if (j + 1 == n)
				p->saw_cr = 1;
			else if (s[j + 1] == '\n')
				j++;
		}
		i = j + 1;
	}
	return 0;
}
