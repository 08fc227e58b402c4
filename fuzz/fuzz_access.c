/*
 * fuzz_access.c - libFuzzer entry point for the [access] rules.
 * Input: first line "rel\tuser" (a probe), then "key=value" lines.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "path.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
cstr(const char *p, size_t n)
{
	char *c = malloc(n + 1);

	assert(c != NULL);
	memcpy(c, p, n);
	c[n] = '\0';
	return c;
}

static struct access_rules *
from_text(const char *t, size_t n, size_t *added)
{
	struct access_rules *r = access_new();
	size_t i = 0;

	assert(r != NULL);
	*added = 0;
	while (i < n) {
		const char *l = t + i, *nl = memchr(l, '\n', n - i);
		size_t len = nl ? (size_t)(nl - l) : n - i;
		const char *eq = memchr(l, '=', len);
		char why[64];

		i += len + 1;
		if (eq == NULL)
			continue;
		char *k = cstr(l, (size_t)(eq - l));
		char *v = cstr(eq + 1, len - (size_t)(eq - l) - 1);
		memset(why, 'x', sizeof(why));
		if (access_add(r, k, v, why, sizeof(why)) == 0)
			(*added)++;
		else
			assert(memchr(why, '\0', sizeof(why)) != NULL);
		free(k);
		free(v);
	}
	return r;
}

/* The table turned back into "key=value" lines. */
static char *
table_to_text(const char *t, size_t n, size_t *outn)
{
	char *o = malloc(n + 1);
	size_t w = 0;
	bool seen = false;

	assert(o != NULL);
	for (size_t i = 0; i < n; i++) {
		if (!seen && t[i] == ' ' && i + 1 < n && t[i + 1] == ' ') {
			o[w++] = '=';
			i++;
			seen = true;
			continue;
		}
		if (t[i] == '\n')
			seen = false;
		o[w++] = t[i];
	}
	*outn = w;
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	const char *nl = memchr(t, '\n', size);
	size_t plen = nl ? (size_t)(nl - t) : size, added, added2;
	struct access_rules *r, *r2;

	r = from_text(nl ? nl + 1 : t + size, nl ? size - plen - 1 : 0, &added);
	assert(access_empty(r) == (added == 0));

	size_t need = access_format(r, NULL, 0);
	char *tab = malloc(need + 1), *tab2;
	assert(tab != NULL);
	assert(access_format(r, tab, need + 1) == need);
	assert(strlen(tab) == need);
	if (need > 0) {
		char *small = malloc(need);
		assert(access_format(r, small, need) == need);
		assert(strlen(small) == need - 1);
		free(small);
	}
	size_t tn;
	char *txt = table_to_text(tab, need, &tn);
	r2 = from_text(txt, tn, &added2);
	assert(added2 == added);
	size_t need2 = access_format(r2, NULL, 0);
	assert(need2 == need);
	tab2 = malloc(need2 + 1);
	access_format(r2, tab2, need2 + 1);
	assert(strcmp(tab, tab2) == 0);

	/* The probe: rel normalised from "/" + part before a tab. */
	const char *tab_p = memchr(t, '\t', plen);
	size_t rl = tab_p ? (size_t)(tab_p - t) : plen;
	char *raw = malloc(rl + 2), rel[4096], *user = NULL;
	struct path_result res;
	raw[0] = '/';
	memcpy(raw + 1, t, rl);
	if (tab_p != NULL && (size_t)(tab_p - t) + 1 < plen)
		user = cstr(tab_p + 1, plen - rl - 1);
	if (path_normalize(span_make(raw, rl + 1), true, rel, sizeof(rel),
	    &res) == 0) {
		char *g = cstr(rel, res.len);
		unsigned a = access_rights(r, g, user);
		unsigned gst = access_rights(r, g, NULL);
		assert(a <= 3 && gst <= 3);
		assert(a == access_rights(r2, g, user));
		assert(access_has_below(r, g, user) ==
		    access_has_below(r2, g, user));
		if (!access_any_users(r))
			assert((a & ~gst) == 0);
		free(g);
	}
	free(raw);
	free(user);
	free(txt);
	free(tab);
	free(tab2);
	access_free(r);
	access_free(r2);
	return 0;
}
