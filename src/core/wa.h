/*
 * The WhatsApp Cloud API webhook payload, parsed into a flat index over the
 * cJSON tree: one wa_change per entry[].changes[] item, with the messages,
 * contacts and statuses it carries. Nothing here touches storage; every
 * pointer stays valid until wa_batch_free().
 */
#ifndef GLIVI_WA_H
#define GLIVI_WA_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Largest body accepted (Meta documents 3 MB payloads). */
#define WA_MAX_BODY (4 * 1024 * 1024)

/*
 * Delivery states of an outbound message, in the order they may replace one
 * another: a state only ever moves to a higher rank. failed ranks above sent
 * (a failure after "sent" is news) but below delivered: with several devices
 * Meta can report delivered after failed, and then delivered is the truth.
 */
enum wa_status {
	WA_STATUS_NONE = 0,
	WA_STATUS_QUEUED,
	WA_STATUS_SENT,
	WA_STATUS_FAILED,
	WA_STATUS_DELIVERED,
	WA_STATUS_READ,
	WA_STATUS_PLAYED,
};

enum wa_status wa_status_parse(const char *);
const char *wa_status_name(enum wa_status);

struct wa_contact {
	const char *wa_id;
	const char *user_id;
	const char *parent_user_id;
	const char *username;
	const char *name;
};

struct wa_message {
	cJSON *json;	       /* the message object as received */
	const char *id;	       /* wamid; NULL makes the message malformed */
	const char *type;      /* as sent, or inferred when missing */
	const char *from;      /* phone number / wa_id; may be NULL (BSUID) */
	const char *from_user_id;
	const char *to;	       /* echoes only: the customer */
	const char *to_user_id;
	int64_t timestamp;     /* 0 when missing or malformed */
	const char *target_id; /* reaction, edit, revoke: the message acted on */
	int known_type;	       /* 0: shown to agents as an unknown type */
};

struct wa_status_event {
	cJSON *json;
	const char *id;
	const char *status_text;
	enum wa_status status; /* NONE for a value the relay does not know */
	int64_t timestamp;
	const char *recipient_id;
	const char *recipient_user_id;
	const char *biz_opaque;
	cJSON *errors;
};

struct wa_change {
	const char *waba_id;
	const char *field;
	const char *phone_number_id;
	const char *display_phone_number;
	cJSON *value;
	struct wa_contact *contacts;
	size_t ncontacts;
	struct wa_message *messages; /* messages[] or message_echoes[] */
	size_t nmessages;
	int echoes; /* messages are the business's own (smb_message_echoes) */
	struct wa_status_event *statuses;
	size_t nstatuses;
	cJSON *errors; /* value.errors[] */
};

struct wa_batch {
	cJSON *root;
	struct wa_change *changes;
	size_t nchanges;
};

/*
 * Parses a webhook body. Fails (-1, *cause set) only when the body is not a
 * JSON object with an "entry" array: what a valid signature can still carry
 * but no one can store. Inside the envelope every oddity is kept for the
 * ingest to record, never a reason to refuse the whole delivery.
 */
int wa_parse(const char *body, size_t len, struct wa_batch **, char **cause);
void wa_batch_free(struct wa_batch *);

/* The contact of a change that matches a message's sender, if any. */
const struct wa_contact *wa_change_contact(const struct wa_change *,
    const char *wa_id, const char *user_id);

/*
 * The message's text as agents read it in a list or search: text body,
 * media caption, button or reply title, location name, system notice.
 * NULL when it has none. Points into the tree.
 */
const char *wa_message_text(const struct wa_message *);

/*
 * The normalised media description {id, mime_type, sha256, filename,
 * caption, voice, animated, url} of an image, video, audio, document or
 * sticker message, or NULL. Caller deletes.
 */
cJSON *wa_message_media(const struct wa_message *);

/*
 * Whether a stored message object ([wa, wa + len), as the relay keeps it)
 * only repeats what a text message's entity already says: no members but
 * from, id, timestamp, type and text, and text holding only its body,
 * equal to text. Anything else (a reply's context, a referral, errors, an
 * unknown member, text that differs, JSON that does not scan) says more.
 */
int wa_text_redundant(const char *wa, size_t len, const char *text);

#endif
