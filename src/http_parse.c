/*
 * http_parse.c - HTTP/1.x request-head parser; see http_parse.h.
 *
 * The grammar is RFC 9112 §2-§5 with the usual recipient leniencies that do
 * not open ambiguity: leading empty lines are skipped (§2.2) and a bare LF
 * ends a line (§2.2).  Everything that lets two parsers disagree about
 * where a message ends is refused: a bare CR, obs-fold, whitespace between
 * a field name and its colon, conflicting Content-Length values and
 * Content-Length together with Transfer-Encoding.
 */
#include "http_parse.h"

#include <string.h>
#include <strings.h>

/*
 * What each byte may be, one table for every scanning loop of the head:
 * a loop then costs one load and one test per byte.
 *   C_TCHAR   RFC 9110 §5.6.2 tchar: methods and field names.
 *   C_TARGET  RFC 9112 §3.2: a visible US-ASCII byte other than '#' (a
 *             fragment is never part of a target, and clients
 *             percent-encode the bytes above 0x7E).
 *   C_VALUE   RFC 9110 §5.5: a field-value byte (VCHAR, SP, HTAB or
 *             obs-text); so not NUL, CR, LF, another control or DEL.
 *   C_REGNAME RFC 3986 §2.3 unreserved and §2.2 sub-delims.
 */
enum {
	C_TCHAR = 1, C_TARGET = 2, C_VALUE = 4, C_REGNAME = 8,
};

#define IS_ALNUM(c)	(((c) >= 'a' && (c) <= 'z') || \
			 ((c) >= 'A' && (c) <= 'Z') || ((c) >= '0' && (c) <= '9'))
#define IS_TSPECIAL(c)	((c) == '!' || (c) == '#' || (c) == '$' || \
			 (c) == '%' || (c) == '&' || (c) == '\'' || (c) == '*' || \
			 (c) == '+' || (c) == '-' || (c) == '.' || (c) == '^' || \
			 (c) == '_' || (c) == '`' || (c) == '|' || (c) == '~')
#define IS_RSPECIAL(c)	((c) == '-' || (c) == '.' || (c) == '_' || \
			 (c) == '~' || (c) == '!' || (c) == '$' || (c) == '&' || \
			 (c) == '\'' || (c) == '(' || (c) == ')' || (c) == '*' || \
			 (c) == '+' || (c) == ',' || (c) == ';' || (c) == '=')
#define CLASS(c)	(unsigned char)( \
	((IS_ALNUM(c) || IS_TSPECIAL(c)) ? C_TCHAR : 0) | \
	(((c) > 0x20 && (c) < 0x7f && (c) != '#') ? C_TARGET : 0) | \
	((((c) >= 0x20 && (c) != 0x7f) || (c) == '\t') ? C_VALUE : 0) | \
	((IS_ALNUM(c) || IS_RSPECIAL(c)) ? C_REGNAME : 0))
#define CLASS4(c)	CLASS(c), CLASS((c) + 1), CLASS((c) + 2), CLASS((c) + 3)
#define CLASS16(c)	CLASS4(c), CLASS4((c) + 4), CLASS4((c) + 8), \
			CLASS4((c) + 12)
#define CLASS64(c)	CLASS16(c), CLASS16((c) + 16), CLASS16((c) + 32), \
			CLASS16((c) + 48)

static const unsigned char char_class[256] = {
	CLASS64(0), CLASS64(64), CLASS64(128), CLASS64(192),
};

static inline bool
is_class(char c, unsigned char k)
{
	return (char_class[(unsigned char)c] & k) != 0;
}

static inline bool
is_tchar(char c)
{
	return is_class(c, C_TCHAR);
}

/* A string literal and its length. */
#define NAME(s)	(s), sizeof(s) - 1

