/*
 * glivi-tui.conf: the repository's sample is the options table's, errors
 * name file and line, the relay URL and token rules hold, and the token is
 * read the way config.h promises.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/config.h"
#include "core/buf.h"
#include "core/secret.h"
#include "core/xalloc.h"

/* Files the tests write; removed at the end of each test. */
static char *made[64];
static size_t nmade;

static char *
write_file(const char *text, mode_t mode)
{
	char *path = xstrdup("/tmp/glivi-tui-conf-XXXXXX");
	int fd = mkstemp(path);
	size_t n = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	assert_true(nmade < sizeof made / sizeof made[0]);
	made[nmade++] = path;
	return path;
}

static int
cleanup(void **state)
{
	(void)state;
	for (size_t i = 0; i < nmade; i++) {
		unlink(made[i]);
		free(made[i]);
	}
	nmade = 0;
	return 0;
}

/* Loads text; on failure returns the cause with the path shown as "F". */
static char *
load_error(const char *text)
{
	struct client_config cfg;
	char *path = write_file(text, 0600), *cause = NULL, *out, *at;
	size_t plen = strlen(path);

	if (client_config_load(path, 1, &cfg, &cause) == 0) {
		client_config_free(&cfg);
		return NULL;
	}
	assert_non_null(cause);
	at = strstr(cause, path);
	if (at == NULL)
		fail_msg("the cause does not name the file: %s", cause);
	out = xasprintf("%.*sF%s", (int)(at - cause), cause, at + plen);
	free(cause);
	return out;
}

static void
expect_error(const char *text, const char *want)
{
	char *got = load_error(text);

	if (got == NULL)
		fail_msg("expected '%s', but the config loaded", want);
	assert_string_equal(got, want);
	free(got);
}

static void
load_ok(const char *text, struct client_config *cfg)
{
	char *path = write_file(text, 0600), *cause = NULL;

	if (client_config_load(path, 1, cfg, &cause) != 0)
		fail_msg("%s", cause);
}

#define RELAY "[relay]\nurl = https://relay.test:8443\n"
#define TOKEN "token_file = /run/glivi/token\n"

