/*
 * mime.h - file extension to media type.
 *
 * A table starts with the built-in entries, takes additions from a
 * mime.types file and from httpd.ini ([mime] ext = type, later entries
 * override earlier ones), and is then frozen by mime_finish().  A frozen
 * table is read-only, so lookups are thread-safe without locks.  Lookups
 * are a binary search on the lower-cased extension.
 */
#ifndef LANHTTPD_MIME_H
#define LANHTTPD_MIME_H

#include <stddef.h>

#define MIME_DEFAULT	"application/octet-stream"
/* Extensions longer than this are never looked up. */
#define MIME_EXT_MAX	15

struct mime_table;

/* A new table holding the built-in entries; NULL when out of memory. */
struct mime_table	*mime_new(void);

/* Frees a table; NULL is allowed. */
void	mime_free(struct mime_table *t);

/*
 * Adds or overrides ext (without the dot, any case) -> type.  A text type
 * (text/...) without parameters gets "; charset=utf-8".  Returns 0, -EINVAL for an
 * unusable extension or type, -ENOMEM.  Not after mime_finish().
 */
int	mime_add(struct mime_table *t, const char *ext, const char *type);

/*
 * Adds the entries of a mime.types(5) file ("type ext ext ..." lines,
 * '#' comments).  Returns 0 or a negative errno from opening or reading.
 */
int	mime_load_types_file(struct mime_table *t, const char *path);

/* Sorts and de-duplicates the table; afterwards it is read-only. */
void	mime_finish(struct mime_table *t);

/*
 * The media type for the file name name[0..len) (only the part after the
 * last '.' of the last path segment matters), or MIME_DEFAULT.  The result
 * lives as long as the table.
 */
const char	*mime_lookup(const struct mime_table *t, const char *name,
		    size_t len);

/* Number of entries (for tests and --check-config). */
size_t	mime_count(const struct mime_table *t);

#endif /* LANHTTPD_MIME_H */
