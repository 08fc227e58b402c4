/*
 * syncer.h - a few threads for slow file-system work (fsync), so that a
 * worker waiting for the disk does not hold up its other connections.
 *
 * A job is a struct sync_node embedded in the caller's item.  A thread
 * runs work(node, arg), then done(node, arg), which hands the item back
 * (for a connection: to the queue, where a worker takes it).  Threads
 * start on demand, up to a bound, and only once the first job comes: a
 * daemon that never syncs never starts one.  Many fsyncs at once are also
 * what lets a journaling file system commit them together.  Thread-safe.
 */
#ifndef LANHTTPD_SYNCER_H
#define LANHTTPD_SYNCER_H

#include <stdbool.h>

struct sync_node {
	struct sync_node *next;
};

typedef void	(*sync_fn)(struct sync_node *node, void *arg);

struct syncer;

/* A syncer of at most max_threads threads; NULL when out of memory. */
struct syncer	*syncer_new(unsigned max_threads, sync_fn work, sync_fn done,
		    void *arg);

/*
 * Queues node.  When no thread runs and none can be started, work() and
 * done() run on the caller's thread before this returns: a job is never
 * refused.
 */
void	syncer_submit(struct syncer *s, struct sync_node *node);

/* Waits for every job (each one's done() is called), then frees s. */
void	syncer_free(struct syncer *s);

#endif /* LANHTTPD_SYNCER_H */
