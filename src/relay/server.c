/*
 * The HTTP(S) server: libmicrohttpd in its own polling thread, the routes
 * table, request bodies with a size cap, and a clean stop. Handlers never
 * block: a webhook waits for its commit suspended, not in a thread.
 */
#include "relay/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/hmac.h"
#include "core/fileutil.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "core/xalloc.h"
#include "relay/api.h"
#include "relay/events.h"
#include "relay/fetcher.h"
#include "relay/inbox.h"
#include "relay/media.h"
#include "relay/outbound.h"
#include "relay/snooze.h"
#include "relay/templates.h"
#include "relay/store.h"
#include "relay/webhook.h"

static enum MHD_Result route_healthz(struct server *, struct request *);
static enum MHD_Result route_metrics(struct server *, struct request *);

static const struct route routes[] = {
	{ "GET", "/webhook", ROLE_PUBLIC, 0, webhook_verify },
	{ "POST", "/webhook", ROLE_PUBLIC, 1, webhook_receive },
	{ "GET", "/healthz", ROLE_PUBLIC, 0, route_healthz },
	{ "GET", "/metrics", ROLE_PUBLIC, 0, route_metrics },
	{ "GET", "/api/v1/me", ROLE_AGENT, 0, api_me },
	{ "GET", "/api/v1/sync", ROLE_AGENT, 0, api_sync },
	{ "GET", "/api/v1/events", ROLE_AGENT, 0, api_events },
	{ "POST", "/api/v1/presence", ROLE_AGENT, 1, api_presence },
	{ "POST", "/api/v1/conversations/{id}/messages", ROLE_AGENT, 1,
	  api_send_message },
	{ "POST", "/api/v1/conversations/{id}/read", ROLE_AGENT, 1,
	  api_mark_read },
	{ "POST", "/api/v1/conversations/{id}/assign", ROLE_AGENT, 1,
	  api_assign },
	{ "POST", "/api/v1/conversations/{id}/status", ROLE_AGENT, 1,
	  api_set_status },
	{ "POST", "/api/v1/conversations/{id}/labels", ROLE_AGENT, 1,
	  api_labels },
	{ "POST", "/api/v1/conversations/{id}/notes", ROLE_AGENT, 1,
	  api_add_note },
	{ "DELETE", "/api/v1/notes/{id}", ROLE_AGENT, 0, api_delete_note },
	{ "PATCH", "/api/v1/contacts/{id}", ROLE_AGENT, 1, api_edit_contact },
	{ "POST", "/api/v1/orders", ROLE_AGENT, 1, api_create_order },
	{ "PATCH", "/api/v1/orders/{id}", ROLE_AGENT, 1, api_update_order },
	{ "POST", "/api/v1/media", ROLE_AGENT, 2, media_upload },
	{ "GET", "/api/v1/media/{key}", ROLE_AGENT, 0, media_get },
	{ "POST", "/api/v1/agents", ROLE_ADMIN, 1, api_create_agent },
	{ "DELETE", "/api/v1/agents/{id}", ROLE_ADMIN, 0, api_revoke_agent },
	{ "GET", "/api/v1/presence", ROLE_AGENT, 0, api_presence_now },
	{ "POST", "/api/v1/labels", ROLE_ADMIN, 1, api_create_label },
	{ "PATCH", "/api/v1/labels/{id}", ROLE_ADMIN, 1, api_update_label },
	{ "DELETE", "/api/v1/labels/{id}", ROLE_ADMIN, 0, api_delete_label },
	{ "POST", "/api/v1/canned_replies", ROLE_ADMIN, 1, api_create_canned },
	{ "PATCH", "/api/v1/canned_replies/{id}", ROLE_ADMIN, 1,
	  api_update_canned },
	{ "DELETE", "/api/v1/canned_replies/{id}", ROLE_ADMIN, 0,
	  api_delete_canned },
	{ "DELETE", "/api/v1/contacts/{id}", ROLE_ADMIN, 0, api_erase_contact },
	{ "GET", "/api/v1/contacts/{id}/export", ROLE_ADMIN, 0,
	  api_export_contact },
	{ "DELETE", "/api/v1/conversations/{id}", ROLE_ADMIN, 0,
	  api_erase_conversation },
	{ "DELETE", "/api/v1/orders/{id}", ROLE_ADMIN, 0, api_delete_order },
};
#define NROUTES (sizeof routes / sizeof routes[0])

