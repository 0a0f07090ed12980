/*
 * Erasure: the store's deletes, then the bytes outside SQLite's pages.
 * Media files are overwritten before they are unlinked, so a plain file
 * system does not keep them in the freed blocks (a copy-on-write one or
 * an SSD may: see docs/data-protection.md); the WAL is checkpointed and
 * truncated, since it still holds the pages as they were before.
 */
#include "relay/privacy.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/jsonx.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "relay/media.h"

/* Zeroes a file in place, syncs it, and unlinks it: 1 removed, 0 none. */
static int
shred(const char *path)
{
	static const char zero[65536];
	struct stat sb;
	off_t left;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
		for (left = sb.st_size; left > 0;) {
			ssize_t n = write(fd, zero, left > (off_t)sizeof zero ?
			    sizeof zero : (size_t)left);

			if (n <= 0)
				break;
			left -= n;
		}
		fsync(fd);
	}
	close(fd);
	return unlink(path) == 0 ? 1 : -1;
}

void
privacy_erase_finish(const struct relay_config *cfg,
    const struct store_erased *e)
{
	char *cause = NULL;
	size_t removed = 0;

	for (size_t i = 0; i < e->nmedia; i++) {
		char *path;
		int rc;

		/* The store lists only ids that cannot be a path; check
		 * again, since this unlinks. */
		if (!media_id_valid(e->media_ids[i]))
			continue;
		path = media_path(cfg, e->media_ids[i]);
		rc = shred(path);
		if (rc < 0)
			log_warn("erase: cannot remove media file %s: %s",
			    e->media_ids[i], strerror(errno));
		removed += rc > 0;
		free(path);
	}
	if (store_scrub(cfg->store_url, &cause) != 0) {
		log_warn("erase: %s; erased pages stay in the WAL until the "
		    "next checkpoint", cause);
		free(cause);
	}
	log_info("erase: removed %zu media file(s), WAL truncated", removed);
}

int
privacy_audit(struct store *st, const char *actor, const char *action,
    const char *target, const struct store_erased *e)
{
	cJSON *detail = store_erased_json(e);
	int rc;

	rc = store_audit_add(st, (int64_t)time(NULL), actor, action, target,
	    store_erased_rows(e), detail);
	cJSON_Delete(detail);
	return rc;
}

int
privacy_erase_contacts(const struct relay_config *cfg, struct store *st,
    const int64_t *ids, size_t n, const char *actor, cJSON **out,
    char **cause)
{
	struct store_erased e = { 0 };
	char target[64];

	if (store_begin(st, cause) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (store_contact_erase(st, ids[i], &e) < 0)
			goto fail;
	}
	if (n == 1)
		snprintf(target, sizeof target, "contact %" PRId64, ids[0]);
	else
		snprintf(target, sizeof target, "%zu contacts", n);
	if (privacy_audit(st, actor, "erase", target, &e) != 0 ||
	    store_commit(st, cause) != 0)
		goto fail_nocause;
	log_info("erase: %s by %s: %" PRId64 " row(s)", target, actor,
	    store_erased_rows(&e));
	privacy_erase_finish(cfg, &e);
	if (out != NULL)
		*out = store_erased_json(&e);
	store_erased_free(&e);
	return 0;
fail:
	*cause = xstrdup("the store failed; nothing was erased");
fail_nocause:
	if (store_in_transaction(st))
		store_rollback(st);
	store_erased_free(&e);
	if (*cause == NULL)
		*cause = xstrdup("the store failed; nothing was erased");
	return -1;
}

cJSON *
privacy_export(const struct relay_config *cfg, struct store *st,
    int64_t contact_id)
{
	cJSON *doc, *ids, *id, *media, *o;
	struct store_media m;
	struct stat sb;

	if ((doc = store_contact_export(st, contact_id)) == NULL)
		return NULL;
	/* Format and version first, so a reader knows what follows. */
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "format", "glivi-contact-export");
	jx_add_int(o, "version", PRIVACY_EXPORT_VERSION);
	jx_add_int(o, "exported_at", (int64_t)time(NULL));
	ids = cJSON_DetachItemFromObjectCaseSensitive(doc, "media_ids");
	for (cJSON *c = doc->child; c != NULL;) {
		cJSON *next = c->next;

		cJSON_AddItemToObject(o, c->string,
		    cJSON_DetachItemViaPointer(doc, c));
		c = next;
	}
	cJSON_Delete(doc);
	media = cJSON_CreateArray();
	cJSON_ArrayForEach(id, ids) {
		const char *v = id->valuestring;
		cJSON *x;
		char *path;
		int seen = 0;

		cJSON_ArrayForEach(x, media)
			seen |= strcmp(jx_str(x, "id"), v) == 0;
		if (seen || !media_id_valid(v))
			continue;
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "id", v);
		path = media_path(cfg, v);
		if (store_media_get(st, v, &m) == 1 && stat(path, &sb) == 0) {
			cJSON_AddStringToObject(x, "mime_type", m.mime_type);
			cJSON_AddStringToObject(x, "sha256", m.sha256);
			jx_add_int(x, "size", m.size);
			cJSON_AddBoolToObject(x, "held", 1);
		} else {
			/* Still at Meta (for 7 days), never fetched. */
			cJSON_AddBoolToObject(x, "held", 0);
		}
		free(path);
		cJSON_AddItemToArray(media, x);
	}
	cJSON_Delete(ids);
	cJSON_AddItemToObject(o, "media", media);
	return o;
}

