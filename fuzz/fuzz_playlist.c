/*
 * fuzz_playlist.c - libFuzzer entry point for the ?m3u playlist and the
 * Host check.
 *
 * The input is a list of names separated by '/' (the one byte besides NUL
 * that no name on disk can hold); the first name doubles as the folder,
 * and a name whose first byte has bit 1 set gets ".mp3" added so that
 * most entries are media.  The first input byte picks whether a per-file
 * query is appended.  Properties beyond "no crash, no sanitizer report":
 * the playlist is valid UTF-8 with no control byte but '\n'; it has
 * exactly 1 + 2 * count lines, each an #EXTM3U or #EXTINF line or a URL;
 * every URL holds only unreserved bytes, '/' and %XX escapes (plus the
 * query), and decodes to exactly the folder and name it was made from.
 * A Host that http_host_plain() accepts holds only host[:port] bytes.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"
#include "playlist.h"

#define BASE	"http://h:1"

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

static void
fixed_query(void *arg, const char *name, size_t len, struct hbuf *out)
{
	(void)arg;
	(void)name;
	(void)len;
	hb_str(out, "?t=AB-c_d");
}

/* Decodes the URL path u[0..len) into out; false on a byte not allowed. */
static bool
url_decode(const char *u, size_t len, char *out, size_t *olen)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c == '%') {
			assert(i + 2 < len);
			assert(hex_value((unsigned char)u[i + 1]) >= 0 &&
			    hex_value((unsigned char)u[i + 2]) >= 0);
			out[n++] = (char)(hex_value((unsigned char)u[i + 1]) <<
			    4 | hex_value((unsigned char)u[i + 2]));
			i += 2;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || c == '/'))
			return false;
		out[n++] = (char)c;
	}
	*olen = n;
	return true;
}

/* The URL line u[0..len) names dir/name (the query cut off first). */
static void
check_url(const char *u, size_t len, const char *dir, size_t dir_len,
    const struct listing_entry *e, const char *names, bool query)
{
	static char dec[8192], want[8192];
	size_t dlen, wlen = 0;

	assert(len >= sizeof(BASE) && memcmp(u, BASE "/", sizeof(BASE)) == 0);
	u += sizeof(BASE);
	len -= sizeof(BASE);
	if (query) {
		assert(len >= 9 && memcmp(u + len - 9, "?t=AB-c_d", 9) == 0);
		len -= 9;
	}
	assert(len < sizeof(dec) && url_decode(u, len, dec, &dlen));
	if (dir_len > 0) {
		memcpy(want, dir, dir_len);
		want[dir_len] = '/';
		wlen = dir_len + 1;
	}
	memcpy(want + wlen, names + e->name_off, e->name_len);
	wlen += e->name_len;
	assert(dlen == wlen && memcmp(dec, want, wlen) == 0);
}

/* Walks the playlist's lines against the media entries of l. */
static void
check_lines(const struct hbuf *out, const struct listing *l, const char *dir,
    size_t dir_len, int count, bool query)
{
	const char *p = out->p, *end = out->p + out->len;
	size_t line = 0, ent = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len;

		assert(nl != NULL);
		len = (size_t)(nl - p);
		if (line == 0) {
			assert(len == 7 && memcmp(p, "#EXTM3U", 7) == 0);
		} else if (line % 2 == 1) {
			assert(len >= 11 && memcmp(p, "#EXTINF:-1,", 11) == 0);
		} else {
			while (l->ents[ent].is_dir || !playlist_is_media(NULL,
			    l->names + l->ents[ent].name_off,
			    l->ents[ent].name_len))
				ent++;
			check_url(p, len, dir, dir_len, &l->ents[ent++],
			    l->names, query);
		}
		line++;
		p = nl + 1;
	}
	assert(line == 1 + 2 * (size_t)count);
}

static void
check_host(const char *in, size_t size)
{
	struct span h = span_make(in, size < 300 ? size : 300);

	if (!http_host_plain(h))
		return;
	for (size_t i = 0; i < h.len; i++)
		assert(h.p[i] != '\0' && strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]", h.p[i]) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct playlist_opts o = { .mime = NULL, .base = SPAN_LIT(BASE) };
	struct listing l;
	struct hbuf out;
	char name[300];
	size_t i = 1, dir_len;
	int r;

	if (size < 1)
		return 0;
	check_host(in, size);
	if (data[0] & 1)
		o.file_query = fixed_query;
	listing_init(&l);
	while (i < size) {
		const char *slash = memchr(in + i, '/', size - i);
		size_t n = slash != NULL ? (size_t)(slash - (in + i)) :
		    size - i;
		size_t nul = strnlen(in + i, n);

		/* Names on disk hold neither '/' nor NUL, and fit NAME_MAX. */
		if (nul > 255)
			nul = 255;
		memcpy(name, in + i, nul);
		if (nul > 0 && (in[i] & 2) != 0 && nul + 4 <= 255) {
			memcpy(name + nul, ".mp3", 4);
			nul += 4;
		}
		if (nul > 0 && listing_add(&l, name, nul, (in[i] & 1) != 0, 1,
		    0) != 0)
			break;
		i += n + 1;
	}
	/* The first name doubles as the folder's own path. */
	dir_len = l.n > 0 ? l.ents[0].name_len : 0;
	hb_init_heap(&out);
	r = playlist_m3u(&l, l.names, dir_len, &o, &out);
	assert(r >= 0);
	check_utf8(out.p, out.len);
	for (size_t k = 0; k < out.len; k++)
		assert((unsigned char)out.p[k] >= 0x20 || out.p[k] == '\n');
	assert(out.p[out.len - 1] == '\n');
	check_lines(&out, &l, l.names, dir_len, r, o.file_query != NULL);
	hb_release(&out);
	listing_release(&l);
	return 0;
}
