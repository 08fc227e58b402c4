/*
 * listing.h - directory listings, as an HTML page or as JSON.
 *
 * Reading a directory (listing_read) is kept apart from formatting it
 * (listing_sort, listing_html, listing_json), which is pure: the entries
 * can come from anywhere, so escaping and sorting are unit-tested and
 * fuzzed without a file system.  Names on disk are untrusted bytes: they
 * are HTML-escaped or JSON-escaped for display, percent-encoded for links,
 * and bytes that are not UTF-8 are shown as U+FFFD while links keep the
 * exact bytes.  A struct listing belongs to one thread at a time.
 */
#ifndef LANHTTPD_LISTING_H
#define LANHTTPD_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "http_response.h"
#include "negotiate.h"
#include "path.h"
#include "span.h"

/* A directory with more entries shows this many and says it is cut. */
#define LISTING_MAX_ENTRIES	100000
/*
 * One page of a listing (HTML or JSON) holds at most this many rows, and
 * stops early once its rows take more than LISTING_PAGE_BYTES; the page
 * then says which entries it shows and links the next page (?start=N).
 * So a response body stays under LISTING_PAGE_BYTES plus one row (at most
 * about 3 KiB, for a 255-byte name of the worst bytes) plus the head.
 */
#define LISTING_PAGE_ENTRIES	10000
#define LISTING_PAGE_BYTES	(8u << 20)

struct listing_entry {
	size_t		 name_off;	/* into listing.names, NUL-terminated */
	size_t		 name_len;
	uint64_t	 size;
	time_t		 mtime;
	bool		 is_dir;
	/*
	 * What is shown can change without an event on the directory's
	 * own inotify watch: a subdirectory (its mtime), a symbolic link
	 * (its target) or a file with more than one link (written through
	 * another name).  The listing cache checks these again on a hit.
	 */
	bool		 recheck;
};

struct listing {
	struct listing_entry *ents;
	size_t		 n, cap;
	char		*names;		/* every name, each followed by NUL */
	size_t		 names_len, names_cap;
	bool		 truncated;	/* LISTING_MAX_ENTRIES reached */
};

enum listing_sort {
	LISTING_SORT_NAME = 0,
	LISTING_SORT_SIZE,
	LISTING_SORT_MTIME,
};

enum listing_format {
	LISTING_AUTO = 0,	/* decided by the Accept header */
	LISTING_HTML,
	LISTING_JSON,
};

/* How to show a listing: from the query and the request's headers. */
struct listing_view {
	enum listing_sort sort;
	bool		 desc;
	enum listing_format format;
	enum ui_lang	 lang;
	uint32_t	 start;		/* first entry shown (?start=N) */
	/*
	 * Show the upload controls: the folder takes writes.  Set by the
	 * caller, like lang; the page then needs UPLOAD_UI_CSP.
	 */
	bool		 writable;
	/*
	 * Accounts (gate.h), set by the caller: a "Log in" link for
	 * guests; for a logged-in browser its user's name, with log out
	 * and share buttons (such a page is the user's alone).
	 */
	bool		 login_link;
	const char	*account;
	/* A "Play all" link (?m3u): the folder holds audio or video. */
	bool		 play_all;
	/*
	 * When not NULL, appends to a file's link the query that lets a
	 * client without the browser's cookies fetch it ("?t=...").
	 */
	void		(*file_query)(void *arg, const char *name, size_t len,
			    struct hbuf *out);
	void		*file_query_arg;
	/*
	 * When not NULL and true for a file, its link opens the page that
	 * plays it (?play) rather than the file itself.
	 */
	bool		(*is_media)(void *arg, const char *name, size_t len);
	void		*is_media_arg;
};

/* What listing_read() needs to know about the tree it reads. */
struct listing_src {
	struct path_root tree;		/* its rules: links, dotfiles */
	const char	*rel;		/* the directory, from the root */
};

void	listing_init(struct listing *l);
void	listing_release(struct listing *l);

/*
 * Appends one entry; name[0..len) is copied.  Returns 0, -ENOMEM, or
 * -ENOSPC (and sets l->truncated) past LISTING_MAX_ENTRIES.
 */
int	listing_add(struct listing *l, const char *name, size_t len,
	    bool is_dir, uint64_t size, time_t mtime);

/* What one directory entry shows: see listing_entry_stat(). */
struct listing_stat {
	bool		 is_dir;
	bool		 recheck;
	uint64_t	 size;
	time_t		 mtime;
};

/*
 * Looks at the entry name of the directory open as dfd under the rules of
 * listing_read().  Returns true with *st when it is listed, false when it
 * is left out (hidden, gone, refused link, neither file nor directory).
 */
bool	listing_entry_stat(int dfd, const char *name,
	    const struct listing_src *src, struct listing_stat *st);

