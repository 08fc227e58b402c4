/*
 * dav.c - the WebDAV methods that change the tree (MKCOL, DELETE, COPY,
 * MOVE), locks (LOCK, UNLOCK, the If header), and the plumbing every
 * method shares: the request kept past its head, answers, multistatus.
 *
 * Writes follow the upload code's rules (upload_impl.h): only below an
 * [upload] path, never a work folder or an upload path itself, new names
 * cleaned to NFC and refused when hidden (unless hidden files are
 * allowed); a copied file is written unnamed and linked whole.  A request
 * that would change a locked resource must name the lock in its If
 * header (RFC 4918 §7), and an If header that evaluates false is 412
 * whatever the method (§10.4).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dav.h"
#include "dav_dest.h"
#include "dav_if.h"
#include "dav_impl.h"
#include "dav_lock.h"
#include "dav_xml.h"
#include "file.h"
#include "listing_cache.h"
#include "log.h"
#include "nfc.h"
#include "path.h"
#include "upload_impl.h"

#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)

struct dav_locks *dav_locks;

/* Locks last this long unless asked otherwise, and a day at most. */
#define LOCK_TIMEOUT_DEF	600
#define LOCK_TIMEOUT_MAX	86400
/* A DELETE names at most this many members it could not remove. */
#define DELETE_FAIL_MAX		32

static const char xml_head[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

int
dav_init(void)
{
	if (dav_locks == NULL)
		dav_locks = dav_locks_new();
	return dav_locks != NULL ? 0 : -1;
}

void
dav_shutdown(void)
{
	dav_locks_free(dav_locks);
	dav_locks = NULL;
}

uint64_t
dav_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool
dav_method(enum http_method m)
{
	switch (m) {
	case HTTP_M_PROPFIND:
	case HTTP_M_PROPPATCH:
	case HTTP_M_MKCOL:
	case HTTP_M_COPY:
	case HTTP_M_MOVE:
	case HTTP_M_LOCK:
	case HTTP_M_UNLOCK:
	case HTTP_M_PUT:
	case HTTP_M_DELETE:
		return true;
	default:
		return false;
	}
}

/* ---- answers ---- */

void
dav_answer_xml(struct response *res, int status, const char *extra,
    const char *body, size_t len)
{
	struct hbuf *hb = &res->hb;

	hb->len = 0;
	hb->overflow = false;
	res->status = status;
	http_begin(hb, status);
	if (len > 0)
		hb_str(hb, "Content-Type: application/xml; charset=utf-8\r\n");
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
	if (!res->head && len > 0)
		hb_add(hb, body, len);
	if (hb->overflow) {
		up_refuse(res, 500, "the answer is too large", NULL);
		return;
	}
	res->segs[0] = (struct out_seg){ .mem = hb->p, .len = hb->len };
	res->nsegs = 1;
}

void
dav_refuse(struct response *res, int status, const char *cond,
    const char *why)
{
	char body[512];
	int n;

	if (cond == NULL) {
		up_refuse(res, status, why, NULL);
		return;
	}
	log_info("webdav: %d %s", status, why);
	n = snprintf(body, sizeof(body), "%s<D:error xmlns:D=\"DAV:\"><D:%s/>"
	    "</D:error>\n", xml_head, cond);
	dav_answer_xml(res, status, NULL, body, n < 0 ? 0 :
	    (size_t)n >= sizeof(body) ? sizeof(body) - 1 : (size_t)n);
}

/* 423 with the lock in the way (§16 lock-token-submitted). */
static void
refuse_locked(struct response *res, const char *root)
{
	struct hbuf hb;

	hb_init_heap(&hb);
	hb_str(&hb, xml_head);
	hb_str(&hb, "<D:error xmlns:D=\"DAV:\"><D:lock-token-submitted>");
	dav_ms_href(&hb, root, strlen(root), false);
	hb_str(&hb, "</D:lock-token-submitted></D:error>\n");
	if (hb.overflow)
		dav_refuse(res, 423, NULL, "the resource is locked");
	else
		dav_answer_xml(res, 423, NULL, hb.p, hb.len);
	hb_release(&hb);
}

/* ---- multistatus ---- */

void
dav_ms_begin(struct dav_ms *ms)
{
	hb_init_heap(&ms->hb);
	ms->fd = -1;
	ms->len = 0;
	ms->failed = false;
	hb_str(&ms->hb, xml_head);
	hb_str(&ms->hb, "<D:multistatus xmlns:D=\"DAV:\">\n");
}

void
dav_ms_flush(struct dav_ms *ms, bool all)
{
	size_t o = 0;

	if (ms->hb.overflow)
		ms->failed = true;
	if (ms->failed || (!all && ms->hb.len < DAV_MS_CHUNK) ||
	    ms->hb.len == 0)
		return;
	if (ms->fd < 0 && (ms->fd = listing_cache_memfd()) < 0) {
		ms->failed = true;
		return;
	}
	while (o < ms->hb.len) {
		ssize_t n = write(ms->fd, ms->hb.p + o, ms->hb.len - o);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ms->failed = true;
			return;
		}
		o += (size_t)n;
	}
	ms->len += ms->hb.len;
	ms->hb.len = 0;
}

void
dav_ms_href(struct hbuf *hb, const char *rel, size_t len, bool dir)
{
	char enc[3 * PATH_MAX];
	size_t n = path_encode_set(rel, len, PCT_STRICT, enc, sizeof(enc));

	hb_str(hb, "<D:href>/");
	if (n < sizeof(enc))
		hb_add(hb, enc, n);
	else
		hb->overflow = true;
	if (dir && len > 0)
		hb_add(hb, "/", 1);
	hb_str(hb, "</D:href>");
}

