/*
 * check_log.c - unit tests for the access log's line format (log.h): how
 * the untrusted fields (request line, Referer, User-Agent) are escaped.
 *
 * A terminal running "tail -f access.log" acts on C0 controls, on DEL and
 * on the C1 controls U+0080-U+009F (U+009B is CSI, as ESC [ is), and many
 * act on a raw byte 0x80-0x9F too.  So none of them may reach the log
 * raw, while well-formed UTF-8 text stays readable.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "span.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* A literal and its length, embedded NUL bytes included. */
#define LIT(s)		(s), (sizeof(s) - 1)

/*
 * Renders p[0..len) for a failure message, a backslash as \\ and every
 * byte outside printable ASCII as \xNN, so raw and escaped bytes look
 * different and a failing case cannot drive the terminal either.
 */
static const char *
show(const char *p, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		}
	}
	out[o] = '\0';
	return out;
}

/*
 * Formats an access line whose three untrusted fields all hold
 * in[0..len) into out.  Returns the line's length and stores where the
 * byte count goes.
 */
static size_t
format_line(const char *in, size_t len, char *out, size_t cap,
    size_t *split)
{
	struct access_entry e = {
		.peer = "192.0.2.1",
		.request_line = span_make(in, len),
		.status = 200,
		.referer = span_make(in, len),
		.user_agent = span_make(in, len),
		.when = 0,
	};

	return log_format_access(out, cap, &e, split);
}

/* As format_line(), from a copy that ends at a guard page. */
static size_t
format_guarded(const char *in, size_t len, char *out, size_t cap,
    size_t *split)
{
	char *g = tu_guarded(in, len);
	size_t n = format_line(g, len, out, cap, split);

	tu_guard_free(g);
	return n;
}

/*
 * The field as written in the line: the text between '] "' and '" 200 ',
 * which must come back twice more after the split, as Referer and
 * User-Agent.  Returns its length, or -1 when the line is not shaped so.
 */
static long
field_of(const char *line, size_t len, size_t split, const char **field)
{
	const char *open = memmem(line, len, "] \"", 3);
	static const char mid[] = "\" 200 ";
	char tail[4096];
	size_t flen;
	int n;

	if (open == NULL || split < sizeof(mid) - 1)
		return -1;
	*field = open + 3;
	if (split < (size_t)(*field - line) + sizeof(mid) - 1)
		return -1;
	flen = split - (size_t)(*field - line) - (sizeof(mid) - 1);
	if (memcmp(*field + flen, mid, sizeof(mid) - 1) != 0)
		return -1;
	n = snprintf(tail, sizeof(tail), " \"%.*s\" \"%.*s\"\n", (int)flen,
	    *field, (int)flen, *field);
	if (n < 0 || (size_t)n >= sizeof(tail) || len - split != (size_t)n ||
	    memcmp(line + split, tail, (size_t)n) != 0)
		return -1;
	return (long)flen;
}

