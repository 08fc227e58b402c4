/*
 * check_path.c - unit tests for path.h: normalisation of request paths,
 * confined opening under the root, and URL encoding.
 */
#include "path.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define NORM_CAP	4096

/*
 * Renders p[0..n) for a failure message: printable ASCII as is, every
 * other byte (and the backslash) as \xNN, so a NUL or a UTF-8 byte is
 * visible.
 */
static const char *
show(const char *p, size_t n, char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t w = 0;

	for (size_t i = 0; i < n && w + 5 < cap; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			buf[w++] = (char)c;
		} else {
			buf[w++] = '\\';
			buf[w++] = 'x';
			buf[w++] = hex[c >> 4];
			buf[w++] = hex[c & 15];
		}
	}
	buf[w] = '\0';
	return buf;
}

/*
 * path_normalize
 */

struct norm_case {
	const char	*name;
	const char	*in;
	size_t		 in_len;	/* 0: strlen(in) */
	bool		 hidden;	/* allow_hidden */
	size_t		 cap;		/* 0: NORM_CAP */
	int		 status;	/* expected return */
	const char	*out;		/* expected output when status is 0 */
	bool		 slash;		/* expected trailing_slash */
};

#define OK(n, i, o, s)	{ .name = (n), .in = (i), .out = (o), .slash = (s) }
#define OKH(n, i, o, s)	{ .name = (n), .in = (i), .out = (o), .slash = (s), \
			    .hidden = true }
#define ERR(n, i, st)	{ .name = (n), .in = (i), .status = (st) }
#define ERRH(n, i, st)	{ .name = (n), .in = (i), .status = (st), \
			    .hidden = true }
#define CAP(n, i, c, st, o) { .name = (n), .in = (i), .cap = (c), \
			    .status = (st), .out = (o) }

