/*
 * check_dav_if.c - unit tests for the WebDAV If, Timeout, Depth,
 * Overwrite and Lock-Token headers.
 *
 * Every input goes through tu_guarded(), which places it right before a
 * PROT_NONE page, so a parser that reads one byte past its span crashes
 * the test even without ASan.  A parse result is checked by rendering it
 * back in a canonical form (render()) and comparing that text.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dav_if.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* A literal input and its length, embedded NUL bytes included. */
#define IN(s)		.in = (s), .len = sizeof(s) - 1

/* Room for a rendered If header. */
#define RENDER_CAP	8192

/*
 * Helpers
 */

/* Appends s[0..n) to out[0..RENDER_CAP) at *o, NUL-terminated. */
static void
put(char *out, size_t *o, const char *s, size_t n)
{
	ck_assert_msg(*o + n < RENDER_CAP, "rendering too long");
	memcpy(out + *o, s, n);
	*o += n;
	out[*o] = '\0';
}

/*
 * Renders h canonically: each list as "<tag>" (when tagged) and "(" its
 * conditions ")", lists separated by one SP, conditions by one SP, each
 * "Not " when negated, then "<token>" or "[etag]".
 */
static void
render(const struct dav_if *h, char *out)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < h->nlists; i++) {
		const struct dav_if_list *l = &h->lists[i];

		if (i > 0)
			put(out, &o, " ", 1);
		if (l->tag.len > 0) {
			put(out, &o, "<", 1);
			put(out, &o, l->tag.p, l->tag.len);
			put(out, &o, ">", 1);
		}
		put(out, &o, "(", 1);
		for (size_t j = l->first; j < l->first + l->n; j++) {
			const struct dav_if_cond *k = &h->conds[j];

			if (j > l->first)
				put(out, &o, " ", 1);
			if (k->not)
				put(out, &o, "Not ", 4);
			put(out, &o, k->is_etag ? "[" : "<", 1);
			put(out, &o, k->v.p, k->v.len);
			put(out, &o, k->is_etag ? "]" : ">", 1);
		}
		put(out, &o, ")", 1);
	}
}

/* Checks that every span of h lies inside g[0..len) and lists are sane. */
static void
check_spans(const struct dav_if *h, const char *g, size_t len)
{
	size_t next = 0;

	ck_assert_uint_le(h->nconds, DAV_IF_MAX_CONDS);
	ck_assert_uint_le(h->nlists, DAV_IF_MAX_LISTS);
	for (size_t i = 0; i < h->nconds; i++) {
		struct span v = h->conds[i].v;

		ck_assert_uint_gt(v.len, 0);
		ck_assert(v.p >= g && v.p + v.len <= g + len);
	}
	for (size_t i = 0; i < h->nlists; i++) {
		const struct dav_if_list *l = &h->lists[i];

		/* Lists are consecutive, non-empty, and cover every cond. */
		ck_assert_uint_eq(l->first, next);
		ck_assert_uint_gt(l->n, 0);
		next += l->n;
		ck_assert(l->tag.len == 0 ||
		    (l->tag.p >= g && l->tag.p + l->tag.len <= g + len));
		ck_assert(h->tagged == (l->tag.len > 0));
	}
	ck_assert_uint_eq(next, h->nconds);
}

/* Large enough to keep off the stack of a forked test. */
static struct dav_if hdr;

/* Parses in[0..len) from a guarded copy into hdr; returns its result. */
static int
parse_guarded(const char *in, size_t len, char *rendered)
{
	char *g = tu_guarded(in, len);
	int rc;

	memset(&hdr, 0xa5, sizeof(hdr));
	rc = dav_if_parse(g, len, &hdr);
	if (rc == 0) {
		check_spans(&hdr, g, len);
		render(&hdr, rendered);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_uint_eq(hdr.nconds, 0);
		ck_assert_uint_eq(hdr.nlists, 0);
		rendered[0] = '\0';
	}
	tu_guard_free(g);
	return rc;
}

