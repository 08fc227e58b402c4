/*
 * check_chunked.c - unit tests for the chunked transfer coding decoder.
 *
 * Every piece of input goes through tu_guarded(), which places it right
 * before a PROT_NONE page, so a decoder that reads one byte past a piece
 * crashes the test even without ASan; the output goes to a guarded buffer
 * of the piece's size too, or to the piece itself when decoding in place.
 * Valid bodies are decoded in one call, split at every byte, byte by byte
 * and in place, and must give the same data and the same consumed count
 * every time; hostile ones must give the same status every time.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunked.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* A literal input and its length, embedded NUL bytes included. */
#define IN(s)		.in = (s), .len = sizeof(s) - 1
/* The same for the data a body decodes to. */
#define DATA(s)		.data = (s), .data_len = sizeof(s) - 1

/* The most decoded data a test collects. */
#define RESULT_CAP	(1 << 17)

/*
 * Helpers
 */

/*
 * Renders p[0..len) for a failure message: printable ASCII as is, anything
 * else as a C escape, cut short with "..." when it does not fit.
 */
static const char *
show(const char *p, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		char tmp[8];
		int n;

		if (c == '\r')
			n = snprintf(tmp, sizeof(tmp), "\\r");
		else if (c == '\n')
			n = snprintf(tmp, sizeof(tmp), "\\n");
		else if (c == '\t')
			n = snprintf(tmp, sizeof(tmp), "\\t");
		else if (c == '\\' || c == '"')
			n = snprintf(tmp, sizeof(tmp), "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			n = snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		else
			n = snprintf(tmp, sizeof(tmp), "%c", c);
		if (o + (size_t)n + 4 >= cap) {
			memcpy(out + o, "...", 4);
			return out;
		}
		memcpy(out + o, tmp, (size_t)n);
		o += (size_t)n;
	}
	out[o] = '\0';
	return out;
}

/*
 * How a test cuts its input: a first piece of first bytes (0 makes an
 * empty first call), then pieces of step bytes; each piece decoded into a
 * buffer of its own or, with in_place, into itself.
 */
struct feed {
	size_t		 first;
	size_t		 step;
	bool		 in_place;
};

/* What decoding a whole input gave. */
struct result {
	int		 status;	/* 0, or the status of the error */
	size_t		 consumed;	/* input bytes, over all calls */
	bool		 done;
	uint64_t	 total;		/* chunked_total() at the end */
	size_t		 calls;
	size_t		 data_len;
	char		 data[RESULT_CAP];
};

static const char *
show_feed(const struct feed *f, char *out, size_t cap)
{
	snprintf(out, cap, "first piece %zu, then %zu%s", f->first, f->step,
	    f->in_place ? ", in place" : "");
	return out;
}

/*
 * Decodes in[0..len) as f says, with the given bound, and records the
 * outcome in *r.  Stops at the first error or at the end of the body.
 * Checks on every call what chunked.h promises whatever the input: no
 * more consumed than given, no more output than consumed, everything
 * consumed unless the body ended, and *done in step with chunked_done().
 */
static void
decode_fed(const char *in, size_t len, uint64_t max_body,
    const struct feed *f, struct result *r)
{
	struct chunked ck;
	size_t off = 0, n = f->first;

	ck_assert(f->step > 0);
	chunked_init(&ck, max_body);
	r->status = 0;
	r->consumed = 0;
	r->done = false;
	r->calls = 0;
	r->data_len = 0;
	for (;;) {
		char *piece, *out;
		size_t out_len = 12345;
		bool done = true;
		ssize_t got;

		if (n > len - off)
			n = len - off;
		piece = tu_guarded(in + off, n);
		if (f->in_place) {
			out = piece;
		} else {
			out = tu_guarded(in + off, n);
			memset(out, 0xa5, n);
		}
		got = chunked_decode(&ck, piece, n, out, &out_len, &done);
		r->calls++;
		if (got == CHUNKED_ERROR) {
			ck_assert_msg(ck.status == 400 || ck.status == 413 ||
			    ck.status == 431, "error with status %d",
			    ck.status);
			ck_assert(!done && out_len == 0);
			r->status = ck.status;
		} else {
			ck_assert_msg(got >= 0 && (size_t)got <= n,
			    "consumed %zd of a piece of %zu", got, n);
			ck_assert_msg(out_len <= (size_t)got,
			    "%zu bytes out of %zd consumed", out_len, got);
			ck_assert(done == chunked_done(&ck));
			ck_assert_msg(done || (size_t)got == n, "consumed %zd "
			    "of a piece of %zu without the body ending", got,
			    n);
			ck_assert(r->data_len + out_len <= RESULT_CAP);
			memcpy(r->data + r->data_len, out, out_len);
			r->data_len += out_len;
			r->consumed += (size_t)got;
			r->done = done;
		}
		if (!f->in_place)
			tu_guard_free(out);
		tu_guard_free(piece);
		if (got == CHUNKED_ERROR || r->done)
			break;
		off += n;
		if (off == len)
			break;
		n = f->step;
	}
	r->total = chunked_total(&ck);
}

/*
 * The ways every table row is fed: whole, split once at every offset
 * (the first piece may be empty), and byte by byte, each both into a
 * separate buffer and in place.  Returns how many there are for a len;
 * feed_nth() gives the i-th.
 */
static size_t
feed_count(size_t len)
{
	return 2 * (1 + (len + 1) + 1);
}

