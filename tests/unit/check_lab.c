/*
 * check_lab.c - unit tests for the lab services' protocol logic (lab.h):
 * ping messages, token buckets and the per-source limiter, the daytime
 * line, the streaming base64 encoder (against a reference written
 * differently), JSON strings, and the ping client's statistics.
 */
#include "lab.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define LIT(s)		(s), (sizeof(s) - 1)
#define SEC		1000000u

/* ---- ping messages ---- */

START_TEST(ping_format_is_the_lab_message)
{
	struct timespec ts = { .tv_sec = 1764064470, .tv_nsec = 293444999 };
	char out[64];
	size_t n = lab_ping_format(out, sizeof(out), 3, &ts, 0);

	ck_assert_uint_eq(n, strlen("Ping 3 1764064470.293444"));
	ck_assert(memcmp(out, "Ping 3 1764064470.293444", n) == 0);
}
END_TEST

START_TEST(ping_format_pads_to_the_size_asked)
{
	struct timespec ts = { .tv_sec = 1, .tv_nsec = 0 };
	char out[128];
	size_t n = lab_ping_format(out, sizeof(out), 1, &ts, 40);

	ck_assert_uint_eq(n, 40);
	ck_assert(memcmp(out, "Ping 1 1.000000xxxx", 19) == 0);
	ck_assert_int_eq(out[39], 'x');
	/* A pad below the message length changes nothing. */
	ck_assert_uint_eq(lab_ping_format(out, sizeof(out), 1, &ts, 3), 15);
}
END_TEST

START_TEST(ping_format_refuses_a_small_buffer)
{
	struct timespec ts = { .tv_sec = 1, .tv_nsec = 0 };
	char out[16];

	/* "Ping 1 1.000000" is 15 bytes and snprintf() wants one more. */
	ck_assert_uint_eq(lab_ping_format(out, 15, 1, &ts, 0), 0);
	ck_assert_uint_eq(lab_ping_format(out, 16, 1, &ts, 0), 15);
}
END_TEST

START_TEST(upper_changes_ascii_letters_only)
{
	char in[256], out[256];

	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	lab_upper(in, sizeof(in), out);
	for (int i = 0; i < 256; i++) {
		int want = (i >= 'a' && i <= 'z') ? i - 32 : i;

		ck_assert_msg((unsigned char)out[i] == want,
		    "byte 0x%02x became 0x%02x", i, (unsigned char)out[i]);
	}
	/* In place works too. */
	memcpy(out, "Ping 7 x\xc3\xa9", 10);
	lab_upper(out, 10, out);
	ck_assert(memcmp(out, "PING 7 X\xc3\xa9", 10) == 0);
}
END_TEST

static const struct port_case {
	const char	*name;
	unsigned	 port;
	bool		 ok;
} port_cases[] = {
	{ "port 0: no reply can reach it", 0, false },
	{ "echo", 7, false },
	{ "discard", 9, false },
	{ "daytime", 13, false },
	{ "qotd", 17, false },
	{ "chargen", 19, false },
	{ "dns", 53, false },
	{ "ntp", 123, false },
	{ "highest well-known", 1023, false },
	{ "lowest registered", 1024, true },
	{ "the responder's own default", 12000, true },
	{ "ephemeral", 49152, true },
	{ "highest", 65535, true },
};

START_TEST(ping_ignores_well_known_source_ports)
{
	const struct port_case *t = &port_cases[_i];

	ck_assert_msg(lab_ping_source_port_ok(t->port) == t->ok,
	    "%s (%u): expected %s", t->name, t->port,
	    t->ok ? "an answer" : "none");
}
END_TEST

