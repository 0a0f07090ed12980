/*
 * The simulator's multipart/form-data reader: what Meta's upload endpoint
 * takes, and every malformed body refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sim/multipart.h"

#define CT "multipart/form-data; boundary=XyZ"

static int
parse(const char *ct, const char *body, struct multipart *m,
    const char **why)
{
	return multipart_parse(ct, body, strlen(body), m, why);
}

static void
multipart_parse__reads_fields_and_a_file(void **state)
{
	static const char body[] =
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"messaging_product\"\r\n"
	    "\r\n"
	    "whatsapp\r\n"
	    "--XyZ\r\n"
	    "content-disposition: form-data; name=\"file\"; "
	    "filename=\"a b.jpg\"\r\n"
	    "CONTENT-TYPE: image/jpeg\r\n"
	    "\r\n"
	    "\x00\x01\r\n--Xy\r\n\xff\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=type\r\n"
	    "\r\n"
	    "image/jpeg\r\n"
	    "--XyZ--\r\n";
	const struct multipart_part *p;
	struct multipart m;
	const char *why = NULL;

	(void)state;
	assert_int_equal(multipart_parse(CT, body, sizeof body - 1, &m, &why),
	    0);
	assert_int_equal(m.n, 3);
	p = multipart_find(&m, "messaging_product");
	assert_non_null(p);
	assert_int_equal(p->len, 8);
	assert_memory_equal(p->data, "whatsapp", 8);
	assert_null(p->filename);
	p = multipart_find(&m, "file");
	assert_non_null(p);
	assert_string_equal(p->filename, "a b.jpg");
	assert_string_equal(p->content_type, "image/jpeg");
	/* Binary data, with a near-boundary inside, kept whole. */
	assert_int_equal(p->len, 11);
	assert_memory_equal(p->data, "\x00\x01\r\n--Xy\r\n\xff", 11);
	p = multipart_find(&m, "type");
	assert_memory_equal(p->data, "image/jpeg", 10);
	assert_null(multipart_find(&m, "nope"));
	multipart_free(&m);
}

static void
multipart_parse__takes_quoted_boundary_preamble_and_empty_data(void **state)
{
	static const char body[] =
	    "ignored preamble\r\n"
	    "--a b\r\n"
	    "Content-Disposition: form-data; name=\"x\"\r\n"
	    "\r\n"
	    "\r\n"
	    "--a b--";
	struct multipart m;
	const char *why = NULL;

	(void)state;
	assert_int_equal(parse("Multipart/Form-Data; charset=x; "
	    "boundary=\"a b\"", body, &m, &why), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.parts[0].len, 0);
	multipart_free(&m);
}

static void
multipart_parse__refuses_malformed_bodies(void **state)
{
	static const struct {
		const char *ct, *body;
	} bad[] = {
		{ NULL, "--XyZ--" },
		{ "application/json", "--XyZ--" },
		{ "multipart/form-data", "--XyZ--" },
		{ "multipart/form-data; boundary=", "----" },
		{ "multipart/form-data; boundary=\"XyZ", "--XyZ--" },
		{ "multipart/form-dataX; boundary=XyZ", "--XyZ--" },
		{ "multipart/form-data; boundary="
		  "12345678901234567890123456789012345678901234567890123456789"
		  "012345678901", "--x--" },
		{ CT, "" },
		{ CT, "no boundary at all" },
		/* no closing delimiter */
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n"
		      "\r\nvalue" },
		/* headers never end */
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"" },
		/* no name */
		{ CT, "--XyZ\r\nContent-Disposition: form-data\r\n\r\nv\r\n"
		      "--XyZ--" },
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n"
		      "\r\nv\r\n--XyZ--" },
		/* not form-data */
		{ CT, "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n"
		      "\r\nv\r\n--XyZ--" },
		/* a header line without a colon */
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n"
		      "garbage\r\n\r\nv\r\n--XyZ--" },
		/* a delimiter followed by neither CRLF nor -- */
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n"
		      "\r\nv\r\n--XyZjunk" },
		{ CT, "--XyZjunk" },
		/* an unterminated quoted name */
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n"
		      "\r\nv\r\n--XyZ--" },
		/* no part headers at all */
		{ CT, "--XyZ\r\n\r\nv\r\n--XyZ--" },
	};
	struct multipart m;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		assert_int_equal(parse(bad[i].ct, bad[i].body, &m, &why), -1);
		assert_non_null(why);
		assert_int_equal(m.n, 0);
	}
}

static void
multipart_parse__refuses_more_than_32_parts(void **state)
{
	char body[4096], *p = body;
	struct multipart m;
	const char *why = NULL;

	(void)state;
	for (int i = 0; i < 33; i++)
		p += sprintf(p, "--XyZ\r\nContent-Disposition: form-data; "
		    "name=\"f%d\"\r\n\r\nv\r\n", i);
	strcpy(p, "--XyZ--\r\n");
	assert_int_equal(parse(CT, body, &m, &why), -1);
	assert_string_equal(why, "more than 32 parts");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(multipart_parse__reads_fields_and_a_file),
		cmocka_unit_test(
		    multipart_parse__takes_quoted_boundary_preamble_and_empty_data),
		cmocka_unit_test(multipart_parse__refuses_malformed_bodies),
		cmocka_unit_test(multipart_parse__refuses_more_than_32_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