int
dav_ms_end(struct dav_ms *ms)
{
	hb_str(&ms->hb, "</D:multistatus>\n");
	if (ms->fd >= 0)
		dav_ms_flush(ms, true);
	if (ms->hb.overflow)
		ms->failed = true;
	return ms->failed ? -1 : 0;
}

void
dav_ms_release(struct dav_ms *ms)
{
	hb_release(&ms->hb);
	if (ms->fd >= 0)
		close(ms->fd);
	ms->fd = -1;
}

void
dav_ms_answer(struct dav_ms *ms, struct response *res)
{
	uint64_t len;

	/* More than the worker's buffer takes with the headers goes by fd. */
	if (ms->fd < 0 && ms->hb.len > SERVE_INLINE_MAX)
		dav_ms_flush(ms, true);
	if (ms->failed) {
		dav_ms_release(ms);
		dav_refuse(res, 503, NULL, "out of memory");
		return;
	}
	if (ms->fd < 0) {
		dav_answer_xml(res, 207, NULL, ms->hb.p, ms->hb.len);
		dav_ms_release(ms);
		return;
	}
	len = ms->len;
	dav_answer_xml(res, 207, NULL, NULL, 0);
	/* The length dav_answer_xml() wrote was 0: write it again. */
	res->hb.len = 0;
	http_begin(&res->hb, 207);
	hb_str(&res->hb, "Content-Type: application/xml; charset=utf-8\r\n"
	    "Content-Length: ");
	hb_u64(&res->hb, len);
	hb_str(&res->hb, res->keep_alive ? (res->http10 ?
	    "\r\nConnection: keep-alive\r\n\r\n" : "\r\n\r\n") :
	    "\r\nConnection: close\r\n\r\n");
	res->hdr_len = res->hb.len;
	res->segs[0] = (struct out_seg){ .mem = res->hb.p, .len = res->hb.len };
	res->nsegs = 1;
	http_serve_attach(res, ms->fd, 0, len);
	ms->fd = -1;
	dav_ms_release(ms);
}

/* ---- the request ---- */

/*
 * The resource of rel, which the client may have sent in another
 * normalisation form than the NFC names are stored in (macOS sends NFD):
 * an existing name as sent wins, else the NFC form is used.
 */
static void
to_nfc(const struct config *cfg, char *rel, size_t cap)
{
	char nfc[PATH_MAX];
	ssize_t n;
	int fd;

	if (nfc_is_nfc(rel, strlen(rel)))
		return;
	if (path_open(&cfg->tree, rel, &fd) == 0) {
		close(fd);
		return;
	}
	n = nfc_normalize(rel, strlen(rel), nfc, sizeof(nfc));
	if (n >= 0 && (size_t)n < cap) {
		memcpy(rel, nfc, (size_t)n);
		rel[n] = '\0';
	}
}

/* The copy of req that outlives its head; NULL with *code on failure. */
static struct dav_op *
op_new(const struct serve_ctx *x, const struct http_request *req, int *code)
{
	struct dav_op *op = calloc(1, sizeof(*op));
	struct span v;
	struct path_result pr;

	if (op == NULL) {
		*code = 503;
		return NULL;
	}
	op->method = req->method;
	op->http10 = req->version_minor == 0;
	if (x->user != NULL)
		snprintf(op->user, sizeof(op->user), "%s", x->user);
	if ((*code = path_normalize(req->path, x->cfg->allow_hidden, op->rel,
	    sizeof(op->rel), &pr)) != 0) {
		free(op);
		return NULL;
	}
	op->trailing_slash = pr.trailing_slash;
	to_nfc(x->cfg, op->rel, sizeof(op->rel));
	v = http_header_value(req, "Depth");
	op->has_depth = v.p != NULL;
	op->depth = dav_parse_depth(v, DAV_DEPTH_INF);
	op->timeout_s = dav_parse_timeout(http_header_value(req, "Timeout"),
	    LOCK_TIMEOUT_DEF, LOCK_TIMEOUT_MAX);
	v = req->hdr[HDR_HOST];
	if (v.p != NULL && v.len < sizeof(op->host)) {
		memcpy(op->host, v.p, v.len);
		op->host_len = v.len;
		op->has_host = true;
	}
	v = http_header_value(req, "If");
	if (v.p != NULL) {
		if ((op->if_hdr = malloc(v.len + 1)) == NULL) {
			free(op);
			*code = 503;
			return NULL;
		}
		memcpy(op->if_hdr, v.p, v.len);
		op->if_hdr[v.len] = '\0';
		op->if_len = v.len;
	}
	return op;
}

void
dav_op_free(struct dav_op *op)
{
	if (op == NULL)
		return;
	free(op->if_hdr);
	free(op);
}

/* ---- the If header and locks ---- */

struct if_ctx {
	const struct serve_ctx *x;
	const struct dav_op *op;
	uint64_t	 now;
};

/* The path a tag of the If header names (empty: the request's). */
static bool
tag_rel(const struct if_ctx *c, struct span url, char *out, size_t cap)
{
	struct path_result pr;

	if (url.len == 0) {
		snprintf(out, cap, "%s", c->op->rel);
		return true;
	}
	if (dav_dest_parse(url, c->op->has_host ? span_make(c->op->host,
	    c->op->host_len) : SPAN_NULL, c->x->cfg->allow_hidden, out, cap,
	    &pr) != 0)
		return false;
	to_nfc(c->x->cfg, out, cap);
	return true;
}

static bool
token_ok(void *arg, struct span url, struct span token)
{
	const struct if_ctx *c = arg;
	char rel[PATH_MAX];

	return tag_rel(c, url, rel, sizeof(rel)) &&
	    dav_lock_covers(dav_locks, rel, token, c->now);
}

