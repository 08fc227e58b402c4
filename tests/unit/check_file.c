/*
 * check_file.c - Range arithmetic, conditional requests and validators.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "http_parse.h"
#include "testutil.h"

/* ---- Range ---- */

struct range_case {
	const char	*name;
	const char	*value;
	uint64_t	 size;
	enum range_result want;
	size_t		 n;
	uint64_t	 r[4][2];	/* off, len */
};

static const struct range_case range_cases[] = {
	{ "first bytes", "bytes=0-4", 100, RANGE_OK, 1, { { 0, 5 } } },
	{ "open end", "bytes=90-", 100, RANGE_OK, 1, { { 90, 10 } } },
	{ "suffix", "bytes=-10", 100, RANGE_OK, 1, { { 90, 10 } } },
	{ "suffix longer than file", "bytes=-500", 100, RANGE_OK, 1,
	    { { 0, 100 } } },
	{ "last past the end is clamped", "bytes=50-1000", 100, RANGE_OK, 1,
	    { { 50, 50 } } },
	{ "huge last position saturates", "bytes=1-99999999999999999999999",
	    100, RANGE_OK, 1, { { 1, 99 } } },
	{ "unit is case-insensitive", "Bytes=0-0", 100, RANGE_OK, 1,
	    { { 0, 1 } } },
	{ "OWS around commas", "bytes=0-1 , 5-6", 100, RANGE_OK, 2,
	    { { 0, 2 }, { 5, 2 } } },
	{ "two ranges keep their order", "bytes=50-59,0-9", 100, RANGE_OK, 2,
	    { { 50, 10 }, { 0, 10 } } },
	{ "overlap coalesces and sorts", "bytes=20-29,0-9,5-14", 100,
	    RANGE_OK, 2, { { 0, 15 }, { 20, 10 } } },
	{ "adjacent ranges coalesce", "bytes=0-9,10-19", 100, RANGE_OK, 1,
	    { { 0, 20 } } },
	{ "unsatisfiable spec dropped", "bytes=0-1,200-300", 100, RANGE_OK, 1,
	    { { 0, 2 } } },
	{ "first past the end", "bytes=100-", 100, RANGE_UNSATISFIABLE, 0,
	    { { 0 } } },
	{ "all unsatisfiable", "bytes=200-300,150-", 100, RANGE_UNSATISFIABLE,
	    0, { { 0 } } },
	{ "zero suffix", "bytes=-0", 100, RANGE_UNSATISFIABLE, 0, { { 0 } } },
	{ "empty file int-range", "bytes=0-0", 0, RANGE_UNSATISFIABLE, 0,
	    { { 0 } } },
	{ "empty file suffix is the whole (empty) file", "bytes=-5", 0,
	    RANGE_IGNORE, 0, { { 0 } } },
	{ "reversed is invalid", "bytes=5-1", 100, RANGE_IGNORE, 0, { { 0 } } },
	{ "other unit", "items=0-1", 100, RANGE_IGNORE, 0, { { 0 } } },
	{ "no equals", "bytes 0-1", 100, RANGE_IGNORE, 0, { { 0 } } },
	{ "space before equals", "bytes =0-1", 100, RANGE_IGNORE, 0,
	    { { 0 } } },
	{ "empty set", "bytes=", 100, RANGE_IGNORE, 0, { { 0 } } },
	{ "only commas", "bytes=,,", 100, RANGE_IGNORE, 0, { { 0 } } },
	{ "sign", "bytes=+1-2", 100, RANGE_IGNORE, 0, { { 0 } } },
	{ "garbage after", "bytes=1-2x", 100, RANGE_IGNORE, 0, { { 0 } } },
	{ "dash alone", "bytes=-", 100, RANGE_IGNORE, 0, { { 0 } } },
	{ "one bad spec spoils all", "bytes=0-1,x", 100, RANGE_IGNORE, 0,
	    { { 0 } } },
	{ "amplification: whole file twice", "bytes=0-,0-", 100, RANGE_IGNORE,
	    0, { { 0 } } },
	{ "amplification: overlaps add up", "bytes=0-60,40-99", 100,
	    RANGE_IGNORE, 0, { { 0 } } },
};

