/*
 * fuzz_dav_dest.c - libFuzzer entry point for the Destination header.
 *
 * The input is split at its first NUL into a Host value and a
 * Destination value (each copied to an exact-size heap buffer so ASan
 * catches a read past it).  A success gives a NUL-terminated path within
 * the buffer that has no "." or ".." segment and no leading '/'; a
 * failure is one of the documented statuses.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dav_dest.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
copy(const void *p, size_t len)
{
	char *c = malloc(len > 0 ? len : 1);

	assert(c != NULL);
	if (len > 0)
		memcpy(c, p, len);
	return c;
}

/* No segment of rel is "." or "..", and it does not start with '/'. */
static void
check_path(const char *rel, size_t len)
{
	assert(strlen(rel) == len);
	assert(len == 0 || rel[0] != '/');
	for (size_t i = 0; i <= len;) {
		size_t j = i;

		while (j < len && rel[j] != '/')
			j++;
		assert(!(j - i == 1 && rel[i] == '.'));
		assert(!(j - i == 2 && rel[i] == '.' && rel[i + 1] == '.'));
		i = j + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t hlen = nul != NULL ? (size_t)(nul - data) : 0;
	size_t off = nul != NULL ? hlen + 1 : 0;
	char *host = copy(data, hlen), *dest = copy(data + off, size - off);
	char out[256];
	struct path_result pr;
	int code;

	for (int allow = 0; allow < 2; allow++) {
		code = dav_dest_parse(span_make(dest, size - off), nul != NULL ?
		    span_make(host, hlen) : SPAN_NULL, allow, out, sizeof(out),
		    &pr);
		assert(code == 0 || code == 400 || code == 404 ||
		    code == 414 || code == 502);
		if (code == 0) {
			assert(pr.len < sizeof(out));
			check_path(out, pr.len);
		}
	}
	free(host);
	free(dest);
	return 0;
}