static const struct norm_case norm_cases[] = {
	/* Plain paths, dot segments and empty segments. */
	OK("plain_file", "/index.html", "index.html", false),
	OK("nested_file", "/a/b/c.txt", "a/b/c.txt", false),
	OK("root_slash_is_root", "/", "", true),
	OK("double_slash_is_root", "//", "", true),
	OK("dot_slash_is_root", "/./", "", true),
	OK("dot_segment_dropped", "/a/./b", "a/b", false),
	OK("empty_segment_dropped", "/a//b", "a/b", false),
	OK("many_slashes_collapse", "///a///b///", "a/b", true),
	OK("dotdot_pops_one_segment", "/a/b/../c", "a/c", false),
	OK("dotdot_back_to_root", "/a/..", "", false),
	OK("dotdot_back_to_root_slash", "/a/../", "", true),
	OK("dir_trailing_slash_kept", "/a/", "a", true),
	OK("nested_dir_trailing_slash", "/a/b/", "a/b", true),
	OK("trailing_dot_has_no_slash", "/a/.", "a", false),
	OK("trailing_dot_slash", "/a/./", "a", true),
	OK("leading_dot_segment", "/./a", "a", false),
	OK("dot_and_dotdot_mixed", "/a/b/./../c/", "a/c", true),
	OK("dotdot_pops_two_segments", "/a/b/c/../../d", "a/d", false),
	OK("dotdot_to_root_then_name", "/a/b/../../x", "x", false),
	OK("dots_inside_name_literal", "/a..b/c", "a..b/c", false),
	OK("name_ending_in_dotdot_literal", "/a../b", "a../b", false),
	OK("space_before_dots_literal", "/ ../x", " ../x", false),

	/* Percent-decoding, once. */
	OK("utf8_percent_decoded",
	    "/%E4%B8%AD%E6%96%87%20%E6%96%87%E4%BB%B6.pdf", "中文 文件.pdf",
	    false),
	OK("utf8_lowercase_hex", "/%e4%b8%ad.txt", "中.txt", false),
	OK("utf8_mixed_case_hex", "/%e4%B8%aD.txt", "中.txt", false),
	OK("utf8_raw_bytes_kept", "/中文/名前.txt", "中文/名前.txt",
	    false),
	OK("space_escape_decoded", "/a%20b.txt", "a b.txt", false),
	OK("hash_escape_decoded", "/a%23b", "a#b", false),
	OK("percent_escape_decoded", "/100%25.txt", "100%.txt", false),
	OK("question_escape_decoded", "/why%3F.txt", "why?.txt", false),
	OK("plus_kept_literal", "/a+b.txt", "a+b.txt", false),
	OK("escaped_plus_decoded", "/a%2Bb", "a+b", false),
	OK("uppercase_hex_letters", "/%41%42%43", "ABC", false),
	OK("lowercase_hex_letters", "/%61%62%63", "abc", false),
	OK("encoded_backslash_literal", "/a%5Cb", "a\\b", false),
	OK("decoded_slash_separates", "/a%2Fb", "a/b", false),
	OK("decoded_slash_lowercase", "/a%2fb/", "a/b", true),
	OK("decoded_trailing_slash", "/a%2F", "a", true),
	OK("encoded_dot_dropped", "/a/%2e/b", "a/b", false),
	OK("encoded_dotdot_stays_inside", "/a/b/%2e%2e/c", "a/c", false),
	OK("encoded_slash_dotdot_stays_inside", "/a%2f..%2fb", "b", false),
	OK("double_encoding_decodes_once", "/%252e%252e/x", "%2e%2e/x", false),
	OK("double_encoded_percent_once", "/%2525", "%25", false),
	OK("overlong_utf8_dots_are_bytes", "/%c0%ae%c0%ae/x",
	    "\xc0\xae\xc0\xae/x", false),
	OK("overlong_utf8_slash_is_byte", "/a%c0%afb", "a\xc0\xaf" "b", false),

	/* Climbs above the root. */
	ERR("dotdot_at_root", "/..", 400),
	ERR("dotdot_slash_at_root", "/../", 400),
	ERR("dotdot_etc_passwd", "/../etc/passwd", 400),
	ERR("climb_two_from_depth_one", "/a/../../x", 400),
	ERR("encoded_dotdot_lowercase", "/%2e%2e/x", 400),
	ERR("encoded_dotdot_uppercase", "/%2E%2E/x", 400),
	ERR("half_encoded_dotdot_second", "/.%2e/x", 400),
	ERR("half_encoded_dotdot_first", "/%2e./x", 400),
	ERR("encoded_dotdot_twice", "/a/%2e%2e/%2e%2e/x", 400),
	ERR("dotdot_encoded_slash_etc", "/..%2fetc", 400),
	ERR("encoded_slashes_around_dotdots", "/%2f..%2f..", 400),
	ERR("dot_then_dotdot", "/./../x", 400),
	ERR("deep_climb_at_end", "/a/b/../../..", 400),
	ERR("climb_after_dot", "/a/./../../x", 400),
	ERR("encoded_dotdot_at_end", "/%2e%2e", 400),
	ERR("many_dotdots", "/../../../../../../etc/passwd", 400),
	ERRH("dotdot_refused_with_hidden_allowed", "/../x", 400),

	/* Names that only look like traversal are literal (and hidden). */
	ERR("backslash_dotdot_is_hidden_name", "/..\\..\\etc", 404),
	OKH("backslash_dotdot_literal_name", "/..\\..\\etc", "..\\..\\etc",
	    false),
	ERR("dotdot_semicolon_is_hidden_name", "/..;/x", 404),
	OKH("dotdot_semicolon_literal_name", "/..;/x", "..;/x", false),
	ERR("three_dots_is_hidden_name", "/...", 404),
	OKH("three_dots_literal_name", "/...", "...", false),

	/* The dotfile policy. */
	ERR("dotfile_denied", "/.env", 404),
	ERR("dot_dir_denied", "/a/.git/config", 404),
	ERR("encoded_dotfile_denied", "/%2eenv", 404),
	ERR("dot_dir_trailing_slash_denied", "/.well-known/", 404),
	OKH("dotfile_allowed", "/.env", ".env", false),
	OKH("dot_dir_allowed", "/a/.git/config", "a/.git/config", false),
	OKH("dot_dropped_with_hidden_allowed", "/a/./b", "a/b", false),

	/* NUL, encoded or raw. */
	ERR("nul_escape_alone", "/%00", 400),
	ERR("nul_escape_in_name", "/a%00b", 400),
	ERR("nul_escape_before_extension", "/secret.txt%00.jpg", 400),
	ERR("nul_escape_as_segment", "/a/%00/b", 400),
	{ .name = "raw_nul_byte", .in = "/a\0b", .in_len = 4, .status = 400 },

	/* Malformed escapes. */
	ERR("lone_percent", "/%", 400),
	ERR("one_hex_digit", "/%4", 400),
	ERR("non_hex_digits", "/%zz", 400),
	ERR("bad_first_hex_digit", "/%g0", 400),
	ERR("bad_second_hex_digit", "/%0g", 400),
	ERR("percent_at_end", "/a%", 400),
	ERR("one_digit_at_end", "/a%2", 400),
	ERR("percent_percent", "/%%41", 400),
	ERR("bad_escape_after_good_segment", "/ok/%4x", 400),

	/* Not an origin-form path. */
	ERR("empty_input", "", 400),
	ERR("relative_path", "a/b", 400),
	ERR("asterisk_form", "*", 400),
	ERR("absolute_uri", "http://h/x", 400),
	ERR("encoded_leading_slash", "%2Fa", 400),

	/* The output buffer limit. */
	CAP("fits_cap_exactly", "/abc/def", 8, 0, "abc/def"),
	CAP("one_byte_over_cap", "/abc/def", 7, 414, NULL),
	CAP("root_fits_cap_one", "/", 1, 0, ""),
	CAP("name_over_cap_one", "/a", 1, 414, NULL),
	CAP("decoded_length_counts", "/%41%42%43", 4, 0, "ABC"),
};

