/*
 * listen.c - listening sockets, bound or adopted; see listen.h.
 */
#include "listen.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "qr.h"

#define LISTEN_BACKLOG	4096

/*
 * What the start-up announcement needs from outside the process, taken
 * by listen_open() and dropped by listen_announce().  The announcement
 * runs inside the sandbox (sandbox.h), whose seccomp filter kills the
 * process on the netlink socket of getifaddrs() and on the terminal
 * ioctl of isatty(); listen_open() runs before it.  Main thread only.
 */
static struct {
	struct qr_ifaddr *ifs;		/* every interface address */
	size_t		 nifs;
	bool		 stdout_tty;
	char		*lan_address;	/* [server] lan_address, or NULL */
} survey;

static char stdout_buf[BUFSIZ];

/* mark_default_routes() reads interface names with "%15s". */
static_assert(IF_NAMESIZE == 16, "IF_NAMESIZE is not 16");

static int
set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

/*
 * A ping socket reports the address each datagram was sent to, so that the
 * reply can leave from it even when the socket is bound to every address
 * (IPV6_RECVPKTINFO covers IPv4 clients of a dual-stack socket too).
 */
static int
ask_pktinfo(int fd, int family)
{
	int one = 1, r;

	if (family == AF_INET6)
		r = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
		    sizeof(one));
	else
		r = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	return r < 0 ? -errno : 0;
}

static void
name_listener(struct listener *l)
{
	socklen_t len = sizeof(l->addr);

	if (getsockname(l->fd, (struct sockaddr *)&l->addr, &len) == 0)
		config_format_addr(&l->addr, l->name, sizeof(l->name));
	else
		snprintf(l->name, sizeof(l->name), "fd %d", l->fd);
}

/*
 * Options every accepted connection inherits from its listener, set once
 * here instead of once per connection.  TCP_NODELAY: responses leave as
 * soon as they are written (the send loop batches with MSG_MORE itself).
 * For HTTP also TCP_DEFER_ACCEPT: accept() returns once the request has
 * arrived, so the first read finds it, and a client that connects and
 * says nothing costs no connection for a second.  Not for services where
 * the server speaks first.  Failures are harmless: both are hints.
 */
static void
tune_stream(int fd, enum listen_proto proto)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (proto == PROTO_HTTP)
		setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof(one));
}

/*
 * Checks a socket systemd passed against the protocol its name gives:
 * ping wants a datagram socket, the others a listening stream socket.
 */
