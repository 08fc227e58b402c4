/*
 * upload.c - writes into the share (see upload.h).
 *
 * The order of checks for a PUT follows what a client can fix: may it
 * write here at all (403, or 405 when writes are off), is the name one
 * that can become a file (400 with the reason), does its folder exist and
 * is the name free of a folder (409), do the preconditions hold (412), is
 * the body small enough (413), is there room on the disk (507), and is
 * there room for one more upload (503).  Only then is "100 Continue"
 * sent, and only then does a byte of the body count.
 *
 * Durability: the file is synced before it gets its name and the folder
 * after, so after a crash the name holds either the old file or the
 * complete new one.  A file being written has no name (O_TMPFILE); where
 * the file system cannot do that, it is a hidden ".lanhttpd-*.part" file
 * in the same folder, removed on every failure.
 */
#include "upload.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/random.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "chunked.h"
#include "config.h"
#include "dav.h"
#include "gate.h"
#include "file.h"
#include "http_response.h"
#include "log.h"
#include "multipart.h"
#include "path.h"
#include "upload_impl.h"
#include "upname.h"

static atomic_uint active;

void
up_count(struct upload *u)
{
	atomic_fetch_add_explicit(&active, 1, memory_order_relaxed);
	u->counted = true;
}

unsigned
upload_active(void)
{
	return atomic_load_explicit(&active, memory_order_relaxed);
}

/* ---- answers ---- */

/*
 * A short plain-text answer: status, extra header lines (CRLF-ended, or
 * NULL) and body[0..len) as the whole body.
 */
void
up_answer(struct response *res, int status, const char *extra, const char *body,
    size_t len)
{
	struct hbuf *hb = &res->hb;

	hb->len = 0;
	hb->overflow = false;
	res->status = status;
	http_begin(hb, status);
	if (len > 0) {
		hb_str(hb, "Content-Type: text/plain; charset=utf-8\r\n");
		hb_str(hb, "X-Content-Type-Options: nosniff\r\n");
	}
	if (status != 204) {
		hb_str(hb, "Content-Length: ");
		hb_u64(hb, len);
		hb_str(hb, "\r\n");
	}
	if (!res->keep_alive)
		hb_str(hb, "Connection: close\r\n");
	else if (res->http10)
		hb_str(hb, "Connection: keep-alive\r\n");
	if (extra != NULL)
		hb_str(hb, extra);
	hb_str(hb, "\r\n");
	res->hdr_len = hb->len;
	if (!res->head && status != 204)
		hb_add(hb, body, len);
	if (hb->overflow) {
		/* Only a huge list of stored names gets here: say less. */
		hb->len = res->hdr_len = 0;
		hb->overflow = false;
		res->hdr_len = http_error_response(hb, 500, res->head,
		    false, res->http10, NULL);
		res->keep_alive = false;
	}
	res->segs[0] = (struct out_seg){ .mem = hb->p, .len = hb->len };
	res->nsegs = 1;
}

/* An error answer whose body is its reason, and a log line. */
void
up_refuse(struct response *res, int status, const char *why, const char *extra)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "%d %s: %s\n", status,
	    http_reason(status), why);

	if (status >= 500)
		log_warn("upload refused: %d %s", status, why);
	else
		log_info("upload refused: %d %s", status, why);
	up_answer(res, status, extra, body,
	    n < 0 ? 0 : (size_t)n >= sizeof(body) ? sizeof(body) - 1 :
	    (size_t)n);
}

/* Fails u with status and why (the first failure wins). */
int
up_failed(struct upload *u, int status, const char *why)
{
	if (u->status == 0) {
		u->status = status;
		u->why = why;
	}
	return status;
}

/* The status for a failed write: a full disk is 507, the rest 500. */
int
up_fail_errno(struct upload *u, int e, const char *what)
{
	if (e == ENOSPC || e == EDQUOT)
		return up_failed(u, 507, "the disk is full");
	log_errno(LOG_LVL_ERR, e, "upload: %s", what);
	return up_failed(u, 500, "cannot write the file");
}

/* ---- where writes are allowed ---- */

/*
 * The [upload] path that holds rel (normalised): the longest one, as its
 * index, or SIZE_MAX when none does.
 */
static size_t
upload_prefix(const struct config *cfg, const char *rel)
{
	size_t best = SIZE_MAX, blen = 0, rlen = strlen(rel);

	for (size_t i = 0; i < cfg->nupload_rel; i++) {
		const char *p = cfg->upload_rel[i];
		size_t plen = strlen(p);

		if ((plen == 0 || (rlen >= plen && memcmp(rel, p, plen) == 0 &&
		    (rel[plen] == '\0' || rel[plen] == '/'))) &&
		    (best == SIZE_MAX || plen > blen)) {
			best = i;
			blen = plen;
		}
	}
	return best;
}

/* True when rel (normalised) lies in one of the [upload] paths. */
bool
up_writable(const struct config *cfg, const char *rel)
{
	return upload_prefix(cfg, rel) != SIZE_MAX;
}

bool
upload_writable(const struct config *cfg, const char *rel)
{
	return cfg->upload_enable && up_writable(cfg, rel);
}

/*
 * True when rel is one of the [upload] paths, or a folder that holds one:
 * renaming or deleting it would move or remove where writes go.
 */
bool
up_holds_prefix(const struct config *cfg, const char *rel)
{
	size_t rlen = strlen(rel);

	for (size_t i = 0; i < cfg->nupload_rel; i++) {
		const char *p = cfg->upload_rel[i];

		if (strncmp(p, rel, rlen) == 0 && (p[rlen] == '\0' ||
		    (rlen > 0 && p[rlen] == '/')))
			return true;
	}
	return false;
}

/*
 * Cleans a client's name in[0..len) into out (NFC) as upname_clean()
 * does, and refuses what must not be written: a hidden name unless
 * allow_hidden, and the work folder's name in any case (a case-blind file
 * system takes ".LANHTTPD-UPLOAD" for it).  0, or -1 with *why.
 */
