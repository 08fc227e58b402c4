/*
 * check_playlist.c - the ?m3u playlist: the exact text, hostile names
 * that try to break a line or a URL, which files count as media, the
 * per-file query, and the Host check.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"
#include "playlist.h"
#include "testutil.h"

#define BASE	"http://h:8080"

static struct mime_table *table;

static void
setup(void)
{
	table = mime_new();
	ck_assert_ptr_nonnull(table);
	mime_finish(table);
}

static void
teardown(void)
{
	mime_free(table);
	table = NULL;
}

static void
add(struct listing *l, const char *name, bool dir)
{
	ck_assert_int_eq(listing_add(l, name, strlen(name), dir, 1, 0), 0);
}

/* The playlist of l in dir as a NUL-terminated string; r gets the count. */
static char *
m3u(const struct listing *l, const char *dir,
    const struct playlist_opts *o, int *r)
{
	struct hbuf out;

	hb_init_heap(&out);
	*r = playlist_m3u(l, dir, strlen(dir), o, &out);
	hb_add(&out, "", 1);
	ck_assert(!out.overflow);
	return out.p;
}

static struct playlist_opts
opts(void)
{
	return (struct playlist_opts){ .mime = table, .base = SPAN_LIT(BASE) };
}

START_TEST(exact_text_in_listing_order)
{
	struct playlist_opts o = opts();
	struct listing l;
	char *p;
	int r;

	listing_init(&l);
	add(&l, "b song.mp3", false);
	add(&l, "sub", true);
	add(&l, "a#1?%.flac", false);
	add(&l, "notes.txt", false);
	add(&l, "cover.jpg", false);
	add(&l, "clip.MP4", false);
	add(&l, "folder.mp3", true);	/* a folder, whatever its name */
	p = m3u(&l, "Music/Album 1", &o, &r);
	ck_assert_int_eq(r, 3);
	ck_assert_str_eq(p,
	    "#EXTM3U\n"
	    "#EXTINF:-1,b song\n"
	    BASE "/Music/Album%201/b%20song.mp3\n"
	    "#EXTINF:-1,a#1?%\n"
	    BASE "/Music/Album%201/a%231%3F%25.flac\n"
	    "#EXTINF:-1,clip\n"
	    BASE "/Music/Album%201/clip.MP4\n");
	free(p);
	listing_release(&l);
}
END_TEST

START_TEST(root_folder_and_empty_folder)
{
	struct playlist_opts o = opts();
	struct listing l;
	char *p;
	int r;

	listing_init(&l);
	p = m3u(&l, "", &o, &r);
	ck_assert_int_eq(r, 0);
	ck_assert_str_eq(p, "#EXTM3U\n");
	free(p);
	add(&l, "x.ogg", false);
	p = m3u(&l, "", &o, &r);
	ck_assert_int_eq(r, 1);
	ck_assert_str_eq(p, "#EXTM3U\n#EXTINF:-1,x\n" BASE "/x.ogg\n");
	free(p);
	listing_release(&l);
}
END_TEST

struct name_case {
	const char	*name;
	const char	*title;
	const char	*url;		/* after BASE "/d/" */
};

static const struct name_case name_cases[] = {
	{ "plain.mp3", "plain", "plain.mp3" },
	{ "line\nbreak.mp3", "line break", "line%0Abreak.mp3" },
	{ "cr\r.mp3", "cr ", "cr%0D.mp3" },
	/* A name that tries to add an entry of its own. */
	{ "x\r\n#EXTINF:-1,evil\r\nhttp://evil/a.mp3",
	    "x  #EXTINF:-1,evil  http://evil/a",
	    "x%0D%0A%23EXTINF%3A-1%2Cevil%0D%0Ahttp%3A//evil/a.mp3" },
	{ "tab\there.wav", "tab here", "tab%09here.wav" },
	{ "del\x7f.wav", "del ", "del%7F.wav" },
	{ "bad\xff.mp3", "bad\xef\xbf\xbd", "bad%FF.mp3" },
	{ "cut\xe4\xb8.mp3", "cut\xef\xbf\xbd\xef\xbf\xbd", "cut%E4%B8.mp3" },
	{ "中文 歌.mp3", "中文 歌",
	    "%E4%B8%AD%E6%96%87%20%E6%AD%8C.mp3" },
	{ "Éte\xcc\x81.flac", "Éte\xcc\x81", "%C3%89te%CC%81.flac" },
	/* NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR: line breaks too. */
	{ "nel\xc2\x85x.ogg", "nel x", "nel%C2%85x.ogg" },
	{ "ls\xe2\x80\xa8ps\xe2\x80\xa9.ogg", "ls ps ",
	    "ls%E2%80%A8ps%E2%80%A9.ogg" },
	{ "photo\xe2\x80\xaegpj.mp3", "photo\xef\xbf\xbdgpj",
	    "photo%E2%80%AEgpj.mp3" },
	{ "50% #1 & (live) [2].mp3", "50% #1 & (live) [2]",
	    "50%25%20%231%20%26%20%28live%29%20%5B2%5D.mp3" },
	{ "javascript:x.mp3", "javascript:x", "javascript%3Ax.mp3" },
	{ "two.dots.m4a", "two.dots", "two.dots.m4a" },
	{ ".hidden.mp3", ".hidden", ".hidden.mp3" },
};

