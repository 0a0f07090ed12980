/*
 * Server-Sent Event streams for agents: replay from a cursor, then live.
 * Streams pull changes from the store by cursor when the socket can take
 * more, so a slow reader costs no memory; only ephemeral presence is
 * pushed, into a small bounded queue whose overflow closes the stream.
 */
#ifndef GLIVI_EVENTS_H
#define GLIVI_EVENTS_H

#include <stdint.h>

#include <microhttpd.h>

#include "relay/store.h"

struct events;
struct server;

struct events *events_start(struct server *, long long heartbeat_seconds,
    char **cause);
/* Closes every stream and stops the heartbeat; before MHD stops. */
void events_stop(struct events *);
void events_free(struct events *);

/* Something was committed: wake the streams that wait for news. */
void events_notify(void *events);
/* Fans an ephemeral event out to every stream (no cursor, not stored). */
void events_presence(struct events *, const char *json);

/* The response for GET /api/v1/events, starting after seq. */
struct MHD_Response *events_open(struct events *, struct MHD_Connection *,
    int64_t agent_id, int64_t since);
unsigned events_count(struct events *);
uint64_t events_delivered(struct events *);

#endif
