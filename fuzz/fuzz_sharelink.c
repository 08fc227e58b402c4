/*
 * fuzz_sharelink.c - libFuzzer entry point for the capability tokens.
 *
 * The first input byte picks the mode (its low bit); the rest is the
 * mode's input.  A fixed key is used, so seeds can hold real tokens for
 * the fuzzer to mutate.
 *
 *   0  sharelink_verify on the bytes as they are, from an exact-size heap
 *      copy so ASan catches a read past len.  Failure leaves *sl zeroed;
 *      success gives fields within their limits, NUL-terminated, and
 *      making a token of them again gives back exactly the input (one
 *      token per payload).
 *   1  Fields from the input: kind (1 byte, any value), expires (8),
 *      serial (4), user_len (1), subject_len (1 byte, doubled plus the
 *      low bit of kind, so 0 to 511), a cap offset (1), then user and
 *      subject bytes.  sharelink_token_len() decides whether the fields
 *      are valid, which must agree with a plain reference check; a valid
 *      struct makes a token of exactly that length into an exact-size
 *      buffer, which verifies back to the same fields, and one byte of
 *      it changed (position and value from the input) fails.  A cap one
 *      short fails with "".
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sharelink.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[SHARELINK_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

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

static bool
all_zero(const struct sharelink *sl)
{
	const unsigned char *p = (const unsigned char *)sl;

	for (size_t i = 0; i < sizeof(*sl); i++)
		if (p[i] != 0)
			return false;
	return true;
}

static void
assert_same(const struct sharelink *a, const struct sharelink *b)
{
	assert(a->kind == b->kind);
	assert(a->expires == b->expires);
	assert(a->serial == b->serial);
	assert(a->user_len == b->user_len);
	assert(memcmp(a->user, b->user, a->user_len) == 0);
	assert(a->subject_len == b->subject_len);
	assert(memcmp(a->subject, b->subject, a->subject_len) == 0);
}

static void
fuzz_verify(const char *p, size_t len)
{
	struct sharelink sl;
	char again[SHARELINK_TOKEN_LONGEST];

	memset(&sl, 0xa5, sizeof(sl));
	if (sharelink_verify(key, p, len, &sl) != 0) {
		assert(all_zero(&sl));
		return;
	}
	assert(sl.kind >= SL_READ && sl.kind <= SL_FILE);
	assert(sl.user_len <= SHARELINK_USER_MAX);
	assert(sl.subject_len <= SHARELINK_SUBJECT_MAX);
	assert(sl.user[sl.user_len] == '\0' && strlen(sl.user) == sl.user_len);
	assert(sl.subject[sl.subject_len] == '\0' &&
	    strlen(sl.subject) == sl.subject_len);
	assert(sharelink_make(key, &sl, again, sizeof(again)) == 0);
	assert(strlen(again) == len && memcmp(again, p, len) == 0);
}

/* The reference for sharelink_token_len() != 0. */
static bool
fields_valid(const struct sharelink *sl)
{
	return sl->kind >= 1 && sl->kind <= 4 &&
	    sl->user_len <= SHARELINK_USER_MAX &&
	    sl->subject_len <= SHARELINK_SUBJECT_MAX &&
	    memchr(sl->user, '\0', sl->user_len) == NULL &&
	    memchr(sl->subject, '\0', sl->subject_len) == NULL;
}

static size_t
min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/* Makes a token into an exact-size buffer and checks it. */
static void
check_token(const struct sharelink *sl, size_t need, uint8_t pos,
    uint8_t val)
{
	struct sharelink got;
	char *out = malloc(need + 1), *shorter = malloc(need);

	assert(out != NULL && shorter != NULL);
	assert(sharelink_make(key, sl, out, need + 1) == 0);
	assert(strlen(out) == need);
	assert(sharelink_verify(key, out, need, &got) == 0);
	assert_same(sl, &got);

	/* One changed byte: the value is made to differ. */
	out[pos % need] = (char)((uint8_t)out[pos % need] ^ (val | 1));
	assert(sharelink_verify(key, out, need, &got) == -1);
	assert(all_zero(&got));

	assert(sharelink_make(key, sl, shorter, need) == -1);
	assert(shorter[0] == '\0');
	free(out);
	free(shorter);
}

static void
fuzz_make(const uint8_t *p, size_t len)
{
	struct sharelink sl;
	size_t need, ulen, slen, n;
	uint8_t pos, val;

	if (len < 16)
		return;
	memset(&sl, 0, sizeof(sl));
	sl.kind = (enum sharelink_kind)p[0];
	sl.expires = 0;
	for (int i = 0; i < 8; i++)
		sl.expires = sl.expires << 8 | p[1 + i];
	sl.serial = (uint32_t)p[9] << 24 | (uint32_t)p[10] << 16 |
	    (uint32_t)p[11] << 8 | p[12];
	ulen = p[13];
	slen = (size_t)p[14] * 2 + (p[0] & 1);
	pos = p[15];
	val = len > 16 ? p[16] : 0x5a;
	p += 16;
	len -= 16;
	/* The struct's arrays bound what can be copied in. */
	sl.user_len = ulen;
	n = min3(ulen, len, sizeof(sl.user) - 1);
	memcpy(sl.user, p, n);
	p += n;
	len -= n;
	sl.subject_len = slen;
	memcpy(sl.subject, p, min3(slen, len, sizeof(sl.subject) - 1));

	need = sharelink_token_len(&sl);
	assert((need != 0) == fields_valid(&sl));
	if (need == 0)
		return;
	assert(need < SHARELINK_TOKEN_LONGEST);
	check_token(&sl, need, pos, val);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p;

	if (size < 1)
		return 0;
	p = copy(data + 1, size - 1);
	if ((data[0] & 1) == 0)
		fuzz_verify(p, size - 1);
	else
		fuzz_make((const uint8_t *)p, size - 1);
	free(p);
	return 0;
}