static bool
etag_ok(void *arg, struct span url, struct span etag)
{
	const struct if_ctx *c = arg;
	char rel[PATH_MAX];
	struct file_info fi;
	struct stat st;
	int fd;

	if (!tag_rel(c, url, rel, sizeof(rel)) ||
	    path_open(&c->x->cfg->tree, rel, &fd) != 0)
		return false;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return false;
	}
	close(fd);
	file_info_from_stat(&st, c->x->cfg->etag_inode, NULL, &fi);
	return span_eq(etag, span_make(fi.etag, fi.etag_len));
}

/* The If header, parsed once per request, and the lock tokens it names. */
struct guard {
	struct dav_if	 h;
	struct span	 tokens[DAV_IF_MAX_CONDS];
	size_t		 ntokens;
};

/*
 * Evaluates op's If header (§10.4): 0, or the status answered (400, 412)
 * in res.  g collects the tokens it submits.
 */
static int
check_if(const struct serve_ctx *x, const struct dav_op *op, struct guard *g,
    struct response *res)
{
	struct if_ctx c = { x, op, dav_now_ms() };
	struct dav_if_check chk = { token_ok, etag_ok, &c };

	g->ntokens = 0;
	if (op->if_hdr == NULL)
		return 0;
	if (dav_if_parse(op->if_hdr, op->if_len, &g->h) != 0) {
		dav_refuse(res, 400, NULL, "a malformed If header");
		return 400;
	}
	for (size_t i = 0; i < g->h.nconds; i++)
		if (!g->h.conds[i].is_etag)
			g->tokens[g->ntokens++] = g->h.conds[i].v;
	if (!dav_if_eval(&g->h, &chk)) {
		dav_refuse(res, 412, NULL, "the If header does not hold");
		return 412;
	}
	return 0;
}

/* rel (and, when tree, all below it) may change given g's tokens. */
static int
check_locks(const char *rel, bool tree, const struct guard *g,
    struct response *res)
{
	char root[PATH_MAX];

	if (dav_lock_may_write(dav_locks, rel, tree, g->tokens, g->ntokens,
	    dav_now_ms(), root))
		return 0;
	refuse_locked(res, root);
	return 423;
}

/*
 * A name coming into or leaving the folder holding rel changes that
 * folder's membership, which a lock on the folder protects even at Depth
 * 0 (RFC 4918 §7.1): 0 or 423 answered.
 */
static int
check_parent(const char *rel, const struct guard *g, struct response *res)
{
	const char *slash = strrchr(rel, '/');
	char parent[PATH_MAX];
	size_t n = slash != NULL ? (size_t)(slash - rel) : 0;

	if (rel[0] == '\0')
		return 0;
	memcpy(parent, rel, n);
	parent[n] = '\0';
	return check_locks(parent, false, g, res);
}

/*
 * True when rel names something, or when no lock exists (so that the
 * membership check it guards costs nothing then).
 */
static bool
dav_exists(const struct config *cfg, const char *rel)
{
	int fd;

	if (dav_lock_count(dav_locks, dav_now_ms()) == 0)
		return true;
	if (path_open(&cfg->tree, rel, &fd) != 0)
		return false;
	close(fd);
	return true;
}

/*
 * Writes to rel are allowed by the configuration: 0, or 405 (writes are
 * off), 403 (a read-only path, a work folder, an upload path itself when
 * whole is false... see callers) answered in res.
 */
static int
check_writable(const struct config *cfg, const char *rel, bool moves,
    struct response *res)
{
	if (!cfg->upload_enable) {
		up_refuse(res, 405, "writes are off on this server",
		    "Allow: GET, HEAD, OPTIONS, PROPFIND\r\n");
		return 405;
	}
	if (!up_writable(cfg, rel) || up_in_work_dir(rel)) {
		dav_refuse(res, 403, NULL, "this folder is read-only");
		return 403;
	}
	if (moves && up_holds_prefix(cfg, rel)) {
		dav_refuse(res, 403, NULL, "the upload folder itself cannot "
		    "change");
		return 403;
	}
	return 0;
}

/* ---- names ---- */

/*
 * Finder's metadata beside each file ("._name", resource forks and
 * extended attributes) and per folder (".DS_Store"): refused unless
 * [webdav] mac_files = allow, even where hidden files may be written.
 */
static bool
mac_file(const struct config *cfg, const char *name)
{
	return !cfg->webdav_mac_files && (strncmp(name, "._", 2) == 0 ||
	    strcmp(name, ".DS_Store") == 0);
}

/* The parent folder of rel and its last segment (rel is not the root). */
struct target {
	char		 dir[PATH_MAX];
	char		 name[NAME_MAX + 1];
	int		 dfd;		/* the parent, open; -1 */
	bool		 exists;
	struct stat	 st;		/* when it exists */
};

/*
 * Opens the parent of rel for a write into t.  A new name is cleaned
 * (NFC, not hidden, not reserved) when clean; an existing one is used as
 * it is.  0 or the status answered in res (400, 404, 409).
 */
static int
target_open(const struct config *cfg, const char *rel, bool clean,
    struct target *t, struct response *res)
{
	const char *slash = strrchr(rel, '/'), *last = slash ? slash + 1 : rel;
	const char *why;
	size_t dlen = slash ? (size_t)(slash - rel) : 0;
	int code;

