/*
 * multipart.c - multipart/form-data body parser; see multipart.h.
 *
 * A state machine over RFC 2046 §5.1.1.  Part data, which is nearly all
 * of a body, is scanned with memchr() for the CR that may start a
 * delimiter, and handed on in one piece per delimiter and per call; the
 * delimiter lines and the header blocks go one byte at a time.
 *
 * The delimiter is CRLF "--" boundary, and a boundary holds no CR
 * (bchars), so CR occurs in it only as its first byte.  A partial match
 * that fails can therefore never hide the start of another one, except in
 * the byte that broke it: no KMP table is needed.  The bytes of a partial
 * match are always delim[0..match), so those held back at the end of a
 * call need no buffer of their own, and there are at most delim_len - 1 of
 * them.  Parsing starts with the CRLF taken as matched, which lets the
 * first delimiter open the body without one.
 *
 * A part's header block is collected whole (it is bounded by
 * MP_MAX_PART_HEAD) and parsed once its empty line arrives, so only the
 * block's framing is checked byte by byte.  Strictness is on purpose, as
 * in chunked.c: CRLF only, no obs-fold, no controls in field values, no
 * repeated Content-Disposition or parameter, since the differences
 * between two parsers of one body are where a file slips past a check.
 */
#include "multipart.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

/* The caller's handlers and their argument, for one multipart_feed(). */
struct mp_call {
	const struct multipart_cb *cb;
	void	*arg;
};

/* A read position in a header field value p[0..len). */
struct cursor {
	const char	*p;
	size_t		 len;
	size_t		 off;
};

/*
 * Where a decoded value goes: the first cap bytes are kept in p (which
 * may be NULL with cap 0 to only check the syntax); over says more came.
 */
struct sink {
	char	*p;
	size_t	 cap;
	size_t	 len;
	bool	 over;
};

/* Which Content-Disposition parameters a header block had. */
struct seen {
	bool	 name;
	bool	 filename;
	bool	 filename_ext;
};

static const char MALFORMED_CD[] = "malformed content-disposition";
static const char MALFORMED_HEAD[] = "malformed part headers";
static const char MALFORMED_DELIM[] = "malformed boundary line";

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
	return c != '\0' && memchr(extra, c, sizeof(extra) - 1) != NULL;
}

/* RFC 2046 §5.1.1 bchars: the bytes a boundary is made of. */
static bool
is_bchar(unsigned char c)
{
	static const char extra[] = "'()+_,-./:=? ";

	if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z'))
		return true;
	return c != '\0' && memchr(extra, c, sizeof(extra) - 1) != NULL;
}

/*
 * RFC 9110 §5.5: a field value holds no control but HTAB and no DEL;
 * obs-text stays, since browsers send file names as raw UTF-8.  The same
 * set is what qdtext and quoted-pair allow once '"' and '\\' are handled.
 */
static bool
is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
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