const struct route *
server_routes(size_t *n)
{
	*n = NROUTES;
	return routes;
}

/*
 * Matches a path against a pattern; "{id}" takes a positive integer of at
 * most 18 digits, "{key}" any segment of 1 to 128 bytes (its handler
 * checks it). Fills ids and key when given.
 */
static int
path_match(const char *pattern, const char *path, int64_t *ids, char *key)
{
	int n = 0;

	while (*pattern != '\0') {
		if (strncmp(pattern, "{key}", 5) == 0) {
			size_t len = strcspn(path, "/");

			if (len == 0 || len > 128)
				return 0;
			if (key != NULL) {
				memcpy(key, path, len);
				key[len] = '\0';
			}
			path += len;
			pattern += 5;
			continue;
		}
		if (strncmp(pattern, "{id}", 4) == 0) {
			int64_t v = 0;
			int digits = 0;

			while (*path >= '0' && *path <= '9') {
				if (++digits > 18)
					return 0; /* before it could overflow */
				v = v * 10 + (*path++ - '0');
			}
			if (digits == 0 || v == 0)
				return 0;
			if (ids != NULL && n < 2)
				ids[n] = v;
			n++;
			pattern += 4;
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	return *path == '\0';
}

enum MHD_Result
server_respond(struct request *r, unsigned status, const char *content_type,
    const char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(body ? len : 0,
	    (void *)(uintptr_t)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	if (content_type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    content_type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED && r->route != NULL) {
		char allow[64] = "";

		for (size_t i = 0; i < NROUTES; i++) {
			if (strcmp(routes[i].path, r->route->path) != 0)
				continue;
			if (strlen(allow) + strlen(routes[i].method) + 3 >
			    sizeof allow)
				break;
			if (allow[0] != '\0')
				strcat(allow, ", ");
			strcat(allow, routes[i].method);
		}
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	}
	rc = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

enum MHD_Result
server_error(struct request *r, unsigned status, const char *code,
    const char *message)
{
	return server_error_field(r, status, code, message, NULL);
}

enum MHD_Result
server_error_field(struct request *r, unsigned status, const char *code,
    const char *message, const char *field)
{
	cJSON *o = cJSON_CreateObject(), *e = cJSON_CreateObject();
	char *s;
	enum MHD_Result rc;

	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	if (field != NULL)
		cJSON_AddStringToObject(e, "field", field);
	cJSON_AddItemToObject(o, "error", e);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	rc = server_respond(r, status, "application/json", s,
	    s ? strlen(s) : 0);
	free(s);
	return rc;
}

const char *
server_client_address(struct request *r, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(buf, len, "?");
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return buf;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void
		    *)sa)->sin6_addr, buf, (socklen_t)len);
	return buf;
}

static enum MHD_Result
route_healthz(struct server *srv, struct request *r)
{
	static const char ok[] = "{\"status\":\"ok\"}";
	static const char stopping[] = "{\"status\":\"stopping\"}";

	static const char down[] = "{\"status\":\"store unreachable\"}";
	struct store *st = server_reader(srv);
	int64_t head, horizon;

	if (atomic_load(&srv->stopping))
		return server_respond(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "application/json", stopping, sizeof stopping - 1);
	if (st == NULL || store_head(st, &head, &horizon) != 0)
		return server_respond(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "application/json", down, sizeof down - 1);
	return server_respond(r, MHD_HTTP_OK, "application/json", ok,
	    sizeof ok - 1);
}

static void
metric(struct buf *b, const char *name, const char *help, const char *type,
    uint64_t v)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help,
	    name, type, name, (unsigned long long)v);
}

