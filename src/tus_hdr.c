/*
 * tus_hdr.c - tus 1.0.0 header values; see tus_hdr.h.
 */
#include "tus_hdr.h"

#include <string.h>

#include "base64.h"

/* Upload-Length and Upload-Offset: 19 digits hold any value up to INT64_MAX. */
#define TUS_UINT_MAX_DIGITS	19

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

/*
 * True when canonical padded base64 text of this length cannot fit in cap
 * bytes, whatever its characters.  Checked before decoding so that an
 * over-long value is reported as too long even if it is not base64.
 */
static bool
meta_value_too_long(struct span text, size_t cap)
{
	size_t pad = 0;

	if (text.len % 4 != 0)
		return false;
	if (text.len > 0 && text.p[text.len - 1] == '=') {
		pad = 1;
		if (text.p[text.len - 2] == '=')
			pad = 2;
	}
	return text.len / 4 * 3 - pad > cap;
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
	ssize_t got;

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
	if (meta_value_too_long(text, sizeof(pr->value)))
		return "metadata value too long";
	got = base64_decode(text.p, text.len, pr->value, sizeof(pr->value));
	if (got < 0)
		return "metadata value is not base64";
	pr->value_len = (size_t)got;
	return NULL;
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
	return base64_encode(in, len, out, cap);
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
