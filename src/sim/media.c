/*
 * Graph API media: uploads checked the way Meta checks them (multipart
 * parts, supported types, size per kind), lookups that hand out download
 * URLs expiring after --media-url-ttl, deletes, and downloads that need the
 * bearer token. Injected errors apply to each kind of request. Never logs
 * file contents or the token.
 */
#include "sim/media.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "core/hmac.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/wamedia.h"
#include "core/xalloc.h"
#include "sim/graph.h"
#include "sim/hooks.h"
#include "sim/multipart.h"
#include "sim/wire.h"

static enum MHD_Result
refuse(struct sim *s, struct httpd_req *r, unsigned http, long code,
    const char *message, const char *details)
{
	char trace[48];

	graph_trace_id(s, trace, sizeof trace);
	log_info("media: refused an upload: HTTP %u, code %ld", http, code);
	atomic_fetch_add(&state_stats(s->state)->media_uploads_refused, 1);
	return httpd_json(r, http, wire_error(message, "OAuthException", code,
	    0, details, 0, trace));
}

/* A form part's value as a string; NULL when absent or not text. */
static char *
part_text(const struct multipart *mp, const char *name, size_t max)
{
	const struct multipart_part *p = multipart_find(mp, name);

	if (p == NULL || p->len > max || memchr(p->data, '\0', p->len) != NULL)
		return NULL;
	return xstrndup(p->data, p->len);
}

/*
 * Answers an injection that applies to a media request: 1 when it was
 * answered (*rc set), 0 to go on (after a slow one's wait), -1 when the
 * connection is to be dropped (the simulator is stopping).
 */
static int
media_injected(struct sim *s, struct httpd_req *r,
    const struct state_injection *inj, enum MHD_Result *rc)
{
	unsigned http;
	cJSON *e;

	if (inj->error == INJ_SLOW) {
		log_info("media: injected slow: answering in %ld ms", inj->ms);
		return httpd_sleep(r, inj->ms) == 0 ? 0 : -1;
	}
	if ((e = graph_injected_error(s, inj, &http)) == NULL)
		return 0;
	*rc = httpd_json(r, http, e);
	return 1;
}

enum MHD_Result
media_upload(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	const struct sim_number *n;
	const struct multipart_part *file;
	struct state_injection inj;
	struct state_media m;
	struct multipart mp;
	enum wamedia_kind kind = WAMEDIA_NONE;
	enum MHD_Result rc;
	char *product = NULL, *type = NULL, *msg, *list, details[256];
	const char *why = NULL;
	cJSON *o;
	int hit;

	if (!graph_authorized(s, r)) {
		atomic_fetch_add(&state_stats(s->state)->media_uploads_refused,
		    1);
		return graph_unauthorized(s, r);
	}
	if ((n = sim_number_find(s, a->id)) == NULL) {
		atomic_fetch_add(&state_stats(s->state)->media_uploads_refused,
		    1);
		return graph_unknown_object(s, r, "post", a->id);
	}
	if (multipart_parse(httpd_header(r, MHD_HTTP_HEADER_CONTENT_TYPE),
	    r->body.data, r->body.len, &mp, &why) != 0)
		return refuse(s, r, 400, 100, "(#100) Invalid parameter", why);
	product = part_text(&mp, "messaging_product", 64);
	type = part_text(&mp, "type", 255);
	file = multipart_find(&mp, "file");
	if (multipart_find(&mp, "messaging_product") == NULL)
		rc = refuse(s, r, 400, 100, "(#100) The parameter "
		    "messaging_product is required.", NULL);
	else if (product == NULL || strcmp(product, "whatsapp") != 0)
		rc = refuse(s, r, 400, 100, "(#100) Param messaging_product "
		    "must be one of {WHATSAPP}.", NULL);
	else if (file == NULL || file->filename == NULL)
		rc = refuse(s, r, 400, 100, "(#100) The parameter file is "
		    "required.", "file must be a file part (with a filename)");
	else if (multipart_find(&mp, "type") == NULL)
		rc = refuse(s, r, 400, 100, "(#100) The parameter type is "
		    "required.", NULL);
	else if (type == NULL || (kind = wamedia_kind_of(type)) ==
	    WAMEDIA_NONE) {
		list = wamedia_supported();
		msg = xasprintf("(#100) Param file must be a file with one of "
		    "the following types: %s. Received file of type '%.64s'.",
		    list, type != NULL && wamedia_mime_valid(type) ? type :
		    "?");
		rc = refuse(s, r, 400, 100, msg, NULL);
		free(msg);
		free(list);
	} else if (file->len == 0)
		rc = refuse(s, r, 400, 100, "(#100) Param file must not be "
		    "empty.", NULL);
	else if ((long long)file->len > wamedia_max_size(kind)) {
		snprintf(details, sizeof details, "The file is %zu bytes; %s "
		    "files may be at most %lld bytes.", file->len,
		    wamedia_kind_name(kind), wamedia_max_size(kind));
		rc = refuse(s, r, 400, 131053, "(#131053) Media upload error",
		    details);
	} else if ((hit = state_inject_take_media(s->state, n->id, NULL,
	    ON_UPLOAD, &inj)) != 0 && inj.error == INJ_MEDIA_UPLOAD_ERROR)
		rc = refuse(s, r, 400, 131053, "(#131053) Media upload error",
		    "Unable to process the uploaded media (injected).");
	else if (hit && (hit = media_injected(s, r, &inj, &rc)) != 0) {
		if (hit < 0)
			rc = MHD_NO;
		else
			atomic_fetch_add(&state_stats(s->state)->
			    media_uploads_refused, 1);
	} else {
		state_media_add(s->state, n->id, type, "upload", file->filename,
		    file->content_type, file->data, file->len, &m);
		atomic_fetch_add(&state_stats(s->state)->media_uploads, 1);
		log_info("media: accepted an upload of %zu bytes (%s) from %s "
		    "as %s", file->len, wamedia_kind_name(kind), n->id, m.id);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", m.id);
		rc = httpd_json(r, 200, o);
	}
	free(product);
	free(type);
	multipart_free(&mp);
	return rc;
}

