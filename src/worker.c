/*
 * worker.c - the worker pool and the HTTP connection state machine.
 *
 * DESIGN: a worker pops a connection and owns it until it hands it on.  It
 * reads into its own buffer, parses, plans the response (http_serve.c)
 * and sends it.  Then, on a keep-alive connection:
 *   - bytes of the next request already in the buffer: go on (pipelining);
 *   - nothing buffered: hand the connection to epoll (WAIT_IDLE);
 *   - the socket filled up mid-response: copy what is unsent into the
 *     connection and hand it to epoll for writability (WAIT_WRITE);
 * so a worker never waits for a client.  Only a partial request or the
 * unsent rest of a response is copied into memory owned by the
 * connection; everything else lives in the worker's buffers.  A worker
 * that has served many requests or bytes in one job puts the connection
 * back on the queue, so one fast client cannot monopolise it.
 *
 * A transfer connection (the lab's file push, PROTO_TRANSFER) reads
 * nothing: the worker opens the file, then builds the JSON a piece at a
 * time into its output buffer (the head, then the base64 of LAB_XFER_CHUNK
 * file bytes, then the tail) and sends each piece before building the
 * next.  When the socket fills up, the unsent rest of the piece is parked
 * in the connection exactly like an HTTP response, so memory per transfer
 * stays at one piece whatever the file size and no worker waits.
 */
#include "worker.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "chunked.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "fcache.h"
#include "http_parse.h"
#include "http_serve.h"
#include "lab.h"
#include "lab_serve.h"
#include "log.h"
#include "queue.h"
#include "server.h"
#include "testhook.h"

/* Requests served in one job before the connection yields its worker. */
#define JOB_MAX_REQUESTS	64
/* Response bytes sent in one job before the connection yields. */
#define JOB_MAX_BYTES		(4u << 20)
/*
 * Request bodies the answer does not need are skipped, up to this size;
 * a larger one is answered 413 and the connection closes.
 */
#define DISCARD_MAX		(1u << 20)
/*
 * Keep-alive connections a busy worker looks at once more before handing
 * them back to epoll, and how many jobs it does in between (bench/ab:
 * 128 and 32 beat 32 and 8 at both 50 and 1000 connections).
 */
#define LATER_MAX		128
#define LATER_JOBS		32
/* Room for the response header block plus an inline body. */
#define OUT_CAP			(SERVE_INLINE_MAX + 24 * 1024)
/* Pipelined input beyond one maximal request head. */
#define IN_SLACK		(16 * 1024)
/* How often a transfer's unreadable file is reported (not per client). */
#define XFER_WARN_MS		10000

/* A transfer piece is read into w->in and encoded into w->out. */
static_assert(LAB_XFER_CHUNK <= IN_SLACK, "in holds a transfer piece");
static_assert(LAB_B64_LEN(LAB_XFER_CHUNK) + 2048 <= OUT_CAP,
    "out holds a transfer piece with the JSON head and tail");

struct worker {
	struct server	*srv;
	pthread_t	 thread;
	atomic_bool	 quit;		/* asked to leave the pool */
	_Atomic uint64_t busy_since_ms;	/* 0 while waiting for work */
	struct cfg_cache cfg;
	char		*in;
	size_t		 in_cap;
	char		*out;
	char		 path[PATH_MAX];
	char		 scratch[3 * PATH_MAX + 16];
	char		 logline[8192];
	size_t		 logline_len;
	size_t		 logline_split;
	struct http_request req;
	struct log_buf	 log;
	struct conn	*later[LATER_MAX];	/* see wait_for_input() */
	size_t		 nlater;
	unsigned	 jobs_since_later;
	bool		 leaving;	/* hand everything back, keep nothing */
};

enum send_rc {
	SEND_DONE,
	SEND_AGAIN,	/* the socket is full */
	SEND_YIELD,	/* the job's byte budget is spent */
	SEND_ERROR,
	SEND_SHORT,	/* the file shrank under sendfile(): cut */
};

/* How far a transfer's JSON got (conn.src_stage). */
enum xfer_stage {
	XFER_NEW = 0,	/* the file is not opened yet */
	XFER_BODY,	/* the head is built; file pieces follow */
	XFER_END,	/* the last piece is built */
};

/* What became of the connection after a response. */
enum after {
	AFTER_CONTINUE,	/* the worker still owns it and may go on */
	AFTER_GONE,	/* handed on or closed */
};

/* Is a request body still being skipped? */
static bool
body_pending(const struct conn *c)
{
	return c->discard > 0 || c->chunked != NULL;
}

static void
close_conn(struct worker *w, struct conn *c)
{
	conn_free(c);
	event_conn_closed(w->srv->ev);
}

