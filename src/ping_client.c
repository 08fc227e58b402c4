/*
 * ping_client.c - lanhttpd-ping, the socket-programming lab's UDP ping
 * client: checks from another machine that the server is reachable, and
 * how good the link is.
 *
 * It sends "Ping <seq> <time>" datagrams (lab.h) to the daemon's ping
 * responder, or to the lab's own server, waits for each reply with a
 * socket timeout, checks that the reply is the upper-cased message it sent
 * for that sequence number, and prints a line per ping and a summary like
 * ping(8).  Replies that come after their ping timed out are counted as
 * late and duplicates as duplicates; neither is taken for the reply being
 * waited for.  The socket is connect()ed, so the kernel drops datagrams
 * from anyone else and reports "port unreachable" as ECONNREFUSED.
 *
 * A program of its own: it links lab.c and span.c, nothing of the daemon.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"

enum {
	EXIT_REPLIES = 0,	/* at least one reply */
	EXIT_NO_REPLY = 1,
	EXIT_USAGE = 2,		/* also: the host cannot be resolved */
};

#define DEFAULT_PORT	"12000"
#define MAX_SIZE	65507	/* the largest UDP payload over IPv4 */
/* Pings remembered, to recognise late replies and duplicates. */
#define RING		1024

struct sent {
	uint64_t	 seq;		/* 0: slot unused */
	struct timespec	 wall;		/* the time in the message */
	uint64_t	 mono_us;	/* when it left */
	bool		 timed_out;	/* reported as lost */
	bool		 answered;
};

struct pinger {
	int		 fd;
	const char	*host;
	char		 addr[NI_MAXHOST];	/* numeric */
	size_t		 pad;			/* -s */
	uint64_t	 transmitted, received, late, dups, foreign;
	unsigned	 refused;	/* "unreachable" for the current ping */
	struct lab_rtt	 rtt;
	struct sent	 ring[RING];
	char		 expect[MAX_SIZE + 1];
	char		 buf[MAX_SIZE + 1];
};

static volatile sig_atomic_t interrupted;

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: lanhttpd-ping [-p PORT] [-c COUNT] [-i INTERVAL] "
	    "[-W TIMEOUT] [-s SIZE] HOST\n"
	    "\n"
	    "Sends UDP pings to lanhttpd's ping responder (or the lab's\n"
	    "server) and reports replies, losses and round-trip times.\n"
	    "\n"
	    "  -p PORT      the responder's port (default 12000)\n"
	    "  -c COUNT     pings to send (default 10; 0: until Ctrl-C)\n"
	    "  -i INTERVAL  seconds between pings (default 1)\n"
	    "  -W TIMEOUT   seconds to wait for each reply (default 1)\n"
	    "  -s SIZE      pad each message to SIZE bytes (the daemon\n"
	    "               answers up to 1024)\n"
	    "  -h           show this help\n"
	    "\n"
	    "Exit status: 0 if a reply came, 1 if none did, 2 on usage "
	    "errors.\n");
}

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return lab_us(&ts);
}

/* A number of seconds from the command line, in microseconds. */
static bool
parse_seconds(const char *s, double min, double max, uint64_t *us)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max))
		return false;
	*us = (uint64_t)(v * 1e6 + 0.5);
	return true;
}

static bool
parse_count(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *v <= max;
}

/*
 * A new UDP socket connect()ed to sa, with p->addr set to the address in
 * numeric form.  Returns the socket or a negative errno.
 */