/*
 * Reads the directory open as dfd (not consumed) into l: regular files
 * and directories only, "." and "..", dotfiles (unless allowed) and
 * anything else left out.  A symbolic link is listed as what it points to
 * when src->symlinks would let a client follow it, and left out
 * otherwise.  Returns 0 or a negative errno.
 */
int	listing_read(struct listing *l, int dfd, const struct listing_src *src);

/* What listing_read_each() asks statx(2) for. */
#define LISTING_STATX_MASK	(STATX_BASIC_STATS | STATX_BTIME)

/*
 * Called for each entry listing_read_each() lists, as it is read: the
 * folder, the entry's name (in l) and the statx of what it shows (a
 * link's target).
 */
typedef void	(*listing_each_fn)(void *arg, int dfd, const char *name,
		    const struct statx *sx);

/*
 * listing_read(), calling each (when not NULL) for every entry listed,
 * so a caller that needs more of each entry than l keeps (a PROPFIND)
 * stats it only once.
 */
int	listing_read_each(struct listing *l, int dfd,
	    const struct listing_src *src, listing_each_fn each, void *arg);

/*
 * Reads ?sort=name|size|mtime, ?order=asc|desc, ?format=html|json and
 * ?start=N from a raw query into v (unknown values keep the defaults: by
 * name, ascending, format decided by Accept, from the first entry; a
 * start past LISTING_MAX_ENTRIES is LISTING_MAX_ENTRIES).  Leaves v->lang
 * and v->writable alone.
 */
void	listing_view_from_query(struct span query, struct listing_view *v);

/*
 * Sorts directories first, then by key (names in natural order, ignoring
 * ASCII case; ties by name), descending when desc.
 */
void	listing_sort(struct listing *l, enum listing_sort key, bool desc);

/*
 * Appends the HTML5 page for the directory dir[0..dir_len) (relative to
 * the root, no leading or trailing '/', "" for the root) to out.  The page
 * needs no other resource, and no script unless v->writable adds the
 * upload controls (upload_ui.h) above the table.  It shows one page of
 * entries from v->start (see LISTING_PAGE_ENTRIES); when that is not all
 * of them it says which it shows and links the previous and next pages.
 * Returns 0, or -ENOMEM when out overflowed.
 */
int	listing_html(const struct listing *l, const char *dir, size_t dir_len,
	    const struct listing_view *v, struct hbuf *out);

/*
 * Appends the same data as JSON:
 * {"path":"/dir/","truncated":false,"total":N,"start":S,
 * "entries":[{"name":..,"href":..,"type":"dir"|"file","size":N,
 * "mtime":unix seconds},..],"next":"?format=json&..&start=M"|null}.
 * "name" is the name with bytes that are not UTF-8 replaced by U+FFFD;
 * "href" is the exact name percent-encoded, usable relative to the
 * directory's URL.  One page of entries from v->start, as for HTML;
 * "next" is the query of the page after it, null on the last page.
 * Returns 0 or -ENOMEM.
 */
int	listing_json(const struct listing *l, const char *dir, size_t dir_len,
	    const struct listing_view *v, struct hbuf *out);

/*
 * Appends s[0..len) as HTML text or attribute content: & < > " ' are
 * escaped; bytes that are not UTF-8, control characters and the
 * bidirectional formatting characters (which would reorder the text
 * after them) become U+FFFD.
 */
void	listing_html_escape(struct hbuf *out, const char *s, size_t len);

/*
 * Appends s[0..len) percent-encoded for a link (PCT_STRICT of path.h:
 * only unreserved bytes and '/' stay), in pieces, so any length works.
 */
void	listing_href(struct hbuf *out, const char *s, size_t len);

/*
 * Appends s[0..len) as the inside of a JSON string, escaped by
 * json_escape_at() (span.h): '"', '\\', control characters and < > &
 * escaped, bytes that are not UTF-8 replaced by U+FFFD.
 */
void	listing_json_escape(struct hbuf *out, const char *s, size_t len);

/*
 * Formats size as a short human-readable figure ("512 B", "1.5 KiB",
 * "23 MiB") into out[0..cap).  Returns the length.
 */
size_t	listing_human_size(uint64_t size, char *out, size_t cap);

/*
 * A 64-bit hash of p[0..n) for validators: a listing's ETag is the hash
 * of its page, so equal pages have equal tags whether or not they came
 * from the cache.  Not cryptographic; stable across runs and builds.
 */
uint64_t	listing_hash(const char *p, size_t n);

/*
 * Appends the gzip member (RFC 1952; no name, no time, so equal input
 * gives equal output) of in[0..n) to out.  Returns 0, -ENOMEM, or -EIO
 * when zlib fails.
 */
int	listing_gzip(const char *in, size_t n, struct hbuf *out);

/* Natural order: runs of digits compare as numbers, ASCII case ignored. */
int	listing_name_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif /* LANHTTPD_LISTING_H */