static enum MHD_Result
route_metrics(struct server *srv, struct request *r)
{
	struct server_counters *k = &srv->counters;
	struct store *st = server_reader(srv);
	struct committer_stats cs;
	struct outbound_stats os;
	struct templates_stats ts;
	int64_t queued;
	struct buf b;
	enum MHD_Result rc;

	committer_get_stats(srv->committer, &cs);
	buf_init(&b);
	metric(&b, "glivi_http_requests_total", "HTTP requests received.",
	    "counter", atomic_load(&k->requests));
	metric(&b, "glivi_webhooks_total", "Webhook POSTs received.",
	    "counter", atomic_load(&k->webhooks));
	metric(&b, "glivi_webhooks_bad_signature_total",
	    "Webhooks refused for a missing or wrong signature.", "counter",
	    atomic_load(&k->bad_signature));
	metric(&b, "glivi_webhooks_malformed_total",
	    "Signed webhooks refused as malformed JSON.", "counter",
	    atomic_load(&k->malformed));
	metric(&b, "glivi_requests_too_large_total",
	    "Requests refused for their body size.", "counter",
	    atomic_load(&k->too_large));
	metric(&b, "glivi_commits_total", "Group commits made.", "counter",
	    cs.commits);
	metric(&b, "glivi_commit_failures_total", "Group commits that failed.",
	    "counter", cs.failed_commits);
	metric(&b, "glivi_committed_webhooks_total",
	    "Webhooks that went through a commit.", "counter", cs.jobs);
	metric(&b, "glivi_commit_largest_batch",
	    "Most webhooks made durable by one commit.", "gauge",
	    cs.largest_batch);
	metric(&b, "glivi_messages_stored_total", "New messages stored.",
	    "counter", cs.messages);
	metric(&b, "glivi_statuses_stored_total", "New statuses stored.",
	    "counter", cs.statuses);
	metric(&b, "glivi_duplicates_total",
	    "Deliveries, messages and statuses seen before (retries).",
	    "counter", cs.duplicates);
	metric(&b, "glivi_quarantined_total",
	    "Changes for phone numbers this relay does not serve.", "counter",
	    cs.quarantined);
	metric(&b, "glivi_commit_queue", "Writes waiting for the next commit.",
	    "gauge", cs.queued);
	buf_printf(&b, "# HELP glivi_commit_seconds Time spent in group "
	    "commits.\n# TYPE glivi_commit_seconds summary\n"
	    "glivi_commit_seconds_sum %.6f\nglivi_commit_seconds_count %llu\n",
	    cs.commit_seconds, (unsigned long long)cs.commits);
	if (st != NULL && store_outbox_depth(st, &queued) == 0)
		metric(&b, "glivi_outbound_queued",
		    "Agent messages waiting to be sent to WhatsApp.", "gauge",
		    (uint64_t)queued);
	outbound_get_stats(srv->outbound, &os);
	metric(&b, "glivi_outbound_sent_total",
	    "Agent messages the Graph API accepted.", "counter", os.sent);
	metric(&b, "glivi_outbound_retried_total",
	    "Sends refused transiently and queued again.", "counter",
	    os.retried);
	metric(&b, "glivi_outbound_failed_total",
	    "Agent messages failed for good.", "counter", os.failed);
	if (st != NULL && store_read_receipts_queued(st, &queued) == 0)
		metric(&b, "glivi_read_receipts_queued",
		    "Read receipts owed to WhatsApp.", "gauge",
		    (uint64_t)queued);
	metric(&b, "glivi_read_receipts_sent_total",
	    "Read receipts the Graph API accepted.", "counter",
	    os.receipts_sent);
	metric(&b, "glivi_read_receipts_retried_total",
	    "Read receipts refused transiently and queued again.", "counter",
	    os.receipts_retried);
	metric(&b, "glivi_read_receipts_dropped_total",
	    "Read receipts refused for good or out of attempts (logged).",
	    "counter", os.receipts_dropped);
	templates_get_stats(srv->templates, &ts);
	metric(&b, "glivi_template_lists_read_total",
	    "Complete template lists read from the Graph API.", "counter",
	    ts.fetches);
	metric(&b, "glivi_template_list_failures_total",
	    "Template list reads that failed (tried again later).", "counter",
	    ts.failures);
	metric(&b, "glivi_unauthorized_total",
	    "Agent API requests refused for a missing, bad or revoked token.",
	    "counter", atomic_load(&k->unauthorized));
	metric(&b, "glivi_sync_pages_total", "Sync pages served.", "counter",
	    atomic_load(&k->sync_pages));
	metric(&b, "glivi_event_streams", "Open event streams.", "gauge",
	    srv->events ? events_count(srv->events) : 0);
	metric(&b, "glivi_events_delivered_total",
	    "Change events written to streams.", "counter",
	    srv->events ? events_delivered(srv->events) : 0);
	rc = server_respond(r, MHD_HTTP_OK, "text/plain; version=0.0.4",
	    b.data, b.len);
	buf_free(&b);
	return rc;
}

