/*
 * The sync protocol's shared pieces: opaque cursors ("v1.<epoch>.<seq>")
 * and the JSON of one change, as both /api/v1/sync and /api/v1/events send
 * them.
 */
#ifndef GLIVI_SYNC_H
#define GLIVI_SYNC_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "relay/store.h"

enum sync_cursor_result {
	SYNC_CURSOR_OK,
	SYNC_CURSOR_MALFORMED,
	SYNC_CURSOR_OTHER_EPOCH,
};

void sync_cursor_format(const char *epoch, int64_t seq, char out[64]);
enum sync_cursor_result sync_cursor_parse(const char *, const char *epoch,
    int64_t *seq);
/* Writes {"kind","id","seq","deleted","data"}; data is null for a
 * tombstone (or an entity gone meanwhile). */
struct jw;
void sync_change_text(struct store *, const char *kind, int64_t id,
    int64_t seq, int deleted, struct jw *);

#endif
