/*
 * login.c - log in, log out, share links; see login.h.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "config.h"
#include "http_response.h"
#include "listing.h"
#include "log.h"
#include "login.h"
#include "negotiate.h"
#include "path.h"
#include "qr.h"
#include "session.h"
#include "upload.h"

/* The words of the page, per language; the script reads data-*. */
struct login_text {
	const char	*lang, *title, *user, *pass, *submit;
	const char	*wrong, *wait, *neterr, *noscript;
};

static const struct login_text text_en = {
	.lang = "en", .title = "Log in", .user = "User name",
	.pass = "Password", .submit = "Log in",
	.wrong = "Wrong user name or password.",
	.wait = "Too many tries: wait %s s.",
	.neterr = "Network error: the server did not answer.",
	.noscript = "This page needs JavaScript. Command-line and WebDAV "
	    "clients log in with HTTP Basic authentication instead.",
};

static const struct login_text text_zh = {
	.lang = "zh-CN", .title = "登录", .user = "用户名", .pass = "密码",
	.submit = "登录", .wrong = "用户名或密码错误。",
	.wait = "尝试次数过多：请等待 %s 秒。",
	.neterr = "网络错误：服务器没有应答。",
	.noscript = "此页面需要 JavaScript。命令行和 WebDAV 客户端请使用 "
	    "HTTP Basic 认证登录。",
};

/*
 * Sends the user name and password as Basic credentials (UTF-8, RFC
 * 7617), then goes to ?next= when it is a path of this server.
 */
static const char login_script[] =
	"const f = document.getElementById(\"f\");\n"
	"const msg = document.getElementById(\"msg\");\n"
	"function go() {\n"
	"  const n = new URLSearchParams(location.search).get(\"next\");\n"
	"  let u = null;\n"
	"  try { u = new URL(n || \"/\", location.href); } catch (e) {}\n"
	"  /* Only a page of this server: URL() resolves \"/\\t/x\" as x. */\n"
	"  location.replace(u && u.origin === location.origin ?\n"
	"    u.pathname + u.search + u.hash : \"/\");\n"
	"}\n"
	"f.addEventListener(\"submit\", async function (e) {\n"
	"  e.preventDefault();\n"
	"  const b = new TextEncoder().encode(f.elements.user.value + \":\" +\n"
	"    f.elements.pass.value);\n"
	"  let s = \"\";\n"
	"  for (const c of b) s += String.fromCharCode(c);\n"
	"  msg.textContent = \"\";\n"
	"  let r;\n"
	"  try {\n"
	"    r = await fetch(location.pathname, { method: \"POST\",\n"
	"      credentials: \"same-origin\",\n"
	"      headers: { Authorization: \"Basic \" + btoa(s) } });\n"
	"  } catch (x) {\n"
	"    msg.textContent = f.dataset.neterr;\n"
	"    return;\n"
	"  }\n"
	"  if (r.ok) go();\n"
	"  else if (r.status === 429)\n"
	"    msg.textContent = f.dataset.wait.replace(\"%s\",\n"
	"      r.headers.get(\"Retry-After\") || \"?\");\n"
	"  else msg.textContent = f.dataset.wrong;\n"
	"});\n";

static const char page_css[] =
	"body{font:16px/1.4 system-ui,sans-serif;margin:0;padding:1em}"
	"main{max-width:22em;margin:2em auto}"
	"label{display:block;margin:.8em 0 .2em}"
	"input{width:100%;box-sizing:border-box;font:inherit;padding:.4em}"
	"button{margin-top:1em;font:inherit;padding:.4em 1.2em}"
	"#msg{color:#b00;min-height:1.4em}";

/* Whether s holds exactly the text w. */
static bool
word(struct span s, const char *w)
{
	return s.len == strlen(w) && memcmp(s.p, w, s.len) == 0;
}

/* The attribute-safe text s (from our own tables). */
static void
attr(struct hbuf *out, const char *s)
{
	listing_html_escape(out, s, strlen(s));
}