static int
connect_to(struct pinger *p, const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	if (connect(fd, sa, len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (getnameinfo(sa, len, p->addr, sizeof(p->addr), NULL, 0,
	    NI_NUMERICHOST) != 0)
		snprintf(p->addr, sizeof(p->addr), "%s", p->host);
	return fd;
}

/*
 * A socket to the loopback address for a localhost name, found without
 * the resolver (RFC 6761 §6.3), so that it works where /etc/hosts is
 * missing or says nothing about it.  A UDP connect() succeeds whether or
 * not anything listens, so the first address that connects is the one
 * used: 127.0.0.1, where a responder bound to it, to every IPv4 address
 * or to a dual-stack socket (the daemon's default) answers; ::1 only when
 * IPv4 is unavailable.  Returns the socket or a negative errno.
 */
static int
open_loopback(struct pinger *p, unsigned port)
{
	struct sockaddr_in v4 = {
		.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct sockaddr_in6 v6 = {
		.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
		.sin6_addr = IN6ADDR_LOOPBACK_INIT,
	};
	int fd = connect_to(p, (const struct sockaddr *)&v4, sizeof(v4));

	if (fd < 0)
		fd = connect_to(p, (const struct sockaddr *)&v6, sizeof(v6));
	return fd;
}

/*
 * A connected UDP socket to host:port (port: checked digits); fills in
 * p->addr.  -1 on failure, reported.
 */
static int
open_socket(struct pinger *p, const char *port)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
	};
	struct addrinfo *res, *ai;
	unsigned long portnum;
	int r, fd = -ENOENT;

	if (lab_host_is_localhost(span_make(p->host, strlen(p->host)))) {
		if (!parse_count(port, 65535, &portnum))
			fd = -EINVAL;
		else
			fd = open_loopback(p, (unsigned)portnum);
		if (fd < 0)
			fprintf(stderr, "lanhttpd-ping: %s: %s\n", p->host,
			    strerror(-fd));
		return fd < 0 ? -1 : fd;
	}
	if ((r = getaddrinfo(p->host, port, &hints, &res)) != 0) {
		fprintf(stderr, "lanhttpd-ping: %s: %s\n", p->host,
		    gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = connect_to(p, ai->ai_addr, ai->ai_addrlen);
	if (fd < 0)
		fprintf(stderr, "lanhttpd-ping: %s: %s\n", p->host,
		    strerror(-fd));
	freeaddrinfo(res);
	return fd < 0 ? -1 : fd;
}

/* The reply s->seq should get: its message, upper-cased, into p->expect. */
static size_t
expected_reply(struct pinger *p, const struct sent *s)
{
	size_t n = lab_ping_format(p->expect, sizeof(p->expect), s->seq,
	    &s->wall, p->pad);

	lab_upper(p->expect, n, p->expect);
	return n;
}

/*
 * Sorts out one datagram: the reply being waited for, a late reply, a
 * duplicate, or something else.  Returns true for the awaited reply.
 */
static bool
handle_datagram(struct pinger *p, size_t len, uint64_t now)
{
	struct sent *s;
	uint64_t seq;

	if (!lab_ping_parse(span_make(p->buf, len), true, &seq) ||
	    (s = &p->ring[seq % RING])->seq != seq || seq == 0 ||
	    len != expected_reply(p, s) ||
	    memcmp(p->buf, p->expect, len) != 0) {
		p->foreign++;
		printf("%zu bytes from %s: not a reply to this ping "
		    "(ignored)\n", len, p->addr);
		return false;
	}
	if (s->answered) {
		p->dups++;
		printf("reply from %s: seq=%llu (DUP!)\n", p->addr,
		    (unsigned long long)seq);
		return false;
	}
	s->answered = true;
	if (s->timed_out) {
		p->late++;
		printf("reply from %s: seq=%llu time=%.3f ms (late)\n", p->addr,
		    (unsigned long long)seq, (double)(now - s->mono_us) / 1000);
		return false;
	}
	p->received++;
	lab_rtt_add(&p->rtt, now - s->mono_us);
	printf("reply from %s: seq=%llu time=%.3f ms\n", p->addr,
	    (unsigned long long)seq, (double)(now - s->mono_us) / 1000);
	return true;
}

/*
 * Receives until deadline (monotonic microseconds), Ctrl-C, or, when
 * stop_on_reply, the awaited reply.  Each wait is a socket timeout
 * (SO_RCVTIMEO) for the time left.  Returns true when the reply came.
 */
static bool
receive_until(struct pinger *p, uint64_t deadline, bool stop_on_reply)
{
	for (;;) {
		uint64_t now = mono_us(), left;
		struct timeval tv;
		ssize_t n;

		if (now >= deadline || interrupted)
			return false;
		left = deadline - now;
		tv.tv_sec = (time_t)(left / 1000000u);
		tv.tv_usec = (suseconds_t)(left % 1000000u);
		setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = recv(p->fd, p->buf, sizeof(p->buf), 0);
		if (n < 0) {
			/* Nobody listens there: the ping will time out. */
			if (errno == ECONNREFUSED)
				p->refused++;
			else if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				fprintf(stderr, "lanhttpd-ping: recv: %s\n",
				    strerror(errno));
			continue;
		}
		if (handle_datagram(p, (size_t)n, mono_us()) && stop_on_reply)
			return true;
	}
}

/* Sends ping seq, remembering it.  Returns false if it could not leave. */
static bool
send_ping(struct pinger *p, uint64_t seq)
{
	struct sent *s = &p->ring[seq % RING];
	size_t len;

	memset(s, 0, sizeof(*s));
	s->seq = seq;
	clock_gettime(CLOCK_REALTIME, &s->wall);
	len = lab_ping_format(p->buf, sizeof(p->buf), seq, &s->wall, p->pad);
	s->mono_us = mono_us();
	p->transmitted++;
	p->refused = 0;
	for (int tries = 0; tries < 2; tries++) {
		/* A send may first report the last ping's "unreachable". */
		if (send(p->fd, p->buf, len, 0) == (ssize_t)len)
			return true;
		if (errno != ECONNREFUSED)
			break;
	}
	printf("seq=%llu send failed: %s\n", (unsigned long long)seq,
	    strerror(errno));
	return false;
}

static void
summary(const struct pinger *p, uint64_t elapsed_us)
{
	double avg, mdev, loss = 0;

	if (p->transmitted > 0)
		loss = (double)(p->transmitted - p->received) * 100 /
		    (double)p->transmitted;
	printf("\n--- %s lanhttpd-ping statistics ---\n", p->host);
	printf("%llu packets transmitted, %llu received",
	    (unsigned long long)p->transmitted,
	    (unsigned long long)p->received);
	if (p->late > 0)
		printf(", +%llu late", (unsigned long long)p->late);
	if (p->dups > 0)
		printf(", +%llu duplicates", (unsigned long long)p->dups);
	printf(", %g%% packet loss, time %llums\n", loss,
	    (unsigned long long)(elapsed_us / 1000));
	if (p->received > 0) {
		lab_rtt_result(&p->rtt, &avg, &mdev);
		printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n",
		    (double)p->rtt.min_us / 1000, avg / 1000,
		    (double)p->rtt.max_us / 1000, mdev / 1000);
	}
}

struct options {
	const char	*port;
	unsigned long	 count;
	uint64_t	 interval_us;
	uint64_t	 timeout_us;
	unsigned long	 size;
};

static int
parse_options(int argc, char **argv, struct options *o)
{
	unsigned long port;
	int ch;

	while ((ch = getopt(argc, argv, "p:c:i:W:s:h")) != -1) {
		switch (ch) {
		case 'p':
			if (!parse_count(optarg, 65535, &port) || port == 0) {
				fprintf(stderr,
				    "lanhttpd-ping: bad port '%s'\n", optarg);
				return -1;
			}
			o->port = optarg;
			break;
		case 'c':
			if (!parse_count(optarg, 1000000000, &o->count)) {
				fprintf(stderr,
				    "lanhttpd-ping: bad count '%s'\n", optarg);
				return -1;
			}
			break;
		case 'i':
		case 'W':
			if (!parse_seconds(optarg, 0.001, 3600, ch == 'i' ?
			    &o->interval_us : &o->timeout_us)) {
				fprintf(stderr, "lanhttpd-ping: bad %s '%s' "
				    "(seconds, 0.001 to 3600)\n",
				    ch == 'i' ? "interval" : "timeout", optarg);
				return -1;
			}
			break;
		case 's':
			if (!parse_count(optarg, MAX_SIZE, &o->size)) {
				fprintf(stderr, "lanhttpd-ping: bad size '%s' "
				    "(0 to %d)\n", optarg, MAX_SIZE);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Pings until the count is done or Ctrl-C; returns the time it took. */
static uint64_t
run(struct pinger *p, const struct options *o)
{
	uint64_t start = mono_us();

	for (uint64_t seq = 1; !interrupted && (o->count == 0 ||
	    seq <= o->count); seq++) {
		uint64_t sent_at = mono_us();
		bool last = o->count != 0 && seq == o->count;

		if (send_ping(p, seq) &&
		    !receive_until(p, sent_at + o->timeout_us, true) &&
		    !interrupted) {
			p->ring[seq % RING].timed_out = true;
			printf("seq=%llu Request timed out%s\n",
			    (unsigned long long)seq, p->refused > 0 ?
			    " (port unreachable)" : "");
		}
		/* Until the next ping is due, late replies still count. */
		if (!last)
			receive_until(p, sent_at + o->interval_us, false);
	}
	return mono_us() - start;
}

int
main(int argc, char **argv)
{
	struct options o = {
		.port = DEFAULT_PORT, .count = 10, .interval_us = 1000000,
		.timeout_us = 1000000,
	};
	struct sigaction sa;
	struct pinger *p;
	uint64_t elapsed;
	size_t first;
	int rc;

	if (parse_options(argc, argv, &o) < 0)
		return EXIT_USAGE;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		fprintf(stderr, "lanhttpd-ping: out of memory\n");
		return EXIT_USAGE;
	}
	p->host = argv[optind];
	p->pad = o.size;
	if ((p->fd = open_socket(p, o.port)) < 0) {
		free(p);
		return EXIT_USAGE;
	}
	/* No SA_RESTART: Ctrl-C interrupts the wait for a reply. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	{
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		first = lab_ping_format(p->buf, sizeof(p->buf), 1, &now,
		    p->pad);
	}
	printf("PING %s (%s) port %s: %zu bytes of data\n", p->host, p->addr,
	    o.port, first);
	elapsed = run(p, &o);
	summary(p, elapsed);
	rc = p->received > 0 ? EXIT_REPLIES : EXIT_NO_REPLY;
	close(p->fd);
	free(p);
	return rc;
}
