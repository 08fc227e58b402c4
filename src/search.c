/*
 * search.c - name search below a folder; see search.h.
 *
 * The walk is depth-first with one open directory per level, so a search
 * holds at most SEARCH_DEPTH_MAX + 1 descriptors however wide the tree
 * is.  A subfolder is opened relative to its parent with O_NOFOLLOW, so a
 * name swapped for a link under our feet is not followed; a link that
 * listing_entry_stat() shows as a folder (the rules let clients follow
 * it) is opened through path_open(), under the same rules a client's
 * request would meet.  Every folder read is remembered by device and
 * inode, so a link back up the tree ("a -> .") or two links to one
 * folder cannot make the walk loop or read a folder twice.
 *
 * Names are compared after folding both sides to lower case.  The
 * foldings done here map each character to one of the same UTF-8 length
 * (all of them lie in U+0080-U+07FF), so a folded name is as long as the
 * name and the substring test is a plain memmem().
 */
#include "search.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"

void
search_result_init(struct search_result *r)
{
	memset(r, 0, sizeof(*r));
}

void
search_result_release(struct search_result *r)
{
	free(r->hits);
	free(r->paths);
	search_result_init(r);
}

/*
 * The byte raw[*i] stands for in a query ('+' is a space, %XY a byte),
 * advancing *i past it; -1 for a bad escape or %00.
 */
static int
query_byte(struct span raw, size_t *i)
{
	int c = (unsigned char)raw.p[(*i)++], hi, lo;

	if (c == '+')
		return ' ';
	if (c != '%')
		return c;
	if (raw.len - *i < 2)
		return -1;
	hi = hex_value((unsigned char)raw.p[*i]);
	lo = hex_value((unsigned char)raw.p[*i + 1]);
	*i += 2;
	if (hi < 0 || lo < 0 || (hi | lo) == 0)
		return -1;
	return hi << 4 | lo;
}

int
search_query_decode(struct span raw, char *out, size_t cap, size_t *len)
{
	size_t n = 0, start = 0, i = 0;

	while (i < raw.len) {
		int c = query_byte(raw, &i);

		if (c < 0 || n >= SEARCH_QUERY_MAX || n + 1 >= cap)
			return 400;
		out[n++] = (char)c;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	while (start < n && out[start] == ' ')
		start++;
	memmove(out, out + start, n - start);
	n -= start;
	if (cap > 0)
		out[n] = '\0';
	*len = n;
	return 0;
}

/* ---- case folding ---- */

/* Latin Extended-A, U+0100-U+017F: pairs of upper and lower case. */
static unsigned
fold_latin_a(unsigned cp)
{
	if (cp == 0x178)
		return 0xff;	/* Y with diaeresis, whose lower is Latin-1 */
	if ((cp <= 0x12f || (cp >= 0x132 && cp <= 0x137) ||
	    (cp >= 0x14a && cp <= 0x177)) && cp % 2 == 0)
		return cp + 1;
	if (((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e)) &&
	    cp % 2 == 1)
		return cp + 1;
	return cp;
}

/* Greek, U+0386-U+03AB, and final sigma. */
static unsigned
fold_greek(unsigned cp)
{
	if (cp == 0x386)
		return 0x3ac;
	if (cp >= 0x388 && cp <= 0x38a)
		return cp + 0x25;
	if (cp == 0x38c)
		return 0x3cc;
	if (cp == 0x38e || cp == 0x38f)
		return cp + 0x3f;
	if (cp >= 0x391 && cp <= 0x3ab && cp != 0x3a2)
		return cp + 0x20;
	if (cp == 0x3c2)
		return 0x3c3;	/* final sigma matches sigma */
	return cp;
}

/* Cyrillic, U+0400-U+04FF. */
static unsigned
fold_cyrillic(unsigned cp)
{
	if (cp <= 0x40f)
		return cp + 0x50;
	if (cp <= 0x42f)
		return cp + 0x20;
	if (cp == 0x4c0)
		return 0x4cf;
	if (((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48a && cp <= 0x4bf) ||
	    cp >= 0x4d0) && cp % 2 == 0)
		return cp + 1;
	if (cp >= 0x4c1 && cp <= 0x4ce && cp % 2 == 1)
		return cp + 1;
	return cp;
}

/* The simple lower-case folding of cp (U+0080-U+07FF) or cp itself. */
static unsigned
fold_cp(unsigned cp)
{
	if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7)
		return cp + 0x20;
	if (cp >= 0x100 && cp <= 0x17f)
		return fold_latin_a(cp);
	if (cp >= 0x386 && cp <= 0x3c2)
		return fold_greek(cp);
	if (cp >= 0x400 && cp <= 0x4ff)
		return fold_cyrillic(cp);
	return cp;
}

