/*
 * fuzz_dav_xml.c - libFuzzer entry point for the WebDAV XML bodies.
 *
 * The first input byte picks the function (its value modulo 4); the rest
 * is its input, copied to an exact-size heap buffer so ASan catches a read
 * past it.
 *
 *   0  dav_xml_propfind: a documented result code; on failure a zeroed
 *      result; on success every span lies inside the arena's allocation
 *      with a NUL after it and none inside, and every name written by
 *      dav_xml_prop() parses with expat as well-formed.
 *   1  dav_xml_proppatch: the same for the ops; every value wrapped by
 *      dav_xml_prop() parses as well-formed, and a propertyupdate built
 *      again from the ops parses to exactly the same ops (the
 *      serialisation is a fixed point).
 *   2  dav_xml_lockinfo: the owner is empty or a well-formed element, and
 *      a lockinfo built again from the result parses to the same result.
 *   3  dav_xml_escape / dav_xml_escape_attr (the next byte chooses):
 *      the output parses as the content of an element or attribute, and
 *      escaping the parsed text again gives the same output.
 */
#include <assert.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "dav_xml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A heap copy of p[0..len) of exactly len bytes (one when len is 0). */
static char *
copy(const void *p, size_t len)
{
	char *c = malloc(len > 0 ? len : 1);

	assert(c != NULL);
	if (len > 0)
		memcpy(c, p, len);
	return c;
}

static void XMLCALL
text_cb(void *ud, const XML_Char *s, int len)
{
	hb_add(ud, s, (size_t)len);
}

static void XMLCALL
start_cb(void *ud, const XML_Char *name, const XML_Char **atts)
{
	(void)name;
	/* The attribute of an escape check's <a b="..."/>. */
	if (atts[0] != NULL)
		hb_str(ud, atts[1]);
}

/*
 * True when doc[0..len) is a namespace-well-formed document; its text
 * and first attribute values go to text when that is not NULL.
 */
static bool
well_formed(const char *doc, size_t len, struct hbuf *text)
{
	XML_Parser xp = XML_ParserCreateNS(NULL, ' ');
	enum XML_Status st;

	assert(xp != NULL);
	if (text != NULL) {
		XML_SetUserData(xp, text);
		XML_SetCharacterDataHandler(xp, text_cb);
		XML_SetStartElementHandler(xp, start_cb);
	}
	st = XML_Parse(xp, doc, (int)len, 1);
	XML_ParserFree(xp);
	return st == XML_STATUS_OK;
}

/* Asserts that s lies inside arena's allocation, a NUL after it and none in it. */
static void
in_arena(const char *arena, struct span s)
{
	size_t cap = malloc_usable_size((void *)arena);

	assert(arena != NULL && s.p != NULL);
	assert(s.p >= arena && (size_t)(s.p - arena) < cap);
	assert(s.len < cap - (size_t)(s.p - arena));
	assert(s.p[s.len] == '\0');
	assert(memchr(s.p, '\0', s.len) == NULL);
}

/* Asserts that dav_xml_prop(p, value) is a well-formed document. */
static void
prop_ok(struct dav_pname p, struct span value)
{
	struct hbuf h;

	hb_init_heap(&h);
	dav_xml_prop(&h, p, value);
	assert(!h.overflow);
	assert(well_formed(h.p, h.len, NULL));
	hb_release(&h);
}

static bool
rc_ok(int rc)
{
	return rc == 0 || rc == -EINVAL || rc == -E2BIG || rc == -ENOMEM;
}

static void
fuzz_propfind(const char *p, size_t len)
{
	struct dav_propfind pf;
	int rc = dav_xml_propfind(p, len, &pf);

	assert(rc_ok(rc));
	if (rc != 0) {
		assert(pf.arena == NULL && pf.props == NULL && pf.n == 0);
		return;
	}
	assert(pf.kind == DAV_PF_ALLPROP || pf.kind == DAV_PF_PROPNAME ||
	    pf.kind == DAV_PF_PROP);
	assert(pf.n <= DAV_XML_MAX_PROPS);
	assert((pf.props == NULL) == (pf.n == 0));
	assert(pf.kind != DAV_PF_PROPNAME || pf.n == 0);
	assert(len == 0 || pf.arena != NULL);
	for (size_t i = 0; i < pf.n; i++) {
		in_arena(pf.arena, pf.props[i].ns);
		in_arena(pf.arena, pf.props[i].name);
		assert(pf.props[i].name.len > 0);
		prop_ok(pf.props[i], SPAN_NULL);
	}
	dav_propfind_free(&pf);
	assert(pf.arena == NULL && pf.props == NULL);
}

