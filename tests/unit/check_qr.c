/*
 * check_qr.c - the LAN address the start-up QR code shows, chosen from
 * fake interface lists; the terminal drawing and the SVG read back into
 * modules and compared, module for module, with libqrencode's own code.
 */
#include <arpa/inet.h>
#include <check.h>
#include <expat.h>
#include <net/if.h>
#include <qrencode.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "qr.h"

/* ---- The address choice ---- */

#define UP	IFF_UP
#define LOOP	(IFF_UP | IFF_LOOPBACK)
#define P2P	(IFF_UP | IFF_POINTOPOINT)
#define DFLT	true

struct fake_if {
	const char	*name;
	const char	*addr;
	unsigned	 flags;
	bool		 dflt;		/* a default route leaves by it */
};

#define MAX_FAKES	8

struct pick_case {
	const char	*name;
	struct fake_if	 ifs[MAX_FAKES];	/* up to the first NULL name */
	const char	*want;			/* [server] lan_address */
	const char	*ifname;		/* expected; NULL: -1 */
	const char	*addr;
};

static const struct pick_case pick_cases[] = {
	{ "wlan0 over docker0, tailscale0 and lo", {
	    { "lo", "127.0.0.1", LOOP, false },
	    { "docker0", "172.17.0.1", UP, false },
	    { "wlan0", "fe80::1c2:3ff:fe04:506", UP, false },
	    { "wlan0", "192.168.1.20", UP, false },
	    { "tailscale0", "100.101.102.103", P2P, false },
	    { "lo", "::1", LOOP, false } },
	    NULL, "wlan0", "192.168.1.20" },
	{ "lan_address names eth1", {
	    { "lo", "127.0.0.1", LOOP, false },
	    { "wlan0", "192.168.1.20", UP, DFLT },
	    { "eth1", "2001:db8::5", UP, false },
	    { "eth1", "10.0.0.5", UP, false },
	    { "eth1", "10.0.0.6", UP, false } },
	    "eth1", "eth1", "10.0.0.5" },
	{ "lan_address is an address of no interface", {
	    { "wlan0", "192.168.1.20", UP, false } },
	    "203.0.113.9", "", "203.0.113.9" },
	{ "lan_address is the address of an interface", {
	    { "wlan0", "192.168.1.20", UP, false },
	    { "docker0", "172.17.0.1", UP, false } },
	    "172.17.0.1", "docker0", "172.17.0.1" },
	{ "lan_address is an IPv6 address", {
	    { "wlan0", "192.168.1.20", UP, false } },
	    "2001:db8::1", "", "2001:db8::1" },
	{ "lan_address names loopback: given as asked", {
	    { "lo", "127.0.0.1", LOOP, false },
	    { "wlan0", "192.168.1.20", UP, false } },
	    "lo", "lo", "127.0.0.1" },
	{ "lan_address 127.0.0.1", {
	    { "lo", "127.0.0.1", LOOP, false },
	    { "wlan0", "192.168.1.20", UP, false } },
	    "127.0.0.1", "lo", "127.0.0.1" },
	{ "lan_address names an IPv6-only interface", {
	    { "eth2", "fe80::2", UP, false },
	    { "eth2", "2001:db8::2", UP, false } },
	    "eth2", "eth2", "2001:db8::2" },
	{ "lan_address names nothing", {
	    { "wlan0", "192.168.1.20", UP, false } },
	    "nope0", NULL, NULL },
	{ "only loopback", {
	    { "lo", "127.0.0.1", LOOP, false },
	    { "lo", "::1", LOOP, false } },
	    NULL, NULL, NULL },
	{ "no interface at all", { { NULL, NULL, 0, false } },
	    NULL, NULL, NULL },
	{ "RFC 1918 before a public address", {
	    { "eth0", "203.0.113.5", UP, false },
	    { "eth1", "192.168.0.2", UP, false } },
	    NULL, "eth1", "192.168.0.2" },
	{ "172.16/12 is private, 172.32 is not", {
	    { "eth0", "172.32.0.1", UP, false },
	    { "eth1", "172.31.255.1", UP, false } },
	    NULL, "eth1", "172.31.255.1" },
	{ "a public address before a container bridge", {
	    { "docker0", "172.17.0.1", UP, false },
	    { "eth0", "203.0.113.5", UP, false } },
	    NULL, "eth0", "203.0.113.5" },
	{ "the default route decides between equals", {
	    { "eth0", "192.168.1.2", UP, false },
	    { "wlan0", "192.168.50.3", UP, DFLT } },
	    NULL, "wlan0", "192.168.50.3" },
	{ "the first of equals without routes", {
	    { "eth0", "192.168.1.2", UP, false },
	    { "wlan0", "192.168.50.3", UP, false } },
	    NULL, "eth0", "192.168.1.2" },
	{ "a default route through a VPN does not win", {
	    { "wg0", "10.8.0.2", P2P, DFLT },
	    { "eth0", "192.168.1.2", UP, false } },
	    NULL, "eth0", "192.168.1.2" },
	{ "an interface that is down is skipped", {
	    { "eth0", "192.168.1.2", 0, false },
	    { "wlan0", "10.1.1.1", UP, false } },
	    NULL, "wlan0", "10.1.1.1" },
	{ "global IPv6 before IPv4 on a bridge", {
	    { "virbr0", "192.168.122.1", UP, false },
	    { "eth0", "fe80::5", UP, false },
	    { "eth0", "2001:db8::5", UP, false } },
	    NULL, "eth0", "2001:db8::5" },
	{ "IPv4 link-local as a last resort", {
	    { "lo", "127.0.0.1", LOOP, false },
	    { "eth0", "fe80::5", UP, false },
	    { "eth0", "169.254.3.4", UP, false } },
	    NULL, "eth0", "169.254.3.4" },
	{ "WSL's switch, veth and a br- bridge, but br0", {
	    { "vEthernet (WSL)", "172.20.0.1", UP, false },
	    { "veth1234", "10.200.0.1", UP, false },
	    { "br-5f3a9c", "172.18.0.1", UP, false },
	    { "br0", "192.168.1.4", UP, false } },
	    NULL, "br0", "192.168.1.4" },
	{ "point-to-point, whatever its name", {
	    { "ppp0", "10.64.0.2", P2P, false },
	    { "eth0", "198.51.100.7", UP, false } },
	    NULL, "eth0", "198.51.100.7" },
	{ "every interface virtual: the best of them", {
	    { "docker0", "172.17.0.1", UP, false },
	    { "tailscale0", "100.101.102.103", P2P, false },
	    { "lxcbr0", "10.0.3.1", UP, false } },
	    NULL, "docker0", "172.17.0.1" },
};

