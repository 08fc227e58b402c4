/*
 * check_dirwatch.c - the inotify registry the caches share: one watch per
 * directory with references, events delivered by a sync in queue order,
 * and an overflow reported as one.
 */
#include "dirwatch.h"

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

struct seen {
	char		 names[64][32];
	uint32_t	 masks[64];
	size_t		 n;
	struct dw_watch	*last_w;
	unsigned	 overflows, flushes;
};

static void
note_event(void *arg, struct dw_watch *w, uint32_t mask, const char *name,
    size_t len)
{
	struct seen *s = arg;

	s->last_w = w;
	if (s->n < 64) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%.*s", (int)len,
		    name);
		s->masks[s->n] = mask;
		s->n++;
	}
}

static void
note_overflow(void *arg)
{
	((struct seen *)arg)->overflows++;
}

static void
note_flush(void *arg)
{
	((struct seen *)arg)->flushes++;
}

static int
open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert(fd >= 0);
	return fd;
}

START_TEST(two_paths_to_a_directory_share_one_watch)
{
	struct dirwatch *dw = dirwatch_new();
	char *root = tu_mkdtemp(), link[PATH_MAX];
	struct dw_watch *a, *b;
	int fa, fb, err = 0;

	snprintf(link, sizeof(link), "%s-link", root);
	ck_assert_int_eq(symlink(root, link), 0);
	fa = open_dir(root);
	fb = open(link, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert(fb >= 0);
	a = dirwatch_get(dw, fa, &err);
	b = dirwatch_get(dw, fb, &err);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(a, b);
	ck_assert_uint_eq(dirwatch_count(dw), 1);
	dirwatch_put(dw, a);
	ck_assert_uint_eq(dirwatch_count(dw), 1);
	dirwatch_put(dw, b);
	ck_assert_uint_eq(dirwatch_count(dw), 0);
	close(fa);
	close(fb);
	unlink(link);
	tu_rmtree(root);
	dirwatch_free(dw);
}
END_TEST

START_TEST(a_sync_delivers_what_happened_before_it_in_order)
{
	struct dirwatch *dw = dirwatch_new();
	struct dirwatch_sub sub = { .event = note_event,
	    .overflow = note_overflow, .flush = note_flush };
	char *root = tu_mkdtemp();
	struct seen s = { .n = 0 };
	struct dw_watch *w;
	uint64_t gen;
	int fd = open_dir(root), err = 0;
	char from[PATH_MAX], to[PATH_MAX];

	sub.arg = &s;
	ck_assert_int_eq(dirwatch_subscribe(dw, &sub), 0);
	ck_assert_ptr_nonnull(w = dirwatch_get(dw, fd, &err));
	gen = dirwatch_gen(w);
	dirwatch_sync(dw);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_uint_eq(s.flushes, 0);	/* nothing happened */
	tu_write_file(root, "a.txt", "x", 1);
	snprintf(from, sizeof(from), "%s/a.txt", root);
	snprintf(to, sizeof(to), "%s/b.txt", root);
	ck_assert_int_eq(rename(from, to), 0);
	/* Queued before the calls returned: the sync sees all of it. */
	dirwatch_sync(dw);
	ck_assert_uint_ge(s.n, 3);
	ck_assert_str_eq(s.names[0], "a.txt");
	ck_assert(s.masks[0] & IN_CREATE);
	ck_assert_str_eq(s.names[s.n - 1], "b.txt");
	ck_assert(s.masks[s.n - 1] & IN_MOVED_TO);
	ck_assert_ptr_eq(s.last_w, w);
	ck_assert_uint_eq(s.flushes, 1);
	ck_assert_uint_gt(dirwatch_gen(w), gen);
	/* After unsubscribing, nothing more arrives. */
	dirwatch_unsubscribe(dw, &s);
	s.n = 0;
	tu_write_file(root, "c.txt", "x", 1);
	dirwatch_sync(dw);
	ck_assert_uint_eq(s.n, 0);
	dirwatch_put(dw, w);
	close(fd);
	tu_rmtree(root);
	dirwatch_free(dw);
}
END_TEST

START_TEST(a_lost_event_is_reported_as_an_overflow)
{
	struct dirwatch *dw = dirwatch_new();
	struct dirwatch_sub sub = { .event = note_event,
	    .overflow = note_overflow, .flush = note_flush };
	char *root = tu_mkdtemp(), path[PATH_MAX];
	struct seen s = { .n = 0 };
	struct dw_watch *w;
	unsigned long max = 16384;
	int fd = open_dir(root), err = 0;
	uint64_t epoch = dirwatch_epoch(dw);
	FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");

	if (f != NULL) {
		ck_assert_int_eq(fscanf(f, "%lu", &max), 1);
		fclose(f);
	}
	sub.arg = &s;
	ck_assert_int_eq(dirwatch_subscribe(dw, &sub), 0);
	ck_assert_ptr_nonnull(w = dirwatch_get(dw, fd, &err));
	/* Each file is a create and a close after writing: two events. */
	for (unsigned long i = 0; i < max / 2 + 64; i++) {
		int nfd;

		snprintf(path, sizeof(path), "%s/f%lu", root, i);
		nfd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		ck_assert(nfd >= 0);
		close(nfd);
	}
	dirwatch_sync(dw);
	ck_assert_uint_eq(s.overflows, 1);
	ck_assert_uint_eq(dirwatch_epoch(dw), epoch + 1);
	dirwatch_put(dw, w);
	close(fd);
	tu_rmtree(root);
	dirwatch_free(dw);
}
END_TEST

START_TEST(a_deleted_directory_lets_its_watch_go)
{
	struct dirwatch *dw = dirwatch_new();
	char *root = tu_mkdtemp(), sub[PATH_MAX];
	struct dw_watch *w;
	int fd, err = 0;

	snprintf(sub, sizeof(sub), "%s/sub", root);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	fd = open_dir(sub);
	ck_assert_ptr_nonnull(w = dirwatch_get(dw, fd, &err));
	/* The watch holds no descriptor: the caches close theirs at once. */
	close(fd);
	ck_assert_int_eq(rmdir(sub), 0);
	dirwatch_sync(dw);
	/* The kernel dropped it (IN_IGNORED); the reference still holds. */
	ck_assert_uint_eq(dirwatch_count(dw), 0);
	dirwatch_put(dw, w);
	tu_rmtree(root);
	dirwatch_free(dw);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dirwatch");
	TCase *tc = tcase_create("registry");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, two_paths_to_a_directory_share_one_watch);
	tcase_add_test(tc, a_sync_delivers_what_happened_before_it_in_order);
	tcase_add_test(tc, a_lost_event_is_reported_as_an_overflow);
	tcase_add_test(tc, a_deleted_directory_lets_its_watch_go);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
