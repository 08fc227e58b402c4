/*
 * tus.c - resumable uploads: tus 1.0.0 with the creation,
 * creation-with-upload, termination and expiration extensions
 * (https://tus.io/protocols/resumable-upload).
 *
 * The creation endpoint is the target folder's URL: POST /photos/ with
 * Upload-Length and Upload-Metadata "filename ...".  The upload is then
 * the same folder's URL with ?tus=ID (Location is the relative "?tus=ID",
 * so it survives a proxy that changes the host or a prefix).  Its state
 * lives in the work folder of the [upload] path, where a restart finds
 * it: tus-ID.part holds the bytes so far (its size is the offset), and
 * tus-ID.info what the creation said.  The finished file appears in the
 * folder, under the first free name, only once every byte is there and
 * synced: never before it is complete.
 *
 * A PATCH cut by a dropped link keeps every byte that arrived: that is
 * the point.  Two requests writing one upload at once are refused (423):
 * the second waits for the first's lock (flock) to go.  An upload not
 * touched for tus_expire is removed by upload_sweep().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "path.h"
#include "tus_hdr.h"
#include "upload_impl.h"

#define TUS_INFO_MAX	8192
/* Headers every tus answer carries. */
#define TUS_HDR		"Tus-Resumable: " TUS_VERSION "\r\n"

/* What the creation said, as kept in tus-ID.info. */
struct tus_info {
	uint64_t	 length;
	dev_t		 dev;		/* the target folder */
	ino_t		 ino;
	char		 name[NAME_MAX + 1];
	bool		 has_mtime;
	struct timespec	 mtime;
	char		 meta[4096];	/* Upload-Metadata as sent */
	time_t		 touched;	/* the info's mtime: expiry counts from it */
};

/* "tus-ID.part" or "tus-ID.info" into out[48]. */
static void
state_name(const char *id, const char *ext, char out[48])
{
	snprintf(out, 48, "tus-%.32s.%s", id, ext);
}

/* ---- the info file ---- */

static int
write_info(int workfd, const char *id, const struct tus_info *ti)
{
	char path[48], buf[TUS_INFO_MAX];
	int n, fd;

	n = snprintf(buf, sizeof(buf), "length=%llu\ndir=%llu:%llu\nname=%s\n"
	    "mtime=%lld.%09ld\nhas_mtime=%d\nmeta=%s\n",
	    (unsigned long long)ti->length, (unsigned long long)ti->dev,
	    (unsigned long long)ti->ino, ti->name,
	    (long long)ti->mtime.tv_sec, ti->mtime.tv_nsec, ti->has_mtime,
	    ti->meta);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	state_name(id, "info", path);
	fd = openat(workfd, path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return -1;
	if (write(fd, buf, (size_t)n) != n || fsync(fd) != 0) {
		close(fd);
		unlinkat(workfd, path, 0);
		return -1;
	}
	close(fd);
	return 0;
}

/* The value of "key=" in the info text, as a span up to the newline. */
static struct span
info_field(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');

		if (nl == NULL)
			break;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=')
			return span_make(p + klen + 1, (size_t)(nl - p) - klen - 1);
		p = nl + 1;
	}
	return SPAN_NULL;
}

/* Parses the text of an info file into ti.  False when damaged. */
static bool
parse_info(const char *text, struct tus_info *ti)
{
	struct span len = info_field(text, "length");
	struct span dir = info_field(text, "dir");
	struct span name = info_field(text, "name");
	struct span meta = info_field(text, "meta");
	struct span mt = info_field(text, "mtime");
	unsigned long long dev, ino;
	const char *why;

	/* The name is checked again: it becomes a file in the folder. */
	if (tus_parse_uint(len, &ti->length) != 0 || name.p == NULL ||
	    up_clean_name(true, name.p, name.len, ti->name, &why) < 0 ||
	    meta.len >= sizeof(ti->meta) || dir.p == NULL ||
	    sscanf(dir.p, "%llu:%llu", &dev, &ino) != 2)
		return false;
	ti->dev = (dev_t)dev;
	ti->ino = (ino_t)ino;
	memcpy(ti->meta, meta.p, meta.len);
	ti->meta[meta.len] = '\0';
	ti->has_mtime = info_field(text, "has_mtime").len == 1 &&
	    info_field(text, "has_mtime").p[0] == '1' &&
	    up_parse_time(mt, false, &ti->mtime);
	return true;
}

