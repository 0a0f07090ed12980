/*
 * Options tables: typed parsing with ranges, defaults and the sample config.
 * Knows nothing of any particular program's keys.
 */
#include "core/options.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/ini.h"
#include "core/xalloc.h"

#define FIELD(cfg, o, T) ((T *)(void *)((char *)(cfg) + (o)->offset))

static int
section_matches(const char *pattern, const char *section)
{
	size_t n = strlen(pattern);

	if (n >= 2 && strcmp(pattern + n - 2, ".*") == 0)
		return strncmp(pattern, section, n - 1) == 0 &&
		    section[n - 1] != '\0';
	return strcmp(pattern, section) == 0;
}

const struct option_def *
options_find(const struct option_def *tab, const char *section,
    const char *key)
{
	for (; tab->key != NULL; tab++) {
		if (section_matches(tab->section, section) &&
		    strcmp(tab->key, key) == 0)
			return tab;
	}
	return NULL;
}

static int
parse_scaled(const char *s, long long *out, const char *units,
    const long long *scale)
{
	char *end;
	long long v;
	const char *u;

	errno = 0;
	/* strtoll would skip white space and take a sign: neither belongs. */
	if (!isdigit((unsigned char)*s))
		return -1;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	if (*end != '\0') {
		if (end[1] != '\0' || (u = strchr(units, *end)) == NULL)
			return -1;
		if (v > LLONG_MAX / scale[u - units])
			return -1;
		v *= scale[u - units];
	}
	*out = v;
	return 0;
}

int
options_parse_size(const char *s, long long *out)
{
	static const long long scale[] = { 1024, 1024 * 1024,
		1024 * 1024 * 1024 };

	return parse_scaled(s, out, "kMG", scale);
}

int
options_parse_duration(const char *s, long long *out)
{
	static const long long scale[] = { 1, 60, 3600, 86400 };

	return parse_scaled(s, out, "smhd", scale);
}

int
options_parse_bool(const char *s, int *out)
{
	static const char *yes[] = { "true", "yes", "on", "1" };
	static const char *no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
enum_has(const char *choices, const char *value)
{
	size_t n = strlen(value);
	const char *p = choices, *bar;

	for (;;) {
		bar = strchr(p, '|');
		if ((size_t)((bar ? bar : p + strlen(p)) - p) == n &&
		    strncmp(p, value, n) == 0)
			return 1;
		if (bar == NULL)
			return 0;
		p = bar + 1;
	}
}

int
options_set(const struct option_def *o, void *cfg, const char *value,
    char **cause)
{
	long long v = 0;
	int b, rc = 0;

	switch (o->type) {
	case OPT_ENUM:
		if (!enum_has(o->choices, value)) {
			*cause = xasprintf("%s: expected one of %s, got '%s'",
			    o->key, o->choices, value);
			return -1;
		}
		__attribute__((fallthrough));
	case OPT_STRING:
		free(*FIELD(cfg, o, char *));
		*FIELD(cfg, o, char *) = xstrdup(value);
		return 0;
	case OPT_BOOL:
		if (options_parse_bool(value, &b) != 0) {
			*cause = xasprintf("%s: expected true or false, got "
			    "'%s'", o->key, value);
			return -1;
		}
		*FIELD(cfg, o, int) = b;
		return 0;
	case OPT_INT:
		errno = 0;
		{
			char *end;

			v = strtoll(value, &end, 10);
			if (errno != 0 || end == value || *end != '\0')
				rc = -1;
		}
		break;
	case OPT_SIZE:
		rc = options_parse_size(value, &v);
		break;
	case OPT_DURATION:
		rc = options_parse_duration(value, &v);
		break;
	}
	if (rc != 0) {
		static const char *what[] = {
			"",
			"",
			"a whole number",
			"a size like 512k or 4M",
			"a duration like 30s, 15m, 12h or 30d",
			"",
		};

		*cause = xasprintf("%s: expected %s, got '%s'", o->key,
		    what[o->type], value);
		return -1;
	}
	if (v < o->min || v > o->max) {
		*cause = xasprintf("%s: %lld is out of range (%lld to %lld)",
		    o->key, v, o->min, o->max);
		return -1;
	}
	*FIELD(cfg, o, long long) = v;
	return 0;
}

void
options_defaults(const struct option_def *tab, void *cfg)
{
	char *cause = NULL;

	for (; tab->key != NULL; tab++) {
		if (tab->def == NULL ||
		    (tab->flags & (OPT_REQUIRED | OPT_EXAMPLE)))
			continue;
		if (options_set(tab, cfg, tab->def, &cause) != 0)
			abort(); /* a bad default is a bug in the table */
	}
}

int
options_check_required(const struct option_def *tab, const char *section,
    const void *cfg, const unsigned char *seen, char **cause)
{
	for (size_t i = 0; tab[i].key != NULL; i++) {
		if (!(tab[i].flags & OPT_REQUIRED) || seen[i])
			continue;
		if (!section_matches(tab[i].section, section))
			continue;
		*cause = xasprintf("[%s] needs '%s'", section, tab[i].key);
		return -1;
	}
	(void)cfg;
	return 0;
}

void
options_free(const struct option_def *tab, void *cfg)
{
	for (; tab->key != NULL; tab++) {
		if (tab->type == OPT_STRING || tab->type == OPT_ENUM) {
			free(*FIELD(cfg, tab, char *));
			*FIELD(cfg, tab, char *) = NULL;
		}
	}
}

void
options_sample(const struct option_def *tab, const char *section,
    const char *section_name, struct buf *out)
{
	const char *p, *nl;

	buf_printf(out, "[%s]\n", section_name);
	for (; tab->key != NULL; tab++) {
		if (strcmp(tab->section, section) != 0)
			continue;
		for (p = tab->help; *p != '\0'; p = nl + 1) {
			nl = strchr(p, '\n');
			if (nl == NULL) {
				buf_printf(out, "; %s\n", p);
				break;
			}
			buf_printf(out, "; %.*s\n", (int)(nl - p), p);
		}
		if (tab->flags & OPT_REQUIRED)
			buf_adds(out, "; Required.\n");
		if (tab->def != NULL)
			buf_printf(out, "%s%s = %s\n",
			    (tab->flags & (OPT_REQUIRED | OPT_EXAMPLE)) ? "" :
			    ";", tab->key,
			    tab->def);
		else
			buf_printf(out, ";%s =\n", tab->key);
		buf_adds(out, "\n");
	}
}

/* -- whole files of single sections ------------------------------------ */

struct load {
	const struct option_def *tab;
	void *cfg;
	unsigned char *seen;
};

static int
load_key(void *ctx, const char *section, const char *key, const char *value,
    char **cause)
{
	struct load *l = ctx;
	const struct option_def *o;

	if (key == NULL) {
		for (o = l->tab; o->key != NULL; o++) {
			if (strcmp(o->section, section) == 0)
				return 0;
		}
		*cause = xasprintf("unknown section [%s]", section);
		return -1;
	}
	if (*section == '\0') {
		*cause = xasprintf("'%s' is outside any [section]", key);
		return -1;
	}
	if ((o = options_find(l->tab, section, key)) == NULL) {
		*cause = xasprintf("unknown key '%s' in [%s]", key, section);
		return -1;
	}
	if (l->seen[o - l->tab]) {
		*cause = xasprintf("'%s' is set twice in [%s]", key, section);
		return -1;
	}
	l->seen[o - l->tab] = 1;
	return options_set(o, l->cfg, value, cause);
}

int
options_load_file(const struct option_def *tab, void *cfg, const char *path,
    char **cause)
{
	struct load l = { tab, cfg, NULL };
	size_t n = 0;
	int rc;

	while (tab[n].key != NULL)
		n++;
	l.seen = xcalloc(n + 1, 1);
	options_defaults(tab, cfg);
	rc = ini_parse_file(path, load_key, &l, cause);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if ((tab[i].flags & OPT_REQUIRED) && !l.seen[i]) {
			*cause = xasprintf("%s: [%s] needs '%s'", path,
			    tab[i].section, tab[i].key);
			rc = -1;
		}
	}
	free(l.seen);
	return rc;
}

