/*
 * Graph API media over libcurl. Every handle verifies certificates and
 * host names, speaks only http(s), follows no redirect (so the token never
 * goes to a host it was not meant for) and stops when the relay stops.
 */
#include "relay/graphmedia.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/xalloc.h"

#define MAX_ANSWER (64 * 1024) /* Graph's JSON answers are small */
#define MAX_DOWNLOAD_TIME 600L /* seconds, whatever the size */

/* Meta's hosts a download URL may point at, besides graph_url's. */
static const char *const meta_domains[] = { "fbsbx.com", "facebook.com",
	"fbcdn.net", "whatsapp.net", NULL };

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	atomic_int *stopping = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return stopping != NULL && atomic_load(stopping);
}

CURL *
graph_curl(const struct relay_config *cfg, atomic_int *stopping)
{
	CURL *c = curl_easy_init();

	if (c == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "glivi-relay/" GLIVI_VERSION);
	if (cfg->graph_ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->graph_ca_file);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, stopping);
	return c;
}

static size_t
on_answer(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > MAX_ANSWER)
		return 0;
	buf_add(b, p, size * n);
	return size * n;
}

/* One request whose answer is small JSON. */
static long
perform(CURL *c, struct curl_slist *hdrs, long timeout, int stall,
    struct buf *answer, char **cause)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode cc;

	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, answer);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, stall ? 1024L : 0L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	if (cc != CURLE_OK) {
		*cause = xasprintf("%s", errbuf[0] ? errbuf :
		    curl_easy_strerror(cc));
		return 0;
	}
	return status;
}

long
graphmedia_resolve(CURL *c, const struct relay_config *cfg,
    const char *auth_header, const char *id, const char *phone_number_id,
    struct buf *answer, char **cause)
{
	struct curl_slist *hdrs = curl_slist_append(NULL, auth_header);
	char *url, *pn;
	long status;

	pn = curl_easy_escape(c, phone_number_id, 0);
	url = xasprintf("%s/%s/%s?phone_number_id=%s", cfg->graph_url,
	    cfg->graph_version, id, pn ? pn : "");
	curl_free(pn);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	status = perform(c, hdrs, (long)cfg->request_timeout, 0, answer,
	    cause);
	curl_slist_free_all(hdrs);
	free(url);
	return status;
}

/* The URL's lower-cased host and scheme; -1 when it has none. */
static int
url_parts(const char *url, char **scheme, char **host)
{
	CURLU *u = curl_url();
	int rc = -1;

	*scheme = *host = NULL;
	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK) {
		for (char *p = *host; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		rc = 0;
	}
	curl_url_cleanup(u);
	return rc;
}

static int
under_domain(const char *host, const char *domain)
{
	size_t h = strlen(host), d = strlen(domain);

	if (h == d)
		return strcmp(host, domain) == 0;
	return h > d && host[h - d - 1] == '.' &&
	    strcmp(host + h - d, domain) == 0;
}

int
graphmedia_url_allowed(const struct relay_config *cfg, const char *url,
    char **cause)
{
	char *scheme = NULL, *host = NULL, *gscheme = NULL, *ghost = NULL;
	int ok = 0;

	if (url_parts(url, &scheme, &host) != 0 ||
	    url_parts(cfg->graph_url, &gscheme, &ghost) != 0) {
		*cause = xstrdup("the download URL cannot be parsed");
		goto out;
	}
	if (strcmp(host, ghost) == 0)
		ok = strcmp(scheme, "https") == 0 || strcmp(scheme,
		    gscheme) == 0;
	else if (strcmp(scheme, "https") == 0) {
		for (size_t i = 0; meta_domains[i] != NULL && !ok; i++)
			ok = under_domain(host, meta_domains[i]);
	}
	if (!ok)
		*cause = xasprintf("the download URL points at %s://%.200s, "
		    "which is neither graph_url's host nor Meta's: the access "
		    "token is not sent there", scheme, host);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(gscheme);
	curl_free(ghost);
	return ok ? 0 : -1;
}

