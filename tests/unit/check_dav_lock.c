/*
 * check_dav_lock.c - unit tests for the WebDAV lock table.
 *
 * Time is a made-up now_ms passed to every call, so expiry is tested
 * without sleeping.  The threaded test is for ThreadSanitizer (make
 * check-tsan runs this binary under it): a few threads lock, check and
 * unlock paths of their own and a shared one at the same time.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dav_lock.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define EXCL		DAV_LOCK_EXCLUSIVE
#define SHARED		DAV_LOCK_SHARED
#define T0		1000000		/* a now_ms to start from */

/*
 * Helpers
 */

/* Creates a lock that must be granted, for timeout_s 100 at T0. */
static void
lock_ok(struct dav_locks *t, const char *path, bool inf,
    enum dav_lock_scope scope, struct dav_lock_info *out)
{
	int rc = dav_lock_create(t, path, inf, scope, NULL, 0, 100, T0, out);

	ck_assert_msg(rc == 0, "lock '%s' refused: %d", path, rc);
}

/* The token of l as a span. */
static struct span
tok(const struct dav_lock_info *l)
{
	return span_make(l->token, strlen(l->token));
}

/* Large enough to keep off the stack of a forked test. */
static struct dav_lock_info li[8];

/*
 * Tokens
 */

/* True when s is "urn:uuid:" and a lower-case version-4 UUID. */
static bool
token_well_formed(const char *s)
{
	if (strlen(s) != DAV_LOCK_TOKEN_LEN || strncmp(s, "urn:uuid:", 9) != 0)
		return false;
	s += 9;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash != (s[i] == '-'))
			return false;
		if (!dash && !((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	/* RFC 4122 §4.4: version 4; variant bits 10. */
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

START_TEST(tokens_are_urn_uuid_v4_and_differ)
{
	struct dav_locks *t = dav_locks_new();

	ck_assert_ptr_nonnull(t);
	for (size_t i = 0; i < 64; i++) {
		char path[16];

		snprintf(path, sizeof(path), "f%zu", i);
		lock_ok(t, path, false, EXCL, &li[i % 2]);
		ck_assert_msg(token_well_formed(li[i % 2].token), "token '%s'",
		    li[i % 2].token);
		if (i > 0)
			ck_assert_str_ne(li[0].token, li[1].token);
	}
	ck_assert_uint_le(DAV_LOCK_TOKEN_LEN + 1, DAV_LOCK_TOKEN_MAX);
	dav_locks_free(t);
}
END_TEST

START_TEST(create_fills_in_info)
{
	static const char owner[] = "<D:href>http://example.org/~ejw/</D:href>"
	    "\0binary";
	struct dav_locks *t = dav_locks_new();
	struct dav_lock_info *l = &li[0];

	memset(l, 0xa5, sizeof(*l));
	ck_assert_int_eq(dav_lock_create(t, "a/b", true, SHARED, owner,
	    sizeof(owner) - 1, 3600, T0, l), 0);
	ck_assert_str_eq(l->root, "a/b");
	ck_assert(l->infinite);
	ck_assert_int_eq(l->scope, SHARED);
	ck_assert_uint_eq(l->owner_len, sizeof(owner) - 1);
	ck_assert_mem_eq(l->owner, owner, sizeof(owner) - 1);
	ck_assert_uint_eq(l->timeout_s, 3600);
	ck_assert_uint_eq(l->remaining_s, 3600);
	ck_assert_uint_eq(dav_lock_count(t, T0), 1);
	dav_locks_free(t);
}
END_TEST

START_TEST(create_checks_sizes)
{
	static char owner[2048], path[PATH_MAX + 8];
	struct dav_locks *t = dav_locks_new();

	memset(owner, 'o', sizeof(owner));
	ck_assert_int_eq(dav_lock_create(t, "a", false, EXCL, owner,
	    sizeof(li[0].owner) + 1, 10, T0, &li[0]), -E2BIG);
	ck_assert_int_eq(dav_lock_create(t, "a", false, EXCL, owner,
	    sizeof(li[0].owner), 10, T0, &li[0]), 0);
	ck_assert_uint_eq(li[0].owner_len, sizeof(li[0].owner));

	memset(path, 'p', sizeof(path));
	path[PATH_MAX] = '\0';
	ck_assert_int_eq(dav_lock_create(t, path, false, EXCL, NULL, 0, 10,
	    T0, &li[0]), -ENAMETOOLONG);
	path[PATH_MAX - 1] = '\0';
	ck_assert_int_eq(dav_lock_create(t, path, false, EXCL, NULL, 0, 10,
	    T0, &li[0]), 0);
	ck_assert_uint_eq(strlen(li[0].root), PATH_MAX - 1);
	ck_assert_uint_eq(dav_lock_count(t, T0), 2);
	dav_locks_free(t);
}
END_TEST

/*
 * Conflicts
 */

struct conflict_case {
	const char	*name;
	const char	*old_path;
	bool		 old_inf;
	enum dav_lock_scope old_scope;
	const char	*new_path;
	bool		 new_inf;
	enum dav_lock_scope new_scope;
	int		 want;
};

static const struct conflict_case conflict_cases[] = {
	{ "excl_same_path", "a", false, EXCL, "a", false, EXCL, -EBUSY },
	{ "excl_then_shared", "a", false, EXCL, "a", false, SHARED, -EBUSY },
	{ "shared_then_excl", "a", false, SHARED, "a", false, EXCL, -EBUSY },
	{ "shared_shared", "a", false, SHARED, "a", false, SHARED, 0 },
	{ "shared_shared_infinite", "a", true, SHARED, "a/b", true, SHARED,
	    0 },
	{ "infinite_ancestor_covers", "a", true, EXCL, "a/b", false, EXCL,
	    -EBUSY },
	{ "infinite_ancestor_covers_deep", "a", true, EXCL, "a/b/c/d", true,
	    SHARED, -EBUSY },
	{ "depth0_ancestor_does_not", "a", false, EXCL, "a/b", false, EXCL,
	    0 },
	{ "depth0_ancestor_not_even_infinite", "a", false, EXCL, "a/b", true,
	    EXCL, 0 },
	{ "new_infinite_over_descendant", "a/b", false, EXCL, "a", true, EXCL,
	    -EBUSY },
	{ "new_infinite_over_deep_descendant", "a/b/c", false, SHARED, "a",
	    true, EXCL, -EBUSY },
	{ "new_depth0_over_descendant", "a/b", false, EXCL, "a", false, EXCL,
	    0 },
	{ "shared_infinite_over_shared_descendant", "a/b", false, SHARED, "a",
	    true, SHARED, 0 },
	{ "shared_infinite_over_excl_descendant", "a/b", false, EXCL, "a",
	    true, SHARED, -EBUSY },
	{ "excl_below_shared_infinite", "a", true, SHARED, "a/b", false, EXCL,
	    -EBUSY },
	{ "a_is_not_above_ab", "a", true, EXCL, "ab", true, EXCL, 0 },
	{ "ab_is_not_below_a", "ab", true, EXCL, "a", true, EXCL, 0 },
	{ "a_b_vs_ab", "a/b", false, EXCL, "ab", true, EXCL, 0 },
	{ "siblings", "a/b", true, EXCL, "a/c", true, EXCL, 0 },
	{ "root_infinite_covers_all", "", true, EXCL, "x/y", false, SHARED,
	    -EBUSY },
	{ "root_depth0_covers_root_only", "", false, EXCL, "x", true, EXCL,
	    0 },
	{ "new_root_infinite_over_all", "x/y", false, SHARED, "", true, EXCL,
	    -EBUSY },
	{ "new_root_depth0", "x", false, EXCL, "", false, EXCL, 0 },
};

START_TEST(create_detects_conflicts)
{
	const struct conflict_case *c = &conflict_cases[_i];
	struct dav_locks *t = dav_locks_new();
	int rc;

	ck_assert_int_eq(dav_lock_create(t, c->old_path, c->old_inf,
	    c->old_scope, NULL, 0, 100, T0, &li[0]), 0);
	rc = dav_lock_create(t, c->new_path, c->new_inf, c->new_scope, NULL,
	    0, 100, T0 + 1, &li[1]);
	ck_assert_msg(rc == c->want, "%s: %d, want %d", c->name, rc, c->want);
	ck_assert_uint_eq(dav_lock_count(t, T0 + 2), rc == 0 ? 2 : 1);
	dav_locks_free(t);
}
END_TEST

/*
 * Refresh, remove, covers
 */

START_TEST(refresh_extends_a_covering_lock)
{
	struct dav_locks *t = dav_locks_new();
	struct dav_lock_info got;

	lock_ok(t, "a", true, EXCL, &li[0]);
	lock_ok(t, "z", false, EXCL, &li[1]);
	/* Wrong token, a path the lock does not cover, "z" with a's token. */
	memset(&got, 0, sizeof(got));
	ck_assert_int_eq(dav_lock_refresh(t, "z", tok(&li[0]), 500, T0, &got),
	    -ENOENT);
	ck_assert_int_eq(dav_lock_refresh(t, "z/y", tok(&li[1]), 500, T0,
	    &got), -ENOENT);
	ck_assert_int_eq(dav_lock_refresh(t, "z", SPAN_LIT("urn:uuid:x"), 500,
	    T0, &got), -ENOENT);
	ck_assert_str_eq(got.token, "");
	ck_assert_int_eq(dav_lock_refresh(t, "z", tok(&li[1]), 7, T0, &got),
	    0);
	ck_assert_uint_eq(got.remaining_s, 7);
	/* Through a member: the infinite lock covers it. */
	ck_assert_int_eq(dav_lock_refresh(t, "a/b/c", tok(&li[0]), 500,
	    T0 + 90000, &got), 0);
	ck_assert_str_eq(got.token, li[0].token);
	ck_assert_uint_eq(got.timeout_s, 500);
	ck_assert_uint_eq(got.remaining_s, 500);
	/* Alive past its first timeout, gone after the new one. */
	ck_assert(dav_lock_covers(t, "a", tok(&li[0]), T0 + 500000));
	ck_assert(!dav_lock_covers(t, "a", tok(&li[0]), T0 + 590000));
	dav_locks_free(t);
}
END_TEST

START_TEST(refresh_of_an_expired_lock_fails)
{
	struct dav_locks *t = dav_locks_new();

	lock_ok(t, "a", false, EXCL, &li[0]);
	ck_assert_int_eq(dav_lock_refresh(t, "a", tok(&li[0]), 100,
	    T0 + 100000, &li[1]), -ENOENT);
	ck_assert_uint_eq(dav_lock_count(t, T0), 0);
	dav_locks_free(t);
}
END_TEST

START_TEST(remove_needs_token_and_covered_path)
{
	struct dav_locks *t = dav_locks_new();

	lock_ok(t, "a", true, SHARED, &li[0]);
	lock_ok(t, "a", false, SHARED, &li[1]);
	lock_ok(t, "b", false, EXCL, &li[2]);
	ck_assert_int_eq(dav_lock_remove(t, "b", tok(&li[0]), T0), -ENOENT);
	ck_assert_int_eq(dav_lock_remove(t, "ab", tok(&li[0]), T0), -ENOENT);
	ck_assert_int_eq(dav_lock_remove(t, "a/x", tok(&li[1]), T0), -ENOENT);
	ck_assert_uint_eq(dav_lock_count(t, T0), 3);
	/* UNLOCK on a member of an infinite lock removes the whole lock. */
	ck_assert_int_eq(dav_lock_remove(t, "a/x", tok(&li[0]), T0), 0);
	ck_assert_int_eq(dav_lock_remove(t, "a/x", tok(&li[0]), T0), -ENOENT);
	ck_assert(!dav_lock_covers(t, "a", tok(&li[0]), T0));
	ck_assert(dav_lock_covers(t, "a", tok(&li[1]), T0));
	ck_assert_int_eq(dav_lock_remove(t, "a", tok(&li[1]), T0), 0);
	ck_assert_int_eq(dav_lock_remove(t, "b", tok(&li[2]), T0), 0);
	ck_assert_uint_eq(dav_lock_count(t, T0), 0);
	/* The path is free again. */
	lock_ok(t, "a", true, EXCL, &li[3]);
	dav_locks_free(t);
}
END_TEST

START_TEST(covers_follows_depth_and_paths)
{
	struct dav_locks *t = dav_locks_new();

	lock_ok(t, "a", true, EXCL, &li[0]);
	lock_ok(t, "b", false, EXCL, &li[1]);
	ck_assert(dav_lock_covers(t, "a", tok(&li[0]), T0));
	ck_assert(dav_lock_covers(t, "a/b", tok(&li[0]), T0));
	ck_assert(dav_lock_covers(t, "a/b/c", tok(&li[0]), T0));
	ck_assert(!dav_lock_covers(t, "ab", tok(&li[0]), T0));
	ck_assert(!dav_lock_covers(t, "", tok(&li[0]), T0));
	ck_assert(dav_lock_covers(t, "b", tok(&li[1]), T0));
	ck_assert(!dav_lock_covers(t, "b/c", tok(&li[1]), T0));
	ck_assert(!dav_lock_covers(t, "b", tok(&li[0]), T0));
	/* A token that is a prefix of the real one, or longer. */
	ck_assert(!dav_lock_covers(t, "b", span_make(li[1].token, 44), T0));
	ck_assert(!dav_lock_covers(t, "b", span_make(li[1].token, 46), T0));
	ck_assert(!dav_lock_covers(t, "b", SPAN_NULL, T0));
	dav_locks_free(t);
}
END_TEST

/*
 * Expiry
 */

START_TEST(locks_expire_at_their_timeout)
{
	struct dav_locks *t = dav_locks_new();
	struct dav_lock_info got;

	ck_assert_int_eq(dav_lock_create(t, "a", false, EXCL, NULL, 0, 10, T0,
	    &li[0]), 0);
	ck_assert_int_eq(dav_lock_create(t, "b", false, EXCL, NULL, 0, 20, T0,
	    &li[1]), 0);
	ck_assert_uint_eq(dav_lock_count(t, T0 + 9999), 2);
	ck_assert_int_eq(dav_lock_refresh(t, "b", tok(&li[1]), 20, T0, &got),
	    0);
	ck_assert_uint_eq(dav_lock_count(t, T0 + 10000), 1);
	ck_assert(!dav_lock_covers(t, "a", tok(&li[0]), T0 + 10000));
	ck_assert(dav_lock_may_write(t, "a", false, NULL, 0, T0 + 10000,
	    NULL));
	/* Another client may lock it now. */
	ck_assert_int_eq(dav_lock_create(t, "a", false, EXCL, NULL, 0, 10,
	    T0 + 10000, &li[2]), 0);
	ck_assert_uint_eq(dav_lock_count(t, T0 + 20000), 0);
	dav_locks_free(t);
}
END_TEST

/* Collects what dav_lock_discover() reports. */
struct seen {
	size_t		 n;
	char		 roots[8][16];
	uint64_t	 remaining[8];
};

static void
saw(void *arg, const struct dav_lock_info *l)
{
	struct seen *s = arg;

	ck_assert_uint_lt(s->n, 8);
	ck_assert_uint_lt(strlen(l->root), sizeof(s->roots[0]));
	memcpy(s->roots[s->n], l->root, strlen(l->root) + 1);
	s->remaining[s->n] = l->remaining_s;
	s->n++;
}

START_TEST(remaining_rounds_up)
{
	struct dav_locks *t = dav_locks_new();
	struct seen s = { 0 };

	ck_assert_int_eq(dav_lock_create(t, "a", false, EXCL, NULL, 0, 10, T0,
	    &li[0]), 0);
	ck_assert_uint_eq(dav_lock_discover(t, "a", T0 + 1, saw, &s), 1);
	ck_assert_uint_eq(s.remaining[0], 10);
	ck_assert_uint_eq(dav_lock_discover(t, "a", T0 + 9000, saw, &s), 1);
	ck_assert_uint_eq(s.remaining[1], 1);
	ck_assert_uint_eq(dav_lock_discover(t, "a", T0 + 9999, saw, &s), 1);
	ck_assert_uint_eq(s.remaining[2], 1);
	ck_assert_uint_eq(dav_lock_discover(t, "a", T0 + 10000, saw, &s), 0);
	dav_locks_free(t);
}
END_TEST

START_TEST(huge_timeouts_do_not_wrap)
{
	struct dav_locks *t = dav_locks_new();

	ck_assert_int_eq(dav_lock_create(t, "a", false, EXCL, NULL, 0,
	    UINT32_MAX, UINT64_MAX - 5, &li[0]), 0);
	ck_assert_uint_eq(dav_lock_count(t, UINT64_MAX - 1), 1);
	ck_assert_uint_eq(li[0].remaining_s, 1);
	dav_locks_free(t);
}
END_TEST

/*
 * Discovery and drop_tree
 */

START_TEST(discover_lists_covering_locks)
{
	struct dav_locks *t = dav_locks_new();
	struct seen s = { 0 };

	lock_ok(t, "", true, SHARED, &li[0]);
	lock_ok(t, "a", false, SHARED, &li[1]);
	lock_ok(t, "a/b", true, SHARED, &li[2]);
	lock_ok(t, "ab", true, SHARED, &li[3]);
	ck_assert_uint_eq(dav_lock_discover(t, "a/b/c", T0, saw, &s), 2);
	ck_assert_uint_eq(dav_lock_discover(t, "a", T0, saw, &s), 2);
	ck_assert_uint_eq(dav_lock_discover(t, "", T0, saw, &s), 1);
	ck_assert_uint_eq(s.n, 5);
	/* Order is the table's: compare as sets. */
	for (size_t i = 0; i < 2; i++)
		ck_assert(strcmp(s.roots[i], "") == 0 ||
		    strcmp(s.roots[i], "a/b") == 0);
	ck_assert_str_ne(s.roots[0], s.roots[1]);
	ck_assert(strcmp(s.roots[2], "") == 0 || strcmp(s.roots[2], "a") == 0);
	ck_assert_str_ne(s.roots[2], s.roots[3]);
	ck_assert_str_eq(s.roots[4], "");
	ck_assert_uint_eq(s.remaining[0], 100);
	dav_locks_free(t);
}
END_TEST

START_TEST(drop_tree_removes_root_and_below_only)
{
	static const char *const paths[] = {
		"", "a", "a/b", "a/b/c", "ab", "b", "a/bc",
	};
	struct dav_locks *t = dav_locks_new();
	struct dav_lock_info l;

	for (size_t i = 0; i < NELEM(paths); i++)
		lock_ok(t, paths[i], false, SHARED, &l);
	dav_lock_drop_tree(t, "a/b");
	ck_assert_uint_eq(dav_lock_count(t, T0), 5);
	dav_lock_drop_tree(t, "a");
	ck_assert_uint_eq(dav_lock_count(t, T0), 3);
	ck_assert_uint_eq(dav_lock_discover(t, "ab", T0, saw,
	    &(struct seen){ 0 }), 1);
	ck_assert_uint_eq(dav_lock_discover(t, "b", T0, saw,
	    &(struct seen){ 0 }), 1);
	dav_lock_drop_tree(t, "zzz");
	ck_assert_uint_eq(dav_lock_count(t, T0), 3);
	dav_lock_drop_tree(t, "");
	ck_assert_uint_eq(dav_lock_count(t, T0), 0);
	dav_locks_free(t);
}
END_TEST

/*
 * may_write
 */

START_TEST(may_write_without_locks)
{
	struct dav_locks *t = dav_locks_new();
	char conflict[PATH_MAX] = "untouched";

	ck_assert(dav_lock_may_write(t, "a", true, NULL, 0, T0, conflict));
	ck_assert_str_eq(conflict, "untouched");
	lock_ok(t, "b", true, EXCL, &li[0]);
	ck_assert(dav_lock_may_write(t, "a", true, NULL, 0, T0, conflict));
	ck_assert(dav_lock_may_write(t, "", false, NULL, 0, T0, conflict));
	ck_assert(dav_lock_may_write(t, "bb", true, NULL, 0, T0, conflict));
	ck_assert_str_eq(conflict, "untouched");
	dav_locks_free(t);
}
END_TEST

START_TEST(may_write_exclusive_needs_its_token)
{
	struct dav_locks *t = dav_locks_new();
	char conflict[PATH_MAX];
	struct span toks[2];

	lock_ok(t, "a", false, EXCL, &li[0]);
	lock_ok(t, "d", true, EXCL, &li[1]);
	ck_assert(!dav_lock_may_write(t, "a", false, NULL, 0, T0, conflict));
	ck_assert_str_eq(conflict, "a");
	toks[0] = tok(&li[1]);
	ck_assert(!dav_lock_may_write(t, "a", false, toks, 1, T0, NULL));
	toks[1] = tok(&li[0]);
	ck_assert(dav_lock_may_write(t, "a", false, toks, 2, T0, NULL));
	/* Depth 0: members and look-alikes are free. */
	ck_assert(dav_lock_may_write(t, "a/x", false, NULL, 0, T0, NULL));
	ck_assert(dav_lock_may_write(t, "ab", false, NULL, 0, T0, NULL));
	/* Depth infinity covers members. */
	ck_assert(!dav_lock_may_write(t, "d/e/f", false, NULL, 0, T0,
	    conflict));
	ck_assert_str_eq(conflict, "d");
	ck_assert(dav_lock_may_write(t, "d/e/f", false, &toks[0], 1, T0,
	    NULL));
	dav_locks_free(t);
}
END_TEST

START_TEST(may_write_tree_checks_locks_below)
{
	struct dav_locks *t = dav_locks_new();
	char conflict[PATH_MAX];
	struct span tk;

	lock_ok(t, "a/b/c", false, EXCL, &li[0]);
	ck_assert(dav_lock_may_write(t, "a", false, NULL, 0, T0, conflict));
	ck_assert(!dav_lock_may_write(t, "a", true, NULL, 0, T0, conflict));
	ck_assert_str_eq(conflict, "a/b/c");
	ck_assert(!dav_lock_may_write(t, "", true, NULL, 0, T0, conflict));
	ck_assert(dav_lock_may_write(t, "a/b/cd", true, NULL, 0, T0, NULL));
	ck_assert(dav_lock_may_write(t, "a/bb", true, NULL, 0, T0, NULL));
	tk = tok(&li[0]);
	ck_assert(dav_lock_may_write(t, "a", true, &tk, 1, T0, NULL));
	dav_locks_free(t);
}
END_TEST

START_TEST(may_write_one_shared_token_is_enough)
{
	struct dav_locks *t = dav_locks_new();
	char conflict[PATH_MAX];
	struct span tk;

	lock_ok(t, "a", false, SHARED, &li[0]);
	lock_ok(t, "a", false, SHARED, &li[1]);
	ck_assert(!dav_lock_may_write(t, "a", false, NULL, 0, T0, conflict));
	ck_assert_str_eq(conflict, "a");
	tk = tok(&li[0]);
	ck_assert(dav_lock_may_write(t, "a", false, &tk, 1, T0, NULL));
	tk = tok(&li[1]);
	ck_assert(dav_lock_may_write(t, "a", false, &tk, 1, T0, NULL));
	dav_locks_free(t);
}
END_TEST

START_TEST(may_write_shared_on_ancestor_and_self)
{
	struct dav_locks *t = dav_locks_new();
	char conflict[PATH_MAX];
	struct span tk;

	lock_ok(t, "a", true, SHARED, &li[0]);
	lock_ok(t, "a/b", false, SHARED, &li[1]);
	/* Both cover "a/b": either holder may write it. */
	tk = tok(&li[0]);
	ck_assert(dav_lock_may_write(t, "a/b", false, &tk, 1, T0, NULL));
	tk = tok(&li[1]);
	ck_assert(dav_lock_may_write(t, "a/b", false, &tk, 1, T0, NULL));
	/* The depth-0 lock on "a/b" gives nothing on "a" or "a/c". */
	ck_assert(!dav_lock_may_write(t, "a", false, &tk, 1, T0, conflict));
	ck_assert_str_eq(conflict, "a");
	ck_assert(!dav_lock_may_write(t, "a/c", false, &tk, 1, T0, conflict));
	ck_assert_str_eq(conflict, "a");
	dav_locks_free(t);
}
END_TEST

START_TEST(may_write_tree_needs_members_too)
{
	struct dav_locks *t = dav_locks_new();
	char conflict[PATH_MAX];
	struct span tk;

	/* A depth-0 and an infinite shared lock on the collection. */
	lock_ok(t, "a", false, SHARED, &li[0]);
	lock_ok(t, "a", true, SHARED, &li[1]);
	tk = tok(&li[0]);
	ck_assert(dav_lock_may_write(t, "a", false, &tk, 1, T0, NULL));
	/* Deleting "a" also deletes members only the infinite one holds. */
	ck_assert(!dav_lock_may_write(t, "a", true, &tk, 1, T0, conflict));
	ck_assert_str_eq(conflict, "a");
	tk = tok(&li[1]);
	ck_assert(dav_lock_may_write(t, "a", true, &tk, 1, T0, NULL));
	dav_locks_free(t);
}
END_TEST

START_TEST(may_write_tree_with_nested_shared_locks)
{
	struct dav_locks *t = dav_locks_new();
	char conflict[PATH_MAX];
	struct span tk;

	lock_ok(t, "a/b", true, SHARED, &li[0]);
	lock_ok(t, "a/b/c", false, SHARED, &li[1]);
	tk = tok(&li[0]);
	ck_assert(dav_lock_may_write(t, "a", true, &tk, 1, T0, NULL));
	tk = tok(&li[1]);
	ck_assert(!dav_lock_may_write(t, "a", true, &tk, 1, T0, conflict));
	ck_assert_str_eq(conflict, "a/b");
	ck_assert(!dav_lock_may_write(t, "a", true, NULL, 0, T0, conflict));
	dav_locks_free(t);
}
END_TEST

START_TEST(may_write_under_root_lock)
{
	struct dav_locks *t = dav_locks_new();
	char conflict[PATH_MAX] = "x";
	struct span tk;

	lock_ok(t, "", true, EXCL, &li[0]);
	ck_assert(!dav_lock_may_write(t, "x/y", false, NULL, 0, T0, conflict));
	ck_assert_str_eq(conflict, "");
	tk = tok(&li[0]);
	ck_assert(dav_lock_may_write(t, "x/y", true, &tk, 1, T0, NULL));
	ck_assert(dav_lock_may_write(t, "", true, &tk, 1, T0, NULL));
	dav_locks_free(t);
}
END_TEST

/*
 * Bounds and the empty table
 */

START_TEST(table_is_bounded)
{
	struct dav_locks *t = dav_locks_new();
	char path[32];

	for (size_t i = 0; i < DAV_LOCK_MAX; i++) {
		snprintf(path, sizeof(path), "d/%zu", i);
		ck_assert_int_eq(dav_lock_create(t, path, false, EXCL, NULL, 0,
		    i < 10 ? 1 : 100, T0, &li[0]), 0);
	}
	ck_assert_int_eq(dav_lock_create(t, "x", false, EXCL, NULL, 0, 100,
	    T0, &li[0]), -ENOSPC);
	ck_assert_int_eq(dav_lock_create(t, "x", false, SHARED, NULL, 0, 100,
	    T0 + 999, &li[0]), -ENOSPC);
	ck_assert_uint_eq(dav_lock_count(t, T0), DAV_LOCK_MAX);
	/* Ten locks expire after a second: room for ten more. */
	for (size_t i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "e/%zu", i);
		ck_assert_int_eq(dav_lock_create(t, path, false, EXCL, NULL, 0,
		    100, T0 + 1000, &li[0]), 0);
	}
	ck_assert_int_eq(dav_lock_create(t, "x", false, EXCL, NULL, 0, 100,
	    T0 + 1000, &li[0]), -ENOSPC);
	/* A conflict is reported as such even when full. */
	ck_assert_int_eq(dav_lock_create(t, "e/0", false, EXCL, NULL, 0, 100,
	    T0 + 1000, &li[0]), -EBUSY);
	dav_lock_drop_tree(t, "d");
	ck_assert_uint_eq(dav_lock_count(t, T0 + 1000), 10);
	dav_locks_free(t);
}
END_TEST

START_TEST(empty_table_answers_fast)
{
	struct dav_locks *t = dav_locks_new();
	struct dav_lock_info l;

	ck_assert_uint_eq(dav_lock_count(t, T0), 0);
	ck_assert(!dav_lock_covers(t, "a", SPAN_LIT("urn:uuid:x"), T0));
	ck_assert_int_eq(dav_lock_remove(t, "a", SPAN_LIT("urn:uuid:x"), T0),
	    -ENOENT);
	ck_assert_int_eq(dav_lock_refresh(t, "a", SPAN_LIT("urn:uuid:x"), 5,
	    T0, &l), -ENOENT);
	ck_assert_uint_eq(dav_lock_discover(t, "", T0, saw,
	    &(struct seen){ 0 }), 0);
	ck_assert(dav_lock_may_write(t, "", true, NULL, 0, T0, NULL));
	dav_lock_drop_tree(t, "");
	dav_locks_free(t);
	dav_locks_free(NULL);
}
END_TEST

/*
 * Threads (for ThreadSanitizer)
 */

#define THREADS		4
#define ROUNDS		500

struct worker_arg {
	struct dav_locks *t;
	unsigned	 id;
	unsigned	 failures;
};

/* One round on the thread's own path: lock, check, refresh, unlock. */
static void
own_round(struct worker_arg *w, unsigned r, uint64_t now)
{
	struct dav_lock_info l;
	char path[32];
	struct span tk;

	snprintf(path, sizeof(path), "t%u/%u", w->id, r % 7);
	if (dav_lock_create(w->t, path, r % 2 == 0, EXCL, "o", 1, 60, now,
	    &l) != 0) {
		w->failures++;
		return;
	}
	tk = tok(&l);
	if (!dav_lock_covers(w->t, path, tk, now) ||
	    dav_lock_may_write(w->t, path, true, NULL, 0, now, NULL) ||
	    !dav_lock_may_write(w->t, path, true, &tk, 1, now, NULL) ||
	    dav_lock_refresh(w->t, path, tk, 60, now, &l) != 0 ||
	    dav_lock_remove(w->t, path, tk, now) != 0)
		w->failures++;
}

static void
count_lock(void *arg, const struct dav_lock_info *l)
{
	size_t *n = arg;

	*n += l->owner_len;
}

static void *
worker(void *arg)
{
	struct worker_arg *w = arg;

	for (unsigned r = 0; r < ROUNDS; r++) {
		uint64_t now = T0 + r;
		struct dav_lock_info l;
		size_t n = 0;

		own_round(w, r, now);
		/* All threads share "s": shared locks never conflict. */
		if (dav_lock_create(w->t, "s", false, SHARED, NULL, 0, 60, now,
		    &l) != 0)
			w->failures++;
		(void)dav_lock_discover(w->t, "s", now, count_lock, &n);
		(void)dav_lock_count(w->t, now);
		if (dav_lock_remove(w->t, "s", tok(&l), now) != 0)
			w->failures++;
		if (r % 50 == 0)
			dav_lock_drop_tree(w->t, "nothing-here");
	}
	return NULL;
}

START_TEST(threads_share_the_table)
{
	struct dav_locks *t = dav_locks_new();
	pthread_t th[THREADS];
	struct worker_arg wa[THREADS];

	for (unsigned i = 0; i < THREADS; i++) {
		wa[i] = (struct worker_arg){ .t = t, .id = i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker, &wa[i]),
		    0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_uint_eq(wa[i].failures, 0);
	}
	ck_assert_uint_eq(dav_lock_count(t, T0), 0);
	dav_locks_free(t);
}
END_TEST

static Suite *
dav_lock_suite(void)
{
	Suite *s = suite_create("dav_lock");
	TCase *tc;

	tc = tcase_create("create");
	tcase_add_test(tc, tokens_are_urn_uuid_v4_and_differ);
	tcase_add_test(tc, create_fills_in_info);
	tcase_add_test(tc, create_checks_sizes);
	tcase_add_loop_test(tc, create_detects_conflicts, 0,
	    NELEM(conflict_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("lifecycle");
	tcase_add_test(tc, refresh_extends_a_covering_lock);
	tcase_add_test(tc, refresh_of_an_expired_lock_fails);
	tcase_add_test(tc, remove_needs_token_and_covered_path);
	tcase_add_test(tc, covers_follows_depth_and_paths);
	tcase_add_test(tc, locks_expire_at_their_timeout);
	tcase_add_test(tc, remaining_rounds_up);
	tcase_add_test(tc, huge_timeouts_do_not_wrap);
	tcase_add_test(tc, discover_lists_covering_locks);
	tcase_add_test(tc, drop_tree_removes_root_and_below_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("may_write");
	tcase_add_test(tc, may_write_without_locks);
	tcase_add_test(tc, may_write_exclusive_needs_its_token);
	tcase_add_test(tc, may_write_tree_checks_locks_below);
	tcase_add_test(tc, may_write_one_shared_token_is_enough);
	tcase_add_test(tc, may_write_shared_on_ancestor_and_self);
	tcase_add_test(tc, may_write_tree_needs_members_too);
	tcase_add_test(tc, may_write_tree_with_nested_shared_locks);
	tcase_add_test(tc, may_write_under_root_lock);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, table_is_bounded);
	tcase_add_test(tc, empty_table_answers_fast);
	/* 4096 locks and their O(n) scans, under sanitizers. */
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_test(tc, threads_share_the_table);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dav_lock_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
