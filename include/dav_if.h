/*
 * dav_if.h - the WebDAV request headers that carry conditions and
 * options (RFC 4918 §10): If, Timeout, Depth, Overwrite and Lock-Token.
 *
 * Pure: no I/O, no allocation, no globals, so every function is
 * thread-safe.  The parsers keep spans into their input and nothing
 * else; the input must outlive the result.  Everything here is applied
 * to untrusted bytes and never reads outside the span it is given.
 */
#ifndef LANHTTPD_DAV_IF_H
#define LANHTTPD_DAV_IF_H

#include <stdbool.h>
#include <stddef.h>

#include "span.h"

/* Conditions in one If header, over all its lists; more is malformed. */
#define DAV_IF_MAX_CONDS	64
/* Lists in one If header; more is malformed. */
#define DAV_IF_MAX_LISTS	32

/* One Condition of a List. */
struct dav_if_cond {
	bool		 not;		/* "Not" before it */
	bool		 is_etag;	/* [etag] rather than <state-token> */
	/*
	 * The state token without < >, or the entity-tag inside [ ]
	 * exactly as written (quotes and W/ included, LWS around it
	 * dropped).
	 */
	struct span	 v;
};

/* One List, with the Resource-Tag in front of it when there was one. */
struct dav_if_list {
	/* The resource URL without < >; len 0 for an untagged list. */
	struct span	 tag;
	/* Its conditions: conds[first .. first+n). */
	size_t		 first, n;
};

struct dav_if {
	struct dav_if_cond conds[DAV_IF_MAX_CONDS];
	size_t		 nconds;
	struct dav_if_list lists[DAV_IF_MAX_LISTS];
	size_t		 nlists;
	/* A Tagged-list (all lists have a tag then). */
	bool		 tagged;
};

/*
 * Parses the If header value p[0..len) (RFC 4918 §10.4):
 *
 *   If = ( 1*No-tag-list | 1*Tagged-list )
 *   No-tag-list = List
 *   Tagged-list = Resource-Tag 1*List
 *   List = "(" 1*Condition ")"
 *   Condition = ["Not"] (State-token | "[" entity-tag "]")
 *   State-token = Coded-URL = "<" absolute-URI ">"
 *   Resource-Tag = "<" Simple-ref ">"
 *
 * with optional LWS (SP, HTAB) between any two of those tokens.  "Not"
 * is matched ignoring case.  What is inside < > must be one or more
 * bytes, none of them a control, SP, DEL, '<' or '>' (bytes >= 0x80 are
 * let through, the URI itself is the caller's to judge).  An entity-tag
 * is ["W/"] DQUOTE *etagc DQUOTE (RFC 9110 §8.8.3), where SP and HTAB
 * also count as etagc since RFC 4918's own examples use them; a
 * backslash is just a byte (no quoted-pair).  A Resource-Tag applies to
 * every List after it up to the next tag.
 *
 * Returns 0 with *out filled in (spans point into p), or -1 when the
 * value is malformed (the caller answers 400) with out->nconds and
 * out->nlists set to 0.  Malformed: an empty value, mixing tagged and
 * untagged lists, an empty list "()", a tag with no list after it,
 * anything outside the grammar, more than DAV_IF_MAX_CONDS conditions
 * or more than DAV_IF_MAX_LISTS lists.  out is large (about 2.5 KiB).
 */
int	dav_if_parse(const char *p, size_t len, struct dav_if *out);

/*
 * How conditions are checked against a resource: the caller resolves a
 * tag (an absolute or absolute-path URL, or an empty span = the
 * request's own resource) to its resource.
 */
struct dav_if_check {
	/*
	 * True when token is a state token (lock token) of the resource
	 * url refers to.
	 */
	bool	(*token_ok)(void *arg, struct span url, struct span token);
	/*
	 * True when etag matches the resource's current entity-tag (strong
	 * comparison; a resource that does not exist matches nothing).
	 */
	bool	(*etag_ok)(void *arg, struct span url, struct span etag);
	void	*arg;
};

/*
 * Evaluates a parsed If header: true when at least one list is true; a
 * list is true when all its conditions are (each negated by Not).
 * Untagged lists apply to the request's resource (the url span passed to
 * the callbacks is then empty); a tagged list passes its tag.  Both
 * callbacks must be set.  A list stops at its first false condition and
 * the evaluation at the first true list, so a callback is not called for
 * every condition.  An If with no lists (not a parse result) is false.
 */
bool	dav_if_eval(const struct dav_if *h, const struct dav_if_check *c);

/*
 * The lock tokens the If header submits (RFC 4918 §10.4.1, §7.5): every
 * state token not preceded by "Not", tagged or not, in header order.
 * Stores at most cap of them in out (spans into the header) and returns
 * how many it stored; DAV_IF_MAX_CONDS is always enough.  Meant for
 * dav_lock_may_write().
 */
size_t	dav_if_tokens(const struct dav_if *h, struct span *out, size_t cap);

/*
 * Timeout header (RFC 4918 §10.7): a comma list of "Second-N" or
 * "Infinite" ("Second-" and "Infinite" matched ignoring case); the
 * first one understood wins.  N (any number of digits, read without
 * overflow) is raised to 1, so a lock never expires the moment it is
 * made, then capped at max_s; Infinite gives max_s.  Absent (v.p ==
 * NULL) or with nothing understood: def_s, as it is.  Returns seconds.
 */
unsigned	dav_parse_timeout(struct span v, unsigned def_s,
		    unsigned max_s);

/* Depth: infinity. */
#define DAV_DEPTH_INF	2

/*
 * Depth header (RFC 4918 §10.2), OWS around it ignored: "0" -> 0, "1" ->
 * 1, "infinity" (any case) -> DAV_DEPTH_INF; absent (v.p == NULL) ->
 * def; anything else -> -1 (the caller answers 400).
 */
int	dav_parse_depth(struct span v, int def);

/*
 * Overwrite header (RFC 4918 §10.6), OWS around it ignored: "T" -> 1,
 * "F" -> 0, absent (v.p == NULL) -> 1, anything else (lower case too)
 * -> -1.
 */
int	dav_parse_overwrite(struct span v);

/*
 * Lock-Token header (RFC 4918 §10.5): a Coded-URL "<token>" with
 * optional LWS around it.  Sets *token to the bytes inside < > (a span
 * into v) and returns true, or returns false when malformed or absent;
 * the inside follows the same rule as in dav_if_parse().
 */
bool	dav_parse_lock_token(struct span v, struct span *token);

#endif /* LANHTTPD_DAV_IF_H */