struct download {
	CURL *c;
	struct graphmedia_file *f;
	EVP_MD_CTX *sha;
	long status;
};

static size_t
on_file(char *p, size_t size, size_t n, void *arg)
{
	struct download *d = arg;
	struct graphmedia_file *f = d->f;
	size_t len = size * n, off = 0;
	ssize_t w;

	if (d->status == 0)
		curl_easy_getinfo(d->c, CURLINFO_RESPONSE_CODE, &d->status);
	if (d->status != 200)
		return len; /* an error page: not the file */
	if (f->size + (int64_t)len > f->max) {
		f->too_large = 1;
		return 0;
	}
	EVP_DigestUpdate(d->sha, p, len);
	while (off < len) {
		w = write(f->fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			f->write_errno = w < 0 ? errno : EIO;
			return 0;
		}
		off += (size_t)w;
	}
	f->size += (int64_t)len;
	return len;
}

long
graphmedia_download(CURL *c, const char *auth_header, const char *url,
    struct graphmedia_file *f, char **cause)
{
	struct curl_slist *hdrs = curl_slist_append(NULL, auth_header);
	char errbuf[CURL_ERROR_SIZE] = "";
	struct download d;
	unsigned int len = 0;
	long status = 0;
	CURLcode cc;

	f->size = 0;
	f->too_large = 0;
	f->write_errno = 0;
	memset(&d, 0, sizeof d);
	d.c = c;
	d.f = f;
	d.sha = EVP_MD_CTX_new();
	if (d.sha == NULL || EVP_DigestInit_ex(d.sha, EVP_sha256(), NULL) !=
	    1) {
		EVP_MD_CTX_free(d.sha);
		curl_slist_free_all(hdrs);
		*cause = xstrdup("cannot hash");
		return 0;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_file);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	/* A large file takes its time; a stalled one does not. */
	curl_easy_setopt(c, CURLOPT_TIMEOUT, MAX_DOWNLOAD_TIME);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdrs);
	EVP_DigestFinal_ex(d.sha, f->sha256, &len);
	EVP_MD_CTX_free(d.sha);
	if (cc != CURLE_OK) {
		*cause = xasprintf("%s", f->too_large ? "over the size limit" :
		    f->write_errno ? strerror(f->write_errno) : errbuf[0] ?
		    errbuf : curl_easy_strerror(cc));
		return 0;
	}
	return status;
}

long
graphmedia_upload(CURL *c, const struct relay_config *cfg,
    const char *auth_header, const char *phone_number_id, const char *path,
    const char *mime, struct buf *answer, char **cause)
{
	struct curl_slist *hdrs = curl_slist_append(NULL, auth_header);
	curl_mime *form = curl_mime_init(c);
	curl_mimepart *part;
	char *url;
	long status;

	part = curl_mime_addpart(form);
	curl_mime_name(part, "messaging_product");
	curl_mime_data(part, "whatsapp", CURL_ZERO_TERMINATED);
	part = curl_mime_addpart(form);
	curl_mime_name(part, "type");
	curl_mime_data(part, mime, CURL_ZERO_TERMINATED);
	part = curl_mime_addpart(form);
	curl_mime_name(part, "file");
	if (curl_mime_filedata(part, path) != CURLE_OK) {
		curl_mime_free(form);
		curl_slist_free_all(hdrs);
		*cause = xasprintf("cannot read the file to upload");
		return 0;
	}
	curl_mime_type(part, mime);
	url = xasprintf("%s/%s/%s/media", cfg->graph_url, cfg->graph_version,
	    phone_number_id);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, form);
	/* An upload of 100 MB at a slow link: bounded by a stall, not by
	 * request_timeout, which is for small calls. */
	status = perform(c, hdrs, MAX_DOWNLOAD_TIME, 1, answer, cause);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, NULL);
	curl_mime_free(form);
	curl_slist_free_all(hdrs);
	free(url);
	return status;
}
