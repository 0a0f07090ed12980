/*
 * Server-Sent Event streams for agents: replay from a cursor, then live.
 * Streams pull changes from the store by cursor when the socket can take
 * more, so a slow reader costs no memory; only ephemeral presence is
 * pushed, into a small bounded queue whose overflow closes the stream.
 */
#ifndef GLIVI_EVENTS_H
#define GLIVI_EVENTS_H

#include <stddef.h>
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
    int64_t agent_id, const char *agent, int64_t since);
unsigned events_count(struct events *);
uint64_t events_delivered(struct events *);

/*
 * Presence: an agent's state in a conversation, fanned out as a presence
 * event and remembered until idle, or until the agent's last stream ends
 * (then every stream hears idle for it, and "online": false).
 */
void events_presence_set(struct events *, int64_t agent_id,
    const char *agent, int64_t conversation_id, const char *state);
/* An ephemeral event (event: name) for one agent's streams only. */
void events_to_agent(struct events *, int64_t agent_id, const char *event,
    const char *json);
/* Agents with an open stream, ids ascending: how many, at most max. */
size_t events_online(void *events, int64_t *ids, size_t max);
/* {"online":[{agent_id, agent}],"presence":[{…}]} (caller frees). */
char *events_presence_now(struct events *);

#endif
