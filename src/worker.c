/*
 * worker.c - the worker pool and the life of an HTTP connection.
 *
 * DESIGN: a worker takes new connections from the queue and owns each
 * until it closes.  It keeps them in an epoll set of its own, registered
 * once, edge-triggered, with a min-heap of their deadlines; the set also
 * holds an eventfd the queue writes to when it has a connection for this
 * worker while it sleeps.  So a keep-alive request costs no epoll_ctl(),
 * no queue operation and no wake-up of another thread: the worker's
 * epoll_wait() reports the socket, the worker reads, parses, plans the
 * response (http_serve.c) and sends it (send.c), and the connection waits
 * where it is for its next request.  Then, on a keep-alive connection:
 *   - bytes of the next request already in the buffer: go on (pipelining);
 *   - nothing buffered: wait for input (WAIT_HEAD or WAIT_IDLE);
 *   - the socket filled up mid-response: keep what is unsent in the
 *     connection (c->resp) and wait for room (WAIT_WRITE);
 * so a worker never waits for one client.  A connection that used up its
 * share of a round (JOB_MAX_REQUESTS requests or JOB_MAX_BYTES bytes)
 * goes to the back of the worker's ready list, and the others go first.
 *
 * Edge-triggered means an event says "something changed", once: a
 * connection that stops reading before EAGAIN keeps c->readable set and
 * goes on the ready list, so nothing that arrived is forgotten.
 *
 * Deadlines: each connection has one, for the state it waits in (header,
 * keep-alive, send, linger).  The heap is lazy: a deadline that moves
 * later (every request pushes the keep-alive deadline on) only changes
 * c->deadline_ms, and the heap entry is fixed when it reaches the top; a
 * deadline that moves earlier is sifted up at once.  So a request costs
 * no heap operation.
 *
 * Handing over: a worker that leaves the pool (a reload), one about to
 * start a long job (the uncached listing of a big folder), and one that
 * finds many ready connections while another worker sleeps give
 * connections back to the queue, which other workers take.  A connection
 * handed over leaves this worker's epoll set first; the next one adds it
 * to its own, which reports what is pending, so no event is lost.
 */
#include "worker.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <linux/sockios.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chunked.h"
#include "config.h"
#include "conn.h"
#include "dirwatch.h"
#include "event.h"
#include "fcache.h"
#include "gate.h"
#include "http_parse.h"
#include "http_serve.h"
#include "lab_serve.h"
#include "log.h"
#include "queue.h"
#include "send.h"
#include "server.h"
#include "syncer.h"
#include "testhook.h"
#include "upload.h"

/* Requests served in one round before the connection lets others go. */
#define JOB_MAX_REQUESTS	64
/* Response bytes sent in one round before the connection lets others go. */
#define JOB_MAX_BYTES		(4u << 20)
/*
 * Request bodies the answer does not need are skipped, up to this size;
 * a larger one is answered 413 and the connection closes.
 */
#define DISCARD_MAX		(1u << 20)
/* Room for the response header block plus an inline body. */
#define OUT_CAP			(SERVE_INLINE_MAX + 24 * 1024)
/* Pipelined input beyond one maximal request head. */
#define IN_SLACK		(16 * 1024)
/* Body bytes moved through the worker's pipe by one splice() call. */
#define SPLICE_MAX		(1u << 20)
/*
 * Threads that sync uploads at most: fsyncs in flight at once, which a
 * journaling file system commits together.
 */
#define SYNC_THREADS		64
/* Password checks at once: each takes a core for tens of ms. */
#define AUTH_THREADS		2
/* Events taken from epoll at once. */
#define MAX_EVENTS		256
/* New connections taken from the queue per round. */
#define ADOPT_BATCH		8
/*
 * A worker that finds this many ready connections while another sleeps
 * hands half of them over.
 */
#define SHARE_MIN		16
/* The longest a worker sleeps: it then looks at reloads and the drain. */
#define TICK_MS			1000
/* How long a closing connection may take to stop sending. */
#define LINGER_MS		2000

/* A transfer piece is read into w->in and encoded into w->out. */
static_assert(LAB_XFER_CHUNK <= IN_SLACK, "in holds a transfer piece");
static_assert(LAB_XFER_OUT_MIN <= OUT_CAP, "out holds a transfer piece");

struct worker {
	/* Who the request being served comes from (gate.h). */
	struct gate_who	 who;
	/* The piece a body generator planned last (conn.h struct body_gen). */
	struct out_seg	 gen_segs[CONN_MAX_SEGS];
	struct server	*srv;
	pthread_t	 thread;
	int		 epfd;
	struct queue_waiter waiter;	/* its eventfd, in the epoll set */
	enum ev_kind	 wake_kind;	/* epoll data.ptr for the eventfd */
	atomic_bool	 quit;		/* asked to leave the pool */
	_Atomic uint64_t busy_since_ms;	/* 0 while it sleeps */
	uint64_t	 body_budget;	/* body bytes the running conn may take */
	/*
	 * The clock as the current job began (event_now_ms()): deadlines and
	 * request start times are taken from it, which is exact enough for
	 * timeouts counted in seconds and saves reading the clock four
	 * times a request.
	 */
	uint64_t	 now_ms;
	/*
	 * Freshness (see "Never stale" in docs/architecture.md): whether the
	 * caches were synced since this round's epoll_wait(), and how many
	 * bytes at the front of w->in start requests whose first byte came
	 * before the last sync (or before the epoll_wait(), then synced).
	 */
	bool		 round_synced;
	size_t		 fresh;
	/* Responses started this round, added to srv->requests after it. */
	unsigned long	 served;
	struct cfg_cache cfg;
	bool		 drained;	/* idle connections closed for a drain */

	/* Every connection it owns, by deadline (a lazy min-heap). */
	struct conn	**heap;
	size_t		 heap_len, heap_cap;
	/* Connections with work left and no event to come: FIFO by next. */
	struct conn	*ready_head, *ready_tail;
	struct conn	*running;	/* the rest of the list being run */
	/* The events being handled; a hand-over cuts the rest short. */
	struct epoll_event evs[MAX_EVENTS];
	int		 nevs, evi;

	char		*in;
	size_t		 in_cap;
	char		*out;
	int		 pipe[2];	/* for splice(): socket -> file */
	char		 path[PATH_MAX];
	char		 scratch[3 * PATH_MAX + 16];
	char		 logline[8192];
	size_t		 logline_len;
	size_t		 logline_split;
	struct http_request req;
	struct log_buf	 log;
};

/* What became of the connection after a response. */
enum after {
	AFTER_CONTINUE,	/* the worker still owns it and may go on */
	AFTER_GONE,	/* waiting, handed on or closed */
};

/* ---- the deadline heap (lazy: see the DESIGN note) ---- */

static void
heap_set(struct worker *w, size_t i, struct conn *c)
{
	w->heap[i] = c;
	c->heap_idx = (uint32_t)i;
}

static void
heap_up(struct worker *w, size_t i)
{
	struct conn *c = w->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (w->heap[p]->heap_key <= c->heap_key)
			break;
		heap_set(w, i, w->heap[p]);
		i = p;
	}
	heap_set(w, i, c);
}

static void
heap_down(struct worker *w, size_t i)
{
	struct conn *c = w->heap[i];

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		uint64_t best = c->heap_key;

		if (l < w->heap_len && w->heap[l]->heap_key < best) {
			m = l;
			best = w->heap[l]->heap_key;
		}
		if (r < w->heap_len && w->heap[r]->heap_key < best)
			m = r;
		if (m == i)
			break;
		heap_set(w, i, w->heap[m]);
		i = m;
	}
	heap_set(w, i, c);
}

