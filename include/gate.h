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
 */
#ifndef LANHTTPD_GATE_H
#define LANHTTPD_GATE_H

#include <stdbool.h>

#include "auth.h"
#include "http_parse.h"
#include "http_serve.h"

enum gate_action {
	GATE_PASS,	/* serve it; *user says as whom ("" for a guest) */
	GATE_ANSWER,	/* res holds the refusal (401, 403, 429, 400) */
	GATE_CHECK,	/* the credentials must be checked first */
};

/* True when the configuration asks for any of this. */
bool	gate_on(const struct config *cfg);

/*
 * Decides for req from peer.  res is set up as for http_serve(); user
 * gets the authenticated name on GATE_PASS.
 */
enum gate_action	gate_request(const struct serve_ctx *x,
			    struct auth_state *auth,
			    const struct http_request *req,
			    const union conn_addr *peer, struct response *res,
			    char user[AUTH_USER_MAX + 1]);

/*
 * On a pool thread: checks the credentials of the request whose head is
 * in[0..len) (stashed while it waited) and remembers the result.
 */
void	gate_verify(struct auth_state *auth, const struct config *cfg,
	    unsigned gen, const char *in, size_t len,
	    const union conn_addr *peer, uint64_t now_ms);

#endif /* LANHTTPD_GATE_H */
