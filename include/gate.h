/*
 * gate.h - whether a request may go on, under [auth] and [access].
 *
 * Before a request is served its credentials are looked at (Basic,
 * RFC 7617) and its path's rights computed (access.h): the method needs
 * read (GET, HEAD, PROPFIND), write (PUT, POST, DELETE, PATCH, the WebDAV
 * changes; COPY reads its source and writes its Destination, MOVE writes
 * both) or nothing (OPTIONS, which Windows sends without credentials).
 * A Depth 0 PROPFIND of a folder above a path the requester may use is
 * let through (Windows walks down from the root).  A guest who lacks a
 * right is asked for credentials (401 with WWW-Authenticate), a known
 * user is refused (403), a held source is told to wait (429).  No rules
 * and no users file: everything passes, as before.
 *
 * Besides Basic, a browser that logged in carries a session cookie, and
 * a URL may carry a token (?t=, see session.h): a share link (read, or
 * upload only, below one path), or a per-file read link a logged-in
 * user's listing handed out.  A token grants no more than its maker may
 * do now.  The pages under GATE_PREFIX (log in, log out, make and revoke
 * share links) are answered here (login.h).
 */
#ifndef LANHTTPD_GATE_H
#define LANHTTPD_GATE_H

#include <stdbool.h>

#include "auth.h"
#include "http_parse.h"
#include "http_serve.h"
#include "sharelink.h"

/* Where the log-in and share pages live. */
#define GATE_PREFIX	"/.well-known/lanhttpd/"
/* The cookies of a log-in and of a share link opened in a browser. */
#define GATE_SESSION_COOKIE	"lanhttpd_session"
#define GATE_SHARE_COOKIE	"lanhttpd_share"

/* Who asks, as far as the gate found out. */
struct gate_who {
	char		 user[AUTH_USER_MAX + 1];	/* "": a guest */
	/* The user logged in with the session cookie: */
	bool		 session;
	uint32_t	 session_id;		/* session_id() of the cookie */
	uint64_t	 session_expires;
	/* A token's grant (kind 0: none) and the token itself. */
	struct sharelink grant;
	char		 token[SHARELINK_TOKEN_LONGEST];
	size_t		 token_len;
};

/*
 * The rights of who on the normalised path rel: the user's (or a
 * guest's) under [access], plus what a token grants there.
 */
unsigned	gate_rights(const struct config *cfg, const struct gate_who *who,
		    const char *rel);

/*
 * True when who may write at rel only by a drop box link: then only new
 * files may be made there (an upload), nothing replaced, moved, locked
 * or deleted.
 */
bool	gate_drop_only(const struct config *cfg, const struct gate_who *who,
	    const char *rel);

enum gate_action {
	GATE_PASS,	/* serve it; *user says as whom ("" for a guest) */
	GATE_ANSWER,	/* res holds the refusal (401, 403, 429, 400) */
	GATE_CHECK,	/* the credentials must be checked first */
};

/* True when the configuration asks for any of this. */
bool	gate_on(const struct config *cfg);

/*
 * Decides for req from peer.  res is set up as for http_serve(); *who
 * gets who asks on GATE_PASS.
 */
enum gate_action	gate_request(const struct serve_ctx *x,
			    struct auth_state *auth,
			    const struct http_request *req,
			    const union conn_addr *peer, struct response *res,
			    struct gate_who *who);

/*
 * On a pool thread: checks the credentials of the request whose head is
 * in[0..len) (stashed while it waited) and remembers the result.
 */
void	gate_verify(struct auth_state *auth, const struct config *cfg,
	    unsigned gen, const char *in, size_t len,
	    const union conn_addr *peer, uint64_t now_ms);

#endif /* LANHTTPD_GATE_H */
