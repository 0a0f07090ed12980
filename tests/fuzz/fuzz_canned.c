/*
 * libFuzzer target for canned replies' placeholders. The input is the
 * reply's text (an admin's, checked by the relay, expanded by clients);
 * the values hold placeholders of their own to show they are never
 * expanded again. Invariants: check and expand never crash; the output is
 * at most the text plus one value per "{{" in it; text without "{{" comes
 * back unchanged; whatever check accepts expands with no known
 * placeholder left (the values hold none that survive).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/canned.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(x)                \
	do {                    \
		if (!(x))       \
			abort(); \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const struct canned_values v = { {
		[CANNED_CONTACT_NAME] = "{{agent.name}} Name",
		[CANNED_CONTACT_PHONE] = "123",
		[CANNED_AGENT_NAME] = "{{contact.name}}",
		[CANNED_CONVERSATION_ID] = "7",
	} };
	const char *t = (const char *)data;
	size_t opens = 0, longest = 0, out_len;
	char *out, *bad = NULL;

	for (size_t i = 0; i + 1 < len; i++)
		opens += t[i] == '{' && t[i + 1] == '{';
	for (int i = 0; i < CANNED_NVARS; i++) {
		if (v.v[i] != NULL && strlen(v.v[i]) > longest)
			longest = strlen(v.v[i]);
	}
	if (canned_check(t, len, &bad) != 0)
		CHECK(bad != NULL && strncmp(bad, "{{", 2) == 0);
	else
		CHECK(bad == NULL);
	free(bad);
	out = canned_expand(t, len, &v);
	CHECK(out != NULL);
	out_len = strlen(out);
	if (memchr(t, '\0', len) == NULL)
		CHECK(out_len <= len + opens * longest);
	if (opens == 0 && memchr(t, '\0', len) == NULL)
		CHECK(out_len == len && memcmp(out, t, len) == 0);
	free(out);
	return 0;
}
