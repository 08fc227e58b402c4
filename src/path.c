/*
 * path.c - decoding, normalisation and confined opening of request paths;
 * see path.h.
 */
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * Copies the plain run p[0..run) to dst[len..] as far as room allows, and
 * notes the segment's first two bytes.
 */
static inline void
put_run(char *dst, size_t room, size_t len, const char *p, size_t run,
    char first2[2])
{
	if (len == 0) {
		first2[0] = p[0];
		if (run > 1)
			first2[1] = p[1];
	} else if (len == 1) {
		first2[1] = p[0];
	}
	if (len < room)
		memcpy(dst + len, p, run < room - len ? run : room - len);
}

/*
 * The byte the escape at p (max bytes left) stands for; -1 when it is
 * malformed, and 0 for a raw NUL.
 */
static inline int
escaped_byte(const char *p, size_t max)
{
	int hi, lo;

	if (*p != '%')
		return 0;
	if (max < 3)
		return -1;
	hi = hex_value((unsigned char)p[1]);
	lo = hex_value((unsigned char)p[2]);
	return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

/*
 * Decodes one segment of raw, from raw.p[*i] up to the next '/' (raw or
 * escaped, since a decoded %2F separates too: no name holds a '/'), into
 * out[at..cap - 1) as far as it fits.  Plain bytes go in runs.  Sets *n
 * to the decoded length, *first2 to its first two bytes, and *slash when
 * a separator ended it (consumed).  Returns 0 or an HTTP status.
 */
static int
decode_segment(struct span raw, size_t *i, char *out, size_t at, size_t cap,
    size_t *n, char first2[2], bool *slash)
{
	static const bool special[256] = { ['\0'] = 1, ['/'] = 1, ['%'] = 1 };
	size_t len = 0, room = at < cap - 1 ? cap - 1 - at : 0;

	*slash = false;
	first2[0] = first2[1] = '\0';
	while (*i < raw.len) {
		const char *p = raw.p + *i;
		size_t run = 0, max = raw.len - *i;
		int c;

		/* A run of plain bytes is copied at once. */
		while (run < max && !special[(unsigned char)p[run]])
			run++;
		if (run > 0) {
			/* Names hold at most NAME_MAX (255) bytes. */
			if (len + run > NAME_MAX)
				return 404;	/* no such name can exist */
			put_run(out + at, room, len, p, run, first2);
			len += run;
			*i += run;
			continue;
		}
		if (*p == '/') {
			(*i)++;
			*slash = true;
			break;
		}
		/*
		 * A NUL, escaped or raw, would cut the name short once it is
		 * used as a C string: refuse both, as path.h promises.
		 */
		if ((c = escaped_byte(p, max)) <= 0)
			return 400;
		*i += 3;
		if (c == '/') {
			*slash = true;
			break;
		}
		if (len == NAME_MAX)
			return 404;
		if (len < 2)
			first2[len] = (char)c;
		if (len < room)
			out[at + len] = (char)c;
		len++;
	}
	*n = len;
	return 0;
}

/*
 * Ends the segment decoded at out[olen + (olen > 0)..) with n bytes and
 * these first two: drops it ("", "."), pops one (".."), or keeps it after
 * a separator.  Returns 0 or an HTTP status.
 */
static int
push_segment(const char first2[2], size_t n, bool allow_hidden, char *out,
    size_t cap, size_t *olen)
{
	if (n == 0 || (n == 1 && first2[0] == '.'))
		return 0;
	if (n == 2 && first2[0] == '.' && first2[1] == '.') {
		if (*olen == 0)
			return 400;	/* a climb above the root */
		while (*olen > 0 && out[*olen - 1] != '/')
			(*olen)--;
		if (*olen > 0)
			(*olen)--;	/* the separator itself */
		return 0;
	}
	if (first2[0] == '.' && !allow_hidden)
		return 404;
	/* Room for a separator, the segment and the final NUL. */
	if (*olen + (*olen > 0) + n + 1 > cap)
		return 414;
	if (*olen > 0)
		out[(*olen)++] = '/';
	*olen += n;
	return 0;
}

int
path_normalize(struct span raw, bool allow_hidden, char *out, size_t cap,
    struct path_result *res)
{
	size_t i = 1, olen = 0, n = 0;
	bool slash = true;
	int st;

	res->len = 0;
	res->trailing_slash = false;
	res->is_root = true;
	if (cap == 0)
		return 414;
	out[0] = '\0';
	if (raw.len == 0 || raw.p[0] != '/')
		return 400;
	/* Segment by segment, each decoded in place after what is kept. */
	while (slash) {
		char first2[2];

		if ((st = decode_segment(raw, &i, out, olen + (olen > 0), cap,
		    &n, first2, &slash)) != 0 ||
		    (st = push_segment(first2, n, allow_hidden, out, cap,
		    &olen)) != 0)
			return st;
	}
	out[olen] = '\0';
	res->len = olen;
	/* The path ended with a separator when its last segment is empty. */
	res->trailing_slash = n == 0;
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

/*
 * The canonical path of the file open as fd into buf[0..cap); its length,
 * or 0 when it cannot be had.
 */
static size_t
fd_path(int fd, char *buf, size_t cap)
{
	char proc[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, cap);
	if (n <= 0 || (size_t)n >= cap)
		return 0;
	buf[n] = '\0';
	return (size_t)n;
}

/*
 * Where real[0..n) lies below root_real: the offset of the part after the
 * root (n when it is the root itself), or -1 when it is not beneath it.
 */
static ssize_t
below_root(const char *real, size_t n, const char *root_real)
{
	size_t rlen = strlen(root_real);

	if (rlen == 1 && root_real[0] == '/')
		return real[0] == '/' ? 1 : -1;
	if (n < rlen || memcmp(real, root_real, rlen) != 0)
		return -1;
	if (n == rlen)
		return (ssize_t)n;
	return real[rlen] == '/' ? (ssize_t)rlen + 1 : -1;
}

/* True when a segment of p[0..n) (separated by '/') starts with a dot. */
static bool
has_dot_segment(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '.' && (i == 0 || p[i - 1] == '/'))
			return true;
	return false;
}

/*
 * Whether the file open as fd, reached through a symbolic link, may be
 * served: 0, 403 (outside the root where that is not allowed) or 404 (a
 * dotfile, or inside a dot-folder, while they are denied).  Beneath the
 * root only the part after it counts; a target outside (follow_symlinks
 * = all) is judged by its whole path.
 */
static int
check_target(int fd, const struct path_root *root)
{
	char real[4096];
	size_t n = fd_path(fd, real, sizeof(real));
	ssize_t at;

	if (n == 0)
		return 403;
	at = below_root(real, n, root->real);
	if (at < 0 && root->symlinks != SYMLINKS_ALL)
		return 403;
	if (!root->allow_hidden && has_dot_segment(real + (at < 0 ? 0 : at),
	    n - (size_t)(at < 0 ? 0 : at)))
		return 404;
	return 0;
}

/*
 * Opens p beneath the root with openat() and checks where the file really
 * is: for absolute links that stay inside (which RESOLVE_BENEATH refuses,
 * err EXDEV) and kernels without openat2 (ENOSYS).  ".." never reaches
 * here, path_normalize() removed it.
 */
static int
path_open_fallback(const struct path_root *root, const char *p, int err,
    int *fdp)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, fd, st;

	if (err == ENOSYS && root->symlinks == SYMLINKS_NONE)
		flags |= O_NOFOLLOW;	/* NEEDSWORK: last component only */
	fd = openat(root->fd, p, flags);
	if (fd < 0)
		return errno_status(errno);
	if ((root->symlinks != SYMLINKS_ALL || !root->allow_hidden) &&
	    (st = check_target(fd, root)) != 0) {
		close(fd);
		return st;
	}
	*fdp = fd;
	return 0;
}