static const struct parse_case {
	const char	*name;
	const char	*msg;
	size_t		 len;
	bool		 reply;
	bool		 ok;
	uint64_t	 seq;
} parse_cases[] = {
	{ "request", LIT("Ping 3 1764064470.293444"), false, true, 3 },
	{ "reply", LIT("PING 3 1764064470.293444"), true, true, 3 },
	{ "no time", LIT("Ping 12"), false, true, 12 },
	{ "padding after", LIT("PING 9 1.0XXXX"), true, true, 9 },
	{ "max seq", LIT("Ping 18446744073709551615 x"), false, true,
	    UINT64_MAX },
	{ "seq overflow", LIT("Ping 18446744073709551616 x"), false, false, 0 },
	{ "21 digits", LIT("Ping 000000000000000000001"), false, false, 0 },
	{ "reply asked, request given", LIT("Ping 3 1"), true, false, 0 },
	{ "request asked, reply given", LIT("PING 3 1"), false, false, 0 },
	{ "lower case", LIT("ping 3 1"), false, false, 0 },
	{ "no seq", LIT("Ping "), false, false, 0 },
	{ "no space", LIT("Ping3"), false, false, 0 },
	{ "two spaces", LIT("Ping  3"), false, false, 0 },
	{ "sign", LIT("Ping +3 1"), false, false, 0 },
	{ "letters in seq", LIT("Ping 3a 1"), false, false, 0 },
	{ "NUL in seq", LIT("Ping 3\0 1"), false, false, 0 },
	{ "tab after seq", LIT("Ping 3\t1"), false, false, 0 },
	{ "empty", LIT(""), false, false, 0 },
	{ "prefix only", LIT("Pin"), false, false, 0 },
};

START_TEST(ping_parse_reads_the_sequence)
{
	const struct parse_case *t = &parse_cases[_i];
	char *g = tu_guarded(t->msg, t->len);
	uint64_t seq = 0;
	bool ok = lab_ping_parse(span_make(g, t->len), t->reply, &seq);

	ck_assert_msg(ok == t->ok, "%s: expected %s", t->name,
	    t->ok ? "success" : "failure");
	if (ok)
		ck_assert_msg(seq == t->seq, "%s: seq %llu, expected %llu",
		    t->name, (unsigned long long)seq,
		    (unsigned long long)t->seq);
	tu_guard_free(g);
}
END_TEST

START_TEST(ping_parse_never_reads_past_the_end)
{
	static const char msg[] = "PING 123456 1764064470.293444";

	/* Every prefix, each ending at a guard page. */
	for (size_t len = 0; len <= sizeof(msg) - 1; len++) {
		char *g = tu_guarded(msg, len);
		uint64_t seq;
		bool ok = lab_ping_parse(span_make(g, len), true, &seq);

		ck_assert_msg(ok == (len >= 6), "prefix of %zu bytes", len);
		tu_guard_free(g);
	}
}
END_TEST

/* ---- token buckets ---- */

/* Takes tokens at now until refused (max at most); returns how many. */
static unsigned
drain(struct lab_bucket *b, unsigned rate, uint64_t now, unsigned max)
{
	unsigned taken = 0;

	while (taken < max && lab_bucket_take(b, rate, now))
		taken++;
	return taken;
}

START_TEST(bucket_starts_full_with_one_second_of_tokens)
{
	struct lab_bucket b;

	lab_bucket_init(&b, 50, 1000);
	ck_assert_uint_eq(drain(&b, 50, 1000, 1000), 50);
}
END_TEST

START_TEST(bucket_refills_at_its_rate)
{
	struct lab_bucket b;
	uint64_t t = 5 * SEC;

	lab_bucket_init(&b, 50, t);
	ck_assert_uint_eq(drain(&b, 50, t, 100), 50);
	/* 50/s is one token every 20 ms. */
	ck_assert(!lab_bucket_take(&b, 50, t + 19999));
	ck_assert_uint_eq(drain(&b, 50, t + 20000, 100), 1);
	/* 100 ms later: five more. */
	ck_assert_uint_eq(drain(&b, 50, t + 120000, 100), 5);
}
END_TEST

START_TEST(bucket_never_holds_more_than_one_second)
{
	struct lab_bucket b;

	lab_bucket_init(&b, 10, 0);
	/* An hour idle still allows only the burst. */
	ck_assert_uint_eq(drain(&b, 10, 3600ull * SEC, 100), 10);
}
END_TEST

START_TEST(bucket_ignores_a_clock_going_back)
{
	struct lab_bucket b;

	lab_bucket_init(&b, 1, 10 * SEC);
	ck_assert(lab_bucket_take(&b, 1, 10 * SEC));
	ck_assert(!lab_bucket_take(&b, 1, 5 * SEC));
	ck_assert(!lab_bucket_take(&b, 1, 10 * SEC + SEC / 2));
	ck_assert(lab_bucket_take(&b, 1, 11 * SEC));
}
END_TEST

