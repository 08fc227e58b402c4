/*
 * dav_xml.c - WebDAV request bodies through libexpat, and property
 * elements back out.
 *
 * DESIGN.  One SAX pass per body.  struct dx holds the parse: the role of
 * each open element (decided from its parent's role and its own name, so
 * the grammar of RFC 4918 lives in the classify functions), the
 * arena being built, and offset records for the names and values found.
 * The arena is a growable hbuf that moves as it grows, so records keep
 * offsets and become spans only once the parse is over.  A handler that
 * finds a problem stores the first error in dx.err and stops the parser;
 * every handler returns at once when dx.err is set, as expat may still
 * deliver an event or two after XML_StopParser().
 *
 * Serialising (a PROPPATCH value, the lock owner) writes straight into the
 * arena.  A start tag is left open ("<ns0:x ...") until the next event
 * shows whether the element has content, so empty elements come out as
 * <x/>.  scope[] remembers, for each open element of the value, which
 * namespace its "ns0" prefix or default namespace stands for, so that a
 * child in the same namespace need not declare it again; the URIs live in
 * a side buffer that is cut back as elements close.
 */
#include "dav_xml.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

/* The namespace the "xml" prefix is bound to, which no other may be. */
#define XML_XMLNS	"http://www.w3.org/XML/1998/namespace"
/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
#define UTF8_FFFD	"\xef\xbf\xbd"
/* Bytes handed to XML_Parse() at once (it takes an int). */
#define DX_CHUNK	(1u << 20)

enum dx_kind { DX_PROPFIND, DX_PROPPATCH, DX_LOCKINFO };

/* What an open element is to the parse. */
enum dx_role {
	R_SKIP,		/* ignored, with everything inside */
	R_ROOT,
	R_PF_PROP,	/* propfind/prop: children are names */
	R_PF_INCLUDE,	/* propfind/include: children are names */
	R_NAME,		/* a property name; its content is skipped */
	R_PP_SET,
	R_PP_REMOVE,
	R_PP_SETPROP,	/* set/prop: children are set ops */
	R_PP_RMPROP,	/* remove/prop: children are remove ops */
	R_PP_VALUE,	/* a property being set: its content is the value */
	R_LK_SCOPE,
	R_LK_TYPE,
	R_LK_OWNER,	/* serialised whole */
	R_SER,		/* an element inside a value, serialised */
};

/* What a serialised element binds, for its children to reuse. */
enum dx_bind { B_NONE, B_EMPTY, B_NS0, B_XML };

struct dx_scope {
	enum dx_bind	 bind;
	size_t		 uri_off;	/* B_NS0: the URI in dx.uris */
	size_t		 uri_len;
	size_t		 mark;		/* dx.uris.len before this element */
};

/* A name, or an op, found so far: offsets into the arena. */
struct dx_rec {
	size_t		 ns_off, ns_len;
	size_t		 name_off, name_len;
	size_t		 val_off, val_len;
	bool		 remove;
};

/* An expat name split at its separator: "uri local" or "local". */
struct dx_name {
	struct span	 ns;
	struct span	 local;
};

struct dx {
	XML_Parser	 xp;
	enum dx_kind	 kind;
	int		 err;
	unsigned	 depth;		/* open elements; the root is 1 */
	enum dx_role	 role[DAV_XML_MAX_DEPTH + 1];
	struct hbuf	 arena;
	struct dx_rec	*recs;
	size_t		 nrecs, caprecs;

	/* Serialising: elements deeper than ser_base belong to the value. */
	bool		 ser;
	unsigned	 ser_base;
	bool		 tag_open;
	struct dx_scope	 scope[DAV_XML_MAX_DEPTH + 1];
	struct hbuf	 uris;

	/* PROPFIND */
	int		 pf_kind;	/* an enum dav_pf_kind, or -1 */
	bool		 pf_include;
	/* LOCK */
	unsigned	 lk_scopes, lk_types, lk_owners;
	unsigned	 lk_excl, lk_shared, lk_write;
	size_t		 owner_off, owner_len;
};

/*
 * Escaping
 */

