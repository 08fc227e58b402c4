/*
 * check_tus_hdr.c - unit tests for the tus 1.0.0 header values.
 *
 * Every input goes through tu_guarded(), which places it right before a
 * PROT_NONE page, so a parser that reads one byte past its span crashes
 * the test even without ASan; the encoder writes into a guarded buffer of
 * exactly cap bytes for the same reason.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tus_hdr.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* A literal input and its length, embedded NUL bytes included. */
#define IN(s)		.in = (s), .len = sizeof(s) - 1
/* A literal decoded value and its length. */
#define VAL(s)		.value = (s), .value_len = sizeof(s) - 1

/* Room for show()'s rendering of an input in a failure message. */
#define SHOW_CAP	256

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

		if (c == '\\' || c == '"')
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

/* Large enough to keep off the stack of a forked test. */
static struct tus_meta meta;

/*
 * Parses in[0..len) from a guarded copy into meta.  Returns the copy,
 * which the keys point into: release it with tu_guard_free() once the
 * keys have been looked at.
 */
static char *
parse_guarded(const char *in, size_t len, int *rc, const char **why)
{
	char *g = tu_guarded(in, len);

	*why = NULL;
	memset(&meta, 0xa5, sizeof(meta));
	*rc = tus_parse_metadata(span_make(g, len), &meta, why);
	return g;
}

/* A header of n pairs "k0,k1,...", each key with the value v. */
static size_t
many_pairs(size_t n, const char *v, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + o, cap - o, "%sk%zu%s%s",
		    i > 0 ? "," : "", i, *v != '\0' ? " " : "", v);

		ck_assert(w > 0 && (size_t)w < cap - o);
		o += (size_t)w;
	}
	return o;
}

/* Fills out[0..len) with bytes that cover all 256 values and vary. */
static void
fill_bytes(char *out, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (char)((i * 167 + seed * 31 + (i >> 8)) & 0xff);
}

/*
 * Encodes in[0..len) into a guarded buffer of exactly the room it needs;
 * returns the text in out (cap bytes) and its length.
 */
static size_t
encode_guarded(const char *in, size_t len, char *out, size_t cap)
{
	size_t need = TUS_BASE64_LEN(len) + 1;
	char *fill = malloc(need);
	char *gin, *gout;
	int n;

	ck_assert_ptr_nonnull(fill);
	memset(fill, 'x', need);
	gin = tu_guarded(in, len);
	gout = tu_guarded(fill, need);
	free(fill);
	n = tus_base64_encode(gin, len, gout, need);
	ck_assert_int_eq(n, (int)need - 1);
	ck_assert_uint_eq(strlen(gout), (size_t)n);
	ck_assert_uint_lt((size_t)n, cap);
	memcpy(out, gout, (size_t)n + 1);
	tu_guard_free(gout);
	tu_guard_free(gin);
	return (size_t)n;
}

/*
 * Numbers: Upload-Length and Upload-Offset
 */

struct uint_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	bool		 ok;
	uint64_t	 value;
};

static const struct uint_case uint_cases[] = {
	{ "zero", IN("0"), true, 0 },
	{ "one", IN("1"), true, 1 },
	{ "zeros", IN("00000"), true, 0 },
	{ "leading_zeros", IN("000123"), true, 123 },
	{ "typical_length", IN("1048576"), true, 1048576 },
	{ "int64_max", IN("9223372036854775807"), true, INT64_MAX },
	{ "nineteen_digits_with_zeros", IN("0000000000000000001"), true, 1 },
	{ "nineteen_digit_zeros", IN("0000000000000000000"), true, 0 },
	{ "twenty_digits_with_zeros", IN("00000000000000000001"), false, 0 },
	{ "twenty_digit_zeros", IN("00000000000000000000"), false, 0 },
	{ "int64_max_plus_one", IN("9223372036854775808"), false, 0 },
	{ "nineteen_nines", IN("9999999999999999999"), false, 0 },
	{ "uint64_max", IN("18446744073709551615"), false, 0 },
	{ "uint64_max_plus_one", IN("18446744073709551616"), false, 0 },
	{ "far_too_long", IN("123456789012345678901234567890"), false, 0 },
	{ "empty", IN(""), false, 0 },
	{ "minus", IN("-1"), false, 0 },
	{ "minus_zero", IN("-0"), false, 0 },
	{ "plus", IN("+1"), false, 0 },
	{ "leading_space", IN(" 1"), false, 0 },
	{ "trailing_space", IN("1 "), false, 0 },
	{ "trailing_htab", IN("1\t"), false, 0 },
	{ "space_inside", IN("1 2"), false, 0 },
	{ "letters", IN("abc"), false, 0 },
	{ "digit_then_letter", IN("1a"), false, 0 },
	{ "hex", IN("0x10"), false, 0 },
	{ "decimal_point", IN("1.0"), false, 0 },
	{ "exponent", IN("1e3"), false, 0 },
	{ "thousands_separator", IN("1,000"), false, 0 },
	{ "trailing_nul", IN("1\0"), false, 0 },
	{ "nul_inside", IN("1\0002"), false, 0 },
	{ "crlf", IN("1\r\n"), false, 0 },
	{ "arabic_indic_digit", IN("\xd9\xa1"), false, 0 },
	{ "fullwidth_digit", IN("\xef\xbc\x91"), false, 0 },
};

