/*
 * glivi-relay's HTTP(S) front: libmicrohttpd, the routes table, limits
 * (body, headers, connections, idle time) and shutdown. Handlers live in
 * their own files (webhook.c, …) and reach the server through this header.
 */
#ifndef GLIVI_SERVER_H
#define GLIVI_SERVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "core/buf.h"
#include "relay/committer.h"
#include "relay/config.h"

struct server_counters {
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t webhooks;
	atomic_uint_fast64_t bad_signature;
	atomic_uint_fast64_t malformed;
	atomic_uint_fast64_t too_large;
	atomic_uint_fast64_t not_found;
	atomic_uint_fast64_t refused_stopping;
};

struct server {
	const struct relay_config *cfg;
	struct committer *committer;
	struct MHD_Daemon *daemon;
	char *app_secret;
	size_t app_secret_len;
	char *verify_token;
	size_t verify_token_len;
	unsigned port;
	atomic_int stopping;
	struct server_counters counters;
};

/* One request's state, from its first callback to its completion. */
struct request {
	const struct route *route;
	struct buf body;
	int too_large;
	int suspended;
	int job_done;
	struct commit_job job;
	struct wa_batch *batch;
	struct MHD_Connection *conn;
	struct server *srv;
};

typedef enum MHD_Result (*route_fn)(struct server *, struct request *);

struct route {
	const char *method;
	const char *path;
	int takes_body;
	route_fn handler;
};

int server_start(struct server *, const struct relay_config *,
    struct committer *, char **cause);
/* Refuses new webhooks (503), lets queued ones finish, then stops. */
void server_stop(struct server *);

/* Queues a complete response; body may be NULL. */
enum MHD_Result server_respond(struct request *, unsigned status,
    const char *content_type, const char *body, size_t len);
/* {"error": {"code": …, "message": …[, "field": …]}} with the status. */
enum MHD_Result server_error(struct request *, unsigned status,
    const char *code, const char *message);
enum MHD_Result server_error_field(struct request *, unsigned status,
    const char *code, const char *message, const char *field);
const char *server_client_address(struct request *, char *buf, size_t);

#endif
