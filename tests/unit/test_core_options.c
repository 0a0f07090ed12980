/*
 * Unit tests for src/core/options.c: typed values, ranges, defaults and the
 * sample file, driven by a small table of the test's own so they do not
 * depend on any program's keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/options.h"
#include "core/xalloc.h"

#define DAY (24LL * 3600)

struct cfg {
	char *name;
	int debug;
	long long threads;
	long long max_body;
	long long retention;
	long long offset;
	char *token_file;
	char *phone_number_id;
	char *level;
};

#define C(f) offsetof(struct cfg, f)

static const struct option_def tab[] = {
	{ .section = "server", .key = "name", .type = OPT_STRING,
	    .def = "relay", .offset = C(name),
	    .help = "Name shown in log lines." },
	{ .section = "server", .key = "debug", .type = OPT_BOOL, .def = "off",
	    .offset = C(debug),
	    .help = "Log every request.\nVery noisy: not for production." },
	{ .section = "server", .key = "threads", .type = OPT_INT, .def = "4",
	    .min = 1, .max = 64, .offset = C(threads),
	    .help = "HTTP threads." },
	{ .section = "server", .key = "max_body", .type = OPT_SIZE,
	    .def = "4M", .min = 1024, .max = 64LL << 20, .offset = C(max_body),
	    .help = "Largest request body accepted." },
	{ .section = "server", .key = "token_file", .type = OPT_STRING,
	    .flags = OPT_REQUIRED | OPT_SECRET, .offset = C(token_file),
	    .help = "File holding the agent token." },
	{ .section = "store", .key = "retention", .type = OPT_DURATION,
	    .def = "30d", .min = 0, .max = 3650 * DAY, .offset = C(retention),
	    .help = "How long raw bodies are kept." },
	{ .section = "store", .key = "offset", .type = OPT_INT,
	    .min = -10, .max = 10, .offset = C(offset),
	    .help = "A signed knob with no default." },
	{ .section = "number.*", .key = "phone_number_id", .type = OPT_STRING,
	    .def = "106540352242922", .flags = OPT_REQUIRED,
	    .offset = C(phone_number_id),
	    .help = "The Cloud API phone number id." },
	{ .section = "log", .key = "level", .type = OPT_ENUM, .def = "info",
	    .choices = "debug|info|warn|error", .offset = C(level),
	    .help = "Least severe message written." },
	{ .key = NULL },
};

static const struct option_def *
row(const char *section, const char *key)
{
	const struct option_def *o = options_find(tab, section, key);

	assert_non_null(o);
	return o;
}

static void
expect_size(const char *s, long long want)
{
	long long v = -12345;

	assert_int_equal(options_parse_size(s, &v), 0);
	assert_true(v == want);
}

static void
expect_bad_size(const char *s)
{
	long long v = -12345;

	assert_int_equal(options_parse_size(s, &v), -1);
	assert_true(v == -12345); /* the output is left alone */
}

static void
expect_duration(const char *s, long long want)
{
	long long v = -12345;

	assert_int_equal(options_parse_duration(s, &v), 0);
	assert_true(v == want);
}

static void
expect_bad_duration(const char *s)
{
	long long v = -12345;

	assert_int_equal(options_parse_duration(s, &v), -1);
	assert_true(v == -12345);
}

/* Sets key to value; expects failure with the exact cause. */
static void
expect_set_error(const char *section, const char *key, const char *value,
    const char *want)
{
	struct cfg cfg = { .threads = 7, .max_body = 7, .retention = 7 };
	char *cause = NULL;

	assert_int_equal(options_set(row(section, key), &cfg, value, &cause),
	    -1);
	assert_non_null(cause);
	assert_string_equal(cause, want);
	free(cause);
	/* A refused value changes nothing. */
	assert_true(cfg.threads == 7 && cfg.max_body == 7 &&
	    cfg.retention == 7 && cfg.debug == 0);
}

/* Sizes. */

static void
options_parse_size__reads_plain_bytes(void **state)
{
	expect_size("0", 0);
	expect_size("1", 1);
	expect_size("4096", 4096);
	expect_size("9223372036854775807", 9223372036854775807LL);
}

