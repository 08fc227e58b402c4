/*
 * check_search.c - the ?q= search: a real tree with dotfiles, a link
 * loop and a link out of the tree under each link policy; case folding;
 * each bound; decoding the query; the HTML page and the JSON, with a
 * hostile name.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "search.h"
#include "testutil.h"

#define HOSTILE	"<script>\"x\n song.txt"

/* The tree every walk test searches, and one outside it. */
static char *root, *outside;
static char real[PATH_MAX];
static int root_fd = -1;

static void
mk(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	ck_assert_int_eq(mkdir(path, 0755), 0);
}

static void
ln(const char *target, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	ck_assert_int_eq(symlink(target, path), 0);
}

static void
put(const char *rel)
{
	tu_write_file(root, rel, "abc", 3);
}

/*
 *	Music/Song ONE.mp3
 *	Music/sub/deep/song-deep.txt
 *	Music/loopback -> ..		(a loop through the parent)
 *	docs/readme.TXT
 *	docs/.secret-song.txt
 *	.hidden/song-hidden.txt
 *	loop -> .			(a loop to itself)
 *	out -> OUTSIDE			(out of the tree: song-outside.txt)
 *	SONG.dir/
 *	ÉTÉ.txt, ΣΟΦΙΑ.txt, ПЕСНЯ.txt, HOSTILE
 */
static void
setup(void)
{
	root = tu_mkdtemp();
	outside = tu_mkdtemp();
	mk("Music");
	put("Music/Song ONE.mp3");
	mk("Music/sub");
	mk("Music/sub/deep");
	put("Music/sub/deep/song-deep.txt");
	ln("..", "Music/loopback");
	mk("docs");
	put("docs/readme.TXT");
	put("docs/.secret-song.txt");
	mk(".hidden");
	put(".hidden/song-hidden.txt");
	ln(".", "loop");
	tu_write_file(outside, "song-outside.txt", "s", 1);
	ln(outside, "out");
	mk("SONG.dir");
	put("\xc3\x89T\xc3\x89.txt");
	put("\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91.txt");
	put("\xd0\x9f\xd0\x95\xd0\xa1\xd0\x9d\xd0\xaf.txt");
	put(HOSTILE);
	ck_assert_ptr_nonnull(realpath(root, real));
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(root_fd, 0);
}

static void
teardown(void)
{
	close(root_fd);
	root_fd = -1;
	tu_rmtree(root);
	tu_rmtree(outside);
	root = outside = NULL;
}

static struct listing_src
src_of(const char *rel, enum symlink_policy links, bool hidden)
{
	return (struct listing_src){ .rel = rel, .tree = { .fd = root_fd,
	    .real = real, .symlinks = links, .allow_hidden = hidden } };
}

/* Searches the folder rel for q; the result's return code in *rc. */
static void
run(const struct listing_src *src, const char *q,
    const struct search_limits *lim, const struct search_filter *filter,
    struct search_result *r, int *rc)
{
	char path[PATH_MAX];
	int dfd;

	snprintf(path, sizeof(path), "%s/%s", root, src->rel);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	search_result_init(r);
	*rc = search_run(dfd, src, span_make(q, strlen(q)), lim, filter, r);
	close(dfd);
}

static bool
found(const struct search_result *r, const char *path, bool dir)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->paths + r->hits[i].path_off, path) == 0 &&
		    r->hits[i].is_dir == dir)
			return true;
	return false;
}

/* No path twice, and each as long as it says. */
static void
assert_unique(const struct search_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const char *a = r->paths + r->hits[i].path_off;

		ck_assert_uint_eq(strlen(a), r->hits[i].path_len);
		for (size_t j = i + 1; j < r->n; j++)
			ck_assert_str_ne(a, r->paths + r->hits[j].path_off);
	}
}