/*
 * If headers that parse
 */

struct if_good_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*want;		/* render() of the result */
	bool		 tagged;
};

static const struct if_good_case if_good_cases[] = {
	/* litmus "locks" and "http" suites. */
	{ "token_and_etag", IN("(<opaquelocktoken:x> [\"etag\"])"),
	    "(<opaquelocktoken:x> [\"etag\"])", false },
	{ "not_no_lock", IN("(Not <DAV:no-lock>)"), "(Not <DAV:no-lock>)",
	    false },
	{ "tagged_one_list", IN("<http://h/p> (<t>)"), "<http://h/p>(<t>)",
	    true },
	{ "two_lists_second_negated",
	    IN("(<t>) (Not <DAV:no-lock> [\"e\"])"),
	    "(<t>) (Not <DAV:no-lock> [\"e\"])", false },
	{ "urn_uuid_and_weak_etag",
	    IN("(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> "
	    "[W/\"x\"])"),
	    "(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> [W/\"x\"])",
	    false },
	/* RFC 4918 §10.4.6 and §10.4.7, spaces in the entity-tags included. */
	{ "rfc4918_10_4_6",
	    IN("(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> "
	    "[\"I am an ETag\"]) ([\"I am another ETag\"])"),
	    "(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> "
	    "[\"I am an ETag\"]) ([\"I am another ETag\"])", false },
	{ "rfc4918_10_4_7",
	    IN("(Not <urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> "
	    "<urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092>)"),
	    "(Not <urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> "
	    "<urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092>)", false },
	{ "rfc4918_10_4_8",
	    IN("(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>) "
	    "(Not <DAV:no-lock>)"),
	    "(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>) "
	    "(Not <DAV:no-lock>)", false },
	{ "tag_applies_to_every_list_after_it",
	    IN("<http://h/a> (<t1>) (Not <t2>) </b> ([\"e\"])"),
	    "<http://h/a>(<t1>) <http://h/a>(Not <t2>) </b>([\"e\"])", true },
	{ "absolute_path_tag", IN("</dir/file.txt> (<t>)"),
	    "</dir/file.txt>(<t>)", true },
	{ "not_in_any_case", IN("(NOT <a:b>) (not <c:d>) (nOt [\"e\"])"),
	    "(Not <a:b>) (Not <c:d>) (Not [\"e\"])", false },
	{ "not_without_space", IN("(Not<a:b>)"), "(Not <a:b>)", false },
	{ "no_lws_at_all", IN("(<a:b>[\"e\"])(<c:d>)"),
	    "(<a:b> [\"e\"]) (<c:d>)", false },
	{ "lws_everywhere", IN(" \t( \t<a:b> \t[ \"e\" ]\t)\t "),
	    "(<a:b> [\"e\"])", false },
	{ "lws_around_tag", IN("  <http://h/> \t (<t>)  "),
	    "<http://h/>(<t>)", true },
	{ "bracket_inside_etag", IN("([\"a]b\"])"), "([\"a]b\"])", false },
	{ "empty_etag", IN("([\"\"])"), "([\"\"])", false },
	{ "empty_weak_etag", IN("([W/\"\"])"), "([W/\"\"])", false },
	{ "backslash_is_a_byte", IN("([\"a\\\"])"), "([\"a\\\"])", false },
	{ "utf8_in_tag", IN("</caf\xc3\xa9> (<t>)"), "</caf\xc3\xa9>(<t>)",
	    true },
	{ "many_conditions_one_list",
	    IN("(<a:1> Not <a:2> [\"3\"] Not [W/\"4\"] <a:5>)"),
	    "(<a:1> Not <a:2> [\"3\"] Not [W/\"4\"] <a:5>)", false },
};

