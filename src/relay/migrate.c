/*
 * Moves a store between databases through the driver interface (db.h).
 * The tables and their keys are listed here; their columns come from each
 * database's catalog, so the copy follows the schema store.c creates
 * without repeating it. The source is read on a read-only connection in
 * one snapshot; the target is written in one transaction, so a failed
 * copy leaves it as empty as it was. Row contents are never printed.
 */
#include "relay/migrate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/buf.h"
#include "core/hmac.h"
#include "core/xalloc.h"
#include "relay/db.h"
#include "relay/store.h"

/*
 * Every table of the schema with its primary key, the order its rows are
 * copied and hashed in. meta moves too: its epoch and seq are what agents'
 * sync cursors name, so they stay valid on the new database. A table the
 * catalog shows and this list lacks stops the copy: a newer schema needs
 * this list brought up to date, never a silently partial copy.
 */
static const struct mtable {
	const char *name;
	const char *key; /* primary key columns, comma-separated */
} mtables[] = {
	{ "meta", "k" },
	{ "changes", "kind,entity_id" },
	{ "numbers", "id" },
	{ "webhooks", "id" },
	{ "events", "id" },
	{ "quarantine", "id" },
	{ "contacts", "id" },
	{ "conversations", "id" },
	{ "messages", "id" },
	{ "statuses", "number_id,wamid,status" },
	{ "orders", "id" },
	{ "notes", "id" },
	{ "agents", "id" },
	{ "templates", "id" },
	{ "idempotency", "agent_id,key" },
	{ "media", "id" },
	{ "read_receipts", "conversation_id" },
	{ "history", "id" },
	{ "labels", "id" },
	{ "canned_replies", "id" },
	{ "audit", "id" },
};
#define NMTABLES (sizeof mtables / sizeof mtables[0])

/* The database's bookkeeping, not the store's: store_open writes
 * PostgreSQL's schema version there on each side. */
#define SCHEMA_TABLE "glivi_schema"

/* Rows per FETCH from a PostgreSQL cursor: libpq holds a result whole. */
#define FETCH_ROWS "1000"
/* Parameters per INSERT, under SQLite's oldest limit (999); rows per
 * INSERT, under its limit on the terms of a VALUES list (500). */
#define MAX_PARAMS 999
#define MAX_BATCH 200
/* A progress line every so many rows of one table. */
#define PROGRESS_ROWS 50000

/* What a column holds, from its declared type; values are copied and
 * hashed by class, so SQLite's loose typing and PostgreSQL's strict one
 * meet on the same text. */
enum mclass { M_INT, M_TEXT, M_BLOB };

struct mcols {
	size_t n;
	char **name;
	enum mclass *class;
	size_t *order; /* column indexes by name: the order values hash in */
};

/* One table read in key order: a statement stepped to its end (SQLite),
 * or a cursor fetched a batch at a time (PostgreSQL). */
struct mreader {
	struct db *db;
	struct dbq *q;
	int cursor;
	int done;
};

/* One value of a batch waiting for its INSERT. */
struct mval {
	enum db_type type; /* DB_NULL, DB_INT, or DB_TEXT for bytes */
	int64_t i;
	char *p; /* NUL-terminated copy */
	size_t len;
};

struct msum {
	int64_t rows;
	unsigned char digest[32];
};

static int
is_pg(struct db *d)
{
	return db_kind(d) == DB_POSTGRES;
}

static int
contains_ci(const char *s, const char *word)
{
	return strcasestr(s, word) != NULL;
}

/* SQLite's affinity rules, which PostgreSQL's type names fit as well
 * (bigint, integer; bytea; text). */
static enum mclass
classify(const char *type)
{
	if (contains_ci(type, "int"))
		return M_INT;
	if (*type == '\0' || contains_ci(type, "blob") ||
	    strcasecmp(type, "bytea") == 0)
		return M_BLOB;
	return M_TEXT;
}

