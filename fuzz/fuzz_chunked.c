/*
 * fuzz_chunked.c - libFuzzer entry point for the chunked body decoder.
 *
 * The first four input bytes choose the run: two give max_body, two the
 * ways to split what follows, which is the body.  The body is decoded four
 * times: whole into a separate buffer, whole in place, in pieces into
 * separate buffers, and in differently sized pieces in place.  Each piece
 * is copied to an exact-size heap buffer, so ASan catches a read past it,
 * and each separate output buffer is exactly as large as its piece.
 *
 * Properties checked beyond "no crash, no sanitizer report": every call
 * consumes no more than it was given and outputs no more than it
 * consumed, consumes everything unless the body ended, keeps *done in step
 * with chunked_done() and reports only the documented statuses; the data
 * never passes max_body; an error or the end stays put on a further call;
 * decoding in place leaves the bytes after the body alone; and all four
 * runs agree: the same status, or the same data, consumed count and end.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunked.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one way of decoding the body gave. */
struct run {
	int		 status;	/* 0, or the status of the error */
	size_t		 consumed;
	bool		 done;
	char		*data;		/* room for the whole body */
	size_t		 data_len;
};

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

/*
 * One call of the decoder on piece[0..n), into out, checking its
 * contract and adding what it gave to r.  Returns true when the body
 * ended or failed.
 */
static bool
decode_piece(struct chunked *ck, char *piece, size_t n, char *out,
    uint64_t max_body, struct run *r)
{
	size_t out_len, again_len;
	bool done, again_done;
	ssize_t got = chunked_decode(ck, piece, n, out, &out_len, &done);

	if (got == CHUNKED_ERROR) {
		assert(ck->status == 400 || ck->status == 413 ||
		    ck->status == 431);
		assert(out_len == 0 && !done && !chunked_done(ck));
		r->status = ck->status;
		/* An error is final. */
		assert(chunked_decode(ck, piece, n, out, &again_len,
		    &again_done) == CHUNKED_ERROR);
		assert(ck->status == r->status && again_len == 0);
		return true;
	}
	assert(got >= 0 && (size_t)got <= n);
	assert(out_len <= (size_t)got);
	assert(done == chunked_done(ck));
	assert(done || (size_t)got == n);
	memcpy(r->data + r->data_len, out, out_len);
	r->data_len += out_len;
	r->consumed += (size_t)got;
	r->done = done;
	assert(chunked_total(ck) == r->data_len);
	assert(chunked_total(ck) <= max_body);
	if (done) {
		/* So is the end: nothing more is consumed. */
		assert(chunked_decode(ck, piece, n, out, &again_len,
		    &again_done) == 0);
		assert(again_done && again_len == 0);
	}
	return done;
}

/*
 * Decodes body[0..len) in a first piece of first bytes, then pieces of
 * step bytes, in place or not, checking each call's contract.
 */
static void
run(const char *body, size_t len, uint64_t max_body, size_t first,
    size_t step, bool in_place, struct run *r)
{
	struct chunked ck;
	size_t off = 0, n = first;

	chunked_init(&ck, max_body);
	r->status = 0;
	r->consumed = 0;
	r->done = false;
	r->data_len = 0;
	for (;;) {
		char *piece, *out;
		bool ended;

		if (n > len - off)
			n = len - off;
		piece = copy(body + off, n);
		out = in_place ? piece : malloc(n > 0 ? n : 1);
		assert(out != NULL);
		ended = decode_piece(&ck, piece, n, out, max_body, r);
		if (!in_place)
			free(out);
		free(piece);
		if (ended)
			break;
		off += n;
		if (off == len)
			break;
		n = step;
	}
}

/*
 * Decodes body[0..len) in place in one call; the bytes after the body
 * must be left as they were, since they are the next request.
 */
static void
run_whole_in_place(const char *body, size_t len, uint64_t max_body,
    struct run *r)
{
	struct chunked ck;
	char *buf = copy(body, len);
	size_t out_len;
	bool done;
	ssize_t got;

	chunked_init(&ck, max_body);
	got = chunked_decode(&ck, buf, len, buf, &out_len, &done);
	r->status = 0;
	r->consumed = 0;
	r->done = done;
	r->data_len = 0;
	if (got == CHUNKED_ERROR) {
		r->status = ck.status;
	} else {
		r->consumed = (size_t)got;
		r->data_len = out_len;
		memcpy(r->data, buf, out_len);
		assert(memcmp(buf + got, body + got, len - (size_t)got) == 0);
	}
	free(buf);
}

static void
same(const struct run *a, const struct run *b)
{
	assert(a->status == b->status);
	if (a->status != 0)
		return;
	assert(a->consumed == b->consumed && a->done == b->done);
	assert(a->data_len == b->data_len);
	assert(a->data_len == 0 || memcmp(a->data, b->data, a->data_len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r[4];
	const char *body;
	size_t len;
	uint64_t max_body;

	if (size < 4)
		return 0;
	body = (const char *)data + 4;
	len = size - 4;
	/* 0xff first: near the top of the range, where sums overflow. */
	if (data[0] == 0xff)
		max_body = UINT64_MAX - data[1];
	else
		max_body = (uint64_t)data[0] | (uint64_t)data[1] << 8;
	for (size_t i = 0; i < 4; i++) {
		r[i].data = malloc(len > 0 ? len : 1);
		assert(r[i].data != NULL);
	}

	run(body, len, max_body, len, len > 0 ? len : 1, false, &r[0]);
	assert(r[0].status != 0 || r[0].done || r[0].consumed == len);
	run_whole_in_place(body, len, max_body, &r[1]);
	run(body, len, max_body, data[2], (data[3] & 0x0f) + 1, false, &r[2]);
	run(body, len, max_body, data[3] >> 4, (data[2] & 0x07) + 1, true,
	    &r[3]);

	for (size_t i = 1; i < 4; i++)
		same(&r[0], &r[i]);
	for (size_t i = 0; i < 4; i++)
		free(r[i].data);
	return 0;
}
