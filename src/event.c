/*
 * event.c - the acceptor thread: listeners, back-pressure, the lab's UDP
 * and daytime services; see event.h.
 *
 * DESIGN: one thread, one epoll set of listening sockets and an eventfd.
 * Listening sockets are level-triggered and are switched off (events = 0)
 * while accepting must pause: the queue is full, max_connections is
 * reached, or the process is out of file descriptors.  Accepted
 * connections are pushed onto the queue in batches, and the worker that
 * takes one owns it until it closes: the acceptor never sees a
 * connection again, so it has no deadlines to keep.
 *
 * Workers wake this thread through the eventfd, and only when it asked to
 * be woken (queue full, connection limit, descriptor shortage).
 *
 * A listener carries its protocol.  HTTP and transfer connections go
 * through the queue to the workers.  A daytime connection is answered
 * right after accept() with one non-blocking send and closed; a ping
 * socket (UDP) is answered here, a bounded batch of datagrams per wakeup
 * (lab_serve.c).  Neither ever blocks this thread.  Ping sockets stay
 * armed while accepting pauses: a datagram holds no connection.
 *
 * On stop the acceptor closes the listeners and marks the server as
 * draining, and the workers finish what is in flight; when no connection
 * is left, or the drain time is over, it marks the server as stopping,
 * which makes the workers close the rest, and returns.
 */
#include "event.h"

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "lab.h"
#include "lab_serve.h"
#include "listen.h"
#include "log.h"
#include "queue.h"
#include "server.h"
#include "worker.h"
#include "testhook.h"

#define MAX_EVENTS	256
#define ACCEPT_BATCH	64
/* How long a closing connection may take to stop sending. */
#define LINGER_MS	2000
/* Back-off before retrying accept() after running out of descriptors. */
#define EMFILE_RETRY_MS	500
/* How often the ping responder's drops are summed up in the log. */
#define PING_LOG_MS	60000

struct event {
	struct server	*srv;
	int		 epfd;
	int		 wakefd;
	enum ev_kind	 wake_kind;	/* epoll data.ptr for the eventfd */
	struct listener	*ls;
	size_t		 nls;
	pthread_t	 thread;
	bool		 started;

	pthread_mutex_t	 lock;		/* the listener sets */

	/* Owned by the event thread alone. */
	struct conn	*pend_head, *pend_tail;	/* fired, queue was full */
	bool		 accept_on;
	uint64_t	 accept_retry_ms;	/* after EMFILE; 0 = none */
	uint64_t	 overload_since_ms;	/* 0 = not overloaded */
	bool		 shedding;	/* answering new connections with 503 */
	unsigned long	 shed_count;
	bool		 fd_shortage;	/* logged, not yet over */
	unsigned long	 fd_shortage_pauses;
	bool		 draining;
	uint64_t	 drain_deadline_ms;
	struct log_buf	 log;

	struct cfg_cache cfg;		/* the event thread's reference */
	unsigned	 tick_ms;

	/* The ping responder's state; event thread only. */
	struct lab_limiter *ping_lim;	/* allocated at the first datagram */
	struct lab_ping_counts ping;	/* since the last log line */
	uint64_t	 ping_log_ms;

	/* Listeners posted by a reload, under lock; applied by the thread. */
	struct listener	*new_ls;
	size_t		 new_nls;
	bool		 have_new_ls;

	atomic_bool	 want_wake;	/* wake me when a conn closes */
	atomic_int	 shutdown_calls;
	atomic_ulong	 heartbeat;
};

uint64_t
event_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- waking ---- */

