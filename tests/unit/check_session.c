/*
 * check_session.c - tokens under the state directory's key: made and
 * checked, expired, revoked (and still revoked after a restart), a
 * per-file token dying with its log-in, the key file's mode.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session.h"
#include "testutil.h"

#define NOW	1700000000ull

static char dir[PATH_MAX];

/* A fresh state directory below a new temporary one. */
static struct session_state *
open_fresh(void)
{
	char tmpl[] = "/tmp/check_session.XXXXXX", why[256];
	struct session_state *s;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	/* Two levels that do not exist yet: made with mode 0700. */
	snprintf(dir, sizeof(dir), "%s/state/lanhttpd", tmpl);
	s = session_open(dir, why, sizeof(why));
	ck_assert_msg(s != NULL, "%s", why);
	return s;
}

static struct session_state *
reopen(struct session_state *s)
{
	char why[256];

	session_close(s);
	s = session_open(dir, why, sizeof(why));
	ck_assert_msg(s != NULL, "%s", why);
	return s;
}

static void
cleanup(struct session_state *s)
{
	char cmd[PATH_MAX + 32];

	session_close(s);
	/* dir is /tmp/check_session.XXXXXX/state/lanhttpd */
	*strstr(dir, "/state/") = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct span
sp(const char *t)
{
	return (struct span){ .p = t, .len = strlen(t) };
}

START_TEST(made_checked_and_modes)
{
	struct session_state *s = open_fresh();
	char tok[SHARELINK_TOKEN_LONGEST], key[PATH_MAX + 8];
	struct sharelink sl;
	struct stat st;

	ck_assert_uint_gt(session_make(s, SL_READ, "alice", "photos/2024",
	    NOW + 60, 0, tok, sizeof(tok)), 0);
	ck_assert_int_eq(session_check(s, sp(tok), NOW, &sl), 0);
	ck_assert_int_eq(sl.kind, SL_READ);
	ck_assert_str_eq(sl.user, "alice");
	ck_assert_str_eq(sl.subject, "photos/2024");
	/* Expired at its expiry second, and after. */
	ck_assert_int_eq(session_check(s, sp(tok), NOW + 60, &sl), -1);
	/* One byte changed anywhere: refused. */
	tok[3] = tok[3] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(session_check(s, sp(tok), NOW, &sl), -1);
	/* The key is the owner's alone; the folder too. */
	snprintf(key, sizeof(key), "%s/key", dir);
	ck_assert_int_eq(stat(key, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	cleanup(s);
}
END_TEST

START_TEST(key_survives_a_restart)
{
	struct session_state *s = open_fresh();
	char tok[SHARELINK_TOKEN_LONGEST];
	struct sharelink sl;

	ck_assert_uint_gt(session_make(s, SL_SESSION, "bob", "bob", NOW + 60,
	    0, tok, sizeof(tok)), 0);
	s = reopen(s);
	ck_assert_int_eq(session_check(s, sp(tok), NOW, &sl), 0);
	cleanup(s);
}
END_TEST

START_TEST(revoked_stays_revoked)
{
	struct session_state *s = open_fresh();
	char a[SHARELINK_TOKEN_LONGEST], b[SHARELINK_TOKEN_LONGEST];
	struct sharelink sl;

	ck_assert_uint_gt(session_make(s, SL_READ, "alice", "x", NOW + 60, 0,
	    a, sizeof(a)), 0);
	ck_assert_uint_gt(session_make(s, SL_READ, "alice", "y", NOW + 60, 0,
	    b, sizeof(b)), 0);
	ck_assert_int_eq(session_revoke(s, sp(a), NOW), 0);
	ck_assert_int_eq(session_check(s, sp(a), NOW, &sl), -1);
	ck_assert_int_eq(session_check(s, sp(b), NOW, &sl), 0);
	/* A revoked token cannot be revoked again (it is not valid). */
	ck_assert_int_eq(session_revoke(s, sp(a), NOW), -1);
	s = reopen(s);
	ck_assert_int_eq(session_check(s, sp(a), NOW, &sl), -1);
	ck_assert_int_eq(session_check(s, sp(b), NOW, &sl), 0);
	cleanup(s);
}
END_TEST

START_TEST(file_token_dies_with_its_login)
{
	struct session_state *s = open_fresh();
	char login[SHARELINK_TOKEN_LONGEST], file[SHARELINK_TOKEN_LONGEST];
	struct sharelink sl;
	uint32_t id;

	ck_assert_uint_gt(session_make(s, SL_SESSION, "carol", "carol",
	    NOW + 60, 0, login, sizeof(login)), 0);
	id = session_id(sp(login));
	ck_assert_uint_gt(session_make(s, SL_FILE, "carol", "a/b.mp4",
	    NOW + 60, id, file, sizeof(file)), 0);
	ck_assert_int_eq(session_check(s, sp(file), NOW, &sl), 0);
	ck_assert_int_eq(session_revoke(s, sp(login), NOW), 0);
	ck_assert_int_eq(session_check(s, sp(file), NOW, &sl), -1);
	cleanup(s);
}
END_TEST

START_TEST(too_long_is_refused)
{
	struct session_state *s = open_fresh();
	char tok[SHARELINK_TOKEN_LONGEST], subject[SHARELINK_SUBJECT_MAX + 2];

	memset(subject, 'a', sizeof(subject) - 1);
	subject[sizeof(subject) - 1] = '\0';
	ck_assert_uint_eq(session_make(s, SL_READ, "alice", subject, NOW, 0,
	    tok, sizeof(tok)), 0);
	subject[SHARELINK_SUBJECT_MAX] = '\0';
	ck_assert_uint_gt(session_make(s, SL_READ, "alice", subject, NOW, 0,
	    tok, sizeof(tok)), 0);
	cleanup(s);
}
END_TEST

START_TEST(default_dir_follows_the_environment)
{
	char out[PATH_MAX];

	setenv("STATE_DIRECTORY", "/var/lib/lanhttpd:/var/lib/other", 1);
	ck_assert_int_eq(session_default_dir(out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/var/lib/lanhttpd");
	unsetenv("STATE_DIRECTORY");
	setenv("XDG_STATE_HOME", "/home/u/.st", 1);
	ck_assert_int_eq(session_default_dir(out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/home/u/.st/lanhttpd");
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/u", 1);
	ck_assert_int_eq(session_default_dir(out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/home/u/.local/state/lanhttpd");
	unsetenv("HOME");
	ck_assert_int_eq(session_default_dir(out, sizeof(out)), -1);
}
END_TEST

static Suite *
session_suite(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("tokens");

	tcase_add_test(tc, made_checked_and_modes);
	tcase_add_test(tc, key_survives_a_restart);
	tcase_add_test(tc, revoked_stays_revoked);
	tcase_add_test(tc, file_token_dies_with_its_login);
	tcase_add_test(tc, too_long_is_refused);
	tcase_add_test(tc, default_dir_follows_the_environment);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(session_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
