/*
 * negotiate.h - proactive content negotiation (RFC 9110 §12): which
 * precompressed encoding to send (Accept-Encoding), which language the
 * listing page speaks (Accept-Language), and whether a listing is wanted
 * as JSON (Accept).
 *
 * Pure and thread-safe: reads only the request's header spans.  Quality
 * values are handled in thousandths (q=0.5 is 500); an element whose q is
 * malformed is skipped, q=0 means "not acceptable".
 */
#ifndef LANHTTPD_NEGOTIATE_H
#define LANHTTPD_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>

#include "http_parse.h"
#include "span.h"

/* The content codings a precompressed sibling can carry. */
enum coding {
	CODING_IDENTITY = 0,
	CODING_GZIP,
	CODING_BR,
};

#define CODING_MAX	2	/* compressed codings we know */

/* Languages the listing page is written in. */
enum ui_lang {
	LANG_EN = 0,
	LANG_ZH,		/* Simplified Chinese */
};

/*
 * Takes the next element of a comma-separated list of
 * "value;param=x;q=0.5" elements from *rest.  Stores the value (before
 * the first ';', trimmed) in *item and its q in *q (1000 when absent).
 * Elements with a malformed q are skipped.  Returns false at the end.
 */
bool	negotiate_next(struct span *rest, struct span *item, unsigned *q);

/*
 * The compressed codings the client accepts (RFC 9110 §12.5.3), best
 * first: higher q first, br before gzip on a tie.  "x-gzip" counts as
 * gzip and "*" covers codings not named.  A coding the client ranks below
 * an explicitly listed identity is left out.  Without an Accept-Encoding
 * field nothing is returned: unlike the RFC's "anything goes", we never
 * send a compressed body to a client that did not ask for one.  Stores up
 * to CODING_MAX codings in out and returns how many.
 */
size_t	negotiate_encodings(const struct http_request *req,
	    enum coding out[CODING_MAX]);

/*
 * The listing language (RFC 9110 §12.5.4, basic filtering): Simplified
 * Chinese when the client ranks Chinese ("zh" or "zh-...") above English
 * ("en" or "en-..."), or equally but listed first; "*" stands for
 * whichever of the two is not named.  Anything else, or no field at all,
 * is English.
 */
enum ui_lang	negotiate_language(const struct http_request *req);

/*
 * True when Accept ranks application/json strictly above text/html, each
 * taking the q of its most specific matching range (a full media type
 * over a type wildcard over the catch-all).  No Accept field, or the
 * catch-all alone, is HTML.
 */
bool	negotiate_wants_json(const struct http_request *req);

#endif /* LANHTTPD_NEGOTIATE_H */
