/*
 * Unit tests for src/core/wa.c: the webhook envelope index, the message
 * text and media helpers, status ranks, and how hostile bodies fail.
 * Bodies are written inline with ' for " (see parse_q) so they stay
 * readable; the last test also sweeps tests/fixtures/webhooks.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/jsonx.h"
#include "core/wa.h"
#include "core/xalloc.h"

/* A one-change envelope for the "main" number around a value object. */
#define ENV(value)                                                         \
	"{'object':'whatsapp_business_account','entry':[{'id':"            \
	"'102290129340398','changes':[{'field':'messages','value':" value \
	"}]}]}"
#define META                                                          \
	"'messaging_product':'whatsapp','metadata':{'display_phone_number':" \
	"'15550783881','phone_number_id':'106540352242922'}"
/* One message from 16505551234 (with its contact) holding fields. */
#define MSG(fields)                                                      \
	ENV("{" META ",'contacts':[{'profile':{'name':'Sheena Nelson'},"  \
	    "'wa_id':'16505551234'}],'messages':[{'from':'16505551234',"   \
	    "'id':'wamid.X','timestamp':'1785312000'," fields "}]}")

/* Turns ' into " so JSON can be written in C without a wall of escapes. */
static char *
unquote(const char *sq)
{
	char *s = xstrdup(sq);

	for (char *p = s; *p != '\0'; p++) {
		if (*p == '\'')
			*p = '"';
	}
	return s;
}

static struct wa_batch *
parse_q(const char *sq)
{
	struct wa_batch *b = NULL;
	char *s = unquote(sq), *cause = NULL;

	if (wa_parse(s, strlen(s), &b, &cause) != 0)
		fail_msg("wa_parse failed: %s\n%s", cause, s);
	assert_null(cause);
	assert_non_null(b);
	free(s);
	return b;
}

/* Parses sq and returns its only message. */
static const struct wa_message *
only_message(const char *sq, struct wa_batch **b)
{
	*b = parse_q(sq);
	assert_int_equal((*b)->nchanges, 1);
	assert_int_equal((*b)->changes[0].nmessages, 1);
	return &(*b)->changes[0].messages[0];
}

/* Expects wa_parse to fail with exactly want on the raw bytes. */
static void
expect_refused(const char *body, size_t len, const char *want)
{
	struct wa_batch *b = (struct wa_batch *)&b;
	char *cause = NULL;

	assert_int_equal(wa_parse(body, len, &b, &cause), -1);
	assert_null(b);
	assert_non_null(cause);
	assert_string_equal(cause, want);
	free(cause);
}

static void
expect_refused_q(const char *sq, const char *want)
{
	char *s = unquote(sq);

	expect_refused(s, strlen(s), want);
	free(s);
}

/* Expects failure whose cause starts with prefix (offsets vary by cJSON). */
static void
expect_refused_prefix(const char *body, size_t len, const char *prefix)
{
	struct wa_batch *b = NULL;
	char *cause = NULL;

	assert_int_equal(wa_parse(body, len, &b, &cause), -1);
	assert_null(b);
	assert_non_null(cause);
	if (strncmp(cause, prefix, strlen(prefix)) != 0)
		fail_msg("cause '%s' does not start with '%s'", cause, prefix);
	free(cause);
}

static char *
media_json(const struct wa_message *m)
{
	cJSON *media = wa_message_media(m);
	char *s;

	if (media == NULL)
		return NULL;
	s = jx_print(media);
	cJSON_Delete(media);
	return s;
}

static void
expect_media(const char *sq, const char *want)
{
	struct wa_batch *b;
	const struct wa_message *m = only_message(sq, &b);
	char *got = media_json(m), *w = unquote(want);

	assert_non_null(got);
	assert_string_equal(got, w);
	free(w);
	free(got);
	wa_batch_free(b);
}

static void
expect_text(const char *sq, const char *want)
{
	struct wa_batch *b;
	const struct wa_message *m = only_message(sq, &b);
	const char *got = wa_message_text(m);

	if (want == NULL) {
		if (got != NULL)
			fail_msg("expected no text, got '%s' in %s", got, sq);
	} else {
		if (got == NULL)
			fail_msg("expected '%s', got none in %s", want, sq);
		assert_string_equal(got, want);
	}
	wa_batch_free(b);
}

/* The envelope. */

static void
wa_parse__indexes_a_compact_text_message(void **state)
{
	struct wa_batch *b;
	const struct wa_message *m = only_message(
	    MSG("'type':'text','text':{'body':'Hello'}"), &b);
	const struct wa_change *c = &b->changes[0];

	assert_non_null(b->root);
	assert_string_equal(c->waba_id, "102290129340398");
	assert_string_equal(c->field, "messages");
	assert_string_equal(c->phone_number_id, "106540352242922");
	assert_string_equal(c->display_phone_number, "15550783881");
	assert_non_null(c->value);
	assert_int_equal(c->echoes, 0);
	assert_int_equal(c->nstatuses, 0);
	assert_null(c->errors);
	assert_int_equal(c->ncontacts, 1);
	assert_string_equal(c->contacts[0].wa_id, "16505551234");
	assert_string_equal(c->contacts[0].name, "Sheena Nelson");
	assert_null(c->contacts[0].user_id);
	assert_null(c->contacts[0].username);
	assert_true(cJSON_IsObject(m->json));
	assert_string_equal(m->id, "wamid.X");
	assert_string_equal(m->type, "text");
	assert_int_equal(m->known_type, 1);
	assert_string_equal(m->from, "16505551234");
	assert_null(m->from_user_id);
	assert_null(m->to);
	assert_null(m->target_id);
	assert_true(m->timestamp == 1785312000);
	assert_string_equal(wa_message_text(m), "Hello");
	wa_batch_free(b);
}

static void
wa_parse__indexes_pretty_printed_input_the_same_way(void **state)
{
	static const char pretty[] =
	    "\xef\xbb\xbf\r\n{\r\n"
	    "  \"object\" : \"whatsapp_business_account\",\n"
	    "  \"entry\" : [\n"
	    "    {\n"
	    "      \"id\" : \"102290129340398\",\n"
	    "      \"changes\" : [\n"
	    "        {\n"
	    "          \"field\" : \"messages\",\n"
	    "          \"value\" : {\n"
	    "            \"metadata\" : {\n"
	    "              \"display_phone_number\" : \"15550783881\",\n"
	    "\t\t\t\"phone_number_id\" : \"106540352242922\"\n"
	    "            },\n"
	    "            \"messages\" : [\n"
	    "              {\n"
	    "                \"from\" : \"16505551234\",\n"
	    "                \"id\" : \"wamid.X\",\n"
	    "                \"timestamp\" : \"1785312000\",\n"
	    "                \"type\" : \"text\",\n"
	    "                \"text\" : { \"body\" : \"Hello\" }\n"
	    "              }\n"
	    "            ]\n"
	    "          }\n"
	    "        }\n"
	    "      ]\n"
	    "    }\n"
	    "  ]\n"
	    "}\r\n\n";
	struct wa_batch *b = NULL;
	char *cause = NULL;
	const struct wa_message *m;

	assert_int_equal(wa_parse(pretty, sizeof pretty - 1, &b, &cause), 0);
	assert_int_equal(b->nchanges, 1);
	assert_string_equal(b->changes[0].waba_id, "102290129340398");
	assert_string_equal(b->changes[0].phone_number_id, "106540352242922");
	assert_int_equal(b->changes[0].nmessages, 1);
	m = &b->changes[0].messages[0];
	assert_string_equal(m->id, "wamid.X");
	assert_string_equal(m->from, "16505551234");
	assert_true(m->timestamp == 1785312000);
	assert_string_equal(wa_message_text(m), "Hello");
	wa_batch_free(b);
}