static int
heap_add(struct worker *w, struct conn *c)
{
	if (w->heap_len == w->heap_cap) {
		size_t ncap = w->heap_cap ? w->heap_cap * 2 : 256;
		struct conn **nh = realloc(w->heap, ncap * sizeof(*nh));

		if (nh == NULL)
			return -ENOMEM;
		w->heap = nh;
		w->heap_cap = ncap;
	}
	c->heap_key = c->deadline_ms;
	heap_set(w, w->heap_len++, c);
	heap_up(w, w->heap_len - 1);
	return 0;
}

static void
heap_del(struct worker *w, struct conn *c)
{
	size_t i = c->heap_idx;
	struct conn *last;

	assert(i < w->heap_len && w->heap[i] == c);
	c->heap_idx = UINT32_MAX;
	last = w->heap[--w->heap_len];
	if (i == w->heap_len)
		return;
	heap_set(w, i, last);
	if (i > 0 && w->heap[(i - 1) / 2]->heap_key > last->heap_key)
		heap_up(w, i);
	else
		heap_down(w, i);
}

/* Moves c's deadline; only a move to earlier touches the heap. */
static void
set_deadline(struct worker *w, struct conn *c, uint64_t deadline)
{
	c->deadline_ms = deadline;
	if (deadline < c->heap_key) {
		c->heap_key = deadline;
		heap_up(w, c->heap_idx);
	}
}

/* ---- owning, closing, waiting ---- */

static bool
body_pending(const struct conn *c)
{
	return c->discard > 0 || c->chunked != NULL || c->upload != NULL;
}

/* c leaves this worker: out of the heap and the epoll set. */
static void
disown(struct worker *w, struct conn *c)
{
	heap_del(w, c);
	if (c->registered) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		c->registered = false;
	}
}

static void
close_conn(struct worker *w, struct conn *c)
{
	assert(!c->ready);
	heap_del(w, c);
	/* Closing the socket takes it out of the epoll set. */
	conn_free(c);
	event_conn_closed(w->srv->ev);
}

/*
 * Appends c to the ready list: it has work left and no event will say so.
 * Its wait stays (WAIT_NONE, or WAIT_LINGER for one still draining).
 */
static void
ready_append(struct worker *w, struct conn *c)
{
	if (c->ready)
		return;
	c->ready = true;
	c->next = NULL;
	if (w->ready_tail != NULL)
		w->ready_tail->next = c;
	else
		w->ready_head = c;
	w->ready_tail = c;
}

/* c has work left: it runs again this round, after the others. */
static void
make_ready(struct worker *w, struct conn *c)
{
	c->wait = WAIT_NONE;
	ready_append(w, c);
}

static uint64_t
deadline_for(const struct config *cfg, const struct conn *c,
    enum conn_wait wait, uint64_t now)
{
	switch (wait) {
	case WAIT_HEAD:
		/* Still draining a response (see answer_unread()): a download. */
		if (c->outq != 0)
			return now + cfg->send_timeout_ms;
		return c->req_start_ms + cfg->header_timeout_ms;
	case WAIT_IDLE:
		return now + (c->outq != 0 ? cfg->send_timeout_ms :
		    cfg->keepalive_timeout_ms);
	case WAIT_WRITE:
		return now + cfg->send_timeout_ms;
	case WAIT_BODY:
		return now + cfg->upload_body_timeout_ms;
	case WAIT_LINGER:
		/* Waiting to linger again keeps the first deadline. */
		return c->wait == WAIT_LINGER ? c->deadline_ms : now + LINGER_MS;
	case WAIT_NONE:
		break;
	}
	return now + TICK_MS;
}

/*
 * c waits for wait in this worker's epoll set, which it joins the first
 * time (edge-triggered, for both directions: it never changes again).
 * Returns false after closing c when it cannot be watched.
 */
static bool
wait_in_set(struct worker *w, struct conn *c, enum conn_wait wait)
{
	uint64_t deadline = deadline_for(w->cfg.cfg, c, wait, w->now_ms);

	if (!c->registered) {
		struct epoll_event ee = {
			.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
			.data.ptr = c,
		};

		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ee) < 0) {
			log_errno(LOG_LVL_WARN, errno, "cannot watch a "
			    "connection; closing it");
			close_conn(w, c);
			return false;
		}
		c->registered = true;
	}
	c->wait = wait;
	set_deadline(w, c, deadline);
	return true;
}

static void	linger_read(struct worker *, struct conn *);

/*
 * The final response is out.  A half-close and a short drain (lingering
 * close, RFC 9112 §9.6) keep a client that is still sending from getting
 * a reset that would destroy the response before it reads it.
 */
static void
finish_close(struct worker *w, struct conn *c)
{
	if (c->linger && shutdown(c->fd, SHUT_WR) == 0) {
		/* What already came is dropped now; the rest as it comes. */
		if (wait_in_set(w, c, WAIT_LINGER) && c->readable)
			linger_read(w, c);
		return;
	}
	close_conn(w, c);
}

/* ---- the access log ---- */

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

/* Formats the access-log line of the response now starting. */
static void
access_begin(struct worker *w, const struct conn *c,
    const struct http_request *req, int status)
{
	struct access_entry e = { .status = status };

	if (!log_access_enabled()) {
		w->logline_len = 0;
		return;
	}
	if (req != NULL) {
		e.request_line = request_line(req);
		e.referer = req->hdr[HDR_REFERER];
		e.user_agent = req->hdr[HDR_USER_AGENT];
	}
	w->logline_len = conn_access_line(c, &e, w->logline,
	    sizeof(w->logline), &w->logline_split);
}

static uint64_t
body_bytes(const struct conn_resp *r)
{
	return r->sent > r->hdr_len ? r->sent - r->hdr_len : 0;
}

/* The response was sent (or cut) at once: its line is the worker's. */
static void
access_end(struct worker *w, const struct conn_resp *r)
{
	if (w->logline_len > 0)
		log_access_split(&w->log, w->logline, w->logline_len,
		    w->logline_split, body_bytes(r));
}

/* A parked response ended: its line was saved with it. */
static void
access_end_parked(struct worker *w, const struct conn_resp *r)
{
	if (r->log_line != NULL)
		log_access_split(&w->log, r->log_line, strlen(r->log_line),
		    r->log_split, body_bytes(r));
}

/* ---- responses ---- */

/*
 * The response in flight is over: sent, or failed.  A file that shrank
 * under sendfile() ends it short (the client sees fewer bytes than
 * Content-Length, as with nginx) and the log says so, once, here.
 * Closes c, or lingers when request bytes follow (more_input or a body
 * still to skip), or keeps it for the next request.  Returns
 * AFTER_CONTINUE when c may serve that request.
 */
static enum after
response_over(struct worker *w, struct conn *c, const struct conn_resp *r,
    enum send_rc rc, bool more_input)
{
	if (rc == SEND_SHORT && r->gen.next != NULL)
		log_warn("a file of an archive changed while it was sent: "
		    "answer cut after %llu bytes", (unsigned long long)r->sent);
	else if (rc == SEND_SHORT)
		log_warn("'%s' shrank while it was sent: answer cut after %llu "
		    "bytes", r->fentry != NULL ? r->fentry->rel : "a listing",
		    (unsigned long long)r->sent);
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
	c->req_start_ms = w->now_ms;
	return AFTER_CONTINUE;
}

/*
 * Keeps the unsent rest of r's response in c (copying only what lay in the
 * worker's buffers) and waits for room, or goes to the back of the ready
 * list when it only used up its share (yield).  input[0..len) is
 * pipelined input that must survive the wait.
 */
