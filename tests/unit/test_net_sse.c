/*
 * The text/event-stream parser: line ends, the BOM, fields, caps, and that
 * however the network slices a stream, the same events come out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "net/sse.h"

#define LEN(s) (sizeof(s) - 1)

/*
 * What the parser handed over, as text: one "type|id|data" line per event,
 * with data's newlines shown as "\n" so a transcript compares as a string.
 */
struct rec {
	struct buf log;
	int events;
	int stop_after; /* the callback returns -1 at this event; 0: never */
	size_t last_len;
};

static int
on_event(void *arg, const char *type, const char *data, size_t len,
    const char *id)
{
	struct rec *r = arg;

	/* The contract: data is NUL-terminated and len excludes the NUL. */
	assert_int_equal(data[len], '\0');
	r->events++;
	r->last_len = len;
	buf_printf(&r->log, "%s|%s|", type, id);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n')
			buf_adds(&r->log, "\\n");
		else if (data[i] == '\0')
			buf_adds(&r->log, "\\0");
		else
			buf_add(&r->log, data + i, 1);
	}
	buf_adds(&r->log, "\n");
	return r->stop_after != 0 && r->events == r->stop_after ? -1 : 0;
}

static void
rec_init(struct rec *r, struct sse *p)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->log);
	sse_init(p, on_event, r);
}

static void
rec_free(struct rec *r, struct sse *p)
{
	sse_free(p);
	buf_free(&r->log);
}

/* Feeds s in one piece; returns the transcript (caller frees). */
static char *
parse_whole(const char *s, size_t n)
{
	struct sse p;
	struct rec r;
	const char *why = NULL;
	char *out;

	rec_init(&r, &p);
	assert_int_equal(sse_feed(&p, s, n, &why), 0);
	out = xstrdup(r.log.data != NULL ? r.log.data : "");
	rec_free(&r, &p);
	return out;
}

/* Feeds s cut at the given offsets (ascending, within n). */
static char *
parse_cut(const char *s, size_t n, const size_t *cuts, size_t ncuts)
{
	struct sse p;
	struct rec r;
	const char *why = NULL;
	size_t at = 0;
	char *out;

	rec_init(&r, &p);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n;

		assert_int_equal(sse_feed(&p, s + at, end - at, &why), 0);
		at = end;
	}
	out = xstrdup(r.log.data != NULL ? r.log.data : "");
	rec_free(&r, &p);
	return out;
}

static void
expect_events(const char *s, size_t n, const char *want)
{
	char *got = parse_whole(s, n);

	assert_string_equal(got, want);
	free(got);
}

/* For literals, which may hold NUL: their whole length. */
#define EXPECT(lit, want) expect_events(lit, LEN(lit), want)

/* Every split into two and into three slices gives what one feed gives. */
static void
expect_same_at_every_split(const char *s, size_t n, const char *want)
{
	char *whole = parse_whole(s, n);

	assert_string_equal(whole, want);
	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i; j <= n; j++) {
			size_t cuts[2] = { i, j };
			char *got = parse_cut(s, n, cuts, 2);

			if (strcmp(got, whole) != 0)
				fail_msg("cut at %zu and %zu:\n%s\nwanted:\n%s",
				    i, j, got, whole);
			free(got);
		}
	}
	free(whole);
}

static void
sse_feed__gives_the_same_events_split_at_every_byte_boundary(void **state)
{
	static const char s[] =
	    "\xef\xbb\xbfretry: 5000\r\n"
	    "\r\n"
	    "id: v1.5b1e.43\r\n"
	    "event: change\r"
	    "data: {\"kind\":\"conversation\",\"id\":3}\n"
	    "\n"
	    ": ping\r\r"
	    "event: presence\n"
	    "data: one\r\n"
	    "data:two\r"
	    "data\r"
	    "\r\n"
	    "data: tail\r\n"
	    "\r";

	(void)state;
	expect_same_at_every_split(s, LEN(s),
	    "change|v1.5b1e.43|{\"kind\":\"conversation\",\"id\":3}\n"
	    "presence|v1.5b1e.43|one\\ntwo\\n\n"
	    "message|v1.5b1e.43|tail\n");
}

