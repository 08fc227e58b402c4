/*
 * check_archive.c - a folder as a ZIP or a tar: a real tree (nested and
 * empty folders, UTF-8 and long names, a dotfile and a link out of the
 * tree that must stay out) read whole through the cursor and checked by
 * other programs (Python's zipfile, unzip, 7z, bsdtar, GNU tar, diff);
 * every byte range equal to the same slice of the whole, with the CRC
 * table cold; ZIP64 on a sparse 5 GiB file; a file changed under the
 * plan; the ETag; and two timings for the lead.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "archive.h"
#include "testutil.h"

#define UTF8_NAME	"\xc3\x89T\xc3\x89 \xce\xa3\xce\x9f\xce\xa6.txt"
#define LONG_NAME	"a-name-longer-than-one-hundred-bytes-so-that-ustar-" \
			"cannot-hold-it-in-its-name-field-alone-0123456789.txt"
#define BIG_LEN		(3u << 20)	/* more than ARCHIVE_PIECE_MAX */

/* The root, the folder archived ("top" in it), and a place outside. */
static char *root, *outside, *scratch;
static char real[PATH_MAX];
static int root_fd = -1;

/* The path of rel under the root, in a static buffer. */
static char *
at(const char *rel)
{
	static char path[PATH_MAX];

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", root, rel),
	    (int)sizeof(path));
	return path;
}

static void
mk(const char *rel)
{
	ck_assert_int_eq(mkdir(at(rel), 0755), 0);
}

static void
put(const char *rel, const char *s)
{
	tu_write_file(root, rel, s, strlen(s));
}

/* A file of len bytes of a pattern that differs at every offset. */
static void
put_big(const char *rel, size_t len)
{
	char *p = malloc(len);

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (char)(i * 2654435761u >> 13);
	tu_write_file(root, rel, p, len);
	free(p);
}

/*
 *	top/a.txt, top/alias.txt -> a.txt, top/UTF8_NAME
 *	top/b/c.bin (3 MiB), top/b/empty/, top/b/deep/x/y/z.txt
 *	top/d1/LONG_NAME, top/d1/<long folders>/f.txt (a path > 256 bytes)
 *	top/.hidden, top/out -> OUTSIDE (both must stay out)
 */
static void
setup(void)
{
	char longdir[PATH_MAX];

	root = tu_mkdtemp();
	outside = tu_mkdtemp();
	scratch = tu_mkdtemp();
	mk("top");
	put("top/a.txt", "hello\n");
	ck_assert_int_eq(symlink("a.txt", at("top/alias.txt")), 0);
	put("top/" UTF8_NAME, "utf-8\n");
	mk("top/b");
	put_big("top/b/c.bin", BIG_LEN);
	mk("top/b/empty");
	mk("top/b/deep");
	mk("top/b/deep/x");
	mk("top/b/deep/x/y");
	put("top/b/deep/x/y/z.txt", "zzz");
	mk("top/d1");
	put("top/d1/" LONG_NAME, "long\n");
	snprintf(longdir, sizeof(longdir), "top/d1/%0120d", 1);
	mk(longdir);
	snprintf(longdir, sizeof(longdir), "top/d1/%0120d/%0120d", 1, 2);
	mk(longdir);
	strcat(longdir, "/f.txt");
	put(longdir, "deep and long\n");
	put("top/.hidden", "secret");
	tu_write_file(outside, "o.txt", "o", 1);
	ck_assert_int_eq(symlink(outside, at("top/out")), 0);
	ck_assert_ptr_nonnull(realpath(root, real));
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(root_fd, 0);
}

static void
teardown(void)
{
	close(root_fd);
	root_fd = -1;
	tu_rmtree(root);
	tu_rmtree(outside);
	tu_rmtree(scratch);
	root = outside = scratch = NULL;
}

static struct listing_src
src_of(const char *rel, enum symlink_policy links, bool hidden)
{
	return (struct listing_src){ .rel = rel, .tree = { .fd = root_fd,
	    .real = real, .symlinks = links, .allow_hidden = hidden } };
}

