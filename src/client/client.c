/*
 * One relay account; see client.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "client/client.h"
#include "client/outbox.h"
#include "client/sync.h"
#include "core/buf.h"
#include "core/secret.h"
#include "core/utf8.h"
#include "core/xalloc.h"

int
client_open(struct client *cl, uv_loop_t *loop,
    const struct client_config *cfg, char **cause)
{
	struct http_tls tls = { cfg->ca_file, cfg->pinned_pubkey };

	memset(cl, 0, sizeof *cl);
	cl->loop = loop;
	cl->cfg = cfg;
	cl->cache = cache_open(cfg->cache_dir, cfg->url, &cl->notice, cause);
	if (cl->cache == NULL)
		return -1;
	cl->http = http_new(loop, &tls);
	cl->sync = sync_new(cl);
	cl->outbox = outbox_new(cl);
	return 0;
}

/* The token is read when first needed: offline commands never need it. */
static int
load_token(struct client *cl, char **cause)
{
	if (cl->token != NULL)
		return 0;
	cl->token = client_config_token(cl->cfg, &cl->token_len, cause);
	return cl->token != NULL ? 0 : -1;
}

void
client_close(struct client *cl)
{
	sync_free(cl->sync);
	outbox_free(cl->outbox);
	http_free(cl->http);
	/* Let the loop run the close callbacks. */
	uv_run(cl->loop, UV_RUN_DEFAULT);
	cache_close(cl->cache);
	if (cl->token != NULL)
		secret_free(cl->token, cl->token_len);
	free(cl->notice);
	memset(cl, 0, sizeof *cl);
}

char *
client_url(const struct client *cl, const char *fmt, ...)
{
	va_list ap;
	struct buf b;

	buf_init(&b);
	buf_adds(&b, cl->cfg->url);
	va_start(ap, fmt);
	{
		char *p;

		if (vasprintf(&p, fmt, ap) < 0)
			abort();
		buf_adds(&b, p);
		free(p);
	}
	va_end(ap);
	return buf_steal(&b);
}

void
client_emit(struct client *cl, enum client_event ev, const char *detail)
{
	if (cl->on_event != NULL)
		cl->on_event(cl->arg, ev, detail);
}

struct http_xfer *
client_request(struct client *cl, struct http_request *rq)
{
	char *cause = NULL;

	if (load_token(cl, &cause) != 0) {
		/* Report through the request's own callback, like any
		 * other failure, but from the loop, not from here. */
		struct http_result r = { 0 };

		r.fail = HTTP_OTHER;
		r.status = 0;
		r.body = "";
		r.retry_after = -1;
		r.error = cause;
		rq->on_done(rq->arg, &r);
		free(cause);
		return NULL;
	}
	rq->token = cl->token;
	rq->connect_timeout_ms = cl->cfg->connect_timeout * 1000;
	if (rq->on_data == NULL)
		rq->timeout_ms = cl->cfg->request_timeout * 1000;
	return http_start(cl->http, rq);
}

char *
client_error_text(const struct http_result *r)
{
	cJSON *o = r->len > 0 ? cJSON_ParseWithLength(r->body, r->len) : NULL;
	const cJSON *e = cJSON_GetObjectItem(o, "error");
	const cJSON *m = cJSON_GetObjectItem(e, "message");
	struct buf b;

	buf_init(&b);
	if (cJSON_IsString(m)) {
		size_t n = strlen(m->valuestring);

		utf8_sanitize(m->valuestring, n > 400 ? 400 : n, 0, &b);
		buf_printf(&b, " (HTTP %ld)", r->status);
	} else {
		buf_printf(&b, "the relay answered HTTP %ld", r->status);
	}
	cJSON_Delete(o);
	return buf_steal(&b);
}