static void
options_parse_size__scales_k_m_g_by_powers_of_1024(void **state)
{
	expect_size("512k", 512LL * 1024);
	expect_size("4M", 4LL * 1024 * 1024);
	expect_size("1G", 1024LL * 1024 * 1024);
	expect_size("0k", 0);
	expect_size("8589934591G", 8589934591LL << 30); /* largest that fits */
}

static void
options_parse_size__rejects_overflow(void **state)
{
	expect_bad_size("8589934592G"); /* exactly 2^63 */
	expect_bad_size("9007199254740992M");
	expect_bad_size("9223372036854775808");
	expect_bad_size("99999999999999999999999k");
}

static void
options_parse_size__rejects_signs(void **state)
{
	expect_bad_size("-1");
	expect_bad_size("-1k");
	expect_bad_size("+1");
	expect_bad_size("-0");
}

static void
options_parse_size__rejects_junk_and_unknown_suffixes(void **state)
{
	static const char *bad[] = { "", "k", "M", "4MB", "4kk", "4K", "4m",
		"4g", "4T", "4 k", "4 ", "4.5M", "0x10", "1e3", "4\tM", "four",
		"4s", NULL };

	for (size_t i = 0; bad[i] != NULL; i++)
		expect_bad_size(bad[i]);
}

static void
options_parse_size__rejects_a_sign_hidden_behind_whitespace(void **state)
{
	/*
	 * A leading '-' is refused, so one after whitespace must be too; an
	 * INI value can carry it as "  -1k" (quoted) or "\f-1k" (the reader
	 * trims only spaces and tabs). Fails until parse_scaled() refuses
	 * what strtoll() skips.
	 */
	expect_bad_size(" -1");
	expect_bad_size("\f-1k");
	expect_bad_size(" 1");
	expect_bad_duration(" -30s");
}

/* Durations. */

static void
options_parse_duration__reads_seconds_minutes_hours_and_days(void **state)
{
	expect_duration("30s", 30);
	expect_duration("15m", 15 * 60);
	expect_duration("12h", 12 * 3600);
	expect_duration("30d", 30 * DAY);
	expect_duration("45", 45);
	expect_duration("0", 0);
	expect_duration("0d", 0);
}

static void
options_parse_duration__rejects_junk_signs_and_overflow(void **state)
{
	static const char *bad[] = { "", "s", "1w", "1y", "30S", "12H",
		"1.5h", "-1s", "+1s", "1 s", "1sm", "1k", "106751991167301d",
		"99999999999999999999", NULL };

	for (size_t i = 0; bad[i] != NULL; i++)
		expect_bad_duration(bad[i]);
	expect_duration("106751991167300d", 106751991167300LL * DAY);
}

/* Booleans. */

static void
options_parse_bool__accepts_every_spelling_in_any_case(void **state)
{
	static const char *yes[] = { "true", "yes", "on", "1", "TRUE", "Yes",
		"oN", NULL };
	static const char *no[] = { "false", "no", "off", "0", "FALSE", "No",
		"OFF", NULL };
	int b;

	for (size_t i = 0; yes[i] != NULL; i++) {
		b = -1;
		assert_int_equal(options_parse_bool(yes[i], &b), 0);
		assert_int_equal(b, 1);
	}
	for (size_t i = 0; no[i] != NULL; i++) {
		b = -1;
		assert_int_equal(options_parse_bool(no[i], &b), 0);
		assert_int_equal(b, 0);
	}
}

static void
options_parse_bool__rejects_anything_else(void **state)
{
	static const char *bad[] = { "", "y", "n", "2", "01", "truee",
		"enabled", " true", "true ", "nope", NULL };

	for (size_t i = 0; bad[i] != NULL; i++) {
		int b = -1;

		assert_int_equal(options_parse_bool(bad[i], &b), -1);
		assert_int_equal(b, -1);
	}
}

/* options_set: typed values and exact error texts. */