/* An identifier in double quotes, which both databases take. */
static void
add_ident(struct buf *b, const char *name)
{
	buf_adds(b, "\"");
	for (const char *s = name; *s != '\0'; s++) {
		buf_add(b, s, 1);
		if (*s == '"')
			buf_add(b, s, 1);
	}
	buf_adds(b, "\"");
}

static const struct mtable *
mtable_find(const char *name)
{
	for (size_t i = 0; i < NMTABLES; i++)
		if (strcmp(mtables[i].name, name) == 0)
			return &mtables[i];
	return NULL;
}

static void
free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
db_fail(struct db *d, const char *what, char **cause)
{
	*cause = xasprintf("%s: %s: %s", db_name(d), what, db_error(d));
	return -1;
}

/* The database's tables but SCHEMA_TABLE. */
static int
catalog_tables(struct db *d, char ***out, size_t *n, char **cause)
{
	struct dbq *q;
	char **v = NULL;
	int rc;

	*n = 0;
	q = db_prepare(d, is_pg(d) ?
	    "SELECT table_name FROM information_schema.tables"
	    " WHERE table_schema = current_schema()"
	    " AND table_type = 'BASE TABLE'" :
	    "SELECT name FROM sqlite_master WHERE type = 'table'"
	    " AND name NOT LIKE 'sqlite^_%' ESCAPE '^'");
	if (q == NULL)
		return db_fail(d, "reading the catalog", cause);
	while ((rc = db_step(q)) == 1) {
		const char *name = db_text(q, 0);

		if (name == NULL || strcmp(name, SCHEMA_TABLE) == 0)
			continue;
		v = xreallocarray(v, *n + 1, sizeof *v);
		v[(*n)++] = xstrdup(name);
	}
	db_finalize(q);
	if (rc < 0) {
		free_names(v, *n);
		return db_fail(d, "reading the catalog", cause);
	}
	*out = v;
	return 0;
}

static void
mcols_free(struct mcols *c)
{
	free_names(c->name, c->n);
	free(c->class);
	free(c->order);
	memset(c, 0, sizeof *c);
}

static int
mcols_find(const struct mcols *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->name[i], name) == 0)
			return (int)i;
	return -1;
}

/* A table's columns in the catalog's order, and their order by name. */
static int
table_columns(struct db *d, const char *table, struct mcols *c,
    char **cause)
{
	struct dbq *q;
	int rc;

	memset(c, 0, sizeof *c);
	q = db_prepare(d, is_pg(d) ?
	    "SELECT column_name, data_type FROM information_schema.columns"
	    " WHERE table_schema = current_schema() AND table_name = ?1"
	    " ORDER BY ordinal_position" :
	    "SELECT name, type FROM pragma_table_info(?1) ORDER BY cid");
	if (q == NULL)
		return db_fail(d, "reading the catalog", cause);
	db_bind_text(q, 1, table);
	while ((rc = db_step(q)) == 1) {
		const char *type = db_text(q, 1);

		c->name = xreallocarray(c->name, c->n + 1, sizeof *c->name);
		c->class = xreallocarray(c->class, c->n + 1,
		    sizeof *c->class);
		c->name[c->n] = xstrdup(db_text(q, 0));
		c->class[c->n] = classify(type != NULL ? type : "");
		c->n++;
	}
	db_finalize(q);
	if (rc < 0) {
		mcols_free(c);
		return db_fail(d, "reading the catalog", cause);
	}
	if (c->n == 0) {
		*cause = xasprintf("%s: no table %s", db_name(d), table);
		return -1;
	}
	c->order = xreallocarray(NULL, c->n, sizeof *c->order);
	for (size_t i = 0; i < c->n; i++) {
		size_t j = i;

		for (; j > 0 && strcmp(c->name[c->order[j - 1]],
		    c->name[i]) > 0; j--)
			c->order[j] = c->order[j - 1];
		c->order[j] = i;
	}
	return 0;
}

