/*
 * lab_serve.c - the lab's services against sockets and files; see
 * lab_serve.h.
 */
#include "lab_serve.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "lab.h"
#include "log.h"
#include "path.h"
#include "send.h"

/* ---- ping ---- */

/* The limiter's clock: monotonic microseconds. */
static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return lab_us(&ts);
}

struct lab_limiter *
lab_ping_limiter(unsigned total)
{
	struct lab_limiter *l = malloc(sizeof(*l));
	uint64_t seed, now = now_us();

	if (l == NULL)
		return NULL;
	/* Unpredictable, so nobody can pick addresses that share slots. */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = now << 20 ^ (uint64_t)getpid();
	lab_limiter_init(l, seed, total, now);
	return l;
}

union ping_addr {
	struct sockaddr		sa;
	struct sockaddr_in	in4;
	struct sockaddr_in6	in6;
	struct sockaddr_storage	ss;
};

/* Room for either kind of packet information. */
union ping_ctl {
	char		 b[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
			    CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct cmsghdr	 align;
};

/*
 * The source as 16 bytes (IPv6, or IPv4 mapped) and its port; false if
 * neither family, or when the port is one not to answer
 * (lab_ping_source_port_ok()).
 */
static bool
peer_key(const union ping_addr *a, unsigned char *key)
{
	if (a->sa.sa_family == AF_INET6) {
		memcpy(key, &a->in6.sin6_addr, 16);
		return lab_ping_source_port_ok(ntohs(a->in6.sin6_port));
	}
	if (a->sa.sa_family == AF_INET) {
		memset(key, 0, 10);
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &a->in4.sin_addr, 4);
		return lab_ping_source_port_ok(ntohs(a->in4.sin_port));
	}
	return false;
}

static bool
v4_not_unicast(in_addr_t a)
{
	a = ntohl(a);
	return a == INADDR_BROADCAST || (a >> 28) == 0xe;
}

/*
 * Turns the packet information of a received datagram into that of its
 * reply, in place: leave from the address it came to.  Returns false when
 * that address is not unicast (a broadcast or multicast datagram gets no
 * answer, so one datagram cannot draw replies from a whole network).
 */
static bool
reply_pktinfo(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL;
	    c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			/*
			 * ip(7): ipi_addr is the header's destination and
			 * ipi_spec_dst the local address; they differ for a
			 * broadcast, even one to a subnet.
			 */
			if (v4_not_unicast(pi.ipi_addr.s_addr) ||
			    pi.ipi_addr.s_addr != pi.ipi_spec_dst.s_addr)
				return false;
			pi.ipi_ifindex = 0;
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (IN6_IS_ADDR_MULTICAST(&pi.ipi6_addr) ||
			    (IN6_IS_ADDR_V4MAPPED(&pi.ipi6_addr) &&
			    v4_not_unicast(pi.ipi6_addr.s6_addr32[3])))
				return false;
			/* A link-local source needs its interface. */
			if (!IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
				pi.ipi6_ifindex = 0;
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		}
	}
	return true;
}

/* True when upper-casing p[0..len) changes something. */
static bool
has_lower(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] >= 'a' && p[i] <= 'z')
			return true;
	return false;
}

void
lab_ping_serve(int fd, struct lab_limiter *lim, unsigned per_source,
    unsigned total, struct lab_ping_counts *n)
{
	uint64_t now = now_us();

	for (int i = 0; i < LAB_PING_BATCH; i++) {
		char buf[LAB_PING_MAX];
		unsigned char key[16];
		union ping_addr peer;
		union ping_ctl ctl;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = {
			.msg_name = &peer, .msg_namelen = sizeof(peer),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.b, .msg_controllen = sizeof(ctl.b),
		};
		ssize_t len = recvmsg(fd, &mh, MSG_DONTWAIT);

		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue;	/* a queued error, reported once */
		}
		/* Larger than LAB_PING_MAX: the kernel says it cut it. */
		if (mh.msg_flags & MSG_TRUNC) {
			n->oversize++;
			continue;
		}
		if (!peer_key(&peer, key) || !has_lower(buf, (size_t)len) ||
		    !reply_pktinfo(&mh)) {
			n->ignored++;
			continue;
		}
		if (!lab_limiter_allow(lim, key, per_source, total, now)) {
			n->limited++;
			continue;
		}
		lab_upper(buf, (size_t)len, buf);
		iov.iov_len = (size_t)len;
		mh.msg_flags = 0;
		if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == len)
			n->answered++;
		else
			n->unsent++;
	}
}