/* Plans the folder of src; the return code must be 0. */
static struct archive *
plan_src(const struct listing_src *src, enum archive_kind kind,
    const struct archive_filter *filter)
{
	struct archive *a;
	int dfd, r;

	dfd = open(at(src->rel), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	r = archive_plan(dfd, src, kind, false, filter, &a);
	close(dfd);
	ck_assert_msg(r == 0, "archive_plan: %s", strerror(-r));
	return a;
}

static struct archive *
plan(enum archive_kind kind)
{
	struct listing_src src = src_of("top", SYMLINKS_INSIDE, false);

	return plan_src(&src, kind, NULL);
}

/*
 * Reads bytes [start, end] of a through a cursor (which takes a) with at
 * most cap segments per call, into out (end - start + 1 bytes).  Returns
 * what archive_next() last returned: 0 when all went, -1 on failure.
 */
static int
read_range(struct archive *a, uint64_t start, uint64_t end, size_t cap,
    char *out)
{
	struct archive_cursor *c = archive_open(a, start, end);
	struct out_seg segs[CONN_MAX_SEGS];
	uint64_t got = 0;
	int n, fd;

	ck_assert_ptr_nonnull(c);
	while ((n = archive_next(c, segs, cap, &fd)) > 0) {
		ck_assert_int_le(n, (int)cap);
		for (int i = 0; i < n; i++) {
			ck_assert_uint_gt(segs[i].len, 0);
			ck_assert_uint_le(got + segs[i].len, end - start + 1);
			if (segs[i].mem != NULL)
				memcpy(out + got, segs[i].mem, segs[i].len);
			else {
				ck_assert_uint_le(segs[i].len,
				    ARCHIVE_PIECE_MAX);
				ck_assert_int_eq(pread(fd, out + got,
				    segs[i].len, segs[i].off),
				    (ssize_t)segs[i].len);
			}
			got += segs[i].len;
		}
	}
	if (n == 0)
		ck_assert_uint_eq(got, end - start + 1);
	archive_close(c);
	return n;
}

/* The whole archive of a (taken) in memory; its length in *len. */
static char *
read_all(struct archive *a, size_t cap, size_t *len)
{
	char *buf;

	*len = archive_size(a);
	buf = malloc(*len);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read_range(a, 0, *len - 1, cap, buf), 0);
	return buf;
}

static char *
save(const char *name, const char *buf, size_t len)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", scratch, name);
	tu_write_file(scratch, name, buf, len);
	return path;
}

/* Runs a shell command; its exit status. */
static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_int_lt(r, (int)sizeof(cmd));
	r = system(cmd);
	ck_assert_msg(r != -1 && WIFEXITED(r), "cannot run: %s", cmd);
	return WEXITSTATUS(r);
}

/* The folder's files and folders, less what must stay out, as extracted. */
static void
assert_extracts_to_tree(const char *dir)
{
	ck_assert_int_eq(sh("diff -r -x .hidden -x out '%s/top' '%s'", root,
	    dir), 0);
	ck_assert_int_eq(sh("test -d '%s/b/empty'", dir), 0);
	ck_assert_int_ne(sh("test -e '%s/.hidden' || test -e '%s/out'", dir,
	    dir), 0);
}

/* An empty folder under scratch for an extraction. */
static const char *
fresh_dir(const char *name)
{
	static char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/%s", scratch, name);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	return dir;
}

#define ENTRIES	15	/* what setup() makes that an archive holds */

START_TEST(zip_is_read_by_every_tool)
{
	struct archive *a = plan(ARCHIVE_ZIP);
	const char *zip, *dir;
	size_t len;
	char *buf;

	ck_assert_uint_eq(archive_count(a), ENTRIES);
	ck_assert_str_eq(archive_etag(a), archive_etag(a));
	ck_assert_int_eq(strncmp(archive_etag(a), "\"z-", 3), 0);
	buf = read_all(a, 4, &len);
	zip = save("t.zip", buf, len);
	/* The classic end record closes it: no ZIP64 for a small folder. */
	ck_assert_int_eq(memcmp(buf + len - 22, "PK\5\6", 4), 0);
	ck_assert_int_ne(memcmp(buf + len - 42, "PK\6\7", 4), 0);
	ck_assert_int_eq(sh("python3 -c 'import zipfile,sys; "
	    "z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; "
	    "n=z.namelist(); assert len(n)==%d, n; "
	    "assert \"b/empty/\" in n and \"d1/" LONG_NAME "\" in n, n; "
	    "assert not any(\".hidden\" in x or x.startswith(\"out\") "
	    "for x in n), n' '%s'", ENTRIES, zip), 0);
	ck_assert_int_eq(sh("unzip -tq '%s' >/dev/null", zip), 0);
	ck_assert_int_eq(sh("7z t '%s' >/dev/null", zip), 0);
	dir = fresh_dir("bsdtar");
	ck_assert_int_eq(sh("cd '%s' && bsdtar -xf '%s'", dir, zip), 0);
	assert_extracts_to_tree(dir);
	dir = fresh_dir("unzip");
	ck_assert_int_eq(sh("cd '%s' && unzip -q '%s'", dir, zip), 0);
	assert_extracts_to_tree(dir);
	free(buf);
}
END_TEST

