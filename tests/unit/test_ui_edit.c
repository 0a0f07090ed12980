/*
 * The compose editor: movement and deletion by grapheme cluster over the
 * hard cases (ZWJ families, flags, combining marks, CJK), readline words
 * and kills, cleaning of what is typed and pasted, the size limit, and
 * drawing with wrapping, scrolling and the cursor at several widths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "ui/canvas.h"
#include "ui/commands.h"
#include "ui/edit.h"

#define LEN(s) (sizeof(s) - 1)
#define ZWJ "\xe2\x80\x8d"
#define ACUTE "\xcc\x81"
#define FAMILY                                                         \
	"\xf0\x9f\x91\xa8" ZWJ "\xf0\x9f\x91\xa9" ZWJ "\xf0\x9f\x91\xa7" \
	ZWJ "\xf0\x9f\x91\xa6" /* 25 bytes */
#define FLAG_NZ "\xf0\x9f\x87\xb3\xf0\x9f\x87\xbf"
#define FLAG_AU "\xf0\x9f\x87\xa6\xf0\x9f\x87\xba"
#define RI_N "\xf0\x9f\x87\xb3"
#define RI_Z "\xf0\x9f\x87\xbf"
#define THUMBS_MEDIUM "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"
#define ZHONG "\xe4\xb8\xad" /* 中 */
#define WEN "\xe6\x96\x87"   /* 文 */
#define ZI "\xe5\xad\x97"    /* 字 */
#define FFFD "\xef\xbf\xbd"

static struct edit *
make(const char *s, int flags)
{
	struct edit *e = edit_new(flags);

	assert_int_equal(edit_set(e, s, strlen(s)), 0);
	return e;
}

static void
expect_text(struct edit *e, const char *want)
{
	size_t len;
	const char *t = edit_text(e, &len);

	assert_string_equal(t, want);
	assert_int_equal(len, strlen(want));
}

/* Runs cmd n times, each expected to give r. */
static void
run(struct edit *e, int cmd, int n, int r)
{
	while (n-- > 0)
		assert_int_equal(edit_command(e, cmd), r);
}

static void
edit_insert__puts_text_at_the_cursor(void **state)
{
	struct edit *e = edit_new(0);

	(void)state;
	expect_text(e, "");
	assert_int_equal(edit_insert(e, "h\xc3\xa9llo", 6), 0);
	assert_int_equal(edit_cursor(e), 6);
	run(e, CMD_EDIT_HOME, 1, EDIT_MOVED);
	assert_int_equal(edit_insert(e, ">", 1), 0);
	expect_text(e, ">h\xc3\xa9llo");
	assert_int_equal(edit_cursor(e), 1);
	assert_int_equal(edit_insert_key(e, ' '), 0);
	assert_int_equal(edit_insert_key(e, 0x1f600), 0);
	expect_text(e, "> \xf0\x9f\x98\x80h\xc3\xa9llo");
	assert_int_equal(edit_insert_key(e, KEYC_ENTER), -1);
	assert_int_equal(edit_insert_key(e, KEYC_CTRL | 'a'), -1);
	assert_int_equal(edit_command(e, CMD_APP_QUIT), -1);
	assert_int_equal(edit_command(e, -5), -1);
	edit_clear(e);
	expect_text(e, "");
	assert_int_equal(edit_cursor(e), 0);
	edit_free(e);
}

static void
edit_insert__drops_controls_and_keeps_newlines_only_when_multi_line(
    void **state)
{
	struct edit *e = edit_new(0), *s = edit_new(EDIT_SINGLE_LINE);
	const char in[] = "a\x1b[31mb\tc\r\nd\x07\x7f\xff\xe2\x80\xae!\ne";

	(void)state;
	assert_int_equal(edit_insert(e, in, LEN(in)), 0);
	expect_text(e, "a[31mb c\nd" FFFD FFFD "!\ne");
	assert_int_equal(edit_insert(s, in, LEN(in)), 0);
	expect_text(s, "a[31mb c d" FFFD FFFD "! e");
	/* A single-line editor takes no newline command either. */
	assert_int_equal(edit_command(s, CMD_COMPOSE_NEWLINE), 0);
	assert_int_equal(edit_command(e, CMD_COMPOSE_NEWLINE), EDIT_CHANGED);
	expect_text(e, "a[31mb c\nd" FFFD FFFD "!\ne\n");
	/* Nothing left after cleaning is no change, and no error. */
	assert_int_equal(edit_insert(e, "\x01\x02", 2), 0);
	assert_int_equal(edit_lines(e), 4);
	assert_int_equal(edit_lines(s), 1);
	edit_free(e);
	edit_free(s);
}