/* ---- daytime ---- */

size_t
lab_daytime_now(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	return lab_daytime_format(out, cap, &tm, ts.tv_nsec / 1000);
}

/* ---- transfer ---- */

int
lab_transfer_open(const struct config *c, int *fdp, uint64_t *size,
    const char **reason)
{
	struct stat st;
	int fd, status;

	*fdp = -1;
	*size = 0;
	if (c->transfer_rel == NULL) {
		*reason = "no file configured";
		return 500;
	}
	status = path_open(&c->tree, c->transfer_rel, &fd);
	if (status == 0 && fstat(fd, &st) < 0) {
		close(fd);
		status = 500;
	}
	switch (status) {
	case 0:
		break;
	case 404:
		*reason = "file not found";
		return status;
	case 403:
		*reason = "permission denied";
		return status;
	case 503:
		*reason = "server busy";
		return status;
	default:
		*reason = "cannot open the file";
		return 500;
	}
	*size = (uint64_t)st.st_size;
	if (!S_ISREG(st.st_mode)) {
		*reason = "not a regular file";
		status = 403;
	} else if (*size > c->transfer_max_size) {
		*reason = "file too large";
		status = 413;
	} else {
		*fdp = fd;
		return 200;
	}
	close(fd);
	return status;
}

struct span
lab_transfer_name(const struct config *c)
{
	const char *rel = c->transfer_rel != NULL ? c->transfer_rel : "";
	const char *slash = strrchr(rel, '/');
	const char *name = slash != NULL ? slash + 1 : rel;

	return span_make(name, strlen(name));
}

