/*
 * check_multipart.c - unit tests for the multipart/form-data parser.
 *
 * Every piece of input goes through tu_guarded(), which places it right
 * before a PROT_NONE page, so a parser that reads one byte past a piece
 * crashes the test even without ASan.  The handlers write what they see
 * into a log ("[name]" or "[name|filename]" for a part's start, the data
 * as it is, "[/]" for its end), and every body is parsed whole, split
 * once at every byte, byte by byte and in small steps: the log, the bytes
 * consumed, the end and the error must be the same every time.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* A literal input and its length, embedded NUL bytes included. */
#define IN(s)		.in = (s), .len = sizeof(s) - 1
/* The same for the log a body should give. */
#define LOG(s)		.log = (s), .log_len = sizeof(s) - 1

/*
 * ck_assert() records its location on every pass, a write() each; on the
 * paths run once per byte or per call that is most of the run time, so
 * they check with this, which costs nothing until it fails.
 */
#define REQUIRE(cond, ...) do {						\
	if (!(cond))							\
		ck_abort_msg(__VA_ARGS__);				\
} while (0)

#define LOG_CAP		(1 << 20)
#define BODY_CAP	(1 << 20)

/*
 * Helpers
 */

/*
 * Renders p[0..len) for a failure message: printable ASCII as is, anything
 * else as a C escape, cut short with "..." when it does not fit.
 */
static const char *
show(const char *p, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		char tmp[8];
		int n;

		if (c == '\r')
			n = snprintf(tmp, sizeof(tmp), "\\r");
		else if (c == '\n')
			n = snprintf(tmp, sizeof(tmp), "\\n");
		else if (c == '\\' || c == '"')
			n = snprintf(tmp, sizeof(tmp), "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			n = snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		else
			n = snprintf(tmp, sizeof(tmp), "%c", c);
		if (o + (size_t)n + 4 >= cap) {
			memcpy(out + o, "...", 4);
			return out;
		}
		memcpy(out + o, tmp, (size_t)n);
		o += (size_t)n;
	}
	out[o] = '\0';
	return out;
}

/*
 * What the handlers saw, and when they are to fail: the fail_* counts are
 * 1-based (0: never), fail_data_over a number of data bytes.
 */
struct rec {
	size_t		 log_len;
	size_t		 begins;
	size_t		 ends;
	size_t		 data_calls;
	size_t		 data_bytes;
	bool		 failed;	/* a handler returned a status */
	bool		 called_after;	/* one was called after that */
	int		 fail_status;
	size_t		 fail_begin;
	size_t		 fail_end;
	size_t		 fail_data_over;
	struct mp_part	 part;		/* the last one begun */
	char		 log[LOG_CAP];
};

static void
log_add(struct rec *r, const void *p, size_t n)
{
	REQUIRE(r->log_len + n <= LOG_CAP, "log overflow");
	memcpy(r->log + r->log_len, p, n);
	r->log_len += n;
}

static int
rec_fail(struct rec *r)
{
	r->failed = true;
	return r->fail_status;
}

static int
on_begin(void *arg, const struct mp_part *part)
{
	struct rec *r = arg;

	r->called_after |= r->failed;
	REQUIRE(part->name_len <= MP_MAX_NAME &&
	    part->filename_len <= MP_MAX_NAME, "name or filename too long");
	REQUIRE(part->name[part->name_len] == '\0' &&
	    part->filename[part->filename_len] == '\0', "not NUL-terminated");
	r->part = *part;
	r->begins++;
	log_add(r, "[", 1);
	log_add(r, part->name, part->name_len);
	if (part->has_filename) {
		log_add(r, "|", 1);
		log_add(r, part->filename, part->filename_len);
	}
	log_add(r, "]", 1);
	if (r->fail_begin != 0 && r->begins == r->fail_begin)
		return rec_fail(r);
	return 0;
}

static int
on_data(void *arg, const char *p, size_t n)
{
	struct rec *r = arg;

	r->called_after |= r->failed;
	REQUIRE(n > 0, "part_data with no data");
	REQUIRE(r->begins == r->ends + 1, "part_data outside a part");
	log_add(r, p, n);
	r->data_calls++;
	r->data_bytes += n;
	if (r->fail_data_over != 0 && r->data_bytes > r->fail_data_over)
		return rec_fail(r);
	return 0;
}

static int
on_end(void *arg)
{
	struct rec *r = arg;

	r->called_after |= r->failed;
	REQUIRE(r->begins == r->ends + 1, "part_end outside a part");
	r->ends++;
	log_add(r, "[/]", 3);
	if (r->fail_end != 0 && r->ends == r->fail_end)
		return rec_fail(r);
	return 0;
}

static const struct multipart_cb cbs = {
	.part_begin = on_begin,
	.part_data = on_data,
	.part_end = on_end,
};

/*
 * How a test cuts its input: a first piece of first bytes (0 makes an
 * empty first call), then pieces of step bytes.
 */
struct feed {
	size_t		 first;
	size_t		 step;
};

/* What parsing a whole body gave. */
struct result {
	int		 status;	/* 0, or the status of the error */
	const char	*why;
	size_t		 consumed;	/* over all calls */
	bool		 done;
	size_t		 calls;
	struct rec	 rec;
};

static struct result res, res2;

static const char *
show_feed(const struct feed *f, char *out, size_t cap)
{
	snprintf(out, cap, "first piece %zu, then %zu", f->first, f->step);
	return out;
}

/*
 * Checks what multipart.h promises of one call whatever the input, and
 * adds it to r.  Returns true when the parse is over: an error, or a
 * close delimiter line that ended inside the piece.
 */
static bool
check_call(struct multipart *m, ssize_t got, size_t n, size_t blen,
    struct result *r)
{
	if (got == MP_ERROR) {
		REQUIRE(m->status >= 400 && m->status <= 599,
		    "error with status %d", m->status);
		REQUIRE(m->why != NULL && !multipart_done(m), "bad error");
		r->status = m->status;
		r->why = m->why;
		return true;
	}
	REQUIRE(got >= 0 && (size_t)got <= n,
	    "consumed %zd of a piece of %zu", got, n);
	REQUIRE((size_t)got == n || multipart_done(m),
	    "consumed %zd of %zu before the end", got, n);
	/* The bytes held back are those of a delimiter's start only. */
	REQUIRE(m->state != MP_S_DATA || m->match <= blen + 3,
	    "%zu bytes held back", m->match);
	r->consumed += (size_t)got;
	return (size_t)got < n;
}

/* Parses body[0..len) as f says and records the outcome in *r. */
static void
parse_fed(const char *boundary, const char *body, size_t len,
    unsigned max_parts, const struct feed *f, struct result *r)
{
	static struct multipart m;
	size_t blen = strlen(boundary), off = 0, n = f->first;
	bool over;

	REQUIRE(f->step > 0, "step 0");
	multipart_init(&m, boundary, blen, max_parts);
	r->status = 0;
	r->why = NULL;
	r->consumed = 0;
	r->calls = 0;
	r->rec.log_len = r->rec.begins = r->rec.ends = 0;
	r->rec.data_calls = r->rec.data_bytes = 0;
	r->rec.failed = r->rec.called_after = false;
	do {
		char *piece;
		ssize_t got;

		if (n > len - off)
			n = len - off;
		piece = tu_guarded(body + off, n);
		got = multipart_feed(&m, piece, n, &cbs, &r->rec);
		tu_guard_free(piece);
		r->calls++;
		over = check_call(&m, got, n, blen, r);
		off += n;
		n = f->step;
	} while (!over && off < len);
	if (r->status == 0 && multipart_finish(&m) == MP_ERROR) {
		r->status = m.status;
		r->why = m.why;
	}
	r->done = multipart_done(&m);
	if (r->status != 0) {
		/* An error stays, and no handler runs again. */
		REQUIRE(multipart_feed(&m, "--", 2, &cbs, &r->rec) ==
		    MP_ERROR && multipart_finish(&m) == MP_ERROR &&
		    m.status == r->status, "the error did not stay");
		REQUIRE(!r->rec.called_after, "a handler ran after an error");
	}
}