/* Checks the invariants every accepted result must hold. */
static void
check_confined(const char *name, const char *out)
{
	const char *seg = out;

	ck_assert_msg(out[0] != '/', "%s: output '%s' begins with '/'", name,
	    out);
	while (*seg != '\0') {
		const char *end = strchr(seg, '/');
		size_t n = end != NULL ? (size_t)(end - seg) : strlen(seg);

		ck_assert_msg(n > 0, "%s: output '%s' has an empty segment",
		    name, out);
		ck_assert_msg(!(n == 2 && seg[0] == '.' && seg[1] == '.'),
		    "%s: output '%s' has a '..' segment", name, out);
		ck_assert_msg(!(n == 1 && seg[0] == '.'),
		    "%s: output '%s' has a '.' segment", name, out);
		if (end == NULL)
			break;
		seg = end + 1;
		ck_assert_msg(*seg != '\0', "%s: output '%s' ends in '/'",
		    name, out);
	}
}

START_TEST(normalize_table)
{
	const struct norm_case *tc = &norm_cases[_i];
	size_t len = tc->in_len != 0 ? tc->in_len : strlen(tc->in);
	size_t cap = tc->cap != 0 ? tc->cap : NORM_CAP;
	char *in = tu_guarded(tc->in, len);
	char *fill = malloc(cap), *out;
	char sin[512], sout[512], sexp[512];
	struct path_result res;
	int st;

	/* The output also ends at a guard page: no write past cap. */
	ck_assert_ptr_nonnull(fill);
	memset(fill, 0xAA, cap);
	out = tu_guarded(fill, cap);
	free(fill);

	st = path_normalize(span_make(in, len), tc->hidden, out, cap, &res);
	show(tc->in, len, sin, sizeof(sin));
	ck_assert_msg(st == tc->status,
	    "%s: path_normalize(\"%s\", hidden=%d): expected %d, got %d",
	    tc->name, sin, tc->hidden, tc->status, st);
	if (tc->status == 0) {
		size_t olen = strnlen(out, cap);

		show(out, olen, sout, sizeof(sout));
		show(tc->out, strlen(tc->out), sexp, sizeof(sexp));
		ck_assert_msg(olen == strlen(tc->out) &&
		    memcmp(out, tc->out, olen) == 0,
		    "%s: path_normalize(\"%s\"): expected \"%s\", got \"%s\"",
		    tc->name, sin, sexp, sout);
		ck_assert_msg(res.len == olen,
		    "%s: \"%s\": res.len %zu, but the output holds %zu bytes",
		    tc->name, sin, res.len, olen);
		ck_assert_msg(res.is_root == (olen == 0),
		    "%s: \"%s\": is_root expected %d, got %d", tc->name, sin,
		    olen == 0, res.is_root);
		if (tc->cap == 0)
			ck_assert_msg(res.trailing_slash == tc->slash,
			    "%s: \"%s\": trailing_slash expected %d, got %d",
			    tc->name, sin, tc->slash, res.trailing_slash);
		check_confined(tc->name, out);
	}
	tu_guard_free(out);
	tu_guard_free(in);
}
END_TEST

/* "/" followed by n bytes of c, in a heap buffer of n + 1 bytes. */
static char *
one_segment(size_t n, char c)
{
	char *p = malloc(n + 1);

	ck_assert_ptr_nonnull(p);
	p[0] = '/';
	memset(p + 1, c, n);
	return p;
}

START_TEST(normalize_accepts_255_byte_segment)
{
	char *raw = one_segment(255, 'n');
	char out[NORM_CAP];
	struct path_result res;
	int st = path_normalize(span_make(raw, 256), false, out, sizeof(out),
	    &res);

	ck_assert_msg(st == 0, "255-byte name: expected 0, got %d", st);
	ck_assert_uint_eq(res.len, 255);
	ck_assert_uint_eq(strlen(out), 255);
	ck_assert_int_eq(memcmp(out, raw + 1, 255), 0);
	free(raw);
}
END_TEST

START_TEST(normalize_refuses_segment_over_255_bytes)
{
	char *raw = one_segment(256, 'n');
	char out[NORM_CAP];
	struct path_result res;
	int st = path_normalize(span_make(raw, 257), false, out, sizeof(out),
	    &res);

	/* No file name on Linux can be that long (NAME_MAX). */
	ck_assert_msg(st == 404, "256-byte name: expected 404, got %d", st);
	free(raw);
}
END_TEST

START_TEST(normalize_counts_decoded_segment_bytes)
{
	/* 255 escapes decode to 255 bytes: long to read, short on disk. */
	char raw[1 + 255 * 3];
	char out[NORM_CAP];
	struct path_result res;
	int st;

	raw[0] = '/';
	for (size_t i = 0; i < 255; i++)
		memcpy(raw + 1 + 3 * i, "%41", 3);
	st = path_normalize(span_make(raw, sizeof(raw)), false, out,
	    sizeof(out), &res);
	ck_assert_msg(st == 0, "255 escaped bytes: expected 0, got %d", st);
	ck_assert_uint_eq(res.len, 255);
	ck_assert_int_eq(out[0], 'A');
	ck_assert_int_eq(out[254], 'A');
}
END_TEST

