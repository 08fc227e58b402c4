/*
 * file.c - file validators; see file.h.
 */
#include "file.h"

#include <stdio.h>

void
file_info_from_stat(const struct stat *st, bool with_inode,
    struct file_info *fi)
{
	uint64_t ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u +
	    (uint64_t)st->st_mtim.tv_nsec;
	int n;

	fi->size = (uint64_t)st->st_size;
	fi->mtime = st->st_mtim.tv_sec;
	if (with_inode)
		n = snprintf(fi->etag, sizeof(fi->etag), "\"%llx-%llx-%llx\"",
		    (unsigned long long)st->st_ino,
		    (unsigned long long)st->st_size, (unsigned long long)ns);
	else
		n = snprintf(fi->etag, sizeof(fi->etag), "\"%llx-%llx\"",
		    (unsigned long long)st->st_size, (unsigned long long)ns);
	fi->etag_len = n > 0 ? (size_t)n : 0;
	http_date(fi->mtime, fi->last_modified);
}
