/*
 * Meta's media rules and the parser of Graph's media answer, which comes
 * from outside: every malformed member is refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/hmac.h"
#include "core/wamedia.h"

static void
wamedia_kind_of__knows_meta_types_ignoring_case_and_parameters(void **state)
{
	(void)state;
	assert_int_equal(wamedia_kind_of("image/jpeg"), WAMEDIA_IMAGE);
	assert_int_equal(wamedia_kind_of("IMAGE/PNG"), WAMEDIA_IMAGE);
	assert_int_equal(wamedia_kind_of("audio/ogg; codecs=opus"),
	    WAMEDIA_AUDIO);
	assert_int_equal(wamedia_kind_of("image/webp"), WAMEDIA_STICKER);
	assert_int_equal(wamedia_kind_of("video/3gpp"), WAMEDIA_VIDEO);
	assert_int_equal(wamedia_kind_of("application/pdf"), WAMEDIA_DOCUMENT);
	assert_int_equal(wamedia_kind_of("application/vnd.openxmlformats-"
	    "officedocument.spreadsheetml.sheet"), WAMEDIA_DOCUMENT);
}

static void
wamedia_kind_of__refuses_unknown_and_malformed_types(void **state)
{
	static const char *bad[] = { "image/gif", "application/zip",
		"image/jpegx", "image/jpe", "image", "/jpeg", "image/", "",
		" image/jpeg", "image/jpeg\r\nX: y", "text/plain/x",
		"application/octet-stream", NULL };

	(void)state;
	for (size_t i = 0; bad[i] != NULL; i++)
		assert_int_equal(wamedia_kind_of(bad[i]), WAMEDIA_NONE);
	assert_int_equal(wamedia_kind_of(NULL), WAMEDIA_NONE);
}

static void
wamedia_max_size__follows_meta_limits_per_kind(void **state)
{
	(void)state;
	assert_int_equal(wamedia_max_size(WAMEDIA_IMAGE), 5 * WAMEDIA_MB);
	assert_int_equal(wamedia_max_size(WAMEDIA_VIDEO), 16 * WAMEDIA_MB);
	assert_int_equal(wamedia_max_size(WAMEDIA_AUDIO), 16 * WAMEDIA_MB);
	assert_int_equal(wamedia_max_size(WAMEDIA_DOCUMENT), 100 * WAMEDIA_MB);
	assert_int_equal(wamedia_max_size(WAMEDIA_STICKER), 500 * 1024);
	assert_int_equal(wamedia_max_size(WAMEDIA_NONE), 0);
}

static void
wamedia_type_accepts__matches_message_type_and_file(void **state)
{
	(void)state;
	assert_true(wamedia_type_accepts("image", "image/png"));
	assert_false(wamedia_type_accepts("image", "image/webp"));
	assert_true(wamedia_type_accepts("sticker", "image/webp"));
	assert_false(wamedia_type_accepts("sticker", "image/png"));
	assert_true(wamedia_type_accepts("document", "image/jpeg"));
	assert_true(wamedia_type_accepts("document", "text/plain"));
	assert_false(wamedia_type_accepts("document", "application/zip"));
	assert_false(wamedia_type_accepts("audio", "video/mp4"));
	assert_true(wamedia_type_accepts("audio", "audio/ogg; codecs=opus"));
	assert_false(wamedia_type_accepts(NULL, "image/png"));
}

static void
wamedia_supported__lists_every_type(void **state)
{
	char *s = wamedia_supported();

	(void)state;
	assert_non_null(strstr(s, "image/jpeg, image/png"));
	assert_non_null(strstr(s, "video/3gpp"));
	assert_non_null(strstr(s, "audio/aac"));
	free(s);
}

static void
wamedia_mime_valid__refuses_what_could_break_a_header(void **state)
{
	static const char *good[] = { "image/jpeg", "audio/ogg; codecs=opus",
		"text/plain;charset=utf-8", "application/vnd.ms-excel",
		"x-custom/x.y+z", NULL };
	static const char *bad[] = { "", "jpeg", "image/", "/x",
		"image/jpeg\r\nSet-Cookie: a=b", "image/jpeg\n", "image/jpeg x",
		"image/j\xc3\xa9", "image /jpeg", "image/jpeg\t", "\"a\"/b",
		NULL };
	char big[300];

	(void)state;
	for (size_t i = 0; good[i] != NULL; i++)
		assert_true(wamedia_mime_valid(good[i]));
	for (size_t i = 0; bad[i] != NULL; i++)
		assert_false(wamedia_mime_valid(bad[i]));
	assert_false(wamedia_mime_valid(NULL));
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	big[5] = '/';
	assert_false(wamedia_mime_valid(big));
}

static void
wamedia_sha256_decode__reads_hex_and_base64_alike(void **state)
{
	unsigned char want[32], got[32];
	char hex[65];

	(void)state;
	sha256("abc", 3, want);
	hex_encode(want, 32, hex);
	assert_int_equal(wamedia_sha256_decode(hex, got), 0);
	assert_memory_equal(got, want, 32);
	for (char *p = hex; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(wamedia_sha256_decode(hex, got), 0);
	assert_memory_equal(got, want, 32);
	memset(got, 0, 32);
	assert_int_equal(wamedia_sha256_decode(
	    "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=", got), 0);
	assert_memory_equal(got, want, 32);
	memset(got, 0, 32);
	assert_int_equal(wamedia_sha256_decode(
	    "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0", got), 0);
	assert_memory_equal(got, want, 32);
}

static void
wamedia_sha256_decode__refuses_malformed_digests(void **state)
{
	static const char *bad[] = { "", "abc",
		/* 63 and 65 hex digits */
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
		/* a non-hex digit */
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag",
		/* base64 with a bad character, wrong padding, stray bits */
		"ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0!",
		"ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0A",
		"ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa1=",
		"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0=",
		NULL };
	unsigned char got[32];

	(void)state;
	for (size_t i = 0; bad[i] != NULL; i++)
		assert_int_equal(wamedia_sha256_decode(bad[i], got), -1);
	assert_int_equal(wamedia_sha256_decode(NULL, got), -1);
}

