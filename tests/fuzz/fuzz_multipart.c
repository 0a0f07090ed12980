/*
 * libFuzzer target for the simulator's multipart/form-data reader (what
 * a relay uploads to POST /{phone_number_id}/media). The input's first
 * line is the Content-Type header, the rest the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size), *body, *why = NULL;
	struct multipart m;
	size_t hlen, blen;
	char *ct, *copy;

	hlen = nl ? (size_t)(nl - (const char *)data) : size;
	ct = malloc(hlen + 1);
	memcpy(ct, data, hlen);
	ct[hlen] = '\0';
	body = nl ? nl + 1 : (const char *)data + size;
	blen = size - (size_t)(body - (const char *)data);
	/* A copy of exactly the body, so reads past it are caught. */
	copy = malloc(blen ? blen : 1);
	memcpy(copy, body, blen);
	if (multipart_parse(ct, copy, blen, &m, &why) == 0) {
		for (size_t i = 0; i < m.n; i++) {
			const struct multipart_part *p = &m.parts[i];

			if (p->name == NULL || p->data < copy ||
			    p->data + p->len > copy + blen)
				abort();
		}
		multipart_free(&m);
	} else if (why == NULL)
		abort();
	free(copy);
	free(ct);
	return 0;
}
