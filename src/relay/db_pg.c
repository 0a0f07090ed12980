/*
 * The PostgreSQL driver, through libpq. Statements run with text results;
 * integers go as text and blobs in binary. A statement is parsed by the
 * server on its first run and prepared under a name from its second, so
 * one-off statements leave nothing behind in the session.
 *
 * A connection that broke is reconnected on its next use, at most once per
 * backoff interval (0.2 s doubling to 5 s), and its statements are
 * prepared again. A connection that broke inside a transaction refuses
 * every statement but ROLLBACK: the caller's transaction is gone, and
 * running the rest of it on a new connection, one statement at a time,
 * would commit half of it.
 */
#include "relay/db.h"
#include "relay/db_driver.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "core/log.h"
#include "core/xalloc.h"

#define BACKOFF_MIN 0.2
#define BACKOFF_MAX 5.0

struct pg {
	struct db base;
	PGconn *conn;
	char *url;
	unsigned generation; /* bumped at every reconnect */
	unsigned next_name;
	int txn;	  /* the last command left a transaction open */
	int lost;	  /* it broke inside one: only ROLLBACK goes */
	double retry_at;  /* monotonic; no reconnect before */
	double backoff;
	int64_t changes;
	char sqlstate[6];
	char error[512];
};

struct pgq {
	struct dbq base;
	char *sql; /* with $N */
	int nparams;
	char **vals;
	int *lens;
	int *fmts;
	unsigned runs;
	unsigned prepared_gen; /* 0: not prepared */
	char name[24];
	PGresult *res;
	int row, nrows;
	char **blobs; /* decoded bytea per column of the current row */
	size_t *blob_lens;
};

#define PG(d) ((struct pg *)(d))
#define PGQ(q) ((struct pgq *)(q))

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
set_error(struct pg *p, const char *what)
{
	size_t n;

	snprintf(p->error, sizeof p->error, "%s", what != NULL && *what ?
	    what : "unknown PostgreSQL error");
	n = strlen(p->error);
	while (n > 0 && (p->error[n - 1] == '\n' || p->error[n - 1] == ' '))
		p->error[--n] = '\0';
}

static void
set_state(struct pg *p, const PGresult *r)
{
	const char *v = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	snprintf(p->sqlstate, sizeof p->sqlstate, "%s", v != NULL ? v : "");
}

static int
pg_conflict(struct db *d)
{
	/* Class 23: integrity constraint violation. */
	return strncmp(PG(d)->sqlstate, "23", 2) == 0;
}

static void
note_state(struct pg *p)
{
	PGTransactionStatusType t = PQtransactionStatus(p->conn);

	p->txn = t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

/*
 * Makes sure the connection is up before a command; 0 when it is, -1
 * (with the error set) when it is down and cannot come back yet.
 */
static int
ready(struct pg *p, const char *sql)
{
	double t;

	if (PQstatus(p->conn) == CONNECTION_OK)
		return 0;
	if (p->txn || p->lost) {
		p->lost = 1;
		if (strncmp(sql, "ROLLBACK", 8) != 0) {
			set_error(p, "the connection to PostgreSQL broke "
			    "inside a transaction");
			return -1;
		}
		p->lost = p->txn = 0;
	}
	t = now_mono();
	if (t < p->retry_at) {
		set_error(p, "PostgreSQL is unreachable; retrying");
		return -1;
	}
	PQreset(p->conn);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		p->backoff = p->backoff == 0 ? BACKOFF_MIN :
		    p->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : p->backoff * 2;
		p->retry_at = t + p->backoff;
		set_error(p, PQerrorMessage(p->conn));
		log_warn("store: PostgreSQL unreachable (next try in %.1f s): "
		    "%s", p->backoff, p->error);
		return -1;
	}
	log_info("store: reconnected to PostgreSQL");
	p->backoff = 0;
	p->retry_at = 0;
	p->generation++;
	return 0;
}

/* After a command failed: was it the connection? */
static void
after_failure(struct pg *p)
{
	set_error(p, PQerrorMessage(p->conn));
	if (PQstatus(p->conn) != CONNECTION_OK) {
		if (p->txn)
			p->lost = 1;
		p->retry_at = 0;
	} else
		note_state(p);
}

static void
pg_close(struct db *d)
{
	struct pg *p = PG(d);

	PQfinish(p->conn);
	free(p->url);
}

static const char *
pg_error(struct db *d)
{
	return PG(d)->error;
}

static int
pg_broken(struct db *d)
{
	return PQstatus(PG(d)->conn) != CONNECTION_OK;
}