START_TEST(parse_uint_accepts_only_plain_digits_up_to_int64_max)
{
	const struct uint_case *c = &uint_cases[_i];
	char *g = tu_guarded(c->in, c->len);
	uint64_t v = 0xdeadbeefu;
	char buf[SHOW_CAP];
	int rc = tus_parse_uint(span_make(g, c->len), &v);

	show(c->in, c->len, buf, sizeof(buf));
	if (c->ok) {
		ck_assert_msg(rc == 0, "%s: \"%s\" rejected", c->name, buf);
		ck_assert_msg(v == c->value, "%s: \"%s\" gave %ju, not %ju",
		    c->name, buf, (uintmax_t)v, (uintmax_t)c->value);
	} else {
		ck_assert_msg(rc == -1, "%s: \"%s\" accepted as %ju", c->name,
		    buf, (uintmax_t)v);
		ck_assert_msg(v == 0xdeadbeefu, "%s: *out changed on error",
		    c->name);
	}
	tu_guard_free(g);
}
END_TEST

/* Every value with 1 to 19 digits of one repeated digit, against strtoull. */
START_TEST(parse_uint_agrees_with_strtoull_below_the_limit)
{
	for (char d = '0'; d <= '9'; d++) {
		for (size_t n = 1; n <= 19; n++) {
			char s[20];
			char *g;
			uint64_t v = 0, want;
			int rc;

			memset(s, d, n);
			s[n] = '\0';
			want = strtoull(s, NULL, 10);
			g = tu_guarded(s, n);
			rc = tus_parse_uint(span_make(g, n), &v);
			if (want <= INT64_MAX) {
				ck_assert_msg(rc == 0 && v == want, "%s", s);
			} else {
				ck_assert_msg(rc == -1, "%s accepted", s);
			}
			tu_guard_free(g);
		}
	}
}
END_TEST

/*
 * Tus-Resumable
 */

struct version_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	bool		 ok;
};

static const struct version_case version_cases[] = {
	{ "exact", IN("1.0.0"), true },
	{ "empty", IN(""), false },
	{ "short", IN("1.0"), false },
	{ "longer", IN("1.0.0.0"), false },
	{ "extra_zero", IN("1.0.00"), false },
	{ "other_version", IN("1.0.1"), false },
	{ "old_version", IN("0.2.2"), false },
	{ "trailing_space", IN("1.0.0 "), false },
	{ "leading_space", IN(" 1.0.0"), false },
	{ "trailing_nul", IN("1.0.0\0"), false },
	{ "commas", IN("1,0,0"), false },
	{ "list_of_versions", IN("1.0.0,0.2.2"), false },
	{ "v_prefix", IN("v1.0.0"), false },
};

START_TEST(version_ok_only_for_exactly_1_0_0)
{
	const struct version_case *c = &version_cases[_i];
	char *g = tu_guarded(c->in, c->len);
	char buf[SHOW_CAP];

	ck_assert_msg(tus_version_ok(span_make(g, c->len)) == c->ok,
	    "%s: \"%s\" should be %s", c->name,
	    show(c->in, c->len, buf, sizeof(buf)),
	    c->ok ? "accepted" : "rejected");
	tu_guard_free(g);
}
END_TEST

/*
 * Upload-Metadata that parses
 */

struct want_pair {
	const char	*key;
	const char	*value;
	size_t		 value_len;
	bool		 has_value;
};

