/*
 * The SQLite driver: WAL, a busy timeout, and the background checkpointer
 * that keeps checkpoints off the writer.
 */
#include "relay/db.h"
#include "relay/db_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/log.h"
#include "core/xalloc.h"

/*
 * Checkpoints copy the WAL back into the database and fsync it. Done on the
 * writer, they stall every commit queued behind them; so a durable store
 * runs them on a thread of their own, with its own connection, woken when
 * the WAL grows past CHECKPOINT_PAGES. PASSIVE never blocks the writer.
 */
#define CHECKPOINT_PAGES 2000

struct checkpointer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int pending;
	int stopping;
	sqlite3 *db;
};

struct sq {
	struct db base;
	sqlite3 *db;
	struct checkpointer *ckpt;
};

struct sqq {
	struct dbq base;
	sqlite3_stmt *s;
};

#define SQ(d) ((struct sq *)(d))
#define SQQ(q) ((struct sqq *)(q))

static void
sq_close(struct db *d)
{
	struct sq *s = SQ(d);
	struct checkpointer *c = s->ckpt;

	if (c != NULL) {
		sqlite3_wal_hook(s->db, NULL, NULL);
		pthread_mutex_lock(&c->lock);
		c->stopping = 1;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
		sqlite3_close(c->db);
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->wake);
		free(c);
	}
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		log_warn("store: close: %s", sqlite3_errmsg(s->db));
}

static const char *
sq_error(struct db *d)
{
	return sqlite3_errmsg(SQ(d)->db);
}

static int
sq_conflict(struct db *d)
{
	return sqlite3_errcode(SQ(d)->db) == SQLITE_CONSTRAINT;
}

