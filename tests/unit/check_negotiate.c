/*
 * check_negotiate.c - Accept-Encoding, Accept-Language and Accept.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"
#include "negotiate.h"
#include "testutil.h"

static char *req_buf;
static struct http_request req;

/* A request carrying one header line "name: value" (none if value NULL). */
static const struct http_request *
req_with(const char *name, const char *value)
{
	char head[2048];
	struct http_limits lim = { .max_head = 8192, .max_target = 4096 };
	int n;

	if (value != NULL)
		n = snprintf(head, sizeof(head),
		    "GET / HTTP/1.1\r\nHost: x\r\n%s: %s\r\n\r\n", name, value);
	else
		n = snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_lt(n, (int)sizeof(head));
	req_buf = tu_guarded(head, (size_t)n);
	ck_assert_int_eq(http_parse_request(req_buf, (size_t)n, &lim, &req), n);
	return &req;
}

/* ---- Accept-Encoding ---- */

struct enc_case {
	const char	*value;		/* NULL: no field */
	const char	*want;		/* codings best first: "b" br, "g" gzip */
};

static const struct enc_case enc_cases[] = {
	{ NULL, "" },
	{ "", "" },
	{ "gzip", "g" },
	{ "br", "b" },
	{ "gzip, deflate, br", "bg" },
	{ "gzip, deflate, br, zstd", "bg" },
	{ "br;q=0.5, gzip", "gb" },
	{ "gzip;q=0.8, br;q=0.8", "bg" },
	{ "gzip;q=0, br", "b" },
	{ "br;q=0, gzip;q=1.0", "g" },
	{ "GZIP", "g" },
	{ "x-gzip", "g" },
	{ "*", "bg" },
	{ "*;q=0.5, gzip;q=0", "b" },
	{ "*;q=0", "" },
	{ "identity", "" },
	{ "identity, gzip;q=0.5", "" },
	{ "identity;q=0.5, gzip", "g" },
	{ "identity;q=0, gzip", "g" },
	{ "deflate", "" },
	{ "gzip;q=2", "" },		/* a bad q drops the element */
	{ "gzip;q=0.5x, br", "b" },
	{ "gzip ; q=0.5 , br ; q=0.6", "bg" },
	{ "gzip;level=1;q=0.9, br;q=0.1", "gb" },
	{ ",,, gzip ,,", "g" },
	{ "gzip;Q=0.001", "g" },
	{ "gzip;q=1.000", "g" },
	{ "gzip;q=1.001", "" },
	{ "gzip;q=.5", "" },
};

START_TEST(encoding_table)
{
	const struct enc_case *c = &enc_cases[_i];
	enum coding out[CODING_MAX];
	char got[CODING_MAX + 1];
	size_t n = negotiate_encodings(req_with("Accept-Encoding", c->value),
	    out);

	for (size_t i = 0; i < n; i++)
		got[i] = out[i] == CODING_BR ? 'b' : out[i] == CODING_GZIP ?
		    'g' : '?';
	got[n] = '\0';
	ck_assert_msg(strcmp(got, c->want) == 0,
	    "Accept-Encoding '%s': got '%s', want '%s'",
	    c->value != NULL ? c->value : "(none)", got, c->want);
	tu_guard_free(req_buf);
}
END_TEST

START_TEST(encoding_over_two_lines)
{
	static const char head[] = "GET / HTTP/1.1\r\nHost: x\r\n"
	    "Accept-Encoding: gzip;q=0.5\r\nAccept-Encoding: br\r\n\r\n";
	struct http_limits lim = { .max_head = 8192, .max_target = 4096 };
	enum coding out[CODING_MAX];

	ck_assert_int_gt(http_parse_request(head, sizeof(head) - 1, &lim, &req),
	    0);
	ck_assert_uint_eq(negotiate_encodings(&req, out), 2);
	ck_assert(out[0] == CODING_BR && out[1] == CODING_GZIP);
}
END_TEST

/* ---- Accept-Language ---- */

struct lang_case {
	const char	*value;
	enum ui_lang	 want;
};