START_TEST(if_parse_accepts_grammar)
{
	const struct if_good_case *c = &if_good_cases[_i];
	static char got[RENDER_CAP];
	int rc = parse_guarded(c->in, c->len, got);

	ck_assert_msg(rc == 0, "%s: rejected", c->name);
	ck_assert_msg(strcmp(got, c->want) == 0, "%s: got '%s', want '%s'",
	    c->name, got, c->want);
	ck_assert_msg(hdr.tagged == c->tagged, "%s: tagged", c->name);
}
END_TEST

/* Every cut-off prefix parses or fails without reading past its end. */
START_TEST(if_parse_prefixes_stay_in_bounds)
{
	const struct if_good_case *c = &if_good_cases[_i];
	static char got[RENDER_CAP];

	for (size_t n = 0; n <= c->len; n++)
		(void)parse_guarded(c->in, n, got);
	/* The whole header parses; cut before its last ')' it must not. */
	ck_assert_int_eq(parse_guarded(c->in, c->len, got), 0);
	for (size_t n = c->len; n-- > 0;)
		if (c->in[n] == ')') {
			ck_assert_msg(parse_guarded(c->in, n, got) == -1,
			    "%s: prefix of %zu accepted", c->name, n);
			break;
		}
}
END_TEST

/*
 * If headers that do not parse
 */

struct if_bad_case {
	const char	*name;
	const char	*in;
	size_t		 len;
};

static const struct if_bad_case if_bad_cases[] = {
	{ "empty", IN("") },
	{ "only_lws", IN(" \t ") },
	{ "empty_list", IN("()") },
	{ "empty_list_with_lws", IN("( \t)") },
	{ "empty_list_after_good_one", IN("(<a:b>) ()") },
	{ "unterminated_list", IN("(<a:b>") },
	{ "unterminated_token", IN("(<a:b") },
	{ "unterminated_etag", IN("([\"e\"") },
	{ "unterminated_quote", IN("([\"e])") },
	{ "unterminated_tag", IN("<http://h/") },
	{ "empty_token", IN("(<>)") },
	{ "empty_tag", IN("<> (<t>)") },
	{ "space_in_token", IN("(<a b>)") },
	{ "angle_in_token", IN("(<a<b>)") },
	{ "nested_angles", IN("(<<a:b>>)") },
	{ "nul_in_token", IN("(<a:\0b>)") },
	{ "control_in_token", IN("(<a:\x01>)") },
	{ "del_in_token", IN("(<a:\x7f>)") },
	{ "nul_between", IN("(<a:b>\0)") },
	{ "crlf_after", IN("(<a:b>)\r\n") },
	{ "cr_between_lists", IN("(<a:b>)\r(<c:d>)") },
	{ "unquoted_etag", IN("([e])") },
	{ "weak_without_quotes", IN("([W/e])") },
	{ "lowercase_weak", IN("([w/\"e\"])") },
	{ "space_inside_weak_marker", IN("([W/ \"e\"])") },
	{ "etag_text_after_quote", IN("([\"e\"x])") },
	{ "two_etags_in_brackets", IN("([\"e\" \"f\"])") },
	{ "empty_brackets", IN("([])") },
	{ "control_in_etag", IN("([\"e\x01\"])") },
	{ "del_in_etag", IN("([\"e\x7f\"])") },
	{ "bare_not", IN("(Not)") },
	{ "not_not", IN("(Not Not <a:b>)") },
	{ "not_glued_to_word", IN("(Nothing)") },
	{ "other_keyword", IN("(Nope <a:b>)") },
	{ "bare_word", IN("(a:b)") },
	{ "bare_token_outside_list", IN("<a:b>") },
	{ "nested_list", IN("((<a:b>))") },
	{ "closing_paren_first", IN(")") },
	{ "garbage", IN("hello world") },
	{ "trailing_garbage", IN("(<a:b>)x") },
	{ "comma_between_lists", IN("(<a:b>),(<c:d>)") },
	{ "tag_without_list", IN("<http://h/p>") },
	{ "two_tags_in_a_row", IN("<http://h/a> <http://h/b> (<t>)") },
	{ "trailing_tag", IN("<http://h/a> (<t>) <http://h/b>") },
	{ "untagged_then_tagged", IN("(<a:b>) <http://h/> (<t>)") },
	{ "tagged_then_tag_missing", IN("<http://h/> (<t>) <> (<u>)") },
	{ "etag_outside_list", IN("[\"e\"]") },
};