static char *
read_source_file(const char *name)
{
	const char *src = getenv("GLIVI_SOURCE");
	char *path, *data;
	FILE *f;
	struct buf b;
	char chunk[4096];
	size_t n;

	if (src == NULL || *src == '\0')
		src = GLIVI_SOURCE_DIR;
	path = xasprintf("%s/%s", src, name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	free(path);
	data = buf_steal(&b);
	return data;
}

static void
client_config_sample__is_the_repositorys_glivi_tui_conf(void **state)
{
	struct buf b;
	char *file = read_source_file("glivi-tui.conf");

	(void)state;
	buf_init(&b);
	client_config_sample(&b);
	if (strcmp(file, b.data) != 0)
		fail_msg("glivi-tui.conf is out of step with the options "
		    "table; regenerate it with 'glivi-tui sample-config > "
		    "glivi-tui.conf'");
	buf_free(&b);
	free(file);
}

static void
client_config_sample__loads_once_a_token_is_set(void **state)
{
	struct client_config cfg;
	struct buf b;

	(void)state;
	buf_init(&b);
	client_config_sample(&b);
	buf_adds(&b, "[relay]\n");
	/* The sample's only section after [log] is repeated: allowed. */
	buf_adds(&b, TOKEN);
	load_ok(b.data, &cfg);
	assert_string_equal(cfg.url, "https://relay.example.com:8443");
	assert_int_equal(cfg.connect_timeout, 10);
	assert_int_equal(cfg.request_timeout, 60);
	assert_int_equal(cfg.heartbeat_timeout, 50);
	assert_int_equal(cfg.page_size, 1000);
	assert_int_equal(cfg.retry_max, 300);
	assert_string_equal(cfg.log_level, "warn");
	assert_null(cfg.token_command);
	assert_non_null(cfg.path);
	client_config_free(&cfg);
	buf_free(&b);
}

static void
client_config_load__names_file_and_line_of_each_error(void **state)
{
	(void)state;
	expect_error(RELAY TOKEN "colour = blue\n",
	    "F:4: unknown key 'colour' in [relay]");
	expect_error(RELAY TOKEN "[colours]\nred = 1\n",
	    "F:4: unknown section [colours]");
	expect_error(RELAY TOKEN "connect_timeout = 10x\n",
	    "F:4: connect_timeout: expected a duration like 30s, 15m, 12h or "
	    "30d, got '10x'");
	expect_error(RELAY TOKEN "connect_timeout = 11m\n",
	    "F:4: connect_timeout: 660 is out of range (1 to 600)");
	expect_error(RELAY TOKEN "url = https://other.test\n",
	    "F:4: 'url' is set twice in [relay]");
	expect_error(RELAY TOKEN "[sync]\npage_size = 10\n[sync]\n"
	    "page_size = 20\n", "F:7: 'page_size' is set twice in [sync]");
	expect_error("url = https://a\n", "F:1: 'url' is outside any [section]");
	expect_error(RELAY TOKEN "[log]\nlevel = loud\n",
	    "F:5: level: expected one of debug|info|warn|error, got 'loud'");
}

static void
client_config_load__needs_a_url(void **state)
{
	(void)state;
	expect_error("[relay]\n" TOKEN, "F: [relay] needs 'url'");
	expect_error("", "F: [relay] needs 'url'");
}

static void
client_config_load__needs_exactly_one_way_to_the_token(void **state)
{
	(void)state;
	expect_error(RELAY TOKEN "token_command = pass show glivi\n",
	    "F: [relay] has both token_file and token_command; keep one");
	expect_error(RELAY, "F: [relay] needs token_file or token_command");
}

static void
expect_url_refused(const char *url)
{
	char *text = xasprintf("[relay]\nurl = %s\n" TOKEN, url);
	char *got = load_error(text);

	if (got == NULL)
		fail_msg("url %s was accepted", url);
	if (strstr(got, url) == NULL)
		fail_msg("the cause does not name the url: %s", got);
	free(got);
	free(text);
}

static void
expect_url(const char *url, const char *want)
{
	char *text = xasprintf("[relay]\nurl = %s\n" TOKEN, url);
	struct client_config cfg;

	load_ok(text, &cfg);
	assert_string_equal(cfg.url, want);
	client_config_free(&cfg);
	free(text);
}

static void
client_config_load__refuses_plain_http_to_a_host_not_on_loopback(void **state)
{
	static const char *bad[] = {
		"http://relay.example.com:8080",
		"http://10.0.0.1:8080",
		"http://0.0.0.0:8080",
		"http://[::10]:8080",
		/* Names that only start like loopback. */
		"http://127.example.com",
		"http://127.0.0.1.example.com:8080",
		"http://localhost.example.com",
		"http://localhostile:8080",
		"http://[::1].example.com",
		"http://127.0.0.1:80x",
		/* Loopback as user info: curl connects to the host after @. */
		"http://127.0.0.1@example.com",
		"http://localhost:8080@example.com/",
		"http://[::1]@example.com",
		/* Not HTTP at all. */
		"ftp://relay.example.com",
		"relay.example.com:8443",
		"HTTPS://relay.example.com",
		NULL
	};

	(void)state;
	for (size_t i = 0; bad[i] != NULL; i++)
		expect_url_refused(bad[i]);
}

static void
client_config_load__takes_https_anywhere_and_http_on_loopback(void **state)
{
	(void)state;
	expect_url("https://relay.example.com:8443",
	    "https://relay.example.com:8443");
	expect_url("http://127.0.0.1:8443", "http://127.0.0.1:8443");
	expect_url("http://127.0.0.1", "http://127.0.0.1");
	expect_url("http://127.1.2.3:80", "http://127.1.2.3:80");
	expect_url("http://localhost:8443", "http://localhost:8443");
	expect_url("http://[::1]:8443", "http://[::1]:8443");
	expect_url("http://127.0.0.1:8443/glivi", "http://127.0.0.1:8443/glivi");
}

static void
client_config_load__strips_trailing_slashes_from_the_url(void **state)
{
	(void)state;
	expect_url("https://relay.example.com:8443/",
	    "https://relay.example.com:8443");
	expect_url("https://relay.example.com//", "https://relay.example.com");
	expect_url("https://relay.example.com/glivi/",
	    "https://relay.example.com/glivi");
	expect_url("http://127.0.0.1:8443/", "http://127.0.0.1:8443");
}

/* Environment variables the tests change, put back afterwards. */
struct saved_env {
	char *home, *xdg_data, *xdg_config;
};

static char *
dup_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL ? xstrdup(v) : NULL;
}

static void
put_env(const char *name, char *v)
{
	if (v != NULL)
		setenv(name, v, 1);
	else
		unsetenv(name);
	free(v);
}

static struct saved_env
save_env(void)
{
	struct saved_env e = { dup_env("HOME"), dup_env("XDG_DATA_HOME"),
		dup_env("XDG_CONFIG_HOME") };

	return e;
}

static void
restore_env(struct saved_env e)
{
	put_env("HOME", e.home);
	put_env("XDG_DATA_HOME", e.xdg_data);
	put_env("XDG_CONFIG_HOME", e.xdg_config);
}

