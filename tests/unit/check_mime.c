/*
 * check_mime.c - unit tests for mime.h: the built-in table, lookups,
 * additions and overrides, and mime.types files.
 */
#include "mime.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static struct mime_table *g_t;

static void
table_setup(void)
{
	g_t = mime_new();
	ck_assert_ptr_nonnull(g_t);
	mime_finish(g_t);
}

static void
table_teardown(void)
{
	mime_free(g_t);
	g_t = NULL;
}

/* Renders s for a failure message, control bytes as \xNN. */
static const char *
show(const char *s, char *buf, size_t cap)
{
	size_t w = 0;

	for (; *s != '\0' && w + 5 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f)
			buf[w++] = (char)c;
		else
			w += (size_t)snprintf(buf + w, cap - w, "\\x%02x", c);
	}
	buf[w] = '\0';
	return buf;
}

static const char *
lookup(const struct mime_table *t, const char *name)
{
	return mime_lookup(t, name, strlen(name));
}

/*
 * The built-in table.
 */

/* Extensions a file server for a home network should know. */
static const char *const expected_exts[] = {
	"html", "htm", "css", "js", "mjs", "json", "map", "xml", "xhtml",
	"wasm", "webmanifest", "rss", "atom",
	"txt", "text", "log", "md", "markdown", "csv", "tsv", "ics", "vcf",
	"vtt", "srt", "ini", "conf", "yaml", "yml", "toml", "c", "h", "py",
	"sh",
	"png", "jpg", "jpeg", "jpe", "gif", "webp", "avif", "heic", "heif",
	"svg", "svgz", "ico", "bmp", "tif", "tiff", "jxl", "psd",
	"mp3", "m4a", "aac", "flac", "ogg", "oga", "opus", "wav", "weba",
	"mid", "midi", "m3u",
	"mp4", "m4v", "mkv", "mka", "mov", "webm", "avi", "wmv", "flv",
	"mpg", "mpeg", "ogv", "3gp", "ts", "m2ts", "m3u8", "mpd",
	"woff", "woff2", "ttf", "otf", "eot",
	"zip", "gz", "tgz", "bz2", "xz", "zst", "tar", "7z", "rar", "deb",
	"rpm", "dmg", "iso", "apk", "exe", "msi", "jar",
	"pdf", "epub", "mobi", "djvu", "rtf", "doc", "docx", "xls", "xlsx",
	"ppt", "pptx", "odt", "ods", "odp", "ps", "torrent", "gpx",
};

START_TEST(builtin_has_at_least_80_extensions)
{
	size_t n = sizeof(expected_exts) / sizeof(expected_exts[0]);
	size_t found = 0;
	char missing[1024] = "";

	for (size_t i = 0; i < n; i++) {
		char name[32];
		const char *type;

		/* The list itself must not repeat an extension. */
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(strcmp(expected_exts[i], expected_exts[j])
			    != 0, "test list repeats '%s'", expected_exts[i]);
		snprintf(name, sizeof(name), "file.%s", expected_exts[i]);
		type = lookup(g_t, name);
		if (strcmp(type, MIME_DEFAULT) != 0) {
			found++;
		} else if (strlen(missing) + strlen(expected_exts[i]) + 2 <
		    sizeof(missing)) {
			strcat(missing, " ");
			strcat(missing, expected_exts[i]);
		}
	}
	ck_assert_msg(found >= 80, "expected >= 80 known extensions of %zu, "
	    "got %zu; missing:%s", n, found, missing);
	ck_assert_msg(mime_count(g_t) >= 80, "expected >= 80 entries, got %zu",
	    mime_count(g_t));
}
END_TEST

struct lookup_case {
	const char	*name;
	const char	*in;		/* file name or path */
	const char	*type;		/* expected */
};