/* The replacement for ASCII byte c, or NULL when it is copied as it is. */
static const char *
esc_ascii(unsigned char c, bool attr)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	case '\r':
		return "&#13;";
	case '\t':
		return attr ? "&#9;" : NULL;
	case '\n':
		return attr ? "&#10;" : NULL;
	default:
		return c < 0x20 ? UTF8_FFFD : NULL;
	}
}

/*
 * The replacement for the character at s[0..len), or NULL when its *n
 * bytes are copied as they are.
 */
static const char *
esc_at(const char *s, size_t len, bool attr, size_t *n)
{
	unsigned char c = (unsigned char)s[0];

	*n = 1;
	if (c < 0x80)
		return esc_ascii(c, attr);
	if ((*n = utf8_seq_len(s, len)) == 0) {
		*n = 1;
		return UTF8_FFFD;
	}
	/* U+FFFE and U+FFFF are not XML 1.0 Chars (§2.2). */
	if (*n == 3 && c == 0xef && (unsigned char)s[1] == 0xbf &&
	    (unsigned char)s[2] >= 0xbe)
		return UTF8_FFFD;
	return NULL;
}

/* dav_xml_escape() and dav_xml_escape_attr(), as attr says. */
static void
esc(struct hbuf *out, const char *s, size_t len, bool attr)
{
	size_t i = 0, run = 0, n;

	if (len == 0)
		return;
	while (i < len) {
		const char *rep = esc_at(s + i, len - i, attr, &n);

		if (rep != NULL) {
			hb_add(out, s + run, i - run);
			hb_str(out, rep);
			run = i + n;
		}
		i += n;
	}
	hb_add(out, s + run, len - run);
}

void
dav_xml_escape(struct hbuf *out, const char *s, size_t len)
{
	esc(out, s, len, false);
}

void
dav_xml_escape_attr(struct hbuf *out, const char *s, size_t len)
{
	esc(out, s, len, true);
}

void
dav_xml_prop(struct hbuf *out, struct dav_pname p, struct span value)
{
	const char *pfx;

	hb_add(out, "<", 1);
	if (p.ns.len == 0) {
		pfx = "";
		hb_add(out, p.name.p, p.name.len);
		hb_str(out, " xmlns=\"\"");
	} else if (span_eq(p.ns, SPAN_LIT(XML_XMLNS))) {
		pfx = "xml:";
		hb_str(out, pfx);
		hb_add(out, p.name.p, p.name.len);
	} else {
		pfx = "P:";
		hb_str(out, pfx);
		hb_add(out, p.name.p, p.name.len);
		hb_str(out, " xmlns:P=\"");
		dav_xml_escape_attr(out, p.ns.p, p.ns.len);
		hb_add(out, "\"", 1);
	}
	if (value.len == 0) {
		hb_add(out, "/>", 2);
		return;
	}
	hb_add(out, ">", 1);
	hb_add(out, value.p, value.len);
	hb_add(out, "</", 2);
	hb_str(out, pfx);
	hb_add(out, p.name.p, p.name.len);
	hb_add(out, ">", 1);
}

/*
 * Parse state helpers
 */

/* Records err (the first one wins) and stops the parser. */
static void
dx_fail(struct dx *d, int err)
{
	if (d->err == 0)
		d->err = err;
	(void)XML_StopParser(d->xp, XML_FALSE);
}

/* Fails the parse when the arena or the URI stack ran out or grew too big. */
static void
dx_check(struct dx *d)
{
	if (d->arena.overflow || d->uris.overflow)
		dx_fail(d, -ENOMEM);
	else if (d->arena.len > DAV_XML_MAX_ARENA ||
	    d->uris.len > DAV_XML_MAX_ARENA)
		dx_fail(d, -E2BIG);
}

/* Splits expat's "uri local" at its last space (local names have none). */
static struct dx_name
dx_split(const XML_Char *s)
{
	size_t len = strlen(s);
	const char *sp = memrchr(s, ' ', len);
	struct dx_name n;

	if (sp == NULL) {
		n.ns = span_make(s, 0);
		n.local = span_make(s, len);
	} else {
		n.ns = span_make(s, (size_t)(sp - s));
		n.local = span_make(sp + 1, len - n.ns.len - 1);
	}
	return n;
}

/* True when n is the DAV: element local. */
static bool
is_dav(const struct dx_name *n, const char *local)
{
	return span_eq(n->ns, SPAN_LIT(DAV_XML_NS)) &&
	    span_eq(n->local, span_make(local, strlen(local)));
}