START_TEST(bucket_takes_a_lower_rate_at_once)
{
	struct lab_bucket b;

	lab_bucket_init(&b, 1000, 0);
	/* A reload lowered the rate: the burst shrinks with it. */
	ck_assert_uint_eq(drain(&b, 5, 0, 2000), 5);
}
END_TEST

START_TEST(bucket_handles_the_largest_rate)
{
	struct lab_bucket b;

	lab_bucket_init(&b, LAB_RATE_MAX, 0);
	ck_assert_uint_eq(drain(&b, LAB_RATE_MAX, 0, 2 * LAB_RATE_MAX),
	    LAB_RATE_MAX);
	/* One microsecond is one token at a million per second. */
	ck_assert(lab_bucket_take(&b, LAB_RATE_MAX, 1));
	ck_assert(!lab_bucket_take(&b, LAB_RATE_MAX, 1));
}
END_TEST

/* ---- the limiter ---- */

static void
v4(unsigned char *addr, uint32_t ip)
{
	memset(addr, 0, 10);
	addr[10] = addr[11] = 0xff;
	addr[12] = (unsigned char)(ip >> 24);
	addr[13] = (unsigned char)(ip >> 16);
	addr[14] = (unsigned char)(ip >> 8);
	addr[15] = (unsigned char)ip;
}

static struct lab_limiter *
new_limiter(unsigned total)
{
	struct lab_limiter *l = malloc(sizeof(*l));

	ck_assert_ptr_nonnull(l);
	lab_limiter_init(l, 0x1234567890abcdefull, total, SEC);
	return l;
}

static unsigned
burst(struct lab_limiter *l, const unsigned char *addr, unsigned n,
    unsigned per_source, unsigned total, uint64_t now)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++)
		ok += lab_limiter_allow(l, addr, per_source, total, now);
	return ok;
}

/* One datagram from each of n sources from first up; returns allowed. */
static unsigned
spread(struct lab_limiter *l, uint32_t first, uint32_t n,
    unsigned per_source, unsigned total, uint64_t now)
{
	unsigned char a[16];
	unsigned ok = 0;

	for (uint32_t i = 0; i < n; i++) {
		v4(a, first + i);
		ok += lab_limiter_allow(l, a, per_source, total, now);
	}
	return ok;
}

START_TEST(limiter_limits_each_source_on_its_own)
{
	struct lab_limiter *l = new_limiter(1000);
	unsigned char a[16], b[16];

	v4(a, 0x7f000001);
	v4(b, 0x7f000002);
	ck_assert_uint_eq(burst(l, a, 500, 50, 1000, SEC), 50);
	/* Another source is not held back by the first one's flood. */
	ck_assert_uint_eq(burst(l, b, 500, 50, 1000, SEC), 50);
	/* 100 ms later each has two more. */
	ck_assert_uint_eq(burst(l, a, 10, 50, 1000, SEC + 100000), 5);
	free(l);
}
END_TEST

START_TEST(limiter_caps_the_total)
{
	struct lab_limiter *l = new_limiter(30);

	/* 200 sources, one datagram each: only the total bucket says no. */
	ck_assert_uint_eq(spread(l, 0x0a000000, 200, 50, 30, SEC), 30);
	free(l);
}
END_TEST

START_TEST(limiter_refused_source_costs_the_total_nothing)
{
	struct lab_limiter *l = new_limiter(100);
	unsigned char a[16], b[16];

	v4(a, 0x7f000001);
	v4(b, 0x7f000002);
	/* a floods far beyond its share; b still gets the rest. */
	ck_assert_uint_eq(burst(l, a, 10000, 10, 100, SEC), 10);
	ck_assert_uint_eq(burst(l, b, 200, 1000, 100, SEC), 90);
	free(l);
}
END_TEST

START_TEST(limiter_total_holds_while_the_table_churns)
{
	struct lab_limiter *l = new_limiter(1000);

	/*
	 * A million spoofed sources pass through a table of fixed size
	 * (nothing here allocates): each new one evicts an older one, and
	 * the total bucket still caps the replies.
	 */
	ck_assert_uint_eq(spread(l, 0x0b000000, 1000000, 50, 1000, SEC + 1),
	    1000);
	free(l);
}
END_TEST

