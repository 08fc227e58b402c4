/*
 * fuzz_tus_hdr.c - libFuzzer entry point for the tus 1.0.0 header values.
 *
 * The first input byte picks the function (its value modulo 5); the rest
 * is its input, copied to an exact-size heap buffer so ASan catches a read
 * past it.
 *
 *   0  tus_parse_uint: agrees with a plain reference parser.
 *   1  tus_version_ok: true exactly for "1.0.0".
 *   2  tus_parse_metadata: a failure gives one of the documented reasons
 *      and no pairs; a success gives at most TUS_MAX_META unique, valid
 *      keys pointing into the input, and each value re-encodes to exactly
 *      the base64 text it came from (decoding is canonical).  A header
 *      built again from the pairs, with separators and OWS picked by the
 *      next input byte, parses to the same pairs, and tus_meta_get() finds
 *      each value.
 *   3  tus_base64_encode: the next byte picks cap around the need; the
 *      result fits exactly when the documented need allows, and the text
 *      parses back as a metadata value to the same bytes.
 *   4  tus_id_valid: agrees with a plain reference check.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tus_hdr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Single-threaded: large enough to keep off the stack. */
static struct tus_meta meta, again;

/* A heap copy of p[0..len) of exactly len bytes (one when len is 0). */
static char *
copy(const void *p, size_t len)
{
	char *c = malloc(len > 0 ? len : 1);

	assert(c != NULL);
	if (len > 0)
		memcpy(c, p, len);
	return c;
}

static void
fuzz_uint(const char *p, size_t len)
{
	uint64_t v = 0, got = 12345;
	bool ok = len >= 1 && len <= 19;
	int rc = tus_parse_uint(span_make(p, len), &got);

	/* 19 nines still fit a uint64_t, so the reference cannot overflow. */
	for (size_t i = 0; ok && i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			ok = false;
		else
			v = v * 10 + (uint64_t)(p[i] - '0');
	}
	ok = ok && v <= INT64_MAX;
	assert(rc == (ok ? 0 : -1));
	assert(got == (ok ? v : 12345));
}

static void
fuzz_version(const char *p, size_t len)
{
	bool want = len == 5 && memcmp(p, "1.0.0", 5) == 0;

	assert(tus_version_ok(span_make(p, len)) == want);
}

