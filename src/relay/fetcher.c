/*
 * Fetcher threads (glivi-fetch). Each takes the oldest queued media id,
 * resolves and downloads it, verifies it, stores it, and then tells every
 * request that waits for that id. It never calls the HTTP library: the
 * waiters' done() hooks resume their own connections.
 */
#include "relay/fetcher.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/hmac.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/wamedia.h"
#include "core/xalloc.h"
#include "relay/graphmedia.h"
#include "relay/media.h"

/* Fetches at once: a long download does not hold up every other one. */
#define FETCHERS 2

struct waiter {
	fetch_done_fn done;
	void *arg;
	struct waiter *next;
};

struct job {
	char id[MEDIA_ID_MAX + 1];
	struct store_media_ref ref;
	struct waiter *waiters;
	struct job *next;
};

struct fetcher {
	const struct relay_config *cfg;
	struct committer *committer;
	char *auth_header;
	pthread_t threads[FETCHERS];
	size_t nthreads;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job *queue, *queue_tail;
	struct job *inflight;
	atomic_int stopping;
};

static void result_set(struct fetch_result *, unsigned, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
result_set(struct fetch_result *res, unsigned status, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	res->status = status;
	res->code = code;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof res->message, fmt, ap);
	va_end(ap);
}

/* Text from outside (Meta's error message) made fit for a JSON answer:
 * printable ASCII, at most max bytes. */
static void
clean(char *dst, size_t max, const char *src)
{
	size_t n = 0;

	for (; src != NULL && *src != '\0' && n + 1 < max; src++)
		dst[n++] = *src >= 0x20 && *src < 0x7f ? *src : '?';
	dst[n] = '\0';
}

/* "(#100) …" from a Graph error answer, cleaned; "" when there is none. */
static void
graph_error_text(const struct buf *answer, char *out, size_t len)
{
	cJSON *root = answer->len ? cJSON_ParseWithLength(answer->data,
	    answer->len) : NULL;

	clean(out, len, jx_str(jx_obj(root, "error"), "message"));
	cJSON_Delete(root);
}

static int
add_row(struct store *st, void *arg)
{
	return store_media_add(st, arg);
}

/* Whether the file of a recorded media id is on disk. */
static int
stored(const struct relay_config *cfg, struct store *reader, const char *id)
{
	struct store_media m;
	struct stat sb;
	char *path;
	int ok;

	if (store_media_get(reader, id, &m) != 1)
		return 0;
	path = media_path(cfg, id);
	ok = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
	free(path);
	return ok;
}

static void
fetch(struct fetcher *f, CURL *curl, struct store *reader, struct job *j,
    struct fetch_result *res)
{
	const struct relay_config *cfg = f->cfg;
	struct wamedia_info info = { 0 };
	struct graphmedia_file file;
	struct store_media row;
	struct buf answer;
	unsigned char want[32];
	const char *why, *mime;
	char *cause = NULL, *tmp = NULL, meta[200];
	long status;
	int fd = -1;

