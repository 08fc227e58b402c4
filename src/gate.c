/*
 * gate.c - credentials and rights, before a request is served.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "auth_hdr.h"
#include "config.h"
#include "dav_dest.h"
#include "gate.h"
#include "htpasswd.h"
#include "http_response.h"
#include "login.h"
#include "nfc.h"
#include "path.h"
#include "session.h"

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
	case HTTP_M_MOVE:
		/* Moving a file where others may read it reads it. */
		return ACCESS_READ | ACCESS_WRITE;
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
	(void)nfc_in_place(x->scratch, x->scratch_cap);
	return access_rights(x->cfg->access, x->scratch, user);
}

/* Whether rel is the path subject[0..n) or below it. */
static bool
under(const char *rel, const char *subject, size_t n)
{
	return n == 0 || (strncmp(rel, subject, n) == 0 &&
	    (rel[n] == '\0' || rel[n] == '/'));
}

unsigned
gate_rights(const struct config *cfg, const struct gate_who *who,
    const char *rel)
{
	const char *u = who != NULL && who->user[0] != '\0' ? who->user : NULL;
	unsigned have = access_rights(cfg->access, rel, u), grant = 0;
	const struct sharelink *g = who != NULL ? &who->grant : NULL;

	if (g == NULL)
		return have;
	switch (g->kind) {
	case SL_FILE:
		grant = strcmp(rel, g->subject) == 0 ? ACCESS_READ : 0;
		break;
	case SL_READ:
		grant = under(rel, g->subject, g->subject_len) ? ACCESS_READ : 0;
		break;
	case SL_DROP:
		grant = under(rel, g->subject, g->subject_len) ? ACCESS_WRITE :
		    0;
		break;
	case SL_SESSION:
		break;
	}
	/* Never more than its maker may do now. */
	if (grant != 0)
		grant &= access_rights(cfg->access, rel, g->user);
	return have | grant;
}

bool
gate_drop_only(const struct config *cfg, const struct gate_who *who,
    const char *rel)
{
	const char *u;

	if (who == NULL || who->grant.kind != SL_DROP)
		return false;
	u = who->user[0] != '\0' ? who->user : NULL;
	return (access_rights(cfg->access, rel, u) & ACCESS_WRITE) == 0 &&
	    (gate_rights(cfg, who, rel) & ACCESS_WRITE) != 0;
}

/*
 * What a drop box link lets through where the rules alone would not: its
 * folder's page (the upload form only) and uploads (a form, tus, a PUT
 * of a new file), never DELETE, MOVE, COPY, MKCOL, LOCK or PROPPATCH.
 */
static bool
drop_allows(const struct serve_ctx *x, const struct http_request *req,
    const char *rel, const struct gate_who *who)
{
	bool folder = req->path.len > 0 &&
	    req->path.p[req->path.len - 1] == '/';

	if (!gate_drop_only(x->cfg, who, rel))
		return false;
	switch (req->method) {
	case HTTP_M_GET:
		return folder;
	case HTTP_M_HEAD:
		/* A folder's page, or where a tus upload stands. */
		return folder || http_header_value(req, "Tus-Resumable").p !=
		    NULL;
	case HTTP_M_POST:
	case HTTP_M_PATCH:
	case HTTP_M_PUT:
		return true;
	default:
		return false;
	}
}

/* Whether who may do req on rel. */
static bool
allowed(const struct serve_ctx *x, const struct http_request *req,
    const char *rel, const struct gate_who *who)
{
	const struct config *cfg = x->cfg;
	const char *user = who->user[0] != '\0' ? who->user : NULL;
	unsigned need = needed(req), have;

	if (need == ACCESS_NONE || access_empty(cfg->access))
		return true;
	have = gate_rights(cfg, who, rel);
	/* Writing by a drop box link alone: uploads only. */
	if ((need & ACCESS_WRITE) && gate_drop_only(cfg, who, rel))
		return drop_allows(x, req, rel, who);
	/* Its folder's page, with the upload form, needs no read right. */
	if ((have & need) != need && drop_allows(x, req, rel, who))
		return true;
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
who_basic(const struct serve_ctx *x, struct auth_state *auth,
    const struct http_request *req, const union conn_addr *peer,
    struct auth_basic *cred, unsigned *retry_s)
{
	struct span v = req->hdr[HDR_AUTHORIZATION];

	if (v.p == NULL || x->cfg->users == NULL ||
	    auth_parse_basic(v, cred) != 0)
		return AUTH_BAD;	/* as no credentials */
	return auth_lookup(auth, cred, peer, x->cfg_gen, x->now_ms, retry_s);
}

/*
 * Session cookies checked lately, per thread: a logged-in browser sends
 * the same cookie with every request, and checking it in full (an HMAC,
 * the users file) costs more than serving a small file.  A slot is good
 * while the configuration (users file) and the revoked list are the ones
 * it was checked under, and until the token expires.
 */
#define MEMO_SLOTS	64

struct memo {
	char		 token[SHARELINK_TOKEN_MAX];
	size_t		 len;		/* 0: empty */
	unsigned	 cfg_gen;
	uint64_t	 revoked_gen;
	uint64_t	 expires;
	uint32_t	 id;
	char		 user[AUTH_USER_MAX + 1];
};

static _Thread_local struct memo memo[MEMO_SLOTS];

static struct memo *
memo_slot(struct span t)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < t.len; i++)
		h = (h ^ (uint8_t)t.p[i]) * 16777619u;
	return &memo[h % MEMO_SLOTS];
}

