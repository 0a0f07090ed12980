/*
 * glivi-tui: the commands table. With no command it will open the screen;
 * the subcommands work headless, for people who script: sync, search,
 * send, export, status, outbox, sample-config.
 *
 * Exit codes: 0 done; 1 failed (the relay refused or could not be
 * reached, the cache could not be used); 2 bad usage or configuration;
 * 75 (EX_TEMPFAIL) a write is queued but the relay could not be reached:
 * it goes with the next sync.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "client/cache.h"
#include "client/client.h"
#include "client/config.h"
#include "client/outbox.h"
#include "client/sync.h"
#include "core/buf.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "tui/screen.h"

#define EXIT_USAGE 2
#define EXIT_TEMPFAIL 75

struct command {
	const char *name;
	const char *usage;
	const char *help;
	int (*fn)(struct client *, int, char **);
	int needs_client;
};

static int cmd_sync(struct client *, int, char **);
static int cmd_search(struct client *, int, char **);
static int cmd_send(struct client *, int, char **);
static int cmd_export(struct client *, int, char **);
static int cmd_status(struct client *, int, char **);
static int cmd_outbox(struct client *, int, char **);

static const struct command commands[] = {
	{ "sync", "sync [--follow]", "Send the outbox and bring the cache up "
	  "to date; progress on stderr. --follow stays connected, applying "
	  "changes as they happen, until SIGTERM or SIGINT.", cmd_sync, 1 },
	{ "search", "search [--json] [--limit N] WORD...", "Search cached "
	  "messages and contacts (works offline); newest first.", cmd_search,
	  1 },
	{ "send", "send CONVERSATION TEXT|-", "Queue a text reply (- reads "
	  "it from stdin) and hand it to the relay.", cmd_send, 1 },
	{ "export", "export CONVERSATION", "Print a cached conversation as "
	  "JSON (works offline).", cmd_export, 1 },
	{ "status", "status [--json]", "Print the sync and outbox state "
	  "(works offline).", cmd_status, 1 },
	{ "outbox", "outbox [list|retry ID|discard ID]", "List the outbox; "
	  "queue a failed entry again, or drop it.", cmd_outbox, 1 },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void
usage(FILE *f)
{
	struct buf b;

	buf_init(&b);
	fprintf(f, "usage: glivi-tui [-c FILE]                  the inbox "
	    "screen\n       glivi-tui [-c FILE] COMMAND [ARGS]   headless\n"
	    "       glivi-tui [-c FILE] --dump-config\n"
	    "       glivi-tui keys | sample-config | --help | --version\n\n"
	    "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-34s %s\n", commands[i].usage, commands[i].help);
	fprintf(f, "  %-34s %s\n", "keys", "Show what the terminal sends for "
	    "each key and what glivi-tui reads (for key maps).");
	fprintf(f, "\nCONVERSATION is a conversation id or the customer's "
	    "WhatsApp number.\nExit: 0 done, 1 failed, 2 usage, 75 queued "
	    "for later.\n\nConfiguration keys (%s):\n", "glivi-tui.conf");
	client_config_help(&b);
	fputs(b.data, f);
	buf_free(&b);
}

/* Prints untrusted text on one line, neutralised. */
static void
put_safe(FILE *f, const char *s, size_t max)
{
	struct buf b;
	size_t n = s != NULL ? strlen(s) : 0;

	buf_init(&b);
	if (n > max)
		n = max;
	if (s != NULL)
		utf8_sanitize(s, n, 0, &b);
	fputs(b.data != NULL ? b.data : "", f);
	buf_free(&b);
}

static void
put_json(const cJSON *o)
{
	char *s = cJSON_Print(o);
	struct buf b;

	buf_init(&b);
	jx_terminal_safe(s, &b);
	puts(b.data);
	buf_free(&b);
	free(s);
}

static void
format_time(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || localtime_r(&tt, &tm) == NULL)
		snprintf(out, len, "-");
	else
		strftime(out, len, "%Y-%m-%d %H:%M", &tm);
}

/* -- running the loop until a command is done -------------------------- */

struct run {
	struct client *cl;
	int done;
	int rc;
	int once_sync;	     /* sync: waiting for the sync */
	int synced;
	int64_t wait_entry;  /* send: the outbox entry to wait for */
	int last_percent;
	int follow;
	enum sync_state last_state;
	int closing;
	int wrote; /* a write was accepted during this sync */
};