/*
 * The ways every table row is fed: whole, split once at every offset
 * (the first piece may be empty), byte by byte, and in steps of 3 and 7.
 */
static size_t
feed_count(size_t len)
{
	return 1 + (len + 1) + 3;
}

static struct feed
feed_nth(size_t len, size_t i)
{
	struct feed f = { .first = len, .step = len > 0 ? len : 1 };
	static const size_t steps[] = { 1, 3, 7 };

	if (i >= 1 && i <= len + 1) {
		f.first = i - 1;
	} else if (i > len + 1) {
		f.first = steps[i - len - 2];
		f.step = steps[i - len - 2];
	}
	return f;
}

/* Whether two results are the same in all that must not depend on feed. */
static void
check_same(const struct result *a, const struct result *b, const char *name,
    const struct feed *f)
{
	char sf[64], sa[256], sb[256];

	show_feed(f, sf, sizeof(sf));
	REQUIRE(a->status == b->status, "%s (%s): status %d, whole %d",
	    name, sf, b->status, a->status);
	REQUIRE(a->status == 0 || strcmp(a->why, b->why) == 0,
	    "%s (%s): why \"%s\", whole \"%s\"", name, sf, b->why, a->why);
	REQUIRE(a->consumed == b->consumed || a->status != 0,
	    "%s (%s): consumed %zu, whole %zu", name, sf, b->consumed,
	    a->consumed);
	REQUIRE(a->done == b->done, "%s (%s): done differs", name, sf);
	REQUIRE(a->rec.log_len == b->rec.log_len &&
	    memcmp(a->rec.log, b->rec.log, a->rec.log_len) == 0,
	    "%s (%s): log \"%s\", whole \"%s\"", name, sf,
	    show(b->rec.log, b->rec.log_len, sb, sizeof(sb)),
	    show(a->rec.log, a->rec.log_len, sa, sizeof(sa)));
}

/* Parses whole into res, then every other way into res2, comparing. */
static void
parse_every_way(const char *boundary, const char *body, size_t len,
    unsigned max_parts, const char *name)
{
	struct feed whole = feed_nth(len, 0);
	/* Past a few KiB, every offset costs seconds; every 7th will do. */
	size_t stride = len > 6000 ? 7 : 1;

	parse_fed(boundary, body, len, max_parts, &whole, &res);
	for (size_t i = 1; i < feed_count(len); i++) {
		struct feed f = feed_nth(len, i);

		if (i <= len && i % stride != 0)
			continue;

		parse_fed(boundary, body, len, max_parts, &f, &res2);
		check_same(&res, &res2, name, &f);
	}
}

/*
 * Valid bodies
 */

struct good_case {
	const char	*name;
	const char	*boundary;	/* NULL: "XyZ" */
	const char	*in;
	size_t		 len;
	const char	*log;
	size_t		 log_len;
	size_t		 after;		/* epilogue bytes, not consumed */
	unsigned	 max_parts;	/* 0: 1000 */
};

#define BD	"--XyZ"
#define CD(n)	"Content-Disposition: form-data; name=\"" n "\"\r\n"
#define PART(n, d)	BD "\r\n" CD(n) "\r\n" d "\r\n"
#define FILEP(n, f, d)	BD "\r\nContent-Disposition: form-data; name=\"" \
	n "\"; filename=\"" f "\"\r\nContent-Type: application/octet-stream" \
	"\r\n\r\n" d "\r\n"
#define CLOSE	BD "--\r\n"
#define WK	"----WebKitFormBoundary7MA4YWxkTrZu0gW"