static enum after
park(struct worker *w, struct conn *c, struct conn_resp *r,
    const struct out_seg *segs, size_t n, size_t cur, uint64_t done,
    const char *input, size_t len, bool yield)
{
	int e = -ENOMEM;

	if ((c->resp = malloc(sizeof(*c->resp))) != NULL) {
		*c->resp = *r;
		memset(&c->resp->out, 0, sizeof(c->resp->out));
		e = conn_park_output(c->resp, segs, n, cur, done, w->out,
		    OUT_CAP, w->cfg.cfg->max_response_memory);
	} else {
		conn_resp_release(r);
	}
	if (e == 0)
		e = conn_stash_input(c, input, len);
	if (e != 0) {
		/* A client that does not read, when memory is short: cut. */
		if (e == -ENOBUFS)
			log_debug("max_response_memory reached: closing a "
			    "connection that does not read");
		else
			log_err("out of memory parking a response; closing the "
			    "connection");
		access_end(w, r);
		close_conn(w, c);
		return AFTER_GONE;
	}
	if (w->logline_len > 0 &&
	    (c->resp->log_line = strndup(w->logline, w->logline_len)) != NULL)
		c->resp->log_split = (uint32_t)w->logline_split;
	if (yield)
		make_ready(w, c);
	else
		wait_in_set(w, c, WAIT_WRITE);
	return AFTER_GONE;
}

/*
 * Once what was planned is sent, the generator of r's body plans piece
 * after piece into w->gen_segs and they are sent, until the body ends
 * (SEND_DONE, the generator freed), the socket is full (SEND_AGAIN) or
 * the job's share is spent (SEND_YIELD; a piece may be planned but not
 * sent yet): *n, *cur and *done then say what of w->gen_segs is left.
 * A generator that cannot go on cuts the response (SEND_SHORT).
 */
static enum send_rc
send_generated(struct worker *w, struct conn *c, struct conn_resp *r,
    size_t *n, size_t *cur, uint64_t *done)
{
	uint64_t start = r->sent;
	enum send_rc rc;
	int k, fd = -1;

	for (;;) {
		if ((k = r->gen.next(r->gen.arg, w->gen_segs, CONN_MAX_SEGS,
		    &fd)) < 0)
			return SEND_SHORT;
		if (k == 0) {
			r->gen.done(r->gen.arg);
			r->gen.next = NULL;
			r->file_fd = -1;
			return SEND_DONE;
		}
		r->file_fd = fd;
		*n = (size_t)k;
		*cur = 0;
		*done = 0;
		if (r->sent - start >= JOB_MAX_BYTES)
			return SEND_YIELD;
		rc = send_segs(c->fd, fd, w->gen_segs, *n, cur, done, &r->sent,
		    JOB_MAX_BYTES - (r->sent - start));
		if (rc != SEND_DONE)
			return rc;
	}
}

/*
 * Sends the planned response res on c; r (on the caller's stack) holds
 * what the response owns, and takes res's file and entry.  input[0..len)
 * is what follows the request in the buffer.  Returns AFTER_CONTINUE when
 * the response is complete and c may serve the next request.
 */
static enum after
send_response(struct worker *w, struct conn *c, struct response *res,
    struct conn_resp *r, const char *input, size_t len)
{
	size_t cur = 0;
	uint64_t done = 0;
	enum send_rc rc;
	enum after a;

	const struct out_seg *segs = res->segs;
	size_t n = res->nsegs;

	r->status = res->status;
	r->hdr_len = (uint32_t)res->hdr_len;
	r->sent = 0;
	r->file_fd = res->file_fd;
	r->fentry = res->fentry;
	r->gen = res->gen;
	res->file_fd = -1;
	res->fentry = NULL;
	res->gen.next = NULL;
	c->keep_alive = res->keep_alive;

	rc = send_segs(c->fd, r->file_fd, segs, n, &cur, &done, &r->sent,
	    JOB_MAX_BYTES);
	if (rc == SEND_DONE && r->gen.next != NULL) {
		rc = send_generated(w, c, r, &n, &cur, &done);
		segs = w->gen_segs;
	}
	if (rc == SEND_AGAIN || rc == SEND_YIELD)
		return park(w, c, r, segs, n, cur, done, input, len,
		    rc == SEND_YIELD);
	access_end(w, r);
	a = response_over(w, c, r, rc, len > 0);
	conn_resp_release(r);
	return a;
}

/* Resumes a parked response.  Returns AFTER_CONTINUE if c may go on. */
static enum after
resume_response(struct worker *w, struct conn *c)
{
	enum send_rc rc = send_parked(c->fd, c->resp, JOB_MAX_BYTES);
	size_t n = 0, cur = 0;
	uint64_t done = 0;
	enum after a;

	if (rc == SEND_DONE && c->resp->gen.next != NULL) {
		rc = send_generated(w, c, c->resp, &n, &cur, &done);
		/* The next piece waits in the connection, as the first did. */
		if ((rc == SEND_AGAIN || rc == SEND_YIELD) &&
		    conn_park_output(c->resp, w->gen_segs, n, cur, done, NULL,
		    0, w->cfg.cfg->max_response_memory) != 0)
			rc = SEND_ERROR;
	}
	if (rc == SEND_AGAIN) {
		wait_in_set(w, c, WAIT_WRITE);
		return AFTER_GONE;
	}
	if (rc == SEND_YIELD) {
		make_ready(w, c);
		return AFTER_GONE;
	}
	access_end_parked(w, c->resp);
	a = response_over(w, c, c->resp, rc, c->in_len > 0);
	if (a == AFTER_CONTINUE)
		conn_clear_output(c);
	return a;
}

/* Answers a request that could not be parsed, then closes. */
static void
respond_parse_error(struct worker *w, struct conn *c, int status)
{
	struct conn_resp r = { .file_fd = -1 };
	struct response res;

	memset(&res, 0, sizeof(res));
	hb_init(&res.hb, w->out, OUT_CAP);
	res.gen.next = NULL;
	http_serve_error(status, false, &res);
	c->linger = true;
	c->discard = 0;
	free(c->chunked);
	c->chunked = NULL;
	access_begin(w, c, NULL, status);
	send_response(w, c, &res, &r, NULL, 0);
}

/*
 * Before a job that may take long (the uncached listing of a big folder),
 * the worker hands every other connection it owns to the queue, so that
 * idle workers serve them meanwhile instead of their waiting for it.
 */
static void hand_over_all_but(struct worker *, struct conn *);

struct long_job {
	struct worker	*w;
	struct conn	*c;
};

static void
before_long_job(void *arg)
{
	struct long_job *lj = arg;

	hand_over_all_but(lj->w, lj->c);
}

static struct serve_ctx
serve_ctx(struct worker *w, struct long_job *lj)
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
		.now_ms = w->now_ms,
		.user = w->who.user[0] != '\0' ? w->who.user : NULL,
		.who = &w->who,
		.sessions = w->srv->sessions,
		.long_job = before_long_job,
		.long_job_arg = lj,
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
 * Plans the answer to the request in w->req (its head is w->in[0..
 * head_len) of len bytes) into res; a generated body goes to r.
 * *skip gets the body bytes it consumed, *body what is left to skip.
 */
static void
plan_request(struct worker *w, struct conn *c, size_t head_len, size_t len,
    struct response *res, struct conn_resp *r, size_t *skip, uint64_t *body)
{
	const struct http_request *req = &w->req;
	struct long_job lj = { w, c };
	struct serve_ctx x = serve_ctx(w, &lj);
	int status = 0;

	*body = req->has_content_length ? req->content_length : 0;
	/* http_serve() sets every field; only the buffer and the wish are in. */
	hb_init(&res->hb, w->out, OUT_CAP);
	res->gen.next = NULL;
	res->keep_alive = req->keep_alive;
	/* The error path below answers before http_serve() could set it. */
	res->http10 = req->version_minor == 0;
	/* RFC 9112 §6.3: a body is skipped to find the next request. */
	if (*body > DISCARD_MAX)
		status = 413;
	else if (req->chunked)
		status = skip_chunked_start(w, c, head_len, len, skip);
	if (status != 0) {
		/* Where the next request starts is unknown: close after. */
		http_serve_error(status, req->method == HTTP_M_HEAD, res);
		c->linger = true;
		*body = 0;
	} else {
		http_serve(&x, req, res);
	}
	/*
	 * A generated body goes with the response until it is sent, and
	 * counts against max_response_memory; past it, the client is told
	 * to come back (503) before a byte of it leaves.
	 */
	if (res->body_heap != NULL) {
		if (conn_hold(r, res->body_heap_len,
		    x.cfg->max_response_memory))
			r->body = res->body_heap;
		else {
			free(res->body_heap);
			http_serve_busy(res);
		}
		res->body_heap = NULL;
	}
}

