/*
 * Meta's rules for WhatsApp media, shared by the relay and the simulator:
 * which MIME types each kind of media takes and up to what size, the two
 * spellings of a sha256 (hex and base64) Meta uses, and the Graph API's
 * answer to GET /{media-id}. Pure functions over outside input: no I/O.
 */
#ifndef GLIVI_WAMEDIA_H
#define GLIVI_WAMEDIA_H

#include <stddef.h>

enum wamedia_kind {
	WAMEDIA_NONE, /* not a type Meta takes */
	WAMEDIA_AUDIO,
	WAMEDIA_DOCUMENT,
	WAMEDIA_IMAGE,
	WAMEDIA_STICKER,
	WAMEDIA_VIDEO,
};

#define WAMEDIA_MB (1024LL * 1024)

/*
 * The kind a MIME type belongs to at Meta, comparing type/subtype without
 * case and ignoring parameters ("audio/ogg; codecs=opus" is audio);
 * WAMEDIA_NONE when Meta does not take it.
 */
enum wamedia_kind wamedia_kind_of(const char *mime);
const char *wamedia_kind_name(enum wamedia_kind);
/* The largest file Meta takes of a kind, in bytes (0 for NONE). */
long long wamedia_max_size(enum wamedia_kind);
/* Whether a message of type (image, video, audio, document, sticker) may
 * carry a file of this MIME type. */
int wamedia_type_accepts(const char *type, const char *mime);
/* Every type Meta takes, comma-separated, for error messages (the caller
 * frees it). */
char *wamedia_supported(void);

/*
 * A MIME type fit to send back in a Content-Type header: type "/" subtype
 * of token characters, then optional "; name=value" parameters, printable
 * ASCII only (no CR or LF), at most 255 bytes.
 */
int wamedia_mime_valid(const char *);

/* A sha256 as Meta writes it, 64 hex digits or base64 (44 characters with
 * padding, 43 without): 0 with the digest, -1 for anything else. */
int wamedia_sha256_decode(const char *, unsigned char out[32]);

/* Graph's answer to GET /{version}/{media-id}. */
struct wamedia_info {
	char *id;	 /* NULL when absent */
	char *url;	 /* http(s), required */
	char *mime_type; /* NULL when absent */
	unsigned char sha256[32];
	int has_sha256;
	long long file_size; /* -1 when absent */
};

/*
 * Parses the answer (a number or a string of digits for file_size; hex or
 * base64 for sha256). Returns -1 with *why set to a static reason when it
 * is not an object with an http(s) url, or a member is malformed.
 */
int wamedia_info_parse(const char *body, size_t len, struct wamedia_info *,
    const char **why);
void wamedia_info_free(struct wamedia_info *);

#endif
