/*
 * Status, assignment and labels with their history. Every line names its
 * actor by id and carries a ready-made sentence, so a client can show it
 * in the thread without knowing the rules; the sentence holds agent and
 * label names only, never a customer's words.
 */
#include "relay/inbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/xalloc.h"

#define NAME_MAX_LEN 80
#define ONLINE_MAX 256

static size_t (*online_fn)(void *, int64_t *, size_t);
static void *online_arg;

void
inbox_online_source(size_t (*fn)(void *, int64_t *, size_t), void *arg)
{
	online_fn = fn;
	online_arg = arg;
}

/* The actor's name as the sentence starts with it. */
static int
actor_name(struct store *st, int64_t id, char *name, size_t len)
{
	if (id == 0) {
		snprintf(name, len, "The relay");
		return 0;
	}
	return store_agent_name(st, id, name, len) < 0 ? -1 : 0;
}

static int
record(struct store *st, int64_t conv, int64_t actor, const char *action,
    const char *reason, const cJSON *details, const char *text, int64_t now)
{
	struct store_history h = { conv, actor, action, reason, details, text,
		now };
	int64_t id;

	return store_history_add(st, &h, &id);
}

static void
utc(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm);
}

int
inbox_set_status(struct store *st, int64_t conv, int64_t actor,
    const char *status, int64_t until, const char *reason, int64_t now,
    int *changed)
{
	struct store_value v = { 0 }, u = { 0 };
	char before[16], who[NAME_MAX_LEN], when[32];
	int64_t was_until, assignee;
	cJSON *details;
	struct buf text;
	int rc;

	*changed = 0;
	rc = store_conversation_state(st, conv, before, sizeof before,
	    &was_until, &assignee);
	if (rc <= 0)
		return -1;
	/* As it was: nothing to stamp, nothing to record. */
	if (strcmp(before, status) == 0 && (strcmp(status, "snoozed") != 0 ||
	    was_until == until))
		return 0;
	v.text = status;
	if (until != 0) {
		u.i = until;
		u.has_int = 1;
	}
	if (store_set(st, STORE_CONVERSATION, conv, "status", &v) != 0 ||
	    store_set(st, STORE_CONVERSATION, conv, "snoozed_until", &u) != 0 ||
	    actor_name(st, actor, who, sizeof who) != 0)
		return -1;
	*changed = 1;

	buf_init(&text);
	if (reason != NULL && strcmp(reason, INBOX_REASON_INBOUND) == 0)
		buf_printf(&text, "The customer wrote again: reopened");
	else if (reason != NULL && strcmp(reason, INBOX_REASON_SNOOZE) == 0)
		buf_printf(&text, "The snooze ended: reopened");
	else if (strcmp(status, "open") == 0)
		buf_printf(&text, "%s reopened the conversation", who);
	else if (strcmp(status, "pending") == 0)
		buf_printf(&text, "%s marked the conversation pending", who);
	else if (strcmp(status, "resolved") == 0)
		buf_printf(&text, "%s resolved the conversation", who);
	else {
		utc(until, when);
		buf_printf(&text, "%s snoozed the conversation until %s", who,
		    when);
	}
	details = cJSON_CreateObject();
	cJSON_AddStringToObject(details, "status", status);
	cJSON_AddStringToObject(details, "previous_status", before);
	if (until != 0)
		jx_add_int(details, "snoozed_until", until);
	else
		cJSON_AddNullToObject(details, "snoozed_until");
	rc = record(st, conv, actor, "status", reason, details, text.data, now);
	cJSON_Delete(details);
	buf_free(&text);
	return rc;
}

static void
add_id_or_null(cJSON *o, const char *key, int64_t id)
{
	if (id != 0)
		jx_add_int(o, key, id);
	else
		cJSON_AddNullToObject(o, key);
}

int
inbox_assign(struct store *st, int64_t conv, int64_t actor, int64_t assignee,
    const char *reason, int64_t now, int *changed)
{
	struct store_value v = { 0 };
	char status[16], who[NAME_MAX_LEN], to[NAME_MAX_LEN],
	    from[NAME_MAX_LEN];
	int64_t until, before;
	cJSON *details;
	struct buf text;
	int rc;

	*changed = 0;
	rc = store_conversation_state(st, conv, status, sizeof status, &until,
	    &before);
	if (rc <= 0)
		return -1;
	if (before == assignee)
		return 0;
	if (assignee != 0) {
		v.i = assignee;
		v.has_int = 1;
	}
	if (store_set(st, STORE_CONVERSATION, conv, "assignee_id", &v) != 0 ||
	    actor_name(st, actor, who, sizeof who) != 0 ||
	    (assignee != 0 && store_agent_name(st, assignee, to,
	    sizeof to) < 0) ||
	    (before != 0 && store_agent_name(st, before, from,
	    sizeof from) < 0))
		return -1;
	*changed = 1;

	buf_init(&text);
	if (reason != NULL && strcmp(reason, INBOX_REASON_AUTO) == 0)
		buf_printf(&text, "Assigned to %s automatically", to);
	else if (assignee == 0)
		buf_printf(&text, "%s unassigned %s", who, from);
	else if (before == 0 && assignee == actor)
		buf_printf(&text, "%s took the conversation", who);
	else if (before == 0)
		buf_printf(&text, "%s assigned the conversation to %s", who,
		    to);
	else
		buf_printf(&text, "%s handed the conversation over from %s to "
		    "%s", who, from, to);
	details = cJSON_CreateObject();
	add_id_or_null(details, "assignee_id", assignee);
	add_id_or_null(details, "previous_assignee_id", before);
	rc = record(st, conv, actor, "assign", reason, details, text.data,
	    now);
	cJSON_Delete(details);
	buf_free(&text);
	return rc;
}