static int
check_adopted(struct listener *l)
{
	int type = 0, acc = 0, r;
	socklen_t len = sizeof(type);
	bool dgram = config_proto_dgram(l->proto);

	if (getsockopt(l->fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		type = -1;
	len = sizeof(acc);
	if (!dgram && (getsockopt(l->fd, SOL_SOCKET, SO_ACCEPTCONN, &acc,
	    &len) < 0 || !acc))
		type = -1;
	if (type != (dgram ? SOCK_DGRAM : SOCK_STREAM)) {
		log_err("socket activation: fd %d is not a %s socket, as its "
		    "name '%s' asks", l->fd, dgram ? "datagram" : "listening",
		    config_proto_name(l->proto));
		return -EINVAL;
	}
	if ((r = set_flags(l->fd)) < 0)
		return r;
	name_listener(l);
	if (!dgram)
		tune_stream(l->fd, l->proto);
	return dgram ? ask_pktinfo(l->fd, l->addr.ss_family) : 0;
}

/*
 * A listener for each socket systemd passed (sd_listen_fds(3)).  The name
 * (FileDescriptorName=) says the protocol: "ping", "daytime", "transfer";
 * any other name, or none, is HTTP.  A socket for a service that c turns
 * off is closed with a warning.
 */
static int
adopt_fds(const struct config *c, struct listener **out, size_t *n)
{
	int fds[DAEMON_MAX_FDS];
	const char *names[DAEMON_MAX_FDS];
	struct listener *ls;
	int nfds = daemon_listen_fds(fds, names, DAEMON_MAX_FDS), r;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (nfds <= 0) {
		if (nfds < 0)
			log_errno(LOG_LVL_ERR, -nfds, "socket activation");
		return nfds;
	}
	if ((ls = calloc((size_t)nfds, sizeof(*ls))) == NULL)
		return -ENOMEM;
	for (int i = 0; i < nfds; i++) {
		struct listener *l = &ls[k];

		l->kind = EV_LISTENER;
		l->fd = fds[i];
		l->activated = true;
		if (!config_proto_by_name(names[i], &l->proto))
			l->proto = PROTO_HTTP;
		if (!config_proto_enabled(c, l->proto)) {
			log_warn("socket activation: closing the '%s' socket "
			    "(fd %d): [%s] enable = off", names[i], fds[i],
			    names[i]);
			close(fds[i]);
			continue;
		}
		if ((r = check_adopted(l)) < 0) {
			listen_close_all(ls, k);
			for (int j = i; j < nfds; j++)
				close(fds[j]);
			return r;
		}
		k++;
	}
	*out = ls;
	*n = k;
	return 1;
}

static int
open_one(const struct listen_spec *spec, struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len = spec->addrlen;
	bool dgram = config_proto_dgram(spec->proto);
	int type = (dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK |
	    SOCK_CLOEXEC;
	int fd, one = 1, zero = 0, family, r;

	l->kind = EV_LISTENER;
	l->fd = -1;
	l->proto = spec->proto;
	l->wildcard = spec->wildcard;
	l->any_port = spec->port == 0;
	memset(&ss, 0, sizeof(ss));
	if (spec->wildcard) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_any;
		a6->sin6_port = htons(spec->port);
		len = sizeof(*a6);
	} else {
		memcpy(&ss, &spec->addr, spec->addrlen);
	}
	family = ss.ss_family;
	fd = socket(family, type, 0);
	if (fd < 0 && spec->wildcard && errno == EAFNOSUPPORT) {
		/* No IPv6 here: all IPv4 addresses then. */
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;

		memset(&ss, 0, sizeof(ss));
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_ANY);
		a4->sin_port = htons(spec->port);
		len = sizeof(*a4);
		family = AF_INET;
		fd = socket(family, type, 0);
	}
	if (fd < 0)
		return -errno;
	/* On UDP it would let a second process share the port unnoticed. */
	if (!dgram)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A wildcard socket takes IPv4 clients too (dual-stack). */
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		    spec->wildcard ? &zero : &one, sizeof(int));
	if (!dgram)
		tune_stream(fd, spec->proto);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		r = -errno;
	else if (dgram)
		r = ask_pktinfo(fd, family);
	else
		r = listen(fd, LISTEN_BACKLOG) < 0 ? -errno : 0;
	if (r < 0) {
		close(fd);
		return r;
	}
	l->fd = fd;
	name_listener(l);
	return 0;
}

/* Forgets what survey_take() found. */
static void
survey_release(void)
{
	free(survey.ifs);
	free(survey.lan_address);
	memset(&survey, 0, sizeof(survey));
}

/*
 * Marks the addresses of ifs[0..n) whose interface an IPv4 default route
 * leaves by, from /proc/net/route (a hint: without it nothing is marked).
 */
static void
mark_default_routes(struct qr_ifaddr *ifs, size_t n)
{
	char line[256], name[IF_NAMESIZE], dst[9], mask[9];
	FILE *f = fopen("/proc/net/route", "re");

	if (f == NULL)
		return;
	/* Iface Destination Gateway Flags RefCnt Use Metric Mask ... */
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%15s %8s %*s %*s %*s %*s %*s %8s", name, dst,
		    mask) != 3 || strcmp(dst, "00000000") != 0 ||
		    strcmp(mask, "00000000") != 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (strcmp(ifs[i].ifname, name) == 0)
				ifs[i].default_route = true;
	}
	fclose(f);
}

/*
 * Copies the IPv4 and IPv6 addresses of the list ifa to out as qr_ifaddr
 * entries and returns their number; with out NULL, only counts them.
 */
