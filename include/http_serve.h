/*
 * http_serve.h - from a parsed request to a response plan.
 *
 * http_serve() decides the status, writes the header block (and small
 * bodies) into the caller's buffer and lists what follows as segments: a
 * file range is sent later with sendfile().  It opens the file it serves
 * and hands its descriptor to the caller in res->file_fd.  A generated
 * body (a directory listing) is heap memory handed over in
 * res->body_heap.  No socket I/O happens here, so the decision logic is
 * testable without a network.  Thread-safe: all state is in the
 * arguments.
 *
 * The order of decisions for a file (RFC 9110): pick the representation
 * (a precompressed sibling the client accepts, or the file itself), then
 * its validators, then the preconditions (§13.2.2: 412 or 304), then
 * If-Range and Range (§14: 206, multipart 206 or 416), else 200.
 */
#ifndef LANHTTPD_HTTP_SERVE_H
#define LANHTTPD_HTTP_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "http_parse.h"
#include "http_response.h"

struct listing_cache;
struct config;
struct fentry;
struct gate_who;
struct session_state;

/* Bodies up to this size go out with the headers in one send. */
#define SERVE_INLINE_MAX	(8 * 1024)

struct serve_ctx {
	const struct config *cfg;
	unsigned	 cfg_gen;	/* the generation of cfg */
	struct listing_cache *listings;	/* rendered listings, or NULL */
	bool		 draining;	/* answer with Connection: close */
	bool		 memory_short;	/* max_response_memory is all held */
	char		*path;		/* scratch, at least PATH_MAX bytes */
	size_t		 path_cap;
	char		*scratch;	/* scratch for encoded names */
	size_t		 scratch_cap;
	uint64_t	 now_ms;	/* monotonic, for the file cache */
	const char	*user;		/* who asks ([access]); NULL: a guest */
	/* All the gate found (tokens, log-in), or NULL without a gate. */
	const struct gate_who *who;
	struct session_state *sessions;	/* tokens (session.h), or NULL */
	/*
	 * Called, when not NULL, before a job that may take long (reading a
	 * big folder for a listing the cache does not hold), so the caller
	 * can give its other clients to someone free meanwhile.
	 */
	void		(*long_job)(void *arg);
	void		*long_job_arg;
};

/*
 * True when the requester of x may do right (access.h: ACCESS_READ,
 * ACCESS_WRITE) on the normalised path rel; always without [access].
 */
bool	serve_may(const struct serve_ctx *x, const char *rel, unsigned right);

/*
 * A folder this big (st_size: about 2000 entries on ext4 or tmpfs) takes
 * long enough to read and format that its listing counts as a long job.
 */
#define SERVE_LONG_DIR_BYTES	(64 * 1024)

struct response {
	int		 status;
	bool		 keep_alive;	/* in: the request allows it; out: final */
	bool		 head;		/* no body on the wire */
	bool		 http10;
	struct hbuf	 hb;		/* caller's buffer: headers (+ small body) */
	size_t		 hdr_len;	/* header bytes at the start of hb */
	struct out_seg	 segs[CONN_MAX_SEGS];
	size_t		 nsegs;
	int		 file_fd;	/* the caller's, unless fentry is set */
	struct fentry	*fentry;	/* a reference, kept until sent */
	char		*body_heap;	/* the caller's to free once sent */
	size_t		 body_heap_len;
	/* The rest of the body, made while it is sent (conn.h); or none. */
	struct body_gen	 gen;
};

/*
 * Plans the response to req.  res->hb must be initialised on the caller's
 * buffer and res->keep_alive set from the request; everything else is
 * filled in.  The buffer must hold at least SERVE_INLINE_MAX plus 16 KiB.
 * Segments may point into res->hb (the caller's buffer, which
 * conn_park_output() copies when the response must wait) and into
 * res->body_heap or the entry in res->fentry (which the caller keeps for
 * as long as the response is being sent).
 */
void	http_serve(const struct serve_ctx *x, const struct http_request *req,
	    struct response *res);

/*
 * Plans an error response for a request that could not be parsed (or was
 * refused before http_serve()); the connection closes afterwards.
 */
void	http_serve_error(int status, bool head, struct response *res);

/*
 * Replaces the response planned in res, whose generated body the caller
 * has freed, with 503 and Retry-After: the server holds as much response
 * memory for clients as it may (max_response_memory).
 */
void	http_serve_busy(struct response *res);

/*
 * Plans the plain error answer status (extra: header lines, or NULL) into
 * res, whose head, http10 and keep_alive are set; errors that leave the
 * request's end unknown close the connection.
 */
void	http_serve_status(struct response *res, int status, const char *extra);

/*
 * Plans a whole answer: status, extra header lines (or NULL), a
 * Content-Type and body[0..len), sent with Cache-Control: no-store.  The
 * body must fit res's buffer with the headers (else 500).
 */
void	http_serve_page(struct response *res, int status, const char *ctype,
	    const char *extra, const char *body, size_t len);

/*
 * Adds the body fd[off..off+len) to a response whose headers are
 * finished (res->segs[0] holds them): nothing for HEAD, the bytes inline
 * when they are few, else a file segment for sendfile().  Takes fd.
 */
void	http_serve_attach(struct response *res, int fd, uint64_t off,
	    uint64_t len);

#endif /* LANHTTPD_HTTP_SERVE_H */