static struct feed
feed_nth(size_t len, size_t i)
{
	struct feed f = { .in_place = (i & 1) != 0 };

	i /= 2;
	if (i == 0) {
		f.first = len;
		f.step = len > 0 ? len : 1;
	} else if (i <= len + 1) {
		f.first = i - 1;
		f.step = len > 0 ? len : 1;
	} else {
		f.first = 1;
		f.step = 1;
	}
	return f;
}

static struct result res;

/*
 * Valid bodies
 */

struct good_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*data;
	size_t		 data_len;
	size_t		 after;		/* bytes after the body, not consumed */
	uint64_t	 max_body;	/* 0: UINT64_MAX */
};

#define HELLO	"5\r\nhello\r\n"
#define END	"0\r\n\r\n"
#define NEXT	"GET / HTTP/1.1\r\nHost: h\r\n\r\n"

static const struct good_case good_cases[] = {
	{ "one_chunk", IN(HELLO END), DATA("hello") },
	{ "many_chunks", IN("1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n" END),
	    DATA("abcdef") },
	{ "empty_body", IN("0\r\n\r\n"), DATA("") },
	{ "empty_body_of_zeros", IN("000\r\n\r\n"), DATA("") },
	{ "leading_zeros_in_size", IN("0005\r\nhello\r\n" END),
	    DATA("hello") },
	{ "lowercase_hex_size", IN("a\r\n0123456789\r\n" END),
	    DATA("0123456789") },
	{ "uppercase_hex_size", IN("A\r\n0123456789\r\n" END),
	    DATA("0123456789") },
	{ "mixed_case_hex_size",
	    IN("1a\r\nabcdefghijklmnopqrstuvwxyz\r\n"
	    "1A\r\nABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n" END),
	    DATA("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") },
	/* Data is opaque: line ends, NUL and a last-chunk inside it. */
	{ "data_holding_crlf_nul_and_last_chunk",
	    IN("8\r\n0\r\n\r\n\0\xff\n\r\n" END), DATA("0\r\n\r\n\0\xff\n") },
	{ "extension_name_only", IN("5;foo\r\nhello\r\n" END),
	    DATA("hello") },
	{ "extension_token_value", IN("5;foo=bar\r\nhello\r\n" END),
	    DATA("hello") },
	{ "several_extensions", IN("5;a=1;b;c=\"x\"\r\nhello\r\n" END),
	    DATA("hello") },
	{ "extension_tchar_symbols",
	    IN("5;!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~\r\nhello\r\n" END),
	    DATA("hello") },
	{ "extension_quoted_string_with_escapes",
	    IN("5;n=\"a\\\"b\\\\c d\\\te;f=g\"\r\nhello\r\n" END),
	    DATA("hello") },
	{ "extension_quoted_string_with_obs_text",
	    IN("5;n=\"caf\xc3\xa9 \\\xff\"\r\nhello\r\n" END), DATA("hello") },
	{ "extension_quoted_string_with_htab",
	    IN("5;n=\"a\tb\"\r\nhello\r\n" END), DATA("hello") },
	{ "extension_empty_quoted_string", IN("5;n=\"\"\r\nhello\r\n" END),
	    DATA("hello") },
	{ "bws_around_semicolon_and_equals",
	    IN("5 ; a = b ;\tc\t=\t\"q\"  ;d\r\nhello\r\n" END),
	    DATA("hello") },
	{ "bws_before_semicolon_after_quoted",
	    IN("5;a=\"b\" \t;c\r\nhello\r\n" END), DATA("hello") },
	{ "extension_on_last_chunk", IN("5\r\nhello\r\n0;end=\"yes\"\r\n\r\n"),
	    DATA("hello") },
	{ "extension_on_zeros_last_chunk", IN("000 ;x\r\n\r\n"), DATA("") },
	{ "trailers", IN(HELLO "0\r\nX-Sum: abc\r\nX-Empty:\r\n\r\n"),
	    DATA("hello") },
	{ "trailer_values_with_htab_ows_and_obs_text",
	    IN("0\r\nX-A: \ta b\t\r\nX-U: caf\xc3\xa9 \x80\r\n\r\n"),
	    DATA("") },
	{ "trailer_name_tchar_symbols", IN("0\r\n!#$%&'*+-.^_`|~:v\r\n\r\n"),
	    DATA("") },
	{ "pipelined_request_after_body", IN(HELLO END NEXT), DATA("hello"),
	    .after = sizeof(NEXT) - 1 },
	{ "pipelined_request_after_trailers",
	    IN(HELLO "0\r\nX: y\r\n\r\n" NEXT), DATA("hello"),
	    .after = sizeof(NEXT) - 1 },
	{ "pipelined_bytes_looking_like_chunks", IN(END END "5\r\n"),
	    DATA(""), .after = sizeof(END "5\r\n") - 1 },
	{ "pipelined_garbage_is_not_read", IN(END "\0\r\xff"), DATA(""),
	    .after = 3 },
	{ "data_of_exactly_max_body", IN("2\r\nhe\r\n3\r\nllo\r\n" END),
	    DATA("hello"), .max_body = 5 },
	{ "last_chunk_of_twenty_zeros",
	    IN("00000000000000000000\r\n\r\n"), DATA("") },
};

