/*
 * check_dav_xml.c - unit tests for the WebDAV XML bodies and the property
 * element writer.
 *
 * Bodies go through tu_guarded(), so a read past the end crashes the test
 * even without ASan.  Re-serialised values are checked two ways: byte for
 * byte against what the serialiser is meant to write, and for meaning, by
 * running both the original element and dav_xml_prop()'s output through
 * expat into a canonical event string (expanded names, attributes in
 * order, text) that must match.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "dav_xml.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define DAVNS		"DAV:"
#define XNS		"http://example.com/neon/litmus/"
#define XML_DECL	"<?xml version=\"1.0\" encoding=\"utf-8\" ?>"
#define FFFD		"\xef\xbf\xbd"

/*
 * Helpers
 */

/* A span for a C string. */
static struct span
sp(const char *s)
{
	return span_make(s, strlen(s));
}

/* True when s holds exactly the C string want. */
static bool
span_is(struct span s, const char *want)
{
	return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

/* Asserts that s is want, and that a NUL follows it in the arena. */
#define ck_span(s, want) do {						\
	struct span s_ = (s);						\
	ck_assert_msg(span_is(s_, (want)), "got \"%.*s\", want \"%s\"",	\
	    (int)s_.len, s_.p != NULL ? s_.p : "", (want));		\
	ck_assert_msg(s_.p != NULL && s_.p[s_.len] == '\0',		\
	    "no NUL after \"%s\"", (want));				\
} while (0)

/* Parses a PROPFIND body from a guarded copy; returns the result code. */
static int
pf_parse(const char *body, size_t len, struct dav_propfind *pf)
{
	char *g = tu_guarded(body, len);
	int rc = dav_xml_propfind(g, len, pf);

	tu_guard_free(g);
	return rc;
}

static int
pp_parse(const char *body, size_t len, struct dav_proppatch *pp)
{
	char *g = tu_guarded(body, len);
	int rc = dav_xml_proppatch(g, len, pp);

	tu_guard_free(g);
	return rc;
}

static int
li_parse(const char *body, size_t len, struct dav_lockinfo *li)
{
	char *g = tu_guarded(body, len);
	int rc = dav_xml_lockinfo(g, len, li);

	tu_guard_free(g);
	return rc;
}

/* Expat into a canonical event string. */
struct canon {
	struct hbuf	 out;
};

/* Writes expat's "uri local" (or "local") as "{uri}local". */
static void
canon_name(struct hbuf *h, const XML_Char *s)
{
	const char *sp_ = strrchr(s, ' ');

	hb_add(h, "{", 1);
	if (sp_ != NULL) {
		hb_add(h, s, (size_t)(sp_ - s));
		s = sp_ + 1;
	}
	hb_add(h, "}", 1);
	hb_str(h, s);
}

static void XMLCALL
canon_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct canon *c = ud;

	hb_add(&c->out, "<", 1);
	canon_name(&c->out, name);
	for (size_t i = 0; atts[i] != NULL; i += 2) {
		hb_add(&c->out, " ", 1);
		canon_name(&c->out, atts[i]);
		hb_add(&c->out, "=[", 2);
		hb_str(&c->out, atts[i + 1]);
		hb_add(&c->out, "]", 1);
	}
	hb_add(&c->out, ">", 1);
}

static void XMLCALL
canon_end(void *ud, const XML_Char *name)
{
	struct canon *c = ud;

	(void)name;
	hb_add(&c->out, "</>", 3);
}

static void XMLCALL
canon_text(void *ud, const XML_Char *s, int len)
{
	struct canon *c = ud;

	hb_add(&c->out, s, (size_t)len);
}

/*
 * Parses doc[0..len) with namespaces; returns its canonical form (the
 * caller frees it), or NULL when it is not well-formed.
 */
static char *
canon(const char *doc, size_t len)
{
	XML_Parser xp = XML_ParserCreateNS(NULL, ' ');
	struct canon c;
	enum XML_Status st;

	ck_assert_ptr_nonnull(xp);
	hb_init_heap(&c.out);
	XML_SetUserData(xp, &c);
	XML_SetElementHandler(xp, canon_start, canon_end);
	XML_SetCharacterDataHandler(xp, canon_text);
	st = XML_Parse(xp, doc, (int)len, 1);
	XML_ParserFree(xp);
	hb_add(&c.out, "", 1);
	ck_assert(!c.out.overflow);
	if (st != XML_STATUS_OK) {
		hb_release(&c.out);
		return NULL;
	}
	return c.out.p;
}

/* The text of a document, its root's character data, or NULL. */
static char *
canon_text_of(const char *doc, size_t len)
{
	char *c = canon(doc, len), *t;
	size_t n;

	if (c == NULL)
		return NULL;
	/* "<{}a>" text "</>" */
	ck_assert(strncmp(c, "<{}a>", 5) == 0);
	n = strlen(c);
	ck_assert(n >= 8 && strcmp(c + n - 3, "</>") == 0);
	t = strndup(c + 5, n - 8);
	ck_assert_ptr_nonnull(t);
	free(c);
	return t;
}

/* dav_xml_prop(p, value) into a fresh heap hbuf, NUL-terminated. */
static char *
prop_out(struct dav_pname p, struct span value, size_t *len)
{
	struct hbuf h;

	hb_init_heap(&h);
	dav_xml_prop(&h, p, value);
	*len = h.len;
	hb_add(&h, "", 1);
	ck_assert(!h.overflow);
	return h.p;
}

/*
 * Wraps dav_xml_prop()'s output in a propertyupdate whose context binds
 * the default namespace and the prefixes P and ns0 to other namespaces,
 * parses it again and checks that the same name and value come back.
 */
static void
check_reparse(struct dav_pname p, struct span value)
{
	static const char head[] = "<propertyupdate xmlns='DAV:' "
	    "xmlns:P='http://wrong/P' xmlns:ns0='http://wrong/ns0'>"
	    "<set><prop>";
	static const char tail[] = "</prop></set></propertyupdate>";
	struct dav_proppatch pp;
	struct hbuf h;

	hb_init_heap(&h);
	hb_str(&h, head);
	dav_xml_prop(&h, p, value);
	hb_str(&h, tail);
	ck_assert(!h.overflow);
	ck_assert_int_eq(pp_parse(h.p, h.len, &pp), 0);
	ck_assert_uint_eq(pp.n, 1);
	ck_assert(!pp.ops[0].remove);
	ck_assert(span_eq(pp.ops[0].p.ns, p.ns));
	ck_assert(span_eq(pp.ops[0].p.name, p.name));
	ck_assert_msg(span_eq(pp.ops[0].value, value),
	    "value \"%.*s\" came back as \"%.*s\"", (int)value.len, value.p,
	    (int)pp.ops[0].value.len, pp.ops[0].value.p);
	dav_proppatch_free(&pp);
	hb_release(&h);
}

/*
 * PROPFIND
 */

START_TEST(propfind_empty_body_is_allprop)
{
	struct dav_propfind pf;

	memset(&pf, 0x5a, sizeof(pf));
	ck_assert_int_eq(pf_parse("", 0, &pf), 0);
	ck_assert_int_eq(pf.kind, DAV_PF_ALLPROP);
	ck_assert_uint_eq(pf.n, 0);
	ck_assert_ptr_null(pf.props);
	dav_propfind_free(&pf);
	dav_propfind_free(&pf);
	dav_propfind_free(NULL);
}
END_TEST