static const struct lookup_case lookup_cases[] = {
	/* Textual types carry a charset. */
	{ "html_is_utf8_text", "index.html", "text/html; charset=utf-8" },
	{ "htm_is_utf8_text", "index.htm", "text/html; charset=utf-8" },
	{ "txt_is_utf8_text", "notes.txt", "text/plain; charset=utf-8" },
	{ "css_is_utf8_text", "site.css", "text/css; charset=utf-8" },
	{ "js_is_utf8_text", "app.js", "text/javascript; charset=utf-8" },
	{ "json_gets_charset", "data.json",
	    "application/json; charset=utf-8" },
	{ "svg_gets_charset", "logo.svg", "image/svg+xml; charset=utf-8" },
	{ "markdown_is_utf8_text", "README.md",
	    "text/markdown; charset=utf-8" },
	{ "csv_is_utf8_text", "table.csv", "text/csv; charset=utf-8" },
	{ "vtt_is_utf8_text", "subs.vtt", "text/vtt; charset=utf-8" },
	{ "srt_gets_charset", "subs.srt",
	    "application/x-subrip; charset=utf-8" },
	{ "xml_gets_charset", "feed.xml", "application/xml; charset=utf-8" },

	/* Binary types do not. */
	{ "png_is_binary", "a.png", "image/png" },
	{ "jpg_is_jpeg", "a.jpg", "image/jpeg" },
	{ "jpeg_is_jpeg", "a.jpeg", "image/jpeg" },
	{ "gif_is_binary", "a.gif", "image/gif" },
	{ "webp_is_binary", "a.webp", "image/webp" },
	{ "avif_is_binary", "a.avif", "image/avif" },
	{ "heic_is_binary", "a.heic", "image/heic" },
	{ "mp3_is_mpeg_audio", "song.mp3", "audio/mpeg" },
	{ "m4a_is_mp4_audio", "song.m4a", "audio/mp4" },
	{ "flac_is_binary", "song.flac", "audio/flac" },
	{ "ogg_is_binary", "song.ogg", "audio/ogg" },
	{ "opus_is_ogg_audio", "song.opus", "audio/ogg" },
	{ "wav_is_binary", "song.wav", "audio/wav" },
	{ "mp4_is_binary", "film.mp4", "video/mp4" },
	{ "mkv_is_matroska", "film.mkv", "video/x-matroska" },
	{ "mov_is_quicktime", "film.mov", "video/quicktime" },
	{ "webm_is_binary", "film.webm", "video/webm" },
	{ "ts_is_mpeg_ts", "film.ts", "video/mp2t" },
	{ "woff2_is_font", "f.woff2", "font/woff2" },
	{ "zip_is_binary", "a.zip", "application/zip" },
	{ "pdf_is_binary", "doc.pdf", "application/pdf" },
	{ "epub_is_binary", "book.epub", "application/epub+zip" },
	{ "wasm_is_binary", "mod.wasm", "application/wasm" },
	{ "docx_is_ooxml", "report.docx", "application/vnd.openxmlformats-"
	    "officedocument.wordprocessingml.document" },

	/* How the extension is found. */
	{ "uppercase_name_matches", "PHOTO.JPG", "image/jpeg" },
	{ "mixed_case_name_matches", "Photo.JpEg", "image/jpeg" },
	{ "last_dot_wins", "a.tar.gz", "application/gzip" },
	{ "last_dot_wins_inner_known", "a.png.txt",
	    "text/plain; charset=utf-8" },
	{ "path_with_dirs_matches", "a/b.d/c.pdf", "application/pdf" },
	{ "dot_in_dir_name_ignored", "dir.d/file", MIME_DEFAULT },
	{ "dot_in_dir_name_ignored_html", "x.html/README", MIME_DEFAULT },
	{ "no_extension_is_default", "Makefile", MIME_DEFAULT },
	{ "trailing_dot_is_default", "file.", MIME_DEFAULT },
	{ "empty_name_is_default", "", MIME_DEFAULT },
	{ "unknown_extension_is_default", "a.nosuchext", MIME_DEFAULT },
	{ "overlong_extension_is_default", "a.abcdefghijklmnop",
	    MIME_DEFAULT },
	{ "dotfile_name_is_not_extension", ".bashrc", MIME_DEFAULT },
};

START_TEST(lookup_table)
{
	const struct lookup_case *tc = &lookup_cases[_i];
	const char *got = lookup(g_t, tc->in);

	ck_assert_msg(strcmp(got, tc->type) == 0,
	    "%s: mime_lookup(\"%s\"): expected \"%s\", got \"%s\"", tc->name,
	    tc->in, tc->type, got);
}
END_TEST

START_TEST(lookup_uses_only_len_bytes)
{
	/* "a.pdf.png" cut after ".pdf": the rest is not part of the name. */
	ck_assert_str_eq(mime_lookup(g_t, "a.pdf.png", 5), "application/pdf");
	ck_assert_str_eq(mime_lookup(g_t, "a.pdf", 0), MIME_DEFAULT);
}
END_TEST

/*
 * mime_add
 */

