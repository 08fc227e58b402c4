/*
 * access.h - who may read and who may write where: the [access] rules.
 *
 * Each line of [access] in httpd.ini gives a URL path prefix and a
 * space-separated list of WHO:RIGHTS entries:
 *
 *	/        = @guest:r
 *	/private = alice:rw bob:r
 *	/drop    = @guest:w
 *
 * WHO is a user name, "@guest" (a request without credentials) or
 * "@users" (any known, authenticated user).  RIGHTS is "r" (read), "rw"
 * (read and write), "w" (write only: a drop box) or "-" (nothing).  Keys
 * are normalised like request paths, so "/a", "/a/", "/./a" and "/%61"
 * are one prefix.  The longest prefix that matches on a segment boundary
 * decides alone: its line is the whole answer, nothing is inherited from
 * a shorter prefix ("/priv" does not match "/private/x").
 *
 * The rules are built once with access_new() and access_add() while the
 * configuration is loaded, then only read: every function taking a const
 * pointer is pure (no I/O, no locks, no globals) and safe to call from
 * any number of threads at once.  A reload builds a new set.  Writing
 * still needs the [upload] paths to include the path; that is the
 * caller's check, not this module's.
 */
#ifndef LANHTTPD_ACCESS_H
#define LANHTTPD_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

/* Bits: "rw" is ACCESS_READ | ACCESS_WRITE. */
enum access_right {
	ACCESS_NONE = 0,
	ACCESS_READ = 1,
	ACCESS_WRITE = 2,
};

/* Prefixes (lines) one set may hold. */
#define ACCESS_MAX_PREFIXES	1000
/* Entries in one line. */
#define ACCESS_MAX_ENTRIES	100
/* Bytes in a user name. */
#define ACCESS_MAX_USER		64
/* Bytes in a key, as written and once normalised. */
#define ACCESS_MAX_KEY		4096

struct access_rules;

/* An empty set, or NULL when out of memory.  Free with access_free(). */
struct access_rules	*access_new(void);

/* Frees r and everything in it; NULL does nothing. */
void	access_free(struct access_rules *r);

/*
 * Adds one [access] line: key is the prefix as written (it must start
 * with '/'; it is percent-decoded and normalised with path_normalize(),
 * dot segments allowed as long as they stay under the root, "/" being
 * the root) and value the list of entries, separated by SP or HTAB
 * runs.  A user name is 1..ACCESS_MAX_USER bytes of well-formed UTF-8
 * without controls (C0, DEL, C1), spaces or ':', and does not start
 * with '@' (so no name can pass for a group).  Nothing of key or value
 * is kept: r copies what it needs.
 *
 * Returns 0, or -1 with r unchanged and, when why is not NULL and whycap
 * is not 0, a reason in why[0..whycap) (NUL-terminated, cut short if need
 * be; lowercase, no final period, offending text quoted with controls
 * shown as '?'): an empty list, an entry without ':', an unknown right,
 * an unknown group ("@admins"), a bad user name, a WHO given twice in the
 * line, a prefix already given (after normalisation), a bad key (bad
 * escape, %00, climb above the root, a name over 255 bytes), a key over
 * ACCESS_MAX_KEY bytes, more than ACCESS_MAX_ENTRIES entries or
 * ACCESS_MAX_PREFIXES lines, or no memory.  why is untouched on success.
 * Not thread-safe: build the set in one thread, then share it read-only.
 */
int	access_add(struct access_rules *r, const char *key, const char *value,
	    char *why, size_t whycap);

/*
 * True when no line was added: then the caller applies no access control
 * at all (everyone reads, writes follow [upload] alone).
 */
bool	access_empty(const struct access_rules *r);

/*
 * The rights (ACCESS_* bits) of a requester on rel, a normalised path
 * relative to the root as path_normalize() produces it ("" for the root,
 * no leading '/'; a trailing '/' is harmless).  user is NULL for a guest
 * (no credentials), else the name of a known, authenticated user,
 * compared byte for byte with the names in the rules (case matters).
 *
 * The line of the longest prefix equal to rel or an ancestor of it
 * decides:
 *   1. the user's own entry, when user is not NULL and listed;
 *   2. else the @users entry, when user is not NULL and @users is listed;
 *   3. else the @guest entry, when listed (for users and guests alike);
 *   4. else ACCESS_NONE.
 * So a user never has fewer rights than a guest unless an entry for that
 * user or @users says so ("-" denies explicitly).  A path under no prefix
 * gets ACCESS_NONE: the admin writes "/ = ..." to open the root.
 */
unsigned	access_rights(const struct access_rules *r, const char *rel,
		    const char *user);

/*
 * Whether rel must be shown to exist to this requester although they may
 * not read it: true when some prefix strictly below rel (rel/...) gives
 * them any right by access_rights()'s rules, so that a client can walk
 * down to a path it may use (a Depth-0 PROPFIND on the ancestors of a drop
 * box, as Windows does).  A prefix equal to rel does not count.
 */
bool	access_has_below(const struct access_rules *r, const char *rel,
	    const char *user);

/*
 * True when credentials would gain something somewhere: some line has a
 * user or @users entry with a right its @guest entry (or ACCESS_NONE when
 * none is listed) lacks.  The caller then answers 401 with a challenge
 * where a guest is refused, rather than 403.
 */
bool	access_any_users(const struct access_rules *r);

/*
 * True when some line lies strictly below rel: what a folder's listing
 * shows then depends on who asks (its members may have other rules).
 */
bool	access_splits(const struct access_rules *r, const char *rel);

/*
 * The effective table for --check-config: one line per prefix in byte
 * order of the normalised path, each "/path" (every byte but letters,
 * digits, "-._~" and '/' percent-encoded, so that it can go back into
 * httpd.ini as the same key), two spaces, then
 * the entries separated by one space: users in the order written, then
 * @users, then @guest, which is shown as "@guest:-" when not listed, e.g.
 *	"/private  alice:rw bob:r @guest:-\n"
 * Writes at most cap bytes to out, NUL-terminated when cap > 0, and
 * returns the length of the whole text without the NUL, so a return >=
 * cap means it was cut short.  An empty set gives "" and 0.
 */
size_t	access_format(const struct access_rules *r, char *out, size_t cap);

#endif /* LANHTTPD_ACCESS_H */
