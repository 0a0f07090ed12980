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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "relay/webhook.h"

static enum MHD_Result route_healthz(struct server *, struct request *);
static enum MHD_Result route_metrics(struct server *, struct request *);

static const struct route routes[] = {
	{ "GET", "/webhook", 0, webhook_verify },
	{ "POST", "/webhook", 1, webhook_receive },
	{ "GET", "/healthz", 0, route_healthz },
	{ "GET", "/metrics", 0, route_metrics },
};
#define NROUTES (sizeof routes / sizeof routes[0])

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

	if (atomic_load(&srv->stopping))
		return server_respond(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "application/json", stopping, sizeof stopping - 1);
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
	struct committer_stats cs;
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
	rc = server_respond(r, MHD_HTTP_OK, "text/plain; version=0.0.4",
	    b.data, b.len);
	buf_free(&b);
	return rc;
}

static const struct route *
find_route(const char *method, const char *path, int *path_known)
{
	*path_known = 0;
	for (size_t i = 0; i < NROUTES; i++) {
		if (strcmp(routes[i].path, path) != 0)
			continue;
		*path_known = 1;
		if (strcmp(routes[i].method, method) == 0)
			return &routes[i];
	}
	return NULL;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct server *srv = cls;
	struct request *r = *req_cls;
	const char *cl;
	int path_known;

	if (r == NULL) {
		r = xcalloc(1, sizeof *r);
		r->conn = conn;
		r->srv = srv;
		buf_init(&r->body);
		*req_cls = r;
		atomic_fetch_add(&srv->counters.requests, 1);
		r->route = find_route(method, url, &path_known);
		if (r->route == NULL) {
			if (path_known) {
				/* Remember the path for the Allow header. */
				for (size_t i = 0; i < NROUTES; i++) {
					if (strcmp(routes[i].path, url) == 0)
						r->route = &routes[i];
				}
				return server_error(r,
				    MHD_HTTP_METHOD_NOT_ALLOWED,
				    "method_not_allowed",
				    "this path does not take that method");
			}
			atomic_fetch_add(&srv->counters.not_found, 1);
			return server_error(r, MHD_HTTP_NOT_FOUND, "not_found",
			    "no such path");
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
	free(r);
	*req_cls = NULL;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	vsnprintf(line, sizeof line, fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("http: %s", line);
}

static char *
read_file(const char *path, char **cause)
{
	struct buf b;
	char chunk[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < (1 << 20))
		buf_add(&b, chunk, n);
	fclose(f);
	if (b.len == 0) {
		*cause = xasprintf("%s: empty", path);
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

int
server_start(struct server *srv, const struct relay_config *cfg,
    struct committer *committer, char **cause)
{
	struct sockaddr_storage ss;
	struct addrinfo hints, *ai = NULL;
	const union MHD_DaemonInfo *info;
	char *host = NULL, *cert = NULL, *key = NULL, portstr[8];
	unsigned port;
	int loopback, rc;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	srv->cfg = cfg;
	srv->committer = committer;
	if (relay_listen_parse(cfg->listen, &host, &port, &loopback,
	    cause) != 0)
		return -1;
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof portstr, "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc != 0 || ai == NULL) {
		*cause = xasprintf("listen %s: %s", cfg->listen,
		    gai_strerror(rc));
		free(host);
		return -1;
	}
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	freeaddrinfo(ai);
	free(host);

	if (!cfg->plain_http) {
		if ((cert = read_file(cfg->tls_cert, cause)) == NULL)
			return -1;
		if ((key = read_file(cfg->tls_key, cause)) == NULL) {
			free(cert);
			return -1;
		}
		flags |= MHD_USE_TLS;
	}

	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->max_header,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
	    MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned int)(cfg->threads > 1 ? cfg->threads : 0),
	    cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
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

	if (srv->daemon == NULL)
		return;
	atomic_store(&srv->stopping, 1);
	/* Stop accepting; answer what is in flight. Suspended webhooks are
	 * resumed by the committer, which finishes every queued job. */
	MHD_quiesce_daemon(srv->daemon);
	committer_stop(srv->committer);
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
}
