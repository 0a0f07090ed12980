/*
 * libFuzzer target for the thread pane: the input is a message's stored
 * JSON (as a sync page could bring it), and also, as a string, the text
 * of a second message, a note and a failure reason. Both are drawn at
 * three widths, scrolled and selected through. Invariants: nothing
 * crashes, and every cell of the canvas holds one whole cluster of valid
 * UTF-8 with no control character, no C1 and no bidi override.
 */
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "client/cache.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "tui/thread.h"
#include "ui/canvas.h"
#include "ui/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(x)                \
	do {                    \
		if (!(x))       \
			abort(); \
	} while (0)

static char root[64];
static struct cache *cache;
static struct thread *thread;
static struct canvas *canvas;
static long long seq;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
cleanup(void)
{
	thread_free(thread);
	canvas_free(canvas);
	cache_close(cache);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
apply(const char *events)
{
	char *cause = NULL;

	if (cache_apply(cache, events, strlen(events), "$", NULL, NULL,
	    &cause) != 0)
		free(cause);
}

static void
start(void)
{
	char *dir, *notice = NULL, *cause = NULL;

	snprintf(root, sizeof root, "/tmp/glivi-fuzz-thread-XXXXXX");
	CHECK(mkdtemp(root) != NULL);
	log_set_level(LOG_ERROR);
	dir = xasprintf("%s/cache", root);
	cache = cache_open(dir, "https://fuzz.test", &notice, &cause);
	CHECK(cache != NULL);
	free(dir);
	CHECK(cache_initial_begin(cache, &cause) == 0);
	CHECK(cache_initial_end(cache, &cause) == 0);
	apply("[{\"kind\":\"contact\",\"id\":1,\"seq\":1,\"data\":{"
	    "\"profile_name\":\"Jo\"}},{\"kind\":\"conversation\",\"id\":1,"
	    "\"seq\":2,\"data\":{\"contact_id\":1}},{\"kind\":\"agent\","
	    "\"id\":1,\"seq\":3,\"data\":{\"name\":\"al\"}}]");
	seq = 3;
	thread = thread_new(cache, 1);
	canvas = canvas_new(80, 40);
	atexit(cleanup);
}

static void
check_canvas(void)
{
	struct canvas_cell_info ci;
	unsigned w = canvas_width(canvas), h = canvas_height(canvas), cw;

	for (unsigned y = 0; y < h; y++) {
		for (unsigned x = 0; x < w; x++) {
			const unsigned char *p;

			CHECK(canvas_cell(canvas, x, y, &ci) == 0);
			if (ci.len == 0)
				continue;
			p = (const unsigned char *)ci.text;
			CHECK(utf8_valid(ci.text, ci.len));
			CHECK(text_cluster(ci.text, ci.len, &cw) == ci.len);
			for (size_t k = 0; k < ci.len; k++) {
				CHECK(p[k] >= 0x20 && p[k] != 0x7f);
				CHECK(!(p[k] == 0xc2 && k + 1 < ci.len &&
				    p[k + 1] >= 0x80 && p[k + 1] <= 0x9f));
				CHECK(!(p[k] == 0xe2 && k + 2 < ci.len &&
				    p[k + 1] == 0x80 && p[k + 2] >= 0xaa &&
				    p[k + 2] <= 0xae));
				CHECK(!(p[k] == 0xe2 && k + 2 < ci.len &&
				    p[k + 1] == 0x81 && p[k + 2] >= 0xa6 &&
				    p[k + 2] <= 0xa9));
			}
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned widths[] = { 80, 33, 7 };
	char *raw = xstrndup((const char *)data, size), *ev, *str;
	cJSON *s;

	if (cache == NULL)
		start();
	/* As the whole stored message, when it is JSON at all. */
	ev = xasprintf("[{\"kind\":\"message\",\"id\":1,\"seq\":%lld,"
	    "\"data\":%s}]", ++seq, raw);
	apply(ev);
	free(ev);
	/* As a string in the places strings go. */
	s = cJSON_CreateString(raw);
	str = cJSON_PrintUnformatted(s);
	cJSON_Delete(s);
	ev = xasprintf("[{\"kind\":\"message\",\"id\":2,\"seq\":%lld,\"data\":"
	    "{\"conversation_id\":1,\"direction\":\"out\",\"type\":\"text\","
	    "\"wamid\":\"w2\",\"timestamp\":1795424400,\"status\":\"failed\","
	    "\"text\":%s,\"failure\":{\"details\":%s},\"wa\":{\"context\":"
	    "{\"id\":\"w1\"}}}},{\"kind\":\"note\",\"id\":1,\"seq\":%lld,"
	    "\"data\":{\"conversation_id\":1,\"body\":%s,\"created_at\":0}}]",
	    seq + 1, str, str, seq + 2, str);
	seq += 2;
	apply(ev);
	free(ev);
	free(str);
	free(raw);

	thread_open(thread, 1);
	for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
		canvas_resize(canvas, widths[i], 40);
		thread_draw(thread, canvas, 0, 0, widths[i], 40, 1);
		check_canvas();
	}
	thread_select(thread, -1);
	thread_jump_quoted(thread);
	thread_scroll(thread, -3);
	thread_draw(thread, canvas, 0, 0, 7, 40, 1);
	check_canvas();
	thread_reload(thread);
	thread_bottom(thread);
	thread_draw(thread, canvas, 0, 0, 7, 40, 0);
	check_canvas();
	return 0;
}