/* w->in lost its first n bytes. */
static void
consumed(struct worker *w, size_t n)
{
	w->fresh = w->fresh > n ? w->fresh - n : 0;
}

/*
 * Before the request at the front of w->in (len bytes buffered) is
 * served: every change that completed before its first byte arrived must
 * have reached the caches.  A request that woke its connection in this
 * round's epoll_wait() arrived before that call returned, so one sync
 * after it covers them all; any other (pipelined, or read later) is
 * covered by a sync of its own, which covers whatever is buffered too.
 */
static void
sync_caches(struct worker *w, size_t len)
{
	if (w->fresh > 0 && w->round_synced)
		return;
	dirwatch_sync(w->srv->dirwatch);
	w->round_synced = true;
	if (w->fresh == 0)
		w->fresh = len;
}

static bool	serve_upload(struct worker *, struct conn *, size_t, size_t *,
		    enum after *);
static bool	serve_health(struct worker *, struct conn *, size_t, size_t *,
		    enum after *);
static bool	serve_gate(struct worker *, struct conn *, size_t, size_t *,
		    enum after *);

/*
 * Serves the request parsed from the first head_len bytes of w->in, whose
 * valid length is *len; removes the head (and what is read of a body that
 * is skipped) from the buffer.
 */
static enum after
serve_request(struct worker *w, struct conn *c, size_t head_len, size_t *len)
{
	struct conn_resp r = { .file_fd = -1 };
	struct response res;
	size_t skip = 0;
	uint64_t body;

	sync_caches(w, *len);
	{
		enum after a;

		if (serve_health(w, c, head_len, len, &a))
			return a;
	}
	w->who.user[0] = '\0';
	w->who.session = false;
	w->who.grant.kind = 0;
	if (gate_on(w->cfg.cfg)) {
		enum after a;

		if (serve_gate(w, c, head_len, len, &a))
			return a;
	}
	if (w->cfg.cfg->upload_enable || w->cfg.cfg->webdav_enable) {
		enum after a;

		if (serve_upload(w, c, head_len, len, &a))
			return a;
	}
	plan_request(w, c, head_len, *len, &res, &r, &skip, &body);
	w->served++;
	c->nrequests++;
	access_begin(w, c, &w->req, res.status);

	/* The spans in w->req die here. */
	memmove(w->in, w->in + head_len + skip, *len - head_len - skip);
	*len -= head_len + skip;
	consumed(w, head_len + skip);
	c->discard = res.keep_alive ? body : 0;
	if (!res.keep_alive) {
		free(c->chunked);
		c->chunked = NULL;
	}
	return send_response(w, c, &res, &r, w->in, *len);
}

/* ---- input ---- */

/*
 * c waits for more input, keeping what it has: a partial head (or a body
 * being skipped) waits with header_timeout, a connection between requests
 * with keepalive_timeout.  While the server drains, an idle one closes.
 */
static void
wait_for_input(struct worker *w, struct conn *c, size_t len)
{
	bool idle = len == 0 && !body_pending(c) && c->nrequests > 0;

	if (idle && atomic_load_explicit(&w->srv->draining,
	    memory_order_relaxed)) {
		close_conn(w, c);
		return;
	}
	if (conn_stash_input(c, w->in, len) != 0) {
		close_conn(w, c);
		return;
	}
	wait_in_set(w, c, idle ? WAIT_IDLE : WAIT_HEAD);
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
	consumed(w, n);
	return true;
}

enum read_rc {
	READ_GOT,	/* more bytes in w->in */
	READ_DRY,	/* nothing more now: an event will say when */
	READ_CLOSED,	/* EOF or an error: c is closed */
};

