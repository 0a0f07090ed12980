/*
 * Unit tests for src/core/ini.c: what the tokeniser hands to its callback,
 * and the exact "file:line: reason" it reports for every kind of bad input.
 * Files are made in a private temp dir; nothing outside it is touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/ini.h"
#include "core/xalloc.h"

/*
 * The callback records every call as one line: "[section]" for a header,
 * "section|key|value" for a key, so a test compares one string.
 */
struct rec {
	struct buf out;
	const char *reject_key;	  /* refuse this key (or section if no key) */
	const char *reject_cause; /* NULL: refuse without a cause */
	int calls;
};

static int
record(void *ctx, const char *section, const char *key, const char *value,
    char **cause)
{
	struct rec *r = ctx;
	const char *name = key != NULL ? key : section;

	r->calls++;
	if (r->reject_key != NULL && strcmp(name, r->reject_key) == 0) {
		if (r->reject_cause != NULL)
			*cause = xstrdup(r->reject_cause);
		return -1;
	}
	if (key == NULL)
		buf_printf(&r->out, "[%s]\n", section);
	else
		buf_printf(&r->out, "%s|%s|%s\n", section, key, value);
	return 0;
}

/* Parses text; returns the recording (or "" if nothing) and the cause. */
static int
parse(const char *text, size_t len, struct rec *r, char **cause)
{
	buf_init(&r->out);
	buf_adds(&r->out, "");
	*cause = NULL;
	return ini_parse_string("test.conf", text, len, record, r, cause);
}

static void
expect_ok(const char *text, const char *want)
{
	struct rec r = { .reject_key = NULL };
	char *cause;

	assert_int_equal(parse(text, strlen(text), &r, &cause), 0);
	assert_null(cause);
	assert_string_equal(r.out.data, want);
	buf_free(&r.out);
}

static void
expect_error(const char *text, size_t len, const char *want_cause)
{
	struct rec r = { .reject_key = NULL };
	char *cause;

	assert_int_equal(parse(text, len, &r, &cause), -1);
	assert_non_null(cause);
	assert_string_equal(cause, want_cause);
	free(cause);
	buf_free(&r.out);
}

/* A private temp dir per test group. */
static char tmpdir[64];

