/*
 * glivi-sim's HTTP(S) front: libmicrohttpd with one thread per connection,
 * so a handler may block (an injected slow answer, a request held open
 * until the client gives up) without holding up anyone else. Knows nothing
 * of Graph API or control routes; it hands each complete request to one
 * dispatch function.
 */
#ifndef GLIVI_SIM_HTTPD_H
#define GLIVI_SIM_HTTPD_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "core/buf.h"

struct httpd;

/* One request, from its first callback to its completion. */
struct httpd_req {
	struct httpd *httpd;
	struct MHD_Connection *conn;
	const char *method;
	char *url;
	struct buf body;
	int too_large;
	double arrived; /* Unix seconds when its headers had been read */
};

typedef enum MHD_Result (*httpd_dispatch)(void *ctx, struct httpd_req *);

struct httpd_options {
	const char *listen; /* host:port; port 0 lets the kernel choose */
	const char *tls_cert;
	const char *tls_key;
	int plain_http;	    /* only with a loopback listen address */
	size_t max_body;
};

/* Starts serving; *port is the port actually bound. */
int httpd_start(struct httpd **, const struct httpd_options *, httpd_dispatch,
    void *ctx, unsigned *port, char **cause);
/* Stops accepting connections and wakes every handler that waits. */
void httpd_quiesce(struct httpd *);
/* Closes every connection and frees the server. */
void httpd_stop(struct httpd *);
int httpd_stopping(const struct httpd *);

enum MHD_Result httpd_respond(struct httpd_req *, unsigned status,
    const char *content_type, const char *body, size_t len);
/* Answers with o printed as JSON, then deletes o. */
enum MHD_Result httpd_json(struct httpd_req *, unsigned status, cJSON *o);
const char *httpd_header(struct httpd_req *, const char *name);
const char *httpd_query(struct httpd_req *, const char *name);

/* Sleeps ms milliseconds; returns -1 early when the server is stopping. */
int httpd_sleep(struct httpd_req *, long ms);
/*
 * Holds the request unanswered until the client closes its end (or sends
 * anything more), the server stops, or max_ms passes. The caller then
 * returns MHD_NO so the connection is closed without an answer.
 */
void httpd_hold(struct httpd_req *, long max_ms);

#endif
