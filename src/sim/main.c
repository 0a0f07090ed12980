/*
 * glivi-sim: the Cloud API simulator's command line (one options table
 * that also prints --help) and the serve lifecycle. What the simulator
 * does lives in its modules; this file only wires them together.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/fileutil.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "core/secret.h"
#include "core/xalloc.h"
#include "sim/graph.h"
#include "sim/hooks.h"
#include "sim/httpd.h"
#include "sim/sim.h"
#include "sim/state.h"

#define DEFAULT_NUMBER "106540352242922:15550783881"
#define DEFAULT_WABA "102290129340398"

enum opt_kind { OPT_STR, OPT_FLAG, OPT_FN };

struct sim_option {
	const char *name;
	const char *arg; /* shown in --help; NULL for a flag */
	enum opt_kind kind;
	size_t offset; /* OPT_STR: char *; OPT_FLAG: int */
	int (*set)(struct sim_config *, const char *, char **cause);
	const char *help;
};

static int set_number(struct sim_config *, const char *, char **);
static int set_delays(struct sim_config *, const char *, char **);
static int set_senders(struct sim_config *, const char *, char **);
static int set_log_level(struct sim_config *, const char *, char **);
static int set_media_url_ttl(struct sim_config *, const char *, char **);

#define S(f) OPT_STR, offsetof(struct sim_config, f), NULL
#define F(f) OPT_FLAG, offsetof(struct sim_config, f), NULL

static const struct sim_option options[] = {
	{ "listen", "HOST:PORT", S(listen),
	  "Address to serve on (default 127.0.0.1:0: a free port)." },
	{ "ready-file", "PATH", S(ready_file),
	  "Written atomically with \"host:port\" once listening." },
	{ "tls-cert", "PEM", S(tls_cert), "Certificate chain for HTTPS." },
	{ "tls-key", "PEM", S(tls_key), "Private key for HTTPS." },
	{ "plain-http", NULL, F(plain_http),
	  "Serve plain HTTP; only on a loopback listen address." },
	{ "access-token-file", "PATH", S(access_token_file),
	  "The bearer token callers must present (mode 0600). Required." },
	{ "app-secret-file", "PATH", S(app_secret_file),
	  "App secret that signs the webhooks sent (mode 0600); required\n"
	  "with --webhook-url." },
	{ "webhook-url", "URL", S(webhook_url),
	  "The relay's /webhook: https, or http to a loopback host. Without\n"
	  "it no webhook is posted." },
	{ "webhook-cacert", "PEM", S(webhook_cacert),
	  "CA that signs the webhook URL's certificate (default: system\n"
	  "CAs). Verification is always on." },
	{ "number", "ID[:DISPLAY]", OPT_FN, 0, set_number,
	  "A business number served: phone_number_id and display number\n"
	  "(digits). Repeatable; default " DEFAULT_NUMBER "." },
	{ "waba-id", "ID", S(waba_id),
	  "WhatsApp Business Account id (default " DEFAULT_WABA ")." },
	{ "delays", "SENT,DELIVERED,READ", OPT_FN, 0, set_delays,
	  "Milliseconds after an accepted send at which each status\n"
	  "webhook is posted; -1 leaves that status out (default\n"
	  "50,100,200)." },
	{ "webhook-senders", "N", OPT_FN, 0, set_senders,
	  "Webhooks posted at once, each sender with its own connection\n"
	  "(default 1: strictly in due order). Meta posts from many\n"
	  "servers; more senders keep up with thousands of statuses/s." },
	{ "all-windows-open", NULL, F(all_windows_open),
	  "Treat customers never heard from as inside the 24-hour window\n"
	  "(a window closed through /_sim/window stays closed)." },
	{ "media-url-ttl", "SECONDS", OPT_FN, 0, set_media_url_ttl,
	  "How long a media download URL from GET /{media-id} works\n"
	  "(default 300, Meta's 5 minutes; 0: expired at once)." },
	{ "log-level", "LEVEL", OPT_FN, 0, set_log_level,
	  "debug, info, warn or error (default info). Logs never hold\n"
	  "message text or tokens." },
	{ "help", NULL, OPT_FN, 0, NULL, "Print this help." },
	{ "version", NULL, OPT_FN, 0, NULL, "Print the version." },
};
#define NOPTIONS (sizeof options / sizeof options[0])