START_TEST(tar_is_read_by_every_tool)
{
	struct archive *a = plan(ARCHIVE_TAR);
	const char *tar, *dir;
	size_t len;
	char *buf;

	ck_assert_uint_eq(archive_count(a), ENTRIES);
	ck_assert_int_eq(strncmp(archive_etag(a), "\"t-", 3), 0);
	buf = read_all(a, 4, &len);
	ck_assert_uint_eq(len % 512, 0);
	tar = save("t.tar", buf, len);
	ck_assert_int_eq(sh("test $(tar -tf '%s' | wc -l) -eq %d", tar,
	    ENTRIES), 0);
	ck_assert_int_eq(sh("test $(bsdtar -tf '%s' | wc -l) -eq %d", tar,
	    ENTRIES), 0);
	ck_assert_int_eq(sh("python3 -c 'import tarfile,sys; "
	    "t=tarfile.open(sys.argv[1]); n=t.getnames(); "
	    "assert len(n)==%d, n' '%s'", ENTRIES, tar), 0);
	dir = fresh_dir("gnutar");
	ck_assert_int_eq(sh("cd '%s' && tar -xf '%s'", dir, tar), 0);
	assert_extracts_to_tree(dir);
	dir = fresh_dir("bsdtar");
	ck_assert_int_eq(sh("cd '%s' && bsdtar -xf '%s'", dir, tar), 0);
	assert_extracts_to_tree(dir);
	free(buf);
}
END_TEST

/*
 * Every range [s, e] read through a fresh cursor equals the same slice
 * of the whole.  Each range runs in a child process, so the CRC table is
 * as cold as the whole read left it (empty: that ran in another child),
 * and a range that starts inside a file must read its beginning.
 */
/*
 * The whole archive of kind, made in a child so that this process's CRC
 * table stays cold; its length in *len.
 */
static char *
whole_cold(enum archive_kind kind, size_t *len)
{
	char path[PATH_MAX], *whole;
	int status, fd;
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		whole = read_all(plan(kind), 4, len);
		tu_write_file(scratch, "whole", whole, *len);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	whole = malloc(BIG_LEN * 2);
	ck_assert_ptr_nonnull(whole);
	snprintf(path, sizeof(path), "%s/whole", scratch);
	ck_assert_int_ge(fd = open(path, O_RDONLY | O_CLOEXEC), 0);
	*len = (size_t)read(fd, whole, BIG_LEN * 2);
	ck_assert_uint_lt(*len, BIG_LEN * 2);
	close(fd);
	return whole;
}

static void
ranges_match(enum archive_kind kind, size_t rounds)
{
	size_t len;
	char *whole = whole_cold(kind, &len), *part;
	pid_t pid;
	int status;

	srandom(kind == ARCHIVE_ZIP ? 7 : 11);
	for (size_t i = 0; i < rounds; i++) {
		uint64_t s = (uint64_t)random() % len, e;

		/* Short ranges near s half of the time, any otherwise. */
		e = i % 2 ? s + (uint64_t)random() % 700 :
		    s + (uint64_t)random() % (len - s);
		if (e >= len)
			e = len - 1;
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			part = malloc(e - s + 1);
			if (part == NULL || read_range(plan(kind), s, e,
			    4 + i % 37, part) != 0 ||
			    memcmp(part, whole + s, e - s + 1) != 0)
				_exit(1);
			_exit(0);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "range %" PRIu64 "-%" PRIu64 " of %zu differs", s, e, len);
	}
	/* And warm: the table now knows every CRC (read_all). */
	part = read_all(plan(kind), 40, &len);
	ck_assert_int_eq(memcmp(part, whole, len), 0);
	free(part);
	free(whole);
}