static const struct {
	const char	*name;
	size_t		 len;
	enum http_method m;
} methods[] = {
	{ NAME("GET"), HTTP_M_GET },
	{ NAME("HEAD"), HTTP_M_HEAD },
	{ NAME("POST"), HTTP_M_POST },
	{ NAME("PUT"), HTTP_M_PUT },
	{ NAME("DELETE"), HTTP_M_DELETE },
	{ NAME("CONNECT"), HTTP_M_CONNECT },
	{ NAME("OPTIONS"), HTTP_M_OPTIONS },
	{ NAME("TRACE"), HTTP_M_TRACE },
	{ NAME("PATCH"), HTTP_M_PATCH },
	{ NAME("PROPFIND"), HTTP_M_PROPFIND },
	{ NAME("PROPPATCH"), HTTP_M_PROPPATCH },
	{ NAME("MKCOL"), HTTP_M_MKCOL },
	{ NAME("COPY"), HTTP_M_COPY },
	{ NAME("MOVE"), HTTP_M_MOVE },
	{ NAME("LOCK"), HTTP_M_LOCK },
	{ NAME("UNLOCK"), HTTP_M_UNLOCK },
};

const char *
http_method_name(enum http_method m)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].m == m)
			return methods[i].name;
	return NULL;
}

/* Methods are case-sensitive (RFC 9110 §9.1). */
static enum http_method
method_lookup(struct span s)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (s.len == methods[i].len &&
		    memcmp(s.p, methods[i].name, s.len) == 0)
			return methods[i].m;
	return HTTP_M_UNKNOWN;
}

/* The fields the server reads, in lower case (header_lookup() relies on it). */
static const struct {
	const char	*name;
	size_t		 len;
	enum http_hdr	 id;
} known_headers[] = {
	{ NAME("host"), HDR_HOST },
	{ NAME("connection"), HDR_CONNECTION },
	{ NAME("content-length"), HDR_CONTENT_LENGTH },
	{ NAME("transfer-encoding"), HDR_TRANSFER_ENCODING },
	{ NAME("range"), HDR_RANGE },
	{ NAME("if-range"), HDR_IF_RANGE },
	{ NAME("if-match"), HDR_IF_MATCH },
	{ NAME("if-none-match"), HDR_IF_NONE_MATCH },
	{ NAME("if-modified-since"), HDR_IF_MODIFIED_SINCE },
	{ NAME("if-unmodified-since"), HDR_IF_UNMODIFIED_SINCE },
	{ NAME("accept"), HDR_ACCEPT },
	{ NAME("accept-encoding"), HDR_ACCEPT_ENCODING },
	{ NAME("accept-language"), HDR_ACCEPT_LANGUAGE },
	{ NAME("user-agent"), HDR_USER_AGENT },
	{ NAME("referer"), HDR_REFERER },
	{ NAME("expect"), HDR_EXPECT },
	{ NAME("authorization"), HDR_AUTHORIZATION },
	{ NAME("cookie"), HDR_COOKIE },
};

static enum http_hdr
header_lookup(struct span name)
{
	/* The length and the first letter rule out almost every name at once. */
	unsigned char c0 = ascii_lower((unsigned char)name.p[0]);

	for (size_t i = 0; i < sizeof(known_headers) / sizeof(known_headers[0]);
	    i++) {
		const char *k = known_headers[i].name;
		size_t j = 1;

		if (known_headers[i].len != name.len ||
		    (unsigned char)k[0] != c0)
			continue;
		while (j < name.len &&
		    ascii_lower((unsigned char)name.p[j]) == (unsigned char)k[j])
			j++;
		if (j == name.len)
			return known_headers[i].id;
	}
	return HDR_OTHER;
}

static int
fail(struct http_request *req, int status)
{
	req->status = status;
	return HTTP_PARSE_ERROR;
}

/*
 * Input ran out at len.  That is only "partial" while the head is still
 * within its limits; in_line says the request line is not complete yet,
 * so an over-long line is reported as 414 rather than 431.
 */
static int
need_more(struct http_request *req, size_t len, const struct http_limits *lim,
    bool in_line)
{
	if (len >= lim->max_head)
		return fail(req, in_line ? 414 : 431);
	return HTTP_PARSE_PARTIAL;
}