/*
 * Folds s[0..len) into out[0..len): ASCII letters and the two-byte
 * characters fold_cp() knows; every other byte is copied.
 */
static void
fold(const char *s, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned char d = i + 1 < len ? (unsigned char)s[i + 1] : 0;
		unsigned cp;

		/* ASCII, or not the lead of a two-byte character. */
		if (c < 0xc2 || c > 0xdf || (d & 0xc0) != 0x80) {
			out[i] = (char)ascii_lower(c);
			continue;
		}
		cp = fold_cp((unsigned)(c & 0x1f) << 6 | (d & 0x3f));
		out[i] = (char)(0xc0 | cp >> 6);
		out[i + 1] = (char)(0x80 | (cp & 0x3f));
		i++;
	}
}

/* ---- the set of folders read ---- */

struct dir_key {
	dev_t		 dev;
	ino_t		 ino;
	bool		 used;
};

struct dir_set {
	struct dir_key	*keys;
	size_t		 n, cap;	/* cap: 0 or a power of two */
};

static size_t
dir_slot(const struct dir_key *keys, size_t cap, dev_t dev, ino_t ino)
{
	size_t i = (size_t)span_mix64((uint64_t)ino ^
	    span_mix64((uint64_t)dev)) & (cap - 1);

	while (keys[i].used && (keys[i].dev != dev || keys[i].ino != ino))
		i = (i + 1) & (cap - 1);
	return i;
}

/* Doubles the table (or makes the first), keeping it at most half full. */
static int
dir_set_grow(struct dir_set *s)
{
	size_t ncap = s->cap == 0 ? 64 : s->cap * 2;
	struct dir_key *nk;

	if (ncap > SIZE_MAX / sizeof(*nk) ||
	    (nk = calloc(ncap, sizeof(*nk))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->keys[i].used)
			nk[dir_slot(nk, ncap, s->keys[i].dev,
			    s->keys[i].ino)] = s->keys[i];
	free(s->keys);
	s->keys = nk;
	s->cap = ncap;
	return 0;
}

/* Adds a folder: 1 when it is new, 0 when it was read before, -ENOMEM. */
static int
dir_set_add(struct dir_set *s, dev_t dev, ino_t ino)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap && dir_set_grow(s) != 0)
		return -ENOMEM;
	i = dir_slot(s->keys, s->cap, dev, ino);
	if (s->keys[i].used)
		return 0;
	s->keys[i] = (struct dir_key){ .dev = dev, .ino = ino, .used = true };
	s->n++;
	return 1;
}

/* ---- the walk ---- */

struct frame {
	DIR		*d;
	size_t		 len;		/* its path: walk.path[0..len) */
	unsigned	 depth;
};

struct walk {
	const struct listing_src *src;
	const struct search_filter *filter;
	struct search_limits lim;
	char		 q[SEARCH_QUERY_MAX];	/* the folded query */
	size_t		 qlen;
	struct timespec	 deadline;
	uint64_t	 seen;		/* entries looked at */
	bool		 stop;
	/* The current path from the root; past the top frame's, scratch. */
	char		 path[PATH_MAX];
	size_t		 rel_off;	/* where the folder's own part starts */
	struct frame	 stack[SEARCH_DEPTH_MAX + 1];
	size_t		 top;
	struct dir_set	 dirs;
	struct search_result *out;
};

