/*
 * playlist.h - a folder's audio and video files as an extended M3U
 * playlist (GET /folder/?m3u).
 *
 * Pure: the caller reads and sorts the folder (listing.h) and checks the
 * Host it builds the base URL from; this module only formats.  Names on
 * disk are untrusted bytes, and an M3U file is a list of lines, so no name
 * may end a line: in a title every control character and Unicode line
 * break becomes a space and bytes that are not UTF-8 become U+FFFD; in a
 * URL every byte but the unreserved ones is percent-encoded.  Thread-safe:
 * all state is in the arguments.
 */
#ifndef LANHTTPD_PLAYLIST_H
#define LANHTTPD_PLAYLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "http_response.h"
#include "listing.h"
#include "mime.h"
#include "span.h"

/*
 * The Content-Type to send the playlist with: M3U8 is the UTF-8 form of
 * M3U, which players recognise by this type.
 */
#define PLAYLIST_CONTENT_TYPE	"audio/x-mpegurl; charset=utf-8"

/* A base URL longer than this is refused ("http://" + a 255-byte Host). */
#define PLAYLIST_BASE_MAX	512

struct playlist_opts {
	/*
	 * The server's media types, or NULL for the built-in extension list
	 * alone.  A file is media when its type starts with "audio/" or
	 * "video/" (playlists excepted) or its extension is one players
	 * commonly take (.mp3 .m4a .aac .flac .ogg .oga .opus .wav .mka .mp4
	 * .m4v .mkv .webm .mov .avi .ts).
	 */
	const struct mime_table *mime;
	/*
	 * The scheme and authority every URL starts with, without a trailing
	 * '/': "http://192.168.1.5:8080".  At most PLAYLIST_BASE_MAX bytes of
	 * printable ASCII without spaces; build it from a Host header that
	 * passed http_host_plain() (http_parse.h).
	 */
	struct span	 base;
	/*
	 * When not NULL, appends to a file's URL the query that lets a
	 * player without the browser's cookies fetch it ("?t=..."), as
	 * listing_view.file_query does: it gets the file's name in the
	 * folder (not NUL-terminated) and appends to out.
	 */
	void		(*file_query)(void *arg, const char *name, size_t len,
			    struct hbuf *out);
	void		*file_query_arg;
};

/*
 * True when the file name[0..len) is audio or video under the rules of
 * playlist_opts.mime above; mime may be NULL.
 */
bool	playlist_is_media(const struct mime_table *mime, const char *name,
	    size_t len);

/*
 * Appends to out the extended M3U playlist of the files of l that are
 * media, in l's order (folders and other files are skipped; nothing is
 * read from disk):
 *
 *	#EXTM3U
 *	#EXTINF:-1,TITLE
 *	BASE/DIR/NAME[QUERY]
 *
 * TITLE is the name without its extension (a leading dot is not one),
 * cleaned as the top of this file says.  DIR is dir[0..dir_len), the
 * folder's path from the root as raw bytes without a leading or trailing
 * '/' ("" for the root): it and NAME are percent-encoded
 * (path_encode_set() with PCT_STRICT), keeping the '/' between segments.
 * QUERY is what o->file_query appends, if anything.  Returns the number
 * of entries written, -EINVAL when o->base is not acceptable, or -ENOMEM
 * when out overflowed.
 */
int	playlist_m3u(const struct listing *l, const char *dir, size_t dir_len,
	    const struct playlist_opts *o, struct hbuf *out);

/*
 * Appends the title of the file name[0..len) as playlist_m3u() writes it
 * after "#EXTINF:-1,".  For tests and the fuzzer.
 */
void	playlist_title(struct hbuf *out, const char *name, size_t len);

#endif /* LANHTTPD_PLAYLIST_H */
