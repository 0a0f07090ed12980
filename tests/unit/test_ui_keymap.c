/*
 * Keys as data: key names, the keymap language and its errors, the three
 * shipped maps, lookups per context, and help generated from the live
 * map. Also keeps docs/keymaps.md in step with the command table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "ui/commands.h"
#include "ui/key.h"
#include "ui/keymap.h"

#define KEYMAPS GLIVI_SOURCE_DIR "/keymaps/"

static key_code
key(const char *name)
{
	char *cause = NULL;
	key_code k = 0;

	if (key_parse(name, &k, &cause) != 0)
		fail_msg("key_parse(%s): %s", name, cause);
	return k;
}

static int
lookup(const struct keymap *km, enum keymap_context c, const char *k)
{
	return keymap_lookup(km, c, key(k));
}

static struct keymap *
load_shipped(const char *extra)
{
	struct keymap *km = keymap_new();
	char *cause = NULL, *path;

	if (keymap_load_file(km, KEYMAPS "default.keys", &cause) != 0)
		fail_msg("%s", cause);
	if (extra != NULL) {
		path = xasprintf(KEYMAPS "%s", extra);
		if (keymap_load_file(km, path, &cause) != 0)
			fail_msg("%s", cause);
		free(path);
	}
	return km;
}

static struct keymap *
load_text(const char *text)
{
	struct keymap *km = keymap_new();
	char *cause = NULL;

	if (keymap_load_string(km, "test.keys", text, strlen(text), &cause))
		fail_msg("%s", cause);
	return km;
}

/* --- key names --- */

static void
check_name(const char *in, const char *canonical)
{
	char out[KEY_NAME_MAX];

	key_name(key(in), out);
	assert_string_equal(out, canonical);
	assert_int_equal(key(out), key(in));
}

static void
key_parse__reads_modifiers_named_keys_and_characters(void **state)
{
	(void)state;
	check_name("C-l", "C-l");
	check_name("M-Enter", "M-Enter");
	check_name("PageUp", "PageUp");
	check_name("F1", "F1");
	check_name("F12", "F12");
	check_name("?", "?");
	check_name("/", "/");
	check_name("Space", "Space");
	check_name("G", "G");
	check_name("\xc3\xa9", "\xc3\xa9"); /* é */
	check_name("M--", "M--");
	check_name("-", "-");
	check_name("C-M-S-Up", "C-M-S-Up");
	check_name("M-C-x", "C-M-x");
	assert_int_equal(key("C-l"), KEYC_CTRL | 'l');
	assert_int_equal(key("M-Enter"), KEYC_META | KEYC_ENTER);
	assert_int_equal(key("Space"), ' ');
}

static void
key_parse__folds_spellings_of_one_key(void **state)
{
	(void)state;
	check_name("C-L", "C-l");
	check_name("C-i", "Tab");
	check_name("C-m", "Enter");
	check_name("M-C-m", "M-Enter");
	check_name("C-[", "Escape");
	check_name("C-@", "C-Space");
	check_name("S-Tab", "BTab");
	check_name("pgup", "PageUp");
	check_name("PgDn", "PageDown");
	check_name("Esc", "Escape");
	check_name("Backspace", "BSpace");
	check_name("Del", "Delete");
	check_name("f5", "F5");
	check_name("Return", "Enter");
}

static void
check_bad_key(const char *name, const char *why)
{
	char *cause = NULL;
	key_code k;

	assert_int_equal(key_parse(name, &k, &cause), -1);
	assert_string_equal(cause, why);
	free(cause);
}

static void
key_parse__says_why_a_name_is_wrong(void **state)
{
	(void)state;
	check_bad_key("PageUpp", "unknown key name 'PageUpp'");
	check_bad_key("", "unknown key name ''");
	check_bad_key("C-", "unknown key name 'C-'");
	check_bad_key("ab", "unknown key name 'ab'");
	check_bad_key("S-a", "'S-a': Shift goes only with a named key; write "
			     "a shifted character as itself ('G', not 'S-g')");
	check_bad_key("C-1", "'C-1': Ctrl goes only with a letter, Space, a "
			     "named key or one of @ [ \\ ] ^ _");
	check_bad_key("C-\xc5\x9c", "'C-\xc5\x9c': Ctrl goes only with a "
				   "letter, Space, a named key or one of @ "
				   "[ \\ ] ^ _");
	check_bad_key("C-C-a", "'C-C-a': a modifier given twice");
	check_bad_key("\x1b", "a key cannot be a control character");
	check_bad_key("\xff", "unknown key name '\xff'");
}

