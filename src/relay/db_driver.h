/*
 * Inside db.c: what each driver provides. Only db.c and the drivers
 * include this.
 */
#ifndef GLIVI_DB_DRIVER_H
#define GLIVI_DB_DRIVER_H

#include "relay/db.h"

struct db_ops {
	void (*close)(struct db *);
	const char *(*error)(struct db *);
	int (*exec)(struct db *, const char *, char **);
	struct dbq *(*prepare)(struct db *, const char *);
	void (*finalize)(struct dbq *);
	void (*bind_int)(struct dbq *, int, int64_t);
	void (*bind_text)(struct dbq *, int, const char *);
	void (*bind_text_owned)(struct dbq *, int, char *);
	void (*bind_blob)(struct dbq *, int, const void *, size_t);
	void (*bind_null)(struct dbq *, int);
	int (*step)(struct dbq *);
	void (*reset)(struct dbq *);
	int (*columns)(struct dbq *);
	const char *(*column_name)(struct dbq *, int);
	enum db_type (*type)(struct dbq *, int);
	int64_t (*integer)(struct dbq *, int);
	const char *(*text)(struct dbq *, int);
	const void *(*blob)(struct dbq *, int, size_t *);
	int64_t (*changes)(struct db *);
	int (*in_transaction)(struct db *);
	int (*conflict)(struct db *);
	int (*broken)(struct db *);
	int (*socket)(struct db *);
	int (*notifications)(struct db *);
};

struct db {
	const struct db_ops *ops;
	enum db_kind kind;
	char *name;
};

struct dbq {
	struct db *db;
};

int db_sqlite_open(const char *path, int flags, struct db **, char **);
int db_sqlite_scrub(const char *path, char **);
int db_pg_open(const char *url, int flags, struct db **, char **);
int db_pg_scrub(const char *url, char **);

#endif