START_TEST(if_parse_rejects_malformed)
{
	const struct if_bad_case *c = &if_bad_cases[_i];
	static char got[RENDER_CAP];

	ck_assert_msg(parse_guarded(c->in, c->len, got) == -1,
	    "%s: accepted as '%s'", c->name, got);
}
END_TEST

/* Builds "(<a:0>) (<a:1>) ..." with nlists lists of per conditions each. */
static size_t
build_lists(char *buf, size_t cap, size_t nlists, size_t per)
{
	size_t o = 0;

	for (size_t i = 0; i < nlists; i++) {
		int n = snprintf(buf + o, cap - o, "%s(", i > 0 ? " " : "");

		ck_assert(n > 0 && (size_t)n < cap - o);
		o += (size_t)n;
		for (size_t j = 0; j < per; j++) {
			n = snprintf(buf + o, cap - o, "%s<a:%zu.%zu>",
			    j > 0 ? " " : "", i, j);
			ck_assert(n > 0 && (size_t)n < cap - o);
			o += (size_t)n;
		}
		ck_assert(o + 1 < cap);
		buf[o++] = ')';
	}
	buf[o] = '\0';
	return o;
}

START_TEST(if_parse_bounds_lists_and_conditions)
{
	static char buf[8192], got[RENDER_CAP];
	size_t len;

	len = build_lists(buf, sizeof(buf), DAV_IF_MAX_LISTS, 1);
	ck_assert_int_eq(parse_guarded(buf, len, got), 0);
	ck_assert_uint_eq(hdr.nlists, DAV_IF_MAX_LISTS);
	len = build_lists(buf, sizeof(buf), DAV_IF_MAX_LISTS + 1, 1);
	ck_assert_int_eq(parse_guarded(buf, len, got), -1);

	len = build_lists(buf, sizeof(buf), 1, DAV_IF_MAX_CONDS);
	ck_assert_int_eq(parse_guarded(buf, len, got), 0);
	ck_assert_uint_eq(hdr.nconds, DAV_IF_MAX_CONDS);
	len = build_lists(buf, sizeof(buf), 1, DAV_IF_MAX_CONDS + 1);
	ck_assert_int_eq(parse_guarded(buf, len, got), -1);
	/* The bound is on conditions over all lists. */
	len = build_lists(buf, sizeof(buf), 4, DAV_IF_MAX_CONDS / 4);
	ck_assert_int_eq(parse_guarded(buf, len, got), 0);
	len = build_lists(buf, sizeof(buf), 5, DAV_IF_MAX_CONDS / 4);
	ck_assert_int_eq(parse_guarded(buf, len, got), -1);
}
END_TEST

START_TEST(if_parse_takes_long_tokens)
{
	static char buf[6000], got[RENDER_CAP];
	size_t len;

	memcpy(buf, "(<", 2);
	memset(buf + 2, 'x', 4000);
	memcpy(buf + 4002, ">)", 2);
	len = 4004;
	ck_assert_int_eq(parse_guarded(buf, len, got), 0);
	ck_assert_uint_eq(hdr.conds[0].v.len, 4000);
}
END_TEST

/*
 * Evaluation
 */

/*
 * The fake world: the request's resource ("") has lock token "t1" and
 * entity-tag "e1"; "/b" has token "t2" and "e2"; "/gone" does not exist.
 * Every call is recorded.
 */
struct world {
	size_t		 calls;
	char		 log[1024];
	size_t		 o;
};

