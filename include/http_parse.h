/*
 * http_parse.h - HTTP/1.x request-head parser (RFC 9112).
 *
 * Pure: no I/O, no allocation, no globals.  The parser reads exactly
 * buf[0..len) and never relies on NUL termination.  All spans in the
 * resulting struct http_request point into buf and stay valid as long as
 * the caller keeps those bytes in place.
 */
#ifndef LANHTTPD_HTTP_PARSE_H
#define LANHTTPD_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"

#define HTTP_PARSE_ERROR	(-1)
#define HTTP_PARSE_PARTIAL	(-2)

/* More header fields than this is answered with 431. */
#define HTTP_MAX_HEADERS	64
/* A method token longer than this cannot be one we know: 501. */
#define HTTP_MAX_METHOD		24

enum http_method {
	HTTP_M_UNKNOWN = 0,
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_CONNECT,
	HTTP_M_OPTIONS,
	HTTP_M_TRACE,
	HTTP_M_PATCH,
	/* WebDAV (RFC 4918), served when [webdav] is on. */
	HTTP_M_PROPFIND,
	HTTP_M_PROPPATCH,
	HTTP_M_MKCOL,
	HTTP_M_COPY,
	HTTP_M_MOVE,
	HTTP_M_LOCK,
	HTTP_M_UNLOCK,
};

/* Header fields the server acts on; everything else is HDR_OTHER. */
enum http_hdr {
	HDR_OTHER = 0,
	HDR_HOST,
	HDR_CONNECTION,
	HDR_CONTENT_LENGTH,
	HDR_TRANSFER_ENCODING,
	HDR_RANGE,
	HDR_IF_RANGE,
	HDR_IF_MATCH,
	HDR_IF_NONE_MATCH,
	HDR_IF_MODIFIED_SINCE,
	HDR_IF_UNMODIFIED_SINCE,
	HDR_ACCEPT,
	HDR_ACCEPT_ENCODING,
	HDR_ACCEPT_LANGUAGE,
	HDR_USER_AGENT,
	HDR_REFERER,
	HDR_EXPECT,
	HDR_AUTHORIZATION,
	HDR_COOKIE,
	HDR_COUNT_
};

struct http_header {
	struct span	 name;
	struct span	 value;		/* OWS trimmed */
	enum http_hdr	 id;
};

struct http_limits {
	size_t	max_head;	/* whole head, request line included: 431 */
	size_t	max_target;	/* request-target length: 414 */
};

struct http_request {
	enum http_method method;
	struct span	 method_name;
	struct span	 target;	/* raw request-target */
	struct span	 path;		/* raw (still encoded) path of target */
	struct span	 query;		/* raw query, without '?' */
	bool		 has_query;
	uint8_t		 version_major;
	uint8_t		 version_minor;

	struct http_header headers[HTTP_MAX_HEADERS];
	size_t		 nheaders;
	/* First value of each known header, and how often it occurred. */
	struct span	 hdr[HDR_COUNT_];
	uint8_t		 hdr_count[HDR_COUNT_];

	uint64_t	 content_length;
	bool		 has_content_length;
	bool		 has_transfer_encoding;
	bool		 chunked;	/* the body is chunked (the last coding) */
	bool		 keep_alive;	/* persistent after this response */

	size_t		 head_len;	/* bytes of the head, CRLFCRLF included */
	int		 status;	/* on HTTP_PARSE_ERROR: 400, 414, 431, 501, 505 */
};

/*
 * Parses one request head from buf[0..len).  Returns the number of bytes
 * consumed (> 0, the head including its final empty line), HTTP_PARSE_PARTIAL
 * if more input is needed, or HTTP_PARSE_ERROR with req->status set.  A
 * partial head that already breaks a limit in lim is an error, so a caller
 * can stop reading.  Thread-safe; req is fully overwritten.
 */
int	http_parse_request(const char *buf, size_t len,
	    const struct http_limits *lim, struct http_request *req);

/* The method's canonical name for a known method, else NULL. */
const char	*http_method_name(enum http_method m);

/*
 * Iterates the values of every header with the given id, in order: *pos
 * starts at 0.  Returns false when there are no more.
 */
bool	http_header_next(const struct http_request *req, enum http_hdr id,
	    size_t *pos, struct span *value);

/*
 * True when the comma-separated header lists of id hold token (ASCII case
 * ignored), e.g. http_header_has_token(req, HDR_CONNECTION, "close").
 */
bool	http_header_has_token(const struct http_request *req, enum http_hdr id,
	    const char *token);

/*
 * Looks for the parameter name in a raw query ("a=1&b&c=x"; '&' or ';'
 * separate).  Returns true when present and stores its raw value (still
 * percent-encoded, empty for "b" or "b=") in *value.  The name is matched
 * exactly as given (callers use plain ASCII names).  The first occurrence
 * wins.
 */
/* The value of the first field called name (any case), or SPAN_NULL. */
struct span	http_header_value(const struct http_request *req,
		    const char *name);

/*
 * True when h (a Host header's value) is a plain host[:port]: a name of
 * letters, digits, '.' and '-' (starting with a letter or digit), or an
 * IPv4 address, or an IPv6 address in brackets ("[fe80::1]"; no zone),
 * then optionally ':' and a port of 1-5 digits up to 65535.  Anything
 * else (userinfo, a path, spaces, control bytes, an empty host, more than
 * 255 bytes) is refused, so the value can be put in front of an absolute
 * link as it is (share links, QR codes, playlists).
 */
bool	http_host_plain(struct span h);

bool	http_query_param(struct span query, const char *name,
	    struct span *value);

#endif /* LANHTTPD_HTTP_PARSE_H */
