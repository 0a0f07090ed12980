/*
 * The simulator as its handlers see it: the configuration, the modules it
 * is made of, and the routes table that sends each request to the Graph
 * API handlers (graph.c) or the control API (control.c).
 */
#ifndef GLIVI_SIM_SIM_H
#define GLIVI_SIM_SIM_H

#include <stddef.h>

#include "sim/hooks.h"
#include "sim/httpd.h"
#include "sim/state.h"

/* A business number the simulator serves. */
struct sim_number {
	char *id;      /* phone_number_id */
	char *display; /* display_phone_number: digits, no + */
};

struct sim_config {
	char *listen;
	char *ready_file;
	char *tls_cert;
	char *tls_key;
	int plain_http;
	char *access_token_file;
	char *app_secret_file;
	char *webhook_url;
	char *webhook_cacert;
	struct sim_number *numbers;
	size_t nnumbers;
	char *waba_id;
	long delays[3]; /* sent, delivered, read in ms; -1: not sent */
	size_t webhook_senders;
	int all_windows_open;
	long media_url_ttl; /* seconds a media download URL works */
	char *log_level;
};

struct sim {
	const struct sim_config *cfg;
	struct state *state;
	struct hooks *hooks;
	char *token; /* the access token the relay must present */
	size_t token_len;
};

/* The path's variable parts: /{version}/{id}/… */
struct sim_args {
	char version[16];
	char id[128];
};

typedef enum MHD_Result (*sim_handler)(struct sim *, struct httpd_req *,
    const struct sim_args *);

struct sim_route {
	const char *method;
	const char *path; /* {version} matches vN.N, {id} one segment */
	sim_handler handler;
	const char *help;
};

const struct sim_route *sim_routes(size_t *n);
/* httpd's dispatch function; ctx is the struct sim. */
enum MHD_Result sim_dispatch(void *ctx, struct httpd_req *);
/* The served number with this phone_number_id, or NULL. */
const struct sim_number *sim_number_find(const struct sim *, const char *id);

#endif
