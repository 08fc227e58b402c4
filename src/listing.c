/*
 * listing.c - directory listings; see listing.h.
 *
 * The page is plain HTML5 with one inline style sheet: no script, no
 * external resource, so it works in any browser, on a phone, with
 * JavaScript off, and under the strict Content-Security-Policy that
 * http_serve.c sends with it.  Every name from disk goes through
 * listing_html_escape() for display and path_encode_set(PCT_STRICT) for
 * links; the strict set also encodes ':' so that a file called
 * "javascript:x" can never turn into a scheme.  A writable folder's page
 * adds the upload block of upload_ui.c (whose forms work without its
 * script) and is sent with UPLOAD_UI_CSP instead.
 */
#include "listing.h"
#include "upload_ui.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

void
listing_init(struct listing *l)
{
	memset(l, 0, sizeof(*l));
}

void
listing_release(struct listing *l)
{
	free(l->ents);
	free(l->names);
	listing_init(l);
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

int
listing_add(struct listing *l, const char *name, size_t len, bool is_dir,
    uint64_t size, time_t mtime)
{
	struct listing_entry *e;

	if (l->n >= LISTING_MAX_ENTRIES) {
		l->truncated = true;
		return -ENOSPC;
	}
	if (grow(&l->ents, &l->cap, l->n + 1, sizeof(*l->ents), 64) != 0 ||
	    grow(&l->names, &l->names_cap, l->names_len + len + 1, 1, 4096)
	    != 0)
		return -ENOMEM;
	e = &l->ents[l->n++];
	e->name_off = l->names_len;
	e->name_len = len;
	e->size = size;
	e->mtime = mtime;
	e->is_dir = is_dir;
	e->recheck = false;
	memcpy(l->names + l->names_len, name, len);
	l->names[l->names_len + len] = '\0';
	l->names_len += len + 1;
	return 0;
}

/*
 * What a symbolic link in the listing stands for: the file a client
 * following it would get, through path_open() and so under the same
 * rules (where links may lead, and dotfiles by what a link resolves to).
 * False when it would be refused (then it is not listed).
 */
static bool
link_target(const char *name, const struct listing_src *src,
    struct statx *sx)
{
	char rel[PATH_MAX];
	int fd, n;
	bool ok;

	if (src->tree.symlinks == SYMLINKS_NONE)
		return false;
	n = snprintf(rel, sizeof(rel), "%s%s%s", src->rel,
	    src->rel[0] != '\0' ? "/" : "", name);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return false;
	if (path_open(&src->tree, rel, &fd) != 0)
		return false;
	ok = statx(fd, "", AT_EMPTY_PATH, LISTING_STATX_MASK, sx) == 0;
	close(fd);
	return ok;
}

/* ".", "..", and dotfiles unless they are allowed, are never listed. */
static bool
left_out(const char *name, const struct listing_src *src)
{
	if (name[0] != '.')
		return false;
	if (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))
		return true;
	return !src->tree.allow_hidden;
}

/* listing_entry_stat(), with the statx of what the entry shows. */
static bool
entry_statx(int dfd, const char *name, const struct listing_src *src,
    struct listing_stat *ls, struct statx *sx)
{
	bool link;

	if (left_out(name, src))
		return false;
	/* A name that vanished since readdir() is simply not listed. */
	if (statx(dfd, name, AT_SYMLINK_NOFOLLOW, LISTING_STATX_MASK, sx) != 0)
		return false;
	link = S_ISLNK(sx->stx_mode);
	if (link && !link_target(name, src, sx))
		return false;
	if (!S_ISREG(sx->stx_mode) && !S_ISDIR(sx->stx_mode))
		return false;	/* FIFOs, sockets and devices are not served */
	ls->is_dir = S_ISDIR(sx->stx_mode);
	ls->recheck = link || ls->is_dir || sx->stx_nlink > 1;
	ls->size = ls->is_dir ? 0 : sx->stx_size;
	ls->mtime = sx->stx_mtime.tv_sec;
	return true;
}

bool
listing_entry_stat(int dfd, const char *name, const struct listing_src *src,
    struct listing_stat *ls)
{
	struct statx sx;

	return entry_statx(dfd, name, src, ls, &sx);
}

/* One directory entry; 0 when added or skipped, else an error. */
static int
read_entry(struct listing *l, int dfd, const char *name,
    const struct listing_src *src, listing_each_fn each, void *arg)
{
	struct listing_stat ls;
	struct statx sx;
	int r;

	if (!entry_statx(dfd, name, src, &ls, &sx))
		return 0;
	r = listing_add(l, name, strlen(name), ls.is_dir, ls.size, ls.mtime);
	if (r == 0) {
		l->ents[l->n - 1].recheck = ls.recheck;
		if (each != NULL)
			each(arg, dfd, l->names + l->ents[l->n - 1].name_off,
			    &sx);
	}
	return r;
}

int
listing_read(struct listing *l, int dfd, const struct listing_src *src)
{
	return listing_read_each(l, dfd, src, NULL, NULL);
}

