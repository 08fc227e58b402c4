/*
 * dav_dest.c - the Destination header: an absolute URI or path on this
 * server, normalised like a request's own path.
 */
#include <string.h>

#include "dav_dest.h"

/* Splits "scheme://authority/path" into authority and path; 0 or 400. */
static int
split_uri(struct span v, struct span *auth, struct span *path)
{
	size_t skip, i;

	if (span_starts_nocase(v, SPAN_LIT("http://")))
		skip = 7;
	else if (span_starts_nocase(v, SPAN_LIT("https://")))
		skip = 8;
	else
		return 400;
	for (i = skip; i < v.len && v.p[i] != '/'; i++)
		if (v.p[i] == '@' || v.p[i] == '?' || v.p[i] == '#')
			return 400;	/* userinfo, or no path */
	if (i == skip || i == v.len)
		return 400;
	*auth = span_make(v.p + skip, i - skip);
	*path = span_make(v.p + i, v.len - i);
	return 0;
}

int
dav_dest_parse(struct span v, struct span host, bool allow_hidden,
    char *out, size_t cap, struct path_result *pr)
{
	struct span auth = SPAN_NULL, path;
	ptrdiff_t q;
	int code;

	v = span_trim(v);
	if (v.len == 0)
		return 400;
	if (v.p[0] == '/') {
		path = v;
	} else {
		if ((code = split_uri(v, &auth, &path)) != 0)
			return code;
		if (host.p != NULL && !span_eq_nocase(auth, host))
			return 502;
	}
	if (span_find(path, '#') >= 0)
		return 400;
	if ((q = span_find(path, '?')) >= 0)
		path.len = (size_t)q;
	return path_normalize(path, allow_hidden, out, cap, pr);
}
