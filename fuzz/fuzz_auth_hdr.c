/*
 * fuzz_auth_hdr.c - libFuzzer entry point for request credentials and
 * base64.
 *
 * The first input byte picks the function (its value modulo 5); the rest
 * is its input, copied to an exact-size heap buffer so ASan catches a read
 * past it.
 *
 *   0  auth_parse_basic: a failure is -1 or -2 and leaves the struct all
 *      zero; a success gives NUL-terminated parts within their limits, a
 *      user-id of valid UTF-8 without ':' or controls, a password without
 *      NUL, CR or LF, and "Basic " + base64(user ":" pass) parses to the
 *      same credentials.
 *   1  auth_cookie: the next byte gives the length of the cookie name
 *      (up to 15 bytes, cut at a NUL); the value found lies inside the
 *      header, and the name occurs in the header before it.
 *   2  base64: decoding is canonical (what decodes re-encodes to the same
 *      text, both alphabets), and encoding round-trips (both alphabets,
 *      with a cap picked by the next byte around the need).
 *   3  auth_user_valid: a valid name is 1..AUTH_USER_MAX bytes without
 *      ':' and not starting with '@', and is taken as a Basic user-id.
 *   4  auth_equal: agrees with memcmp() on the two halves of the input.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_hdr.h"
#include "base64.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Room for the base64 of anything the harness encodes. */
#define TEXT_CAP	(4 * (AUTH_USER_MAX + AUTH_PASS_MAX + 2) / 3 + 16)

/* A heap copy of p[0..len) of exactly len bytes (one when len is 0). */
static char *
copy(const void *p, size_t len)
{
	char *c = malloc(len > 0 ? len : 1);

	assert(c != NULL);
	if (len > 0)
		memcpy(c, p, len);
	return c;
}

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

/* Parses "Basic " + base64(user ":" pass) into *out. */
static int
parse_rebuilt(const char *user, size_t ulen, const char *pass, size_t plen,
    struct auth_basic *out)
{
	char text[AUTH_USER_MAX + 1 + AUTH_PASS_MAX];
	char hdr[6 + TEXT_CAP];
	int n;

	assert(ulen <= AUTH_USER_MAX && plen <= AUTH_PASS_MAX);
	memcpy(text, user, ulen);
	text[ulen] = ':';
	memcpy(text + ulen + 1, pass, plen);
	memcpy(hdr, "Basic ", 6);
	n = base64_encode(text, ulen + 1 + plen, hdr + 6, sizeof(hdr) - 6);
	assert(n > 0);
	return auth_parse_basic(span_make(hdr, 6 + (size_t)n), out);
}

/* Mode 0; see the top of the file. */
static void
fuzz_basic(const char *p, size_t len)
{
	struct auth_basic a, b;
	int rc = auth_parse_basic(span_make(p, len), &a);

	if (rc != 0) {
		assert(rc == AUTH_MALFORMED || rc == AUTH_NOT_BASIC);
		assert(all_zero(&a, sizeof(a)));
		return;
	}
	assert(a.user_len <= AUTH_USER_MAX && a.pass_len <= AUTH_PASS_MAX);
	assert(a.user[a.user_len] == '\0' && a.pass[a.pass_len] == '\0');
	assert(memchr(a.user, ':', a.user_len) == NULL);
	assert(memchr(a.user, '\0', a.user_len) == NULL);
	assert(memchr(a.pass, '\0', a.pass_len) == NULL);
	assert(memchr(a.pass, '\r', a.pass_len) == NULL);
	assert(memchr(a.pass, '\n', a.pass_len) == NULL);
	for (size_t i = 0; i < a.user_len;) {
		size_t n = utf8_seq_len(a.user + i, a.user_len - i);

		assert(n > 0);
		assert(n > 1 || ((unsigned char)a.user[i] >= 0x20 &&
		    a.user[i] != 0x7f));
		i += n;
	}
	assert(parse_rebuilt(a.user, a.user_len, a.pass, a.pass_len, &b) ==
	    0);
	assert(b.user_len == a.user_len && b.pass_len == a.pass_len);
	assert(memcmp(a.user, b.user, a.user_len + 1) == 0);
	assert(memcmp(a.pass, b.pass, a.pass_len + 1) == 0);
	auth_basic_wipe(&a);
	auth_basic_wipe(&b);
	assert(all_zero(&a, sizeof(a)));
}

