/*
 * tus_hdr.h - the header values of tus 1.0.0 resumable uploads
 * (https://tus.io/protocols/resumable-upload: core, creation,
 * creation-with-upload, termination, expiration).
 *
 * Pure: no I/O, no allocation, no globals, so every function is
 * thread-safe.  Inputs are spans that nothing here keeps, except that
 * tus_parse_metadata() leaves keys pointing into its input.  The values
 * are applied strictly, since they become file sizes, offsets and, for
 * IDs, file names.
 *
 * Upload-Expires is an HTTP-date (RFC 9110 IMF-fixdate): format it with
 * http_date() from http_response.h rather than anything here.
 */
#ifndef LANHTTPD_TUS_HDR_H
#define LANHTTPD_TUS_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"

#define TUS_VERSION		"1.0.0"
/* Metadata pairs kept; more is an error. */
#define TUS_MAX_META		32
/* Decoded bytes of one metadata value; more is an error. */
#define TUS_MAX_META_VALUE	1024

/* The Tus-Extension list this module's parsing covers, for OPTIONS. */
#define TUS_EXTENSIONS \
	"creation,creation-with-upload,termination,expiration"

/* Length of an upload ID: 16 random bytes as lowercase hex. */
#define TUS_ID_LEN	32

/*
 * Bytes of the base64 text for n bytes, without the NUL: the cap to give
 * tus_base64_encode() is TUS_BASE64_LEN(n) + 1.
 */
#define TUS_BASE64_LEN(n)	(((n) + 2) / 3 * 4)

/*
 * Upload-Length / Upload-Offset: 1*DIGIT, no sign, no spaces inside (the
 * caller has trimmed OWS), no more than 19 digits and no overflow past
 * INT64_MAX, so the value also fits an off_t.  Leading zeros are allowed
 * (but count towards the 19).  Returns 0 with *out set, or -1 with *out
 * untouched.
 */
int	tus_parse_uint(struct span v, uint64_t *out);

/* Tus-Resumable must be exactly "1.0.0": true when it is. */
bool	tus_version_ok(struct span v);

/*
 * One pair: key points into the parsed header; value holds the decoded
 * bytes (NUL included, not NUL-terminated) and value_len their count;
 * has_value says base64 text followed the key.
 */
struct tus_meta_pair {
	struct span	 key;
	char		 value[TUS_MAX_META_VALUE];
	size_t		 value_len;
	bool		 has_value;
};

struct tus_meta {
	struct tus_meta_pair pair[TUS_MAX_META];
	size_t		 n;
};

/*
 * Upload-Metadata: comma-separated pairs "key" or "key SP base64value".
 *
 * - OWS (SP, HTAB) around each pair is dropped, and empty list elements
 *   ("a,,b", a trailing comma) are skipped as RFC 9110 §5.6.1 asks of
 *   recipients; an empty header is zero pairs.
 * - A key is one or more bytes 0x21-0x7e other than ',' (ASCII printable
 *   without space or comma); keys compare exactly and must be unique.
 * - Exactly one SP separates key and value; anything after it is the
 *   value, so a second space makes the value not base64.  "key" and
 *   "key " (which tus-js-client sends for an empty value) both give an
 *   empty value with has_value false; has_value is true only when base64
 *   text followed, which always decodes to at least one byte.
 * - Values are standard base64 (RFC 4648 §4) in canonical form: the
 *   length is a multiple of 4 with '=' padding (unpadded text is
 *   rejected, as tusd's decoder does; tus-js-client and the other
 *   clients pad), no '=' but the one or two at the end, and the unused
 *   bits before the padding are zero (RFC 4648 §3.5).  So the text and
 *   the bytes map one to one, and tus_base64_encode() of a value gives
 *   back the text it came from.
 *
 * Returns 0 with m filled in, or -1 with m->n set to 0 and, when why is
 * not NULL, *why set to a static reason: "metadata key repeated",
 * "metadata value is not base64", "metadata value too long" (more than
 * TUS_MAX_META_VALUE decoded bytes), "too many metadata pairs" (more than
 * TUS_MAX_META), or "malformed metadata" (a byte not allowed in a key).
 * The first bad pair decides the reason.  *why is untouched on success.
 * Keys point into v and are valid as long as it is.  m is large (about
 * 33 KiB): mind the stack.
 */
int	tus_parse_metadata(struct span v, struct tus_meta *m,
	    const char **why);

/*
 * The decoded value of key (a C string, compared exactly and
 * case-sensitively), or NULL when m has no such key.  *len gets its
 * length, 0 with NULL; len may be NULL.  A key without a value gives a
 * non-NULL pointer and 0.  The pointer is into m.
 */
const char	*tus_meta_get(const struct tus_meta *m, const char *key,
		    size_t *len);

/*
 * Base64 encoder (RFC 4648 §4, padded) for writing metadata back (HEAD
 * answers return Upload-Metadata), base64_encode() of base64.h under a
 * name that takes the decoded value's type: encodes in[0..len) into out[0..cap),
 * NUL-terminated.  Returns the length without the NUL, or -1 when it does
 * not fit in cap (which needs TUS_BASE64_LEN(len) + 1) or in an int; then
 * out holds "" when cap > 0.
 */
int	tus_base64_encode(const char *in, size_t len, char *out, size_t cap);

/*
 * Upload IDs: the server makes them from 16 random bytes as 32 lowercase
 * hex digits.  True when id[0..len) is exactly that shape, so an ID taken
 * from a URL can name a state file without any path trouble ("/", "..",
 * NUL and the like cannot pass).  id may be NULL when len is 0.
 */
bool	tus_id_valid(const char *id, size_t len);

#endif /* LANHTTPD_TUS_HDR_H */
