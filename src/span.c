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
 * The well-formed UTF-8 sequences (RFC 3629 §4, Unicode's table 3-7): the
 * lead byte gives the length and the range of the second byte, which is
 * what rules out overlong forms, surrogates and anything above U+10FFFF.
 */
static const struct utf8_form {
	unsigned char	 lead_lo, lead_hi, len, lo, hi;
} utf8_forms[] = {
	{ 0x00, 0x7f, 1, 0x00, 0x00 },
	{ 0xc2, 0xdf, 2, 0x80, 0xbf },
	{ 0xe0, 0xe0, 3, 0xa0, 0xbf },
	{ 0xe1, 0xec, 3, 0x80, 0xbf },
	{ 0xed, 0xed, 3, 0x80, 0x9f },
	{ 0xee, 0xef, 3, 0x80, 0xbf },
	{ 0xf0, 0xf0, 4, 0x90, 0xbf },
	{ 0xf1, 0xf3, 4, 0x80, 0xbf },
	{ 0xf4, 0xf4, 4, 0x80, 0x8f },
};

size_t
utf8_seq_len(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	const size_t nforms = sizeof(utf8_forms) / sizeof(utf8_forms[0]);

	for (size_t i = 0; i < nforms; i++) {
		const struct utf8_form *f = &utf8_forms[i];

		if (p[0] < f->lead_lo || p[0] > f->lead_hi)
			continue;
		if (f->len == 1)
			return 1;
		if (len < f->len || p[1] < f->lo || p[1] > f->hi)
			return 0;
		for (size_t k = 2; k < f->len; k++)
			if (p[k] < 0x80 || p[k] > 0xbf)
				return 0;
		return f->len;
	}
	return 0;
}

/* The letter of a two-character JSON escape, or 0. */
static char
json_short_escape(unsigned char c)
{
	switch (c) {
	case '"':
	case '\\':
		return (char)c;
	case '\b':
		return 'b';
	case '\f':
		return 'f';
	case '\n':
		return 'n';
	case '\r':
		return 'r';
	case '\t':
		return 't';
	default:
		return 0;
	}
}

size_t
json_escape_at(const char *p, size_t len, char esc[6], size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = (unsigned char)p[0];
	size_t n = utf8_seq_len(p, len);

	*used = n != 0 ? n : 1;
	if (n == 0) {
		memcpy(esc, "\\ufffd", 6);
		return 6;
	}
	if (n > 1 || (c >= 0x20 && c != '"' && c != '\\' && c != '<' &&
	    c != '>' && c != '&'))
		return 0;
	esc[0] = '\\';
	if ((esc[1] = json_short_escape(c)) != 0)
		return 2;
	memcpy(esc + 1, "u00", 3);
	esc[4] = hex[c >> 4];
	esc[5] = hex[c & 15];
	return 6;
}