static void
sse_feed__gives_the_same_events_one_byte_at_a_time(void **state)
{
	static const char s[] = "data: a\r\ndata: b\r\rid: 7\nevent: x\n"
	    "data: c\r\n\r\n";
	size_t cuts[LEN(s)];

	(void)state;
	for (size_t i = 0; i < LEN(s); i++)
		cuts[i] = i;
	{
		char *got = parse_cut(s, LEN(s), cuts, LEN(s));

		assert_string_equal(got, "message||a\\nb\nx|7|c\n");
		free(got);
	}
}

static void
sse_feed__ignores_empty_slices_even_between_cr_and_lf(void **state)
{
	/*
	 * "data: a" CR | (nothing) | LF "data: b" LF LF is one event "a\nb":
	 * the CR LF is one line end however it is sliced, and an empty
	 * slice carries no bytes, so it cannot change that.
	 */
	static const char s[] = "data: a\r\ndata: b\n\n";
	size_t cuts[] = { 8, 8, 8 };
	char *got;

	(void)state;
	got = parse_cut(s, LEN(s), cuts, 3);
	assert_string_equal(got, "message||a\\nb\n");
	free(got);
}

static void
sse_feed__ends_lines_at_crlf_lf_and_lone_cr(void **state)
{
	(void)state;
	EXPECT("data: a\r\n\r\n", "message||a\n");
	EXPECT("data: a\n\n", "message||a\n");
	EXPECT("data: a\r\r", "message||a\n");
	/* CR then LF is one line end, not two: no empty line between. */
	EXPECT("data: a\r\ndata: b\r\n\r\n", "message||a\\nb\n");
	/* LF then CR is two. */
	EXPECT("data: a\n\rdata: b\n\n",
	    "message||a\nmessage||b\n");
}

static void
sse_feed__joins_a_cr_at_the_end_of_one_slice_with_lf_at_the_next(void **state)
{
	static const char s[] = "data: a\r\ndata: b\r\n\r\n";
	size_t cuts[] = { 8 };	  /* after "data: a\r" */
	size_t cuts2[] = { 18 }; /* after "...b\r\n\r" */
	char *got;

	(void)state;
	got = parse_cut(s, LEN(s), cuts, 1);
	assert_string_equal(got, "message||a\\nb\n");
	free(got);
	got = parse_cut(s, LEN(s), cuts2, 1);
	assert_string_equal(got, "message||a\\nb\n");
	free(got);
}

static void
sse_feed__skips_one_bom_at_the_start(void **state)
{
	static const char s[] = "\xef\xbb\xbf" "data: a\n\n";

	(void)state;
	expect_same_at_every_split(s, LEN(s), "message||a\n");
}

static void
sse_feed__does_not_skip_a_second_bom(void **state)
{
	/* After the first BOM, the second is part of the field name, which
	 * is then no longer "data": the line is an unknown field. */
	static const char s[] = "\xef\xbb\xbf\xef\xbb\xbf" "data: a\n\n"
	    "data: b\n\n";

	(void)state;
	expect_same_at_every_split(s, LEN(s), "message||b\n");
}

static void
sse_feed__keeps_bytes_that_only_looked_like_a_bom(void **state)
{
	/* EF BB then 'd': not a BOM, and those bytes stay in the line. */
	static const char s[] = "\xef\xbb" "data: a\n\ndata: b\n\n";
	static const char t[] = ": \xef\xbb\n" "data: c\n\n";

	(void)state;
	expect_same_at_every_split(s, LEN(s), "message||b\n");
	expect_same_at_every_split(t, LEN(t), "message||c\n");
}