START_TEST(limiter_keeps_a_busy_source_among_idle_ones)
{
	struct lab_limiter *l = new_limiter(LAB_RATE_MAX);
	unsigned char a[16], busy[16];
	uint64_t t = SEC;
	unsigned got;

	v4(busy, 0xc0a80001);
	got = burst(l, busy, 100, 50, LAB_RATE_MAX, t);
	/*
	 * Sources seen once are evicted before one in use, so a busy source
	 * keeps its bucket while tens of thousands of others come and go;
	 * each time it were evicted it would start again with a full one.
	 */
	for (uint32_t i = 0; i < 50000; i++) {
		v4(a, 0x0b000000 + i);
		t += 100;
		lab_limiter_allow(l, a, 50, LAB_RATE_MAX, t);
		if (i % 256 == 0)
			got += burst(l, busy, 100, 50, LAB_RATE_MAX, t);
	}
	/* The first burst plus 50/s over the 5 s, and not one more. */
	ck_assert_uint_le(got, 50 + (unsigned)((t - SEC) * 50 / SEC) + 1);
	free(l);
}
END_TEST

/* ---- daytime ---- */

START_TEST(daytime_line_has_microseconds_and_offset)
{
	struct tm tm = {
		.tm_year = 126, .tm_mon = 10, .tm_mday = 24, .tm_hour = 17,
		.tm_min = 4, .tm_sec = 30, .tm_gmtoff = 8 * 3600,
	};
	char out[LAB_DAYTIME_MAX];
	size_t n = lab_daytime_format(out, sizeof(out), &tm, 293444);

	ck_assert_uint_eq(n, 34);
	ck_assert(memcmp(out, "2026-11-24 17:04:30.293444 +0800\r\n", n) == 0);

	tm.tm_gmtoff = -(3 * 3600 + 30 * 60);
	tm.tm_mon = 0;
	tm.tm_mday = 2;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	n = lab_daytime_format(out, sizeof(out), &tm, 7);
	ck_assert(memcmp(out, "2026-01-02 00:00:00.000007 -0330\r\n", n) == 0);

	tm.tm_gmtoff = 0;
	n = lab_daytime_format(out, sizeof(out), &tm, 999999);
	ck_assert(memcmp(out, "2026-01-02 00:00:00.999999 +0000\r\n", n) == 0);
	ck_assert_uint_eq(lab_daytime_format(out, 34, &tm, 0), 0);
}
END_TEST

/* ---- base64 ---- */

/*
 * The reference: RFC 4648 read literally, one bit at a time into 6-bit
 * groups, so it shares no code or shape with the encoder under test.
 */
static size_t
ref_b64(const unsigned char *in, size_t len, char *out)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t bits = len * 8, o = 0;

	for (size_t b = 0; b < bits; b += 6) {
		unsigned v = 0;

		for (size_t k = 0; k < 6; k++) {
			size_t bit = b + k;
			unsigned x = bit < bits ?
			    (in[bit / 8] >> (7 - bit % 8)) & 1 : 0;

			v = v << 1 | x;
		}
		out[o++] = alpha[v];
	}
	while (o % 4 != 0)
		out[o++] = '=';
	return o;
}

static const struct b64_case {
	const char	*in;
	const char	*out;
} rfc4648_cases[] = {
	/* RFC 4648 §10. */
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

START_TEST(b64_matches_rfc4648_vectors)
{
	const struct b64_case *t = &rfc4648_cases[_i];
	char out[16];
	size_t n = lab_b64_encode(t->in, strlen(t->in), out);

	ck_assert_uint_eq(n, strlen(t->out));
	ck_assert_msg(memcmp(out, t->out, n) == 0, "'%s': got '%.*s'", t->in,
	    (int)n, out);
	ck_assert_uint_eq(n, LAB_B64_LEN(strlen(t->in)));
}
END_TEST

static unsigned char *
random_bytes(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n ? n : 1);
	uint32_t x = seed * 2654435761u + 1;

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
	return p;
}

