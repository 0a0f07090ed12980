/*
 * glivi-tui's options table and loading; see config.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/config.h"
#include "core/options.h"
#include "core/secret.h"
#include "core/xalloc.h"

#define C(f) offsetof(struct client_config, f)
#define DAY (24 * 3600LL)

static const struct option_def client_options[] = {
	{ "relay", "url", OPT_STRING, "https://relay.example.com:8443", 0, 0,
	  OPT_REQUIRED, C(url),
	  "The relay's address: https://host:port. http:// is accepted\n"
	  "only for a loopback host (the demo)." },
	{ "relay", "token_file", OPT_STRING, NULL, 0, 0, 0, C(token_file),
	  "File holding your agent token ('glivi-relay agent add' prints\n"
	  "it). Refused unless only you can read it (chmod 600)." },
	{ "relay", "token_command", OPT_STRING, NULL, 0, 0, OPT_SECRET,
	  C(token_command),
	  "Instead of token_file: a command whose first line of output is\n"
	  "the token, run with /bin/sh -c (e.g. pass show glivi/alice)." },
	{ "relay", "ca_file", OPT_STRING, NULL, 0, 0, 0, C(ca_file),
	  "PEM file of the CA that signed the relay's certificate (or the\n"
	  "certificate itself when self-signed). Default: the system's CAs.\n"
	  "Verification is never turned off." },
	{ "relay", "pinned_pubkey", OPT_STRING, NULL, 0, 0, 0,
	  C(pinned_pubkey),
	  "Also require the relay's public key to be this one:\n"
	  "sha256//BASE64 (several joined by ';'), or a PEM or DER file." },
	{ "relay", "connect_timeout", OPT_DURATION, "10s", 1, 600, 0,
	  C(connect_timeout), "Time allowed to connect to the relay." },
	{ "relay", "request_timeout", OPT_DURATION, "60s", 1, 3600, 0,
	  C(request_timeout), "Time allowed for one request (not streams)." },
	{ "relay", "heartbeat_timeout", OPT_DURATION, "50s", 2, 3600, 0,
	  C(heartbeat_timeout),
	  "An event stream silent this long is taken as dead and\n"
	  "reconnected (about 2.5 of the relay's 20 s heartbeats)." },
	{ "cache", "dir", OPT_STRING, NULL, 0, 0, 0, C(cache_dir),
	  "Directory of the local cache, one file per relay (mode 0600).\n"
	  "Default: $XDG_DATA_HOME/glivi-tui, or ~/.local/share/glivi-tui." },
	{ "cache", "keep_days", OPT_INT, "0", 0, 36500, 0, C(keep_days),
	  "Days of messages kept offline (0: all the relay has). Older ones\n"
	  "leave the cache, its full-text index and its files after each\n"
	  "sync; the relay keeps them." },
	{ "sync", "page_size", OPT_INT, "1000", 1, 10000, 0, C(page_size),
	  "Entities asked for per sync page (the relay may send fewer)." },
	{ "outbox", "retry_max", OPT_DURATION, "5m", 1, DAY, 0, C(retry_max),
	  "Longest wait between two attempts to hand a queued reply to an\n"
	  "unreachable relay. Replies are never dropped." },
	{ "ui", "keymap", OPT_ENUM, "default", 0, 0, 0, C(keymap),
	  "Key map loaded on top of the default one: default (chat-client\n"
	  "keys), vi (j/k, g/G, h/l, i to type) or emacs (C-n/C-p, C-s).\n"
	  "docs/keymaps.md lists every action.", "default|vi|emacs" },
	{ "ui", "keys", OPT_STRING, NULL, 0, 0, 0, C(keys_file),
	  "Your own bindings, loaded last (an error names file:line).\n"
	  "Default: $XDG_CONFIG_HOME/glivi-tui/keys, when it exists." },
	{ "ui", "paste_confirm", OPT_INT, "10", 0, 100000, 0,
	  C(paste_confirm),
	  "A paste of more lines than this asks before it lands in the\n"
	  "draft (0: always ask)." },
	{ "ui", "opener", OPT_STRING, "xdg-open", 0, 0, 0, C(opener),
	  "Program that opens a downloaded media file, given the file's\n"
	  "path as its last argument. Split on spaces; run without a shell." },
	{ "ui", "read_receipts", OPT_BOOL, "true", 0, 0, 0, C(read_receipts),
	  "Opening a conversation marks it read for you, and the relay tells\n"
	  "the customer (blue ticks) when it is set to." },
	{ "notify", "bell", OPT_BOOL, "true", 0, 0, 0, C(notify_bell),
	  "Ring the terminal bell for a new message from a customer in a\n"
	  "conversation that is yours or unassigned (never for backlog)." },
	{ "notify", "command", OPT_STRING, NULL, 0, 0, 0, C(notify_command),
	  "Also run this for each such message, split on spaces, run without\n"
	  "a shell, with the contact's name (and the text, see below) as its\n"
	  "last arguments. Example: notify-send glivi" },
	{ "notify", "with_text", OPT_BOOL, "false", 0, 0, 0, C(notify_text),
	  "Pass the message's text to the command (sanitised, cut to 200\n"
	  "characters). Off: only the name, for screens others can see." },
	{ "log", "level", OPT_ENUM, "warn", 0, 0, 0, C(log_level),
	  "Least severe level logged.", "debug|info|warn|error" },
	{ "log", "file", OPT_STRING, NULL, 0, 0, 0, C(log_file),
	  "Log file. Default: standard error for the subcommands; the\n"
	  "screen logs nowhere unless this is set." },
	{ NULL },
};

char *
client_config_default_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (x != NULL && *x == '/')
		return xasprintf("%s/glivi-tui/glivi-tui.conf", x);
	return xasprintf("%s/.config/glivi-tui/glivi-tui.conf",
	    home != NULL ? home : "");
}

/*
 * Whether the authority of a URL (what follows "scheme://") is a loopback
 * host with an optional port: exactly localhost, [::1] or an IPv4 address
 * in 127/8. Comparing prefixes would pass 127.example.com or
 * localhost.example.com, and any '@' makes what precedes it user info:
 * curl connects to what follows.
 */