/* Builds a propertyupdate from pp's ops and checks it parses to the same. */
static void
proppatch_again(const struct dav_proppatch *pp)
{
	struct dav_proppatch again;
	struct hbuf h;

	hb_init_heap(&h);
	hb_str(&h, "<propertyupdate xmlns='DAV:' xmlns:P='u:P' xmlns:ns0="
	    "'u:ns0' xmlns:ns1='u:ns1'>");
	for (size_t i = 0; i < pp->n; i++) {
		const struct dav_patch_op *op = &pp->ops[i];

		hb_str(&h, op->remove ? "<remove><prop>" : "<set><prop>");
		dav_xml_prop(&h, op->p, op->value);
		hb_str(&h, op->remove ? "</prop></remove>" : "</prop></set>");
	}
	hb_str(&h, "</propertyupdate>");
	assert(!h.overflow);
	assert(dav_xml_proppatch(h.p, h.len, &again) == 0);
	assert(again.n == pp->n);
	for (size_t i = 0; i < pp->n; i++) {
		assert(again.ops[i].remove == pp->ops[i].remove);
		assert(span_eq(again.ops[i].p.ns, pp->ops[i].p.ns));
		assert(span_eq(again.ops[i].p.name, pp->ops[i].p.name));
		assert(span_eq(again.ops[i].value, pp->ops[i].value));
	}
	dav_proppatch_free(&again);
	hb_release(&h);
}

static void
fuzz_proppatch(const char *p, size_t len)
{
	struct dav_proppatch pp;
	int rc = dav_xml_proppatch(p, len, &pp);

	assert(rc_ok(rc));
	if (rc != 0) {
		assert(pp.arena == NULL && pp.ops == NULL && pp.n == 0);
		return;
	}
	assert(pp.arena != NULL);
	assert(pp.n <= DAV_XML_MAX_PROPS);
	assert((pp.ops == NULL) == (pp.n == 0));
	for (size_t i = 0; i < pp.n; i++) {
		const struct dav_patch_op *op = &pp.ops[i];

		in_arena(pp.arena, op->p.ns);
		in_arena(pp.arena, op->p.name);
		in_arena(pp.arena, op->value);
		assert(op->p.name.len > 0);
		assert(!op->remove || op->value.len == 0);
		prop_ok(op->p, op->value);
	}
	proppatch_again(&pp);
	dav_proppatch_free(&pp);
}

static void
fuzz_lockinfo(const char *p, size_t len)
{
	struct dav_lockinfo li, again;
	struct hbuf h;
	int rc = dav_xml_lockinfo(p, len, &li);

	assert(rc_ok(rc));
	if (rc != 0) {
		assert(li.arena == NULL && li.owner.len == 0);
		return;
	}
	in_arena(li.arena, li.owner);
	assert(li.owner.len == 0 || well_formed(li.owner.p, li.owner.len,
	    NULL));
	hb_init_heap(&h);
	hb_str(&h, "<lockinfo xmlns='DAV:' xmlns:ns0='u:'><lockscope>");
	hb_str(&h, li.shared ? "<shared/>" : "<exclusive/>");
	hb_str(&h, "</lockscope><locktype><write/></locktype>");
	hb_add(&h, li.owner.p, li.owner.len);
	hb_str(&h, "</lockinfo>");
	assert(!h.overflow);
	assert(dav_xml_lockinfo(h.p, h.len, &again) == 0);
	assert(again.shared == li.shared);
	assert(span_eq(again.owner, li.owner));
	dav_lockinfo_free(&again);
	dav_lockinfo_free(&li);
	hb_release(&h);
}

static void
fuzz_escape(const char *p, size_t len, bool attr)
{
	struct hbuf doc, text, again;
	size_t off;

	hb_init_heap(&doc);
	hb_init_heap(&text);
	hb_init_heap(&again);
	hb_str(&doc, attr ? "<a b=\"" : "<a>");
	off = doc.len;
	if (attr)
		dav_xml_escape_attr(&doc, p, len);
	else
		dav_xml_escape(&doc, p, len);
	hb_str(&doc, attr ? "\"/>" : "</a>");
	assert(!doc.overflow);
	assert(well_formed(doc.p, doc.len, &text));
	assert(!text.overflow);
	if (attr)
		dav_xml_escape_attr(&again, text.p, text.len);
	else
		dav_xml_escape(&again, text.p, text.len);
	assert(!again.overflow);
	assert(again.len == doc.len - off - (attr ? 3 : 4));
	assert(again.len == 0 || memcmp(again.p, doc.p + off, again.len) == 0);
	hb_release(&doc);
	hb_release(&text);
	hb_release(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pick, arg = 0;
	char *p;

	if (size < 1)
		return 0;
	pick = data[0] % 4;
	data++;
	size--;
	if (pick == 3 && size > 0) {
		arg = data[0];
		data++;
		size--;
	}
	p = copy(data, size);
	switch (pick) {
	case 0:
		fuzz_propfind(p, size);
		break;
	case 1:
		fuzz_proppatch(p, size);
		break;
	case 2:
		fuzz_lockinfo(p, size);
		break;
	default:
		fuzz_escape(p, size, arg & 1);
		break;
	}
	free(p);
	return 0;
}