START_TEST(range_table)
{
	const struct range_case *c = &range_cases[_i];
	size_t len = strlen(c->value);
	char *g = tu_guarded(c->value, len);
	struct range_set rs;
	enum range_result rr;

	rr = file_parse_range(span_make(g, len), c->size, &rs);
	ck_assert_msg(rr == c->want, "%s: '%s' size %llu: got %d, want %d",
	    c->name, c->value, (unsigned long long)c->size, rr, c->want);
	if (rr == RANGE_OK) {
		ck_assert_msg(rs.n == c->n, "%s: %zu ranges, want %zu", c->name,
		    rs.n, c->n);
		for (size_t k = 0; k < c->n; k++)
			ck_assert_msg(rs.r[k].off == c->r[k][0] &&
			    rs.r[k].len == c->r[k][1],
			    "%s: range %zu is %llu+%llu, want %llu+%llu", c->name,
			    k, (unsigned long long)rs.r[k].off,
			    (unsigned long long)rs.r[k].len,
			    (unsigned long long)c->r[k][0],
			    (unsigned long long)c->r[k][1]);
	}
	tu_guard_free(g);
}
END_TEST

START_TEST(range_many_parts_fall_back_to_whole)
{
	char v[1024];
	size_t o = 0;
	struct range_set rs;

	/* 17 disjoint ranges: more parts than a response carries. */
	o += (size_t)snprintf(v, sizeof(v), "bytes=");
	for (int i = 0; i < RANGE_MAX_PARTS + 1; i++)
		o += (size_t)snprintf(v + o, sizeof(v) - o, "%s%d-%d",
		    i ? "," : "", i * 10, i * 10 + 1);
	ck_assert(file_parse_range(span_make(v, o), 1000, &rs) ==
	    RANGE_IGNORE);

	/* Exactly the limit is fine. */
	o = (size_t)snprintf(v, sizeof(v), "bytes=");
	for (int i = 0; i < RANGE_MAX_PARTS; i++)
		o += (size_t)snprintf(v + o, sizeof(v) - o, "%s%d-%d",
		    i ? "," : "", i * 10, i * 10 + 1);
	ck_assert(file_parse_range(span_make(v, o), 1000, &rs) == RANGE_OK);
	ck_assert_uint_eq(rs.n, RANGE_MAX_PARTS);
}
END_TEST

START_TEST(range_many_specs_are_ignored_even_if_they_coalesce)
{
	char v[2048];
	size_t o = (size_t)snprintf(v, sizeof(v), "bytes=");
	struct range_set rs;

	for (int i = 0; i < RANGE_MAX_SPECS + 1; i++)
		o += (size_t)snprintf(v + o, sizeof(v) - o, "%s0-0",
		    i ? "," : "");
	ck_assert(file_parse_range(span_make(v, o), 1000, &rs) ==
	    RANGE_IGNORE);
}
END_TEST

START_TEST(range_never_reads_past_the_value)
{
	/* Every prefix of a valid value, each at the end of a page. */
	static const char v[] = "bytes=0-1,20-30,-5";

	for (size_t n = 0; n <= sizeof(v) - 1; n++) {
		char *g = tu_guarded(v, n);
		struct range_set rs;

		(void)file_parse_range(span_make(g, n), 100, &rs);
		tu_guard_free(g);
	}
}
END_TEST

/* ---- conditional requests ---- */

static char *req_buf;
static struct http_request req;

