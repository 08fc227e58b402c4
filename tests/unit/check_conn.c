/*
 * check_conn.c - unit tests for conn.h: parking a response keeps the
 * worker's bytes as a copy and everything else by reference, the memory
 * clients make the daemon hold is counted and bounded, and an idle
 * connection stays small.
 */
#include "conn.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct conn *
new_conn(void)
{
	union conn_addr peer;
	struct conn *c;

	memset(&peer, 0, sizeof(peer));
	c = conn_new(-1, PROTO_HTTP, &peer, 0);
	ck_assert_ptr_nonnull(c);
	return c;
}

START_TEST(park_copies_the_scratch_and_references_the_rest)
{
	char scratch[4096], body[8192];
	struct conn *c = new_conn();
	struct conn_resp *r = conn_resp_get(c);
	struct out_seg segs[3] = {
		{ .mem = scratch, .len = 300 },		/* headers */
		{ .mem = body, .len = sizeof(body) },	/* a cached body */
		{ .mem = NULL, .off = 100, .len = 5000 },	/* a file range */
	};
	size_t before = conn_held_total();

	memset(scratch, 'h', sizeof(scratch));
	memset(body, 'b', sizeof(body));
	/* 120 bytes of the headers already went out. */
	ck_assert_int_eq(conn_park_output(r, segs, 3, 0, 120, scratch,
	    sizeof(scratch), 1 << 20), 0);
	ck_assert_uint_eq(r->out.nsegs, 3);
	ck_assert_uint_eq(r->out.memlen, 180);
	ck_assert_ptr_ne(r->out.segs[0].mem, scratch + 120);
	ck_assert_uint_eq(r->out.segs[0].len, 180);
	ck_assert(memcmp(r->out.segs[0].mem, scratch + 120, 180) == 0);
	/* The body is the caller's memory, not a copy. */
	ck_assert_ptr_eq(r->out.segs[1].mem, body);
	ck_assert_uint_eq(r->out.segs[2].off, 100);
	ck_assert_uint_eq(conn_held_total() - before, 180);
	conn_clear_output(c);
	ck_assert_uint_eq(conn_held_total(), before);
	conn_free(c);
}
END_TEST

START_TEST(park_from_the_middle_of_a_referenced_body)
{
	char scratch[64], body[1000];
	struct conn *c = new_conn();
	struct conn_resp *r = conn_resp_get(c);
	struct out_seg segs[2] = {
		{ .mem = scratch, .len = 10 },
		{ .mem = body, .len = sizeof(body) },
	};

	ck_assert_int_eq(conn_park_output(r, segs, 2, 1, 400, scratch,
	    sizeof(scratch), 1 << 20), 0);
	ck_assert_uint_eq(r->out.nsegs, 1);
	ck_assert_ptr_eq(r->out.segs[0].mem, body + 400);
	ck_assert_uint_eq(r->out.segs[0].len, 600);
	ck_assert_uint_eq(r->out.memlen, 0);
	conn_free(c);
}
END_TEST

START_TEST(a_copy_past_the_limit_is_refused_but_headers_never)
{
	static char scratch[16384];
	struct conn *c = new_conn(), *d = new_conn();
	struct out_seg big = { .mem = scratch, .len = 12000 };
	struct out_seg head = { .mem = scratch, .len = CONN_PARK_FREE };
	size_t before = conn_held_total();

	ck_assert_int_eq(conn_park_output(conn_resp_get(c), &big, 1, 0, 0,
	    scratch, sizeof(scratch), before + 10000), -ENOBUFS);
	ck_assert_uint_eq(conn_held_total(), before);
	ck_assert_int_eq(conn_park_output(conn_resp_get(c), &big, 1, 0, 0,
	    scratch, sizeof(scratch), before + 12000), 0);
	/* The limit is reached: a header block still parks. */
	ck_assert_int_eq(conn_park_output(conn_resp_get(d), &head, 1, 0, 0,
	    scratch, sizeof(scratch), before + 12000), 0);
	ck_assert_uint_eq(conn_held_total(), before + 12000 + CONN_PARK_FREE);
	conn_free(c);
	conn_free(d);
	ck_assert_uint_eq(conn_held_total(), before);
}
END_TEST

/* Ten thousand idle keep-alive clients: issue 16 wants 300 bytes each. */
START_TEST(an_idle_connection_is_small)
{
	ck_assert_uint_le(sizeof(struct conn), 144);
}
END_TEST

START_TEST(hold_counts_up_to_the_limit)
{
	struct conn *c = new_conn();
	struct conn_resp *r = conn_resp_get(c);
	size_t before = conn_held_total();

	ck_assert(conn_hold(r, 1000, before + 1500));
	ck_assert(!conn_hold(r, 600, before + 1500));
	ck_assert(conn_hold(r, 500, before + 1500));
	ck_assert_uint_eq(r->held, 1500);
	ck_assert(!conn_hold(r, SIZE_MAX, SIZE_MAX));
	conn_clear_output(c);
	ck_assert_uint_eq(conn_held_total(), before);
	conn_free(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("park");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, park_copies_the_scratch_and_references_the_rest);
	tcase_add_test(tc, park_from_the_middle_of_a_referenced_body);
	tcase_add_test(tc, a_copy_past_the_limit_is_refused_but_headers_never);
	tcase_add_test(tc, hold_counts_up_to_the_limit);
	tcase_add_test(tc, an_idle_connection_is_small);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
