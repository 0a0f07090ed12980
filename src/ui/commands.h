/*
 * The command table: every action the screen can do, with a stable name
 * (what keymap files, the prompt and the docs use) and a one-line
 * description (what help shows). Adding an action is adding a row here;
 * a test checks docs/keymaps.md against this table.
 */
#ifndef GLIVI_UI_COMMANDS_H
#define GLIVI_UI_COMMANDS_H

struct buf;

enum command_id {
	CMD_APP_QUIT,
	CMD_APP_HELP,
	CMD_APP_PROMPT,
	CMD_APP_REDRAW,
	CMD_APP_FOCUS_NEXT,
	CMD_APP_FOCUS_PREV,
	CMD_APP_FOCUS_LIST,
	CMD_APP_FOCUS_THREAD,
	CMD_APP_FOCUS_COMPOSE,
	CMD_APP_SIDEBAR,
	CMD_LIST_NEXT,
	CMD_LIST_PREV,
	CMD_LIST_NEXT_UNREAD,
	CMD_LIST_FIRST,
	CMD_LIST_LAST,
	CMD_LIST_PAGE_DOWN,
	CMD_LIST_PAGE_UP,
	CMD_LIST_OPEN,
	CMD_LIST_FILTER,
	CMD_LIST_FILTER_MINE,
	CMD_LIST_FILTER_UNASSIGNED,
	CMD_LIST_FILTER_ALL,
	CMD_THREAD_LINE_DOWN,
	CMD_THREAD_LINE_UP,
	CMD_THREAD_PAGE_DOWN,
	CMD_THREAD_PAGE_UP,
	CMD_THREAD_HALF_PAGE_DOWN,
	CMD_THREAD_HALF_PAGE_UP,
	CMD_THREAD_TOP,
	CMD_THREAD_BOTTOM,
	CMD_THREAD_NEXT_MESSAGE,
	CMD_THREAD_PREV_MESSAGE,
	CMD_THREAD_REPLY,
	CMD_THREAD_JUMP_QUOTED,
	CMD_THREAD_OPEN_MEDIA,
	CMD_THREAD_SAVE_MEDIA,
	CMD_COMPOSE_SEND,
	CMD_COMPOSE_NEWLINE,
	CMD_COMPOSE_EDITOR,
	CMD_COMPOSE_TEMPLATE,
	CMD_COMPOSE_CANCEL_REPLY,
	CMD_COMPOSE_LEAVE,
	CMD_COMPOSE_NOTE,
	CMD_COMPOSE_COMPLETE,
	CMD_EDIT_LEFT,
	CMD_EDIT_RIGHT,
	CMD_EDIT_WORD_LEFT,
	CMD_EDIT_WORD_RIGHT,
	CMD_EDIT_HOME,
	CMD_EDIT_END,
	CMD_EDIT_UP,
	CMD_EDIT_DOWN,
	CMD_EDIT_BACKSPACE,
	CMD_EDIT_DELETE,
	CMD_EDIT_DELETE_WORD_BACK,
	CMD_EDIT_DELETE_WORD,
	CMD_EDIT_KILL_TO_END,
	CMD_EDIT_KILL_TO_START,
	CMD_EDIT_YANK,
	CMD_SEARCH_START,
	CMD_SEARCH_NEXT,
	CMD_SEARCH_PREV,
	CMD_SEARCH_ACCEPT,
	CMD_SEARCH_CANCEL,
	CMD_PROMPT_ACCEPT,
	CMD_PROMPT_CANCEL,
	CMD_PROMPT_COMPLETE,
	CMD_PROMPT_HISTORY_PREV,
	CMD_PROMPT_HISTORY_NEXT,
	CMD_COUNT
};

struct command {
	const char *name; /* "family.action": lower case, '-' between words */
	const char *help; /* one line, a sentence without the full stop */
};

/* The row of an id; NULL for an id out of range. */
const struct command *commands_get(int id);
/* The id of a name, or -1. */
int commands_find(const char *name);
/*
 * Completion for the prompt: the first id after `after` (-1 to start)
 * whose name begins with prefix, or -1 when there are no more.
 */
int commands_next_match(const char *prefix, int after);
/* The table as Markdown rows for docs/keymaps.md. */
void commands_markdown(struct buf *);

#endif