static int
is_loopback(const char *a)
{
	size_t n = strcspn(a, "/?#"), hlen;
	const char *colon;
	char host[16];
	struct in_addr in;

	if (memchr(a, '@', n) != NULL)
		return 0;
	if (a[0] == '[') {
		if (n < 5 || strncmp(a, "[::1]", 5) != 0)
			return 0;
		colon = a + 5;
		hlen = 5;
	} else {
		colon = memchr(a, ':', n);
		hlen = colon != NULL ? (size_t)(colon - a) : n;
	}
	if (hlen < n && (a[hlen] != ':' ||
	    strspn(a + hlen + 1, "0123456789") != n - hlen - 1))
		return 0;
	if (hlen == 5 && a[0] == '[')
		return 1;
	if (hlen == 9 && strncmp(a, "localhost", 9) == 0)
		return 1;
	if (hlen == 0 || hlen >= sizeof host)
		return 0;
	memcpy(host, a, hlen);
	host[hlen] = '\0';
	return inet_pton(AF_INET, host, &in) == 1 &&
	    (ntohl(in.s_addr) >> 24) == 127;
}

static int
check(struct client_config *cfg, char **cause)
{
	const char *u = cfg->url;

	if (strncmp(u, "https://", 8) != 0) {
		const char *host = strncmp(u, "http://", 7) == 0 ? u + 7 :
		    NULL;

		if (host == NULL) {
			*cause = xasprintf("url '%s' must start with https://",
			    u);
			return -1;
		}
		if (!is_loopback(host)) {
			*cause = xasprintf("url '%s': plain http:// is allowed "
			    "only to a loopback host; use https://", u);
			return -1;
		}
	}
	while (strlen(cfg->url) > 8 && cfg->url[strlen(cfg->url) - 1] == '/')
		cfg->url[strlen(cfg->url) - 1] = '\0';
	if (cfg->token_file != NULL && cfg->token_command != NULL) {
		*cause = xstrdup("[relay] has both token_file and "
		    "token_command; keep one");
		return -1;
	}
	if (cfg->token_file == NULL && cfg->token_command == NULL) {
		*cause = xstrdup("[relay] needs token_file or token_command");
		return -1;
	}
	return 0;
}

