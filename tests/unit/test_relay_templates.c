/*
 * A page of Graph's template list is outside input: every shape it can
 * take is either used as Meta documents it or refused, entry by entry,
 * without costing the rest of the page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/jsonx.h"
#include "relay/templates.h"

static int
parse(const char *body, struct template_page *p, char **cause)
{
	*cause = NULL;
	return templates_parse_page(body, body ? strlen(body) : 0, p, cause);
}

static void
templates_parse_page__reads_metas_shape(void **state)
{
	struct template_page p;
	char *cause;

	(void)state;
	assert_int_equal(parse("{\"data\":[{\"name\":\"order_update\","
	    "\"parameter_format\":\"POSITIONAL\",\"components\":[{\"type\":"
	    "\"BODY\",\"text\":\"Hi {{1}}\"}],\"language\":\"en_US\","
	    "\"status\":\"APPROVED\",\"category\":\"UTILITY\",\"id\":"
	    "\"1192837465019284\",\"rejected_reason\":\"NONE\"}],\"paging\":"
	    "{\"cursors\":{\"before\":\"QVFI\",\"after\":\"QVFIU\"},\"next\":"
	    "\"https://graph.facebook.com/v25.0/1/message_templates?after=QVFIU"
	    "\"}}", &p, &cause), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.skipped, 0);
	assert_true(p.items[0].valid);
	assert_string_equal(p.items[0].id, "1192837465019284");
	assert_string_equal(p.items[0].name, "order_update");
	assert_string_equal(p.items[0].language, "en_US");
	assert_string_equal(p.items[0].status, "APPROVED");
	assert_string_equal(p.items[0].category, "UTILITY");
	assert_string_equal(p.items[0].parameter_format, "POSITIONAL");
	assert_null(p.items[0].reason); /* NONE is no reason */
	assert_string_equal(jx_str(cJSON_GetArrayItem(p.items[0].components,
	    0), "text"), "Hi {{1}}");
	/* The cursor is what is used, not the URL. */
	assert_string_equal(p.after, "QVFIU");
	templates_page_free(&p);

	/* Without "next" (or with a null one) it is the last page, whatever
	 * the cursors say; an empty list is a list. */
	assert_int_equal(parse("{\"data\":[],\"paging\":{\"cursors\":"
	    "{\"after\":\"X\"}}}", &p, &cause), 0);
	assert_int_equal(p.n, 0);
	assert_null(p.after);
	templates_page_free(&p);
	assert_int_equal(parse("{\"data\":[],\"paging\":{\"cursors\":"
	    "{\"after\":\"X\"},\"next\":null}}", &p, &cause), 0);
	assert_null(p.after);
	templates_page_free(&p);
	assert_int_equal(parse("{\"data\":[]}", &p, &cause), 0);
	templates_page_free(&p);
	/* A numeric id is taken as Graph's numeric string. */
	assert_int_equal(parse("{\"data\":[{\"id\":42,\"name\":\"a\","
	    "\"language\":\"de\",\"status\":\"PAUSED\"}]}", &p, &cause), 0);
	assert_string_equal(p.items[0].id, "42");
	assert_true(p.items[0].valid);
	assert_null(p.items[0].components);
	assert_null(p.items[0].category);
	templates_page_free(&p);
}

static void
templates_parse_page__refuses_what_is_not_a_page(void **state)
{
	static const char *const bad[] = {
		"", "null", "[]", "\"data\"", "{}", "{\"data\":{}}",
		"{\"data\":null}", "{\"data\":[]", "{\"data\":\"[]\"}",
		/* a next page without a usable cursor */
		"{\"data\":[],\"paging\":{\"next\":\"https://x\"}}",
		"{\"data\":[],\"paging\":{\"next\":\"https://x\",\"cursors\":"
		"{\"after\":7}}}",
		"{\"data\":[],\"paging\":{\"next\":\"https://x\",\"cursors\":"
		"{\"after\":\"\"}}}",
		"{\"data\":[],\"paging\":{\"next\":\"https://x\",\"cursors\":"
		"{\"after\":\"a\\nb\"}}}",
		"{\"data\":[],\"paging\":{\"next\":\"https://x\",\"cursors\":"
		"\"after\"}}",
		NULL,
	};
	struct template_page p;
	char *cause;

	(void)state;
	for (size_t i = 0; bad[i] != NULL; i++) {
		assert_int_equal(parse(bad[i], &p, &cause), -1);
		assert_non_null(cause);
		free(cause);
		assert_int_equal(p.n, 0);
		assert_null(p.items);
	}
	assert_int_equal(parse(NULL, &p, &cause), -1);
	free(cause);
}