static int
pg_exec(struct db *d, const char *sql, char **cause)
{
	struct pg *p = PG(d);
	PGresult *r;
	ExecStatusType st;

	p->sqlstate[0] = '\0';
	if (ready(p, sql) != 0)
		goto fail;
	r = PQexec(p->conn, sql);
	st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		set_state(p, r);
		set_error(p, PQresultErrorMessage(r));
		PQclear(r);
		after_failure(p);
		if (p->error[0] == '\0')
			set_error(p, PQerrorMessage(p->conn));
		goto fail;
	}
	PQclear(r);
	note_state(p);
	return 0;
fail:
	if (cause != NULL)
		*cause = xasprintf("%s: %s", d->name, p->error);
	else
		log_error("store: %s", p->error);
	return -1;
}

/* ?N becomes $N, outside string literals; counts the parameters. */
static char *
translate(const char *sql, int *nparams)
{
	size_t n = strlen(sql);
	char *out = xmalloc(n + 1), *o = out;
	int quote = 0, max = 0;

	for (const char *s = sql; *s != '\0'; s++) {
		if (*s == '\'')
			quote = !quote;
		if (!quote && *s == '?' && isdigit((unsigned char)s[1])) {
			int v = atoi(s + 1);

			if (v > max)
				max = v;
			*o++ = '$';
			continue;
		}
		*o++ = *s;
	}
	*o = '\0';
	*nparams = max;
	return out;
}

static struct dbq *
pg_prepare(struct db *d, const char *sql)
{
	struct pgq *q = xcalloc(1, sizeof *q);

	q->base.db = d;
	q->sql = translate(sql, &q->nparams);
	if (q->nparams > 0) {
		q->vals = xcalloc((size_t)q->nparams, sizeof *q->vals);
		q->lens = xcalloc((size_t)q->nparams, sizeof *q->lens);
		q->fmts = xcalloc((size_t)q->nparams, sizeof *q->fmts);
	}
	return &q->base;
}

static void
free_row(struct pgq *q)
{
	if (q->blobs != NULL && q->res != NULL) {
		int n = PQnfields(q->res);

		for (int i = 0; i < n; i++) {
			PQfreemem(q->blobs[i]);
			q->blobs[i] = NULL;
		}
	}
}

static void
pg_reset(struct dbq *dq)
{
	struct pgq *q = PGQ(dq);

	free_row(q);
	free(q->blobs);
	free(q->blob_lens);
	q->blobs = NULL;
	q->blob_lens = NULL;
	PQclear(q->res);
	q->res = NULL;
	for (int i = 0; i < q->nparams; i++) {
		free(q->vals[i]);
		q->vals[i] = NULL;
		q->lens[i] = 0;
		q->fmts[i] = 0;
	}
}

static void
pg_finalize(struct dbq *dq)
{
	struct pgq *q = PGQ(dq);
	struct pg *p = PG(dq->db);

	pg_reset(dq);
	if (q->prepared_gen != 0 && q->prepared_gen == p->generation &&
	    PQstatus(p->conn) == CONNECTION_OK &&
	    PQtransactionStatus(p->conn) != PQTRANS_INERROR) {
		char *sql = xasprintf("DEALLOCATE %s", q->name);

		PQclear(PQexec(p->conn, sql));
		free(sql);
	}
	free(q->sql);
	free(q->vals);
	free(q->lens);
	free(q->fmts);
	free(q);
}

static void
set_param(struct pgq *q, int i, char *v, int len, int fmt)
{
	if (i < 1 || i > q->nparams) {
		free(v);
		return;
	}
	free(q->vals[i - 1]);
	q->vals[i - 1] = v;
	q->lens[i - 1] = len;
	q->fmts[i - 1] = fmt;
}

static void
pg_bind_int(struct dbq *q, int i, int64_t v)
{
	set_param(PGQ(q), i, xasprintf("%" PRId64, v), 0, 0);
}

static void
pg_bind_text(struct dbq *q, int i, const char *v)
{
	set_param(PGQ(q), i, v != NULL ? xstrdup(v) : NULL, 0, 0);
}

static void
pg_bind_text_owned(struct dbq *q, int i, char *v)
{
	set_param(PGQ(q), i, v, 0, 0);
}

static void
pg_bind_blob(struct dbq *q, int i, const void *p, size_t len)
{
	char *v = xmalloc(len ? len : 1);

	memcpy(v, p, len);
	set_param(PGQ(q), i, v, (int)len, 1);
}

static void
pg_bind_null(struct dbq *q, int i)
{
	set_param(PGQ(q), i, NULL, 0, 0);
}

