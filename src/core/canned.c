/*
 * Placeholder expansion for canned replies. One pass, left to right: a
 * value is copied, never scanned again, so a contact named "{{agent.name}}"
 * stays as written and the output is at most the text plus the values.
 */
#include "core/canned.h"

#include <string.h>

#include "core/buf.h"
#include "core/xalloc.h"

/* Longest "{{ name }}" worth looking at; longer runs are plain text. */
#define PLACEHOLDER_MAX 64

static const char *const names[CANNED_NVARS] = {
	[CANNED_CONTACT_NAME] = "contact.name",
	[CANNED_CONTACT_FIRST_NAME] = "contact.first_name",
	[CANNED_CONTACT_PHONE] = "contact.phone",
	[CANNED_AGENT_NAME] = "agent.name",
	[CANNED_CONVERSATION_ID] = "conversation.id",
};

const char *
canned_var_name(enum canned_var v)
{
	return (unsigned)v < CANNED_NVARS ? names[v] : NULL;
}

static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/*
 * A placeholder at text[at] ("{{", a name, "}}"): its length, the name's
 * offset and length; 0 when there is none here.
 */
static size_t
placeholder(const char *t, size_t len, size_t at, size_t *name,
    size_t *nlen)
{
	size_t i = at + 2, end = len - at > PLACEHOLDER_MAX ? at +
	    PLACEHOLDER_MAX : len;

	if (len - at < 4 || t[at] != '{' || t[at + 1] != '{')
		return 0;
	while (i < end && t[i] == ' ')
		i++;
	*name = i;
	while (i < end && name_char(t[i]))
		i++;
	*nlen = i - *name;
	while (i < end && t[i] == ' ')
		i++;
	if (*nlen == 0 || i + 1 >= end || t[i] != '}' || t[i + 1] != '}')
		return 0;
	return i + 2 - at;
}

static int
lookup(const char *t, size_t n)
{
	for (int v = 0; v < CANNED_NVARS; v++) {
		if (strlen(names[v]) == n && memcmp(names[v], t, n) == 0)
			return v;
	}
	return -1;
}

int
canned_check(const char *t, size_t len, char **bad)
{
	size_t at, n, name, nlen;

	*bad = NULL;
	for (at = 0; at < len; at++) {
		if ((n = placeholder(t, len, at, &name, &nlen)) == 0)
			continue;
		if (lookup(t + name, nlen) < 0) {
			*bad = xstrndup(t + at, n);
			return -1;
		}
		at += n - 1;
	}
	/* "{{" that is no placeholder at all ("{{ }}", "{{a b}}") is text. */
	return 0;
}

/* The first word of a name: up to the first space. */
static void
first_word(struct buf *out, const char *s)
{
	size_t n = strcspn(s, " ");

	buf_add(out, s, n);
}

char *
canned_expand(const char *t, size_t len, const struct canned_values *vals)
{
	struct buf out;
	size_t at = 0, n, name, nlen;
	int v;

	buf_init(&out);
	while (at < len) {
		n = placeholder(t, len, at, &name, &nlen);
		if (n == 0 || (v = lookup(t + name, nlen)) < 0) {
			buf_add(&out, t + at, 1);
			at++;
			continue;
		}
		if (vals->v[v] != NULL)
			buf_adds(&out, vals->v[v]);
		else if (v == CANNED_CONTACT_FIRST_NAME &&
		    vals->v[CANNED_CONTACT_NAME] != NULL)
			first_word(&out, vals->v[CANNED_CONTACT_NAME]);
		at += n;
	}
	buf_add(&out, "", 0); /* terminated even when empty */
	return buf_steal(&out);
}