static void
check_good(const struct good_case *c, const struct feed *f,
    const struct result *r)
{
	size_t want = c->len - c->after;
	char si[256], sf[64], sd[256], sw[256];

	show(c->in, c->len, si, sizeof(si));
	show_feed(f, sf, sizeof(sf));
	ck_assert_msg(r->status == 0, "%s (%s): input \"%s\": expected "
	    "success, got status %d", c->name, sf, si, r->status);
	ck_assert_msg(r->done, "%s (%s): input \"%s\": the body did not end",
	    c->name, sf, si);
	ck_assert_msg(r->consumed == want, "%s (%s): input \"%s\": expected "
	    "%zu bytes consumed, got %zu", c->name, sf, si, want, r->consumed);
	ck_assert_msg(r->data_len == c->data_len &&
	    memcmp(r->data, c->data, c->data_len) == 0,
	    "%s (%s): input \"%s\": expected data \"%s\", got \"%s\"",
	    c->name, sf, si, show(c->data, c->data_len, sw, sizeof(sw)),
	    show(r->data, r->data_len, sd, sizeof(sd)));
	ck_assert_msg(r->total == c->data_len, "%s (%s): chunked_total() "
	    "%ju, expected %zu", c->name, sf, (uintmax_t)r->total,
	    c->data_len);
}

static uint64_t
bound(uint64_t max_body)
{
	return max_body == 0 ? UINT64_MAX : max_body;
}

START_TEST(decode_accepts_valid_body_in_one_call)
{
	const struct good_case *c = &good_cases[_i];
	struct feed f = feed_nth(c->len, 0);

	decode_fed(c->in, c->len, bound(c->max_body), &f, &res);
	check_good(c, &f, &res);
	ck_assert_uint_eq(res.calls, 1);
}
END_TEST

START_TEST(decode_gives_same_result_however_valid_body_is_fed)
{
	const struct good_case *c = &good_cases[_i];

	for (size_t i = 0; i < feed_count(c->len); i++) {
		struct feed f = feed_nth(c->len, i);

		decode_fed(c->in, c->len, bound(c->max_body), &f, &res);
		check_good(c, &f, &res);
	}
}
END_TEST

/*
 * Decoding in place leaves the bytes after the body as they were, so the
 * caller finds the next request where it was.
 */
START_TEST(decode_in_place_leaves_pipelined_request_intact)
{
	static const char in[] = "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n" NEXT;
	const size_t len = sizeof(in) - 1, body = len - (sizeof(NEXT) - 1);
	struct chunked ck;
	char *buf = tu_guarded(in, len);
	size_t out_len;
	bool done;
	ssize_t got;

	chunked_init(&ck, UINT64_MAX);
	got = chunked_decode(&ck, buf, len, buf, &out_len, &done);
	ck_assert_int_eq(got, (ssize_t)body);
	ck_assert(done);
	ck_assert_uint_eq(out_len, 7);
	ck_assert_mem_eq(buf, "abcdefg", 7);
	ck_assert_mem_eq(buf + body, NEXT, sizeof(NEXT) - 1);
	tu_guard_free(buf);
}
END_TEST

/* A chunk far larger than the pieces it arrives in, decoded in place. */
START_TEST(decode_streams_large_chunk_across_many_calls)
{
	static char in[RESULT_CAP];
	static const size_t steps[] = { 61, 4093, 65536, 1 << 17 };
	const size_t dlen = 100000;
	size_t len;
	int n;

	n = snprintf(in, sizeof(in), "%zx;big\r\n", dlen);
	ck_assert(n > 0);
	len = (size_t)n;
	for (size_t i = 0; i < dlen; i++)
		in[len + i] = (char)(i * 31 % 251);
	len += dlen;
	memcpy(in + len, "\r\n" END, 7);
	len += 7;
	for (size_t s = 0; s < NELEM(steps); s++) {
		struct feed f = { .first = steps[s], .step = steps[s],
			.in_place = s % 2 == 0 };

		decode_fed(in, len, dlen, &f, &res);
		ck_assert_msg(res.status == 0 && res.done &&
		    res.consumed == len, "step %zu: status %d, done %d, "
		    "consumed %zu of %zu", steps[s], res.status, res.done,
		    res.consumed, len);
		ck_assert_uint_eq(res.data_len, dlen);
		ck_assert_uint_eq(res.total, dlen);
		ck_assert_mem_eq(res.data, in + (size_t)n, dlen);
	}
}
END_TEST

/*
 * Hostile and malformed bodies: one table per kind, each row with the
 * status the decoder must answer.
 */

struct bad_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	uint64_t	 max_body;	/* 0: UINT64_MAX */
	int		 status;
};

/* RFC 9112 §7.1: chunked framing ends its lines with CRLF only. */
static const struct bad_case line_end_cases[] = {
	{ "bare_lf_after_size", IN("5\nhello\r\n" END), 0, 400 },
	{ "bare_lf_after_extension", IN("5;a=b\nhello\r\n" END), 0, 400 },
	{ "bare_lf_after_quoted_extension", IN("5;a=\"b\"\nhello\r\n" END), 0,
	    400 },
	{ "bare_lf_after_data", IN("5\r\nhello\n" END), 0, 400 },
	{ "bare_lf_ends_last_chunk", IN("0\n\r\n"), 0, 400 },
	{ "bare_lf_ends_body", IN("0\r\n\n"), 0, 400 },
	{ "bare_lf_ends_trailer", IN("0\r\nX: y\n\r\n"), 0, 400 },
	{ "bare_lf_as_trailer_line", IN("0\r\nX: y\r\n\n"), 0, 400 },
	{ "cr_without_lf_after_size", IN("5\rhello\r\n" END), 0, 400 },
	{ "cr_cr_lf_after_size", IN("5\r\r\nhello\r\n" END), 0, 400 },
	{ "cr_without_lf_after_data", IN("5\r\nhello\r" END), 0, 400 },
	{ "cr_cr_lf_after_data", IN("5\r\nhello\r\r\n" END), 0, 400 },
	{ "cr_without_lf_in_trailer_value", IN("0\r\nX: y\rz\r\n\r\n"), 0,
	    400 },
	{ "cr_without_lf_ends_body", IN("0\r\n\rX"), 0, 400 },
	{ "lf_cr_instead_of_crlf", IN("5\n\rhello\r\n" END), 0, 400 },
	{ "lf_lf_after_size", IN("5\n\nhello\r\n" END), 0, 400 },
	{ "lf_lf_after_extension", IN("5;a\n\nhello\r\n" END), 0, 400 },
};