static const struct good_case good_cases[] = {
	{ "one_field", NULL, IN(PART("a", "hello") CLOSE),
	    LOG("[a]hello[/]") },
	{ "empty_data", NULL, IN(PART("a", "") CLOSE), LOG("[a][/]") },
	{ "data_that_is_crlf", NULL, IN(PART("a", "\r\n") CLOSE),
	    LOG("[a]\r\n[/]") },
	{ "two_fields", NULL, IN(PART("a", "1") PART("b", "22") CLOSE),
	    LOG("[a]1[/][b]22[/]") },
	{ "many_files", NULL,
	    IN(FILEP("f", "a.txt", "line 1\r\nline 2\n")
	    FILEP("f", "b.bin", "\0\1\2\xff")
	    FILEP("g", "", "")
	    PART("note", "text")
	    FILEP("f", "c d.txt", "--XyZ is not at a line start")
	    CLOSE),
	    LOG("[f|a.txt]line 1\r\nline 2\n[/][f|b.bin]\0\1\2\xff[/]"
	    "[g|][/][note]text[/][f|c d.txt]--XyZ is not at a line start[/]")
	},
	{ "preamble_is_skipped", NULL,
	    IN("This is the preamble. --XyZ is here too\r\n"
	    PART("a", "x") CLOSE), LOG("[a]x[/]") },
	{ "empty_preamble_line", NULL, IN("\r\n" PART("a", "x") CLOSE),
	    LOG("[a]x[/]") },
	{ "preamble_with_partial_delimiters", NULL,
	    IN("\r\n--Xy\r\r\n--X\r\n" PART("a", "x") CLOSE),
	    LOG("[a]x[/]") },
	{ "delimiter_prefixes_in_data", NULL,
	    IN(PART("a", "\r\n-\r\n--\r\n--X\r\n--Xy\n--XyZ\r--XyZ \r\n--xyz")
	    CLOSE),
	    LOG("[a]\r\n-\r\n--\r\n--X\r\n--Xy\n--XyZ\r--XyZ \r\n--xyz[/]") },
	{ "cr_right_before_delimiter", NULL,
	    IN(PART("a", "ab\r") PART("b", "\r\r") CLOSE),
	    LOG("[a]ab\r[/][b]\r\r[/]") },
	{ "binary_data_with_nul", NULL,
	    IN(PART("a", "\0\xff\r\0\n\x80--\0") CLOSE),
	    LOG("[a]\0\xff\r\0\n\x80--\0[/]") },
	{ "epilogue_not_consumed", NULL,
	    IN(PART("a", "x") CLOSE "epilogue " PART("b", "y")),
	    LOG("[a]x[/]"), .after = sizeof("epilogue " PART("b", "y")) - 1 },
	{ "close_without_crlf", NULL, IN(PART("a", "x") BD "--"),
	    LOG("[a]x[/]") },
	{ "close_with_padding", NULL, IN(PART("a", "x") BD "-- \t \r\nafter"),
	    LOG("[a]x[/]"), .after = 5 },
	{ "close_then_cr_then_other_byte", NULL,
	    IN(PART("a", "x") BD "--\rx\n"), LOG("[a]x[/]"), .after = 2 },
	{ "close_followed_by_other_bytes", NULL,
	    IN(PART("a", "x") BD "--x\r\n"), LOG("[a]x[/]"), .after = 3 },
	{ "delimiter_with_transport_padding", NULL,
	    IN(BD " \t \r\n" CD("a") "\r\nx\r\n" BD "\t\r\n" CD("b")
	    "\r\ny\r\n" CLOSE), LOG("[a]x[/][b]y[/]") },
	{ "only_the_close", NULL, IN(CLOSE), LOG("") },
	{ "only_the_close_after_preamble", NULL, IN("junk\r\n" CLOSE),
	    LOG("") },
	{ "header_names_and_values_any_case", NULL,
	    IN(BD "\r\ncontent-DISPOSITION: FORM-DATA; NAME=a; FileName=B\r\n"
	    "CONTENT-TYPE: text/plain\r\n\r\nx\r\n" CLOSE),
	    LOG("[a|B]x[/]") },
	{ "token_values", NULL,
	    IN(BD "\r\nContent-Disposition: form-data; name=a.b;"
	    "filename=c-d_e\r\n\r\nx\r\n" CLOSE), LOG("[a.b|c-d_e]x[/]") },
	{ "quoted_string_escapes", NULL,
	    IN(BD "\r\nContent-Disposition: form-data; name=\"a\\\"b\"; "
	    "filename=\"c\\\\d%22e\"\r\n\r\nx\r\n" CLOSE),
	    LOG("[a\"b|c\\d%22e]x[/]") },
	{ "filename_ext_wins_after", NULL,
	    IN(BD "\r\nContent-Disposition: form-data; name=f; "
	    "filename=\"plain.txt\"; filename*=UTF-8''%e2%82%ac%20rates.txt"
	    "\r\n\r\nx\r\n" CLOSE), LOG("[f|\xe2\x82\xac rates.txt]x[/]") },
	{ "filename_ext_wins_before", NULL,
	    IN(BD "\r\nContent-Disposition: form-data; name=f; "
	    "filename*=utf-8'en'a%2Fb; filename=\"plain.txt\""
	    "\r\n\r\nx\r\n" CLOSE), LOG("[f|a/b]x[/]") },
	{ "ows_empty_and_unknown_parameters", NULL,
	    IN(BD "\r\nContent-Disposition:form-data ;name=a ;; size=3 ; "
	    "creation-date=\"Wed, 12 Feb 1997 16:29:51 -0500\";  \r\n\r\n"
	    "x\r\n" CLOSE), LOG("[a]x[/]") },
	{ "raw_utf8_filename", NULL,
	    IN(FILEP("f", "caf\xc3\xa9.txt", "x") CLOSE),
	    LOG("[f|caf\xc3\xa9.txt]x[/]") },
	{ "empty_name", NULL, IN(PART("", "x") CLOSE), LOG("[]x[/]") },
	{ "webkit_boundary", WK,
	    IN("------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
	    "Content-Disposition: form-data; name=\"title\"\r\n\r\n"
	    "Holiday\r\n"
	    "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
	    "Content-Disposition: form-data; name=\"file\"; "
	    "filename=\"photo.jpg\"\r\n"
	    "Content-Type: image/jpeg\r\n\r\n"
	    "\xff\xd8\xff\xe0\r\n------WebKitFormBoundary7MA4YWxkTrZu0g\r\n"
	    "------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n"),
	    LOG("[title]Holiday[/][file|photo.jpg]"
	    "\xff\xd8\xff\xe0\r\n------WebKitFormBoundary7MA4YWxkTrZu0g[/]") },
	{ "boundary_with_every_bchar", "a'()+_,-./:=? b",
	    IN("--a'()+_,-./:=? b\r\n" CD("a") "\r\nx\r\n"
	    "--a'()+_,-./:=? b--"), LOG("[a]x[/]") },
	/* A failed match must not hide a real one starting inside it. */
	{ "boundary_repeating_itself", "aaab",
	    IN("--aaab\r\n" CD("a") "\r\n\r\n--aaaab\r\n--aab\r\n--aaa\r\n"
	    "--aaab--"), LOG("[a]\r\n--aaaab\r\n--aab\r\n--aaa[/]") },
	{ "one_char_boundary", "-",
	    IN("---\r\n" CD("a") "\r\n\r\n--\r\n-\r\n-----"),
	    LOG("[a]\r\n--\r\n-[/]") },
	{ "max_parts_exactly", NULL,
	    IN(PART("a", "1") PART("b", "2") CLOSE), LOG("[a]1[/][b]2[/]"),
	    .max_parts = 2 },
	{ "no_parts_with_max_parts_zero", NULL, IN(CLOSE), LOG(""),
	    .max_parts = 0 },
};

static void
check_good(const struct good_case *c, const struct result *r)
{
	size_t want = c->len - c->after;
	char si[512], sl[512], sw[512];

	show(c->in, c->len, si, sizeof(si));
	ck_assert_msg(r->status == 0, "%s: input \"%s\": expected success, "
	    "got %d (%s)", c->name, si, r->status, r->why);
	ck_assert_msg(r->done, "%s: the body did not end", c->name);
	ck_assert_msg(r->consumed == want, "%s: input \"%s\": expected %zu "
	    "bytes consumed, got %zu", c->name, si, want, r->consumed);
	ck_assert_msg(r->rec.log_len == c->log_len &&
	    memcmp(r->rec.log, c->log, c->log_len) == 0,
	    "%s: input \"%s\": expected log \"%s\", got \"%s\"", c->name, si,
	    show(c->log, c->log_len, sw, sizeof(sw)),
	    show(r->rec.log, r->rec.log_len, sl, sizeof(sl)));
	ck_assert_uint_eq(r->rec.begins, r->rec.ends);
}

static unsigned
parts_bound(unsigned max_parts, const char *name)
{
	/* Only the row named for it has a bound of 0. */
	if (max_parts == 0 && strstr(name, "max_parts_zero") == NULL)
		return 1000;
	return max_parts;
}

START_TEST(parse_accepts_valid_body_in_one_call)
{
	const struct good_case *c = &good_cases[_i];
	struct feed f = feed_nth(c->len, 0);

	parse_fed(c->boundary != NULL ? c->boundary : "XyZ", c->in, c->len,
	    parts_bound(c->max_parts, c->name), &f, &res);
	check_good(c, &res);
	/* Whole, each part's data comes in one call. */
	ck_assert_uint_le(res.rec.data_calls, res.rec.begins);
}
END_TEST

START_TEST(parse_gives_same_result_however_valid_body_is_fed)
{
	const struct good_case *c = &good_cases[_i];

	parse_every_way(c->boundary != NULL ? c->boundary : "XyZ", c->in,
	    c->len, parts_bound(c->max_parts, c->name), c->name);
	check_good(c, &res);
	check_good(c, &res2);
}
END_TEST

/*
 * A generated body of many files whose data is made of the bytes a
 * delimiter is made of, so that partial delimiters are everywhere; the
 * few whole ones that come up are broken by changing their last byte.
 */
static char gen_body[BODY_CAP], gen_log[LOG_CAP];
static size_t gen_len, gen_log_len;

static void
gen_add(char *buf, size_t *len, size_t cap, const char *p, size_t n)
{
	ck_assert(*len + n <= cap);
	memcpy(buf + *len, p, n);
	*len += n;
}