/* Reads what the socket has after the len bytes already in w->in. */
static enum read_rc
read_more(struct worker *w, struct conn *c, size_t *len)
{
	size_t space = w->in_cap - *len;
	ssize_t n;

	do {
		n = recv(c->fd, w->in + *len, space, 0);
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		if (*len == 0 && !body_pending(c))
			c->req_start_ms = w->now_ms;
		*len += (size_t)n;
		/*
		 * A short read emptied the socket: the next bytes to arrive
		 * are a new edge.
		 */
		c->readable = (size_t)n == space;
		return READ_GOT;
	}
	if (n < 0 && errno == EAGAIN) {
		c->readable = false;
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

/* ---- request bodies received into files (upload.h) ---- */

/*
 * The upload of c is over (its body is in, or it failed): the file gets
 * its name or goes, and the answer is sent.  input[0..len) of w->in
 * follows the body.  Returns AFTER_CONTINUE when c may go on.
 */
static enum after
finish_upload(struct worker *w, struct conn *c, size_t len)
{
	struct upload *u = c->upload;
	struct long_job lj = { w, c };
	struct serve_ctx x = serve_ctx(w, &lj);
	struct conn_resp r = { .file_fd = -1 };
	struct access_entry e = { 0 };
	struct response res;

	hb_init(&res.hb, w->out, OUT_CAP);
	res.gen.next = NULL;
	res.keep_alive = c->keep_alive;
	e.status = upload_finish(u, &x, &res);
	upload_log_entry(u, &e);
	w->logline_len = conn_access_line(c, &e, w->logline,
	    sizeof(w->logline), &w->logline_split);
	c->upload = NULL;
	upload_free(u);
	if (!res.keep_alive)
		c->linger = true;
	return send_response(w, c, &res, &r, w->in, len);
}

/* Events for c later in the batch being handled: c is no longer ours. */
static void
forget_events(struct worker *w, const struct conn *c)
{
	for (int i = w->evi + 1; i < w->nevs; i++)
		if (w->evs[i].data.ptr == c)
			w->evs[i].data.ptr = NULL;
}

/*
 * Gives c, with its input w->in[0..len), to the threads of sy: they
 * hand it back through the queue.  False when the input could not be
 * kept (c is still ours).
 */
static bool
hand_to_syncer(struct worker *w, struct conn *c, size_t len, struct syncer *sy)
{
	if (conn_stash_input(c, w->in, len) != 0)
		return false;
	forget_events(w, c);
	disown(w, c);
	c->wait = WAIT_NONE;
	conn_take(c, OWNER_WORKER, OWNER_SYNC);
	syncer_submit(sy, &c->sync);
	return true;
}

/*
 * The body of c is in, and its file's fsyncs are the slow part of the
 * answer: the syncer does them while this worker serves the others, then
 * hands c to the queue, where a worker answers it (commit_done()).  The
 * input after the body goes with c.  False when c is to be finished here.
 */
static bool
commit_elsewhere(struct worker *w, struct conn *c, size_t len)
{
	return upload_wants_commit(c->upload) &&
	    hand_to_syncer(w, c, len, w->srv->syncer);
}

/* On a sync thread: the slow part of c's upload. */
static void
commit_work(struct sync_node *n, void *arg)
{
	struct conn *c = (struct conn *)((char *)n - offsetof(struct conn,
	    sync));

	(void)arg;
	upload_commit(c->upload);
}

/* c's upload is committed: a worker takes c from the queue and answers. */
static void
commit_done(struct sync_node *n, void *arg)
{
	struct conn *c = (struct conn *)((char *)n - offsetof(struct conn,
	    sync));
	struct server *srv = arg;

	conn_take(c, OWNER_SYNC, OWNER_QUEUE);
	if (!queue_hand_over(srv->queue, (void *const *)&c, 1)) {
		log_err("out of memory handing a connection back; closing it");
		conn_take(c, OWNER_QUEUE, OWNER_WORKER);
		c->heap_idx = UINT32_MAX;
		conn_free(c);
		event_conn_closed(srv->ev);
	}
}

/*
 * The credentials of c's request must be checked, which is slow: a pool
 * thread does it (gate_verify()) while this worker serves the others,
 * then hands c to the queue, where a worker parses the same request
 * again and finds the answer.  The whole input, head included, goes
 * with c.  False when c could not be handed on.
 */
static bool
verify_elsewhere(struct worker *w, struct conn *c, size_t len)
{
	return hand_to_syncer(w, c, len, w->srv->auth_syncer);
}

/* On a pool thread: the check of c's credentials. */
static void
verify_work(struct sync_node *n, void *arg)
{
	struct conn *c = (struct conn *)((char *)n - offsetof(struct conn,
	    sync));
	struct server *srv = arg;
	struct config *cfg = server_config(srv);
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	gate_verify(srv->auth, cfg, atomic_load(&srv->cfg_gen), c->in,
	    c->in_len, &c->peer, (uint64_t)ts.tv_sec * 1000 +
	    (uint64_t)ts.tv_nsec / 1000000);
	config_unref(cfg);
}

/* The worker's pipe for splice(), made at first use; false if none. */
static bool
splice_pipe(struct worker *w)
{
	if (w->pipe[0] >= 0)
		return true;
	if (pipe2(w->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		w->pipe[0] = w->pipe[1] = -1;
		return false;
	}
	/* A bigger pipe moves more per call; the default works too. */
	(void)fcntl(w->pipe[1], F_SETPIPE_SZ, (int)SPLICE_MAX);
	return true;
}

/* A failed splice may leave bytes in the pipe: a new one next time. */
static void
splice_reset(struct worker *w)
{
	close(w->pipe[0]);
	close(w->pipe[1]);
	w->pipe[0] = w->pipe[1] = -1;
}

enum body_rc {
	BODY_MORE,	/* bytes moved: go on */
	BODY_DRY,	/* the socket is empty */
	BODY_END,	/* the upload failed: answer and close */
};

/*
 * Reads body bytes into w->in after its *len bytes: > 0 read, -1 the
 * socket is empty, -2 the client closed or the socket failed.
 */
static ssize_t
recv_body(struct worker *w, struct conn *c, size_t *len)
{
	size_t space = w->in_cap - *len;
	ssize_t n;

	do {
		n = recv(c->fd, w->in + *len, space, 0);
	} while (n < 0 && errno == EINTR);
	/*
	 * c stays readable until EAGAIN: a client that sent its last bytes
	 * and its FIN together makes no further edge, and a short read
	 * cannot tell the two apart.
	 */
	if (n > 0) {
		*len += (size_t)n;
		return n;
	}
	return n < 0 && errno == EAGAIN ? -1 : -2;
}

/* Moves what the socket has of c's body into the file (or w->in). */
static enum body_rc
pull_body(struct worker *w, struct conn *c, size_t *len, uint64_t *budget)
{
	ssize_t n = 0;

	if (w->cfg.cfg->upload_splice && splice_pipe(w)) {
		n = upload_splice(c->upload, c->fd, w->pipe, SPLICE_MAX);
		if (n == -3) {
			splice_reset(w);
			return BODY_END;
		}
	}
	if (n == 0)
		n = recv_body(w, c, len);
	if (n == -1) {
		c->readable = false;
		return BODY_DRY;
	}
	if (n == -2) {
		upload_fail(c->upload, 400, "the client closed the "
		    "connection before the end of the body");
		return BODY_END;
	}
	*budget = (uint64_t)n < *budget ? *budget - (uint64_t)n : 0;
	return BODY_MORE;
}

/*
 * Receives c's body: what w->in[0..*len) holds first, then the socket,
 * until it is complete, the socket is empty (c waits), or this round's
 * share is used (c goes to the ready list).  The share counts every body
 * c sends in the round: a client PUTting one file after another lets the
 * others go as one sending a big file does.
 */
static enum after
receive_body(struct worker *w, struct conn *c, size_t *len)
{
	uint64_t *budget = &w->body_budget;

	for (;;) {
		if (*len > 0) {
			ssize_t n = upload_take(c->upload, w->in, *len);

			if (n > 0) {
				memmove(w->in, w->in + n, *len - (size_t)n);
				*len -= (size_t)n;
				consumed(w, (size_t)n);
			}
		}
		if (upload_complete(c->upload)) {
			if (commit_elsewhere(w, c, *len))
				return AFTER_GONE;
			return finish_upload(w, c, *len);
		}
		if (!c->readable) {
			wait_in_set(w, c, WAIT_BODY);
			return AFTER_GONE;
		}
		if (*budget == 0) {
			make_ready(w, c);
			return AFTER_GONE;
		}
		switch (pull_body(w, c, len, budget)) {
		case BODY_END:
			return finish_upload(w, c, *len);
		case BODY_DRY:
		case BODY_MORE:
			break;
		}
	}
}

/*
 * Sends res, an answer planned here whole (no body to read, no file), to
 * the request whose head is w->in[0..head_len): the head leaves the
 * buffer, what follows it stays.
 */
static enum after
answer_small(struct worker *w, struct conn *c, size_t head_len, size_t *len,
    struct response *res)
{
	struct conn_resp r = { .file_fd = -1 };

	w->served++;
	c->nrequests++;
	access_begin(w, c, &w->req, res->status);
	if (!res->keep_alive)
		c->linger = true;
	memmove(w->in, w->in + head_len, *len - head_len);
	*len -= head_len;
	consumed(w, head_len);
	return send_response(w, c, res, &r, w->in, *len);
}

/*
 * GET /.well-known/lanhttpd/health, for load balancers (no credentials
 * asked): 200 while serving, 503 from the moment a stop begins, the
 * queue's depth in X-Queue-Depth.  Returns false when req is not one.
 */
static bool
serve_health(struct worker *w, struct conn *c, size_t head_len, size_t *len,
    enum after *a)
{
	static const char path[] = GATE_PREFIX "health";
	const struct http_request *req = &w->req;
	bool stopping = atomic_load_explicit(&w->srv->draining,
	    memory_order_relaxed);
	size_t depth = queue_len(w->srv->queue);
	char extra[64], body[128];
	struct response res;
	int n;

	if (req->path.len != sizeof(path) - 1 ||
	    memcmp(req->path.p, path, req->path.len) != 0)
		return false;
	hb_init(&res.hb, w->out, OUT_CAP);
	res.gen.next = NULL;
	res.keep_alive = req->keep_alive && !stopping && !req->chunked &&
	    !(req->has_content_length && req->content_length > 0);
	res.head = req->method == HTTP_M_HEAD;
	res.http10 = req->version_minor == 0;
	res.file_fd = -1;
	res.fentry = NULL;
	res.body_heap = NULL;
	if (req->method != HTTP_M_GET && req->method != HTTP_M_HEAD) {
		http_serve_status(&res, 405, "Allow: GET, HEAD\r\n");
	} else {
		snprintf(extra, sizeof(extra), "X-Queue-Depth: %zu\r\n", depth);
		n = snprintf(body, sizeof(body), "{\"status\":\"%s\","
		    "\"queue\":%zu,\"connections\":%u}\n", stopping ?
		    "stopping" : "serving", depth, conn_open_count());
		http_serve_page(&res, stopping ? 503 : 200, "application/json",
		    extra, body, (size_t)n);
	}
	*a = answer_small(w, c, head_len, len, &res);
	return true;
}

/*
 * [auth] and [access] (gate.h): a request that may go on is not touched;
 * a refusal is answered here; credentials not yet known send c to the
 * pool that checks them.  Returns false when the request goes on; else
 * *a.
 */
static bool
serve_gate(struct worker *w, struct conn *c, size_t head_len, size_t *len,
    enum after *a)
{
	struct long_job lj = { w, c };
	struct serve_ctx x = serve_ctx(w, &lj);
	struct response res;

	hb_init(&res.hb, w->out, OUT_CAP);
	res.gen.next = NULL;
	res.keep_alive = w->req.keep_alive && !x.draining;
	res.head = w->req.method == HTTP_M_HEAD;
	res.http10 = w->req.version_minor == 0;
	switch (gate_request(&x, w->srv->auth, &w->req, &c->peer, &res,
	    &w->who)) {
	case GATE_PASS:
		return false;
	case GATE_CHECK:
		if (verify_elsewhere(w, c, *len)) {
			*a = AFTER_GONE;
			return true;
		}
		res.keep_alive = false;
		http_serve_busy(&res);
		break;
	case GATE_ANSWER:
		break;
	}
	*a = answer_small(w, c, head_len, len, &res);
	return true;
}

/*
 * A write [upload] takes (upload_plan()): answered at once, or its body
 * received into a file.  Returns false when it is not one; else *a.
 */
static bool
serve_upload(struct worker *w, struct conn *c, size_t head_len, size_t *len,
    enum after *a)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	const struct http_request *req = &w->req;
	struct long_job lj = { w, c };
	struct serve_ctx x = serve_ctx(w, &lj);
	struct conn_resp r = { .file_fd = -1 };
	struct response res;

	hb_init(&res.hb, w->out, OUT_CAP);
	res.gen.next = NULL;
	res.keep_alive = req->keep_alive;
	switch (upload_plan(&x, req, &res, &c->upload)) {
	case UP_PASS:
		return false;
	case UP_ANSWERED:
		w->served++;
		c->nrequests++;
		access_begin(w, c, req, res.status);
		/* The body, if any, is not read: the connection ends. */
		if (!res.keep_alive)
			c->linger = true;
		memmove(w->in, w->in + head_len, *len - head_len);
		*len -= head_len;
		consumed(w, head_len);
		*a = send_response(w, c, &res, &r, w->in, *len);
		return true;
	case UP_BODY:
		break;
	}
	w->served++;
	c->nrequests++;
	c->keep_alive = res.keep_alive;
	(void)upload_keep_log(c->upload, req);
	/* The spans in w->req die here. */
	memmove(w->in, w->in + head_len, *len - head_len);
	*len -= head_len;
	consumed(w, head_len);
	if (upload_wants_continue(c->upload) && *len == 0 &&
	    send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL | MSG_DONTWAIT)
	    != (ssize_t)sizeof(cont) - 1) {
		upload_fail(c->upload, 400, "cannot send 100 Continue");
		c->keep_alive = false;
		*a = finish_upload(w, c, *len);
		return true;
	}
	*a = receive_body(w, c, len);
	return true;
}

/*
 * Request body bytes come before the next request: an upload's, or one
 * being skipped.  False when c is no longer this loop's (waiting, on the
 * ready list, or closed).
 */
static bool
body_first(struct worker *w, struct conn *c, size_t *len)
{
	if (c->upload != NULL)
		return receive_body(w, c, len) == AFTER_CONTINUE;
	if (*len > 0 && !skip_body(w, c, len)) {
		/* The answer is out; the body after it is broken. */
		c->linger = true;
		finish_close(w, c);
		return false;
	}
	return true;
}

/*
 * Serves the requests in w->in[0..*len) and what the socket has, until
 * c would block or is gone.  Returns with c waiting, ready, or closed.
 */
static void
serve_input(struct worker *w, struct conn *c, size_t len)
{
	const struct config *cfg = w->cfg.cfg;
	const struct http_limits lim = {
		.max_head = cfg->max_header_size,
		.max_target = cfg->max_header_size / 2,
	};
	unsigned served = 0;

	w->body_budget = JOB_MAX_BYTES;
	for (;;) {
		int r = HTTP_PARSE_PARTIAL;

		if (body_pending(c) && !body_first(w, c, &len))
			return;
		if (len > 0 && !body_pending(c))
			r = http_parse_request(w->in, len, &lim, &w->req);
		if (r == HTTP_PARSE_ERROR) {
			respond_parse_error(w, c, w->req.status);
			return;
		}
		if (r > 0) {
			/* Its share of this round is used: the others first. */
			if (served == JOB_MAX_REQUESTS) {
				if (conn_stash_input(c, w->in, len) != 0)
					close_conn(w, c);
				else
					make_ready(w, c);
				return;
			}
			if (serve_request(w, c, (size_t)r, &len) != AFTER_CONTINUE)
				return;
			served++;
			continue;
		}
		/* A partial head, or nothing yet. */
		if (!c->readable) {
			wait_for_input(w, c, len);
			return;
		}
		if (read_more(w, c, &len) == READ_CLOSED)
			return;
	}
}

/*
 * Serves c until it would block: resumes a parked response, then parses
 * and answers the requests in its input, reading as needed.  woke: this
 * round's epoll_wait() said c had input (see sync_caches()).
 */
static void
http_job(struct worker *w, struct conn *c, bool woke)
{
	ssize_t stashed;

	/* Body bytes first: where the next request starts is not known. */
	w->fresh = woke && !body_pending(c) ? 1 : 0;
	c->outq = 0;	/* the client is talking: it is not stuck draining */
	if (c->resp != NULL && resume_response(w, c) != AFTER_CONTINUE)
		return;
	if ((stashed = unstash_input(w, c)) < 0) {
		log_err("out of memory taking a connection's input; closing it");
		close_conn(w, c);
		return;
	}
	serve_input(w, c, (size_t)stashed);
}

/* A transfer connection: the lab's file push (lab_serve.c). */
static void
transfer_job(struct worker *w, struct conn *c)
{
	struct xfer_ctx x = {
		.cfg = w->cfg.cfg, .in = w->in, .out = w->out,
		.out_cap = OUT_CAP, .log = &w->log,
	};

	if (c->resp == NULL)
		w->served++;
	switch (lab_transfer_run(c, &x, JOB_MAX_BYTES)) {
	case XFER_DONE:
		/* Anything the client sent must not turn it into a reset. */
		c->linger = true;
		finish_close(w, c);
		break;
	case XFER_WAIT:
		wait_in_set(w, c, WAIT_WRITE);
		break;
	case XFER_YIELD:
		make_ready(w, c);
		break;
	case XFER_FAILED:
		close_conn(w, c);
		break;
	}
}

/* c has something to do: serve it by its protocol (woke: see http_job()). */
static void
run(struct worker *w, struct conn *c, bool woke)
{
	const struct config *cfg = w->cfg.cfg;

	w->now_ms = event_now_ms();
	c->wait = WAIT_NONE;
	/* A reload may have raised max_header_size. */
	if (atomic_load(&w->srv->stopping) ||
	    !grow_input(w, cfg->max_header_size + IN_SLACK)) {
		if (c->resp != NULL)
			access_end_parked(w, c->resp);
		close_conn(w, c);
		return;
	}
	if (c->proto == PROTO_TRANSFER)
		transfer_job(w, c);
	else
		http_job(w, c, woke);
}

/* ---- lingering close and deadlines ---- */

/* A closing connection became readable: drop input until EOF. */
static void
linger_read(struct worker *w, struct conn *c)
{
	char buf[4096];

	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			c->readable = false;
			wait_in_set(w, c, WAIT_LINGER);
			return;
		}
		close_conn(w, c);	/* EOF or an error: done */
		return;
	}
	c->wait = WAIT_LINGER;
	ready_append(w, c);	/* more to drop: after the others */
}

