/*
 * Canned replies' placeholders: what expands, what is left as written,
 * and what the relay refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/canned.h"

static char *
expand(const char *text, const struct canned_values *v)
{
	return canned_expand(text, strlen(text), v);
}

static void
assert_expands(const char *text, const struct canned_values *v,
    const char *want)
{
	char *got = expand(text, v);

	assert_string_equal(got, want);
	free(got);
}

static const struct canned_values values = { {
	[CANNED_CONTACT_NAME] = "J\xc3\xbcrgen Wei\xc3\x9f",
	[CANNED_CONTACT_PHONE] = "4915112345678",
	[CANNED_AGENT_NAME] = "alice",
	[CANNED_CONVERSATION_ID] = "17",
} };

static void
canned_expand__replaces_every_known_placeholder(void **state)
{
	(void)state;
	assert_expands("Hi {{contact.name}}, {{agent.name}} here "
	    "({{conversation.id}}, {{contact.phone}})", &values,
	    "Hi J\xc3\xbcrgen Wei\xc3\x9f, alice here (17, 4915112345678)");
	assert_expands("{{contact.name}}{{contact.name}}", &values,
	    "J\xc3\xbcrgen Wei\xc3\x9f" "J\xc3\xbcrgen Wei\xc3\x9f");
	assert_expands("", &values, "");
	assert_expands("no placeholders", &values, "no placeholders");
}

static void
canned_expand__allows_spaces_inside_the_braces(void **state)
{
	(void)state;
	assert_expands("Hi {{ contact.name }}!", &values,
	    "Hi J\xc3\xbcrgen Wei\xc3\x9f!");
	assert_expands("Hi {{   agent.name}}", &values, "Hi alice");
}

static void
canned_expand__first_name_is_the_names_first_word_unless_given(void **state)
{
	struct canned_values v = values;

	(void)state;
	assert_expands("Hallo {{contact.first_name}}!", &v,
	    "Hallo J\xc3\xbcrgen!");
	v.v[CANNED_CONTACT_FIRST_NAME] = "Jo";
	assert_expands("Hallo {{contact.first_name}}!", &v, "Hallo Jo!");
	v.v[CANNED_CONTACT_FIRST_NAME] = NULL;
	v.v[CANNED_CONTACT_NAME] = NULL;
	assert_expands("Hallo {{contact.first_name}}!", &v, "Hallo !");
}

static void
canned_expand__missing_values_expand_to_nothing(void **state)
{
	struct canned_values none = { { NULL } };

	(void)state;
	assert_expands("Hi {{contact.name}}, from {{agent.name}}", &none,
	    "Hi , from ");
}

static void
canned_expand__leaves_unknown_and_broken_placeholders_as_written(void **state)
{
	(void)state;
	assert_expands("{{contact.email}} {{ }} {{a b}} {{contact.name}",
	    &values, "{{contact.email}} {{ }} {{a b}} {{contact.name}");
	assert_expands("{{{contact.name}}}", &values,
	    "{J\xc3\xbcrgen Wei\xc3\x9f}");
	assert_expands("{{", &values, "{{");
	assert_expands("}}{{agent.name}}}}", &values, "}}alice}}");
}

static void
canned_expand__never_expands_a_value_again(void **state)
{
	struct canned_values v = values;

	(void)state;
	v.v[CANNED_CONTACT_NAME] = "{{agent.name}}";
	assert_expands("Hi {{contact.name}}", &v, "Hi {{agent.name}}");
}

static void
canned_expand__copies_bytes_it_does_not_understand(void **state)
{
	static const char raw[] = "a\0b\xff{{agent.name}}";
	char *got;

	(void)state;
	got = canned_expand(raw, sizeof raw - 1, &values);
	assert_memory_equal(got, "a\0b\xff" "alice", 9);
	free(got);
}

static void
canned_check__accepts_known_placeholders_and_plain_braces(void **state)
{
	char *bad = (char *)1;

	(void)state;
	assert_int_equal(canned_check("Hi {{contact.name}} {{ agent.name }} "
	    "{{ }} { } {{a b}}", 42, &bad), 0);
	assert_null(bad);
}

static void
canned_check__names_the_first_unknown_placeholder(void **state)
{
	const char *t = "Hi {{contact.name}}, {{ contact.email }} {{x}}";
	char *bad = NULL;

	(void)state;
	assert_int_equal(canned_check(t, strlen(t), &bad), -1);
	assert_string_equal(bad, "{{ contact.email }}");
	free(bad);
}

static void
canned_var_name__names_every_placeholder(void **state)
{
	(void)state;
	for (int v = 0; v < CANNED_NVARS; v++)
		assert_non_null(canned_var_name(v));
	assert_string_equal(canned_var_name(CANNED_CONTACT_NAME),
	    "contact.name");
	assert_null(canned_var_name(CANNED_NVARS));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(canned_expand__replaces_every_known_placeholder),
		cmocka_unit_test(canned_expand__allows_spaces_inside_the_braces),
		cmocka_unit_test(
		    canned_expand__first_name_is_the_names_first_word_unless_given),
		cmocka_unit_test(canned_expand__missing_values_expand_to_nothing),
		cmocka_unit_test(
		    canned_expand__leaves_unknown_and_broken_placeholders_as_written),
		cmocka_unit_test(canned_expand__never_expands_a_value_again),
		cmocka_unit_test(canned_expand__copies_bytes_it_does_not_understand),
		cmocka_unit_test(
		    canned_check__accepts_known_placeholders_and_plain_braces),
		cmocka_unit_test(
		    canned_check__names_the_first_unknown_placeholder),
		cmocka_unit_test(canned_var_name__names_every_placeholder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