/* Parses "GET / HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n". */
static const struct http_request *
parse_req(const char *headers)
{
	char head[2048];
	struct http_limits lim = { .max_head = 8192, .max_target = 4096 };
	int n = snprintf(head, sizeof(head),
	    "GET /f HTTP/1.1\r\nHost: x\r\n%s\r\n", headers);

	ck_assert_int_lt(n, (int)sizeof(head));
	req_buf = tu_guarded(head, (size_t)n);
	ck_assert_int_eq(http_parse_request(req_buf, (size_t)n, &lim, &req), n);
	return &req;
}

static void
fi_make(struct file_info *fi)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_ino = 0x1234;
	st.st_size = 1000;
	st.st_mtim.tv_sec = 784111777;	/* Sun, 06 Nov 1994 08:49:37 GMT */
	st.st_mtim.tv_nsec = 5;
	file_info_from_stat(&st, true, NULL, fi);
}

/*
 * Validators of a file last modified on Wed, 01 Jan 2025 00:00:00 GMT,
 * a whole second stamped on it later (as tar does): a strong date.
 */
static void
st_wed(struct file_info *fi)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mtim.tv_sec = 1735689600;
	st.st_ctim.tv_sec = 1735689600 + 3600;
	file_info_from_stat(&st, true, NULL, fi);
}

/* fi_make()'s file, with its mtime stamped as a whole second later. */
static void
fi_stamped(struct file_info *fi, long mtime_ns, time_t ctime_delta)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_ino = 0x1234;
	st.st_size = 1000;
	st.st_mtim.tv_sec = 784111777;
	st.st_mtim.tv_nsec = mtime_ns;
	st.st_ctim.tv_sec = 784111777 + ctime_delta;
	st.st_ctim.tv_nsec = 999;
	file_info_from_stat(&st, true, NULL, fi);
}

#define LM	"Sun, 06 Nov 1994 08:49:37 GMT"
#define BEFORE	"Sun, 06 Nov 1994 08:49:36 GMT"
#define AFTER	"Sun, 06 Nov 1994 08:49:38 GMT"

struct cond_case {
	const char	*name;
	const char	*headers;	/* "@" stands for our ETag */
	int		 want;
};

static const struct cond_case cond_cases[] = {
	{ "no conditions", "", 0 },
	{ "If-None-Match equal", "If-None-Match: @\r\n", 304 },
	{ "If-None-Match weak form matches", "If-None-Match: W/@\r\n", 304 },
	{ "If-None-Match in a list", "If-None-Match: \"a\", @\r\n", 304 },
	{ "If-None-Match over two lines",
	    "If-None-Match: \"a\"\r\nIf-None-Match: @\r\n", 304 },
	{ "If-None-Match other", "If-None-Match: \"other\"\r\n", 0 },
	{ "If-None-Match star", "If-None-Match: *\r\n", 304 },
	{ "If-None-Match tag with a comma inside",
	    "If-None-Match: \"a,b\", @\r\n", 304 },
	{ "If-None-Match malformed", "If-None-Match: junk\r\n", 0 },
	{ "If-Modified-Since equal", "If-Modified-Since: " LM "\r\n", 304 },
	{ "If-Modified-Since later", "If-Modified-Since: " AFTER "\r\n", 304 },
	{ "If-Modified-Since earlier", "If-Modified-Since: " BEFORE "\r\n", 0 },
	{ "If-Modified-Since invalid", "If-Modified-Since: yesterday\r\n", 0 },
	{ "If-Modified-Since twice is ignored", "If-Modified-Since: " LM
	    "\r\nIf-Modified-Since: " LM "\r\n", 0 },
	{ "If-None-Match wins over If-Modified-Since",
	    "If-None-Match: \"other\"\r\nIf-Modified-Since: " AFTER "\r\n", 0 },
	{ "If-Match equal", "If-Match: @\r\n", 0 },
	{ "If-Match star", "If-Match: *\r\n", 0 },
	{ "If-Match other", "If-Match: \"other\"\r\n", 412 },
	{ "If-Match weak never matches", "If-Match: W/@\r\n", 412 },
	{ "If-Unmodified-Since later", "If-Unmodified-Since: " AFTER "\r\n",
	    0 },
	{ "If-Unmodified-Since equal", "If-Unmodified-Since: " LM "\r\n", 0 },
	{ "If-Unmodified-Since earlier", "If-Unmodified-Since: " BEFORE "\r\n",
	    412 },
	{ "If-Unmodified-Since invalid is ignored",
	    "If-Unmodified-Since: soon\r\n", 0 },
	{ "If-Match wins over If-Unmodified-Since",
	    "If-Match: @\r\nIf-Unmodified-Since: " BEFORE "\r\n", 0 },
	{ "412 before 304",
	    "If-Match: \"other\"\r\nIf-None-Match: @\r\n", 412 },
	{ "If-Match passes, then If-None-Match 304",
	    "If-Match: @\r\nIf-None-Match: @\r\n", 304 },
};

