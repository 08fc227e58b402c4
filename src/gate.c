/*
 * gate.c - credentials and rights, before a request is served.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "auth_hdr.h"
#include "config.h"
#include "dav_dest.h"
#include "gate.h"
#include "http_response.h"
#include "path.h"

/* The rights a method needs on its own path. */
static unsigned
needed(const struct http_request *req)
{
	switch (req->method) {
	case HTTP_M_OPTIONS:
		return ACCESS_NONE;
	case HTTP_M_GET:
	case HTTP_M_PROPFIND:
	case HTTP_M_COPY:
		return ACCESS_READ;
	case HTTP_M_HEAD:
		/* A tus HEAD asks where an upload stands: a writer's. */
		return http_header_value(req, "Tus-Resumable").p != NULL ?
		    ACCESS_WRITE : ACCESS_READ;
	default:
		return ACCESS_WRITE;
	}
}

/* A refusal with an empty-ish body; a body left unread closes. */
static void
refuse(const struct serve_ctx *x, const struct http_request *req,
    struct response *res, int status, const char *extra)
{
	(void)x;
	res->status = status;
	res->head = req->method == HTTP_M_HEAD;
	res->http10 = req->version_minor == 0;
	res->file_fd = -1;
	res->fentry = NULL;
	res->body_heap = NULL;
	if (req->chunked || (req->has_content_length &&
	    req->content_length > 0))
		res->keep_alive = false;
	http_serve_status(res, status, extra);
}

/* 401 with the challenge (RFC 7617 §2.1: charset="UTF-8"). */
static void
challenge(const struct serve_ctx *x, const struct http_request *req,
    struct response *res)
{
	char extra[256];

	snprintf(extra, sizeof(extra), "WWW-Authenticate: Basic realm=\"%s\", "
	    "charset=\"UTF-8\"\r\n", x->cfg->auth_realm);
	refuse(x, req, res, 401, extra);
}

/* The rights of user on the Destination of a COPY or MOVE; 0 if bad. */
static unsigned
dest_rights(const struct serve_ctx *x, const struct http_request *req,
    const char *user)
{
	struct span dest = http_header_value(req, "Destination");
	struct path_result pr;

	if (dest.p == NULL || dav_dest_parse(dest, req->hdr[HDR_HOST],
	    x->cfg->allow_hidden, x->scratch, x->scratch_cap, &pr) != 0)
		return ACCESS_WRITE;	/* dav.c answers the bad header */
	return access_rights(x->cfg->access, x->scratch, user);
}

/* Whether user (NULL: a guest) may do req on rel. */
static bool
allowed(const struct serve_ctx *x, const struct http_request *req,
    const char *rel, const char *user)
{
	const struct config *cfg = x->cfg;
	unsigned need = needed(req), have;

	if (need == ACCESS_NONE || access_empty(cfg->access))
		return true;
	have = access_rights(cfg->access, rel, user);
	if ((have & need) != need) {
		/* Windows PROPFINDs each folder on the way down. */
		struct span d = http_header_value(req, "Depth");

		return req->method == HTTP_M_PROPFIND && d.len == 1 &&
		    d.p[0] == '0' && access_has_below(cfg->access, rel, user);
	}
	if (req->method == HTTP_M_COPY || req->method == HTTP_M_MOVE)
		return (dest_rights(x, req, user) & ACCESS_WRITE) != 0;
	return true;
}

bool
gate_on(const struct config *cfg)
{
	return cfg->users != NULL || !access_empty(cfg->access);
}

/* The verdict on req's credentials; *cred filled when there are some. */
static enum auth_verdict
who(const struct serve_ctx *x, struct auth_state *auth,
    const struct http_request *req, const union conn_addr *peer,
    struct auth_basic *cred, unsigned *retry_s)
{
	struct span v = req->hdr[HDR_AUTHORIZATION];

	if (v.p == NULL || x->cfg->users == NULL ||
	    auth_parse_basic(v, cred) != 0)
		return AUTH_BAD;	/* as no credentials */
	return auth_lookup(auth, cred, peer, x->cfg_gen, x->now_ms, retry_s);
}

enum gate_action
gate_request(const struct serve_ctx *x, struct auth_state *auth,
    const struct http_request *req, const union conn_addr *peer,
    struct response *res, char user[AUTH_USER_MAX + 1])
{
	struct auth_basic cred = { .user_len = 0 };
	struct path_result pr;
	char rel[PATH_MAX], extra[64];
	unsigned retry_s = 0;
	enum auth_verdict v;
	const char *u = NULL;

	user[0] = '\0';
	v = who(x, auth, req, peer, &cred, &retry_s);
	if (v == AUTH_GOOD) {
		memcpy(user, cred.user, cred.user_len + 1);
		u = user;
	}
	auth_basic_wipe(&cred);
	if (v == AUTH_CHECK)
		return GATE_CHECK;
	if (v == AUTH_HELD) {
		snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", retry_s);
		refuse(x, req, res, 429, extra);
		return GATE_ANSWER;
	}
	if (u == NULL && x->cfg->auth_always_ask &&
	    req->method != HTTP_M_OPTIONS) {
		challenge(x, req, res);
		return GATE_ANSWER;
	}
	/* A path the server refuses anyway is left to it to answer. */
	if (req->path.len == 1 && req->path.p[0] == '*')
		return GATE_PASS;
	if (path_normalize(req->path, true, rel, sizeof(rel), &pr) != 0 ||
	    allowed(x, req, rel, u))
		return GATE_PASS;
	if (u == NULL && x->cfg->users != NULL)
		challenge(x, req, res);
	else
		refuse(x, req, res, 403, NULL);
	return GATE_ANSWER;
}

void
gate_verify(struct auth_state *auth, const struct config *cfg, unsigned gen,
    const char *in, size_t len, const union conn_addr *peer, uint64_t now_ms)
{
	const struct http_limits lim = {
		.max_head = cfg->max_header_size,
		.max_target = cfg->max_header_size / 2,
	};
	struct http_request req;
	struct auth_basic cred;

	if (http_parse_request(in, len, &lim, &req) <= 0 ||
	    req.hdr[HDR_AUTHORIZATION].p == NULL ||
	    auth_parse_basic(req.hdr[HDR_AUTHORIZATION], &cred) != 0)
		return;
	auth_set_backoff(auth, cfg->auth_backoff_ms, cfg->auth_max_backoff_ms);
	(void)auth_verify(auth, cfg->users, &cred, peer, gen, now_ms);
	auth_basic_wipe(&cred);
}