START_TEST(finds_what_listings_show)
{
	struct listing_src src = src_of("", SYMLINKS_INSIDE, false);
	struct search_result r;
	int rc;

	run(&src, "song", NULL, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.bounds, 0);
	ck_assert(found(&r, "Music/Song ONE.mp3", false));
	ck_assert(found(&r, "Music/sub/deep/song-deep.txt", false));
	ck_assert(found(&r, "SONG.dir", true));
	ck_assert(found(&r, HOSTILE, false));
	/* No dotfile, no dot-folder, nothing out of the tree. */
	ck_assert_uint_eq(r.n, 4);
	assert_unique(&r);
	/* Sorted by path. */
	ck_assert_str_eq(r.paths + r.hits[0].path_off, HOSTILE);
	ck_assert_str_eq(r.paths + r.hits[3].path_off, "SONG.dir");
	ck_assert_uint_eq(r.hits[0].size, 3);
	ck_assert_uint_eq(r.lim.max_depth, SEARCH_DEPTH_DEFAULT);
	search_result_release(&r);
	ck_assert_ptr_null(r.hits);
}
END_TEST

START_TEST(links_loop_back_without_looping)
{
	struct listing_src src = src_of("", SYMLINKS_INSIDE, false);
	struct search_result r;
	int rc;

	/* "loop" and "loopback" are listed (they stay inside), not re-read. */
	run(&src, "o", NULL, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.bounds, 0);
	ck_assert(found(&r, "loop", true));
	ck_assert(found(&r, "Music/loopback", true));
	ck_assert(!found(&r, "loop/loop", true));
	ck_assert(!found(&r, "loop/Music", true));
	ck_assert(!found(&r, "out", true));
	assert_unique(&r);
	/* Root, Music, sub, deep, docs, SONG.dir: each read once. */
	ck_assert_uint_eq(r.dirs, 6);
	search_result_release(&r);
}
END_TEST