struct meta_good_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	size_t		 n;
	struct want_pair pair[4];
};

static const struct meta_good_case meta_good_cases[] = {
	{ "tus_js_client_filename_and_filetype",
	    IN("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,"
	    "filetype YXBwbGljYXRpb24vcGRm"), 2, {
		{ "filename", VAL("world_domination_plan.pdf"), true },
		{ "filetype", VAL("application/pdf"), true } } },
	{ "tus_js_client_with_relative_path",
	    IN("filename Zm9vLnR4dA==,filetype dGV4dC9wbGFpbg==,"
	    "relativePath bnVsbA=="), 3, {
		{ "filename", VAL("foo.txt"), true },
		{ "filetype", VAL("text/plain"), true },
		{ "relativePath", VAL("null"), true } } },
	{ "empty_header", IN(""), 0, { { NULL } } },
	{ "only_ows", IN(" \t "), 0, { { NULL } } },
	{ "only_commas", IN(",, ,"), 0, { { NULL } } },
	{ "key_without_value", IN("is_confidential"), 1, {
		{ "is_confidential", VAL(""), false } } },
	/* tus-js-client writes "key " for an empty value. */
	{ "key_with_space_and_empty_value", IN("empty ,name YQ=="), 2, {
		{ "empty", VAL(""), false },
		{ "name", VAL("a"), true } } },
	{ "key_with_space_at_end", IN("a YQ==,empty "), 2, {
		{ "a", VAL("a"), true },
		{ "empty", VAL(""), false } } },
	{ "mixed_with_and_without_values", IN("a,b Yg==,c"), 3, {
		{ "a", VAL(""), false },
		{ "b", VAL("b"), true },
		{ "c", VAL(""), false } } },
	{ "ows_around_pairs", IN(" \ta YQ== , b Yg==\t,\tc "), 3, {
		{ "a", VAL("a"), true },
		{ "b", VAL("b"), true },
		{ "c", VAL(""), false } } },
	{ "empty_elements_skipped", IN(",a YQ==,,b,"), 2, {
		{ "a", VAL("a"), true },
		{ "b", VAL(""), false } } },
	{ "one_two_and_three_byte_tails", IN("x YQ==,y YWI=,z YWJj"), 3, {
		{ "x", VAL("a"), true },
		{ "y", VAL("ab"), true },
		{ "z", VAL("abc"), true } } },
	{ "rfc4648_test_vectors",
	    IN("a Zm9vYg==,b Zm9vYmE=,c Zm9vYmFy"), 3, {
		{ "a", VAL("foob"), true },
		{ "b", VAL("fooba"), true },
		{ "c", VAL("foobar"), true } } },
	{ "binary_value_with_nul", IN("k AAEC/w=="), 1, {
		{ "k", VAL("\x00\x01\x02\xff"), true } } },
	{ "single_nul", IN("k AA=="), 1, { { "k", VAL("\0"), true } } },
	{ "nul_in_the_middle", IN("k YQBi"), 1, {
		{ "k", VAL("a\0b"), true } } },
	{ "plus_and_slash", IN("k +/+/"), 1, {
		{ "k", VAL("\xfb\xff\xbf"), true } } },
	{ "utf8_filename", IN("filename csOpc3Vtw6kucGRm"), 1, {
		{ "filename", VAL("r\xc3\xa9sum\xc3\xa9.pdf"), true } } },
	{ "printable_punctuation_in_key",
	    IN("a.b-c_d:e;f=g!~\"#$%&'()*+/<>?@[\\]^`{|} YQ=="), 1, {
		{ "a.b-c_d:e;f=g!~\"#$%&'()*+/<>?@[\\]^`{|}", VAL("a"),
		    true } } },
	{ "keys_are_case_sensitive", IN("Key YQ==,key Yg==,KEY"), 3, {
		{ "Key", VAL("a"), true },
		{ "key", VAL("b"), true },
		{ "KEY", VAL(""), false } } },
	{ "key_that_prefixes_another", IN("file YQ==,filename Yg=="), 2, {
		{ "file", VAL("a"), true },
		{ "filename", VAL("b"), true } } },
	{ "value_that_looks_like_a_key", IN("a YWJj,YWJj"), 2, {
		{ "a", VAL("abc"), true },
		{ "YWJj", VAL(""), false } } },
};

