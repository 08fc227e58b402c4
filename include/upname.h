/*
 * upname.h - the rules that turn a client-supplied name into the name of
 * an uploaded file.
 *
 * A name is one path segment, stored in Unicode NFC (see nfc.h for why),
 * of at most NAME_MAX bytes, with no byte that would make it another path
 * ('/'), cut it short (NUL) or garble a terminal or a log (controls).
 * Anything else Linux accepts is allowed, '\\' included.
 *
 * Pure: no I/O, no allocation, no globals; every function is thread-safe.
 * The input is a byte span, not a C string; nothing points into it after
 * a call.
 */
#ifndef LANHTTPD_UPNAME_H
#define LANHTTPD_UPNAME_H

#include <limits.h>
#include <stddef.h>

/*
 * Why a client-supplied name cannot become a file: NULL when it can.  The
 * name is one path segment as the client sent it, already percent-decoded,
 * in[0..len).  Returns a short English reason, a static string suitable
 * for a 400 body:
 *
 *   "empty name"
 *   "name is '.'"
 *   "name is '..'"
 *   "name contains '/'"
 *   "name contains a NUL byte"
 *   "name contains a control character"	0x01-0x1F or 0x7F
 *   "name is not UTF-8"			see nfc_utf8_valid()
 *   "name longer than 255 bytes"		after NFC normalisation
 *
 * When several apply, the first in this list is given, wherever in the
 * name the offending bytes lie.  A name NFC cannot normalise (a segment
 * over NFC_MAX_SEGMENT code points) is longer than 255 bytes in NFC
 * anyway, and is refused as such.
 */
const char	*upname_check(const char *in, size_t len);

/*
 * Checks in[0..len) as upname_check() does and writes its NFC form,
 * NUL-terminated, into out[0..NAME_MAX + 1).  Returns its length (1 to
 * NAME_MAX), or -1 with *why set to the reason (out then holds nothing of
 * use).  out must not overlap in.
 */
int	upname_clean(const char *in, size_t len, char out[NAME_MAX + 1],
	    const char **why);

/*
 * The n-th candidate (n >= 1) for a free name when name[0..len) is taken:
 * " (n)" goes before the extension.
 *
 *   "image.jpg"      -> "image (1).jpg"
 *   "archive.tar.gz" -> "archive (1).tar.gz"
 *   "README"         -> "README (1)"
 *   ".bashrc"        -> ".bashrc (1)"
 *   "notes."         -> "notes. (1)"
 *
 * The extension is the part from the last dot, unless that dot is the
 * first byte (a dotfile) or the last one (no extension then).  The double
 * extensions ".tar.gz", ".tar.xz", ".tar.bz2" and ".tar.zst" (in any case)
 * are kept together when something precedes them.  When the result would
 * pass NAME_MAX bytes, the stem is shortened at a UTF-8 character
 * boundary so that it fits; if not one character of the stem would be
 * left, the extension is treated as part of the stem and shortened with
 * it.
 *
 * name should have passed upname_clean(); then the result passes
 * upname_check() and is NFC too.  Any bytes are handled safely.  Writes
 * into out[0..NAME_MAX + 1), NUL-terminated; returns the length.
 */
int	upname_numbered(const char *name, size_t len, unsigned n,
	    char out[NAME_MAX + 1]);

#endif /* LANHTTPD_UPNAME_H */
