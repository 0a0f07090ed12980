/*
 * The control API under /_sim/ that tests and the demo drive: inject
 * errors, make simulated customers write, push extra statuses, open or
 * close windows, and read back what the simulator accepted and counted.
 * Not part of Meta's surface; its errors have their own small shape.
 */
#ifndef GLIVI_SIM_CONTROL_H
#define GLIVI_SIM_CONTROL_H

#include "sim/sim.h"

/* {"error":{"message":…}} with the status. */
enum MHD_Result control_error(struct httpd_req *, unsigned status,
    const char *message);

enum MHD_Result control_inject(struct sim *, struct httpd_req *,
    const struct sim_args *);
enum MHD_Result control_inbound(struct sim *, struct httpd_req *,
    const struct sim_args *);
enum MHD_Result control_status(struct sim *, struct httpd_req *,
    const struct sim_args *);
enum MHD_Result control_window(struct sim *, struct httpd_req *,
    const struct sim_args *);
enum MHD_Result control_sent(struct sim *, struct httpd_req *,
    const struct sim_args *);
enum MHD_Result control_reads(struct sim *, struct httpd_req *,
    const struct sim_args *);
enum MHD_Result control_media_add(struct sim *, struct httpd_req *,
    const struct sim_args *);
enum MHD_Result control_media_list(struct sim *, struct httpd_req *,
    const struct sim_args *);
enum MHD_Result control_stats(struct sim *, struct httpd_req *,
    const struct sim_args *);
enum MHD_Result control_reset(struct sim *, struct httpd_req *,
    const struct sim_args *);
/* GET: the template list; POST: a new list, or a raw answer to serve. */
enum MHD_Result control_templates(struct sim *, struct httpd_req *,
    const struct sim_args *);

#endif
