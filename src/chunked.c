/*
 * chunked.c - chunked transfer coding decoder; see chunked.h.
 *
 * A state machine over RFC 9112 §7.1 that takes one byte at a time,
 * except for chunk data, which moves in one memmove per chunk and call.
 * Every state sits between two bytes of the grammar and the decoder never
 * looks ahead, so where a call's input happens to end cannot change the
 * result: the same bytes give the same data, the same end and the same
 * error however they are split.
 *
 * It is as strict as RFC 9112 allows, on purpose: request smuggling lives
 * in the differences between parsers.  Lines end with CRLF only, trailer
 * fields included (the bare-LF leniency of §2.2 is a MAY, and a bare LF
 * that one parser takes for a line end and another does not is how a body
 * hides a second request).  BWS is taken only where chunk-ext has it, so
 * "5 \r\n" is refused.  Trailer fields follow the rules of request header
 * fields: no obs-fold, no whitespace before the colon, no controls in
 * values.
 */
#include "chunked.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

static bool
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 §5.6.2 tchar. */
static bool
is_tchar(unsigned char c)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z'))
		return true;
	return memchr(extra, c, sizeof(extra) - 1) != NULL;
}

/* The value of a HEXDIG in either case, or -1. */
static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * RFC 9110 §5.6.4: what may follow a backslash in a quoted-pair, which is
 * also qdtext once '"' and '\\' are ruled out: HTAB, SP, VCHAR and
 * obs-text, so no other control and no DEL.
 */
static bool
is_quoted_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Resets the per-line state for the chunk-size line of the next chunk. */
static void
start_chunk(struct chunked *ck)
{
	ck->state = CHUNKED_S_SIZE_FIRST;
	ck->left = 0;
	ck->digits = 0;
	ck->line_len = 0;
}

/*
 * The steps below take one byte in the state they are named after and
 * return 0 to go on, or the HTTP status of the error.
 */

/*
 * One HEXDIG of a chunk-size.  Leading zeros do not count as digits, so
 * 16 of the others always fit in 64 bits and overflow cannot happen;
 * CHUNKED_MAX_LINE stops an endless run of zeros.  More digits never make
 * a size smaller, so one that passes what is left of max_body is refused
 * at once, before its line ends or any of its data arrives.
 */
static int
size_digit(struct chunked *ck, int d)
{
	if (ck->left != 0 || d != 0) {
		if (ck->digits == CHUNKED_MAX_DIGITS)
			return 413;
		ck->digits++;
		ck->left = ck->left << 4 | (uint64_t)d;
	}
	if (ck->left > ck->max_body - ck->total)
		return 413;
	ck->state = CHUNKED_S_SIZE;
	return 0;
}

/*
 * What may follow a size, an extension name or an extension value: the
 * next extension, BWS (which then must lead to one: bws is the state for
 * that), or the CR of the line's end.  Anything else, a bare LF included,
 * is malformed.
 */
static int
ext_next(struct chunked *ck, unsigned char c, enum chunked_state bws)
{
	if (c == ';')
		ck->state = CHUNKED_S_EXT_NAME_FIRST;
	else if (is_ws(c))
		ck->state = bws;
	else if (c == '\r')
		ck->state = CHUNKED_S_SIZE_LF;
	else
		return 400;
	return 0;
}

/* BWS that only ';' may end: whitespace before CRLF is not in the grammar. */
static int
ext_bws(struct chunked *ck, unsigned char c)
{
	if (c == ';')
		ck->state = CHUNKED_S_EXT_NAME_FIRST;
	else if (!is_ws(c))
		return 400;
	return 0;
}

/*
 * chunk-size [ chunk-ext ] up to its CR (RFC 9112 §7.1, §7.1.1), where
 *   chunk-ext     = *( BWS ";" BWS chunk-ext-name
 *                    [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-val = token / quoted-string
 */
static int	ext_char(struct chunked *, unsigned char);

