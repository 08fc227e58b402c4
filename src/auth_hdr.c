/*
 * auth_hdr.c - request credentials: Basic, cookies, user names; see
 * auth_hdr.h.
 *
 * The decoded "user:pass" text lives in a stack buffer just large enough
 * for the longest credentials we take, so anything longer fails in the
 * base64 decoder before a byte is written; the buffer is wiped before
 * auth_parse_basic() returns, whatever happened.
 */
#include "auth_hdr.h"

#include <stdint.h>
#include <string.h>

#include "base64.h"

/* The decoded token68: user-id, ':', password. */
#define AUTH_BASIC_TEXT_MAX	(AUTH_USER_MAX + 1 + AUTH_PASS_MAX)

/* RFC 9110 §5.6.2 tchar: what an auth-scheme is made of. */
static bool
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	/* 15: the terminating NUL is not a tchar. */
	return memchr("!#$%&'*+-.^_`|~", c, 15) != NULL;
}

/* RFC 9110 §5.6.3 OWS: SP or HTAB. */
static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Unicode White_Space (PropList.txt) as ranges of code points: HTAB to
 * CR, SP, NEL, NBSP, the Ogham space mark, the spaces U+2000-U+200A, the
 * line and paragraph separators, the narrow NBSP, the medium mathematical
 * space and the ideographic space.
 */
static const uint32_t white_space[][2] = {
	{ 0x0009, 0x000d }, { 0x0020, 0x0020 }, { 0x0085, 0x0085 },
	{ 0x00a0, 0x00a0 }, { 0x1680, 0x1680 }, { 0x2000, 0x200a },
	{ 0x2028, 0x2029 }, { 0x202f, 0x202f }, { 0x205f, 0x205f },
	{ 0x3000, 0x3000 },
};

/* The code point of the well-formed UTF-8 sequence s[0..n), n 1 to 4. */
static uint32_t
utf8_code_point(const unsigned char *s, size_t n)
{
	static const unsigned char lead_bits[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	uint32_t cp = s[0] & lead_bits[n];

	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp;
}

/* True for a control character: C0 (U+0000-U+001F), DEL or C1. */
static bool
is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* True for a Unicode White_Space code point. */
static bool
is_white_space(uint32_t cp)
{
	for (size_t i = 0; i < sizeof(white_space) / sizeof(white_space[0]);
	    i++)
		if (cp >= white_space[i][0] && cp <= white_space[i][1])
			return true;
	return false;
}

/*
 * True when p[0..len) is well-formed UTF-8 without control characters or
 * ':' and, when no_space is set, without whitespace either.
 */
static bool
name_chars_ok(const char *p, size_t len, bool no_space)
{
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len(p + i, len - i);
		uint32_t cp;

		if (n == 0)
			return false;
		cp = utf8_code_point((const unsigned char *)p + i, n);
		if (cp == ':' || is_control(cp))
			return false;
		if (no_space && is_white_space(cp))
			return false;
		i += n;
	}
	return true;
}

/*
 * Splits the trimmed header value v into its scheme and, for Basic, the
 * token68 after the run of SP and HTAB.  Returns 0 with *token set,
 * AUTH_NOT_BASIC, or AUTH_MALFORMED.
 */
static int
split_basic(struct span v, struct span *token)
{
	size_t i = 0;

	while (i < v.len && is_tchar((unsigned char)v.p[i]))
		i++;
	if (i == 0 || (i < v.len && !is_ows(v.p[i])))
		return AUTH_MALFORMED;
	if (!span_eq_cstr_nocase(span_make(v.p, i), "Basic"))
		return AUTH_NOT_BASIC;
	while (i < v.len && is_ows(v.p[i]))
		i++;
	/* "Basic" alone carries no credentials. */
	if (i == v.len)
		return AUTH_MALFORMED;
	*token = span_make(v.p + i, v.len - i);
	return 0;
}

/*
 * Splits the decoded text t[0..len) at its first ':' (RFC 7617 §2: a
 * user-id cannot hold one, a password can) into *out.  Returns 0 or
 * AUTH_MALFORMED.
 */
static int
split_user_pass(const char *t, size_t len, struct auth_basic *out)
{
	const char *colon = memchr(t, ':', len);
	size_t ulen, plen;

	if (colon == NULL)
		return AUTH_MALFORMED;
	ulen = (size_t)(colon - t);
	plen = len - ulen - 1;
	if (ulen > AUTH_USER_MAX || plen > AUTH_PASS_MAX)
		return AUTH_MALFORMED;
	if (!name_chars_ok(t, ulen, false))
		return AUTH_MALFORMED;
	for (size_t i = ulen + 1; i < len; i++)
		if (t[i] == '\0' || t[i] == '\r' || t[i] == '\n')
			return AUTH_MALFORMED;
	memcpy(out->user, t, ulen);
	out->user[ulen] = '\0';
	out->user_len = ulen;
	memcpy(out->pass, colon + 1, plen);
	out->pass[plen] = '\0';
	out->pass_len = plen;
	return 0;
}

int
auth_parse_basic(struct span v, struct auth_basic *out)
{
	char text[AUTH_BASIC_TEXT_MAX];
	struct span token;
	ssize_t n;
	int rc;

	auth_basic_wipe(out);
	if ((rc = split_basic(span_trim(v), &token)) != 0)
		return rc;
	n = base64_decode(token.p, token.len, text, sizeof(text));
	if (n < 0)
		rc = AUTH_MALFORMED;
	else
		rc = split_user_pass(text, (size_t)n, out);
	explicit_bzero(text, sizeof(text));
	if (rc != 0)
		auth_basic_wipe(out);
	return rc;
}

void
auth_basic_wipe(struct auth_basic *a)
{
	explicit_bzero(a, sizeof(*a));
}

bool
auth_user_valid(const char *name, size_t len)
{
	if (len == 0 || len > AUTH_USER_MAX || name[0] == '@')
		return false;
	return name_chars_ok(name, len, true);
}

/* The value of a cookie-pair, the part after '=': trimmed, unquoted. */
static struct span
cookie_value(struct span v)
{
	v = span_trim(v);
	if (v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"')
		v = span_make(v.p + 1, v.len - 2);
	return v;
}

struct span
auth_cookie(struct span header, const char *name)
{
	struct span want = span_make(name, strlen(name)), rest = header;

	if (want.len == 0)
		return SPAN_NULL;
	while (rest.len > 0) {
		ptrdiff_t semi = span_find(rest, ';'), eq;
		struct span pair = rest;

		if (semi >= 0) {
			pair.len = (size_t)semi;
			rest = span_make(rest.p + semi + 1,
			    rest.len - (size_t)semi - 1);
		} else
			rest.len = 0;
		pair = span_trim(pair);
		if ((eq = span_find(pair, '=')) < 0)
			continue;
		if (!span_eq(span_trim(span_make(pair.p, (size_t)eq)), want))
			continue;
		return cookie_value(span_make(pair.p + eq + 1,
		    pair.len - (size_t)eq - 1));
	}
	return SPAN_NULL;
}

bool
auth_equal(const void *a, const void *b, size_t n)
{
	/* volatile: no early exit or clever vectorising on the first mismatch. */
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}