int
privacy_audit_alone(const struct relay_config *cfg, const char *actor,
    const char *action, const char *target, const struct store_erased *e)
{
	struct store *st;
	char *cause = NULL;

	if (store_open(cfg->store_url, STORE_DURABLE, &st, &cause) != 0)
		goto fail;
	if (store_begin(st, &cause) != 0) {
		store_close(st);
		goto fail;
	}
	if (privacy_audit(st, actor, action, target, e) != 0) {
		store_rollback(st);
		store_close(st);
		return -1;
	}
	if (store_commit(st, &cause) != 0) {
		store_close(st);
		goto fail;
	}
	store_close(st);
	return 0;
fail:
	log_warn("audit: %s", cause);
	free(cause);
	return -1;
}

void
privacy_export_counts(const cJSON *doc, struct store_erased *e)
{
	const cJSON *c;

	memset(e, 0, sizeof *e);
	e->contacts = 1;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc,
	    "conversations")) {
		e->conversations++;
		e->messages += cJSON_GetArraySize(
		    cJSON_GetObjectItemCaseSensitive(c, "messages"));
		e->notes += cJSON_GetArraySize(
		    cJSON_GetObjectItemCaseSensitive(c, "notes"));
	}
	e->orders = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc,
	    "orders"));
	e->media = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc,
	    "media"));
}

int
privacy_disconnect(const struct relay_config *cfg, struct store *st,
    const char *name, int purge, const char *actor, cJSON **out,
    char **cause)
{
	struct store_erased e = { 0 };
	int64_t number_id = 0, cancelled = 0, *ids = NULL;
	size_t n = 0;
	char target[96];
	cJSON *detail;
	int rc;

	if (store_begin(st, cause) != 0)
		return -1;
	rc = store_number_disconnect(st, name, (int64_t)time(NULL),
	    &number_id);
	if (rc == 0) {
		store_rollback(st);
		*cause = xasprintf("no number '%s' in the store", name);
		return -1;
	}
	if (rc < 0 || store_number_cancel_queued(st, number_id,
	    &cancelled) != 0)
		goto fail;
	if (purge) {
		if (store_number_contacts(st, number_id, &ids, &n) != 0)
			goto fail;
		for (size_t i = 0; i < n; i++) {
			if (store_contact_erase(st, ids[i], &e) < 0)
				goto fail;
		}
	}
	snprintf(target, sizeof target, "number %s", name);
	detail = store_erased_json(&e);
	jx_add_int(detail, "cancelled", cancelled);
	if (store_audit_add(st, (int64_t)time(NULL), actor, purge ?
	    "disconnect+purge" : "disconnect", target, store_erased_rows(&e) +
	    cancelled, detail) != 0) {
		cJSON_Delete(detail);
		goto fail;
	}
	if (store_commit(st, cause) != 0) {
		cJSON_Delete(detail);
		goto out;
	}
	log_info("number %s disconnected by %s: %" PRId64 " queued message(s) "
	    "cancelled, %" PRId64 " contact(s) erased", name, actor, cancelled,
	    e.contacts);
	if (purge)
		privacy_erase_finish(cfg, &e);
	if (out != NULL)
		*out = detail;
	else
		cJSON_Delete(detail);
	free(ids);
	store_erased_free(&e);
	return 0;
fail:
	*cause = xstrdup("the store failed; nothing was changed");
out:
	if (store_in_transaction(st))
		store_rollback(st);
	free(ids);
	store_erased_free(&e);
	return -1;
}

int
privacy_reconnect(struct store *st, const char *name, const char *actor,
    char **cause)
{
	int64_t id;
	char target[96];
	int rc;

	if (store_begin(st, cause) != 0)
		return -1;
	rc = store_number_disconnect(st, name, 0, &id);
	snprintf(target, sizeof target, "number %s", name);
	if (rc == 1 && store_audit_add(st, (int64_t)time(NULL), actor,
	    "connect", target, 0, NULL) != 0)
		rc = -1;
	if (rc != 1) {
		store_rollback(st);
		*cause = rc == 0 ? xasprintf("no number '%s' in the store",
		    name) : xstrdup("the store failed");
		return -1;
	}
	return store_commit(st, cause);
}

