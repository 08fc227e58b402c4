/*
 * dav_props.c - properties: PROPFIND and PROPPATCH (RFC 4918 §9.1, §9.2).
 *
 * Live properties come from one statx() per resource; dead ones are the
 * resource's extended attributes named DAV_XATTR_PREFIX "{ns}name",
 * whose value is the property's content as dav_xml.h re-serialised it,
 * so it is pasted back as it was set.  Extended attributes move with a
 * rename and are copied by COPY, and a change to one is an IN_ATTRIB
 * event, which is what keeps a cached answer honest.
 *
 * A Depth 1 answer for a folder is the expensive one: it is written in
 * DAV_MS_CHUNK pieces into a memfd, and kept in the listing cache (under
 * a key of its own) while no lock exists and no quota was asked for,
 * which change without an event on the folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "config.h"
#include "dav_if.h"
#include "dav_impl.h"
#include "dav_lock.h"
#include "dav_xml.h"
#include "file.h"
#include "listing.h"
#include "listing_cache.h"
#include "mime.h"
#include "path.h"
#include "upload_impl.h"

/* The live properties (§15, RFC 4331 §3). */
enum live {
	L_RESOURCETYPE,
	L_CONTENTLENGTH,
	L_CONTENTTYPE,
	L_ETAG,
	L_LASTMODIFIED,
	L_CREATIONDATE,
	L_DISPLAYNAME,
	L_SUPPORTEDLOCK,
	L_LOCKDISCOVERY,
	L_QUOTA_AVAIL,
	L_QUOTA_USED,
	L_COUNT
};

static const char *const live_name[L_COUNT] = {
	"resourcetype", "getcontentlength", "getcontenttype", "getetag",
	"getlastmodified", "creationdate", "displayname", "supportedlock",
	"lockdiscovery", "quota-available-bytes", "quota-used-bytes",
};

/* allprop gives every live property but the quota ones (RFC 4331 §3). */
#define IN_ALLPROP(l)	((l) < L_QUOTA_AVAIL)

/* A dead property value is at most this long (the xattr limit). */
#define DEAD_MAX	XATTR_SIZE_MAX

/* One PROPFIND being answered. */
struct pf {
	const struct serve_ctx *x;
	const struct dav_propfind *pf;
	struct dav_ms	*ms;
	struct statvfs	 vfs;
	bool		 have_vfs;
	char		*val;		/* DEAD_MAX bytes for a dead value */
	char		*names;		/* DEAD_MAX bytes for listxattr() */
	struct hbuf	 missing;	/* the 404 propstat being built */
	struct hbuf	 one;		/* one dead property, being checked */
	const char	*user;		/* who asks ([access]), NULL: a guest */
	bool		 per_user;	/* rules below: members differ per user */
	uint64_t	 now;
};

/* What one resource is. */
struct res_info {
	const char	*rel;		/* its path */
	size_t		 rel_len;
	const char	*name;		/* its last segment ("" for the root) */
	struct stat	 st;
	struct timespec	 btime;		/* when it was made, or ctime */
	int		 dfd;		/* it, or (with at) its folder */
	const char	*at;		/* its name in dfd, or NULL */
};

static bool
is_dav_ns(struct span ns)
{
	return ns.len == 4 && memcmp(ns.p, "DAV:", 4) == 0;
}

/* The live property p names, or L_COUNT. */
static enum live
live_of(struct dav_pname p)
{
	if (!is_dav_ns(p.ns))
		return L_COUNT;
	for (int i = 0; i < L_COUNT; i++)
		if (span_eq(p.name, span_make(live_name[i],
		    strlen(live_name[i]))))
			return (enum live)i;
	return L_COUNT;
}

/* The xattr name of the dead property p into out; false if too long. */
static bool
dead_xattr(struct dav_pname p, char *out, size_t cap)
{
	int n = snprintf(out, cap, DAV_XATTR_PREFIX "{%.*s}%.*s",
	    (int)p.ns.len, p.ns.p, (int)p.name.len, p.name.p);

	return n > 0 && (size_t)n < cap && (size_t)n <= XATTR_NAME_MAX &&
	    memchr(p.ns.p, '\0', p.ns.len) == NULL;
}

