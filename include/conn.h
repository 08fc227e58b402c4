/*
 * conn.h - one client connection and who owns it.
 *
 * A connection is owned by exactly one of: the event thread (just accepted,
 * or fired and waiting for room in the queue), the queue, one worker, or
 * the epoll set (armed one-shot, waiting for readiness or a deadline).
 * Whoever owns it may touch it; ownership moves only by push/pop or
 * arm/fire, and every move is checked with conn_take().  Only conn_free()
 * closes the socket.
 *
 * Memory: an idle connection holds only this struct.  Input that arrived
 * but is not yet a complete request, and output that could not be sent
 * yet, are copied into small heap buffers owned by the connection only for
 * as long as they are needed; the large buffers belong to the workers.
 */
#ifndef LANHTTPD_CONN_H
#define LANHTTPD_CONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "config.h"

/* What an epoll registration's data.ptr points at; first member of each. */
enum ev_kind {
	EV_LISTENER = 1,
	EV_WAKE,
	EV_CONN,
};

enum conn_owner {
	OWNER_EVENT = 1,	/* the event thread holds it */
	OWNER_QUEUE,
	OWNER_WORKER,
	OWNER_EPOLL,
};

/* Why a connection sits in the epoll set; decides its deadline. */
enum conn_wait {
	WAIT_NONE = 0,
	WAIT_HEAD,		/* a request has begun (or none yet on a new conn) */
	WAIT_IDLE,		/* keep-alive, between requests */
	WAIT_WRITE,		/* response parked: the socket buffer was full */
	WAIT_LINGER,		/* final response sent, draining input before close */
};

/* A piece of a response: memory bytes, or a range of the response file. */
struct out_seg {
	const char	*mem;		/* NULL for a file range */
	uint64_t	 len;
	off_t		 off;		/* file offset (file ranges) */
};

#define CONN_MAX_SEGS	40

/*
 * The part of a response still to be sent, when it had to be parked.
 * Bytes that lived in the worker's buffers are copied into mem; bodies the
 * connection holds a reference to (a cached file's bytes through fentry,
 * a generated page through body) are pointed at, never copied.
 */
struct conn_out {
	struct out_seg	*segs;		/* heap */
	char		*mem;		/* heap copy of the worker's bytes */
	size_t		 memlen;
	uint8_t		 nsegs;
	uint8_t		 cur;		/* first unfinished segment */
	uint64_t	 done;		/* bytes of segs[cur] already sent */
};

union conn_addr {
	struct sockaddr		sa;
	struct sockaddr_in	in4;
	struct sockaddr_in6	in6;
};

struct conn {
	enum ev_kind	 kind;		/* EV_CONN; must stay first */
	int		 fd;
	enum conn_owner	 owner;
	enum conn_wait	 wait;
	enum listen_proto proto;
	uint32_t	 heap_idx;	/* position in the deadline heap, or ~0 */
	uint64_t	 deadline_ms;
	uint64_t	 req_start_ms;	/* first byte of the current request head */

	/* Unprocessed input (a partial head, or pipelined requests). */
	char		*in;
	uint32_t	 in_len;
	/* A request body to skip (the answer did not need it). */
	uint64_t	 discard;	/* Content-Length bytes still to skip */
	struct chunked	*chunked;	/* or the decoder of a chunked one */

	/* The response in flight, when parked. */
	int		 file_fd;	/* the entry's when fentry is set */
	struct fentry	*fentry;	/* a cached file the response uses */
	char		*body;		/* a generated body it sends (heap) */
	size_t		 held;		/* bytes counted in conn_held_total() */
	struct conn_out	 out;
	bool		 keep_alive;	/* after the response in flight */
	bool		 linger;	/* half-close and drain before closing */
	bool		 looked_again;	/* its worker already looked twice */
	int		 status;
	uint32_t	 hdr_len;	/* response bytes before the body */
	uint64_t	 sent;		/* response bytes sent so far */
	char		*log_line;	/* access-log line, "%B" at log_split */
	uint32_t	 log_split;

	/* A file transfer (PROTO_TRANSFER); the file is file_fd. */
	uint64_t	 src_off;	/* file bytes encoded so far */
	uint64_t	 src_size;	/* bytes to encode: the size at open */
	uint8_t		 src_stage;	/* how far the JSON got (worker.c) */

	uint32_t	 nrequests;
	uint32_t	 outq;		/* unsent bytes at the last wait expiry */
	struct conn	*next;		/* event thread's pending list */
	union conn_addr	 peer;
};

/*
 * A connection for the accepted socket fd, owned by the event thread.
 * Takes ownership of fd (closes it on failure).  NULL when out of memory.
 */
struct conn	*conn_new(int fd, enum listen_proto proto,
		    const union conn_addr *peer, uint64_t now_ms);

/*
 * Closes the socket and any response file and frees c.  The caller must
 * own c.  Thread-safe (the open count is atomic).
 */
void	conn_free(struct conn *c);

/*
 * Sends msg[0..len) (nothing when len is 0) on a just-accepted socket that
 * will not become a connection, and closes it: an overloaded server's
 * refusal in the listener's protocol, or a daytime line.  Never blocks; a
 * message that does not fit in the socket buffer is cut short.
 */
void	conn_answer_close(int fd, const char *msg, size_t len);

/* Number of connections currently open. */
unsigned	conn_open_count(void);

/*
 * Moves ownership: asserts c is owned by from and hands it to to.  This is
 * the checkpoint the design relies on; it compiles to a compare and a store.
 */
void	conn_take(struct conn *c, enum conn_owner from, enum conn_owner to);

/*
 * Keeps in[0..len) for the next time the connection is served (a partial
 * head or pipelined requests).  Returns 0 or -ENOMEM.
 */
int	conn_stash_input(struct conn *c, const char *in, size_t len);

/*
 * Keeps the unsent part of a response (segs[cur..n), with done bytes of
 * segs[cur] already sent) in c: memory segments that lie in the caller's
 * scratch[0..scratch_len) are copied into heap memory owned by c; every
 * other memory segment must point into what c already holds (c->fentry's
 * bytes or c->body) and is kept by reference.  The copy counts against
 * limit (see conn_hold()); one that would pass it is refused unless it is
 * at most CONN_PARK_FREE bytes (a header block).  Returns 0, -ENOMEM, or
 * -ENOBUFS when refused.
 */
int	conn_park_output(struct conn *c, const struct out_seg *segs, size_t n,
	    size_t cur, uint64_t done, const char *scratch, size_t scratch_len,
	    size_t limit);

/* A parked copy this small is never refused. */
#define CONN_PARK_FREE	2048

/*
 * Counts n more bytes of response memory for c (a generated body, or a
 * parked copy) in the total all connections hold, unless that would pass
 * limit: then counts nothing and returns false.  What remote clients can
 * make the daemon hold beyond its caches is bounded this way.  Thread-safe.
 */
bool	conn_hold(struct conn *c, size_t n, size_t limit);

/* Bytes of response memory all connections hold now (a snapshot). */
size_t	conn_held_total(void);

/*
 * Drops a parked response: its copies, its generated body, its file, its
 * access-log line, and what it held in the total.
 */
void	conn_clear_output(struct conn *c);

/*
 * Drops the parked bytes only, once they are sent: the response file and
 * the access-log line stay (a transfer goes on with the next piece).
 */
void	conn_drop_output(struct conn *c);

/* Formats the peer address ("192.0.2.1", "2001:db8::1") into buf. */
void	conn_peer_string(const struct conn *c, char *buf, size_t cap);

#endif /* LANHTTPD_CONN_H */