/* Copies s and a NUL into the arena; returns the offset of the copy. */
static size_t
dx_keep(struct dx *d, struct span s)
{
	size_t off = d->arena.len;

	hb_add(&d->arena, s.p, s.len);
	hb_add(&d->arena, "", 1);
	return off;
}

/* Appends a record for the name n (an op when remove says which). */
static struct dx_rec *
dx_add_rec(struct dx *d, const struct dx_name *n, bool remove)
{
	struct dx_rec *r;

	if (d->nrecs >= DAV_XML_MAX_PROPS) {
		dx_fail(d, -E2BIG);
		return NULL;
	}
	if (d->nrecs == d->caprecs) {
		size_t cap = d->caprecs == 0 ? 16 : d->caprecs * 2;

		if ((r = reallocarray(d->recs, cap, sizeof(*r))) == NULL) {
			dx_fail(d, -ENOMEM);
			return NULL;
		}
		d->recs = r;
		d->caprecs = cap;
	}
	r = &d->recs[d->nrecs++];
	memset(r, 0, sizeof(*r));
	r->remove = remove;
	r->ns_off = dx_keep(d, n->ns);
	r->ns_len = n->ns.len;
	r->name_off = dx_keep(d, n->local);
	r->name_len = n->local.len;
	return r;
}

/*
 * Serialiser
 */

/* Writes "nsK" for k into h. */
static void
put_prefix(struct hbuf *h, unsigned k)
{
	hb_add(h, "ns", 2);
	hb_u64(h, k);
}

/* Finishes a start tag left open, as its element turns out to have content. */
static void
ser_close_tag(struct dx *d)
{
	if (d->tag_open) {
		hb_add(&d->arena, ">", 1);
		d->tag_open = false;
	}
}

/*
 * Decides how the element at depth k in namespace ns is written: its
 * binding (with the URI pushed on the stack when new) and whether it must
 * declare it, from its parent's binding in the value.
 */
static bool
ser_bind(struct dx *d, unsigned k, struct span ns)
{
	const struct dx_scope *up = k > d->ser_base ? &d->scope[k - 1] : NULL;
	struct dx_scope *sc = &d->scope[k];

	sc->mark = d->uris.len;
	if (ns.len == 0) {
		sc->bind = B_EMPTY;
		return up == NULL || up->bind != B_EMPTY;
	}
	if (span_eq(ns, SPAN_LIT(XML_XMLNS))) {
		sc->bind = B_XML;
		return false;
	}
	sc->bind = B_NS0;
	if (up != NULL && up->bind == B_NS0 && up->uri_len == ns.len &&
	    memcmp(d->uris.p + up->uri_off, ns.p, ns.len) == 0) {
		sc->uri_off = up->uri_off;
		sc->uri_len = up->uri_len;
		return false;
	}
	sc->uri_off = d->uris.len;
	sc->uri_len = ns.len;
	hb_add(&d->uris, ns.p, ns.len);
	return true;
}

/* Writes the qualified name of an element bound as b: "ns0:x", "xml:x", "x". */
static void
ser_qname(struct hbuf *h, enum dx_bind b, struct span local)
{
	if (b == B_NS0)
		hb_add(h, "ns0:", 4);
	else if (b == B_XML)
		hb_add(h, "xml:", 4);
	hb_add(h, local.p, local.len);
}

/*
 * Writes the prefix of an attribute in namespace ns on an element bound as
 * b to ens: none, "xml:", "ns0:" or a fresh "nsK:" declared just before
 * it (*k counts those).
 */
static void
ser_attr_prefix(struct hbuf *h, struct span ns, enum dx_bind b,
    struct span ens, unsigned *k)
{
	if (ns.len == 0)
		return;
	if (span_eq(ns, SPAN_LIT(XML_XMLNS))) {
		hb_add(h, "xml:", 4);
		return;
	}
	if (b == B_NS0 && span_eq(ns, ens)) {
		hb_add(h, "ns0:", 4);
		return;
	}
	/*
	 * A prefix per attribute: no search for a namespace already declared
	 * on this element, so the cost stays linear in the attributes.  The
	 * expanded names were unique in the input, so they stay unique.
	 */
	hb_add(h, "xmlns:", 6);
	put_prefix(h, ++*k);
	hb_add(h, "=\"", 2);
	dav_xml_escape_attr(h, ns.p, ns.len);
	hb_add(h, "\" ", 2);
	put_prefix(h, *k);
	hb_add(h, ":", 1);
}

