/*
 * check_listing_cache.c - the listing cache on real directories: hits,
 * invalidation by inotify, a change racing with a fill, what is checked
 * on each hit, the page and byte bounds, and bodies outliving the cache.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "dirwatch.h"
#include "listing_cache.h"
#include "testutil.h"

/* The registry every cache in a test learns from. */
static struct dirwatch *g_dw;

static void
dw_setup(void)
{
	g_dw = dirwatch_new();
	ck_assert_ptr_nonnull(g_dw);
}

static void
dw_teardown(void)
{
	/* Every watch was put back when the caches went. */
	ck_assert_uint_eq(dirwatch_count(g_dw), 0);
	dirwatch_free(g_dw);
	g_dw = NULL;
}

/* dir/name, in a buffer that lives until the next call. */
static const char *
path_in(const char *dir, const char *name)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

struct fixture {
	char		*root;
	char		 real[PATH_MAX];
	int		 root_fd, dfd;
	struct stat	 st;
	struct listing_src src;
};

static void
fx_open(struct fixture *f)
{
	f->root = tu_mkdtemp();
	tu_write_file(f->root, "a.txt", "a", 1);
	ck_assert_ptr_nonnull(realpath(f->root, f->real));
	f->root_fd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	f->dfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert(f->root_fd >= 0 && f->dfd >= 0);
	ck_assert_int_eq(fstat(f->dfd, &f->st), 0);
	f->src = (struct listing_src){ .tree = { .fd = f->root_fd,
	    .real = f->real, .symlinks = SYMLINKS_INSIDE }, .rel = "" };
}

static void
fx_close(struct fixture *f)
{
	close(f->dfd);
	close(f->root_fd);
	tu_rmtree(f->root);
}

static struct listing_key
key(const struct fixture *f, uint32_t variant)
{
	return (struct listing_key){ .rel = "", .rel_len = 0,
	    .dev = f->st.st_dev, .ino = f->st.st_ino, .cfg_gen = 1,
	    .variant = variant };
}

/* Reads the directory and stores body as page variant; the put's rc. */
static int
fill(struct listing_cache *lc, struct fixture *f, uint32_t variant,
    const char *body, size_t len, bool change_midway)
{
	struct listing_key k = key(f, variant);
	struct listing_fill fl;
	struct listing_page pg;
	struct listing l;
	int r;

	ck_assert_int_eq(listing_cache_begin(lc, f->dfd, &fl), 0);
	listing_init(&l);
	ck_assert_int_eq(listing_read(&l, f->dfd, &f->src), 0);
	if (change_midway)
		tu_write_file(f->root, "raced.txt", "r", 1);
	r = listing_cache_put(lc, &fl, &k, body, len, "\"e\"", 3, &l, &pg);
	if (r == 0)
		close(pg.fd);
	listing_cache_end(lc, &fl);
	listing_release(&l);
	return r;
}

static bool
hit(struct listing_cache *lc, struct fixture *f, uint32_t variant,
    const char *want)
{
	struct listing_key k = key(f, variant);
	struct listing_page pg;
	char buf[256];
	ssize_t n;

	dirwatch_sync(g_dw);	/* what a worker does before a lookup */
	if (!listing_cache_get(lc, &k, f->dfd, &f->src, &pg))
		return false;
	n = pread(pg.fd, buf, sizeof(buf), 0);
	close(pg.fd);
	ck_assert_int_eq((int)n, (int)strlen(want));
	ck_assert(memcmp(buf, want, (size_t)n) == 0);
	ck_assert_uint_eq(pg.len, strlen(want));
	ck_assert(pg.etag_len == 3 && memcmp(pg.etag, "\"e\"", 3) == 0);
	return true;
}

START_TEST(hit_until_the_folder_changes)
{
	struct listing_cache *lc = listing_cache_new(8, 1 << 20, g_dw);
	struct fixture f;
	size_t n, bytes, w;

	fx_open(&f);
	ck_assert(!hit(lc, &f, 0, "page"));
	ck_assert_int_eq(fill(lc, &f, 0, "page", 4, false), 0);
	ck_assert(hit(lc, &f, 0, "page"));
	ck_assert(hit(lc, &f, 0, "page"));
	ck_assert(!hit(lc, &f, 1, "page"));	/* another variant */
	tu_write_file(f.root, "b.txt", "b", 1);
	ck_assert(!hit(lc, &f, 0, "page"));
	ck_assert_int_eq(fill(lc, &f, 0, "page2", 5, false), 0);
	ck_assert(hit(lc, &f, 0, "page2"));
	ck_assert_int_eq(truncate(path_in(f.root, "b.txt"), 100), 0);
	ck_assert(!hit(lc, &f, 0, "page2"));
	/* No page left: no watch either, in the kernel or here. */
	listing_cache_usage(lc, &n, &bytes, &w);
	ck_assert(n == 0 && bytes == 0 && w == 0);
	listing_cache_free(lc);
	fx_close(&f);
}
END_TEST

START_TEST(a_change_during_the_fill_is_not_kept)
{
	struct listing_cache *lc = listing_cache_new(8, 1 << 20, g_dw);
	struct fixture f;
	size_t n, bytes, w;

	fx_open(&f);
	ck_assert_int_eq(fill(lc, &f, 0, "page", 4, true), 0);
	ck_assert(!hit(lc, &f, 0, "page"));
	listing_cache_usage(lc, &n, &bytes, &w);
	ck_assert_uint_eq(n, 0);
	listing_cache_free(lc);
	fx_close(&f);
}
END_TEST