START_TEST(add_overrides_builtin_last_wins)
{
	struct mime_table *t = mime_new();

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(mime_add(t, "png", "image/x-first"), 0);
	ck_assert_int_eq(mime_add(t, "PNG", "image/x-second"), 0);
	mime_finish(t);
	ck_assert_str_eq(lookup(t, "a.png"), "image/x-second");
	/* Neighbours in the sorted table are untouched. */
	ck_assert_str_eq(lookup(t, "a.pdf"), "application/pdf");
	ck_assert_str_eq(lookup(t, "a.gif"), "image/gif");
	mime_free(t);
}
END_TEST

START_TEST(add_new_extension)
{
	struct mime_table *t = mime_new();
	size_t before;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(mime_add(t, "lanx", "application/x-lan"), 0);
	mime_finish(t);
	before = mime_count(g_t);
	ck_assert_uint_eq(mime_count(t), before + 1);
	ck_assert_str_eq(lookup(t, "a.lanx"), "application/x-lan");
	ck_assert_str_eq(lookup(t, "A.LANX"), "application/x-lan");
	mime_free(t);
}
END_TEST

START_TEST(add_text_type_gets_charset)
{
	struct mime_table *t = mime_new();

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(mime_add(t, "foo", "text/x-foo"), 0);
	ck_assert_int_eq(mime_add(t, "bar", "text/x-bar; charset=latin1"), 0);
	ck_assert_int_eq(mime_add(t, "baz", "application/x-baz"), 0);
	mime_finish(t);
	ck_assert_str_eq(lookup(t, "x.foo"), "text/x-foo; charset=utf-8");
	/* A type with parameters is kept as given. */
	ck_assert_str_eq(lookup(t, "x.bar"), "text/x-bar; charset=latin1");
	ck_assert_str_eq(lookup(t, "x.baz"), "application/x-baz");
	mime_free(t);
}
END_TEST

struct bad_add_case {
	const char	*name;
	const char	*ext;
	const char	*type;
};

static const struct bad_add_case bad_add_cases[] = {
	{ "empty_extension", "", "text/plain" },
	{ "extension_with_slash", "a/b", "text/plain" },
	{ "extension_with_dot", "tar.gz", "application/gzip" },
	{ "extension_with_space", "a b", "text/plain" },
	{ "extension_with_tab", "a\tb", "text/plain" },
	{ "extension_with_control_char", "a\x01", "text/plain" },
	{ "extension_with_del", "a\x7f", "text/plain" },
	{ "extension_too_long", "abcdefghijklmnop", "text/plain" },
	{ "type_without_slash", "foo", "textplain" },
	{ "type_empty", "foo", "" },
	{ "type_starts_with_slash", "foo", "/plain" },
	{ "type_ends_with_slash", "foo", "text/" },
	{ "type_with_newline", "foo", "text/pl\nain" },
	{ "type_with_cr", "foo", "text/plain\r" },
	{ "type_with_del", "foo", "text/pl\x7f" "ain" },
};

START_TEST(add_rejects_bad_input)
{
	const struct bad_add_case *tc = &bad_add_cases[_i];
	struct mime_table *t = mime_new();
	char sext[64], stype[64];
	size_t before;
	int r;

	ck_assert_ptr_nonnull(t);
	mime_finish(t);
	before = mime_count(t);
	mime_free(t);

	t = mime_new();
	ck_assert_ptr_nonnull(t);
	r = mime_add(t, tc->ext, tc->type);
	ck_assert_msg(r == -EINVAL,
	    "%s: mime_add(\"%s\", \"%s\"): expected %d, got %d", tc->name,
	    show(tc->ext, sext, sizeof(sext)),
	    show(tc->type, stype, sizeof(stype)), -EINVAL, r);
	mime_finish(t);
	ck_assert_uint_eq(mime_count(t), before);
	mime_free(t);
}
END_TEST

START_TEST(add_rejects_overlong_type)
{
	struct mime_table *t = mime_new();
	char type[300];

	ck_assert_ptr_nonnull(t);
	memcpy(type, "application/", 12);
	memset(type + 12, 'x', sizeof(type) - 13);
	type[sizeof(type) - 1] = '\0';
	ck_assert_int_eq(mime_add(t, "foo", type), -EINVAL);
	mime_free(t);
}
END_TEST

START_TEST(add_after_finish_is_refused)
{
	ck_assert_int_eq(mime_add(g_t, "late", "text/plain"), -EINVAL);
	ck_assert_str_eq(lookup(g_t, "a.late"), MIME_DEFAULT);
}
END_TEST

START_TEST(free_null_is_noop)
{
	mime_free(NULL);
}
END_TEST