/* Writes the attributes atts (expat's name, value pairs) of an element bound as b to ns. */
static void
ser_attrs(struct dx *d, enum dx_bind b, struct span ns, const XML_Char **atts)
{
	struct hbuf *h = &d->arena;
	unsigned k = 0;

	for (size_t i = 0; atts[i] != NULL && atts[i + 1] != NULL; i += 2) {
		struct dx_name an = dx_split(atts[i]);

		hb_add(h, " ", 1);
		ser_attr_prefix(h, an.ns, b, ns, &k);
		hb_add(h, an.local.p, an.local.len);
		hb_add(h, "=\"", 2);
		dav_xml_escape_attr(h, atts[i + 1], strlen(atts[i + 1]));
		hb_add(h, "\"", 1);
	}
}

/* Writes the start tag of the element n at depth k, left open. */
static void
ser_start(struct dx *d, unsigned k, const struct dx_name *n,
    const XML_Char **atts)
{
	struct hbuf *h = &d->arena;
	bool decl;

	ser_close_tag(d);
	decl = ser_bind(d, k, n->ns);
	hb_add(h, "<", 1);
	ser_qname(h, d->scope[k].bind, n->local);
	if (decl && d->scope[k].bind == B_EMPTY)
		hb_str(h, " xmlns=\"\"");
	else if (decl) {
		hb_str(h, " xmlns:ns0=\"");
		dav_xml_escape_attr(h, n->ns.p, n->ns.len);
		hb_add(h, "\"", 1);
	}
	ser_attrs(d, d->scope[k].bind, n->ns, atts);
	d->tag_open = true;
}

/* Writes the end of the element n at depth k: "/>" or its end tag. */
static void
ser_end(struct dx *d, unsigned k, const struct dx_name *n)
{
	struct hbuf *h = &d->arena;

	if (d->tag_open) {
		hb_add(h, "/>", 2);
		d->tag_open = false;
	} else {
		hb_add(h, "</", 2);
		ser_qname(h, d->scope[k].bind, n->local);
		hb_add(h, ">", 1);
	}
	d->uris.len = d->scope[k].mark;
}

/* Starts serialising the content of the element at depth k. */
static void
ser_begin(struct dx *d, unsigned k)
{
	d->ser = true;
	d->ser_base = k;
	d->tag_open = false;
	d->scope[k].bind = B_NONE;
	d->scope[k].mark = d->uris.len;
}

/*
 * Element roles: RFC 4918's grammar for each body
 */

/* The role of a child, named n, of a propfind element whose role is up. */
static enum dx_role
pf_role(struct dx *d, enum dx_role up, const struct dx_name *n)
{
	static const struct {
		const char	*local;
		int		 kind;
		enum dx_role	 role;
	} top[] = {
		{ "prop", DAV_PF_PROP, R_PF_PROP },
		{ "allprop", DAV_PF_ALLPROP, R_SKIP },
		{ "propname", DAV_PF_PROPNAME, R_SKIP },
	};

	if (up == R_PF_PROP || up == R_PF_INCLUDE) {
		(void)dx_add_rec(d, n, false);
		return R_NAME;
	}
	if (up != R_ROOT)
		return R_SKIP;
	if (is_dav(n, "include")) {
		d->pf_include = true;
		return R_PF_INCLUDE;
	}
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		if (!is_dav(n, top[i].local))
			continue;
		/* §14.20: exactly one of prop, allprop, propname. */
		if (d->pf_kind != -1)
			dx_fail(d, -EINVAL);
		d->pf_kind = top[i].kind;
		return top[i].role;
	}
	return R_SKIP;
}