/* Appends "url|what|v;" to the world's log. */
static void
note(struct world *w, const char *what, struct span url, struct span v)
{
	int n = snprintf(w->log + w->o, sizeof(w->log) - w->o, "%.*s|%s|%.*s;",
	    (int)url.len, url.p != NULL ? url.p : "", what, (int)v.len, v.p);

	ck_assert(n > 0 && (size_t)n < sizeof(w->log) - w->o);
	w->o += (size_t)n;
	w->calls++;
}

static bool
fake_token_ok(void *arg, struct span url, struct span token)
{
	note(arg, "tok", url, token);
	if (url.len == 0)
		return span_eq(token, SPAN_LIT("t1"));
	if (span_eq(url, SPAN_LIT("/b")))
		return span_eq(token, SPAN_LIT("t2"));
	return false;
}

static bool
fake_etag_ok(void *arg, struct span url, struct span etag)
{
	note(arg, "etag", url, etag);
	if (url.len == 0)
		return span_eq(etag, SPAN_LIT("\"e1\""));
	if (span_eq(url, SPAN_LIT("/b")))
		return span_eq(etag, SPAN_LIT("\"e2\""));
	return false;
}

struct eval_case {
	const char	*in;
	bool		 want;
};

static const struct eval_case eval_cases[] = {
	{ "(<t1>)", true },
	{ "(<t2>)", false },
	{ "(Not <t2>)", true },
	{ "(Not <t1>)", false },
	{ "([\"e1\"])", true },
	{ "([\"e2\"])", false },
	{ "([W/\"e1\"])", false },
	{ "(Not [\"e2\"])", true },
	{ "(<t1> [\"e1\"])", true },
	{ "(<t1> [\"e2\"])", false },
	{ "(<t2> [\"e1\"])", false },
	{ "(<t1> Not [\"e1\"])", false },
	{ "(<t2>) (<t1>)", true },
	{ "(<t1>) (<t2>)", true },
	{ "(<t2>) ([\"e9\"])", false },
	{ "(Not <DAV:no-lock>)", true },
	{ "(<DAV:no-lock>)", false },
	{ "(<t2>) (Not <DAV:no-lock>)", true },
	{ "(<t1>) (Not <DAV:no-lock> [\"e2\"])", true },
	{ "(<t2>) (Not <DAV:no-lock> [\"e2\"])", false },
	{ "(<t2>) (Not <DAV:no-lock> [\"e1\"])", true },
	{ "(Not <t1> Not <t2>)", false },
	{ "(Not <t2> Not <t3>)", true },
	{ "</b> (<t2>)", true },
	{ "</b> (<t1>)", false },
	{ "</b> ([\"e2\"])", true },
	{ "</b> ([\"e1\"])", false },
	{ "</b> (<t1>) </b> (<t2>)", true },
	{ "</gone> ([\"e1\"])", false },
	{ "</gone> (Not [\"e1\"])", true },
	{ "</b> (<t2> [\"e2\"]) </gone> (<t1>)", true },
};

START_TEST(if_eval_truth_table)
{
	const struct eval_case *c = &eval_cases[_i];
	struct world w = { 0 };
	struct dav_if_check chk = {
		.token_ok = fake_token_ok, .etag_ok = fake_etag_ok, .arg = &w,
	};
	size_t len = strlen(c->in);
	char *g = tu_guarded(c->in, len);

	ck_assert_msg(dav_if_parse(g, len, &hdr) == 0, "%s: rejected", c->in);
	ck_assert_msg(dav_if_eval(&hdr, &chk) == c->want, "%s: not %s",
	    c->in, c->want ? "true" : "false");
	ck_assert_uint_gt(w.calls, 0);
	tu_guard_free(g);
}
END_TEST

