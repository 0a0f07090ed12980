/*
 * Key bindings: the keymap language's parser, the map per context and
 * help generated from it. Knows actions only as command ids; what they do
 * is elsewhere.
 */
#include "ui/keymap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "ui/commands.h"
#include "ui/text.h"

#define KEYMAP_MAX_FILE (1024 * 1024)
#define KEYMAP_MAX_WORDS 8

static const char *const context_names[KEYMAP_NCONTEXTS] = {
	[KEYMAP_GLOBAL] = "global",
	[KEYMAP_LIST] = "list",
	[KEYMAP_THREAD] = "thread",
	[KEYMAP_COMPOSE] = "compose",
	[KEYMAP_SEARCH] = "search",
	[KEYMAP_PROMPT] = "prompt",
};

struct binding {
	key_code key;
	int cmd;
};

/* Bindings in the order they were made, so help lists keys that way. */
struct table {
	struct binding *v;
	size_t n, cap;
};

struct keymap {
	struct table t[KEYMAP_NCONTEXTS];
};

/* One parsed line, applied only when the whole file has parsed. */
struct op {
	unsigned contexts; /* bit per context */
	key_code key;
	int cmd; /* -1: unbind */
};

struct ops {
	struct op *v;
	size_t n, cap;
};

const char *
keymap_context_name(enum keymap_context c)
{
	if ((unsigned)c >= KEYMAP_NCONTEXTS)
		return "?";
	return context_names[c];
}

int
keymap_context_find(const char *name)
{
	int c;

	for (c = 0; c < KEYMAP_NCONTEXTS; c++) {
		if (strcmp(context_names[c], name) == 0)
			return c;
	}
	return -1;
}

static int
is_text_context(enum keymap_context c)
{
	return c == KEYMAP_COMPOSE || c == KEYMAP_SEARCH || c == KEYMAP_PROMPT;
}

struct keymap *
keymap_new(void)
{
	return xcalloc(1, sizeof(struct keymap));
}

void
keymap_free(struct keymap *km)
{
	int c;

	if (km == NULL)
		return;
	for (c = 0; c < KEYMAP_NCONTEXTS; c++)
		free(km->t[c].v);
	free(km);
}

static struct binding *
table_find(const struct table *t, key_code key)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (t->v[i].key == key)
			return &t->v[i];
	}
	return NULL;
}

void
keymap_bind(struct keymap *km, enum keymap_context c, key_code key, int cmd)
{
	struct table *t = &km->t[c];
	struct binding *b;

	if ((b = table_find(t, key)) != NULL) {
		b->cmd = cmd;
		return;
	}
	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 32 : t->cap * 2;
		t->v = xrealloc(t->v, t->cap * sizeof *t->v);
	}
	t->v[t->n].key = key;
	t->v[t->n].cmd = cmd;
	t->n++;
}

void
keymap_unbind(struct keymap *km, enum keymap_context c, key_code key)
{
	struct table *t = &km->t[c];
	struct binding *b;

	if ((b = table_find(t, key)) == NULL)
		return;
	memmove(b, b + 1, (size_t)(t->v + t->n - (b + 1)) * sizeof *b);
	t->n--;
}

int
keymap_lookup_exact(const struct keymap *km, enum keymap_context c,
    key_code key)
{
	const struct binding *b;

	if ((unsigned)c >= KEYMAP_NCONTEXTS)
		return -1;
	b = table_find(&km->t[c], key);
	return b != NULL ? b->cmd : -1;
}

/* Whether a global binding of key reaches context c. */
static int
global_reaches(enum keymap_context c, key_code key)
{
	return !(is_text_context(c) && key_is_text(key));
}

int
keymap_lookup(const struct keymap *km, enum keymap_context c, key_code key)
{
	int cmd;

	if ((cmd = keymap_lookup_exact(km, c, key)) != -1)
		return cmd;
	if (c == KEYMAP_GLOBAL || !global_reaches(c, key))
		return -1;
	return keymap_lookup_exact(km, KEYMAP_GLOBAL, key);
}

/* --- The keymap language --- */

static void
ops_add(struct ops *ops, unsigned contexts, key_code key, int cmd)
{
	if (ops->n == ops->cap) {
		ops->cap = ops->cap == 0 ? 64 : ops->cap * 2;
		ops->v = xrealloc(ops->v, ops->cap * sizeof *ops->v);
	}
	ops->v[ops->n].contexts = contexts;
	ops->v[ops->n].key = key;
	ops->v[ops->n].cmd = cmd;
	ops->n++;
}