/*
 * Consumes a line end at buf[*i]: CRLF or a bare LF.  Returns 1 when one
 * was consumed, 0 when input ran out, -1 on a bare CR or any other byte.
 */
static inline int
line_end(const char *buf, size_t len, size_t *i)
{
	if (*i >= len)
		return 0;
	if (buf[*i] == '\n') {
		(*i)++;
		return 1;
	}
	if (buf[*i] != '\r')
		return -1;
	if (*i + 1 >= len)
		return 0;
	if (buf[*i + 1] != '\n')
		return -1;
	*i += 2;
	return 1;
}

/* "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3); the name is case-sensitive. */
static int
parse_version(struct span v, struct http_request *req)
{
	if (v.len < 5 || memcmp(v.p, "HTTP/", 5) != 0)
		return 400;
	if (v.len != 8 || v.p[6] != '.' ||
	    v.p[5] < '0' || v.p[5] > '9' || v.p[7] < '0' || v.p[7] > '9')
		return 400;
	req->version_major = (uint8_t)(v.p[5] - '0');
	req->version_minor = (uint8_t)(v.p[7] - '0');
	if (req->version_major != 1)
		return 505;
	return 0;
}

static bool
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (ascii_lower(c) >= 'a' &&
	    ascii_lower(c) <= 'f');
}

/* Where the IP-literal a starts with ends ("[...]"); SIZE_MAX if bad. */
static size_t
ip_literal_end(struct span a)
{
	size_t i;

	/* IPv6address / IPvFuture: hex, dots, colons, reg-name bytes. */
	for (i = 1; i < a.len && a.p[i] != ']'; i++)
		if (!is_class(a.p[i], C_REGNAME) && a.p[i] != ':')
			return SIZE_MAX;
	return i == a.len || i == 1 ? SIZE_MAX : i + 1;
}

/*
 * Where the reg-name a starts with ends (at a ':' or the end); SIZE_MAX
 * if it holds a byte outside the set or a bad escape.
 */
static size_t
reg_name_end(struct span a)
{
	size_t i = 0;

	while (i < a.len && a.p[i] != ':') {
		if (a.p[i] == '%') {
			if (i + 2 >= a.len ||
			    !is_hex((unsigned char)a.p[i + 1]) ||
			    !is_hex((unsigned char)a.p[i + 2]))
				return SIZE_MAX;
			i += 3;
			continue;
		}
		if (!is_class(a.p[i], C_REGNAME))
			return SIZE_MAX;
		i++;
	}
	return i;
}

/*
 * uri-host [ ":" port ] (RFC 9110 §4.2.4, §7.2; RFC 3986 §3.2.2): an
 * IP-literal in brackets, or a reg-name (which an IPv4 address also is),
 * then an optional port of digits.  So userinfo ('@'), spaces, a
 * non-digit port and anything else outside those sets are refused.  An
 * empty value is allowed (§7.2: a URI with no authority).
 */
static bool
valid_authority(struct span a)
{
	size_t i = a.len > 0 && a.p[0] == '[' ? ip_literal_end(a) :
	    reg_name_end(a);

	if (i == a.len)
		return true;
	if (i > a.len || a.p[i] != ':')
		return false;
	for (i++; i < a.len; i++)
		if (a.p[i] < '0' || a.p[i] > '9')
			return false;
	return true;
}

/*
 * absolute-form (RFC 9112 §3.2.2): *path is what follows the authority
 * of t, which starts with "http://" or "https://".  RFC 9112 allows an
 * empty path ("http://h" or "http://h?q", path-abempty), which RFC 9110
 * §4.2.3 makes equivalent to "/": the second slash of "//" stands in for
 * it in *root, so the path still points into the request buffer.  The
 * authority must be a host with an optional port: userinfo is refused
 * (§4.2.4: a sender MUST NOT generate it, and it has been used to hide
 * the real host from users).
 */