static void
check_outbox_done(struct run *r)
{
	struct outbox_entry e;

	if (r->wait_entry == 0 || cache_outbox_get(r->cl->cache,
	    r->wait_entry, &e) != 0)
		return;
	if (e.state == OUTBOX_ACCEPTED) {
		printf("accepted by the relay as message %lld\n",
		    (long long)e.result_id);
		r->rc = 0;
		r->done = 1;
	} else if (e.state == OUTBOX_FAILED) {
		fprintf(stderr, "glivi-tui: the relay refused it: ");
		put_safe(stderr, e.error, 500);
		fprintf(stderr, "\n(see 'glivi-tui outbox'; retry or discard "
		    "it there)\n");
		r->rc = 1;
		r->done = 1;
	} else if (e.attempts > 0 && outbox_in_flight(r->cl->outbox) == 0) {
		fprintf(stderr, "glivi-tui: queued as outbox entry %lld; the "
		    "relay could not be reached (", (long long)e.id);
		put_safe(stderr, e.error, 300);
		fprintf(stderr, "). It goes with the next 'glivi-tui sync' or "
		    "while the screen runs.\n");
		r->rc = EXIT_TEMPFAIL;
		r->done = 1;
	}
	outbox_entry_free(&e);
}

static void
on_event(void *arg, enum client_event ev, const char *detail)
{
	struct run *r = arg;
	const struct sync_status *st = sync_status(r->cl->sync);

	(void)detail;
	switch (ev) {
	case CLIENT_SYNC_STATE:
		if (st->state == SYNC_INITIAL && st->percent >= 0 &&
		    st->percent / 10 != r->last_percent / 10) {
			r->last_percent = st->percent;
			fprintf(stderr, "glivi-tui: first sync %d%% (%lld "
			    "messages)\n", st->percent,
			    (long long)st->messages);
		}
		if (r->follow && st->state != r->last_state) {
			r->last_state = st->state;
			if (st->state == SYNC_OFFLINE)
				fprintf(stderr, "glivi-tui: offline: %s\n",
				    st->error);
			else
				fprintf(stderr, "glivi-tui: %s\n",
				    sync_state_name(st->state));
		}
		if (r->once_sync && st->state == SYNC_OFFLINE) {
			fprintf(stderr, "glivi-tui: %s\n", st->error);
			r->rc = 1;
			r->done = 1;
		}
		break;
	case CLIENT_CAUGHT_UP:
		r->synced = 1;
		break;
	case CLIENT_OUTBOX:
		r->wrote = 1;
		check_outbox_done(r);
		break;
	default:
		break;
	}
}

static int
run_loop(struct run *r)
{
	int idle = 0;

	while (!r->done) {
		if (r->once_sync && r->synced &&
		    outbox_in_flight(r->cl->outbox) == 0) {
			/* Caught up, and nothing of ours is on the wire. */
			struct outbox_entry e[1];
			int due = cache_outbox_due(r->cl->cache, time(NULL), e,
			    1);

			if (due > 0)
				outbox_entry_free(&e[0]);
			if (r->wrote && !outbox_unreachable(r->cl->outbox)) {
				/* Our writes changed the relay: fetch that. */
				r->wrote = 0;
				r->synced = 0;
				sync_start(r->cl->sync, 1);
			} else if (due == 0 ||
			    outbox_unreachable(r->cl->outbox)) {
				r->done = 1;
				break;
			}
		}
		if (uv_run(r->cl->loop, UV_RUN_ONCE) == 0 && !r->done) {
			/* Nothing is pending on the loop. Unless a finished
			 * sync is still to be looked at above, nothing could
			 * finish the command any more. */
			if (idle++ > 0 || !(r->once_sync && r->synced))
				break;
		} else {
			idle = 0;
		}
	}
	return r->rc;
}

/* -- commands ---------------------------------------------------------- */

static void
on_stop_signal(uv_signal_t *h, int signum)
{
	struct run *r = h->data;

	(void)signum;
	r->done = 1;
	uv_stop(h->loop);
}

static void
on_signal_closed(uv_handle_t *h)
{
	struct run *r = h->data;

	r->closing--;
}

