/*
 * check_listing.c - escaping, sorting and formatting of listings, and
 * reading a real directory.
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
#include <zlib.h>

#include "listing.h"
#include "testutil.h"

/* out as a NUL-terminated string (tests only look at small outputs). */
static const char *
hb_cstr(struct hbuf *out)
{
	hb_add(out, "", 1);
	ck_assert(!out->overflow);
	out->len--;
	return out->p;
}

/* True when s[0..len) is well-formed UTF-8 throughout. */
static bool
all_utf8(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len(s + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* ---- escaping ---- */

struct esc_case {
	const char	*in;
	const char	*html;
	const char	*json;
};

static const struct esc_case esc_cases[] = {
	{ "plain.txt", "plain.txt", "plain.txt" },
	{ "<script>.txt", "&lt;script&gt;.txt", "\\u003cscript\\u003e.txt" },
	{ "a&b #1 %.txt", "a&amp;b #1 %.txt", "a\\u0026b #1 %.txt" },
	{ "\"q\" 'a'", "&quot;q&quot; &#39;a&#39;", "\\\"q\\\" 'a'" },
	{ "back\\slash", "back\\slash", "back\\\\slash" },
	{ "中文 文件.pdf", "中文 文件.pdf", "中文 文件.pdf" },
	{ "tab\there", "tab\xef\xbf\xbdhere", "tab\\there" },
	{ "nl\n", "nl\xef\xbf\xbd", "nl\\n" },
	{ "bad\xff.txt", "bad\xef\xbf\xbd.txt", "bad\\ufffd.txt" },
	{ "trunc\xe4\xb8", "trunc\xef\xbf\xbd\xef\xbf\xbd",
	    "trunc\\ufffd\\ufffd" },
	{ "overlong\xc0\xaf", "overlong\xef\xbf\xbd\xef\xbf\xbd",
	    "overlong\\ufffd\\ufffd" },
	{ "surrogate\xed\xa0\x80", "surrogate\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd", "surrogate\\ufffd\\ufffd\\ufffd" },
	{ "emoji\xf0\x9f\x98\x80", "emoji\xf0\x9f\x98\x80",
	    "emoji\xf0\x9f\x98\x80" },
	{ "del\x7f", "del\xef\xbf\xbd", "del\x7f" },
	/* Bidi controls are hidden from the page, kept in the JSON data. */
	{ "photo\xe2\x80\xaegpj.exe", "photo\xef\xbf\xbdgpj.exe",
	    "photo\xe2\x80\xaegpj.exe" },
	{ "a\xe2\x81\xa7" "b\xe2\x81\xa9", "a\xef\xbf\xbd" "b\xef\xbf\xbd",
	    "a\xe2\x81\xa7" "b\xe2\x81\xa9" },
	{ "lrm\xe2\x80\x8e alm\xd8\x9c",
	    "lrm\xef\xbf\xbd alm\xef\xbf\xbd", "lrm\xe2\x80\x8e alm\xd8\x9c" },
	{ "permille\xe2\x80\xb0 \xe2\x81\xa5",
	    "permille\xe2\x80\xb0 \xe2\x81\xa5",
	    "permille\xe2\x80\xb0 \xe2\x81\xa5" },
};

START_TEST(escape_table)
{
	const struct esc_case *c = &esc_cases[_i];
	size_t len = strlen(c->in);
	char *g = tu_guarded(c->in, len);
	struct hbuf h, j;

	hb_init_heap(&h);
	hb_init_heap(&j);
	listing_html_escape(&h, g, len);
	listing_json_escape(&j, g, len);
	ck_assert_str_eq(hb_cstr(&h), c->html);
	ck_assert_str_eq(hb_cstr(&j), c->json);
	hb_release(&h);
	hb_release(&j);
	tu_guard_free(g);
}
END_TEST

/*
 * Random names: whatever the bytes, the HTML text has no markup
 * character and the JSON string no raw quote or control byte, and both
 * are valid UTF-8.
 */
START_TEST(escape_random_names)
{
	unsigned seed = 12345;

	for (int round = 0; round < 2000; round++) {
		char name[64];
		size_t len = (size_t)(rand_r(&seed) % 64);
		struct hbuf h, j;

		for (size_t i = 0; i < len; i++)
			name[i] = (char)(rand_r(&seed) & 0xff);
		hb_init_heap(&h);
		hb_init_heap(&j);
		listing_html_escape(&h, name, len);
		listing_json_escape(&j, name, len);
		ck_assert(!h.overflow && !j.overflow);
		ck_assert(all_utf8(h.p, h.len) && all_utf8(j.p, j.len));
		for (size_t i = 0; i < h.len; i++)
			ck_assert(h.p[i] != '<' && h.p[i] != '>' &&
			    h.p[i] != '"' && h.p[i] != '\'' &&
			    (unsigned char)h.p[i] >= 0x20);
		for (size_t i = 0; i < j.len; i++) {
			ck_assert((unsigned char)j.p[i] >= 0x20);
			if (j.p[i] == '\\')
				i++;	/* an escape: skip what it escapes */
			else
				ck_assert(j.p[i] != '"');
		}
		hb_release(&h);
		hb_release(&j);
	}
}
END_TEST

/* ---- sizes, order, query ---- */

START_TEST(human_sizes)
{
	static const struct {
		uint64_t	 n;
		const char	*s;
	} t[] = {
		{ 0, "0 B" }, { 1, "1 B" }, { 1023, "1023 B" },
		{ 1024, "1.0 KiB" }, { 1536, "1.5 KiB" },
		{ 100 * 1024 - 1, "100 KiB" }, { 123456789, "118 MiB" },
		{ 1024 * 1024 - 1, "1.0 MiB" },
		{ 5ull << 30, "5.0 GiB" }, { UINT64_MAX, "16.0 EiB" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		listing_human_size(t[i].n, buf, sizeof(buf));
		ck_assert_msg(strcmp(buf, t[i].s) == 0, "%llu: got '%s', want '%s'",
		    (unsigned long long)t[i].n, buf, t[i].s);
	}
}
END_TEST

static int
cmp(const char *a, const char *b)
{
	return listing_name_cmp(a, strlen(a), b, strlen(b));
}

START_TEST(natural_name_order)
{
	ck_assert_int_lt(cmp("file2", "file10"), 0);
	ck_assert_int_gt(cmp("file10", "file9"), 0);
	ck_assert_int_lt(cmp("a", "B"), 0);
	ck_assert_int_eq(cmp("Readme", "README"), 0);
	ck_assert_int_eq(cmp("x007", "x7"), 0);
	ck_assert_int_lt(cmp("x7", "x8a"), 0);
	ck_assert_int_lt(cmp("abc", "abcd"), 0);
	ck_assert_int_lt(cmp("", "a"), 0);
	ck_assert_int_lt(cmp("99999999999999999999998", "99999999999999999999999"),
	    0);
	ck_assert_int_lt(cmp("9", "a"), 0);
}
END_TEST

static void
add(struct listing *l, const char *name, bool dir, uint64_t size, time_t t)
{
	ck_assert_int_eq(listing_add(l, name, strlen(name), dir, size, t), 0);
}

static const char *
nth(const struct listing *l, size_t i)
{
	return l->names + l->ents[i].name_off;
}

START_TEST(sort_keys_with_folders_first)
{
	struct listing l;

	listing_init(&l);
	add(&l, "b.txt", false, 300, 10);
	add(&l, "zdir", true, 0, 5);
	add(&l, "A.txt", false, 100, 30);
	add(&l, "adir", true, 0, 50);
	add(&l, "c10.txt", false, 200, 20);
	add(&l, "c9.txt", false, 200, 20);

	listing_sort(&l, LISTING_SORT_NAME, false);
	ck_assert_str_eq(nth(&l, 0), "adir");
	ck_assert_str_eq(nth(&l, 1), "zdir");
	ck_assert_str_eq(nth(&l, 2), "A.txt");
	ck_assert_str_eq(nth(&l, 3), "b.txt");
	ck_assert_str_eq(nth(&l, 4), "c9.txt");
	ck_assert_str_eq(nth(&l, 5), "c10.txt");

	listing_sort(&l, LISTING_SORT_NAME, true);
	ck_assert_str_eq(nth(&l, 0), "zdir");	/* folders still first */
	ck_assert_str_eq(nth(&l, 2), "c10.txt");

	listing_sort(&l, LISTING_SORT_SIZE, false);
	ck_assert_str_eq(nth(&l, 2), "A.txt");
	ck_assert_str_eq(nth(&l, 3), "c9.txt");	/* ties by name */
	ck_assert_str_eq(nth(&l, 5), "b.txt");

	listing_sort(&l, LISTING_SORT_MTIME, true);
	ck_assert_str_eq(nth(&l, 0), "adir");
	ck_assert_str_eq(nth(&l, 2), "A.txt");
	ck_assert_str_eq(nth(&l, 5), "b.txt");
	listing_release(&l);
}
END_TEST

START_TEST(view_from_query)
{
	struct listing_view v;

	listing_view_from_query(SPAN_LIT(""), &v);
	ck_assert(v.sort == LISTING_SORT_NAME && !v.desc &&
	    v.format == LISTING_AUTO);
	listing_view_from_query(SPAN_LIT("sort=size&order=desc&format=json"),
	    &v);
	ck_assert(v.sort == LISTING_SORT_SIZE && v.desc &&
	    v.format == LISTING_JSON);
	listing_view_from_query(SPAN_LIT("sort=mtime;format=html"), &v);
	ck_assert(v.sort == LISTING_SORT_MTIME && !v.desc &&
	    v.format == LISTING_HTML);
	listing_view_from_query(SPAN_LIT("sort=bogus&order=up&format=xml"), &v);
	ck_assert(v.sort == LISTING_SORT_NAME && !v.desc &&
	    v.format == LISTING_AUTO && v.start == 0);
	listing_view_from_query(SPAN_LIT("start=20000"), &v);
	ck_assert_uint_eq(v.start, 20000);
	listing_view_from_query(SPAN_LIT("start=99999999"), &v);
	ck_assert_uint_eq(v.start, LISTING_MAX_ENTRIES);
	listing_view_from_query(SPAN_LIT("start=-1"), &v);
	ck_assert_uint_eq(v.start, 0);
}
END_TEST

/* ---- pages ---- */

static char *
page(const struct listing *l, const char *dir, enum ui_lang lang, bool json)
{
	struct listing_view v = { .lang = lang };
	struct hbuf out;
	int r;

	hb_init_heap(&out);
	r = json ? listing_json(l, dir, strlen(dir), &v, &out) :
	    listing_html(l, dir, strlen(dir), &v, &out);
	ck_assert_int_eq(r, 0);
	hb_add(&out, "", 1);
	ck_assert(!out.overflow);
	return out.p;
}

START_TEST(html_page_escapes_and_links)
{
	struct listing l;
	char *p;

	listing_init(&l);
	add(&l, "<script>.txt", false, 5, 0);
	add(&l, "a&b #1 %.txt", false, 1536, 0);
	add(&l, "中文 文件.pdf", false, 1, 0);
	add(&l, "javascript:alert(1)", false, 1, 0);
	add(&l, "sub dir", true, 0, 0);
	add(&l, "late", false, 0, 1735689599);
	p = page(&l, "x/<y>", LANG_EN, false);
	ck_assert_ptr_nonnull(strstr(p, "<a href=\"%3Cscript%3E.txt\">"
	    "&lt;script&gt;.txt</a>"));
	ck_assert_ptr_nonnull(strstr(p, "<a href=\"a%26b%20%231%20%25.txt\">"
	    "a&amp;b #1 %.txt</a>"));
	ck_assert_ptr_nonnull(strstr(p, "<a href=\"%E4%B8%AD%E6%96%87%20%E6%96"
	    "%87%E4%BB%B6.pdf\">中文 文件.pdf</a>"));
	ck_assert_ptr_nonnull(strstr(p, "href=\"javascript%3Aalert%281%29\""));
	ck_assert_ptr_nonnull(strstr(p, "<a href=\"sub%20dir/\">sub dir/</a>"));
	ck_assert_ptr_nonnull(strstr(p, "title=\"1536 bytes\">1.5 KiB<"));
	ck_assert_ptr_nonnull(strstr(p, "<td class=\"m\"><time datetime=\""
	    "1970-01-01T00:00:00Z\" title=\"1970-01-01 00:00:00 UTC\">"
	    "1970-01-01 00:00</time></td>"));
	/* Breadcrumb: the parent as a link, the folder itself as text. */
	ck_assert_ptr_nonnull(strstr(p, "<a href=\"/x/\">x</a>"));
	ck_assert_ptr_nonnull(strstr(p, "&lt;y&gt;</h1>"));
	ck_assert_ptr_nonnull(strstr(p, "<title>Index of /x/&lt;y&gt;/</title>"));
	ck_assert_ptr_nonnull(strstr(p, "<a href=\"../\">"));
	ck_assert_ptr_nonnull(strstr(p, "name=\"viewport\""));
	ck_assert_ptr_nonnull(strstr(p, "prefers-color-scheme:dark"));
	ck_assert_ptr_nonnull(strstr(p, "?sort=size&amp;order=asc"));
	ck_assert_ptr_nonnull(strstr(p, "1 folder, 5 files"));
	ck_assert_ptr_nonnull(strstr(p, "datetime=\"2024-12-31T23:59:59Z\""));
	ck_assert_ptr_null(strstr(p, "<script>"));
	ck_assert_ptr_null(strstr(p, "<script"));
	free(p);
	listing_release(&l);
}
END_TEST

START_TEST(html_page_in_chinese_and_root_has_no_parent)
{
	struct listing l;
	char *p;

	listing_init(&l);
	p = page(&l, "", LANG_ZH, false);
	ck_assert_ptr_nonnull(strstr(p, "<html lang=\"zh-CN\">"));
	ck_assert_ptr_nonnull(strstr(p, "名称"));
	ck_assert_ptr_nonnull(strstr(p, "此文件夹为空"));
	ck_assert_ptr_null(strstr(p, "href=\"../\""));
	free(p);
	listing_release(&l);
}
END_TEST

/* ---- upload controls ---- */

static char *
html_page(const struct listing *l, const char *dir,
    const struct listing_view *v)
{
	struct hbuf out;

	hb_init_heap(&out);
	ck_assert_int_eq(listing_html(l, dir, strlen(dir), v, &out), 0);
	hb_add(&out, "", 1);
	ck_assert(!out.overflow);
	return out.p;
}

/* A folder that takes no writes gets the page with no script at all. */
START_TEST(read_only_page_has_no_upload_block)
{
	struct listing_view v = { .lang = _i == 0 ? LANG_EN : LANG_ZH };
	struct listing l;
	char *p;

	listing_init(&l);
	add(&l, "a b.txt", false, 1, 0);
	p = html_page(&l, "x", &v);
	/* The one form is the search box, a GET without a script. */
	ck_assert_ptr_null(strstr(p, "multipart/form-data"));
	ck_assert_ptr_null(strstr(p, "method=\"post\""));
	ck_assert_ptr_nonnull(strstr(p, "<form role=\"search\" action=\"./\">"));
	ck_assert_ptr_null(strstr(strstr(p, "</form>") + 1, "<form"));
	ck_assert_ptr_null(strstr(p, "<textarea"));
	ck_assert_ptr_null(strstr(p, "<script"));
	ck_assert_ptr_null(strstr(p, "upl"));
	free(p);
	listing_release(&l);
}
END_TEST

struct upload_page_case {
	enum ui_lang	 lang;
	const char	*words[3];
};

static const struct upload_page_case upload_page_cases[] = {
	{ LANG_EN, { ">Upload</button>", ">Paste text</summary>",
	    "\"delAsk\":\"Delete " } },
	{ LANG_ZH, { ">上传</button>", ">粘贴文本</summary>",
	    "\"delAsk\":\"删除" } },
};

START_TEST(writable_page_has_the_upload_block)
{
	const struct upload_page_case *c = &upload_page_cases[_i];
	struct listing_view v = { .lang = c->lang, .writable = true };
	struct listing l;
	const char *form, *table, *style_end;
	char *p;

	listing_init(&l);
	add(&l, "a b.txt", false, 1, 0);
	add(&l, "sub", true, 0, 0);
	p = html_page(&l, "x", &v);
	form = strstr(p, "<form");
	table = strstr(p, "<table>");
	style_end = strstr(p, "</style>");
	ck_assert(form != NULL && table != NULL && style_end != NULL);
	ck_assert(form < table);
	ck_assert(strstr(p, ".upl{") != NULL && strstr(p, ".upl{") < style_end);
	ck_assert_ptr_nonnull(strstr(form, "method=\"post\" action=\"./\" "
	    "enctype=\"multipart/form-data\""));
	ck_assert_ptr_nonnull(strstr(form, "<input type=\"file\" "
	    "name=\"file\" multiple"));
	ck_assert_ptr_nonnull(strstr(form, "<textarea name=\"text\""));
	ck_assert(strstr(p, "<script>") != NULL &&
	    strstr(p, "<script>") < table);
	for (size_t i = 0; i < 3; i++)
		ck_assert_msg(strstr(p, c->words[i]) != NULL, "no %s",
		    c->words[i]);
	/* The rows, whose links the script reads, are as before. */
	ck_assert_ptr_nonnull(strstr(table, "<tr><td class=\"n\"><a href=\""
	    "a%20b.txt\">a b.txt</a></td>"));
	ck_assert_ptr_nonnull(strstr(table, "<tr class=\"d\"><td class=\"n\">"
	    "<a href=\"sub/\">sub/</a></td>"));
	free(p);
	listing_release(&l);
}
END_TEST

START_TEST(json_page)
{
	struct listing l;
	char *p;

	listing_init(&l);
	add(&l, "d", true, 0, 1700000000);
	add(&l, "q\"\\\x01\xff.txt", false, 42, 5);
	p = page(&l, "a b", LANG_EN, true);
	ck_assert_str_eq(p, "{\"path\":\"/a b/\",\"truncated\":false,"
	    "\"total\":2,\"start\":0,\"entries\":[\n"
	    "{\"name\":\"d\",\"href\":\"d/\",\"type\":\"dir\",\"size\":0,"
	    "\"mtime\":1700000000},\n"
	    "{\"name\":\"q\\\"\\\\\\u0001\\ufffd.txt\",\"href\":\"q%22%5C%01%FF.txt\","
	    "\"type\":\"file\",\"size\":42,\"mtime\":5}\n],\"next\":null}\n");
	free(p);
	listing_release(&l);
}
END_TEST

/* n files "f00000".."f<n-1>", in that order. */
static void
add_numbered(struct listing *l, size_t n, size_t name_len)
{
	char name[256];

	for (size_t i = 0; i < n; i++) {
		memset(name, 'x', sizeof(name));
		snprintf(name, sizeof(name), "f%05zu", i);
		name[6] = name_len > 6 ? 'x' : '\0';
		ck_assert_int_eq(listing_add(l, name, name_len > 6 ? name_len :
		    6, false, i, 0), 0);
	}
}

/* The page of l from start, in lang, as a NUL-terminated string. */
static char *
page_in(const struct listing *l, uint32_t start, enum ui_lang lang,
    bool json, size_t *len)
{
	struct listing_view v = { .start = start, .lang = lang };
	struct hbuf out;

	hb_init_heap(&out);
	ck_assert_int_eq(json ? listing_json(l, "d", 1, &v, &out) :
	    listing_html(l, "d", 1, &v, &out), 0);
	*len = out.len;
	hb_add(&out, "", 1);
	return out.p;
}

static char *
page_from(const struct listing *l, uint32_t start, bool json, size_t *len)
{
	return page_in(l, start, LANG_EN, json, len);
}

static size_t
count(const char *p, const char *needle)
{
	size_t n = 0;

	for (const char *q = p; (q = strstr(q, needle)) != NULL; q++)
		n++;
	return n;
}

START_TEST(big_listings_come_in_pages)
{
	size_t n = LISTING_PAGE_ENTRIES + 5, len;
	struct listing l;
	char *p;

	listing_init(&l);
	add_numbered(&l, n, 6);
	p = page_from(&l, 0, false, &len);
	ck_assert_uint_eq(count(p, "<tr><td"), LISTING_PAGE_ENTRIES);
	ck_assert_ptr_nonnull(strstr(p, "Showing entries 1&ndash;10000 of "
	    "10005."));
	ck_assert_ptr_nonnull(strstr(p, "<a href=\"?sort=name&amp;order=asc"
	    "&amp;start=10000\">Next page</a>"));
	ck_assert_ptr_null(strstr(p, "Previous page"));
	free(p);
	p = page_from(&l, LISTING_PAGE_ENTRIES, false, &len);
	ck_assert_uint_eq(count(p, "<tr><td"), 5);
	ck_assert_ptr_nonnull(strstr(p, ">f10004<"));
	ck_assert_ptr_nonnull(strstr(p, "start=0\">Previous page</a>"));
	ck_assert_ptr_null(strstr(p, "Next page"));
	free(p);
	p = page_from(&l, 0, true, &len);
	ck_assert_uint_eq(count(p, "{\"name\""), LISTING_PAGE_ENTRIES);
	ck_assert_ptr_nonnull(strstr(p, "\"total\":10005,\"start\":0,"));
	ck_assert_ptr_nonnull(strstr(p, "],\"next\":\"?format=json&sort=name"
	    "&order=asc&start=10000\"}"));
	free(p);
	p = page_from(&l, LISTING_PAGE_ENTRIES, true, &len);
	ck_assert_uint_eq(count(p, "{\"name\""), 5);
	ck_assert_ptr_nonnull(strstr(p, "\"next\":null}"));
	free(p);
	/* Past the end: an empty page that still says how many there are. */
	p = page_from(&l, LISTING_MAX_ENTRIES, false, &len);
	ck_assert_uint_eq(count(p, "<tr><td"), 0);
	ck_assert_ptr_nonnull(strstr(p, "of 10005."));
	free(p);
	listing_release(&l);
}
END_TEST

START_TEST(a_page_stays_within_its_byte_bound)
{
	/* 255-byte names of the byte that grows most in each format. */
	static const char worst[2] = { '\'', '\x01' };
	size_t n = 6000, len;
	struct listing l;
	char name[255], *p;

	for (int json = 0; json < 2; json++) {
		listing_init(&l);
		memset(name, worst[json], sizeof(name));
		for (size_t i = 0; i < n; i++) {
			snprintf(name, 8, "%07zu", i);
			name[7] = worst[json];
			ck_assert_int_eq(listing_add(&l, name, sizeof(name),
			    false, 1, 0), 0);
		}
		p = page_from(&l, 0, json, &len);
		ck_assert_uint_lt(len, LISTING_PAGE_BYTES + 16 * 1024);
		ck_assert_uint_gt(len, LISTING_PAGE_BYTES);
		ck_assert_uint_lt(count(p, json ? "{\"name\"" : "<tr><td"), n);
		free(p);
		listing_release(&l);
	}
}
END_TEST

/*
 * The start=N of the link labelled label on an HTML page (the query ends
 * with it), or of "next" in JSON (label NULL); -1 when there is none.
 */
static long
link_start(const char *p, const char *label)
{
	char tail[64];
	const char *end, *q;

	if (label == NULL) {
		if ((q = strstr(p, "\"next\":\"?")) == NULL ||
		    (q = strstr(q, "&start=")) == NULL)
			return -1;
		return strtol(q + 7, NULL, 10);
	}
	snprintf(tail, sizeof(tail), "\">%s</a>", label);
	if ((end = strstr(p, tail)) == NULL)
		return -1;
	for (q = end; q > p && q[-1] >= '0' && q[-1] <= '9'; q--)
		continue;
	if (q - p < 6 || memcmp(q - 6, "start=", 6) != 0)
		return -1;
	return strtol(q, NULL, 10);
}

/*
 * Pages cut by size, not by LISTING_PAGE_ENTRIES: 9,000 names of 250
 * bytes that grow sevenfold in a row ("&lt;" shown, "%3C" linked), so
 * each page holds fewer than 5,000.  "Previous page" on every page leads
 * to the start of the page before, whichever the language (the rows'
 * length differs), and "Next page" from there leads back.
 */
START_TEST(previous_page_after_pages_cut_by_size)
{
	enum { N = 9000, MAXPAGES = 8 };
	struct listing l;
	char name[250];
	size_t len;

	listing_init(&l);
	memset(name, '<', sizeof(name));
	for (size_t i = 0; i < N; i++) {
		snprintf(name, 6, "%05zu", i);
		name[5] = '<';
		ck_assert_int_eq(listing_add(&l, name, sizeof(name), false, i,
		    0), 0);
	}
	for (int lang = LANG_EN; lang <= LANG_ZH; lang++) {
		static const char *const prev[] = { "Previous page",
		    "\xe4\xb8\x8a\xe4\xb8\x80\xe9\xa1\xb5" };
		static const char *const next[] = { "Next page",
		    "\xe4\xb8\x8b\xe4\xb8\x80\xe9\xa1\xb5" };
		long start[MAXPAGES];
		int pages = 0;
		char *p;

		/* Follow "Next page" to the end. */
		start[pages++] = 0;
		for (;;) {
			long nx;

			p = page_in(&l, (uint32_t)start[pages - 1],
			    (enum ui_lang)lang, false, &len);
			nx = link_start(p, next[lang]);
			free(p);
			if (nx < 0)
				break;
			ck_assert_int_gt(nx, start[pages - 1]);
			ck_assert_int_lt(pages, MAXPAGES);
			start[pages++] = nx;
		}
		ck_assert_int_ge(pages, 3);
		ck_assert_int_lt(start[1], LISTING_PAGE_ENTRIES);
		for (int k = 0; k < pages; k++) {
			p = page_in(&l, (uint32_t)start[k], (enum ui_lang)lang,
			    false, &len);
			ck_assert_msg(link_start(p, prev[lang]) ==
			    (k == 0 ? -1 : start[k - 1]),
			    "lang %d, page %d from %ld: previous %ld, want %ld",
			    lang, k, start[k], link_start(p, prev[lang]),
			    k == 0 ? -1 : start[k - 1]);
			free(p);
		}
		/*
		 * A start that is no page boundary: the previous page is the
		 * one holding the entry just before it.
		 */
		p = page_in(&l, (uint32_t)start[1] + 1, (enum ui_lang)lang,
		    false, &len);
		ck_assert_int_eq(link_start(p, prev[lang]), start[1]);
		free(p);
		p = page_in(&l, (uint32_t)start[1] - 1, (enum ui_lang)lang,
		    false, &len);
		ck_assert_int_eq(link_start(p, prev[lang]), 0);
		free(p);
	}
	listing_release(&l);
}
END_TEST

/*
 * The JSON form pages by the same rule: following "next" from 0 visits
 * every entry once, in pages cut by size.
 */
START_TEST(json_pages_cut_by_size_cover_every_entry)
{
	enum { N = 9000 };
	struct listing l;
	char name[250];
	size_t len, seen = 0;
	long start = 0;
	int pages = 0;

	listing_init(&l);
	memset(name, '<', sizeof(name));
	for (size_t i = 0; i < N; i++) {
		snprintf(name, 6, "%05zu", i);
		name[5] = '<';
		ck_assert_int_eq(listing_add(&l, name, sizeof(name), false, i,
		    0), 0);
	}
	while (start >= 0) {
		char *p = page_in(&l, (uint32_t)start, LANG_EN, true, &len);
		size_t rows = count(p, "{\"name\"");
		long nx = link_start(p, NULL);

		ck_assert_uint_le(len, LISTING_PAGE_BYTES + 16 * 1024);
		ck_assert_int_eq(nx < 0 ? N : nx, start + (long)rows);
		seen += rows;
		pages++;
		start = nx;
		free(p);
	}
	ck_assert_uint_eq(seen, N);
	ck_assert_int_ge(pages, 2);
	listing_release(&l);
}
END_TEST

START_TEST(hash_sees_every_byte)
{
	char buf[100];
	uint64_t h0;

	memset(buf, 'a', sizeof(buf));
	h0 = listing_hash(buf, sizeof(buf));
	ck_assert(h0 == listing_hash(buf, sizeof(buf)));
	ck_assert(h0 != listing_hash(buf, sizeof(buf) - 1));
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] = 'b';
		ck_assert_msg(listing_hash(buf, sizeof(buf)) != h0,
		    "byte %zu ignored", i);
		buf[i] = 'a';
	}
	ck_assert(listing_hash("", 0) != listing_hash("\0", 1));
}
END_TEST

START_TEST(gzip_round_trips_and_is_stable)
{
	struct listing l;
	struct hbuf a, b;
	char *plain, *back;
	size_t len;
	z_stream z;

	listing_init(&l);
	add_numbered(&l, 1000, 6);
	plain = page_from(&l, 0, false, &len);
	hb_init_heap(&a);
	hb_init_heap(&b);
	ck_assert_int_eq(listing_gzip(plain, len, &a), 0);
	ck_assert_int_eq(listing_gzip(plain, len, &b), 0);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert(memcmp(a.p, b.p, a.len) == 0);
	ck_assert_uint_lt(a.len, len / 5);
	ck_assert(a.len > 10 && (unsigned char)a.p[0] == 0x1f &&
	    (unsigned char)a.p[1] == 0x8b);
	back = malloc(len + 1);
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)a.p;
	z.avail_in = (uInt)a.len;
	z.next_out = (Bytef *)back;
	z.avail_out = (uInt)len + 1;
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	ck_assert_uint_eq(z.total_out, len);
	ck_assert(memcmp(back, plain, len) == 0);
	inflateEnd(&z);
	free(back);
	free(plain);
	hb_release(&a);
	hb_release(&b);
	listing_release(&l);
}
END_TEST

