/*
 * crc32.h - the CRC-32 of ZIP and gzip (ISO-HDLC, reflected polynomial
 * 0xEDB88320), as zlib's crc32() computes it, faster where the CPU can
 * multiply without carries.
 *
 * On x86-64 with PCLMULQDQ and SSE4.1 the bulk is folded 64 bytes at a
 * time with carry-less multiplications (the method of Intel's "Fast CRC
 * Computation for Generic Polynomials Using PCLMULQDQ Instruction",
 * 2009), then reduced with Barrett's; anything else, and every tail of
 * fewer than 16 bytes, goes to zlib.  The result is always zlib's.  A
 * folder archive (archive.c) reads each file for its CRC just before it
 * is sent, so this decides how fast a first ?zip download goes.
 * Thread-safe.
 */
#ifndef LANHTTPD_CRC32_H
#define LANHTTPD_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* crc32(crc, p, len) of zlib: crc of what came before (0 at first). */
uint32_t	crc32_update(uint32_t crc, const void *p, size_t len);

#endif /* LANHTTPD_CRC32_H */
