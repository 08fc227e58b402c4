/*
 * fuzz_path.c - libFuzzer entry point for percent-decoding, normalisation
 * and confined opening.
 *
 * The fuzzer input is a raw request path.  path_normalize() must never
 * produce a leading '/', a "." or ".." segment, an empty segment or a NUL;
 * whatever path_open() then opens beneath the test root (which holds
 * symbolic links that point out of it) must really be beneath the root,
 * and the secret file beside the root must never be what was opened.
 */
#include <assert.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char top[64], root[96], root_real[4096];
static int root_fd = -1;
static struct stat secret_st;

static void
setup(void)
{
	char p[256];
	int fd;

	snprintf(top, sizeof(top), "/tmp/lanhttpd-fuzz-%d", (int)getpid());
	snprintf(root, sizeof(root), "%s/root", top);
	mkdir(top, 0755);
	mkdir(root, 0755);
	snprintf(p, sizeof(p), "%s/secret", top);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert(fd >= 0);
	(void)!write(fd, "secret", 6);
	close(fd);
	assert(stat(p, &secret_st) == 0);
	snprintf(p, sizeof(p), "%s/a", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/a/file", root);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	close(fd);
	snprintf(p, sizeof(p), "%s/out", root);
	(void)!symlink("../secret", p);
	snprintf(p, sizeof(p), "%s/abs", root);
	{
		char t[256];

		snprintf(t, sizeof(t), "%s/secret", top);
		(void)!symlink(t, p);
	}
	snprintf(p, sizeof(p), "%s/up", root);
	(void)!symlink("..", p);
	snprintf(p, sizeof(p), "%s/in", root);
	(void)!symlink("a/file", p);
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert(root_fd >= 0);
	assert(realpath(root, root_real) != NULL);
}

static void
check_normalized(const char *out, const struct path_result *res)
{
	size_t len = strlen(out);

	assert(len == res->len);
	assert(res->is_root == (len == 0));
	if (len == 0)
		return;
	assert(out[0] != '/' && out[len - 1] != '/');
	for (const char *seg = out; seg != NULL;) {
		const char *end = strchr(seg, '/');
		size_t n = end != NULL ? (size_t)(end - seg) : strlen(seg);

		assert(n > 0);
		assert(!(n == 1 && seg[0] == '.'));
		assert(!(n == 2 && seg[0] == '.' && seg[1] == '.'));
		seg = end != NULL ? end + 1 : NULL;
	}
}

static void
check_opened(int fd)
{
	char proc[64], real[4096];
	size_t rlen = strlen(root_real);
	struct stat st;
	ssize_t n;

	assert(fstat(fd, &st) == 0);
	assert(!(st.st_dev == secret_st.st_dev && st.st_ino == secret_st.st_ino));
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, real, sizeof(real) - 1);
	assert(n > 0);
	real[n] = '\0';
	assert(strncmp(real, root_real, rlen) == 0 &&
	    (real[rlen] == '\0' || real[rlen] == '/'));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum symlink_policy pols[] = {
		SYMLINKS_INSIDE, SYMLINKS_NONE,
	};
	char out[4096];
	struct path_result res;
	bool allow_hidden;
	char *raw;
	int st;

	if (root_fd < 0)
		setup();
	if ((raw = malloc(size + 1)) == NULL)
		return 0;
	raw[0] = '/';
	memcpy(raw + 1, data, size);
	allow_hidden = size > 0 && data[0] & 1;
	st = path_normalize(span_make(raw, size + 1), allow_hidden, out,
	    sizeof(out), &res);
	if (st == 0) {
		check_normalized(out, &res);
		for (size_t i = 0; i < sizeof(pols) / sizeof(pols[0]); i++) {
			struct path_root tree = { .fd = root_fd,
			    .real = root_real, .symlinks = pols[i],
			    .allow_hidden = allow_hidden };
			int fd;

			if (path_open(&tree, out, &fd) == 0) {
				check_opened(fd);
				close(fd);
			}
		}
	} else {
		assert(st == 400 || st == 404 || st == 414);
	}
	free(raw);
	return 0;
}