struct pf_case {
	const char	*name;
	const char	*body;
	enum dav_pf_kind kind;
	size_t		 n;
	const char	*names[4][2];	/* ns, local */
};

static const struct pf_case pf_cases[] = {
	{ "allprop", "<D:propfind xmlns:D='DAV:'><D:allprop/></D:propfind>",
	    DAV_PF_ALLPROP, 0, { { NULL } } },
	{ "allprop_xml_decl_and_space", XML_DECL "\n<propfind xmlns=\"DAV:\">"
	    "\n  <allprop/>\n</propfind>\n", DAV_PF_ALLPROP, 0, { { NULL } } },
	{ "propname", "<propfind xmlns='DAV:'><propname/></propfind>",
	    DAV_PF_PROPNAME, 0, { { NULL } } },
	{ "prop", "<D:propfind xmlns:D='DAV:'><D:prop><D:getetag/>"
	    "<foo xmlns='" XNS "'/><bar xmlns=''/><x:q xmlns:x='u:x'>"
	    "<x:ignored/>text</x:q></D:prop></D:propfind>", DAV_PF_PROP, 4,
	    { { DAVNS, "getetag" }, { XNS, "foo" }, { "", "bar" },
	      { "u:x", "q" } } },
	{ "prop_empty", "<propfind xmlns='DAV:'><prop/></propfind>",
	    DAV_PF_PROP, 0, { { NULL } } },
	{ "prop_repeats_kept", "<propfind xmlns='DAV:'><prop><getetag/>"
	    "<getetag/></prop></propfind>", DAV_PF_PROP, 2,
	    { { DAVNS, "getetag" }, { DAVNS, "getetag" } } },
	{ "include_after_allprop", "<propfind xmlns='DAV:'><allprop/>"
	    "<include><supported-live-property-set/><x xmlns='u:'/>"
	    "</include></propfind>", DAV_PF_ALLPROP, 2,
	    { { DAVNS, "supported-live-property-set" }, { "u:", "x" } } },
	{ "include_before_allprop", "<propfind xmlns='DAV:'><include>"
	    "<lockdiscovery/></include><allprop/></propfind>",
	    DAV_PF_ALLPROP, 1, { { DAVNS, "lockdiscovery" } } },
	/* litmus propextended: unknown elements are ignored (§17). */
	{ "unknown_elements_ignored", XML_DECL "<propfind xmlns=\"DAV:\">"
	    "<foobar/><allprop/><x:y xmlns:x='u:'><prop/></x:y></propfind>",
	    DAV_PF_ALLPROP, 0, { { NULL } } },
	{ "prop_in_unknown_ignored", "<propfind xmlns='DAV:'><prop><a/></prop>"
	    "<zz><prop><b/></prop></zz></propfind>", DAV_PF_PROP, 1,
	    { { DAVNS, "a" } } },
	{ "comments_and_pis", "<?xml version='1.0'?><!-- c --><propfind "
	    "xmlns='DAV:'><?pi x?><prop><!-- c --><a/></prop></propfind>"
	    "<!-- c -->", DAV_PF_PROP, 1, { { DAVNS, "a" } } },
	/* Whatever encoding expat knows comes out as UTF-8. */
	{ "latin1", "<?xml version='1.0' encoding='ISO-8859-1'?>"
	    "<propfind xmlns='DAV:'><prop><caf\xe9 xmlns='u:\xe9'/></prop>"
	    "</propfind>", DAV_PF_PROP, 1, { { "u:\xc3\xa9", "caf\xc3\xa9" } } },
};

START_TEST(propfind_gives_kind_and_names)
{
	const struct pf_case *c = &pf_cases[_i];
	struct dav_propfind pf;
	int rc = pf_parse(c->body, strlen(c->body), &pf);

	ck_assert_msg(rc == 0, "%s: rc %d", c->name, rc);
	ck_assert_msg(pf.kind == c->kind, "%s: kind %d", c->name, pf.kind);
	ck_assert_msg(pf.n == c->n, "%s: %zu names", c->name, pf.n);
	ck_assert_ptr_nonnull(pf.arena);
	for (size_t i = 0; i < c->n; i++) {
		ck_span(pf.props[i].ns, c->names[i][0]);
		ck_span(pf.props[i].name, c->names[i][1]);
	}
	dav_propfind_free(&pf);
	ck_assert_ptr_null(pf.arena);
}
END_TEST

struct bad_case {
	const char	*name;
	const char	*body;
	int		 rc;
};

/* The DOCTYPE attacks, for every body kind. */
#define BILLION_LAUGHS \
	"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>" \
	"<!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>" \
	"<!ENTITY lol2 '&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'>" \
	"<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]>"
#define XXE \
	"<!DOCTYPE x [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>"
#define PARAM_ENT \
	"<!DOCTYPE x [<!ENTITY % p SYSTEM 'http://127.0.0.1:9/x.dtd'> %p;]>"

static const struct bad_case pf_bad[] = {
	/* litmus propfind_invalid and propfind_invalid2 */
	{ "not_well_formed", "<foo>", -EINVAL },
	{ "empty_prefix_binding", "<D:propfind xmlns:D=\"DAV:\"><D:prop>"
	    "<bar:foo xmlns:bar=\"\"/></D:prop></D:propfind>", -EINVAL },
	{ "billion_laughs", BILLION_LAUGHS "<propfind xmlns='DAV:'><prop>"
	    "<a>&lol3;</a></prop></propfind>", -EINVAL },
	{ "external_entity", XXE "<propfind xmlns='DAV:'><prop><a>&xxe;</a>"
	    "</prop></propfind>", -EINVAL },
	{ "parameter_entity", PARAM_ENT "<propfind xmlns='DAV:'><allprop/>"
	    "</propfind>", -EINVAL },
	{ "bare_doctype", "<!DOCTYPE propfind><propfind xmlns='DAV:'>"
	    "<allprop/></propfind>", -EINVAL },
	{ "doctype_system", "<!DOCTYPE propfind SYSTEM 'http://x/d.dtd'>"
	    "<propfind xmlns='DAV:'><allprop/></propfind>", -EINVAL },
	{ "undeclared_entity", "<propfind xmlns='DAV:'><prop><a>&e;</a>"
	    "</prop></propfind>", -EINVAL },
	{ "wrong_root", "<propertyupdate xmlns='DAV:'><allprop/>"
	    "</propertyupdate>", -EINVAL },
	{ "wrong_namespace", "<propfind xmlns='http://dav/'><allprop/>"
	    "</propfind>", -EINVAL },
	{ "no_namespace", "<propfind><allprop/></propfind>", -EINVAL },
	{ "dav_without_colon", "<propfind xmlns='DAV'><allprop/></propfind>",
	    -EINVAL },
	{ "unbound_prefix", "<D:propfind><D:allprop/></D:propfind>", -EINVAL },
	{ "nothing_asked", "<propfind xmlns='DAV:'/>", -EINVAL },
	{ "only_unknown", "<propfind xmlns='DAV:'><x/></propfind>", -EINVAL },
	{ "allprop_and_prop", "<propfind xmlns='DAV:'><allprop/><prop><a/>"
	    "</prop></propfind>", -EINVAL },
	{ "two_props", "<propfind xmlns='DAV:'><prop><a/></prop><prop><b/>"
	    "</prop></propfind>", -EINVAL },
	{ "include_with_prop", "<propfind xmlns='DAV:'><prop><a/></prop>"
	    "<include><b/></include></propfind>", -EINVAL },
	{ "include_alone", "<propfind xmlns='DAV:'><include><b/></include>"
	    "</propfind>", -EINVAL },
	{ "text_after_root", "<propfind xmlns='DAV:'><allprop/></propfind>x",
	    -EINVAL },
	{ "two_roots", "<propfind xmlns='DAV:'><allprop/></propfind>"
	    "<propfind xmlns='DAV:'><allprop/></propfind>", -EINVAL },
	{ "invalid_utf8", "<propfind xmlns='DAV:'><prop><a>\xff</a></prop>"
	    "</propfind>", -EINVAL },
	{ "control_char", "<propfind xmlns='DAV:'><prop><a>\x01</a></prop>"
	    "</propfind>", -EINVAL },
	{ "char_ref_nul", "<propfind xmlns='DAV:'><prop><a>&#0;</a></prop>"
	    "</propfind>", -EINVAL },
	{ "whitespace_only", "  \r\n", -EINVAL },
	{ "mismatched_tags", "<propfind xmlns='DAV:'><allprop></propfind>",
	    -EINVAL },
	{ "duplicate_expanded_attr", "<propfind xmlns='DAV:' xmlns:a='u:' "
	    "xmlns:b='u:' a:x='1' b:x='2'><allprop/></propfind>", -EINVAL },
};