static void
wa_parse__reads_only_len_bytes(void **state)
{
	/* HTTP bodies are not NUL-terminated: what follows len is not JSON. */
	static const char body[] = "{\"entry\":[]}GARBAGE";
	struct wa_batch *b = NULL;
	char *cause = NULL;

	assert_int_equal(wa_parse(body, 12, &b, &cause), 0);
	assert_int_equal(b->nchanges, 0);
	wa_batch_free(b);
}

static void
wa_parse__decodes_unicode_escapes_and_surrogate_pairs(void **state)
{
	struct wa_batch *b;
	const struct wa_message *m = only_message(MSG("'type':'text','text':"
	    "{'body':'sch\\u00f6n \\u2014 \\ud83d\\udc4d \\\\ \\'q\\''}"), &b);
	const char *t = wa_message_text(m);
	static const unsigned char thumbs[] = { 0xf0, 0x9f, 0x91, 0x8d };

	assert_non_null(t);
	assert_string_equal(t, "sch\xc3\xb6n \xe2\x80\x94 \xf0\x9f\x91\x8d "
			       "\\ \"q\"");
	assert_non_null(memmem(t, strlen(t), thumbs, sizeof thumbs));
	wa_batch_free(b);
}

static void
wa_parse__decodes_an_escaped_slash(void **state)
{
	expect_text(MSG("'type':'text','text':{'body':"
			"'See https:\\/\\/example.com\\/a'}"),
	    "See https://example.com/a");
}

static void
wa_parse__decodes_escaped_control_characters(void **state)
{
	expect_text(MSG("'type':'text','text':{'body':'a\\nb\\tc\\r\\u0001'}"),
	    "a\nb\tc\r\x01");
}

static void
wa_parse__reads_string_and_number_timestamps_alike(void **state)
{
	static const char *forms[] = {
		MSG("'type':'text','text':{'body':'x'}"),
		ENV("{'messages':[{'id':'a','timestamp':1785312000,"
		    "'type':'text'}]}"),
		ENV("{'messages':[{'id':'a','timestamp':1785312000.0,"
		    "'type':'text'}]}"),
		NULL,
	};

	for (size_t i = 0; forms[i] != NULL; i++) {
		struct wa_batch *b;
		const struct wa_message *m = only_message(forms[i], &b);

		assert_true(m->timestamp == 1785312000);
		wa_batch_free(b);
	}
}

/* A message whose timestamp member is v. */
#define TS(v) ENV("{'messages':[{'id':'a','timestamp':" v ",'type':'text'}]}")

static void
wa_parse__zeroes_a_malformed_timestamp(void **state)
{
	static const char *forms[] = {
		ENV("{'messages':[{'id':'a','type':'text'}]}"), /* none */
		TS("''"),
		TS("'abc'"),
		TS("'12x'"),
		TS("' 12'"),
		TS("'-12'"),
		TS("-12"),
		TS("1e300"),
		TS("'99999999999999999999'"),
		TS("true"),
		TS("null"),
		TS("[1]"),
		NULL,
	};

	for (size_t i = 0; forms[i] != NULL; i++) {
		struct wa_batch *b;
		const struct wa_message *m = only_message(forms[i], &b);

		if (m->timestamp != 0)
			fail_msg("timestamp %lld from %s",
			    (long long)m->timestamp, forms[i]);
		assert_string_equal(m->id, "a");
		wa_batch_free(b);
	}
}

static void
wa_parse__turns_numeric_ids_into_strings(void **state)
{
	struct wa_batch *b = parse_q("{'entry':[{'id':102290129340398,"
	    "'changes':[{'field':'messages','value':{'metadata':"
	    "{'display_phone_number':15550783881,'phone_number_id':"
	    "106540352242922},'contacts':[{'wa_id':16505551234}],"
	    "'messages':[{'id':'wamid.N','from':16505551234,'type':'image',"
	    "'image':{'id':1479537139650973}}],'statuses':[{'id':'wamid.S',"
	    "'recipient_id':16505551234,'status':'sent'}]}}]}]}");
	const struct wa_change *c = &b->changes[0];
	char *media;

	assert_string_equal(c->waba_id, "102290129340398");
	assert_string_equal(c->phone_number_id, "106540352242922");
	assert_string_equal(c->display_phone_number, "15550783881");
	assert_string_equal(c->contacts[0].wa_id, "16505551234");
	assert_string_equal(c->messages[0].from, "16505551234");
	assert_string_equal(c->statuses[0].recipient_id, "16505551234");
	/* The tree itself now holds strings, so a stored copy agrees. */
	assert_string_equal(jx_str(c->messages[0].json, "from"),
	    "16505551234");
	media = media_json(&c->messages[0]);
	assert_string_equal(media, "{\"id\":\"1479537139650973\"}");
	free(media);
	wa_batch_free(b);
}

static void
wa_parse__leaves_ids_that_are_not_whole_numbers_unset(void **state)
{
	static const char *ids[] = { "1.5", "-1", "1e300", "9007199254740994",
		"true", "null", "{}", "[]", "''", NULL };

	for (size_t i = 0; ids[i] != NULL; i++) {
		char *sq = xasprintf(ENV("{'metadata':{'phone_number_id':%s},"
		    "'messages':[{'id':%s,'from':%s,'type':'text'}]}"), ids[i],
		    ids[i], ids[i]);
		struct wa_batch *b;
		const struct wa_message *m = only_message(sq, &b);

		assert_null(b->changes[0].phone_number_id);
		assert_null(m->id);
		assert_null(m->from);
		wa_batch_free(b);
		free(sq);
	}
}

static void
wa_parse__infers_the_type_from_the_typed_object(void **state)
{
	struct wa_batch *b;
	const struct wa_message *m = only_message(MSG("'location':"
	    "{'latitude':51.5,'longitude':-0.12,'name':'Pickup point'}"), &b);

	assert_string_equal(m->type, "location");
	assert_int_equal(m->known_type, 1);
	assert_string_equal(wa_message_text(m), "Pickup point");
	wa_batch_free(b);

	m = only_message(MSG("'type':'','location':{'name':'x'}"), &b);
	assert_string_equal(m->type, "location");
	wa_batch_free(b);
	m = only_message(MSG("'type':5,'reaction':{'message_id':'wamid.T'}"),
	    &b);
	assert_string_equal(m->type, "reaction");
	assert_string_equal(m->target_id, "wamid.T");
	wa_batch_free(b);
}

static void
wa_parse__marks_a_message_without_any_type_unknown(void **state)
{
	struct wa_batch *b;
	const struct wa_message *m = only_message(MSG("'context':{}"), &b);

	assert_string_equal(m->type, "unknown");
	assert_null(wa_message_text(m));
	assert_null(wa_message_media(m));
	wa_batch_free(b);
}

static void
wa_parse__keeps_an_unknown_type_as_sent(void **state)
{
	struct wa_batch *b;
	const struct wa_message *m = only_message(
	    MSG("'type':'hologram','hologram':{'id':'x','depth':3}"), &b);

	assert_string_equal(m->type, "hologram");
	assert_int_equal(m->known_type, 0);
	assert_string_equal(m->id, "wamid.X");
	assert_null(wa_message_text(m));
	assert_null(wa_message_media(m));
	wa_batch_free(b);
}

