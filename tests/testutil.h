/*
 * Helpers shared by the unit tests and the fuzz targets that need a
 * scratch directory on disk (a real cache file).
 */
#ifndef GLIVI_TESTUTIL_H
#define GLIVI_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>

static int
testutil_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* Removes path and everything below it; 0, or -1. */
static inline int
testutil_rmtree(const char *path)
{
	return nftw(path, testutil_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
