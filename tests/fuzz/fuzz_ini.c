/*
 * libFuzzer target for the INI reader: each input is parsed twice, once
 * with a callback that takes everything and once with one that refuses
 * keys named "bad", so both the success and the callback-error paths run.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ini.h"
#include "core/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
accept_all(void *ctx, const char *section, const char *key,
    const char *value, char **cause)
{
	size_t *n = ctx;

	/* Touch every byte so a bad pointer shows up here. */
	*n += strlen(section);
	if (key != NULL)
		*n += strlen(key) + strlen(value);
	return 0;
}

static int
reject_bad(void *ctx, const char *section, const char *key,
    const char *value, char **cause)
{
	if (key != NULL && strcmp(key, "bad") == 0) {
		*cause = xasprintf("bad: refused value '%s'", value);
		return -1;
	}
	if (key == NULL && strcmp(section, "bad") == 0)
		return -1; /* no cause: the parser says "rejected" */
	return accept_all(ctx, section, key, value, cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cause = NULL;
	size_t n = 0;

	if (ini_parse_string("fuzz.conf", (const char *)data, size, accept_all,
	    &n, &cause) != 0) {
		if (cause == NULL)
			abort();
		free(cause);
		cause = NULL;
	}
	if (ini_parse_string("fuzz.conf", (const char *)data, size, reject_bad,
	    &n, &cause) != 0) {
		if (cause == NULL)
			abort();
		free(cause);
	}
	return 0;
}
