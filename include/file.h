/*
 * file.h - what a response needs to know about a file: validators (ETag,
 * Last-Modified) computed in one place from its metadata, the Range
 * arithmetic (RFC 9110 §14) and the evaluation of conditional requests
 * (RFC 9110 §13).
 *
 * Pure and thread-safe: no I/O, no allocation.  Header values are spans
 * into the request and are parsed with explicit lengths.
 */
#ifndef LANHTTPD_FILE_H
#define LANHTTPD_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "http_parse.h"
#include "http_response.h"
#include "span.h"

/* '"' + three 16-digit hex numbers, dashes, a variant suffix, '"', NUL */
#define FILE_ETAG_MAX	64

struct file_info {
	uint64_t	 size;
	time_t		 mtime;
	time_t		 ctime;		/* the inode's last change */
	char		 etag[FILE_ETAG_MAX];
	size_t		 etag_len;
	char		 last_modified[HTTP_DATE_LEN + 1];
	bool		 undated;	/* no Last-Modified: dates are ignored */
	bool		 date_strong;	/* the date alone names one version */
};

/*
 * Fills fi from st.  The strong ETag combines the inode (unless
 * with_inode is false, for replicas that must agree), the size and the
 * modification time in nanoseconds.  variant (NULL or a short tag such as
 * "br") is appended, so each encoding of a file has its own ETag even when
 * the metadata of two files happens to agree.
 *
 * Last-Modified has whole seconds, so two versions written within one
 * second share it.  It is marked strong (RFC 9110 §8.8.2.2) only when the
 * modification time is a whole second that was stamped on the file after
 * that second had passed (its ctime is later: an archive, rsync, touch
 * -d); a file written in place has a fraction of a second on every
 * filesystem with fine timestamps, and one without them (ctime in the
 * same second) could have been written twice in it.
 */
void	file_info_from_stat(const struct stat *st, bool with_inode,
	    const char *variant, struct file_info *fi);

/*
 * RFC 9110 §8.8.2.1: a modification time later than now (a clock that was
 * wrong, a file from elsewhere) is sent, and compared, as the file's last
 * change (ctime), which every write and every utime() moves and which
 * stays put from one request to the next, so If-Modified-Since with the
 * date a client was given still matches; as now when the ctime is in the
 * future too.  The ETag keeps the real time.  Returns true when it
 * changed fi.
 */
bool	file_info_clamp(struct file_info *fi, time_t now);

/*
 * Appends the validator lines of fi (Last-Modified, ETag), then
 * "Cache-Control: max-age=N" unless max_age is -1, then "Vary:
 * Accept-Encoding" when vary: what a 200, a 206 and a 304 all repeat.
 */
void	file_validator_lines(struct hbuf *hb, const struct file_info *fi,
	    long max_age, bool vary);

/* A Range header with more range-specs than this is ignored (200). */
#define RANGE_MAX_SPECS	64
/* At most this many parts in a multipart/byteranges response. */
#define RANGE_MAX_PARTS	16

struct byte_range {
	uint64_t	 off;
	uint64_t	 len;		/* > 0 */
};

struct range_set {
	struct byte_range r[RANGE_MAX_PARTS];
	size_t		 n;
};

enum range_result {
	RANGE_IGNORE,		/* no usable Range: the whole representation */
	RANGE_OK,		/* rs holds 1..RANGE_MAX_PARTS ranges: 206 */
	RANGE_UNSATISFIABLE,	/* 416 with Content-Range: bytes * / size */
};

/*
 * Evaluates the Range field value v against a representation of size
 * bytes (RFC 9110 §14.1.2).  A malformed value, another range unit, or an
 * empty representation asked for a suffix is RANGE_IGNORE.  So is a set
 * that would amplify: more than RANGE_MAX_SPECS specs, ranges that add up
 * to more than size bytes, or more than RANGE_MAX_PARTS parts left after
 * overlapping and adjacent ranges are coalesced.  Ranges stay in the
 * order asked unless some were coalesced; then they are in ascending
 * order.  None of the specs satisfiable is RANGE_UNSATISFIABLE.
 */
enum range_result	file_parse_range(struct span v, uint64_t size,
			    struct range_set *rs);

/*
 * The preconditions of a GET or HEAD request on the representation fi, in
 * the order of RFC 9110 §13.2.2: If-Match, else If-Unmodified-Since
 * (false: 412); then If-None-Match, else If-Modified-Since (false: 304).
 * The date fields are ignored when fi->undated (a representation without
 * Last-Modified, such as a listing).  Returns 0 when the request goes on,
 * 304 or 412.
 */
int	file_preconditions(const struct http_request *req,
	    const struct file_info *fi);

/*
 * If-Range (RFC 9110 §13.1.5): true when the validator v is a strong
 * entity tag equal to fi's, or an HTTP-date equal to its Last-Modified
 * when that date is strong (fi->date_strong).  A weak tag, a weak date or
 * anything unparsable is false (send the whole file).
 */
bool	file_if_range(struct span v, const struct file_info *fi);

#endif /* LANHTTPD_FILE_H */
