/*
 * check_auth_hdr.c - unit tests for request credentials: Basic (RFC
 * 7617), cookies (RFC 6265 §4.2), user names and the constant-time
 * comparison.
 *
 * Every input goes through tu_guarded(), which places it right before a
 * PROT_NONE page, so a parser that reads one byte past its span crashes
 * the test even without ASan.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_hdr.h"
#include "base64.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* A literal input and its length, embedded NUL bytes included. */
#define IN(s)		.in = (s), .len = sizeof(s) - 1

/* Room for "Basic " and the base64 of the longest text we build. */
#define HDR_CAP		1024

/*
 * Helpers
 */

/* True when every byte of p[0..n) is zero. */
static bool
all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* Parses in[0..len) from a guarded copy into *out, filled with junk first. */
static int
parse_guarded(const char *in, size_t len, struct auth_basic *out)
{
	char *g = tu_guarded(in, len);
	int rc;

	memset(out, 0xa5, sizeof(*out));
	rc = auth_parse_basic(span_make(g, len), out);
	tu_guard_free(g);
	return rc;
}

/* Writes "Basic " and the base64 of text[0..len) to hdr; returns its length. */
static size_t
basic_header(const char *text, size_t len, char *hdr, size_t cap)
{
	int n;

	ck_assert_uint_gt(cap, 6);
	memcpy(hdr, "Basic ", 6);
	n = base64_encode(text, len, hdr + 6, cap - 6);
	ck_assert_int_ge(n, 0);
	return 6 + (size_t)n;
}

/*
 * Basic: header values and what they give
 */

struct basic_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	int		 rc;
	const char	*user;
	const char	*pass;
	size_t		 pass_len;
};

#define OK(u, p)	.rc = 0, .user = (u), .pass = (p), \
			.pass_len = sizeof(p) - 1
#define BAD		.rc = AUTH_MALFORMED
#define OTHER		.rc = AUTH_NOT_BASIC