/* Whether p[0..len) is lit, ignoring ASCII case. */
static bool
ci_eq(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char a = (unsigned char)p[i];
		unsigned char b = (unsigned char)lit[i];

		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

/* Records why the parse fails and returns its status. */
static int
fail(struct multipart *m, int status, const char *why)
{
	m->why = why;
	return status;
}

/*
 * Cursor and sink helpers for the parameters of Content-Type and
 * Content-Disposition (RFC 9110 §5.6.6).
 */

static void
skip_ows(struct cursor *cu)
{
	while (cu->off < cu->len && is_ws((unsigned char)cu->p[cu->off]))
		cu->off++;
}

/* Takes a run of tchar and returns its length (0: none there). */
static size_t
take_token(struct cursor *cu)
{
	size_t start = cu->off;

	while (cu->off < cu->len && is_tchar((unsigned char)cu->p[cu->off]))
		cu->off++;
	return cu->off - start;
}

static void
sink_put(struct sink *s, unsigned char c)
{
	if (s->len < s->cap)
		s->p[s->len++] = (char)c;
	else
		s->over = true;
}

/*
 * Takes a quoted-string, the cursor on its opening quote, and puts its
 * content with the escapes undone into s.  False when it is malformed.
 */
static bool
take_quoted(struct cursor *cu, struct sink *s)
{
	cu->off++;
	while (cu->off < cu->len) {
		unsigned char c = (unsigned char)cu->p[cu->off++];

		if (c == '"')
			return true;
		if (c == '\\') {
			if (cu->off == cu->len)
				return false;
			c = (unsigned char)cu->p[cu->off++];
		}
		if (!is_value_char(c))
			return false;
		sink_put(s, c);
	}
	return false;
}

/* Takes a parameter value, a token or a quoted-string, into s. */
static bool
take_value(struct cursor *cu, struct sink *s)
{
	size_t start = cu->off, n;

	if (cu->off < cu->len && cu->p[cu->off] == '"')
		return take_quoted(cu, s);
	if ((n = take_token(cu)) == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		sink_put(s, (unsigned char)cu->p[start + i]);
	return true;
}

/*
 * Moves past the ";" and OWS before the next parameter, and any empty
 * parameters.  Returns 1 when a parameter follows, 0 at the end of the
 * value, -1 when something else does.
 */
static int
next_param(struct cursor *cu)
{
	for (;;) {
		skip_ows(cu);
		if (cu->off == cu->len)
			return 0;
		if (cu->p[cu->off] != ';')
			return -1;
		cu->off++;
		skip_ows(cu);
		if (cu->off < cu->len && cu->p[cu->off] != ';')
			return 1;
	}
}

/*
 * Takes a parameter name and its "=" (no whitespace around it, RFC 9110
 * §5.6.6).  Returns the name's length, 0 when malformed; *name points to
 * it.
 */
static size_t
take_param_name(struct cursor *cu, const char **name)
{
	size_t n;

	*name = cu->p + cu->off;
	n = take_token(cu);
	if (n == 0 || cu->off == cu->len || cu->p[cu->off] != '=')
		return 0;
	cu->off++;
	return n;
}

/*
 * Content-Type
 */

/* RFC 2046 §5.1.1: 1 to 70 bchars, the last not a space. */
static bool
valid_boundary(const char *b, size_t len)
{
	if (len == 0 || len > MP_MAX_BOUNDARY || b[len - 1] == ' ')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_bchar((unsigned char)b[i]))
			return false;
	return true;
}

/*
 * The parameters after multipart/form-data: puts the boundary's value
 * into s.  False when they are malformed or the boundary is not there
 * exactly once.
 */
static bool
content_type_params(struct cursor *cu, struct sink *s)
{
	bool found = false;
	int more;

	while ((more = next_param(cu)) == 1) {
		struct sink none = { 0 };
		const char *name;
		size_t n = take_param_name(cu, &name);

		if (n == 0)
			return false;
		if (!ci_eq(name, n, "boundary")) {
			if (!take_value(cu, &none))
				return false;
			continue;
		}
		if (found || !take_value(cu, s))
			return false;
		found = true;
	}
	return more == 0 && found;
}

int
multipart_boundary(const char *ct, size_t len, char out[MP_MAX_BOUNDARY + 1])
{
	struct cursor cu = { .p = ct, .len = len };
	struct sink s = { .p = out, .cap = MP_MAX_BOUNDARY };
	size_t start;

	out[0] = '\0';
	skip_ows(&cu);
	start = cu.off;
	/* type "/" subtype; tchar has no '/', so a token ends at it. */
	if (take_token(&cu) == 0 || cu.off == cu.len || ct[cu.off] != '/')
		return 0;
	cu.off++;
	if (take_token(&cu) == 0 ||
	    !ci_eq(ct + start, cu.off - start, "multipart/form-data"))
		return 0;
	if (!content_type_params(&cu, &s) || s.over ||
	    !valid_boundary(out, s.len)) {
		out[0] = '\0';
		return -1;
	}
	out[s.len] = '\0';
	return (int)s.len;
}

/*
 * Content-Disposition (RFC 7578 §4.2, RFC 6266 §4.1)
 */

/*
 * Decodes an RFC 5987 §3.2 ext-value, charset "'" [ language ] "'"
 * value-chars, into s.  UTF-8 bytes are kept as they come and ISO-8859-1
 * ones turned into UTF-8, the two charsets the RFC requires; others are
 * refused rather than guessed at.  Returns 0 or the status.
 */
static int
take_ext_value(struct multipart *m, struct cursor *cu, struct sink *s)
{
	const char *v = cu->p + cu->off, *q1, *q2;
	size_t n = take_token(cu);
	bool latin1;

	if ((q1 = memchr(v, '\'', n)) == NULL ||
	    (q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - v))) == NULL)
		return fail(m, 400, MALFORMED_CD);
	if (ci_eq(v, (size_t)(q1 - v), "utf-8"))
		latin1 = false;
	else if (ci_eq(v, (size_t)(q1 - v), "iso-8859-1"))
		latin1 = true;
	else
		return fail(m, 400, "unsupported filename* charset");
	for (const char *p = q2 + 1; p < v + n; p++) {
		unsigned char c = (unsigned char)*p;
		int hi, lo;

		if (c == '%') {
			if (v + n - p < 3 ||
			    (hi = hex_value((unsigned char)p[1])) < 0 ||
			    (lo = hex_value((unsigned char)p[2])) < 0)
				return fail(m, 400, MALFORMED_CD);
			c = (unsigned char)(hi << 4 | lo);
			p += 2;
		} else if (c == '\'' || c == '*') {
			/* The tchars that are not attr-char (besides '%'). */
			return fail(m, 400, MALFORMED_CD);
		}
		if (latin1 && c >= 0x80) {
			sink_put(s, (unsigned char)(0xc0 | c >> 6));
			sink_put(s, (unsigned char)(0x80 | (c & 0x3f)));
		} else {
			sink_put(s, c);
		}
	}
	return 0;
}

