/*
 * check_base64.c - unit tests for base64 and base64url (RFC 4648).
 *
 * Inputs go through tu_guarded(), which places them right before a
 * PROT_NONE page, and the encoders write into guarded buffers of exactly
 * cap bytes, so a read or write one byte too far crashes the test even
 * without ASan.
 */
#include <check.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The longest input the round-trip tests use. */
#define RT_MAX		300

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Helpers
 */

/* Fills out[0..len) with bytes that cover all 256 values and vary. */
static void
fill_bytes(unsigned char *out, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (unsigned char)((i * 167 + seed * 31 + (i >> 8)) &
		    0xff);
}

/*
 * Encodes in[0..len) from a guarded copy into a guarded buffer of exactly
 * cap bytes.  Returns the encoder's result; the text goes to out (which
 * must hold cap bytes) when it fits.
 */
static int
encode_guarded(int (*enc)(const void *, size_t, char *, size_t),
    const void *in, size_t len, size_t cap, char *out)
{
	char *fill = malloc(cap > 0 ? cap : 1);
	char *gin, *gout;
	int n;

	ck_assert_ptr_nonnull(fill);
	memset(fill, 'x', cap);
	gin = tu_guarded(in, len);
	gout = tu_guarded(fill, cap);
	free(fill);
	n = enc(gin, len, cap > 0 ? gout : NULL, cap);
	if (n >= 0)
		memcpy(out, gout, (size_t)n + 1);
	else if (cap > 0)
		ck_assert_msg(gout[0] == '\0', "no \"\" left on failure");
	tu_guard_free(gout);
	tu_guard_free(gin);
	return n;
}

/*
 * Decodes text[0..len) from a guarded copy into a guarded buffer of
 * exactly cap bytes, filled with 0xa5 first.  Returns the decoder's
 * result and copies the buffer to out (cap bytes).
 */
static ssize_t
decode_guarded(ssize_t (*dec)(const char *, size_t, void *, size_t),
    const char *text, size_t len, size_t cap, unsigned char *out)
{
	unsigned char *fill = malloc(cap > 0 ? cap : 1);
	char *gin, *gout;
	ssize_t n;

	ck_assert_ptr_nonnull(fill);
	memset(fill, 0xa5, cap);
	gin = tu_guarded(text, len);
	gout = tu_guarded(fill, cap);
	free(fill);
	n = dec(len > 0 ? gin : NULL, len, cap > 0 ? gout : NULL, cap);
	memcpy(out, gout, cap);
	tu_guard_free(gout);
	tu_guard_free(gin);
	return n;
}

/*
 * Known vectors: RFC 4648 §10, and bytes that use the characters for 62
 * and 63, where the alphabets differ.
 */

struct vec_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*std;
	const char	*url;
};

#define IN(s)		.in = (s), .len = sizeof(s) - 1

static const struct vec_case vec_cases[] = {
	{ "rfc4648 empty",	IN(""),		"",		"" },
	{ "rfc4648 f",		IN("f"),	"Zg==",		"Zg" },
	{ "rfc4648 fo",		IN("fo"),	"Zm8=",		"Zm8" },
	{ "rfc4648 foo",	IN("foo"),	"Zm9v",		"Zm9v" },
	{ "rfc4648 foob",	IN("foob"),	"Zm9vYg==",	"Zm9vYg" },
	{ "rfc4648 fooba",	IN("fooba"),	"Zm9vYmE=",	"Zm9vYmE" },
	{ "rfc4648 foobar",	IN("foobar"),	"Zm9vYmFy",	"Zm9vYmFy" },
	{ "62 four times",	IN("\xfb\xef\xbe"), "++++",	"----" },
	{ "63 four times",	IN("\xff\xff\xff"), "////",	"____" },
	{ "62 63 short",	IN("\xfb\xff"),	"+/8=",		"-_8" },
	{ "zero bytes",		IN("\0\0\0\0"),	"AAAAAA==",	"AAAAAA" },
	{ "rfc7617 utf-8",	IN("test:123\xc2\xa3"), "dGVzdDoxMjPCow==",
	    "dGVzdDoxMjPCow" },
};

