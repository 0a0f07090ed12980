/*
 * glivi-relay.conf: the options table, loading with "file:line: what is
 * wrong" errors, and the checks that need several keys at once (plain HTTP
 * only on loopback, a certificate when TLS is on).
 */
#include "relay/config.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ini.h"
#include "core/netaddr.h"
#include "core/options.h"
#include "core/xalloc.h"

#define C(f) offsetof(struct relay_config, f)
#define N(f) offsetof(struct relay_number, f)
#define DAY (86400LL)

static const struct option_def relay_options[] = {
	{ "server", "listen", OPT_STRING, "127.0.0.1:8443", 0, 0, 0, C(listen),
	  "Address and port to listen on: host:port, or [v6-address]:port.\n"
	  "Port 0 picks a free port (see serve --ready-file)." },
	{ "server", "tls_cert", OPT_STRING, "/etc/glivi-relay/cert.pem", 0, 0,
	  OPT_EXAMPLE, C(tls_cert),
	  "PEM certificate chain served to Meta and to agents.\n"
	  "Required unless plain_http = true." },
	{ "server", "tls_key", OPT_STRING, "/etc/glivi-relay/key.pem", 0, 0,
	  OPT_EXAMPLE, C(tls_key),
	  "PEM private key of tls_cert." },
	{ "server", "plain_http", OPT_BOOL, "false", 0, 0, 0, C(plain_http),
	  "Serve plain HTTP instead of HTTPS, for running behind a TLS\n"
	  "proxy. Accepted only when listen is a loopback address." },
	{ "server", "data_dir", OPT_STRING, "/var/lib/glivi-relay", 0, 0, 0,
	  C(data_dir), "Directory for media and other files." },
	{ "server", "threads", OPT_INT, "1", 1, 64, 0, C(threads),
	  "HTTP threads (TLS, signature checks, parsing). Storage has its\n"
	  "own thread; one HTTP thread keeps up with it on small machines." },
	{ "server", "max_body", OPT_SIZE, "4M", 1024, 64LL << 20, 0,
	  C(max_body),
	  "Largest request body accepted; larger ones get 413.\n"
	  "Meta's webhook payloads are at most 3 MB." },
	{ "server", "max_header", OPT_SIZE, "32k", 4096, 1 << 20, 0,
	  C(max_header),
	  "Memory for one request's line and headers; a request whose URL\n"
	  "and headers do not fit is refused." },
	{ "server", "max_connections", OPT_INT, "1024", 4, 100000, 0,
	  C(max_connections), "Most connections served at once." },
	{ "server", "timeout", OPT_DURATION, "60s", 1, DAY, 0, C(timeout),
	  "Idle time after which a connection is closed (slow clients)." },
	{ "server", "group_commit_max", OPT_INT, "256", 1, 100000, 0,
	  C(group_commit_max),
	  "Most webhooks made durable by one commit. Webhooks that arrive\n"
	  "while a commit is running share the next one; none waits for a\n"
	  "timer." },

	{ "server", "heartbeat", OPT_DURATION, "20s", 1, 3600, 0, C(heartbeat),
	  "Interval of the comment written to idle event streams, so\n"
	  "proxies keep them open and clients can tell a dead link." },
	{ "server", "idempotency_retention", OPT_DURATION, "30d", 3600,
	  3650 * DAY, 0, C(idempotency_retention),
	  "How long the answer to a write is kept under its\n"
	  "Idempotency-Key; longer than any client stays offline." },
	{ "server", "sync_page_max", OPT_INT, "1000", 1, 10000, 0,
	  C(sync_page_max), "Most entities one /api/v1/sync page holds." },
	{ "server", "media_max", OPT_SIZE, "100M", 1024, 1LL << 30, 0,
	  C(media_max),
	  "Largest media file the relay fetches from Meta or takes from an\n"
	  "agent (POST /api/v1/media); Meta's own limits per kind apply too\n"
	  "(images 5M, audio and video 16M, documents 100M). Files live in\n"
	  "data_dir/media." },

	{ "store", "url", OPT_STRING, "sqlite:/var/lib/glivi-relay/relay.db",
	  0, 0, 0, C(store_url),
	  "Where conversations live: sqlite:PATH (one relay), or\n"
	  "postgres://USER@HOST:PORT/DB (several relays on one database; the\n"
	  "password comes from PGPASSFILE or ~/.pgpass, never from here).\n"
	  "A relay holds one PostgreSQL connection per HTTP thread plus six." },
	{ "store", "raw_retention", OPT_DURATION, "30d", 0, 3650 * DAY, 0,
	  C(raw_retention),
	  "How long raw webhook bodies are kept for audit (0: not kept\n"
	  "past ingest). What they carried stays in conversations." },

	{ "meta", "app_secret_file", OPT_STRING, "/etc/glivi-relay/app_secret",
	  0, 0, OPT_REQUIRED, C(app_secret_file),
	  "File holding the Meta app secret that signs webhooks\n"
	  "(X-Hub-Signature-256). Must be mode 0600 or stricter." },
	{ "meta", "verify_token_file", OPT_STRING,
	  "/etc/glivi-relay/verify_token", 0, 0, OPT_REQUIRED,
	  C(verify_token_file),
	  "File holding the verify token typed into Meta's webhook setup." },
	{ "meta", "access_token_file", OPT_STRING, NULL, 0, 0, 0,
	  C(access_token_file),
	  "File holding the system-user access token for the Graph API." },
	{ "meta", "graph_url", OPT_STRING, "https://graph.facebook.com", 0, 0,
	  0, C(graph_url),
	  "Graph API base URL; plain http only on loopback (tests, demo)." },
	{ "meta", "graph_version", OPT_STRING, "v25.0", 0, 0, 0,
	  C(graph_version), "Graph API version pinned for calls to Meta." },

	{ "outbound", "ca_file", OPT_STRING, NULL, 0, 0, 0, C(graph_ca_file),
	  "CA bundle that signs graph_url's certificate, when it is not a\n"
	  "public one (the Cloud API simulator). Verification is always on." },
	{ "outbound", "rate", OPT_INT, "80", 1, 1000, 0, C(send_rate),
	  "Requests per second per business number, messages and read\n"
	  "receipts together (Meta's default throughput is 80/s; 1000/s\n"
	  "after an upgrade). No second ever holds more: the relay paces\n"
	  "about 2.5% under it, so jitter on the way cannot tip one over." },
	{ "outbound", "pair_burst", OPT_INT, "45", 1, 1000, 0, C(pair_burst),
	  "Messages one customer may get in a burst before the pair limit\n"
	  "spaces them by pair_interval (Meta answers 131056 past it)." },
	{ "outbound", "pair_interval", OPT_DURATION, "6s", 1, 3600, 0,
	  C(pair_interval),
	  "Once the burst is spent, the time between two messages to the\n"
	  "same customer." },
	{ "outbound", "max_attempts", OPT_INT, "8", 1, 100, 0,
	  C(max_attempts),
	  "Tries of a send that fails transiently (5xx, 429, rate limits,\n"
	  "connection failures) before it is marked failed." },
	{ "outbound", "request_timeout", OPT_DURATION, "20s", 1, 600, 0,
	  C(request_timeout), "How long one call to the Graph API may take." },
	{ "outbound", "ambiguous_timeout", OPT_DURATION, "5m", 1, DAY, 0,
	  C(ambiguous_timeout),
	  "A send whose answer was lost after the request went out is never\n"
	  "sent again blindly: the relay waits this long for a status webhook\n"
	  "naming it, then marks it 'may not have been sent'." },
	{ "outbound", "concurrency", OPT_INT, "32", 1, 1024, 0,
	  C(send_concurrency),
	  "Graph API requests in flight at once. Meta answers in 0.1-0.3 s,\n"
	  "so a number sending 80 messages/s needs about 25; 1000/s needs\n"
	  "several hundred. One customer never has two in flight." },
	{ "outbound", "read_receipts", OPT_BOOL, "true", 0, 0, 0,
	  C(read_receipts),
	  "When an agent marks a conversation read, tell WhatsApp, so the\n"
	  "customer sees blue ticks on the newest message the agent read." },
	{ "outbound", "template_refresh", OPT_DURATION, "1h", 1, 7 * DAY, 0,
	  C(template_refresh),
	  "How often each WABA's message templates (waba_id of the\n"
	  "[number.*] sections) are read from the Graph API; also at start." },

	{ "inbox", "auto_assign", OPT_ENUM, "off", 0, 0, 0, C(auto_assign),
	  "round-robin: a new conversation (or one reopened by the customer)\n"
	  "that nobody holds goes to the next agent online (with an open\n"
	  "event stream), in turn. off: it waits, unassigned.",
	  "off|round-robin" },

	{ "retention", "messages", OPT_DURATION, "0", 0, 3650 * DAY, 0,
	  C(retention_messages),
	  "How long messages are kept after their time (0: for ever). Older\n"
	  "ones are erased with their statuses and media, on the relay and,\n"
	  "through tombstones, in every agent's cache; raw webhook bodies\n"
	  "and stored write answers never outlive them. Queued replies stay." },
	{ "retention", "media", OPT_DURATION, "0", 0, 3650 * DAY, 0,
	  C(retention_media),
	  "How long media files fetched or uploaded are kept in\n"
	  "data_dir/media (0: as long as their messages)." },
	{ "retention", "closed_conversations", OPT_DURATION, "0", 0,
	  3650 * DAY, 0, C(retention_closed),
	  "How long a resolved conversation is kept after its last activity\n"
	  "(0: for ever); then it is erased whole, notes and orders too." },
	{ "retention", "sweep_interval", OPT_DURATION, "1h", 1, DAY, 0,
	  C(retention_interval),
	  "How often the retention sweep runs (also at start, and on\n"
	  "'glivi-relay sweep')." },

	{ "log", "level", OPT_ENUM, "info", 0, 0, 0, C(log_level),
	  "debug, info, warn or error. Logs never hold message text or\n"
	  "secrets.", "debug|info|warn|error" },
	{ NULL, NULL, 0, NULL, 0, 0, 0, 0, NULL },
};

