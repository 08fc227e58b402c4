/*
 * fuzz_semantics.c - libFuzzer entry point for what the server reads from
 * a parsed request besides the path: Range, the preconditions, If-Range,
 * Accept-Encoding, Accept-Language, Accept and the listing's query.
 *
 * The input is a request head.  The first four bytes of it also give the
 * size of a made-up file, so ranges meet sizes from 0 upwards.  Properties
 * beyond "no crash, no sanitizer report": every range of a RANGE_OK answer
 * is non-empty, inside the file, disjoint from the others, and all of them
 * add up to no more than the file (no amplification); preconditions
 * answer only 0, 304 or 412; encodings are distinct known codings.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "http_parse.h"
#include "listing.h"
#include "negotiate.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_ranges(const struct range_set *rs, uint64_t fsize)
{
	uint64_t total = 0;

	assert(rs->n >= 1 && rs->n <= RANGE_MAX_PARTS);
	for (size_t i = 0; i < rs->n; i++) {
		const struct byte_range *a = &rs->r[i];

		assert(a->len > 0 && a->off < fsize);
		assert(a->len <= fsize - a->off);
		total += a->len;
		for (size_t j = 0; j < i; j++) {
			const struct byte_range *b = &rs->r[j];

			/* Disjoint and not even adjacent: else coalesced. */
			assert(a->off + a->len < b->off ||
			    b->off + b->len < a->off);
		}
	}
	assert(total <= fsize);
}

static void
check_request(const struct http_request *req, uint64_t fsize)
{
	struct file_info fi;
	struct range_set rs;
	struct listing_view v;
	struct stat st;
	enum coding out[CODING_MAX];
	size_t n;
	int pre;

	memset(&st, 0, sizeof(st));
	st.st_ino = 42;
	st.st_size = (off_t)fsize;
	st.st_mtim.tv_sec = 784111777;
	file_info_from_stat(&st, true, "br", &fi);
	pre = file_preconditions(req, &fi);
	assert(pre == 0 || pre == 304 || pre == 412);
	(void)file_if_range(req->hdr[HDR_IF_RANGE], &fi);
	if (file_parse_range(req->hdr[HDR_RANGE], fsize, &rs) == RANGE_OK)
		check_ranges(&rs, fsize);
	n = negotiate_encodings(req, out);
	assert(n <= CODING_MAX);
	for (size_t i = 0; i < n; i++)
		assert(out[i] == CODING_BR || out[i] == CODING_GZIP);
	assert(n < 2 || out[0] != out[1]);
	(void)negotiate_language(req);
	(void)negotiate_wants_json(req);
	listing_view_from_query(req->query, &v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct http_limits lim = { .max_head = 8192, .max_target = 4096 };
	static struct http_request req;
	uint64_t fsize = 0;
	char *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	for (size_t i = 0; i < 4 && i < size; i++)
		fsize = fsize << 8 | data[i];
	if (http_parse_request(buf, size, &lim, &req) > 0)
		check_request(&req, fsize % 100000);
	/* The Range value alone, straight from the input, at a size too. */
	{
		struct range_set rs;

		if (file_parse_range(span_make(buf, size), fsize, &rs) == RANGE_OK)
			check_ranges(&rs, fsize);
	}
	free(buf);
	return 0;
}