static const struct esc_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*want;		/* as written in the log */
} esc_cases[] = {
	{ "empty", LIT(""), "-" },
	{ "plain", LIT("GET /a.txt HTTP/1.1"), "GET /a.txt HTTP/1.1" },
	{ "quote and backslash", LIT("a\"b\\c"), "a\\x22b\\x5cc" },
	{ "NUL", LIT("a\0b"), "a\\x00b" },
	{ "tab", LIT("a\tb"), "a\\x09b" },
	{ "ESC and DEL", LIT("\x1b[31m\x7f"), "\\x1b[31m\\x7f" },
	/* The C1 controls, in UTF-8: each byte escaped. */
	{ "U+0080", LIT("\xc2\x80"), "\\xc2\\x80" },
	{ "U+0085 NEL", LIT("a\xc2\x85z"), "a\\xc2\\x85z" },
	{ "U+009B CSI", LIT("\xc2\x9b[2J"), "\\xc2\\x9b[2J" },
	{ "U+009D OSC", LIT("\xc2\x9d" "0;title"), "\\xc2\\x9d0;title" },
	{ "U+009F", LIT("\xc2\x9f"), "\\xc2\\x9f" },
	/* The C1 controls as raw bytes, which are not UTF-8 at all. */
	{ "raw 0x9b", LIT("\x9b[31m"), "\\x9b[31m" },
	{ "raw 0x80", LIT("a\x80"), "a\\x80" },
	{ "raw 0x9f after text", LIT("ab\x9f"), "ab\\x9f" },
	/* Well-formed UTF-8 beyond the C1 range stays readable. */
	{ "U+00A0", LIT("\xc2\xa0"), "\xc2\xa0" },
	{ "e acute", LIT("caf\xc3\xa9"), "caf\xc3\xa9" },
	{ "euro sign (continuation 0x82)", LIT("\xe2\x82\xac 5"),
	    "\xe2\x82\xac 5" },
	{ "Chinese", LIT("\xe4\xb8\xad\xe6\x96\x87"),
	    "\xe4\xb8\xad\xe6\x96\x87" },
	{ "emoji", LIT("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80" },
	{ "U+10FFFF", LIT("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf" },
	/* Not well-formed: every byte >= 0x80 escaped on its own. */
	{ "0xff", LIT("\xff"), "\\xff" },
	{ "overlong NUL", LIT("\xc0\x80"), "\\xc0\\x80" },
	{ "overlong CSI", LIT("\xc0\x9b"), "\\xc0\\x9b" },
	{ "overlong C1 lead", LIT("\xc1\xbf"), "\\xc1\\xbf" },
	{ "overlong 3 bytes", LIT("\xe0\x82\x9b"), "\\xe0\\x82\\x9b" },
	{ "overlong 4 bytes", LIT("\xf0\x80\x82\x9b"),
	    "\\xf0\\x80\\x82\\x9b" },
	{ "surrogate", LIT("\xed\xa0\x80"), "\\xed\\xa0\\x80" },
	{ "above U+10FFFF", LIT("\xf4\x90\x80\x80"),
	    "\\xf4\\x90\\x80\\x80" },
	{ "lead 0xf5", LIT("\xf5\x80\x80\x80"), "\\xf5\\x80\\x80\\x80" },
	{ "truncated at the end", LIT("x\xe4\xb8"), "x\\xe4\\xb8" },
	{ "truncated, then text", LIT("\xe2\x82" "A"), "\\xe2\\x82A" },
	{ "lead byte at the end", LIT("\xc2"), "\\xc2" },
	{ "lead then C1 lead", LIT("\xe4\xc2\x9b"), "\\xe4\\xc2\\x9b" },
	{ "stray continuation after a character", LIT("\xe4\xb8\xad\x9b"),
	    "\xe4\xb8\xad\\x9b" },
};

START_TEST(access_fields_are_escaped)
{
	const struct esc_case *c = &esc_cases[_i];
	char line[4096], got[1024], want[1024];
	const char *field;
	size_t split = 0;
	size_t n = format_guarded(c->in, c->len, line, sizeof(line), &split);
	long flen;

	ck_assert_msg(n > 0, "%s: the line did not fit", c->name);
	flen = field_of(line, n, split, &field);
	ck_assert_msg(flen >= 0, "%s: malformed line %s", c->name,
	    show(line, n, got, sizeof(got)));
	ck_assert_msg((size_t)flen == strlen(c->want) &&
	    memcmp(field, c->want, (size_t)flen) == 0,
	    "%s: got \"%s\", want \"%s\"", c->name,
	    show(field, (size_t)flen, got, sizeof(got)),
	    show(c->want, strlen(c->want), want, sizeof(want)));
}
END_TEST

/*
 * Whatever the bytes, the line holds no C0 control, DEL, C1 control in
 * UTF-8 or byte >= 0x80 outside well-formed UTF-8, and the line ends with
 * its one newline.
 */
/*
 * The offset of the first thing in line[0..len) a terminal could act on:
 * a C0 control, DEL, a byte >= 0x80 outside well-formed UTF-8, or a C1
 * control in UTF-8; -1 when there is none.
 */
static long
first_control(const char *line, size_t len)
{
	size_t k;

	for (size_t i = 0; i < len; i += k) {
		unsigned char c = (unsigned char)line[i];

		k = utf8_seq_len(line + i, len - i);
		if (k == 0 || c < 0x20 || c == 0x7f || (k == 2 && c == 0xc2 &&
		    (unsigned char)line[i + 1] < 0xa0))
			return (long)i;
	}
	return -1;
}

/*
 * Whatever the bytes, the line holds nothing a terminal could act on, and
 * it ends with its one newline.  (Checked without an assertion per byte:
 * each one is a message to Check's parent process.)
 */
START_TEST(random_fields_leave_no_control_raw)
{
	unsigned seed = 20261203;

	for (int round = 0; round < 5000; round++) {
		char in[48], line[4096], shown[1024];
		size_t len = (size_t)(rand_r(&seed) % sizeof(in)), split, n;

		for (size_t i = 0; i < len; i++) {
			/* Half in 0x80-0xdf: C1 bytes and lead bytes. */
			int r = rand_r(&seed);

			in[i] = (char)(r & 1 ? 0x80 + (r >> 1) % 0x60 :
			    (r >> 1) & 0xff);
		}
		n = format_line(in, len, line, sizeof(line), &split);
		if (n == 0 || line[n - 1] != '\n' ||
		    first_control(line, n - 1) >= 0)
			ck_abort_msg("round %d: at %ld: %s", round,
			    n == 0 ? -1 : first_control(line, n - 1),
			    show(line, n, shown, sizeof(shown)));
	}
}
END_TEST

START_TEST(a_line_that_does_not_fit_is_refused)
{
	/* Each C1 character grows from 2 bytes to 8. */
	static const char in[] = "\xc2\x9b\xc2\x9b\xc2\x9b\xc2\x9b";
	char line[4096];
	size_t split, full = format_guarded(LIT(in), line, sizeof(line),
	    &split);

	ck_assert_uint_gt(full, 0);
	for (size_t cap = 0; cap < full; cap++)
		ck_assert_uint_eq(format_line(LIT(in), line, cap, &split), 0);
	ck_assert_uint_eq(format_line(LIT(in), line, full, &split), full);
}
END_TEST

START_TEST(received_bytes_end_the_line)
{
	struct access_entry e = {
		.peer = "192.0.2.1",
		.request_line = SPAN_LIT("PUT /up/a HTTP/1.1"),
		.status = 201,
		.received = 1234,
		.has_received = true,
	};
	char line[512], with[600];
	size_t split, n = log_format_access(line, sizeof(line), &e, &split);

	ck_assert_uint_gt(n, 0);
	line[n] = '\0';
	ck_assert_msg(strstr(line, "\" in=1234\n") != NULL, "%s", line);
	e.has_received = false;
	n = log_format_access(with, sizeof(with), &e, &split);
	with[n] = '\0';
	ck_assert_ptr_null(strstr(with, "in="));
}
END_TEST

/* Read tokens and share links never reach the log. */
START_TEST(tokens_are_not_logged)
{
	struct access_entry e = {
		.peer = "192.0.2.1",
		.request_line = SPAN_LIT("GET /a/b.mp4?t=AQAA.xyz&x=1 HTTP/1.1"),
		.referer = SPAN_LIT("http://h/d/?sort=name&t=SECRET#f"),
		.status = 200,
	};
	char line[512];
	size_t split, n = log_format_access(line, sizeof(line), &e, &split);

	ck_assert_uint_gt(n, 0);
	line[n] = '\0';
	ck_assert_msg(strstr(line, "\"GET /a/b.mp4?t=-&x=1 HTTP/1.1\"") !=
	    NULL, "%s", line);
	ck_assert_msg(strstr(line, "\"http://h/d/?sort=name&t=-#f\"") != NULL,
	    "%s", line);
	ck_assert_ptr_null(strstr(line, "AQAA"));
	ck_assert_ptr_null(strstr(line, "SECRET"));
	/* Only the parameter t: "at=" and a path holding "t=" stay. */
	e.request_line = SPAN_LIT("GET /t=1/?at=2&tt=3 HTTP/1.1");
	e.referer = SPAN_NULL;
	n = log_format_access(line, sizeof(line), &e, &split);
	line[n] = '\0';
	ck_assert_msg(strstr(line, "\"GET /t=1/?at=2&tt=3 HTTP/1.1\"") !=
	    NULL, "%s", line);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("access");

	tcase_add_test(tc, tokens_are_not_logged);
	tcase_add_loop_test(tc, access_fields_are_escaped, 0,
	    NELEM(esc_cases));
	tcase_add_test(tc, random_fields_leave_no_control_raw);
	tcase_add_test(tc, a_line_that_does_not_fit_is_refused);
	tcase_add_test(tc, received_bytes_end_the_line);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