static const struct basic_case basic_cases[] = {
	/* RFC 7617 §2 and §2.1. */
	{ "rfc7617 aladdin", IN("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
	    OK("Aladdin", "open sesame") },
	{ "rfc7617 utf-8", IN("Basic dGVzdDoxMjPCow=="),
	    OK("test", "123\xc2\xa3") },
	/* Scheme case and whitespace. */
	{ "lower-case scheme", IN("basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
	    OK("Aladdin", "open sesame") },
	{ "upper-case scheme", IN("BASIC QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
	    OK("Aladdin", "open sesame") },
	{ "mixed-case scheme", IN("bAsIc QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
	    OK("Aladdin", "open sesame") },
	{ "several spaces", IN("Basic    QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
	    OK("Aladdin", "open sesame") },
	{ "tab", IN("Basic\tQWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
	    OK("Aladdin", "open sesame") },
	{ "space and tab", IN("Basic \t QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
	    OK("Aladdin", "open sesame") },
	{ "ows around", IN(" \tBasic QWxhZGRpbjpvcGVuIHNlc2FtZQ== \t"),
	    OK("Aladdin", "open sesame") },
	/* What the decoded text may hold. */
	{ "empty password", IN("Basic QWxhZGRpbjo="), OK("Aladdin", "") },
	{ "empty user", IN("Basic OnB3"), OK("", "pw") },
	{ "empty both", IN("Basic Og=="), OK("", "") },
	{ "colon in password", IN("Basic YTpiOmM="), OK("a", "b:c") },
	{ "password of any bytes", IN("Basic YTr//n8JOg=="),
	    OK("a", "\xff\xfe\x7f\t:") },
	{ "62 and 63 in text", IN("Basic dXNlcjo+Pj4/Pz8="),
	    OK("user", ">>>???") },
	{ "missing colon", IN("Basic QWxhZGRpbg=="), BAD },
	{ "control in user", IN("Basic YQFiOnB3"), BAD },
	{ "DEL in user", IN("Basic YX9iOnB3"), BAD },
	{ "C1 in user", IN("Basic YcKFOnB3"), BAD },
	{ "NUL in user", IN("Basic YQA6cHc="), BAD },
	{ "bad UTF-8 user", IN("Basic /zpwdw=="), BAD },
	{ "overlong UTF-8 user", IN("Basic wK86cHc="), BAD },
	{ "NUL in password", IN("Basic YTpwAHc="), BAD },
	{ "CR in password", IN("Basic YTpwDXc="), BAD },
	{ "LF in password", IN("Basic YTpwCnc="), BAD },
	/* The token68. */
	{ "no credentials", IN("Basic"), BAD },
	{ "only spaces after", IN("Basic   "), BAD },
	{ "non-canonical bits", IN("Basic QWxhZGRpbjpvcGVuIHNlc2FtZR=="),
	    BAD },
	{ "unpadded", IN("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ"), BAD },
	{ "over-padded", IN("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==="), BAD },
	{ "space inside token", IN("Basic QWxhZGRp bjpvcGVuIHNlc2FtZQ=="),
	    BAD },
	{ "two tokens", IN("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== Zm9v"), BAD },
	{ "url alphabet", IN("Basic dXNlcjo-Pj4_Pz8="), BAD },
	{ "auth-param", IN("Basic realm=\"x\""), BAD },
	{ "comma after scheme", IN("Basic,QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
	    BAD },
	{ "equals after scheme", IN("Basic=QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
	    BAD },
	{ "CR LF in value", IN("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"),
	    BAD },
	{ "NUL after token", IN("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\0"),
	    BAD },
	/* Not a scheme at all. */
	{ "empty", IN(""), BAD },
	{ "only ows", IN(" \t "), BAD },
	{ "leading colon", IN(":Basic QWxh"), BAD },
	{ "token68 alone", IN("QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), BAD },
	{ "control after scheme", IN("Basic\x01QWxh"), BAD },
	{ "NUL after scheme", IN("Basic\0QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), BAD },
	{ "NUL first", IN("\0Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), BAD },
	/* Other schemes. */
	{ "bearer", IN("Bearer mF_9.B5f-4.1JqM"), OTHER },
	{ "digest", IN("Digest username=\"Mufasa\", realm=\"x\""), OTHER },
	{ "negotiate alone", IN("Negotiate"), OTHER },
	{ "longer name", IN("Basics QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), OTHER },
	{ "shorter name", IN("Basi QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), OTHER },
};

START_TEST(parse_basic_gives_credentials_or_reason)
{
	const struct basic_case *c = &basic_cases[_i];
	struct auth_basic a;
	int rc = parse_guarded(c->in, c->len, &a);

	ck_assert_msg(rc == c->rc, "%s: %d, not %d", c->name, rc, c->rc);
	if (rc != 0) {
		ck_assert_msg(all_zero(&a, sizeof(a)), "%s: not wiped",
		    c->name);
		return;
	}
	ck_assert_uint_eq(a.user_len, strlen(c->user));
	ck_assert_msg(strcmp(a.user, c->user) == 0, "%s: user \"%s\"",
	    c->name, a.user);
	ck_assert_uint_eq(a.pass_len, c->pass_len);
	ck_assert_msg(memcmp(a.pass, c->pass, c->pass_len + 1) == 0,
	    "%s: password differs", c->name);
	auth_basic_wipe(&a);
	ck_assert(all_zero(&a, sizeof(a)));
}
END_TEST

/* User names and passwords up to their limits, and one byte over. */
START_TEST(parse_basic_bounds_lengths)
{
	static char text[AUTH_USER_MAX + AUTH_PASS_MAX + 8];
	static char hdr[HDR_CAP];
	const size_t ulen = (size_t)_i % 2 == 0 ? AUTH_USER_MAX :
	    AUTH_USER_MAX + 1;
	const size_t plen = (size_t)_i / 2 == 0 ? AUTH_PASS_MAX :
	    AUTH_PASS_MAX + 1;
	bool ok = ulen <= AUTH_USER_MAX && plen <= AUTH_PASS_MAX;
	struct auth_basic a;
	size_t len;

	memset(text, 'u', ulen);
	text[ulen] = ':';
	memset(text + ulen + 1, 'p', plen);
	len = basic_header(text, ulen + 1 + plen, hdr, sizeof(hdr));
	ck_assert_int_eq(parse_guarded(hdr, len, &a), ok ? 0 : AUTH_MALFORMED);
	if (ok) {
		ck_assert_uint_eq(a.user_len, ulen);
		ck_assert_uint_eq(a.pass_len, plen);
		ck_assert_int_eq(a.user[ulen], '\0');
		ck_assert_int_eq(a.pass[plen], '\0');
	} else
		ck_assert(all_zero(&a, sizeof(a)));
}
END_TEST

/* A long user with a short password, and the other way round. */
START_TEST(parse_basic_bounds_each_part_alone)
{
	static char text[600];
	static char hdr[HDR_CAP];
	struct auth_basic a;
	size_t len;

	memset(text, 'u', AUTH_USER_MAX + 10);
	memcpy(text + AUTH_USER_MAX + 10, ":p", 2);
	len = basic_header(text, AUTH_USER_MAX + 12, hdr, sizeof(hdr));
	ck_assert_int_eq(parse_guarded(hdr, len, &a), AUTH_MALFORMED);
	memcpy(text, "u:", 2);
	memset(text + 2, 'p', AUTH_PASS_MAX + 10);
	len = basic_header(text, AUTH_PASS_MAX + 12, hdr, sizeof(hdr));
	ck_assert_int_eq(parse_guarded(hdr, len, &a), AUTH_MALFORMED);
	/* Much too long: refused by the decoder's room check. */
	memset(text + 2, 'p', sizeof(text) - 2);
	len = basic_header(text, sizeof(text), hdr, sizeof(hdr));
	ck_assert_int_eq(parse_guarded(hdr, len, &a), AUTH_MALFORMED);
}
END_TEST

/* Every prefix of a good header is parsed without reading past it. */
START_TEST(parse_basic_survives_every_prefix)
{
	static const char full[] = "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==";
	struct auth_basic a;

	for (size_t len = 0; len < sizeof(full) - 1; len++) {
		int rc = parse_guarded(full, len, &a);

		/* "Basic QWxhZGRpbjpv" and the like are whole credentials. */
		ck_assert_msg(rc == 0 || rc == AUTH_MALFORMED ||
		    (rc == AUTH_NOT_BASIC && len < 5), "prefix %zu: %d",
		    len, rc);
		if (rc == 0)
			ck_assert_str_eq(a.user, "Aladdin");
	}
}
END_TEST

/* Every user name auth_user_valid() takes survives the round trip. */
START_TEST(parse_basic_takes_every_valid_user_name)
{
	static const char *const names[] = {
		"alice", "a@b", "\xc3\x9cn\xc3\xaf" "c\xc3\xb8" "de",
		"\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x94\x91", "x",
	};
	char text[128], hdr[HDR_CAP];
	struct auth_basic a;

	for (size_t i = 0; i < NELEM(names); i++) {
		size_t n = strlen(names[i]), len;

		ck_assert(auth_user_valid(names[i], n));
		memcpy(text, names[i], n);
		memcpy(text + n, ":secret", 7);
		len = basic_header(text, n + 7, hdr, sizeof(hdr));
		ck_assert_int_eq(parse_guarded(hdr, len, &a), 0);
		ck_assert_str_eq(a.user, names[i]);
		ck_assert_str_eq(a.pass, "secret");
	}
}
END_TEST

/*
 * User names for the users file and [access]
 */

struct user_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	bool		 ok;
};

static const struct user_case user_cases[] = {
	{ "plain", IN("alice"), true },
	{ "one byte", IN("a"), true },
	{ "digits and punctuation", IN("bob.smith-2_x"), true },
	{ "at inside", IN("a@b"), true },
	{ "UTF-8 Latin", IN("J\xc3\xbcrgen"), true },
	{ "UTF-8 CJK", IN("\xe6\x97\xa5\xe6\x9c\xac"), true },
	{ "UTF-8 4 bytes", IN("\xf0\x9f\x94\x91"), true },
	{ "empty", IN(""), false },
	{ "group", IN("@guest"), false },
	{ "at only", IN("@"), false },
	{ "colon", IN("a:b"), false },
	{ "trailing colon", IN("alice:"), false },
	{ "space", IN("a b"), false },
	{ "tab", IN("a\tb"), false },
	{ "newline", IN("alice\n"), false },
	{ "NUL", IN("a\0b"), false },
	{ "control", IN("a\x01"), false },
	{ "DEL", IN("a\x7f"), false },
	{ "C1 NEL", IN("a\xc2\x85"), false },
	{ "C1 first", IN("\xc2\x80"), false },
	{ "NBSP", IN("a\xc2\xa0" "b"), false },
	{ "ogham space", IN("a\xe1\x9a\x80"), false },
	{ "en quad", IN("a\xe2\x80\x80"), false },
	{ "hair space", IN("a\xe2\x80\x8a"), false },
	{ "line separator", IN("a\xe2\x80\xa8"), false },
	{ "paragraph separator", IN("a\xe2\x80\xa9"), false },
	{ "narrow NBSP", IN("a\xe2\x80\xaf"), false },
	{ "math space", IN("a\xe2\x81\x9f"), false },
	{ "ideographic space", IN("a\xe3\x80\x80"), false },
	{ "zero width space is no White_Space", IN("a\xe2\x80\x8b"), true },
	{ "U+00A1", IN("a\xc2\xa1"), true },
	{ "bad byte", IN("a\xff"), false },
	{ "overlong", IN("\xc0\xaf"), false },
	{ "surrogate", IN("\xed\xa0\x80"), false },
	{ "truncated", IN("a\xc3"), false },
	{ "above U+10FFFF", IN("\xf4\x90\x80\x80"), false },
};

START_TEST(user_valid_follows_the_rules)
{
	const struct user_case *c = &user_cases[_i];
	char *g = tu_guarded(c->in, c->len);

	ck_assert_msg(auth_user_valid(g, c->len) == c->ok, "%s: %s",
	    c->name, c->ok ? "refused" : "accepted");
	tu_guard_free(g);
}
END_TEST

START_TEST(user_valid_bounds_length)
{
	char name[AUTH_USER_MAX + 1];
	char *g;

	memset(name, 'n', sizeof(name));
	g = tu_guarded(name, AUTH_USER_MAX);
	ck_assert(auth_user_valid(g, AUTH_USER_MAX));
	tu_guard_free(g);
	g = tu_guarded(name, AUTH_USER_MAX + 1);
	ck_assert(!auth_user_valid(g, AUTH_USER_MAX + 1));
	tu_guard_free(g);
	ck_assert(!auth_user_valid(NULL, 0));
}
END_TEST

/*
 * Cookies
 */

struct cookie_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*cookie;
	const char	*value;		/* NULL: not found */
};

static const struct cookie_case cookie_cases[] = {
	{ "only pair", IN("sid=abc"), "sid", "abc" },
	{ "first of several", IN("sid=abc; theme=dark; lang=de"), "sid",
	    "abc" },
	{ "middle of several", IN("sid=abc; theme=dark; lang=de"), "theme",
	    "dark" },
	{ "last of several", IN("sid=abc; theme=dark; lang=de"), "lang",
	    "de" },
	{ "no spaces", IN("a=1;sid=2;b=3"), "sid", "2" },
	{ "extra spaces", IN("  a=1 ;   sid=2  ; b=3 "), "sid", "2" },
	{ "tabs", IN("a=1;\tsid=2\t"), "sid", "2" },
	{ "spaces around equals", IN("sid = 2"), "sid", "2" },
	{ "quoted", IN("a=1; sid=\"abc def\"; b=2"), "sid", "abc def" },
	{ "quoted empty", IN("sid=\"\""), "sid", "" },
	{ "lone quote kept", IN("sid=\""), "sid", "\"" },
	{ "half quoted kept", IN("sid=\"abc"), "sid", "\"abc" },
	{ "empty value", IN("sid=; a=1"), "sid", "" },
	{ "empty value at end", IN("a=1; sid="), "sid", "" },
	{ "equals in value", IN("sid=a=b=="), "sid", "a=b==" },
	{ "first of repeated", IN("sid=1; sid=2"), "sid", "1" },
	{ "empty pairs", IN(";; ; sid=x;;"), "sid", "x" },
	{ "missing", IN("a=1; b=2"), "sid", NULL },
	{ "prefix of name", IN("sidx=1; xsid=2"), "sid", NULL },
	{ "name is case-sensitive", IN("SID=1"), "sid", NULL },
	{ "name without value", IN("sid; a=1"), "sid", NULL },
	{ "name in a value", IN("a=sid=1"), "sid", NULL },
	{ "empty header", IN(""), "sid", NULL },
	{ "only separators", IN(" ; ;"), "sid", NULL },
	{ "empty name", IN("=1; a=2"), "", NULL },
};

START_TEST(cookie_finds_value_inside_input)
{
	const struct cookie_case *c = &cookie_cases[_i];
	char *g = tu_guarded(c->in, c->len);
	struct span v = auth_cookie(span_make(g, c->len), c->cookie);

	if (c->value == NULL) {
		ck_assert_msg(v.p == NULL && v.len == 0, "%s: found",
		    c->name);
	} else {
		ck_assert_msg(v.p != NULL, "%s: not found", c->name);
		ck_assert(v.p >= g && v.p + v.len <= g + c->len);
		ck_assert_msg(v.len == strlen(c->value) &&
		    memcmp(v.p, c->value, v.len) == 0, "%s: \"%.*s\"",
		    c->name, (int)v.len, v.p);
	}
	tu_guard_free(g);
}
END_TEST

START_TEST(cookie_takes_null_header_with_zero_length)
{
	struct span v = auth_cookie(SPAN_NULL, "sid");

	ck_assert_ptr_null(v.p);
	ck_assert_uint_eq(v.len, 0);
}
END_TEST

/*
 * Constant-time equality
 */

START_TEST(equal_compares_all_bytes)
{
	unsigned char a[32], b[32];

	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (unsigned char)(i * 37 + 1);
	ck_assert(auth_equal(a, b, sizeof(a)));
	ck_assert(auth_equal(NULL, NULL, 0));
	ck_assert(auth_equal(a, b + 1, 0));
	for (size_t i = 0; i < sizeof(a); i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			b[i] ^= (unsigned char)(1u << bit);
			ck_assert_msg(!auth_equal(a, b, sizeof(a)),
			    "byte %zu bit %u", i, bit);
			ck_assert(auth_equal(a, b, i));
			b[i] ^= (unsigned char)(1u << bit);
		}
	}
}
END_TEST

static Suite *
auth_hdr_suite(void)
{
	Suite *s = suite_create("auth_hdr");
	TCase *tc;

	tc = tcase_create("basic");
	tcase_add_loop_test(tc, parse_basic_gives_credentials_or_reason, 0,
	    NELEM(basic_cases));
	tcase_add_loop_test(tc, parse_basic_bounds_lengths, 0, 4);
	tcase_add_test(tc, parse_basic_bounds_each_part_alone);
	tcase_add_test(tc, parse_basic_survives_every_prefix);
	tcase_add_test(tc, parse_basic_takes_every_valid_user_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("users");
	tcase_add_loop_test(tc, user_valid_follows_the_rules, 0,
	    NELEM(user_cases));
	tcase_add_test(tc, user_valid_bounds_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("cookies");
	tcase_add_loop_test(tc, cookie_finds_value_inside_input, 0,
	    NELEM(cookie_cases));
	tcase_add_test(tc, cookie_takes_null_header_with_zero_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("equal");
	tcase_add_test(tc, equal_compares_all_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(auth_hdr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