static const struct lang_case lang_cases[] = {
	{ NULL, LANG_EN },
	{ "", LANG_EN },
	{ "zh-CN,zh;q=0.9,en;q=0.8", LANG_ZH },
	{ "en-US,en;q=0.9,zh-CN;q=0.8", LANG_EN },
	{ "zh", LANG_ZH },
	{ "ZH-hans", LANG_ZH },
	{ "zh-TW", LANG_ZH },
	{ "zhx", LANG_EN },
	{ "fr, zh;q=0.5", LANG_ZH },
	{ "fr", LANG_EN },
	{ "zh;q=0.5, *", LANG_EN },
	{ "en;q=0.5, *", LANG_ZH },
	{ "*", LANG_EN },
	{ "zh, en", LANG_ZH },
	{ "en, zh", LANG_EN },
	{ "zh;q=0, en;q=0.1", LANG_EN },
	{ "zh;q=0", LANG_EN },
	{ "de;q=0.9, zh-CN;q=0.8, en;q=0.7", LANG_ZH },
	{ "zh;q=bad, en;q=0.1", LANG_EN },
};

START_TEST(language_table)
{
	const struct lang_case *c = &lang_cases[_i];
	enum ui_lang got = negotiate_language(req_with("Accept-Language",
	    c->value));

	ck_assert_msg(got == c->want, "Accept-Language '%s': got %d, want %d",
	    c->value != NULL ? c->value : "(none)", got, c->want);
	tu_guard_free(req_buf);
}
END_TEST

/* ---- Accept (JSON listings) ---- */

struct json_case {
	const char	*value;
	bool		 want;
};

static const struct json_case json_cases[] = {
	{ NULL, false },
	{ "*/*", false },
	{ "application/json", true },
	{ "Application/JSON", true },
	{ "application/json, text/html", false },
	{ "text/html,application/xhtml+xml,application/xml;q=0.9,"
	    "image/avif,image/webp,*/*;q=0.8", false },
	{ "application/json, text/html;q=0.9", true },
	{ "application/json;q=0.5, */*;q=0.1", true },
	{ "application/*", true },
	{ "application/*, text/*", false },
	{ "application/json;q=0", false },
	{ "text/plain", false },
	{ "application/json;charset=utf-8", true },
	{ "json", false },
};

START_TEST(json_table)
{
	const struct json_case *c = &json_cases[_i];
	bool got = negotiate_wants_json(req_with("Accept", c->value));

	ck_assert_msg(got == c->want, "Accept '%s': got %d, want %d",
	    c->value != NULL ? c->value : "(none)", got, c->want);
	tu_guard_free(req_buf);
}
END_TEST

START_TEST(next_splits_values_and_q)
{
	const char v[] = "a;q=0.5;x=y , b ; p=1, ;q=1, c;q=0.25";
	struct span rest = span_make(v, sizeof(v) - 1), item;
	unsigned q;

	ck_assert(negotiate_next(&rest, &item, &q));
	ck_assert(span_eq(item, SPAN_LIT("a")));
	ck_assert_uint_eq(q, 500);
	ck_assert(negotiate_next(&rest, &item, &q));
	ck_assert(span_eq(item, SPAN_LIT("b")));
	ck_assert_uint_eq(q, 1000);
	/* ";q=1" has no value and is skipped. */
	ck_assert(negotiate_next(&rest, &item, &q));
	ck_assert(span_eq(item, SPAN_LIT("c")));
	ck_assert_uint_eq(q, 250);
	ck_assert(!negotiate_next(&rest, &item, &q));
}
END_TEST

static Suite *
negotiate_suite(void)
{
	Suite *s = suite_create("negotiate");
	TCase *tc = tcase_create("accept");

	tcase_add_loop_test(tc, encoding_table, 0,
	    sizeof(enc_cases) / sizeof(enc_cases[0]));
	tcase_add_test(tc, encoding_over_two_lines);
	tcase_add_loop_test(tc, language_table, 0,
	    sizeof(lang_cases) / sizeof(lang_cases[0]));
	tcase_add_loop_test(tc, json_table, 0,
	    sizeof(json_cases) / sizeof(json_cases[0]));
	tcase_add_test(tc, next_splits_values_and_q);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(negotiate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
