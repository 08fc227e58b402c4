/*
 * file.h - what a response needs to know about a file: validators (ETag,
 * Last-Modified) computed in one place from its metadata.
 *
 * Pure and thread-safe.
 */
#ifndef LANHTTPD_FILE_H
#define LANHTTPD_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "http_response.h"

/* '"' + three 16-digit hex numbers and two dashes + '"' + NUL */
#define FILE_ETAG_MAX	56

struct file_info {
	uint64_t	 size;
	time_t		 mtime;
	char		 etag[FILE_ETAG_MAX];
	size_t		 etag_len;
	char		 last_modified[HTTP_DATE_LEN + 1];
};

/*
 * Fills fi from st.  The strong ETag combines the inode (unless
 * with_inode is false, for replicas that must agree), the size and the
 * modification time in nanoseconds.
 */
void	file_info_from_stat(const struct stat *st, bool with_inode,
	    struct file_info *fi);

#endif /* LANHTTPD_FILE_H */
