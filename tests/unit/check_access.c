/*
 * check_access.c - unit tests for the [access] rules.
 *
 * Paths and user names handed to lookups go through tu_guarded(), which
 * places them right before a PROT_NONE page, so a lookup that reads past
 * the NUL crashes the test even without ASan; access_format() writes into
 * a guarded buffer of exactly cap bytes for the same reason.  A seeded
 * random test checks the sorted-array lookups against a plain linear
 * model of the rules.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define WHY_CAP		256
#define TABLE_CAP	65536

#define R	ACCESS_READ
#define W	ACCESS_WRITE
#define RW	(ACCESS_READ | ACCESS_WRITE)
#define NONE	ACCESS_NONE

/*
 * Helpers
 */

struct kv {
	const char	*key;
	const char	*value;
};

/* A set built from n lines, all of which must be accepted. */
static struct access_rules *
build(const struct kv *lines, size_t n)
{
	struct access_rules *r = access_new();
	char why[WHY_CAP];

	ck_assert_ptr_nonnull(r);
	for (size_t i = 0; i < n; i++) {
		why[0] = '\0';
		ck_assert_msg(access_add(r, lines[i].key, lines[i].value, why,
		    sizeof(why)) == 0, "'%s = %s' rejected: %s", lines[i].key,
		    lines[i].value, why);
	}
	return r;
}

#define BUILD(lines)	build((lines), NELEM(lines))

/* access_rights() on guarded copies of rel and user. */
static unsigned
rights(const struct access_rules *r, const char *rel, const char *user)
{
	char *g = tu_guarded(rel, strlen(rel) + 1);
	char *u = user != NULL ? tu_guarded(user, strlen(user) + 1) : NULL;
	unsigned got = access_rights(r, g, u);

	if (u != NULL)
		tu_guard_free(u);
	tu_guard_free(g);
	return got;
}

/* access_has_below() on guarded copies of rel and user. */
static bool
has_below(const struct access_rules *r, const char *rel, const char *user)
{
	char *g = tu_guarded(rel, strlen(rel) + 1);
	char *u = user != NULL ? tu_guarded(user, strlen(user) + 1) : NULL;
	bool got = access_has_below(r, g, u);

	if (u != NULL)
		tu_guard_free(u);
	tu_guard_free(g);
	return got;
}

/* The whole table of r, in a static buffer. */
static const char *
table(const struct access_rules *r)
{
	static char buf[TABLE_CAP];
	size_t n = access_format(r, buf, sizeof(buf));

	ck_assert_uint_lt(n, sizeof(buf));
	ck_assert_uint_eq(strlen(buf), n);
	return buf;
}

/* pre, n copies of c, then post into buf[0..cap), which must hold them. */
static char *
fill(char *buf, size_t cap, const char *pre, char c, size_t n,
    const char *post)
{
	size_t a = strlen(pre), b = strlen(post);

	ck_assert_uint_lt(a + n + b, cap);
	memcpy(buf, pre, a);
	memset(buf + a, c, n);
	memcpy(buf + a + n, post, b + 1);
	return buf;
}

/*
 * Parsing: lines that are accepted, and the table they give
 */

struct good_case {
	const char	*name;
	const char	*key;
	const char	*value;
	const char	*want;	/* access_format() of a set of this line */
};

static const struct good_case good_cases[] = {
	{ "root_guest_read", "/", "@guest:r", "/  @guest:r\n" },
	{ "users_with_implicit_guest_none", "/private", "alice:rw bob:r",
	    "/private  alice:rw bob:r @guest:-\n" },
	{ "drop_box", "/drop", "@guest:w", "/drop  @guest:w\n" },
	{ "explicit_none", "/x", "@guest:-", "/x  @guest:-\n" },
	{ "every_right", "/x", "a:r b:rw c:w d:-",
	    "/x  a:r b:rw c:w d:- @guest:-\n" },
	{ "groups_go_last_users_keep_order", "/x",
	    "@guest:r @users:rw zed:- alice:r",
	    "/x  zed:- alice:r @users:rw @guest:r\n" },
	{ "runs_of_spaces_and_tabs", "/x", " \t alice:r \t\t bob:w\t ",
	    "/x  alice:r bob:w @guest:-\n" },
	{ "users_alone", "/x", "@users:r", "/x  @users:r @guest:-\n" },
	{ "utf8_user", "/x", "jos\xc3\xa9:r \xe7\x8e\x8b:rw",
	    "/x  jos\xc3\xa9:r \xe7\x8e\x8b:rw @guest:-\n" },
	{ "punctuation_in_user", "/x", "a.b-c_d@e+f=g!#:r",
	    "/x  a.b-c_d@e+f=g!#:r @guest:-\n" },
	{ "users_differ_in_case", "/x", "Alice:r alice:w",
	    "/x  Alice:r alice:w @guest:-\n" },
	{ "key_trailing_slash", "/a/", "@guest:r", "/a  @guest:r\n" },
	{ "key_dot_segment", "/a/./b", "@guest:r", "/a/b  @guest:r\n" },
	{ "key_dot_dot_inside", "/a/c/../b", "@guest:r", "/a/b  @guest:r\n" },
	{ "key_percent_decoded", "/%61", "@guest:r", "/a  @guest:r\n" },
	{ "key_double_slashes", "//a//b//", "@guest:r", "/a/b  @guest:r\n" },
	{ "key_dot_is_root", "/.", "@guest:r", "/  @guest:r\n" },
	{ "key_escaped_slash_separates", "/a%2Fb", "@guest:r",
	    "/a/b  @guest:r\n" },
	{ "key_space_encoded_in_table", "/my docs", "@guest:r",
	    "/my%20docs  @guest:r\n" },
	{ "key_utf8_encoded_in_table", "/%C3%A9t%C3%A9", "@guest:r",
	    "/%C3%A9t%C3%A9  @guest:r\n" },
	{ "key_control_encoded_in_table", "/a%0Ab", "@guest:r",
	    "/a%0Ab  @guest:r\n" },
	{ "key_hidden_name", "/.well-known", "@guest:r",
	    "/.well-known  @guest:r\n" },
	{ "key_ini_delimiters_encoded_in_table", "/a%3Db%3Ac%3B(x)~_-.",
	    "@guest:r", "/a%3Db%3Ac%3B%28x%29~_-.  @guest:r\n" },
};

