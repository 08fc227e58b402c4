/*
 * upload.h - writes into the share: PUT, form uploads, new folders,
 * renames and deletes, where [upload] allows them.
 *
 * A body is written into a file that has no name yet (O_TMPFILE in the
 * target folder), synced, and only then linked under its final name, so a
 * reader never sees a partial file and a broken connection, a deadline or
 * a full disk leaves nothing behind.  Replacing a file links the new one
 * under a hidden name first and renames it over the old one, so the name
 * always holds a complete version.
 *
 * upload_plan() decides everything that can be decided from the head
 * (permission, name, preconditions, size, space, room for one more
 * upload) before a byte of the body is read; the worker then feeds the
 * body in with upload_take() or upload_splice() and answers with
 * upload_finish().  No socket I/O happens here except upload_splice(),
 * which moves bytes the kernel holds.  One struct upload belongs to one
 * connection; separate ones may be used from separate threads.
 */
#ifndef LANHTTPD_UPLOAD_H
#define LANHTTPD_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http_parse.h"
#include "http_serve.h"

struct upload;
struct config;

enum up_plan {
	UP_PASS,	/* not a write [upload] takes: serve it as before */
	UP_ANSWERED,	/* res holds the answer (an error, or done at once) */
	UP_BODY,	/* the body is to be received into *up */
};

/*
 * Looks at a request that may write (PUT, POST, DELETE).  On UP_BODY, *up
 * is the new upload; the caller must send "100 Continue" first when
 * upload_wants_continue() says so.  res->hb must be set up as for
 * http_serve().
 */
enum up_plan	upload_plan(const struct serve_ctx *x,
		    const struct http_request *req, struct response *res,
		    struct upload **up);

/* True when the client waits for "100 Continue" before sending the body. */
bool	upload_wants_continue(const struct upload *u);

/*
 * Takes body bytes in[0..len) as they came from the socket (a chunked
 * coding is decoded in place).  Returns the bytes consumed, which is len
 * unless the body ended inside in, or -1 when the upload failed: then
 * upload_finish() answers with the reason.
 */
ssize_t	upload_take(struct upload *u, char *in, size_t len);

/* The body has been received entirely (or the upload failed). */
bool	upload_complete(const struct upload *u);

/*
 * Moves body bytes from the socket sock into the file through the pipe
 * pipefd without copying them to user space, when the body allows it (a
 * Content-Length body for PUT).  Returns the bytes moved (> 0), 0 when
 * splicing does not apply or the body is complete, -1 with errno EAGAIN
 * when the socket is empty, -2 when the client closed or the socket
 * failed, or -3 when the upload failed (the file): upload_finish() says
 * why.  The pipe is empty again on every return except -3.
 */
ssize_t	upload_splice(struct upload *u, int sock, const int pipefd[2],
	    size_t max);

/*
 * The body of u is in, and finishing it is slow disk work (the file's
 * fsync, its name, the folder's fsync) that upload_commit() may do on
 * another thread while the connection's worker serves others.
 */
bool	upload_wants_commit(const struct upload *u);

/*
 * Does that work, on any thread (one at a time for u): afterwards
 * upload_finish() only answers.
 */
void	upload_commit(struct upload *u);

/*
 * The body is in (or the upload failed, or its client went away: gone):
 * makes the file visible under its name, or drops it, and plans the
 * answer into res (res->hb set up as for http_serve()).  Returns the
 * status.
 */
int	upload_finish(struct upload *u, const struct serve_ctx *x,
	    struct response *res);

/*
 * Fails the upload (the first failure counts): status and why are what
 * upload_finish() answers, e.g. 408 when the body stopped coming.
 */
void	upload_fail(struct upload *u, int status, const char *why);

struct access_entry;

/*
 * Keeps a copy of what the access log shows of req (its request line,
 * Referer and User-Agent), whose bytes die once the head is consumed;
 * upload_log_entry() points e's fields at that copy.  False when out of
 * memory (the line then shows less).
 */
bool	upload_keep_log(struct upload *u, const struct http_request *req);
void	upload_log_entry(const struct upload *u, struct access_entry *e);

/* Body bytes received from the socket so far (for the access log). */
uint64_t	upload_received(const struct upload *u);

/* Frees u; a file not yet linked disappears with it. */
void	upload_free(struct upload *u);

/*
 * Removes what uploads left in the work folders of the [upload] paths:
 * at start, the temporary names a crash can leave; always, resumable
 * uploads not touched for tus_expire.
 */
void	upload_sweep(const struct config *cfg, bool at_start);

/* True when uploads are on and the normalised path rel takes writes. */
bool	upload_writable(const struct config *cfg, const char *rel);

/* What OPTIONS says of tus where writes are allowed (header lines). */
#define UPLOAD_TUS_OPTIONS \
	"Tus-Resumable: 1.0.0\r\nTus-Version: 1.0.0\r\n" \
	"Tus-Extension: creation,creation-with-upload,termination," \
	"expiration\r\n"

/* Bodies being received now, in the whole process. */
unsigned	upload_active(void);

#endif /* LANHTTPD_UPLOAD_H */
