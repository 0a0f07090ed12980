/*
 * The routes table and the dispatch from a request to its handler. Graph
 * API paths answer unknown routes the way Graph does (400, code 2500); the
 * control API answers with its own small error shape.
 */
#include "sim/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "sim/control.h"
#include "sim/graph.h"
#include "sim/media.h"
#include "sim/wire.h"

static const struct sim_route routes[] = {
	{ "POST", "/{version}/{id}/messages", graph_messages,
	  "Send a message, or mark one read (Graph API)." },
	{ "GET", "/{version}/{id}/message_templates", graph_templates,
	  "The WABA's approved templates (Graph API)." },
	{ "POST", "/{version}/{id}/media", media_upload,
	  "Upload a file to send by id (Graph API, multipart)." },
	{ "GET", "/{version}/{id}", media_get,
	  "A media file's download URL, type, sha256 and size (Graph API)." },
	{ "DELETE", "/{version}/{id}", media_delete,
	  "Delete a media file (Graph API)." },
	{ "GET", "/whatsapp_business/attachments/", media_download,
	  "Download a media file by the URL Graph gave (bearer token)." },
	{ "POST", "/_sim/inject", control_inject,
	  "Queue an error for the next matching send(s)." },
	{ "POST", "/_sim/inbound", control_inbound,
	  "A customer writes: post a signed message webhook now." },
	{ "POST", "/_sim/status", control_status,
	  "Post one more status webhook for an accepted send." },
	{ "POST", "/_sim/window", control_window,
	  "Open or close a customer's 24-hour window." },
	{ "GET", "/_sim/sent", control_sent, "Every accepted send, in order." },
	{ "GET", "/_sim/read", control_reads,
	  "Every accepted mark-read, in order." },
	{ "POST", "/_sim/media", control_media_add,
	  "Register a file (the raw body) for simulated customers to send." },
	{ "GET", "/_sim/media", control_media_list,
	  "Every file held: uploads and registered ones." },
	{ "GET", "/_sim/stats", control_stats, "Counters." },
	{ "POST", "/_sim/reset", control_reset,
	  "Clear records, counters and pending injections." },
	{ "GET", "/_sim/templates", control_templates,
	  "The WABA's template list, as message_templates serves it." },
	{ "POST", "/_sim/templates", control_templates,
	  "Replace the template list, or queue a raw answer to serve." },
};
#define NROUTES (sizeof routes / sizeof routes[0])

const struct sim_route *
sim_routes(size_t *n)
{
	*n = NROUTES;
	return routes;
}

/* One path segment: [A-Za-z0-9._-]+, copied into out. */
static const char *
segment(const char *p, char *out, size_t len)
{
	size_t n = 0;

	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-') {
		if (n + 1 >= len)
			return NULL;
		out[n++] = *p++;
	}
	out[n] = '\0';
	return n > 0 ? p : NULL;
}

/* A Graph API version: v, digits, optionally . and digits. */
static int
is_version(const char *s)
{
	if (*s++ != 'v' || *s < '0' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

static int
path_match(const char *pattern, const char *path, struct sim_args *a)
{
	while (*pattern != '\0') {
		if (strncmp(pattern, "{version}", 9) == 0) {
			path = segment(path, a->version, sizeof a->version);
			if (path == NULL || !is_version(a->version))
				return 0;
			pattern += 9;
			continue;
		}
		if (strncmp(pattern, "{id}", 4) == 0) {
			path = segment(path, a->id, sizeof a->id);
			if (path == NULL)
				return 0;
			pattern += 4;
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	return *path == '\0';
}

const struct sim_number *
sim_number_find(const struct sim *s, const char *id)
{
	for (size_t i = 0; i < s->cfg->nnumbers; i++) {
		if (strcmp(s->cfg->numbers[i].id, id) == 0)
			return &s->cfg->numbers[i];
	}
	return NULL;
}

enum MHD_Result
sim_dispatch(void *ctx, struct httpd_req *r)
{
	struct sim *s = ctx;
	struct sim_args a;
	int path_known = 0;
	char trace[48], *msg;
	enum MHD_Result rc;

	for (size_t i = 0; i < NROUTES; i++) {
		memset(&a, 0, sizeof a);
		if (!path_match(routes[i].path, r->url, &a))
			continue;
		path_known = 1;
		if (strcmp(routes[i].method, r->method) == 0)
			return routes[i].handler(s, r, &a);
	}
	if (strncmp(r->url, "/_sim/", 6) == 0)
		return control_error(r, path_known ? 405 : 404, path_known ?
		    "this control endpoint does not take that method" :
		    "no such control endpoint");
	/* What Graph answers for a path or method it does not know. */
	state_unique(s->state, "ASIM", trace, sizeof trace);
	msg = xasprintf("Unknown path components: %s", r->url);
	rc = httpd_json(r, 400, wire_error(msg, "OAuthException", 2500, 0,
	    NULL, 0, trace));
	free(msg);
	return rc;
}