static int
absolute_path(struct span t, struct span *path, struct span *root)
{
	size_t host = ascii_lower((unsigned char)t.p[4]) == 's' ? 8 : 7;
	size_t i = host;

	while (i < t.len && t.p[i] != '/' && t.p[i] != '?')
		i++;
	/* RFC 9110 §4.2.1: an http(s) URI with no host is invalid. */
	if (i == host || !valid_authority(span_make(t.p + host, i - host)))
		return 400;
	*root = span_make(t.p + host - 1, 1);
	*path = span_make(t.p + i, t.len - i);
	return 0;
}

/* Cuts the query (into req->query) off the path. */
static void
split_query(struct http_request *req, struct span *path)
{
	ptrdiff_t q = span_find(*path, '?');

	if (q < 0)
		return;
	req->has_query = true;
	req->query = span_make(path->p + q + 1, path->len - (size_t)q - 1);
	path->len = (size_t)q;
}

/* Splits the request-target into path and query (RFC 9112 §3.2). */
static int
parse_target(struct http_request *req)
{
	struct span t = req->target;
	struct span path = t, root = SPAN_NULL;

	/* origin-form is the path itself; absolute-form has one inside. */
	if (t.p[0] == '/' || span_starts_nocase(t, SPAN_LIT("http://")) ||
	    span_starts_nocase(t, SPAN_LIT("https://"))) {
		if (t.p[0] != '/' && absolute_path(t, &path, &root) != 0)
			return 400;
	} else if (t.len == 1 && t.p[0] == '*') {
		/* asterisk-form belongs to OPTIONS alone (§3.2.4). */
		if (req->method != HTTP_M_OPTIONS)
			return 400;
		req->path = t;
		return 0;
	} else if (req->method == HTTP_M_CONNECT) {
		/* authority-form; the method is refused later anyway. */
		req->path = SPAN_NULL;
		return 0;
	} else {
		return 400;
	}
	split_query(req, &path);
	req->path = path.len > 0 ? path : root;
	return 0;
}

/* Content-Length may repeat, also as a list, but only with one value (§6.3). */
static int
check_content_length(struct http_request *req)
{
	bool seen = false;
	uint64_t v = 0;
	size_t pos = 0;
	struct span val;

	if (req->hdr_count[HDR_CONTENT_LENGTH] == 0)
		return 0;
	while (http_header_next(req, HDR_CONTENT_LENGTH, &pos, &val)) {
		struct span rest = val, e;
		bool any = false;

		while (span_next_list_elem(&rest, &e)) {
			uint64_t n;

			if (!span_to_u64(e, (uint64_t)INT64_MAX, &n))
				return 400;
			if (seen && n != v)
				return 400;
			v = n;
			seen = any = true;
		}
		if (!any)
			return 400;
	}
	req->has_content_length = seen;
	req->content_length = v;
	return 0;
}

/*
 * Transfer-Encoding (RFC 9112 §6.1, §7): a list of codings, names in any
 * case with OWS around them.  chunked must be the last and appear once,
 * else where the body ends is unknown (400, and the connection closes);
 * any coding before it is one we do not decode (501).  Sets req->chunked.
 */
static int
check_transfer_encoding(struct http_request *req)
{
	size_t pos = 0, n = 0, chunked_at = 0, chunked = 0;
	struct span v, e;

	while (http_header_next(req, HDR_TRANSFER_ENCODING, &pos, &v)) {
		while (span_next_list_elem(&v, &e)) {
			ptrdiff_t semi = span_find(e, ';');
			struct span name = span_trim(span_make(e.p,
			    semi < 0 ? e.len : (size_t)semi));

			if (name.len == 0)
				return 400;
			for (size_t i = 0; i < name.len; i++)
				if (!is_tchar(name.p[i]))
					return 400;
			n++;
			if (span_eq_cstr_nocase(name, "chunked")) {
				chunked++;
				chunked_at = n;
			}
		}
	}
	if (n == 0 || chunked != 1 || chunked_at != n)
		return 400;
	if (n > 1)
		return 501;
	req->chunked = true;
	return 0;
}