static const struct route *
find_route(const char *method, const char *path, int64_t *ids, char *key,
    const struct route **same_path)
{
	*same_path = NULL;
	for (size_t i = 0; i < NROUTES; i++) {
		if (!path_match(routes[i].path, path, NULL, NULL))
			continue;
		*same_path = &routes[i];
		if (strcmp(routes[i].method, method) == 0) {
			path_match(routes[i].path, path, ids, key);
			return &routes[i];
		}
	}
	return NULL;
}

/*
 * Bearer-token authentication against the stored SHA-256 of each token.
 * The hash is looked up, then compared again in constant time; a revoked
 * agent is refused on its next request, since every request asks the
 * store.
 */
static enum MHD_Result
authenticate(struct server *srv, struct request *r, int *ok)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	struct store *st = server_reader(srv);
	unsigned char hash[32];
	size_t n;
	int rc;

	*ok = 0;
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 ||
	    (n = strlen(h + 7)) == 0 || n > 256) {
		atomic_fetch_add(&srv->counters.unauthorized, 1);
		return server_error(r, MHD_HTTP_UNAUTHORIZED, "unauthorized",
		    "an agent token is required: Authorization: Bearer "
		    "<token>");
	}
	if (st == NULL)
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "store_unavailable", "the store cannot be read");
	sha256(h + 7, n, hash);
	rc = store_agent_by_token_hash(st, hash, &r->agent);
	if (rc < 0)
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "store_unavailable", "the store cannot be read");
	if (rc == 0 || CRYPTO_memcmp(hash, r->agent.hash, 32) != 0 ||
	    r->agent.revoked) {
		atomic_fetch_add(&srv->counters.unauthorized, 1);
		return server_error(r, MHD_HTTP_UNAUTHORIZED, "unauthorized",
		    "unknown or revoked token");
	}
	if (r->route->role == ROLE_ADMIN && !r->agent.admin)
		return server_error(r, MHD_HTTP_FORBIDDEN, "forbidden",
		    "this needs an admin agent");
	*ok = 1;
	return MHD_YES;
}

