/*
 * fuzz_dav_if.c - libFuzzer entry point for the WebDAV If, Timeout,
 * Depth, Overwrite and Lock-Token headers.
 *
 * The first input byte picks the function (its value modulo 5); the rest
 * is its input, copied to an exact-size heap buffer so ASan catches a read
 * past it.
 *
 *   0  dav_if_parse: a failure leaves no lists and no conditions; a
 *      success gives lists that are consecutive, non-empty and within
 *      the bounds, every span inside the input, tags all present or all
 *      absent.  dav_if_eval() with callbacks whose answers are a hash of
 *      their arguments agrees with a plain reference evaluation, and
 *      dav_if_tokens() gives the positive state tokens.  The result
 *      written back in canonical form parses to the same result.
 *   1  dav_parse_timeout: agrees with a reference parser (the next byte
 *      picks max_s).
 *   2  dav_parse_depth: agrees with a reference check.
 *   3  dav_parse_overwrite: agrees with a reference check.
 *   4  dav_parse_lock_token: agrees with a reference check, and the
 *      token lies inside the input.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dav_if.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Single-threaded: large enough to keep off the stack. */
static struct dav_if hdr, again;

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

/* True when s lies inside p[0..len). */
static bool
inside(struct span s, const char *p, size_t len)
{
	return s.p >= p && s.len <= len && (size_t)(s.p - p) <= len - s.len;
}

