/*
 * The client's cache and work files; see cache.h. Every SQL statement of
 * glivi-tui is in this file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "client/cache.h"
#include "core/buf.h"
#include "core/canned.h"
#include "core/hmac.h"
#include "core/jscan.h"
#include "core/log.h"
#include "core/xalloc.h"

/* -- schema ------------------------------------------------------------ */

/*
 * Numbered migrations of each file; user_version is the number applied.
 * Never edit one that has shipped: add the next.
 */
static const char *const cache_migrations[] = {
	/* 1 */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"CREATE TABLE conversations(id INTEGER PRIMARY KEY,"
	"  seq INTEGER NOT NULL, contact_id INTEGER, status TEXT,"
	"  assignee_id INTEGER, last_activity_at INTEGER,"
	"  last_message_id INTEGER, data TEXT NOT NULL);"
	/* A message's JSON lives apart: the narrow rows make the index and
	 * full-text builds of a first sync read a fraction of the bytes. */
	"CREATE TABLE messages(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
	"  conversation_id INTEGER NOT NULL, ts INTEGER, direction TEXT,"
	"  status TEXT, body TEXT);"
	"CREATE TABLE message_data(id INTEGER PRIMARY KEY, data TEXT NOT NULL);"
	"CREATE TABLE contacts(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
	"  name TEXT, phone TEXT, data TEXT NOT NULL);"
	"CREATE TABLE orders(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
	"  contact_id INTEGER, conversation_id INTEGER, data TEXT NOT NULL);"
	"CREATE TABLE notes(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
	"  conversation_id INTEGER, data TEXT NOT NULL);"
	"CREATE TABLE agents(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
	"  name TEXT, data TEXT NOT NULL);"
	"CREATE TABLE templates(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
	"  name TEXT, language TEXT, status TEXT, data TEXT NOT NULL);"
	"CREATE VIRTUAL TABLE message_fts USING fts5(body,"
	"  content='messages', content_rowid='id',"
	"  tokenize='unicode61 remove_diacritics 2');"
	"CREATE VIRTUAL TABLE contact_fts USING fts5(name, phone,"
	"  content='contacts', content_rowid='id',"
	"  tokenize='unicode61 remove_diacritics 2');",
	/* 2: the list's index covers its filters (see cache_indexes). */
	"DROP INDEX IF EXISTS conversations_by_activity;"
	"CREATE INDEX IF NOT EXISTS conversations_list"
	"  ON conversations(last_activity_at, assignee_id, status);",
	/* 3: the shared inbox: labels, canned replies, conversations'
	 * history lines. The cursor is kept: entities of these kinds that
	 * an older glivi-tui skipped come back only with a new sync, so the
	 * cursor goes back to the start (a catch-up, not a rebuild). */
	"CREATE TABLE labels(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
	"  name TEXT, data TEXT NOT NULL);"
	"CREATE TABLE canned_replies(id INTEGER PRIMARY KEY,"
	"  seq INTEGER NOT NULL, shortcut TEXT, data TEXT NOT NULL);"
	"CREATE TABLE history(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
	"  conversation_id INTEGER, data TEXT NOT NULL);"
	"CREATE INDEX history_by_conversation ON history(conversation_id, id);"
	"CREATE INDEX canned_by_shortcut ON canned_replies(shortcut);"
	"DELETE FROM meta WHERE key = 'cursor';",
};

