/*
 * Turning a verified, parsed webhook into the store's one exact record:
 * dedupe by wamid and (wamid, status), statuses that never move backwards,
 * routing by phone_number_id, unknown types kept. Runs inside the caller's
 * transaction; knows the rules, not the SQL.
 */
#ifndef GLIVI_INGEST_H
#define GLIVI_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/wa.h"
#include "relay/config.h"
#include "relay/store.h"

/* biz_opaque_callback_data of the relay's own sends: prefix + message id. */
#define OUTBOUND_OPAQUE_PREFIX "glivi:"

struct ingest_result {
	int duplicate_delivery; /* the same bytes were stored before */
	unsigned messages;	/* new messages stored */
	unsigned messages_seen; /* messages stored before (retries) */
	unsigned statuses;
	unsigned statuses_seen;
	unsigned quarantined; /* changes for a number this relay does not serve */
	unsigned events;      /* other fields, errors, malformed items */
	int disconnected;     /* named a disconnected number: body not kept */
};

int ingest_webhook(struct store *, const struct relay_config *,
    const void *body, size_t len, const struct wa_batch *, int64_t now,
    struct ingest_result *);

/* Order items as stored: product, quantity, unit price as an exact decimal
 * string, currency. Caller deletes. */
cJSON *ingest_order_items(const cJSON *items);

/* An order's total as a decimal string, or NULL when an item lacks a
 * number or currencies differ. Exposed for tests. Caller frees. */
char *ingest_order_total(const cJSON *items, const char **currency);

#endif
