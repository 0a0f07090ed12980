/*
 * Canned replies' placeholders: {{contact.name}} and the like, expanded
 * into the text an agent is about to send. Shared by the relay (which
 * refuses a canned reply naming an unknown placeholder) and the client
 * (which expands it). The text comes from outside: never trusted to be
 * well formed, and a value is never expanded again.
 */
#ifndef GLIVI_CANNED_H
#define GLIVI_CANNED_H

#include <stddef.h>

enum canned_var {
	CANNED_CONTACT_NAME,	   /* contact.name */
	CANNED_CONTACT_FIRST_NAME, /* contact.first_name */
	CANNED_CONTACT_PHONE,	   /* contact.phone */
	CANNED_AGENT_NAME,	   /* agent.name */
	CANNED_CONVERSATION_ID,	   /* conversation.id */
	CANNED_NVARS
};

/* A value per placeholder; NULL expands to nothing. An absent first name
 * is the name's first word. */
struct canned_values {
	const char *v[CANNED_NVARS];
};

/* The placeholder's name, as written between the braces. */
const char *canned_var_name(enum canned_var);

/*
 * 0 when every {{…}} of text names a known placeholder; otherwise -1 with
 * *bad (caller frees) the first unknown one as written, braces included.
 */
int canned_check(const char *text, size_t len, char **bad);

/*
 * The text with each known placeholder replaced by its value (NUL
 * terminated, caller frees); anything else, unknown placeholders
 * included, is copied as it is. Spaces inside the braces are allowed:
 * {{ contact.name }}.
 */
char *canned_expand(const char *text, size_t len,
    const struct canned_values *);

#endif