static int
param_name(struct multipart *m, struct cursor *cu, struct seen *seen)
{
	struct mp_part *pt = &m->part;
	struct sink s = { .p = pt->name, .cap = MP_MAX_NAME };

	if (seen->name)
		return fail(m, 400, "repeated content-disposition parameter");
	seen->name = true;
	if (!take_value(cu, &s))
		return fail(m, 400, MALFORMED_CD);
	/*
	 * Cut short, a field name could match another one: refuse it rather
	 * than report what it is not.
	 */
	if (s.over)
		return fail(m, 400, "part name too long");
	pt->name_len = s.len;
	pt->name[s.len] = '\0';
	return 0;
}

/*
 * filename= and filename*=.  RFC 6266 §4.3: filename* wins whichever
 * comes first, so a filename= after it is only checked.
 */
static int
param_filename(struct multipart *m, struct cursor *cu, bool ext,
    struct seen *seen)
{
	struct mp_part *pt = &m->part;
	struct sink s = { .p = pt->filename, .cap = MP_MAX_NAME };
	bool *was = ext ? &seen->filename_ext : &seen->filename;
	int st;

	if (*was)
		return fail(m, 400, "repeated content-disposition parameter");
	*was = true;
	if (!ext && seen->filename_ext)
		s = (struct sink){ 0 };
	if (ext) {
		if ((st = take_ext_value(m, cu, &s)) != 0)
			return st;
	} else if (!take_value(cu, &s)) {
		return fail(m, 400, MALFORMED_CD);
	}
	if (s.p == NULL)
		return 0;
	pt->has_filename = true;
	pt->filename_len = s.len;
	pt->filename[s.len] = '\0';
	pt->filename_too_long = s.over;
	return 0;
}

/* One parameter, the cursor on its name. */
static int
disposition_param(struct multipart *m, struct cursor *cu, struct seen *seen)
{
	struct sink none = { 0 };
	const char *name;
	size_t n = take_param_name(cu, &name);

	if (n == 0)
		return fail(m, 400, MALFORMED_CD);
	if (ci_eq(name, n, "name"))
		return param_name(m, cu, seen);
	if (ci_eq(name, n, "filename"))
		return param_filename(m, cu, false, seen);
	if (ci_eq(name, n, "filename*"))
		return param_filename(m, cu, true, seen);
	/* Others (size=, creation-date=...) are checked and dropped. */
	if (!take_value(cu, &none))
		return fail(m, 400, MALFORMED_CD);
	return 0;
}

/* The value v[0..len) of a Content-Disposition field, OWS trimmed. */
static int
disposition(struct multipart *m, const char *v, size_t len)
{
	struct cursor cu = { .p = v, .len = len };
	struct seen seen = { 0 };
	int more, st;

	if (!ci_eq(v, take_token(&cu), "form-data"))
		return fail(m, 400, "part without a form-data disposition");
	while ((more = next_param(&cu)) == 1)
		if ((st = disposition_param(m, &cu, &seen)) != 0)
			return st;
	if (more < 0)
		return fail(m, 400, MALFORMED_CD);
	if (!seen.name)
		return fail(m, 400, "part without a name");
	return 0;
}