START_TEST(add_accepts_and_formats)
{
	const struct good_case *c = &good_cases[_i];
	struct access_rules *r = access_new();
	char why[WHY_CAP] = "untouched";

	ck_assert_ptr_nonnull(r);
	ck_assert_msg(access_add(r, c->key, c->value, why, sizeof(why)) == 0,
	    "%s: rejected: %s", c->name, why);
	ck_assert_msg(strcmp(why, "untouched") == 0, "%s: why written",
	    c->name);
	ck_assert_msg(!access_empty(r), "%s: empty", c->name);
	ck_assert_msg(strcmp(table(r), c->want) == 0,
	    "%s: table \"%s\", want \"%s\"", c->name, table(r), c->want);
	access_free(r);
}
END_TEST

/*
 * Parsing: lines that are refused, with their reason
 */

struct bad_case {
	const char	*name;
	const char	*key;
	const char	*value;
	const char	*why;	/* must occur in the reason */
};

static const struct bad_case bad_cases[] = {
	{ "empty_value", "/x", "", "empty access list" },
	{ "blank_value", "/x", " \t  ", "empty access list" },
	{ "null_value", "/x", NULL, "empty access list" },
	{ "no_colon", "/x", "alice", "missing ':' in 'alice'" },
	{ "no_colon_after_good", "/x", "bob:r alice",
	    "missing ':' in 'alice'" },
	{ "unknown_right", "/x", "alice:x", "unknown right in 'alice:x'" },
	{ "empty_right", "/x", "alice:", "unknown right in 'alice:'" },
	{ "right_wr", "/x", "alice:wr", "unknown right in 'alice:wr'" },
	{ "right_upper", "/x", "alice:R", "unknown right" },
	{ "right_rr", "/x", "alice:rr", "unknown right" },
	{ "right_dash_r", "/x", "alice:-r", "unknown right" },
	{ "second_colon", "/x", "alice:r:w", "unknown right in 'alice:r:w'" },
	{ "empty_who", "/x", ":r", "missing user name in ':r'" },
	{ "unknown_group", "/x", "@admins:r", "unknown group '@admins'" },
	{ "group_case", "/x", "@Guest:r", "unknown group '@Guest'" },
	{ "bare_at", "/x", "@:r", "unknown group '@'" },
	{ "user_twice", "/x", "alice:r bob:r alice:w", "'alice' listed twice" },
	{ "guest_twice", "/x", "@guest:r @guest:-", "'@guest' listed twice" },
	{ "users_twice", "/x", "@users:r @users:r", "'@users' listed twice" },
	{ "user_control", "/x", "al\x01" "ce:r", "bad user name 'al?ce'" },
	{ "user_newline", "/x", "al\nce:r", "bad user name" },
	{ "user_del", "/x", "a\x7f:r", "bad user name 'a?'" },
	{ "user_c1_control", "/x", "a\xc2\x85:r", "bad user name" },
	{ "user_bad_utf8", "/x", "a\xff:r", "bad user name" },
	{ "user_cut_utf8", "/x", "a\xc3:r", "bad user name" },
	{ "user_overlong_utf8", "/x", "\xc0\xaf:r", "bad user name" },
	{ "user_surrogate", "/x", "\xed\xa0\x80:r", "bad user name" },
	{ "key_relative", "private", "@guest:r", "does not start with '/'" },
	{ "key_empty", "", "@guest:r", "does not start with '/'" },
	{ "key_null", NULL, "@guest:r", "does not start with '/'" },
	{ "key_climbs", "/..", "@guest:r", "bad prefix '/..'" },
	{ "key_climbs_later", "/a/../..", "@guest:r", "bad prefix" },
	{ "key_escaped_climb", "/%2e%2e", "@guest:r", "bad prefix" },
	{ "key_bad_escape", "/%zz", "@guest:r", "bad prefix" },
	{ "key_short_escape", "/a%4", "@guest:r", "bad prefix" },
	{ "key_escaped_nul", "/a%00", "@guest:r", "bad prefix" },
};

