/*
 * span.h - bounded byte strings for data that came from a socket or disk.
 *
 * A span is a pointer and a length into someone else's buffer.  Nothing here
 * relies on NUL termination, allocates, or keeps state; every function is
 * pure and thread-safe.  The owner of the underlying buffer decides how long
 * a span stays valid (for request spans: until the connection's input buffer
 * is shifted or released).
 */
#ifndef LANHTTPD_SPAN_H
#define LANHTTPD_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct span {
	const char	*p;
	size_t		 len;
};

#define SPAN_LIT(s)	((struct span){ (s), sizeof(s) - 1 })
#define SPAN_NULL	((struct span){ NULL, 0 })

static inline struct span
span_make(const char *p, size_t len)
{
	return (struct span){ p, len };
}

/* True when a and b hold the same bytes. */
bool	span_eq(struct span a, struct span b);

/* True when a and b are equal ignoring ASCII case (bytes >= 0x80 compare exactly). */
bool	span_eq_nocase(struct span a, struct span b);

/* Same as span_eq_nocase() against a C string literal or other trusted string. */
bool	span_eq_cstr_nocase(struct span a, const char *s);

/* True when s begins with prefix, ignoring ASCII case. */
bool	span_starts_nocase(struct span s, struct span prefix);

/* Removes leading and trailing SP and HTAB (RFC 9110 OWS). */
struct span	span_trim(struct span s);

/*
 * Parses exactly s.len decimal digits into *out.  Rejects an empty span,
 * signs, spaces, any non-digit and values above max.  Returns true on
 * success; *out is untouched on failure.
 */
bool	span_to_u64(struct span s, uint64_t max, uint64_t *out);

/*
 * Splits a comma-separated list (RFC 9110 §5.6.1).  *rest is the unread
 * part; each call stores the next element, trimmed of OWS, in *elem and
 * returns true, or returns false when the list is exhausted.  Empty
 * elements are skipped, as the RFC asks recipients to do.
 */
bool	span_next_list_elem(struct span *rest, struct span *elem);

/*
 * Length (1-4) of the well-formed UTF-8 sequence at p[0..len) (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or 0 when the
 * bytes there are not one.  len must be at least 1.
 */
size_t	utf8_seq_len(const char *p, size_t len);

/*
 * How the character at p[0..len) goes into a JSON string (RFC 8259 §7):
 * its escape written to esc (at most 6 bytes) and its length returned, or
 * 0 when the bytes are copied as they are.  *used is set to the number of
 * bytes of p consumed either way.  Quotes, backslashes and controls are
 * escaped (the short forms where JSON has one), '<', '>' and '&' too so
 * that the text is harmless if someone shows it as HTML, and every byte
 * that is not part of well-formed UTF-8 becomes U+FFFD.  len must be at
 * least 1.
 */
size_t	json_escape_at(const char *p, size_t len, char esc[6], size_t *used);

/* Returns the index of the first byte c in s, or -1. */
static inline ptrdiff_t
span_find(struct span s, char c)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == c)
			return (ptrdiff_t)i;
	return -1;
}

/*
 * splitmix64's finaliser: every input bit moves every output bit.  For
 * hash tables and validators, not for secrets.
 */
static inline uint64_t
span_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static inline unsigned char
ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* The value of the hex digit c, or -1. */
static inline int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

#endif /* LANHTTPD_SPAN_H */