/* True (and the bound noted) once the time is up; reads the clock rarely. */
static bool
time_up(struct walk *w)
{
	struct timespec now;

	if (w->seen++ % SEARCH_CLOCK_EVERY != 0)
		return false;
	/* Without a clock, stop rather than run unbounded. */
	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0 ||
	    now.tv_sec > w->deadline.tv_sec ||
	    (now.tv_sec == w->deadline.tv_sec &&
	    now.tv_nsec >= w->deadline.tv_nsec)) {
		w->out->bounds |= SEARCH_BOUND_TIME;
		w->stop = true;
		return true;
	}
	return false;
}

/* Grows *p (of *cap elements of size sz) to hold need elements. */
static int
grow(void *pp, size_t *cap, size_t need, size_t sz, size_t first)
{
	void **p = pp;
	size_t ncap = *cap == 0 ? first : *cap;
	void *np;

	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / sz)
			return -ENOMEM;
		ncap *= 2;
	}
	if (ncap == *cap)
		return 0;
	if ((np = realloc(*p, ncap * sz)) == NULL)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Records the entry whose path is w->path[0..len) as a match. */
static int
add_hit(struct walk *w, size_t len, const struct listing_stat *st)
{
	struct search_result *r = w->out;
	const char *rel = w->path + w->rel_off;
	size_t rlen = len - w->rel_off;
	struct search_hit *h;

	if (r->n >= w->lim.max_results) {
		r->bounds |= SEARCH_BOUND_RESULTS;
		w->stop = true;
		return 0;
	}
	if (grow(&r->hits, &r->cap, r->n + 1, sizeof(*r->hits), 64) != 0 ||
	    grow(&r->paths, &r->paths_cap, r->paths_len + rlen + 1, 1,
	    4096) != 0)
		return -ENOMEM;
	h = &r->hits[r->n++];
	*h = (struct search_hit){ .path_off = r->paths_len, .path_len = rlen,
	    .is_dir = st->is_dir, .size = st->size, .mtime = st->mtime };
	memcpy(r->paths + r->paths_len, rel, rlen);
	r->paths[r->paths_len + rlen] = '\0';
	r->paths_len += rlen + 1;
	return 0;
}

/* True when the name holds the query, ignoring case. */
static bool
name_matches(const struct walk *w, const char *name, size_t len)
{
	char folded[NAME_MAX + 1];

	if (len > sizeof(folded))
		return false;
	fold(name, len, folded);
	return memmem(folded, len, w->q, w->qlen) != NULL;
}

/* Errors that end the search; any other one skips a subfolder. */
static bool
fatal_errno(int err)
{
	return err == -ENOMEM || err == -EMFILE || err == -ENFILE;
}

/*
 * Opens the subfolder name of dfd, whose path from the root is w->path:
 * a descriptor, or a negative errno.
 */
static int
open_child(const struct walk *w, int dfd, const char *name)
{
	int fd, code;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0)
		return fd;
	if (errno != ELOOP && errno != ENOTDIR)
		return -errno;
	/* A link the rules let clients follow: where a client gets. */
	code = path_open(&w->src->tree, w->path, &fd);
	if (code == 503)
		return -EMFILE;
	return code == 0 ? fd : -ENOENT;
}

/*
 * Starts reading the folder open as fd (taken), whose path is
 * w->path[0..len), unless it was read before.  0 or a negative errno.
 */
static int
push(struct walk *w, int fd, size_t len, unsigned depth)
{
	struct stat st;
	DIR *d;
	int r;

	if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
		close(fd);
		return depth == 0 ? -ENOTDIR : 0;
	}
	if ((r = dir_set_add(&w->dirs, st.st_dev, st.st_ino)) <= 0) {
		close(fd);
		return r;
	}
	if (w->out->dirs >= w->lim.max_dirs) {
		close(fd);
		w->out->bounds |= SEARCH_BOUND_DIRS;
		w->stop = true;
		return 0;
	}
	if ((d = fdopendir(fd)) == NULL) {
		r = -errno;
		close(fd);
		return r;
	}
	w->stack[w->top++] = (struct frame){ .d = d, .len = len,
	    .depth = depth };
	w->out->dirs++;
	return 0;
}