static void
wake(struct event *ev)
{
	uint64_t one = 1;

	while (write(ev->wakefd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

void
event_queue_space(void *arg)
{
	wake(arg);
}

void
event_conn_closed(struct event *ev)
{
	if (atomic_load_explicit(&ev->want_wake, memory_order_relaxed) &&
	    atomic_exchange(&ev->want_wake, false))
		wake(ev);
}

/* ---- accepting ---- */

static void
set_accepting(struct event *ev, bool on)
{
	if (ev->accept_on == on)
		return;
	for (size_t i = 0; i < ev->nls; i++) {
		struct epoll_event ee = {
			.events = on ? EPOLLIN : 0,
			.data.ptr = &ev->ls[i],
		};

		if (ev->ls[i].fd >= 0 && !config_proto_dgram(ev->ls[i].proto))
			epoll_ctl(ev->epfd, EPOLL_CTL_MOD, ev->ls[i].fd, &ee);
	}
	ev->accept_on = on;
}

static void
end_overload(struct event *ev)
{
	if (ev->shedding)
		log_info("load is back to normal: %lu connection%s refused",
		    ev->shed_count, ev->shed_count == 1 ? "" : "s");
	ev->shedding = false;
	ev->shed_count = 0;
	ev->overload_since_ms = 0;
}

/* The queue is full or the connection limit is reached. */
static bool
overloaded(struct event *ev)
{
	return ev->pend_head != NULL ||
	    conn_open_count() >= ev->cfg.cfg->max_connections;
}

/* Stops accepting because of overload, noting since when. */
static void
pause_overloaded(struct event *ev, uint64_t now)
{
	set_accepting(ev, false);
	if (ev->overload_since_ms == 0)
		ev->overload_since_ms = now;
	/* A worker closing a connection should tell us. */
	atomic_store(&ev->want_wake, true);
}

/*
 * Overload (queue full, or max_connections open) first pauses accepting:
 * the kernel backlog absorbs a burst.  Accepting resumes once nothing holds
 * it back, or, when the overload has lasted overload_timeout, resumes in
 * shedding mode: clients waiting in the backlog get a quick 503 instead of
 * an unbounded wait.
 */
static void
maybe_resume_accepting(struct event *ev, uint64_t now)
{
	unsigned grace = ev->cfg.cfg->overload_timeout_ms;

	if (ev->accept_on || ev->draining)
		return;
	if (ev->accept_retry_ms != 0 && now < ev->accept_retry_ms)
		return;
	ev->accept_retry_ms = 0;
	if (overloaded(ev)) {
		if (ev->overload_since_ms == 0)
			ev->overload_since_ms = now;
		/* since may be a little later than now: never wrap around. */
		if (now < ev->overload_since_ms + grace) {
			atomic_store(&ev->want_wake, true);
			return;
		}
		if (!ev->shedding)
			log_warn("overloaded for %u ms: refusing new "
			    "connections (HTTP with 503) until there is room",
			    grace);
		ev->shedding = true;
	} else {
		end_overload(ev);
	}
	set_accepting(ev, true);
}

static void
pend(struct event *ev, struct conn *c)
{
	c->next = NULL;
	if (ev->pend_tail != NULL)
		ev->pend_tail->next = c;
	else
		ev->pend_head = c;
	ev->pend_tail = c;
}

/*
 * Pushes v[0..n) (owned by the event thread) onto the queue; what does not
 * fit waits in the pending list and accepting pauses.
 */
static void
push_batch(struct event *ev, struct conn **v, size_t n, uint64_t now)
{
	size_t taken;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		conn_take(v[i], OWNER_ACCEPTOR, OWNER_QUEUE);
	taken = ev->pend_head == NULL ?
	    queue_push_many(ev->srv->queue, (void *const *)v, n) : 0;
	for (size_t i = taken; i < n; i++) {
		conn_take(v[i], OWNER_QUEUE, OWNER_ACCEPTOR);
		pend(ev, v[i]);
	}
	if (taken < n)
		pause_overloaded(ev, now);
}

/* Retries the pending list after the queue made room. */
static void
push_pending(struct event *ev)
{
	while (ev->pend_head != NULL) {
		struct conn *c = ev->pend_head, *next = c->next;

		/* Once pushed, c belongs to a worker: read nothing of it after. */
		conn_take(c, OWNER_ACCEPTOR, OWNER_QUEUE);
		if (!queue_push(ev->srv->queue, c)) {
			conn_take(c, OWNER_QUEUE, OWNER_ACCEPTOR);
			return;
		}
		ev->pend_head = next;
		if (next == NULL)
			ev->pend_tail = NULL;
	}
}

static void
accept_error(struct event *ev, const struct listener *l, int err,
    uint64_t now)
{
	switch (err) {
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		/*
		 * Log once per shortage, not once per refused client: the
		 * shortage ends only when the backlog has been emptied.
		 */
		if (!ev->fd_shortage) {
			log_errno(LOG_LVL_ERR, err, "accept on %s: pausing new "
			    "connections until some close", l->name);
			ev->fd_shortage = true;
			ev->fd_shortage_pauses = 0;
		}
		ev->fd_shortage_pauses++;
		set_accepting(ev, false);
		ev->accept_retry_ms = now + EMFILE_RETRY_MS;
		atomic_store(&ev->want_wake, true);
		break;
	default:
		log_errno(LOG_LVL_WARN, err, "accept on %s", l->name);
		break;
	}
}

/* Logs a connection refused while shedding, as a 503. */
static void
log_shed(struct event *ev, const union conn_addr *peer, struct span req)
{
	struct conn tmp = { .peer = *peer };
	char addr[64], line[512];
	struct access_entry e = {
		.peer = addr, .request_line = req, .status = 503,
		.when = time(NULL),
	};
	size_t split, len;

	if (!log_access_enabled())
		return;
	conn_peer_string(&tmp, addr, sizeof(addr));
	if ((len = log_format_access(line, sizeof(line), &e, &split)) > 0)
		log_access_split(&ev->log, line, len, split, 0);
}

/*
 * Refuses fd while overloaded, in the words of its protocol: a 503 for
 * HTTP, the JSON error for a transfer, nothing (a close) for daytime.
 */
static void
shed(struct event *ev, const struct listener *l, int fd,
    const union conn_addr *peer)
{
	static const char busy_503[] =
	    "HTTP/1.1 503 Service Unavailable\r\n"
	    "Retry-After: 2\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 26\r\n"
	    "Connection: close\r\n\r\n"
	    "Server busy; retry soon.\r\n";
	char msg[64];

	switch (l->proto) {
	case PROTO_HTTP:
		conn_answer_close(fd, busy_503, sizeof(busy_503) - 1);
		log_shed(ev, peer, SPAN_NULL);
		break;
	case PROTO_TRANSFER:
		conn_answer_close(fd, msg, lab_transfer_error(msg, sizeof(msg),
		    "server busy"));
		log_shed(ev, peer, SPAN_LIT("TRANSFER"));
		break;
	case PROTO_DAYTIME:
	case PROTO_PING:
		conn_answer_close(fd, NULL, 0);
		break;
	}
	ev->shed_count++;
}

/* A daytime client gets its line now and is closed; nothing is queued. */
static void
daytime_answer(int fd)
{
	char line[LAB_DAYTIME_MAX];

	conn_answer_close(fd, line, lab_daytime_now(line, sizeof(line)));
}

/*
 * What becomes of a socket just accepted on l: refused while shedding,
 * answered at once (daytime), or a connection for the queue (returned).
 */
static struct conn *
take_accepted(struct event *ev, const struct listener *l, int fd,
    const union conn_addr *peer, uint64_t now)
{
	struct conn *c;

	if (ev->shedding) {
		shed(ev, l, fd, peer);
		return NULL;
	}
	if (l->proto == PROTO_DAYTIME) {
		daytime_answer(fd);
		return NULL;
	}
	/* TCP_NODELAY comes from the listener (listen.c). */
	if ((c = conn_new(fd, l->proto, peer, now)) == NULL)
		log_err("out of memory accepting a connection");
	return c;
}

static void
accept_from(struct event *ev, struct listener *l, uint64_t now)
{
	struct conn *batch[ACCEPT_BATCH];
	size_t n = 0;

	for (int tries = 0; ev->accept_on && tries < ACCEPT_BATCH; tries++) {
		union conn_addr peer;
		socklen_t plen = sizeof(peer);
		bool over = overloaded(ev);
		struct conn *c;
		int fd;

		if (over && !ev->shedding) {
			pause_overloaded(ev, now);
			break;
		}
		if (!over && ev->shedding)
			end_overload(ev);
		fd = accept4(l->fd, &peer.sa, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EPROTO)
				continue;
			if (errno != EAGAIN)
				accept_error(ev, l, errno, now);
			else if (ev->fd_shortage) {
				/* The backlog is empty: nobody waits any more. */
				log_info("descriptors available again: every "
				    "waiting client accepted (%lu pause%s)",
				    ev->fd_shortage_pauses,
				    ev->fd_shortage_pauses == 1 ? "" : "s");
				ev->fd_shortage = false;
			}
			break;
		}
		if ((c = take_accepted(ev, l, fd, &peer, now)) != NULL)
			batch[n++] = c;
	}
	push_batch(ev, batch, n, now);
}

/* Sums up what the ping responder dropped, once per PING_LOG_MS at most. */
static void
ping_log(struct event *ev, uint64_t now)
{
	struct lab_ping_counts *p = &ev->ping;

	if (now < ev->ping_log_ms)
		return;
	ev->ping_log_ms = now + PING_LOG_MS;
	if (p->limited + p->oversize + p->unsent > 0)
		log_info("ping: %lu answered, %lu held back by the rate limit, "
		    "%lu over %d bytes, %lu unsent", p->answered, p->limited,
		    p->oversize, LAB_PING_MAX, p->unsent);
	memset(p, 0, sizeof(*p));
}

/* The ping socket l is readable: answer what is waiting, a batch at most. */
static void
ping_from(struct event *ev, struct listener *l, uint64_t now)
{
	const struct config *cfg = ev->cfg.cfg;

	if (ev->ping_lim == NULL &&
	    (ev->ping_lim = lab_ping_limiter(cfg->ping_rate_total)) == NULL) {
		log_err("out of memory answering a ping");
		return;
	}
	lab_ping_serve(l->fd, ev->ping_lim, cfg->ping_rate_source,
	    cfg->ping_rate_total, &ev->ping);
	ping_log(ev, now);
}

/* The listeners epoll reported: answer pings, accept connections. */
static void
serve_listeners(struct event *ev, struct listener **ready, size_t n,
    uint64_t now)
{
	for (size_t i = 0; i < n; i++) {
		if (config_proto_dgram(ready[i]->proto))
			ping_from(ev, ready[i], now);
		else
			accept_from(ev, ready[i], now);
	}
	maybe_resume_accepting(ev, now);
}

/* ---- the drain ---- */

static void
begin_drain(struct event *ev, uint64_t now)
{
	const struct config *cfg = ev->cfg.cfg;

	if (ev->draining)
		return;
	ev->draining = true;
	ev->drain_deadline_ms = now + cfg->shutdown_timeout_ms;
	atomic_store(&ev->srv->draining, true);
	set_accepting(ev, false);
	for (size_t i = 0; i < ev->nls; i++) {
		if (ev->ls[i].fd >= 0) {
			epoll_ctl(ev->epfd, EPOLL_CTL_DEL, ev->ls[i].fd, NULL);
			close(ev->ls[i].fd);
			ev->ls[i].fd = -1;
		}
	}
	/* Workers close their idle connections and finish the rest. */
	worker_pool_wake(ev->srv);
	log_info("shutting down: %u connection%s still open",
	    conn_open_count(), conn_open_count() == 1 ? "" : "s");
}

static int
poll_timeout(struct event *ev, uint64_t now)
{
	uint64_t next = now + ev->tick_ms;

	if (ev->accept_retry_ms != 0 && ev->accept_retry_ms < next)
		next = ev->accept_retry_ms;
	if (!ev->accept_on && ev->overload_since_ms != 0 &&
	    ev->overload_since_ms + ev->cfg.cfg->overload_timeout_ms < next)
		next = ev->overload_since_ms + ev->cfg.cfg->overload_timeout_ms;
	if (ev->draining && ev->drain_deadline_ms < next)
		next = ev->drain_deadline_ms;
	if (ev->draining)
		next = next < now + 50 ? next : now + 50;
	/* CLOCK_MONOTONIC_COARSE ticks in jiffies: never spin on a stale clock. */
	return next > now ? (int)(next - now) + 1 : 1;
}

/* Registers or re-points listener l in epoll (data.ptr is its address). */
static int
watch_listener(struct event *ev, struct listener *l, int op)
{
	struct epoll_event ee = {
		.events = ev->accept_on || config_proto_dgram(l->proto) ?
		    EPOLLIN : 0,
		.data.ptr = l,
	};

	if (op == EPOLL_CTL_MOD && testhook_fail("listener_mod")) {
		errno = ENOMEM;
		return -1;
	}
	return epoll_ctl(ev->epfd, op, l->fd, &ee);
}

/*
 * Points epoll at the new struct of a listener the old set had too (the
 * old structs are about to be freed), or adds a new one.  A listener
 * that cannot be watched is closed and left out (fd -1): epoll must never
 * keep a pointer into the freed set, and a socket nobody accepts on would
 * only hold its clients in the backlog.
 */
static void
watch_new_listener(struct event *ev, struct listener *l, bool shared)
{
	int r = watch_listener(ev, l, shared ? EPOLL_CTL_MOD : EPOLL_CTL_ADD);

	if (r < 0 && shared) {
		/* Drop the registration that points at the old struct. */
		epoll_ctl(ev->epfd, EPOLL_CTL_DEL, l->fd, NULL);
		r = watch_listener(ev, l, EPOLL_CTL_ADD);
	}
	if (r < 0) {
		log_errno(LOG_LVL_ERR, errno, "stopped listening on %s://%s/: "
		    "cannot watch it", config_proto_name(l->proto), l->name);
		epoll_ctl(ev->epfd, EPOLL_CTL_DEL, l->fd, NULL);
		/* event_listeners() copies the set under the lock. */
		pthread_mutex_lock(&ev->lock);
		close(l->fd);
		l->fd = -1;
		pthread_mutex_unlock(&ev->lock);
	} else if (!shared) {
		log_info("listening on %s://%s/", config_proto_name(l->proto),
		    l->name);
	}
}

/*
 * Takes the listener set a reload posted, if any.  Returns true when it
 * did: the old set is freed, so pointers into it are no longer valid.
 */
static bool
apply_new_listeners(struct event *ev)
{
	struct listener *nls, *old = ev->ls;
	size_t nn, nold = ev->nls;

	pthread_mutex_lock(&ev->lock);
	if (!ev->have_new_ls) {
		pthread_mutex_unlock(&ev->lock);
		return false;
	}
	nls = ev->new_ls;
	nn = ev->new_nls;
	ev->new_ls = NULL;
	ev->have_new_ls = false;
	ev->ls = nls;
	ev->nls = nn;
	pthread_mutex_unlock(&ev->lock);

	/* Close what the new set does not share; forget the old structs. */
	for (size_t i = 0; i < nold; i++) {
		bool kept = false;

		for (size_t j = 0; j < nn && !kept; j++)
			kept = nls[j].fd == old[i].fd;
		if (!kept && old[i].fd >= 0) {
			epoll_ctl(ev->epfd, EPOLL_CTL_DEL, old[i].fd, NULL);
			close(old[i].fd);
			log_info("stopped listening on %s://%s/",
			    config_proto_name(old[i].proto), old[i].name);
		}
	}
	for (size_t j = 0; j < nn; j++) {
		bool shared = false;

		for (size_t i = 0; i < nold && !shared; i++)
			shared = old[i].fd == nls[j].fd;
		watch_new_listener(ev, &nls[j], shared);
	}
	free(old);
	return true;
}

void
event_replace_listeners(struct event *ev, struct listener *ls, size_t n)
{
	struct listener *stale = NULL;

	pthread_mutex_lock(&ev->lock);
	if (ev->have_new_ls) {
		/* A set posted but never applied: close what nobody shares. */
		stale = ev->new_ls;
		for (size_t i = 0; i < ev->new_nls; i++) {
			bool used = false;

			for (size_t j = 0; j < n && !used; j++)
				used = ls[j].fd == stale[i].fd;
			for (size_t j = 0; j < ev->nls && !used; j++)
				used = ev->ls[j].fd == stale[i].fd;
			if (!used)
				close(stale[i].fd);
		}
	}
	ev->new_ls = ls;
	ev->new_nls = n;
	ev->have_new_ls = true;
	pthread_mutex_unlock(&ev->lock);
	free(stale);
	wake(ev);
}

struct listener *
event_listeners(struct event *ev, size_t *n)
{
	struct listener *copy;

	pthread_mutex_lock(&ev->lock);
	/* A posted set that is not applied yet is the current one. */
	const struct listener *cur = ev->have_new_ls ? ev->new_ls : ev->ls;
	size_t len = ev->have_new_ls ? ev->new_nls : ev->nls;

	copy = malloc((len ? len : 1) * sizeof(*copy));
	if (copy != NULL) {
		memcpy(copy, cur, len * sizeof(*copy));
		*n = len;
	}
	pthread_mutex_unlock(&ev->lock);
	return copy;
}

void
event_set_tick(struct event *ev, unsigned ms)
{
	ev->tick_ms = ms > 0 ? ms : 1000;
}

unsigned long
event_heartbeat(struct event *ev)
{
	return atomic_load_explicit(&ev->heartbeat, memory_order_relaxed);
}

/* What one epoll_wait() returned, sorted by kind. */
struct round {
	struct listener	*ready[MAX_EVENTS];
	size_t		 nready;
	bool		 woke;
};

static void
sort_events(struct event *ev, const struct epoll_event *evs, int n,
    struct round *r)
{
	r->nready = 0;
	r->woke = false;
	for (int i = 0; i < n; i++) {
		enum ev_kind *k = evs[i].data.ptr;

		if (*k == EV_LISTENER)
			r->ready[r->nready++] = evs[i].data.ptr;
		else
			r->woke = true;
	}
	if (r->woke) {
		uint64_t v;

		(void)!read(ev->wakefd, &v, sizeof(v));
	}
}

/* Acts on one round of events. */
static void
handle_round(struct event *ev, struct round *r, uint64_t now)
{
	if (atomic_load(&ev->shutdown_calls) > 0)
		begin_drain(ev, now);
	if (atomic_load(&ev->shutdown_calls) > 1)
		ev->drain_deadline_ms = now;
	/*
	 * ready[] points into the listener set a reload just freed: forget
	 * it, the listeners are level-triggered and fire again.
	 */
	if (r->woke && apply_new_listeners(ev))
		r->nready = 0;
	if (r->woke || ev->pend_head != NULL)
		push_pending(ev);
	if (!ev->draining)
		serve_listeners(ev, r->ready, r->nready, now);
}

/*
 * The drain is over: the workers close what is left (they are woken to
 * see it), and what still waits for room in the queue closes here.
 */
static void
finish(struct event *ev)
{
	atomic_store(&ev->srv->stopping, true);
	worker_pool_wake(ev->srv);
	while (ev->pend_head != NULL) {
		struct conn *c = ev->pend_head;

		ev->pend_head = c->next;
		conn_free(c);
	}
	ev->pend_tail = NULL;
	log_flush(&ev->log);
	cfg_cache_release(&ev->cfg);
}

static void *
event_main(void *arg)
{
	struct event *ev = arg;
	struct epoll_event evs[MAX_EVENTS];
	struct round r;

	for (;;) {
		uint64_t now = event_now_ms();
		int n;

		cfg_cache_get(ev->srv, &ev->cfg);
		atomic_fetch_add_explicit(&ev->heartbeat, 1,
		    memory_order_relaxed);
		if (ev->draining && (conn_open_count() == 0 ||
		    now >= ev->drain_deadline_ms))
			break;
		log_flush(&ev->log);
		n = epoll_wait(ev->epfd, evs, MAX_EVENTS, poll_timeout(ev, now));
		if (n < 0 && errno != EINTR) {
			log_errno(LOG_LVL_ERR, errno, "epoll_wait");
			break;
		}
		sort_events(ev, evs, n > 0 ? n : 0, &r);
		handle_round(ev, &r, event_now_ms());
	}
	finish(ev);
	return NULL;
}

/* ---- life cycle ---- */

struct event *
event_new(struct server *srv, struct listener *ls, size_t n)
{
	struct event *ev = calloc(1, sizeof(*ev));
	struct epoll_event ee;

	if (ev == NULL) {
		listen_close_all(ls, n);
		log_err("out of memory");
		return NULL;
	}
	ev->srv = srv;
	ev->ls = ls;
	ev->nls = n;
	ev->tick_ms = 1000;
	ev->wake_kind = EV_WAKE;
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&ev->lock, NULL);
	if (ev->epfd < 0 || ev->wakefd < 0) {
		log_errno(LOG_LVL_ERR, errno, "cannot create the event loop");
		event_free(ev);
		return NULL;
	}
	ee.events = EPOLLIN;
	ee.data.ptr = &ev->wake_kind;
	if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ev->wakefd, &ee) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		ee.events = EPOLLIN;
		ee.data.ptr = &ls[i];
		if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ls[i].fd, &ee) < 0)
			goto fail;
	}
	ev->accept_on = true;
	return ev;
fail:
	log_errno(LOG_LVL_ERR, errno, "cannot set up the event loop");
	event_free(ev);
	return NULL;
}

int
event_start(struct event *ev)
{
	int r = pthread_create(&ev->thread, NULL, event_main, ev);

	if (r != 0)
		return -r;
	ev->started = true;
	return 0;
}

void
event_shutdown(struct event *ev)
{
	atomic_fetch_add(&ev->shutdown_calls, 1);
	wake(ev);
}

void
event_join(struct event *ev)
{
	if (ev->started) {
		pthread_join(ev->thread, NULL);
		ev->started = false;
	}
}

void
event_free(struct event *ev)
{
	if (ev == NULL)
		return;
	event_join(ev);
	listen_close_all(ev->ls, ev->nls);
	free(ev->new_ls);
	free(ev->ping_lim);
	if (ev->epfd >= 0)
		close(ev->epfd);
	if (ev->wakefd >= 0)
		close(ev->wakefd);
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}