static void
wa_parse__knows_every_documented_type(void **state)
{
	static const char *types[] = { "text", "image", "video", "audio",
		"document", "sticker", "location", "contacts", "interactive",
		"button", "reaction", "order", "system", "unsupported",
		"unknown", "request_welcome", "edit", "revoke", NULL };

	for (size_t i = 0; types[i] != NULL; i++) {
		char *sq = xasprintf(MSG("'type':'%s'"), types[i]);
		struct wa_batch *b;
		const struct wa_message *m = only_message(sq, &b);

		assert_string_equal(m->type, types[i]);
		assert_int_equal(m->known_type, 1);
		wa_batch_free(b);
		free(sq);
	}
}

static void
wa_parse__reads_a_sender_known_only_by_bsuid(void **state)
{
	struct wa_batch *b = parse_q(ENV("{" META ",'contacts':[{'profile':"
	    "{'name':'Kai Nakamura','username':'@someone'},'user_id':"
	    "'US.13491208655302741918','parent_user_id':"
	    "'US.ENT.11815799212886844830'}],'messages':[{'from_user_id':"
	    "'US.13491208655302741918','id':'wamid.B','timestamp':'1',"
	    "'type':'text','text':{'body':'Hi'}}]}"));
	const struct wa_change *c = &b->changes[0];
	const struct wa_message *m = &c->messages[0];
	const struct wa_contact *k;

	assert_null(m->from);
	assert_string_equal(m->from_user_id, "US.13491208655302741918");
	assert_null(c->contacts[0].wa_id);
	assert_string_equal(c->contacts[0].user_id, "US.13491208655302741918");
	assert_string_equal(c->contacts[0].parent_user_id,
	    "US.ENT.11815799212886844830");
	assert_string_equal(c->contacts[0].username, "@someone");
	assert_string_equal(c->contacts[0].name, "Kai Nakamura");
	k = wa_change_contact(c, m->from, m->from_user_id);
	assert_ptr_equal(k, &c->contacts[0]);
	wa_batch_free(b);
}

static void
wa_parse__treats_empty_strings_as_missing(void **state)
{
	struct wa_batch *b;
	const struct wa_message *m = only_message(ENV("{'contacts':[{'wa_id':"
	    "'','user_id':'','profile':{'name':''}}],'messages':[{'id':'',"
	    "'from':'','from_user_id':'','type':'reaction','reaction':"
	    "{'message_id':''}}]}"), &b);

	assert_null(m->id);
	assert_null(m->from);
	assert_null(m->from_user_id);
	assert_null(m->target_id);
	assert_null(b->changes[0].contacts[0].wa_id);
	assert_null(b->changes[0].contacts[0].user_id);
	assert_null(b->changes[0].contacts[0].name);
	wa_batch_free(b);
}

static void
wa_parse__sets_the_target_of_reaction_edit_and_revoke(void **state)
{
	static const struct {
		const char *sq, *target;
	} cases[] = {
		{ MSG("'type':'reaction','reaction':{'message_id':'wamid.T1',"
		      "'emoji':'\\ud83d\\ude02'}"), "wamid.T1" },
		{ MSG("'type':'reaction','reaction':{'message_id':'wamid.T2'}"),
		    "wamid.T2" },
		{ MSG("'type':'edit','edit':{'original_message_id':'wamid.T3',"
		      "'message':{'type':'text','text':{'body':'fixed'}}}"),
		    "wamid.T3" },
		{ MSG("'type':'revoke','revoke':{'original_message_id':"
		      "'wamid.T4'}"), "wamid.T4" },
		{ MSG("'type':'reaction','reaction':{'message_id':5}"), NULL },
		{ MSG("'type':'revoke','revoke':'wamid.T5'"), NULL },
		{ MSG("'type':'edit'"), NULL },
		/* Only reaction, edit and revoke act on another message. */
		{ MSG("'type':'text','text':{'message_id':'wamid.T6',"
		      "'original_message_id':'wamid.T6'}"), NULL },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct wa_batch *b;
		const struct wa_message *m = only_message(cases[i].sq, &b);

		if (cases[i].target == NULL)
			assert_null(m->target_id);
		else
			assert_string_equal(m->target_id, cases[i].target);
		wa_batch_free(b);
	}
}

/* Statuses. */

static void
wa_parse__indexes_statuses(void **state)
{
	struct wa_batch *b = parse_q(ENV("{" META ",'statuses':[{'id':"
	    "'wamid.OUT-1','status':'failed','timestamp':'1785312470',"
	    "'recipient_id':'16505551234','biz_opaque_callback_data':'c1',"
	    "'errors':[{'code':131047,'title':'Re-engagement message'}]},"
	    "{'id':'wamid.OUT-2','status':'played','timestamp':1785312480,"
	    "'recipient_user_id':'US.1'}]}"));
	const struct wa_change *c = &b->changes[0];
	const struct wa_status_event *s;

	assert_int_equal(c->nmessages, 0);
	assert_int_equal(c->nstatuses, 2);
	s = &c->statuses[0];
	assert_true(cJSON_IsObject(s->json));
	assert_string_equal(s->id, "wamid.OUT-1");
	assert_string_equal(s->status_text, "failed");
	assert_int_equal(s->status, WA_STATUS_FAILED);
	assert_true(s->timestamp == 1785312470);
	assert_string_equal(s->recipient_id, "16505551234");
	assert_null(s->recipient_user_id);
	assert_string_equal(s->biz_opaque, "c1");
	assert_int_equal(cJSON_GetArraySize(s->errors), 1);
	s = &c->statuses[1];
	assert_string_equal(s->id, "wamid.OUT-2");
	assert_int_equal(s->status, WA_STATUS_PLAYED);
	assert_true(s->timestamp == 1785312480);
	assert_null(s->recipient_id);
	assert_string_equal(s->recipient_user_id, "US.1");
	assert_null(s->biz_opaque);
	assert_null(s->errors);
	wa_batch_free(b);
}

static void
wa_parse__keeps_an_unknown_status_text_with_status_none(void **state)
{
	struct wa_batch *b = parse_q(ENV("{'statuses':[{'id':'w','status':"
	    "'deleted'},{'id':'w','status':'SENT'},{'id':'w','status':5},"
	    "{'id':'w'}]}"));
	const struct wa_change *c = &b->changes[0];

	assert_int_equal(c->nstatuses, 4);
	assert_string_equal(c->statuses[0].status_text, "deleted");
	assert_int_equal(c->statuses[0].status, WA_STATUS_NONE);
	assert_string_equal(c->statuses[1].status_text, "SENT");
	assert_int_equal(c->statuses[1].status, WA_STATUS_NONE);
	assert_null(c->statuses[2].status_text);
	assert_int_equal(c->statuses[2].status, WA_STATUS_NONE);
	assert_null(c->statuses[3].status_text);
	assert_int_equal(c->statuses[3].status, WA_STATUS_NONE);
	wa_batch_free(b);
}

static void
wa_status_parse__knows_the_wire_states(void **state)
{
	assert_int_equal(wa_status_parse("sent"), WA_STATUS_SENT);
	assert_int_equal(wa_status_parse("delivered"), WA_STATUS_DELIVERED);
	assert_int_equal(wa_status_parse("read"), WA_STATUS_READ);
	assert_int_equal(wa_status_parse("played"), WA_STATUS_PLAYED);
	assert_int_equal(wa_status_parse("failed"), WA_STATUS_FAILED);
	assert_int_equal(wa_status_parse("unknown"), WA_STATUS_NONE);
	assert_int_equal(wa_status_parse(""), WA_STATUS_NONE);
	assert_int_equal(wa_status_parse("Sent"), WA_STATUS_NONE);
	assert_int_equal(wa_status_parse("sent "), WA_STATUS_NONE);
	assert_int_equal(wa_status_parse(NULL), WA_STATUS_NONE);
	/* Not on the wire: only the relay's own states. */
	assert_int_equal(wa_status_parse("none"), WA_STATUS_NONE);
	assert_int_equal(wa_status_parse("queued"), WA_STATUS_NONE);
}

