/*
 * qr.h - QR codes of a URL, for a terminal and as SVG, and the choice of
 * the address a phone on the same network should use.
 *
 * The codes come from libqrencode: the text is encoded case-sensitively,
 * its non-alphanumeric characters as 8-bit bytes, in the smallest version
 * that holds it.  Pure apart from libqrencode: no I/O but writing to the
 * FILE or hbuf given, no globals, so every function is thread-safe
 * (libqrencode is, as built with pthreads).  Nothing keeps a pointer to
 * its arguments.
 */
#ifndef LANHTTPD_QR_H
#define LANHTTPD_QR_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "http_response.h"

/* Modules of quiet zone around the code drawn by qr_terminal(). */
#define QR_TERMINAL_QUIET	2
/* Modules of quiet zone around the code drawn by qr_svg(), as ISO 18004. */
#define QR_SVG_QUIET		4

/*
 * Draws the QR code of text (error correction level L: a terminal is
 * seldom tall enough to spare the modules) to out, two module rows per
 * line with the half blocks U+2580, U+2584 and U+2588, a quiet zone of
 * QR_TERMINAL_QUIET modules, each line indented by two spaces.  The
 * convention, so that it scans on dark and light terminals alike: a
 * block's ink is a light module and a blank cell's background a dark one,
 * and every line is coloured white on black (SGR "40;37;97", reset with
 * SGR 0 before the newline).  A terminal that ignores colour still shows
 * light modules in its (light) text colour on its (dark) background, the
 * common case.  The bottom half of the last line, below the quiet zone
 * when the height is odd, is light.  The lines number
 * (width + 2 * QR_TERMINAL_QUIET + 1) / 2.  Returns 0, or -1 when text
 * does not fit a QR code, memory runs out, or writing to out fails.
 */
int	qr_terminal(const char *text, FILE *out);

/*
 * Appends to out an SVG image (image/svg+xml) of the QR code of text, at
 * error correction level M: a white background, one black <path> of the
 * dark modules (one subpath per run of a row), shape-rendering
 * "crispEdges", and a viewBox in modules, "0 0 N N", where N is the
 * code's width plus 2 * QR_SVG_QUIET; width and height are 8 pixels a
 * module, for a page that does not size it.  Returns 0, or -1 when text
 * does not fit a QR code or memory runs out (out may then hold part of
 * the image; out->overflow tells a full buffer).
 */
int	qr_svg(const char *text, struct hbuf *out);

/* One address of a network interface, as getifaddrs(3) gives it. */
struct qr_ifaddr {
	char		 ifname[IF_NAMESIZE];	/* "" when unknown */
	int		 family;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr	 v4;
		struct in6_addr	 v6;
	}		 addr;
	unsigned	 flags;		/* IFF_UP, IFF_LOOPBACK, ... */
	bool		 default_route;	/* a default route leaves by it */
};

/*
 * Chooses among list[0..n) the address to show a person who wants to
 * open the server from another device on the LAN, and copies it to *out.
 *
 * With want NULL, the best usable address of an interface that is up:
 * IPv4 on an ordinary interface (RFC 1918 addresses before others), then
 * IPv6 (global or unique local), then the same on interfaces that are
 * VPNs, containers' or virtual machines' bridges (point-to-point, or a
 * name such as docker0, br-*, veth*, virbr*, tun*, tailscale*, wg*,
 * vEthernet), then IPv4 link-local.  Loopback and IPv6 link-local
 * addresses (which need a zone a browser will not take) are never
 * chosen.  Among equals, an interface a default route leaves by, then
 * the earlier entry.
 *
 * With want set ([server] lan_address): the first IPv4 address of the
 * interface named want (or its first IPv6 address other than link-local
 * when it has no IPv4 one); otherwise, when want is an IPv4 or IPv6
 * address, that address (the entry that has it, or out->ifname "" and
 * out->flags IFF_UP).  Neither loopback nor the ranking applies: what is
 * asked for is given.
 *
 * Returns 0, or -1 when nothing fits: want names neither an interface of
 * list with an address nor an address, or, want NULL, no address is
 * usable.  out is then unchanged.
 */
int	qr_pick_address(const struct qr_ifaddr *list, size_t n,
	    const char *want, struct qr_ifaddr *out);

#endif /* LANHTTPD_QR_H */