	info.file_size = -1;
	memset(&file, 0, sizeof file);
	buf_init(&answer);
	if (stored(cfg, reader, j->id)) {
		result_set(res, 200, NULL, "stored");
		goto out;
	}
	for (int attempt = 0;; attempt++) {
		buf_reset(&answer);
		free(cause);
		cause = NULL;
		status = graphmedia_resolve(curl, cfg, f->auth_header, j->id,
		    j->ref.phone_number_id, &answer, &cause);
		if (status == 0) {
			result_set(res, 502, "media_unavailable", "the Graph "
			    "API could not be reached to look up media %s: %s",
			    j->id, cause);
			goto out;
		}
		if (status != 200) {
			graph_error_text(&answer, meta, sizeof meta);
			result_set(res, 502, "media_unavailable", "the Graph "
			    "API refused to look up media %s (HTTP %ld)%s%s",
			    j->id, status, meta[0] ? ": " : "", meta);
			goto out;
		}
		wamedia_info_free(&info);
		if (wamedia_info_parse(answer.data, answer.len, &info,
		    &why) != 0) {
			result_set(res, 502, "media_unavailable", "the Graph "
			    "API's answer about media %s is malformed: %s",
			    j->id, why);
			goto out;
		}
		if (info.id != NULL && strcmp(info.id, j->id) != 0) {
			result_set(res, 502, "media_unavailable", "the Graph "
			    "API answered about another media id than %s",
			    j->id);
			goto out;
		}
		/* Graph's digest; the webhook's when Graph gives none. */
		if (info.has_sha256)
			memcpy(want, info.sha256, sizeof want);
		else if (wamedia_sha256_decode(j->ref.sha256, want) != 0) {
			result_set(res, 502, "media_unavailable", "neither the "
			    "Graph API nor the webhook gave a sha256 for media "
			    "%s: nothing to check the file against", j->id);
			goto out;
		}
		if (info.file_size > cfg->media_max) {
			result_set(res, 502, "media_too_large", "media %s is "
			    "%lld bytes, over [server] media_max (%lld); it was "
			    "not fetched", j->id, info.file_size,
			    cfg->media_max);
			goto out;
		}
		if (graphmedia_url_allowed(cfg, info.url, &cause) != 0) {
			result_set(res, 502, "media_unavailable", "media %s: %s",
			    j->id, cause);
			goto out;
		}
		if (fd < 0 && (fd = media_tempfile(cfg, &tmp, &cause)) < 0) {
			result_set(res, 500, "internal", "cannot store media "
			    "%s: %s", j->id, cause);
			goto out;
		}
		if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
			result_set(res, 500, "internal", "cannot store media "
			    "%s: %s", j->id, strerror(errno));
			goto out;
		}
		memset(&file, 0, sizeof file);
		file.fd = fd;
		file.max = cfg->media_max;
		status = graphmedia_download(curl, f->auth_header, info.url,
		    &file, &cause);
		if (status == 0 && file.too_large) {
			result_set(res, 502, "media_too_large", "media %s is "
			    "over [server] media_max (%lld bytes); nothing was "
			    "kept", j->id, cfg->media_max);
			goto out;
		}
		if (status == 0 && file.write_errno != 0) {
			result_set(res, 500, "internal", "cannot store media "
			    "%s: %s", j->id, strerror(file.write_errno));
			goto out;
		}
		if (status == 0) {
			result_set(res, 502, "media_unavailable", "the download "
			    "of media %s failed: %s", j->id, cause);
			goto out;
		}
		/* Meta's URLs last five minutes: a refused one has expired
		 * (or was never good); a fresh lookup gives another, once. */
		if ((status == 401 || status == 403 || status == 404) &&
		    attempt == 0) {
			log_info("media: the download URL of %s was refused "
			    "(HTTP %ld); looking it up again", j->id, status);
			continue;
		}
		if (status != 200) {
			result_set(res, 502, "media_unavailable", "the download "
			    "of media %s was refused (HTTP %ld)%s", j->id,
			    status, attempt > 0 ? ", also with a fresh URL" :
			    "");
			goto out;
		}
		break;
	}
	if (info.file_size >= 0 && file.size != info.file_size) {
		result_set(res, 502, "media_size_mismatch", "media %s is %lld "
		    "bytes, not the %lld the Graph API advertised; nothing was "
		    "kept", j->id, (long long)file.size, info.file_size);
		goto out;
	}
	if (CRYPTO_memcmp(file.sha256, want, sizeof want) != 0) {
		result_set(res, 502, "media_sha256_mismatch", "the bytes of "
		    "media %s do not match the sha256 %s advertised; nothing "
		    "was kept", j->id, info.has_sha256 ? "the Graph API" :
		    "the webhook");
		goto out;
	}
	mime = info.mime_type;
	if (mime == NULL && wamedia_mime_valid(j->ref.mime_type))
		mime = j->ref.mime_type;
	if (mime == NULL)
		mime = "application/octet-stream";
	if (media_commit_file(cfg, fd, tmp, j->id, &cause) != 0) {
		fd = -1;
		result_set(res, 500, "internal", "cannot store media %s: %s",
		    j->id, cause);
		goto out;
	}
	fd = -1;
	memset(&row, 0, sizeof row);
	snprintf(row.id, sizeof row.id, "%s", j->id);
	snprintf(row.direction, sizeof row.direction, "in");
	snprintf(row.mime_type, sizeof row.mime_type, "%s", mime);
	hex_encode(file.sha256, sizeof file.sha256, row.sha256);
	row.size = file.size;
	row.created_at = (int64_t)time(NULL);
	if (committer_call(f->committer, add_row, &row) != 0) {
		result_set(res, 503, "store_unavailable", "media %s was fetched "
		    "but could not be recorded; ask again", j->id);
		goto out;
	}
	log_info("media: fetched %s (%lld bytes)", j->id, (long long)row.size);
	result_set(res, 200, NULL, "stored");
out:
	if (res->status != 200 && atomic_load(&f->stopping))
		result_set(res, 503, "stopping", "the relay is stopping; ask "
		    "again when it is back");
	else if (res->status != 200)
		log_warn("media: %s", res->message);
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	free(cause);
	buf_free(&answer);
	wamedia_info_free(&info);
}

static void
answer_waiters(struct job *j, const struct fetch_result *res)
{
	struct waiter *w, *next;

	for (w = j->waiters; w != NULL; w = next) {
		next = w->next;
		w->done(w->arg, res);
		free(w);
	}
	j->waiters = NULL;
}

