/*
 * fuzz_upname.c - libFuzzer entry point for NFC normalisation and the
 * upload file-name rules.
 *
 * The first input byte picks the number for upname_numbered(); the rest
 * is the name as a client would send it.  Every buffer handed over is an
 * exact-size heap copy, so ASan catches a read or write one byte past it.
 *
 * Properties checked beyond "no crash, no sanitizer report":
 *   - nfc_normalize() succeeds exactly on valid UTF-8 (but for a segment
 *     over NFC_MAX_SEGMENT, which needs more than NFC_MAX_SEGMENT / 4
 *     input characters), within 3 * len bytes; its output is valid UTF-8,
 *     NFC by nfc_is_nfc(), its own NFC, and fits a cap of its exact size
 *     but not one byte less;
 *   - nfc_is_nfc(in) holds exactly when normalising leaves in unchanged;
 *   - upname_clean() and upname_check() agree, and a clean name passes
 *     upname_check(), is NUL-terminated, NFC and at most NAME_MAX bytes;
 *   - every numbered form of a clean name passes upname_check(), is NFC
 *     and fits in NAME_MAX bytes; upname_numbered() stays in bounds on
 *     any bytes at all.
 */
#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nfc.h"
#include "upname.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A heap copy of p[0..len) of exactly len bytes (one when len is 0). */
static char *
copy(const char *p, size_t len)
{
	char *c = malloc(len > 0 ? len : 1);

	assert(c != NULL);
	if (len > 0)
		memcpy(c, p, len);
	return c;
}

/* Normalises in[0..len) and checks the nfc.h contract. */
static void
check_nfc(const char *in, size_t len)
{
	size_t cap = 3 * len;
	char *out = malloc(cap > 0 ? cap : 1), *exact, *again;
	bool valid = nfc_utf8_valid(in, len);
	ssize_t n = nfc_normalize(in, len, out, cap), m;

	assert(out != NULL);
	if (n < 0) {
		assert(!valid || len > NFC_MAX_SEGMENT / 4);
		assert(!nfc_is_nfc(in, len));
		free(out);
		return;
	}
	assert(valid && (size_t)n <= cap);
	assert(nfc_utf8_valid(out, (size_t)n));
	assert(nfc_is_nfc(out, (size_t)n));
	assert(nfc_is_nfc(in, len) ==
	    ((size_t)n == len && memcmp(in, out, len) == 0));

	exact = copy(out, (size_t)n);
	again = malloc(n > 0 ? (size_t)n : 1);
	assert(again != NULL);
	m = nfc_normalize(exact, (size_t)n, again, (size_t)n);
	assert(m == n && memcmp(again, out, (size_t)n) == 0);
	m = nfc_normalize(in, len, again, (size_t)n);
	assert(m == n && memcmp(again, out, (size_t)n) == 0);
	if (n > 0)
		assert(nfc_normalize(in, len, again, (size_t)n - 1) == -1);
	free(again);
	free(exact);
	free(out);
}

/* Checks one numbered form of the clean name[0..len). */
static void
check_numbered(const char *name, size_t len, unsigned n)
{
	char *copied = copy(name, len);
	char *out = malloc(NAME_MAX + 1);
	int r;

	assert(out != NULL);
	r = upname_numbered(copied, len, n, out);
	assert(r > 0 && r <= NAME_MAX && strlen(out) == (size_t)r);
	assert(upname_check(out, (size_t)r) == NULL);
	assert(nfc_is_nfc(out, (size_t)r));
	free(out);
	free(copied);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *clean, *any;
	const char *why, *check;
	size_t len;
	unsigned n;
	int r;

	if (size < 1)
		return 0;
	/* Small numbers mostly, the largest sometimes. */
	n = data[0] == 0xff ? UINT_MAX : data[0];
	len = size - 1;
	in = copy((const char *)data + 1, len);

	check_nfc(in, len);

	clean = malloc(NAME_MAX + 1);
	assert(clean != NULL);
	r = upname_clean(in, len, clean, &why);
	check = upname_check(in, len);
	if (r < 0) {
		assert(r == -1 && why != NULL && check != NULL);
		assert(strcmp(why, check) == 0);
	} else {
		assert(why == NULL && check == NULL);
		assert(r > 0 && r <= NAME_MAX && strlen(clean) == (size_t)r);
		assert(upname_check(clean, (size_t)r) == NULL);
		assert(nfc_is_nfc(clean, (size_t)r));
		check_numbered(clean, (size_t)r, n);
		check_numbered(clean, (size_t)r, 1);
		check_numbered(clean, (size_t)r, UINT_MAX);
	}
	free(clean);

	/* Bytes no valid name holds: only bounds and termination. */
	any = malloc(NAME_MAX + 1);
	assert(any != NULL);
	r = upname_numbered(in, len, n, any);
	assert(r >= 0 && r <= NAME_MAX && any[r] == '\0');
	free(any);
	free(in);
	return 0;
}