static void
login_page(const struct http_request *req, struct response *res)
{
	const struct login_text *t =
	    negotiate_language(req) == LANG_ZH ? &text_zh : &text_en;
	struct hbuf b;
	char body[8192];

	hb_init(&b, body, sizeof(body));
	hb_str(&b, "<!DOCTYPE html>\n<html lang=\"");
	hb_str(&b, t->lang);
	hb_str(&b, "\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\""
	    "viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<meta name=\"color-scheme\" content=\"light dark\">\n"
	    "<link rel=\"icon\" href=\"data:,\">\n<title>");
	hb_str(&b, t->title);
	hb_str(&b, "</title>\n<style>");
	hb_str(&b, page_css);
	hb_str(&b, "</style>\n</head>\n<body>\n<main>\n<h1>");
	hb_str(&b, t->title);
	hb_str(&b, "</h1>\n<noscript><p>");
	hb_str(&b, t->noscript);
	hb_str(&b, "</p></noscript>\n<form id=\"f\" data-wrong=\"");
	attr(&b, t->wrong);
	hb_str(&b, "\" data-wait=\"");
	attr(&b, t->wait);
	hb_str(&b, "\" data-neterr=\"");
	attr(&b, t->neterr);
	hb_str(&b, "\">\n<label for=\"user\">");
	hb_str(&b, t->user);
	hb_str(&b, "</label><input id=\"user\" name=\"user\" "
	    "autocomplete=\"username\" autocapitalize=\"none\" required>\n"
	    "<label for=\"pass\">");
	hb_str(&b, t->pass);
	hb_str(&b, "</label><input id=\"pass\" name=\"pass\" type=\"password\""
	    " autocomplete=\"current-password\" required>\n<button>");
	hb_str(&b, t->submit);
	hb_str(&b, "</button>\n<p id=\"msg\" role=\"alert\"></p>\n</form>\n"
	    "</main>\n<script>\n");
	hb_str(&b, login_script);
	hb_str(&b, "</script>\n</body>\n</html>\n");
	http_serve_page(res, 200, "text/html; charset=utf-8",
	    "Content-Security-Policy: " LOGIN_CSP "\r\n"
	    "Vary: Accept-Language\r\n", b.p, b.overflow ? 0 : b.len);
}

/* A small JSON or text answer. */
static void
answer(struct response *res, int status, const char *extra,
    const char *json)
{
	http_serve_page(res, status, "application/json", extra, json,
	    strlen(json));
}

/* POST login: Basic credentials the gate found good become a cookie. */
static void
log_in(const struct serve_ctx *x, const struct http_request *req,
    const struct gate_who *who, uint64_t now_s, struct response *res)
{
	char tok[SHARELINK_TOKEN_LONGEST], extra[SHARELINK_TOKEN_LONGEST + 128];
	char json[AUTH_USER_MAX * 6 + 64];
	uint64_t life = x->cfg->auth_session_ms / 1000;
	struct hbuf j;

	(void)req;
	if (who->user[0] == '\0' || who->session) {
		answer(res, 403, NULL, who->session ? "{\"error\":\"already "
		    "logged in\"}\n" : "{\"error\":\"wrong user name or "
		    "password\"}\n");
		return;
	}
	if (session_make(x->sessions, SL_SESSION, who->user, who->user,
	    now_s + life, 0, tok, sizeof(tok)) == 0) {
		answer(res, 500, NULL, "{\"error\":\"no token\"}\n");
		return;
	}
	snprintf(extra, sizeof(extra), "Set-Cookie: " GATE_SESSION_COOKIE
	    "=%s; Path=/; Max-Age=%llu; HttpOnly; SameSite=Lax\r\n", tok,
	    (unsigned long long)life);
	explicit_bzero(tok, sizeof(tok));
	hb_init(&j, json, sizeof(json));
	hb_str(&j, "{\"user\":\"");
	listing_json_escape(&j, who->user, strlen(who->user));
	hb_str(&j, "\"}\n");
	http_serve_page(res, 200, "application/json", extra, j.p, j.len);
	explicit_bzero(extra, sizeof(extra));
}