/*
 * One field line p[0..len) of a part's header block, without its CRLF.
 * Fields other than Content-Disposition (Content-Type, for one) are
 * checked as request header fields would be and otherwise ignored.
 */
static int
field_line(struct multipart *m, const char *p, size_t len, bool *have_cd)
{
	size_t colon = 0, start, end;

	/* RFC 9112 §5.1: a token, then the colon, no whitespace between. */
	while (colon < len && is_tchar((unsigned char)p[colon]))
		colon++;
	if (colon == 0 || colon == len || p[colon] != ':')
		return fail(m, 400, MALFORMED_HEAD);
	for (size_t i = colon + 1; i < len; i++)
		if (!is_value_char((unsigned char)p[i]))
			return fail(m, 400, MALFORMED_HEAD);
	if (!ci_eq(p, colon, "content-disposition"))
		return 0;
	if (*have_cd)
		return fail(m, 400, "repeated content-disposition");
	*have_cd = true;
	start = colon + 1;
	end = len;
	while (start < end && is_ws((unsigned char)p[start]))
		start++;
	while (end > start && is_ws((unsigned char)p[end - 1]))
		end--;
	return disposition(m, p + start, end - start);
}

/*
 * The header block in m->head is complete: fills in m->part from it.  The
 * block's framing was checked as it arrived, so it is a run of lines each
 * ending in CRLF, with no CR or LF inside them.
 */
static int
parse_head(struct multipart *m)
{
	size_t off = 0;
	bool have_cd = false;
	int st;

	memset(&m->part, 0, sizeof(m->part));
	while (off < m->head_len) {
		const char *line = m->head + off;
		const char *cr = memchr(line, '\r', m->head_len - off);
		size_t n;

		assert(cr != NULL);
		n = (size_t)(cr - line);
		if ((st = field_line(m, line, n, &have_cd)) != 0)
			return st;
		off += n + 2;
	}
	if (!have_cd)
		return fail(m, 400, "part without a form-data disposition");
	return 0;
}

/*
 * The caller's handlers
 */

/* What a handler returned, as the status of the parse. */
static int
caller_status(struct multipart *m, int st)
{
	if (st == 0)
		return 0;
	m->why = "stopped by the caller";
	return st >= 400 && st <= 599 ? st : 500;
}

static int
give_data(struct multipart *m, const struct mp_call *c, const char *p,
    size_t n)
{
	if (n == 0 || c->cb == NULL || c->cb->part_data == NULL)
		return 0;
	return caller_status(m, c->cb->part_data(c->arg, p, n));
}

static int
end_part(struct multipart *m, const struct mp_call *c)
{
	if (!m->in_part)
		return 0;
	m->in_part = false;
	if (c->cb == NULL || c->cb->part_end == NULL)
		return 0;
	return caller_status(m, c->cb->part_end(c->arg));
}

static int
begin_part(struct multipart *m, const struct mp_call *c)
{
	int st;

	if ((st = parse_head(m)) != 0)
		return st;
	m->in_part = true;
	m->match = 0;
	m->state = MP_S_DATA;
	if (c->cb == NULL || c->cb->part_begin == NULL)
		return 0;
	return caller_status(m, c->cb->part_begin(c->arg, &m->part));
}

/*
 * The grammar
 */

/*
 * Looks for the delimiter in in[*ip..len), giving the bytes before it to
 * part_data() when give is set (the preamble's are dropped).  Sets *ip
 * past the delimiter, with m->match == m->delim_len, when it was found,
 * else to len.  Returns 0, or the status a handler stopped with.
 *
 * Of a partial match, here bytes lie in in[], from its start or from a CR
 * in it; the match - here before them were held from earlier calls (only
 * at the start of a call can match exceed here).  Data run in in[] starts
 * at run and ends where the match in in[] does.
 */
static int
scan(struct multipart *m, const char *in, size_t len, size_t *ip,
    bool give, const struct mp_call *c)
{
	size_t i = *ip, run = i, here = 0;
	int st;

	while (i < len) {
		if (m->match == 0) {
			const char *cr = memchr(in + i, '\r', len - i);

			if (cr == NULL) {
				i = len;
				break;
			}
			i = (size_t)(cr - in) + 1;
			m->match = here = 1;
			continue;
		}
		if (in[i] == m->delim[m->match]) {
			i++;
			here++;
			if (++m->match == m->delim_len)
				break;
			continue;
		}
		/*
		 * No delimiter after all: what matched is data, the held
		 * part of it first.  in[i] is looked at again, as it may be
		 * the CR of the real one.
		 */
		if (give && (st = give_data(m, c, m->delim,
		    m->match - here)) != 0)
			return st;
		m->match = here = 0;
	}
	*ip = i;
	return give ? give_data(m, c, in + run, i - here - run) : 0;
}

