/*
 * dav_xml.h - the XML of WebDAV (RFC 4918): parsing PROPFIND, PROPPATCH
 * and LOCK bodies, and writing property elements back out.
 *
 * The parsers run libexpat with namespace processing and nothing else: a
 * DOCTYPE is refused outright (so no entity can ever be declared, let
 * alone expanded or fetched), parameter entities are off and there is no
 * external entity handler.  Element depth, the number of properties and
 * the bytes kept are bounded; the caller bounds the body.  Anything that
 * is not well-formed, or not namespace-well-formed (an unbound prefix,
 * xmlns:p=""), is -EINVAL, and so is a body whose root is not the DAV:
 * element the method asks for.  Unknown elements inside are skipped
 * (RFC 4918 §17) except where skipping would change the meaning: an
 * unknown lock scope or lock type is -EINVAL.
 *
 * Each result owns one heap arena that all its spans point into; every
 * span there is followed by a NUL byte in the arena (names and values
 * hold no NUL of their own, as XML cannot carry one), so .p can also be
 * used as a C string.  Free a result with its _free() function, which
 * takes NULL and zeroed results; a failed parse leaves *out zeroed.
 *
 * Values are re-serialised rather than copied (for dead properties and
 * the lock owner): character data is escaped as by dav_xml_escape(),
 * every element is written with a prefix "ns0" (or "xml" for the XML
 * namespace) and declares that prefix itself unless its parent in the
 * value is in the same namespace (an element in no namespace is written
 * unprefixed with xmlns="" the same way), namespaced attributes get
 * prefixes "ns1", "ns2"... declared on their element, an element without
 * content becomes <x/>, and comments and processing instructions are
 * dropped.  So a value is self-contained, well-formed XML content that
 * does not depend on the prefixes in scope where it is pasted, and
 * parsing it again gives exactly the same bytes back.
 *
 * No globals and no I/O: every function is thread-safe.
 */
#ifndef LANHTTPD_DAV_XML_H
#define LANHTTPD_DAV_XML_H

#include <stdbool.h>
#include <stddef.h>

#include "http_response.h"
#include "span.h"

/* The namespace of RFC 4918's own elements. */
#define DAV_XML_NS		"DAV:"
/* Open elements at once, the root included; deeper is -E2BIG. */
#define DAV_XML_MAX_DEPTH	32
/* Property names in a PROPFIND or operations in a PROPPATCH; more is -E2BIG. */
#define DAV_XML_MAX_PROPS	1000
/* Bytes a result's arena may hold (re-serialising can grow a value); more is -E2BIG. */
#define DAV_XML_MAX_ARENA	(8u << 20)

/*
 * A property name: its namespace URI (may be empty: no namespace) and
 * local name.  Spans point into the result's arena.
 */
struct dav_pname {
	struct span	 ns;
	struct span	 name;
};

enum dav_pf_kind { DAV_PF_ALLPROP, DAV_PF_PROPNAME, DAV_PF_PROP };

struct dav_propfind {
	enum dav_pf_kind kind;
	struct dav_pname *props;	/* DAV_PF_PROP: the names asked for; DAV_PF_ALLPROP: those of <include> */
	size_t		 n;
	char		*arena;		/* owns the bytes; free with dav_propfind_free */
};

/*
 * Parses a PROPFIND body (RFC 4918 §14.20 propfind) from body[0..len);
 * len 0 means allprop (§9.1) with no names and a NULL arena.  The root
 * must be DAV:propfind holding exactly one of DAV:prop, DAV:allprop or
 * DAV:propname; DAV:include is taken only beside DAV:allprop.  Names come
 * in document order, repeats kept; DAV:prop may be empty (n 0).  Returns
 * 0, -EINVAL (not well-formed or not a propfind: answer 400), -E2BIG
 * (more than DAV_XML_MAX_PROPS names, too deep, too big) or -ENOMEM.
 */
int	dav_xml_propfind(const char *body, size_t len, struct dav_propfind *out);

/* Frees pf's memory and zeroes it; NULL and zeroed results are fine. */
void	dav_propfind_free(struct dav_propfind *pf);

