/*
 * fuzz_htpasswd.c - libFuzzer entry point for the accounts file parser.
 *
 * The first input byte is errcap (0 to 255): the error buffer is a heap
 * block of exactly that size, so a message written past it shows.  The
 * rest is the file, copied to an exact-size heap buffer.
 *
 *   htpasswd_parse: a failure leaves a NUL-terminated message that starts
 *   "line N: " with N a line of the input (or is about the file size);
 *   a success counts exactly the lines a plain reference walk finds to be
 *   neither blank nor comments, every such line's user is found by
 *   htpasswd_has() and is a valid name, and no name is there twice.
 *   htpasswd_user_valid on the whole input agrees with the basic rules.
 *
 * htpasswd_verify() is left out on purpose: a yescrypt hash takes tens of
 * milliseconds, which would leave the fuzzer no time to explore.
 */
#include <assert.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htpasswd.h"

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

/* The number of lines of p[0..len), a last one without LF included. */
static size_t
lines_of(const char *p, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n + (len > 0 && p[len - 1] != '\n');
}

/* True when the line p[0..n) (CR already dropped) is blank or a comment. */
static bool
skipped(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i == n || p[i] == '#';
}

/*
 * Checks a failure's message err (cap bytes) against the input.  A message
 * cut short keeps its start, so even "line 12" out of "line 123: ..."
 * names a line that exists.
 */
static void
check_error(const char *err, size_t cap, const char *p, size_t len)
{
	unsigned long line = 0;
	size_t n;

	if (cap == 0)
		return;
	assert(memchr(err, '\0', cap) != NULL);
	n = strlen(err);
	assert(strncmp(err, "line ", n < 5 ? n : 5) == 0);
	if (n < 6)
		return;
	assert(sscanf(err, "line %lu", &line) == 1);
	assert(line >= 1 && line <= lines_of(p, len));
}

/*
 * Walks p[0..len) as a plain reference would and checks h: every line
 * that is not skipped gives a user that h has.  Returns their number.
 */
static size_t
check_users(const struct htpasswd *h, const char *p, size_t len)
{
	size_t off = 0, n = 0;

	while (off < len) {
		const char *ln = p + off, *nl = memchr(ln, '\n', len - off);
		size_t ll = nl != NULL ? (size_t)(nl - ln) : len - off;
		size_t k = ll;
		const char *colon;

		off += ll + (nl != NULL);
		if (k > 0 && ln[k - 1] == '\r')
			k--;
		assert(k <= HTPASSWD_LINE_MAX);
		if (skipped(ln, k))
			continue;
		colon = memchr(ln, ':', k);
		assert(colon != NULL);
		assert(htpasswd_user_valid(ln, (size_t)(colon - ln)));
		assert(htpasswd_has(h, ln, (size_t)(colon - ln)));
		/* The name with its ':' is not a user: no prefix matching. */
		assert(!htpasswd_has(h, ln, (size_t)(colon - ln) + 1));
		n++;
	}
	return n;
}

/* The basic rules a valid name must keep, checked without the parser. */
static void
check_user_valid(const char *p, size_t len)
{
	if (!htpasswd_user_valid(p, len))
		return;
	assert(len >= 1 && len <= HTPASSWD_USER_MAX);
	assert(p[0] != '@' && p[0] != '#');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		assert(c > 0x20 && c != 0x7f && c != ':');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct htpasswd *h;
	size_t errcap;
	char *p, *err;

	if (size < 1)
		return 0;
	errcap = data[0];
	p = copy(data + 1, size - 1);
	err = malloc(errcap > 0 ? errcap : 1);
	assert(err != NULL);
	h = htpasswd_parse(p, size - 1, errcap > 0 ? err : NULL, errcap);
	if (h == NULL)
		check_error(err, errcap, p, size - 1);
	else {
		size_t n = check_users(h, p, size - 1);

		/* Equal counts and every user found: no user twice. */
		assert(htpasswd_count(h) == n);
		assert(n <= HTPASSWD_MAX_USERS);
		assert(!htpasswd_has(h, "", 0));
		htpasswd_free(h);
	}
	check_user_valid(p, size - 1);
	free(err);
	free(p);
	return 0;
}
