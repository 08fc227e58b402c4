/*
 * check_upname.c - unit tests for the upload file-name rules.
 *
 * Names go in through tu_guarded(), so a read past the end crashes, and
 * the NAME_MAX + 1 output buffers are guarded too, so a write past them
 * does.  Every refusal reason has its rows, including the ones where
 * several reasons apply at once; numbered names are checked against a
 * table and then swept over stems of every length and character width,
 * so that every way of cutting a stem at 255 bytes is met.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfc.h"
#include "testutil.h"
#include "upname.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* A literal input and its length, embedded NUL bytes included. */
#define IN(s)		.in = (s), .len = sizeof(s) - 1

#define EMPTY		"empty name"
#define DOT		"name is '.'"
#define DOTDOT		"name is '..'"
#define SLASH		"name contains '/'"
#define NUL		"name contains a NUL byte"
#define CONTROL		"name contains a control character"
#define NOT_UTF8	"name is not UTF-8"
#define TOO_LONG	"name longer than 255 bytes"

/* Longest name a test builds. */
#define NAME_CAP	1024

/*
 * ck_assert_msg() reports every assertion that passes to the Check parent
 * with a write(); the sweep over all name lengths checks this one only
 * on failure.
 */
#define CHECK(expr, ...)	do {					\
	if (!(expr))							\
		ck_abort_msg(__VA_ARGS__);				\
} while (0)

/*
 * Helpers
 */

/* A guarded output buffer of NAME_MAX + 1 bytes. */
static char *
out_buffer(void)
{
	static const char junk[NAME_MAX + 1] = { 'J' };

	return tu_guarded(junk, sizeof(junk));
}

/*
 * Writes reps copies of piece, then tail, into buf[0..NAME_CAP),
 * NUL-terminated; returns the length.
 */
static size_t
build(char *buf, const char *piece, size_t reps, const char *tail)
{
	size_t len = 0, plen = strlen(piece), tlen = strlen(tail);

	ck_assert(reps * plen + tlen < NAME_CAP);
	for (size_t i = 0; i < reps; i++) {
		memcpy(buf + len, piece, plen);
		len += plen;
	}
	memcpy(buf + len, tail, tlen);
	buf[len + tlen] = '\0';
	return len + tlen;
}

/* upname_check() on a guarded copy of in[0..len). */
static const char *
check_guarded(const char *in, size_t len)
{
	char *g = tu_guarded(in, len);
	const char *why = upname_check(g, len);

	tu_guard_free(g);
	return why;
}

/*
 * Cleans in[0..len) from a guarded copy into a guarded buffer, checks
 * that upname_check() agrees, and returns the length; the result is
 * copied to out when out is not NULL.
 */
static int
clean_guarded(const char *in, size_t len, char *out, const char **why)
{
	char *g = tu_guarded(in, len), *o = out_buffer();
	const char *check = upname_check(g, len);
	int n = upname_clean(g, len, o, why);

	if (n < 0) {
		ck_assert_ptr_nonnull(*why);
		ck_assert_str_eq(check, *why);
	} else {
		ck_assert_ptr_null(*why);
		ck_assert_ptr_null(check);
		ck_assert_int_le(n, NAME_MAX);
		ck_assert_int_eq(o[n], '\0');
		ck_assert_uint_eq(strlen(o), (size_t)n);
		if (out != NULL)
			memcpy(out, o, (size_t)n + 1);
	}
	tu_guard_free(o);
	tu_guard_free(g);
	return n;
}

/*
 * Refusals
 */

