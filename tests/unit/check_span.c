/*
 * check_span.c - unit tests for the bounded byte-string helpers (span.h).
 *
 * Every input is copied with tu_guarded() so that it ends right before a
 * PROT_NONE page: a helper that reads one byte past its span crashes the
 * test instead of passing by luck.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "span.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* A literal and its length, embedded NUL bytes included. */
#define LIT(s)		(s), (sizeof(s) - 1)

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
 * A guarded copy of a test input, released with guard_release().  Even an
 * empty one gets its own copy, whose pointer is the guard page itself.
 */
static struct span
guard(const char *p, size_t len)
{
	return span_make(tu_guarded(p, len), len);
}

static void
guard_release(struct span s)
{
	tu_guard_free((char *)(uintptr_t)s.p);
}

/*
 * span_eq, span_eq_nocase, span_eq_cstr_nocase
 */

struct eq_case {
	const char	*name;
	const char	*a;
	size_t		 alen;
	const char	*b;
	size_t		 blen;
	bool		 eq;		/* span_eq() */
	bool		 eq_nocase;	/* span_eq_nocase() */
};

static const struct eq_case eq_cases[] = {
	{ "both_empty", LIT(""), LIT(""), true, true },
	{ "same_bytes", LIT("Host"), LIT("Host"), true, true },
	{ "ascii_case_differs", LIT("Host"), LIT("hOST"), false, true },
	{ "all_letters_fold", LIT("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
	    LIT("abcdefghijklmnopqrstuvwxyz"), false, true },
	{ "prefix_is_not_equal", LIT("Host"), LIT("Hos"), false, false },
	{ "longer_is_not_equal", LIT("Host"), LIT("Hosts"), false, false },
	{ "empty_vs_nonempty", LIT(""), LIT("a"), false, false },
	{ "last_byte_differs", LIT("abcd"), LIT("abce"), false, false },
	{ "embedded_nul_equal", LIT("a\0b"), LIT("A\0B"), false, true },
	{ "embedded_nul_not_end", LIT("a\0b"), LIT("a\0c"), false, false },
	/* Only A-Z fold: '@' (0x40) and '`' (0x60) differ by 0x20 too. */
	{ "at_and_backtick_differ", LIT("@"), LIT("`"), false, false },
	{ "brackets_and_braces_differ", LIT("[\\]"), LIT("{|}"), false, false },
	{ "caret_and_tilde_differ", LIT("^"), LIT("~"), false, false },
	/* Bytes >= 0x80 compare exactly: no Latin-1 case folding. */
	{ "latin1_upper_vs_lower_differ", LIT("\xc0"), LIT("\xe0"), false,
	    false },
	{ "latin1_e_acute_differ", LIT("caf\xc9"), LIT("caf\xe9"), false,
	    false },
	{ "utf8_bytes_equal", LIT("caf\xc3\xa9"), LIT("CAF\xc3\xa9"), false,
	    true },
	{ "high_bit_vs_ascii_differ", LIT("\xc1"), LIT("A"), false, false },
	{ "byte_ff_equal", LIT("\xff"), LIT("\xff"), true, true },
};

START_TEST(span_eq_compares_bytes_exactly)
{
	const struct eq_case *c = &eq_cases[_i];
	struct span a = guard(c->a, c->alen), b = guard(c->b, c->blen);
	char sa[128], sb[128];
	bool got = span_eq(a, b), rev = span_eq(b, a);

	ck_assert_msg(got == c->eq && rev == c->eq,
	    "%s: span_eq(\"%s\", \"%s\"): expected %d, got %d (reversed %d)",
	    c->name, show(c->a, c->alen, sa, sizeof(sa)),
	    show(c->b, c->blen, sb, sizeof(sb)), c->eq, got, rev);
	guard_release(a);
	guard_release(b);
}
END_TEST

START_TEST(span_eq_nocase_folds_ascii_letters_only)
{
	const struct eq_case *c = &eq_cases[_i];
	struct span a = guard(c->a, c->alen), b = guard(c->b, c->blen);
	char sa[128], sb[128];
	bool got = span_eq_nocase(a, b), rev = span_eq_nocase(b, a);

	ck_assert_msg(got == c->eq_nocase && rev == c->eq_nocase,
	    "%s: span_eq_nocase(\"%s\", \"%s\"): expected %d, got %d "
	    "(reversed %d)", c->name, show(c->a, c->alen, sa, sizeof(sa)),
	    show(c->b, c->blen, sb, sizeof(sb)), c->eq_nocase, got, rev);
	guard_release(a);
	guard_release(b);
}
END_TEST

START_TEST(span_eq_accepts_null_empty_spans)
{
	ck_assert(span_eq(SPAN_NULL, SPAN_NULL));
	ck_assert(span_eq(SPAN_NULL, SPAN_LIT("")));
	ck_assert(!span_eq(SPAN_NULL, SPAN_LIT("a")));
	ck_assert(span_eq_nocase(SPAN_NULL, SPAN_LIT("")));
	ck_assert(!span_eq_nocase(SPAN_LIT("a"), SPAN_NULL));
}
END_TEST

START_TEST(span_eq_cstr_nocase_matches_whole_string)
{
	struct span s = guard(LIT("Keep-Alive"));

	ck_assert(span_eq_cstr_nocase(s, "keep-alive"));
	ck_assert(span_eq_cstr_nocase(s, "KEEP-ALIVE"));
	ck_assert(!span_eq_cstr_nocase(s, "keep-aliv"));
	ck_assert(!span_eq_cstr_nocase(s, "keep-alive "));
	ck_assert(!span_eq_cstr_nocase(s, ""));
	ck_assert(span_eq_cstr_nocase(SPAN_NULL, ""));
	guard_release(s);
}
END_TEST

/*
 * span_starts_nocase
 */

struct starts_case {
	const char	*name;
	const char	*s;
	size_t		 slen;
	const char	*prefix;
	size_t		 plen;
	bool		 expect;
};

static const struct starts_case starts_cases[] = {
	{ "empty_prefix", LIT("abc"), LIT(""), true },
	{ "empty_both", LIT(""), LIT(""), true },
	{ "exact_prefix", LIT("http://x"), LIT("http://"), true },
	{ "prefix_other_case", LIT("HTTP://x"), LIT("http://"), true },
	{ "whole_string_is_prefix", LIT("Range"), LIT("rANGE"), true },
	{ "prefix_longer_than_s", LIT("http"), LIT("http://"), false },
	/* One byte short: comparing prefix.len bytes would over-read s. */
	{ "prefix_one_longer_than_s", LIT("http:/"), LIT("http://"), false },
	{ "empty_s", LIT(""), LIT("a"), false },
	{ "mismatch_at_end", LIT("https://x"), LIT("http://"), false },
	{ "mismatch_at_start", LIT("xttp://"), LIT("http://"), false },
	{ "high_bytes_exact", LIT("\xc4hx"), LIT("\xc4h"), true },
	{ "high_bytes_no_fold", LIT("\xc4hx"), LIT("\xe4h"), false },
};

START_TEST(span_starts_nocase_checks_prefix)
{
	const struct starts_case *c = &starts_cases[_i];
	struct span s = guard(c->s, c->slen), p = guard(c->prefix, c->plen);
	char ss[128], sp[128];
	bool got = span_starts_nocase(s, p);

	ck_assert_msg(got == c->expect,
	    "%s: span_starts_nocase(\"%s\", \"%s\"): expected %d, got %d",
	    c->name, show(c->s, c->slen, ss, sizeof(ss)),
	    show(c->prefix, c->plen, sp, sizeof(sp)), c->expect, got);
	guard_release(s);
	guard_release(p);
}
END_TEST

/*
 * span_trim
 */

struct trim_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	size_t		 off;		/* expected start offset */
	size_t		 out_len;	/* expected length */
};