START_TEST(encode_matches_known_vectors)
{
	const struct vec_case *c = &vec_cases[_i];
	char out[64];
	size_t slen = strlen(c->std), ulen = strlen(c->url);

	ck_assert_uint_eq(base64_encoded_len(c->len), slen);
	ck_assert_int_eq(encode_guarded(base64_encode, c->in, c->len,
	    slen + 1, out), (int)slen);
	ck_assert_msg(strcmp(out, c->std) == 0, "%s: \"%s\", not \"%s\"",
	    c->name, out, c->std);
	ck_assert_int_eq(encode_guarded(base64url_encode, c->in, c->len,
	    ulen + 1, out), (int)ulen);
	ck_assert_msg(strcmp(out, c->url) == 0, "%s: url \"%s\", not \"%s\"",
	    c->name, out, c->url);
}
END_TEST

START_TEST(decode_matches_known_vectors)
{
	const struct vec_case *c = &vec_cases[_i];
	unsigned char out[64];

	ck_assert_int_eq(decode_guarded(base64_decode, c->std,
	    strlen(c->std), c->len, out), (ssize_t)c->len);
	ck_assert_msg(memcmp(out, c->in, c->len) == 0, "%s differs",
	    c->name);
	ck_assert_int_eq(decode_guarded(base64url_decode, c->url,
	    strlen(c->url), c->len, out), (ssize_t)c->len);
	ck_assert_msg(memcmp(out, c->in, c->len) == 0, "%s: url differs",
	    c->name);
}
END_TEST

/*
 * Room and lengths
 */

START_TEST(encoded_len_is_four_per_started_triple)
{
	static const size_t want[] = { 0, 4, 4, 4, 8, 8, 8, 12 };

	for (size_t n = 0; n < NELEM(want); n++)
		ck_assert_uint_eq(base64_encoded_len(n), want[n]);
	ck_assert_uint_eq(base64_encoded_len(SIZE_MAX / 4 * 3),
	    SIZE_MAX / 4 * 4);
	ck_assert_uint_eq(base64_encoded_len(SIZE_MAX / 4 * 3 + 1), SIZE_MAX);
	ck_assert_uint_eq(base64_encoded_len(SIZE_MAX), SIZE_MAX);
	ck_assert_uint_eq(base64_encoded_len(SIZE_MAX - 2), SIZE_MAX);
}
END_TEST

/* For each length, exactly the text and its NUL fit; one byte less not. */
START_TEST(encode_needs_room_for_text_and_nul)
{
	static const char in[] = "abcdefgh";
	char out[32];

	for (size_t len = 0; len < sizeof(in); len++) {
		size_t slen = base64_encoded_len(len);
		size_t ulen = len / 3 * 4 + (len % 3 > 0 ? len % 3 + 1 : 0);

		ck_assert_int_eq(encode_guarded(base64_encode, in, len,
		    slen + 1, out), (int)slen);
		ck_assert_int_eq(encode_guarded(base64_encode, in, len, slen,
		    out), -1);
		ck_assert_int_eq(encode_guarded(base64url_encode, in, len,
		    ulen + 1, out), (int)ulen);
		ck_assert_int_eq(encode_guarded(base64url_encode, in, len,
		    ulen, out), -1);
		/* The padded need is always enough for base64url. */
		ck_assert_int_eq(encode_guarded(base64url_encode, in, len,
		    slen + 1, out), (int)ulen);
	}
	ck_assert_int_eq(base64_encode(in, 0, NULL, 0), -1);
	ck_assert_int_eq(base64url_encode(NULL, 0, NULL, 0), -1);
}
END_TEST