START_TEST(normalize_long_path_over_cap_is_414)
{
	/* Many short segments: each fits, their sum does not. */
	char raw[4000];
	char out[256];
	struct path_result res;
	int st;

	for (size_t i = 0; i < sizeof(raw); i += 2)
		memcpy(raw + i, "/a", 2);
	st = path_normalize(span_make(raw, sizeof(raw)), false, out,
	    sizeof(out), &res);
	ck_assert_msg(st == 414, "1999 segments into 256 bytes: expected 414, "
	    "got %d", st);
}
END_TEST

START_TEST(normalize_cap_zero_is_414)
{
	char canary = 'Z';
	struct path_result res;
	int st = path_normalize(SPAN_LIT("/a"), false, &canary, 0, &res);

	ck_assert_int_eq(st, 414);
	ck_assert_int_eq(canary, 'Z');
}
END_TEST

/*
 * path_open, on a temporary tree:
 *
 *	parent/root/		the served root
 *	parent/outside/		a sibling the root must not reach
 */

static char	*g_parent;
static char	 g_root[PATH_MAX];
static char	 g_outside[PATH_MAX];
static char	*g_root_real;
static int	 g_root_fd = -1;

static void
at(char *buf, size_t cap, const char *dir, const char *name)
{
	ck_assert_int_lt(snprintf(buf, cap, "%s/%s", dir, name), (int)cap);
}

static void
make_link(const char *target, const char *name)
{
	char path[PATH_MAX];

	at(path, sizeof(path), g_root, name);
	ck_assert_msg(symlink(target, path) == 0, "symlink %s -> %s: %s",
	    path, target, strerror(errno));
}

static void
open_setup(void)
{
	char path[PATH_MAX], target[PATH_MAX];
	char *outside_real;

	g_parent = tu_mkdtemp();
	at(g_root, sizeof(g_root), g_parent, "root");
	at(g_outside, sizeof(g_outside), g_parent, "outside");
	ck_assert_int_eq(mkdir(g_root, 0755), 0);
	ck_assert_int_eq(mkdir(g_outside, 0755), 0);
	at(path, sizeof(path), g_root, "sub");
	ck_assert_int_eq(mkdir(path, 0755), 0);

	tu_write_file(g_root, "file.txt", "inside\n", 7);
	tu_write_file(g_root, "sub/inner.txt", "inner\n", 6);
	tu_write_file(g_outside, "secret.txt", "secret\n", 7);
	/* Dotfiles reached through links (review item 5). */
	tu_write_file(g_root, ".secret", "hidden\n", 7);
	at(path, sizeof(path), g_root, ".hid");
	ck_assert_int_eq(mkdir(path, 0755), 0);
	tu_write_file(g_root, ".hid/inner.txt", "dotdir\n", 7);
	at(path, sizeof(path), g_outside, ".ssh");
	ck_assert_int_eq(mkdir(path, 0755), 0);
	tu_write_file(g_outside, ".ssh/key", "key\n", 4);

	g_root_real = realpath(g_root, NULL);
	ck_assert_ptr_nonnull(g_root_real);
	outside_real = realpath(g_outside, NULL);
	ck_assert_ptr_nonnull(outside_real);

	make_link("file.txt", "link_in");
	make_link("link_in", "link_chain_in");
	at(target, sizeof(target), g_root_real, "file.txt");
	make_link(target, "link_abs_in");
	make_link(g_root_real, "link_abs_root");
	at(target, sizeof(target), outside_real, "secret.txt");
	make_link(target, "link_out");
	make_link("link_out", "link_chain_out");
	make_link("../outside/secret.txt", "link_rel_out");
	make_link("../outside", "escape_dir");
	make_link("sub", "link_sub");
	make_link("../file.txt", "sub/up_in");
	make_link("missing.txt", "link_dangling");
	make_link("/", "link_slash");
	make_link(".secret", "visible");
	make_link(".hid", "vis_dir");
	at(target, sizeof(target), g_root_real, ".secret");
	make_link(target, "visible_abs");
	at(target, sizeof(target), outside_real, ".ssh/key");
	make_link(target, "link_out_dot");
	make_link("sub", "sub_alias");
	ck_assert_int_lt(snprintf(target, sizeof(target),
	    "/proc/self/root%s/file.txt", g_root_real), (int)sizeof(target));
	make_link(target, "link_magic");
	free(outside_real);

	g_root_fd = open(g_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_msg(g_root_fd >= 0, "open %s: %s", g_root, strerror(errno));
}

static void
open_teardown(void)
{
	if (g_root_fd >= 0)
		close(g_root_fd);
	g_root_fd = -1;
	free(g_root_real);
	g_root_real = NULL;
	tu_rmtree(g_parent);
	g_parent = NULL;
}

static const char *
pol_name(enum symlink_policy pol)
{
	switch (pol) {
	case SYMLINKS_INSIDE:
		return "inside";
	case SYMLINKS_ALL:
		return "all";
	case SYMLINKS_NONE:
		return "none";
	}
	return "?";
}

struct open_case {
	const char	*name;
	const char	*rel;
	enum symlink_policy pol;
	int		 status;
	mode_t		 type;		/* S_IFREG, S_IFDIR, when status is 0 */
	const char	*content;	/* first bytes of a regular file */
	bool		 needs_openat2;	/* the fallback cannot do this */
	bool		 hidden;	/* dotfiles allowed */
};

/*
 * Whether the kernel has openat2(2) (5.6 and later; valgrind hides it).
 * Without it path_open() falls back to openat() plus a check of where the
 * file is, which keeps the root but cannot refuse a link in the middle of
 * a path under SYMLINKS_NONE, nor a magic link under SYMLINKS_ALL.
 */
static bool
have_openat2(void)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC };
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));

	if (fd >= 0)
		close(fd);
	return fd >= 0 || errno != ENOSYS;
}

