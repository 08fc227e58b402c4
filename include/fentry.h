/*
 * fentry.h - building fcache entries from the files they describe.
 *
 * Separate from the cache itself (fcache.h), so the table does not depend
 * on paths, MIME types or HTTP formatting.  Thread-safe.
 */
#ifndef LANHTTPD_FENTRY_H
#define LANHTTPD_FENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fcache.h"
#include "path.h"

struct mime_table;

/* Where entries come from: what building one needs of the configuration. */
struct fentry_src {
	struct path_root tree;
	bool		 precompressed;
	bool		 etag_inode;
	long		 cache_max_age;	/* -1: no Cache-Control */
	const struct mime_table *mime;
	size_t		 max_body;	/* files up to this size are kept in memory */
};

/*
 * Builds the entry for the regular file open as fd (taking ownership of
 * fd), found at rel for the request key: reads its bytes when small,
 * computes validators and header lines for it and for each precompressed
 * sibling that exists.  Returns 0 and a new reference in *out, or a
 * negative errno.
 */
int	fentry_build_file(const struct fentry_src *src, const char *key,
	    size_t klen, const char *rel, int fd, const struct stat *st,
	    uint64_t now_ms, struct fentry **out);

/* An entry saying key is missing (404); NULL when out of memory. */
struct fentry	*fentry_build_missing(const char *key, size_t klen,
		    const char *rel, uint64_t now_ms);

#endif /* LANHTTPD_FENTRY_H */