/* BWS belongs only around ';' and '=' (RFC 9112 §7.1.1). */
static const struct bad_case whitespace_cases[] = {
	{ "space_before_crlf", IN("5 \r\nhello\r\n" END), 0, 400 },
	{ "htab_before_crlf", IN("5\t\r\nhello\r\n" END), 0, 400 },
	{ "space_before_crlf_of_last_chunk", IN("0 \r\n\r\n"), 0, 400 },
	{ "space_before_size", IN(" 5\r\nhello\r\n" END), 0, 400 },
	{ "space_inside_size", IN("1 0\r\n"), 0, 400 },
	{ "space_after_extension_name", IN("5;a \r\nhello\r\n" END), 0, 400 },
	{ "space_after_extension_token", IN("5;a=b \r\nhello\r\n" END), 0,
	    400 },
	{ "space_after_quoted_string", IN("5;a=\"b\" \r\nhello\r\n" END), 0,
	    400 },
	{ "space_inside_extension_token", IN("5;a=b c\r\nhello\r\n" END), 0,
	    400 },
	{ "space_inside_extension_name", IN("5;a b\r\nhello\r\n" END), 0,
	    400 },
	{ "vertical_tab_as_bws", IN("5\v;a\r\nhello\r\n" END), 0, 400 },
};

static const struct bad_case data_cases[] = {
	{ "missing_crlf_after_data", IN("5\r\nhello" END), 0, 400 },
	{ "data_longer_than_size", IN("3\r\nhello\r\n" END), 0, 400 },
	{ "data_shorter_than_size", IN("5\r\nhel\r\n" END), 0, 400 },
	{ "space_before_crlf_after_data", IN("5\r\nhello \r\n" END), 0, 400 },
	{ "no_last_chunk_before_request", IN(HELLO NEXT), 0, 400 },
	{ "last_chunk_without_final_crlf_then_request", IN("0\r\n" NEXT), 0,
	    400 },
};

static const struct bad_case size_cases[] = {
	{ "empty_size", IN("\r\nhello\r\n" END), 0, 400 },
	{ "empty_size_with_extension", IN(";a\r\nhello\r\n" END), 0, 400 },
	{ "non_hex_size", IN("g\r\nhello\r\n" END), 0, 400 },
	{ "non_hex_after_digit", IN("5g\r\nhello\r\n" END), 0, 400 },
	{ "negative_size", IN("-1\r\nh\r\n" END), 0, 400 },
	{ "plus_sign", IN("+5\r\nhello\r\n" END), 0, 400 },
	{ "hex_prefix", IN("0x10\r\n0123456789abcdef\r\n" END), 0, 400 },
	{ "decimal_point", IN("5.0\r\nhello\r\n" END), 0, 400 },
	{ "nul_in_size", IN("5\0\r\nhello\r\n" END), 0, 400 },
	{ "nul_as_size", IN("\0\r\n"), 0, 400 },
	{ "crlf_after_size_then_empty_line", IN("\r\n" END), 0, 400 },
	/* The counting of digits leaves out leading zeros only. */
	{ "seventeen_hex_digits", IN("10000000000000000\r\n"), 0, 413 },
	{ "seventeen_f_digits", IN("FFFFFFFFFFFFFFFFF\r\n"), 0, 413 },
	{ "seventeen_digits_after_zeros", IN("000010000000000000000\r\n"), 0,
	    413 },
	{ "overflowing_size", IN("100000000000000000000000000000000\r\n"), 0,
	    413 },
	{ "overflowing_size_without_line_end", IN("fffffffffffffffffff"), 0,
	    413 },
};

/* 413 as soon as a chunk size says the body would be too large. */
static const struct bad_case max_body_cases[] = {
	{ "chunk_over_max_body", IN("6\r\nhello!\r\n" END), 5, 413 },
	{ "total_over_max_body", IN("3\r\nhel\r\n3\r\nlo!\r\n" END), 5, 413 },
	{ "one_byte_over_max_body_in_second_chunk",
	    IN(HELLO "1\r\n!\r\n" END), 5, 413 },
	/* Nothing but the size line has arrived. */
	{ "chunk_over_max_body_before_its_data", IN("100\r\n"), 255, 413 },
	{ "chunk_over_max_body_before_its_line_ends", IN("100"), 255, 413 },
	{ "chunk_over_max_body_of_one", IN("2\r\nhi\r\n" END), 1, 413 },
	{ "max_uint64_chunk_with_small_bound", IN("FFFFFFFFFFFFFFFF\r\n"),
	    1 << 20, 413 },
};