static void
templates_parse_page__judges_each_entry_alone(void **state)
{
	struct template_page p;
	char *cause, *big, *page;
	size_t n = 70 * 1024;

	(void)state;
	assert_int_equal(parse("{\"data\":["
	    /* no id, or an unusable one: skipped */
	    "{\"name\":\"no_id\",\"language\":\"en\",\"status\":\"APPROVED\"},"
	    "{\"id\":\"\",\"name\":\"x\"},"
	    "{\"id\":\"1/../2\",\"name\":\"x\"},"
	    "{\"id\":-3,\"name\":\"x\"},"
	    "{\"id\":[1]},"
	    "\"not an object\", 17, null,"
	    /* an id, but the rest unusable: kept as it is stored */
	    "{\"id\":\"10\",\"name\":5,\"language\":\"en\",\"status\":\"A\"},"
	    "{\"id\":\"11\",\"name\":\"a\",\"language\":\"en\"},"
	    "{\"id\":\"12\",\"name\":\"a\\u0001\",\"language\":\"en\","
	    "\"status\":\"A\"},"
	    "{\"id\":\"13\",\"name\":\"a\",\"language\":\"en\",\"status\":\"A\","
	    "\"components\":{\"type\":\"BODY\"}},"
	    "{\"id\":\"14\",\"name\":\"a\",\"language\":\"much_too_long_tag\","
	    "\"status\":\"A\"},"
	    "{\"id\":\"15\",\"name\":\"\xc3\x28\",\"language\":\"en\","
	    "\"status\":\"A\"},"
	    /* and a good one */
	    "{\"id\":\"16\",\"name\":\"ok\",\"language\":\"en\",\"status\":"
	    "\"REJECTED\",\"rejected_reason\":\"ABUSIVE_CONTENT\"}"
	    "]}", &p, &cause), 0);
	assert_int_equal(p.skipped, 8);
	assert_int_equal(p.n, 7);
	for (size_t i = 0; i < 6; i++)
		assert_false(p.items[i].valid);
	assert_string_equal(p.items[0].id, "10");
	assert_true(p.items[6].valid);
	assert_string_equal(p.items[6].reason, "ABUSIVE_CONTENT");
	templates_page_free(&p);

	/* Components past 64 KiB: the entry is unusable, not the page. */
	big = malloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	page = malloc(n + 256);
	snprintf(page, n + 256, "{\"data\":[{\"id\":\"1\",\"name\":\"a\","
	    "\"language\":\"en\",\"status\":\"A\",\"components\":[{\"type\":"
	    "\"BODY\",\"text\":\"%s\"}]}]}", big);
	assert_int_equal(parse(page, &p, &cause), 0);
	assert_int_equal(p.n, 1);
	assert_false(p.items[0].valid);
	templates_page_free(&p);
	free(page);
	free(big);
}

static void
templates_parse_page__survives_deep_and_wide_input(void **state)
{
	struct template_page p;
	char *cause, *s;
	size_t n = 200000;

	(void)state;
	/* Nesting past cJSON's limit is not JSON. */
	s = malloc(n + 16);
	memcpy(s, "{\"data\":", 8);
	memset(s + 8, '[', n);
	s[n + 8] = '\0';
	assert_int_equal(parse(s, &p, &cause), -1);
	free(cause);
	free(s);
	/* Ten thousand and one entries on a page: refused as a whole. */
	s = malloc(10001 * 3 + 32);
	n = (size_t)sprintf(s, "{\"data\":[{}");
	for (int i = 1; i < 10001; i++)
		n += (size_t)sprintf(s + n, ",{}");
	sprintf(s + n, "]}");
	assert_int_equal(parse(s, &p, &cause), -1);
	free(cause);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(templates_parse_page__reads_metas_shape),
		cmocka_unit_test(templates_parse_page__refuses_what_is_not_a_page),
		cmocka_unit_test(templates_parse_page__judges_each_entry_alone),
		cmocka_unit_test(
		    templates_parse_page__survives_deep_and_wide_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