/*
 * mime_load_types_file
 */

static const char types_text[] =
    "# mime.types for a test\n"
    "#text/x-commented commented\n"
    "\n"
    "text/x-alpha\talpha alp\n"
    "application/x-beta   beta  bet\tbetty\n"
    "application/x-lonely\n"
    "image/x-gamma gam\r\n"
    "application/x-mypng png\n"
    "text/x-override alpha\n"
    "not-a-type bogus\n";

START_TEST(types_file_loads_and_overrides)
{
	char *dir = tu_mkdtemp();
	char path[4096];
	struct mime_table *t = mime_new();

	ck_assert_ptr_nonnull(t);
	tu_write_file(dir, "mime.types", types_text, sizeof(types_text) - 1);
	snprintf(path, sizeof(path), "%s/mime.types", dir);
	ck_assert_int_eq(mime_load_types_file(t, path), 0);
	/* An ini [mime] entry comes later and beats the file. */
	ck_assert_int_eq(mime_add(t, "gam", "image/x-delta"), 0);
	mime_finish(t);

	/* A later line overrides an earlier one. */
	ck_assert_str_eq(lookup(t, "a.alpha"),
	    "text/x-override; charset=utf-8");
	ck_assert_str_eq(lookup(t, "a.alp"), "text/x-alpha; charset=utf-8");
	/* Several extensions on one line, any whitespace. */
	ck_assert_str_eq(lookup(t, "a.beta"), "application/x-beta");
	ck_assert_str_eq(lookup(t, "a.bet"), "application/x-beta");
	ck_assert_str_eq(lookup(t, "a.betty"), "application/x-beta");
	/* The file overrides a built-in. */
	ck_assert_str_eq(lookup(t, "a.png"), "application/x-mypng");
	ck_assert_str_eq(lookup(t, "a.gam"), "image/x-delta");
	/* Comments and unusable lines add nothing. */
	ck_assert_str_eq(lookup(t, "a.commented"), MIME_DEFAULT);
	ck_assert_str_eq(lookup(t, "a.bogus"), MIME_DEFAULT);
	ck_assert_str_eq(lookup(t, "a.lonely"), MIME_DEFAULT);
	/* Built-ins the file does not mention are kept. */
	ck_assert_str_eq(lookup(t, "a.pdf"), "application/pdf");
	mime_free(t);
	tu_rmtree(dir);
}
END_TEST

START_TEST(types_file_missing_is_negative_errno)
{
	struct mime_table *t = mime_new();
	int r;

	ck_assert_ptr_nonnull(t);
	r = mime_load_types_file(t, "/nonexistent/lanhttpd/mime.types");
	ck_assert_msg(r == -ENOENT, "expected %d, got %d", -ENOENT, r);
	mime_free(t);
}
END_TEST

START_TEST(types_file_directory_is_error)
{
	char *dir = tu_mkdtemp();
	struct mime_table *t = mime_new();
	int r;

	ck_assert_ptr_nonnull(t);
	r = mime_load_types_file(t, dir);
	ck_assert_msg(r < 0, "reading a directory: expected < 0, got %d", r);
	mime_free(t);
	tu_rmtree(dir);
}
END_TEST

static Suite *
mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc;

	tc = tcase_create("builtin");
	tcase_add_checked_fixture(tc, table_setup, table_teardown);
	tcase_add_test(tc, builtin_has_at_least_80_extensions);
	tcase_add_loop_test(tc, lookup_table, 0,
	    (int)(sizeof(lookup_cases) / sizeof(lookup_cases[0])));
	tcase_add_test(tc, lookup_uses_only_len_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("add");
	tcase_add_checked_fixture(tc, table_setup, table_teardown);
	tcase_add_test(tc, add_overrides_builtin_last_wins);
	tcase_add_test(tc, add_new_extension);
	tcase_add_test(tc, add_text_type_gets_charset);
	tcase_add_loop_test(tc, add_rejects_bad_input, 0,
	    (int)(sizeof(bad_add_cases) / sizeof(bad_add_cases[0])));
	tcase_add_test(tc, add_rejects_overlong_type);
	tcase_add_test(tc, add_after_finish_is_refused);
	tcase_add_test(tc, free_null_is_noop);
	suite_add_tcase(s, tc);

	tc = tcase_create("types_file");
	tcase_add_test(tc, types_file_loads_and_overrides);
	tcase_add_test(tc, types_file_missing_is_negative_errno);
	tcase_add_test(tc, types_file_directory_is_error);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(mime_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
