/*
 * testutil.h - helpers shared by the Check unit tests.
 */
#ifndef LANHTTPD_TESTUTIL_H
#define LANHTTPD_TESTUTIL_H

#include <stddef.h>

/*
 * Copies data[0..len) so that it ends exactly where a PROT_NONE page
 * begins: reading one byte past the end crashes the test, with or without
 * ASan (picohttpparser's trick).  Returns the copy; release it with
 * tu_guard_free().  Aborts the test on failure.
 */
char	*tu_guarded(const void *data, size_t len);
void	 tu_guard_free(char *p);

/*
 * Creates a fresh temporary directory and returns its path (static storage
 * per call site is not needed: the caller frees with tu_rmtree()).
 */
char	*tu_mkdtemp(void);

/* Removes a directory tree made by a test, then frees path. */
void	 tu_rmtree(char *path);

/* Writes len bytes of data to dir/name (creating it); aborts on failure. */
void	 tu_write_file(const char *dir, const char *name, const void *data,
	    size_t len);

#endif /* LANHTTPD_TESTUTIL_H */
