/*
 * check_http_parse.c - unit tests for the request-head parser.
 *
 * Every input goes through tu_guarded(), which places it right before a
 * PROT_NONE page, so a parser that reads one byte past len crashes the test
 * even without ASan (picohttpparser's test.c does the same).  Most tests
 * are tables of {name, input, expected} rows run with tcase_add_loop_test;
 * a failure prints the row name, the escaped input and expected vs got.
 */
#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"
#include "span.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* A literal input and its length, embedded NUL bytes included. */
#define IN(s)		.in = (s), .len = sizeof(s) - 1

static const struct http_limits lim_default = {
	.max_head = 8192, .max_target = 4096
};
static const struct http_limits lim_target8 = {
	.max_head = 8192, .max_target = 8
};
static const struct http_limits lim_head3 = {
	.max_head = 3, .max_target = 4096
};
static const struct http_limits lim_head4 = {
	.max_head = 4, .max_target = 4096
};
static const struct http_limits lim_head16 = {
	.max_head = 16, .max_target = 4096
};
static const struct http_limits lim_head32 = {
	.max_head = 32, .max_target = 4096
};

/*
 * Helpers
 */

/*
 * Renders p[0..len) for a failure message: printable ASCII as is, anything
 * else as a C escape, cut short with "..." when it does not fit.
 */
static const char *
show(const char *p, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		char tmp[8];
		int n;

		if (c == '\r')
			n = snprintf(tmp, sizeof(tmp), "\\r");
		else if (c == '\n')
			n = snprintf(tmp, sizeof(tmp), "\\n");
		else if (c == '\t')
			n = snprintf(tmp, sizeof(tmp), "\\t");
		else if (c == '\\' || c == '"')
			n = snprintf(tmp, sizeof(tmp), "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			n = snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		else
			n = snprintf(tmp, sizeof(tmp), "%c", c);
		if (o + (size_t)n + 4 >= cap) {
			memcpy(out + o, "...", 4);
			return out;
		}
		memcpy(out + o, tmp, (size_t)n);
		o += (size_t)n;
	}
	out[o] = '\0';
	return out;
}

/* show() for a C string, NULL printed as "(null)". */
static const char *
show_cstr(const char *s, char *out, size_t cap)
{
	if (s == NULL)
		return "(null)";
	return show(s, strlen(s), out, cap);
}

static const char *
result_name(int r)
{
	switch (r) {
	case HTTP_PARSE_PARTIAL:
		return "PARTIAL";
	case HTTP_PARSE_ERROR:
		return "ERROR";
	default:
		return r > 0 ? "OK" : "?";
	}
}

/*
 * Parses a guarded copy of in[0..len).  With keep, the copy is handed back
 * (the spans in req point into it) for tu_guard_free(); otherwise it is
 * freed before returning and only the non-span fields of req are valid.
 */
static int
parse(const char *in, size_t len, const struct http_limits *lim,
    struct http_request *req, char **keep)
{
	char *buf = tu_guarded(in, len);
	int r = http_parse_request(buf, len, lim ? lim : &lim_default, req);

	if (keep != NULL)
		*keep = buf;
	else
		tu_guard_free(buf);
	return r;
}

/* True when span s holds exactly the C string want (NULL: a null span). */
static bool
span_is(struct span s, const char *want)
{
	if (want == NULL)
		return s.p == NULL && s.len == 0;
	return s.p != NULL && span_eq(s, span_make(want, strlen(want)));
}

/* Appends printf output to buf[0..cap), failing the test on truncation. */
__attribute__((format(printf, 4, 5)))
static void
append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	ck_assert_msg(n >= 0 && (size_t)n < cap - *len,
	    "test buffer too small");
	*len += (size_t)n;
}

/*
 * Valid requests
 */

struct good_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	enum http_method method;
	const char	*method_name;	/* NULL: http_method_name(method) */
	const char	*target;
	const char	*path;
	const char	*query;		/* NULL: no query */
	uint8_t		 minor;
	bool		 keep_alive;
	bool		 has_clen;
	uint64_t	 clen;
	bool		 te;
	size_t		 nheaders;
};

#define HOST	"Host: example.org\r\n"