static void
wa_status__ranks_sent_below_failed_below_delivered_below_read_below_played(
    void **state)
{
	assert_true(WA_STATUS_NONE < WA_STATUS_QUEUED);
	assert_true(WA_STATUS_QUEUED < wa_status_parse("sent"));
	assert_true(wa_status_parse("sent") < wa_status_parse("failed"));
	assert_true(wa_status_parse("failed") < wa_status_parse("delivered"));
	assert_true(wa_status_parse("delivered") < wa_status_parse("read"));
	assert_true(wa_status_parse("read") < wa_status_parse("played"));
}

static void
wa_status_name__names_each_state_and_none_for_junk(void **state)
{
	static const char *names[] = { "none", "queued", "sent", "failed",
		"delivered", "read", "played" };

	for (int i = WA_STATUS_NONE; i <= WA_STATUS_PLAYED; i++)
		assert_string_equal(wa_status_name((enum wa_status)i),
		    names[i]);
	for (int i = WA_STATUS_SENT; i <= WA_STATUS_PLAYED; i++)
		assert_int_equal(wa_status_parse(names[i]), i);
	assert_string_equal(wa_status_name((enum wa_status)7), "none");
}

/* Other change shapes. */

static void
wa_parse__marks_smb_message_echoes(void **state)
{
	struct wa_batch *b = parse_q("{'entry':[{'id':'1','changes':[{'field':"
	    "'smb_message_echoes','value':{" META ",'message_echoes':[{'from':"
	    "'15550783881','to':'16505551234','to_user_id':'US.2','id':"
	    "'wamid.E','timestamp':'1785312620','type':'text','text':{'body':"
	    "'Ships tomorrow.'}}]}}]}]}");
	const struct wa_change *c = &b->changes[0];

	assert_string_equal(c->field, "smb_message_echoes");
	assert_int_equal(c->echoes, 1);
	assert_int_equal(c->nmessages, 1);
	assert_string_equal(c->messages[0].id, "wamid.E");
	assert_string_equal(c->messages[0].from, "15550783881");
	assert_string_equal(c->messages[0].to, "16505551234");
	assert_string_equal(c->messages[0].to_user_id, "US.2");
	assert_string_equal(wa_message_text(&c->messages[0]),
	    "Ships tomorrow.");
	wa_batch_free(b);
}

static void
wa_parse__prefers_messages_to_message_echoes(void **state)
{
	struct wa_batch *b = parse_q(ENV("{'message_echoes':[{'id':'e'}],"
	    "'messages':[{'id':'m'}]}"));

	assert_int_equal(b->changes[0].echoes, 0);
	assert_string_equal(b->changes[0].messages[0].id, "m");
	wa_batch_free(b);
	/* A non-array messages member does not hide the echoes. */
	b = parse_q(ENV("{'messages':{},'message_echoes':[{'id':'e'}]}"));
	assert_int_equal(b->changes[0].echoes, 1);
	assert_string_equal(b->changes[0].messages[0].id, "e");
	wa_batch_free(b);
}

static void
wa_parse__keeps_value_errors(void **state)
{
	struct wa_batch *b = parse_q(ENV("{" META ",'errors':[{'code':130429,"
	    "'title':'Rate limit hit'}]}"));
	const struct wa_change *c = &b->changes[0];

	assert_non_null(c->errors);
	assert_int_equal(cJSON_GetArraySize(c->errors), 1);
	assert_string_equal(jx_str(cJSON_GetArrayItem(c->errors, 0), "title"),
	    "Rate limit hit");
	assert_int_equal(c->nmessages + c->nstatuses + c->ncontacts, 0);
	wa_batch_free(b);
}

static void
wa_parse__counts_changes_across_entries(void **state)
{
	struct wa_batch *b = parse_q("{'entry':[{'id':'A','changes':[{'field':"
	    "'f1','value':{'messages':[{'id':'m1'},{'id':'m2'}]}},{'field':"
	    "'f2','value':{'statuses':[{'id':'s1'}]}}]},{'id':'B'},{'id':'C',"
	    "'changes':[]},{'id':'D','changes':[{'field':'f3','value':"
	    "{'metadata':{'phone_number_id':'106540352242923'}}}]}]}");

	assert_int_equal(b->nchanges, 3);
	assert_string_equal(b->changes[0].waba_id, "A");
	assert_string_equal(b->changes[0].field, "f1");
	assert_int_equal(b->changes[0].nmessages, 2);
	assert_string_equal(b->changes[0].messages[1].id, "m2");
	assert_string_equal(b->changes[1].waba_id, "A");
	assert_int_equal(b->changes[1].nstatuses, 1);
	assert_string_equal(b->changes[2].waba_id, "D");
	assert_string_equal(b->changes[2].phone_number_id, "106540352242923");
	wa_batch_free(b);
}

static void
wa_parse__accepts_an_envelope_with_nothing_in_it(void **state)
{
	static const char *bodies[] = { "{'entry':[]}", "{'entry':[{}]}",
		"{'object':'x','entry':[{'changes':[]}]}", "{'entry':[],'x':1}",
		NULL };

	for (size_t i = 0; bodies[i] != NULL; i++) {
		struct wa_batch *b = parse_q(bodies[i]);

		assert_int_equal(b->nchanges, 0);
		wa_batch_free(b);
	}
	wa_batch_free(NULL);
}

/* Contacts. */

static const char two_contacts[] = ENV("{'contacts':[{'wa_id':'111',"
    "'profile':{'name':'One'}},{'user_id':'US.2','wa_id':'222','profile':"
    "{'name':'Two'}},{'user_id':'US.3','profile':{'name':'Three'}}]}");

static void
wa_change_contact__matches_by_wa_id(void **state)
{
	struct wa_batch *b = parse_q(two_contacts);
	const struct wa_change *c = &b->changes[0];

	assert_string_equal(wa_change_contact(c, "111", NULL)->name, "One");
	assert_string_equal(wa_change_contact(c, "222", NULL)->name, "Two");
	assert_string_equal(wa_change_contact(c, "222", "US.9")->name, "Two");
	wa_batch_free(b);
}

static void
wa_change_contact__matches_by_user_id(void **state)
{
	struct wa_batch *b = parse_q(two_contacts);
	const struct wa_change *c = &b->changes[0];

	assert_string_equal(wa_change_contact(c, NULL, "US.3")->name, "Three");
	assert_string_equal(wa_change_contact(c, NULL, "US.2")->name, "Two");
	wa_batch_free(b);
}

static void
wa_change_contact__returns_null_when_no_contact_matches(void **state)
{
	struct wa_batch *b = parse_q(two_contacts);
	const struct wa_change *c = &b->changes[0];

	assert_null(wa_change_contact(c, "333", NULL));
	assert_null(wa_change_contact(c, NULL, "US.4"));
	assert_null(wa_change_contact(c, NULL, NULL));
	wa_batch_free(b);
	b = parse_q(ENV("{'messages':[]}"));
	assert_null(wa_change_contact(&b->changes[0], "111", NULL));
	wa_batch_free(b);
	b = parse_q(ENV("{'contacts':[{'wa_id':'111','user_id':'US.1'}]}"));
	assert_null(wa_change_contact(&b->changes[0], "999", "US.9"));
	assert_null(wa_change_contact(&b->changes[0], "999", NULL));
	wa_batch_free(b);
}