START_TEST(encode_refuses_lengths_past_int)
{
	static const char in[] = "abc";
	char out[8] = "xxxxxxx";

	/* Refused before any byte of in is read. */
	ck_assert_int_eq(base64_encode(in, SIZE_MAX, out, sizeof(out)), -1);
	ck_assert_str_eq(out, "");
	memcpy(out, "xxxxxxx", 8);
	ck_assert_int_eq(base64url_encode(in, SIZE_MAX, out, sizeof(out)),
	    -1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(base64_encode(in, (size_t)INT_MAX, out, SIZE_MAX),
	    -1);
}
END_TEST

START_TEST(encode_and_decode_take_null_with_zero_length)
{
	char out[1] = { 'x' };

	ck_assert_int_eq(base64_encode(NULL, 0, out, 1), 0);
	ck_assert_int_eq(out[0], '\0');
	out[0] = 'x';
	ck_assert_int_eq(base64url_encode(NULL, 0, out, 1), 0);
	ck_assert_int_eq(out[0], '\0');
	ck_assert_int_eq(base64_decode(NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(base64url_decode(NULL, 0, NULL, 0), 0);
}
END_TEST

/* Too small a cap fails before a byte is written. */
START_TEST(decode_checks_cap_before_writing)
{
	unsigned char out[8];

	for (size_t cap = 0; cap < 6; cap++) {
		ck_assert_int_eq(decode_guarded(base64_decode, "Zm9vYmFy", 8,
		    cap, out), -1);
		for (size_t i = 0; i < cap; i++)
			ck_assert_uint_eq(out[i], 0xa5);
		ck_assert_int_eq(decode_guarded(base64url_decode, "Zm9vYmE",
		    7, cap > 4 ? 4 : cap, out), -1);
	}
	ck_assert_int_eq(decode_guarded(base64_decode, "Zm9vYmFy", 8, 6,
	    out), 6);
	ck_assert_int_eq(decode_guarded(base64_decode, "Zm9vYg==", 8, 4,
	    out), 4);
	ck_assert_int_eq(decode_guarded(base64url_decode, "Zm9vYg", 6, 4,
	    out), 4);
	ck_assert_int_eq(decode_guarded(base64url_decode, "Zm9vYg", 6, 3,
	    out), -1);
}
END_TEST

/*
 * Refusals: anything but canonical text in the decoder's own alphabet.
 */

struct bad_case {
	const char	*name;
	const char	*in;
	size_t		 len;
};

static const struct bad_case std_bad_cases[] = {
	{ "length 1",			IN("Z") },
	{ "length 2 unpadded",		IN("Zg") },
	{ "length 3 unpadded",		IN("Zm8") },
	{ "one pad short",		IN("Zg=") },
	{ "bits after 1 byte",		IN("Zh==") },
	{ "bits after 2 bytes",		IN("Zm9=") },
	{ "three pads",			IN("Z===") },
	{ "only pads",			IN("====") },
	{ "pad inside",			IN("Zg==Zm9v") },
	{ "pad first",			IN("=Zm9") },
	{ "pad in middle",		IN("Zm=v") },
	{ "extra pad",			IN("Zm9vZg===") },
	{ "space inside",		IN("Zm9v Zm9v") },
	{ "space before",		IN(" Zm9") },
	{ "space after",		IN("Zm9 ") },
	{ "newline",			IN("Zm9v\nZm9v") },
	{ "CR LF",			IN("Zm9v\r\n") },
	{ "tab",			IN("Zm9\t") },
	{ "NUL",			IN("Zm9\0") },
	{ "url 62",			IN("Zm-v") },
	{ "url 63",			IN("Zm_v") },
	{ "high byte",			IN("Zm9\xc3") },
	{ "DEL",			IN("Zm9\x7f") },
	{ "dot",			IN("Zm9.") },
};

static const struct bad_case url_bad_cases[] = {
	{ "length 1",			IN("Z") },
	{ "length 5",			IN("Zm9vY") },
	{ "padded 1",			IN("Zg==") },
	{ "padded 2",			IN("Zm8=") },
	{ "pad alone",			IN("Zm9v=") },
	{ "bits after 1 byte",		IN("Zh") },
	{ "bits after 2 bytes",		IN("Zm9") },
	{ "std 62",			IN("Zm+v") },
	{ "std 63",			IN("Zm/v") },
	{ "space",			IN("Zm9v Zg") },
	{ "newline",			IN("Zm9v\n") },
	{ "NUL",			IN("Zm\0v") },
	{ "high byte",			IN("\xff\xff") },
	{ "tilde",			IN("Zm9~") },
};

START_TEST(decode_refuses_noncanonical)
{
	const struct bad_case *c = &std_bad_cases[_i];
	unsigned char out[16];

	ck_assert_msg(decode_guarded(base64_decode, c->in, c->len,
	    sizeof(out), out) == -1, "%s: accepted", c->name);
}
END_TEST

START_TEST(url_decode_refuses_noncanonical)
{
	const struct bad_case *c = &url_bad_cases[_i];
	unsigned char out[16];

	ck_assert_msg(decode_guarded(base64url_decode, c->in, c->len,
	    sizeof(out), out) == -1, "%s: accepted", c->name);
}
END_TEST

/*
 * Every byte as the first character of a quantum: accepted exactly when
 * it is in the alphabet, and then with its value from the RFC's table.
 */
static void
check_every_char(ssize_t (*dec)(const char *, size_t, void *, size_t),
    const char *alphabet, const char *tail)
{
	for (int c = 0; c < 256; c++) {
		char text[4] = { (char)c, tail[0], tail[1], tail[2] };
		const char *at = c != 0 ? memchr(alphabet, c, 64) : NULL;
		unsigned char out[3];
		ssize_t n = dec(text, sizeof(text), out, sizeof(out));

		if (at == NULL) {
			ck_assert_msg(n == -1, "0x%02x accepted", c);
			continue;
		}
		ck_assert_msg(n == 3, "0x%02x refused", c);
		ck_assert_uint_eq(out[0] >> 2, (unsigned)(at - alphabet));
	}
}

START_TEST(decode_maps_every_character)
{
	check_every_char(base64_decode, std_alphabet, "AAA");
	check_every_char(base64url_decode, url_alphabet, "AAA");
}
END_TEST

/* And every value encodes to its character, in each position. */
START_TEST(encode_maps_every_value)
{
	for (unsigned v = 0; v < 64; v++) {
		/* v in the first, second, third and fourth sextets. */
		unsigned char in[3] = {
			(unsigned char)(v << 2 | v >> 4),
			(unsigned char)((v & 0xf) << 4 | v >> 2),
			(unsigned char)((v & 0x3) << 6 | v),
		};
		char want[5], out[5];

		memset(want, std_alphabet[v], 4);
		want[4] = '\0';
		ck_assert_int_eq(base64_encode(in, 3, out, sizeof(out)), 4);
		ck_assert_str_eq(out, want);
		memset(want, url_alphabet[v], 4);
		ck_assert_int_eq(base64url_encode(in, 3, out, sizeof(out)), 4);
		ck_assert_str_eq(out, want);
	}
}
END_TEST

/*
 * Canonical form: of all final quanta with one or two bytes, exactly
 * those with zero bits after the data are accepted, and they re-encode
 * to themselves.
 */
static void
check_final_quanta(int (*enc)(const void *, size_t, char *, size_t),
    ssize_t (*dec)(const char *, size_t, void *, size_t),
    const char *alphabet, bool pad)
{
	for (size_t i = 0; i < 64 * 64 * 64; i++) {
		char text[5] = { alphabet[i & 63], alphabet[i >> 6 & 63],
		    alphabet[i >> 12 & 63], pad ? '=' : '\0', '\0' };
		size_t len = pad ? 4 : 3;
		unsigned char out[2];
		char again[5];
		ssize_t n = dec(text, len, out, sizeof(out));

		ck_assert_int_eq(n, (i >> 12 & 3) == 0 ? 2 : -1);
		if (n == 2) {
			ck_assert_int_eq(enc(out, 2, again, sizeof(again)),
			    (int)len);
			ck_assert_str_eq(again, text);
		}
		if (i >= 64 * 64)
			continue;
		/* Two characters: one byte, four bits left over. */
		text[2] = pad ? '=' : '\0';
		len = pad ? 4 : 2;
		n = dec(text, len, out, sizeof(out));
		ck_assert_int_eq(n, (i >> 6 & 15) == 0 ? 1 : -1);
	}
}

START_TEST(decode_accepts_only_zero_trailing_bits)
{
	check_final_quanta(base64_encode, base64_decode, std_alphabet, true);
	check_final_quanta(base64url_encode, base64url_decode, url_alphabet,
	    false);
}
END_TEST

/*
 * Round trips: every length up to RT_MAX, every byte value, both
 * alphabets, through guarded buffers of exactly the room needed.
 */
static void
round_trip(int (*enc)(const void *, size_t, char *, size_t),
    ssize_t (*dec)(const char *, size_t, void *, size_t), size_t len,
    unsigned seed)
{
	static unsigned char raw[RT_MAX], back[RT_MAX + 1];
	static char text[RT_MAX / 3 * 4 + 8];
	size_t need = base64_encoded_len(len) + 1;
	int n;

	fill_bytes(raw, len, seed);
	n = encode_guarded(enc, raw, len, need, text);
	ck_assert_int_ge(n, 0);
	ck_assert_uint_eq(strlen(text), (size_t)n);
	ck_assert_int_eq(decode_guarded(dec, text, (size_t)n, len, back),
	    (ssize_t)len);
	ck_assert_msg(memcmp(raw, back, len) == 0, "%zu bytes differ", len);
}

START_TEST(round_trips_every_length)
{
	for (size_t len = 0; len <= RT_MAX; len++) {
		round_trip(base64_encode, base64_decode, len, (unsigned)len);
		round_trip(base64url_encode, base64url_decode, len,
		    (unsigned)len + 7);
	}
}
END_TEST

START_TEST(round_trips_every_byte_value)
{
	unsigned char raw[256 + 2], back[sizeof(raw)];
	char text[4 * sizeof(raw) / 3 + 8];

	for (size_t shift = 0; shift < 3; shift++) {
		size_t len = 256 + shift;
		int n;

		for (size_t i = 0; i < len; i++)
			raw[i] = (unsigned char)(i - shift);
		n = base64_encode(raw, len, text, sizeof(text));
		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(base64_decode(text, (size_t)n, back,
		    sizeof(back)), (ssize_t)len);
		ck_assert(memcmp(raw, back, len) == 0);
		n = base64url_encode(raw, len, text, sizeof(text));
		ck_assert_int_gt(n, 0);
		ck_assert_ptr_null(memchr(text, '=', (size_t)n));
		ck_assert_int_eq(base64url_decode(text, (size_t)n, back,
		    sizeof(back)), (ssize_t)len);
		ck_assert(memcmp(raw, back, len) == 0);
	}
}
END_TEST

static Suite *
base64_suite(void)
{
	Suite *s = suite_create("base64");
	TCase *tc;

	tc = tcase_create("vectors");
	tcase_add_loop_test(tc, encode_matches_known_vectors, 0,
	    NELEM(vec_cases));
	tcase_add_loop_test(tc, decode_matches_known_vectors, 0,
	    NELEM(vec_cases));
	tcase_add_test(tc, encode_maps_every_value);
	tcase_add_test(tc, decode_maps_every_character);
	suite_add_tcase(s, tc);

	tc = tcase_create("room");
	tcase_add_test(tc, encoded_len_is_four_per_started_triple);
	tcase_add_test(tc, encode_needs_room_for_text_and_nul);
	tcase_add_test(tc, encode_refuses_lengths_past_int);
	tcase_add_test(tc, encode_and_decode_take_null_with_zero_length);
	tcase_add_test(tc, decode_checks_cap_before_writing);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_add_loop_test(tc, decode_refuses_noncanonical, 0,
	    NELEM(std_bad_cases));
	tcase_add_loop_test(tc, url_decode_refuses_noncanonical, 0,
	    NELEM(url_bad_cases));
	tcase_add_test(tc, decode_accepts_only_zero_trailing_bits);
	/* 2 x 262144 quanta, under ASan too. */
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("round trips");
	tcase_add_test(tc, round_trips_every_length);
	tcase_add_test(tc, round_trips_every_byte_value);
	/* 602 lengths, each through four guarded mappings, under ASan. */
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(base64_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