/*
 * A connection waiting for its next request may still have the end of its
 * last response in the kernel's send queue, when the client reads slowly.
 * The client cannot be late with a request while it is still reading the
 * answer to the one before, and closing would risk a reset that destroys
 * that data, so the wait is treated like a download: it goes on while the
 * queue keeps shrinking within send_timeout, and once the client has read
 * it all, the wait starts over from then.  Returns true to wait again.
 */
static bool
answer_unread(struct conn *c, uint64_t now)
{
	int unsent = 0;

	if (ioctl(c->fd, SIOCOUTQ, &unsent) != 0)
		return false;
	if (unsent <= 0) {
		bool was_draining = c->outq != 0;

		c->outq = 0;
		c->req_start_ms = now;
		return was_draining;
	}
	if (c->outq != 0 && (uint32_t)unsent >= c->outq)
		return false;		/* no progress for a whole period */
	c->outq = (uint32_t)unsent;
	return true;
}

/* c outlived its deadline. */
static void
expire(struct worker *w, struct conn *c, uint64_t now)
{
	static const char timeout_408[] =
	    "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
	    "Content-Length: 0\r\n\r\n";
	bool draining = atomic_load_explicit(&w->srv->draining,
	    memory_order_relaxed);

	if (c->ready || c->wait == WAIT_NONE) {
		/* On the ready list: it runs this round. */
		c->deadline_ms = c->heap_key = now + TICK_MS;
		heap_down(w, c->heap_idx);
		return;
	}
	switch (c->wait) {
	case WAIT_NONE:
		break;
	case WAIT_HEAD:
	case WAIT_IDLE:
		if (!draining && answer_unread(c, now)) {
			wait_in_set(w, c, c->wait);
			return;
		}
		/* A request had begun: say why we hang up (best effort). */
		if (c->wait == WAIT_HEAD && c->in_len > 0)
			(void)!send(c->fd, timeout_408, sizeof(timeout_408) - 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		break;
	case WAIT_WRITE:
		if (c->resp != NULL)
			access_end_parked(w, c->resp);
		break;
	case WAIT_BODY:
		/* The body stopped coming: 408, and the file goes. */
		upload_fail(c->upload, 408, "no body bytes came for "
		    "body_timeout");
		finish_upload(w, c, 0);
		return;
	case WAIT_LINGER:
		break;
	}
	close_conn(w, c);
}

/*
 * Expires what is due.  A heap entry whose connection's deadline moved on
 * (the lazy part) is put back in its place instead.
 */
static void
expire_due(struct worker *w, uint64_t now)
{
	while (w->heap_len > 0 && w->heap[0]->heap_key <= now) {
		struct conn *c = w->heap[0];

		if (c->deadline_ms > now) {
			c->heap_key = c->deadline_ms;
			heap_down(w, 0);
			continue;
		}
		expire(w, c, now);
	}
}

/* Milliseconds until the earliest deadline, at most TICK_MS. */
static int
next_timeout(struct worker *w, uint64_t now)
{
	uint64_t next = now + TICK_MS;

	if (w->heap_len > 0 && w->heap[0]->heap_key < next)
		next = w->heap[0]->heap_key;
	/* CLOCK_MONOTONIC_COARSE ticks in jiffies: never spin on it. */
	return next > now ? (int)(next - now) + 1 : 1;
}

/* ---- taking connections and handing them over ---- */

/* c, from the queue, becomes this worker's. */
static void
adopt(struct worker *w, struct conn *c)
{
	conn_take(c, OWNER_QUEUE, OWNER_WORKER);
	c->registered = false;
	c->ready = false;
	if (c->nrequests == 0 && c->wait == WAIT_NONE && c->resp == NULL) {
		/* New: its head is due header_timeout after the accept. */
		c->deadline_ms = c->req_start_ms +
		    w->cfg.cfg->header_timeout_ms;
		c->readable = true;	/* TCP_DEFER_ACCEPT: it sent data */
	}
	if (heap_add(w, c) < 0) {
		log_err("out of memory taking a connection; closing it");
		conn_free(c);
		event_conn_closed(w->srv->ev);
		return;
	}
	/*
	 * Handed over while it waited: joining this set reports what is
	 * pending.  New, or handed over with work left: serve it this round.
	 */
	if (c->wait != WAIT_NONE)
		wait_in_set(w, c, c->wait);
	else
		make_ready(w, c);
}

/* Takes up to ADOPT_BATCH connections waiting in the queue. */
static bool
adopt_some(struct worker *w)
{
	struct conn *c;
	int n = 0;

	while (n < ADOPT_BATCH && (c = queue_try_pop(w->srv->queue)) != NULL) {
		if (n == 0)
			w->now_ms = event_now_ms();
		adopt(w, c);
		n++;
	}
	return n > 0;
}

/*
 * Hands v[0..n) (this worker's, off the ready list, and with no event
 * left in the batch being handled) to the queue.
 */
static void
hand_over(struct worker *w, struct conn **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		disown(w, v[i]);
		conn_take(v[i], OWNER_WORKER, OWNER_QUEUE);
	}
	if (n > 0 && !queue_hand_over(w->srv->queue, (void *const *)v, n)) {
		/* Out of memory: keep them, waiting where they were. */
		for (size_t i = 0; i < n; i++) {
			conn_take(v[i], OWNER_QUEUE, OWNER_WORKER);
			if (heap_add(w, v[i]) < 0 || v[i]->wait == WAIT_NONE) {
				if (v[i]->heap_idx != UINT32_MAX)
					make_ready(w, v[i]);
				else
					conn_free(v[i]);
			} else {
				wait_in_set(w, v[i], v[i]->wait);
			}
		}
	}
}

