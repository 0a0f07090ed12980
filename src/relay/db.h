/*
 * The two databases the relay's store runs on, behind one small interface:
 * SQLite (one relay, embedded) and PostgreSQL through libpq (several relays
 * on one database). The store writes one dialect of SQL, SQLite's with ?N
 * parameters and a few functions PostgreSQL learns in its first migration
 * (unixepoch, json_extract, json_valid, instr, two-argument max); the
 * PostgreSQL driver turns ?N into $N. Where the two cannot share a
 * statement the store picks by db_kind.
 *
 * A connection belongs to one thread at a time. Statements are prepared
 * once per connection; a PostgreSQL connection that broke is reconnected
 * on the next use (with backoff) and its statements prepared again.
 */
#ifndef GLIVI_DB_H
#define GLIVI_DB_H

#include <stddef.h>
#include <stdint.h>

enum db_kind { DB_SQLITE, DB_POSTGRES };

enum db_open_flags {
	DB_READONLY = 0x1,
	DB_DURABLE = 0x2, /* SQLite: synchronous = FULL */
};

/* What a column holds, as the store's migrations declare it. */
enum db_type { DB_NULL, DB_INT, DB_TEXT, DB_BLOB };

struct db;
struct dbq;

/* The kind a store url names ("sqlite:PATH", "postgres://…",
 * "postgresql://…"), or -1 with *cause. */
int db_url_kind(const char *url, char **cause);
int db_open(const char *url, int flags, struct db **, char **cause);
void db_close(struct db *);
enum db_kind db_kind(const struct db *);
/* The SQLite path, or the PostgreSQL url without any password. */
const char *db_name(const struct db *);
/* The last error of the connection. */
const char *db_error(struct db *);
/* The last error was a constraint (a unique key taken, a check). */
int db_conflict(struct db *);
/* True while the connection is known to be down (PostgreSQL). */
int db_broken(struct db *);

/* Runs one or more statements that return nothing the caller needs. */
int db_exec(struct db *, const char *sql, char **cause);

/* NULL when the SQL does not prepare (db_error says why). */
struct dbq *db_prepare(struct db *, const char *sql);
void db_finalize(struct dbq *);
void db_bind_int(struct dbq *, int i, int64_t);
/* NULL binds NULL. The text is copied. */
void db_bind_text(struct dbq *, int i, const char *);
/* Takes a malloc'd string. */
void db_bind_text_owned(struct dbq *, int i, char *);
void db_bind_blob(struct dbq *, int i, const void *, size_t);
void db_bind_null(struct dbq *, int i);
/* 1 with a row, 0 when done, -1 on error. */
int db_step(struct dbq *);
/* Ends the statement's run and clears its bindings. */
void db_reset(struct dbq *);
int db_columns(struct dbq *);
const char *db_column_name(struct dbq *, int col);
enum db_type db_type(struct dbq *, int col);
int64_t db_int(struct dbq *, int col);
/* NULL for SQL NULL; valid until the next step or reset. */
const char *db_text(struct dbq *, int col);
const void *db_blob(struct dbq *, int col, size_t *len);
int db_is_null(struct dbq *, int col);
/* Rows the last statement of this connection changed. */
int64_t db_changes(struct db *);
int db_in_transaction(struct db *);

/* SQLite: moves WAL checkpoints onto a thread of their own. */
int db_background_checkpoints(struct db *, char **cause);
/*
 * Makes deleted rows leave the files: SQLite checkpoints and truncates its
 * WAL; PostgreSQL vacuums the tables that hold personal data.
 */
int db_scrub(const char *url, char **cause);

/* PostgreSQL: a connection's server socket, to wait on notifications;
 * -1 for SQLite. */
int db_socket(struct db *);
/* PostgreSQL: takes notifications that arrived (returns how many), or -1
 * when the connection broke. */
int db_notifications(struct db *);

#endif