static size_t
copy_ifaddrs(const struct ifaddrs *ifa, struct qr_ifaddr *out)
{
	size_t n = 0;

	for (const struct ifaddrs *i = ifa; i != NULL; i = i->ifa_next) {
		struct qr_ifaddr *a;
		int family = i->ifa_addr == NULL ? AF_UNSPEC :
		    i->ifa_addr->sa_family;

		if (family != AF_INET && family != AF_INET6)
			continue;
		if (out == NULL) {
			n++;
			continue;
		}
		a = &out[n];
		snprintf(a->ifname, sizeof(a->ifname), "%s", i->ifa_name);
		a->family = family;
		if (family == AF_INET)
			a->addr.v4 = ((const struct sockaddr_in *)
			    (const void *)i->ifa_addr)->sin_addr;
		else
			a->addr.v6 = ((const struct sockaddr_in6 *)
			    (const void *)i->ifa_addr)->sin6_addr;
		a->flags = i->ifa_flags;
		n++;
	}
	return n;
}

/*
 * Takes the survey for listen_announce(): the interface addresses, the
 * default routes, whether stdout is a terminal, c's lan_address.  0, or a
 * negative errno; what could be learnt is kept either way.
 */
static int
survey_take(const struct config *c)
{
	struct ifaddrs *ifa;
	size_t n;

	survey_release();
	survey.stdout_tty = isatty(STDOUT_FILENO);
	/*
	 * stdout gets its buffer now: glibc would choose one at the first
	 * printf() and ask isatty() then about any character device but a
	 * pseudo-terminal (/dev/null, a console), inside the sandbox.
	 */
	if (setvbuf(stdout, stdout_buf, survey.stdout_tty ? _IOLBF : _IOFBF,
	    sizeof(stdout_buf)) != 0)
		log_debug("cannot set the buffer of stdout");
	if (c->lan_address != NULL &&
	    (survey.lan_address = strdup(c->lan_address)) == NULL)
		return -ENOMEM;
	if (getifaddrs(&ifa) != 0)
		return -errno;
	n = copy_ifaddrs(ifa, NULL);
	if ((survey.ifs = calloc(n ? n : 1, sizeof(*survey.ifs))) == NULL) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
	survey.nifs = copy_ifaddrs(ifa, survey.ifs);
	freeifaddrs(ifa);
	mark_default_routes(survey.ifs, survey.nifs);
	return 0;
}

/* One listener per c->listen entry into *out. */
static int
open_configured(const struct config *c, struct listener **out, size_t *n)
{
	struct listener *ls;
	int r;

	if ((ls = calloc(c->nlisten, sizeof(*ls))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->nlisten; i++) {
		if ((r = open_one(&c->listen[i], &ls[i])) < 0) {
			char addr[80];

			if (c->listen[i].wildcard)
				snprintf(addr, sizeof(addr), "*:%u",
				    c->listen[i].port);
			else
				config_format_addr(&c->listen[i].addr, addr,
				    sizeof(addr));
			log_errno(LOG_LVL_ERR, -r, "cannot listen on %s://%s/",
			    config_proto_name(c->listen[i].proto), addr);
			listen_close_all(ls, i);
			return r;
		}
	}
	*out = ls;
	*n = c->nlisten;
	return 0;
}

int
listen_open(const struct config *c, struct listener **out, size_t *n)
{
	int r;

	if ((r = adopt_fds(c, out, n)) == 0)
		r = open_configured(c, out, n);
	if (r < 0)
		return r;
	if ((r = survey_take(c)) < 0)
		log_errno(LOG_LVL_WARN, -r,
		    "cannot list the network interfaces");
	return 0;
}

static uint16_t port_of(const struct sockaddr_storage *ss);

/*
 * True when the open listener l is what spec asks for.  The protocol
 * decides the transport, so a ping (UDP) socket never stands in for a TCP
 * listener on the same port, nor daytime for HTTP.
 */
static bool
same_address(const struct listen_spec *spec, const struct listener *l)
{
	if (spec->proto != l->proto || l->fd < 0)
		return false;
	/*
	 * A port of 0 took whatever port it got: keep that one, but never
	 * take a socket that was asked for by its port.
	 */
	if (spec->port == 0 ? !l->any_port : spec->port != port_of(&l->addr))
		return false;
	if (spec->wildcard || l->wildcard)
		return spec->wildcard && l->wildcard;
	if (spec->addr.ss_family != l->addr.ss_family)
		return false;
	if (spec->addr.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&spec->addr)->sin_addr.s_addr
		    == ((const struct sockaddr_in *)&l->addr)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)&spec->addr)->sin6_addr,
	    &((const struct sockaddr_in6 *)&l->addr)->sin6_addr,
	    sizeof(struct in6_addr)) == 0;
}

