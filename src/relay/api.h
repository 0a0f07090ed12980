/*
 * The agent API under /api/v1/: sync pages, the event stream, presence,
 * and the writes agents make. Writes are checked on the HTTP thread, then
 * applied on the committer under their Idempotency-Key.
 */
#ifndef GLIVI_API_H
#define GLIVI_API_H

#include "relay/server.h"

/* Who the token belongs to: {"id","name","role"}. */
enum MHD_Result api_me(struct server *, struct request *);
enum MHD_Result api_sync(struct server *, struct request *);
enum MHD_Result api_events(struct server *, struct request *);
enum MHD_Result api_presence(struct server *, struct request *);

enum MHD_Result api_send_message(struct server *, struct request *);
enum MHD_Result api_mark_read(struct server *, struct request *);
enum MHD_Result api_assign(struct server *, struct request *);
enum MHD_Result api_set_status(struct server *, struct request *);
enum MHD_Result api_labels(struct server *, struct request *);
enum MHD_Result api_add_note(struct server *, struct request *);
enum MHD_Result api_delete_note(struct server *, struct request *);
enum MHD_Result api_edit_contact(struct server *, struct request *);
enum MHD_Result api_create_order(struct server *, struct request *);
enum MHD_Result api_update_order(struct server *, struct request *);
enum MHD_Result api_create_agent(struct server *, struct request *);
enum MHD_Result api_revoke_agent(struct server *, struct request *);

/* The shared inbox: labels and canned replies (admins), presence now. */
enum MHD_Result api_create_label(struct server *, struct request *);
enum MHD_Result api_update_label(struct server *, struct request *);
enum MHD_Result api_delete_label(struct server *, struct request *);
enum MHD_Result api_create_canned(struct server *, struct request *);
enum MHD_Result api_update_canned(struct server *, struct request *);
enum MHD_Result api_delete_canned(struct server *, struct request *);
enum MHD_Result api_presence_now(struct server *, struct request *);

/* Erasure (admin): everything about a contact, or one conversation;
 * deleting an order. */
enum MHD_Result api_erase_contact(struct server *, struct request *);
enum MHD_Result api_erase_conversation(struct server *, struct request *);
enum MHD_Result api_delete_order(struct server *, struct request *);
/* Everything held about a contact, as one JSON document (admin). */
enum MHD_Result api_export_contact(struct server *, struct request *);

/* Frees what a write left on the request. */
void api_request_free(struct request *);

#endif