static void
options_set__stores_each_type_at_its_offset(void **state)
{
	struct cfg cfg = { .name = NULL };
	char *cause = NULL;

	assert_int_equal(options_set(row("server", "name"), &cfg, "edge-1",
	    &cause), 0);
	assert_int_equal(options_set(row("server", "debug"), &cfg, "yes",
	    &cause), 0);
	assert_int_equal(options_set(row("server", "threads"), &cfg, "64",
	    &cause), 0);
	assert_int_equal(options_set(row("server", "max_body"), &cfg, "512k",
	    &cause), 0);
	assert_int_equal(options_set(row("store", "retention"), &cfg, "12h",
	    &cause), 0);
	assert_int_equal(options_set(row("store", "offset"), &cfg, "-10",
	    &cause), 0);
	assert_null(cause);
	assert_string_equal(cfg.name, "edge-1");
	assert_int_equal(cfg.debug, 1);
	assert_true(cfg.threads == 64);
	assert_true(cfg.max_body == 512 * 1024);
	assert_true(cfg.retention == 12 * 3600);
	assert_true(cfg.offset == -10);
	options_free(tab, &cfg);
}

static void
options_set__replaces_a_string_without_leaking(void **state)
{
	struct cfg cfg = { .name = NULL };
	char *cause = NULL;

	assert_int_equal(options_set(row("server", "name"), &cfg, "one",
	    &cause), 0);
	assert_int_equal(options_set(row("server", "name"), &cfg, "two",
	    &cause), 0);
	assert_string_equal(cfg.name, "two");
	options_free(tab, &cfg);
}

static void
options_set__rejects_an_int_out_of_range_with_exact_message(void **state)
{
	expect_set_error("server", "threads", "0",
	    "threads: 0 is out of range (1 to 64)");
	expect_set_error("server", "threads", "65",
	    "threads: 65 is out of range (1 to 64)");
	expect_set_error("server", "threads", "-1",
	    "threads: -1 is out of range (1 to 64)");
	expect_set_error("store", "offset", "-11",
	    "offset: -11 is out of range (-10 to 10)");
}

static void
options_set__range_checks_sizes_and_durations_after_scaling(void **state)
{
	expect_set_error("server", "max_body", "1023",
	    "max_body: 1023 is out of range (1024 to 67108864)");
	expect_set_error("server", "max_body", "65M",
	    "max_body: 68157440 is out of range (1024 to 67108864)");
	expect_set_error("store", "retention", "3651d",
	    "retention: 315446400 is out of range (0 to 315360000)");
}

static void
options_set__rejects_an_int_that_is_not_a_whole_number(void **state)
{
	expect_set_error("server", "threads", "",
	    "threads: expected a whole number, got ''");
	expect_set_error("server", "threads", "4x",
	    "threads: expected a whole number, got '4x'");
	expect_set_error("server", "threads", "4.0",
	    "threads: expected a whole number, got '4.0'");
	expect_set_error("server", "threads", "4 ",
	    "threads: expected a whole number, got '4 '");
	expect_set_error("server", "threads", "99999999999999999999",
	    "threads: expected a whole number, got '99999999999999999999'");
}

static void
options_set__rejects_a_bad_size_with_exact_message(void **state)
{
	expect_set_error("server", "max_body", "4MB",
	    "max_body: expected a size like 512k or 4M, got '4MB'");
	expect_set_error("server", "max_body", "-4M",
	    "max_body: expected a size like 512k or 4M, got '-4M'");
	expect_set_error("server", "max_body", "8589934592G",
	    "max_body: expected a size like 512k or 4M, got '8589934592G'");
}

static void
options_set__rejects_a_bad_duration_with_exact_message(void **state)
{
	expect_set_error("store", "retention", "1w",
	    "retention: expected a duration like 30s, 15m, 12h or 30d, got "
	    "'1w'");
}

static void
options_set__rejects_a_bad_bool_with_exact_message(void **state)
{
	expect_set_error("server", "debug", "maybe",
	    "debug: expected true or false, got 'maybe'");
}

static void
options_set__accepts_each_enum_choice(void **state)
{
	static const char *ok[] = { "debug", "info", "warn", "error", NULL };
	struct cfg cfg = { .name = NULL };
	char *cause = NULL;

	for (size_t i = 0; ok[i] != NULL; i++) {
		assert_int_equal(options_set(row("log", "level"), &cfg, ok[i],
		    &cause), 0);
		assert_string_equal(cfg.level, ok[i]);
	}
	assert_null(cause);
	options_free(tab, &cfg);
	assert_null(cfg.level);
}