/* POST logout: the cookie's token is revoked and the cookie cleared. */
static void
log_out(const struct serve_ctx *x, const struct http_request *req,
    const struct gate_who *who, uint64_t now_s, struct response *res)
{
	struct span c = req->hdr[HDR_COOKIE], v = SPAN_NULL;
	struct sharelink sl;

	(void)who;
	if (c.p != NULL)
		v = auth_cookie(c, GATE_SESSION_COOKIE);
	if (v.p != NULL && session_check(x->sessions, v, now_s, &sl) == 0 &&
	    session_revoke(x->sessions, v, now_s) != 0)
		log_err("logout: the session could not be revoked (the "
		    "revoked list is full or cannot be written); it stays "
		    "valid until it expires");
	http_serve_page(res, 303, "text/plain; charset=utf-8",
	    "Location: /\r\nSet-Cookie: " GATE_SESSION_COOKIE "=; Path=/; "
	    "Max-Age=0; HttpOnly; SameSite=Lax\r\n", "", 0);
}

/* What a share request asks for, checked. */
struct share_ask {
	char		 rel[PATH_MAX];
	bool		 folder;
	enum sharelink_kind kind;
};

/*
 * The path p of a share request (as in a URL; a form may have encoded
 * its first '/'), normalised into rel[0..cap).  0, or the status.
 */
static int
share_path(const struct serve_ctx *x, struct span p, char *rel, size_t cap,
    struct path_result *pr)
{
	char raw[PATH_MAX];

	if (p.len >= 3 && p.p[0] == '%' && p.p[1] == '2' &&
	    (p.p[2] == 'F' || p.p[2] == 'f')) {
		if (p.len - 2 > sizeof(raw))
			return 414;
		raw[0] = '/';
		memcpy(raw + 1, p.p + 3, p.len - 3);
		p = (struct span){ .p = raw, .len = p.len - 2 };
	}
	if (p.len == 0 || p.p[0] != '/' ||
	    path_normalize(p, x->cfg->allow_hidden, rel, cap, pr) != 0)
		return 400;
	return 0;
}

/*
 * Whether who may hand out a's link: a link never grants more than its
 * maker holds, and a drop box is only where uploads go.
 */
static bool
share_allowed(const struct serve_ctx *x, const struct gate_who *who,
    const struct share_ask *a)
{
	unsigned need = a->kind == SL_READ ? ACCESS_READ : ACCESS_WRITE;

	if (a->kind == SL_DROP && (!a->folder ||
	    !upload_writable(x->cfg, a->rel)))
		return false;
	return access_empty(x->cfg->access) ||
	    (access_rights(x->cfg->access, a->rel, who->user) & need) == need;
}

/* 0, or the status that refuses it. */
static int
share_parse(const struct serve_ctx *x, const struct http_request *req,
    const struct gate_who *who, struct share_ask *a)
{
	struct span p, k;
	struct path_result pr;
	int status;

	if (who->user[0] == '\0')
		return 403;
	if (!req->has_query || !http_query_param(req->query, "path", &p) ||
	    !http_query_param(req->query, "kind", &k))
		return 400;
	if ((status = share_path(x, p, a->rel, sizeof(a->rel), &pr)) != 0)
		return status;
	if (word(k, "read"))
		a->kind = SL_READ;
	else if (word(k, "drop"))
		a->kind = SL_DROP;
	else
		return 400;
	if (pr.len > SHARELINK_SUBJECT_MAX)
		return 414;
	a->folder = pr.trailing_slash || pr.is_root;
	return share_allowed(x, who, a) ? 0 : 403;
}

/* The link to a's path carrying tok, absolute when Host allows. */
static void
share_url(const struct http_request *req, const struct share_ask *a,
    const char *tok, struct hbuf *out)
{
	size_t n = strlen(a->rel);

	if (http_host_plain(req->hdr[HDR_HOST])) {
		hb_str(out, "http://");
		hb_add(out, req->hdr[HDR_HOST].p, req->hdr[HDR_HOST].len);
	}
	hb_add(out, "/", 1);
	listing_href(out, a->rel, n);
	if (a->folder && n > 0)
		hb_add(out, "/", 1);
	hb_str(out, "?t=");
	hb_str(out, tok);
}

static void	share_json(const char *, const char *, uint64_t,
		    struct response *);
static void	share_html(const struct share_ask *, const char *,
		    const char *, uint64_t, struct response *);

