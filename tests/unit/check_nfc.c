/*
 * check_nfc.c - unit tests for Unicode NFC normalisation.
 *
 * The expected values come from Python's unicodedata (nfc_cases.h, made
 * by src/nfc_table.py --tests): every scalar value on its own, the NFD of
 * every character with a decomposition, Hangul syllables and random mixed
 * strings.  Beyond them, properties that need no reference: NFC is
 * idempotent, nfc_is_nfc() says whether normalising changes anything, and
 * NFC(NFC(a) NFC(b)) is NFC(a b), tested on concatenations of the vectors
 * so that segments meet in every way.  Inputs sit right before a
 * PROT_NONE page (tu_guarded()), and outputs in buffers of exactly the
 * expected size, so reading or writing one byte too far crashes.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfc.h"
#include "nfc_cases.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* A literal input and its length, embedded NUL bytes included. */
#define IN(s)		.in = (s), .len = sizeof(s) - 1
#define OUT(s)		.out = (s), .out_len = sizeof(s) - 1

/*
 * ck_assert_msg() tells the Check parent about every assertion that
 * passes, a write() each: too slow for the loops over a million code
 * points.  This one speaks up only on failure.
 */
#define CHECK(expr, ...)	do {					\
	if (!(expr))							\
		ck_abort_msg(__VA_ARGS__);				\
} while (0)

/* Room for any output of the tests: 3 times the longest input. */
#define OUT_CAP		(3 * 8192)

/*
 * Helpers
 */

/*
 * Renders p[0..len) for a failure message: printable ASCII as is, other
 * bytes as \xHH, cut short with "..." when it does not fit.
 */