static void
gen_files(unsigned files, size_t max_data, uint32_t seed)
{
	static const char alpha[] = "\r\n-XyZa\0";
	char data[4096], head[256];

	ck_assert(max_data <= sizeof(data));
	gen_len = gen_log_len = 0;
	gen_add(gen_body, &gen_len, BODY_CAP, "preamble\r\n", 10);
	for (unsigned f = 0; f < files; f++) {
		size_t dlen = (seed = seed * 1103515245 + 12345) >> 16;
		char *hit;
		int n;

		dlen %= max_data + 1;
		for (size_t i = 0; i < dlen; i++) {
			seed = seed * 1103515245 + 12345;
			data[i] = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
		}
		while ((hit = memmem(data, dlen, "\r\n--XyZ", 7)) != NULL)
			hit[6] = 'z';
		n = snprintf(head, sizeof(head), "--XyZ\r\nContent-Disposition:"
		    " form-data; name=\"file%u\"; filename=\"f%u.bin\"\r\n"
		    "Content-Type: application/octet-stream\r\n\r\n", f, f);
		ck_assert(n > 0 && (size_t)n < sizeof(head));
		gen_add(gen_body, &gen_len, BODY_CAP, head, (size_t)n);
		gen_add(gen_body, &gen_len, BODY_CAP, data, dlen);
		gen_add(gen_body, &gen_len, BODY_CAP, "\r\n", 2);
		n = snprintf(head, sizeof(head), "[file%u|f%u.bin]", f, f);
		gen_add(gen_log, &gen_log_len, LOG_CAP, head, (size_t)n);
		gen_add(gen_log, &gen_log_len, LOG_CAP, data, dlen);
		gen_add(gen_log, &gen_log_len, LOG_CAP, "[/]", 3);
	}
	gen_add(gen_body, &gen_len, BODY_CAP, "--XyZ--\r\n", 9);
}

static void
check_gen(const struct result *r)
{
	ck_assert_msg(r->status == 0, "status %d (%s)", r->status, r->why);
	ck_assert(r->done);
	ck_assert_uint_eq(r->consumed, gen_len);
	ck_assert_uint_eq(r->rec.log_len, gen_log_len);
	ck_assert(memcmp(r->rec.log, gen_log, gen_log_len) == 0);
}

START_TEST(parse_splits_many_files_with_near_delimiters_in_data)
{
	gen_files(20, 200, 0x5eed + (uint32_t)_i);
	parse_every_way("XyZ", gen_body, gen_len, 1000, "generated");
	check_gen(&res);
	check_gen(&res2);
}
END_TEST

/* Large files in pieces of the sizes a socket gives. */
START_TEST(parse_streams_large_files_across_many_calls)
{
	static const size_t steps[] = { 61, 4093, 65536, BODY_CAP };

	gen_files(100, 4096, 42);
	for (size_t s = 0; s < NELEM(steps); s++) {
		struct feed f = { .first = steps[s], .step = steps[s] };

		parse_fed("XyZ", gen_body, gen_len, 1000, &f, &res);
		check_gen(&res);
	}
}
END_TEST

/*
 * Data is handed on as soon as it cannot be part of a delimiter: fed byte
 * by byte, what has been given lags what was fed by at most the boundary
 * length + 3 bytes, and not at all where no CR came.
 */
START_TEST(parse_holds_back_no_more_than_a_delimiter)
{
	static const char body[] = BD "\r\n" CD("a") "\r\n"
	    "plain text\r\n--XyA\r\n--Xy\r\n--XyZ--";
	static struct multipart m;
	const size_t start = sizeof(BD "\r\n" CD("a") "\r\n") - 1;
	const size_t dlen = sizeof("plain text\r\n--XyA\r\n--Xy") - 1;
	struct rec *r = &res.rec;

	memset(r, 0, sizeof(*r));
	multipart_init(&m, "XyZ", 3, 10);
	for (size_t i = 0; i < sizeof(body) - 1; i++) {
		char *piece = tu_guarded(body + i, 1);
		ssize_t got = multipart_feed(&m, piece, 1, &cbs, r);

		tu_guard_free(piece);
		ck_assert_int_eq(got, 1);
		if (i < start || i >= start + dlen)
			continue;
		if (i < start + 10)
			ck_assert_uint_eq(r->data_bytes, i + 1 - start);
		ck_assert_uint_ge(r->data_bytes + 3 + 3, i + 1 - start);
	}
	ck_assert(multipart_done(&m));
	ck_assert_int_eq(multipart_finish(&m), 0);
	ck_assert_uint_eq(r->data_bytes, dlen);
}
END_TEST

/*
 * Content-Disposition parameters, decoded into struct mp_part
 */

struct disp_case {
	const char	*name;
	const char	*in;		/* the field value */
	size_t		 len;
	const char	*want_name;
	size_t		 want_name_len;
	bool		 has_filename;
	const char	*want_file;
	size_t		 want_file_len;
};

#define NAME(s)		.want_name = (s), .want_name_len = sizeof(s) - 1
#define FNAME(s)	.has_filename = true, .want_file = (s), \
			.want_file_len = sizeof(s) - 1

static const struct disp_case disp_cases[] = {
	{ "quoted_name", IN("form-data; name=\"field\""), NAME("field") },
	{ "escaped_quote_in_name", IN("form-data; name=\"a\\\"b\""),
	    NAME("a\"b") },
	{ "empty_filename", IN("form-data; name=f; filename=\"\""),
	    NAME("f"), FNAME("") },
	{ "nul_from_filename_ext_kept",
	    IN("form-data; name=f; filename*=UTF-8''a%00b"), NAME("f"),
	    FNAME("a\0b") },
	{ "filename_ext_with_slash_and_dots",
	    IN("form-data; name=f; filename*=UTF-8''..%2F..%2Fetc"),
	    NAME("f"), FNAME("../../etc") },
	{ "filename_ext_latin1_made_utf8",
	    IN("form-data; name=f; filename*=ISO-8859-1'fr'caf%E9"),
	    NAME("f"), FNAME("caf\xc3\xa9") },
	{ "filename_ext_empty", IN("form-data; name=f; filename*=UTF-8''"),
	    NAME("f"), FNAME("") },
	{ "filename_with_path_kept",
	    IN("form-data; name=f; filename=\"C:\\\\dir\\\\x.txt\""),
	    NAME("f"), FNAME("C:\\dir\\x.txt") },
	{ "filename_with_htab_and_obs_text",
	    IN("form-data; name=f; filename=\"a\tb\xff\""), NAME("f"),
	    FNAME("a\tb\xff") },
	{ "no_filename", IN("form-data; name=f"), NAME("f") },
	{ "param_names_any_case",
	    IN("Form-Data; NaMe=\"x\"; FILENAME*=utf-8''y"), NAME("x"),
	    FNAME("y") },
};

static void
parse_disposition(const char *v, size_t vlen)
{
	static char body[MP_MAX_PART_HEAD + 256];
	static const char pre[] = BD "\r\nContent-Disposition: ";
	static const char post[] = "\r\n\r\nd\r\n" BD "--";
	size_t len = 0;

	gen_add(body, &len, sizeof(body), pre, sizeof(pre) - 1);
	gen_add(body, &len, sizeof(body), v, vlen);
	gen_add(body, &len, sizeof(body), post, sizeof(post) - 1);
	parse_every_way("XyZ", body, len, 10, "disposition");
}