START_TEST(names_cannot_break_lines_or_urls)
{
	const struct name_case *c = &name_cases[_i];
	struct playlist_opts o = opts();
	struct listing l;
	char want[1024], *p;
	int r;

	listing_init(&l);
	add(&l, c->name, false);
	p = m3u(&l, "d", &o, &r);
	ck_assert_msg(r == 1, "%s: %d", c->name, r);
	snprintf(want, sizeof(want), "#EXTM3U\n#EXTINF:-1,%s\n" BASE "/d/%s\n",
	    c->title, c->url);
	ck_assert_str_eq(p, want);
	/* Three lines, whatever the name. */
	ck_assert_ptr_null(strchr(p, '\r'));
	ck_assert_ptr_null(strstr(p, "\xc2\x85"));
	listing_release(&l);
	free(p);
}
END_TEST

START_TEST(titles_alone)
{
	struct hbuf out;

	hb_init_heap(&out);
	playlist_title(&out, "a.b.c", 5);
	playlist_title(&out, "|", 1);
	playlist_title(&out, "noext", 5);
	playlist_title(&out, "|", 1);
	playlist_title(&out, "dot.", 4);
	playlist_title(&out, "|", 1);
	playlist_title(&out, ".x", 2);
	hb_add(&out, "", 1);
	ck_assert(!out.overflow);
	ck_assert_str_eq(out.p, "a.b|noext|dot|.x");
	hb_release(&out);
}
END_TEST

struct media_case {
	const char	*name;
	bool		 with_table, without_table;
};

static const struct media_case media_cases[] = {
	{ "a.mp3", true, true },
	{ "a.MP3", true, true },
	{ "a.opus", true, true },
	{ "a.mka", true, true },
	{ "a.webm", true, true },
	{ "a.ts", true, true },
	{ "a.avi", true, true },
	{ "a.mid", true, false },	/* audio/midi, not in the list */
	{ "a.ogv", true, false },
	{ "a.m3u", false, false },	/* a playlist is not a track */
	{ "a.txt", false, false },
	{ "a.jpg", false, false },
	{ "mp3", false, false },
	{ "a.", false, false },
	{ "a.mp3 ", false, false },
	{ "a.mp3.txt", false, false },
	{ "", false, false },
};

START_TEST(which_files_are_media)
{
	const struct media_case *c = &media_cases[_i];
	size_t len = strlen(c->name);

	ck_assert_msg(playlist_is_media(table, c->name, len) == c->with_table,
	    "%s with the table", c->name);
	ck_assert_msg(playlist_is_media(NULL, c->name, len) ==
	    c->without_table, "%s without a table", c->name);
}
END_TEST

START_TEST(the_table_decides_what_it_knows)
{
	struct mime_table *t = mime_new();

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(mime_add(t, "mp3", "application/x-not-audio"), 0);
	ck_assert_int_eq(mime_add(t, "xyz", "video/x-xyz"), 0);
	mime_finish(t);
	ck_assert(!playlist_is_media(t, "a.mp3", 5));
	ck_assert(playlist_is_media(t, "a.xyz", 5));
	/* Unknown to the table: the built-in list. */
	ck_assert(playlist_is_media(t, "a.opus", 6));
	mime_free(t);
}
END_TEST

/* Appends "?t=" and the name, as a token would be. */
static void
token_query(void *arg, const char *name, size_t len, struct hbuf *out)
{
	int *calls = arg;

	(*calls)++;
	hb_str(out, "?t=");
	hb_add(out, name, len);
}