static void
edit_command__moves_over_whole_clusters(void **state)
{
	static const char text[] = "a" FAMILY "e" ACUTE FLAG_NZ FLAG_AU
	    THUMBS_MEDIUM ZHONG "1\xef\xb8\x8f\xe2\x83\xa3" "b";
	static const size_t stops[] = { 0, 1, 26, 29, 37, 45, 53, 56, 63,
		64 };
	size_t n = sizeof stops / sizeof stops[0], i;
	struct edit *e = make(text, 0);

	(void)state;
	assert_int_equal(edit_cursor(e), LEN(text));
	run(e, CMD_EDIT_HOME, 1, EDIT_MOVED);
	for (i = 1; i < n; i++) {
		assert_int_equal(edit_command(e, CMD_EDIT_RIGHT), EDIT_MOVED);
		assert_int_equal(edit_cursor(e), stops[i]);
	}
	run(e, CMD_EDIT_RIGHT, 1, 0);
	for (i = n - 1; i > 0; i--) {
		assert_int_equal(edit_command(e, CMD_EDIT_LEFT), EDIT_MOVED);
		assert_int_equal(edit_cursor(e), stops[i - 1]);
	}
	run(e, CMD_EDIT_LEFT, 1, 0);
	edit_free(e);
}

static void
edit_command__deletes_whole_clusters(void **state)
{
	struct edit *e = make("a" FAMILY FLAG_NZ FLAG_AU "e" ACUTE, 0);

	(void)state;
	run(e, CMD_EDIT_BACKSPACE, 1, EDIT_CHANGED);
	expect_text(e, "a" FAMILY FLAG_NZ FLAG_AU);
	run(e, CMD_EDIT_BACKSPACE, 1, EDIT_CHANGED);
	expect_text(e, "a" FAMILY FLAG_NZ);
	run(e, CMD_EDIT_LEFT, 1, EDIT_MOVED);
	run(e, CMD_EDIT_BACKSPACE, 1, EDIT_CHANGED);
	expect_text(e, "a" FLAG_NZ);
	run(e, CMD_EDIT_DELETE, 1, EDIT_CHANGED);
	expect_text(e, "a");
	run(e, CMD_EDIT_DELETE, 1, 0);
	run(e, CMD_EDIT_BACKSPACE, 1, EDIT_CHANGED);
	run(e, CMD_EDIT_BACKSPACE, 1, 0);
	expect_text(e, "");
	edit_free(e);
}

static void
edit_command__keeps_the_cursor_on_a_boundary_when_clusters_join(
    void **state)
{
	struct edit *e = make(ACUTE "x", 0);

	(void)state;
	/* A mark alone at the start; a letter typed before it takes it. */
	run(e, CMD_EDIT_HOME, 1, EDIT_MOVED);
	assert_int_equal(edit_insert(e, "e", 1), 0);
	expect_text(e, "e" ACUTE "x");
	assert_int_equal(edit_cursor(e), 3);
	edit_free(e);

	/* Two halves of a flag brought together: the cursor goes before. */
	e = make(RI_N "x" RI_Z, 0);
	run(e, CMD_EDIT_LEFT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 5);
	run(e, CMD_EDIT_BACKSPACE, 1, EDIT_CHANGED);
	expect_text(e, FLAG_NZ);
	assert_int_equal(edit_cursor(e), 0);
	run(e, CMD_EDIT_RIGHT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 8);
	edit_free(e);

	/* A ZWJ typed after an emoji, then another: one cluster, typed. */
	e = edit_new(0);
	assert_int_equal(edit_insert(e, "\xf0\x9f\x91\xa8", 4), 0);
	assert_int_equal(edit_insert(e, ZWJ, 3), 0);
	assert_int_equal(edit_insert(e, "\xf0\x9f\x91\xa9", 4), 0);
	assert_int_equal(edit_cursor(e), 11);
	run(e, CMD_EDIT_LEFT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 0);
	edit_free(e);
}

