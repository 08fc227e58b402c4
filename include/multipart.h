/*
 * multipart.h - streaming parser for multipart/form-data request bodies
 * (RFC 7578, RFC 2046 §5.1; RFC 6266 and RFC 5987 for filename*).
 *
 * Pure: no I/O, no allocation, no globals.  A struct multipart holds the
 * whole state between calls, so a body can be fed in pieces split at any
 * byte, as it arrives from the socket.  The parser hands each part's
 * header block to part_begin() as a decoded struct mp_part, its data to
 * part_data() and its end to part_end(), synchronously from inside
 * multipart_feed().  However the body is split, the callbacks see the same
 * parts, the same data bytes in the same order and the same error.
 *
 * The grammar taken, and where it is narrower than RFC 2046:
 *  - The preamble before the first delimiter is skipped, but the first
 *    delimiter must end within the first MP_MAX_PREAMBLE bytes of the
 *    body; a body that does not find it by then is 400.  The first
 *    delimiter may sit at the very start of the body, without the CRLF.
 *  - A delimiter is CRLF "--" boundary.  After it comes optional
 *    transport padding (SP, HTAB; at most MP_MAX_PADDING bytes) and CRLF
 *    for a part, or "--" for the close.  Anything else after a boundary,
 *    such as "--boundaryX", is 400: RFC 2046 makes the sender choose a
 *    boundary that no line of the data starts with.
 *  - Lines end with CRLF only, in part headers too; a bare LF or bare CR
 *    there is 400.  Obsolete line folding is 400.
 *  - Every part needs a Content-Disposition of type form-data with a name
 *    parameter (RFC 7578 §4.2); a part without one is 400.  A part may
 *    have no data.  A body with only the close delimiter has no parts and
 *    is accepted (browsers send that for an empty form).
 *  - Content-Disposition parameters may appear once each (400 when not):
 *    a second name= or filename= leaves it unclear which one counts.
 *  - The epilogue after the close delimiter line is not read.
 *
 * One struct multipart parses one body; it is not thread-safe, but
 * separate ones may be used from separate threads.  It is large (about
 * 11 KiB, the part header buffer included), so embed it in a connection or
 * allocate it rather than putting it on a small stack.
 */
#ifndef LANHTTPD_MULTIPART_H
#define LANHTTPD_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define MP_ERROR	(-1)

#define MP_MAX_BOUNDARY	70	/* RFC 2046 §5.1.1 */
/*
 * The field lines of one part's header block, their CRLFs included and
 * the final empty line not, may be this long; longer is 400 (a 431 in
 * spirit, but 431 is about the request head).
 */
#define MP_MAX_PART_HEAD 8192
/* Bytes kept of the name= and filename= values, after decoding. */
#define MP_MAX_NAME	1024
/* The first delimiter must end within this many bytes of the body. */
#define MP_MAX_PREAMBLE	8192
/* Transport padding after a boundary: more than this many bytes is 400. */
#define MP_MAX_PADDING	1024

/*
 * What one part's header block said.  Both strings are the decoded bytes,
 * exactly: quoted-string escapes and filename*'s percent-encoding are
 * undone, nothing else is checked or changed, so they may hold NUL, '/',
 * control characters or invalid UTF-8.  Each is also NUL-terminated at
 * [len], for convenience only: the length is what counts.
 */
struct mp_part {
	char	 name[MP_MAX_NAME + 1];
	size_t	 name_len;
	char	 filename[MP_MAX_NAME + 1];
	size_t	 filename_len;
	/* filename= or filename*= was present, even if empty. */
	bool	 has_filename;
	/*
	 * The filename value was longer than MP_MAX_NAME bytes: filename
	 * holds its first MP_MAX_NAME bytes only, so it is unusable.  A name
	 * that long is 400 instead, since a truncated field name could
	 * silently match another field.
	 */
	bool	 filename_too_long;
};

/*
 * The caller's handlers.  Any of them may be NULL.  Each returns 0 to go
 * on or an HTTP status to stop: multipart_feed() then returns MP_ERROR
 * with m->status set to it (a value outside 400..599 is taken as 500) and
 * m->why "stopped by the caller".  Pointers passed to them are valid only
 * during the call; copy what must outlive it.
 */
struct multipart_cb {
	/* A part's header block is complete and well-formed. */
	int	(*part_begin)(void *arg, const struct mp_part *part);
	/*
	 * Data bytes of the current part, in order, in as few calls as the
	 * input pieces allow; never any byte of a delimiter.  Embedded NUL
	 * and any other bytes are data.  n is never 0.
	 */
	int	(*part_data)(void *arg, const char *p, size_t n);
	/*
	 * The current part ended: its closing delimiter and the rest of the
	 * delimiter line ("--", or the padding and CRLF) were seen and are
	 * well-formed.
	 */
	int	(*part_end)(void *arg);
};