START_TEST(if_eval_passes_tag_or_empty_url)
{
	static const char in[] = "<http://h/x> (<t9> Not [\"e\"]) (<t8>)";
	struct world w = { 0 };
	struct dav_if_check chk = {
		.token_ok = fake_token_ok, .etag_ok = fake_etag_ok, .arg = &w,
	};
	char *g = tu_guarded(in, sizeof(in) - 1);

	ck_assert_int_eq(dav_if_parse(g, sizeof(in) - 1, &hdr), 0);
	ck_assert(!dav_if_eval(&hdr, &chk));
	/* The first list stops at its false first condition. */
	ck_assert_str_eq(w.log, "http://h/x|tok|t9;http://h/x|tok|t8;");
	tu_guard_free(g);

	g = tu_guarded("(<t1> [\"e1\"]) (<t2>)", 20);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(dav_if_parse(g, 20, &hdr), 0);
	ck_assert(dav_if_eval(&hdr, &chk));
	/* Untagged: an empty url; the second list is not needed. */
	ck_assert_str_eq(w.log, "|tok|t1;|etag|\"e1\";");
	tu_guard_free(g);
}
END_TEST

START_TEST(if_eval_of_nothing_is_false)
{
	struct world w = { 0 };
	struct dav_if_check chk = {
		.token_ok = fake_token_ok, .etag_ok = fake_etag_ok, .arg = &w,
	};

	memset(&hdr, 0, sizeof(hdr));
	ck_assert(!dav_if_eval(&hdr, &chk));
	ck_assert_uint_eq(w.calls, 0);
}
END_TEST

START_TEST(if_tokens_lists_positive_state_tokens)
{
	static const char in[] =
	    "<http://h/a> (<t1> [\"e\"] Not <DAV:no-lock>) (Not [\"f\"] <t2>) "
	    "</b> (<t3>)";
	struct span toks[DAV_IF_MAX_CONDS];
	char *g = tu_guarded(in, sizeof(in) - 1);

	ck_assert_int_eq(dav_if_parse(g, sizeof(in) - 1, &hdr), 0);
	ck_assert_uint_eq(dav_if_tokens(&hdr, toks, NELEM(toks)), 3);
	ck_assert(span_eq(toks[0], SPAN_LIT("t1")));
	ck_assert(span_eq(toks[1], SPAN_LIT("t2")));
	ck_assert(span_eq(toks[2], SPAN_LIT("t3")));
	ck_assert_uint_eq(dav_if_tokens(&hdr, toks, 2), 2);
	ck_assert_uint_eq(dav_if_tokens(&hdr, toks, 0), 0);
	tu_guard_free(g);
}
END_TEST

/*
 * Timeout, Depth, Overwrite, Lock-Token
 */

/* A header value: absent (NULL) or the literal's bytes. */
struct small_case {
	const char	*in;
	size_t		 len;
	int		 want;
};

#define ABSENT		.in = NULL, .len = 0

static const struct small_case timeout_cases[] = {
	/* def 600, max 3600 */
	{ ABSENT, 600 },
	{ IN(""), 600 },
	{ IN(",, ,"), 600 },
	{ IN("Second-100"), 100 },
	{ IN("second-100"), 100 },
	{ IN("SECOND-100"), 100 },
	{ IN(" Second-5 "), 5 },
	{ IN("Second-3600"), 3600 },
	{ IN("Second-3601"), 3600 },
	{ IN("Second-4100000000"), 3600 },
	{ IN("Second-99999999999999999999999999999999"), 3600 },
	{ IN("Second-0"), 1 },
	{ IN("Second-007"), 7 },
	{ IN("Infinite"), 3600 },
	{ IN("infinite"), 3600 },
	{ IN("Infinite, Second-4100000000"), 3600 },
	{ IN("Second-20, Infinite"), 20 },
	{ IN("Foo, Second-20"), 20 },
	{ IN("Second-, Second-x, Second-1x, Second-30"), 30 },
	{ IN("Second-"), 600 },
	{ IN("Second-x"), 600 },
	{ IN("Second--1"), 600 },
	{ IN("Second-+5"), 600 },
	{ IN("Second- 5"), 600 },
	{ IN("Seconds-5"), 600 },
	{ IN("Second5"), 600 },
	{ IN("Infinity"), 600 },
	{ IN("Second-5\0"), 600 },
	{ IN("Second-5;q=1"), 600 },
};

