/*
 * access.c - the [access] rules: parsing, lookup and the effective table;
 * see access.h.
 *
 * The lines are kept in one array sorted by their normalised path, byte
 * by byte, with the root ("") first.  A lookup tries rel and then each of
 * its ancestors, longest first, by binary search, so it costs O(depth *
 * log n) and finds the longest prefix on a segment boundary by
 * construction.  The prefixes below a path share it as a prefix and so
 * lie next to each other in that order: access_has_below() scans just
 * them.  Inserting keeps the order (a memmove, 1000 lines at most, at
 * load time only).  Within a line, named users stay in the order written
 * (for the table); @users and @guest have their own fields.
 */
#include "access.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "span.h"

/* A group's field when the line does not list it. */
#define NOT_LISTED	(-1)
/* Bytes of offending text quoted in an error message. */
#define QUOTE_MAX	72

struct access_user {
	char		*name;		/* NUL-terminated */
	unsigned	 rights;
};

struct access_line {
	char			*path;	/* normalised, NUL-terminated */
	size_t			 len;
	struct access_user	*user;
	size_t			 nuser;
	int			 users;	/* @users' rights or NOT_LISTED */
	int			 guest;	/* @guest's rights or NOT_LISTED */
};

struct access_rules {
	struct access_line	*line;	/* sorted by path */
	size_t			 n;
	size_t			 cap;
};

/* The text of each rights value, indexed by its bits. */
static const char *const right_text[4] = { "-", "r", "w", "rw" };

/*
 * Helpers
 */

/*
 * Writes a reason to why[0..whycap) when there is room for one; a NULL
 * why or a zero whycap asks for none.  Returns -1, for callers to pass on.
 */