/* RFC 9112 §7.1.1 and RFC 9110 §5.6.2, §5.6.4. */
static const struct bad_case extension_cases[] = {
	{ "nul_in_extension_name", IN("5;a\0b\r\nhello\r\n" END), 0, 400 },
	{ "nul_in_extension_token", IN("5;a=b\0\r\nhello\r\n" END), 0, 400 },
	{ "nul_in_quoted_string", IN("5;a=\"b\0\"\r\nhello\r\n" END), 0,
	    400 },
	{ "nul_after_backslash", IN("5;a=\"\\\0\"\r\nhello\r\n" END), 0,
	    400 },
	{ "ctl_in_extension_name", IN("5;a\x01\r\nhello\r\n" END), 0, 400 },
	{ "ctl_in_quoted_string", IN("5;a=\"\x01\"\r\nhello\r\n" END), 0,
	    400 },
	{ "esc_in_quoted_string", IN("5;a=\"\x1b[m\"\r\nhello\r\n" END), 0,
	    400 },
	{ "del_in_quoted_string", IN("5;a=\"\x7f\"\r\nhello\r\n" END), 0,
	    400 },
	{ "del_after_backslash", IN("5;a=\"\\\x7f\"\r\nhello\r\n" END), 0,
	    400 },
	{ "del_in_extension_token", IN("5;a=b\x7f\r\nhello\r\n" END), 0,
	    400 },
	{ "high_byte_in_extension_name", IN("5;\xc3\xa9\r\nhello\r\n" END), 0,
	    400 },
	{ "high_byte_in_extension_token", IN("5;a=\xff\r\nhello\r\n" END), 0,
	    400 },
	{ "unterminated_quoted_string", IN("5;a=\"bc\r\nhello\r\n" END), 0,
	    400 },
	{ "quoted_string_cut_by_backslash_crlf",
	    IN("5;a=\"b\\\r\nhello\r\n" END), 0, 400 },
	{ "escaped_closing_quote_leaves_it_open",
	    IN("5;a=\"b\\\"\r\nhello\r\n" END), 0, 400 },
	{ "lf_in_quoted_string", IN("5;a=\"b\nc\"\r\nhello\r\n" END), 0,
	    400 },
	{ "empty_extension_name", IN("5;\r\nhello\r\n" END), 0, 400 },
	{ "empty_extension_name_with_value", IN("5;=b\r\nhello\r\n" END), 0,
	    400 },
	{ "empty_extension_value", IN("5;a=\r\nhello\r\n" END), 0, 400 },
	{ "double_semicolon", IN("5;;a\r\nhello\r\n" END), 0, 400 },
	{ "double_equals", IN("5;a==b\r\nhello\r\n" END), 0, 400 },
	{ "separator_in_extension_token", IN("5;a=b/c\r\nhello\r\n" END), 0,
	    400 },
	{ "quote_inside_token", IN("5;a=b\"c\"\r\nhello\r\n" END), 0, 400 },
	{ "text_after_quoted_string", IN("5;a=\"b\"c\r\nhello\r\n" END), 0,
	    400 },
	{ "quoted_extension_name", IN("5;\"a\"\r\nhello\r\n" END), 0, 400 },
	{ "comma_instead_of_semicolon", IN("5,a\r\nhello\r\n" END), 0, 400 },
};

/* Trailer fields follow the rules of request header fields. */
static const struct bad_case trailer_cases[] = {
	{ "nul_in_trailer_value", IN("0\r\nX: a\0b\r\n\r\n"), 0, 400 },
	{ "nul_in_trailer_name", IN("0\r\nX\0: a\r\n\r\n"), 0, 400 },
	{ "nul_as_trailer_line", IN("0\r\n\0\r\n\r\n"), 0, 400 },
	{ "ctl_in_trailer_value", IN("0\r\nX: a\x01\r\n\r\n"), 0, 400 },
	{ "esc_in_trailer_value", IN("0\r\nX: \x1b[31m\r\n\r\n"), 0, 400 },
	{ "del_in_trailer_value", IN("0\r\nX: a\x7f\r\n\r\n"), 0, 400 },
	{ "vertical_tab_in_trailer_value", IN("0\r\nX: a\vb\r\n\r\n"), 0,
	    400 },
	{ "obs_fold_with_sp_in_trailers", IN("0\r\nX: a\r\n b\r\n\r\n"), 0,
	    400 },
	{ "obs_fold_with_htab_in_trailers", IN("0\r\nX: a\r\n\tb\r\n\r\n"),
	    0, 400 },
	{ "whitespace_before_first_trailer", IN("0\r\n X: a\r\n\r\n"), 0,
	    400 },
	{ "whitespace_only_final_line", IN("0\r\n \r\n"), 0, 400 },
	{ "space_before_trailer_colon", IN("0\r\nX : a\r\n\r\n"), 0, 400 },
	{ "htab_before_trailer_colon", IN("0\r\nX\t: a\r\n\r\n"), 0, 400 },
	{ "trailer_without_colon", IN("0\r\nX a\r\n\r\n"), 0, 400 },
	{ "trailer_name_only", IN("0\r\nX\r\n\r\n"), 0, 400 },
	{ "empty_trailer_name", IN("0\r\n: a\r\n\r\n"), 0, 400 },
	{ "separator_in_trailer_name", IN("0\r\nX(A): a\r\n\r\n"), 0, 400 },
	{ "high_byte_in_trailer_name", IN("0\r\nX\xc3\xa9: a\r\n\r\n"), 0,
	    400 },
	{ "chunk_after_last_chunk", IN("0\r\n5\r\nhello\r\n" END), 0, 400 },
};

static void
check_bad(const struct bad_case *c, const struct feed *f,
    const struct result *r)
{
	char si[256], sf[64];

	ck_assert_msg(r->status == c->status, "%s (%s): input \"%s\": "
	    "expected status %d, got %d (done %d, consumed %zu)", c->name,
	    show_feed(f, sf, sizeof(sf)), show(c->in, c->len, si, sizeof(si)),
	    c->status, r->status, r->done, r->consumed);
}

