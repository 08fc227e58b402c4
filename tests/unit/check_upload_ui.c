/*
 * check_upload_ui.c - the upload block of a writable folder's page: its
 * forms without a script, its words per language, and the script hash the
 * Content-Security-Policy names.
 */
#include <check.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "upload_ui.h"

/* The block in lang, NUL-terminated; the caller frees it. */
static char *
block(enum ui_lang lang)
{
	struct hbuf out;

	hb_init_heap(&out);
	upload_ui_html(&out, lang);
	hb_add(&out, "", 1);
	ck_assert(!out.overflow);
	return out.p;
}

/* The text between open and the next "</script>" in s; NULL if none. */
static const char *
between(const char *s, const char *open, size_t *len)
{
	const char *b = strstr(s, open), *e;

	*len = 0;
	if (b == NULL)
		return NULL;
	b += strlen(open);
	if ((e = strstr(b, "</script>")) == NULL)
		return NULL;
	*len = (size_t)(e - b);
	return b;
}

/* ---- SHA-256 (FIPS 180-4), only to check the policy's hash ---- */

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b,
	0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
	0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
	0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152,
	0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
	0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
	0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
	0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t
ror(uint32_t x, int n)
{
	return x >> n | x << (32 - n);
}

static void
sha_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], v[8];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++)
		w[i] = w[i - 16] + (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^
		    w[i - 15] >> 3) + w[i - 7] + (ror(w[i - 2], 17) ^
		    ror(w[i - 2], 19) ^ w[i - 2] >> 10);
	memcpy(v, h, sizeof(v));
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^
		    ror(v[4], 25)) + ((v[4] & v[5]) ^ (~v[4] & v[6])) +
		    sha_k[i] + w[i];
		uint32_t t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
		    ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));

		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		h[i] += v[i];
}

