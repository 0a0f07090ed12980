/*
 * The sender's pure parts: the Graph API body built from an agent's
 * request, and the verdict on each kind of answer Meta gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/jsonx.h"
#include "relay/outbound.h"

static cJSON *
body_for(const char *type, const char *request, const char *wa_id,
    const char *user_id, const char *target)
{
	cJSON *req = cJSON_Parse(request);
	cJSON *b = outbound_body(type, req, wa_id, user_id, target, 42);

	cJSON_Delete(req);
	return b;
}

static void
outbound_body__text_reply_carries_context_and_our_id(void **state)
{
	cJSON *b = body_for("text", "{\"type\":\"text\",\"text\":\"Hi\","
	    "\"preview_url\":true}", "16505551234", NULL, "wamid.Q");

	(void)state;
	assert_string_equal(jx_str(b, "messaging_product"), "whatsapp");
	assert_string_equal(jx_str(b, "to"), "16505551234");
	assert_null(jx_str(b, "recipient"));
	assert_string_equal(jx_str(jx_obj(b, "text"), "body"), "Hi");
	assert_true(jx_bool(jx_obj(b, "text"), "preview_url"));
	assert_string_equal(jx_str(jx_obj(b, "context"), "message_id"),
	    "wamid.Q");
	assert_string_equal(jx_str(b, "biz_opaque_callback_data"), "glivi:42");
	cJSON_Delete(b);
}

static void
outbound_body__bsuid_customer_is_sent_by_recipient(void **state)
{
	cJSON *b = body_for("text", "{\"type\":\"text\",\"text\":\"Hi\"}", "",
	    "US.1349", NULL);

	(void)state;
	assert_null(jx_str(b, "to"));
	assert_string_equal(jx_str(b, "recipient"), "US.1349");
	assert_null(jx_obj(b, "context"));
	cJSON_Delete(b);
}

static void
outbound_body__reaction_template_and_media(void **state)
{
	cJSON *r = body_for("reaction", "{\"type\":\"reaction\",\"message_id\":"
	    "3,\"emoji\":\"\"}", "1", NULL, "wamid.T");
	cJSON *t = body_for("template", "{\"type\":\"template\",\"template\":"
	    "{\"name\":\"order_update\",\"language\":\"en_US\"}}", "1",
	    NULL, NULL);
	cJSON *m = body_for("document", "{\"type\":\"document\",\"media\":"
	    "{\"link\":\"https://e.com/a.pdf\",\"filename\":\"a.pdf\"}}", "1",
	    NULL, NULL);

	(void)state;
	/* A reaction names its target inside, not as a reply. */
	assert_null(jx_obj(r, "context"));
	assert_string_equal(jx_str(jx_obj(r, "reaction"), "message_id"),
	    "wamid.T");
	assert_string_equal(jx_str(jx_obj(r, "reaction"), "emoji"), "");
	assert_string_equal(jx_str(jx_obj(t, "template"), "name"),
	    "order_update");
	/* The agent names the language; Meta wants it as {"code": …}. */
	assert_string_equal(jx_str(jx_obj(jx_obj(t, "template"), "language"),
	    "code"), "en_US");
	assert_string_equal(jx_str(jx_obj(m, "document"), "filename"),
	    "a.pdf");
	cJSON_Delete(r);
	cJSON_Delete(t);
	cJSON_Delete(m);
}

static enum outbound_verdict
classify(long status, const char *body, int64_t *code, int *pair)
{
	char *wamid = NULL;
	cJSON *failure = NULL;
	enum outbound_verdict v = outbound_classify(status, body, &wamid,
	    &failure, pair);

	*code = 0;
	if (failure != NULL)
		jx_int64(failure, "code", code);
	free(wamid);
	cJSON_Delete(failure);
	return v;
}

static void
outbound_classify__sorts_meta_answers(void **state)
{
	int64_t code;
	int pair;
	char *wamid = NULL;
	cJSON *failure = NULL;

	(void)state;
	assert_int_equal(outbound_classify(200, "{\"messaging_product\":"
	    "\"whatsapp\",\"messages\":[{\"id\":\"wamid.A\"}]}", &wamid,
	    &failure, &pair), OUTBOUND_ACCEPTED);
	assert_string_equal(wamid, "wamid.A");
	assert_null(failure);
	free(wamid);

	assert_int_equal(classify(400, "{\"error\":{\"code\":130429}}", &code,
	    &pair), OUTBOUND_RETRY);
	assert_int_equal(code, 130429);
	assert_int_equal(classify(400, "{\"error\":{\"code\":131056}}", &code,
	    &pair), OUTBOUND_RETRY);
	assert_true(pair);
	assert_int_equal(classify(500, "oops", &code, &pair), OUTBOUND_RETRY);
	assert_int_equal(code, 500);
	assert_int_equal(classify(429, NULL, &code, &pair), OUTBOUND_RETRY);
	assert_int_equal(classify(400, "{\"error\":{\"code\":131047,"
	    "\"error_data\":{\"details\":\"window\"}}}", &code, &pair),
	    OUTBOUND_FAILED);
	assert_int_equal(code, 131047);
	assert_int_equal(classify(400, "{\"error\":{\"code\":100}}", &code,
	    &pair), OUTBOUND_FAILED);
	/* A 200 without a wamid is not an acceptance. */
	assert_int_equal(classify(200, "{}", &code, &pair), OUTBOUND_RETRY);
}