/* Encodes in pieces of the sizes cuts[] gives (cycled) and compares. */
static void
check_pieces(const unsigned char *in, size_t len, const size_t *cuts,
    size_t ncuts)
{
	char *want = malloc(LAB_B64_LEN(len) + 1);
	char *got = malloc(LAB_B64_LEN(len) + 8);
	struct lab_b64 e;
	size_t o = 0, off = 0, k = 0;

	ck_assert(want != NULL && got != NULL);
	ck_assert_uint_eq(ref_b64(in, len, want), LAB_B64_LEN(len));
	lab_b64_init(&e);
	while (off < len) {
		size_t n = cuts[k++ % ncuts];

		if (n > len - off)
			n = len - off;
		o += lab_b64_update(&e, in + off, n, got + o);
		off += n;
	}
	o += lab_b64_final(&e, got + o);
	ck_assert_uint_eq(o, LAB_B64_LEN(len));
	ck_assert_msg(memcmp(got, want, o) == 0, "%zu bytes in pieces of %zu",
	    len, cuts[0]);
	free(want);
	free(got);
}

START_TEST(b64_small_sizes_match_the_reference)
{
	static const size_t one = 1, whole = 1 << 20;

	/* 0, 1, 2, 3 and 4 bytes, and everything up to 64, all ways cut. */
	for (size_t len = 0; len <= 64; len++) {
		unsigned char *in = random_bytes(len, (unsigned)len);

		check_pieces(in, len, &whole, 1);
		check_pieces(in, len, &one, 1);
		for (size_t a = 0; a <= len; a++) {
			size_t cuts[2] = { a ? a : 1, len };

			check_pieces(in, len, cuts, 2);
		}
		free(in);
	}
}
END_TEST

START_TEST(b64_one_mib_plus_one_matches_in_any_pieces)
{
	static const size_t sizes[][3] = {
		{ (1 << 20) + 1, 1, 1 },	/* one go */
		{ 12288, 12288, 12288 },	/* the daemon's pieces */
		{ 1, 2, 4 },
		{ 4095, 4096, 4097 },
		{ 65537, 3, 7 },
	};
	size_t len = (1 << 20) + 1;
	unsigned char *in = random_bytes(len, 42);

	for (size_t i = 0; i < NELEM(sizes); i++)
		check_pieces(in, len, sizes[i], 3);
	free(in);
}
END_TEST

START_TEST(b64_pieces_of_three_need_no_state)
{
	size_t len = 100000;
	unsigned char *in = random_bytes(len, 7);
	char *want = malloc(LAB_B64_LEN(len)), *got = malloc(LAB_B64_LEN(len));
	size_t o = 0;

	ck_assert(want != NULL && got != NULL);
	ref_b64(in, len, want);
	/* What the daemon does: whole encodings of 3k-byte pieces, joined. */
	for (size_t off = 0; off < len; off += 12288) {
		size_t n = len - off < 12288 ? len - off : 12288;

		o += lab_b64_encode(in + off, n, got + o);
	}
	ck_assert_uint_eq(o, LAB_B64_LEN(len));
	ck_assert(memcmp(got, want, o) == 0);
	free(in);
	free(want);
	free(got);
}
END_TEST

/* ---- JSON ---- */

