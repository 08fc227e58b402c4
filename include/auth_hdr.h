/*
 * auth_hdr.h - the credentials a request carries: the Authorization
 * header's Basic scheme (RFC 7617, charset="UTF-8"), the Cookie header
 * (RFC 6265 §4.2), the user names the users file and [access] accept, and
 * a constant-time comparison for secrets.
 *
 * Pure: no I/O, no allocation, no globals, so every function is
 * thread-safe.  Inputs are spans that nothing here keeps, except that
 * auth_cookie() returns a span into its input.  A struct auth_basic holds
 * a password in the clear: keep it on the stack for as short a time as
 * possible and auth_basic_wipe() it when done, on every path.
 */
#ifndef LANHTTPD_AUTH_HDR_H
#define LANHTTPD_AUTH_HDR_H

#include <stdbool.h>
#include <stddef.h>

#include "span.h"

#define AUTH_USER_MAX	64	/* bytes of a user name */
#define AUTH_PASS_MAX	256	/* bytes of a password */

/* What auth_parse_basic() returns besides 0. */
#define AUTH_MALFORMED	(-1)	/* Basic, but not credentials we take */
#define AUTH_NOT_BASIC	(-2)	/* another scheme (Bearer, Digest, ...) */

/*
 * Basic credentials: user[0..user_len) and pass[0..pass_len), each also
 * NUL-terminated (neither can hold a NUL).
 */
struct auth_basic {
	char	user[AUTH_USER_MAX + 1];
	size_t	user_len;
	char	pass[AUTH_PASS_MAX + 1];
	size_t	pass_len;
};

/*
 * Parses an Authorization header value v (RFC 9110 §11.6.2, RFC 7617):
 * OWS around it is ignored; the scheme is compared case-insensitively;
 * one run of SP or HTAB separates it from the token68, which must be
 * canonical padded base64 (base64_decode() of base64.h) and nothing else:
 * no auth-params, no whitespace after it.  The decoded text splits at its
 * first ':' into user-id and password (RFC 7617 §2).  The user-id must be
 * valid UTF-8 (RFC 3629) of at most AUTH_USER_MAX bytes, without control
 * characters (C0, DEL, C1) or ':'; it may be empty, which matches no
 * account.  The password may hold any bytes but NUL, CR and LF, at most
 * AUTH_PASS_MAX of them, and may be empty.
 *
 * Returns 0 with *out filled in; AUTH_MALFORMED (-1) for a Basic header
 * that breaks any of those rules, an empty value, or a scheme that is not
 * a token; AUTH_NOT_BASIC (-2) for a well-formed other scheme.  Either
 * failure means "no credentials" (401 with WWW-Authenticate), not 400.
 * *out is wiped on failure, and the decoded text is wiped before return
 * either way.
 */
int	auth_parse_basic(struct span v, struct auth_basic *out);

/* Wipes *a with explicit_bzero(), so the compiler cannot drop it. */
void	auth_basic_wipe(struct auth_basic *a);

/*
 * A user name allowed in the users file and in [access]: 1..AUTH_USER_MAX
 * bytes of valid UTF-8, without control characters (C0, DEL, C1), ':',
 * whitespace (SP, HTAB and the other Unicode White_Space characters such
 * as U+00A0 and U+3000), and not starting with '@' (which names groups
 * such as @guest).  Every name it accepts is also a user-id that
 * auth_parse_basic() accepts.  name may be NULL when len is 0.
 */
bool	auth_user_valid(const char *name, size_t len);

/*
 * Finds the cookie called name (a C string, compared exactly and
 * case-sensitively; "" finds nothing) in one Cookie header value
 * (RFC 6265 §4.2: "a=b; c=d").  Pairs are split at ';' with OWS around
 * them ignored, and a pair without '=' is skipped; the first pair with
 * that name wins (RFC 6265 §5.4 sends the most specific path first).
 * Returns the value as a span into header, OWS trimmed and one pair of
 * surrounding DQUOTEs removed, or SPAN_NULL (p == NULL) when there is no
 * such cookie.  An empty value gives a non-NULL p and len 0.  The value's
 * bytes are not checked: validate them for what they are used for.  For
 * several Cookie headers, call it on each.
 */
struct span	auth_cookie(struct span header, const char *name);

/*
 * True when a[0..n) and b[0..n) hold the same bytes.  The time taken
 * depends on n only, not on the bytes or where they differ.  a and b may
 * be NULL when n is 0.
 */
bool	auth_equal(const void *a, const void *b, size_t n);

#endif /* LANHTTPD_AUTH_HDR_H */
