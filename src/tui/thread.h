/*
 * The thread pane: one conversation's messages, internal notes and the
 * agent's replies not yet accepted, drawn into a canvas. It holds only a
 * window of messages near the screen, loaded from the cache by keyset on
 * (conversation_id, id) and moved as the reader scrolls past its edges;
 * it never loads the whole history and never runs SQL to draw what it
 * holds. It does not know about the keyboard or the terminal: the screen
 * calls these functions and says where to draw.
 *
 * Ownership: the thread borrows the cache, which must outlive it.
 * Positions are kept in lines of the width last drawn (80x24 before the
 * first draw).
 */
#ifndef GLIVI_TUI_THREAD_H
#define GLIVI_TUI_THREAD_H

#include <stddef.h>
#include <stdint.h>

struct cache;
struct canvas;
struct thread;

/* me_agent_id: the agent using the screen; their messages say "you". */
struct thread *thread_new(struct cache *, int64_t me_agent_id);
void thread_free(struct thread *);

/*
 * Shows a conversation (0: none) from the cache, at its newest message,
 * which is selected. Opening the one already shown starts it over there.
 */
void thread_open(struct thread *, int64_t conversation_id);
int64_t thread_conversation(const struct thread *);

/*
 * The cache changed (a sync applied, an outbox state changed): reloads
 * the window and keeps the reader where they were; a reader at the bottom
 * stays at the bottom and sees what arrived.
 */
void thread_reload(struct thread *);

/*
 * Draws the pane into the rectangle (x, y, w, h) of the canvas, and
 * nothing outside it. The selection shows only when focused.
 */
void thread_draw(struct thread *, struct canvas *, unsigned x, unsigned y,
    unsigned w, unsigned h, int focused);

/* Moves the view by lines (+ toward newer), keeping the selection. */
void thread_scroll(struct thread *, int lines);
/* By half screens: +-2 is a page, +-1 half of one. */
void thread_page(struct thread *, int halves);
void thread_top(struct thread *);
void thread_bottom(struct thread *);
/* Whether the newest line is in view (for a "new messages below" hint). */
int thread_at_bottom(const struct thread *);

/*
 * Moves the selection by delta messages (+ toward newer) and scrolls it
 * into view. A selection scrolled out of view restarts from the edge of
 * the screen it left by. Notes and unsent replies are not selectable.
 */
void thread_select(struct thread *, int delta);
/* The selected message's id, 0 when none. */
int64_t thread_selected(const struct thread *);
/*
 * Selects a message of this conversation and scrolls it into view,
 * loading the window around it when needed (search results, quotes).
 * 0, or -1 when it is not a message shown in this conversation.
 */
int thread_jump(struct thread *, int64_t message_id);
/* Jumps to the message the selected one replies to; -1 when none. */
int thread_jump_quoted(struct thread *);

/* The selected message's file, for the opener (fetched from the relay). */
struct thread_media {
	char id[129];	    /* the relay's media id */
	char mime[128];
	char filename[256]; /* as the sender named it, sanitised; or "" */
	int64_t size;	    /* bytes, -1 when unknown */
	char kind[16];	    /* image, video, audio, document, sticker */
};
/* 0 and *out filled when the selected message has a file; else -1. */
int thread_selected_media(const struct thread *, struct thread_media *);

/* For tests: the messages, notes and outbox rows the window holds now. */
size_t thread_rows_held(const struct thread *);

#endif