/* "the label a" or "the labels a, b" */
static void
label_list(struct buf *b, const cJSON *names)
{
	const cJSON *n;
	int i = 0;

	buf_printf(b, cJSON_GetArraySize(names) == 1 ? "the label " :
	    "the labels ");
	cJSON_ArrayForEach(n, names)
		buf_printf(b, "%s%s", i++ ? ", " : "",
		    cJSON_GetStringValue(n) ? cJSON_GetStringValue(n) : "");
}

int
inbox_labels_history(struct store *st, int64_t conv, int64_t actor,
    const cJSON *added, const cJSON *removed, const char *reason,
    int64_t now)
{
	char who[NAME_MAX_LEN];
	int nadd = cJSON_GetArraySize(added);
	int nrem = cJSON_GetArraySize(removed);
	cJSON *details;
	struct buf text;
	int rc;

	if (nadd == 0 && nrem == 0)
		return 0;
	if (actor_name(st, actor, who, sizeof who) != 0)
		return -1;
	buf_init(&text);
	buf_printf(&text, "%s ", who);
	if (nadd > 0) {
		buf_printf(&text, "added ");
		label_list(&text, added);
	}
	if (nrem > 0) {
		buf_printf(&text, "%s", nadd > 0 ? " and " : "");
		buf_printf(&text, reason != NULL && strcmp(reason,
		    INBOX_REASON_LABEL_DELETED) == 0 ? "deleted " : "removed ");
		label_list(&text, removed);
	}
	details = cJSON_CreateObject();
	cJSON_AddItemToObject(details, "added", added ?
	    cJSON_Duplicate(added, 1) : cJSON_CreateArray());
	cJSON_AddItemToObject(details, "removed", removed ?
	    cJSON_Duplicate(removed, 1) : cJSON_CreateArray());
	rc = record(st, conv, actor, "labels", reason, details, text.data,
	    now);
	cJSON_Delete(details);
	buf_free(&text);
	return rc;
}

/* The next online agent after the last one given a conversation. */
static int
round_robin(struct store *st, int64_t *agent)
{
	int64_t ids[ONLINE_MAX], last;
	size_t n;

	*agent = 0;
	if (online_fn == NULL || (n = online_fn(online_arg, ids,
	    ONLINE_MAX)) == 0)
		return 0;
	if (store_meta_int(st, "round_robin_last", &last) != 0)
		return -1;
	*agent = ids[0];
	for (size_t i = 0; i < n; i++) {
		if (ids[i] > last) {
			*agent = ids[i];
			break;
		}
	}
	return store_meta_set_int(st, "round_robin_last", *agent);
}

int
inbox_inbound(struct store *st, const struct relay_config *cfg,
    int64_t conv, int created, int64_t now)
{
	char status[16];
	int64_t until, assignee, agent;
	int changed = 0, rc;

	rc = store_conversation_state(st, conv, status, sizeof status, &until,
	    &assignee);
	if (rc <= 0)
		return -1;
	if ((strcmp(status, "resolved") == 0 || strcmp(status, "snoozed") ==
	    0) && inbox_set_status(st, conv, 0, "open", 0,
	    INBOX_REASON_INBOUND, now, &changed) != 0)
		return -1;
	if (cfg == NULL || cfg->auto_assign == NULL ||
	    strcmp(cfg->auto_assign, "round-robin") != 0 || assignee != 0 ||
	    (!created && !changed))
		return 0;
	if (round_robin(st, &agent) != 0)
		return -1;
	if (agent == 0)
		return 0; /* nobody online: it waits, unassigned */
	return inbox_assign(st, conv, 0, agent, INBOX_REASON_AUTO, now,
	    &changed);
}

int
inbox_snoozes_end(struct store *st, int64_t now, size_t *n)
{
	int64_t ids[256];
	int changed;

	*n = 0;
	if (store_snoozes_due(st, now, ids, 256, n) != 0)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		if (inbox_set_status(st, ids[i], 0, "open", 0,
		    INBOX_REASON_SNOOZE, now, &changed) != 0)
			return -1;
	}
	return 0;
}