static const struct trim_case trim_cases[] = {
	{ "empty", LIT(""), 0, 0 },
	{ "nothing_to_trim", LIT("abc"), 0, 3 },
	{ "leading_spaces", LIT("  abc"), 2, 3 },
	{ "trailing_spaces", LIT("abc  "), 0, 3 },
	{ "both_sides_sp_and_htab", LIT(" \t abc\t \t"), 3, 3 },
	{ "inner_whitespace_kept", LIT(" a \t b "), 1, 5 },
	{ "only_spaces", LIT("   "), 3, 0 },
	{ "only_tabs", LIT("\t\t"), 2, 0 },
	{ "single_char", LIT(" x "), 1, 1 },
	/* OWS is SP and HTAB alone (RFC 9110 §5.6.3). */
	{ "cr_not_trimmed", LIT("\rabc\r"), 0, 5 },
	{ "lf_not_trimmed", LIT("\nabc\n"), 0, 5 },
	{ "vt_ff_not_trimmed", LIT("\vabc\f"), 0, 5 },
	{ "nul_not_trimmed", LIT("\0abc\0"), 0, 5 },
	{ "nbsp_not_trimmed", LIT("\xa0" "abc\xa0"), 0, 5 },
	{ "cr_stops_trim", LIT(" \r abc"), 1, 5 },
};