START_TEST(parse_metadata_gives_pairs_in_order)
{
	const struct meta_good_case *c = &meta_good_cases[_i];
	char buf[SHOW_CAP];
	const char *why;
	int rc;
	char *g = parse_guarded(c->in, c->len, &rc, &why);

	show(c->in, c->len, buf, sizeof(buf));
	ck_assert_msg(rc == 0, "%s: \"%s\" rejected: %s", c->name, buf,
	    why != NULL ? why : "(no reason)");
	ck_assert_msg(meta.n == c->n, "%s: %zu pairs, not %zu", c->name,
	    meta.n, c->n);
	for (size_t i = 0; i < c->n; i++) {
		const struct tus_meta_pair *p = &meta.pair[i];
		const struct want_pair *w = &c->pair[i];

		ck_assert_msg(span_eq(p->key, span_make(w->key,
		    strlen(w->key))), "%s: key %zu is \"%.*s\", not \"%s\"",
		    c->name, i, (int)p->key.len, p->key.p, w->key);
		/* Keys point into the header, not into a copy. */
		ck_assert(p->key.p >= g && p->key.p + p->key.len <= g + c->len);
		ck_assert_msg(p->has_value == w->has_value,
		    "%s: has_value of \"%s\"", c->name, w->key);
		ck_assert_msg(p->value_len == w->value_len &&
		    memcmp(p->value, w->value, w->value_len) == 0,
		    "%s: value of \"%s\" (%zu bytes, want %zu)", c->name,
		    w->key, p->value_len, w->value_len);
	}
	tu_guard_free(g);
}
END_TEST

/*
 * Upload-Metadata that does not
 */

#define WHY_REPEATED	"metadata key repeated"
#define WHY_BASE64	"metadata value is not base64"
#define WHY_LONG	"metadata value too long"
#define WHY_MANY	"too many metadata pairs"
#define WHY_MALFORMED	"malformed metadata"

struct meta_bad_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*why;
};

static const struct meta_bad_case meta_bad_cases[] = {
	{ "duplicate_key_with_values", IN("a YQ==,a Yg=="), WHY_REPEATED },
	{ "duplicate_key_without_values", IN("a,a"), WHY_REPEATED },
	{ "duplicate_key_after_ows", IN("a YQ==, \ta"), WHY_REPEATED },
	{ "duplicate_key_not_adjacent", IN("a,b,c,d,b"), WHY_REPEATED },
	{ "duplicate_same_value", IN("a YQ==,a YQ=="), WHY_REPEATED },
	{ "unpadded_one_byte", IN("a YQ"), WHY_BASE64 },
	{ "unpadded_two_bytes", IN("a YWI"), WHY_BASE64 },
	{ "tus_js_filename_unpadded",
	    IN("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg"), WHY_BASE64 },
	{ "short_padding", IN("a YQ="), WHY_BASE64 },
	{ "too_much_padding", IN("a YQ==="), WHY_BASE64 },
	{ "three_pads", IN("a Y==="), WHY_BASE64 },
	{ "all_padding", IN("a ===="), WHY_BASE64 },
	{ "pad_then_data", IN("a YQ==YQ=="), WHY_BASE64 },
	{ "pad_inside_quantum", IN("a Y=Q="), WHY_BASE64 },
	{ "pad_before_last", IN("a YW=j"), WHY_BASE64 },
	{ "leading_pad", IN("a =YWJ"), WHY_BASE64 },
	{ "single_char", IN("a Y"), WHY_BASE64 },
	{ "nonzero_bits_before_double_pad", IN("a YR=="), WHY_BASE64 },
	{ "nonzero_bits_before_single_pad", IN("a YWJ="), WHY_BASE64 },
	{ "url_safe_alphabet", IN("a -_-_"), WHY_BASE64 },
	{ "dot_in_value", IN("a YW.j"), WHY_BASE64 },
	{ "space_inside_value", IN("a YW Jj"), WHY_BASE64 },
	{ "two_spaces_before_value", IN("a  YWJj"), WHY_BASE64 },
	{ "htab_inside_value", IN("a YW\tJj"), WHY_BASE64 },
	{ "nul_in_value", IN("a YW\0j"), WHY_BASE64 },
	{ "crlf_in_value", IN("a YQ\r\n"), WHY_BASE64 },
	{ "high_byte_in_value", IN("a YW\xc3\xa9"), WHY_BASE64 },
	{ "value_in_plain_text", IN("filename report.pdf"), WHY_BASE64 },
	{ "bad_value_after_good_pairs", IN("a YQ==,b Yg==,c !!!!"),
	    WHY_BASE64 },
	{ "htab_between_key_and_value", IN("a\tYQ=="), WHY_MALFORMED },
	{ "nul_in_key", IN("a\0b YQ=="), WHY_MALFORMED },
	{ "control_in_key", IN("a\x01 YQ=="), WHY_MALFORMED },
	{ "del_in_key", IN("a\x7f YQ=="), WHY_MALFORMED },
	{ "cr_in_key", IN("a\rb"), WHY_MALFORMED },
	{ "lf_in_key", IN("a\nb"), WHY_MALFORMED },
	{ "utf8_in_key", IN("caf\xc3\xa9 YQ=="), WHY_MALFORMED },
	{ "high_byte_in_key", IN("\xff"), WHY_MALFORMED },
	/* The first bad pair decides the reason. */
	{ "malformed_before_repeated", IN("a,\x01,a"), WHY_MALFORMED },
	{ "repeated_before_malformed", IN("a,a,\x01"), WHY_REPEATED },
	{ "not_base64_before_repeated", IN("a Y,a"), WHY_BASE64 },
};

