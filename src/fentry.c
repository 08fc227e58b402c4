/*
 * fentry.c - building cache entries from files; see fentry.h.
 */
#include "fentry.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_response.h"
#include "mime.h"

/* A representation found open as fd, before it goes into the entry. */
struct found {
	int		 fd;
	bool		 refused;	/* a sibling older than the file */
	struct stat	 st;
	char		*body;		/* malloc'd bytes of a small file */
	char		 hdr[512];
	size_t		 hdr_len;
	struct file_info fi;
};

static bool
same_version(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * One read of the small file open as fd, whose metadata *st says, into a
 * new buffer; true when it is one version of the file: the stat after it
 * agrees, and a second read gives the same bytes.  (A write in progress
 * updates the times before it copies its bytes, so a read in its middle
 * can agree with a stat taken after it: reading twice catches that.)
 */
static bool
read_once(int fd, const struct stat *st, char **out)
{
	size_t size = (size_t)st->st_size;
	/* The second read asks for one byte more: a file that grew says so. */
	char *b = malloc(size ? size : 1), *again = malloc(size + 1);
	struct stat after;
	bool ok;

	ok = b != NULL && again != NULL &&
	    pread(fd, b, size, 0) == (ssize_t)size &&
	    fstat(fd, &after) == 0 && same_version(&after, st) &&
	    pread(fd, again, size + 1, 0) == (ssize_t)size &&
	    memcmp(b, again, size) == 0;
	free(again);
	if (!ok) {
		free(b);
		return false;
	}
	*out = b;
	return true;
}

/*
 * Reads the whole small file open as fd into memory: one consistent read,
 * tried once more (with *st updated) when the file changed meanwhile.
 * False when it cannot be had (the file keeps changing, grew past
 * max_body, or out of memory): then it is sent from the file instead.
 */
static bool
read_small(int fd, struct stat *st, size_t max_body, char **out)
{
	if (read_once(fd, st, out))
		return true;
	if (fstat(fd, st) != 0 || (uint64_t)st->st_size > max_body)
		return false;
	return read_once(fd, st, out);
}

/* The coding names, indexed by enum coding. */
static const char *const coding_name[FCACHE_REPS] = {
	[CODING_GZIP] = "gzip", [CODING_BR] = "br",
};

/*
 * Validators, and the header lines a plain 200 of this representation
 * always carries, formatted once.
 */
static void
describe(const struct fentry_src *src, const char *type, int coding,
    struct found *f)
{
	static const char *const variant[FCACHE_REPS] = {
		[CODING_IDENTITY] = "", [CODING_GZIP] = "gz",
		[CODING_BR] = "br",
	};
	struct hbuf hb;

	file_info_from_stat(&f->st, src->etag_inode, variant[coding], &f->fi);
	hb_init(&hb, f->hdr, sizeof(f->hdr));
	hb_str(&hb, "Content-Type: ");
	hb_str(&hb, type);
	hb_str(&hb, "\r\nContent-Length: ");
	hb_u64(&hb, f->fi.size);
	hb_str(&hb, "\r\n");
	if (coding != CODING_IDENTITY) {
		hb_str(&hb, "Content-Encoding: ");
		hb_str(&hb, coding_name[coding]);
		hb_str(&hb, "\r\n");
	}
	file_validator_lines(&hb, &f->fi, src->cache_max_age,
	    src->precompressed);
	hb_str(&hb, "Accept-Ranges: bytes\r\n");
	f->hdr_len = hb.overflow ? 0 : hb.len;
}

/* Closes and frees what f holds, leaving it empty. */
static void
found_clear(struct found *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->body);
	f->fd = -1;
	f->body = NULL;
	f->hdr_len = 0;
}

/*
 * Fills f for the file open as fd, which f owns from now on.  On failure
 * f is left empty (fd closed, nothing allocated).
 */
static bool
take_file(const struct fentry_src *src, int fd, const struct stat *st,
    const char *type, int coding, struct found *f)
{
	f->fd = fd;
	f->st = *st;
	f->body = NULL;
	/* A small file kept in memory is one version of it, or none. */
	if ((uint64_t)st->st_size <= src->max_body &&
	    read_small(fd, &f->st, src->max_body, &f->body)) {
		close(fd);
		f->fd = -1;
	}
	describe(src, type, coding, f);
	if (f->hdr_len == 0) {
		found_clear(f);
		return false;
	}
	return true;
}