START_TEST(span_trim_removes_sp_and_htab_only)
{
	const struct trim_case *c = &trim_cases[_i];
	struct span in = guard(c->in, c->len);
	struct span got = span_trim(in);
	char si[128];
	size_t off = (size_t)(got.p - in.p);

	ck_assert_msg(off == c->off && got.len == c->out_len,
	    "%s: span_trim(\"%s\"): expected offset %zu length %zu, "
	    "got offset %zu length %zu", c->name,
	    show(c->in, c->len, si, sizeof(si)), c->off, c->out_len, off,
	    got.len);
	guard_release(in);
}
END_TEST

/*
 * span_to_u64
 */

struct u64_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	uint64_t	 max;
	bool		 ok;
	uint64_t	 value;
};

static const struct u64_case u64_cases[] = {
	{ "empty", LIT(""), UINT64_MAX, false, 0 },
	{ "zero", LIT("0"), UINT64_MAX, true, 0 },
	{ "simple", LIT("1234"), UINT64_MAX, true, 1234 },
	{ "plus_sign", LIT("+1"), UINT64_MAX, false, 0 },
	{ "minus_sign", LIT("-1"), UINT64_MAX, false, 0 },
	{ "minus_zero", LIT("-0"), UINT64_MAX, false, 0 },
	{ "leading_space", LIT(" 1"), UINT64_MAX, false, 0 },
	{ "trailing_space", LIT("1 "), UINT64_MAX, false, 0 },
	{ "inner_space", LIT("1 2"), UINT64_MAX, false, 0 },
	{ "leading_tab", LIT("\t1"), UINT64_MAX, false, 0 },
	{ "letter", LIT("1a"), UINT64_MAX, false, 0 },
	{ "hex_prefix", LIT("0x10"), UINT64_MAX, false, 0 },
	{ "decimal_point", LIT("1.0"), UINT64_MAX, false, 0 },
	{ "exponent", LIT("1e3"), UINT64_MAX, false, 0 },
	{ "trailing_nul", LIT("1\0"), UINT64_MAX, false, 0 },
	{ "inner_nul", LIT("1\0" "2"), UINT64_MAX, false, 0 },
	{ "slash_below_zero", LIT("/"), UINT64_MAX, false, 0 },
	{ "colon_above_nine", LIT(":"), UINT64_MAX, false, 0 },
	{ "high_byte", LIT("1\xb9"), UINT64_MAX, false, 0 },
	{ "arabic_indic_digit", LIT("\xd9\xa3"), UINT64_MAX, false, 0 },
	{ "uint64_max_exact", LIT("18446744073709551615"), UINT64_MAX, true,
	    UINT64_MAX },
	{ "uint64_max_plus_1", LIT("18446744073709551616"), UINT64_MAX, false,
	    0 },
	{ "uint64_max_times_10", LIT("184467440737095516150"), UINT64_MAX,
	    false, 0 },
	{ "uint64_20_nines", LIT("99999999999999999999"), UINT64_MAX, false,
	    0 },
	{ "uint64_wraps_to_small", LIT("18446744073709551617"), UINT64_MAX,
	    false, 0 },
	{ "int64_max_exact", LIT("9223372036854775807"), (uint64_t)INT64_MAX,
	    true, (uint64_t)INT64_MAX },
	{ "int64_max_plus_1", LIT("9223372036854775808"), (uint64_t)INT64_MAX,
	    false, 0 },
	{ "small_max_exact", LIT("1000"), 1000, true, 1000 },
	{ "small_max_plus_1", LIT("1001"), 1000, false, 0 },
	{ "small_max_times_10", LIT("10000"), 1000, false, 0 },
	{ "max_9_exact", LIT("9"), 9, true, 9 },
	{ "max_9_plus_1", LIT("10"), 9, false, 0 },
	{ "max_0_zero", LIT("0"), 0, true, 0 },
	{ "max_0_one", LIT("1"), 0, false, 0 },
	{ "max_0_many_zeros", LIT("0000"), 0, true, 0 },
	{ "leading_zeros", LIT("007"), UINT64_MAX, true, 7 },
	{ "leading_zeros_beyond_20_digits",
	    LIT("000000000000000000000000000000042"), UINT64_MAX, true, 42 },
	{ "leading_zeros_then_max",
	    LIT("0000018446744073709551615"), UINT64_MAX, true, UINT64_MAX },
	{ "leading_zeros_then_max_plus_1",
	    LIT("0000018446744073709551616"), UINT64_MAX, false, 0 },
};