static int
pg_step(struct dbq *dq)
{
	struct pgq *q = PGQ(dq);
	struct pg *p = PG(dq->db);
	ExecStatusType st;
	const char *tuples;

	if (q->res != NULL) {
		free_row(q);
		if (q->row + 1 < q->nrows) {
			q->row++;
			return 1;
		}
		q->row = q->nrows;
		return 0;
	}
	p->sqlstate[0] = '\0';
	if (ready(p, q->sql) != 0)
		return -1;
	if (q->prepared_gen != 0 && q->prepared_gen == p->generation)
		q->res = PQexecPrepared(p->conn, q->name, q->nparams,
		    (const char *const *)q->vals, q->lens, q->fmts, 0);
	else if (q->runs > 0) {
		PGresult *r;

		snprintf(q->name, sizeof q->name, "g%u", ++p->next_name);
		r = PQprepare(p->conn, q->name, q->sql, 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			set_state(p, r);
			set_error(p, PQresultErrorMessage(r));
			PQclear(r);
			after_failure(p);
			return -1;
		}
		PQclear(r);
		q->prepared_gen = p->generation;
		q->res = PQexecPrepared(p->conn, q->name, q->nparams,
		    (const char *const *)q->vals, q->lens, q->fmts, 0);
	} else
		q->res = PQexecParams(p->conn, q->sql, q->nparams, NULL,
		    (const char *const *)q->vals, q->lens, q->fmts, 0);
	q->runs++;
	st = PQresultStatus(q->res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		set_state(p, q->res);
		set_error(p, PQresultErrorMessage(q->res));
		PQclear(q->res);
		q->res = NULL;
		p->changes = 0;
		after_failure(p);
		return -1;
	}
	note_state(p);
	tuples = PQcmdTuples(q->res);
	q->nrows = PQntuples(q->res);
	p->changes = *tuples != '\0' ? strtoll(tuples, NULL, 10) : q->nrows;
	if (q->nrows > 0) {
		q->blobs = xcalloc((size_t)PQnfields(q->res), sizeof *q->blobs);
		q->blob_lens = xcalloc((size_t)PQnfields(q->res),
		    sizeof *q->blob_lens);
	}
	q->row = 0;
	return q->nrows > 0 ? 1 : 0;
}

static int
pg_columns(struct dbq *q)
{
	return PGQ(q)->res != NULL ? PQnfields(PGQ(q)->res) : 0;
}

static const char *
pg_column_name(struct dbq *q, int col)
{
	return PGQ(q)->res != NULL ? PQfname(PGQ(q)->res, col) : NULL;
}

/* Type oids from pg_type.h, which libpq does not install. */
#define BOOLOID 16
#define BYTEAOID 17
#define INT8OID 20
#define INT2OID 21
#define INT4OID 23

static int
has_value(struct pgq *q, int col)
{
	return q->res != NULL && q->row < q->nrows &&
	    col < PQnfields(q->res) && !PQgetisnull(q->res, q->row, col);
}

static enum db_type
pg_type(struct dbq *dq, int col)
{
	struct pgq *q = PGQ(dq);

	if (!has_value(q, col))
		return DB_NULL;
	switch (PQftype(q->res, col)) {
	case BOOLOID:
	case INT8OID:
	case INT2OID:
	case INT4OID:
		return DB_INT;
	case BYTEAOID:
		return DB_BLOB;
	default:
		return DB_TEXT;
	}
}

static int64_t
pg_int(struct dbq *dq, int col)
{
	struct pgq *q = PGQ(dq);
	const char *v;

	if (!has_value(q, col))
		return 0;
	v = PQgetvalue(q->res, q->row, col);
	if (PQftype(q->res, col) == BOOLOID)
		return *v == 't';
	return strtoll(v, NULL, 10);
}

static const char *
pg_text(struct dbq *dq, int col)
{
	struct pgq *q = PGQ(dq);

	if (!has_value(q, col))
		return NULL;
	if (PQftype(q->res, col) == BOOLOID)
		return *PQgetvalue(q->res, q->row, col) == 't' ? "1" : "0";
	return PQgetvalue(q->res, q->row, col);
}

static const void *
pg_blob(struct dbq *dq, int col, size_t *len)
{
	struct pgq *q = PGQ(dq);
	const char *v;

	*len = 0;
	if (!has_value(q, col))
		return NULL;
	v = PQgetvalue(q->res, q->row, col);
	if (PQftype(q->res, col) != BYTEAOID) {
		*len = (size_t)PQgetlength(q->res, q->row, col);
		return v;
	}
	if (q->blobs[col] == NULL)
		q->blobs[col] = (char *)PQunescapeBytea(
		    (const unsigned char *)v, &q->blob_lens[col]);
	*len = q->blob_lens[col];
	return q->blobs[col];
}

static int64_t
pg_changes(struct db *d)
{
	return PG(d)->changes;
}