void
options_dump(const struct option_def *tab, const void *cfg, struct buf *out)
{
	const char *section = NULL;

	for (; tab->key != NULL; tab++) {
		const void *f = (const char *)cfg + tab->offset;

		if (section == NULL || strcmp(section, tab->section) != 0) {
			buf_printf(out, "%s[%s]\n", section ? "\n" : "",
			    tab->section);
			section = tab->section;
		}
		switch (tab->type) {
		case OPT_STRING:
		case OPT_ENUM: {
			const char *s = *(char *const *)f;

			if (s == NULL)
				buf_printf(out, "%s =\n", tab->key);
			else if (tab->flags & OPT_SECRET)
				buf_printf(out, "%s = (hidden)\n", tab->key);
			else
				buf_printf(out, "%s = %s\n", tab->key, s);
			break;
		}
		case OPT_BOOL:
			buf_printf(out, "%s = %s\n", tab->key,
			    *(const int *)f ? "true" : "false");
			break;
		case OPT_INT:
		case OPT_SIZE:
			buf_printf(out, "%s = %lld\n", tab->key,
			    *(const long long *)f);
			break;
		case OPT_DURATION:
			buf_printf(out, "%s = %llds\n", tab->key,
			    *(const long long *)f);
			break;
		}
	}
}

void
options_help(const struct option_def *tab, struct buf *out)
{
	for (; tab->key != NULL; tab++) {
		size_t n = strcspn(tab->help, "\n");
		char name[96];
		/* A required key's def is an example, as in options_defaults. */
		int def = tab->def != NULL &&
		    !(tab->flags & (OPT_REQUIRED | OPT_EXAMPLE));

		snprintf(name, sizeof name, "%s.%s", tab->section, tab->key);
		buf_printf(out, "  %-26s %.*s%s%s%s\n", name, (int)n,
		    tab->help, def ? " [" : "", def ? tab->def : "",
		    def ? "]" : "");
	}
}
