/*
 * The SQLite store: WAL, numbered migrations, prepared statements cached per
 * connection. It owns every SQL string of the relay and nothing else: the
 * rules of what to store when live in ingest.c.
 */
#include "relay/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>

#include "core/hmac.h"
#include "core/wa.h"
#include "core/jsonw.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "relay/db.h"

/*
 * Schema migrations, applied in order inside one transaction each; the
 * database's user_version is the number applied. Never edit a migration that
 * has shipped: add another.
 */
static const char *migrations[] = {
	/* 1: the first schema. */
	"CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE changes(kind TEXT NOT NULL, entity_id INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL UNIQUE, deleted INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY(kind, entity_id)) WITHOUT ROWID;"
	"CREATE TABLE numbers(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  phone_number_id TEXT NOT NULL UNIQUE, waba_id TEXT);"
	"CREATE TABLE webhooks(id INTEGER PRIMARY KEY,"
	"  received_at INTEGER NOT NULL, sha256 BLOB NOT NULL UNIQUE,"
	"  body BLOB NOT NULL);"
	"CREATE INDEX webhooks_received ON webhooks(received_at);"
	"CREATE TABLE events(id INTEGER PRIMARY KEY, webhook_id INTEGER,"
	"  received_at INTEGER NOT NULL, waba_id TEXT, number_id INTEGER,"
	"  field TEXT, what TEXT NOT NULL, value TEXT);"
	"CREATE TABLE quarantine(id INTEGER PRIMARY KEY, webhook_id INTEGER,"
	"  received_at INTEGER NOT NULL, phone_number_id TEXT, field TEXT,"
	"  value TEXT);"
	"CREATE TABLE contacts(id INTEGER PRIMARY KEY,"
	"  number_id INTEGER NOT NULL, wa_id TEXT, user_id TEXT,"
	"  parent_user_id TEXT, username TEXT, profile_name TEXT,"
	"  previous_wa_ids TEXT, display_name TEXT, attributes TEXT,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX contacts_wa ON contacts(number_id, wa_id)"
	"  WHERE wa_id IS NOT NULL;"
	"CREATE UNIQUE INDEX contacts_user ON contacts(number_id, user_id)"
	"  WHERE user_id IS NOT NULL;"
	"CREATE TABLE conversations(id INTEGER PRIMARY KEY,"
	"  number_id INTEGER NOT NULL, contact_id INTEGER NOT NULL UNIQUE,"
	"  status TEXT NOT NULL DEFAULT 'open', snoozed_until INTEGER,"
	"  assignee_id INTEGER, last_inbound_at INTEGER,"
	"  last_activity_at INTEGER NOT NULL, last_message_id INTEGER,"
	"  labels TEXT, read_by TEXT, created_at INTEGER NOT NULL);"
	"CREATE TABLE messages(id INTEGER PRIMARY KEY,"
	"  number_id INTEGER NOT NULL, conversation_id INTEGER, wamid TEXT,"
	"  direction TEXT NOT NULL, type TEXT NOT NULL,"
	"  unknown_type INTEGER NOT NULL DEFAULT 0, ts INTEGER NOT NULL,"
	"  received_at INTEGER NOT NULL, target_wamid TEXT, text TEXT,"
	"  media TEXT, wa TEXT, status TEXT, status_at INTEGER, failure TEXT,"
	"  reaction TEXT, edited_text TEXT, revoked INTEGER NOT NULL DEFAULT 0,"
	"  order_id INTEGER, agent_id INTEGER, client_id TEXT,"
	"  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER,"
	"  sending_since INTEGER);"
	"CREATE UNIQUE INDEX messages_wamid ON messages(number_id, wamid)"
	"  WHERE wamid IS NOT NULL;"
	"CREATE INDEX messages_conversation ON messages(conversation_id, ts);"
	"CREATE INDEX messages_target ON messages(number_id, target_wamid)"
	"  WHERE target_wamid IS NOT NULL;"
	"CREATE TABLE statuses(number_id INTEGER NOT NULL, wamid TEXT NOT NULL,"
	"  status TEXT NOT NULL, ts INTEGER NOT NULL,"
	"  PRIMARY KEY(number_id, wamid, status)) WITHOUT ROWID;"
	"CREATE TABLE orders(id INTEGER PRIMARY KEY, number_id INTEGER NOT NULL,"
	"  contact_id INTEGER, conversation_id INTEGER, message_id INTEGER,"
	"  catalog_id TEXT, text TEXT, items TEXT NOT NULL, currency TEXT,"
	"  total TEXT, status TEXT NOT NULL DEFAULT 'received',"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE TABLE notes(id INTEGER PRIMARY KEY,"
	"  conversation_id INTEGER NOT NULL, agent_id INTEGER,"
	"  body TEXT NOT NULL, created_at INTEGER NOT NULL);"
	"CREATE TABLE agents(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  role TEXT NOT NULL CHECK(role IN ('agent','admin')),"
	"  token_hash BLOB NOT NULL UNIQUE, created_at INTEGER NOT NULL,"
	"  revoked_at INTEGER);"
	"CREATE TABLE templates(id INTEGER PRIMARY KEY, waba_id TEXT,"
	"  template_id TEXT NOT NULL, name TEXT, language TEXT, status TEXT,"
	"  reason TEXT, category TEXT, updated_at INTEGER NOT NULL,"
	"  UNIQUE(waba_id, template_id));"
	"CREATE TABLE idempotency(agent_id INTEGER NOT NULL, key TEXT NOT NULL,"
	"  request_hash BLOB NOT NULL, status INTEGER NOT NULL,"
	"  response TEXT NOT NULL, created_at INTEGER NOT NULL,"
	"  PRIMARY KEY(agent_id, key)) WITHOUT ROWID;"
	"CREATE INDEX idempotency_created ON idempotency(created_at);"
	"CREATE INDEX messages_outbox ON messages(status)"
	"  WHERE status IN ('queued', 'sending');"
	"INSERT INTO meta(k, v) VALUES('horizon', '0');",
	/* 2: media files the relay holds (fetched from Meta, uploaded by
	 * agents), and the index that finds the messages naming one. */
	"CREATE TABLE media(id TEXT PRIMARY KEY,"
	"  direction TEXT NOT NULL CHECK(direction IN ('in', 'out')),"
	"  mime_type TEXT NOT NULL, sha256 TEXT NOT NULL,"
	"  size INTEGER NOT NULL, agent_id INTEGER, meta_id TEXT,"
	"  meta_number_id INTEGER, meta_uploaded_at INTEGER,"
	"  created_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX messages_media_id ON messages("
	"  json_extract(media, '$.id'));",
	/*
	 * 3: read receipts owed to WhatsApp (one row per conversation: the
	 * newest message to mark read, and once sent, the watermark below
	 * which nothing is marked again); templates keep their components;
	 * an index that finds a conversation's queued messages without
	 * walking its history.
	 */
	"CREATE TABLE read_receipts(conversation_id INTEGER PRIMARY KEY,"
	"  number_id INTEGER NOT NULL, message_id INTEGER NOT NULL,"
	"  wamid TEXT NOT NULL, ts INTEGER NOT NULL,"
	"  state TEXT NOT NULL CHECK(state IN ('queued','sent','failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX read_receipts_queued ON read_receipts(conversation_id)"
	"  WHERE state = 'queued';"
	"ALTER TABLE templates ADD COLUMN components TEXT;"
	"ALTER TABLE templates ADD COLUMN parameter_format TEXT;"
	"CREATE INDEX messages_queued ON messages(conversation_id, id)"
	"  WHERE status = 'queued';",
	/*
	 * 4: the shared inbox. A conversation's history (who changed its
	 * status, assignee or labels, and when); the shared set of labels
	 * (names unique whatever their case); canned replies; the agents a
	 * note mentions; an index that finds the next snooze to end.
	 */
	"CREATE TABLE history(id INTEGER PRIMARY KEY,"
	"  conversation_id INTEGER NOT NULL, agent_id INTEGER,"
	"  action TEXT NOT NULL, reason TEXT, details TEXT, text TEXT,"
	"  created_at INTEGER NOT NULL);"
	"CREATE INDEX history_conversation ON history(conversation_id, id);"
	"CREATE TABLE labels(id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE, color TEXT,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE TABLE canned_replies(id INTEGER PRIMARY KEY,"
	"  shortcut TEXT NOT NULL UNIQUE, text TEXT NOT NULL, agent_id INTEGER,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"ALTER TABLE notes ADD COLUMN mentions TEXT;"
	"CREATE INDEX conversations_snoozed ON conversations(snoozed_until)"
	"  WHERE status = 'snoozed';"
	/* Labels conversations carry already join the set (the first
	 * spelling of a name wins), stamped after every earlier change, so
	 * agents can go on applying them and clients learn of them. */
	"INSERT OR IGNORE INTO labels(name, created_at, updated_at)"
	"  SELECT l.value, unixepoch(), unixepoch()"
	"  FROM conversations c, json_each(CASE WHEN json_valid(c.labels)"
	"  THEN c.labels ELSE '[]' END) l"
	"  WHERE l.type = 'text' ORDER BY c.id, l.key;"
	"CREATE TEMP TABLE label_seq AS SELECT max("
	"  coalesce((SELECT max(seq) FROM changes), 0),"
	"  coalesce((SELECT CAST(v AS INTEGER) FROM meta WHERE k = 'seq'), 0))"
	"  AS base;"
	"INSERT INTO changes(kind, entity_id, seq)"
	"  SELECT 'label', id, (SELECT base FROM label_seq) + id FROM labels;"
	"UPDATE meta SET v = CAST((SELECT base FROM label_seq) + coalesce("
	"  (SELECT max(id) FROM labels), 0) AS TEXT) WHERE k = 'seq';"
	"DROP TABLE label_seq;",
	/*
	 * 5: the audit trail of admin actions on personal data (erase,
	 * export, disconnect, retention sweeps): who, when, what, how many
	 * rows. It names ids and counts only, never what was erased. And
	 * numbers that were disconnected.
	 */
	"CREATE TABLE audit(id INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT,"
	"  rows INTEGER NOT NULL DEFAULT 0, detail TEXT);"
	/* A disconnected number's webhooks are answered, never stored. */
	"ALTER TABLE numbers ADD COLUMN disconnected_at INTEGER;",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/*
 * PostgreSQL stores start at schema 5: migration 1 creates all of it, and
 * teaches PostgreSQL the few SQLite functions the store's statements use;
 * 2 to 5 have nothing left to do. Later migrations are written for both.
 */
#define PG_ID "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
#define PG_PARTS 4
static const char *const pg_migrations[][PG_PARTS] = {
	{
	"CREATE FUNCTION unixepoch() RETURNS bigint LANGUAGE sql STABLE"
	"  AS $$ SELECT extract(epoch FROM clock_timestamp())::bigint $$;"
	"CREATE FUNCTION json_extract(text, text) RETURNS text LANGUAGE sql"
	"  IMMUTABLE AS $$ SELECT ($1::jsonb) #>> string_to_array("
	"  substr($2, 3), '.') $$;"
	"CREATE FUNCTION json_valid(text) RETURNS boolean LANGUAGE plpgsql"
	"  IMMUTABLE AS $$ BEGIN PERFORM $1::jsonb; RETURN $1 IS NOT NULL;"
	"  EXCEPTION WHEN others THEN RETURN false; END $$;"
	"CREATE FUNCTION instr(text, text) RETURNS integer LANGUAGE sql"
	"  IMMUTABLE AS $$ SELECT strpos($1, $2) $$;"
	"CREATE FUNCTION instr(bytea, text) RETURNS integer LANGUAGE sql"
	"  IMMUTABLE AS $$ SELECT position(convert_to($2, 'UTF8') IN $1) $$;"
	"CREATE FUNCTION max(bigint, bigint) RETURNS bigint LANGUAGE sql"
	"  IMMUTABLE AS $$ SELECT greatest($1, $2) $$;",
	"CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
	"CREATE TABLE changes(kind TEXT NOT NULL, entity_id BIGINT NOT NULL,"
	"  seq BIGINT NOT NULL UNIQUE, deleted BIGINT NOT NULL DEFAULT 0,"
	"  PRIMARY KEY(kind, entity_id));"
	"CREATE TABLE numbers(id " PG_ID ", name TEXT NOT NULL UNIQUE,"
	"  phone_number_id TEXT NOT NULL UNIQUE, waba_id TEXT,"
	"  disconnected_at BIGINT);"
	"CREATE TABLE webhooks(id " PG_ID ", received_at BIGINT NOT NULL,"
	"  sha256 BYTEA NOT NULL UNIQUE, body BYTEA NOT NULL);"
	"CREATE INDEX webhooks_received ON webhooks(received_at);"
	"CREATE TABLE events(id " PG_ID ", webhook_id BIGINT,"
	"  received_at BIGINT NOT NULL, waba_id TEXT, number_id BIGINT,"
	"  field TEXT, what TEXT NOT NULL, value TEXT);"
	"CREATE TABLE quarantine(id " PG_ID ", webhook_id BIGINT,"
	"  received_at BIGINT NOT NULL, phone_number_id TEXT, field TEXT,"
	"  value TEXT);"
	"CREATE TABLE contacts(id " PG_ID ", number_id BIGINT NOT NULL,"
	"  wa_id TEXT, user_id TEXT, parent_user_id TEXT, username TEXT,"
	"  profile_name TEXT, previous_wa_ids TEXT, display_name TEXT,"
	"  attributes TEXT, created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL);"
	"CREATE UNIQUE INDEX contacts_wa ON contacts(number_id, wa_id)"
	"  WHERE wa_id IS NOT NULL;"
	"CREATE UNIQUE INDEX contacts_user ON contacts(number_id, user_id)"
	"  WHERE user_id IS NOT NULL;"
	"CREATE TABLE conversations(id " PG_ID ", number_id BIGINT NOT NULL,"
	"  contact_id BIGINT NOT NULL UNIQUE,"
	"  status TEXT NOT NULL DEFAULT 'open', snoozed_until BIGINT,"
	"  assignee_id BIGINT, last_inbound_at BIGINT,"
	"  last_activity_at BIGINT NOT NULL, last_message_id BIGINT,"
	"  labels TEXT, read_by TEXT, created_at BIGINT NOT NULL);"
	"CREATE INDEX conversations_snoozed ON conversations(snoozed_until)"
	"  WHERE status = 'snoozed';"
	"CREATE TABLE messages(id " PG_ID ", number_id BIGINT NOT NULL,"
	"  conversation_id BIGINT, wamid TEXT, direction TEXT NOT NULL,"
	"  type TEXT NOT NULL, unknown_type BIGINT NOT NULL DEFAULT 0,"
	"  ts BIGINT NOT NULL, received_at BIGINT NOT NULL, target_wamid TEXT,"
	"  text TEXT, media TEXT, wa TEXT, status TEXT, status_at BIGINT,"
	"  failure TEXT, reaction TEXT, edited_text TEXT,"
	"  revoked BIGINT NOT NULL DEFAULT 0, order_id BIGINT, agent_id BIGINT,"
	"  client_id TEXT, attempts BIGINT NOT NULL DEFAULT 0,"
	"  next_attempt_at BIGINT, sending_since BIGINT);"
	"CREATE UNIQUE INDEX messages_wamid ON messages(number_id, wamid)"
	"  WHERE wamid IS NOT NULL;"
	"CREATE INDEX messages_conversation ON messages(conversation_id, ts);"
	"CREATE INDEX messages_target ON messages(number_id, target_wamid)"
	"  WHERE target_wamid IS NOT NULL;"
	"CREATE INDEX messages_outbox ON messages(status)"
	"  WHERE status IN ('queued', 'sending');"
	"CREATE INDEX messages_queued ON messages(conversation_id, id)"
	"  WHERE status = 'queued';"
	"CREATE INDEX messages_media_id ON messages("
	"  json_extract(media, '$.id'));"
	"",
	"CREATE TABLE statuses(number_id BIGINT NOT NULL, wamid TEXT NOT NULL,"
	"  status TEXT NOT NULL, ts BIGINT NOT NULL,"
	"  PRIMARY KEY(number_id, wamid, status));"
	"CREATE TABLE orders(id " PG_ID ", number_id BIGINT NOT NULL,"
	"  contact_id BIGINT, conversation_id BIGINT, message_id BIGINT,"
	"  catalog_id TEXT, text TEXT, items TEXT NOT NULL, currency TEXT,"
	"  total TEXT, status TEXT NOT NULL DEFAULT 'received',"
	"  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
	"CREATE TABLE notes(id " PG_ID ", conversation_id BIGINT NOT NULL,"
	"  agent_id BIGINT, body TEXT NOT NULL, created_at BIGINT NOT NULL,"
	"  mentions TEXT);"
	"CREATE TABLE agents(id " PG_ID ", name TEXT NOT NULL UNIQUE,"
	"  role TEXT NOT NULL CHECK(role IN ('agent','admin')),"
	"  token_hash BYTEA NOT NULL UNIQUE, created_at BIGINT NOT NULL,"
	"  revoked_at BIGINT);"
	"CREATE TABLE templates(id " PG_ID ", waba_id TEXT,"
	"  template_id TEXT NOT NULL, name TEXT, language TEXT, status TEXT,"
	"  reason TEXT, category TEXT, updated_at BIGINT NOT NULL,"
	"  components TEXT, parameter_format TEXT,"
	"  UNIQUE(waba_id, template_id));"
	"CREATE TABLE idempotency(agent_id BIGINT NOT NULL, key TEXT NOT NULL,"
	"  request_hash BYTEA NOT NULL, status BIGINT NOT NULL,"
	"  response TEXT NOT NULL, created_at BIGINT NOT NULL,"
	"  PRIMARY KEY(agent_id, key));"
	"CREATE INDEX idempotency_created ON idempotency(created_at);"
	"CREATE TABLE media(id TEXT PRIMARY KEY,"
	"  direction TEXT NOT NULL CHECK(direction IN ('in', 'out')),"
	"  mime_type TEXT NOT NULL, sha256 TEXT NOT NULL,"
	"  size BIGINT NOT NULL, agent_id BIGINT, meta_id TEXT,"
	"  meta_number_id BIGINT, meta_uploaded_at BIGINT,"
	"  created_at BIGINT NOT NULL);"
	"CREATE TABLE read_receipts(conversation_id BIGINT PRIMARY KEY,"
	"  number_id BIGINT NOT NULL, message_id BIGINT NOT NULL,"
	"  wamid TEXT NOT NULL, ts BIGINT NOT NULL,"
	"  state TEXT NOT NULL CHECK(state IN ('queued','sent','failed')),"
	"  attempts BIGINT NOT NULL DEFAULT 0, next_attempt_at BIGINT,"
	"  updated_at BIGINT NOT NULL);"
	"CREATE INDEX read_receipts_queued ON read_receipts(conversation_id)"
	"  WHERE state = 'queued';"
	"CREATE TABLE history(id " PG_ID ", conversation_id BIGINT NOT NULL,"
	"  agent_id BIGINT, action TEXT NOT NULL, reason TEXT, details TEXT,"
	"  text TEXT, created_at BIGINT NOT NULL);"
	"CREATE INDEX history_conversation ON history(conversation_id, id);"
	"CREATE TABLE labels(id " PG_ID ", name TEXT NOT NULL, color TEXT,"
	"  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
	"CREATE UNIQUE INDEX labels_name ON labels(lower(name));"
	"CREATE TABLE canned_replies(id " PG_ID ","
	"  shortcut TEXT NOT NULL UNIQUE, text TEXT NOT NULL, agent_id BIGINT,"
	"  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
	"CREATE TABLE audit(id " PG_ID ", at BIGINT NOT NULL,"
	"  actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT,"
	"  rows BIGINT NOT NULL DEFAULT 0, detail TEXT);"
	"INSERT INTO meta(k, v) VALUES('horizon', '0');",
	},
	{ "SELECT 2" }, { "SELECT 3" }, { "SELECT 4" }, { "SELECT 5" },
};
_Static_assert(sizeof pg_migrations / sizeof pg_migrations[0] ==
    sizeof migrations / sizeof migrations[0],
    "every migration has its PostgreSQL form");

/* Every statement the store runs often, prepared once. */
enum stmt {
	S_SEQ_MAX,
	S_SEQ_SAVE,
	S_STAMP,
	S_NUMBER_GET,
	S_NUMBER_ADD,
	S_NUMBER_BY_NAME,
	S_NUMBER_UPDATE,
	S_WEBHOOK_ADD,
	S_WEBHOOK_EXPIRE,
	S_EVENT_ADD,
	S_QUARANTINE_ADD,
	S_CONTACT_BY_USER,
	S_CONTACT_BY_WA,
	S_CONTACT_GET,
	S_CONTACT_ADD,
	S_CONTACT_UPDATE,
	S_CONV_BY_CONTACT,
	S_CONV_ADD,
	S_CONV_ACTIVITY,
	S_MSG_ADD,
	S_MSG_FIND,
	S_MSG_STATUS_GET,
	S_MSG_STATUS_SET,
	S_MSG_FAILURE_SET,
	S_STATUS_ADD,
	S_MSG_REACTION,
	S_MSG_EDIT,
	S_MSG_REVOKE,
	S_MSG_HAS_ACTIONS,
	S_MSG_ACTIONS_SET,
	S_MSG_ORDER_SET,
	S_ORDER_ADD,
	S_TEMPLATE_UPSERT,
	S_AGENT_ADD,
	S_AGENT_REVOKE,
	S_AGENT_LIST,
	S_CHANGES,
	S_ENTITY_CONVERSATION,
	S_ENTITY_MESSAGE,
	S_ENTITY_CONTACT,
	S_ENTITY_ORDER,
	S_ENTITY_NOTE,
	S_ENTITY_AGENT,
	S_ENTITY_TEMPLATE,
	S_MSG_BY_WAMID,
	S_SAVEPOINT,
	S_RELEASE,
	S_READ_BEGIN,
	S_READ_END,
	S_ROLLBACK_TO,
	S_OUTBOUND_DUE,
	S_RECEIPTS_DUE,
	S_RECEIPT_MARK,
	S_OUTBOUND_MARK,
	S_MSG_CLAIM,
	S_MSG_DELETE_STANDIN,
	S_OUTBOUND_ACCEPTED,
	S_ENTITY_HISTORY,
	S_ENTITY_LABEL,
	S_ENTITY_CANNED,
	NSTMT
};

static const char *stmt_sql[NSTMT] = {
	[S_SEQ_MAX] = "SELECT max(coalesce((SELECT max(seq) FROM changes), 0),"
		      " coalesce((SELECT CAST(v AS BIGINT) FROM meta"
		      " WHERE k = 'seq'), 0))",
	[S_SEQ_SAVE] = "INSERT INTO meta(k, v) VALUES('seq', ?1)"
		       " ON CONFLICT(k) DO UPDATE SET v = excluded.v",
	[S_STAMP] = "INSERT INTO changes(kind, entity_id, seq) VALUES(?1, ?2,"
		    " ?3) ON CONFLICT(kind, entity_id) DO UPDATE SET"
		    " seq = excluded.seq, deleted = 0",
	[S_NUMBER_GET] = "SELECT id, name, waba_id FROM numbers"
			 " WHERE phone_number_id = ?1",
	[S_NUMBER_BY_NAME] = "SELECT phone_number_id FROM numbers"
			     " WHERE name = ?1",
	[S_NUMBER_ADD] = "INSERT INTO numbers(name, phone_number_id, waba_id)"
			 " VALUES(?1, ?2, ?3) RETURNING id",
	[S_NUMBER_UPDATE] = "UPDATE numbers SET name = ?2, waba_id = ?3"
			    " WHERE id = ?1",
	[S_WEBHOOK_ADD] = "INSERT INTO webhooks(received_at, sha256, body)"
			  " VALUES(?1, ?2, ?3) ON CONFLICT(sha256) DO NOTHING"
			  " RETURNING id",
	[S_WEBHOOK_EXPIRE] = "DELETE FROM webhooks WHERE id IN (SELECT id FROM"
			     " webhooks WHERE received_at < ?1 LIMIT 5000)",
	[S_EVENT_ADD] = "INSERT INTO events(webhook_id, received_at, waba_id,"
			" number_id, field, what, value)"
			" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_QUARANTINE_ADD] = "INSERT INTO quarantine(webhook_id, received_at,"
			     " phone_number_id, field, value)"
			     " VALUES(?1, ?2, ?3, ?4, ?5)",
	[S_CONTACT_BY_USER] = "SELECT id FROM contacts WHERE number_id = ?1"
			      " AND user_id = ?2",
	[S_CONTACT_BY_WA] = "SELECT id FROM contacts WHERE number_id = ?1"
			    " AND wa_id = ?2",
	[S_CONTACT_GET] = "SELECT wa_id, user_id, parent_user_id, username,"
			  " profile_name, previous_wa_ids FROM contacts"
			  " WHERE id = ?1",
	[S_CONTACT_ADD] = "INSERT INTO contacts(number_id, wa_id, user_id,"
			  " parent_user_id, username, profile_name,"
			  " created_at, updated_at)"
			  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING id",
	[S_CONTACT_UPDATE] = "UPDATE contacts SET wa_id = ?2, user_id = ?3,"
			     " parent_user_id = ?4, username = ?5,"
			     " profile_name = ?6, previous_wa_ids = ?7,"
			     " updated_at = ?8 WHERE id = ?1",
	[S_CONV_BY_CONTACT] = "SELECT id FROM conversations"
			      " WHERE contact_id = ?1",
	[S_CONV_ADD] = "INSERT INTO conversations(number_id, contact_id,"
		       " last_activity_at, created_at) VALUES(?1, ?2, ?3, ?3)"
		       " RETURNING id",
	[S_CONV_ACTIVITY] =
	    "UPDATE conversations SET"
	    " last_inbound_at = CASE WHEN ?3 <> 0 THEN"
	    "   max(coalesce(last_inbound_at, 0), ?2) ELSE last_inbound_at END,"
	    /* The first message is the last one whatever its timestamp:
	     * a customer's clock may be behind the conversation's start. */
	    " last_message_id = CASE WHEN ?2 >= last_activity_at"
	    "   OR last_message_id IS NULL THEN ?4 ELSE last_message_id END,"
	    " last_activity_at = max(last_activity_at, ?2)"
	    " WHERE id = ?1",
	[S_MSG_ADD] = "INSERT INTO messages(number_id, conversation_id, wamid,"
		      " direction, type, unknown_type, ts, received_at,"
		      " target_wamid, text, media, wa, status, status_at)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
		      " ?12, ?13, ?14) ON CONFLICT DO NOTHING RETURNING id",
	[S_MSG_FIND] = "SELECT id, conversation_id FROM messages"
		       " WHERE number_id = ?1 AND wamid = ?2",
	[S_MSG_STATUS_GET] = "SELECT status FROM messages WHERE id = ?1",
	[S_MSG_STATUS_SET] = "UPDATE messages SET status = ?2, status_at = ?3,"
			     " failure = coalesce(?4, failure) WHERE id = ?1",
	[S_MSG_FAILURE_SET] = "UPDATE messages SET failure = ?2 WHERE id = ?1",
	[S_STATUS_ADD] = "INSERT INTO statuses(number_id, wamid, status, ts)"
			 " VALUES(?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
	/* Newest action of each kind wins; ties go to the later arrival. */
	[S_MSG_REACTION] =
	    "SELECT json_extract(wa, '$.reaction.emoji') FROM messages"
	    " WHERE number_id = ?1 AND target_wamid = ?2 AND type = 'reaction'"
	    " ORDER BY ts DESC, id DESC LIMIT 1",
	[S_MSG_EDIT] = "SELECT text FROM messages WHERE number_id = ?1"
		       " AND target_wamid = ?2 AND type = 'edit'"
		       " ORDER BY ts DESC, id DESC LIMIT 1",
	[S_MSG_REVOKE] = "SELECT count(*) FROM messages WHERE number_id = ?1"
			 " AND target_wamid = ?2 AND type = 'revoke'",
	[S_MSG_HAS_ACTIONS] = "SELECT 1 FROM messages WHERE number_id = ?1"
			      " AND target_wamid = ?2 LIMIT 1",
	[S_MSG_ACTIONS_SET] =
	    "UPDATE messages SET reaction = ?2, edited_text = ?3,"
	    " revoked = ?4,"
	    " text = CASE WHEN ?4 <> 0 THEN NULL ELSE text END,"
	    " media = CASE WHEN ?4 <> 0 THEN NULL ELSE media END,"
	    " wa = CASE WHEN ?4 <> 0 THEN NULL ELSE wa END"
	    " WHERE id = ?1 AND (reaction IS DISTINCT FROM ?2"
	    " OR edited_text IS DISTINCT FROM ?3 OR revoked IS DISTINCT FROM ?4)",
	[S_MSG_ORDER_SET] = "UPDATE messages SET order_id = ?2 WHERE id = ?1",
	[S_ORDER_ADD] = "INSERT INTO orders(number_id, contact_id,"
			" conversation_id, message_id, catalog_id, text, items,"
			" currency, total, created_at, updated_at)"
			" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)"
			" RETURNING id",
	[S_TEMPLATE_UPSERT] =
	    "INSERT INTO templates AS t(waba_id, template_id, name, language,"
	    " status, reason, category, updated_at)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
	    " ON CONFLICT(waba_id, template_id) DO UPDATE SET"
	    " name = coalesce(excluded.name, t.name),"
	    " language = coalesce(excluded.language, t.language),"
	    " status = excluded.status, reason = excluded.reason,"
	    " category = coalesce(excluded.category, t.category),"
	    " updated_at = excluded.updated_at RETURNING id",
	[S_AGENT_ADD] = "INSERT INTO agents(name, role, token_hash, created_at)"
			" VALUES(?1, ?2, ?3, ?4) RETURNING id",
	[S_AGENT_REVOKE] = "UPDATE agents SET revoked_at = ?2"
			   " WHERE name = ?1 AND revoked_at IS NULL"
			   " RETURNING id",
	[S_AGENT_LIST] = "SELECT id FROM agents ORDER BY name",
	[S_CHANGES] = "SELECT kind, entity_id, seq, deleted FROM changes"
		      " WHERE seq > ?1 ORDER BY seq LIMIT ?2",
	[S_ENTITY_CONVERSATION] =
	    "SELECT c.number_id, n.name, c.contact_id, c.status,"
	    " c.snoozed_until, c.assignee_id, c.last_inbound_at,"
	    " c.last_activity_at, c.last_message_id, c.created_at, c.labels,"
	    " c.read_by"
	    " FROM conversations c JOIN numbers n ON n.id = c.number_id"
	    " WHERE c.id = ?1",
	[S_ENTITY_MESSAGE] =
	    "SELECT m.conversation_id, n.name, m.wamid, m.direction, m.type,"
	    " m.unknown_type, m.ts, m.received_at, m.target_wamid, m.text,"
	    " m.media, m.wa, m.status, m.status_at, m.failure, m.reaction,"
	    " m.edited_text, m.revoked, m.order_id, m.agent_id, m.client_id"
	    " FROM messages m JOIN numbers n ON n.id = m.number_id"
	    " WHERE m.id = ?1",
	[S_ENTITY_CONTACT] =
	    "SELECT n.name, k.wa_id, k.user_id, k.parent_user_id, k.username,"
	    " k.profile_name, k.previous_wa_ids, k.created_at, k.updated_at,"
	    " k.display_name, k.attributes"
	    " FROM contacts k JOIN numbers n ON n.id = k.number_id"
	    " WHERE k.id = ?1",
	[S_ENTITY_ORDER] =
	    "SELECT n.name, o.contact_id, o.conversation_id, o.message_id,"
	    " o.catalog_id, o.text, o.items, o.currency, o.total, o.status,"
	    " o.created_at, o.updated_at"
	    " FROM orders o JOIN numbers n ON n.id = o.number_id"
	    " WHERE o.id = ?1",
	[S_ENTITY_NOTE] = "SELECT conversation_id, agent_id, body, created_at,"
			  " mentions FROM notes WHERE id = ?1",
	[S_ENTITY_AGENT] = "SELECT name, role, created_at, revoked_at"
			   " FROM agents WHERE id = ?1",
	[S_ENTITY_TEMPLATE] = "SELECT waba_id, template_id, name, language,"
			      " status, reason, category, updated_at,"
			      " components, parameter_format"
			      " FROM templates WHERE id = ?1",
	[S_MSG_BY_WAMID] = "SELECT id FROM messages WHERE wamid = ?1"
			   " ORDER BY id LIMIT 1",
	[S_SAVEPOINT] = "SAVEPOINT one",
	[S_READ_BEGIN] = "BEGIN",
	[S_READ_END] = "COMMIT",
	[S_RELEASE] = "RELEASE one",
	[S_ROLLBACK_TO] = "ROLLBACK TO one",
	[S_OUTBOUND_DUE] =
	    "SELECT m.id, n.phone_number_id, k.wa_id, "
	    "k.user_id, m.type, m.wa, m.target_wamid, m.attempts, "
	    "coalesce(c.last_inbound_at, 0), m.number_id "
	    "FROM messages m JOIN numbers n ON n.id = m.number_id "
	    "JOIN conversations c ON c.id = m.conversation_id "
	    "JOIN contacts k ON k.id = c.contact_id "
	    /* The IN term lets SQLite use the partial index messages_outbox
	     * (it does not see that = 'queued' implies it). */
	    "WHERE m.status IN ('queued', 'sending') AND m.status = 'queued' "
	    "AND coalesce(m.next_attempt_at, 0) <= ?1 AND m.id > ?3 "
	    /* A customer's messages go in order: none overtakes an earlier
	     * one still queued (waiting out a backoff, say). */
	    "AND NOT EXISTS (SELECT 1 FROM messages p WHERE p.status = "
	    "'queued' AND p.conversation_id = m.conversation_id AND "
	    "p.id < m.id) "
	    "ORDER BY m.id LIMIT ?2",
	[S_RECEIPTS_DUE] =
	    "SELECT r.conversation_id, r.number_id, "
	    "r.message_id, r.wamid, r.attempts, n.phone_number_id "
	    "FROM read_receipts r JOIN numbers n ON n.id = r.number_id "
	    "WHERE r.state = 'queued' AND coalesce(r.next_attempt_at, 0) <= ?1 "
	    "AND r.conversation_id > ?2 ORDER BY r.conversation_id LIMIT ?3",
	[S_RECEIPT_MARK] =
	    "UPDATE read_receipts SET state = ?3, "
	    "attempts = attempts + ?4, next_attempt_at = ?5, updated_at = ?6 "
	    "WHERE conversation_id = ?1 AND message_id = ?2 AND "
	    "state = 'queued'",
	[S_OUTBOUND_MARK] =
	    "UPDATE messages SET status = ?2, "
	    "next_attempt_at = ?3, sending_since = ?4, "
	    "attempts = attempts + ?5, failure = coalesce(?6, failure), "
	    "status_at = unixepoch() WHERE id = ?1 AND "
	    "status IN ('queued', 'sending') AND wamid IS NULL",
	[S_MSG_CLAIM] =
	    "UPDATE messages SET wamid = ?3 WHERE "
	    "id = ?1 AND number_id = ?2 AND direction = 'out' AND wamid IS "
	    "NULL",
	[S_MSG_DELETE_STANDIN] =
	    "DELETE FROM messages WHERE id = ?1 AND "
	    "type = 'external'",
	[S_OUTBOUND_ACCEPTED] =
	    "UPDATE messages SET wamid = ?2, "
	    "failure = CASE WHEN status IN ('queued', 'sending') THEN NULL "
	    "ELSE failure END, status = CASE WHEN "
	    "status IN ('queued', 'sending') THEN coalesce(?3, 'sent') ELSE "
	    "status END, status_at = unixepoch(), sending_since = NULL, "
	    "next_attempt_at = NULL WHERE id = ?1",
	[S_ENTITY_HISTORY] = "SELECT conversation_id, agent_id, action, reason,"
			     " details, text, created_at FROM history"
			     " WHERE id = ?1",
	[S_ENTITY_LABEL] = "SELECT name, color, created_at, updated_at"
			   " FROM labels WHERE id = ?1",
	[S_ENTITY_CANNED] = "SELECT shortcut, text, agent_id, created_at,"
			    " updated_at FROM canned_replies WHERE id = ?1",
};

/*
 * Writers of one store take turns: SQLite's BEGIN IMMEDIATE, and on
 * PostgreSQL this transaction-scoped advisory lock, held from BEGIN to
 * COMMIT by whichever relay instance writes. So seq values are handed out
 * in commit order across every instance: when a reader sees seq N, every
 * change below N is committed and visible too, and no cursor ever passes
 * a change still to come (see docs/scale-out.md).
 */
/* What db_step returns. */
#define ROW 1
#define DONE 0
#define FAIL (-1)

#define PG_WRITE_LOCK "SELECT pg_advisory_xact_lock(7107460001)"

struct store {
	struct db *db;
	struct dbq *stmt[NSTMT];
	char epoch[33];
	int64_t seq;	       /* last seq handed out in this transaction */
	int64_t seq_savepoint; /* seq when the savepoint was taken */
	int in_txn;
};

static struct dbq *
st_get(struct store *st, enum stmt which)
{
	struct dbq *s = st->stmt[which];

	if (s == NULL) {
		if ((s = db_prepare(st->db, stmt_sql[which])) == NULL) {
			/* Every statement is ours: failing to prepare one is
			 * a bug, not bad input. */
			log_error("store: cannot prepare statement %d: %s",
			    (int)which, db_error(st->db));
			abort();
		}
		st->stmt[which] = s;
	}
	return s;
}

/* Binding helpers: NULL strings become SQL NULL. */
static void
bind_text(struct dbq *s, int i, const char *v)
{
	db_bind_text(s, i, v);
}

static void
bind_json(struct dbq *s, int i, const cJSON *v)
{
	db_bind_text_owned(s, i, v != NULL ? jx_print(v) : NULL);
}

static void
bind_id(struct dbq *s, int i, int64_t v)
{
	if (v == 0)
		db_bind_null(s, i);
	else
		db_bind_int(s, i, v);
}

static const char *
col_text(struct dbq *s, int i)
{
	return db_text(s, i);
}

/* Runs a statement that returns no rows we need; resets it. */
static int
st_done(struct store *st, struct dbq *s)
{
	int rc = db_step(s);

	db_reset(s);
	if (rc >= 0)
		return 0;
	log_error("store: %s", db_error(st->db));
	return -1;
}

/* Steps once; 1 with a row (caller resets), 0 with none, -1 on error. */
static int
st_row(struct store *st, struct dbq *s)
{
	int rc = db_step(s);

	if (rc == 1)
		return 1;
	db_reset(s);
	if (rc == 0)
		return 0;
	log_error("store: %s", db_error(st->db));
	return -1;
}

/*
 * Runs an INSERT … RETURNING id: *id is the new row's, or 0 when the
 * insert did nothing (ON CONFLICT DO NOTHING); resets it.
 */
static int
st_insert(struct store *st, struct dbq *s, int64_t *id)
{
	int rc = db_step(s);

	*id = rc == ROW ? db_int(s, 0) : 0;
	db_reset(s);
	if (rc >= 0)
		return 0;
	log_error("store: %s", db_error(st->db));
	return -1;
}

/*
 * Runs a write that a constraint may refuse (a unique name taken): 1 when
 * one did, and nothing of it is kept; the transaction goes on either way,
 * which on PostgreSQL takes a savepoint. With id, the statement returns
 * one (INSERT … RETURNING id). Resets the statement.
 */
static int
st_try(struct store *st, struct dbq *s, int64_t *id)
{
	int txn = db_in_transaction(st->db), rc, conflict;

	if (txn && db_exec(st->db, "SAVEPOINT try", NULL) != 0) {
		db_reset(s);
		return -1;
	}
	rc = db_step(s);
	if (rc == ROW && id != NULL)
		*id = db_int(s, 0);
	conflict = rc < 0 && db_conflict(st->db);
	db_reset(s);
	if (txn) {
		if (rc < 0 && db_exec(st->db, "ROLLBACK TO try", NULL) != 0)
			return -1;
		if (db_exec(st->db, "RELEASE try", NULL) != 0)
			return -1;
	}
	if (conflict)
		return 1;
	if (rc < 0) {
		log_error("store: %s", db_error(st->db));
		return -1;
	}
	return 0;
}

static void
st_reset(struct dbq *s)
{
	db_reset(s);
}

static int
exec(struct store *st, const char *sql, char **cause)
{
	return db_exec(st->db, sql, cause);
}

/* One-off statements for rare paths: prepared, run, finalised. */
static struct dbq *
prep(struct store *st, const char *sql)
{
	struct dbq *s = db_prepare(st->db, sql);

	if (s == NULL) {
		log_error("store: cannot prepare: %s", db_error(st->db));
		abort();
	}
	return s;
}

/* Steps a one-off statement that returns nothing, and finalises it. */
static int
prep_done(struct store *st, struct dbq *s)
{
	int rc = db_step(s);

	db_finalize(s);
	if (rc < 0) {
		log_error("store: %s", db_error(st->db));
		return -1;
	}
	return 0;
}

/* A one-off INSERT … RETURNING id, finalised. */
static int
prep_insert(struct store *st, struct dbq *s, int64_t *id)
{
	int rc = db_step(s);

	*id = rc == ROW ? db_int(s, 0) : 0;
	db_finalize(s);
	if (rc < 0) {
		log_error("store: %s", db_error(st->db));
		return -1;
	}
	return 0;
}

/* The number of the first column of the first row of sql (?1 bound to
 * key when key is not NULL): 1 found, 0 none, -1 error. */
static int
query_int(struct store *st, const char *sql, const char *key, int64_t *v)
{
	struct dbq *s = prep(st, sql);
	int rc;

	if (key != NULL)
		bind_text(s, 1, key);
	rc = db_step(s);
	if (rc == 1)
		*v = db_int(s, 0);
	db_finalize(s);
	return rc;
}

/* The schema version a store is at: SQLite keeps it in user_version,
 * PostgreSQL in a table of its own. */
static int
schema_version(struct store *st, int *version)
{
	int64_t v = 0;
	int rc;

	*version = 0;
	if (db_kind(st->db) == DB_SQLITE)
		rc = query_int(st, "PRAGMA user_version", NULL, &v);
	else {
		rc = query_int(st, "SELECT to_regclass('glivi_schema') IS NOT "
		    "NULL", NULL, &v);
		if (rc == 1 && v)
			rc = query_int(st, "SELECT version FROM glivi_schema",
			    NULL, &v);
	}
	if (rc < 0)
		return -1;
	*version = (int)v;
	return 0;
}

static int
migrate(struct store *st, char **cause)
{
	int pg = db_kind(st->db) == DB_POSTGRES;
	int version;

	if (schema_version(st, &version) != 0) {
		*cause = xasprintf("%s: %s", db_name(st->db),
		    db_error(st->db));
		return -1;
	}
	if (version > NMIGRATIONS) {
		*cause = xasprintf("%s: schema version %d is newer than this "
		    "glivi-relay knows (%d); upgrade glivi-relay",
		    db_name(st->db), version, NMIGRATIONS);
		return -1;
	}
	for (int v = version; v < NMIGRATIONS; v++) {
		char *bump;
		int now_at, rc;

		/* Other relays may be migrating the same store: they take
		 * turns, and a late one finds the work done. */
		if (exec(st, pg ? "BEGIN; " PG_WRITE_LOCK : "BEGIN IMMEDIATE",
		    cause) != 0)
			return -1;
		if (pg && exec(st, "CREATE TABLE IF NOT EXISTS glivi_schema("
		    "version INTEGER NOT NULL); INSERT INTO glivi_schema "
		    "SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM glivi_schema)",
		    cause) != 0) {
			exec(st, "ROLLBACK", NULL);
			return -1;
		}
		if (schema_version(st, &now_at) != 0) {
			exec(st, "ROLLBACK", NULL);
			*cause = xasprintf("%s: %s", db_name(st->db),
			    db_error(st->db));
			return -1;
		}
		if (now_at > v) {
			exec(st, "ROLLBACK", NULL);
			v = now_at - 1;
			continue;
		}
		bump = pg ? xasprintf("UPDATE glivi_schema SET version = %d",
		    v + 1) : xasprintf("PRAGMA user_version = %d", v + 1);
		rc = pg ? 0 : exec(st, migrations[v], cause);
		for (int i = 0; pg && i < PG_PARTS && rc == 0; i++)
			if (pg_migrations[v][i] != NULL)
				rc = exec(st, pg_migrations[v][i], cause);
		if (rc != 0 || exec(st, bump, cause) != 0) {
			free(bump);
			exec(st, "ROLLBACK", NULL);
			return -1;
		}
		free(bump);
		if (exec(st, "COMMIT", cause) != 0)
			return -1;
		log_info("store: migrated %s to schema %d", db_name(st->db),
		    v + 1);
	}
	return 0;
}

static int
read_epoch(struct store *st)
{
	struct dbq *s = prep(st, "SELECT v FROM meta WHERE k = 'epoch'");
	int rc = db_step(s);

	if (rc == 1)
		snprintf(st->epoch, sizeof st->epoch, "%s", db_text(s, 0));
	db_finalize(s);
	return rc;
}

static int
load_epoch(struct store *st, int readonly, char **cause)
{
	struct dbq *s;
	unsigned char rnd[16];
	char epoch[33];
	int rc;

	if ((rc = read_epoch(st)) == 1)
		return 0;
	if (rc < 0 || readonly)
		goto fail;
	/* A new store gets a new epoch: cursors of any other store fail.
	 * Another relay may be doing the same: the first one's stays. */
	if (RAND_bytes(rnd, sizeof rnd) != 1) {
		*cause = xstrdup("cannot get random bytes for the epoch");
		return -1;
	}
	hex_encode(rnd, 8, epoch);
	s = prep(st, "INSERT INTO meta(k, v) VALUES('epoch', ?1) "
	    "ON CONFLICT(k) DO NOTHING");
	bind_text(s, 1, epoch);
	if (prep_done(st, s) != 0 || read_epoch(st) != 1)
		goto fail;
	return 0;
fail:
	*cause = xasprintf("%s: no epoch: %s", db_name(st->db),
	    db_error(st->db));
	return -1;
}

int
store_open(const char *url, enum store_durability durability,
    struct store **out, char **cause)
{
	struct store *st = xcalloc(1, sizeof *st);

	if (db_open(url, durability == STORE_DURABLE ? DB_DURABLE : 0,
	    &st->db, cause) != 0) {
		free(st);
		return -1;
	}
	if (migrate(st, cause) != 0 || load_epoch(st, 0, cause) != 0) {
		store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

int
store_background_checkpoints(struct store *st, char **cause)
{
	return db_background_checkpoints(st->db, cause);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < NSTMT; i++)
		db_finalize(st->stmt[i]);
	db_close(st->db);
	free(st);
}

const char *
store_epoch(const struct store *st)
{
	return st->epoch;
}

int
store_schema_version(const struct store *st)
{
	(void)st;
	return NMIGRATIONS;
}

int
store_begin(struct store *st, char **cause)
{
	struct dbq *s;

	/* IMMEDIATE (and PostgreSQL's lock) makes this the one writer now,
	 * so the seq read below is ours until commit, whoever else writes:
	 * an admin command, another relay. */
	if (exec(st, db_kind(st->db) == DB_POSTGRES ? "BEGIN; " PG_WRITE_LOCK :
	    "BEGIN IMMEDIATE", cause) != 0)
		return -1;
	s = st_get(st, S_SEQ_MAX);
	if (st_row(st, s) != 1) {
		exec(st, "ROLLBACK", NULL);
		if (cause != NULL)
			*cause = xasprintf("%s: cannot read seq",
			    db_name(st->db));
		return -1;
	}
	st->seq = db_int(s, 0);
	st_reset(s);
	st->in_txn = 1;
	return 0;
}

int
store_commit(struct store *st, char **cause)
{
	struct dbq *s = st_get(st, S_SEQ_SAVE);

	db_bind_int(s, 1, st->seq);
	if (st_done(st, s) != 0) {
		if (cause != NULL)
			*cause = xasprintf("%s: cannot save seq: %s",
			    db_name(st->db), db_error(st->db));
		store_rollback(st);
		return -1;
	}
	/* A doorbell for the other relays' event streams; it rings with
	 * the commit, and carries nothing. */
	if ((db_kind(st->db) == DB_POSTGRES &&
	    exec(st, "NOTIFY glivi_changes", cause) != 0) ||
	    exec(st, "COMMIT", cause) != 0) {
		store_rollback(st);
		return -1;
	}
	st->in_txn = 0;
	return 0;
}

void
store_rollback(struct store *st)
{
	if (db_in_transaction(st->db) || db_broken(st->db))
		exec(st, "ROLLBACK", NULL);
	st->in_txn = 0;
}

int
store_savepoint(struct store *st, char **cause)
{
	st->seq_savepoint = st->seq;
	if (st_done(st, st_get(st, S_SAVEPOINT)) != 0) {
		if (cause != NULL)
			*cause = xasprintf("%s: %s", db_name(st->db),
			    db_error(st->db));
		return -1;
	}
	return 0;
}

void
store_savepoint_release(struct store *st)
{
	st_done(st, st_get(st, S_RELEASE));
}

void
store_savepoint_rollback(struct store *st)
{
	st_done(st, st_get(st, S_ROLLBACK_TO));
	st_done(st, st_get(st, S_RELEASE));
	st->seq = st->seq_savepoint;
}

int
store_stamp(struct store *st, const char *kind, int64_t id)
{
	struct dbq *s = st_get(st, S_STAMP);

	db_bind_text(s, 1, kind);
	db_bind_int(s, 2, id);
	db_bind_int(s, 3, ++st->seq);
	return st_done(st, s);
}

int
store_number_ensure(struct store *st, const char *name,
    const char *phone_number_id, const char *waba_id, int64_t *id,
    char **cause)
{
	struct dbq *s = st_get(st, S_NUMBER_GET);
	int rc;

	bind_text(s, 1, phone_number_id);
	rc = st_row(st, s);
	if (rc < 0)
		goto fail;
	if (rc == 1) {
		*id = db_int(s, 0);
		rc = strcmp(col_text(s, 1), name) != 0 ||
		    (col_text(s, 2) == NULL) != (waba_id == NULL) ||
		    (waba_id != NULL && strcmp(col_text(s, 2), waba_id) != 0);
		st_reset(s);
		if (!rc)
			return 0;
		s = st_get(st, S_NUMBER_UPDATE);
		db_bind_int(s, 1, *id);
		bind_text(s, 2, name);
		bind_text(s, 3, waba_id);
		if (st_done(st, s) != 0)
			goto fail;
		return 0;
	}
	/* A known inbox name with another id is a config change that would
	 * split one inbox in two: say so rather than guess. */
	s = st_get(st, S_NUMBER_BY_NAME);
	bind_text(s, 1, name);
	rc = st_row(st, s);
	if (rc < 0)
		goto fail;
	if (rc == 1) {
		*cause = xasprintf("[number.%s] has phone_number_id %s, but this "
		    "store keeps the inbox '%s' for phone_number_id %s. Restore "
		    "the old id, or give the new number a section of its own",
		    name, phone_number_id, name, col_text(s, 0));
		st_reset(s);
		return -1;
	}
	s = st_get(st, S_NUMBER_ADD);
	bind_text(s, 1, name);
	bind_text(s, 2, phone_number_id);
	bind_text(s, 3, waba_id);
	if (st_insert(st, s, id) != 0)
		goto fail;
	return 0;
fail:
	*cause = xasprintf("number %s: %s", name, db_error(st->db));
	return -1;
}

int
store_webhook_add(struct store *st, const void *body, size_t len,
    int64_t now, int64_t *id, int *duplicate)
{
	struct dbq *s = st_get(st, S_WEBHOOK_ADD);
	unsigned char digest[32];

	sha256(body, len, digest);
	db_bind_int(s, 1, now);
	db_bind_blob(s, 2, digest, sizeof digest);
	db_bind_blob(s, 3, body, len);
	if (st_insert(st, s, id) != 0)
		return -1;
	*duplicate = *id == 0;
	return 0;
}

int
store_webhooks_expire(struct store *st, int64_t older_than, int64_t *n)
{
	struct dbq *s = st_get(st, S_WEBHOOK_EXPIRE);

	db_bind_int(s, 1, older_than);
	if (st_done(st, s) != 0)
		return -1;
	*n = db_changes(st->db);
	return 0;
}

int
store_event_add(struct store *st, int64_t webhook_id, int64_t now,
    const char *waba_id, int64_t number_id, const char *field,
    const char *what, const cJSON *value)
{
	struct dbq *s = st_get(st, S_EVENT_ADD);

	bind_id(s, 1, webhook_id);
	db_bind_int(s, 2, now);
	bind_text(s, 3, waba_id);
	bind_id(s, 4, number_id);
	bind_text(s, 5, field);
	bind_text(s, 6, what);
	bind_json(s, 7, value);
	return st_done(st, s);
}

int
store_quarantine_add(struct store *st, int64_t webhook_id, int64_t now,
    const char *phone_number_id, const char *field, const cJSON *value)
{
	struct dbq *s = st_get(st, S_QUARANTINE_ADD);

	bind_id(s, 1, webhook_id);
	db_bind_int(s, 2, now);
	bind_text(s, 3, phone_number_id);
	bind_text(s, 4, field);
	bind_json(s, 5, value);
	return st_done(st, s);
}

static int
find_id(struct store *st, enum stmt which, int64_t a, const char *b,
    int64_t *id)
{
	struct dbq *s = st_get(st, which);
	int rc;

	db_bind_int(s, 1, a);
	bind_text(s, 2, b);
	rc = st_row(st, s);
	if (rc == 1) {
		*id = db_int(s, 0);
		st_reset(s);
	}
	return rc;
}

static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Keeps what we knew unless the new value says more. */
static const char *
newer(const char *old, const char *new)
{
	return new != NULL ? new : old;
}

int
store_contact_upsert(struct store *st, const struct store_contact *c,
    int64_t now, int64_t *id)
{
	struct dbq *s;
	char *old[6] = { 0 };
	const char *nv[5];
	int rc = 0, changed = 0;

	*id = 0;
	if (c->user_id != NULL &&
	    (rc = find_id(st, S_CONTACT_BY_USER, c->number_id, c->user_id,
	    id)) < 0)
		return -1;
	if (*id == 0 && c->wa_id != NULL &&
	    (rc = find_id(st, S_CONTACT_BY_WA, c->number_id, c->wa_id, id)) <
	    0)
		return -1;
	if (*id == 0) {
		s = st_get(st, S_CONTACT_ADD);
		db_bind_int(s, 1, c->number_id);
		bind_text(s, 2, c->wa_id);
		bind_text(s, 3, c->user_id);
		bind_text(s, 4, c->parent_user_id);
		bind_text(s, 5, c->username);
		bind_text(s, 6, c->profile_name);
		db_bind_int(s, 7, now);
		if (st_insert(st, s, id) != 0)
			return -1;
		return store_stamp(st, STORE_CONTACT, *id);
	}

	s = st_get(st, S_CONTACT_GET);
	db_bind_int(s, 1, *id);
	if (st_row(st, s) != 1)
		return -1;
	for (int i = 0; i < 6; i++)
		old[i] = col_text(s, i) ? xstrdup(col_text(s, i)) : NULL;
	st_reset(s);
	nv[0] = old[0] != NULL ? old[0] : c->wa_id; /* renumber changes it */
	nv[1] = newer(old[1], c->user_id);
	nv[2] = newer(old[2], c->parent_user_id);
	nv[3] = newer(old[3], c->username);
	nv[4] = newer(old[4], c->profile_name);
	for (int i = 0; i < 5; i++)
		changed |= !streq(old[i], nv[i]);
	if (changed) {
		s = st_get(st, S_CONTACT_UPDATE);
		db_bind_int(s, 1, *id);
		for (int i = 0; i < 5; i++)
			bind_text(s, 2 + i, nv[i]);
		bind_text(s, 7, old[5]);
		db_bind_int(s, 8, now);
		rc = st_try(st, s, NULL);
		if (rc == 1) {
			/* The id learnt belongs to another contact already (a
			 * BSUID contact meeting a phone contact): keep the ids
			 * this one had; linking the two is an operator's call. */
			log_warn("store: contact %" PRId64 " keeps its ids; the "
			    "new one belongs to another contact", *id);
			s = st_get(st, S_CONTACT_UPDATE);
			db_bind_int(s, 1, *id);
			bind_text(s, 2, old[0]);
			bind_text(s, 3, old[1]);
			for (int i = 2; i < 5; i++)
				bind_text(s, 2 + i, nv[i]);
			bind_text(s, 7, old[5]);
			db_bind_int(s, 8, now);
			rc = st_done(st, s);
		}
		if (rc == 0)
			rc = store_stamp(st, STORE_CONTACT, *id);
	}
	for (int i = 0; i < 6; i++)
		free(old[i]);
	return rc < 0 ? -1 : 0;
}

int
store_contact_renumber(struct store *st, int64_t id, const char *new_wa_id,
    int64_t now)
{
	struct dbq *s = st_get(st, S_CONTACT_GET);
	char *old[6] = { 0 };
	cJSON *prev;
	int rc;

	db_bind_int(s, 1, id);
	if (st_row(st, s) != 1)
		return -1;
	for (int i = 0; i < 6; i++)
		old[i] = col_text(s, i) ? xstrdup(col_text(s, i)) : NULL;
	st_reset(s);
	rc = 0;
	if (!streq(old[0], new_wa_id)) {
		prev = old[5] ? cJSON_Parse(old[5]) : NULL;
		if (!cJSON_IsArray(prev)) {
			cJSON_Delete(prev);
			prev = cJSON_CreateArray();
		}
		if (old[0] != NULL)
			cJSON_AddItemToArray(prev, cJSON_CreateString(old[0]));
		s = st_get(st, S_CONTACT_UPDATE);
		db_bind_int(s, 1, id);
		bind_text(s, 2, new_wa_id);
		for (int i = 1; i < 5; i++)
			bind_text(s, 2 + i, old[i]);
		bind_json(s, 7, prev);
		db_bind_int(s, 8, now);
		cJSON_Delete(prev);
		rc = st_try(st, s, NULL);
		if (rc == 0)
			rc = store_stamp(st, STORE_CONTACT, id);
		else if (rc == 1) {
			/* The new number has a contact of its own: both stay,
			 * and the system message in this conversation says
			 * what happened. Not a reason to refuse the delivery. */
			log_warn("store: contact %" PRId64 " not renumbered "
			    "(the new number has a contact already)", id);
			rc = 0;
		}
	}
	for (int i = 0; i < 6; i++)
		free(old[i]);
	return rc;
}

int
store_conversation_for(struct store *st, int64_t number_id,
    int64_t contact_id, int64_t now, int64_t *id)
{
	struct dbq *s = st_get(st, S_CONV_BY_CONTACT);
	int rc;

	db_bind_int(s, 1, contact_id);
	rc = st_row(st, s);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		*id = db_int(s, 0);
		st_reset(s);
		return 0;
	}
	s = st_get(st, S_CONV_ADD);
	db_bind_int(s, 1, number_id);
	db_bind_int(s, 2, contact_id);
	db_bind_int(s, 3, now);
	if (st_insert(st, s, id) != 0)
		return -1;
	return store_stamp(st, STORE_CONVERSATION, *id);
}

int
store_conversation_activity(struct store *st, int64_t id, int64_t ts,
    int inbound, int64_t message_id)
{
	struct dbq *s = st_get(st, S_CONV_ACTIVITY);

	db_bind_int(s, 1, id);
	db_bind_int(s, 2, ts);
	db_bind_int(s, 3, inbound);
	bind_id(s, 4, message_id);
	if (st_done(st, s) != 0)
		return -1;
	return store_stamp(st, STORE_CONVERSATION, id);
}

int
store_message_add(struct store *st, const struct store_message *m,
    int64_t *id, int *existed)
{
	struct dbq *s = st_get(st, S_MSG_ADD);

	db_bind_int(s, 1, m->number_id);
	bind_id(s, 2, m->conversation_id);
	bind_text(s, 3, m->wamid);
	bind_text(s, 4, m->direction);
	bind_text(s, 5, m->type);
	db_bind_int(s, 6, m->unknown_type);
	db_bind_int(s, 7, m->ts);
	db_bind_int(s, 8, m->received_at);
	bind_text(s, 9, m->target_wamid);
	bind_text(s, 10, m->text);
	bind_json(s, 11, m->media);
	bind_json(s, 12, m->wa);
	bind_text(s, 13, m->status);
	bind_id(s, 14, m->status_at);
	if (st_insert(st, s, id) != 0)
		return -1;
	*existed = *id == 0;
	if (*existed)
		return store_message_find(st, m->number_id, m->wamid, id, NULL);
	return store_stamp(st, STORE_MESSAGE, *id);
}

int
store_message_find(struct store *st, int64_t number_id, const char *wamid,
    int64_t *id, int64_t *conversation_id)
{
	struct dbq *s = st_get(st, S_MSG_FIND);
	int rc;

	*id = 0;
	db_bind_int(s, 1, number_id);
	bind_text(s, 2, wamid);
	rc = st_row(st, s);
	if (rc == 1) {
		*id = db_int(s, 0);
		if (conversation_id != NULL)
			*conversation_id = db_int(s, 1);
		st_reset(s);
	}
	return rc < 0 ? -1 : 0;
}

int
store_message_status(struct store *st, int64_t id, const char **status)
{
	struct dbq *s = st_get(st, S_MSG_STATUS_GET);
	static const char *names[] = { "queued", "sent", "failed", "delivered",
		"read", "played", "received", "sending", NULL };
	const char *v;
	int rc;

	*status = NULL;
	db_bind_int(s, 1, id);
	rc = st_row(st, s);
	if (rc != 1)
		return rc;
	/* Hand back a static string: the row's text dies at reset. */
	v = col_text(s, 0);
	for (size_t i = 0; v != NULL && names[i] != NULL; i++) {
		if (strcmp(v, names[i]) == 0)
			*status = names[i];
	}
	st_reset(s);
	return 0;
}

int
store_message_set_status(struct store *st, int64_t id, const char *status,
    int64_t at, const cJSON *failure)
{
	struct dbq *s = st_get(st, S_MSG_STATUS_SET);

	db_bind_int(s, 1, id);
	bind_text(s, 2, status);
	db_bind_int(s, 3, at);
	bind_json(s, 4, failure);
	if (st_done(st, s) != 0)
		return -1;
	return store_stamp(st, STORE_MESSAGE, id);
}

int
store_message_set_failure(struct store *st, int64_t id, const cJSON *failure)
{
	struct dbq *s = st_get(st, S_MSG_FAILURE_SET);

	db_bind_int(s, 1, id);
	bind_json(s, 2, failure);
	if (st_done(st, s) != 0)
		return -1;
	return store_stamp(st, STORE_MESSAGE, id);
}

int
store_status_add(struct store *st, int64_t number_id, const char *wamid,
    const char *status, int64_t ts, int *duplicate)
{
	struct dbq *s = st_get(st, S_STATUS_ADD);

	db_bind_int(s, 1, number_id);
	bind_text(s, 2, wamid);
	bind_text(s, 3, status);
	db_bind_int(s, 4, ts);
	if (st_done(st, s) != 0)
		return -1;
	*duplicate = db_changes(st->db) == 0;
	return 0;
}

/* Reads one text column of the newest action row; NULL when none. */
static int
newest_action(struct store *st, enum stmt which, int64_t number_id,
    const char *wamid, char **out, int *found)
{
	struct dbq *s = st_get(st, which);
	int rc;

	*out = NULL;
	*found = 0;
	db_bind_int(s, 1, number_id);
	bind_text(s, 2, wamid);
	rc = st_row(st, s);
	if (rc == 1) {
		*found = 1;
		if (col_text(s, 0) != NULL)
			*out = xstrdup(col_text(s, 0));
		st_reset(s);
	}
	return rc < 0 ? -1 : 0;
}

int
store_message_refresh_actions(struct store *st, int64_t number_id,
    int64_t id, const char *wamid)
{
	struct dbq *s;
	char *reaction = NULL, *edited = NULL, *dummy = NULL;
	int found, revoked = 0, rc = -1;

	/* Most messages are never reacted to, edited or revoked: one probe
	 * of the index answers for them. */
	s = st_get(st, S_MSG_HAS_ACTIONS);
	db_bind_int(s, 1, number_id);
	bind_text(s, 2, wamid);
	rc = st_row(st, s);
	if (rc <= 0)
		return rc;
	st_reset(s);
	rc = -1;
	if (newest_action(st, S_MSG_REACTION, number_id, wamid, &reaction,
	    &found) != 0 || newest_action(st, S_MSG_EDIT, number_id, wamid,
	    &edited, &found) != 0)
		goto out;
	if (reaction != NULL && *reaction == '\0') {
		/* An empty emoji removes the reaction. */
		free(reaction);
		reaction = NULL;
	}
	s = st_get(st, S_MSG_REVOKE);
	db_bind_int(s, 1, number_id);
	bind_text(s, 2, wamid);
	if (st_row(st, s) == 1) {
		revoked = (int)db_int(s, 0) > 0;
		st_reset(s);
	}
	s = st_get(st, S_MSG_ACTIONS_SET);
	db_bind_int(s, 1, id);
	bind_text(s, 2, reaction);
	bind_text(s, 3, revoked ? NULL : edited);
	db_bind_int(s, 4, revoked);
	if (st_done(st, s) != 0)
		goto out;
	rc = db_changes(st->db) > 0 ?
	    store_stamp(st, STORE_MESSAGE, id) : 0;
out:
	free(reaction);
	free(edited);
	free(dummy);
	return rc;
}

int
store_message_set_order(struct store *st, int64_t id, int64_t order_id)
{
	struct dbq *s = st_get(st, S_MSG_ORDER_SET);

	db_bind_int(s, 1, id);
	db_bind_int(s, 2, order_id);
	if (st_done(st, s) != 0)
		return -1;
	return store_stamp(st, STORE_MESSAGE, id);
}

int
store_order_add(struct store *st, const struct store_order *o, int64_t *id)
{
	struct dbq *s = st_get(st, S_ORDER_ADD);

	db_bind_int(s, 1, o->number_id);
	bind_id(s, 2, o->contact_id);
	bind_id(s, 3, o->conversation_id);
	bind_id(s, 4, o->message_id);
	bind_text(s, 5, o->catalog_id);
	bind_text(s, 6, o->text);
	bind_json(s, 7, o->items);
	bind_text(s, 8, o->currency);
	bind_text(s, 9, o->total);
	db_bind_int(s, 10, o->created_at);
	if (st_insert(st, s, id) != 0)
		return -1;
	return store_stamp(st, STORE_ORDER, *id);
}

int
store_template_upsert(struct store *st, const struct store_template *t,
    int64_t now, int64_t *id)
{
	struct dbq *s = st_get(st, S_TEMPLATE_UPSERT);

	bind_text(s, 1, t->waba_id);
	bind_text(s, 2, t->template_id);
	bind_text(s, 3, t->name);
	bind_text(s, 4, t->language);
	bind_text(s, 5, t->status);
	bind_text(s, 6, t->reason);
	bind_text(s, 7, t->category);
	db_bind_int(s, 8, now);
	if (st_row(st, s) != 1)
		return -1;
	*id = db_int(s, 0);
	st_reset(s);
	return store_stamp(st, STORE_TEMPLATE, *id);
}

int
store_agent_add(struct store *st, const char *name, const char *role,
    const unsigned char hash[32], int64_t now, int64_t *id, char **cause)
{
	struct dbq *s = st_get(st, S_AGENT_ADD);
	int rc;

	bind_text(s, 1, name);
	bind_text(s, 2, role);
	db_bind_blob(s, 3, hash, 32);
	db_bind_int(s, 4, now);
	*id = 0;
	/* A name taken refuses this one write, not the transaction. */
	rc = st_try(st, s, id);
	if (rc == 1) {
		*cause = xasprintf("an agent named '%s' exists already", name);
		return -1;
	}
	if (rc < 0 || *id == 0) {
		*cause = xasprintf("%s", db_error(st->db));
		return -1;
	}
	return store_stamp(st, STORE_AGENT, *id);
}

int
store_agent_revoke(struct store *st, const char *name, int64_t now,
    char **cause)
{
	struct dbq *s = st_get(st, S_AGENT_REVOKE);
	int64_t id;
	int rc;

	bind_text(s, 1, name);
	db_bind_int(s, 2, now);
	rc = st_row(st, s);
	if (rc != 1) {
		*cause = rc == 0 ? xasprintf("no active agent named '%s'", name)
				 : xstrdup(db_error(st->db));
		return -1;
	}
	id = db_int(s, 0);
	st_reset(s);
	return store_stamp(st, STORE_AGENT, id);
}

int
store_agent_each(struct store *st, int (*fn)(void *, const cJSON *),
    void *arg)
{
	struct dbq *s = st_get(st, S_AGENT_LIST);
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	/* Collect ids first: building an entity reuses other statements. */
	while (db_step(s) == 1) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			ids = xrealloc(ids, cap * sizeof *ids);
		}
		ids[n++] = db_int(s, 0);
	}
	st_reset(s);
	for (size_t i = 0; i < n && rc == 0; i++) {
		cJSON *a = store_entity(st, STORE_AGENT, ids[i]);

		if (a != NULL)
			rc = fn(arg, a);
		cJSON_Delete(a);
	}
	free(ids);
	return rc;
}

/* Column writers for entity JSON. */
static void
add_col_str(struct jw *w, const char *key, struct dbq *s, int i)
{
	jw_string(w, key, col_text(s, i));
}

static void
add_col_int(struct jw *w, const char *key, struct dbq *s, int i)
{
	if (db_is_null(s, i))
		jw_null(w, key);
	else
		jw_int(w, key, db_int(s, i));
}

/*
 * A JSON column goes out as the text the store wrote (every writer stores
 * jx_print output), copied as it is: parsing it only to print it again was
 * most of the cost of a sync page.
 */
static void
add_col_json(struct jw *w, const char *key, struct dbq *s, int i)
{
	const char *t = col_text(s, i);

	jw_raw(w, key, t != NULL && *t != '\0' ? t : NULL);
}

/* An object or array column, empty when absent. */
static void
add_col_json_or(struct jw *w, const char *key, struct dbq *s, int i,
    const char *empty)
{
	const char *t = col_text(s, i);

	jw_raw(w, key, t != NULL && *t != '\0' && strcmp(t, "null") != 0 ?
	    t : empty);
}

static void
entity_message(struct jw *o, struct dbq *s, int brief)
{
	const char *wa;

	add_col_int(o, "conversation_id", s, 0);
	add_col_str(o, "number", s, 1);
	add_col_str(o, "wamid", s, 2);
	add_col_str(o, "direction", s, 3);
	add_col_str(o, "type", s, 4);
	jw_bool(o, "unknown_type", (int)db_int(s, 5));
	add_col_int(o, "timestamp", s, 6);
	add_col_int(o, "received_at", s, 7);
	add_col_str(o, "target_wamid", s, 8);
	add_col_str(o, "text", s, 9);
	add_col_json(o, "media", s, 10);
	wa = col_text(s, 11);
	/* In sync, a plain text's object is left out: a third of its bytes,
	 * and nothing the entity does not say (the store keeps it). */
	if (brief && wa != NULL && wa_text_redundant(wa, strlen(wa),
	    col_text(s, 9)))
		wa = NULL;
	jw_raw(o, "wa", wa != NULL && *wa != '\0' ? wa : NULL);
	add_col_str(o, "status", s, 12);
	add_col_int(o, "status_at", s, 13);
	add_col_json(o, "failure", s, 14);
	add_col_str(o, "reaction", s, 15);
	add_col_str(o, "edited_text", s, 16);
	jw_bool(o, "revoked", (int)db_int(s, 17));
	add_col_int(o, "order_id", s, 18);
	add_col_int(o, "agent_id", s, 19);
	add_col_str(o, "client_id", s, 20);
}

static void
entity_conversation(struct jw *o, struct dbq *s, int brief)
{
	add_col_str(o, "number", s, 1);
	add_col_int(o, "contact_id", s, 2);
	add_col_str(o, "status", s, 3);
	add_col_int(o, "snoozed_until", s, 4);
	add_col_int(o, "assignee_id", s, 5);
	add_col_int(o, "last_inbound_at", s, 6);
	add_col_int(o, "last_activity_at", s, 7);
	add_col_int(o, "last_message_id", s, 8);
	add_col_int(o, "created_at", s, 9);
	add_col_json_or(o, "labels", s, 10, "[]");
	add_col_json_or(o, "read_by", s, 11, "{}");
}

static void
entity_contact(struct jw *o, struct dbq *s, int brief)
{
	add_col_str(o, "number", s, 0);
	add_col_str(o, "wa_id", s, 1);
	add_col_str(o, "user_id", s, 2);
	add_col_str(o, "parent_user_id", s, 3);
	add_col_str(o, "username", s, 4);
	add_col_str(o, "profile_name", s, 5);
	add_col_json(o, "previous_wa_ids", s, 6);
	add_col_int(o, "created_at", s, 7);
	add_col_int(o, "updated_at", s, 8);
	add_col_str(o, "display_name", s, 9);
	add_col_json_or(o, "attributes", s, 10, "{}");
}

static void
entity_order(struct jw *o, struct dbq *s, int brief)
{
	add_col_str(o, "number", s, 0);
	add_col_int(o, "contact_id", s, 1);
	add_col_int(o, "conversation_id", s, 2);
	add_col_int(o, "message_id", s, 3);
	add_col_str(o, "catalog_id", s, 4);
	add_col_str(o, "text", s, 5);
	add_col_json(o, "items", s, 6);
	add_col_str(o, "currency", s, 7);
	add_col_str(o, "total", s, 8);
	add_col_str(o, "status", s, 9);
	add_col_int(o, "created_at", s, 10);
	add_col_int(o, "updated_at", s, 11);
}

static void
entity_note(struct jw *o, struct dbq *s, int brief)
{
	add_col_int(o, "conversation_id", s, 0);
	add_col_int(o, "agent_id", s, 1);
	add_col_str(o, "body", s, 2);
	add_col_int(o, "created_at", s, 3);
	add_col_json_or(o, "mentions", s, 4, "[]");
}

static void
entity_agent(struct jw *o, struct dbq *s, int brief)
{
	add_col_str(o, "name", s, 0);
	add_col_str(o, "role", s, 1);
	add_col_int(o, "created_at", s, 2);
	add_col_int(o, "revoked_at", s, 3);
}

static void
entity_template(struct jw *o, struct dbq *s, int brief)
{
	add_col_str(o, "waba_id", s, 0);
	add_col_str(o, "template_id", s, 1);
	add_col_str(o, "name", s, 2);
	add_col_str(o, "language", s, 3);
	add_col_str(o, "status", s, 4);
	add_col_str(o, "reason", s, 5);
	add_col_str(o, "category", s, 6);
	add_col_int(o, "updated_at", s, 7);
	add_col_json(o, "components", s, 8);
	add_col_str(o, "parameter_format", s, 9);
}

static void
entity_history(struct jw *o, struct dbq *s, int brief)
{
	add_col_int(o, "conversation_id", s, 0);
	add_col_int(o, "agent_id", s, 1);
	add_col_str(o, "action", s, 2);
	add_col_str(o, "reason", s, 3);
	add_col_json_or(o, "details", s, 4, "{}");
	add_col_str(o, "text", s, 5);
	add_col_int(o, "created_at", s, 6);
}

static void
entity_label(struct jw *o, struct dbq *s, int brief)
{
	add_col_str(o, "name", s, 0);
	add_col_str(o, "color", s, 1);
	add_col_int(o, "created_at", s, 2);
	add_col_int(o, "updated_at", s, 3);
}

static void
entity_canned(struct jw *o, struct dbq *s, int brief)
{
	add_col_str(o, "shortcut", s, 0);
	add_col_str(o, "text", s, 1);
	add_col_int(o, "agent_id", s, 2);
	add_col_int(o, "created_at", s, 3);
	add_col_int(o, "updated_at", s, 4);
}

static const struct {
	const char *kind;
	enum stmt stmt;
	void (*build)(struct jw *, struct dbq *, int brief);
} entity_kinds[] = {
	{ STORE_CONVERSATION, S_ENTITY_CONVERSATION, entity_conversation },
	{ STORE_MESSAGE, S_ENTITY_MESSAGE, entity_message },
	{ STORE_CONTACT, S_ENTITY_CONTACT, entity_contact },
	{ STORE_ORDER, S_ENTITY_ORDER, entity_order },
	{ STORE_NOTE, S_ENTITY_NOTE, entity_note },
	{ STORE_AGENT, S_ENTITY_AGENT, entity_agent },
	{ STORE_TEMPLATE, S_ENTITY_TEMPLATE, entity_template },
	{ STORE_HISTORY, S_ENTITY_HISTORY, entity_history },
	{ STORE_LABEL, S_ENTITY_LABEL, entity_label },
	{ STORE_CANNED, S_ENTITY_CANNED, entity_canned },
};

/* An entity written to w; brief: as sync serves it (see entity_message). */
static int
entity_text(struct store *st, const char *kind, int64_t id, struct jw *w,
    const char *key, int brief)
{
	struct dbq *s;

	for (size_t i = 0; i < sizeof entity_kinds / sizeof entity_kinds[0];
	    i++) {
		if (strcmp(entity_kinds[i].kind, kind) != 0)
			continue;
		s = st_get(st, entity_kinds[i].stmt);
		db_bind_int(s, 1, id);
		if (st_row(st, s) != 1)
			return -1;
		/* Kind and id first, so every entity reads the same way. */
		jw_object(w, key);
		jw_string(w, "kind", kind);
		jw_int(w, "id", id);
		entity_kinds[i].build(w, s, brief);
		jw_object_end(w);
		st_reset(s);
		return 0;
	}
	return -1;
}

int
store_entity_text(struct store *st, const char *kind, int64_t id,
    struct jw *w, const char *key)
{
	return entity_text(st, kind, id, w, key, 1);
}

cJSON *
store_entity(struct store *st, const char *kind, int64_t id)
{
	struct buf b;
	struct jw w;
	cJSON *o = NULL;

	buf_init(&b);
	jw_init(&w, &b);
	if (entity_text(st, kind, id, &w, NULL, 0) == 0)
		o = cJSON_ParseWithLength(b.data, b.len);
	buf_free(&b);
	return o;
}

int
store_changes(struct store *st, int64_t since, int64_t limit,
    int (*fn)(void *, const char *, int64_t, int64_t, int), void *arg)
{
	struct dbq *s = st_get(st, S_CHANGES);
	struct change {
		char kind[16];
		int64_t id, seq;
		int deleted;
	} *rows = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	db_bind_int(s, 1, since);
	db_bind_int(s, 2, limit);
	while ((rc = db_step(s)) == ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			rows = xrealloc(rows, cap * sizeof *rows);
		}
		snprintf(rows[n].kind, sizeof rows[n].kind, "%s",
		    col_text(s, 0));
		rows[n].id = db_int(s, 1);
		rows[n].seq = db_int(s, 2);
		rows[n].deleted = (int)db_int(s, 3);
		n++;
	}
	st_reset(s);
	rc = rc == DONE ? 0 : -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = fn(arg, rows[i].kind, rows[i].id, rows[i].seq,
		    rows[i].deleted);
	free(rows);
	return rc;
}

