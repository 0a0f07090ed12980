/*
 * Options tables: one row per config key (section, name, type, default,
 * range, help). Parsing, defaults, the commented sample file and --help all
 * come from the same rows, so they cannot drift apart.
 */
#ifndef GLIVI_OPTIONS_H
#define GLIVI_OPTIONS_H

#include <stddef.h>

#include "core/buf.h"

enum opt_type {
	OPT_STRING,   /* char *, allocated */
	OPT_BOOL,     /* int: true/false, yes/no, on/off, 1/0 */
	OPT_INT,      /* long long within [min, max] */
	OPT_SIZE,     /* long long bytes; suffixes k, M, G (powers of 1024) */
	OPT_DURATION, /* long long seconds; suffixes s, m, h, d */
	OPT_ENUM,     /* char *, one of the '|'-separated choices */
};

#define OPT_REQUIRED 0x1 /* must be set in the file */
#define OPT_SECRET 0x2	 /* never printed by a config dump */
#define OPT_EXAMPLE 0x4	 /* def is an example for the sample, not a default */

struct option_def {
	const char *section; /* "server", or "number.*" for a repeated one */
	const char *key;
	enum opt_type type;
	const char *def; /* default in file syntax (for a required key: an
			  example for the sample file); NULL: unset */
	long long min, max;
	int flags;
	size_t offset; /* where the value lives in the config struct */
	const char *help;
	const char *choices; /* OPT_ENUM: "a|b|c" */
};

const struct option_def *options_find(const struct option_def *,
    const char *section, const char *key);
void options_defaults(const struct option_def *, void *cfg);
int options_set(const struct option_def *, void *cfg, const char *value,
    char **cause);
int options_check_required(const struct option_def *, const char *section,
    const void *cfg, const unsigned char *seen, char **cause);
void options_free(const struct option_def *, void *cfg);
void options_sample(const struct option_def *, const char *section,
    const char *section_name, struct buf *);

/*
 * Loads a whole INI file whose sections each appear once (no "name.*"
 * sections): defaults first, then the file; unknown sections and keys, a
 * key set twice and a missing required key are errors ("file:line: what").
 */
int options_load_file(const struct option_def *, void *cfg, const char *path,
    char **cause);
/* The effective values, one "key = value" line each, secrets hidden. */
void options_dump(const struct option_def *, const void *cfg, struct buf *);
/* One line per key for --help: section.key, what it is, [default]. */
void options_help(const struct option_def *, struct buf *);

int options_parse_size(const char *, long long *);
int options_parse_duration(const char *, long long *);
int options_parse_bool(const char *, int *);

#endif