static void
options_set__rejects_anything_but_a_whole_enum_choice(void **state)
{
	static const char *bad[] = { "", "inf", "infos", "Info", "debug|info",
		"|", "warn ", "error|", NULL };

	for (size_t i = 0; bad[i] != NULL; i++) {
		struct cfg cfg = { .name = NULL };
		char *cause = NULL;
		char want[128];

		snprintf(want, sizeof want, "level: expected one of "
		    "debug|info|warn|error, got '%s'", bad[i]);
		assert_int_equal(options_set(row("log", "level"), &cfg, bad[i],
		    &cause), -1);
		assert_string_equal(cause, want);
		assert_null(cfg.level);
		free(cause);
	}
}

/* Tables. */

static void
options_find__matches_exact_and_wildcard_sections(void **state)
{
	assert_ptr_equal(options_find(tab, "server", "threads"), &tab[2]);
	assert_ptr_equal(options_find(tab, "number.main", "phone_number_id"),
	    &tab[7]);
	assert_ptr_equal(options_find(tab, "number.a.b", "phone_number_id"),
	    &tab[7]);
	assert_null(options_find(tab, "number.", "phone_number_id"));
	assert_null(options_find(tab, "number", "phone_number_id"));
	assert_null(options_find(tab, "numbers.x", "phone_number_id"));
	assert_null(options_find(tab, "store", "threads"));
	assert_null(options_find(tab, "server", "Threads"));
	assert_null(options_find(tab, "", ""));
}

static void
options_defaults__sets_optional_keys_and_leaves_required_ones(void **state)
{
	struct cfg cfg;

	memset(&cfg, 0, sizeof cfg);
	cfg.offset = 3;
	options_defaults(tab, &cfg);
	assert_string_equal(cfg.name, "relay");
	assert_int_equal(cfg.debug, 0);
	assert_true(cfg.threads == 4);
	assert_true(cfg.max_body == 4LL << 20);
	assert_true(cfg.retention == 30 * DAY);
	assert_true(cfg.offset == 3); /* no default: untouched */
	assert_null(cfg.token_file);
	assert_null(cfg.phone_number_id); /* required: its def is an example */
	assert_string_equal(cfg.level, "info");
	options_free(tab, &cfg);
}

static void
options_free__frees_every_string_and_clears_it(void **state)
{
	struct cfg cfg;
	char *cause = NULL;

	memset(&cfg, 0, sizeof cfg);
	options_defaults(tab, &cfg);
	assert_int_equal(options_set(row("server", "token_file"), &cfg,
	    "/etc/glivi/token", &cause), 0);
	assert_int_equal(options_set(row("number.x", "phone_number_id"), &cfg,
	    "1", &cause), 0);
	options_free(tab, &cfg);
	assert_null(cfg.name);
	assert_null(cfg.level);
	assert_null(cfg.token_file);
	assert_null(cfg.phone_number_id);
	assert_true(cfg.threads == 4); /* numbers are left as they are */
	options_free(tab, &cfg); /* twice is harmless */
}

static void
options_check_required__names_the_section_and_the_missing_key(void **state)
{
	unsigned char seen[10] = { 0 };
	struct cfg cfg = { .name = NULL };
	char *cause = NULL;

	assert_int_equal(options_check_required(tab, "server", &cfg, seen,
	    &cause), -1);
	assert_string_equal(cause, "[server] needs 'token_file'");
	free(cause);
	cause = NULL;
	assert_int_equal(options_check_required(tab, "number.main", &cfg, seen,
	    &cause), -1);
	assert_string_equal(cause, "[number.main] needs 'phone_number_id'");
	free(cause);
	cause = NULL;
	assert_int_equal(options_check_required(tab, "store", &cfg, seen,
	    &cause), 0);
	seen[4] = seen[7] = 1;
	assert_int_equal(options_check_required(tab, "server", &cfg, seen,
	    &cause), 0);
	assert_int_equal(options_check_required(tab, "number.main", &cfg, seen,
	    &cause), 0);
	assert_null(cause);
}