#define OPEN(n, r, p, st, ty, co) { .name = (n), .rel = (r), .pol = (p), \
			    .status = (st), .type = (ty), .content = (co) }
/* A row with dotfiles allowed. */
#define OPEN_HIDDEN(n, r, p, st, ty, co) { .name = (n), .rel = (r), \
			    .pol = (p), .status = (st), .type = (ty), \
			    .content = (co), .hidden = true }
/* A row only openat2(2) can satisfy; skipped on kernels without it. */
#define OPEN_KERNEL(n, r, p, st, ty, co) { .name = (n), .rel = (r), \
			    .pol = (p), .status = (st), .type = (ty), \
			    .content = (co), .needs_openat2 = true }

static const struct open_case open_cases[] = {
	OPEN("regular_file_opens", "file.txt", SYMLINKS_INSIDE, 0, S_IFREG,
	    "inside"),
	OPEN("regular_file_opens_under_none", "file.txt", SYMLINKS_NONE, 0,
	    S_IFREG, "inside"),
	OPEN("file_in_subdir_opens", "sub/inner.txt", SYMLINKS_INSIDE, 0,
	    S_IFREG, "inner"),
	OPEN("missing_file_is_404", "nope.txt", SYMLINKS_INSIDE, 404, 0, NULL),
	OPEN("missing_dir_is_404", "nope/x.txt", SYMLINKS_INSIDE, 404, 0, NULL),
	OPEN("file_used_as_dir_is_404", "file.txt/x", SYMLINKS_INSIDE, 404, 0,
	    NULL),
	OPEN("directory_opens", "sub", SYMLINKS_INSIDE, 0, S_IFDIR, NULL),
	OPEN("root_itself_opens", "", SYMLINKS_INSIDE, 0, S_IFDIR, NULL),

	OPEN("link_inside_opens_under_inside", "link_in", SYMLINKS_INSIDE, 0,
	    S_IFREG, "inside"),
	OPEN("link_inside_opens_under_all", "link_in", SYMLINKS_ALL, 0, S_IFREG,
	    "inside"),
	OPEN("link_inside_refused_under_none", "link_in", SYMLINKS_NONE, 403, 0,
	    NULL),
	OPEN("link_chain_inside_opens", "link_chain_in", SYMLINKS_INSIDE, 0,
	    S_IFREG, "inside"),
	OPEN("relative_link_with_dotdot_inside_opens", "sub/up_in",
	    SYMLINKS_INSIDE, 0, S_IFREG, "inside"),
	OPEN("dir_link_inside_opens", "link_sub/inner.txt", SYMLINKS_INSIDE, 0,
	    S_IFREG, "inner"),
	OPEN_KERNEL("dir_link_inside_refused_under_none", "link_sub/inner.txt",
	    SYMLINKS_NONE, 403, 0, NULL),

	OPEN("absolute_link_inside_opens_under_inside", "link_abs_in",
	    SYMLINKS_INSIDE, 0, S_IFREG, "inside"),
	OPEN("absolute_link_inside_opens_under_all", "link_abs_in",
	    SYMLINKS_ALL, 0, S_IFREG, "inside"),
	OPEN("absolute_link_inside_refused_under_none", "link_abs_in",
	    SYMLINKS_NONE, 403, 0, NULL),
	OPEN("absolute_link_to_root_opens", "link_abs_root", SYMLINKS_INSIDE, 0,
	    S_IFDIR, NULL),

	OPEN("link_outside_refused_under_inside", "link_out", SYMLINKS_INSIDE,
	    403, 0, NULL),
	OPEN("link_outside_refused_under_none", "link_out", SYMLINKS_NONE, 403,
	    0, NULL),
	OPEN("link_outside_opens_under_all", "link_out", SYMLINKS_ALL, 0,
	    S_IFREG, "secret"),
	OPEN("chain_to_outside_link_refused", "link_chain_out", SYMLINKS_INSIDE,
	    403, 0, NULL),
	OPEN("relative_link_outside_refused_under_inside", "link_rel_out",
	    SYMLINKS_INSIDE, 403, 0, NULL),
	OPEN("relative_link_outside_refused_under_none", "link_rel_out",
	    SYMLINKS_NONE, 403, 0, NULL),
	OPEN("relative_link_outside_opens_under_all", "link_rel_out",
	    SYMLINKS_ALL, 0, S_IFREG, "secret"),
	OPEN("escaping_dir_link_refused_under_inside", "escape_dir/secret.txt",
	    SYMLINKS_INSIDE, 403, 0, NULL),
	OPEN("escaping_dir_link_refused_under_none", "escape_dir/secret.txt",
	    SYMLINKS_NONE, 403, 0, NULL),
	OPEN("escaping_dir_link_itself_refused", "escape_dir", SYMLINKS_INSIDE,
	    403, 0, NULL),
	OPEN("link_to_filesystem_root_refused", "link_slash", SYMLINKS_INSIDE,
	    403, 0, NULL),
	OPEN_KERNEL("magic_link_refused_under_all", "link_magic",
	    SYMLINKS_ALL, 403, 0, NULL),
	OPEN("dangling_link_is_404", "link_dangling", SYMLINKS_INSIDE, 404, 0,
	    NULL),

	/*
	 * Review item 5: the dotfile rule holds for what a name resolves
	 * to, not only for the name asked for.
	 */
	OPEN("link_to_dotfile_is_404", "visible", SYMLINKS_INSIDE, 404, 0,
	    NULL),
	OPEN("link_to_dotfile_is_404_under_all", "visible", SYMLINKS_ALL, 404,
	    0, NULL),
	OPEN("absolute_link_to_dotfile_is_404", "visible_abs",
	    SYMLINKS_INSIDE, 404, 0, NULL),
	OPEN("link_into_dot_folder_is_404", "vis_dir/inner.txt",
	    SYMLINKS_INSIDE, 404, 0, NULL),
	OPEN("link_to_outside_dot_folder_is_404", "link_out_dot",
	    SYMLINKS_ALL, 404, 0, NULL),
	OPEN("link_to_plain_folder_still_opens", "sub_alias/inner.txt",
	    SYMLINKS_INSIDE, 0, S_IFREG, "inner"),
	OPEN_HIDDEN("link_to_dotfile_opens_when_allowed", "visible",
	    SYMLINKS_INSIDE, 0, S_IFREG, "hidden"),
	OPEN_HIDDEN("link_into_dot_folder_opens_when_allowed",
	    "vis_dir/inner.txt", SYMLINKS_INSIDE, 0, S_IFREG, "dotdir"),

	/* path_normalize() never passes "..", but the kernel check holds. */
	OPEN("dotdot_rel_refused_under_inside", "../outside/secret.txt",
	    SYMLINKS_INSIDE, 403, 0, NULL),
	OPEN("dotdot_rel_refused_under_none", "../outside/secret.txt",
	    SYMLINKS_NONE, 403, 0, NULL),
};