START_TEST(add_rejects_with_reason)
{
	const struct bad_case *c = &bad_cases[_i];
	struct access_rules *r = access_new();
	char why[WHY_CAP] = "";

	ck_assert_ptr_nonnull(r);
	ck_assert_msg(access_add(r, c->key, c->value, why, sizeof(why)) == -1,
	    "%s: accepted", c->name);
	ck_assert_msg(strstr(why, c->why) != NULL,
	    "%s: reason \"%s\", want \"%s\"", c->name, why, c->why);
	/* A refused line leaves nothing behind. */
	ck_assert_msg(access_empty(r), "%s: not empty", c->name);
	ck_assert_str_eq(table(r), "");
	access_free(r);
}
END_TEST

START_TEST(add_reason_is_optional_and_bounded)
{
	struct access_rules *r = access_new();
	char why[8];

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(access_add(r, "/x", "alice:x", NULL, 0), -1);
	ck_assert_int_eq(access_add(r, "/x", "alice:x", NULL, 100), -1);
	memset(why, 'z', sizeof(why));
	ck_assert_int_eq(access_add(r, "/x", "alice:x", why, 0), -1);
	ck_assert_int_eq(why[0], 'z');
	ck_assert_int_eq(access_add(r, "/x", "alice:x", why, sizeof(why)), -1);
	ck_assert_int_eq(why[sizeof(why) - 1], '\0');
	ck_assert_str_eq(why, "unknown");
	ck_assert(access_empty(r));
	access_free(r);
}
END_TEST

START_TEST(add_quotes_long_text_cut_short)
{
	struct access_rules *r = access_new();
	char why[WHY_CAP], value[300];

	ck_assert_ptr_nonnull(r);
	fill(value, sizeof(value), "", 'u', 200, "");
	ck_assert_int_eq(access_add(r, "/x", value, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "...'") != NULL, "reason \"%s\"", why);
	ck_assert_uint_lt(strlen(why), 200);
	access_free(r);
}
END_TEST

/* A failure after good entries and lines frees them and keeps the rest. */
START_TEST(add_failure_keeps_earlier_lines)
{
	static const struct kv lines[] = {
		{ "/", "@guest:r" },
		{ "/b", "alice:rw" },
	};
	struct access_rules *r = BUILD(lines);
	char why[WHY_CAP];
	const char *before;
	char copy[256];

	before = table(r);
	snprintf(copy, sizeof(copy), "%s", before);
	ck_assert_int_eq(access_add(r, "/a", "alice:r bob:rw @guest:r "
	    "@users:w carol:x", why, sizeof(why)), -1);
	ck_assert_str_eq(table(r), copy);
	ck_assert_uint_eq(rights(r, "a", "alice"), R);
	access_free(r);
}
END_TEST

/*
 * Keys: normalised, so that spellings of one prefix are duplicates
 */

struct dup_case {
	const char	*first;
	const char	*second;
};

static const struct dup_case dup_cases[] = {
	{ "/a", "/a/" },
	{ "/a/", "/a" },
	{ "/a", "/%61" },
	{ "/a/b", "/a/./b" },
	{ "/a/b", "/a/c/../b" },
	{ "/a/b", "//a///b" },
	{ "/a/b", "/a%2fb" },
	{ "/", "/." },
	{ "/", "//" },
	{ "/", "/a/.." },
	{ "/a", "/a" },
};

START_TEST(add_rejects_duplicate_prefix_after_normalising)
{
	const struct dup_case *c = &dup_cases[_i];
	struct access_rules *r = access_new();
	char why[WHY_CAP] = "";

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(access_add(r, c->first, "@guest:r", why,
	    sizeof(why)), 0);
	ck_assert_msg(access_add(r, c->second, "alice:rw", why,
	    sizeof(why)) == -1, "'%s' after '%s' accepted", c->second,
	    c->first);
	ck_assert_msg(strstr(why, "given twice") != NULL, "reason \"%s\"",
	    why);
	ck_assert_uint_eq(rights(r, "a/b", "alice"), R);
	access_free(r);
}
END_TEST

/* Each spelling of a key applies to the normalised request path. */
START_TEST(normalised_keys_apply_to_request_paths)
{
	static const struct kv lines[] = {
		{ "/a/", "@guest:r" },
		{ "/b", "@guest:w" },
		{ "/c/./d", "@guest:rw" },
		{ "/%65", "alice:r" },
	};
	struct access_rules *r = BUILD(lines);

	ck_assert_uint_eq(rights(r, "a", NULL), R);
	ck_assert_uint_eq(rights(r, "a/x", NULL), R);
	ck_assert_uint_eq(rights(r, "b", NULL), W);
	ck_assert_uint_eq(rights(r, "c/d", NULL), RW);
	ck_assert_uint_eq(rights(r, "c/d/e/f", NULL), RW);
	ck_assert_uint_eq(rights(r, "c", NULL), NONE);
	ck_assert_uint_eq(rights(r, "e", "alice"), R);
	ck_assert_uint_eq(rights(r, "%65", "alice"), NONE);
	/* A trailing slash on rel is harmless. */
	ck_assert_uint_eq(rights(r, "a/", NULL), R);
	ck_assert_uint_eq(rights(r, "c/d/", NULL), RW);
	access_free(r);
}
END_TEST

/*
 * Longest prefix, on segment boundaries
 */

