/*
 * multipart/form-data (RFC 7578) as the Graph API's media upload takes it:
 * the boundary from the Content-Type header, then each part's name,
 * filename and Content-Type, and its bytes. A parser of outside input:
 * every malformed body is refused with a reason, never guessed at.
 */
#ifndef GLIVI_SIM_MULTIPART_H
#define GLIVI_SIM_MULTIPART_H

#include <stddef.h>

#define MULTIPART_MAX_PARTS 32

struct multipart_part {
	char *name;	    /* the form field's name */
	char *filename;	    /* NULL when the part is not a file */
	char *content_type; /* NULL when the part has none */
	const char *data;   /* points into the body given to the parser */
	size_t len;
};

struct multipart {
	struct multipart_part parts[MULTIPART_MAX_PARTS];
	size_t n;
};

/*
 * Splits body by the boundary named in content_type. Returns 0, or -1
 * with *why set to a static reason (not multipart/form-data, no boundary,
 * no closing delimiter, a part without a name, too many parts, …).
 */
int multipart_parse(const char *content_type, const char *body, size_t len,
    struct multipart *, const char **why);
/* The first part with this name, or NULL. */
const struct multipart_part *multipart_find(const struct multipart *,
    const char *name);
void multipart_free(struct multipart *);

#endif