/* ---- one resource ---- */

static void
iso_date(struct hbuf *hb, time_t t)
{
	struct tm tm;
	char buf[32];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return;
	hb_str(hb, buf);
}

static const char supported_lock[] =
    "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope>"
    "<D:locktype><D:write/></D:locktype></D:lockentry>"
    "<D:lockentry><D:lockscope><D:shared/></D:lockscope>"
    "<D:locktype><D:write/></D:locktype></D:lockentry>";

void
dav_activelock(struct hbuf *hb, const struct dav_lock_info *l)
{
	hb_str(hb, "<D:activelock><D:locktype><D:write/></D:locktype>"
	    "<D:lockscope>");
	hb_str(hb, l->scope == DAV_LOCK_SHARED ? "<D:shared/>" :
	    "<D:exclusive/>");
	hb_str(hb, "</D:lockscope><D:depth>");
	hb_str(hb, l->infinite ? "infinity" : "0");
	hb_str(hb, "</D:depth>");
	if (l->owner_len > 0)
		hb_add(hb, l->owner, l->owner_len);
	hb_str(hb, "<D:timeout>Second-");
	hb_u64(hb, l->remaining_s);
	hb_str(hb, "</D:timeout><D:locktoken><D:href>");
	dav_xml_escape(hb, l->token, strlen(l->token));
	hb_str(hb, "</D:href></D:locktoken><D:lockroot>");
	dav_ms_href(hb, l->root, strlen(l->root), false);
	hb_str(hb, "</D:lockroot></D:activelock>");
}

static void
discover_one(void *arg, const struct dav_lock_info *l)
{
	dav_activelock(arg, l);
}

/* The value of the live property l of r; false when r has none. */
static bool
live_value(struct pf *c, struct hbuf *hb, enum live l,
    const struct res_info *r)
{
	bool dir = S_ISDIR(r->st.st_mode);
	struct file_info fi;

	switch (l) {
	case L_RESOURCETYPE:
		if (dir)
			hb_str(hb, "<D:collection/>");
		return true;
	case L_CONTENTLENGTH:
		if (!dir)
			hb_u64(hb, (uint64_t)r->st.st_size);
		return !dir;
	case L_CONTENTTYPE:
		if (!dir) {
			const char *t = mime_lookup(c->x->cfg->mime, r->name,
			    strlen(r->name));

			dav_xml_escape(hb, t, strlen(t));
		}
		return !dir;
	case L_ETAG:
	case L_LASTMODIFIED:
		file_info_from_stat(&r->st, c->x->cfg->etag_inode, NULL, &fi);
		if (l == L_ETAG)
			dav_xml_escape(hb, fi.etag, fi.etag_len);
		else
			hb_str(hb, fi.last_modified);
		return true;
	case L_CREATIONDATE:
		iso_date(hb, r->btime.tv_sec);
		return true;
	case L_DISPLAYNAME:
		dav_xml_escape(hb, r->name, strlen(r->name));
		return true;
	case L_SUPPORTEDLOCK:
		hb_str(hb, supported_lock);
		return true;
	case L_LOCKDISCOVERY:
		(void)dav_lock_discover(dav_locks, r->rel, c->now,
		    discover_one, hb);
		return true;
	default:
		if (!c->have_vfs)
			return false;
		hb_u64(hb, l == L_QUOTA_AVAIL ?
		    (uint64_t)c->vfs.f_bavail * c->vfs.f_frsize :
		    (uint64_t)(c->vfs.f_blocks - c->vfs.f_bfree) *
		    c->vfs.f_frsize);
		return true;
	}
}

/*
 * Appends <D:name>value</D:name> for l; one r does not have is noted
 * missing when it was asked for by name (allprop leaves it out).
 */