static int
parse(const char *json, struct wamedia_info *info, const char **why)
{
	return wamedia_info_parse(json, strlen(json), info, why);
}

static void
wamedia_info_parse__reads_meta_example(void **state)
{
	struct wamedia_info info;
	const char *why = NULL;

	(void)state;
	assert_int_equal(parse("{\"messaging_product\":\"whatsapp\",\"url\":"
	    "\"https:\\/\\/lookaside.fbsbx.com\\/whatsapp_business\\/"
	    "attachments\\/?mid=1&ext=2&hash=3\",\"mime_type\":\"image/jpeg\","
	    "\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb41"
	    "0ff61f20015ad\",\"file_size\":\"303833\",\"id\":"
	    "\"2621233374848975\"}", &info, &why), 0);
	assert_string_equal(info.url, "https://lookaside.fbsbx.com/"
	    "whatsapp_business/attachments/?mid=1&ext=2&hash=3");
	assert_string_equal(info.mime_type, "image/jpeg");
	assert_string_equal(info.id, "2621233374848975");
	assert_int_equal(info.file_size, 303833);
	assert_true(info.has_sha256);
	assert_int_equal(info.sha256[0], 0xba);
	wamedia_info_free(&info);

	/* file_size as a number, id as a number, no sha256 or mime. */
	assert_int_equal(parse("{\"url\":\"http://127.0.0.1:1/x\",\"file_size\":"
	    "12,\"id\":42,\"sha256\":null}", &info, &why), 0);
	assert_int_equal(info.file_size, 12);
	assert_string_equal(info.id, "42");
	assert_false(info.has_sha256);
	assert_null(info.mime_type);
	wamedia_info_free(&info);
}

static void
wamedia_info_parse__refuses_hostile_answers(void **state)
{
	static const char *bad[] = {
		"", "null", "[]", "\"https://x\"", "{", "{}",
		"{\"url\":42}",
		"{\"url\":\"ftp://example.com/x\"}",
		"{\"url\":\"file:///etc/passwd\"}",
		"{\"url\":\"https://a b\"}",
		"{\"url\":\"https://a\\r\\nHost: evil\"}",
		"{\"url\":\"https://a/\\u00e9\"}",
		"{\"url\":\"https://a\",\"mime_type\":\"image/jpeg\\r\\nX: y\"}",
		"{\"url\":\"https://a\",\"mime_type\":7}",
		"{\"url\":\"https://a\",\"sha256\":\"nope\"}",
		"{\"url\":\"https://a\",\"sha256\":[1]}",
		"{\"url\":\"https://a\",\"file_size\":-1}",
		"{\"url\":\"https://a\",\"file_size\":\"12x\"}",
		"{\"url\":\"https://a\",\"file_size\":\"99999999999999999999\"}",
		"{\"url\":\"https://a\",\"file_size\":1e300}",
		"{\"url\":\"https://a\",\"id\":{}}",
		NULL };
	struct wamedia_info info;
	const char *why;

	(void)state;
	for (size_t i = 0; bad[i] != NULL; i++) {
		why = NULL;
		assert_int_equal(parse(bad[i], &info, &why), -1);
		assert_non_null(why);
		assert_null(info.url);
	}
	assert_int_equal(wamedia_info_parse(NULL, 0, &info, &why), -1);
}

static void
wamedia_info_parse__refuses_overlong_url(void **state)
{
	struct wamedia_info info;
	const char *why;
	size_t n = 5000;
	char *json = malloc(n + 32), *p = json;

	(void)state;
	p += sprintf(p, "{\"url\":\"https://");
	memset(p, 'a', n);
	p += n;
	strcpy(p, "\"}");
	assert_int_equal(parse(json, &info, &why), -1);
	free(json);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    wamedia_kind_of__knows_meta_types_ignoring_case_and_parameters),
		cmocka_unit_test(
		    wamedia_kind_of__refuses_unknown_and_malformed_types),
		cmocka_unit_test(wamedia_max_size__follows_meta_limits_per_kind),
		cmocka_unit_test(
		    wamedia_type_accepts__matches_message_type_and_file),
		cmocka_unit_test(wamedia_supported__lists_every_type),
		cmocka_unit_test(
		    wamedia_mime_valid__refuses_what_could_break_a_header),
		cmocka_unit_test(
		    wamedia_sha256_decode__reads_hex_and_base64_alike),
		cmocka_unit_test(
		    wamedia_sha256_decode__refuses_malformed_digests),
		cmocka_unit_test(wamedia_info_parse__reads_meta_example),
		cmocka_unit_test(wamedia_info_parse__refuses_hostile_answers),
		cmocka_unit_test(wamedia_info_parse__refuses_overlong_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
