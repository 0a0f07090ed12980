/*
 * The screen: glivi-tui without a subcommand. One libuv loop runs the
 * keyboard, the sync engine and the outbox together; nothing here waits
 * on the network. Events (a key, a sync page, a resize) only change state
 * and mark the screen dirty; the screen is drawn once per loop pass, into
 * a canvas that the terminal backend copies with one doupdate().
 */
#ifndef GLIVI_TUI_SCREEN_H
#define GLIVI_TUI_SCREEN_H

struct client;

/*
 * Loads the key maps (an error is printed as file:line before the
 * terminal is touched), takes the terminal and runs until the agent
 * quits or a signal stops it. Returns the exit status.
 */
int screen_run(struct client *);

/* `glivi-tui keys`: shows what the terminal sends for each key. */
int screen_key_dump(void);

#endif