static const struct json_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*out;
} json_cases[] = {
	{ "plain", LIT("guido.jpg"), "guido.jpg" },
	{ "quotes", LIT("say \"hi\".txt"), "say \\\"hi\\\".txt" },
	{ "backslash", LIT("a\\b"), "a\\\\b" },
	{ "short escapes", LIT("\b\f\n\r\t"), "\\b\\f\\n\\r\\t" },
	{ "other controls", LIT("\x01\x1f"), "\\u0001\\u001f" },
	{ "NUL", LIT("a\0b"), "a\\u0000b" },
	{ "DEL passes", LIT("\x7f"), "\x7f" },
	{ "slash passes", LIT("a/b"), "a/b" },
	{ "html specials", LIT("<a&b>"), "\\u003ca\\u0026b\\u003e" },
	{ "chinese", LIT("中文 文件.txt"), "中文 文件.txt" },
	{ "four-byte", LIT("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80" },
	{ "U+10FFFF", LIT("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf" },
	{ "latin-1 byte", LIT("caf\xe9"), "caf\\ufffd" },
	{ "truncated", LIT("\xe4\xb8"), "\\ufffd\\ufffd" },
	{ "overlong slash", LIT("\xc0\xaf"), "\\ufffd\\ufffd" },
	{ "overlong 3", LIT("\xe0\x80\xaf"), "\\ufffd\\ufffd\\ufffd" },
	{ "surrogate", LIT("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd" },
	{ "above 10FFFF", LIT("\xf4\x90\x80\x80"),
	    "\\ufffd\\ufffd\\ufffd\\ufffd" },
	{ "lone continuation", LIT("\x80x"), "\\ufffdx" },
	{ "quote after bad", LIT("\xff\""), "\\ufffd\\\"" },
};

START_TEST(json_escape_makes_valid_strings)
{
	const struct json_case *t = &json_cases[_i];
	char *g = tu_guarded(t->in, t->len);
	char out[128];
	size_t n = lab_json_escape(g, t->len, out, sizeof(out));

	ck_assert_msg(n == strlen(t->out) && memcmp(out, t->out, n) == 0,
	    "%s: got '%.*s', expected '%s'", t->name, (int)n, out, t->out);
	tu_guard_free(g);
}
END_TEST

START_TEST(json_escape_reports_the_length_it_needs)
{
	char out[8];

	memset(out, '#', sizeof(out));
	/* "a\"b" needs 4; with room for 2 it writes whole pieces only. */
	ck_assert_uint_eq(lab_json_escape("a\"b", 3, out, 2), 4);
	ck_assert_int_eq(out[0], 'a');
	ck_assert_int_eq(out[1], '#');
	ck_assert_uint_eq(lab_json_escape("\x01", 1, out, 0), 6);
	ck_assert_int_eq(out[0], 'a');
}
END_TEST

START_TEST(transfer_head_and_error_are_json)
{
	char out[128];
	size_t n = lab_transfer_head(out, sizeof(out), LIT("a \"b\".jpg"));
	static const char head[] =
	    "{\"filename\": \"a \\\"b\\\".jpg\", \"filedata\": \"";

	ck_assert_uint_eq(n, sizeof(head) - 1);
	ck_assert(memcmp(out, head, n) == 0);
	ck_assert_uint_eq(lab_transfer_head(out, n, LIT("a \"b\".jpg")), n);
	ck_assert_uint_eq(lab_transfer_head(out, n - 1, LIT("a \"b\".jpg")),
	    0);
	ck_assert_uint_eq(lab_transfer_head(out, 3, LIT("x")), 0);

	n = lab_transfer_error(out, sizeof(out), "file not found");
	ck_assert(n == strlen("{\"error\": \"file not found\"}") &&
	    memcmp(out, "{\"error\": \"file not found\"}", n) == 0);
	ck_assert_str_eq(LAB_TRANSFER_TAIL, "\"}");
}
END_TEST

/* ---- host names ---- */

static const struct host_case {
	const char	*name;
	size_t		 len;
	bool		 local;
} host_cases[] = {
	{ LIT("localhost"), true },
	{ LIT("localhost."), true },
	{ LIT("LocalHost"), true },
	{ LIT("LOCALHOST."), true },
	{ LIT("a.localhost"), true },
	{ LIT("printer.lan.localhost"), true },
	{ LIT("x.LOCALHOST."), true },
	{ LIT("-.localhost"), true },
	{ LIT(""), false },
	{ LIT("."), false },
	{ LIT("localhost.."), false },
	{ LIT(".localhost"), false },
	{ LIT("a..localhost"), false },
	{ LIT("localhos"), false },
	{ LIT("localhostx"), false },
	{ LIT("mylocalhost"), false },
	{ LIT("my-localhost."), false },
	{ LIT("localhost.com"), false },
	{ LIT("localhost.localdomain"), false },
	{ LIT("localhost\0"), false },
	{ LIT("\0localhost"), false },
	{ LIT("localhost "), false },
	{ LIT("l\xc3\xb6" "calhost"), false },
	{ LIT("127.0.0.1"), false },
	{ LIT("::1"), false },
};

START_TEST(localhost_names_are_recognised)
{
	const struct host_case *t = &host_cases[_i];
	char *g = tu_guarded(t->name, t->len);

	ck_assert_msg(lab_host_is_localhost(span_make(g, t->len)) == t->local,
	    "case %d (\"%.*s\"): expected %s", _i, (int)t->len, t->name,
	    t->local ? "loopback" : "a name to resolve");
	tu_guard_free(g);
}
END_TEST

/* ---- statistics ---- */

START_TEST(rtt_statistics_match_ping)
{
	struct lab_rtt r = { 0 };
	double avg, mdev;

	lab_rtt_result(&r, &avg, &mdev);
	ck_assert(avg == 0 && mdev == 0);
	/* 100, 200, 300, 400 us: mean 250, population deviation 111.80. */
	for (uint64_t us = 100; us <= 400; us += 100)
		lab_rtt_add(&r, us);
	lab_rtt_result(&r, &avg, &mdev);
	ck_assert_uint_eq(r.n, 4);
	ck_assert_uint_eq(r.min_us, 100);
	ck_assert_uint_eq(r.max_us, 400);
	ck_assert_double_eq_tol(avg, 250, 1e-9);
	ck_assert_double_eq_tol(mdev, 111.803398875, 1e-6);

	memset(&r, 0, sizeof(r));
	lab_rtt_add(&r, 412);
	lab_rtt_add(&r, 412);
	lab_rtt_result(&r, &avg, &mdev);
	ck_assert_double_eq_tol(avg, 412, 1e-9);
	ck_assert_double_eq_tol(mdev, 0, 1e-6);
}
END_TEST

static Suite *
lab_suite(void)
{
	Suite *s = suite_create("lab");
	TCase *tc;

	tc = tcase_create("ping");
	tcase_add_test(tc, ping_format_is_the_lab_message);
	tcase_add_test(tc, ping_format_pads_to_the_size_asked);
	tcase_add_test(tc, ping_format_refuses_a_small_buffer);
	tcase_add_test(tc, upper_changes_ascii_letters_only);
	tcase_add_loop_test(tc, ping_parse_reads_the_sequence, 0,
	    NELEM(parse_cases));
	tcase_add_test(tc, ping_parse_never_reads_past_the_end);
	tcase_add_loop_test(tc, ping_ignores_well_known_source_ports, 0,
	    NELEM(port_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("bucket");
	tcase_add_test(tc, bucket_starts_full_with_one_second_of_tokens);
	tcase_add_test(tc, bucket_refills_at_its_rate);
	tcase_add_test(tc, bucket_never_holds_more_than_one_second);
	tcase_add_test(tc, bucket_ignores_a_clock_going_back);
	tcase_add_test(tc, bucket_takes_a_lower_rate_at_once);
	tcase_add_test(tc, bucket_handles_the_largest_rate);
	suite_add_tcase(s, tc);

	tc = tcase_create("limiter");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, limiter_limits_each_source_on_its_own);
	tcase_add_test(tc, limiter_caps_the_total);
	tcase_add_test(tc, limiter_refused_source_costs_the_total_nothing);
	tcase_add_test(tc, limiter_total_holds_while_the_table_churns);
	tcase_add_test(tc, limiter_keeps_a_busy_source_among_idle_ones);
	suite_add_tcase(s, tc);

	tc = tcase_create("daytime");
	tcase_add_test(tc, daytime_line_has_microseconds_and_offset);
	suite_add_tcase(s, tc);

	tc = tcase_create("base64");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, b64_matches_rfc4648_vectors, 0,
	    NELEM(rfc4648_cases));
	tcase_add_test(tc, b64_small_sizes_match_the_reference);
	tcase_add_test(tc, b64_one_mib_plus_one_matches_in_any_pieces);
	tcase_add_test(tc, b64_pieces_of_three_need_no_state);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_loop_test(tc, json_escape_makes_valid_strings, 0,
	    NELEM(json_cases));
	tcase_add_test(tc, json_escape_reports_the_length_it_needs);
	tcase_add_test(tc, transfer_head_and_error_are_json);
	suite_add_tcase(s, tc);

	tc = tcase_create("host");
	tcase_add_loop_test(tc, localhost_names_are_recognised, 0,
	    NELEM(host_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("rtt");
	tcase_add_test(tc, rtt_statistics_match_ping);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(lab_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
