/*
 * fuzz_multipart.c - libFuzzer entry point for the multipart/form-data
 * parser.
 *
 * The first three input bytes choose the run: the low two bits of the
 * first pick a boundary (one that repeats itself and a one-byte one
 * among them) and the rest max_parts; the other two the ways to split
 * what follows, which is the body, and whether part_begin refuses the
 * second part.  The body is parsed four times: whole, in pieces of two
 * sizes chosen by those bytes, and byte by byte.  Each piece is copied to
 * a heap buffer of exactly its size, so ASan catches a read past it.  The
 * body is also given to multipart_boundary() as a Content-Type value.
 *
 * Properties checked beyond "no crash, no sanitizer report": every call
 * consumes no more than it was given, all of it unless the close
 * delimiter line ended, and nothing more on the next call; an error
 * stays, with the same status, and no handler runs after it; at most
 * boundary length + 3 bytes are held back; handlers are called in order
 * (data and end only inside a part), no part's data holds a delimiter,
 * no more parts begin than max_parts allows, struct mp_part keeps its
 * bounds; whole, each part's data comes in at most one call; and all
 * four runs agree: the same status and reason, or the same handler calls
 * (data joined), bytes consumed and end.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const boundaries[] = {
	"XyZ", "-", "aaab", "----WebKitFormBoundary7MA4YWxkTrZu0gW",
};

/* What one way of parsing the body gave, and the handlers' state. */
struct run {
	int		 status;	/* 0, or the status of the error */
	const char	*why;
	size_t		 consumed;
	bool		 done;
	char		*log;		/* the handler calls, data joined */
	size_t		 log_len, log_cap;
	const char	*delim;		/* CRLF "--" boundary */
	size_t		 delim_len;
	size_t		 part_start;	/* the current part's data in log */
	size_t		 begins, ends, data_calls;
	unsigned	 max_parts;
	bool		 refuse_second;
	bool		 failed;	/* a handler returned a status */
};

static void
log_add(struct run *r, const void *p, size_t n)
{
	if (r->log_len + n > r->log_cap) {
		r->log_cap = (r->log_len + n) * 2;
		r->log = realloc(r->log, r->log_cap);
		assert(r->log != NULL);
	}
	memcpy(r->log + r->log_len, p, n);
	r->log_len += n;
}

static int
on_begin(void *arg, const struct mp_part *part)
{
	struct run *r = arg;

	assert(!r->failed);
	assert(r->begins == r->ends);
	assert(part->name_len <= MP_MAX_NAME);
	assert(part->filename_len <= MP_MAX_NAME);
	assert(part->name[part->name_len] == '\0');
	assert(part->filename[part->filename_len] == '\0');
	assert(part->has_filename || part->filename_len == 0);
	assert(!part->filename_too_long || part->filename_len == MP_MAX_NAME);
	r->begins++;
	assert(r->begins <= r->max_parts);
	log_add(r, "\x01", 1);
	log_add(r, part->name, part->name_len + 1);
	log_add(r, part->has_filename ? "f" : "-", 1);
	log_add(r, part->filename, part->filename_len + 1);
	log_add(r, part->filename_too_long ? "L" : "-", 1);
	r->part_start = r->log_len;
	if (r->refuse_second && r->begins == 2) {
		r->failed = true;
		return 409;
	}
	return 0;
}

static int
on_data(void *arg, const char *p, size_t n)
{
	struct run *r = arg;

	assert(!r->failed);
	assert(n > 0);
	assert(r->begins == r->ends + 1);
	r->data_calls++;
	log_add(r, p, n);
	return 0;
}

static int
on_end(void *arg)
{
	struct run *r = arg;
	const char *d = r->log + r->part_start;

	assert(!r->failed);
	assert(r->begins == r->ends + 1);
	/* A delimiter in the data would have ended the part there. */
	assert(memmem(d, r->log_len - r->part_start, r->delim,
	    r->delim_len) == NULL);
	r->ends++;
	log_add(r, "\x02", 1);
	return 0;
}