/* The memo of token t, or NULL when it must be checked in full. */
static const struct memo *
memo_find(const struct serve_ctx *x, struct span t, uint64_t now_s,
    uint64_t gen)
{
	const struct memo *m = memo_slot(t);

	if (m->len != t.len || m->cfg_gen != x->cfg_gen ||
	    m->revoked_gen != gen || m->expires <= now_s ||
	    !auth_equal(m->token, t.p, t.len))
		return NULL;
	return m;
}

/* The user a valid session cookie names, into *who. */
static void
session_cookie(const struct serve_ctx *x, const struct http_request *req,
    uint64_t now_s, struct gate_who *who)
{
	const struct memo *hit;
	struct sharelink sl;
	struct memo *m;
	struct span v;
	uint64_t gen;

	if (x->sessions == NULL || req->hdr[HDR_COOKIE].p == NULL)
		return;
	v = auth_cookie(req->hdr[HDR_COOKIE], GATE_SESSION_COOKIE);
	if (v.p == NULL || v.len == 0)
		return;
	gen = session_revoked_gen(x->sessions);
	if ((hit = memo_find(x, v, now_s, gen)) == NULL) {
		if (session_check(x->sessions, v, now_s, &sl) != 0 ||
		    sl.kind != SL_SESSION || sl.subject_len > AUTH_USER_MAX ||
		    !htpasswd_has(x->cfg->users, sl.subject, sl.subject_len))
			return;
		m = memo_slot(v);
		m->len = 0;
		if (v.len < sizeof(m->token)) {
			memcpy(m->token, v.p, v.len);
			memcpy(m->user, sl.subject, sl.subject_len + 1);
			m->cfg_gen = x->cfg_gen;
			m->revoked_gen = gen;
			m->expires = sl.expires;
			m->id = session_id(v);
			m->len = v.len;
			hit = m;
		}
	}
	if (hit != NULL) {
		memcpy(who->user, hit->user, sizeof(who->user));
		who->session_id = hit->id;
		who->session_expires = hit->expires;
	} else {
		memcpy(who->user, sl.subject, sl.subject_len + 1);
		who->session_id = session_id(v);
		who->session_expires = sl.expires;
	}
	who->session = true;
}

/*
 * A token in the query (?t=) or a share link's cookie, into who->grant.
 * Returns true when it came from the query.
 */
static bool
url_token(const struct serve_ctx *x, const struct http_request *req,
    uint64_t now_s, struct gate_who *who)
{
	struct span t = SPAN_NULL;
	struct sharelink sl;
	bool query = false;

	if (x->sessions == NULL)
		return false;
	if (req->has_query && http_query_param(req->query, "t", &t))
		query = true;
	else if (req->hdr[HDR_COOKIE].p != NULL)
		t = auth_cookie(req->hdr[HDR_COOKIE], GATE_SHARE_COOKIE);
	if (t.p == NULL || t.len >= sizeof(who->token) ||
	    session_check(x->sessions, t, now_s, &sl) != 0 ||
	    sl.kind == SL_SESSION ||
	    !htpasswd_has(x->cfg->users, sl.user, sl.user_len))
		return false;
	who->grant = sl;
	memcpy(who->token, t.p, t.len);
	who->token[t.len] = '\0';
	who->token_len = t.len;
	return query;
}

/*
 * A folder's share link opened in a browser: its token becomes a cookie
 * for that folder, so the pages below need no token in their URLs, and
 * the browser goes to the plain URL.
 */
