/*
 * Media on disk and the media routes. An HTTP thread writes an upload's
 * bytes to a temporary file as they arrive and never waits on the
 * network: a file not yet fetched from Meta is the fetcher's job, and the
 * request waits for it suspended. Logs name media ids and sizes, never
 * contents or tokens.
 */
#include "relay/media.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/hmac.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/wamedia.h"
#include "core/xalloc.h"
#include "relay/fetcher.h"

#define TMP_PREFIX ".tmp."
#define UPLOAD_PREFIX "up"

/* What a media request keeps between its calls. */
struct media_req {
	/* An upload. */
	int fd;
	char *tmp;
	EVP_MD_CTX *sha;
	int64_t size;
	int64_t limit;
	int too_large;
	int write_errno;
	struct store_media row;
	/* A fetch's outcome, once the fetcher is done. */
	int fetched;
	struct fetch_result result;
};

int
media_id_valid(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	return n > 0 && n <= MEDIA_ID_MAX && strspn(id, "abcdefghijklmnopqrstu"
	    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

int
media_upload_id(const char *id)
{
	return id != NULL && strlen(id) == 34 && strncmp(id, UPLOAD_PREFIX,
	    2) == 0 && strspn(id + 2, "0123456789abcdef") == 32;
}

static char *
media_dir(const struct relay_config *cfg)
{
	return xasprintf("%s/media", cfg->data_dir);
}

char *
media_path(const struct relay_config *cfg, const char *id)
{
	return xasprintf("%s/media/%s", cfg->data_dir, id);
}

int
media_init(const struct relay_config *cfg, char **cause)
{
	char *dir = media_dir(cfg), *path;
	struct dirent *e;
	DIR *d;
	int rc = -1;

	if ((mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
		*cause = xasprintf("%s: %s", dir, strerror(errno));
		goto out;
	}
	if ((d = opendir(dir)) == NULL) {
		*cause = xasprintf("%s: %s", dir, strerror(errno));
		goto out;
	}
	/* What a crash left half-written is of no use to anyone. */
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0)
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (unlink(path) == 0)
			log_info("media: removed %s, left by a crash", path);
		free(path);
	}
	closedir(d);
	rc = 0;
out:
	free(dir);
	return rc;
}

int
media_tempfile(const struct relay_config *cfg, char **tmp, char **cause)
{
	int fd;

	*tmp = xasprintf("%s/media/" TMP_PREFIX "XXXXXX", cfg->data_dir);
	/* mkstemp makes it 0600 whatever the umask. */
	fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0) {
		*cause = xasprintf("%s: %s", *tmp, strerror(errno));
		free(*tmp);
		*tmp = NULL;
	}
	return fd;
}

