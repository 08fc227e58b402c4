/*
 * listen.h - listening sockets: bound from the configuration, or adopted
 * from systemd socket activation (LISTEN_FDS/LISTEN_PID).
 *
 * The event thread owns the listeners once the server starts.
 */
#ifndef LANHTTPD_LISTEN_H
#define LANHTTPD_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config.h"
#include "conn.h"

struct listener {
	enum ev_kind	 kind;		/* EV_LISTENER; must stay first */
	int		 fd;
	enum listen_proto proto;
	bool		 activated;	/* passed in by systemd */
	bool		 wildcard;
	struct sockaddr_storage addr;	/* the bound address */
	char		 name[80];	/* printable address */
};

/*
 * Opens the listeners for c: the sockets systemd passed, when LISTEN_FDS is
 * set for this process, otherwise one socket per c->listen entry (a
 * wildcard entry is one dual-stack IPv6 socket, or IPv4 where IPv6 is
 * missing).  Sockets are non-blocking and close-on-exec.  On success stores
 * a heap array in *out (free with listen_close_all()) and returns 0; on
 * failure logs why and returns a negative errno.
 */
int	listen_open(const struct config *c, struct listener **out, size_t *n);

/* Closes and frees what listen_open() returned; NULL is allowed. */
void	listen_close_all(struct listener *ls, size_t n);

/*
 * Prints the URLs a user can open, one per line, to stdout: for wildcard
 * listeners one per non-loopback interface address plus localhost.
 */
void	listen_print_urls(const struct listener *ls, size_t n,
	    const char *root);

#endif /* LANHTTPD_LISTEN_H */