int
privacy_retention_set(const struct relay_config *cfg)
{
	return cfg->retention_messages > 0 || cfg->retention_media > 0 ||
	    cfg->retention_closed > 0;
}

int
privacy_sweep(const struct relay_config *cfg, struct store *st,
    const char *actor, int64_t now, cJSON **out, char **cause)
{
	struct store_retention r = { cfg->retention_messages,
		cfg->retention_media, cfg->retention_closed };
	struct store_erased total = { 0 }, e;
	int more = 1;

	for (int round = 0; more && round < 1000; round++) {
		memset(&e, 0, sizeof e);
		if (store_begin(st, cause) != 0)
			goto fail;
		if (store_retention_sweep(st, now, &r, &e, &more) != 0 ||
		    (store_erased_rows(&e) > 0 && privacy_audit(st, actor,
		    "sweep", NULL, &e) != 0)) {
			store_rollback(st);
			store_erased_free(&e);
			*cause = xstrdup("the store failed; this round of the "
			    "sweep was undone");
			goto fail;
		}
		if (store_commit(st, cause) != 0) {
			store_erased_free(&e);
			goto fail;
		}
		if (store_erased_rows(&e) > 0)
			privacy_erase_finish(cfg, &e);
		total.contacts += e.contacts;
		total.conversations += e.conversations;
		total.messages += e.messages;
		total.statuses += e.statuses;
		total.notes += e.notes;
		total.orders += e.orders;
		total.history += e.history;
		total.media += e.media;
		total.receipts += e.receipts;
		total.idempotency += e.idempotency;
		total.webhooks += e.webhooks;
		total.events += e.events;
		store_erased_free(&e);
	}
	if (store_erased_rows(&total) > 0)
		log_info("retention: swept %" PRId64 " row(s): %" PRId64
		    " message(s), %" PRId64 " conversation(s), %" PRId64
		    " media file(s)", store_erased_rows(&total), total.messages,
		    total.conversations, total.media);
	if (out != NULL)
		*out = store_erased_json(&total);
	return 0;
fail:
	return -1;
}

struct privacy_sweeper {
	const struct relay_config *cfg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping;
};

/* One sweep on the timer, on a writer connection of its own (like an
 * admin command beside the relay: it never holds up the committer). */
static void
sweep_once(struct privacy_sweeper *sw, struct store **st)
{
	char *cause = NULL;

	if (*st == NULL && store_open(sw->cfg->store_url, STORE_DURABLE, st,
	    &cause) != 0) {
		log_warn("retention: %s", cause);
		free(cause);
		return;
	}
	if (privacy_sweep(sw->cfg, *st, "relay", (int64_t)time(NULL), NULL,
	    &cause) != 0) {
		log_warn("retention: %s", cause);
		free(cause);
	}
}

static void *
sweeper_main(void *arg)
{
	struct privacy_sweeper *sw = arg;
	struct store *st = NULL;
	struct store_lease *lease;
	struct timespec deadline;

	pthread_setname_np(pthread_self(), "glivi-sweep");
	/* Of several relays on one store, the lease holder sweeps. */
	lease = store_lease_new(sw->cfg->store_url, "glivi-sweep");
	pthread_mutex_lock(&sw->lock);
	while (!sw->stopping) {
		pthread_mutex_unlock(&sw->lock);
		if (store_lease_held(lease))
			sweep_once(sw, &st);
		pthread_mutex_lock(&sw->lock);
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += sw->cfg->retention_interval;
		while (!sw->stopping && pthread_cond_timedwait(&sw->wake,
		    &sw->lock, &deadline) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&sw->lock);
	store_lease_free(lease);
	store_close(st);
	return NULL;
}

struct privacy_sweeper *
privacy_sweeper_start(const struct relay_config *cfg, char **cause)
{
	struct privacy_sweeper *sw;
	int rc;

	if (!privacy_retention_set(cfg))
		return NULL;
	sw = xcalloc(1, sizeof *sw);
	sw->cfg = cfg;
	pthread_mutex_init(&sw->lock, NULL);
	pthread_cond_init(&sw->wake, NULL);
	if ((rc = pthread_create(&sw->thread, NULL, sweeper_main, sw)) != 0) {
		*cause = xasprintf("cannot start the retention sweep: %s",
		    strerror(rc));
		pthread_mutex_destroy(&sw->lock);
		pthread_cond_destroy(&sw->wake);
		free(sw);
		return NULL;
	}
	return sw;
}

void
privacy_sweeper_stop(struct privacy_sweeper *sw)
{
	if (sw == NULL)
		return;
	pthread_mutex_lock(&sw->lock);
	sw->stopping = 1;
	pthread_cond_signal(&sw->wake);
	pthread_mutex_unlock(&sw->lock);
	pthread_join(sw->thread, NULL);
	pthread_mutex_destroy(&sw->lock);
	pthread_cond_destroy(&sw->wake);
	free(sw);
}