static void
key_is_text__is_true_only_for_plain_characters(void **state)
{
	(void)state;
	assert_true(key_is_text(key("q")));
	assert_true(key_is_text(key("Space")));
	assert_true(key_is_text(key("?")));
	assert_false(key_is_text(key("M-q")));
	assert_false(key_is_text(key("C-q")));
	assert_false(key_is_text(key("Enter")));
	assert_false(key_is_text(key("F1")));
}

/* --- the command table --- */

static void
commands__have_unique_well_formed_names_and_one_line_help(void **state)
{
	const struct command *c, *d;
	const char *p;
	int id, other;

	(void)state;
	assert_null(commands_get(-1));
	assert_null(commands_get(CMD_COUNT));
	for (id = 0; id < CMD_COUNT; id++) {
		c = commands_get(id);
		assert_non_null(c->name);
		assert_non_null(c->help);
		assert_non_null(strchr(c->name, '.'));
		for (p = c->name; *p != '\0'; p++)
			assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz.-",
			    *p));
		assert_true(strlen(c->help) > 0 && strlen(c->help) <= 63);
		assert_null(strchr(c->help, '\n'));
		assert_true(c->help[strlen(c->help) - 1] != '.');
		assert_int_equal(commands_find(c->name), id);
		for (other = 0; other < id; other++) {
			d = commands_get(other);
			assert_string_not_equal(c->name, d->name);
		}
	}
	assert_int_equal(commands_find("no.such"), -1);
}

static void
commands_next_match__completes_a_prefix_in_table_order(void **state)
{
	int id;

	(void)state;
	id = commands_next_match("list.filter", -1);
	assert_int_equal(id, CMD_LIST_FILTER);
	id = commands_next_match("list.filter", id);
	assert_int_equal(id, CMD_LIST_FILTER_MINE);
	id = commands_next_match("list.filter", id);
	assert_int_equal(id, CMD_LIST_FILTER_UNASSIGNED);
	id = commands_next_match("list.filter", id);
	assert_int_equal(id, CMD_LIST_FILTER_ALL);
	assert_int_equal(commands_next_match("list.filter", id), -1);
	assert_int_equal(commands_next_match("zzz", -1), -1);
	assert_int_equal(commands_next_match("", -1), 0);
}

/* --- the shipped maps --- */

static void
keymap_load__reads_the_three_shipped_maps(void **state)
{
	static const char *const files[] = { "default.keys", "vi.keys",
		"emacs.keys" };
	struct keymap *km;
	char *cause = NULL, *path;
	size_t i;

	(void)state;
	/* Each alone (the overlays have only binds), then as shipped. */
	for (i = 0; i < 3; i++) {
		km = keymap_new();
		path = xasprintf(KEYMAPS "%s", files[i]);
		if (keymap_load_file(km, path, &cause) != 0)
			fail_msg("%s", cause);
		free(path);
		keymap_free(km);
	}
	keymap_free(load_shipped("vi.keys"));
	keymap_free(load_shipped("emacs.keys"));
}