static void
wa_change_contact__returns_a_lone_contact_with_no_ids_to_compare(void **state)
{
	struct wa_batch *b = parse_q(ENV("{'contacts':[{'profile':{'name':"
	    "'Nameless'}}]}"));

	assert_string_equal(wa_change_contact(&b->changes[0], "111",
	    "US.1")->name, "Nameless");
	assert_string_equal(wa_change_contact(&b->changes[0], NULL, NULL)->name,
	    "Nameless");
	wa_batch_free(b);
}

/* Media. */

static void
wa_message_media__describes_a_voice_note(void **state)
{
	expect_media(MSG("'type':'audio','audio':{'mime_type':"
			 "'audio/ogg; codecs=opus','sha256':'ZunF+nM=','id':"
			 "'3119564704970812','voice':true,'file_size':12345}"),
	    "{'id':'3119564704970812','mime_type':'audio/ogg; codecs=opus',"
	    "'sha256':'ZunF+nM=','file_size':12345,'voice':true}");
}

static void
wa_message_media__describes_an_animated_sticker_with_a_string_size(
    void **state)
{
	expect_media(MSG("'type':'sticker','sticker':{'mime_type':'image/webp',"
			 "'id':784431227029563,'animated':false,'file_size':"
			 "'20480'}"),
	    "{'id':'784431227029563','mime_type':'image/webp','file_size':"
	    "20480,'animated':false}");
	expect_media(MSG("'type':'sticker','sticker':{'id':'s','animated':true,"
			 "'voice':'yes'}"),
	    "{'id':'s','animated':true}");
}

static void
wa_message_media__describes_a_document_with_every_field(void **state)
{
	expect_media(MSG("'type':'document','document':{'caption':'Rechnung',"
			 "'filename':'Factura \\u2013 M\\u00e4rz.pdf','url':"
			 "'https:\\/\\/x.example\\/d','mime_type':"
			 "'application/pdf','sha256':'7r46=','id':'187',"
			 "'extra':1,'file_size':4096.0}"),
	    "{'id':'187','mime_type':'application/pdf','sha256':'7r46=',"
	    "'filename':'Factura \xe2\x80\x93 M\xc3\xa4rz.pdf','caption':"
	    "'Rechnung','url':'https://x.example/d','file_size':4096}");
}

static void
wa_message_media__covers_image_and_video(void **state)
{
	expect_media(MSG("'type':'image','image':{'id':'i','caption':'c'}"),
	    "{'id':'i','caption':'c'}");
	expect_media(MSG("'type':'video','video':{'id':'v'}"), "{'id':'v'}");
	/* An empty media object still describes a (broken) media message. */
	expect_media(MSG("'type':'image','image':{}"), "{}");
}

static void
wa_message_media__drops_fields_of_the_wrong_type(void **state)
{
	expect_media(MSG("'type':'image','image':{'id':1.5,'mime_type':5,"
			 "'caption':null,'voice':'true','animated':1,"
			 "'file_size':'big'}"),
	    "{}");
	expect_media(MSG("'type':'image','image':{'file_size':-1}"), "{}");
	expect_media(MSG("'type':'image','image':{'file_size':'-1'}"), "{}");
	expect_media(MSG("'type':'image','image':{'file_size':''}"), "{}");
	expect_media(MSG("'type':'image','image':{'file_size':'nan'}"), "{}");
	expect_media(MSG("'type':'image','image':{'file_size':'inf'}"), "{}");
	expect_media(MSG("'type':'image','image':{'file_size':1e999}"), "{}");
	expect_media(MSG("'type':'image','image':{'file_size':[1]}"), "{}");
}

static void
wa_message_media__returns_null_for_messages_without_media(void **state)
{
	static const char *bodies[] = {
		MSG("'type':'text','text':{'body':'x','id':'1'}"),
		MSG("'type':'location','location':{'id':'1'}"),
		MSG("'type':'reaction','reaction':{'message_id':'w'}"),
		MSG("'type':'hologram','hologram':{'id':'1'}"),
		/* Typed as media but without (or with a broken) object. */
		MSG("'type':'image'"),
		MSG("'type':'image','image':'1479537139650973'"),
		MSG("'type':'video','video':[{'id':'1'}]"),
		MSG("'type':'audio','image':{'id':'1'}"),
		NULL,
	};

	for (size_t i = 0; bodies[i] != NULL; i++) {
		struct wa_batch *b;
		const struct wa_message *m = only_message(bodies[i], &b);

		assert_null(wa_message_media(m));
		wa_batch_free(b);
	}
}

/* Text. */

static void
wa_message_text__reads_text_and_media_captions(void **state)
{
	expect_text(MSG("'type':'text','text':{'body':'hi'}"), "hi");
	expect_text(MSG("'type':'image','image':{'caption':'box'}"), "box");
	expect_text(MSG("'type':'video','video':{'caption':'vid'}"), "vid");
	expect_text(MSG("'type':'document','document':{'caption':'pdf',"
			"'filename':'a.pdf'}"),
	    "pdf");
	expect_text(MSG("'type':'audio','audio':{'id':'1','voice':true}"),
	    NULL);
	expect_text(MSG("'type':'sticker','sticker':{'id':'1'}"), NULL);
	expect_text(MSG("'type':'image','image':{'id':'1'}"), NULL);
}

static void
wa_message_text__reads_buttons_and_interactive_replies(void **state)
{
	expect_text(MSG("'type':'button','button':{'payload':'CONFIRM',"
			"'text':'Yes, confirm'}"),
	    "Yes, confirm");
	expect_text(MSG("'type':'interactive','interactive':{'type':"
			"'button_reply','button_reply':{'id':'change-button',"
			"'title':'Change'}}"),
	    "Change");
	expect_text(MSG("'type':'interactive','interactive':{'type':"
			"'list_reply','list_reply':{'id':'slot','title':"
			"'Tuesday afternoon','description':'14:00-18:00'}}"),
	    "Tuesday afternoon");
	expect_text(MSG("'type':'interactive','interactive':{'type':"
			"'nfm_reply','nfm_reply':{'name':'flow','body':'Sent',"
			"'response_json':'{}'}}"),
	    "Sent");
	/* The reply object must be the one "type" names. */
	expect_text(MSG("'type':'interactive','interactive':{'type':"
			"'list_reply','button_reply':{'title':'Wrong'}}"),
	    NULL);
	expect_text(MSG("'type':'interactive','interactive':{'button_reply':"
			"{'title':'No type'}}"),
	    NULL);
	expect_text(MSG("'type':'interactive','interactive':{'type':5}"),
	    NULL);
	expect_text(MSG("'type':'interactive','interactive':{'type':'type'}"),
	    NULL);
}

static void
wa_message_text__reads_location_system_and_order(void **state)
{
	expect_text(MSG("'type':'location','location':{'latitude':51.5,"
			"'name':'Pickup point','address':'10 Downing St'}"),
	    "Pickup point");
	expect_text(MSG("'type':'location','location':{'address':"
			"'10 Downing St'}"),
	    "10 Downing St");
	expect_text(MSG("'type':'location','location':{'latitude':1}"), NULL);
	expect_text(MSG("'type':'system','system':{'type':"
			"'user_changed_number','body':'User changed number'}"),
	    "User changed number");
	expect_text(MSG("'type':'order','order':{'catalog_id':'1','text':"
			"'After 6pm'}"),
	    "After 6pm");
}

