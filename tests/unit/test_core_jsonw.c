/*
 * The JSON text writer behind the relay's sync pages and answers: what it
 * writes must be exactly the JSON a tree library would print, with every
 * byte that needs escaping escaped, in keys too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/jsonw.h"

static void
jw__writes_members_arrays_and_commas(void **state)
{
	struct buf b;
	struct jw w;

	(void)state;
	buf_init(&b);
	jw_init(&w, &b);
	jw_object(&w, NULL);
	jw_string(&w, "a", "x");
	jw_array(&w, "list");
	jw_int(&w, NULL, 1);
	jw_null(&w, NULL);
	jw_object(&w, NULL);
	jw_object_end(&w);
	jw_array_end(&w);
	jw_bool(&w, "t", 1);
	jw_bool(&w, "f", 0);
	jw_raw(&w, "raw", "{\"k\":[1]}");
	jw_string(&w, "none", NULL);
	jw_object_end(&w);
	assert_string_equal(b.data, "{\"a\":\"x\",\"list\":[1,null,{}],"
	    "\"t\":true,\"f\":false,\"raw\":{\"k\":[1]},\"none\":null}");
	buf_free(&b);
}

static void
jw_int__writes_every_int64_as_printf_does(void **state)
{
	static const int64_t v[] = { 0, 7, -7, 10, -10, 1700000000,
		INT64_MAX, INT64_MIN, INT64_MIN + 1 };
	static const char *const want[] = { "0", "7", "-7", "10", "-10",
		"1700000000", "9223372036854775807", "-9223372036854775808",
		"-9223372036854775807" };

	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct buf b;
		struct jw w;

		buf_init(&b);
		jw_init(&w, &b);
		jw_int(&w, NULL, v[i]);
		assert_string_equal(b.data, want[i]);
		buf_free(&b);
	}
}

static void
jw_string__escapes_quotes_backslashes_and_controls_in_keys_and_values(
    void **state)
{
	/* Keys may come from outside too (a contact's attribute names). */
	static const char hostile[] = "a\"b\\c\n\x01\x1f\x7f\xc3\xa9";
	struct buf b;
	struct jw w;
	cJSON *o;

	(void)state;
	buf_init(&b);
	jw_init(&w, &b);
	jw_object(&w, NULL);
	jw_string(&w, hostile, hostile);
	jw_string(&w, "plain", "\t\b\f\r");
	jw_object_end(&w);
	assert_string_equal(b.data, "{\"a\\\"b\\\\c\\n\\u0001\\u001f\x7f"
	    "\xc3\xa9\":\"a\\\"b\\\\c\\n\\u0001\\u001f\x7f\xc3\xa9\","
	    "\"plain\":\"\\t\\b\\f\\r\"}");
	o = cJSON_Parse(b.data);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, hostile)->valuestring,
	    hostile);
	cJSON_Delete(o);
	buf_free(&b);
}

static void
jw_string__writes_long_and_empty_strings_whole(void **state)
{
	char *big = malloc(100001);
	struct buf b;
	struct jw w;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 100000);
	big[100000] = '\0';
	buf_init(&b);
	jw_init(&w, &b);
	jw_array(&w, NULL);
	jw_string(&w, NULL, "");
	jw_string(&w, NULL, big);
	jw_array_end(&w);
	assert_int_equal(b.len, 100000 + 7); /* [ "" , "…" ] */
	assert_memory_equal(b.data, "[\"\",\"xx", 7);
	assert_string_equal(b.data + b.len - 3, "x\"]");
	buf_free(&b);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jw__writes_members_arrays_and_commas),
		cmocka_unit_test(jw_int__writes_every_int64_as_printf_does),
		cmocka_unit_test(
		    jw_string__escapes_quotes_backslashes_and_controls_in_keys_and_values),
		cmocka_unit_test(jw_string__writes_long_and_empty_strings_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