	t->dfd = -1;
	memcpy(t->dir, rel, dlen);
	t->dir[dlen] = '\0';
	if (clean && up_clean_name(cfg->allow_hidden, last, strlen(last),
	    t->name, &why) != 0) {
		dav_refuse(res, 400, NULL, why);
		return 400;
	}
	if (!clean)
		snprintf(t->name, sizeof(t->name), "%s", last);
	else if (mac_file(cfg, t->name)) {
		dav_refuse(res, 403, NULL, "macOS metadata files are refused "
		    "([webdav] mac_files)");
		return 403;
	}
	if ((code = up_open_dir(cfg, t->dir, &t->dfd)) != 0) {
		dav_refuse(res, code, NULL, code == 409 ?
		    "the parent folder does not exist" : "cannot open the "
		    "folder");
		return code;
	}
	t->exists = fstatat(t->dfd, t->name, &t->st, AT_SYMLINK_NOFOLLOW) == 0;
	return 0;
}

int
dav_open_nofollow(const struct config *cfg, const char *rel, int *fdp)
{
	const char *slash = strrchr(rel, '/');
	size_t n = slash != NULL ? (size_t)(slash - rel) : 0;
	char dir[PATH_MAX];
	int dfd, code;

	if (up_open_dir(cfg, rel, fdp) == 0)
		return 0;	/* a folder, the upload path itself included */
	memcpy(dir, rel, n);
	dir[n] = '\0';
	if ((code = up_open_dir(cfg, dir, &dfd)) != 0)
		return code == 409 ? 404 : code;
	*fdp = openat(dfd, slash != NULL ? slash + 1 : rel, O_RDONLY |
	    O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	code = *fdp >= 0 ? 0 : errno == ENOENT ? 404 : 403;
	close(dfd);
	return code;
}

static void
target_close(struct target *t)
{
	if (t->dfd >= 0)
		close(t->dfd);
	t->dfd = -1;
}

/* A folder whose names changed goes to disk (unless fsync is off). */
static void
sync_dir(const struct config *cfg, int dfd)
{
	if (cfg->upload_fsync && fsync(dfd) != 0 && errno != EINVAL)
		log_errno(LOG_LVL_WARN, errno, "webdav: fsync");
}

/* ---- removing a tree ---- */

struct rm_state {
	char		 rel[PATH_MAX];	/* the path being removed */
	size_t		 len;
	char		*failed[DELETE_FAIL_MAX];
	size_t		 nfailed;
	bool		 any_failed;
};

static void
rm_note(struct rm_state *s)
{
	s->any_failed = true;
	if (s->nfailed < DELETE_FAIL_MAX &&
	    (s->failed[s->nfailed] = strdup(s->rel)) != NULL)
		s->nfailed++;
}

static int	rm_entry(int dfd, const char *name, unsigned level,
		    struct rm_state *s);

/* Removes what the folder open as fd holds; true when all went. */
static bool
rm_children(int fd, unsigned level, struct rm_state *s)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	bool ok = true;

	if (d == NULL) {
		close(fd);
		return false;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") ==
		    0)
			continue;
		if (rm_entry(dirfd(d), de->d_name, level + 1, s) != 0)
			ok = false;
	}
	closedir(d);
	return ok;
}

/*
 * Removes name from the folder dfd, a whole tree when it is a folder
 * (links are removed, never followed).  0, or -1 with the failures
 * noted in s (a folder whose members could not all go is not noted
 * itself: §9.6.1).
 */