int
listing_read_each(struct listing *l, int dfd, const struct listing_src *src,
    listing_each_fn each, void *arg)
{
	struct dirent *de;
	DIR *d;
	int fd, err = 0;

	/* closedir() closes its descriptor; dfd stays the caller's. */
	if ((fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) < 0)
		return -errno;
	if ((d = fdopendir(fd)) == NULL) {
		err = -errno;
		close(fd);
		return err;
	}
	rewinddir(d);
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			err = -errno;
			break;
		}
		err = read_entry(l, dirfd(d), de->d_name, src, each, arg);
		if (err == -ENOSPC) {
			err = 0;	/* truncated: list what we have */
			break;
		}
		if (err != 0)
			break;
	}
	closedir(d);
	return err;
}

void
listing_view_from_query(struct span query, struct listing_view *v)
{
	struct span val;

	v->sort = LISTING_SORT_NAME;
	v->desc = false;
	v->format = LISTING_AUTO;
	v->start = 0;
	v->login_link = false;
	v->account = NULL;
	v->play_all = false;
	v->file_query = NULL;
	v->file_query_arg = NULL;
	v->is_media = NULL;
	v->is_media_arg = NULL;
	if (http_query_param(query, "start", &val)) {
		uint64_t n;

		if (span_to_u64(val, UINT64_MAX, &n))
			v->start = n > LISTING_MAX_ENTRIES ? LISTING_MAX_ENTRIES :
			    (uint32_t)n;
	}
	if (http_query_param(query, "sort", &val)) {
		if (span_eq(val, SPAN_LIT("size")))
			v->sort = LISTING_SORT_SIZE;
		else if (span_eq(val, SPAN_LIT("mtime")))
			v->sort = LISTING_SORT_MTIME;
	}
	if (http_query_param(query, "order", &val))
		v->desc = span_eq(val, SPAN_LIT("desc"));
	if (http_query_param(query, "format", &val)) {
		if (span_eq(val, SPAN_LIT("json")))
			v->format = LISTING_JSON;
		else if (span_eq(val, SPAN_LIT("html")))
			v->format = LISTING_HTML;
	}
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Compares the digit runs starting at a[*i] and b[*j] as numbers. */
static int
number_cmp(const char *a, size_t alen, size_t *i, const char *b,
    size_t blen, size_t *j)
{
	size_t ea, eb;
	int c;

	while (*i < alen && a[*i] == '0')
		(*i)++;
	while (*j < blen && b[*j] == '0')
		(*j)++;
	for (ea = *i; ea < alen && is_digit((unsigned char)a[ea]); ea++)
		;
	for (eb = *j; eb < blen && is_digit((unsigned char)b[eb]); eb++)
		;
	if (ea - *i != eb - *j)
		return ea - *i < eb - *j ? -1 : 1;
	c = memcmp(a + *i, b + *j, ea - *i);
	*i = ea;
	*j = eb;
	return c < 0 ? -1 : c > 0;
}

int
listing_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;

	while (i < alen && j < blen) {
		unsigned char ca = (unsigned char)a[i];
		unsigned char cb = (unsigned char)b[j];
		int c;

		if (is_digit(ca) && is_digit(cb)) {
			if ((c = number_cmp(a, alen, &i, b, blen, &j)) != 0)
				return c;
			continue;
		}
		ca = ascii_lower(ca);
		cb = ascii_lower(cb);
		if (ca != cb)
			return ca < cb ? -1 : 1;
		i++;
		j++;
	}
	if (i < alen)
		return 1;
	return j < blen ? -1 : 0;
}

struct sort_ctx {
	const char	*names;
	enum listing_sort key;
	bool		 desc;
};

static int
entry_cmp(const void *pa, const void *pb, void *arg)
{
	const struct listing_entry *a = pa, *b = pb;
	const struct sort_ctx *x = arg;
	const char *na = x->names + a->name_off, *nb = x->names + b->name_off;
	int c = 0;

	if (a->is_dir != b->is_dir)
		return a->is_dir ? -1 : 1;	/* folders first, always */
	if (x->key == LISTING_SORT_SIZE)
		c = (a->size > b->size) - (a->size < b->size);
	else if (x->key == LISTING_SORT_MTIME)
		c = (a->mtime > b->mtime) - (a->mtime < b->mtime);
	if (c == 0)
		c = listing_name_cmp(na, a->name_len, nb, b->name_len);
	if (c == 0) {
		/* Names equal in natural order ("a1", "A01") still differ. */
		size_t n = a->name_len < b->name_len ? a->name_len :
		    b->name_len;

		c = memcmp(na, nb, n);
		if (c == 0)
			c = (a->name_len > b->name_len) -
			    (a->name_len < b->name_len);
	}
	return x->desc ? -c : c;
}

void
listing_sort(struct listing *l, enum listing_sort key, bool desc)
{
	struct sort_ctx x = { l->names, key, desc };

	if (l->n > 1)
		qsort_r(l->ents, l->n, sizeof(*l->ents), entry_cmp, &x);
}