static void
edit_command__moves_by_words_like_readline(void **state)
{
	static const char text[] = "hello, w\xc3\xb6rld  " ZHONG WEN " "
	    FAMILY " x\ny";
	struct edit *e = make(text, 0);
	size_t world = 7, cjk = 15, x = 48;

	(void)state;
	run(e, CMD_EDIT_WORD_LEFT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), x + 2);
	run(e, CMD_EDIT_WORD_LEFT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), x);
	/* An emoji is no word: it is passed over with the spaces. */
	run(e, CMD_EDIT_WORD_LEFT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), cjk);
	run(e, CMD_EDIT_WORD_LEFT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), world);
	run(e, CMD_EDIT_WORD_LEFT, 1, EDIT_MOVED);
	run(e, CMD_EDIT_WORD_LEFT, 1, 0);
	assert_int_equal(edit_cursor(e), 0);
	run(e, CMD_EDIT_WORD_RIGHT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 5);
	run(e, CMD_EDIT_WORD_RIGHT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), world + 6);
	run(e, CMD_EDIT_WORD_RIGHT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), cjk + 6);
	run(e, CMD_EDIT_WORD_RIGHT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), x + 1);
	run(e, CMD_EDIT_WORD_RIGHT, 1, EDIT_MOVED);
	run(e, CMD_EDIT_WORD_RIGHT, 1, 0);
	assert_int_equal(edit_cursor(e), LEN(text));
	edit_free(e);

	/* A word found a stretch at a time is still one word. */
	e = make("foo barbazqux" ZHONG "x", 0);
	run(e, CMD_EDIT_WORD_LEFT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 4);
	run(e, CMD_EDIT_END, 1, EDIT_MOVED);
	run(e, CMD_EDIT_DELETE_WORD_BACK, 1, EDIT_CHANGED);
	expect_text(e, "foo ");
	edit_free(e);

	/* Over empty lines both ways. */
	e = make("ab\n\n\ncd", 0);
	run(e, CMD_EDIT_WORD_LEFT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 5);
	run(e, CMD_EDIT_WORD_LEFT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 0);
	run(e, CMD_EDIT_WORD_RIGHT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 2);
	run(e, CMD_EDIT_WORD_RIGHT, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 7);
	edit_free(e);
}

static void
edit_command__goes_home_and_end_of_the_line(void **state)
{
	struct edit *e = make("one\ntwo two\nthree", 0);

	(void)state;
	run(e, CMD_EDIT_HOME, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 12);
	run(e, CMD_EDIT_HOME, 1, 0);
	run(e, CMD_EDIT_LEFT, 2, EDIT_MOVED);
	run(e, CMD_EDIT_HOME, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 4);
	run(e, CMD_EDIT_END, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 11);
	run(e, CMD_EDIT_END, 1, 0);
	edit_free(e);
}

static void
edit_command__kills_and_yanks(void **state)
{
	struct edit *e = make("say hello world", 0);

	(void)state;
	run(e, CMD_EDIT_DELETE_WORD_BACK, 1, EDIT_CHANGED);
	expect_text(e, "say hello ");
	/* A run of kills adds up, in the order of the text. */
	run(e, CMD_EDIT_DELETE_WORD_BACK, 1, EDIT_CHANGED);
	expect_text(e, "say ");
	run(e, CMD_EDIT_YANK, 1, EDIT_CHANGED);
	expect_text(e, "say hello world");
	run(e, CMD_EDIT_YANK, 1, EDIT_CHANGED);
	expect_text(e, "say hello worldhello world");
	/* A move ends the run: the next kill starts afresh. */
	run(e, CMD_EDIT_HOME, 1, EDIT_MOVED);
	run(e, CMD_EDIT_DELETE_WORD, 1, EDIT_CHANGED);
	expect_text(e, " hello worldhello world");
	run(e, CMD_EDIT_DELETE_WORD, 1, EDIT_CHANGED);
	expect_text(e, " worldhello world");
	run(e, CMD_EDIT_END, 1, EDIT_MOVED);
	run(e, CMD_EDIT_YANK, 1, EDIT_CHANGED);
	expect_text(e, " worldhello worldsay hello");
	edit_clear(e);
	run(e, CMD_EDIT_YANK, 1, EDIT_CHANGED);
	expect_text(e, "say hello");
	edit_free(e);

	e = make("one\ntwo\nthree", 0);
	run(e, CMD_EDIT_UP, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 7);
	run(e, CMD_EDIT_LEFT, 1, EDIT_MOVED);
	run(e, CMD_EDIT_KILL_TO_END, 1, EDIT_CHANGED);
	expect_text(e, "one\ntw\nthree");
	/* At the end of a line it takes the newline. */
	run(e, CMD_EDIT_KILL_TO_END, 1, EDIT_CHANGED);
	expect_text(e, "one\ntwthree");
	run(e, CMD_EDIT_KILL_TO_START, 1, EDIT_CHANGED);
	expect_text(e, "one\nthree");
	run(e, CMD_EDIT_KILL_TO_START, 1, EDIT_CHANGED);
	expect_text(e, "onethree");
	run(e, CMD_EDIT_YANK, 1, EDIT_CHANGED);
	expect_text(e, "one\ntwo\nthree");
	assert_int_equal(edit_cursor(e), 8);
	run(e, CMD_EDIT_HOME, 1, 0);
	run(e, CMD_EDIT_KILL_TO_START, 4, EDIT_CHANGED);
	run(e, CMD_EDIT_KILL_TO_START, 1, 0);
	expect_text(e, "three");
	edit_free(e);

	/* Deleting a cluster is no kill: the ring keeps what it had. */
	e = make("ab" FAMILY, 0);
	run(e, CMD_EDIT_BACKSPACE, 1, EDIT_CHANGED);
	run(e, CMD_EDIT_YANK, 1, 0);
	run(e, CMD_EDIT_DELETE_WORD_BACK, 1, EDIT_CHANGED);
	run(e, CMD_EDIT_YANK, 1, EDIT_CHANGED);
	run(e, CMD_EDIT_YANK, 1, EDIT_CHANGED);
	expect_text(e, "abab");
	edit_free(e);
}

