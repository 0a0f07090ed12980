/*
 * The screen; see screen.h. This file is the glue: it owns the loop's
 * handles, turns input into actions (ui/commands.h) through the key map,
 * and draws the panes (list.c, thread.c, sidebar.c) where layout.c puts
 * them. What the panes show comes from the cache; what the agent does
 * goes through the outbox, so nothing typed is lost to a dropped link.
 */
#include "tui/screen.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "client/cache.h"
#include "client/client.h"
#include "client/outbox.h"
#include "client/sync.h"
#include "core/buf.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "tui/keymaps.h"
#include "tui/layout.h"
#include "tui/list.h"
#include "tui/sidebar.h"
#include "tui/theme.h"
#include "tui/thread.h"
#include "ui/canvas.h"
#include "ui/commands.h"
#include "ui/edit.h"
#include "ui/input.h"
#include "ui/keymap.h"
#include "ui/term.h"
#include "ui/text.h"

#define ESC_DELAY_MS 25	     /* a lone ESC is Escape after this */
#define PASTE_WAIT_MS 2000   /* a paste whose end does not come */
#define TICK_MS 15000	     /* times and window marks move */
#define DRAFT_SAVE_MS 2000   /* a draft is saved this long after a change */
#define COMPOSE_MAX EDIT_MAX
#define HITS_MAX 200
#define HISTORY_MAX 50
#define PRESENCE_MAX 32
#define PRESENCE_TTL 60	     /* seconds a viewing/typing mark lasts */
#define TYPING_EVERY 5	     /* seconds between our typing reports */
#define WA_TEXT_MAX 4096
#define SCREEN_PAGE_KIB 4096

enum mode {
	MODE_MAIN,
	MODE_HELP,
	MODE_PROMPT,
	MODE_SEARCH,
	MODE_CONFIRM,
};

struct hit {
	int64_t message;
	int64_t conversation;
	int64_t at;
	char *line; /* "name · text", sanitised */
};

struct presence {
	int64_t agent;
	int64_t conversation;
	int64_t at;
	char name[72];
	char state[16];
};

struct screen;
typedef void (*confirm_fn)(struct screen *);

struct screen {
	uv_loop_t *loop;
	struct client *cl;
	const struct client_config *cfg;
	struct term *term;
	struct canvas *cv;
	struct keymap *keys;
	struct input *input;
	struct list *list;
	struct thread *thread;
	struct sidebar *sidebar;
	struct edit *compose;
	struct edit *line; /* the prompt's or the search's */

	uv_poll_t in_poll;
	uv_signal_t sig_winch, sig_term, sig_int, sig_hup, sig_cont;
	uv_prepare_t draw;
	uv_timer_t esc_timer, tick, draft_timer;
	int handles;

	enum layout_focus focus;
	enum mode mode;
	int sidebar_on;
	int dirty, resized, quitting, suspended;
	int status_code;
	struct layout lay;

	int64_t me;
	char me_name[72];
	int64_t shown;	/* the conversation in the thread pane */
	int64_t reply_to;
	int note_mode; /* the draft is an internal note */
	int draft_changed;

	char msg[256];
	int msg_attr;

	/* help */
	char *help;
	unsigned help_top, help_lines;
	enum keymap_context help_ctx;

	/* search */
	struct hit *hits;
	size_t nhits, hit;

	/* prompt */
	char *history[HISTORY_MAX];
	int nhistory, hist_pos;
	int complete_after;
	char *complete_prefix;
	char complete_name[513];
	char complete_lang[32];

	/* confirm */
	confirm_fn on_yes;
	char *paste; /* a paste waiting for its confirmation */
	size_t paste_len;

	/* notifications and presence */
	int64_t notify_after;
	int live_before;
	struct presence presence[PRESENCE_MAX];
	int64_t typing_sent;
	int64_t viewing_sent;
};

static void run_command(struct screen *, int);
static void show_conversation(struct screen *);

static int64_t
now(void)
{
	return (int64_t)time(NULL);
}

static void
dirty(struct screen *s)
{
	s->dirty = 1;
}

static void
say(struct screen *s, int attr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A line in the status bar until the next key; text is ours or clean. */
static void
say(struct screen *s, int attr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof s->msg, fmt, ap);
	va_end(ap);
	s->msg_attr = attr;
	dirty(s);
}

/* A sanitised copy of outside text, for the status line. */
static void
say_outside(struct screen *s, int attr, const char *lead, const char *text)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, lead);
	if (text != NULL)
		utf8_sanitize(text, strlen(text), 0, &b);
	buf_add(&b, "", 1);
	say(s, attr, "%s", b.data);
	buf_free(&b);
}

/* -- the agent's writes, all through the outbox ------------------------ */

static int
queue(struct screen *s, int64_t conv, const char *kind, const char *method,
    const char *path, cJSON *body)
{
	char *json = body != NULL ? jx_print(body) : NULL, *cause = NULL;
	int64_t id;
	int rc;

	rc = outbox_queue(s->cl, conv, kind, method, path, json, &id, &cause);
	free(json);
	cJSON_Delete(body);
	if (rc != 0) {
		say_outside(s, THEME_ERROR, "not queued: ", cause);
		free(cause);
	}
	return rc;
}

static char *
conv_path(int64_t conv, const char *what)
{
	return xasprintf("/api/v1/conversations/%" PRId64 "/%s", conv, what);
}

static int
queue_conv(struct screen *s, int64_t conv, const char *kind, cJSON *body)
{
	char *path = conv_path(conv, strcmp(kind, "message") == 0 ?
	    "messages" : kind);
	int rc = queue(s, conv, kind, "POST", path, body);

	free(path);
	return rc;
}

/* Presence is not the agent's work: fire and forget, never queued. */
static void
presence_done(void *arg, const struct http_result *r)
{
	(void)arg;
	(void)r;
}

static void
send_presence(struct screen *s, int64_t conv, const char *state)
{
	struct http_request rq = { 0 };
	char *url, body[96];

	if (conv <= 0 || sync_status(s->cl->sync)->state != SYNC_LIVE)
		return;
	snprintf(body, sizeof body, "{\"conversation_id\":%" PRId64
	    ",\"state\":\"%s\"}", conv, state);
	url = client_url(s->cl, "/api/v1/presence");
	rq.method = "POST";
	rq.url = url;
	rq.body = body;
	rq.body_len = strlen(body);
	rq.on_done = presence_done;
	rq.arg = s;
	client_request(s->cl, &rq);
	free(url);
}

/* -- drafts ------------------------------------------------------------ */

static void
draft_save(struct screen *s)
{
	size_t len;
	const char *t;

	if (!s->draft_changed || s->shown == 0)
		return;
	t = edit_text(s->compose, &len);
	cache_draft_set(s->cl->cache, s->shown, len > 0 ? t : NULL);
	s->draft_changed = 0;
}

static void
on_draft_timer(uv_timer_t *h)
{
	draft_save(h->data);
}

static int typing_elsewhere(struct screen *, char *, size_t);

static void
draft_touched(struct screen *s)
{
	char who[72];

	/* Starting to type where someone else is typing: say so. */
	if (!s->draft_changed && typing_elsewhere(s, who, sizeof who))
		say(s, THEME_WARN, "%s is typing in this conversation too",
		    who);
	s->draft_changed = 1;
	uv_timer_start(&s->draft_timer, on_draft_timer, DRAFT_SAVE_MS, 0);
	if (s->shown != 0 && now() - s->typing_sent >= TYPING_EVERY) {
		send_presence(s, s->shown, "typing");
		s->typing_sent = now();
	}
}

static void
draft_load(struct screen *s)
{
	char *d = s->shown != 0 ? cache_draft_get(s->cl->cache, s->shown) :
	    NULL;

	edit_clear(s->compose);
	if (d != NULL)
		edit_insert(s->compose, d, strlen(d));
	free(d);
	s->draft_changed = 0;
}

/* -- the conversation on show ----------------------------------------- */

static int
conversation_window_open(struct screen *s, int64_t conv)
{
	cJSON *c = cache_entity(s->cl->cache, "conversation", conv);
	int64_t last = 0;

	if (c == NULL)
		return 1;
	jx_int64(c, "last_inbound_at", &last);
	cJSON_Delete(c);
	return last > 0 && now() - last < 86400;
}

static void
mark_read(struct screen *s)
{
	if (s->shown == 0 || !s->cfg->read_receipts || list_selected(s->list) !=
	    s->shown || list_selected_unread(s->list) == 0)
		return;
	if (queue_conv(s, s->shown, "read", cJSON_CreateObject()) == 0)
		list_mark_read(s->list);
}

/* The list's cursor moved: the thread, sidebar and draft follow it. */
static void
show_conversation(struct screen *s)
{
	int64_t id = list_selected(s->list);

	if (id == s->shown)
		return;
	draft_save(s);
	if (s->shown != 0 && s->viewing_sent)
		send_presence(s, s->shown, "idle");
	s->viewing_sent = 0;
	s->shown = id;
	s->reply_to = 0;
	s->note_mode = 0;
	thread_open(s->thread, id);
	sidebar_show(s->sidebar, id);
	draft_load(s);
	dirty(s);
}

static void
focus(struct screen *s, enum layout_focus f)
{
	s->focus = f;
	if (f != LAYOUT_LIST && s->shown != 0) {
		mark_read(s);
		if (!s->viewing_sent) {
			send_presence(s, s->shown, "viewing");
			s->viewing_sent = 1;
		}
	}
	dirty(s);
}

/* -- sending ---------------------------------------------------------- */

static void
send_draft(struct screen *s)
{
	size_t len;
	const char *t = edit_text(s->compose, &len), *p;
	long units;
	cJSON *body;

	if (s->shown == 0) {
		say(s, THEME_WARN, "No conversation to send to");
		return;
	}
	for (p = t; p < t + len && (*p == ' ' || *p == '\n'); p++)
		;
	if (p == t + len)
		return;
	if (s->note_mode) {
		/* A note never reaches WhatsApp: no window, no Meta limit. */
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "body", t);
		if (queue_conv(s, s->shown, "notes", body) != 0)
			return;
		edit_clear(s->compose);
		s->draft_changed = 1;
		draft_save(s);
		thread_reload(s->thread);
		say(s, THEME_OK, "Note queued (only agents see it)");
		return;
	}
	units = utf8_utf16_length(t, len);
	if (units > WA_TEXT_MAX) {
		say(s, THEME_ERROR, "Not sent: %ld characters, WhatsApp takes "
		    "at most %d (M-e edits it in your editor)", units,
		    WA_TEXT_MAX);
		return;
	}
	if (!conversation_window_open(s, s->shown)) {
		say(s, THEME_WARN, "Not sent: the 24-hour window is closed; "
		    "only a template can reach this customer (M-t)");
		return;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "type", "text");
	cJSON_AddStringToObject(body, "text", t);
	if (s->reply_to > 0)
		jx_add_int(body, "reply_to", s->reply_to);
	if (queue_conv(s, s->shown, "message", body) != 0)
		return;
	edit_clear(s->compose);
	s->reply_to = 0;
	s->draft_changed = 1;
	draft_save(s);
	thread_reload(s->thread);
	thread_bottom(s->thread);
	say(s, THEME_OK, "Queued");
}

/* -- modes ------------------------------------------------------------ */

static void
confirm(struct screen *s, confirm_fn fn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
confirm(struct screen *s, confirm_fn fn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof s->msg, fmt, ap);
	va_end(ap);
	s->msg_attr = THEME_WARN;
	s->on_yes = fn;
	s->mode = MODE_CONFIRM;
	dirty(s);
}

static void
quit_now(struct screen *s)
{
	s->quitting = 1;
	uv_stop(s->loop);
}