int
media_commit_file(const struct relay_config *cfg, int fd, const char *tmp,
    const char *id, char **cause)
{
	char *path = media_path(cfg, id), *dir = media_dir(cfg);
	int dfd, rc = -1;

	if (fsync(fd) != 0 || close(fd) != 0) {
		*cause = xasprintf("%s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	/* Atomic: a reader sees the whole file under its name or nothing,
	 * and two fetches of one id each leave the same bytes. */
	if (rename(tmp, path) != 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	free(path);
	free(dir);
	return rc;
}

static struct media_req *
media_req(struct request *r)
{
	if (r->media == NULL) {
		r->media = xcalloc(1, sizeof *r->media);
		r->media->fd = -1;
	}
	return r->media;
}

void
media_request_free(struct request *r)
{
	struct media_req *q = r->media;

	if (q == NULL)
		return;
	if (q->fd >= 0)
		close(q->fd);
	if (q->tmp != NULL) {
		/* An upload cut short, refused or failed. */
		unlink(q->tmp);
		free(q->tmp);
	}
	EVP_MD_CTX_free(q->sha);
	free(q);
	r->media = NULL;
}

/* -- serving ------------------------------------------------------------- */

static enum MHD_Result
answer_file(struct request *r, int fd, const struct store_media *m)
{
	struct MHD_Response *resp;
	unsigned char digest[32], b64[48];
	char digest_header[80];
	struct stat sb;
	enum MHD_Result rc;

	if (fstat(fd, &sb) != 0) {
		close(fd);
		return server_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", "the stored file cannot be read");
	}
	/* MHD owns fd from here and closes it with the response. */
	resp = MHD_create_response_from_fd64((uint64_t)sb.st_size, fd);
	if (resp == NULL) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    m->mime_type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	/* Customers' files are never to be rendered by a browser. */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
	    "attachment");
	MHD_add_response_header(resp, "Content-Security-Policy", "sandbox");
	/* RFC 9530: clients can check what they got. */
	if (wamedia_sha256_decode(m->sha256, digest) == 0) {
		EVP_EncodeBlock(b64, digest, sizeof digest);
		snprintf(digest_header, sizeof digest_header, "sha-256=:%s:",
		    (const char *)b64);
		MHD_add_response_header(resp, "Repr-Digest", digest_header);
	}
	rc = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* Called on a fetcher thread when the fetch this request waits for ends. */
static void
fetched(void *arg, const struct fetch_result *res)
{
	struct request *r = arg;

	r->media->result = *res;
	r->media->fetched = 1;
	MHD_resume_connection(r->conn);
}

enum MHD_Result
media_get(struct server *srv, struct request *r)
{
	struct store *st = server_reader(srv);
	struct media_req *q = r->media;
	struct store_media m;
	struct store_media_ref ref;
	char *path, msg[200];
	int rc, fd;

	if (q != NULL && q->fetched && q->result.status != 200)
		return server_error(r, q->result.status, q->result.code,
		    q->result.message);
	if (!media_id_valid(r->key))
		return server_error_field(r, MHD_HTTP_BAD_REQUEST, "invalid",
		    "a media id is 1 to 128 letters, digits, '_' or '-'", "id");
	if (st == NULL || (rc = store_media_get(st, r->key, &m)) < 0)
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "store_unavailable", "the store cannot be read");
	if (rc == 1) {
		path = media_path(srv->cfg, r->key);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		free(path);
		if (fd >= 0)
			return answer_file(r, fd, &m);
		if (errno != ENOENT || strcmp(m.direction, "out") == 0 ||
		    (q != NULL && q->fetched)) {
			log_error("media: the file of %s cannot be opened: %s",
			    r->key, strerror(errno));
			return server_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "internal", "the stored file cannot be read");
		}
		/* Recorded, but its file is gone: fetch it again. */
	} else if (q != NULL && q->fetched)
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "store_unavailable", "the file was fetched but is not "
		    "recorded yet; ask again");
	/* Only what a message names: the relay is no open proxy to Meta's
	 * media. */
	if ((rc = store_media_referenced(st, r->key, &ref)) < 0)
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "store_unavailable", "the store cannot be read");
	if (rc == 0) {
		snprintf(msg, sizeof msg, "no message holds media %s", r->key);
		return server_error(r, MHD_HTTP_NOT_FOUND, "not_found", msg);
	}
	if (srv->fetcher == NULL)
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "media_unavailable", "the relay has no access token ([meta] "
		    "access_token_file), so it cannot fetch media from Meta");
	q = media_req(r);
	MHD_suspend_connection(r->conn);
	if (atomic_load(&srv->stopping) || fetcher_submit(srv->fetcher,
	    r->key, &ref, fetched, r) != 0) {
		q->fetched = 1;
		q->result.status = MHD_HTTP_SERVICE_UNAVAILABLE;
		q->result.code = "stopping";
		snprintf(q->result.message, sizeof q->result.message, "the "
		    "relay is stopping; ask again when it is back");
		MHD_resume_connection(r->conn);
	}
	return MHD_YES;
}

/* -- uploads --------------------------------------------------------------- */

static enum MHD_Result
too_large(struct server *srv, struct request *r, int64_t limit,
    enum wamedia_kind kind)
{
	char msg[200];

	atomic_fetch_add(&srv->counters.too_large, 1);
	if (limit < wamedia_max_size(kind))
		snprintf(msg, sizeof msg, "the file is over [server] media_max "
		    "(%" PRId64 " bytes)", limit);
	else
		snprintf(msg, sizeof msg, "the file is over %" PRId64 " bytes, "
		    "Meta's limit for %s files", limit,
		    wamedia_kind_name(kind));
	return server_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", msg);
}

