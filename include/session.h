/*
 * session.h - the tokens a logged-in browser, a download manager and a
 * share link carry (sharelink.h), under a key kept in the state
 * directory, and the list of those revoked before they expire.
 *
 * The state directory holds two files: "key" (sharelink_key_load(): 32
 * random bytes, 0600) and "revoked", one line per token revoked before
 * its expiry ("ID EXPIRES", hexadecimal and decimal), replaced by a
 * rename after each change so a crash leaves the old list or the new.
 * A token's id is the first 32 bits of the SHA-256 of its text.  A
 * per-file token (SL_FILE) carries the id of the login it was made
 * under as its serial, so logging out revokes every link the page
 * handed out too.
 *
 * Thread-safe: the key never changes after session_open(); the list is
 * behind a mutex.
 */
#ifndef LANHTTPD_SESSION_H
#define LANHTTPD_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "sharelink.h"
#include "span.h"

/*
 * Revoked tokens remembered at once; past it, revoking fails.  Share and
 * file links may take all but SESSION_REVOKED_LOGOUTS of the places, so
 * that whoever revokes many links never stops a logout from holding.
 */
#define SESSION_REVOKED_MAX	4096
#define SESSION_REVOKED_LOGOUTS	1024

struct session_state;

/*
 * Opens the state directory dir (made, mode 0700, when missing, with its
 * parents): loads or makes the key, reads the revoked list.  NULL with a
 * message in why[0..whycap) when it cannot.
 */
struct session_state	*session_open(const char *dir, char *why,
			    size_t whycap);
void	session_close(struct session_state *s);

/*
 * The state directory when [auth] state_dir is not set: systemd's
 * $STATE_DIRECTORY, else $XDG_STATE_HOME/lanhttpd, else
 * $HOME/.local/state/lanhttpd.  Writes it to out[0..cap); -1 when none
 * of them is set or it does not fit.
 */
int	session_default_dir(char *out, size_t cap);

/*
 * Makes the token of kind for user on subject (a normalised path
 * relative to the root, or the user name for SL_SESSION), valid until
 * expires (unix seconds), into out[0..cap).  serial 0 is replaced by a
 * random one, so no two tokens are alike.  Returns its length, or 0 when
 * it cannot be made (too long).
 */
size_t	session_make(const struct session_state *s, enum sharelink_kind kind,
	    const char *user, const char *subject, uint64_t expires,
	    uint32_t serial, char *out, size_t cap);

/*
 * Checks the untrusted token t: made under our key, not expired at
 * now_s, not revoked (for SL_FILE, neither is the login it came from).
 * Returns 0 with *out decoded, or -1.
 */
int	session_check(struct session_state *s, struct span t, uint64_t now_s,
	    struct sharelink *out);

/*
 * A number that changes whenever a token is revoked: what a caller that
 * remembers checked tokens compares to know it must check again.
 */
uint64_t	session_revoked_gen(const struct session_state *s);

/* The id of token text t (what the revoked list holds). */
uint32_t	session_id(struct span t);

/*
 * Revokes the valid token t until it would have expired, and writes the
 * list down.  Returns 0, or -1 (t not valid, the list full, or the
 * file not written: then the revocation still holds until a restart).
 */
int	session_revoke(struct session_state *s, struct span t, uint64_t now_s);

#endif /* LANHTTPD_SESSION_H */