static void
sse_feed__skips_a_bom_only_at_the_start_of_the_stream(void **state)
{
	/* A BOM arriving after text is data. */
	static const char s[] = "data: \xef\xbb\xbfx\n\n";

	(void)state;
	expect_events(s, LEN(s), "message||\xef\xbb\xbfx\n");
}

static void
sse_feed__makes_no_event_of_comments(void **state)
{
	(void)state;
	EXPECT(": ping\n\n", "");
	EXPECT(":\n\n: ping\r\n\r\n", "");
	/* A comment between data lines changes nothing. */
	EXPECT("data: a\n: ping\ndata: b\n\n", "message||a\\nb\n");
}

static void
sse_feed__joins_data_lines_with_newlines(void **state)
{
	(void)state;
	EXPECT("data: a\ndata: b\ndata: c\n\n",
	    "message||a\\nb\\nc\n");
	/* One space after the colon goes; more stay; no colon: empty. */
	EXPECT("data:  a\ndata:b\ndata\n\n",
	    "message|| a\\nb\\n\n");
	/* A data line with nothing in it still makes an event. */
	EXPECT("data:\n\n", "message||\n");
	/* An empty line with no data before it dispatches nothing. */
	EXPECT("\n\n\n", "");
	EXPECT("event: x\n\ndata: y\n\n", "message||y\n");
}

static void
sse_feed__takes_the_event_type_and_defaults_to_message(void **state)
{
	(void)state;
	EXPECT("event: change\ndata: a\n\ndata: b\n\n",
	    "change||a\nmessage||b\n");
	/* The last event: line wins. */
	EXPECT("event: a\nevent: b\ndata: x\n\n", "b||x\n");
	/* An empty event: line means the default. */
	EXPECT("event:\ndata: x\n\n", "message||x\n");
}

static void
sse_feed__keeps_the_id_across_events(void **state)
{
	(void)state;
	EXPECT("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
	    "message|1|a\nmessage|1|b\nmessage||c\n");
	/* An id with no data sets the id for the next event. */
	EXPECT("id: 9\n\ndata: a\n\n", "message|9|a\n");
}

static void
sse_feed__ignores_an_id_holding_nul(void **state)
{
	static const char s[] = "id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n";

	(void)state;
	expect_events(s, LEN(s), "message|1|a\nmessage|1|b\n");
}

static void
sse_feed__takes_a_nul_in_a_field_name_as_an_unknown_field(void **state)
{
	/* "data\0" and "id\0" are not "data" and "id". */
	static const char s[] = "data\0: x\nid\0: 5\ndata: y\n\n";

	(void)state;
	expect_events(s, LEN(s), "message||y\n");
}

static void
sse_feed__keeps_nul_inside_data(void **state)
{
	static const char s[] = "data: a\0b\n\n";
	struct sse p;
	struct rec r;
	const char *why = NULL;

	(void)state;
	rec_init(&r, &p);
	assert_int_equal(sse_feed(&p, s, LEN(s), &why), 0);
	assert_string_equal(r.log.data, "message||a\\0b\n");
	assert_int_equal(r.last_len, 3);
	rec_free(&r, &p);
}

static long
retry_after(const char *s)
{
	struct sse p;
	struct rec r;
	const char *why = NULL;
	long v;

	rec_init(&r, &p);
	assert_int_equal(sse_feed(&p, s, strlen(s), &why), 0);
	v = p.retry_ms;
	rec_free(&r, &p);
	return v;
}