/* Enters the folder w->path[0..len), the entry name of frame f. */
static int
descend(struct walk *w, const struct frame *f, const char *name,
    size_t len)
{
	int fd;

	if (f->depth >= w->lim.max_depth) {
		w->out->bounds |= SEARCH_BOUND_DEPTH;
		return 0;
	}
	if ((fd = open_child(w, dirfd(f->d), name)) < 0)
		return fatal_errno(fd) ? fd : 0;
	return push(w, fd, len, f->depth + 1);
}

/* One entry of the folder of frame f (the top one). */
static int
visit(struct walk *w, const struct frame *f, const char *name)
{
	struct listing_src here = { .tree = w->src->tree, .rel = w->path };
	struct listing_stat st;
	size_t nlen, len;
	int r = 0;

	if (time_up(w))
		return 0;
	w->path[f->len] = '\0';
	if (!listing_entry_stat(dirfd(f->d), name, &here, &st))
		return 0;
	nlen = strlen(name);
	len = f->len + (f->len > 0) + nlen;
	if (len >= sizeof(w->path))
		return 0;
	if (f->len > 0)
		w->path[f->len] = '/';
	memcpy(w->path + len - nlen, name, nlen + 1);
	if (w->filter != NULL && w->filter->may_see != NULL &&
	    !w->filter->may_see(w->filter->arg, w->path, st.is_dir))
		return 0;
	if (name_matches(w, name, nlen))
		r = add_hit(w, len, &st);
	if (r == 0 && !w->stop && st.is_dir)
		r = descend(w, f, name, len);
	return r;
}

static void
pop(struct walk *w)
{
	closedir(w->stack[--w->top].d);
}

static int
walk_tree(struct walk *w)
{
	struct dirent *de;
	int r = 0;

	while (r == 0 && w->top > 0 && !w->stop) {
		struct frame *f = &w->stack[w->top - 1];

		errno = 0;
		if ((de = readdir(f->d)) == NULL) {
			/* A folder that fails midway gives what it gave. */
			if (errno == ENOMEM)
				r = -ENOMEM;
			pop(w);
			continue;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		r = visit(w, f, de->d_name);
	}
	while (w->top > 0)
		pop(w);
	return r;
}

/* The limits in force: the defaults for NULL, lowered to the ceilings. */
static struct search_limits
limits_of(const struct search_limits *lim)
{
	struct search_limits l = lim != NULL ? *lim : SEARCH_LIMITS_DEFAULT;

	if (l.max_depth > SEARCH_DEPTH_MAX)
		l.max_depth = SEARCH_DEPTH_MAX;
	if (l.max_results > SEARCH_RESULTS_MAX)
		l.max_results = SEARCH_RESULTS_MAX;
	return l;
}

/* Sets up w for the folder of src, with the deadline from now. */
static int
walk_init(struct walk *w, const struct listing_src *src, struct span query,
    const struct search_limits *lim, const struct search_filter *filter,
    struct search_result *out)
{
	size_t rlen = strlen(src->rel);

	memset(w, 0, offsetof(struct walk, path));
	w->src = src;
	w->filter = filter;
	w->lim = limits_of(lim);
	w->out = out;
	out->lim = w->lim;
	if (rlen >= sizeof(w->path))
		return -ENAMETOOLONG;
	memcpy(w->path, src->rel, rlen + 1);
	w->rel_off = rlen > 0 ? rlen + 1 : 0;
	w->top = 0;
	w->dirs = (struct dir_set){ .keys = NULL };
	fold(query.p, query.len, w->q);
	w->qlen = query.len;
	if (clock_gettime(CLOCK_MONOTONIC, &w->deadline) != 0)
		return -errno;
	w->deadline.tv_sec += w->lim.max_time_ms / 1000;
	w->deadline.tv_nsec += (long)(w->lim.max_time_ms % 1000) * 1000000;
	if (w->deadline.tv_nsec >= 1000000000) {
		w->deadline.tv_sec++;
		w->deadline.tv_nsec -= 1000000000;
	}
	return 0;
}

/* Natural order of the paths, as listings sort names. */
static int
hit_cmp(const void *pa, const void *pb, void *arg)
{
	const struct search_hit *a = pa, *b = pb;
	const char *paths = arg;

	return listing_name_cmp(paths + a->path_off, a->path_len,
	    paths + b->path_off, b->path_len);
}

int
search_run(int dirfd, const struct listing_src *src, struct span query,
    const struct search_limits *lim, const struct search_filter *filter,
    struct search_result *out)
{
	struct walk w;
	int fd, r;

	if (query.len > SEARCH_QUERY_MAX)
		return -EINVAL;
	if ((r = walk_init(&w, src, query, lim, filter, out)) != 0)
		return r;
	if (query.len == 0)
		return 0;
	/* A description of our own: the caller's offset stays as it is. */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd < 0)
		return -errno;
	r = push(&w, fd, strlen(w.path), 0);
	if (r == 0)
		r = walk_tree(&w);
	free(w.dirs.keys);
	if (r != 0) {
		search_result_release(out);
		return r;
	}
	if (out->n > 1)
		qsort_r(out->hits, out->n, sizeof(*out->hits), hit_cmp,
		    out->paths);
	return 0;
}