START_TEST(propfind_refuses)
{
	const struct bad_case *c = &pf_bad[_i];
	struct dav_propfind pf;
	int rc = pf_parse(c->body, strlen(c->body), &pf);

	ck_assert_msg(rc == c->rc, "%s: rc %d, want %d", c->name, rc, c->rc);
	ck_assert_ptr_null(pf.arena);
	ck_assert_ptr_null(pf.props);
	ck_assert_uint_eq(pf.n, 0);
	dav_propfind_free(&pf);
}
END_TEST

START_TEST(propfind_refuses_nul_byte)
{
	static const char body[] = "<propfind xmlns='DAV:'><prop><a\0/>"
	    "</prop></propfind>";
	struct dav_propfind pf;

	ck_assert_int_eq(pf_parse(body, sizeof(body) - 1, &pf), -EINVAL);
}
END_TEST

START_TEST(propfind_refuses_every_truncation)
{
	static const char body[] = XML_DECL "<D:propfind xmlns:D='DAV:'>"
	    "<D:prop><D:getetag/><x:a xmlns:x='u:'/></D:prop></D:propfind>";
	struct dav_propfind pf;

	/* Length 0 is the empty body, which is allprop. */
	for (size_t len = 1; len < sizeof(body) - 1; len++) {
		int rc = pf_parse(body, len, &pf);

		ck_assert_msg(rc == -EINVAL, "prefix of %zu bytes: rc %d", len,
		    rc);
	}
	ck_assert_int_eq(pf_parse(body, sizeof(body) - 1, &pf), 0);
	ck_assert_uint_eq(pf.n, 2);
	dav_propfind_free(&pf);
}
END_TEST

/* A propfind whose prop holds n names x0, x1, ... */
static char *
many_names(size_t n, size_t *len)
{
	struct hbuf h;

	hb_init_heap(&h);
	hb_str(&h, "<propfind xmlns='DAV:'><prop>");
	for (size_t i = 0; i < n; i++)
		hb_fmt(&h, "<x%zu/>", i);
	hb_str(&h, "</prop></propfind>");
	ck_assert(!h.overflow);
	*len = h.len;
	return h.p;
}

START_TEST(propfind_bounds_the_names)
{
	struct dav_propfind pf;
	size_t len;
	char *b = many_names(DAV_XML_MAX_PROPS, &len);

	ck_assert_int_eq(pf_parse(b, len, &pf), 0);
	ck_assert_uint_eq(pf.n, DAV_XML_MAX_PROPS);
	ck_span(pf.props[DAV_XML_MAX_PROPS - 1].name, "x999");
	dav_propfind_free(&pf);
	free(b);
	b = many_names(DAV_XML_MAX_PROPS + 1, &len);
	ck_assert_int_eq(pf_parse(b, len, &pf), -E2BIG);
	ck_assert_ptr_null(pf.arena);
	free(b);
}
END_TEST

/* A propfind nested to depth elements in all (the root included). */
static char *
deep_propfind(size_t depth, size_t *len)
{
	struct hbuf h;

	hb_init_heap(&h);
	hb_str(&h, "<propfind xmlns='DAV:'><prop>");
	for (size_t i = 2; i < depth; i++)
		hb_str(&h, "<a>");
	for (size_t i = 2; i < depth; i++)
		hb_str(&h, "</a>");
	hb_str(&h, "</prop></propfind>");
	ck_assert(!h.overflow);
	*len = h.len;
	return h.p;
}

START_TEST(propfind_bounds_the_depth)
{
	struct dav_propfind pf;
	size_t len;
	char *b = deep_propfind(DAV_XML_MAX_DEPTH, &len);

	ck_assert_int_eq(pf_parse(b, len, &pf), 0);
	ck_assert_uint_eq(pf.n, 1);
	dav_propfind_free(&pf);
	free(b);
	b = deep_propfind(DAV_XML_MAX_DEPTH + 1, &len);
	ck_assert_int_eq(pf_parse(b, len, &pf), -E2BIG);
	free(b);
	b = deep_propfind(100000, &len);
	ck_assert_int_eq(pf_parse(b, len, &pf), -E2BIG);
	free(b);
}
END_TEST

/*
 * PROPPATCH
 */

#define PU_HEAD	XML_DECL "<propertyupdate xmlns='DAV:'>"
#define PU_TAIL	"</propertyupdate>"

START_TEST(proppatch_keeps_document_order)
{
	static const char body[] = PU_HEAD
	    "<set><prop><a xmlns='" XNS "'>1</a><b xmlns='" XNS "'>2</b>"
	    "</prop></set>"
	    "<remove><prop><a xmlns='" XNS "'>ignored<x/></a><c/></prop>"
	    "</remove>"
	    "<set><prop><a xmlns='" XNS "'>3</a></prop></set>" PU_TAIL;
	static const struct {
		bool		 remove;
		const char	*ns, *name, *value;
	} want[] = {
		{ false, XNS, "a", "1" }, { false, XNS, "b", "2" },
		{ true, XNS, "a", "" }, { true, DAVNS, "c", "" },
		{ false, XNS, "a", "3" },
	};
	struct dav_proppatch pp;

	ck_assert_int_eq(pp_parse(body, sizeof(body) - 1, &pp), 0);
	ck_assert_uint_eq(pp.n, NELEM(want));
	for (size_t i = 0; i < pp.n; i++) {
		ck_assert_msg(pp.ops[i].remove == want[i].remove, "op %zu", i);
		ck_span(pp.ops[i].p.ns, want[i].ns);
		ck_span(pp.ops[i].p.name, want[i].name);
		ck_span(pp.ops[i].value, want[i].value);
	}
	dav_proppatch_free(&pp);
	dav_proppatch_free(&pp);
	dav_proppatch_free(NULL);
}
END_TEST

