/*
 * Meta-facing routes: the GET /webhook subscription handshake and POST
 * /webhook, which verifies the signature over the raw bytes, parses, and
 * answers 200 only once the delivery is durable.
 */
#ifndef GLIVI_WEBHOOK_H
#define GLIVI_WEBHOOK_H

#include "relay/server.h"

enum MHD_Result webhook_verify(struct server *, struct request *);
enum MHD_Result webhook_receive(struct server *, struct request *);
/* Whether a signature header has the right form (not whether it holds). */
int webhook_signature_plausible(const char *header);

#endif