START_TEST(parse_decodes_disposition_parameters)
{
	const struct disp_case *c = &disp_cases[_i];
	const struct mp_part *p = &res2.rec.part;
	char sv[256];

	parse_disposition(c->in, c->len);
	show(c->in, c->len, sv, sizeof(sv));
	ck_assert_msg(res2.status == 0, "%s: \"%s\": status %d (%s)",
	    c->name, sv, res2.status, res2.why);
	ck_assert_msg(p->name_len == c->want_name_len &&
	    memcmp(p->name, c->want_name, p->name_len) == 0,
	    "%s: \"%s\": wrong name", c->name, sv);
	ck_assert_msg(p->has_filename == c->has_filename, "%s: \"%s\": "
	    "has_filename %d", c->name, sv, p->has_filename);
	ck_assert_msg(p->filename_len == c->want_file_len &&
	    (c->want_file_len == 0 ||
	    memcmp(p->filename, c->want_file, p->filename_len) == 0),
	    "%s: \"%s\": wrong filename", c->name, sv);
	ck_assert(!p->filename_too_long);
}
END_TEST

/* A value of n bytes of 'n' for parameter param, quoted or not. */
static size_t
long_param(char *out, size_t cap, const char *param, size_t n, bool ext)
{
	int k = snprintf(out, cap, "form-data; name=a; %s=%s", param,
	    ext ? "UTF-8''" : "\"");
	size_t len;

	ck_assert(k > 0 && (size_t)k + n + 1 < cap);
	len = (size_t)k;
	memset(out + len, 'n', n);
	len += n;
	if (!ext)
		out[len++] = '"';
	return len;
}

START_TEST(parse_flags_filename_over_max_name)
{
	static char v[MP_MAX_PART_HEAD], body[MP_MAX_PART_HEAD + 256];
	static const char pre[] = BD "\r\nContent-Disposition: ";
	static const char post[] = "\r\n\r\n\r\n" BD "--";
	const struct mp_part *p = &res.rec.part;
	static const size_t lens[] = { MP_MAX_NAME, MP_MAX_NAME + 1, 3000 };

	for (size_t i = 0; i < NELEM(lens); i++) {
		for (int ext = 0; ext < 2; ext++) {
			size_t len = long_param(v, sizeof(v), ext ?
			    "filename*" : "filename", lens[i], ext);
			struct feed f = { .first = 5, .step = 5 };
			size_t body_len = 0;

			gen_add(body, &body_len, sizeof(body), pre,
			    sizeof(pre) - 1);
			gen_add(body, &body_len, sizeof(body), v, len);
			gen_add(body, &body_len, sizeof(body), post,
			    sizeof(post) - 1);
			parse_fed("XyZ", body, body_len, 10, &f, &res);
			ck_assert_int_eq(res.status, 0);
			ck_assert(p->has_filename);
			ck_assert(p->filename_too_long ==
			    (lens[i] > MP_MAX_NAME));
			ck_assert_uint_eq(p->filename_len, lens[i] >
			    MP_MAX_NAME ? MP_MAX_NAME : lens[i]);
			ck_assert(p->filename[p->filename_len] == '\0');
		}
	}
}
END_TEST

START_TEST(parse_refuses_name_over_max_name)
{
	static char v[MP_MAX_PART_HEAD];
	int k;

	k = snprintf(v, sizeof(v), "form-data; name=\"");
	memset(v + k, 'n', MP_MAX_NAME);
	memcpy(v + k + MP_MAX_NAME, "\"", 1);
	parse_disposition(v, (size_t)k + MP_MAX_NAME + 1);
	ck_assert_int_eq(res.status, 0);
	ck_assert_uint_eq(res.rec.part.name_len, MP_MAX_NAME);
	memcpy(v + k + MP_MAX_NAME, "n\"", 2);
	parse_disposition(v, (size_t)k + MP_MAX_NAME + 2);
	ck_assert_int_eq(res.status, 400);
	ck_assert_str_eq(res.why, "part name too long");
}
END_TEST

/*
 * Hostile and malformed bodies, each with the status and reason the
 * parser must answer however it is fed.
 */

struct bad_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	int		 status;
	const char	*why;
	unsigned	 max_parts;	/* 0: 1000 */
};

#define NO_CD	"part without a form-data disposition"
#define BAD_CD	"malformed content-disposition"
#define BAD_HD	"malformed part headers"
#define BAD_DL	"malformed boundary line"
#define EARLY	"body ends before the closing boundary"
#define HEADP(h)	BD "\r\n" h "\r\n\r\nx\r\n" CLOSE
#define DISP(v)		HEADP("Content-Disposition: " v)