struct lookup_case {
	const char	*rel;
	const char	*user;
	unsigned	 want;
};

static const struct kv nested_lines[] = {
	{ "/", "@guest:r" },
	{ "/a", "@guest:-" },
	{ "/a/b", "@guest:rw" },
	{ "/a/b/c/d", "@guest:w" },
	{ "/private", "alice:rw" },
	{ "/a b", "@guest:w" },
	{ "/a-", "@guest:rw" },
};

static const struct lookup_case nested_cases[] = {
	{ "", NULL, R },
	{ "x", NULL, R },
	{ "x/y/z", NULL, R },
	{ "a", NULL, NONE },
	{ "a/x", NULL, NONE },
	{ "a/b", NULL, RW },
	{ "a/b/x", NULL, RW },
	{ "a/bc", NULL, NONE },		/* not under "a/b" */
	{ "a/b/c", NULL, RW },
	{ "a/b/c/d", NULL, W },
	{ "a/b/c/d/e", NULL, W },
	{ "a/b/c/de", NULL, RW },
	{ "ab", NULL, R },		/* not under "a" */
	{ "a b", NULL, W },
	{ "a b/x", NULL, W },
	{ "a-", NULL, RW },
	{ "a-/x", NULL, RW },
	{ "a.", NULL, R },
	{ "private", "alice", RW },
	{ "private/x", "alice", RW },
	{ "private", NULL, NONE },
	{ "private", "bob", NONE },
	{ "priv", "alice", R },		/* "/priv" is not "/private" */
	{ "privateer", "alice", R },
	{ "private2/x", "alice", R },
};

START_TEST(longest_prefix_on_segment_boundaries)
{
	const struct lookup_case *c = &nested_cases[_i];
	struct access_rules *r = BUILD(nested_lines);
	unsigned got = rights(r, c->rel, c->user);

	ck_assert_msg(got == c->want, "'%s' as %s: %u, want %u", c->rel,
	    c->user != NULL ? c->user : "guest", got, c->want);
	access_free(r);
}
END_TEST

START_TEST(shorter_key_does_not_match_longer_name)
{
	static const struct kv lines[] = {
		{ "/priv", "@guest:rw" },
	};
	struct access_rules *r = BUILD(lines);

	ck_assert_uint_eq(rights(r, "priv", NULL), RW);
	ck_assert_uint_eq(rights(r, "priv/ate", NULL), RW);
	ck_assert_uint_eq(rights(r, "private", NULL), NONE);
	ck_assert_uint_eq(rights(r, "private/x", NULL), NONE);
	ck_assert_uint_eq(rights(r, "pri", NULL), NONE);
	ck_assert_uint_eq(rights(r, "", NULL), NONE);
	access_free(r);
}
END_TEST

/* The longest prefix decides alone: nothing comes from a shorter one. */
START_TEST(no_inheritance_from_shorter_prefixes)
{
	static const struct kv lines[] = {
		{ "/", "alice:rw @users:r @guest:r" },
		{ "/x", "@guest:w" },
		{ "/y", "bob:r" },
	};
	struct access_rules *r = BUILD(lines);

	ck_assert_uint_eq(rights(r, "", "alice"), RW);
	ck_assert_uint_eq(rights(r, "x", "alice"), W);
	ck_assert_uint_eq(rights(r, "x/z", "carol"), W);
	ck_assert_uint_eq(rights(r, "y", "alice"), NONE);
	ck_assert_uint_eq(rights(r, "y", NULL), NONE);
	ck_assert_uint_eq(rights(r, "y/z", "bob"), R);
	access_free(r);
}
END_TEST

/*
 * Who: the user's own entry, then @users, then @guest, then nothing
 */

struct who_case {
	const char	*name;
	const char	*value;
	const char	*user;
	unsigned	 want;
};

static const struct who_case who_cases[] = {
	{ "own_entry_first", "alice:w @users:r @guest:rw", "alice", W },
	{ "own_dash_denies_over_guest", "alice:- @guest:rw", "alice", NONE },
	{ "own_dash_denies_over_users", "alice:- @users:rw", "alice", NONE },
	{ "users_for_unlisted_user", "alice:w @users:r @guest:rw", "bob", R },
	{ "users_dash_denies_over_guest", "@users:- @guest:r", "bob", NONE },
	{ "guest_for_user_without_users", "alice:w @guest:r", "bob", R },
	{ "guest_for_user_alone", "@guest:rw", "bob", RW },
	{ "nothing_for_unlisted_user", "alice:w", "bob", NONE },
	{ "guest_entry", "alice:w @users:r @guest:rw", NULL, RW },
	{ "guest_not_helped_by_users", "@users:rw", NULL, NONE },
	{ "guest_not_helped_by_user", "alice:rw", NULL, NONE },
	{ "guest_dash", "@guest:- @users:r", NULL, NONE },
	{ "user_case_matters", "alice:rw @guest:r", "Alice", R },
	{ "user_prefix_is_not_user", "alice:rw @guest:r", "alic", R },
	{ "user_longer_is_not_user", "alice:rw @guest:r", "alicex", R },
	{ "utf8_user", "jos\xc3\xa9:rw", "jos\xc3\xa9", RW },
	{ "empty_name_is_unlisted", "@users:w @guest:r", "", W },
	{ "user_named_like_group", "@users:w @guest:r", "@guest", W },
};