/* The page (or JSON) that hands out a new link. */
static void
share_page(const struct http_request *req, const struct share_ask *a,
    const char *tok, uint64_t expires, struct response *res)
{
	char url[PATH_MAX * 3 + SHARELINK_TOKEN_LONGEST + 300];
	struct hbuf u;

	hb_init(&u, url, sizeof(url));
	share_url(req, a, tok, &u);
	hb_add(&u, "", 1);
	if (u.overflow) {
		http_serve_status(res, 414, NULL);
		return;
	}
	if (negotiate_wants_json(req))
		share_json(url, tok, expires, res);
	else
		share_html(a, url, tok, expires, res);
}

/* The new link as JSON: {"url":..., "token":..., "expires":...}. */
static void
share_json(const char *url, const char *tok, uint64_t expires,
    struct response *res)
{
	char body[8192];
	struct hbuf b;

	hb_init(&b, body, sizeof(body));
	hb_str(&b, "{\"url\":\"");
	listing_json_escape(&b, url, strlen(url));
	hb_str(&b, "\",\"token\":\"");
	hb_str(&b, tok);
	hb_str(&b, "\",\"expires\":");
	hb_u64(&b, expires);
	hb_str(&b, "}\n");
	if (b.overflow)
		http_serve_status(res, 500, NULL);
	else
		http_serve_page(res, 200, "application/json", NULL, b.p, b.len);
}

/*
 * The page that hands out a new link: the link, its QR code (so a phone
 * passes it to another), when it ends, and a button that revokes it.
 */
static void
share_html(const struct share_ask *a, const char *url, const char *tok,
    uint64_t expires, struct response *res)
{
	time_t e = (time_t)expires;
	char when[32];
	struct hbuf b;
	struct tm tm;

	hb_init_heap(&b);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC",
	    gmtime_r(&e, &tm));
	hb_str(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
	    "charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width="
	    "device-width, initial-scale=1\">\n<link rel=\"icon\" "
	    "href=\"data:,\">\n<title>Share link</title>\n"
	    "<style>");
	hb_str(&b, page_css);
	hb_str(&b, "main{max-width:40em}.qr svg{width:240px;height:auto}"
	    "</style>\n</head>\n<body>\n<main>\n"
	    "<h1>Share link</h1>\n<p>");
	hb_str(&b, a->kind == SL_DROP ? "Anyone with this link may upload "
	    "into" : "Anyone with this link may read");
	hb_str(&b, " <b>/");
	listing_html_escape(&b, a->rel, strlen(a->rel));
	hb_str(&b, "</b> until ");
	hb_str(&b, when);
	hb_str(&b, ".</p>\n<p><input id=\"link\" readonly value=\"");
	listing_html_escape(&b, url, strlen(url));
	hb_str(&b, "\"></p>\n<p><a href=\"");
	listing_html_escape(&b, url, strlen(url));
	hb_str(&b, "\">Open the link</a></p>\n");
	/* Absolute links only: a QR code of a path would lead nowhere. */
	if (strncmp(url, "http://", 7) == 0) {
		hb_str(&b, "<p class=\"qr\">");
		if (qr_svg(url, &b) != 0)
			b.overflow = true;
		hb_str(&b, "</p>\n");
	}
	hb_str(&b, "<form method=\"post\" action=\"revoke?t=");
	hb_str(&b, tok);
	hb_str(&b, "\"><button>Revoke it now</button></form>\n</main>\n"
	    "</body>\n</html>\n");
	if (b.overflow)
		http_serve_status(res, 500, NULL);
	else
		http_serve_page(res, 200, "text/html; charset=utf-8",
		    "Content-Security-Policy: default-src 'none'; "
		    "style-src 'unsafe-inline'; img-src data:; "
		    "form-action 'self'\r\nReferrer-Policy: no-referrer\r\n",
		    b.p, b.len);
	hb_release(&b);
}

