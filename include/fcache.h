/*
 * fcache.h - a bounded cache of resolved files: what a file request needs
 * (its descriptor or, for small files, its bytes; its validators and media
 * type; which precompressed siblings exist), so a repeated request costs
 * no open(), fstat(), read() or header formatting.
 *
 * Entries are immutable once built and reference-counted: a response that
 * is being sent (or is parked) holds a reference, so an entry replaced or
 * evicted meanwhile lives until that response is done.  The table is
 * guarded by one mutex, held only to find, insert or unlink.
 *
 * Freshness: an entry is trusted for valid_ms after it was built or last
 * checked; then one fstatat() per file compares identity, size and times
 * (ctime included, which catches a rename over the old name), and a
 * changed entry is dropped.  So a changed file may be served in its old
 * version for at most valid_ms.  A missing file (404) is cached the same
 * way, in at most a quarter of the entries.  Thread-safe.
 */
#ifndef LANHTTPD_FCACHE_H
#define LANHTTPD_FCACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "file.h"
#include "lru.h"
#include "negotiate.h"

/* The file itself and each compressed coding (enum coding indexes it). */
#define FCACHE_REPS	(CODING_MAX + 1)

/* One representation of a file: the file itself or a compressed sibling. */
struct frep {
	int		 fd;		/* -1 when body holds the whole file */
	const char	*body;		/* the bytes of a small file, else NULL */
	struct stat	 st;
	struct file_info fi;
	/*
	 * The header lines of a plain 200 of this representation, all but
	 * Date, Server and Connection: Content-Type, -Length and -Encoding,
	 * Last-Modified, ETag, Accept-Ranges, Cache-Control and Vary.
	 */
	const char	*hdr;
	size_t		 hdr_len;
};

struct fentry {
	atomic_uint	 refs;
	int		 status;	/* 0: a file; 404: known to be missing */
	const char	*type;		/* media type (lives as long as the config) */
	const char	*rel;		/* the file's path from the root */
	struct frep	*rep[FCACHE_REPS];	/* NULL: no such representation */
	/* Siblings that exist but were refused (older than the file). */
	const struct stat *refused[FCACHE_REPS];
	/* The cache's own bookkeeping; see fcache.c. */
	_Atomic uint64_t checked_ms;
	uint64_t	 hash;
	size_t		 mem;
	struct fentry	*hnext;
	struct lru_link	 lru;
	bool		 linked;
	size_t		 used;		/* bytes of the allocation filled */
	char		 key[];
};

struct fcache;

/*
 * A cache of at most max_entries entries and max_bytes of memory, trusting
 * an entry for valid_ms.  NULL when out of memory.
 */
struct fcache	*fcache_new(size_t max_entries, size_t max_bytes,
		    unsigned valid_ms);

/* Drops the table's references; entries still held live on.  NULL is fine. */
void	fcache_free(struct fcache *fc);

/*
 * The entry for key[0..klen) (a normalised request path, with a trailing
 * '/' for a directory asked for its index), with a new reference, or NULL
 * when there is none or it is no longer fresh.  root_fd is used to check
 * freshness.
 */
struct fentry	*fcache_get(struct fcache *fc, const char *key, size_t klen,
		    int root_fd, uint64_t now_ms);

/*
 * Puts e in the cache (replacing an entry with the same key), evicting the
 * least recently used entries to stay within the bounds.  The caller keeps
 * its own reference.  Entries larger than the whole cache are not kept.
 */
void	fcache_put(struct fcache *fc, struct fentry *e);

/* The suffix of each representation's file: "", ".gz", ".br". */
extern const char *const fcache_sibling_ext[FCACHE_REPS];

/*
 * A new entry (one reference) for key whose file is rel, with extra bytes
 * of room that fentry_append() fills: one allocation holds the entry, its
 * key and path, its header lines and the bodies of small files.  NULL
 * when out of memory.
 */
struct fentry	*fentry_alloc(const char *key, size_t klen, const char *rel,
		    size_t extra, uint64_t now_ms);

/* Copies len bytes (and a NUL if nul) into e's room; returns where. */
char	*fentry_append(struct fentry *e, const void *src, size_t len,
	    bool nul);

/* A zeroed, aligned struct frep in e's room (counted in fentry_alloc()'s extra). */
struct frep	*fentry_add_rep(struct fentry *e);

/* A copy of st, aligned, in e's room (counted in fentry_alloc()'s extra). */
const struct stat	*fentry_add_stat(struct fentry *e, const struct stat *st);

struct fentry	*fentry_ref(struct fentry *e);

/* Drops a reference; the last one closes the entry's files.  NULL is fine. */
void	fentry_unref(struct fentry *e);

#endif /* LANHTTPD_FCACHE_H */