START_TEST(span_to_u64_parses_exact_digits)
{
	const struct u64_case *c = &u64_cases[_i];
	struct span in = guard(c->in, c->len);
	const uint64_t sentinel = 0xdeadbeefcafef00dULL;
	uint64_t got = sentinel;
	char si[128];
	bool ok = span_to_u64(in, c->max, &got);

	ck_assert_msg(ok == c->ok,
	    "%s: span_to_u64(\"%s\", max %ju): expected %s, got %s "
	    "(value %ju)", c->name, show(c->in, c->len, si, sizeof(si)),
	    (uintmax_t)c->max, c->ok ? "success" : "failure",
	    ok ? "success" : "failure", (uintmax_t)got);
	if (c->ok)
		ck_assert_msg(got == c->value,
		    "%s: span_to_u64(\"%s\"): expected %ju, got %ju", c->name,
		    show(c->in, c->len, si, sizeof(si)), (uintmax_t)c->value,
		    (uintmax_t)got);
	else
		ck_assert_msg(got == sentinel,
		    "%s: span_to_u64(\"%s\") failed but wrote %ju to *out",
		    c->name, show(c->in, c->len, si, sizeof(si)),
		    (uintmax_t)got);
	guard_release(in);
}
END_TEST

/*
 * span_next_list_elem
 */

#define MAX_ELEMS	6

struct list_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*elems[MAX_ELEMS + 1];	/* NULL-terminated */
};

static const struct list_case list_cases[] = {
	{ "empty_list", LIT(""), { NULL } },
	{ "single_element", LIT("close"), { "close", NULL } },
	{ "two_elements", LIT("a,b"), { "a", "b", NULL } },
	{ "ows_trimmed", LIT("  a ,\tb\t, c "), { "a", "b", "c", NULL } },
	{ "inner_space_kept", LIT("a b , c\td"), { "a b", "c\td", NULL } },
	{ "empty_middle_skipped", LIT("a,,b"), { "a", "b", NULL } },
	{ "blank_middle_skipped", LIT("a, \t ,b"), { "a", "b", NULL } },
	{ "leading_comma", LIT(",a"), { "a", NULL } },
	{ "trailing_comma", LIT("a,"), { "a", NULL } },
	{ "trailing_comma_and_space", LIT("a, "), { "a", NULL } },
	{ "only_commas", LIT(",,,"), { NULL } },
	{ "only_commas_and_ows", LIT(" , \t, "), { NULL } },
	{ "only_ows", LIT("  \t "), { NULL } },
	{ "numbers", LIT("5, 5"), { "5", "5", NULL } },
	{ "high_bytes_kept", LIT("\xe9t\xe9, x"), { "\xe9t\xe9", "x", NULL } },
	{ "many_elements", LIT("1,2,3,4,5,6"),
	    { "1", "2", "3", "4", "5", "6", NULL } },
};

