/*
 * The conversation list: newest activity first, read from the cache a
 * screenful at a time (never the whole list), two lines a conversation —
 * marks, name, unread count and time; then the preview, assignee and
 * labels. The cursor stays on the same conversation, at the same row of
 * the screen, when the list reorders under it; when its conversation
 * leaves the filter, the cursor takes the one that came next.
 */
#ifndef GLIVI_TUI_LIST_H
#define GLIVI_TUI_LIST_H

#include <stdint.h>

#include "client/cache.h"

struct buf;
struct canvas;
struct list;
struct rect;

#define LIST_ROW_LINES 2

struct list *list_new(struct cache *, int64_t me);
void list_free(struct list *);

/* Whose conversations "mine" and unread counts are about. */
void list_set_me(struct list *, int64_t me);
/* status and label may be NULL (any); copied. Reloads. */
void list_set_filter(struct list *, enum cache_assigned, const char *status,
    const char *label);
const struct cache_filter *list_filter(const struct list *);
/* "all", "mine · pending", "unassigned · #vip" */
void list_filter_name(const struct list *, struct buf *);

/* The cache changed: read the rows again around the cursor. */
void list_reload(struct list *);
/* Moves the cursor by delta conversations (a page: the rows shown). */
void list_move(struct list *, int delta);
void list_page(struct list *, int dir);
void list_first(struct list *);
void list_last(struct list *);
/* To the next conversation with unread messages; -1 when none. */
int list_next_unread(struct list *);
/* Puts the cursor on a conversation; -1 when the filter hides it. */
int list_select(struct list *, int64_t id);
int64_t list_selected(const struct list *);
/* The selected conversation's contact (0 when none). */
int64_t list_selected_contact(const struct list *);
/* Its name for titles, sanitised; "" when none. */
const char *list_selected_name(const struct list *);
int64_t list_count(const struct list *);
/* The selected conversation's unread count, and forgetting it once a
 * read mark is queued (the relay's answer comes later by sync). */
int64_t list_selected_unread(const struct list *);
void list_mark_read(struct list *);

/* now: the clock for times and the 24-hour window (unix seconds). */
void list_draw(struct list *, struct canvas *, const struct rect *,
    int focused, int64_t now);

#endif