/* litmus propremoveset, propsetremove, propnullns, propmanyns. */
START_TEST(proppatch_litmus_bodies)
{
	static const char removeset[] = PU_HEAD
	    "<remove><prop><removeset xmlns='" XNS "'/></prop></remove>"
	    "<set><prop><removeset xmlns='" XNS "'>x</removeset></prop></set>"
	    "<set><prop><removeset xmlns='" XNS "'>y</removeset></prop></set>"
	    PU_TAIL;
	static const char nullns[] = XML_DECL
	    "<propertyupdate xmlns=\"DAV:\"><set><prop>"
	    "<nonamespace xmlns=\"\">randomvalue</nonamespace>"
	    "</prop></set></propertyupdate>";
	struct dav_proppatch pp;
	struct hbuf h;

	ck_assert_int_eq(pp_parse(removeset, sizeof(removeset) - 1, &pp), 0);
	ck_assert_uint_eq(pp.n, 3);
	ck_assert(pp.ops[0].remove && !pp.ops[1].remove && !pp.ops[2].remove);
	ck_span(pp.ops[2].value, "y");
	dav_proppatch_free(&pp);

	ck_assert_int_eq(pp_parse(nullns, sizeof(nullns) - 1, &pp), 0);
	ck_assert_uint_eq(pp.n, 1);
	ck_span(pp.ops[0].p.ns, "");
	ck_span(pp.ops[0].p.name, "nonamespace");
	ck_span(pp.ops[0].value, "randomvalue");
	check_reparse(pp.ops[0].p, pp.ops[0].value);
	dav_proppatch_free(&pp);

	/* What neon sends for ne_proppatch() with ten namespaces. */
	hb_init_heap(&h);
	hb_str(&h, XML_DECL "<D:propertyupdate xmlns:D=\"DAV:\"><D:set>"
	    "<D:prop>");
	for (int i = 0; i < 10; i++)
		hb_fmt(&h, "<somename xmlns=\"http://example.com/n%d\">"
		    "manynsvalue</somename>", i);
	hb_str(&h, "</D:prop></D:set></D:propertyupdate>");
	ck_assert_int_eq(pp_parse(h.p, h.len, &pp), 0);
	ck_assert_uint_eq(pp.n, 10);
	for (size_t i = 0; i < 10; i++) {
		char ns[64];

		snprintf(ns, sizeof(ns), "http://example.com/n%zu", i);
		ck_span(pp.ops[i].p.ns, ns);
		ck_span(pp.ops[i].value, "manynsvalue");
	}
	dav_proppatch_free(&pp);
	hb_release(&h);
}
END_TEST

struct val_case {
	const char	*name;
	const char	*decls;		/* extra declarations on the root */
	const char	*in;		/* the property element's content */
	const char	*out;		/* its re-serialisation */
};

static const struct val_case val_cases[] = {
	{ "plain", "", "value goes here", "value goes here" },
	{ "empty", "", "", "" },
	{ "spaces_kept", "", "  \n\t ", "  \n\t " },
	{ "high_unicode_decimal_ref", "", "&#65536;", "\xf0\x90\x80\x80" },
	{ "high_unicode_hex_ref", "", "&#x10000;", "\xf0\x90\x80\x80" },
	{ "high_unicode_literal", "", "\xf4\x8f\xbf\xbf\xf0\x9f\x98\x80",
	    "\xf4\x8f\xbf\xbf\xf0\x9f\x98\x80" },
	{ "entities", "", "a &amp; b &lt;c&gt; &quot;q&quot; &apos;s&apos;",
	    "a &amp; b &lt;c&gt; &quot;q&quot; &apos;s&apos;" },
	{ "quotes_raw", "", "\"'>", "&quot;&apos;&gt;" },
	{ "cdata", "", "x<![CDATA[<b>&amp;</b>]]>y",
	    "x&lt;b&gt;&amp;amp;&lt;/b&gt;y" },
	{ "cdata_end_in_text", "", "a]]&gt;b", "a]]&gt;b" },
	{ "cr_ref_kept", "", "a&#13;b", "a&#13;b" },
	{ "crlf_normalised", "", "a\r\nb\rc", "a\nb\nc" },
	{ "comments_and_pis_dropped", "", "a<!-- c -->b<?pi x?>c", "abc" },
	/* litmus propvalnspace */
	{ "child_default_ns", "", "<foo xmlns='http://bar'/>",
	    "<ns0:foo xmlns:ns0=\"http://bar\"/>" },
	{ "children_share_ns", "",
	    "<a:x xmlns:a='http://a/'><a:y>t</a:y><b:z xmlns:b='http://b/'/>"
	    "<a:w/></a:x>",
	    "<ns0:x xmlns:ns0=\"http://a/\"><ns0:y>t</ns0:y>"
	    "<ns0:z xmlns:ns0=\"http://b/\"/><ns0:w/></ns0:x>" },
	{ "siblings_each_declare", "",
	    "<a:x xmlns:a='u:a'/> <a:x xmlns:a='u:a'>1</a:x>",
	    "<ns0:x xmlns:ns0=\"u:a\"/> <ns0:x xmlns:ns0=\"u:a\">1</ns0:x>" },
	{ "no_ns_child", " xmlns:D='DAV:'", "<foo xmlns=''>bar<baz/></foo>",
	    "<foo xmlns=\"\">bar<baz/></foo>" },
	{ "no_ns_under_ns", "", "<a:f xmlns:a='u:a'><g xmlns=''/></a:f>",
	    "<ns0:f xmlns:ns0=\"u:a\"><g xmlns=\"\"/></ns0:f>" },
	{ "ns_under_no_ns", "", "<e xmlns=''><a:f xmlns:a='u:a'><a:g/></a:f>"
	    "</e>", "<e xmlns=\"\"><ns0:f xmlns:ns0=\"u:a\"><ns0:g/></ns0:f>"
	    "</e>" },
	{ "root_default_ns_inherited", "", "<href>http://x/</href>",
	    "<ns0:href xmlns:ns0=\"DAV:\">http://x/</ns0:href>" },
	{ "ancestor_prefix", " xmlns:z='u:z'", "<z:a/>",
	    "<ns0:a xmlns:ns0=\"u:z\"/>" },
	{ "property_ns", "", "<x:c/>", "<ns0:c xmlns:ns0=\"" XNS "\"/>" },
	{ "their_prefixes_renamed", "",
	    "<P:q xmlns:P='u:p'><ns1:r xmlns:ns1='u:r' ns1:a='1'/></P:q>",
	    "<ns0:q xmlns:ns0=\"u:p\"><ns0:r xmlns:ns0=\"u:r\" ns0:a=\"1\"/>"
	    "</ns0:q>" },
	{ "attributes", "",
	    "<a:x xmlns:a='u:a' xmlns:b='u:b' plain='1' a:q='2' xml:lang='en'"
	    " b:r='3' b:s='4'/>",
	    "<ns0:x xmlns:ns0=\"u:a\" plain=\"1\" ns0:q=\"2\" xml:lang=\"en\""
	    " xmlns:ns1=\"u:b\" ns1:r=\"3\" xmlns:ns2=\"u:b\" ns2:s=\"4\"/>" },
	{ "attribute_escapes", "", "<e xmlns='' a='x&#9;y&#10;z&#13;&quot;&lt;&amp;>'"
	    " b=\"'\"/>", "<e xmlns=\"\" a=\"x&#9;y&#10;z&#13;&quot;&lt;&amp;"
	    "&gt;\" b=\"&apos;\"/>" },
	{ "attribute_normalised", "", "<e xmlns='' a='x\ty\nz'/>",
	    "<e xmlns=\"\" a=\"x y z\"/>" },
	{ "comment_only_element", "", "<e xmlns=''><!-- x --></e>",
	    "<e xmlns=\"\"/>" },
	{ "default_dav_child", "", "<e/>", "<ns0:e xmlns:ns0=\"DAV:\"/>" },
	{ "xml_ns_element", "", "<xml:e>t</xml:e>", "<xml:e>t</xml:e>" },
	{ "ns_uri_escaped", "", "<a:e xmlns:a='u:?a=1&amp;b=\"2\"'/>",
	    "<ns0:e xmlns:ns0=\"u:?a=1&amp;b=&quot;2&quot;\"/>" },
	{ "mixed_deep", "",
	    "t0<a:b xmlns:a='u:a'>t1<a:c>t2<d xmlns='u:d'>t3</d>t4</a:c>"
	    "</a:b>t5",
	    "t0<ns0:b xmlns:ns0=\"u:a\">t1<ns0:c>t2<ns0:d xmlns:ns0=\"u:d\">"
	    "t3</ns0:d>t4</ns0:c></ns0:b>t5" },
};