START_TEST(precedence_user_users_guest)
{
	const struct who_case *c = &who_cases[_i];
	struct access_rules *r = access_new();
	char why[WHY_CAP] = "";
	unsigned got;

	ck_assert_ptr_nonnull(r);
	ck_assert_msg(access_add(r, "/", c->value, why, sizeof(why)) == 0,
	    "%s: %s", c->name, why);
	got = rights(r, "some/file", c->user);
	ck_assert_msg(got == c->want, "%s: %u, want %u", c->name, got,
	    c->want);
	/* The root itself answers the same. */
	ck_assert_uint_eq(rights(r, "", c->user), c->want);
	access_free(r);
}
END_TEST

/*
 * The root and the empty set
 */

START_TEST(paths_under_no_prefix_get_nothing)
{
	static const struct kv lines[] = {
		{ "/pub", "@guest:r alice:rw" },
	};
	struct access_rules *r = BUILD(lines);

	ck_assert_uint_eq(rights(r, "", NULL), NONE);
	ck_assert_uint_eq(rights(r, "", "alice"), NONE);
	ck_assert_uint_eq(rights(r, "other", "alice"), NONE);
	ck_assert_uint_eq(rights(r, "pub", "alice"), RW);
	access_free(r);
}
END_TEST

START_TEST(root_line_covers_everything)
{
	static const struct kv lines[] = {
		{ "/", "@guest:r" },
	};
	struct access_rules *r = BUILD(lines);

	ck_assert_uint_eq(rights(r, "", NULL), R);
	ck_assert_uint_eq(rights(r, "a", NULL), R);
	ck_assert_uint_eq(rights(r, "a/b/c/d/e/f/g", "alice"), R);
	ck_assert_str_eq(table(r), "/  @guest:r\n");
	access_free(r);
}
END_TEST