static void
options_sample__writes_help_comments_and_commented_defaults(void **state)
{
	struct buf b;

	buf_init(&b);
	options_sample(tab, "server", "server", &b);
	assert_string_equal(b.data,
	    "[server]\n"
	    "; Name shown in log lines.\n"
	    ";name = relay\n"
	    "\n"
	    "; Log every request.\n"
	    "; Very noisy: not for production.\n"
	    ";debug = off\n"
	    "\n"
	    "; HTTP threads.\n"
	    ";threads = 4\n"
	    "\n"
	    "; Largest request body accepted.\n"
	    ";max_body = 4M\n"
	    "\n"
	    "; File holding the agent token.\n"
	    "; Required.\n"
	    ";token_file =\n"
	    "\n");
	buf_free(&b);
}

static void
options_sample__writes_required_examples_uncommented(void **state)
{
	struct buf b;

	buf_init(&b);
	options_sample(tab, "number.*", "number.main", &b);
	assert_string_equal(b.data,
	    "[number.main]\n"
	    "; The Cloud API phone number id.\n"
	    "; Required.\n"
	    "phone_number_id = 106540352242922\n"
	    "\n");
	buf_reset(&b);
	options_sample(tab, "store", "store", &b);
	assert_string_equal(b.data,
	    "[store]\n"
	    "; How long raw bodies are kept.\n"
	    ";retention = 30d\n"
	    "\n"
	    "; A signed knob with no default.\n"
	    ";offset =\n"
	    "\n");
	buf_free(&b);
}

static void
options_sample__writes_an_enum_default(void **state)
{
	struct buf b;

	buf_init(&b);
	options_sample(tab, "log", "log", &b);
	assert_string_equal(b.data,
	    "[log]\n"
	    "; Least severe message written.\n"
	    ";level = info\n"
	    "\n");
	buf_free(&b);
}

static void
options_sample__writes_only_the_header_for_an_unknown_section(void **state)
{
	struct buf b;

	buf_init(&b);
	options_sample(tab, "nope", "nope", &b);
	assert_string_equal(b.data, "[nope]\n");
	buf_free(&b);
}

/* Whole files: a table of single sections, as options_load_file wants. */

static const struct option_def ftab[] = {
	{ .section = "server", .key = "name", .type = OPT_STRING,
	    .def = "relay", .offset = C(name),
	    .help = "Name shown in log lines." },
	{ .section = "server", .key = "threads", .type = OPT_INT, .def = "4",
	    .min = 1, .max = 64, .offset = C(threads),
	    .help = "HTTP threads.\nMore than the cores rarely helps." },
	{ .section = "server", .key = "token_file", .type = OPT_STRING,
	    .def = "/etc/glivi/token", .flags = OPT_REQUIRED | OPT_SECRET,
	    .offset = C(token_file), .help = "File holding the agent token." },
	{ .section = "server", .key = "debug", .type = OPT_BOOL, .def = "off",
	    .offset = C(debug), .help = "Log every request." },
	{ .section = "store", .key = "max_body", .type = OPT_SIZE,
	    .def = "4M", .min = 1024, .max = 64LL << 20, .offset = C(max_body),
	    .help = "Largest request body accepted." },
	{ .section = "store", .key = "retention", .type = OPT_DURATION,
	    .def = "30d", .min = 0, .max = 3650 * DAY, .offset = C(retention),
	    .help = "How long raw bodies are kept." },
	{ .section = "store", .key = "phone_number_id", .type = OPT_STRING,
	    .def = "106540352242922", .flags = OPT_EXAMPLE,
	    .offset = C(phone_number_id),
	    .help = "An optional key with an example." },
	{ .section = "log", .key = "level", .type = OPT_ENUM, .def = "info",
	    .choices = "debug|info|warn|error", .offset = C(level),
	    .help = "Least severe message written." },
	{ .key = NULL },
};

static char *
write_temp(const char *text)
{
	char *path = xstrdup("/tmp/glivi-options-XXXXXX");
	int fd = mkstemp(path);
	size_t n = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
	return path;
}

