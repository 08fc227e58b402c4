/*
 * dirwatch.h - one inotify instance shared by the caches: a watch per
 * directory that every cache holding something of it counts a reference
 * on, and the events delivered to the caches that subscribed.
 *
 * Freshness rests on one fact: the kernel queues an inotify event before
 * the system call that caused it returns.  dirwatch_sync() reads the
 * queue to the end (a non-blocking read() that returns EAGAIN when
 * nothing happened) and hands every event to the subscribers before it
 * returns, so a lookup after a sync that began once the request started
 * to arrive has learnt of every change that completed before it.  The
 * caches leave the sync to their caller (the worker does it once per
 * round of events, see worker.c).
 *
 * Subscribers are called under the registry's lock, in the order events
 * were queued; they may take their own locks (lock order: registry, then
 * cache), but must not call back into dirwatch: they unlink what an event
 * makes stale and release it from their flush callback, which runs after
 * the lock is dropped.  A queue overflow (IN_Q_OVERFLOW: events were
 * lost) is reported as such, and bumps the epoch, so work that began
 * before it can tell.
 *
 * Directories on network and FUSE file systems change without telling
 * inotify; dirwatch_get() refuses them (-EXDEV), as it does when inotify
 * is missing (-ENOSYS) or the watch limit is reached (-ENOSPC, logged
 * once).  Thread-safe.
 */
#ifndef LANHTTPD_DIRWATCH_H
#define LANHTTPD_DIRWATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dirwatch;

/* One watched directory; its fields are the registry's. */
struct dw_watch {
	struct dw_watch	*hnext;
	int		 wd;
	unsigned	 refs;		/* under the registry lock */
	bool		 dead;		/* the kernel dropped it */
	/* Bumped on every event about the directory or its entries. */
	_Atomic uint64_t gen;
};

struct dirwatch_sub {
	/*
	 * An event on w: name[0..len) is the entry it is about (len 0: the
	 * directory itself), mask the inotify mask.
	 */
	void	(*event)(void *arg, struct dw_watch *w, uint32_t mask,
		    const char *name, size_t len);
	/* Events were lost: nothing learnt so far can be trusted. */
	void	(*overflow)(void *arg);
	/* After a sync that delivered something, with no lock held. */
	void	(*flush)(void *arg);
	void	*arg;
};

/*
 * The registry.  NULL when out of memory; without inotify it exists and
 * refuses every watch.
 */
struct dirwatch	*dirwatch_new(void);

/* Frees dw; every watch must have been put back.  NULL is fine. */
void	dirwatch_free(struct dirwatch *dw);

/*
 * Adds a subscriber (copied) and returns 0, or -ENOSPC when there are
 * already DIRWATCH_MAX_SUBS.
 */
#define DIRWATCH_MAX_SUBS	4
int	dirwatch_subscribe(struct dirwatch *dw, const struct dirwatch_sub *sub);

/* Removes the subscriber whose arg is arg. */
void	dirwatch_unsubscribe(struct dirwatch *dw, void *arg);

/*
 * Reads every queued event and delivers it.  After it returns, every
 * change completed before the call has reached the subscribers.
 */
void	dirwatch_sync(struct dirwatch *dw);

/*
 * A reference to the watch of the directory open as dfd (any open
 * descriptor of it, O_PATH too), adding the kernel's watch when needed.
 * NULL with *err: -ENOSYS (no inotify), -EXDEV (a network or FUSE file
 * system), -ENOSPC (fs.inotify.max_user_watches reached), -ENOMEM, or
 * what inotify_add_watch() said.
 */
struct dw_watch	*dirwatch_get(struct dirwatch *dw, int dfd, int *err);

/* Drops a reference; the last one removes the kernel's watch.  NULL ok. */
void	dirwatch_put(struct dirwatch *dw, struct dw_watch *w);

/* The watch's generation, read after a sync (relaxed atomic). */
uint64_t	dirwatch_gen(const struct dw_watch *w);

/* Bumped on each overflow. */
uint64_t	dirwatch_epoch(struct dirwatch *dw);

/* Watches held now (for tests). */
size_t	dirwatch_count(struct dirwatch *dw);

/*
 * True when the file system of the open descriptor fd reports changes
 * through inotify: local ones, not NFS, SMB/CIFS, FUSE, Ceph, 9p, AFS,
 * GlusterFS and the like.  *name gets the type's name ("nfs", "fuse",
 * ...) for the log.
 */
bool	dirwatch_fs_notifies(int fd, const char **name);

#endif /* LANHTTPD_DIRWATCH_H */
