/*
 * dav_if.c - the If, Timeout, Depth, Overwrite and Lock-Token headers of
 * WebDAV (RFC 4918 §10); see dav_if.h.
 *
 * The If parser is a plain recursive-descent reader over a cursor that
 * never moves past the end of its span: every byte access is preceded by
 * a check of the offset against the length.
 */
#include "dav_if.h"

#include <stdint.h>

/* A read position in p[0..len). */
struct cursor {
	const char	*p;
	size_t		 len;
	size_t		 off;
};

/* True when the cursor has no byte left. */
static bool
at_end(const struct cursor *c)
{
	return c->off >= c->len;
}

/* The byte under the cursor; only when !at_end(). */
static unsigned char
peek(const struct cursor *c)
{
	return (unsigned char)c->p[c->off];
}

/* Skips LWS: SP and HTAB (the header is unfolded by the time it is here). */
static void
skip_lws(struct cursor *c)
{
	while (!at_end(c) && (peek(c) == ' ' || peek(c) == '\t'))
		c->off++;
}

/*
 * A byte allowed inside < >: no control, SP, DEL or angle bracket.
 * Bytes >= 0x80 pass; whether the URI is any good is the caller's call.
 */
static bool
url_char(unsigned char ch)
{
	return ch > 0x20 && ch != 0x7f && ch != '<' && ch != '>';
}

/*
 * etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3), and SP and HTAB
 * too: RFC 4918 takes entity-tag from RFC 2616, whose quoted-string lets
 * them in, and its own examples use them ("I am an ETag").  The quote
 * still ends the tag, so this is harmless.  RFC 2616's quoted-pair is
 * not taken: our entity-tags never hold a backslash or a quote.
 */
static bool
etag_char(unsigned char ch)
{
	return (ch >= 0x20 && ch != '"' && ch != 0x7f) || ch == '\t';
}

/*
 * Reads a Coded-URL "<" 1*url_char ">" at the cursor.  Returns true with
 * *v set to the inside and the cursor past '>', or false.
 */
static bool
read_coded_url(struct cursor *c, struct span *v)
{
	size_t start;

	if (at_end(c) || peek(c) != '<')
		return false;
	start = ++c->off;
	while (!at_end(c) && url_char(peek(c)))
		c->off++;
	if (c->off == start || at_end(c) || peek(c) != '>')
		return false;
	*v = span_make(c->p + start, c->off - start);
	c->off++;
	return true;
}

/*
 * Reads "[" entity-tag "]" at the cursor, LWS allowed inside the
 * brackets.  Returns true with *v set to the entity-tag as written, or
 * false.  The closing quote is found by the grammar, not by looking for
 * ']', since etagc includes ']'.
 */
static bool
read_bracket_etag(struct cursor *c, struct span *v)
{
	size_t start;

	if (at_end(c) || peek(c) != '[')
		return false;
	c->off++;
	skip_lws(c);
	start = c->off;
	if (c->len - c->off >= 2 && c->p[c->off] == 'W' &&
	    c->p[c->off + 1] == '/')
		c->off += 2;
	if (at_end(c) || peek(c) != '"')
		return false;
	c->off++;
	while (!at_end(c) && etag_char(peek(c)))
		c->off++;
	if (at_end(c) || peek(c) != '"')
		return false;
	c->off++;
	*v = span_make(c->p + start, c->off - start);
	skip_lws(c);
	if (at_end(c) || peek(c) != ']')
		return false;
	c->off++;
	return true;
}

/* Reads one Condition into out->conds[out->nconds].  0 or -1. */
static int
parse_cond(struct cursor *c, struct dav_if *out)
{
	struct dav_if_cond *k;

	if (out->nconds >= DAV_IF_MAX_CONDS)
		return -1;
	k = &out->conds[out->nconds];
	k->not = false;
	k->is_etag = false;
	if (c->len - c->off >= 3 &&
	    span_eq_cstr_nocase(span_make(c->p + c->off, 3), "not")) {
		k->not = true;
		c->off += 3;
		skip_lws(c);
	}
	if (at_end(c))
		return -1;
	if (peek(c) == '<') {
		if (!read_coded_url(c, &k->v))
			return -1;
	} else if (peek(c) == '[') {
		k->is_etag = true;
		if (!read_bracket_etag(c, &k->v))
			return -1;
	} else
		return -1;
	out->nconds++;
	return 0;
}

/*
 * Reads one List "(" 1*Condition ")" at the cursor (which is on the
 * '('), giving it tag.  0 or -1.
 */
static int
parse_list(struct cursor *c, struct span tag, struct dav_if *out)
{
	size_t first = out->nconds;

	if (out->nlists >= DAV_IF_MAX_LISTS)
		return -1;
	c->off++;
	for (;;) {
		skip_lws(c);
		if (at_end(c))
			return -1;
		if (peek(c) == ')')
			break;
		if (parse_cond(c, out) == -1)
			return -1;
	}
	c->off++;
	/* RFC 4918 §10.4: List = "(" 1*Condition ")". */
	if (out->nconds == first)
		return -1;
	out->lists[out->nlists++] = (struct dav_if_list){
		.tag = tag, .first = first, .n = out->nconds - first,
	};
	return 0;
}