/* The entries of c as a list; returns their number. */
static size_t
fake_list(const struct pick_case *c, struct qr_ifaddr *list)
{
	size_t n = 0;

	for (; n < MAX_FAKES && c->ifs[n].name != NULL; n++) {
		const struct fake_if *f = &c->ifs[n];
		struct qr_ifaddr *a = &list[n];

		memset(a, 0, sizeof(*a));
		snprintf(a->ifname, sizeof(a->ifname), "%s", f->name);
		a->family = strchr(f->addr, ':') != NULL ? AF_INET6 : AF_INET;
		ck_assert_int_eq(inet_pton(a->family, f->addr, &a->addr), 1);
		a->flags = f->flags;
		a->default_route = f->dflt;
	}
	return n;
}

START_TEST(pick_follows_the_table)
{
	const struct pick_case *c = &pick_cases[_i];
	struct qr_ifaddr list[MAX_FAKES], out;
	char got[INET6_ADDRSTRLEN];
	size_t n = fake_list(c, list);
	int r;

	memset(&out, 0x5a, sizeof(out));
	r = qr_pick_address(list, n, c->want, &out);
	if (c->addr == NULL) {
		ck_assert_msg(r == -1, "%s: want %s: expected nothing, got %d",
		    c->name, c->want ? c->want : "(none)", r);
		ck_assert_int_eq(out.family, 0x5a5a5a5a);
		return;
	}
	ck_assert_msg(r == 0, "%s: returned %d", c->name, r);
	ck_assert_ptr_nonnull(inet_ntop(out.family, &out.addr, got,
	    sizeof(got)));
	ck_assert_msg(strcmp(got, c->addr) == 0 &&
	    strcmp(out.ifname, c->ifname) == 0,
	    "%s: want %s: expected %s '%s', got %s '%s'", c->name,
	    c->want ? c->want : "(none)", c->addr, c->ifname, got,
	    out.ifname);
}
END_TEST