static int
rm_entry(int dfd, const char *name, unsigned level, struct rm_state *s)
{
	size_t old = s->len;
	int fd, rc = 0;

	if (s->len + 1 + strlen(name) < sizeof(s->rel)) {
		s->len += (size_t)snprintf(s->rel + s->len, sizeof(s->rel) -
		    s->len, "%s%s", s->len > 0 ? "/" : "", name);
	}
	if (unlinkat(dfd, name, 0) == 0)
		goto out;
	if (errno != EISDIR && errno != EPERM) {
		rm_note(s);
		rc = -1;
		goto out;
	}
	fd = level < DAV_TREE_LEVELS ? openat(dfd, name, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (fd < 0 || !rm_children(fd, level, s)) {
		if (fd < 0)
			rm_note(s);
		rc = -1;
	} else if (unlinkat(dfd, name, AT_REMOVEDIR) != 0) {
		rm_note(s);
		rc = -1;
	}
out:
	s->len = old;
	s->rel[old] = '\0';
	return rc;
}

/* Removes the tree t->name; 0, or 207 answered with the failures. */
static int
rm_tree(const struct config *cfg, struct target *t, const char *rel,
    struct response *res)
{
	struct rm_state s = { .nfailed = 0 };
	struct dav_ms ms;

	snprintf(s.rel, sizeof(s.rel), "%s", t->dir);
	s.len = strlen(s.rel);
	if (rm_entry(t->dfd, t->name, 0, &s) == 0) {
		sync_dir(cfg, t->dfd);
		dav_lock_drop_tree(dav_locks, rel);
		return 0;
	}
	dav_ms_begin(&ms);
	for (size_t i = 0; i < s.nfailed; i++) {
		hb_str(&ms.hb, "<D:response>");
		dav_ms_href(&ms.hb, s.failed[i], strlen(s.failed[i]), false);
		hb_str(&ms.hb, "<D:status>HTTP/1.1 403 Forbidden</D:status>"
		    "</D:response>\n");
		free(s.failed[i]);
	}
	if (s.nfailed == 0) {
		hb_str(&ms.hb, "<D:response>");
		dav_ms_href(&ms.hb, rel, strlen(rel), false);
		hb_str(&ms.hb, "<D:status>HTTP/1.1 500 Internal Server Error"
		    "</D:status></D:response>\n");
	}
	(void)dav_ms_end(&ms);
	dav_ms_answer(&ms, res);
	return 207;
}

/* ---- MKCOL, DELETE ---- */

static void
do_mkcol(const struct serve_ctx *x, struct dav_op *op, struct guard *g,
    bool has_body, struct response *res)
{
	struct target t;

	if (has_body) {
		dav_refuse(res, 415, NULL, "MKCOL takes no body");
		return;
	}
	if (op->rel[0] == '\0') {
		up_refuse(res, 405, "the root exists", "Allow: GET, HEAD, "
		    "OPTIONS, PROPFIND\r\n");
		return;
	}
	if (check_writable(x->cfg, op->rel, false, res) != 0 ||
	    check_locks(op->rel, false, g, res) != 0 ||
	    check_parent(op->rel, g, res) != 0 ||
	    target_open(x->cfg, op->rel, true, &t, res) != 0)
		return;
	if (t.exists)
		up_refuse(res, 405, "that name exists", "Allow: GET, HEAD, "
		    "OPTIONS, PROPFIND, DELETE\r\n");
	else if (mkdirat(t.dfd, t.name, 0755) != 0)
		up_refuse(res, errno == ENOSPC || errno == EDQUOT ? 507 : 500,
		    strerror(errno), NULL);
	else {
		sync_dir(x->cfg, t.dfd);
		dav_answer_xml(res, 201, NULL, NULL, 0);
	}
	target_close(&t);
}

static void
do_delete(const struct serve_ctx *x, struct dav_op *op, struct guard *g,
    struct response *res)
{
	struct target t;

	if (op->has_depth && op->depth != DAV_DEPTH_INF) {
		dav_refuse(res, 400, NULL, "DELETE takes Depth: infinity");
		return;
	}
	if (op->rel[0] == '\0') {
		dav_refuse(res, 403, NULL, "the root cannot be deleted");
		return;
	}
	if (check_writable(x->cfg, op->rel, true, res) != 0 ||
	    target_open(x->cfg, op->rel, false, &t, res) != 0)
		return;
	if (!t.exists)
		dav_refuse(res, 404, NULL, "no such file");
	else if (check_locks(op->rel, true, g, res) == 0 &&
	    check_parent(op->rel, g, res) == 0) {
		if (x->long_job != NULL && S_ISDIR(t.st.st_mode))
			x->long_job(x->long_job_arg);
		if (rm_tree(x->cfg, &t, op->rel, res) == 0)
			dav_answer_xml(res, 204, NULL, NULL, 0);
	}
	target_close(&t);
}

/* ---- COPY, MOVE ---- */

struct xfer {
	const struct serve_ctx *x;
	struct dav_op	*op;
	struct guard	*g;
	char		 dst[PATH_MAX];	/* the Destination, normalised */
	bool		 overwrite;
	bool		 move;
	bool		 replace;	/* a file goes over a file: atomically */
	struct target	 s, d;		/* source and destination */
};

static int	copy_tree(struct xfer *c, int sfd, const char *sname,
		    int dfd, const char *drel, const char *dname,
		    unsigned level);

/* A stream over the folder fd (which stays the caller's); NULL, errno. */
static DIR *
dir_stream(int fd)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d;
	int e;

	if (dup_fd < 0)
		return NULL;
	if ((d = fdopendir(dup_fd)) == NULL) {
		e = errno;
		close(dup_fd);
		errno = e;
	}
	return d;
}

/*
 * What a copy leaves out of a folder, as a listing does: "." and "..",
 * hidden names unless allowed, and the upload work folder always.
 */
static bool
left_out(const struct config *cfg, const char *name)
{
	return name[0] == '.' && (!cfg->allow_hidden || strcmp(name, ".") ==
	    0 || strcmp(name, "..") == 0 || strcasecmp(name, UP_WORK_DIR) == 0);
}

