/*
 * conn.h - one client connection and who owns it.
 *
 * A connection is owned by exactly one of: the acceptor thread (just
 * accepted, or waiting for room in the queue), the queue, or one worker,
 * which keeps it in its own epoll set until it closes or hands it on.
 * Whoever owns it may touch it; ownership moves only by push and pop, and
 * every move is checked with conn_take().  Only conn_free() closes the
 * socket.
 *
 * Memory: an idle connection holds only this struct (about 140 bytes).
 * Input that arrived but is not yet a complete request is copied into a
 * small heap buffer owned by the connection for as long as it waits; a
 * response that could not be sent at once, or a transfer in progress,
 * lives in a struct conn_resp allocated only for that time.  The large
 * buffers belong to the workers.
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
#include "syncer.h"

/* What an epoll registration's data.ptr points at; first member of each. */
enum ev_kind {
	EV_LISTENER = 1,
	EV_WAKE,
	EV_CONN,
};

enum conn_owner {
	OWNER_ACCEPTOR = 1,	/* the acceptor thread holds it */
	OWNER_QUEUE,
	OWNER_WORKER,
	OWNER_SYNC,		/* its upload's file is being synced */
};

/* Why a connection waits in its worker's epoll set; decides its deadline. */
enum conn_wait {
	WAIT_NONE = 0,		/* being served, or on the worker's ready list */
	WAIT_HEAD,		/* a request has begun (or none yet on a new conn) */
	WAIT_IDLE,		/* keep-alive, between requests */
	WAIT_WRITE,		/* response parked: the socket buffer was full */
	WAIT_LINGER,		/* final response sent, draining input before close */
	WAIT_BODY,		/* an upload's body is being received */
};

/* A piece of a response: memory bytes, or a range of the response file. */
struct out_seg {
	const char	*mem;		/* NULL for a file range */
	uint64_t	 len;
	off_t		 off;		/* file offset (file ranges) */
};

#define CONN_MAX_SEGS	40

/*
 * A body made piece by piece while it is sent (a folder as one archive,
 * archive.h): next() plans the next piece into segs (memory segments
 * pointing into the generator, file ranges of *fd, which the generator
 * owns) and returns their number, 0 at the end, or -1 when the body
 * cannot go on (the response is then cut short); done() frees it.
 * next == NULL: no generator.
 */
struct body_gen {
	int		(*next)(void *arg, struct out_seg *segs, size_t cap,
			    int *fd);
	void		(*done)(void *arg);
	void		*arg;
};

/*
 * The part of a response still to be sent, when it had to be parked.
 * Bytes that lived in the worker's buffers are copied into mem; bodies the
 * response holds a reference to (a cached file's bytes through fentry, a
 * generated page through body) are pointed at, never copied.
 */
struct conn_out {
	struct out_seg	*segs;		/* heap */
	char		*mem;		/* heap copy of the worker's bytes */
	size_t		 memlen;
	uint8_t		 nsegs;
	uint8_t		 cur;		/* first unfinished segment */
	uint64_t	 done;		/* bytes of segs[cur] already sent */
};

/*
 * A response in flight: on the worker's stack while it is being sent, and
 * in the connection (c->resp) when it has to wait for the client or is a
 * transfer that goes on piece by piece.  It owns what the response sends.
 */
struct conn_resp {
	int		 file_fd;	/* the entry's when fentry is set */
	struct fentry	*fentry;	/* a cached file the response uses */
	char		*body;		/* a generated body it sends (heap) */
	/* What makes the rest of the body; file_fd is then its own. */
	struct body_gen	 gen;
	size_t		 held;		/* bytes counted in conn_held_total() */
	struct conn_out	 out;
	int		 status;
	uint32_t	 hdr_len;	/* response bytes before the body */
	uint64_t	 sent;		/* response bytes sent so far */
	char		*log_line;	/* access-log line, "%B" at log_split */
	uint32_t	 log_split;
	/* A file transfer (PROTO_TRANSFER); the file is file_fd. */
	uint64_t	 src_off;	/* file bytes encoded so far */
	uint64_t	 src_size;	/* bytes to encode: the size at open */
	uint8_t		 src_stage;	/* how far the JSON got (lab_serve.c) */
};

union conn_addr {
	struct sockaddr		sa;
	struct sockaddr_in	in4;
	struct sockaddr_in6	in6;
};

