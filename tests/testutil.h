/*
 * Helpers shared by the unit tests and the fuzz targets that need a
 * scratch directory on disk (a real cache file), and the store's URL for
 * tests that run against SQLite or PostgreSQL alike.
 */
#ifndef GLIVI_TESTUTIL_H
#define GLIVI_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>

static int
testutil_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* Removes path and everything below it; 0, or -1. */
static inline int
testutil_rmtree(const char *path)
{
	return nftw(path, testutil_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#ifdef GLIVI_TESTUTIL_PG
/*
 * The relay store a test runs against. With GLIVI_TEST_PG_URL (the base
 * URL of a running cluster, PGPASSFILE set too: tests/run-with-pg) every
 * call makes a new empty database and returns its URL, so tests share
 * nothing; otherwise a SQLite file in dir. Built into the tests that
 * link libpq (GLIVI_TESTUTIL_PG), so the others need no libpq headers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>
#include <libpq-fe.h>

#include "core/xalloc.h"

/* base with its database (the path after host:port) replaced by db. */
static inline char *
testutil_pg_url_with(const char *base, const char *db)
{
	const char *auth, *path, *query;

	auth = strstr(base, "://");
	auth = auth != NULL ? auth + 3 : base;
	query = strchr(auth, '?');
	path = strchr(auth, '/');
	if (path == NULL || (query != NULL && path > query))
		path = query != NULL ? query : auth + strlen(auth);
	return xasprintf("%.*s/%s%s", (int)(path - base), base, db,
	    query != NULL ? query : "");
}

/* Runs one statement on the base database; exits the test on failure. */
static inline void
testutil_pg_exec(const char *base, const char *sql)
{
	PGconn *c = PQconnectdb(base);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "testutil: cannot connect to %s: %s", base,
		    PQerrorMessage(c));
		PQfinish(c);
		exit(1);
	}
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "testutil: %s: %s", sql, PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		exit(1);
	}
	PQclear(r);
	PQfinish(c);
}

/* The store's URL (caller frees): a new PostgreSQL database, or
 * sqlite:dir/relay.db. */
static inline char *
testutil_store_url(const char *dir)
{
	static unsigned counter;
	const char *base = getenv("GLIVI_TEST_PG_URL");
	char name[64], *sql, *url;

	if (base == NULL || *base == '\0')
		return xasprintf("sqlite:%s/relay.db", dir);
	snprintf(name, sizeof name, "glivi_t_%ld_%u", (long)getpid(),
	    counter++);
	sql = xasprintf("CREATE DATABASE %s", name);
	testutil_pg_exec(base, sql);
	free(sql);
	url = testutil_pg_url_with(base, name);
	return url;
}

/* Drops the database testutil_store_url made; nothing for SQLite (the
 * caller removes dir). Every connection to it must be closed. */
static inline void
testutil_store_drop(const char *url)
{
	const char *base = getenv("GLIVI_TEST_PG_URL"), *db, *end;
	char *sql;

	if (base == NULL || *base == '\0' || strncmp(url, "sqlite:", 7) == 0)
		return;
	db = strstr(url, "://");
	db = strchr(db != NULL ? db + 3 : url, '/');
	if (db == NULL)
		return;
	db++;
	end = db + strcspn(db, "?");
	/* Names are ours (glivi_t_PID_N): no quoting needed. */
	if (strncmp(db, "glivi_t_", 8) != 0)
		return;
	sql = xasprintf("DROP DATABASE IF EXISTS %.*s WITH (FORCE)",
	    (int)(end - db), db);
	testutil_pg_exec(base, sql);
	free(sql);
}

/*
 * Breaks the store under the connections open on it, for tests of how a
 * failed read is reported; only testutil_store_drop may follow. On
 * PostgreSQL every connection to the database is ended (one inside a
 * transaction then refuses every statement; one outside fails its next);
 * on SQLite the file is overwritten with zeros, so a connection that
 * reads it again finds no database (the WAL must hold nothing by then:
 * store_scrub first).
 */
static inline void
testutil_store_break(const char *url)
{
	const char *base = getenv("GLIVI_TEST_PG_URL"), *db, *end;
	static const char zero[4096];
	PGconn *c;
	PGresult *r;
	char *sql;
	off_t size;
	int fd, left = 1;

	if (strncmp(url, "sqlite:", 7) == 0) {
		if ((fd = open(url + 7, O_WRONLY)) < 0) {
			fprintf(stderr, "testutil: cannot open %s\n", url + 7);
			exit(1);
		}
		size = lseek(fd, 0, SEEK_END);
		for (off_t at = 0; at < size; at += sizeof zero) {
			if (pwrite(fd, zero, sizeof zero, at) < 0)
				exit(1);
		}
		fsync(fd);
		close(fd);
		return;
	}
	db = strchr(strstr(url, "://") + 3, '/') + 1;
	end = db + strcspn(db, "?");
	/* Names are ours (glivi_t_PID_N): no quoting needed. */
	sql = xasprintf("SELECT count(pg_terminate_backend(pid)) FROM "
	    "pg_stat_activity WHERE datname = '%.*s' AND "
	    "pid <> pg_backend_pid()", (int)(end - db), db);
	if (PQstatus(c = PQconnectdb(base)) != CONNECTION_OK)
		exit(1);
	/* Ending a backend is asynchronous: wait until none is left. */
	for (int i = 0; left > 0 && i < 500; i++) {
		r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			exit(1);
		left = atoi(PQgetvalue(r, 0, 0));
		PQclear(r);
		if (left > 0)
			usleep(10000);
	}
	free(sql);
	PQfinish(c);
}
#endif /* GLIVI_TESTUTIL_PG */

#endif
