/*
 * Meta's wire shapes as the simulator emits them: the Graph API error
 * envelope, the error objects inside status webhooks, and the webhook
 * envelope around statuses and customer messages. Pure builders: no state,
 * no I/O.
 */
#ifndef GLIVI_SIM_WIRE_H
#define GLIVI_SIM_WIRE_H

#include <stdint.h>

#include <cjson/cJSON.h>

/* Where a webhook comes from: the WABA and one of its numbers. */
struct wire_origin {
	const char *waba_id;
	const char *phone_number_id;
	const char *display_phone_number;
};

struct wire_status {
	const char *wamid;
	const char *status; /* sent, delivered, read, failed, played, … */
	int64_t timestamp;  /* Unix seconds */
	const char *recipient_id;      /* wa_id, or NULL */
	const char *recipient_user_id; /* BSUID, or NULL */
	const char *biz_opaque;	       /* echoed when set on the send */
	/* Pricing: NULL leaves pricing out; conversation_id adds the
	 * conversation object (sent only). */
	const char *category; /* service, utility, marketing, … */
	int billable;
	const char *conversation_id;
	long error_code; /* failed: the code of errors[0] */
};

/*
 * {"error":{"message","type","code"[,"error_subcode"][,"is_transient"]
 * [,"error_data":{"messaging_product","details"}],"fbtrace_id"}}.
 * subcode 0 and details NULL leave those out.
 */
cJSON *wire_error(const char *message, const char *type, long code,
    long subcode, const char *details, int transient, const char *fbtrace);

/* {"code","title","message","error_data":{"details"},"href"} for a code
 * Meta reports in status webhooks (131000's text for one it does not
 * know). */
cJSON *wire_webhook_error(long code);

/* A whole webhook body (printed JSON, caller frees) carrying one status. */
char *wire_status_webhook(const struct wire_origin *,
    const struct wire_status *);
/*
 * A whole webhook body carrying one customer message; contact (may be
 * NULL) and message are taken over.
 */
char *wire_message_webhook(const struct wire_origin *, cJSON *contact,
    cJSON *message);

#endif