START_TEST(span_next_list_elem_splits_and_skips_empty)
{
	const struct list_case *c = &list_cases[_i];
	struct span in = guard(c->in, c->len);
	struct span rest = in, e;
	char si[128], se[128];
	size_t n = 0;

	while (span_next_list_elem(&rest, &e)) {
		ck_assert_msg(n < MAX_ELEMS && c->elems[n] != NULL,
		    "%s: list \"%s\": expected %zu elements, got extra \"%s\"",
		    c->name, show(c->in, c->len, si, sizeof(si)), n,
		    show(e.p, e.len, se, sizeof(se)));
		ck_assert_msg(span_eq(e, span_make(c->elems[n],
		    strlen(c->elems[n]))),
		    "%s: list \"%s\": element %zu: expected \"%s\", got \"%s\"",
		    c->name, show(c->in, c->len, si, sizeof(si)), n,
		    c->elems[n], show(e.p, e.len, se, sizeof(se)));
		/* The element is a view into the input, not a copy. */
		ck_assert_msg(e.p >= in.p && e.p + e.len <= in.p + in.len,
		    "%s: element %zu does not point into the input", c->name,
		    n);
		ck_assert_msg(rest.p >= e.p + e.len &&
		    rest.p + rest.len == in.p + in.len,
		    "%s: rest is not the unread tail after element %zu",
		    c->name, n);
		n++;
	}
	ck_assert_msg(c->elems[n] == NULL,
	    "%s: list \"%s\": expected element %zu \"%s\", got end of list",
	    c->name, show(c->in, c->len, si, sizeof(si)), n, c->elems[n]);
	ck_assert_msg(rest.len == 0,
	    "%s: list exhausted but %zu bytes remain", c->name, rest.len);
	/* An exhausted list stays exhausted. */
	ck_assert(!span_next_list_elem(&rest, &e));
	guard_release(in);
}
END_TEST

/*
 * span_find, ascii_lower
 */

START_TEST(span_find_returns_first_index_or_minus_one)
{
	struct span s = guard(LIT("a,b\0,c"));

	ck_assert_int_eq(span_find(s, ','), 1);
	ck_assert_int_eq(span_find(s, '\0'), 3);
	ck_assert_int_eq(span_find(s, 'c'), 5);
	ck_assert_int_eq(span_find(s, 'x'), -1);
	ck_assert_int_eq(span_find(SPAN_NULL, ','), -1);
	/* Bounded by len: the ',' past the end of the span is not seen. */
	ck_assert_int_eq(span_find(span_make(s.p, 1), ','), -1);
	guard_release(s);
}
END_TEST

START_TEST(ascii_lower_maps_only_a_to_z)
{
	for (unsigned c = 0; c < 256; c++) {
		unsigned char want = (c >= 'A' && c <= 'Z') ?
		    (unsigned char)(c + 32) : (unsigned char)c;

		ck_assert_msg(ascii_lower((unsigned char)c) == want,
		    "ascii_lower(0x%02x): expected 0x%02x, got 0x%02x", c,
		    want, ascii_lower((unsigned char)c));
	}
}
END_TEST

struct utf8_case {
	const char	*bytes;
	size_t		 len;
	size_t		 want;
};

static const struct utf8_case utf8_cases[] = {
	{ "a", 1, 1 },
	{ "\x7f", 1, 1 },
	{ "\xc3\xa9", 2, 2 },			/* é */
	{ "\xe4\xb8\xad", 3, 3 },		/* 中 */
	{ "\xf0\x9f\x98\x80", 4, 4 },		/* U+1F600 */
	{ "\xf4\x8f\xbf\xbf", 4, 4 },		/* U+10FFFF */
	{ "\x80", 1, 0 },			/* lone continuation */
	{ "\xc0\xaf", 2, 0 },			/* overlong '/' */
	{ "\xc1\xbf", 2, 0 },
	{ "\xe0\x80\xaf", 3, 0 },		/* overlong */
	{ "\xed\xa0\x80", 3, 0 },		/* surrogate U+D800 */
	{ "\xf0\x8f\xbf\xbf", 4, 0 },		/* overlong */
	{ "\xf4\x90\x80\x80", 4, 0 },		/* above U+10FFFF */
	{ "\xf5\x80\x80\x80", 4, 0 },
	{ "\xff", 1, 0 },
	{ "\xe4\xb8", 2, 0 },			/* cut short */
	{ "\xe4\x41\xad", 3, 0 },		/* bad continuation */
};