struct store *
server_reader(struct server *srv)
{
	static __thread struct store *reader;
	char *cause = NULL;

	if (reader != NULL)
		return reader;
	if (store_open_reader(srv->cfg->store_url, &reader, &cause) != 0) {
		log_error("cannot open a reader: %s", cause);
		free(cause);
		reader = NULL;
		return NULL;
	}
	pthread_mutex_lock(&srv->readers_lock);
	srv->readers = xrealloc(srv->readers, (srv->nreaders + 1) *
	    sizeof *srv->readers);
	srv->readers[srv->nreaders++] = reader;
	pthread_mutex_unlock(&srv->readers_lock);
	return reader;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct server *srv = cls;
	struct request *r = *req_cls;
	const char *cl;
	int ok;

	if (r == NULL) {
		const struct route *same_path;

		r = xcalloc(1, sizeof *r);
		r->conn = conn;
		r->srv = srv;
		buf_init(&r->body);
		*req_cls = r;
		atomic_fetch_add(&srv->counters.requests, 1);
		r->route = find_route(method, url, r->ids, r->key, &same_path);
		if (r->route == NULL) {
			if (same_path != NULL) {
				/* Remember the path for the Allow header. */
				r->route = same_path;
				return server_error(r,
				    MHD_HTTP_METHOD_NOT_ALLOWED,
				    "method_not_allowed",
				    "this path does not take that method");
			}
			atomic_fetch_add(&srv->counters.not_found, 1);
			return server_error(r, MHD_HTTP_NOT_FOUND, "not_found",
			    "no such path");
		}
		r->path = xstrdup(url);
		if (r->route->handler == webhook_receive &&
		    !webhook_signature_plausible(MHD_lookup_connection_value(
		    conn, MHD_HEADER_KIND, "X-Hub-Signature-256"))) {
			/* No need to take in megabytes from whoever cannot
			 * even say sha256=<64 hex>. */
			atomic_fetch_add(&srv->counters.bad_signature, 1);
			r->route = NULL;
			return server_error(r, MHD_HTTP_UNAUTHORIZED,
			    "bad_signature", "no X-Hub-Signature-256 header of "
			    "the form sha256=<64 hex digits>");
		}
		if (r->route->takes_body == BODY_FILE) {
			/* Who uploads, and what, is settled before the
			 * first byte of a file is taken. */
			enum MHD_Result rc = authenticate(srv, r, &ok);

			if (ok && media_upload_begin(srv, r, &rc) == 0) {
				r->authed = 1;
				return MHD_YES;
			}
			r->route = NULL; /* answered; the body is not read */
			return rc;
		}
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) >
		    (unsigned long long)srv->cfg->max_body) {
			atomic_fetch_add(&srv->counters.too_large, 1);
			r->route = NULL;
			return server_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
			    "too_large", "request body is over the limit");
		}
		return MHD_YES;
	}
	if (r->route == NULL)
		return MHD_YES; /* answered already; MHD drains the body */

	if (r->route->takes_body == BODY_FILE) {
		if (*upload_data_size > 0) {
			media_upload_data(srv, r, upload_data,
			    *upload_data_size);
			*upload_data_size = 0;
			return MHD_YES;
		}
		return r->route->handler(srv, r);
	}
	if (*upload_data_size > 0) {
		if (!r->route->takes_body || r->too_large ||
		    r->body.len + *upload_data_size >
		    (size_t)srv->cfg->max_body)
			r->too_large = 1;
		else
			buf_add(&r->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->too_large) {
		buf_free(&r->body);
		if (!r->route->takes_body)
			return server_error(r, MHD_HTTP_BAD_REQUEST,
			    "unexpected_body", "this request takes no body");
		atomic_fetch_add(&srv->counters.too_large, 1);
		return server_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "too_large", "request body is over the limit");
	}
	(void)version;
	if (r->route->role != ROLE_PUBLIC && !r->authed) {
		enum MHD_Result rc = authenticate(srv, r, &ok);

		if (!ok)
			return rc;
		r->authed = 1;
	}
	return r->route->handler(srv, r);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode code)
{
	struct request *r = *req_cls;

	if (r == NULL)
		return;
	buf_free(&r->body);
	wa_batch_free(r->batch);
	api_request_free(r);
	media_request_free(r);
	free(r->path);
	free(r);
	*req_cls = NULL;
}

/* After every commit: streams and the sender may have news. */
static void
on_commit(void *arg)
{
	struct server *srv = arg;

	events_notify(srv->events);
	outbound_notify(srv->outbound);
	snooze_notify(srv->snooze);
}