/*
 * Splits a line into words at spaces and tabs, in place. A word that
 * starts with '#' after the first one starts a comment; so does '#' as
 * the first character of the line. Only the key may be "#" itself,
 * which the caller sees because it knows the key's position.
 */
static size_t
split_words(char *line, char **words, size_t max, size_t key_at)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p == '#' && n != key_at)
			break;
		if (n == max)
			return max + 1; /* too many: the caller says so */
		words[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
	return n;
}

/* "list,thread" to a bit per context; -1 with *cause. */
static int
parse_contexts(char *s, unsigned *mask, char **cause)
{
	char *name, *save = NULL;
	int c;

	*mask = 0;
	for (name = strtok_r(s, ",", &save); name != NULL;
	    name = strtok_r(NULL, ",", &save)) {
		if ((c = keymap_context_find(name)) == -1) {
			*cause = xasprintf("unknown context '%s' (global, "
			    "list, thread, compose, search, prompt)", name);
			return -1;
		}
		*mask |= 1u << c;
	}
	if (*mask == 0) {
		*cause = xstrdup("no context before the key");
		return -1;
	}
	return 0;
}

/* UTF-8 with no control characters but tabs (utf8_has_controls' rule). */
static int
line_is_text(const char *s, size_t n)
{
	return !utf8_has_controls(s, n);
}

/* One line of a keymap file; -1 with *cause (no location). */
static int
parse_line(char *line, struct ops *ops, char **cause)
{
	char *w[KEYMAP_MAX_WORDS];
	size_t n;
	unsigned mask;
	key_code key;
	int cmd = -1, bind;

	/* The key is the third word; it alone may be "#". */
	n = split_words(line, w, KEYMAP_MAX_WORDS, 2);
	if (n == 0)
		return 0;
	bind = strcmp(w[0], "bind") == 0;
	if (!bind && strcmp(w[0], "unbind") != 0) {
		*cause = xasprintf("unknown directive '%s' (bind or unbind)",
		    w[0]);
		return -1;
	}
	if (n < (bind ? 4u : 3u)) {
		*cause = xstrdup(bind ?
		    "bind needs a context, a key and an action" :
		    "unbind needs a context and a key");
		return -1;
	}
	if (n > (bind ? 4u : 3u)) {
		*cause = xasprintf("%s takes %s words; a comment starts "
		    "with '#'", w[0], bind ? "three" : "two");
		return -1;
	}
	if (parse_contexts(w[1], &mask, cause) != 0)
		return -1;
	if (key_parse(w[2], &key, cause) != 0)
		return -1;
	if (bind && (cmd = commands_find(w[3])) == -1) {
		*cause = xasprintf("unknown action '%s'", w[3]);
		return -1;
	}
	ops_add(ops, mask, key, cmd);
	return 0;
}

static void
apply_ops(struct keymap *km, const struct ops *ops)
{
	size_t i;
	int c;

	for (i = 0; i < ops->n; i++) {
		for (c = 0; c < KEYMAP_NCONTEXTS; c++) {
			if (!(ops->v[i].contexts & (1u << c)))
				continue;
			if (ops->v[i].cmd == -1)
				keymap_unbind(km, c, ops->v[i].key);
			else
				keymap_bind(km, c, ops->v[i].key,
				    ops->v[i].cmd);
		}
	}
}

