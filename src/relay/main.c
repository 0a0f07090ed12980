/*
 * glivi-relay: the commands table (serve, agent, inspect, sample-config)
 * and the serve lifecycle. Everything a command does lives in its module;
 * this file only parses arguments and wires modules together.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fileutil.h"
#include "core/jsonw.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/netaddr.h"
#include "core/xalloc.h"
#include "relay/agent.h"
#include "relay/committer.h"
#include "relay/fetcher.h"
#include "relay/media.h"
#include "relay/migrate.h"
#include "relay/outbound.h"
#include "relay/privacy.h"
#include "relay/config.h"
#include "relay/server.h"
#include "relay/templates.h"
#include "relay/store.h"
#include "relay/sync.h"

struct command {
	const char *name;
	const char *usage;
	const char *help;
	int (*fn)(int, char **);
};

static int cmd_serve(int, char **);
static int cmd_agent(int, char **);
static int cmd_inspect(int, char **);
static int cmd_erase(int, char **);
static int cmd_export(int, char **);
static int cmd_audit(int, char **);
static int cmd_number(int, char **);
static int cmd_sweep(int, char **);
static int cmd_migrate(int, char **);
static int print_audit(void *, const cJSON *);
static int cmd_sample_config(int, char **);
static int cmd_version(int, char **);
static int cmd_help(int, char **);

static const struct command commands[] = {
	{ "serve", "serve -c FILE [--ready-file PATH]",
	  "Receive webhooks and serve agents until SIGTERM or SIGINT.",
	  cmd_serve },
	{ "agent", "agent -c FILE add NAME [--role agent|admin] | list | "
		   "revoke NAME",
	  "Manage agent accounts; add prints the new token once.", cmd_agent },
	{ "inspect", "inspect -c FILE counts | changes [--since SEQ] | "
		     "entity KIND ID | message WAMID",
	  "Read the store as the sync API will serve it (JSON lines).",
	  cmd_inspect },
	{ "erase", "erase -c FILE contact ID|PHONE|USER_ID [--yes]",
	  "Erase a contact and everything held about them (on every number "
	  "the key matches); asks first unless --yes.", cmd_erase },
	{ "export", "export -c FILE contact ID|PHONE|USER_ID [-o DIR]",
	  "Everything held about a contact as JSON (stdout), or in DIR with "
	  "their media files.", cmd_export },
	{ "number", "number -c FILE disconnect NAME [--purge [--yes]] | "
		    "connect NAME | list",
	  "Stop (or resume) intake for a business number; --purge also "
	  "erases its conversations.", cmd_number },
	{ "sweep", "sweep -c FILE",
	  "Erase now what [retention] says is past its time (the relay also "
	  "does every sweep_interval).", cmd_sweep },
	{ "audit", "audit -c FILE [--since UNIX_TIME]",
	  "The audit trail of erasures, exports and other admin actions on "
	  "personal data (JSON lines).", cmd_audit },
	{ "migrate", "migrate --from URL --to URL [--yes | --check]",
	  "Copy a whole store into an empty database (SQLite to PostgreSQL "
	  "or back) and verify every table; asks first unless --yes. "
	  "--check only compares two stores.", cmd_migrate },
	{ "sample-config", "sample-config",
	  "Print the commented sample glivi-relay.conf.", cmd_sample_config },
	{ "version", "version", "Print the version.", cmd_version },
	{ "help", "help", "Print this help.", cmd_help },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void
usage(FILE *f)
{
	fprintf(f, "usage: glivi-relay COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n      %s\n", commands[i].usage,
		    commands[i].help);
}

static int
die(const char *what, char *cause)
{
	fprintf(stderr, "glivi-relay: %s%s%s\n", what, cause ? ": " : "",
	    cause ? cause : "");
	free(cause);
	return 1;
}

/* Parses "-c FILE" (or --config FILE) at the front of a command's args. */
static int
take_config(int *argc, char ***argv, const char **path)
{
	*path = NULL;
	if (*argc >= 2 && (strcmp((*argv)[0], "-c") == 0 ||
	    strcmp((*argv)[0], "--config") == 0)) {
		*path = (*argv)[1];
		*argc -= 2;
		*argv += 2;
	}
	return *path == NULL ? -1 : 0;
}