static int
check_semantics(struct http_request *req)
{
	int st;

	/* RFC 9112 §3.2: exactly one Host in HTTP/1.1, never two. */
	if (req->hdr_count[HDR_HOST] > 1)
		return 400;
	if (req->version_minor >= 1 && req->hdr_count[HDR_HOST] == 0)
		return 400;
	/* RFC 9110 §7.2: uri-host [ ":" port ], nothing else. */
	if (req->hdr_count[HDR_HOST] == 1 &&
	    !valid_authority(req->hdr[HDR_HOST]))
		return 400;
	if ((st = check_content_length(req)) != 0)
		return st;
	if (req->hdr_count[HDR_TRANSFER_ENCODING] > 0) {
		/* §6.1: both framings at once is a smuggling attempt. */
		if (req->has_content_length)
			return 400;
		req->has_transfer_encoding = true;
		/* §6.1: in HTTP/1.0 the framing is faulty, whatever it says. */
		if (req->version_minor == 0)
			return 400;
		if ((st = check_transfer_encoding(req)) != 0)
			return st;
	}
	if ((st = parse_target(req)) != 0)
		return st;

	/* Most requests have no Connection field: no need to look. */
	if (req->hdr_count[HDR_CONNECTION] == 0)
		req->keep_alive = req->version_minor >= 1;
	else if (req->version_minor >= 1)
		req->keep_alive = !http_header_has_token(req, HDR_CONNECTION,
		    "close");
	else
		req->keep_alive = http_header_has_token(req, HDR_CONNECTION,
		    "keep-alive") &&
		    !http_header_has_token(req, HDR_CONNECTION, "close");
	return 0;
}

static void
request_reset(struct http_request *req)
{
	req->method = HTTP_M_UNKNOWN;
	req->method_name = req->target = req->path = req->query = SPAN_NULL;
	req->has_query = false;
	req->version_major = req->version_minor = 0;
	req->nheaders = 0;
	memset(req->hdr, 0, sizeof(req->hdr));
	memset(req->hdr_count, 0, sizeof(req->hdr_count));
	req->content_length = 0;
	req->has_content_length = false;
	req->has_transfer_encoding = false;
	req->chunked = false;
	req->keep_alive = false;
	req->head_len = 0;
	req->status = 0;
}

/*
 * The steps below read from a cursor and return 0 when their part is
 * complete, NEED_MORE when the input ends first, or the HTTP status of
 * the error.
 */
#define NEED_MORE	(-1)

struct cursor {
	const char	*buf;
	size_t		 len;
	size_t		 i;
};

static inline int
take_line_end(struct cursor *c)
{
	int r = line_end(c->buf, c->len, &c->i);

	return r > 0 ? 0 : r == 0 ? NEED_MORE : 400;
}

/* RFC 9112 §2.2: empty lines before the request line are ignored. */
static int
skip_empty_lines(struct cursor *c)
{
	int st;

	while (c->i < c->len && (c->buf[c->i] == '\r' || c->buf[c->i] == '\n'))
		if ((st = take_line_end(c)) != 0)
			return st;
	return 0;
}

/* method SP */
static int
parse_method(struct cursor *c, struct http_request *req)
{
	size_t start = c->i;

	while (c->i < c->len && is_tchar(c->buf[c->i]) &&
	    c->i - start <= HTTP_MAX_METHOD)
		c->i++;
	if (c->i - start > HTTP_MAX_METHOD)
		return 501;
	if (c->i == c->len)
		return NEED_MORE;
	if (c->i == start || c->buf[c->i] != ' ')
		return 400;
	req->method_name = span_make(c->buf + start, c->i - start);
	req->method = method_lookup(req->method_name);
	c->i++;
	return 0;
}

/*
 * request-target SP.  RFC 9112 §3.2: a fragment is never part of a
 * request-target, and §3.2.1 has no place for bytes above 0x7E (clients
 * percent-encode them).  Both are refused rather than corrected, so that
 * no two parsers see different targets.
 */
static int
parse_target_token(struct cursor *c, const struct http_limits *lim,
    struct http_request *req)
{
	size_t start = c->i;
	size_t end = c->len - start > lim->max_target ? start + lim->max_target :
	    c->len;