/* The role of a child, named n, of a propertyupdate element whose role is up. */
static enum dx_role
pp_role(struct dx *d, enum dx_role up, const struct dx_name *n)
{
	struct dx_rec *r;

	switch (up) {
	case R_ROOT:
		if (is_dav(n, "set"))
			return R_PP_SET;
		return is_dav(n, "remove") ? R_PP_REMOVE : R_SKIP;
	case R_PP_SET:
	case R_PP_REMOVE:
		if (!is_dav(n, "prop"))
			return R_SKIP;
		return up == R_PP_SET ? R_PP_SETPROP : R_PP_RMPROP;
	case R_PP_RMPROP:
		(void)dx_add_rec(d, n, true);
		return R_NAME;
	case R_PP_SETPROP:
		if ((r = dx_add_rec(d, n, false)) == NULL)
			return R_SKIP;
		ser_begin(d, d->depth);
		r->val_off = d->arena.len;
		return R_PP_VALUE;
	case R_PP_VALUE:
	case R_SER:
		return R_SER;
	default:
		return R_SKIP;
	}
}

/* The role of a child, named n, of a lockinfo element whose role is up. */
static enum dx_role
lk_role(struct dx *d, enum dx_role up, const struct dx_name *n)
{
	switch (up) {
	case R_ROOT:
		if (is_dav(n, "lockscope")) {
			d->lk_scopes++;
			return R_LK_SCOPE;
		}
		if (is_dav(n, "locktype")) {
			d->lk_types++;
			return R_LK_TYPE;
		}
		if (!is_dav(n, "owner"))
			return R_SKIP;
		d->lk_owners++;
		return R_LK_OWNER;
	case R_LK_SCOPE:
		if (is_dav(n, "exclusive"))
			d->lk_excl++;
		else if (is_dav(n, "shared"))
			d->lk_shared++;
		else
			dx_fail(d, -EINVAL);
		return R_SKIP;
	case R_LK_TYPE:
		if (is_dav(n, "write"))
			d->lk_write++;
		else
			dx_fail(d, -EINVAL);
		return R_SKIP;
	case R_LK_OWNER:
	case R_SER:
		return R_SER;
	default:
		return R_SKIP;
	}
}

/* The role of the root element n, or R_SKIP (after failing) when wrong. */
static enum dx_role
root_role(struct dx *d, const struct dx_name *n)
{
	static const char *const roots[] = {
		[DX_PROPFIND] = "propfind",
		[DX_PROPPATCH] = "propertyupdate",
		[DX_LOCKINFO] = "lockinfo",
	};

	if (is_dav(n, roots[d->kind]))
		return R_ROOT;
	dx_fail(d, -EINVAL);
	return R_SKIP;
}

/*
 * Expat handlers
 */

static void XMLCALL
dx_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct dx *d = ud;
	struct dx_name n;
	enum dx_role up, role;

	if (d->err != 0)
		return;
	if (d->depth >= DAV_XML_MAX_DEPTH) {
		dx_fail(d, -E2BIG);
		return;
	}
	n = dx_split(name);
	up = d->depth == 0 ? R_SKIP : d->role[d->depth];
	d->depth++;
	if (d->depth == 1)
		role = root_role(d, &n);
	else if (up == R_SKIP || up == R_NAME)
		role = R_SKIP;
	else if (d->kind == DX_PROPFIND)
		role = pf_role(d, up, &n);
	else if (d->kind == DX_PROPPATCH)
		role = pp_role(d, up, &n);
	else
		role = lk_role(d, up, &n);
	d->role[d->depth] = role;
	if (role == R_LK_OWNER) {
		/* The owner is kept whole: its own tag too. */
		ser_begin(d, d->depth);
		d->owner_off = d->arena.len;
	}
	if (role == R_SER || role == R_LK_OWNER)
		ser_start(d, d->depth, &n, atts);
	dx_check(d);
}

static void XMLCALL
dx_end(void *ud, const XML_Char *name)
{
	struct dx *d = ud;
	struct dx_name n;
	struct dx_rec *r;

	if (d->err != 0 || d->depth == 0)
		return;
	n = dx_split(name);
	switch (d->role[d->depth]) {
	case R_SER:
		ser_end(d, d->depth, &n);
		break;
	case R_PP_VALUE:
		r = &d->recs[d->nrecs - 1];
		r->val_len = d->arena.len - r->val_off;
		hb_add(&d->arena, "", 1);
		d->ser = false;
		break;
	case R_LK_OWNER:
		ser_end(d, d->depth, &n);
		d->owner_len = d->arena.len - d->owner_off;
		hb_add(&d->arena, "", 1);
		d->ser = false;
		break;
	default:
		break;
	}
	d->depth--;
	dx_check(d);
}

