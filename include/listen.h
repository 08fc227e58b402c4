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
	bool		 any_port;	/* configured with port 0 */
	struct sockaddr_storage addr;	/* the bound address */
	char		 name[80];	/* printable address */
};

/*
 * Opens the listeners for c: the sockets systemd passed, when LISTEN_FDS is
 * set for this process, otherwise one socket per c->listen entry (a
 * wildcard entry is one dual-stack IPv6 socket, or IPv4 where IPv6 is
 * missing).  Sockets are non-blocking and close-on-exec.  On success stores
 * a heap array in *out (free with listen_close_all()) and returns 0; on
 * failure logs why and returns a negative errno.  On success it also
 * takes what listen_announce() will need, as that runs in the sandbox
 * where it could not: the interface addresses, the default routes,
 * whether stdout is a terminal (and gives stdout its buffer), and
 * c->lan_address.  Main thread only, before the sandbox.
 */
int	listen_open(const struct config *c, struct listener **out, size_t *n);

/*
 * The listener set for c on a reload: entries of cur whose address c still
 * asks for are copied (same descriptor, so no client is refused), the
 * others are opened anew.  Sockets from systemd are kept as they are.  On
 * success stores a new heap array in *out and returns 0; on failure
 * closes what it opened and returns a negative errno.
 */
int	listen_reuse(const struct config *c, const struct listener *cur,
	    size_t ncur, struct listener **out, size_t *n);

/* Closes and frees what listen_open() returned; NULL is allowed. */
void	listen_close_all(struct listener *ls, size_t n);

/*
 * Says where the server can be reached.  Interactive (a person at a
 * terminal): prints to stdout the URLs to open, for wildcard listeners one
 * per non-loopback interface address plus localhost.  Then, when stdout is
 * a terminal too, the QR code (qr_terminal()) of http://IP:PORT/ on the
 * first HTTP listener that takes every address (else the first HTTP one),
 * with a line naming that URL: IP is the address [server] lan_address
 * names, or the best LAN address found (qr_pick_address()), or, for a
 * listener bound to one address, that address.  Otherwise logs one
 * "listening on http://ADDR:PORT/" line per listener.  Uses and then drops
 * what listen_open() learnt.  Main thread only.
 */
void	listen_announce(const struct listener *ls, size_t n, const char *root,
	    bool interactive);

#endif /* LANHTTPD_LISTEN_H */
