/*
 * qr.c - QR codes for a terminal and as SVG, and the LAN address to put
 * in them; see qr.h.
 */
#include "qr.h"

#include <arpa/inet.h>
#include <qrencode.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* The largest QR code, version 40, is 177 modules wide. */
#define QR_MAX_WIDTH	177

/*
 * The colours of a terminal line: black background (dark modules), white
 * ink (light ones).  37 is the white of the eight basic colours every
 * colour terminal has; 97, bright white, follows it where the terminal
 * knows it, since many themes make 37 a grey.
 */
#define QR_TERM_ON	"\033[40;37;97m"
#define QR_TERM_OFF	"\033[0m"

/* UTF-8 of the half and full blocks, by which halves are light. */
#define QR_UPPER	"\xe2\x96\x80"	/* U+2580: upper half light */
#define QR_LOWER	"\xe2\x96\x84"	/* U+2584: lower half light */
#define QR_FULL		"\xe2\x96\x88"	/* U+2588: both light */

static QRcode *
encode(const char *text, QRecLevel level)
{
	return QRcode_encodeString(text, 0, level, QR_MODE_8, 1);
}

/*
 * True when the module at (x, y) of the code drawn with quiet modules of
 * margin around it is dark; everything outside the code is light.
 */
static bool
dark_at(const QRcode *qr, int quiet, int x, int y)
{
	x -= quiet;
	y -= quiet;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return false;
	return qr->data[y * qr->width + x] & 1;
}

/* The half block for a cell whose upper and lower modules are light or not. */
static const char *
cell(bool top, bool bottom)
{
	if (top && bottom)
		return QR_FULL;
	if (top)
		return QR_UPPER;
	return bottom ? QR_LOWER : " ";
}

/* Writes the line of module rows y and y + 1 to out; 0 or -1. */
static int
terminal_line(const QRcode *qr, int y, FILE *out)
{
	static const char head[] = "  " QR_TERM_ON, tail[] = QR_TERM_OFF "\n";
	/* 3 bytes a module at most. */
	char line[sizeof(head) + 3 * (QR_MAX_WIDTH + 2 * QR_TERMINAL_QUIET) +
	    sizeof(tail)];
	int side = qr->width + 2 * QR_TERMINAL_QUIET;
	size_t len = sizeof(head) - 1;

	memcpy(line, head, len);
	for (int x = 0; x < side; x++) {
		const char *c = cell(!dark_at(qr, QR_TERMINAL_QUIET, x, y),
		    !dark_at(qr, QR_TERMINAL_QUIET, x, y + 1));

		memcpy(line + len, c, strlen(c));
		len += strlen(c);
	}
	memcpy(line + len, tail, sizeof(tail));
	return fputs(line, out) == EOF ? -1 : 0;
}

/*
 * Why light modules are ink, on a coloured background: a scanner wants
 * dark modules on a light ground, but a terminal's ink may be dark (a
 * light theme) or light (a dark theme, the more common).  Every line
 * sets its colours, white ink on black, so the code is the right way
 * round whatever the theme.  Where colours are ignored, the ink is the
 * terminal's own, and drawing the light modules with it is right for
 * the usual light text on a dark screen.  A quiet zone of 2 modules
 * rather than the standard 4 keeps the code small: scanners still read
 * it with a dark screen around, and a light theme's page adds to it.
 */
int
qr_terminal(const char *text, FILE *out)
{
	QRcode *qr;
	int side, rc = 0;

	if ((qr = encode(text, QR_ECLEVEL_L)) == NULL)
		return -1;
	/* Never more than version 40: terminal_line() counts on it. */
	if (qr->width > QR_MAX_WIDTH)
		rc = -1;
	side = qr->width + 2 * QR_TERMINAL_QUIET;
	for (int y = 0; y < side && rc == 0; y += 2)
		rc = terminal_line(qr, y, out);
	QRcode_free(qr);
	return rc;
}

/* Appends the subpaths of the runs of dark modules of row y. */
static void
svg_row(const QRcode *qr, int y, struct hbuf *out)
{
	const unsigned char *row = qr->data + (size_t)y * (size_t)qr->width;

	for (int x = 0; x < qr->width; x++) {
		int run = 0;

		while (x + run < qr->width && (row[x + run] & 1))
			run++;
		if (run == 0)
			continue;
		hb_fmt(out, "M%d %dh%dv1H%dz", x + QR_SVG_QUIET,
		    y + QR_SVG_QUIET, run, x + QR_SVG_QUIET);
		x += run;
	}
}

int
qr_svg(const char *text, struct hbuf *out)
{
	QRcode *qr;
	int side;

	if ((qr = encode(text, QR_ECLEVEL_M)) == NULL)
		return -1;
	side = qr->width + 2 * QR_SVG_QUIET;
	hb_fmt(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
	    "shape-rendering=\"crispEdges\">"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
	    "<path fill=\"#000\" d=\"", side, side, 8 * side, 8 * side,
	    side, side);
	for (int y = 0; y < qr->width; y++)
		svg_row(qr, y, out);
	hb_str(out, "\"/></svg>\n");
	QRcode_free(qr);
	return out->overflow ? -1 : 0;
}