START_TEST(proppatch_reserialises_values)
{
	const struct val_case *c = &val_cases[_i];
	struct dav_pname pn = { SPAN_LIT(XNS), SPAN_LIT("p") };
	struct dav_proppatch pp;
	struct hbuf h;
	char *doc, *a, *b, *out;
	size_t outlen;
	int rc;

	hb_init_heap(&h);
	hb_fmt(&h, "<propertyupdate xmlns='DAV:'%s><set><prop>"
	    "<x:p xmlns:x='" XNS "'>%s</x:p></prop></set></propertyupdate>",
	    c->decls, c->in);
	ck_assert(!h.overflow);
	rc = pp_parse(h.p, h.len, &pp);
	ck_assert_msg(rc == 0, "%s: rc %d", c->name, rc);
	ck_assert_uint_eq(pp.n, 1);
	ck_span(pp.ops[0].p.ns, XNS);
	ck_span(pp.ops[0].p.name, "p");
	ck_assert_msg(span_is(pp.ops[0].value, c->out),
	    "%s: got \"%.*s\"\n want \"%s\"", c->name,
	    (int)pp.ops[0].value.len, pp.ops[0].value.p, c->out);
	ck_assert(pp.ops[0].value.p[pp.ops[0].value.len] == '\0');

	/* The same meaning as the element it came from. */
	doc = NULL;
	ck_assert_int_gt(asprintf(&doc, "<x:p xmlns:x='" XNS "' xmlns='DAV:'"
	    "%s>%s</x:p>", c->decls, c->in), 0);
	a = canon(doc, strlen(doc));
	out = prop_out(pn, pp.ops[0].value, &outlen);
	b = canon(out, outlen);
	ck_assert_ptr_nonnull(a);
	ck_assert_msg(b != NULL, "%s: not well-formed: %s", c->name, out);
	ck_assert_msg(strcmp(a, b) == 0, "%s:\n %s\n %s", c->name, a, b);
	check_reparse(pp.ops[0].p, pp.ops[0].value);
	free(a);
	free(b);
	free(doc);
	free(out);
	dav_proppatch_free(&pp);
	hb_release(&h);
}
END_TEST

static const struct bad_case pp_bad[] = {
	{ "empty", "", -EINVAL },
	{ "not_well_formed", PU_HEAD "<set><prop><a>", -EINVAL },
	{ "wrong_root", "<propfind xmlns='DAV:'><allprop/></propfind>",
	    -EINVAL },
	{ "wrong_namespace", "<propertyupdate xmlns='DAV'/>", -EINVAL },
	{ "billion_laughs", BILLION_LAUGHS PU_HEAD "<set><prop><a>&lol3;</a>"
	    "</prop></set>" PU_TAIL, -EINVAL },
	{ "external_entity", XXE PU_HEAD "<set><prop><a>&xxe;</a></prop>"
	    "</set>" PU_TAIL, -EINVAL },
	{ "parameter_entity", PARAM_ENT PU_HEAD PU_TAIL, -EINVAL },
	{ "undeclared_entity", PU_HEAD "<set><prop><a>&x;</a></prop></set>"
	    PU_TAIL, -EINVAL },
	{ "unbound_prefix_in_value", PU_HEAD "<set><prop><a><q:b/></a>"
	    "</prop></set>" PU_TAIL, -EINVAL },
	{ "xmlns_prefix_undeclared", PU_HEAD "<set><prop><a xmlns:q=''/>"
	    "</prop></set>" PU_TAIL, -EINVAL },
	{ "invalid_utf8_in_value", PU_HEAD "<set><prop><a>\xc3</a></prop>"
	    "</set>" PU_TAIL, -EINVAL },
};

START_TEST(proppatch_refuses)
{
	const struct bad_case *c = &pp_bad[_i];
	struct dav_proppatch pp;
	int rc = pp_parse(c->body, strlen(c->body), &pp);

	ck_assert_msg(rc == c->rc, "%s: rc %d, want %d", c->name, rc, c->rc);
	ck_assert_ptr_null(pp.arena);
	ck_assert_ptr_null(pp.ops);
	ck_assert_uint_eq(pp.n, 0);
}
END_TEST

START_TEST(proppatch_without_ops_is_empty)
{
	static const char body[] = PU_HEAD "<x xmlns='u:'/><set><prop/></set>"
	    "<set><foo/></set>" PU_TAIL;
	struct dav_proppatch pp;

	ck_assert_int_eq(pp_parse(body, sizeof(body) - 1, &pp), 0);
	ck_assert_uint_eq(pp.n, 0);
	ck_assert_ptr_null(pp.ops);
	dav_proppatch_free(&pp);
}
END_TEST

START_TEST(proppatch_refuses_every_truncation)
{
	static const char body[] = PU_HEAD "<set><prop><a xmlns='u:'>v<b/>"
	    "</a></prop></set><remove><prop><c/></prop></remove>" PU_TAIL;
	struct dav_proppatch pp;

	for (size_t len = 0; len < sizeof(body) - 1; len++)
		ck_assert_int_eq(pp_parse(body, len, &pp), -EINVAL);
	ck_assert_int_eq(pp_parse(body, sizeof(body) - 1, &pp), 0);
	ck_assert_uint_eq(pp.n, 2);
	dav_proppatch_free(&pp);
}
END_TEST