/* Where the parser is in the grammar.  Private to multipart.c. */
enum mp_state {
	MP_S_PREAMBLE,		/* looking for the first delimiter */
	MP_S_DATA,		/* a part's data, looking for a delimiter */
	MP_S_DELIM,		/* right after a boundary */
	MP_S_DELIM_PAD,		/* transport padding, then CR */
	MP_S_DELIM_LF,		/* the LF ending a delimiter line */
	MP_S_CLOSE_DASH,	/* the second '-' of a close delimiter */
	MP_S_CLOSE_PAD,		/* padding after the close, then CR */
	MP_S_CLOSE_LF,		/* the LF ending the close delimiter line */
	MP_S_HEAD_LINE,		/* start of a header line, or the empty one */
	MP_S_HEAD_TEXT,		/* inside a header line, up to CR */
	MP_S_HEAD_LF,		/* the LF ending a header line */
	MP_S_HEAD_END_LF,	/* the LF of the empty line ending the block */
	MP_S_DONE,
	MP_S_ERROR,
};

/*
 * The caller allocates it and sets it up with multipart_init(); only
 * status and why are meant to be read directly.  It points to nothing
 * outside itself.
 */
struct multipart {
	enum mp_state	 state;
	/*
	 * CRLF "--" boundary, the delimiter being looked for.  The bytes of
	 * a possible delimiter seen so far are always delim[0..match), so
	 * the bytes held back between calls are kept here, not copied.
	 */
	char		 delim[4 + MP_MAX_BOUNDARY];
	size_t		 delim_len;
	size_t		 match;
	size_t		 preamble_len;	/* body bytes skipped as preamble */
	size_t		 pad_len;	/* transport padding of this line */
	unsigned	 max_parts;
	unsigned	 parts;		/* parts begun so far */
	bool		 in_part;	/* a part began and has not ended */
	size_t		 head_len;
	char		 head[MP_MAX_PART_HEAD]; /* the current header block */
	struct mp_part	 part;		/* what it said */
	int		 status;	/* on MP_ERROR: the HTTP status */
	const char	*why;		/* and a short reason, static text */
};

/*
 * Extracts the boundary parameter from a Content-Type field value
 * ct[0..len) such as "multipart/form-data; boundary=XyZ" or
 * boundary="quoted".  The media type is compared case-insensitively, as
 * are parameter names; OWS around the value is allowed.  Returns the
 * boundary's length (1..70) with its bytes copied to out, NUL-terminated;
 * 0 when the type is not multipart/form-data; -1 when it is but the
 * parameters are malformed, or the boundary is missing, given twice or
 * invalid (RFC 2046 bchars, 1-70 of them, not ending in a space).  out[0]
 * is NUL on 0 and -1.  Reads nothing outside ct[0..len).
 */
int	multipart_boundary(const char *ct, size_t len,
	    char out[MP_MAX_BOUNDARY + 1]);

/*
 * Starts parsing a body delimited by boundary[0..blen) (copied), with at
 * most max_parts parts: the part after those is 413, why "too many
 * parts".  m is fully overwritten, so it can be reused for the next body.
 * A boundary multipart_boundary() would not return (blen outside
 * 1..MP_MAX_BOUNDARY, a byte not a bchar, a trailing space) leaves m
 * failed with 400, why "invalid boundary".
 */
void	multipart_init(struct multipart *m, const char *boundary,
	    size_t blen, unsigned max_parts);

/*
 * Parses the next body bytes in[0..len), which may be split anywhere (a
 * delimiter across calls, even byte by byte), calling cb's handlers with
 * arg synchronously (cb may be NULL to check the syntax only).  Returns
 * the number of bytes consumed: len, unless the close delimiter line
 * ended inside in, when the bytes after it (the epilogue) are not
 * consumed and the caller ignores them.  At most boundary length + 3
 * bytes of a possible delimiter are held back between calls; they go to
 * part_data() once they turn out to be data.  Nothing outside in[0..len)
 * is read, and nothing kept pointing into it.
 *
 * Returns MP_ERROR with m->status and m->why set on bad input: 400 when
 * it is malformed (see the top of this file), 413 for too many parts, or
 * what a handler returned.  The byte where the error lies decides it, so
 * however the body is split the status is the same.  Calling again after
 * an error returns MP_ERROR again, status unchanged; calling again after
 * the end consumes nothing but the rest of the close delimiter line.
 */
ssize_t	multipart_feed(struct multipart *m, const char *in, size_t len,
	    const struct multipart_cb *cb, void *arg);

/*
 * True once the close delimiter ("--" boundary "--") was seen.  Its line
 * may still be missing its padding and CRLF, which are optional at the
 * very end of the body.
 */
bool	multipart_done(const struct multipart *m);

/*
 * The body ended: there is no more input.  Returns 0 when
 * multipart_done(), else MP_ERROR: with status 400 and why "body ends
 * before the closing boundary", or the earlier error left as it was.
 */
int	multipart_finish(struct multipart *m);

#endif /* LANHTTPD_MULTIPART_H */