static void
edit_command__moves_up_and_down_keeping_the_column(void **state)
{
	struct edit *e = make("abcdef\nab\nabcdef", 0);

	(void)state;
	run(e, CMD_EDIT_DOWN, 1, 0);
	run(e, CMD_EDIT_UP, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 9);
	run(e, CMD_EDIT_UP, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 6);
	run(e, CMD_EDIT_UP, 1, 0);
	run(e, CMD_EDIT_DOWN, 2, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 16);
	edit_free(e);

	/* Columns, not bytes: CJK is two columns a character. */
	e = make(ZHONG WEN ZI "\nabcdef", 0);
	run(e, CMD_EDIT_LEFT, 3, EDIT_MOVED);
	run(e, CMD_EDIT_UP, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 3); /* after 中: column 2 */
	run(e, CMD_EDIT_DOWN, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 13); /* column 3 kept */
	edit_free(e);
}

static void
edit_command__moves_up_and_down_between_wrapped_rows(void **state)
{
	struct edit *e = make("aaaa bbbb cccc", 0);
	struct canvas *cv = canvas_new(5, 3);
	unsigned cx, cy;

	(void)state;
	edit_draw(e, cv, 0, 0, 5, 3, &cx, &cy);
	run(e, CMD_EDIT_UP, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 9);
	run(e, CMD_EDIT_UP, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 4);
	run(e, CMD_EDIT_UP, 1, 0);
	run(e, CMD_EDIT_LEFT, 2, EDIT_MOVED);
	run(e, CMD_EDIT_DOWN, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 7);
	edit_free(e);

	/* A row filled to the edge ends at the start of the next. */
	e = make("abcdefghij", 0);
	edit_draw(e, cv, 0, 0, 5, 3, &cx, &cy);
	assert_int_equal(cx, 0);
	assert_int_equal(cy, 2);
	run(e, CMD_EDIT_UP, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 5);
	run(e, CMD_EDIT_END, 1, EDIT_MOVED);
	run(e, CMD_EDIT_LEFT, 1, EDIT_MOVED);
	run(e, CMD_EDIT_UP, 1, EDIT_MOVED);
	assert_int_equal(edit_cursor(e), 4);
	edit_free(e);
	canvas_free(cv);
}

