/*
 * Webhook signatures (X-Hub-Signature-256) and SHA-256 helpers.
 */
#ifndef GLIVI_HMAC_H
#define GLIVI_HMAC_H

#include <stddef.h>

/*
 * Checks "sha256=<64 lowercase or uppercase hex>" against HMAC-SHA256(key,
 * body) in constant time. Returns 0 when it matches, -1 otherwise with
 * *why set to a static reason fit for a log line.
 */
int hmac_verify_signature(const char *header, const void *key, size_t keylen,
    const void *body, size_t len, const char **why);

/* Writes "sha256=" + 64 hex digits + NUL into out (72 bytes). */
void hmac_sign(const void *key, size_t keylen, const void *body, size_t len,
    char out[72]);

void sha256(const void *, size_t, unsigned char out[32]);
void hex_encode(const unsigned char *, size_t, char *out);
/* The value of one hex digit (either case), or -1. */
int hex_digit(int c);

#endif