/* ---- the page and the JSON ---- */

/* The words of the page, per language. */
struct search_text {
	const char	*lang;		/* the html lang attribute */
	/* The title: t1, the first part, t2, the second, t3. */
	const char	*t1, *t2, *t3;
	bool		 dir_first;	/* the folder is the first part */
	const char	*search;
	const char	*name, *size, *modified;
	const char	*bytes;
	const char	*none;
	const char	*match, *matches;
	const char	*results_a, *results_b;	/* around max_results */
	const char	*time_a, *time_b;	/* around the time */
	const char	*sec, *msec;
	const char	*dirs_a, *dirs_b;	/* around max_dirs */
	const char	*depth_a, *depth_b;	/* around max_depth */
};

static const struct search_text text_en = {
	.lang = "en",
	.t1 = "Search \xe2\x80\x9c", .t2 = "\xe2\x80\x9d in ", .t3 = "",
	.dir_first = false,
	.search = "Search",
	.name = "Name", .size = "Size", .modified = "Modified",
	.bytes = " bytes",
	.none = "No matches.",
	.match = " match", .matches = " matches",
	.results_a = "Only the first ",
	.results_b = " matches are shown.",
	.time_a = "The search stopped after ",
	.time_b = "; results are partial.",
	.sec = " s", .msec = " ms",
	.dirs_a = "The search stopped after reading ",
	.dirs_b = " folders; results are partial.",
	.depth_a = "Folders deeper than ",
	.depth_b = " levels were not searched.",
};

static const struct search_text text_zh = {
	.lang = "zh-CN",
	.t1 = "在 ", .t2 = " 中搜索\xe2\x80\x9c", .t3 = "\xe2\x80\x9d",
	.dir_first = true,
	.search = "搜索",
	.name = "名称", .size = "大小", .modified = "修改时间",
	.bytes = " 字节",
	.none = "没有匹配项。",
	.match = " 个匹配项", .matches = " 个匹配项",
	.results_a = "仅显示前 ",
	.results_b = " 个匹配项。",
	.time_a = "搜索在 ",
	.time_b = "后停止，结果不完整。",
	.sec = " 秒", .msec = " 毫秒",
	.dirs_a = "搜索在读取 ",
	.dirs_b = " 个文件夹后停止，结果不完整。",
	.depth_a = "深于 ",
	.depth_b = " 层的文件夹未被搜索。",
};