START_TEST(add_stops_at_the_limit)
{
	struct listing l;
	char name[16];
	int r = 0;

	listing_init(&l);
	for (unsigned i = 0; i <= LISTING_MAX_ENTRIES && r == 0; i++) {
		int n = snprintf(name, sizeof(name), "f%u", i);

		r = listing_add(&l, name, (size_t)n, false, 0, 0);
	}
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert(l.truncated);
	ck_assert_uint_eq(l.n, LISTING_MAX_ENTRIES);
	listing_release(&l);
}
END_TEST

/* ---- reading a directory ---- */

static bool
has(const struct listing *l, const char *name, bool dir)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(nth(l, i), name) == 0 && l->ents[i].is_dir == dir)
			return true;
	return false;
}

START_TEST(read_filters_and_follows_links)
{
	char *root = tu_mkdtemp(), *outside = tu_mkdtemp(), path[PATH_MAX];
	char real[PATH_MAX];
	struct listing_src src = { .rel = "",
	    .tree = { .symlinks = SYMLINKS_INSIDE } };
	struct listing l;
	int root_fd, dfd;

	tu_write_file(root, "a.txt", "abc", 3);
	tu_write_file(root, ".hidden", "h", 1);
	tu_write_file(root, "bad\xff.txt", "b", 1);
	tu_write_file(outside, "secret", "s", 1);
	snprintf(path, sizeof(path), "%s/sub", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/fifo", root);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	snprintf(path, sizeof(path), "%s/in-link", root);
	ck_assert_int_eq(symlink("a.txt", path), 0);
	snprintf(path, sizeof(path), "%s/out-link", root);
	snprintf(real, sizeof(real), "%s/secret", outside);
	ck_assert_int_eq(symlink(real, path), 0);
	snprintf(path, sizeof(path), "%s/dangling", root);
	ck_assert_int_eq(symlink("nowhere", path), 0);
	/* Review item 5: a link to a dotfile is as hidden as the dotfile. */
	snprintf(path, sizeof(path), "%s/shows-hidden", root);
	ck_assert_int_eq(symlink(".hidden", path), 0);

	ck_assert_ptr_nonnull(realpath(root, real));
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert(root_fd >= 0 && dfd >= 0);
	src.tree.fd = root_fd;
	src.tree.real = real;

	listing_init(&l);
	ck_assert_int_eq(listing_read(&l, dfd, &src), 0);
	ck_assert_uint_eq(l.n, 4);
	ck_assert(has(&l, "a.txt", false) && has(&l, "sub", true));
	ck_assert(has(&l, "bad\xff.txt", false) && has(&l, "in-link", false));
	/* What the directory's own watch cannot see is marked for checks. */
	for (size_t i = 0; i < l.n; i++)
		ck_assert_msg(l.ents[i].recheck == (strcmp(nth(&l, i), "sub") ==
		    0 || strcmp(nth(&l, i), "in-link") == 0), "%s", nth(&l, i));
	listing_release(&l);
	snprintf(path, sizeof(path), "%s/a.txt", root);
	snprintf(real, sizeof(real), "%s/second-link", outside);
	ck_assert_int_eq(link(path, real), 0);
	{
		struct listing_stat st;

		ck_assert(listing_entry_stat(dfd, "a.txt", &src, &st));
		ck_assert(st.recheck && !st.is_dir && st.size == 3);
		ck_assert(!listing_entry_stat(dfd, "fifo", &src, &st));
		ck_assert(!listing_entry_stat(dfd, ".hidden", &src, &st));
		ck_assert(!listing_entry_stat(dfd, "gone", &src, &st));
	}
	ck_assert_ptr_nonnull(realpath(root, real));

	src.tree.allow_hidden = true;
	src.tree.symlinks = SYMLINKS_NONE;
	listing_init(&l);
	ck_assert_int_eq(listing_read(&l, dfd, &src), 0);
	ck_assert_uint_eq(l.n, 4);
	ck_assert(has(&l, ".hidden", false) && !has(&l, "in-link", false));
	listing_release(&l);

	src.tree.symlinks = SYMLINKS_ALL;
	listing_init(&l);
	ck_assert_int_eq(listing_read(&l, dfd, &src), 0);
	ck_assert(has(&l, "in-link", false) && has(&l, "out-link", false));
	ck_assert(!has(&l, "dangling", false) && !has(&l, "fifo", false));
	/* Dotfiles are allowed in this read. */
	ck_assert(has(&l, "shows-hidden", false));
	listing_release(&l);

	close(dfd);
	close(root_fd);
	tu_rmtree(root);
	tu_rmtree(outside);
}
END_TEST

static Suite *
listing_suite(void)
{
	Suite *s = suite_create("listing");
	TCase *tc = tcase_create("format");

	tcase_add_loop_test(tc, escape_table, 0,
	    sizeof(esc_cases) / sizeof(esc_cases[0]));
	tcase_add_test(tc, escape_random_names);
	tcase_add_test(tc, human_sizes);
	tcase_add_test(tc, natural_name_order);
	tcase_add_test(tc, sort_keys_with_folders_first);
	tcase_add_test(tc, view_from_query);
	tcase_add_test(tc, html_page_escapes_and_links);
	tcase_add_test(tc, html_page_in_chinese_and_root_has_no_parent);
	tcase_add_loop_test(tc, read_only_page_has_no_upload_block, 0, 2);
	tcase_add_loop_test(tc, writable_page_has_the_upload_block, 0,
	    sizeof(upload_page_cases) / sizeof(upload_page_cases[0]));
	tcase_add_test(tc, json_page);
	tcase_add_test(tc, hash_sees_every_byte);
	tcase_add_test(tc, gzip_round_trips_and_is_stable);
	tcase_add_test(tc, add_stops_at_the_limit);
	suite_add_tcase(s, tc);
	/* Tens of thousands of rows: slow under the sanitizers. */
	tc = tcase_create("pages");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, big_listings_come_in_pages);
	tcase_add_test(tc, a_page_stays_within_its_byte_bound);
	tcase_add_test(tc, previous_page_after_pages_cut_by_size);
	tcase_add_test(tc, json_pages_cut_by_size_cover_every_entry);
	suite_add_tcase(s, tc);
	tc = tcase_create("read");
	tcase_add_test(tc, read_filters_and_follows_links);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(listing_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