static int
pg_in_transaction(struct db *d)
{
	struct pg *p = PG(d);
	PGTransactionStatusType t = PQtransactionStatus(p->conn);

	/* A refused statement leaves the transaction open, failed: it
	 * still needs its ROLLBACK (or ROLLBACK TO a savepoint). */
	return PQstatus(p->conn) == CONNECTION_OK &&
	    (t == PQTRANS_INTRANS || t == PQTRANS_INERROR);
}

static int
pg_socket(struct db *d)
{
	return PQsocket(PG(d)->conn);
}

static int
pg_notifications(struct db *d, db_notify_fn fn, void *arg)
{
	struct pg *p = PG(d);
	PGnotify *n;
	int count = 0;

	if (PQconsumeInput(p->conn) == 0) {
		set_error(p, PQerrorMessage(p->conn));
		return -1;
	}
	while ((n = PQnotifies(p->conn)) != NULL) {
		count++;
		if (fn != NULL)
			fn(arg, n->relname, n->extra);
		PQfreemem(n);
	}
	return count;
}

static const struct db_ops pg_ops = {
	.close = pg_close,
	.error = pg_error,
	.conflict = pg_conflict,
	.exec = pg_exec,
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.bind_int = pg_bind_int,
	.bind_text = pg_bind_text,
	.bind_text_owned = pg_bind_text_owned,
	.bind_blob = pg_bind_blob,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.reset = pg_reset,
	.columns = pg_columns,
	.column_name = pg_column_name,
	.type = pg_type,
	.integer = pg_int,
	.text = pg_text,
	.blob = pg_blob,
	.changes = pg_changes,
	.in_transaction = pg_in_transaction,
	.broken = pg_broken,
	.socket = pg_socket,
	.notifications = pg_notifications,
};

/* libpq's notices (a ROLLBACK outside a transaction) are not ours to
 * print on stderr. */
static void
on_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static PGconn *
connect_url(const char *url, char **cause)
{
	static const char *const keys[] = { "dbname", "connect_timeout",
		"application_name", "keepalives", "keepalives_idle",
		"keepalives_interval", "keepalives_count", NULL };
	static const char *const vals[] = { NULL, "5", "glivi-relay", "1",
		"10", "5", "3", NULL };
	const char *v[sizeof vals / sizeof vals[0]];
	PQconninfoOption *opts;
	char *err = NULL;
	PGconn *c;

	/* A password belongs in a file (PGPASSFILE, ~/.pgpass), never in
	 * the relay's config, its logs or its command line. */
	opts = PQconninfoParse(url, &err);
	if (opts == NULL) {
		*cause = xasprintf("store url: %s", err ? err : "not a libpq "
		    "connection url");
		PQfreemem(err);
		return NULL;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL) {
			PQconninfoFree(opts);
			*cause = xstrdup("store url: it holds a password; put "
			    "it in a passfile (PGPASSFILE or ~/.pgpass) "
			    "instead");
			return NULL;
		}
	}
	PQconninfoFree(opts);
	memcpy(v, vals, sizeof v);
	v[0] = url;
	c = PQconnectdbParams(keys, v, 1);
	if (PQstatus(c) != CONNECTION_OK) {
		char *m = xstrdup(PQerrorMessage(c));
		size_t n = strlen(m);

		while (n > 0 && m[n - 1] == '\n')
			m[--n] = '\0';
		*cause = xasprintf("%s: cannot connect: %s", url, m);
		free(m);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, on_notice, NULL);
	return c;
}

int
db_pg_open(const char *url, int flags, struct db **out, char **cause)
{
	struct pg *p;
	PGconn *c;

	(void)flags;
	if ((c = connect_url(url, cause)) == NULL)
		return -1;
	p = xcalloc(1, sizeof *p);
	p->base.ops = &pg_ops;
	p->base.kind = DB_POSTGRES;
	p->base.name = xstrdup(url);
	p->url = xstrdup(url);
	p->conn = c;
	p->generation = 1;
	if (pg_exec(&p->base, "SET client_min_messages = warning",
	    cause) != 0 ||
	    ((flags & DB_READONLY) && pg_exec(&p->base, "SET "
	    "default_transaction_read_only = on", cause) != 0)) {
		db_close(&p->base);
		return -1;
	}
	*out = &p->base;
	return 0;
}

int
db_pg_scrub(const char *url, char **cause)
{
	PGconn *c = connect_url(url, cause);
	PGresult *r;
	int rc = 0;

	if (c == NULL)
		return -1;
	/* Plain VACUUM takes no lock that stops the relay; it frees the
	 * dead rows' space for reuse. */
	r = PQexec(c, "VACUUM messages, contacts, conversations, notes, "
	    "orders, statuses, webhooks, events, quarantine, idempotency, "
	    "read_receipts, history, media");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		*cause = xasprintf("%s: VACUUM: %s", url,
		    PQresultErrorMessage(r));
		rc = -1;
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}
