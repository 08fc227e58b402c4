/*
 * worker.h - the worker pool.
 *
 * Each worker pops a connection from the queue, serves it until it would
 * block, then hands it back to the event thread (event_arm()) or closes
 * it, and pops the next one.  A worker never waits on a client.  The pool
 * functions are called from the main thread only.
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
 * Grows or shrinks the pool to n workers (a reload).  Workers asked to
 * leave finish their current job first; this waits for them.  Returns 0
 * or a negative errno (the pool then keeps the workers it has).
 */
int	worker_pool_resize(struct server *srv, size_t n);

/*
 * Waits for every worker to return (they return once the queue is closed
 * and empty) and frees the pool.
 */
void	worker_pool_join(struct server *srv);

/*
 * True when every worker is either waiting for work or has been on its
 * current job for less than max_busy_ms: the watchdog's proof of life.
 */
bool	worker_pool_alive(struct server *srv, uint64_t now_ms,
	    uint64_t max_busy_ms);

#endif /* LANHTTPD_WORKER_H */
