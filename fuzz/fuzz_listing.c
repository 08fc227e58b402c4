/*
 * fuzz_listing.c - libFuzzer entry point for listing formatting.
 *
 * The input is a list of names separated by '/' (the one byte besides NUL
 * that no name on disk can hold); the first byte picks the sort key, the
 * order, the language and the first entry of the page.  Properties beyond
 * "no crash, no sanitizer report": the HTML and JSON pages are valid
 * UTF-8 whatever the names; no name can open a tag (the page holds no
 * "<script", "<img" or "<iframe" of its own); the JSON holds no raw
 * control byte.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listing.h"
#include "upload_ui.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_utf8(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len(s + i, len - i);

		assert(n > 0);
		i += n;
	}
}

static bool
contains(const char *s, size_t len, const char *needle)
{
	return memmem(s, len, needle, strlen(needle)) != NULL;
}

/* How often needle occurs in s[0..len). */
static size_t
count(const char *s, size_t len, const char *needle)
{
	size_t n = 0, nlen = strlen(needle);
	const char *p = s, *end = s + len;

	while ((p = memmem(p, (size_t)(end - p), needle, nlen)) != NULL) {
		n++;
		p += nlen;
	}
	return n;
}

/* The "<script" tags the upload block itself has in lang (none off). */
static size_t
block_scripts(const struct listing_view *v)
{
	struct hbuf b;
	size_t n;

	if (!v->writable)
		return 0;
	hb_init_heap(&b);
	upload_ui_html(&b, v->lang);
	assert(!b.overflow);
	n = count(b.p, b.len, "<script");
	hb_release(&b);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct listing_view v = { 0 };
	struct listing l;
	struct hbuf html, json;
	size_t i = 1, dir_len;

	if (size < 1)
		return 0;
	v.sort = (enum listing_sort)(data[0] % 3);
	v.desc = (data[0] & 4) != 0;
	v.lang = (data[0] & 8) ? LANG_ZH : LANG_EN;
	v.start = data[0] >> 4;		/* pages that start past some names */
	/* A folder that takes uploads: the same rows, with the upload block. */
	v.writable = size > 1 && (data[1] & 1) != 0;
	listing_init(&l);
	while (i < size) {
		const char *slash = memchr(in + i, '/', size - i);
		size_t n = slash != NULL ? (size_t)(slash - (in + i)) :
		    size - i;
		size_t nul = strnlen(in + i, n);

		/* Names on disk hold neither '/' nor NUL. */
		if (nul > 0 && listing_add(&l, in + i, nul, (in[i] & 1) != 0,
		    (uint64_t)n * 1000003u, (time_t)n * 86400) != 0)
			break;
		i += n + 1;
	}
	listing_sort(&l, v.sort, v.desc);
	/* The first name doubles as the folder's own name. */
	dir_len = l.n > 0 ? l.ents[0].name_len : 0;
	hb_init_heap(&html);
	hb_init_heap(&json);
	assert(listing_html(&l, l.names, dir_len, &v, &html) == 0);
	assert(listing_json(&l, l.names, dir_len, &v, &json) == 0);
	check_utf8(html.p, html.len);
	check_utf8(json.p, json.len);
	/*
	 * Names never add markup: the only scripts are the upload block's,
	 * the only image the folder's own QR code.
	 */
	assert(count(html.p, html.len, "<script") == block_scripts(&v) &&
	    count(html.p, html.len, "<img") == 1 &&
	    contains(html.p, html.len, "<img src=\"?qr\"") &&
	    !contains(html.p, html.len, "<iframe"));
	for (size_t k = 0; k < json.len; k++)
		assert((unsigned char)json.p[k] >= 0x20 || json.p[k] == '\n');
	hb_release(&html);
	hb_release(&json);
	listing_release(&l);
	return 0;
}