START_TEST(proppatch_bounds_ops_depth_and_size)
{
	struct dav_proppatch pp;
	struct hbuf h;
	char *uri;
	const size_t ulen = 100000;

	/* DAV_XML_MAX_PROPS ops, then one more. */
	for (size_t n = DAV_XML_MAX_PROPS; n <= DAV_XML_MAX_PROPS + 1; n++) {
		hb_init_heap(&h);
		hb_str(&h, PU_HEAD "<remove><prop>");
		for (size_t i = 0; i < n; i++)
			hb_str(&h, "<a/>");
		hb_str(&h, "</prop></remove>" PU_TAIL);
		ck_assert_int_eq(pp_parse(h.p, h.len, &pp),
		    n > DAV_XML_MAX_PROPS ? -E2BIG : 0);
		ck_assert_uint_eq(pp.n, n > DAV_XML_MAX_PROPS ? 0 : n);
		dav_proppatch_free(&pp);
		hb_release(&h);
	}

	/* A value nested to the limit, then one deeper (the root is 1). */
	for (size_t d = DAV_XML_MAX_DEPTH; d <= DAV_XML_MAX_DEPTH + 1; d++) {
		hb_init_heap(&h);
		hb_str(&h, PU_HEAD "<set><prop><p>");
		for (size_t i = 5; i <= d; i++)
			hb_str(&h, "<v>");
		for (size_t i = 5; i <= d; i++)
			hb_str(&h, "</v>");
		hb_str(&h, "</p></prop></set>" PU_TAIL);
		ck_assert_int_eq(pp_parse(h.p, h.len, &pp),
		    d > DAV_XML_MAX_DEPTH ? -E2BIG : 0);
		dav_proppatch_free(&pp);
		hb_release(&h);
	}

	/*
	 * A long namespace declared once but written on each of 100
	 * top-level children: 10 MB from a 100 KB body.
	 */
	uri = malloc(ulen + 1);
	ck_assert_ptr_nonnull(uri);
	memset(uri, 'u', ulen);
	uri[0] = 'u';
	uri[1] = ':';
	uri[ulen] = '\0';
	hb_init_heap(&h);
	hb_fmt(&h, PU_HEAD "<set><prop><p xmlns:a='%s'>", uri);
	for (int i = 0; i < 100; i++)
		hb_str(&h, "<a:x/>");
	hb_str(&h, "</p></prop></set>" PU_TAIL);
	ck_assert(!h.overflow);
	ck_assert_int_eq(pp_parse(h.p, h.len, &pp), -E2BIG);
	ck_assert_ptr_null(pp.arena);
	hb_release(&h);
	free(uri);
}
END_TEST

/*
 * LOCK
 */

#define LI_HEAD	XML_DECL "<D:lockinfo xmlns:D='DAV:'>"
#define LI_TAIL	"</D:lockinfo>"
#define EXCL	"<D:lockscope><D:exclusive/></D:lockscope>"
#define SHARED	"<D:lockscope><D:shared/></D:lockscope>"
#define WRITE	"<D:locktype><D:write/></D:locktype>"

struct li_case {
	const char	*name;
	const char	*body;
	bool		 shared;
	const char	*owner;
	const char	*owner_in;	/* the owner as sent, for meaning */
};

static const struct li_case li_cases[] = {
	/* RFC 4918 §9.10.9 */
	{ "rfc_example", LI_HEAD EXCL WRITE "<D:owner><D:href>"
	    "http://example.org/~ejw/contact.html</D:href></D:owner>" LI_TAIL,
	    false, "<ns0:owner xmlns:ns0=\"DAV:\"><ns0:href>"
	    "http://example.org/~ejw/contact.html</ns0:href></ns0:owner>",
	    "<D:owner xmlns:D='DAV:'><D:href>"
	    "http://example.org/~ejw/contact.html</D:href></D:owner>" },
	/* What litmus sends through neon. */
	{ "litmus_shared", XML_DECL "<lockinfo xmlns='DAV:'>\n"
	    "<lockscope><shared/></lockscope>\n<locktype><write/></locktype>"
	    "<owner>litmus test suite</owner>\n</lockinfo>\n", true,
	    "<ns0:owner xmlns:ns0=\"DAV:\">litmus test suite</ns0:owner>",
	    "<owner xmlns='DAV:'>litmus test suite</owner>" },
	{ "no_owner", LI_HEAD WRITE EXCL LI_TAIL, false, "", NULL },
	{ "empty_owner", LI_HEAD EXCL WRITE "<D:owner/>" LI_TAIL, false,
	    "<ns0:owner xmlns:ns0=\"DAV:\"/>", "<D:owner xmlns:D='DAV:'/>" },
	{ "owner_foreign", LI_HEAD SHARED WRITE "<D:owner xml:lang='en' "
	    "xmlns:x='u:x'><x:person x:id='7'>Ann &amp; Bob</x:person>"
	    "<nons xmlns=''/></D:owner>" LI_TAIL, true,
	    "<ns0:owner xmlns:ns0=\"DAV:\" xml:lang=\"en\"><ns0:person "
	    "xmlns:ns0=\"u:x\" ns0:id=\"7\">Ann &amp; Bob</ns0:person>"
	    "<nons xmlns=\"\"/></ns0:owner>",
	    "<D:owner xmlns:D='DAV:' xml:lang='en' xmlns:x='u:x'><x:person "
	    "x:id='7'>Ann &amp; Bob</x:person><nons xmlns=''/></D:owner>" },
	{ "unknown_ignored", LI_HEAD "<D:foo><D:lockscope/></D:foo>" EXCL
	    "<x:y xmlns:x='u:'/>" WRITE LI_TAIL, false, "", NULL },
};

START_TEST(lockinfo_gives_scope_and_owner)
{
	const struct li_case *c = &li_cases[_i];
	struct dav_lockinfo li;
	int rc = li_parse(c->body, strlen(c->body), &li);
	char *a, *b;

	ck_assert_msg(rc == 0, "%s: rc %d", c->name, rc);
	ck_assert_msg(li.shared == c->shared, "%s: scope", c->name);
	ck_assert_ptr_nonnull(li.arena);
	ck_span(li.owner, c->owner);
	if (c->owner_in != NULL) {
		a = canon(c->owner_in, strlen(c->owner_in));
		b = canon(li.owner.p, li.owner.len);
		ck_assert_ptr_nonnull(a);
		ck_assert_ptr_nonnull(b);
		ck_assert_msg(strcmp(a, b) == 0, "%s:\n %s\n %s", c->name, a,
		    b);
		free(a);
		free(b);
	}
	dav_lockinfo_free(&li);
	dav_lockinfo_free(&li);
	dav_lockinfo_free(NULL);
}
END_TEST