static char *
cache_dir_with(const char *text)
{
	struct client_config cfg;
	char *dir;

	load_ok(text, &cfg);
	dir = xstrdup(cfg.cache_dir);
	client_config_free(&cfg);
	return dir;
}

static void
client_config_load__puts_the_cache_under_xdg_data_home_or_home(void **state)
{
	struct saved_env e = save_env();
	char *dir;

	(void)state;
	setenv("HOME", "/home/alice", 1);
	setenv("XDG_DATA_HOME", "/srv/alice/data", 1);
	dir = cache_dir_with(RELAY TOKEN);
	assert_string_equal(dir, "/srv/alice/data/glivi-tui");
	free(dir);
	unsetenv("XDG_DATA_HOME");
	dir = cache_dir_with(RELAY TOKEN);
	assert_string_equal(dir, "/home/alice/.local/share/glivi-tui");
	free(dir);
	/* A relative XDG_DATA_HOME is invalid and ignored (XDG spec). */
	setenv("XDG_DATA_HOME", "data", 1);
	dir = cache_dir_with(RELAY TOKEN);
	assert_string_equal(dir, "/home/alice/.local/share/glivi-tui");
	free(dir);
	/* The file's [cache] dir wins. */
	dir = cache_dir_with(RELAY TOKEN "[cache]\ndir = /var/cache/g\n");
	assert_string_equal(dir, "/var/cache/g");
	free(dir);
	restore_env(e);
}

static void
client_config_default_path__follows_xdg_config_home_or_home(void **state)
{
	struct saved_env e = save_env();
	char *p;

	(void)state;
	setenv("HOME", "/home/alice", 1);
	setenv("XDG_CONFIG_HOME", "/etc/alice", 1);
	p = client_config_default_path();
	assert_string_equal(p, "/etc/alice/glivi-tui/glivi-tui.conf");
	free(p);
	unsetenv("XDG_CONFIG_HOME");
	p = client_config_default_path();
	assert_string_equal(p, "/home/alice/.config/glivi-tui/glivi-tui.conf");
	free(p);
	restore_env(e);
}

static void
client_config_load__says_which_file_is_missing_and_what_to_do(void **state)
{
	struct client_config cfg;
	char *cause = NULL;
	static const char missing[] = "/nonexistent/glivi/glivi-tui.conf";

	(void)state;
	/* Named with -c: that file is missing. */
	assert_int_equal(client_config_load(missing, 1, &cfg, &cause), -1);
	assert_string_equal(cause, "/nonexistent/glivi/glivi-tui.conf: No such "
	    "file or directory");
	free(cause);
	cause = NULL;
	/* The default: there is none yet, and how to make one. */
	assert_int_equal(client_config_load(missing, 0, &cfg, &cause), -1);
	assert_non_null(strstr(cause, "/nonexistent/glivi/glivi-tui.conf: no "
	    "configuration file"));
	assert_non_null(strstr(cause, "glivi-tui sample-config"));
	free(cause);
}

/* Loads a config whose token comes from the given [relay] line. */
static char *
token_with(const char *line, size_t *len, char **cause)
{
	struct client_config cfg;
	char *text = xasprintf("[relay]\nurl = https://relay.test\n%s\n",
	    line);
	char *t;

	load_ok(text, &cfg);
	free(text);
	t = client_config_token(&cfg, len, cause);
	client_config_free(&cfg);
	return t;
}

static void
client_config_token__reads_a_private_token_file(void **state)
{
	char *path = write_file("tok-abc123\n", 0600);
	char *line = xasprintf("token_file = %s", path), *t, *cause = NULL;
	size_t len = 0;

	(void)state;
	t = token_with(line, &len, &cause);
	if (t == NULL)
		fail_msg("%s", cause);
	assert_string_equal(t, "tok-abc123");
	assert_int_equal(len, 10);
	secret_free(t, len);
	free(line);
}

static void
client_config_token__refuses_a_token_file_others_can_read(void **state)
{
	char *path = write_file("tok-abc123\n", 0644);
	char *line = xasprintf("token_file = %s", path), *t, *cause = NULL;
	size_t len = 0;

	(void)state;
	t = token_with(line, &len, &cause);
	assert_null(t);
	assert_non_null(strstr(cause, "mode 0644"));
	assert_non_null(strstr(cause, path));
	free(cause);
	free(line);
}

static void
client_config_token__refuses_a_token_file_of_several_lines(void **state)
{
	char *path = write_file("tok-abc123\nsomething else\n", 0600);
	char *line = xasprintf("token_file = %s", path), *t, *cause = NULL;
	size_t len = 0;

	(void)state;
	t = token_with(line, &len, &cause);
	assert_null(t);
	assert_non_null(strstr(cause, "more than one line"));
	free(cause);
	free(line);
}