static const struct {
	const struct bad_case	*rows;
	size_t			 n;
} bad_tables[] = {
	{ line_end_cases, NELEM(line_end_cases) },
	{ whitespace_cases, NELEM(whitespace_cases) },
	{ data_cases, NELEM(data_cases) },
	{ size_cases, NELEM(size_cases) },
	{ max_body_cases, NELEM(max_body_cases) },
	{ extension_cases, NELEM(extension_cases) },
	{ trailer_cases, NELEM(trailer_cases) },
};

static size_t
bad_count(void)
{
	size_t n = 0;

	for (size_t t = 0; t < NELEM(bad_tables); t++)
		n += bad_tables[t].n;
	return n;
}

static const struct bad_case *
bad_row(size_t i)
{
	for (size_t t = 0; t < NELEM(bad_tables); t++) {
		if (i < bad_tables[t].n)
			return &bad_tables[t].rows[i];
		i -= bad_tables[t].n;
	}
	ck_abort_msg("bad row %zu out of range", i);
	return NULL;
}

#define BAD_TEST(fn, table)						\
	START_TEST(fn)							\
	{								\
		const struct bad_case *c = &(table)[_i];		\
		struct feed f = feed_nth(c->len, 0);			\
									\
		decode_fed(c->in, c->len, bound(c->max_body), &f, &res); \
		check_bad(c, &f, &res);					\
	}								\
	END_TEST

BAD_TEST(decode_requires_crlf_line_ends, line_end_cases)
BAD_TEST(decode_rejects_whitespace_outside_bws, whitespace_cases)
BAD_TEST(decode_requires_crlf_right_after_data, data_cases)
BAD_TEST(decode_rejects_malformed_or_oversize_chunk_size, size_cases)
BAD_TEST(decode_enforces_max_body_with_413, max_body_cases)
BAD_TEST(decode_rejects_malformed_extension, extension_cases)
BAD_TEST(decode_rejects_malformed_trailer, trailer_cases)

/* However a bad body is split, and in place or not, the status is the same. */
START_TEST(decode_gives_same_error_however_bad_body_is_fed)
{
	const struct bad_case *c = bad_row((size_t)_i);

	for (size_t i = 0; i < feed_count(c->len); i++) {
		struct feed f = feed_nth(c->len, i);

		decode_fed(c->in, c->len, bound(c->max_body), &f, &res);
		check_bad(c, &f, &res);
	}
}
END_TEST

/*
 * Limits built at run time
 */

/*
 * A one-chunk body "5;eee...\r\nhello\r\n0\r\n\r\n" whose size line is n
 * bytes without its CRLF.
 */
static size_t
build_size_line(char *out, size_t cap, size_t n)
{
	static const char rest[] = "\r\nhello\r\n" END;

	ck_assert(n >= 3 && n + sizeof(rest) <= cap);
	memcpy(out, "5;", 2);
	memset(out + 2, 'e', n - 2);
	memcpy(out + n, rest, sizeof(rest) - 1);
	return n + sizeof(rest) - 1;
}

START_TEST(decode_accepts_size_line_of_max_line)
{
	static char in[2 * CHUNKED_MAX_LINE];
	size_t len = build_size_line(in, sizeof(in), CHUNKED_MAX_LINE);
	struct feed f = { .first = len, .step = len };

	decode_fed(in, len, UINT64_MAX, &f, &res);
	ck_assert_msg(res.status == 0 && res.done && res.consumed == len,
	    "status %d, done %d, consumed %zu of %zu", res.status, res.done,
	    res.consumed, len);
	ck_assert_mem_eq(res.data, "hello", 5);
}
END_TEST

START_TEST(decode_rejects_size_line_over_max_line_with_400)
{
	static char in[2 * CHUNKED_MAX_LINE];
	size_t len = build_size_line(in, sizeof(in), CHUNKED_MAX_LINE + 1);
	struct feed whole = { .first = len, .step = len };
	struct feed pieces = { .first = 1, .step = 7 };

	decode_fed(in, len, UINT64_MAX, &whole, &res);
	ck_assert_int_eq(res.status, 400);
	decode_fed(in, len, UINT64_MAX, &pieces, &res);
	ck_assert_int_eq(res.status, 400);
	/* Known at the byte that passes the bound, not at the CRLF. */
	decode_fed(in, CHUNKED_MAX_LINE + 1, UINT64_MAX, &whole, &res);
	ck_assert_int_eq(res.status, 400);
}
END_TEST

/* Leading zeros are allowed, but only as many as fit in one line. */
START_TEST(decode_bounds_leading_zeros_by_max_line)
{
	static char in[2 * CHUNKED_MAX_LINE];
	static const char rest[] = "5\r\nhello\r\n" END;
	struct feed f = { .first = 4096, .step = 3 };
	size_t len;

	memset(in, '0', CHUNKED_MAX_LINE - 1);
	memcpy(in + CHUNKED_MAX_LINE - 1, rest, sizeof(rest) - 1);
	len = CHUNKED_MAX_LINE - 1 + sizeof(rest) - 1;
	decode_fed(in, len, UINT64_MAX, &f, &res);
	ck_assert_msg(res.status == 0 && res.done && res.data_len == 5,
	    "status %d, done %d, %zu bytes of data", res.status, res.done,
	    res.data_len);

	memset(in, '0', CHUNKED_MAX_LINE);
	memcpy(in + CHUNKED_MAX_LINE, rest, sizeof(rest) - 1);
	len = CHUNKED_MAX_LINE + sizeof(rest) - 1;
	decode_fed(in, len, UINT64_MAX, &f, &res);
	ck_assert_int_eq(res.status, 400);
}
END_TEST