START_TEST(subfolders_are_checked_on_each_hit)
{
	struct listing_cache *lc = listing_cache_new(8, 1 << 20, g_dw);
	struct timeval tv[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct fixture f;

	fx_open(&f);
	ck_assert_int_eq(mkdir(path_in(f.root, "sub"), 0755), 0);
	ck_assert_int_eq(utimes(path_in(f.root, "sub"), tv), 0);
	ck_assert_int_eq(fill(lc, &f, 0, "page", 4, false), 0);
	ck_assert(hit(lc, &f, 0, "page"));
	/* Inside sub: no event on the folder's watch, but sub's mtime. */
	tu_write_file(path_in(f.root, "sub"), "x", "x", 1);
	ck_assert(!hit(lc, &f, 0, "page"));
	listing_cache_free(lc);
	fx_close(&f);
}
END_TEST

START_TEST(bounded_in_pages_and_bytes)
{
	struct listing_cache *lc = listing_cache_new(3, 64 * 1024, g_dw);
	static char big[20000];
	struct fixture f;
	size_t n, bytes, w;

	fx_open(&f);
	for (uint32_t v = 0; v < 5; v++)
		ck_assert_int_eq(fill(lc, &f, v, "p", 1, false), 0);
	listing_cache_usage(lc, &n, &bytes, &w);
	ck_assert_uint_eq(n, 3);
	ck_assert(!hit(lc, &f, 0, "p") && !hit(lc, &f, 1, "p"));
	ck_assert(hit(lc, &f, 2, "p"));		/* now the most recent */
	ck_assert_int_eq(fill(lc, &f, 5, "p", 1, false), 0);
	ck_assert(hit(lc, &f, 2, "p") && !hit(lc, &f, 3, "p"));
	/* Over a quarter of the bytes: served, never kept. */
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(fill(lc, &f, 9, big, sizeof(big), false), -EFBIG);
	/* Two pages of 12 KiB each fit a 64 KiB cache with the rest... */
	ck_assert_int_eq(fill(lc, &f, 10, big, 12000, false), 0);
	ck_assert_int_eq(fill(lc, &f, 11, big, 12000, false), 0);
	listing_cache_usage(lc, &n, &bytes, &w);
	ck_assert_uint_le(bytes, 64 * 1024);
	ck_assert_uint_le(n, 3);
	ck_assert_uint_eq(w, 1);	/* one folder, one watch */
	listing_cache_free(lc);
	fx_close(&f);
}
END_TEST

START_TEST(a_body_outlives_its_page)
{
	struct listing_cache *lc = listing_cache_new(8, 1 << 20, g_dw);
	struct listing_key k;
	struct listing_page pg;
	struct fixture f;
	char buf[16];

	fx_open(&f);
	k = key(&f, 0);
	ck_assert_int_eq(fill(lc, &f, 0, "kept body", 9, false), 0);
	dirwatch_sync(g_dw);
	ck_assert(listing_cache_get(lc, &k, f.dfd, &f.src, &pg));
	listing_cache_flush(lc);
	ck_assert(!hit(lc, &f, 0, "kept body"));
	listing_cache_free(lc);
	ck_assert_int_eq((int)pread(pg.fd, buf, sizeof(buf), 0), 9);
	ck_assert(memcmp(buf, "kept body", 9) == 0);
	/* Sealed: nobody can change what a response is sending. */
	ck_assert_int_eq((int)pwrite(pg.fd, "x", 1, 0), -1);
	close(pg.fd);
	fx_close(&f);
}
END_TEST

/* Review item 8: running out of descriptors is no reason to drop a page. */
START_TEST(a_page_survives_a_descriptor_shortage)
{
	struct listing_cache *lc = listing_cache_new(8, 1 << 20, g_dw);
	struct rlimit old, tight;
	struct fixture f;
	size_t n, bytes, w;
	int probe;

	fx_open(&f);
	ck_assert_int_eq(fill(lc, &f, 0, "page", 4, false), 0);
	ck_assert(hit(lc, &f, 0, "page"));
	/* Only descriptors below the next free one: a dup cannot succeed. */
	probe = dup(0);
	ck_assert(probe >= 0);
	close(probe);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	tight = old;
	tight.rlim_cur = (rlim_t)probe;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &tight), 0);
	ck_assert(!hit(lc, &f, 0, "page"));
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	listing_cache_usage(lc, &n, &bytes, &w);
	ck_assert_uint_eq(n, 1);
	ck_assert(hit(lc, &f, 0, "page"));
	listing_cache_free(lc);
	fx_close(&f);
}
END_TEST

START_TEST(off_caches_nothing)
{
	struct listing_cache *lc = listing_cache_new(0, 1 << 20, g_dw);
	struct listing_fill fl;
	struct fixture f;

	fx_open(&f);
	ck_assert_int_lt(listing_cache_begin(lc, f.dfd, &fl), 0);
	ck_assert_int_lt(listing_cache_begin(NULL, f.dfd, &fl), 0);
	ck_assert(!hit(lc, &f, 0, "p"));
	listing_cache_free(lc);
	fx_close(&f);
}
END_TEST

static Suite *
listing_cache_suite(void)
{
	Suite *s = suite_create("listing_cache");
	TCase *tc = tcase_create("cache");

	tcase_add_checked_fixture(tc, dw_setup, dw_teardown);
	tcase_add_test(tc, hit_until_the_folder_changes);
	tcase_add_test(tc, a_change_during_the_fill_is_not_kept);
	tcase_add_test(tc, subfolders_are_checked_on_each_hit);
	tcase_add_test(tc, bounded_in_pages_and_bytes);
	tcase_add_test(tc, a_body_outlives_its_page);
	tcase_add_test(tc, a_page_survives_a_descriptor_shortage);
	tcase_add_test(tc, off_caches_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(listing_cache_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
