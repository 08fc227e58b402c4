/*
 * lab_serve.h - the lab's services against sockets and files.
 *
 * The ping responder and the daytime greeting run on the acceptor thread:
 * a datagram and one short line need no worker, and both are answered
 * with non-blocking calls only.  A file transfer is a connection a worker
 * owns like an HTTP one; lab_transfer_run() is its state machine, which
 * the worker runs until it would block, lending its buffers.  What the
 * protocols say is in lab.h; here is the I/O around it.
 */
#ifndef LANHTTPD_LAB_SERVE_H
#define LANHTTPD_LAB_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lab.h"
#include "span.h"

struct config;
struct conn;
struct lab_limiter;
struct log_buf;

/* Datagrams a ping socket answers per readiness event, at most. */
#define LAB_PING_BATCH		64

/* File bytes per transfer piece: a multiple of 3, so no padding mid-way. */
#define LAB_XFER_CHUNK		(12 * 1024)

/* What the ping responder did, for the log. */
struct lab_ping_counts {
	unsigned long	 answered;
	unsigned long	 limited;	/* held back by a token bucket */
	unsigned long	 oversize;	/* over LAB_PING_MAX bytes */
	/*
	 * Not answered: nothing to upper-case, not unicast, or from a
	 * source port below LAB_PING_MIN_PORT (1024).
	 */
	unsigned long	 ignored;
	unsigned long	 unsent;	/* no room in the socket, or an error */
};

/*
 * A limiter for the ping responder (lab.h) keyed with random bits, or NULL
 * when out of memory.  Release it with free().
 */
struct lab_limiter	*lab_ping_limiter(unsigned total);

/*
 * Answers the datagrams waiting on the ping socket fd, LAB_PING_BATCH at
 * most: the socket is level-triggered, so the event loop comes back for
 * the rest after serving everything else.  A datagram of at most
 * LAB_PING_MAX bytes that lim lets through goes back upper-cased, from the
 * address it was sent to (listen.c asked the socket for that address).
 * A datagram with nothing to upper-case is not answered: its reply would
 * be itself, and two responders (or an echo service) would bounce it
 * between them for ever.  Nor is one from a source port below 1024
 * (lab_ping_source_port_ok()): the services there (daytime, qotd,
 * chargen, ...) answer anything, so a datagram spoofed from one would
 * bounce between the two.  Never blocks: a reply the socket has no room for
 * is dropped.  Adds what happened to *n.  Event thread only (lim is not
 * locked).
 */
void	lab_ping_serve(int fd, struct lab_limiter *lim, unsigned per_source,
	    unsigned total, struct lab_ping_counts *n);

/* The daytime line (lab.h) for the local time now; returns its length. */
size_t	lab_daytime_now(char *out, size_t cap);

/*
 * Opens the transfer file of c beneath the root by the rules of an HTTP
 * request (path_open(): no escape, the symlink policy; read-only,
 * close-on-exec, non-blocking).  Returns 200 and stores the descriptor
 * (the caller's to close) in *fdp; otherwise a status for the access log
 * (403, 404, 413 when over max_size, 500, 503) with *reason set to a short
 * static text for the client and the error log.  *size is the file's size
 * whenever it is known.  Thread-safe.
 */
int	lab_transfer_open(const struct config *c, int *fdp, uint64_t *size,
	    const char **reason);

/* The name the JSON gives: the last segment of the transfer file. */
struct span	lab_transfer_name(const struct config *c);

/*
 * Encodes the next piece of the transfer file fd as base64 into out: up to
 * LAB_XFER_CHUNK bytes from *off, never past size, read through buf.  Each
 * piece but the last is a multiple of 3 bytes; the last carries the
 * padding, and *last says whether this was it (a file that shrank ends
 * early, still as valid base64).  Advances *off.  buf must hold
 * LAB_XFER_CHUNK bytes and out LAB_B64_LEN(LAB_XFER_CHUNK).  Returns the
 * characters written, or a negative errno.
 */
ssize_t	lab_transfer_encode(int fd, uint64_t *off, uint64_t size, char *buf,
	    char *out, bool *last);

/* What a worker lends a transfer while it runs. */
struct xfer_ctx {
	const struct config *cfg;
	char		*in;		/* LAB_XFER_CHUNK bytes: file bytes */
	char		*out;		/* a piece of JSON */
	size_t		 out_cap;	/* LAB_XFER_OUT_MIN at least */
	struct log_buf	*log;		/* the worker's access log */
};

/* Room a piece needs: its base64, and the JSON head or tail around it. */
#define LAB_XFER_OUT_MIN	(LAB_B64_LEN(LAB_XFER_CHUNK) + 2048)

/* Where a transfer stopped. */
enum xfer_rc {
	XFER_DONE,	/* all of it went out (and is logged): half-close */
	XFER_WAIT,	/* the socket is full: the rest is parked */
	XFER_YIELD,	/* budget bytes went out: run it again soon */
	XFER_FAILED,	/* the file or the socket failed (logged): close */
};

/*
 * Runs the transfer of c (PROTO_TRANSFER): on the first call opens the
 * file for this client (a file replaced on disk is what the next client
 * gets) and builds the JSON head, then sends the JSON a piece at a time:
 * the base64 of LAB_XFER_CHUNK file bytes read into x->in and encoded in
 * x->out, so memory per transfer stays at one piece whatever the file
 * size.  A piece the socket has no room for is parked in c->resp.
 * Returns when the JSON is out, the socket is full, or budget bytes went
 * out.  The access log gets one line per transfer.  Worker threads only,
 * with c owned by the caller.
 */
enum xfer_rc	lab_transfer_run(struct conn *c, const struct xfer_ctx *x,
		    uint64_t budget);

#endif /* LANHTTPD_LAB_SERVE_H */