/* Loads text into cfg; returns the error with the path shown as "F". */
static char *
load_text(const char *text, struct cfg *cfg)
{
	char *path = write_temp(text), *cause = NULL, *out = NULL;
	size_t plen = strlen(path);

	memset(cfg, 0, sizeof *cfg);
	if (options_load_file(ftab, cfg, path, &cause) != 0) {
		assert_non_null(cause);
		assert_memory_equal(cause, path, plen);
		out = xasprintf("F%s", cause + plen);
		free(cause);
	}
	unlink(path);
	free(path);
	return out;
}

static void
expect_load_error(const char *text, const char *want)
{
	struct cfg cfg;
	char *got = load_text(text, &cfg);

	if (got == NULL)
		fail_msg("expected '%s', but the file loaded", want);
	assert_string_equal(got, want);
	free(got);
	options_free(ftab, &cfg);
}

static void
options_load_file__sets_defaults_then_the_files_values(void **state)
{
	struct cfg cfg;
	char *err = load_text("; a comment\n[server]\ntoken_file = /t\n"
	    "threads = 8\n\n[store]\nretention = 12h\n[log]\nlevel = warn\n",
	    &cfg);

	assert_null(err);
	assert_string_equal(cfg.name, "relay");
	assert_true(cfg.threads == 8);
	assert_string_equal(cfg.token_file, "/t");
	assert_int_equal(cfg.debug, 0);
	assert_true(cfg.max_body == 4LL << 20);
	assert_true(cfg.retention == 12 * 3600);
	assert_null(cfg.phone_number_id); /* an example is not a default */
	assert_string_equal(cfg.level, "warn");
	options_free(ftab, &cfg);
}

static void
options_load_file__lets_a_section_appear_twice(void **state)
{
	struct cfg cfg;
	char *err = load_text("[server]\ntoken_file = /t\n[log]\nlevel = "
	    "error\n[server]\nname = edge\n", &cfg);

	assert_null(err);
	assert_string_equal(cfg.name, "edge");
	assert_string_equal(cfg.level, "error");
	options_free(ftab, &cfg);
}

static void
options_load_file__names_file_and_line_of_each_error(void **state)
{
	expect_load_error("[server]\ntoken_file = /t\ncolour = blue\n",
	    "F:3: unknown key 'colour' in [server]");
	expect_load_error("[server]\ntoken_file = /t\n[cache]\n",
	    "F:3: unknown section [cache]");
	expect_load_error("[server]\ntoken_file = /t\n[store]\n"
	    "retention = 1w\n", "F:4: retention: expected a duration like "
	    "30s, 15m, 12h or 30d, got '1w'");
	expect_load_error("[server]\nthreads = 2\ntoken_file = /t\n"
	    "threads = 3\n", "F:4: 'threads' is set twice in [server]");
	expect_load_error("[server]\nthreads = 2\n[log]\n[server]\n"
	    "threads = 2\n", "F:5: 'threads' is set twice in [server]");
	expect_load_error("threads = 2\n[server]\n",
	    "F:1: 'threads' is outside any [section]");
	expect_load_error("[server]\ntoken_file = /t\nthreads = 65\n",
	    "F:3: threads: 65 is out of range (1 to 64)");
	/* A key of another section is unknown here. */
	expect_load_error("[store]\nthreads = 2\n",
	    "F:2: unknown key 'threads' in [store]");
}

static void
options_load_file__requires_the_required_keys(void **state)
{
	expect_load_error("[server]\nname = x\n",
	    "F: [server] needs 'token_file'");
	expect_load_error("", "F: [server] needs 'token_file'");
}

static void
options_load_file__says_when_the_file_cannot_be_read(void **state)
{
	struct cfg cfg;
	char *cause = NULL;

	memset(&cfg, 0, sizeof cfg);
	assert_int_equal(options_load_file(ftab, &cfg, "/nonexistent/x.conf",
	    &cause), -1);
	assert_string_equal(cause, "/nonexistent/x.conf: No such file or "
	    "directory");
	free(cause);
	options_free(ftab, &cfg);
}

