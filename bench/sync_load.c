/* sync_load: initial sync benchmark for glivi-relay.
 *
 *   sync_load seed --db PATH [--messages M] [--conversations C]
 *       Fills a relay store (created by the relay, which is stopped) with C
 *       contacts and conversations and M inbound text messages, and the
 *       matching changes rows, straight through libsqlite3: seeding a
 *       million messages through webhooks would take minutes.
 *
 *   sync_load sync --url https://HOST:PORT --token-file PATH --db PATH
 *       Times an initial sync through GET /api/v1/sync pages (one keep-alive
 *       HTTPS connection, each page parsed with cJSON, entities counted),
 *       beside the baseline of reading the same rows from the store file in
 *       this process: the changes joined to their entities in seq order,
 *       once reading every column and once building the same JSON pages the
 *       relay sends. Fails unless the client counted exactly the changes of
 *       the store, in strictly increasing seq order. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include "bench_common.h"

#define MAX_MESSAGES 100000000L
#define MAX_TOKEN_BYTES 256
#define MAX_PAGES 10000000L
/* The relay's schema versions this seeder knows: the tables it fills are
 * the same in both. */
#define SCHEMA_MIN 1
#define SCHEMA_VERSION 2

const char bench_prog[] = "sync_load";

static double
mono_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
exec_sql(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "sync_load: %s: %s\n", sql,
		        err ? err : sqlite3_errmsg(db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* The single integer answer of sql, or -1. */
static int64_t
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else
		fprintf(stderr, "sync_load: %s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return v;
}

static int
prepare(sqlite3 *db, const char *sql, sqlite3_stmt **s)
{
	if (sqlite3_prepare_v2(db, sql, -1, s, NULL) != SQLITE_OK) {
		fprintf(stderr, "sync_load: cannot prepare %s: %s\n", sql,
		        sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* Steps a statement that returns no rows, then resets it. */
static int
run_stmt(sqlite3 *db, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "sync_load: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* seed                                                                */

struct seed_opts {
	const char *db;
	const char *phone_number_id;
	long messages;
	long conversations;
	long text_bytes;
};

enum {
	Q_CONTACT,
	Q_CONV,
	Q_MSG,
	Q_CHANGE,
	NQ
};

static const char *seed_sql[NQ] = {
    [Q_CONTACT] = "INSERT INTO contacts(id, number_id, wa_id, profile_name,"
                  " created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?5)",
    [Q_CONV] = "INSERT INTO conversations(id, number_id, contact_id, status,"
               " last_inbound_at, last_activity_at, last_message_id,"
               " created_at) VALUES(?1, ?2, ?3, 'open', ?4, ?4, ?5, ?6)",
    [Q_MSG] = "INSERT INTO messages(id, number_id, conversation_id, wamid,"
              " direction, type, unknown_type, ts, received_at, text, wa,"
              " status) VALUES(?1, ?2, ?3, ?4, 'in', 'text', 0, ?5, ?5,"
              " ?6, ?7, 'received')",
    [Q_CHANGE] = "INSERT INTO changes(kind, entity_id, seq, deleted)"
                 " VALUES(?1, ?2, ?3, 0)",
};

static int
stamp(sqlite3 *db, sqlite3_stmt *s, const char *kind, int64_t id,
      int64_t *seq)
{
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	sqlite3_bind_int64(s, 3, ++*seq);
	return run_stmt(db, s);
}

static int
seed(const struct seed_opts *o)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q[NQ] = {0}, *s = NULL;
	int rc = -1, in_txn = 0;
	char text[4200], wa[8600], wamid[64], wa_id[32], name[64];
	double t0 = mono_s();

	if (sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "sync_load: %s: %s\n", o->db,
		        sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	long version = query_int(db, "PRAGMA user_version");
	if (version < SCHEMA_MIN || version > SCHEMA_VERSION) {
		fprintf(stderr,
		        "sync_load: %s: schema version is not %d to %d (start "
		        "the relay once on a fresh store first)\n",
		        o->db, SCHEMA_MIN, SCHEMA_VERSION);
		goto out;
	}
	/* The relay is stopped: a rollback journal and no syncs while
	 * filling, WAL again (the relay's mode) at the end. */
	if (exec_sql(db, "PRAGMA journal_mode = DELETE") != 0 ||
	    exec_sql(db, "PRAGMA synchronous = OFF") != 0 ||
	    exec_sql(db, "PRAGMA cache_size = -1048576") != 0 ||
	    exec_sql(db, "PRAGMA temp_store = MEMORY") != 0)
		goto out;
	if (prepare(db, "SELECT id FROM numbers WHERE phone_number_id = ?1",
	            &s) != 0)
		goto out;
	sqlite3_bind_text(s, 1, o->phone_number_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		fprintf(stderr,
		        "sync_load: no number %s in %s (start the relay once "
		        "so it adds its configured numbers)\n",
		        o->phone_number_id, o->db);
		goto out;
	}
	int64_t number = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	for (int i = 0; i < NQ; i++)
		if (prepare(db, seed_sql[i], &q[i]) != 0)
			goto out;
	if (exec_sql(db, "BEGIN IMMEDIATE") != 0)
		goto out;
	in_txn = 1;
	int64_t seq = query_int(
	    db, "SELECT max(coalesce((SELECT max(seq) FROM changes), 0),"
	        " coalesce((SELECT CAST(v AS INTEGER) FROM meta"
	        " WHERE k = 'seq'), 0))");
	int64_t contact0 =
	    query_int(db, "SELECT coalesce(max(id), 0) FROM contacts");
	int64_t conv0 =
	    query_int(db, "SELECT coalesce(max(id), 0) FROM conversations");
	int64_t msg0 = query_int(db, "SELECT coalesce(max(id), 0) FROM messages");
	if (seq < 0 || contact0 < 0 || conv0 < 0 || msg0 < 0)
		goto out;
	int64_t seq0 = seq;

	long m = o->messages, c = o->conversations;
	int64_t now = (int64_t)time(NULL);
	for (long i = 0; i < m; i++) {
		long k = i % c; /* messages interleave across conversations */
		int64_t conv = conv0 + 1 + k, contact = contact0 + 1 + k;
		int64_t msg = msg0 + 1 + i;
		int64_t ts = now - (int64_t)(m - i); /* one a second, to now */
		/* Numbered by id, so a second seed adds to the first. */
		snprintf(wa_id, sizeof wa_id, "1666%07" PRId64, contact - 1);
		if (i < c) {
			/* The customer's first message: a contact and a
			 * conversation, which ends at its last message. */
			long last = k + c * ((m - 1 - k) / c);
			snprintf(name, sizeof name, "Sync Customer %" PRId64,
			         contact - 1);
			sqlite3_bind_int64(q[Q_CONTACT], 1, contact);
			sqlite3_bind_int64(q[Q_CONTACT], 2, number);
			sqlite3_bind_text(q[Q_CONTACT], 3, wa_id, -1,
			                  SQLITE_STATIC);
			sqlite3_bind_text(q[Q_CONTACT], 4, name, -1,
			                  SQLITE_STATIC);
			sqlite3_bind_int64(q[Q_CONTACT], 5, ts);
			if (run_stmt(db, q[Q_CONTACT]) != 0 ||
			    stamp(db, q[Q_CHANGE], "contact", contact, &seq) !=
			        0)
				goto out;
			sqlite3_bind_int64(q[Q_CONV], 1, conv);
			sqlite3_bind_int64(q[Q_CONV], 2, number);
			sqlite3_bind_int64(q[Q_CONV], 3, contact);
			sqlite3_bind_int64(q[Q_CONV], 4,
			                   now - (int64_t)(m - last));
			sqlite3_bind_int64(q[Q_CONV], 5, msg0 + 1 + last);
			sqlite3_bind_int64(q[Q_CONV], 6, ts);
			if (run_stmt(db, q[Q_CONV]) != 0)
				goto out;
		}
		snprintf(wamid, sizeof wamid, "wamid.SYNC-%09" PRId64, msg - 1);
		int tl = snprintf(text, sizeof text,
		                  "sync bench message %" PRId64, msg - 1);
		if (tl < o->text_bytes) {
			bench_pad(text + tl, (size_t)(o->text_bytes - tl));
			tl = (int)o->text_bytes;
		}
		text[tl] = '\0';
		int wl = snprintf(wa, sizeof wa,
		                  "{\"from\":\"%s\",\"id\":\"%s\","
		                  "\"timestamp\":\"%" PRId64 "\","
		                  "\"type\":\"text\",\"text\":{\"body\":\"%s\"}}",
		                  wa_id, wamid, ts, text);
		sqlite3_bind_int64(q[Q_MSG], 1, msg);
		sqlite3_bind_int64(q[Q_MSG], 2, number);
		sqlite3_bind_int64(q[Q_MSG], 3, conv);
		sqlite3_bind_text(q[Q_MSG], 4, wamid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q[Q_MSG], 5, ts);
		sqlite3_bind_text(q[Q_MSG], 6, text, tl, SQLITE_STATIC);
		sqlite3_bind_text(q[Q_MSG], 7, wa, wl, SQLITE_STATIC);
		if (run_stmt(db, q[Q_MSG]) != 0 ||
		    stamp(db, q[Q_CHANGE], "message", msg, &seq) != 0)
			goto out;
		/* The conversation's last message re-stamps it: only its
		 * latest state travels, after its messages. */
		if (i >= m - c &&
		    stamp(db, q[Q_CHANGE], "conversation", conv, &seq) != 0)
			goto out;
	}
	if (prepare(db,
	            "INSERT INTO meta(k, v) VALUES('seq', ?1)"
	            " ON CONFLICT(k) DO UPDATE SET v = excluded.v",
	            &s) != 0)
		goto out;
	sqlite3_bind_int64(s, 1, seq);
	if (run_stmt(db, s) != 0 || exec_sql(db, "COMMIT") != 0)
		goto out;
	in_txn = 0;
	double t1 = mono_s();
	if (exec_sql(db, "PRAGMA journal_mode = WAL") != 0)
		goto out;
	struct stat st;
	printf("seeded contacts=%ld conversations=%ld messages=%ld "
	       "changes=%" PRId64 " (seq %" PRId64 "..%" PRId64
	       ") seconds=%.1f file_mb=%.0f\n",
	       c, c, m, seq - seq0, seq0 + 1, seq, t1 - t0,
	       stat(o->db, &st) == 0 ? (double)st.st_size / 1048576.0 : -1.0);
	rc = 0;
out:
	if (in_txn)
		exec_sql(db, "ROLLBACK");
	sqlite3_finalize(s);
	for (int i = 0; i < NQ; i++)
		sqlite3_finalize(q[i]);
	sqlite3_close(db);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The baseline: the same rows straight from the store                 */

/* Every change with its entity, in seq order; column numbers below. */
static const char join_sql[] =
    "SELECT c.kind, c.entity_id, c.seq, c.deleted, n.name,"
    " m.id, m.conversation_id, m.wamid, m.direction, m.type,"
    " m.unknown_type, m.ts, m.received_at, m.target_wamid, m.text,"
    " m.media, m.wa, m.status, m.status_at, m.failure, m.reaction,"
    " m.edited_text, m.revoked, m.order_id, m.agent_id, m.client_id,"
    " v.id, v.contact_id, v.status, v.snoozed_until, v.assignee_id,"
    " v.last_inbound_at, v.last_activity_at, v.last_message_id,"
    " v.created_at, v.labels, v.read_by,"
    " k.id, k.wa_id, k.user_id, k.parent_user_id, k.username,"
    " k.profile_name, k.previous_wa_ids, k.created_at, k.updated_at,"
    " k.display_name, k.attributes,"
    " a.id, a.name, a.role, a.created_at, a.revoked_at"
    " FROM changes c"
    " LEFT JOIN messages m ON c.kind = 'message' AND m.id = c.entity_id"
    " LEFT JOIN conversations v ON c.kind = 'conversation'"
    "  AND v.id = c.entity_id"
    " LEFT JOIN contacts k ON c.kind = 'contact' AND k.id = c.entity_id"
    " LEFT JOIN agents a ON c.kind = 'agent' AND a.id = c.entity_id"
    " LEFT JOIN numbers n ON n.id = coalesce(m.number_id, v.number_id,"
    "  k.number_id)"
    " ORDER BY c.seq";
enum { J_KIND, J_ID, J_SEQ, J_DELETED, J_NUMBER, J_MSG = 5, J_CONV = 26,
       J_CONTACT = 37, J_AGENT = 48, J_NCOLS = 53 };

/* The relay's entity builders (src/relay/store_sqlite.c), on join columns;
 * key order and null handling are the relay's, so the pages are the same
 * bytes. */
static void
add_str(cJSON *o, const char *key, sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	if (t)
		cJSON_AddStringToObject(o, key, t);
	else
		cJSON_AddNullToObject(o, key);
}

static void
add_int(cJSON *o, const char *key, sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key,
		                        (double)sqlite3_column_int64(s, i));
}

static void
add_json(cJSON *o, const char *key, sqlite3_stmt *s, int i, int empty)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	cJSON *v = t ? cJSON_Parse(t) : NULL;
	if (!v)
		v = empty == '[' ? cJSON_CreateArray()
		    : empty == '{' ? cJSON_CreateObject()
		                   : cJSON_CreateNull();
	cJSON_AddItemToObject(o, key, v);
}

/* The entity of the row, or NULL when the baseline does not know its
 * kind or the row is gone. *known tells which. */
static cJSON *
entity(sqlite3_stmt *s, const char *kind, int64_t id, int *known)
{
	cJSON *o;
	int b;

	*known = 1;
	if (strcmp(kind, "message") == 0) {
		if (sqlite3_column_type(s, J_MSG) == SQLITE_NULL)
			return NULL;
		b = J_MSG + 1;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", kind);
		cJSON_AddNumberToObject(o, "id", (double)id);
		add_int(o, "conversation_id", s, b);
		add_str(o, "number", s, J_NUMBER);
		add_str(o, "wamid", s, b + 1);
		add_str(o, "direction", s, b + 2);
		add_str(o, "type", s, b + 3);
		cJSON_AddBoolToObject(o, "unknown_type",
		                      sqlite3_column_int(s, b + 4));
		add_int(o, "timestamp", s, b + 5);
		add_int(o, "received_at", s, b + 6);
		add_str(o, "target_wamid", s, b + 7);
		add_str(o, "text", s, b + 8);
		add_json(o, "media", s, b + 9, 0);
		add_json(o, "wa", s, b + 10, 0);
		add_str(o, "status", s, b + 11);
		add_int(o, "status_at", s, b + 12);
		add_json(o, "failure", s, b + 13, 0);
		add_str(o, "reaction", s, b + 14);
		add_str(o, "edited_text", s, b + 15);
		cJSON_AddBoolToObject(o, "revoked",
		                      sqlite3_column_int(s, b + 16));
		add_int(o, "order_id", s, b + 17);
		add_int(o, "agent_id", s, b + 18);
		add_str(o, "client_id", s, b + 19);
		return o;
	}
	if (strcmp(kind, "conversation") == 0) {
		if (sqlite3_column_type(s, J_CONV) == SQLITE_NULL)
			return NULL;
		b = J_CONV + 1;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", kind);
		cJSON_AddNumberToObject(o, "id", (double)id);
		add_str(o, "number", s, J_NUMBER);
		add_int(o, "contact_id", s, b);
		add_str(o, "status", s, b + 1);
		add_int(o, "snoozed_until", s, b + 2);
		add_int(o, "assignee_id", s, b + 3);
		add_int(o, "last_inbound_at", s, b + 4);
		add_int(o, "last_activity_at", s, b + 5);
		add_int(o, "last_message_id", s, b + 6);
		add_int(o, "created_at", s, b + 7);
		add_json(o, "labels", s, b + 8, '[');
		add_json(o, "read_by", s, b + 9, '{');
		return o;
	}
	if (strcmp(kind, "contact") == 0) {
		if (sqlite3_column_type(s, J_CONTACT) == SQLITE_NULL)
			return NULL;
		b = J_CONTACT + 1;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", kind);
		cJSON_AddNumberToObject(o, "id", (double)id);
		add_str(o, "number", s, J_NUMBER);
		add_str(o, "wa_id", s, b);
		add_str(o, "user_id", s, b + 1);
		add_str(o, "parent_user_id", s, b + 2);
		add_str(o, "username", s, b + 3);
		add_str(o, "profile_name", s, b + 4);
		add_json(o, "previous_wa_ids", s, b + 5, 0);
		add_int(o, "created_at", s, b + 6);
		add_int(o, "updated_at", s, b + 7);
		add_str(o, "display_name", s, b + 8);
		add_json(o, "attributes", s, b + 9, '{');
		return o;
	}
	if (strcmp(kind, "agent") == 0) {
		if (sqlite3_column_type(s, J_AGENT) == SQLITE_NULL)
			return NULL;
		b = J_AGENT + 1;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", kind);
		cJSON_AddNumberToObject(o, "id", (double)id);
		add_str(o, "name", s, b);
		add_str(o, "role", s, b + 1);
		add_int(o, "created_at", s, b + 2);
		add_int(o, "revoked_at", s, b + 3);
		return o;
	}
	*known = 0; /* orders, notes, templates: not in a seeded store */
	return NULL;
}

struct baseline {
	double seconds;
	long rows;
	long pages;
	long unknown; /* rows of kinds the baseline does not rebuild */
	uint64_t bytes; /* column bytes read, or JSON bytes built */
};

/* Adds the cursor and "more" to a page, prints it as the relay does and
 * frees it. Returns 0 or -1. */
static int
emit_page(cJSON *page, const char *epoch, int64_t last, int more,
          struct baseline *out)
{
	char cursor[128];
	snprintf(cursor, sizeof cursor, "v1.%s.%" PRId64, epoch, last);
	cJSON_AddStringToObject(page, "cursor", cursor);
	cJSON_AddBoolToObject(page, "more", more);
	char *text = cJSON_PrintUnformatted(page);
	cJSON_Delete(page);
	if (!text) {
		fprintf(stderr, "sync_load: out of memory\n");
		return -1;
	}
	out->bytes += strlen(text);
	out->pages++;
	free(text);
	return 0;
}

/* Reads every change with its entity in seq order, in one read
 * transaction. With json, builds and prints the relay's pages of limit
 * events; without, touches every column. */
static int
store_read(const char *path, int json, long limit, struct baseline *out)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	cJSON *page = NULL, *events = NULL;
	char epoch[64] = "";
	int rc = -1, step;
	long n = 0;
	int64_t last = 0;
	double t0 = mono_s();

	memset(out, 0, sizeof *out);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	        SQLITE_OK ||
	    exec_sql(db, "BEGIN") != 0)
		goto out;
	if (prepare(db, "SELECT v FROM meta WHERE k = 'epoch'", &s) != 0)
		goto out;
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(epoch, sizeof epoch, "%s",
		         (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	s = NULL;
	if (prepare(db, join_sql, &s) != 0)
		goto out;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		out->rows++;
		if (!json) {
			for (int i = 0; i < J_NCOLS; i++) {
				if (sqlite3_column_type(s, i) == SQLITE_TEXT)
					out->bytes += (uint64_t)strlen(
					    (const char *)sqlite3_column_text(
					        s, i));
				else
					out->bytes += (uint64_t)
					    sqlite3_column_int64(s, i) & 1;
			}
			continue;
		}
		if (!page) {
			page = cJSON_CreateObject();
			events = cJSON_AddArrayToObject(page, "events");
			n = 0;
		}
		const char *k = (const char *)sqlite3_column_text(s, J_KIND);
		const char *kind = k ? k : "";
		int64_t id = sqlite3_column_int64(s, J_ID);
		int deleted = sqlite3_column_int(s, J_DELETED);
		int known = 1;
		cJSON *e = cJSON_CreateObject(), *data = NULL;
		last = sqlite3_column_int64(s, J_SEQ);
		cJSON_AddStringToObject(e, "kind", kind);
		cJSON_AddNumberToObject(e, "id", (double)id);
		cJSON_AddNumberToObject(e, "seq", (double)last);
		cJSON_AddBoolToObject(e, "deleted", deleted);
		if (!deleted)
			data = entity(s, kind, id, &known);
		out->unknown += !known;
		cJSON_AddItemToObject(e, "data",
		                      data ? data : cJSON_CreateNull());
		cJSON_AddItemToArray(events, e);
		if (++n == limit) {
			int r = emit_page(page, epoch, last, 1, out);
			page = NULL;
			if (r != 0)
				goto out;
		}
	}
	if (step != SQLITE_DONE) {
		fprintf(stderr, "sync_load: reading %s: %s\n", path,
		        sqlite3_errmsg(db));
		goto out;
	}
	/* The last page is the partial one, or an empty one after a full
	 * page: the relay says "more" when a page is full. */
	if (json) {
		if (!page) {
			page = cJSON_CreateObject();
			cJSON_AddArrayToObject(page, "events");
		}
		int r = emit_page(page, epoch, last, 0, out);
		page = NULL;
		if (r != 0)
			goto out;
	}
	out->seconds = mono_s() - t0;
	rc = 0;
out:
	cJSON_Delete(page);
	sqlite3_finalize(s);
	if (db)
		exec_sql(db, "COMMIT");
	sqlite3_close(db);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The client                                                          */

struct sync_opts {
	const char *url;
	const char *token_file;
	const char *cacert;
	const char *db;
	long limit;
};

struct client {
	double seconds;
	double parse_seconds;
	long pages;
	long entities;
	long messages, conversations, contacts, agents, other;
	long no_data; /* not deleted, yet data is null */
	long disorder; /* seq not above the one before */
	int64_t last_seq;
	uint64_t bytes;
	double *page_ms;
};

static int
read_token(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "sync_load: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t n = fread(out, 1, size - 1, f);
	fclose(f);
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] <= 0x20 || out[i] == 0x7f) {
			fprintf(stderr, "sync_load: %s: not one token\n", path);
			return -1;
		}
	if (n == 0 || n >= size - 1) {
		fprintf(stderr, "sync_load: %s: empty or too long\n", path);
		return -1;
	}
	return 0;
}

static int
client_sync(const struct sync_opts *o, long max_pages, struct client *c)
{
	char token[MAX_TOKEN_BYTES + 2], auth[MAX_TOKEN_BYTES + 32];
	char url[2048], cursor[256] = "";
	struct bench_api a = {0};
	int rc = -1, more = 1;

	memset(c, 0, sizeof *c);
	c->page_ms = malloc((size_t)max_pages * sizeof *c->page_ms);
	if (!c->page_ms || read_token(o->token_file, token, sizeof token) != 0)
		goto out;
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	OPENSSL_cleanse(token, sizeof token);
	int opened =
	    bench_api_open(&a, auth, o->cacert, "glivi-sync-load/1") == 0;
	OPENSSL_cleanse(auth, sizeof auth);
	if (!opened)
		goto out;
	if (bench_setopt_result(
	        curl_easy_setopt(a.e, CURLOPT_TIMEOUT_MS, 60000L)) != 0)
		goto out;
	c->last_seq = -1;
	double t0 = mono_s();
	while (more) {
		if (c->pages >= max_pages) {
			fprintf(stderr, "sync_load: more than %ld pages\n",
			        max_pages);
			goto out;
		}
		snprintf(url, sizeof url, "%s/api/v1/sync?limit=%ld%s%s",
		         o->url, o->limit, cursor[0] ? "&since=" : "", cursor);
		double p0 = mono_s();
		long status = bench_api_get(&a, url);
		if (status < 0)
			goto out;
		double p1 = mono_s();
		c->bytes += a.body.len;
		cJSON *page = a.body.p ? cJSON_Parse(a.body.p) : NULL;
		const cJSON *ev =
		    cJSON_GetObjectItemCaseSensitive(page, "events");
		const cJSON *cur =
		    cJSON_GetObjectItemCaseSensitive(page, "cursor");
		const cJSON *mo = cJSON_GetObjectItemCaseSensitive(page, "more");
		if (status != 200 || !cJSON_IsArray(ev) ||
		    !cJSON_IsString(cur) || !cJSON_IsBool(mo) ||
		    strlen(cur->valuestring) >= sizeof cursor) {
			fprintf(stderr,
			        "sync_load: GET %s: HTTP %ld, not a sync page: "
			        "%.200s\n",
			        url, status, a.body.p ? a.body.p : "");
			cJSON_Delete(page);
			goto out;
		}
		const cJSON *x;
		cJSON_ArrayForEach(x, ev)
		{
			const cJSON *kind =
			    cJSON_GetObjectItemCaseSensitive(x, "kind");
			const cJSON *seq =
			    cJSON_GetObjectItemCaseSensitive(x, "seq");
			const cJSON *del =
			    cJSON_GetObjectItemCaseSensitive(x, "deleted");
			const cJSON *data =
			    cJSON_GetObjectItemCaseSensitive(x, "data");
			const char *k =
			    cJSON_IsString(kind) ? kind->valuestring : "";
			int64_t sq = cJSON_IsNumber(seq)
			                 ? (int64_t)seq->valuedouble
			                 : -1;
			c->entities++;
			if (sq <= c->last_seq)
				c->disorder++;
			c->last_seq = sq;
			if (!cJSON_IsTrue(del) && !cJSON_IsObject(data))
				c->no_data++;
			if (strcmp(k, "message") == 0)
				c->messages++;
			else if (strcmp(k, "conversation") == 0)
				c->conversations++;
			else if (strcmp(k, "contact") == 0)
				c->contacts++;
			else if (strcmp(k, "agent") == 0)
				c->agents++;
			else
				c->other++;
		}
		snprintf(cursor, sizeof cursor, "%s", cur->valuestring);
		more = cJSON_IsTrue(mo);
		cJSON_Delete(page);
		c->parse_seconds += mono_s() - p1;
		c->page_ms[c->pages++] = (p1 - p0) * 1000.0;
	}
	c->seconds = mono_s() - t0;
	rc = 0;
out:
	bench_api_close(&a);
	return rc;
}

static int
sync_bench(const struct sync_opts *o)
{
	sqlite3 *db = NULL;
	struct baseline raw, js;
	struct client c = {0};
	int rc = 1;

	/* What the store holds, before anything reads it. */
	if (sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "sync_load: %s: %s\n", o->db,
		        sqlite3_errmsg(db));
		sqlite3_close(db);
		return 1;
	}
	int64_t changes = query_int(db, "SELECT count(*) FROM changes");
	int64_t head = query_int(db, "SELECT max(seq) FROM changes");
	int64_t nmsg = query_int(
	    db, "SELECT count(*) FROM changes WHERE kind = 'message'");
	sqlite3_close(db);
	if (changes < 0 || head < 0 || nmsg < 0)
		return 1;
	struct stat st;
	printf("store: changes=%" PRId64 " (messages %" PRId64
	       ") head seq=%" PRId64 " file_mb=%.0f\n",
	       changes, nmsg, head,
	       stat(o->db, &st) == 0 ? (double)st.st_size / 1048576.0 : -1.0);

	if (store_read(o->db, 0, o->limit, &raw) != 0 ||
	    store_read(o->db, 1, o->limit, &js) != 0)
		return 1;
	printf("baseline, store read (changes joined to entities, every "
	       "column): rows=%ld seconds=%.2f entities_per_s=%.0f\n",
	       raw.rows, raw.seconds, (double)raw.rows / raw.seconds);
	printf("baseline, store read + the same JSON pages built in-process: "
	       "rows=%ld pages=%ld seconds=%.2f entities_per_s=%.0f "
	       "json_mb=%.1f\n",
	       js.rows, js.pages, js.seconds, (double)js.rows / js.seconds,
	       (double)js.bytes / 1048576.0);
	if (js.unknown > 0)
		printf("  (%ld rows of kinds the baseline does not rebuild)\n",
		       js.unknown);

	long max_pages = changes / o->limit + 16;
	if (max_pages > MAX_PAGES)
		max_pages = MAX_PAGES;
	if (client_sync(o, max_pages, &c) != 0)
		goto out;
	bench_sort(c.page_ms, c.pages);
	printf("client, GET /api/v1/sync limit=%ld over one keep-alive HTTPS "
	       "connection: entities=%ld pages=%ld seconds=%.2f "
	       "entities_per_s=%.0f mb=%.1f\n",
	       o->limit, c.entities, c.pages, c.seconds,
	       (double)c.entities / c.seconds, (double)c.bytes / 1048576.0);
	printf("  page request p50_ms=%.1f p99_ms=%.1f max_ms=%.1f; client "
	       "JSON parse+count seconds=%.2f (%.0f%% of the client's time)\n",
	       bench_percentile(c.page_ms, c.pages, 0.50),
	       bench_percentile(c.page_ms, c.pages, 0.99),
	       bench_percentile(c.page_ms, c.pages, 1.0), c.parse_seconds,
	       100.0 * c.parse_seconds / c.seconds);
	printf("ratio: client sync time / baseline with JSON = %.2f; / "
	       "plain store read = %.2f\n",
	       c.seconds / js.seconds, c.seconds / raw.seconds);
	printf("  client entities: message=%ld conversation=%ld contact=%ld "
	       "agent=%ld other=%ld\n",
	       c.messages, c.conversations, c.contacts, c.agents, c.other);
	int same_bytes = js.unknown == 0 && js.bytes == c.bytes;
	printf("verify: client counted %ld of %" PRId64
	       " changes, last seq %" PRId64 " of %" PRId64
	       ", %ld out of order, %ld without data; pages %s the "
	       "baseline's byte for byte in total (%" PRIu64 " vs %" PRIu64
	       ")\n",
	       c.entities, changes, c.last_seq, head, c.disorder, c.no_data,
	       same_bytes ? "match" : "DO NOT match", c.bytes, js.bytes);
	if (c.entities == changes && c.last_seq == head && c.disorder == 0 &&
	    c.no_data == 0 && raw.rows == changes && js.rows == changes)
		rc = 0;
	else
		fprintf(stderr, "sync_load: FAILED: the client did not count "
		                "exactly the store's changes in seq order\n");
	if (!same_bytes && js.unknown == 0)
		fprintf(stderr, "sync_load: note: the pages differ in size "
		                "from the baseline's JSON\n");
out:
	free(c.page_ms);
	return rc;
}

/* ------------------------------------------------------------------ */

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: sync_load seed --db PATH [--messages M] "
	        "[--conversations C]\n"
	        "                      [--phone-number-id ID] [--text-bytes "
	        "B]\n"
	        "       sync_load sync --url https://HOST:PORT --token-file "
	        "PATH --db PATH\n"
	        "                      [--cacert PATH] [--limit N]\n"
	        "  seed: M messages (default 1000000) in C conversations "
	        "(default 20000),\n"
	        "        text of about B bytes (default 100), for the number "
	        "of\n"
	        "        phone_number_id ID (default 106540352242922)\n"
	        "  sync: pages of N (default 1000); TLS is always verified\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'D'},
	    {"messages", required_argument, NULL, 'm'},
	    {"conversations", required_argument, NULL, 'c'},
	    {"phone-number-id", required_argument, NULL, 'i'},
	    {"text-bytes", required_argument, NULL, 'b'},
	    {"url", required_argument, NULL, 'u'},
	    {"token-file", required_argument, NULL, 'T'},
	    {"cacert", required_argument, NULL, 'a'},
	    {"limit", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct seed_opts so = {
	    .phone_number_id = "106540352242922",
	    .messages = 1000000,
	    .conversations = 20000,
	    .text_bytes = 100,
	};
	struct sync_opts yo = {.limit = 1000};
	int ch;

	if (argc < 2 || (strcmp(argv[1], "seed") != 0 &&
	                 strcmp(argv[1], "sync") != 0)) {
		usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout
		                                                   : stderr);
		return 2;
	}
	int seeding = strcmp(argv[1], "seed") == 0;
	while ((ch = getopt_long(argc - 1, argv + 1, "", longopts, NULL)) !=
	       -1) {
		int rc = 0;
		switch (ch) {
		case 'D':
			so.db = yo.db = optarg;
			break;
		case 'm':
			rc = bench_parse_long("messages", optarg, 1,
			                      MAX_MESSAGES, &so.messages);
			break;
		case 'c':
			rc = bench_parse_long("conversations", optarg, 1,
			                      MAX_MESSAGES, &so.conversations);
			break;
		case 'i':
			so.phone_number_id = optarg;
			break;
		case 'b':
			rc = bench_parse_long("text-bytes", optarg, 1, 4000,
			                      &so.text_bytes);
			break;
		case 'u':
			yo.url = optarg;
			break;
		case 'T':
			yo.token_file = optarg;
			break;
		case 'a':
			yo.cacert = optarg;
			break;
		case 'l':
			rc = bench_parse_long("limit", optarg, 1, 100000,
			                      &yo.limit);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (rc != 0)
			return 2;
	}
	if (bench_no_more_args(argc - 1, argv + 1) != 0)
		return 2;
	if (!so.db) {
		fprintf(stderr, "sync_load: --db is required\n");
		return 2;
	}
	if (seeding) {
		if (so.conversations > so.messages) {
			fprintf(stderr, "sync_load: every conversation needs a "
			                "message: --conversations must not "
			                "exceed --messages\n");
			return 2;
		}
		return seed(&so) == 0 ? 0 : 1;
	}
	if (!yo.url || !yo.token_file) {
		fprintf(stderr, "sync_load: sync needs --url and --token-file\n");
		return 2;
	}
	if (strlen(yo.url) > 1500 || !bench_http_url(yo.url)) {
		fprintf(stderr, "sync_load: --url must be http(s)://HOST:PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "sync_load: curl_global_init failed\n");
		return 1;
	}
	int rc = sync_bench(&yo);
	curl_global_cleanup();
	return rc;
}
