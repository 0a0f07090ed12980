/*
 * The sender's media step: a queued message that names one of the relay's
 * uploads goes to Meta by Meta's media id, so the file is uploaded to
 * /{phone_number_id}/media first (once per number; the id Meta gives is
 * recorded and reused while it lasts).
 */
#ifndef GLIVI_OUTMEDIA_H
#define GLIVI_OUTMEDIA_H

#include <stdatomic.h>

#include <cjson/cJSON.h>

#include "relay/committer.h"
#include "relay/config.h"
#include "relay/outbound.h"
#include "relay/store.h"

/*
 * For the Graph API body of message m (type, and the media object under
 * it): when it names an upload, puts Meta's id in its place, uploading the
 * file when Meta has none for m's number. Returns OUTBOUND_ACCEPTED when
 * the body is ready (also when it names no upload); OUTBOUND_RETRY or
 * OUTBOUND_FAILED with *failure (caller deletes) and *http when the upload
 * failed.
 */
enum outbound_verdict outmedia_prepare(const struct relay_config *,
    struct committer *, struct store *reader, const char *auth_header,
    atomic_int *stopping, const struct store_send *m, cJSON *body,
    long *http, cJSON **failure);

#endif