static const struct good_case good_cases[] = {
	{ .name = "simple_get",
	    IN("GET /index.html HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_GET, .target = "/index.html",
	    .path = "/index.html", .minor = 1, .keep_alive = true,
	    .nheaders = 1 },
	{ .name = "simple_head",
	    IN("HEAD /a/b HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_HEAD, .target = "/a/b", .path = "/a/b",
	    .minor = 1, .keep_alive = true, .nheaders = 1 },
	{ .name = "http10_without_connection_closes",
	    IN("GET / HTTP/1.0\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 0,
	    .keep_alive = false, .nheaders = 0 },
	{ .name = "http10_with_host_closes",
	    IN("GET / HTTP/1.0\r\n" HOST "\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 0,
	    .keep_alive = false, .nheaders = 1 },
	{ .name = "http10_connection_keep_alive",
	    IN("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 0,
	    .keep_alive = true, .nheaders = 1 },
	{ .name = "http10_keep_alive_any_case",
	    IN("GET / HTTP/1.0\r\nconnection: Keep-ALIVE\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 0,
	    .keep_alive = true, .nheaders = 1 },
	{ .name = "http10_keep_alive_in_second_header",
	    IN("GET / HTTP/1.0\r\nConnection: foo\r\n"
	    "Connection: bar, keep-alive\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 0,
	    .keep_alive = true, .nheaders = 2 },
	{ .name = "http10_keep_alive_and_close_closes",
	    IN("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 0,
	    .keep_alive = false, .nheaders = 1 },
	{ .name = "http10_close_in_other_header_closes",
	    IN("GET / HTTP/1.0\r\nConnection: keep-alive\r\n"
	    "Connection: close\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 0,
	    .keep_alive = false, .nheaders = 2 },
	{ .name = "http11_connection_close",
	    IN("GET / HTTP/1.1\r\n" HOST "Connection: close\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 1,
	    .keep_alive = false, .nheaders = 2 },
	{ .name = "http11_connection_close_uppercase",
	    IN("GET / HTTP/1.1\r\n" HOST "CONNECTION: CLOSE\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 1,
	    .keep_alive = false, .nheaders = 2 },
	{ .name = "http11_close_in_token_list",
	    IN("GET / HTTP/1.1\r\n" HOST "Connection: TE ,\tclose \r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 1,
	    .keep_alive = false, .nheaders = 2 },
	{ .name = "http11_close_in_second_connection_header",
	    IN("GET / HTTP/1.1\r\n" HOST "Connection: TE\r\n"
	    "Connection: close\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 1,
	    .keep_alive = false, .nheaders = 3 },
	{ .name = "http11_connection_keep_alive",
	    IN("GET / HTTP/1.1\r\n" HOST "Connection: keep-alive\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 1,
	    .keep_alive = true, .nheaders = 2 },
	{ .name = "http11_closed_is_not_close",
	    IN("GET / HTTP/1.1\r\n" HOST "Connection: closed, xclose\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 1,
	    .keep_alive = true, .nheaders = 2 },
	{ .name = "http12_treated_as_http11",
	    IN("GET / HTTP/1.2\r\n" HOST "\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 2,
	    .keep_alive = true, .nheaders = 1 },
	{ .name = "leading_crlf_lines_skipped",
	    IN("\r\n\r\nGET /x HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_GET, .target = "/x", .path = "/x", .minor = 1,
	    .keep_alive = true, .nheaders = 1 },
	{ .name = "leading_bare_lf_lines_skipped",
	    IN("\n\r\n\nGET /x HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_GET, .target = "/x", .path = "/x", .minor = 1,
	    .keep_alive = true, .nheaders = 1 },
	{ .name = "bare_lf_line_endings",
	    IN("GET /x HTTP/1.1\nHost: example.org\nAccept: */*\n\n"),
	    .method = HTTP_M_GET, .target = "/x", .path = "/x", .minor = 1,
	    .keep_alive = true, .nheaders = 2 },
	{ .name = "mixed_line_endings",
	    IN("GET /x HTTP/1.1\r\nHost: example.org\nAccept: */*\r\n\n"),
	    .method = HTTP_M_GET, .target = "/x", .path = "/x", .minor = 1,
	    .keep_alive = true, .nheaders = 2 },
	{ .name = "absolute_form_http",
	    IN("GET http://example.org/a/b?x=1 HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_GET, .target = "http://example.org/a/b?x=1",
	    .path = "/a/b", .query = "x=1", .minor = 1, .keep_alive = true,
	    .nheaders = 1 },
	{ .name = "absolute_form_https_any_case_with_port",
	    IN("GET HTTPS://Example.ORG:8443/p HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_GET, .target = "HTTPS://Example.ORG:8443/p",
	    .path = "/p", .minor = 1, .keep_alive = true, .nheaders = 1 },
	/* RFC 9110 §4.2.3: an empty path is equivalent to "/". */
	{ .name = "absolute_form_without_path_is_root",
	    IN("GET http://example.org HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_GET, .target = "http://example.org",
	    .path = "/", .minor = 1, .keep_alive = true, .nheaders = 1 },
	{ .name = "absolute_form_port_without_path_is_root",
	    IN("HEAD https://example.org:8443 HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_HEAD, .target = "https://example.org:8443",
	    .path = "/", .minor = 1, .keep_alive = true, .nheaders = 1 },
	{ .name = "absolute_form_query_without_path",
	    IN("GET http://example.org?q=1 HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_GET, .target = "http://example.org?q=1",
	    .path = "/", .query = "q=1", .minor = 1, .keep_alive = true,
	    .nheaders = 1 },
	{ .name = "query_split_from_path",
	    IN("GET /a/b?c=d&e HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_GET, .target = "/a/b?c=d&e", .path = "/a/b",
	    .query = "c=d&e", .minor = 1, .keep_alive = true,
	    .nheaders = 1 },
	{ .name = "empty_query_still_has_query",
	    IN("GET /a? HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_GET, .target = "/a?", .path = "/a", .query = "",
	    .minor = 1, .keep_alive = true, .nheaders = 1 },
	{ .name = "second_question_mark_belongs_to_query",
	    IN("GET /a?b?c HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_GET, .target = "/a?b?c", .path = "/a",
	    .query = "b?c", .minor = 1, .keep_alive = true, .nheaders = 1 },
	{ .name = "encoded_path_left_raw",
	    IN("GET /a%20b/%2e%2e/%00 HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_GET, .target = "/a%20b/%2e%2e/%00",
	    .path = "/a%20b/%2e%2e/%00", .minor = 1, .keep_alive = true,
	    .nheaders = 1 },
	{ .name = "percent_encoded_utf8_in_target",
	    IN("GET /caf%C3%A9 HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_GET, .target = "/caf%C3%A9",
	    .path = "/caf%C3%A9", .minor = 1, .keep_alive = true,
	    .nheaders = 1 },
	{ .name = "host_with_port",
	    IN("GET / HTTP/1.1\r\nHost: example.org:8080\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 1,
	    .keep_alive = true, .nheaders = 1 },
	{ .name = "host_ipv6_literal_with_port",
	    IN("GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 1,
	    .keep_alive = true, .nheaders = 1 },
	{ .name = "host_empty_value",
	    IN("GET / HTTP/1.1\r\nHost:\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 1,
	    .keep_alive = true, .nheaders = 1 },
	{ .name = "host_reg_name_with_sub_delims_and_escape",
	    IN("GET / HTTP/1.1\r\nHost: a-b_c~d!$&'()*+,;=%41.x\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 1,
	    .keep_alive = true, .nheaders = 1 },
	{ .name = "options_asterisk_form",
	    IN("OPTIONS * HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_OPTIONS, .target = "*", .path = "*", .minor = 1,
	    .keep_alive = true, .nheaders = 1 },
	{ .name = "unknown_method_token",
	    IN("BREW /pot HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_UNKNOWN, .method_name = "BREW", .target = "/pot",
	    .path = "/pot", .minor = 1, .keep_alive = true, .nheaders = 1 },
	{ .name = "lowercase_get_is_unknown",
	    IN("get / HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_UNKNOWN, .method_name = "get", .target = "/",
	    .path = "/", .minor = 1, .keep_alive = true, .nheaders = 1 },
	{ .name = "method_with_tchar_symbols",
	    IN("M-SEARCH_!#$%&'*+.^`|~ / HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_UNKNOWN, .method_name = "M-SEARCH_!#$%&'*+.^`|~",
	    .target = "/", .path = "/", .minor = 1, .keep_alive = true,
	    .nheaders = 1 },
	{ .name = "method_of_max_length",
	    IN("ABCDEFGHIJKLMNOPQRSTUVWX / HTTP/1.1\r\n" HOST "\r\n"),
	    .method = HTTP_M_UNKNOWN,
	    .method_name = "ABCDEFGHIJKLMNOPQRSTUVWX", .target = "/",
	    .path = "/", .minor = 1, .keep_alive = true, .nheaders = 1 },
	{ .name = "content_length",
	    IN("POST /u HTTP/1.1\r\n" HOST "Content-Length: 5\r\n\r\n"),
	    .method = HTTP_M_POST, .target = "/u", .path = "/u", .minor = 1,
	    .keep_alive = true, .has_clen = true, .clen = 5, .nheaders = 2 },
	{ .name = "content_length_zero",
	    IN("PUT /u HTTP/1.1\r\n" HOST "Content-Length: 0\r\n\r\n"),
	    .method = HTTP_M_PUT, .target = "/u", .path = "/u", .minor = 1,
	    .keep_alive = true, .has_clen = true, .clen = 0, .nheaders = 2 },
	{ .name = "content_length_leading_zeros",
	    IN("POST /u HTTP/1.1\r\n" HOST "Content-Length: 007\r\n\r\n"),
	    .method = HTTP_M_POST, .target = "/u", .path = "/u", .minor = 1,
	    .keep_alive = true, .has_clen = true, .clen = 7, .nheaders = 2 },
	{ .name = "content_length_int64_max",
	    IN("POST /u HTTP/1.1\r\n" HOST
	    "Content-Length: 9223372036854775807\r\n\r\n"),
	    .method = HTTP_M_POST, .target = "/u", .path = "/u", .minor = 1,
	    .keep_alive = true, .has_clen = true, .clen = INT64_MAX,
	    .nheaders = 2 },
	{ .name = "content_length_identical_duplicates",
	    IN("POST /u HTTP/1.1\r\n" HOST "Content-Length: 5\r\n"
	    "content-length: 5\r\n\r\n"),
	    .method = HTTP_M_POST, .target = "/u", .path = "/u", .minor = 1,
	    .keep_alive = true, .has_clen = true, .clen = 5, .nheaders = 3 },
	{ .name = "content_length_list_of_same_value",
	    IN("POST /u HTTP/1.1\r\n" HOST "Content-Length: 5, 5\r\n\r\n"),
	    .method = HTTP_M_POST, .target = "/u", .path = "/u", .minor = 1,
	    .keep_alive = true, .has_clen = true, .clen = 5, .nheaders = 2 },
	/* A chunked body is decoded, so the connection goes on after it. */
	{ .name = "chunked_keeps_the_connection",
	    IN("POST /u HTTP/1.1\r\n" HOST
	    "Transfer-Encoding: chunked\r\n\r\n"),
	    .method = HTTP_M_POST, .target = "/u", .path = "/u", .minor = 1,
	    .keep_alive = true, .te = true, .nheaders = 2 },
	{ .name = "chunked_in_any_case_with_ows",
	    IN("POST /u HTTP/1.1\r\n" HOST
	    "Transfer-Encoding:  ChUnKeD \t\r\n\r\n"),
	    .method = HTTP_M_POST, .target = "/u", .path = "/u", .minor = 1,
	    .keep_alive = true, .te = true, .nheaders = 2 },
	{ .name = "chunked_after_empty_list_elements",
	    IN("POST /u HTTP/1.1\r\n" HOST
	    "Transfer-Encoding: , chunked ,\r\n\r\n"),
	    .method = HTTP_M_POST, .target = "/u", .path = "/u", .minor = 1,
	    .keep_alive = true, .te = true, .nheaders = 2 },
	{ .name = "htab_allowed_in_header_value",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A: a\tb\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 1,
	    .keep_alive = true, .nheaders = 2 },
	{ .name = "obs_text_allowed_in_header_value",
	    IN("GET / HTTP/1.1\r\n" HOST "User-Agent: caf\xc3\xa9 \x80\xff\r\n"
	    "\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 1,
	    .keep_alive = true, .nheaders = 2 },
	{ .name = "empty_header_value",
	    IN("GET / HTTP/1.1\r\n" HOST "X-Empty:\r\nX-Blank: \t \r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 1,
	    .keep_alive = true, .nheaders = 3 },
	{ .name = "empty_host_value_accepted",
	    IN("GET / HTTP/1.1\r\nHost:\r\n\r\n"),
	    .method = HTTP_M_GET, .target = "/", .path = "/", .minor = 1,
	    .keep_alive = true, .nheaders = 1 },
};

static void
check_good(const struct good_case *c, const char *buf, int r,
    const struct http_request *req)
{
	char si[256], sg[256], sw[256];
	const char *mname = c->method_name ? c->method_name :
	    http_method_name(c->method);

	show(c->in, c->len, si, sizeof(si));
	ck_assert_msg(r == (int)c->len,
	    "%s: input \"%s\": expected %zu bytes consumed, got %d (%s, "
	    "status %d)", c->name, si, c->len, r, result_name(r), req->status);
	ck_assert_msg(req->head_len == c->len,
	    "%s: input \"%s\": expected head_len %zu, got %zu", c->name, si,
	    c->len, req->head_len);
	ck_assert_msg(req->method == c->method,
	    "%s: input \"%s\": expected method %d, got %d", c->name, si,
	    (int)c->method, (int)req->method);
	ck_assert_msg(span_is(req->method_name, mname),
	    "%s: input \"%s\": expected method name \"%s\", got \"%s\"",
	    c->name, si, show_cstr(mname, sw, sizeof(sw)),
	    show(req->method_name.p, req->method_name.len, sg, sizeof(sg)));
	ck_assert_msg(span_is(req->target, c->target),
	    "%s: input \"%s\": expected target \"%s\", got \"%s\"", c->name,
	    si, show_cstr(c->target, sw, sizeof(sw)),
	    show(req->target.p, req->target.len, sg, sizeof(sg)));
	ck_assert_msg(span_is(req->path, c->path),
	    "%s: input \"%s\": expected path \"%s\", got \"%s\"", c->name, si,
	    show_cstr(c->path, sw, sizeof(sw)),
	    show(req->path.p, req->path.len, sg, sizeof(sg)));
	/* Every span points into the caller's buffer (http_parse.h). */
	ck_assert_msg(req->path.p >= buf && req->path.p + req->path.len <=
	    buf + c->len, "%s: path does not point into the input", c->name);
	ck_assert_msg(req->has_query == (c->query != NULL),
	    "%s: input \"%s\": expected has_query %d, got %d", c->name, si,
	    c->query != NULL, req->has_query);
	if (c->query != NULL)
		ck_assert_msg(span_is(req->query, c->query),
		    "%s: input \"%s\": expected query \"%s\", got \"%s\"",
		    c->name, si, show_cstr(c->query, sw, sizeof(sw)),
		    show(req->query.p, req->query.len, sg, sizeof(sg)));
	else
		ck_assert_msg(req->query.len == 0,
		    "%s: input \"%s\": expected no query, got \"%s\"", c->name,
		    si, show(req->query.p, req->query.len, sg, sizeof(sg)));
	ck_assert_msg(req->version_major == 1 && req->version_minor == c->minor,
	    "%s: input \"%s\": expected HTTP/1.%u, got HTTP/%u.%u", c->name,
	    si, c->minor, req->version_major, req->version_minor);
	ck_assert_msg(req->keep_alive == c->keep_alive,
	    "%s: input \"%s\": expected keep_alive %d, got %d", c->name, si,
	    c->keep_alive, req->keep_alive);
	ck_assert_msg(req->has_content_length == c->has_clen &&
	    req->content_length == c->clen,
	    "%s: input \"%s\": expected content length %d/%ju, got %d/%ju",
	    c->name, si, c->has_clen, (uintmax_t)c->clen,
	    req->has_content_length, (uintmax_t)req->content_length);
	ck_assert_msg(req->has_transfer_encoding == c->te,
	    "%s: input \"%s\": expected has_transfer_encoding %d, got %d",
	    c->name, si, c->te, req->has_transfer_encoding);
	ck_assert_msg(req->nheaders == c->nheaders,
	    "%s: input \"%s\": expected %zu headers, got %zu", c->name, si,
	    c->nheaders, req->nheaders);
}

START_TEST(parse_accepts_valid_request)
{
	const struct good_case *c = &good_cases[_i];
	struct http_request req;
	char *buf;
	int r = parse(c->in, c->len, NULL, &req, &buf);

	check_good(c, buf, r, &req);
	tu_guard_free(buf);
}
END_TEST

/*
 * Every prefix of a valid request is PARTIAL, and the full request parses
 * as expected (picohttpparser's "incomplete" tests).  Each prefix sits in
 * its own guarded buffer, so reading the byte after it crashes.
 */
START_TEST(parse_every_prefix_of_valid_request_is_partial)
{
	const struct good_case *c = &good_cases[_i];
	struct http_request req;
	char si[256];
	char *buf;
	int r;

	for (size_t k = 0; k < c->len; k++) {
		r = parse(c->in, k, NULL, &req, NULL);
		ck_assert_msg(r == HTTP_PARSE_PARTIAL,
		    "%s: prefix of %zu/%zu bytes \"%s\": expected PARTIAL, "
		    "got %d (%s, status %d)", c->name, k, c->len,
		    show(c->in, k, si, sizeof(si)), r, result_name(r),
		    req.status);
	}
	r = parse(c->in, c->len, NULL, &req, &buf);
	check_good(c, buf, r, &req);
	tu_guard_free(buf);
}
END_TEST

/*
 * Hostile and malformed input: one table per kind, each row with the
 * status the parser must answer.
 */

struct bad_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const struct http_limits *lim;	/* NULL: lim_default */
	int		 status;
};

#define REQ(line, hdrs)	IN(line "\r\n" hdrs "\r\n")

static const struct bad_case nul_cases[] = {
	{ "nul_as_first_byte", IN("\0GET / HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "nul_in_method", IN("G\0ET / HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "nul_after_method", IN("GET\0/ HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "nul_in_target", IN("GET /a\0b HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "nul_at_target_start", IN("GET \0/ HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "nul_in_version", IN("GET / HTTP/1.\0\r\n" HOST "\r\n"), NULL, 400 },
	{ "nul_after_version", IN("GET / HTTP/1.1\0\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "nul_in_header_name",
	    IN("GET / HTTP/1.1\r\n" HOST "X-\0A: b\r\n\r\n"), NULL, 400 },
	{ "nul_as_header_line", IN("GET / HTTP/1.1\r\n" HOST "\0\r\n\r\n"),
	    NULL, 400 },
	{ "nul_in_header_value",
	    IN("GET / HTTP/1.1\r\nHost: exa\0mple.org\r\n\r\n"), NULL, 400 },
	{ "nul_at_header_value_end",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A: b\0\r\n\r\n"), NULL, 400 },
	{ "nul_as_whole_header_value",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A: \0\r\n\r\n"), NULL, 400 },
};

static const struct bad_case ctl_cases[] = {
	{ "soh_in_header_value",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A: a\x01" "b\r\n\r\n"), NULL, 400 },
	{ "backspace_in_header_value",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A: a\bb\r\n\r\n"), NULL, 400 },
	{ "vt_in_header_value",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A: a\vb\r\n\r\n"), NULL, 400 },
	{ "ff_in_header_value",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A: a\fb\r\n\r\n"), NULL, 400 },
	{ "esc_in_header_value",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A: \x1b[31mred\r\n\r\n"), NULL,
	    400 },
	{ "unit_separator_at_value_end",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A: a\x1f\r\n\r\n"), NULL, 400 },
	{ "ctl_in_target", IN("GET /a\x01" "b HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "htab_in_target", IN("GET /a\tb HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "ctl_in_method", IN("GE\x01T / HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "ctl_in_header_name",
	    IN("GET / HTTP/1.1\r\n" HOST "X-\x02" "A: b\r\n\r\n"), NULL, 400 },
	{ "htab_in_header_name",
	    IN("GET / HTTP/1.1\r\n" HOST "X\tA: b\r\n\r\n"), NULL, 400 },
};

static const struct bad_case del_cases[] = {
	{ "del_in_method", IN("GE\x7fT / HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "del_in_target", IN("GET /a\x7f HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "del_in_header_name",
	    IN("GET / HTTP/1.1\r\n" HOST "X\x7f: b\r\n\r\n"), NULL, 400 },
	{ "del_in_header_value",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A: b\x7f\r\n\r\n"), NULL, 400 },
};

/* RFC 9112 §2.2: a bare CR is invalid everywhere. */
static const struct bad_case bare_cr_cases[] = {
	{ "bare_cr_before_request_line",
	    IN("\rGET / HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "bare_cr_twice_before_request_line",
	    IN("\r\rGET / HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "bare_cr_after_method", IN("GET\r/ HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "bare_cr_in_target", IN("GET /a\rb HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "bare_cr_after_target", IN("GET /\r HTTP/1.1\r\n" HOST "\r\n"),
	    NULL, 400 },
	{ "bare_cr_ends_request_line",
	    IN("GET / HTTP/1.1\r" HOST "\r\n"), NULL, 400 },
	{ "cr_cr_lf_ends_request_line",
	    IN("GET / HTTP/1.1\r\r\n" HOST "\r\n"), NULL, 400 },
	{ "bare_cr_in_header_name",
	    IN("GET / HTTP/1.1\r\n" HOST "X-\rA: b\r\n\r\n"), NULL, 400 },
	{ "bare_cr_in_header_value",
	    IN("GET / HTTP/1.1\r\nHost: a\rX-A: b\r\n\r\n"), NULL, 400 },
	{ "bare_cr_ends_header_value",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A: b\r\r\n\r\n"), NULL, 400 },
	{ "bare_cr_in_final_empty_line",
	    IN("GET / HTTP/1.1\r\n" HOST "\r\r\n"), NULL, 400 },
	{ "bare_cr_then_header",
	    IN("GET / HTTP/1.1\r\n" HOST "\rX-A: b\r\n\r\n"), NULL, 400 },
};

/* RFC 9112 §5.2: obs-fold is refused. */
static const struct bad_case obs_fold_cases[] = {
	{ "obs_fold_with_sp",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A: a\r\n b\r\n\r\n"), NULL, 400 },
	{ "obs_fold_with_htab",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A: a\r\n\tb\r\n\r\n"), NULL, 400 },
	{ "obs_fold_with_bare_lf",
	    IN("GET / HTTP/1.1\n" HOST "X-A: a\n  b\n\n"), NULL, 400 },
	{ "obs_fold_of_host",
	    IN("GET / HTTP/1.1\r\nHost:\r\n example.org\r\n\r\n"), NULL, 400 },
	/* §2.2: whitespace between the start-line and the first field. */
	{ "whitespace_before_first_header",
	    IN("GET / HTTP/1.1\r\n " HOST "\r\n"), NULL, 400 },
	{ "whitespace_only_line_as_terminator",
	    IN("GET / HTTP/1.1\r\n" HOST " \r\n\r\n"), NULL, 400 },
};

/* RFC 9112 §5.1 and RFC 9110 §5.1: field-name is a token, then ':'. */
static const struct bad_case header_name_cases[] = {
	{ "space_before_colon",
	    IN("GET / HTTP/1.1\r\nHost : example.org\r\n\r\n"), NULL, 400 },
	{ "htab_before_colon",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A\t: b\r\n\r\n"), NULL, 400 },
	{ "empty_header_name",
	    IN("GET / HTTP/1.1\r\n" HOST ": b\r\n\r\n"), NULL, 400 },
	{ "header_without_colon",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A b\r\n\r\n"), NULL, 400 },
	{ "header_name_only",
	    IN("GET / HTTP/1.1\r\n" HOST "X-A\r\n\r\n"), NULL, 400 },
	{ "separator_in_header_name",
	    IN("GET / HTTP/1.1\r\n" HOST "X(A): b\r\n\r\n"), NULL, 400 },
	{ "slash_in_header_name",
	    IN("GET / HTTP/1.1\r\n" HOST "X/A: b\r\n\r\n"), NULL, 400 },
	{ "space_in_header_name",
	    IN("GET / HTTP/1.1\r\n" HOST "X A: b\r\n\r\n"), NULL, 400 },
	{ "high_byte_in_header_name",
	    IN("GET / HTTP/1.1\r\n" HOST "X-\xc3\xa9: b\r\n\r\n"), NULL, 400 },
};

/* RFC 9112 §3.2: one Host in HTTP/1.1, never two. */
static const struct bad_case host_cases[] = {
	{ "missing_host_http11", IN("GET / HTTP/1.1\r\n\r\n"), NULL, 400 },
	{ "missing_host_with_other_headers",
	    IN("GET / HTTP/1.1\r\nAccept: */*\r\nX-Host: a\r\n\r\n"), NULL,
	    400 },
	{ "missing_host_http12", IN("GET / HTTP/1.2\r\n\r\n"), NULL, 400 },
	{ "two_host_headers_http11",
	    IN("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), NULL, 400 },
	{ "two_identical_host_headers",
	    IN("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"), NULL, 400 },
	{ "two_host_headers_http10",
	    IN("GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n"), NULL, 400 },
	/* RFC 9110 §7.2 and §4.2.4: uri-host [ ":" port ], nothing else. */
	{ "host_with_userinfo",
	    IN("GET / HTTP/1.1\r\nHost: user@example.org\r\n\r\n"), NULL, 400 },
	{ "host_with_user_and_password",
	    IN("GET / HTTP/1.1\r\nHost: u:p@example.org\r\n\r\n"), NULL, 400 },
	{ "host_port_not_digits",
	    IN("GET / HTTP/1.1\r\nHost: example.org:80a\r\n\r\n"), NULL, 400 },
	{ "host_two_ports",
	    IN("GET / HTTP/1.1\r\nHost: example.org:80:81\r\n\r\n"), NULL,
	    400 },
	{ "host_with_space",
	    IN("GET / HTTP/1.1\r\nHost: exa mple.org\r\n\r\n"), NULL, 400 },
	{ "host_with_slash",
	    IN("GET / HTTP/1.1\r\nHost: example.org/x\r\n\r\n"), NULL, 400 },
	{ "host_with_raw_utf8",
	    IN("GET / HTTP/1.1\r\nHost: caf\xc3\xa9.org\r\n\r\n"), NULL, 400 },
	{ "host_bad_percent_escape",
	    IN("GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n"), NULL, 400 },
	{ "host_unclosed_ip_literal",
	    IN("GET / HTTP/1.1\r\nHost: [2001:db8::1\r\n\r\n"), NULL, 400 },
	{ "host_empty_ip_literal",
	    IN("GET / HTTP/1.1\r\nHost: []\r\n\r\n"), NULL, 400 },
	{ "host_junk_after_ip_literal",
	    IN("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n"), NULL, 400 },
};

/* RFC 9112 §6.1, §7: chunked last and once; other codings are ours? 501. */
static const struct bad_case transfer_coding_cases[] = {
	{ "chunked_not_last",
	    IN("POST / HTTP/1.1\r\n" HOST
	    "Transfer-Encoding: chunked, gzip\r\n\r\n"), NULL, 400 },
	{ "chunked_twice",
	    IN("POST / HTTP/1.1\r\n" HOST
	    "Transfer-Encoding: chunked, chunked\r\n\r\n"), NULL, 400 },
	{ "chunked_twice_over_two_lines",
	    IN("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), NULL, 400 },
	{ "only_an_unknown_coding",
	    IN("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\n\r\n"),
	    NULL, 400 },
	{ "empty_transfer_encoding",
	    IN("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding:\r\n\r\n"),
	    NULL, 400 },
	{ "coding_name_not_a_token",
	    IN("POST / HTTP/1.1\r\n" HOST
	    "Transfer-Encoding: chun\"ked\"\r\n\r\n"), NULL, 400 },
	{ "chunked_with_a_space_inside",
	    IN("POST / HTTP/1.1\r\n" HOST
	    "Transfer-Encoding: chun ked\r\n\r\n"), NULL, 400 },
	{ "transfer_encoding_in_http10",
	    IN("POST /u HTTP/1.0\r\nConnection: keep-alive\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), NULL, 400 },
	{ "unknown_coding_before_chunked",
	    IN("POST / HTTP/1.1\r\n" HOST
	    "Transfer-Encoding: gzip, chunked\r\n\r\n"), NULL, 501 },
	{ "unknown_coding_with_parameters_before_chunked",
	    IN("POST / HTTP/1.1\r\n" HOST
	    "Transfer-Encoding: x-mine;a=b, CHUNKED\r\n\r\n"), NULL, 501 },
};

/* RFC 9112 §6.1 and §6.3: framing must be unambiguous. */
static const struct bad_case content_length_cases[] = {
	{ "content_length_non_numeric",
	    IN("POST / HTTP/1.1\r\n" HOST "Content-Length: abc\r\n\r\n"), NULL,
	    400 },
	{ "content_length_negative",
	    IN("POST / HTTP/1.1\r\n" HOST "Content-Length: -1\r\n\r\n"), NULL,
	    400 },
	{ "content_length_plus_sign",
	    IN("POST / HTTP/1.1\r\n" HOST "Content-Length: +5\r\n\r\n"), NULL,
	    400 },
	{ "content_length_space_inside",
	    IN("POST / HTTP/1.1\r\n" HOST "Content-Length: 1 0\r\n\r\n"), NULL,
	    400 },
	{ "content_length_htab_inside",
	    IN("POST / HTTP/1.1\r\n" HOST "Content-Length: 1\t0\r\n\r\n"),
	    NULL, 400 },
	{ "content_length_hex",
	    IN("POST / HTTP/1.1\r\n" HOST "Content-Length: 0x5\r\n\r\n"), NULL,
	    400 },
	{ "content_length_decimal_point",
	    IN("POST / HTTP/1.1\r\n" HOST "Content-Length: 5.0\r\n\r\n"), NULL,
	    400 },
	{ "content_length_empty",
	    IN("POST / HTTP/1.1\r\n" HOST "Content-Length:\r\n\r\n"), NULL,
	    400 },
	{ "content_length_only_commas",
	    IN("POST / HTTP/1.1\r\n" HOST "Content-Length: , ,\r\n\r\n"), NULL,
	    400 },
	{ "content_length_over_int64",
	    IN("POST / HTTP/1.1\r\n" HOST
	    "Content-Length: 9223372036854775808\r\n\r\n"), NULL, 400 },
	{ "content_length_over_uint64",
	    IN("POST / HTTP/1.1\r\n" HOST
	    "Content-Length: 18446744073709551616\r\n\r\n"), NULL, 400 },
	{ "content_length_wraps_uint64_to_small",
	    IN("POST / HTTP/1.1\r\n" HOST
	    "Content-Length: 18446744073709551621\r\n\r\n"), NULL, 400 },
	{ "content_length_huge",
	    IN("POST / HTTP/1.1\r\n" HOST
	    "Content-Length: 99999999999999999999999999999999\r\n\r\n"), NULL,
	    400 },
	{ "content_length_differing_duplicates",
	    IN("POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n"), NULL, 400 },
	{ "content_length_list_differs",
	    IN("POST / HTTP/1.1\r\n" HOST "Content-Length: 5, 6\r\n\r\n"), NULL,
	    400 },
	{ "content_length_list_differs_across_headers",
	    IN("POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\n"
	    "Content-Length: 5, 6\r\n\r\n"), NULL, 400 },
	{ "content_length_list_with_bad_element",
	    IN("POST / HTTP/1.1\r\n" HOST "Content-Length: 5, x\r\n\r\n"), NULL,
	    400 },
	{ "content_length_and_transfer_encoding",
	    IN("POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), NULL, 400 },
	{ "transfer_encoding_and_content_length",
	    IN("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n"), NULL, 400 },
	{ "content_length_and_transfer_encoding_http10",
	    IN("POST / HTTP/1.0\r\nContent-Length: 0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), NULL, 400 },
};

static const struct bad_case limit_cases[] = {
	{ "target_over_max_target_complete",
	    IN("GET /12345678 HTTP/1.1\r\n" HOST "\r\n"), &lim_target8, 414 },
	{ "target_over_max_target_incomplete", IN("GET /12345678"),
	    &lim_target8, 414 },
	{ "absolute_target_over_max_target",
	    IN("GET http://h/ HTTP/1.1\r\n" HOST "\r\n"), &lim_target8, 414 },
	{ "method_only_line_reaches_max_head", IN("GET"), &lim_head3, 414 },
	{ "request_line_reaches_max_head", IN("GET /0123456789a"),
	    &lim_head16, 414 },
	{ "incomplete_headers_reach_max_head",
	    IN("GET / HTTP/1.1\r\nHost: example.org\r\n"), &lim_head32, 431 },
	{ "complete_head_over_max_head",
	    IN("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n"), &lim_head32,
	    431 },
};

static const struct bad_case method_cases[] = {
	{ "method_longer_than_max",
	    IN("ABCDEFGHIJKLMNOPQRSTUVWXY / HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    501 },
	{ "method_longer_than_max_incomplete",
	    IN("ABCDEFGHIJKLMNOPQRSTUVWXY"), NULL, 501 },
	{ "method_much_longer_than_max_incomplete",
	    IN("GETGETGETGETGETGETGETGETGETGETGETGETGETGET"), NULL, 501 },
	{ "empty_method", IN(" / HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "method_then_crlf", IN("GET\r\n" HOST "\r\n"), NULL, 400 },
	{ "method_then_lf", IN("GET\n" HOST "\r\n"), NULL, 400 },
	{ "method_then_htab", IN("GET\t/ HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "separator_in_method", IN("GE(T / HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "slash_in_method", IN("GET/ / HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "high_byte_in_method", IN("G\xc9T / HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
};

/* RFC 9112 §2.3: "HTTP/" DIGIT "." DIGIT, case-sensitive; only 1.x. */
static const struct bad_case version_cases[] = {
	{ "http20", IN("GET / HTTP/2.0\r\n" HOST "\r\n"), NULL, 505 },
	{ "http30", IN("GET / HTTP/3.0\r\n" HOST "\r\n"), NULL, 505 },
	{ "http09", IN("GET / HTTP/0.9\r\n" HOST "\r\n"), NULL, 505 },
	{ "http00", IN("GET / HTTP/0.0\r\n\r\n"), NULL, 505 },
	{ "http91", IN("GET / HTTP/9.1\r\n\r\n"), NULL, 505 },
	{ "http_1_10", IN("GET / HTTP/1.10\r\n" HOST "\r\n"), NULL, 400 },
	{ "http_1_without_minor", IN("GET / HTTP/1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "http_1_dot_without_minor", IN("GET / HTTP/1.\r\n" HOST "\r\n"),
	    NULL, 400 },
	{ "http_11_without_dot", IN("GET / HTTP/11\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "lowercase_http", IN("GET / http/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "mixed_case_http", IN("GET / Http/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "trailing_garbage", IN("GET / HTTP/1.1x\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "trailing_space", IN("GET / HTTP/1.1 \r\n" HOST "\r\n"), NULL,
	    400 },
	{ "letter_minor", IN("GET / HTTP/1.x\r\n" HOST "\r\n"), NULL, 400 },
	{ "letter_major", IN("GET / HTTP/x.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "https_name", IN("GET / HTTPS/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "space_instead_of_slash", IN("GET / HTTP 1.1\r\n" HOST "\r\n"),
	    NULL, 400 },
	{ "three_part_version", IN("GET / HTTP/1.1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "missing_version", IN("GET /\r\n" HOST "\r\n"), NULL, 400 },
	{ "empty_version", IN("GET / \r\n" HOST "\r\n"), NULL, 400 },
};

/* RFC 9112 §3: method SP request-target SP HTTP-version, single spaces. */
static const struct bad_case request_line_cases[] = {
	{ "two_spaces_between_method_and_target",
	    IN("GET  / HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "two_spaces_between_target_and_version",
	    IN("GET /  HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "empty_target", IN("GET  HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "leading_space", IN(" GET / HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "htab_between_target_and_version",
	    IN("GET /\tHTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "asterisk_with_get", IN("GET * HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "asterisk_with_head", IN("HEAD * HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "asterisk_with_suffix", IN("OPTIONS *x HTTP/1.1\r\n" HOST "\r\n"),
	    NULL, 400 },
	{ "relative_target", IN("GET index.html HTTP/1.1\r\n" HOST "\r\n"),
	    NULL, 400 },
	{ "authority_form_with_get",
	    IN("GET example.org:443 HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "other_scheme", IN("GET ftp://example.org/ HTTP/1.1\r\n" HOST "\r\n"),
	    NULL, 400 },
	{ "scheme_without_slashes",
	    IN("GET http:example.org/ HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	/* RFC 9110 §4.2.1: an http URI with an empty host is invalid. */
	{ "absolute_form_empty_host",
	    IN("GET http:///etc/passwd HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "absolute_form_scheme_only",
	    IN("GET http:// HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "absolute_form_empty_host_with_query",
	    IN("GET https://?q HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	/* RFC 9112 §3.2 and RFC 9110 §4.2.4: no fragment, no userinfo. */
	{ "fragment_in_target",
	    IN("GET /a#frag HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "fragment_after_query",
	    IN("GET /a?q=1#frag HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "empty_fragment",
	    IN("GET /a# HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "fragment_in_absolute_form",
	    IN("GET http://example.org/a#f HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "userinfo_in_absolute_form",
	    IN("GET http://user@example.org/ HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "user_and_password_in_absolute_form",
	    IN("GET http://u:p@example.org/ HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	{ "bad_port_in_absolute_form",
	    IN("GET http://example.org:x/ HTTP/1.1\r\n" HOST "\r\n"), NULL,
	    400 },
	/* §3.2.1: bytes above 0x7E are percent-encoded by clients. */
	{ "raw_utf8_in_target",
	    IN("GET /caf\xc3\xa9 HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "raw_byte_0x80_in_target",
	    IN("GET /a\x80" "b HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
	{ "raw_byte_0xff_in_query",
	    IN("GET /a?q=\xff HTTP/1.1\r\n" HOST "\r\n"), NULL, 400 },
};

/* Bytes other protocols send to an HTTP port by mistake. */
static const struct bad_case foreign_cases[] = {
	{ "tls_client_hello",
	    IN("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x8a\x21"), NULL,
	    400 },
	{ "tls_client_hello_first_byte", IN("\x16"), NULL, 400 },
	{ "ssh_banner", IN("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), NULL, 400 },
	{ "ssh_banner_without_space", IN("SSH-2.0-OpenSSH_9.2p1\r\n"), NULL,
	    400 },
	{ "smtp_ehlo", IN("EHLO example.org\r\n"), NULL, 400 },
	{ "http2_preface", IN("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), NULL, 505 },
	{ "zero_bytes", IN("\0\0\0\0"), NULL, 400 },
};

static void
check_bad(const struct bad_case *c)
{
	struct http_request req;
	char si[256];
	int r = parse(c->in, c->len, c->lim, &req, NULL);

	show(c->in, c->len, si, sizeof(si));
	if (c->status == HTTP_PARSE_PARTIAL) {
		ck_assert_msg(r == HTTP_PARSE_PARTIAL,
		    "%s: input \"%s\": expected PARTIAL, got %d (%s, "
		    "status %d)", c->name, si, r, result_name(r), req.status);
		return;
	}
	ck_assert_msg(r == HTTP_PARSE_ERROR && req.status == c->status,
	    "%s: input \"%s\": expected ERROR with status %d, got %d (%s, "
	    "status %d)", c->name, si, c->status, r, result_name(r),
	    req.status);
}

#define BAD_TEST(fn, table)						\
	START_TEST(fn)							\
	{								\
		check_bad(&(table)[_i]);				\
	}								\
	END_TEST

BAD_TEST(parse_rejects_nul_bytes, nul_cases)
BAD_TEST(parse_rejects_control_bytes, ctl_cases)
BAD_TEST(parse_rejects_del, del_cases)
BAD_TEST(parse_rejects_bare_cr, bare_cr_cases)
BAD_TEST(parse_rejects_obs_fold, obs_fold_cases)
BAD_TEST(parse_rejects_malformed_header_name, header_name_cases)
BAD_TEST(parse_enforces_host_rules, host_cases)
BAD_TEST(parse_rejects_ambiguous_content_length, content_length_cases)
BAD_TEST(parse_enforces_limits_with_status, limit_cases)
BAD_TEST(parse_rejects_bad_method_token, method_cases)
BAD_TEST(parse_rejects_bad_version, version_cases)
BAD_TEST(parse_rejects_malformed_request_line, request_line_cases)
BAD_TEST(parse_enforces_transfer_coding_rules, transfer_coding_cases)
BAD_TEST(parse_rejects_foreign_protocols, foreign_cases)

static const struct {
	const struct bad_case	*rows;
	size_t			 n;
} bad_tables[] = {
	{ nul_cases, NELEM(nul_cases) },
	{ ctl_cases, NELEM(ctl_cases) },
	{ del_cases, NELEM(del_cases) },
	{ bare_cr_cases, NELEM(bare_cr_cases) },
	{ obs_fold_cases, NELEM(obs_fold_cases) },
	{ header_name_cases, NELEM(header_name_cases) },
	{ host_cases, NELEM(host_cases) },
	{ content_length_cases, NELEM(content_length_cases) },
	{ limit_cases, NELEM(limit_cases) },
	{ method_cases, NELEM(method_cases) },
	{ version_cases, NELEM(version_cases) },
	{ request_line_cases, NELEM(request_line_cases) },
	{ foreign_cases, NELEM(foreign_cases) },
};

static size_t
bad_count(void)
{
	size_t n = 0;

	for (size_t t = 0; t < NELEM(bad_tables); t++)
		n += bad_tables[t].n;
	return n;
}

static const struct bad_case *
bad_row(size_t i)
{
	for (size_t t = 0; t < NELEM(bad_tables); t++) {
		if (i < bad_tables[t].n)
			return &bad_tables[t].rows[i];
		i -= bad_tables[t].n;
	}
	ck_abort_msg("bad row %zu out of range", i);
	return NULL;
}

/*
 * Feeding a bad request a byte at a time never yields success or a
 * different status: every prefix is PARTIAL or already the final error.
 */
START_TEST(parse_prefix_of_bad_request_is_partial_or_same_error)
{
	const struct bad_case *c = bad_row((size_t)_i);
	struct http_request req;
	char si[256];

	for (size_t k = 0; k < c->len; k++) {
		int r = parse(c->in, k, c->lim, &req, NULL);

		if (r == HTTP_PARSE_PARTIAL)
			continue;
		ck_assert_msg(r == HTTP_PARSE_ERROR && req.status == c->status,
		    "%s: prefix of %zu/%zu bytes \"%s\": expected PARTIAL or "
		    "status %d, got %d (%s, status %d)", c->name, k, c->len,
		    show(c->in, k, si, sizeof(si)), c->status, r,
		    result_name(r), req.status);
	}
}
END_TEST

/* Incomplete heads within their limits ask for more input. */
static const struct bad_case partial_cases[] = {
	{ "empty_input", IN(""), NULL, HTTP_PARSE_PARTIAL },
	{ "lone_cr", IN("\r"), NULL, HTTP_PARSE_PARTIAL },
	{ "empty_lines_only", IN("\r\n\n\r\n"), NULL, HTTP_PARSE_PARTIAL },
	{ "method_only", IN("GET"), NULL, HTTP_PARSE_PARTIAL },
	{ "method_only_below_max_head", IN("GET"), &lim_head4,
	    HTTP_PARSE_PARTIAL },
	{ "method_of_max_length_only", IN("ABCDEFGHIJKLMNOPQRSTUVWX"), NULL,
	    HTTP_PARSE_PARTIAL },
	{ "method_and_space", IN("GET "), NULL, HTTP_PARSE_PARTIAL },
	{ "target_of_max_target_incomplete", IN("GET /1234567"),
	    &lim_target8, HTTP_PARSE_PARTIAL },
	{ "no_version_yet", IN("GET / "), NULL, HTTP_PARSE_PARTIAL },
	{ "version_without_line_end", IN("GET / HTTP/1.1"), NULL,
	    HTTP_PARSE_PARTIAL },
	{ "version_then_cr", IN("GET / HTTP/1.1\r"), NULL,
	    HTTP_PARSE_PARTIAL },
	{ "request_line_only", IN("GET / HTTP/1.1\r\n"), NULL,
	    HTTP_PARSE_PARTIAL },
	{ "header_name_only", IN("GET / HTTP/1.1\r\nHost"), NULL,
	    HTTP_PARSE_PARTIAL },
	{ "header_without_line_end", IN("GET / HTTP/1.1\r\nHost: h"), NULL,
	    HTTP_PARSE_PARTIAL },
	{ "header_then_cr", IN("GET / HTTP/1.1\r\nHost: h\r"), NULL,
	    HTTP_PARSE_PARTIAL },
	{ "no_empty_line_yet", IN("GET / HTTP/1.1\r\nHost: h\r\n"), NULL,
	    HTTP_PARSE_PARTIAL },
	{ "final_cr_without_lf", IN("GET / HTTP/1.1\r\nHost: h\r\n\r"), NULL,
	    HTTP_PARSE_PARTIAL },
	{ "missing_host_not_yet_known", IN("GET / HTTP/1.1\r\n\r"), NULL,
	    HTTP_PARSE_PARTIAL },
	{ "request_line_one_below_max_head", IN("GET / HTTP/1.1\r"),
	    &lim_head16, HTTP_PARSE_PARTIAL },
	{ "headers_one_below_max_head",
	    IN("GET / HTTP/1.1\r\nHost: example.o"), &lim_head32,
	    HTTP_PARSE_PARTIAL },
};

BAD_TEST(parse_returns_partial_for_incomplete_head, partial_cases)

/*
 * Limits built at run time
 */

/*
 * Builds a request whose head is exactly total bytes: a request line, Host,
 * then one filler header sized to fit.  With complete false the final empty
 * line is left off (and the filler grows to keep the size).
 */
static size_t
build_sized_head(char *out, size_t cap, size_t total, bool complete)
{
	static const char pre[] = "GET / HTTP/1.1\r\nHost: h\r\nX-Fill: ";
	const char *post = complete ? "\r\n\r\n" : "\r\n";
	size_t plen = sizeof(pre) - 1, qlen = strlen(post);

	ck_assert(total <= cap && total > plen + qlen);
	memcpy(out, pre, plen);
	memset(out + plen, 'a', total - plen - qlen);
	memcpy(out + total - qlen, post, qlen);
	return total;
}

START_TEST(parse_accepts_head_of_exactly_max_head)
{
	static char buf[16384];
	struct http_request req;
	size_t n = build_sized_head(buf, sizeof(buf), lim_default.max_head,
	    true);
	int r = parse(buf, n, NULL, &req, NULL);

	ck_assert_msg(r == (int)n, "head of %zu bytes: expected %zu, got %d "
	    "(%s, status %d)", n, n, r, result_name(r), req.status);
}
END_TEST

START_TEST(parse_rejects_head_over_max_head_with_431)
{
	static char buf[16384];
	struct http_request req;
	size_t n = build_sized_head(buf, sizeof(buf), lim_default.max_head + 1,
	    true);
	int r = parse(buf, n, NULL, &req, NULL);

	ck_assert_msg(r == HTTP_PARSE_ERROR && req.status == 431,
	    "head of %zu bytes: expected 431, got %d (%s, status %d)", n, r,
	    result_name(r), req.status);
}
END_TEST

START_TEST(parse_rejects_incomplete_head_at_max_head_with_431)
{
	static char buf[16384];
	struct http_request req;
	size_t n;
	int r;

	/* One byte short of the limit: the head could still fit. */
	n = build_sized_head(buf, sizeof(buf), lim_default.max_head - 1, false);
	r = parse(buf, n, NULL, &req, NULL);
	ck_assert_msg(r == HTTP_PARSE_PARTIAL, "incomplete head of %zu bytes: "
	    "expected PARTIAL, got %d (%s, status %d)", n, r, result_name(r),
	    req.status);

	/* At the limit without its end: it cannot fit any more. */
	n = build_sized_head(buf, sizeof(buf), lim_default.max_head, false);
	r = parse(buf, n, NULL, &req, NULL);
	ck_assert_msg(r == HTTP_PARSE_ERROR && req.status == 431,
	    "incomplete head of %zu bytes: expected 431, got %d (%s, "
	    "status %d)", n, r, result_name(r), req.status);
}
END_TEST

/* Builds "GET /aaa... HTTP/1.1" with a target of tlen bytes. */
static size_t
build_target(char *out, size_t cap, size_t tlen, bool complete)
{
	size_t n = 0;

	append(out, cap, &n, "GET /");
	ck_assert(n + tlen < cap);
	memset(out + n, 'a', tlen - 1);
	n += tlen - 1;
	if (complete)
		append(out, cap, &n, " HTTP/1.1\r\nHost: h\r\n\r\n");
	return n;
}

START_TEST(parse_enforces_max_target_with_414)
{
	static char buf[16384];
	struct http_request req;
	size_t max = lim_default.max_target, n;
	int r;

	n = build_target(buf, sizeof(buf), max, true);
	r = parse(buf, n, NULL, &req, NULL);
	ck_assert_msg(r == (int)n, "target of %zu bytes: expected OK, got %d "
	    "(%s, status %d)", max, r, result_name(r), req.status);

	n = build_target(buf, sizeof(buf), max + 1, true);
	r = parse(buf, n, NULL, &req, NULL);
	ck_assert_msg(r == HTTP_PARSE_ERROR && req.status == 414,
	    "target of %zu bytes: expected 414, got %d (%s, status %d)",
	    max + 1, r, result_name(r), req.status);

	n = build_target(buf, sizeof(buf), max, false);
	r = parse(buf, n, NULL, &req, NULL);
	ck_assert_msg(r == HTTP_PARSE_PARTIAL, "incomplete target of %zu "
	    "bytes: expected PARTIAL, got %d (%s, status %d)", max, r,
	    result_name(r), req.status);

	n = build_target(buf, sizeof(buf), max + 1, false);
	r = parse(buf, n, NULL, &req, NULL);
	ck_assert_msg(r == HTTP_PARSE_ERROR && req.status == 414,
	    "incomplete target of %zu bytes: expected 414, got %d (%s, "
	    "status %d)", max + 1, r, result_name(r), req.status);
}
END_TEST

/* Builds a request with nhdr header lines, Host among them. */
static size_t
build_headers(char *out, size_t cap, size_t nhdr, bool complete)
{
	size_t n = 0;

	append(out, cap, &n, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (size_t i = 1; i < nhdr; i++)
		append(out, cap, &n, "X-H%zu: v\r\n", i);
	if (complete)
		append(out, cap, &n, "\r\n");
	return n;
}

START_TEST(parse_accepts_exactly_max_headers)
{
	static char buf[8192];
	struct http_request req;
	char *p;
	size_t n = build_headers(buf, sizeof(buf), HTTP_MAX_HEADERS, true);
	int r = parse(buf, n, NULL, &req, &p);

	ck_assert_msg(r == (int)n, "%d headers: expected OK, got %d (%s, "
	    "status %d)", HTTP_MAX_HEADERS, r, result_name(r), req.status);
	ck_assert_uint_eq(req.nheaders, HTTP_MAX_HEADERS);
	ck_assert(span_is(req.headers[HTTP_MAX_HEADERS - 1].name, "X-H63"));
	tu_guard_free(p);
}
END_TEST

START_TEST(parse_rejects_too_many_headers_with_431)
{
	static char buf[8192];
	struct http_request req;
	size_t n;
	int r;

	n = build_headers(buf, sizeof(buf), HTTP_MAX_HEADERS + 1, true);
	r = parse(buf, n, NULL, &req, NULL);
	ck_assert_msg(r == HTTP_PARSE_ERROR && req.status == 431,
	    "%d headers: expected 431, got %d (%s, status %d)",
	    HTTP_MAX_HEADERS + 1, r, result_name(r), req.status);

	/* Known as soon as the extra line is complete, before the end. */
	n = build_headers(buf, sizeof(buf), HTTP_MAX_HEADERS + 1, false);
	r = parse(buf, n, NULL, &req, NULL);
	ck_assert_msg(r == HTTP_PARSE_ERROR && req.status == 431,
	    "%d headers, no end: expected 431, got %d (%s, status %d)",
	    HTTP_MAX_HEADERS + 1, r, result_name(r), req.status);
}
END_TEST

/*
 * Consumption and pipelining
 */

static const char pipelined[] =
    "GET /first?a=1 HTTP/1.1\r\nHost: example.org\r\n\r\n"
    "HEAD /second HTTP/1.1\nHost: example.org\nConnection: close\n\n"
    "GET /third HTTP/1.0\r\n\r\n";
static const size_t pipelined_len = sizeof(pipelined) - 1;
static const char *const pipelined_paths[] = { "/first", "/second",
    "/third" };

START_TEST(parse_consumes_exactly_one_head_of_pipelined_requests)
{
	struct http_request req;
	char *buf;
	int r = parse(pipelined, pipelined_len, NULL, &req, &buf);
	size_t off = 0;

	for (size_t i = 0; i < NELEM(pipelined_paths); i++) {
		if (i > 0)
			r = http_parse_request(buf + off, pipelined_len - off,
			    &lim_default, &req);
		ck_assert_msg(r > 0, "request %zu: expected OK, got %d (%s, "
		    "status %d)", i, r, result_name(r), req.status);
		ck_assert_uint_eq((size_t)r, req.head_len);
		ck_assert_msg(span_is(req.path, pipelined_paths[i]),
		    "request %zu: expected path %s", i, pipelined_paths[i]);
		ck_assert(req.path.p >= buf + off &&
		    req.path.p < buf + off + (size_t)r);
		off += (size_t)r;
	}
	ck_assert_uint_eq(off, pipelined_len);
	ck_assert(req.method == HTTP_M_GET && req.version_minor == 0);
	tu_guard_free(buf);
}
END_TEST

/*
 * Split the pipelined stream at every byte: the first request is PARTIAL
 * until its last byte arrives and then the same result whatever follows;
 * the rest, parsed from the returned offset, behaves the same way.
 */
START_TEST(parse_split_at_every_byte_gives_same_result)
{
	struct http_request ref, req;
	size_t len1, len2;
	char si[256];
	int r;

	r = parse(pipelined, pipelined_len, NULL, &ref, NULL);
	ck_assert_int_gt(r, 0);
	len1 = (size_t)r;
	r = parse(pipelined + len1, pipelined_len - len1, NULL, &ref, NULL);
	ck_assert_int_gt(r, 0);
	len2 = (size_t)r;

	for (size_t k = 0; k <= pipelined_len; k++) {
		char *buf;

		r = parse(pipelined, k, NULL, &req, &buf);
		show(pipelined, k, si, sizeof(si));
		if (k < len1) {
			ck_assert_msg(r == HTTP_PARSE_PARTIAL, "split at %zu "
			    "\"%s\": expected PARTIAL, got %d (%s, status %d)",
			    k, si, r, result_name(r), req.status);
			tu_guard_free(buf);
			continue;
		}
		ck_assert_msg(r == (int)len1 && span_is(req.path, "/first") &&
		    span_is(req.query, "a=1") && req.keep_alive,
		    "split at %zu \"%s\": expected first request of %zu "
		    "bytes, got %d (%s, status %d)", k, si, len1, r,
		    result_name(r), req.status);

		/* Whatever arrived after the first head. */
		r = http_parse_request(buf + len1, k - len1, &lim_default,
		    &req);
		if (k - len1 < len2)
			ck_assert_msg(r == HTTP_PARSE_PARTIAL, "split at %zu: "
			    "second request: expected PARTIAL, got %d (%s, "
			    "status %d)", k, r, result_name(r), req.status);
		else
			ck_assert_msg(r == (int)len2 &&
			    req.method == HTTP_M_HEAD &&
			    span_is(req.path, "/second") && !req.keep_alive,
			    "split at %zu: second request: expected %zu bytes, "
			    "got %d (%s, status %d)", k, len2, r,
			    result_name(r), req.status);
		tu_guard_free(buf);
	}
}
END_TEST

START_TEST(parse_does_not_consume_body)
{
	static const char in[] = "POST /u HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n";
	static const size_t head = sizeof("POST /u HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 5\r\n\r\n") - 1;
	struct http_request req;
	int r = parse(in, sizeof(in) - 1, NULL, &req, NULL);

	ck_assert_int_eq(r, (int)head);
	ck_assert_uint_eq(req.head_len, head);
	ck_assert(req.has_content_length);
	ck_assert_uint_eq(req.content_length, 5);
}
END_TEST

START_TEST(parse_overwrites_previous_result)
{
	static const char big[] = "POST /a?q HTTP/1.1\r\nHost: h\r\n"
	    "Range: bytes=0-1\r\nContent-Length: 3\r\nConnection: close\r\n"
	    "X-A: b\r\n\r\n";
	static const char small[] = "GET /b HTTP/1.0\r\n\r\n";
	static const char bad[] = "GET / HTTP/1.1\r\nHost: h\0\r\n\r\n";
	struct http_request req;

	ck_assert_int_gt(parse(big, sizeof(big) - 1, NULL, &req, NULL), 0);
	ck_assert_int_eq(parse(bad, sizeof(bad) - 1, NULL, &req, NULL),
	    HTTP_PARSE_ERROR);
	ck_assert_int_eq(req.status, 400);
	ck_assert_int_eq(parse(big, sizeof(big) - 1, NULL, &req, NULL),
	    (int)sizeof(big) - 1);
	ck_assert_int_eq(parse(small, sizeof(small) - 1, NULL, &req, NULL),
	    (int)sizeof(small) - 1);
	ck_assert_int_eq(req.status, 0);
	ck_assert_int_eq(req.method, HTTP_M_GET);
	ck_assert_uint_eq(req.nheaders, 0);
	ck_assert(!req.has_query);
	ck_assert(!req.has_content_length);
	ck_assert_uint_eq(req.content_length, 0);
	for (int id = 0; id < HDR_COUNT_; id++) {
		ck_assert_msg(req.hdr_count[id] == 0 && req.hdr[id].len == 0,
		    "header id %d survived from the previous request", id);
	}
}
END_TEST

START_TEST(parse_accepts_connect_authority_form)
{
	static const char in[] = "CONNECT example.org:443 HTTP/1.1\r\n"
	    "Host: example.org:443\r\n\r\n";
	struct http_request req;
	char *buf;
	int r = parse(in, sizeof(in) - 1, NULL, &req, &buf);

	ck_assert_int_eq(r, (int)sizeof(in) - 1);
	ck_assert_int_eq(req.method, HTTP_M_CONNECT);
	ck_assert(span_is(req.target, "example.org:443"));
	ck_assert_uint_eq(req.path.len, 0);
	ck_assert(!req.has_query);
	tu_guard_free(buf);
}
END_TEST

/*
 * Header recognition
 */

struct hdr_case {
	const char	*name;		/* as sent */
	enum http_hdr	 id;
	const char	*value;
};

static const struct hdr_case hdr_cases[] = {
	{ "Host", HDR_HOST, "example.org" },
	{ "HOST", HDR_HOST, "example.org:8080" },
	{ "Connection", HDR_CONNECTION, "keep-alive" },
	{ "content-length", HDR_CONTENT_LENGTH, "12" },
	{ "Transfer-Encoding", HDR_TRANSFER_ENCODING, "chunked" },
	{ "Range", HDR_RANGE, "bytes=0-99" },
	{ "rAnGe", HDR_RANGE, "bytes=-5" },
	{ "If-Range", HDR_IF_RANGE, "\"etag\"" },
	{ "If-Match", HDR_IF_MATCH, "*" },
	{ "If-None-Match", HDR_IF_NONE_MATCH, "W/\"x\", \"y\"" },
	{ "If-Modified-Since", HDR_IF_MODIFIED_SINCE,
	    "Sun, 06 Nov 1994 08:49:37 GMT" },
	{ "IF-UNMODIFIED-SINCE", HDR_IF_UNMODIFIED_SINCE,
	    "Sun, 06 Nov 1994 08:49:37 GMT" },
	{ "Accept", HDR_ACCEPT, "*/*" },
	{ "Accept-Encoding", HDR_ACCEPT_ENCODING, "gzip, br" },
	{ "accept-language", HDR_ACCEPT_LANGUAGE, "en, fr;q=0.5" },
	{ "User-Agent", HDR_USER_AGENT, "curl/7.88.1" },
	{ "Referer", HDR_REFERER, "http://example.org/" },
	{ "Expect", HDR_EXPECT, "100-continue" },
	{ "Referrer", HDR_OTHER, "misspelt the other way" },
	{ "X-Range", HDR_OTHER, "bytes=0-1" },
	{ "Rang", HDR_OTHER, "x" },
	{ "Ranges", HDR_OTHER, "x" },
	{ "Hos", HDR_OTHER, "x" },
	{ "Host-", HDR_OTHER, "x" },
	{ "Accept-Charset", HDR_OTHER, "utf-8" },
	{ "If-Range2", HDR_OTHER, "x" },
	{ "Content-Type", HDR_OTHER, "text/plain" },
};

START_TEST(parse_recognises_known_headers_in_any_case)
{
	const struct hdr_case *c = &hdr_cases[_i];
	static char in[512];
	struct http_request req;
	size_t n = 0, idx;
	char *buf;
	int r;

	append(in, sizeof(in), &n, "POST / HTTP/1.1\r\n");
	if (c->id != HDR_HOST)
		append(in, sizeof(in), &n, "Host: h\r\n");
	idx = c->id == HDR_HOST ? 0 : 1;
	append(in, sizeof(in), &n, "%s: %s\r\n\r\n", c->name, c->value);

	r = parse(in, n, NULL, &req, &buf);
	ck_assert_msg(r == (int)n, "%s: expected OK, got %d (%s, status %d)",
	    c->name, r, result_name(r), req.status);
	ck_assert_msg(req.headers[idx].id == c->id,
	    "%s: expected header id %d, got %d", c->name, (int)c->id,
	    (int)req.headers[idx].id);
	ck_assert_msg(span_is(req.headers[idx].name, c->name),
	    "%s: header name not kept as sent", c->name);
	ck_assert_msg(span_is(req.headers[idx].value, c->value),
	    "%s: expected value \"%s\"", c->name, c->value);
	if (c->id != HDR_OTHER) {
		ck_assert_msg(span_is(req.hdr[c->id], c->value),
		    "%s: hdr[%d] does not hold \"%s\"", c->name, (int)c->id,
		    c->value);
		ck_assert_uint_eq(req.hdr_count[c->id], 1);
	}
	tu_guard_free(buf);
}
END_TEST

START_TEST(parse_keeps_first_value_and_count_of_repeated_header)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: h\r\n"
	    "Range: bytes=0-1\r\nX-A: 1\r\nrange: bytes=2-3\r\n"
	    "RANGE: bytes=4-5\r\n\r\n";
	struct http_request req;
	char *buf;
	int r = parse(in, sizeof(in) - 1, NULL, &req, &buf);

	ck_assert_int_eq(r, (int)sizeof(in) - 1);
	ck_assert(span_is(req.hdr[HDR_RANGE], "bytes=0-1"));
	ck_assert_uint_eq(req.hdr_count[HDR_RANGE], 3);
	ck_assert_uint_eq(req.hdr_count[HDR_HOST], 1);
	ck_assert_uint_eq(req.nheaders, 5);
	ck_assert(span_is(req.headers[2].name, "X-A"));
	ck_assert_int_eq(req.headers[2].id, HDR_OTHER);
	ck_assert(span_is(req.headers[4].name, "RANGE"));
	tu_guard_free(buf);
}
END_TEST

struct ows_case {
	const char	*name;
	const char	*line;		/* header line, no line end */
	const char	*value;		/* expected value */
};

static const struct ows_case ows_cases[] = {
	{ "no_ows", "X-A:b", "b" },
	{ "one_space", "X-A: b", "b" },
	{ "leading_spaces_and_tabs", "X-A: \t  b", "b" },
	{ "trailing_spaces_and_tabs", "X-A: b \t ", "b" },
	{ "inner_whitespace_kept", "X-A:\t a  b\tc \t", "a  b\tc" },
	{ "only_ows", "X-A: \t ", "" },
	{ "empty", "X-A:", "" },
	{ "obs_text_kept", "X-A:  \xc3\xa9t\xe9 ", "\xc3\xa9t\xe9" },
};

START_TEST(parse_trims_ows_around_header_value)
{
	const struct ows_case *c = &ows_cases[_i];
	static char in[256];
	struct http_request req;
	char sv[128], sl[128], sw[128];
	size_t n = 0;
	char *buf;
	int r;

	append(in, sizeof(in), &n, "GET / HTTP/1.1\r\nHost: h\r\n%s\r\n\r\n",
	    c->line);
	r = parse(in, n, NULL, &req, &buf);
	show(c->line, strlen(c->line), sl, sizeof(sl));
	ck_assert_msg(r == (int)n, "%s: line \"%s\": expected OK, got %d "
	    "(%s, status %d)", c->name, sl, r, result_name(r), req.status);
	ck_assert_msg(span_is(req.headers[1].value, c->value),
	    "%s: line \"%s\": expected value \"%s\", got \"%s\"", c->name, sl,
	    show_cstr(c->value, sw, sizeof(sw)),
	    show(req.headers[1].value.p, req.headers[1].value.len, sv,
	    sizeof(sv)));
	ck_assert(span_is(req.headers[1].name, "X-A"));
	tu_guard_free(buf);
}
END_TEST

/*
 * http_header_next, http_header_has_token
 */

static const char multi[] = "GET / HTTP/1.1\r\nHost: h\r\n"
    "Accept: text/html\r\nConnection: Upgrade ,  Keep-Alive\r\n"
    "X-A: 1\r\naccept: text/plain\r\nconnection:\tTE\t\r\n"
    "ACCEPT: */*\r\nConnection: ,,\r\n\r\n";

START_TEST(header_next_iterates_values_in_order)
{
	static const char *const want[] = { "text/html", "text/plain", "*/*" };
	struct http_request req;
	struct span v;
	size_t pos = 0, n = 0;
	char *buf;

	ck_assert_int_eq(parse(multi, sizeof(multi) - 1, NULL, &req, &buf),
	    (int)sizeof(multi) - 1);
	while (http_header_next(&req, HDR_ACCEPT, &pos, &v)) {
		ck_assert_uint_lt(n, NELEM(want));
		ck_assert_msg(span_is(v, want[n]), "Accept value %zu: "
		    "expected \"%s\"", n, want[n]);
		n++;
	}
	ck_assert_uint_eq(n, NELEM(want));
	ck_assert_uint_eq(pos, req.nheaders);
	/* Exhausted stays exhausted. */
	ck_assert(!http_header_next(&req, HDR_ACCEPT, &pos, &v));

	pos = 0;
	ck_assert(!http_header_next(&req, HDR_RANGE, &pos, &v));
	pos = 0;
	ck_assert(http_header_next(&req, HDR_HOST, &pos, &v));
	ck_assert(span_is(v, "h"));
	ck_assert(!http_header_next(&req, HDR_HOST, &pos, &v));
	tu_guard_free(buf);
}
END_TEST

struct token_case {
	const char	*token;
	enum http_hdr	 id;
	bool		 expect;
};

static const struct token_case token_cases[] = {
	{ "upgrade", HDR_CONNECTION, true },
	{ "UPGRADE", HDR_CONNECTION, true },
	{ "keep-alive", HDR_CONNECTION, true },
	{ "te", HDR_CONNECTION, true },
	{ "close", HDR_CONNECTION, false },
	{ "keep", HDR_CONNECTION, false },
	{ "alive", HDR_CONNECTION, false },
	{ "keep-alive-x", HDR_CONNECTION, false },
	{ "", HDR_CONNECTION, false },
	{ "text/plain", HDR_ACCEPT, true },
	{ "TEXT/HTML", HDR_ACCEPT, true },
	{ "text", HDR_ACCEPT, false },
	{ "upgrade", HDR_ACCEPT, false },
	{ "h", HDR_HOST, true },
	{ "close", HDR_EXPECT, false },
};

START_TEST(header_has_token_ignores_case_across_lines)
{
	const struct token_case *c = &token_cases[_i];
	struct http_request req;
	char *buf;
	bool got;

	ck_assert_int_eq(parse(multi, sizeof(multi) - 1, NULL, &req, &buf),
	    (int)sizeof(multi) - 1);
	got = http_header_has_token(&req, c->id, c->token);
	ck_assert_msg(got == c->expect, "has_token(id %d, \"%s\"): expected "
	    "%d, got %d", (int)c->id, c->token, c->expect, got);
	tu_guard_free(buf);
}
END_TEST

/*
 * http_method_name
 */

START_TEST(method_name_round_trips_through_parser)
{
	for (int m = HTTP_M_GET; m <= HTTP_M_UNLOCK; m++) {
		const char *name = http_method_name((enum http_method)m);
		struct http_request req;
		static char in[128];
		size_t n = 0;
		int r;

		ck_assert_msg(name != NULL, "method %d has no name", m);
		for (const char *p = name; *p != '\0'; p++)
			ck_assert_msg(*p >= 'A' && *p <= 'Z',
			    "method name \"%s\" is not an upper-case token",
			    name);
		for (int o = HTTP_M_GET; o < m; o++)
			ck_assert_str_ne(name,
			    http_method_name((enum http_method)o));
		append(in, sizeof(in), &n, "%s / HTTP/1.1\r\nHost: h\r\n\r\n",
		    name);
		r = parse(in, n, NULL, &req, NULL);
		ck_assert_msg(r == (int)n && (int)req.method == m,
		    "\"%s\": expected method %d, got %d (r %d, status %d)",
		    name, m, (int)req.method, r, req.status);
	}
	ck_assert_str_eq(http_method_name(HTTP_M_GET), "GET");
	ck_assert_str_eq(http_method_name(HTTP_M_HEAD), "HEAD");
	ck_assert_str_eq(http_method_name(HTTP_M_OPTIONS), "OPTIONS");
	ck_assert_ptr_null(http_method_name(HTTP_M_UNKNOWN));
	ck_assert_str_eq(http_method_name(HTTP_M_PROPFIND), "PROPFIND");
	ck_assert_ptr_null(http_method_name((enum http_method)(HTTP_M_UNLOCK +
	    1)));
}
END_TEST

static bool
param(const char *query, const char *name, const char *want)
{
	size_t len = strlen(query);
	char *g = tu_guarded(query, len);
	struct span v;
	bool found = http_query_param(span_make(g, len), name, &v);

	if (found && want != NULL)
		ck_assert_msg(v.len == strlen(want) && memcmp(v.p, want, v.len) == 0,
		    "%s in '%s': got '%.*s', want '%s'", name, query, (int)v.len,
		    v.p, want);
	tu_guard_free(g);
	return found;
}

START_TEST(query_params)
{
	ck_assert(param("download", "download", ""));
	ck_assert(param("a=1&download", "download", ""));
	ck_assert(param("download=&a=1", "download", ""));
	ck_assert(param("sort=size&order=desc", "order", "desc"));
	ck_assert(param("sort=size;order=desc", "order", "desc"));
	ck_assert(param("sort=a&sort=b", "sort", "a"));
	ck_assert(param("x=%20y", "x", "%20y"));
	ck_assert(!param("downloads", "download", NULL));
	ck_assert(!param("xdownload=1", "download", NULL));
	ck_assert(!param("", "download", NULL));
	ck_assert(!param("&&&", "download", NULL));
	ck_assert(param("a=b=c", "a", "b=c"));
}
END_TEST

static Suite *
http_parse_suite(void)
{
	Suite *s = suite_create("http_parse");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_loop_test(tc, parse_accepts_valid_request, 0,
	    NELEM(good_cases));
	tcase_add_test(tc, parse_accepts_connect_authority_form);
	tcase_add_test(tc,
	    parse_consumes_exactly_one_head_of_pipelined_requests);
	tcase_add_test(tc, parse_does_not_consume_body);
	tcase_add_test(tc, parse_overwrites_previous_result);
	suite_add_tcase(s, tc);

	tc = tcase_create("incremental");
	tcase_add_loop_test(tc, parse_every_prefix_of_valid_request_is_partial,
	    0, NELEM(good_cases));
	tcase_add_loop_test(tc,
	    parse_prefix_of_bad_request_is_partial_or_same_error, 0,
	    (int)bad_count());
	tcase_add_loop_test(tc, parse_returns_partial_for_incomplete_head, 0,
	    NELEM(partial_cases));
	tcase_add_test(tc, parse_split_at_every_byte_gives_same_result);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_loop_test(tc, parse_rejects_nul_bytes, 0, NELEM(nul_cases));
	tcase_add_loop_test(tc, parse_rejects_control_bytes, 0,
	    NELEM(ctl_cases));
	tcase_add_loop_test(tc, parse_rejects_del, 0, NELEM(del_cases));
	tcase_add_loop_test(tc, parse_rejects_bare_cr, 0,
	    NELEM(bare_cr_cases));
	tcase_add_loop_test(tc, parse_rejects_obs_fold, 0,
	    NELEM(obs_fold_cases));
	tcase_add_loop_test(tc, parse_rejects_malformed_header_name, 0,
	    NELEM(header_name_cases));
	tcase_add_loop_test(tc, parse_enforces_host_rules, 0,
	    NELEM(host_cases));
	tcase_add_loop_test(tc, parse_rejects_ambiguous_content_length, 0,
	    NELEM(content_length_cases));
	tcase_add_loop_test(tc, parse_rejects_bad_method_token, 0,
	    NELEM(method_cases));
	tcase_add_loop_test(tc, parse_rejects_bad_version, 0,
	    NELEM(version_cases));
	tcase_add_loop_test(tc, parse_rejects_malformed_request_line, 0,
	    NELEM(request_line_cases));
	tcase_add_loop_test(tc, parse_enforces_transfer_coding_rules, 0,
	    NELEM(transfer_coding_cases));
	tcase_add_loop_test(tc, parse_rejects_foreign_protocols, 0,
	    NELEM(foreign_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_loop_test(tc, parse_enforces_limits_with_status, 0,
	    NELEM(limit_cases));
	tcase_add_test(tc, parse_accepts_head_of_exactly_max_head);
	tcase_add_test(tc, parse_rejects_head_over_max_head_with_431);
	tcase_add_test(tc, parse_rejects_incomplete_head_at_max_head_with_431);
	tcase_add_test(tc, parse_enforces_max_target_with_414);
	tcase_add_test(tc, parse_accepts_exactly_max_headers);
	tcase_add_test(tc, parse_rejects_too_many_headers_with_431);
	suite_add_tcase(s, tc);

	tc = tcase_create("headers");
	tcase_add_loop_test(tc, parse_recognises_known_headers_in_any_case, 0,
	    NELEM(hdr_cases));
	tcase_add_test(tc,
	    parse_keeps_first_value_and_count_of_repeated_header);
	tcase_add_loop_test(tc, parse_trims_ows_around_header_value, 0,
	    NELEM(ows_cases));
	tcase_add_test(tc, header_next_iterates_values_in_order);
	tcase_add_loop_test(tc, header_has_token_ignores_case_across_lines, 0,
	    NELEM(token_cases));
	tcase_add_test(tc, method_name_round_trips_through_parser);
	suite_add_tcase(s, tc);

	tc = tcase_create("query");
	tcase_add_test(tc, query_params);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(http_parse_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