START_TEST(parse_metadata_rejects_with_reason)
{
	const struct meta_bad_case *c = &meta_bad_cases[_i];
	char buf[SHOW_CAP];
	const char *why;
	int rc;
	char *g = parse_guarded(c->in, c->len, &rc, &why);

	show(c->in, c->len, buf, sizeof(buf));
	ck_assert_msg(rc == -1, "%s: \"%s\" accepted", c->name, buf);
	ck_assert_msg(why != NULL && strcmp(why, c->why) == 0,
	    "%s: \"%s\" rejected as \"%s\", not \"%s\"", c->name, buf,
	    why != NULL ? why : "(null)", c->why);
	ck_assert_msg(meta.n == 0, "%s: %zu pairs left after an error",
	    c->name, meta.n);
	tu_guard_free(g);

	/* why may be NULL. */
	g = tu_guarded(c->in, c->len);
	ck_assert_int_eq(tus_parse_metadata(span_make(g, c->len), &meta,
	    NULL), -1);
	tu_guard_free(g);
}
END_TEST

START_TEST(parse_metadata_leaves_why_alone_on_success)
{
	const char *why = "sentinel";
	char *g = tu_guarded("a YQ==", 6);

	ck_assert_int_eq(tus_parse_metadata(span_make(g, 6), &meta, &why), 0);
	ck_assert_str_eq(why, "sentinel");
	tu_guard_free(g);
}
END_TEST

START_TEST(parse_metadata_accepts_empty_span_without_pointer)
{
	const char *why = NULL;

	meta.n = 7;
	ck_assert_int_eq(tus_parse_metadata(SPAN_NULL, &meta, &why), 0);
	ck_assert_uint_eq(meta.n, 0);
}
END_TEST

/*
 * Limits
 */

START_TEST(parse_metadata_accepts_max_pairs)
{
	char hdr[1024];
	size_t len = many_pairs(TUS_MAX_META, "YQ==", hdr, sizeof(hdr));
	const char *why;
	int rc;
	char *g = parse_guarded(hdr, len, &rc, &why);

	ck_assert_msg(rc == 0, "%s", why);
	ck_assert_uint_eq(meta.n, TUS_MAX_META);
	ck_assert(span_eq(meta.pair[TUS_MAX_META - 1].key, SPAN_LIT("k31")));
	tu_guard_free(g);
}
END_TEST

START_TEST(parse_metadata_rejects_one_pair_over_max)
{
	char hdr[1024];
	size_t len = many_pairs(TUS_MAX_META + 1, "", hdr, sizeof(hdr));
	const char *why;
	int rc;
	char *g = parse_guarded(hdr, len, &rc, &why);

	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(why, WHY_MANY);
	ck_assert_uint_eq(meta.n, 0);
	tu_guard_free(g);
}
END_TEST

/* Empty elements do not count towards the limit; pairs do. */
START_TEST(parse_metadata_counts_pairs_not_commas)
{
	char hdr[1024];
	size_t len = many_pairs(TUS_MAX_META, "", hdr, sizeof(hdr));
	const char *why;
	int rc;
	char *g;

	ck_assert(len + 4 < sizeof(hdr));
	memcpy(hdr + len, ",,,,", 4);
	g = parse_guarded(hdr, len + 4, &rc, &why);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(meta.n, TUS_MAX_META);
	tu_guard_free(g);
}
END_TEST