static void
fuzz_id(const char *p, size_t len)
{
	bool want = len == 32;

	for (size_t i = 0; want && i < len; i++)
		want = (p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f');
	assert(tus_id_valid(p, len) == want);
}

static bool
known_reason(const char *why)
{
	static const char *const reasons[] = {
		"metadata key repeated", "metadata value is not base64",
		"metadata value too long", "too many metadata pairs",
		"malformed metadata",
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (why != NULL && strcmp(why, reasons[i]) == 0)
			return true;
	return false;
}

/*
 * Checks pair i of meta, parsed from p[0..len): its key, and that its
 * value re-encodes to the very text it was decoded from.
 */
static void
check_pair(const char *p, size_t len, size_t i)
{
	const struct tus_meta_pair *pr = &meta.pair[i];
	char enc[TUS_BASE64_LEN(TUS_MAX_META_VALUE) + 1];
	char key[256];
	const char *text, *v;
	size_t vlen;
	int n;

	assert(pr->key.len > 0 && pr->key.p >= p);
	assert(pr->key.len <= len && pr->key.p - p <= (ptrdiff_t)(len -
	    pr->key.len));
	for (size_t k = 0; k < pr->key.len; k++)
		assert(pr->key.p[k] > 0x20 && pr->key.p[k] < 0x7f &&
		    pr->key.p[k] != ',');
	for (size_t j = 0; j < i; j++)
		assert(!span_eq(meta.pair[j].key, pr->key));
	assert(pr->value_len <= TUS_MAX_META_VALUE);
	assert(pr->has_value == (pr->value_len > 0));

	n = tus_base64_encode(pr->value, pr->value_len, enc, sizeof(enc));
	assert(n >= 0 && (size_t)n == TUS_BASE64_LEN(pr->value_len));
	text = pr->key.p + pr->key.len;
	if (pr->has_value) {
		assert((size_t)(text - p) + 1 + (size_t)n <= len);
		assert(text[0] == ' ' && memcmp(text + 1, enc, (size_t)n) == 0);
	}

	if (pr->key.len < sizeof(key)) {
		memcpy(key, pr->key.p, pr->key.len);
		key[pr->key.len] = '\0';
		v = tus_meta_get(&meta, key, &vlen);
		assert(v == pr->value && vlen == pr->value_len);
	}
}

/* Appends s[0..n) to the header being built in out at *o. */
static void
put(char *out, size_t *o, const char *s, size_t n)
{
	memcpy(out + *o, s, n);
	*o += n;
}

/*
 * Builds a header again from meta's pairs, separated and padded with OWS
 * as style says, and checks that it parses to the same pairs.
 */
static void
rebuild(uint8_t style)
{
	static const char *const seps[] = { ",", ", ", " ,\t", ",,", };
	const char *sep = seps[style & 3];
	size_t cap = 4, o = 0;
	char *hdr, *exact;
	const char *why = NULL;

	for (size_t i = 0; i < meta.n; i++)
		cap += meta.pair[i].key.len + 1 +
		    TUS_BASE64_LEN(meta.pair[i].value_len) + 1 + strlen(sep);
	hdr = malloc(cap);
	assert(hdr != NULL);
	if (style & 4)
		put(hdr, &o, " \t", 2);
	for (size_t i = 0; i < meta.n; i++) {
		const struct tus_meta_pair *pr = &meta.pair[i];

		if (i > 0)
			put(hdr, &o, sep, strlen(sep));
		put(hdr, &o, pr->key.p, pr->key.len);
		/* "key " is an empty value too: try it now and then. */
		if (pr->has_value || (style & 8))
			put(hdr, &o, " ", 1);
		if (pr->has_value) {
			int n = tus_base64_encode(pr->value, pr->value_len,
			    hdr + o, cap - o);

			assert(n > 0);
			o += (size_t)n;
		}
	}
	if (style & 16)
		put(hdr, &o, "\t ", 2);
	assert(o <= cap);
	/* Parse an exact-size copy, so a read past the end shows. */
	exact = copy(hdr, o);
	free(hdr);
	assert(tus_parse_metadata(span_make(exact, o), &again, &why) == 0);
	assert(again.n == meta.n);
	for (size_t i = 0; i < meta.n; i++) {
		const struct tus_meta_pair *a = &meta.pair[i], *b =
		    &again.pair[i];

		assert(span_eq(a->key, b->key));
		assert(a->has_value == b->has_value);
		assert(a->value_len == b->value_len);
		assert(memcmp(a->value, b->value, a->value_len) == 0);
	}
	free(exact);
}

static void
fuzz_metadata(const char *p, size_t len, uint8_t style)
{
	const char *why = NULL;
	int rc = tus_parse_metadata(span_make(p, len), &meta, &why);

	if (rc != 0) {
		assert(rc == -1 && known_reason(why) && meta.n == 0);
		return;
	}
	assert(meta.n <= TUS_MAX_META);
	for (size_t i = 0; i < meta.n; i++)
		check_pair(p, len, i);
	rebuild(style);
}

static void
fuzz_encode(const char *p, size_t len, uint8_t pick)
{
	size_t need = TUS_BASE64_LEN(len) + 1;
	size_t cap = need + (size_t)(pick % 5);
	char *out, *hdr;
	const char *why = NULL;
	int n;

	/* Caps of need - 2 to need + 2, none below 0. */
	cap = cap >= 2 ? cap - 2 : 0;
	out = malloc(cap > 0 ? cap : 1);
	assert(out != NULL);
	n = tus_base64_encode(p, len, out, cap);
	if (cap < need) {
		assert(n == -1 && (cap == 0 || out[0] == '\0'));
		free(out);
		return;
	}
	assert(n >= 0 && (size_t)n == need - 1 && strlen(out) == need - 1);
	if (len <= TUS_MAX_META_VALUE) {
		hdr = malloc(2 + (size_t)n + 1);
		assert(hdr != NULL);
		memcpy(hdr, "k ", 2);
		memcpy(hdr + 2, out, (size_t)n);
		assert(tus_parse_metadata(span_make(hdr, 2 + (size_t)n), &meta,
		    &why) == 0);
		assert(meta.n == 1 && meta.pair[0].value_len == len);
		assert(len == 0 || memcmp(meta.pair[0].value, p, len) == 0);
		free(hdr);
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pick, arg = 0;
	char *p;
	size_t len;

	if (size < 1)
		return 0;
	pick = data[0] % 5;
	data++;
	size--;
	/* The metadata and encoder runs take one more byte of options. */
	if ((pick == 2 || pick == 3) && size > 0) {
		arg = data[0];
		data++;
		size--;
	}
	p = copy(data, size);
	len = size;
	switch (pick) {
	case 0:
		fuzz_uint(p, len);
		break;
	case 1:
		fuzz_version(p, len);
		break;
	case 2:
		fuzz_metadata(p, len, arg);
		break;
	case 3:
		fuzz_encode(p, len, arg);
		break;
	default:
		fuzz_id(p, len);
		break;
	}
	free(p);
	return 0;
}