static void XMLCALL
dx_text(void *ud, const XML_Char *s, int len)
{
	struct dx *d = ud;

	/* Text outside values (whitespace between elements) is dropped. */
	if (d->err != 0 || !d->ser || len <= 0)
		return;
	ser_close_tag(d);
	dav_xml_escape(&d->arena, s, (size_t)len);
	dx_check(d);
}

/* Any DOCTYPE is refused, so no entity can be declared. */
static void XMLCALL
dx_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	dx_fail(ud, -EINVAL);
}

/* A DOCTYPE in a stored value stops dav_xml_well_formed()'s parser. */
static void XMLCALL
wf_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	(void)XML_StopParser(ud, XML_FALSE);
}

bool
dav_xml_well_formed(const char *doc, size_t len)
{
	XML_Parser xp;
	bool ok;

	if (len > INT_MAX || (xp = XML_ParserCreateNS(NULL, ' ')) == NULL)
		return false;
	XML_SetUserData(xp, xp);
	XML_SetStartDoctypeDeclHandler(xp, wf_doctype);
	ok = XML_SetParamEntityParsing(xp, XML_PARAM_ENTITY_PARSING_NEVER) !=
	    0 && XML_Parse(xp, doc, (int)len, XML_TRUE) == XML_STATUS_OK;
	XML_ParserFree(xp);
	return ok;
}

/* Belt and braces: an entity declaration cannot get past dx_doctype(). */
static void XMLCALL
dx_entity(void *ud, const XML_Char *name, int is_param,
    const XML_Char *value, int value_len, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	(void)name;
	(void)is_param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	dx_fail(ud, -EINVAL);
}

/*
 * Driver
 */

/* Sets d up for a parse of kind. */
static void
dx_init(struct dx *d, enum dx_kind kind)
{
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->pf_kind = -1;
	hb_init_heap(&d->arena);
	hb_init_heap(&d->uris);
}

/* Frees what d holds (the arena too unless it was taken). */
static void
dx_release(struct dx *d)
{
	hb_release(&d->arena);
	hb_release(&d->uris);
	free(d->recs);
	d->recs = NULL;
}

/* A new parser with d's handlers and nothing that could load or expand. */
static XML_Parser
dx_parser(struct dx *d)
{
	XML_Parser xp = XML_ParserCreateNS(NULL, ' ');

	if (xp == NULL)
		return NULL;
	XML_SetUserData(xp, d);
	XML_SetElementHandler(xp, dx_start, dx_end);
	XML_SetCharacterDataHandler(xp, dx_text);
	XML_SetStartDoctypeDeclHandler(xp, dx_doctype);
	XML_SetEntityDeclHandler(xp, dx_entity);
	/* No external entity handler: expat then never loads one. */
	if (XML_SetParamEntityParsing(xp,
	    XML_PARAM_ENTITY_PARSING_NEVER) == 0) {
		XML_ParserFree(xp);
		return NULL;
	}
	return xp;
}

/* Runs body[0..len) through d.  Returns 0 or a negative errno. */
static int
dx_run(struct dx *d, const char *body, size_t len)
{
	enum XML_Status st = XML_STATUS_OK;
	enum XML_Error xe;

	if ((d->xp = dx_parser(d)) == NULL)
		return -ENOMEM;
	do {
		size_t n = len < DX_CHUNK ? len : DX_CHUNK;

		st = XML_Parse(d->xp, body, (int)n, n == len);
		body += n;
		len -= n;
	} while (st == XML_STATUS_OK && len > 0);
	xe = XML_GetErrorCode(d->xp);
	XML_ParserFree(d->xp);
	d->xp = NULL;
	if (d->err != 0)
		return d->err;
	if (st != XML_STATUS_OK)
		return xe == XML_ERROR_NO_MEMORY ? -ENOMEM : -EINVAL;
	/* Room for at least one NUL, so a taken arena is never NULL. */
	hb_add(&d->arena, "", 1);
	if (d->arena.overflow)
		return -ENOMEM;
	return 0;
}

