/*
 * sha256.c - SHA-256 and HMAC-SHA256; see sha256.h.
 *
 * Written from FIPS 180-4 (§4.1.2 functions, §4.2.2 constants, §5.1.1
 * padding, §6.2.2 computation) and RFC 2104.  Portable C: words are
 * assembled from bytes in big-endian order, so host endianness and
 * alignment do not matter.  Speed is not a goal; the daemon hashes short
 * tokens, not files.
 */
#include "sha256.h"

#include <string.h>

/* FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the
 * cube roots of the first 64 primes. */
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
	0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
	0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
	0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t
rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint32_t
load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void
store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Processes one 64-byte block into the chaining state (§6.2.2). */
static void
sha256_block(uint32_t h[8], const uint8_t *blk)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh;

	for (int t = 0; t < 16; t++)
		w[t] = load_be32(blk + 4 * t);
	for (int t = 16; t < 64; t++) {
		uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^
		    (w[t - 15] >> 3);
		uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^
		    (w[t - 2] >> 10);

		w[t] = w[t - 16] + s0 + w[t - 7] + s1;
	}
	a = h[0]; b = h[1]; c = h[2]; d = h[3];
	e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (int t = 0; t < 64; t++) {
		uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
		uint32_t ch = (e & f) ^ (~e & g);
		uint32_t t1 = hh + S1 + ch + K[t] + w[t];
		uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
		uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
		uint32_t t2 = S0 + maj;

		hh = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d;
	h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
	/* The schedule is derived from message (and HMAC key) bytes. */
	explicit_bzero(w, sizeof(w));
}

void
sha256_init(struct sha256 *c)
{
	/* §5.3.3: fractional parts of the square roots of the first
	 * 8 primes. */
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof(iv));
	c->total = 0;
	c->buf_len = 0;
}

void
sha256_update(struct sha256 *c, const void *p, size_t len)
{
	const uint8_t *in = p;

	/* p may be NULL here: keep it away from memcpy(). */
	if (len == 0)
		return;
	c->total += len;
	if (c->buf_len > 0) {
		size_t take = SHA256_BLOCK_LEN - c->buf_len;

		if (take > len)
			take = len;
		memcpy(c->buf + c->buf_len, in, take);
		c->buf_len += take;
		in += take;
		len -= take;
		if (c->buf_len < SHA256_BLOCK_LEN)
			return;
		sha256_block(c->h, c->buf);
		c->buf_len = 0;
	}
	for (; len >= SHA256_BLOCK_LEN; in += SHA256_BLOCK_LEN,
	    len -= SHA256_BLOCK_LEN)
		sha256_block(c->h, in);
	if (len > 0) {
		memcpy(c->buf, in, len);
		c->buf_len = len;
	}
}

void
sha256_final(struct sha256 *c, uint8_t out[SHA256_LEN])
{
	/* §5.1.1: the length is in bits, modulo 2^64. */
	uint64_t bits = c->total << 3;

	c->buf[c->buf_len++] = 0x80;
	if (c->buf_len > SHA256_BLOCK_LEN - 8) {
		memset(c->buf + c->buf_len, 0, SHA256_BLOCK_LEN - c->buf_len);
		sha256_block(c->h, c->buf);
		c->buf_len = 0;
	}
	memset(c->buf + c->buf_len, 0, SHA256_BLOCK_LEN - 8 - c->buf_len);
	store_be32(c->buf + 56, (uint32_t)(bits >> 32));
	store_be32(c->buf + 60, (uint32_t)bits);
	sha256_block(c->h, c->buf);
	for (int i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);
	explicit_bzero(c, sizeof(*c));
}

void
sha256(const void *p, size_t len, uint8_t out[SHA256_LEN])
{
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, p, len);
	sha256_final(&c, out);
}

void
hmac_sha256_init(struct hmac_sha256 *c, const void *key, size_t klen)
{
	uint8_t k0[SHA256_BLOCK_LEN], pad[SHA256_BLOCK_LEN];

	/* RFC 2104 §2: a key longer than B is hashed; then zero-padded. */
	memset(k0, 0, sizeof(k0));
	if (klen > SHA256_BLOCK_LEN)
		sha256(key, klen, k0);
	else if (klen > 0)
		memcpy(k0, key, klen);

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k0[i] ^ 0x36;
	sha256_init(&c->inner);
	sha256_update(&c->inner, pad, sizeof(pad));
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k0[i] ^ 0x5c;
	sha256_init(&c->outer);
	sha256_update(&c->outer, pad, sizeof(pad));

	explicit_bzero(k0, sizeof(k0));
	explicit_bzero(pad, sizeof(pad));
}

void
hmac_sha256_update(struct hmac_sha256 *c, const void *p, size_t len)
{
	sha256_update(&c->inner, p, len);
}

void
hmac_sha256_final(struct hmac_sha256 *c, uint8_t out[SHA256_LEN])
{
	uint8_t ih[SHA256_LEN];

	sha256_final(&c->inner, ih);
	sha256_update(&c->outer, ih, sizeof(ih));
	sha256_final(&c->outer, out);
	explicit_bzero(ih, sizeof(ih));
	explicit_bzero(c, sizeof(*c));
}

void
hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
    uint8_t out[SHA256_LEN])
{
	struct hmac_sha256 c;

	hmac_sha256_init(&c, key, klen);
	hmac_sha256_update(&c, msg, mlen);
	hmac_sha256_final(&c, out);
}