/* Takes the ready list apart; its connections keep wait WAIT_NONE. */
static struct conn *
take_ready(struct worker *w)
{
	struct conn *list = w->ready_head;

	w->ready_head = w->ready_tail = NULL;
	for (struct conn *c = list; c != NULL; c = c->next)
		c->ready = false;
	return list;
}

static void
hand_over_all_but(struct worker *w, struct conn *keep)
{
	struct conn **v;
	size_t n = 0;

	if (w->heap_len == 0 || (w->heap_len == 1 && w->heap[0] == keep) ||
	    (v = malloc(w->heap_len * sizeof(*v))) == NULL)
		return;
	take_ready(w);
	w->running = NULL;
	/* The rest of the batch concerns them, or keep: forget it. */
	for (int i = w->evi + 1; i < w->nevs; i++) {
		enum ev_kind *k = w->evs[i].data.ptr;

		if (k != NULL && *k == EV_CONN && (struct conn *)k != keep)
			w->evs[i].data.ptr = NULL;
	}
	for (size_t i = 0; i < w->heap_len; i++)
		if (w->heap[i] != keep)
			v[n++] = w->heap[i];
	hand_over(w, v, n);
	free(v);
}

/*
 * Many connections are ready and another worker sleeps: the second half
 * of the batch goes to it (they join its set, which reports them ready).
 */
static void
share(struct worker *w)
{
	struct conn *v[MAX_EVENTS];
	size_t n = 0;

	if (w->nevs < SHARE_MIN || queue_idle_hint(w->srv->queue) == 0)
		return;
	for (int i = w->nevs / 2; i < w->nevs; i++) {
		enum ev_kind *k = w->evs[i].data.ptr;
		struct conn *c = w->evs[i].data.ptr;

		if (k == NULL || *k != EV_CONN || c->ready ||
		    c->wait == WAIT_LINGER)
			continue;
		w->evs[i].data.ptr = NULL;
		v[n++] = c;
	}
	hand_over(w, v, n);
}

/* ---- the loop ---- */

