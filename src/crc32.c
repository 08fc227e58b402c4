/*
 * crc32.c - CRC-32 by carry-less multiplication; see crc32.h.
 *
 * The constants are powers of x modulo the CRC polynomial P (bit-
 * reflected, shifted as the method needs): k1 = x^(4*128+32) mod P and
 * k2 = x^(4*128-32) mod P fold 512 bits at once, k3 = x^(128+32) and
 * k4 = x^(128-32) fold 128 bits, k5 = x^64 mod P takes 96 bits to 64,
 * and mu = x^64 / P with P itself reduce 64 bits to the 32 of the CRC.
 */
#include "crc32.h"

#include <zlib.h>

/* zlib's crc32(), whose length is an unsigned int, for any length. */
static uint32_t
crc_zlib(uint32_t crc, const unsigned char *p, size_t len)
{
	while (len > 0) {
		uInt n = len > (1u << 30) ? 1u << 30 : (uInt)len;

		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

#define CRC_FOLD	__attribute__((target("pclmul,sse4.1")))

static const uint64_t k1k2[2] = { 0x0154442bd4ull, 0x01c6e41596ull };
static const uint64_t k3k4[2] = { 0x01751997d0ull, 0x00ccaa009eull };
static const uint64_t k5k0[2] = { 0x0163cd6124ull, 0x0000000000ull };
static const uint64_t poly[2] = { 0x01db710641ull, 0x01f7011641ull };

/* x folded across 128 bits with k, then the next 16 bytes added. */
CRC_FOLD static inline __m128i
fold(__m128i x, __m128i k, const unsigned char *next)
{
	__m128i lo = _mm_clmulepi64_si128(x, k, 0x00);
	__m128i hi = _mm_clmulepi64_si128(x, k, 0x11);

	return _mm_xor_si128(_mm_xor_si128(lo, hi),
	    _mm_loadu_si128((const __m128i *)(const void *)next));
}

/* The 128 bits x folded onto y. */
CRC_FOLD static inline __m128i
fold_onto(__m128i x, __m128i k, __m128i y)
{
	return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
	    _mm_clmulepi64_si128(x, k, 0x11)), y);
}

/*
 * The CRC of p[0..len), len a multiple of 16 and at least 64, after crc
 * (not inverted: the caller does what zlib does at both ends).
 */
CRC_FOLD static uint32_t
crc_fold(uint32_t crc, const unsigned char *p, size_t len)
{
	const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
	__m128i k = _mm_loadu_si128((const __m128i *)(const void *)k1k2);
	__m128i x0, x1, x2, x3, t;

	x0 = _mm_loadu_si128((const __m128i *)(const void *)p);
	x1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
	x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
	x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
	x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)crc));
	p += 64;
	len -= 64;
	for (; len >= 64; p += 64, len -= 64) {
		x0 = fold(x0, k, p);
		x1 = fold(x1, k, p + 16);
		x2 = fold(x2, k, p + 32);
		x3 = fold(x3, k, p + 48);
	}
	k = _mm_loadu_si128((const __m128i *)(const void *)k3k4);
	x0 = fold_onto(x0, k, x1);
	x0 = fold_onto(x0, k, x2);
	x0 = fold_onto(x0, k, x3);
	for (; len >= 16; p += 16, len -= 16)
		x0 = fold(x0, k, p);
	/* 128 bits to 64. */
	t = _mm_clmulepi64_si128(x0, k, 0x10);
	x0 = _mm_xor_si128(_mm_srli_si128(x0, 8), t);
	t = _mm_srli_si128(x0, 4);
	x0 = _mm_and_si128(x0, mask32);
	k = _mm_loadu_si128((const __m128i *)(const void *)k5k0);
	x0 = _mm_xor_si128(_mm_clmulepi64_si128(x0, k, 0x00), t);
	/* Barrett: 64 bits to the 32 of the CRC. */
	k = _mm_loadu_si128((const __m128i *)(const void *)poly);
	t = _mm_and_si128(x0, mask32);
	t = _mm_clmulepi64_si128(t, k, 0x10);
	t = _mm_and_si128(t, mask32);
	t = _mm_clmulepi64_si128(t, k, 0x00);
	x0 = _mm_xor_si128(x0, t);
	return (uint32_t)_mm_extract_epi32(x0, 1);
}

/* Whether this CPU has what crc_fold() needs (asked once). */
static int
can_fold(void)
{
	static int known;	/* 0 not asked, 1 yes, 2 no */
	unsigned a, b, c, d;

	if (__atomic_load_n(&known, __ATOMIC_RELAXED) == 0) {
		int yes = __get_cpuid(1, &a, &b, &c, &d) &&
		    (c & bit_PCLMUL) != 0 && (c & bit_SSE4_1) != 0;

		__atomic_store_n(&known, yes ? 1 : 2, __ATOMIC_RELAXED);
	}
	return __atomic_load_n(&known, __ATOMIC_RELAXED) == 1;
}

uint32_t
crc32_update(uint32_t crc, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t bulk = len & ~(size_t)15;

	if (bulk < 64 || !can_fold())
		return crc_zlib(crc, b, len);
	crc = ~crc_fold(~crc, b, bulk);
	return crc_zlib(crc, b + bulk, len - bulk);
}

#else

uint32_t
crc32_update(uint32_t crc, const void *p, size_t len)
{
	return crc_zlib(crc, p, len);
}

#endif
