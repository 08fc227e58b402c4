/*
 * mdns.h - DNS-SD announcements on the local network through avahi-daemon
 * ([mdns]): a _http._tcp service with the TXT record "path=/", and a
 * _webdav._tcp one beside it when [webdav] is on, for each port of the
 * HTTP listeners that are not bound to loopback only.  The instance name
 * is [mdns] name with "%h" replaced by the host name, cut to the 63 bytes
 * of a DNS label; a second port gets "NAME (port N)".  On a name
 * collision Avahi's alternative name is taken ("NAME #2").
 *
 * We talk to avahi-daemon over D-Bus with libavahi-client, never to the
 * network.  Everything Avahi does happens on its own thread (a threaded
 * poll) that connects in the background, so start-up never waits for
 * D-Bus.  Without a system bus or avahi-daemon this says so once and
 * tries again later (Avahi watches for the daemon to appear on the bus; a
 * missing bus is retried after 1, 2, 4 ... 60 s); a daemon that restarts
 * gets the services again.
 *
 * Called from the main thread only.  The thread starts after the sandbox
 * is applied: the D-Bus socket is a pathname unix socket, and sandbox.c's
 * seccomp allow-list has the calls libdbus and gethostname() make.
 */
#ifndef LANHTTPD_MDNS_H
#define LANHTTPD_MDNS_H

#include <stddef.h>

struct config;
struct listener;
struct mdns;

/*
 * Starts announcing what cfg and the listeners ls[0..n) call for.
 * Returns the handle to pass to mdns_update() and mdns_stop(), or NULL
 * when there is nothing to announce ([mdns] enable = off, or no HTTP
 * listener beyond loopback) or the thread cannot start (logged): never
 * fatal.  Nothing of cfg or ls is kept.  Does not block.
 */
struct mdns	*mdns_start(const struct config *cfg, const struct listener *ls,
		    size_t n);

/*
 * After a reload: brings the announcements in line with cfg and ls[0..n)
 * (name, ports, _webdav._tcp, on or off) and returns the handle to keep
 * in place of m: m itself, a new handle (m was NULL), or NULL (m was
 * stopped as by mdns_stop(), or nothing to announce).  Unchanged
 * settings leave the records alone.  Makes no D-Bus call itself, but
 * may wait for one the Avahi thread has in progress.
 */
struct mdns	*mdns_update(struct mdns *m, const struct config *cfg,
		    const struct listener *ls, size_t n);

/*
 * Withdraws the records (avahi-daemon sends the goodbyes), disconnects,
 * stops the thread and frees m.  NULL is fine.  Waits at most for D-Bus
 * calls to avahi-daemon, which answers them at once unless hung.
 */
void	mdns_stop(struct mdns *m);

#endif /* LANHTTPD_MDNS_H */