static const char *const work_migrations[] = {
	/* 1 */
	"CREATE TABLE work.meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"CREATE TABLE work.outbox(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  key TEXT NOT NULL UNIQUE, conversation_id INTEGER,"
	"  kind TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,"
	"  body TEXT, state TEXT NOT NULL DEFAULT 'queued',"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at INTEGER NOT NULL DEFAULT 0, error TEXT,"
	"  result_id INTEGER, created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX work.outbox_queue ON outbox(state, conversation_id, id);"
	"CREATE TABLE work.drafts(conversation_id INTEGER PRIMARY KEY,"
	"  body TEXT NOT NULL, updated_at INTEGER NOT NULL);",
};

/* What keeps a message's full-text entry true when it goes... */
#define MESSAGES_FTS_DELETE \
	"CREATE TRIGGER IF NOT EXISTS messages_ad AFTER DELETE ON messages"   \
	" BEGIN INSERT INTO message_fts(message_fts, rowid, body)"	      \
	"  VALUES('delete', old.id, old.body); END;"
/* ...and when it changes. */
#define MESSAGES_FTS_UPDATE \
	"CREATE TRIGGER IF NOT EXISTS messages_au AFTER UPDATE OF body"	      \
	" ON messages WHEN old.body IS NOT new.body"			      \
	" BEGIN INSERT INTO message_fts(message_fts, rowid, body)"	      \
	"  VALUES('delete', old.id, old.body);"				      \
	" INSERT INTO message_fts(rowid, body) VALUES(new.id, new.body); END;"

/* Indexes and full-text triggers: left out during a first sync. */
static const char *const cache_indexes =
	"CREATE INDEX IF NOT EXISTS messages_by_conversation"
	"  ON messages(conversation_id, id);"
	/* The list's order and filters, counted without reading rows. */
	"CREATE INDEX IF NOT EXISTS conversations_list"
	"  ON conversations(last_activity_at, assignee_id, status);"
	"CREATE INDEX IF NOT EXISTS conversations_by_contact"
	"  ON conversations(contact_id);"
	"CREATE INDEX IF NOT EXISTS notes_by_conversation"
	"  ON notes(conversation_id);"
	"CREATE INDEX IF NOT EXISTS orders_by_contact ON orders(contact_id);"
	"CREATE TRIGGER IF NOT EXISTS messages_ai AFTER INSERT ON messages"
	" BEGIN INSERT INTO message_fts(rowid, body) VALUES(new.id, new.body);"
	" END;"
	MESSAGES_FTS_DELETE MESSAGES_FTS_UPDATE
	"CREATE TRIGGER IF NOT EXISTS contacts_ai AFTER INSERT ON contacts"
	" BEGIN INSERT INTO contact_fts(rowid, name, phone)"
	"  VALUES(new.id, new.name, new.phone); END;"
	"CREATE TRIGGER IF NOT EXISTS contacts_ad AFTER DELETE ON contacts"
	" BEGIN INSERT INTO contact_fts(contact_fts, rowid, name, phone)"
	"  VALUES('delete', old.id, old.name, old.phone); END;"
	"CREATE TRIGGER IF NOT EXISTS contacts_au AFTER UPDATE OF name, phone"
	" ON contacts WHEN old.name IS NOT new.name OR old.phone IS NOT"
	" new.phone BEGIN INSERT INTO contact_fts(contact_fts, rowid, name,"
	" phone) VALUES('delete', old.id, old.name, old.phone);"
	" INSERT INTO contact_fts(rowid, name, phone)"
	"  VALUES(new.id, new.name, new.phone); END;";

/*
 * What a first sync goes without. A message's words go into the full-text
 * index as it is written (apply_row), beside the page's other writes: an
 * index rebuilt at the end would be seconds of nothing else to do. Not by
 * a trigger: an UPDATE trigger on messages, even one that never fires,
 * puts every upsert in a statement transaction, and FTS5 flushes its
 * pending terms at each (four times slower). apply_row does the trigger's
 * work itself; the delete trigger stays (made if a new cache lacks it).
 */
#define INDEXES_DROP \
	"DROP TRIGGER IF EXISTS messages_ai; DROP TRIGGER IF EXISTS messages_au;"\
	"DROP TRIGGER IF EXISTS contacts_ai; DROP TRIGGER IF EXISTS contacts_ad;"\
	"DROP TRIGGER IF EXISTS contacts_au;"				      \
	"DROP INDEX IF EXISTS messages_by_conversation;"		      \
	"DROP INDEX IF EXISTS conversations_list;"			      \
	"DROP INDEX IF EXISTS conversations_by_contact;"		      \
	"DROP INDEX IF EXISTS notes_by_conversation;"			      \
	"DROP INDEX IF EXISTS orders_by_contact;"
static const char *const cache_indexes_drop = INDEXES_DROP MESSAGES_FTS_DELETE;
/* A first sync an older glivi-tui began (meta initial = 1) went without
 * any of the message triggers, and rebuilds the message index at its end. */
static const char *const cache_indexes_drop_all = INDEXES_DROP
	"DROP TRIGGER IF EXISTS messages_ad;";
#define INITIAL_REBUILD 1 /* meta initial: rebuild message_fts at the end */
#define INITIAL_DIRECT 2  /* ...the messages are indexed as written */

/*
 * One row per entity kind: its table, and the columns kept beside the
 * whole JSON (data) for the queries the client runs, each filled from the
 * first of its keys that the entity has (not null). A message's body is
 * NULL when the message was revoked.
 */
enum col_type { COL_INT, COL_TEXT };

struct col {
	const char *name;
	enum col_type type;
	const char *keys[3];
};

#define MAX_COLS 5
#define MAX_KEYS 8
#define MESSAGE_BODY 4

static const struct kind {
	const char *kind;
	const char *table;
	struct col cols[MAX_COLS];
	const char *data_table; /* where data lives when not in table */
} kinds[] = {
	{ "conversation", "conversations", {
	  { "contact_id", COL_INT, { "contact_id" } },
	  { "status", COL_TEXT, { "status" } },
	  { "assignee_id", COL_INT, { "assignee_id" } },
	  { "last_activity_at", COL_INT, { "last_activity_at" } },
	  { "last_message_id", COL_INT, { "last_message_id" } } } },
	{ "message", "messages", {
	  { "conversation_id", COL_INT, { "conversation_id" } },
	  { "ts", COL_INT, { "timestamp" } },
	  { "direction", COL_TEXT, { "direction" } },
	  { "status", COL_TEXT, { "status" } },
	  { "body", COL_TEXT, { "edited_text", "text" } } },
	  "message_data" }, /* body is cols[MESSAGE_BODY] */
	{ "contact", "contacts", {
	  { "name", COL_TEXT, { "display_name", "profile_name", "username" } },
	  { "phone", COL_TEXT, { "wa_id" } } } },
	{ "order", "orders", {
	  { "contact_id", COL_INT, { "contact_id" } },
	  { "conversation_id", COL_INT, { "conversation_id" } } } },
	{ "note", "notes", {
	  { "conversation_id", COL_INT, { "conversation_id" } } } },
	{ "agent", "agents", {
	  { "name", COL_TEXT, { "name" } } } },
	{ "template", "templates", {
	  { "name", COL_TEXT, { "name" } },
	  { "language", COL_TEXT, { "language" } },
	  { "status", COL_TEXT, { "status" } } } },
	/* The shared inbox (cache migration 3). */
	{ "label", "labels", {
	  { "name", COL_TEXT, { "name" } } } },
	{ "canned_reply", "canned_replies", {
	  { "shortcut", COL_TEXT, { "shortcut" } } } },
	{ "history", "history", {
	  { "conversation_id", COL_INT, { "conversation_id" } } } },
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

struct cache {
	sqlite3 *db;
	char *dir;
	char *name;
	char *path;
	char *work_path;
	int in_txn;
	int damaged;
	int work_failed; /* the work file cannot be used: never rebuild */
	sqlite3_stmt *upsert[NKINDS];
	sqlite3_stmt *provisional[NKINDS];
	sqlite3_stmt *tombstone[NKINDS];
	sqlite3_stmt *data_put[NKINDS];	     /* kinds with a data_table */
	sqlite3_stmt *data_put_new[NKINDS];  /* ...only when absent */
	sqlite3_stmt *data_delete[NKINDS];
	sqlite3_stmt *set_meta;
	sqlite3_stmt *fts_put;	      /* a message into message_fts */
	sqlite3_stmt *fts_delete;     /* ...out of it, by its old words */
	sqlite3_stmt *insert_new;     /* a message, only if new */
	sqlite3_stmt *old_body;	      /* a message's words before a change */
	int fts_direct;		      /* a first sync indexes as it writes */
	sqlite3_stmt *view[32];	      /* the screen's reads, made on use */
	int page_kib;		      /* page cache outside a first sync */
	/* Tombstones applied since the last commit: what was deleted must
	 * then leave the full-text index's old segments and the WAL. */
	int scrub_fts;
	int scrub_wal;
};

/* -- opening ----------------------------------------------------------- */

/* A first sync's bulk writes want a large page cache; reading does not. */
#define BULK_PAGE_KIB 16384

static int
db_error(struct cache *c, int rc)
{
	int primary = rc & 0xff;

	if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
		c->damaged = 1;
	return -1;
}

/* Runs sql; a failure's cause starts with file, when not NULL. */
static int
exec_in(struct cache *c, const char *file, const char *sql, char **cause)
{
	char *err = NULL;
	int rc;

	if ((rc = sqlite3_exec(c->db, sql, NULL, NULL, &err)) != SQLITE_OK) {
		if (cause != NULL)
			*cause = xasprintf("%s%s%s", file ? file : "",
			    file ? ": " : "", err ? err : sqlite3_errmsg(c->db));
		sqlite3_free(err);
		return db_error(c, rc);
	}
	return 0;
}

static int
exec(struct cache *c, const char *sql, char **cause)
{
	return exec_in(c, c->path, sql, cause);
}

static int
user_version(struct cache *c, const char *schema, int *v, char **cause)
{
	sqlite3_stmt *s;
	char sql[64];
	int rc;

	snprintf(sql, sizeof sql, "PRAGMA %s.user_version", schema);
	if ((rc = sqlite3_prepare_v2(c->db, sql, -1, &s, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_step(s)) != SQLITE_ROW) {
		*cause = xasprintf("%s", sqlite3_errmsg(c->db));
		sqlite3_finalize(s);
		return db_error(c, rc);
	}
	*v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return 0;
}

static int
migrate(struct cache *c, const char *schema, const char *const *m, int n,
    const char *file, char **cause)
{
	int v;
	char sql[64];

	if (user_version(c, schema, &v, cause) != 0)
		return -1;
	if (v > n) {
		free(*cause);
		*cause = xasprintf("%s: made by a newer glivi-tui (schema %d, "
		    "this one knows %d)", file, v, n);
		return -1;
	}
	for (; v < n; v++) {
		snprintf(sql, sizeof sql, "PRAGMA %s.user_version = %d", schema,
		    v + 1);
		if (exec(c, "BEGIN IMMEDIATE", cause) != 0)
			return -1;
		if (exec(c, m[v], cause) != 0 || exec(c, sql, cause) != 0) {
			exec(c, "ROLLBACK", NULL);
			return -1;
		}
		if (exec(c, "COMMIT", cause) != 0)
			return -1;
	}
	return 0;
}

/* A file name for the relay: its host and port, and a hash of the URL. */
static char *
account_name(const char *url)
{
	unsigned char h[32];
	char hex[65], host[64];
	const char *p = strstr(url, "://");
	size_t i, n = 0;

	sha256(url, strlen(url), h);
	hex_encode(h, 4, hex);
	p = p != NULL ? p + 3 : url;
	for (i = 0; p[i] != '\0' && p[i] != '/' && n < sizeof host - 1; i++)
		host[n++] = (p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' &&
		    p[i] <= '9') || p[i] == '.' || p[i] == '-' ? p[i] : '_';
	host[n] = '\0';
	return xasprintf("%s-%s", n ? host : "relay", hex);
}

static int
mkdir_private(const char *dir, char **cause)
{
	char *p = xstrdup(dir);

	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			*cause = xasprintf("cannot create %s: %s", p,
			    strerror(errno));
			free(p);
			return -1;
		}
		*s = '/';
	}
	free(p);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		*cause = xasprintf("cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The cache holds customers' messages: on a shared host, a directory
 * others can enter would let them at its files (or swap one in). A wider
 * one is refused, not fixed behind the owner's back.
 */
static int
dir_private(const char *dir, char **cause)
{
	struct stat sb;

	if (stat(dir, &sb) != 0) {
		*cause = xasprintf("%s: %s", dir, strerror(errno));
		return -1;
	}
	if (sb.st_uid != geteuid() || (sb.st_mode & 077) != 0) {
		*cause = xasprintf("the cache directory %s can be read by "
		    "others (mode %04o%s); it holds customers' messages: "
		    "chmod 700 it, or set [cache] dir to a private one", dir,
		    (unsigned)(sb.st_mode & 07777), sb.st_uid != geteuid() ?
		    ", and another user owns it" : "");
		return -1;
	}
	return 0;
}

static void
finalize_all(struct cache *c)
{
	for (size_t i = 0; i < NKINDS; i++) {
		sqlite3_finalize(c->upsert[i]);
		sqlite3_finalize(c->provisional[i]);
		sqlite3_finalize(c->tombstone[i]);
		sqlite3_finalize(c->data_put[i]);
		sqlite3_finalize(c->data_put_new[i]);
		sqlite3_finalize(c->data_delete[i]);
		c->upsert[i] = c->provisional[i] = c->tombstone[i] = NULL;
		c->data_put[i] = c->data_put_new[i] = NULL;
		c->data_delete[i] = NULL;
	}
	sqlite3_finalize(c->set_meta);
	c->set_meta = NULL;
	sqlite3_finalize(c->fts_put);
	sqlite3_finalize(c->fts_delete);
	sqlite3_finalize(c->insert_new);
	sqlite3_finalize(c->old_body);
	c->fts_put = c->fts_delete = c->insert_new = c->old_body = NULL;
	for (size_t i = 0; i < sizeof c->view / sizeof c->view[0]; i++) {
		sqlite3_finalize(c->view[i]);
		c->view[i] = NULL;
	}
}

static int
prepare(struct cache *c, const char *sql, sqlite3_stmt **s, char **cause)
{
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    s, NULL);

	if (rc != SQLITE_OK) {
		*cause = xasprintf("%s: %s", c->path, sqlite3_errmsg(c->db));
		return db_error(c, rc);
	}
	return 0;
}

static int
prepare_all(struct cache *c, char **cause)
{
	for (size_t i = 0; i < NKINDS; i++) {
		const struct kind *k = &kinds[i];
		struct buf cols, params, set;
		char *sql;
		int rc;

		buf_init(&cols);
		buf_init(&params);
		buf_init(&set);
		for (int j = 0; j < MAX_COLS && k->cols[j].name != NULL; j++) {
			buf_printf(&cols, ", %s", k->cols[j].name);
			buf_printf(&params, ", ?%d", j + 4);
			buf_printf(&set, ", %s = excluded.%s", k->cols[j].name,
			    k->cols[j].name);
		}
		/* With a data table, ?3 goes there, by its own statement. */
		sql = k->data_table == NULL ? xasprintf("INSERT INTO %s(id, seq,"
		    " data%s) VALUES(?1, ?2, ?3%s) ON CONFLICT(id) DO UPDATE SET"
		    " seq = excluded.seq, data = excluded.data%s WHERE"
		    " excluded.seq > %s.seq", k->table, cols.data, params.data,
		    set.data, k->table) : xasprintf("INSERT INTO %s(id, seq%s)"
		    " VALUES(?1, ?2%s) ON CONFLICT(id) DO UPDATE SET"
		    " seq = excluded.seq%s WHERE excluded.seq > %s.seq",
		    k->table, cols.data, params.data, set.data, k->table);
		rc = prepare(c, sql, &c->upsert[i], cause);
		free(sql);
		if (rc == 0 && strcmp(k->kind, "message") == 0) {
			sql = xasprintf("INSERT INTO %s(id, seq%s) VALUES(?1, ?2%s)"
			    " ON CONFLICT(id) DO NOTHING", k->table, cols.data,
			    params.data);
			rc = prepare(c, sql, &c->insert_new, cause);
			free(sql);
		}
		if (rc == 0) {
			sql = k->data_table == NULL ? xasprintf("INSERT INTO "
			    "%s(id, seq, data%s) VALUES(?1, 0, ?3%s) ON "
			    "CONFLICT(id) DO NOTHING", k->table, cols.data,
			    params.data) : xasprintf("INSERT INTO %s(id, seq%s)"
			    " VALUES(?1, 0%s) ON CONFLICT(id) DO NOTHING",
			    k->table, cols.data, params.data);
			rc = prepare(c, sql, &c->provisional[i], cause);
			free(sql);
		}
		buf_free(&cols);
		buf_free(&params);
		buf_free(&set);
		if (rc != 0)
			return -1;
		sql = xasprintf("DELETE FROM %s WHERE id = ?1 AND seq < ?2",
		    k->table);
		rc = prepare(c, sql, &c->tombstone[i], cause);
		free(sql);
		if (rc != 0)
			return -1;
		if (k->data_table == NULL)
			continue;
		sql = xasprintf("INSERT OR REPLACE INTO %s(id, data) VALUES(?1,"
		    " ?2)", k->data_table);
		rc = prepare(c, sql, &c->data_put[i], cause);
		free(sql);
		if (rc == 0) {
			sql = xasprintf("INSERT OR IGNORE INTO %s(id, data) "
			    "VALUES(?1, ?2)", k->data_table);
			rc = prepare(c, sql, &c->data_put_new[i], cause);
			free(sql);
		}
		if (rc == 0) {
			sql = xasprintf("DELETE FROM %s WHERE id = ?1",
			    k->data_table);
			rc = prepare(c, sql, &c->data_delete[i], cause);
			free(sql);
		}
		if (rc != 0)
			return -1;
	}
	if (prepare(c, "INSERT INTO message_fts(rowid, body) VALUES(?1, ?2)",
	    &c->fts_put, cause) != 0 || prepare(c, "INSERT INTO message_fts"
	    "(message_fts, rowid, body) VALUES('delete', ?1, ?2)",
	    &c->fts_delete, cause) != 0 || prepare(c, "SELECT body FROM"
	    " messages WHERE id = ?1 AND seq < ?2", &c->old_body, cause) != 0)
		return -1;
	return prepare(c, "INSERT OR REPLACE INTO meta(key, value) "
	    "VALUES(?1, ?2)", &c->set_meta, cause);
}

/* The cause for a work file that cannot be used; not the cache's fault. */
static char *
work_unusable(struct cache *c, const char *why)
{
	c->damaged = 0;
	c->work_failed = 1;
	return xasprintf("the work file %s (your outbox and drafts) cannot be "
	    "used: %s. It was left as it is; move it away to start without "
	    "them", c->work_path, why);
}

/*
 * Before SQLite's first use: no memory statistics (nothing here reads
 * them), which SQLite otherwise keeps under a global mutex taken on every
 * allocation, by both connections of a sync.
 */
static void
sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Opens both files on one connection: the cache as main, work attached. */
static int
open_db(struct cache *c, char **cause)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	char *sql, *inner = NULL;
	mode_t old;
	int rc;

	pthread_once(&once, sqlite_setup);
	old = umask(077);
	rc = sqlite3_open_v2(c->path, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		*cause = xasprintf("%s: %s", c->path, c->db ?
		    sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		return db_error(c, rc);
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, 5000);
	chmod(c->path, 0600);
	/*
	 * ATTACH reads the schema of both files and fails alike when either
	 * is damaged. Reading the cache's first makes an ATTACH failure the
	 * work file's, which must never be taken for the cache's.
	 */
	if (exec(c, "SELECT count(*) FROM main.sqlite_schema", cause) != 0)
		return -1;
	/* Deleted rows are zeroed in the file, not just unlinked: an erased
	 * customer's messages must not stay readable in free pages. Set
	 * before ATTACH, which copies it to the work file. */
	if (exec(c, "PRAGMA secure_delete = ON", cause) != 0)
		return -1;
	/*
	 * A new cache gets 16 KiB pages (set before anything creates it): a
	 * first sync writes a quarter of the pages and system calls it would
	 * with 4 KiB, and message rows of about a kilobyte fit many a page.
	 */
	if (exec(c, "PRAGMA main.page_size = 16384", cause) != 0)
		return -1;
	sql = sqlite3_mprintf("ATTACH %Q AS work", c->work_path);
	old = umask(077);
	rc = exec_in(c, NULL, sql, &inner);
	umask(old);
	sqlite3_free(sql);
	if (rc != 0) {
		*cause = work_unusable(c, inner);
		free(inner);
		return -1;
	}
	chmod(c->work_path, 0600);
	return 0;
}

/* Work file first: a problem there must never cost the agent's work. */
static int
setup_work(struct cache *c, char **cause)
{
	char *inner = NULL;

	if (exec_in(c, NULL, "PRAGMA work.journal_mode = WAL", &inner) != 0 ||
	    exec_in(c, NULL, "PRAGMA work.synchronous = FULL", &inner) != 0 ||
	    migrate(c, "work", work_migrations, (int)(sizeof work_migrations /
	    sizeof work_migrations[0]), c->work_path, &inner) != 0 ||
	    /* Read every table through, so damage shows now and not as a
	     * lost reply later; the work file is small. */
	    exec_in(c, NULL, "SELECT count(*) FROM work.meta;"
	    " SELECT count(*) FROM work.outbox;"
	    " SELECT count(*) FROM work.drafts;", &inner) != 0) {
		*cause = work_unusable(c, inner);
		free(inner);
		return -1;
	}
	return 0;
}

static int
setup_cache(struct cache *c, char **cause)
{
	if (exec(c, "PRAGMA main.journal_mode = WAL", cause) != 0 ||
	    exec(c, "PRAGMA main.synchronous = NORMAL", cause) != 0 ||
	    exec(c, "PRAGMA main.cache_size = -16384", cause) != 0 ||
	    migrate(c, "main", cache_migrations, (int)(sizeof
	    cache_migrations / sizeof cache_migrations[0]), c->path,
	    cause) != 0)
		return -1;
	/* Touch every table, so a damaged schema shows now. */
	if (exec(c, "SELECT count(*) FROM meta; SELECT id FROM conversations "
	    "LIMIT 1; SELECT id FROM messages LIMIT 1; SELECT id FROM "
	    "message_data LIMIT 1;", cause) != 0)
		return -1;
	if (prepare_all(c, cause) != 0)
		return -1;
	return 0;
}

static void
close_db(struct cache *c)
{
	finalize_all(c);
	if (c->db != NULL)
		sqlite3_close(c->db);
	c->db = NULL;
	c->in_txn = 0;
}

static void
remove_cache_files(const char *path)
{
	char *p;

	unlink(path);
	p = xasprintf("%s-wal", path);
	unlink(p);
	free(p);
	p = xasprintf("%s-shm", path);
	unlink(p);
	free(p);
}

/* Moves a damaged cache file aside (for a bug report) and starts anew. */
static void
set_aside(struct cache *c)
{
	char *aside = xasprintf("%s.damaged", c->path);

	remove_cache_files(aside);
	if (rename(c->path, aside) != 0)
		unlink(c->path);
	free(aside);
	remove_cache_files(c->path);
}

static int
open_all(struct cache *c, char **notice, char **cause)
{
	char *inner = NULL;

	c->damaged = 0;
	c->work_failed = 0;
	if (open_db(c, &inner) == 0 && setup_work(c, cause) != 0) {
		free(inner);
		return -1;
	}
	if (c->work_failed) {
		*cause = inner;
		return -1;
	}
	if (inner == NULL && setup_cache(c, &inner) == 0)
		return 0;
	if (c->db != NULL && !c->damaged && strstr(inner, "newer") == NULL &&
	    strstr(inner, "malformed") == NULL) {
		*cause = inner;
		return -1;
	}
	/* Damaged, or from another version: the cache is disposable. */
	log_warn("cache: %s; rebuilding it from the relay", inner);
	if (notice != NULL)
		*notice = xasprintf("the cache file was unusable (%s); it was "
		    "moved to %s.damaged and will be rebuilt from the relay",
		    inner, c->path);
	free(inner);
	close_db(c);
	set_aside(c);
	if (open_db(c, cause) != 0 || setup_work(c, cause) != 0 ||
	    setup_cache(c, cause) != 0)
		return -1;
	return 0;
}

struct cache *
cache_open(const char *dir, const char *relay_url, char **notice,
    char **cause)
{
	struct cache *c = xcalloc(1, sizeof *c);

	if (notice != NULL)
		*notice = NULL;
	if (mkdir_private(dir, cause) != 0 || dir_private(dir, cause) != 0) {
		free(c);
		return NULL;
	}
	c->dir = xstrdup(dir);
	c->page_kib = BULK_PAGE_KIB;
	c->name = account_name(relay_url);
	c->path = xasprintf("%s/%s.db", dir, c->name);
	c->work_path = xasprintf("%s/%s.work.db", dir, c->name);
	if (open_all(c, notice, cause) != 0) {
		cache_close(c);
		return NULL;
	}
	return c;
}

void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	if (c->in_txn)
		cache_rollback(c);
	close_db(c);
	free(c->dir);
	free(c->name);
	free(c->path);
	free(c->work_path);
	free(c);
}

const char *
cache_path(const struct cache *c)
{
	return c->path;
}

int
cache_damaged(const struct cache *c)
{
	return c->damaged;
}

int
cache_reset(struct cache *c, char **cause)
{
	if (c->in_txn)
		cache_rollback(c);
	close_db(c);
	remove_cache_files(c->path);
	c->damaged = 0;
	if (open_db(c, cause) != 0 || setup_work(c, cause) != 0 ||
	    setup_cache(c, cause) != 0)
		return -1;
	return 0;
}

/* -- transactions and meta --------------------------------------------- */

int
cache_begin(struct cache *c, char **cause)
{
	if (c->in_txn)
		return 0;
	if (exec(c, "BEGIN IMMEDIATE", cause) != 0)
		return -1;
	c->in_txn = 1;
	return 0;
}

int
cache_commit(struct cache *c, char **cause)
{
	if (!c->in_txn)
		return 0;
	c->in_txn = 0;
	if (exec(c, "COMMIT", cause) != 0) {
		exec(c, "ROLLBACK", NULL);
		c->scrub_fts = c->scrub_wal = 0;
		return -1;
	}
	cache_scrub(c);
	return 0;
}

/*
 * After deletions: FTS5 (without secure-delete before SQLite 3.42) keeps
 * a deleted row's terms in older index segments until they merge, so the
 * index is merged now; then both WALs are checkpointed and truncated, as
 * they still hold the pages from before the delete.
 */
void
cache_scrub(struct cache *c)
{
	if (c->in_txn || (!c->scrub_fts && !c->scrub_wal))
		return;
	if (c->scrub_fts && exec(c, "INSERT INTO message_fts(message_fts) "
	    "VALUES('optimize'); INSERT INTO contact_fts(contact_fts) "
	    "VALUES('optimize');", NULL) != 0)
		log_warn("cache: cannot merge the full-text index");
	if (exec(c, "PRAGMA main.wal_checkpoint(TRUNCATE);"
	    " PRAGMA work.wal_checkpoint(TRUNCATE);", NULL) != 0)
		log_warn("cache: cannot checkpoint after deleting");
	c->scrub_fts = c->scrub_wal = 0;
}

void
cache_rollback(struct cache *c)
{
	if (c->in_txn)
		exec(c, "ROLLBACK", NULL);
	c->in_txn = 0;
}

static int
meta_set_text(struct cache *c, const char *key, const char *value)
{
	sqlite3_stmt *s = c->set_meta;
	int rc;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (value != NULL)
		sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 2);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : db_error(c, rc);
}