static void
client_config_token__takes_the_first_line_a_command_prints(void **state)
{
	char *t, *cause = NULL;
	size_t len = 0;

	(void)state;
	t = token_with("token_command = printf 'tok-xyz\\nsecond line\\n'",
	    &len, &cause);
	if (t == NULL)
		fail_msg("%s", cause);
	assert_string_equal(t, "tok-xyz");
	assert_int_equal(len, 7);
	secret_free(t, len);
	/* Output far past the buffer: still the first line, and no SIGPIPE
	 * turns the command into a failure. */
	t = token_with("token_command = echo tok-long; yes | head -c 100000",
	    &len, &cause);
	if (t == NULL)
		fail_msg("%s", cause);
	assert_string_equal(t, "tok-long");
	secret_free(t, len);
}

static void
client_config_token__fails_when_the_command_fails_or_prints_nothing(
    void **state)
{
	char *t, *cause = NULL;
	size_t len = 0;

	(void)state;
	t = token_with("token_command = echo tok; exit 3", &len, &cause);
	assert_null(t);
	assert_string_equal(cause, "token_command failed (exit status 3)");
	free(cause);
	cause = NULL;
	t = token_with("token_command = true", &len, &cause);
	assert_null(t);
	assert_string_equal(cause, "token_command printed no token");
	free(cause);
	cause = NULL;
	t = token_with("token_command = printf '\\nlater\\n'", &len, &cause);
	assert_null(t);
	assert_string_equal(cause, "token_command printed no token");
	free(cause);
}

static void
client_config_dump__shows_values_and_hides_the_token_command(void **state)
{
	struct client_config cfg;
	struct buf b;

	(void)state;
	load_ok("[relay]\nurl = https://relay.test\n"
	    "token_command = pass show glivi/alice\n"
	    "connect_timeout = 2m\n[log]\nlevel = debug\n", &cfg);
	buf_init(&b);
	client_config_dump(&cfg, &b);
	assert_null(strstr(b.data, "pass show"));
	assert_non_null(strstr(b.data, "\ntoken_command = (hidden)\n"));
	assert_non_null(strstr(b.data, "[relay]\nurl = https://relay.test\n"));
	assert_non_null(strstr(b.data, "\ntoken_file =\n"));
	assert_non_null(strstr(b.data, "\nconnect_timeout = 120s\n"));
	assert_non_null(strstr(b.data, "\n[log]\nlevel = debug\n"));
	assert_non_null(strstr(b.data, "\n[sync]\npage_size = 1000\n"));
	buf_free(&b);
	client_config_free(&cfg);
}

static void
client_config_help__lists_every_key_with_its_default(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	client_config_help(&b);
	assert_non_null(strstr(b.data, "  relay.url "));
	assert_non_null(strstr(b.data, "  relay.connect_timeout "));
	assert_non_null(strstr(b.data, "connect to the relay. [10s]\n"));
	assert_non_null(strstr(b.data, "  outbox.retry_max "));
	assert_non_null(strstr(b.data, "  log.level "));
	/* The url's value is an example, not a default: not shown. */
	assert_null(strstr(b.data, "[https://relay.example.com:8443]"));
	buf_free(&b);
}

#define T(f) cmocka_unit_test_teardown(f, cleanup)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(client_config_sample__is_the_repositorys_glivi_tui_conf),
		T(client_config_sample__loads_once_a_token_is_set),
		T(client_config_load__names_file_and_line_of_each_error),
		T(client_config_load__needs_a_url),
		T(client_config_load__needs_exactly_one_way_to_the_token),
		T(client_config_load__refuses_plain_http_to_a_host_not_on_loopback),
		T(client_config_load__takes_https_anywhere_and_http_on_loopback),
		T(client_config_load__strips_trailing_slashes_from_the_url),
		T(client_config_load__puts_the_cache_under_xdg_data_home_or_home),
		T(client_config_default_path__follows_xdg_config_home_or_home),
		T(client_config_load__says_which_file_is_missing_and_what_to_do),
		T(client_config_token__reads_a_private_token_file),
		T(client_config_token__refuses_a_token_file_others_can_read),
		T(client_config_token__refuses_a_token_file_of_several_lines),
		T(client_config_token__takes_the_first_line_a_command_prints),
		T(client_config_token__fails_when_the_command_fails_or_prints_nothing),
		T(client_config_dump__shows_values_and_hides_the_token_command),
		T(client_config_help__lists_every_key_with_its_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