/* ---- Reading the drawings back ---- */

/* A code as modules, quiet zone included; true = dark. */
struct bitmap {
	int	 side;
	bool	*dark;
};

static void
bitmap_init(struct bitmap *b, int side)
{
	b->side = side;
	b->dark = calloc((size_t)side * (size_t)side, sizeof(*b->dark));
	ck_assert_ptr_nonnull(b->dark);
}

/*
 * Asserts that b is qr's modules with quiet modules of light margin
 * around them, module for module.
 */
static void
assert_same_code(const struct bitmap *b, const QRcode *qr, int quiet,
    const char *text)
{
	ck_assert_msg(b->side == qr->width + 2 * quiet,
	    "%s: %d modules wide, expected %d", text, b->side,
	    qr->width + 2 * quiet);
	for (int y = 0; y < b->side; y++) {
		for (int x = 0; x < b->side; x++) {
			int cx = x - quiet, cy = y - quiet;
			bool want = cx >= 0 && cy >= 0 && cx < qr->width &&
			    cy < qr->width &&
			    (qr->data[cy * qr->width + cx] & 1);

			ck_assert_msg(b->dark[y * b->side + x] == want,
			    "%s: module (%d, %d) is %s", text, x, y,
			    want ? "light, expected dark" :
			    "dark, expected light");
		}
	}
}

static const char *const urls[] = {
	"http://192.168.1.20:8080/",
	"http://[2001:db8::1]:8080/",
	"http://10.0.0.5:65535/",
	"http://172.31.255.254:49152/Holiday%20Photos/2024/"
	    "Caf%C3%A9%20du%20Port/?qr",
	"HTTP://Example.lan/MiXeD/Case/Must/Stay/",
};

/*
 * Reads one line of qr_terminal()'s output into module rows y and y + 1
 * of b (the lower one only when inside b); returns the line's end.
 */
static const char *
read_terminal_line(const char *p, struct bitmap *b, int y)
{
	static const char on[] = "  \033[40;37;97m", off[] = "\033[0m\n";
	int x = 0;

	ck_assert_msg(strncmp(p, on, strlen(on)) == 0, "line %d: no colours",
	    y / 2);
	p += strlen(on);
	while (strncmp(p, off, strlen(off)) != 0) {
		bool top, bottom;

		if (*p == ' ') {
			top = bottom = false;
			p++;
		} else {
			ck_assert_msg(strncmp(p, "\xe2\x96", 2) == 0,
			    "line %d: unexpected byte 0x%02x", y / 2,
			    (unsigned char)*p);
			top = p[2] == '\x80' || p[2] == '\x88';
			bottom = p[2] == '\x84' || p[2] == '\x88';
			ck_assert(top || bottom);
			p += 3;
		}
		ck_assert_int_lt(x, b->side);
		/* Light modules are drawn, dark ones left blank. */
		b->dark[y * b->side + x] = !top;
		if (y + 1 < b->side)
			b->dark[(y + 1) * b->side + x] = !bottom;
		else
			ck_assert_msg(bottom,
			    "the half below the code is dark");
		x++;
	}
	ck_assert_int_eq(x, b->side);
	return p + strlen(off);
}