static const struct bad_case li_bad[] = {
	{ "empty", "", -EINVAL },
	{ "no_scope", LI_HEAD WRITE LI_TAIL, -EINVAL },
	{ "no_type", LI_HEAD EXCL LI_TAIL, -EINVAL },
	{ "empty_scope", LI_HEAD "<D:lockscope/>" WRITE LI_TAIL, -EINVAL },
	{ "empty_type", LI_HEAD EXCL "<D:locktype/>" LI_TAIL, -EINVAL },
	{ "both_scopes", LI_HEAD "<D:lockscope><D:exclusive/><D:shared/>"
	    "</D:lockscope>" WRITE LI_TAIL, -EINVAL },
	{ "two_lockscopes", LI_HEAD EXCL EXCL WRITE LI_TAIL, -EINVAL },
	{ "two_locktypes", LI_HEAD EXCL WRITE WRITE LI_TAIL, -EINVAL },
	{ "unknown_scope", LI_HEAD "<D:lockscope><D:local/></D:lockscope>"
	    WRITE LI_TAIL, -EINVAL },
	{ "other_type", LI_HEAD EXCL "<D:locktype><x:read xmlns:x='u:'/>"
	    "</D:locktype>" LI_TAIL, -EINVAL },
	{ "write_and_more", LI_HEAD EXCL "<D:locktype><D:write/><D:read/>"
	    "</D:locktype>" LI_TAIL, -EINVAL },
	{ "write_wrong_ns", LI_HEAD EXCL "<D:locktype><write/></D:locktype>"
	    LI_TAIL, -EINVAL },
	{ "two_owners", LI_HEAD EXCL WRITE "<D:owner>a</D:owner>"
	    "<D:owner>b</D:owner>" LI_TAIL, -EINVAL },
	{ "wrong_root", "<D:propfind xmlns:D='DAV:'>" EXCL WRITE
	    "</D:propfind>", -EINVAL },
	{ "wrong_namespace", "<D:lockinfo xmlns:D='DAV:x'>" EXCL WRITE
	    LI_TAIL, -EINVAL },
	{ "billion_laughs", BILLION_LAUGHS LI_HEAD EXCL WRITE "<D:owner>"
	    "&lol3;</D:owner>" LI_TAIL, -EINVAL },
	{ "external_entity", XXE LI_HEAD EXCL WRITE "<D:owner>&xxe;"
	    "</D:owner>" LI_TAIL, -EINVAL },
	{ "not_well_formed", LI_HEAD EXCL WRITE "<D:owner>" LI_TAIL,
	    -EINVAL },
};

START_TEST(lockinfo_refuses)
{
	const struct bad_case *c = &li_bad[_i];
	struct dav_lockinfo li;
	int rc = li_parse(c->body, strlen(c->body), &li);

	ck_assert_msg(rc == c->rc, "%s: rc %d, want %d", c->name, rc, c->rc);
	ck_assert_ptr_null(li.arena);
	ck_assert_uint_eq(li.owner.len, 0);
}
END_TEST

START_TEST(lockinfo_refuses_every_truncation)
{
	static const char body[] = LI_HEAD EXCL WRITE "<D:owner><D:href>"
	    "mailto:a@b</D:href></D:owner>" LI_TAIL;
	struct dav_lockinfo li;

	for (size_t len = 0; len < sizeof(body) - 1; len++)
		ck_assert_int_eq(li_parse(body, len, &li), -EINVAL);
	ck_assert_int_eq(li_parse(body, sizeof(body) - 1, &li), 0);
	dav_lockinfo_free(&li);
}
END_TEST

START_TEST(lockinfo_bounds_the_owner_depth)
{
	struct dav_lockinfo li;
	struct hbuf h;

	for (size_t d = DAV_XML_MAX_DEPTH; d <= DAV_XML_MAX_DEPTH + 1; d++) {
		hb_init_heap(&h);
		hb_str(&h, LI_HEAD EXCL WRITE "<D:owner>");
		for (size_t i = 3; i <= d; i++)
			hb_str(&h, "<D:x>");
		for (size_t i = 3; i <= d; i++)
			hb_str(&h, "</D:x>");
		hb_str(&h, "</D:owner>" LI_TAIL);
		ck_assert_int_eq(li_parse(h.p, h.len, &li),
		    d > DAV_XML_MAX_DEPTH ? -E2BIG : 0);
		dav_lockinfo_free(&li);
		hb_release(&h);
	}
}
END_TEST

/*
 * Escaping and dav_xml_prop()
 */

struct esc_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*out;
	const char	*attr_out;	/* NULL: as out */
};

#define IN(s)	.in = (s), .len = sizeof(s) - 1

static const struct esc_case esc_cases[] = {
	{ "plain", IN("plain text"), "plain text", NULL },
	{ "empty", IN(""), "", NULL },
	{ "markup", IN("&<>\"'"), "&amp;&lt;&gt;&quot;&apos;", NULL },
	{ "tab_lf_cr", IN("a\tb\nc\rd"), "a\tb\nc&#13;d", "a&#9;b&#10;c&#13;d" },
	{ "controls", IN("\x01x\x1f\x0b"), FFFD "x" FFFD FFFD, NULL },
	{ "nul", IN("a\0b"), "a" FFFD "b", NULL },
	{ "del_kept", IN("\x7f"), "\x7f", NULL },
	{ "c1_kept", IN("\xc2\x85"), "\xc2\x85", NULL },
	{ "two_byte", IN("caf\xc3\xa9"), "caf\xc3\xa9", NULL },
	{ "four_byte", IN("\xf0\x90\x80\x80"), "\xf0\x90\x80\x80", NULL },
	{ "max_code_point", IN("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf", NULL },
	{ "fffd_kept", IN("\xef\xbf\xbd"), FFFD, NULL },
	{ "fffe", IN("\xef\xbf\xbe"), FFFD, NULL },
	{ "ffff", IN("a\xef\xbf\xbf"), "a" FFFD, NULL },
	{ "lone_ff", IN("a\xff"), "a" FFFD, NULL },
	{ "truncated_two_byte", IN("\xc3"), FFFD, NULL },
	{ "truncated_four_byte", IN("\xf0\x90\x80<"), FFFD FFFD FFFD "&lt;",
	    NULL },
	{ "overlong_slash", IN("\xc0\xaf"), FFFD FFFD, NULL },
	{ "surrogate", IN("\xed\xa0\x80"), FFFD FFFD FFFD, NULL },
	{ "above_10ffff", IN("\xf4\x90\x80\x80"), FFFD FFFD FFFD FFFD, NULL },
	{ "lone_continuation", IN("\x80" "a"), FFFD "a", NULL },
};

START_TEST(escape_table)
{
	const struct esc_case *c = &esc_cases[_i];
	const char *want[2] = { c->out, c->attr_out ? c->attr_out : c->out };

	for (int attr = 0; attr < 2; attr++) {
		char *g = tu_guarded(c->in, c->len);
		struct hbuf h;

		hb_init_heap(&h);
		if (attr)
			dav_xml_escape_attr(&h, g, c->len);
		else
			dav_xml_escape(&h, g, c->len);
		ck_assert(!h.overflow);
		ck_assert_msg(h.len == strlen(want[attr]) && (h.len == 0 ||
		    memcmp(h.p, want[attr], h.len) == 0), "%s (attr %d): "
		    "got \"%.*s\"", c->name, attr, (int)h.len,
		    h.p != NULL ? h.p : "");
		hb_release(&h);
		tu_guard_free(g);
	}
}
END_TEST

/* Escapes in[0..len) as text of <a> and as an attribute; both must parse. */
static void
check_escaped_parses(const char *in, size_t len, bool clean)
{
	struct hbuf h;
	char *t;

	hb_init_heap(&h);
	hb_str(&h, "<a>");
	dav_xml_escape(&h, in, len);
	hb_str(&h, "</a>");
	ck_assert(!h.overflow);
	t = canon_text_of(h.p, h.len);
	ck_assert_msg(t != NULL, "not well-formed: %.*s", (int)h.len, h.p);
	/* Clean text comes back unchanged. */
	if (clean)
		ck_assert_msg(strlen(t) == len && memcmp(t, in, len) == 0,
		    "\"%.*s\" came back as \"%s\"", (int)len, in, t);
	free(t);
	h.len = 0;
	hb_str(&h, "<a b=\"");
	dav_xml_escape_attr(&h, in, len);
	hb_str(&h, "\"/>");
	t = canon(h.p, h.len);
	ck_assert_ptr_nonnull(t);
	if (clean)
		ck_assert(strncmp(t, "<{}a {}b=[", 10) == 0 &&
		    memcmp(t + 10, in, len) == 0 &&
		    strcmp(t + 10 + len, "]></>") == 0);
	free(t);
	hb_release(&h);
}

START_TEST(escape_output_is_well_formed_text)
{
	char buf[64];
	unsigned seed = 12345;

	/* Every single byte, then pseudo-random strings. */
	for (int c = 0; c < 256; c++) {
		buf[0] = (char)c;
		check_escaped_parses(buf, 1, c >= 0x20 && c < 0x80);
	}
	check_escaped_parses("a\tb\nc\rd", 7, true);
	check_escaped_parses("\xf0\x90\x80\x80 &amp; ]]>", 14, true);
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)(i % (int)sizeof(buf));

		for (size_t k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[k] = (char)(seed >> 16);
		}
		check_escaped_parses(buf, len, false);
	}
}
END_TEST