int
server_start(struct server *srv, const struct relay_config *cfg,
    struct committer *committer, char **cause)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	char *cert = NULL, *key = NULL;
	unsigned port;
	int loopback, v6;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	srv->cfg = cfg;
	srv->committer = committer;
	if (media_init(cfg, cause) != 0)
		return -1;
	pthread_mutex_init(&srv->readers_lock, NULL);
	pthread_mutex_init(&srv->inflight_lock, NULL);
	srv->events = events_start(srv, cfg->heartbeat, cause);
	if (srv->events == NULL)
		return -1;
	/* Auto-assignment asks the streams who is online. */
	inbox_online_source(events_online, srv->events);
	srv->snooze = snooze_start(cfg, committer, cause);
	if (srv->snooze == NULL)
		return -1;
	committer_on_commit(committer, on_commit, srv);
	if (netaddr_resolve(cfg->listen, &ss, &port, &v6, &loopback,
	    cause) != 0)
		return -1;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (!cfg->plain_http) {
		if (file_read_pem_pair(cfg->tls_cert, cfg->tls_key, &cert, &key,
		    cause) != 0)
			return -1;
		flags |= MHD_USE_TLS;
	}

	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->max_header,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, log_external, srv,
	    MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned int)(cfg->threads > 1 ? cfg->threads : 0),
	    cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	file_free_secret(key);
	free(cert);
	if (srv->daemon == NULL) {
		*cause = xasprintf("cannot serve on %s (address in use, bad "
		    "certificate or key?)", cfg->listen);
		return -1;
	}
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : port;
	return 0;
}

void
server_stop(struct server *srv)
{
	const union MHD_DaemonInfo *info;
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	MHD_socket listen_fd;

	if (srv->daemon == NULL)
		return;
	atomic_store(&srv->stopping, 1);
	/* Stop accepting; answer what is in flight. Suspended webhooks are
	 * resumed by the committer, which finishes every queued job. */
	/* From here the listening socket is ours: stop taking connections
	 * now rather than leaving them unanswered until exit. */
	listen_fd = MHD_quiesce_daemon(srv->daemon);
	if (listen_fd != MHD_INVALID_SOCKET)
		shutdown(listen_fd, SHUT_RDWR);
	/* The sender and the template reader record through the committer:
	 * stop them first. They are freed once no commit can notify them and
	 * no /metrics request can read them. */
	outbound_stop(srv->outbound);
	templates_stop(srv->templates);
	/* Waiting media requests are answered (resumed) here; a request
	 * that comes meanwhile finds the fetcher stopping. */
	fetcher_stop(srv->fetcher);
	/* The snooze timer writes through the committer too. */
	snooze_stop(srv->snooze);
	committer_stop(srv->committer);
	events_stop(srv->events);
	/* Give answered responses a moment to leave before closing. */
	for (int i = 0; i < 100; i++) {
		info = MHD_get_daemon_info(srv->daemon,
		    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (info == NULL || info->num_connections == 0)
			break;
		nanosleep(&pause, NULL);
	}
	MHD_stop_daemon(srv->daemon);
	srv->daemon = NULL;
	outbound_free(srv->outbound);
	srv->outbound = NULL;
	templates_free(srv->templates);
	srv->templates = NULL;
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
	inbox_online_source(NULL, NULL);
	events_free(srv->events);
	srv->events = NULL;
	snooze_free(srv->snooze);
	srv->snooze = NULL;
	fetcher_free(srv->fetcher);
	srv->fetcher = NULL;
	for (size_t i = 0; i < srv->nreaders; i++)
		store_close(srv->readers[i]);
	free(srv->readers);
	srv->readers = NULL;
	srv->nreaders = 0;
	pthread_mutex_destroy(&srv->readers_lock);
	pthread_mutex_destroy(&srv->inflight_lock);
}
