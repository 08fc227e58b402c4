/*
 * conn.c - connection objects and ownership checks; see conn.h.
 *
 * DESIGN: a struct conn is deliberately small so that ten thousand idle
 * keep-alive clients cost little; buffers and a response are attached
 * only while they hold something.  Ownership is a plain field: it is
 * written only by the owner, and every hand-off between threads goes
 * through the queue's mutex, which orders the accesses.  conn_take()
 * asserts the expected owner at each hand-off.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fcache.h"
#include "log.h"

static atomic_uint open_conns;
/* Response memory held by connections: generated bodies, parked copies. */
static atomic_size_t held_bytes;

struct conn *
conn_new(int fd, enum listen_proto proto, const union conn_addr *peer,
    uint64_t now_ms)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		close(fd);
		return NULL;
	}
	c->kind = EV_CONN;
	c->fd = fd;
	c->owner = OWNER_ACCEPTOR;
	c->proto = (uint8_t)proto;
	c->heap_idx = UINT32_MAX;
	c->req_start_ms = now_ms;
	c->peer = *peer;
	atomic_fetch_add_explicit(&open_conns, 1, memory_order_relaxed);
	return c;
}

bool
conn_hold(struct conn_resp *r, size_t n, size_t limit)
{
	size_t cur = atomic_load_explicit(&held_bytes, memory_order_relaxed);

	do {
		if (n > limit || cur > limit - n)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&held_bytes, &cur,
	    cur + n, memory_order_relaxed, memory_order_relaxed));
	r->held += n;
	return true;
}

/* Counts n bytes for r whatever the limit (a header block's copy). */
static void
hold_anyway(struct conn_resp *r, size_t n)
{
	atomic_fetch_add_explicit(&held_bytes, n, memory_order_relaxed);
	r->held += n;
}

/* Gives back n of the bytes r holds. */
static void
unhold(struct conn_resp *r, size_t n)
{
	assert(n <= r->held);
	if (n == 0)
		return;		/* the shared counter's line stays put */
	r->held -= n;
	atomic_fetch_sub_explicit(&held_bytes, n, memory_order_relaxed);
}

size_t
conn_held_total(void)
{
	return atomic_load_explicit(&held_bytes, memory_order_relaxed);
}

void
conn_drop_output(struct conn_resp *r)
{
	if (r->out.segs == NULL && r->out.mem == NULL && r->out.nsegs == 0)
		return;		/* nothing was parked: the common case */
	unhold(r, r->out.memlen);
	free(r->out.segs);
	free(r->out.mem);
	memset(&r->out, 0, sizeof(r->out));
}

void
conn_resp_release(struct conn_resp *r)
{
	conn_drop_output(r);
	if (r->body != NULL) {
		free(r->body);
		r->body = NULL;
	}
	unhold(r, r->held);
	if (r->gen.next != NULL) {
		/* The descriptor belongs to the generator. */
		r->gen.done(r->gen.arg);
		r->gen.next = NULL;
		r->file_fd = -1;
	}
	if (r->fentry != NULL) {
		/* The descriptor belongs to the cache entry. */
		fentry_unref(r->fentry);
		r->fentry = NULL;
	} else if (r->file_fd >= 0) {
		close(r->file_fd);
	}
	r->file_fd = -1;
	if (r->log_line != NULL) {
		free(r->log_line);
		r->log_line = NULL;
	}
}

struct conn_resp *
conn_resp_get(struct conn *c)
{
	if (c->resp == NULL && (c->resp = calloc(1, sizeof(*c->resp))) != NULL)
		c->resp->file_fd = -1;
	return c->resp;
}

void
conn_clear_output(struct conn *c)
{
	if (c->resp == NULL)
		return;
	conn_resp_release(c->resp);
	free(c->resp);
	c->resp = NULL;
}

static void	(*upload_release)(struct upload *);

void
conn_set_upload_release(void (*release)(struct upload *))
{
	upload_release = release;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	assert(c->heap_idx == UINT32_MAX);
	conn_clear_output(c);
	if (c->upload != NULL && upload_release != NULL)
		upload_release(c->upload);
	free(c->chunked);
	free(c->in);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	atomic_fetch_sub_explicit(&open_conns, 1, memory_order_relaxed);
}

