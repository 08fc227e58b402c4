/*
 * queue.h - the bounded MPMC queue between the event thread and workers.
 *
 * Items are opaque pointers (connections, in the daemon).  A push never
 * blocks: it fails when the queue is full, and the producer is told, once,
 * through the space callback when a pop makes room again.  A pop blocks
 * until an item arrives or the queue is closed.  Pushing an item hands its
 * ownership to the queue; popping hands it to the caller.  All functions
 * are thread-safe.
 */
#ifndef LANHTTPD_QUEUE_H
#define LANHTTPD_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct queue;

/*
 * A queue holding at most cap items.  on_space(arg), if not NULL, is called
 * outside the lock by the thread whose pop made room after a push had
 * failed.  NULL when out of memory.
 */
struct queue	*queue_new(size_t cap, void (*on_space)(void *), void *arg);

/* Frees the queue (not the items still in it); NULL is allowed. */
void	queue_free(struct queue *q);

/* Appends item; false when the queue is full (or closed). */
bool	queue_push(struct queue *q, void *item);

/*
 * Appends up to n items from v in order and returns how many were taken;
 * the rest stay with the caller.
 */
size_t	queue_push_many(struct queue *q, void *const *v, size_t n);

/*
 * Removes the oldest item, waiting while the queue is empty.  Returns NULL
 * once the queue is closed and empty, or, when stop is not NULL, as soon
 * as *stop is true and the queue is empty.  *stop is read under the
 * queue's lock, so a thread that sets it and then calls queue_kick() can
 * never miss a waiter that was about to sleep.
 */
void	*queue_pop(struct queue *q, const atomic_bool *stop);

/* As queue_pop(), but returns NULL at once when the queue is empty. */
void	*queue_try_pop(struct queue *q);

/* Wakes every waiter; later pops drain what is left, then return NULL. */
void	queue_close(struct queue *q);

/*
 * Wakes every thread blocked in queue_pop() so that it looks at its stop
 * flag again; the queue stays open.
 */
void	queue_kick(struct queue *q);

/* True once queue_close() was called. */
bool	queue_is_closed(struct queue *q);

/* Current number of items (a snapshot). */
size_t	queue_len(struct queue *q);

/*
 * Whether the queue holds items, read without the lock: a hint that may be
 * stale by the time the caller acts on it, for heuristics only.
 */
bool	queue_busy_hint(const struct queue *q);

/* Number of threads blocked in queue_pop() (a snapshot). */
size_t	queue_idle(struct queue *q);

#endif /* LANHTTPD_QUEUE_H */