START_TEST(empty_set)
{
	struct access_rules *r = access_new();
	char buf[4] = "zzz";

	ck_assert_ptr_nonnull(r);
	ck_assert(access_empty(r));
	ck_assert(!access_any_users(r));
	ck_assert_uint_eq(rights(r, "", NULL), NONE);
	ck_assert_uint_eq(rights(r, "a", "alice"), NONE);
	ck_assert(!has_below(r, "", NULL));
	ck_assert_uint_eq(access_format(r, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	access_free(r);
	access_free(NULL);
}
END_TEST

/*
 * access_has_below()
 */

struct below_case {
	const char	*rel;
	const char	*user;
	bool		 want;
};

static const struct kv below_lines[] = {
	{ "/", "@guest:-" },
	{ "/drop", "@guest:w" },
	{ "/private", "alice:rw" },
	{ "/private/pub", "@guest:r" },
	{ "/a", "@guest:-" },
	{ "/a b", "@guest:r" },		/* sorts between "a" and "a/..." */
	{ "/a-", "@guest:r" },
	{ "/a/c", "@guest:-" },
	{ "/a/d/e", "bob:r" },
	{ "/a/z", "@users:- @guest:w" },
};

static const struct below_case below_cases[] = {
	{ "", NULL, true },		/* drop */
	{ "", "bob", true },
	{ "drop", NULL, false },	/* equal does not count */
	{ "dro", NULL, false },
	{ "drop/x", NULL, false },
	{ "private", NULL, true },	/* private/pub */
	{ "private", "alice", true },
	{ "private/", NULL, true },
	{ "private/pub", NULL, false },
	{ "priv", NULL, false },
	{ "a", NULL, true },		/* a/z, not "a b" or "a-" */
	{ "a", "bob", true },		/* a/d/e */
	{ "a", "carol", false },	/* a/z says @users:- */
	{ "a/d", "bob", true },
	{ "a/d", NULL, false },
	{ "a/d/e", "bob", false },
	{ "a/c", NULL, false },
	{ "nothing/here", NULL, false },
};

START_TEST(has_below_sees_only_deeper_grants)
{
	const struct below_case *c = &below_cases[_i];
	struct access_rules *r = BUILD(below_lines);
	bool got = has_below(r, c->rel, c->user);

	ck_assert_msg(got == c->want, "'%s' as %s: %d, want %d", c->rel,
	    c->user != NULL ? c->user : "guest", got, c->want);
	access_free(r);
}
END_TEST

START_TEST(has_below_ignores_sibling_names_with_same_start)
{
	static const struct kv lines[] = {
		{ "/a", "@guest:-" },
		{ "/a b", "@guest:r" },
		{ "/a-", "@guest:r" },
		{ "/a.", "@guest:r" },
		{ "/ab/c", "@guest:r" },
	};
	struct access_rules *r = BUILD(lines);

	ck_assert(!has_below(r, "a", NULL));
	ck_assert(has_below(r, "", NULL));
	ck_assert(has_below(r, "ab", NULL));
	access_free(r);
}
END_TEST

/* The root's own line is not below the root. */
START_TEST(has_below_root_line_does_not_count)
{
	static const struct kv lines[] = {
		{ "/", "@guest:rw" },
		{ "/x", "@guest:-" },
	};
	struct access_rules *r = BUILD(lines);

	ck_assert(!has_below(r, "", NULL));
	ck_assert(!has_below(r, "", "alice"));
	access_free(r);
}
END_TEST

/*
 * access_any_users()
 */

struct any_case {
	const char	*name;
	struct kv	 line[2];
	bool		 want;
};

static const struct any_case any_cases[] = {
	{ "guest_only", { { "/", "@guest:rw" } }, false },
	{ "user_same_as_guest", { { "/", "@guest:r alice:r" } }, false },
	{ "user_less_than_guest", { { "/", "@guest:rw alice:-" } }, false },
	{ "user_dash_only", { { "/", "alice:-" } }, false },
	{ "users_same_as_guest", { { "/", "@users:r @guest:rw" } }, false },
	{ "user_without_guest", { { "/x", "bob:r" } }, true },
	{ "users_without_guest", { { "/x", "@users:r" } }, true },
	{ "user_write_over_guest_read", { { "/", "@guest:r alice:w" } },
	    true },
	{ "users_read_over_guest_write", { { "/", "@guest:w @users:r" } },
	    true },
	{ "second_line", { { "/", "@guest:r" }, { "/p", "alice:r" } }, true },
	{ "guest_lines", { { "/", "@guest:r" }, { "/p", "@guest:-" } },
	    false },
};

START_TEST(any_users_when_credentials_gain)
{
	const struct any_case *c = &any_cases[_i];
	struct access_rules *r = build(c->line, c->line[1].key != NULL ?
	    2 : 1);

	ck_assert_msg(access_any_users(r) == c->want, "%s", c->name);
	access_free(r);
}
END_TEST

/*
 * access_format()
 */

static const struct kv format_lines[] = {
	{ "/private", "alice:rw bob:r" },
	{ "/drop", "@guest:w" },
	{ "/", "@guest:r @users:rw" },
	{ "/a b", "carol:-" },
	{ "/a/b", "@users:r" },
};

static const char format_want[] =
	"/  @users:rw @guest:r\n"
	"/a%20b  carol:- @guest:-\n"
	"/a/b  @users:r @guest:-\n"
	"/drop  @guest:w\n"
	"/private  alice:rw bob:r @guest:-\n";

START_TEST(format_sorts_by_path)
{
	struct access_rules *r = BUILD(format_lines);

	ck_assert_str_eq(table(r), format_want);
	access_free(r);
}
END_TEST

/* Whatever the order of the lines, the table is the same. */
START_TEST(format_does_not_depend_on_order)
{
	struct access_rules *r = access_new();
	char why[WHY_CAP];
	size_t n = NELEM(format_lines);

	ck_assert_ptr_nonnull(r);
	for (size_t i = 0; i < n; i++) {
		const struct kv *l = &format_lines[(i * 3 + (size_t)_i) % n];

		ck_assert_int_eq(access_add(r, l->key, l->value, why,
		    sizeof(why)), 0);
	}
	ck_assert_str_eq(table(r), format_want);
	access_free(r);
}
END_TEST

/* Every cap: a NUL-terminated prefix of the text, and its full length. */
START_TEST(format_truncates_at_every_cap)
{
	struct access_rules *r = BUILD(format_lines);
	size_t full = strlen(format_want);
	char junk[512];

	ck_assert_uint_eq(access_format(r, NULL, 0), full);
	ck_assert_uint_lt(full + 2, sizeof(junk));
	memset(junk, '#', sizeof(junk));
	for (size_t cap = 1; cap <= full + 2; cap++) {
		char *buf = tu_guarded(junk, cap);
		size_t n = access_format(r, buf, cap);
		size_t kept = cap - 1 < full ? cap - 1 : full;

		ck_assert_uint_eq(n, full);
		ck_assert_uint_eq(strlen(buf), kept);
		ck_assert(memcmp(buf, format_want, kept) == 0);
		tu_guard_free(buf);
	}
	access_free(r);
}
END_TEST

/*
 * Bounds
 */

START_TEST(bounds_prefix_count)
{
	struct access_rules *r = access_new();
	char key[32], why[WHY_CAP] = "";

	ck_assert_ptr_nonnull(r);
	for (int i = 0; i < ACCESS_MAX_PREFIXES; i++) {
		snprintf(key, sizeof(key), "/d%d", i);
		ck_assert_int_eq(access_add(r, key, "@guest:r", why,
		    sizeof(why)), 0);
	}
	ck_assert_int_eq(access_add(r, "/one-more", "@guest:r", why,
	    sizeof(why)), -1);
	ck_assert_msg(strstr(why, "too many prefixes") != NULL, "%s", why);
	ck_assert_uint_eq(rights(r, "d0", NULL), R);
	ck_assert_uint_eq(rights(r, "d999/x", NULL), R);
	ck_assert_uint_eq(rights(r, "one-more", NULL), NONE);
	access_free(r);
}
END_TEST

/* n entries "uN:r" into buf. */
static void
entries(char *buf, size_t cap, int n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		int k = snprintf(buf + o, cap - o, "%su%d:r", i ? " " : "", i);

		ck_assert(k > 0 && (size_t)k < cap - o);
		o += (size_t)k;
	}
}

START_TEST(bounds_entry_count)
{
	struct access_rules *r = access_new();
	char value[2048], why[WHY_CAP] = "";

	ck_assert_ptr_nonnull(r);
	entries(value, sizeof(value), ACCESS_MAX_ENTRIES);
	ck_assert_int_eq(access_add(r, "/ok", value, why, sizeof(why)), 0);
	ck_assert_uint_eq(rights(r, "ok", "u99"), R);
	entries(value, sizeof(value), ACCESS_MAX_ENTRIES + 1);
	ck_assert_int_eq(access_add(r, "/no", value, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "too many entries") != NULL, "%s", why);
	/* Spaces alone do not count. */
	entries(value, sizeof(value), ACCESS_MAX_ENTRIES);
	strcat(value, "      ");
	ck_assert_int_eq(access_add(r, "/ok2", value, why, sizeof(why)), 0);
	access_free(r);
}
END_TEST

START_TEST(bounds_user_name_length)
{
	struct access_rules *r = access_new();
	char value[128], name[80], why[WHY_CAP] = "";

	ck_assert_ptr_nonnull(r);
	fill(name, sizeof(name), "", 'n', ACCESS_MAX_USER, "");
	fill(value, sizeof(value), "", 'n', ACCESS_MAX_USER, ":rw");
	ck_assert_int_eq(access_add(r, "/a", value, why, sizeof(why)), 0);
	ck_assert_uint_eq(rights(r, "a", name), RW);
	/* 64 bytes of multibyte UTF-8: 32 two-byte characters. */
	value[0] = '\0';
	for (int i = 0; i < ACCESS_MAX_USER / 2; i++)
		strcat(value, "\xc3\xa9");
	strcat(value, ":r");
	ck_assert_int_eq(access_add(r, "/b", value, why, sizeof(why)), 0);
	fill(value, sizeof(value), "", 'n', ACCESS_MAX_USER + 1, ":rw");
	ck_assert_int_eq(access_add(r, "/c", value, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "bad user name") != NULL, "%s", why);
	access_free(r);
}
END_TEST

/* "/" then segments of 255 bytes or less, key_len bytes in all. */
static char *
long_key(size_t key_len)
{
	char *k = malloc(key_len + 1);

	ck_assert_ptr_nonnull(k);
	for (size_t i = 0; i < key_len; i++)
		k[i] = i % 200 == 0 ? '/' : 'k';
	k[key_len] = '\0';
	return k;
}

START_TEST(bounds_key_length)
{
	struct access_rules *r = access_new();
	char why[WHY_CAP] = "";
	char *k = long_key(ACCESS_MAX_KEY);
	char *seg = malloc(258);

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(seg);
	ck_assert_int_eq(access_add(r, k, "@guest:r", why, sizeof(why)), 0);
	ck_assert_uint_eq(rights(r, k + 1, NULL), R);
	free(k);
	k = long_key(ACCESS_MAX_KEY + 1);
	ck_assert_int_eq(access_add(r, k, "@guest:r", why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "too long") != NULL, "%s", why);
	free(k);
	/* One name of 255 bytes is fine; 256 is no name at all. */
	fill(seg, 258, "/", 's', 255, "");
	ck_assert_int_eq(access_add(r, seg, "@guest:r", why, sizeof(why)), 0);
	fill(seg, 258, "/", 't', 256, "");
	ck_assert_int_eq(access_add(r, seg, "@guest:r", why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "longer than 255") != NULL, "%s", why);
	free(seg);
	access_free(r);
}
END_TEST

/*
 * The sorted-array lookups against a linear model
 */

#define MODEL_LINES	150
#define MODEL_PROBES	3000

static const char *const model_seg[] = { "a", "b", "a b", "a-", "ab", "a.",
    "\xc3\xa9" };
static const char *const model_user[] = { NULL, "alice", "bob", "carol" };

struct model_line {
	char	 path[64];
	int	 guest, users, alice, bob;	/* -1 when not listed */
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* A random relative path of 0 to 3 segments into buf. */
static void
random_rel(char *buf, size_t cap)
{
	unsigned depth = rnd(4);

	buf[0] = '\0';
	for (unsigned d = 0; d < depth; d++) {
		if (d > 0)
			strncat(buf, "/", cap - strlen(buf) - 1);
		strncat(buf, model_seg[rnd(NELEM(model_seg))],
		    cap - strlen(buf) - 1);
	}
}

/* The line's rights for user by the rules of access.h, done plainly. */
static unsigned
model_line_rights(const struct model_line *m, const char *user)
{
	int own = -1;

	if (user != NULL && strcmp(user, "alice") == 0)
		own = m->alice;
	else if (user != NULL && strcmp(user, "bob") == 0)
		own = m->bob;
	if (user != NULL && own >= 0)
		return (unsigned)own;
	if (user != NULL && m->users >= 0)
		return (unsigned)m->users;
	return m->guest >= 0 ? (unsigned)m->guest : NONE;
}

/* True when prefix p covers rel: equal, an ancestor, or the root. */
static bool
model_covers(const char *p, const char *rel)
{
	size_t n = strlen(p);

	return n == 0 || (strncmp(p, rel, n) == 0 &&
	    (rel[n] == '\0' || rel[n] == '/'));
}

static void
model_entry(char *value, size_t cap, const char *who, int rights)
{
	static const char *const text[] = { "-", "r", "w", "rw" };

	if (rights < 0)
		return;
	strncat(value, " ", cap - strlen(value) - 1);
	strncat(value, who, cap - strlen(value) - 1);
	strncat(value, ":", cap - strlen(value) - 1);
	strncat(value, text[rights], cap - strlen(value) - 1);
}

/* Random lines into m and r; returns how many were accepted. */
static size_t
model_build(struct model_line *m, struct access_rules *r)
{
	size_t n = 0;

	for (int tries = 0; tries < MODEL_LINES * 4 && n < MODEL_LINES;
	    tries++) {
		static const char *const text[] = { "-", "r", "w", "rw" };
		char key[80], value[128];
		struct model_line *l = &m[n];

		random_rel(l->path, sizeof(l->path));
		l->users = (int)rnd(5) - 1;
		l->alice = (int)rnd(5) - 1;
		l->bob = (int)rnd(5) - 1;
		l->guest = (int)rnd(4);
		snprintf(value, sizeof(value), "@guest:%s", text[l->guest]);
		model_entry(value, sizeof(value), "@users", l->users);
		model_entry(value, sizeof(value), "alice", l->alice);
		model_entry(value, sizeof(value), "bob", l->bob);
		snprintf(key, sizeof(key), "/%s", l->path);
		if (access_add(r, key, value, NULL, 0) == 0) {
			n++;
			continue;
		}
		/* Refused only as a repeated prefix. */
		bool dup = false;
		for (size_t i = 0; i < n; i++)
			dup = dup || strcmp(m[i].path, l->path) == 0;
		ck_assert_msg(dup, "'%s = %s' refused", key, value);
	}
	return n;
}

START_TEST(lookups_agree_with_linear_model)
{
	static struct model_line m[MODEL_LINES];
	struct access_rules *r = access_new();
	size_t n;

	ck_assert_ptr_nonnull(r);
	n = model_build(m, r);
	ck_assert_uint_gt(n, 50);
	for (int probe = 0; probe < MODEL_PROBES; probe++) {
		char rel[64];
		const char *user = model_user[rnd(NELEM(model_user))];
		const struct model_line *best = NULL;
		unsigned want;
		bool below = false;

		random_rel(rel, sizeof(rel));
		for (size_t i = 0; i < n; i++) {
			size_t pl = strlen(m[i].path), rl = strlen(rel);

			if (model_covers(m[i].path, rel) && (best == NULL ||
			    pl > strlen(best->path)))
				best = &m[i];
			if (pl > rl && model_covers(rel, m[i].path) &&
			    model_line_rights(&m[i], user) != NONE)
				below = true;
		}
		want = best != NULL ? model_line_rights(best, user) : NONE;
		ck_assert_msg(rights(r, rel, user) == want, "'%s' as %s", rel,
		    user != NULL ? user : "guest");
		ck_assert_msg(has_below(r, rel, user) == below,
		    "below '%s' as %s", rel, user != NULL ? user : "guest");
	}
	access_free(r);
}
END_TEST

static Suite *
access_suite(void)
{
	Suite *s = suite_create("access");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, add_accepts_and_formats, 0,
	    NELEM(good_cases));
	tcase_add_loop_test(tc, add_rejects_with_reason, 0, NELEM(bad_cases));
	tcase_add_test(tc, add_reason_is_optional_and_bounded);
	tcase_add_test(tc, add_quotes_long_text_cut_short);
	tcase_add_test(tc, add_failure_keeps_earlier_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_loop_test(tc, add_rejects_duplicate_prefix_after_normalising,
	    0, NELEM(dup_cases));
	tcase_add_test(tc, normalised_keys_apply_to_request_paths);
	suite_add_tcase(s, tc);

	tc = tcase_create("prefix");
	tcase_add_loop_test(tc, longest_prefix_on_segment_boundaries, 0,
	    NELEM(nested_cases));
	tcase_add_test(tc, shorter_key_does_not_match_longer_name);
	tcase_add_test(tc, no_inheritance_from_shorter_prefixes);
	tcase_add_test(tc, paths_under_no_prefix_get_nothing);
	tcase_add_test(tc, root_line_covers_everything);
	tcase_add_test(tc, empty_set);
	suite_add_tcase(s, tc);

	tc = tcase_create("who");
	tcase_add_loop_test(tc, precedence_user_users_guest, 0,
	    NELEM(who_cases));
	tcase_add_loop_test(tc, any_users_when_credentials_gain, 0,
	    NELEM(any_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("below");
	tcase_add_loop_test(tc, has_below_sees_only_deeper_grants, 0,
	    NELEM(below_cases));
	tcase_add_test(tc, has_below_ignores_sibling_names_with_same_start);
	tcase_add_test(tc, has_below_root_line_does_not_count);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, format_sorts_by_path);
	tcase_add_loop_test(tc, format_does_not_depend_on_order, 0,
	    NELEM(format_lines));
	tcase_add_test(tc, format_truncates_at_every_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("bounds");
	tcase_add_test(tc, bounds_prefix_count);
	tcase_add_test(tc, bounds_entry_count);
	tcase_add_test(tc, bounds_user_name_length);
	tcase_add_test(tc, bounds_key_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_test(tc, lookups_agree_with_linear_model);
	/* Thousands of guarded mappings, slow under ASan. */
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(access_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
