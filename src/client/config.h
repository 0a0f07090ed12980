/*
 * glivi-tui's configuration: one options table drives loading, --help, the
 * sample glivi-tui.conf and --dump-config.
 */
#ifndef GLIVI_CLIENT_CONFIG_H
#define GLIVI_CLIENT_CONFIG_H

#include "core/buf.h"

struct client_config {
	char *path; /* the file read, or NULL when none existed */

	/* [relay] */
	char *url;
	char *token_file;
	char *token_command;
	char *ca_file;
	char *pinned_pubkey;
	long long connect_timeout;
	long long request_timeout;
	long long heartbeat_timeout;

	/* [cache] */
	char *cache_dir;
	long long keep_days;

	/* [sync] */
	long long page_size;

	/* [outbox] */
	long long retry_max;

	/* [ui] */
	char *keymap;
	char *keys_file;
	long long paste_confirm;
	char *opener;
	long long read_receipts;

	/* [notify] */
	long long notify_bell;
	char *notify_command;
	long long notify_text;

	/* [log] */
	char *log_level;
	char *log_file;
};

/*
 * The default path: $XDG_CONFIG_HOME/glivi-tui/glivi-tui.conf, or
 * ~/.config/glivi-tui/glivi-tui.conf. Caller frees.
 */
char *client_config_default_path(void);
/*
 * Loads path (which must exist when explicit is set; a missing default
 * file is an error that says how to make one). Fills the cache directory
 * default from $XDG_DATA_HOME.
 */
int client_config_load(const char *path, int explicit, struct client_config *,
    char **cause);
void client_config_free(struct client_config *);
void client_config_sample(struct buf *);
void client_config_dump(const struct client_config *, struct buf *);
void client_config_help(struct buf *);
/*
 * The agent's token, from token_file (refused when group or others can
 * read it) or the first line of token_command's output. Caller frees
 * with secret_free().
 */
char *client_config_token(const struct client_config *, size_t *len,
    char **cause);

#endif
