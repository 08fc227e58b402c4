/*
 * sha256.h - SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104).
 *
 * Pure: no I/O, no allocation, no globals.  Each context belongs to one
 * thread at a time; different contexts may be used in parallel.  Contexts
 * are plain structs the caller owns (on the stack is fine); the _final
 * functions wipe them, so a finished context holds no key or message
 * bytes and must be initialised again before reuse.
 */
#ifndef LANHTTPD_SHA256_H
#define LANHTTPD_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN		32	/* digest bytes */
#define SHA256_BLOCK_LEN	64	/* block bytes, also HMAC's key block */

struct sha256 {
	uint32_t	 h[8];			/* chaining state */
	uint64_t	 total;			/* message bytes so far */
	uint8_t		 buf[SHA256_BLOCK_LEN];	/* the partial block */
	size_t		 buf_len;		/* bytes used in buf */
};

/* Starts a new hash (FIPS 180-4 §5.3.3 initial value). */
void	sha256_init(struct sha256 *c);

/* Hashes p[0..len) into c; p may be NULL when len is 0. */
void	sha256_update(struct sha256 *c, const void *p, size_t len);

/* Writes the digest of everything hashed since sha256_init(), wipes c. */
void	sha256_final(struct sha256 *c, uint8_t out[SHA256_LEN]);

/* One-shot SHA-256 of p[0..len). */
void	sha256(const void *p, size_t len, uint8_t out[SHA256_LEN]);

/*
 * Incremental HMAC-SHA256 (RFC 2104 with H = SHA-256, B = 64, L = 32).
 * The key may have any length (longer than 64 bytes it is hashed first,
 * as the RFC says) and is not kept beyond the two hash states.
 */
struct hmac_sha256 {
	struct sha256	 inner;		/* H(K ^ ipad || ...) */
	struct sha256	 outer;		/* H(K ^ opad || ...), done last */
};

/* Starts an HMAC with key[0..klen); key may be NULL when klen is 0. */
void	hmac_sha256_init(struct hmac_sha256 *c, const void *key,
	    size_t klen);

/* Adds p[0..len) to the message; p may be NULL when len is 0. */
void	hmac_sha256_update(struct hmac_sha256 *c, const void *p, size_t len);

/* Writes the full 32-byte MAC and wipes c. */
void	hmac_sha256_final(struct hmac_sha256 *c, uint8_t out[SHA256_LEN]);

/* One-shot HMAC-SHA256 of msg[0..mlen) under key[0..klen). */
void	hmac_sha256(const void *key, size_t klen, const void *msg,
	    size_t mlen, uint8_t out[SHA256_LEN]);

#endif /* LANHTTPD_SHA256_H */
