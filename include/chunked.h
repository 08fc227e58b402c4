/*
 * chunked.h - decoder for the chunked transfer coding of request bodies
 * (RFC 9112 §7.1).
 *
 * Pure: no I/O, no allocation, no globals.  A struct chunked holds the
 * whole state between calls, so a body can be fed in pieces split at any
 * byte, as it arrives from the socket, and decoded in place.  The grammar
 * is applied strictly (CRLF only, BWS only where RFC 9112 has it), since
 * request smuggling lives in the differences between parsers.  Chunk
 * extensions and trailer fields are validated and dropped.
 *
 * One struct chunked decodes one body; it is not thread-safe, but separate
 * ones may be used from separate threads.
 */
#ifndef LANHTTPD_CHUNKED_H
#define LANHTTPD_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CHUNKED_ERROR	(-1)

/*
 * A chunk-size line (the size and its extensions, without the CRLF) longer
 * than this is answered with 400.
 */
#define CHUNKED_MAX_LINE	4096
/*
 * Trailer field lines (CRLFs included, the final empty line not) longer
 * than this in all are answered with 431, as a request head would be.
 */
#define CHUNKED_MAX_TRAILER	8192
/* More significant hex digits than this in a chunk size is 413. */
#define CHUNKED_MAX_DIGITS	16

/* Where the decoder is in the grammar.  Private to chunked.c. */
enum chunked_state {
	CHUNKED_S_SIZE_FIRST,	/* the first HEXDIG of a chunk-size */
	CHUNKED_S_SIZE,		/* more HEXDIG, ';', BWS or CR */
	CHUNKED_S_SIZE_BWS,	/* BWS after the size: only ';' may follow */
	CHUNKED_S_EXT_NAME_FIRST, /* BWS, then the first tchar of a name */
	CHUNKED_S_EXT_NAME,	/* more of the name, '=', ';', BWS or CR */
	CHUNKED_S_EXT_NAME_BWS,	/* BWS after a name: '=' or ';' follows */
	CHUNKED_S_EXT_VAL_FIRST, /* BWS, then a token or a quoted-string */
	CHUNKED_S_EXT_TOKEN,	/* more of a token value, ';', BWS or CR */
	CHUNKED_S_EXT_QUOTED,	/* inside a quoted-string */
	CHUNKED_S_EXT_QPAIR,	/* after a backslash inside it */
	CHUNKED_S_EXT_VAL_END,	/* after the closing quote: ';', BWS or CR */
	CHUNKED_S_EXT_VAL_BWS,	/* BWS after a value: only ';' may follow */
	CHUNKED_S_SIZE_LF,	/* the LF ending the chunk-size line */
	CHUNKED_S_DATA,		/* chunk-data */
	CHUNKED_S_DATA_CR,	/* the CRLF after the chunk-data */
	CHUNKED_S_DATA_LF,	/* and its LF */
	CHUNKED_S_TRAILER_LINE,	/* a trailer field line or the final CRLF */
	CHUNKED_S_TRAILER_NAME,	/* more of a field name, or ':' */
	CHUNKED_S_TRAILER_VALUE, /* the field value, up to CR */
	CHUNKED_S_TRAILER_LF,	/* the LF ending a field line */
	CHUNKED_S_END_LF,	/* the LF of the final empty line */
	CHUNKED_S_DONE,
	CHUNKED_S_ERROR,
};

/*
 * The caller allocates it (on the stack or inside a connection) and sets
 * it up with chunked_init(); only status is meant to be read directly.
 */
struct chunked {
	enum chunked_state state;
	unsigned	 digits;	/* significant digits of the size */
	uint64_t	 left;		/* chunk size, then data bytes left */
	uint64_t	 total;		/* data bytes decoded so far */
	uint64_t	 max_body;
	size_t		 line_len;	/* bytes of the chunk-size line */
	size_t		 trailer_len;	/* bytes of the trailer field lines */
	int		 status;	/* on CHUNKED_ERROR: 400, 413 or 431 */
};

/*
 * Starts decoding a body of at most max_body bytes of decoded data
 * (UINT64_MAX for no bound but the 16-digit one).  ck is fully
 * overwritten, so it can be reused for the next body.
 */
void	chunked_init(struct chunked *ck, uint64_t max_body);

/*
 * Decodes the next input in[0..len).  The chunk data found is written to
 * out, which must have room for len bytes, and *out_len receives its
 * length.  out may be in itself, or lie before in within the same buffer:
 * the output never overtakes the input.  Returns the number of input
 * bytes consumed, which is len unless the body ended inside in: then
 * *done is set and the bytes after the body (a pipelined request) are not
 * consumed.  Nothing outside in[0..len) is read, nothing outside
 * out[0..*out_len) written, and nothing is kept pointing into either.
 *
 * Returns CHUNKED_ERROR with ck->status set on bad input (*out_len is then
 * 0, *done false and out holds nothing of use): 400 when it is malformed,
 * 413 when the data would pass max_body (as soon as a chunk size says so,
 * before its data arrives) or a chunk size has more than
 * CHUNKED_MAX_DIGITS significant digits, 431 when the trailer section
 * passes CHUNKED_MAX_TRAILER.  The byte where the error lies decides it,
 * so however the body is split the status is the same.
 *
 * Calling again after an error returns CHUNKED_ERROR with the same status;
 * calling again after the end consumes nothing and sets *done again.
 */
ssize_t	chunked_decode(struct chunked *ck, const char *in, size_t len,
	    char *out, size_t *out_len, bool *done);

/* Whether the body has ended (its final CRLF was consumed). */
bool	chunked_done(const struct chunked *ck);

/* Data bytes decoded so far. */
uint64_t	chunked_total(const struct chunked *ck);

#endif /* LANHTTPD_CHUNKED_H */
