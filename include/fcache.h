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
 * Freshness: an entry depends on names in watched directories (dirwatch.h)
 * - each folder on its path, the file and its precompressed siblings, or
 * for a name cached as missing the first part of its path that does not
 * exist - and is dropped the moment an event arrives about any of them:
 * created, deleted, moved in or out, written, closed after writing, its
 * attributes changed; a folder on the path deleted or moved counts too,
 * and an overflow of the event queue drops everything.  The caller syncs
 * the registry before a lookup (dirwatch_sync(), or knowing that nothing
 * can be pending: see the worker's round in docs/architecture.md), so a
 * hit costs no stat() and is never stale.
 *
 * Where notification cannot see every change, an entry is checked instead
 * with one fstatat() per representation each time it is used: a root on a
 * network or FUSE file system, a folder whose watch could not be added
 * (the watch limit), a path through a symbolic link (the target changes
 * elsewhere), a file with other hard links (written through another
 * name).  valid_ms trades that check for speed: an entry checked less
 * than valid_ms ago is trusted (0, the default: always checked).  A
 * missing file (404) is cached the same way, in at most a quarter of the
 * entries.  Thread-safe.
 */
#ifndef LANHTTPD_FCACHE_H
#define LANHTTPD_FCACHE_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "file.h"
#include "lru.h"
#include "negotiate.h"
#include "path.h"

struct dirwatch;
struct dw_watch;

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
	bool		 revalidate;	/* checked with fstatat() on each use */
	bool		 has_folder;	/* folder: its state when built */
	struct stat	 folder;
	_Atomic uint64_t checked_ms;
	uint64_t	 hash;
	size_t		 mem;
	struct fentry	*hnext;
	struct lru_link	 lru;
	bool		 linked;
	struct fdeps	*deps;		/* the names it depends on, or NULL */
	size_t		 used;		/* bytes of the allocation filled */
	char		 key[];
};

/* Folders a fill may watch on its way to a file: deeper ones revalidate. */
#define FCACHE_FILL_DIRS	16
/* Names one entry may depend on: the path's and two siblings. */
#define FCACHE_FILL_DEPS	(FCACHE_FILL_DIRS + FCACHE_REPS)

/*
 * An entry being built after a miss: the watches of the folders on its
 * way, as they were before the file was opened, and the names it will
 * depend on.  Filled by fcache_begin(), used by fcache_put(), released by
 * fcache_end().
 */
struct fcache_fill {
	struct dw_watch	*w[FCACHE_FILL_DIRS];	/* one reference each */
	uint64_t	 gen[FCACHE_FILL_DIRS];
	size_t		 nw;
	struct fill_dep {
		uint8_t	 wi;		/* index into w */
		uint16_t off, len;	/* into names */
	}		 dep[FCACHE_FILL_DEPS];
	size_t		 ndeps;
	char		 names[PATH_MAX + 2 * FCACHE_REPS * 4];
	size_t		 names_len;
	uint64_t	 epoch;
	bool		 revalidate;	/* what it builds cannot be watched */
	/*
	 * For an entry to be checked on each use, with siblings: its folder
	 * before anything was opened (a sibling that appears changes it).
	 */
	bool		 has_folder;
	struct stat	 folder;
};

struct fcache;
struct fdeps;

/*
 * A cache of at most max_entries entries and max_bytes of memory for the
 * tree root (its strings must outlive the cache), learning of changes
 * from dw (NULL: every entry is checked on each use; dw must outlive the
 * cache), trusting an entry that must be checked for valid_ms.  NULL when
 * out of memory.
 */
struct fcache	*fcache_new(size_t max_entries, size_t max_bytes,
		    unsigned valid_ms, const struct path_root *root,
		    struct dirwatch *dw);

/*
 * How changes under the root are learnt, for the log: "inotify", or the
 * name of the file system ("nfs", "fuse", ...) whose entries are checked
 * with a stat on every use.
 */
const char	*fcache_mode(const struct fcache *fc, bool *watched);

/* Drops the table's references; entries still held live on.  NULL is fine. */
void	fcache_free(struct fcache *fc);

/*
 * The entry for key[0..klen) (a normalised request path, with a trailing
 * '/' for a directory asked for its index), with a new reference, or NULL
 * when there is none or it is no longer fresh.  Every change delivered by
 * the last dirwatch_sync() is seen.
 */
struct fentry	*fcache_get(struct fcache *fc, const char *key, size_t klen,
		    uint64_t now_ms);

/*
 * Before rel (normalised, from the root) is opened to build an entry:
 * watches the folders on its way and notes their state in *fill.  The
 * entry will depend on each name of the path, and, when siblings is
 * true, on rel.gz and rel.br too.  Never fails: what cannot be watched
 * makes the entry one that is checked on each use.  fc may be NULL.
 */
void	fcache_begin(struct fcache *fc, const char *rel, bool siblings,
	    struct fcache_fill *fill);

/*
 * Puts e, built from what was opened after fcache_begin(), in the cache
 * (replacing an entry with the same key), unless something it depends on
 * changed since: then e is only used for this response.  Evicts the least
 * recently used entries to stay within the bounds.  The caller keeps its
 * own reference.  Entries larger than the whole cache are not kept.
 */
void	fcache_put(struct fcache *fc, struct fentry *e,
	    struct fcache_fill *fill);

/* Releases what fcache_begin() took and fcache_put() did not. */
void	fcache_end(struct fcache *fc, struct fcache_fill *fill);

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