static int
open_store(const struct relay_config *cfg, struct store **st, char **cause)
{
	if (store_open(cfg->store_url, STORE_DURABLE, st, cause) != 0)
		return -1;
	if (store_begin(*st, cause) != 0)
		goto fail;
	for (size_t i = 0; i < cfg->nnumbers; i++) {
		struct relay_number *n = &cfg->numbers[i];

		if (store_number_ensure(*st, n->name, n->phone_number_id,
		    n->waba_id, &n->store_id, cause) != 0) {
			store_rollback(*st);
			goto fail;
		}
	}
	if (store_commit(*st, cause) != 0)
		goto fail;
	return 0;
fail:
	store_close(*st);
	*st = NULL;
	return -1;
}


/*
 * systemd credentials (LoadCredential=, LoadCredentialEncrypted=, so
 * systemd-creds can keep a secret encrypted on disk): when the service
 * runs with $CREDENTIALS_DIRECTORY and it holds a file of the secret's
 * name, that file is read instead of the configured one.
 */
static void
credential(char **path, const char *name)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char *p;

	if (dir == NULL || *dir != '/')
		return;
	p = xasprintf("%s/%s", dir, name);
	if (access(p, F_OK) != 0) {
		free(p);
		return;
	}
	log_info("reading %s from the systemd credential", name);
	free(*path);
	*path = p;
}

