/*
 * base64.c - base64 and base64url (RFC 4648); see base64.h.
 *
 * Both alphabets share one encoder and one decoder, which differ only in
 * the characters for 62 and 63 and in the padding.  The padded decoder
 * strips the one or two '=' it allows and hands the rest to the same
 * code as base64url, which already knows how a short final quantum ends.
 */
#include "base64.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

/* What tells the two alphabets of RFC 4648 apart. */
struct b64_alpha {
	int	c62;	/* the character for 62 */
	int	c63;	/* the character for 63 */
	bool	pad;	/* '=' fills the last quantum */
};

static const struct b64_alpha b64_std = { '+', '/', true };
static const struct b64_alpha b64_url = { '-', '_', false };

/*
 * All bits set when a >= b, else 0, for a and b in 0..255, without a
 * branch: a - b is negative exactly when a < b, and gcc and clang shift
 * a negative int arithmetically.
 */
static int
ge_mask(int a, int b)
{
	return ~((a - b) >> 8);
}

/* All bits set when lo <= c <= hi, else 0. */
static int
in_mask(int c, int lo, int hi)
{
	return ge_mask(c, lo) & ge_mask(hi, c);
}

/*
 * The character for the 6-bit value x: 'A' + x moved on past each range
 * that x has passed, so no table is indexed by a secret.
 */
static char
b64_char(uint32_t v, const struct b64_alpha *a)
{
	int x = (int)(v & 0x3f);
	int c = 'A' + x;

	c += ge_mask(x, 26) & ('a' - 'A' - 26);
	c += ge_mask(x, 52) & ('0' - 'a' - 26);
	c += ge_mask(x, 62) & (a->c62 - '0' - 10);
	c += ge_mask(x, 63) & (a->c63 - a->c62 - 1);
	return (char)c;
}

/*
 * The 6-bit value of the character ch in alphabet a, or -1.  The ranges
 * do not overlap, so at most one term adds to the -1 it starts from.
 */
static int
b64_value(char ch, const struct b64_alpha *a)
{
	int c = (unsigned char)ch;
	int v = -1;

	v += in_mask(c, 'A', 'Z') & (c - 'A' + 1);
	v += in_mask(c, 'a', 'z') & (c - 'a' + 27);
	v += in_mask(c, '0', '9') & (c - '0' + 53);
	v += in_mask(c, a->c62, a->c62) & 63;
	v += in_mask(c, a->c63, a->c63) & 64;
	return v;
}

/*
 * Characters of the text for len bytes, padded or not, or SIZE_MAX when
 * the count does not fit a size_t.
 */
static size_t
b64_text_len(size_t len, bool pad)
{
	size_t full = len / 3, rest = len % 3, tail;

	if (full > SIZE_MAX / 4)
		return SIZE_MAX;
	tail = rest == 0 ? 0 : pad ? 4 : rest + 1;
	if (tail > SIZE_MAX - full * 4)
		return SIZE_MAX;
	return full * 4 + tail;
}

size_t
base64_encoded_len(size_t len)
{
	return b64_text_len(len, true);
}

/* The encoder behind both alphabets; see base64_encode(). */
static int
b64_encode(const unsigned char *p, size_t len, char *out, size_t cap,
    const struct b64_alpha *a)
{
	size_t need = b64_text_len(len, a->pad), o = 0, i = 0;

	/* need is SIZE_MAX when it overflowed, which INT_MAX catches. */
	if (need >= cap || need > INT_MAX) {
		if (cap > 0)
			out[0] = '\0';
		return -1;
	}
	for (; len - i >= 3; i += 3) {
		uint32_t q = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
		    p[i + 2];

		out[o++] = b64_char(q >> 18, a);
		out[o++] = b64_char(q >> 12, a);
		out[o++] = b64_char(q >> 6, a);
		out[o++] = b64_char(q, a);
	}
	if (len - i > 0) {
		uint32_t q = (uint32_t)p[i] << 16;

		if (len - i == 2)
			q |= (uint32_t)p[i + 1] << 8;
		out[o++] = b64_char(q >> 18, a);
		out[o++] = b64_char(q >> 12, a);
		if (len - i == 2)
			out[o++] = b64_char(q >> 6, a);
		else if (a->pad)
			out[o++] = '=';
		if (a->pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return (int)o;
}

int
base64_encode(const void *in, size_t len, char *out, size_t cap)
{
	return b64_encode(in, len, out, cap, &b64_std);
}

int
base64url_encode(const void *in, size_t len, char *out, size_t cap)
{
	return b64_encode(in, len, out, cap, &b64_url);
}

/*
 * Writes the 1 or 2 bytes of a final quantum of rest (2 or 3) characters,
 * whose values are in acc, to out.  Returns the bytes written, or -1 when
 * the bits left over are not zero: RFC 4648 §3.5 lets a decoder refuse
 * them, and refusing keeps one text per value.
 */
static ssize_t
b64_tail(uint32_t acc, size_t rest, unsigned char *out)
{
	if (rest == 2) {
		if ((acc & 0x0f) != 0)
			return -1;
		out[0] = (unsigned char)(acc >> 4 & 0xff);
		return 1;
	}
	if ((acc & 0x03) != 0)
		return -1;
	out[0] = (unsigned char)(acc >> 10 & 0xff);
	out[1] = (unsigned char)(acc >> 2 & 0xff);
	return 2;
}

/*
 * The decoder behind both alphabets: n characters without padding, of
 * which a last quantum of 2 or 3 gives 1 or 2 bytes (1 character cannot
 * hold a byte).  Returns the byte count or -1; the size is checked before
 * anything is written.
 */
static ssize_t
b64_decode(const char *in, size_t n, unsigned char *out, size_t cap,
    const struct b64_alpha *a)
{
	size_t rest = n % 4, size = n / 4 * 3 + (rest > 0 ? rest - 1 : 0);
	size_t o = 0;
	uint32_t acc = 0;

	if (rest == 1 || size > cap || size > SSIZE_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(in[i], a);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			out[o++] = (unsigned char)(acc >> 16 & 0xff);
			out[o++] = (unsigned char)(acc >> 8 & 0xff);
			out[o++] = (unsigned char)(acc & 0xff);
			acc = 0;
		}
	}
	if (rest > 0) {
		ssize_t got = b64_tail(acc, rest, out + o);

		if (got < 0)
			return -1;
		o += (size_t)got;
	}
	return (ssize_t)o;
}

ssize_t
base64_decode(const char *in, size_t len, void *out, size_t cap)
{
	size_t pad = 0;

	if (len % 4 != 0)
		return -1;
	if (len > 0 && in[len - 1] == '=') {
		pad = 1;
		if (in[len - 2] == '=')
			pad = 2;
	}
	/* A third '=', or one further in, is outside the alphabet. */
	return b64_decode(in, len - pad, out, cap, &b64_std);
}

ssize_t
base64url_decode(const char *in, size_t len, void *out, size_t cap)
{
	return b64_decode(in, len, out, cap, &b64_url);
}