/* Copies the folder open as sfd into dfd's new folder dname. */
static int
copy_dir(struct xfer *c, int sfd, int dfd, const char *drel,
    const char *dname, unsigned level)
{
	char sub[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int nfd, rc = 0;

	if (mkdirat(dfd, dname, 0755) != 0)
		return errno;
	if ((nfd = openat(dfd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return errno;
	(void)up_copy_xattrs(sfd, nfd);
	if (c->op->depth != DAV_DEPTH_INF || level >= DAV_TREE_LEVELS) {
		close(nfd);
		return 0;
	}
	snprintf(sub, sizeof(sub), "%s%s%s", drel, drel[0] ? "/" : "", dname);
	if ((d = dir_stream(sfd)) == NULL) {
		rc = errno;
		close(nfd);
		return rc;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!left_out(c->x->cfg, de->d_name))
			rc = copy_tree(c, dirfd(d), de->d_name, nfd, sub,
			    de->d_name, level + 1);
	}
	closedir(d);
	close(nfd);
	return rc;
}

/*
 * Copies sname of the folder sfd to dname of dfd (the path drel): a
 * file, or a folder with what it holds.  Links are left out.  0 or an
 * errno.
 */
static int
copy_tree(struct xfer *c, int sfd, const char *sname, int dfd,
    const char *drel, const char *dname, unsigned level)
{
	struct stat st;
	int fd, rc;

	/* Links and special files are left out; asked for by name, 403. */
	if ((fd = openat(sfd, sname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) < 0)
		return errno != ELOOP ? errno : level == 0 ? EPERM : 0;
	if (fstat(fd, &st) != 0)
		rc = errno;
	else if (S_ISDIR(st.st_mode))
		rc = copy_dir(c, fd, dfd, drel, dname, level);
	else if (S_ISREG(st.st_mode))
		rc = up_copy_file(c->x->cfg, drel, fd, dfd, dname,
		    level == 0 && c->replace);
	else
		rc = level == 0 ? EPERM : 0;
	close(fd);
	return rc;
}

/* The source and destination paths themselves allow COPY or MOVE. */
static int
xfer_paths(const struct xfer *c, struct response *res)
{
	size_t slen = strlen(c->op->rel), dlen = strlen(c->dst);

	if (strcmp(c->op->rel, c->dst) == 0) {
		dav_refuse(res, 403, NULL, "source and destination are one");
		return 403;
	}
	if (c->op->rel[0] == '\0' || (strncmp(c->dst, c->op->rel, slen) ==
	    0 && c->dst[slen] == '/')) {
		dav_refuse(res, 403, NULL, "a folder cannot go inside itself");
		return 403;
	}
	/* Overwriting a folder that holds the source would remove it. */
	if (c->dst[0] == '\0' || (strncmp(c->op->rel, c->dst, dlen) == 0 &&
	    c->op->rel[dlen] == '/')) {
		dav_refuse(res, 403, NULL, "the destination holds the source");
		return 403;
	}
	return 0;
}

/*
 * A folder moves by rename(2) alone: to another file system it would be
 * a copy, which leaves out what a client cannot read (hidden names,
 * links), and then a removal of all of it.  0 or 403 answered.
 */
static int
xfer_device(const struct xfer *c, struct response *res)
{
	struct stat st;

	if (!c->move || !S_ISDIR(c->s.st.st_mode) || (fstat(c->d.dfd, &st) ==
	    0 && st.st_dev == c->s.st.st_dev))
		return 0;
	dav_refuse(res, 403, NULL, "a folder cannot move to another file "
	    "system: copy it, then delete it");
	return 403;
}

/*
 * Locks: a MOVE changes its source tree and the folder it leaves; both
 * change the destination tree, and the folder it enters when the name
 * is new.  0 or 423 answered.
 */
static int
xfer_locks(const struct xfer *c, struct response *res)
{
	if (c->move && (check_locks(c->op->rel, true, c->g, res) != 0 ||
	    check_parent(c->op->rel, c->g, res) != 0))
		return 423;
	if (check_locks(c->dst, true, c->g, res) != 0 ||
	    (!c->d.exists && check_parent(c->dst, c->g, res) != 0))
		return 423;
	return 0;
}

/* Refuses what COPY and MOVE cannot do before touching anything. */
static int
xfer_check(struct xfer *c, struct response *res)
{
	const struct config *cfg = c->x->cfg;

	if (xfer_paths(c, res) != 0)
		return res->status;
	if ((c->move && check_writable(cfg, c->op->rel, true, res) != 0) ||
	    check_writable(cfg, c->dst, true, res) != 0)
		return res->status;
	if (target_open(cfg, c->op->rel, false, &c->s, res) != 0)
		return res->status == 409 ? 404 : res->status;
	if (!c->s.exists) {
		dav_refuse(res, 404, NULL, "no such file");
		return 404;
	}
	if (target_open(cfg, c->dst, true, &c->d, res) != 0)
		return res->status;
	if (c->d.exists && !c->overwrite) {
		dav_refuse(res, 412, NULL, "the destination exists");
		return 412;
	}
	if (xfer_locks(c, res) != 0)
		return 423;
	return xfer_device(c, res);
}

/*
 * Moves or copies the source to the free destination name: a rename
 * when it is a MOVE on one file system, else a copy (and, for a MOVE,
 * the removal of the source).  0, an errno, or -1 when rm_tree()
 * answered in res.
 */
static int
xfer_move(struct xfer *c, struct response *res)
{
	int rc;

	if (c->move && renameat(c->s.dfd, c->s.name, c->d.dfd, c->d.name) ==
	    0) {
		dav_lock_drop_tree(dav_locks, c->op->rel);
		return 0;
	}
	if (c->move && errno != EXDEV)
		return errno;
	rc = copy_tree(c, c->s.dfd, c->s.name, c->d.dfd, c->d.dir, c->d.name,
	    0);
	if (rc == 0 && c->move && rm_tree(c->x->cfg, &c->s, c->op->rel, res)
	    != 0)
		return -1;
	return rc;
}

/* The answer to a copy that failed with errno e. */
static void
xfer_failed(int e, struct response *res)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
		up_refuse(res, 507, "the disk is full", NULL);
		break;
	case EEXIST:
		up_refuse(res, 412, "the destination appeared meanwhile", NULL);
		break;
	case EPERM:
		up_refuse(res, 403, "links and special files are not copied",
		    NULL);
		break;
	case EFBIG:
		up_refuse(res, 413, "the file is larger than max_size", NULL);
		break;
	case EBUSY:
		up_refuse(res, 503, "too many uploads at once; try again",
		    "Retry-After: 2\r\n");
		break;
	default:
		up_refuse(res, 500, strerror(e), NULL);
		break;
	}
}

/* Does the COPY or MOVE that xfer_check() allowed: 201, 204 or failure. */
static int
xfer_run(struct xfer *c, struct response *res)
{
	bool existed = c->d.exists;
	int rc;

	/* A file over a file is replaced in one step; anything else goes. */
	c->replace = existed && S_ISREG(c->s.st.st_mode) &&
	    S_ISREG(c->d.st.st_mode);
	if (existed && !c->replace &&
	    rm_tree(c->x->cfg, &c->d, c->dst, res) != 0)
		return res->status;
	if ((rc = xfer_move(c, res)) < 0)
		return res->status;
	if (rc != 0) {
		xfer_failed(rc, res);
		return res->status;
	}
	sync_dir(c->x->cfg, c->d.dfd);
	if (c->move)
		sync_dir(c->x->cfg, c->s.dfd);
	dav_answer_xml(res, existed ? 204 : 201, NULL, NULL, 0);
	return res->status;
}

static void
do_xfer(const struct serve_ctx *x, const struct http_request *req,
    struct dav_op *op, struct guard *g, struct response *res)
{
	struct xfer c = { .x = x, .op = op, .g = g,
	    .move = op->method == HTTP_M_MOVE };
	struct path_result pr;
	struct span dest = http_header_value(req, "Destination");
	int ow = dav_parse_overwrite(http_header_value(req, "Overwrite")), code;

	c.s.dfd = c.d.dfd = -1;
	if (dest.p == NULL || ow < 0 || (op->has_depth && (op->depth == 1 ||
	    (c.move && op->depth == 0)))) {
		dav_refuse(res, 400, NULL, "a Destination, Overwrite or Depth "
		    "header is wrong");
		return;
	}
	c.overwrite = ow == 1;
	code = dav_dest_parse(dest, req->hdr[HDR_HOST], x->cfg->allow_hidden,
	    c.dst, sizeof(c.dst), &pr);
	if (code != 0) {
		dav_refuse(res, code == 404 ? 403 : code, NULL, code == 502 ?
		    "the Destination is on another server" :
		    "a malformed Destination");
		return;
	}
	to_nfc(x->cfg, c.dst, sizeof(c.dst));
	if (xfer_check(&c, res) == 0) {
		/* A copy reads and syncs whole files: others go meanwhile. */
		if (x->long_job != NULL && (!c.move || S_ISDIR(c.s.st.st_mode)))
			x->long_job(x->long_job_arg);
		(void)xfer_run(&c, res);
	}
	target_close(&c.s);
	target_close(&c.d);
}

/* ---- LOCK, UNLOCK ---- */

/* The answer to a LOCK: lockdiscovery of l, with Lock-Token when fresh. */
static void
lock_answer(struct response *res, int status, const struct dav_lock_info *l,
    bool fresh)
{
	struct hbuf hb;
	char extra[DAV_LOCK_TOKEN_MAX + 32];

	hb_init_heap(&hb);
	hb_str(&hb, xml_head);
	hb_str(&hb, "<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>");
	dav_activelock(&hb, l);
	hb_str(&hb, "</D:lockdiscovery></D:prop>\n");
	snprintf(extra, sizeof(extra), "Lock-Token: <%s>\r\n", l->token);
	if (hb.overflow)
		dav_refuse(res, 503, NULL, "out of memory");
	else
		dav_answer_xml(res, status, fresh ? extra : NULL, hb.p,
		    hb.len);
	hb_release(&hb);
}

/* A LOCK without a body refreshes the lock its If header names. */
static void
lock_refresh(struct dav_op *op, const struct guard *g, struct response *res)
{
	struct dav_lock_info l;

	for (size_t i = 0; i < g->ntokens; i++)
		if (dav_lock_refresh(dav_locks, op->rel, g->tokens[i],
		    op->timeout_s, dav_now_ms(), &l) == 0) {
			lock_answer(res, 200, &l, false);
			return;
		}
	dav_refuse(res, 412, "lock-token-matches-request-uri",
	    "no lock of this resource is named in the If header");
}

/* Makes the empty file a LOCK on an unmapped name creates (§7.3). */
static int
lock_create_file(const struct config *cfg, const char *rel,
    struct response *res, bool *created)
{
	struct target t;
	int fd;

	*created = false;
	if (target_open(cfg, rel, true, &t, res) != 0)
		return res->status;
	if (!t.exists) {
		fd = openat(t.dfd, t.name, O_CREAT | O_EXCL | O_WRONLY |
		    O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST) {
			up_refuse(res, errno == ENOSPC ? 507 : 500,
			    strerror(errno), NULL);
			target_close(&t);
			return res->status;
		}
		if (fd >= 0) {
			close(fd);
			*created = true;
		}
	}
	target_close(&t);
	return 0;
}

/* The empty file of a LOCK that failed after making it goes again. */
static void
lock_drop_file(const struct config *cfg, const char *rel)
{
	struct target t;
	struct response scratch = { .keep_alive = false };
	char buf[1024];

	hb_init(&scratch.hb, buf, sizeof(buf));
	if (target_open(cfg, rel, false, &t, &scratch) == 0)
		(void)unlinkat(t.dfd, t.name, 0);
	target_close(&t);
}

/* Takes the lock li asks for on op's resource (created: made for it). */
static void
lock_new(const struct serve_ctx *x, const struct dav_op *op,
    const struct dav_lockinfo *li, bool created, struct response *res)
{
	struct dav_lock_info l;
	int r;

	r = dav_lock_create(dav_locks, op->rel, op->depth == DAV_DEPTH_INF,
	    li->shared ? DAV_LOCK_SHARED : DAV_LOCK_EXCLUSIVE, li->owner.p,
	    li->owner.len, op->timeout_s, dav_now_ms(), &l);
	if (r != 0 && created)
		lock_drop_file(x->cfg, op->rel);
	if (r == 0)
		lock_answer(res, created ? 201 : 200, &l, true);
	else if (r == -EBUSY)
		refuse_locked(res, op->rel);
	else
		dav_refuse(res, r == -E2BIG ? 400 : 503, NULL, "cannot lock");
}

static void
do_lock(const struct serve_ctx *x, struct dav_op *op, const struct guard *g,
    const char *body, size_t len, struct response *res)
{
	struct dav_lockinfo li;
	bool created = false;
	int r;

	if (len == 0) {
		lock_refresh(op, g, res);
		return;
	}
	if (op->depth == 1) {
		dav_refuse(res, 400, NULL, "LOCK takes Depth 0 or infinity");
		return;
	}
	if ((r = dav_xml_lockinfo(body, len, &li)) != 0) {
		dav_refuse(res, r == -ENOMEM ? 503 : 400, NULL,
		    "a malformed lockinfo");
		return;
	}
	if (check_writable(x->cfg, op->rel, false, res) == 0 &&
	    (dav_exists(x->cfg, op->rel) || check_parent(op->rel, g, res) ==
	    0) && (op->rel[0] == '\0' || lock_create_file(x->cfg, op->rel,
	    res, &created) == 0))
		lock_new(x, op, &li, created, res);
	dav_lockinfo_free(&li);
}

static void
do_unlock(const struct http_request *req, struct dav_op *op,
    struct response *res)
{
	struct span token;

	if (!dav_parse_lock_token(http_header_value(req, "Lock-Token"), &token)) {
		dav_refuse(res, 400, NULL, "UNLOCK needs a Lock-Token");
		return;
	}
	if (dav_lock_remove(dav_locks, op->rel, token, dav_now_ms()) == 0)
		dav_answer_xml(res, 204, NULL, NULL, 0);
	else
		dav_refuse(res, 409, "lock-token-matches-request-uri",
		    "no such lock on this resource");
}

/* ---- deciding ---- */

static bool
has_body(const struct http_request *req)
{
	return req->chunked || (req->has_content_length &&
	    req->content_length > 0);
}

/* A PUT may go on to the upload code once locks allow it. */
static int
plan_put(const struct serve_ctx *x, struct dav_op *op, struct guard *g,
    struct response *res)
{
	const char *slash = strrchr(op->rel, '/');

	if (check_writable(x->cfg, op->rel, false, res) != 0 ||
	    check_locks(op->rel, false, g, res) != 0 ||
	    (!dav_exists(x->cfg, op->rel) && check_parent(op->rel, g, res) !=
	    0))
		return UP_ANSWERED;
	if (mac_file(x->cfg, slash != NULL ? slash + 1 : op->rel)) {
		dav_refuse(res, 403, NULL, "macOS metadata files are refused "
		    "([webdav] mac_files)");
		return UP_ANSWERED;
	}
	return UP_PASS;
}

/* The methods answered from the head alone. */
static int
plan_now(const struct serve_ctx *x, const struct http_request *req,
    struct dav_op *op, struct guard *g, struct response *res)
{
	switch (op->method) {
	case HTTP_M_PUT:
		return plan_put(x, op, g, res);
	case HTTP_M_MKCOL:
		do_mkcol(x, op, g, has_body(req), res);
		break;
	case HTTP_M_DELETE:
		do_delete(x, op, g, res);
		break;
	case HTTP_M_COPY:
	case HTTP_M_MOVE:
		do_xfer(x, req, op, g, res);
		break;
	case HTTP_M_UNLOCK:
		do_unlock(req, op, res);
		break;
	default:
		(void)dav_finish(op, NULL, 0, x, res);
		break;
	}
	return UP_ANSWERED;
}

int
dav_plan(const struct serve_ctx *x, const struct http_request *req,
    struct response *res, struct upload **up)
{
	struct guard g;
	struct dav_op *op;
	int code, p;

	if ((op = op_new(x, req, &code)) == NULL) {
		dav_refuse(res, code, NULL, "a malformed or hidden path");
		return UP_ANSWERED;
	}
	if (op->depth < 0) {
		dav_refuse(res, 400, NULL, "a malformed Depth header");
		dav_op_free(op);
		return UP_ANSWERED;
	}
	if ((op->method == HTTP_M_PROPFIND || op->method == HTTP_M_PROPPATCH ||
	    op->method == HTTP_M_LOCK) && has_body(req)) {
		if (req->has_content_length &&
		    req->content_length > DAV_BODY_MAX) {
			dav_refuse(res, 413, NULL, "the XML body is too large");
			dav_op_free(op);
			return UP_ANSWERED;
		}
		if ((*up = up_new_dav(x->cfg, req, op)) == NULL) {
			dav_refuse(res, 503, NULL, "out of memory");
			return UP_ANSWERED;
		}
		return UP_BODY;
	}
	p = check_if(x, op, &g, res) != 0 ? UP_ANSWERED :
	    plan_now(x, req, op, &g, res);
	dav_op_free(op);
	return p;
}

int
dav_guard(const struct serve_ctx *x, const struct http_request *req,
    struct response *res)
{
	struct guard g;
	struct dav_op *op;
	struct span v;
	int code, p = UP_PASS;

	if (dav_lock_count(dav_locks, dav_now_ms()) == 0 &&
	    http_header_value(req, "If").p == NULL)
		return UP_PASS;
	if ((op = op_new(x, req, &code)) == NULL)
		return UP_PASS;		/* the upload code refuses the path */
	if (check_if(x, op, &g, res) != 0)
		p = UP_ANSWERED;
	else if (http_query_param(req->query, "rename", &v) ?
	    check_locks(op->rel, true, &g, res) != 0 ||
	    check_parent(op->rel, &g, res) != 0 :
	    check_locks(op->rel, false, &g, res) != 0)
		p = UP_ANSWERED;
	dav_op_free(op);
	return p;
}

int
dav_finish(struct dav_op *op, const char *body, size_t len,
    const struct serve_ctx *x, struct response *res)
{
	struct guard g;

	res->http10 = op->http10;
	if (check_if(x, op, &g, res) != 0)
		return res->status;
	switch (op->method) {
	case HTTP_M_PROPFIND:
		return dav_propfind(x, op, body, len, res);
	case HTTP_M_PROPPATCH:
		if (check_writable(x->cfg, op->rel, false, res) == 0 &&
		    check_locks(op->rel, false, &g, res) == 0)
			(void)dav_proppatch(x, op, body, len, res);
		return res->status;
	case HTTP_M_LOCK:
		do_lock(x, op, &g, body, len, res);
		return res->status;
	default:
		dav_refuse(res, 500, NULL, "not a WebDAV method");
		return 500;
	}
}
