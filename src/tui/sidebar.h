/*
 * The sidebar: who the customer is (name, number, user id, WhatsApp
 * profile name, labels, custom attributes), their orders (status, items,
 * total, date), the notes left about them and their other conversations.
 * Built once per conversation or cache change, so a keystroke that only
 * moves elsewhere costs it nothing.
 */
#ifndef GLIVI_TUI_SIDEBAR_H
#define GLIVI_TUI_SIDEBAR_H

#include <stdint.h>

struct cache;
struct canvas;
struct rect;
struct sidebar;

struct sidebar *sidebar_new(struct cache *);
void sidebar_free(struct sidebar *);
/* Shows a conversation (0: none); rebuilt when it differs. */
void sidebar_show(struct sidebar *, int64_t conversation_id);
/* The cache changed: rebuilt on the next draw. */
void sidebar_reload(struct sidebar *);
void sidebar_draw(struct sidebar *, struct canvas *, const struct rect *,
    int64_t now);

#endif