static void
wa_message_text__reads_the_new_text_of_an_edit(void **state)
{
	expect_text(MSG("'type':'edit','edit':{'original_message_id':'w',"
			"'message':{'type':'text','text':{'body':"
			"'corrected text'}}}"),
	    "corrected text");
	expect_text(MSG("'type':'edit','edit':{'original_message_id':'w',"
			"'message':{'type':'image','image':{'caption':"
			"'new caption'}}}"),
	    "new caption");
	expect_text(MSG("'type':'edit','edit':{'message':{'text':{'body':"
			"'untyped'}}}"),
	    NULL);
	expect_text(MSG("'type':'edit','edit':{'message':'text'}"), NULL);
}

static void
wa_message_text__does_not_follow_an_edit_of_an_edit(void **state)
{
	expect_text(MSG("'type':'edit','edit':{'message':{'type':'edit',"
			"'edit':{'message':{'type':'text','text':{'body':"
			"'deep'}}}}}"),
	    NULL);
}

static void
wa_message_text__returns_null_when_there_is_no_text(void **state)
{
	static const char *bodies[] = {
		MSG("'type':'text','text':{'body':''}"),
		MSG("'type':'text','text':{'body':5}"),
		MSG("'type':'text','text':{'body':null}"),
		MSG("'type':'text','text':'hi'"),
		MSG("'type':'text'"),
		MSG("'type':'text','image':{'caption':'x'}"),
		MSG("'type':'reaction','reaction':{'message_id':'w','emoji':"
		    "'x'}"),
		MSG("'type':'revoke','revoke':{'original_message_id':'w'}"),
		MSG("'type':'contacts','contacts':[{'name':{'formatted_name':"
		    "'x'}}]"),
		MSG("'type':'unsupported','unsupported':{'type':'poll'}"),
		MSG("'type':'hologram','hologram':{'body':'x','text':'y'}"),
		NULL,
	};

	for (size_t i = 0; bodies[i] != NULL; i++)
		expect_text(bodies[i], NULL);
}

/* Refused bodies. */

static void
wa_parse__reports_malformed_json_near_its_byte_offset(void **state)
{
	expect_refused("{\"entry\":[}", 11, "malformed JSON near byte 10");
	expect_refused("{\"entry\":[1,]}", 14, "malformed JSON near byte 12");
	expect_refused("{\"a\":tru}", 9, "malformed JSON near byte 5");
	expect_refused("{\"a\":\"\\x\"}", 10, "malformed JSON near byte 6");
	expect_refused("", 0, "malformed JSON near byte 0");
	expect_refused("nul", 3, "malformed JSON near byte 0");
	expect_refused_prefix("{", 1, "malformed JSON near byte ");
	expect_refused_prefix("{\"entry\":[]", 11, "malformed JSON near byte ");
	expect_refused_prefix("{\"a\":\"\\ud83d\"}", 14,
	    "malformed JSON near byte ");
	expect_refused_prefix("{\"a\":\"unterminated", 18,
	    "malformed JSON near byte ");
	expect_refused_prefix("{'entry':[]}", 12, "malformed JSON near byte ");
}

static void
wa_parse__refuses_text_after_the_json_value(void **state)
{
	expect_refused("{\"entry\":[]} x", 14,
	    "text after the JSON value at byte 13");
	expect_refused("{\"entry\":[]}{}", 14,
	    "text after the JSON value at byte 12");
	expect_refused("{\"entry\":[]}\n\n]", 15,
	    "text after the JSON value at byte 14");
	expect_refused("{\"entry\":[]}\0", 13,
	    "text after the JSON value at byte 12");
}

static void
wa_parse__accepts_whitespace_around_the_json_value(void **state)
{
	static const char body[] = " \t\r\n{\"entry\":[]} \t\r\n";
	struct wa_batch *b = NULL;
	char *cause = NULL;

	assert_int_equal(wa_parse(body, sizeof body - 1, &b, &cause), 0);
	wa_batch_free(b);
}

static void
wa_parse__refuses_a_body_that_is_not_an_object(void **state)
{
	static const char *bodies[] = { "[]", "[{'entry':[]}]", "'entry'",
		"42", "null", "true", NULL };

	for (size_t i = 0; bodies[i] != NULL; i++)
		expect_refused_q(bodies[i], "body is not a JSON object");
}

static void
wa_parse__refuses_an_object_without_an_entry_array(void **state)
{
	static const char *bodies[] = { "{}", "{'object':'x'}",
		"{'entry':{}}", "{'entry':'[]'}", "{'entry':null}",
		"{'Entry':[]}", "{'entries':[]}", NULL };

	for (size_t i = 0; bodies[i] != NULL; i++)
		expect_refused_q(bodies[i], "no \"entry\" array");
}

/* A valid envelope padded with spaces to exactly n bytes. */
static char *
padded_envelope(size_t n)
{
	static const char env[] = "{\"entry\":[]}";
	char *s = xmalloc(n);

	memcpy(s, env, sizeof env - 1);
	memset(s + sizeof env - 1, ' ', n - (sizeof env - 1));
	return s;
}

static void
wa_parse__refuses_a_body_over_the_limit(void **state)
{
	char *s = padded_envelope(WA_MAX_BODY + 1);

	expect_refused(s, WA_MAX_BODY + 1, "body larger than the 4 MiB limit");
	free(s);
}

static void
wa_parse__accepts_a_body_of_exactly_the_limit(void **state)
{
	char *s = padded_envelope(WA_MAX_BODY), *cause = NULL;
	struct wa_batch *b = NULL;

	assert_int_equal(wa_parse(s, WA_MAX_BODY, &b, &cause), 0);
	wa_batch_free(b);
	free(s);
}

static void
wa_parse__fails_cleanly_on_deeply_nested_arrays(void **state)
{
	size_t n = 100000;
	char *s = xmalloc(2 * n);

	memset(s, '[', n);
	memset(s + n, ']', n);
	expect_refused_prefix(s, 2 * n, "malformed JSON near byte ");
	expect_refused_prefix(s, n, "malformed JSON near byte ");
	free(s);
}

static void
wa_parse__fails_cleanly_on_deep_nesting_inside_the_envelope(void **state)
{
	/* {"entry":{"a":{"a":...1}}...} with 50000 levels of objects. */
	size_t n = 50000, len = 0;
	char *s = xmalloc(16 + 6 * n);

	memcpy(s, "{\"entry\":", 9);
	len = 9;
	for (size_t i = 0; i < n; i++) {
		memcpy(s + len, "{\"a\":", 5);
		len += 5;
	}
	s[len++] = '1';
	memset(s + len, '}', n + 1);
	len += n + 1;
	expect_refused_prefix(s, len, "malformed JSON near byte ");
	free(s);
}

