/*
 * event.h - the event thread: accepting, epoll, deadlines.
 *
 * The event thread owns the listening sockets, one epoll set and the
 * deadline heap.  It accepts new connections and pushes them onto the
 * queue; it watches connections that workers hand back with event_arm()
 * and pushes them again once they are ready; it closes what outlives its
 * deadline.  When the queue is full it stops accepting (the kernel's
 * backlog holds new clients) until a pop makes room.
 */
#ifndef LANHTTPD_EVENT_H
#define LANHTTPD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

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

/*
 * Hands c (owned by the calling worker) to the epoll set to wait for wait
 * (WAIT_HEAD / WAIT_IDLE / WAIT_LINGER: readable, WAIT_WRITE: writable)
 * with the matching deadline.  After the call the worker must not touch c.
 * When the server is stopping, c is closed instead.  Thread-safe.
 */
void	event_arm(struct event *ev, struct conn *c, enum conn_wait wait);

/* Tells the event thread a connection closed (it may resume accepting). */
void	event_conn_closed(struct event *ev);

/* Called by the queue when a pop made room after a failed push. */
void	event_queue_space(void *ev);

/*
 * Begins a drain: stop accepting, close idle connections, let responses in
 * flight finish for up to the shutdown timeout.  A second call ends the
 * drain at once.  Thread-safe, async-signal-unsafe.
 */
void	event_shutdown(struct event *ev);

/* Waits for the event thread to finish its drain and exit. */
void	event_join(struct event *ev);

/* Frees the loop and any connections it still holds; NULL is allowed. */
void	event_free(struct event *ev);

/* Monotonic milliseconds. */
uint64_t	event_now_ms(void);

#endif /* LANHTTPD_EVENT_H */
