/*
 * base64.h - base64 and base64url (RFC 4648 §4 and §5), the project's one
 * implementation.
 *
 * Pure: no I/O, no allocation, no globals, so every function is
 * thread-safe.  Nothing keeps a pointer to its arguments.
 *
 * The decoders accept only canonical text, so text and bytes map one to
 * one: base64_decode() wants the length a multiple of 4 with '=' padding
 * exactly where RFC 4648 §4 puts it, base64url_decode() wants no padding
 * at all, and in both the bits left over before the end must be zero
 * (RFC 4648 §3.5).  Whitespace, line breaks, the other alphabet's
 * characters and anything else outside the alphabet are refused.  Encoding
 * what a decoder accepted gives back the same text.
 *
 * Characters are mapped to and from their values with arithmetic rather
 * than table look-ups or branches, so the time taken does not depend on
 * the bytes (which may be passwords or tokens), only on their number and,
 * for a decoder, on where the first bad character is.
 */
#ifndef LANHTTPD_BASE64_H
#define LANHTTPD_BASE64_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Characters of the padded base64 text for len bytes, without the NUL:
 * 4 * ceil(len / 3).  Returns SIZE_MAX when that does not fit a size_t.
 * The unpadded base64url text is never longer.
 */
size_t	base64_encoded_len(size_t len);

/*
 * Encodes in[0..len) with the standard alphabet and '=' padding into
 * out[0..cap), NUL-terminated, without line breaks.  Returns the length
 * of the text (without the NUL), or -1 when cap is too small (it needs
 * base64_encoded_len(len) + 1) or the length does not fit an int; then
 * out holds "" when cap > 0.  in may be NULL when len is 0, out when cap
 * is 0.
 */
int	base64_encode(const void *in, size_t len, char *out, size_t cap);

/*
 * The same with the URL-safe alphabet ('-' and '_' for '+' and '/') and
 * no padding (RFC 4648 §5).  The text is base64_encoded_len(len) less the
 * padding, so base64_encoded_len(len) + 1 is always room enough; exactly
 * the text length + 1 is enough too.
 */
int	base64url_encode(const void *in, size_t len, char *out, size_t cap);

/*
 * Decodes canonical padded standard base64 in[0..len) into out[0..cap).
 * Returns the number of bytes decoded (0 for empty text), or -1 when the
 * text is not canonical base64 (a length that is not a multiple of 4, a
 * character outside the alphabet, '=' other than one or two at the end,
 * non-zero bits before the padding) or its bytes do not fit in cap.  The
 * size is checked before anything is written; on a bad character, out
 * may hold the bytes of the quanta before it.  in may be NULL when len is
 * 0, out when cap is 0.
 */
ssize_t	base64_decode(const char *in, size_t len, void *out, size_t cap);

/*
 * The same for unpadded base64url (RFC 4648 §5): '-' and '_' in place of
 * '+' and '/', no '='; a length of 4n + 1 is refused, 4n + 2 and 4n + 3
 * give one and two final bytes.
 */
ssize_t	base64url_decode(const char *in, size_t len, void *out, size_t cap);

#endif /* LANHTTPD_BASE64_H */