/* FNV-1a over a span, continuing from h. */
static uint64_t
hash_span(uint64_t h, struct span s)
{
	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The "random" answer for (seed, url, v): a hash bit, repeatable. */
static bool
answer(uint8_t seed, struct span url, struct span v)
{
	uint64_t h = hash_span(0xcbf29ce484222325ull ^ seed, url);

	h = hash_span(h * 31 + url.len, v);
	return span_mix64(h) & 1;
}

struct oracle {
	uint8_t		 seed;
	size_t		 calls;
};

static bool
cb_token(void *arg, struct span url, struct span token)
{
	struct oracle *o = arg;

	o->calls++;
	return answer(o->seed, url, token);
}

static bool
cb_etag(void *arg, struct span url, struct span etag)
{
	struct oracle *o = arg;

	o->calls++;
	return !answer((uint8_t)(o->seed ^ 0x5a), url, etag);
}

/* The reference evaluation: every condition of every list, no shortcut. */
static bool
ref_eval(const struct dav_if *h, uint8_t seed)
{
	bool any = false;

	for (size_t i = 0; i < h->nlists; i++) {
		const struct dav_if_list *l = &h->lists[i];
		bool all = true;

		for (size_t j = l->first; j < l->first + l->n; j++) {
			const struct dav_if_cond *k = &h->conds[j];
			bool r = k->is_etag ?
			    !answer((uint8_t)(seed ^ 0x5a), l->tag, k->v) :
			    answer(seed, l->tag, k->v);

			all = all && (r != k->not);
		}
		any = any || all;
	}
	return any;
}

/* Checks the shape of a successful parse of p[0..len). */
static void
check_shape(const struct dav_if *h, const char *p, size_t len)
{
	size_t next = 0;

	assert(h->nlists >= 1 && h->nlists <= DAV_IF_MAX_LISTS);
	assert(h->nconds >= 1 && h->nconds <= DAV_IF_MAX_CONDS);
	for (size_t i = 0; i < h->nconds; i++) {
		struct span v = h->conds[i].v;

		assert(v.len > 0 && inside(v, p, len));
		if (h->conds[i].is_etag)
			assert(v.p[v.len - 1] == '"');
		for (size_t k = 0; !h->conds[i].is_etag && k < v.len; k++)
			assert((unsigned char)v.p[k] > 0x20 && v.p[k] != 0x7f &&
			    v.p[k] != '<' && v.p[k] != '>');
	}
	for (size_t i = 0; i < h->nlists; i++) {
		const struct dav_if_list *l = &h->lists[i];

		assert(l->first == next && l->n > 0);
		next += l->n;
		assert(h->tagged == (l->tag.len > 0));
		assert(l->tag.len == 0 || inside(l->tag, p, len));
	}
	assert(next == h->nconds);
}

/* A rendering under way. */
struct out {
	char		*p;
	size_t		 len, cap;
};

/* Appends s[0..n) to out. */
static void
put(struct out *o, const char *s, size_t n)
{
	assert(o->len + n <= o->cap);
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/*
 * Writes h, parsed from len bytes, back in canonical form: each list
 * with its tag (so a tag is repeated), a lower-case "not".  Returns the
 * text, of exactly *n bytes, for the caller to free.
 */
static char *
render(const struct dav_if *h, size_t len, size_t *n)
{
	struct out ob = {
		.cap = (DAV_IF_MAX_LISTS + 1) * len + 8 * (DAV_IF_MAX_CONDS +
		    DAV_IF_MAX_LISTS),
	};
	struct out *o = &ob;

	ob.p = malloc(ob.cap);
	assert(ob.p != NULL);

	for (size_t i = 0; i < h->nlists; i++) {
		const struct dav_if_list *l = &h->lists[i];

		if (l->tag.len > 0) {
			put(o, " <", 2);
			put(o, l->tag.p, l->tag.len);
			put(o, ">", 1);
		}
		put(o, " (", 2);
		for (size_t j = l->first; j < l->first + l->n; j++) {
			const struct dav_if_cond *k = &h->conds[j];

			if (k->not)
				put(o, "not ", 4);
			put(o, k->is_etag ? "[" : "<", 1);
			put(o, k->v.p, k->v.len);
			put(o, k->is_etag ? "] " : "> ", 2);
		}
		put(o, ")", 1);
	}
	/* An exact-size copy, so that a read past the end shows. */
	*n = ob.len;
	o->p = realloc(ob.p, ob.len);
	assert(o->p != NULL);
	return o->p;
}

/* True when a and b hold the same lists and conditions. */
static bool
same(const struct dav_if *a, const struct dav_if *b)
{
	if (a->nlists != b->nlists || a->nconds != b->nconds ||
	    a->tagged != b->tagged)
		return false;
	for (size_t i = 0; i < a->nlists; i++)
		if (a->lists[i].first != b->lists[i].first ||
		    a->lists[i].n != b->lists[i].n ||
		    !span_eq(a->lists[i].tag, b->lists[i].tag))
			return false;
	for (size_t i = 0; i < a->nconds; i++)
		if (a->conds[i].not != b->conds[i].not ||
		    a->conds[i].is_etag != b->conds[i].is_etag ||
		    !span_eq(a->conds[i].v, b->conds[i].v))
			return false;
	return true;
}

static void
fuzz_if(const char *p, size_t len, uint8_t seed)
{
	struct oracle o = { .seed = seed, .calls = 0 };
	struct dav_if_check chk = {
		.token_ok = cb_token, .etag_ok = cb_etag, .arg = &o,
	};
	struct span toks[DAV_IF_MAX_CONDS];
	size_t ntok = 0, n;
	char *exact;

	if (dav_if_parse(p, len, &hdr) != 0) {
		assert(hdr.nlists == 0 && hdr.nconds == 0);
		assert(!dav_if_eval(&hdr, &chk) && o.calls == 0);
		return;
	}
	check_shape(&hdr, p, len);
	assert(dav_if_eval(&hdr, &chk) == ref_eval(&hdr, seed));
	assert(o.calls >= 1 && o.calls <= hdr.nconds);

	n = dav_if_tokens(&hdr, toks, DAV_IF_MAX_CONDS);
	for (size_t i = 0; i < hdr.nconds; i++)
		if (!hdr.conds[i].is_etag && !hdr.conds[i].not) {
			assert(ntok < n && span_eq(toks[ntok], hdr.conds[i].v));
			ntok++;
		}
	assert(ntok == n);

	exact = render(&hdr, len, &n);
	assert(dav_if_parse(exact, n, &again) == 0);
	assert(same(&hdr, &again));
	free(exact);
}

/* Trims SP and HTAB, by hand. */
static void
ref_trim(const char **p, size_t *len)
{
	while (*len > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t'))
		(*len)--;
}

/* Case-insensitive p[0..len) == lower-case s. */
static bool
ref_eq(const char *p, size_t len, const char *s)
{
	if (len != strlen(s))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] + 32) : p[i];

		if (c != s[i])
			return false;
	}
	return true;
}

