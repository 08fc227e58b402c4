/*
 * dav_dest.h - the Destination header of COPY and MOVE (RFC 4918 §10.3).
 *
 * The value is an absolute URI or an absolute path; either way it must
 * name a place on this server.  Pure: no I/O, so it is fuzzed alone.
 */
#ifndef LANHTTPD_DAV_DEST_H
#define LANHTTPD_DAV_DEST_H

#include <stdbool.h>
#include <stddef.h>

#include "path.h"
#include "span.h"

/*
 * Parses the Destination value v of a request whose Host header is host
 * (SPAN_NULL when it had none: any authority is taken) and normalises
 * its path as path_normalize() does into out[0..cap) with *pr.  A URI
 * whose scheme is not http or https, with userinfo, a fragment or no
 * path, is 400; one whose authority differs from host (ASCII case
 * ignored) is 502 (§9.8.5: another server).  A query is ignored.
 * Returns 0 or the status.
 */
int	dav_dest_parse(struct span v, struct span host, bool allow_hidden,
	    char *out, size_t cap, struct path_result *pr);

#endif /* LANHTTPD_DAV_DEST_H */