static void
put_live(struct pf *c, enum live l, const struct res_info *r, bool names,
    bool asked)
{
	struct hbuf *hb = &c->ms->hb;
	size_t mark = hb->len;

	hb_str(hb, "<D:");
	hb_str(hb, live_name[l]);
	if (names) {
		hb_str(hb, "/>");
		return;
	}
	hb_add(hb, ">", 1);
	if (!live_value(c, hb, l, r)) {
		hb->len = mark;
		if (!asked)
			return;
		hb_str(&c->missing, "<D:");
		hb_str(&c->missing, live_name[l]);
		hb_str(&c->missing, "/>");
		return;
	}
	hb_str(hb, "</D:");
	hb_str(hb, live_name[l]);
	hb_add(hb, ">", 1);
}

/* Linux 6.13's *xattrat(2): one lookup in a folder, no /proc path. */
#ifndef SYS_getxattrat
#define SYS_getxattrat	464
#endif
#ifndef SYS_listxattrat
#define SYS_listxattrat	465
#endif

struct xattr_args_k {
	uint64_t	 value;
	uint32_t	 size;
	uint32_t	 flags;
};

static atomic_bool no_xattrat;

/*
 * getxattr (name) or listxattr (name NULL) of the member r->at of the
 * folder r->dfd, following a link (listings keep only links that may be
 * followed): by getxattrat(2)/listxattrat(2), or through /proc on older
 * kernels.
 */
static ssize_t
xattr_at(const struct res_info *r, const char *name, char *buf, size_t cap)
{
	struct xattr_args_k a = { (uintptr_t)buf, (uint32_t)cap, 0 };
	char path[PATH_MAX + 32];
	long n;

	if (!atomic_load_explicit(&no_xattrat, memory_order_relaxed)) {
		n = name != NULL ? syscall(SYS_getxattrat, r->dfd, r->at, 0, name,
		    &a, sizeof(a)) : syscall(SYS_listxattrat, r->dfd, r->at, 0,
		    buf, cap);
		if (n >= 0 || errno != ENOSYS)
			return (ssize_t)n;
		atomic_store_explicit(&no_xattrat, true, memory_order_relaxed);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", r->dfd, r->at);
	return name != NULL ? getxattr(path, name, buf, cap) :
	    listxattr(path, buf, cap);
}

/* One xattr call for r (see xattr_at()); cap bytes asked for. */
static ssize_t
xattr_once(const struct res_info *r, const char *name, char *buf, size_t cap)
{
	if (r->at != NULL)
		return xattr_at(r, name, buf, cap);
	return name != NULL ? fgetxattr(r->dfd, name, buf, cap) :
	    flistxattr(r->dfd, buf, cap);
}

/*
 * The value of the xattr name of r (or, name NULL, the list of its
 * names) into buf[0..cap).  Asked with a small size first: the kernel
 * allocates as much as it is asked for, and most values are short.
 */
static ssize_t
x_call(const struct res_info *r, const char *name, char *buf, size_t cap)
{
	size_t first = cap < 4096 ? cap : 4096;
	ssize_t n = xattr_once(r, name, buf, first);

	if (n >= 0 || errno != ERANGE || first == cap)
		return n;
	return xattr_once(r, name, buf, cap);
}

/*
 * Appends the dead property p with the value read from the disk, if it
 * makes well-formed XML: an extended attribute may have been written by
 * anyone with access to the files, not by PROPPATCH.  False if not.
 */
static bool
put_stored(struct pf *c, struct dav_pname p, struct span value)
{
	c->one.len = 0;
	dav_xml_prop(&c->one, p, value);
	if (c->one.overflow || !dav_xml_well_formed(c->one.p, c->one.len))
		return false;
	hb_add(&c->ms->hb, c->one.p, c->one.len);
	return true;
}

/* A dead property asked for by name: its value, or noted missing. */
static void
put_dead(struct pf *c, struct dav_pname p, const struct res_info *r)
{
	char xname[XATTR_NAME_MAX + 1];
	ssize_t n = -1;

	if (dead_xattr(p, xname, sizeof(xname)))
		n = x_call(r, xname, c->val, DEAD_MAX);
	if (n < 0 || !put_stored(c, p, span_make(c->val, (size_t)n)))
		dav_xml_prop(&c->missing, p, SPAN_NULL);
}

/* Every dead property of r (allprop, or only their names). */
static void
put_all_dead(struct pf *c, const struct res_info *r, bool names)
{
	ssize_t n = x_call(r, NULL, c->names, DEAD_MAX);
	size_t plen = strlen(DAV_XATTR_PREFIX);

	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(c->names + i) + 1) {
		const char *x = c->names + i, *close;
		struct dav_pname p;
		ssize_t v = 0;

		if (strncmp(x, DAV_XATTR_PREFIX "{", plen + 1) != 0 ||
		    (close = strrchr(x, '}')) == NULL)
			continue;
		p.ns = span_make(x + plen + 1, (size_t)(close - x - plen - 1));
		p.name = span_make(close + 1, strlen(close + 1));
		if (!names && (v = x_call(r, x, c->val, DEAD_MAX)) < 0)
			continue;
		(void)put_stored(c, p, span_make(c->val, (size_t)v));
	}
}