static const struct bad_case bad_cases[] = {
	{ "empty_body", IN(""), 400, EARLY },
	{ "garbage", IN("\0\1\2 this is not multipart \xff\r\n"), 400, EARLY },
	{ "boundary_differs_in_case", IN("--xyz\r\n" CD("a") "\r\nx\r\n"
	    "--xyz--\r\n"), 400, EARLY },
	{ "ends_in_data", IN(PART("a", "never closed")), 400, EARLY },
	{ "ends_in_data_after_partial_delimiter",
	    IN(PART("a", "x") "--XyZ-"), 400, EARLY },
	{ "ends_after_boundary", IN(PART("a", "x") BD), 400, EARLY },
	{ "ends_in_delimiter_line", IN(PART("a", "x") BD " \r"), 400, EARLY },
	{ "ends_in_headers", IN(BD "\r\n" CD("a")), 400, EARLY },
	{ "ends_before_header_end", IN(BD "\r\n" CD("a") "\r"), 400, EARLY },
	{ "no_disposition", IN(HEADP("Content-Type: text/plain")), 400,
	    NO_CD },
	{ "empty_header_block", IN(BD "\r\n\r\nx\r\n" CLOSE), 400, NO_CD },
	{ "attachment_disposition", IN(DISP("attachment; name=a")), 400,
	    NO_CD },
	{ "form_data_prefix_only", IN(DISP("form-dataX; name=a")), 400,
	    NO_CD },
	{ "disposition_without_name", IN(DISP("form-data; filename=a")),
	    400, "part without a name" },
	{ "disposition_name_star_only", IN(DISP("form-data; name*=UTF-8''a")),
	    400, "part without a name" },
	{ "repeated_disposition", IN(HEADP(CD("a") "Content-Disposition: "
	    "form-data; name=b")), 400, "repeated content-disposition" },
	{ "repeated_name", IN(DISP("form-data; name=a; name=b")), 400,
	    "repeated content-disposition parameter" },
	{ "repeated_filename",
	    IN(DISP("form-data; name=a; filename=b; filename=c")), 400,
	    "repeated content-disposition parameter" },
	{ "repeated_filename_ext", IN(DISP("form-data; name=a; "
	    "filename*=UTF-8''b; filename*=UTF-8''c")), 400,
	    "repeated content-disposition parameter" },
	{ "filename_ext_other_charset",
	    IN(DISP("form-data; name=a; filename*=UTF-16''b")), 400,
	    "unsupported filename* charset" },
	{ "filename_ext_bad_percent",
	    IN(DISP("form-data; name=a; filename*=UTF-8''%zz")), 400, BAD_CD },
	{ "filename_ext_short_percent",
	    IN(DISP("form-data; name=a; filename*=UTF-8''a%4")), 400,
	    BAD_CD },
	{ "filename_ext_one_quote",
	    IN(DISP("form-data; name=a; filename*=UTF-8'b")), 400, BAD_CD },
	{ "filename_ext_quoted",
	    IN(DISP("form-data; name=a; filename*=\"UTF-8''b\"")), 400,
	    BAD_CD },
	{ "filename_ext_star_in_value",
	    IN(DISP("form-data; name=a; filename*=UTF-8''a*b")), 400, BAD_CD },
	{ "space_around_equals", IN(DISP("form-data; name = a")), 400,
	    BAD_CD },
	{ "unterminated_quoted_string", IN(DISP("form-data; name=\"a")), 400,
	    BAD_CD },
	{ "backslash_at_end_of_quoted", IN(DISP("form-data; name=\"a\\")),
	    400, BAD_CD },
	{ "missing_semicolon", IN(DISP("form-data name=a")), 400, BAD_CD },
	{ "junk_after_value", IN(DISP("form-data; name=\"a\"b")), 400,
	    BAD_CD },
	{ "empty_value", IN(DISP("form-data; name=")), 400, BAD_CD },
	{ "param_without_value", IN(DISP("form-data; name")), 400, BAD_CD },
	{ "non_token_param_name", IN(DISP("form-data; n@me=a; name=b")), 400,
	    BAD_CD },
	{ "obs_fold", IN(HEADP("Content-Disposition: form-data;\r\n name=a")),
	    400, BAD_HD },
	{ "obs_fold_tab", IN(HEADP(CD("a") "\tx")), 400, BAD_HD },
	{ "bare_lf_in_header", IN(BD "\r\n" "Content-Disposition: form-data;"
	    " name=a\n\r\nx\r\n" CLOSE), 400, BAD_HD },
	{ "bare_lf_header_end", IN(BD "\r\n" CD("a") "\nx\r\n" CLOSE), 400,
	    BAD_HD },
	{ "bare_cr_in_header", IN(HEADP("Content-Disposition: form\r-data;"
	    " name=a")), 400, BAD_HD },
	{ "bare_cr_header_end", IN(BD "\r\n" CD("a") "\rx\r\n" CLOSE), 400,
	    BAD_HD },
	{ "nul_in_header_value", IN(DISP("form-data; name=\"a\0\"")), 400,
	    BAD_HD },
	{ "del_in_header_value", IN(DISP("form-data; name=\"a\x7f\"")), 400,
	    BAD_HD },
	{ "control_in_other_header", IN(HEADP(CD("a") "X-A: \x01")), 400,
	    BAD_HD },
	{ "header_without_colon", IN(HEADP(CD("a") "X-A")), 400, BAD_HD },
	{ "space_before_colon", IN(HEADP(CD("a") "X-A : b")), 400, BAD_HD },
	{ "empty_header_name", IN(HEADP(CD("a") ": b")), 400, BAD_HD },
	{ "junk_after_boundary", IN(BD "x\r\n" CD("a") "\r\nx\r\n" CLOSE),
	    400, BAD_DL },
	{ "junk_after_first_boundary_in_preamble",
	    IN("pre\r\n--XyZZ\r\n" CD("a") "\r\nx\r\n" CLOSE), 400, BAD_DL },
	{ "boundary_in_data_with_suffix",
	    IN(PART("a", "x\r\n--XyZ2") CLOSE), 400, BAD_DL },
	{ "single_dash_after_boundary", IN(PART("a", "x") BD "-x\r\n"), 400,
	    BAD_DL },
	{ "padding_then_dashes", IN(PART("a", "x") BD " --\r\n"), 400,
	    BAD_DL },
	{ "bare_lf_after_boundary", IN(BD "\n" CD("a") "\r\nx\r\n" CLOSE),
	    400, BAD_DL },
	{ "bare_cr_after_boundary", IN(BD "\rx" CD("a") "\r\nx\r\n" CLOSE),
	    400, BAD_DL },
	{ "too_many_parts", IN(PART("a", "1") PART("b", "2") PART("c", "3")
	    CLOSE), 413, "too many parts", .max_parts = 2 },
	{ "any_part_with_max_parts_zero", IN(PART("a", "1") CLOSE), 413,
	    "too many parts", .max_parts = 0 },
};

START_TEST(parse_gives_same_error_however_bad_body_is_fed)
{
	const struct bad_case *c = &bad_cases[_i];
	char si[512];

	parse_every_way("XyZ", c->in, c->len,
	    parts_bound(c->max_parts, c->name), c->name);
	show(c->in, c->len, si, sizeof(si));
	ck_assert_msg(res.status == c->status && strcmp(res.why, c->why) == 0,
	    "%s: input \"%s\": expected %d (%s), got %d (%s)", c->name, si,
	    c->status, c->why, res.status, res.why != NULL ? res.why : "-");
	ck_assert(!res.done);
}
END_TEST

/* Writes n parts of one byte each and the close into gen_body. */
static void
gen_parts(size_t n)
{
	static const char part[] = PART("f", "v");

	gen_len = 0;
	for (size_t i = 0; i < n; i++)
		gen_add(gen_body, &gen_len, BODY_CAP, part, sizeof(part) - 1);
	gen_add(gen_body, &gen_len, BODY_CAP, CLOSE, sizeof(CLOSE) - 1);
}

START_TEST(parse_refuses_ten_thousand_parts_over_max_parts_with_413)
{
	static const size_t steps[] = { 7, 4093, BODY_CAP };

	gen_parts(10000);
	for (size_t s = 0; s < NELEM(steps); s++) {
		struct feed f = { .first = steps[s], .step = steps[s] };

		parse_fed("XyZ", gen_body, gen_len, 1000, &f, &res);
		ck_assert_int_eq(res.status, 413);
		ck_assert_str_eq(res.why, "too many parts");
		ck_assert_uint_eq(res.rec.begins, 1000);
		ck_assert_uint_eq(res.rec.ends, 1000);
	}
	gen_parts(1000);
	parse_fed("XyZ", gen_body, gen_len, 1000,
	    &(struct feed){ .first = 4093, .step = 4093 }, &res);
	ck_assert_int_eq(res.status, 0);
	ck_assert_uint_eq(res.rec.ends, 1000);
}
END_TEST

/* A header block of exactly n bytes of field lines. */
static void
gen_head(size_t n)
{
	static const char cd[] = CD("a") "X-Pad: ";
	size_t pad = n - (sizeof(cd) - 1) - 2;

	gen_len = 0;
	gen_add(gen_body, &gen_len, BODY_CAP, BD "\r\n", 7);
	gen_add(gen_body, &gen_len, BODY_CAP, cd, sizeof(cd) - 1);
	ck_assert(gen_len + pad < BODY_CAP);
	memset(gen_body + gen_len, 'p', pad);
	gen_len += pad;
	gen_add(gen_body, &gen_len, BODY_CAP, "\r\n\r\nx\r\n" CLOSE,
	    sizeof("\r\n\r\nx\r\n" CLOSE) - 1);
}

START_TEST(parse_limits_part_headers_to_max_part_head)
{
	gen_head(MP_MAX_PART_HEAD);
	parse_every_way("XyZ", gen_body, gen_len, 10, "head at limit");
	ck_assert_int_eq(res.status, 0);
	ck_assert_uint_eq(res.rec.begins, 1);
	gen_head(MP_MAX_PART_HEAD + 1);
	parse_every_way("XyZ", gen_body, gen_len, 10, "head over limit");
	ck_assert_int_eq(res.status, 400);
	ck_assert_str_eq(res.why, "part headers too long");
	ck_assert_uint_eq(res.rec.begins, 0);
}
END_TEST

/* A preamble of n bytes, then a body whose first delimiter ends at n + 7. */
static void
gen_preamble(size_t n, char fill)
{
	static const char rest[] = "\r\n" PART("a", "x") CLOSE;

	ck_assert(n + sizeof(rest) < BODY_CAP);
	memset(gen_body, fill, n);
	gen_len = n;
	gen_add(gen_body, &gen_len, BODY_CAP, rest, sizeof(rest) - 1);
}

