/*
 * path.c - decoding, normalisation and confined opening of request paths;
 * see path.h.
 */
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Appends one decoded segment seg[0..n) to out, or pops a segment for "..".
 * Returns 0 or an HTTP status.
 */
static int
push_segment(const char *seg, size_t n, bool allow_hidden, char *out,
    size_t cap, size_t *olen)
{
	if (n == 0 || (n == 1 && seg[0] == '.'))
		return 0;
	if (n == 2 && seg[0] == '.' && seg[1] == '.') {
		if (*olen == 0)
			return 400;	/* a climb above the root */
		while (*olen > 0 && out[*olen - 1] != '/')
			(*olen)--;
		if (*olen > 0)
			(*olen)--;	/* the separator itself */
		return 0;
	}
	if (seg[0] == '.' && !allow_hidden)
		return 404;
	/* Room for a separator, the segment and the final NUL. */
	if (*olen + (*olen > 0) + n + 1 > cap)
		return 414;
	if (*olen > 0)
		out[(*olen)++] = '/';
	memcpy(out + *olen, seg, n);
	*olen += n;
	return 0;
}

int
path_normalize(struct span raw, bool allow_hidden, char *out, size_t cap,
    struct path_result *res)
{
	char seg[256];		/* NAME_MAX is 255 on Linux */
	size_t slen = 0, olen = 0;
	bool last_was_slash = false;
	int st;

	res->len = 0;
	res->trailing_slash = false;
	res->is_root = true;
	if (cap == 0)
		return 414;
	out[0] = '\0';
	if (raw.len == 0 || raw.p[0] != '/')
		return 400;

	for (size_t i = 0; i <= raw.len; i++) {
		int c;

		if (i == raw.len) {
			c = '/';	/* flushes the last segment */
		} else if (raw.p[i] == '%') {
			int hi, lo;

			if (i + 2 >= raw.len)
				return 400;
			hi = hexval((unsigned char)raw.p[i + 1]);
			lo = hexval((unsigned char)raw.p[i + 2]);
			if (hi < 0 || lo < 0)
				return 400;
			c = hi << 4 | lo;
			i += 2;
		} else {
			c = (unsigned char)raw.p[i];
		}
		/*
		 * A NUL, escaped or raw, would cut the name short once it is
		 * used as a C string: refuse both, as path.h promises.
		 */
		if (c == 0)
			return 400;

		if (c == '/') {
			/* A decoded %2F separates too: no name holds a '/'. */
			if ((st = push_segment(seg, slen, allow_hidden, out, cap,
			    &olen)) != 0)
				return st;
			slen = 0;
			if (i < raw.len)
				last_was_slash = true;
			continue;
		}
		last_was_slash = false;
		/* Names hold at most NAME_MAX (255) bytes, not sizeof(seg). */
		if (slen == sizeof(seg) - 1)
			return 404;	/* no such name can exist */
		seg[slen++] = (char)c;
	}
	out[olen] = '\0';
	res->len = olen;
	res->trailing_slash = last_was_slash;
	res->is_root = olen == 0;
	return 0;
}

static int
errno_status(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		return 404;
	case EACCES:
	case EPERM:
	case ELOOP:
	case EXDEV:
		return 403;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		return 503;
	default:
		return 500;
	}
}

/* True when the file open as fd lies at or beneath root_real. */
static bool
fd_is_beneath(int fd, const char *root_real)
{
	char proc[64], real[4096];
	size_t rlen = strlen(root_real);
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, real, sizeof(real));
	if (n < 0 || (size_t)n >= sizeof(real))
		return false;
	if (rlen == 1 && root_real[0] == '/')
		return real[0] == '/';
	if ((size_t)n < rlen || memcmp(real, root_real, rlen) != 0)
		return false;
	return (size_t)n == rlen || real[rlen] == '/';
}

int
path_open(int root_fd, const char *root_real, const char *rel,
    enum symlink_policy pol, int *fdp)
{
	const char *p = rel[0] != '\0' ? rel : ".";
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_NO_MAGICLINKS,
	};
	int fd, err;

	*fdp = -1;
	if (pol != SYMLINKS_ALL)
		how.resolve |= RESOLVE_BENEATH;
	if (pol == SYMLINKS_NONE)
		how.resolve |= RESOLVE_NO_SYMLINKS;

	fd = (int)syscall(SYS_openat2, root_fd, p, &how, sizeof(how));
	if (fd >= 0) {
		*fdp = fd;
		return 0;
	}
	err = errno;
	/*
	 * RESOLVE_BENEATH refuses every absolute link, even one that lands
	 * inside the root, and old kernels lack openat2: then open normally
	 * and check where the opened file really is.  ".." never reaches
	 * here, path_normalize() removed it.
	 */
	if ((err == EXDEV && pol == SYMLINKS_INSIDE) || err == ENOSYS) {
		int flags = (int)how.flags;

		if (err == ENOSYS && pol == SYMLINKS_NONE)
			flags |= O_NOFOLLOW;	/* NEEDSWORK: last component only */
		fd = openat(root_fd, p, flags);
		if (fd < 0)
			return errno_status(errno);
		if (pol != SYMLINKS_ALL && !fd_is_beneath(fd, root_real)) {
			close(fd);
			return 403;
		}
		*fdp = fd;
		return 0;
	}
	return errno_status(err);
}

/*
 * Bytes that stay as they are in an encoded path: RFC 3986 unreserved
 * characters, '/', and the sub-delims and ':' '@' that are safe in a path
 * segment.  '%', '?', '#', '&', '+', space, controls and every byte above
 * 0x7f are encoded.
 */
static const unsigned char path_safe[256] = {
	['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['/'] = 1, ['!'] = 1,
	['$'] = 1, ['\''] = 1, ['('] = 1, [')'] = 1, ['*'] = 1, [','] = 1,
	[';'] = 1, ['='] = 1, [':'] = 1, ['@'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

size_t
path_encode(const char *in, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t need = 0, w = 0;
	bool fits = cap > 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		size_t n = path_safe[c] ? 1 : 3;

		need += n;
		if (!fits || w + n >= cap) {
			fits = false;
			continue;
		}
		if (n == 1) {
			out[w++] = (char)c;
		} else {
			out[w++] = '%';
			out[w++] = hex[c >> 4];
			out[w++] = hex[c & 15];
		}
	}
	if (cap > 0)
		out[w] = '\0';
	return need;
}
