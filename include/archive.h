/*
 * archive.h - a folder as one download: a stored (uncompressed) ZIP or a
 * tar, whose every byte is known before the first is sent, so it has a
 * Content-Length, an ETag and byte ranges (a cut download resumes).
 *
 * archive_plan() walks the folder under the listing's rules (what a
 * listing shows is what the archive holds: no dotfile unless allowed, a
 * symbolic link only where the link policy lets a client follow it, and
 * a filter for [access]) and lays the archive out: every entry's place,
 * the total length, and an ETag from the names, sizes and modification
 * times (and inodes when etag_inode is on), so two folders that differ
 * get two ETags.  Nothing is read from the files then.
 *
 * A cursor then produces any byte range of the laid-out archive piece by
 * piece: headers in its own memory, file data as ranges of an open file
 * for sendfile(2).  Pieces are small (at most ARCHIVE_PIECE_MAX file
 * bytes), so one archive never holds a worker for long.
 *
 * ZIP (APPNOTE 6.3.x): every entry is stored (method 0) with its name in
 * UTF-8 (general purpose bit 11), its sizes in the local header, bit 3
 * set and the CRC-32 in a data descriptor after the data (the CRC is
 * computed from the bytes as they are sent, so the first byte leaves
 * before any file is read); the central directory repeats sizes and
 * CRCs.  ZIP64 extra fields (local, central, end records) are used for
 * every entry once the archive needs them anywhere (past 4 GiB or 65,535
 * entries), so the layout never depends on what was sent before.  CRCs
 * are remembered by device, inode, size and modification time, so a
 * later download or a resumed one does not read a file twice; a range
 * that starts inside a file reads the file's beginning for its CRC.
 * Folders are entries too (name ending in '/'), so empty ones survive.
 *
 * tar: POSIX pax (ustar headers, a pax extended header for a name that
 * does not fit ustar, is not ASCII, or a size of 8 GiB or more), data
 * padded to 512 bytes, two zero blocks at the end.
 *
 * A file that is not what the plan said when its turn comes (size or
 * modification time changed, gone, replaced) makes archive_next() fail:
 * the caller ends the response short, so no client ever gets bytes of
 * two versions under one ETag.
 *
 * Thread-safety: a plan and its cursor belong to one thread at a time;
 * the CRC cache is shared and locked.
 */
#ifndef LANHTTPD_ARCHIVE_H
#define LANHTTPD_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conn.h"
#include "listing.h"

/* File bytes one archive_next() call puts out at most. */
#define ARCHIVE_PIECE_MAX	(1u << 20)
/* Entries an archive may hold; more is refused (413). */
#define ARCHIVE_ENTRIES_MAX	1000000u

enum archive_kind {
	ARCHIVE_ZIP,
	ARCHIVE_TAR,
};

/*
 * Which entries a requester may see: rel is the path from the root.
 * NULL: all that the listing rules show.
 */
struct archive_filter {
	bool	(*may_see)(void *arg, const char *rel, bool is_dir);
	void	*arg;
};

struct archive;

/*
 * Walks the folder open as dirfd (not consumed; src->rel is its path from
 * the root, src->tree the rules) and lays out its archive of kind.  The
 * plan keeps a duplicate of dirfd.  Returns 0 with *out, -E2BIG past
 * ARCHIVE_ENTRIES_MAX entries, -ENAMETOOLONG for a path over 65,535
 * bytes, -ENOMEM, or another -errno from reading the folders.
 */
int	archive_plan(int dirfd, const struct listing_src *src,
	    enum archive_kind kind, bool etag_inode,
	    const struct archive_filter *filter, struct archive **out);
void	archive_free(struct archive *a);

/* The archive's length in bytes. */
uint64_t	archive_size(const struct archive *a);
/* Its ETag, quoted ("..."), NUL-terminated. */
const char	*archive_etag(const struct archive *a);
/* Its entries (files and folders). */
size_t	archive_count(const struct archive *a);

struct archive_cursor;

/*
 * A cursor over bytes [start, end] (inclusive, end < archive_size()) of
 * a, which it takes (freed by archive_close()).  NULL when out of memory
 * (a is freed then too).
 */
struct archive_cursor	*archive_open(struct archive *a, uint64_t start,
			    uint64_t end);

/*
 * The next piece: at most cap (>= 4) segments into segs, memory ones
 * pointing into the cursor (valid until the next call or archive_close())
 * and file ranges of *fd (the cursor's; valid likewise).  Returns the
 * number of segments, 0 when the range is complete, or -1 when it cannot
 * go on (a file changed or is unreadable: logged at debug level), after
 * which the response must be ended short.
 */
int	archive_next(struct archive_cursor *c, struct out_seg *segs,
	    size_t cap, int *fd);
void	archive_close(struct archive_cursor *c);

#endif /* LANHTTPD_ARCHIVE_H */
