/*
 * Media files under data_dir/media, and the agent API's two media routes:
 * GET /api/v1/media/{id} serves a file (fetched from Meta on first use,
 * only for ids a stored message names) and POST /api/v1/media takes an
 * agent's upload to send by id. Every file is written under a temporary
 * name, synced and renamed, mode 0600; the store records each one.
 */
#ifndef GLIVI_MEDIA_H
#define GLIVI_MEDIA_H

#include "relay/server.h"

/* The longest media id served (Meta's are digits; the relay's own are
 * "up" and 32 hex digits). */
#define MEDIA_ID_MAX 128

/* Creates data_dir/media (0700) and removes temporary files a crash left. */
int media_init(const struct relay_config *, char **cause);
/* 1 to 128 of A-Z, a-z, 0-9, '_' and '-': never a path of its own. */
int media_id_valid(const char *);
/* Whether id is one the relay made for an upload ("up" + 32 hex). */
int media_upload_id(const char *);
char *media_path(const struct relay_config *, const char *id);
/* A new temporary file in data_dir/media, mode 0600: its descriptor and
 * *tmp (the caller frees), or -1 with *cause set. */
int media_tempfile(const struct relay_config *, char **tmp, char **cause);
/* Syncs and closes fd, renames tmp to id's path and syncs the directory.
 * On failure the temporary file is removed. */
int media_commit_file(const struct relay_config *, int fd, const char *tmp,
    const char *id, char **cause);

enum MHD_Result media_get(struct server *, struct request *);
enum MHD_Result media_upload(struct server *, struct request *);
/*
 * An upload's first call, headers read: refuses what cannot be taken
 * (type, declared size) before any byte is. Returns 0 to read the body,
 * -1 with *answer queued.
 */
int media_upload_begin(struct server *, struct request *,
    enum MHD_Result *answer);
/* A piece of the uploaded body, written as it comes. */
void media_upload_data(struct server *, struct request *, const char *,
    size_t);
/* Frees what a media request left on the request. */
void media_request_free(struct request *);

#endif