START_TEST(escape_into_fixed_buffer_records_overflow)
{
	char *g = tu_guarded("xxxxxxxx", 8);
	struct hbuf h;

	hb_init(&h, g, 8);
	dav_xml_escape(&h, "a&b", 3);
	ck_assert(!h.overflow);
	ck_assert_uint_eq(h.len, 7);
	dav_xml_escape(&h, "<", 1);
	ck_assert(h.overflow);
	ck_assert(memcmp(g, "a&amp;b", 7) == 0);
	tu_guard_free(g);
}
END_TEST

struct prop_case {
	const char	*name;
	const char	*ns, *local, *value;
	const char	*out;
	const char	*canon;
};

static const struct prop_case prop_cases[] = {
	{ "ns_value", XNS, "foo", "bar", "<P:foo xmlns:P=\"" XNS "\">bar"
	    "</P:foo>", "<{" XNS "}foo>bar</>" },
	{ "ns_empty_value", XNS, "foo", "", "<P:foo xmlns:P=\"" XNS "\"/>",
	    "<{" XNS "}foo></>" },
	{ "no_ns", "", "nonamespace", "randomvalue", "<nonamespace xmlns=\"\">"
	    "randomvalue</nonamespace>", "<{}nonamespace>randomvalue</>" },
	{ "no_ns_empty", "", "n", "", "<n xmlns=\"\"/>", "<{}n></>" },
	{ "dav_ns", DAVNS, "displayname", "x &amp; y", "<P:displayname "
	    "xmlns:P=\"DAV:\">x &amp; y</P:displayname>",
	    "<{DAV:}displayname>x & y</>" },
	{ "ns_escaped", "u:?a=1&b=\"2\"\t", "e", "", "<P:e xmlns:P=\""
	    "u:?a=1&amp;b=&quot;2&quot;&#9;\"/>",
	    "<{u:?a=1&b=\"2\"\t}e></>" },
	{ "xml_ns", "http://www.w3.org/XML/1998/namespace", "foo", "v",
	    "<xml:foo>v</xml:foo>",
	    "<{http://www.w3.org/XML/1998/namespace}foo>v</>" },
	{ "element_value", XNS, "valnspace",
	    "<ns0:foo xmlns:ns0=\"http://bar\"/>", "<P:valnspace xmlns:P=\""
	    XNS "\"><ns0:foo xmlns:ns0=\"http://bar\"/></P:valnspace>",
	    "<{" XNS "}valnspace><{http://bar}foo></></>" },
};

START_TEST(prop_writes_a_well_formed_element)
{
	const struct prop_case *c = &prop_cases[_i];
	struct dav_pname p = { sp(c->ns), sp(c->local) };
	size_t len;
	char *out = prop_out(p, sp(c->value), &len), *cn;

	ck_assert_msg(strcmp(out, c->out) == 0, "%s: %s", c->name, out);
	cn = canon(out, len);
	ck_assert_msg(cn != NULL, "%s: not well-formed", c->name);
	ck_assert_msg(strcmp(cn, c->canon) == 0, "%s: %s", c->name, cn);
	check_reparse(p, sp(c->value));
	free(cn);
	free(out);
}
END_TEST

START_TEST(prop_into_fixed_buffer_records_overflow)
{
	char *g = tu_guarded("0123456789", 10);
	struct dav_pname p = { SPAN_LIT(XNS), SPAN_LIT("foo") };
	struct hbuf h;

	hb_init(&h, g, 10);
	dav_xml_prop(&h, p, SPAN_LIT("value"));
	ck_assert(h.overflow);
	ck_assert_uint_le(h.len, 10);
	tu_guard_free(g);
}
END_TEST

static Suite *
dav_xml_suite(void)
{
	Suite *s = suite_create("dav_xml");
	TCase *tc;

	tc = tcase_create("propfind");
	tcase_add_test(tc, propfind_empty_body_is_allprop);
	tcase_add_loop_test(tc, propfind_gives_kind_and_names, 0,
	    NELEM(pf_cases));
	tcase_add_loop_test(tc, propfind_refuses, 0, NELEM(pf_bad));
	tcase_add_test(tc, propfind_refuses_nul_byte);
	tcase_add_test(tc, propfind_refuses_every_truncation);
	tcase_add_test(tc, propfind_bounds_the_names);
	tcase_add_test(tc, propfind_bounds_the_depth);
	suite_add_tcase(s, tc);

	tc = tcase_create("proppatch");
	tcase_add_test(tc, proppatch_keeps_document_order);
	tcase_add_test(tc, proppatch_litmus_bodies);
	tcase_add_loop_test(tc, proppatch_reserialises_values, 0,
	    NELEM(val_cases));
	tcase_add_loop_test(tc, proppatch_refuses, 0, NELEM(pp_bad));
	tcase_add_test(tc, proppatch_without_ops_is_empty);
	tcase_add_test(tc, proppatch_refuses_every_truncation);
	tcase_add_test(tc, proppatch_bounds_ops_depth_and_size);
	suite_add_tcase(s, tc);

	tc = tcase_create("lockinfo");
	tcase_add_loop_test(tc, lockinfo_gives_scope_and_owner, 0,
	    NELEM(li_cases));
	tcase_add_loop_test(tc, lockinfo_refuses, 0, NELEM(li_bad));
	tcase_add_test(tc, lockinfo_refuses_every_truncation);
	tcase_add_test(tc, lockinfo_bounds_the_owner_depth);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_add_loop_test(tc, escape_table, 0, NELEM(esc_cases));
	tcase_add_test(tc, escape_output_is_well_formed_text);
	tcase_add_test(tc, escape_into_fixed_buffer_records_overflow);
	tcase_add_loop_test(tc, prop_writes_a_well_formed_element, 0,
	    NELEM(prop_cases));
	tcase_add_test(tc, prop_into_fixed_buffer_records_overflow);
	/* 20000 expat parses, slow under ASan. */
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dav_xml_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
