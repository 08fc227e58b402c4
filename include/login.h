/*
 * login.h - the pages under GATE_PREFIX: logging in and out in a
 * browser, and making and revoking share links.
 *
 *	GET  login[?next=/path]	the log-in page
 *	POST login		with Basic credentials (the page's script
 *				sends them): 200 and the session cookie, or
 *				403 (never 401, so no browser dialog opens)
 *	POST logout		revokes the session, clears the cookie, 303
 *	POST share?path=P&kind=read|drop
 *				a link to P (read below it, or upload only)
 *				for [auth] share; the maker must hold those
 *				rights; HTML, or JSON for Accept: JSON
 *	POST revoke?t=TOKEN	revokes a link its maker made
 *
 * The page's one script logs in with fetch() so that the slow password
 * check takes the same path, pool and backoff as any Basic request
 * (gate.h); without JavaScript the page says to use a client with Basic.
 * The cookie is HttpOnly and SameSite=Lax, so another site's page can
 * neither read it nor make the browser POST with it.
 */
#ifndef LANHTTPD_LOGIN_H
#define LANHTTPD_LOGIN_H

#include <stdint.h>

#include "gate.h"

/*
 * The Content-Security-Policy of the log-in page: its one script by its
 * hash; test_login recomputes the hash from the page it is served.
 */
#define LOGIN_SCRIPT_HASH \
	"'sha256-yHgBv5SsqOx57iYD5gr6w+XZN5IIsQ7+0UveGVRT+9k='"
#define LOGIN_CSP	"default-src 'none'; style-src 'unsafe-inline'; " \
	"img-src data:; script-src " LOGIN_SCRIPT_HASH "; " \
	"connect-src 'self'; form-action 'self'"

/* Answers req, whose path is under GATE_PREFIX, into res. */
void	login_answer(const struct serve_ctx *x, const struct http_request *req,
	    const struct gate_who *who, uint64_t now_s, struct response *res);

#endif /* LANHTTPD_LOGIN_H */
