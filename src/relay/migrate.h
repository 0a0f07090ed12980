/*
 * glivi-relay migrate: moves a whole store from one database to another
 * (SQLite to PostgreSQL is the case that matters; any pair works) and
 * proves the copy table by table. It never writes to the source.
 */
#ifndef GLIVI_MIGRATE_H
#define GLIVI_MIGRATE_H

struct migrate_options {
	const char *from; /* store url */
	const char *to;	  /* store url of an empty database */
	int yes;	  /* do not ask before copying */
	int check;	  /* only compare the two stores, copy nothing */
};

/*
 * Copies every table of the store at from into to, in one transaction,
 * then compares row counts and checksums of both sides (a table on stdout,
 * progress on stderr). Returns 0 when every table matches, 1 when the
 * copy was made but differs, -1 with *cause when nothing usable was made
 * (the target is then left with at most an empty schema). With check,
 * only compares two stores, as the verification does.
 */
int migrate_store(const struct migrate_options *, char **cause);

#endif