static const struct bad_name {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*why;
} bad_names[] = {
	{ "empty", IN(""), EMPTY },
	{ "dot", IN("."), DOT },
	{ "dotdot", IN(".."), DOTDOT },
	{ "slash_alone", IN("/"), SLASH },
	{ "slash_inside", IN("a/b"), SLASH },
	{ "slash_at_end", IN("dir/"), SLASH },
	{ "dot_slash", IN("./"), SLASH },
	{ "dotdot_slash", IN("../x"), SLASH },
	{ "nul_alone", IN("\0"), NUL },
	{ "nul_inside", IN("a\0b"), NUL },
	{ "nul_at_end", IN("a.txt\0"), NUL },
	{ "nul_after_dotdot", IN("..\0"), NUL },
	{ "soh", IN("\x01"), CONTROL },
	{ "tab", IN("a\tb"), CONTROL },
	{ "newline", IN("a\nb"), CONTROL },
	{ "carriage_return", IN("a.txt\r"), CONTROL },
	{ "escape", IN("\x1b[31mred"), CONTROL },
	{ "unit_separator", IN("a\x1f"), CONTROL },
	{ "del", IN("a\x7f"), CONTROL },
	{ "latin1", IN("caf\xe9.txt"), NOT_UTF8 },
	{ "lone_continuation", IN("\x80"), NOT_UTF8 },
	{ "truncated", IN("a\xc3"), NOT_UTF8 },
	{ "overlong_slash", IN("\xc0\xaf"), NOT_UTF8 },
	{ "overlong_dot", IN("\xc0\xae\xc0\xae"), NOT_UTF8 },
	{ "overlong_nul", IN("a\xc0\x80"), NOT_UTF8 },
	{ "surrogate", IN("\xed\xa0\x80"), NOT_UTF8 },
	{ "past_max", IN("\xf4\x90\x80\x80"), NOT_UTF8 },
	{ "byte_ff", IN("\xff"), NOT_UTF8 },
	/* The reasons come in a fixed order, whatever the byte order. */
	{ "slash_before_nul", IN("\0/"), SLASH },
	{ "slash_before_control", IN("\x01/"), SLASH },
	{ "slash_before_utf8", IN("\xff/"), SLASH },
	{ "nul_before_control", IN("\x01\0"), NUL },
	{ "nul_before_utf8", IN("\xff\0"), NUL },
	{ "control_before_utf8", IN("\xff\x01"), CONTROL },
};

START_TEST(check_refuses_with_reason)
{
	const struct bad_name *c = &bad_names[_i];
	const char *why = check_guarded(c->in, c->len);

	ck_assert_msg(why != NULL && strcmp(why, c->why) == 0,
	    "%s: reason \"%s\", expected \"%s\"", c->name,
	    why != NULL ? why : "(accepted)", c->why);
	why = "unset";
	ck_assert_int_eq(clean_guarded(c->in, c->len, NULL, &why), -1);
	ck_assert_str_eq(why, c->why);
}
END_TEST

static const struct good_name {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*nfc;
} good_names[] = {
	{ "plain", IN("image.jpg"), "image.jpg" },
	{ "space", IN(" "), " " },
	{ "three_dots", IN("..."), "..." },
	{ "dot_dot_x", IN("..x"), "..x" },
	{ "dotfile", IN(".bashrc"), ".bashrc" },
	/* Linux allows it; only a Windows client would make it a separator. */
	{ "backslash", IN("a\\b"), "a\\b" },
	{ "dotdot_backslash", IN("..\\x"), "..\\x" },
	{ "colon_star_question", IN("a:*?<>|\""), "a:*?<>|\"" },
	{ "c1_control_range", IN("\xc2\x85"), "\xc2\x85" },
	{ "noncharacter", IN("\xef\xbf\xbf"), "\xef\xbf\xbf" },
	{ "emoji", IN("\xf0\x9f\x98\x80.png"), "\xf0\x9f\x98\x80.png" },
	/* macOS sends NFD; the name is stored as NFC. */
	{ "nfd_e_acute", IN("e\xcc\x81.txt"), "\xc3\xa9.txt" },
	{ "nfc_e_acute", IN("\xc3\xa9.txt"), "\xc3\xa9.txt" },
	{ "nfd_hangul", IN("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab.txt"),
	    "\xed\x95\x9c.txt" },
	{ "kelvin_sign", IN("\xe2\x84\xaa"), "K" },
};

START_TEST(clean_gives_nfc)
{
	const struct good_name *c = &good_names[_i];
	char out[NAME_MAX + 1];
	const char *why = "unset";
	int n = clean_guarded(c->in, c->len, out, &why);

	ck_assert_msg(n >= 0, "%s: refused: %s", c->name, why);
	ck_assert_str_eq(out, c->nfc);
	ck_assert_int_eq(n, (int)strlen(c->nfc));
}
END_TEST