static int
cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "ack-without-storing", no_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	struct relay_config cfg;
	struct server srv;
	struct store *st = NULL;
	struct committer *committer = NULL;
	struct privacy_sweeper *sweeper = NULL;
	const char *config = NULL, *ready = NULL;
	char *access_token = NULL;
	size_t access_token_len = 0;
	char *cause = NULL, *host = NULL;
	enum log_level level;
	sigset_t sigs;
	unsigned port;
	int opt, sig = 0, discard = 0, loopback, rc = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'r':
			ready = optarg;
			break;
		case 'A':
			discard = 1;
			break;
		default:
			return 2;
		}
	}
	if (config == NULL || optind != argc) {
		fprintf(stderr, "usage: glivi-relay %s\n", commands[0].usage);
		return 2;
	}
	if (relay_config_load(config, &cfg, &cause) != 0)
		return die("config", cause);
	/* The options table admits only names log_level_parse knows. */
	if (log_level_parse(cfg.log_level, &level) == 0)
		log_set_level(level);

	memset(&srv, 0, sizeof srv);
	credential(&cfg.app_secret_file, "app_secret");
	credential(&cfg.verify_token_file, "verify_token");
	credential(&cfg.access_token_file, "access_token");
	srv.app_secret = secret_read_file(cfg.app_secret_file,
	    &srv.app_secret_len, &cause);
	if (srv.app_secret == NULL)
		goto fail;
	srv.verify_token = secret_read_file(cfg.verify_token_file,
	    &srv.verify_token_len, &cause);
	if (srv.verify_token == NULL)
		goto fail;
	if (cfg.access_token_file != NULL) {
		access_token = secret_read_file(cfg.access_token_file,
		    &access_token_len, &cause);
		if (access_token == NULL)
			goto fail;
	}

	/*
	 * Requests are allocated on the HTTP thread and their memory churns
	 * at thousands per second; glibc's default trimming hands freed arena
	 * tops back with madvise(), and the TLB shootdowns that follow cost
	 * more than the work itself. Keep freed memory for reuse instead.
	 */
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	mallopt(M_MMAP_THRESHOLD, 8 * 1024 * 1024);

	/* Threads started below inherit a mask with the stop signals
	 * blocked; only sigwait() below takes them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (open_store(&cfg, &st, &cause) != 0 ||
	    store_background_checkpoints(st, &cause) != 0)
		goto fail;
	committer = committer_start(st, &cfg, discard, &cause);
	if (committer == NULL)
		goto fail;
	if (access_token != NULL && !discard) {
		srv.outbound = outbound_start(&cfg, committer, access_token,
		    &cause);
		if (srv.outbound == NULL)
			goto fail;
		srv.fetcher = fetcher_start(&cfg, committer, access_token,
		    &cause);
		if (srv.fetcher == NULL)
			goto fail;
		srv.templates = templates_start(&cfg, committer, access_token,
		    &cause);
		if (srv.templates == NULL && cause != NULL)
			goto fail;
		if (srv.templates == NULL)
			log_info("no waba_id in any [number.*]: message "
			    "templates are not read from the Graph API");
	} else
		log_warn("no [meta] access_token_file: replies stay queued "
		    "and media is not fetched");
	if (server_start(&srv, &cfg, committer, &cause) != 0)
		goto fail;
	if (!discard && (sweeper = privacy_sweeper_start(&cfg, &cause)) ==
	    NULL && cause != NULL) {
		server_stop(&srv);
		goto out;
	}
	netaddr_parse(cfg.listen, &host, &port, &loopback, &cause);
	log_info("serving %s on %s:%u for %zu number(s)%s",
	    cfg.plain_http ? "plain HTTP" : "HTTPS", host, srv.port,
	    cfg.nnumbers, discard ? " WITHOUT STORING (benchmark baseline)" :
	    "");
	if (ready != NULL && file_write_ready(ready, host, srv.port) != 0) {
		server_stop(&srv);
		goto out;
	}
	sigwait(&sigs, &sig);
	log_info("signal %d: finishing queued webhooks and stopping", sig);
	server_stop(&srv);
	rc = 0;
	log_info("stopped");
	goto out;
fail:
	die("serve", cause);
	cause = NULL;
	outbound_stop(srv.outbound);
	fetcher_stop(srv.fetcher);
	fetcher_free(srv.fetcher);
	templates_stop(srv.templates);
	committer_stop(committer);
	outbound_free(srv.outbound);
	templates_free(srv.templates);
out:
	privacy_sweeper_stop(sweeper);
	committer_free(committer);
	store_close(st);
	secret_free(srv.app_secret, srv.app_secret_len);
	secret_free(srv.verify_token, srv.verify_token_len);
	secret_free(access_token, access_token_len);
	free(host);
	free(cause);
	relay_config_free(&cfg);
	return rc;
}

static int
print_agent(void *arg, const cJSON *a)
{
	const cJSON *revoked = cJSON_GetObjectItemCaseSensitive(a,
	    "revoked_at");

	printf("%-24s %-6s %s\n", jx_str(a, "name"), jx_str(a, "role"),
	    cJSON_IsNull(revoked) ? "active" : "revoked");
	return 0;
}

static int
cmd_agent(int argc, char **argv)
{
	struct relay_config cfg;
	struct store *st = NULL;
	const char *config, *role = "agent";
	char *cause = NULL, token[64];
	int rc = 1;

	argc--;
	argv++;
	if (take_config(&argc, &argv, &config) != 0 || argc < 1) {
		fprintf(stderr, "usage: glivi-relay %s\n", commands[1].usage);
		return 2;
	}
	if (relay_config_load(config, &cfg, &cause) != 0)
		return die("config", cause);
	if (open_store(&cfg, &st, &cause) != 0) {
		relay_config_free(&cfg);
		return die("store", cause);
	}
	if (strcmp(argv[0], "add") == 0 && (argc == 2 || (argc == 4 &&
	    strcmp(argv[2], "--role") == 0))) {
		if (argc == 4)
			role = argv[3];
		if (agent_add(st, argv[1], role, token, &cause) == 0) {
			printf("%s\n", token);
			fprintf(stderr, "agent '%s' (%s) added; the token above "
			    "is shown only now\n", argv[1], role);
			explicit_bzero(token, sizeof token);
			rc = 0;
		}
	} else if (strcmp(argv[0], "list") == 0 && argc == 1) {
		rc = store_agent_each(st, print_agent, NULL) == 0 ? 0 : 1;
	} else if (strcmp(argv[0], "revoke") == 0 && argc == 2) {
		if (agent_revoke(st, argv[1], &cause) == 0) {
			fprintf(stderr, "agent '%s' revoked\n", argv[1]);
			rc = 0;
		}
	} else {
		fprintf(stderr, "usage: glivi-relay %s\n", commands[1].usage);
		rc = 2;
	}
	if (cause != NULL)
		die("agent", cause);
	store_close(st);
	relay_config_free(&cfg);
	return rc;
}

static void
print_json_line(const cJSON *o)
{
	char *s = jx_print(o);

	printf("%s\n", s);
	free(s);
}

struct dump {
	struct store *st;
	int64_t last;
};

static int
print_change(void *arg, const char *kind, int64_t id, int64_t seq,
    int deleted)
{
	struct dump *d = arg;
	struct buf b;
	struct jw w;

	/* Each change exactly as sync serves it. */
	buf_init(&b);
	jw_init(&w, &b);
	sync_change_text(d->st, kind, id, seq, deleted, &w);
	printf("%.*s\n", (int)b.len, b.data);
	buf_free(&b);
	d->last = seq;
	return 0;
}

