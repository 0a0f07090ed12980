/*
 * The thread pane, drawn from a real cache file into an in-memory canvas
 * and read back as text: what each kind of message shows, wrapping at
 * several widths, hostile text, scrolling, selection and the window that
 * keeps a long thread out of memory. Times are UTC (TZ is set in main).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "client/cache.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "tui/theme.h"
#include "tui/thread.h"
#include "ui/canvas.h"
#include "ui/text.h"

#define URL "https://relay.test:8443"
/* Mon 23 Nov 2026 09:00 UTC, and the day before. */
#define T0 1795424400LL
#define DAY 86400LL
#define ME 1 /* the agent using the screen: alice */

struct fx {
	char root[64];
	struct cache *c;
	struct thread *t;
	struct canvas *cv;
	int64_t seq;
};

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* Applies one change event of kind and id with data (JSON text). */
static void
put(struct fx *fx, const char *kind, int64_t id, const char *data)
{
	char *ev, *cause = NULL;

	ev = xasprintf("[{\"kind\":\"%s\",\"id\":%lld,\"seq\":%lld,"
	    "\"deleted\":false,\"data\":%s}]", kind, (long long)id,
	    (long long)++fx->seq, data);
	if (cache_apply(fx->c, ev, strlen(ev), "$", NULL, NULL, &cause) != 0)
		fail_msg("cache_apply: %s: %s", cause, ev);
	free(ev);
}

static void __attribute__((format(printf, 4, 5)))
putf(struct fx *fx, const char *kind, int64_t id, const char *fmt, ...)
{
	va_list ap;
	char *data;

	va_start(ap, fmt);
	if (vasprintf(&data, fmt, ap) < 0)
		fail();
	va_end(ap);
	put(fx, kind, id, data);
	free(data);
}

/* s as a JSON string literal (caller frees). */
static char *
js(const char *s)
{
	cJSON *o = cJSON_CreateString(s);
	char *p = cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	return p;
}

/*
 * A message of conversation 1: more is further members (each starting
 * with a comma) or "".
 */
static void
msg(struct fx *fx, int64_t id, int64_t ts, const char *dir, const char *type,
    const char *status, const char *more)
{
	/* Outbound messages are the screen's agent's unless more says. */
	putf(fx, "message", id, "{\"conversation_id\":1,\"wamid\":"
	    "\"wamid.%lld\",\"direction\":\"%s\",\"type\":\"%s\","
	    "\"timestamp\":%lld,\"status\":\"%s\"%s%s}",
	    (long long)id, dir, type, (long long)ts, status,
	    strcmp(dir, "out") == 0 && strstr(more, "\"agent_id\"") == NULL ?
	    ",\"agent_id\":1" : "", more);
}

static void
text(struct fx *fx, int64_t id, int64_t ts, const char *dir,
    const char *status, const char *body)
{
	char *b = js(body), *more = xasprintf(",\"text\":%s", b);

	msg(fx, id, ts, dir, "text", status, more);
	free(more);
	free(b);
}