/* The <D:response> of one resource. */
static void
put_response(struct pf *c, const struct res_info *r)
{
	struct hbuf *hb = &c->ms->hb;
	const struct dav_propfind *pf = c->pf;
	bool names = pf->kind == DAV_PF_PROPNAME;

	c->missing.len = 0;
	hb_str(hb, "<D:response>");
	dav_ms_href(hb, r->rel, r->rel_len, S_ISDIR(r->st.st_mode));
	hb_str(hb, "<D:propstat><D:prop>");
	if (pf->kind != DAV_PF_PROP) {
		for (int l = 0; l < L_COUNT; l++)
			if (IN_ALLPROP(l))
				put_live(c, (enum live)l, r, names, false);
		put_all_dead(c, r, names);
	}
	for (size_t i = 0; i < pf->n; i++) {
		enum live l = live_of(pf->props[i]);

		if (l != L_COUNT && (pf->kind == DAV_PF_PROP || !IN_ALLPROP(l)))
			put_live(c, l, r, false, true);
		else if (l == L_COUNT && pf->kind == DAV_PF_PROP)
			put_dead(c, pf->props[i], r);
	}
	hb_str(hb, "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>");
	if (c->missing.len > 0) {
		hb_str(hb, "<D:propstat><D:prop>");
		hb_add(hb, c->missing.p, c->missing.len);
		hb_str(hb, "</D:prop><D:status>HTTP/1.1 404 Not Found"
		    "</D:status></D:propstat>");
	}
	if (c->missing.overflow)
		hb->overflow = true;
	hb_str(hb, "</D:response>\n");
	dav_ms_flush(c->ms, false);
}

/* Fills r's stat from sx; false unless it is a file or a folder. */
static bool
res_from_statx(struct res_info *r, const struct statx *sx)
{
	memset(&r->st, 0, sizeof(r->st));
	r->st.st_dev = makedev(sx->stx_dev_major, sx->stx_dev_minor);
	r->st.st_ino = sx->stx_ino;
	r->st.st_mode = sx->stx_mode;
	r->st.st_nlink = sx->stx_nlink;
	r->st.st_size = (off_t)sx->stx_size;
	r->st.st_mtim = (struct timespec){ sx->stx_mtime.tv_sec,
	    sx->stx_mtime.tv_nsec };
	r->st.st_ctim = (struct timespec){ sx->stx_ctime.tv_sec,
	    sx->stx_ctime.tv_nsec };
	r->btime = (sx->stx_mask & STATX_BTIME) ? (struct timespec){
	    sx->stx_btime.tv_sec, sx->stx_btime.tv_nsec } : r->st.st_ctim;
	return S_ISDIR(r->st.st_mode) || S_ISREG(r->st.st_mode);
}

