/*
 * file.c - validators, Range arithmetic and conditional requests; see
 * file.h.
 */
#include "file.h"

#include <stdio.h>
#include <string.h>

void
file_info_from_stat(const struct stat *st, bool with_inode,
    const char *variant, struct file_info *fi)
{
	uint64_t ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u +
	    (uint64_t)st->st_mtim.tv_nsec;
	const char *dash = variant != NULL && variant[0] != '\0' ? "-" : "";
	int n;

	if (variant == NULL)
		variant = "";
	fi->size = (uint64_t)st->st_size;
	fi->mtime = st->st_mtim.tv_sec;
	fi->ctime = st->st_ctim.tv_sec;
	fi->undated = false;
	fi->date_strong = st->st_mtim.tv_nsec == 0 &&
	    st->st_ctim.tv_sec > st->st_mtim.tv_sec;
	if (with_inode)
		n = snprintf(fi->etag, sizeof(fi->etag),
		    "\"%llx-%llx-%llx%s%.8s\"",
		    (unsigned long long)st->st_ino,
		    (unsigned long long)st->st_size, (unsigned long long)ns,
		    dash, variant);
	else
		n = snprintf(fi->etag, sizeof(fi->etag), "\"%llx-%llx%s%.8s\"",
		    (unsigned long long)st->st_size, (unsigned long long)ns,
		    dash, variant);
	fi->etag_len = n > 0 && (size_t)n < sizeof(fi->etag) ? (size_t)n : 0;
	http_date(fi->mtime, fi->last_modified);
}

bool
file_info_clamp(struct file_info *fi, time_t now)
{
	if (fi->mtime <= now)
		return false;
	fi->mtime = fi->ctime < now ? fi->ctime : now;
	fi->date_strong = false;
	http_date(fi->mtime, fi->last_modified);
	return true;
}

void
file_validator_lines(struct hbuf *hb, const struct file_info *fi,
    long max_age, bool vary)
{
	hb_str(hb, "Last-Modified: ");
	hb_add(hb, fi->last_modified, HTTP_DATE_LEN);
	hb_str(hb, "\r\nETag: ");
	hb_add(hb, fi->etag, fi->etag_len);
	hb_str(hb, "\r\n");
	if (max_age >= 0) {
		hb_str(hb, "Cache-Control: max-age=");
		hb_u64(hb, (uint64_t)max_age);
		hb_str(hb, "\r\n");
	}
	/* Any file may gain a sibling, so every file response may vary. */
	if (vary)
		hb_str(hb, "Vary: Accept-Encoding\r\n");
}

/*
 * Reads the digits at s.p[*i..] into *out, saturating at UINT64_MAX (a
 * position beyond any file is as good as the largest one).  False when
 * there is no digit.
 */