int
dav_if_parse(const char *p, size_t len, struct dav_if *out)
{
	struct cursor c = { .p = p, .len = len, .off = 0 };
	struct span tag = SPAN_NULL;
	size_t since_tag = 0;

	out->nconds = out->nlists = 0;
	out->tagged = false;
	for (;;) {
		skip_lws(&c);
		if (at_end(&c))
			break;
		if (peek(&c) == '<') {
			/* No mixing, and every Resource-Tag has 1*List. */
			if (out->nlists > 0 && !out->tagged)
				goto bad;
			if (out->tagged && since_tag == 0)
				goto bad;
			if (!read_coded_url(&c, &tag))
				goto bad;
			out->tagged = true;
			since_tag = 0;
		} else if (peek(&c) == '(') {
			if (parse_list(&c, tag, out) == -1)
				goto bad;
			since_tag++;
		} else
			goto bad;
	}
	if (out->nlists == 0 || (out->tagged && since_tag == 0))
		goto bad;
	return 0;
bad:
	out->nconds = out->nlists = 0;
	out->tagged = false;
	return -1;
}

/* True when every condition of list l holds, each negated by its Not. */
static bool
list_true(const struct dav_if *h, const struct dav_if_list *l,
    const struct dav_if_check *c)
{
	/* A list that points outside conds is never true. */
	if (l->first > h->nconds || l->n > h->nconds - l->first ||
	    h->nconds > DAV_IF_MAX_CONDS)
		return false;
	for (size_t i = l->first; i < l->first + l->n; i++) {
		const struct dav_if_cond *k = &h->conds[i];
		bool r;

		if (k->is_etag)
			r = c->etag_ok(c->arg, l->tag, k->v);
		else
			r = c->token_ok(c->arg, l->tag, k->v);
		if (r == k->not)
			return false;
	}
	return true;
}

bool
dav_if_eval(const struct dav_if *h, const struct dav_if_check *c)
{
	for (size_t i = 0; i < h->nlists && i < DAV_IF_MAX_LISTS; i++)
		if (list_true(h, &h->lists[i], c))
			return true;
	return false;
}

size_t
dav_if_tokens(const struct dav_if *h, struct span *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < h->nconds && i < DAV_IF_MAX_CONDS; i++) {
		const struct dav_if_cond *k = &h->conds[i];

		if (k->is_etag || k->not)
			continue;
		if (n == cap)
			break;
		out[n++] = k->v;
	}
	return n;
}

/*
 * Reads s as 1*DIGIT into *out, saturating at UINT64_MAX rather than
 * overflowing.  False when s is empty or holds a non-digit.
 */
static bool
digits_saturating(struct span s, uint64_t *out)
{
	uint64_t v = 0;

	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';

		if (d > 9)
			return false;
		if (v > (UINT64_MAX - d) / 10)
			v = UINT64_MAX;
		else
			v = v * 10 + d;
	}
	*out = v;
	return true;
}

unsigned
dav_parse_timeout(struct span v, unsigned def_s, unsigned max_s)
{
	static const struct span second = SPAN_LIT("Second-");
	struct span rest = v, e;
	uint64_t n;

	if (v.p == NULL)
		return def_s;
	while (span_next_list_elem(&rest, &e)) {
		if (span_eq_cstr_nocase(e, "Infinite"))
			return max_s;
		if (!span_starts_nocase(e, second))
			continue;
		if (!digits_saturating(span_make(e.p + second.len,
		    e.len - second.len), &n))
			continue;
		if (n < 1)
			n = 1;
		return n > max_s ? max_s : (unsigned)n;
	}
	return def_s;
}

int
dav_parse_depth(struct span v, int def)
{
	if (v.p == NULL)
		return def;
	v = span_trim(v);
	if (span_eq(v, SPAN_LIT("0")))
		return 0;
	if (span_eq(v, SPAN_LIT("1")))
		return 1;
	if (span_eq_cstr_nocase(v, "infinity"))
		return DAV_DEPTH_INF;
	return -1;
}

int
dav_parse_overwrite(struct span v)
{
	if (v.p == NULL)
		return 1;
	v = span_trim(v);
	if (span_eq(v, SPAN_LIT("T")))
		return 1;
	if (span_eq(v, SPAN_LIT("F")))
		return 0;
	return -1;
}

bool
dav_parse_lock_token(struct span v, struct span *token)
{
	struct cursor c;
	struct span t;

	if (v.p == NULL)
		return false;
	v = span_trim(v);
	c = (struct cursor){ .p = v.p, .len = v.len, .off = 0 };
	if (!read_coded_url(&c, &t) || !at_end(&c))
		return false;
	*token = t;
	return true;
}