START_TEST(zip_ranges_match_the_whole)
{
	ranges_match(ARCHIVE_ZIP, 300);
}
END_TEST

START_TEST(tar_ranges_match_the_whole)
{
	ranges_match(ARCHIVE_TAR, 300);
}
END_TEST

/* Each single byte at the edges of every region, for ZIP. */
START_TEST(single_bytes_match)
{
	size_t len;
	char *whole = read_all(plan(_i == 0 ? ARCHIVE_ZIP : ARCHIVE_TAR), 4,
	    &len);
	char b;

	for (size_t s = 0; s < len; s += s < 4096 || len - s < 8192 ? 1 :
	    4093) {
		ck_assert_int_eq(read_range(plan(_i == 0 ? ARCHIVE_ZIP :
		    ARCHIVE_TAR), s, s, 4, &b), 0);
		ck_assert_msg(b == whole[s], "byte %zu", s);
	}
	free(whole);
}
END_TEST

/* Reads a whole archive of a, taken; its status (-1 if it failed). */
static int
drain(struct archive *a)
{
	size_t len = archive_size(a);
	char *buf = malloc(len);
	int r;

	ck_assert_ptr_nonnull(buf);
	r = read_range(a, 0, len - 1, 40, buf);
	free(buf);
	return r;
}

START_TEST(changed_file_fails)
{
	struct archive *a;
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 12345, 0 } };

	/* Cut short after the plan. */
	a = plan(_i == 0 ? ARCHIVE_ZIP : ARCHIVE_TAR);
	ck_assert_int_eq(truncate(at("top/b/c.bin"), 100), 0);
	ck_assert_int_eq(drain(a), -1);
	/* Same size, another modification time. */
	a = plan(_i == 0 ? ARCHIVE_ZIP : ARCHIVE_TAR);
	ck_assert_int_eq(utimensat(AT_FDCWD, at("top/a.txt"), ts, 0), 0);
	ck_assert_int_eq(drain(a), -1);
	/* Replaced by another file of the same size and time. */
	a = plan(_i == 0 ? ARCHIVE_ZIP : ARCHIVE_TAR);
	put("top/new", "hello\n");
	ck_assert_int_eq(utimensat(AT_FDCWD, at("top/new"), ts, 0), 0);
	ck_assert_int_eq(renameat(root_fd, "top/new", root_fd, "top/a.txt"),
	    0);
	ck_assert_int_eq(drain(a), -1);
	/* Gone. */
	a = plan(_i == 0 ? ARCHIVE_ZIP : ARCHIVE_TAR);
	ck_assert_int_eq(unlink(at("top/a.txt")), 0);
	ck_assert_int_eq(drain(a), -1);
	/* Unchanged since the plan: all goes. */
	ck_assert_int_eq(drain(plan(_i == 0 ? ARCHIVE_ZIP : ARCHIVE_TAR)), 0);
}
END_TEST

/* Changed while it is being sent: the next call notices. */
START_TEST(changed_while_sent_fails)
{
	struct archive *a = plan(ARCHIVE_TAR);
	struct archive_cursor *c = archive_open(a, 0, archive_size(a) - 1);
	struct out_seg segs[4];
	int n, fd;
	bool file = false;

	ck_assert_ptr_nonnull(c);
	/* Up to the first piece of c.bin (3 MiB: more pieces follow). */
	while (!file && (n = archive_next(c, segs, 4, &fd)) > 0) {
		struct stat st;

		for (int i = 0; i < n; i++)
			if (segs[i].mem == NULL && fstat(fd, &st) == 0 &&
			    st.st_size == BIG_LEN)
				file = true;
	}
	ck_assert(file);
	ck_assert_int_eq(truncate(at("top/b/c.bin"), BIG_LEN - 1), 0);
	ck_assert_int_eq(archive_next(c, segs, 4, &fd), -1);
	ck_assert_int_eq(archive_next(c, segs, 4, &fd), -1);
	archive_close(c);
}
END_TEST