	while (c->i < end && is_class(c->buf[c->i], C_TARGET))
		c->i++;
	if (c->i == c->len)
		return NEED_MORE;
	if (c->i == end && is_class(c->buf[c->i], C_TARGET))
		return 414;
	if (c->i == start || c->buf[c->i] != ' ')
		return 400;
	req->target = span_make(c->buf + start, c->i - start);
	c->i++;
	return 0;
}

/*
 * HTTP-version line-end.  A version is always eight bytes: a line that
 * ends sooner is refused at once, and a longer one at its ninth byte.
 */
static int
parse_version_line(struct cursor *c, struct http_request *req)
{
	size_t avail = c->len - c->i;
	int st;

	if (avail < 8) {
		if (memchr(c->buf + c->i, '\r', avail) != NULL ||
		    memchr(c->buf + c->i, '\n', avail) != NULL)
			return 400;
		return NEED_MORE;
	}
	if ((st = parse_version(span_make(c->buf + c->i, 8), req)) != 0)
		return st;
	c->i += 8;
	return take_line_end(c);
}

static int
parse_request_line(struct cursor *c, const struct http_limits *lim,
    struct http_request *req)
{
	int st;

	if ((st = skip_empty_lines(c)) != 0 || (st = parse_method(c, req)) != 0 ||
	    (st = parse_target_token(c, lim, req)) != 0)
		return st;
	return parse_version_line(c, req);
}

/* Records a field line in req: its span, and for known fields the first value. */
static int
add_header(struct http_request *req, struct span name, struct span value)
{
	struct http_header *h;

	if (req->nheaders == HTTP_MAX_HEADERS)
		return 431;
	h = &req->headers[req->nheaders++];
	h->name = name;
	h->value = value;
	h->id = header_lookup(name);
	if (h->id != HDR_OTHER) {
		if (req->hdr_count[h->id] == 0)
			req->hdr[h->id] = value;
		if (req->hdr_count[h->id] < UINT8_MAX)
			req->hdr_count[h->id]++;
	}
	return 0;
}

/* The field-name and its colon: 0 with *name, NEED_MORE or 400. */
static int
field_name(struct cursor *c, struct span *name)
{
	size_t start = c->i;

	while (c->i < c->len && is_tchar(c->buf[c->i]))
		c->i++;
	if (c->i == c->len)
		return NEED_MORE;
	if (c->i == start || c->buf[c->i] != ':')
		return 400;
	*name = span_make(c->buf + start, c->i - start);
	c->i++;
	return 0;
}

/*
 * The field-value up to the end of its line, without the whitespace
 * around it: 0 with *value, NEED_MORE, or 400 for a control character
 * (NUL and bare CR included) in it.
 */
static int
field_value(struct cursor *c, struct span *value)
{
	size_t start, end;

	while (c->i < c->len && (c->buf[c->i] == ' ' || c->buf[c->i] == '\t'))
		c->i++;
	start = c->i;
	while (c->i < c->len && is_class(c->buf[c->i], C_VALUE))
		c->i++;
	if (c->i == c->len)
		return NEED_MORE;
	if (c->buf[c->i] != '\r' && c->buf[c->i] != '\n')
		return 400;
	end = c->i;
	while (end > start && (c->buf[end - 1] == ' ' || c->buf[end - 1] == '\t'))
		end--;
	*value = span_make(c->buf + start, end - start);
	return 0;
}

/*
 * field-line CRLF, or the empty line that ends the head (*end set).
 * RFC 9112 §5: a field name is a token followed directly by ':' (no
 * whitespace, §5.1; so obs-fold, a line starting with whitespace, is
 * refused too, §5.2); the value may not hold NUL, other controls or DEL.
 */
static int
parse_field_line(struct cursor *c, struct http_request *req, bool *end)
{
	struct span name, value;
	int st;

	if (c->i >= c->len)
		return NEED_MORE;
	if (c->buf[c->i] == '\r' || c->buf[c->i] == '\n') {
		*end = true;
		return take_line_end(c);
	}
	if ((st = field_name(c, &name)) != 0 ||
	    (st = field_value(c, &value)) != 0 ||
	    (st = take_line_end(c)) != 0)
		return st;
	return add_header(req, name, value);
}