/* Copies tmpl into out with each '@' replaced by fi's ETag. */
static void
subst_etag(const char *tmpl, const struct file_info *fi, char *out,
    size_t cap)
{
	size_t o = 0;

	for (const char *p = tmpl; *p != '\0'; p++) {
		const char *add = *p == '@' ? fi->etag : p;
		size_t n = *p == '@' ? fi->etag_len : 1;

		ck_assert_uint_lt(o + n, cap);
		memcpy(out + o, add, n);
		o += n;
	}
	out[o] = '\0';
}

START_TEST(cond_table)
{
	const struct cond_case *c = &cond_cases[_i];
	struct file_info fi;
	char headers[1024];
	int got;

	fi_make(&fi);
	subst_etag(c->headers, &fi, headers, sizeof(headers));
	got = file_preconditions(parse_req(headers), &fi);
	ck_assert_msg(got == c->want, "%s: got %d, want %d (%s)", c->name, got,
	    c->want, headers);
	tu_guard_free(req_buf);
}
END_TEST

START_TEST(if_range_cases)
{
	struct file_info fi;
	char v[128];

	fi_make(&fi);
	ck_assert(file_if_range(span_make(fi.etag, fi.etag_len), &fi));
	snprintf(v, sizeof(v), "W/%s", fi.etag);
	ck_assert(!file_if_range(span_make(v, strlen(v)), &fi));
	ck_assert(!file_if_range(SPAN_LIT("\"other\""), &fi));
	/*
	 * Review item 12: written in place (a fraction of a second in its
	 * mtime), the date may name two versions: the whole file is sent.
	 */
	ck_assert(!file_if_range(SPAN_LIT(LM), &fi));
	fi_stamped(&fi, 0, 0);		/* written within that second */
	ck_assert(!fi.date_strong);
	ck_assert(!file_if_range(SPAN_LIT(LM), &fi));
	fi_stamped(&fi, 0, 10);		/* stamped later: one version */
	ck_assert(fi.date_strong);
	ck_assert(file_if_range(SPAN_LIT(LM), &fi));
	ck_assert(file_info_clamp(&fi, 784111777 - 5));
	ck_assert(!fi.date_strong);	/* a date in the future is no proof */
	fi_stamped(&fi, 0, 10);
	ck_assert(!file_if_range(SPAN_LIT(AFTER), &fi));
	ck_assert(!file_if_range(SPAN_LIT(BEFORE), &fi));
	ck_assert(!file_if_range(SPAN_LIT("junk"), &fi));
	ck_assert(!file_if_range(SPAN_LIT(""), &fi));
	/* A date on a Wednesday is still a date, not a weak tag. */
	st_wed(&fi);
	ck_assert(file_if_range(SPAN_LIT("Wed, 01 Jan 2025 00:00:00 GMT"), &fi));
	fi_make(&fi);
	snprintf(v, sizeof(v), "%s, \"x\"", fi.etag);
	ck_assert(!file_if_range(span_make(v, strlen(v)), &fi));
}
END_TEST