static const struct option_def number_options[] = {
	{ "number.*", "phone_number_id", OPT_STRING, "106540352242922", 0, 0,
	  OPT_REQUIRED, N(phone_number_id),
	  "Meta's id of the business phone number (not the number itself):\n"
	  "webhooks are routed by it. One [number.NAME] section per number;\n"
	  "NAME is the inbox's short name." },
	{ "number.*", "waba_id", OPT_STRING, NULL, 0, 0, 0, N(waba_id),
	  "WhatsApp Business Account id the number belongs to." },
	{ "number.*", "display_phone_number", OPT_STRING, NULL, 0, 0, 0,
	  N(display_phone_number), "The number as people dial it." },
	{ NULL, NULL, 0, NULL, 0, 0, 0, 0, NULL },
};

#define NRELAY_OPTIONS (sizeof relay_options / sizeof relay_options[0])

#define NNUMBER_OPTIONS (sizeof number_options / sizeof number_options[0])

struct load_state {
	struct relay_config *cfg;
	unsigned char seen[NRELAY_OPTIONS];
	unsigned char number_seen[NNUMBER_OPTIONS];
	struct relay_number *number; /* section being read, or NULL */
	char section[160];
};

static int
finish_number(struct load_state *ls, char **cause)
{
	if (ls->number == NULL)
		return 0;
	if (ls->number->phone_number_id == NULL) {
		*cause = xasprintf("[%s] needs 'phone_number_id'", ls->section);
		return -1;
	}
	ls->number = NULL;
	return 0;
}