START_TEST(no_links_under_symlinks_none)
{
	struct listing_src src = src_of("", SYMLINKS_NONE, false);
	struct search_result r;
	int rc;

	run(&src, "o", NULL, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert(!found(&r, "loop", true) &&
	    !found(&r, "Music/loopback", true));
	ck_assert(!found(&r, "out", true));
	ck_assert(found(&r, "Music/Song ONE.mp3", false));
	search_result_release(&r);
}
END_TEST

START_TEST(all_links_lead_out_of_the_tree)
{
	struct listing_src src = src_of("", SYMLINKS_ALL, false);
	struct search_result r;
	int rc;

	run(&src, "SONG", NULL, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert(found(&r, "out/song-outside.txt", false));
	ck_assert(found(&r, "Music/sub/deep/song-deep.txt", false));
	ck_assert(!found(&r, ".hidden/song-hidden.txt", false));
	ck_assert_uint_eq(r.n, 5);
	assert_unique(&r);
	search_result_release(&r);
}
END_TEST

START_TEST(hidden_files_when_allowed)
{
	struct listing_src src = src_of("", SYMLINKS_INSIDE, true);
	struct search_result r;
	int rc;

	run(&src, "song", NULL, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert(found(&r, ".hidden/song-hidden.txt", false));
	ck_assert(found(&r, "docs/.secret-song.txt", false));
	ck_assert_uint_eq(r.n, 6);
	search_result_release(&r);
}
END_TEST

START_TEST(paths_are_from_the_folder_searched)
{
	struct listing_src src = src_of("Music", SYMLINKS_INSIDE, false);
	struct search_result r;
	int rc;

	run(&src, "SONG", NULL, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert(found(&r, "Song ONE.mp3", false));
	ck_assert(found(&r, "sub/deep/song-deep.txt", false));
	/* loopback -> .. is the root, outside the folder: read, once. */
	ck_assert(found(&r, "loopback/SONG.dir", true));
	ck_assert(!found(&r, "loopback/Music/Song ONE.mp3", false));
	assert_unique(&r);
	search_result_release(&r);
}
END_TEST

/* Leaves out Music/sub, as [access] rules might. */
static bool
not_sub(void *arg, const char *rel, bool is_dir)
{
	int *calls = arg;

	(*calls)++;
	return !(is_dir && strcmp(rel, "Music/sub") == 0);
}

START_TEST(filter_leaves_out_and_does_not_enter)
{
	struct listing_src src = src_of("", SYMLINKS_INSIDE, false);
	int calls = 0, rc;
	struct search_filter f = { .may_see = not_sub, .arg = &calls };
	struct search_result r;

	run(&src, "s", NULL, &f, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert(calls > 0);
	ck_assert(!found(&r, "Music/sub", true));
	ck_assert(!found(&r, "Music/sub/deep/song-deep.txt", false));
	ck_assert(found(&r, "Music/Song ONE.mp3", false));
	search_result_release(&r);
}
END_TEST

struct fold_case {
	const char	*q;
	const char	*path;
};

static const struct fold_case fold_cases[] = {
	{ "sOnG oNe", "Music/Song ONE.mp3" },
	{ "readme.txt", "docs/readme.TXT" },
	{ "\xc3\xa9t\xc3\xa9", "\xc3\x89T\xc3\x89.txt" },	/* été */
	{ "\xc3\x89t\xc3\xa9", "\xc3\x89T\xc3\x89.txt" },	/* Été */
	/* σοφια, and with a final sigma */
	{ "\xcf\x83\xce\xbf\xcf\x86\xce\xb9\xce\xb1",
	    "\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91.txt" },
	{ "\xcf\x82\xce\xbf", "\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91.txt" },
	/* песня */
	{ "\xd0\xbf\xd0\xb5\xd1\x81\xd0\xbd\xd1\x8f",
	    "\xd0\x9f\xd0\x95\xd0\xa1\xd0\x9d\xd0\xaf.txt" },
	{ "<SCRIPT>", HOSTILE },
	{ "\n", HOSTILE },
};

START_TEST(case_is_folded)
{
	const struct fold_case *c = &fold_cases[_i];
	struct listing_src src = src_of("", SYMLINKS_INSIDE, false);
	struct search_result r;
	int rc;

	run(&src, c->q, NULL, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(r.n == 1 && found(&r, c->path, false), "%s: %zu", c->q,
	    r.n);
	search_result_release(&r);
}
END_TEST

START_TEST(empty_and_long_queries)
{
	struct listing_src src = src_of("", SYMLINKS_INSIDE, false);
	char q[SEARCH_QUERY_MAX + 2];
	struct search_result r;
	int rc;

	run(&src, "", NULL, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_uint_eq(r.dirs, 0);
	search_result_release(&r);
	memset(q, 'a', sizeof(q) - 1);
	q[sizeof(q) - 1] = '\0';
	run(&src, q, NULL, NULL, &r, &rc);
	ck_assert_int_eq(rc, -EINVAL);
	q[sizeof(q) - 2] = '\0';
	run(&src, q, NULL, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.n, 0);
	search_result_release(&r);
}
END_TEST

START_TEST(bound_depth)
{
	struct listing_src src = src_of("", SYMLINKS_INSIDE, false);
	struct search_limits lim = SEARCH_LIMITS_DEFAULT;
	struct search_result r;
	int rc;

	lim.max_depth = 1;
	run(&src, "s", &lim, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.bounds, SEARCH_BOUND_DEPTH);
	/* sub is a name in a level-1 folder; it is not read. */
	ck_assert(found(&r, "Music/sub", true));
	ck_assert(!found(&r, "Music/sub/deep", true));
	search_result_release(&r);
	lim.max_depth = 3;
	run(&src, "s", &lim, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.bounds, 0);
	ck_assert(found(&r, "Music/sub/deep/song-deep.txt", false));
	search_result_release(&r);
}
END_TEST

START_TEST(bound_results)
{
	struct listing_src src = src_of("", SYMLINKS_INSIDE, false);
	struct search_limits lim = SEARCH_LIMITS_DEFAULT;
	struct search_result r;
	int rc;

	lim.max_results = 2;
	run(&src, "song", &lim, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.bounds, SEARCH_BOUND_RESULTS);
	ck_assert_uint_eq(r.n, 2);
	search_result_release(&r);
	/* Exactly as many as allowed is complete. */
	lim.max_results = 4;
	run(&src, "song", &lim, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.bounds, 0);
	ck_assert_uint_eq(r.n, 4);
	search_result_release(&r);
}
END_TEST

START_TEST(bound_time)
{
	struct listing_src src = src_of("", SYMLINKS_INSIDE, false);
	struct search_limits lim = SEARCH_LIMITS_DEFAULT;
	struct search_result r;
	int rc;

	lim.max_time_ms = 0;
	run(&src, "song", &lim, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.bounds, SEARCH_BOUND_TIME);
	ck_assert_uint_eq(r.n, 0);
	search_result_release(&r);
}
END_TEST

START_TEST(bound_time_on_a_wide_folder)
{
	struct listing_src src = src_of("wide", SYMLINKS_INSIDE, false);
	struct search_limits lim = SEARCH_LIMITS_DEFAULT;
	struct search_result r;
	char name[64];
	int rc;

	mk("wide");
	for (int i = 0; i < 8000; i++) {
		snprintf(name, sizeof(name), "wide/f%04d", i);
		put(name);
	}
	/*
	 * Looking at 8000 names takes over 10 ms here (1000 take 1.6 ms):
	 * only the clock can stop this search.
	 */
	lim.max_time_ms = 1;
	lim.max_results = SEARCH_RESULTS_MAX;
	run(&src, "f", &lim, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.bounds, SEARCH_BOUND_TIME);
	ck_assert_uint_lt(r.n, 8000);
	search_result_release(&r);
}
END_TEST

START_TEST(bound_dirs)
{
	struct listing_src src = src_of("", SYMLINKS_INSIDE, false);
	struct search_limits lim = SEARCH_LIMITS_DEFAULT;
	struct search_result r;
	int rc;

	lim.max_dirs = 1;
	run(&src, "s", &lim, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.bounds, SEARCH_BOUND_DIRS);
	ck_assert_uint_eq(r.dirs, 1);
	for (size_t i = 0; i < r.n; i++)
		ck_assert_ptr_null(strchr(r.paths + r.hits[i].path_off, '/'));
	search_result_release(&r);
	lim.max_dirs = 6;
	run(&src, "s", &lim, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.bounds, 0);
	search_result_release(&r);
}
END_TEST

START_TEST(limits_are_capped)
{
	struct listing_src src = src_of("", SYMLINKS_INSIDE, false);
	struct search_limits lim = { .max_depth = 1000,
	    .max_results = SIZE_MAX, .max_time_ms = 60000,
	    .max_dirs = SIZE_MAX };
	struct search_result r;
	int rc;

	run(&src, "song", &lim, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.lim.max_depth, SEARCH_DEPTH_MAX);
	ck_assert_uint_eq(r.lim.max_results, SEARCH_RESULTS_MAX);
	search_result_release(&r);
}
END_TEST

START_TEST(not_a_folder)
{
	struct listing_src src = src_of("", SYMLINKS_INSIDE, false);
	struct search_result r;
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/docs/readme.TXT", root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	search_result_init(&r);
	ck_assert_int_eq(search_run(fd, &src, SPAN_LIT("a"), NULL, NULL, &r),
	    -ENOTDIR);
	ck_assert_ptr_null(r.hits);
	close(fd);
}
END_TEST

/* ---- the query ---- */

struct query_case {
	const char	*raw;
	int		 status;
	const char	*want;
};

static const struct query_case query_cases[] = {
	{ "song", 0, "song" },
	{ "a+b", 0, "a b" },
	{ "a%20b", 0, "a b" },
	{ "%2B%25", 0, "+%" },
	{ "%C3%A9t%C3%a9", 0, "\xc3\xa9t\xc3\xa9" },
	{ "++x+y++", 0, "x y" },
	{ "+++", 0, "" },
	{ "", 0, "" },
	{ "%0A", 0, "\n" },
	{ "%00", 400, NULL },
	{ "a%0", 400, NULL },
	{ "a%", 400, NULL },
	{ "%zz", 400, NULL },
	{ "%g1", 400, NULL },
};

START_TEST(query_decoding)
{
	const struct query_case *c = &query_cases[_i];
	char *g = tu_guarded(c->raw, strlen(c->raw));
	char out[SEARCH_QUERY_MAX + 1];
	size_t len = 99;
	int st;

	st = search_query_decode(span_make(g, strlen(c->raw)), out,
	    sizeof(out), &len);
	ck_assert_msg(st == c->status, "%s: %d", c->raw, st);
	if (c->want != NULL) {
		ck_assert_uint_eq(len, strlen(c->want));
		ck_assert_str_eq(out, c->want);
	}
	tu_guard_free(g);
}
END_TEST

START_TEST(query_length_bound)
{
	char raw[SEARCH_QUERY_MAX * 3 + 8], out[SEARCH_QUERY_MAX + 1];
	size_t len;

	memset(raw, 'a', SEARCH_QUERY_MAX + 1);
	ck_assert_int_eq(search_query_decode(span_make(raw, SEARCH_QUERY_MAX),
	    out, sizeof(out), &len), 0);
	ck_assert_uint_eq(len, SEARCH_QUERY_MAX);
	ck_assert_int_eq(search_query_decode(span_make(raw,
	    SEARCH_QUERY_MAX + 1), out, sizeof(out), &len), 400);
	/* Counted once decoded: 256 escapes are 256 bytes. */
	for (size_t i = 0; i < SEARCH_QUERY_MAX; i++)
		memcpy(raw + 3 * i, "%41", 3);
	ck_assert_int_eq(search_query_decode(span_make(raw,
	    3 * SEARCH_QUERY_MAX), out, sizeof(out), &len), 0);
	ck_assert_uint_eq(len, SEARCH_QUERY_MAX);
	/* A buffer too small is refused, never overrun. */
	ck_assert_int_eq(search_query_decode(span_make(raw, 12), out, 4,
	    &len), 400);
}
END_TEST

/* ---- rendering ---- */

/* Appends a hit to r by hand, as search_run() would. */
static void
hit(struct search_result *r, const char *path, bool dir, uint64_t size,
    time_t mtime)
{
	size_t len = strlen(path);

	r->hits = realloc(r->hits, (r->n + 1) * sizeof(*r->hits));
	r->paths = realloc(r->paths, r->paths_len + len + 1);
	ck_assert(r->hits != NULL && r->paths != NULL);
	r->hits[r->n++] = (struct search_hit){ .path_off = r->paths_len,
	    .path_len = len, .is_dir = dir, .size = size, .mtime = mtime };
	memcpy(r->paths + r->paths_len, path, len + 1);
	r->paths_len += len + 1;
}

static char *
render(const struct search_result *r, const char *dir, const char *q,
    const struct listing_view *v, bool json)
{
	struct hbuf out;
	int rc;

	hb_init_heap(&out);
	rc = json ? search_json(r, dir, strlen(dir), span_make(q, strlen(q)),
	    &out) : search_html(r, dir, strlen(dir), span_make(q, strlen(q)),
	    v, &out);
	ck_assert_int_eq(rc, 0);
	hb_add(&out, "", 1);
	ck_assert(!out.overflow);
	return out.p;
}

static void
token_query(void *arg, const char *name, size_t len, struct hbuf *out)
{
	(void)arg;
	(void)name;
	hb_str(out, "?t=T");
	hb_u64(out, len);
}

START_TEST(html_escapes_a_hostile_name)
{
	struct listing_view v = { .lang = LANG_EN, .file_query = token_query };
	struct search_result r;
	char *p;

	search_result_init(&r);
	r.lim = SEARCH_LIMITS_DEFAULT;
	r.lim.max_results = 2;
	r.bounds = SEARCH_BOUND_RESULTS;
	hit(&r, "a b/" HOSTILE, false, 1536, 0);
	hit(&r, "x#y", true, 0, 1735689599);
	p = render(&r, "d/<e>", "<b>\"&", &v, false);
	ck_assert_ptr_nonnull(strstr(p, "<title>Search \xe2\x80\x9c&lt;b&gt;"
	    "&quot;&amp;\xe2\x80\x9d in /d/&lt;e&gt;/</title>"));
	ck_assert_ptr_nonnull(strstr(p, "<form method=\"get\" action=\"./\""));
	ck_assert_ptr_nonnull(strstr(p, "name=\"q\" value=\"&lt;b&gt;&quot;"
	    "&amp;\""));
	ck_assert_ptr_nonnull(strstr(p, "<a href=\"a%20b/%3Cscript%3E%22x%0A"
	    "%20song.txt?t=T24\">a b/&lt;script&gt;&quot;x\xef\xbf\xbd"
	    " song.txt</a>"));
	ck_assert_ptr_nonnull(strstr(p, "<tr class=\"d\"><td class=\"n\">"
	    "<a href=\"x%23y/\">x#y/</a>"));
	ck_assert_ptr_nonnull(strstr(p, "title=\"1536 bytes\">1.5 KiB<"));
	ck_assert_ptr_nonnull(strstr(p, "datetime=\"2024-12-31T23:59:59Z\""));
	ck_assert_ptr_nonnull(strstr(p, "<p class=\"note\">Only the first 2 "
	    "matches are shown.</p>"));
	ck_assert_ptr_nonnull(strstr(p, "2 matches &middot; "));
	ck_assert_ptr_null(strstr(p, "<script"));
	ck_assert_ptr_null(strstr(p, "<b>"));
	ck_assert_ptr_null(strstr(p, "\"x\n"));
	free(p);
	search_result_release(&r);
}
END_TEST

START_TEST(html_notes_for_each_bound)
{
	struct listing_view v = { .lang = LANG_EN };
	struct search_result r;
	char *p;

	search_result_init(&r);
	r.lim = SEARCH_LIMITS_DEFAULT;
	r.bounds = SEARCH_BOUND_TIME | SEARCH_BOUND_DEPTH | SEARCH_BOUND_DIRS;
	p = render(&r, "", "q", &v, false);
	ck_assert_ptr_nonnull(strstr(p, "<p class=\"note\">No matches.</p>"));
	ck_assert_ptr_nonnull(strstr(p, "The search stopped after 2 s; "
	    "results are partial."));
	ck_assert_ptr_nonnull(strstr(p, "Folders deeper than 16 levels were "
	    "not searched."));
	ck_assert_ptr_nonnull(strstr(p, "The search stopped after reading "
	    "20000 folders; results are partial."));
	ck_assert_ptr_nonnull(strstr(p, "<title>Search \xe2\x80\x9cq"
	    "\xe2\x80\x9d in /</title>"));
	ck_assert_ptr_null(strstr(p, "<table>"));
	free(p);
	r.lim.max_time_ms = 1500;
	r.bounds = SEARCH_BOUND_TIME;
	p = render(&r, "", "q", &v, false);
	ck_assert_ptr_nonnull(strstr(p, "after 1500 ms;"));
	ck_assert_ptr_null(strstr(p, "deeper"));
	free(p);
	/* No query yet: the box alone. */
	r.bounds = 0;
	p = render(&r, "", "", &v, false);
	ck_assert_ptr_nonnull(strstr(p, "name=\"q\" value=\"\""));
	ck_assert_ptr_null(strstr(p, "class=\"note\""));
	free(p);
	search_result_release(&r);
}
END_TEST

START_TEST(html_in_chinese)
{
	struct listing_view v = { .lang = LANG_ZH };
	struct search_result r;
	char *p;

	search_result_init(&r);
	r.lim = SEARCH_LIMITS_DEFAULT;
	r.bounds = SEARCH_BOUND_RESULTS | SEARCH_BOUND_TIME;
	hit(&r, "a", false, 1, 0);
	p = render(&r, "音乐", "歌", &v, false);
	ck_assert_ptr_nonnull(strstr(p, "<html lang=\"zh-CN\">"));
	ck_assert_ptr_nonnull(strstr(p, "<title>在 /音乐/ 中搜索\xe2\x80\x9c歌"
	    "\xe2\x80\x9d</title>"));
	ck_assert_ptr_nonnull(strstr(p, "仅显示前 1000 个匹配项。"));
	ck_assert_ptr_nonnull(strstr(p, "搜索在 2 秒后停止，结果不完整。"));
	ck_assert_ptr_nonnull(strstr(p, "1 个匹配项"));
	free(p);
	search_result_release(&r);
}
END_TEST

START_TEST(json_exact)
{
	struct search_result r;
	char *p;

	search_result_init(&r);
	p = render(&r, "", "", NULL, true);
	ck_assert_str_eq(p, "{\"path\":\"/\",\"query\":\"\",\"partial\":false,"
	    "\"bound\":null,\"results\":[\n]}\n");
	free(p);
	r.lim = SEARCH_LIMITS_DEFAULT;
	r.bounds = SEARCH_BOUND_DEPTH | SEARCH_BOUND_TIME;
	hit(&r, "a b/c.txt", false, 3, 0);
	hit(&r, "d", true, 0, -1);
	hit(&r, HOSTILE, false, 1, 1);
	p = render(&r, "x/\"y\"", "<q>", NULL, true);
	ck_assert_str_eq(p, "{\"path\":\"/x/\\\"y\\\"/\",\"query\":"
	    "\"\\u003cq\\u003e\",\"partial\":true,\"bound\":\"time\","
	    "\"results\":[\n"
	    "{\"name\":\"a b/c.txt\",\"href\":\"a%20b/c.txt\",\"dir\":false,"
	    "\"size\":3,\"mtime\":0},\n"
	    "{\"name\":\"d\",\"href\":\"d/\",\"dir\":true,\"size\":0,"
	    "\"mtime\":-1},\n"
	    "{\"name\":\"\\u003cscript\\u003e\\\"x\\n song.txt\",\"href\":"
	    "\"%3Cscript%3E%22x%0A%20song.txt\",\"dir\":false,\"size\":1,"
	    "\"mtime\":1}\n]}\n");
	free(p);
	r.bounds = SEARCH_BOUND_DEPTH;
	p = render(&r, "", "q", NULL, true);
	ck_assert_ptr_nonnull(strstr(p,
	    "\"partial\":true,\"bound\":\"depth\""));
	free(p);
	search_result_release(&r);
}
END_TEST

START_TEST(search_then_render)
{
	struct listing_src src = src_of("", SYMLINKS_INSIDE, false);
	struct listing_view v = { .lang = LANG_EN };
	struct search_result r;
	char *p;
	int rc;

	run(&src, "script", NULL, NULL, &r, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.n, 1);
	p = render(&r, "", "script", &v, false);
	ck_assert_ptr_null(strstr(p, "<script"));
	ck_assert_ptr_nonnull(strstr(p,
	    "href=\"%3Cscript%3E%22x%0A%20song.txt\""));
	free(p);
	search_result_release(&r);
}
END_TEST

static Suite *
search_suite(void)
{
	Suite *s = suite_create("search");
	TCase *tc = tcase_create("walk");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, finds_what_listings_show);
	tcase_add_test(tc, links_loop_back_without_looping);
	tcase_add_test(tc, no_links_under_symlinks_none);
	tcase_add_test(tc, all_links_lead_out_of_the_tree);
	tcase_add_test(tc, hidden_files_when_allowed);
	tcase_add_test(tc, paths_are_from_the_folder_searched);
	tcase_add_test(tc, filter_leaves_out_and_does_not_enter);
	tcase_add_loop_test(tc, case_is_folded, 0,
	    sizeof(fold_cases) / sizeof(fold_cases[0]));
	tcase_add_test(tc, empty_and_long_queries);
	tcase_add_test(tc, bound_depth);
	tcase_add_test(tc, bound_results);
	tcase_add_test(tc, bound_time);
	tcase_add_test(tc, bound_time_on_a_wide_folder);
	tcase_add_test(tc, bound_dirs);
	tcase_add_test(tc, limits_are_capped);
	tcase_add_test(tc, not_a_folder);
	tcase_add_test(tc, search_then_render);
	suite_add_tcase(s, tc);
	tc = tcase_create("query");
	tcase_add_loop_test(tc, query_decoding, 0,
	    sizeof(query_cases) / sizeof(query_cases[0]));
	tcase_add_test(tc, query_length_bound);
	suite_add_tcase(s, tc);
	tc = tcase_create("render");
	tcase_add_test(tc, html_escapes_a_hostile_name);
	tcase_add_test(tc, html_notes_for_each_bound);
	tcase_add_test(tc, html_in_chinese);
	tcase_add_test(tc, json_exact);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(search_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
