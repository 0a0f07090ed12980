/*
 * Cursors and change events. A cursor names the store's epoch so a client
 * of another store (or of a rebuilt one) is told to start over.
 */
#include "relay/sync.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jsonw.h"
#include "core/jsonx.h"

void
sync_cursor_format(const char *epoch, int64_t seq, char out[64])
{
	snprintf(out, 64, "v1.%s.%" PRId64, epoch, seq);
}

enum sync_cursor_result
sync_cursor_parse(const char *s, const char *epoch, int64_t *seq)
{
	const char *dot;
	char *end;
	long long v;

	if (s == NULL || strncmp(s, "v1.", 3) != 0)
		return SYNC_CURSOR_MALFORMED;
	s += 3;
	dot = strchr(s, '.');
	if (dot == NULL || dot == s || dot[1] < '0' || dot[1] > '9')
		return SYNC_CURSOR_MALFORMED;
	errno = 0;
	v = strtoll(dot + 1, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return SYNC_CURSOR_MALFORMED;
	if ((size_t)(dot - s) != strlen(epoch) ||
	    strncmp(s, epoch, (size_t)(dot - s)) != 0)
		return SYNC_CURSOR_OTHER_EPOCH;
	*seq = v;
	return SYNC_CURSOR_OK;
}

void
sync_change_text(struct store *st, const char *kind, int64_t id,
    int64_t seq, int deleted, struct jw *w)
{
	jw_object(w, NULL);
	jw_string(w, "kind", kind);
	jw_int(w, "id", id);
	jw_int(w, "seq", seq);
	jw_bool(w, "deleted", deleted);
	if (deleted || store_entity_text(st, kind, id, w, "data") != 0)
		jw_null(w, "data");
	jw_object_end(w);
}