static char *
etag_of(enum archive_kind kind)
{
	struct archive *a = plan(kind);
	char *t = strdup(archive_etag(a));

	ck_assert_ptr_nonnull(t);
	archive_free(a);
	return t;
}

START_TEST(etag_follows_names_sizes_and_times)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, 0 } };
	struct stat st;
	char *t0 = etag_of(ARCHIVE_ZIP), *t1, *tt = etag_of(ARCHIVE_TAR);

	ck_assert_str_ne(t0, tt);
	/* Rewritten with the same bytes and time: the same tag. */
	ck_assert_int_eq(stat(at("top/a.txt"), &st), 0);
	put("top/a.txt", "hello\n");
	ts[1] = st.st_mtim;
	ck_assert_int_eq(utimensat(AT_FDCWD, at("top/a.txt"), ts, 0), 0);
	t1 = etag_of(ARCHIVE_ZIP);
	ck_assert_str_eq(t0, t1);
	free(t1);
	/* One nanosecond later: another. */
	ts[1].tv_nsec = (ts[1].tv_nsec + 1) % 1000000000;
	ck_assert_int_eq(utimensat(AT_FDCWD, at("top/a.txt"), ts, 0), 0);
	t1 = etag_of(ARCHIVE_ZIP);
	ck_assert_str_ne(t0, t1);
	free(t1);
	/* Same time, another size: another. */
	ts[1] = st.st_mtim;
	put("top/a.txt", "hello!\n");
	ck_assert_int_eq(utimensat(AT_FDCWD, at("top/a.txt"), ts, 0), 0);
	t1 = etag_of(ARCHIVE_ZIP);
	ck_assert_str_ne(t0, t1);
	free(t1);
	/* A new empty folder: another. */
	put("top/a.txt", "hello\n");
	ck_assert_int_eq(utimensat(AT_FDCWD, at("top/a.txt"), ts, 0), 0);
	t1 = etag_of(ARCHIVE_ZIP);
	ck_assert_str_eq(t0, t1);
	free(t1);
	mk("top/b/empty2");
	t1 = etag_of(ARCHIVE_ZIP);
	ck_assert_str_ne(t0, t1);
	free(t1);
	free(t0);
	free(tt);
}
END_TEST

/* The names in the archive of src, one per line, as bsdtar lists them. */
static bool
holds(const struct listing_src *src, const struct archive_filter *filter,
    const char *name)
{
	size_t len;
	char *buf = read_all(plan_src(src, ARCHIVE_TAR, filter), 4, &len);
	const char *tar = save("l.tar", buf, len);

	free(buf);
	return sh("bsdtar -tf '%s' | grep -qx -- '%s'", tar, name) == 0;
}

START_TEST(link_and_dotfile_rules_are_the_listings)
{
	struct listing_src inside = src_of("top", SYMLINKS_INSIDE, false);
	struct listing_src none = src_of("top", SYMLINKS_NONE, false);
	struct listing_src all = src_of("top", SYMLINKS_ALL, true);

	ck_assert(holds(&inside, NULL, "alias.txt"));
	ck_assert(!holds(&inside, NULL, "out/o.txt"));
	ck_assert(!holds(&inside, NULL, ".hidden"));
	ck_assert(!holds(&none, NULL, "alias.txt"));
	ck_assert(holds(&all, NULL, ".hidden"));
	ck_assert(holds(&all, NULL, "out/o.txt"));
	/* A folder from the root: names stay relative to it. */
	inside.rel = "top/b";
	ck_assert(holds(&inside, NULL, "deep/x/y/z.txt"));
	ck_assert(holds(&inside, NULL, "empty/"));
}
END_TEST

START_TEST(links_do_not_loop)
{
	struct listing_src src = src_of("top", SYMLINKS_INSIDE, false);
	struct archive *a;

	ck_assert_int_eq(symlink(".", at("top/loop")), 0);
	ck_assert_int_eq(symlink("..", at("top/b/up")), 0);
	a = plan_src(&src, ARCHIVE_ZIP, NULL);
	/* Each shows as an empty folder: their folders were read before. */
	ck_assert_uint_eq(archive_count(a), ENTRIES + 2);
	ck_assert_int_eq(drain(a), 0);
	ck_assert(holds(&src, NULL, "loop/"));
	ck_assert(holds(&src, NULL, "b/up/"));
	ck_assert(!holds(&src, NULL, "loop/a.txt"));
}
END_TEST