int
keymap_load_string(struct keymap *km, const char *name, const char *text,
    size_t len, char **cause)
{
	struct ops ops = { 0 };
	const char *p = text, *end = text + len, *nl;
	char *line, *why = NULL;
	size_t lineno = 0, n;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a BOM some editors write */
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--; /* CRLF */
		if (!line_is_text(p, n)) {
			why = xstrdup("not UTF-8 text (a control character or "
			    "invalid bytes)");
		} else {
			line = xstrndup(p, n);
			parse_line(line, &ops, &why);
			free(line);
		}
		if (why != NULL) {
			*cause = xasprintf("%s:%zu: %s", name, lineno, why);
			free(why);
			free(ops.v);
			return -1;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	apply_ops(km, &ops);
	free(ops.v);
	return 0;
}

int
keymap_load_file(struct keymap *km, const char *path, char **cause)
{
	struct buf b;
	char chunk[8192];
	FILE *f;
	size_t n;
	int rc;

	if ((f = fopen(path, "rb")) == NULL) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (b.len + n > KEYMAP_MAX_FILE) {
			*cause = xasprintf("%s: larger than %d bytes", path,
			    KEYMAP_MAX_FILE);
			fclose(f);
			buf_free(&b);
			return -1;
		}
		buf_add(&b, chunk, n);
	}
	if (ferror(f)) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		fclose(f);
		buf_free(&b);
		return -1;
	}
	fclose(f);
	rc = keymap_load_string(km, path, b.data != NULL ? b.data : "", b.len,
	    cause);
	buf_free(&b);
	return rc;
}

/* --- Help --- */

void
keymap_keys(const struct keymap *km, enum keymap_context c, int cmd,
    struct buf *out)
{
	const struct table *t = &km->t[c];
	char name[KEY_NAME_MAX];
	size_t i;
	int first = 1;

	for (i = 0; i < t->n; i++) {
		if (t->v[i].cmd != cmd)
			continue;
		key_name(t->v[i].key, name);
		buf_printf(out, "%s%s", first ? "" : ", ", name);
		first = 0;
	}
}

/*
 * The keys of cmd bound in `from` that reach context c: all of them when
 * from is c; for the global table, those c does not bind itself.
 */
static void
reaching_keys(const struct keymap *km, enum keymap_context c,
    enum keymap_context from, int cmd, struct buf *out)
{
	const struct table *t = &km->t[from];
	char name[KEY_NAME_MAX];
	size_t i;

	if (from == c) {
		keymap_keys(km, c, cmd, out);
		return;
	}
	for (i = 0; i < t->n; i++) {
		if (t->v[i].cmd != cmd || !global_reaches(c, t->v[i].key) ||
		    keymap_lookup_exact(km, c, t->v[i].key) != -1)
			continue;
		key_name(t->v[i].key, name);
		buf_printf(out, "%s%s", out->len == 0 ? "" : ", ", name);
	}
}

static void
pad(struct buf *out, size_t from, size_t to)
{
	while (from++ < to)
		buf_add(out, " ", 1);
}

static void
help_section(const struct keymap *km, enum keymap_context c,
    enum keymap_context from, struct buf *out)
{
	struct buf keys[CMD_COUNT];
	size_t kw = 0, aw = 0, w;
	int id, any = 0;

	for (id = 0; id < CMD_COUNT; id++) {
		buf_init(&keys[id]);
		reaching_keys(km, c, from, id, &keys[id]);
		if (keys[id].len == 0)
			continue;
		any = 1;
		if ((w = text_width(keys[id].data, keys[id].len)) > kw)
			kw = w;
		if ((w = strlen(commands_get(id)->name)) > aw)
			aw = w;
	}
	if (any)
		buf_printf(out, "%s\n", keymap_context_name(from));
	for (id = 0; id < CMD_COUNT; id++) {
		if (keys[id].len == 0) {
			buf_free(&keys[id]);
			continue;
		}
		buf_adds(out, "  ");
		buf_add(out, keys[id].data, keys[id].len);
		pad(out, text_width(keys[id].data, keys[id].len), kw + 2);
		buf_adds(out, commands_get(id)->name);
		pad(out, strlen(commands_get(id)->name), aw + 2);
		buf_printf(out, "%s\n", commands_get(id)->help);
		buf_free(&keys[id]);
	}
}

void
keymap_help_own(const struct keymap *km, enum keymap_context c,
    struct buf *out)
{
	help_section(km, c, c, out);
}

void
keymap_help(const struct keymap *km, enum keymap_context c, struct buf *out)
{
	struct buf section;

	/* Sections are built apart so the blank line between them is right. */
	buf_init(&section);
	help_section(km, c, c, &section);
	if (c != KEYMAP_GLOBAL) {
		struct buf global;

		buf_init(&global);
		help_section(km, c, KEYMAP_GLOBAL, &global);
		if (section.len > 0 && global.len > 0)
			buf_add(&section, "\n", 1);
		buf_add(&section, global.data, global.len);
		buf_free(&global);
	}
	buf_add(out, section.data, section.len);
	buf_free(&section);
}
