/*
 * search.h - a case-insensitive name search below a folder (GET
 * /folder/?q=TEXT), as an HTML page or as JSON.
 *
 * The walk (search_run) is kept apart from formatting its result
 * (search_html, search_json), which is pure.  The walk sees exactly what
 * listings show: each entry goes through listing_entry_stat() under the
 * listing's rules (dotfiles, where symbolic links may lead), a linked
 * folder is entered only when those rules let a client follow the link,
 * and no folder is read twice (folders are known by device and inode),
 * so links cannot make it loop.  It is bounded in depth, matches, time
 * and folders read, and says which bound cut it short; nothing is cached.
 * Every function is thread-safe: all state is in the arguments.
 */
#ifndef LANHTTPD_SEARCH_H
#define LANHTTPD_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http_response.h"
#include "listing.h"
#include "span.h"

/* A query longer than this (decoded) is refused. */
#define SEARCH_QUERY_MAX	256

/* The defaults of struct search_limits. */
#define SEARCH_DEPTH_DEFAULT	16
#define SEARCH_RESULTS_DEFAULT	1000
#define SEARCH_TIME_MS_DEFAULT	2000
#define SEARCH_DIRS_DEFAULT	20000

/*
 * Ceilings on the limits: a folder being read holds a descriptor, so the
 * depth bounds the descriptors one search holds open.
 */
#define SEARCH_DEPTH_MAX	64
#define SEARCH_RESULTS_MAX	100000

/* The clock is read once per this many entries. */
#define SEARCH_CLOCK_EVERY	32

struct search_limits {
	/*
	 * The deepest folder read: the folder searched is level 0, its
	 * subfolders level 1.  A folder deeper than this still matches by
	 * name, but is not read.  At most SEARCH_DEPTH_MAX.
	 */
	unsigned	 max_depth;
	size_t		 max_results;	/* at most SEARCH_RESULTS_MAX */
	unsigned	 max_time_ms;	/* 0: stop at the first look */
	size_t		 max_dirs;	/* folders read, the searched one too */
};

#define SEARCH_LIMITS_DEFAULT	((struct search_limits){		\
	.max_depth = SEARCH_DEPTH_DEFAULT,				\
	.max_results = SEARCH_RESULTS_DEFAULT,				\
	.max_time_ms = SEARCH_TIME_MS_DEFAULT,				\
	.max_dirs = SEARCH_DIRS_DEFAULT })

/* Which bounds cut a search short: a set of these bits. */
#define SEARCH_BOUND_DEPTH	0x1u	/* deeper folders were not read */
#define SEARCH_BOUND_RESULTS	0x2u	/* more matches than max_results */
#define SEARCH_BOUND_TIME	0x4u	/* max_time_ms ran out */
#define SEARCH_BOUND_DIRS	0x8u	/* max_dirs folders were read */

struct search_hit {
	size_t		 path_off;	/* into search_result.paths */
	size_t		 path_len;	/* "a/b.txt", from the folder */
	bool		 is_dir;
	uint64_t	 size;		/* 0 for a folder */
	time_t		 mtime;
};

struct search_result {
	struct search_hit *hits;	/* sorted by path (natural order) */
	size_t		 n, cap;
	char		*paths;		/* every path, each followed by NUL */
	size_t		 paths_len, paths_cap;
	unsigned	 bounds;	/* SEARCH_BOUND_* bits; 0: complete */
	struct search_limits lim;	/* the limits applied, for the notes */
	size_t		 dirs;		/* folders read */
};

/*
 * Leaves out what a requester may not see, for [access] rules that make
 * members of a folder differ per user: called for each entry the listing
 * rules show, with its path from the root (NUL-terminated); false leaves
 * the entry out of the results and, for a folder, unread.
 */
struct search_filter {
	bool		(*may_see)(void *arg, const char *rel, bool is_dir);
	void		*arg;
};

void	search_result_init(struct search_result *r);

/* Frees what r holds and makes it empty again; r itself is the caller's. */
void	search_result_release(struct search_result *r);

/*
 * Decodes the raw value of ?q= (still percent-encoded, '+' for a space)
 * into out[0..cap), NUL-terminated, without leading and trailing spaces,
 * and stores its length in *len (0: no search).  cap must be at least
 * SEARCH_QUERY_MAX + 1.  Returns 0, or 400 for a bad escape, %00, or more
 * than SEARCH_QUERY_MAX bytes once decoded.
 */
int	search_query_decode(struct span raw, char *out, size_t cap,
	    size_t *len);

/*
 * Searches the tree below the folder open as dirfd (O_PATH or readable;
 * not consumed, its offset untouched) for entries whose name holds query
 * (untrusted bytes, at most SEARCH_QUERY_MAX) ignoring case: ASCII, and
 * the simple upper- to lower-case folding of Latin-1, Latin Extended-A,
 * Greek (final sigma as sigma) and Cyrillic; other bytes must be equal.
 * Names are compared as they are on disk, without Unicode normalisation.
 * src is the folder's listing_src (its rel is the folder, from the root);
 * filter may be NULL; lim may be NULL for SEARCH_LIMITS_DEFAULT, and its
 * values above the ceilings are lowered to them.  An empty query searches
 * nothing.  A subfolder that cannot be opened (gone, no permission) is
 * skipped.  The matches go to out, which must be initialised and empty;
 * on failure it is released.  Returns 0 (also when a bound cut the search
 * short: see out->bounds), -EINVAL for a query that is too long, or
 * another negative errno (the folder cannot be read, -ENOMEM, -EMFILE).
 * The caller should treat it as a long job: it may take max_time_ms.
 */
int	search_run(int dirfd, const struct listing_src *src, struct span query,
	    const struct search_limits *lim, const struct search_filter *filter,
	    struct search_result *out);

/*
 * Appends the HTML5 page of r, the search for query (the decoded query,
 * untrusted) below the folder dir[0..dir_len) (from the root, no leading
 * or trailing '/', "" for the root): a search box (a GET form with
 * name="q"), then each match linked relative to the folder's URL (each
 * segment percent-encoded, v->file_query appended to files when set)
 * with its size and date, and a note for each bound in r->bounds.  Uses
 * v->lang, v->file_query and v->file_query_arg alone.  The page has no
 * script and needs no other resource: send it with
 * "Content-Security-Policy: default-src 'none'; style-src
 * 'unsafe-inline'" and Content-Type text/html; charset=utf-8.  Returns 0,
 * or -ENOMEM when out overflowed.
 */
int	search_html(const struct search_result *r, const char *dir,
	    size_t dir_len, struct span query, const struct listing_view *v,
	    struct hbuf *out);

/*
 * Appends the same as JSON (application/json):
 * {"path":"/dir/","query":"...","partial":true|false,
 * "bound":"depth"|"results"|"time"|"dirs"|null,"results":[{"name":"a/b",
 * "href":"a/b","dir":false,"size":N,"mtime":N},..]}.  "bound" names the
 * bound that stopped the search (results, time or dirs), else "depth"
 * when only deeper folders were left out; "partial" is true whenever
 * "bound" is not null.  "name" is the path with bytes that are not UTF-8
 * replaced by U+FFFD; "href" is the exact path percent-encoded, with a
 * trailing '/' for a folder, usable relative to the folder's URL.
 * Returns 0 or -ENOMEM.
 */
int	search_json(const struct search_result *r, const char *dir,
	    size_t dir_len, struct span query, struct hbuf *out);

#endif /* LANHTTPD_SEARCH_H */