static void
note(struct fx *fx, int64_t id, int64_t ts, int64_t agent, const char *body)
{
	char *b = js(body);

	putf(fx, "note", id, "{\"conversation_id\":1,\"agent_id\":%lld,"
	    "\"body\":%s,\"created_at\":%lld}", (long long)agent, b,
	    (long long)ts);
	free(b);
}

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);
	char *dir, *notice = NULL, *cause = NULL;

	snprintf(fx->root, sizeof fx->root, "/tmp/glivi-thread-XXXXXX");
	if (mkdtemp(fx->root) == NULL)
		return -1;
	log_set_level(LOG_ERROR);
	dir = xasprintf("%s/cache", fx->root);
	fx->c = cache_open(dir, URL, &notice, &cause);
	free(dir);
	if (fx->c == NULL || cache_initial_begin(fx->c, &cause) != 0 ||
	    cache_initial_end(fx->c, &cause) != 0) {
		fprintf(stderr, "cache: %s\n", cause);
		return -1;
	}
	put(fx, "agent", 1, "{\"name\":\"alice\",\"role\":\"agent\"}");
	put(fx, "agent", 2, "{\"name\":\"bob\",\"role\":\"agent\"}");
	put(fx, "contact", 1, "{\"wa_id\":\"4915112345678\","
	    "\"profile_name\":\"J\xc3\xbcrgen Wei\xc3\x9f\"}");
	put(fx, "conversation", 1, "{\"contact_id\":1,\"status\":\"open\"}");
	fx->t = thread_new(fx->c, ME);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	thread_free(fx->t);
	canvas_free(fx->cv);
	cache_close(fx->c);
	nftw(fx->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/* Draws the pane on a canvas of its own size and returns the text. */
static char *
draw(struct fx *fx, unsigned w, unsigned h, int focused)
{
	struct buf b;

	if (fx->cv == NULL)
		fx->cv = canvas_new(w, h);
	else
		canvas_resize(fx->cv, w, h);
	thread_draw(fx->t, fx->cv, 0, 0, w, h, focused);
	buf_init(&b);
	canvas_dump(fx->cv, &b);
	return b.data != NULL ? buf_steal(&b) : xstrdup("");
}

static void
check_draw(struct fx *fx, unsigned w, unsigned h, const char *want)
{
	char *got = draw(fx, w, h, 0);

	/* GLIVI_TEST_PRINT=1 shows every screen, to write expectations. */
	if (getenv("GLIVI_TEST_PRINT") != NULL) {
		fprintf(stderr, "--- %ux%u:\n%s---\n", w, h, got);
		free(got);
		return;
	}
	assert_string_equal(got, want);
	free(got);
}

/*
 * The same, with each HH:MM of a line that says "not sent" masked: an
 * outbox entry's time is when the test ran.
 */
static void
check_draw_masked(struct fx *fx, unsigned w, unsigned h, const char *want)
{
	char *got = draw(fx, w, h, 0);

	for (char *l = got; l != NULL && *l != '\0'; l = strchr(l, '\n') ?
	    strchr(l, '\n') + 1 : NULL) {
		char *end = strchr(l, '\n');

		if (end != NULL && memmem(l, (size_t)(end - l), "not sent", 8) &&
		    end - l > 7 && l[4] == ':')
			memcpy(l + 2, "HH:MM", 5);
	}
	if (getenv("GLIVI_TEST_PRINT") != NULL) {
		fprintf(stderr, "--- %ux%u:\n%s---\n", w, h, got);
		free(got);
		return;
	}
	assert_string_equal(got, want);
	free(got);
}

/* The attributes of the cell at (x, y). */
static int
attr_at(struct fx *fx, unsigned x, unsigned y)
{
	struct canvas_cell_info ci;

	assert_int_equal(canvas_cell(fx->cv, x, y, &ci), 0);
	return ci.attr;
}

/* The row of the canvas that starts with prefix, or -1. */
static int
row_of(struct fx *fx, const char *prefix)
{
	struct buf b;
	int row = 0;

	buf_init(&b);
	canvas_dump(fx->cv, &b);
	for (const char *p = b.data; p != NULL && *p != '\0'; row++) {
		if (strncmp(p, prefix, strlen(prefix)) == 0) {
			buf_free(&b);
			return row;
		}
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	buf_free(&b);
	return -1;
}

/* -- what it shows -------------------------------------------------------- */

static void
thread_draw__shows_days_times_names_and_directions(void **state)
{
	struct fx *fx = *state;

	text(fx, 1, T0 - DAY, "in", "received", "Hallo, wo ist meine "
	    "Bestellung?");
	text(fx, 2, T0 - DAY + 300, "out", "read", "Sie ist unterwegs.");
	text(fx, 3, T0 + 3600, "in", "received", "Danke!");
	thread_open(fx->t, 1);
	check_draw(fx, 40, 9,
	    "\n"
	    "─────────── Sun 22 Nov 2026 ────────────\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< Hallo, wo ist meine Bestellung?\n"
	    "> 09:05 you · read\n"
	    "> Sie ist unterwegs.\n"
	    "─────────── Mon 23 Nov 2026 ────────────\n"
	    "< 10:00 Jürgen Weiß\n"
	    "< Danke!\n");
}

static void
thread_draw__wraps_by_grapheme_cluster_at_every_width(void **state)
{
	struct fx *fx = *state;

	/* A ZWJ family, a flag, CJK without spaces, a combining accent. */
	text(fx, 1, T0, "in", "received", "Ich habe zwei Tassen bestellt, "
	    "aber nur eine ist angekommen. 👨‍👩‍👧‍👦🇳🇿 日本語のテキストです "
	    "Cafe\xcc\x81 Cafe\xcc\x81 Cafe\xcc\x81");
	thread_open(fx->t, 1);
	check_draw(fx, 80, 5,
	    "\n"
	    "─────────────────────────────── Mon 23 Nov 2026 ────────────────────────────────\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< Ich habe zwei Tassen bestellt, aber nur eine ist angekommen. 👨‍👩‍👧‍👦🇳🇿\n"
	    "< 日本語のテキストです Café Café Café\n");
	check_draw(fx, 40, 6,
	    "\n"
	    "─────────── Mon 23 Nov 2026 ────────────\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< Ich habe zwei Tassen bestellt, aber\n"
	    "< nur eine ist angekommen. 👨‍👩‍👧‍👦🇳🇿\n"
	    "< 日本語のテキストです Café Café Café\n");
	check_draw(fx, 20, 10,
	    "\n"
	    "\n"
	    "─ Mon 23 Nov 2026 ──\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< Ich habe zwei\n"
	    "< Tassen bestellt,\n"
	    "< aber nur eine ist\n"
	    "< angekommen. 👨‍👩‍👧‍👦🇳🇿\n"
	    "< 日本語のテキストで\n"
	    "< す Café Café Café\n");
}

static void
thread_draw__shows_the_delivery_state_of_each_outbound_message(void **state)
{
	struct fx *fx = *state;

	text(fx, 1, T0, "in", "received", "Hi");
	text(fx, 2, T0 + 60, "out", "queued", "one");
	text(fx, 3, T0 + 120, "out", "sent", "two");
	text(fx, 4, T0 + 180, "out", "delivered", "three");
	text(fx, 5, T0 + 240, "out", "read", "four");
	msg(fx, 6, T0 + 300, "out", "text", "failed", ",\"text\":\"five\","
	    "\"failure\":{\"code\":131047,\"title\":\"Re-engagement message\","
	    "\"message\":\"Re-engagement message\",\"details\":\"Message "
	    "failed to send because more than 24 hours have passed since the "
	    "customer last replied to this number.\"}");
	thread_open(fx->t, 1);
	check_draw(fx, 60, 16,
	    "───────────────────── Mon 23 Nov 2026 ──────────────────────\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< Hi\n"
	    "> 09:01 you · queued\n"
	    "> one\n"
	    "> 09:02 you · sent\n"
	    "> two\n"
	    "> 09:03 you · delivered\n"
	    "> three\n"
	    "> 09:04 you · read\n"
	    "> four\n"
	    "> 09:05 you · FAILED\n"
	    "> five\n"
	    "> ! not delivered (131047): Message failed to send because\n"
	    "> more than 24 hours have passed since the customer last\n"
	    "> replied to this number.\n");
}

static void
thread_draw__shows_every_message_type(void **state)
{
	struct fx *fx = *state;

	msg(fx, 1, T0, "in", "image", "received", ",\"text\":\"Box is "
	    "damaged\",\"media\":{\"id\":\"1873462990153264\",\"mime_type\":"
	    "\"image/jpeg\",\"file_size\":123456,\"caption\":\"Box is "
	    "damaged\"}");
	msg(fx, 2, T0 + 10, "in", "document", "received", ",\"text\":null,"
	    "\"media\":{\"id\":\"m2\",\"mime_type\":\"application/pdf\","
	    "\"filename\":\"Factura 5531 – März.pdf\",\"file_size\":48100}");
	msg(fx, 3, T0 + 20, "in", "audio", "received", ",\"media\":{\"id\":"
	    "\"m3\",\"mime_type\":\"audio/ogg\",\"voice\":true,\"file_size\":"
	    "8000}");
	msg(fx, 4, T0 + 30, "in", "location", "received", ",\"text\":"
	    "\"Pickup point\",\"wa\":{\"type\":\"location\",\"location\":{"
	    "\"latitude\":51.5033635,\"longitude\":-0.1276248,\"name\":"
	    "\"Pickup point\",\"address\":\"10 Downing St, London\"}}");
	msg(fx, 5, T0 + 40, "in", "contacts", "received", ",\"wa\":{"
	    "\"type\":\"contacts\",\"contacts\":[{\"name\":{\"formatted_name\":"
	    "\"Rahul Verma\"},\"phones\":[{\"phone\":\"+91 98450 12345\"}],"
	    "\"emails\":[{\"email\":\"rahul@example.com\"}]}]}");
	putf(fx, "order", 1, "{\"conversation_id\":1,\"contact_id\":1,"
	    "\"message_id\":6,\"items\":[{\"product_retailer_id\":\"mug-blue\","
	    "\"quantity\":2,\"item_price\":\"7.99\",\"currency\":\"EUR\"},"
	    "{\"product_retailer_id\":\"sticker\",\"quantity\":3,"
	    "\"item_price\":\"0.5\",\"currency\":\"EUR\"}],\"currency\":"
	    "\"EUR\",\"total\":\"17.48\",\"status\":\"received\"}");
	msg(fx, 6, T0 + 50, "in", "order", "received", ",\"order_id\":1,"
	    "\"text\":\"Bitte nach 18 Uhr liefern\"");
	msg(fx, 7, T0 + 60, "in", "interactive", "received", ",\"text\":"
	    "\"Change\",\"wa\":{\"type\":\"interactive\",\"interactive\":{"
	    "\"type\":\"button_reply\",\"button_reply\":{\"id\":\"c\","
	    "\"title\":\"Change\"}}}");
	msg(fx, 8, T0 + 70, "in", "interactive", "received", ",\"wa\":{"
	    "\"type\":\"interactive\",\"interactive\":{\"type\":\"list_reply\","
	    "\"list_reply\":{\"id\":\"s\",\"title\":\"Tuesday afternoon\","
	    "\"description\":\"14:00 to 18:00\"}}}");
	msg(fx, 9, T0 + 80, "in", "button", "received", ",\"text\":\"Yes, "
	    "confirm\",\"wa\":{\"type\":\"button\",\"button\":{\"text\":"
	    "\"Yes, confirm\"}}");
	msg(fx, 10, T0 + 90, "out", "template", "delivered", ",\"wa\":{"
	    "\"type\":\"template\",\"template\":{\"name\":\"order_update\","
	    "\"language\":\"en_US\",\"components\":[{\"type\":\"body\","
	    "\"parameters\":[{\"type\":\"text\",\"text\":\"Jürgen\"},"
	    "{\"type\":\"text\",\"text\":\"5531\"}]}]}}");
	msg(fx, 11, T0 + 100, "in", "system", "received", ",\"text\":\"User "
	    "changed from 16505551234 to 16505559876\"");
	msg(fx, 12, T0 + 110, "in", "unsupported", "received", ",\"wa\":{"
	    "\"type\":\"unsupported\",\"unsupported\":{\"type\":"
	    "\"poll_creation\"}}");
	msg(fx, 13, T0 + 120, "in", "hologram", "received",
	    ",\"unknown_type\":true");
	msg(fx, 14, T0 + 130, "in", "request_welcome", "received", "");
	thread_open(fx->t, 1);
	check_draw(fx, 60, 40,
	    "\n"
	    "\n"
	    "\n"
	    "\n"
	    "\n"
	    "\n"
	    "───────────────────── Mon 23 Nov 2026 ──────────────────────\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< [image, 120.6 KB]\n"
	    "< Box is damaged\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< [document, 47.0 KB] Factura 5531 – März.pdf\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< [voice message, 7.8 KB]\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< [location] Pickup point\n"
	    "< 10 Downing St, London\n"
	    "< 51.50336, -0.12762\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< [contact] Rahul Verma, +91 98450 12345, rahul@example.com\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< [order] 2 items, total 17.48 EUR (received)\n"
	    "< 2 x mug-blue @ 7.99 EUR\n"
	    "< 3 x sticker @ 0.5 EUR\n"
	    "< Bitte nach 18 Uhr liefern\n"
	    "< 09:01 Jürgen Weiß\n"
	    "< [button] Change\n"
	    "< 09:01 Jürgen Weiß\n"
	    "< [list] Tuesday afternoon - 14:00 to 18:00\n"
	    "< 09:01 Jürgen Weiß\n"
	    "< [button] Yes, confirm\n"
	    "> 09:01 you · delivered\n"
	    "> [template order_update (en_US)]\n"
	    "> Jürgen, 5531\n"
	    "* 09:01 User changed from 16505551234 to 16505559876\n"
	    "< 09:01 Jürgen Weiß\n"
	    "< [unsupported: poll_creation]\n"
	    "< 09:02 Jürgen Weiß\n"
	    "< [unsupported: hologram]\n"
	    "* 09:02 the customer opened the chat\n");
}

static void
thread_draw__shows_a_reply_with_the_quoted_message(void **state)
{
	struct fx *fx = *state;

	text(fx, 1, T0, "out", "read", "Is the address Hauptstraße 5 "
	    "still right?");
	text(fx, 2, T0 + 60, "in", "received", "unrelated");
	msg(fx, 3, T0 + 120, "in", "text", "received", ",\"text\":\"Yes, "
	    "that address is correct.\",\"wa\":{\"context\":{\"from\":\"1555\","
	    "\"id\":\"wamid.1\"},\"type\":\"text\"}");
	msg(fx, 5, T0 + 240, "out", "text", "sent", ",\"text\":\"Thanks\","
	    "\"target_wamid\":\"wamid.3\",\"wa\":{\"type\":\"text\","
	    "\"text\":\"Thanks\",\"reply_to\":3}");
	msg(fx, 6, T0 + 300, "in", "text", "received", ",\"text\":\"?\","
	    "\"wa\":{\"context\":{\"id\":\"wamid.gone\"},\"type\":\"text\"}");
	thread_open(fx->t, 1);
	check_draw(fx, 40, 16,
	    "\n"
	    "─────────── Mon 23 Nov 2026 ────────────\n"
	    "> 09:00 you · read\n"
	    "> Is the address Hauptstraße 5 still\n"
	    "> right?\n"
	    "< 09:01 Jürgen Weiß\n"
	    "< unrelated\n"
	    "< 09:02 Jürgen Weiß\n"
	    "< | you: Is the address Hauptstraße 5 s…\n"
	    "< Yes, that address is correct.\n"
	    "> 09:04 you · sent\n"
	    "> | Jürgen Weiß: Yes, that address is c…\n"
	    "> Thanks\n"
	    "< 09:05 Jürgen Weiß\n"
	    "< | (a message not in the cache)\n"
	    "< ?\n");
	assert_int_equal(thread_selected(fx->t), 6);
	assert_int_equal(thread_jump_quoted(fx->t), -1);
	thread_select(fx->t, -1);
	assert_int_equal(thread_selected(fx->t), 5);
	assert_int_equal(thread_jump_quoted(fx->t), 0);
	assert_int_equal(thread_selected(fx->t), 3);
	assert_int_equal(thread_jump_quoted(fx->t), 0);
	assert_int_equal(thread_selected(fx->t), 1);
}

static void
thread_draw__shows_reactions_on_their_message_not_as_lines(void **state)
{
	struct fx *fx = *state;

	text(fx, 1, T0, "out", "read", "Your parcel left today.");
	msg(fx, 2, T0 + 60, "in", "reaction", "received", ",\"target_wamid\":"
	    "\"wamid.1\",\"wa\":{\"type\":\"reaction\",\"reaction\":{"
	    "\"message_id\":\"wamid.1\",\"emoji\":\"😢\"}}");
	msg(fx, 3, T0 + 70, "in", "reaction", "received", ",\"target_wamid\":"
	    "\"wamid.1\",\"wa\":{\"type\":\"reaction\",\"reaction\":{"
	    "\"message_id\":\"wamid.1\",\"emoji\":\"👍\"}}");
	text(fx, 4, T0 + 80, "in", "received", "Great");
	msg(fx, 5, T0 + 90, "out", "reaction", "sent", ",\"target_wamid\":"
	    "\"wamid.4\",\"wa\":{\"type\":\"reaction\",\"message_id\":4,"
	    "\"emoji\":\"❤️\"}");
	text(fx, 6, T0 + 100, "in", "received", "Bye");
	msg(fx, 7, T0 + 110, "in", "reaction", "received", ",\"target_wamid\":"
	    "\"wamid.6\",\"wa\":{\"type\":\"reaction\",\"reaction\":{"
	    "\"message_id\":\"wamid.6\",\"emoji\":\"🎉\"}}");
	msg(fx, 8, T0 + 120, "in", "reaction", "received", ",\"target_wamid\":"
	    "\"wamid.6\",\"wa\":{\"type\":\"reaction\",\"reaction\":{"
	    "\"message_id\":\"wamid.6\",\"emoji\":\"\"}}");
	thread_open(fx->t, 1);
	check_draw(fx, 40, 9,
	    "─────────── Mon 23 Nov 2026 ────────────\n"
	    "> 09:00 you · read\n"
	    "> Your parcel left today.\n"
	    "> 👍 Jürgen Weiß\n"
	    "< 09:01 Jürgen Weiß\n"
	    "< Great\n"
	    "< ❤️ you\n"
	    "< 09:01 Jürgen Weiß\n"
	    "< Bye\n");
	/* A reaction is no message of its own to jump to. */
	assert_int_equal(thread_jump(fx->t, 2), -1);
}

static void
thread_draw__shows_edits_and_deletions(void **state)
{
	struct fx *fx = *state;

	msg(fx, 1, T0, "in", "text", "received", ",\"text\":\"Teh parcel\","
	    "\"edited_text\":\"The parcel\"");
	msg(fx, 2, T0 + 60, "in", "text", "received", ",\"text\":null,"
	    "\"revoked\":true");
	msg(fx, 3, T0 + 70, "in", "edit", "received", ",\"text\":\"The "
	    "parcel\",\"target_wamid\":\"wamid.1\"");
	msg(fx, 4, T0 + 80, "in", "revoke", "received",
	    ",\"target_wamid\":\"wamid.2\"");
	thread_open(fx->t, 1);
	check_draw(fx, 40, 6,
	    "\n"
	    "─────────── Mon 23 Nov 2026 ────────────\n"
	    "< 09:00 Jürgen Weiß · edited\n"
	    "< The parcel\n"
	    "< 09:01 Jürgen Weiß\n"
	    "< message deleted\n");
}

static void
thread_draw__shows_notes_between_messages_by_time(void **state)
{
	struct fx *fx = *state;
	int row;

	text(fx, 1, T0, "in", "received", "Where is it?");
	text(fx, 2, T0 + 600, "out", "read", "Checking.");
	note(fx, 1, T0 + 300, 2, "Customer called twice; escalate if late.");
	note(fx, 2, T0 + 900, 1, "Asked the warehouse.");
	thread_open(fx->t, 1);
	check_draw(fx, 40, 12,
	    "\n"
	    "\n"
	    "─────────── Mon 23 Nov 2026 ────────────\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< Where is it?\n"
	    "# 09:05 NOTE bob\n"
	    "# Customer called twice; escalate if\n"
	    "# late.\n"
	    "> 09:10 you · read\n"
	    "> Checking.\n"
	    "# 09:15 NOTE you\n"
	    "# Asked the warehouse.\n");
	row = row_of(fx, "# 09:05");
	assert_true(row >= 0);
	/* Reversed across the whole width, unmistakable without colour. */
	assert_int_equal(attr_at(fx, 0, (unsigned)row) & THEME_NOTE,
	    THEME_NOTE);
	assert_int_equal(attr_at(fx, 39, (unsigned)row) & CANVAS_REVERSE,
	    CANVAS_REVERSE);
	assert_int_equal(attr_at(fx, 39, (unsigned)row + 1) & CANVAS_REVERSE,
	    CANVAS_REVERSE);
}

static void
thread_draw__shows_unsent_replies_at_the_bottom(void **state)
{
	struct fx *fx = *state;
	int64_t a, b;
	char *cause = NULL;

	text(fx, 1, T0, "in", "received", "Hello?");
	assert_int_equal(cache_outbox_add(fx->c, 1, "message", "POST",
	    "/api/v1/conversations/1/messages", "{\"type\":\"text\","
	    "\"text\":\"On its way!\"}", &a, &cause), 0);
	assert_int_equal(cache_outbox_add(fx->c, 1, "message", "POST",
	    "/api/v1/conversations/1/messages", "{\"type\":\"text\","
	    "\"text\":\"Sorry for the wait\"}", &b, &cause), 0);
	assert_int_equal(cache_outbox_failed(fx->c, b, "the customer last "
	    "wrote more than 24 hours ago; only a template can be sent now "
	    "(HTTP 422)"), 0);
	/* Other conversations' and accepted entries are not shown. */
	assert_int_equal(cache_outbox_add(fx->c, 2, "message", "POST",
	    "/api/v1/conversations/2/messages", "{\"type\":\"text\","
	    "\"text\":\"elsewhere\"}", &a, &cause), 0);
	thread_open(fx->t, 1);
	check_draw_masked(fx, 40, 10,
	    "─────────── Mon 23 Nov 2026 ────────────\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< Hello?\n"
	    "> HH:MM you · queued, not sent\n"
	    "> On its way!\n"
	    "> HH:MM you · FAILED, not sent\n"
	    "> Sorry for the wait\n"
	    "> ! the customer last wrote more than 24\n"
	    "> hours ago; only a template can be sent\n"
	    "> now (HTTP 422)\n");
}

static void
thread_draw__shows_a_whole_conversation_at_60_columns(void **state)
{
	struct fx *fx = *state;

	text(fx, 1, T0 - DAY, "in", "received", "Hallo! Meine Bestellung "
	    "5531 ist noch nicht da. Können Sie nachsehen?");
	msg(fx, 2, T0 - DAY + 240, "out", "text", "read", ",\"text\":"
	    "\"Sie ist unterwegs und kommt morgen.\",\"agent_id\":2,"
	    "\"target_wamid\":\"wamid.1\",\"wa\":{\"type\":\"text\","
	    "\"reply_to\":1}");
	msg(fx, 3, T0 - DAY + 300, "in", "reaction", "received",
	    ",\"target_wamid\":\"wamid.2\",\"wa\":{\"reaction\":{\"emoji\":"
	    "\"🙏\"}}");
	note(fx, 1, T0 - DAY + 400, 2, "Carrier confirmed: delivery "
	    "tomorrow before noon.");
	msg(fx, 4, T0 + 1800, "in", "image", "received", ",\"text\":\"Die "
	    "Box ist beschädigt 📦\",\"media\":{\"id\":\"m4\",\"mime_type\":"
	    "\"image/jpeg\",\"file_size\":482133}");
	msg(fx, 5, T0 + 1860, "in", "location", "received", ",\"wa\":{"
	    "\"location\":{\"latitude\":48.1374,\"longitude\":11.5755,"
	    "\"name\":\"Packstation 112\",\"address\":\"Marienplatz 1, "
	    "München\"}}");
	msg(fx, 6, T0 + 2400, "out", "text", "failed", ",\"text\":\"Wir "
	    "schicken Ersatz.\",\"failure\":{\"code\":131047,\"title\":"
	    "\"Re-engagement message\"}");
	thread_open(fx->t, 1);
	check_draw(fx, 60, 24,
	    "\n"
	    "\n"
	    "\n"
	    "───────────────────── Sun 22 Nov 2026 ──────────────────────\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< Hallo! Meine Bestellung 5531 ist noch nicht da. Können Sie\n"
	    "< nachsehen?\n"
	    "> 09:04 bob · read\n"
	    "> | Jürgen Weiß: Hallo! Meine Bestellung 5531 ist noch nich…\n"
	    "> Sie ist unterwegs und kommt morgen.\n"
	    "> 🙏 Jürgen Weiß\n"
	    "# 09:06 NOTE bob\n"
	    "# Carrier confirmed: delivery tomorrow before noon.\n"
	    "───────────────────── Mon 23 Nov 2026 ──────────────────────\n"
	    "< 09:30 Jürgen Weiß\n"
	    "< [image, 470.8 KB]\n"
	    "< Die Box ist beschädigt 📦\n"
	    "< 09:31 Jürgen Weiß\n"
	    "< [location] Packstation 112\n"
	    "< Marienplatz 1, München\n"
	    "< 48.13740, 11.57550\n"
	    "> 09:40 you · FAILED\n"
	    "> Wir schicken Ersatz.\n"
	    "> ! not delivered (131047): Re-engagement message\n");
}

/* -- hostile text -------------------------------------------------------- */

#define ESC "\x1b"
#define HOSTILE                                                         \
	"CSI" ESC "[2J" ESC "[H OSC52" ESC "]52;c;SGVsbG8=\x07 OSC8"         \
	ESC "]8;;http://evil.example/" ESC "\\click" ESC "]8;;" ESC "\\"    \
	" mouse" ESC "[?1000h ret\rurn back\bspace del\x7f c1\xc2\x9b"         \
	"31m bidi\xe2\x80\xae" "evil\xe2\x81\xa6iso\xe2\x81\xa9 zwj"          \
	"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"           \
	"\xf0\x9f\x91\xa7 tone\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd flag"          \
	"\xf0\x9f\x87\xb3\xf0\x9f\x87\xbf cjk\xe6\x97\xa5\xe6\x9c\xac"        \
	"\xe8\xaa\x9e marks" "a\xcc\x81\xcc\x82\xcc\x83\xcc\x84\xcc\x85"       \
	"\xcc\x86\xcc\x87\xcc\x88 bad\xff\xfe\xc3 end"

/*
 * Every cell of the canvas: valid UTF-8, one whole cluster, no control,
 * no C1, no bidi override or isolate; every row no wider than the pane.
 */
static void
check_cells_clean(struct fx *fx)
{
	unsigned w = canvas_width(fx->cv), h = canvas_height(fx->cv);
	struct canvas_cell_info ci;

	for (unsigned y = 0; y < h; y++) {
		unsigned cols = 0;

		for (unsigned x = 0; x < w; x++) {
			const unsigned char *p;
			unsigned cw;

			assert_int_equal(canvas_cell(fx->cv, x, y, &ci), 0);
			cols += ci.width;
			if (ci.len == 0)
				continue;
			p = (const unsigned char *)ci.text;
			assert_true(utf8_valid(ci.text, ci.len));
			assert_int_equal(text_cluster(ci.text, ci.len, &cw),
			    ci.len);
			for (size_t k = 0; k < ci.len; k++) {
				assert_true(p[k] >= 0x20 && p[k] != 0x7f);
				if (p[k] == 0xc2 && k + 1 < ci.len)
					assert_false(p[k + 1] >= 0x80 &&
					    p[k + 1] <= 0x9f);
				if (p[k] == 0xe2 && k + 2 < ci.len &&
				    p[k + 1] == 0x80)
					assert_false(p[k + 2] >= 0xaa &&
					    p[k + 2] <= 0xae);
				if (p[k] == 0xe2 && k + 2 < ci.len &&
				    p[k + 1] == 0x81)
					assert_false(p[k + 2] >= 0xa6 &&
					    p[k + 2] <= 0xa9);
			}
		}
		assert_true(cols <= w);
	}
}

static void
thread_draw__never_puts_controls_on_the_canvas_nor_splits_clusters(
    void **state)
{
	struct fx *fx = *state;
	char *b = js(HOSTILE), *more, *long_text;
	struct buf big;
	char *dump;
	int64_t id;
	char *cause = NULL;
	const unsigned widths[] = { 20, 40, 80 };

	/* Names, files, notes, reasons: every string from outside. */
	put(fx, "contact", 1, "{\"profile_name\":\"Eve\\u001b]0;title"
	    "\\u0007\\u001b[31m\\u202e\"}");
	put(fx, "agent", 2, "{\"name\":\"mal\\u001b[5mlory\"}");
	text(fx, 1, T0, "in", "received", HOSTILE);
	more = xasprintf(",\"text\":%s,\"media\":{\"id\":\"m1\",\"filename\":"
	    "%s,\"file_size\":10}", b, b);
	msg(fx, 2, T0 + 1, "in", "document", "received", more);
	free(more);
	more = xasprintf(",\"text\":%s,\"failure\":{\"code\":1,\"details\":%s}",
	    b, b);
	msg(fx, 3, T0 + 2, "out", "text", "failed", more);
	free(more);
	note(fx, 1, T0 + 3, 2, HOSTILE);
	/* Raw invalid UTF-8 and a NUL escape inside the stored JSON. */
	put(fx, "message", 4, "{\"conversation_id\":1,\"wamid\":\"w4\","
	    "\"direction\":\"in\",\"type\":\"text\",\"timestamp\":1795424404,"
	    "\"status\":\"received\",\"text\":\"raw\xff\xc3(\\u0000nul\"}");
	more = xasprintf("{\"type\":\"text\",\"text\":%s}", b);
	assert_int_equal(cache_outbox_add(fx->c, 1, "message", "POST", "/",
	    more, &id, &cause), 0);
	assert_int_equal(cache_outbox_failed(fx->c, id, HOSTILE), 0);
	free(more);
	/* 4096 characters of text in one message. */
	buf_init(&big);
	for (int i = 0; i < 4096 / 8; i++)
		buf_adds(&big, i % 7 ? "abcdefg " : "日本語の");
	long_text = buf_steal(&big);
	text(fx, 5, T0 + 5, "in", "received", long_text);
	free(long_text);
	free(b);
	thread_open(fx->t, 1);
	for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
		dump = draw(fx, widths[i], 400, 1);
		check_cells_clean(fx);
		/* Escapes show as what they are, harmless. */
		assert_non_null(strstr(dump, "\xe2\x90\x9b]52;c;"));
		assert_null(strstr(dump, ESC));
		free(dump);
	}
	/* Scrolled a line at a time through it all, still clean. */
	thread_top(fx->t);
	for (int i = 0; i < 300; i++) {
		dump = draw(fx, 20, 7, 1);
		check_cells_clean(fx);
		free(dump);
		thread_scroll(fx->t, 1);
	}
}

static void
thread_draw__shows_escapes_as_visible_pictures(void **state)
{
	struct fx *fx = *state;

	text(fx, 1, T0, "in", "received", "a" ESC "[31mred" ESC "[0m\rb"
	    "\xe2\x80\xae" "evil\x07!\nline two");
	thread_open(fx->t, 1);
	check_draw(fx, 40, 4,
	    "─────────── Mon 23 Nov 2026 ────────────\n"
	    "< 09:00 Jürgen Weiß\n"
	    "< a␛[31mred␛[0m b�evil␇!\n"
	    "< line two\n");
}

/* -- moving through a thread ---------------------------------------------- */

/*
 * n inbound messages "m0001"..., a second apart on one day, so each is
 * two lines (a header and its text) after one day rule: message i's
 * header is line 2i - 1.
 */
static void
many_with(struct fx *fx, int n, const char *more)
{
	struct buf b;
	char *cause = NULL;

	buf_init(&b);
	buf_adds(&b, "[");
	for (int i = 1; i <= n; i++)
		buf_printf(&b, "%s{\"kind\":\"message\",\"id\":%d,\"seq\":%lld,"
		    "\"data\":{\"conversation_id\":1,\"wamid\":\"wamid.%d\","
		    "\"direction\":\"in\",\"type\":\"text\",\"timestamp\":%lld,"
		    "\"status\":\"received\",\"text\":\"m%04d\"%s}}",
		    i > 1 ? "," : "", i, (long long)++fx->seq, i,
		    (long long)(T0 + i), i, more);
	buf_adds(&b, "]");
	if (cache_apply(fx->c, b.data, b.len, "$", NULL, NULL, &cause) != 0)
		fail_msg("%s", cause);
	buf_free(&b);
}

static void
many(struct fx *fx, int n)
{
	many_with(fx, n, "");
}

/* Row y of the pane as drawn (w x h), without the trailing newline. */
static char *
row(struct fx *fx, unsigned w, unsigned h, unsigned y)
{
	char *d = draw(fx, w, h, 0), *p = d, *e, *r;

	for (unsigned i = 0; i < y && p != NULL; i++)
		p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
	assert_non_null(p);
	e = strchr(p, '\n');
	r = xstrndup(p, e ? (size_t)(e - p) : strlen(p));
	free(d);
	return r;
}

static void
expect_row(struct fx *fx, unsigned y, const char *want)
{
	char *r = row(fx, 40, 10, y);

	assert_string_equal(r, want);
	free(r);
}

static void
thread_scroll__moves_by_lines_and_stops_at_both_ends(void **state)
{
	struct fx *fx = *state;

	many(fx, 30);
	thread_open(fx->t, 1);
	expect_row(fx, 1, "< m0026");
	assert_true(thread_at_bottom(fx->t));
	thread_scroll(fx->t, -1);
	expect_row(fx, 0, "< m0025");
	assert_false(thread_at_bottom(fx->t));
	thread_scroll(fx->t, -2);
	expect_row(fx, 0, "< m0024");
	thread_scroll(fx->t, -1000);
	expect_row(fx, 0, "─────────── Mon 23 Nov 2026 ────────────");
	expect_row(fx, 2, "< m0001");
	thread_scroll(fx->t, -1);
	expect_row(fx, 2, "< m0001");
	thread_scroll(fx->t, 2);
	expect_row(fx, 0, "< m0001");
	thread_scroll(fx->t, 1000);
	expect_row(fx, 9, "< m0030");
	assert_true(thread_at_bottom(fx->t));
	thread_scroll(fx->t, 1);
	expect_row(fx, 9, "< m0030");
}

static void
thread_page__moves_by_half_screens(void **state)
{
	struct fx *fx = *state;

	many(fx, 30);
	thread_open(fx->t, 1);
	expect_row(fx, 1, "< m0026");
	thread_page(fx->t, -2);
	expect_row(fx, 1, "< m0021");
	thread_page(fx->t, -1);
	expect_row(fx, 0, "< m0018");
	thread_page(fx->t, 1);
	expect_row(fx, 1, "< m0021");
	thread_top(fx->t);
	expect_row(fx, 2, "< m0001");
	thread_bottom(fx->t);
	expect_row(fx, 9, "< m0030");
}

static void
thread_select__moves_between_messages_and_scrolls_them_into_view(
    void **state)
{
	struct fx *fx = *state;
	char *d;
	int r;

	many(fx, 30);
	text(fx, 31, T0 + 40, "out", "read", "reply");
	note(fx, 1, T0 + 35, 1, "a note is not selectable");
	thread_open(fx->t, 1);
	assert_int_equal(thread_selected(fx->t), 31);
	thread_select(fx->t, -1);
	assert_int_equal(thread_selected(fx->t), 30);
	thread_select(fx->t, -10);
	assert_int_equal(thread_selected(fx->t), 20);
	d = draw(fx, 40, 10, 1);
	free(d);
	r = row_of(fx, "< m0020");
	assert_true(r >= 1);
	/* Shown with the selection's look only when focused. */
	assert_int_equal(attr_at(fx, 3, (unsigned)r - 1), THEME_SELECT);
	d = draw(fx, 40, 10, 0);
	free(d);
	assert_int_not_equal(attr_at(fx, 3, (unsigned)r - 1), THEME_SELECT);
	thread_select(fx->t, 100);
	assert_int_equal(thread_selected(fx->t), 31);
	thread_select(fx->t, -100);
	assert_int_equal(thread_selected(fx->t), 1);
	expect_row(fx, 2, "< m0001");
	/* Scrolled away from it, the selection restarts at the screen. */
	thread_scroll(fx->t, 20);
	thread_select(fx->t, 1);
	assert_int_equal(thread_selected(fx->t), 11);
}

static void
thread_open__holds_a_bounded_window_of_a_long_thread(void **state)
{
	struct fx *fx = *state;
	struct timespec a, b;
	double ms;
	char want[16], *r;

	many(fx, 10000);
	clock_gettime(CLOCK_MONOTONIC, &a);
	thread_open(fx->t, 1);
	free(draw(fx, 40, 10, 1));
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
	print_message("opening 10,000 messages and drawing: %.2f ms, %zu "
	    "rows held\n", ms, thread_rows_held(fx->t));
	assert_true(thread_rows_held(fx->t) <= 3 * 64);
	/* Page by page to the start: every page follows on, memory flat. */
	for (int k = 0; k < 1999; k++) {
		thread_page(fx->t, -2);
		snprintf(want, sizeof want, "< m%04d", 9996 - 5 * (k + 1));
		r = row(fx, 40, 10, 1);
		assert_string_equal(r, want);
		free(r);
		assert_true(thread_rows_held(fx->t) <= 3 * 64);
	}
	/* ...and back down. */
	for (int k = 1998; k >= 0; k--) {
		thread_page(fx->t, 2);
		snprintf(want, sizeof want, "< m%04d", 9996 - 5 * k);
		r = row(fx, 40, 10, 1);
		assert_string_equal(r, want);
		free(r);
		assert_true(thread_rows_held(fx->t) <= 3 * 64);
	}
	assert_true(thread_at_bottom(fx->t));
	thread_top(fx->t);
	expect_row(fx, 2, "< m0001");
	assert_true(thread_rows_held(fx->t) <= 3 * 64);
	assert_int_equal(thread_jump(fx->t, 5000), 0);
	assert_int_equal(thread_selected(fx->t), 5000);
	free(draw(fx, 40, 10, 1));
	assert_true(row_of(fx, "< m5000") >= 0);
	assert_true(thread_rows_held(fx->t) <= 3 * 64);
	thread_select(fx->t, -200);
	assert_int_equal(thread_selected(fx->t), 4800);
	assert_true(thread_rows_held(fx->t) <= 3 * 64);
	assert_int_equal(thread_jump(fx->t, 10001), -1);
	assert_int_equal(thread_selected(fx->t), 4800);
	thread_bottom(fx->t);
	expect_row(fx, 9, "< m10000");
}

/* Every message a reply to one the cache never had: each looks back. */
static void
thread_open__looks_quotes_up_only_near_the_screen(void **state)
{
	struct fx *fx = *state;
	struct timespec a, b;
	double ms;

	many_with(fx, 10000, ",\"wa\":{\"type\":\"text\",\"context\":{"
	    "\"id\":\"wamid.elsewhere\"}}");
	clock_gettime(CLOCK_MONOTONIC, &a);
	thread_open(fx->t, 1);
	free(draw(fx, 40, 10, 1));
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
	print_message("opening 10,000 replies to unknown messages: %.2f ms\n",
	    ms);
	expect_row(fx, 8, "< | (a message not in the cache)");
	clock_gettime(CLOCK_MONOTONIC, &a);
	thread_page(fx->t, -2);
	free(draw(fx, 40, 10, 1));
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
	print_message("a page up: %.2f ms\n", ms);
	clock_gettime(CLOCK_MONOTONIC, &a);
	thread_top(fx->t);
	free(draw(fx, 40, 10, 1));
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
	print_message("to the top: %.2f ms\n", ms);
}

static void
thread_reload__keeps_the_view_and_follows_the_bottom(void **state)
{
	struct fx *fx = *state;
	char *before, *after;
	int64_t id;
	char *cause = NULL;

	many(fx, 100);
	text(fx, 101, T0 + 200, "out", "sent", "on its way");
	thread_open(fx->t, 1);
	thread_page(fx->t, -4);
	before = draw(fx, 40, 10, 0);
	text(fx, 102, T0 + 300, "in", "received", "new below");
	thread_reload(fx->t);
	after = draw(fx, 40, 10, 0);
	assert_string_equal(after, before);
	free(before);
	free(after);
	assert_false(thread_at_bottom(fx->t));
	thread_bottom(fx->t);
	/* Ticks move, replies arrive, unsent ones go: all seen at once. */
	text(fx, 101, T0 + 200, "out", "read", "on its way");
	text(fx, 103, T0 + 400, "in", "received", "and more");
	assert_int_equal(cache_outbox_add(fx->c, 1, "message", "POST", "/",
	    "{\"type\":\"text\",\"text\":\"queued one\"}", &id, &cause), 0);
	thread_reload(fx->t);
	check_draw_masked(fx, 40, 10,
	    "< 09:01 Jürgen Weiß\n"
	    "< m0100\n"
	    "> 09:03 you · read\n"
	    "> on its way\n"
	    "< 09:05 Jürgen Weiß\n"
	    "< new below\n"
	    "< 09:06 Jürgen Weiß\n"
	    "< and more\n"
	    "> HH:MM you · queued, not sent\n"
	    "> queued one\n");
	assert_int_equal(cache_outbox_accepted(fx->c, id, 104), 0);
	text(fx, 104, T0 + 500, "out", "sent", "queued one");
	thread_reload(fx->t);
	check_draw(fx, 40, 10,
	    "< 09:01 Jürgen Weiß\n"
	    "< m0100\n"
	    "> 09:03 you · read\n"
	    "> on its way\n"
	    "< 09:05 Jürgen Weiß\n"
	    "< new below\n"
	    "< 09:06 Jürgen Weiß\n"
	    "< and more\n"
	    "> 09:08 you · sent\n"
	    "> queued one\n");
}

static void
thread_selected_media__gives_the_file_of_the_selected_message(void **state)
{
	struct fx *fx = *state;
	struct thread_media m;

	msg(fx, 1, T0, "in", "document", "received", ",\"media\":{\"id\":"
	    "\"1873462990153264\",\"mime_type\":\"application/pdf\","
	    "\"filename\":\"Factura\\u001b[2J.pdf\",\"file_size\":48100}");
	text(fx, 2, T0 + 1, "in", "received", "no file here");
	thread_open(fx->t, 1);
	assert_int_equal(thread_selected_media(fx->t, &m), -1);
	thread_select(fx->t, -1);
	assert_int_equal(thread_selected_media(fx->t, &m), 0);
	assert_string_equal(m.id, "1873462990153264");
	assert_string_equal(m.mime, "application/pdf");
	assert_string_equal(m.filename, "Factura\xe2\x90\x9b[2J.pdf");
	assert_int_equal(m.size, 48100);
	assert_string_equal(m.kind, "document");
	/* An id that is not one the relay serves opens nothing. */
	msg(fx, 3, T0 + 2, "in", "image", "received", ",\"media\":{\"id\":"
	    "\"../../admin?x=1\",\"mime_type\":\"image/png\"}");
	thread_open(fx->t, 1);
	assert_int_equal(thread_selected(fx->t), 3);
	assert_int_equal(thread_selected_media(fx->t, &m), -1);
}

static void
thread_draw__stays_inside_its_rectangle(void **state)
{
	struct fx *fx = *state;
	struct buf b;
	const char *want;

	many(fx, 3);
	thread_open(fx->t, 1);
	fx->cv = canvas_new(30, 6);
	canvas_fill(fx->cv, 0, 0, 30, 6, "x", 0);
	thread_draw(fx->t, fx->cv, 5, 1, 20, 4, 1);
	buf_init(&b);
	canvas_dump(fx->cv, &b);
	want = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
	    "xxxxx< 09:00 Jürgen Weiß xxxxx\n"
	    "xxxxx< m0002             xxxxx\n"
	    "xxxxx< 09:00 Jürgen Weiß xxxxx\n"
	    "xxxxx< m0003             xxxxx\n"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n";
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void
thread_draw__says_when_there_is_nothing_to_show(void **state)
{
	struct fx *fx = *state;

	check_draw(fx, 40, 2,
	    "  no conversation open\n"
	    "\n");
	put(fx, "conversation", 2, "{\"contact_id\":1,\"status\":\"open\"}");
	thread_open(fx->t, 2);
	check_draw(fx, 40, 2,
	    "  no messages yet\n"
	    "\n");
	thread_scroll(fx->t, -5);
	thread_select(fx->t, 1);
	assert_int_equal(thread_selected(fx->t), 0);
	assert_int_equal(thread_jump_quoted(fx->t), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(thread_draw__shows_days_times_names_and_directions),
		T(thread_draw__wraps_by_grapheme_cluster_at_every_width),
		T(thread_draw__shows_the_delivery_state_of_each_outbound_message),
		T(thread_draw__shows_every_message_type),
		T(thread_draw__shows_a_reply_with_the_quoted_message),
		T(thread_draw__shows_reactions_on_their_message_not_as_lines),
		T(thread_draw__shows_edits_and_deletions),
		T(thread_draw__shows_notes_between_messages_by_time),
		T(thread_draw__shows_unsent_replies_at_the_bottom),
		T(thread_draw__shows_a_whole_conversation_at_60_columns),
		T(thread_draw__never_puts_controls_on_the_canvas_nor_splits_clusters),
		T(thread_draw__shows_escapes_as_visible_pictures),
		T(thread_scroll__moves_by_lines_and_stops_at_both_ends),
		T(thread_page__moves_by_half_screens),
		T(thread_select__moves_between_messages_and_scrolls_them_into_view),
		T(thread_open__holds_a_bounded_window_of_a_long_thread),
		T(thread_open__looks_quotes_up_only_near_the_screen),
		T(thread_reload__keeps_the_view_and_follows_the_bottom),
		T(thread_selected_media__gives_the_file_of_the_selected_message),
		T(thread_draw__stays_inside_its_rectangle),
		T(thread_draw__says_when_there_is_nothing_to_show),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