static int
on_key(void *ctx, const char *section, const char *key, const char *value,
    char **cause)
{
	struct load_state *ls = ctx;
	struct relay_config *cfg = ls->cfg;
	const struct option_def *o;

	if (key == NULL) {
		/* A new section closes the previous one. */
		if (finish_number(ls, cause) != 0)
			return -1;
		snprintf(ls->section, sizeof ls->section, "%s", section);
		if (strncmp(section, "number.", 7) == 0) {
			if (section[7] == '\0') {
				*cause = xstrdup("[number.] needs a name, as in "
				    "[number.main]");
				return -1;
			}
			memset(ls->number_seen, 0, sizeof ls->number_seen);
			for (size_t i = 0; i < cfg->nnumbers; i++) {
				if (strcmp(cfg->numbers[i].name,
				    section + 7) == 0) {
					*cause = xasprintf("[%s] appears twice",
					    section);
					return -1;
				}
			}
			cfg->numbers = xrealloc(cfg->numbers,
			    (cfg->nnumbers + 1) * sizeof *cfg->numbers);
			ls->number = &cfg->numbers[cfg->nnumbers++];
			memset(ls->number, 0, sizeof *ls->number);
			ls->number->name = xstrdup(section + 7);
			return 0;
		}
		for (o = relay_options; o->key != NULL; o++) {
			if (strcmp(o->section, section) == 0)
				return 0;
		}
		*cause = xasprintf("unknown section [%s]", section);
		return -1;
	}
	if (*section == '\0') {
		*cause = xasprintf("'%s' is outside any [section]", key);
		return -1;
	}
	if (ls->number != NULL) {
		o = options_find(number_options, section, key);
		if (o == NULL) {
			*cause = xasprintf("unknown key '%s' in [%s]", key,
			    section);
			return -1;
		}
		if (ls->number_seen[o - number_options]) {
			*cause = xasprintf("'%s' is set twice in [%s]", key,
			    section);
			return -1;
		}
		ls->number_seen[o - number_options] = 1;
		if (strcmp(key, "phone_number_id") == 0 &&
		    relay_config_number(cfg, value) != NULL) {
			*cause = xasprintf("phone_number_id %s is served by "
			    "[number.%s] already", value,
			    relay_config_number(cfg, value)->name);
			return -1;
		}
		return options_set(o, ls->number, value, cause);
	}
	o = options_find(relay_options, section, key);
	if (o == NULL) {
		*cause = xasprintf("unknown key '%s' in [%s]", key, section);
		return -1;
	}
	if (ls->seen[o - relay_options]) {
		*cause = xasprintf("'%s' is set twice in [%s]", key, section);
		return -1;
	}
	ls->seen[o - relay_options] = 1;
	return options_set(o, cfg, value, cause);
}