/*
 * A value of n decoded bytes, as "k <base64>", parsed: each length near
 * TUS_MAX_META_VALUE, whatever its padding, is accepted up to the limit
 * and refused as too long past it.
 */
START_TEST(parse_metadata_bounds_value_length)
{
	static char raw[TUS_MAX_META_VALUE + 8];
	static char hdr[TUS_BASE64_LEN(sizeof(raw)) + 8];
	size_t n = TUS_MAX_META_VALUE - 3 + (size_t)_i;
	const char *why;
	size_t len;
	int rc;
	char *g;

	fill_bytes(raw, n, (unsigned)_i);
	memcpy(hdr, "k ", 2);
	len = 2 + encode_guarded(raw, n, hdr + 2, sizeof(hdr) - 2);
	g = parse_guarded(hdr, len, &rc, &why);
	if (n <= TUS_MAX_META_VALUE) {
		ck_assert_msg(rc == 0, "%zu bytes: %s", n, why);
		ck_assert_uint_eq(meta.pair[0].value_len, n);
		ck_assert(memcmp(meta.pair[0].value, raw, n) == 0);
	} else {
		ck_assert_msg(rc == -1, "%zu bytes accepted", n);
		ck_assert_str_eq(why, WHY_LONG);
	}
	tu_guard_free(g);
}
END_TEST

/* The length is checked before the characters: no decoding past the limit. */
START_TEST(parse_metadata_reports_long_value_before_bad_characters)
{
	static char hdr[2 + 4 * 400];
	const char *why;
	int rc;
	char *g;

	memcpy(hdr, "k ", 2);
	memset(hdr + 2, '!', sizeof(hdr) - 2);
	g = parse_guarded(hdr, sizeof(hdr), &rc, &why);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(why, WHY_LONG);
	tu_guard_free(g);
}
END_TEST

/*
 * tus_meta_get
 */