START_TEST(open_table)
{
	const struct open_case *tc = &open_cases[_i];
	int fd = -2, st, fl;
	struct stat sb;

	if (tc->needs_openat2 && !have_openat2())
		return;
	st = path_open(&(struct path_root){ .fd = g_root_fd,
	    .real = g_root_real, .symlinks = tc->pol,
	    .allow_hidden = tc->hidden }, tc->rel, &fd);
	ck_assert_msg(st == tc->status,
	    "%s: path_open(\"%s\", %s): expected %d, got %d", tc->name,
	    tc->rel, pol_name(tc->pol), tc->status, st);
	if (st != 0) {
		ck_assert_msg(fd == -1, "%s: failed open left fd %d", tc->name,
		    fd);
		return;
	}
	ck_assert_msg(fd >= 0, "%s: status 0 but fd %d", tc->name, fd);
	ck_assert_int_eq(fstat(fd, &sb), 0);
	ck_assert_msg((sb.st_mode & S_IFMT) == tc->type,
	    "%s: \"%s\": expected file type %o, got %o", tc->name, tc->rel,
	    (unsigned)tc->type, (unsigned)(sb.st_mode & S_IFMT));
	ck_assert_msg(fcntl(fd, F_GETFD) & FD_CLOEXEC,
	    "%s: fd is not close-on-exec", tc->name);
	fl = fcntl(fd, F_GETFL);
	ck_assert_msg((fl & O_ACCMODE) == O_RDONLY, "%s: fd is not read-only",
	    tc->name);
	ck_assert_msg(fl & O_NONBLOCK, "%s: fd is not non-blocking", tc->name);
	if (tc->content != NULL) {
		char buf[32] = { 0 };
		size_t n = strlen(tc->content);

		ck_assert_int_eq(pread(fd, buf, n, 0), (ssize_t)n);
		ck_assert_msg(memcmp(buf, tc->content, n) == 0,
		    "%s: expected content \"%s\", got \"%s\"", tc->name,
		    tc->content, buf);
	}
	close(fd);
}
END_TEST