static const char *
show(const char *p, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		char tmp[8];
		int n;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			n = snprintf(tmp, sizeof(tmp), "%c", c);
		else
			n = snprintf(tmp, sizeof(tmp), "\\x%02x", c);
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

/* Encodes the scalar value cp; returns its length. */
static size_t
encode(uint32_t cp, char b[4])
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	b[0] = (char)(0xF0 | cp >> 18);
	b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	b[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Normalises in[0..len), copied to a guarded buffer when guard is set,
 * into out[0..cap).  The guard costs three system calls, too many for the
 * hundred thousand calls of the concatenation test.
 */
static ssize_t
norm_at(const char *in, size_t len, char *out, size_t cap, bool guard)
{
	char *g;
	ssize_t n;

	if (!guard)
		return nfc_normalize(in, len, out, cap);
	g = tu_guarded(in, len);
	n = nfc_normalize(g, len, out, cap);
	tu_guard_free(g);
	return n;
}

static ssize_t
norm_guarded(const char *in, size_t len, char *out, size_t cap)
{
	return norm_at(in, len, out, cap, true);
}

static bool
is_nfc_at(const char *in, size_t len, bool guard)
{
	char *g;
	bool r;

	if (!guard)
		return nfc_is_nfc(in, len);
	g = tu_guarded(in, len);
	r = nfc_is_nfc(g, len);
	tu_guard_free(g);
	return r;
}

static bool
is_nfc_guarded(const char *in, size_t len)
{
	return is_nfc_at(in, len, true);
}

/*
 * Checks what holds for any valid input whose NFC is nfc[0..nfc_len):
 * NFC of it is itself, nfc_is_nfc() says so, and in is NFC exactly when
 * it equals it.  what names the input in failure messages; guard says
 * whether to place the inputs before a guard page.
 */
static void
check_properties(const char *what, const char *in, size_t len,
    const char *nfc, size_t nfc_len, bool guard)
{
	static char again[OUT_CAP];
	char s[512];
	bool same = len == nfc_len && memcmp(in, nfc, len) == 0;
	ssize_t n;

	CHECK(nfc_len <= 3 * len, "%s: NFC of %zu bytes is %zu", what,
	    len, nfc_len);
	n = norm_at(nfc, nfc_len, again, sizeof(again), guard);
	CHECK(n == (ssize_t)nfc_len && memcmp(again, nfc, nfc_len) == 0,
	    "%s: NFC is not idempotent on \"%s\"", what,
	    show(nfc, nfc_len, s, sizeof(s)));
	CHECK(is_nfc_at(nfc, nfc_len, guard), "%s: nfc_is_nfc(\"%s\") "
	    "is false on an NFC result", what,
	    show(nfc, nfc_len, s, sizeof(s)));
	CHECK(is_nfc_at(in, len, guard) == same, "%s: nfc_is_nfc(\"%s\") "
	    "is %d, normalising it %s it", what, show(in, len, s, sizeof(s)),
	    !same, same ? "keeps" : "changes");
}

/*
 * Normalises in[0..len) with out and cap exactly nfc_len, then with one
 * byte less, and checks the result is nfc[0..nfc_len).
 */
static void
check_nfc_exact(const char *what, const char *in, size_t len,
    const char *nfc, size_t nfc_len)
{
	char *out = tu_guarded(nfc, nfc_len);
	char si[512], so[512], se[512];
	ssize_t n;

	memset(out, 0xa5, nfc_len);
	n = norm_guarded(in, len, out, nfc_len);
	CHECK(n == (ssize_t)nfc_len &&
	    memcmp(out, nfc, nfc_len) == 0, "%s: NFC of \"%s\" is \"%s\", "
	    "expected \"%s\"", what, show(in, len, si, sizeof(si)),
	    n < 0 ? "(-1)" : show(out, (size_t)n, so, sizeof(so)),
	    show(nfc, nfc_len, se, sizeof(se)));
	if (nfc_len > 0)
		CHECK(norm_guarded(in, len, out, nfc_len - 1) == -1,
		    "%s: no -1 with one byte too little room", what);
	tu_guard_free(out);
}

/*
 * Against Python
 */

START_TEST(tables_and_vectors_have_one_unicode_version)
{
	ck_assert_str_eq(nfc_unicode_version(), NFC_CASES_UNICODE_VERSION);
}
END_TEST

/*
 * Every scalar value on its own: the ones in nfc_singles become their
 * NFC there, every other one stays as it is.
 */
START_TEST(normalize_maps_every_scalar_value_as_python_does)
{
	char *in[5];
	size_t next = 0;

	for (size_t i = 1; i <= 4; i++)
		in[i] = tu_guarded("\0\0\0\0", i);
	for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
		char b[4], out[16];
		const char *want = b;
		size_t len, want_len;
		ssize_t n;

		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		len = encode(cp, b);
		want_len = len;
		if (next < NELEM(nfc_singles) && nfc_singles[next].cp == cp) {
			want = nfc_singles[next].nfc;
			want_len = strlen(want);
			next++;
		}
		memcpy(in[len], b, len);
		n = nfc_normalize(in[len], len, out, sizeof(out));
		CHECK(n == (ssize_t)want_len &&
		    memcmp(out, want, want_len) == 0,
		    "U+%04X: NFC differs from Python's", cp);
		CHECK(nfc_is_nfc(in[len], len) == (want == b),
		    "U+%04X: nfc_is_nfc() is %d", cp, want != b);
		CHECK(nfc_utf8_valid(in[len], len), "U+%04X: invalid", cp);
	}
	ck_assert_uint_eq(next, NELEM(nfc_singles));
	for (size_t i = 1; i <= 4; i++)
		tu_guard_free(in[i]);
}
END_TEST

START_TEST(normalize_gives_python_nfc_of_every_vector)
{
	for (size_t i = 0; i < NELEM(nfc_cases); i++) {
		const struct nfc_case *c = &nfc_cases[i];
		char what[32];

		snprintf(what, sizeof(what), "nfc_cases[%zu]", i);
		check_nfc_exact(what, c->in, c->in_len, c->nfc, c->nfc_len);
		check_properties(what, c->in, c->in_len, c->nfc, c->nfc_len,
		    true);
		CHECK(is_nfc_guarded(c->in, c->in_len) == c->is_nfc,
		    "%s: nfc_is_nfc() disagrees with Python", what);
	}
}
END_TEST

/*
 * NFC(NFC(a) NFC(b)) == NFC(a b) for pairs and triples of vectors, inputs
 * and results mixed: segments end and begin inside the join, Hangul jamo
 * meet syllables, marks meet bases.
 */
START_TEST(normalize_of_concatenations_agrees_with_parts)
{
	static char joined[OUT_CAP], parts[OUT_CAP], whole[OUT_CAP];
	static char again[OUT_CAP];
	uint32_t seed = 12345;

	for (size_t round = 0; round < 20000; round++) {
		size_t len = 0, plen = 0;
		ssize_t n, m;
		char what[32];

		for (size_t k = 0; k < 2 + round % 2; k++) {
			const struct nfc_case *c;

			seed = seed * 1103515245 + 12345;
			c = &nfc_cases[(seed >> 8) % NELEM(nfc_cases)];
			if (seed & 1) {
				memcpy(joined + len, c->in, c->in_len);
				len += c->in_len;
			} else {
				memcpy(joined + len, c->nfc, c->nfc_len);
				len += c->nfc_len;
			}
			memcpy(parts + plen, c->nfc, c->nfc_len);
			plen += c->nfc_len;
		}
		snprintf(what, sizeof(what), "round %zu", round);
		n = norm_guarded(joined, len, whole, sizeof(whole));
		CHECK(n >= 0, "%s: -1 on valid input", what);
		m = norm_at(parts, plen, again, sizeof(again), false);
		CHECK(m == n && memcmp(again, whole, (size_t)n) == 0,
		    "%s: NFC(NFC(a) NFC(b)) differs from NFC(a b)", what);
		check_properties(what, joined, len, whole, (size_t)n, false);
	}
}
END_TEST

/*
 * Named cases, readable without Python
 */

static const struct named_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*out;
	size_t		 out_len;
} named_cases[] = {
	{ "ascii_unchanged", IN("image.jpg"), OUT("image.jpg") },
	{ "empty", IN(""), OUT("") },
	{ "nfd_e_acute", IN("e\xcc\x81.txt"), OUT("\xc3\xa9.txt") },
	{ "macos_cafe", IN("Cafe\xcc\x81 cre\xcc\x80me"),
	    OUT("Caf\xc3\xa9 cr\xc3\xa8me") },
	{ "already_composed", IN("\xc3\xa9"), OUT("\xc3\xa9") },
	{ "nul_passes_through", IN("a\0e\xcc\x81"), OUT("a\0\xc3\xa9") },
	/* Dot below (220) sorts before acute (230), then both compose. */
	{ "marks_reordered_then_composed", IN("a\xcc\x81\xcc\xa3"),
	    OUT("\xe1\xba\xa1\xcc\x81") },
	{ "vietnamese_two_marks", IN("e\xcc\x82\xcc\x81"),
	    OUT("\xe1\xba\xbf") },
	/* Two marks of one class keep their order; the second is blocked. */
	{ "same_class_blocks", IN("a\xcc\x81\xcc\x80"),
	    OUT("\xc3\xa1\xcc\x80") },
	{ "mark_alone", IN("\xcc\x81"), OUT("\xcc\x81") },
	{ "angstrom_singleton", IN("\xe2\x84\xab"), OUT("\xc3\x85") },
	{ "kelvin_singleton", IN("\xe2\x84\xaa"), OUT("K") },
	{ "greek_question_mark", IN("\xcd\xbe"), OUT(";") },
	/* Composition exclusions stay decomposed. */
	{ "devanagari_qa_excluded", IN("\xe0\xa5\x98"),
	    OUT("\xe0\xa4\x95\xe0\xa4\xbc") },
	{ "devanagari_nukta_composes", IN("\xe0\xa4\xa8\xe0\xa4\xbc"),
	    OUT("\xe0\xa4\xa9") },
	{ "non_starter_decomposition", IN("\xcd\x84"),
	    OUT("\xcc\x88\xcc\x81") },
	{ "hangul_lv", IN("\xe1\x84\x80\xe1\x85\xa1"), OUT("\xea\xb0\x80") },
	{ "hangul_lvt", IN("\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8"),
	    OUT("\xea\xb0\x81") },
	{ "hangul_lv_syllable_plus_t", IN("\xea\xb0\x80\xe1\x86\xa8"),
	    OUT("\xea\xb0\x81") },
	/* U+11A7 is TBase, not a trailing consonant. */
	{ "hangul_tbase_does_not_compose", IN("\xea\xb0\x80\xe1\x86\xa7"),
	    OUT("\xea\xb0\x80\xe1\x86\xa7") },
	{ "hangul_lvt_syllable_plus_t", IN("\xea\xb0\x81\xe1\x86\xa8"),
	    OUT("\xea\xb0\x81\xe1\x86\xa8") },
	{ "hangul_v_alone", IN("\xe1\x85\xa1"), OUT("\xe1\x85\xa1") },
	{ "emoji_zwj_sequence",
	    IN("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9"),
	    OUT("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9") },
	/* The 3x bound: U+1D160 is excluded, its NFC is 3 code points. */
	{ "musical_note_triples", IN("\xf0\x9d\x85\xa0"),
	    OUT("\xf0\x9d\x85\x98\xf0\x9d\x85\xa5\xf0\x9d\x85\xae") },
	{ "bengali_two_part_vowel", IN("\xe0\xa7\x87\xe0\xa6\xbe"),
	    OUT("\xe0\xa7\x8b") },
	{ "noncharacter_kept", IN("\xef\xbf\xbe"), OUT("\xef\xbf\xbe") },
	{ "max_scalar_kept", IN("\xf4\x8f\xbf\xbf"), OUT("\xf4\x8f\xbf\xbf") },
	{ "edges_of_lengths", IN("\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf"
	    "\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80"),
	    OUT("\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf"
	    "\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80") },
};

