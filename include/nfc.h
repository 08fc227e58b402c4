/*
 * nfc.h - Unicode Normalization Form C of UTF-8 strings (UAX #15).
 *
 * Uploaded files are stored under the NFC form of their names: macOS sends
 * names decomposed (NFD), most other systems composed, and a file must be
 * reachable by the name its user typed whichever system typed it.
 *
 * Canonical normalisation only (no compatibility mappings), with the
 * Unicode version of src/nfc_table.h (NFC_UNICODE_VERSION there), which
 * src/nfc_table.py generates.
 *
 * Pure: no I/O, no allocation, no globals but constant tables; every
 * function is thread-safe.  Strings are byte spans, not C strings: a NUL
 * byte is U+0000, passed through like any other starter.
 */
#ifndef LANHTTPD_NFC_H
#define LANHTTPD_NFC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The most code points one normalisation segment may hold once
 * decomposed.  A segment runs from a starter that cannot compose with what
 * precedes it to the next such starter: a base letter and its combining
 * marks, or a run of Hangul jamo.  Normalisation works a segment at a time
 * in a buffer of this many code points on the stack (5 KiB), so the input
 * length itself is not bounded; only a pathological segment (a letter
 * with over a thousand combining marks) is refused.  Its NFC would be
 * more than NFC_MAX_SEGMENT / 4 code points long, since no character
 * decomposes into more than 4.
 */
#define NFC_MAX_SEGMENT	1024

/*
 * Normalises the UTF-8 string in[0..len) to NFC into out[0..cap).
 * Returns the output length, or -1 when in is not valid UTF-8 (overlongs,
 * surrogates, code points past U+10FFFF, stray or missing continuation
 * bytes are invalid), when a segment passes NFC_MAX_SEGMENT, or when the
 * result does not fit in cap; out[0..cap) then holds nothing of use.
 *
 * The output is never longer than 3 * len bytes (U+1D160 is 4 bytes and
 * its NFC 12; src/nfc_table.py checks the bound for every character), so
 * cap >= 3 * len never fails for room.  Text that is mostly composed
 * already, as names are, comes out no longer than it went in.  out is not
 * NUL-terminated and must not overlap in.  Unassigned code points and
 * noncharacters are valid and left as they are.
 */
ssize_t	nfc_normalize(const char *in, size_t len, char *out, size_t cap);

/*
 * True when in[0..len) is valid UTF-8 and already NFC: exactly when
 * nfc_normalize() with cap >= len returns len and out equal to in (so
 * false for a segment over NFC_MAX_SEGMENT, which it refuses).  ASCII-only
 * input is NFC at once; other input is normalised a segment at a time
 * and compared as it goes, with no output buffer.
 */
bool	nfc_is_nfc(const char *in, size_t len);

/*
 * Puts the NUL-terminated s (in a buffer of cap bytes) in NFC, in place.
 * Returns true when it changed; false when it is NFC already, not valid
 * UTF-8, or its NFC form does not fit (s is then left as it was).
 */
bool	nfc_in_place(char *s, size_t cap);

/*
 * True when in[0..len) is valid UTF-8 as nfc_normalize() defines it.
 */
bool	nfc_utf8_valid(const char *in, size_t len);

/* The Unicode version of the tables, such as "14.0.0"; a static string. */
const char	*nfc_unicode_version(void);

#endif /* LANHTTPD_NFC_H */
