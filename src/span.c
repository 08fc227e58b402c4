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