/* The limit applies to the NFC form, not to what the client sent. */
START_TEST(length_limit_applies_after_nfc)
{
	static char marks[2 * (NFC_MAX_SEGMENT + 1)];
	char in[NAME_CAP], out[NAME_MAX + 1];
	const char *why;
	size_t len;

	len = build(in, "a", NAME_MAX, "");
	ck_assert_int_eq(clean_guarded(in, len, out, &why), NAME_MAX);
	len = build(in, "a", NAME_MAX + 1, "");
	ck_assert_int_eq(clean_guarded(in, len, out, &why), -1);
	ck_assert_str_eq(why, TOO_LONG);

	/* 153 + 51 * 3 = 306 bytes in, 153 + 51 * 2 = 255 out. */
	len = build(in, "a", 153, "");
	len += build(in + len, "e\xcc\x81", 51, "");
	ck_assert_int_eq(clean_guarded(in, len, out, &why), NAME_MAX);
	ck_assert(nfc_is_nfc(out, NAME_MAX));
	len = build(in, "a", 154, "");
	len += build(in + len, "e\xcc\x81", 51, "");
	ck_assert_int_eq(clean_guarded(in, len, out, &why), -1);
	ck_assert_str_eq(why, TOO_LONG);

	/* 127 two-byte characters and one byte more or less. */
	len = build(in, "\xc3\xa9", 127, "x");
	ck_assert_int_eq(clean_guarded(in, len, out, &why), NAME_MAX);
	len = build(in, "\xc3\xa9", 128, "");
	ck_assert_int_eq(clean_guarded(in, len, out, &why), -1);
	ck_assert_str_eq(why, TOO_LONG);

	/* A segment nfc.c refuses is far over the limit in NFC anyway. */
	for (size_t i = 0; i <= NFC_MAX_SEGMENT; i++)
		memcpy(marks + 2 * i, "\xcc\x96", 2);
	ck_assert_int_eq(clean_guarded(marks, sizeof(marks), out, &why), -1);
	ck_assert_str_eq(why, TOO_LONG);
}
END_TEST

/*
 * Numbered names
 */

static const struct numbered_case {
	const char	*name;
	unsigned	 n;
	const char	*out;
} numbered_cases[] = {
	{ "image.jpg", 1, "image (1).jpg" },
	{ "image.jpg", 2, "image (2).jpg" },
	{ "image.jpg", 10, "image (10).jpg" },
	{ "README", 1, "README (1)" },
	{ ".bashrc", 1, ".bashrc (1)" },
	{ ".config.json", 3, ".config (3).json" },
	{ "archive.tar.gz", 1, "archive (1).tar.gz" },
	{ "archive.tar.xz", 1, "archive (1).tar.xz" },
	{ "archive.tar.bz2", 1, "archive (1).tar.bz2" },
	{ "archive.tar.zst", 1, "archive (1).tar.zst" },
	{ "ARCHIVE.TAR.GZ", 4, "ARCHIVE (4).TAR.GZ" },
	{ "a.Tar.Bz2", 1, "a (1).Tar.Bz2" },
	{ "archive.tgz", 1, "archive (1).tgz" },
	{ "archive.tar.7z", 1, "archive.tar (1).7z" },
	{ "archive.gz", 1, "archive (1).gz" },
	{ "my.tar.gz.txt", 1, "my.tar.gz (1).txt" },
	/* Nothing before the double extension: the last dot decides. */
	{ ".tar.gz", 1, ".tar (1).gz" },
	{ "a.b.c", 1, "a.b (1).c" },
	{ "notes.", 1, "notes. (1)" },
	{ "...", 1, "... (1)" },
	{ "..foo", 1, ". (1).foo" },
	{ "a\\b.txt", 1, "a\\b (1).txt" },
	{ "\xc3\xa9t\xc3\xa9.txt", 7, "\xc3\xa9t\xc3\xa9 (7).txt" },
	{ "x", 4294967295u, "x (4294967295)" },
	{ "x.y", 0, "x (0).y" },
};

START_TEST(numbered_case)
{
	const struct numbered_case *c = &numbered_cases[_i];
	size_t len = strlen(c->name);
	char *g = tu_guarded(c->name, len), *o = out_buffer();
	int n = upname_numbered(g, len, c->n, o);

	ck_assert_str_eq(o, c->out);
	ck_assert_int_eq(n, (int)strlen(c->out));
	ck_assert_ptr_null(upname_check(o, (size_t)n));
	tu_guard_free(o);
	tu_guard_free(g);
}
END_TEST

/*
 * Numbers name[0..len) and checks what holds for every valid NFC name:
 * the result fits, passes upname_check(), is NFC, ends with " (n)" and
 * the extension, and starts with the stem or the longest prefix of it
 * that fits, cut at a character.  ext is the extension expected, or ""
 * when the stem must swallow it.
 */
static void
check_numbered(const char *name, size_t len, unsigned n, const char *ext)
{
	char *g = tu_guarded(name, len), *o = out_buffer();
	char tail[NAME_CAP];
	size_t tlen, olen, stem_len = len - strlen(ext);
	int r = upname_numbered(g, len, n, o);

	tlen = (size_t)snprintf(tail, sizeof(tail), " (%u)%s", n, ext);
	CHECK(r >= 0 && r <= NAME_MAX, "%d bytes from %zu", r, len);
	olen = (size_t)r;
	CHECK(strlen(o) == olen, "returned %zu for \"%s\"", olen, o);
	CHECK(upname_check(o, olen) == NULL, "\"%s\" refused: %s", o,
	    upname_check(o, olen));
	CHECK(nfc_is_nfc(o, olen), "\"%s\" is not NFC", o);
	CHECK(olen >= tlen && memcmp(o + olen - tlen, tail, tlen) == 0,
	    "\"%s\" does not end in \"%s\"", o, tail);
	CHECK(memcmp(o, name, olen - tlen) == 0, "\"%s\" lost its stem", o);
	if (stem_len + tlen <= NAME_MAX)
		CHECK(olen - tlen == stem_len, "\"%s\" cut needlessly", o);
	else
		/* Cut short by less than one character of at most 4 bytes. */
		CHECK(olen >= NAME_MAX - 3, "\"%s\" cut too short", o);
	tu_guard_free(o);
	tu_guard_free(g);
}