static void
wa_parse__indexes_items_of_the_wrong_type_as_malformed(void **state)
{
	struct wa_batch *b = parse_q("{'object':'x','entry':['x',1,null,[],"
	    "true,{'changes':'no'},{'changes':{}},{'id':7,'changes':[1,'s',"
	    "null,[],{'value':[]},{'field':5,'value':{'metadata':[],"
	    "'contacts':[null,'x',{'wa_id':[]}],'messages':[1,'x',null,[],{},"
	    "{'id':5,'type':7}],'message_echoes':[{}],'statuses':[1,{'status':"
	    "5,'timestamp':'x','errors':{}}],'errors':{}}}]}]}");
	const struct wa_change *c;

	assert_int_equal(b->nchanges, 6);
	for (size_t i = 0; i < 5; i++) {
		c = &b->changes[i];
		assert_string_equal(c->waba_id, "7");
		assert_null(c->field);
		assert_null(c->value);
		assert_int_equal(c->nmessages + c->nstatuses + c->ncontacts, 0);
	}
	c = &b->changes[5];
	assert_null(c->field);
	assert_non_null(c->value);
	assert_null(c->phone_number_id);
	assert_null(c->errors);
	assert_int_equal(c->echoes, 0);
	assert_int_equal(c->ncontacts, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_null(c->contacts[i].wa_id);
		assert_null(c->contacts[i].user_id);
		assert_null(c->contacts[i].name);
	}
	assert_null(wa_change_contact(c, "1", NULL));
	assert_int_equal(c->nmessages, 6);
	for (size_t i = 0; i < 4; i++) {
		const struct wa_message *m = &c->messages[i];

		assert_non_null(m->json); /* kept for the ingest to record */
		assert_null(m->id);
		assert_null(m->from);
		assert_int_equal(m->known_type, 0);
		assert_null(wa_message_text(m));
	}
	assert_null(c->messages[4].id);
	assert_string_equal(c->messages[4].type, "unknown");
	assert_string_equal(c->messages[5].id, "5");
	assert_string_equal(c->messages[5].type, "unknown");
	assert_int_equal(c->nstatuses, 2);
	assert_non_null(c->statuses[0].json);
	assert_null(c->statuses[0].id);
	assert_int_equal(c->statuses[0].status, WA_STATUS_NONE);
	assert_null(c->statuses[1].status_text);
	assert_true(c->statuses[1].timestamp == 0);
	assert_null(c->statuses[1].errors);
	wa_batch_free(b);
}

static void
wa_parse__keeps_the_first_of_duplicate_keys(void **state)
{
	struct wa_batch *b = parse_q(ENV("{'messages':[{'id':1,'id':'second',"
	    "'type':'text','type':'image','text':{'body':'one'}}]}"));

	assert_string_equal(b->changes[0].messages[0].id, "1");
	assert_string_equal(b->changes[0].messages[0].type, "text");
	assert_string_equal(wa_message_text(&b->changes[0].messages[0]), "one");
	wa_batch_free(b);
}

/* Fixtures: every file parses, and the facts the README stresses hold. */

static char *
fixture_dir(void)
{
	const char *slash = strrchr(__FILE__, '/');

	if (slash == NULL || __FILE__[0] != '/')
		return NULL;
	return xasprintf("%.*s/../fixtures/webhooks",
	    (int)(slash - __FILE__), __FILE__);
}

static char *
read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	p = xmalloc((size_t)n + 1);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

static struct wa_batch *
parse_fixture(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), *body, *cause = NULL;
	struct wa_batch *b = NULL;
	size_t len;

	body = read_all(path, &len);
	if (wa_parse(body, len, &b, &cause) != 0)
		fail_msg("%s: %s", name, cause);
	free(body);
	free(path);
	return b;
}

static void
wa_parse__accepts_every_fixture(void **state)
{
	char *dir = fixture_dir();
	struct dirent *e;
	DIR *d = dir != NULL ? opendir(dir) : NULL;
	int n = 0;

	if (d == NULL) {
		free(dir);
		skip();
	}
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		struct wa_batch *b;

		if (l < 5 || strcmp(e->d_name + l - 5, ".json") != 0)
			continue;
		b = parse_fixture(dir, e->d_name);
		for (size_t i = 0; i < b->nchanges; i++) {
			const struct wa_change *c = &b->changes[i];

			for (size_t j = 0; j < c->nmessages; j++) {
				const struct wa_message *m = &c->messages[j];

				if (m->id == NULL)
					fail_msg("%s: message without id",
					    e->d_name);
				(void)wa_message_text(m);
				cJSON_Delete(wa_message_media(m));
			}
		}
		wa_batch_free(b);
		n++;
	}
	closedir(d);
	assert_true(n >= 30);
	free(dir);
}

static void
wa_parse__keeps_the_facts_of_the_fixtures(void **state)
{
	static const unsigned char thumbs[] = { 0xf0, 0x9f, 0x91, 0x8d };
	char *dir = fixture_dir();
	struct wa_batch *b;
	const char *t;

	if (dir == NULL || access(dir, R_OK) != 0) {
		free(dir);
		skip();
	}
	b = parse_fixture(dir, "text.json");
	t = wa_message_text(&b->changes[0].messages[0]);
	assert_int_equal(strlen(t), 84);
	assert_non_null(memmem(t, strlen(t), thumbs, 4));
	assert_non_null(strstr(t, "https://example.com/a"));
	assert_non_null(strstr(t, "\"bien\""));
	wa_batch_free(b);
	b = parse_fixture(dir, "text-compact.json");
	assert_int_equal(strlen(wa_message_text(&b->changes[0].messages[0])),
	    69);
	wa_batch_free(b);
	b = parse_fixture(dir, "reply-context.json");
	assert_true(b->changes[0].messages[0].timestamp == 1785312190);
	wa_batch_free(b);
	b = parse_fixture(dir, "multi-batch.json");
	assert_int_equal(b->nchanges, 3);
	assert_int_equal(b->changes[0].nmessages, 2);
	assert_int_equal(b->changes[1].nstatuses, 1);
	assert_string_equal(b->changes[2].phone_number_id, "106540352242923");
	wa_batch_free(b);
	b = parse_fixture(dir, "unknown-type.json");
	assert_int_equal(b->changes[0].messages[0].known_type, 0);
	wa_batch_free(b);
	b = parse_fixture(dir, "template-status.json");
	assert_string_equal(b->changes[0].field,
	    "message_template_status_update");
	assert_null(b->changes[0].phone_number_id);
	wa_batch_free(b);
	free(dir);
}

/*
 * Known bugs in src/core/wa.c at the time of writing; these two fail until
 * it is fixed, and run last so the rest of the file reports first.
 */

static void
wa_message_media__drops_a_file_size_too_large_for_int64(void **state)
{
	/* (int64_t)1e300 is undefined; today it prints INT64_MIN. */
	expect_media(MSG("'type':'image','image':{'id':'i','file_size':1e300}"),
	    "{'id':'i'}");
	expect_media(MSG("'type':'image','image':{'id':'i','file_size':"
			 "'1e19'}"),
	    "{'id':'i'}");
}

/* wa_text_redundant on sq (' for ") and text. */
static int
redundant(const char *sq, const char *text)
{
	char *s = unquote(sq);
	int r = wa_text_redundant(s, strlen(s), text);

	free(s);
	return r;
}

static void
wa_text_redundant__a_plain_text_repeats_its_entity(void **state)
{
	(void)state;
	assert_true(redundant("{'from':'16505551234','id':'wamid.A',"
	    "'timestamp':'1785312000','type':'text','text':{'body':'hi'}}",
	    "hi"));
	/* Members in any order, white space, escapes unfolded. */
	assert_true(redundant(" { 'text' : { 'body' : 'caf\\u00e9 \\\"x\\\"\\n' },"
	    " 'type':'text' } ", "caf\xc3\xa9 \"x\"\n"));
	assert_true(redundant("{'text':{'body':''}}", ""));
}