static bool
range_pos(struct span s, size_t *i, uint64_t *out)
{
	size_t start = *i;
	uint64_t v = 0;

	for (; *i < s.len && s.p[*i] >= '0' && s.p[*i] <= '9'; (*i)++) {
		unsigned d = (unsigned)(s.p[*i] - '0');

		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	*out = v;
	return *i > start;
}

enum spec_rc {
	SPEC_BAD,		/* not a range-spec: ignore the whole field */
	SPEC_UNSAT,		/* valid, outside the representation */
	SPEC_EMPTY,		/* a suffix of an empty representation */
	SPEC_OK,
};

/* A suffix-range "-n": the last n bytes. */
static enum spec_rc
range_suffix(struct span e, uint64_t size, struct byte_range *r)
{
	size_t i = 1;
	uint64_t n;

	if (!range_pos(e, &i, &n) || i != e.len)
		return SPEC_BAD;
	if (n == 0)
		return SPEC_UNSAT;
	if (size == 0)
		return SPEC_EMPTY;
	if (n > size)
		n = size;
	r->off = size - n;
	r->len = n;
	return SPEC_OK;
}

/* One range-spec (RFC 9110 §14.1.1): "a-b", "a-" or "-n". */
static enum spec_rc
range_spec(struct span e, uint64_t size, struct byte_range *r)
{
	size_t i = 0;
	uint64_t first, last = UINT64_MAX;

	if (e.p[0] == '-')
		return range_suffix(e, size, r);
	if (!range_pos(e, &i, &first) || i == e.len || e.p[i] != '-')
		return SPEC_BAD;
	i++;
	if (i < e.len && (!range_pos(e, &i, &last) || i != e.len))
		return SPEC_BAD;
	if (last < first)
		return SPEC_BAD;
	if (first >= size)
		return SPEC_UNSAT;
	if (last >= size)
		last = size - 1;
	r->off = first;
	r->len = last - first + 1;
	return SPEC_OK;
}

/*
 * Sorts in[0..n) by offset into out and merges overlapping or adjacent
 * ranges.  Returns the number of ranges in out.
 */
static size_t
range_coalesce(const struct byte_range *in, size_t n, struct byte_range *out)
{
	size_t m = 0;

	memcpy(out, in, n * sizeof(*in));
	for (size_t i = 1; i < n; i++) {
		struct byte_range t = out[i];
		size_t j = i;

		for (; j > 0 && out[j - 1].off > t.off; j--)
			out[j] = out[j - 1];
		out[j] = t;
	}
	for (size_t i = 0; i < n; i++) {
		struct byte_range *last = m > 0 ? &out[m - 1] : NULL;

		if (last != NULL && out[i].off <= last->off + last->len) {
			uint64_t end = out[i].off + out[i].len;

			if (end > last->off + last->len)
				last->len = end - last->off;
		} else {
			out[m++] = out[i];
		}
	}
	return m;
}

/*
 * Splits "bytes=<range-set>" into satisfiable ranges.  Returns RANGE_OK
 * with raw[0..*n) and their sum in *total, or the verdict on the field.
 */
static enum range_result
range_collect(struct span v, uint64_t size, struct byte_range *raw,
    size_t *n, uint64_t *total)
{
	struct span rest, e;
	size_t nspecs = 0;
	bool empty_ok = false;

	*n = 0;
	*total = 0;
	/* §14.1: the unit is case-insensitive; no whitespace around '='. */
	if (v.len < 6 || !span_starts_nocase(v, SPAN_LIT("bytes=")))
		return RANGE_IGNORE;
	rest = span_make(v.p + 6, v.len - 6);
	while (span_next_list_elem(&rest, &e)) {
		if (++nspecs > RANGE_MAX_SPECS)
			return RANGE_IGNORE;
		switch (range_spec(e, size, &raw[*n])) {
		case SPEC_BAD:
			return RANGE_IGNORE;
		case SPEC_UNSAT:
			break;
		case SPEC_EMPTY:
			empty_ok = true;
			break;
		case SPEC_OK:
			*total += raw[*n].len;	/* <= 64 * size: no overflow */
			if (*total > size)
				return RANGE_IGNORE;	/* would amplify */
			(*n)++;
			break;
		}
	}
	if (nspecs == 0 || (*n == 0 && empty_ok))
		return RANGE_IGNORE;
	return *n == 0 ? RANGE_UNSATISFIABLE : RANGE_OK;
}

enum range_result
file_parse_range(struct span v, uint64_t size, struct range_set *rs)
{
	struct byte_range raw[RANGE_MAX_SPECS], merged[RANGE_MAX_SPECS];
	const struct byte_range *use = raw;
	enum range_result rr;
	uint64_t total;
	size_t n, m;

	rs->n = 0;
	rr = range_collect(span_trim(v), size, raw, &n, &total);
	if (rr != RANGE_OK)
		return rr;
	m = range_coalesce(raw, n, merged);
	if (m < n) {
		/* §14.2: coalesced ranges may be sent in ascending order. */
		use = merged;
		n = m;
	}
	if (n > RANGE_MAX_PARTS)
		return RANGE_IGNORE;
	memcpy(rs->r, use, n * sizeof(*use));
	rs->n = n;
	return RANGE_OK;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The opaque-tag at s.p[*i] (RFC 9110 §8.8.3): DQUOTE *etagc DQUOTE,
 * where etagc is any visible byte but DQUOTE, or obs-text.
 */
static bool
opaque_tag(struct span s, size_t *i)
{
	if (*i == s.len || s.p[*i] != '"')
		return false;
	for ((*i)++; *i < s.len && s.p[*i] != '"'; (*i)++) {
		unsigned char c = (unsigned char)s.p[*i];

		if (c < 0x21 || c == 0x7f)
			return false;
	}
	if (*i == s.len)
		return false;
	(*i)++;
	return true;
}

/*
 * The next entity-tag of a list: [W/] opaque-tag, separated by commas and
 * OWS.  Commas may sit inside a tag, so the list cannot be split on
 * commas first.  Returns 1 with *tag (quotes included) and *weak, 0 at
 * the end, -1 on malformed input.
 */
static int
etag_next(struct span *rest, struct span *tag, bool *weak)
{
	struct span s = *rest;
	size_t i = 0, start;

	while (i < s.len && (is_ows(s.p[i]) || s.p[i] == ','))
		i++;
	if (i == s.len) {
		*rest = span_make(s.p + i, 0);
		return 0;
	}
	*weak = s.len - i >= 2 && s.p[i] == 'W' && s.p[i + 1] == '/';
	if (*weak)
		i += 2;
	start = i;
	if (!opaque_tag(s, &i))
		return -1;
	*tag = span_make(s.p + start, i - start);
	while (i < s.len && is_ows(s.p[i]))
		i++;
	if (i < s.len && s.p[i] != ',')
		return -1;
	*rest = span_make(s.p + i, s.len - i);
	return 1;
}

/*
 * True when a member of the id lists matches fi's ETag, by the strong or
 * the weak comparison (§8.8.3.2); "*" matches any current representation.
 * Our own tags are always strong.
 */
static bool
etag_list_matches(const struct http_request *req, enum http_hdr id,
    const struct file_info *fi, bool strong)
{
	struct span v, tag, mine = span_make(fi->etag, fi->etag_len);
	size_t pos = 0;
	bool weak;

	while (http_header_next(req, id, &pos, &v)) {
		if (v.len == 1 && v.p[0] == '*')
			return true;
		while (etag_next(&v, &tag, &weak) == 1)
			if (!(strong && weak) && span_eq(tag, mine))
				return true;
	}
	return false;
}

/*
 * A date precondition counts only when the field occurs once and is a
 * valid HTTP-date (§13.1.3, §13.1.4); otherwise it is ignored.
 */
static bool
header_date(const struct http_request *req, enum http_hdr id, time_t *t)
{
	return req->hdr_count[id] == 1 && http_parse_date(req->hdr[id], t);
}

int
file_preconditions(const struct http_request *req, const struct file_info *fi)
{
	time_t t;

	if (req->hdr_count[HDR_IF_MATCH] > 0) {
		if (!etag_list_matches(req, HDR_IF_MATCH, fi, true))
			return 412;
	} else if (!fi->undated &&
	    header_date(req, HDR_IF_UNMODIFIED_SINCE, &t) && fi->mtime > t) {
		return 412;
	}
	if (req->hdr_count[HDR_IF_NONE_MATCH] > 0) {
		if (etag_list_matches(req, HDR_IF_NONE_MATCH, fi, false))
			return 304;
	} else if (!fi->undated &&
	    header_date(req, HDR_IF_MODIFIED_SINCE, &t) && fi->mtime <= t) {
		return 304;
	}
	return 0;
}

bool
file_if_range(struct span v, const struct file_info *fi)
{
	struct span rest, tag;
	bool weak;
	time_t t;

	v = span_trim(v);
	/* An entity-tag starts with DQUOTE or "W/"; "Wed, ..." is a date. */
	if (v.len > 0 && (v.p[0] == '"' ||
	    (v.len >= 2 && v.p[0] == 'W' && v.p[1] == '/'))) {
		rest = v;
		if (etag_next(&rest, &tag, &weak) != 1 || weak || rest.len != 0)
			return false;
		return span_eq(tag, span_make(fi->etag, fi->etag_len));
	}
	/* A date that several versions share must not resume (§13.1.5). */
	return fi->date_strong && http_parse_date(v, &t) && t == fi->mtime;
}