static int
make_tmpdir(void **state)
{
	strcpy(tmpdir, "/tmp/glivi-test-ini-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
remove_tmpdir(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int rc = system(cmd);

	free(cmd);
	return rc == 0 ? 0 : -1;
}

static char *
write_tmp(const char *name, const void *data, size_t len)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Good input. */

static void
ini_parse_string__reports_sections_keys_and_values(void **state)
{
	expect_ok("[server]\n"
		  "listen = 127.0.0.1:8443\n"
		  "threads=4\n"
		  "\n"
		  "[number.main]\n"
		  "  phone_number_id   =   106540352242922  \n"
		  "display-name = Main shop\n",
	    "[server]\n"
	    "server|listen|127.0.0.1:8443\n"
	    "server|threads|4\n"
	    "[number.main]\n"
	    "number.main|phone_number_id|106540352242922\n"
	    "number.main|display-name|Main shop\n");
}

static void
ini_parse_string__gives_keys_before_any_section_an_empty_section(void **state)
{
	expect_ok("a = 1\n[s]\nb = 2\n", "|a|1\n[s]\ns|b|2\n");
}

static void
ini_parse_string__accepts_empty_input_and_blank_lines(void **state)
{
	expect_ok("", "");
	expect_ok("\n\n   \n\t\n", "");
}

static void
ini_parse_string__accepts_an_empty_value(void **state)
{
	expect_ok("a =\nb=\t\nc = \"\"\n", "|a|\n|b|\n|c|\n");
}

static void
ini_parse_string__keeps_everything_after_the_first_equals_sign(void **state)
{
	expect_ok("token = abc==def=\n", "|token|abc==def=\n");
}

static void
ini_parse_string__skips_whole_line_comments(void **state)
{
	expect_ok("; a comment\n"
		  "# another\n"
		  "   ; indented\n"
		  "\t# tabbed\n"
		  "[s]\n"
		  ";k = v\n"
		  "#k = v\n",
	    "[s]\n");
}

static void
ini_parse_string__ends_an_unquoted_value_at_a_spaced_comment(void **state)
{
	expect_ok("a = 1 ; one\nb = 2\t# two\nc = ; only a comment\n",
	    "|a|1\n|b|2\n|c|\n");
}

static void
ini_parse_string__keeps_comment_characters_inside_a_word(void **state)
{
	expect_ok("url = https://example.com/a#frag\nx = a;b\n",
	    "|url|https://example.com/a#frag\n|x|a;b\n");
}

static void
ini_parse_string__allows_a_comment_after_a_section_header(void **state)
{
	expect_ok("[s] ; the server\n[t]# no space needed\n", "[s]\n[t]\n");
}

static void
ini_parse_string__unquotes_values_with_escaped_quote_and_backslash(void **state)
{
	expect_ok("a = \"say \\\"hi\\\"\"\n"
		  "b = \"C:\\\\dir\"\n"
		  "c = \"\\n stays\"\n",
	    "|a|say \"hi\"\n|b|C:\\dir\n|c|\\n stays\n");
}

static void
ini_parse_string__keeps_spaces_and_comment_chars_inside_quotes(void **state)
{
	expect_ok("a = \"  padded ; not # a comment  \"\n",
	    "|a|  padded ; not # a comment  \n");
}

static void
ini_parse_string__allows_a_comment_after_a_quoted_value(void **state)
{
	expect_ok("a = \"x\" ; why\nb = \"y\"# why\n", "|a|x\n|b|y\n");
}

static void
ini_parse_string__skips_a_utf8_bom_on_the_first_line(void **state)
{
	expect_ok("\xef\xbb\xbf[s]\nk = v\n", "[s]\ns|k|v\n");
	expect_ok("\xef\xbb\xbfk = v\n", "|k|v\n");
}

static void
ini_parse_string__accepts_crlf_line_ends(void **state)
{
	expect_ok("[s]\r\nk = v\r\nq = \"x\"\r\n; c\r\n\r\n",
	    "[s]\ns|k|v\ns|q|x\n");
}

static void
ini_parse_string__accepts_a_last_line_without_newline(void **state)
{
	expect_ok("[s]\nk = v", "[s]\ns|k|v\n");
}

static void
ini_parse_string__keeps_utf8_in_values(void **state)
{
	expect_ok("name = Jürgen Weiß 👍\n", "|name|Jürgen Weiß 👍\n");
}

static void
ini_parse_string__reads_only_len_bytes(void **state)
{
	struct rec r = { .reject_key = NULL };
	const char text[] = "a = 1\nb = 2\n";
	char *cause;

	/* Stop inside "b = 2": the text is not NUL-terminated there. */
	assert_int_equal(parse(text, 9, &r, &cause), 0);
	assert_string_equal(r.out.data, "|a|1\n|b|\n");
	buf_free(&r.out);
}

static void
ini_parse_string__accepts_a_line_of_exactly_4096_bytes(void **state)
{
	char *text = xmalloc(4096 + 2), *want;

	memcpy(text, "k = ", 4);
	memset(text + 4, 'v', 4096 - 4);
	text[4096] = '\n';
	text[4097] = '\0';
	want = xasprintf("|k|%.*s\n", 4096 - 4, text + 4);
	expect_ok(text, want);
	free(want);
	free(text);
}

static void
ini_parse_string__accepts_a_section_name_of_128_bytes(void **state)
{
	char text[160], want[160];

	memset(text, 'a', sizeof text);
	text[0] = '[';
	text[129] = ']';
	text[130] = '\0';
	snprintf(want, sizeof want, "[%.128s]\n", text + 1);
	expect_ok(text, want);
}

/* Bad input: every error names the file and line. */

static void
ini_parse_string__reports_file_and_line_of_a_line_without_equals(void **state)
{
	const char *t = "[s]\nk = v\njust words\n";

	expect_error(t, strlen(t),
	    "test.conf:3: expected 'key = value' or '[section]'");
}

static void
ini_parse_string__counts_lines_across_comments_blanks_and_crlf(void **state)
{
	const char *t = "; c\r\n\r\n[s]\r\n# c\r\nk = v\r\noops\r\n";

	expect_error(t, strlen(t),
	    "test.conf:6: expected 'key = value' or '[section]'");
}

static void
ini_parse_string__reports_a_section_header_without_closing_bracket(void **state)
{
	const char *t = "[server\n";

	expect_error(t, strlen(t),
	    "test.conf:1: section header without closing ']'");
}

static void
ini_parse_string__reports_text_after_a_section_header(void **state)
{
	const char *t = "\n[server] x\n";

	expect_error(t, strlen(t), "test.conf:2: text after section header");
}

static void
ini_parse_string__reports_a_bad_section_name(void **state)
{
	static const char *bad[] = { "[]\n", "[ ]\n", "[a b]\n", "[a/b]\n",
		"[a=b]\n", "[[a]\n", "[é]\n", NULL };

	for (size_t i = 0; bad[i] != NULL; i++)
		expect_error(bad[i], strlen(bad[i]),
		    "test.conf:1: bad section name (letters, digits, '_', '-' "
		    "and '.' only)");
}

static void
ini_parse_string__reports_a_section_name_longer_than_128_bytes(void **state)
{
	char text[160];

	memset(text, 'a', sizeof text);
	text[0] = '[';
	text[130] = ']';
	text[131] = '\0';
	expect_error(text, strlen(text),
	    "test.conf:1: bad section name (letters, digits, '_', '-' and "
	    "'.' only)");
}

static void
ini_parse_string__reports_a_bad_key_name(void **state)
{
	static const char *bad[] = { "= v\n", "a.b = v\n", "a b = v\n",
		"\"a\" = v\n", "k\xc3\xa9 = v\n", NULL };

	for (size_t i = 0; bad[i] != NULL; i++)
		expect_error(bad[i], strlen(bad[i]),
		    "test.conf:1: bad key name (letters, digits, '_' and '-' "
		    "only)");
}

static void
ini_parse_string__refuses_a_bom_after_the_first_line(void **state)
{
	const char *t = "a = 1\n\xef\xbb\xbf"
			"b = 2\n";

	expect_error(t, strlen(t),
	    "test.conf:2: bad key name (letters, digits, '_' and '-' only)");
}

static void
ini_parse_string__reports_an_unterminated_quote(void **state)
{
	const char *t = "[s]\nk = \"abc\n";

	expect_error(t, strlen(t), "test.conf:2: unterminated quoted value");
	t = "k = \"abc\\\"\n";
	expect_error(t, strlen(t), "test.conf:1: unterminated quoted value");
	t = "k = \"";
	expect_error(t, strlen(t), "test.conf:1: unterminated quoted value");
}

static void
ini_parse_string__reports_text_after_a_closing_quote(void **state)
{
	const char *t = "k = \"abc\" def\n";

	expect_error(t, strlen(t), "test.conf:1: text after closing quote");
	t = "k = \"a\"\"b\"\n";
	expect_error(t, strlen(t), "test.conf:1: text after closing quote");
}

static void
ini_parse_string__reports_a_line_longer_than_4096_bytes(void **state)
{
	/* "a=1\n", then a line of 4097 bytes and its newline. */
	size_t len = 4 + 4097 + 1;
	char *text = xmalloc(len);

	memcpy(text, "a=1\n", 4);
	memcpy(text + 4, "k = ", 4);
	memset(text + 8, 'v', len - 8);
	text[len - 1] = '\n';
	expect_error(text, len, "test.conf:2: line longer than 4096 bytes");
	free(text);
}

static void
ini_parse_string__reports_an_oversized_comment_line_too(void **state)
{
	size_t len = 100000;
	char *text = xmalloc(len);

	memset(text, ';', len);
	expect_error(text, len, "test.conf:1: line longer than 4096 bytes");
	free(text);
}

static void
ini_parse_string__refuses_a_nul_byte_anywhere(void **state)
{
	/* The whole file is refused before any line is read: no line number. */
	static const char t[] = "[s]\nk = v\0w\n";
	struct rec r = { .reject_key = NULL };
	char *cause;

	assert_int_equal(parse(t, sizeof t - 1, &r, &cause), -1);
	assert_string_equal(cause, "test.conf: file contains a NUL byte");
	assert_int_equal(r.calls, 0);
	free(cause);
	buf_free(&r.out);
}

static void
ini_parse_string__prefixes_a_callback_cause_with_file_and_line(void **state)
{
	struct rec r = { .reject_key = "threads",
		.reject_cause = "threads: 0 is out of range (1 to 64)" };
	const char *t = "[server]\nlisten = x\n\nthreads = 0\nafter = 1\n";
	char *cause;

	assert_int_equal(parse(t, strlen(t), &r, &cause), -1);
	assert_string_equal(cause,
	    "test.conf:4: threads: 0 is out of range (1 to 64)");
	/* Nothing after the refused line reaches the callback. */
	assert_string_equal(r.out.data, "[server]\nserver|listen|x\n");
	assert_int_equal(r.calls, 3);
	free(cause);
	buf_free(&r.out);
}

static void
ini_parse_string__says_rejected_when_the_callback_gives_no_cause(void **state)
{
	struct rec r = { .reject_key = "k" };
	const char *t = "k = v\n";
	char *cause;

	assert_int_equal(parse(t, strlen(t), &r, &cause), -1);
	assert_string_equal(cause, "test.conf:1: rejected");
	free(cause);
	buf_free(&r.out);
}

static void
ini_parse_string__lets_the_callback_refuse_a_section(void **state)
{
	struct rec r = { .reject_key = "nope", .reject_cause =
		"unknown section [nope]" };
	const char *t = "[ok]\n[nope]\nk = v\n";
	char *cause;

	assert_int_equal(parse(t, strlen(t), &r, &cause), -1);
	assert_string_equal(cause, "test.conf:2: unknown section [nope]");
	assert_string_equal(r.out.data, "[ok]\n");
	free(cause);
	buf_free(&r.out);
}

static void
ini_parse_string__survives_hostile_bytes(void **state)
{
	/* Control characters, lone CRs and high bytes are data, not crashes. */
	static const char t[] = "k = \x01\x02\x7f\xff\xfe\r\r\n"
				"\r\r\r\n"
				"[\x80]\n";
	struct rec r = { .reject_key = NULL };
	char *cause;

	assert_int_equal(parse(t, sizeof t - 1, &r, &cause), -1);
	assert_string_equal(cause,
	    "test.conf:3: bad section name (letters, digits, '_', '-' and "
	    "'.' only)");
	assert_string_equal(r.out.data, "|k|\x01\x02\x7f\xff\xfe\n");
	free(cause);
	buf_free(&r.out);
}

/* Files. */

static void
ini_parse_file__reads_a_file(void **state)
{
	const char *t = "\xef\xbb\xbf; sample\r\n[s]\r\nk = \"v\"\r\n";
	struct rec r = { .reject_key = NULL };
	char *path = write_tmp("good.conf", t, strlen(t)), *cause = NULL;

	buf_init(&r.out);
	assert_int_equal(ini_parse_file(path, record, &r, &cause), 0);
	assert_null(cause);
	assert_string_equal(r.out.data, "[s]\ns|k|v\n");
	buf_free(&r.out);
	free(path);
}

static void
ini_parse_file__reads_an_empty_file(void **state)
{
	struct rec r = { .reject_key = NULL };
	char *path = write_tmp("empty.conf", "", 0), *cause = NULL;

	buf_init(&r.out);
	assert_int_equal(ini_parse_file(path, record, &r, &cause), 0);
	assert_int_equal(r.calls, 0);
	buf_free(&r.out);
	free(path);
}

static void
ini_parse_file__names_the_path_in_errors(void **state)
{
	const char *t = "[s]\nbroken\n";
	struct rec r = { .reject_key = NULL };
	char *path = write_tmp("bad.conf", t, strlen(t)), *cause = NULL;
	char *want = xasprintf("%s:2: expected 'key = value' or '[section]'",
	    path);

	buf_init(&r.out);
	assert_int_equal(ini_parse_file(path, record, &r, &cause), -1);
	assert_string_equal(cause, want);
	free(want);
	free(cause);
	buf_free(&r.out);
	free(path);
}

static void
ini_parse_file__reports_a_missing_file_with_its_path(void **state)
{
	struct rec r = { .reject_key = NULL };
	char *path = xasprintf("%s/missing.conf", tmpdir), *cause = NULL;
	char *want = xasprintf("%s: No such file or directory", path);

	assert_int_equal(ini_parse_file(path, record, &r, &cause), -1);
	assert_string_equal(cause, want);
	assert_int_equal(r.calls, 0);
	free(want);
	free(cause);
	free(path);
}

static void
ini_parse_file__reports_a_directory(void **state)
{
	struct rec r = { .reject_key = NULL };
	char *cause = NULL, *want = xasprintf("%s: Is a directory", tmpdir);

	assert_int_equal(ini_parse_file(tmpdir, record, &r, &cause), -1);
	assert_string_equal(cause, want);
	free(want);
	free(cause);
}

/* Builds n bytes of valid INI: comment lines of 63 ';' and a newline. */
static char *
comment_lines(size_t n)
{
	char *t = xmalloc(n);

	memset(t, ';', n);
	for (size_t i = 63; i < n; i += 64)
		t[i] = '\n';
	return t;
}

static void
ini_parse_file__accepts_a_file_of_exactly_1_mib(void **state)
{
	struct rec r = { .reject_key = NULL };
	char *t = comment_lines(1024 * 1024), *cause = NULL;
	char *path = write_tmp("1mib.conf", t, 1024 * 1024);

	buf_init(&r.out);
	assert_int_equal(ini_parse_file(path, record, &r, &cause), 0);
	assert_null(cause);
	buf_free(&r.out);
	free(path);
	free(t);
}

static void
ini_parse_file__refuses_a_file_larger_than_1_mib(void **state)
{
	struct rec r = { .reject_key = NULL };
	char *t = comment_lines(1024 * 1024 + 1), *cause = NULL;
	char *path = write_tmp("big.conf", t, 1024 * 1024 + 1);
	char *want = xasprintf("%s: file larger than 1 MiB", path);

	assert_int_equal(ini_parse_file(path, record, &r, &cause), -1);
	assert_string_equal(cause, want);
	assert_int_equal(r.calls, 0);
	free(want);
	free(cause);
	free(path);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ini_parse_string__reports_sections_keys_and_values),
		cmocka_unit_test(ini_parse_string__gives_keys_before_any_section_an_empty_section),
		cmocka_unit_test(ini_parse_string__accepts_empty_input_and_blank_lines),
		cmocka_unit_test(ini_parse_string__accepts_an_empty_value),
		cmocka_unit_test(ini_parse_string__keeps_everything_after_the_first_equals_sign),
		cmocka_unit_test(ini_parse_string__skips_whole_line_comments),
		cmocka_unit_test(ini_parse_string__ends_an_unquoted_value_at_a_spaced_comment),
		cmocka_unit_test(ini_parse_string__keeps_comment_characters_inside_a_word),
		cmocka_unit_test(ini_parse_string__allows_a_comment_after_a_section_header),
		cmocka_unit_test(ini_parse_string__unquotes_values_with_escaped_quote_and_backslash),
		cmocka_unit_test(ini_parse_string__keeps_spaces_and_comment_chars_inside_quotes),
		cmocka_unit_test(ini_parse_string__allows_a_comment_after_a_quoted_value),
		cmocka_unit_test(ini_parse_string__skips_a_utf8_bom_on_the_first_line),
		cmocka_unit_test(ini_parse_string__accepts_crlf_line_ends),
		cmocka_unit_test(ini_parse_string__accepts_a_last_line_without_newline),
		cmocka_unit_test(ini_parse_string__keeps_utf8_in_values),
		cmocka_unit_test(ini_parse_string__reads_only_len_bytes),
		cmocka_unit_test(ini_parse_string__accepts_a_line_of_exactly_4096_bytes),
		cmocka_unit_test(ini_parse_string__accepts_a_section_name_of_128_bytes),
		cmocka_unit_test(ini_parse_string__reports_file_and_line_of_a_line_without_equals),
		cmocka_unit_test(ini_parse_string__counts_lines_across_comments_blanks_and_crlf),
		cmocka_unit_test(ini_parse_string__reports_a_section_header_without_closing_bracket),
		cmocka_unit_test(ini_parse_string__reports_text_after_a_section_header),
		cmocka_unit_test(ini_parse_string__reports_a_bad_section_name),
		cmocka_unit_test(ini_parse_string__reports_a_section_name_longer_than_128_bytes),
		cmocka_unit_test(ini_parse_string__reports_a_bad_key_name),
		cmocka_unit_test(ini_parse_string__refuses_a_bom_after_the_first_line),
		cmocka_unit_test(ini_parse_string__reports_an_unterminated_quote),
		cmocka_unit_test(ini_parse_string__reports_text_after_a_closing_quote),
		cmocka_unit_test(ini_parse_string__reports_a_line_longer_than_4096_bytes),
		cmocka_unit_test(ini_parse_string__reports_an_oversized_comment_line_too),
		cmocka_unit_test(ini_parse_string__refuses_a_nul_byte_anywhere),
		cmocka_unit_test(ini_parse_string__prefixes_a_callback_cause_with_file_and_line),
		cmocka_unit_test(ini_parse_string__says_rejected_when_the_callback_gives_no_cause),
		cmocka_unit_test(ini_parse_string__lets_the_callback_refuse_a_section),
		cmocka_unit_test(ini_parse_string__survives_hostile_bytes),
		cmocka_unit_test(ini_parse_file__reads_a_file),
		cmocka_unit_test(ini_parse_file__reads_an_empty_file),
		cmocka_unit_test(ini_parse_file__names_the_path_in_errors),
		cmocka_unit_test(ini_parse_file__reports_a_missing_file_with_its_path),
		cmocka_unit_test(ini_parse_file__reports_a_directory),
		cmocka_unit_test(ini_parse_file__accepts_a_file_of_exactly_1_mib),
		cmocka_unit_test(ini_parse_file__refuses_a_file_larger_than_1_mib),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