START_TEST(meta_get_finds_exact_keys_only)
{
	static const char hdr[] = "filename Zm9vLnR4dA==,empty,Name YQ==";
	const char *why, *v;
	size_t len = 99;
	int rc;
	char *g = parse_guarded(hdr, sizeof(hdr) - 1, &rc, &why);

	ck_assert_int_eq(rc, 0);
	v = tus_meta_get(&meta, "filename", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 7);
	ck_assert(memcmp(v, "foo.txt", 7) == 0);

	len = 99;
	v = tus_meta_get(&meta, "empty", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 0);

	ck_assert_ptr_nonnull(tus_meta_get(&meta, "Name", NULL));
	len = 99;
	ck_assert_ptr_null(tus_meta_get(&meta, "name", &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(tus_meta_get(&meta, "file", &len));
	ck_assert_ptr_null(tus_meta_get(&meta, "filename ", &len));
	ck_assert_ptr_null(tus_meta_get(&meta, "", &len));
	ck_assert_ptr_null(tus_meta_get(&meta, "filetype", NULL));
	tu_guard_free(g);
}
END_TEST

START_TEST(meta_get_finds_nothing_in_empty_metadata)
{
	size_t len = 99;

	meta.n = 0;
	ck_assert_ptr_null(tus_meta_get(&meta, "filename", &len));
	ck_assert_uint_eq(len, 0);
}
END_TEST

/*
 * Base64 encoder
 */

struct enc_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*out;
};

static const struct enc_case enc_cases[] = {
	/* RFC 4648 §10. */
	{ "empty", IN(""), "" },
	{ "f", IN("f"), "Zg==" },
	{ "fo", IN("fo"), "Zm8=" },
	{ "foo", IN("foo"), "Zm9v" },
	{ "foob", IN("foob"), "Zm9vYg==" },
	{ "fooba", IN("fooba"), "Zm9vYmE=" },
	{ "foobar", IN("foobar"), "Zm9vYmFy" },
	{ "tus_js_filename", IN("world_domination_plan.pdf"),
	    "d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==" },
	{ "tus_js_filetype", IN("application/pdf"), "YXBwbGljYXRpb24vcGRm" },
	{ "nul", IN("\0"), "AA==" },
	{ "binary", IN("\x00\x01\x02\xff"), "AAEC/w==" },
	{ "plus_and_slash", IN("\xfb\xff\xbf"), "+/+/" },
	{ "all_ones", IN("\xff\xff\xff\xff"), "/////w==" },
};

START_TEST(base64_encode_matches_known_vectors)
{
	const struct enc_case *c = &enc_cases[_i];
	char out[64];
	size_t n = encode_guarded(c->in, c->len, out, sizeof(out));

	ck_assert_msg(n == strlen(c->out) && strcmp(out, c->out) == 0,
	    "%s: \"%s\", not \"%s\"", c->name, out, c->out);
}
END_TEST

/* For each length 0..7, cap of exactly the need fits and one less does not. */
START_TEST(base64_encode_needs_room_for_text_and_nul)
{
	static const char in[] = "abcdefg";

	for (size_t len = 0; len < sizeof(in); len++) {
		size_t need = TUS_BASE64_LEN(len) + 1;
		char *g = tu_guarded("xxxxxxxxxxxxxxxx", need);

		ck_assert_int_eq(tus_base64_encode(in, len, g, need),
		    (int)need - 1);
		tu_guard_free(g);
		g = tu_guarded("xxxxxxxxxxxxxxxx", need - 1);
		ck_assert_int_eq(tus_base64_encode(in, len, g, need - 1), -1);
		if (need - 1 > 0)
			ck_assert_msg(g[0] == '\0', "len %zu: no \"\" left",
			    len);
		tu_guard_free(g);
	}
	ck_assert_int_eq(tus_base64_encode(in, 0, NULL, 0), -1);
}
END_TEST

START_TEST(base64_encode_refuses_lengths_past_int)
{
	static const char in[] = "abc";
	char out[8] = "xxxxxxx";

	/* The length is refused before any byte of in is read. */
	ck_assert_int_eq(tus_base64_encode(in, SIZE_MAX, out, sizeof(out)),
	    -1);
	ck_assert_str_eq(out, "");
}
END_TEST

/*
 * Round trips: bytes of every length up to TUS_MAX_META_VALUE, binary
 * and NUL included, encode to text that parses back to the same bytes.
 */
START_TEST(base64_round_trips_through_metadata)
{
	static char raw[TUS_MAX_META_VALUE];
	static char hdr[2 + TUS_BASE64_LEN(TUS_MAX_META_VALUE) + 1];

	for (size_t n = 0; n <= TUS_MAX_META_VALUE; n++) {
		const char *why;
		size_t len;
		int rc;
		char *g;

		fill_bytes(raw, n, (unsigned)n);
		memcpy(hdr, "k ", 2);
		len = 2 + encode_guarded(raw, n, hdr + 2, sizeof(hdr) - 2);
		g = parse_guarded(hdr, len, &rc, &why);
		ck_assert_msg(rc == 0, "%zu bytes: %s", n, why);
		ck_assert_uint_eq(meta.n, 1);
		ck_assert_uint_eq(meta.pair[0].value_len, n);
		ck_assert(meta.pair[0].has_value == (n > 0));
		ck_assert_msg(memcmp(meta.pair[0].value, raw, n) == 0,
		    "%zu bytes differ", n);
		tu_guard_free(g);
	}
}
END_TEST

/* Every byte value, and each at each position of a quantum. */
START_TEST(base64_round_trips_every_byte_value)
{
	char raw[256 + 2];
	char hdr[2 + TUS_BASE64_LEN(sizeof(raw)) + 1];

	for (size_t shift = 0; shift < 3; shift++) {
		const char *why;
		size_t len, n = 256 + shift;
		int rc;
		char *g;

		memset(raw, 'x', shift);
		for (size_t i = 0; i < 256; i++)
			raw[shift + i] = (char)i;
		memcpy(hdr, "k ", 2);
		len = 2 + encode_guarded(raw, n, hdr + 2, sizeof(hdr) - 2);
		g = parse_guarded(hdr, len, &rc, &why);
		ck_assert_msg(rc == 0, "%s", why);
		ck_assert_uint_eq(meta.pair[0].value_len, n);
		ck_assert(memcmp(meta.pair[0].value, raw, n) == 0);
		tu_guard_free(g);
	}
}
END_TEST

/*
 * Upload IDs
 */

struct id_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	bool		 ok;
};