/* Fills r for the resource open as fd; false if it is neither kind. */
static bool
res_stat(int fd, struct res_info *r)
{
	struct statx sx;

	r->dfd = fd;
	r->at = NULL;
	return statx(fd, "", AT_EMPTY_PATH, LISTING_STATX_MASK, &sx) == 0 &&
	    res_from_statx(r, &sx);
}

/* ---- a folder's members ---- */

/* The members of one folder being answered, as listing_read_each() goes. */
struct members {
	struct pf	*c;
	char		 path[PATH_MAX];
	size_t		 rlen;
};

/* A member the requester may use, or walk through to a usable path. */
static bool
may_see(const struct pf *c, const char *rel)
{
	const struct access_rules *r = c->x->cfg->access;

	return access_rights(r, rel, c->user) != ACCESS_NONE ||
	    access_has_below(r, rel, c->user);
}

static void
member(void *arg, int dfd, const char *name, const struct statx *sx)
{
	struct members *m = arg;
	struct res_info r = { .dfd = dfd, .at = name, .name = name };
	size_t nlen = strlen(name), o = m->rlen;

	if (m->c->ms->failed || o + 1 + nlen >= sizeof(m->path))
		return;
	if (o > 0)
		m->path[o++] = '/';
	memcpy(m->path + o, name, nlen + 1);
	r.rel = m->path;
	r.rel_len = o + nlen;
	if (m->c->per_user && !may_see(m->c, m->path))
		return;
	if (res_from_statx(&r, sx))
		put_response(m->c, &r);
}

/*
 * Reads the folder dfd (the path rel) into l and answers for each of its
 * members as it is read: one statx() each.  0 or a negative errno.
 */
static int
read_members(struct pf *c, int dfd, const char *rel, struct listing *l)
{
	struct listing_src src = { .tree = c->x->cfg->tree, .rel = rel };
	struct members *m = malloc(sizeof(*m));
	int r;

	if (m == NULL)
		return -ENOMEM;
	m->c = c;
	m->rlen = strlen(rel);
	memcpy(m->path, rel, m->rlen + 1);
	r = listing_read_each(l, dfd, &src, member, m);
	free(m);
	return r;
}

/* The cache key of a Depth 1 answer for the folder st, asked as pf. */
static struct listing_key
folder_key(const struct pf *c, const char *rel, const struct stat *st)
{
	const struct dav_propfind *pf = c->pf;
	uint64_t h = listing_hash((const char *)&pf->kind, sizeof(pf->kind));

	for (size_t i = 0; i < pf->n; i++) {
		h = span_mix64(h ^ listing_hash(pf->props[i].ns.p,
		    pf->props[i].ns.len));
		h = span_mix64(h ^ listing_hash(pf->props[i].name.p,
		    pf->props[i].name.len));
	}
	return (struct listing_key){ .rel = rel, .rel_len = strlen(rel),
	    .dev = st->st_dev, .ino = st->st_ino, .cfg_gen = c->x->cfg_gen,
	    .variant = 0x80000000u | (uint32_t)(h >> 33),
	    .start = (uint32_t)h };
}

/* True when a Depth 1 answer may come from, and go to, the cache. */
static bool
cacheable(const struct pf *c)
{
	for (size_t i = 0; i < c->pf->n; i++) {
		enum live l = live_of(c->pf->props[i]);

		if (l == L_QUOTA_AVAIL || l == L_QUOTA_USED)
			return false;
	}
	return !c->per_user && dav_lock_count(dav_locks, c->now) == 0;
}

/* Sends the page pg (a 207) into res. */
static void
send_page(struct listing_page *pg, struct response *res)
{
	struct dav_ms ms = { .fd = pg->fd, .len = pg->len };

	hb_init_heap(&ms.hb);
	dav_ms_answer(&ms, res);
}

/* Stores the finished ms as the page k when it can; answers either way. */
static void
store_page(struct pf *c, struct listing_fill *fill, bool cache,
    const struct listing_key *k, const struct listing *l,
    struct response *res)
{
	struct dav_ms *ms = c->ms;
	struct listing_page pg;
	int r = -1;

