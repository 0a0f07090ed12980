/*
 * glivi-relay's configuration: one options table for every key, the loaded
 * values, and the business numbers ([number.NAME] sections) it serves.
 */
#ifndef GLIVI_RELAY_CONFIG_H
#define GLIVI_RELAY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct relay_number {
	char *name; /* the section's NAME: the inbox's short name */
	char *phone_number_id;
	char *waba_id;
	char *display_phone_number;
	int64_t store_id; /* filled in once the store is open */
};

struct relay_config {
	char *path;

	/* [server] */
	char *listen;
	char *tls_cert;
	char *tls_key;
	int plain_http;
	char *data_dir;
	long long threads;
	long long max_body;
	long long max_header;
	long long max_connections;
	long long timeout;
	long long group_commit_max;
	long long heartbeat;
	long long idempotency_retention;
	long long sync_page_max;
	long long media_max;

	/* [store] */
	char *store_url;
	long long raw_retention;

	/* [meta] */
	char *app_secret_file;
	char *verify_token_file;
	char *access_token_file;
	char *graph_url;
	char *graph_version;

	/* [outbound] */
	char *graph_ca_file;
	long long send_rate;
	long long pair_burst;
	long long pair_interval;
	long long max_attempts;
	long long request_timeout;
	long long ambiguous_timeout;
	long long send_concurrency;
	int read_receipts;
	long long template_refresh;

	/* [inbox] */
	char *auto_assign; /* "off" or "round-robin" */

	/* [retention] (0: keep) */
	long long retention_messages;
	long long retention_media;
	long long retention_closed;
	long long retention_interval;

	/* [log] */
	char *log_level;

	struct relay_number *numbers;
	size_t nnumbers;
};

int relay_config_load(const char *path, struct relay_config *, char **cause);
void relay_config_free(struct relay_config *);
const struct relay_number *relay_config_number(const struct relay_config *,
    const char *phone_number_id);
/* The commented sample file, generated from the options table. */
void relay_config_sample(struct buf *);

#endif
