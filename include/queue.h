/*
 * queue.h - the queue of connections waiting for a worker.
 *
 * Items are opaque pointers (connections, in the daemon).  New ones come
 * from the acceptor through a bounded ring: a push never blocks, it fails
 * when the ring is full, and the producer is told, once, through the
 * space callback when a pop makes room again.  Workers also hand items
 * to each other through the queue (a worker leaving the pool, a long job,
 * a worker with many ready connections while another sleeps); those are
 * never refused, whatever the bound, and are taken first.  Pushing hands
 * an item's ownership to the queue; popping hands it to the caller.
 *
 * Consumers do not block in the queue: each sleeps in its own epoll set,
 * which holds an eventfd the queue writes to when it has an item for a
 * consumer that said it was going to sleep.  So a worker waits for its
 * own connections and for new work in one epoll_wait(), and no condition
 * variable is needed.  All functions are thread-safe.
 */
#ifndef LANHTTPD_QUEUE_H
#define LANHTTPD_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* A consumer that sleeps in its own epoll set. */
struct queue_waiter {
	int		 efd;		/* the eventfd the queue writes to */
	atomic_bool	 idle;		/* on the idle list (set under the lock) */
	struct queue_waiter *next;
};

struct queue;

/*
 * A queue whose ring holds at most cap new items.  on_space(arg), if not
 * NULL, is called outside the lock by the thread whose pop made room
 * after a push had failed.  NULL when out of memory.
 */
struct queue	*queue_new(size_t cap, void (*on_space)(void *), void *arg);

/* Frees the queue (not the items still in it); NULL is allowed. */
void	queue_free(struct queue *q);

/* Appends item to the ring; false when it is full (or the queue closed). */
bool	queue_push(struct queue *q, void *item);

/*
 * Appends up to n items from v to the ring in order and returns how many
 * were taken; the rest stay with the caller.  Wakes one idle consumer per
 * item taken.
 */
size_t	queue_push_many(struct queue *q, void *const *v, size_t n);

/*
 * Hands v[0..n) over from one consumer to the others: never refused (it
 * returns false only when out of memory, the items then staying with the
 * caller), taken before the ring's items, and waking idle consumers.
 */
bool	queue_hand_over(struct queue *q, void *const *v, size_t n);

/* The oldest item (handed-over ones first), or NULL when there is none. */
void	*queue_try_pop(struct queue *q);

/*
 * A consumer about to sleep in its epoll set: registers w as idle, so the
 * next push writes to w->efd, and returns true; or returns false, leaving
 * w as it was, when an item is waiting (take it instead of sleeping) or
 * the queue is closed.
 */
bool	queue_idle_begin(struct queue *q, struct queue_waiter *w);

/*
 * The consumer woke up: takes w off the idle list if no push did.  Costs
 * the lock only when w is still registered.
 */
void	queue_idle_end(struct queue *q, struct queue_waiter *w);

/*
 * Takes w off the idle list under the lock, whatever its flag says: after
 * it returns, the queue never writes to w->efd again, so a consumer that
 * leaves may close it.
 */
void	queue_forget(struct queue *q, struct queue_waiter *w);

/* Wakes every idle consumer (to look at a reload, a drain, a stop). */
void	queue_wake_all(struct queue *q);

/* Later pushes fail; every idle consumer is woken. */
void	queue_close(struct queue *q);

/* True once queue_close() was called. */
bool	queue_is_closed(struct queue *q);

/* Items waiting, in the ring and handed over (a snapshot). */
size_t	queue_len(struct queue *q);

/*
 * Consumers registered as idle, read without the lock: a hint for
 * heuristics, possibly stale by the time it is used.
 */
size_t	queue_idle_hint(const struct queue *q);

/* Whether items are waiting, read without the lock (a hint). */
bool	queue_busy_hint(const struct queue *q);

#endif /* LANHTTPD_QUEUE_H */