	if (cache && !ms->failed) {
		if (ms->fd >= 0)
			r = listing_cache_put_fd(c->x->listings, fill, k, ms->fd,
			    ms->len, "", 0, l, &pg);
		else
			r = listing_cache_put(c->x->listings, fill, k, ms->hb.p,
			    ms->hb.len, "", 0, l, &pg);
	}
	if (r != 0) {
		dav_ms_answer(ms, res);
		return;
	}
	if (ms->fd >= 0)
		ms->fd = -1;	/* the cache's now */
	dav_ms_release(ms);
	send_page(&pg, res);
}

/* PROPFIND Depth 1 on the folder dfd (taken), r being the folder. */
static void
pf_folder(struct pf *c, int dfd, const struct res_info *r,
    struct response *res)
{
	struct listing_src src = { .tree = c->x->cfg->tree, .rel = r->rel };
	struct listing_key k = folder_key(c, r->rel, &r->st);
	bool cache = cacheable(c);
	struct listing_fill fill;
	struct listing_page pg;
	struct listing l;

	if (cache && listing_cache_get(c->x->listings, &k, dfd, &src, &pg)) {
		close(dfd);
		dav_ms_release(c->ms);
		send_page(&pg, res);
		return;
	}
	if (c->x->long_job != NULL && r->st.st_size >= SERVE_LONG_DIR_BYTES)
		c->x->long_job(c->x->long_job_arg);
	cache = cache && listing_cache_begin(c->x->listings, dfd, &fill) == 0;
	listing_init(&l);
	put_response(c, r);
	if (read_members(c, dfd, r->rel, &l) != 0)
		c->ms->failed = true;
	(void)dav_ms_end(c->ms);
	store_page(c, &fill, cache, &k, &l, res);
	if (cache)
		listing_cache_end(c->x->listings, &fill);
	listing_release(&l);
	close(dfd);
}

