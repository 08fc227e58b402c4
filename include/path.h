/*
 * path.h - from a request path to an open file under the root.
 *
 * path_normalize() is pure: it percent-decodes once, refuses NUL and bad
 * escapes, drops "." and empty segments, applies "..", refuses any climb
 * above the root and applies the dotfile policy.  path_open() then lets the
 * kernel enforce the same boundary with openat2(RESOLVE_BENEATH), so a
 * symlink cannot lead out of the root either.  Both are thread-safe.
 */
#ifndef LANHTTPD_PATH_H
#define LANHTTPD_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "span.h"

enum symlink_policy {
	SYMLINKS_INSIDE = 0,	/* follow links whose target stays under the root */
	SYMLINKS_ALL,		/* follow every link (the admin trusts the tree) */
	SYMLINKS_NONE,		/* refuse every link */
};

/*
 * The shared tree and the rules for reaching into it: what path_open()
 * needs to decide whether a name may be opened.  The strings belong to
 * whoever fills it in (the configuration).
 */
struct path_root {
	int		 fd;		/* the root, opened O_PATH */
	const char	*real;		/* its canonical path */
	enum symlink_policy symlinks;
	bool		 allow_hidden;	/* dotfiles may be reached */
};

struct path_result {
	size_t	len;		/* bytes in the caller's buffer, no NUL counted */
	bool	trailing_slash;	/* the decoded path ended in '/' */
	bool	is_root;	/* nothing left: the root itself */
};

/*
 * Decodes and normalises raw (the still-encoded path of a request-target,
 * starting with '/') into out[0..cap), NUL-terminated, as a relative path
 * without a leading slash ("" for the root).  Returns 0, or the HTTP status
 * to answer: 400 (bad escape, %00, climb above the root), 404 (a dot
 * segment while hidden files are denied), 414 (longer than cap allows).
 */
int	path_normalize(struct span raw, bool allow_hidden, char *out, size_t cap,
	    struct path_result *res);

/*
 * Opens rel (a result of path_normalize(), "" meaning the root) beneath
 * root->fd under root's symlink policy, read-only, non-blocking (a FIFO
 * must never block a worker) and close-on-exec.  root->real is the root's
 * canonical path, used to check a link target when openat2 alone cannot
 * decide (kernels before 5.6, absolute links that stay inside).  When
 * dotfiles are denied and the name leads through a symbolic link, what it
 * resolves to must not be a dotfile or lie in a dot-folder either (the
 * part of rel before any link was checked by path_normalize()).  Returns 0
 * and stores the fd in *fdp (the caller owns it), or the HTTP status:
 * 403, 404, 500 or 503 (out of file descriptors or memory).
 */
int	path_open(const struct path_root *root, const char *rel, int *fdp);

/* Which bytes stay as they are when percent-encoding. */
enum pct_set {
	PCT_PATH,	/* unreserved, '/' and the sub-delims safe in a path */
	PCT_STRICT,	/* unreserved and '/' only: safe as a relative href */
	PCT_ATTR_CHAR,	/* RFC 8187 attr-char, for filename*= */
};

/*
 * Percent-encodes the bytes of in[0..len): bytes in set stay, everything
 * else becomes %XX.  Writes at most cap bytes (NUL included) and returns
 * the length the full result needs, so a return >= cap means truncation.
 */
size_t	path_encode_set(const char *in, size_t len, enum pct_set set, char *out,
	    size_t cap);

/* path_encode_set() with PCT_PATH, for Location headers. */
static inline size_t
path_encode(const char *in, size_t len, char *out, size_t cap)
{
	return path_encode_set(in, len, PCT_PATH, out, cap);
}

#endif /* LANHTTPD_PATH_H */