struct conn {
	enum ev_kind	 kind;		/* EV_CONN; must stay first */
	int		 fd;
	uint8_t		 owner;		/* enum conn_owner */
	uint8_t		 wait;		/* enum conn_wait */
	uint8_t		 proto;		/* enum listen_proto */
	bool		 keep_alive : 1;	/* after the response in flight */
	bool		 linger : 1;	/* half-close and drain before closing */
	bool		 readable : 1;	/* an input edge not yet read to EAGAIN */
	bool		 registered : 1;	/* in its worker's epoll set */
	bool		 ready : 1;	/* on its worker's ready list */
	uint32_t	 heap_idx;	/* in its worker's deadline heap, or ~0 */
	uint32_t	 nrequests;
	uint32_t	 in_len;
	uint32_t	 outq;		/* unsent bytes at the last wait expiry */
	uint64_t	 heap_key;	/* its place in the heap: <= deadline_ms */
	uint64_t	 deadline_ms;
	uint64_t	 req_start_ms;	/* first byte of the current request head */

	/* Unprocessed input (a partial head, or pipelined requests). */
	char		*in;

	/* A request body to skip (the answer did not need it). */
	uint64_t	 discard;	/* Content-Length bytes still to skip */
	struct chunked	*chunked;	/* or the decoder of a chunked one */
	/* A request body being received into a file (upload.h). */
	struct upload	*upload;

	struct conn_resp *resp;		/* a response waiting, or NULL */
	struct conn	*next;		/* the acceptor's or a worker's list */
	struct sync_node sync;		/* its place in the syncer's jobs */
	union conn_addr	 peer;
};

/*
 * A connection for the accepted socket fd, owned by the acceptor.  Takes
 * ownership of fd (closes it on failure).  NULL when out of memory.
 */
struct conn	*conn_new(int fd, enum listen_proto proto,
		    const union conn_addr *peer, uint64_t now_ms);

/*
 * Closes the socket (which takes it out of any epoll set) and any
 * response, and frees c.  The caller must own c.  Thread-safe (the open
 * count is atomic).
 */
void	conn_free(struct conn *c);

/*
 * Sends msg[0..len) (nothing when len is 0) on a just-accepted socket that
 * will not become a connection, and closes it: an overloaded server's
 * refusal in the listener's protocol, or a daytime line.  Never blocks; a
 * message that does not fit in the socket buffer is cut short.
 */
void	conn_answer_close(int fd, const char *msg, size_t len);

struct upload;

/*
 * What conn_free() calls to release a connection's upload: upload_free(),
 * set once before the first connection, so this module does not depend
 * on the upload code.
 */
void	conn_set_upload_release(void (*release)(struct upload *));

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
 * Keeps the unsent part of r's response (segs[cur..n), with done bytes of
 * segs[cur] already sent) in r->out: memory segments that lie in the
 * caller's scratch[0..scratch_len) are copied into heap memory owned by
 * r; every other memory segment must point into what r already holds
 * (r->fentry's bytes or r->body) and is kept by reference.  The copy
 * counts against limit (see conn_hold()); one that would pass it is
 * refused unless it is at most CONN_PARK_FREE bytes (a header block).
 * Returns 0, -ENOMEM, or -ENOBUFS when refused.
 */
int	conn_park_output(struct conn_resp *r, const struct out_seg *segs,
	    size_t n, size_t cur, uint64_t done, const char *scratch,
	    size_t scratch_len, size_t limit);

/* A parked copy this small is never refused. */
#define CONN_PARK_FREE	2048

/*
 * Counts n more bytes of response memory for r (a generated body, or a
 * parked copy) in the total all connections hold, unless that would pass
 * limit: then counts nothing and returns false.  What remote clients can
 * make the daemon hold beyond its caches is bounded this way.  Thread-safe.
 */
bool	conn_hold(struct conn_resp *r, size_t n, size_t limit);

/* Bytes of response memory all connections hold now (a snapshot). */
size_t	conn_held_total(void);

/*
 * Drops the parked bytes of r only, once they are sent: its file and its
 * access-log line stay (a transfer goes on with the next piece).
 */
void	conn_drop_output(struct conn_resp *r);

/*
 * Releases what r holds: its copies, its generated body, its file, its
 * access-log line, and what it counted in the total.  r itself stays.
 */
void	conn_resp_release(struct conn_resp *r);

/* The response of c, allocated (zeroed, file_fd -1) if c has none. */
struct conn_resp	*conn_resp_get(struct conn *c);

/* Releases and frees c's response, if any. */
void	conn_clear_output(struct conn *c);

/* Formats the peer address ("192.0.2.1", "2001:db8::1") into buf. */
void	conn_peer_string(const struct conn *c, char *buf, size_t cap);

struct access_entry;

/*
 * Formats the access-log line of e for c (its peer, the time now) into
 * out[0..cap) with the byte count's place in *split; absurdly long fields
 * are cut so that the essentials always fit.  Returns its length, 0 when
 * the access log is off.
 */
size_t	conn_access_line(const struct conn *c, struct access_entry *e,
	    char *out, size_t cap, size_t *split);

#endif /* LANHTTPD_CONN_H */
