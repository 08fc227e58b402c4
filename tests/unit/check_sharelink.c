/*
 * check_sharelink.c - unit tests for SHA-256, HMAC-SHA256 and the
 * capability tokens built on them.
 *
 * The hash vectors are FIPS 180-4's examples and RFC 4231's test cases
 * 1-7; the token vectors were computed by an independent reference (a few
 * lines of Python: struct.pack, hmac, base64.urlsafe_b64encode) from the
 * format in sharelink.h.  Tokens handed to sharelink_verify() go through
 * tu_guarded(), which places them right before a PROT_NONE page, so a
 * read past len crashes the test even without ASan.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sha256.h"
#include "sharelink.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define WHY_CAP		256

/*
 * Helpers
 */

/* Lowercase hex of p[0..len) into out (2 * len + 1 bytes). */
static const char *
hex(const uint8_t *p, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * len] = '\0';
	return out;
}

/* The test key: bytes 0x00 to 0x1f. */
static void
test_key(uint8_t key[SHARELINK_KEY_LEN])
{
	for (size_t i = 0; i < SHARELINK_KEY_LEN; i++)
		key[i] = (uint8_t)i;
}

/* Fills sl from its fields; user and subject are C strings. */
static void
sl_set(struct sharelink *sl, enum sharelink_kind kind, uint64_t expires,
    uint32_t serial, const char *user, const char *subject)
{
	memset(sl, 0, sizeof(*sl));
	sl->kind = kind;
	sl->expires = expires;
	sl->serial = serial;
	sl->user_len = strlen(user);
	memcpy(sl->user, user, sl->user_len);
	sl->subject_len = strlen(subject);
	memcpy(sl->subject, subject, sl->subject_len);
}

/* sharelink_verify() on a guarded copy of t[0..len). */
static int
verify_guarded(const uint8_t *key, const char *t, size_t len,
    struct sharelink *sl)
{
	char *g = tu_guarded(t, len);
	int rc = sharelink_verify(key, g, len, sl);

	tu_guard_free(g);
	return rc;
}

/* Asserts that a and b hold the same token fields. */
static void
assert_same(const struct sharelink *a, const struct sharelink *b)
{
	ck_assert_int_eq(a->kind, b->kind);
	ck_assert_uint_eq(a->expires, b->expires);
	ck_assert_uint_eq(a->serial, b->serial);
	ck_assert_uint_eq(a->user_len, b->user_len);
	ck_assert_mem_eq(a->user, b->user, a->user_len);
	ck_assert_uint_eq(a->subject_len, b->subject_len);
	ck_assert_mem_eq(a->subject, b->subject, a->subject_len);
}

