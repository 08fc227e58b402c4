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
 * Bytes that stay as they are when encoding, one bit per set of
 * enum pct_set.  RFC 3986 unreserved characters stay in every set; a
 * path also keeps '/', the sub-delims and ':' '@' that are safe in a
 * segment; a strict href keeps only '/'; RFC 8187 attr-char adds
 * "!#$&+^`|".  '%', '?', space, controls and every byte above 0x7f are
 * always encoded.
 */
#define P	(1u << PCT_PATH)
#define S	(1u << PCT_STRICT)
#define A	(1u << PCT_ATTR_CHAR)
#define U	(P | S | A)
static const unsigned char pct_safe[256] = {
	['-'] = U, ['.'] = U, ['_'] = U, ['~'] = U,
	['/'] = P | S, ['!'] = P | A, ['$'] = P | A, ['\''] = P, ['('] = P,
	[')'] = P, ['*'] = P, [','] = P, [';'] = P, ['='] = P, [':'] = P,
	['@'] = P, ['#'] = A, ['&'] = A, ['+'] = A, ['^'] = A, ['`'] = A,
	['|'] = A,
	['0'] = U, ['1'] = U, ['2'] = U, ['3'] = U, ['4'] = U, ['5'] = U,
	['6'] = U, ['7'] = U, ['8'] = U, ['9'] = U,
	['A'] = U, ['B'] = U, ['C'] = U, ['D'] = U, ['E'] = U, ['F'] = U,
	['G'] = U, ['H'] = U, ['I'] = U, ['J'] = U, ['K'] = U, ['L'] = U,
	['M'] = U, ['N'] = U, ['O'] = U, ['P'] = U, ['Q'] = U, ['R'] = U,
	['S'] = U, ['T'] = U, ['U'] = U, ['V'] = U, ['W'] = U, ['X'] = U,
	['Y'] = U, ['Z'] = U,
	['a'] = U, ['b'] = U, ['c'] = U, ['d'] = U, ['e'] = U, ['f'] = U,
	['g'] = U, ['h'] = U, ['i'] = U, ['j'] = U, ['k'] = U, ['l'] = U,
	['m'] = U, ['n'] = U, ['o'] = U, ['p'] = U, ['q'] = U, ['r'] = U,
	['s'] = U, ['t'] = U, ['u'] = U, ['v'] = U, ['w'] = U, ['x'] = U,
	['y'] = U, ['z'] = U,
};
#undef P
#undef S
#undef A
#undef U

size_t
path_encode_set(const char *in, size_t len, enum pct_set set, char *out,
    size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t need = 0, w = 0;
	bool fits = cap > 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		bool keep = (pct_safe[c] & (1u << set)) != 0;
		size_t n = keep ? 1 : 3;

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