int
cache_meta_set_int(struct cache *c, const char *key, int64_t v)
{
	sqlite3_stmt *s = c->set_meta;
	int rc;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, v);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : db_error(c, rc);
}

static char *
meta_get_text(struct cache *c, const char *key)
{
	sqlite3_stmt *s;
	char *v = NULL;
	int rc;

	if (sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key = ?1",
	    -1, &s, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = xstrdup((const char *)sqlite3_column_text(s, 0));
	else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		db_error(c, rc);
	sqlite3_finalize(s);
	return v;
}

int
cache_meta_get_int(struct cache *c, const char *key, int64_t *out)
{
	char *v = meta_get_text(c, key);

	if (v == NULL)
		return -1;
	*out = strtoll(v, NULL, 10);
	free(v);
	return 0;
}

char *
cache_cursor(struct cache *c)
{
	return meta_get_text(c, "cursor");
}

int
cache_initial(struct cache *c)
{
	int64_t v = 0;
	char *cur;

	if (cache_meta_get_int(c, "initial", &v) == 0)
		return v != 0;
	cur = cache_cursor(c);
	free(cur);
	return cur == NULL;
}

static void
page_cache(struct cache *c, int kib)
{
	char sql[64];

	snprintf(sql, sizeof sql, "PRAGMA main.cache_size = -%d", kib);
	sqlite3_exec(c->db, sql, NULL, NULL, NULL);
}

void
cache_set_page_cache(struct cache *c, int kib)
{
	c->page_kib = kib;
	if (!cache_initial(c))
		page_cache(c, kib);
}

/*
 * The cache is disposable and a first sync writes all of it: until it
 * ends, no fsync (a process killed mid-way loses nothing committed; a
 * power cut may damage the file, which is then rebuilt from the relay).
 * The work file, on its own setting, is not concerned.
 */
int
cache_initial_begin(struct cache *c, char **cause)
{
	int64_t mode = 0;

	page_cache(c, BULK_PAGE_KIB);
	exec(c, "PRAGMA main.synchronous = OFF", NULL);
	if (cache_begin(c, cause) != 0)
		return -1;
	if (cache_meta_get_int(c, "initial", &mode) != 0 ||
	    mode != INITIAL_REBUILD)
		mode = INITIAL_DIRECT;
	/*
	 * FTS5 writes a segment per page and would merge them as they
	 * come: merged once at the end instead (a fifth of the indexing),
	 * or when 64 of a size pile up (then searches stay fast meanwhile).
	 */
	if (exec(c, mode == INITIAL_DIRECT ? cache_indexes_drop :
	    cache_indexes_drop_all, cause) != 0 ||
	    exec(c, "INSERT INTO message_fts(message_fts, rank)"
	    " VALUES('automerge', 0); INSERT INTO message_fts(message_fts,"
	    " rank) VALUES('crisismerge', 64)", cause) != 0 ||
	    cache_meta_set_int(c, "initial", mode) != 0) {
		cache_rollback(c);
		return -1;
	}
	if (cache_commit(c, cause) != 0)
		return -1;
	c->fts_direct = mode == INITIAL_DIRECT;
	return 0;
}

int
cache_initial_end(struct cache *c, char **cause)
{
	int64_t mode = 0;

	if (cache_begin(c, cause) != 0)
		return -1;
	if (cache_meta_get_int(c, "initial", &mode) != 0)
		mode = INITIAL_REBUILD;
	if (exec(c, cache_indexes, cause) != 0 ||
	    (mode != INITIAL_DIRECT && exec(c, "INSERT INTO message_fts"
	    "(message_fts) VALUES('rebuild');", cause) != 0) ||
	    exec(c, "INSERT INTO contact_fts(contact_fts) VALUES('rebuild');"
	    " INSERT INTO message_fts(message_fts, rank) VALUES('automerge',"
	    " 4); INSERT INTO message_fts(message_fts, rank) VALUES("
	    "'crisismerge', 16); INSERT INTO message_fts(message_fts, rank)"
	    " VALUES('merge', 500);", cause) != 0 ||
	    cache_meta_set_int(c, "initial", 0) != 0) {
		cache_rollback(c);
		return -1;
	}
	if (cache_commit(c, cause) != 0)
		return -1;
	c->fts_direct = 0;
	exec(c, "PRAGMA main.synchronous = NORMAL", NULL);
	page_cache(c, c->page_kib);
	return 0;
}

/* -- applying changes -------------------------------------------------- */

static struct cache_plan *plan_events(const struct jscan_val *);

/* The value of member key of an object, or a JSCAN_ERROR value. */
static struct jscan_val
member(const struct jscan_val *obj, const char *key)
{
	struct jscan_val k, v = { JSCAN_ERROR, NULL, NULL };
	const char *cur = NULL;

	while (jscan_next(obj, &cur, &k, &v)) {
		if (jscan_key_is(&k, key))
			return v;
	}
	v.type = JSCAN_ERROR;
	return v;
}

/* A sync page's members the client reads. */
struct envelope {
	struct jscan_val cursor, more, events, remaining;
};

static void
envelope_member(void *arg, const struct jscan_val *key,
    const struct jscan_val *val)
{
	struct envelope *e = arg;

	if (jscan_key_is(key, "cursor"))
		e->cursor = *val;
	else if (jscan_key_is(key, "more"))
		e->more = *val;
	else if (jscan_key_is(key, "events"))
		e->events = *val;
	else if (jscan_key_is(key, "remaining"))
		e->remaining = *val;
}

int
cache_page_envelope(struct cache *c, const char *page, size_t len,
    struct cache_page *pg, char **cause)
{
	struct envelope e = { 0 };
	enum jscan_type t;
	struct buf b;

	(void)c;
	memset(pg, 0, sizeof *pg);
	/* One pass, checking as it goes: the events, most of the page, come
	 * first, and are not walked again to find what follows them. */
	if ((t = jscan_document_members(page, page + len, envelope_member,
	    &e)) == JSCAN_ERROR) {
		*cause = xstrdup("the sync page is not valid JSON");
		return -1;
	}
	if (t != JSCAN_OBJECT) {
		*cause = xstrdup("the sync page has no cursor (not an object)");
		return -1;
	}
	if (e.cursor.type != JSCAN_STRING) {
		*cause = xstrdup("the sync page has no cursor");
		return -1;
	}
	if (e.more.type != JSCAN_TRUE && e.more.type != JSCAN_FALSE) {
		*cause = xstrdup("the sync page has no 'more'");
		return -1;
	}
	if (e.events.type != JSCAN_ARRAY) {
		*cause = xstrdup("the sync page has no events array");
		return -1;
	}
	buf_init(&b);
	jscan_string(&e.cursor, &b);
	if (b.len == 0 || b.len > 255 || memchr(b.data, '\0', b.len) != NULL) {
		buf_free(&b);
		*cause = xstrdup("the sync page's cursor is empty or too long");
		return -1;
	}
	pg->cursor = buf_steal(&b);
	pg->more = e.more.type == JSCAN_TRUE;
	if (e.remaining.type != JSCAN_NUMBER ||
	    jscan_int(&e.remaining, &pg->remaining) != 0)
		pg->remaining = -1;
	pg->events = e.events.start;
	pg->events_len = (size_t)(e.events.end - e.events.start);
	return 0;
}

static int
kind_index(const char *kind, size_t n)
{
	for (size_t i = 0; i < NKINDS; i++) {
		if (strlen(kinds[i].kind) == n &&
		    memcmp(kinds[i].kind, kind, n) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * Events are applied in two steps: planned (the JSON walked, every
 * column's value found and unescaped), then written. Reading a page on a
 * thread of its own was measured: on two cores the threads only took
 * turns, and it cost more than it saved.
 */
struct col_val {
	int set;	  /* 0: NULL, 1: the integer n, 2: text in the arena */
	int64_t n;
	size_t off, len;
};

struct row_plan {
	int kind;	  /* index in kinds; -1 unknown kind, -2 malformed */
	int deleted;
	int64_t id, seq;
	const char *data; /* the entity's JSON, inside the page */
	size_t data_len;
	struct col_val col[MAX_COLS];
};

struct cache_plan {
	struct row_plan *rows;
	size_t n, cap;
	struct buf arena; /* the text columns, unescaped */
};

/*
 * An entity's columns from its data object: one pass over its members
 * picks the keys the kind wants.
 */
static void
plan_columns(const struct kind *k, const struct jscan_val *data,
    struct col_val *col, struct buf *arena, const char **where)
{
	struct jscan_val key, val, found[MAX_COLS][3];
	const char *cur = NULL;
	int revoked = 0;

	memset(found, 0, sizeof found);
	while (jscan_next(data, &cur, &key, &val)) {
		char k0;

		if (val.type == JSCAN_NULL || key.start == key.end)
			continue;
		if (k->kind[0] == 'm' && jscan_key_is(&key, "revoked"))
			revoked = val.type == JSCAN_TRUE;
		/* Most members are no column's: their first byte says so,
		 * looked at here for every key of the kind. */
		k0 = key.start[0];
		for (int j = 0; j < MAX_COLS && k->cols[j].name != NULL; j++) {
			for (int q = 0; q < 3 && k->cols[j].keys[q] != NULL;
			    q++) {
				if (k->cols[j].keys[q][0] == k0 &&
				    jscan_key_is(&key, k->cols[j].keys[q]))
					found[j][q] = val;
			}
		}
	}
	if (where != NULL)
		*where = cur; /* where the walk ended, for jscan_close */
	for (int j = 0; j < MAX_COLS && k->cols[j].name != NULL; j++) {
		const struct jscan_val *v = NULL;

		col[j].set = 0;
		for (int q = 0; q < 3 && v == NULL; q++) {
			if (found[j][q].type != JSCAN_ERROR)
				v = &found[j][q];
		}
		if (v == NULL)
			continue;
		if (k->cols[j].type == COL_INT) {
			if (jscan_int(v, &col[j].n) == 0)
				col[j].set = 1;
		} else if (v->type == JSCAN_STRING &&
		    !(revoked && strcmp(k->cols[j].name, "body") == 0)) {
			col[j].off = arena->len;
			jscan_string(v, arena);
			col[j].len = arena->len - col[j].off;
			col[j].set = 2;
		}
	}
}

static void
bind_value(sqlite3_stmt *w, int i, const struct col_val *v,
    const struct buf *arena)
{
	if (v->set == 1)
		sqlite3_bind_int64(w, i, v->n);
	else if (v->set == 2)
		sqlite3_bind_text(w, i, v->len > 0 ? arena->data + v->off : "",
		    (int)v->len, SQLITE_STATIC);
	else
		sqlite3_bind_null(w, i);
}

/* Binds planned columns as ?4...; the arena lives until the step. */
static void
bind_columns(sqlite3_stmt *w, const struct kind *k, const struct col_val *col,
    const struct buf *arena)
{
	for (int j = 0; j < MAX_COLS && k->cols[j].name != NULL; j++)
		bind_value(w, j + 4, &col[j], arena);
}

static void
plan_free(struct cache_plan *p)
{
	if (p == NULL)
		return;
	free(p->rows);
	buf_free(&p->arena);
	free(p);
}

/*
 * Reads one change event into the plan. e is opened (jscan_next_open):
 * the event and its data are walked once, the data's columns picked as it
 * is (the relay writes kind before data; another order costs a walk more).
 * Leaves *cur past the event.
 */
static void
plan_event(struct cache_plan *p, struct jscan_val *e, const char **ecur)
{
	struct jscan_val key, val, kind = { 0 }, id = { 0 }, seq = { 0 },
	    del = { 0 }, data = { 0 };
	const char *cur = NULL, *inner, *planned = NULL;
	struct row_plan *r;
	int k = -1, planned_kind = -1;

	if (p->n == p->cap) {
		p->cap = p->cap == 0 ? 256 : p->cap * 2;
		p->rows = xreallocarray(p->rows, p->cap, sizeof *p->rows);
	}
	r = &p->rows[p->n++];
	memset(r, 0, sizeof *r);
	r->kind = -2;
	if (e->type != JSCAN_OBJECT) {
		jscan_close(e, NULL, ecur);
		return;
	}
	while (jscan_next_open(e, &cur, &key, &val)) {
		inner = NULL;
		if (jscan_key_is(&key, "kind")) {
			kind = val;
			if (kind.type == JSCAN_STRING)
				k = kind_index(kind.start + 1, (size_t)(kind.end -
				    kind.start - 2));
		} else if (jscan_key_is(&key, "id")) {
			id = val;
		} else if (jscan_key_is(&key, "seq")) {
			seq = val;
		} else if (jscan_key_is(&key, "deleted")) {
			del = val;
		} else if (jscan_key_is(&key, "data")) {
			if (val.type == JSCAN_OBJECT && k >= 0) {
				plan_columns(&kinds[k], &val, r->col, &p->arena,
				    &inner);
				planned = val.start;
				planned_kind = k;
			}
			jscan_close(&val, inner, &cur);
			data = val;
			continue;
		}
		jscan_close(&val, inner, &cur);
	}
	jscan_close(e, cur, ecur);
	if (kind.type != JSCAN_STRING)
		return;
	/* A kind this client does not know yet: not an error. */
	if ((r->kind = kind_index(kind.start + 1, (size_t)(kind.end -
	    kind.start - 2))) < 0) {
		r->kind = -1;
		return;
	}
	/* No "deleted" is a live entity; anything but a boolean is wrong. */
	r->deleted = del.type == JSCAN_TRUE;
	if (jscan_int(&id, &r->id) != 0 || r->id <= 0 ||
	    jscan_int(&seq, &r->seq) != 0 || r->seq < 0 ||
	    (del.type != JSCAN_TRUE && del.type != JSCAN_FALSE &&
	    del.type != JSCAN_ERROR) ||
	    (!r->deleted && data.type != JSCAN_OBJECT)) {
		r->kind = -2;
		return;
	}
	if (!r->deleted) {
		r->data = data.start;
		r->data_len = (size_t)(data.end - data.start);
		/* Another order of members, or a key given twice. */
		if (planned != data.start || planned_kind != r->kind) {
			memset(r->col, 0, sizeof r->col);
			plan_columns(&kinds[r->kind], &data, r->col, &p->arena,
			    NULL);
		}
	}
}

static struct cache_plan *
plan_events(const struct jscan_val *events)
{
	struct cache_plan *p = xcalloc(1, sizeof *p);
	struct jscan_val e;
	const char *cur = NULL;

	buf_init(&p->arena);
	while (jscan_next_open(events, &cur, NULL, &e))
		plan_event(p, &e, &cur);
	return p;
}

/*
 * What a tombstone takes beyond the row: a conversation's draft and the
 * agent's outbox entries for it (they repeat what was written; one in
 * flight then updates nothing). And the scrub after the commit.
 */
/*
 * A deleted message's media file, when the screen saved one under
 * <dir>/media (named by the media id, maybe with an extension): zeroed,
 * then unlinked, so an erasure leaves no copy on the agent's disk.
 */
static void
forget_media(struct cache *c, int64_t id)
{
	sqlite3_stmt *s;
	char *dir, *path, media[130] = "", zero[4096];
	struct dirent *de;
	struct stat st;
	size_t n;
	DIR *d;

	if (sqlite3_prepare_v2(c->db, "SELECT json_extract(data,"
	    " '$.media.id') FROM message_data WHERE id = ?1", -1, &s,
	    NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		snprintf(media, sizeof media, "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	n = strlen(media);
	if (n == 0 || media[0] == '.' || strchr(media, '/') != NULL)
		return;
	dir = xasprintf("%s/media", c->dir);
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	memset(zero, 0, sizeof zero);
	while ((de = readdir(d)) != NULL) {
		int fd;

		if (strncmp(de->d_name, media, n) != 0 ||
		    (de->d_name[n] != '\0' && de->d_name[n] != '.'))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
			if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
				for (off_t o = 0; o < st.st_size; o += (off_t)
				    sizeof zero) {
					size_t w = (size_t)(st.st_size - o) <
					    sizeof zero ? (size_t)(st.st_size -
					    o) : sizeof zero;

					if (write(fd, zero, w) != (ssize_t)w)
						break;
				}
				fsync(fd);
			}
			close(fd);
		}
		if (unlink(path) != 0)
			log_warn("cache: cannot remove a media file: %s",
			    strerror(errno));
		free(path);
	}
	closedir(d);
	free(dir);
}

static int
forget(struct cache *c, const struct kind *k, int64_t id, int changed)
{
	sqlite3_stmt *s;
	int rc;

	if (changed) {
		c->scrub_wal = 1;
		if (strcmp(k->kind, "message") == 0 ||
		    strcmp(k->kind, "contact") == 0)
			c->scrub_fts = 1;
	}
	if (strcmp(k->kind, "message") == 0)
		forget_media(c, id);
	if (strcmp(k->kind, "conversation") != 0)
		return 0;
	if (sqlite3_prepare_v2(c->db, "DELETE FROM work.drafts WHERE"
	    " conversation_id = ?1", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return -1;
	c->scrub_wal |= sqlite3_changes(c->db) > 0;
	if (sqlite3_prepare_v2(c->db, "DELETE FROM work.outbox WHERE"
	    " conversation_id = ?1", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	c->scrub_wal |= sqlite3_changes(c->db) > 0;
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
step_fts(sqlite3_stmt *s, int64_t id, const char *body, int len)
{
	int rc;

	sqlite3_bind_int64(s, 1, id);
	if (body != NULL)
		sqlite3_bind_text(s, 2, body, len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 2);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc;
}

/*
 * A first sync's message, its words indexed as the triggers would (see
 * cache_indexes_drop): a new one inserted; one the cache has (it changed
 * while the first sync ran) updated as the upsert does, its old words
 * taken out first when its text changed. An SQLite result code.
 */
static int
write_indexed(struct cache *c, const struct row_plan *r,
    const struct buf *arena, int *changed)
{
	const struct kind *k = &kinds[r->kind];
	const struct col_val *b = &r->col[MESSAGE_BODY];
	const char *body = b->set == 2 ? (b->len > 0 ? arena->data + b->off :
	    "") : NULL;
	sqlite3_stmt *w = c->insert_new;
	char *old = NULL;
	int rc, had, same;

	*changed = 0;
	sqlite3_bind_int64(w, 1, r->id);
	sqlite3_bind_int64(w, 2, r->seq);
	bind_columns(w, k, r->col, arena);
	rc = sqlite3_step(w);
	sqlite3_reset(w);
	if (rc != SQLITE_DONE)
		return rc;
	if (sqlite3_changes(c->db) > 0) {
		*changed = 1;
		return step_fts(c->fts_put, r->id, body, (int)b->len);
	}
	/* Known: only a newer state changes it. */
	sqlite3_bind_int64(c->old_body, 1, r->id);
	sqlite3_bind_int64(c->old_body, 2, r->seq);
	rc = sqlite3_step(c->old_body);
	if ((had = rc == SQLITE_ROW) &&
	    sqlite3_column_type(c->old_body, 0) != SQLITE_NULL)
		old = xstrdup((const char *)sqlite3_column_text(c->old_body,
		    0));
	sqlite3_reset(c->old_body);
	if (!had)
		return rc == SQLITE_DONE ? SQLITE_DONE : rc;
	w = c->upsert[r->kind];
	sqlite3_bind_int64(w, 1, r->id);
	sqlite3_bind_int64(w, 2, r->seq);
	bind_columns(w, k, r->col, arena);
	rc = sqlite3_step(w);
	sqlite3_reset(w);
	*changed = rc == SQLITE_DONE && sqlite3_changes(c->db) > 0;
	same = (old == NULL && body == NULL) || (old != NULL && body != NULL &&
	    strlen(old) == b->len && memcmp(old, body, b->len) == 0);
	if (*changed && !same) {
		rc = step_fts(c->fts_delete, r->id, old, -1);
		if (rc == SQLITE_DONE)
			rc = step_fts(c->fts_put, r->id, body, (int)b->len);
	}
	free(old);
	return rc;
}

/* Applies one planned event; 1 applied, 0 skipped, -1 a cache error. */
static int
apply_row(struct cache *c, const struct row_plan *r, const struct buf *arena,
    struct cache_applied *a)
{
	int64_t idn = r->id;
	sqlite3_stmt *w;
	int k = r->kind, deleted = r->deleted, rc, changed, message;

	a->events++;
	if (k == -2) {
		a->skipped++;
		return 0;
	}
	if (k < 0)
		return 0;
	if ((message = strcmp(kinds[k].kind, "message") == 0))
		a->messages++;
	if (c->fts_direct && message && !deleted) {
		rc = write_indexed(c, r, arena, &changed);
	} else {
		w = deleted ? c->tombstone[k] : c->upsert[k];
		sqlite3_bind_int64(w, 1, idn);
		sqlite3_bind_int64(w, 2, r->seq);
		if (!deleted) {
			sqlite3_bind_text(w, 3, r->data, (int)r->data_len,
			    SQLITE_STATIC);
			bind_columns(w, &kinds[k], r->col, arena);
		}
		rc = sqlite3_step(w);
		sqlite3_reset(w);
		changed = rc == SQLITE_DONE && sqlite3_changes(c->db) > 0;
	}
	if (deleted && rc == SQLITE_DONE && forget(c, &kinds[k], idn,
	    changed) != 0)
		return db_error(c, SQLITE_ERROR);
	if (changed && kinds[k].data_table != NULL) {
		/* The row moved forward: its JSON follows. */
		sqlite3_stmt *d = deleted ? c->data_delete[k] : c->data_put[k];

		sqlite3_bind_int64(d, 1, idn);
		if (!deleted)
			sqlite3_bind_text(d, 2, r->data, (int)r->data_len,
			    SQLITE_STATIC);
		rc = sqlite3_step(d);
		sqlite3_reset(d);
	}
	if (rc == SQLITE_DONE) {
		a->applied += changed;
		return 1;
	}
	if ((rc & 0xff) == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_MISMATCH) {
		a->skipped++;
		return 0;
	}
	return db_error(c, rc);
}

/* Applies planned events and stores cursor. */
static int
apply_plan(struct cache *c, const struct cache_plan *p, const char *cursor,
    struct cache_applied *out, char **cause)
{
	struct cache_applied a = { 0 };
	int own = !c->in_txn;

	if (own && cache_begin(c, cause) != 0)
		return -1;
	for (size_t i = 0; i < p->n; i++) {
		if (apply_row(c, &p->rows[i], &p->arena, &a) < 0) {
			*cause = xasprintf("%s: %s", c->path,
			    sqlite3_errmsg(c->db));
			goto fail;
		}
	}
	if (cursor != NULL && meta_set_text(c, "cursor", cursor) != 0) {
		*cause = xasprintf("%s: %s", c->path, sqlite3_errmsg(c->db));
		goto fail;
	}
	if (own && cache_commit(c, cause) != 0)
		return -1;
	if (a.skipped > 0)
		log_warn("sync: left out %ld malformed change(s)", a.skipped);
	if (out != NULL) {
		out->events += a.events;
		out->applied += a.applied;
		out->skipped += a.skipped;
		out->messages += a.messages;
	}
	return 0;
fail:
	if (own)
		cache_rollback(c);
	return -1;
}

int
cache_apply_page(struct cache *c, const struct cache_page *pg,
    struct cache_applied *out, char **cause)
{
	struct jscan_val events = { JSCAN_ARRAY, pg->events,
		pg->events + pg->events_len };
	struct cache_plan *p = plan_events(&events);
	int rc;

	rc = apply_plan(c, p, pg->cursor, out, cause);
	plan_free(p);
	return rc;
}

void
cache_page_free(struct cache_page *pg)
{
	free(pg->cursor);
	pg->cursor = NULL;
}

int
cache_apply(struct cache *c, const char *text, size_t len, const char *path,
    const char *cursor, struct cache_applied *out, char **cause)
{
	struct jscan_val doc, events;
	struct cache_plan *p;
	int rc;

	if (!jscan_document(text, text + len, &doc)) {
		*cause = xstrdup("the changes are not valid JSON");
		return -1;
	}
	events = strcmp(path, "$") == 0 ? doc : doc.type == JSCAN_OBJECT ?
	    member(&doc, "events") : (struct jscan_val){ JSCAN_ERROR, 0, 0 };
	if (events.type != JSCAN_ARRAY) {
		*cause = xstrdup("the changes are not an array of events");
		return -1;
	}
	p = plan_events(&events);
	rc = apply_plan(c, p, cursor, out, cause);
	plan_free(p);
	return rc;
}

int
cache_put_provisional(struct cache *c, const cJSON *e)
{
	const cJSON *kind = cJSON_GetObjectItem(e, "kind");
	const cJSON *id = cJSON_GetObjectItem(e, "id");
	struct jscan_val data;
	struct col_val col[MAX_COLS];
	struct buf arena;
	sqlite3_stmt *s;
	char *text;
	double d;
	int k, rc;

	if (!cJSON_IsString(kind) || !cJSON_IsNumber(id) ||
	    (k = kind_index(kind->valuestring,
	    strlen(kind->valuestring))) < 0)
		return -1;
	/* A whole number a double holds exactly: converting anything past
	 * int64_t's range is undefined, and 2.5 is no id. */
	d = id->valuedouble;
	if (!(d >= 1 && d <= 9007199254740992.0) || d != (double)(int64_t)d)
		return -1;
	/* A first sync is writing (and indexing as it goes, which this
	 * would not): the entity comes with it. */
	if (cache_initial(c))
		return -1;
	s = c->provisional[k];
	text = cJSON_PrintUnformatted(e);
	if (text == NULL || !jscan_document(text, text + strlen(text),
	    &data)) {
		free(text);
		return -1;
	}
	buf_init(&arena);
	plan_columns(&kinds[k], &data, col, &arena, NULL);
	sqlite3_bind_int64(s, 1, (int64_t)d);
	sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
	bind_columns(s, &kinds[k], col, &arena);
	rc = sqlite3_step(s);
	buf_free(&arena);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE && kinds[k].data_table != NULL) {
		sqlite3_stmt *ds = c->data_put_new[k];

		sqlite3_bind_int64(ds, 1, (int64_t)d);
		sqlite3_bind_text(ds, 2, text, -1, SQLITE_STATIC);
		rc = sqlite3_step(ds);
		sqlite3_reset(ds);
	}
	free(text);
	return rc == SQLITE_DONE ? 0 : db_error(c, rc);
}

/* -- reading ----------------------------------------------------------- */

static int64_t
count_of(struct cache *c, const char *table)
{
	sqlite3_stmt *s;
	char sql[96];
	int64_t n = -1;
	int rc;

	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	else
		db_error(c, rc);
	sqlite3_finalize(s);
	return n;
}

int
cache_counts(struct cache *c, struct cache_counts *n)
{
	n->conversations = count_of(c, "conversations");
	n->messages = count_of(c, "messages");
	n->contacts = count_of(c, "contacts");
	n->orders = count_of(c, "orders");
	n->notes = count_of(c, "notes");
	n->agents = count_of(c, "agents");
	n->templates = count_of(c, "templates");
	n->labels = count_of(c, "labels");
	n->canned_replies = count_of(c, "canned_replies");
	n->history = count_of(c, "history");
	return n->conversations < 0 || n->messages < 0 ? -1 : 0;
}

static cJSON *
row_json(sqlite3_stmt *s, int col)
{
	const char *t = (const char *)sqlite3_column_text(s, col);

	return t != NULL ? cJSON_Parse(t) : NULL;
}

cJSON *
cache_entity(struct cache *c, const char *kind, int64_t id)
{
	sqlite3_stmt *s;
	char sql[96];
	cJSON *o = NULL;
	int k = kind_index(kind, strlen(kind));

	if (k < 0)
		return NULL;
	snprintf(sql, sizeof sql, "SELECT data FROM %s WHERE id = ?1",
	    kinds[k].data_table != NULL ? kinds[k].data_table :
	    kinds[k].table);
	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		o = row_json(s, 0);
	sqlite3_finalize(s);
	return o;
}

int
cache_find_conversation(struct cache *c, const char *spec, int64_t *id)
{
	sqlite3_stmt *s;
	const char *p = spec;
	int rc = -1;

	if (*p == '+')
		p++;
	if (*p == '\0' || strspn(p, "0123456789") != strlen(p) ||
	    strlen(p) > 18)
		return -1;
	/* A short number is an id; a long one may also be a phone number. */
	if (sqlite3_prepare_v2(c->db, "SELECT id FROM conversations WHERE"
	    " id = ?1 UNION ALL SELECT cv.id FROM conversations cv JOIN"
	    " contacts ct ON ct.id = cv.contact_id WHERE ct.phone = ?2"
	    " LIMIT 1", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, spec[0] == '+' ? -1 : strtoll(p, NULL, 10));
	sqlite3_bind_text(s, 2, p, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

/*
 * The user's words as an FTS5 query: each word quoted (so nothing in it is
 * query syntax), a trailing * kept as a prefix search, words ANDed.
 */
static char *
fts_query(const char *q)
{
	struct buf b;
	const char *p = q;

	buf_init(&b);
	while (*p != '\0') {
		size_t n;
		int prefix = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		n = strcspn(p, " \t\n");
		if (n == 0)
			break;
		/* A lone '*' is a word (of no letters), not an empty prefix. */
		if (n > 1 && p[n - 1] == '*') {
			prefix = 1;
			n--;
		}
		if (n > 0) {
			if (b.len > 0)
				buf_adds(&b, " ");
			buf_adds(&b, "\"");
			for (size_t i = 0; i < n; i++) {
				if (p[i] == '"')
					buf_adds(&b, "\"\"");
				else
					buf_add(&b, p + i, 1);
			}
			buf_adds(&b, prefix ? "\"*" : "\"");
		}
		p += n + prefix;
	}
	return b.len > 0 ? buf_steal(&b) : (buf_free(&b), NULL);
}

int
cache_search(struct cache *c, const char *query, int limit,
    void (*fn)(void *, const struct cache_hit *), void *arg, char **cause)
{
	static const char *const sql[2] = {
		"SELECT 'contact', ct.id, (SELECT cv.id FROM conversations cv"
		" WHERE cv.contact_id = ct.id ORDER BY cv.last_activity_at DESC"
		" LIMIT 1), ct.data->>'updated_at', ct.name, ct.phone"
		" FROM contact_fts f JOIN contacts ct ON ct.id = f.rowid"
		" WHERE contact_fts MATCH ?1 ORDER BY f.rowid DESC LIMIT ?2",
		"SELECT 'message', m.id, m.conversation_id, m.ts, ct.name,"
		" m.body FROM message_fts f JOIN messages m ON m.id = f.rowid"
		" LEFT JOIN conversations cv ON cv.id = m.conversation_id"
		" LEFT JOIN contacts ct ON ct.id = cv.contact_id"
		" WHERE message_fts MATCH ?1 ORDER BY f.rowid DESC LIMIT ?2",
	};
	char *q = fts_query(query);
	int n = 0, rc = SQLITE_DONE;

	if (q == NULL) {
		*cause = xstrdup("search needs at least one word");
		return -1;
	}
	/* Contacts first, then messages; limit counts both. */
	for (int i = 0; i < 2 && rc == SQLITE_DONE && n < limit; i++) {
		sqlite3_stmt *s;

		if (sqlite3_prepare_v2(c->db, sql[i], -1, &s, NULL) !=
		    SQLITE_OK) {
			*cause = xasprintf("%s: %s", c->path,
			    sqlite3_errmsg(c->db));
			free(q);
			return -1;
		}
		sqlite3_bind_text(s, 1, q, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, limit - n);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			struct cache_hit h;

			h.kind = (const char *)sqlite3_column_text(s, 0);
			h.id = sqlite3_column_int64(s, 1);
			h.conversation_id = sqlite3_column_int64(s, 2);
			h.timestamp = sqlite3_column_int64(s, 3);
			h.contact = (const char *)sqlite3_column_text(s, 4);
			h.text = (const char *)sqlite3_column_text(s, 5);
			fn(arg, &h);
			n++;
		}
		if (rc != SQLITE_DONE) {
			*cause = xasprintf("search failed: %s",
			    sqlite3_errmsg(c->db));
			db_error(c, rc);
		}
		sqlite3_finalize(s);
	}
	free(q);
	return rc == SQLITE_DONE ? n : -1;
}

static cJSON *
rows_array(struct cache *c, const char *sql, int64_t id)
{
	sqlite3_stmt *s;
	cJSON *a = cJSON_CreateArray();

	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
		return a;
	sqlite3_bind_int64(s, 1, id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		cJSON *o = row_json(s, 1);

		if (o != NULL)
			cJSON_AddItemToArray(a, o);
	}
	sqlite3_finalize(s);
	return a;
}

cJSON *
cache_export_conversation(struct cache *c, int64_t id)
{
	cJSON *conv = cache_entity(c, "conversation", id), *out, *contact;
	double cid;

	if (conv == NULL)
		return NULL;
	out = cJSON_CreateObject();
	cid = cJSON_GetNumberValue(cJSON_GetObjectItem(conv, "contact_id"));
	cJSON_AddItemToObject(out, "conversation", conv);
	contact = cid > 0 ? cache_entity(c, "contact", (int64_t)cid) : NULL;
	cJSON_AddItemToObject(out, "contact", contact ? contact :
	    cJSON_CreateNull());
	cJSON_AddItemToObject(out, "messages", rows_array(c, "SELECT m.id,"
	    " d.data FROM messages m JOIN message_data d ON d.id = m.id"
	    " WHERE m.conversation_id = ?1 ORDER BY m.id", id));
	cJSON_AddItemToObject(out, "notes", rows_array(c, "SELECT id, data"
	    " FROM notes WHERE conversation_id = ?1 ORDER BY id", id));
	cJSON_AddItemToObject(out, "orders", rows_array(c, "SELECT id, data"
	    " FROM orders WHERE conversation_id = ?1 ORDER BY id", id));
	cJSON_AddItemToObject(out, "history", rows_array(c, "SELECT id, data"
	    " FROM history WHERE conversation_id = ?1 ORDER BY id", id));
	return out;
}

/* -- outbox and drafts ------------------------------------------------- */

static const char *const state_names[] = { "queued", "accepted", "failed" };

const char *
outbox_state_name(enum outbox_state s)
{
	return state_names[s];
}

void
outbox_entry_free(struct outbox_entry *e)
{
	free(e->key);
	free(e->kind);
	free(e->method);
	free(e->path);
	free(e->body);
	free(e->error);
	free(e->delivery);
	memset(e, 0, sizeof *e);
}

static char *
new_key(void)
{
	unsigned char r[16];
	char hex[33];

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		/* getrandom on Linux does not fail for 16 bytes once seeded;
		 * fall back to something unique to this process anyway. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(hex, sizeof hex, "%016llx%08x%08x",
		    (unsigned long long)ts.tv_sec, (unsigned)ts.tv_nsec,
		    (unsigned)getpid());
		return xstrdup(hex);
	}
	hex_encode(r, sizeof r, hex);
	return xstrdup(hex);
}

int
cache_outbox_add(struct cache *c, int64_t conversation_id, const char *kind,
    const char *method, const char *path, const char *body, int64_t *id,
    char **cause)
{
	sqlite3_stmt *s;
	char *key = new_key();
	int64_t now = time(NULL);
	int rc;

	if (sqlite3_prepare_v2(c->db, "INSERT INTO outbox(key,"
	    " conversation_id, kind, method, path, body, created_at,"
	    " updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)", -1, &s,
	    NULL) != SQLITE_OK) {
		*cause = xasprintf("%s: %s", c->work_path,
		    sqlite3_errmsg(c->db));
		free(key);
		return -1;
	}
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (conversation_id > 0)
		sqlite3_bind_int64(s, 2, conversation_id);
	sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, method, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, path, -1, SQLITE_STATIC);
	if (body != NULL)
		sqlite3_bind_text(s, 6, body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, now);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	free(key);
	if (rc != SQLITE_DONE) {
		*cause = xasprintf("cannot queue in %s: %s", c->work_path,
		    sqlite3_errmsg(c->db));
		return -1;
	}
	*id = sqlite3_last_insert_rowid(c->db);
	return 0;
}

#define ENTRY_COLUMNS                                                         \
	"o.id, o.key, o.conversation_id, o.kind, o.method, o.path, o.body,"   \
	" o.state, o.attempts, o.next_at, o.error, o.result_id,"              \
	" o.created_at, (SELECT m.status FROM messages m WHERE"               \
	" o.kind = 'message' AND m.id = o.result_id)"

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	return t != NULL ? xstrdup(t) : NULL;
}

static void
read_entry(sqlite3_stmt *s, struct outbox_entry *e)
{
	const char *st = (const char *)sqlite3_column_text(s, 7);

	memset(e, 0, sizeof *e);
	e->id = sqlite3_column_int64(s, 0);
	e->key = col_dup(s, 1);
	e->conversation_id = sqlite3_column_int64(s, 2);
	e->kind = col_dup(s, 3);
	e->method = col_dup(s, 4);
	e->path = col_dup(s, 5);
	e->body = col_dup(s, 6);
	e->state = OUTBOX_QUEUED;
	for (int i = 0; st != NULL && i < 3; i++) {
		if (strcmp(st, state_names[i]) == 0)
			e->state = (enum outbox_state)i;
	}
	e->attempts = sqlite3_column_int64(s, 8);
	e->next_at = sqlite3_column_int64(s, 9);
	e->error = col_dup(s, 10);
	e->result_id = sqlite3_column_int64(s, 11);
	e->created_at = sqlite3_column_int64(s, 12);
	e->delivery = col_dup(s, 13);
}

int
cache_outbox_due(struct cache *c, int64_t now, struct outbox_entry *out,
    int max)
{
	sqlite3_stmt *s;
	int n = 0;

	if (sqlite3_prepare_v2(c->db, "SELECT " ENTRY_COLUMNS " FROM outbox o"
	    " WHERE o.state = 'queued' AND o.next_at <= ?1 AND"
	    " (o.conversation_id IS NULL OR o.id = (SELECT min(p.id) FROM"
	    " outbox p WHERE p.state = 'queued' AND p.conversation_id ="
	    " o.conversation_id)) ORDER BY o.id LIMIT ?2", -1, &s, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int(s, 2, max);
	while (n < max && sqlite3_step(s) == SQLITE_ROW)
		read_entry(s, &out[n++]);
	sqlite3_finalize(s);
	return n;
}

int64_t
cache_outbox_next_at(struct cache *c)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_prepare_v2(c->db, "SELECT min(next_at) FROM outbox WHERE"
	    " state = 'queued'", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

int
cache_outbox_wake(struct cache *c)
{
	return exec(c, "UPDATE outbox SET next_at = 0 WHERE state = 'queued'"
	    " AND next_at > 0", NULL);
}

int
cache_outbox_get(struct cache *c, int64_t id, struct outbox_entry *e)
{
	sqlite3_stmt *s;
	int rc = -1;

	if (sqlite3_prepare_v2(c->db, "SELECT " ENTRY_COLUMNS " FROM outbox o"
	    " WHERE o.id = ?1", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		read_entry(s, e);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

static int
outbox_update(struct cache *c, const char *sql, int64_t id, int64_t v,
    const char *text)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, v);
	if (text != NULL)
		sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, time(NULL));
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE && sqlite3_changes(c->db) == 1 ? 0 : -1;
}

int
cache_outbox_accepted(struct cache *c, int64_t id, int64_t result_id)
{
	return outbox_update(c, "UPDATE outbox SET state = 'accepted',"
	    " result_id = nullif(?2, 0), error = ?3, attempts = attempts + 1,"
	    " updated_at = ?4 WHERE id = ?1", id, result_id, NULL);
}

int
cache_outbox_failed(struct cache *c, int64_t id, const char *error)
{
	return outbox_update(c, "UPDATE outbox SET state = 'failed',"
	    " error = ?3, attempts = attempts + 1 + 0 * ?2, updated_at = ?4"
	    " WHERE id = ?1", id, 0, error);
}

int
cache_outbox_retry_later(struct cache *c, int64_t id, int64_t next_at,
    const char *error)
{
	return outbox_update(c, "UPDATE outbox SET next_at = ?2, error = ?3,"
	    " attempts = attempts + 1, updated_at = ?4 WHERE id = ?1"
	    " AND state = 'queued'", id, next_at, error);
}

int
cache_outbox_requeue(struct cache *c, int64_t id, char **cause)
{
	char *key = new_key();
	int rc;

	rc = outbox_update(c, "UPDATE outbox SET state = 'queued', key = ?3,"
	    " next_at = ?2, error = NULL, attempts = 0, updated_at = ?4"
	    " WHERE id = ?1 AND state = 'failed'", id, 0, key);
	free(key);
	if (rc != 0)
		*cause = xasprintf("outbox entry %lld is not a failed one",
		    (long long)id);
	return rc;
}

int
cache_outbox_discard(struct cache *c, int64_t id, char **cause)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(c->db, "DELETE FROM outbox WHERE id = ?1 AND"
	    " state != 'accepted'", -1, &s, NULL) != SQLITE_OK) {
		*cause = xstrdup(sqlite3_errmsg(c->db));
		return -1;
	}
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE || sqlite3_changes(c->db) != 1) {
		*cause = xasprintf("outbox entry %lld does not exist or was "
		    "already accepted by the relay", (long long)id);
		return -1;
	}
	return 0;
}

int
cache_outbox_list(struct cache *c, int pending_only,
    void (*fn)(void *, const struct outbox_entry *), void *arg)
{
	sqlite3_stmt *s;
	int n = 0;

	if (sqlite3_prepare_v2(c->db, pending_only ?
	    "SELECT " ENTRY_COLUMNS " FROM outbox o WHERE o.state != "
	    "'accepted' ORDER BY o.id DESC" :
	    "SELECT " ENTRY_COLUMNS " FROM outbox o ORDER BY o.id DESC", -1, &s,
	    NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct outbox_entry e;

		read_entry(s, &e);
		fn(arg, &e);
		outbox_entry_free(&e);
		n++;
	}
	sqlite3_finalize(s);
	return n;
}

int
cache_outbox_counts(struct cache *c, struct outbox_counts *n)
{
	sqlite3_stmt *s;

	memset(n, 0, sizeof *n);
	if (sqlite3_prepare_v2(c->db, "SELECT state, count(*) FROM outbox"
	    " GROUP BY state", -1, &s, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *st = (const char *)sqlite3_column_text(s, 0);
		int64_t v = sqlite3_column_int64(s, 1);

		if (strcmp(st, "queued") == 0)
			n->queued = v;
		else if (strcmp(st, "accepted") == 0)
			n->accepted = v;
		else if (strcmp(st, "failed") == 0)
			n->failed = v;
	}
	sqlite3_finalize(s);
	return 0;
}

int
cache_draft_set(struct cache *c, int64_t conversation_id, const char *text)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(c->db, text != NULL && *text != '\0' ?
	    "INSERT OR REPLACE INTO drafts VALUES(?1, ?2, ?3)" :
	    "DELETE FROM drafts WHERE conversation_id = ?1", -1, &s, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, conversation_id);
	if (text != NULL && *text != '\0') {
		sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, time(NULL));
	}
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

char *
cache_draft_get(struct cache *c, int64_t conversation_id)
{
	sqlite3_stmt *s;
	char *v = NULL;

	if (sqlite3_prepare_v2(c->db, "SELECT body FROM drafts WHERE"
	    " conversation_id = ?1", -1, &s, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(s, 1, conversation_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = col_dup(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* -- reading for the screen: the conversation list and the sidebar --- */

enum {
	VIEW_LIST_OLDER,
	VIEW_LIST_NEWER,
	VIEW_LIST_OLDER_LABEL,
	VIEW_LIST_NEWER_LABEL,
	VIEW_LIST_KEY,
	VIEW_LIST_COUNT,
	VIEW_LIST_COUNT_LABEL,
	VIEW_LIST_POSITION,
	VIEW_LIST_POSITION_LABEL,
	VIEW_LIST_UNREAD,
	VIEW_LIST_UNREAD_LABEL,
	VIEW_SIDE_ORDERS,
	VIEW_SIDE_NOTES,
	VIEW_SIDE_CONVERSATIONS,
	VIEW_AGENT_NAME,
	VIEW_NEW_INBOUND,
	VIEW_NEWEST,
	VIEW_TEMPLATE_NEXT,
	VIEW_COUNT
};

/*
 * The screen's statements are made on first use and kept: the list runs
 * a few per keystroke, and preparing costs more than running them.
 */
static sqlite3_stmt *
view_stmt(struct cache *c, int which, const char *sql)
{
	sqlite3_stmt **s = &c->view[which];

	if (*s == NULL && sqlite3_prepare_v3(c->db, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, s, NULL) != SQLITE_OK) {
		log_warn("cache: %s", sqlite3_errmsg(c->db));
		*s = NULL;
		return NULL;
	}
	sqlite3_reset(*s);
	sqlite3_clear_bindings(*s);
	return *s;
}

/*
 * The list's filter over conversations c; parameters ?1 to ?3 (who, me,
 * status), covered by the list's index so counting reads no rows...
 */
#define LIST_FILTER \
	"(?1 = 0 OR (?1 = 1 AND c.assignee_id = ?2) OR" \
	" (?1 = 2 AND c.assignee_id IS NULL) OR" \
	" (?1 = 3 AND (c.assignee_id = ?2 OR c.assignee_id IS NULL)))" \
	" AND (?3 IS NULL OR c.status = ?3)"
/* ...and a label (?4), which must read each row's JSON. */
#define LIST_LABEL \
	" AND EXISTS (SELECT 1 FROM json_each(c.data, '$.labels')" \
	" WHERE value = ?4)"

/* The agent's (?2) unread inbound messages of c, counted up to 100. */
#define LIST_UNREAD \
	"(SELECT count(*) FROM (SELECT 1 FROM messages u" \
	" WHERE u.conversation_id = c.id AND u.direction = 'in' AND u.id >" \
	" coalesce(json_extract(c.data, '$.read_by.\"' || ?2 || '\"'), 0)" \
	" LIMIT 100))"
/* The raw column, so its index orders the list (the relay always sets it). */
#define LIST_KEY "c.last_activity_at"
#define LIST_ROW \
	"SELECT " LIST_KEY ", c.id, c.contact_id, c.assignee_id," \
	" json_extract(c.data, '$.last_inbound_at'), " LIST_UNREAD "," \
	" coalesce(k.name, k.phone, json_extract(k.data, '$.user_id'))," \
	" c.status, a.name, m.body, json_extract(d.data, '$.type')," \
	" m.direction, json_extract(c.data, '$.labels')" \
	" FROM conversations c" \
	" LEFT JOIN contacts k ON k.id = c.contact_id" \
	" LEFT JOIN agents a ON a.id = c.assignee_id" \
	" LEFT JOIN messages m ON m.id = c.last_message_id" \
	" LEFT JOIN message_data d ON d.id = c.last_message_id" \
	" WHERE " LIST_FILTER

static void
bind_filter(sqlite3_stmt *s, const struct cache_filter *f)
{
	sqlite3_bind_int(s, 1, (int)f->assigned);
	sqlite3_bind_int64(s, 2, f->me);
	if (f->status != NULL)
		sqlite3_bind_text(s, 3, f->status, -1, SQLITE_STATIC);
	if (f->label != NULL)
		sqlite3_bind_text(s, 4, f->label, -1, SQLITE_STATIC);
}

static const char *
col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

int
cache_list_rows(struct cache *c, const struct cache_filter *f,
    const struct cache_list_key *key, int dir, int limit,
    void (*fn)(void *, const struct cache_list_row *), void *arg)
{
	sqlite3_stmt *s;
	int label = f->label != NULL, n = 0, rc;

	if (dir > 0)
		s = label ? view_stmt(c, VIEW_LIST_OLDER_LABEL, LIST_ROW
		    LIST_LABEL " AND (" LIST_KEY ", c.id) < (?5, ?6)"
		    " ORDER BY " LIST_KEY " DESC, c.id DESC LIMIT ?7") :
		    view_stmt(c, VIEW_LIST_OLDER, LIST_ROW
		    " AND (" LIST_KEY ", c.id) < (?5, ?6)"
		    " ORDER BY " LIST_KEY " DESC, c.id DESC LIMIT ?7");
	else
		s = label ? view_stmt(c, VIEW_LIST_NEWER_LABEL, LIST_ROW
		    LIST_LABEL " AND (" LIST_KEY ", c.id) > (?5, ?6)"
		    " ORDER BY " LIST_KEY ", c.id LIMIT ?7") :
		    view_stmt(c, VIEW_LIST_NEWER, LIST_ROW
		    " AND (" LIST_KEY ", c.id) > (?5, ?6)"
		    " ORDER BY " LIST_KEY ", c.id LIMIT ?7");
	if (s == NULL)
		return -1;
	bind_filter(s, f);
	sqlite3_bind_int64(s, 5, key->activity);
	sqlite3_bind_int64(s, 6, key->id);
	sqlite3_bind_int(s, 7, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cache_list_row r;

		r.key.activity = sqlite3_column_int64(s, 0);
		r.key.id = sqlite3_column_int64(s, 1);
		r.contact_id = sqlite3_column_int64(s, 2);
		r.assignee_id = sqlite3_column_int64(s, 3);
		r.last_inbound_at = sqlite3_column_int64(s, 4);
		r.unread = sqlite3_column_int64(s, 5);
		r.name = col_text(s, 6);
		r.status = col_text(s, 7);
		r.assignee = col_text(s, 8);
		r.preview = col_text(s, 9);
		r.preview_type = col_text(s, 10);
		r.direction = col_text(s, 11);
		r.labels = col_text(s, 12);
		fn(arg, &r);
		n++;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? n : db_error(c, rc);
}

int
cache_list_key_of(struct cache *c, int64_t id, struct cache_list_key *key)
{
	sqlite3_stmt *s = view_stmt(c, VIEW_LIST_KEY, "SELECT " LIST_KEY
	    " FROM conversations c WHERE c.id = ?1");
	int rc = -1;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		key->activity = sqlite3_column_int64(s, 0);
		key->id = id;
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

static int64_t
step_count(struct cache *c, sqlite3_stmt *s)
{
	int64_t n = -1;
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	else
		db_error(c, rc);
	sqlite3_reset(s);
	return n;
}

int64_t
cache_list_count(struct cache *c, const struct cache_filter *f)
{
	sqlite3_stmt *s = f->label != NULL ? view_stmt(c,
	    VIEW_LIST_COUNT_LABEL, "SELECT count(*) FROM conversations c"
	    " WHERE " LIST_FILTER LIST_LABEL) : view_stmt(c, VIEW_LIST_COUNT,
	    "SELECT count(*) FROM conversations c WHERE " LIST_FILTER);

	if (s == NULL)
		return -1;
	bind_filter(s, f);
	return step_count(c, s);
}

int64_t
cache_list_position(struct cache *c, const struct cache_filter *f,
    const struct cache_list_key *key)
{
	sqlite3_stmt *s = f->label != NULL ? view_stmt(c,
	    VIEW_LIST_POSITION_LABEL, "SELECT count(*) FROM conversations c"
	    " WHERE " LIST_FILTER LIST_LABEL
	    " AND (" LIST_KEY ", c.id) > (?5, ?6)") : view_stmt(c,
	    VIEW_LIST_POSITION, "SELECT count(*) FROM conversations c"
	    " WHERE " LIST_FILTER " AND (" LIST_KEY ", c.id) > (?5, ?6)");

	if (s == NULL)
		return -1;
	bind_filter(s, f);
	sqlite3_bind_int64(s, 5, key->activity);
	sqlite3_bind_int64(s, 6, key->id);
	return step_count(c, s);
}

int
cache_list_next_unread(struct cache *c, const struct cache_filter *f,
    const struct cache_list_key *key, int64_t *id, struct cache_list_key *out)
{
	/* Below the cursor first, in list order; then from the top. */
	sqlite3_stmt *s = f->label != NULL ? view_stmt(c,
	    VIEW_LIST_UNREAD_LABEL, "SELECT " LIST_KEY ", c.id FROM"
	    " conversations c WHERE " LIST_FILTER LIST_LABEL
	    " AND (" LIST_KEY ", c.id) < (?5, ?6) AND " LIST_UNREAD " > 0"
	    " ORDER BY " LIST_KEY " DESC, c.id DESC LIMIT 1") : view_stmt(c,
	    VIEW_LIST_UNREAD, "SELECT " LIST_KEY ", c.id FROM"
	    " conversations c WHERE " LIST_FILTER
	    " AND (" LIST_KEY ", c.id) < (?5, ?6) AND " LIST_UNREAD " > 0"
	    " ORDER BY " LIST_KEY " DESC, c.id DESC LIMIT 1");
	int rc = -1;

	for (int pass = 0; pass < 2 && rc != 0 && s != NULL; pass++) {
		sqlite3_reset(s);
		bind_filter(s, f);
		sqlite3_bind_int64(s, 5, pass == 0 ? key->activity : INT64_MAX);
		sqlite3_bind_int64(s, 6, pass == 0 ? key->id : INT64_MAX);
		if (sqlite3_step(s) == SQLITE_ROW) {
			out->activity = sqlite3_column_int64(s, 0);
			out->id = *id = sqlite3_column_int64(s, 1);
			rc = 0;
		}
	}
	if (s != NULL)
		sqlite3_reset(s);
	return rc;
}

int
cache_side_rows(struct cache *c, enum cache_side which, int64_t contact_id,
    int limit, void (*fn)(void *, int64_t, const char *), void *arg)
{
	sqlite3_stmt *s;
	int n = 0, rc;

	switch (which) {
	case CACHE_SIDE_ORDERS:
		s = view_stmt(c, VIEW_SIDE_ORDERS, "SELECT id, data FROM"
		    " orders WHERE contact_id = ?1 ORDER BY id DESC LIMIT ?2");
		break;
	case CACHE_SIDE_NOTES:
		s = view_stmt(c, VIEW_SIDE_NOTES, "SELECT n.id, n.data FROM"
		    " notes n JOIN conversations c ON c.id = n.conversation_id"
		    " WHERE c.contact_id = ?1 ORDER BY n.id DESC LIMIT ?2");
		break;
	default:
		s = view_stmt(c, VIEW_SIDE_CONVERSATIONS, "SELECT id, data"
		    " FROM conversations WHERE contact_id = ?1"
		    " ORDER BY last_activity_at DESC, id DESC LIMIT ?2");
		break;
	}
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, contact_id);
	sqlite3_bind_int(s, 2, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		fn(arg, sqlite3_column_int64(s, 0), col_text(s, 1));
		n++;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? n : db_error(c, rc);
}

void
cache_agent_name(struct cache *c, int64_t id, char *out, size_t len)
{
	sqlite3_stmt *s = view_stmt(c, VIEW_AGENT_NAME, "SELECT name FROM"
	    " agents WHERE id = ?1");

	if (len > 0)
		out[0] = '\0';
	if (s == NULL)
		return;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW && col_text(s, 0) != NULL && len > 0)
		snprintf(out, len, "%s", col_text(s, 0));
	sqlite3_reset(s);
}

int
cache_new_inbound(struct cache *c, const struct cache_filter *f,
    int64_t *after, int limit,
    void (*fn)(void *, int64_t, const char *, const char *), void *arg)
{
	sqlite3_stmt *s = view_stmt(c, VIEW_NEW_INBOUND, "SELECT m.id,"
	    " m.conversation_id, coalesce(k.name, k.phone,"
	    " json_extract(k.data, '$.user_id')), m.body"
	    " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
	    " LEFT JOIN contacts k ON k.id = c.contact_id"
	    " WHERE m.id > ?5 AND m.direction = 'in' AND " LIST_FILTER
	    " ORDER BY m.id");
	int n = 0, rc;

	if (s == NULL)
		return -1;
	bind_filter(s, f);
	sqlite3_bind_int64(s, 5, *after);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*after = sqlite3_column_int64(s, 0);
		if (n++ < limit)
			fn(arg, sqlite3_column_int64(s, 1), col_text(s, 2),
			    col_text(s, 3));
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? n : db_error(c, rc);
}

int
cache_template_next(struct cache *c, const char *prefix,
    const char *after_name, const char *after_lang, char *name,
    size_t name_len, char *lang, size_t lang_len)
{
	sqlite3_stmt *s = view_stmt(c, VIEW_TEMPLATE_NEXT, "SELECT name,"
	    " coalesce(language, '') FROM templates"
	    " WHERE status = 'APPROVED' AND substr(name, 1, length(?1)) = ?1"
	    " AND (name, coalesce(language, '')) > (?2, ?3)"
	    " ORDER BY name, language LIMIT 1");
	int rc = -1;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, after_name != NULL ? after_name : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 3, after_lang != NULL ? after_lang : "", -1,
	    SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && col_text(s, 0) != NULL) {
		snprintf(name, name_len, "%s", col_text(s, 0));
		snprintf(lang, lang_len, "%s", col_text(s, 1));
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

int64_t
cache_newest_message(struct cache *c)
{
	sqlite3_stmt *s = view_stmt(c, VIEW_NEWEST, "SELECT coalesce(max(id),"
	    " 0) FROM messages");

	return s != NULL ? step_count(c, s) : -1;
}

/* -- reading for the screen: threads ----------------------------------- */

/*
 * Prepared once and kept: the screen runs these on every scroll past its
 * window, and preparing costs more than the keyset step itself.
 */
enum {
	TQ_OLDER,
	TQ_NEWER,
	TQ_ONE,
	TQ_WAMID,
	TQ_NOTES,
	TQ_REACTIONS,
	TQ_PENDING,
	TQ_COUNT
};
_Static_assert(VIEW_COUNT + TQ_COUNT <= sizeof ((struct cache *)0)->view /
    sizeof (sqlite3_stmt *), "struct cache holds every screen query");

#define THREAD_COLUMNS							\
	"m.id, m.conversation_id, m.ts, m.direction, m.status, d.data"

static const char *const thread_sql[TQ_COUNT] = {
	[TQ_OLDER] = "SELECT " THREAD_COLUMNS " FROM messages m"
	    " JOIN message_data d ON d.id = m.id WHERE m.conversation_id = ?1"
	    " AND m.id < ?2 ORDER BY m.id DESC LIMIT ?3",
	[TQ_NEWER] = "SELECT " THREAD_COLUMNS " FROM messages m"
	    " JOIN message_data d ON d.id = m.id WHERE m.conversation_id = ?1"
	    " AND m.id > ?2 ORDER BY m.id LIMIT ?3",
	[TQ_ONE] = "SELECT " THREAD_COLUMNS " FROM messages m"
	    " JOIN message_data d ON d.id = m.id WHERE m.id = ?1",
	/* The inner query bounds how far back the JSON is read. */
	[TQ_WAMID] = "SELECT " THREAD_COLUMNS " FROM (SELECT id FROM messages"
	    " WHERE conversation_id = ?1 AND id < ?2 ORDER BY id DESC"
	    " LIMIT ?4) r JOIN messages m ON m.id = r.id"
	    " JOIN message_data d ON d.id = m.id"
	    " WHERE d.data->>'wamid' = ?3 ORDER BY m.id DESC LIMIT 1",
	/* Notes, and history lines (status "history"), by time. */
	[TQ_NOTES] = "SELECT id, conversation_id, at, NULL, kind, data FROM"
	    " (SELECT id, conversation_id, coalesce(data->>'created_at', 0)"
	    "  AS at, NULL AS kind, data FROM notes WHERE conversation_id = ?1"
	    "  UNION ALL SELECT id, conversation_id,"
	    "  coalesce(data->>'created_at', 0), 'history', data FROM history"
	    "  WHERE conversation_id = ?1)"
	    " WHERE at >= ?2 AND at < ?3 ORDER BY at, id LIMIT ?4",
	/* A reaction has no text, so the narrow row rules most out before
	 * any JSON is read. */
	[TQ_REACTIONS] = "SELECT " THREAD_COLUMNS " FROM messages m"
	    " JOIN message_data d ON d.id = m.id WHERE m.conversation_id = ?1"
	    " AND m.id > ?2 AND m.body IS NULL"
	    " AND d.data->>'type' = 'reaction' ORDER BY m.id",
	[TQ_PENDING] = "SELECT id, conversation_id, created_at, NULL, state,"
	    " body, error FROM outbox WHERE state IN ('queued', 'failed')"
	    " AND conversation_id = ?1 AND kind = 'message' ORDER BY id",
};

static sqlite3_stmt *
thread_stmt(struct cache *c, int q)
{
	return view_stmt(c, VIEW_COUNT + q, thread_sql[q]);
}

/* Steps s to its end, handing each row to fn; the count, or -1. */
static int
thread_rows(struct cache *c, sqlite3_stmt *s, cache_thread_fn fn, void *arg)
{
	struct cache_thread_row r;
	int n = 0, rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&r, 0, sizeof r);
		r.id = sqlite3_column_int64(s, 0);
		r.conversation_id = sqlite3_column_int64(s, 1);
		r.ts = sqlite3_column_int64(s, 2);
		r.direction = (const char *)sqlite3_column_text(s, 3);
		r.status = (const char *)sqlite3_column_text(s, 4);
		r.data = (const char *)sqlite3_column_text(s, 5);
		r.data_len = (size_t)sqlite3_column_bytes(s, 5);
		if (sqlite3_column_count(s) > 6)
			r.error = (const char *)sqlite3_column_text(s, 6);
		if (r.data == NULL)
			r.data = "";
		fn(arg, &r);
		n++;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? n : db_error(c, rc);
}

int
cache_thread_messages(struct cache *c, int64_t conversation_id,
    int64_t anchor, int dir, int limit, cache_thread_fn fn, void *arg)
{
	sqlite3_stmt *s = thread_stmt(c, dir < 0 ? TQ_OLDER : TQ_NEWER);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, conversation_id);
	sqlite3_bind_int64(s, 2, anchor);
	sqlite3_bind_int(s, 3, limit);
	return thread_rows(c, s, fn, arg);
}

int
cache_thread_message(struct cache *c, int64_t id, cache_thread_fn fn,
    void *arg)
{
	sqlite3_stmt *s = thread_stmt(c, TQ_ONE);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	return thread_rows(c, s, fn, arg);
}

int
cache_thread_by_wamid(struct cache *c, int64_t conversation_id,
    int64_t before_id, const char *wamid, int depth, cache_thread_fn fn,
    void *arg)
{
	sqlite3_stmt *s = thread_stmt(c, TQ_WAMID);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, conversation_id);
	sqlite3_bind_int64(s, 2, before_id);
	sqlite3_bind_text(s, 3, wamid, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, depth);
	return thread_rows(c, s, fn, arg);
}

int
cache_thread_notes(struct cache *c, int64_t conversation_id, int64_t from,
    int64_t to, int limit, cache_thread_fn fn, void *arg)
{
	sqlite3_stmt *s = thread_stmt(c, TQ_NOTES);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, conversation_id);
	sqlite3_bind_int64(s, 2, from);
	sqlite3_bind_int64(s, 3, to);
	sqlite3_bind_int(s, 4, limit);
	return thread_rows(c, s, fn, arg);
}

int
cache_thread_reactions(struct cache *c, int64_t conversation_id,
    int64_t after_id, cache_thread_fn fn, void *arg)
{
	sqlite3_stmt *s = thread_stmt(c, TQ_REACTIONS);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, conversation_id);
	sqlite3_bind_int64(s, 2, after_id);
	return thread_rows(c, s, fn, arg);
}

int
cache_thread_pending(struct cache *c, int64_t conversation_id,
    cache_thread_fn fn, void *arg)
{
	sqlite3_stmt *s = thread_stmt(c, TQ_PENDING);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, conversation_id);
	return thread_rows(c, s, fn, arg);
}

/* -- the shared inbox: labels, canned replies, history ------------------ */

/*
 * Rows of one query, each handed to fn with its columns as they are (the
 * pointers live until fn returns). Returns how many, or -1.
 */
static int
inbox_rows(struct cache *c, const char *sql, const char *text,
    int64_t id, int (*row)(void *, sqlite3_stmt *), void *arg)
{
	sqlite3_stmt *s;
	int n = 0, rc;

	if ((rc = sqlite3_prepare_v2(c->db, sql, -1, &s, NULL)) != SQLITE_OK)
		return db_error(c, rc);
	if (text != NULL)
		sqlite3_bind_text(s, 1, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		n++;
		if (row(arg, s) != 0)
			break;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : db_error(c, rc);
}

struct label_cb {
	void (*fn)(void *, const struct cache_label *);
	void *arg;
};

static int
label_row(void *arg, sqlite3_stmt *s)
{
	struct label_cb *cb = arg;
	struct cache_label l = { sqlite3_column_int64(s, 0), col_text(s, 1),
		col_text(s, 2) };

	cb->fn(cb->arg, &l);
	return 0;
}

int
cache_labels(struct cache *c, void (*fn)(void *, const struct cache_label *),
    void *arg)
{
	struct label_cb cb = { fn, arg };

	return inbox_rows(c, "SELECT id, name, json_extract(data, '$.color')"
	    " FROM labels WHERE id > ?1 ORDER BY name COLLATE NOCASE, id",
	    NULL, 0, label_row, &cb);
}

struct canned_cb {
	void (*fn)(void *, const struct cache_canned *);
	void *arg;
};

static int
canned_row(void *arg, sqlite3_stmt *s)
{
	struct canned_cb *cb = arg;
	struct cache_canned r = { sqlite3_column_int64(s, 0), col_text(s, 1),
		col_text(s, 2) };

	cb->fn(cb->arg, &r);
	return 0;
}

int
cache_canned_replies(struct cache *c,
    void (*fn)(void *, const struct cache_canned *), void *arg)
{
	return cache_canned_find(c, "", fn, arg);
}

int
cache_canned_find(struct cache *c, const char *prefix,
    void (*fn)(void *, const struct cache_canned *), void *arg)
{
	struct canned_cb cb = { fn, arg };

	/* A handful of rows: a plain comparison of the prefix, exact and
	 * case-sensitive as shortcuts are (LIKE would fold case). */
	return inbox_rows(c, "SELECT id, shortcut, json_extract(data, '$.text')"
	    " FROM canned_replies WHERE substr(shortcut, 1, length(?1)) = ?1"
	    " ORDER BY length(shortcut), shortcut", prefix, 0, canned_row, &cb);
}

struct history_cb {
	void (*fn)(void *, const struct cache_history *);
	void *arg;
};

static int
history_row(void *arg, sqlite3_stmt *s)
{
	struct history_cb *cb = arg;
	struct cache_history h = {
		.id = sqlite3_column_int64(s, 0),
		.conversation_id = sqlite3_column_int64(s, 1),
		.agent_id = sqlite3_column_int64(s, 2),
		.at = sqlite3_column_int64(s, 3),
		.action = col_text(s, 4),
		.reason = col_text(s, 5),
		.text = col_text(s, 6),
	};

	cb->fn(cb->arg, &h);
	return 0;
}

int
cache_history(struct cache *c, int64_t conversation_id,
    void (*fn)(void *, const struct cache_history *), void *arg)
{
	struct history_cb cb = { fn, arg };

	return inbox_rows(c, "SELECT id, conversation_id,"
	    " coalesce(json_extract(data, '$.agent_id'), 0),"
	    " coalesce(json_extract(data, '$.created_at'), 0),"
	    " json_extract(data, '$.action'), json_extract(data, '$.reason'),"
	    " json_extract(data, '$.text') FROM history"
	    " WHERE conversation_id = ?1 ORDER BY id", NULL, conversation_id,
	    history_row, &cb);
}

/* -- keeping less offline ---------------------------------------------- */

int
cache_prune(struct cache *c, int64_t before, long *n, char **cause)
{
	sqlite3_stmt *s;
	int rc;

	*n = 0;
	if (cache_begin(c, cause) != 0)
		return -1;
	/* The delete trigger takes each one's full-text entry with it. */
	if (sqlite3_prepare_v2(c->db, "DELETE FROM message_data WHERE id IN"
	    " (SELECT id FROM messages WHERE ts < ?1)", -1, &s, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(s, 1, before);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE || sqlite3_prepare_v2(c->db, "DELETE FROM"
	    " messages WHERE ts < ?1", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(s, 1, before);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		goto fail;
	*n = (long)sqlite3_changes(c->db);
	if (*n > 0)
		c->scrub_fts = c->scrub_wal = 1;
	return cache_commit(c, cause);
fail:
	*cause = xasprintf("%s: %s", c->path, sqlite3_errmsg(c->db));
	cache_rollback(c);
	return -1;
}

char *
cache_canned_expand(struct cache *c, const char *text,
    int64_t conversation_id, const char *agent_name)
{
	struct canned_values v = { { NULL } };
	sqlite3_stmt *s = NULL;
	char id[24];
	char *out;

	snprintf(id, sizeof id, "%lld", (long long)conversation_id);
	v.v[CANNED_CONVERSATION_ID] = id;
	v.v[CANNED_AGENT_NAME] = agent_name;
	/* The contact's name as the list shows it (display name, profile
	 * name, username), and its number. */
	if (sqlite3_prepare_v2(c->db, "SELECT k.name, k.phone FROM"
	    " conversations v JOIN contacts k ON k.id = v.contact_id"
	    " WHERE v.id = ?1", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, conversation_id);
		if (sqlite3_step(s) == SQLITE_ROW) {
			v.v[CANNED_CONTACT_NAME] = col_text(s, 0);
			v.v[CANNED_CONTACT_PHONE] = col_text(s, 1);
		}
	}
	out = canned_expand(text, strlen(text), &v);
	sqlite3_finalize(s);
	return out;
}