void
conn_answer_close(int fd, const char *msg, size_t len)
{
	char junk[4096];

	/* Read what already arrived, so closing sends no reset over msg. */
	(void)!recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
	if (len > 0)
		(void)!send(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_WR);
	close(fd);
}

unsigned
conn_open_count(void)
{
	return atomic_load_explicit(&open_conns, memory_order_relaxed);
}

void
conn_take(struct conn *c, enum conn_owner from, enum conn_owner to)
{
	assert(c->kind == EV_CONN);
	assert(c->owner == from);
	(void)from;
	c->owner = to;
}

int
conn_stash_input(struct conn *c, const char *in, size_t len)
{
	char *p;

	if (len == 0) {
		free(c->in);
		c->in = NULL;
		c->in_len = 0;
		return 0;
	}
	if ((p = malloc(len)) == NULL)
		return -ENOMEM;
	memcpy(p, in, len);
	free(c->in);
	c->in = p;
	c->in_len = (uint32_t)len;
	return 0;
}

/* True when s lies in scratch[0..len). */
static bool
in_scratch(const struct out_seg *s, const char *scratch, size_t len)
{
	uintptr_t p = (uintptr_t)s->mem, b = (uintptr_t)scratch;

	return p >= b && p - b < len;
}

int
conn_park_output(struct conn_resp *r, const struct out_seg *segs, size_t n,
    size_t cur, uint64_t done, const char *scratch, size_t scratch_len,
    size_t limit)
{
	size_t nseg = n - cur, memlen = 0, o = 0;
	struct out_seg *ns;
	char *mem = NULL;

	for (size_t i = cur; i < n; i++)
		if (segs[i].mem != NULL && in_scratch(&segs[i], scratch,
		    scratch_len))
			memlen += segs[i].len - (i == cur ? done : 0);
	/* Parking again (a transfer's next piece) replaces the copy. */
	conn_drop_output(r);
	if (memlen > CONN_PARK_FREE && !conn_hold(r, memlen, limit))
		return -ENOBUFS;
	if (memlen <= CONN_PARK_FREE)
		hold_anyway(r, memlen);
	if ((ns = malloc(nseg * sizeof(*ns))) == NULL ||
	    (memlen > 0 && (mem = malloc(memlen)) == NULL)) {
		free(ns);
		unhold(r, memlen);
		return -ENOMEM;
	}
	for (size_t i = cur; i < n; i++) {
		struct out_seg *d = &ns[i - cur];
		uint64_t skip = i == cur ? done : 0;

		*d = segs[i];
		d->len -= skip;
		if (segs[i].mem == NULL) {
			d->off += (off_t)skip;
		} else if (in_scratch(&segs[i], scratch, scratch_len)) {
			memcpy(mem + o, segs[i].mem + skip, d->len);
			d->mem = mem + o;
			o += d->len;
		} else {
			d->mem += skip;
		}
	}
	r->out.segs = ns;
	r->out.mem = mem;
	r->out.memlen = memlen;
	r->out.nsegs = (uint8_t)nseg;
	r->out.cur = 0;
	r->out.done = 0;
	return 0;
}

size_t
conn_access_line(const struct conn *c, struct access_entry *e, char *out,
    size_t cap, size_t *split)
{
	char peer[64];
	size_t n;

	if (!log_access_enabled())
		return 0;
	conn_peer_string(c, peer, sizeof(peer));
	e->peer = peer;
	e->when = time(NULL);
	if ((n = log_format_access(out, cap, e, split)) == 0) {
		/* Absurdly long fields: log the essentials only. */
		e->referer = e->user_agent = SPAN_NULL;
		if (e->request_line.len > 1024)
			e->request_line.len = 1024;
		n = log_format_access(out, cap, e, split);
	}
	return n;
}

void
conn_peer_string(const struct conn *c, char *buf, size_t cap)
{
	if (c->peer.sa.sa_family == AF_INET6) {
		const struct in6_addr *a = &c->peer.in6.sin6_addr;

		/* Show IPv4 clients of a dual-stack socket as IPv4. */
		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, &a->s6_addr[12], buf, (socklen_t)cap);
		else
			inet_ntop(AF_INET6, a, buf, (socklen_t)cap);
	} else if (c->peer.sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &c->peer.in4.sin_addr, buf, (socklen_t)cap);
	} else {
		snprintf(buf, cap, "-");
	}
}
