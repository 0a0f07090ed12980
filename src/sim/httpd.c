/*
 * The simulator's HTTP(S) server: libmicrohttpd, a thread per connection,
 * request bodies with a size cap, waits that a stop interrupts. Routing is
 * the dispatch function's business, not this file's.
 */
#include "sim/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/fileutil.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "core/xalloc.h"

struct httpd {
	struct MHD_Daemon *daemon;
	MHD_socket listen_fd; /* after quiesce, closed at stop */
	httpd_dispatch dispatch;
	void *ctx;
	size_t max_body;
	atomic_int stopping;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* broadcast when stopping */
};


enum MHD_Result
httpd_respond(struct httpd_req *r, unsigned status, const char *content_type,
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
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	rc = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

enum MHD_Result
httpd_json(struct httpd_req *r, unsigned status, cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	enum MHD_Result rc;

	cJSON_Delete(o);
	if (s == NULL)
		return MHD_NO;
	rc = httpd_respond(r, status, "application/json; charset=UTF-8", s,
	    strlen(s));
	free(s);
	return rc;
}

const char *
httpd_header(struct httpd_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
httpd_query(struct httpd_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

int
httpd_stopping(const struct httpd *h)
{
	return atomic_load(&h->stopping);
}

int
httpd_sleep(struct httpd_req *r, long ms)
{
	struct httpd *h = r->httpd;
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->lock);
	while (!atomic_load(&h->stopping)) {
		if (pthread_cond_timedwait(&h->wake, &h->lock, &until) ==
		    ETIMEDOUT)
			break;
	}
	if (atomic_load(&h->stopping))
		rc = -1;
	pthread_mutex_unlock(&h->lock);
	return rc;
}

void
httpd_hold(struct httpd_req *r, long max_ms)
{
	const union MHD_ConnectionInfo *ci;
	struct pollfd pfd;
	long waited = 0;
	int n;

	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return;
	/*
	 * The whole request has been read, so anything the socket reports
	 * now (end of stream, a TLS close_notify, a reset) means the client
	 * has given up waiting.
	 */
	pfd.fd = ci->connect_fd;
	while (waited < max_ms && !atomic_load(&r->httpd->stopping)) {
		pfd.events = POLLIN | POLLRDHUP;
		pfd.revents = 0;
		n = poll(&pfd, 1, 100);
		if (n > 0 || (n < 0 && errno != EINTR))
			return;
		waited += 100;
	}
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct httpd *h = cls;
	struct httpd_req *r = *req_cls;

	if (r == NULL) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		r = xcalloc(1, sizeof *r);
		r->arrived = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		r->httpd = h;
		r->conn = conn;
		r->method = method;
		r->url = xstrdup(url);
		buf_init(&r->body);
		*req_cls = r;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (r->too_large || r->body.len + *upload_data_size >
		    h->max_body)
			r->too_large = 1;
		else
			buf_add(&r->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	(void)version;
	if (r->too_large) {
		static const char big[] = "{\"error\":{\"message\":\"request "
		    "body is over the limit\",\"code\":1}}";

		return httpd_respond(r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "application/json", big, sizeof big - 1);
	}
	if (atomic_load(&h->stopping)) {
		static const char stop[] = "{\"error\":{\"message\":\"the "
		    "simulator is stopping\",\"code\":2}}";

		return httpd_respond(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "application/json", stop, sizeof stop - 1);
	}
	return h->dispatch(h->ctx, r);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode code)
{
	struct httpd_req *r = *req_cls;

	if (r == NULL)
		return;
	buf_free(&r->body);
	free(r->url);
	free(r);
	*req_cls = NULL;
}

int
httpd_start(struct httpd **out, const struct httpd_options *o,
    httpd_dispatch dispatch, void *ctx, unsigned *bound, char **cause)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	pthread_condattr_t ca;
	struct httpd *h;
	char *cert = NULL, *key = NULL;
	unsigned port;
	int loopback, v6;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ITC |
	    MHD_USE_ERROR_LOG;

	if (netaddr_resolve(o->listen, &ss, &port, &v6, &loopback,
	    cause) != 0)
		return -1;
	if (o->plain_http && !loopback) {
		*cause = xasprintf("--plain-http needs a loopback listen "
		    "address (127.0.0.1, ::1, localhost); '%s' is not one",
		    o->listen);
		return -1;
	}
	if (v6)
		flags |= MHD_USE_IPv6;
	if (!o->plain_http) {
		if (file_read_pem_pair(o->tls_cert, o->tls_key, &cert, &key,
		    cause) != 0)
			return -1;
		flags |= MHD_USE_TLS;
	}

	h = xcalloc(1, sizeof *h);
	h->dispatch = dispatch;
	h->ctx = ctx;
	h->max_body = o->max_body;
	h->listen_fd = MHD_INVALID_SOCKET;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake, &ca);
	pthread_condattr_destroy(&ca);

	h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, log_external, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, 256u,
	    MHD_OPTION_CONNECTION_TIMEOUT, 120u,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	file_free_secret(key);
	free(cert);
	if (h->daemon == NULL) {
		*cause = xasprintf("cannot serve on %s (address in use, bad "
		    "certificate or key?)", o->listen);
		pthread_mutex_destroy(&h->lock);
		pthread_cond_destroy(&h->wake);
		free(h);
		return -1;
	}
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	*bound = info ? info->port : port;
	*out = h;
	return 0;
}

void
httpd_quiesce(struct httpd *h)
{
	if (h == NULL || atomic_load(&h->stopping))
		return;
	pthread_mutex_lock(&h->lock);
	atomic_store(&h->stopping, 1);
	pthread_cond_broadcast(&h->wake);
	pthread_mutex_unlock(&h->lock);
	h->listen_fd = MHD_quiesce_daemon(h->daemon);
}

void
httpd_stop(struct httpd *h)
{
	if (h == NULL)
		return;
	httpd_quiesce(h);
	MHD_stop_daemon(h->daemon);
	if (h->listen_fd != MHD_INVALID_SOCKET)
		close(h->listen_fd);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->wake);
	free(h);
}
