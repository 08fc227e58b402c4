/*
 * testutil.c - see testutil.h.
 */
#include "testutil.h"

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guard_hdr {
	void	*base;
	size_t	 maplen;
};

char *
tu_guarded(const void *data, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t need = len + sizeof(struct guard_hdr);
	size_t pages = (need + page - 1) / page;
	size_t maplen = (pages + 1) * page;
	char *base, *p;
	struct guard_hdr h;

	base = mmap(NULL, maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(base != MAP_FAILED, "mmap failed");
	ck_assert_int_eq(mprotect(base + pages * page, page, PROT_NONE), 0);
	p = base + pages * page - len;
	if (len > 0)
		memcpy(p, data, len);
	/* The bookkeeping sits just before the data, inside the mapping. */
	h.base = base;
	h.maplen = maplen;
	memcpy(p - sizeof(h), &h, sizeof(h));
	return p;
}

void
tu_guard_free(char *p)
{
	struct guard_hdr h;

	memcpy(&h, p - sizeof(h), sizeof(h));
	munmap(h.base, h.maplen);
}

char *
tu_mkdtemp(void)
{
	char *p = strdup("/tmp/lanhttpd-unit-XXXXXX");

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(mkdtemp(p));
	return p;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
tu_rmtree(char *path)
{
	if (path == NULL)
		return;
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(path);
}

void
tu_write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	int fd;

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, name),
	    (int)sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "cannot create %s", path);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}
