/*
 * auth.h - who a request comes from: credentials checked once, off the
 * serving path, and remembered; guesses held back per source address.
 *
 * A password check is slow on purpose (yescrypt: tens of milliseconds),
 * so a worker never makes one: it asks auth_lookup(), which knows the
 * answer when the same credentials were checked lately, and otherwise
 * hands the connection to a pool thread that calls auth_verify() and
 * gives the connection back, whose request is then looked up again.
 *
 * What is remembered is keyed by HMAC-SHA256 of the credentials under a
 * key drawn at start, so the table holds no password and cannot be
 * searched for one: a success for AUTH_GOOD_MS, a failure for
 * AUTH_BAD_MS (long enough for the request to be answered 401 when it
 * comes back).  A source whose checks keep failing is held: after
 * AUTH_FREE_FAILS failures, each further failure doubles the time it
 * must wait (from backoff_ms, at most max_backoff_ms), and while it
 * waits it is answered 429 with Retry-After and nothing is checked.  One
 * log line says so per hold.  Both tables are fixed arrays (direct
 * mapped): bounded memory whatever arrives.  Thread-safe.
 */
#ifndef LANHTTPD_AUTH_H
#define LANHTTPD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_hdr.h"
#include "conn.h"

struct htpasswd;

#define AUTH_GOOD_MS	(5u * 60 * 1000)
#define AUTH_BAD_MS	(30u * 1000)
#define AUTH_FREE_FAILS	5

enum auth_verdict {
	AUTH_GOOD,	/* checked lately: the user is who they say */
	AUTH_BAD,	/* checked lately: wrong (401) */
	AUTH_CHECK,	/* not known: to be checked by auth_verify() */
	AUTH_HELD,	/* the source is held back (429) */
};

struct auth_state;

/* A new state (a random key); NULL when out of memory or randomness. */
struct auth_state	*auth_new(void);
void	auth_free(struct auth_state *a);

/* The backoff of held sources (from [auth]). */
void	auth_set_backoff(struct auth_state *a, uint64_t backoff_ms,
	    uint64_t max_backoff_ms);

/*
 * What is known of cred from src under the users file of generation gen
 * (a reload forgets what was checked against the old one).  On AUTH_HELD
 * *retry_s is the wait to announce.
 */
enum auth_verdict	auth_lookup(struct auth_state *a,
			    const struct auth_basic *cred,
			    const union conn_addr *src, unsigned gen,
			    uint64_t now_ms, unsigned *retry_s);

/*
 * The slow check of cred against users (on a pool thread), remembered
 * for auth_lookup(); a failure counts against src.  Returns the result.
 */
bool	auth_verify(struct auth_state *a, const struct htpasswd *users,
	    const struct auth_basic *cred, const union conn_addr *src,
	    unsigned gen, uint64_t now_ms);

#endif /* LANHTTPD_AUTH_H */