int
up_clean_name(bool allow_hidden, const char *in, size_t len,
    char out[NAME_MAX + 1], const char **why)
{
	if (upname_clean(in, len, out, why) < 0)
		return -1;
	if (strcasecmp(out, UP_WORK_DIR) == 0) {
		*why = "that name is reserved";
		return -1;
	}
	if (!allow_hidden && out[0] == '.') {
		*why = "hidden names cannot be written";
		return -1;
	}
	return 0;
}

/*
 * Splits the normalised path rel (in place) into its folder and its last
 * segment, cleaned into name (NFC).  Returns NULL or why the name cannot
 * be used.
 */
static const char *
split_name(char *rel, bool allow_hidden, char name[NAME_MAX + 1])
{
	char *slash = strrchr(rel, '/');
	const char *last = slash != NULL ? slash + 1 : rel;
	const char *why;

	if (up_clean_name(allow_hidden, last, strlen(last), name, &why) < 0)
		return why;
	if (slash != NULL)
		*slash = '\0';
	else
		rel[0] = '\0';
	return NULL;
}

/*
 * Opens the folder rel beneath the root for a write.  Its [upload] path is
 * opened as reads open it, under the configured link policy; below it no
 * symbolic link is followed, so a link inside an upload folder cannot
 * lead writes to a folder that takes none.  Returns 0 or a status.
 */
int
up_open_dir(const struct config *cfg, const char *rel, int *dfd)
{
	size_t i = upload_prefix(cfg, rel), plen;
	struct path_root below = cfg->tree;
	struct stat st;
	int code, pfd;

	*dfd = -1;
	if (i == SIZE_MAX)
		return 403;
	plen = strlen(cfg->upload_rel[i]);
	if ((code = path_open(&cfg->tree, cfg->upload_rel[i], &pfd)) != 0)
		return code == 404 ? 409 : code;
	rel += plen + (plen > 0 && rel[plen] == '/');
	if (*rel == '\0') {
		*dfd = pfd;
	} else {
		below.fd = pfd;
		below.symlinks = SYMLINKS_NONE;
		code = path_open(&below, rel, dfd);
		close(pfd);
		if (code == 404)
			return 409;	/* RFC 9110 §9.3.4: a missing parent */
		if (code != 0)
			return code;
	}
	if (fstat(*dfd, &st) != 0 || !S_ISDIR(st.st_mode)) {
		close(*dfd);
		*dfd = -1;
		return 409;
	}
	return 0;
}

/* ---- files without a name yet ---- */

/*
 * Each [upload] path has a work folder, UP_WORK_DIR in it (0700, made on
 * first use): the names a file has before its final one (a replacement
 * between link and rename; the whole upload where the file system has no
 * O_TMPFILE) and the state of resumable uploads live there, so a restart
 * finds every leftover in one place per path (upload_sweep()).
 */