static void
quit(struct screen *s)
{
	struct outbox_counts n;

	if (cache_outbox_counts(s->cl->cache, &n) == 0 && n.queued +
	    n.failed > 0) {
		confirm(s, quit_now, "%" PRId64 " repl%s not sent yet (%"
		    PRId64 " failed). Quit anyway? (y/n)", n.queued + n.failed,
		    n.queued + n.failed == 1 ? "y is" : "ies are", n.failed);
		return;
	}
	quit_now(s);
}

static enum keymap_context
context(const struct screen *s)
{
	if (s->mode == MODE_PROMPT)
		return KEYMAP_PROMPT;
	if (s->mode == MODE_SEARCH)
		return KEYMAP_SEARCH;
	if (s->focus == LAYOUT_COMPOSE)
		return KEYMAP_COMPOSE;
	return s->focus == LAYOUT_THREAD ? KEYMAP_THREAD : KEYMAP_LIST;
}

static void
open_help(struct screen *s)
{
	struct buf b;
	const char *p;

	buf_init(&b);
	s->help_ctx = context(s);
	keymap_help(s->keys, s->help_ctx, &b);
	buf_add(&b, "", 1);
	free(s->help);
	s->help = buf_steal(&b);
	s->help_top = 0;
	s->help_lines = 0;
	for (p = s->help; *p != '\0'; p++)
		s->help_lines += *p == '\n';
	s->mode = MODE_HELP;
	dirty(s);
}

static void
help_key(struct screen *s, key_code k)
{
	unsigned page = s->lay.list.h + s->lay.thread.h > 4 ? 10 : 1;

	switch (k) {
	case 'j':
	case KEYC_DOWN:
		s->help_top++;
		break;
	case 'k':
	case KEYC_UP:
		if (s->help_top > 0)
			s->help_top--;
		break;
	case ' ':
	case KEYC_PAGEDOWN:
		s->help_top += page;
		break;
	case KEYC_PAGEUP:
		s->help_top = s->help_top > page ? s->help_top - page : 0;
		break;
	default:
		s->mode = MODE_MAIN;
		break;
	}
	if (s->help_lines > 0 && s->help_top >= s->help_lines)
		s->help_top = s->help_lines - 1;
	dirty(s);
}

/* -- search ----------------------------------------------------------- */

static void
hits_clear(struct screen *s)
{
	for (size_t i = 0; i < s->nhits; i++)
		free(s->hits[i].line);
	free(s->hits);
	s->hits = NULL;
	s->nhits = s->hit = 0;
}

static void
add_hit(void *arg, const struct cache_hit *h)
{
	struct screen *s = arg;
	struct hit *o;
	struct buf b;

	if (h->conversation_id == 0 || s->nhits >= HITS_MAX)
		return;
	s->hits = xreallocarray(s->hits, s->nhits + 1, sizeof *s->hits);
	o = &s->hits[s->nhits++];
	o->message = strcmp(h->kind, "message") == 0 ? h->id : 0;
	o->conversation = h->conversation_id;
	o->at = h->timestamp;
	buf_init(&b);
	if (h->contact != NULL)
		utf8_sanitize(h->contact, strlen(h->contact), 0, &b);
	buf_adds(&b, " · ");
	if (h->text != NULL)
		utf8_sanitize(h->text, strlen(h->text), 0, &b);
	buf_add(&b, "", 1);
	o->line = buf_steal(&b);
}

static void
search_run(struct screen *s)
{
	size_t len;
	const char *q = edit_text(s->line, &len);
	char *cause = NULL, *query;

	hits_clear(s);
	if (len == 0)
		return;
	/* As you type, the last word is a prefix: "bestell" finds
	 * "Bestellung". */
	query = q[len - 1] != ' ' && q[len - 1] != '*' ?
	    xasprintf("%.*s*", (int)len, q) : xstrndup(q, len);
	if (cache_search(s->cl->cache, query, HITS_MAX, add_hit, s,
	    &cause) < 0) {
		/* A half-typed query is normal; say why only when it is not. */
		if (cause != NULL && strstr(cause, "at least one word") == NULL)
			say_outside(s, THEME_WARN, "", cause);
		free(cause);
	}
	free(query);
	dirty(s);
}

/* Shows hit i in its thread. */
static void
search_open(struct screen *s, size_t i)
{
	const struct hit *h;

	if (i >= s->nhits)
		return;
	h = &s->hits[i];
	s->hit = i;
	if (list_select(s->list, h->conversation) != 0) {
		/* The filter hides it: show everything. */
		list_set_filter(s->list, CACHE_ASSIGNED_ANY, NULL, NULL);
		list_select(s->list, h->conversation);
	}
	show_conversation(s);
	if (h->message != 0)
		thread_jump(s->thread, h->message);
	say(s, THEME_NORMAL, "Result %zu of %zu (n/N for the next)", i + 1,
	    s->nhits);
}

static void
search_step(struct screen *s, int dir)
{
	if (s->nhits == 0) {
		say(s, THEME_WARN, "No search results (/ searches)");
		return;
	}
	if (s->mode == MODE_SEARCH) {
		if (dir > 0 && s->hit + 1 < s->nhits)
			s->hit++;
		else if (dir < 0 && s->hit > 0)
			s->hit--;
		dirty(s);
		return;
	}
	search_open(s, (s->hit + s->nhits + (size_t)(dir > 0 ? 1 : -1)) %
	    s->nhits);
}

/* -- the prompt's commands -------------------------------------------- */

struct prompt_cmd {
	const char *name;
	const char *args;
	int (*fn)(struct screen *, const char *rest);
};

static int
need_conversation(struct screen *s)
{
	if (s->shown == 0) {
		say(s, THEME_WARN, "No conversation selected");
		return -1;
	}
	return 0;
}

static int
pc_quit(struct screen *s, const char *rest)
{
	(void)rest;
	quit(s);
	return 0;
}

static int
pc_help(struct screen *s, const char *rest)
{
	(void)rest;
	open_help(s);
	return 0;
}

static int
pc_filter(struct screen *s, const char *rest)
{
	const struct cache_filter *f = list_filter(s->list);
	enum cache_assigned a = f->assigned;
	char word[32], arg[128];
	int n = sscanf(rest, "%31s %127s", word, arg);

	if (n < 1) {
		say(s, THEME_WARN, "filter mine|unassigned|all|status "
		    "STATUS|label LABEL|clear");
		return -1;
	}
	if (strcmp(word, "mine") == 0)
		list_set_filter(s->list, CACHE_ASSIGNED_ME, f->status, f->label);
	else if (strcmp(word, "unassigned") == 0)
		list_set_filter(s->list, CACHE_ASSIGNED_NOBODY, f->status,
		    f->label);
	else if (strcmp(word, "all") == 0)
		list_set_filter(s->list, CACHE_ASSIGNED_ANY, f->status, f->label);
	else if (strcmp(word, "clear") == 0)
		list_set_filter(s->list, CACHE_ASSIGNED_ANY, NULL, NULL);
	else if (strcmp(word, "status") == 0 && n == 2)
		list_set_filter(s->list, a, strcmp(arg, "any") == 0 ? NULL :
		    arg, f->label);
	else if (strcmp(word, "label") == 0)
		list_set_filter(s->list, a, f->status, n == 2 ? arg : NULL);
	else {
		say(s, THEME_WARN, "filter mine|unassigned|all|status "
		    "STATUS|label LABEL|clear");
		return -1;
	}
	show_conversation(s);
	return 0;
}

static int64_t
shown_contact(struct screen *s)
{
	cJSON *c = cache_entity(s->cl->cache, "conversation", s->shown);
	int64_t id = 0;

	jx_int64(c, "contact_id", &id);
	cJSON_Delete(c);
	return id;
}

static const char *
skip_word(const char *p)
{
	while (*p == ' ')
		p++;
	while (*p != ' ' && *p != '\0')
		p++;
	while (*p == ' ')
		p++;
	return p;
}

/* contact name [NAME] | contact set KEY VALUE | contact unset KEY */
static int
pc_contact(struct screen *s, const char *rest)
{
	char what[16], key[64];
	const char *value;
	int64_t cid;
	cJSON *body, *attrs;
	char *path;

	if (need_conversation(s) != 0)
		return -1;
	if ((cid = shown_contact(s)) <= 0) {
		say(s, THEME_WARN, "This conversation has no contact cached");
		return -1;
	}
	if (sscanf(rest, "%15s", what) != 1)
		what[0] = '\0';
	body = cJSON_CreateObject();
	if (strcmp(what, "name") == 0) {
		value = skip_word(rest);
		if (*value == '\0')
			cJSON_AddNullToObject(body, "display_name");
		else
			cJSON_AddStringToObject(body, "display_name", value);
	} else if ((strcmp(what, "set") == 0 || strcmp(what, "unset") == 0) &&
	    sscanf(skip_word(rest), "%63s", key) == 1) {
		attrs = cJSON_AddObjectToObject(body, "attributes");
		value = skip_word(skip_word(rest));
		if (what[0] == 'u')
			cJSON_AddNullToObject(attrs, key);
		else if (*value != '\0')
			cJSON_AddStringToObject(attrs, key, value);
		else {
			cJSON_Delete(body);
			say(s, THEME_WARN, "contact set KEY VALUE");
			return -1;
		}
	} else {
		cJSON_Delete(body);
		say(s, THEME_WARN, "contact name [NAME] | contact set KEY VALUE "
		    "| contact unset KEY");
		return -1;
	}
	path = xasprintf("/api/v1/contacts/%" PRId64, cid);
	if (queue(s, s->shown, "contact", "PATCH", path, body) == 0)
		say(s, THEME_OK, "Contact change queued");
	free(path);
	return 0;
}

/*
 * order new CURRENCY SKU QTY PRICE [SKU QTY PRICE ...] [-- TEXT]
 * order status ID STATUS
 */
static int
pc_order(struct screen *s, const char *rest)
{
	char what[16], cur[8], sku[101], qty[16], price[24], st[16];
	const char *p, *text;
	long long oid;
	int64_t cid;
	cJSON *body, *items;
	char *path, *words;
	int n;

	if (need_conversation(s) != 0)
		return -1;
	if (sscanf(rest, "%15s", what) != 1)
		what[0] = '\0';
	if (strcmp(what, "status") == 0) {
		if (sscanf(skip_word(rest), "%lld %15s", &oid, st) != 2 ||
		    oid <= 0) {
			say(s, THEME_WARN, "order status ID received|pending|"
			    "confirmed|paid|shipped|delivered|cancelled|"
			    "refunded");
			return -1;
		}
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "status", st);
		path = xasprintf("/api/v1/orders/%lld", oid);
		if (queue(s, s->shown, "order", "PATCH", path, body) == 0)
			say(s, THEME_OK, "Order status queued");
		free(path);
		return 0;
	}
	if (strcmp(what, "new") != 0 || (cid = shown_contact(s)) <= 0 ||
	    sscanf(skip_word(rest), "%7s", cur) != 1) {
		say(s, THEME_WARN, "order new CURRENCY SKU QTY PRICE [SKU QTY "
		    "PRICE ...] [-- NOTE]");
		return -1;
	}
	body = cJSON_CreateObject();
	jx_add_int(body, "contact_id", cid);
	items = cJSON_AddArrayToObject(body, "items");
	text = strstr(rest, " -- ");
	words = xstrndup(rest, text != NULL ? (size_t)(text - rest) :
	    strlen(rest));
	p = skip_word(skip_word(words));
	while (*p != '\0' && sscanf(p, "%100s %15s %23s%n", sku, qty, price,
	    &n) == 3) {
		cJSON *it = cJSON_CreateObject();
		long long q = atoll(qty);

		cJSON_AddStringToObject(it, "product_retailer_id", sku);
		cJSON_AddNumberToObject(it, "quantity", (double)q);
		cJSON_AddStringToObject(it, "item_price", price);
		cJSON_AddStringToObject(it, "currency", cur);
		cJSON_AddItemToArray(items, it);
		p += n;
		while (*p == ' ')
			p++;
	}
	n = *p != '\0'; /* words left that are not a whole item */
	free(words);
	if (cJSON_GetArraySize(items) == 0 || n) {
		cJSON_Delete(body);
		say(s, THEME_WARN, "order new CURRENCY SKU QTY PRICE [SKU QTY "
		    "PRICE ...] [-- NOTE]");
		return -1;
	}
	if (text != NULL && text[4] != '\0')
		cJSON_AddStringToObject(body, "text", text + 4);
	if (queue(s, s->shown, "order", "POST", "/api/v1/orders", body) == 0)
		say(s, THEME_OK, "Order queued");
	return 0;
}