static int
sq_exec(struct db *d, const char *sql, char **cause)
{
	char *err = NULL;

	if (sqlite3_exec(SQ(d)->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		if (cause != NULL)
			*cause = xasprintf("%s: %s", d->name,
			    err ? err : sqlite3_errmsg(SQ(d)->db));
		else
			log_error("store: %s", err ? err :
			    sqlite3_errmsg(SQ(d)->db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static struct dbq *
sq_prepare(struct db *d, const char *sql)
{
	struct sqq *q;
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v3(SQ(d)->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &s, NULL) != SQLITE_OK)
		return NULL;
	q = xcalloc(1, sizeof *q);
	q->base.db = d;
	q->s = s;
	return &q->base;
}

static void
sq_finalize(struct dbq *q)
{
	sqlite3_finalize(SQQ(q)->s);
	free(q);
}

static void
sq_bind_int(struct dbq *q, int i, int64_t v)
{
	sqlite3_bind_int64(SQQ(q)->s, i, v);
}

static void
sq_bind_text(struct dbq *q, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(SQQ(q)->s, i);
	else
		sqlite3_bind_text(SQQ(q)->s, i, v, -1, SQLITE_TRANSIENT);
}

static void
sq_bind_text_owned(struct dbq *q, int i, char *v)
{
	if (v == NULL)
		sqlite3_bind_null(SQQ(q)->s, i);
	else
		sqlite3_bind_text(SQQ(q)->s, i, v, -1, free);
}

static void
sq_bind_blob(struct dbq *q, int i, const void *p, size_t len)
{
	sqlite3_bind_blob(SQQ(q)->s, i, p, (int)len, SQLITE_TRANSIENT);
}

static void
sq_bind_null(struct dbq *q, int i)
{
	sqlite3_bind_null(SQQ(q)->s, i);
}

static int
sq_step(struct dbq *q)
{
	int rc = sqlite3_step(SQQ(q)->s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return -1;
}

static void
sq_reset(struct dbq *q)
{
	sqlite3_reset(SQQ(q)->s);
	sqlite3_clear_bindings(SQQ(q)->s);
}

static int
sq_columns(struct dbq *q)
{
	return sqlite3_column_count(SQQ(q)->s);
}

static const char *
sq_column_name(struct dbq *q, int col)
{
	return sqlite3_column_name(SQQ(q)->s, col);
}

static enum db_type
sq_type(struct dbq *q, int col)
{
	switch (sqlite3_column_type(SQQ(q)->s, col)) {
	case SQLITE_INTEGER:
		return DB_INT;
	case SQLITE_BLOB:
		return DB_BLOB;
	case SQLITE_NULL:
		return DB_NULL;
	default:
		return DB_TEXT;
	}
}

static int64_t
sq_int(struct dbq *q, int col)
{
	return sqlite3_column_int64(SQQ(q)->s, col);
}

static const char *
sq_text(struct dbq *q, int col)
{
	return (const char *)sqlite3_column_text(SQQ(q)->s, col);
}

static const void *
sq_blob(struct dbq *q, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(SQQ(q)->s, col);

	*len = (size_t)sqlite3_column_bytes(SQQ(q)->s, col);
	return p;
}

static int64_t
sq_changes(struct db *d)
{
	return sqlite3_changes(SQ(d)->db);
}

static int
sq_in_transaction(struct db *d)
{
	return sqlite3_get_autocommit(SQ(d)->db) == 0;
}

static const struct db_ops sq_ops = {
	.close = sq_close,
	.error = sq_error,
	.conflict = sq_conflict,
	.exec = sq_exec,
	.prepare = sq_prepare,
	.finalize = sq_finalize,
	.bind_int = sq_bind_int,
	.bind_text = sq_bind_text,
	.bind_text_owned = sq_bind_text_owned,
	.bind_blob = sq_bind_blob,
	.bind_null = sq_bind_null,
	.step = sq_step,
	.reset = sq_reset,
	.columns = sq_columns,
	.column_name = sq_column_name,
	.type = sq_type,
	.integer = sq_int,
	.text = sq_text,
	.blob = sq_blob,
	.changes = sq_changes,
	.in_transaction = sq_in_transaction,
};

/*
 * Before SQLite's first use: no memory statistics (the relay reads none),
 * which SQLite otherwise keeps under a global mutex taken on every
 * allocation by every connection.
 */
static void
sq_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static pthread_once_t sq_once = PTHREAD_ONCE_INIT;

int
db_sqlite_open(const char *path, int flags, struct db **out, char **cause)
{
	struct sq *s;
	int fd;

	pthread_once(&sq_once, sq_setup);
	/*
	 * Create the file private before SQLite does, with umask's help.
	 * Only when it does not exist: closing a descriptor of the file
	 * drops every POSIX lock this process holds on it, and a second
	 * connection opened inside the running relay (the retention sweep,
	 * an export's audit record) would pull the locks from under the
	 * writer, whose commits then go to a WAL another connection resets.
	 */
	if (!(flags & DB_READONLY) && access(path, F_OK) != 0) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			*cause = xasprintf("%s: %s", path, strerror(errno));
			return -1;
		}
		close(fd);
	}
	s = xcalloc(1, sizeof *s);
	s->base.ops = &sq_ops;
	s->base.kind = DB_SQLITE;
	s->base.name = xstrdup(path);
	if (sqlite3_open_v2(path, &s->db, ((flags & DB_READONLY) ?
	    SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*cause = xasprintf("%s: %s", path, sqlite3_errmsg(s->db));
		db_close(&s->base);
		return -1;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if (!(flags & DB_READONLY) &&
	    (sq_exec(&s->base, "PRAGMA journal_mode = WAL", cause) != 0 ||
	    sq_exec(&s->base, (flags & DB_DURABLE) ?
	    "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
	    cause) != 0 ||
	    sq_exec(&s->base, "PRAGMA foreign_keys = OFF", cause) != 0 ||
	    /* Debian builds SQLite with this on; an erasure must not rely
	     * on how SQLite was built. */
	    sq_exec(&s->base, "PRAGMA secure_delete = ON", cause) != 0)) {
		db_close(&s->base);
		return -1;
	}
	*out = &s->base;
	return 0;
}

static void *
checkpointer_main(void *arg)
{
	struct checkpointer *c = arg;
	int log_pages, done_pages;

	pthread_setname_np(pthread_self(), "glivi-ckpt");
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->pending && !c->stopping)
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->stopping)
			break;
		c->pending = 0;
		pthread_mutex_unlock(&c->lock);
		if (sqlite3_wal_checkpoint_v2(c->db, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, &log_pages, &done_pages) !=
		    SQLITE_OK && sqlite3_errcode(c->db) != SQLITE_BUSY)
			log_warn("store: checkpoint: %s",
			    sqlite3_errmsg(c->db));
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static int
on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct checkpointer *c = arg;

	(void)db;
	(void)name;
	if (pages >= CHECKPOINT_PAGES) {
		pthread_mutex_lock(&c->lock);
		c->pending = 1;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
	}
	return SQLITE_OK;
}

int
db_background_checkpoints(struct db *d, char **cause)
{
	struct checkpointer *c;

	if (d->kind != DB_SQLITE)
		return 0;
	c = xcalloc(1, sizeof *c);
	if (sqlite3_open_v2(d->name, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*cause = xasprintf("%s: %s", d->name, sqlite3_errmsg(c->db));
		sqlite3_close(c->db);
		free(c);
		return -1;
	}
	sqlite3_busy_timeout(c->db, 1000);
	sqlite3_exec(c->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
		*cause = xstrdup("cannot start the checkpoint thread");
		sqlite3_close(c->db);
		free(c);
		return -1;
	}
	SQ(d)->ckpt = c;
	/* Replaces SQLite's own auto-checkpoint on the writer. */
	sqlite3_wal_hook(SQ(d)->db, on_wal_commit, c);
	return 0;
}

int
db_sqlite_scrub(const char *path, char **cause)
{
	sqlite3 *db = NULL;
	int rc = SQLITE_ERROR, logp = -1, done = -1;

	pthread_once(&sq_once, sq_setup);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(db, 2000);
	/* A connection that has read nothing has no WAL open, and its
	 * checkpoint does nothing and says SQLITE_OK. */
	if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto fail;
	/* TRUNCATE waits for readers to leave the WAL; a stream or sync
	 * page holds it for milliseconds, so a few tries are enough. */
	for (int i = 0; i < 10; i++) {
		rc = sqlite3_wal_checkpoint_v2(db, NULL,
		    SQLITE_CHECKPOINT_TRUNCATE, &logp, &done);
		if (rc == SQLITE_OK && logp == 0)
			break;
		if (rc == SQLITE_OK)
			rc = SQLITE_BUSY;
		usleep(100000);
	}
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_close(db);
	return 0;
fail:
	*cause = xasprintf("%s: WAL checkpoint: %s", path, db != NULL ?
	    sqlite3_errmsg(db) : "cannot open");
	sqlite3_close(db);
	return -1;
}