static void
sse_feed__takes_retry_only_when_all_digits(void **state)
{
	(void)state;
	assert_int_equal(retry_after(""), -1);
	assert_int_equal(retry_after("retry: 5000\n"), 5000);
	assert_int_equal(retry_after("retry:0\n"), 0);
	assert_int_equal(retry_after("retry: 5000\nretry: 12a\n"), 5000);
	assert_int_equal(retry_after("retry: -1\n"), -1);
	assert_int_equal(retry_after("retry: 1.5\n"), -1);
	assert_int_equal(retry_after("retry:\n"), -1);
	assert_int_equal(retry_after("retry\n"), -1);
	assert_int_equal(retry_after("retry:  10\n"), -1); /* two spaces */
	assert_int_equal(retry_after("retry: 10 \n"), -1);
	/* Absurdly many digits are not taken (nor do they overflow). */
	assert_int_equal(retry_after("retry: 99999999999999999999999\n"), -1);
	/* The cap holds after leading zeros too (found by fuzz-sse). */
	assert_int_equal(retry_after("retry: 100000000\n"), 100000000);
	assert_int_equal(retry_after("retry: 900000000\n"), -1);
	assert_int_equal(retry_after("retry: 000000000000900000000\n"), -1);
	/* The retry line alone dispatches nothing. */
	{
		char *got = parse_whole("retry: 1\n\n", 10);

		assert_string_equal(got, "");
		free(got);
	}
}

static void
sse_feed__does_not_dispatch_data_without_a_blank_line(void **state)
{
	(void)state;
	EXPECT("data: a\n", "");
	EXPECT("data: a\r\n", "");
	EXPECT("data: a\ndata: b\n\ndata: c\n", "message||a\\nb\n");
	/* No line end at all: not even a line. */
	EXPECT("data: a", "");
}

/* Feeds text that must fail; returns why. */
static const char *
feed_error(struct sse *p, const char *s, size_t n)
{
	const char *why = NULL;

	assert_int_equal(sse_feed(p, s, n, &why), -1);
	assert_non_null(why);
	return why;
}

static void
sse_feed__refuses_a_line_over_1_mib(void **state)
{
	size_t n = SSE_MAX_LINE + 2;
	char *s = xmalloc(n);
	struct sse p;
	struct rec r;
	const char *why = NULL;

	(void)state;
	/* Exactly 1 MiB is a line... */
	memcpy(s, "data:", 5);
	memset(s + 5, 'x', SSE_MAX_LINE - 5);
	s[SSE_MAX_LINE] = '\n';
	s[SSE_MAX_LINE + 1] = '\n';
	rec_init(&r, &p);
	assert_int_equal(sse_feed(&p, s, n, &why), 0);
	assert_int_equal(r.events, 1);
	assert_int_equal(r.last_len, SSE_MAX_LINE - 5);
	rec_free(&r, &p);
	/* ...one byte more is not, even when it comes in pieces. */
	s[SSE_MAX_LINE] = 'x';
	rec_init(&r, &p);
	assert_int_equal(sse_feed(&p, s, SSE_MAX_LINE / 2, &why), 0);
	assert_int_equal(sse_feed(&p, s + SSE_MAX_LINE / 2,
	    SSE_MAX_LINE / 2, &why), 0);
	assert_string_equal(feed_error(&p, s + SSE_MAX_LINE, 2),
	    "line longer than 1 MiB");
	assert_int_equal(r.events, 0);
	rec_free(&r, &p);
	free(s);
}

static void
sse_feed__refuses_a_comment_line_over_1_mib_too(void **state)
{
	size_t n = SSE_MAX_LINE + 1;
	char *s = xmalloc(n);
	struct sse p;
	struct rec r;

	(void)state;
	memset(s, ':', n);
	rec_init(&r, &p);
	assert_string_equal(feed_error(&p, s, n), "line longer than 1 MiB");
	rec_free(&r, &p);
	free(s);
}