static void
keymap_default__binds_what_the_design_promises(void **state)
{
	struct keymap *km = load_shipped(NULL);
	enum keymap_context c;

	(void)state;
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "Enter"), CMD_COMPOSE_SEND);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "M-Enter"),
	    CMD_COMPOSE_NEWLINE);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "M-e"),
	    CMD_COMPOSE_EDITOR);
	for (c = KEYMAP_GLOBAL; c < KEYMAP_NCONTEXTS; c++) {
		assert_int_equal(lookup(km, c, "C-l"), CMD_APP_REDRAW);
		assert_int_equal(lookup(km, c, "M-a"), CMD_LIST_NEXT_UNREAD);
		assert_int_equal(lookup(km, c, "F1"), CMD_APP_HELP);
	}
	assert_int_equal(lookup(km, KEYMAP_LIST, "PageUp"),
	    CMD_THREAD_PAGE_UP);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "PageDown"),
	    CMD_THREAD_PAGE_DOWN);
	assert_int_equal(lookup(km, KEYMAP_LIST, "?"), CMD_APP_HELP);
	assert_int_equal(lookup(km, KEYMAP_THREAD, ":"), CMD_APP_PROMPT);
	assert_int_equal(lookup(km, KEYMAP_LIST, "q"), CMD_APP_QUIT);
	assert_int_equal(lookup(km, KEYMAP_THREAD, "C-c"), CMD_APP_QUIT);
	assert_int_equal(lookup(km, KEYMAP_LIST, "/"), CMD_SEARCH_START);
	assert_int_equal(lookup(km, KEYMAP_THREAD, "n"), CMD_SEARCH_NEXT);
	/* Never quit from where an agent is typing. */
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "C-c"), -1);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "q"), -1);
	keymap_free(km);
}

static void
keymap_lookup__leaves_typed_text_to_the_text_contexts(void **state)
{
	struct keymap *km = load_text("bind global ? app.help\n"
				      "bind global M-? app.help\n"
				      "bind global Space app.sidebar\n"
				      "bind prompt ? prompt.complete\n");

	(void)state;
	assert_int_equal(lookup(km, KEYMAP_LIST, "?"), CMD_APP_HELP);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "?"), -1);
	assert_int_equal(lookup(km, KEYMAP_SEARCH, "Space"), -1);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "M-?"), CMD_APP_HELP);
	assert_int_equal(lookup(km, KEYMAP_PROMPT, "?"), CMD_PROMPT_COMPLETE);
	assert_int_equal(lookup(km, KEYMAP_THREAD, "x"), -1);
	assert_int_equal(keymap_lookup_exact(km, KEYMAP_LIST, key("?")), -1);
	keymap_free(km);
}

static void
keymap_vi__moves_with_single_keys_and_keeps_the_defaults(void **state)
{
	struct keymap *km = load_shipped("vi.keys");

	(void)state;
	assert_int_equal(lookup(km, KEYMAP_LIST, "j"), CMD_LIST_NEXT);
	assert_int_equal(lookup(km, KEYMAP_LIST, "G"), CMD_LIST_LAST);
	assert_int_equal(lookup(km, KEYMAP_LIST, "i"), CMD_APP_FOCUS_COMPOSE);
	assert_int_equal(lookup(km, KEYMAP_THREAD, "C-d"),
	    CMD_THREAD_HALF_PAGE_DOWN);
	assert_int_equal(lookup(km, KEYMAP_THREAD, "J"), CMD_LIST_NEXT);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "Escape"),
	    CMD_COMPOSE_LEAVE);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "j"), -1);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "Enter"),
	    CMD_COMPOSE_SEND);
	keymap_free(km);
}

static void
keymap_emacs__binds_the_emacs_motions(void **state)
{
	struct keymap *km = load_shipped("emacs.keys");

	(void)state;
	assert_int_equal(lookup(km, KEYMAP_THREAD, "M-<"), CMD_THREAD_TOP);
	assert_int_equal(lookup(km, KEYMAP_LIST, "M-<"), CMD_LIST_FIRST);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "C-n"), CMD_EDIT_DOWN);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "M-n"), CMD_LIST_NEXT);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "M-N"), CMD_COMPOSE_NOTE);
	assert_int_equal(lookup(km, KEYMAP_SEARCH, "C-s"), CMD_SEARCH_NEXT);
	assert_int_equal(lookup(km, KEYMAP_LIST, "C-s"), CMD_SEARCH_START);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "C-g"), CMD_COMPOSE_LEAVE);
	keymap_free(km);
}

/* --- the language --- */