START_TEST(normalize_named_case)
{
	const struct named_case *c = &named_cases[_i];

	check_nfc_exact(c->name, c->in, c->len, c->out, c->out_len);
	check_properties(c->name, c->in, c->len, c->out, c->out_len, true);
}
END_TEST

/*
 * Invalid UTF-8
 */

static const struct bad_case {
	const char	*name;
	const char	*in;
	size_t		 len;
} bad_cases[] = {
	{ "lone_continuation", IN("\x80") },
	{ "continuation_after_ascii", IN("a\xbf" "b") },
	{ "overlong_nul", IN("\xc0\x80") },
	{ "overlong_slash", IN("\xc0\xaf") },
	{ "overlong_c1", IN("\xc1\xbf") },
	{ "overlong_three", IN("\xe0\x80\x80") },
	{ "overlong_three_top", IN("\xe0\x9f\xbf") },
	{ "overlong_four", IN("\xf0\x8f\xbf\xbf") },
	{ "surrogate_high", IN("\xed\xa0\x80") },
	{ "surrogate_low", IN("\xed\xbf\xbf") },
	{ "surrogate_pair", IN("\xed\xa0\xbd\xed\xb8\x80") },
	{ "past_max", IN("\xf4\x90\x80\x80") },
	{ "lead_f5", IN("\xf5\x80\x80\x80") },
	{ "five_bytes", IN("\xf8\x88\x80\x80\x80") },
	{ "six_bytes", IN("\xfc\x84\x80\x80\x80\x80") },
	{ "byte_fe", IN("\xfe") },
	{ "byte_ff", IN("\xff") },
	{ "truncated_two", IN("\xc3") },
	{ "truncated_three", IN("\xe2\x82") },
	{ "truncated_four", IN("\xf0\x9f\x98") },
	{ "truncated_after_text", IN("caf\xc3") },
	{ "truncated_after_mark", IN("e\xcc\x81\xcc") },
	{ "ascii_instead_of_continuation", IN("\xc3(") },
	{ "ascii_in_three", IN("\xe2(\xa1") },
	{ "lead_instead_of_continuation", IN("\xe2\x82\xc3\xa9") },
	{ "latin1_name", IN("caf\xe9.txt") },
	{ "invalid_after_long_valid", IN("abcdefghij\xc3\xa9\xcc\x81xyz\x80") },
};

