/*
 * playlist.c - extended M3U playlists of a folder's media; see playlist.h.
 *
 * An M3U file is read line by line, and a line starting with '#' is a
 * directive, so the one danger is a name that breaks a line: a title
 * could then carry a URL of its own choosing.  Titles therefore lose
 * every control character (C0, DEL, C1) and the Unicode line and
 * paragraph separators, which some players also split on; URLs are
 * percent-encoded with the strict set, which leaves only unreserved
 * bytes and '/', so they cannot break a line, start a directive, or be
 * cut short by a '#' or '?' in a name.
 */
#include "playlist.h"

#include <errno.h>
#include <string.h>

#include "path.h"

#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD in UTF-8 */

/*
 * Extensions that players take whatever the media type table says about
 * them, for tables that lack some (a mime.types without .opus).
 */
static const char *const media_exts[] = {
	"mp3", "m4a", "aac", "flac", "ogg", "oga", "opus", "wav", "mka",
	"mp4", "m4v", "mkv", "webm", "mov", "avi", "ts",
};

/* Audio types that are playlists themselves: never nested. */
static const char *const playlist_types[] = {
	"audio/x-mpegurl", "audio/mpegurl", "audio/x-scpls",
};

/* The extension of name[0..len): after its last '.', not a leading one. */
static struct span
name_ext(const char *name, size_t len)
{
	for (size_t i = len; i > 1; i--)
		if (name[i - 1] == '.')
			return span_make(name + i, len - i);
	return SPAN_NULL;
}

/* True when type, up to its parameters, starts with audio/ or video/. */
static bool
media_type(const char *type)
{
	size_t n = strcspn(type, "; \t");
	struct span t = span_make(type, n);

	if (!span_starts_nocase(t, SPAN_LIT("audio/")) &&
	    !span_starts_nocase(t, SPAN_LIT("video/")))
		return false;
	for (size_t i = 0; i < sizeof(playlist_types) /
	    sizeof(playlist_types[0]); i++)
		if (span_eq_cstr_nocase(t, playlist_types[i]))
			return false;
	return true;
}

bool
playlist_is_media(const struct mime_table *mime, const char *name,
    size_t len)
{
	struct span ext = name_ext(name, len);

	if (mime != NULL) {
		const char *type = mime_lookup(mime, name, len);

		/* The table decides about the extensions it knows. */
		if (strcmp(type, MIME_DEFAULT) != 0)
			return media_type(type);
	}
	if (ext.len == 0)
		return false;
	for (size_t i = 0; i < sizeof(media_exts) / sizeof(media_exts[0]); i++)
		if (span_eq_cstr_nocase(ext, media_exts[i]))
			return true;
	return false;
}

/*
 * Whether the n-byte UTF-8 sequence at p is a bidirectional formatting
 * character (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069), which
 * would reorder the title around it (the listing page hides them too).
 */
static bool
is_bidi_control(const unsigned char *p, size_t n)
{
	if (n == 2)
		return p[0] == 0xd8 && p[1] == 0x9c;
	if (n != 3 || p[0] != 0xe2)
		return false;
	return (p[1] == 0x80 && ((p[2] >= 0x8e && p[2] <= 0x8f) ||
	    (p[2] >= 0xaa && p[2] <= 0xae))) ||
	    (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9);
}

/*
 * What the well-formed n-byte UTF-8 character at p becomes in a title:
 * " " for a C1 control or U+2028/U+2029 (line breaks to some players),
 * U+FFFD for a bidirectional formatting character, NULL to keep it.
 */
static const char *
title_char(const unsigned char *p, size_t n)
{
	if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		return " ";
	if (n == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    (p[2] == 0xa8 || p[2] == 0xa9))
		return " ";
	return is_bidi_control(p, n) ? REPLACEMENT : NULL;
}

void
playlist_title(struct hbuf *out, const char *name, size_t len)
{
	struct span ext = name_ext(name, len);
	size_t end = ext.p != NULL ? len - ext.len - 1 : len;
	size_t i = 0, run = 0;

	while (i < end) {
		unsigned char c = (unsigned char)name[i];
		const char *rep = NULL;
		size_t n = 1;

		if (c >= 0x80) {
			n = utf8_seq_len(name + i, end - i);
			rep = n == 0 ? REPLACEMENT :
			    title_char((const unsigned char *)name + i, n);
			if (n == 0)
				n = 1;
		} else if (c < 0x20 || c == 0x7f) {
			rep = " ";
		}
		if (rep != NULL) {
			hb_add(out, name + run, i - run);
			hb_str(out, rep);
			run = i + n;
		}
		i += n;
	}
	hb_add(out, name + run, end - run);
}

/* Appends s[0..len) percent-encoded with PCT_STRICT ('/' stays). */
static void
url_add(struct hbuf *out, const char *s, size_t len)
{
	char tmp[3 * 256 + 1];
	size_t i = 0;

	/* In pieces, so a long path needs no big buffer. */
	while (i < len) {
		size_t n = len - i < 256 ? len - i : 256;

		if (path_encode_set(s + i, n, PCT_STRICT, tmp, sizeof(tmp)) >=
		    sizeof(tmp)) {
			out->overflow = true;	/* cannot be: 3 * 256 fit */
			return;
		}
		hb_str(out, tmp);
		i += n;
	}
}

/* The base is written as it is: it must not be able to break a line. */
static bool
base_ok(struct span b)
{
	if (b.p == NULL || b.len == 0 || b.len > PLAYLIST_BASE_MAX)
		return false;
	for (size_t i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.p[i];

		if (c <= 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

/* One entry: its #EXTINF line and its URL line. */
static void
m3u_entry(struct hbuf *out, const char *dir, size_t dir_len,
    const char *name, size_t len, const struct playlist_opts *o)
{
	hb_str(out, "#EXTINF:-1,");
	playlist_title(out, name, len);
	hb_add(out, "\n", 1);
	hb_add(out, o->base.p, o->base.len);
	hb_add(out, "/", 1);
	if (dir_len > 0) {
		url_add(out, dir, dir_len);
		hb_add(out, "/", 1);
	}
	url_add(out, name, len);
	if (o->file_query != NULL)
		o->file_query(o->file_query_arg, name, len, out);
	hb_add(out, "\n", 1);
}

int
playlist_m3u(const struct listing *l, const char *dir, size_t dir_len,
    const struct playlist_opts *o, struct hbuf *out)
{
	int n = 0;

	if (!base_ok(o->base))
		return -EINVAL;
	hb_str(out, "#EXTM3U\n");
	for (size_t i = 0; i < l->n; i++) {
		const struct listing_entry *e = &l->ents[i];
		const char *name = l->names + e->name_off;

		if (e->is_dir || !playlist_is_media(o->mime, name, e->name_len))
			continue;
		m3u_entry(out, dir, dir_len, name, e->name_len, o);
		n++;
	}
	return out->overflow ? -ENOMEM : n;
}