/*
 * The listener of cur[0..ncur) bound to the address a and not yet used[]
 * by another spec, or NULL; marks it used.  Two port-0 specs of one
 * address are two sockets, so a listener is never matched twice.
 */
static const struct listener *
find_listener(const struct listen_spec *a, const struct listener *cur,
    size_t ncur, bool *used)
{
	for (size_t j = 0; j < ncur; j++) {
		if (!used[j] && same_address(a, &cur[j])) {
			used[j] = true;
			return &cur[j];
		}
	}
	return NULL;
}

/* Closes the sockets of ls[0..n) that are not also in cur[0..ncur). */
static void
close_new(const struct listener *ls, size_t n, const struct listener *cur,
    size_t ncur)
{
	for (size_t k = 0; k < n; k++) {
		bool shared = false;

		for (size_t j = 0; j < ncur && !shared; j++)
			shared = cur[j].fd == ls[k].fd;
		if (!shared && ls[k].fd >= 0)
			close(ls[k].fd);
	}
}

/*
 * Gives each spec of c in ls[0..c->nlisten) the socket of cur[0..ncur)
 * that listens on its address, or -1; 0 or -ENOMEM.
 */
static int
match_current(const struct config *c, const struct listener *cur,
    size_t ncur, struct listener *ls)
{
	bool *used = calloc(ncur ? ncur : 1, sizeof(*used));

	if (used == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->nlisten; i++)
		ls[i].fd = -1;
	/*
	 * Specs with a port first, so a port-0 spec cannot take the socket
	 * a spec naming that port needs.
	 */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->nlisten; i++) {
			const struct listener *match;

			if ((c->listen[i].port == 0) != (pass == 1))
				continue;
			match = find_listener(&c->listen[i], cur, ncur, used);
			if (match != NULL)
				ls[i] = *match;
		}
	}
	free(used);
	return 0;
}

int
listen_reuse(const struct config *c, const struct listener *cur,
    size_t ncur, struct listener **out, size_t *n)
{
	struct listener *ls;
	bool activated = ncur > 0 && cur[0].activated;
	/* Sockets systemd passed stay as they are: systemd owns the addresses. */
	size_t want = activated ? ncur : c->nlisten;
	int r;

	if ((ls = calloc(want ? want : 1, sizeof(*ls))) == NULL)
		return -ENOMEM;
	if (activated) {
		memcpy(ls, cur, ncur * sizeof(*ls));
		*out = ls;
		*n = ncur;
		return 0;
	}
	if ((r = match_current(c, cur, ncur, ls)) < 0) {
		free(ls);
		return r;
	}
	for (size_t i = 0; i < want; i++) {
		if (ls[i].fd >= 0)
			continue;
		if ((r = open_one(&c->listen[i], &ls[i])) < 0) {
			log_errno(LOG_LVL_ERR, -r,
			    "cannot listen on %s port %u",
			    config_proto_name(c->listen[i].proto),
			    c->listen[i].port);
			/* Close only what this call opened. */
			close_new(ls, want, cur, ncur);
			free(ls);
			return r;
		}
	}
	*out = ls;
	*n = want;
	return 0;
}

void
listen_close_all(struct listener *ls, size_t n)
{
	if (ls == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		if (ls[i].fd >= 0)
			close(ls[i].fd);
	free(ls);
}

static uint16_t
port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* True when ss is the wildcard address of its family. */
static bool
is_any(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *a6 = (const void *)ss;
	const struct sockaddr_in *a4 = (const void *)ss;

	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr);
	if (ss->ss_family == AF_INET)
		return a4->sin_addr.s_addr == htonl(INADDR_ANY);
	return false;
}

/* "http://HOST:PORT/" for a, with an IPv6 address in brackets, into buf. */
static void
format_url(const struct qr_ifaddr *a, uint16_t port, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family, &a->addr, host, sizeof(host)) == NULL)
		snprintf(host, sizeof(host), "?");
	snprintf(buf, cap, a->family == AF_INET6 ? "http://[%s]:%u/" :
	    "http://%s:%u/", host, port);
}

