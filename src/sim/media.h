/*
 * The Graph API's media endpoints: upload (POST /{version}/{phone_number_id}
 * /media, multipart), look up (GET /{version}/{media_id}: a download URL
 * that expires), delete, and the download URL itself, which needs the
 * bearer token as Meta's does. Files live in state.c; the control API
 * registers the ones simulated customers send.
 */
#ifndef GLIVI_SIM_MEDIA_H
#define GLIVI_SIM_MEDIA_H

#include "sim/sim.h"

enum MHD_Result media_upload(struct sim *, struct httpd_req *,
    const struct sim_args *);
enum MHD_Result media_get(struct sim *, struct httpd_req *,
    const struct sim_args *);
enum MHD_Result media_delete(struct sim *, struct httpd_req *,
    const struct sim_args *);
enum MHD_Result media_download(struct sim *, struct httpd_req *,
    const struct sim_args *);

#endif