/* Both sides must have the same columns of the same classes: they are
 * made by the same glivi-relay at the same schema version. */
static int
columns_match(const char *table, const struct mcols *s,
    const struct mcols *d, char **cause)
{
	if (s->n != d->n) {
		*cause = xasprintf("table %s has %zu columns in the source and "
		    "%zu in the target", table, s->n, d->n);
		return -1;
	}
	for (size_t i = 0; i < s->n; i++) {
		int j = mcols_find(d, s->name[i]);

		if (j < 0 || d->class[j] != s->class[i]) {
			*cause = xasprintf("table %s: column %s differs "
			    "between the source and the target", table,
			    s->name[i]);
			return -1;
		}
	}
	return 0;
}

/*
 * Every table the database holds is one this file knows, and every one it
 * knows is there: a store at another schema than this glivi-relay's would
 * otherwise be copied in part.
 */
static int
tables_known(struct db *d, char **cause)
{
	char **v;
	size_t n;
	int rc = 0;

	if (catalog_tables(d, &v, &n, cause) != 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (mtable_find(v[i]) == NULL) {
			*cause = xasprintf("%s: table %s is not one migrate "
			    "knows; nothing copied", db_name(d), v[i]);
			rc = -1;
		}
	}
	if (rc == 0 && n != NMTABLES) {
		*cause = xasprintf("%s: %zu tables where the store has %zu; "
		    "nothing copied", db_name(d), n, NMTABLES);
		rc = -1;
	}
	free_names(v, n);
	return rc;
}

static int
has_row(struct db *d, const char *sql, int *yes, char **cause)
{
	struct dbq *q = db_prepare(d, sql);
	int rc;

	if (q == NULL)
		return db_fail(d, "counting rows", cause);
	rc = db_step(q);
	db_finalize(q);
	if (rc < 0)
		return db_fail(d, "counting rows", cause);
	*yes = rc == 1;
	return 0;
}

/*
 * The target is empty: no table holds a row, but for what store_open
 * writes into a new store's meta (an epoch, the horizon at 0). Copying
 * into a store in use would mix two stores' ids and change logs.
 */
static int
target_empty(struct db *d, char **cause)
{
	char **v;
	size_t n;
	int rc = 0, yes = 0;

	if (catalog_tables(d, &v, &n, cause) != 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0 && !yes; i++) {
		struct buf b;

		buf_init(&b);
		if (strcmp(v[i], "meta") == 0)
			buf_adds(&b, "SELECT 1 FROM meta WHERE k NOT IN "
			    "('epoch', 'horizon') OR (k = 'horizon' AND "
			    "v <> '0') LIMIT 1");
		else {
			buf_adds(&b, "SELECT 1 FROM ");
			add_ident(&b, v[i]);
			buf_adds(&b, " LIMIT 1");
		}
			rc = has_row(d, b.data, &yes, cause);
		buf_free(&b);
		if (rc == 0 && yes)
			*cause = xasprintf("%s is not empty (table %s holds "
			    "rows); migrate copies only into an empty "
			    "database", db_name(d), v[i]);
	}
	free_names(v, n);
	return rc != 0 || yes ? -1 : 0;
}

/* A source that is not a store yet would be made one by store_open: a
 * mistyped path must not copy an empty store. */