/* The host the caller reached us by, when it is a plain host[:port]. */
static const char *
url_host(struct httpd_req *r)
{
	const char *h = httpd_header(r, MHD_HTTP_HEADER_HOST);

	if (h == NULL || *h == '\0' || strlen(h) > 255 ||
	    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-:[]") != strlen(h))
		return "localhost";
	return h;
}

/* The media of a Graph path, checked against ?phone_number_id= as Meta
 * does; answers (and returns 0) when there is none. */
static int
media_of(struct sim *s, struct httpd_req *r, const struct sim_args *a,
    const char *verb, struct state_media *m, enum MHD_Result *rc)
{
	const char *pn = httpd_query(r, "phone_number_id");

	if (!graph_authorized(s, r)) {
		*rc = graph_unauthorized(s, r);
		return 0;
	}
	if (!state_media_find(s->state, a->id, m, NULL) || m->deleted ||
	    (pn != NULL && strcmp(pn, m->number) != 0)) {
		*rc = graph_unknown_object(s, r, verb, a->id);
		return 0;
	}
	return 1;
}

enum MHD_Result
media_get(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	struct state_injection inj;
	struct state_media m;
	enum MHD_Result rc;
	unsigned char rnd[16], digest[32];
	char hash[33], hex[65], size[24], *url;
	int64_t now = hooks_now_ms(), expires;
	long ttl = s->cfg->media_url_ttl;
	cJSON *o;
	int hit;

	if (!media_of(s, r, a, "get", &m, &rc))
		return rc;
	memcpy(digest, m.sha256, sizeof digest);
	expires = now + (int64_t)ttl * 1000;
	if (state_inject_take_media(s->state, m.number, m.id, ON_RESOLVE,
	    &inj)) {
		if (inj.error == INJ_MEDIA_URL_EXPIRED) {
			log_info("media: injected media_url_expired for %s",
			    m.id);
			expires = now;
		} else if (inj.error == INJ_MEDIA_WRONG_SHA256) {
			/* The digest of the digest: well-formed, wrong. */
			log_info("media: injected media_wrong_sha256 for %s",
			    m.id);
			sha256(m.sha256, sizeof m.sha256, digest);
		} else if ((hit = media_injected(s, r, &inj, &rc)) != 0)
			return hit < 0 ? MHD_NO : rc;
	}
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return MHD_NO;
	hex_encode(rnd, sizeof rnd, hash);
	state_media_url_add(s->state, hash, m.id, expires, now);
	state_media_count(s->state, m.id, 1, 0);
	atomic_fetch_add(&state_stats(s->state)->media_resolves, 1);
	/* Shaped like Meta's lookaside URLs: mid, ext (here the expiry,
	 * Unix seconds) and hash. */
	url = xasprintf("%s://%s/whatsapp_business/attachments/?mid=%s&ext=%"
	    PRId64 "&hash=%s", s->cfg->plain_http ? "http" : "https",
	    url_host(r), m.id, (int64_t)time(NULL) + (expires - now) / 1000,
	    hash);
	hex_encode(digest, sizeof digest, hex);
	snprintf(size, sizeof size, "%zu", m.size);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "messaging_product", "whatsapp");
	cJSON_AddStringToObject(o, "url", url);
	cJSON_AddStringToObject(o, "mime_type", m.mime);
	cJSON_AddStringToObject(o, "sha256", hex);
	/* A string, as in Meta's example. */
	cJSON_AddStringToObject(o, "file_size", size);
	cJSON_AddStringToObject(o, "id", m.id);
	free(url);
	log_info("media: handed out a download URL for %s (%ld s)", m.id,
	    expires > now ? ttl : 0);
	return httpd_json(r, 200, o);
}

