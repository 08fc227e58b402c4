/*
 * negotiate.c - Accept, Accept-Encoding and Accept-Language; see
 * negotiate.h.
 */
#include "negotiate.h"

#include <string.h>

/*
 * RFC 9110 §12.4.2:
 *   qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
 */
static bool
parse_q(struct span v, unsigned *q)
{
	unsigned val, scale = 100;

	if (v.len == 0 || v.len > 5 || (v.p[0] != '0' && v.p[0] != '1'))
		return false;
	val = (unsigned)(v.p[0] - '0') * 1000;
	if (v.len > 1 && v.p[1] != '.')
		return false;
	for (size_t i = 2; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
		val += (unsigned)(v.p[i] - '0') * scale;
		scale /= 10;
	}
	if (val > 1000)
		return false;
	*q = val;
	return true;
}

/* Reads the q among the ";name=value" parameters; false if it is bad. */
static bool
params_q(struct span params, unsigned *q)
{
	while (params.len > 0) {
		ptrdiff_t semi = span_find(params, ';');
		size_t n = semi < 0 ? params.len : (size_t)semi;
		struct span prm = span_trim(span_make(params.p, n));

		if (prm.len >= 2 && (prm.p[0] == 'q' || prm.p[0] == 'Q') &&
		    prm.p[1] == '=' &&
		    !parse_q(span_make(prm.p + 2, prm.len - 2), q))
			return false;
		params.p += n;
		params.len -= n;
		if (params.len > 0) {
			params.p++;
			params.len--;
		}
	}
	return true;
}

bool
negotiate_next(struct span *rest, struct span *item, unsigned *q)
{
	struct span e;

	while (span_next_list_elem(rest, &e)) {
		ptrdiff_t semi = span_find(e, ';');

		*q = 1000;
		if (semi < 0) {
			*item = e;
			return true;
		}
		*item = span_trim(span_make(e.p, (size_t)semi));
		if (item->len > 0 && params_q(span_make(e.p + semi + 1,
		    e.len - (size_t)semi - 1), q))
			return true;
	}
	return false;
}

/* Quality of one alternative: -1 until a list element names it. */
struct pick {
	int	 q;
	size_t	 pos;		/* element index, for ties */
};

static void
pick_set(struct pick *p, unsigned q, size_t pos)
{
	if (p->q < 0) {
		p->q = (int)q;
		p->pos = pos;
	}
}

/* An unnamed alternative takes the q of "*", if any, else 0. */
static void
pick_default(struct pick *p, const struct pick *star)
{
	if (p->q >= 0)
		return;
	p->q = star->q < 0 ? 0 : star->q;
	p->pos = star->pos;
}

struct enc_picks {
	struct pick	 br, gz, id, star;
};

/* Collects the q of each coding we care about from every field line. */
static void
encodings_collect(const struct http_request *req, struct enc_picks *p)
{
	struct span v, item;
	size_t pos = 0, idx = 0;
	unsigned q;

	while (http_header_next(req, HDR_ACCEPT_ENCODING, &pos, &v)) {
		while (negotiate_next(&v, &item, &q)) {
			if (span_eq_cstr_nocase(item, "br"))
				pick_set(&p->br, q, idx);
			else if (span_eq_cstr_nocase(item, "gzip") ||
			    span_eq_cstr_nocase(item, "x-gzip"))
				pick_set(&p->gz, q, idx);
			else if (span_eq_cstr_nocase(item, "identity"))
				pick_set(&p->id, q, idx);
			else if (item.len == 1 && item.p[0] == '*')
				pick_set(&p->star, q, idx);
			idx++;
		}
	}
}

size_t
negotiate_encodings(const struct http_request *req,
    enum coding out[CODING_MAX])
{
	struct enc_picks p = {
		{ -1, 0 }, { -1, 0 }, { -1, 0 }, { -1, 0 },
	};
	size_t n = 0;
	int floor;

	if (req->hdr_count[HDR_ACCEPT_ENCODING] == 0)
		return 0;
	encodings_collect(req, &p);
	pick_default(&p.br, &p.star);
	pick_default(&p.gz, &p.star);
	/* A coding ranked below an explicit identity is not wanted. */
	floor = p.id.q < 1 ? 1 : p.id.q;
	if (p.gz.q > p.br.q && p.gz.q >= floor)
		out[n++] = CODING_GZIP;
	if (p.br.q >= floor)
		out[n++] = CODING_BR;
	if (p.gz.q <= p.br.q && p.gz.q >= floor)
		out[n++] = CODING_GZIP;
	return n;
}

/* "zh", "zh-CN", "ZH-hans" match prefix "zh". */
static bool
lang_matches(struct span range, const char *prefix)
{
	size_t n = strlen(prefix);

	if (range.len < n ||
	    !span_eq_cstr_nocase(span_make(range.p, n), prefix))
		return false;
	return range.len == n || range.p[n] == '-';
}

enum ui_lang
negotiate_language(const struct http_request *req)
{
	struct pick zh = { -1, 0 }, en = { -1, 0 }, star = { -1, 0 };
	struct span v, item;
	size_t pos = 0, idx = 0;
	unsigned q;

	while (http_header_next(req, HDR_ACCEPT_LANGUAGE, &pos, &v)) {
		while (negotiate_next(&v, &item, &q)) {
			if (lang_matches(item, "zh"))
				pick_set(&zh, q, idx);
			else if (lang_matches(item, "en"))
				pick_set(&en, q, idx);
			else if (item.len == 1 && item.p[0] == '*')
				pick_set(&star, q, idx);
			idx++;
		}
	}
	pick_default(&zh, &star);
	pick_default(&en, &star);
	if (zh.q > en.q || (zh.q == en.q && zh.q > 0 && zh.pos < en.pos))
		return LANG_ZH;
	return LANG_EN;
}

/* A media range's match on one type: its q and how specific it was. */
struct media_pick {
	unsigned q;
	int	 spec;		/* -1 none, 0 catch-all, 1 type/any, 2 exact */
};

static void
media_match(struct span range, const char *type, const char *sub,
    unsigned q, struct media_pick *m)
{
	ptrdiff_t slash = span_find(range, '/');
	struct span t, s;
	int spec;

	if (slash < 0)
		return;
	t = span_make(range.p, (size_t)slash);
	s = span_make(range.p + slash + 1, range.len - (size_t)slash - 1);
	if (t.len == 1 && t.p[0] == '*' && s.len == 1 && s.p[0] == '*')
		spec = 0;
	else if (!span_eq_cstr_nocase(t, type))
		return;
	else if (s.len == 1 && s.p[0] == '*')
		spec = 1;
	else if (span_eq_cstr_nocase(s, sub))
		spec = 2;
	else
		return;
	if (spec > m->spec) {
		m->spec = spec;
		m->q = q;
	}
}

bool
negotiate_wants_json(const struct http_request *req)
{
	struct media_pick json = { 0, -1 }, html = { 0, -1 };
	struct span v, item;
	size_t pos = 0;
	unsigned q;

	while (http_header_next(req, HDR_ACCEPT, &pos, &v)) {
		while (negotiate_next(&v, &item, &q)) {
			media_match(item, "application", "json", q, &json);
			media_match(item, "text", "html", q, &html);
		}
	}
	return json.q > html.q;
}