static int
cmd_sync(struct client *cl, int argc, char **argv)
{
	struct run r = { cl, 0, 0, 1, 0, 0, -10, 0, SYNC_IDLE };
	const struct sync_status *st;
	struct outbox_counts oc;
	uv_signal_t sigterm, sigint;

	if (argc == 2 && strcmp(argv[1], "--follow") == 0) {
		r.follow = 1;
		r.once_sync = 0;
	} else if (argc != 1) {
		fprintf(stderr, "usage: glivi-tui sync [--follow]\n");
		return EXIT_USAGE;
	}
	cl->on_event = on_event;
	cl->arg = &r;
	outbox_kick(cl->outbox);
	sync_start(cl->sync, !r.follow);
	if (r.follow) {
		uv_signal_init(cl->loop, &sigterm);
		uv_signal_init(cl->loop, &sigint);
		sigterm.data = sigint.data = &r;
		uv_signal_start(&sigterm, on_stop_signal, SIGTERM);
		uv_signal_start(&sigint, on_stop_signal, SIGINT);
		while (!r.done)
			uv_run(cl->loop, UV_RUN_DEFAULT);
		r.closing = 2;
		uv_close((uv_handle_t *)&sigterm, on_signal_closed);
		uv_close((uv_handle_t *)&sigint, on_signal_closed);
		/* They live on this stack: wait until libuv let go. */
		while (r.closing > 0)
			uv_run(cl->loop, UV_RUN_ONCE);
		fprintf(stderr, "glivi-tui: stopped\n");
		return 0;
	}
	run_loop(&r);
	st = sync_status(cl->sync);
	if (r.rc == 0 && r.synced) {
		cache_meta_set_int(cl->cache, "synced_at", time(NULL));
		cache_outbox_counts(cl->cache, &oc);
		fprintf(stderr, "glivi-tui: up to date (%lld changes applied%s)"
		    "; outbox: %lld queued, %lld failed\n",
		    (long long)st->applied, st->rebuilt ? ", cache rebuilt" :
		    "", (long long)oc.queued, (long long)oc.failed);
		if (oc.queued > 0 && outbox_unreachable(cl->outbox))
			return EXIT_TEMPFAIL;
	}
	return r.rc;
}

static void
print_hit(void *arg, const struct cache_hit *h)
{
	char when[32];

	if (arg != NULL) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "kind", h->kind);
		cJSON_AddNumberToObject(o, "id", (double)h->id);
		if (h->conversation_id > 0)
			cJSON_AddNumberToObject(o, "conversation_id",
			    (double)h->conversation_id);
		cJSON_AddNumberToObject(o, "timestamp", (double)h->timestamp);
		jx_add_str(o, "contact", h->contact);
		jx_add_str(o, "text", h->text);
		cJSON_AddItemToArray(arg, o);
		return;
	}
	format_time(h->timestamp, when, sizeof when);
	printf("%s\t%lld\t%lld\t%s\t", h->kind, (long long)h->conversation_id,
	    (long long)h->id, when);
	put_safe(stdout, h->contact, 80);
	putchar('\t');
	put_safe(stdout, h->text, 300);
	putchar('\n');
}

static int
cmd_search(struct client *cl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct buf q;
	cJSON *arr = NULL;
	char *cause = NULL;
	int json = 0, limit = 50, c, n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+jn:", longopts, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'n' && (limit = atoi(optarg)) > 0 &&
		    limit <= 10000)
			;
		else {
			fprintf(stderr, "usage: glivi-tui search [--json] "
			    "[--limit 1-10000] WORD...\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: glivi-tui search [--json] [--limit N] "
		    "WORD...\n");
		return EXIT_USAGE;
	}
	buf_init(&q);
	for (int i = optind; i < argc; i++) {
		if (q.len > 0)
			buf_adds(&q, " ");
		buf_adds(&q, argv[i]);
	}
	if (json)
		arr = cJSON_CreateArray();
	n = cache_search(cl->cache, q.data, limit, print_hit, arr, &cause);
	buf_free(&q);
	if (n < 0) {
		fprintf(stderr, "glivi-tui: %s\n", cause);
		free(cause);
		cJSON_Delete(arr);
		return 1;
	}
	if (json)
		put_json(arr);
	cJSON_Delete(arr);
	return 0;
}