static void
keymap_load__lets_a_user_file_override_and_unbind(void **state)
{
	static const char user[] = "# mine\n"
				   "bind list j list.last\n"
				   "unbind global C-l\n"
				   "unbind list no-such-binding-is-fine\n";
	struct keymap *km = load_shipped(NULL);
	char *cause = NULL;

	(void)state;
	/* "no-such-binding-is-fine" is not a key: that line is an error. */
	assert_int_equal(keymap_load_string(km, "user.keys", user,
	    strlen(user), &cause), -1);
	assert_string_equal(cause, "user.keys:4: unknown key name "
				   "'no-such-binding-is-fine'");
	free(cause);
	assert_int_equal(lookup(km, KEYMAP_LIST, "j"), CMD_LIST_NEXT);

	assert_int_equal(keymap_load_string(km, "user.keys", user,
	    strlen(user) - strlen("unbind list no-such-binding-is-fine\n"),
	    &cause), 0);
	assert_int_equal(lookup(km, KEYMAP_LIST, "j"), CMD_LIST_LAST);
	assert_int_equal(lookup(km, KEYMAP_LIST, "C-l"), -1);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "C-l"), -1);
	/* Unbinding what is not bound is not an error. */
	keymap_free(km);
	km = load_text("unbind list,thread F7\n");
	keymap_free(km);
}

static void
keymap_load__lets_the_last_bind_in_a_file_win(void **state)
{
	struct keymap *km = load_text("bind list x list.next\n"
				      "bind list y list.next\n"
				      "bind list x list.prev\n");
	struct buf b;

	(void)state;
	assert_int_equal(lookup(km, KEYMAP_LIST, "x"), CMD_LIST_PREV);
	buf_init(&b);
	keymap_keys(km, KEYMAP_LIST, CMD_LIST_NEXT, &b);
	assert_string_equal(b.data, "y");
	buf_free(&b);
	keymap_free(km);
}

static void
keymap_load__reads_comments_crlf_bom_and_context_lists(void **state)
{
	struct keymap *km = load_text("\xef\xbb\xbf# comment\r\n"
				      "\r\n"
				      "   # indented comment\n"
				      "bind list,thread # app.help # comment\n"
				      "\tbind\tcompose\tM-Enter  "
				      "compose.newline\t#\ttabs\n"
				      "unbind thread #");

	(void)state;
	assert_int_equal(lookup(km, KEYMAP_LIST, "#"), CMD_APP_HELP);
	assert_int_equal(lookup(km, KEYMAP_THREAD, "#"), -1);
	assert_int_equal(lookup(km, KEYMAP_COMPOSE, "M-Enter"),
	    CMD_COMPOSE_NEWLINE);
	keymap_free(km);
}

static void
check_error(const char *text, const char *want)
{
	struct keymap *km = keymap_new();
	char *cause = NULL;

	assert_int_equal(keymap_load_string(km, "user.keys", text,
	    strlen(text), &cause), -1);
	assert_string_equal(cause, want);
	free(cause);
	keymap_free(km);
}

static void
keymap_load__names_the_file_and_line_of_every_error(void **state)
{
	(void)state;
	check_error("bind lst j list.next\n",
	    "user.keys:1: unknown context 'lst' (global, list, thread, "
	    "compose, search, prompt)");
	check_error("# ok\n\nbind list Foo list.next\n",
	    "user.keys:3: unknown key name 'Foo'");
	check_error("bind list j list.nxt",
	    "user.keys:1: unknown action 'list.nxt'");
	check_error("bind list j list.next\nbnd list j list.next\n",
	    "user.keys:2: unknown directive 'bnd' (bind or unbind)");
	check_error("bind list j\n",
	    "user.keys:1: bind needs a context, a key and an action");
	check_error("unbind list\n",
	    "user.keys:1: unbind needs a context and a key");
	check_error("bind list j list.next extra\n",
	    "user.keys:1: bind takes three words; a comment starts with '#'");
	check_error("unbind list j k l m n o p q r\n",
	    "user.keys:1: unbind takes two words; a comment starts with '#'");
	check_error("bind , j list.next\n",
	    "user.keys:1: no context before the key");
	check_error("bind list,,bogus j list.next\n",
	    "user.keys:1: unknown context 'bogus' (global, list, thread, "
	    "compose, search, prompt)");
	check_error("bind list S-a list.next\n",
	    "user.keys:1: 'S-a': Shift goes only with a named key; write a "
	    "shifted character as itself ('G', not 'S-g')");
	check_error("\n\nbind list C-1 list.next\n",
	    "user.keys:3: 'C-1': Ctrl goes only with a letter, Space, a "
	    "named key or one of @ [ \\ ] ^ _");
	check_error("bind list \xff list.next\n",
	    "user.keys:1: not UTF-8 text (a control character or invalid "
	    "bytes)");
	check_error("bind list j list.next\x1b[31m\n",
	    "user.keys:1: not UTF-8 text (a control character or invalid "
	    "bytes)");
	check_error("bind list j\rlist.next\n",
	    "user.keys:1: not UTF-8 text (a control character or invalid "
	    "bytes)");
}

