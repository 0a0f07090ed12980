/*
 * Meta's media rules and the Graph API's media answer. The tables follow
 * the Cloud API's "supported media types" (reference §9); sizes are in
 * binary megabytes, which is how the relay and the simulator both count.
 */
#include "core/wamedia.h"

#include "core/hmac.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "core/xalloc.h"

static const struct {
	const char *mime;
	enum wamedia_kind kind;
} types[] = {
	{ "audio/aac", WAMEDIA_AUDIO },
	{ "audio/amr", WAMEDIA_AUDIO },
	{ "audio/mpeg", WAMEDIA_AUDIO },
	{ "audio/mp4", WAMEDIA_AUDIO },
	{ "audio/ogg", WAMEDIA_AUDIO },
	{ "text/plain", WAMEDIA_DOCUMENT },
	{ "application/pdf", WAMEDIA_DOCUMENT },
	{ "application/msword", WAMEDIA_DOCUMENT },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml."
	  "document", WAMEDIA_DOCUMENT },
	{ "application/vnd.ms-excel", WAMEDIA_DOCUMENT },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	  WAMEDIA_DOCUMENT },
	{ "application/vnd.ms-powerpoint", WAMEDIA_DOCUMENT },
	{ "application/vnd.openxmlformats-officedocument.presentationml."
	  "presentation", WAMEDIA_DOCUMENT },
	{ "image/jpeg", WAMEDIA_IMAGE },
	{ "image/png", WAMEDIA_IMAGE },
	{ "image/webp", WAMEDIA_STICKER },
	{ "video/mp4", WAMEDIA_VIDEO },
	{ "video/3gpp", WAMEDIA_VIDEO },
	/* Some of Meta's pages spell it so. */
	{ "video/3gp", WAMEDIA_VIDEO },
};
#define NTYPES (sizeof types / sizeof types[0])

static const struct {
	enum wamedia_kind kind;
	const char *name;
	long long max;
} kinds[] = {
	{ WAMEDIA_AUDIO, "audio", 16 * WAMEDIA_MB },
	{ WAMEDIA_DOCUMENT, "document", 100 * WAMEDIA_MB },
	{ WAMEDIA_IMAGE, "image", 5 * WAMEDIA_MB },
	/* 100 KB static, 500 KB animated: the bytes alone do not say which,
	 * so the larger. */
	{ WAMEDIA_STICKER, "sticker", 500 * 1024 },
	{ WAMEDIA_VIDEO, "video", 16 * WAMEDIA_MB },
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

/* RFC 9110's token characters. */
static int
is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

/* Length of the type/subtype at the front of mime; 0 when malformed. */
static size_t
essence_length(const char *mime)
{
	size_t i = 0, slash = 0;

	while (is_tchar((unsigned char)mime[i]))
		i++;
	if (i == 0 || mime[i] != '/')
		return 0;
	slash = ++i;
	while (is_tchar((unsigned char)mime[i]))
		i++;
	return i > slash ? i : 0;
}

enum wamedia_kind
wamedia_kind_of(const char *mime)
{
	size_t n;

	if (!wamedia_mime_valid(mime) || (n = essence_length(mime)) == 0)
		return WAMEDIA_NONE;
	for (size_t i = 0; i < NTYPES; i++) {
		if (strlen(types[i].mime) == n &&
		    strncasecmp(types[i].mime, mime, n) == 0)
			return types[i].kind;
	}
	return WAMEDIA_NONE;
}

const char *
wamedia_kind_name(enum wamedia_kind k)
{
	for (size_t i = 0; i < NKINDS; i++) {
		if (kinds[i].kind == k)
			return kinds[i].name;
	}
	return "unsupported";
}

long long
wamedia_max_size(enum wamedia_kind k)
{
	for (size_t i = 0; i < NKINDS; i++) {
		if (kinds[i].kind == k)
			return kinds[i].max;
	}
	return 0;
}

int
wamedia_type_accepts(const char *type, const char *mime)
{
	enum wamedia_kind k = wamedia_kind_of(mime);

	if (k == WAMEDIA_NONE || type == NULL)
		return 0;
	/* A document may be any file Meta takes; the others only their own
	 * kind. */
	if (strcmp(type, "document") == 0)
		return 1;
	return strcmp(type, wamedia_kind_name(k)) == 0;
}

char *
wamedia_supported(void)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < NTYPES; i++)
		buf_printf(&b, "%s%s", i > 0 ? ", " : "", types[i].mime);
	return buf_steal(&b);
}