/* Mode 1. */
static void
fuzz_cookie(const char *p, size_t len)
{
	char name[16];
	size_t nlen, hlen;
	struct span v;
	char *h;

	if (len == 0)
		return;
	nlen = (unsigned char)p[0] % sizeof(name);
	if (nlen > len - 1)
		nlen = len - 1;
	memcpy(name, p + 1, nlen);
	name[nlen] = '\0';
	nlen = strlen(name);
	hlen = len - 1 - nlen;
	h = copy(p + 1 + nlen, hlen);
	v = auth_cookie(span_make(h, hlen), name);
	if (v.p == NULL) {
		assert(v.len == 0);
	} else {
		assert(nlen > 0);
		assert(v.p >= h && v.p + v.len <= h + hlen);
		assert(memmem(h, (size_t)(v.p - h), name, nlen) != NULL);
	}
	free(h);
}

/* Decoding p[0..len) and encoding the bytes again gives p[0..len). */
static void
check_canonical(const char *p, size_t len,
    ssize_t (*dec)(const char *, size_t, void *, size_t),
    int (*enc)(const void *, size_t, char *, size_t))
{
	size_t cap = len / 4 * 3 + 3;
	unsigned char *out = malloc(cap);
	char *again;
	ssize_t n;

	assert(out != NULL);
	if ((n = dec(p, len, out, cap)) >= 0) {
		assert((size_t)n <= cap);
		again = malloc(len + 1);
		assert(again != NULL);
		assert(enc(out, (size_t)n, again, len + 1) == (int)len);
		assert(memcmp(again, p, len) == 0 && again[len] == '\0');
		free(again);
	}
	free(out);
}

/* Encoding p[0..len) into a cap near the need, then decoding, round-trips. */
static void
check_round_trip(const char *p, size_t len, unsigned pick, bool url)
{
	size_t need = base64_encoded_len(len) + 1, cap;
	char *text;
	unsigned char *back = malloc(len > 0 ? len : 1);
	int n;

	if (url)
		need = len / 3 * 4 + (len % 3 > 0 ? len % 3 + 1 : 0) + 1;
	/* pick 0-2 gives need - 1 .. need + 1. */
	cap = need - 1 + pick % 3;
	text = malloc(cap > 0 ? cap : 1);
	assert(back != NULL && text != NULL);
	n = url ? base64url_encode(p, len, text, cap) :
	    base64_encode(p, len, text, cap);
	if (cap < need) {
		assert(n == -1 && (cap == 0 || text[0] == '\0'));
	} else {
		assert(n >= 0 && (size_t)n == need - 1 && text[n] == '\0');
		assert((url ? base64url_decode(text, (size_t)n, back, len) :
		    base64_decode(text, (size_t)n, back, len)) ==
		    (ssize_t)len);
		assert(len == 0 || memcmp(back, p, len) == 0);
	}
	free(text);
	free(back);
}

/* Mode 2. */
static void
fuzz_base64(const char *p, size_t len)
{
	unsigned pick = len > 0 ? (unsigned char)p[0] : 0;

	check_canonical(p, len, base64_decode, base64_encode);
	check_canonical(p, len, base64url_decode, base64url_encode);
	check_round_trip(p, len, pick, false);
	check_round_trip(p, len, pick / 3, true);
}

/* Mode 3. */
static void
fuzz_user(const char *p, size_t len)
{
	struct auth_basic a;

	if (!auth_user_valid(p, len))
		return;
	assert(len >= 1 && len <= AUTH_USER_MAX && p[0] != '@');
	assert(memchr(p, ':', len) == NULL);
	assert(parse_rebuilt(p, len, "pw", 2, &a) == 0);
	assert(a.user_len == len && memcmp(a.user, p, len) == 0);
	auth_basic_wipe(&a);
}

/* Mode 4. */
static void
fuzz_equal(const char *p, size_t len)
{
	size_t n = len / 2;

	assert(auth_equal(p, p + n, n) == (memcmp(p, p + n, n) == 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p;
	size_t len;

	if (size == 0)
		return 0;
	len = size - 1;
	p = copy(data + 1, len);
	switch (data[0] % 5) {
	case 0:
		fuzz_basic(p, len);
		break;
	case 1:
		fuzz_cookie(p, len);
		break;
	case 2:
		fuzz_base64(p, len);
		break;
	case 3:
		fuzz_user(p, len);
		break;
	default:
		fuzz_equal(p, len);
		break;
	}
	free(p);
	return 0;
}
