/*
 * libFuzzer target for Graph's answer to GET /{media-id} (the relay parses
 * it before fetching media) and for the sha256 and MIME checks it uses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/wamedia.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wamedia_info info;
	unsigned char digest[32];
	const char *why = NULL;
	char *s;

	if (wamedia_info_parse((const char *)data, size, &info, &why) == 0) {
		/* Whatever parsed must hold what the relay relies on. */
		if (info.url == NULL || (info.mime_type != NULL &&
		    !wamedia_mime_valid(info.mime_type)))
			abort();
		wamedia_info_free(&info);
	} else if (why == NULL)
		abort();
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	(void)wamedia_sha256_decode(s, digest);
	(void)wamedia_kind_of(s);
	free(s);
	return 0;
}
