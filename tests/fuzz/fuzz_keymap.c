/*
 * libFuzzer target for the keymap language (user keymap files are outside
 * input): a file either loads, and then help for every context and a
 * lookup of every key it names must work, or fails with a "file:line:"
 * cause. Each line is also tried as a key name, whose canonical name must
 * read back as the same key.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "ui/commands.h"
#include "ui/key.h"
#include "ui/keymap.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_key_name(const char *s)
{
	char name[KEY_NAME_MAX], *cause = NULL;
	key_code k, again;

	if (key_parse(s, &k, &cause) != 0) {
		if (cause == NULL)
			abort();
		free(cause);
		return;
	}
	key_name(k, name);
	if (key_parse(name, &again, &cause) != 0 || again != k)
		abort();
}

static void
check_lines_as_keys(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;
	char *line;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		line = xstrndup(p, (size_t)((nl != NULL ? nl : end) - p));
		check_key_name(line);
		free(line);
		p = nl != NULL ? nl + 1 : end;
	}
}

static void
check_loaded(const struct keymap *km)
{
	enum keymap_context c;
	struct buf b;
	key_code k;
	int id;

	buf_init(&b);
	for (c = KEYMAP_GLOBAL; c < KEYMAP_NCONTEXTS; c++) {
		keymap_help(km, c, &b);
		for (id = 0; id < CMD_COUNT; id++)
			keymap_keys(km, c, id, &b);
		for (k = 0; k < 0x80; k++) {
			id = keymap_lookup(km, c, k);
			if (id < -1 || id >= CMD_COUNT)
				abort();
		}
	}
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct keymap *km = keymap_new();
	char *cause = NULL;

	if (keymap_load_string(km, "fuzz.keys", text, size, &cause) == 0) {
		check_loaded(km);
		/* Loading the same file again changes nothing and succeeds. */
		if (keymap_load_string(km, "fuzz.keys", text, size, &cause))
			abort();
		check_loaded(km);
	} else {
		if (cause == NULL || strncmp(cause, "fuzz.keys:", 10) != 0)
			abort();
		free(cause);
	}
	keymap_free(km);
	check_lines_as_keys(text, size);
	return 0;
}