/* True when every byte of sl is zero. */
static int
all_zero(const struct sharelink *sl)
{
	const unsigned char *p = (const unsigned char *)sl;

	for (size_t i = 0; i < sizeof(*sl); i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/*
 * Makes a token from a raw payload p[0..len) with a correct tag, as a
 * holder of the key could: the way to test the parsing behind the MAC.
 * prefix is the MAC's domain string.
 */
static void
forge(const uint8_t *key, const char *prefix, const uint8_t *p, size_t len,
    char *out, size_t cap)
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	struct hmac_sha256 h;
	uint8_t tag[SHA256_LEN];
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	hmac_sha256_init(&h, key, SHARELINK_KEY_LEN);
	hmac_sha256_update(&h, prefix, strlen(prefix));
	hmac_sha256_update(&h, p, len);
	hmac_sha256_final(&h, tag);
	/* A plain bit-by-bit encoder, unlike base64.c's. */
	for (int part = 0; part < 2; part++) {
		const uint8_t *q = part == 0 ? p : tag;
		size_t n = part == 0 ? len : SHARELINK_MAC_LEN;

		for (size_t i = 0; i < n; i++) {
			acc = acc << 8 | q[i];
			for (bits += 8; bits >= 6; bits -= 6)
				out[o++] = al[(acc >> (bits - 6)) & 0x3f];
		}
		if (bits > 0)
			out[o++] = al[(acc << (6 - bits)) & 0x3f];
		bits = 0;
		acc = 0;
		if (part == 0)
			out[o++] = '.';
		ck_assert_uint_lt(o, cap);
	}
	out[o] = '\0';
}

/*
 * SHA-256
 */

static const struct {
	const char	*in;
	const char	*digest;
} sha_cases[] = {
	{ "",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	/* FIPS 180-4 examples (NIST's SHA256.pdf). */
	{ "abc",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
};

START_TEST(sha256_matches_fips_examples)
{
	uint8_t d[SHA256_LEN];
	char h[2 * SHA256_LEN + 1];

	sha256(sha_cases[_i].in, strlen(sha_cases[_i].in), d);
	ck_assert_msg(strcmp(hex(d, sizeof(d), h), sha_cases[_i].digest) == 0,
	    "sha256(\"%s\") = %s, want %s", sha_cases[_i].in, h,
	    sha_cases[_i].digest);
}
END_TEST

START_TEST(sha256_hashes_a_million_a)
{
	struct sha256 c;
	char chunk[1000];
	uint8_t d[SHA256_LEN];
	char h[2 * SHA256_LEN + 1];

	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&c);
	for (int i = 0; i < 1000; i++)
		sha256_update(&c, chunk, sizeof(chunk));
	sha256_final(&c, d);
	ck_assert_str_eq(hex(d, sizeof(d), h),
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/*
 * Every split of every message up to 3 blocks long gives the one-shot
 * digest: exercises the partial-block buffer and both padding cases
 * (55 and 56 bytes in the last block).
 */
START_TEST(sha256_update_splits_do_not_matter)
{
	uint8_t msg[3 * SHA256_BLOCK_LEN], one[SHA256_LEN], two[SHA256_LEN];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(msg); len++) {
		sha256(msg, len, one);
		for (size_t cut = 0; cut <= len; cut++) {
			struct sha256 c;

			sha256_init(&c);
			sha256_update(&c, msg, cut);
			sha256_update(&c, NULL, 0);
			sha256_update(&c, msg + cut, len - cut);
			sha256_final(&c, two);
			ck_assert_mem_eq(one, two, SHA256_LEN);
		}
	}
}
END_TEST

/*
 * HMAC-SHA256
 */

static const struct {
	uint8_t		 key_byte;	/* repeated key_len times, or 0 */
	const char	*key;		/* or this, when key_byte is 0 */
	size_t		 key_len;
	uint8_t		 msg_byte;	/* repeated msg_len times, or 0 */
	const char	*msg;
	size_t		 msg_len;
	const char	*mac;		/* hex; case 5 is truncated */
} hmac_cases[] = {
	{ 0x0b, NULL, 20, 0, "Hi There", 8,
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ 0, "Jefe", 4, 0, "what do ya want for nothing?", 28,
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ 0xaa, NULL, 20, 0xdd, NULL, 50,
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ 0, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
	  "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19", 25, 0xcd, NULL, 50,
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ 0x0c, NULL, 20, 0, "Test With Truncation", 20,
	  "a3b6167473100ee06e0c796c2955552b" },
	{ 0xaa, NULL, 131, 0,
	  "Test Using Larger Than Block-Size Key - Hash Key First", 54,
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ 0xaa, NULL, 131, 0,
	  "This is a test using a larger than block-size key and a larger "
	  "than block-size data. The key needs to be hashed before being "
	  "used by the HMAC algorithm.", 152,
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

/* RFC 4231 §4.2-4.8, one-shot and fed one byte at a time. */
START_TEST(hmac_matches_rfc4231)
{
	uint8_t key[131], msg[152], mac[SHA256_LEN], mac2[SHA256_LEN];
	char h[2 * SHA256_LEN + 1];
	struct hmac_sha256 c;
	size_t want = strlen(hmac_cases[_i].mac) / 2;
	size_t klen = hmac_cases[_i].key_len, mlen = hmac_cases[_i].msg_len;

	if (hmac_cases[_i].key_byte != 0)
		memset(key, hmac_cases[_i].key_byte, klen);
	else {
		ck_assert_uint_eq(strlen(hmac_cases[_i].key), klen);
		memcpy(key, hmac_cases[_i].key, klen);
	}
	if (hmac_cases[_i].msg_byte != 0)
		memset(msg, hmac_cases[_i].msg_byte, mlen);
	else {
		ck_assert_uint_eq(strlen(hmac_cases[_i].msg), mlen);
		memcpy(msg, hmac_cases[_i].msg, mlen);
	}

	hmac_sha256(key, klen, msg, mlen, mac);
	ck_assert_msg(strcmp(hex(mac, want, h), hmac_cases[_i].mac) == 0,
	    "RFC 4231 case %d: %s, want %s", _i + 1, h, hmac_cases[_i].mac);

	hmac_sha256_init(&c, key, klen);
	for (size_t i = 0; i < mlen; i++)
		hmac_sha256_update(&c, msg + i, 1);
	hmac_sha256_final(&c, mac2);
	ck_assert_mem_eq(mac, mac2, SHA256_LEN);
}
END_TEST

/* An empty key is the same as 64 zero bytes (RFC 2104 §2 padding). */
START_TEST(hmac_pads_short_keys_with_zeros)
{
	uint8_t zeros[SHA256_BLOCK_LEN] = { 0 }, a[SHA256_LEN], b[SHA256_LEN];

	hmac_sha256(NULL, 0, "m", 1, a);
	hmac_sha256(zeros, sizeof(zeros), "m", 1, b);
	ck_assert_mem_eq(a, b, SHA256_LEN);
}
END_TEST

/*
 * Tokens: vectors and round trips
 */

static const struct {
	enum sharelink_kind kind;
	uint64_t	 expires;
	uint32_t	 serial;
	const char	*user;
	const char	*subject;
	const char	*token;
} tok_cases[] = {
	{ SL_READ, 1767225600, 7, "alice", "photos/2026/summer",
	  "AQAAAABpVbkAAAAABwVhbGljZQAScGhvdG9zLzIwMjYvc3VtbWVy"
	  ".nZY4vOnwECHvOlL8kESlQA" },
	{ SL_SESSION, UINT64_MAX, UINT32_MAX, "", "bob",
	  "A________________wAAA2JvYg.iyGyJfd0zgPf6o9Xt4VaZw" },
	{ SL_FILE, 1, 0, "carol", "docs/a.b/c d.pdf",
	  "BAAAAAAAAAABAAAAAAVjYXJvbAAQZG9jcy9hLmIvYyBkLnBkZg"
	  ".o1U1VgRdRYMVoex-aAy_5w" },
	{ SL_DROP, 1767225600, 1, "dave", "",
	  "AgAAAABpVbkAAAAAAQRkYXZlAAA.ltNIManzpaTitKTB7062CQ" },
};

START_TEST(make_matches_reference_tokens)
{
	uint8_t key[SHARELINK_KEY_LEN];
	struct sharelink sl, got;
	char out[SHARELINK_TOKEN_MAX];
	const char *want = tok_cases[_i].token;

	test_key(key);
	sl_set(&sl, tok_cases[_i].kind, tok_cases[_i].expires,
	    tok_cases[_i].serial, tok_cases[_i].user, tok_cases[_i].subject);
	ck_assert_uint_eq(sharelink_token_len(&sl), strlen(want));
	ck_assert_int_eq(sharelink_make(key, &sl, out, sizeof(out)), 0);
	ck_assert_str_eq(out, want);

	memset(&got, 0xa5, sizeof(got));
	ck_assert_int_eq(verify_guarded(key, want, strlen(want), &got), 0);
	assert_same(&sl, &got);
	/* Both strings come back NUL-terminated. */
	ck_assert_str_eq(got.user, tok_cases[_i].user);
	ck_assert_str_eq(got.subject, tok_cases[_i].subject);
}
END_TEST

/* Each kind, with a subject full of would-be separators. */
START_TEST(round_trips_every_kind)
{
	static const enum sharelink_kind kinds[] = {
		SL_READ, SL_DROP, SL_SESSION, SL_FILE,
	};
	uint8_t key[SHARELINK_KEY_LEN];
	struct sharelink sl, got;
	char out[SHARELINK_TOKEN_LONGEST];

	test_key(key);
	sl_set(&sl, kinds[_i], 1700000000 + (uint64_t)_i, 42 + (uint32_t)_i,
	    "u.s\xc3\xa9r", "a/./b/../c.d%2f\x01\x7f\xff|\n\"");
	ck_assert_int_eq(sharelink_make(key, &sl, out, sizeof(out)), 0);
	ck_assert_ptr_null(strchr(out, '='));
	ck_assert_ptr_eq(strchr(out, '.'), strrchr(out, '.'));
	ck_assert_int_eq(verify_guarded(key, out, strlen(out), &got), 0);
	assert_same(&sl, &got);
}
END_TEST

/* Every user and subject length, so every base64 tail shape shows up. */
START_TEST(round_trips_all_lengths)
{
	uint8_t key[SHARELINK_KEY_LEN];
	struct sharelink sl, got;
	char out[SHARELINK_TOKEN_LONGEST];

	test_key(key);
	for (size_t u = 0; u <= SHARELINK_USER_MAX; u += 7) {
		for (size_t s = 0; s <= SHARELINK_SUBJECT_MAX; s++) {
			sl_set(&sl, SL_READ, s, (uint32_t)u, "", "");
			memset(sl.user, 'u', u);
			sl.user_len = u;
			for (size_t i = 0; i < s; i++)
				sl.subject[i] = (char)(1 + i % 255);
			sl.subject_len = s;
			ck_assert_int_eq(sharelink_make(key, &sl, out,
			    sizeof(out)), 0);
			ck_assert_uint_eq(strlen(out),
			    sharelink_token_len(&sl));
			ck_assert_int_eq(verify_guarded(key, out, strlen(out),
			    &got), 0);
			assert_same(&sl, &got);
		}
	}
}
END_TEST

START_TEST(longest_token_fits_the_documented_bound)
{
	uint8_t key[SHARELINK_KEY_LEN];
	struct sharelink sl, got;
	char out[SHARELINK_TOKEN_LONGEST];

	test_key(key);
	sl_set(&sl, SL_FILE, UINT64_MAX, UINT32_MAX, "", "");
	memset(sl.user, 'x', SHARELINK_USER_MAX);
	sl.user_len = SHARELINK_USER_MAX;
	memset(sl.subject, 'y', SHARELINK_SUBJECT_MAX);
	sl.subject_len = SHARELINK_SUBJECT_MAX;
	ck_assert_uint_eq(sharelink_token_len(&sl),
	    SHARELINK_TOKEN_LONGEST - 1);
	ck_assert_int_eq(sharelink_make(key, &sl, out, sizeof(out)), 0);
	ck_assert_int_eq(verify_guarded(key, out, strlen(out), &got), 0);
	assert_same(&sl, &got);
	ck_assert_int_eq(sharelink_make(key, &sl, out, sizeof(out) - 1), -1);
	ck_assert_str_eq(out, "");
}
END_TEST

/* SHARELINK_TOKEN_MAX holds user_len + subject_len up to 62, not 63. */
START_TEST(token_max_holds_short_subjects)
{
	uint8_t key[SHARELINK_KEY_LEN];
	struct sharelink sl;
	char out[SHARELINK_TOKEN_MAX];

	test_key(key);
	sl_set(&sl, SL_SESSION, 1, 1, "", "");
	memset(sl.user, 'u', 10);
	sl.user_len = 10;
	memset(sl.subject, 's', 53);
	sl.subject_len = 52;
	ck_assert_int_eq(sharelink_make(key, &sl, out, sizeof(out)), 0);
	sl.subject_len = 53;
	ck_assert_uint_ge(sharelink_token_len(&sl), SHARELINK_TOKEN_MAX);
	ck_assert_int_eq(sharelink_make(key, &sl, out, sizeof(out)), -1);
	ck_assert_str_eq(out, "");
}
END_TEST

/* cap must exceed the length; anything less leaves "" and fails. */
START_TEST(make_checks_cap)
{
	uint8_t key[SHARELINK_KEY_LEN];
	struct sharelink sl;
	char *out, fill[SHARELINK_TOKEN_MAX];
	size_t need;

	test_key(key);
	sl_set(&sl, SL_READ, 5, 6, "ann", "x/y");
	need = sharelink_token_len(&sl);
	ck_assert_uint_gt(need, 0);
	memset(fill, 'z', sizeof(fill));
	ck_assert_uint_lt(need, sizeof(fill));
	for (size_t cap = 0; cap <= need + 1; cap++) {
		/* A guarded buffer of exactly cap bytes catches overruns. */
		out = tu_guarded(fill, cap);
		ck_assert_int_eq(sharelink_make(key, &sl, out, cap),
		    cap > need ? 0 : -1);
		if (cap > 0)
			ck_assert_uint_eq(strlen(out), cap > need ? need : 0);
		tu_guard_free(out);
	}
	ck_assert_int_eq(sharelink_make(key, &sl, NULL, 0), -1);
}
END_TEST

START_TEST(make_rejects_invalid_fields)
{
	uint8_t key[SHARELINK_KEY_LEN];
	struct sharelink sl;
	char out[SHARELINK_TOKEN_LONGEST];

	test_key(key);
	sl_set(&sl, SL_READ, 1, 1, "ann", "x");
	for (int k = -1; k <= 6; k++) {
		sl.kind = (enum sharelink_kind)k;
		ck_assert_int_eq(sharelink_make(key, &sl, out, sizeof(out)),
		    k >= 1 && k <= 4 ? 0 : -1);
	}
	sl_set(&sl, SL_READ, 1, 1, "ann", "x");
	sl.user_len = SHARELINK_USER_MAX + 1;
	ck_assert_uint_eq(sharelink_token_len(&sl), 0);
	ck_assert_int_eq(sharelink_make(key, &sl, out, sizeof(out)), -1);
	ck_assert_str_eq(out, "");
	sl_set(&sl, SL_READ, 1, 1, "ann", "x");
	sl.subject_len = SHARELINK_SUBJECT_MAX + 1;
	ck_assert_int_eq(sharelink_make(key, &sl, out, sizeof(out)), -1);
	/* A NUL inside would cut the name short for a C-string reader. */
	sl_set(&sl, SL_READ, 1, 1, "ann", "x");
	sl.subject_len = 2;
	ck_assert_int_eq(sharelink_make(key, &sl, out, sizeof(out)), -1);
	sl_set(&sl, SL_READ, 1, 1, "ann", "x");
	sl.user_len = 4;
	ck_assert_int_eq(sharelink_make(key, &sl, out, sizeof(out)), -1);
}
END_TEST

/*
 * Tokens: tampering
 */

/*
 * Every byte of every reference token, set to every other value, fails
 * and leaves *sl zeroed.  The tokens' base64 tails have 2, 3 and 0 spare
 * characters, so changes that touch only the unused low bits are tried.
 */
START_TEST(verify_rejects_every_single_byte_change)
{
	uint8_t key[SHARELINK_KEY_LEN];
	struct sharelink got;
	const char *t = tok_cases[_i].token;
	size_t len = strlen(t);
	char *g = tu_guarded(t, len);

	test_key(key);
	for (size_t i = 0; i < len; i++) {
		char orig = g[i];

		for (int v = 0; v < 256; v++) {
			if ((char)v == orig)
				continue;
			g[i] = (char)v;
			memset(&got, 0xa5, sizeof(got));
			ck_assert_msg(sharelink_verify(key, g, len, &got) == -1,
			    "byte %zu set to 0x%02x accepted", i, v);
			ck_assert(all_zero(&got));
		}
		g[i] = orig;
	}
	ck_assert_int_eq(sharelink_verify(key, g, len, &got), 0);
	tu_guard_free(g);
}
END_TEST

/* Every prefix, every suffix and one byte more all fail. */
START_TEST(verify_rejects_truncation_and_extension)
{
	uint8_t key[SHARELINK_KEY_LEN];
	struct sharelink got;
	const char *t = tok_cases[_i].token;
	size_t len = strlen(t);
	char longer[SHARELINK_TOKEN_MAX + 1];

	test_key(key);
	for (size_t n = 0; n < len; n++) {
		ck_assert_int_eq(verify_guarded(key, t, n, &got), -1);
		ck_assert_int_eq(verify_guarded(key, t + len - n, n, &got), -1);
	}
	memcpy(longer, t, len);
	for (int v = 0; v < 256; v++) {
		longer[len] = (char)v;
		ck_assert_int_eq(verify_guarded(key, longer, len + 1, &got),
		    -1);
		/* Nor in front. */
		longer[0] = (char)v;
		memcpy(longer + 1, t, len);
		ck_assert_int_eq(verify_guarded(key, longer, len + 1, &got),
		    -1);
		memcpy(longer, t, len);
	}
	/* Padding is not part of the format. */
	memcpy(longer, t, len);
	memcpy(longer + len, "==", 2);
	ck_assert_int_eq(verify_guarded(key, longer, len + 2, &got), -1);
	ck_assert_int_eq(verify_guarded(key, NULL, 0, &got), -1);
}
END_TEST

/* A change of any single bit of the key fails. */
START_TEST(verify_rejects_wrong_key)
{
	uint8_t key[SHARELINK_KEY_LEN];
	struct sharelink got;
	const char *t = tok_cases[0].token;

	test_key(key);
	for (size_t bit = 0; bit < 8 * SHARELINK_KEY_LEN; bit++) {
		key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_int_eq(verify_guarded(key, t, strlen(t), &got), -1);
		key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	ck_assert_int_eq(verify_guarded(key, t, strlen(t), &got), 0);
	memset(key, 0, sizeof(key));
	ck_assert_int_eq(verify_guarded(key, t, strlen(t), &got), -1);
}
END_TEST

/*
 * Payloads with a correct tag that still must fail: the parse behind the
 * MAC is strict too, and the MAC is bound to the "lanhttpd-v1" domain.
 */
static const struct {
	const char	*name;
	const char	*payload;
	size_t		 len;
	const char	*prefix;
	int		 rc;
} forged[] = {
#define P(s)	s, sizeof(s) - 1
	{ "valid", P("\x01" "\0\0\0\0\0\0\0\x09" "\0\0\0\x02" "\x01" "u"
	    "\0\x01" "s"), "lanhttpd-v1", 0 },
	{ "no domain prefix", P("\x01" "\0\0\0\0\0\0\0\x09" "\0\0\0\x02"
	    "\x01" "u" "\0\x01" "s"), "", -1 },
	{ "other version", P("\x01" "\0\0\0\0\0\0\0\x09" "\0\0\0\x02"
	    "\x01" "u" "\0\x01" "s"), "lanhttpd-v2", -1 },
	{ "kind 0", P("\x00" "\0\0\0\0\0\0\0\x09" "\0\0\0\x02" "\x01" "u"
	    "\0\x01" "s"), "lanhttpd-v1", -1 },
	{ "kind 5", P("\x05" "\0\0\0\0\0\0\0\x09" "\0\0\0\x02" "\x01" "u"
	    "\0\x01" "s"), "lanhttpd-v1", -1 },
	{ "byte left over", P("\x01" "\0\0\0\0\0\0\0\x09" "\0\0\0\x02"
	    "\x01" "u" "\0\x01" "s!"), "lanhttpd-v1", -1 },
	{ "subject short", P("\x01" "\0\0\0\0\0\0\0\x09" "\0\0\0\x02"
	    "\x01" "u" "\0\x02" "s"), "lanhttpd-v1", -1 },
	{ "user runs over", P("\x01" "\0\0\0\0\0\0\0\x09" "\0\0\0\x02"
	    "\x05" "u" "\0\x01" "s"), "lanhttpd-v1", -1 },
	{ "user too long", P("\x01" "\0\0\0\0\0\0\0\x09" "\0\0\0\x02"
	    "\x41" "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"
	    "uuuuuuuuuuuuuuuuu" "\0\x00"), "lanhttpd-v1", -1 },
	{ "NUL in subject", P("\x01" "\0\0\0\0\0\0\0\x09" "\0\0\0\x02"
	    "\x01" "u" "\0\x02" "s\0"), "lanhttpd-v1", -1 },
	{ "NUL in user", P("\x01" "\0\0\0\0\0\0\0\x09" "\0\0\0\x02"
	    "\x01" "\0" "\0\x01" "s"), "lanhttpd-v1", -1 },
	{ "fixed part short", P("\x01" "\0\0\0\0\0\0\0\x09" "\0\0\0\x02"
	    "\x00" "\0"), "lanhttpd-v1", -1 },
#undef P
};

START_TEST(verify_parses_strictly_behind_the_mac)
{
	uint8_t key[SHARELINK_KEY_LEN];
	struct sharelink got;
	char t[SHARELINK_TOKEN_LONGEST];

	test_key(key);
	forge(key, forged[_i].prefix, (const uint8_t *)forged[_i].payload,
	    forged[_i].len, t, sizeof(t));
	ck_assert_msg(verify_guarded(key, t, strlen(t), &got) == forged[_i].rc,
	    "%s: %s", forged[_i].name, t);
	if (forged[_i].rc == 0) {
		ck_assert_int_eq(got.kind, SL_READ);
		ck_assert_uint_eq(got.expires, 9);
		ck_assert_uint_eq(got.serial, 2);
		ck_assert_str_eq(got.user, "u");
		ck_assert_str_eq(got.subject, "s");
	} else
		ck_assert(all_zero(&got));
}
END_TEST

/* The same fields under another kind give another token, never equal. */
START_TEST(kinds_never_share_a_token)
{
	uint8_t key[SHARELINK_KEY_LEN];
	struct sharelink sl, got;
	char a[SHARELINK_TOKEN_MAX], b[SHARELINK_TOKEN_MAX];

	test_key(key);
	for (int i = SL_READ; i <= SL_FILE; i++) {
		sl_set(&sl, (enum sharelink_kind)i, 9, 9, "same", "same");
		ck_assert_int_eq(sharelink_make(key, &sl, a, sizeof(a)), 0);
		ck_assert_int_eq(verify_guarded(key, a, strlen(a), &got), 0);
		ck_assert_int_eq(got.kind, i);
		for (int j = SL_READ; j <= SL_FILE; j++) {
			if (j == i)
				continue;
			sl.kind = (enum sharelink_kind)j;
			ck_assert_int_eq(sharelink_make(key, &sl, b,
			    sizeof(b)), 0);
			ck_assert_str_ne(a, b);
			/* Their tags are unrelated: swap them, it fails. */
			memcpy(strchr(b, '.'), strchr(a, '.'), 24);
			ck_assert_int_eq(verify_guarded(key, b, strlen(b),
			    &got), -1);
		}
	}
}
END_TEST

/*
 * Key file
 */

static char *kdir;

static void
key_setup(void)
{
	kdir = tu_mkdtemp();
}

static void
key_teardown(void)
{
	tu_rmtree(kdir);
	kdir = NULL;
}

/*
 * kdir/name in a static buffer, one of two used in turn, so that two
 * results can be arguments of one call.
 */
static const char *
kpath(const char *name)
{
	static char p[2][4096];
	static int turn;
	char *b = p[turn];

	turn = !turn;
	ck_assert_int_lt(snprintf(b, sizeof(p[0]), "%s/%s", kdir, name),
	    (int)sizeof(p[0]));
	return b;
}

START_TEST(key_load_creates_a_0600_key_and_reloads_it)
{
	uint8_t a[SHARELINK_KEY_LEN], b[SHARELINK_KEY_LEN];
	uint8_t zero[SHARELINK_KEY_LEN] = { 0 };
	char why[WHY_CAP] = "";
	struct stat st;
	mode_t old = umask(0277);

	ck_assert_int_eq(sharelink_key_load(kpath("key"), a, why, sizeof(why)),
	    0);
	umask(old);
	ck_assert_int_eq(stat(kpath("key"), &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_size, SHARELINK_KEY_LEN);
	ck_assert_mem_ne(a, zero, sizeof(a));
	ck_assert_int_eq(sharelink_key_load(kpath("key"), b, why, sizeof(why)),
	    0);
	ck_assert_mem_eq(a, b, sizeof(a));
	/* Another file, another key. */
	ck_assert_int_eq(sharelink_key_load(kpath("key2"), b, why,
	    sizeof(why)), 0);
	ck_assert_mem_ne(a, b, sizeof(a));
}
END_TEST

/* Loads kdir/name, expecting failure with why mentioning what. */
static void
expect_refused(const char *name, const char *what)
{
	uint8_t key[SHARELINK_KEY_LEN], zero[SHARELINK_KEY_LEN] = { 0 };
	char why[WHY_CAP] = "";

	memset(key, 0x5a, sizeof(key));
	ck_assert_int_eq(sharelink_key_load(kpath(name), key, why,
	    sizeof(why)), -1);
	ck_assert_mem_eq(key, zero, sizeof(key));
	ck_assert_msg(strstr(why, what) != NULL, "why \"%s\" lacks \"%s\"",
	    why, what);
}

/* Writes a key file kdir/name of len bytes with the given mode. */
static void
put_key(const char *name, size_t len, mode_t mode)
{
	uint8_t bytes[64];

	memset(bytes, 0x11, sizeof(bytes));
	tu_write_file(kdir, name, bytes, len);
	ck_assert_int_eq(chmod(kpath(name), mode), 0);
}

START_TEST(key_load_refuses_unsafe_files)
{
	uint8_t key[SHARELINK_KEY_LEN];
	char why[WHY_CAP];

	put_key("k644", SHARELINK_KEY_LEN, 0644);
	expect_refused("k644", "mode 0644");
	put_key("k640", SHARELINK_KEY_LEN, 0640);
	expect_refused("k640", "mode 0640");
	put_key("k604", SHARELINK_KEY_LEN, 0604);
	expect_refused("k604", "mode 0604");
	put_key("short", SHARELINK_KEY_LEN - 1, 0600);
	expect_refused("short", "31 bytes");
	put_key("long", SHARELINK_KEY_LEN + 1, 0600);
	expect_refused("long", "33 bytes");
	put_key("empty", 0, 0600);
	expect_refused("empty", "0 bytes");

	/* A symlink to a good key, and a dangling one, are refused. */
	put_key("good", SHARELINK_KEY_LEN, 0600);
	ck_assert_int_eq(symlink(kpath("good"), kpath("link")), 0);
	expect_refused("link", "symlink");
	ck_assert_int_eq(symlink(kpath("nowhere"), kpath("dangling")), 0);
	expect_refused("dangling", "symlink");
	ck_assert_int_ne(access(kpath("nowhere"), F_OK), 0);

	ck_assert_int_eq(mkdir(kpath("dir"), 0700), 0);
	expect_refused("dir", "not a regular file");
	/* A FIFO must be refused, not waited on. */
	ck_assert_int_eq(mkfifo(kpath("fifo"), 0600), 0);
	expect_refused("fifo", "not a regular file");
	expect_refused("missing/key", "cannot create");

	/* Read-only for the owner is fine, and the bytes come through. */
	put_key("k400", SHARELINK_KEY_LEN, 0400);
	ck_assert_int_eq(sharelink_key_load(kpath("k400"), key, why,
	    sizeof(why)), 0);
	ck_assert_uint_eq(key[0], 0x11);
	ck_assert_uint_eq(key[SHARELINK_KEY_LEN - 1], 0x11);
	/* why may be NULL. */
	ck_assert_int_eq(sharelink_key_load(kpath("k644"), key, NULL, 0), -1);
}
END_TEST

/* Only root can give a file away; others skip this. */
START_TEST(key_load_refuses_a_file_of_another_user)
{
	if (geteuid() != 0)
		return;
	put_key("theirs", SHARELINK_KEY_LEN, 0600);
	ck_assert_int_eq(chown(kpath("theirs"), 65534, 65534), 0);
	expect_refused("theirs", "owned by uid 65534");
}
END_TEST

static Suite *
sharelink_suite(void)
{
	Suite *s = suite_create("sharelink");
	TCase *tc;

	tc = tcase_create("sha256");
	tcase_add_loop_test(tc, sha256_matches_fips_examples, 0,
	    NELEM(sha_cases));
	tcase_add_test(tc, sha256_hashes_a_million_a);
	tcase_add_test(tc, sha256_update_splits_do_not_matter);
	tcase_add_loop_test(tc, hmac_matches_rfc4231, 0, NELEM(hmac_cases));
	tcase_add_test(tc, hmac_pads_short_keys_with_zeros);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("tokens");
	tcase_add_loop_test(tc, make_matches_reference_tokens, 0,
	    NELEM(tok_cases));
	tcase_add_loop_test(tc, round_trips_every_kind, 0, 4);
	tcase_add_test(tc, round_trips_all_lengths);
	tcase_add_test(tc, longest_token_fits_the_documented_bound);
	tcase_add_test(tc, token_max_holds_short_subjects);
	tcase_add_test(tc, make_checks_cap);
	tcase_add_test(tc, make_rejects_invalid_fields);
	tcase_add_test(tc, kinds_never_share_a_token);
	/* Thousands of guarded mappings, slower under ASan. */
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("tampering");
	tcase_add_loop_test(tc, verify_rejects_every_single_byte_change, 0,
	    NELEM(tok_cases));
	tcase_add_loop_test(tc, verify_rejects_truncation_and_extension, 0,
	    NELEM(tok_cases));
	tcase_add_test(tc, verify_rejects_wrong_key);
	tcase_add_loop_test(tc, verify_parses_strictly_behind_the_mac, 0,
	    NELEM(forged));
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("key file");
	tcase_add_checked_fixture(tc, key_setup, key_teardown);
	tcase_add_test(tc, key_load_creates_a_0600_key_and_reloads_it);
	tcase_add_test(tc, key_load_refuses_unsafe_files);
	tcase_add_test(tc, key_load_refuses_a_file_of_another_user);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sharelink_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