/* Takes d's arena, shrunk to fit. */
static char *
dx_take_arena(struct dx *d)
{
	char *p = d->arena.p, *q;

	if ((q = realloc(p, d->arena.len)) != NULL)
		p = q;
	hb_init_heap(&d->arena);
	return p;
}

/* A span of the arena a at off. */
static struct span
at(const char *a, size_t off, size_t len)
{
	return span_make(a + off, len);
}

int
dav_xml_propfind(const char *body, size_t len, struct dav_propfind *out)
{
	struct dx d;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		out->kind = DAV_PF_ALLPROP;
		return 0;
	}
	dx_init(&d, DX_PROPFIND);
	if ((rc = dx_run(&d, body, len)) != 0)
		goto out;
	rc = -EINVAL;
	/* §14.20: include goes with allprop only. */
	if (d.pf_kind == -1 || (d.pf_include && d.pf_kind != DAV_PF_ALLPROP))
		goto out;
	rc = -ENOMEM;
	if (d.nrecs > 0 && (out->props = calloc(d.nrecs,
	    sizeof(*out->props))) == NULL)
		goto out;
	rc = 0;
	out->kind = (enum dav_pf_kind)d.pf_kind;
	out->n = d.nrecs;
	out->arena = dx_take_arena(&d);
	for (size_t i = 0; i < d.nrecs; i++) {
		out->props[i].ns = at(out->arena, d.recs[i].ns_off,
		    d.recs[i].ns_len);
		out->props[i].name = at(out->arena, d.recs[i].name_off,
		    d.recs[i].name_len);
	}
out:
	dx_release(&d);
	return rc;
}

void
dav_propfind_free(struct dav_propfind *pf)
{
	if (pf == NULL)
		return;
	free(pf->props);
	free(pf->arena);
	memset(pf, 0, sizeof(*pf));
}

int
dav_xml_proppatch(const char *body, size_t len, struct dav_proppatch *out)
{
	struct dx d;
	int rc;

	memset(out, 0, sizeof(*out));
	dx_init(&d, DX_PROPPATCH);
	if ((rc = dx_run(&d, body, len)) != 0)
		goto out;
	rc = -ENOMEM;
	if (d.nrecs > 0 && (out->ops = calloc(d.nrecs,
	    sizeof(*out->ops))) == NULL)
		goto out;
	rc = 0;
	out->n = d.nrecs;
	out->arena = dx_take_arena(&d);
	for (size_t i = 0; i < d.nrecs; i++) {
		const struct dx_rec *r = &d.recs[i];
		struct dav_patch_op *op = &out->ops[i];

		op->remove = r->remove;
		op->p.ns = at(out->arena, r->ns_off, r->ns_len);
		op->p.name = at(out->arena, r->name_off, r->name_len);
		/* A remove's value is the empty string after its name. */
		op->value = r->remove ? at(out->arena, r->name_off +
		    r->name_len, 0) : at(out->arena, r->val_off, r->val_len);
	}
out:
	dx_release(&d);
	return rc;
}

void
dav_proppatch_free(struct dav_proppatch *pp)
{
	if (pp == NULL)
		return;
	free(pp->ops);
	free(pp->arena);
	memset(pp, 0, sizeof(*pp));
}

int
dav_xml_lockinfo(const char *body, size_t len, struct dav_lockinfo *out)
{
	struct dx d;
	int rc;

	memset(out, 0, sizeof(*out));
	dx_init(&d, DX_LOCKINFO);
	if ((rc = dx_run(&d, body, len)) != 0)
		goto out;
	/* §14.11: one lockscope of one kind, one locktype of write. */
	rc = -EINVAL;
	if (d.lk_scopes != 1 || d.lk_excl + d.lk_shared != 1 ||
	    d.lk_types != 1 || d.lk_write != 1 || d.lk_owners > 1)
		goto out;
	rc = 0;
	out->shared = d.lk_shared == 1;
	out->arena = dx_take_arena(&d);
	/* Without an owner, the arena's single NUL. */
	out->owner = at(out->arena, d.owner_off, d.owner_len);
out:
	dx_release(&d);
	return rc;
}

void
dav_lockinfo_free(struct dav_lockinfo *li)
{
	if (li == NULL)
		return;
	free(li->arena);
	memset(li, 0, sizeof(*li));
}