static const struct id_case id_cases[] = {
	{ "lowercase_hex", IN("0123456789abcdef0123456789abcdef"), true },
	{ "all_zero", IN("00000000000000000000000000000000"), true },
	{ "all_f", IN("ffffffffffffffffffffffffffffffff"), true },
	{ "empty", IN(""), false },
	{ "one_short", IN("0123456789abcdef0123456789abcde"), false },
	{ "one_long", IN("0123456789abcdef0123456789abcdef0"), false },
	{ "uppercase", IN("0123456789ABCDEF0123456789abcdef"), false },
	{ "one_uppercase", IN("0123456789abcdef0123456789abcdeF"), false },
	{ "g", IN("0123456789abcdef0123456789abcdeg"), false },
	{ "slash", IN("0123456789abcdef/123456789abcdef"), false },
	{ "dot_dot", IN("..3456789abcdef0123456789abcdef0"), false },
	{ "parent_path", IN("../../../../../../../etc/passwd00"), false },
	{ "nul", IN("0123456789abcdef\0" "123456789abcdef"), false },
	{ "space", IN("0123456789abcdef 123456789abcdef"), false },
	{ "uuid_with_dashes", IN("01234567-89ab-cdef-0123-456789abcdef"),
	    false },
	{ "high_byte", IN("0123456789abcdef0123456789abcde\xe0"), false },
};

START_TEST(id_valid_only_for_32_lowercase_hex_digits)
{
	const struct id_case *c = &id_cases[_i];
	char *g = tu_guarded(c->in, c->len);
	char buf[SHOW_CAP];

	ck_assert_msg(tus_id_valid(g, c->len) == c->ok,
	    "%s: \"%s\" should be %s", c->name,
	    show(c->in, c->len, buf, sizeof(buf)),
	    c->ok ? "valid" : "invalid");
	tu_guard_free(g);
}
END_TEST

START_TEST(id_valid_takes_null_with_zero_length)
{
	ck_assert(!tus_id_valid(NULL, 0));
}
END_TEST

static Suite *
tus_hdr_suite(void)
{
	Suite *s = suite_create("tus_hdr");
	TCase *tc;

	tc = tcase_create("numbers");
	tcase_add_loop_test(tc,
	    parse_uint_accepts_only_plain_digits_up_to_int64_max, 0,
	    NELEM(uint_cases));
	tcase_add_test(tc, parse_uint_agrees_with_strtoull_below_the_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("version");
	tcase_add_loop_test(tc, version_ok_only_for_exactly_1_0_0, 0,
	    NELEM(version_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("metadata");
	tcase_add_loop_test(tc, parse_metadata_gives_pairs_in_order, 0,
	    NELEM(meta_good_cases));
	tcase_add_loop_test(tc, parse_metadata_rejects_with_reason, 0,
	    NELEM(meta_bad_cases));
	tcase_add_test(tc, parse_metadata_leaves_why_alone_on_success);
	tcase_add_test(tc, parse_metadata_accepts_empty_span_without_pointer);
	tcase_add_test(tc, meta_get_finds_exact_keys_only);
	tcase_add_test(tc, meta_get_finds_nothing_in_empty_metadata);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, parse_metadata_accepts_max_pairs);
	tcase_add_test(tc, parse_metadata_rejects_one_pair_over_max);
	tcase_add_test(tc, parse_metadata_counts_pairs_not_commas);
	tcase_add_loop_test(tc, parse_metadata_bounds_value_length, 0, 7);
	tcase_add_test(tc,
	    parse_metadata_reports_long_value_before_bad_characters);
	suite_add_tcase(s, tc);

	tc = tcase_create("base64");
	tcase_add_loop_test(tc, base64_encode_matches_known_vectors, 0,
	    NELEM(enc_cases));
	tcase_add_test(tc, base64_encode_needs_room_for_text_and_nul);
	tcase_add_test(tc, base64_encode_refuses_lengths_past_int);
	tcase_add_test(tc, base64_round_trips_through_metadata);
	tcase_add_test(tc, base64_round_trips_every_byte_value);
	/* 1025 lengths, each through two guarded mappings, under ASan. */
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("ids");
	tcase_add_loop_test(tc, id_valid_only_for_32_lowercase_hex_digits, 0,
	    NELEM(id_cases));
	tcase_add_test(tc, id_valid_takes_null_with_zero_length);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(tus_hdr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