/*
 * One URL per usable interface address of the listener's family: every
 * address of an interface that is up, but loopback and IPv6 link-local
 * ones (which need a zone a browser won't take).
 */
static void
print_interface_urls(uint16_t port, bool v6_too)
{
	char url[INET6_ADDRSTRLEN + 32];

	for (size_t i = 0; i < survey.nifs; i++) {
		const struct qr_ifaddr *a = &survey.ifs[i];

		if (!(a->flags & IFF_UP) || (a->flags & IFF_LOOPBACK))
			continue;
		if (a->family == AF_INET6 && (!v6_too ||
		    IN6_IS_ADDR_LINKLOCAL(&a->addr.v6)))
			continue;
		format_url(a, port, url, sizeof(url));
		printf("  %s\n", url);
	}
}

/* The interactive lines of listener l. */
static void
print_listener(const struct listener *l)
{
	uint16_t port = port_of(&l->addr);

	if (l->proto != PROTO_HTTP) {
		printf("  %s service on %s port %u\n",
		    config_proto_name(l->proto),
		    config_proto_dgram(l->proto) ? "UDP" : "TCP", port);
	} else if (is_any(&l->addr)) {
		printf("  http://localhost:%u/\n", port);
		print_interface_urls(port, l->addr.ss_family == AF_INET6);
	} else {
		printf("  http://%s/\n", l->name);
	}
}

/*
 * The address a phone should open l at: with [server] lan_address, the
 * one it names; otherwise the best LAN address when l listens on every
 * address, or l's own.  0, or -1 when there is none.
 */
static int
pick_address(const struct listener *l, struct qr_ifaddr *pick)
{
	char own[INET6_ADDRSTRLEN];
	const void *addr;

	if (survey.lan_address != NULL) {
		if (qr_pick_address(survey.ifs, survey.nifs,
		    survey.lan_address, pick) == 0)
			return 0;
		log_warn("[server] lan_address: '%s' is neither an interface "
		    "with an address nor an IP address; the QR code shows "
		    "the best address found", survey.lan_address);
	}
	if (is_any(&l->addr))
		return qr_pick_address(survey.ifs, survey.nifs, NULL, pick);
	/* The listener's own address, with its interface's details. */
	if (l->addr.ss_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)
		    &l->addr)->sin6_addr;
	else
		addr = &((const struct sockaddr_in *)(const void *)
		    &l->addr)->sin_addr;
	if (inet_ntop(l->addr.ss_family, addr, own, sizeof(own)) == NULL)
		return -1;
	return qr_pick_address(survey.ifs, survey.nifs, own, pick);
}

/*
 * Under the list, when stdout is a terminal: the QR code of the URL a
 * phone on the same network can open, on the first HTTP listener that
 * takes every address, else the first HTTP listener.
 */
static void
print_qr(const struct listener *ls, size_t n)
{
	const struct listener *http = NULL;
	struct qr_ifaddr pick;
	char url[INET6_ADDRSTRLEN + 32];

	for (size_t i = 0; i < n; i++) {
		if (ls[i].proto != PROTO_HTTP)
			continue;
		if (http == NULL ||
		    (is_any(&ls[i].addr) && !is_any(&http->addr)))
			http = &ls[i];
	}
	if (http == NULL)
		return;
	if (pick_address(http, &pick) < 0) {
		printf("\n  (no LAN address for a QR code)\n");
		return;
	}
	format_url(&pick, port_of(&http->addr), url, sizeof(url));
	printf("\n  QR code of %s:\n", url);
	if (qr_terminal(url, stdout) < 0)
		log_warn("cannot draw the QR code of %s", url);
}

void
listen_announce(const struct listener *ls, size_t n, const char *root,
    bool interactive)
{
	if (interactive)
		printf("lanhttpd: serving %s\n", root);
	for (size_t i = 0; i < n; i++) {
		const struct listener *l = &ls[i];

		if (interactive)
			print_listener(l);
		else
			log_info("listening on %s://%s/%s",
			    config_proto_name(l->proto), l->name,
			    l->activated ? " (socket activation)" : "");
	}
	if (interactive && survey.stdout_tty)
		print_qr(ls, n);
	fflush(stdout);
	survey_release();
}