static void *
fetcher_main(void *arg)
{
	struct fetcher *f = arg;
	struct store *reader = NULL;
	struct fetch_result res;
	struct job *j, **p;
	char *cause = NULL;
	CURL *curl;

	pthread_setname_np(pthread_self(), "glivi-fetch");
	curl = graph_curl(f->cfg, &f->stopping);
	if (curl == NULL || store_open_reader(f->cfg->store_url, &reader,
	    &cause) != 0) {
		log_error("media: the fetcher cannot start: %s", cause ? cause :
		    "no curl handle");
		free(cause);
	}
	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (f->queue == NULL && !atomic_load(&f->stopping))
			pthread_cond_wait(&f->wake, &f->lock);
		if (atomic_load(&f->stopping))
			break;
		j = f->queue;
		f->queue = j->next;
		if (f->queue == NULL)
			f->queue_tail = NULL;
		j->next = f->inflight;
		f->inflight = j;
		pthread_mutex_unlock(&f->lock);

		memset(&res, 0, sizeof res);
		if (curl == NULL || reader == NULL)
			result_set(&res, 503, "media_unavailable", "the media "
			    "fetcher could not start; see the relay's log");
		else
			fetch(f, curl, reader, j, &res);

		pthread_mutex_lock(&f->lock);
		for (p = &f->inflight; *p != j; p = &(*p)->next)
			;
		*p = j->next;
		/* Waiters that joined during the fetch are in the list now;
		 * later ones find the file stored. */
		pthread_mutex_unlock(&f->lock);
		answer_waiters(j, &res);
		free(j);
		pthread_mutex_lock(&f->lock);
	}
	pthread_mutex_unlock(&f->lock);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	store_close(reader);
	return NULL;
}

struct fetcher *
fetcher_start(const struct relay_config *cfg, struct committer *committer,
    const char *token, char **cause)
{
	struct fetcher *f = xcalloc(1, sizeof *f);
	int rc;

	f->cfg = cfg;
	f->committer = committer;
	f->auth_header = xasprintf("Authorization: Bearer %s", token);
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->wake, NULL);
	for (size_t i = 0; i < FETCHERS; i++) {
		rc = pthread_create(&f->threads[i], NULL, fetcher_main, f);
		if (rc != 0) {
			*cause = xasprintf("cannot start the media fetcher: %s",
			    strerror(rc));
			fetcher_stop(f);
			fetcher_free(f);
			return NULL;
		}
		f->nthreads++;
	}
	return f;
}

int
fetcher_submit(struct fetcher *f, const char *id,
    const struct store_media_ref *ref, fetch_done_fn done, void *arg)
{
	struct waiter *w;
	struct job *j;

	if (f == NULL || strlen(id) > MEDIA_ID_MAX)
		return -1;
	w = xcalloc(1, sizeof *w);
	w->done = done;
	w->arg = arg;
	pthread_mutex_lock(&f->lock);
	if (atomic_load(&f->stopping)) {
		pthread_mutex_unlock(&f->lock);
		free(w);
		return -1;
	}
	/* One fetch per id: join one queued or in flight. */
	for (j = f->inflight; j != NULL && strcmp(j->id, id) != 0; j = j->next)
		;
	if (j == NULL)
		for (j = f->queue; j != NULL && strcmp(j->id, id) != 0;
		    j = j->next)
			;
	if (j == NULL) {
		j = xcalloc(1, sizeof *j);
		snprintf(j->id, sizeof j->id, "%s", id);
		j->ref = *ref;
		if (f->queue_tail != NULL)
			f->queue_tail->next = j;
		else
			f->queue = j;
		f->queue_tail = j;
		pthread_cond_signal(&f->wake);
	}
	w->next = j->waiters;
	j->waiters = w;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

void
fetcher_stop(struct fetcher *f)
{
	struct fetch_result res;
	struct job *j, *next;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	atomic_store(&f->stopping, 1);
	pthread_cond_broadcast(&f->wake);
	pthread_mutex_unlock(&f->lock);
	/* Transfers in flight end at their next progress callback; their
	 * waiters are answered by their threads. */
	for (size_t i = 0; i < f->nthreads; i++)
		pthread_join(f->threads[i], NULL);
	f->nthreads = 0;
	memset(&res, 0, sizeof res);
	result_set(&res, 503, "stopping", "the relay is stopping; ask again "
	    "when it is back");
	for (j = f->queue; j != NULL; j = next) {
		next = j->next;
		answer_waiters(j, &res);
		free(j);
	}
	f->queue = f->queue_tail = NULL;
}

void
fetcher_free(struct fetcher *f)
{
	if (f == NULL)
		return;
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->wake);
	explicit_bzero(f->auth_header, strlen(f->auth_header));
	free(f->auth_header);
	free(f);
}
