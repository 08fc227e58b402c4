/*
 * listing_cache.h - rendered directory listings, kept until the directory
 * changes.
 *
 * A cached page is the finished body (HTML or JSON, plain or gzip) of one
 * variant of one directory, in a sealed memfd so that responses send it
 * with sendfile() and a response being sent or parked holds its own
 * descriptor: the kernel keeps the body alive for as long as any
 * response needs it, however long after the cache dropped it.
 *
 * Correctness rests on inotify, through the registry the file cache
 * shares (dirwatch.h): each directory with a cached page has a watch for
 * every change to its entries and to itself, and the caller syncs the
 * registry before a lookup (dirwatch_sync(), or knowing that nothing can
 * be pending: see the worker's round in docs/architecture.md), so a page
 * is never served while an event about its directory is unread: a change
 * that completed before the request arrived is always seen.  A page is built from a read that began after
 * its watch existed, and is only kept if no event came in between.  What
 * a directory watch cannot see (a subdirectory's mtime, a symbolic link's
 * target, a file with other links) is checked again with fstatat() on
 * every hit.  A directory that cannot be watched (no inotify, the watch
 * limit reached, a network or FUSE file system) is not cached: its page
 * would need a stat of every entry to stay fresh, which is what building
 * it costs.
 *
 * Bounded by a number of pages and a number of bytes (bodies rounded up
 * to pages, plus bookkeeping); the least recently used page goes first,
 * and no page larger than a quarter of the byte bound is kept.
 * Thread-safe: one mutex, held for the lookup and the list updates; no
 * blocking call is made under it.
 */
#ifndef LANHTTPD_LISTING_CACHE_H
#define LANHTTPD_LISTING_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "listing.h"

/* '"' + 16 hex digits + "-gz" + '"' + NUL, rounded up. */
#define LISTING_ETAG_MAX	32

struct dirwatch;
struct listing_cache;
struct lc_watch;

/* What identifies a page. */
struct listing_key {
	const char	*rel;		/* the directory, from the root */
	size_t		 rel_len;
	uint64_t	 dev, ino;	/* the directory that was opened */
	unsigned	 cfg_gen;	/* the configuration it was read under */
	uint32_t	 variant;	/* format, sort, order, language, coding */
	uint32_t	 start;		/* the page's first entry */
};

/* A page handed to a response. */
struct listing_page {
	int		 fd;		/* the body; the caller's to close */
	uint64_t	 len;
	char		 etag[LISTING_ETAG_MAX];
	size_t		 etag_len;
};

/* A page being built after a miss: its directory's watch, as it was. */
struct listing_fill {
	struct lc_watch	*w;
	uint64_t	 gen;
	uint64_t	 epoch;
};

/*
 * A cache of at most max_entries pages and max_bytes bytes, learning of
 * changes from dw (which must outlive it).  NULL when out of memory; a
 * cache without dw, or with a bound of 0, exists and caches nothing.
 */
struct listing_cache	*listing_cache_new(size_t max_entries,
			    size_t max_bytes, struct dirwatch *dw);

/* Frees lc and its pages (responses keep their descriptors); NULL is fine. */
void	listing_cache_free(struct listing_cache *lc);

/* Drops every page (a reload: the settings a page depends on changed). */
void	listing_cache_flush(struct listing_cache *lc);

/*
 * Looks up the page k of the directory open as dfd (read under src).
 * True with *page (a new descriptor) on a hit that is still current;
 * false on a miss.  lc may be NULL.
 */
bool	listing_cache_get(struct listing_cache *lc,
	    const struct listing_key *k, int dfd,
	    const struct listing_src *src, struct listing_page *page);

/*
 * Before reading the directory open as dfd after a miss: makes sure it is
 * watched and notes its state in *fill.  Returns 0, or a negative errno
 * when it cannot be cached (then call neither put nor end).
 */
int	listing_cache_begin(struct listing_cache *lc, int dfd,
	    struct listing_fill *fill);

/*
 * Stores body[0..len) with etag as the page k, read from l (whose
 * entries marked recheck are checked again on every hit), unless the
 * directory changed since listing_cache_begin().  Either way returns 0
 * with *page, a descriptor of the body for the response, or a negative
 * errno when there is none (the caller sends body itself).
 */
int	listing_cache_put(struct listing_cache *lc,
	    const struct listing_fill *fill, const struct listing_key *k,
	    const char *body, size_t len, const char *etag, size_t etag_len,
	    const struct listing *l, struct listing_page *page);

/*
 * As listing_cache_put(), for a body written to fd (len bytes; a memfd
 * from listing_cache_memfd(), sealed here), so that a big body never has
 * to be in memory whole.  On success fd belongs to the cache and *page
 * holds a descriptor of its own; on failure fd is still the caller's.
 */
int	listing_cache_put_fd(struct listing_cache *lc,
	    const struct listing_fill *fill, const struct listing_key *k,
	    int fd, size_t len, const char *etag, size_t etag_len,
	    const struct listing *l, struct listing_page *page);

/* A new memfd that listing_cache_put_fd() can seal; -1 and errno. */
int	listing_cache_memfd(void);

/* Ends what listing_cache_begin() started. */
void	listing_cache_end(struct listing_cache *lc, struct listing_fill *fill);

/*
 * Pages, bytes and directory watches held now, after applying what
 * inotify queued (for tests).
 */
void	listing_cache_usage(struct listing_cache *lc, size_t *entries,
	    size_t *bytes, size_t *watches);

#endif /* LANHTTPD_LISTING_CACHE_H */