static int
size_line(struct chunked *ck, unsigned char c)
{
	int d;

	if (c != '\r' && ++ck->line_len > CHUNKED_MAX_LINE)
		return 400;
	switch (ck->state) {
	case CHUNKED_S_SIZE_FIRST:
		if ((d = hex_value(c)) < 0)
			return 400;
		return size_digit(ck, d);
	case CHUNKED_S_SIZE:
		if ((d = hex_value(c)) >= 0)
			return size_digit(ck, d);
		return ext_next(ck, c, CHUNKED_S_SIZE_BWS);
	case CHUNKED_S_SIZE_BWS:
		return ext_bws(ck, c);
	default:
		return ext_char(ck, c);
	}
}

/* One octet of the chunk extensions after the size. */
static int
ext_char(struct chunked *ck, unsigned char c)
{
	switch (ck->state) {
	case CHUNKED_S_EXT_VAL_BWS:
		return ext_bws(ck, c);
	case CHUNKED_S_EXT_NAME_FIRST:
		if (is_tchar(c))
			ck->state = CHUNKED_S_EXT_NAME;
		else if (!is_ws(c))
			return 400;
		return 0;
	case CHUNKED_S_EXT_NAME:
		if (is_tchar(c))
			return 0;
		if (c == '=') {
			ck->state = CHUNKED_S_EXT_VAL_FIRST;
			return 0;
		}
		return ext_next(ck, c, CHUNKED_S_EXT_NAME_BWS);
	case CHUNKED_S_EXT_NAME_BWS:
		if (c == '=') {
			ck->state = CHUNKED_S_EXT_VAL_FIRST;
			return 0;
		}
		return ext_bws(ck, c);
	case CHUNKED_S_EXT_VAL_FIRST:
		if (c == '"')
			ck->state = CHUNKED_S_EXT_QUOTED;
		else if (is_tchar(c))
			ck->state = CHUNKED_S_EXT_TOKEN;
		else if (!is_ws(c))
			return 400;
		return 0;
	case CHUNKED_S_EXT_TOKEN:
		if (is_tchar(c))
			return 0;
		return ext_next(ck, c, CHUNKED_S_EXT_VAL_BWS);
	case CHUNKED_S_EXT_QUOTED:
		/* A CR or LF here is a control: the string is unterminated. */
		if (c == '"')
			ck->state = CHUNKED_S_EXT_VAL_END;
		else if (c == '\\')
			ck->state = CHUNKED_S_EXT_QPAIR;
		else if (!is_quoted_char(c))
			return 400;
		return 0;
	case CHUNKED_S_EXT_QPAIR:
		if (!is_quoted_char(c))
			return 400;
		ck->state = CHUNKED_S_EXT_QUOTED;
		return 0;
	case CHUNKED_S_EXT_VAL_END:
		return ext_next(ck, c, CHUNKED_S_EXT_VAL_BWS);
	default:
		assert(!"size_line called outside a chunk-size line");
		return 400;
	}
}

/*
 * The trailer section (RFC 9112 §7.1.2): field lines as in a request
 * head, then the empty line that ends the body.  The fields are dropped,
 * so only their syntax and their size matter.  The CR that starts the
 * final empty line is recognised before the byte is counted, so the
 * bound covers the field lines alone.
 */
static int
trailer(struct chunked *ck, unsigned char c)
{
	if (ck->state == CHUNKED_S_TRAILER_LINE && c == '\r') {
		ck->state = CHUNKED_S_END_LF;
		return 0;
	}
	if (ck->state == CHUNKED_S_END_LF) {
		if (c != '\n')
			return 400;
		ck->state = CHUNKED_S_DONE;
		return 0;
	}
	if (++ck->trailer_len > CHUNKED_MAX_TRAILER)
		return 431;
	switch (ck->state) {
	case CHUNKED_S_TRAILER_LINE:
		/*
		 * A field name is a token: a line starting with SP or HTAB
		 * (obs-fold, RFC 9112 §5.2), a bare LF or a colon is refused.
		 */
		if (!is_tchar(c))
			return 400;
		ck->state = CHUNKED_S_TRAILER_NAME;
		return 0;
	case CHUNKED_S_TRAILER_NAME:
		/* RFC 9112 §5.1: no whitespace between name and colon. */
		if (c == ':')
			ck->state = CHUNKED_S_TRAILER_VALUE;
		else if (!is_tchar(c))
			return 400;
		return 0;
	case CHUNKED_S_TRAILER_VALUE:
		/* RFC 9110 §5.5: no NUL, no CTL but HTAB, no DEL. */
		if (c == '\r')
			ck->state = CHUNKED_S_TRAILER_LF;
		else if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 400;
		return 0;
	case CHUNKED_S_TRAILER_LF:
		if (c != '\n')
			return 400;
		ck->state = CHUNKED_S_TRAILER_LINE;
		return 0;
	default:
		assert(!"trailer called outside the trailer section");
		return 400;
	}
}