static int
cmd_inspect(int argc, char **argv)
{
	struct relay_config cfg;
	struct store *st = NULL;
	const char *config;
	char *cause = NULL, *end;
	cJSON *o = NULL;
	int64_t id;
	int rc = 0;

	argc--;
	argv++;
	if (take_config(&argc, &argv, &config) != 0 || argc < 1) {
		fprintf(stderr, "usage: glivi-relay %s\n", commands[2].usage);
		return 2;
	}
	if (relay_config_load(config, &cfg, &cause) != 0)
		return die("config", cause);
	if (store_open(cfg.store_url, STORE_RELAXED, &st, &cause) != 0) {
		relay_config_free(&cfg);
		return die("store", cause);
	}
	if (strcmp(argv[0], "counts") == 0 && argc == 1) {
		o = store_counts(st);
	} else if (strcmp(argv[0], "changes") == 0 && (argc == 1 ||
	    (argc == 3 && strcmp(argv[1], "--since") == 0))) {
		struct dump d = { st, argc == 3 ? strtoll(argv[2], NULL, 10) :
			0 };
		int64_t before;

		do {
			before = d.last;
			rc = store_changes(st, d.last, 1000, print_change, &d);
		} while (rc == 0 && d.last != before);
		rc = rc == 0 ? 0 : 1;
	} else if (strcmp(argv[0], "entity") == 0 && argc == 3) {
		id = strtoll(argv[2], &end, 10);
		o = *end == '\0' ? store_entity(st, argv[1], id) : NULL;
		rc = o ? 0 : 1;
		if (o == NULL)
			fprintf(stderr, "glivi-relay: no %s %s\n", argv[1],
			    argv[2]);
	} else if (strcmp(argv[0], "message") == 0 && argc == 2) {
		if (store_message_id_by_wamid(st, argv[1], &id) == 0 && id)
			o = store_entity(st, STORE_MESSAGE, id);
		rc = o ? 0 : 1;
		if (o == NULL)
			fprintf(stderr, "glivi-relay: no message %s\n", argv[1]);
	} else {
		fprintf(stderr, "usage: glivi-relay %s\n", commands[2].usage);
		rc = 2;
	}
	if (o != NULL)
		print_json_line(o);
	cJSON_Delete(o);
	store_close(st);
	relay_config_free(&cfg);
	return rc;
}

static int
cmd_sample_config(int argc, char **argv)
{
	struct buf b;

	buf_init(&b);
	relay_config_sample(&b);
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	return 0;
}

static int
cmd_version(int argc, char **argv)
{
	printf("glivi-relay %s\n", GLIVI_VERSION);
	return 0;
}

static int
cmd_help(int argc, char **argv)
{
	usage(stdout);
	return 0;
}

/* -- personal data: erase, export, audit ------------------------------ */

static const struct command *
command_named(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

static int
command_usage(const char *name)
{
	fprintf(stderr, "usage: glivi-relay %s\n", command_named(name)->usage);
	return 2;
}

/* Who runs an admin command, for the audit trail. */
static void
cli_actor(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw != NULL)
		snprintf(buf, len, "cli:%s", pw->pw_name);
	else
		snprintf(buf, len, "cli:uid %u", (unsigned)getuid());
}

#define CONTACTS_MAX 64

/* Opens the store and finds the contacts a key names: 0, or an exit
 * status. */
static int
open_contacts(const char *config, const char *key, struct relay_config *cfg,
    struct store **st, int64_t *ids, size_t *n)
{
	char *cause = NULL;

