/*
 * libFuzzer target for what the client does with a sync page or a batch
 * of stream events from the relay. One cache is opened in a temporary
 * directory (as after a first sync: with its full-text triggers); each
 * input then goes through cache_page_envelope, and through cache_apply at
 * "$.events" and at "$" inside a transaction that is rolled back, and is
 * used as a search query there. Nothing in an input may crash, leak, fail
 * without a cause, or make the cache look damaged.
 */
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/cache.h"
#include "core/log.h"
#include "../testutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct cache *cache;
static char root[64];

static void
cleanup(void)
{
	cache_close(cache);
	cache = NULL;
	testutil_rmtree(root);
}

static void
open_cache(void)
{
	char *notice = NULL, *cause = NULL;

	snprintf(root, sizeof root, "/tmp/glivi-fuzz-cache-XXXXXX");
	if (mkdtemp(root) == NULL)
		abort();
	log_set_level(LOG_ERROR); /* skipped events are logged as warnings */
	cache = cache_open(root, "https://relay.fuzz:8443", &notice, &cause);
	if (cache == NULL || cache_initial_begin(cache, &cause) != 0 ||
	    cache_initial_end(cache, &cause) != 0) {
		fprintf(stderr, "fuzz-sync_page: %s\n", cause ? cause : "?");
		abort();
	}
	atexit(cleanup);
}

static void
count_hit(void *arg, const struct cache_hit *h)
{
	size_t *n = arg;

	/* Touch what a hit points at. */
	*n += strlen(h->kind) + (h->text ? strlen(h->text) : 0) +
	    (h->contact ? strlen(h->contact) : 0);
}

static void
apply(const char *text, size_t len, const char *path, const char *cursor)
{
	struct cache_applied a = { 0 };
	char *cause = NULL;

	if (cache_apply(cache, text, len, path, cursor, &a, &cause) != 0) {
		if (cause == NULL)
			abort();
		free(cause);
	} else if (a.applied + a.skipped > a.events || a.messages > a.events) {
		abort();
	}
	if (cache_damaged(cache))
		abort(); /* no input damages the file */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char *cause = NULL, *query;
	struct cache_page pg = { 0 };
	size_t hits = 0;

	if (cache == NULL)
		open_cache();
	if (cache_page_envelope(cache, text, size, &pg, &cause) != 0) {
		if (cause == NULL || pg.cursor != NULL)
			abort();
		free(cause);
		cause = NULL;
	} else if (pg.cursor == NULL || strlen(pg.cursor) == 0 ||
	    strlen(pg.cursor) > 255 || (pg.more != 0 && pg.more != 1) ||
	    pg.events < text || pg.events + pg.events_len > text + size ||
	    pg.events[0] != '[' || pg.events[pg.events_len - 1] != ']') {
		abort();
	}
	if (cache_begin(cache, &cause) != 0)
		abort();
	apply(text, size, "$.events", pg.cursor);
	apply(text, size, "$", "fuzz");
	if (pg.cursor != NULL) {
		/* The sync engine's path: the checked page, applied in place. */
		struct cache_applied a = { 0 };

		if (cache_apply_page(cache, &pg, &a, &cause) != 0) {
			if (cache_damaged(cache))
				abort();
			free(cause);
			cause = NULL;
		}
	}
	/* The same bytes as a query: never an FTS5 syntax error. */
	query = strndup(text, size);
	if (query == NULL)
		abort();
	if (cache_search(cache, query, 20, count_hit, &hits, &cause) < 0) {
		if (cause == NULL ||
		    strcmp(cause, "search needs at least one word") != 0) {
			fprintf(stderr, "search failed: %s\n", cause);
			abort();
		}
		free(cause);
	}
	free(query);
	cache_rollback(cache);
	cache_page_free(&pg);
	return 0;
}