/* Any one byte outside chunk data. */
static int
step(struct chunked *ck, unsigned char c)
{
	switch (ck->state) {
	case CHUNKED_S_SIZE_LF:
		if (c != '\n')
			return 400;
		/* A size of 0 is the last-chunk: the trailers follow. */
		ck->state = ck->left == 0 ? CHUNKED_S_TRAILER_LINE :
		    CHUNKED_S_DATA;
		return 0;
	case CHUNKED_S_DATA_CR:
		/* Exactly CRLF after the data: more data is not tolerated. */
		if (c != '\r')
			return 400;
		ck->state = CHUNKED_S_DATA_LF;
		return 0;
	case CHUNKED_S_DATA_LF:
		if (c != '\n')
			return 400;
		start_chunk(ck);
		return 0;
	case CHUNKED_S_TRAILER_LINE:
	case CHUNKED_S_TRAILER_NAME:
	case CHUNKED_S_TRAILER_VALUE:
	case CHUNKED_S_TRAILER_LF:
	case CHUNKED_S_END_LF:
		return trailer(ck, c);
	case CHUNKED_S_SIZE_FIRST:
	case CHUNKED_S_SIZE:
	case CHUNKED_S_SIZE_BWS:
	case CHUNKED_S_EXT_NAME_FIRST:
	case CHUNKED_S_EXT_NAME:
	case CHUNKED_S_EXT_NAME_BWS:
	case CHUNKED_S_EXT_VAL_FIRST:
	case CHUNKED_S_EXT_TOKEN:
	case CHUNKED_S_EXT_QUOTED:
	case CHUNKED_S_EXT_QPAIR:
	case CHUNKED_S_EXT_VAL_END:
	case CHUNKED_S_EXT_VAL_BWS:
		return size_line(ck, c);
	case CHUNKED_S_DATA:
	case CHUNKED_S_DONE:
	case CHUNKED_S_ERROR:
		break;
	}
	assert(!"step called in a state that takes no single byte");
	return 400;
}

void
chunked_init(struct chunked *ck, uint64_t max_body)
{
	*ck = (struct chunked){ .max_body = max_body };
	start_chunk(ck);
}

ssize_t
chunked_decode(struct chunked *ck, const char *in, size_t len, char *out,
    size_t *out_len, bool *done)
{
	size_t i = 0, o = 0;
	int st;

	assert(len <= SSIZE_MAX);
	*out_len = 0;
	*done = false;
	if (ck->state == CHUNKED_S_ERROR)
		return CHUNKED_ERROR;
	while (i < len && ck->state != CHUNKED_S_DONE) {
		if (ck->state == CHUNKED_S_DATA) {
			size_t n = len - i;

			if (n > ck->left)
				n = (size_t)ck->left;
			/*
			 * o <= i always (only data is written), so out at or
			 * before in never overtakes it; memmove for when they
			 * are the same buffer.
			 */
			memmove(out + o, in + i, n);
			i += n;
			o += n;
			ck->left -= n;
			ck->total += n;
			if (ck->left == 0)
				ck->state = CHUNKED_S_DATA_CR;
			continue;
		}
		if ((st = step(ck, (unsigned char)in[i])) != 0) {
			ck->state = CHUNKED_S_ERROR;
			ck->status = st;
			return CHUNKED_ERROR;
		}
		i++;
	}
	*out_len = o;
	*done = ck->state == CHUNKED_S_DONE;
	return (ssize_t)i;
}

bool
chunked_done(const struct chunked *ck)
{
	return ck->state == CHUNKED_S_DONE;
}

uint64_t
chunked_total(const struct chunked *ck)
{
	return ck->total;
}