static enum outbound_verdict
classify_read(long status, const char *body, int64_t *code)
{
	cJSON *failure = NULL;
	enum outbound_verdict v = outbound_classify_read(status, body,
	    &failure);

	*code = 0;
	if (failure != NULL)
		assert_int_equal(jx_int64(failure, "code", code), 0);
	cJSON_Delete(failure);
	return v;
}

static void
outbound_read_body__is_metas_mark_read(void **state)
{
	char *s = outbound_read_body("wamid.\"odd\\");
	cJSON *b = cJSON_Parse(s);

	(void)state;
	assert_non_null(b);
	assert_int_equal(cJSON_GetArraySize(b), 3);
	assert_string_equal(jx_str(b, "messaging_product"), "whatsapp");
	assert_string_equal(jx_str(b, "status"), "read");
	assert_string_equal(jx_str(b, "message_id"), "wamid.\"odd\\");
	cJSON_Delete(b);
	free(s);
}

static void
outbound_classify_read__sorts_meta_answers(void **state)
{
	static const char *const not_success[] = { "{\"success\":false}",
		"{\"success\":\"true\"}", "{\"success\":1}", "[true]", "true",
		"{}", "", "{\"success\":true", "\xff\xfe", NULL };
	char big[70000];
	int64_t code;

	(void)state;
	assert_int_equal(classify_read(200, "{\"success\":true}", &code),
	    OUTBOUND_ACCEPTED);
	assert_int_equal(code, 0);
	/* Anything else from a 200 is not Meta's yes: try again later. */
	for (size_t i = 0; not_success[i] != NULL; i++) {
		assert_int_equal(classify_read(200, not_success[i], &code),
		    OUTBOUND_RETRY);
		assert_int_equal(code, 200);
	}
	assert_int_equal(classify_read(200, NULL, &code), OUTBOUND_RETRY);
	/* Transient: 5xx, 429, rate limits, whatever the body says. */
	assert_int_equal(classify_read(500, "{\"error\":{\"code\":2}}",
	    &code), OUTBOUND_RETRY);
	assert_int_equal(classify_read(503, "<html>", &code), OUTBOUND_RETRY);
	assert_int_equal(code, 503);
	assert_int_equal(classify_read(429, NULL, &code), OUTBOUND_RETRY);
	assert_int_equal(classify_read(400, "{\"error\":{\"code\":130429}}",
	    &code), OUTBOUND_RETRY);
	assert_int_equal(code, 130429);
	/* Permanent: dropped by the sender. A code as a string counts. */
	assert_int_equal(classify_read(400, "{\"error\":{\"code\":131047}}",
	    &code), OUTBOUND_FAILED);
	assert_int_equal(code, 131047);
	assert_int_equal(classify_read(400, "{\"error\":{\"code\":\"100\"}}",
	    &code), OUTBOUND_FAILED);
	assert_int_equal(code, 100);
	/* Hostile shapes: no code, a code of the wrong type, an error that
	 * is not an object, a huge or negative number. */
	assert_int_equal(classify_read(400, "{\"error\":{}}", &code),
	    OUTBOUND_FAILED);
	assert_int_equal(code, 400);
	assert_int_equal(classify_read(400, "{\"error\":{\"code\":[1]}}",
	    &code), OUTBOUND_FAILED);
	assert_int_equal(code, 400);
	assert_int_equal(classify_read(400, "{\"error\":\"no\"}", &code),
	    OUTBOUND_FAILED);
	assert_int_equal(classify_read(400, "{\"error\":{\"code\":1e300}}",
	    &code), OUTBOUND_FAILED);
	assert_int_equal(code, 400);
	assert_int_equal(classify_read(400, "{\"error\":{\"code\":-5}}",
	    &code), OUTBOUND_FAILED);
	assert_int_equal(code, 400);
	memset(big, '[', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(classify_read(400, big, &code), OUTBOUND_FAILED);
	assert_int_equal(classify_read(200, big, &code), OUTBOUND_RETRY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    outbound_body__text_reply_carries_context_and_our_id),
		cmocka_unit_test(
		    outbound_body__bsuid_customer_is_sent_by_recipient),
		cmocka_unit_test(outbound_body__reaction_template_and_media),
		cmocka_unit_test(outbound_classify__sorts_meta_answers),
		cmocka_unit_test(outbound_read_body__is_metas_mark_read),
		cmocka_unit_test(outbound_classify_read__sorts_meta_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