/* Depth infinity (when allowed): every member, DAV_TREE_MAX at most. */
static void
pf_tree(struct pf *c, int dfd, const char *rel, unsigned level,
    size_t *count)
{
	char path[PATH_MAX];
	struct listing l;
	size_t rlen = strlen(rel);

	listing_init(&l);
	if (read_members(c, dfd, rel, &l) != 0) {
		listing_release(&l);
		return;
	}
	*count += l.n;
	for (size_t i = 0; i < l.n && level < DAV_TREE_LEVELS &&
	    *count < DAV_TREE_MAX && !c->ms->failed; i++) {
		const char *name = l.names + l.ents[i].name_off;
		int sub;

		if (!l.ents[i].is_dir || rlen + 1 + l.ents[i].name_len >=
		    sizeof(path))
			continue;
		snprintf(path, sizeof(path), "%s%s%s", rel, rlen ? "/" : "",
		    name);
		if ((sub = openat(dfd, name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;
		pf_tree(c, sub, path, level + 1, count);
		close(sub);
	}
	listing_release(&l);
}

/* ---- PROPFIND ---- */

static int
pf_answer(struct pf *c, struct dav_op *op, struct response *res)
{
	const struct config *cfg = c->x->cfg;
	struct res_info r = { .rel = op->rel, .rel_len = strlen(op->rel) };
	const char *slash = strrchr(op->rel, '/');
	int code, fd;
	size_t count = 0;

	r.name = slash != NULL ? slash + 1 : op->rel;
	if ((code = path_open(&cfg->tree, op->rel, &fd)) != 0) {
		dav_refuse(res, code, NULL, "no such file");
		return code;
	}
	if (!res_stat(fd, &r)) {
		close(fd);
		dav_refuse(res, 404, NULL, "no such file");
		return 404;
	}
	c->have_vfs = fstatvfs(fd, &c->vfs) == 0;
	if (S_ISDIR(r.st.st_mode) && op->depth == 1) {
		pf_folder(c, fd, &r, res);
		return res->status;
	}
	put_response(c, &r);
	if (S_ISDIR(r.st.st_mode) && op->depth == DAV_DEPTH_INF)
		pf_tree(c, fd, op->rel, 0, &count);
	close(fd);
	(void)dav_ms_end(c->ms);
	dav_ms_answer(c->ms, res);
	return res->status;
}

int
dav_propfind(const struct serve_ctx *x, struct dav_op *op, const char *body,
    size_t len, struct response *res)
{
	struct dav_propfind pf;
	struct dav_ms ms;
	struct pf c = { .x = x, .pf = &pf, .ms = &ms, .now = dav_now_ms(),
	    .user = op->user[0] != '\0' ? op->user : NULL,
	    .per_user = access_splits(x->cfg->access, op->rel) };
	int r;

	if (op->depth == DAV_DEPTH_INF && !x->cfg->webdav_depth_infinity) {
		dav_refuse(res, 403, "propfind-finite-depth",
		    "Depth: infinity is off ([webdav] depth_infinity)");
		return 403;
	}
	if ((r = dav_xml_propfind(body, len, &pf)) != 0) {
		dav_refuse(res, r == -ENOMEM ? 503 : 400, NULL,
		    "a malformed propfind body");
		return res->status;
	}
	c.val = malloc(DEAD_MAX);
	c.names = malloc(DEAD_MAX);
	hb_init_heap(&c.missing);
	hb_init_heap(&c.one);
	dav_ms_begin(&ms);
	if (c.val == NULL || c.names == NULL) {
		dav_ms_release(&ms);
		dav_refuse(res, 503, NULL, "out of memory");
	} else {
		(void)pf_answer(&c, op, res);
	}
	dav_ms_release(&ms);	/* an error answer left it */
	free(c.val);
	free(c.names);
	hb_release(&c.missing);
	hb_release(&c.one);
	dav_propfind_free(&pf);
	return res->status;
}

/* ---- PROPPATCH ---- */

/* Whether op can be applied: 0, or the status of its property. */
static int
patch_check(const struct dav_patch_op *o)
{
	char xname[XATTR_NAME_MAX + 1];

	if (live_of(o->p) != L_COUNT)
		return 403;	/* cannot-modify-protected-property */
	if (!dead_xattr(o->p, xname, sizeof(xname)) ||
	    o->value.len > DEAD_MAX)
		return 409;
	return 0;
}

/* Applies o to the file fd: 0 or the status of its property. */
static int
patch_apply(int fd, const struct dav_patch_op *o)
{
	char xname[XATTR_NAME_MAX + 1];

	(void)dead_xattr(o->p, xname, sizeof(xname));
	if (o->remove) {
		if (fremovexattr(fd, xname) == 0 || errno == ENODATA)
			return 0;
	} else if (fsetxattr(fd, xname, o->value.p != NULL ? o->value.p : "",
	    o->value.len, 0) == 0) {
		return 0;
	}
	return errno == ENOSPC || errno == E2BIG || errno == EDQUOT ? 507 :
	    403;
}

/* The 207 of a PROPPATCH: each property with its status. */
static void
patch_answer(const struct dav_op *op, const struct dav_proppatch *pp,
    const int *status, struct response *res)
{
	struct dav_ms ms;

	dav_ms_begin(&ms);
	hb_str(&ms.hb, "<D:response>");
	dav_ms_href(&ms.hb, op->rel, strlen(op->rel), op->trailing_slash);
	for (size_t i = 0; i < pp->n; i++) {
		hb_str(&ms.hb, "<D:propstat><D:prop>");
		dav_xml_prop(&ms.hb, pp->ops[i].p, SPAN_NULL);
		hb_str(&ms.hb, "</D:prop><D:status>HTTP/1.1 ");
		hb_u64(&ms.hb, (uint64_t)status[i]);
		hb_add(&ms.hb, " ", 1);
		hb_str(&ms.hb, http_reason(status[i]));
		hb_str(&ms.hb, "</D:status></D:propstat>");
	}
	hb_str(&ms.hb, "</D:response>\n");
	(void)dav_ms_end(&ms);
	dav_ms_answer(&ms, res);
}

/* What a property was before a PROPPATCH changed it: for a rollback. */
struct saved {
	char		*val;		/* NULL: it did not exist */
	size_t		 len;
};

/* Keeps the current value of o's property on fd into *sv. */
static void
save_prop(int fd, const struct dav_patch_op *o, struct saved *sv)
{
	char xname[XATTR_NAME_MAX + 1];
	ssize_t n;

	sv->val = NULL;
	(void)dead_xattr(o->p, xname, sizeof(xname));
	if ((n = fgetxattr(fd, xname, NULL, 0)) < 0 ||
	    (sv->val = malloc((size_t)n + 1)) == NULL)
		return;
	if ((n = fgetxattr(fd, xname, sv->val, (size_t)n)) < 0) {
		free(sv->val);
		sv->val = NULL;
		return;
	}
	sv->len = (size_t)n;
}

/* Puts o's property on fd back as sv kept it. */
static void
restore_prop(int fd, const struct dav_patch_op *o, const struct saved *sv)
{
	char xname[XATTR_NAME_MAX + 1];

	(void)dead_xattr(o->p, xname, sizeof(xname));
	if (sv->val != NULL)
		(void)fsetxattr(fd, xname, sv->val, sv->len, 0);
	else
		(void)fremovexattr(fd, xname);
}

/*
 * Applies the checked operations in order; when one fails, those before
 * it are undone (§9.2: all or none) and every other one is 424.
 */
static void
patch_apply_all(int fd, const struct dav_proppatch *pp, int *status,
    struct saved *sv)
{
	size_t i;

	for (i = 0; i < pp->n; i++) {
		save_prop(fd, &pp->ops[i], &sv[i]);
		if ((status[i] = patch_apply(fd, &pp->ops[i])) != 0)
			break;
		status[i] = 200;
	}
	if (i == pp->n)
		return;
	for (size_t j = i; j-- > 0;)
		restore_prop(fd, &pp->ops[j], &sv[j]);
	for (size_t j = 0; j < pp->n; j++)
		if (j != i)
			status[j] = 424;
}

/* Checks every operation, then applies them in order (all or none). */
static int
patch_run(int fd, const struct dav_proppatch *pp, int *status)
{
	struct saved *sv;
	bool bad = false;

	for (size_t i = 0; i < pp->n; i++)
		bad |= (status[i] = patch_check(&pp->ops[i])) != 0;
	if (bad) {
		for (size_t i = 0; i < pp->n; i++)
			if (status[i] == 0)
				status[i] = 424;	/* Failed Dependency */
		return 0;
	}
	if ((sv = calloc(pp->n + 1, sizeof(*sv))) == NULL)
		return -1;
	patch_apply_all(fd, pp, status, sv);
	for (size_t i = 0; i < pp->n; i++)
		free(sv[i].val);
	free(sv);
	return 0;
}

int
dav_proppatch(const struct serve_ctx *x, struct dav_op *op, const char *body,
    size_t len, struct response *res)
{
	struct dav_proppatch pp;
	int *status, fd, r;

	if ((r = dav_xml_proppatch(body, len, &pp)) != 0) {
		dav_refuse(res, r == -ENOMEM ? 503 : 400, NULL,
		    "a malformed propertyupdate body");
		return res->status;
	}
	if ((r = dav_open_nofollow(x->cfg, op->rel, &fd)) != 0) {
		dav_proppatch_free(&pp);
		dav_refuse(res, r, NULL, "no such file");
		return r;
	}
	if ((status = calloc(pp.n + 1, sizeof(*status))) == NULL) {
		dav_refuse(res, 503, NULL, "out of memory");
	} else if (patch_run(fd, &pp, status) != 0) {
		dav_refuse(res, 503, NULL, "out of memory");
	} else {
		patch_answer(op, &pp, status, res);
	}
	free(status);
	close(fd);
	dav_proppatch_free(&pp);
	return res->status;
}