/* One event from the set. */
static void
dispatch(struct worker *w, struct conn *c, uint32_t ev)
{
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = true;
	switch (c->wait) {
	case WAIT_HEAD:
	case WAIT_IDLE:
		if (c->readable)
			run(w, c, (ev & EPOLLIN) != 0);
		break;
	case WAIT_WRITE:
		if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			run(w, c, (ev & EPOLLIN) != 0);
		break;
	case WAIT_BODY:
		if (c->readable)
			run(w, c, false);
		break;
	case WAIT_LINGER:
		/* One with more to drop is on the ready list already. */
		if (c->readable && !c->ready)
			linger_read(w, c);
		break;
	case WAIT_NONE:
		break;		/* on the ready list: it runs this round */
	}
}

static void
handle_events(struct worker *w)
{
	share(w);
	for (w->evi = 0; w->evi < w->nevs; w->evi++) {
		enum ev_kind *k = w->evs[w->evi].data.ptr;

		if (k == NULL)
			continue;	/* handed over meanwhile */
		if (*k == EV_WAKE) {
			uint64_t v;

			(void)!read(w->waiter.efd, &v, sizeof(v));
			continue;
		}
		dispatch(w, (struct conn *)k, w->evs[w->evi].events);
	}
	w->nevs = 0;
}

/*
 * Runs what was on the ready list when the round began, once each.  The
 * rest of that list is in w->running, which a hand-over empties.
 */
static void
run_ready(struct worker *w)
{
	struct conn *c;

	w->running = take_ready(w);
	while ((c = w->running) != NULL) {
		w->running = c->next;
		if (c->wait == WAIT_LINGER)
			linger_read(w, c);
		else
			run(w, c, false);
	}
}

/* The drain began: connections waiting between requests close now. */
static void
close_idle(struct worker *w)
{
	size_t i = 0;

	w->drained = true;
	while (i < w->heap_len) {
		struct conn *c = w->heap[i];

		if (c->wait == WAIT_IDLE ||
		    (c->wait == WAIT_HEAD && c->in_len == 0 &&
		    !body_pending(c))) {
			close_conn(w, c);	/* the heap moved: look again */
			i = 0;
			continue;
		}
		i++;
	}
}

/* The stop: everything closes (parked answers are logged as cut). */
static void
close_all(struct worker *w)
{
	take_ready(w);
	while (w->heap_len > 0) {
		struct conn *c = w->heap[w->heap_len - 1];

		if (c->resp != NULL)
			access_end_parked(w, c->resp);
		close_conn(w, c);
	}
}

/* Leaving the pool: every connection goes to the workers that stay. */
static void
leave(struct worker *w)
{
	hand_over_all_but(w, NULL);
}

/*
 * Waits for events, or sleeps until the next deadline when there is
 * nothing to do (registered in the queue as idle, so a new connection
 * wakes it).  Fills w->evs.
 */
static void
wait_events(struct worker *w, bool busy)
{
	int timeout = 0;
	int n;

	if (!busy && queue_idle_begin(w->srv->queue, &w->waiter)) {
		timeout = next_timeout(w, event_now_ms());
		/* About to sleep: the access log may go out now. */
		log_flush(&w->log);
		atomic_store(&w->busy_since_ms, 0);
		testhook_pause("worker_idle");
	}
	n = epoll_wait(w->epfd, w->evs, MAX_EVENTS, timeout);
	w->round_synced = false;
	if (timeout != 0)
		queue_idle_end(w->srv->queue, &w->waiter);
	w->now_ms = event_now_ms();
	atomic_store(&w->busy_since_ms, w->now_ms);
	w->nevs = n > 0 ? n : 0;
}

/* One shared write a round rather than one a request. */
static void
count_served(struct worker *w)
{
	if (w->served > 0) {
		atomic_fetch_add_explicit(&w->srv->requests, w->served,
		    memory_order_relaxed);
		w->served = 0;
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->srv;

	for (;;) {
		bool busy;

		cfg_cache_get(srv, &w->cfg);
		if (atomic_load(&w->quit)) {
			leave(w);
			break;
		}
		if (atomic_load(&srv->stopping)) {
			close_all(w);
			if (queue_is_closed(srv->queue) &&
			    !queue_busy_hint(srv->queue))
				break;
		} else if (!w->drained && atomic_load(&srv->draining)) {
			close_idle(w);
		}
		busy = adopt_some(w) || w->ready_head != NULL;
		wait_events(w, busy);
		/* A request that came after a reload is served by its rules. */
		cfg_cache_get(srv, &w->cfg);
		handle_events(w);
		run_ready(w);
		expire_due(w, w->now_ms = event_now_ms());
		count_served(w);
	}
	/*
	 * Off the idle stack for good, under the queue's lock: a wake-up
	 * already under way is over before the eventfd is closed.
	 */
	queue_forget(srv->queue, &w->waiter);
	count_served(w);
	atomic_store(&w->busy_since_ms, 0);
	log_flush(&w->log);
	cfg_cache_release(&w->cfg);
	return NULL;
}

/* ---- the pool ---- */

static void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->waiter.efd >= 0)
		close(w->waiter.efd);
	if (w->pipe[0] >= 0) {
		close(w->pipe[0]);
		close(w->pipe[1]);
	}
	free(w->heap);
	free(w->in);
	free(w->out);
	free(w);
}

static struct worker *
worker_new(struct server *srv)
{
	struct worker *w = calloc(1, sizeof(*w));
	struct config *cfg = server_config(srv);
	struct epoll_event ee = { .events = EPOLLIN };

	if (w == NULL) {
		config_unref(cfg);
		return NULL;
	}
	w->srv = srv;
	w->wake_kind = EV_WAKE;
	w->pipe[0] = w->pipe[1] = -1;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->waiter.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->in_cap = cfg->max_header_size + IN_SLACK;
	w->in = malloc(w->in_cap);
	w->out = malloc(OUT_CAP);
	config_unref(cfg);
	ee.data.ptr = &w->wake_kind;
	if (w->in == NULL || w->out == NULL || w->epfd < 0 ||
	    w->waiter.efd < 0 ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->waiter.efd, &ee) < 0) {
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

/*
 * Asks the workers past n to leave and waits for them: each hands its
 * connections to the others first.
 */
static void
pool_shrink(struct server *srv, size_t n)
{
	if (n >= srv->nworkers)
		return;
	for (size_t i = n; i < srv->nworkers; i++)
		atomic_store(&srv->workers[i]->quit, true);
	/* A busy one sees its flag at its next round; idle ones now. */
	queue_wake_all(srv->queue);
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
	int r;

	conn_set_upload_release(upload_free);
	srv->syncer = syncer_new(SYNC_THREADS, commit_work, commit_done, srv);
	srv->auth_syncer = syncer_new(AUTH_THREADS, verify_work, commit_done,
	    srv);
	srv->auth = auth_new();
	r = srv->syncer == NULL || srv->auth_syncer == NULL ||
	    srv->auth == NULL ? -ENOMEM : pool_grow(srv, n);
	if (r < 0) {
		atomic_store(&srv->stopping, true);
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
worker_pool_wake(struct server *srv)
{
	queue_wake_all(srv->queue);
}

void
worker_pool_join(struct server *srv)
{
	struct conn *c;

	for (size_t i = 0; i < srv->nworkers; i++) {
		pthread_join(srv->workers[i]->thread, NULL);
		worker_free(srv->workers[i]);
	}
	free(srv->workers);
	srv->workers = NULL;
	srv->nworkers = 0;
	/* Uploads being synced, and logins being checked, come back. */
	syncer_free(srv->syncer);
	srv->syncer = NULL;
	syncer_free(srv->auth_syncer);
	srv->auth_syncer = NULL;
	auth_free(srv->auth);
	srv->auth = NULL;
	/* Handed over or accepted too late for anyone to take. */
	while ((c = queue_try_pop(srv->queue)) != NULL) {
		conn_take(c, OWNER_QUEUE, OWNER_WORKER);
		c->heap_idx = UINT32_MAX;
		conn_free(c);
	}
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
