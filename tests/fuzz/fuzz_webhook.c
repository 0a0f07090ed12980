/*
 * libFuzzer target for the webhook parser: any bytes a signed POST can
 * carry go through wa_parse, and every helper the ingest calls on the
 * result is called too. Crashes, leaks and UB are the findings.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/jsonx.h"
#include "core/wa.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
walk_message(const struct wa_change *c, const struct wa_message *m)
{
	cJSON *media;

	(void)wa_message_text(m);
	media = wa_message_media(m);
	if (media != NULL)
		free(jx_print(media));
	cJSON_Delete(media);
	(void)wa_change_contact(c, m->from, m->from_user_id);
	(void)wa_change_contact(c, m->to, m->to_user_id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wa_batch *b = NULL;
	char *cause = NULL;

	if (wa_parse((const char *)data, size, &b, &cause) != 0) {
		/* A refusal always says why and hands back nothing. */
		if (cause == NULL || b != NULL)
			abort();
		free(cause);
		return 0;
	}
	for (size_t i = 0; i < b->nchanges; i++) {
		const struct wa_change *c = &b->changes[i];

		for (size_t j = 0; j < c->nmessages; j++)
			walk_message(c, &c->messages[j]);
		for (size_t j = 0; j < c->nstatuses; j++) {
			const struct wa_status_event *s = &c->statuses[j];

			(void)wa_status_name(s->status);
			(void)wa_change_contact(c, s->recipient_id,
			    s->recipient_user_id);
		}
	}
	wa_batch_free(b);
	return 0;
}
