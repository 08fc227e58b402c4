/*
 * listen.c - listening sockets, bound or adopted; see listen.h.
 */
#include "listen.h"

#include <arpa/inet.h>
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

#define LISTEN_BACKLOG	4096

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

int
listen_open(const struct config *c, struct listener **out, size_t *n)
{
	struct listener *ls;
	int r;

	if ((r = adopt_fds(c, out, n)) != 0)
		return r < 0 ? r : 0;
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

/* One URL per usable interface address of the listener's family. */
static void
print_interface_urls(uint16_t port, bool v6_too)
{
	struct ifaddrs *ifa, *i;
	char host[INET6_ADDRSTRLEN];

	if (getifaddrs(&ifa) != 0)
		return;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || !(i->ifa_flags & IFF_UP) ||
		    (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)i->ifa_addr;

			inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
			printf("  http://%s:%u/\n", host, port);
		} else if (i->ifa_addr->sa_family == AF_INET6 && v6_too) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)i->ifa_addr;

			/* Link-local addresses need a zone a browser won't take. */
			if (IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr))
				continue;
			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
			printf("  http://[%s]:%u/\n", host, port);
		}
	}
	freeifaddrs(ifa);
}

void
listen_announce(const struct listener *ls, size_t n, const char *root,
    bool interactive)
{
	if (interactive)
		printf("lanhttpd: serving %s\n", root);
	for (size_t i = 0; i < n; i++) {
		const struct listener *l = &ls[i];
		uint16_t port = port_of(&l->addr);
		bool any = false;

		if (!interactive) {
			log_info("listening on %s://%s/%s",
			    config_proto_name(l->proto), l->name,
			    l->activated ? " (socket activation)" : "");
			continue;
		}
		if (l->proto != PROTO_HTTP) {
			printf("  %s service on %s port %u\n",
			    config_proto_name(l->proto),
			    config_proto_dgram(l->proto) ? "UDP" : "TCP", port);
			continue;
		}
		if (l->addr.ss_family == AF_INET6) {
			const struct sockaddr_in6 *a = (const void *)&l->addr;

			any = IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr);
		} else if (l->addr.ss_family == AF_INET) {
			const struct sockaddr_in *a = (const void *)&l->addr;

			any = a->sin_addr.s_addr == htonl(INADDR_ANY);
		}
		if (any) {
			printf("  http://localhost:%u/\n", port);
			print_interface_urls(port, l->addr.ss_family == AF_INET6);
		} else {
			printf("  http://%s/\n", l->name);
		}
	}
	fflush(stdout);
}