START_TEST(parse_timeout_cases)
{
	const struct small_case *c = &timeout_cases[_i];
	char *g = c->in != NULL ? tu_guarded(c->in, c->len) : NULL;
	unsigned got = dav_parse_timeout(span_make(g, c->len), 600, 3600);

	ck_assert_msg(got == (unsigned)c->want, "'%.*s': %u, want %d",
	    (int)c->len, c->in != NULL ? c->in : "(absent)", got, c->want);
	if (g != NULL)
		tu_guard_free(g);
}
END_TEST

START_TEST(parse_timeout_caps_at_max_and_keeps_default)
{
	ck_assert_uint_eq(dav_parse_timeout(SPAN_LIT("Second-4294967295"), 1,
	    UINT32_MAX), UINT32_MAX);
	ck_assert_uint_eq(dav_parse_timeout(SPAN_LIT("Second-4294967296"), 1,
	    UINT32_MAX), UINT32_MAX);
	ck_assert_uint_eq(dav_parse_timeout(SPAN_LIT("Infinite"), 1, 60), 60);
	/* The default is the caller's and comes back as it is. */
	ck_assert_uint_eq(dav_parse_timeout(SPAN_NULL, 9999, 60), 9999);
}
END_TEST

static const struct small_case depth_cases[] = {
	{ IN("0"), 0 },
	{ IN("1"), 1 },
	{ IN("infinity"), DAV_DEPTH_INF },
	{ IN("Infinity"), DAV_DEPTH_INF },
	{ IN("INFINITY"), DAV_DEPTH_INF },
	{ IN(" 1\t"), 1 },
	{ IN(""), -1 },
	{ IN(" "), -1 },
	{ IN("2"), -1 },
	{ IN("01"), -1 },
	{ IN("00"), -1 },
	{ IN("-1"), -1 },
	{ IN("+1"), -1 },
	{ IN("infinit"), -1 },
	{ IN("infinityx"), -1 },
	{ IN("infinite"), -1 },
	{ IN("1,0"), -1 },
	{ IN("0\0"), -1 },
	{ IN("\0"), -1 },
};

START_TEST(parse_depth_cases)
{
	const struct small_case *c = &depth_cases[_i];
	char *g = tu_guarded(c->in, c->len);
	int got = dav_parse_depth(span_make(g, c->len), 77);

	ck_assert_msg(got == c->want, "'%.*s': %d, want %d", (int)c->len,
	    c->in, got, c->want);
	tu_guard_free(g);
}
END_TEST

START_TEST(parse_depth_absent_gives_default)
{
	ck_assert_int_eq(dav_parse_depth(SPAN_NULL, DAV_DEPTH_INF),
	    DAV_DEPTH_INF);
	ck_assert_int_eq(dav_parse_depth(SPAN_NULL, 0), 0);
	ck_assert_int_eq(dav_parse_depth(SPAN_NULL, 1), 1);
}
END_TEST

static const struct small_case overwrite_cases[] = {
	{ ABSENT, 1 },
	{ IN("T"), 1 },
	{ IN("F"), 0 },
	{ IN(" T "), 1 },
	{ IN("\tF"), 0 },
	{ IN("t"), -1 },
	{ IN("f"), -1 },
	{ IN(""), -1 },
	{ IN("TRUE"), -1 },
	{ IN("T F"), -1 },
	{ IN("TF"), -1 },
	{ IN("1"), -1 },
	{ IN("T\0"), -1 },
};

START_TEST(parse_overwrite_cases)
{
	const struct small_case *c = &overwrite_cases[_i];
	char *g = c->in != NULL ? tu_guarded(c->in, c->len) : NULL;
	int got = dav_parse_overwrite(span_make(g, c->len));

	ck_assert_msg(got == c->want, "'%.*s': %d, want %d", (int)c->len,
	    c->in != NULL ? c->in : "(absent)", got, c->want);
	if (g != NULL)
		tu_guard_free(g);
}
END_TEST