/* qr_terminal(text) into a new string; the caller frees it. */
static char *
draw_terminal(const char *text, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(qr_terminal(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

START_TEST(terminal_has_the_expected_lines)
{
	QRcode *qr = QRcode_encodeString(urls[_i], 0, QR_ECLEVEL_L,
	    QR_MODE_8, 1);
	size_t len, lines = 0;
	char *out = draw_terminal(urls[_i], &len);

	ck_assert_ptr_nonnull(qr);
	for (size_t i = 0; i < len; i++)
		lines += out[i] == '\n';
	ck_assert_uint_eq(lines,
	    (size_t)(qr->width + 2 * QR_TERMINAL_QUIET + 1) / 2);
	ck_assert_uint_eq(strlen(out), len);
	free(out);
	QRcode_free(qr);
}
END_TEST

START_TEST(terminal_reads_back_as_the_code)
{
	QRcode *qr = QRcode_encodeString(urls[_i], 0, QR_ECLEVEL_L,
	    QR_MODE_8, 1);
	size_t len;
	char *out = draw_terminal(urls[_i], &len);
	const char *p = out;
	struct bitmap b;

	ck_assert_ptr_nonnull(qr);
	bitmap_init(&b, qr->width + 2 * QR_TERMINAL_QUIET);
	for (int y = 0; y < b.side; y += 2)
		p = read_terminal_line(p, &b, y);
	ck_assert_msg(*p == '\0', "text after the code: '%s'", p);
	assert_same_code(&b, qr, QR_TERMINAL_QUIET, urls[_i]);
	free(b.dark);
	free(out);
	QRcode_free(qr);
}
END_TEST

/* More than version 40 holds at any level: 2953 bytes at L. */
static char *
too_long(void)
{
	char *s = malloc(4001);

	ck_assert_ptr_nonnull(s);
	memset(s, 'x', 4000);
	s[4000] = '\0';
	return s;
}

START_TEST(terminal_refuses_too_long_a_text)
{
	char *s = too_long(), *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(qr_terminal(s, f), -1);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_eq(len, 0);
	free(buf);
	free(s);
}
END_TEST

START_TEST(terminal_reports_a_write_error)
{
	FILE *f = fopen("/dev/full", "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(setvbuf(f, NULL, _IONBF, 0), 0);
	ck_assert_int_eq(qr_terminal(urls[0], f), -1);
	fclose(f);
}
END_TEST

/* What the SVG parser collects. */
struct svg_read {
	int	 elements;
	int	 paths;
	int	 side;		/* from the viewBox */
	bool	 crisp, white, black;
	char	*d;
};

static const char *
attr(const char **atts, const char *name)
{
	for (int i = 0; atts[i] != NULL; i += 2)
		if (strcmp(atts[i], name) == 0)
			return atts[i + 1];
	return NULL;
}

static void XMLCALL
svg_start(void *data, const char *el, const char **atts)
{
	struct svg_read *r = data;
	const char *v;

	r->elements++;
	if (strcmp(el, "http://www.w3.org/2000/svg svg") == 0) {
		v = attr(atts, "viewBox");
		ck_assert_ptr_nonnull(v);
		ck_assert_int_eq(sscanf(v, "0 0 %d %*d", &r->side), 1);
		v = attr(atts, "shape-rendering");
		r->crisp = v != NULL && strcmp(v, "crispEdges") == 0;
	} else if (strcmp(el, "http://www.w3.org/2000/svg rect") == 0) {
		v = attr(atts, "fill");
		r->white = v != NULL && strcmp(v, "#fff") == 0;
	} else if (strcmp(el, "http://www.w3.org/2000/svg path") == 0) {
		r->paths++;
		v = attr(atts, "fill");
		r->black = v != NULL && strcmp(v, "#000") == 0;
		ck_assert_ptr_nonnull(v = attr(atts, "d"));
		r->d = strdup(v);
		ck_assert_ptr_nonnull(r->d);
	} else {
		ck_abort_msg("unexpected element %s", el);
	}
}

/*
 * Fills in b the runs of the path d ("Mx yhNv1Hxz" each); returns the
 * number of runs.
 */
static int
paint_path(const char *d, struct bitmap *b)
{
	int runs = 0, x, y, w, x2, used;

	while (*d != '\0') {
		ck_assert_msg(sscanf(d, "M%d %dh%dv1H%dz%n", &x, &y, &w, &x2,
		    &used) == 4, "bad subpath at '%.20s'", d);
		ck_assert_int_eq(x2, x);
		ck_assert(w > 0 && x >= 0 && y >= 0 && x + w <= b->side &&
		    y < b->side);
		for (int i = x; i < x + w; i++) {
			ck_assert_msg(!b->dark[y * b->side + i],
			    "runs overlap at (%d, %d)", i, y);
			b->dark[y * b->side + i] = true;
		}
		d += used;
		runs++;
	}
	return runs;
}

START_TEST(svg_is_well_formed_and_reads_back_as_the_code)
{
	QRcode *qr = QRcode_encodeString(urls[_i], 0, QR_ECLEVEL_M,
	    QR_MODE_8, 1);
	XML_Parser p = XML_ParserCreateNS(NULL, ' ');
	struct svg_read r = { 0 };
	struct hbuf out;
	struct bitmap b;

	ck_assert_ptr_nonnull(qr);
	ck_assert_ptr_nonnull(p);
	hb_init_heap(&out);
	ck_assert_int_eq(qr_svg(urls[_i], &out), 0);
	ck_assert(!out.overflow);
	XML_SetUserData(p, &r);
	XML_SetStartElementHandler(p, svg_start);
	ck_assert_msg(XML_Parse(p, out.p, (int)out.len, 1) == XML_STATUS_OK,
	    "not well-formed: %s", XML_ErrorString(XML_GetErrorCode(p)));
	ck_assert_int_eq(r.elements, 3);
	ck_assert_int_eq(r.paths, 1);
	ck_assert(r.crisp && r.white && r.black);
	ck_assert_int_eq(r.side, qr->width + 2 * QR_SVG_QUIET);
	bitmap_init(&b, r.side);
	/* Runs, not modules: fewer subpaths than dark modules. */
	ck_assert_int_gt(paint_path(r.d, &b), 0);
	assert_same_code(&b, qr, QR_SVG_QUIET, urls[_i]);
	free(b.dark);
	free(r.d);
	XML_ParserFree(p);
	hb_release(&out);
	QRcode_free(qr);
}
END_TEST

START_TEST(svg_refuses_too_long_a_text)
{
	char *s = too_long();
	struct hbuf out;

	hb_init_heap(&out);
	ck_assert_int_eq(qr_svg(s, &out), -1);
	hb_release(&out);
	free(s);
}
END_TEST

START_TEST(svg_reports_a_full_buffer)
{
	char small[256];
	struct hbuf out;

	hb_init(&out, small, sizeof(small));
	ck_assert_int_eq(qr_svg(urls[0], &out), -1);
	ck_assert(out.overflow);
}
END_TEST

static Suite *
qr_suite(void)
{
	Suite *s = suite_create("qr");
	TCase *pick = tcase_create("pick");
	TCase *draw = tcase_create("draw");
	int nurls = (int)(sizeof(urls) / sizeof(urls[0]));

	tcase_add_loop_test(pick, pick_follows_the_table, 0,
	    (int)(sizeof(pick_cases) / sizeof(pick_cases[0])));
	suite_add_tcase(s, pick);
	tcase_add_loop_test(draw, terminal_has_the_expected_lines, 0, nurls);
	tcase_add_loop_test(draw, terminal_reads_back_as_the_code, 0, nurls);
	tcase_add_test(draw, terminal_refuses_too_long_a_text);
	tcase_add_test(draw, terminal_reports_a_write_error);
	tcase_add_loop_test(draw, svg_is_well_formed_and_reads_back_as_the_code,
	    0, nurls);
	tcase_add_test(draw, svg_refuses_too_long_a_text);
	tcase_add_test(draw, svg_reports_a_full_buffer);
	suite_add_tcase(s, draw);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(qr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