#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD in UTF-8 */

/*
 * Whether the n-byte UTF-8 sequence at p is a bidirectional formatting
 * character (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069).  Shown
 * as they are, they reorder what follows, so "photo\u202Egpj.exe" would
 * read as "photoexe.jpg" (the Trojan Source trick, CVE-2021-42574).
 */
static bool
is_bidi_control(const unsigned char *p, size_t n)
{
	if (n == 2)
		return p[0] == 0xd8 && p[1] == 0x9c;
	if (n != 3 || p[0] != 0xe2)
		return false;
	return (p[1] == 0x80 && ((p[2] >= 0x8e && p[2] <= 0x8f) ||
	    (p[2] >= 0xaa && p[2] <= 0xae))) ||
	    (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9);
}

void
listing_html_escape(struct hbuf *out, const char *s, size_t len)
{
	size_t i = 0, run = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;
		size_t n = 1;

		if (c >= 0x80 && (n = utf8_seq_len(s + i, len - i)) > 0) {
			/* Well-formed UTF-8 stays, but for bidi controls. */
			if (is_bidi_control((const unsigned char *)s + i, n)) {
				hb_add(out, s + run, i - run);
				hb_str(out, REPLACEMENT);
				run = i + n;
			}
			i += n;
			continue;
		}
		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			if (c < 0x20 || c >= 0x7f)
				rep = REPLACEMENT;
		}
		if (rep == NULL) {
			i++;
			continue;
		}
		hb_add(out, s + run, i - run);
		hb_str(out, rep);
		run = ++i;
	}
	hb_add(out, s + run, i - run);
}

void
listing_json_escape(struct hbuf *out, const char *s, size_t len)
{
	size_t i = 0, run = 0, used;

	while (i < len) {
		char esc[6];
		size_t n = json_escape_at(s + i, len - i, esc, &used);

		if (n != 0) {
			hb_add(out, s + run, i - run);
			hb_add(out, esc, n);
			run = i + used;
		}
		i += used;
	}
	hb_add(out, s + run, i - run);
}

