/*
 * HMAC-SHA256 over the raw request bytes, compared in constant time. The
 * body is never parsed or re-encoded before this check.
 */
#include "core/hmac.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hmac_verify_signature(const char *header, const void *key, size_t keylen,
    const void *body, size_t len, const char **why)
{
	unsigned char want[32], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (header == NULL) {
		*why = "no X-Hub-Signature-256 header";
		return -1;
	}
	if (strncmp(header, "sha256=", 7) != 0) {
		*why = "signature header does not start with sha256=";
		return -1;
	}
	header += 7;
	if (strlen(header) != 64) {
		*why = "signature is not 64 hex digits";
		return -1;
	}
	for (size_t i = 0; i < 32; i++) {
		int hi = hex_digit(header[2 * i]);
		int lo = hex_digit(header[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			*why = "signature is not hex";
			return -1;
		}
		want[i] = (unsigned char)(hi << 4 | lo);
	}
	if (HMAC(EVP_sha256(), key, (int)keylen, body, len, mac, &maclen) ==
	    NULL || maclen != 32) {
		*why = "HMAC computation failed";
		return -1;
	}
	if (CRYPTO_memcmp(want, mac, 32) != 0) {
		*why = "signature does not match the body";
		return -1;
	}
	return 0;
}

void
hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void
hmac_sign(const void *key, size_t keylen, const void *body, size_t len,
    char out[72])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	HMAC(EVP_sha256(), key, (int)keylen, body, len, mac, &maclen);
	memcpy(out, "sha256=", 7);
	hex_encode(mac, 32, out + 7);
}

void
sha256(const void *p, size_t n, unsigned char out[32])
{
	EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL);
}
