/*
 * The relay's media pieces that need no network: which ids may name a
 * file, where the access token may go, and how a file reaches its name.
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

#include "relay/config.h"
#include "relay/graphmedia.h"
#include "relay/media.h"

static void
media_id_valid__takes_meta_and_upload_ids_only(void **state)
{
	static const char *good[] = { "1479537139650973", "up0123456789abcdef"
		"0123456789abcdef", "a_b-C", NULL };
	static const char *bad[] = { "", ".", "..", "../x", "a/b", "a.b",
		"a b", "a\n", "%2e", "{id}", "\xc3\xa9", "~", NULL };
	char longest[130];

	(void)state;
	for (size_t i = 0; good[i] != NULL; i++)
		assert_true(media_id_valid(good[i]));
	for (size_t i = 0; bad[i] != NULL; i++)
		assert_false(media_id_valid(bad[i]));
	assert_false(media_id_valid(NULL));
	memset(longest, '7', 128);
	longest[128] = '\0';
	assert_true(media_id_valid(longest));
	longest[128] = '7';
	longest[129] = '\0';
	assert_false(media_id_valid(longest));
}

static void
media_upload_id__is_up_and_32_lowercase_hex(void **state)
{
	(void)state;
	assert_true(media_upload_id("up0123456789abcdef0123456789abcdef"));
	assert_false(media_upload_id("up0123456789ABCDEF0123456789abcdef"));
	assert_false(media_upload_id("up0123456789abcdef0123456789abcde"));
	assert_false(media_upload_id("up0123456789abcdef0123456789abcdef0"));
	assert_false(media_upload_id("xx0123456789abcdef0123456789abcdef"));
	assert_false(media_upload_id("1479537139650973"));
	assert_false(media_upload_id(NULL));
}

static int
allowed(const char *graph_url, const char *url)
{
	struct relay_config cfg;
	char *cause = NULL;
	int rc;

	memset(&cfg, 0, sizeof cfg);
	cfg.graph_url = (char *)graph_url;
	rc = graphmedia_url_allowed(&cfg, url, &cause);
	assert_true(rc == 0 ? cause == NULL : cause != NULL);
	free(cause);
	return rc == 0;
}

static void
graphmedia_url_allowed__sends_the_token_to_graph_or_meta_only(void **state)
{
	static const char graph[] = "https://graph.facebook.com";

	(void)state;
	assert_true(allowed(graph, "https://lookaside.fbsbx.com/whatsapp_"
	    "business/attachments/?mid=1&ext=2&hash=3"));
	assert_true(allowed(graph, "https://LOOKASIDE.FBSBX.COM/x"));
	assert_true(allowed(graph, "https://graph.facebook.com/x"));
	assert_true(allowed(graph, "https://scontent.whatsapp.net/x"));
	assert_true(allowed(graph, "https://fbsbx.com/x"));
	/* Look-alikes, other hosts, other schemes. */
	assert_false(allowed(graph, "https://evilfbsbx.com/x"));
	assert_false(allowed(graph, "https://fbsbx.com.evil.example/x"));
	assert_false(allowed(graph, "https://example.com/x"));
	assert_false(allowed(graph, "https://127.0.0.1/x"));
	assert_false(allowed(graph, "http://lookaside.fbsbx.com/x"));
	assert_false(allowed(graph, "ftp://lookaside.fbsbx.com/x"));
	assert_false(allowed(graph, "https://user@evil.example/x"));
	assert_false(allowed(graph, "not a url"));
	/* A simulator on loopback: its own host, over its own scheme. */
	assert_true(allowed("https://localhost:9443", "https://localhost:9443/"
	    "whatsapp_business/attachments/?mid=1"));
	assert_true(allowed("http://127.0.0.1:9443", "http://127.0.0.1:1/x"));
	assert_false(allowed("https://localhost:9443", "http://localhost:9443/"
	    "x"));
	assert_false(allowed("http://127.0.0.1:9443", "http://localhost/x"));
}

static void
media_commit_file__renames_a_private_file_into_place(void **state)
{
	char dir[] = "/tmp/glivi-media-test-XXXXXX", *tmp = NULL, *cause = NULL;
	char *path, buf[16];
	struct relay_config cfg;
	struct stat sb;
	FILE *f;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&cfg, 0, sizeof cfg);
	cfg.data_dir = dir;
	assert_int_equal(media_init(&cfg, &cause), 0);
	/* A temporary file a crash left is removed at the next start. */
	fd = media_tempfile(&cfg, &tmp, &cause);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(media_init(&cfg, &cause), 0);
	assert_int_equal(stat(tmp, &sb), -1);
	free(tmp);

	fd = media_tempfile(&cfg, &tmp, &cause);
	assert_true(fd >= 0);
	assert_non_null(strstr(tmp, "/media/.tmp."));
	assert_int_equal(write(fd, "bytes", 5), 5);
	assert_int_equal(media_commit_file(&cfg, fd, tmp, "12345", &cause), 0);
	assert_int_equal(stat(tmp, &sb), -1);
	path = media_path(&cfg, "12345");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof buf, f), 5);
	assert_memory_equal(buf, "bytes", 5);
	fclose(f);
	unlink(path);
	free(path);
	free(tmp);
	path = media_path(&cfg, "");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	rmdir(path);
	free(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(media_id_valid__takes_meta_and_upload_ids_only),
		cmocka_unit_test(media_upload_id__is_up_and_32_lowercase_hex),
		cmocka_unit_test(
		    graphmedia_url_allowed__sends_the_token_to_graph_or_meta_only),
		cmocka_unit_test(
		    media_commit_file__renames_a_private_file_into_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