static int
source_is_store(const char *url, char **cause)
{
	struct db *d;
	char **v;
	size_t n;
	int found = 0;

	if (db_open(url, DB_READONLY, &d, cause) != 0)
		return -1;
	if (catalog_tables(d, &v, &n, cause) != 0) {
		db_close(d);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		found |= strcmp(v[i], "meta") == 0;
	free_names(v, n);
	if (!found)
		*cause = xasprintf("%s holds no glivi store", db_name(d));
	db_close(d);
	return found ? 0 : -1;
}

/* A snapshot to read every table in. */
static int
read_begin(struct db *d, char **cause)
{
	return db_exec(d, is_pg(d) ? "BEGIN ISOLATION LEVEL REPEATABLE READ "
	    "READ ONLY" : "BEGIN", cause);
}

static int
reader_open(struct mreader *r, struct db *d, const struct mtable *t,
    const struct mcols *c, char **cause)
{
	struct buf b;
	const char *k, *comma;
	int rc = 0;

	memset(r, 0, sizeof *r);
	r->db = d;
	r->cursor = is_pg(d);
	buf_init(&b);
	if (r->cursor)
		buf_adds(&b, "DECLARE migrate_rows NO SCROLL CURSOR FOR ");
	buf_adds(&b, "SELECT ");
	for (size_t i = 0; i < c->n; i++) {
		if (i > 0)
			buf_adds(&b, ", ");
		add_ident(&b, c->name[i]);
	}
	buf_adds(&b, " FROM ");
	add_ident(&b, t->name);
	buf_adds(&b, " ORDER BY ");
	/* Text keys sort by bytes on both sides: SQLite's BINARY is
	 * PostgreSQL's "C", whatever the database's own collation. */
	for (k = t->key; k != NULL; k = comma != NULL ? comma + 1 : NULL) {
		char *col;
		int i;

		comma = strchr(k, ',');
		col = comma != NULL ? xstrndup(k, (size_t)(comma - k)) :
		    xstrdup(k);
		if (k != t->key)
			buf_adds(&b, ", ");
		add_ident(&b, col);
		i = mcols_find(c, col);
		if (r->cursor && i >= 0 && c->class[i] == M_TEXT)
			buf_adds(&b, " COLLATE \"C\"");
		free(col);
	}
	if (r->cursor)
		rc = db_exec(d, b.data, cause);
	else if ((r->q = db_prepare(d, b.data)) == NULL)
		rc = db_fail(d, t->name, cause);
	buf_free(&b);
	return rc;
}

/* 1 with a row in r->q, 0 at the end, -1 on error. */
static int
reader_next(struct mreader *r)
{
	int rc;

	if (r->q != NULL && (rc = db_step(r->q)) != 0)
		return rc;
	if (!r->cursor || r->done)
		return 0;
	/* A statement of its own per batch: PostgreSQL does not prepare
	 * FETCH under a name, which the driver does from a second run. */
	db_finalize(r->q);
	r->q = db_prepare(r->db, "FETCH " FETCH_ROWS " FROM migrate_rows");
	if ((rc = db_step(r->q)) == 0)
		r->done = 1;
	return rc;
}

static void
reader_close(struct mreader *r)
{
	db_finalize(r->q);
	r->q = NULL;
	if (r->cursor)
		db_exec(r->db, "CLOSE migrate_rows", NULL);
}

static void
hash_str(EVP_MD_CTX *ctx, const char *s)
{
	EVP_DigestUpdate(ctx, s, strlen(s));
}

/*
 * Feeds one row's canonical text to the hash: a "name=value" line per
 * column in name order, ints in decimal ("i:"), bytes of text with their
 * length ("t:LEN:"), blobs in hex ("x:"), NULL as "null", and an empty
 * line after the row. Both databases give the same text for the same
 * row, whatever their column order and types.
 */
static void
hash_row(EVP_MD_CTX *ctx, struct dbq *q, const struct mcols *c)
{
	char num[64], hex[2 * 256 + 1];

	for (size_t k = 0; k < c->n; k++) {
		size_t i = c->order[k];
		enum db_type t = db_type(q, (int)i);
		const unsigned char *p;
		size_t len;

		hash_str(ctx, c->name[i]);
		if (t == DB_NULL) {
			hash_str(ctx, "=null\n");
			continue;
		}
		if (c->class[i] == M_INT && t == DB_INT) {
			snprintf(num, sizeof num, "=i:%" PRId64 "\n",
			    db_int(q, (int)i));
			hash_str(ctx, num);
			continue;
		}
		p = db_blob(q, (int)i, &len);
		if (c->class[i] == M_BLOB) {
			hash_str(ctx, "=x:");
			for (size_t off = 0; off < len; off += 256) {
				size_t n = len - off < 256 ? len - off : 256;

				hex_encode(p + off, n, hex);
				EVP_DigestUpdate(ctx, hex, 2 * n);
			}
		} else {
			snprintf(num, sizeof num, "=t:%zu:", len);
			hash_str(ctx, num);
			if (len > 0)
				EVP_DigestUpdate(ctx, p, len);
		}
		hash_str(ctx, "\n");
	}
	hash_str(ctx, "\n");
}

static void
progress(const char *verb, const char *table, int64_t rows, double t0,
    int last)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(stderr, "migrate: %s %s: %" PRId64 " rows%s (%.1f s)\n",
	    verb, table, rows, last ? "" : " so far",
	    (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - t0);
}

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Counts and hashes a table; the verification's read of either side. */
static int
table_sum(struct db *d, const struct mtable *t, const struct mcols *c,
    struct msum *sum, char **cause)
{
	struct mreader r;
	EVP_MD_CTX *ctx;
	int rc;

	memset(sum, 0, sizeof *sum);
	if (reader_open(&r, d, t, c, cause) != 0)
		return -1;
	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((rc = reader_next(&r)) == 1) {
		hash_row(ctx, r.q, c);
		sum->rows++;
	}
	EVP_DigestFinal_ex(ctx, sum->digest, NULL);
	EVP_MD_CTX_free(ctx);
	if (rc < 0)
		db_fail(d, t->name, cause);
	reader_close(&r);
	return rc < 0 ? -1 : 0;
}

static char *
insert_sql(const struct mtable *t, const struct mcols *c, size_t rows)
{
	struct buf b;
	int p = 1;

	buf_init(&b);
	buf_adds(&b, "INSERT INTO ");
	add_ident(&b, t->name);
	buf_adds(&b, "(");
	for (size_t i = 0; i < c->n; i++) {
		if (i > 0)
			buf_adds(&b, ", ");
		add_ident(&b, c->name[i]);
	}
	buf_adds(&b, ") VALUES");
	for (size_t r = 0; r < rows; r++) {
		buf_adds(&b, r > 0 ? ", (" : "(");
		for (size_t i = 0; i < c->n; i++)
			buf_printf(&b, "%s?%d", i > 0 ? ", " : "", p++);
		buf_adds(&b, ")");
	}
	return buf_steal(&b);
}

/* Takes a value of the source's current row, as the target's column
 * class wants it: ints stay ints, anything else goes as its bytes. */
static void
take_value(struct mval *v, struct dbq *q, int i, enum mclass to)
{
	enum db_type t = db_type(q, i);
	const void *p;

	memset(v, 0, sizeof *v);
	if (t == DB_NULL)
		return;
	if (t == DB_INT && to == M_INT) {
		v->type = DB_INT;
		v->i = db_int(q, i);
		return;
	}
	v->type = DB_TEXT;
	p = db_blob(q, i, &v->len);
	v->p = xmalloc(v->len + 1);
	if (v->len > 0)
		memcpy(v->p, p, v->len);
	v->p[v->len] = '\0';
}

/* Inserts the batch's rows with one statement: the prepared full-size
 * one, or one made for a short last batch. */
static int
flush_batch(struct db *d, const struct mtable *t, const struct mcols *c,
    struct dbq *full, size_t per, struct mval *vals, size_t rows,
    char **cause)
{
	struct dbq *q = full;
	char *sql = NULL;
	size_t n = rows * c->n;
	int rc;

	if (rows == 0)
		return 0;
	if (rows != per) {
		sql = insert_sql(t, c, rows);
		if ((q = db_prepare(d, sql)) == NULL) {
			free(sql);
			return db_fail(d, t->name, cause);
		}
	}
	for (size_t j = 0; j < n; j++) {
		struct mval *v = &vals[j];
		int p = (int)j + 1;

		if (v->type == DB_NULL)
			db_bind_null(q, p);
		else if (v->type == DB_INT)
			db_bind_int(q, p, v->i);
		else if (c->class[j % c->n] == M_BLOB)
			db_bind_blob(q, p, v->p, v->len);
		else
			db_bind_text(q, p, v->p);
		free(v->p);
		v->p = NULL;
	}
	rc = db_step(q);
	if (rc < 0)
		db_fail(d, t->name, cause);
	if (q == full)
		db_reset(q);
	else
		db_finalize(q);
	free(sql);
	return rc < 0 ? -1 : 0;
}

/*
 * Copies one table in key order, in batches of multi-row INSERTs naming
 * the columns; the source's count and hash come from the same pass.
 * Column classes are the target's (the same as the source's, checked).
 */
static int
copy_table(struct db *src, struct db *dst, const struct mtable *t,
    const struct mcols *c, struct msum *sum, char **cause)
{
	struct mreader r;
	struct mval *vals;
	struct dbq *full;
	EVP_MD_CTX *ctx;
	size_t per, k = 0;
	char *sql;
	double t0 = now_mono();
	int rc, failed = 0;

	memset(sum, 0, sizeof *sum);
	per = MAX_PARAMS / c->n;
	if (per > MAX_BATCH)
		per = MAX_BATCH;
	sql = insert_sql(t, c, per);
	full = db_prepare(dst, sql);
	free(sql);
	if (full == NULL)
		return db_fail(dst, t->name, cause);
	if (reader_open(&r, src, t, c, cause) != 0) {
		db_finalize(full);
		return -1;
	}
	vals = xcalloc(per * c->n, sizeof *vals);
	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((rc = reader_next(&r)) == 1) {
		hash_row(ctx, r.q, c);
		for (size_t i = 0; i < c->n; i++)
			take_value(&vals[k * c->n + i], r.q, (int)i,
			    c->class[i]);
		sum->rows++;
		if (++k == per) {
			if (flush_batch(dst, t, c, full, per, vals, k,
			    cause) != 0) {
				failed = 1;
				break;
			}
			k = 0;
		}
		if (sum->rows % PROGRESS_ROWS == 0)
			progress("copying", t->name, sum->rows, t0, 0);
	}
	if (rc < 0) {
		db_fail(src, t->name, cause);
		failed = 1;
	}
	if (!failed && flush_batch(dst, t, c, full, per, vals, k,
	    cause) != 0)
		failed = 1;
	for (size_t j = 0; j < per * c->n; j++)
		free(vals[j].p);
	free(vals);
	EVP_DigestFinal_ex(ctx, sum->digest, NULL);
	EVP_MD_CTX_free(ctx);
	reader_close(&r);
	db_finalize(full);
	if (!failed)
		progress("copied", t->name, sum->rows, t0, 1);
	return failed ? -1 : 0;
}

/*
 * PostgreSQL hands out ids from identity sequences that know nothing of
 * copied rows: each goes past its table's largest id, or the first new
 * row would collide with a copied one.
 */
static int
advance_identities(struct db *d, const struct mtable *t,
    const struct mcols *c, char **cause)
{
	struct dbq *q;
	char *sql;
	int i = mcols_find(c, "id"), rc;

	if (i < 0 || c->class[i] != M_INT)
		return 0;
	sql = xasprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'),"
	    " coalesce(max(id), 0) + 1, false) FROM \"%s\"", t->name,
	    t->name);
	q = db_prepare(d, sql);
	free(sql);
	rc = db_step(q);
	db_finalize(q);
	if (rc < 0)
		return db_fail(d, t->name, cause);
	return 0;
}