ssize_t
lab_transfer_encode(int fd, uint64_t *off, uint64_t size, char *buf,
    char *out, bool *last)
{
	size_t want = size - *off < LAB_XFER_CHUNK ?
	    (size_t)(size - *off) : LAB_XFER_CHUNK;
	size_t got = 0;

	while (got < want) {
		ssize_t r = pread(fd, buf + got, want - got,
		    (off_t)(*off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;		/* the file shrank */
		got += (size_t)r;
	}
	/* A full piece is LAB_XFER_CHUNK bytes, a multiple of 3. */
	*last = got < want || *off + got == size;
	*off += got;
	return (ssize_t)lab_b64_encode(buf, got, out);
}

/* ---- a transfer connection ---- */

/* How far a transfer's JSON got (conn_resp.src_stage). */
enum xfer_stage {
	XFER_NEW = 0,	/* the file is not opened yet */
	XFER_BODY,	/* the head is built; file pieces follow */
	XFER_END,	/* the last piece is built */
};

/* How often a transfer's unreadable file is reported (not per client). */
#define XFER_WARN_MS	10000

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Says why the file cannot be sent: once in a while, not once per client. */
static void
transfer_warn(const struct config *cfg, int status, const char *reason,
    uint64_t size)
{
	static _Atomic uint64_t next_ms;
	static _Atomic int last_status;
	uint64_t now = mono_ms(), due = atomic_load(&next_ms);

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

/* The transfer's access-log line, kept in r until the end. */
static void
transfer_log_line(const struct conn *c, const struct config *cfg,
    struct conn_resp *r)
{
	struct access_entry e = { .request_line = SPAN_LIT("TRANSFER"),
	    .status = r->status };
	char line[1024], target[PATH_MAX + 16];
	size_t split, n;
	int len;

	len = snprintf(target, sizeof(target), "TRANSFER /%s",
	    cfg->transfer_rel != NULL ? cfg->transfer_rel : "");
	if (len > 0 && (size_t)len < sizeof(target))
		e.request_line = span_make(target, (size_t)len);
	if ((n = conn_access_line(c, &e, line, sizeof(line), &split)) > 0 &&
	    (r->log_line = strndup(line, n)) != NULL)
		r->log_split = (uint32_t)split;
}

/*
 * Opens the file for this client and builds the first bytes in x->out:
 * the JSON head, or the whole JSON error.  Returns their length.
 */
static size_t
transfer_begin(struct conn *c, struct conn_resp *r, const struct xfer_ctx *x)
{
	const struct config *cfg = x->cfg;
	struct span name = lab_transfer_name(cfg);
	const char *reason = NULL;
	size_t n = 0;

	r->status = lab_transfer_open(cfg, &r->file_fd, &r->src_size, &reason);
	r->src_stage = XFER_BODY;
	/* Leave room for the first piece and the tail after the head. */
	if (r->status == 200)
		n = lab_transfer_head(x->out, x->out_cap -
		    LAB_B64_LEN(LAB_XFER_CHUNK) - 2, name.p, name.len);
	if (r->status == 200 && n == 0) {
		r->status = 500;
		reason = "file name too long";
	}
	if (r->status != 200) {
		transfer_warn(cfg, r->status, reason, r->src_size);
		n = lab_transfer_error(x->out, x->out_cap, reason);
		r->src_stage = XFER_END;
	}
	transfer_log_line(c, cfg, r);
	return n;
}

/*
 * Appends to the o bytes in x->out the next piece of the file: the base64
 * of up to LAB_XFER_CHUNK bytes, and the JSON tail after the last one.
 * Returns the length of the whole, or a negative errno.
 */
static ssize_t
transfer_piece(struct conn_resp *r, const struct xfer_ctx *x, size_t o)
{
	bool last;
	ssize_t n;

	if (r->src_stage != XFER_BODY)
		return (ssize_t)o;
	n = lab_transfer_encode(r->file_fd, &r->src_off, r->src_size, x->in,
	    x->out + o, &last);
	if (n < 0)
		return n;
	o += (size_t)n;
	if (last) {
		memcpy(x->out + o, LAB_TRANSFER_TAIL,
		    sizeof(LAB_TRANSFER_TAIL) - 1);
		o += sizeof(LAB_TRANSFER_TAIL) - 1;
		r->src_stage = XFER_END;
	}
	return (ssize_t)o;
}

/* Builds the piece after the o bytes in x->out, sends it, parks the rest. */
static enum send_rc
transfer_send_piece(struct conn *c, struct conn_resp *r,
    const struct xfer_ctx *x, size_t o, uint64_t budget)
{
	struct out_seg seg = { .mem = x->out };
	ssize_t n = transfer_piece(r, x, o);
	size_t cur = 0;
	uint64_t done = 0;
	enum send_rc rc;

	if (n < 0) {
		log_errno(LOG_LVL_WARN, (int)-n, "transfer: cannot read '%s'",
		    x->cfg->transfer_file);
		return SEND_ERROR;
	}
	seg.len = (uint64_t)n;
	rc = send_segs(c->fd, r->file_fd, &seg, 1, &cur, &done, &r->sent,
	    budget);
	if ((rc == SEND_AGAIN || rc == SEND_YIELD) &&
	    conn_park_output(r, &seg, 1, cur, done, x->out, x->out_cap,
	    x->cfg->max_response_memory) != 0) {
		log_warn("transfer: no memory to park a slow client's piece "
		    "(max_response_memory); closing it");
		return SEND_ERROR;
	}
	return rc;
}

/* The transfer is over: its access-log line, with the bytes sent. */
static void
transfer_log(struct conn_resp *r, struct log_buf *log)
{
	if (r->log_line != NULL)
		log_access_split(log, r->log_line, strlen(r->log_line),
		    r->log_split, r->sent);
}

enum xfer_rc
lab_transfer_run(struct conn *c, const struct xfer_ctx *x, uint64_t budget)
{
	struct conn_resp *r = conn_resp_get(c);
	uint64_t start;
	size_t head;

	if (r == NULL) {
		log_err("out of memory starting a transfer; closing it");
		return XFER_FAILED;
	}
	start = r->sent;
	head = r->src_stage == XFER_NEW ? transfer_begin(c, r, x) : 0;
	for (;;) {
		uint64_t used = r->sent - start;
		uint64_t left = used < budget ? budget - used : 0;
		enum send_rc rc;

		if (r->out.segs != NULL) {
			if ((rc = send_parked(c->fd, r, left)) == SEND_DONE)
				conn_drop_output(r);
		} else if (head == 0 && r->src_stage == XFER_END) {
			transfer_log(r, x->log);
			conn_clear_output(c);
			return XFER_DONE;
		} else if (left == 0) {
			rc = SEND_YIELD;
		} else {
			rc = transfer_send_piece(c, r, x, head, left);
		}
		head = 0;
		if (rc == SEND_AGAIN)
			return XFER_WAIT;
		if (rc == SEND_YIELD)
			return XFER_YIELD;
		if (rc == SEND_ERROR || rc == SEND_SHORT) {
			transfer_log(r, x->log);
			conn_clear_output(c);
			return XFER_FAILED;
		}
	}
}