/*
 * The final response is out.  A half-close and a short drain (lingering
 * close, RFC 9112 §9.6) keep a client that is still sending from getting
 * a reset that would destroy the response before it reads it.
 */
static void
finish_close(struct worker *w, struct conn *c)
{
	if (c->linger && shutdown(c->fd, SHUT_WR) == 0) {
		event_arm(w->srv->ev, c, WAIT_LINGER, w->cfg.cfg);
		return;
	}
	close_conn(w, c);
}

/*
 * Gathers the memory segments from segs[*cur] (skipping *done bytes of
 * it) into one sendmsg().  MSG_MORE holds them back while a file range
 * follows, so headers and body leave in as few packets as possible.
 * Returns what sendmsg() returned.
 */
static ssize_t
send_mem_run(int sock, const struct out_seg *segs, size_t n, size_t cur,
    uint64_t done)
{
	struct iovec iov[8];
	struct msghdr mh;
	size_t k = 0, i;

	for (i = cur; i < n && segs[i].mem != NULL && k < 8; i++) {
		uint64_t skip = i == cur ? done : 0;

		iov[k].iov_base = (void *)(uintptr_t)(segs[i].mem + skip);
		iov[k].iov_len = (size_t)(segs[i].len - skip);
		k++;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = k;
	return sendmsg(sock, &mh, MSG_NOSIGNAL | (i < n ? MSG_MORE : 0));
}

/* Moves the position (*cur, *done) on by sent bytes, across segments. */
static void
advance(const struct out_seg *segs, size_t *cur, uint64_t *done,
    uint64_t sent)
{
	while (sent > 0) {
		uint64_t rem = segs[*cur].len - *done;

		if (sent < rem) {
			*done += sent;
			return;
		}
		sent -= rem;
		(*cur)++;
		*done = 0;
	}
}

/* One sendfile() of the file range s from *done, at most budget bytes. */
static ssize_t
send_file_part(int sock, int file_fd, const struct out_seg *s, uint64_t done,
    uint64_t budget)
{
	off_t off = s->off + (off_t)done;
	uint64_t want = s->len - done;

	if (want > budget)
		want = budget;
	if (want > (1u << 30))
		want = 1u << 30;
	return sendfile(sock, file_fd, &off, (size_t)want);
}

/*
 * Sends segs[*cur..n) from where *done says, advancing *cur, *done and
 * *sent, until done, the socket is full, or budget bytes went out.
 */
static enum send_rc
send_segs(int sock, int file_fd, const struct out_seg *segs, size_t n,
    size_t *cur, uint64_t *done, uint64_t *sent, uint64_t budget)
{
	uint64_t start = *sent;

	while (*cur < n) {
		const struct out_seg *s = &segs[*cur];
		ssize_t r;

		if (*sent - start >= budget)
			return SEND_YIELD;
		if (s->len == *done) {
			(*cur)++;
			*done = 0;
			continue;
		}
		r = s->mem != NULL ? send_mem_run(sock, segs, n, *cur, *done) :
		    send_file_part(sock, file_fd, s, *done, budget);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN ? SEND_AGAIN : SEND_ERROR;
		if (r == 0 && s->mem == NULL)
			return SEND_SHORT;	/* the file shrank */
		*sent += (uint64_t)r;
		advance(segs, cur, done, (uint64_t)r);
	}
	return SEND_DONE;
}

/* The request line as it arrived, for the access log. */
static struct span
request_line(const struct http_request *req)
{
	if (req->method_name.p == NULL || req->target.p == NULL)
		return SPAN_NULL;
	/* method SP target SP HTTP/x.y */
	return span_make(req->method_name.p,
	    (size_t)(req->target.p + req->target.len - req->method_name.p) + 9);
}

/* Formats e, with the client's address, into w->logline. */
static void
access_format(struct worker *w, const struct conn *c, struct access_entry *e)
{
	char peer[64];

	w->logline_len = 0;
	if (!log_access_enabled())
		return;
	conn_peer_string(c, peer, sizeof(peer));
	e->peer = peer;
	e->when = time(NULL);
	w->logline_len = log_format_access(w->logline, sizeof(w->logline), e,
	    &w->logline_split);
	if (w->logline_len == 0) {
		/* Absurdly long fields: log the essentials only. */
		e->referer = e->user_agent = SPAN_NULL;
		if (e->request_line.len > 1024)
			e->request_line.len = 1024;
		w->logline_len = log_format_access(w->logline,
		    sizeof(w->logline), e, &w->logline_split);
	}
}

/* Formats the access-log line of the response now starting. */
static void
access_begin(struct worker *w, const struct conn *c,
    const struct http_request *req, int status)
{
	struct access_entry e = { .status = status };

	if (req != NULL) {
		e.request_line = request_line(req);
		e.referer = req->hdr[HDR_REFERER];
		e.user_agent = req->hdr[HDR_USER_AGENT];
	}
	access_format(w, c, &e);
}

static uint64_t
body_bytes(const struct conn *c)
{
	return c->sent > c->hdr_len ? c->sent - c->hdr_len : 0;
}

static void
access_end(struct worker *w, const struct conn *c)
{
	if (w->logline_len > 0)
		log_access_split(&w->log, w->logline, w->logline_len,
		    w->logline_split, body_bytes(c));
}

/* The parked response finished (or failed): log it from its saved line. */
static void
access_end_parked(struct worker *w, struct conn *c)
{
	if (c->log_line != NULL)
		log_access_split(&w->log, c->log_line, strlen(c->log_line),
		    c->log_split, body_bytes(c));
}

/*
 * Hands c, with output still to send, on: to the queue when it only used
 * up its job's budget (yield), else to epoll until the socket has room.
 */
static void
wait_writable(struct worker *w, struct conn *c, bool yield)
{
	c->wait = WAIT_WRITE;
	if (yield) {
		conn_take(c, OWNER_WORKER, OWNER_QUEUE);
		if (queue_push(w->srv->queue, c))
			return;
		conn_take(c, OWNER_QUEUE, OWNER_WORKER);
		/* The queue is full: the socket has room, so poll for it. */
	}
	event_arm(w->srv->ev, c, WAIT_WRITE, w->cfg.cfg);
}

/* Sends what c has parked, from where it stopped last time. */
static enum send_rc
send_parked(struct conn *c, uint64_t budget)
{
	struct conn_out *o = &c->out;
	size_t cur = o->cur;
	uint64_t done = o->done;
	enum send_rc rc;

	rc = send_segs(c->fd, c->file_fd, o->segs, o->nsegs, &cur, &done,
	    &c->sent, budget);
	o->cur = (uint8_t)cur;
	o->done = done;
	return rc;
}

/*
 * Parks the unsent rest of a response in c and hands c to epoll for
 * writability, or to the queue when it only used up its budget.
 * input[0..len) is pipelined input that must survive the wait.
 */
static enum after
park(struct worker *w, struct conn *c, const struct out_seg *segs, size_t n,
    size_t cur, uint64_t done, const char *input, size_t len, bool yield)
{
	int r = conn_park_output(c, segs, n, cur, done, w->out, OUT_CAP,
	    w->cfg.cfg->max_response_memory);

	if (r == 0)
		r = conn_stash_input(c, input, len);
	if (r != 0) {
		/* A client that does not read, when memory is short: cut. */
		if (r == -ENOBUFS)
			log_debug("max_response_memory reached: closing a "
			    "connection that does not read");
		else
			log_err("out of memory parking a response; closing the "
			    "connection");
		if (c->log_line == NULL && w->logline_len > 0)
			access_end(w, c);
		close_conn(w, c);
		return AFTER_GONE;
	}
	if (w->logline_len > 0 && c->log_line == NULL) {
		c->log_line = strndup(w->logline, w->logline_len);
		c->log_split = (uint32_t)w->logline_split;
	}
	wait_writable(w, c, yield);
	return AFTER_GONE;
}

/*
 * The response in flight is over: sent, or failed (SEND_ERROR, SEND_SHORT).
 * Closes c, or lingers when request bytes follow (more_input or a body
 * still to skip), or keeps it for the next request.  Returns
 * AFTER_CONTINUE when c may serve that request.
 */
static enum after
response_over(struct worker *w, struct conn *c, enum send_rc rc,
    bool more_input)
{
	/*
	 * The bytes ran out before Content-Length: the client sees a short
	 * body and the connection closes, as with nginx.  Said once, here.
	 */
	if (rc == SEND_SHORT)
		log_warn("'%s' shrank while it was sent: answer cut after %llu "
		    "bytes", c->fentry != NULL ? c->fentry->rel : "a listing",
		    (unsigned long long)c->sent);
	conn_clear_output(c);
	if (rc == SEND_ERROR || rc == SEND_SHORT) {
		close_conn(w, c);
		return AFTER_GONE;
	}
	if (!c->keep_alive) {
		if (more_input || body_pending(c))
			c->linger = true;
		finish_close(w, c);
		return AFTER_GONE;
	}
	/*
	 * A pipelined head waited behind this response without being read:
	 * its header_timeout starts now, not when its first bytes came.
	 */
	c->req_start_ms = event_now_ms();
	return AFTER_CONTINUE;
}

/*
 * Sends the planned response res on c.  input[0..len) is what follows the
 * request in the buffer.  Returns AFTER_CONTINUE when the response is
 * complete and c may serve the next request.
 */
static enum after
send_response(struct worker *w, struct conn *c, struct response *res,
    const char *input, size_t len)
{
	size_t cur = 0;
	uint64_t done = 0;
	enum send_rc rc;

	c->status = res->status;
	c->hdr_len = (uint32_t)res->hdr_len;
	c->sent = 0;
	c->keep_alive = res->keep_alive;
	c->file_fd = res->file_fd;
	c->fentry = res->fentry;
	res->file_fd = -1;
	res->fentry = NULL;

	rc = send_segs(c->fd, c->file_fd, res->segs, res->nsegs, &cur, &done,
	    &c->sent, JOB_MAX_BYTES);
	if (rc == SEND_AGAIN || rc == SEND_YIELD)
		return park(w, c, res->segs, res->nsegs, cur, done, input, len,
		    rc == SEND_YIELD);
	access_end(w, c);
	return response_over(w, c, rc, len > 0);
}

/* Answers a request that could not be parsed, then closes. */
static void
respond_parse_error(struct worker *w, struct conn *c, int status)
{
	struct response res;

	memset(&res, 0, sizeof(res));
	hb_init(&res.hb, w->out, OUT_CAP);
	http_serve_error(status, false, &res);
	c->linger = true;
	c->discard = 0;
	free(c->chunked);
	c->chunked = NULL;
	access_begin(w, c, NULL, status);
	send_response(w, c, &res, NULL, 0);
}

static struct serve_ctx
serve_ctx(struct worker *w)
{
	return (struct serve_ctx){
		.cfg = w->cfg.cfg,
		.cfg_gen = w->cfg.gen,
		.listings = w->srv->listings,
		.draining = atomic_load_explicit(&w->srv->draining,
		    memory_order_relaxed),
		.memory_short = conn_held_total() >=
		    w->cfg.cfg->max_response_memory,
		.path = w->path,
		.path_cap = sizeof(w->path),
		.scratch = w->scratch,
		.scratch_cap = sizeof(w->scratch),
		.now_ms = event_now_ms(),
	};
}

/*
 * The chunked body of the request whose head is w->in[0..head_len): what
 * of it is in the buffer already is decoded now (and dropped: in place),
 * so that a malformed or too large one is answered with 400 or 413 before
 * anything else.  *skip gets the body bytes decoded; a body that goes on
 * past the buffer leaves its decoder in c->chunked.  Returns 0 or the
 * status to answer.
 */
static int
skip_chunked_start(struct worker *w, struct conn *c, size_t head_len,
    size_t len, size_t *skip)
{
	struct chunked *ck = malloc(sizeof(*ck));
	size_t out;
	ssize_t n;
	bool done;

	if (ck == NULL)
		return 503;
	chunked_init(ck, DISCARD_MAX);
	n = chunked_decode(ck, w->in + head_len, len - head_len,
	    w->in + head_len, &out, &done);
	if (n == CHUNKED_ERROR) {
		int st = ck->status;

		free(ck);
		return st;
	}
	*skip = (size_t)n;
	if (done)
		free(ck);
	else
		c->chunked = ck;
	return 0;
}

/*
 * Serves the request parsed from the first head_len bytes of w->in, whose
 * valid length is *len; removes the head (and what is read of a body that
 * is skipped) from the buffer.
 */
static enum after
serve_request(struct worker *w, struct conn *c, size_t head_len, size_t *len)
{
	const struct http_request *req = &w->req;
	struct serve_ctx x = serve_ctx(w);
	struct response res;
	uint64_t body = req->has_content_length ? req->content_length : 0;
	size_t skip = 0;
	int status = 0;

	/* http_serve() sets every field; only the buffer and the wish are in. */
	hb_init(&res.hb, w->out, OUT_CAP);
	res.keep_alive = req->keep_alive;
	/* RFC 9112 §6.3: a body is skipped to find the next request. */
	if (body > DISCARD_MAX)
		status = 413;
	else if (req->chunked)
		status = skip_chunked_start(w, c, head_len, *len, &skip);
	if (status != 0) {
		/* Where the next request starts is unknown: close after. */
		http_serve_error(status, req->method == HTTP_M_HEAD, &res);
		c->linger = true;
		body = 0;
	} else {
		http_serve(&x, req, &res);
	}
	/*
	 * A generated body goes with the connection until it is sent, and
	 * counts against max_response_memory; past it, the client is told
	 * to come back (503) before a byte of it leaves.
	 */
	if (res.body_heap != NULL) {
		if (conn_hold(c, res.body_heap_len, x.cfg->max_response_memory))
			c->body = res.body_heap;
		else {
			free(res.body_heap);
			http_serve_busy(&res);
		}
		res.body_heap = NULL;
	}
	c->looked_again = false;	/* a new request: it may wait again */
	atomic_fetch_add_explicit(&w->srv->requests, 1, memory_order_relaxed);
	c->nrequests++;
	access_begin(w, c, req, res.status);

	/* The spans in req die here. */
	memmove(w->in, w->in + head_len + skip, *len - head_len - skip);
	*len -= head_len + skip;
	c->discard = res.keep_alive ? body : 0;
	if (!res.keep_alive) {
		free(c->chunked);
		c->chunked = NULL;
	}
	return send_response(w, c, &res, w->in, *len);
}

/*
 * Hands c back to epoll to wait for more input, keeping what it sent.
 *
 * One exception.  A keep-alive connection between requests, on a worker
 * that has other jobs queued: the client is likely to send its next
 * request while the worker does those, so the worker keeps it (still its
 * owner) and looks at the socket once more after them (look_again()).
 * When the request is there, it is served without a round trip through
 * epoll_ctl(), the event thread and the queue; when it is not, the
 * connection goes to epoll then.  A worker with nothing else queued
 * hands it back at once, so an idle server behaves as before.
 */
static void
wait_for_input(struct worker *w, struct conn *c, size_t len)
{
	if (conn_stash_input(c, w->in, len) != 0) {
		close_conn(w, c);
		return;
	}
	if (len > 0 || body_pending(c) || c->nrequests == 0) {
		event_arm(w->srv->ev, c, WAIT_HEAD, w->cfg.cfg);
		return;
	}
	if (!c->looked_again && !w->leaving && w->nlater < LATER_MAX &&
	    queue_busy_hint(w->srv->queue)) {
		c->looked_again = true;
		w->later[w->nlater++] = c;
		return;
	}
	event_arm(w->srv->ev, c, WAIT_IDLE, w->cfg.cfg);
}

/* Resumes a parked response.  Returns AFTER_CONTINUE if c may go on. */
static enum after
resume_response(struct worker *w, struct conn *c)
{
	enum send_rc rc = send_parked(c, JOB_MAX_BYTES);

	if (rc == SEND_AGAIN || rc == SEND_YIELD) {
		wait_writable(w, c, rc == SEND_YIELD);
		return AFTER_GONE;
	}
	access_end_parked(w, c);
	return response_over(w, c, rc, c->in_len > 0);
}

/*
 * Drops request-body bytes that are still to be skipped from w->in.
 * False when a chunked body turns out malformed or too large: where the
 * next request starts is unknown, so the connection must end.
 */
static bool
skip_body(struct worker *w, struct conn *c, size_t *len)
{
	size_t n, out;
	bool done;

	if (c->chunked != NULL) {
		ssize_t r = chunked_decode(c->chunked, w->in, *len, w->in, &out,
		    &done);

		if (r == CHUNKED_ERROR)
			return false;
		n = (size_t)r;
		if (done) {
			free(c->chunked);
			c->chunked = NULL;
		}
	} else {
		n = c->discard < *len ? (size_t)c->discard : *len;
		c->discard -= n;
	}
	memmove(w->in, w->in + n, *len - n);
	*len -= n;
	return true;
}

/*
 * After JOB_MAX_REQUESTS in one job, c goes to the back of the queue with
 * its input, so one pipelining client cannot keep the worker.  Returns
 * true when it did (c is gone); false keeps serving (the queue is full).
 */
static bool
yield_worker(struct worker *w, struct conn *c, size_t len)
{
	if (conn_stash_input(c, w->in, len) != 0)
		return false;
	conn_take(c, OWNER_WORKER, OWNER_QUEUE);
	if (queue_push(w->srv->queue, c))
		return true;
	conn_take(c, OWNER_QUEUE, OWNER_WORKER);
	conn_stash_input(c, NULL, 0);
	return false;
}

enum read_rc {
	READ_GOT,	/* more bytes in w->in */
	READ_DRY,	/* nothing more now: epoll will say when */
	READ_CLOSED,	/* EOF or an error: c is closed */
};

/* Reads what the socket has after the len bytes already in w->in. */
static enum read_rc
read_more(struct worker *w, struct conn *c, size_t *len, bool *may_read)
{
	size_t space = w->in_cap - *len;
	ssize_t n;

	do {
		n = recv(c->fd, w->in + *len, space, 0);
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		if (*len == 0 && !body_pending(c))
			c->req_start_ms = event_now_ms();
		*len += (size_t)n;
		/* A short read drained the socket; epoll tells us of more. */
		*may_read = (size_t)n == space;
		return READ_GOT;
	}
	if (n < 0 && errno == EAGAIN) {
		*may_read = false;
		return READ_DRY;
	}
	close_conn(w, c);	/* EOF or a reset: nothing to answer */
	return READ_CLOSED;
}

/*
 * Makes w->in hold at least need bytes.  The buffer only grows: a reload
 * that lowers max_header_size leaves bigger buffers as they are.
 */
static bool
grow_input(struct worker *w, size_t need)
{
	char *p;

	if (need <= w->in_cap)
		return true;
	if ((p = realloc(w->in, need)) == NULL)
		return false;
	w->in = p;
	w->in_cap = need;
	return true;
}

/*
 * Moves the input c kept while it waited into w->in; returns its length,
 * or -1 when there is no room for it (out of memory).  The input may have
 * been stashed by another worker under a larger max_header_size, so the
 * buffer grows to fit it rather than trusting the live configuration.
 */
static ssize_t
unstash_input(struct worker *w, struct conn *c)
{
	size_t len = c->in_len;

	if (len == 0)
		return 0;
	if (!grow_input(w, len))
		return -1;
	memcpy(w->in, c->in, len);
	conn_stash_input(c, NULL, 0);
	return (ssize_t)len;
}

/*
 * Serves c until it would block: resumes a parked response, then parses
 * and answers the requests in its input, reading as needed.
 */
static void
http_job(struct worker *w, struct conn *c)
{
	const struct config *cfg = w->cfg.cfg;
	const struct http_limits lim = {
		.max_head = cfg->max_header_size,
		.max_target = cfg->max_header_size / 2,
	};
	size_t len;
	ssize_t stashed;
	bool may_read = true;
	unsigned served = 0;

	c->outq = 0;	/* the client is talking: it is not stuck draining */
	if (c->wait == WAIT_WRITE) {
		c->wait = WAIT_NONE;
		if (resume_response(w, c) != AFTER_CONTINUE)
			return;
		served++;
		may_read = false;	/* the client was reading, not writing */
	}
	c->wait = WAIT_NONE;
	if ((stashed = unstash_input(w, c)) < 0) {
		log_err("out of memory taking a connection's input; closing it");
		close_conn(w, c);
		return;
	}
	len = (size_t)stashed;
	for (;;) {
		int r = HTTP_PARSE_PARTIAL;

		if (body_pending(c) && len > 0 && !skip_body(w, c, &len)) {
			/* The answer is out; the body after it is broken. */
			c->linger = true;
			finish_close(w, c);
			return;
		}
		if (len > 0 && !body_pending(c))
			r = http_parse_request(w->in, len, &lim, &w->req);
		if (r == HTTP_PARSE_ERROR) {
			respond_parse_error(w, c, w->req.status);
			return;
		}
		if (r > 0) {
			if (served >= JOB_MAX_REQUESTS) {
				if (yield_worker(w, c, len))
					return;
				served = 0;
			}
			if (serve_request(w, c, (size_t)r, &len) != AFTER_CONTINUE)
				return;
			served++;
			continue;
		}
		/* A partial head, or nothing yet. */
		if (!may_read) {
			wait_for_input(w, c, len);
			return;
		}
		if (read_more(w, c, &len, &may_read) == READ_CLOSED)
			return;
	}
}

/* ---- the file transfer ---- */

/* Says why the file cannot be sent: once in a while, not once per client. */
static void
transfer_warn(const struct config *cfg, int status, const char *reason,
    uint64_t size)
{
	static _Atomic uint64_t next_ms;
	static _Atomic int last_status;
	uint64_t now = event_now_ms(), due = atomic_load(&next_ms);

	if (status == atomic_load(&last_status) && now < due)
		return;
	if (!atomic_compare_exchange_strong(&next_ms, &due, now + XFER_WARN_MS))
		return;		/* another worker is saying it */
	atomic_store(&last_status, status);
	if (status == 413)
		log_warn("transfer: cannot send '%s': %s (%llu bytes, max_size "
		    "%u)", cfg->transfer_file, reason, (unsigned long long)size,
		    cfg->transfer_max_size);
	else
		log_warn("transfer: cannot send '%s': %s", cfg->transfer_file,
		    reason);
}

/*
 * Opens the file for this client (a file replaced on disk is what the next
 * client gets), keeps the access-log line in c, and builds the first bytes
 * in w->out: the JSON head, or the whole JSON error.  Returns their length.
 */
static size_t
transfer_begin(struct worker *w, struct conn *c)
{
	const struct config *cfg = w->cfg.cfg;
	struct span name = lab_transfer_name(cfg);
	const char *reason = NULL;
	struct access_entry e = { .request_line = SPAN_LIT("TRANSFER") };
	size_t n = 0;
	int len;

	atomic_fetch_add_explicit(&w->srv->requests, 1, memory_order_relaxed);
	c->status = lab_transfer_open(cfg, &c->file_fd, &c->src_size, &reason);
	c->src_stage = XFER_BODY;
	/* Leave room for the first piece and the tail after the head. */
	if (c->status == 200)
		n = lab_transfer_head(w->out, OUT_CAP -
		    LAB_B64_LEN(LAB_XFER_CHUNK) - 2, name.p, name.len);
	if (c->status == 200 && n == 0) {
		c->status = 500;
		reason = "file name too long";
	}
	if (c->status != 200) {
		transfer_warn(cfg, c->status, reason, c->src_size);
		n = lab_transfer_error(w->out, OUT_CAP, reason);
		c->src_stage = XFER_END;
	}
	len = snprintf(w->scratch, sizeof(w->scratch), "TRANSFER /%s",
	    cfg->transfer_rel != NULL ? cfg->transfer_rel : "");
	if (len > 0 && (size_t)len < sizeof(w->scratch))
		e.request_line = span_make(w->scratch, (size_t)len);
	e.status = c->status;
	access_format(w, c, &e);
	if (w->logline_len > 0) {
		c->log_line = strndup(w->logline, w->logline_len);
		c->log_split = (uint32_t)w->logline_split;
	}
	return n;
}

/*
 * Appends to the o bytes in w->out the next piece of the file: the base64
 * of up to LAB_XFER_CHUNK bytes, and the JSON tail after the last one.
 * Returns the length of the whole, or a negative errno.
 */
static ssize_t
transfer_piece(struct worker *w, struct conn *c, size_t o)
{
	bool last;
	ssize_t n;

	if (c->src_stage != XFER_BODY)
		return (ssize_t)o;
	n = lab_transfer_encode(c->file_fd, &c->src_off, c->src_size, w->in,
	    w->out + o, &last);
	if (n < 0)
		return n;
	o += (size_t)n;
	if (last) {
		memcpy(w->out + o, LAB_TRANSFER_TAIL,
		    sizeof(LAB_TRANSFER_TAIL) - 1);
		o += sizeof(LAB_TRANSFER_TAIL) - 1;
		c->src_stage = XFER_END;
	}
	return (ssize_t)o;
}

/* Builds the piece after the o bytes in w->out, sends it, parks the rest. */
static enum send_rc
transfer_send_piece(struct worker *w, struct conn *c, size_t o,
    uint64_t budget)
{
	struct out_seg seg = { .mem = w->out };
	ssize_t n = transfer_piece(w, c, o);
	size_t cur = 0;
	uint64_t done = 0;
	enum send_rc rc;

	if (n < 0) {
		log_errno(LOG_LVL_WARN, (int)-n, "transfer: cannot read '%s'",
		    w->cfg.cfg->transfer_file);
		return SEND_ERROR;
	}
	seg.len = (uint64_t)n;
	rc = send_segs(c->fd, c->file_fd, &seg, 1, &cur, &done, &c->sent,
	    budget);
	if ((rc == SEND_AGAIN || rc == SEND_YIELD) &&
	    conn_park_output(c, &seg, 1, cur, done, w->out, OUT_CAP,
	    w->cfg.cfg->max_response_memory) != 0) {
		log_warn("transfer: no memory to park a slow client's piece "
		    "(max_response_memory); closing it");
		return SEND_ERROR;
	}
	return rc;
}

/*
 * Serves a transfer connection until the JSON is out (then half-closes, so
 * anything the client sent cannot turn the close into a reset), the socket
 * is full (parked for EPOLLOUT) or the job's byte budget is spent.
 */
static void
transfer_job(struct worker *w, struct conn *c)
{
	uint64_t start = c->sent;
	size_t head = c->src_stage == XFER_NEW ? transfer_begin(w, c) : 0;

	c->wait = WAIT_NONE;
	for (;;) {
		uint64_t used = c->sent - start;
		uint64_t budget = used < JOB_MAX_BYTES ?
		    JOB_MAX_BYTES - used : 0;
		enum send_rc rc;

		if (c->out.segs != NULL) {
			if ((rc = send_parked(c, budget)) == SEND_DONE)
				conn_drop_output(c);
		} else if (head == 0 && c->src_stage == XFER_END) {
			access_end_parked(w, c);
			conn_clear_output(c);
			c->linger = true;
			finish_close(w, c);
			return;
		} else if (budget == 0) {
			rc = SEND_YIELD;
		} else {
			rc = transfer_send_piece(w, c, head, budget);
		}
		head = 0;
		if (rc == SEND_AGAIN || rc == SEND_YIELD) {
			wait_writable(w, c, rc == SEND_YIELD);
			return;
		}
		if (rc == SEND_ERROR) {
			access_end_parked(w, c);
			close_conn(w, c);
			return;
		}
	}
}

static void
serve_job(struct worker *w, struct conn *c)
{
	const struct config *cfg = cfg_cache_get(w->srv, &w->cfg);

	/* A reload may have raised max_header_size. */
	if (atomic_load(&w->srv->stopping) ||
	    !grow_input(w, cfg->max_header_size + IN_SLACK)) {
		if (c->log_line != NULL)
			access_end_parked(w, c);
		close_conn(w, c);
		return;
	}
	switch (c->proto) {
	case PROTO_HTTP:
		http_job(w, c);
		break;
	case PROTO_TRANSFER:
		transfer_job(w, c);
		break;
	case PROTO_PING:
	case PROTO_DAYTIME:
		/* NOTREACHED: the event thread answers these itself. */
		close_conn(w, c);
		break;
	}
}

/* Serves, or hands to epoll, the connections wait_for_input() kept. */
static void
look_again(struct worker *w)
{
	struct conn *v[LATER_MAX];
	size_t n = w->nlater;

	memcpy(v, w->later, n * sizeof(v[0]));
	w->nlater = 0;
	w->jobs_since_later = 0;
	for (size_t i = 0; i < n; i++)
		serve_job(w, v[i]);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct queue *q = w->srv->queue;

	while (!atomic_load(&w->quit)) {
		struct conn *c = queue_try_pop(q);

		if (c == NULL && w->nlater > 0) {
			look_again(w);
			continue;
		}
		if (c == NULL) {
			/* About to sleep: the access log may go out now. */
			log_flush(&w->log);
			atomic_store(&w->busy_since_ms, 0);
			testhook_pause("worker_idle");
			c = queue_pop(q, &w->quit);
			if (c == NULL) {
				if (queue_is_closed(q))
					break;
				continue;	/* asked to leave: see quit */
			}
		}
		atomic_store(&w->busy_since_ms, event_now_ms());
		conn_take(c, OWNER_QUEUE, OWNER_WORKER);
		serve_job(w, c);
		if (w->nlater > 0 && ++w->jobs_since_later >= LATER_JOBS)
			look_again(w);
	}
	w->leaving = true;
	look_again(w);
	atomic_store(&w->busy_since_ms, 0);
	log_flush(&w->log);
	cfg_cache_release(&w->cfg);
	return NULL;
}

static void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	free(w->in);
	free(w->out);
	free(w);
}