static int
confirm(void)
{
	char line[64];

	fprintf(stderr, "Type 'migrate' to go on: ");
	fflush(stderr);
	if (fgets(line, sizeof line, stdin) == NULL ||
	    strcmp(line, "migrate\n") != 0)
		return 0;
	return 1;
}

static void
hex16(const unsigned char digest[32], char out[17])
{
	hex_encode(digest, 8, out);
}

/* The verification table on stdout; the number of tables that differ. */
static int
report(const struct msum *src, const struct msum *dst)
{
	char a[17], b[17];
	int bad = 0;

	printf("%-16s %12s %12s  %-16s  %s\n", "table", "source",
	    "target", "source sha256", "target sha256");
	for (size_t i = 0; i < NMTABLES; i++) {
		int same = src[i].rows == dst[i].rows &&
		    memcmp(src[i].digest, dst[i].digest, 32) == 0;

		hex16(src[i].digest, a);
		hex16(dst[i].digest, b);
		printf("%-16s %12" PRId64 " %12" PRId64 "  %s  %s  %s\n",
		    mtables[i].name, src[i].rows, dst[i].rows, a, b,
		    same ? "ok" : "DIFFERS");
		bad += !same;
	}
	fflush(stdout);
	return bad;
}

/*
 * --check: compares two stores as the copy's verification does, writing
 * to neither; for a second look before relays move to the copy.
 */
