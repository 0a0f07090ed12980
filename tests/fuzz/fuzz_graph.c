/*
 * libFuzzer target for what the Graph API answers the relay: any bytes go
 * through the template page parser and both send verdicts (a message's
 * and a read receipt's), under each HTTP status they can come with.
 * Crashes, leaks and UB are the findings.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/outbound.h"
#include "relay/templates.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 400, 429, 500 };
	struct template_page p;
	char *cause = NULL, *body, *wamid;
	cJSON *failure;
	int pair;

	if (templates_parse_page((const char *)data, size, &p, &cause) != 0) {
		/* A refusal always says why and hands back nothing. */
		if (cause == NULL || p.items != NULL || p.after != NULL)
			abort();
		free(cause);
	} else {
		for (size_t i = 0; i < p.n; i++) {
			if (p.items[i].id == NULL || (p.items[i].valid &&
			    (p.items[i].name == NULL ||
			    p.items[i].language == NULL ||
			    p.items[i].status == NULL)))
				abort();
		}
		templates_page_free(&p);
	}
	/* The verdicts read NUL-terminated text, as curl hands it over. */
	body = malloc(size + 1);
	memcpy(body, data, size);
	body[size] = '\0';
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		if (outbound_classify(statuses[i], body, &wamid, &failure,
		    &pair) == OUTBOUND_ACCEPTED && (wamid == NULL ||
		    failure != NULL))
			abort();
		free(wamid);
		cJSON_Delete(failure);
		if (outbound_classify_read(statuses[i], body, &failure) ==
		    OUTBOUND_ACCEPTED && failure != NULL)
			abort();
		cJSON_Delete(failure);
	}
	free(body);
	return 0;
}
