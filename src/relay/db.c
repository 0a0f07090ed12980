/*
 * The store's database interface: the url picks a driver, and every call
 * goes to it.
 */
#include "relay/db.h"
#include "relay/db_driver.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

int
db_url_kind(const char *url, char **cause)
{
	if (strncmp(url, "sqlite:", 7) == 0 && url[7] != '\0')
		return DB_SQLITE;
	if (strncmp(url, "postgres://", 11) == 0 ||
	    strncmp(url, "postgresql://", 13) == 0)
		return DB_POSTGRES;
	if (cause != NULL)
		*cause = xasprintf("store url '%s': expected sqlite:PATH or "
		    "postgres://…", url);
	return -1;
}

int
db_open(const char *url, int flags, struct db **out, char **cause)
{
	switch (db_url_kind(url, cause)) {
	case DB_SQLITE:
		return db_sqlite_open(url + 7, flags, out, cause);
	case DB_POSTGRES:
		return db_pg_open(url, flags, out, cause);
	default:
		return -1;
	}
}

int
db_scrub(const char *url, char **cause)
{
	switch (db_url_kind(url, cause)) {
	case DB_SQLITE:
		return db_sqlite_scrub(url + 7, cause);
	case DB_POSTGRES:
		return db_pg_scrub(url, cause);
	default:
		return -1;
	}
}

void
db_close(struct db *d)
{
	if (d == NULL)
		return;
	d->ops->close(d);
	free(d->name);
	free(d);
}

enum db_kind
db_kind(const struct db *d)
{
	return d->kind;
}

const char *
db_name(const struct db *d)
{
	return d->name;
}

const char *
db_error(struct db *d)
{
	return d->ops->error(d);
}

int
db_conflict(struct db *d)
{
	return d->ops->conflict(d);
}

int
db_broken(struct db *d)
{
	return d->ops->broken != NULL && d->ops->broken(d);
}

int
db_exec(struct db *d, const char *sql, char **cause)
{
	return d->ops->exec(d, sql, cause);
}

struct dbq *
db_prepare(struct db *d, const char *sql)
{
	return d->ops->prepare(d, sql);
}

void
db_finalize(struct dbq *q)
{
	if (q != NULL)
		q->db->ops->finalize(q);
}

void
db_bind_int(struct dbq *q, int i, int64_t v)
{
	q->db->ops->bind_int(q, i, v);
}

void
db_bind_text(struct dbq *q, int i, const char *v)
{
	q->db->ops->bind_text(q, i, v);
}

void
db_bind_text_owned(struct dbq *q, int i, char *v)
{
	q->db->ops->bind_text_owned(q, i, v);
}

void
db_bind_blob(struct dbq *q, int i, const void *p, size_t len)
{
	q->db->ops->bind_blob(q, i, p, len);
}

void
db_bind_null(struct dbq *q, int i)
{
	q->db->ops->bind_null(q, i);
}

int
db_step(struct dbq *q)
{
	return q->db->ops->step(q);
}

void
db_reset(struct dbq *q)
{
	q->db->ops->reset(q);
}

int
db_columns(struct dbq *q)
{
	return q->db->ops->columns(q);
}

const char *
db_column_name(struct dbq *q, int col)
{
	return q->db->ops->column_name(q, col);
}

enum db_type
db_type(struct dbq *q, int col)
{
	return q->db->ops->type(q, col);
}

int64_t
db_int(struct dbq *q, int col)
{
	return q->db->ops->integer(q, col);
}

const char *
db_text(struct dbq *q, int col)
{
	return q->db->ops->text(q, col);
}

const void *
db_blob(struct dbq *q, int col, size_t *len)
{
	return q->db->ops->blob(q, col, len);
}

int
db_is_null(struct dbq *q, int col)
{
	return db_type(q, col) == DB_NULL;
}

int64_t
db_changes(struct db *d)
{
	return d->ops->changes(d);
}

int
db_in_transaction(struct db *d)
{
	return d->ops->in_transaction(d);
}

int
db_socket(struct db *d)
{
	return d->ops->socket != NULL ? d->ops->socket(d) : -1;
}

int
db_notifications(struct db *d)
{
	return d->ops->notifications != NULL ? d->ops->notifications(d) : 0;
}