static bool
share_cookie(const struct serve_ctx *x, const struct http_request *req,
    const struct gate_who *who, uint64_t now_s, struct response *res)
{
	char path[PATH_MAX * 3], extra[PATH_MAX * 3 + 2 * SHARELINK_TOKEN_LONGEST];
	size_t n;

	if ((who->grant.kind != SL_READ && who->grant.kind != SL_DROP) ||
	    req->method != HTTP_M_GET || req->path.len == 0 ||
	    req->path.p[req->path.len - 1] != '/')
		return false;
	path[0] = '/';
	n = path_encode_set(who->grant.subject, who->grant.subject_len,
	    PCT_STRICT, path + 1, sizeof(path) - 2);
	if (n + 2 >= sizeof(path))
		return false;
	if (n > 0)
		path[++n] = '/';
	path[n + 1] = '\0';
	/*
	 * The plain URL is the link's own folder, rebuilt from what the
	 * token says (never the request's bytes: "//host/" would leave).
	 */
	n = (size_t)snprintf(extra, sizeof(extra), "Location: %s\r\n"
	    "Set-Cookie: " GATE_SHARE_COOKIE "=%s; Path=%s; Max-Age=%llu; "
	    "HttpOnly; SameSite=Lax\r\nCache-Control: no-store\r\n"
	    "Referrer-Policy: no-referrer\r\n", path, who->token, path,
	    (unsigned long long)(who->grant.expires - now_s));
	if (n >= sizeof(extra))
		return false;
	refuse(x, req, res, 303, extra);
	return true;
}

/*
 * Who asks, by Basic credentials or the session cookie, into *who:
 * GATE_PASS to go on, GATE_CHECK when the credentials must be checked
 * first, GATE_ANSWER with the 429 of a held source in res.
 */
static enum gate_action
identify(const struct serve_ctx *x, struct auth_state *auth,
    const struct http_request *req, const union conn_addr *peer,
    uint64_t now_s, struct response *res, struct gate_who *who)
{
	struct auth_basic cred = { .user_len = 0 };
	unsigned retry_s = 0;
	enum auth_verdict v;
	char extra[64];

	memset(who, 0, sizeof(*who));
	v = who_basic(x, auth, req, peer, &cred, &retry_s);
	if (v == AUTH_GOOD)
		memcpy(who->user, cred.user, cred.user_len + 1);
	auth_basic_wipe(&cred);
	if (v == AUTH_CHECK)
		return GATE_CHECK;
	if (v == AUTH_HELD) {
		snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", retry_s);
		refuse(x, req, res, 429, extra);
		return GATE_ANSWER;
	}
	if (v != AUTH_GOOD)
		session_cookie(x, req, now_s, who);
	return GATE_PASS;
}

/*
 * The rights of who against what req asks: pass, or the refusal in res
 * (401 asks a guest for credentials, 403 refuses a known user).  A
 * folder's share link from the query becomes its cookie (303).
 */
static enum gate_action
judge(const struct serve_ctx *x, const struct http_request *req,
    const struct gate_who *who, bool from_query, uint64_t now_s,
    struct response *res)
{
	struct path_result pr;
	char rel[PATH_MAX];

	/* A path the server refuses anyway is left to it to answer. */
	if (req->path.len == 1 && req->path.p[0] == '*')
		return GATE_PASS;
	if (path_normalize(req->path, true, rel, sizeof(rel), &pr) != 0)
		return GATE_PASS;
	(void)nfc_in_place(rel, sizeof(rel));
	if (allowed(x, req, rel, who)) {
		if (from_query && share_cookie(x, req, who, now_s, res))
			return GATE_ANSWER;
		return GATE_PASS;
	}
	if (who->user[0] == '\0' && x->cfg->users != NULL)
		challenge(x, req, res);
	else
		refuse(x, req, res, 403, NULL);
	return GATE_ANSWER;
}

enum gate_action
gate_request(const struct serve_ctx *x, struct auth_state *auth,
    const struct http_request *req, const union conn_addr *peer,
    struct response *res, struct gate_who *who)
{
	uint64_t now_s = (uint64_t)time(NULL);
	enum gate_action a;
	bool from_query;

	if ((a = identify(x, auth, req, peer, now_s, res, who)) != GATE_PASS)
		return a;
	if (x->sessions != NULL && req->path.len >= strlen(GATE_PREFIX) &&
	    memcmp(req->path.p, GATE_PREFIX, strlen(GATE_PREFIX)) == 0) {
		login_answer(x, req, who, now_s, res);
		return GATE_ANSWER;
	}
	from_query = who->user[0] == '\0' && url_token(x, req, now_s, who);
	if (who->user[0] == '\0' && who->grant.kind == 0 &&
	    x->cfg->auth_always_ask && req->method != HTTP_M_OPTIONS) {
		challenge(x, req, res);
		return GATE_ANSWER;
	}
	return judge(x, req, who, from_query, now_s, res);
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
