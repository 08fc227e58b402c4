/*
 * upname.c - upload file-name rules, see upname.h.
 */
#include "upname.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "nfc.h"

#define TOO_LONG	"name longer than 255 bytes"

static_assert(NAME_MAX == 255, "the reasons say 255 bytes");

/*
 * Extensions of two parts that stay together in a numbered name, so that
 * "a (1).tar.gz" still opens as a compressed tar archive.
 */
static const struct {
	const char	*s;
	size_t		 len;
} double_ext[] = {
	{ ".tar.gz", 7 },
	{ ".tar.xz", 7 },
	{ ".tar.bz2", 8 },
	{ ".tar.zst", 8 },
};

/* Whether p[0..len) and the lowercase ASCII lower[0..len) match. */
static bool
ascii_caseeq(const char *p, const char *lower, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)lower[i])
			return false;
	}
	return true;
}

/* "." and "..", which name the folder and its parent, not a file. */
static const char *
dots_reason(const char *in, size_t len)
{
	if (len == 1 && in[0] == '.')
		return "name is '.'";
	if (len == 2 && in[0] == '.' && in[1] == '.')
		return "name is '..'";
	return NULL;
}

/*
 * The bytes no name may hold, whatever their position: the reasons come
 * in the order of upname.h, not in the order of the bytes.
 */
static const char *
byte_reason(const char *in, size_t len)
{
	bool slash = false, nul = false, ctl = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '/')
			slash = true;
		else if (c == '\0')
			nul = true;
		else if (c < 0x20 || c == 0x7F)
			ctl = true;
	}
	if (slash)
		return "name contains '/'";
	if (nul)
		return "name contains a NUL byte";
	if (ctl)
		return "name contains a control character";
	if (!nfc_utf8_valid(in, len))
		return "name is not UTF-8";
	return NULL;
}

int
upname_clean(const char *in, size_t len, char out[NAME_MAX + 1],
    const char **why)
{
	const char *reason;
	ssize_t n;

	if (len == 0)
		reason = "empty name";
	else if ((reason = dots_reason(in, len)) == NULL)
		reason = byte_reason(in, len);
	if (reason != NULL) {
		*why = reason;
		return -1;
	}
	/*
	 * The input is valid UTF-8, so -1 means the NFC form does not fit,
	 * or has a segment nfc.c refuses, which would not fit either.  NFC
	 * maps nothing to a dot, '/' or a control (src/nfc_table.py checks
	 * it), so what was checked above holds for out as well.
	 */
	n = nfc_normalize(in, len, out, NAME_MAX);
	if (n < 0) {
		*why = TOO_LONG;
		return -1;
	}
	out[n] = '\0';
	*why = NULL;
	return (int)n;
}

const char *
upname_check(const char *in, size_t len)
{
	char out[NAME_MAX + 1];
	const char *why;

	if (upname_clean(in, len, out, &why) < 0)
		return why;
	return NULL;
}

/* Where the extension of name[0..len) starts: len when it has none. */
static size_t
ext_start(const char *name, size_t len)
{
	const char *dot;

	for (size_t i = 0; i < sizeof(double_ext) / sizeof(double_ext[0]);
	    i++) {
		size_t n = double_ext[i].len;

		if (len > n && ascii_caseeq(name + len - n, double_ext[i].s, n))
			return len - n;
	}
	dot = memrchr(name, '.', len);
	/* A dotfile's dot starts its name; a final dot starts nothing. */
	if (dot == NULL || dot == name || dot == name + len - 1)
		return len;
	return (size_t)(dot - name);
}

/*
 * The longest prefix of p[0..len) of at most max bytes that ends at a
 * UTF-8 character boundary: it never stops before a continuation byte.
 */
static size_t
utf8_cut(const char *p, size_t len, size_t max)
{
	size_t k = len < max ? len : max;

	while (k > 0 && k < len && ((unsigned char)p[k] & 0xC0) == 0x80)
		k--;
	return k;
}

int
upname_numbered(const char *name, size_t len, unsigned n,
    char out[NAME_MAX + 1])
{
	char suffix[16];
	int slen = snprintf(suffix, sizeof(suffix), " (%u)", n);
	size_t room, ext, stem;

	/* At most " (4294967295)", 13 bytes. */
	assert(slen > 0 && (size_t)slen < sizeof(suffix));
	room = NAME_MAX - (size_t)slen;
	ext = ext_start(name, len);
	stem = len - ext <= room ? utf8_cut(name, ext, room - (len - ext)) : 0;
	if (stem == 0 && ext < len) {
		/* No room for the stem: the extension becomes part of it. */
		ext = len;
		stem = utf8_cut(name, len, room);
	}
	memcpy(out, name, stem);
	memcpy(out + stem, suffix, (size_t)slen);
	memcpy(out + stem + (size_t)slen, name + ext, len - ext);
	out[stem + (size_t)slen + len - ext] = '\0';
	return (int)(stem + (size_t)slen + len - ext);
}
