/*
 * sharelink.h - unguessable capability tokens: share links, upload drops,
 * login sessions and per-file read tokens.
 *
 * A token is
 *
 *	base64url(payload) "." base64url(tag)
 *
 * (RFC 4648 §5 alphabet, no padding), where the payload is a binary,
 * length-prefixed record with big-endian integers:
 *
 *	kind		1 byte	(enum sharelink_kind)
 *	expires		8 bytes
 *	serial		4 bytes
 *	user_len	1 byte	(0 to SHARELINK_USER_MAX)
 *	user		user_len bytes
 *	subject_len	2 bytes	(0 to SHARELINK_SUBJECT_MAX)
 *	subject		subject_len bytes
 *
 * and the tag is HMAC-SHA256(key, "lanhttpd-v1" || payload) truncated to
 * its first SHARELINK_MAC_LEN (16) bytes.  128 bits is far beyond what an
 * online guesser can try, RFC 2104 §5 allows truncating to half the hash,
 * and it keeps links short enough to type from a phone screen.
 *
 * Why it holds: the kind is inside the MACed payload, so a token of one
 * kind cannot be presented as another; every field has a fixed size or a
 * length prefix and the payload must be consumed exactly, so no byte of
 * the subject can be read as a separator or as another field; the text
 * must be canonical base64url (re-encoding the decoded bytes must give
 * back the very text), so each payload has exactly one token and any
 * change of any byte fails.  The MAC is checked, in constant time, before
 * a single payload field is looked at.  The "lanhttpd-v1" prefix keeps
 * these MACs apart from any other use of the same key and lets a future
 * format be told apart.
 *
 * Revocation is the caller's: a token whose serial is below the current
 * revoked-before number is dead, and expiry is compared with the clock by
 * the caller too (sharelink_verify() checks neither, so this module stays
 * pure apart from sharelink_key_load()).
 *
 * Thread-safety: every function works only on its arguments.
 */
#ifndef LANHTTPD_SHARELINK_H
#define LANHTTPD_SHARELINK_H

#include <stddef.h>
#include <stdint.h>

#define SHARELINK_KEY_LEN	32
/* Bytes of the truncated HMAC-SHA256 tag. */
#define SHARELINK_MAC_LEN	16
/* Longest user name and subject a token can carry. */
#define SHARELINK_USER_MAX	64
#define SHARELINK_SUBJECT_MAX	255

/*
 * A buffer of SHARELINK_TOKEN_MAX bytes holds the token of any struct
 * whose user_len + subject_len is at most 62 (short paths, sessions).
 * Longer subjects give longer tokens, up to SHARELINK_TOKEN_LONGEST
 * bytes with the NUL, which always suffices; sharelink_token_len() says
 * exactly.
 */
#define SHARELINK_TOKEN_MAX	128	/* printable token incl. NUL */
/* Unpadded base64url text length of n bytes. */
#define SHARELINK_B64LEN(n)	((n) / 3 * 4 + ((n) % 3 == 0 ? 0 : (n) % 3 + 1))
/* Payload bytes besides user and subject: 1 + 8 + 4 + 1 + 2. */
#define SHARELINK_FIXED_LEN	16
#define SHARELINK_TOKEN_LONGEST \
	(SHARELINK_B64LEN(SHARELINK_FIXED_LEN + SHARELINK_USER_MAX + \
	    SHARELINK_SUBJECT_MAX) + 1 + \
	    SHARELINK_B64LEN(SHARELINK_MAC_LEN) + 1)

enum sharelink_kind {
	SL_READ = 1,		/* a share link: read subject */
	SL_DROP = 2,		/* upload only, into subject */
	SL_SESSION = 3,		/* a login: subject is the user name */
	SL_FILE = 4,		/* a per-file read token of a user */
};

struct sharelink {
	enum sharelink_kind kind;
	uint64_t	 expires;	/* unix seconds */
	/*
	 * Revocation: tokens with a serial below the revoked-before value
	 * are dead (the caller keeps that number).
	 */
	uint32_t	 serial;
	/*
	 * The path (normalised, relative to the root) or the user name:
	 * subject[0..subject_len), no NUL bytes inside, NUL-terminated
	 * after verification.
	 */
	char		 subject[SHARELINK_SUBJECT_MAX + 1];
	size_t		 subject_len;
	/*
	 * Who made it (share links, file tokens: the rights are capped by
	 * this user's rights at use time): user[0..user_len), no NUL bytes
	 * inside, NUL-terminated after verification.
	 */
	char		 user[SHARELINK_USER_MAX + 1];
	size_t		 user_len;
};

/*
 * The length of sl's token without the NUL (so the cap it needs is one
 * more), or 0 when sl cannot be made into a token: an unknown kind,
 * user_len above SHARELINK_USER_MAX, subject_len above
 * SHARELINK_SUBJECT_MAX, or a NUL byte inside user[0..user_len) or
 * subject[0..subject_len).  Never more than SHARELINK_TOKEN_LONGEST - 1.
 */
size_t	sharelink_token_len(const struct sharelink *sl);

/*
 * Writes sl's token, NUL-terminated, into out[0..cap).  Only the first
 * user_len and subject_len bytes of user and subject are used (they need
 * not be NUL-terminated).  Returns 0, or -1 when sl is invalid (see
 * sharelink_token_len()) or cap is not more than the token's length; then
 * out holds "" when cap > 0.
 */
int	sharelink_make(const uint8_t key[SHARELINK_KEY_LEN],
	    const struct sharelink *sl, char *out, size_t cap);

/*
 * Verifies token[0..len) (untrusted: read only within len, need not be
 * NUL-terminated) and decodes it into *sl.  Everything is strict: the
 * shape payload "." tag, canonical unpadded base64url, a tag of exactly
 * SHARELINK_MAC_LEN bytes compared in constant time before the payload
 * is trusted, a known kind, lengths within the limits, no NUL in user or
 * subject, and no byte left over.  Does NOT check expiry or serial (the
 * caller compares them with the clock and its revoked-before number).
 * Returns 0, or -1 for anything wrong, with *sl zeroed.
 */
int	sharelink_verify(const uint8_t key[SHARELINK_KEY_LEN],
	    const char *token, size_t len, struct sharelink *sl);

/*
 * Loads the key from path: it must be a regular file (not a symlink),
 * owned by the effective user, with no group or other permission bits
 * (0600 or 0400), holding exactly SHARELINK_KEY_LEN bytes.  When path
 * does not exist it is created with O_CREAT | O_EXCL, mode 0600, filled
 * from getrandom(2), fsync(2)ed together with its directory; a half-made
 * file is removed again.  Returns 0 with key filled in, or -1 with key
 * zeroed and a message (git style, "cannot open 'x': reason") written to
 * why[0..whycap) when why is not NULL.  Start-up only: it may block
 * until the kernel's random pool is ready.
 */
int	sharelink_key_load(const char *path, uint8_t key[SHARELINK_KEY_LEN],
	    char *why, size_t whycap);

#endif /* LANHTTPD_SHARELINK_H */