/* The reference for one Timeout element: 1 understood with *v, else 0. */
static int
ref_timeout_elem(const char *p, size_t len, unsigned max_s, unsigned *v)
{
	uint64_t n = 0;

	ref_trim(&p, &len);
	if (ref_eq(p, len, "infinite")) {
		*v = max_s;
		return 1;
	}
	if (len <= 7 || !ref_eq(p, 7, "second-"))
		return 0;
	for (size_t i = 7; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		if (n <= 0xffffffffull)
			n = n * 10 + (uint64_t)(p[i] - '0');
	}
	/* Raised to 1 first, then capped: a max_s of 0 wins. */
	if (n < 1)
		n = 1;
	*v = n > max_s ? max_s : (unsigned)n;
	return 1;
}

static void
fuzz_timeout(const char *p, size_t len, uint8_t pick)
{
	unsigned max_s = pick < 128 ? pick : UINT32_MAX - pick, want = 600;
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != ',')
			continue;
		if (ref_timeout_elem(p + start, i - start, max_s, &want))
			break;
		start = i + 1;
	}
	assert(dav_parse_timeout(span_make(p, len), 600, max_s) == want);
}

static void
fuzz_depth(const char *p, size_t len)
{
	const char *q = p;
	size_t n = len;
	int want = -1;

	ref_trim(&q, &n);
	if (n == 1 && q[0] == '0')
		want = 0;
	else if (n == 1 && q[0] == '1')
		want = 1;
	else if (ref_eq(q, n, "infinity"))
		want = DAV_DEPTH_INF;
	assert(dav_parse_depth(span_make(p, len), 77) == want);
}

static void
fuzz_overwrite(const char *p, size_t len)
{
	const char *q = p;
	size_t n = len;
	int want = -1;

	ref_trim(&q, &n);
	if (n == 1 && q[0] == 'T')
		want = 1;
	else if (n == 1 && q[0] == 'F')
		want = 0;
	assert(dav_parse_overwrite(span_make(p, len)) == want);
}

static void
fuzz_lock_token(const char *p, size_t len)
{
	const char *q = p;
	size_t n = len;
	bool want;
	struct span tok = SPAN_NULL;
	bool got = dav_parse_lock_token(span_make(p, len), &tok);

	ref_trim(&q, &n);
	want = n >= 3 && q[0] == '<' && q[n - 1] == '>';
	for (size_t i = 1; want && i + 1 < n; i++)
		want = (unsigned char)q[i] > 0x20 && q[i] != 0x7f &&
		    q[i] != '<' && q[i] != '>';
	assert(got == want);
	if (got)
		assert(tok.p == q + 1 && tok.len == n - 2 &&
		    inside(tok, p, len));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pick, arg = 0;
	char *p;

	if (size < 1)
		return 0;
	pick = data[0] % 5;
	data++;
	size--;
	/* The If and Timeout runs take one more byte of options. */
	if ((pick == 0 || pick == 1) && size > 0) {
		arg = data[0];
		data++;
		size--;
	}
	p = copy(data, size);
	switch (pick) {
	case 0:
		fuzz_if(p, size, arg);
		break;
	case 1:
		fuzz_timeout(p, size, arg);
		break;
	case 2:
		fuzz_depth(p, size);
		break;
	case 3:
		fuzz_overwrite(p, size);
		break;
	default:
		fuzz_lock_token(p, size);
		break;
	}
	free(p);
	return 0;
}