static int __attribute__((format(printf, 3, 4)))
refuse(char *why, size_t whycap, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whycap == 0)
		return -1;
	va_start(ap, fmt);
	/* Truncation is fine: the reason is cut short, still NUL-ended. */
	(void)vsnprintf(why, whycap, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Copies p[0..n) into q (QUOTE_MAX + 4 bytes) for an error message, with
 * every control byte shown as '?' and "..." when it is longer.  Returns q.
 */
static const char *
quote(const char *p, size_t n, char q[QUOTE_MAX + 4])
{
	size_t k = n < QUOTE_MAX ? n : QUOTE_MAX;

	for (size_t i = 0; i < k; i++) {
		unsigned char c = (unsigned char)p[i];

		q[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (k < n) {
		memcpy(q + k, "...", 3);
		k += 3;
	}
	q[k] = '\0';
	return q;
}

/* Byte order of a[0..alen) and b[0..blen): <0, 0 or >0. */
static int
path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/*
 * The index of the first line whose path is not below p[0..len) in byte
 * order; *found tells whether that line's path is p itself.
 */
static size_t
lower_bound(const struct access_rules *r, const char *p, size_t len,
    bool *found)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct access_line *ln = &r->line[mid];

		if (path_cmp(ln->path, ln->len, p, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < r->n &&
	    path_cmp(r->line[lo].path, r->line[lo].len, p, len) == 0;
	return lo;
}

static void
line_release(struct access_line *ln)
{
	for (size_t i = 0; i < ln->nuser; i++)
		free(ln->user[i].name);
	free(ln->user);
	free(ln->path);
	memset(ln, 0, sizeof(*ln));
}

/* The length of rel without one trailing '/'. */
static size_t
rel_len(const char *rel)
{
	size_t len = strlen(rel);

	return len > 0 && rel[len - 1] == '/' ? len - 1 : len;
}

/*
 * Parsing
 */

/* RIGHTS: "r", "rw", "w" or "-" into *out; false for anything else. */
static bool
parse_right(const char *p, size_t n, unsigned *out)
{
	for (unsigned i = 0; i < 4; i++) {
		if (strlen(right_text[i]) == n && memcmp(p, right_text[i],
		    n) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

/*
 * True when p[0..n) may be a user name: 1..ACCESS_MAX_USER bytes of
 * well-formed UTF-8, no C0 control, DEL or C1 control, no space and no
 * ':' (the rest of ASCII whitespace is C0 controls).  A leading '@' is
 * the caller's business.
 */
static bool
user_name_ok(const char *p, size_t n)
{
	size_t i = 0;

	if (n == 0 || n > ACCESS_MAX_USER)
		return false;
	while (i < n) {
		unsigned char c = (unsigned char)p[i];
		size_t k;

		if (c < 0x80) {
			if (c <= 0x20 || c == 0x7f || c == ':')
				return false;
			i++;
			continue;
		}
		if ((k = utf8_seq_len(p + i, n - i)) == 0)
			return false;
		/* U+0080..U+009F, the C1 controls. */
		if (c == 0xc2 && (unsigned char)p[i + 1] < 0xa0)
			return false;
		i += k;
	}
	return true;
}

/*
 * Checks a group name (WHO starting with '@') and points *field at the
 * line's field for it.  Returns 0 or -1 with a reason.
 */
static int
group_field(struct access_line *ln, const char *who, size_t n, int **field,
    char *why, size_t whycap)
{
	char q[QUOTE_MAX + 4];

	if (n == 6 && memcmp(who, "@guest", 6) == 0)
		*field = &ln->guest;
	else if (n == 6 && memcmp(who, "@users", 6) == 0)
		*field = &ln->users;
	else
		return refuse(why, whycap,
		    "unknown group '%s' (use @guest or @users)",
		    quote(who, n, q));
	if (**field != NOT_LISTED)
		return refuse(why, whycap, "'%s' listed twice",
		    quote(who, n, q));
	return 0;
}

/*
 * Adds a named user's entry to ln, whose user array has room for it.
 * Returns 0 or -1 with a reason.
 */
static int
add_user(struct access_line *ln, const char *who, size_t n, unsigned rights,
    char *why, size_t whycap)
{
	char q[QUOTE_MAX + 4];
	char *name;

	if (!user_name_ok(who, n))
		return refuse(why, whycap, "bad user name '%s': 1 to %d "
		    "bytes of UTF-8 without controls, spaces or ':'",
		    quote(who, n, q), ACCESS_MAX_USER);
	for (size_t i = 0; i < ln->nuser; i++)
		if (strlen(ln->user[i].name) == n &&
		    memcmp(ln->user[i].name, who, n) == 0)
			return refuse(why, whycap, "'%s' listed twice",
			    quote(who, n, q));
	if ((name = malloc(n + 1)) == NULL)
		return refuse(why, whycap, "out of memory");
	memcpy(name, who, n);
	name[n] = '\0';
	ln->user[ln->nuser].name = name;
	ln->user[ln->nuser].rights = rights;
	ln->nuser++;
	return 0;
}

/* One WHO:RIGHTS entry, tok[0..n), into ln.  Returns 0 or -1. */
static int
parse_entry(struct access_line *ln, const char *tok, size_t n, char *why,
    size_t whycap)
{
	char q[QUOTE_MAX + 4];
	const char *colon = memchr(tok, ':', n);
	size_t wlen;
	unsigned rights;
	int *field = NULL;

	if (colon == NULL)
		return refuse(why, whycap,
		    "missing ':' in '%s' (want WHO:RIGHTS)", quote(tok, n, q));
	wlen = (size_t)(colon - tok);
	if (!parse_right(colon + 1, n - wlen - 1, &rights))
		return refuse(why, whycap,
		    "unknown right in '%s' (use r, rw, w or -)",
		    quote(tok, n, q));
	if (wlen == 0)
		return refuse(why, whycap, "missing user name in '%s'",
		    quote(tok, n, q));
	if (tok[0] != '@')
		return add_user(ln, tok, wlen, rights, why, whycap);
	if (group_field(ln, tok, wlen, &field, why, whycap) != 0)
		return -1;
	*field = (int)rights;
	return 0;
}

static inline bool
is_sep(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The number of entries in value (runs of bytes other than SP and HTAB),
 * counted up to one past ACCESS_MAX_ENTRIES.
 */
static size_t
count_entries(const char *value)
{
	size_t n = 0;

	for (const char *p = value; *p != '\0' && n <= ACCESS_MAX_ENTRIES;) {
		while (is_sep(*p))
			p++;
		if (*p == '\0')
			break;
		n++;
		while (*p != '\0' && !is_sep(*p))
			p++;
	}
	return n;
}

/* The entries of value into ln, whose path is set.  Returns 0 or -1. */
static int
parse_value(struct access_line *ln, const char *value, char *why,
    size_t whycap)
{
	size_t n = value != NULL ? count_entries(value) : 0;

	if (n == 0)
		return refuse(why, whycap, "empty access list (want WHO:RIGHTS "
		    "entries such as '@guest:r alice:rw')");
	if (n > ACCESS_MAX_ENTRIES)
		return refuse(why, whycap, "too many entries (at most %d)",
		    ACCESS_MAX_ENTRIES);
	if ((ln->user = calloc(n, sizeof(*ln->user))) == NULL)
		return refuse(why, whycap, "out of memory");
	for (const char *p = value; *p != '\0';) {
		size_t len = 0;

		while (is_sep(*p))
			p++;
		while (p[len] != '\0' && !is_sep(p[len]))
			len++;
		if (len > 0 && parse_entry(ln, p, len, why, whycap) != 0)
			return -1;
		p += len;
	}
	return 0;
}

/*
 * Normalises key into ln->path (allocated) and ln->len.  Returns 0 or -1
 * with a reason.
 */
static int
parse_key(struct access_line *ln, const char *key, char *why, size_t whycap)
{
	char q[QUOTE_MAX + 4];
	char buf[ACCESS_MAX_KEY + 1];
	struct path_result res;
	size_t klen = key != NULL ? strnlen(key, ACCESS_MAX_KEY + 1) : 0;

	if (klen > ACCESS_MAX_KEY)
		return refuse(why, whycap, "prefix '%s' too long (at most %d "
		    "bytes)", quote(key, klen, q), ACCESS_MAX_KEY);
	if (klen == 0 || key[0] != '/')
		return refuse(why, whycap,
		    "prefix '%s' does not start with '/'", quote(key, klen, q));
	/* Hidden names may have rules: whether they are served is not ours. */
	switch (path_normalize(span_make(key, klen), true, buf, sizeof(buf),
	    &res)) {
	case 0:
		break;
	case 414:
		return refuse(why, whycap, "prefix '%s' too long",
		    quote(key, klen, q));
	case 404:
		return refuse(why, whycap, "prefix '%s' has a name longer than "
		    "255 bytes", quote(key, klen, q));
	default:
		return refuse(why, whycap, "bad prefix '%s': malformed escape, "
		    "NUL or climb above the root", quote(key, klen, q));
	}
	if ((ln->path = malloc(res.len + 1)) == NULL)
		return refuse(why, whycap, "out of memory");
	memcpy(ln->path, buf, res.len + 1);
	ln->len = res.len;
	return 0;
}

/*
 * Public interface
 */

struct access_rules *
access_new(void)
{
	return calloc(1, sizeof(struct access_rules));
}

void
access_free(struct access_rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		line_release(&r->line[i]);
	free(r->line);
	free(r);
}

/* Makes room for one more line in r.  Returns 0 or -1. */
static int
grow(struct access_rules *r)
{
	struct access_line *nl;
	size_t ncap;

	if (r->n < r->cap)
		return 0;
	ncap = r->cap == 0 ? 16 : r->cap * 2;
	if (ncap > ACCESS_MAX_PREFIXES)
		ncap = ACCESS_MAX_PREFIXES;
	if ((nl = realloc(r->line, ncap * sizeof(*nl))) == NULL)
		return -1;
	r->line = nl;
	r->cap = ncap;
	return 0;
}

int
access_add(struct access_rules *r, const char *key, const char *value,
    char *why, size_t whycap)
{
	struct access_line ln = { .users = NOT_LISTED, .guest = NOT_LISTED };
	char q[QUOTE_MAX + 4], q2[QUOTE_MAX + 4];
	size_t at;
	bool found;

	if (r->n >= ACCESS_MAX_PREFIXES)
		return refuse(why, whycap, "too many prefixes (at most %d)",
		    ACCESS_MAX_PREFIXES);
	if (parse_key(&ln, key, why, whycap) != 0)
		goto fail;
	at = lower_bound(r, ln.path, ln.len, &found);
	if (found) {
		(void)refuse(why, whycap, "prefix '%s' given twice (as '/%s')",
		    quote(key, strlen(key), q), quote(ln.path, ln.len, q2));
		goto fail;
	}
	if (parse_value(&ln, value, why, whycap) != 0)
		goto fail;
	if (grow(r) != 0) {
		(void)refuse(why, whycap, "out of memory");
		goto fail;
	}
	memmove(&r->line[at + 1], &r->line[at],
	    (r->n - at) * sizeof(r->line[0]));
	r->line[at] = ln;
	r->n++;
	return 0;
fail:
	line_release(&ln);
	return -1;
}

bool
access_empty(const struct access_rules *r)
{
	return r == NULL || r->n == 0;
}

/* The rights line ln gives user (NULL: a guest), by access.h's steps. */
static unsigned
line_rights(const struct access_line *ln, const char *user)
{
	if (user != NULL) {
		for (size_t i = 0; i < ln->nuser; i++)
			if (strcmp(ln->user[i].name, user) == 0)
				return ln->user[i].rights;
		if (ln->users != NOT_LISTED)
			return (unsigned)ln->users;
	}
	if (ln->guest != NOT_LISTED)
		return (unsigned)ln->guest;
	return ACCESS_NONE;
}

unsigned
access_rights(const struct access_rules *r, const char *rel, const char *user)
{
	size_t len;

	if (r == NULL || r->n == 0)
		return ACCESS_NONE;
	len = rel_len(rel);
	/* rel itself, then each ancestor at a '/', then the root. */
	for (size_t i = len;; i--) {
		if (i == len || i == 0 || rel[i] == '/') {
			bool found;
			size_t at = lower_bound(r, rel, i, &found);

			if (found)
				return line_rights(&r->line[at], user);
		}
		if (i == 0)
			break;
	}
	return ACCESS_NONE;
}

/*
 * The first line strictly below rel for which want(line, user) holds, or
 * NULL.  Every path that begins with rel follows rel in the sorted
 * array, in one run.
 */
static const struct access_line *
line_below(const struct access_rules *r, const char *rel, const char *user,
    bool any)
{
	size_t len, at;
	bool found;

	if (r == NULL)
		return NULL;
	len = rel_len(rel);
	at = lower_bound(r, rel, len, &found);
	for (size_t i = at; i < r->n; i++) {
		const struct access_line *ln = &r->line[i];

		if (ln->len < len || memcmp(ln->path, rel, len) != 0)
			break;
		/* Strictly below: "a/b" under "a", anything under the root. */
		if (ln->len == len || (len > 0 && ln->path[len] != '/'))
			continue;
		if (any || line_rights(ln, user) != ACCESS_NONE)
			return ln;
	}
	return NULL;
}

bool
access_has_below(const struct access_rules *r, const char *rel,
    const char *user)
{
	return line_below(r, rel, user, false) != NULL;
}

bool
access_splits(const struct access_rules *r, const char *rel)
{
	return line_below(r, rel, NULL, true) != NULL;
}

bool
access_any_users(const struct access_rules *r)
{
	if (r == NULL)
		return false;
	for (size_t i = 0; i < r->n; i++) {
		const struct access_line *ln = &r->line[i];
		unsigned lack = ~(ln->guest != NOT_LISTED ?
		    (unsigned)ln->guest : 0u);

		if (ln->users != NOT_LISTED && ((unsigned)ln->users & lack))
			return true;
		for (size_t j = 0; j < ln->nuser; j++)
			if (ln->user[j].rights & lack)
				return true;
	}
	return false;
}

/*
 * The effective table
 */

/* Text written so far (len may pass cap: what it would have needed). */
struct fmt {
	char	*p;
	size_t	 cap;
	size_t	 len;
};

/* Appends s[0..n), as much as fits before the final NUL. */
static void
fmt_put(struct fmt *o, const char *s, size_t n)
{
	if (o->cap > 0 && o->len < o->cap - 1) {
		size_t room = o->cap - 1 - o->len;

		memcpy(o->p + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void
fmt_str(struct fmt *o, const char *s)
{
	fmt_put(o, s, strlen(s));
}

/* Appends " WHO:RIGHTS" (without the space when first). */
static void
fmt_entry(struct fmt *o, const char *who, unsigned rights, bool *first)
{
	if (!*first)
		fmt_put(o, " ", 1);
	*first = false;
	fmt_str(o, who);
	fmt_put(o, ":", 1);
	fmt_str(o, right_text[rights & 3]);
}

/* Appends one line of the table for ln. */
static void
fmt_line(struct fmt *o, const struct access_line *ln)
{
	bool first = true;

	fmt_put(o, "/", 1);
	/*
	 * Byte by byte, so that no buffer for the whole path is needed.
	 * Strictly, so that the key can go back into httpd.ini as it is:
	 * inih would split a key at '=' or ':', and controls or spaces
	 * would not survive a terminal or the trimming of keys.
	 */
	for (size_t i = 0; i < ln->len; i++) {
		char enc[4];
		size_t n = path_encode_set(ln->path + i, 1, PCT_STRICT, enc,
		    sizeof(enc));

		fmt_put(o, enc, n);
	}
	fmt_put(o, "  ", 2);
	for (size_t i = 0; i < ln->nuser; i++)
		fmt_entry(o, ln->user[i].name, ln->user[i].rights, &first);
	if (ln->users != NOT_LISTED)
		fmt_entry(o, "@users", (unsigned)ln->users, &first);
	fmt_entry(o, "@guest", ln->guest != NOT_LISTED ?
	    (unsigned)ln->guest : ACCESS_NONE, &first);
	fmt_put(o, "\n", 1);
}

size_t
access_format(const struct access_rules *r, char *out, size_t cap)
{
	struct fmt o = { out, cap, 0 };

	for (size_t i = 0; r != NULL && i < r->n; i++)
		fmt_line(&o, &r->line[i]);
	if (cap > 0)
		out[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len;
}
