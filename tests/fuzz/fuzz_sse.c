/*
 * libFuzzer target for the SSE parser. The input chooses how the stream is
 * sliced: byte 0 says how many slice lengths follow (1 to 16), then come
 * those lengths (0 to 255, used in turn, 0 an empty slice), then the
 * stream. The stream is parsed once in those slices and once whole; both
 * must give the same events and the same end, every event must be
 * NUL-terminated and within the caps. Crashes, leaks and UB are findings.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "net/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct run {
	struct buf log; /* every event, length-prefixed, to compare runs */
	int events;
};

static int
on_event(void *arg, const char *type, const char *data, size_t len,
    const char *id)
{
	struct run *r = arg;
	size_t tlen = strlen(type), ilen = strlen(id);

	if (data[len] != '\0' || len > SSE_MAX_EVENT || tlen == 0 ||
	    tlen >= 64 || ilen > 255)
		abort();
	r->events++;
	buf_add(&r->log, &tlen, sizeof tlen);
	buf_add(&r->log, type, tlen);
	buf_add(&r->log, &ilen, sizeof ilen);
	buf_add(&r->log, id, ilen);
	buf_add(&r->log, &len, sizeof len);
	buf_add(&r->log, data, len);
	/* Let the reader stop now and then, so that path runs too. */
	return len >= 4 && memcmp(data, "STOP", 4) == 0 ? -1 : 0;
}

/* Parses s; returns 0 or -1 and the reason, with the events in r. */
static int
parse(const uint8_t *s, size_t n, const uint8_t *lens, size_t k,
    struct run *r, const char **why, long *retry)
{
	struct sse p;
	size_t at = 0, i = 0, zeros = 0;
	int rc = 0;

	buf_init(&r->log);
	r->events = 0;
	*why = NULL;
	sse_init(&p, on_event, r);
	while (rc == 0 && at < n) {
		size_t want = lens != NULL ? lens[i++ % k] : n;

		/* Empty slices are allowed, an endless run of them not. */
		if (want == 0 && ++zeros > k)
			want = 1;
		else if (want > 0)
			zeros = 0;
		if (want > n - at)
			want = n - at;
		rc = sse_feed(&p, (const char *)s + at, want, why);
		at += want;
	}
	if (rc != 0 && *why == NULL)
		abort(); /* a failure always says why */
	if (p.retry_ms < -1 || p.retry_ms > 100000000L)
		abort();
	*retry = p.retry_ms;
	sse_free(&p);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run sliced, whole;
	const char *why_s, *why_w;
	long retry_s, retry_w;
	size_t k;
	int rc_s, rc_w;

	if (size < 1)
		return 0;
	k = (size_t)(data[0] % 16) + 1;
	if (size < 1 + k)
		return 0;
	rc_s = parse(data + 1 + k, size - 1 - k, data + 1, k, &sliced, &why_s,
	    &retry_s);
	rc_w = parse(data + 1 + k, size - 1 - k, NULL, 1, &whole, &why_w,
	    &retry_w);
	/* However the stream is sliced, the same events and the same end. */
	if (rc_s != rc_w || sliced.events != whole.events ||
	    sliced.log.len != whole.log.len || (sliced.log.len > 0 &&
	    memcmp(sliced.log.data, whole.log.data, sliced.log.len) != 0))
		abort();
	if (rc_s != 0 && strcmp(why_s, why_w) != 0)
		abort();
	if (rc_s == 0 && retry_s != retry_w)
		abort();
	buf_free(&sliced.log);
	buf_free(&whole.log);
	return 0;
}