static void
keymap_load__applies_nothing_from_a_file_with_an_error(void **state)
{
	struct keymap *km = load_text("bind list j list.next\n");
	static const char bad[] = "bind list j list.prev\n"
				  "bind list k list.prev\n"
				  "bind list k oops\n";
	char *cause = NULL;

	(void)state;
	assert_int_equal(keymap_load_string(km, "user.keys", bad, strlen(bad),
	    &cause), -1);
	free(cause);
	assert_int_equal(lookup(km, KEYMAP_LIST, "j"), CMD_LIST_NEXT);
	assert_int_equal(lookup(km, KEYMAP_LIST, "k"), -1);
	keymap_free(km);
}

static void
keymap_load_file__says_when_the_file_cannot_be_read(void **state)
{
	struct keymap *km = keymap_new();
	char *cause = NULL;

	(void)state;
	assert_int_equal(keymap_load_file(km, "/nonexistent/x.keys", &cause),
	    -1);
	assert_string_equal(cause,
	    "/nonexistent/x.keys: No such file or directory");
	free(cause);
	keymap_free(km);
}

/* --- help --- */

static void
keymap_help__lists_context_then_global_keys_in_table_order(void **state)
{
	struct keymap *km = load_text("bind list j list.next\n"
				      "bind list Down list.next\n"
				      "bind list G list.last\n"
				      "bind global C-l app.redraw\n"
				      "bind global q app.quit\n"
				      "bind global G app.help\n");
	struct buf b;

	(void)state;
	buf_init(&b);
	keymap_help(km, KEYMAP_LIST, &b);
	assert_string_equal(b.data,
	    "list\n"
	    "  j, Down  list.next  Select the next conversation\n"
	    "  G        list.last  Select the last conversation\n"
	    "\n"
	    "global\n"
	    "  q    app.quit    Quit (asks first while replies wait in the "
	    "outbox)\n"
	    "  C-l  app.redraw  Redraw the whole screen\n");
	/* In compose, "q" types a q: help does not offer it. */
	buf_reset(&b);
	keymap_help(km, KEYMAP_COMPOSE, &b);
	assert_string_equal(b.data,
	    "global\n"
	    "  C-l  app.redraw  Redraw the whole screen\n");
	buf_reset(&b);
	keymap_help(km, KEYMAP_GLOBAL, &b);
	assert_string_equal(b.data,
	    "global\n"
	    "  q    app.quit    Quit (asks first while replies wait in the "
	    "outbox)\n"
	    "  G    app.help    Show the keys of the focused pane\n"
	    "  C-l  app.redraw  Redraw the whole screen\n");
	buf_free(&b);
	keymap_free(km);
}

/* Every action bound in (or reaching) a context is in that context's help. */
static void
check_help_complete(const struct keymap *km)
{
	enum keymap_context c;
	struct buf help, keys, want;
	const struct command *c_;
	int id;

	buf_init(&help);
	buf_init(&keys);
	buf_init(&want);
	for (c = KEYMAP_GLOBAL; c < KEYMAP_NCONTEXTS; c++) {
		buf_reset(&help);
		keymap_help(km, c, &help);
		for (id = 0; id < CMD_COUNT; id++) {
			buf_reset(&keys);
			keymap_keys(km, c, id, &keys);
			if (keys.len == 0)
				continue;
			buf_reset(&want);
			buf_printf(&want, "  %s ", keys.data);
			assert_non_null(strstr(help.data, want.data));
			c_ = commands_get(id);
			assert_non_null(strstr(help.data, c_->name));
			assert_non_null(strstr(help.data, c_->help));
		}
	}
	buf_free(&help);
	buf_free(&keys);
	buf_free(&want);
}