struct lock_token_case {
	const char	*in;
	size_t		 len;
	const char	*want;		/* NULL: malformed */
};

static const struct lock_token_case lock_token_cases[] = {
	{ IN("<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>"),
	    "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2" },
	{ IN(" \t<opaquelocktoken:x> "), "opaquelocktoken:x" },
	{ IN("<a>"), "a" },
	{ IN(""), NULL },
	{ IN(" "), NULL },
	{ IN("<>"), NULL },
	{ IN("a:b"), NULL },
	{ IN("<a:b"), NULL },
	{ IN("a:b>"), NULL },
	{ IN("<a:b>x"), NULL },
	{ IN("<a:b> <c:d>"), NULL },
	{ IN("<a b>"), NULL },
	{ IN("<<a:b>>"), NULL },
	{ IN("<a:\0b>"), NULL },
	{ IN("<a:b>\0"), NULL },
	{ IN("(<a:b>)"), NULL },
};

START_TEST(parse_lock_token_cases)
{
	const struct lock_token_case *c = &lock_token_cases[_i];
	char *g = tu_guarded(c->in, c->len);
	struct span tok = SPAN_LIT("untouched");
	bool ok = dav_parse_lock_token(span_make(g, c->len), &tok);

	if (c->want == NULL) {
		ck_assert_msg(!ok, "'%.*s' accepted", (int)c->len, c->in);
		ck_assert(span_eq(tok, SPAN_LIT("untouched")));
	} else {
		ck_assert_msg(ok, "'%s' rejected", c->in);
		ck_assert(span_eq(tok, span_make(c->want, strlen(c->want))));
		ck_assert(tok.p >= g && tok.p + tok.len <= g + c->len);
	}
	tu_guard_free(g);
}
END_TEST

START_TEST(parse_lock_token_absent_is_false)
{
	struct span tok = SPAN_NULL;

	ck_assert(!dav_parse_lock_token(SPAN_NULL, &tok));
}
END_TEST

static Suite *
dav_if_suite(void)
{
	Suite *s = suite_create("dav_if");
	TCase *tc;

	tc = tcase_create("if_parse");
	tcase_add_loop_test(tc, if_parse_accepts_grammar, 0,
	    NELEM(if_good_cases));
	tcase_add_loop_test(tc, if_parse_prefixes_stay_in_bounds, 0,
	    NELEM(if_good_cases));
	tcase_add_loop_test(tc, if_parse_rejects_malformed, 0,
	    NELEM(if_bad_cases));
	tcase_add_test(tc, if_parse_bounds_lists_and_conditions);
	tcase_add_test(tc, if_parse_takes_long_tokens);
	/* Hundreds of guarded mappings under ASan. */
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("if_eval");
	tcase_add_loop_test(tc, if_eval_truth_table, 0, NELEM(eval_cases));
	tcase_add_test(tc, if_eval_passes_tag_or_empty_url);
	tcase_add_test(tc, if_eval_of_nothing_is_false);
	tcase_add_test(tc, if_tokens_lists_positive_state_tokens);
	suite_add_tcase(s, tc);

	tc = tcase_create("small_headers");
	tcase_add_loop_test(tc, parse_timeout_cases, 0, NELEM(timeout_cases));
	tcase_add_test(tc, parse_timeout_caps_at_max_and_keeps_default);
	tcase_add_loop_test(tc, parse_depth_cases, 0, NELEM(depth_cases));
	tcase_add_test(tc, parse_depth_absent_gives_default);
	tcase_add_loop_test(tc, parse_overwrite_cases, 0,
	    NELEM(overwrite_cases));
	tcase_add_loop_test(tc, parse_lock_token_cases, 0,
	    NELEM(lock_token_cases));
	tcase_add_test(tc, parse_lock_token_absent_is_false);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dav_if_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