static int
conversation_arg(struct client *cl, const char *spec, int64_t *id)
{
	if (cache_find_conversation(cl->cache, spec, id) == 0)
		return 0;
	/* Not cached (yet): a plain id still goes; the relay decides. */
	if (spec[0] != '+' && spec[0] != '\0' &&
	    strspn(spec, "0123456789") == strlen(spec) && strlen(spec) < 12 &&
	    (*id = strtoll(spec, NULL, 10)) > 0)
		return 0;
	fprintf(stderr, "glivi-tui: no conversation '");
	put_safe(stderr, spec, 40);
	fprintf(stderr, "' in the cache (run 'glivi-tui sync'?)\n");
	return -1;
}

static char *
read_stdin(size_t max, int *too_big)
{
	struct buf b;
	char chunk[4096];
	size_t n;

	buf_init(&b);
	*too_big = 0;
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
		if (b.len + n > max) {
			*too_big = 1;
			break;
		}
		buf_add(&b, chunk, n);
	}
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return b.data != NULL ? buf_steal(&b) : xstrdup("");
}

/* What the relay would refuse anyway, said before anything is queued. */
static const char *
check_text(const char *t, size_t len)
{
	long units;
	size_t i;

	if (memchr(t, '\0', len) != NULL)
		return "the text holds a NUL byte";
	if ((units = utf8_utf16_length(t, len)) < 0)
		return "the text is not valid UTF-8";
	for (i = 0; i < len && (t[i] == ' ' || t[i] == '\n' || t[i] == '\t');
	    i++)
		;
	if (i == len)
		return "the text is empty";
	if (units > 4096)
		return "the text is longer than WhatsApp's 4096 characters";
	if (utf8_has_controls(t, len))
		return "the text holds control characters";
	return NULL;
}

static int
cmd_send(struct client *cl, int argc, char **argv)
{
	struct run r = { cl, 0, 0, 0, 0, 0, 0, 0, SYNC_IDLE };
	cJSON *body;
	char *text, *json, *path, *cause = NULL;
	const char *bad;
	int64_t conv, id;
	int too_big = 0, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: glivi-tui send CONVERSATION TEXT|-\n");
		return EXIT_USAGE;
	}
	if (conversation_arg(cl, argv[1], &conv) != 0)
		return 1;
	text = strcmp(argv[2], "-") == 0 ? read_stdin(64 * 1024, &too_big) :
	    xstrdup(argv[2]);
	if ((bad = too_big ? "the text is longer than 64 KiB" :
	    check_text(text, strlen(text))) != NULL) {
		fprintf(stderr, "glivi-tui: not sent: %s\n", bad);
		free(text);
		return EXIT_USAGE;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "type", "text");
	cJSON_AddStringToObject(body, "text", text);
	json = jx_print(body);
	cJSON_Delete(body);
	free(text);
	path = xasprintf("/api/v1/conversations/%lld/messages",
	    (long long)conv);
	cl->on_event = on_event;
	cl->arg = &r;
	rc = outbox_queue(cl, conv, "message", "POST", path, json, &id, &cause);
	free(path);
	free(json);
	if (rc != 0) {
		fprintf(stderr, "glivi-tui: %s\n", cause);
		free(cause);
		return 1;
	}
	r.wait_entry = id;
	return run_loop(&r);
}

static int
cmd_export(struct client *cl, int argc, char **argv)
{
	cJSON *o;
	int64_t id;

	if (argc != 2) {
		fprintf(stderr, "usage: glivi-tui export CONVERSATION\n");
		return EXIT_USAGE;
	}
	if (cache_find_conversation(cl->cache, argv[1], &id) != 0 ||
	    (o = cache_export_conversation(cl->cache, id)) == NULL) {
		fprintf(stderr, "glivi-tui: no conversation '");
		put_safe(stderr, argv[1], 40);
		fprintf(stderr, "' in the cache\n");
		return 1;
	}
	put_json(o);
	cJSON_Delete(o);
	return 0;
}

static void
entry_json(void *arg, const struct outbox_entry *e)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)e->id);
	cJSON_AddStringToObject(o, "kind", e->kind);
	if (e->conversation_id > 0)
		cJSON_AddNumberToObject(o, "conversation_id",
		    (double)e->conversation_id);
	cJSON_AddStringToObject(o, "state", outbox_state_name(e->state));
	if (e->delivery != NULL)
		cJSON_AddStringToObject(o, "delivery", e->delivery);
	cJSON_AddNumberToObject(o, "attempts", (double)e->attempts);
	jx_add_str(o, "error", e->error);
	if (e->result_id > 0)
		cJSON_AddNumberToObject(o, "result_id", (double)e->result_id);
	cJSON_AddNumberToObject(o, "created_at", (double)e->created_at);
	cJSON_AddItemToArray(arg, o);
}