START_TEST(invalid_utf8_is_refused)
{
	const struct bad_case *c = &bad_cases[_i];
	char out[64];
	char *g = tu_guarded(c->in, c->len);

	ck_assert_msg(nfc_normalize(g, c->len, out, sizeof(out)) == -1,
	    "%s: normalised", c->name);
	ck_assert_msg(!nfc_is_nfc(g, c->len), "%s: nfc_is_nfc()", c->name);
	ck_assert_msg(!nfc_utf8_valid(g, c->len), "%s: nfc_utf8_valid()",
	    c->name);
	tu_guard_free(g);
}
END_TEST

/* Cut inside a character at every byte: refused, never over-read. */
START_TEST(every_cut_inside_a_character_is_refused)
{
	static const char text[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
	    "e\xcc\x81\xea\xb0\x81";
	size_t len = sizeof(text) - 1;

	for (size_t cut = 0; cut <= len; cut++) {
		char *g = tu_guarded(text, cut);
		bool boundary = cut == len ||
		    ((unsigned char)text[cut] & 0xc0) != 0x80;
		char out[64];

		ck_assert_msg(nfc_utf8_valid(g, cut) == boundary,
		    "cut at %zu", cut);
		ck_assert_msg((nfc_normalize(g, cut, out, sizeof(out)) >= 0) ==
		    boundary, "cut at %zu", cut);
		if (!boundary)
			ck_assert(!nfc_is_nfc(g, cut));
		tu_guard_free(g);
	}
}
END_TEST

/*
 * Limits
 */

START_TEST(output_that_does_not_fit_is_refused)
{
	char out[8];

	ck_assert_int_eq(nfc_normalize("abc", 3, out, 3), 3);
	ck_assert_int_eq(nfc_normalize("abc", 3, out, 2), -1);
	ck_assert_int_eq(nfc_normalize("", 0, out, 0), 0);
	/* The NFD input is longer than its NFC: only the NFC must fit. */
	ck_assert_int_eq(nfc_normalize("e\xcc\x81", 3, out, 2), 2);
	ck_assert_int_eq(nfc_normalize("e\xcc\x81", 3, out, 1), -1);
}
END_TEST

/*
 * A segment of NFC_MAX_SEGMENT code points is normalised; one more is
 * refused, and nfc_is_nfc() says false for it, as nfc_normalize() fails.
 */
START_TEST(segment_over_max_segment_is_refused)
{
	static char in[1 + 2 * (NFC_MAX_SEGMENT + 2)], out[sizeof(in)];
	size_t len = 1;
	ssize_t n;

	in[0] = 'a';
	/* U+0316, combining grave accent below (220): composes with no 'a'. */
	for (size_t i = 1; i < NFC_MAX_SEGMENT; i++) {
		memcpy(in + len, "\xcc\x96", 2);
		len += 2;
	}
	n = norm_guarded(in, len, out, sizeof(out));
	ck_assert_int_eq(n, (ssize_t)len);
	ck_assert(is_nfc_guarded(in, len));
	memcpy(in + len, "\xcc\x96", 2);
	len += 2;
	ck_assert_int_eq(norm_guarded(in, len, out, sizeof(out)), -1);
	ck_assert(!is_nfc_guarded(in, len));
	/* Marks with no starter before them make a segment too. */
	ck_assert_int_eq(norm_guarded(in + 1, len - 1, out, sizeof(out)),
	    (ssize_t)len - 1);
	memcpy(in + len, "\xcc\x96", 2);
	len += 2;
	ck_assert_int_eq(norm_guarded(in + 1, len - 1, out, sizeof(out)), -1);
}
END_TEST

/* The input length is not bounded, only a segment. */
START_TEST(long_input_of_short_segments_is_normalised)
{
	enum { REPS = 20000 };
	static char in[3 * REPS], out[2 * REPS], want[2 * REPS];
	char *big = malloc(1 << 20);

	for (size_t i = 0; i < REPS; i++) {
		memcpy(in + 3 * i, "e\xcc\x81", 3);
		memcpy(want + 2 * i, "\xc3\xa9", 2);
	}
	ck_assert_int_eq(norm_guarded(in, sizeof(in), out, sizeof(out)),
	    (ssize_t)sizeof(out));
	ck_assert(memcmp(out, want, sizeof(out)) == 0);
	ck_assert(is_nfc_guarded(want, sizeof(want)));
	ck_assert(!is_nfc_guarded(in, sizeof(in)));

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 1 << 20);
	ck_assert(nfc_is_nfc(big, 1 << 20));
	ck_assert_int_eq(nfc_normalize(big, 1 << 19, big + (1 << 19), 1 << 19),
	    1 << 19);
	free(big);
}
END_TEST

static Suite *
nfc_suite(void)
{
	Suite *s = suite_create("nfc");
	TCase *tc;

	tc = tcase_create("python");
	/* A million code points and 20000 joins take a while under ASan. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, tables_and_vectors_have_one_unicode_version);
	tcase_add_test(tc, normalize_maps_every_scalar_value_as_python_does);
	tcase_add_test(tc, normalize_gives_python_nfc_of_every_vector);
	tcase_add_test(tc, normalize_of_concatenations_agrees_with_parts);
	suite_add_tcase(s, tc);

	tc = tcase_create("named");
	tcase_add_loop_test(tc, normalize_named_case, 0, NELEM(named_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("invalid");
	tcase_add_loop_test(tc, invalid_utf8_is_refused, 0, NELEM(bad_cases));
	tcase_add_test(tc, every_cut_inside_a_character_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, output_that_does_not_fit_is_refused);
	tcase_add_test(tc, segment_over_max_segment_is_refused);
	tcase_add_test(tc, long_input_of_short_segments_is_normalised);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(nfc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