int
client_config_load(const char *path, int explicit, struct client_config *cfg,
    char **cause)
{
	char *inner = NULL;

	memset(cfg, 0, sizeof *cfg);
	if (access(path, F_OK) != 0 && !explicit) {
		*cause = xasprintf("%s: no configuration file. Make one from "
		    "'glivi-tui sample-config' and set [relay] url and "
		    "token_file", path);
		return -1;
	}
	cfg->path = xstrdup(path);
	if (options_load_file(client_options, cfg, path, cause) != 0)
		goto fail;
	if (check(cfg, &inner) != 0) {
		*cause = xasprintf("%s: %s", path, inner);
		free(inner);
		goto fail;
	}
	if (cfg->cache_dir == NULL) {
		const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

		if (x != NULL && *x == '/')
			cfg->cache_dir = xasprintf("%s/glivi-tui", x);
		else
			cfg->cache_dir = xasprintf("%s/.local/share/glivi-tui",
			    home != NULL ? home : "");
	}
	return 0;
fail:
	client_config_free(cfg);
	return -1;
}

void
client_config_free(struct client_config *cfg)
{
	options_free(client_options, cfg);
	free(cfg->path);
	memset(cfg, 0, sizeof *cfg);
}

void
client_config_sample(struct buf *out)
{
	static const char *sections[] = { "relay", "cache", "sync", "outbox",
		"ui", "notify", "log", NULL };

	buf_adds(out,
	    "; glivi-tui.conf: the sample configuration of glivi-tui(1).\n"
	    "; Copy it to ~/.config/glivi-tui/glivi-tui.conf and set url and\n"
	    "; token_file. Generated from the options table by\n"
	    "; 'glivi-tui sample-config'; a test keeps this file in step.\n"
	    "; Lines starting with ';' are comments; a commented key shows\n"
	    "; its default.\n\n");
	for (size_t i = 0; sections[i] != NULL; i++)
		options_sample(client_options, sections[i], sections[i], out);
}

void
client_config_dump(const struct client_config *cfg, struct buf *out)
{
	options_dump(client_options, cfg, out);
}

void
client_config_help(struct buf *out)
{
	options_help(client_options, out);
}

/* Runs token_command and keeps the first line of what it prints. */
static char *
token_from_command(const char *cmd, size_t *len, char **cause)
{
	char buf[4096];
	size_t n = 0;
	FILE *f;
	int status;

	fflush(NULL);
	if ((f = popen(cmd, "r")) == NULL) {
		*cause = xasprintf("token_command: cannot run: %s",
		    strerror(errno));
		return NULL;
	}
	while (n < sizeof buf - 1) {
		size_t got = fread(buf + n, 1, sizeof buf - 1 - n, f);

		if (got == 0)
			break;
		n += got;
	}
	/* Drain the rest so the command does not die of SIGPIPE. */
	while (fgetc(f) != EOF)
		;
	status = pclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	n = strlen(buf);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		explicit_bzero(buf, sizeof buf);
		*cause = xasprintf("token_command failed (exit status %d)",
		    status != -1 && WIFEXITED(status) ?
		    WEXITSTATUS(status) : -1);
		return NULL;
	}
	if (n == 0) {
		/* The rest of what it printed may still be a secret. */
		explicit_bzero(buf, sizeof buf);
		*cause = xstrdup("token_command printed no token");
		return NULL;
	}
	*len = n;
	{
		char *t = xstrndup(buf, n);

		explicit_bzero(buf, sizeof buf);
		return t;
	}
}

char *
client_config_token(const struct client_config *cfg, size_t *len,
    char **cause)
{
	char *t, *inner = NULL;

	if (cfg->token_command != NULL)
		return token_from_command(cfg->token_command, len, cause);
	if ((t = secret_read_file(cfg->token_file, len, &inner)) == NULL) {
		*cause = xasprintf("token_file: %s", inner);
		free(inner);
		return NULL;
	}
	if (strcspn(t, "\r\n") != *len || *len > 255) {
		secret_free(t, *len);
		*cause = xasprintf("token_file %s: holds more than one line "
		    "or a token longer than 255 characters", cfg->token_file);
		return NULL;
	}
	return t;
}
