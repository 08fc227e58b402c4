/*
 * tus_hdr.c - tus 1.0.0 header values; see tus_hdr.h.
 */
#include "tus_hdr.h"

#include <limits.h>
#include <string.h>

/* Upload-Length and Upload-Offset: 19 digits hold any value up to INT64_MAX. */
#define TUS_UINT_MAX_DIGITS	19

/* What b64_decode() found wrong. */
#define B64_BAD		(-1)
#define B64_LONG	(-2)

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
tus_parse_uint(struct span v, uint64_t *out)
{
	if (v.len > TUS_UINT_MAX_DIGITS)
		return -1;
	/* span_to_u64 rejects empty input, signs, spaces and overflow. */
	if (!span_to_u64(v, INT64_MAX, out))
		return -1;
	return 0;
}

bool
tus_version_ok(struct span v)
{
	return span_eq(v, SPAN_LIT(TUS_VERSION));
}

/* The 6-bit value of a base64 character (RFC 4648 §4 alphabet), or -1. */
static int
b64_value(char ch)
{
	unsigned char c = (unsigned char)ch;

	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Writes the bytes of a final quantum that had pad '=' (1 or 2) to out,
 * from acc holding the 6-bit values of its 4 - pad characters.  Returns
 * the bytes written, or B64_BAD when the bits the padding leaves over
 * are not zero: RFC 4648 §3.5 lets a decoder refuse them, and refusing
 * keeps one text per value.
 */
static int
b64_tail(uint32_t acc, size_t pad, char *out)
{
	if (pad == 2) {
		if ((acc & 0x0f) != 0)
			return B64_BAD;
		out[0] = (char)(acc >> 4 & 0xff);
		return 1;
	}
	if ((acc & 0x03) != 0)
		return B64_BAD;
	out[0] = (char)(acc >> 10 & 0xff);
	out[1] = (char)(acc >> 2 & 0xff);
	return 2;
}

/*
 * Decodes canonical padded base64 in into out[0..cap).  Returns 0 with
 * *out_len set, B64_BAD or B64_LONG.  The size is checked before any byte
 * is written, so out needs no room beyond cap.
 */
static int
b64_decode(struct span in, char *out, size_t cap, size_t *out_len)
{
	size_t pad = 0, n = 0;
	uint32_t acc = 0;

	if (in.len % 4 != 0)
		return B64_BAD;
	if (in.len > 0 && in.p[in.len - 1] == '=') {
		pad = 1;
		if (in.p[in.len - 2] == '=')
			pad = 2;
	}
	if (in.len / 4 * 3 - pad > cap)
		return B64_LONG;
	/* A third '=' or one further in is not in the alphabet: B64_BAD. */
	for (size_t i = 0; i < in.len - pad; i++) {
		int v = b64_value(in.p[i]);

		if (v < 0)
			return B64_BAD;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			out[n++] = (char)(acc >> 16 & 0xff);
			out[n++] = (char)(acc >> 8 & 0xff);
			out[n++] = (char)(acc & 0xff);
			acc = 0;
		}
	}
	if (pad > 0) {
		int got = b64_tail(acc, pad, out + n);

		if (got < 0)
			return got;
		n += (size_t)got;
	}
	*out_len = n;
	return 0;
}

/* A key byte: ASCII printable without space or comma. */
static bool
meta_key_char(char ch)
{
	unsigned char c = (unsigned char)ch;

	return c > 0x20 && c < 0x7f && c != ',';
}

/*
 * Parses one trimmed, non-empty list element of Upload-Metadata into
 * m->pair[m->n].  Returns NULL, or the reason it is bad.
 */
static const char *
meta_parse_pair(struct span elem, struct tus_meta *m)
{
	struct tus_meta_pair *pr = &m->pair[m->n];
	ptrdiff_t sp = span_find(elem, ' ');
	struct span key = elem, text = SPAN_NULL;

	if (sp >= 0) {
		key.len = (size_t)sp;
		text = span_make(elem.p + sp + 1, elem.len - (size_t)sp - 1);
	}
	if (key.len == 0)
		return "malformed metadata";
	for (size_t i = 0; i < key.len; i++)
		if (!meta_key_char(key.p[i]))
			return "malformed metadata";
	for (size_t i = 0; i < m->n; i++)
		if (span_eq(m->pair[i].key, key))
			return "metadata key repeated";
	pr->key = key;
	pr->value_len = 0;
	pr->has_value = text.len > 0;
	switch (b64_decode(text, pr->value, sizeof(pr->value),
	    &pr->value_len)) {
	case 0:
		return NULL;
	case B64_LONG:
		return "metadata value too long";
	default:
		return "metadata value is not base64";
	}
}

int
tus_parse_metadata(struct span v, struct tus_meta *m, const char **why)
{
	struct span rest = v, elem;
	const char *err = NULL;

	m->n = 0;
	while (err == NULL && span_next_list_elem(&rest, &elem)) {
		if (m->n == TUS_MAX_META)
			err = "too many metadata pairs";
		else if ((err = meta_parse_pair(elem, m)) == NULL)
			m->n++;
	}
	if (err == NULL)
		return 0;
	/* A half-filled m must not pass for the header. */
	m->n = 0;
	if (why != NULL)
		*why = err;
	return -1;
}

const char *
tus_meta_get(const struct tus_meta *m, const char *key, size_t *len)
{
	struct span k = span_make(key, strlen(key));

	for (size_t i = 0; i < m->n; i++) {
		if (span_eq(m->pair[i].key, k)) {
			if (len != NULL)
				*len = m->pair[i].value_len;
			return m->pair[i].value;
		}
	}
	if (len != NULL)
		*len = 0;
	return NULL;
}

int
tus_base64_encode(const char *in, size_t len, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t need, o = 0, i = 0;

	/* TUS_BASE64_LEN(len) would overflow near SIZE_MAX: divide first. */
	if (len / 3 >= (size_t)INT_MAX / 4) {
		if (cap > 0)
			out[0] = '\0';
		return -1;
	}
	need = TUS_BASE64_LEN(len);
	if (need >= cap) {
		if (cap > 0)
			out[0] = '\0';
		return -1;
	}
	for (; len - i >= 3; i += 3) {
		uint32_t q = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
		    p[i + 2];

		out[o++] = b64_alphabet[q >> 18 & 0x3f];
		out[o++] = b64_alphabet[q >> 12 & 0x3f];
		out[o++] = b64_alphabet[q >> 6 & 0x3f];
		out[o++] = b64_alphabet[q & 0x3f];
	}
	if (len - i > 0) {
		uint32_t q = (uint32_t)p[i] << 16;

		if (len - i == 2)
			q |= (uint32_t)p[i + 1] << 8;
		out[o++] = b64_alphabet[q >> 18 & 0x3f];
		out[o++] = b64_alphabet[q >> 12 & 0x3f];
		out[o++] = len - i == 2 ? b64_alphabet[q >> 6 & 0x3f] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return (int)o;
}

bool
tus_id_valid(const char *id, size_t len)
{
	if (len != TUS_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];

		/* Lowercase only: one spelling per ID, one state file. */
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}
