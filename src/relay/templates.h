/*
 * Message templates from the Graph API: one thread (glivi-tmpl) reads each
 * configured WABA's list (GET {graph}/{version}/{waba_id}/message_templates,
 * every page) at start and every [outbound] template_refresh, and records
 * it through the committer, so templates reach agents as sync entities.
 * A failed read is logged and tried again later; it never stops the relay.
 */
#ifndef GLIVI_TEMPLATES_H
#define GLIVI_TEMPLATES_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "relay/committer.h"
#include "relay/config.h"

struct templates;

/* NULL without an error when no [number.*] names a waba_id. */
struct templates *templates_start(const struct relay_config *,
    struct committer *, const char *access_token, char **cause);
/* Ends the thread (the committer must still run); stats stay readable. */
void templates_stop(struct templates *);
/* Stops it if need be and frees it. */
void templates_free(struct templates *);

struct templates_stats {
	uint64_t fetches;  /* complete lists read */
	uint64_t failures; /* reads that failed (tried again later) */
};
/* All zero for NULL. */
void templates_get_stats(struct templates *, struct templates_stats *);

/* One template of a page, checked. */
struct template_item {
	char *id;
	char *name;
	char *language;
	char *status;
	char *category;
	char *reason;		/* rejected_reason, NULL for NONE */
	char *parameter_format; /* POSITIONAL, NAMED or NULL */
	cJSON *components;	/* NULL when Meta gave none */
	int valid;		/* 0: its id is known, the rest unusable */
};

/* One page of Graph's answer. */
struct template_page {
	struct template_item *items;
	size_t n;
	size_t skipped; /* entries without a usable id */
	char *after;	/* the cursor of the next page; NULL: the last */
};

/*
 * Parses one page of GET message_templates: {"data":[…],"paging":{
 * "cursors":{"after":…},"next":…}}. The next page exists only when
 * "next" is there; its URL is never followed (only the cursor is used).
 * Returns 0, or -1 with *cause (caller frees) when the page is not one.
 * Exposed for tests and the fuzzer.
 */
int templates_parse_page(const char *body, size_t len, struct template_page *,
    char **cause);
void templates_page_free(struct template_page *);

#endif
