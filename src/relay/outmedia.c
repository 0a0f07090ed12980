/*
 * Uploads for the sender thread. An upload whose answer is lost is safe to
 * repeat (it only leaves an unused file at Meta), so every failure short
 * of a refusal is retried like a transient send failure.
 */
#include "relay/outmedia.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "relay/graphmedia.h"
#include "relay/media.h"

/* Meta keeps uploads 30 days; one a day younger is still good to send. */
#define META_ID_LIFETIME (29 * 24 * 3600)

struct meta_id {
	const char *id;
	int64_t number_id;
	const char *meta_id;
	int64_t at;
};

static int
record_meta_id(struct store *st, void *arg)
{
	struct meta_id *m = arg;

	return store_media_set_meta_id(st, m->id, m->number_id, m->meta_id,
	    m->at);
}

static cJSON *
failure_of(const char *message)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "stage", "upload");
	cJSON_AddStringToObject(f, "message", message);
	return f;
}

enum outbound_verdict
outmedia_prepare(const struct relay_config *cfg, struct committer *committer,
    struct store *reader, const char *auth_header, atomic_int *stopping,
    const struct store_send *m, cJSON *body, long *http, cJSON **failure)
{
	cJSON *media = jx_obj(body, m->type), *answer_json;
	const char *id = jx_str(media, "id"), *meta;
	struct store_media u;
	struct meta_id rec;
	struct buf answer;
	enum outbound_verdict v;
	int64_t now = (int64_t)time(NULL);
	char *path, *cause = NULL, *wamid = NULL, *meta_id;
	int pair_limited;
	CURL *curl;

	*http = 0;
	*failure = NULL;
	if (!media_upload_id(id))
		return OUTBOUND_ACCEPTED;
	if (store_media_get(reader, id, &u) != 1) {
		/* The agent API checked it exists; gone now means the store
		 * is unreadable or the upload was removed. */
		*failure = failure_of("the uploaded file cannot be found");
		return OUTBOUND_RETRY;
	}
	if (u.meta_id[0] != '\0' && u.meta_number_id == m->number_id &&
	    now - u.meta_uploaded_at < META_ID_LIFETIME) {
		cJSON_ReplaceItemInObjectCaseSensitive(media, "id",
		    cJSON_CreateString(u.meta_id));
		return OUTBOUND_ACCEPTED;
	}
	if ((curl = graph_curl(cfg, stopping)) == NULL) {
		*failure = failure_of("no curl handle");
		return OUTBOUND_RETRY;
	}
	path = media_path(cfg, id);
	buf_init(&answer);
	*http = graphmedia_upload(curl, cfg, auth_header, m->phone_number_id,
	    path, u.mime_type, &answer, &cause);
	curl_easy_cleanup(curl);
	free(path);
	if (*http == 0) {
		log_warn("outbound: message %" PRId64 ": the upload of %s "
		    "failed: %s", m->id, id, cause);
		*failure = failure_of(cause);
		free(cause);
		buf_free(&answer);
		return OUTBOUND_RETRY;
	}
	answer_json = *http == 200 ? cJSON_ParseWithLength(answer.data,
	    answer.len) : NULL;
	meta = jx_str(answer_json, "id");
	if (meta != NULL && *meta != '\0' && strlen(meta) <= 128) {
		meta_id = xstrdup(meta);
		cJSON_Delete(answer_json);
		buf_free(&answer);
		log_info("outbound: message %" PRId64 ": uploaded %s (%" PRId64
		    " bytes) for number %s", m->id, id, u.size,
		    m->phone_number_id);
		rec.id = id;
		rec.number_id = m->number_id;
		rec.meta_id = meta_id;
		rec.at = now;
		/* Not recorded: the next send uploads again, no worse. */
		if (committer_call(committer, record_meta_id, &rec) != 0)
			log_warn("outbound: Meta's id for %s was not recorded",
			    id);
		cJSON_ReplaceItemInObjectCaseSensitive(media, "id",
		    cJSON_CreateString(meta_id));
		free(meta_id);
		return OUTBOUND_ACCEPTED;
	}
	cJSON_Delete(answer_json);
	/* Refused, or an answer without an id: judged like a send's. */
	v = outbound_classify(*http, answer.data, &wamid, failure,
	    &pair_limited);
	free(wamid);
	buf_free(&answer);
	if (v == OUTBOUND_ACCEPTED)
		v = OUTBOUND_RETRY;
	if (*failure == NULL)
		*failure = cJSON_CreateObject();
	cJSON_AddStringToObject(*failure, "stage", "upload");
	log_warn("outbound: message %" PRId64 ": the upload of %s was refused "
	    "(HTTP %ld)", m->id, id, *http);
	return v;
}