static bool
not_b(void *arg, const char *rel, bool is_dir)
{
	ck_assert_ptr_eq(arg, (void *)not_b);
	ck_assert_int_eq(strncmp(rel, "top/", 4), 0);
	return !(is_dir && strcmp(rel, "top/b") == 0);
}

START_TEST(filter_leaves_out_and_does_not_enter)
{
	struct listing_src src = src_of("top", SYMLINKS_INSIDE, false);
	struct archive_filter f = { .may_see = not_b, .arg = (void *)not_b };
	struct archive *a = plan_src(&src, ARCHIVE_TAR, &f);

	ck_assert_uint_eq(archive_count(a), ENTRIES - 7);
	archive_free(a);
	ck_assert(!holds(&src, &f, "b/"));
	ck_assert(!holds(&src, &f, "b/c.bin"));
	ck_assert(holds(&src, &f, "a.txt"));
}
END_TEST

START_TEST(empty_folder)
{
	struct listing_src src = src_of("top/b/empty", SYMLINKS_INSIDE, false);
	size_t len;
	char *buf;

	buf = read_all(plan_src(&src, ARCHIVE_ZIP, NULL), 4, &len);
	ck_assert_uint_eq(len, 22);
	ck_assert_int_eq(sh("python3 -c 'import zipfile,sys; "
	    "assert zipfile.ZipFile(sys.argv[1]).namelist()==[]' '%s'",
	    save("e.zip", buf, len)), 0);
	free(buf);
	buf = read_all(plan_src(&src, ARCHIVE_TAR, NULL), 4, &len);
	ck_assert_uint_eq(len, 1024);
	free(buf);
}
END_TEST

/* Copies len (< 4096) bytes at off of fd to out at to. */
static void
copy_range(int fd, off_t off, uint64_t len, int out, uint64_t to)
{
	char b[4096];

	ck_assert_int_eq(pread(fd, b, len, off), (ssize_t)len);
	ck_assert_int_eq(pwrite(out, b, len, (off_t)to), (ssize_t)len);
}

/*
 * ZIP64: a sparse 5 GiB file.  The archive is streamed whole (CRCs read
 * from the holes) and only its headers and the small file written, at
 * their offsets, into a sparse file: the big file's data stays a hole,
 * which reads as the zeros it holds.  Python's zipfile then checks every
 * CRC, and unzip lists it.
 */
START_TEST(zip64_for_a_5_gib_file)
{
	struct listing_src src = src_of("big", SYMLINKS_INSIDE, false);
	const uint64_t big = 5ull << 30;
	struct archive *a;
	struct archive_cursor *c;
	struct out_seg segs[CONN_MAX_SEGS];
	char path[PATH_MAX];
	uint64_t off = 0;
	int n, fd, out, calls = 0;

	mk("big");
	put("big/small.txt", "small\n");
	ck_assert_int_ge(fd = open(at("big/huge.bin"), O_WRONLY | O_CREAT |
	    O_CLOEXEC, 0644), 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)big), 0);
	close(fd);
	a = plan_src(&src, ARCHIVE_ZIP, NULL);
	ck_assert_uint_eq(archive_count(a), 2);
	/* Two local headers, descriptors and central headers, ZIP64 ends. */
	ck_assert_uint_eq(archive_size(a), big + 6 +
	    (30 + 8 + 9 + 20) + (30 + 9 + 9 + 20) + 2 * 24 +
	    (46 + 8 + 9 + 28) + (46 + 9 + 9 + 28) + 56 + 20 + 22);
	snprintf(path, sizeof(path), "%s/big.zip", scratch);
	ck_assert_int_ge(out = open(path, O_WRONLY | O_CREAT | O_CLOEXEC,
	    0644), 0);
	ck_assert_int_eq(ftruncate(out, (off_t)archive_size(a)), 0);
	ck_assert_ptr_nonnull(c = archive_open(a, 0, archive_size(a) - 1));
	while ((n = archive_next(c, segs, CONN_MAX_SEGS, &fd)) > 0) {
		calls++;
		for (int i = 0; i < n; i++) {
			if (segs[i].mem != NULL)
				ck_assert_int_eq(pwrite(out, segs[i].mem,
				    segs[i].len, (off_t)off),
				    (ssize_t)segs[i].len);
			else if (segs[i].len < 4096)
				copy_range(fd, segs[i].off, segs[i].len, out,
				    off);
			off += segs[i].len;
		}
	}
	ck_assert_int_eq(n, 0);
	archive_close(c);
	close(out);
	ck_assert_uint_eq(off, big + 6 + 67 + 68 + 48 + 91 + 92 + 98);
	ck_assert_int_ge(calls, (int)(big / ARCHIVE_PIECE_MAX));
	ck_assert_int_eq(sh("python3 -c 'import zipfile,sys; "
	    "z=zipfile.ZipFile(sys.argv[1]); i=z.infolist(); "
	    "assert [x.file_size for x in i]==[%" PRIu64 ", 6], i; "
	    "assert z.read(\"small.txt\")==b\"small\\n\"; "
	    "assert z.testzip() is None' '%s'", big, path), 0);
	/* unzip reads the ZIP64 end records and central headers too. */
	ck_assert_int_eq(sh("unzip -l '%s' | "
	    "grep -q '^ *5368709120 .*huge.bin'", path), 0);
}
END_TEST