/* The listing page's look, without its icons and sort links. */
static const char page_css[] =
	":root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--mute:#59636e;"
	"--line:#d1d9e0;--hover:#f6f8fa;--link:#0969da}\n"
	"@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;"
	"--mute:#9198a1;--line:#3d444d;--hover:#151b23;--link:#4493f8}}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 "
	"system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\","
	"\"Noto Sans CJK SC\",\"PingFang SC\",\"Microsoft YaHei\",sans-serif}\n"
	"main{max-width:64rem;margin:0 auto;padding:1.25rem 1rem 2rem}\n"
	"h1{font-size:1.3rem;font-weight:600;margin:0 0 1rem;"
	"overflow-wrap:anywhere}\n"
	"a{color:var(--link);text-decoration:none}a:hover{text-decoration:"
	"underline}\n"
	"form{display:flex;gap:.5rem;margin:0 0 1rem}"
	"input{flex:1;font:inherit;padding:.3rem .5rem}"
	"button{font:inherit}\n"
	"table{width:100%;border-collapse:collapse;"
	"border:1px solid var(--line)}\n"
	"th,td{padding:.5rem .75rem;text-align:left;border-top:1px solid "
	"var(--line)}\n"
	"th{font-weight:600;white-space:nowrap;font-size:.9rem}\n"
	"tbody tr:hover{background:var(--hover)}\n"
	"td.n{overflow-wrap:anywhere;width:100%}\n"
	"tr.d td.n a{font-weight:600}\n"
	".s{text-align:right;white-space:nowrap;font-variant-numeric:"
	"tabular-nums}\n"
	".m{white-space:nowrap;color:var(--mute);font-variant-numeric:"
	"tabular-nums}\n"
	"p.note{color:var(--mute);margin:1rem .25rem}\n"
	"footer{color:var(--mute);font-size:.85rem;margin:1rem .25rem}\n"
	"@media (max-width:36rem){body{font-size:14px}"
	"main{padding:.75rem .5rem}"
	"th,td{padding:.45rem .5rem}.m{display:none}}\n";

/* Appends s[0..len) percent-encoded for an href (PCT_STRICT). */
static void
href_add(struct hbuf *out, const char *s, size_t len)
{
	char tmp[3 * 256 + 1];
	size_t i = 0;

	/* In pieces, so a long path needs no big buffer. */
	while (i < len) {
		size_t n = len - i < 256 ? len - i : 256;

		if (path_encode_set(s + i, n, PCT_STRICT, tmp, sizeof(tmp)) >=
		    sizeof(tmp)) {
			out->overflow = true;	/* cannot be: 3 * 256 fit */
			return;
		}
		hb_str(out, tmp);
		i += n;
	}
}

/* "/" + dir + "/" (or "/"), escaped as HTML text. */
static void
html_dir_path(struct hbuf *out, const char *dir, size_t dir_len)
{
	hb_add(out, "/", 1);
	if (dir_len > 0) {
		listing_html_escape(out, dir, dir_len);
		hb_add(out, "/", 1);
	}
}

/*
 * The title's words around the query and the folder; in the heading
 * (link) the folder links back to its listing.
 */
static void
html_title(struct hbuf *out, const struct search_text *t, struct span q,
    const char *dir, size_t dir_len, bool link)
{
	for (int part = 0; part < 2; part++) {
		hb_str(out, part == 0 ? t->t1 : t->t2);
		if ((part == 0) == t->dir_first) {
			if (link)
				hb_str(out, "<a href=\"./\">");
			html_dir_path(out, dir, dir_len);
			if (link)
				hb_str(out, "</a>");
		} else if (q.len > 0) {
			listing_html_escape(out, q.p, q.len);
		}
	}
	hb_str(out, t->t3);
}