START_TEST(parse_limits_preamble_to_max_preamble)
{
	static const struct feed feeds[] = { { 1 << 20, 1 << 20 }, { 1, 1 },
	    { 8190, 1 }, { 8192, 1 }, { 4093, 4093 } };
	/* The first delimiter, CRLF "--XyZ", ends at byte n + 7. */
	const size_t ok = MP_MAX_PREAMBLE - 7;

	for (size_t i = 0; i < NELEM(feeds); i++) {
		gen_preamble(ok, 'g');
		parse_fed("XyZ", gen_body, gen_len, 10, &feeds[i], &res);
		ck_assert_int_eq(res.status, 0);
		gen_preamble(ok + 1, '\r');
		parse_fed("XyZ", gen_body, gen_len, 10, &feeds[i], &res);
		ck_assert_int_eq(res.status, 400);
		ck_assert_str_eq(res.why,
		    "no boundary at the start of the body");
		/* Garbage alone fails as soon as the bound is passed. */
		gen_preamble(BODY_CAP / 2, '\n');
		parse_fed("XyZ", gen_body, gen_len, 10, &feeds[i], &res);
		ck_assert_int_eq(res.status, 400);
		ck_assert_uint_le(res.calls, MP_MAX_PREAMBLE / feeds[i].step
		    + 2);
	}
}
END_TEST

START_TEST(parse_limits_transport_padding)
{
	static char body[MP_MAX_PADDING + 256];
	static const char cd[] = "\r\n" CD("a") "\r\nx\r\n" CLOSE;

	for (size_t extra = 0; extra < 2; extra++) {
		size_t len = 0;

		gen_add(body, &len, sizeof(body), BD, 5);
		memset(body + len, ' ', MP_MAX_PADDING + extra);
		len += MP_MAX_PADDING + extra;
		gen_add(body, &len, sizeof(body), cd, sizeof(cd) - 1);
		parse_fed("XyZ", body, len, 10,
		    &(struct feed){ .first = 100, .step = 100 }, &res);
		ck_assert_int_eq(res.status, extra ? 400 : 0);
	}
}
END_TEST

/*
 * The caller's handlers stop the parse
 */

struct stop_case {
	const char	*name;
	size_t		 fail_begin;
	size_t		 fail_end;
	size_t		 fail_data_over;
	int		 ret;		/* what the handler returns */
	int		 status;	/* and what the parse answers */
	const char	*log;
	size_t		 log_len;
};

#define STOP_BODY	PART("a", "12345") PART("b", "67") CLOSE

static const struct stop_case stop_cases[] = {
	{ "begin_of_second_part", 2, 0, 0, 409, 409, LOG("[a]12345[/][b]") },
	{ "begin_of_first_part", 1, 0, 0, 507, 507, LOG("[a]") },
	{ "end_of_first_part", 0, 1, 0, 500, 500, LOG("[a]12345[/]") },
	{ "end_of_last_part", 0, 2, 0, 413, 413,
	    LOG("[a]12345[/][b]67[/]") },
	{ "status_not_http_is_500", 1, 0, 0, 1, 500, LOG("[a]") },
	{ "negative_status_is_500", 1, 0, 0, -1, 500, LOG("[a]") },
	{ "status_over_599_is_500", 1, 0, 0, 600, 500, LOG("[a]") },
};

START_TEST(parse_stops_when_a_handler_returns_a_status)
{
	const struct stop_case *c = &stop_cases[_i];
	static const char body[] = STOP_BODY;
	const size_t len = sizeof(body) - 1;
	char sl[256];

	for (size_t i = 0; i < feed_count(len); i++) {
		struct feed f = feed_nth(len, i);

		res.rec.fail_begin = c->fail_begin;
		res.rec.fail_end = c->fail_end;
		res.rec.fail_status = c->ret;
		parse_fed("XyZ", body, len, 10, &f, &res);
		ck_assert_msg(res.status == c->status, "%s: status %d",
		    c->name, res.status);
		ck_assert_str_eq(res.why, "stopped by the caller");
		ck_assert_msg(res.rec.log_len == c->log_len &&
		    memcmp(res.rec.log, c->log, c->log_len) == 0,
		    "%s: log \"%s\"", c->name,
		    show(res.rec.log, res.rec.log_len, sl, sizeof(sl)));
	}
	res.rec.fail_begin = res.rec.fail_end = 0;
}
END_TEST

/* A data handler's refusal stops the parse however the data came. */
START_TEST(parse_stops_when_data_handler_refuses)
{
	static const char body[] = STOP_BODY;
	const size_t len = sizeof(body) - 1;

	for (size_t i = 0; i < feed_count(len); i++) {
		struct feed f = feed_nth(len, i);

		res.rec.fail_data_over = 6;
		res.rec.fail_status = 507;
		parse_fed("XyZ", body, len, 10, &f, &res);
		ck_assert_int_eq(res.status, 507);
		ck_assert_str_eq(res.why, "stopped by the caller");
		ck_assert_uint_eq(res.rec.begins, 2);
		ck_assert_uint_eq(res.rec.ends, 1);
	}
	res.rec.fail_data_over = 0;
}
END_TEST

/*
 * The rest of the API
 */

START_TEST(parse_without_handlers_checks_syntax_only)
{
	static const char good[] = PART("a", "x") CLOSE;
	static const char bad[] = DISP("attachment");
	static struct multipart m;
	static const struct multipart_cb none = { 0 };

	multipart_init(&m, "XyZ", 3, 10);
	ck_assert_int_eq(multipart_feed(&m, good, sizeof(good) - 1, NULL,
	    NULL), (ssize_t)sizeof(good) - 1);
	ck_assert_int_eq(multipart_finish(&m), 0);
	multipart_init(&m, "XyZ", 3, 10);
	ck_assert_int_eq(multipart_feed(&m, good, sizeof(good) - 1, &none,
	    NULL), (ssize_t)sizeof(good) - 1);
	ck_assert(multipart_done(&m));
	multipart_init(&m, "XyZ", 3, 10);
	ck_assert_int_eq(multipart_feed(&m, bad, sizeof(bad) - 1, NULL,
	    NULL), MP_ERROR);
	ck_assert_int_eq(m.status, 400);
}
END_TEST

START_TEST(feed_after_end_consumes_nothing)
{
	static const char body[] = PART("a", "x") BD "--";
	static struct multipart m;
	struct rec *r = &res.rec;

	memset(r, 0, sizeof(*r));
	multipart_init(&m, "XyZ", 3, 10);
	ck_assert_int_eq(multipart_feed(&m, body, sizeof(body) - 1, &cbs, r),
	    (ssize_t)sizeof(body) - 1);
	ck_assert(multipart_done(&m));
	/* The rest of the close line is taken, then nothing. */
	ck_assert_int_eq(multipart_feed(&m, " \r", 2, &cbs, r), 2);
	ck_assert_int_eq(multipart_feed(&m, "\nxyz", 4, &cbs, r), 1);
	ck_assert_int_eq(multipart_feed(&m, "\r\n", 2, &cbs, r), 0);
	ck_assert_int_eq(multipart_feed(&m, "", 0, &cbs, r), 0);
	ck_assert(multipart_done(&m));
	ck_assert_int_eq(multipart_finish(&m), 0);
	ck_assert_uint_eq(r->ends, 1);
}
END_TEST