static int
openat2_at(int dirfd, const char *p, const struct open_how *how)
{
	return (int)syscall(SYS_openat2, dirfd, p, how, sizeof(*how));
}

int
path_open(const struct path_root *root, const char *rel, int *fdp)
{
	const char *p = rel[0] != '\0' ? rel : ".";
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_NO_MAGICLINKS,
	};
	bool via_link = false;
	int fd, err, st;

	*fdp = -1;
	if (root->symlinks != SYMLINKS_ALL)
		how.resolve |= RESOLVE_BENEATH;
	if (root->symlinks == SYMLINKS_NONE)
		how.resolve |= RESOLVE_NO_SYMLINKS;
	/*
	 * With dotfiles denied, a link may lead to one: first open without
	 * following links, which is the whole cost when there are none.
	 */
	if (!root->allow_hidden && root->symlinks != SYMLINKS_NONE) {
		struct open_how plain = how;

		plain.resolve |= RESOLVE_NO_SYMLINKS;
		fd = openat2_at(root->fd, p, &plain);
		if (fd >= 0) {
			*fdp = fd;
			return 0;
		}
		if (errno != ELOOP)
			return errno == ENOSYS ? path_open_fallback(root, p,
			    ENOSYS, fdp) : errno_status(errno);
		via_link = true;
	}
	fd = openat2_at(root->fd, p, &how);
	if (fd < 0) {
		err = errno;
		/*
		 * RESOLVE_BENEATH refuses every absolute link, even one that
		 * lands inside the root, and old kernels lack openat2: then
		 * open normally and check where the opened file really is.
		 */
		if ((err == EXDEV && root->symlinks == SYMLINKS_INSIDE) ||
		    err == ENOSYS)
			return path_open_fallback(root, p, err, fdp);
		return errno_status(err);
	}
	if (via_link && (st = check_target(fd, root)) != 0) {
		close(fd);
		return st;
	}
	*fdp = fd;
	return 0;
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