int
wamedia_mime_valid(const char *mime)
{
	size_t n, len;

	if (mime == NULL || (len = strlen(mime)) == 0 || len > 255)
		return 0;
	if ((n = essence_length(mime)) == 0)
		return 0;
	for (size_t i = n; i < len; i++) {
		if (mime[i] < 0x20 || mime[i] > 0x7e)
			return 0;
	}
	/* Whatever follows the essence is parameters. */
	while (mime[n] == ' ')
		n++;
	return mime[n] == '\0' || mime[n] == ';';
}

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
wamedia_sha256_decode(const char *s, unsigned char out[32])
{
	size_t len = s != NULL ? strlen(s) : 0;
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	if (len == 64) {
		for (size_t i = 0; i < 32; i++) {
			int hi = hex_digit((unsigned char)s[2 * i]);
			int lo = hex_digit((unsigned char)s[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return -1;
			out[i] = (unsigned char)(hi << 4 | lo);
		}
		return 0;
	}
	/* 32 bytes are 43 base64 characters and 2 bits of padding. */
	if (len == 44 && s[43] != '=')
		return -1;
	if (len != 43 && len != 44)
		return -1;
	for (size_t i = 0; i < 43; i++) {
		int v = b64_value((unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* The two bits left over must be zero in a canonical encoding. */
	return n == 32 && acc == 0 ? 0 : -1;
}

static int
url_valid(const char *u)
{
	size_t len = strlen(u);

	if (len > 4096 || (strncmp(u, "https://", 8) != 0 &&
	    strncmp(u, "http://", 7) != 0))
		return 0;
	for (; *u != '\0'; u++) {
		if ((unsigned char)*u <= 0x20 || (unsigned char)*u >= 0x7f)
			return 0;
	}
	return 1;
}

void
wamedia_info_free(struct wamedia_info *info)
{
	free(info->id);
	free(info->url);
	free(info->mime_type);
	memset(info, 0, sizeof *info);
	info->file_size = -1;
}

int
wamedia_info_parse(const char *body, size_t len, struct wamedia_info *info,
    const char **why)
{
	cJSON *o = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *v;
	int64_t size;
	const char *s;

	memset(info, 0, sizeof *info);
	info->file_size = -1;
	if (!cJSON_IsObject(o)) {
		*why = "the answer is not a JSON object";
		goto fail;
	}
	if ((s = jx_str(o, "url")) == NULL || !url_valid(s)) {
		*why = "the answer has no http(s) url";
		goto fail;
	}
	info->url = xstrdup(s);
	v = cJSON_GetObjectItemCaseSensitive(o, "mime_type");
	if (v != NULL && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v) || !wamedia_mime_valid(v->valuestring)) {
			*why = "mime_type is not a MIME type";
			goto fail;
		}
		info->mime_type = xstrdup(v->valuestring);
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "sha256");
	if (v != NULL && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v) || wamedia_sha256_decode(v->valuestring,
		    info->sha256) != 0) {
			*why = "sha256 is neither 64 hex digits nor base64 of "
			    "32 bytes";
			goto fail;
		}
		info->has_sha256 = 1;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "file_size");
	if (v != NULL && !cJSON_IsNull(v)) {
		if (jx_int64(o, "file_size", &size) != 0) {
			*why = "file_size is not a whole number of bytes";
			goto fail;
		}
		info->file_size = size;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "id");
	if (cJSON_IsString(v) && v->valuestring[0] != '\0' &&
	    strlen(v->valuestring) <= 128)
		info->id = xstrdup(v->valuestring);
	else if (v != NULL && !cJSON_IsNull(v) && jx_int64(o, "id",
	    &size) == 0)
		info->id = xasprintf("%lld", (long long)size);
	else if (v != NULL && !cJSON_IsNull(v)) {
		*why = "id is not a media id";
		goto fail;
	}
	cJSON_Delete(o);
	return 0;
fail:
	cJSON_Delete(o);
	wamedia_info_free(info);
	return -1;
}