static void
edit_insert__refuses_text_past_the_limit(void **state)
{
	struct edit *e = edit_new(0);
	char *big = malloc(EDIT_MAX + 1);

	(void)state;
	memset(big, 'x', EDIT_MAX + 1);
	assert_int_equal(edit_insert(e, big, EDIT_MAX + 1), -1);
	expect_text(e, "");
	assert_int_equal(edit_set(e, big, EDIT_MAX + 1), -1);
	assert_int_equal(edit_insert(e, big, EDIT_MAX - 1), 0);
	assert_int_equal(edit_insert(e, "ab", 2), -1);
	assert_int_equal(edit_insert(e, "a", 1), 0);
	assert_int_equal(edit_insert(e, "a", 1), -1);
	assert_int_equal(edit_command(e, CMD_COMPOSE_NEWLINE), 0);
	/* Cleaning counts: one invalid byte is three bytes of U+FFFD. */
	run(e, CMD_EDIT_BACKSPACE, 2, EDIT_CHANGED);
	assert_int_equal(edit_insert(e, "\xff", 1), -1);
	run(e, CMD_EDIT_BACKSPACE, 1, EDIT_CHANGED);
	assert_int_equal(edit_insert(e, "\xff", 1), 0);
	/* A yank that would not fit is no change. */
	run(e, CMD_EDIT_HOME, 1, EDIT_MOVED);
	run(e, CMD_EDIT_KILL_TO_END, 1, EDIT_CHANGED);
	assert_int_equal(edit_insert(e, "z", 1), 0);
	run(e, CMD_EDIT_YANK, 1, 0);
	expect_text(e, "z");
	edit_free(e);
	free(big);
}

static void
edit_counts_utf16_units_and_lines(void **state)
{
	struct edit *e = make("a\xc3\xa9\xf0\x9f\x98\x80" FAMILY "\n" ZHONG,
	    0);

	(void)state;
	/* a é 😀(2) and the family: 4 emoji of 2 units and 3 ZWJs. */
	assert_int_equal(edit_utf16_length(e), 1 + 1 + 2 + 11 + 1 + 1);
	assert_int_equal(edit_lines(e), 2);
	edit_clear(e);
	assert_int_equal(edit_utf16_length(e), 0);
	assert_int_equal(edit_lines(e), 1);
	edit_free(e);
}

/*
 * Draws into a canvas one column and row bigger each side, filled with
 * '#' so that a write outside the rectangle shows; returns the dump.
 */
static char *
draw(struct edit *e, unsigned w, unsigned h, unsigned *cx, unsigned *cy)
{
	struct canvas *cv = canvas_new(w + 2, h + 2);
	struct buf b;

	canvas_fill(cv, 0, 0, w + 2, h + 2, "#", 0);
	edit_draw(e, cv, 1, 1, w, h, cx, cy);
	assert_true(*cx >= 1 && *cx < 1 + w);
	assert_true(*cy >= 1 && *cy < 1 + h);
	buf_init(&b);
	canvas_dump(cv, &b);
	canvas_free(cv);
	return buf_steal(&b);
}

static void
expect_draw(struct edit *e, unsigned w, unsigned h, const char *want,
    unsigned want_x, unsigned want_y)
{
	unsigned cx, cy;
	char *got = draw(e, w, h, &cx, &cy);

	assert_string_equal(got, want);
	assert_int_equal(cx, want_x);
	assert_int_equal(cy, want_y);
	free(got);
}

static void
edit_draw__wraps_to_the_width_and_places_the_cursor(void **state)
{
	struct edit *e = make("hello world, " ZHONG WEN "!", 0);
	char wide_80[400], *p = wide_80;

	(void)state;
	/* 82 columns of '#', the text padded to 80 columns, 82 of '#'. */
	memset(p, '#', 82);
	p += 82;
	p += sprintf(p, "\n#hello world, " ZHONG WEN "!");
	memset(p, ' ', 80 - 18);
	p += 80 - 18;
	p += sprintf(p, "#\n");
	memset(p, '#', 82);
	strcpy(p + 82, "\n");
	expect_draw(e, 80, 1, wide_80, 1 + 18, 1);
	expect_draw(e, 10, 3,
	    "############\n"
	    "#hello     #\n"
	    "#world,    #\n"
	    "#" ZHONG WEN "!     #\n"
	    "############\n", 1 + 5, 3);
	run(e, CMD_EDIT_HOME, 1, EDIT_MOVED);
	expect_draw(e, 10, 3,
	    "############\n"
	    "#hello     #\n"
	    "#world,    #\n"
	    "#" ZHONG WEN "!     #\n"
	    "############\n", 1, 1);
	edit_free(e);

	/* Two columns: one wide character a row. */
	e = make(ZHONG WEN "a", 0);
	expect_draw(e, 2, 3,
	    "####\n"
	    "#" ZHONG "#\n"
	    "#" WEN "#\n"
	    "#a #\n"
	    "####\n", 2, 3);
	assert_int_equal(edit_rows(e, 2), 3);
	assert_int_equal(edit_rows(e, 1), 4); /* past a full last row */
	edit_free(e);

	/* One column: a wide character does not fit, and is not drawn
	 * half; the cursor after it is at the start of the next row. */
	e = make("a" ZHONG, 0);
	expect_draw(e, 1, 3,
	    "###\n"
	    "#a#\n"
	    "# #\n"
	    "# #\n"
	    "###\n", 1, 3);
	run(e, CMD_EDIT_LEFT, 1, EDIT_MOVED);
	expect_draw(e, 1, 3,
	    "###\n"
	    "#a#\n"
	    "# #\n"
	    "# #\n"
	    "###\n", 1, 2);
	edit_free(e);

	/* A family and a flag take two columns each, cursor between. */
	e = make(FAMILY FLAG_NZ, 0);
	run(e, CMD_EDIT_LEFT, 1, EDIT_MOVED);
	expect_draw(e, 10, 1,
	    "############\n"
	    "#" FAMILY FLAG_NZ "      #\n"
	    "############\n", 3, 1);
	edit_free(e);
}