START_TEST(file_query_follows_each_url)
{
	struct playlist_opts o = opts();
	struct listing l;
	int calls = 0, r;
	char *p;

	o.file_query = token_query;
	o.file_query_arg = &calls;
	listing_init(&l);
	add(&l, "a.mp3", false);
	add(&l, "b.txt", false);
	add(&l, "c", true);
	p = m3u(&l, "", &o, &r);
	ck_assert_int_eq(r, 1);
	ck_assert_int_eq(calls, 1);
	ck_assert_str_eq(p, "#EXTM3U\n#EXTINF:-1,a\n" BASE "/a.mp3?t=a.mp3\n");
	free(p);
	listing_release(&l);
}
END_TEST

START_TEST(bad_base_and_overflow)
{
	static const char *const bad[] = {
		"", "http://h\r\n#EXTINF", "http://h h", "http://h\x80",
	};
	struct playlist_opts o = opts();
	struct listing l;
	struct hbuf out;
	char small[16];

	listing_init(&l);
	add(&l, "a.mp3", false);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hb_init_heap(&out);
		o.base = span_make(bad[i], strlen(bad[i]));
		ck_assert_int_eq(playlist_m3u(&l, "", 0, &o, &out), -EINVAL);
		ck_assert_uint_eq(out.len, 0);
		hb_release(&out);
	}
	o = opts();
	hb_init(&out, small, sizeof(small));
	ck_assert_int_eq(playlist_m3u(&l, "", 0, &o, &out), -ENOMEM);
	listing_release(&l);
}
END_TEST

struct host_case {
	const char	*host;
	bool		 ok;
};

static const struct host_case host_cases[] = {
	{ "example.com", true },
	{ "localhost", true },
	{ "192.168.1.5:8080", true },
	{ "nas-1.local:80", true },
	{ "[::1]", true },
	{ "[fe80::1]:8080", true },
	{ "[::ffff:192.168.1.5]:1", true },
	{ "h:65535", true },
	{ "", false },
	{ "h:65536", false },
	{ "h:", false },
	{ "h:123456", false },
	{ "h:8a", false },
	{ "h:1:2", false },
	{ ":80", false },
	{ "-h", false },
	{ ".h", false },
	{ "user@h", false },
	{ "h/x", false },
	{ "h x", false },
	{ "h\r\nX: y", false },
	{ "h#", false },
	{ "h?", false },
	{ "h%41", false },
	{ "[::1", false },
	{ "[::1]x", false },
	{ "[::1]:", false },
	{ "[]", false },
	{ "[1234]", false },
	{ "[fe80::1%eth0]", false },
	{ "[g::1]", false },
	{ "h\xc3\xa9", false },
};

START_TEST(host_check)
{
	const struct host_case *c = &host_cases[_i];
	char *g = tu_guarded(c->host, strlen(c->host));

	ck_assert_msg(http_host_plain(span_make(g, strlen(c->host))) == c->ok,
	    "\"%s\": want %d", c->host, c->ok);
	tu_guard_free(g);
}
END_TEST

START_TEST(host_check_length)
{
	char h[300];

	memset(h, 'a', sizeof(h));
	ck_assert(http_host_plain(span_make(h, 255)));
	ck_assert(!http_host_plain(span_make(h, 256)));
	ck_assert(!http_host_plain(SPAN_NULL));
}
END_TEST

static Suite *
playlist_suite(void)
{
	Suite *s = suite_create("playlist");
	TCase *tc = tcase_create("m3u");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, exact_text_in_listing_order);
	tcase_add_test(tc, root_folder_and_empty_folder);
	tcase_add_loop_test(tc, names_cannot_break_lines_or_urls, 0,
	    sizeof(name_cases) / sizeof(name_cases[0]));
	tcase_add_test(tc, titles_alone);
	tcase_add_loop_test(tc, which_files_are_media, 0,
	    sizeof(media_cases) / sizeof(media_cases[0]));
	tcase_add_test(tc, the_table_decides_what_it_knows);
	tcase_add_test(tc, file_query_follows_each_url);
	tcase_add_test(tc, bad_base_and_overflow);
	suite_add_tcase(s, tc);
	tc = tcase_create("host");
	tcase_add_loop_test(tc, host_check, 0,
	    sizeof(host_cases) / sizeof(host_cases[0]));
	tcase_add_test(tc, host_check_length);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(playlist_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
