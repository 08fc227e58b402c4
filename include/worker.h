/*
 * worker.h - the worker pool.
 *
 * Each worker pops a connection from the queue, serves it until it would
 * block, then hands it back to the event thread (event_arm()) or closes
 * it, and pops the next one.  A worker never waits on a client.
 */
#ifndef LANHTTPD_WORKER_H
#define LANHTTPD_WORKER_H

#include <stddef.h>

struct server;
struct worker;

/*
 * Starts srv->cfg->threads workers into srv->workers.  Returns 0 or a
 * negative errno (after stopping any it started).
 */
int	worker_pool_start(struct server *srv);

/*
 * Waits for every worker to return (they return once the queue is closed
 * and empty) and frees the pool.
 */
void	worker_pool_join(struct server *srv);

#endif /* LANHTTPD_WORKER_H */
