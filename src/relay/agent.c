/*
 * Agent accounts: creating one prints its token once; revoking stamps the
 * agent so every relay and client learns it through sync.
 */
#include "relay/agent.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/hmac.h"
#include "core/xalloc.h"

int
agent_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > AGENT_NAME_MAX)
		return 0;
	/* A name starts with a letter or digit: never "-x" (a mistyped
	 * option), "." or "..". */
	if (!((name[0] >= 'a' && name[0] <= 'z') ||
	    (name[0] >= 'A' && name[0] <= 'Z') ||
	    (name[0] >= '0' && name[0] <= '9')))
		return 0;
	for (const char *p = name; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == '-'))
			return 0;
	}
	return 1;
}

int
agent_token_new(char out[64])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char rnd[32];
	size_t o = strlen(AGENT_TOKEN_PREFIX), bits = 0;
	unsigned acc = 0;

	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return -1;
	memcpy(out, AGENT_TOKEN_PREFIX, o);
	for (size_t i = 0; i < sizeof rnd; i++) {
		acc = (acc << 8) | rnd[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = b64[(acc << (6 - bits)) & 63];
	out[o] = '\0';
	OPENSSL_cleanse(rnd, sizeof rnd);
	return 0;
}

int
agent_add(struct store *st, const char *name, const char *role,
    char token[64], char **cause)
{
	unsigned char hash[32];
	int64_t id;

	if (!agent_name_valid(name)) {
		*cause = xasprintf("bad agent name '%.80s': use 1 to 64 letters, "
		    "digits, '.', '_' or '-', starting with a letter or digit",
		    name);
		return -1;
	}
	if (strcmp(role, "agent") != 0 && strcmp(role, "admin") != 0) {
		*cause = xasprintf("bad role '%.40s': agent or admin", role);
		return -1;
	}
	if (agent_token_new(token) != 0) {
		*cause = xstrdup("no random bytes for a token");
		return -1;
	}
	sha256(token, strlen(token), hash);
	if (store_begin(st, cause) != 0)
		return -1;
	if (store_agent_add(st, name, role, hash, (int64_t)time(NULL), &id,
	    cause) != 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, cause);
}

int
agent_revoke(struct store *st, const char *name, char **cause)
{
	if (store_begin(st, cause) != 0)
		return -1;
	if (store_agent_revoke(st, name, (int64_t)time(NULL), cause) != 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, cause);
}