/*
 * The preamble, dropped.  Stops looking when the first MP_MAX_PREAMBLE
 * bytes hold no delimiter: the bound does not depend on how the body is
 * split, since it counts bytes of the body.
 */
static int
preamble(struct multipart *m, const char *in, size_t len, size_t *ip)
{
	size_t start = *ip, lim = len;

	if (lim - start > MP_MAX_PREAMBLE - m->preamble_len)
		lim = start + (MP_MAX_PREAMBLE - m->preamble_len);
	(void)scan(m, in, lim, ip, false, NULL);
	m->preamble_len += *ip - start;
	if (m->match == m->delim_len) {
		m->state = MP_S_DELIM;
		m->pad_len = 0;
		return 0;
	}
	if (m->preamble_len == MP_MAX_PREAMBLE)
		return fail(m, 400, "no boundary at the start of the body");
	return 0;
}

static int
data(struct multipart *m, const char *in, size_t len, size_t *ip,
    const struct mp_call *c)
{
	int st;

	if ((st = scan(m, in, len, ip, true, c)) != 0)
		return st;
	if (m->match == m->delim_len) {
		m->state = MP_S_DELIM;
		m->pad_len = 0;
	}
	return 0;
}

/* After a part's delimiter line: the next part's header block begins. */
static int
next_part(struct multipart *m, const struct mp_call *c)
{
	int st;

	if ((st = end_part(m, c)) != 0)
		return st;
	if (m->parts >= m->max_parts)
		return fail(m, 413, "too many parts");
	m->parts++;
	m->head_len = 0;
	m->state = MP_S_HEAD_LINE;
	return 0;
}

/*
 * One byte of the rest of a delimiter line, after the boundary (RFC 2046
 * §5.1.1): "--" for the close, or transport-padding CRLF for a part.
 */
static int
delim_byte(struct multipart *m, unsigned char c, const struct mp_call *cl)
{
	switch (m->state) {
	case MP_S_DELIM:
		if (c == '-') {
			m->state = MP_S_CLOSE_DASH;
			return 0;
		}
		/* FALLTHROUGH */
	case MP_S_DELIM_PAD:
		if (c == '\r') {
			m->state = MP_S_DELIM_LF;
			return 0;
		}
		if (!is_ws(c) || ++m->pad_len > MP_MAX_PADDING)
			return fail(m, 400, MALFORMED_DELIM);
		m->state = MP_S_DELIM_PAD;
		return 0;
	case MP_S_DELIM_LF:
		if (c != '\n')
			return fail(m, 400, MALFORMED_DELIM);
		return next_part(m, cl);
	case MP_S_CLOSE_DASH:
		if (c != '-')
			return fail(m, 400, MALFORMED_DELIM);
		m->state = MP_S_CLOSE_PAD;
		m->pad_len = 0;
		return end_part(m, cl);
	default:
		assert(!"delim_byte called outside a delimiter line");
		return fail(m, 500, "internal error");
	}
}

/*
 * One byte after the close delimiter: its optional padding and CRLF are
 * consumed, and the first byte of anything else is the epilogue, not
 * consumed.  Returns whether c was consumed.
 */
static bool
close_byte(struct multipart *m, unsigned char c)
{
	if (m->state == MP_S_CLOSE_PAD) {
		if (c == '\r') {
			m->state = MP_S_CLOSE_LF;
			return true;
		}
		/* Endless padding is the epilogue, which is not read. */
		if (is_ws(c) && ++m->pad_len <= MP_MAX_PADDING)
			return true;
		m->state = MP_S_DONE;
		return false;
	}
	m->state = MP_S_DONE;
	return c == '\n';
}

/*
 * One byte of a part's header block, which is collected into m->head.
 * Only the framing is checked here: CRLF line ends (RFC 2046 §5.1.1 has
 * the part headers end their lines as RFC 822 does) and no obs-fold.
 */