static void
keymap_help__lists_every_bound_action_of_the_shipped_maps(void **state)
{
	struct keymap *km;

	(void)state;
	km = load_shipped(NULL);
	check_help_complete(km);
	keymap_free(km);
	km = load_shipped("vi.keys");
	check_help_complete(km);
	keymap_free(km);
	km = load_shipped("emacs.keys");
	check_help_complete(km);
	keymap_free(km);
}

/* --- the docs --- */

/*
 * The text between "<!-- NAME:begin -->" and "<!-- NAME:end -->" in
 * docs/keymaps.md must be want; when it is not, the test prints what to
 * paste, so fixing the doc is one step.
 */
static void
check_doc_block(const char *name, const char *want)
{
	char *doc, *begin, *end, *a, *b;
	FILE *f;
	size_t n;

	f = fopen(GLIVI_SOURCE_DIR "/docs/keymaps.md", "r");
	assert_non_null(f);
	doc = xcalloc(1, 1 << 20);
	n = fread(doc, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(n > 0);
	begin = xasprintf("<!-- %s:begin -->\n", name);
	end = xasprintf("<!-- %s:end -->", name);
	a = strstr(doc, begin);
	assert_non_null(a);
	a += strlen(begin);
	b = strstr(a, end);
	assert_non_null(b);
	*b = '\0';
	if (strcmp(a, want) != 0) {
		fprintf(stderr, "docs/keymaps.md is out of date; between the "
				"%s markers it should read:\n%s",
		    name, want);
		fail();
	}
	free(begin);
	free(end);
	free(doc);
}

static void
docs_keymaps__lists_exactly_the_command_table(void **state)
{
	struct buf want;

	(void)state;
	buf_init(&want);
	commands_markdown(&want);
	check_doc_block("commands", want.data);
	buf_free(&want);
}

static void
docs_keymaps__shows_the_default_keys_as_shipped(void **state)
{
	struct keymap *km = load_shipped(NULL);
	enum keymap_context c;
	struct buf want;

	(void)state;
	buf_init(&want);
	buf_adds(&want, "```\n");
	for (c = KEYMAP_GLOBAL; c < KEYMAP_NCONTEXTS; c++) {
		if (c != KEYMAP_GLOBAL)
			buf_adds(&want, "\n");
		keymap_help_own(km, c, &want);
	}
	buf_adds(&want, "```\n");
	check_doc_block("default-keys", want.data);
	buf_free(&want);
	keymap_free(km);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    key_parse__reads_modifiers_named_keys_and_characters),
		cmocka_unit_test(key_parse__folds_spellings_of_one_key),
		cmocka_unit_test(key_parse__says_why_a_name_is_wrong),
		cmocka_unit_test(
		    key_is_text__is_true_only_for_plain_characters),
		cmocka_unit_test(
		    commands__have_unique_well_formed_names_and_one_line_help),
		cmocka_unit_test(
		    commands_next_match__completes_a_prefix_in_table_order),
		cmocka_unit_test(keymap_load__reads_the_three_shipped_maps),
		cmocka_unit_test(
		    keymap_default__binds_what_the_design_promises),
		cmocka_unit_test(
		    keymap_lookup__leaves_typed_text_to_the_text_contexts),
		cmocka_unit_test(
		    keymap_vi__moves_with_single_keys_and_keeps_the_defaults),
		cmocka_unit_test(keymap_emacs__binds_the_emacs_motions),
		cmocka_unit_test(
		    keymap_load__lets_a_user_file_override_and_unbind),
		cmocka_unit_test(keymap_load__lets_the_last_bind_in_a_file_win),
		cmocka_unit_test(
		    keymap_load__reads_comments_crlf_bom_and_context_lists),
		cmocka_unit_test(
		    keymap_load__names_the_file_and_line_of_every_error),
		cmocka_unit_test(
		    keymap_load__applies_nothing_from_a_file_with_an_error),
		cmocka_unit_test(
		    keymap_load_file__says_when_the_file_cannot_be_read),
		cmocka_unit_test(
		    keymap_help__lists_context_then_global_keys_in_table_order),
		cmocka_unit_test(
		    keymap_help__lists_every_bound_action_of_the_shipped_maps),
		cmocka_unit_test(docs_keymaps__lists_exactly_the_command_table),
		cmocka_unit_test(
		    docs_keymaps__shows_the_default_keys_as_shipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