/*
 * Numbers every name of reps copies of piece then ext, for every reps
 * that keeps the name within NAME_MAX, with suffixes of 4, 5 and 13
 * bytes.
 */
static void
sweep(const char *piece, const char *ext)
{
	static const unsigned ns[] = { 1, 42, 4294967295u };

	for (size_t reps = 1; reps <= NAME_MAX; reps++) {
		char name[NAME_CAP];
		size_t len = build(name, piece, reps, ext);

		if (len > NAME_MAX)
			break;
		for (size_t k = 0; k < NELEM(ns); k++)
			check_numbered(name, len, ns[k], ext);
	}
}

/*
 * Stems of every length up to 255 bytes, of characters 1 to 4 bytes wide
 * and of a letter with a combining mark that does not compose (so that a
 * cut may part them), with and without extensions.
 */
START_TEST(numbered_fits_at_every_length)
{
	static const char *const pieces[] = {
		"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
		"q\xcc\x87", "\xea\xb0\x81",
	};
	static const char *const exts[] = {
		"", ".txt", ".tar.gz", ".tar.zst", ".x",
	};

	for (size_t p = 0; p < NELEM(pieces); p++)
		for (size_t e = 0; e < NELEM(exts); e++)
			sweep(pieces[p], exts[e]);
}
END_TEST

/* An extension that leaves no room for the stem becomes part of it. */
START_TEST(numbered_swallows_extension_without_room)
{
	char name[NAME_CAP];
	size_t len;

	/* "a." and 253 bytes: the extension alone is 254. */
	len = build(name, "a.", 1, "");
	len += build(name + len, "x", NAME_MAX - len, "");
	check_numbered(name, len, 1, "");
	/* One byte of room, and a two-byte stem: swallowed. */
	len = build(name, "\xc3\xa9.", 1, "");
	len += build(name + len, "x", 249, "");
	check_numbered(name, len, 1, "");
	/* One byte of room for a one-byte stem: the extension stays. */
	len = build(name, "a.", 1, "");
	len += build(name + len, "x", 249, "");
	check_numbered(name, len, 1, name + 1);
}
END_TEST

/* Bytes no valid name holds are still handled within bounds. */
START_TEST(numbered_survives_any_bytes)
{
	static const struct {
		const char	*in;
		size_t		 len;
	} odd[] = {
		{ IN("") }, { IN(".") }, { IN("..") }, { IN("\xff\xfe.\x80") },
		{ IN("a\0b.c") }, { IN(".tar.gz") },
	};
	char big[NAME_CAP];

	for (size_t i = 0; i < NELEM(odd); i++) {
		char *g = tu_guarded(odd[i].in, odd[i].len), *o = out_buffer();
		int n = upname_numbered(g, odd[i].len, 3, o);

		ck_assert_int_ge(n, 0);
		ck_assert_int_le(n, NAME_MAX);
		tu_guard_free(o);
		tu_guard_free(g);
	}
	/* Longer than NAME_MAX: cut like any stem. */
	memset(big, 'z', sizeof(big));
	memcpy(big + sizeof(big) - 5, ".txt", 5);
	check_numbered(big, sizeof(big) - 1, 9, ".txt");
}
END_TEST

static Suite *
upname_suite(void)
{
	Suite *s = suite_create("upname");
	TCase *tc;

	tc = tcase_create("check");
	tcase_add_loop_test(tc, check_refuses_with_reason, 0,
	    NELEM(bad_names));
	tcase_add_loop_test(tc, clean_gives_nfc, 0, NELEM(good_names));
	tcase_add_test(tc, length_limit_applies_after_nfc);
	suite_add_tcase(s, tc);

	tc = tcase_create("numbered");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, numbered_case, 0, NELEM(numbered_cases));
	tcase_add_test(tc, numbered_fits_at_every_length);
	tcase_add_test(tc, numbered_swallows_extension_without_room);
	tcase_add_test(tc, numbered_survives_any_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(upname_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