static void
usage(FILE *f)
{
	fprintf(f, "usage: glivi-sim serve [OPTIONS]\n"
	    "       glivi-sim --version | --help\n\n"
	    "A WhatsApp Cloud API simulator: serves the Graph API endpoints a\n"
	    "relay calls and posts signed webhooks to it. Options:\n\n");
	for (size_t i = 0; i < NOPTIONS; i++) {
		const char *h = options[i].help, *nl;

		fprintf(f, "  --%s%s%s\n", options[i].name,
		    options[i].arg ? " " : "", options[i].arg ?
		    options[i].arg : "");
		while ((nl = strchr(h, '\n')) != NULL) {
			fprintf(f, "      %.*s\n", (int)(nl - h), h);
			h = nl + 1;
		}
		fprintf(f, "      %s\n", h);
	}
	fprintf(f, "\nControl API: POST /_sim/inject, /_sim/inbound, "
	    "/_sim/status, /_sim/window,\n/_sim/media, /_sim/templates, "
	    "/_sim/reset; GET /_sim/sent, /_sim/read, /_sim/media,\n"
	    "/_sim/templates, /_sim/stats (see docs/simulator.md).\n");
}

static int
set_number(struct sim_config *cfg, const char *arg, char **cause)
{
	const char *colon = strchr(arg, ':'), *d;
	struct sim_number *n;
	size_t idlen = colon ? (size_t)(colon - arg) : strlen(arg);
	char display[32];

	for (size_t i = 0; i < idlen; i++) {
		if (arg[i] < '0' || arg[i] > '9')
			idlen = 0;
	}
	if (idlen == 0 || idlen > 30) {
		*cause = xasprintf("--number '%s': expected "
		    "PHONE_NUMBER_ID[:DISPLAY_NUMBER], digits", arg);
		return -1;
	}
	if (colon != NULL) {
		d = colon + 1;
		if (*d == '+')
			d++;
		if (*d == '\0' || strlen(d) >= sizeof display ||
		    strspn(d, "0123456789") != strlen(d)) {
			*cause = xasprintf("--number '%s': the display number "
			    "must be digits", arg);
			return -1;
		}
		snprintf(display, sizeof display, "%s", d);
	} else {
		/* 1555 and the id's last seven digits, zero-padded. */
		snprintf(display, sizeof display, "1555%07d",
		    atoi(arg + (idlen > 7 ? idlen - 7 : 0)) % 10000000);
	}
	for (size_t i = 0; i < cfg->nnumbers; i++) {
		if (strlen(cfg->numbers[i].id) == idlen &&
		    strncmp(cfg->numbers[i].id, arg, idlen) == 0) {
			*cause = xasprintf("--number '%s' given twice", arg);
			return -1;
		}
	}
	cfg->numbers = xrealloc(cfg->numbers, (cfg->nnumbers + 1) *
	    sizeof *cfg->numbers);
	n = &cfg->numbers[cfg->nnumbers++];
	n->id = xstrndup(arg, idlen);
	n->display = xstrdup(display);
	return 0;
}

static int
set_delays(struct sim_config *cfg, const char *arg, char **cause)
{
	const char *p = arg;
	char *end;
	long v;

	for (int i = 0; i < 3; i++) {
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno != 0 || v < -1 || v > 600000 ||
		    *end != (i < 2 ? ',' : '\0')) {
			*cause = xasprintf("--delays '%s': expected three "
			    "comma-separated milliseconds (0 to 600000, or -1 "
			    "to leave a status out)", arg);
			return -1;
		}
		cfg->delays[i] = v;
		p = end + 1;
	}
	return 0;
}

static int
set_senders(struct sim_config *cfg, const char *arg, char **cause)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (end == arg || *end != '\0' || errno != 0 || v < 1 || v > 64) {
		*cause = xasprintf("--webhook-senders '%s': expected 1 to 64",
		    arg);
		return -1;
	}
	cfg->webhook_senders = (size_t)v;
	return 0;
}