	if (*key == '\0' || strlen(key) > 128) {
		fprintf(stderr, "glivi-relay: a contact is named by its id, "
		    "WhatsApp number or user id\n");
		return 2;
	}
	if (relay_config_load(config, cfg, &cause) != 0)
		return die("config", cause);
	if (open_store(cfg, st, &cause) != 0) {
		relay_config_free(cfg);
		return die("store", cause);
	}
	if (store_contact_lookup(*st, key, ids, CONTACTS_MAX, n) != 0 ||
	    *n == 0) {
		fprintf(stderr, "glivi-relay: no contact matches\n");
		store_close(*st);
		relay_config_free(cfg);
		return 1;
	}
	return 0;
}

static int
cmd_erase(int argc, char **argv)
{
	struct relay_config cfg;
	struct store *st = NULL;
	const char *config, *key = NULL;
	char *cause = NULL, actor[96], line[64];
	int64_t ids[CONTACTS_MAX];
	size_t n;
	int yes = 0, rc;
	cJSON *counts = NULL;

	argc--;
	argv++;
	if (take_config(&argc, &argv, &config) != 0 || argc < 2 ||
	    strcmp(argv[0], "contact") != 0)
		return command_usage("erase");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0)
			yes = 1;
		else if (key == NULL && argv[i][0] != '-')
			key = argv[i];
		else
			return command_usage("erase");
	}
	if (key == NULL)
		return command_usage("erase");
	if ((rc = open_contacts(config, key, &cfg, &st, ids, &n)) != 0)
		return rc;
	fprintf(stderr, "This erases %zu contact(s) (id", n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s%" PRId64, i ? ", " : " ", ids[i]);
	fprintf(stderr, ") with every conversation, message, note, order and "
	    "media file held about them, on the relay and in every agent's "
	    "cache. It cannot be undone.\n");
	if (!yes) {
		fprintf(stderr, "Type 'erase' to go on: ");
		fflush(stderr);
		if (fgets(line, sizeof line, stdin) == NULL ||
		    strcmp(line, "erase\n") != 0) {
			fprintf(stderr, "glivi-relay: nothing erased\n");
			store_close(st);
			relay_config_free(&cfg);
			return 1;
		}
	}
	cli_actor(actor, sizeof actor);
	rc = privacy_erase_contacts(&cfg, st, ids, n, actor, &counts, &cause);
	if (rc == 0) {
		print_json_line(counts);
		cJSON_Delete(counts);
	} else {
		die("erase", cause);
	}
	store_close(st);
	relay_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}

