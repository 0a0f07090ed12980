/*
 * The Graph API endpoints the relay calls: send a message or mark one read
 * (POST /{version}/{phone_number_id}/messages) and list templates
 * (GET /{version}/{waba_id}/message_templates). Requests are checked the
 * way Meta checks them and answered in Meta's shapes; accepted sends are
 * recorded and their status webhooks scheduled.
 */
#ifndef GLIVI_SIM_GRAPH_H
#define GLIVI_SIM_GRAPH_H

#include "sim/sim.h"

enum MHD_Result graph_messages(struct sim *, struct httpd_req *,
    const struct sim_args *);
enum MHD_Result graph_templates(struct sim *, struct httpd_req *,
    const struct sim_args *);
/* The approved templates the simulator starts with, in Graph's shape. */
cJSON *graph_default_templates(void);

/*
 * Posts nothing: builds the status webhook for a recorded send (an entry
 * of /_sim/sent) and returns its body, for the control API.
 */
char *graph_status_body(struct sim *, const cJSON *sent, const char *status,
    long error_code, int64_t timestamp);

/* For the media endpoints (media.c): the token check and Graph's answers
 * for a bad token, an unknown object and an injected error (NULL when the
 * injection is not one that answers). */
int graph_authorized(struct sim *, struct httpd_req *);
enum MHD_Result graph_unauthorized(struct sim *, struct httpd_req *);
enum MHD_Result graph_unknown_object(struct sim *, struct httpd_req *,
    const char *verb, const char *id);
cJSON *graph_injected_error(struct sim *, const struct state_injection *,
    unsigned *http);
void graph_trace_id(struct sim *, char *out, size_t len);

#endif
