/*
 * dav_lock.h - the WebDAV lock table (RFC 4918 §6, §7, §9.10, §9.11).
 *
 * One table serves the whole daemon and every worker thread: all
 * functions are thread-safe (one mutex inside, held only for a scan of
 * the table, never across a blocking call).  Locks live in memory only
 * and do not survive a restart.  At most DAV_LOCK_MAX locks exist at a
 * time.  Expired locks are purged lazily: every call that takes now_ms
 * first drops the locks whose time is up.  When the table is empty, the
 * read-only calls return after one atomic load, so requests on shares
 * nobody locks pay nothing.
 *
 * Paths are the daemon's normalised root-relative paths as C strings: ""
 * is the root, then "a", "a/b" (no leading or trailing '/').  They
 * compare as bytes; "a" is an ancestor of "a/b" but not of "ab".  A lock
 * covers the resource at its root and, when its depth is infinity,
 * every resource below the root.  A path of PATH_MAX bytes or more
 * cannot be locked itself (dav_lock_create() refuses it) but is still
 * covered by an infinite lock above it.
 *
 * Lock tokens are "urn:uuid:" and an RFC 4122 version-4 UUID in lower
 * case, from getrandom(2).  Tokens passed in are spans (from the If or
 * Lock-Token header) and compare exactly.
 *
 * now_ms is any monotonic millisecond clock, the same one on every
 * call; the tests pass made-up values.
 */
#ifndef LANHTTPD_DAV_LOCK_H
#define LANHTTPD_DAV_LOCK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"

#define DAV_LOCK_TOKEN_MAX	48	/* "urn:uuid:" + 36 + NUL, rounded */
#define DAV_LOCK_MAX		4096
/* Length of a token as made here, without the NUL. */
#define DAV_LOCK_TOKEN_LEN	45

enum dav_lock_scope { DAV_LOCK_EXCLUSIVE, DAV_LOCK_SHARED };

/* A copy of one lock, for lockdiscovery and LOCK answers. */
struct dav_lock_info {
	char		 token[DAV_LOCK_TOKEN_MAX];	/* NUL-terminated */
	/* The lock root (a path as above), NUL-terminated. */
	char		 root[PATH_MAX];
	bool		 infinite;	/* Depth: infinity (else 0) */
	enum dav_lock_scope scope;
	/* The owner XML as the client gave it: opaque, owner_len bytes. */
	char		 owner[1024];
	size_t		 owner_len;
	unsigned	 timeout_s;	/* as granted */
	uint64_t	 remaining_s;	/* seconds left at now_ms, rounded up */
};

struct dav_locks;

/* A new, empty table; NULL when out of memory.  Free with dav_locks_free(). */
struct dav_locks	*dav_locks_new(void);

/* Frees t and every lock in it.  NULL is fine.  No call may be running. */
void	dav_locks_free(struct dav_locks *t);

/*
 * A new lock on path, for timeout_s seconds from now_ms (0 makes a lock
 * that has expired by the next call; dav_parse_timeout() never gives 0
 * unless its max_s is 0).  Conflicts
 * (-EBUSY): an exclusive lock conflicts with any other lock whose scope
 * covers path or (when the new one is infinite) lies below path; a
 * shared lock conflicts only with exclusive ones, same coverage rules.
 * owner[0..owner_len) is copied (owner may be NULL when owner_len is 0);
 * longer than the info's owner field: -E2BIG.  A path too long to store
 * (PATH_MAX bytes or more): -ENAMETOOLONG.  Table full (DAV_LOCK_MAX
 * live locks): -ENOSPC.  getrandom(2) failing: its negated errno (e.g.
 * -ENOSYS).  Out of memory: -ENOMEM.  Returns 0 with *out filled in, or
 * one of those with *out untouched.
 */
int	dav_lock_create(struct dav_locks *t, const char *path, bool infinite,
	    enum dav_lock_scope scope, const char *owner, size_t owner_len,
	    unsigned timeout_s, uint64_t now_ms, struct dav_lock_info *out);

/*
 * Refreshes the lock token that covers path (its root is path or it is
 * an infinite lock on an ancestor): its timeout becomes timeout_s from
 * now_ms.  0 with *out filled in, or -ENOENT (no such live lock, or it
 * does not cover path) with *out untouched.
 */
int	dav_lock_refresh(struct dav_locks *t, const char *path,
	    struct span token, unsigned timeout_s, uint64_t now_ms,
	    struct dav_lock_info *out);

/* UNLOCK: removes lock token if it is live and covers path: 0 or -ENOENT. */
int	dav_lock_remove(struct dav_locks *t, const char *path,
	    struct span token, uint64_t now_ms);

/* True when token names a live lock that covers path (for If evaluation). */
bool	dav_lock_covers(struct dav_locks *t, const char *path,
	    struct span token, uint64_t now_ms);

/*
 * May path be changed (PUT, PROPPATCH, DELETE, the target or source of a
 * MOVE, ...) by a request that submitted tokens[0..n)?  RFC 4918 §7.5,
 * §7.6: the request must hold a lock on every locked resource it would
 * change.  A resource is satisfied when no live lock covers it or when
 * the token of any one lock covering it was submitted: an exclusive lock
 * is then the only one there, and any one of a set of shared locks is
 * enough (a principal holding one shared lock may write).
 *
 * The resources checked are path itself and, when tree (the request
 * changes everything below path too: DELETE or MOVE of a collection),
 * every lock root below path and the members below each of those roots
 * and below path, which infinite locks cover.
 *
 * Returns true when allowed.  Else false and, when conflict != NULL,
 * copies the root of the first lock in the way into conflict (PATH_MAX
 * bytes, NUL-terminated) for the 423 body's lock-token-submitted
 * element.  Costs O(locks) with no lock below path, O(locks^2) at worst.
 */
bool	dav_lock_may_write(struct dav_locks *t, const char *path, bool tree,
	    const struct span *tokens, size_t n, uint64_t now_ms,
	    char *conflict);

/*
 * Calls fn for each live lock covering path (root == path, or infinite
 * on an ancestor), for lockdiscovery, and returns how many.  fn runs
 * with the table's mutex held: it must be quick, must not block and must
 * not call back into the table; l is valid only during the call.
 */
size_t	dav_lock_discover(struct dav_locks *t, const char *path,
	    uint64_t now_ms,
	    void (*fn)(void *arg, const struct dav_lock_info *l), void *arg);

/*
 * After DELETE or the source of a MOVE: drops every lock whose root is
 * path or below it.
 */
void	dav_lock_drop_tree(struct dav_locks *t, const char *path);

/* Live locks at now_ms (tests). */
size_t	dav_lock_count(struct dav_locks *t, uint64_t now_ms);

#endif /* LANHTTPD_DAV_LOCK_H */
