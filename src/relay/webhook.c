/*
 * The webhook routes. The order is the contract: size cap, signature over
 * the raw body (constant time), JSON parse, durable commit, then 200.
 * Nothing is parsed before the signature holds; nothing is logged of the
 * body but its size.
 */
#include "relay/webhook.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/hmac.h"
#include "core/log.h"
#include "core/xalloc.h"

#define MAX_CHALLENGE 256

enum MHD_Result
webhook_verify(struct server *srv, struct request *r)
{
	const char *mode, *token, *challenge;
	unsigned char a[32], b[32];
	char addr[64];

	mode = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    "hub.mode");
	token = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    "hub.verify_token");
	challenge = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    "hub.challenge");
	if (mode == NULL || strcmp(mode, "subscribe") != 0 || token == NULL ||
	    challenge == NULL || *challenge == '\0' ||
	    strlen(challenge) > MAX_CHALLENGE) {
		log_warn("webhook: refused a handshake from %s: missing or bad "
		    "hub.mode, hub.verify_token or hub.challenge",
		    server_client_address(r, addr, sizeof addr));
		return server_error(r, MHD_HTTP_FORBIDDEN, "forbidden",
		    "bad subscription handshake");
	}
	/* Hash both sides so the comparison takes the same time whatever
	 * the lengths. */
	sha256(token, strlen(token), a);
	sha256(srv->verify_token, srv->verify_token_len, b);
	if (CRYPTO_memcmp(a, b, sizeof a) != 0) {
		log_warn("webhook: refused a handshake from %s: wrong verify "
		    "token", server_client_address(r, addr, sizeof addr));
		return server_error(r, MHD_HTTP_FORBIDDEN, "forbidden",
		    "bad subscription handshake");
	}
	log_info("webhook: subscription handshake answered");
	return server_respond(r, MHD_HTTP_OK, "text/plain", challenge,
	    strlen(challenge));
}

/* Runs on the committer thread once the job's commit is over. */
static void
job_done(struct commit_job *job, void *arg)
{
	struct request *r = arg;

	r->job_done = 1;
	MHD_resume_connection(r->conn);
}

static enum MHD_Result
answer(struct request *r)
{
	static const char ok[] = "{\"status\":\"stored\"}";

	switch (r->job.status) {
	case 200:
		return server_respond(r, MHD_HTTP_OK, "application/json", ok,
		    sizeof ok - 1);
	case 500:
		return server_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "ingest_failed", "the delivery could not be stored; "
		    "retry it");
	default:
		return server_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "unavailable", "the store is not accepting writes; retry");
	}
}

enum MHD_Result
webhook_receive(struct server *srv, struct request *r)
{
	const char *sig, *why = NULL;
	char *cause = NULL, addr[64];

	if (r->job_done)
		return answer(r);
	atomic_fetch_add(&srv->counters.webhooks, 1);

	sig = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    "X-Hub-Signature-256");
	if (hmac_verify_signature(sig, srv->app_secret, srv->app_secret_len,
	    r->body.data ? r->body.data : "", r->body.len, &why) != 0) {
		atomic_fetch_add(&srv->counters.bad_signature, 1);
		log_warn("webhook: refused %zu bytes from %s: %s", r->body.len,
		    server_client_address(r, addr, sizeof addr), why);
		return server_error(r, MHD_HTTP_UNAUTHORIZED, "bad_signature",
		    why);
	}
	if (wa_parse(r->body.data ? r->body.data : "", r->body.len,
	    &r->batch, &cause) != 0) {
		enum MHD_Result rc;

		atomic_fetch_add(&srv->counters.malformed, 1);
		log_warn("webhook: refused %zu signed bytes from %s: %s",
		    r->body.len, server_client_address(r, addr, sizeof addr),
		    cause);
		rc = server_error(r, MHD_HTTP_BAD_REQUEST, "malformed", cause);
		free(cause);
		return rc;
	}

	r->job.body = r->body.data;
	r->job.len = r->body.len;
	r->job.batch = r->batch;
	r->job.received_at = (int64_t)time(NULL);
	r->job.done = job_done;
	r->job.arg = r;
	/* Suspend before submitting: the commit may finish before we return. */
	MHD_suspend_connection(r->conn);
	if (atomic_load(&srv->stopping) ||
	    committer_submit(srv->committer, &r->job) != 0) {
		atomic_fetch_add(&srv->counters.refused_stopping, 1);
		r->job.status = 503;
		r->job_done = 1;
		MHD_resume_connection(r->conn);
	}
	return MHD_YES;
}

int
webhook_signature_plausible(const char *h)
{
	if (h == NULL || strncmp(h, "sha256=", 7) != 0 || strlen(h) != 71)
		return 0;
	for (h += 7; *h != '\0'; h++) {
		if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f') ||
		    (*h >= 'A' && *h <= 'F')))
			return 0;
	}
	return 1;
}