START_TEST(init_refuses_invalid_boundary)
{
	static struct multipart m;
	static const struct {
		const char	*b;
		size_t		 len;
	} bad[] = { { "", 0 }, { "a\r", 2 }, { "a ", 2 }, { "a\0b", 3 },
	    { "a\"b", 3 }, { "a!", 2 } };
	char longb[MP_MAX_BOUNDARY + 1];

	memset(longb, 'b', sizeof(longb));
	for (size_t i = 0; i <= NELEM(bad); i++) {
		if (i < NELEM(bad))
			multipart_init(&m, bad[i].b, bad[i].len, 10);
		else
			multipart_init(&m, longb, sizeof(longb), 10);
		ck_assert_int_eq(multipart_feed(&m, "--", 2, NULL, NULL),
		    MP_ERROR);
		ck_assert_int_eq(m.status, 400);
		ck_assert_str_eq(m.why, "invalid boundary");
		ck_assert_int_eq(multipart_finish(&m), MP_ERROR);
	}
	multipart_init(&m, longb, MP_MAX_BOUNDARY, 10);
	ck_assert_int_eq(multipart_feed(&m, "--", 2, NULL, NULL), 2);
}
END_TEST

START_TEST(init_resets_a_used_parser)
{
	static struct multipart m;
	static const char body[] = PART("a", "x") CLOSE;

	multipart_init(&m, "XyZ", 3, 10);
	ck_assert_int_eq(multipart_feed(&m, "x", 1, NULL, NULL), 1);
	ck_assert_int_eq(multipart_finish(&m), MP_ERROR);
	multipart_init(&m, "XyZ", 3, 10);
	ck_assert(!multipart_done(&m));
	ck_assert_int_eq(multipart_feed(&m, body, sizeof(body) - 1, NULL,
	    NULL), (ssize_t)sizeof(body) - 1);
	ck_assert_int_eq(multipart_finish(&m), 0);
}
END_TEST

/*
 * multipart_boundary()
 */

struct ct_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	int		 ret;
	const char	*boundary;
};

#define B70	"0123456789012345678901234567890123456789" \
		"012345678901234567890123456789"

static const struct ct_case ct_cases[] = {
	{ "token", IN("multipart/form-data; boundary=XyZ"), 3, "XyZ" },
	{ "quoted_with_space", IN("multipart/form-data; boundary=\"a b\""),
	    3, "a b" },
	{ "any_case", IN("Multipart/Form-DATA;BOUNDARY=abc"), 3, "abc" },
	{ "other_params_and_ows",
	    IN(" multipart/form-data ; charset=utf-8 ;boundary=----x  ;"),
	    5, "----x" },
	{ "webkit", IN("multipart/form-data; boundary=" WK),
	    (int)sizeof(WK) - 1, WK },
	{ "seventy", IN("multipart/form-data; boundary=" B70), 70, B70 },
	{ "quoted_every_bchar",
	    IN("multipart/form-data; boundary=\"'()+_,-./:=? x\""), 14,
	    "'()+_,-./:=? x" },
	{ "escaped_bchar", IN("multipart/form-data; boundary=\"a\\b\""), 2,
	    "ab" },
	{ "not_form_data", IN("text/plain"), 0, "" },
	{ "mixed", IN("multipart/mixed; boundary=x"), 0, "" },
	{ "form_data_prefix", IN("multipart/form-dataX; boundary=x"), 0, "" },
	{ "no_subtype", IN("multipart"), 0, "" },
	{ "empty", IN(""), 0, "" },
	{ "missing_boundary", IN("multipart/form-data"), -1, "" },
	{ "missing_boundary_other_param",
	    IN("multipart/form-data; charset=utf-8"), -1, "" },
	{ "empty_boundary", IN("multipart/form-data; boundary="), -1, "" },
	{ "empty_quoted_boundary", IN("multipart/form-data; boundary=\"\""),
	    -1, "" },
	{ "seventy_one", IN("multipart/form-data; boundary=" B70 "x"), -1,
	    "" },
	{ "ends_in_space", IN("multipart/form-data; boundary=\"ab \""), -1,
	    "" },
	{ "not_bchar", IN("multipart/form-data; boundary=a!b"), -1, "" },
	{ "quote_in_boundary", IN("multipart/form-data; boundary=\"a\\\"b\""),
	    -1, "" },
	{ "twice", IN("multipart/form-data; boundary=a; boundary=a"), -1,
	    "" },
	{ "junk_after", IN("multipart/form-data; boundary=abc def"), -1, "" },
	{ "unterminated", IN("multipart/form-data; boundary=\"abc"), -1, "" },
	{ "nul_after", IN("multipart/form-data; boundary=abc\0"), -1, "" },
	{ "bad_other_param", IN("multipart/form-data; x; boundary=abc"), -1,
	    "" },
};

START_TEST(boundary_is_extracted_from_content_type)
{
	const struct ct_case *c = &ct_cases[_i];
	char *in = tu_guarded(c->in, c->len);
	char out[MP_MAX_BOUNDARY + 1];
	int got;

	memset(out, 'Z', sizeof(out));
	got = multipart_boundary(in, c->len, out);
	tu_guard_free(in);
	ck_assert_msg(got == c->ret, "%s: returned %d, expected %d", c->name,
	    got, c->ret);
	ck_assert_msg(strcmp(out, c->boundary) == 0, "%s: boundary \"%s\"",
	    c->name, out);
}
END_TEST

static Suite *
multipart_suite(void)
{
	Suite *s = suite_create("multipart");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, parse_accepts_valid_body_in_one_call, 0,
	    NELEM(good_cases));
	tcase_add_loop_test(tc,
	    parse_gives_same_result_however_valid_body_is_fed, 0,
	    NELEM(good_cases));
	tcase_add_loop_test(tc,
	    parse_splits_many_files_with_near_delimiters_in_data, 0, 4);
	tcase_add_test(tc, parse_streams_large_files_across_many_calls);
	tcase_add_test(tc, parse_holds_back_no_more_than_a_delimiter);
	suite_add_tcase(s, tc);

	tc = tcase_create("disposition");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, parse_decodes_disposition_parameters, 0,
	    NELEM(disp_cases));
	tcase_add_test(tc, parse_flags_filename_over_max_name);
	tcase_add_test(tc, parse_refuses_name_over_max_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, parse_gives_same_error_however_bad_body_is_fed,
	    0, NELEM(bad_cases));
	tcase_add_test(tc,
	    parse_refuses_ten_thousand_parts_over_max_parts_with_413);
	tcase_add_test(tc, parse_limits_part_headers_to_max_part_head);
	tcase_add_test(tc, parse_limits_preamble_to_max_preamble);
	tcase_add_test(tc, parse_limits_transport_padding);
	suite_add_tcase(s, tc);

	tc = tcase_create("handlers");
	tcase_add_loop_test(tc, parse_stops_when_a_handler_returns_a_status,
	    0, NELEM(stop_cases));
	tcase_add_test(tc, parse_stops_when_data_handler_refuses);
	tcase_add_test(tc, parse_without_handlers_checks_syntax_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_test(tc, feed_after_end_consumes_nothing);
	tcase_add_test(tc, init_refuses_invalid_boundary);
	tcase_add_test(tc, init_resets_a_used_parser);
	tcase_add_loop_test(tc, boundary_is_extracted_from_content_type, 0,
	    NELEM(ct_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(multipart_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