int
up_work_dir(const struct config *cfg, const char *rel)
{
	size_t i = upload_prefix(cfg, rel);
	struct stat st;
	int pfd, fd;

	if (i == SIZE_MAX || path_open(&cfg->tree, cfg->upload_rel[i], &pfd)
	    != 0)
		return -1;
	fd = openat(pfd, UP_WORK_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && mkdirat(pfd, UP_WORK_DIR, 0700) == 0)
		fd = openat(pfd, UP_WORK_DIR, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
	close(pfd);
	if (fd < 0)
		return -1;
	/* Only a folder of our own that nobody else can enter is trusted. */
	if (fstat(fd, &st) != 0 || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		log_warn("upload: the work folder in '%s' is not this user's "
		    "alone (mode 0700): not used", cfg->upload_rel[i]);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Where u's hidden names go: the work folder of rel's [upload] path when
 * it is on the same file system as the target folder (a rename cannot
 * cross file systems), else the target folder itself.
 */
bool
up_same_disk(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev;
}

void
up_attach_work(struct upload *u, const struct config *cfg, const char *rel)
{
	u->workfd = up_work_dir(cfg, rel);
	if (u->workfd >= 0 && !up_same_disk(u->workfd, u->dirfd)) {
		close(u->workfd);
		u->workfd = -1;
	}
	u->hidefd = u->workfd >= 0 ? u->workfd : u->dirfd;
}

/* A fresh hidden name: "tmp-" and 16 random hex digits, in u->hidefd. */
static int
tmp_name(const struct upload *u, char name[40])
{
	unsigned char rnd[8];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	snprintf(name, 40, "%s%02x%02x%02x%02x%02x%02x%02x%02x",
	    u->workfd >= 0 ? UP_TMP_PREFIX : "." UP_TMP_PREFIX, rnd[0], rnd[1],
	    rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	return 0;
}

/*
 * A new file for u that nobody can see: O_TMPFILE in the target folder,
 * or a hidden name where the file system has no O_TMPFILE (u->part_name,
 * removed on failure).  Returns the fd or -1.
 */
int
up_open_hidden(struct upload *u)
{
	char name[40];
	int fd;

	fd = openat(u->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd;
	if (tmp_name(u, name) != 0)
		return -1;
	fd = openat(u->hidefd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
	    0644);
	if (fd >= 0 && (u->part_name = strdup(name)) == NULL) {
		unlinkat(u->hidefd, name, 0);
		close(fd);
		return -1;
	}
	return fd;
}

/* Drops the file being written, if any: it never had its final name. */
void
up_drop_file(struct upload *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	if (u->part_name != NULL) {
		if (!u->keep_part)
			unlinkat(u->hidefd, u->part_name, 0);
		free(u->part_name);
		u->part_name = NULL;
	}
}

/* Links the unnamed file of u as name in the folder dir. */
static int
link_at(struct upload *u, int dir, const char *name)
{
	char proc[64];

	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc does not. */
	if (linkat(u->fd, "", dir, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno == EEXIST)
		return -1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", u->fd);
	return linkat(AT_FDCWD, proc, dir, name, AT_SYMLINK_FOLLOW);
}

/*
 * renameat2(RENAME_NOREPLACE), or where the file system lacks it (NFS,
 * most FUSE file systems answer EINVAL) a hard link, which fails with
 * EEXIST just as atomically, and the unlink of the old name.  0, or -1
 * with errno.
 */
static int
rename_noreplace(int olddfd, const char *old, int newdfd, const char *new)
{
	if (renameat2(olddfd, old, newdfd, new, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL || linkat(olddfd, old, newdfd, new, 0) != 0)
		return -1;
	if (unlinkat(olddfd, old, 0) != 0)
		log_errno(LOG_LVL_WARN, errno, "upload: unlink after link");
	return 0;
}

/*
 * Gives the finished file the name name in its folder, failing with
 * EEXIST when the name is taken.
 */
int
up_link_new(struct upload *u, const char *name)
{
	if (u->part_name == NULL)
		return link_at(u, u->dirfd, name);
	if (rename_noreplace(u->hidefd, u->part_name, u->dirfd, name) != 0)
		return -1;
	free(u->part_name);
	u->part_name = NULL;
	return 0;
}

/*
 * Puts the finished file over name, which may exist: it is linked under
 * a hidden name, then renamed, which replaces the old file atomically.
 */
static int
link_replace(struct upload *u, const char *name)
{
	char tmp[40];

	if (u->part_name == NULL) {
		if (tmp_name(u, tmp) != 0 || link_at(u, u->hidefd, tmp) != 0)
			return -1;
		if ((u->part_name = strdup(tmp)) == NULL) {
			unlinkat(u->hidefd, tmp, 0);
			return -1;
		}
	}
	if (renameat(u->hidefd, u->part_name, u->dirfd, name) != 0)
		return -1;	/* up_drop_file() removes the hidden name */
	free(u->part_name);
	u->part_name = NULL;
	return 0;
}

int
up_copy_xattrs(int sfd, int tfd)
{
	char names[4096], val[4096];
	ssize_t n = flistxattr(sfd, names, sizeof(names));

	if (n < 0)
		return errno == ENOTSUP ? 0 : errno;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
		ssize_t v;

		if (strncmp(names + i, "user.", 5) != 0)
			continue;
		if ((v = fgetxattr(sfd, names + i, val, sizeof(val))) < 0 ||
		    fsetxattr(tfd, names + i, val, (size_t)v, 0) != 0)
			return errno;
	}
	return 0;
}

/* Copies the bytes of sfd (size bytes) to the end of u's file. */
static int
copy_bytes(struct upload *u, int sfd, uint64_t size)
{
	char buf[64 * 1024];
	off_t off = 0;

	while ((uint64_t)off < size) {
		ssize_t n = copy_file_range(sfd, &off, u->fd, NULL,
		    (size_t)(size - (uint64_t)off), 0);

		if (n < 0 && (errno == EXDEV || errno == EINVAL ||
		    errno == EOPNOTSUPP || errno == ENOSYS)) {
			if ((n = pread(sfd, buf, sizeof(buf), off)) > 0 &&
			    up_write(u, buf, (size_t)n) != 0)
				return u->status;
			off += n > 0 ? n : 0;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return up_fail_errno(u, errno, "copy");
		if (n == 0)
			break;	/* it shrank: what is there is copied */
	}
	return 0;
}

int
up_copy_file(const struct config *cfg, const char *dir_rel, int sfd, int dfd,
    const char *name, bool replace)
{
	struct upload *u = calloc(1, sizeof(*u));
	const char *why;
	struct stat st;
	int rc = 0;

	if (u == NULL)
		return ENOMEM;
	u->kind = UP_KIND_PUT;
	u->fd = u->workfd = -1;
	u->max_size = UINT64_MAX;
	u->fsync = cfg->upload_fsync;
	if ((u->dirfd = u->hidefd = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) < 0 ||
	    fstat(sfd, &st) != 0) {
		free(u);
		return errno;
	}
	up_attach_work(u, cfg, dir_rel);
	u->has_mtime = true;
	u->mtime = st.st_mtim;
	/* The limits of an upload hold for a copy too. */
	switch (up_room(cfg, dfd, (uint64_t)st.st_size, true, &why)) {
	case 0:
		break;
	case 413:
		rc = EFBIG;
		break;
	case 507:
		rc = ENOSPC;
		break;
	default:
		rc = EBUSY;
		break;
	}
	if (rc != 0) {
		upload_free(u);
		return rc;
	}
	snprintf(u->name, sizeof(u->name), "%s", name);
	if ((u->fd = up_open_hidden(u)) < 0)
		rc = errno;
	else if (copy_bytes(u, sfd, (uint64_t)st.st_size) != 0)
		rc = u->status == 507 ? ENOSPC : EIO;
	else if ((rc = up_copy_xattrs(sfd, u->fd)) != 0)
		;	/* rc says why */
	else if (up_seal(u) != 0)
		rc = u->status == 507 ? ENOSPC : EIO;
	else if ((replace ? link_replace(u, name) : up_link_new(u, name)) != 0)
		rc = errno;
	if (rc == 0)
		up_sync_dir(u);
	upload_free(u);
	return rc;
}

/* The file is complete: its time, then its bytes on disk. */
int
up_seal(struct upload *u)
{
	if (u->has_mtime) {
		struct timespec ts[2] = { u->mtime, u->mtime };

		ts[0].tv_nsec = UTIME_OMIT;
		if (futimens(u->fd, ts) != 0)
			log_errno(LOG_LVL_WARN, errno, "upload: cannot set the "
			    "modification time of '%s'", u->name);
	}
	if (u->fsync && fsync(u->fd) != 0)
		return up_fail_errno(u, errno, "fsync");
	return 0;
}

/* After a name changed in it, the folder itself goes to disk. */
void
up_sync_dir(struct upload *u)
{
	if (u->fsync && fsync(u->dirfd) != 0 && errno != EINVAL)
		log_errno(LOG_LVL_WARN, errno, "upload: cannot sync a folder");
}

/* ---- writing ---- */

/* A file's bytes go to the disk in steps of this while it is written. */
#define FLUSH_STEP	(8u << 20)

/*
 * Starts writing what u's file received since the last step to the disk
 * (without waiting for it), so that the fsync at the end has little left
 * to do and a big upload does not pile up dirty pages.
 */
static void
flush_early(struct upload *u)
{
	if (!u->fsync || u->file_len - u->flushed < FLUSH_STEP)
		return;
	(void)sync_file_range(u->fd, (off_t)u->flushed,
	    (off_t)(u->file_len - u->flushed), SYNC_FILE_RANGE_WRITE);
	u->flushed = u->file_len;
}

/* Writes p[0..n) to the file at its end. */
int
up_write(struct upload *u, const char *p, size_t n)
{
	if (n > u->max_size - u->file_len)
		return up_failed(u, 413, "the file is larger than max_size");
	while (n > 0) {
		ssize_t w = write(u->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return up_fail_errno(u, errno, "write");
		p += w;
		n -= (size_t)w;
		u->file_len += (uint64_t)w;
	}
	flush_early(u);
	return 0;
}

/* ---- the request's headers ---- */

/* The value of the header called name (any case), or SPAN_NULL. */

/*
 * A time in seconds since the epoch with an optional fraction ("1700000000"
 * or "1700000000.25"), as rclone sends X-OC-Mtime; or in milliseconds
 * when ms (a browser's File.lastModified).  False when malformed.
 */
/* Nanoseconds from the digits of a fraction ("25" -> 250000000). */
static uint64_t
fraction_ns(struct span v, size_t *i)
{
	uint64_t frac = 0, scale = 1000000000;

	for (; *i < v.len && v.p[*i] >= '0' && v.p[*i] <= '9'; (*i)++)
		if (scale > 1) {
			scale /= 10;
			frac += (uint64_t)(v.p[*i] - '0') * scale;
		}
	return frac;
}

bool
up_parse_time(struct span v, bool ms, struct timespec *ts)
{
	uint64_t whole = 0, frac = 0;
	size_t i = 0;

	for (; i < v.len && v.p[i] >= '0' && v.p[i] <= '9'; i++) {
		if (i >= 18)
			return false;
		whole = whole * 10 + (uint64_t)(v.p[i] - '0');
	}
	if (i == 0)
		return false;
	if (i < v.len && v.p[i] == '.' && !ms) {
		i++;
		frac = fraction_ns(v, &i);
	}
	if (i != v.len)
		return false;
	if (ms) {
		frac = whole % 1000 * 1000000;
		whole /= 1000;
	}
	ts->tv_sec = (time_t)whole;
	ts->tv_nsec = (long)frac;
	return true;
}

/* ---- PUT ---- */

struct upload *
up_new(enum up_kind kind, int dfd, const struct config *cfg,
    const struct http_request *req)
{
	struct upload *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return NULL;
	u->kind = kind;
	u->dirfd = u->hidefd = dfd;
	u->fd = u->workfd = -1;
	u->max_size = cfg->upload_max_size != 0 ? cfg->upload_max_size :
	    UINT64_MAX;
	u->etag_inode = cfg->etag_inode;
	u->allow_hidden = cfg->allow_hidden;
	u->fsync = cfg->upload_fsync;
	u->length = req->chunked ? UINT64_MAX : req->content_length;
	u->http10 = req->version_minor == 0;
	/* RFC 9110 §10.1.1: never a 100 to an HTTP/1.0 client. */
	u->expect = !u->http10 && http_header_has_token(req, HDR_EXPECT,
	    "100-continue");
	if (req->chunked) {
		if ((u->ck = malloc(sizeof(*u->ck))) == NULL) {
			free(u);
			return NULL;
		}
		chunked_init(u->ck, UINT64_MAX);
	}
	return u;
}

/*
 * The preconditions of a PUT (RFC 9110 §13.1): If-Match on a missing
 * file, If-None-Match on an existing one, and a tag that does not match,
 * are 412.  The ETag of the current version is kept, so the same check
 * runs again just before the new file takes the name.
 */
static int
put_preconditions(struct upload *u, const struct http_request *req,
    const struct stat *st)
{
	struct file_info fi;

	u->if_none_match = req->hdr_count[HDR_IF_NONE_MATCH] > 0;
	if (!u->exists)
		return req->hdr_count[HDR_IF_MATCH] > 0 ? 412 : 0;
	file_info_from_stat(st, u->etag_inode, NULL, &fi);
	memcpy(u->etag, fi.etag, fi.etag_len);
	u->etag_len = fi.etag_len;
	u->if_match = req->hdr_count[HDR_IF_MATCH] > 0;
	switch (file_preconditions(req, &fi)) {
	case 412:
		return 412;
	case 304:
		/*
		 * A matching If-None-Match is 412 for a PUT; If-Modified-Since
		 * applies to GET and HEAD only (RFC 9110 §13.1.3).
		 */
		return u->if_none_match ? 412 : 0;
	default:
		return 0;
	}
}

/* Room on the disk for len more bytes (UINT64_MAX: unknown) and the reserve. */
static bool
has_room(int dfd, uint64_t len, uint64_t reserve)
{
	struct statvfs sv;
	uint64_t avail;

	if (fstatvfs(dfd, &sv) != 0)
		return true;	/* unknown: the write will tell */
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (len == UINT64_MAX)
		len = 0;
	return avail >= reserve && avail - reserve >= len;
}

/* What is left to check before a body of length bytes may come in. */
int
up_room(const struct config *cfg, int dfd, uint64_t length,
    bool one_file, const char **why)
{
	if (one_file && cfg->upload_max_size != 0 && length != UINT64_MAX &&
	    length > cfg->upload_max_size) {
		*why = "the body is larger than max_size";
		return 413;
	}
	if (!has_room(dfd, length, cfg->upload_reserve)) {
		*why = "not enough free space on the disk";
		return 507;
	}
	if (upload_active() >= cfg->upload_max_active) {
		*why = "too many uploads at once; try again";
		return 503;
	}
	return 0;
}

/* The name's current state for a PUT: 0, or the status that refuses it. */
static int
put_target(struct upload *u, const struct serve_ctx *x,
    const struct http_request *req, const char **why)
{
	const struct config *cfg = x->cfg;
	struct stat st;

	if (fstatat(u->dirfd, u->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		u->exists = true;
		if (S_ISDIR(st.st_mode)) {
			*why = "a folder has that name";
			return 409;
		}
		if (!S_ISREG(st.st_mode)) {
			*why = "that name is not a regular file";
			return 409;
		}
	} else if (errno != ENOENT) {
		*why = "cannot look at the name";
		return 500;
	}
	if (put_preconditions(u, req, &st) != 0) {
		*why = "the precondition failed";
		return 412;
	}
	/*
	 * A mounted share saves over its files: WebDAV implies overwrite.
	 * A drop box link only ever adds files.
	 */
	u->overwrite = (cfg->upload_overwrite || cfg->webdav_enable) &&
	    !gate_drop_only(cfg, x->who, x->path);
	if (u->exists && !u->overwrite) {
		*why = "a file has that name, and overwrite is off";
		return 409;
	}
	return 0;
}

/* Starts receiving a PUT into the folder dfd under name (taken by u). */
static enum up_plan
plan_put(const struct serve_ctx *x, const struct http_request *req,
    int dfd, const char *name, struct response *res, struct upload **up)
{
	const char *why = NULL;
	struct upload *u = up_new(UP_KIND_PUT, dfd, x->cfg, req);
	int code;

	if (u == NULL) {
		close(dfd);
		up_refuse(res, 503, "out of memory", "Retry-After: 2\r\n");
		return UP_ANSWERED;
	}
	memcpy(u->name, name, strlen(name) + 1);
	up_attach_work(u, x->cfg, x->path);	/* x->path: the folder */
	code = put_target(u, x, req, &why);
	if (code == 0)
		code = up_room(x->cfg, dfd, u->length, true, &why);
	if (code == 0 && (u->fd = up_open_hidden(u)) < 0) {
		code = errno == ENOSPC || errno == EDQUOT ? 507 : 500;
		why = code == 507 ? "the disk is full" : "cannot create a file";
	}
	if (code != 0) {
		up_refuse(res, code, why, code == 503 ? "Retry-After: 2\r\n" :
		    NULL);
		upload_free(u);
		return UP_ANSWERED;
	}
	u->has_mtime = up_parse_time(http_header_value(req, "X-OC-Mtime"), false, &u->mtime);
	u->oc_mtime = u->has_mtime;
	up_count(u);
	*up = u;
	return UP_BODY;
}

/* ---- immediate changes: new folder, rename, delete ---- */

/* Percent-decodes v into out[0..cap); -1 when malformed or too long. */
static int
decode_value(struct span v, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < v.len; i++) {
		char ch = v.p[i];

		if (ch == '%') {
			int hi, lo;

			if (v.len - i < 3 || (hi = hex_value((unsigned char)v.p[i + 1])) < 0 ||
			    (lo = hex_value((unsigned char)v.p[i + 2])) < 0)
				return -1;
			ch = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = ch;
	}
	out[o] = '\0';
	return (int)o;
}

/* The name given as query parameter key, cleaned.  NULL or why not. */
static const char *
query_name(const struct http_request *req, const char *key,
    bool allow_hidden, char name[NAME_MAX + 1])
{
	char raw[3 * NAME_MAX + 1];
	struct span v;
	const char *why;
	int n;

	if (!http_query_param(req->query, key, &v))
		return "missing name";
	if ((n = decode_value(v, raw, sizeof(raw))) < 0)
		return "malformed name";
	if (up_clean_name(allow_hidden, raw, (size_t)n, name, &why) < 0)
		return why;
	return NULL;
}

/* POST /folder/?mkdir=NAME: a new folder. */
static void
do_mkdir(int dfd, const struct http_request *req, bool allow_hidden,
    struct response *res)
{
	char name[NAME_MAX + 1];
	const char *why = query_name(req, "mkdir", allow_hidden, name);

	if (why != NULL)
		up_refuse(res, 400, why, NULL);
	else if (mkdirat(dfd, name, 0755) == 0) {
		if (fsync(dfd) != 0 && errno != EINVAL)
			log_errno(LOG_LVL_WARN, errno, "mkdir: fsync");
		up_answer(res, 201, NULL, "created\n", 8);
	} else if (errno == EEXIST)
		up_refuse(res, 409, "that name exists", NULL);
	else if (errno == ENOSPC || errno == EDQUOT)
		up_refuse(res, 507, "the disk is full", NULL);
	else
		up_refuse(res, 500, strerror(errno), NULL);
}

/* POST /folder/name?rename=NEW: a new name in the same folder. */
static void
do_rename(int dfd, const char *name, const struct http_request *req,
    bool allow_hidden, struct response *res)
{
	char to[NAME_MAX + 1];
	const char *why = query_name(req, "rename", allow_hidden, to);

	if (why != NULL)
		up_refuse(res, 400, why, NULL);
	else if (rename_noreplace(dfd, name, dfd, to) == 0) {
		if (fsync(dfd) != 0 && errno != EINVAL)
			log_errno(LOG_LVL_WARN, errno, "rename: fsync");
		up_answer(res, 204, NULL, "", 0);
	} else if (errno == EEXIST)
		up_refuse(res, 409, "the new name exists", NULL);
	else if (errno == ENOENT)
		up_refuse(res, 404, "no such file", NULL);
	else
		up_refuse(res, 500, strerror(errno), NULL);
}

/* DELETE: a file, or an empty folder. */
static void
do_delete(int dfd, const char *name, struct response *res)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		up_refuse(res, 404, "no such file", NULL);
	else if (unlinkat(dfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0)
	    == 0) {
		if (fsync(dfd) != 0 && errno != EINVAL)
			log_errno(LOG_LVL_WARN, errno, "delete: fsync");
		up_answer(res, 204, NULL, "", 0);
	} else if (errno == ENOTEMPTY || errno == EEXIST)
		up_refuse(res, 409, "the folder is not empty", NULL);
	else
		up_refuse(res, 500, strerror(errno), NULL);
}

/* ---- deciding ---- */

static bool
is_write(const struct http_request *req)
{
	switch (req->method) {
	case HTTP_M_PUT:
	case HTTP_M_POST:
	case HTTP_M_DELETE:
	case HTTP_M_PATCH:
		return true;
	case HTTP_M_HEAD:
		return up_is_tus(req);	/* where a tus upload stands */
	default:
		return false;
	}
}

/*
 * A request on a folder: POST with ?mkdir, or a form upload.  dfd is the
 * folder (taken).
 */
static enum up_plan
plan_folder(const struct serve_ctx *x, const struct http_request *req,
    int dfd, struct response *res, struct upload **up)
{
	struct span v;

	if (req->method != HTTP_M_POST) {
		close(dfd);
		up_refuse(res, 405, req->method == HTTP_M_PUT ?
		    "a PUT names a file, not a folder" :
		    "a folder is deleted by its name without '/'",
		    "Allow: GET, HEAD, OPTIONS, POST\r\n");
		return UP_ANSWERED;
	}
	if (http_query_param(req->query, "mkdir", &v)) {
		do_mkdir(dfd, req, x->cfg->allow_hidden, res);
		close(dfd);
		return UP_ANSWERED;
	}
	return up_plan_form(x, req, dfd, res, up);
}

/* A request on a name in the folder dfd (taken). */
static enum up_plan
plan_name(const struct serve_ctx *x, const struct http_request *req,
    int dfd, const char *name, struct response *res, struct upload **up)
{
	struct span v;

	switch (req->method) {
	case HTTP_M_PUT:
		return plan_put(x, req, dfd, name, res, up);
	case HTTP_M_DELETE:
		do_delete(dfd, name, res);
		break;
	default:
		if (http_query_param(req->query, "rename", &v))
			do_rename(dfd, name, req, x->cfg->allow_hidden, res);
		else
			up_refuse(res, 405, "POST goes to a folder, or renames "
			    "with ?rename=NAME", "Allow: GET, HEAD, OPTIONS, "
			    "PUT, POST, DELETE\r\n");
		break;
	}
	close(dfd);
	return UP_ANSWERED;
}

/* The folder of rel is open as dfd: is rel itself a folder? */
static bool
names_folder(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode);
}

/*
 * A path path_normalize() refused with code: with dotfiles denied, 404
 * is a hidden name or a name too long to exist; writes say which.
 */
static void
refuse_path(const struct serve_ctx *x, const struct http_request *req,
    int code, struct response *res)
{
	struct path_result pr;

	if (code != 404) {
		up_refuse(res, code, "a malformed path", NULL);
		return;
	}
	if (path_normalize(req->path, true, x->path, x->path_cap, &pr) == 404)
		up_refuse(res, 400, "name longer than 255 bytes", NULL);
	else
		up_refuse(res, 403, "hidden names cannot be written", NULL);
}

/*
 * True when a segment of rel is a work folder: with hidden_files = allow
 * a client could otherwise write into another upload's state.
 */
bool
up_in_work_dir(const char *rel)
{
	size_t wlen = strlen(UP_WORK_DIR);

	for (const char *p = rel; p != NULL; p = strchr(p, '/')) {
		p += *p == '/';
		if (strncasecmp(p, UP_WORK_DIR, wlen) == 0 &&
		    (p[wlen] == '\0' || p[wlen] == '/'))
			return true;
	}
	return false;
}

/* A request on the folder rel itself: tus, ?mkdir or a form upload. */
static enum up_plan
plan_dir(const struct serve_ctx *x, const struct http_request *req,
    const char *rel, struct response *res, struct upload **up)
{
	int code, dfd;

	if ((code = up_open_dir(x->cfg, rel, &dfd)) != 0) {
		up_refuse(res, code == 409 ? 404 : code, "no such folder", NULL);
		return UP_ANSWERED;
	}
	if (up_is_tus(req))
		return up_plan_tus(x, req, dfd, res, up);
	return plan_folder(x, req, dfd, res, up);
}

/*
 * A POST to a folder named without its '/' (dfd holds it as name) is a
 * POST to the folder; anything else is about the name.
 */
static enum up_plan
plan_in_folder(const struct serve_ctx *x, const struct http_request *req,
    int dfd, const char *name, struct response *res, struct upload **up)
{
	struct span v;
	int sub;

	if (req->method != HTTP_M_POST || !names_folder(dfd, name) ||
	    http_query_param(req->query, "rename", &v))
		return plan_name(x, req, dfd, name, res, up);
	sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	close(dfd);
	if (sub < 0) {
		up_refuse(res, 409, "cannot open the folder", NULL);
		return UP_ANSWERED;
	}
	/* x->path names the folder again (split_name() cut it): it fits. */
	if (x->path[0] != '\0')
		strcat(x->path, "/");
	strcat(x->path, name);
	return plan_folder(x, req, sub, res, up);
}

/* upload_plan() for a write [upload] may take. */
static enum up_plan
plan_write(const struct serve_ctx *x, const struct http_request *req,
    struct response *res, struct upload **up)
{
	const struct config *cfg = x->cfg;
	char *rel = x->path, name[NAME_MAX + 1];
	struct path_result pr;
	const char *why;
	struct span v;
	int code, dfd;

	code = path_normalize(req->path, cfg->allow_hidden, rel, x->path_cap,
	    &pr);
	if (code != 0) {
		refuse_path(x, req, code, res);
		return UP_ANSWERED;
	}
	if (!up_writable(cfg, rel) || up_in_work_dir(rel)) {
		up_refuse(res, 403, "this folder is read-only", NULL);
		return UP_ANSWERED;
	}
	if (up_is_tus(req) || pr.is_root ||
	    (pr.trailing_slash && req->method == HTTP_M_POST))
		return plan_dir(x, req, rel, res, up);
	if (up_holds_prefix(cfg, rel) && (req->method != HTTP_M_POST ||
	    http_query_param(req->query, "rename", &v))) {
		up_refuse(res, 403, "the upload folder itself cannot change",
		    NULL);
		return UP_ANSWERED;
	}
	if ((why = split_name(rel, cfg->allow_hidden, name)) != NULL) {
		up_refuse(res, 400, why, NULL);
		return UP_ANSWERED;
	}
	if ((code = up_open_dir(cfg, rel, &dfd)) != 0) {
		up_refuse(res, code, code == 409 ? "the folder does not exist" :
		    "cannot open the folder", NULL);
		return UP_ANSWERED;
	}
	return plan_in_folder(x, req, dfd, name, res, up);
}

enum up_plan
upload_plan(const struct serve_ctx *x, const struct http_request *req,
    struct response *res, struct upload **up)
{
	bool keep = res->keep_alive && !x->draining;
	bool dav = x->cfg->webdav_enable && dav_method(req->method);
	enum up_plan p = UP_PASS;

	*up = NULL;
	if (!dav && (!x->cfg->upload_enable || !is_write(req)))
		return UP_PASS;
	res->head = req->method == HTTP_M_HEAD;
	res->http10 = req->version_minor == 0;
	res->file_fd = -1;
	res->fentry = NULL;
	res->body_heap = NULL;
	/* An answer that leaves a body unread ends the connection. */
	res->keep_alive = keep && (req->has_content_length ?
	    req->content_length == 0 : !req->chunked);
	if (dav)
		p = (enum up_plan)dav_plan(x, req, res, up);
	else if (x->cfg->webdav_enable && (req->method == HTTP_M_POST ||
	    req->method == HTTP_M_PATCH))
		p = (enum up_plan)dav_guard(x, req, res);
	if (p == UP_PASS)
		p = plan_write(x, req, res, up);
	if (p == UP_BODY)
		res->keep_alive = keep;
	return p;
}

struct upload *
up_new_dav(const struct config *cfg, const struct http_request *req,
    struct dav_op *op)
{
	struct upload *u = up_new(UP_KIND_DAV, -1, cfg, req);

	if (u == NULL) {
		dav_op_free(op);
		return NULL;
	}
	u->dav = op;
	hb_init_heap(&u->stored);
	return u;
}

bool
upload_wants_continue(const struct upload *u)
{
	return u->expect;
}

/* ---- the body ---- */

/* Body data (decoded) for u: to the file, or through the form parser. */
static int
take_data(struct upload *u, const char *p, size_t n)
{
	if (u->kind == UP_KIND_FORM)
		return up_form_feed(u, p, n);
	if (u->kind == UP_KIND_DAV) {
		if (n > DAV_BODY_MAX - u->stored.len)
			return up_failed(u, 413, "the XML body is too large");
		hb_add(&u->stored, p, n);
		return u->stored.overflow ? up_failed(u, 503, "out of memory") :
		    0;
	}
	return up_write(u, p, n);
}

ssize_t
upload_take(struct upload *u, char *in, size_t len)
{
	size_t n = len, out = 0;

	if (u->status != 0)
		return -1;
	if (u->complete)
		return 0;	/* what follows is the next request */
	if (u->ck != NULL) {
		bool done = false;
		ssize_t r = chunked_decode(u->ck, in, len, in, &out, &done);

		if (r == CHUNKED_ERROR) {
			up_failed(u, u->ck->status, "malformed chunked body");
			return -1;
		}
		n = (size_t)r;
		u->complete = done;
	} else {
		uint64_t left = u->length - u->received;

		if (n > left)
			n = (size_t)left;
		out = n;
		u->complete = u->received + n == u->length;
	}
	u->received += n;
	/* A failure still consumed the n bytes: they are never a request. */
	if (out > 0)
		(void)take_data(u, in, out);
	return (ssize_t)n;
}

bool
upload_complete(const struct upload *u)
{
	return u->complete || u->status != 0 || (u->ck == NULL &&
	    u->received == u->length);
}

/* Moves the n bytes in the pipe into the file. */
static int
pipe_to_file(struct upload *u, int pipe_out, size_t n)
{
	if (n > u->max_size - u->file_len)
		return up_failed(u, 413, "the file is larger than max_size");
	while (n > 0) {
		ssize_t m = splice(pipe_out, NULL, u->fd, NULL, n,
		    SPLICE_F_MOVE);

		if (m < 0 && errno == EINTR)
			continue;
		if (m <= 0)
			return up_fail_errno(u, m < 0 ? errno : EIO, "splice");
		n -= (size_t)m;
		u->file_len += (uint64_t)m;
	}
	flush_early(u);
	return 0;
}

ssize_t
upload_splice(struct upload *u, int sock, const int pipefd[2], size_t max)
{
	uint64_t left;
	ssize_t n;

	if (u->kind == UP_KIND_FORM || u->kind == UP_KIND_DAV ||
	    u->ck != NULL || u->status != 0 || upload_complete(u))
		return 0;
	left = u->length - u->received;
	if (max > left)
		max = (size_t)left;
	do {
		n = splice(sock, NULL, pipefd[1], NULL, max,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -1 : -2;
	if (n == 0)
		return -2;
	u->received += (uint64_t)n;
	if (pipe_to_file(u, pipefd[0], (size_t)n) != 0)
		return -3;
	u->complete = u->received == u->length;
	return n;
}

/* ---- the end ---- */

/* The version a PUT with If-Match was checked against is still there. */
static bool
still_matches(struct upload *u)
{
	struct stat st;
	struct file_info fi;

	if (!u->if_match)
		return true;
	if (fstatat(u->dirfd, u->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return false;
	file_info_from_stat(&st, u->etag_inode, NULL, &fi);
	return fi.etag_len == u->etag_len &&
	    memcmp(fi.etag, u->etag, fi.etag_len) == 0;
}

/* Gives a complete PUT its name: 201 (new) or 204 (replaced), or a failure. */
static int
finish_put(struct upload *u)
{
	bool replaced = u->exists;
	int rc;

	if (up_seal(u) != 0)
		return u->status;
	if (!still_matches(u))
		return up_failed(u, 412, "the file changed meanwhile");
	/* If-None-Match on a free name holds only while it is free. */
	if (u->overwrite && (u->exists || !u->if_none_match)) {
		rc = link_replace(u, u->name);
	} else {
		rc = up_link_new(u, u->name);
		if (rc != 0 && errno == EEXIST)
			return up_failed(u, u->if_none_match ? 412 : 409, "a "
			    "file with that name appeared meanwhile");
	}
	if (rc != 0)
		return up_fail_errno(u, errno, "link");
	up_drop_file(u);
	up_sync_dir(u);
	log_info("upload: stored '%s' (%llu bytes)", u->name,
	    (unsigned long long)u->file_len);
	return replaced ? 204 : 201;
}

bool
upload_wants_commit(const struct upload *u)
{
	return u->kind == UP_KIND_PUT && u->fsync && u->status == 0 &&
	    upload_complete(u) && !u->committed;
}

void
upload_commit(struct upload *u)
{
	u->done_status = finish_put(u);
	u->committed = true;
}

/*
 * The answer of an upload that has not failed so far: true with res and
 * *status, or false when it failed at the end (u->status says how).
 */
static bool
finish_kind(struct upload *u, const struct serve_ctx *x, struct response *res,
    int *status)
{
	switch (u->kind) {
	case UP_KIND_TUS:
		/* A failed PATCH keeps its bytes too: up_tus_finish() first. */
		*status = up_tus_finish(u, x->cfg, res);
		break;
	case UP_KIND_PUT:
		*status = u->committed ? u->done_status : finish_put(u);
		if (u->status == 0)
			up_answer(res, *status, u->oc_mtime ?
			    "X-OC-MTime: accepted\r\n" : NULL,
			    *status == 201 ? "created\n" : "", *status == 201 ?
			    8 : 0);
		break;
	case UP_KIND_DAV:
		res->keep_alive = res->keep_alive && u->complete;
		*status = dav_finish(u->dav, u->stored.p, u->stored.len, x, res);
		break;
	default:
		*status = up_form_finish(u, res);
		break;
	}
	return u->status == 0;
}

int
upload_finish(struct upload *u, const struct serve_ctx *x,
    struct response *res)
{
	int status;

	res->http10 = u->http10;
	res->head = false;
	res->file_fd = -1;
	res->fentry = NULL;
	res->body_heap = NULL;
	if ((u->kind == UP_KIND_TUS || u->status == 0) &&
	    finish_kind(u, x, res, &status))
		return status;
	up_drop_file(u);
	/* The body was not read to its end: the connection must close. */
	if (!u->complete)
		res->keep_alive = false;
	up_refuse(res, u->status, u->why, u->status == 503 ?
	    "Retry-After: 2\r\n" : u->kind == UP_KIND_TUS ?
	    "Tus-Resumable: 1.0.0\r\n" : NULL);
	return u->status;
}

void
upload_fail(struct upload *u, int status, const char *why)
{
	up_failed(u, status, why);
}

bool
upload_keep_log(struct upload *u, const struct http_request *req)
{
	const struct span f[3] = {
		req->target.p == NULL ? SPAN_NULL : span_make(req->method_name.p,
		    (size_t)(req->target.p + req->target.len -
		    req->method_name.p) + 9),
		req->hdr[HDR_REFERER], req->hdr[HDR_USER_AGENT],
	};
	size_t total = f[0].len + f[1].len + f[2].len, o = 0;

	if ((u->log = malloc(total + 1)) == NULL)
		return false;
	for (int i = 0; i < 3; i++) {
		if (f[i].len > 0)
			memcpy(u->log + o, f[i].p, f[i].len);
		u->log_len[i] = f[i].len;
		o += f[i].len;
	}
	return true;
}

void
upload_log_entry(const struct upload *u, struct access_entry *e)
{
	struct span *to[3] = { &e->request_line, &e->referer, &e->user_agent };
	size_t o = 0;

	for (int i = 0; i < 3; i++) {
		*to[i] = u->log == NULL || u->log_len[i] == 0 ? SPAN_NULL :
		    span_make(u->log + o, u->log_len[i]);
		o += u->log_len[i];
	}
	e->received = u->received;
	e->has_received = true;
}

uint64_t
upload_received(const struct upload *u)
{
	return u->received;
}

void
upload_free(struct upload *u)
{
	if (u == NULL)
		return;
	up_drop_file(u);
	if (u->dirfd >= 0)
		close(u->dirfd);
	if (u->workfd >= 0)
		close(u->workfd);
	if (u->counted)
		atomic_fetch_sub_explicit(&active, 1, memory_order_relaxed);
	free(u->ck);
	free(u->mp);
	free(u->location);
	free(u->log);
	hb_release(&u->stored);
	dav_op_free(u->dav);
	free(u);
}
