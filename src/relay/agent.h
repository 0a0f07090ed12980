/*
 * Agents and their tokens, for the admin CLI: a token is shown once when
 * made; the store keeps only its SHA-256.
 */
#ifndef GLIVI_AGENT_H
#define GLIVI_AGENT_H

#include <stddef.h>

#include "relay/store.h"

#define AGENT_TOKEN_PREFIX "glv_"
#define AGENT_NAME_MAX 64

/* Valid agent names: 1 to 64 of letters, digits, '.', '_', '-', the first
 * a letter or digit. */
int agent_name_valid(const char *);
/* Writes a new random token (prefix + 43 base64url chars) into out. */
int agent_token_new(char out[64]);
int agent_add(struct store *, const char *name, const char *role,
    char token[64], char **cause);
int agent_revoke(struct store *, const char *name, char **cause);

#endif