/* True when name starts with the name of a kind of virtual interface. */
static bool
virtual_name(const char *name)
{
	/*
	 * Containers' and virtual machines' bridges and veth pairs, VPNs
	 * (WireGuard, Tailscale, ZeroTier, OpenVPN's tun and tap, macOS's
	 * utun), Kubernetes' network plugins, and the Hyper-V switch WSL
	 * shows.  A phone on the LAN reaches none of them, or only through
	 * the VPN.  br0, a bridge a LAN is often put on, is not among them.
	 */
	static const char *const prefixes[] = {
		"docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "tun",
		"tap", "wg", "tailscale", "zt", "utun", "lxc", "lxd", "cni",
		"flannel", "cali", "podman", "vEthernet", "cilium", "weave",
		"kube-",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/*
 * The kind of an IPv4 address a (network byte order): 0 private (RFC
 * 1918), 1 other unicast, 2 link-local (RFC 3927), -1 unusable (loopback,
 * "this network", multicast and above).
 */
static int
v4_kind(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	if ((h >> 24) == 127 || (h >> 24) == 0 || (h >> 28) >= 14)
		return -1;
	if ((h >> 24) == 10 || (h >> 20) == 0xac1 || (h >> 16) == 0xc0a8)
		return 0;
	if ((h >> 16) == 0xa9fe)
		return 2;
	return 1;
}

/* Ranks for qr_pick_address(), lower is better. */
enum {
	RANK_V4_PRIVATE,
	RANK_V4_OTHER,
	RANK_V6,
	RANK_VIRTUAL,		/* added to the three above */
	RANK_V4_LINKLOCAL = RANK_VIRTUAL + RANK_VIRTUAL,
};

/* The rank of the address of a by its kind alone, or -1 for never. */
static int
address_rank(const struct qr_ifaddr *a)
{
	const struct in6_addr *v6 = &a->addr.v6;

	if (a->family == AF_INET) {
		switch (v4_kind(a->addr.v4)) {
		case 0:
			return RANK_V4_PRIVATE;
		case 1:
			return RANK_V4_OTHER;
		case 2:
			return RANK_V4_LINKLOCAL;
		default:
			return -1;
		}
	}
	if (a->family != AF_INET6 || IN6_IS_ADDR_LINKLOCAL(v6) ||
	    IN6_IS_ADDR_LOOPBACK(v6) || IN6_IS_ADDR_UNSPECIFIED(v6) ||
	    IN6_IS_ADDR_MULTICAST(v6) || IN6_IS_ADDR_V4MAPPED(v6))
		return -1;
	return RANK_V6;
}

/*
 * How good a is for a phone on the LAN, lower is better, -1 for never.
 * Doubled, plus one unless a default route leaves by the interface, so
 * that the route decides between otherwise equal addresses.
 */
static int
rank(const struct qr_ifaddr *a)
{
	int r;

	if (!(a->flags & IFF_UP) || (a->flags & IFF_LOOPBACK) ||
	    (r = address_rank(a)) < 0)
		return -1;
	if (r != RANK_V4_LINKLOCAL && ((a->flags & IFF_POINTOPOINT) ||
	    virtual_name(a->ifname)))
		r += RANK_VIRTUAL;
	return 2 * r + (a->default_route ? 0 : 1);
}

/* The index of the best-ranked entry of list[0..n), or -1. */
static int
pick_best(const struct qr_ifaddr *list, size_t n)
{
	int best = -1, best_rank = 0;

	for (size_t i = 0; i < n && i < INT32_MAX; i++) {
		int r = rank(&list[i]);

		if (r >= 0 && (best < 0 || r < best_rank)) {
			best = (int)i;
			best_rank = r;
		}
	}
	return best;
}

/*
 * The index of the address of the interface named name: its first IPv4
 * one, else its first IPv6 one that is not link-local; -1 if none.
 */
static int
pick_interface(const struct qr_ifaddr *list, size_t n, const char *name)
{
	int v6 = -1;

	for (size_t i = 0; i < n && i < INT32_MAX; i++) {
		const struct qr_ifaddr *a = &list[i];

		if (strcmp(a->ifname, name) != 0)
			continue;
		if (a->family == AF_INET)
			return (int)i;
		if (a->family == AF_INET6 && v6 < 0 &&
		    !IN6_IS_ADDR_LINKLOCAL(&a->addr.v6))
			v6 = (int)i;
	}
	return v6;
}

/*
 * want as an address literal into *lit, with the details of the entry of
 * list that has it when there is one.  0, or -1 if want is no address.
 */
static int
literal(const struct qr_ifaddr *list, size_t n, const char *want,
    struct qr_ifaddr *lit)
{
	memset(lit, 0, sizeof(*lit));
	if (inet_pton(AF_INET, want, &lit->addr.v4) == 1)
		lit->family = AF_INET;
	else if (inet_pton(AF_INET6, want, &lit->addr.v6) == 1)
		lit->family = AF_INET6;
	else
		return -1;
	lit->flags = IFF_UP;
	for (size_t i = 0; i < n; i++) {
		bool same = list[i].family == lit->family &&
		    (lit->family == AF_INET ?
		    list[i].addr.v4.s_addr == lit->addr.v4.s_addr :
		    IN6_ARE_ADDR_EQUAL(&list[i].addr.v6, &lit->addr.v6));

		if (same) {
			*lit = list[i];
			break;
		}
	}
	return 0;
}

int
qr_pick_address(const struct qr_ifaddr *list, size_t n, const char *want,
    struct qr_ifaddr *out)
{
	struct qr_ifaddr lit;
	int i;

	if (want == NULL) {
		if ((i = pick_best(list, n)) < 0)
			return -1;
		*out = list[i];
		return 0;
	}
	if ((i = pick_interface(list, n, want)) >= 0) {
		*out = list[i];
		return 0;
	}
	if (literal(list, n, want, &lit) < 0)
		return -1;
	*out = lit;
	return 0;
}