START_TEST(open_fifo_does_not_block)
{
	char path[PATH_MAX];
	struct timespec t0, t1;
	struct stat sb;
	double secs;
	int fd = -1, st;

	at(path, sizeof(path), g_root, "fifo");
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* No writer exists: a blocking open would hang until the timeout. */
	st = path_open(&(struct path_root){ .fd = g_root_fd,
	    .real = g_root_real }, "fifo", &fd);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(st == 0, "fifo: expected 0, got %d", st);
	ck_assert_msg(secs < 1.0, "fifo: path_open took %.3f s", secs);
	ck_assert_int_eq(fstat(fd, &sb), 0);
	/* The caller, not path_open(), refuses non-regular files. */
	ck_assert(S_ISFIFO(sb.st_mode));
	close(fd);
}
END_TEST

START_TEST(open_unreadable_file_is_403)
{
	char path[PATH_MAX];
	int fd = -1, st;

	tu_write_file(g_root, "noread.txt", "x", 1);
	at(path, sizeof(path), g_root, "noread.txt");
	ck_assert_int_eq(chmod(path, 0), 0);
	st = path_open(&(struct path_root){ .fd = g_root_fd,
	    .real = g_root_real }, "noread.txt", &fd);
	if (geteuid() == 0) {
		/* Root reads anything: nothing to assert. */
		if (fd >= 0)
			close(fd);
		return;
	}
	ck_assert_msg(st == 403, "mode 000 file: expected 403, got %d", st);
	ck_assert_int_eq(fd, -1);
}
END_TEST

/*
 * path_encode
 */

struct enc_case {
	const char	*name;
	const char	*in;
	size_t		 in_len;	/* 0: strlen(in) */
	const char	*out;
};

static const struct enc_case enc_cases[] = {
	{ "unreserved_kept", "AZaz09-._~", 0, "AZaz09-._~" },
	{ "slash_kept", "/a/b/", 0, "/a/b/" },
	{ "safe_sub_delims_kept", "!$'()*,;=:@", 0, "!$'()*,;=:@" },
	{ "space_encoded", "a b", 0, "a%20b" },
	{ "hash_encoded", "a#b", 0, "a%23b" },
	{ "percent_encoded", "100%", 0, "100%25" },
	{ "question_encoded", "why?", 0, "why%3F" },
	{ "ampersand_encoded", "a&b", 0, "a%26b" },
	{ "plus_encoded", "a+b", 0, "a%2Bb" },
	{ "quote_and_angles_encoded", "\"<>", 0, "%22%3C%3E" },
	{ "backslash_encoded", "a\\b", 0, "a%5Cb" },
	{ "newline_encoded", "a\nb", 0, "a%0Ab" },
	{ "del_encoded", "\x7f", 0, "%7F" },
	{ "nul_encoded", "a\0b", 3, "a%00b" },
	{ "utf8_bytes_uppercase_hex", "中文.pdf", 0,
	    "%E4%B8%AD%E6%96%87.pdf" },
	{ "high_byte_encoded", "\xff", 0, "%FF" },
	{ "empty_input", "", 0, "" },
};

START_TEST(encode_table)
{
	const struct enc_case *tc = &enc_cases[_i];
	size_t len = tc->in_len != 0 ? tc->in_len : strlen(tc->in);
	char out[256], sin[256];
	size_t n = path_encode(tc->in, len, out, sizeof(out));

	show(tc->in, len, sin, sizeof(sin));
	ck_assert_msg(strcmp(out, tc->out) == 0,
	    "%s: path_encode(\"%s\"): expected \"%s\", got \"%s\"", tc->name,
	    sin, tc->out, out);
	ck_assert_msg(n == strlen(tc->out),
	    "%s: path_encode(\"%s\"): expected length %zu, got %zu",
	    tc->name, sin, strlen(tc->out), n);
}
END_TEST