static int
check_stores(const struct migrate_options *o, char **cause)
{
	struct db *src = NULL, *dst = NULL;
	struct msum ssum[NMTABLES], dsum[NMTABLES];
	int rc = -1, bad;

	if (db_open(o->from, DB_READONLY, &src, cause) != 0 ||
	    db_open(o->to, DB_READONLY, &dst, cause) != 0)
		goto out;
	if (read_begin(src, cause) != 0 || read_begin(dst, cause) != 0)
		goto out;
	if (tables_known(src, cause) != 0 || tables_known(dst, cause) != 0)
		goto out;
	for (size_t i = 0; i < NMTABLES; i++) {
		struct mcols sc, dc;
		int r;

		if (table_columns(src, mtables[i].name, &sc, cause) != 0)
			goto out;
		if (table_columns(dst, mtables[i].name, &dc, cause) != 0) {
			mcols_free(&sc);
			goto out;
		}
		r = columns_match(mtables[i].name, &sc, &dc, cause);
		if (r == 0)
			r = table_sum(src, &mtables[i], &sc, &ssum[i], cause);
		if (r == 0)
			r = table_sum(dst, &mtables[i], &dc, &dsum[i], cause);
		mcols_free(&sc);
		mcols_free(&dc);
		if (r != 0)
			goto out;
	}
	if ((bad = report(ssum, dsum)) != 0) {
		fprintf(stderr, "migrate: %d table(s) differ\n", bad);
		rc = 1;
	} else {
		fprintf(stderr, "migrate: every table matches\n");
		rc = 0;
	}
out:
	db_close(src);
	db_close(dst);
	return rc;
}