/* Writes a new file, mode 0600, from fd_in (or data when fd_in < 0). */
static int
write_private(const char *path, int fd_in, const char *data, size_t len)
{
	char buf[65536];
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	if (fd_in < 0) {
		while (len > 0 && (n = write(fd, data, len)) > 0) {
			data += n;
			len -= (size_t)n;
		}
		rc = len == 0 ? 0 : -1;
	} else {
		while ((n = read(fd_in, buf, sizeof buf)) > 0) {
			if (write(fd, buf, (size_t)n) != n) {
				rc = -1;
				break;
			}
		}
		if (n < 0)
			rc = -1;
	}
	if (rc != 0 || fsync(fd) != 0 || close(fd) != 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "glivi-relay: %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Copies a held media file into dir/media. */
static int
export_copy(const struct relay_config *cfg, const char *dir, const char *id)
{
	char *from = media_path(cfg, id), *to = xasprintf("%s/media/%s", dir,
	    id);
	int fd, rc = -1;

	if ((fd = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		fprintf(stderr, "glivi-relay: media %s: %s\n", id,
		    strerror(errno));
	else {
		rc = write_private(to, fd, NULL, 0);
		close(fd);
	}
	free(from);
	free(to);
	return rc;
}

static int
cmd_export(int argc, char **argv)
{
	struct relay_config cfg;
	struct store *st = NULL;
	struct store_erased counts;
	const char *config, *key = NULL, *out = NULL;
	char *text, *path, actor[96], target[64];
	int64_t ids[CONTACTS_MAX];
	const cJSON *m;
	cJSON *doc;
	size_t n;
	int rc;

	argc--;
	argv++;
	if (take_config(&argc, &argv, &config) != 0 || argc < 2 ||
	    strcmp(argv[0], "contact") != 0)
		return command_usage("export");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc && out == NULL)
			out = argv[++i];
		else if (key == NULL && argv[i][0] != '-')
			key = argv[i];
		else
			return command_usage("export");
	}
	if (key == NULL || (out != NULL && *out == '\0'))
		return command_usage("export");
	if ((rc = open_contacts(config, key, &cfg, &st, ids, &n)) != 0)
		return rc;
	rc = 1;
	if (n > 1) {
		fprintf(stderr, "glivi-relay: %zu contacts match (one per "
		    "number); name one by id:", n);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %" PRId64, ids[i]);
		fprintf(stderr, "\n");
		goto out;
	}
	if ((doc = privacy_export(&cfg, st, ids[0])) == NULL) {
		fprintf(stderr, "glivi-relay: no contact matches\n");
		goto out;
	}
	text = jx_print(doc);
	if (out == NULL) {
		printf("%s\n", text);
		rc = 0;
	} else {
		/* A new private directory: an export is personal data. */
		path = xasprintf("%s/media", out);
		if (mkdir(out, 0700) != 0 || mkdir(path, 0700) != 0) {
			fprintf(stderr, "glivi-relay: %s: %s\n", out,
			    errno == EEXIST ? "exists already; name a new "
			    "directory" : strerror(errno));
			free(path);
			free(text);
			cJSON_Delete(doc);
			goto out;
		}
		free(path);
		path = xasprintf("%s/contact.json", out);
		rc = write_private(path, -1, text, strlen(text));
		free(path);
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(doc,
		    "media")) {
			if (rc == 0 && cJSON_IsTrue(cJSON_GetObjectItem(m,
			    "held")))
				rc = export_copy(&cfg, out, jx_str(m, "id"));
		}
		rc = rc == 0 ? 0 : 1;
		if (rc == 0)
			fprintf(stderr, "exported contact %" PRId64 " to %s\n",
			    ids[0], out);
	}
	free(text);
	if (rc == 0) {
		privacy_export_counts(doc, &counts);
		cli_actor(actor, sizeof actor);
		snprintf(target, sizeof target, "contact %" PRId64, ids[0]);
		if (privacy_audit_alone(&cfg, actor, "export", target,
		    &counts) != 0)
			rc = 1;
	}
	cJSON_Delete(doc);
out:
	store_close(st);
	relay_config_free(&cfg);
	return rc;
}

static int
cmd_number(int argc, char **argv)
{
	struct relay_config cfg;
	struct store *st = NULL;
	const char *config, *name = NULL, *verb;
	char *cause = NULL, actor[96], line[64];
	int purge = 0, yes = 0, rc = 1;
	cJSON *out = NULL;

	argc--;
	argv++;
	if (take_config(&argc, &argv, &config) != 0 || argc < 1)
		return command_usage("number");
	verb = argv[0];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--purge") == 0)
			purge = 1;
		else if (strcmp(argv[i], "--yes") == 0)
			yes = 1;
		else if (name == NULL && argv[i][0] != '-' &&
		    strlen(argv[i]) <= 64)
			name = argv[i];
		else
			return command_usage("number");
	}
	if (strcmp(verb, "list") == 0 ? name != NULL || purge || yes :
	    strcmp(verb, "connect") == 0 ? name == NULL || purge || yes :
	    strcmp(verb, "disconnect") == 0 ? name == NULL || (yes &&
	    !purge) : 1)
		return command_usage("number");
	if (relay_config_load(config, &cfg, &cause) != 0)
		return die("config", cause);
	if (open_store(&cfg, &st, &cause) != 0) {
		relay_config_free(&cfg);
		return die("store", cause);
	}
	cli_actor(actor, sizeof actor);
	if (strcmp(verb, "list") == 0) {
		rc = store_number_each(st, print_audit, NULL) == 0 ? 0 : 1;
	} else if (strcmp(verb, "connect") == 0) {
		rc = privacy_reconnect(st, name, actor, &cause) == 0 ? 0 : 1;
		if (rc == 0)
			fprintf(stderr, "number '%s' takes webhooks again\n",
			    name);
	} else {
		if (purge && !yes) {
			fprintf(stderr, "This erases every contact of number "
			    "'%s' with everything held about them. It cannot "
			    "be undone. Type 'erase' to go on: ", name);
			fflush(stderr);
			if (fgets(line, sizeof line, stdin) == NULL ||
			    strcmp(line, "erase\n") != 0) {
				fprintf(stderr, "glivi-relay: nothing "
				    "changed\n");
				goto done;
			}
		}
		rc = privacy_disconnect(&cfg, st, name, purge, actor, &out,
		    &cause) == 0 ? 0 : 1;
		if (rc == 0) {
			print_json_line(out);
			fprintf(stderr, "number '%s' disconnected: its "
			    "webhooks are answered and not stored. Unsubscribe "
			    "the app at Meta too (docs/data-protection.md), and "
			    "remove its section from the config when done.\n",
			    name);
		}
		cJSON_Delete(out);
	}
done:
	if (cause != NULL)
		die("number", cause);
	store_close(st);
	relay_config_free(&cfg);
	return rc;
}