/*
 * Fills f with the compressed sibling of rel when there is one no older
 * than the file itself; else f stays empty.
 */
static void
probe_sibling(const struct fentry_src *src, const char *rel, const char *type,
    int coding, const struct stat *base, struct found *f)
{
	char path[PATH_MAX + 4];
	struct stat st;
	int n, fd;

	n = snprintf(path, sizeof(path), "%s%s", rel,
	    fcache_sibling_ext[coding]);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    path_open(&src->tree, path, &fd) != 0)
		return;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	if (st.st_mtim.tv_sec < base->st_mtim.tv_sec ||
	    (st.st_mtim.tv_sec == base->st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec < base->st_mtim.tv_nsec)) {
		/* Remembered, so that it does not look new on every check. */
		close(fd);
		f->refused = true;
		f->st = st;
		return;
	}
	take_file(src, fd, &st, type, coding, f);
}

/* The bytes f[0..FCACHE_REPS) will take in an entry beyond its key. */
static size_t
reps_size(const struct found *f)
{
	size_t extra = 0;

	for (size_t i = 0; i < FCACHE_REPS; i++) {
		if (f[i].hdr_len > 0)
			extra += sizeof(struct frep) + _Alignof(struct frep) +
			    f[i].hdr_len + 1 +
			    (f[i].body != NULL ? (size_t)f[i].st.st_size : 0);
		else if (f[i].refused)
			extra += sizeof(struct stat) + _Alignof(struct stat);
	}
	return extra;
}

/* Closes and frees what f[0..FCACHE_REPS) holds. */
static void
found_release(struct found *f)
{
	for (size_t i = 0; i < FCACHE_REPS; i++)
		found_clear(&f[i]);
}

/* Moves the representations found into e (their fds go with them). */
static void
reps_fill(struct fentry *e, struct found *f)
{
	for (size_t i = 0; i < FCACHE_REPS; i++) {
		struct frep *r;

		if (f[i].refused)
			e->refused[i] = fentry_add_stat(e, &f[i].st);
		if (f[i].hdr_len == 0)
			continue;
		r = e->rep[i] = fentry_add_rep(e);
		r->fd = f[i].fd;
		r->st = f[i].st;
		r->fi = f[i].fi;
		r->hdr = fentry_append(e, f[i].hdr, f[i].hdr_len, true);
		r->hdr_len = f[i].hdr_len;
		if (f[i].body != NULL) {
			r->body = fentry_append(e, f[i].body,
			    (size_t)f[i].st.st_size, false);
			free(f[i].body);
		}
	}
}

int
fentry_build_file(const struct fentry_src *src, const char *key, size_t klen,
    const char *rel, int fd, const struct stat *st, uint64_t now_ms,
    struct fentry **out)
{
	const char *type = mime_lookup(src->mime, rel, strlen(rel));
	struct found f[FCACHE_REPS];
	struct fentry *e;

	*out = NULL;
	memset(f, 0, sizeof(f));
	for (size_t i = 0; i < FCACHE_REPS; i++)
		f[i].fd = -1;
	if (!take_file(src, fd, st, type, CODING_IDENTITY, &f[0]))
		return -EAGAIN;
	/* A sibling that is absent, or cannot be taken, leaves f[c] empty. */
	for (int c = CODING_GZIP; src->precompressed && c <= CODING_BR; c++)
		probe_sibling(src, rel, type, c, st, &f[c]);
	if ((e = fentry_alloc(key, klen, rel, reps_size(f), now_ms)) == NULL) {
		found_release(f);
		return -ENOMEM;
	}
	e->type = type;
	reps_fill(e, f);
	*out = e;
	return 0;
}

struct fentry *
fentry_build_missing(const char *key, size_t klen, const char *rel,
    uint64_t now_ms)
{
	struct fentry *e = fentry_alloc(key, klen, rel, 0, now_ms);

	if (e != NULL)
		e->status = 404;
	return e;
}
