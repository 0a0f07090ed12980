/*
 * Erasure and export of what the relay holds about one person, shared by
 * the agent API and the admin commands. The store deletes the rows; this
 * module does what follows a commit (media files, the WAL) and writes the
 * audit record. It never logs what it erases, only ids and counts.
 */
#ifndef GLIVI_PRIVACY_H
#define GLIVI_PRIVACY_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "relay/config.h"
#include "relay/store.h"

/*
 * Erases the contacts in one transaction of st (a writer) with an audit
 * record by actor, then removes their media files and truncates the WAL.
 * *out (may be NULL) gets the counts. -1 with *cause when nothing was
 * erased; a failure after the commit is logged and not an error.
 */
int privacy_erase_contacts(const struct relay_config *, struct store *,
    const int64_t *ids, size_t n, const char *actor, cJSON **out,
    char **cause);
/* What follows the commit of an erasure: files, then the WAL. */
void privacy_erase_finish(const struct relay_config *,
    const struct store_erased *);
/* The audit record of an erasure, in the current transaction. */
int privacy_audit(struct store *, const char *actor, const char *action,
    const char *target, const struct store_erased *);

/* The export format's version: docs/data-protection.md describes it. */
#define PRIVACY_EXPORT_VERSION 1
/*
 * Everything held about a contact as one document, its media listed with
 * whether the relay holds the file; NULL when there is no such contact.
 */
cJSON *privacy_export(const struct relay_config *, struct store *,
    int64_t contact_id);
/* The same, written by a store connection of its own (for a thread
 * that holds only a reader). */
int privacy_audit_alone(const struct relay_config *, const char *actor,
    const char *action, const char *target, const struct store_erased *);
/* What an export document holds, counted for its audit record. */
void privacy_export_counts(const cJSON *, struct store_erased *);
/*
 * Disconnects a number (by its section name): its webhooks are answered
 * and stored nowhere from now on, its queued messages fail; with purge,
 * its contacts are erased as by privacy_erase_contacts. Audited.
 */
int privacy_disconnect(const struct relay_config *, struct store *,
    const char *name, int purge, const char *actor, cJSON **out,
    char **cause);
/* Takes a disconnected number back. */
int privacy_reconnect(struct store *, const char *name, const char *actor,
    char **cause);

/* Whether any [retention] period is set. */
int privacy_retention_set(const struct relay_config *);
/* Erases what [retention] says is past its time, in chunks of their own
 * transactions, each audited as a "sweep"; *out gets the counts. */
int privacy_sweep(const struct relay_config *, struct store *,
    const char *actor, int64_t now, cJSON **out, char **cause);
/* The sweep every [retention] sweep_interval, on a thread with its own
 * store connection; NULL (and no *cause) when no retention is set. */
struct privacy_sweeper;
struct privacy_sweeper *privacy_sweeper_start(const struct relay_config *,
    char **cause);
void privacy_sweeper_stop(struct privacy_sweeper *);

#endif