static int
pc_open(struct screen *s, const char *rest)
{
	int64_t id;

	while (*rest == ' ')
		rest++;
	if (cache_find_conversation(s->cl->cache, rest, &id) != 0) {
		say(s, THEME_WARN, "No such conversation in the cache");
		return -1;
	}
	if (list_select(s->list, id) != 0) {
		list_set_filter(s->list, CACHE_ASSIGNED_ANY, NULL, NULL);
		list_select(s->list, id);
	}
	show_conversation(s);
	focus(s, LAYOUT_THREAD);
	return 0;
}

static int
pc_assign(struct screen *s, const char *rest)
{
	char who[72];
	cJSON *body;

	if (need_conversation(s) != 0)
		return -1;
	if (sscanf(rest, "%71s", who) != 1)
		snprintf(who, sizeof who, "me");
	body = cJSON_CreateObject();
	if (strcmp(who, "none") == 0 || strcmp(who, "nobody") == 0)
		cJSON_AddNullToObject(body, "agent");
	else if (strcmp(who, "me") == 0) {
		if (s->me_name[0] == '\0') {
			cJSON_Delete(body);
			say(s, THEME_WARN, "Not known yet who you are (offline "
			    "since start); name the agent");
			return -1;
		}
		cJSON_AddStringToObject(body, "agent", s->me_name);
	} else
		cJSON_AddStringToObject(body, "agent", who);
	if (queue_conv(s, s->shown, "assign", body) == 0)
		say(s, THEME_OK, "Assignment queued");
	return 0;
}

static int
pc_status(struct screen *s, const char *rest)
{
	char st[16], dur[16] = "";
	long long n = 0;
	char unit = 'h';
	cJSON *body;

	if (need_conversation(s) != 0)
		return -1;
	if (sscanf(rest, "%15s %15s", st, dur) < 1 || (strcmp(st, "open") !=
	    0 && strcmp(st, "pending") != 0 && strcmp(st, "resolved") != 0 &&
	    strcmp(st, "snooze") != 0 && strcmp(st, "snoozed") != 0)) {
		say(s, THEME_WARN, "status open|pending|resolved|snooze "
		    "DURATION (30m, 4h, 2d)");
		return -1;
	}
	body = cJSON_CreateObject();
	if (st[0] == 's') {
		if (sscanf(dur, "%lld%c", &n, &unit) < 1 || n <= 0 ||
		    n > 100000 || unit == '\0' || strchr("smhd", unit) ==
		    NULL) {
			cJSON_Delete(body);
			say(s, THEME_WARN, "snooze needs a duration: 30m, 4h, "
			    "2d");
			return -1;
		}
		cJSON_AddStringToObject(body, "status", "snoozed");
		jx_add_int(body, "snoozed_until", now() + n * (unit == 's' ?
		    1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400));
	} else
		cJSON_AddStringToObject(body, "status", st);
	if (queue_conv(s, s->shown, "status", body) == 0)
		say(s, THEME_OK, "Status change queued");
	return 0;
}

static int
pc_label(struct screen *s, const char *rest)
{
	cJSON *body, *add, *del;
	char *copy, *w, *save = NULL;

	if (need_conversation(s) != 0)
		return -1;
	body = cJSON_CreateObject();
	add = cJSON_AddArrayToObject(body, "add");
	del = cJSON_AddArrayToObject(body, "remove");
	copy = xstrdup(rest);
	for (w = strtok_r(copy, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		if (*w == '-' && w[1] != '\0')
			cJSON_AddItemToArray(del, cJSON_CreateString(w + 1));
		else if (*w == '+' && w[1] != '\0')
			cJSON_AddItemToArray(add, cJSON_CreateString(w + 1));
		else if (*w != '+' && *w != '-')
			cJSON_AddItemToArray(add, cJSON_CreateString(w));
	}
	free(copy);
	if (cJSON_GetArraySize(add) + cJSON_GetArraySize(del) == 0) {
		cJSON_Delete(body);
		say(s, THEME_WARN, "label +LABEL -LABEL ...");
		return -1;
	}
	if (queue_conv(s, s->shown, "labels", body) == 0)
		say(s, THEME_OK, "Labels queued");
	return 0;
}

static int
pc_note(struct screen *s, const char *rest)
{
	cJSON *body;

	if (need_conversation(s) != 0)
		return -1;
	while (*rest == ' ')
		rest++;
	if (*rest == '\0') {
		say(s, THEME_WARN, "note TEXT: an internal note, never sent "
		    "to the customer");
		return -1;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "body", rest);
	if (queue_conv(s, s->shown, "notes", body) == 0)
		say(s, THEME_OK, "Note queued (only agents see it)");
	return 0;
}

/* template NAME [LANGUAGE] [-- PARAM ...]: a template for a closed window. */
static int
pc_template(struct screen *s, const char *rest)
{
	char name[513], lang[32] = "en_US";
	const char *params;
	cJSON *body, *t, *comps, *c, *ps;
	int n;

	if (need_conversation(s) != 0)
		return -1;
	n = sscanf(rest, "%512s %31s", name, lang);
	if (n < 1 || strcmp(lang, "--") == 0) {
		if (n < 1) {
			say(s, THEME_WARN, "template NAME [LANGUAGE] [-- "
			    "PARAM ...]");
			return -1;
		}
		snprintf(lang, sizeof lang, "en_US");
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "type", "template");
	t = cJSON_AddObjectToObject(body, "template");
	cJSON_AddStringToObject(t, "name", name);
	cJSON_AddStringToObject(t, "language", lang);
	if ((params = strstr(rest, " -- ")) != NULL) {
		char *copy = xstrdup(params + 4), *w, *save = NULL;

		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "type", "body");
		ps = cJSON_AddArrayToObject(c, "parameters");
		/* Parameters are separated by '|' so they may hold spaces. */
		for (w = strtok_r(copy, "|", &save); w != NULL;
		    w = strtok_r(NULL, "|", &save)) {
			cJSON *p;
			size_t end;

			while (*w == ' ')
				w++;
			for (end = strlen(w); end > 0 && w[end - 1] == ' ';
			    end--)
				w[end - 1] = '\0';
			if (*w == '\0')
				continue;
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "type", "text");
			cJSON_AddStringToObject(p, "text", w);
			cJSON_AddItemToArray(ps, p);
		}
		if (cJSON_GetArraySize(ps) > 0) {
			comps = cJSON_AddArrayToObject(t, "components");
			cJSON_AddItemToArray(comps, c);
		} else
			cJSON_Delete(c);
		free(copy);
	}
	if (queue_conv(s, s->shown, "message", body) == 0) {
		thread_reload(s->thread);
		say(s, THEME_OK, "Template queued");
	}
	return 0;
}

static void
retry_one(void *arg, const struct outbox_entry *e)
{
	struct screen *s = arg;

	if (e->state == OUTBOX_FAILED && e->conversation_id == s->shown)
		cache_outbox_requeue(s->cl->cache, e->id, NULL);
}

static void
discard_one(void *arg, const struct outbox_entry *e)
{
	struct screen *s = arg;

	if (e->state == OUTBOX_FAILED && e->conversation_id == s->shown)
		cache_outbox_discard(s->cl->cache, e->id, NULL);
}

static int
pc_retry(struct screen *s, const char *rest)
{
	(void)rest;
	if (need_conversation(s) != 0)
		return -1;
	cache_outbox_list(s->cl->cache, 1, retry_one, s);
	outbox_kick(s->cl->outbox);
	thread_reload(s->thread);
	say(s, THEME_OK, "Failed writes of this conversation queued again");
	return 0;
}

static int
pc_discard(struct screen *s, const char *rest)
{
	(void)rest;
	if (need_conversation(s) != 0)
		return -1;
	cache_outbox_list(s->cl->cache, 1, discard_one, s);
	thread_reload(s->thread);
	say(s, THEME_OK, "Failed writes of this conversation discarded");
	return 0;
}

static int
pc_search(struct screen *s, const char *rest)
{
	while (*rest == ' ')
		rest++;
	edit_clear(s->line);
	edit_insert(s->line, rest, strlen(rest));
	search_run(s);
	if (s->nhits > 0)
		search_open(s, 0);
	else
		say(s, THEME_WARN, "Nothing found");
	return 0;
}

static int
pc_sidebar(struct screen *s, const char *rest)
{
	(void)rest;
	run_command(s, CMD_APP_SIDEBAR);
	return 0;
}

static const struct prompt_cmd prompt_cmds[] = {
	{ "assign", "me|none|AGENT", pc_assign },
	{ "contact", "name [NAME] | set KEY VALUE | unset KEY", pc_contact },
	{ "discard", "", pc_discard },
	{ "filter", "mine|unassigned|all|status S|label L|clear", pc_filter },
	{ "help", "", pc_help },
	{ "label", "+LABEL -LABEL ...", pc_label },
	{ "note", "TEXT", pc_note },
	{ "open", "ID|PHONE", pc_open },
	{ "order", "new CUR SKU QTY PRICE ... [-- NOTE] | status ID S",
	  pc_order },
	{ "quit", "", pc_quit },
	{ "retry", "", pc_retry },
	{ "search", "WORDS", pc_search },
	{ "sidebar", "", pc_sidebar },
	{ "status", "open|pending|resolved|snooze DURATION", pc_status },
	{ "template", "NAME [LANGUAGE] [-- P1 | P2 ...]", pc_template },
};
#define NPROMPT (sizeof prompt_cmds / sizeof prompt_cmds[0])

static void
prompt_run(struct screen *s, const char *line)
{
	const char *p = line, *rest;
	size_t n;
	int id;

	while (*p == ' ')
		p++;
	n = strcspn(p, " ");
	rest = p + n;
	if (n == 0)
		return;
	for (size_t i = 0; i < NPROMPT; i++) {
		if (strlen(prompt_cmds[i].name) == n &&
		    strncmp(prompt_cmds[i].name, p, n) == 0) {
			prompt_cmds[i].fn(s, rest);
			return;
		}
	}
	/* Any action by name: ":list.next-unread". */
	{
		char name[64];

		snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), p);
		if ((id = commands_find(name)) >= 0) {
			run_command(s, id);
			return;
		}
	}
	say(s, THEME_WARN, "Unknown command (Tab completes)");
}

static void
history_add(struct screen *s, const char *line)
{
	if (*line == '\0')
		return;
	if (s->nhistory == HISTORY_MAX) {
		free(s->history[0]);
		memmove(s->history, s->history + 1,
		    (HISTORY_MAX - 1) * sizeof *s->history);
		s->nhistory--;
	}
	s->history[s->nhistory++] = xstrdup(line);
}

/*
 * Tab after "template ": the next approved template whose name starts
 * with what is typed, with its language, round and round.
 */