int
store_message_id_by_wamid(struct store *st, const char *wamid, int64_t *id)
{
	struct dbq *s = st_get(st, S_MSG_BY_WAMID);
	int rc;

	*id = 0;
	bind_text(s, 1, wamid);
	rc = st_row(st, s);
	if (rc == 1) {
		*id = db_int(s, 0);
		st_reset(s);
	}
	return rc < 0 ? -1 : 0;
}

cJSON *
store_counts(struct store *st)
{
	static const char *tables[] = { "webhooks", "events", "quarantine",
		"contacts", "conversations", "messages", "statuses", "orders",
		"notes", "agents", "templates", "changes", "media",
		"read_receipts", "history", "labels", "canned_replies", NULL };
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; tables[i] != NULL; i++) {
		char sql[64];
		struct dbq *s;

		snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
		s = prep(st, sql);
		if (db_step(s) == 1)
			jx_add_int(o, tables[i], db_int(s, 0));
		db_finalize(s);
	}
	return o;
}

/*
 * The agent API's side of the store: readers for sync and streams, agents
 * by token, and the writes agents make. Reader handles are separate
 * connections, one per thread, that see only committed data.
 */

int
store_open_reader(const char *url, struct store **out, char **cause)
{
	struct store *st = xcalloc(1, sizeof *st);
	int version;

	if (db_open(url, DB_READONLY, &st->db, cause) != 0) {
		free(st);
		return -1;
	}
	if (schema_version(st, &version) != 0 || version != NMIGRATIONS) {
		*cause = xasprintf("%s: schema %d, expected %d",
		    db_name(st->db), version, NMIGRATIONS);
		store_close(st);
		return -1;
	}
	if (load_epoch(st, 1, cause) != 0) {
		store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

int
store_read_begin(struct store *st)
{
	/* One snapshot for the whole read: a page of changes and the
	 * entities it names agree. */
	return exec(st, db_kind(st->db) == DB_POSTGRES ? "BEGIN ISOLATION "
	    "LEVEL REPEATABLE READ, READ ONLY" : "BEGIN", NULL);
}

void
store_read_end(struct store *st)
{
	exec(st, "COMMIT", NULL);
}

int
store_head(struct store *st, int64_t *head, int64_t *horizon)
{
	struct dbq *s = prep(st, "SELECT coalesce((SELECT max(seq) FROM "
	    "changes), 0), coalesce((SELECT CAST(v AS BIGINT) FROM meta "
	    "WHERE k = 'horizon'), 0)");
	int rc = -1;

	if (db_step(s) == 1) {
		*head = db_int(s, 0);
		*horizon = db_int(s, 1);
		rc = 0;
	}
	db_finalize(s);
	return rc;
}

int
store_listen(struct store *st)
{
	if (db_kind(st->db) != DB_POSTGRES)
		return -1;
	return exec(st, "LISTEN glivi_changes; LISTEN glivi_peers", NULL);
}

struct doorbell {
	int rang;
	void (*peer)(void *, const char *);
	void *arg;
};

static void
on_notify(void *arg, const char *channel, const char *payload)
{
	struct doorbell *d = arg;

	if (strcmp(channel, "glivi_changes") == 0)
		d->rang++;
	else if (strcmp(channel, "glivi_peers") == 0 && d->peer != NULL)
		d->peer(d->arg, payload);
}

int
store_doorbell(struct store *st, int ms, int wake_fd,
    void (*peer)(void *, const char *), void *arg)
{
	struct doorbell d = { 0, peer, arg };
	struct pollfd p[2];

	/* What libpq read already (with a query's answer) comes first. */
	if (db_notifications(st->db, on_notify, &d) < 0)
		return -1;
	if (d.rang > 0)
		return d.rang;
	p[0].fd = db_socket(st->db);
	p[0].events = POLLIN;
	p[1].fd = wake_fd;
	p[1].events = POLLIN;
	p[0].revents = p[1].revents = 0;
	if (p[0].fd < 0)
		return -1;
	if (poll(p, wake_fd >= 0 ? 2 : 1, ms) <= 0 || p[0].revents == 0)
		return 0;
	if (db_notifications(st->db, on_notify, &d) < 0)
		return -1;
	return d.rang;
}

int
store_peer_send(struct store *st, const char *text)
{
	struct dbq *s = prep(st, "SELECT pg_notify('glivi_peers', ?1)");

	bind_text(s, 1, text);
	return prep_done(st, s);
}

struct store_lease {
	struct db *db; /* NULL: SQLite, always held */
	char *url;
	int64_t key;
	int held;
};

struct store_lease *
store_lease_new(const char *url, const char *name)
{
	struct store_lease *l = xcalloc(1, sizeof *l);
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (const char *p = name; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	l->key = (int64_t)(h >> 1);
	if (db_url_kind(url, NULL) == DB_POSTGRES)
		l->url = xstrdup(url);
	return l;
}

int
store_lease_held(struct store_lease *l)
{
	struct dbq *s;
	char *cause = NULL;
	int rc;

	if (l->url == NULL)
		return 1;
	if (l->db == NULL && db_open(l->url, 0, &l->db, &cause) != 0) {
		log_warn("store: lease: %s", cause);
		free(cause);
		return 0;
	}
	if (db_broken(l->db))
		l->held = 0; /* the session, and its lock, are gone */
	/* Held: ask anyway, which notices a connection that broke. */
	s = db_prepare(l->db, l->held ? "SELECT 1" :
	    "SELECT pg_try_advisory_lock(?1)");
	if (s == NULL)
		return 0;
	if (!l->held)
		db_bind_int(s, 1, l->key);
	rc = db_step(s);
	if (rc == ROW && db_int(s, 0))
		l->held = 1;
	else if (rc != ROW)
		l->held = 0;
	db_finalize(s);
	return l->held;
}

void
store_lease_free(struct store_lease *l)
{
	if (l == NULL)
		return;
	db_close(l->db);
	free(l->url);
	free(l);
}

int
store_agent_by_token_hash(struct store *st, const unsigned char hash[32],
    struct store_agent *a)
{
	struct dbq *s = prep(st, "SELECT id, name, role, revoked_at IS NOT "
	    "NULL, token_hash FROM agents WHERE token_hash = ?1");
	const void *p;
	size_t len;
	int rc;

	memset(a, 0, sizeof *a);
	db_bind_blob(s, 1, hash, 32);
	rc = db_step(s);
	if (rc == ROW && (p = db_blob(s, 4, &len)) != NULL && len == 32) {
		a->id = db_int(s, 0);
		snprintf(a->name, sizeof a->name, "%s", col_text(s, 1));
		a->admin = strcmp(col_text(s, 2), "admin") == 0;
		a->revoked = (int)db_int(s, 3);
		memcpy(a->hash, p, 32);
		rc = 1;
	} else
		rc = rc == DONE ? 0 : -1;
	db_finalize(s);
	return rc;
}

/* The number a query gives for one text key: 0 when no row, -1 on error. */
static int
number_for(struct store *st, const char *sql, const char *key, int64_t *n)
{
	struct dbq *s = prep(st, sql);
	int rc;

	*n = 0;
	bind_text(s, 1, key);
	rc = db_step(s);
	if (rc == ROW)
		*n = db_int(s, 0);
	db_finalize(s);
	return rc == ROW || rc == DONE ? 0 : -1;
}

int
store_agent_id_by_name(struct store *st, const char *name, int64_t *id)
{
	return number_for(st, "SELECT id FROM agents WHERE name = ?1 AND "
	    "revoked_at IS NULL", name, id);
}

int
store_conversation_info(struct store *st, int64_t id,
    struct store_conversation_info *c)
{
	struct dbq *s = prep(st, "SELECT c.number_id, c.contact_id, "
	    "coalesce(c.last_inbound_at, 0), c.status, k.wa_id, k.user_id "
	    "FROM conversations c JOIN contacts k ON k.id = c.contact_id "
	    "WHERE c.id = ?1");
	int rc;

	memset(c, 0, sizeof *c);
	db_bind_int(s, 1, id);
	rc = db_step(s);
	if (rc == ROW) {
		c->id = id;
		c->number_id = db_int(s, 0);
		c->contact_id = db_int(s, 1);
		c->last_inbound_at = db_int(s, 2);
		snprintf(c->status, sizeof c->status, "%s", col_text(s, 3));
		c->has_recipient = col_text(s, 4) != NULL ||
		    col_text(s, 5) != NULL;
	}
	db_finalize(s);
	if (rc == ROW)
		return 1;
	return rc == DONE ? 0 : -1;
}

int
store_message_in_conversation(struct store *st, int64_t id,
    int64_t conversation_id, char **wamid)
{
	struct dbq *s = prep(st, "SELECT wamid FROM messages WHERE id = ?1 "
	    "AND conversation_id = ?2");
	int rc;

	*wamid = NULL;
	db_bind_int(s, 1, id);
	db_bind_int(s, 2, conversation_id);
	rc = db_step(s);
	if (rc == ROW && col_text(s, 0) != NULL)
		*wamid = xstrdup(col_text(s, 0));
	db_finalize(s);
	if (rc == ROW)
		return 1;
	return rc == DONE ? 0 : -1;
}

int
store_outbound_add(struct store *st, const struct store_outbound *o,
    int64_t *id)
{
	struct dbq *s = prep(st, "INSERT INTO messages(number_id, "
	    "conversation_id, direction, type, ts, received_at, target_wamid, "
	    "text, media, wa, status, status_at, agent_id, client_id) "
	    "VALUES(?1, ?2, 'out', ?3, ?4, ?4, ?5, ?6, ?7, ?8, 'queued', ?4, "
	    "?9, ?10) RETURNING id");

	db_bind_int(s, 1, o->number_id);
	db_bind_int(s, 2, o->conversation_id);
	bind_text(s, 3, o->type);
	db_bind_int(s, 4, o->now);
	bind_text(s, 5, o->target_wamid);
	bind_text(s, 6, o->text);
	bind_json(s, 7, o->media);
	bind_json(s, 8, o->request);
	db_bind_int(s, 9, o->agent_id);
	bind_text(s, 10, o->client_id);
	if (prep_insert(st, s, id) != 0)
		return -1;
	if (store_stamp(st, STORE_MESSAGE, *id) != 0)
		return -1;
	return store_conversation_activity(st, o->conversation_id, o->now, 0,
	    *id);
}

/*
 * The columns agents may set, by kind. set_column builds its statement from
 * this table only, never from input.
 */
static const struct {
	const char *kind, *table, *column;
	int json;
} settable[] = {
	{ STORE_CONVERSATION, "conversations", "status", 0 },
	{ STORE_CONVERSATION, "conversations", "snoozed_until", 0 },
	{ STORE_CONVERSATION, "conversations", "assignee_id", 0 },
	{ STORE_CONVERSATION, "conversations", "labels", 1 },
	{ STORE_CONVERSATION, "conversations", "read_by", 1 },
	{ STORE_CONTACT, "contacts", "display_name", 0 },
	{ STORE_CONTACT, "contacts", "attributes", 1 },
	{ STORE_ORDER, "orders", "items", 1 },
	{ STORE_ORDER, "orders", "currency", 0 },
	{ STORE_ORDER, "orders", "total", 0 },
	{ STORE_ORDER, "orders", "status", 0 },
};

int
store_set(struct store *st, const char *kind, int64_t id, const char *column,
    const struct store_value *v)
{
	struct dbq *s;
	char *sql;
	int rc;

	for (size_t i = 0; i < sizeof settable / sizeof settable[0]; i++) {
		if (strcmp(settable[i].kind, kind) != 0 ||
		    strcmp(settable[i].column, column) != 0)
			continue;
		sql = xasprintf("UPDATE %s SET %s = ?1%s WHERE id = ?2",
		    settable[i].table, column,
		    strcmp(kind, STORE_CONVERSATION) == 0 ? "" :
		    ", updated_at = unixepoch()");
		s = prep(st, sql);
		free(sql);
		if (v->json != NULL)
			bind_json(s, 1, v->json);
		else if (v->text != NULL)
			bind_text(s, 1, v->text);
		else if (v->has_int)
			db_bind_int(s, 1, v->i);
		else
			db_bind_null(s, 1);
		db_bind_int(s, 2, id);
		rc = db_step(s);
		db_finalize(s);
		if (rc != DONE)
			return -1;
		return store_stamp(st, kind, id);
	}
	log_error("store: %s.%s is not settable", kind, column);
	abort();
}

int
store_note_add(struct store *st, int64_t conversation_id, int64_t agent_id,
    const char *body, int64_t now, int64_t *id)
{
	struct dbq *s = prep(st, "INSERT INTO notes(conversation_id, "
	    "agent_id, body, created_at) VALUES(?1, ?2, ?3, ?4) RETURNING id");

	db_bind_int(s, 1, conversation_id);
	db_bind_int(s, 2, agent_id);
	bind_text(s, 3, body);
	db_bind_int(s, 4, now);
	if (prep_insert(st, s, id) != 0)
		return -1;
	return store_stamp(st, STORE_NOTE, *id);
}

int
store_note_delete(struct store *st, int64_t id, int64_t *agent_id)
{
	struct dbq *s = prep(st, "DELETE FROM notes WHERE id = ?1 "
	    "RETURNING agent_id");
	int rc;

	db_bind_int(s, 1, id);
	rc = db_step(s);
	if (rc == ROW)
		*agent_id = db_int(s, 0);
	db_finalize(s);
	if (rc != ROW)
		return rc == DONE ? 0 : -1;
	return store_tombstone(st, STORE_NOTE, id) == 0 ? 1 : -1;
}

int
store_tombstone(struct store *st, const char *kind, int64_t id)
{
	struct dbq *s = prep(st, "INSERT INTO changes(kind, entity_id, seq, "
	    "deleted) VALUES(?1, ?2, ?3, 1) ON CONFLICT(kind, entity_id) DO "
	    "UPDATE SET seq = excluded.seq, deleted = 1");
	int rc;

	db_bind_text(s, 1, kind);
	db_bind_int(s, 2, id);
	db_bind_int(s, 3, ++st->seq);
	rc = db_step(s);
	db_finalize(s);
	return rc == DONE ? 0 : -1;
}

int
store_idempotency_get(struct store *st, int64_t agent_id, const char *key,
    unsigned char hash[32], int *status, char **response)
{
	struct dbq *s = prep(st, "SELECT request_hash, status, response "
	    "FROM idempotency WHERE agent_id = ?1 AND key = ?2");
	size_t len;
	int rc;

	*response = NULL;
	db_bind_int(s, 1, agent_id);
	bind_text(s, 2, key);
	rc = db_step(s);
	if (rc == ROW) {
		const void *p = db_blob(s, 0, &len);

		if (p != NULL && len == 32)
			memcpy(hash, p, 32);
		*status = (int)db_int(s, 1);
		*response = xstrdup(col_text(s, 2));
	}
	db_finalize(s);
	if (rc == ROW)
		return 1;
	return rc == DONE ? 0 : -1;
}

int
store_idempotency_put(struct store *st, int64_t agent_id, const char *key,
    const unsigned char hash[32], int status, const char *response,
    int64_t now)
{
	struct dbq *s = prep(st, "INSERT INTO idempotency(agent_id, key, "
	    "request_hash, status, response, created_at) VALUES(?1, ?2, ?3, "
	    "?4, ?5, ?6)");
	int rc;

	db_bind_int(s, 1, agent_id);
	bind_text(s, 2, key);
	db_bind_blob(s, 3, hash, 32);
	db_bind_int(s, 4, status);
	bind_text(s, 5, response);
	db_bind_int(s, 6, now);
	rc = db_step(s);
	db_finalize(s);
	return rc == DONE ? 0 : -1;
}

int
store_idempotency_expire(struct store *st, int64_t older_than, int64_t *n)
{
	struct dbq *s = prep(st, "DELETE FROM idempotency WHERE (agent_id, key) "
	    "IN (SELECT agent_id, key FROM idempotency WHERE created_at < ?1 "
	    "LIMIT 5000)");
	int rc;

	db_bind_int(s, 1, older_than);
	rc = db_step(s);
	db_finalize(s);
	*n = db_changes(st->db);
	return rc == DONE ? 0 : -1;
}

int
store_order_create(struct store *st, const struct store_order *o,
    const char *status, int64_t *id)
{
	if (store_order_add(st, o, id) != 0)
		return -1;
	if (status == NULL)
		return 0;
	struct store_value v = { .text = status };

	return store_set(st, STORE_ORDER, *id, "status", &v);
}

int
store_contact_exists(struct store *st, int64_t id, int64_t *number_id)
{
	struct dbq *s = prep(st, "SELECT number_id FROM contacts WHERE "
	    "id = ?1");
	int rc;

	db_bind_int(s, 1, id);
	rc = db_step(s);
	if (rc == ROW && number_id != NULL)
		*number_id = db_int(s, 0);
	db_finalize(s);
	if (rc == ROW)
		return 1;
	return rc == DONE ? 0 : -1;
}

/* The one number a query gives (0 when it fails). */
static int
count_one(struct store *st, const char *sql, int64_t *n)
{
	struct dbq *s = prep(st, sql);
	int rc = db_step(s);

	*n = rc == ROW ? db_int(s, 0) : 0;
	db_finalize(s);
	return rc == ROW ? 0 : -1;
}

int
store_outbox_depth(struct store *st, int64_t *n)
{
	return count_one(st, "SELECT count(*) FROM messages WHERE "
	    "status IN ('queued', 'sending')", n);
}

/* The outbound sender's side. */

int
store_outbound_due(struct store *st, int64_t now, int64_t after_id,
    struct store_send *out, size_t max, size_t *n)
{
	struct dbq *s = st_get(st, S_OUTBOUND_DUE);
	int rc;

	*n = 0;
	db_bind_int(s, 1, now);
	db_bind_int(s, 2, (int64_t)max);
	db_bind_int(s, 3, after_id);
	while ((rc = db_step(s)) == ROW && *n < max) {
		struct store_send *m = &out[(*n)++];

		memset(m, 0, sizeof *m);
		m->id = db_int(s, 0);
		snprintf(m->phone_number_id, sizeof m->phone_number_id, "%s",
		    col_text(s, 1));
		snprintf(m->wa_id, sizeof m->wa_id, "%s",
		    col_text(s, 2) ? col_text(s, 2) : "");
		snprintf(m->user_id, sizeof m->user_id, "%s",
		    col_text(s, 3) ? col_text(s, 3) : "");
		snprintf(m->type, sizeof m->type, "%s", col_text(s, 4));
		m->request = col_text(s, 5) ? xstrdup(col_text(s, 5)) : NULL;
		m->target_wamid = col_text(s, 6) ? xstrdup(col_text(s, 6)) :
		    NULL;
		m->attempts = (int)db_int(s, 7);
		m->last_inbound_at = db_int(s, 8);
		m->number_id = db_int(s, 9);
	}
	st_reset(s);
	return rc == ROW || rc == DONE ? 0 : -1;
}

void
store_send_free(struct store_send *m)
{
	free(m->request);
	free(m->target_wamid);
	m->request = NULL;
	m->target_wamid = NULL;
}

int
store_outbound_mark(struct store *st, int64_t id, const char *status,
    int64_t next_attempt_at, int64_t sending_since, int count_attempt,
    const cJSON *failure)
{
	/* Only rows still in the sender's hands: a status webhook that
	 * claimed the message meanwhile has the last word. */
	struct dbq *s = st_get(st, S_OUTBOUND_MARK);
	int rc;

	db_bind_int(s, 1, id);
	bind_text(s, 2, status);
	bind_id(s, 3, next_attempt_at);
	bind_id(s, 4, sending_since);
	db_bind_int(s, 5, count_attempt);
	bind_json(s, 6, failure);
	rc = db_step(s);
	st_reset(s);
	if (rc != DONE)
		return -1;
	if (db_changes(st->db) == 0)
		return 0;
	return store_stamp(st, STORE_MESSAGE, id);
}

int
store_outbound_accepted(struct store *st, int64_t id, int64_t number_id,
    const char *wamid)
{
	struct dbq *s;
	int64_t other = 0, conv;
	const char *status = NULL;
	int rc;

	/* A status webhook may have come first and made a stand-in under
	 * this wamid: fold it into the real message. */
	if (store_message_find(st, number_id, wamid, &other, &conv) != 0)
		return -1;
	if (other != 0 && other != id) {
		if (store_message_status(st, other, &status) != 0)
			return -1;
		s = st_get(st, S_MSG_DELETE_STANDIN);
		db_bind_int(s, 1, other);
		rc = db_step(s);
		st_reset(s);
		if (rc != DONE || store_tombstone(st, STORE_MESSAGE,
		    other) != 0)
			return -1;
	}
	/* Accepted: the reasons of earlier transient refusals are history,
	 * not a failure to show beside the ticks. */
	s = st_get(st, S_OUTBOUND_ACCEPTED);
	db_bind_int(s, 1, id);
	bind_text(s, 2, wamid);
	bind_text(s, 3, status != NULL && wa_status_parse(status) >
	    WA_STATUS_SENT ? status : NULL);
	rc = db_step(s);
	st_reset(s);
	if (rc != DONE)
		return -1;
	return store_stamp(st, STORE_MESSAGE, id);
}

int
store_outbound_stale(struct store *st, int64_t older_than, int64_t *ids,
    size_t max, size_t *n)
{
	struct dbq *s = prep(st, "SELECT id FROM messages WHERE status IN "
	    "('queued', 'sending') AND status = 'sending' AND "
	    "coalesce(sending_since, 0) < ?1 ORDER BY id LIMIT ?2");
	int rc = ROW;

	*n = 0;
	db_bind_int(s, 1, older_than);
	db_bind_int(s, 2, (int64_t)max);
	while (*n < max && (rc = db_step(s)) == ROW)
		ids[(*n)++] = db_int(s, 0);
	/* A failed read is not "nothing stale": the sender would take it
	 * for that and never settle what it could not see. */
	if (rc != ROW && rc != DONE) {
		log_error("store: stale: %s", db_error(st->db));
		*n = 0;
	}
	db_finalize(s);
	return rc == ROW || rc == DONE ? 0 : -1;
}

int
store_message_claim_wamid(struct store *st, int64_t number_id, int64_t id,
    const char *wamid)
{
	struct dbq *s = st_get(st, S_MSG_CLAIM);
	int rc;

	db_bind_int(s, 1, id);
	db_bind_int(s, 2, number_id);
	bind_text(s, 3, wamid);
	rc = db_step(s);
	st_reset(s);
	if (rc != DONE)
		return -1;
	return db_changes(st->db) > 0 ? 1 : 0;
}

/* -- read receipts owed to WhatsApp ------------------------------------ */

int
store_read_receipt_queue(struct store *st, int64_t conversation_id,
    int64_t upto, int64_t now, int *queued)
{
	/* The newest inbound message at or before upto (by timestamp, then
	 * arrival): reactions, edits and revokes are not messages a reader
	 * marks. */
	struct dbq *s = prep(st, "SELECT m.id, m.wamid, m.ts, m.number_id "
	    "FROM messages m WHERE m.conversation_id = ?1 AND "
	    "m.direction = 'in' AND m.wamid IS NOT NULL AND "
	    "m.type NOT IN ('reaction', 'edit', 'revoke') AND (?2 = 0 OR "
	    "(m.ts, m.id) <= (SELECT ts, id FROM messages WHERE id = ?2)) "
	    "ORDER BY m.ts DESC, m.id DESC LIMIT 1");
	int64_t id, ts, number_id;
	char *wamid;
	int rc;

	*queued = 0;
	db_bind_int(s, 1, conversation_id);
	db_bind_int(s, 2, upto);
	rc = db_step(s);
	if (rc != ROW) {
		db_finalize(s);
		return rc == DONE ? 0 : -1;
	}
	id = db_int(s, 0);
	wamid = xstrdup(col_text(s, 1));
	ts = db_int(s, 2);
	number_id = db_int(s, 3);
	db_finalize(s);

	/* Only a newer message replaces what is owed or already sent, so
	 * several reads coalesce and nothing is marked twice. */
	s = prep(st, "INSERT INTO read_receipts(conversation_id, number_id, "
	    "message_id, wamid, ts, state, updated_at) VALUES(?1, ?2, ?3, ?4, "
	    "?5, 'queued', ?6) ON CONFLICT(conversation_id) DO UPDATE SET "
	    "number_id = excluded.number_id, message_id = excluded.message_id, "
	    "wamid = excluded.wamid, ts = excluded.ts, state = 'queued', "
	    "attempts = 0, next_attempt_at = NULL, "
	    "updated_at = excluded.updated_at WHERE (excluded.ts, "
	    "excluded.message_id) > (read_receipts.ts, read_receipts.message_id)");
	db_bind_int(s, 1, conversation_id);
	db_bind_int(s, 2, number_id);
	db_bind_int(s, 3, id);
	bind_text(s, 4, wamid);
	db_bind_int(s, 5, ts);
	db_bind_int(s, 6, now);
	rc = db_step(s);
	db_finalize(s);
	free(wamid);
	if (rc != DONE)
		return -1;
	*queued = db_changes(st->db) > 0;
	return 0;
}

int
store_read_receipts_due(struct store *st, int64_t now, int64_t after,
    struct store_receipt *out, size_t max, size_t *n)
{
	struct dbq *s = st_get(st, S_RECEIPTS_DUE);
	int rc;

	*n = 0;
	db_bind_int(s, 1, now);
	db_bind_int(s, 2, after);
	db_bind_int(s, 3, (int64_t)max);
	while ((rc = db_step(s)) == ROW && *n < max) {
		struct store_receipt *r = &out[(*n)++];

		memset(r, 0, sizeof *r);
		r->conversation_id = db_int(s, 0);
		r->number_id = db_int(s, 1);
		r->message_id = db_int(s, 2);
		snprintf(r->wamid, sizeof r->wamid, "%s", col_text(s, 3));
		r->attempts = (int)db_int(s, 4);
		snprintf(r->phone_number_id, sizeof r->phone_number_id, "%s",
		    col_text(s, 5));
	}
	st_reset(s);
	return rc == ROW || rc == DONE ? 0 : -1;
}

int
store_read_receipt_mark(struct store *st, int64_t conversation_id,
    int64_t message_id, const char *state, int count_attempt,
    int64_t next_attempt_at, int64_t now)
{
	/* Only the receipt the sender sent: a newer read queued meanwhile
	 * stays owed. */
	struct dbq *s = st_get(st, S_RECEIPT_MARK);
	int rc;

	db_bind_int(s, 1, conversation_id);
	db_bind_int(s, 2, message_id);
	bind_text(s, 3, state);
	db_bind_int(s, 4, count_attempt);
	bind_id(s, 5, next_attempt_at);
	db_bind_int(s, 6, now);
	rc = db_step(s);
	st_reset(s);
	return rc == DONE ? 0 : -1;
}

int
store_read_receipts_queued(struct store *st, int64_t *n)
{
	return count_one(st, "SELECT count(*) FROM read_receipts WHERE "
	    "state = 'queued'", n);
}

/* -- templates as Meta lists them --------------------------------------- */

int
store_template_sync(struct store *st, const struct store_template *t,
    int64_t now, int *changed)
{
	/* Written, and stamped, only when something differs: a refresh that
	 * finds nothing new changes nothing a client syncs. Meta's list does
	 * not always say why a template was rejected or paused; the reason a
	 * status webhook gave stays until the status changes. */
	struct dbq *s = prep(st, "INSERT INTO templates AS t(waba_id, "
	    "template_id, name, language, status, reason, category, updated_at, components, "
	    "parameter_format) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
	    "ON CONFLICT(waba_id, template_id) DO UPDATE SET "
	    "name = excluded.name, language = excluded.language, "
	    "reason = CASE WHEN excluded.reason IS NOT NULL THEN "
	    "excluded.reason WHEN t.status IS DISTINCT FROM excluded.status "
	    "THEN NULL ELSE t.reason END, status = excluded.status, "
	    "category = excluded.category, components = excluded.components, "
	    "parameter_format = excluded.parameter_format, "
	    "updated_at = excluded.updated_at WHERE "
	    "t.name IS DISTINCT FROM excluded.name OR "
	    "t.language IS DISTINCT FROM excluded.language OR "
	    "t.status IS DISTINCT FROM excluded.status OR "
	    "(excluded.reason IS NOT NULL AND "
	    "t.reason IS DISTINCT FROM excluded.reason) OR "
	    "t.category IS DISTINCT FROM excluded.category OR "
	    "t.components IS DISTINCT FROM excluded.components OR "
	    "t.parameter_format IS DISTINCT FROM excluded.parameter_format "
	    "RETURNING id");
	int64_t id = 0;
	int rc;

	*changed = 0;
	bind_text(s, 1, t->waba_id);
	bind_text(s, 2, t->template_id);
	bind_text(s, 3, t->name);
	bind_text(s, 4, t->language);
	bind_text(s, 5, t->status);
	bind_text(s, 6, t->reason);
	bind_text(s, 7, t->category);
	db_bind_int(s, 8, now);
	bind_json(s, 9, t->components);
	bind_text(s, 10, t->parameter_format);
	rc = db_step(s);
	if (rc == ROW) {
		id = db_int(s, 0);
		rc = db_step(s);
	}
	db_finalize(s);
	if (rc != DONE)
		return -1;
	if (id == 0)
		return 0;
	*changed = 1;
	return store_stamp(st, STORE_TEMPLATE, id);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
store_template_prune(struct store *st, const char *waba_id,
    const char *const *keep, size_t nkeep, int64_t *removed)
{
	struct dbq *s = prep(st, "SELECT id, template_id FROM templates "
	    "WHERE waba_id = ?1");
	int64_t *gone = NULL;
	size_t n = 0, cap = 0;
	int rc;

	/* keep is sorted by the caller (strcmp order). */
	*removed = 0;
	bind_text(s, 1, waba_id);
	while ((rc = db_step(s)) == ROW) {
		const char *tid = col_text(s, 1);

		if (tid != NULL && bsearch(&tid, keep, nkeep, sizeof *keep,
		    cmp_str) != NULL)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			gone = xrealloc(gone, cap * sizeof *gone);
		}
		gone[n++] = db_int(s, 0);
	}
	db_finalize(s);
	if (rc != DONE) {
		free(gone);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		s = prep(st, "DELETE FROM templates WHERE id = ?1");
		db_bind_int(s, 1, gone[i]);
		rc = db_step(s);
		db_finalize(s);
		if (rc != DONE || store_tombstone(st, STORE_TEMPLATE,
		    gone[i]) != 0) {
			free(gone);
			return -1;
		}
		(*removed)++;
	}
	free(gone);
	return 0;
}

int
store_in_transaction(struct store *st)
{
	return db_in_transaction(st->db);
}

/* Media files. */

static void
copy_col(char *dst, size_t len, struct dbq *s, int i)
{
	snprintf(dst, len, "%s", col_text(s, i) ? col_text(s, i) : "");
}

int
store_media_get(struct store *st, const char *id, struct store_media *m)
{
	struct dbq *s = prep(st, "SELECT direction, mime_type, sha256, "
	    "size, coalesce(agent_id, 0), meta_id, coalesce(meta_number_id, 0), "
	    "coalesce(meta_uploaded_at, 0), created_at FROM media "
	    "WHERE id = ?1");
	int rc;

	memset(m, 0, sizeof *m);
	bind_text(s, 1, id);
	rc = db_step(s);
	if (rc == ROW) {
		snprintf(m->id, sizeof m->id, "%s", id);
		copy_col(m->direction, sizeof m->direction, s, 0);
		copy_col(m->mime_type, sizeof m->mime_type, s, 1);
		copy_col(m->sha256, sizeof m->sha256, s, 2);
		m->size = db_int(s, 3);
		m->agent_id = db_int(s, 4);
		copy_col(m->meta_id, sizeof m->meta_id, s, 5);
		m->meta_number_id = db_int(s, 6);
		m->meta_uploaded_at = db_int(s, 7);
		m->created_at = db_int(s, 8);
	}
	db_finalize(s);
	if (rc == ROW)
		return 1;
	return rc == DONE ? 0 : -1;
}

int
store_media_add(struct store *st, const struct store_media *m)
{
	/* The same id is the same bytes (a fetch done twice, an upload
	 * repeated): the first row stays. */
	struct dbq *s = prep(st, "INSERT INTO media(id, direction, "
	    "mime_type, sha256, size, agent_id, created_at) VALUES(?1, ?2, "
	    "?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO NOTHING");
	int rc;

	bind_text(s, 1, m->id);
	bind_text(s, 2, m->direction);
	bind_text(s, 3, m->mime_type);
	bind_text(s, 4, m->sha256);
	db_bind_int(s, 5, m->size);
	bind_id(s, 6, m->agent_id);
	db_bind_int(s, 7, m->created_at);
	rc = db_step(s);
	db_finalize(s);
	if (rc != DONE) {
		log_error("store: media: %s", db_error(st->db));
		return -1;
	}
	return 0;
}

int
store_media_set_meta_id(struct store *st, const char *id, int64_t number_id,
    const char *meta_id, int64_t at)
{
	struct dbq *s = prep(st, "UPDATE media SET meta_id = ?2, "
	    "meta_number_id = ?3, meta_uploaded_at = ?4 WHERE id = ?1");
	int rc;

	bind_text(s, 1, id);
	bind_text(s, 2, meta_id);
	db_bind_int(s, 3, number_id);
	db_bind_int(s, 4, at);
	rc = db_step(s);
	db_finalize(s);
	return rc == DONE ? 0 : -1;
}

int
store_media_referenced(struct store *st, const char *id,
    struct store_media_ref *ref)
{
	/* The expression is the index's, so this is one index probe. */
	struct dbq *s = prep(st, "SELECT n.phone_number_id, "
	    "json_extract(m.media, '$.mime_type'), "
	    "json_extract(m.media, '$.sha256') FROM messages m "
	    "JOIN numbers n ON n.id = m.number_id "
	    "WHERE json_extract(m.media, '$.id') = ?1 ORDER BY m.id LIMIT 1");
	int rc;

	memset(ref, 0, sizeof *ref);
	bind_text(s, 1, id);
	rc = db_step(s);
	if (rc == ROW) {
		copy_col(ref->phone_number_id, sizeof ref->phone_number_id, s,
		    0);
		if (db_type(s, 1) == DB_TEXT)
			copy_col(ref->mime_type, sizeof ref->mime_type, s, 1);
		if (db_type(s, 2) == DB_TEXT)
			copy_col(ref->sha256, sizeof ref->sha256, s, 2);
	}
	db_finalize(s);
	if (rc == ROW)
		return 1;
	return rc == DONE ? 0 : -1;
}

/*
 * The shared inbox: a conversation's history, labels, canned replies,
 * mentions and snoozes. Rare writes, so one-off statements.
 */

int
store_history_add(struct store *st, const struct store_history *h,
    int64_t *id)
{
	struct dbq *s = prep(st, "INSERT INTO history(conversation_id, "
	    "agent_id, action, reason, details, text, created_at) "
	    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id");

	db_bind_int(s, 1, h->conversation_id);
	bind_id(s, 2, h->agent_id);
	bind_text(s, 3, h->action);
	bind_text(s, 4, h->reason);
	bind_json(s, 5, h->details);
	bind_text(s, 6, h->text);
	db_bind_int(s, 7, h->now);
	if (prep_insert(st, s, id) != 0)
		return -1;
	return store_stamp(st, STORE_HISTORY, *id);
}

int
store_agent_name(struct store *st, int64_t id, char *name, size_t len)
{
	struct dbq *s = prep(st, "SELECT name FROM agents WHERE id = ?1");
	int rc;

	snprintf(name, len, "agent %" PRId64, id);
	db_bind_int(s, 1, id);
	rc = db_step(s);
	if (rc == ROW)
		snprintf(name, len, "%s", col_text(s, 0));
	db_finalize(s);
	if (rc == ROW)
		return 1;
	return rc == DONE ? 0 : -1;
}

int
store_label_find(struct store *st, const char *name, int64_t *id,
    char **canonical)
{
	struct dbq *s = prep(st, "SELECT id, name FROM labels "
	    "WHERE lower(name) = lower(?1)");
	int rc;

	*id = 0;
	if (canonical != NULL)
		*canonical = NULL;
	bind_text(s, 1, name);
	rc = db_step(s);
	if (rc == ROW) {
		*id = db_int(s, 0);
		if (canonical != NULL)
			*canonical = xstrdup(col_text(s, 1));
	}
	db_finalize(s);
	if (rc == ROW)
		return 1;
	return rc == DONE ? 0 : -1;
}

/*
 * Runs the insert (*id 0, RETURNING id) or update of a row whose name is
 * unique, then stamps it: *taken when another row holds the name, nothing
 * changed.
 */
static int
save_named(struct store *st, struct dbq *s, const char *kind, int64_t *id,
    int *taken)
{
	int rc = st_try(st, s, *id == 0 ? id : NULL);

	db_finalize(s);
	if (rc < 0)
		return -1;
	if ((*taken = rc == 1))
		return 0;
	return store_stamp(st, kind, *id);
}

int
store_label_put(struct store *st, int64_t *id, const char *name,
    const char *color, int64_t now, int *taken)
{
	struct dbq *s;

	*taken = 0;
	if (*id == 0)
		s = prep(st, "INSERT INTO labels(name, color, created_at, "
		    "updated_at) VALUES(?1, ?2, ?3, ?3) RETURNING id");
	else {
		s = prep(st, "UPDATE labels SET name = ?1, color = ?2, "
		    "updated_at = ?3 WHERE id = ?4");
		db_bind_int(s, 4, *id);
	}
	bind_text(s, 1, name);
	bind_text(s, 2, color);
	db_bind_int(s, 3, now);
	return save_named(st, s, STORE_LABEL, id, taken);
}

/* Deletes a row of table by id with a tombstone: 1 done, 0 none. */
static int
delete_entity(struct store *st, const char *sql, const char *kind,
    int64_t id)
{
	struct dbq *s = prep(st, sql);
	int rc;

	db_bind_int(s, 1, id);
	rc = db_step(s);
	db_finalize(s);
	if (rc != DONE)
		return -1;
	if (db_changes(st->db) == 0)
		return 0;
	return store_tombstone(st, kind, id) == 0 ? 1 : -1;
}

int
store_label_delete(struct store *st, int64_t id)
{
	return delete_entity(st, "DELETE FROM labels WHERE id = ?1",
	    STORE_LABEL, id);
}

int
store_conversations_labelled(struct store *st, const char *name,
    int64_t **ids, size_t *n)
{
	struct dbq *s = prep(st, db_kind(st->db) == DB_SQLITE ?
	    "SELECT DISTINCT c.id FROM conversations c, "
	    "json_each(c.labels) l WHERE c.labels IS NOT NULL AND "
	    "l.value = ?1 COLLATE NOCASE ORDER BY c.id" :
	    "SELECT DISTINCT c.id FROM conversations c, "
	    "json_array_elements_text(c.labels::json) l(value) "
	    "WHERE c.labels IS NOT NULL AND lower(l.value) = lower(?1) "
	    "ORDER BY c.id");
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	bind_text(s, 1, name);
	while ((rc = db_step(s)) == ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*ids = xrealloc(*ids, cap * sizeof **ids);
		}
		(*ids)[(*n)++] = db_int(s, 0);
	}
	db_finalize(s);
	return rc == DONE ? 0 : -1;
}

int
store_canned_put(struct store *st, int64_t *id, const char *shortcut,
    const char *text, int64_t agent_id, int64_t now, int *taken)
{
	struct dbq *s;

	*taken = 0;
	if (*id == 0) {
		s = prep(st, "INSERT INTO canned_replies(shortcut, text, "
		    "created_at, updated_at, agent_id) VALUES(?1, ?2, ?3, ?3, "
		    "?4) RETURNING id");
		db_bind_int(s, 4, agent_id);
	} else {
		s = prep(st, "UPDATE canned_replies SET shortcut = ?1, "
		    "text = ?2, updated_at = ?3 WHERE id = ?4");
		db_bind_int(s, 4, *id);
	}
	bind_text(s, 1, shortcut);
	bind_text(s, 2, text);
	db_bind_int(s, 3, now);
	return save_named(st, s, STORE_CANNED, id, taken);
}

int
store_canned_delete(struct store *st, int64_t id)
{
	return delete_entity(st, "DELETE FROM canned_replies WHERE id = ?1",
	    STORE_CANNED, id);
}

int
store_note_set_mentions(struct store *st, int64_t id, const cJSON *mentions)
{
	struct dbq *s = prep(st, "UPDATE notes SET mentions = ?2 "
	    "WHERE id = ?1");
	int rc;

	db_bind_int(s, 1, id);
	bind_json(s, 2, mentions);
	rc = db_step(s);
	db_finalize(s);
	if (rc != DONE)
		return -1;
	return store_stamp(st, STORE_NOTE, id);
}

int
store_snooze_next(struct store *st, int64_t *until)
{
	return count_one(st, "SELECT coalesce(min(snoozed_until), 0) FROM "
	    "conversations WHERE status = 'snoozed'", until);
}

int
store_snoozes_due(struct store *st, int64_t now, int64_t *ids, size_t max,
    size_t *n)
{
	struct dbq *s = prep(st, "SELECT id FROM conversations WHERE "
	    "status = 'snoozed' AND snoozed_until <= ?1 ORDER BY "
	    "snoozed_until, id LIMIT ?2");
	int rc;

	*n = 0;
	db_bind_int(s, 1, now);
	db_bind_int(s, 2, (int64_t)max);
	while ((rc = db_step(s)) == ROW)
		ids[(*n)++] = db_int(s, 0);
	db_finalize(s);
	return rc == DONE ? 0 : -1;
}

int
store_conversation_state(struct store *st, int64_t id, char *status,
    size_t len, int64_t *snoozed_until, int64_t *assignee_id)
{
	struct dbq *s = prep(st, "SELECT status, coalesce(snoozed_until, 0), "
	    "coalesce(assignee_id, 0) FROM conversations WHERE id = ?1");
	int rc;

	db_bind_int(s, 1, id);
	rc = db_step(s);
	if (rc == ROW) {
		snprintf(status, len, "%s", col_text(s, 0));
		*snoozed_until = db_int(s, 1);
		*assignee_id = db_int(s, 2);
	}
	db_finalize(s);
	if (rc == ROW)
		return 1;
	return rc == DONE ? 0 : -1;
}

int
store_meta_int(struct store *st, const char *key, int64_t *v)
{
	return number_for(st, "SELECT CAST(v AS BIGINT) FROM meta WHERE "
	    "k = ?1", key, v);
}

int
store_meta_set_int(struct store *st, const char *key, int64_t v)
{
	struct dbq *s = prep(st, "INSERT INTO meta(k, v) VALUES(?1, ?2) "
	    "ON CONFLICT(k) DO UPDATE SET v = excluded.v");
	int rc;

	bind_text(s, 1, key);
	db_bind_int(s, 2, v);
	rc = db_step(s);
	db_finalize(s);
	return rc == DONE ? 0 : -1;
}

int
store_conversation_of_contact(struct store *st, int64_t contact_id,
    int64_t *id)
{
	struct dbq *s = st_get(st, S_CONV_BY_CONTACT);
	int rc;

	*id = 0;
	db_bind_int(s, 1, contact_id);
	rc = st_row(st, s);
	if (rc == 1) {
		*id = db_int(s, 0);
		st_reset(s);
	}
	return rc < 0 ? -1 : 0;
}

/*
 * Erasure of personal data. Everything held about a contact goes in the
 * caller's transaction, each entity a sync client cached leaving a
 * tombstone so every cache follows. secure_delete (set at open) zeroes
 * what the deletes free; store_scrub then empties the WAL, which still
 * holds the old pages until a checkpoint.
 */

static int
count_done(struct store *st, struct dbq *s, int64_t *n)
{
	int rc = db_step(s);

	db_finalize(s);
	if (rc != DONE) {
		log_error("store: erase: %s", db_error(st->db));
		return -1;
	}
	*n += db_changes(st->db);
	return 0;
}

/* The ids s selects (its first column) into *ids (*n of them), and s
 * finalized: DONE, or the error that stopped it (*ids is then freed). */
static int
step_ids(struct dbq *s, int64_t **ids, size_t *n)
{
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	while ((rc = db_step(s)) == ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*ids = xreallocarray(*ids, cap, sizeof **ids);
		}
		(*ids)[(*n)++] = db_int(s, 0);
	}
	db_finalize(s);
	if (rc != DONE) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return rc;
}

/* Deletes the rows s selects ("SELECT id ... ") from table, each with a
 * tombstone of kind; s is finalized. */
static int
erase_rows(struct store *st, struct dbq *s, const char *table,
    const char *kind, int64_t *n)
{
	struct dbq *d;
	char *sql;
	int64_t *ids;
	size_t nids;
	int rc = DONE;

	if (step_ids(s, &ids, &nids) != DONE)
		return -1;
	sql = xasprintf("DELETE FROM %s WHERE id = ?1", table);
	d = prep(st, sql);
	free(sql);
	for (size_t i = 0; i < nids; i++) {
		db_bind_int(d, 1, ids[i]);
		rc = db_step(d);
		db_reset(d);
		if (rc != DONE || store_tombstone(st, kind, ids[i]) != 0)
			break;
		(*n)++;
	}
	db_finalize(d);
	free(ids);
	return rc == DONE ? 0 : -1;
}

static int
media_id_safe(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 128)
		return 0;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") == n;
}

/* Media of the conversation no message elsewhere names: their rows go,
 * their ids are kept for the files to be removed after the commit. */
static int
erase_media(struct store *st, int64_t conv, struct store_erased *e)
{
	struct dbq *s = prep(st, "SELECT DISTINCT json_extract(media, "
	    "'$.id') FROM messages WHERE conversation_id = ?1 AND "
	    "json_valid(media) AND json_extract(media, '$.id') IS NOT NULL");
	struct dbq *other = prep(st, "SELECT 1 FROM messages WHERE "
	    "json_extract(media, '$.id') = ?1 AND "
	    "conversation_id IS DISTINCT FROM ?2 "
	    "LIMIT 1");
	struct dbq *del = prep(st, "DELETE FROM media WHERE id = ?1");
	int rc, used;

	db_bind_int(s, 1, conv);
	while ((rc = db_step(s)) == ROW) {
		const char *id = col_text(s, 0);

		if (id == NULL || !media_id_safe(id))
			continue;
		db_bind_text(other, 1, id);
		db_bind_int(other, 2, conv);
		used = db_step(other) == 1;
		db_reset(other);
		if (used)
			continue;
		db_bind_text(del, 1, id);
		if (db_step(del) != 0) {
			db_reset(del);
			rc = FAIL;
			break;
		}
		db_reset(del);
		e->media_ids = xreallocarray(e->media_ids, e->nmedia + 1,
		    sizeof *e->media_ids);
		e->media_ids[e->nmedia++] = xstrdup(id);
		e->media++;
	}
	db_finalize(s);
	db_finalize(other);
	db_finalize(del);
	return rc == DONE ? 0 : -1;
}

static int
erase_conversation(struct store *st, int64_t conv, struct store_erased *e)
{
	struct dbq *s;

	if (erase_media(st, conv, e) != 0)
		return -1;
	s = prep(st, "DELETE FROM statuses WHERE (number_id, wamid) IN "
	    "(SELECT number_id, wamid FROM messages WHERE conversation_id = ?1 "
	    "AND wamid IS NOT NULL)");
	db_bind_int(s, 1, conv);
	if (count_done(st, s, &e->statuses) != 0)
		return -1;
	s = prep(st, "DELETE FROM read_receipts WHERE conversation_id = ?1");
	db_bind_int(s, 1, conv);
	if (count_done(st, s, &e->receipts) != 0)
		return -1;
	/* Stored answers of agents' writes repeat what was written (a
	 * reply's text, a note's body): they go with it. */
	s = prep(st, "DELETE FROM idempotency WHERE json_valid(response) AND "
	    "(json_extract(response, '$.conversation_id') = ?1 OR "
	    "(json_extract(response, '$.kind') = 'conversation' AND "
	    "json_extract(response, '$.id') = ?1))");
	db_bind_int(s, 1, conv);
	if (count_done(st, s, &e->idempotency) != 0)
		return -1;
	s = prep(st, "SELECT id FROM messages WHERE conversation_id = ?1");
	db_bind_int(s, 1, conv);
	if (erase_rows(st, s, "messages", STORE_MESSAGE, &e->messages) != 0)
		return -1;
	s = prep(st, "SELECT id FROM notes WHERE conversation_id = ?1");
	db_bind_int(s, 1, conv);
	if (erase_rows(st, s, "notes", STORE_NOTE, &e->notes) != 0)
		return -1;
	s = prep(st, "SELECT id FROM orders WHERE conversation_id = ?1");
	db_bind_int(s, 1, conv);
	if (erase_rows(st, s, "orders", STORE_ORDER, &e->orders) != 0)
		return -1;
	/* History lines name who handled the customer and how; clients
	 * cache them like messages, so each leaves a tombstone. */
	s = prep(st, "SELECT id FROM history WHERE conversation_id = ?1");
	db_bind_int(s, 1, conv);
	if (erase_rows(st, s, "history", STORE_HISTORY, &e->history) != 0)
		return -1;
	s = prep(st, "SELECT id FROM conversations WHERE id = ?1");
	db_bind_int(s, 1, conv);
	return erase_rows(st, s, "conversations", STORE_CONVERSATION,
	    &e->conversations);
}

/* Raw bodies and kept events that name one of the contact's ids. */
static int
erase_mentions(struct store *st, const char *ident, struct store_erased *e)
{
	struct dbq *s;
	char *quoted;
	int rc;

	if (ident == NULL || *ident == '\0')
		return 0;
	/* Quoted as a JSON string, so one number is not found inside a
	 * longer one. */
	quoted = xasprintf("\"%s\"", ident);
	/* The row stays with an empty body: its hash keeps a retried
	 * delivery of the same bytes a no-op, which would otherwise bring
	 * the erased messages back. */
	s = prep(st, "UPDATE webhooks SET body = substr(body, 1, 0) "
	    "WHERE length(body) > 0 "
	    "AND instr(body, ?1) > 0");
	db_bind_blob(s, 1, quoted, (int)strlen(quoted));
	rc = count_done(st, s, &e->webhooks);
	if (rc == 0) {
		s = prep(st, "DELETE FROM events WHERE instr(value, ?1) > 0");
		db_bind_text(s, 1, quoted);
		rc = count_done(st, s, &e->events);
	}
	if (rc == 0) {
		s = prep(st, "DELETE FROM quarantine WHERE instr(value, ?1) > 0");
		db_bind_text(s, 1, quoted);
		rc = count_done(st, s, &e->events);
	}
	free(quoted);
	return rc;
}

int
store_contact_erase(struct store *st, int64_t contact_id,
    struct store_erased *e)
{
	struct dbq *s;
	char *ids[3] = { NULL, NULL, NULL }, *previous = NULL;
	cJSON *prev = NULL, *p;
	int rc;

	s = prep(st, "SELECT wa_id, user_id, parent_user_id, previous_wa_ids "
	    "FROM contacts WHERE id = ?1");
	db_bind_int(s, 1, contact_id);
	rc = db_step(s);
	if (rc == ROW) {
		for (int i = 0; i < 3; i++)
			if (col_text(s, i) != NULL)
				ids[i] = xstrdup(col_text(s, i));
		if (col_text(s, 3) != NULL)
			previous = xstrdup(col_text(s, 3));
	}
	db_finalize(s);
	if (rc != ROW)
		return rc == DONE ? 0 : -1;

	rc = 0;
	s = prep(st, "SELECT id FROM conversations WHERE contact_id = ?1");
	db_bind_int(s, 1, contact_id);
	{
		int64_t convs[64];
		size_t n = 0;

		/* One conversation per contact per number; a few at most. */
		while (db_step(s) == 1 && n < 64)
			convs[n++] = db_int(s, 0);
		db_finalize(s);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = erase_conversation(st, convs[i], e);
	}
	if (rc == 0) {
		s = prep(st, "DELETE FROM idempotency WHERE json_valid(response) "
		    "AND (json_extract(response, '$.contact_id') = ?1 OR "
		    "(json_extract(response, '$.kind') = 'contact' AND "
		    "json_extract(response, '$.id') = ?1))");
		db_bind_int(s, 1, contact_id);
		rc = count_done(st, s, &e->idempotency);
	}
	if (rc == 0) {
		s = prep(st, "SELECT id FROM orders WHERE contact_id = ?1");
		db_bind_int(s, 1, contact_id);
		rc = erase_rows(st, s, "orders", STORE_ORDER, &e->orders);
	}
	for (int i = 0; i < 3 && rc == 0; i++)
		rc = erase_mentions(st, ids[i], e);
	if (rc == 0 && previous != NULL &&
	    (prev = cJSON_Parse(previous)) != NULL) {
		cJSON_ArrayForEach(p, prev) {
			if (rc == 0 && cJSON_IsString(p))
				rc = erase_mentions(st, p->valuestring, e);
		}
	}
	if (rc == 0) {
		s = prep(st, "SELECT id FROM contacts WHERE id = ?1");
		db_bind_int(s, 1, contact_id);
		rc = erase_rows(st, s, "contacts", STORE_CONTACT,
		    &e->contacts);
	}
	cJSON_Delete(prev);
	free(previous);
	for (int i = 0; i < 3; i++)
		free(ids[i]);
	return rc == 0 ? 1 : -1;
}

int
store_conversation_erase(struct store *st, int64_t id,
    struct store_erased *e)
{
	struct dbq *s = prep(st, "SELECT 1 FROM conversations WHERE id = ?1");
	int rc;

	db_bind_int(s, 1, id);
	rc = db_step(s);
	db_finalize(s);
	if (rc != ROW)
		return rc == DONE ? 0 : -1;
	return erase_conversation(st, id, e) == 0 ? 1 : -1;
}

int
store_order_delete(struct store *st, int64_t id)
{
	struct dbq *s = prep(st, "DELETE FROM orders WHERE id = ?1");
	int rc;

	db_bind_int(s, 1, id);
	rc = db_step(s);
	db_finalize(s);
	if (rc != DONE)
		return -1;
	if (db_changes(st->db) == 0)
		return 0;
	/* The order's message keeps its own text; it only loses the link. */
	s = prep(st, "UPDATE messages SET order_id = NULL WHERE order_id = ?1 "
	    "RETURNING id");
	db_bind_int(s, 1, id);
	while ((rc = db_step(s)) == ROW) {
		if (store_stamp(st, STORE_MESSAGE,
		    db_int(s, 0)) != 0) {
			rc = FAIL;
			break;
		}
	}
	db_finalize(s);
	if (rc != DONE)
		return -1;
	return store_tombstone(st, STORE_ORDER, id) == 0 ? 1 : -1;
}

int64_t
store_erased_rows(const struct store_erased *e)
{
	return e->contacts + e->conversations + e->messages + e->statuses +
	    e->notes + e->orders + e->history + e->media + e->receipts +
	    e->idempotency + e->webhooks + e->events;
}

cJSON *
store_erased_json(const struct store_erased *e)
{
	cJSON *o = cJSON_CreateObject();

	jx_add_int(o, "contacts", e->contacts);
	jx_add_int(o, "conversations", e->conversations);
	jx_add_int(o, "messages", e->messages);
	jx_add_int(o, "statuses", e->statuses);
	jx_add_int(o, "notes", e->notes);
	jx_add_int(o, "orders", e->orders);
	jx_add_int(o, "history", e->history);
	jx_add_int(o, "media", e->media);
	jx_add_int(o, "read_receipts", e->receipts);
	jx_add_int(o, "idempotency", e->idempotency);
	jx_add_int(o, "webhooks", e->webhooks);
	jx_add_int(o, "events", e->events);
	return o;
}

void
store_erased_free(struct store_erased *e)
{
	for (size_t i = 0; i < e->nmedia; i++)
		free(e->media_ids[i]);
	free(e->media_ids);
	memset(e, 0, sizeof *e);
}

int
store_contact_lookup(struct store *st, const char *key, int64_t *ids,
    size_t max, size_t *n)
{
	struct dbq *s = prep(st, "SELECT id FROM contacts WHERE "
	    "CAST(id AS TEXT) = ?1 OR wa_id = ?1 OR user_id = ?1 ORDER BY id");
	int rc;

	*n = 0;
	bind_text(s, 1, key);
	while ((rc = db_step(s)) == ROW && *n < max)
		ids[(*n)++] = db_int(s, 0);
	db_finalize(s);
	return rc == DONE || rc == ROW ? 0 : -1;
}

int
store_scrub(const char *url, char **cause)
{
	return db_scrub(url, cause);
}

int
store_audit_add(struct store *st, int64_t now, const char *actor,
    const char *action, const char *target, int64_t rows,
    const cJSON *detail)
{
	struct dbq *s = prep(st, "INSERT INTO audit(at, actor, action, "
	    "target, rows, detail) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
	int rc;

	db_bind_int(s, 1, now);
	bind_text(s, 2, actor);
	bind_text(s, 3, action);
	bind_text(s, 4, target);
	db_bind_int(s, 5, rows);
	bind_json(s, 6, detail);
	rc = db_step(s);
	db_finalize(s);
	if (rc != DONE) {
		log_error("store: audit: %s", db_error(st->db));
		return -1;
	}
	return 0;
}

int
store_audit_each(struct store *st, int64_t since, int (*fn)(void *,
    const cJSON *), void *arg)
{
	struct dbq *s = prep(st, "SELECT id, at, actor, action, target, "
	    "rows, detail FROM audit WHERE at >= ?1 ORDER BY id");
	int rc;

	db_bind_int(s, 1, since);
	while ((rc = db_step(s)) == ROW) {
		cJSON *o = cJSON_CreateObject(), *d;
		int stop;

		jx_add_int(o, "id", db_int(s, 0));
		jx_add_int(o, "at", db_int(s, 1));
		cJSON_AddStringToObject(o, "actor", col_text(s, 2));
		cJSON_AddStringToObject(o, "action", col_text(s, 3));
		if (col_text(s, 4) != NULL)
			cJSON_AddStringToObject(o, "target", col_text(s, 4));
		else
			cJSON_AddNullToObject(o, "target");
		jx_add_int(o, "rows", db_int(s, 5));
		d = col_text(s, 6) != NULL ? cJSON_Parse(col_text(s, 6)) :
		    NULL;
		if (d == NULL)
			d = cJSON_CreateNull();
		cJSON_AddItemToObject(o, "detail", d);
		stop = fn(arg, o);
		cJSON_Delete(o);
		if (stop) {
			rc = DONE;
			break;
		}
	}
	db_finalize(s);
	return rc == DONE ? 0 : -1;
}

/* Every entity of kind that sql (one id bound as ?1) selects, by id. */
static cJSON *
export_list(struct store *st, const char *kind, const char *sql, int64_t id)
{
	struct dbq *s = prep(st, sql);
	cJSON *a = cJSON_CreateArray(), *o;

	db_bind_int(s, 1, id);
	while (db_step(s) == 1) {
		if ((o = store_entity(st, kind, db_int(s, 0))) !=
		    NULL)
			cJSON_AddItemToArray(a, o);
	}
	db_finalize(s);
	return a;
}

cJSON *
store_contact_export(struct store *st, int64_t contact_id)
{
	cJSON *doc, *contact, *convs, *c, *msgs, *m, *media;
	struct dbq *s;

	if ((contact = store_entity(st, STORE_CONTACT, contact_id)) == NULL)
		return NULL;
	doc = cJSON_CreateObject();
	cJSON_AddItemToObject(doc, "contact", contact);
	convs = export_list(st, STORE_CONVERSATION, "SELECT id FROM "
	    "conversations WHERE contact_id = ?1 ORDER BY id", contact_id);
	media = cJSON_CreateArray();
	s = prep(st, "SELECT status, ts FROM statuses WHERE number_id = ?1 "
	    "AND wamid = ?2 ORDER BY ts, status");
	cJSON_ArrayForEach(c, convs) {
		int64_t conv = 0;

		jx_int64(c, "id", &conv);
		msgs = export_list(st, STORE_MESSAGE, "SELECT id FROM messages "
		    "WHERE conversation_id = ?1 ORDER BY ts, id", conv);
		cJSON_ArrayForEach(m, msgs) {
			cJSON *h = cJSON_CreateArray(), *x;
			const cJSON *mm = cJSON_GetObjectItemCaseSensitive(m,
			    "media");
			const char *wamid = jx_str(m, "wamid");
			int64_t number = 0;

			/* Every status Meta reported, not just the latest. */
			struct dbq *n = prep(st, "SELECT number_id FROM "
			    "messages WHERE id = ?1");
			int64_t mid = 0;

			jx_int64(m, "id", &mid);
			db_bind_int(n, 1, mid);
			if (db_step(n) == 1)
				number = db_int(n, 0);
			db_finalize(n);
			if (wamid != NULL) {
				db_bind_int(s, 1, number);
				bind_text(s, 2, wamid);
				while (db_step(s) == 1) {
					x = cJSON_CreateObject();
					cJSON_AddStringToObject(x, "status",
					    col_text(s, 0));
					jx_add_int(x, "timestamp",
					    db_int(s, 1));
					cJSON_AddItemToArray(h, x);
				}
				db_reset(s);
			}
			cJSON_AddItemToObject(m, "status_history", h);
			if (cJSON_IsObject(mm) && jx_str(mm, "id") != NULL)
				cJSON_AddItemToArray(media,
				    cJSON_CreateString(jx_str(mm, "id")));
		}
		cJSON_AddItemToObject(c, "messages", msgs);
		cJSON_AddItemToObject(c, "notes", export_list(st, STORE_NOTE,
		    "SELECT id FROM notes WHERE conversation_id = ?1 "
		    "ORDER BY id", conv));
	}
	db_finalize(s);
	cJSON_AddItemToObject(doc, "conversations", convs);
	cJSON_AddItemToObject(doc, "orders", export_list(st, STORE_ORDER,
	    "SELECT id FROM orders WHERE contact_id = ?1 OR conversation_id "
	    "IN (SELECT id FROM conversations WHERE contact_id = ?1) "
	    "ORDER BY id", contact_id));
	cJSON_AddItemToObject(doc, "media_ids", media);
	return doc;
}

int
store_number_disconnected(struct store *st, int64_t number_id)
{
	struct dbq *s = prep(st, "SELECT disconnected_at IS NOT NULL FROM "
	    "numbers WHERE id = ?1");
	int rc, v = 0;

	db_bind_int(s, 1, number_id);
	rc = db_step(s);
	if (rc == ROW)
		v = (int)db_int(s, 0);
	db_finalize(s);
	if (rc != ROW && rc != DONE)
		return -1;
	return v;
}

int
store_number_disconnect(struct store *st, const char *name, int64_t now,
    int64_t *number_id)
{
	struct dbq *s = prep(st, "UPDATE numbers SET disconnected_at = ?2 "
	    "WHERE name = ?1 RETURNING id");
	int rc;

	bind_text(s, 1, name);
	if (now != 0)
		db_bind_int(s, 2, now);
	else
		db_bind_null(s, 2);
	rc = db_step(s);
	if (rc == ROW)
		*number_id = db_int(s, 0);
	db_finalize(s);
	if (rc == ROW)
		return 1;
	return rc == DONE ? 0 : -1;
}

int
store_number_cancel_queued(struct store *st, int64_t number_id,
    int64_t *n)
{
	struct dbq *s = prep(st, "UPDATE messages SET status = 'failed', "
	    "failure = '{\"code\":\"number_disconnected\",\"title\":"
	    "\"the business number was disconnected before this was sent\"}' "
	    "WHERE number_id = ?1 AND status = 'queued' RETURNING id");
	int rc;

	db_bind_int(s, 1, number_id);
	while ((rc = db_step(s)) == ROW) {
		if (store_stamp(st, STORE_MESSAGE,
		    db_int(s, 0)) != 0) {
			rc = FAIL;
			break;
		}
		(*n)++;
	}
	db_finalize(s);
	if (rc != DONE)
		return -1;
	s = prep(st, "UPDATE read_receipts SET state = 'failed' WHERE "
	    "number_id = ?1 AND state = 'queued'");
	db_bind_int(s, 1, number_id);
	rc = db_step(s);
	db_finalize(s);
	return rc == DONE ? 0 : -1;
}

int
store_number_contacts(struct store *st, int64_t number_id, int64_t **ids,
    size_t *n)
{
	struct dbq *s = prep(st, "SELECT id FROM contacts WHERE "
	    "number_id = ?1 ORDER BY id");
	int rc;

	*ids = NULL;
	*n = 0;
	db_bind_int(s, 1, number_id);
	while ((rc = db_step(s)) == ROW) {
		*ids = xreallocarray(*ids, *n + 1, sizeof **ids);
		(*ids)[(*n)++] = db_int(s, 0);
	}
	db_finalize(s);
	return rc == DONE ? 0 : -1;
}

int
store_number_each(struct store *st, int (*fn)(void *, const cJSON *),
    void *arg)
{
	struct dbq *s = prep(st, "SELECT name, phone_number_id, "
	    "disconnected_at FROM numbers ORDER BY name");
	int rc;

	while ((rc = db_step(s)) == ROW) {
		cJSON *o = cJSON_CreateObject();
		int stop;

		cJSON_AddStringToObject(o, "name", col_text(s, 0));
		cJSON_AddStringToObject(o, "phone_number_id", col_text(s, 1));
		if (db_is_null(s, 2))
			cJSON_AddNullToObject(o, "disconnected_at");
		else
			jx_add_int(o, "disconnected_at",
			    db_int(s, 2));
		stop = fn(arg, o);
		cJSON_Delete(o);
		if (stop) {
			rc = DONE;
			break;
		}
	}
	db_finalize(s);
	return rc == DONE ? 0 : -1;
}

/* Ids of at most max rows sql selects (?1 bound to v). */
static int64_t *
select_ids(struct store *st, const char *sql, int64_t v, size_t max,
    size_t *n)
{
	struct dbq *s = prep(st, sql);
	int64_t *ids = xreallocarray(NULL, max, sizeof *ids);

	*n = 0;
	db_bind_int(s, 1, v);
	while (*n < max && db_step(s) == 1)
		ids[(*n)++] = db_int(s, 0);
	db_finalize(s);
	return ids;
}

/*
 * Erases up to a chunk of the messages older than before (queued and
 * sending ones are the sender's), then gives each conversation whose last
 * message went its newest remaining one, or none, and stamps it: a client
 * must not keep showing a message every cache has dropped.
 */
static int
sweep_messages(struct store *st, int64_t before, struct store_erased *e,
    int *more)
{
	/* The same chunk, twice: ordered by id, in one transaction. */
	static const char chunk[] = "SELECT id FROM messages WHERE ts < ?1 "
	    "AND coalesce(status, '') NOT IN ('queued', 'sending') "
	    "ORDER BY id LIMIT 5000";
	struct dbq *s;
	char *sql;
	int64_t *convs, done = e->messages;
	size_t n;
	int rc;

	sql = xasprintf("SELECT id FROM conversations WHERE last_message_id "
	    "IN (%s)", chunk);
	s = prep(st, sql);
	free(sql);
	db_bind_int(s, 1, before);
	if (step_ids(s, &convs, &n) != DONE) {
		log_error("store: sweep: %s", db_error(st->db));
		return -1;
	}

	s = prep(st, chunk);
	db_bind_int(s, 1, before);
	if (erase_rows(st, s, "messages", STORE_MESSAGE, &e->messages) != 0) {
		free(convs);
		return -1;
	}
	*more |= e->messages - done == 5000;

	/* Newest as store_conversation_activity has it: by timestamp. */
	s = prep(st, "UPDATE conversations SET last_message_id = "
	    "(SELECT id FROM messages WHERE conversation_id = ?1 "
	    "ORDER BY ts DESC, id DESC LIMIT 1) WHERE id = ?1");
	rc = DONE;
	for (size_t i = 0; i < n && rc == DONE; i++) {
		db_bind_int(s, 1, convs[i]);
		rc = db_step(s);
		db_reset(s);
		if (rc == DONE &&
		    store_stamp(st, STORE_CONVERSATION, convs[i]) != 0)
			rc = FAIL;
	}
	if (rc != DONE)
		log_error("store: sweep: %s", db_error(st->db));
	db_finalize(s);
	free(convs);
	return rc == DONE ? 0 : -1;
}

int
store_retention_sweep(struct store *st, int64_t now,
    const struct store_retention *r, struct store_erased *e, int *more)
{
	struct dbq *s;
	int64_t *ids;
	size_t n;
	int rc = 0;

	*more = 0;
	if (r->closed > 0) {
		ids = select_ids(st, "SELECT id FROM conversations WHERE "
		    "status = 'resolved' AND last_activity_at < ?1 LIMIT 100",
		    now - r->closed, 100, &n);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = erase_conversation(st, ids[i], e);
		*more |= n == 100;
		free(ids);
	}
	if (rc == 0 && r->messages > 0) {
		int64_t before = now - r->messages;

		/* Media only old messages name go with them. */
		s = prep(st, "SELECT DISTINCT json_extract(media, '$.id') FROM "
		    "messages m WHERE ts < ?1 AND json_valid(media) AND "
		    "json_extract(media, '$.id') IS NOT NULL AND NOT EXISTS "
		    "(SELECT 1 FROM messages o WHERE json_extract(o.media, "
		    "'$.id') = json_extract(m.media, '$.id') AND o.ts >= ?1)");
		db_bind_int(s, 1, before);
		while (db_step(s) == 1) {
			const char *id = col_text(s, 0);

			if (id == NULL || !media_id_safe(id))
				continue;
			e->media_ids = xreallocarray(e->media_ids,
			    e->nmedia + 1, sizeof *e->media_ids);
			e->media_ids[e->nmedia++] = xstrdup(id);
		}
		db_finalize(s);
		s = prep(st, "DELETE FROM media WHERE id = ?1");
		for (size_t i = 0; i < e->nmedia; i++) {
			db_bind_text(s, 1, e->media_ids[i]);
			if (db_step(s) == 0)
				e->media += db_changes(st->db);
			db_reset(s);
		}
		db_finalize(s);
		s = prep(st, "DELETE FROM statuses WHERE (number_id, wamid) IN "
		    "(SELECT number_id, wamid FROM messages WHERE ts < ?1 AND "
		    "wamid IS NOT NULL AND coalesce(status, '') NOT IN "
		    "('queued', 'sending'))");
		db_bind_int(s, 1, before);
		rc = count_done(st, s, &e->statuses);
		if (rc == 0)
			rc = sweep_messages(st, before, e, more);
		/* What repeats the messages' text must not outlive them. */
		if (rc == 0) {
			s = prep(st, "UPDATE webhooks SET body = "
			    "substr(body, 1, 0) WHERE "
			    "received_at < ?1 AND length(body) > 0");
			db_bind_int(s, 1, before);
			rc = count_done(st, s, &e->webhooks);
		}
		if (rc == 0) {
			s = prep(st, "DELETE FROM idempotency WHERE "
			    "created_at < ?1");
			db_bind_int(s, 1, before);
			rc = count_done(st, s, &e->idempotency);
		}
	}
	if (rc == 0 && r->media > 0) {
		s = prep(st, "DELETE FROM media WHERE created_at < ?1 "
		    "RETURNING id");
		db_bind_int(s, 1, now - r->media);
		while ((rc = db_step(s)) == ROW) {
			const char *id = col_text(s, 0);

			if (id == NULL || !media_id_safe(id))
				continue;
			e->media_ids = xreallocarray(e->media_ids,
			    e->nmedia + 1, sizeof *e->media_ids);
			e->media_ids[e->nmedia++] = xstrdup(id);
			e->media++;
		}
		db_finalize(s);
		rc = rc == DONE ? 0 : -1;
	}
	return rc;
}