static int
head_byte(struct multipart *m, unsigned char c, const struct mp_call *cl)
{
	switch (m->state) {
	case MP_S_HEAD_LINE:
		if (c == '\r') {
			m->state = MP_S_HEAD_END_LF;
			return 0;
		}
		/* RFC 9112 §5.2: obs-fold is refused. */
		if (is_ws(c) || c == '\n')
			return fail(m, 400, MALFORMED_HEAD);
		m->state = MP_S_HEAD_TEXT;
		break;
	case MP_S_HEAD_TEXT:
		if (c == '\r')
			m->state = MP_S_HEAD_LF;
		else if (c == '\n')
			return fail(m, 400, MALFORMED_HEAD);
		break;
	case MP_S_HEAD_LF:
		if (c != '\n')
			return fail(m, 400, MALFORMED_HEAD);
		m->state = MP_S_HEAD_LINE;
		break;
	case MP_S_HEAD_END_LF:
		if (c != '\n')
			return fail(m, 400, MALFORMED_HEAD);
		return begin_part(m, cl);
	default:
		assert(!"head_byte called outside a header block");
		return fail(m, 500, "internal error");
	}
	if (m->head_len == MP_MAX_PART_HEAD)
		return fail(m, 400, "part headers too long");
	m->head[m->head_len++] = (char)c;
	return 0;
}

/* Takes the input at *ip in the current state. */
static int
step(struct multipart *m, const char *in, size_t len, size_t *ip,
    const struct mp_call *c)
{
	unsigned char ch = (unsigned char)in[*ip];

	switch (m->state) {
	case MP_S_PREAMBLE:
		return preamble(m, in, len, ip);
	case MP_S_DATA:
		return data(m, in, len, ip, c);
	case MP_S_DELIM:
	case MP_S_DELIM_PAD:
	case MP_S_DELIM_LF:
	case MP_S_CLOSE_DASH:
		(*ip)++;
		return delim_byte(m, ch, c);
	case MP_S_CLOSE_PAD:
	case MP_S_CLOSE_LF:
		if (close_byte(m, ch))
			(*ip)++;
		return 0;
	case MP_S_HEAD_LINE:
	case MP_S_HEAD_TEXT:
	case MP_S_HEAD_LF:
	case MP_S_HEAD_END_LF:
		(*ip)++;
		return head_byte(m, ch, c);
	case MP_S_DONE:
	case MP_S_ERROR:
		break;
	}
	assert(!"step called in a state that takes no input");
	return fail(m, 500, "internal error");
}

void
multipart_init(struct multipart *m, const char *boundary, size_t blen,
    unsigned max_parts)
{
	memset(m, 0, sizeof(*m));
	m->max_parts = max_parts;
	/* A CR in it would break the scan's no-overlap argument. */
	if (!valid_boundary(boundary, blen)) {
		m->state = MP_S_ERROR;
		m->status = 400;
		m->why = "invalid boundary";
		return;
	}
	memcpy(m->delim, "\r\n--", 4);
	memcpy(m->delim + 4, boundary, blen);
	m->delim_len = blen + 4;
	/*
	 * RFC 2046 §5.1.1: the first delimiter may open the body, without
	 * the CRLF that ends a preamble; start as if a CRLF was matched.
	 */
	m->match = 2;
	m->state = MP_S_PREAMBLE;
}

ssize_t
multipart_feed(struct multipart *m, const char *in, size_t len,
    const struct multipart_cb *cb, void *arg)
{
	const struct mp_call c = { .cb = cb, .arg = arg };
	size_t i = 0;
	int st = 0;

	assert(len <= SSIZE_MAX);
	if (m->state == MP_S_ERROR)
		return MP_ERROR;
	while (i < len && st == 0 && m->state != MP_S_DONE)
		st = step(m, in, len, &i, &c);
	if (st != 0) {
		m->state = MP_S_ERROR;
		m->status = st;
		return MP_ERROR;
	}
	return (ssize_t)i;
}

bool
multipart_done(const struct multipart *m)
{
	return m->state == MP_S_CLOSE_PAD || m->state == MP_S_CLOSE_LF ||
	    m->state == MP_S_DONE;
}

int
multipart_finish(struct multipart *m)
{
	if (multipart_done(m))
		return 0;
	if (m->state != MP_S_ERROR) {
		m->state = MP_S_ERROR;
		m->status = 400;
		m->why = "body ends before the closing boundary";
	}
	return MP_ERROR;
}