static void
entry_line(void *arg, const struct outbox_entry *e)
{
	char when[32];

	(void)arg;
	format_time(e->created_at, when, sizeof when);
	printf("%6lld  %-8s %-8s %-10s conversation %-6lld %s",
	    (long long)e->id, outbox_state_name(e->state),
	    e->delivery != NULL ? e->delivery : "-", e->kind,
	    (long long)e->conversation_id, when);
	if (e->error != NULL && e->state != OUTBOX_ACCEPTED) {
		printf("  ");
		put_safe(stdout, e->error, 200);
	}
	putchar('\n');
}

static int
cmd_status(struct client *cl, int argc, char **argv)
{
	struct cache_counts n;
	struct outbox_counts oc;
	int64_t synced = 0;
	char *cursor = cache_cursor(cl->cache);
	char when[32];
	int json = argc == 2 && strcmp(argv[1], "--json") == 0;

	if (argc > 2 || (argc == 2 && !json)) {
		free(cursor);
		fprintf(stderr, "usage: glivi-tui status [--json]\n");
		return EXIT_USAGE;
	}
	cache_meta_get_int(cl->cache, "synced_at", &synced);
	if (cache_counts(cl->cache, &n) != 0 ||
	    cache_outbox_counts(cl->cache, &oc) != 0) {
		free(cursor);
		fprintf(stderr, "glivi-tui: cannot read the cache %s\n",
		    cache_path(cl->cache));
		return 1;
	}
	if (json) {
		cJSON *o = cJSON_CreateObject(), *c = cJSON_CreateObject();
		cJSON *ob = cJSON_CreateObject(), *pending = cJSON_CreateArray();

		cJSON_AddStringToObject(o, "relay", cl->cfg->url);
		cJSON_AddStringToObject(o, "cache", cache_path(cl->cache));
		cJSON_AddBoolToObject(o, "synced", cursor != NULL &&
		    !cache_initial(cl->cache));
		cJSON_AddNumberToObject(o, "synced_at", (double)synced);
		cJSON_AddNumberToObject(c, "conversations",
		    (double)n.conversations);
		cJSON_AddNumberToObject(c, "messages", (double)n.messages);
		cJSON_AddNumberToObject(c, "contacts", (double)n.contacts);
		cJSON_AddNumberToObject(c, "orders", (double)n.orders);
		cJSON_AddNumberToObject(c, "notes", (double)n.notes);
		cJSON_AddNumberToObject(c, "templates", (double)n.templates);
		cJSON_AddNumberToObject(c, "labels", (double)n.labels);
		cJSON_AddNumberToObject(c, "canned_replies",
		    (double)n.canned_replies);
		cJSON_AddNumberToObject(c, "history", (double)n.history);
		cJSON_AddItemToObject(o, "counts", c);
		cJSON_AddNumberToObject(ob, "queued", (double)oc.queued);
		cJSON_AddNumberToObject(ob, "accepted", (double)oc.accepted);
		cJSON_AddNumberToObject(ob, "failed", (double)oc.failed);
		cache_outbox_list(cl->cache, 1, entry_json, pending);
		cJSON_AddItemToObject(ob, "pending", pending);
		cJSON_AddItemToObject(o, "outbox", ob);
		put_json(o);
		cJSON_Delete(o);
		free(cursor);
		return 0;
	}
	format_time(synced, when, sizeof when);
	printf("relay    %s\ncache    %s\n", cl->cfg->url,
	    cache_path(cl->cache));
	printf("synced   %s%s\n", cursor == NULL ? "never" : when,
	    cursor != NULL && cache_initial(cl->cache) ?
	    " (first sync not finished)" : "");
	printf("cached   %lld conversations, %lld messages, %lld contacts, "
	    "%lld orders, %lld notes, %lld templates, %lld labels, "
	    "%lld canned replies, %lld history lines\n",
	    (long long)n.conversations, (long long)n.messages,
	    (long long)n.contacts, (long long)n.orders, (long long)n.notes,
	    (long long)n.templates, (long long)n.labels,
	    (long long)n.canned_replies, (long long)n.history);
	printf("outbox   %lld queued, %lld failed, %lld accepted\n",
	    (long long)oc.queued, (long long)oc.failed,
	    (long long)oc.accepted);
	cache_outbox_list(cl->cache, 1, entry_line, NULL);
	free(cursor);
	return 0;
}