enum MHD_Result
media_delete(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	struct state_media m;
	enum MHD_Result rc;
	cJSON *o;

	if (!media_of(s, r, a, "delete", &m, &rc))
		return rc;
	if (!state_media_delete(s->state, m.id))
		return graph_unknown_object(s, r, "delete", a->id);
	atomic_fetch_add(&state_stats(s->state)->media_deleted, 1);
	log_info("media: deleted %s", m.id);
	o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "success");
	return httpd_json(r, 200, o);
}

static void
blob_free(void *cls)
{
	state_blob_release(cls);
}

static enum MHD_Result
download_refused(struct sim *s, struct httpd_req *r, unsigned http,
    const char *message)
{
	char trace[48];

	graph_trace_id(s, trace, sizeof trace);
	atomic_fetch_add(&state_stats(s->state)->media_downloads_refused, 1);
	log_info("media: refused a download: HTTP %u", http);
	return httpd_json(r, http, wire_error(message, "OAuthException",
	    http == 401 ? 190 : 100, 0, NULL, 0, trace));
}

enum MHD_Result
media_download(struct sim *s, struct httpd_req *r, const struct sim_args *a)
{
	const char *hash = httpd_query(r, "hash"), *mid = httpd_query(r,
	    "mid");
	struct state_injection inj;
	struct state_media m;
	struct state_blob *blob = NULL;
	struct MHD_Response *resp;
	enum MHD_Result rc;
	char id[64], trace[48];
	int hit;

	if (!graph_authorized(s, r))
		return download_refused(s, r, 401, "Invalid OAuth access token "
		    "- Cannot parse access token");
	if (hash == NULL || mid == NULL || !state_media_url_find(s->state,
	    hash, hooks_now_ms(), id, sizeof id) || strcmp(id, mid) != 0 ||
	    !state_media_find(s->state, id, &m, NULL) || m.deleted)
		return download_refused(s, r, 404, "URL signature expired");
	if (state_inject_take_media(s->state, m.number, m.id, ON_DOWNLOAD,
	    &inj)) {
		if (inj.error == INJ_MEDIA_DOWNLOAD_ERROR) {
			graph_trace_id(s, trace, sizeof trace);
			atomic_fetch_add(&state_stats(s->state)->
			    media_downloads_refused, 1);
			log_info("media: injected media_download_error for %s",
			    m.id);
			return httpd_json(r, 500, wire_error("An unexpected "
			    "error has occurred. Please retry your request "
			    "later.", "OAuthException", 2, 0, NULL, 1, trace));
		}
		if ((hit = media_injected(s, r, &inj, &rc)) != 0) {
			if (hit > 0)
				atomic_fetch_add(&state_stats(s->state)->
				    media_downloads_refused, 1);
			return hit < 0 ? MHD_NO : rc;
		}
	}
	if (!state_media_find(s->state, id, &m, &blob))
		return download_refused(s, r, 404, "URL signature expired");
	resp = MHD_create_response_from_buffer_with_free_callback_cls(
	    state_blob_len(blob), (void *)(uintptr_t)state_blob_data(blob),
	    blob_free, blob);
	if (resp == NULL) {
		state_blob_release(blob);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, m.mime);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	rc = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	state_media_count(s->state, m.id, 0, 1);
	atomic_fetch_add(&state_stats(s->state)->media_downloads, 1);
	log_info("media: served %s (%zu bytes)", m.id, m.size);
	return rc;
}