/* The largest chunk size there is: 16 significant digits, no bound. */
START_TEST(decode_accepts_sixteen_hex_digits_without_bound)
{
	static const char in[] = "0000FFFFFFFFFFFFFFFF;x\r\nabc";
	struct chunked ck;
	char *buf = tu_guarded(in, sizeof(in) - 1);
	size_t out_len;
	bool done;

	chunked_init(&ck, UINT64_MAX);
	ck_assert_int_eq(chunked_decode(&ck, buf, sizeof(in) - 1, buf,
	    &out_len, &done), (ssize_t)(sizeof(in) - 1));
	ck_assert(!done);
	ck_assert_uint_eq(out_len, 3);
	ck_assert_uint_eq(chunked_total(&ck), 3);
	tu_guard_free(buf);
}
END_TEST

START_TEST(decode_bounds_empty_body_by_max_body_of_zero)
{
	static const char in[] = "0\r\n\r\n", one[] = "1\r\nx\r\n" END;
	struct feed f = { .first = 1, .step = 1 };

	decode_fed(in, sizeof(in) - 1, 0, &f, &res);
	ck_assert(res.status == 0 && res.done && res.data_len == 0);
	decode_fed(one, sizeof(one) - 1, 0, &f, &res);
	ck_assert_int_eq(res.status, 413);
	ck_assert_uint_eq(res.calls, 1);
}
END_TEST

/*
 * A body "0\r\n" with trailer field lines of exactly n bytes in all (as
 * many "X-Fill: aaa...\r\n" lines as it takes), then "\r\n" and NEXT.
 */
static size_t
build_trailers(char *out, size_t cap, size_t n, size_t *body)
{
	static const char name[] = "X-Fill: ";
	size_t len = 0;

	ck_assert(cap > n + 64);
	memcpy(out, "0\r\n", 3);
	len = 3;
	while (n > 0) {
		size_t line = n > 1000 ? 1000 : n;

		/* A last line too short for a name: lengthen the one before. */
		if (n - line < sizeof(name) + 2 && n > line)
			line = n - (sizeof(name) + 2);
		ck_assert(line >= sizeof(name) + 1);
		memcpy(out + len, name, sizeof(name) - 1);
		memset(out + len + sizeof(name) - 1, 'a',
		    line - (sizeof(name) - 1) - 2);
		memcpy(out + len + line - 2, "\r\n", 2);
		len += line;
		n -= line;
	}
	memcpy(out + len, "\r\n", 2);
	len += 2;
	*body = len;
	memcpy(out + len, NEXT, sizeof(NEXT) - 1);
	return len + sizeof(NEXT) - 1;
}

START_TEST(decode_accepts_trailers_of_max_trailer)
{
	static char in[2 * CHUNKED_MAX_TRAILER];
	size_t body, len = build_trailers(in, sizeof(in), CHUNKED_MAX_TRAILER,
	    &body);
	struct feed f = { .first = 5, .step = 333 };

	decode_fed(in, len, UINT64_MAX, &f, &res);
	ck_assert_msg(res.status == 0 && res.done && res.consumed == body,
	    "status %d, done %d, consumed %zu of %zu", res.status, res.done,
	    res.consumed, body);
}
END_TEST

START_TEST(decode_rejects_trailers_over_max_trailer_with_431)
{
	static char in[2 * CHUNKED_MAX_TRAILER];
	size_t body, len = build_trailers(in, sizeof(in),
	    CHUNKED_MAX_TRAILER + 1, &body);
	struct feed whole = { .first = len, .step = len };
	struct feed pieces = { .first = 1, .step = 7 };

	decode_fed(in, len, UINT64_MAX, &whole, &res);
	ck_assert_int_eq(res.status, 431);
	decode_fed(in, len, UINT64_MAX, &pieces, &res);
	ck_assert_int_eq(res.status, 431);
	/* Known at the byte that passes the bound, before its line ends. */
	build_trailers(in, sizeof(in), CHUNKED_MAX_TRAILER + 10, &body);
	decode_fed(in, 3 + CHUNKED_MAX_TRAILER + 1, UINT64_MAX, &whole, &res);
	ck_assert_int_eq(res.status, 431);
}
END_TEST

/*
 * State and accessors
 */

/* Feeds in[0..len) to ck in one call and returns what it consumed. */
static ssize_t
feed_one(struct chunked *ck, const char *in, size_t len, size_t *out_len,
    bool *done)
{
	char *buf = tu_guarded(in, len);
	ssize_t got = chunked_decode(ck, buf, len, buf, out_len, done);

	tu_guard_free(buf);
	return got;
}

START_TEST(total_and_done_follow_the_body)
{
	static const struct {
		const char	*in;
		uint64_t	 total;
		bool		 done;
	} steps[] = {
		{ "", 0, false },
		{ "3", 0, false },
		{ "\r\nab", 2, false },
		{ "c", 3, false },
		{ "\r\n10;x=\"y\"\r\n", 3, false },
		{ "0123456789abcdef", 19, false },
		{ "\r\n0\r\n", 19, false },
		{ "X: y\r\n", 19, false },
		{ "\r", 19, false },
		{ "\n", 19, true },
	};
	struct chunked ck;

	chunked_init(&ck, 19);
	ck_assert(!chunked_done(&ck));
	ck_assert_uint_eq(chunked_total(&ck), 0);
	for (size_t i = 0; i < NELEM(steps); i++) {
		size_t len = strlen(steps[i].in), out_len;
		bool done;
		ssize_t got = feed_one(&ck, steps[i].in, len, &out_len, &done);

		ck_assert_msg(got == (ssize_t)len, "step %zu: consumed %zd of "
		    "%zu (status %d)", i, got, len, ck.status);
		ck_assert_msg(chunked_total(&ck) == steps[i].total,
		    "step %zu: total %ju, expected %ju", i,
		    (uintmax_t)chunked_total(&ck), (uintmax_t)steps[i].total);
		ck_assert_msg(chunked_done(&ck) == steps[i].done && done ==
		    steps[i].done, "step %zu: done %d/%d, expected %d", i,
		    chunked_done(&ck), done, steps[i].done);
	}
}
END_TEST

