/*
 * client-search-load: times glivi-tui's full-text search (cache_search,
 * what 'glivi-tui search' and the screen's search run) over a synced
 * cache, beside the raw FTS5 query for the same newest 50 hits on the
 * same file. Prints p50/p95/max per query class.
 *
 *   client-search-load --dir CACHE_DIR --url RELAY_URL [--rounds N]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "client/cache.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
count_hit(void *arg, const struct cache_hit *h)
{
	(void)h;
	(*(int *)arg)++;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *what, *query, *fts;
	} queries[] = {
		{ "very common word", "bench", "\"bench\"" },
		{ "two common words", "lorem ipsum", "\"lorem\" \"ipsum\"" },
		{ "rare number", "123457", "\"123457\"" },
		{ "prefix", "12345*", "\"12345\"*" },
		{ "word + number", "message 999999", "\"message\" \"999999\"" },
		{ "no match", "zzzzqqq", "\"zzzzqqq\"" },
		{ "contact name", "customer", "\"customer\"" },
	};
	const char *dir = NULL, *url = NULL;
	int rounds = 50, c, fail = 0;
	struct cache *cache;
	char *notice = NULL, *cause = NULL;
	sqlite3 *raw;
	sqlite3_stmt *s;
	double worst_p50 = 0;

	while ((c = getopt(argc, argv, "d:u:r:")) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'u')
			url = optarg;
		else if (c == 'r')
			rounds = atoi(optarg);
	}
	if (dir == NULL || url == NULL || rounds < 1) {
		fprintf(stderr, "usage: client-search-load -d CACHE_DIR -u "
		    "RELAY_URL [-r ROUNDS]\n");
		return 2;
	}
	if ((cache = cache_open(dir, url, &notice, &cause)) == NULL) {
		fprintf(stderr, "client-search-load: %s\n", cause);
		return 1;
	}
	if (sqlite3_open_v2(cache_path(cache), &raw, SQLITE_OPEN_READONLY,
	    NULL) != SQLITE_OK || sqlite3_prepare_v2(raw, "SELECT rowid FROM"
	    " message_fts WHERE message_fts MATCH ?1 ORDER BY rowid DESC"
	    " LIMIT 50", -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "client-search-load: %s\n", sqlite3_errmsg(raw));
		return 1;
	}
	printf("%-18s %6s %9s %9s %9s   %s\n", "query", "hits", "p50 ms",
	    "p95 ms", "max ms", "raw FTS5 newest-50 p50 ms");
	for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
		double *t = calloc((size_t)rounds, sizeof *t);
		double *r = calloc((size_t)rounds, sizeof *r);
		int hits = 0;

		for (int i = 0; i < rounds; i++) {
			double t0 = now_ms();

			hits = 0;
			if (cache_search(cache, queries[q].query, 50, count_hit,
			    &hits, &cause) < 0) {
				fprintf(stderr, "search failed: %s\n", cause);
				return 1;
			}
			t[i] = now_ms() - t0;
			t0 = now_ms();
			sqlite3_bind_text(s, 1, queries[q].fts, -1,
			    SQLITE_STATIC);
			while (sqlite3_step(s) == SQLITE_ROW)
				;
			sqlite3_reset(s);
			r[i] = now_ms() - t0;
		}
		qsort(t, (size_t)rounds, sizeof *t, cmp);
		qsort(r, (size_t)rounds, sizeof *r, cmp);
		printf("%-18s %6d %9.3f %9.3f %9.3f   %9.3f\n", queries[q].what,
		    hits, t[rounds / 2], t[rounds * 95 / 100], t[rounds - 1],
		    r[rounds / 2]);
		if (t[rounds / 2] > worst_p50)
			worst_p50 = t[rounds / 2];
		free(t);
		free(r);
	}
	fail = worst_p50 > 10.0;
	printf("bar: every query's p50 <= 10 ms: worst p50 %.3f ms: %s\n",
	    worst_p50, fail ? "FAIL" : "PASS");
	sqlite3_finalize(s);
	sqlite3_close(raw);
	cache_close(cache);
	return fail;
}