static void
sha256(const char *s, size_t len, unsigned char out[32])
{
	uint32_t h[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	unsigned char tail[128] = { 0 };
	size_t i, rest, n;

	for (i = 0; i + 64 <= len; i += 64)
		sha_block(h, (const unsigned char *)s + i);
	rest = len - i;
	memcpy(tail, s + i, rest);
	tail[rest] = 0x80;
	n = rest < 56 ? 64 : 128;
	for (int b = 0; b < 8; b++)
		tail[n - 1 - b] = (unsigned char)((uint64_t)len * 8 >> 8 * b);
	sha_block(h, tail);
	if (n == 128)
		sha_block(h, tail + 64);
	for (int j = 0; j < 32; j++)
		out[j] = (unsigned char)(h[j / 4] >> (24 - 8 * (j % 4)));
}

static void
base64(const unsigned char *p, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 |
		    (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
		    (i + 2 < n ? p[i + 2] : 0);

		*out++ = a[v >> 18 & 63];
		*out++ = a[v >> 12 & 63];
		*out++ = i + 1 < n ? a[v >> 6 & 63] : '=';
		*out++ = i + 2 < n ? a[v & 63] : '=';
	}
	*out = '\0';
}

START_TEST(sha256_known_answers)
{
	unsigned char d[32];
	char b[48];

	sha256("", 0, d);
	base64(d, sizeof(d), b);
	ck_assert_str_eq(b, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	sha256("abc", 3, d);
	base64(d, sizeof(d), b);
	ck_assert_str_eq(b, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}
END_TEST

START_TEST(script_hash_is_the_policys)
{
	char *p = block(_i == 0 ? LANG_EN : LANG_ZH);
	unsigned char d[32];
	char b[48], want[64];
	size_t len;
	const char *s = between(p, "<script>", &len);

	ck_assert_ptr_nonnull(s);
	sha256(s, len, d);
	base64(d, sizeof(d), b);
	snprintf(want, sizeof(want), "'sha256-%s'", b);
	ck_assert_msg(strcmp(want, UPLOAD_UI_SCRIPT_HASH) == 0,
	    "the script changed: UPLOAD_UI_SCRIPT_HASH should be %s", want);
	ck_assert_ptr_nonnull(strstr(UPLOAD_UI_CSP, UPLOAD_UI_SCRIPT_HASH));
	ck_assert_ptr_nonnull(strstr(UPLOAD_UI_CSP, "connect-src 'self'"));
	free(p);
}
END_TEST

/* Without a script: two multipart forms that post to the folder. */
START_TEST(forms_work_without_the_script)
{
	char *p = block(_i == 0 ? LANG_EN : LANG_ZH);
	const char *f = strstr(p, "<form id=\"up-f\" method=\"post\" "
	    "action=\"./\" enctype=\"multipart/form-data\">");
	const char *t;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(strstr(f, "<input type=\"file\" name=\"file\" "
	    "multiple"));
	ck_assert_ptr_nonnull(strstr(f, "<button type=\"submit\">"));
	t = strstr(f + 1, "<form method=\"post\" action=\"./\" "
	    "enctype=\"multipart/form-data\">");
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(strstr(t, "<textarea name=\"text\""));
	ck_assert_ptr_nonnull(strstr(t, "<button type=\"submit\">"));
	free(p);
}
END_TEST

struct words_case {
	enum ui_lang	 lang;
	const char	*has[4];
	const char	*lacks;
};

static const struct words_case words_cases[] = {
	{ LANG_EN, { ">Upload</button>", ">Paste text</summary>",
	    "\"rename\":\"Rename\"", "\"mkdir\":\"New folder\"" }, "上传" },
	{ LANG_ZH, { ">上传</button>", ">粘贴文本</summary>",
	    "\"rename\":\"重命名\"", "\"mkdir\":\"新建文件夹\"" }, ">Upload" },
};

START_TEST(words_follow_the_language)
{
	const struct words_case *c = &words_cases[_i];
	char *p = block(c->lang);

	for (size_t i = 0; i < 4; i++)
		ck_assert_msg(strstr(p, c->has[i]) != NULL, "lang %d lacks %s",
		    (int)c->lang, c->has[i]);
	ck_assert_msg(strstr(p, c->lacks) == NULL, "lang %d has %s",
	    (int)c->lang, c->lacks);
	free(p);
}
END_TEST

/*
 * The key "name": of the word S.name at q in the script s, into key[cap];
 * false when q is not such a use (an S inside another name).
 */
static bool
word_key(const char *s, const char *q, char *key, size_t cap)
{
	size_t n = 0;

	if (q > s && (isalnum((unsigned char)q[-1]) || q[-1] == '_' ||
	    q[-1] == '$' || q[-1] == '.'))
		return false;
	key[n++] = '"';
	for (q += 2; n + 3 < cap && isalpha((unsigned char)*q); q++)
		key[n++] = *q;
	memcpy(key + n, "\":", 3);
	return n > 1;
}

/* Every S.word the script reads is in both languages' words. */
START_TEST(script_words_exist_in_every_language)
{
	char *en = block(LANG_EN), *zh = block(LANG_ZH);
	size_t len, jen, jzh, used = 0;
	const char *s = between(en, "<script>", &len);
	const char *wen = between(en, "id=\"up-s\">", &jen);
	const char *wzh = between(zh, "id=\"up-s\">", &jzh);
	char key[40];

	ck_assert(s != NULL && wen != NULL && wzh != NULL);
	/* Nothing in the words can end their script element. */
	ck_assert(memchr(wen, '<', jen) == NULL);
	ck_assert(memchr(wzh, '<', jzh) == NULL);
	for (const char *q = s; (q = strstr(q, "S.")) != NULL &&
	    q < s + len; q += 2) {
		if (!word_key(s, q, key, sizeof(key)))
			continue;
		ck_assert_msg(memmem(wen, jen, key, strlen(key)) != NULL,
		    "no English %s", key);
		ck_assert_msg(memmem(wzh, jzh, key, strlen(key)) != NULL,
		    "no Chinese %s", key);
		used++;
	}
	ck_assert_uint_ge(used, 10);
	free(en);
	free(zh);
}
END_TEST

/* Names reach the page only as text: no HTML parsing from the script. */
START_TEST(script_never_parses_html)
{
	static const char *const bad[] = {
		"innerHTML", "outerHTML", "insertAdjacentHTML",
		"document.write", "eval(", "new Function",
	};
	char *en = block(LANG_EN), *zh = block(LANG_ZH);
	size_t len, len2;
	const char *s = between(en, "<script>", &len);
	const char *s2 = between(zh, "<script>", &len2);

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(s2);
	/* One script for every language: one hash in the policy. */
	ck_assert(len == len2 && memcmp(s, s2, len) == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(strstr(s, bad[i]) == NULL ||
		    strstr(s, bad[i]) > s + len, "script uses %s", bad[i]);
	ck_assert_ptr_nonnull(strstr(s, "encodeURIComponent"));
	ck_assert_ptr_nonnull(strstr(s, "textContent"));
	free(en);
	free(zh);
}
END_TEST

START_TEST(style_is_only_rules)
{
	struct hbuf out;

	hb_init_heap(&out);
	upload_ui_style(&out);
	hb_add(&out, "", 1);
	ck_assert(!out.overflow);
	ck_assert_ptr_nonnull(strstr(out.p, ".upl{"));
	ck_assert_ptr_null(strchr(out.p, '<'));
	hb_release(&out);
}
END_TEST

static Suite *
upload_ui_suite(void)
{
	Suite *s = suite_create("upload_ui");
	TCase *tc = tcase_create("block");

	tcase_add_test(tc, sha256_known_answers);
	tcase_add_loop_test(tc, script_hash_is_the_policys, 0, 2);
	tcase_add_loop_test(tc, forms_work_without_the_script, 0, 2);
	tcase_add_loop_test(tc, words_follow_the_language, 0,
	    sizeof(words_cases) / sizeof(words_cases[0]));
	tcase_add_test(tc, script_words_exist_in_every_language);
	tcase_add_test(tc, script_never_parses_html);
	tcase_add_test(tc, style_is_only_rules);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(upload_ui_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
