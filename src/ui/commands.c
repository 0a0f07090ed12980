/*
 * The command table. The rows are data only: what each action does lives
 * with the pane that does it, reached through the enum.
 */
#include "ui/commands.h"

#include <string.h>

#include "core/buf.h"

static const struct command command_table[CMD_COUNT] = {
	[CMD_APP_QUIT] = { "app.quit",
	    "Quit (asks first while replies wait in the outbox)" },
	[CMD_APP_HELP] = { "app.help", "Show the keys of the focused pane" },
	[CMD_APP_PROMPT] = { "app.prompt", "Open the command prompt" },
	[CMD_APP_REDRAW] = { "app.redraw", "Redraw the whole screen" },
	[CMD_APP_FOCUS_NEXT] = { "app.focus-next",
	    "Move the focus to the next pane" },
	[CMD_APP_FOCUS_PREV] = { "app.focus-prev",
	    "Move the focus to the previous pane" },
	[CMD_APP_FOCUS_LIST] = { "app.focus-list",
	    "Focus the conversation list" },
	[CMD_APP_FOCUS_THREAD] = { "app.focus-thread", "Focus the thread" },
	[CMD_APP_FOCUS_COMPOSE] = { "app.focus-compose",
	    "Focus the compose area" },
	[CMD_APP_SIDEBAR] = { "app.sidebar",
	    "Show or hide the contact sidebar" },
	[CMD_LIST_NEXT] = { "list.next", "Select the next conversation" },
	[CMD_LIST_PREV] = { "list.prev", "Select the previous conversation" },
	[CMD_LIST_NEXT_UNREAD] = { "list.next-unread",
	    "Jump to the next conversation with unread messages" },
	[CMD_LIST_FIRST] = { "list.first", "Select the first conversation" },
	[CMD_LIST_LAST] = { "list.last", "Select the last conversation" },
	[CMD_LIST_PAGE_DOWN] = { "list.page-down",
	    "Move down the list by a page" },
	[CMD_LIST_PAGE_UP] = { "list.page-up", "Move up the list by a page" },
	[CMD_LIST_OPEN] = { "list.open",
	    "Open the selected conversation's thread" },
	[CMD_LIST_FILTER] = { "list.filter",
	    "Choose a filter: mine, unassigned, all, a status or a label" },
	[CMD_LIST_FILTER_MINE] = { "list.filter-mine",
	    "List the conversations assigned to me" },
	[CMD_LIST_FILTER_UNASSIGNED] = { "list.filter-unassigned",
	    "List the unassigned conversations" },
	[CMD_LIST_FILTER_ALL] = { "list.filter-all",
	    "List every conversation" },
	[CMD_THREAD_LINE_DOWN] = { "thread.line-down",
	    "Scroll the thread down a line" },
	[CMD_THREAD_LINE_UP] = { "thread.line-up",
	    "Scroll the thread up a line" },
	[CMD_THREAD_PAGE_DOWN] = { "thread.page-down",
	    "Scroll the thread down a page" },
	[CMD_THREAD_PAGE_UP] = { "thread.page-up",
	    "Scroll the thread up a page" },
	[CMD_THREAD_HALF_PAGE_DOWN] = { "thread.half-page-down",
	    "Scroll the thread down half a page" },
	[CMD_THREAD_HALF_PAGE_UP] = { "thread.half-page-up",
	    "Scroll the thread up half a page" },
	[CMD_THREAD_TOP] = { "thread.top", "Go to the oldest message" },
	[CMD_THREAD_BOTTOM] = { "thread.bottom", "Go to the newest message" },
	[CMD_THREAD_NEXT_MESSAGE] = { "thread.next-message",
	    "Select the next message" },
	[CMD_THREAD_PREV_MESSAGE] = { "thread.prev-message",
	    "Select the previous message" },
	[CMD_THREAD_REPLY] = { "thread.reply",
	    "Reply to the selected message" },
	[CMD_THREAD_JUMP_QUOTED] = { "thread.jump-quoted",
	    "Jump to the message the selected one replies to" },
	[CMD_THREAD_OPEN_MEDIA] = { "thread.open-media",
	    "Open the selected message's media with the configured opener" },
	[CMD_THREAD_SAVE_MEDIA] = { "thread.save-media",
	    "Save the selected message's media to a file" },
	[CMD_COMPOSE_SEND] = { "compose.send", "Send the draft" },
	[CMD_COMPOSE_NEWLINE] = { "compose.newline",
	    "Start a new line in the draft" },
	[CMD_COMPOSE_EDITOR] = { "compose.editor",
	    "Edit the draft in $VISUAL or $EDITOR" },
	[CMD_COMPOSE_TEMPLATE] = { "compose.template",
	    "Pick a template (the only way once the 24-hour window closed)" },
	[CMD_COMPOSE_CANCEL_REPLY] = { "compose.cancel-reply",
	    "Stop replying to a message; the draft stays" },
	[CMD_COMPOSE_LEAVE] = { "compose.leave",
	    "Leave the compose area; the draft stays" },
	[CMD_COMPOSE_NOTE] = { "compose.note",
	    "Switch the draft between a reply and an internal note" },
	[CMD_COMPOSE_COMPLETE] = { "compose.complete",
	    "Expand the canned reply whose /shortcut is typed, else move on" },
	[CMD_EDIT_LEFT] = { "edit.left", "Move the cursor left" },
	[CMD_EDIT_RIGHT] = { "edit.right", "Move the cursor right" },
	[CMD_EDIT_WORD_LEFT] = { "edit.word-left",
	    "Move the cursor to the start of the word" },
	[CMD_EDIT_WORD_RIGHT] = { "edit.word-right",
	    "Move the cursor past the end of the word" },
	[CMD_EDIT_HOME] = { "edit.home",
	    "Move the cursor to the start of the line" },
	[CMD_EDIT_END] = { "edit.end",
	    "Move the cursor to the end of the line" },
	[CMD_EDIT_UP] = { "edit.up", "Move the cursor to the line above" },
	[CMD_EDIT_DOWN] = { "edit.down", "Move the cursor to the line below" },
	[CMD_EDIT_BACKSPACE] = { "edit.backspace",
	    "Delete the character before the cursor" },
	[CMD_EDIT_DELETE] = { "edit.delete",
	    "Delete the character under the cursor" },
	[CMD_EDIT_DELETE_WORD_BACK] = { "edit.delete-word-back",
	    "Delete the word before the cursor" },
	[CMD_EDIT_DELETE_WORD] = { "edit.delete-word",
	    "Delete the word after the cursor" },
	[CMD_EDIT_KILL_TO_END] = { "edit.kill-to-end",
	    "Delete from the cursor to the end of the line" },
	[CMD_EDIT_KILL_TO_START] = { "edit.kill-to-start",
	    "Delete from the start of the line to the cursor" },
	[CMD_EDIT_YANK] = { "edit.yank", "Insert the text deleted last" },
	[CMD_SEARCH_START] = { "search.start",
	    "Search every cached conversation" },
	[CMD_SEARCH_NEXT] = { "search.next", "Go to the next search result" },
	[CMD_SEARCH_PREV] = { "search.prev",
	    "Go to the previous search result" },
	[CMD_SEARCH_ACCEPT] = { "search.accept",
	    "Open the selected result in its thread" },
	[CMD_SEARCH_CANCEL] = { "search.cancel", "Close the search" },
	[CMD_PROMPT_ACCEPT] = { "prompt.accept", "Run the command" },
	[CMD_PROMPT_CANCEL] = { "prompt.cancel", "Close the prompt" },
	[CMD_PROMPT_COMPLETE] = { "prompt.complete",
	    "Complete the command name" },
	[CMD_PROMPT_HISTORY_PREV] = { "prompt.history-prev",
	    "Recall the previous command" },
	[CMD_PROMPT_HISTORY_NEXT] = { "prompt.history-next",
	    "Recall the next command" },
};

const struct command *
commands_get(int id)
{
	if (id < 0 || id >= CMD_COUNT)
		return NULL;
	return &command_table[id];
}

int
commands_find(const char *name)
{
	int id;

	for (id = 0; id < CMD_COUNT; id++) {
		if (strcmp(command_table[id].name, name) == 0)
			return id;
	}
	return -1;
}

int
commands_next_match(const char *prefix, int after)
{
	size_t n = strlen(prefix);
	int id;

	for (id = after < 0 ? 0 : after + 1; id < CMD_COUNT; id++) {
		if (strncmp(command_table[id].name, prefix, n) == 0)
			return id;
	}
	return -1;
}

void
commands_markdown(struct buf *out)
{
	int id;

	buf_adds(out, "| action | what it does |\n|---|---|\n");
	for (id = 0; id < CMD_COUNT; id++)
		buf_printf(out, "| `%s` | %s |\n", command_table[id].name,
		    command_table[id].help);
}