static void
complete_template(struct screen *s, const char *word, size_t len)
{
	char name[513], lang[32], *line;

	if (s->complete_prefix == NULL) {
		s->complete_prefix = xstrndup(word, len);
		s->complete_name[0] = s->complete_lang[0] = '\0';
	}
	if (cache_template_next(s->cl->cache, s->complete_prefix,
	    s->complete_name, s->complete_lang, name, sizeof name, lang,
	    sizeof lang) != 0 && cache_template_next(s->cl->cache,
	    s->complete_prefix, NULL, NULL, name, sizeof name, lang,
	    sizeof lang) != 0) {
		say(s, THEME_WARN, "No approved template starts so");
		return;
	}
	snprintf(s->complete_name, sizeof s->complete_name, "%s", name);
	snprintf(s->complete_lang, sizeof s->complete_lang, "%s", lang);
	line = xasprintf("template %s %s -- ", name, lang);
	edit_set(s->line, line, strlen(line));
	free(line);
	say(s, THEME_DIM, "Parameters after --, separated by |");
}

/* Tab: the next command or action name starting with what is typed. */
static void
prompt_complete(struct screen *s)
{
	size_t len;
	const char *t = edit_text(s->line, &len);
	size_t total = NPROMPT + CMD_COUNT, i;
	int start;

	if (len >= 9 && strncmp(t, "template ", 9) == 0) {
		const char *w = t + 9, *sp = memchr(w, ' ', len - 9);

		if (s->complete_prefix != NULL || sp == NULL)
			complete_template(s, w, sp != NULL ? (size_t)(sp - w) :
			    len - 9);
		return;
	}
	if (memchr(t, ' ', len) != NULL)
		return;
	if (s->complete_prefix == NULL) {
		s->complete_prefix = xstrndup(t, len);
		s->complete_after = -1;
	}
	start = s->complete_after;
	for (i = 1; i <= total; i++) {
		size_t k = (size_t)(start + (int)i + (int)total) % total;
		const char *name = k < NPROMPT ? prompt_cmds[k].name :
		    commands_get((int)(k - NPROMPT))->name;

		if (strncmp(name, s->complete_prefix,
		    strlen(s->complete_prefix)) == 0) {
			edit_clear(s->line);
			edit_insert(s->line, name, strlen(name));
			s->complete_after = (int)k;
			if (k < NPROMPT && prompt_cmds[k].args[0] != '\0')
				say(s, THEME_DIM, "%s %s", name,
				    prompt_cmds[k].args);
			else if (k >= NPROMPT)
				say(s, THEME_DIM, "%s", commands_get((int)(k -
				    NPROMPT))->help);
			return;
		}
	}
	say(s, THEME_WARN, "No command starts so");
}

/* -- media ------------------------------------------------------------ */

struct media_job {
	struct screen *s;
	char *path;
	int open;
};

static char *
media_dir(struct screen *s)
{
	return xasprintf("%s/media", s->cfg->cache_dir);
}

static void
spawn_closed(uv_handle_t *h)
{
	free(h);
}

static void
spawn_exit(uv_process_t *p, int64_t status, int sig)
{
	(void)status;
	(void)sig;
	uv_close((uv_handle_t *)p, spawn_closed);
}

/*
 * Runs a configured command with extra arguments: split on spaces, no
 * shell, no terminal (its output would tear the screen).
 */
static int
spawn_argv(struct screen *s, const char *command, const char *const *extra)
{
	uv_process_options_t o = { 0 };
	uv_stdio_container_t io[3];
	uv_process_t *p;
	char *copy = xstrdup(command), *w, *save = NULL, *args[40];
	int n = 0, rc;

	for (w = strtok_r(copy, " ", &save); w != NULL && n < 30;
	    w = strtok_r(NULL, " ", &save))
		args[n++] = w;
	for (int i = 0; extra[i] != NULL && n < 39; i++)
		args[n++] = (char *)extra[i];
	args[n] = NULL;
	if (n == 0) {
		free(copy);
		return -1;
	}
	for (int i = 0; i < 3; i++)
		io[i].flags = UV_IGNORE;
	o.file = args[0];
	o.args = args;
	o.exit_cb = spawn_exit;
	o.stdio = io;
	o.stdio_count = 3;
	o.flags = UV_PROCESS_DETACHED;
	p = xcalloc(1, sizeof *p);
	if ((rc = uv_spawn(s->loop, p, &o)) != 0) {
		uv_close((uv_handle_t *)p, spawn_closed);
		log_warn("tui: cannot run %s: %s", args[0], uv_strerror(rc));
	} else
		uv_unref((uv_handle_t *)p);
	free(copy);
	return rc;
}

