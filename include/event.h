/*
 * event.h - the acceptor thread: listeners, back-pressure, the lab's UDP
 * ping and daytime.
 *
 * The acceptor owns the listening sockets.  It accepts new connections
 * and pushes them onto the queue, where a worker takes each and keeps it
 * until it closes.  When the queue is full it stops accepting (the
 * kernel's backlog holds new clients) until a pop makes room; past a
 * limit it answers 503.  It beats the heartbeat the watchdog looks at.
 */
#ifndef LANHTTPD_EVENT_H
#define LANHTTPD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

struct config;
struct server;
struct listener;
struct event;

/*
 * Creates the event loop for srv, taking ownership of the listeners.
 * Returns NULL (after logging) on failure, with the listeners closed.
 */
struct event	*event_new(struct server *srv, struct listener *ls, size_t n);

/* Starts the thread.  Returns 0 or a negative errno. */
int	event_start(struct event *ev);

/* Tells the acceptor a connection closed (it may resume accepting). */
void	event_conn_closed(struct event *ev);

/* Called by the queue when a pop made room after a failed push. */
void	event_queue_space(void *ev);

/*
 * Begins a drain: stop accepting, let the workers close idle connections
 * and finish responses in flight for up to the shutdown timeout, then
 * have them close the rest.  A second call ends the drain at once.
 * Thread-safe, async-signal-unsafe.
 */
void	event_shutdown(struct event *ev);

/*
 * Replaces the listening sockets (a reload).  ls comes from listen_reuse():
 * entries that share a descriptor with the current set are kept open,
 * the others are closed.  Takes ownership of ls.  Called by the main
 * thread; applied by the event thread before it next accepts.
 */
void	event_replace_listeners(struct event *ev, struct listener *ls,
	    size_t n);

/*
 * Copies the current listeners into a new heap array (the caller frees
 * it; the descriptors still belong to the event loop).  Main thread only.
 */
struct listener	*event_listeners(struct event *ev, size_t *n);

/* The longest the event loop sleeps between rounds (default 1000 ms). */
void	event_set_tick(struct event *ev, unsigned ms);

/* A counter the event loop bumps on every round: proof that it runs. */
unsigned long	event_heartbeat(struct event *ev);

/* Waits for the event thread to finish its drain and exit. */
void	event_join(struct event *ev);

/* Frees the loop and any connections it still holds; NULL is allowed. */
void	event_free(struct event *ev);

/* Monotonic milliseconds. */
uint64_t	event_now_ms(void);

#endif /* LANHTTPD_EVENT_H */
