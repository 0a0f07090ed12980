/*
 * One relay account, everything but the screen: configuration, token,
 * the HTTPS engine on the loop, the cache, the sync engine and the outbox
 * sender. The screen and the headless subcommands both drive one of these.
 */
#ifndef GLIVI_CLIENT_H
#define GLIVI_CLIENT_H

#include <stddef.h>

#include <uv.h>

#include "client/cache.h"
#include "client/config.h"
#include "net/http.h"

enum client_event {
	CLIENT_SYNC_STATE, /* sync_status() changed */
	CLIENT_DATA,	   /* the cache changed */
	CLIENT_OUTBOX,	   /* an outbox entry changed state (detail: the
			      relay's reason when it refused one) */
	CLIENT_PRESENCE,   /* another agent is viewing or typing */
	CLIENT_CAUGHT_UP,  /* a one-shot sync reached the relay's head */
	CLIENT_MENTION,	   /* a note mentions this agent (data: the event) */
	CLIENT_ONLINE,	   /* an agent's first stream opened, or last closed */
};

struct client {
	uv_loop_t *loop;
	const struct client_config *cfg;
	char *token;
	size_t token_len;
	struct http *http;
	struct cache *cache;
	struct sync *sync;
	struct outbox *outbox;
	char *notice; /* something the agent should read, once */

	/* The owner's hook; detail depends on the event (presence: the
	 * event's JSON). */
	void (*on_event)(void *arg, enum client_event, const char *detail);
	void *arg;
};

int client_open(struct client *, uv_loop_t *, const struct client_config *,
    char **cause);
/* Stops everything, lets the loop close its handles, closes the cache. */
void client_close(struct client *);
/* The relay URL plus a path (printf-style). */
char *client_url(const struct client *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void client_emit(struct client *, enum client_event, const char *detail);
/* A request to the relay with the agent's token and the configured
 * timeouts filled in. */
struct http_xfer *client_request(struct client *, struct http_request *);
/* The message of an error answer ({"error":{"message":…}}), sanitised and
 * cut, or the HTTP status when there is none. Caller frees. */
char *client_error_text(const struct http_result *);

#endif