START_TEST(utf8_table)
{
	const struct utf8_case *c = &utf8_cases[_i];
	char *g = tu_guarded(c->bytes, c->len);

	ck_assert_msg(utf8_seq_len(g, c->len) == c->want, "case %d", _i);
	tu_guard_free(g);
}
END_TEST

/* One character at the start of the input: its escape, or "" to copy. */
static const struct json_case {
	const char	*bytes;
	size_t		 len;
	const char	*esc;		/* "" when copied as it is */
	size_t		 used;
} json_cases[] = {
	{ "a", 1, "", 1 },
	{ "\x7f", 1, "", 1 },			/* DEL is allowed in JSON */
	{ "/", 1, "", 1 },
	{ "\"", 1, "\\\"", 1 },
	{ "\\", 1, "\\\\", 1 },
	{ "\n", 1, "\\n", 1 },
	{ "\t", 1, "\\t", 1 },
	{ "\b", 1, "\\b", 1 },
	{ "\f", 1, "\\f", 1 },
	{ "\r", 1, "\\r", 1 },
	{ "\0", 1, "\\u0000", 1 },
	{ "\x1f", 1, "\\u001f", 1 },
	{ "<", 1, "\\u003c", 1 },
	{ ">", 1, "\\u003e", 1 },
	{ "&", 1, "\\u0026", 1 },
	{ "\xc3\xa9x", 3, "", 2 },		/* é, then the next one */
	{ "\xf0\x9f\x98\x80", 4, "", 4 },	/* U+1F600 */
	{ "\xff", 1, "\\ufffd", 1 },
	{ "\xe4\xb8", 2, "\\ufffd", 1 },	/* cut short: one byte at a time */
	{ "\xed\xa0\x80", 3, "\\ufffd", 1 },	/* surrogate */
};

START_TEST(json_escape_table)
{
	const struct json_case *c = &json_cases[_i];
	char *g = tu_guarded(c->bytes, c->len);
	char esc[6];
	size_t used = 0;
	size_t n = json_escape_at(g, c->len, esc, &used);

	ck_assert_uint_eq(n, strlen(c->esc));
	ck_assert_msg(memcmp(esc, c->esc, n) == 0, "case %d", _i);
	ck_assert_uint_eq(used, c->used);
	tu_guard_free(g);
}
END_TEST

static Suite *
span_suite(void)
{
	Suite *s = suite_create("span");
	TCase *tc;

	tc = tcase_create("compare");
	tcase_add_loop_test(tc, span_eq_compares_bytes_exactly, 0,
	    NELEM(eq_cases));
	tcase_add_loop_test(tc, span_eq_nocase_folds_ascii_letters_only, 0,
	    NELEM(eq_cases));
	tcase_add_test(tc, span_eq_accepts_null_empty_spans);
	tcase_add_test(tc, span_eq_cstr_nocase_matches_whole_string);
	tcase_add_loop_test(tc, span_starts_nocase_checks_prefix, 0,
	    NELEM(starts_cases));
	tcase_add_test(tc, span_find_returns_first_index_or_minus_one);
	tcase_add_test(tc, ascii_lower_maps_only_a_to_z);
	suite_add_tcase(s, tc);

	tc = tcase_create("trim");
	tcase_add_loop_test(tc, span_trim_removes_sp_and_htab_only, 0,
	    NELEM(trim_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("to_u64");
	tcase_add_loop_test(tc, span_to_u64_parses_exact_digits, 0,
	    NELEM(u64_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("list");
	tcase_add_loop_test(tc, span_next_list_elem_splits_and_skips_empty, 0,
	    NELEM(list_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_loop_test(tc, utf8_table, 0,
	    sizeof(utf8_cases) / sizeof(utf8_cases[0]));
	tcase_add_loop_test(tc, json_escape_table, 0, NELEM(json_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(span_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