START_TEST(etag_variants_and_inode_switch)
{
	struct file_info a, b, c;
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_ino = 77;
	st.st_size = 10;
	st.st_mtim.tv_sec = 1000;
	st.st_mtim.tv_nsec = 1;
	file_info_from_stat(&st, true, NULL, &a);
	file_info_from_stat(&st, true, "br", &b);
	ck_assert_str_eq(a.etag, "\"4d-a-e8d4a51001\"");
	ck_assert_str_eq(b.etag, "\"4d-a-e8d4a51001-br\"");
	ck_assert_uint_eq(b.etag_len, strlen(b.etag));
	file_info_from_stat(&st, false, NULL, &c);
	ck_assert_str_eq(c.etag, "\"a-e8d4a51001\"");
	/* Another inode, same metadata: equal only without the inode. */
	st.st_ino = 78;
	file_info_from_stat(&st, false, NULL, &a);
	ck_assert_str_eq(a.etag, c.etag);
	ck_assert_str_eq(c.last_modified, "Thu, 01 Jan 1970 00:16:40 GMT");
	/* The largest values still fit. */
	st.st_ino = UINT64_MAX;
	st.st_size = INT64_MAX;
	st.st_mtim.tv_sec = INT32_MAX;
	st.st_mtim.tv_nsec = 999999999;
	file_info_from_stat(&st, true, "gz", &a);
	ck_assert_uint_gt(a.etag_len, 0);
	ck_assert_uint_eq(a.etag_len, strlen(a.etag));
}
END_TEST

START_TEST(future_mtime_is_clamped_to_now)
{
	struct file_info fi;
	char tag[FILE_ETAG_MAX];

	fi_stamped(&fi, 5, 10);		/* 1994, changed 10 s later */
	memcpy(tag, fi.etag, sizeof(tag));
	ck_assert(!file_info_clamp(&fi, 2000000000));
	ck_assert_int_eq(fi.mtime, 784111777);
	/* "now" before the mtime and the ctime: now. */
	ck_assert(file_info_clamp(&fi, 700000000));
	ck_assert_int_eq(fi.mtime, 700000000);
	ck_assert_str_eq(fi.last_modified, "Sat, 07 Mar 1992 20:26:40 GMT");
	ck_assert_str_eq(fi.etag, tag);
}
END_TEST

/*
 * A future mtime stamped on a file 100 s ago is sent as that change, the
 * same at every request: If-Modified-Since with it still matches a second
 * later (at a second's boundary, "now" would have moved on).
 */
START_TEST(future_mtime_is_sent_as_the_last_change)
{
	struct file_info fi, later;

	fi_stamped(&fi, 5, -100);
	later = fi;
	ck_assert(file_info_clamp(&fi, 784111777 - 50));
	ck_assert(file_info_clamp(&later, 784111777 - 49));
	ck_assert_int_eq(fi.mtime, 784111777 - 100);
	ck_assert_int_eq(later.mtime, fi.mtime);
	ck_assert_str_eq(later.last_modified, fi.last_modified);
	ck_assert(!fi.date_strong);
}
END_TEST

static Suite *
file_suite(void)
{
	Suite *s = suite_create("file");
	TCase *tc = tcase_create("range");

	tcase_add_loop_test(tc, range_table, 0,
	    sizeof(range_cases) / sizeof(range_cases[0]));
	tcase_add_test(tc, range_many_parts_fall_back_to_whole);
	tcase_add_test(tc, range_many_specs_are_ignored_even_if_they_coalesce);
	tcase_add_test(tc, range_never_reads_past_the_value);
	suite_add_tcase(s, tc);
	tc = tcase_create("conditional");
	tcase_add_loop_test(tc, cond_table, 0,
	    sizeof(cond_cases) / sizeof(cond_cases[0]));
	tcase_add_test(tc, if_range_cases);
	tcase_add_test(tc, etag_variants_and_inode_switch);
	tcase_add_test(tc, future_mtime_is_clamped_to_now);
	tcase_add_test(tc, future_mtime_is_sent_as_the_last_change);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(file_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