static int
set_log_level(struct sim_config *cfg, const char *arg, char **cause)
{
	enum log_level level;

	if (log_level_parse(arg, &level) != 0) {
		*cause = xasprintf("--log-level '%s': expected debug, info, "
		    "warn or error", arg);
		return -1;
	}
	free(cfg->log_level);
	cfg->log_level = xstrdup(arg);
	return 0;
}

static int
set_media_url_ttl(struct sim_config *cfg, const char *arg, char **cause)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (end == arg || *end != '\0' || errno != 0 || v < 0 || v > 86400) {
		*cause = xasprintf("--media-url-ttl '%s': expected seconds from "
		    "0 to 86400", arg);
		return -1;
	}
	cfg->media_url_ttl = v;
	return 0;
}

static void
config_free(struct sim_config *cfg)
{
	for (size_t i = 0; i < NOPTIONS; i++) {
		if (options[i].kind == OPT_STR)
			free(*(char **)(void *)((char *)cfg +
			    options[i].offset));
	}
	for (size_t i = 0; i < cfg->nnumbers; i++) {
		free(cfg->numbers[i].id);
		free(cfg->numbers[i].display);
	}
	free(cfg->numbers);
	free(cfg->log_level);
}

/* Returns 0 to serve, 1 after --help or --version, -1 on a bad option. */
static int
parse_options(int argc, char **argv, struct sim_config *cfg, char **cause)
{
	struct option longopts[NOPTIONS + 1];
	int opt;

	memset(longopts, 0, sizeof longopts);
	for (size_t i = 0; i < NOPTIONS; i++) {
		longopts[i].name = options[i].name;
		longopts[i].has_arg = options[i].arg ? required_argument :
		    no_argument;
		longopts[i].val = 256 + (int)i;
	}
	optind = 1;
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const struct sim_option *o;

		if (opt < 256 || opt >= 256 + (int)NOPTIONS) {
			*cause = xstrdup("see glivi-sim --help");
			return -1;
		}
		o = &options[opt - 256];
		if (strcmp(o->name, "help") == 0) {
			usage(stdout);
			return 1;
		}
		if (strcmp(o->name, "version") == 0) {
			printf("glivi-sim %s\n", GLIVI_VERSION);
			return 1;
		}
		switch (o->kind) {
		case OPT_STR: {
			char **p = (char **)(void *)((char *)cfg + o->offset);

			free(*p);
			*p = xstrdup(optarg);
			break;
		}
		case OPT_FLAG:
			*(int *)(void *)((char *)cfg + o->offset) = 1;
			break;
		case OPT_FN:
			if (o->set(cfg, optarg, cause) != 0)
				return -1;
			break;
		}
	}
	if (optind != argc) {
		*cause = xasprintf("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

static int
check_config(struct sim_config *cfg, char **cause)
{
	if (cfg->listen == NULL)
		cfg->listen = xstrdup("127.0.0.1:0");
	if (cfg->waba_id == NULL)
		cfg->waba_id = xstrdup(DEFAULT_WABA);
	if (cfg->nnumbers == 0 && set_number(cfg, DEFAULT_NUMBER, cause) != 0)
		return -1;
	if (cfg->access_token_file == NULL) {
		*cause = xstrdup("--access-token-file is required: the token "
		    "the relay must present");
		return -1;
	}
	if (cfg->plain_http == (cfg->tls_cert != NULL || cfg->tls_key !=
	    NULL) || (!cfg->plain_http && (cfg->tls_cert == NULL ||
	    cfg->tls_key == NULL))) {
		*cause = xstrdup("give --tls-cert and --tls-key, or "
		    "--plain-http on a loopback address");
		return -1;
	}
	if (cfg->webhook_url != NULL && cfg->app_secret_file == NULL) {
		*cause = xstrdup("--webhook-url needs --app-secret-file to sign "
		    "the webhooks");
		return -1;
	}
	return 0;
}


static int
die(const char *what, char *cause)
{
	fprintf(stderr, "glivi-sim: %s%s%s\n", what, cause ? ": " : "",
	    cause ? cause : "");
	free(cause);
	return 1;
}

static int
cmd_serve(int argc, char **argv)
{
	struct sim_config cfg;
	struct sim sim;
	struct hooks_options ho;
	struct httpd_options hto;
	struct httpd *httpd = NULL;
	char *cause = NULL, *host = NULL, *secret = NULL;
	size_t secret_len = 0;
	enum log_level level;
	sigset_t sigs;
	unsigned port;
	int sig = 0, loopback, rc;

	memset(&cfg, 0, sizeof cfg);
	cfg.delays[0] = 50;
	cfg.delays[1] = 100;
	cfg.delays[2] = 200;
	cfg.media_url_ttl = 300;
	rc = parse_options(argc, argv, &cfg, &cause);
	if (rc != 0) {
		config_free(&cfg);
		if (rc > 0)
			return 0;
		die("serve", cause);
		return 2;
	}
	if (check_config(&cfg, &cause) != 0) {
		config_free(&cfg);
		die("serve", cause);
		return 2;
	}
	if (cfg.log_level != NULL && log_level_parse(cfg.log_level,
	    &level) == 0)
		log_set_level(level);

	memset(&sim, 0, sizeof sim);
	sim.cfg = &cfg;
	rc = 1;
	sim.token = secret_read_file(cfg.access_token_file, &sim.token_len,
	    &cause);
	if (sim.token == NULL)
		goto fail;
	if (cfg.app_secret_file != NULL && (secret = secret_read_file(
	    cfg.app_secret_file, &secret_len, &cause)) == NULL)
		goto fail;

	/* Threads started below inherit a mask with the stop signals
	 * blocked; only sigwait() below takes them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cause = xstrdup("cannot initialise libcurl");
		goto fail;
	}

	sim.state = state_new();
	state_templates_set(sim.state, graph_default_templates(), 0, 1);
	memset(&ho, 0, sizeof ho);
	ho.url = cfg.webhook_url;
	ho.cacert = cfg.webhook_cacert;
	ho.secret = secret;
	ho.secret_len = secret_len;
	ho.stats = state_stats(sim.state);
	ho.senders = cfg.webhook_senders;
	if (hooks_start(&sim.hooks, &ho, &cause) != 0)
		goto fail;
	memset(&hto, 0, sizeof hto);
	hto.listen = cfg.listen;
	hto.tls_cert = cfg.tls_cert;
	hto.tls_key = cfg.tls_key;
	hto.plain_http = cfg.plain_http;
	/* Meta takes documents of up to 100 MB, in a multipart body. */
	hto.max_body = 101 * 1024 * 1024;
	if (httpd_start(&httpd, &hto, sim_dispatch, &sim, &port, &cause) != 0)
		goto fail;
	netaddr_parse(cfg.listen, &host, &(unsigned){ 0 }, &loopback,
	    &cause);
	log_info("glivi-sim %s: serving %s on %s:%u for %zu number(s), WABA "
	    "%s; webhooks to %s", GLIVI_VERSION, cfg.plain_http ?
	    "plain HTTP" : "HTTPS", host, port, cfg.nnumbers, cfg.waba_id,
	    cfg.webhook_url ? cfg.webhook_url : "nowhere");
	if (cfg.ready_file != NULL && file_write_ready(cfg.ready_file, host,
	    port) != 0)
		goto stop;
	sigwait(&sigs, &sig);
	log_info("signal %d: stopping; posting pending webhooks for up to 2 s",
	    sig);
	rc = 0;
stop:
	httpd_quiesce(httpd);
	hooks_stop(sim.hooks, 2000);
	httpd_stop(httpd);
	log_info("stopped");
	goto out;
fail:
	die("serve", cause);
	cause = NULL;
out:
	hooks_free(sim.hooks);
	state_free(sim.state);
	secret_free(sim.token, sim.token_len);
	secret_free(secret, secret_len);
	free(host);
	free(cause);
	config_free(&cfg);
	curl_global_cleanup();
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0)) {
		printf("glivi-sim %s\n", GLIVI_VERSION);
		return 0;
	}
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (argc >= 2)
		fprintf(stderr, "glivi-sim: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
