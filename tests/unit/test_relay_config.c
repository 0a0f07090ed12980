/*
 * glivi-relay.conf loading: the sample loads, every error names its line,
 * and the cross-key rules hold (plain HTTP only on loopback, numbers unique).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/netaddr.h"
#include "core/xalloc.h"
#include "relay/config.h"

static char *
write_config(const char *text)
{
	char *path = xstrdup("/tmp/glivi-config-XXXXXX");
	int fd = mkstemp(path);
	size_t n = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
	return path;
}

/* Loads text; returns the error with the temp path replaced by "F". */
static char *
load_error(const char *text)
{
	struct relay_config cfg;
	char *path = write_config(text), *cause = NULL, *out;
	size_t plen = strlen(path);

	if (relay_config_load(path, &cfg, &cause) == 0) {
		relay_config_free(&cfg);
		unlink(path);
		free(path);
		return NULL;
	}
	assert_non_null(cause);
	assert_memory_equal(cause, path, plen);
	out = xasprintf("F%s", cause + plen);
	free(cause);
	unlink(path);
	free(path);
	return out;
}

#define GOOD_META "[meta]\napp_secret_file = /s\nverify_token_file = /v\n"
#define GOOD_NUMBER "[number.main]\nphone_number_id = 1\n"
#define GOOD_TLS "[server]\ntls_cert = /c\ntls_key = /k\n"

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
config__sample_file_loads(void **state)
{
	struct relay_config cfg;
	struct buf b;
	char *path, *cause = NULL;

	(void)state;
	buf_init(&b);
	relay_config_sample(&b);
	path = write_config(b.data);
	if (relay_config_load(path, &cfg, &cause) != 0)
		fail_msg("%s", cause);
	assert_string_equal(cfg.listen, "127.0.0.1:8443");
	assert_string_equal(cfg.graph_version, "v25.0");
	assert_int_equal(cfg.max_body, 4 * 1024 * 1024);
	assert_int_equal(cfg.raw_retention, 30 * 86400);
	assert_int_equal(cfg.nnumbers, 1);
	assert_string_equal(cfg.numbers[0].name, "main");
	relay_config_free(&cfg);
	unlink(path);
	free(path);
	buf_free(&b);
}

static void
config__unknown_key_names_file_line_and_key(void **state)
{
	(void)state;
	expect_error(GOOD_TLS "colour = blue\n" GOOD_META GOOD_NUMBER,
	    "F:4: unknown key 'colour' in [server]");
}

static void
config__bad_values_name_their_line(void **state)
{
	(void)state;
	expect_error("[server]\nplain_http = maybe\n",
	    "F:2: plain_http: expected true or false, got 'maybe'");
	expect_error("[server]\nmax_body = 12q\n",
	    "F:2: max_body: expected a size like 512k or 4M, got '12q'");
	expect_error("[server]\nthreads = 0\n",
	    "F:2: threads: 0 is out of range (1 to 64)");
	expect_error("[store]\nraw_retention = forever\n",
	    "F:2: raw_retention: expected a duration like 30s, 15m, 12h or "
	    "30d, got 'forever'");
	expect_error("[nope]\n", "F:1: unknown section [nope]");
	expect_error("listen = x\n", "F:1: 'listen' is outside any [section]");
	expect_error("[server]\nlisten = 1.2.3.4:1\nlisten = 1.2.3.4:2\n",
	    "F:3: 'listen' is set twice in [server]");
}

static void
config__numbers_are_unique_and_complete(void **state)
{
	(void)state;
	expect_error(GOOD_TLS GOOD_META "[number.a]\nphone_number_id = 7\n"
	    "[number.b]\nphone_number_id = 7\n",
	    "F:10: phone_number_id 7 is served by [number.a] already");
	expect_error(GOOD_TLS GOOD_META "[number.a]\nwaba_id = 7\n",
	    "F: [number.a] needs 'phone_number_id'");
	expect_error(GOOD_TLS GOOD_META,
	    "F: no [number.NAME] section: the relay would serve no business "
	    "number");
	expect_error(GOOD_TLS GOOD_META "[number.a]\ncolour = 1\n",
	    "F:8: unknown key 'colour' in [number.a]");
}

static void
config__plain_http_only_on_loopback(void **state)
{
	char *ok;

	(void)state;
	expect_error("[server]\nlisten = 0.0.0.0:8443\nplain_http = true\n"
	    GOOD_META GOOD_NUMBER,
	    "F: plain_http = true needs a loopback listen address (127.0.0.1, "
	    "::1); '0.0.0.0:8443' is not one. Put a TLS proxy in front or "
	    "configure tls_cert and tls_key");
	ok = load_error("[server]\nlisten = [::1]:8080\nplain_http = true\n"
	    GOOD_META GOOD_NUMBER);
	assert_null(ok);
	expect_error("[server]\nlisten = 127.0.0.1:1\n" GOOD_META GOOD_NUMBER,
	    "F: [server] needs tls_cert and tls_key (or plain_http = true on "
	    "a loopback address)");
}

static void
config__meta_secrets_are_required(void **state)
{
	(void)state;
	expect_error(GOOD_TLS "[meta]\napp_secret_file = /s\n" GOOD_NUMBER,
	    "F: [meta] needs 'verify_token_file'");
}

static void
listen_parse__accepts_v4_v6_and_localhost_and_tells_loopback(void **state)
{
	static const struct {
		const char *in, *host;
		unsigned port;
		int loopback;
	} ok[] = {
		{ "127.0.0.1:8443", "127.0.0.1", 8443, 1 },
		{ "127.9.9.9:1", "127.9.9.9", 1, 1 },
		{ "0.0.0.0:443", "0.0.0.0", 443, 0 },
		{ "[::1]:0", "::1", 0, 1 },
		{ "[::]:443", "::", 443, 0 },
		{ "localhost:80", "localhost", 80, 1 },
	};
	static const char *bad[] = { "127.0.0.1", ":80", "1.2.3.4:", "x:1",
		"1.2.3.4:65536", "[::1:80", "1.2.3.4:8o", "example.com:443" };
	char *host, *cause;
	unsigned port;
	int loopback;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		cause = NULL;
		if (netaddr_parse(ok[i].in, &host, &port, &loopback,
		    &cause) != 0)
			fail_msg("%s: %s", ok[i].in, cause);
		assert_string_equal(host, ok[i].host);
		assert_int_equal(port, ok[i].port);
		assert_int_equal(loopback, ok[i].loopback);
		free(host);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		assert_int_equal(netaddr_parse(bad[i], &host, &port,
		    &loopback, &cause), -1);
		assert_non_null(strstr(cause, bad[i]));
		free(cause);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config__sample_file_loads),
		cmocka_unit_test(config__unknown_key_names_file_line_and_key),
		cmocka_unit_test(config__bad_values_name_their_line),
		cmocka_unit_test(config__numbers_are_unique_and_complete),
		cmocka_unit_test(config__plain_http_only_on_loopback),
		cmocka_unit_test(config__meta_secrets_are_required),
		cmocka_unit_test(
		    listen_parse__accepts_v4_v6_and_localhost_and_tells_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