/*
 * Reads the state of upload id for the folder dfd.  Returns 0, 404 (no
 * such upload here, or a damaged one) or 410 (expired).
 */
static int
read_info(int workfd, int dfd, const char *id, unsigned expire_ms,
    struct tus_info *ti)
{
	char path[48], text[TUS_INFO_MAX + 1];
	struct stat st, dst;
	ssize_t n;
	int fd;

	state_name(id, "info", path);
	if ((fd = openat(workfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 404;
	n = read(fd, text, TUS_INFO_MAX);
	if (n <= 0 || fstat(fd, &st) != 0) {
		close(fd);
		return 404;
	}
	close(fd);
	text[n] = '\0';
	if (!parse_info(text, ti) || fstat(dfd, &dst) != 0 ||
	    dst.st_dev != ti->dev || dst.st_ino != ti->ino)
		return 404;
	ti->touched = st.st_mtime;
	if ((uint64_t)ti->touched + expire_ms / 1000 < (uint64_t)time(NULL))
		return 410;
	return 0;
}

/* Upload-Expires for an upload touched at t. */
static void
expires_line(const struct config *cfg, time_t t, char *out, size_t cap)
{
	char date[HTTP_DATE_LEN + 1];

	http_date(t + (time_t)(cfg->upload_tus_expire_ms / 1000), date);
	snprintf(out, cap, "Upload-Expires: %s\r\n", date);
}

/* Removes the state of upload id. */
static void
remove_state(int workfd, const char *id)
{
	char path[48];

	state_name(id, "part", path);
	unlinkat(workfd, path, 0);
	state_name(id, "info", path);
	unlinkat(workfd, path, 0);
}

/*
 * Removes the state of an expired upload, unless a request is writing it
 * (it holds the part's lock): false then.
 */
static bool
expire_state(int workfd, const char *id)
{
	char path[48];
	int fd;

	state_name(id, "part", path);
	fd = openat(workfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return false;
	}
	remove_state(workfd, id);
	if (fd >= 0)
		close(fd);
	return true;
}

/* ---- answers ---- */

static void
tus_refuse(struct response *res, int status, const char *why)
{
	up_refuse(res, status, why, status == 412 ?
	    TUS_HDR "Tus-Version: " TUS_VERSION "\r\n" :
	    status == 503 ? TUS_HDR "Retry-After: 2\r\n" : TUS_HDR);
}

/* ---- creation ---- */

/* A fresh upload ID: 32 hex digits. */
static int
new_id(char id[TUS_ID_LEN + 1])
{
	unsigned char rnd[16];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

/*
 * What the creation request says: Upload-Length, the name from
 * Upload-Metadata (filename, or Uppy's name), its lastModified.  0 or a
 * status, with *why.
 */
static int
creation_info(const struct http_request *req, bool allow_hidden,
    struct tus_info *ti, const char **why)
{
	struct span meta = http_header_value(req, "Upload-Metadata");
	struct tus_meta *m;
	const char *v;
	size_t vlen;
	int rc = 0;

	if (http_header_value(req, "Upload-Defer-Length").p != NULL) {
		*why = "Upload-Defer-Length is not supported";
		return 400;
	}
	if (tus_parse_uint(http_header_value(req, "Upload-Length"), &ti->length)) {
		*why = "Upload-Length is missing or malformed";
		return 400;
	}
	if (meta.len >= sizeof(ti->meta)) {
		*why = "Upload-Metadata is too long";
		return 400;
	}
	if ((m = malloc(sizeof(*m))) == NULL) {
		*why = "out of memory";
		return 503;
	}
	memcpy(ti->meta, meta.p == NULL ? "" : meta.p, meta.len);
	ti->meta[meta.len] = '\0';
	if (tus_parse_metadata(meta, m, why) != 0)
		rc = 400;
	else if ((v = tus_meta_get(m, "filename", &vlen)) == NULL &&
	    (v = tus_meta_get(m, "name", &vlen)) == NULL) {
		*why = "Upload-Metadata has no filename";
		rc = 400;
	} else if (up_clean_name(allow_hidden, v, vlen, ti->name, why) < 0) {
		rc = 400;
	} else if ((v = tus_meta_get(m, "lastModified", &vlen)) != NULL) {
		ti->has_mtime = up_parse_time(span_make(v, vlen), true,
		    &ti->mtime);
	}
	free(m);
	return rc;
}

/* An upload of a body into the part file fd, positioned at offset. */
static struct upload *
tus_upload(const struct serve_ctx *x, const struct http_request *req,
    int dfd, int workfd, int fd, const char *id, const struct tus_info *ti,
    uint64_t offset)
{
	struct upload *u = up_new(UP_KIND_TUS, dfd, x->cfg, req);

	if (u == NULL)
		return NULL;
	u->fd = fd;
	u->workfd = u->hidefd = workfd;
	u->keep_part = true;	/* a cut PATCH keeps what came */
	u->file_len = u->flushed = offset;
	u->max_size = ti->length;	/* more than Upload-Length is 413 */
	u->tus_length = ti->length;
	memcpy(u->tus_id, id, TUS_ID_LEN + 1);
	memcpy(u->name, ti->name, sizeof(ti->name));
	u->has_mtime = ti->has_mtime;
	u->mtime = ti->mtime;
	return u;
}

/* A body comes with the request (creation-with-upload, or a PATCH). */
static bool
has_body(const struct http_request *req)
{
	return req->chunked ||
	    (req->has_content_length && req->content_length > 0);
}

/* The media type of a PATCH body, as tus requires it. */
static bool
offset_stream(const struct http_request *req)
{
	return span_eq_cstr_nocase(span_trim(http_header_value(req, "Content-Type")),
	    "application/offset+octet-stream");
}

/* Makes the state files of a new upload; returns the part's fd or -1. */
static int
create_state(int workfd, const char *id, const struct tus_info *ti)
{
	char path[48];
	int fd;

	state_name(id, "part", path);
	/* The work folder is 0700: the file's mode is the one it will keep. */
	fd = openat(workfd, path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
	    0644);
	if (fd < 0)
		return -1;
	if (write_info(workfd, id, ti) != 0) {
		close(fd);
		unlinkat(workfd, path, 0);
		return -1;
	}
	return fd;
}

/* POST to the folder dfd: a new upload. */
static enum up_plan
tus_create(const struct serve_ctx *x, const struct http_request *req,
    int dfd, int workfd, struct response *res, struct upload **up)
{
	struct tus_info ti = { 0 };
	char id[TUS_ID_LEN + 1];
	const char *why = NULL;
	struct stat st;
	int code, fd;

	if ((code = creation_info(req, x->cfg->allow_hidden, &ti, &why)) == 0)
		code = up_room(x->cfg, dfd, ti.length, true, &why);
	if (code == 0 && req->has_content_length &&
	    req->content_length > ti.length) {
		code = 413;
		why = "more bytes than Upload-Length";
	}
	if (code == 0 && has_body(req) && !offset_stream(req)) {
		code = 415;
		why = "the data must be application/offset+octet-stream";
	}
	if (code != 0) {
		tus_refuse(res, code, why);
		return UP_ANSWERED;
	}
	if (fstat(dfd, &st) != 0 || new_id(id) != 0 ||
	    (ti.dev = st.st_dev, ti.ino = st.st_ino,
	    (fd = create_state(workfd, id, &ti)) < 0)) {
		tus_refuse(res, 500, "cannot keep the upload's state");
		return UP_ANSWERED;
	}
	log_info("tus: upload %s of '%s' (%llu bytes) begins", id, ti.name,
	    (unsigned long long)ti.length);
	*up = tus_upload(x, req, dfd, workfd, fd, id, &ti, 0);
	if (*up == NULL) {
		close(fd);
		remove_state(workfd, id);
		tus_refuse(res, 503, "out of memory");
		return UP_ANSWERED;
	}
	(*up)->tus_created = true;
	up_count(*up);
	return UP_BODY;
}

/* ---- an existing upload: HEAD, PATCH, DELETE ---- */

/* The part file of id, locked for this request; -1 and *code when not. */
static int
lock_part(int workfd, const char *id, int flags, int *code)
{
	char path[48];
	int fd;

	state_name(id, "part", path);
	fd = openat(workfd, path, flags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		*code = 404;
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		*code = 423;
		return -1;
	}
	return fd;
}

static void
tus_head(const struct config *cfg, int workfd, const char *id,
    const struct tus_info *ti, struct response *res)
{
	char path[48], extra[TUS_INFO_MAX], exp[96];
	struct stat st;

	state_name(id, "part", path);
	if (fstatat(workfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		tus_refuse(res, 404, "no such upload");
		return;
	}
	expires_line(cfg, ti->touched, exp, sizeof(exp));
	snprintf(extra, sizeof(extra), TUS_HDR "Upload-Offset: %llu\r\n"
	    "Upload-Length: %llu\r\nCache-Control: no-store\r\n%s%s%s%s",
	    (unsigned long long)st.st_size, (unsigned long long)ti->length,
	    exp, ti->meta[0] != '\0' ? "Upload-Metadata: " : "", ti->meta,
	    ti->meta[0] != '\0' ? "\r\n" : "");
	up_answer(res, 200, extra, "", 0);
	res->head = true;
}

static void
tus_delete(int workfd, const char *id, struct response *res)
{
	int code, fd = lock_part(workfd, id, O_RDONLY, &code);

	if (fd < 0) {
		tus_refuse(res, code, code == 423 ? "the upload is busy" :
		    "no such upload");
		return;
	}
	remove_state(workfd, id);
	close(fd);
	log_info("tus: upload %s terminated", id);
	up_answer(res, 204, TUS_HDR, "", 0);
}

/* PATCH: more bytes at Upload-Offset. */
static enum up_plan
tus_patch(const struct serve_ctx *x, const struct http_request *req,
    int dfd, int workfd, const char *id, const struct tus_info *ti,
    struct response *res, struct upload **up)
{
	const char *why = NULL;
	uint64_t offset;
	struct stat st;
	int code, fd;

	if (!offset_stream(req)) {
		tus_refuse(res, 415, "the data must be "
		    "application/offset+octet-stream");
		return UP_ANSWERED;
	}
	if (tus_parse_uint(http_header_value(req, "Upload-Offset"), &offset) != 0) {
		tus_refuse(res, 400, "Upload-Offset is missing or malformed");
		return UP_ANSWERED;
	}
	/* Not O_APPEND, which splice() refuses: written from the offset on. */
	if ((fd = lock_part(workfd, id, O_WRONLY, &code)) < 0) {
		tus_refuse(res, code, code == 423 ? "another request is "
		    "writing this upload" : "no such upload");
		return UP_ANSWERED;
	}
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != offset ||
	    lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		close(fd);
		tus_refuse(res, 409, "Upload-Offset does not match the upload");
		return UP_ANSWERED;
	}
	if (offset > ti->length || (req->has_content_length &&
	    req->content_length > ti->length - offset)) {
		close(fd);
		tus_refuse(res, 413, "more bytes than Upload-Length");
		return UP_ANSWERED;
	}
	if ((code = up_room(x->cfg, dfd, ti->length - offset, false, &why))
	    != 0) {
		close(fd);
		tus_refuse(res, code, why);
		return UP_ANSWERED;
	}
	if ((*up = tus_upload(x, req, dfd, workfd, fd, id, ti, offset)) ==
	    NULL) {
		close(fd);
		tus_refuse(res, 503, "out of memory");
		return UP_ANSWERED;
	}
	up_count(*up);
	return UP_BODY;
}

/* A request on ?tus=ID. */
static enum up_plan
tus_existing(const struct serve_ctx *x, const struct http_request *req,
    int dfd, int workfd, struct span idv, struct response *res,
    struct upload **up)
{
	struct tus_info ti = { 0 };
	char id[TUS_ID_LEN + 1];
	int code;

	if (!tus_id_valid(idv.p, idv.len)) {
		tus_refuse(res, 404, "no such upload");
		return UP_ANSWERED;
	}
	memcpy(id, idv.p, TUS_ID_LEN);
	id[TUS_ID_LEN] = '\0';
	code = read_info(workfd, dfd, id, x->cfg->upload_tus_expire_ms, &ti);
	if (code == 410 && !expire_state(workfd, id))
		code = 423;	/* a request still writes it */
	if (code != 0) {
		tus_refuse(res, code, code == 410 ? "the upload expired" :
		    code == 423 ? "the upload is busy" : "no such upload");
		return UP_ANSWERED;
	}
	switch (req->method) {
	case HTTP_M_HEAD:
		tus_head(x->cfg, workfd, id, &ti, res);
		return UP_ANSWERED;
	case HTTP_M_DELETE:
		tus_delete(workfd, id, res);
		return UP_ANSWERED;
	case HTTP_M_PATCH:
		return tus_patch(x, req, dfd, workfd, id, &ti, res, up);
	default:
		up_refuse(res, 405, "an upload takes HEAD, PATCH and DELETE",
		    TUS_HDR "Allow: HEAD, PATCH, DELETE\r\n");
		return UP_ANSWERED;
	}
}

bool
up_is_tus(const struct http_request *req)
{
	return http_header_value(req, "Tus-Resumable").p != NULL;
}

enum up_plan
up_plan_tus(const struct serve_ctx *x, const struct http_request *req,
    int dfd, struct response *res, struct upload **up)
{
	struct span idv;
	enum up_plan p;
	int workfd;

	if (!tus_version_ok(span_trim(http_header_value(req, "Tus-Resumable")))) {
		close(dfd);
		tus_refuse(res, 412, "this server speaks tus " TUS_VERSION);
		return UP_ANSWERED;
	}
	if ((workfd = up_work_dir(x->cfg, x->path)) < 0) {
		close(dfd);
		tus_refuse(res, 500, "cannot open the upload work folder");
		return UP_ANSWERED;
	}
	/* The part becomes the file by a rename, which cannot cross disks. */
	if (!up_same_disk(workfd, dfd)) {
		close(workfd);
		close(dfd);
		tus_refuse(res, 409, "resumable uploads cannot go to a folder on "
		    "another disk than its upload path");
		return UP_ANSWERED;
	}
	if (http_query_param(req->query, "tus", &idv))
		p = tus_existing(x, req, dfd, workfd, idv, res, up);
	else if (req->method == HTTP_M_POST)
		p = tus_create(x, req, dfd, workfd, res, up);
	else {
		up_refuse(res, 405, "a new upload is a POST to the folder",
		    TUS_HDR "Allow: POST\r\n");
		p = UP_ANSWERED;
	}
	if (p != UP_BODY) {
		close(workfd);
		close(dfd);
	}
	return p;
}

/* ---- the end of a PATCH ---- */

/* Every byte is in: the file takes its name in the folder. */
static int
tus_complete(struct upload *u)
{
	char path[48];
	int code;

	state_name(u->tus_id, "part", path);
	if ((u->part_name = strdup(path)) == NULL)
		return up_failed(u, 503, "out of memory");
	if ((code = up_seal(u)) != 0 || (code = up_link_free_name(u)) != 0)
		return code;
	state_name(u->tus_id, "info", path);
	unlinkat(u->workfd, path, 0);
	up_sync_dir(u);
	log_info("tus: upload %s stored as '%s' (%llu bytes)", u->tus_id,
	    u->name, (unsigned long long)u->file_len);
	return 0;
}

int
up_tus_finish(struct upload *u, const struct config *cfg,
    struct response *res)
{
	char extra[384], exp[96], path[48];
	int code = 0;

	/* What arrived stays, even from a cut request: it resumes. */
	if (u->fsync && fsync(u->fd) != 0)
		return up_fail_errno(u, errno, "fsync");
	state_name(u->tus_id, "info", path);
	(void)utimensat(u->workfd, path, NULL, AT_SYMLINK_NOFOLLOW);
	if (u->status != 0)
		return u->status;
	if (u->file_len == u->tus_length && (code = tus_complete(u)) != 0)
		return code;
	expires_line(cfg, time(NULL), exp, sizeof(exp));
	if (u->tus_created) {
		snprintf(extra, sizeof(extra), TUS_HDR "Location: ?tus=%s\r\n"
		    "Upload-Offset: %llu\r\n%s", u->tus_id,
		    (unsigned long long)u->file_len, exp);
		up_answer(res, 201, extra, "created\n", 8);
		return 201;
	}
	snprintf(extra, sizeof(extra), TUS_HDR "Upload-Offset: %llu\r\n%s",
	    (unsigned long long)u->file_len, exp);
	up_answer(res, 204, extra, "", 0);
	return 204;
}

/* ---- expiry and leftovers ---- */

/* One entry of a work folder: removed when it is a leftover. */
static void
sweep_entry(int workfd, const char *name, bool at_start, time_t oldest,
    time_t stale)
{
	struct stat st;
	char other[48];
	size_t len = strlen(name);

	if (strncmp(name, UP_TMP_PREFIX, strlen(UP_TMP_PREFIX)) == 0) {
		/*
		 * A name between link and rename, or a body being received
		 * where the file system has no O_TMPFILE: only a crash leaves
		 * one untouched for long.  On shared storage a fresh one may
		 * be another replica's upload in progress, so only stale ones
		 * go.
		 */
		if (fstatat(workfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_mtime < stale)
			unlinkat(workfd, name, 0);
		return;
	}
	if (len != 4 + TUS_ID_LEN + 5 || strncmp(name, "tus-", 4) != 0 ||
	    fstatat(workfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	if (strcmp(name + len - 5, ".info") == 0 && st.st_mtime < oldest) {
		char id[TUS_ID_LEN + 1];

		memcpy(id, name + 4, TUS_ID_LEN);
		id[TUS_ID_LEN] = '\0';
		if (expire_state(workfd, id))
			log_info("tus: upload %s expired", id);
		return;
	}
	if (at_start && strcmp(name + len - 5, ".part") == 0 &&
	    st.st_mtime < stale) {
		/* A part without its info was never created completely. */
		state_name(name + 4, "info", other);
		if (faccessat(workfd, other, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
			unlinkat(workfd, name, 0);
	}
}

void
upload_sweep(const struct config *cfg, bool at_start)
{
	time_t now = time(NULL);
	time_t oldest = now - (time_t)(cfg->upload_tus_expire_ms / 1000);
	/*
	 * A body that stalls for body_timeout is given up; twice that (and
	 * at least a minute) untouched means nobody writes it any more.
	 */
	time_t stale = now - (time_t)(cfg->upload_body_timeout_ms / 1000 * 2) -
	    60;

	if (!cfg->upload_enable)
		return;
	for (size_t i = 0; i < cfg->nupload_rel; i++) {
		int pfd, wfd;
		DIR *d;
		struct dirent *de;

		if (path_open(&cfg->tree, cfg->upload_rel[i], &pfd) != 0)
			continue;
		wfd = openat(pfd, UP_WORK_DIR, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		close(pfd);
		if (wfd < 0 || (d = fdopendir(wfd)) == NULL) {
			if (wfd >= 0)
				close(wfd);
			continue;
		}
		while ((de = readdir(d)) != NULL)
			sweep_entry(dirfd(d), de->d_name, at_start, oldest,
			    stale);
		closedir(d);
	}
}
