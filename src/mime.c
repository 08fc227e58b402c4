/*
 * mime.c - extension to media type; see mime.h.
 *
 * Entries are appended in priority order (built-in, mime.types, ini) with a
 * sequence number; mime_finish() sorts by extension and keeps, for each
 * extension, the entry added last.
 */
#include "mime.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "span.h"

struct mime_entry {
	char	 ext[MIME_EXT_MAX + 1];
	char	*type;			/* owned */
	size_t	 seq;
};

struct mime_table {
	struct mime_entry *v;
	size_t	 len, cap;
	bool	 frozen;
};

static const struct {
	const char *ext, *type;
} builtin[] = {
#include "mime_builtin.inc"
};

/* Text types and the textual application types are sent as UTF-8. */
static bool
wants_charset(const char *type)
{
	static const char *const textual[] = {
		"application/json", "application/xml", "application/xhtml+xml",
		"application/ld+json", "application/manifest+json",
		"application/rss+xml", "application/atom+xml",
		"application/x-subrip", "image/svg+xml",
	};

	if (strchr(type, ';') != NULL)
		return false;
	if (strncmp(type, "text/", 5) == 0)
		return true;
	for (size_t i = 0; i < sizeof(textual) / sizeof(textual[0]); i++)
		if (strcmp(type, textual[i]) == 0)
			return true;
	return false;
}

static bool
valid_type(const char *type)
{
	const char *slash = strchr(type, '/');

	if (slash == NULL || slash == type || slash[1] == '\0')
		return false;
	for (const char *p = type; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return strlen(type) < 200;
}

/* 1 to MIME_EXT_MAX bytes, with no dot, slash, space, control or DEL. */
static bool
valid_ext(const char *ext, size_t elen)
{
	if (elen == 0 || elen > MIME_EXT_MAX)
		return false;
	for (size_t i = 0; i < elen; i++)
		if (ext[i] == '.' || ext[i] == '/' || ext[i] == ' ' ||
		    (unsigned char)ext[i] < 0x21 || ext[i] == 0x7f)
			return false;
	return true;
}

/* Room for one more entry in t: 0, or -ENOMEM. */
static int
reserve_one(struct mime_table *t)
{
	size_t ncap;
	struct mime_entry *nv;

	if (t->len < t->cap)
		return 0;
	ncap = t->cap ? t->cap * 2 : 256;
	if ((nv = realloc(t->v, ncap * sizeof(*nv))) == NULL)
		return -ENOMEM;
	t->v = nv;
	t->cap = ncap;
	return 0;
}

/* A heap copy of type, with "; charset=utf-8" when it is text. */
static char *
type_copy(const char *type)
{
	size_t tlen = strlen(type);
	char *p;

	if (!wants_charset(type))
		return strdup(type);
	if ((p = malloc(tlen + sizeof("; charset=utf-8"))) != NULL)
		snprintf(p, tlen + sizeof("; charset=utf-8"),
		    "%s; charset=utf-8", type);
	return p;
}

int
mime_add(struct mime_table *t, const char *ext, const char *type)
{
	size_t elen = strlen(ext);
	struct mime_entry *e;
	int r;

	if (t->frozen || !valid_ext(ext, elen) || !valid_type(type))
		return -EINVAL;
	if ((r = reserve_one(t)) != 0)
		return r;
	e = &t->v[t->len];
	for (size_t i = 0; i <= elen; i++)
		e->ext[i] = (char)ascii_lower((unsigned char)ext[i]);
	if ((e->type = type_copy(type)) == NULL)
		return -ENOMEM;
	e->seq = t->len;
	t->len++;
	return 0;
}

struct mime_table *
mime_new(void)
{
	struct mime_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		if (mime_add(t, builtin[i].ext, builtin[i].type) != 0) {
			mime_free(t);
			return NULL;
		}
	}
	return t;
}

void
mime_free(struct mime_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->len; i++)
		free(t->v[i].type);
	free(t->v);
	free(t);
}

int
mime_load_types_file(struct mime_table *t, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	int rc = 0;

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *save = NULL, *type, *ext;

		if (line[0] == '#')
			continue;
		type = strtok_r(line, " \t\r\n", &save);
		if (type == NULL)
			continue;
		while ((ext = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
			int r = mime_add(t, ext, type);

			/* Skip entries we cannot use; stop only on ENOMEM. */
			if (r == -ENOMEM) {
				rc = r;
				goto out;
			}
		}
	}
	if (ferror(f))
		rc = -EIO;
out:
	fclose(f);
	return rc;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct mime_entry *x = a, *y = b;
	int c = strcmp(x->ext, y->ext);

	if (c != 0)
		return c;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

void
mime_finish(struct mime_table *t)
{
	size_t w = 0;

	if (t->len > 0)
		qsort(t->v, t->len, sizeof(t->v[0]), entry_cmp);
	/* Keep the last-added entry of each run of equal extensions. */
	for (size_t i = 0; i < t->len; i++) {
		if (i + 1 < t->len && strcmp(t->v[i].ext, t->v[i + 1].ext) == 0) {
			free(t->v[i].type);
			continue;
		}
		t->v[w++] = t->v[i];
	}
	t->len = w;
	t->frozen = true;
}

const char *
mime_lookup(const struct mime_table *t, const char *name, size_t len)
{
	char ext[MIME_EXT_MAX + 1];
	size_t dot = len, elen, lo = 0, hi;

	for (size_t i = len; i > 0; i--) {
		if (name[i - 1] == '/')
			break;
		if (name[i - 1] == '.') {
			dot = i - 1;
			break;
		}
	}
	if (dot == len)
		return MIME_DEFAULT;
	elen = len - dot - 1;
	if (elen == 0 || elen > MIME_EXT_MAX)
		return MIME_DEFAULT;
	for (size_t i = 0; i < elen; i++)
		ext[i] = (char)ascii_lower((unsigned char)name[dot + 1 + i]);
	ext[elen] = '\0';

	hi = t->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ext, t->v[mid].ext);

		if (c == 0)
			return t->v[mid].type;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return MIME_DEFAULT;
}

size_t
mime_count(const struct mime_table *t)
{
	return t->len;
}
