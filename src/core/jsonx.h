/*
 * Small typed getters over cJSON trees from outside: each returns NULL (or
 * fails) when the member is missing or of another type, so callers never
 * trust the shape of input they did not write.
 */
#ifndef GLIVI_JSONX_H
#define GLIVI_JSONX_H

#include <stdint.h>

#include <cjson/cJSON.h>

const char *jx_str(const cJSON *, const char *key);
cJSON *jx_obj(const cJSON *, const char *key);
cJSON *jx_arr(const cJSON *, const char *key);
int jx_bool(const cJSON *, const char *key);
/* An integer given as a JSON number or a string of digits. */
int jx_int64(const cJSON *, const char *key, int64_t *out);
/* A number given as a JSON number or a numeric string. */
int jx_number(const cJSON *, double *out);

/* Adds key: string, or key: null when s is NULL. */
void jx_add_str(cJSON *, const char *key, const char *s);
void jx_add_int(cJSON *, const char *key, int64_t v);
/* Whether raw JSON text holds a \u0000 escape (a NUL inside a string),
 * which C strings would silently cut. */
int jx_has_nul_escape(const char *, size_t);
/* Rewrites each \u0000 escape in place as \u0001 (same length). */
void jx_nul_escapes_to_soh(char *, size_t);
/*
 * Makes printed JSON safe to show on a terminal: C1 controls, DEL, bidi
 * overrides and isolates and U+2028/U+2029 inside strings become \uXXXX
 * escapes (cJSON escapes only C0). Appends to out.
 */
struct buf;
void jx_terminal_safe(const char *json, struct buf *out);
/* Prints compactly; caller frees with free(). */
char *jx_print(const cJSON *);

#endif
