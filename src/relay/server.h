/*
 * glivi-relay's HTTP(S) front: libmicrohttpd, the routes table, limits
 * (body, headers, connections, idle time) and shutdown. Handlers live in
 * their own files (webhook.c, …) and reach the server through this header.
 */
#ifndef GLIVI_SERVER_H
#define GLIVI_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "core/buf.h"
#include "relay/committer.h"
#include "relay/config.h"
#include "relay/store.h"

struct server_counters {
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t webhooks;
	atomic_uint_fast64_t bad_signature;
	atomic_uint_fast64_t malformed;
	atomic_uint_fast64_t too_large;
	atomic_uint_fast64_t not_found;
	atomic_uint_fast64_t refused_stopping;
	atomic_uint_fast64_t unauthorized;
	atomic_uint_fast64_t sync_pages;
};

struct events;
struct fetcher;
struct media_req;
struct outbound;
struct templates;
struct store;
struct inflight;
struct snooze;

struct server {
	const struct relay_config *cfg;
	struct committer *committer;
	struct events *events;
	struct outbound *outbound; /* NULL when no access token is set */
	struct fetcher *fetcher;   /* likewise */
	struct templates *templates; /* NULL too, or without a waba_id */
	struct MHD_Daemon *daemon;
	/* Reader connections, one per HTTP thread, closed at stop. */
	pthread_mutex_t readers_lock;
	struct store **readers;
	size_t nreaders;
	/* Idempotency keys whose write has not committed yet. */
	pthread_mutex_t inflight_lock;
	struct inflight *inflight;
	char *app_secret;
	size_t app_secret_len;
	char *verify_token;
	size_t verify_token_len;
	unsigned port;
	atomic_int stopping;
	struct server_counters counters;
	struct snooze *snooze; /* ends snoozes: inbox.h */
};

/* One request's state, from its first callback to its completion. */
struct request {
	const struct route *route;
	int authed;
	struct store_agent agent;
	int64_t ids[2]; /* the {id} segments of the path */
	char key[130];	/* the {key} segment of the path */
	char *path;
	void *write;	/* api.c's state for a write */
	struct media_req *media; /* media.c's state */
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

enum route_role {
	ROLE_PUBLIC, /* Meta and monitoring: no agent token */
	ROLE_AGENT,  /* any active agent */
	ROLE_ADMIN,  /* agents with the admin role */
};

struct route {
	const char *method;
	const char *path; /* "{id}" matches a positive integer segment,
			   * "{key}" any other segment of 1 to 128 bytes */
	enum route_role role;
	/* 0: no body; 1: a JSON body, held in memory up to max_body;
	 * 2: a file, streamed to disk up to media_max (see media.h), its
	 * agent authenticated before a byte is read. */
	int takes_body;
	route_fn handler;
};

#define BODY_FILE 2

/* The routes table, for tests and docs that walk every route. */
const struct route *server_routes(size_t *n);
/* This thread's read-only store connection (opened on first use). */
struct store *server_reader(struct server *);

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
