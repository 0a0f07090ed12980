/*
 * An incremental parser for text/event-stream (the WHATWG "interpret an
 * event stream" algorithm): feed it whatever slices the network hands over,
 * it calls back once per complete event. Lines end in CRLF, LF or a lone CR
 * (even one split across two slices); one leading BOM is skipped; comments
 * count as liveness; lines and events are capped.
 */
#ifndef GLIVI_SSE_H
#define GLIVI_SSE_H

#include <stddef.h>

#include "core/buf.h"

#define SSE_MAX_LINE (1024 * 1024)
#define SSE_MAX_EVENT (4 * 1024 * 1024)
#define SSE_MAX_RETRY 100000000L /* ms; a larger "retry:" is ignored */

/* An event: type ("message" when none was given), data (trailing newline
 * dropped, NUL-terminated; len excludes it) and the last event id. Return
 * 0 to go on, -1 to stop parsing. */
typedef int (*sse_event_cb)(void *arg, const char *type, const char *data,
    size_t len, const char *id);

struct sse {
	sse_event_cb on_event;
	void *arg;
	struct buf line;
	struct buf data;
	char type[64];
	char id[256];
	long retry_ms; /* from "retry:", or -1 */
	int saw_cr;    /* the last slice ended in CR: skip a leading LF */
	int started;   /* past the optional BOM */
	int has_data;
};

void sse_init(struct sse *, sse_event_cb, void *arg);
void sse_free(struct sse *);
/* Returns 0, or -1 with *why (static text) when a line or an event is over
 * the cap or the callback asked to stop. */
int sse_feed(struct sse *, const char *, size_t, const char **why);

#endif