int
http_parse_request(const char *buf, size_t len, const struct http_limits *lim,
    struct http_request *req)
{
	struct cursor c = { buf, len, 0 };
	bool end = false;
	int st;

	request_reset(req);
	if ((st = parse_request_line(&c, lim, req)) != 0)
		return st == NEED_MORE ? need_more(req, len, lim, true) :
		    fail(req, st);
	while (!end) {
		if ((st = parse_field_line(&c, req, &end)) != 0)
			return st == NEED_MORE ? need_more(req, len, lim, false) :
			    fail(req, st);
	}
	if (c.i > lim->max_head)
		return fail(req, 431);
	req->head_len = c.i;
	if ((st = check_semantics(req)) != 0)
		return fail(req, st);
	return (int)c.i;
}

bool
http_header_next(const struct http_request *req, enum http_hdr id,
    size_t *pos, struct span *value)
{
	while (*pos < req->nheaders) {
		const struct http_header *h = &req->headers[(*pos)++];

		if (h->id == id) {
			*value = h->value;
			return true;
		}
	}
	return false;
}

bool
http_header_has_token(const struct http_request *req, enum http_hdr id,
    const char *token)
{
	size_t pos = 0;
	struct span v, e;

	if (req->hdr_count[id] == 0)
		return false;
	while (http_header_next(req, id, &pos, &v))
		while (span_next_list_elem(&v, &e))
			if (span_eq_cstr_nocase(e, token))
				return true;
	return false;
}

bool
http_query_param(struct span query, const char *name, struct span *value)
{
	size_t nlen = strlen(name), i = 0;

	while (i < query.len) {
		size_t start = i, eq;

		while (i < query.len && query.p[i] != '&' && query.p[i] != ';')
			i++;
		eq = start;
		while (eq < i && query.p[eq] != '=')
			eq++;
		if (eq - start == nlen &&
		    memcmp(query.p + start, name, nlen) == 0) {
			*value = eq < i ?
			    span_make(query.p + eq + 1, i - eq - 1) :
			    span_make(query.p + i, 0);
			return true;
		}
		i++;	/* the separator */
	}
	return false;
}

static bool
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}


/* A port: 1-5 digits, at most 65535. */
static bool
port_ok(struct span p)
{
	uint64_t v;

	return p.len >= 1 && p.len <= 5 && span_to_u64(p, 65535, &v);
}

/* "[v6]" or "[v6]:port": hex digits, ':' and '.' (an embedded IPv4). */
static bool
host_v6_ok(struct span h)
{
	size_t i;
	bool colon = false;

	for (i = 1; i < h.len && h.p[i] != ']'; i++) {
		unsigned char c = (unsigned char)h.p[i];

		if (!is_hex(c) && c != ':' && c != '.')
			return false;
		colon |= c == ':';
	}
	if (i == h.len || !colon)
		return false;
	if (++i == h.len)
		return true;
	return h.p[i] == ':' && port_ok(span_make(h.p + i + 1,
	    h.len - i - 1));
}

bool
http_host_plain(struct span h)
{
	size_t i;

	if (h.p == NULL || h.len == 0 || h.len > 255)
		return false;
	if (h.p[0] == '[')
		return host_v6_ok(h);
	if (!is_alnum((unsigned char)h.p[0]))
		return false;
	for (i = 1; i < h.len && h.p[i] != ':'; i++) {
		unsigned char c = (unsigned char)h.p[i];

		if (!is_alnum(c) && c != '.' && c != '-')
			return false;
	}
	if (i == h.len)
		return true;
	return port_ok(span_make(h.p + i + 1, h.len - i - 1));
}

struct span
http_header_value(const struct http_request *req, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		if (h->name.len == nlen &&
		    strncasecmp(h->name.p, name, nlen) == 0)
			return h->value;
	}
	return SPAN_NULL;
}