static struct worker *
worker_new(struct server *srv)
{
	struct worker *w = calloc(1, sizeof(*w));
	struct config *cfg = server_config(srv);

	if (w == NULL) {
		config_unref(cfg);
		return NULL;
	}
	w->srv = srv;
	w->in_cap = cfg->max_header_size + IN_SLACK;
	w->in = malloc(w->in_cap);
	w->out = malloc(OUT_CAP);
	config_unref(cfg);
	if (w->in == NULL || w->out == NULL) {
		worker_free(w);
		return NULL;
	}
	return w;
}

/* Makes the pool n workers strong by starting more. */
static int
pool_grow(struct server *srv, size_t n)
{
	struct worker **v;

	if (n <= srv->nworkers)
		return 0;
	v = realloc(srv->workers, n * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	srv->workers = v;
	while (srv->nworkers < n) {
		struct worker *w = worker_new(srv);
		int r;

		if (w == NULL)
			return -ENOMEM;
		if ((r = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
			worker_free(w);
			return -r;
		}
		srv->workers[srv->nworkers++] = w;
	}
	return 0;
}

/* Asks the workers past n to leave and waits for them. */
static void
pool_shrink(struct server *srv, size_t n)
{
	if (n >= srv->nworkers)
		return;
	for (size_t i = n; i < srv->nworkers; i++)
		atomic_store(&srv->workers[i]->quit, true);
	queue_kick(srv->queue);
	for (size_t i = n; i < srv->nworkers; i++) {
		pthread_join(srv->workers[i]->thread, NULL);
		worker_free(srv->workers[i]);
		srv->workers[i] = NULL;
	}
	srv->nworkers = n;
}

int
worker_pool_start(struct server *srv, size_t n)
{
	int r = pool_grow(srv, n);

	if (r < 0) {
		queue_close(srv->queue);
		worker_pool_join(srv);
	}
	return r;
}

int
worker_pool_resize(struct server *srv, size_t n)
{
	if (n < srv->nworkers) {
		pool_shrink(srv, n);
		return 0;
	}
	return pool_grow(srv, n);
}

void
worker_pool_join(struct server *srv)
{
	for (size_t i = 0; i < srv->nworkers; i++) {
		pthread_join(srv->workers[i]->thread, NULL);
		worker_free(srv->workers[i]);
	}
	free(srv->workers);
	srv->workers = NULL;
	srv->nworkers = 0;
}

bool
worker_pool_alive(struct server *srv, uint64_t now_ms, uint64_t max_busy_ms)
{
	for (size_t i = 0; i < srv->nworkers; i++) {
		uint64_t since = atomic_load(&srv->workers[i]->busy_since_ms);

		if (since != 0 && now_ms > since && now_ms - since > max_busy_ms)
			return false;
	}
	return true;
}