static void
edit_draw__scrolls_only_as_far_as_the_cursor_needs(void **state)
{
	struct edit *e = make("1\n2\n3\n4\n5\n6", 0);

	(void)state;
	expect_draw(e, 3, 3,
	    "#####\n#4  #\n#5  #\n#6  #\n#####\n", 2, 3);
	run(e, CMD_EDIT_UP, 2, EDIT_MOVED);
	expect_draw(e, 3, 3,
	    "#####\n#4  #\n#5  #\n#6  #\n#####\n", 2, 1);
	run(e, CMD_EDIT_UP, 1, EDIT_MOVED);
	expect_draw(e, 3, 3,
	    "#####\n#3  #\n#4  #\n#5  #\n#####\n", 2, 1);
	run(e, CMD_EDIT_DOWN, 2, EDIT_MOVED);
	expect_draw(e, 3, 3,
	    "#####\n#3  #\n#4  #\n#5  #\n#####\n", 2, 3);
	/* Text that shrinks pulls the view back: no empty rows below. */
	run(e, CMD_EDIT_DOWN, 1, EDIT_MOVED);
	run(e, CMD_EDIT_BACKSPACE, 4, EDIT_CHANGED);
	expect_draw(e, 3, 3,
	    "#####\n#2  #\n#3  #\n#4  #\n#####\n", 2, 3);
	edit_clear(e);
	expect_draw(e, 3, 3,
	    "#####\n#   #\n#   #\n#   #\n#####\n", 1, 1);
	edit_free(e);
}

static void
edit_draw__draws_nothing_into_an_empty_rectangle(void **state)
{
	struct edit *e = make("abc", 0);
	struct canvas *cv = canvas_new(4, 4);
	struct buf b;
	unsigned cx = 9, cy = 9;

	(void)state;
	canvas_fill(cv, 0, 0, 4, 4, "#", 0);
	edit_draw(e, cv, 2, 1, 0, 3, &cx, &cy);
	assert_int_equal(cx, 2);
	assert_int_equal(cy, 1);
	edit_draw(e, cv, 2, 1, 2, 0, &cx, &cy);
	buf_init(&b);
	canvas_dump(cv, &b);
	assert_string_equal(b.data, "####\n####\n####\n####\n");
	buf_free(&b);
	canvas_free(cv);
	edit_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(edit_insert__puts_text_at_the_cursor),
		cmocka_unit_test(
		    edit_insert__drops_controls_and_keeps_newlines_only_when_multi_line),
		cmocka_unit_test(edit_command__moves_over_whole_clusters),
		cmocka_unit_test(edit_command__deletes_whole_clusters),
		cmocka_unit_test(
		    edit_command__keeps_the_cursor_on_a_boundary_when_clusters_join),
		cmocka_unit_test(edit_command__moves_by_words_like_readline),
		cmocka_unit_test(edit_command__goes_home_and_end_of_the_line),
		cmocka_unit_test(edit_command__kills_and_yanks),
		cmocka_unit_test(
		    edit_command__moves_up_and_down_keeping_the_column),
		cmocka_unit_test(
		    edit_command__moves_up_and_down_between_wrapped_rows),
		cmocka_unit_test(edit_insert__refuses_text_past_the_limit),
		cmocka_unit_test(edit_counts_utf16_units_and_lines),
		cmocka_unit_test(
		    edit_draw__wraps_to_the_width_and_places_the_cursor),
		cmocka_unit_test(
		    edit_draw__scrolls_only_as_far_as_the_cursor_needs),
		cmocka_unit_test(
		    edit_draw__draws_nothing_into_an_empty_rectangle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
