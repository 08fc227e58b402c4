/*
 * server.h - the running daemon: configuration, queue, event thread and
 * worker pool, and the counters they share.
 *
 * main.c builds a struct server, starts it, and tells it to stop.  The
 * struct outlives every thread it starts.
 */
#ifndef LANHTTPD_SERVER_H
#define LANHTTPD_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct event;
struct listener;
struct queue;
struct worker;

struct server {
	struct config	*cfg;		/* read-only while running */
	struct queue	*queue;
	struct event	*ev;
	struct worker	*workers;
	size_t		 nworkers;

	/* Set once a drain begins: finish responses, keep nothing alive. */
	atomic_bool	 draining;
	/* Set when the drain ends: workers close whatever they hold. */
	atomic_bool	 stopping;

	atomic_ulong	 requests;	/* responses started */
};

#endif /* LANHTTPD_SERVER_H */