static void
wa_text_redundant__anything_more_is_kept(void **state)
{
	(void)state;
	/* A reply's context, a referral, errors, an unknown member. */
	assert_false(redundant("{'type':'text','text':{'body':'hi'},"
	    "'context':{'id':'wamid.Q'}}", "hi"));
	assert_false(redundant("{'text':{'body':'hi'},'referral':{}}", "hi"));
	assert_false(redundant("{'text':{'body':'hi'},'errors':[]}", "hi"));
	assert_false(redundant("{'text':{'body':'hi'},'from_user_id':'U'}",
	    "hi"));
	assert_false(redundant("{'text':{'body':'hi','preview_url':true}}",
	    "hi"));
	/* Text that differs, or is not where it should be. */
	assert_false(redundant("{'text':{'body':'hi'}}", "hi!"));
	assert_false(redundant("{'text':{'body':'hi!'}}", "hi"));
	assert_false(redundant("{'text':{'body':'h\\u00e9'}}", "he"));
	assert_false(redundant("{'text':{'body':'a\\u0000'}}", "a"));
	assert_false(redundant("{'text':{}}", ""));
	assert_false(redundant("{'text':'hi'}", "hi"));
	assert_false(redundant("{'text':{'body':1}}", "1"));
	assert_false(redundant("{'type':'text'}", ""));
	assert_false(redundant("{'text':{'body':'a','body':'a'}}", "a"));
	assert_false(redundant("{'text':{'body':'a'},'text':{'body':'a'}}",
	    "a"));
	assert_false(redundant("{'text':{'body':'a'}}", NULL));
}

static void
wa_text_redundant__refuses_what_does_not_scan(void **state)
{
	static const char *const bad[] = {
		"", "null", "[]", "'hi'", "{", "{'text':{'body':'hi'}",
		"{'text':{'body':'hi'}} x", "{'text':{'body':'hi\\x'}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(redundant(bad[i], "hi"));
	assert_false(wa_text_redundant(NULL, 0, "hi"));
	/* Bounded by len, not by a NUL. */
	assert_false(wa_text_redundant("{\"text\":{\"body\":\"hi\"}}", 10,
	    "hi"));
}

static void
wa_message_text_and_media__return_null_for_a_message_that_is_not_an_object(
    void **state)
{
	struct wa_batch *b = parse_q(ENV("{'messages':[1,'x',null,[]]}"));
	const struct wa_change *c = &b->changes[0];

	for (size_t i = 0; i < c->nmessages; i++) {
		assert_null(wa_message_text(&c->messages[i]));
		assert_null(wa_message_media(&c->messages[i]));
	}
	wa_batch_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wa_parse__indexes_a_compact_text_message),
		cmocka_unit_test(wa_parse__indexes_pretty_printed_input_the_same_way),
		cmocka_unit_test(wa_parse__reads_only_len_bytes),
		cmocka_unit_test(wa_parse__decodes_unicode_escapes_and_surrogate_pairs),
		cmocka_unit_test(wa_parse__decodes_an_escaped_slash),
		cmocka_unit_test(wa_parse__decodes_escaped_control_characters),
		cmocka_unit_test(wa_parse__reads_string_and_number_timestamps_alike),
		cmocka_unit_test(wa_parse__zeroes_a_malformed_timestamp),
		cmocka_unit_test(wa_parse__turns_numeric_ids_into_strings),
		cmocka_unit_test(wa_parse__leaves_ids_that_are_not_whole_numbers_unset),
		cmocka_unit_test(wa_parse__infers_the_type_from_the_typed_object),
		cmocka_unit_test(wa_parse__marks_a_message_without_any_type_unknown),
		cmocka_unit_test(wa_parse__keeps_an_unknown_type_as_sent),
		cmocka_unit_test(wa_parse__knows_every_documented_type),
		cmocka_unit_test(wa_parse__reads_a_sender_known_only_by_bsuid),
		cmocka_unit_test(wa_parse__treats_empty_strings_as_missing),
		cmocka_unit_test(wa_parse__sets_the_target_of_reaction_edit_and_revoke),
		cmocka_unit_test(wa_parse__indexes_statuses),
		cmocka_unit_test(wa_parse__keeps_an_unknown_status_text_with_status_none),
		cmocka_unit_test(wa_status_parse__knows_the_wire_states),
		cmocka_unit_test(wa_status__ranks_sent_below_failed_below_delivered_below_read_below_played),
		cmocka_unit_test(wa_status_name__names_each_state_and_none_for_junk),
		cmocka_unit_test(wa_parse__marks_smb_message_echoes),
		cmocka_unit_test(wa_parse__prefers_messages_to_message_echoes),
		cmocka_unit_test(wa_parse__keeps_value_errors),
		cmocka_unit_test(wa_parse__counts_changes_across_entries),
		cmocka_unit_test(wa_parse__accepts_an_envelope_with_nothing_in_it),
		cmocka_unit_test(wa_change_contact__matches_by_wa_id),
		cmocka_unit_test(wa_change_contact__matches_by_user_id),
		cmocka_unit_test(wa_change_contact__returns_null_when_no_contact_matches),
		cmocka_unit_test(wa_change_contact__returns_a_lone_contact_with_no_ids_to_compare),
		cmocka_unit_test(wa_message_media__describes_a_voice_note),
		cmocka_unit_test(wa_message_media__describes_an_animated_sticker_with_a_string_size),
		cmocka_unit_test(wa_message_media__describes_a_document_with_every_field),
		cmocka_unit_test(wa_message_media__covers_image_and_video),
		cmocka_unit_test(wa_message_media__drops_fields_of_the_wrong_type),
		cmocka_unit_test(wa_message_media__returns_null_for_messages_without_media),
		cmocka_unit_test(wa_message_text__reads_text_and_media_captions),
		cmocka_unit_test(wa_message_text__reads_buttons_and_interactive_replies),
		cmocka_unit_test(wa_message_text__reads_location_system_and_order),
		cmocka_unit_test(wa_message_text__reads_the_new_text_of_an_edit),
		cmocka_unit_test(wa_message_text__does_not_follow_an_edit_of_an_edit),
		cmocka_unit_test(wa_message_text__returns_null_when_there_is_no_text),
		cmocka_unit_test(wa_parse__reports_malformed_json_near_its_byte_offset),
		cmocka_unit_test(wa_parse__refuses_text_after_the_json_value),
		cmocka_unit_test(wa_parse__accepts_whitespace_around_the_json_value),
		cmocka_unit_test(wa_parse__refuses_a_body_that_is_not_an_object),
		cmocka_unit_test(wa_parse__refuses_an_object_without_an_entry_array),
		cmocka_unit_test(wa_parse__refuses_a_body_over_the_limit),
		cmocka_unit_test(wa_parse__accepts_a_body_of_exactly_the_limit),
		cmocka_unit_test(wa_parse__fails_cleanly_on_deeply_nested_arrays),
		cmocka_unit_test(wa_parse__fails_cleanly_on_deep_nesting_inside_the_envelope),
		cmocka_unit_test(wa_parse__indexes_items_of_the_wrong_type_as_malformed),
		cmocka_unit_test(wa_parse__keeps_the_first_of_duplicate_keys),
		cmocka_unit_test(wa_parse__accepts_every_fixture),
		cmocka_unit_test(wa_parse__keeps_the_facts_of_the_fixtures),
		cmocka_unit_test(wa_message_media__drops_a_file_size_too_large_for_int64),
		cmocka_unit_test(wa_message_text_and_media__return_null_for_a_message_that_is_not_an_object),
		cmocka_unit_test(wa_text_redundant__a_plain_text_repeats_its_entity),
		cmocka_unit_test(wa_text_redundant__anything_more_is_kept),
		cmocka_unit_test(wa_text_redundant__refuses_what_does_not_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