static void
sse_feed__refuses_an_event_over_4_mib(void **state)
{
	/* Lines of just under 1 MiB: four fit in 4 MiB, the fifth not. */
	size_t line = SSE_MAX_LINE - 16;
	char *s = xmalloc(line + 1);
	struct sse p;
	struct rec r;
	const char *why = NULL;

	(void)state;
	memcpy(s, "data:", 5);
	memset(s + 5, 'y', line - 5);
	s[line] = '\n';
	rec_init(&r, &p);
	for (int i = 0; i < 4; i++)
		assert_int_equal(sse_feed(&p, s, line + 1, &why), 0);
	assert_string_equal(feed_error(&p, s, line + 1),
	    "event larger than 4 MiB");
	assert_int_equal(r.events, 0);
	rec_free(&r, &p);
	/* Four such lines make one event just under the cap. */
	rec_init(&r, &p);
	for (int i = 0; i < 4; i++)
		assert_int_equal(sse_feed(&p, s, line + 1, &why), 0);
	assert_int_equal(sse_feed(&p, "\n", 1, &why), 0);
	assert_int_equal(r.events, 1);
	assert_int_equal(r.last_len, 4 * (line - 5) + 3);
	rec_free(&r, &p);
	free(s);
}

static void
sse_feed__refuses_an_id_over_255_bytes(void **state)
{
	char s[300];
	struct sse p;
	struct rec r;

	(void)state;
	memcpy(s, "id:", 3);
	memset(s + 3, '7', 256);
	s[259] = '\n';
	rec_init(&r, &p);
	assert_string_equal(feed_error(&p, s, 260),
	    "event id longer than 255 bytes");
	rec_free(&r, &p);
	/* 255 is fine. */
	rec_init(&r, &p);
	{
		const char *why = NULL;

		s[258] = '\n';
		assert_int_equal(sse_feed(&p, s, 259, &why), 0);
		assert_int_equal(strlen(p.id), 255);
	}
	rec_free(&r, &p);
}

static void
sse_feed__stops_when_the_callback_returns_minus_one(void **state)
{
	static const char s[] = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
	struct sse p;
	struct rec r;

	(void)state;
	rec_init(&r, &p);
	r.stop_after = 2;
	assert_string_equal(feed_error(&p, s, LEN(s)), "stopped by the reader");
	assert_int_equal(r.events, 2);
	assert_string_equal(r.log.data, "message||1\nmessage||2\n");
	rec_free(&r, &p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sse_feed__gives_the_same_events_split_at_every_byte_boundary),
		cmocka_unit_test(sse_feed__gives_the_same_events_one_byte_at_a_time),
		cmocka_unit_test(sse_feed__ignores_empty_slices_even_between_cr_and_lf),
		cmocka_unit_test(sse_feed__ends_lines_at_crlf_lf_and_lone_cr),
		cmocka_unit_test(sse_feed__joins_a_cr_at_the_end_of_one_slice_with_lf_at_the_next),
		cmocka_unit_test(sse_feed__skips_one_bom_at_the_start),
		cmocka_unit_test(sse_feed__does_not_skip_a_second_bom),
		cmocka_unit_test(sse_feed__keeps_bytes_that_only_looked_like_a_bom),
		cmocka_unit_test(sse_feed__skips_a_bom_only_at_the_start_of_the_stream),
		cmocka_unit_test(sse_feed__makes_no_event_of_comments),
		cmocka_unit_test(sse_feed__joins_data_lines_with_newlines),
		cmocka_unit_test(sse_feed__takes_the_event_type_and_defaults_to_message),
		cmocka_unit_test(sse_feed__keeps_the_id_across_events),
		cmocka_unit_test(sse_feed__ignores_an_id_holding_nul),
		cmocka_unit_test(sse_feed__takes_a_nul_in_a_field_name_as_an_unknown_field),
		cmocka_unit_test(sse_feed__keeps_nul_inside_data),
		cmocka_unit_test(sse_feed__takes_retry_only_when_all_digits),
		cmocka_unit_test(sse_feed__does_not_dispatch_data_without_a_blank_line),
		cmocka_unit_test(sse_feed__refuses_a_line_over_1_mib),
		cmocka_unit_test(sse_feed__refuses_a_comment_line_over_1_mib_too),
		cmocka_unit_test(sse_feed__refuses_an_event_over_4_mib),
		cmocka_unit_test(sse_feed__refuses_an_id_over_255_bytes),
		cmocka_unit_test(sse_feed__stops_when_the_callback_returns_minus_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
