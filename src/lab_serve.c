/*
 * lab_serve.c - the lab's services against sockets and files; see
 * lab_serve.h.
 */
#include "lab_serve.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "lab.h"
#include "path.h"

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