static void
html_head(struct hbuf *out, const char *dir, size_t dir_len, struct span q,
    const struct search_text *t)
{
	hb_str(out, "<!DOCTYPE html>\n<html lang=\"");
	hb_str(out, t->lang);
	hb_str(out, "\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<meta name=\"color-scheme\" "
	    "content=\"light dark\">\n<meta name=\"robots\" "
	    "content=\"noindex\">\n<title>");
	html_title(out, t, q, dir, dir_len, false);
	hb_str(out, "</title>\n<style>\n");
	hb_str(out, page_css);
	hb_str(out, "</style>\n</head>\n<body>\n<main>\n<h1>");
	html_title(out, t, q, dir, dir_len, true);
	/* A GET form to the folder itself: ?q= there is this page. */
	hb_str(out, "</h1>\n<form method=\"get\" action=\"./\" "
	    "role=\"search\"><input type=\"search\" name=\"q\" value=\"");
	if (q.len > 0)
		listing_html_escape(out, q.p, q.len);
	hb_str(out, "\" aria-label=\"");
	hb_str(out, t->search);
	hb_str(out, "\"><button>");
	hb_str(out, t->search);
	hb_str(out, "</button></form>\n");
}

/* The date cell: "2024-05-01 12:34", the full UTC time in its title. */
static void
html_time(struct hbuf *out, time_t t)
{
	char iso[32], full[32], shown[32];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 ||
	    tm.tm_year + 1900 > 9999 ||
	    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 ||
	    strftime(full, sizeof(full), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0 ||
	    strftime(shown, sizeof(shown), "%Y-%m-%d %H:%M", &tm) == 0) {
		hb_str(out, "<td class=\"m\"></td>");
		return;
	}
	hb_str(out, "<td class=\"m\"><time datetime=\"");
	hb_str(out, iso);
	hb_str(out, "\" title=\"");
	hb_str(out, full);
	hb_str(out, "\">");
	hb_str(out, shown);
	hb_str(out, "</time></td>");
}

static void
html_row(struct hbuf *out, const struct search_result *r,
    const struct search_hit *h, const struct search_text *t,
    const struct listing_view *v)
{
	const char *path = r->paths + h->path_off;
	char human[32];

	hb_str(out, h->is_dir ? "<tr class=\"d\">" : "<tr>");
	hb_str(out, "<td class=\"n\"><a href=\"");
	href_add(out, path, h->path_len);
	if (h->is_dir)
		hb_add(out, "/", 1);
	else if (v->file_query != NULL)
		v->file_query(v->file_query_arg, path, h->path_len, out);
	hb_str(out, "\">");
	listing_html_escape(out, path, h->path_len);
	if (h->is_dir) {
		hb_str(out, "/</a></td><td class=\"s\">&mdash;</td>");
	} else {
		listing_human_size(h->size, human, sizeof(human));
		hb_str(out, "</a></td><td class=\"s\" title=\"");
		hb_u64(out, h->size);
		hb_str(out, t->bytes);
		hb_str(out, "\">");
		hb_str(out, human);
		hb_str(out, "</td>");
	}
	html_time(out, h->mtime);
	hb_str(out, "</tr>\n");
}

/* One note line: a, the number n with its unit, b. */
static void
html_note(struct hbuf *out, const char *a, uint64_t n, const char *unit,
    const char *b)
{
	hb_str(out, "<p class=\"note\">");
	hb_str(out, a);
	hb_u64(out, n);
	hb_str(out, unit);
	hb_str(out, b);
	hb_str(out, "</p>\n");
}

/* A note for each bound that cut the search short. */
static void
html_notes(struct hbuf *out, const struct search_result *r,
    const struct search_text *t)
{
	unsigned ms = r->lim.max_time_ms;

	if (r->bounds & SEARCH_BOUND_RESULTS)
		html_note(out, t->results_a, r->lim.max_results, "",
		    t->results_b);
	if ((r->bounds & SEARCH_BOUND_TIME) && ms % 1000 == 0)
		html_note(out, t->time_a, ms / 1000, t->sec, t->time_b);
	else if (r->bounds & SEARCH_BOUND_TIME)
		html_note(out, t->time_a, ms, t->msec, t->time_b);
	if (r->bounds & SEARCH_BOUND_DIRS)
		html_note(out, t->dirs_a, r->lim.max_dirs, "", t->dirs_b);
	if (r->bounds & SEARCH_BOUND_DEPTH)
		html_note(out, t->depth_a, r->lim.max_depth, "", t->depth_b);
}