static void
media_done(void *arg, const struct http_result *r)
{
	struct media_job *j = arg;
	struct screen *s = j->s;
	int fd;

	if (r->fail != HTTP_OK || r->status != 200) {
		char *why = r->fail != HTTP_OK ? xstrdup(r->error) :
		    client_error_text(r);

		say_outside(s, THEME_ERROR, "Media not fetched: ", why);
		free(why);
	} else if ((fd = open(j->path, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) < 0 || write(fd, r->body, r->len) !=
	    (ssize_t)r->len) {
		say(s, THEME_ERROR, "Media not saved: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
	} else {
		const char *extra[] = { j->path, NULL };

		close(fd);
		if (j->open && s->cfg->opener != NULL &&
		    spawn_argv(s, s->cfg->opener, extra) == 0)
			say_outside(s, THEME_OK, "Opened ", j->path);
		else
			say_outside(s, THEME_OK, "Saved to ", j->path);
	}
	free(j->path);
	free(j);
}

/* A file name of ours for a media id: nothing from outside reaches it. */
static int
media_fetch(struct screen *s, int open_it)
{
	struct thread_media m;
	struct http_request rq = { 0 };
	struct media_job *j;
	char *dir, *url;
	const char *ext;
	size_t i;

	if (thread_selected_media(s->thread, &m) != 0) {
		say(s, THEME_WARN, "The selected message has no media");
		return -1;
	}
	for (i = 0; m.id[i] != '\0'; i++) {
		if (!isalnum((unsigned char)m.id[i]) && m.id[i] != '-' &&
		    m.id[i] != '_' && m.id[i] != '.') {
			say(s, THEME_ERROR, "Media id is not usable");
			return -1;
		}
	}
	dir = media_dir(s);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		say(s, THEME_ERROR, "Cannot make %s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	ext = strrchr(m.filename, '.');
	if (ext == NULL || strlen(ext) > 8 || strpbrk(ext, "/\\ ") != NULL)
		ext = "";
	j = xcalloc(1, sizeof *j);
	j->s = s;
	j->open = open_it;
	j->path = xasprintf("%s/%s%s", dir, m.id, ext);
	free(dir);
	url = client_url(s->cl, "/api/v1/media/%s", m.id);
	rq.method = "GET";
	rq.url = url;
	rq.max_body = 128 * 1024 * 1024;
	rq.on_done = media_done;
	rq.arg = j;
	client_request(s->cl, &rq);
	free(url);
	say(s, THEME_NORMAL, "Fetching media…");
	return 0;
}

/* -- $EDITOR ---------------------------------------------------------- */

struct editor_job {
	uv_process_t proc;
	struct screen *s;
	char *path;
};

static void on_stdin(uv_poll_t *, int, int);

static void
editor_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
editor_exit(uv_process_t *p, int64_t status, int sig)
{
	struct editor_job *j = p->data;
	struct screen *s = j->s;
	FILE *f;
	struct buf b;
	char chunk[4096];
	size_t n;

	term_resume(s->term);
	s->suspended = 0;
	s->resized = 1;
	uv_poll_start(&s->in_poll, UV_READABLE, on_stdin);
	if (status == 0 && sig == 0 && (f = fopen(j->path, "r")) != NULL) {
		buf_init(&b);
		while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 &&
		    b.len < COMPOSE_MAX)
			buf_add(&b, chunk, n);
		fclose(f);
		while (b.len > 0 && b.data[b.len - 1] == '\n')
			b.len--;
		edit_clear(s->compose);
		if (b.len > 0)
			edit_insert(s->compose, b.data, b.len);
		buf_free(&b);
		draft_touched(s);
	} else
		say(s, THEME_WARN, "The editor failed; the draft is as it was");
	unlink(j->path);
	free(j->path);
	/* The job goes with its handle. */
	uv_close((uv_handle_t *)&j->proc, editor_closed);
	dirty(s);
}

static void
run_editor(struct screen *s)
{
	const char *ed = getenv("VISUAL");
	char tmpl[] = "/tmp/glivi-draft-XXXXXX.txt";
	uv_process_options_t o = { 0 };
	uv_stdio_container_t io[3];
	struct editor_job *j;
	char *args[3];
	size_t len;
	const char *t = edit_text(s->compose, &len);
	int fd, rc;

	if (ed == NULL || *ed == '\0')
		ed = getenv("EDITOR");
	if (ed == NULL || *ed == '\0')
		ed = "vi";
	if ((fd = mkstemps(tmpl, 4)) < 0) {
		say(s, THEME_ERROR, "No temporary file: %s", strerror(errno));
		return;
	}
	if (write(fd, t, len) != (ssize_t)len) {
		close(fd);
		unlink(tmpl);
		say(s, THEME_ERROR, "Cannot write the draft: %s",
		    strerror(errno));
		return;
	}
	close(fd);
	j = xcalloc(1, sizeof *j);
	j->s = s;
	j->path = xstrdup(tmpl);
	j->proc.data = j;
	args[0] = (char *)ed;
	args[1] = j->path;
	args[2] = NULL;
	for (int i = 0; i < 3; i++) {
		io[i].flags = UV_INHERIT_FD;
		io[i].data.fd = i;
	}
	o.file = ed;
	o.args = args;
	o.exit_cb = editor_exit;
	o.stdio = io;
	o.stdio_count = 3;
	uv_poll_stop(&s->in_poll);
	term_suspend(s->term);
	s->suspended = 1;
	if ((rc = uv_spawn(s->loop, &j->proc, &o)) != 0) {
		term_resume(s->term);
		s->suspended = 0;
		uv_poll_start(&s->in_poll, UV_READABLE, on_stdin);
		say(s, THEME_ERROR, "Cannot run %s: %s", ed, uv_strerror(rc));
		unlink(j->path);
		free(j->path);
		/* A handle that failed to spawn is still closed (libuv). */
		uv_close((uv_handle_t *)&j->proc, editor_closed);
		return;
	}
}

/* -- canned replies --------------------------------------------------- */

struct canned_pick {
	char *text;
	char *shortcut;
	int n;
};

static void
canned_first(void *arg, const struct cache_canned *c)
{
	struct canned_pick *p = arg;

	if (p->n++ == 0) {
		p->text = xstrdup(c->text != NULL ? c->text : "");
		p->shortcut = xstrdup(c->shortcut != NULL ? c->shortcut : "");
	}
}

/*
 * Tab in the draft: when the word before the cursor is a /shortcut, the
 * canned reply it names (the shortest shortcut it starts) replaces it,
 * placeholders filled in from the contact and the agent. -1 when there
 * is nothing to expand (Tab then moves the focus on).
 */
static int
complete_canned(struct screen *s)
{
	size_t len, cur = edit_cursor(s->compose), start;
	const char *t = edit_text(s->compose, &len);
	struct canned_pick pick = { NULL, NULL, 0 };
	char *word, *out;
	struct buf b;

	for (start = cur; start > 0 && t[start - 1] != ' ' &&
	    t[start - 1] != '\n'; start--)
		;
	if (cur - start < 2 || t[start] != '/' || s->shown == 0)
		return -1;
	word = xstrndup(t + start + 1, cur - start - 1);
	cache_canned_find(s->cl->cache, word, canned_first, &pick);
	free(word);
	if (pick.n == 0) {
		say(s, THEME_WARN, "No canned reply's shortcut starts so");
		return 0;
	}
	out = cache_canned_expand(s->cl->cache, pick.text, s->shown,
	    s->me_name[0] != '\0' ? s->me_name : NULL);
	buf_init(&b);
	buf_add(&b, t, start);
	buf_adds(&b, out != NULL ? out : pick.text);
	buf_add(&b, t + cur, len - cur);
	edit_set(s->compose, b.data, b.len);
	buf_free(&b);
	free(out);
	say_outside(s, THEME_OK, "Canned reply /", pick.shortcut);
	free(pick.text);
	free(pick.shortcut);
	draft_touched(s);
	return 0;
}

/* -- actions ---------------------------------------------------------- */

static struct edit *
active_edit(struct screen *s)
{
	if (s->mode == MODE_PROMPT || s->mode == MODE_SEARCH)
		return s->line;
	return s->focus == LAYOUT_COMPOSE ? s->compose : NULL;
}

static void
list_moved(struct screen *s)
{
	show_conversation(s);
	dirty(s);
}

static void
set_assigned(struct screen *s, enum cache_assigned a)
{
	const struct cache_filter *f = list_filter(s->list);

	list_set_filter(s->list, a, f->status, f->label);
	list_moved(s);
}

/* f: the status filter goes round any, open, pending, snoozed, resolved. */
static void
cycle_status(struct screen *s)
{
	static const char *const order[] = { NULL, "open", "pending",
		"snoozed", "resolved" };
	const struct cache_filter *f = list_filter(s->list);
	size_t i, n = sizeof order / sizeof order[0];

	for (i = 0; i < n; i++) {
		if ((order[i] == NULL && f->status == NULL) || (order[i] !=
		    NULL && f->status != NULL && strcmp(order[i],
		    f->status) == 0))
			break;
	}
	list_set_filter(s->list, f->assigned, order[(i + 1) % n], f->label);
	list_moved(s);
}

static void
leave_line_mode(struct screen *s)
{
	s->mode = MODE_MAIN;
	free(s->complete_prefix);
	s->complete_prefix = NULL;
	dirty(s);
}

static void
run_command(struct screen *s, int cmd)
{
	struct edit *e = active_edit(s);

	switch (cmd) {
	case CMD_APP_QUIT:
		quit(s);
		break;
	case CMD_APP_HELP:
		open_help(s);
		break;
	case CMD_APP_PROMPT:
		s->mode = MODE_PROMPT;
		s->hist_pos = s->nhistory;
		edit_clear(s->line);
		break;
	case CMD_APP_REDRAW:
		term_redraw(s->term);
		s->resized = 1;
		break;
	case CMD_APP_FOCUS_NEXT:
		focus(s, (enum layout_focus)((s->focus + 1) % 3));
		break;
	case CMD_APP_FOCUS_PREV:
		focus(s, (enum layout_focus)((s->focus + 2) % 3));
		break;
	case CMD_APP_FOCUS_LIST:
		focus(s, LAYOUT_LIST);
		break;
	case CMD_APP_FOCUS_THREAD:
		focus(s, LAYOUT_THREAD);
		break;
	case CMD_APP_FOCUS_COMPOSE:
		focus(s, LAYOUT_COMPOSE);
		break;
	case CMD_APP_SIDEBAR:
		s->sidebar_on = !s->sidebar_on;
		if (s->lay.panes == 3)
			say(s, THEME_DIM, "The sidebar always shows at this "
			    "width");
		break;
	case CMD_LIST_NEXT:
		list_move(s->list, 1);
		list_moved(s);
		break;
	case CMD_LIST_PREV:
		list_move(s->list, -1);
		list_moved(s);
		break;
	case CMD_LIST_NEXT_UNREAD:
		if (list_next_unread(s->list) != 0)
			say(s, THEME_DIM, "No unread conversations");
		list_moved(s);
		break;
	case CMD_LIST_FIRST:
		list_first(s->list);
		list_moved(s);
		break;
	case CMD_LIST_LAST:
		list_last(s->list);
		list_moved(s);
		break;
	case CMD_LIST_PAGE_DOWN:
		list_page(s->list, 1);
		list_moved(s);
		break;
	case CMD_LIST_PAGE_UP:
		list_page(s->list, -1);
		list_moved(s);
		break;
	case CMD_LIST_OPEN:
		show_conversation(s);
		focus(s, LAYOUT_THREAD);
		break;
	case CMD_LIST_FILTER:
		cycle_status(s);
		break;
	case CMD_LIST_FILTER_MINE:
		set_assigned(s, CACHE_ASSIGNED_ME);
		break;
	case CMD_LIST_FILTER_UNASSIGNED:
		set_assigned(s, CACHE_ASSIGNED_NOBODY);
		break;
	case CMD_LIST_FILTER_ALL:
		set_assigned(s, CACHE_ASSIGNED_ANY);
		break;
	case CMD_THREAD_LINE_DOWN:
		thread_scroll(s->thread, 1);
		break;
	case CMD_THREAD_LINE_UP:
		thread_scroll(s->thread, -1);
		break;
	case CMD_THREAD_PAGE_DOWN:
		thread_page(s->thread, 2);
		break;
	case CMD_THREAD_PAGE_UP:
		thread_page(s->thread, -2);
		break;
	case CMD_THREAD_HALF_PAGE_DOWN:
		thread_page(s->thread, 1);
		break;
	case CMD_THREAD_HALF_PAGE_UP:
		thread_page(s->thread, -1);
		break;
	case CMD_THREAD_TOP:
		thread_top(s->thread);
		break;
	case CMD_THREAD_BOTTOM:
		thread_bottom(s->thread);
		break;
	case CMD_THREAD_NEXT_MESSAGE:
		thread_select(s->thread, 1);
		break;
	case CMD_THREAD_PREV_MESSAGE:
		thread_select(s->thread, -1);
		break;
	case CMD_THREAD_REPLY:
		if ((s->reply_to = thread_selected(s->thread)) == 0)
			say(s, THEME_WARN, "Select a message to reply to "
			    "(Up/Down in the thread)");
		else
			focus(s, LAYOUT_COMPOSE);
		break;
	case CMD_THREAD_JUMP_QUOTED:
		if (thread_jump_quoted(s->thread) != 0)
			say(s, THEME_WARN, "The selected message quotes none "
			    "that is cached");
		break;
	case CMD_THREAD_OPEN_MEDIA:
		media_fetch(s, 1);
		break;
	case CMD_THREAD_SAVE_MEDIA:
		media_fetch(s, 0);
		break;
	case CMD_COMPOSE_SEND:
		send_draft(s);
		break;
	case CMD_COMPOSE_EDITOR:
		run_editor(s);
		break;
	case CMD_COMPOSE_TEMPLATE:
		s->mode = MODE_PROMPT;
		edit_clear(s->line);
		edit_insert(s->line, "template ", 9);
		say(s, THEME_DIM, "template NAME [LANGUAGE] [-- P1 | P2 ...]; "
		    "Tab completes approved templates");
		break;
	case CMD_COMPOSE_CANCEL_REPLY:
		s->reply_to = 0;
		break;
	case CMD_COMPOSE_LEAVE:
		draft_save(s);
		focus(s, LAYOUT_THREAD);
		break;
	case CMD_COMPOSE_NOTE:
		s->note_mode = !s->note_mode;
		say(s, s->note_mode ? THEME_NOTE : THEME_NORMAL, "%s",
		    s->note_mode ? "Internal note: only agents will see it" :
		    "Reply: the customer will see it");
		break;
	case CMD_COMPOSE_COMPLETE:
		if (complete_canned(s) != 0)
			focus(s, (enum layout_focus)((s->focus + 1) % 3));
		break;
	case CMD_COMPOSE_NEWLINE:
	case CMD_EDIT_LEFT:
	case CMD_EDIT_RIGHT:
	case CMD_EDIT_WORD_LEFT:
	case CMD_EDIT_WORD_RIGHT:
	case CMD_EDIT_HOME:
	case CMD_EDIT_END:
	case CMD_EDIT_UP:
	case CMD_EDIT_DOWN:
	case CMD_EDIT_BACKSPACE:
	case CMD_EDIT_DELETE:
	case CMD_EDIT_DELETE_WORD_BACK:
	case CMD_EDIT_DELETE_WORD:
	case CMD_EDIT_KILL_TO_END:
	case CMD_EDIT_KILL_TO_START:
	case CMD_EDIT_YANK:
		if (e == NULL)
			break;
		edit_command(e, cmd);
		if (e == s->compose)
			draft_touched(s);
		else if (s->mode == MODE_SEARCH)
			search_run(s);
		break;
	case CMD_SEARCH_START:
		s->mode = MODE_SEARCH;
		edit_clear(s->line);
		hits_clear(s);
		break;
	case CMD_SEARCH_NEXT:
		search_step(s, 1);
		break;
	case CMD_SEARCH_PREV:
		search_step(s, -1);
		break;
	case CMD_SEARCH_ACCEPT:
		leave_line_mode(s);
		if (s->nhits > 0) {
			search_open(s, s->hit);
			focus(s, LAYOUT_THREAD);
		} else
			say(s, THEME_WARN, "Nothing found");
		break;
	case CMD_SEARCH_CANCEL:
	case CMD_PROMPT_CANCEL:
		leave_line_mode(s);
		break;
	case CMD_PROMPT_ACCEPT: {
		size_t len;
		const char *t = edit_text(s->line, &len);
		char *line = xstrndup(t, len);

		leave_line_mode(s);
		history_add(s, line);
		prompt_run(s, line);
		free(line);
		break;
	}
	case CMD_PROMPT_COMPLETE:
		prompt_complete(s);
		return;
	case CMD_PROMPT_HISTORY_PREV:
	case CMD_PROMPT_HISTORY_NEXT:
		if (cmd == CMD_PROMPT_HISTORY_PREV && s->hist_pos > 0)
			s->hist_pos--;
		else if (cmd == CMD_PROMPT_HISTORY_NEXT && s->hist_pos <
		    s->nhistory)
			s->hist_pos++;
		edit_clear(s->line);
		if (s->hist_pos < s->nhistory)
			edit_insert(s->line, s->history[s->hist_pos],
			    strlen(s->history[s->hist_pos]));
		break;
	default:
		break;
	}
	free(s->complete_prefix);
	s->complete_prefix = NULL;
	dirty(s);
}

/* -- input ------------------------------------------------------------ */

static void
insert_text(struct screen *s, struct edit *e, const char *t, size_t len)
{
	if (edit_insert(e, t, len) != 0)
		say(s, THEME_WARN, "The text is too long");
	if (e == s->compose)
		draft_touched(s);
	else if (s->mode == MODE_SEARCH)
		search_run(s);
	dirty(s);
}

static void
paste_yes(struct screen *s)
{
	s->mode = MODE_MAIN;
	s->msg[0] = '\0';
	insert_text(s, s->compose, s->paste, s->paste_len);
	free(s->paste);
	s->paste = NULL;
}

static void
on_paste(struct screen *s, const char *t, size_t len, int truncated)
{
	size_t lines = 1;
	struct edit *e = active_edit(s);

	if (truncated)
		say(s, THEME_WARN, "The paste was too long; its end was left "
		    "out");
	if (e == NULL) {
		/* Pasting anywhere else starts a reply, as chat clients do. */
		focus(s, LAYOUT_COMPOSE);
		e = s->compose;
	}
	if (e != s->compose) {
		insert_text(s, e, t, len);
		return;
	}
	for (size_t i = 0; i < len; i++)
		lines += t[i] == '\n';
	if (s->cfg->paste_confirm >= 0 && lines > (size_t)s->cfg->paste_confirm &&
	    lines > 1) {
		free(s->paste);
		s->paste = xstrndup(t, len);
		s->paste_len = len;
		confirm(s, paste_yes, "Paste %zu lines into the draft? (y/n)",
		    lines);
		return;
	}
	insert_text(s, s->compose, t, len);
}

static void
on_key(struct screen *s, key_code k)
{
	enum keymap_context ctx;
	struct edit *e;
	char name[KEY_NAME_MAX];
	int cmd;

	if (s->mode == MODE_CONFIRM) {
		confirm_fn fn = s->on_yes;

		s->mode = MODE_MAIN;
		s->on_yes = NULL;
		s->msg[0] = '\0';
		if (k == 'y' || k == 'Y')
			fn(s);
		else {
			free(s->paste);
			s->paste = NULL;
		}
		dirty(s);
		return;
	}
	if (s->mode == MODE_HELP) {
		help_key(s, k);
		return;
	}
	ctx = context(s);
	if ((cmd = keymap_lookup(s->keys, ctx, k)) >= 0) {
		/* A command clears the last message; typing keeps it in view
		 * (a warning about who else is typing stays readable). */
		s->msg[0] = '\0';
		run_command(s, cmd);
		return;
	}
	e = active_edit(s);
	if (e != NULL && key_is_text(k)) {
		edit_insert_key(e, k);
		if (e == s->compose)
			draft_touched(s);
		else if (s->mode == MODE_SEARCH)
			search_run(s);
		dirty(s);
		return;
	}
	key_name(k, name);
	say(s, THEME_DIM, "%s is not bound here (F1 or ? shows the keys)",
	    name);
}

static void
drain_input(struct screen *s)
{
	struct input_event ev;

	while (input_next(s->input, &ev)) {
		switch (ev.type) {
		case INPUT_KEY:
			on_key(s, ev.key);
			break;
		case INPUT_PASTE:
			on_paste(s, ev.text, ev.len,
			    ev.flags & INPUT_PASTE_TRUNCATED);
			break;
		default:
			break;
		}
		if (s->quitting)
			return;
	}
}

static void
on_esc_timer(uv_timer_t *h)
{
	struct screen *s = h->data;

	input_flush(s->input);
	drain_input(s);
}

static void
on_stdin(uv_poll_t *h, int status, int events)
{
	struct screen *s = h->data;
	char chunk[4096];
	ssize_t n;

	(void)events;
	if (status < 0) {
		quit_now(s);
		return;
	}
	n = read(STDIN_FILENO, chunk, sizeof chunk);
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		/* The terminal went away (ssh dropped): save and leave. */
		quit_now(s);
		return;
	}
	if (n < 0)
		return;
	input_feed(s->input, chunk, (size_t)n);
	drain_input(s);
	/* A lone ESC becomes Escape soon; a paste that stops arriving (its
	 * end lost) is delivered after a longer wait. */
	if (input_pending(s->input) == INPUT_PENDING_PASTE)
		uv_timer_start(&s->esc_timer, on_esc_timer, PASTE_WAIT_MS, 0);
	else if (input_pending(s->input))
		uv_timer_start(&s->esc_timer, on_esc_timer, ESC_DELAY_MS, 0);
}

/* -- drawing ---------------------------------------------------------- */

static void
draw_header(struct screen *s, const struct rect *r, const char *title,
    const char *right, int focused)
{
	int attr = focused ? THEME_SELECT | CANVAS_BOLD : THEME_TITLE;
	struct buf b;
	size_t rw = right != NULL ? text_width(right, strlen(right)) : 0;

	canvas_fill(s->cv, r->x, r->y, r->w, 1, " ", attr);
	if (rw > 0 && rw + 4 < r->w) {
		canvas_puts(s->cv, r->x + r->w - (unsigned)rw - 1, r->y, right,
		    attr);
	} else
		rw = 0;
	buf_init(&b);
	text_cut_buf(&b, title, strlen(title), r->w - 1 - (rw ? rw + 2 : 0),
	    TEXT_ELLIPSIS);
	canvas_put(s->cv, r->x + 1, r->y, b.data, b.len, attr);
	buf_free(&b);
}

/* A pane's rectangle less its header row. */
static struct rect
body_of(const struct rect *r)
{
	struct rect b = *r;

	if (b.h > 0) {
		b.y++;
		b.h--;
	}
	return b;
}

static void
draw_list(struct screen *s)
{
	struct rect r = s->lay.list, body = body_of(&r);
	char pos[48];
	struct buf f;

	buf_init(&f);
	buf_adds(&f, "Inbox: ");
	list_filter_name(s->list, &f);
	buf_add(&f, "", 1);
	snprintf(pos, sizeof pos, "%" PRId64, list_count(s->list));
	draw_header(s, &r, f.data, pos, s->focus == LAYOUT_LIST &&
	    s->mode != MODE_SEARCH);
	buf_free(&f);
	list_draw(s->list, s->cv, &body, s->focus == LAYOUT_LIST, now());
}

/* Another agent typing in the conversation on show: 1 and a name. */
static int
typing_elsewhere(struct screen *s, char *who, size_t len)
{
	int64_t t = now();

	for (int i = 0; i < PRESENCE_MAX; i++) {
		const struct presence *p = &s->presence[i];

		if (p->agent != 0 && p->agent != s->me && p->conversation ==
		    s->shown && t - p->at <= PRESENCE_TTL &&
		    strcmp(p->state, "typing") == 0) {
			snprintf(who, len, "%s", p->name);
			return 1;
		}
	}
	return 0;
}

static void
presence_line(struct screen *s, struct buf *b, int typing_only)
{
	int64_t t = now();
	int n = 0;

	for (int i = 0; i < PRESENCE_MAX; i++) {
		const struct presence *p = &s->presence[i];

		if (p->agent == 0 || p->agent == s->me || p->conversation !=
		    s->shown || t - p->at > PRESENCE_TTL ||
		    strcmp(p->state, "idle") == 0)
			continue;
		if (typing_only && strcmp(p->state, "typing") != 0)
			continue;
		buf_adds(b, n++ ? ", " : "");
		buf_adds(b, p->name);
		buf_adds(b, strcmp(p->state, "typing") == 0 ? " typing…" :
		    " viewing");
	}
}

static void
draw_thread(struct screen *s)
{
	struct rect r = s->lay.thread, body = body_of(&r);
	struct buf title, right;
	cJSON *c = s->shown ? cache_entity(s->cl->cache, "conversation",
	    s->shown) : NULL;
	const char *st = jx_str(c, "status");
	int64_t assignee = 0;
	char who[72] = "";

	buf_init(&title);
	buf_init(&right);
	if (s->shown == 0)
		buf_adds(&title, "No conversation");
	else {
		buf_adds(&title, list_selected_name(s->list));
		buf_printf(&title, " · %s", st != NULL ? st : "open");
		if (jx_int64(c, "assignee_id", &assignee) == 0 && assignee > 0)
			cache_agent_name(s->cl->cache, assignee, who,
			    sizeof who);
		if (*who != '\0') {
			buf_adds(&title, " · @");
			utf8_sanitize(who, strlen(who), 0, &title);
		} else
			buf_adds(&title, " · unassigned");
		presence_line(s, &right, 0);
	}
	buf_add(&title, "", 1);
	buf_add(&right, "", 1);
	draw_header(s, &r, title.data, right.data, s->focus == LAYOUT_THREAD);
	buf_free(&title);
	buf_free(&right);
	cJSON_Delete(c);
	thread_draw(s->thread, s->cv, body.x, body.y, body.w, body.h,
	    s->focus == LAYOUT_THREAD);
}

static void
draw_hits(struct screen *s, const struct rect *r)
{
	struct rect body = body_of(r);
	char head[96];
	size_t first = 0, i;

	snprintf(head, sizeof head, "Search: %zu result%s%s", s->nhits,
	    s->nhits == 1 ? "" : "s", s->nhits >= HITS_MAX ? " (newest)" :
	    "");
	draw_header(s, r, head, "Enter opens", 1);
	canvas_fill(s->cv, body.x, body.y, body.w, body.h, " ", THEME_NORMAL);
	if (body.h == 0)
		return;
	if (s->hit >= body.h)
		first = s->hit - body.h + 1;
	for (i = first; i < s->nhits && i - first < body.h; i++) {
		struct buf b;
		char when[32] = "";
		time_t t = (time_t)s->hits[i].at;
		struct tm tm;

		if (t > 0 && localtime_r(&t, &tm) != NULL)
			strftime(when, sizeof when, "%d %b %H:%M", &tm);
		buf_init(&b);
		buf_printf(&b, "%s  ", when);
		buf_adds(&b, s->hits[i].line);
		buf_add(&b, "", 1);
		canvas_fill(s->cv, body.x, body.y + (unsigned)(i - first),
		    body.w, 1, " ", i == s->hit ? THEME_SELECT : THEME_NORMAL);
		{
			struct buf cut;

			buf_init(&cut);
			text_cut_buf(&cut, b.data, strlen(b.data), body.w - 1,
			    TEXT_ELLIPSIS);
			canvas_put(s->cv, body.x + 1, body.y + (unsigned)(i -
			    first), cut.data, cut.len, i == s->hit ?
			    THEME_SELECT : THEME_NORMAL);
			buf_free(&cut);
		}
		buf_free(&b);
	}
}

static void
draw_help(struct screen *s)
{
	struct rect r = { 0, 0, canvas_width(s->cv), s->lay.status.y };
	struct rect body = body_of(&r);
	const char *p = s->help;
	unsigned line = 0, y = body.y;
	char head[96];

	snprintf(head, sizeof head, "Keys: %s (Up/Down scroll, any other key "
	    "closes)", keymap_context_name(s->help_ctx));
	draw_header(s, &r, head, NULL, 1);
	canvas_fill(s->cv, body.x, body.y, body.w, body.h, " ", THEME_NORMAL);
	while (*p != '\0' && y < body.y + body.h) {
		size_t n = strcspn(p, "\n");

		if (line++ >= s->help_top)
			canvas_put(s->cv, 1, y++, p, n, THEME_NORMAL);
		p += n + (p[n] == '\n');
	}
}

static void
draw_compose(struct screen *s)
{
	const struct rect *r = &s->lay.compose;
	unsigned cx = 0, cy = 0, y = s->lay.compose_rule;
	int focused = s->focus == LAYOUT_COMPOSE && s->mode == MODE_MAIN;
	int attr = focused ? THEME_BORDER_FOCUS : THEME_BORDER;
	struct buf left, right;
	size_t len;
	const char *t = edit_text(s->compose, &len);
	long units = utf8_utf16_length(t, len);

	buf_init(&left);
	buf_init(&right);
	canvas_hline(s->cv, 0, y, canvas_width(s->cv), attr);
	if (s->mode == MODE_PROMPT || s->mode == MODE_SEARCH) {
		const char *lead = s->mode == MODE_PROMPT ? ":" : "/";

		canvas_fill(s->cv, r->x, r->y, r->w, r->h, " ", THEME_NORMAL);
		canvas_puts(s->cv, 0, r->y, lead, THEME_TITLE);
		edit_draw(s->line, s->cv, 1, r->y, r->w - 1, 1, &cx, &cy);
		term_cursor(s->term, cx, cy);
		buf_free(&left);
		buf_free(&right);
		return;
	}
	if (s->shown == 0)
		buf_adds(&left, " no conversation ");
	else if (s->note_mode)
		buf_adds(&left, " NOTE: only agents see it (M-n: reply) ");
	else if (!conversation_window_open(s, s->shown))
		buf_adds(&left, " window closed: only templates (M-t) ");
	else if (s->reply_to > 0)
		buf_printf(&left, " reply to message %" PRId64 " (M-r: "
		    "plain) ", s->reply_to);
	else
		buf_adds(&left, focused ? " reply (Enter sends, M-Enter: "
		    "new line, M-e: editor) " : " reply ");
	presence_line(s, &left, 1);
	buf_add(&left, "", 1);
	buf_printf(&right, " %ld/%d ", units < 0 ? 0 : units, WA_TEXT_MAX);
	buf_add(&right, "", 1);
	{
		struct buf cut;
		size_t rw = text_width(right.data, right.len - 1);
		unsigned w = canvas_width(s->cv);

		buf_init(&cut);
		text_cut_buf(&cut, left.data, left.len - 1, w > rw + 4 ?
		    w - rw - 4 : 1, TEXT_ELLIPSIS);
		canvas_put(s->cv, 2, y, cut.data, cut.len, s->note_mode ?
		    THEME_NOTE : strstr(left.data, "closed") ? THEME_WARN :
		    attr);
		if (w > rw + 2)
			canvas_puts(s->cv, w - (unsigned)rw - 2, y, right.data,
			    units > WA_TEXT_MAX ? THEME_ERROR : attr);
		buf_free(&cut);
	}
	buf_free(&left);
	buf_free(&right);
	canvas_fill(s->cv, r->x, r->y, r->w, r->h, " ", THEME_NORMAL);
	edit_draw(s->compose, s->cv, r->x + 1, r->y, r->w > 2 ? r->w - 2 : 1,
	    r->h, &cx, &cy);
	if (focused)
		term_cursor(s->term, cx, cy);
	else
		term_cursor_hide(s->term);
}

static void
sync_text(struct screen *s, struct buf *b, int *attr)
{
	const struct sync_status *st = sync_status(s->cl->sync);
	char when[16];
	time_t t;
	struct tm tm;

	switch (st->state) {
	case SYNC_IDLE:
	case SYNC_CONNECTING:
		buf_adds(b, "connecting…");
		break;
	case SYNC_INITIAL:
		if (st->percent >= 0)
			buf_printf(b, "first sync %d%%", st->percent);
		else
			buf_adds(b, "first sync…");
		break;
	case SYNC_CATCHUP:
		buf_adds(b, "catching up…");
		break;
	case SYNC_LIVE:
		buf_adds(b, "live");
		break;
	case SYNC_OFFLINE:
		t = (time_t)st->offline_since;
		if (t > 0 && localtime_r(&t, &tm) != NULL)
			strftime(when, sizeof when, "%H:%M", &tm);
		else
			snprintf(when, sizeof when, "start");
		buf_printf(b, "OFFLINE since %s", when);
		if (st->fatal && st->error[0] != '\0')
			buf_printf(b, ": %s", st->error);
		else
			buf_adds(b, " (cached data only)");
		*attr = THEME_ERROR | CANVAS_REVERSE;
		break;
	}
}

static void
draw_status(struct screen *s)
{
	const struct rect *r = &s->lay.status;
	struct outbox_counts n = { 0 };
	struct buf b;
	int sync_attr = THEME_STATUS;
	unsigned x;

	canvas_fill(s->cv, r->x, r->y, r->w, 1, " ", THEME_STATUS);
	if (s->msg[0] != '\0') {
		struct buf cut;

		buf_init(&cut);
		text_cut_buf(&cut, s->msg, strlen(s->msg), r->w - 1,
		    TEXT_ELLIPSIS);
		canvas_put(s->cv, 1, r->y, cut.data, cut.len, s->msg_attr |
		    CANVAS_REVERSE);
		buf_free(&cut);
		return;
	}
	buf_init(&b);
	sync_text(s, &b, &sync_attr);
	buf_add(&b, "", 1);
	x = canvas_puts(s->cv, 1, r->y, b.data, sync_attr);
	buf_reset(&b);
	cache_outbox_counts(s->cl->cache, &n);
	buf_printf(&b, " │ %s", s->me_name[0] ? s->me_name : "?");
	if (n.queued > 0)
		buf_printf(&b, " │ outbox %" PRId64 " queued", n.queued);
	buf_add(&b, "", 1);
	x = canvas_puts(s->cv, x, r->y, b.data, THEME_STATUS);
	if (n.failed > 0) {
		char f[64];

		snprintf(f, sizeof f, " │ %" PRId64 " failed (:retry)",
		    n.failed);
		x = canvas_puts(s->cv, x, r->y, f, THEME_ERROR |
		    CANVAS_REVERSE);
	}
	buf_reset(&b);
	buf_adds(&b, " │ ");
	list_filter_name(s->list, &b);
	buf_adds(&b, " │ ? help");
	buf_add(&b, "", 1);
	canvas_puts(s->cv, x, r->y, b.data, THEME_STATUS);
	buf_free(&b);
}

static void
draw_small(struct screen *s, unsigned w, unsigned h)
{
	char line[64];

	canvas_clear(s->cv);
	snprintf(line, sizeof line, "Terminal too small (%ux%u)", w, h);
	canvas_puts(s->cv, 0, 0, line, THEME_WARN);
	snprintf(line, sizeof line, "need %dx%d", LAYOUT_MIN_W, LAYOUT_MIN_H);
	if (h > 1)
		canvas_puts(s->cv, 0, 1, line, THEME_NORMAL);
	term_cursor_hide(s->term);
}

static void
draw_all(struct screen *s)
{
	struct layout_in in;
	unsigned w, h, y;

	if (s->resized) {
		term_resize(s->term);
		s->resized = 0;
	}
	term_size(s->term, &w, &h);
	if (w != canvas_width(s->cv) || h != canvas_height(s->cv))
		canvas_resize(s->cv, w, h);
	in.w = w;
	in.h = h;
	in.focus = s->focus;
	in.sidebar = s->sidebar_on;
	in.compose_lines = (unsigned)edit_rows(s->compose, w > 2 ? w - 2 :
	    1);
	layout_compute(&in, &s->lay);
	if (s->lay.too_small) {
		draw_small(s, w, h);
		return;
	}
	term_cursor_hide(s->term);
	if (s->mode == MODE_HELP) {
		draw_help(s);
	} else {
		if (s->lay.list.w > 0)
			draw_list(s);
		if (s->lay.thread.w > 0) {
			if (s->mode == MODE_SEARCH)
				draw_hits(s, &s->lay.thread);
			else
				draw_thread(s);
		}
		if (s->lay.sidebar.w > 0) {
			struct rect r = s->lay.sidebar, body = body_of(&r);

			draw_header(s, &r, "Contact", NULL, 0);
			sidebar_draw(s->sidebar, s->cv, &body, now());
		}
		for (y = 0; y < s->lay.compose_rule; y++) {
			if (s->lay.sep1 > 0)
				canvas_vline(s->cv, s->lay.sep1, y, 1,
				    THEME_BORDER);
			if (s->lay.sep2 > 0)
				canvas_vline(s->cv, s->lay.sep2, y, 1,
				    THEME_BORDER);
		}
	}
	draw_compose(s);
	draw_status(s);
}

static void
on_prepare(uv_prepare_t *h)
{
	struct screen *s = h->data;

	if (!s->dirty || s->suspended || s->quitting)
		return;
	s->dirty = 0;
	draw_all(s);
	term_draw(s->term, s->cv);
}

/* -- the client's events ---------------------------------------------- */

static void
notify_one(void *arg, int64_t conv, const char *name, const char *text)
{
	struct screen *s = arg;
	struct buf n, t;
	const char *extra[3] = { NULL, NULL, NULL };

	(void)conv;
	if (s->cfg->notify_bell)
		term_bell(s->term);
	if (s->cfg->notify_command == NULL)
		return;
	buf_init(&n);
	buf_init(&t);
	utf8_sanitize(name != NULL ? name : "customer", strlen(name != NULL ?
	    name : "customer"), 0, &n);
	buf_add(&n, "", 1);
	extra[0] = n.data;
	if (s->cfg->notify_text && text != NULL) {
		text_cut_buf(&t, text, strlen(text), 200, TEXT_ELLIPSIS);
		buf_add(&t, "", 1);
		{
			struct buf clean;

			buf_init(&clean);
			utf8_sanitize(t.data, strlen(t.data), 0, &clean);
			buf_add(&clean, "", 1);
			buf_free(&t);
			t = clean;
		}
		extra[1] = t.data;
	}
	spawn_argv(s, s->cfg->notify_command, extra);
	buf_free(&n);
	buf_free(&t);
}

/*
 * New customer messages in conversations that are mine or nobody's, but
 * only once the stream is live: a first sync or a catch-up is backlog.
 */
static void
notify_check(struct screen *s)
{
	struct cache_filter f = { CACHE_ASSIGNED_ME_OR_NOBODY, s->me, NULL,
		NULL };
	int live = sync_status(s->cl->sync)->state == SYNC_LIVE;

	if (!live || !s->live_before) {
		s->notify_after = cache_newest_message(s->cl->cache);
		s->live_before = live;
		return;
	}
	cache_new_inbound(s->cl->cache, &f, &s->notify_after, 3, notify_one,
	    s);
}

static void
on_presence(struct screen *s, const char *json)
{
	cJSON *o = cJSON_Parse(json);
	int64_t agent = 0, conv = 0;
	const char *state = jx_str(o, "state"), *name = jx_str(o, "agent");
	struct presence *slot = NULL;
	struct buf b;

	if (o == NULL || jx_int64(o, "agent_id", &agent) != 0 ||
	    jx_int64(o, "conversation_id", &conv) != 0 || state == NULL ||
	    name == NULL) {
		cJSON_Delete(o);
		return;
	}
	for (int i = 0; i < PRESENCE_MAX; i++) {
		if (s->presence[i].agent == agent) {
			slot = &s->presence[i];
			break;
		}
		if (slot == NULL && (s->presence[i].agent == 0 || now() -
		    s->presence[i].at > PRESENCE_TTL))
			slot = &s->presence[i];
	}
	if (slot != NULL) {
		slot->agent = agent;
		slot->conversation = conv;
		slot->at = now();
		snprintf(slot->state, sizeof slot->state, "%s", state);
		buf_init(&b);
		utf8_sanitize(name, strlen(name), 0, &b);
		buf_add(&b, "", 1);
		snprintf(slot->name, sizeof slot->name, "%s", b.data);
		buf_free(&b);
		if (conv == s->shown && agent != s->me && strcmp(state,
		    "typing") == 0 && s->focus == LAYOUT_COMPOSE)
			say(s, THEME_WARN, "%s is typing in this conversation "
			    "too", slot->name);
	}
	cJSON_Delete(o);
	dirty(s);
}

/* A note mentions us: say where, and notify as for a new message. */
static void
on_mention(struct screen *s, const char *json)
{
	cJSON *o = cJSON_Parse(json);
	const char *by = jx_str(o, "agent");
	int64_t conv = 0;
	struct buf b;

	if (o == NULL || jx_int64(o, "conversation_id", &conv) != 0) {
		cJSON_Delete(o);
		return;
	}
	buf_init(&b);
	utf8_sanitize(by != NULL ? by : "someone", strlen(by != NULL ? by :
	    "someone"), 0, &b);
	buf_add(&b, "", 1);
	say(s, THEME_WARN, "%s mentioned you in conversation %" PRId64
	    " (:open %" PRId64 ")", b.data, conv, conv);
	if (s->cfg->notify_bell)
		term_bell(s->term);
	if (s->cfg->notify_command != NULL) {
		const char *extra[] = { b.data, NULL };

		spawn_argv(s, s->cfg->notify_command, extra);
	}
	buf_free(&b);
	cJSON_Delete(o);
}

static void
on_client_event(void *arg, enum client_event ev, const char *detail)
{
	struct screen *s = arg;

	switch (ev) {
	case CLIENT_DATA:
		list_reload(s->list);
		thread_reload(s->thread);
		sidebar_reload(s->sidebar);
		show_conversation(s);
		notify_check(s);
		break;
	case CLIENT_OUTBOX:
		thread_reload(s->thread);
		if (detail != NULL)
			say_outside(s, THEME_ERROR, "Refused by the relay "
			    "(:retry, :discard): ", detail);
		break;
	case CLIENT_PRESENCE:
		if (detail != NULL)
			on_presence(s, detail);
		break;
	case CLIENT_MENTION:
		if (detail != NULL)
			on_mention(s, detail);
		break;
	case CLIENT_SYNC_STATE:
		notify_check(s);
		break;
	default:
		break;
	}
	dirty(s);
}

/* Who we are: asked once; kept in the cache for offline starts. */
static void
me_done(void *arg, const struct http_result *r)
{
	struct screen *s = arg;
	cJSON *o;
	int64_t id;

	if (r->fail != HTTP_OK || r->status != 200)
		return;
	o = cJSON_Parse(r->body);
	if (o != NULL && jx_int64(o, "id", &id) == 0 && jx_str(o, "name")) {
		struct buf b;

		buf_init(&b);
		utf8_sanitize(jx_str(o, "name"), strlen(jx_str(o, "name")), 0,
		    &b);
		buf_add(&b, "", 1);
		snprintf(s->me_name, sizeof s->me_name, "%s", b.data);
		buf_free(&b);
		if (id != s->me) {
			s->me = id;
			cache_meta_set_int(s->cl->cache, "me", id);
			list_set_me(s->list, id);
			list_reload(s->list);
		}
	}
	cJSON_Delete(o);
	dirty(s);
}

static void
ask_me(struct screen *s)
{
	struct http_request rq = { 0 };
	char *url = client_url(s->cl, "/api/v1/me");

	rq.method = "GET";
	rq.url = url;
	rq.on_done = me_done;
	rq.arg = s;
	client_request(s->cl, &rq);
	free(url);
}

/* -- signals and timers ----------------------------------------------- */

static void
on_winch(uv_signal_t *h, int sig)
{
	struct screen *s = h->data;

	(void)sig;
	s->resized = 1;
	dirty(s);
}

static void
on_stop(uv_signal_t *h, int sig)
{
	struct screen *s = h->data;

	(void)sig;
	quit_now(s);
}

static void
on_cont(uv_signal_t *h, int sig)
{
	struct screen *s = h->data;

	(void)sig;
	term_redraw(s->term);
	s->resized = 1;
	dirty(s);
}

static void
on_tick(uv_timer_t *h)
{
	dirty(h->data);
}

/* -- setup ------------------------------------------------------------ */

static char *
default_keys_file(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *p;

	if (x != NULL && *x == '/')
		p = xasprintf("%s/glivi-tui/keys", x);
	else
		p = xasprintf("%s/.config/glivi-tui/keys", home ? home : "");
	if (access(p, F_OK) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

static struct keymap *
load_keys(const struct client_config *cfg, char **cause)
{
	struct keymap *k = keymap_new();
	const char *text;
	char *user = cfg->keys_file != NULL ? xstrdup(cfg->keys_file) :
	    default_keys_file();

	text = keymaps_builtin("default");
	if (keymap_load_string(k, "keymaps/default.keys", text, strlen(text),
	    cause) != 0)
		goto fail;
	if (strcmp(cfg->keymap, "default") != 0) {
		char name[64];

		text = keymaps_builtin(cfg->keymap);
		snprintf(name, sizeof name, "keymaps/%s.keys", cfg->keymap);
		if (text == NULL) {
			*cause = xasprintf("no key map named %s", cfg->keymap);
			goto fail;
		}
		if (keymap_load_string(k, name, text, strlen(text), cause) != 0)
			goto fail;
	}
	if (user != NULL && keymap_load_file(k, user, cause) != 0)
		goto fail;
	free(user);
	return k;
fail:
	free(user);
	keymap_free(k);
	return NULL;
}

/*
 * The theme: each pair's foreground on the terminal's own background, from
 * the 256-colour palette when there is one, else the 8 ANSI colours; no
 * colours at all with NO_COLOR or a terminal without them, where the
 * attribute bits alone carry every distinction (theme.h).
 */
static void
theme(struct screen *s)
{
	static const struct {
		int pair, c8, c256;
	} pairs[] = {
		{ THEME_PAIR_INBOUND, 6, 74 },	 /* steel blue */
		{ THEME_PAIR_OUTBOUND, 2, 71 },	 /* green */
		{ THEME_PAIR_NOTE, 3, 179 },	 /* amber */
		{ THEME_PAIR_SYSTEM, 5, 139 },	 /* mauve */
		{ THEME_PAIR_SELECT, 4, 67 },
		{ THEME_PAIR_STATUS, 4, 24 },
		{ THEME_PAIR_ERROR, 1, 167 },
		{ THEME_PAIR_WARN, 3, 172 },
		{ THEME_PAIR_OK, 2, 71 },
		{ THEME_PAIR_UNREAD, -1, -1 },
		{ THEME_PAIR_LABEL, 5, 133 },
		{ THEME_PAIR_BORDER, 4, 60 },
	};
	int rich = term_colour_count(s->term) >= 256;

	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
		term_set_pair(s->term, pairs[i].pair, rich ? pairs[i].c256 :
		    pairs[i].c8, -1);
}

static void
close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int
screen_run(struct client *cl)
{
	struct screen *s = xcalloc(1, sizeof *s);
	char *cause = NULL;
	int64_t me = 0;
	int logfd = -1, rc = 0;

	s->cl = cl;
	s->cfg = cl->cfg;
	s->loop = cl->loop;
	if ((s->keys = load_keys(s->cfg, &cause)) == NULL) {
		fprintf(stderr, "glivi-tui: %s\n", cause);
		free(cause);
		free(s);
		return 2;
	}
	if (s->cfg->log_file != NULL && (logfd = open(s->cfg->log_file,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "glivi-tui: %s: %s\n", s->cfg->log_file,
		    strerror(errno));
		keymap_free(s->keys);
		free(s);
		return 1;
	}
	if ((s->term = term_open(&cause)) == NULL) {
		fprintf(stderr, "glivi-tui: %s\n", cause);
		free(cause);
		keymap_free(s->keys);
		if (logfd >= 0)
			close(logfd);
		free(s);
		return 1;
	}
	/* The terminal is ours: the log goes to its file or nowhere. */
	log_set_fd(logfd);
	theme(s);
	/* Memory stays flat however large the cache: SQLite keeps 4 MiB. */
	cache_set_page_cache(cl->cache, SCREEN_PAGE_KIB);
	cache_meta_get_int(cl->cache, "me", &me);
	s->me = me;
	s->cv = canvas_new(1, 1);
	s->input = input_new();
	s->list = list_new(cl->cache, me);
	s->thread = thread_new(cl->cache, me);
	s->sidebar = sidebar_new(cl->cache);
	s->compose = edit_new(0);
	s->line = edit_new(EDIT_SINGLE_LINE);
	s->focus = LAYOUT_LIST;
	s->resized = 1;
	cache_agent_name(cl->cache, me, s->me_name, sizeof s->me_name);

	cl->on_event = on_client_event;
	cl->arg = s;

	uv_poll_init(s->loop, &s->in_poll, STDIN_FILENO);
	s->in_poll.data = s;
	uv_poll_start(&s->in_poll, UV_READABLE, on_stdin);
	uv_signal_init(s->loop, &s->sig_winch);
	s->sig_winch.data = s;
	uv_signal_start(&s->sig_winch, on_winch, SIGWINCH);
	uv_signal_init(s->loop, &s->sig_term);
	s->sig_term.data = s;
	uv_signal_start(&s->sig_term, on_stop, SIGTERM);
	uv_signal_init(s->loop, &s->sig_int);
	s->sig_int.data = s;
	uv_signal_start(&s->sig_int, on_stop, SIGINT);
	uv_signal_init(s->loop, &s->sig_hup);
	s->sig_hup.data = s;
	uv_signal_start(&s->sig_hup, on_stop, SIGHUP);
	uv_signal_init(s->loop, &s->sig_cont);
	s->sig_cont.data = s;
	uv_signal_start(&s->sig_cont, on_cont, SIGCONT);
	uv_prepare_init(s->loop, &s->draw);
	s->draw.data = s;
	uv_prepare_start(&s->draw, on_prepare);
	uv_timer_init(s->loop, &s->esc_timer);
	s->esc_timer.data = s;
	uv_timer_init(s->loop, &s->tick);
	s->tick.data = s;
	uv_timer_start(&s->tick, on_tick, TICK_MS, TICK_MS);
	uv_timer_init(s->loop, &s->draft_timer);
	s->draft_timer.data = s;

	list_reload(s->list);
	show_conversation(s);
	notify_check(s);
	sync_start(cl->sync, 0);
	outbox_kick(cl->outbox);
	ask_me(s);
	dirty(s);

	uv_run(s->loop, UV_RUN_DEFAULT);

	draft_save(s);
	if (s->shown != 0 && s->viewing_sent)
		send_presence(s, s->shown, "idle");
	cl->on_event = NULL;
	uv_prepare_stop(&s->draw);
	close_handle((uv_handle_t *)&s->in_poll);
	close_handle((uv_handle_t *)&s->sig_winch);
	close_handle((uv_handle_t *)&s->sig_term);
	close_handle((uv_handle_t *)&s->sig_int);
	close_handle((uv_handle_t *)&s->sig_hup);
	close_handle((uv_handle_t *)&s->sig_cont);
	close_handle((uv_handle_t *)&s->draw);
	close_handle((uv_handle_t *)&s->esc_timer);
	close_handle((uv_handle_t *)&s->tick);
	close_handle((uv_handle_t *)&s->draft_timer);
	uv_run(s->loop, UV_RUN_NOWAIT);
	term_close(s->term);
	log_set_fd(STDERR_FILENO);
	if (logfd >= 0)
		close(logfd);

	hits_clear(s);
	for (int i = 0; i < s->nhistory; i++)
		free(s->history[i]);
	free(s->help);
	free(s->complete_prefix);
	free(s->paste);
	edit_free(s->compose);
	edit_free(s->line);
	sidebar_free(s->sidebar);
	thread_free(s->thread);
	list_free(s->list);
	input_free(s->input);
	canvas_free(s->cv);
	keymap_free(s->keys);
	rc = s->status_code;
	free(s);
	return rc;
}

/* -- key dump --------------------------------------------------------- */

int
screen_key_dump(void)
{
	struct termios old, raw;
	struct input *in;
	struct input_event ev;
	char chunk[256], name[KEY_NAME_MAX];
	struct buf b;
	ssize_t n;
	int ctrl_c = 0;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &old) != 0) {
		fprintf(stderr, "glivi-tui keys: not a terminal\n");
		return 1;
	}
	raw = old;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	printf("Press keys to see what the terminal sends and what glivi-tui "
	    "reads; C-c twice quits.\r\n");
	fflush(stdout);
	in = input_new();
	buf_init(&b);
	while (ctrl_c < 2 && (n = read(STDIN_FILENO, chunk,
	    sizeof chunk)) > 0) {
		buf_reset(&b);
		input_describe(chunk, (size_t)n, &b);
		buf_add(&b, "", 1);
		printf("%s", b.data);
		input_feed(in, chunk, (size_t)n);
		input_flush(in);
		while (input_next(in, &ev)) {
			if (ev.type == INPUT_KEY) {
				key_name(ev.key, name);
				printf("  → %s", name);
				ctrl_c = ev.key == (KEYC_CTRL | 'c') ?
				    ctrl_c + 1 : 0;
			} else if (ev.type == INPUT_PASTE)
				printf("  → paste of %zu bytes", ev.len);
		}
		printf("\r\n");
		fflush(stdout);
	}
	buf_free(&b);
	input_free(in);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return 0;
}
