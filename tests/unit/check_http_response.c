/*
 * check_http_response.c - growable header buffers, Content-Disposition
 * for downloads, HTTP dates.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "http_response.h"
#include "testutil.h"

/* The Content-Disposition value for name[0..len), NUL-terminated. */
static const char *
disposition(struct hbuf *hb, const char *name, size_t len)
{
	char *g = tu_guarded(name, len);

	hb_init_heap(hb);
	hb_content_disposition(hb, g, len);
	hb_add(hb, "", 1);
	tu_guard_free(g);
	ck_assert(!hb->overflow);
	return hb->p;
}

START_TEST(disposition_plain_ascii)
{
	struct hbuf hb;

	ck_assert_str_eq(disposition(&hb, "report.pdf", 10),
	    "attachment; filename=\"report.pdf\"; "
	    "filename*=UTF-8''report.pdf");
	hb_release(&hb);
}
END_TEST

START_TEST(disposition_utf8_name)
{
	static const char name[] = "中文 文件.pdf";
	struct hbuf hb;

	/* One '_' per character in the fallback, exact bytes in filename*. */
	ck_assert_str_eq(disposition(&hb, name, sizeof(name) - 1),
	    "attachment; filename=\"__ __.pdf\"; filename*=UTF-8''"
	    "%E4%B8%AD%E6%96%87%20%E6%96%87%E4%BB%B6.pdf");
	hb_release(&hb);
}
END_TEST

START_TEST(disposition_hostile_name)
{
	static const char name[] = "a\"b\\c%d;e\r\nf\xff g&#.txt";
	struct hbuf hb;

	ck_assert_str_eq(disposition(&hb, name, sizeof(name) - 1),
	    "attachment; filename=\"a_b_c_d;e__f_ g&#.txt\"; filename*=UTF-8''"
	    "a%22b%5Cc%25d%3Be%0D%0Af%FF%20g&#.txt");
	hb_release(&hb);
}
END_TEST

START_TEST(disposition_fixed_buffer_overflows_cleanly)
{
	char buf[40];
	struct hbuf hb;

	hb_init(&hb, buf, sizeof(buf));
	hb_content_disposition(&hb, "a-rather-long-file-name.txt", 27);
	ck_assert(hb.overflow);
	ck_assert_uint_le(hb.len, sizeof(buf));
}
END_TEST

START_TEST(growable_buffer_grows)
{
	struct hbuf hb;

	hb_init_heap(&hb);
	for (int i = 0; i < 10000; i++)
		hb_str(&hb, "0123456789");
	hb_fmt(&hb, "%s-%d", "end", 42);
	ck_assert(!hb.overflow);
	ck_assert_uint_eq(hb.len, 100000 + 6);
	ck_assert(memcmp(hb.p + 100000, "end-42", 6) == 0);
	hb_release(&hb);
	ck_assert_ptr_null(hb.p);
}
END_TEST

START_TEST(fixed_buffer_fmt_overflow)
{
	char buf[8];
	struct hbuf hb;

	hb_init(&hb, buf, sizeof(buf));
	hb_fmt(&hb, "%d", 1234567);
	ck_assert(!hb.overflow);
	hb_fmt(&hb, "%d", 1);		/* the NUL would not fit */
	ck_assert(hb.overflow);
	hb_release(&hb);		/* a fixed buffer is left alone */
}
END_TEST

START_TEST(dates_round_trip)
{
	char d[HTTP_DATE_LEN + 1];
	time_t t;

	http_date(784111777, d);
	ck_assert_str_eq(d, "Sun, 06 Nov 1994 08:49:37 GMT");
	ck_assert(http_parse_date(span_make(d, HTTP_DATE_LEN), &t));
	ck_assert_int_eq(t, 784111777);
	ck_assert(http_parse_date(SPAN_LIT("Sunday, 06-Nov-94 08:49:37 GMT"),
	    &t));
	ck_assert_int_eq(t, 784111777);
	ck_assert(http_parse_date(SPAN_LIT("Sun Nov  6 08:49:37 1994"), &t));
	ck_assert_int_eq(t, 784111777);
	ck_assert(!http_parse_date(SPAN_LIT("Sun, 06 Nov 1994 08:49:37 UTC"),
	    &t));
}
END_TEST

START_TEST(dates_edge_cases)
{
	time_t t;

	/* RFC 850 years: 69 is 2069, 70 is 1970 (RFC 9110 §5.6.7). */
	ck_assert(http_parse_date(SPAN_LIT("Monday, 01-Jan-69 00:00:00 GMT"),
	    &t));
	ck_assert_int_eq(t, 3124224000);
	ck_assert(http_parse_date(SPAN_LIT("Thursday, 01-Jan-70 00:00:00 GMT"),
	    &t));
	ck_assert_int_eq(t, 0);
	/* asctime with a two-digit day. */
	ck_assert(http_parse_date(SPAN_LIT("Wed Nov 16 08:49:37 1994"), &t));
	ck_assert_int_eq(t, 784111777 + 10 * 86400);
	ck_assert(!http_parse_date(SPAN_LIT("Sun Nov 6 08:49:37 1994"), &t));
	ck_assert(!http_parse_date(SPAN_LIT("Sun, 06 Nov 1994 08:49:37 GMTX"),
	    &t));
	ck_assert(!http_parse_date(SPAN_LIT("Sun, 32 Nov 1994 08:49:37 GMT"),
	    &t));
	ck_assert(!http_parse_date(SPAN_LIT(""), &t));
	ck_assert(!http_parse_date(SPAN_LIT("Sun"), &t));
}
END_TEST

static Suite *
http_response_suite(void)
{
	Suite *s = suite_create("http_response");
	TCase *tc = tcase_create("headers");

	tcase_add_test(tc, disposition_plain_ascii);
	tcase_add_test(tc, disposition_utf8_name);
	tcase_add_test(tc, disposition_hostile_name);
	tcase_add_test(tc, disposition_fixed_buffer_overflows_cleanly);
	tcase_add_test(tc, growable_buffer_grows);
	tcase_add_test(tc, fixed_buffer_fmt_overflow);
	tcase_add_test(tc, dates_round_trip);
	tcase_add_test(tc, dates_edge_cases);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(http_response_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