size_t
listing_human_size(uint64_t size, char *out, size_t cap)
{
	static const char *const units[] = {
		"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
	};
	double v = (double)size;
	size_t u = 0;
	int n;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	/* 1023.97 KiB would print as "1024 KiB": say "1.0 MiB" instead. */
	if (u > 0 && v >= 1023.95 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		n = snprintf(out, cap, "%llu B", (unsigned long long)size);
	else if (v < 99.95)
		n = snprintf(out, cap, "%.1f %s", v, units[u]);
	else
		n = snprintf(out, cap, "%.0f %s", v, units[u]);
	if (n < 0)
		n = 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* The words of the page, per language. */
struct ui_text {
	const char	*lang;		/* the html lang attribute */
	const char	*index_of;
	const char	*home;
	const char	*name, *size, *modified;
	const char	*parent;
	const char	*bytes;
	const char	*empty;
	const char	*folder, *folders, *file, *files;
	const char	*truncated;	/* followed by a number */
	const char	*truncated_end;
	const char	*page, *page_of, *page_end;	/* entries a-b of n */
	const char	*prev, *next;
	const char	*login, *signed_in, *logout, *share, *drop;
	const char	*qr;		/* the QR code's summary and alt text */
	const char	*play_all, *search;
};

static const struct ui_text ui_en = {
	.lang = "en",
	.index_of = "Index of ",
	.home = "Home",
	.name = "Name", .size = "Size", .modified = "Modified",
	.parent = "Parent folder",
	.bytes = " bytes",
	.empty = "This folder is empty.",
	.folder = " folder", .folders = " folders",
	.file = " file", .files = " files",
	.truncated = "Only the first ",
	.truncated_end = " entries are shown.",
	.page = "Showing entries ", .page_of = " of ", .page_end = ".",
	.prev = "Previous page", .next = "Next page",
	.login = "Log in", .signed_in = "Signed in as ", .logout = "Log out",
	.share = "Share this folder", .drop = "Drop box link",
	.qr = "QR code of this folder",
	.play_all = "Play all", .search = "Search below this folder",
};

static const struct ui_text ui_zh = {
	.lang = "zh-CN",
	.index_of = "索引：",
	.home = "首页",
	.name = "名称", .size = "大小", .modified = "修改时间",
	.parent = "上级文件夹",
	.bytes = " 字节",
	.empty = "此文件夹为空。",
	.folder = " 个文件夹", .folders = " 个文件夹",
	.file = " 个文件", .files = " 个文件",
	.truncated = "仅显示前 ",
	.truncated_end = " 项。",
	.page = "显示第 ", .page_of = " 项，共 ", .page_end = " 项。",
	.prev = "上一页", .next = "下一页",
	.login = "登录", .signed_in = "已登录：", .logout = "退出登录",
	.share = "分享此文件夹", .drop = "投递箱链接",
	.qr = "此文件夹的二维码",
	.play_all = "全部播放", .search = "在此文件夹中搜索",
};

/*
 * One style sheet for light and dark, narrow and wide.  The icons are
 * inline SVG so the page needs nothing else from the server.
 */
static const char page_css[] =
	":root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--mute:#59636e;"
	"--line:#d1d9e0;--hover:#f6f8fa;--link:#0969da;--dir:#54aeff}\n"
	"@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;"
	"--mute:#9198a1;--line:#3d444d;--hover:#151b23;--link:#4493f8;"
	"--dir:#3d8bd9}}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 "
	"system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\","
	"\"Noto Sans CJK SC\",\"PingFang SC\",\"Microsoft YaHei\",sans-serif}\n"
	"main{max-width:64rem;margin:0 auto;padding:1.25rem 1rem 2rem}\n"
	"h1{font-size:1.3rem;font-weight:600;margin:0 0 1rem;"
	"overflow-wrap:anywhere}\n"
	"h1 a{font-weight:400}h1 .sep{color:var(--mute);margin:0 .3em}\n"
	"a{color:var(--link);text-decoration:none}a:hover{text-decoration:"
	"underline}\n"
	"table{width:100%;border-collapse:collapse;"
	"border:1px solid var(--line);"
	"border-radius:6px}\n"
	"th,td{padding:.5rem .75rem;text-align:left;border-top:1px solid "
	"var(--line)}\n"
	"th{font-weight:600;white-space:nowrap;font-size:.9rem}"
	"th a{color:var(--fg)}th .arr{color:var(--mute);font-size:.75em;"
	"margin-left:.3em}\n"
	"tbody tr:hover{background:var(--hover)}\n"
	"td.n{overflow-wrap:anywhere;width:100%}\n"
	".s{text-align:right;white-space:nowrap;font-variant-numeric:"
	"tabular-nums}\n"
	".m{white-space:nowrap;color:var(--mute);font-variant-numeric:"
	"tabular-nums}\n"
	"td.n a{display:inline-flex;align-items:flex-start;gap:.55em}\n"
	"td.n a::before{content:\"\";flex:none;width:1.1em;height:1.1em;"
	"margin-top:.15em;background:var(--mute);-webkit-mask:var(--icon) "
	"center/contain no-repeat;mask:var(--icon) center/contain no-repeat;"
	"--icon:url(\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/"
	"svg' viewBox='0 0 16 16'%3E%3Cpath d='M3.75 1h5.5L13 4.75v9.5c0 .41"
	"-.34.75-.75.75h-8.5A.75.75 0 0 1 3 14.25V1.75c0-.41.34-.75.75-.75z"
	"M9 2v3h3'/%3E%3C/svg%3E\")}\n"
	"tr.d td.n a::before{background:var(--dir);--icon:url(\"data:image/"
	"svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'"
	"%3E%3Cpath d='M1 3.5C1 2.67 1.67 2 2.5 2h3.6l1.5 1.5h5.9c.83 0 1.5"
	".67 1.5 1.5v7.5c0 .83-.67 1.5-1.5 1.5h-11C1.67 14 1 13.33 1 12.5z'/"
	"%3E%3C/svg%3E\")}\n"
	"tr.up td.n a::before{--icon:url(\"data:image/svg+xml,%3Csvg xmlns="
	"'http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Cpath d='M8 2 3 7"
	"h3.5v7h3V7H13z'/%3E%3C/svg%3E\")}\n"
	"tr.d td.n a{font-weight:600}\n"
	"p.note{color:var(--mute);margin:1rem .25rem}\n"
	"footer{color:var(--mute);font-size:.85rem;margin:1rem .25rem}\n"
	".acct{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;"
	"justify-content:flex-end;margin:.25rem;font-size:.9rem}\n"
	".acct form{margin:0}\n"
	".qr{margin:1rem .25rem;font-size:.85rem;color:var(--mute)}\n"
	".tools{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;"
	"margin:0 .25rem .75rem}\n"
	".tools form{flex:1 1 12rem;margin:0}.tools input{width:100%;"
	"font:inherit;padding:.35rem .5rem;border:1px solid var(--line);"
	"border-radius:6px;background:var(--bg);color:var(--fg)}\n"
	".play{font-weight:600;white-space:nowrap}\n"
	".qr img{display:block;margin-top:.5rem;background:#fff;"
	"max-width:100%;height:auto}\n"
	"@media (max-width:36rem){body{font-size:14px}"
	"main{padding:.75rem .5rem}"
	"th,td{padding:.45rem .5rem}.m{display:none}}\n";

/* Appends "/" + dir + "/" (or "/"), escaped as HTML text. */
static void
html_dir_path(struct hbuf *out, const char *dir, size_t dir_len)
{
	hb_add(out, "/", 1);
	if (dir_len > 0) {
		listing_html_escape(out, dir, dir_len);
		hb_add(out, "/", 1);
	}
}

void
listing_href(struct hbuf *out, const char *s, size_t len)
{
	char tmp[3 * 256 + 1];
	size_t i = 0;

	/* In pieces, so a long path needs no big buffer. */
	while (i < len) {
		size_t n = len - i < 256 ? len - i : 256;

		path_encode_set(s + i, n, PCT_STRICT, tmp, sizeof(tmp));
		hb_str(out, tmp);
		i += n;
	}
}

/* The folder's URL path as a query value: "/" dir "/", encoded. */
static void
dir_query(struct hbuf *out, const char *dir, size_t dir_len)
{
	hb_add(out, "/", 1);
	if (dir_len > 0) {
		listing_href(out, dir, dir_len);
		hb_add(out, "/", 1);
	}
}

/* One button that POSTs to the share page. */
static void
share_button(struct hbuf *out, const char *dir, size_t dir_len,
    const char *kind, const char *label)
{
	hb_str(out, "<form method=\"post\" action=\"/.well-known/lanhttpd/"
	    "share?kind=");
	hb_str(out, kind);
	hb_str(out, "&amp;path=");
	dir_query(out, dir, dir_len);
	hb_str(out, "\"><button>");
	hb_str(out, label);
	hb_str(out, "</button></form>");
}

/* Log in, or who is logged in with log out and share buttons. */
static void
html_account(struct hbuf *out, const char *dir, size_t dir_len,
    const struct listing_view *v, const struct ui_text *t)
{
	if (v->account == NULL && !v->login_link)
		return;
	hb_str(out, "<nav class=\"acct\">");
	if (v->account == NULL) {
		hb_str(out, "<a href=\"/.well-known/lanhttpd/login?next=");
		dir_query(out, dir, dir_len);
		hb_str(out, "\">");
		hb_str(out, t->login);
		hb_str(out, "</a></nav>\n");
		return;
	}
	hb_str(out, t->signed_in);
	hb_str(out, "<b>");
	listing_html_escape(out, v->account, strlen(v->account));
	hb_str(out, "</b> ");
	share_button(out, dir, dir_len, "read", t->share);
	if (v->writable)
		share_button(out, dir, dir_len, "drop", t->drop);
	hb_str(out, "<form method=\"post\" action=\"/.well-known/lanhttpd/"
	    "logout\"><button>");
	hb_str(out, t->logout);
	hb_str(out, "</button></form></nav>\n");
}

/* The search box (GET ?q=, no script) and "Play all" where it applies. */
static void
html_tools(struct hbuf *out, const struct listing_view *v,
    const struct ui_text *t)
{
	hb_str(out, "<div class=\"tools\"><form role=\"search\" action=\"./\">"
	    "<input type=\"search\" name=\"q\" aria-label=\"");
	hb_str(out, t->search);
	hb_str(out, "\" placeholder=\"");
	hb_str(out, t->search);
	hb_str(out, "\"></form>");
	if (v->play_all) {
		hb_str(out, "<a class=\"play\" href=\"?m3u\">&#9654; ");
		hb_str(out, t->play_all);
		hb_str(out, "</a>");
	}
	hb_str(out, "</div>\n");
}

/* Home / a / b: links to every ancestor, the current folder as text. */
static void
html_breadcrumb(struct hbuf *out, const char *dir, size_t dir_len,
    const struct ui_text *t)
{
	size_t i = 0;

	hb_str(out, "<h1>");
	if (dir_len == 0) {
		hb_str(out, t->home);
		hb_str(out, "</h1>\n");
		return;
	}
	hb_str(out, "<a href=\"/\">");
	hb_str(out, t->home);
	hb_str(out, "</a>");
	while (i < dir_len) {
		size_t end = i;

		while (end < dir_len && dir[end] != '/')
			end++;
		hb_str(out, "<span class=\"sep\">/</span>");
		if (end == dir_len) {
			listing_html_escape(out, dir + i, end - i);
		} else {
			hb_str(out, "<a href=\"/");
			listing_href(out, dir, end);
			hb_str(out, "/\">");
			listing_html_escape(out, dir + i, end - i);
			hb_str(out, "</a>");
		}
		i = end + 1;
	}
	hb_str(out, "</h1>\n");
}

/* A column header that sorts by key, toggling the order if it already does. */
static void
html_sort_th(struct hbuf *out, const struct listing_view *v,
    enum listing_sort key, const char *cls, const char *qname,
    const char *label)
{
	bool cur = v->sort == key;
	bool next_desc = cur && !v->desc;

	hb_fmt(out, "<th class=\"%s\"", cls);
	if (cur)
		hb_fmt(out, " aria-sort=\"%s\"", v->desc ? "descending" :
		    "ascending");
	hb_fmt(out, "><a href=\"?sort=%s&amp;order=%s\">%s", qname,
	    next_desc ? "desc" : "asc", label);
	if (cur)
		/* U+25BC and U+25B2, the down and up triangles. */
		hb_str(out, v->desc ?
		    "<span class=\"arr\">\xe2\x96\xbc</span>" :
		    "<span class=\"arr\">\xe2\x96\xb2</span>");
	hb_str(out, "</a></th>");
}

static void
html_head(struct hbuf *out, const char *dir, size_t dir_len,
    const struct listing_view *v, const struct ui_text *t)
{
	hb_str(out, "<!DOCTYPE html>\n<html lang=\"");
	hb_str(out, t->lang);
	hb_str(out, "\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<meta name=\"color-scheme\" "
	    "content=\"light dark\">\n"
	    /* No icon: browsers would ask for /favicon.ico on every page. */
	    "<link rel=\"icon\" href=\"data:,\">\n<title>");
	hb_str(out, t->index_of);
	html_dir_path(out, dir, dir_len);
	hb_str(out, "</title>\n<style>\n");
	hb_str(out, page_css);
	if (v->writable)
		upload_ui_style(out);
	hb_str(out, "</style>\n</head>\n<body>\n<main>\n");
	html_breadcrumb(out, dir, dir_len, t);
	html_account(out, dir, dir_len, v, t);
	html_tools(out, v, t);
	/* Above the table, where a long folder does not push it away. */
	if (v->writable)
		upload_ui_html(out, v->lang);
	hb_str(out, "<table>\n<thead><tr>");
	html_sort_th(out, v, LISTING_SORT_NAME, "n", "name", t->name);
	html_sort_th(out, v, LISTING_SORT_SIZE, "s", "size", t->size);
	html_sort_th(out, v, LISTING_SORT_MTIME, "m", "mtime", t->modified);
	hb_str(out, "</tr></thead>\n<tbody>\n");
	if (dir_len > 0) {
		hb_str(out, "<tr class=\"up\"><td class=\"n\" colspan=\"3\">"
		    "<a href=\"../\">");
		hb_str(out, t->parent);
		hb_str(out, "</a></td></tr>\n");
	}
}

/* Writes v as n decimal digits (zero-padded) at p; returns p + n. */
static char *
put_digits(char *p, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/*
 * The modification time as "2024-05-01 12:34", with the full UTC time in
 * the datetime attribute and the tooltip.  Written by hand: printf with a
 * dozen arguments per row was most of the cost of a large listing.
 */
static void
html_time(struct hbuf *out, time_t t)
{
	char date[10], clock[8], *p;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 ||
	    tm.tm_year + 1900 > 9999) {
		hb_str(out, "<td class=\"m\"></td>");
		return;
	}
	p = put_digits(date, tm.tm_year + 1900, 4);
	*p++ = '-';
	p = put_digits(p, tm.tm_mon + 1, 2);
	*p++ = '-';
	put_digits(p, tm.tm_mday, 2);
	p = put_digits(clock, tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_min, 2);
	*p++ = ':';
	put_digits(p, tm.tm_sec, 2);
	hb_str(out, "<td class=\"m\"><time datetime=\"");
	hb_add(out, date, 10);
	hb_add(out, "T", 1);
	hb_add(out, clock, 8);
	hb_str(out, "Z\" title=\"");
	hb_add(out, date, 10);
	hb_add(out, " ", 1);
	hb_add(out, clock, 8);
	hb_str(out, " UTC\">");
	hb_add(out, date, 10);
	hb_add(out, " ", 1);
	hb_add(out, clock, 5);
	hb_str(out, "</time></td>");
}

/* What a file's link asks besides the file: a read token, ?play. */
static void
html_file_query(struct hbuf *out, const char *name, size_t len,
    const struct listing_view *v)
{
	size_t before = out->len;

	if (v == NULL)
		return;
	if (v->file_query != NULL)
		v->file_query(v->file_query_arg, name, len, out);
	if (v->is_media != NULL && v->is_media(v->is_media_arg, name, len))
		hb_str(out, out->len > before ? "&amp;play" : "?play");
}

static void
html_row(struct hbuf *out, const struct listing *l,
    const struct listing_entry *e, const struct ui_text *t,
    const struct listing_view *v)
{
	const char *name = l->names + e->name_off;
	char human[32];

	hb_str(out, e->is_dir ? "<tr class=\"d\">" : "<tr>");
	hb_str(out, "<td class=\"n\"><a href=\"");
	listing_href(out, name, e->name_len);
	if (e->is_dir)
		hb_add(out, "/", 1);
	else
		html_file_query(out, name, e->name_len, v);
	hb_str(out, "\">");
	listing_html_escape(out, name, e->name_len);
	if (e->is_dir) {
		hb_str(out, "/</a></td><td class=\"s\">&mdash;</td>");
	} else {
		listing_human_size(e->size, human, sizeof(human));
		hb_str(out, "</a></td><td class=\"s\" title=\"");
		hb_u64(out, e->size);
		hb_str(out, t->bytes);
		hb_str(out, "\">");
		hb_str(out, human);
		hb_str(out, "</td>");
	}
	html_time(out, e->mtime);
	hb_str(out, "</tr>\n");
}

static void
html_count(struct hbuf *out, size_t n, const char *one, const char *many)
{
	hb_u64(out, n);
	hb_str(out, n == 1 ? one : many);
}

static const char *const sort_qname[] = {
	[LISTING_SORT_NAME] = "name", [LISTING_SORT_SIZE] = "size",
	[LISTING_SORT_MTIME] = "mtime",
};

/* The query of the page from start on, in the order v sorts by. */
static void
page_query(struct hbuf *out, const struct listing_view *v, bool json,
    size_t start)
{
	hb_str(out, json ? "?format=json&sort=" : "?sort=");
	hb_str(out, sort_qname[v->sort]);
	hb_str(out, json ? "&order=" : "&amp;order=");
	hb_str(out, v->desc ? "desc" : "asc");
	hb_str(out, json ? "&start=" : "&amp;start=");
	hb_u64(out, start);
}

/* One entry as a JSON object, after a comma unless it is the first. */
static void
json_entry(struct hbuf *out, const struct listing *l,
    const struct listing_entry *e, bool first)
{
	const char *name = l->names + e->name_off;

	hb_str(out, first ? "\n{\"name\":\"" : ",\n{\"name\":\"");
	listing_json_escape(out, name, e->name_len);
	hb_str(out, "\",\"href\":\"");
	listing_href(out, name, e->name_len);
	hb_str(out, e->is_dir ? "/\",\"type\":\"dir\",\"size\":" :
	    "\",\"type\":\"file\",\"size\":");
	hb_u64(out, e->size);
	hb_str(out, ",\"mtime\":");
	if (e->mtime < 0)
		hb_str(out, "-");
	hb_u64(out, e->mtime < 0 ? (uint64_t)-(e->mtime + 1) + 1 :
	    (uint64_t)e->mtime);
	hb_str(out, "}");
}

/* The first entry the page from v->start shows. */
static size_t
page_first(const struct listing *l, const struct listing_view *v)
{
	return v->start < l->n ? v->start : l->n;
}

/* The rows of one form of a listing. */
struct page_fmt {
	const struct listing	*l;
	const struct ui_text	*t;	/* the HTML page's words; NULL: JSON */
	const struct listing_view *v;
};

/* Appends row i of the page that begins at first. */
static void
page_row(struct hbuf *out, const struct page_fmt *f, size_t first, size_t i)
{
	const struct listing_entry *e = &f->l->ents[i];

	if (f->t != NULL)
		html_row(out, f->l, e, f->t, f->v);
	else
		json_entry(out, f->l, e, i == first);
}

/*
 * The one rule that cuts a listing into pages, used both to render a page
 * and to find where an earlier one starts: the page from first takes rows
 * until it holds LISTING_PAGE_ENTRIES, or until its rows take more than
 * LISTING_PAGE_BYTES (the row that passes the bound is the last).  Appends
 * the rows to out and returns the end of the page (one past its last
 * row).  When keep is false the rows are only measured: each is taken
 * out of out again, so out never grows by more than one.
 */
static size_t
page_rows(const struct page_fmt *f, size_t first, struct hbuf *out,
    bool keep)
{
	size_t bytes = 0, i;

	for (i = first; i < f->l->n && i - first < LISTING_PAGE_ENTRIES &&
	    bytes <= LISTING_PAGE_BYTES; i++) {
		size_t before = out->len;

		page_row(out, f, first, i);
		bytes += out->len - before;
		if (!keep)
			out->len = before;
	}
	return i;
}

/*
 * Where the page before the one from first (> 0) starts.  Pages are cut
 * from entry 0 by page_rows(), so their bounds depend on the rows before
 * them: this walks them from 0, formatting each row once more into a
 * buffer that holds one at a time, up to the page that reaches first.
 * When first is a page bound, that is the page ending where this one
 * begins; otherwise (a start typed by hand) the page holding entry
 * first - 1.  Out of memory, it is the first page.
 */
static size_t
page_prev(const struct page_fmt *f, size_t first)
{
	struct hbuf scratch;
	size_t start = 0, end;

	hb_init_heap(&scratch);
	while ((end = page_rows(f, start, &scratch, false)) < first &&
	    !scratch.overflow)
		start = end;
	if (scratch.overflow)
		start = 0;
	hb_release(&scratch);
	return start;
}

/* "Showing entries a-b of n." with links to the pages around it. */
static void
html_page_note(struct hbuf *out, const struct page_fmt *f,
    const struct listing_view *v, size_t first, size_t end)
{
	const struct listing *l = f->l;
	const struct ui_text *t = f->t;

	if (first == 0 && end == l->n)
		return;
	hb_str(out, "<p class=\"note\">");
	hb_str(out, t->page);
	hb_u64(out, end > first ? first + 1 : first);
	hb_str(out, "&ndash;");
	hb_u64(out, end);
	hb_str(out, t->page_of);
	hb_u64(out, l->n);
	hb_str(out, t->page_end);
	if (first > 0) {
		hb_str(out, " <a href=\"");
		page_query(out, v, false, page_prev(f, first));
		hb_str(out, "\">");
		hb_str(out, t->prev);
		hb_str(out, "</a>");
	}
	if (end < l->n) {
		hb_str(out, " <a href=\"");
		page_query(out, v, false, end);
		hb_str(out, "\">");
		hb_str(out, t->next);
		hb_str(out, "</a>");
	}
	hb_str(out, "</p>\n");
}

static void
html_foot(struct hbuf *out, const struct listing *l, const struct ui_text *t)
{
	size_t dirs = 0;

	for (size_t i = 0; i < l->n; i++)
		dirs += l->ents[i].is_dir;
	if (l->n == 0) {
		hb_str(out, "<p class=\"note\">");
		hb_str(out, t->empty);
		hb_str(out, "</p>\n");
	}
	if (l->truncated) {
		hb_str(out, "<p class=\"note\">");
		hb_str(out, t->truncated);
		hb_u64(out, LISTING_MAX_ENTRIES);
		hb_str(out, t->truncated_end);
		hb_str(out, "</p>\n");
	}
	/* The folder's own URL as a QR code (?qr), fetched when opened. */
	hb_str(out, "<details class=\"qr\"><summary>");
	hb_str(out, t->qr);
	hb_str(out, "</summary><img src=\"?qr\" width=\"240\" height=\"240\" "
	    "loading=\"lazy\" alt=\"");
	hb_str(out, t->qr);
	hb_str(out, "\"></details>\n<footer>");
	html_count(out, dirs, t->folder, t->folders);
	hb_str(out, t == &ui_zh ? "，" : ", ");
	html_count(out, l->n - dirs, t->file, t->files);
	hb_str(out, " &middot; " SERVER_HEADER "</footer>\n</main>\n</body>\n"
	    "</html>\n");
}

int
listing_html(const struct listing *l, const char *dir, size_t dir_len,
    const struct listing_view *v, struct hbuf *out)
{
	const struct ui_text *t = v->lang == LANG_ZH ? &ui_zh : &ui_en;
	const struct page_fmt f = { .l = l, .t = t, .v = v };
	size_t first = page_first(l, v), end;

	html_head(out, dir, dir_len, v, t);
	end = page_rows(&f, first, out, true);
	hb_str(out, "</tbody>\n</table>\n");
	html_page_note(out, &f, v, first, end);
	html_foot(out, l, t);
	return out->overflow ? -ENOMEM : 0;
}

int
listing_json(const struct listing *l, const char *dir, size_t dir_len,
    const struct listing_view *v, struct hbuf *out)
{
	const struct page_fmt f = { .l = l, .t = NULL };
	size_t first = page_first(l, v), end;

	hb_str(out, "{\"path\":\"/");
	if (dir_len > 0) {
		listing_json_escape(out, dir, dir_len);
		hb_add(out, "/", 1);
	}
	hb_str(out, l->truncated ? "\",\"truncated\":true,\"total\":" :
	    "\",\"truncated\":false,\"total\":");
	hb_u64(out, l->n);
	hb_str(out, ",\"start\":");
	hb_u64(out, first);
	hb_str(out, ",\"entries\":[");
	end = page_rows(&f, first, out, true);
	hb_str(out, "\n],\"next\":");
	if (end < l->n) {
		hb_add(out, "\"", 1);
		page_query(out, v, true, end);
		hb_add(out, "\"", 1);
	} else {
		hb_str(out, "null");
	}
	hb_str(out, "}\n");
	return out->overflow ? -ENOMEM : 0;
}

/* Reads 8 bytes as a little-endian number, wherever they lie. */
static uint64_t
load64(const char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | (unsigned char)p[i];
	return v;
}

uint64_t
listing_hash(const char *p, size_t n)
{
	/* Two lanes, so the multiplications overlap; then the tail. */
	uint64_t a = 0x9e3779b97f4a7c15ull ^ n, b = 0x632be59bd9b4e019ull;
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		a = (a ^ load64(p + i)) * 0x9fb21c651e98df25ull;
		b = (b ^ load64(p + i + 8)) * 0xc2b2ae3d27d4eb4full;
		a ^= a >> 29;
		b ^= b >> 31;
	}
	for (; i < n; i++)
		a = (a ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return span_mix64(a ^ span_mix64(b));
}

int
listing_gzip(const char *in, size_t n, struct hbuf *out)
{
	z_stream z;
	int r;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip wrapper with a zeroed header (no name, no time). */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
	    != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;	/* pages stay far below 4 GiB */
	/* deflateBound() is room enough for one deflate() to finish. */
	if (!hb_reserve(out, deflateBound(&z, (uLong)n))) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_out = (Bytef *)out->p + out->len;
	z.avail_out = (uInt)(out->cap - out->len);
	r = deflate(&z, Z_FINISH);
	out->len = out->cap - z.avail_out;
	deflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -EIO;
}
