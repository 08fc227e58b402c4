/*
 * http_response.h - status lines, header serialisation, HTTP dates and
 * the small HTML error bodies.
 *
 * Header blocks are written into a caller-owned buffer through struct
 * hbuf, which records overflow instead of writing past the end; check
 * hb.overflow once at the end.  A growable hbuf (hb_init_heap) owns heap
 * memory instead and only "overflows" when memory runs out; it is used
 * for generated bodies such as directory listings.  Everything here is
 * thread-safe (the date caches are per thread).
 */
#ifndef LANHTTPD_HTTP_RESPONSE_H
#define LANHTTPD_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "span.h"

#define SERVER_NAME	"lanhttpd"
#ifndef LANHTTPD_VERSION
#define LANHTTPD_VERSION	"0.1.0"
#endif
#define SERVER_HEADER	SERVER_NAME "/" LANHTTPD_VERSION

/* "Sun, 06 Nov 1994 08:49:37 GMT" plus NUL. */
#define HTTP_DATE_LEN	29

struct hbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	bool	 overflow;
	bool	 grow;		/* p is heap memory owned by the hbuf */
};

/* A fixed buffer p[0..cap) owned by the caller. */
static inline void
hb_init(struct hbuf *hb, char *p, size_t cap)
{
	hb->p = p;
	hb->len = 0;
	hb->cap = cap;
	hb->overflow = false;
	hb->grow = false;
}

/*
 * An empty growable buffer.  Release it with hb_release(), or take hb->p
 * (then the taker frees it with free()).
 */
static inline void
hb_init_heap(struct hbuf *hb)
{
	hb_init(hb, NULL, 0);
	hb->grow = true;
}

/* Frees the memory of a growable buffer; a fixed one is left alone. */
void	hb_release(struct hbuf *hb);

/*
 * Makes room for n more bytes after hb->len.  A fixed buffer cannot grow;
 * a growable one at least doubles, so appending stays linear overall.
 * False (and hb->overflow set) when there is no room.
 */
bool	hb_reserve(struct hbuf *hb, size_t n);

/* hb_add() when the bytes do not fit: grows the buffer or sets overflow. */
void	hb_add_slow(struct hbuf *hb, const char *s, size_t n);

/* Appends s[0..n); inline, as headers are built from many small pieces. */
static inline void
hb_add(struct hbuf *hb, const char *s, size_t n)
{
	if (!hb->overflow && n <= hb->cap - hb->len) {
		if (n > 0)
			memcpy(hb->p + hb->len, s, n);
		hb->len += n;
		return;
	}
	hb_add_slow(hb, s, n);
}

static inline void
hb_str(struct hbuf *hb, const char *s)
{
	hb_add(hb, s, strlen(s));
}

void	hb_u64(struct hbuf *hb, uint64_t v);
void	hb_fmt(struct hbuf *hb, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Appends name[0..len) as the value of a Content-Disposition header for a
 * download (RFC 6266): 'attachment; filename="..."; filename*=UTF-8\'\'...'.
 * The quoted filename is an ASCII fallback (each non-ASCII character,
 * control byte, '"', '\\' and '%' becomes '_'); filename* carries the
 * exact bytes percent-encoded (RFC 8187).  Names on disk are untrusted:
 * nothing from name reaches the header unescaped.
 */
void	hb_content_disposition(struct hbuf *hb, const char *name, size_t len);

/* The reason phrase for status ("Not Found"), or "Unknown". */
const char	*http_reason(int status);

/* Formats t as an IMF-fixdate into out[HTTP_DATE_LEN + 1]. */
void	http_date(time_t t, char *out);

/*
 * Parses an HTTP-date (IMF-fixdate, and the obsolete RFC 850 and asctime
 * forms, RFC 9110 §5.6.7).  Returns true and stores the time on success.
 */
bool	http_parse_date(struct span s, time_t *out);

/*
 * Appends "HTTP/1.1 <status> <reason>\r\n", then Date and Server.  The
 * Date string is cached per thread for the current second.
 */
void	http_begin(struct hbuf *hb, int status);

/*
 * The wall clock's second, from the fine clock: file timestamps come from
 * it too (multigrain timestamps may run ahead of the coarse clock that
 * time() reads), so a file written before this call is never dated after
 * it, and Last-Modified never passes Date.
 */
time_t	http_now(void);

/*
 * Writes a complete error response (headers, and unless head_only a short
 * HTML body) for status.  extra is inserted verbatim among the headers
 * (each line CRLF-terminated) and may be NULL.  keep_alive selects
 * "Connection: keep-alive" for HTTP/1.0 keep-alive clients, or
 * "Connection: close" when false.  Returns the length of the header block
 * (the body follows it in hb).
 */
size_t	http_error_response(struct hbuf *hb, int status, bool head_only,
	    bool keep_alive, bool http10, const char *extra);

#endif /* LANHTTPD_HTTP_RESPONSE_H */