static void
options_dump__prints_every_value_by_section_and_hides_secrets(void **state)
{
	struct cfg cfg;
	struct buf b;
	char *err = load_text("[server]\ntoken_file = /secret/path\n"
	    "debug = yes\n[store]\nmax_body = 512k\nretention = 15m\n", &cfg);

	assert_null(err);
	buf_init(&b);
	options_dump(ftab, &cfg, &b);
	assert_string_equal(b.data,
	    "[server]\n"
	    "name = relay\n"
	    "threads = 4\n"
	    "token_file = (hidden)\n"
	    "debug = true\n"
	    "\n"
	    "[store]\n"
	    "max_body = 524288\n"
	    "retention = 900s\n"
	    "phone_number_id =\n"
	    "\n"
	    "[log]\n"
	    "level = info\n");
	buf_free(&b);
	options_free(ftab, &cfg);
}

static void
options_help__lists_each_key_with_its_first_help_line_and_default(
    void **state)
{
	struct buf b;

	buf_init(&b);
	options_help(ftab, &b);
	assert_string_equal(b.data,
	    "  server.name                Name shown in log lines. [relay]\n"
	    "  server.threads             HTTP threads. [4]\n"
	    "  server.token_file          File holding the agent token.\n"
	    "  server.debug               Log every request. [off]\n"
	    "  store.max_body             Largest request body accepted. [4M]\n"
	    "  store.retention            How long raw bodies are kept. [30d]\n"
	    "  store.phone_number_id      An optional key with an example.\n"
	    "  log.level                  Least severe message written. [info]\n");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(options_parse_size__reads_plain_bytes),
		cmocka_unit_test(options_parse_size__scales_k_m_g_by_powers_of_1024),
		cmocka_unit_test(options_parse_size__rejects_overflow),
		cmocka_unit_test(options_parse_size__rejects_signs),
		cmocka_unit_test(options_parse_size__rejects_junk_and_unknown_suffixes),
		cmocka_unit_test(options_parse_size__rejects_a_sign_hidden_behind_whitespace),
		cmocka_unit_test(options_parse_duration__reads_seconds_minutes_hours_and_days),
		cmocka_unit_test(options_parse_duration__rejects_junk_signs_and_overflow),
		cmocka_unit_test(options_parse_bool__accepts_every_spelling_in_any_case),
		cmocka_unit_test(options_parse_bool__rejects_anything_else),
		cmocka_unit_test(options_set__stores_each_type_at_its_offset),
		cmocka_unit_test(options_set__replaces_a_string_without_leaking),
		cmocka_unit_test(options_set__rejects_an_int_out_of_range_with_exact_message),
		cmocka_unit_test(options_set__range_checks_sizes_and_durations_after_scaling),
		cmocka_unit_test(options_set__rejects_an_int_that_is_not_a_whole_number),
		cmocka_unit_test(options_set__rejects_a_bad_size_with_exact_message),
		cmocka_unit_test(options_set__rejects_a_bad_duration_with_exact_message),
		cmocka_unit_test(options_set__rejects_a_bad_bool_with_exact_message),
		cmocka_unit_test(options_set__accepts_each_enum_choice),
		cmocka_unit_test(options_set__rejects_anything_but_a_whole_enum_choice),
		cmocka_unit_test(options_find__matches_exact_and_wildcard_sections),
		cmocka_unit_test(options_defaults__sets_optional_keys_and_leaves_required_ones),
		cmocka_unit_test(options_free__frees_every_string_and_clears_it),
		cmocka_unit_test(options_check_required__names_the_section_and_the_missing_key),
		cmocka_unit_test(options_sample__writes_help_comments_and_commented_defaults),
		cmocka_unit_test(options_sample__writes_required_examples_uncommented),
		cmocka_unit_test(options_sample__writes_an_enum_default),
		cmocka_unit_test(options_sample__writes_only_the_header_for_an_unknown_section),
		cmocka_unit_test(options_load_file__sets_defaults_then_the_files_values),
		cmocka_unit_test(options_load_file__lets_a_section_appear_twice),
		cmocka_unit_test(options_load_file__names_file_and_line_of_each_error),
		cmocka_unit_test(options_load_file__requires_the_required_keys),
		cmocka_unit_test(options_load_file__says_when_the_file_cannot_be_read),
		cmocka_unit_test(options_dump__prints_every_value_by_section_and_hides_secrets),
		cmocka_unit_test(options_help__lists_each_key_with_its_first_help_line_and_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