struct dav_patch_op {
	bool		 remove;	/* <remove> rather than <set> */
	struct dav_pname p;
	struct span	 value;		/* <set>: the property element's content re-serialised; empty for remove */
};

struct dav_proppatch {
	struct dav_patch_op *ops;	/* in document order (RFC 4918 §9.2: applied in order) */
	size_t		 n;
	char		*arena;
};

/*
 * Parses a PROPPATCH body (RFC 4918 §14.19 propertyupdate) from
 * body[0..len).  Each property element inside DAV:set/DAV:prop or
 * DAV:remove/DAV:prop is one op, in document order; the content of a
 * removed one is ignored, and the attributes of a set one (xml:lang) are
 * not kept.  A body without any op gives n 0.  Returns 0, -EINVAL (not
 * well-formed, empty or not a propertyupdate: 400), -E2BIG (more than
 * DAV_XML_MAX_PROPS ops, too deep, values too big) or -ENOMEM.
 */
int	dav_xml_proppatch(const char *body, size_t len, struct dav_proppatch *out);

/* Frees pp's memory and zeroes it; NULL and zeroed results are fine. */
void	dav_proppatch_free(struct dav_proppatch *pp);

struct dav_lockinfo {
	bool		 shared;	/* <lockscope><shared/>, else exclusive */
	struct span	 owner;		/* the whole <D:owner>...</D:owner> element re-serialised, or empty */
	char		*arena;
};

/*
 * Parses a LOCK body (RFC 4918 §14.11 lockinfo) from body[0..len).  The
 * root must be DAV:lockinfo with one DAV:lockscope holding exactly one of
 * DAV:exclusive or DAV:shared, and one DAV:locktype holding DAV:write and
 * nothing else; DAV:owner is optional and comes back as a whole element
 * (written <ns0:owner xmlns:ns0="DAV:">...</ns0:owner>).  An empty body
 * (a refresh) is not for this function: it gives -EINVAL.  Returns 0,
 * -EINVAL (not well-formed, not a lockinfo, a scope or type missing,
 * repeated or unknown), -E2BIG (too deep, owner too big) or -ENOMEM.
 */
int	dav_xml_lockinfo(const char *body, size_t len, struct dav_lockinfo *out);

/* Frees li's memory and zeroes it; NULL and zeroed results are fine. */
void	dav_lockinfo_free(struct dav_lockinfo *li);

/*
 * Appends s[0..len) to out as XML character data or attribute content
 * (in double quotes): & < > " ' become entity references and CR becomes
 * &#13; (a raw CR would be read back as LF); bytes that are not part of
 * well-formed UTF-8, control characters other than TAB LF CR, and the
 * non-characters U+FFFE and U+FFFF (none allowed in XML 1.0) become
 * U+FFFD.  Overflow is recorded in out as hb_add() does.
 */
void	dav_xml_escape(struct hbuf *out, const char *s, size_t len);

/*
 * Same as dav_xml_escape() but also writes TAB and LF as character
 * references, so that an attribute value keeps them through attribute
 * value normalisation (XML 1.0 §3.3.3).
 */
void	dav_xml_escape_attr(struct hbuf *out, const char *s, size_t len);

/*
 * Appends a property element holding value, which must be as the parsers
 * here produce it (or plain text escaped with dav_xml_escape()):
 * <P:name xmlns:P="ns">value</P:name>, <name xmlns="">value</name> when
 * ns is empty, <xml:name> for the XML namespace, and <P:name
 * xmlns:P="ns"/> when value is empty.  The prefix "P" is one the
 * serialiser never produces, so it cannot capture a name in the value.
 * p.name must be an XML NCName (any name the parsers return is).
 */
void	dav_xml_prop(struct hbuf *out, struct dav_pname p, struct span value);

/*
 * True when doc[0..len) is one well-formed XML element with its
 * namespaces bound and no DOCTYPE: what dav_xml_prop() made of a name
 * and value read back from the disk (an extended attribute that anyone
 * with access to the files may have written) before it goes into an
 * answer.
 */
bool	dav_xml_well_formed(const char *doc, size_t len);

#endif /* LANHTTPD_DAV_XML_H */