static int
check(const struct relay_config *cfg, char **cause)
{
	char *host = NULL;
	unsigned port;
	int loopback;

	if (netaddr_parse(cfg->listen, &host, &port, &loopback,
	    cause) != 0)
		return -1;
	free(host);
	if (cfg->plain_http && !loopback) {
		*cause = xasprintf("plain_http = true needs a loopback listen "
		    "address (127.0.0.1, ::1); '%s' is not one. Put a TLS "
		    "proxy in front or configure tls_cert and tls_key",
		    cfg->listen);
		return -1;
	}
	if (!cfg->plain_http && (cfg->tls_cert == NULL ||
	    cfg->tls_key == NULL)) {
		*cause = xstrdup("[server] needs tls_cert and tls_key (or "
		    "plain_http = true on a loopback address)");
		return -1;
	}
	if (strncmp(cfg->graph_url, "https://", 8) != 0) {
		char *h = NULL, *cause2 = NULL;
		unsigned p;
		int lb = 0;
		const char *rest = strncmp(cfg->graph_url, "http://", 7) == 0 ?
		    cfg->graph_url + 7 : NULL;
		char hostport[300];

		if (rest != NULL) {
			snprintf(hostport, sizeof hostport, "%.*s",
			    (int)strcspn(rest, "/"), rest);
			if (strchr(hostport, ':') == NULL)
				strncat(hostport, ":80", sizeof hostport -
				    strlen(hostport) - 1);
			if (netaddr_parse(hostport, &h, &p, &lb,
			    &cause2) != 0) {
				free(cause2);
				lb = 0;
			}
			free(h);
		}
		if (!lb) {
			*cause = xasprintf("graph_url '%s': must be https://, or "
			    "http:// on a loopback address (tests, demo)",
			    cfg->graph_url);
			return -1;
		}
	}
	if (cfg->nnumbers == 0) {
		*cause = xstrdup("no [number.NAME] section: the relay would "
		    "serve no business number");
		return -1;
	}
	return 0;
}

int
relay_config_load(const char *path, struct relay_config *cfg, char **cause)
{
	struct load_state ls;
	char *inner = NULL;

	memset(cfg, 0, sizeof *cfg);
	memset(&ls, 0, sizeof ls);
	ls.cfg = cfg;
	cfg->path = xstrdup(path);
	options_defaults(relay_options, cfg);
	if (ini_parse_file(path, on_key, &ls, cause) != 0)
		goto fail;
	if (finish_number(&ls, &inner) != 0 ||
	    options_check_required(relay_options, "meta", cfg, ls.seen,
	    &inner) != 0 || check(cfg, &inner) != 0) {
		*cause = xasprintf("%s: %s", path, inner);
		free(inner);
		goto fail;
	}
	return 0;
fail:
	relay_config_free(cfg);
	return -1;
}

void
relay_config_free(struct relay_config *cfg)
{
	options_free(relay_options, cfg);
	for (size_t i = 0; i < cfg->nnumbers; i++) {
		options_free(number_options, &cfg->numbers[i]);
		free(cfg->numbers[i].name);
	}
	free(cfg->numbers);
	free(cfg->path);
	memset(cfg, 0, sizeof *cfg);
}

const struct relay_number *
relay_config_number(const struct relay_config *cfg,
    const char *phone_number_id)
{
	if (phone_number_id == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->nnumbers; i++) {
		if (cfg->numbers[i].phone_number_id != NULL &&
		    strcmp(cfg->numbers[i].phone_number_id,
		    phone_number_id) == 0)
			return &cfg->numbers[i];
	}
	return NULL;
}

void
relay_config_sample(struct buf *out)
{
	static const char *sections[] = { "server", "store", "meta",
		"outbound", "inbox", "retention", "log", NULL };

	buf_adds(out,
	    "; glivi-relay.conf: the sample configuration of glivi-relay(8).\n"
	    "; Generated from the relay's options table by\n"
	    "; 'glivi-relay sample-config'; a test keeps this file in step.\n"
	    "; Lines starting with ';' are comments; a commented key shows\n"
	    "; its default.\n\n");
	for (size_t i = 0; sections[i] != NULL; i++)
		options_sample(relay_options, sections[i], sections[i], out);
	options_sample(number_options, "number.*", "number.main", out);
}