static int
is_sqlite_missing(const char *url)
{
	return db_url_kind(url, NULL) == DB_SQLITE &&
	    access(url + 7, F_OK) != 0;
}

int
migrate_store(const struct migrate_options *o, char **cause)
{
	struct db *src = NULL, *dst = NULL;
	struct store *st = NULL, *tst = NULL;
	struct mcols cols[NMTABLES];
	struct msum ssum[NMTABLES], dsum[NMTABLES];
	int rc = -1, bad;

	memset(cols, 0, sizeof cols);
	if (db_url_kind(o->from, cause) < 0 || db_url_kind(o->to, cause) < 0)
		return -1;
	if (strcmp(o->from, o->to) == 0) {
		*cause = xstrdup("--from and --to name the same database");
		return -1;
	}
	if (o->check)
		return check_stores(o, cause);
	if (source_is_store(o->from, cause) != 0)
		return -1;
	/* A SQLite target that does not exist yet is empty; checking would
	 * make the file even when the answer is no. */
	if (!is_sqlite_missing(o->to)) {
		if (db_open(o->to, 0, &dst, cause) != 0)
			return -1;
		rc = target_empty(dst, cause);
		db_close(dst);
		dst = NULL;
		if (rc != 0)
			return -1;
		rc = -1;
	}
	fprintf(stderr, "migrate: copying the store into an empty database. "
	    "Stop every relay on the source first: what they store after "
	    "the copy would not be in it.\n");
	if (!o->yes && !confirm()) {
		*cause = xstrdup("nothing copied");
		return -1;
	}

	/* The source at this glivi-relay's schema (store_open's migration
	 * is its one write), and the target with the same schema. The
	 * source stays open: SQLite keeps its shared memory for the
	 * read-only connection. */
	if (store_open(o->from, STORE_RELAXED, &st, cause) != 0)
		goto out;
	if (store_open(o->to, STORE_DURABLE, &tst, cause) != 0)
		goto out;
	fprintf(stderr, "migrate: %s (schema %d) to %s\n",
	    o->from, store_schema_version(st), o->to);
	store_close(tst);
	tst = NULL;
	if (db_open(o->from, DB_READONLY, &src, cause) != 0 ||
	    db_open(o->to, DB_DURABLE, &dst, cause) != 0)
		goto out;
	if (read_begin(src, cause) != 0)
		goto out;
	if (tables_known(src, cause) != 0 || tables_known(dst, cause) != 0)
		goto out;
	for (size_t i = 0; i < NMTABLES; i++) {
		struct mcols dc;
		int m;

		if (table_columns(src, mtables[i].name, &cols[i], cause) != 0)
			goto out;
		if (table_columns(dst, mtables[i].name, &dc, cause) != 0)
			goto out;
		m = columns_match(mtables[i].name, &cols[i], &dc, cause);
		mcols_free(&dc);
		if (m != 0)
			goto out;
	}

	/* One transaction: a copy that fails leaves the target empty. The
	 * target's own epoch goes; the source's comes with meta. */
	if (db_exec(dst, is_pg(dst) ? "BEGIN" : "BEGIN IMMEDIATE",
	    cause) != 0)
		goto out;
	if (target_empty(dst, cause) != 0 ||
	    db_exec(dst, "DELETE FROM meta", cause) != 0)
		goto rollback;
	for (size_t i = 0; i < NMTABLES; i++) {
		if (copy_table(src, dst, &mtables[i], &cols[i], &ssum[i],
		    cause) != 0)
			goto rollback;
		if (is_pg(dst) && advance_identities(dst, &mtables[i],
		    &cols[i], cause) != 0)
			goto rollback;
	}
	if (db_exec(dst, "COMMIT", cause) != 0)
		goto rollback;
	db_exec(src, "ROLLBACK", NULL);

	/* Verification: the target read back as committed, hashed the way
	 * the source was while it was copied. */
	fprintf(stderr, "migrate: verifying\n");
	if (read_begin(dst, cause) != 0)
		goto out;
	for (size_t i = 0; i < NMTABLES; i++) {
		struct mcols dc;
		int s;

		if (table_columns(dst, mtables[i].name, &dc, cause) != 0)
			goto out;
		s = table_sum(dst, &mtables[i], &dc, &dsum[i], cause);
		mcols_free(&dc);
		if (s != 0)
			goto out;
	}
	db_exec(dst, "ROLLBACK", NULL);
	if ((bad = report(ssum, dsum)) != 0) {
		fprintf(stderr, "migrate: %d table(s) differ between the "
		    "source and the copy; do not start a relay on the "
		    "target\n", bad);
		rc = 1;
	} else {
		fprintf(stderr, "migrate: every table matches\n");
		rc = 0;
	}
	goto out;

rollback:
	db_exec(dst, "ROLLBACK", NULL);
out:
	for (size_t i = 0; i < NMTABLES; i++)
		mcols_free(&cols[i]);
	db_close(src);
	db_close(dst);
	store_close(tst);
	store_close(st);
	return rc;
}