START_TEST(decode_after_end_consumes_nothing)
{
	struct chunked ck;
	size_t out_len;
	bool done;

	chunked_init(&ck, UINT64_MAX);
	ck_assert_int_eq(feed_one(&ck, HELLO END, sizeof(HELLO END) - 1,
	    &out_len, &done), (ssize_t)(sizeof(HELLO END) - 1));
	ck_assert(done);
	done = false;
	out_len = 99;
	ck_assert_int_eq(feed_one(&ck, END, sizeof(END) - 1, &out_len, &done),
	    0);
	ck_assert(done && chunked_done(&ck));
	ck_assert_uint_eq(out_len, 0);
	ck_assert_uint_eq(chunked_total(&ck), 5);
}
END_TEST

START_TEST(decode_after_error_repeats_it)
{
	struct chunked ck;
	size_t out_len;
	bool done;

	chunked_init(&ck, 4);
	ck_assert_int_eq(feed_one(&ck, HELLO, sizeof(HELLO) - 1, &out_len,
	    &done), CHUNKED_ERROR);
	ck_assert_int_eq(ck.status, 413);
	ck_assert_int_eq(feed_one(&ck, END, sizeof(END) - 1, &out_len, &done),
	    CHUNKED_ERROR);
	ck_assert_int_eq(ck.status, 413);
	ck_assert(!done && !chunked_done(&ck));
	ck_assert_uint_eq(out_len, 0);
}
END_TEST

START_TEST(init_resets_a_used_decoder)
{
	struct chunked ck;
	size_t out_len;
	bool done;

	chunked_init(&ck, UINT64_MAX);
	ck_assert_int_eq(feed_one(&ck, "x", 1, &out_len, &done),
	    CHUNKED_ERROR);
	chunked_init(&ck, UINT64_MAX);
	ck_assert_int_eq(feed_one(&ck, HELLO END, sizeof(HELLO END) - 1,
	    &out_len, &done), (ssize_t)(sizeof(HELLO END) - 1));
	ck_assert(done);
	chunked_init(&ck, UINT64_MAX);
	ck_assert(!chunked_done(&ck));
	ck_assert_uint_eq(chunked_total(&ck), 0);
}
END_TEST

START_TEST(decode_of_nothing_consumes_nothing)
{
	struct chunked ck;
	size_t out_len = 99;
	bool done = true;

	chunked_init(&ck, UINT64_MAX);
	ck_assert_int_eq(feed_one(&ck, "", 0, &out_len, &done), 0);
	ck_assert(!done);
	ck_assert_uint_eq(out_len, 0);
}
END_TEST

static Suite *
chunked_suite(void)
{
	Suite *s = suite_create("chunked");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_loop_test(tc, decode_accepts_valid_body_in_one_call, 0,
	    NELEM(good_cases));
	tcase_add_test(tc, decode_in_place_leaves_pipelined_request_intact);
	tcase_add_test(tc, decode_streams_large_chunk_across_many_calls);
	suite_add_tcase(s, tc);

	tc = tcase_create("incremental");
	tcase_add_loop_test(tc,
	    decode_gives_same_result_however_valid_body_is_fed, 0,
	    NELEM(good_cases));
	tcase_add_loop_test(tc, decode_gives_same_error_however_bad_body_is_fed,
	    0, (int)bad_count());
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_loop_test(tc, decode_requires_crlf_line_ends, 0,
	    NELEM(line_end_cases));
	tcase_add_loop_test(tc, decode_rejects_whitespace_outside_bws, 0,
	    NELEM(whitespace_cases));
	tcase_add_loop_test(tc, decode_requires_crlf_right_after_data, 0,
	    NELEM(data_cases));
	tcase_add_loop_test(tc, decode_rejects_malformed_or_oversize_chunk_size,
	    0, NELEM(size_cases));
	tcase_add_loop_test(tc, decode_enforces_max_body_with_413, 0,
	    NELEM(max_body_cases));
	tcase_add_loop_test(tc, decode_rejects_malformed_extension, 0,
	    NELEM(extension_cases));
	tcase_add_loop_test(tc, decode_rejects_malformed_trailer, 0,
	    NELEM(trailer_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, decode_accepts_size_line_of_max_line);
	tcase_add_test(tc, decode_rejects_size_line_over_max_line_with_400);
	tcase_add_test(tc, decode_bounds_leading_zeros_by_max_line);
	tcase_add_test(tc, decode_accepts_sixteen_hex_digits_without_bound);
	tcase_add_test(tc, decode_bounds_empty_body_by_max_body_of_zero);
	tcase_add_test(tc, decode_accepts_trailers_of_max_trailer);
	tcase_add_test(tc, decode_rejects_trailers_over_max_trailer_with_431);
	suite_add_tcase(s, tc);

	tc = tcase_create("state");
	tcase_add_test(tc, total_and_done_follow_the_body);
	tcase_add_test(tc, decode_after_end_consumes_nothing);
	tcase_add_test(tc, decode_after_error_repeats_it);
	tcase_add_test(tc, init_resets_a_used_decoder);
	tcase_add_test(tc, decode_of_nothing_consumes_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(chunked_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