START_TEST(encode_truncation_reports_full_length)
{
	static const char *const inputs[] = {
		"plain.txt", "a b c", "中文 文件.pdf", "%%%", "a/b?c#d",
	};

	for (size_t k = 0; k < sizeof(inputs) / sizeof(inputs[0]); k++) {
		const char *in = inputs[k];
		char full[256];
		size_t need = path_encode(in, strlen(in), full, sizeof(full));

		ck_assert_uint_eq(need, strlen(full));
		for (size_t cap = 1; cap <= need + 1; cap++) {
			char *fill = malloc(cap), *out;
			size_t n, w;

			ck_assert_ptr_nonnull(fill);
			memset(fill, 'X', cap);
			/* Ends at a guard page: a write past cap crashes. */
			out = tu_guarded(fill, cap);
			free(fill);
			n = path_encode(in, strlen(in), out, cap);
			w = strnlen(out, cap);
			ck_assert_msg(n == need,
			    "\"%s\" cap %zu: expected return %zu, got %zu", in,
			    cap, need, n);
			ck_assert_msg(w < cap, "\"%s\" cap %zu: output not "
			    "NUL-terminated", in, cap);
			if (cap > need) {
				ck_assert_str_eq(out, full);
			} else {
				ck_assert_msg(n >= cap, "\"%s\" cap %zu: "
				    "truncation not reported", in, cap);
				/* A prefix that never splits a %XX escape. */
				ck_assert_msg(memcmp(out, full, w) == 0 &&
				    (w < 1 || out[w - 1] != '%') &&
				    (w < 2 || out[w - 2] != '%'),
				    "\"%s\" cap %zu: bad prefix \"%s\"", in,
				    cap, out);
			}
			tu_guard_free(out);
		}
	}
}
END_TEST

START_TEST(encode_cap_zero_writes_nothing)
{
	char canary = 'Z';

	ck_assert_uint_eq(path_encode("a b", 3, &canary, 0), 5);
	ck_assert_int_eq(canary, 'Z');
}
END_TEST

struct set_case {
	const char	*in;
	enum pct_set	 set;
	const char	*want;
};

static const struct set_case set_cases[] = {
	{ "a b/c", PCT_PATH, "a%20b/c" },
	{ "a:b(1)", PCT_PATH, "a:b(1)" },
	{ "a:b(1)", PCT_STRICT, "a%3Ab%281%29" },
	{ "x/y z", PCT_STRICT, "x/y%20z" },
	{ "<>\"'#?%&", PCT_STRICT, "%3C%3E%22%27%23%3F%25%26" },
	{ "a/b", PCT_ATTR_CHAR, "a%2Fb" },
	{ "!#$&+^`|~-._", PCT_ATTR_CHAR, "!#$&+^`|~-._" },
	{ "(;=)", PCT_ATTR_CHAR, "%28%3B%3D%29" },
	{ "\xe4\xb8\xad\xff", PCT_STRICT, "%E4%B8%AD%FF" },
};

START_TEST(encode_set_table)
{
	const struct set_case *c = &set_cases[_i];
	size_t len = strlen(c->in), need;
	char *g = tu_guarded(c->in, len), out[128];

	need = path_encode_set(g, len, c->set, out, sizeof(out));
	ck_assert_str_eq(out, c->want);
	ck_assert_uint_eq(need, strlen(c->want));
	tu_guard_free(g);
}
END_TEST

START_TEST(encode_set_reports_truncation)
{
	char out[4];
	size_t need = path_encode_set("a b c", 5, PCT_STRICT, out, sizeof(out));

	ck_assert_uint_eq(need, 9);
	ck_assert_uint_ge(need, sizeof(out));
	ck_assert_uint_lt(strlen(out), sizeof(out));
	/* A NUL byte in the input is encoded, never kept. */
	need = path_encode_set("a\0b", 3, PCT_PATH, out, sizeof(out));
	ck_assert_uint_eq(need, 5);
}
END_TEST

static Suite *
path_suite(void)
{
	Suite *s = suite_create("path");
	TCase *tc;

	tc = tcase_create("normalize");
	tcase_add_loop_test(tc, normalize_table, 0,
	    (int)(sizeof(norm_cases) / sizeof(norm_cases[0])));
	tcase_add_test(tc, normalize_accepts_255_byte_segment);
	tcase_add_test(tc, normalize_refuses_segment_over_255_bytes);
	tcase_add_test(tc, normalize_counts_decoded_segment_bytes);
	tcase_add_test(tc, normalize_long_path_over_cap_is_414);
	tcase_add_test(tc, normalize_cap_zero_is_414);
	suite_add_tcase(s, tc);

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, open_setup, open_teardown);
	tcase_add_loop_test(tc, open_table, 0,
	    (int)(sizeof(open_cases) / sizeof(open_cases[0])));
	tcase_add_test(tc, open_fifo_does_not_block);
	tcase_add_test(tc, open_unreadable_file_is_403);
	suite_add_tcase(s, tc);

	tc = tcase_create("encode");
	tcase_add_loop_test(tc, encode_table, 0,
	    (int)(sizeof(enc_cases) / sizeof(enc_cases[0])));
	tcase_add_test(tc, encode_truncation_reports_full_length);
	tcase_add_test(tc, encode_cap_zero_writes_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("encode_set");
	tcase_add_loop_test(tc, encode_set_table, 0,
	    sizeof(set_cases) / sizeof(set_cases[0]));
	tcase_add_test(tc, encode_set_reports_truncation);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(path_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
