/*
 * span.c - bounded byte-string helpers; see span.h.
 */
#include "span.h"

#include <string.h>

bool
span_eq(struct span a, struct span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool
span_eq_nocase(struct span a, struct span b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (ascii_lower((unsigned char)a.p[i]) !=
		    ascii_lower((unsigned char)b.p[i]))
			return false;
	return true;
}

bool
span_eq_cstr_nocase(struct span a, const char *s)
{
	return span_eq_nocase(a, span_make(s, strlen(s)));
}

bool
span_starts_nocase(struct span s, struct span prefix)
{
	if (s.len < prefix.len)
		return false;
	return span_eq_nocase(span_make(s.p, prefix.len), prefix);
}

struct span
span_trim(struct span s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

bool
span_to_u64(struct span s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';

		if (d > 9)
			return false;
		if (d > max || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool
span_next_list_elem(struct span *rest, struct span *elem)
{
	while (rest->len > 0) {
		ptrdiff_t comma = span_find(*rest, ',');
		size_t n = comma < 0 ? rest->len : (size_t)comma;
		struct span e = span_trim(span_make(rest->p, n));

		if (comma < 0) {
			rest->p += rest->len;
			rest->len = 0;
		} else {
			rest->p += n + 1;
			rest->len -= n + 1;
		}
		if (e.len > 0) {
			*elem = e;
			return true;
		}
	}
	return false;
}

/*
 * RFC 3629 §4: the lead byte fixes the length and the range of the second
 * byte, which is what excludes overlong forms, surrogates and code points
 * above U+10FFFF.
 */
static bool
utf8_lead(unsigned char c, size_t *n, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		*n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		*n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		*n = 4;
	else
		return false;	/* a continuation, overlong lead, > U+10FFFF */
	if (c == 0xe0)
		*lo = 0xa0;
	else if (c == 0xed)
		*hi = 0x9f;
	else if (c == 0xf0)
		*lo = 0x90;
	else if (c == 0xf4)
		*hi = 0x8f;
	return true;
}

size_t
utf8_seq_len(const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;
	unsigned char lo, hi;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (!utf8_lead(s[0], &n, &lo, &hi) || len < n || s[1] < lo ||
	    s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}