static int
cmd_outbox(struct client *cl, int argc, char **argv)
{
	char *cause = NULL, *end;
	long long id;
	int rc;

	if (argc == 1 || (argc == 2 && strcmp(argv[1], "list") == 0)) {
		cache_outbox_list(cl->cache, 0, entry_line, NULL);
		return 0;
	}
	if (argc != 3 || (strcmp(argv[1], "retry") != 0 &&
	    strcmp(argv[1], "discard") != 0) ||
	    (id = strtoll(argv[2], &end, 10)) <= 0 || *end != '\0') {
		fprintf(stderr, "usage: glivi-tui outbox [list|retry ID|"
		    "discard ID]\n");
		return EXIT_USAGE;
	}
	rc = argv[1][0] == 'r' ? cache_outbox_requeue(cl->cache, id, &cause) :
	    cache_outbox_discard(cl->cache, id, &cause);
	if (rc != 0) {
		fprintf(stderr, "glivi-tui: %s\n", cause);
		free(cause);
		return 1;
	}
	printf("outbox entry %lld %s\n", id, argv[1][0] == 'r' ?
	    "queued again (it goes with the next sync)" : "discarded");
	return 0;
}

/* -- main -------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dump-config", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct client_config cfg;
	struct client cl;
	uv_loop_t loop;
	const struct command *cmd = NULL;
	char *path = NULL, *cause = NULL;
	enum log_level level;
	int c, dump = 0, rc;

	while ((c = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			free(path);
			path = xstrdup(optarg);
			break;
		case 'D':
			dump = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("glivi-tui %s\n", GLIVI_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0 && strcmp(argv[0], "keys") == 0) {
		setlocale(LC_CTYPE, "");
		return screen_key_dump();
	}
	if (argc > 0 && strcmp(argv[0], "sample-config") == 0) {
		struct buf b;

		buf_init(&b);
		client_config_sample(&b);
		fputs(b.data, stdout);
		buf_free(&b);
		return 0;
	}
	if (argc > 0) {
		for (size_t i = 0; i < NCOMMANDS; i++) {
			if (strcmp(commands[i].name, argv[0]) == 0)
				cmd = &commands[i];
		}
		if (cmd == NULL) {
			fprintf(stderr, "glivi-tui: unknown command '");
			put_safe(stderr, argv[0], 40);
			fprintf(stderr, "'\n");
			usage(stderr);
			return EXIT_USAGE;
		}
	}

	{
		int explicit = path != NULL;

		if (path == NULL)
			path = client_config_default_path();
		if (client_config_load(path, explicit, &cfg, &cause) != 0) {
			fprintf(stderr, "glivi-tui: %s\n", cause);
			free(cause);
			free(path);
			return EXIT_USAGE;
		}
		free(path);
	}
	if (log_level_parse(cfg.log_level, &level) == 0)
		log_set_level(level);
	if (dump) {
		struct buf b;

		buf_init(&b);
		client_config_dump(&cfg, &b);
		fputs(b.data, stdout);
		buf_free(&b);
		client_config_free(&cfg);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	/* The screen needs the terminal's character set; numbers and JSON
	 * stay in the C locale. */
	if (cmd == NULL)
		setlocale(LC_CTYPE, "");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	uv_loop_init(&loop);
	if (client_open(&cl, &loop, &cfg, &cause) != 0) {
		fprintf(stderr, "glivi-tui: %s\n", cause);
		free(cause);
		rc = 1;
	} else {
		if (cl.notice != NULL && cmd != NULL)
			fprintf(stderr, "glivi-tui: %s\n", cl.notice);
		rc = cmd != NULL ? cmd->fn(&cl, argc, argv) : screen_run(&cl);
		cl.on_event = NULL;
		client_close(&cl);
	}
	uv_loop_close(&loop);
	client_config_free(&cfg);
	curl_global_cleanup();
	return rc;
}