static double
secs_since(const struct timespec *t0)
{
	struct timespec t1;

	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Two figures for the lead: planning 20,000 files, streaming 256 MiB. */
START_TEST(timings)
{
	struct listing_src src = src_of("many", SYMLINKS_INSIDE, false);
	struct out_seg segs[CONN_MAX_SEGS];
	struct archive_cursor *c;
	struct archive *a;
	struct timespec t0;
	uint64_t sent = 0;
	char name[64];
	double s;
	int n, fd;

	mk("many");
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "many/d%02d", i % 100);
		if (i < 100)
			mk(name);
		snprintf(name, sizeof(name), "many/d%02d/f%05d.txt", i % 100,
		    i);
		put(name, "x");
	}
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	a = plan_src(&src, ARCHIVE_ZIP, NULL);
	s = secs_since(&t0);
	ck_assert_uint_eq(archive_count(a), 20100);
	printf("archive: planning 20,000 files in 100 folders took %.1f ms\n",
	    s * 1e3);
	archive_free(a);

	mk("one");
	put_big("one/f.bin", 256u << 20);
	src.rel = "one";
	a = plan_src(&src, ARCHIVE_ZIP, NULL);
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	ck_assert_ptr_nonnull(c = archive_open(a, 0, archive_size(a) - 1));
	while ((n = archive_next(c, segs, CONN_MAX_SEGS, &fd)) > 0)
		for (int i = 0; i < n; i++)
			sent += segs[i].len;
	ck_assert_int_eq(n, 0);
	archive_close(c);
	s = secs_since(&t0);
	ck_assert_uint_gt(sent, 256u << 20);
	printf("archive: 256 MiB through the cursor with its CRC (cached "
	    "file, no sending): %.0f MB/s\n", (double)sent / s / 1e6);
}
END_TEST

static Suite *
archive_suite(void)
{
	Suite *s = suite_create("archive");
	TCase *tc = tcase_create("archive");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, zip_is_read_by_every_tool);
	tcase_add_test(tc, tar_is_read_by_every_tool);
	tcase_add_test(tc, zip_ranges_match_the_whole);
	tcase_add_test(tc, tar_ranges_match_the_whole);
	tcase_add_loop_test(tc, single_bytes_match, 0, 2);
	tcase_add_loop_test(tc, changed_file_fails, 0, 2);
	tcase_add_test(tc, changed_while_sent_fails);
	tcase_add_test(tc, etag_follows_names_sizes_and_times);
	tcase_add_test(tc, link_and_dotfile_rules_are_the_listings);
	tcase_add_test(tc, links_do_not_loop);
	tcase_add_test(tc, filter_leaves_out_and_does_not_enter);
	tcase_add_test(tc, empty_folder);
	suite_add_tcase(s, tc);
	tc = tcase_create("big");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, zip64_for_a_5_gib_file);
	tcase_add_test(tc, timings);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(archive_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