/* POST share?path=&kind=: a new link. */
static void
share(const struct serve_ctx *x, const struct http_request *req,
    const struct gate_who *who, uint64_t now_s, struct response *res)
{
	struct share_ask a;
	char tok[SHARELINK_TOKEN_LONGEST];
	uint64_t expires = now_s + x->cfg->auth_share_ms / 1000;
	int status = share_parse(x, req, who, &a);

	if (status != 0) {
		http_serve_status(res, status, NULL);
		return;
	}
	if (session_make(x->sessions, a.kind, who->user, a.rel, expires, 0,
	    tok, sizeof(tok)) == 0) {
		http_serve_status(res, 414, NULL);
		return;
	}
	share_page(req, &a, tok, expires, res);
}

/* POST revoke?t=: its maker ends a link. */
static void
revoke(const struct serve_ctx *x, const struct http_request *req,
    const struct gate_who *who, uint64_t now_s, struct response *res)
{
	struct span t;
	struct sharelink sl;

	if (!req->has_query || !http_query_param(req->query, "t", &t) ||
	    session_check(x->sessions, t, now_s, &sl) != 0) {
		answer(res, 404, NULL, "{\"error\":\"no such link\"}\n");
		return;
	}
	if (who->user[0] == '\0' || sl.kind == SL_SESSION ||
	    strcmp(sl.user, who->user) != 0) {
		answer(res, 403, NULL, "{\"error\":\"not your link\"}\n");
		return;
	}
	if (session_revoke(x->sessions, t, now_s) != 0) {
		answer(res, 503, NULL, "{\"error\":\"cannot revoke now\"}\n");
		return;
	}
	answer(res, 200, NULL, "{\"revoked\":true}\n");
}

/* The pages, and who answers a POST to each. */
static const struct {
	const char	*name;
	void		(*post)(const struct serve_ctx *,
			    const struct http_request *,
			    const struct gate_who *, uint64_t,
			    struct response *);
} pages[] = {
	{ "login", log_in }, { "logout", log_out }, { "share", share },
	{ "revoke", revoke },
};

/*
 * Whether a POST comes from a page of this server.  SameSite=Lax keeps
 * the cookie off another site's POSTs, but not off another port of the
 * same host (one "site" when the share is reached by IP address), nor
 * Basic credentials a browser remembers: what the browser says of the
 * request's origin decides, where it says anything.
 */
static bool
same_origin(const struct http_request *req)
{
	struct span site = http_header_value(req, "Sec-Fetch-Site");
	struct span origin = http_header_value(req, "Origin");
	struct span host = req->hdr[HDR_HOST];

	/* Browsers send it whatever the referrer policy; it decides. */
	if (site.p != NULL)
		return word(site, "same-origin");
	/* "null" under Referrer-Policy: no-referrer says nothing. */
	if (origin.p == NULL || word(origin, "null"))
		return true;
	/* "http://" HOST, exactly. */
	return origin.len == 7 + host.len && host.p != NULL &&
	    memcmp(origin.p, "http://", 7) == 0 &&
	    memcmp(origin.p + 7, host.p, host.len) == 0;
}

void
login_answer(const struct serve_ctx *x, const struct http_request *req,
    const struct gate_who *who, uint64_t now_s, struct response *res)
{
	struct span p = req->path;
	size_t pre = strlen(GATE_PREFIX), i;

	res->file_fd = -1;
	res->fentry = NULL;
	res->body_heap = NULL;
	/* A body these pages do not read closes the connection after. */
	if (req->chunked || (req->has_content_length &&
	    req->content_length > 0))
		res->keep_alive = false;
	p.p += pre;
	p.len -= pre;
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		if (word(p, pages[i].name))
			break;
	if (i == sizeof(pages) / sizeof(pages[0]))
		http_serve_status(res, 404, NULL);
	else if (req->method == HTTP_M_POST && !same_origin(req))
		answer(res, 403, NULL, "{\"error\":\"not from this server's "
		    "pages\"}\n");
	else if (req->method == HTTP_M_POST)
		pages[i].post(x, req, who, now_s, res);
	else if (i == 0 && (req->method == HTTP_M_GET ||
	    req->method == HTTP_M_HEAD))
		login_page(req, res);
	else
		http_serve_status(res, 405, i == 0 ? "Allow: GET, HEAD, POST\r\n" :
		    "Allow: POST\r\n");
}