static const struct multipart_cb cbs = {
	.part_begin = on_begin,
	.part_data = on_data,
	.part_end = on_end,
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
 * One call of the parser on piece[0..n), checking its contract.
 * Returns true when the parse is over: an error, or the epilogue.
 */
static bool
feed_piece(struct multipart *m, const char *piece, size_t n, size_t blen,
    struct run *r)
{
	ssize_t got = multipart_feed(m, piece, n, &cbs, r);

	if (got == MP_ERROR) {
		assert(m->status == 400 || m->status == 413 ||
		    (m->status == 409 && r->failed));
		assert(m->why != NULL && !multipart_done(m));
		r->status = m->status;
		r->why = m->why;
		/* An error is final. */
		assert(multipart_feed(m, piece, n, &cbs, r) == MP_ERROR);
		assert(multipart_finish(m) == MP_ERROR);
		assert(m->status == r->status && m->why == r->why);
		return true;
	}
	assert(got >= 0 && (size_t)got <= n);
	assert((size_t)got == n || multipart_done(m));
	if (m->state == MP_S_DATA)
		assert(m->match <= blen + 3);
	r->consumed += (size_t)got;
	if ((size_t)got < n) {
		/* The epilogue starts here and stays unread. */
		assert(multipart_feed(m, piece + got, n - (size_t)got, &cbs,
		    r) == 0);
		return true;
	}
	return false;
}

/* Parses body[0..len) in a first piece of first bytes, then of step. */
static void
run(const char *body, size_t len, const char *boundary, size_t first,
    size_t step, struct run *r)
{
	static struct multipart m;
	size_t blen = strlen(boundary), off = 0, n = first, piece_len = 0;
	char *piece = NULL;
	bool over;

	r->status = 0;
	r->why = NULL;
	r->consumed = 0;
	r->log_len = 0;
	r->begins = r->ends = r->data_calls = 0;
	r->failed = false;
	multipart_init(&m, boundary, blen, r->max_parts);
	do {
		if (n > len - off)
			n = len - off;
		/*
		 * Exactly n bytes, so ASan sees a read past the piece; kept
		 * while the size stays, or byte by byte would fill ASan's
		 * quarantine with a malloc per byte.
		 */
		if (piece == NULL || n != piece_len) {
			free(piece);
			piece = copy(body + off, n);
			piece_len = n;
		} else if (n > 0) {
			memcpy(piece, body + off, n);
		}
		over = feed_piece(&m, piece, n, blen, r);
		off += n;
		n = step;
	} while (!over && off < len);
	free(piece);
	if (r->status == 0 && multipart_finish(&m) == MP_ERROR) {
		assert(m.status == 400);
		assert(strcmp(m.why, "body ends before the closing boundary")
		    == 0);
		r->status = m.status;
		r->why = m.why;
	}
	r->done = multipart_done(&m);
	assert(r->done == (r->status == 0));
	assert(r->status != 0 || r->begins == r->ends);
}

static void
same(const struct run *a, const struct run *b)
{
	assert(a->status == b->status);
	if (a->status != 0) {
		assert(strcmp(a->why, b->why) == 0);
	} else {
		assert(a->consumed == b->consumed && a->done == b->done);
	}
	/* Even up to an error, the handlers saw the same. */
	assert(a->log_len == b->log_len);
	assert(a->log_len == 0 || memcmp(a->log, b->log, a->log_len) == 0);
}

/* The body as a Content-Type value. */
static void
check_boundary(const char *body, size_t len)
{
	char *ct = copy(body, len), out[MP_MAX_BOUNDARY + 1];
	int got = multipart_boundary(ct, len, out);

	free(ct);
	assert(got >= -1 && got <= MP_MAX_BOUNDARY);
	if (got <= 0) {
		assert(out[0] == '\0');
		return;
	}
	assert(strlen(out) == (size_t)got && out[got - 1] != ' ');
	{
		static struct multipart m;

		multipart_init(&m, out, (size_t)got, 1);
		assert(multipart_feed(&m, "", 0, NULL, NULL) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r[4];
	const char *body, *boundary;
	char delim[4 + MP_MAX_BOUNDARY];
	size_t len;

	if (size < 3)
		return 0;
	body = (const char *)data + 3;
	len = size - 3;
	boundary = boundaries[data[0] & 3];
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, strlen(boundary));
	for (size_t i = 0; i < 4; i++) {
		r[i].delim = delim;
		r[i].delim_len = 4 + strlen(boundary);
		r[i].max_parts = data[0] >> 2;
		r[i].refuse_second = (data[2] & 0x80) != 0;
	}

	run(body, len, boundary, len, len > 0 ? len : 1, &r[0]);
	/* Whole, each part's data comes in one call at most. */
	assert(r[0].data_calls <= r[0].begins);
	run(body, len, boundary, data[1], (data[2] & 0x0f) + 1, &r[1]);
	run(body, len, boundary, (data[2] >> 4) & 7, (data[1] & 0x07) + 1,
	    &r[2]);
	run(body, len, boundary, 1, 1, &r[3]);
	for (size_t i = 1; i < 4; i++)
		same(&r[0], &r[i]);
	check_boundary(body, len);
	return 0;
}