static int
cmd_sweep(int argc, char **argv)
{
	struct relay_config cfg;
	struct store *st = NULL;
	const char *config;
	char *cause = NULL, actor[96];
	cJSON *out = NULL;
	int rc = 1;

	argc--;
	argv++;
	if (take_config(&argc, &argv, &config) != 0 || argc != 0)
		return command_usage("sweep");
	if (relay_config_load(config, &cfg, &cause) != 0)
		return die("config", cause);
	if (!privacy_retention_set(&cfg)) {
		fprintf(stderr, "glivi-relay: no [retention] period is set; "
		    "nothing to sweep\n");
		relay_config_free(&cfg);
		return 0;
	}
	if (open_store(&cfg, &st, &cause) != 0) {
		relay_config_free(&cfg);
		return die("store", cause);
	}
	cli_actor(actor, sizeof actor);
	if (privacy_sweep(&cfg, st, actor, (int64_t)time(NULL), &out,
	    &cause) == 0) {
		print_json_line(out);
		cJSON_Delete(out);
		rc = 0;
	} else
		die("sweep", cause);
	store_close(st);
	relay_config_free(&cfg);
	return rc;
}

static int
print_audit(void *arg, const cJSON *o)
{
	(void)arg;
	print_json_line(o);
	return 0;
}

static int
cmd_audit(int argc, char **argv)
{
	struct relay_config cfg;
	struct store *st = NULL;
	const char *config;
	char *cause = NULL, *end = NULL;
	long long since = 0;
	int rc;

	argc--;
	argv++;
	if (take_config(&argc, &argv, &config) != 0)
		return command_usage("audit");
	if (argc == 2 && strcmp(argv[0], "--since") == 0) {
		errno = 0;
		since = strtoll(argv[1], &end, 10);
		if (*argv[1] == '\0' || *end != '\0' || errno != 0 ||
		    since < 0)
			return command_usage("audit");
	} else if (argc != 0) {
		return command_usage("audit");
	}
	if (relay_config_load(config, &cfg, &cause) != 0)
		return die("config", cause);
	if (store_open(cfg.store_url, STORE_RELAXED, &st, &cause) != 0) {
		relay_config_free(&cfg);
		return die("store", cause);
	}
	rc = store_audit_each(st, since, print_audit, NULL) == 0 ? 0 : 1;
	store_close(st);
	relay_config_free(&cfg);
	return rc;
}

/*
 * Takes store urls, not a config: the relay's config names one store, and
 * a move is between two. Exits 0 when the copy matches the source table
 * for table, 1 otherwise.
 */
static int
cmd_migrate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "yes", no_argument, NULL, 'y' },
		{ "check", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct migrate_options o = { NULL, NULL, 0, 0 };
	char *cause = NULL;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "y", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			o.from = optarg;
			break;
		case 't':
			o.to = optarg;
			break;
		case 'y':
			o.yes = 1;
			break;
		case 'k':
			o.check = 1;
			break;
		default:
			return command_usage("migrate");
		}
	}
	if (optind != argc || o.from == NULL || o.to == NULL ||
	    (o.yes && o.check))
		return command_usage("migrate");
	rc = migrate_store(&o, &cause);
	if (rc < 0)
		return die("migrate", cause);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return cmd_version(0, NULL);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(0, NULL);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "glivi-relay: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