int
media_upload_begin(struct server *srv, struct request *r,
    enum MHD_Result *answer)
{
	const char *mime = MHD_lookup_connection_value(r->conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	enum wamedia_kind kind = wamedia_kind_of(mime);
	struct media_req *q;
	char *list, *msg, *cause = NULL;

	if (kind == WAMEDIA_NONE) {
		list = wamedia_supported();
		msg = xasprintf("Content-Type must be the file's type, one "
		    "Meta takes: %s", list);
		*answer = server_error_field(r,
		    MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
		    msg, "Content-Type");
		free(msg);
		free(list);
		return -1;
	}
	q = media_req(r);
	q->limit = wamedia_max_size(kind);
	if (srv->cfg->media_max < q->limit)
		q->limit = srv->cfg->media_max;
	if (cl != NULL && strtoull(cl, NULL, 10) > (unsigned long long)q->limit) {
		*answer = too_large(srv, r, q->limit, kind);
		return -1;
	}
	snprintf(q->row.mime_type, sizeof q->row.mime_type, "%s", mime);
	q->sha = EVP_MD_CTX_new();
	if (q->sha == NULL || EVP_DigestInit_ex(q->sha, EVP_sha256(), NULL) !=
	    1 || (q->fd = media_tempfile(srv->cfg, &q->tmp, &cause)) < 0) {
		log_error("media: cannot take an upload: %s", cause ? cause :
		    "no hash");
		free(cause);
		*answer = server_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", "the relay cannot store files now");
		return -1;
	}
	return 0;
}

void
media_upload_data(struct server *srv, struct request *r, const char *p,
    size_t len)
{
	struct media_req *q = r->media;
	size_t off = 0;
	ssize_t w;

	if (q == NULL || q->fd < 0 || q->too_large || q->write_errno)
		return;
	if (q->size + (int64_t)len > q->limit) {
		/* Drop what came; the rest is read and thrown away. */
		q->too_large = 1;
		close(q->fd);
		q->fd = -1;
		unlink(q->tmp);
		return;
	}
	EVP_DigestUpdate(q->sha, p, len);
	while (off < len) {
		w = write(q->fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			q->write_errno = w < 0 ? errno : EIO;
			return;
		}
		off += (size_t)w;
	}
	q->size += (int64_t)len;
}

static int
upload_apply(struct commit_job *job, struct store *st,
    const struct relay_config *cfg)
{
	struct media_req *q = job->apply_arg;

	(void)cfg;
	if (store_media_add(st, &q->row) != 0)
		return -1;
	job->status = MHD_HTTP_CREATED;
	return 0;
}

static void
upload_done(struct commit_job *job, void *arg)
{
	struct request *r = arg;

	r->job_done = 1;
	MHD_resume_connection(r->conn);
}

static enum MHD_Result
upload_answer(struct request *r)
{
	struct media_req *q = r->media;
	cJSON *o;
	char *s;
	enum MHD_Result rc;

	if (r->job.status == 500)
		return server_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", "the upload could not be recorded");
	if (r->job.status != MHD_HTTP_CREATED)
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "unavailable", "the store is not accepting writes; upload "
		    "again");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", q->row.id);
	cJSON_AddStringToObject(o, "mime_type", q->row.mime_type);
	cJSON_AddStringToObject(o, "sha256", q->row.sha256);
	jx_add_int(o, "size", q->row.size);
	s = jx_print(o);
	cJSON_Delete(o);
	rc = server_respond(r, MHD_HTTP_CREATED, "application/json", s,
	    strlen(s));
	free(s);
	return rc;
}

enum MHD_Result
media_upload(struct server *srv, struct request *r)
{
	struct media_req *q = r->media;
	unsigned char digest[32], id[32];
	unsigned int dlen = 0;
	char hex[65], *cause = NULL;
	EVP_MD_CTX *ctx;

	if (r->job_done)
		return upload_answer(r);
	if (q == NULL || q->sha == NULL)
		return server_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", "the upload was not started");
	if (q->too_large)
		return too_large(srv, r, q->limit, wamedia_kind_of(
		    q->row.mime_type));
	if (q->write_errno != 0) {
		log_error("media: cannot write an upload: %s",
		    strerror(q->write_errno));
		return server_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", "the relay cannot store the file");
	}
	if (q->size == 0)
		return server_error(r, MHD_HTTP_BAD_REQUEST, "empty",
		    "the body (the file) is empty");
	EVP_DigestFinal_ex(q->sha, digest, &dlen);
	/* The id names the bytes and their type: the same file uploaded
	 * again is the same upload. */
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, digest, sizeof digest) != 1 ||
	    EVP_DigestUpdate(ctx, q->row.mime_type,
	    strlen(q->row.mime_type)) != 1 ||
	    EVP_DigestFinal_ex(ctx, id, &dlen) != 1) {
		EVP_MD_CTX_free(ctx);
		return server_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", "cannot hash the file");
	}
	EVP_MD_CTX_free(ctx);
	hex_encode(id, 16, hex);
	snprintf(q->row.id, sizeof q->row.id, UPLOAD_PREFIX "%s", hex);
	snprintf(q->row.direction, sizeof q->row.direction, "out");
	hex_encode(digest, sizeof digest, q->row.sha256);
	q->row.size = q->size;
	q->row.agent_id = r->agent.id;
	q->row.created_at = (int64_t)time(NULL);
	if (media_commit_file(srv->cfg, q->fd, q->tmp, q->row.id,
	    &cause) != 0) {
		q->fd = -1;
		free(q->tmp);
		q->tmp = NULL;
		log_error("media: cannot store an upload: %s", cause);
		free(cause);
		return server_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", "the relay cannot store the file");
	}
	q->fd = -1;
	free(q->tmp);
	q->tmp = NULL;
	log_info("media: agent %" PRId64 " uploaded %s (%" PRId64 " bytes)",
	    r->agent.id, q->row.id, q->row.size);

	/* On disk first, then on record: a crash in between leaves a file
	 * the next identical upload takes over. */
	r->job.apply = upload_apply;
	r->job.apply_arg = q;
	r->job.done = upload_done;
	r->job.arg = r;
	MHD_suspend_connection(r->conn);
	if (atomic_load(&srv->stopping) ||
	    committer_submit(srv->committer, &r->job) != 0) {
		r->job.status = MHD_HTTP_SERVICE_UNAVAILABLE;
		r->job_done = 1;
		MHD_resume_connection(r->conn);
	}
	return MHD_YES;
}
