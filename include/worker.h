/*
 * worker.h - the worker pool.
 *
 * Each worker takes new connections from the queue and keeps them, in an
 * epoll set of its own, until they close: it serves a connection until it
 * would block, then waits for its next request, or for room to write, in
 * that set, together with an eventfd the queue writes to when it has a
 * new connection for this worker.  A worker never waits on one client.
 * The pool functions are called from the main thread only.
 */
#ifndef LANHTTPD_WORKER_H
#define LANHTTPD_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server;

/* Starts n workers.  Returns 0 or a negative errno (none left running). */
int	worker_pool_start(struct server *srv, size_t n);

/*
 * Grows or shrinks the pool to n workers (a reload).  A worker asked to
 * leave finishes what it is doing, hands its connections to the others
 * through the queue, and returns; this waits for it.  Returns 0 or a
 * negative errno (the pool then keeps the workers it has).
 */
int	worker_pool_resize(struct server *srv, size_t n);

/* Wakes every worker to look at the server's state (drain, stop). */
void	worker_pool_wake(struct server *srv);

/*
 * Waits for every worker to return (they return once the server is
 * stopping and the queue is closed, after closing what they own), frees
 * the pool, and closes what is left in the queue.
 */
void	worker_pool_join(struct server *srv);

/*
 * True when every worker is either waiting for work or has been on its
 * current round of work for less than max_busy_ms: the watchdog's proof
 * of life.
 */
bool	worker_pool_alive(struct server *srv, uint64_t now_ms,
	    uint64_t max_busy_ms);

#endif /* LANHTTPD_WORKER_H */
