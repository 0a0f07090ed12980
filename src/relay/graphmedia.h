/*
 * The Graph API's media calls over libcurl, with certificate checks always
 * on ([outbound] ca_file for a private CA): look a media id up, download
 * the file it names into an open file descriptor (hashing as it goes,
 * stopping at a size cap), and upload a file to send by id. Blocking
 * calls, for the fetcher and sender threads only; never logs a token.
 */
#ifndef GLIVI_GRAPHMEDIA_H
#define GLIVI_GRAPHMEDIA_H

#include <stdatomic.h>
#include <stdint.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "relay/config.h"

/*
 * A new handle for any Graph API call (media, sends, template lists): TLS
 * verified with [outbound] ca_file, no redirects, no signals; a transfer
 * stops once *stopping is set. Callers add their timeout and headers.
 */
CURL *graph_curl(const struct relay_config *, atomic_int *stopping);

/*
 * GET {graph_url}/{graph_version}/{id}?phone_number_id=P. Returns the HTTP
 * status with the answer (at most 64 KiB) in *answer, or 0 with *cause set
 * when no answer came.
 */
long graphmedia_resolve(CURL *, const struct relay_config *,
    const char *auth_header, const char *id, const char *phone_number_id,
    struct buf *answer, char **cause);

/*
 * Whether the relay may send its access token to a download URL: https
 * (or http when graph_url is, on loopback) to graph_url's host or one of
 * Meta's (fbsbx.com, facebook.com, fbcdn.net, whatsapp.net). -1 with
 * *cause set when not.
 */
int graphmedia_url_allowed(const struct relay_config *, const char *url,
    char **cause);

struct graphmedia_file {
	int fd;		 /* where a 200's body goes */
	int64_t max;	 /* more than this many bytes: stop, too_large */
	int64_t size;	 /* written */
	unsigned char sha256[32];
	int too_large;
	int write_errno; /* a failed write() stops the transfer */
};

/*
 * GET url with the bearer token, no redirects followed. A 200's body goes
 * to f->fd, hashed; another status's body is dropped. Returns the HTTP
 * status, or 0 with *cause set when the transfer failed (f->too_large and
 * f->write_errno say when it was stopped on purpose).
 */
long graphmedia_download(CURL *, const char *auth_header, const char *url,
    struct graphmedia_file *f, char **cause);

/*
 * POST {graph_url}/{graph_version}/{phone_number_id}/media as multipart:
 * messaging_product=whatsapp, type=mime, file=the file at path. Returns
 * the HTTP status with the answer in *answer, or 0 with *cause set when
 * no answer came.
 */
long graphmedia_upload(CURL *, const struct relay_config *,
    const char *auth_header, const char *phone_number_id, const char *path,
    const char *mime, struct buf *answer, char **cause);

#endif