int
search_html(const struct search_result *r, const char *dir, size_t dir_len,
    struct span query, const struct listing_view *v, struct hbuf *out)
{
	const struct search_text *t = v->lang == LANG_ZH ? &text_zh : &text_en;

	html_head(out, dir, dir_len, query, t);
	if (query.len > 0 && r->n > 0) {
		hb_str(out, "<table>\n<thead><tr><th class=\"n\">");
		hb_str(out, t->name);
		hb_str(out, "</th><th class=\"s\">");
		hb_str(out, t->size);
		hb_str(out, "</th><th class=\"m\">");
		hb_str(out, t->modified);
		hb_str(out, "</th></tr></thead>\n<tbody>\n");
		for (size_t i = 0; i < r->n; i++)
			html_row(out, r, &r->hits[i], t, v);
		hb_str(out, "</tbody>\n</table>\n");
	} else if (query.len > 0) {
		hb_str(out, "<p class=\"note\">");
		hb_str(out, t->none);
		hb_str(out, "</p>\n");
	}
	html_notes(out, r, t);
	hb_str(out, "<footer>");
	if (query.len > 0) {
		hb_u64(out, r->n);
		hb_str(out, r->n == 1 ? t->match : t->matches);
		hb_str(out, " &middot; ");
	}
	hb_str(out, SERVER_HEADER "</footer>\n</main>\n</body>\n</html>\n");
	return out->overflow ? -ENOMEM : 0;
}

/* The bound JSON names: the one that stopped the search, else depth. */
static const char *
bound_name(unsigned bounds)
{
	if (bounds & SEARCH_BOUND_RESULTS)
		return "\"results\"";
	if (bounds & SEARCH_BOUND_TIME)
		return "\"time\"";
	if (bounds & SEARCH_BOUND_DIRS)
		return "\"dirs\"";
	if (bounds & SEARCH_BOUND_DEPTH)
		return "\"depth\"";
	return "null";
}

/* One match as a JSON object, after a comma unless it is the first. */
static void
json_hit(struct hbuf *out, const struct search_result *r,
    const struct search_hit *h, bool first)
{
	const char *path = r->paths + h->path_off;

	hb_str(out, first ? "\n{\"name\":\"" : ",\n{\"name\":\"");
	listing_json_escape(out, path, h->path_len);
	hb_str(out, "\",\"href\":\"");
	href_add(out, path, h->path_len);
	hb_str(out, h->is_dir ? "/\",\"dir\":true,\"size\":" :
	    "\",\"dir\":false,\"size\":");
	hb_u64(out, h->size);
	hb_str(out, ",\"mtime\":");
	if (h->mtime < 0)
		hb_str(out, "-");
	hb_u64(out, h->mtime < 0 ? (uint64_t)-(h->mtime + 1) + 1 :
	    (uint64_t)h->mtime);
	hb_str(out, "}");
}

int
search_json(const struct search_result *r, const char *dir, size_t dir_len,
    struct span query, struct hbuf *out)
{
	hb_str(out, "{\"path\":\"/");
	if (dir_len > 0) {
		listing_json_escape(out, dir, dir_len);
		hb_add(out, "/", 1);
	}
	hb_str(out, "\",\"query\":\"");
	if (query.len > 0)
		listing_json_escape(out, query.p, query.len);
	hb_str(out, r->bounds != 0 ? "\",\"partial\":true,\"bound\":" :
	    "\",\"partial\":false,\"bound\":");
	hb_str(out, bound_name(r->bounds));
	hb_str(out, ",\"results\":[");
	for (size_t i = 0; i < r->n; i++)
		json_hit(out, r, &r->hits[i], i == 0);
	hb_str(out, "\n]}\n");
	return out->overflow ? -ENOMEM : 0;
}
