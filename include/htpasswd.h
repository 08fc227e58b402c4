/*
 * htpasswd.h - the accounts file: one "user:hash" per line.
 *
 * The format is Apache's htpasswd, restricted to the hashes that are
 * still worth having: yescrypt "$y$", bcrypt "$2y$", "$2b$" and "$2a$",
 * and SHA-512-crypt "$6$", all computed by libxcrypt.  MD5 "$apr1$",
 * DES crypt, "{SHA}" and plain text are refused, so an old file fails
 * loudly at start-up instead of letting weak hashes through.
 *
 * A loaded table is immutable: htpasswd_has() and htpasswd_verify() read
 * it without locks, so one table may be shared by any number of threads
 * until htpasswd_free().  The parser is pure (no I/O, no globals);
 * htpasswd_verify() and htpasswd_hash() call libxcrypt, the loader reads
 * one file, and the writer (htpasswd_set_user(), htpasswd_passwd_main())
 * is the `lanhttpd passwd` command line, not for the serving path.
 */
#ifndef LANHTTPD_HTPASSWD_H
#define LANHTTPD_HTPASSWD_H

#include <stdbool.h>
#include <stddef.h>

/* Users in one file; more is an error. */
#define HTPASSWD_MAX_USERS	10000
/* Bytes of one line, without its LF or CRLF; more is an error. */
#define HTPASSWD_LINE_MAX	1024
/* Bytes of the whole file; more is an error. */
#define HTPASSWD_FILE_MAX	(10u * 1024 * 1024)
/* Bytes of a user name (UTF-8). */
#define HTPASSWD_USER_MAX	64
/*
 * Bytes of a password; a longer one never verifies and cannot be set.
 * libxcrypt's own limit (CRYPT_MAX_PASSPHRASE_SIZE, NUL included).
 */
#define HTPASSWD_PASS_MAX	511
/* Room for any hash htpasswd_hash() makes, NUL included. */
#define HTPASSWD_HASH_CAP	128

/* An immutable, loaded table; shared read-only by threads. */
struct htpasswd;

/*
 * Parses text[0..len), the whole file.  Lines are "user:hash", ending in
 * LF or CRLF (the last one may have neither); lines that are empty or
 * blank (SP, HTAB) or whose first non-blank byte is '#' are ignored, and
 * trailing blanks after a hash are dropped.  A user name is 1 to
 * HTPASSWD_USER_MAX bytes of well-formed UTF-8 with no control character
 * (C0, DEL or C1), no ':', no space or HTAB, and no leading '@' (kept for
 * groups).  A hash must be a complete yescrypt, bcrypt or SHA-512-crypt
 * hash that libxcrypt's crypt_checksalt() calls CRYPT_SALT_OK.
 *
 * Returns a new table (count 0 for a file with no users), which the caller
 * frees with htpasswd_free().  On error, returns NULL and writes a
 * NUL-terminated "line N: reason" (lines count from 1), or a reason
 * without a line for a file over HTPASSWD_FILE_MAX or an allocation
 * failure, into err[0..errcap), cut short to fit; err may be NULL when
 * errcap is 0.  The reason names no hash and no password.  Errors: an
 * overlong line, a line without ':', a bad user name, a refused or
 * malformed hash, a user seen before, and more than HTPASSWD_MAX_USERS
 * users.  Nothing points into text afterwards.  Thread-safe.
 */
struct htpasswd	*htpasswd_parse(const char *text, size_t len, char *err,
		    size_t errcap);

/*
 * Reads and parses the file at path.  Refuses, with a reason in err, a
 * path that cannot be opened or read, that is not a regular file, that
 * anyone may write (S_IWOTH), or that is larger than HTPASSWD_FILE_MAX.
 * Symbolic links are followed.  A parse error is reported as
 * "'path': line N: reason".  Returns a new table or NULL, as
 * htpasswd_parse() does.  Thread-safe.
 */
struct htpasswd	*htpasswd_load(const char *path, char *err, size_t errcap);

/* Frees h and wipes the hashes it held; htpasswd_free(NULL) does nothing. */
void	htpasswd_free(struct htpasswd *h);

/* The number of users in h. */
size_t	htpasswd_count(const struct htpasswd *h);

/* True when user[0..len) is a user of h (an exact, byte-wise match). */
bool	htpasswd_has(const struct htpasswd *h, const char *user, size_t len);

/*
 * True when user[0..ulen) is a user of h and pass[0..plen) is its
 * password: crypt_rn(pass, hash) must give the stored hash again, compared
 * in constant time.  An unknown user costs about as much as a wrong
 * password: pass is hashed against a fixed yescrypt setting of the
 * default cost (made once per process) and false returned.  A password
 * holding a NUL byte, or longer than HTPASSWD_PASS_MAX, is false at once,
 * as is any failure of libxcrypt.
 *
 * The dummy matches the cost of yescrypt hashes made by htpasswd_hash();
 * a user with a much cheaper bcrypt or SHA-512-crypt hash answers faster
 * than an unknown one, which tells an attacker the name exists, so keep
 * accounts on yescrypt (`lanhttpd passwd` writes nothing else).
 *
 * Slow by design (a yescrypt hash takes tens of milliseconds): run it off
 * the serving path.  Thread-safe: the 32 KiB crypt_data lives on the heap
 * for the call, and copies of the password are wiped.
 */
bool	htpasswd_verify(const struct htpasswd *h, const char *user,
	    size_t ulen, const char *pass, size_t plen);

/*
 * Hashes pass[0..plen) with yescrypt at libxcrypt's default cost and a
 * random salt from getrandom(2), writing the NUL-terminated hash into
 * out[0..cap) (HTPASSWD_HASH_CAP is enough).  Returns 0, or -1 when pass
 * holds a NUL, is empty or longer than HTPASSWD_PASS_MAX, when out is too
 * small (out[0] is then '\0' if cap > 0) or libxcrypt fails.
 * Thread-safe.
 */
int	htpasswd_hash(const char *pass, size_t plen, char *out, size_t cap);

/* True when user[0..len) is a valid user name (see htpasswd_parse()). */
bool	htpasswd_user_valid(const char *user, size_t len);

/*
 * Sets the password of user in file to pass[0..plen): replaces the hash
 * on the user's line, or appends "user:hash" when there is none.  Every
 * other line stays byte for byte as it was (a second line for the same
 * user, which the parser would refuse, is dropped).  The new content goes
 * to a temporary file in the same directory, which gets the old file's
 * mode (0600 for a new file) and, when allowed, its owner; it is fsynced
 * and renamed over file, and the directory fsynced, so a crash leaves the
 * old file or the new one, never half of one.  Refuses a file that is not
 * a regular file (a symbolic link included) or is over HTPASSWD_FILE_MAX.
 * If some other line would make lanhttpd refuse the file, a warning says
 * so on stderr but the file is still written.
 *
 * Returns 0, or -1 with a message on stderr.  Never prints the password
 * or the hash.  Not meant for threads (it writes to stderr).
 */
int	htpasswd_set_user(const char *file, const char *user, const char *pass,
	    size_t plen);

/*
 * `lanhttpd passwd FILE USER`.  Reads the new password, from the terminal
 * without echo and asked twice (the two must match) when stdin is a
 * terminal, or else as one line of stdin (its LF, and a CR before it,
 * dropped), then calls htpasswd_set_user().  An empty password is
 * refused.  Returns the process exit status: 0, or 1 with a message on
 * stderr.  The password is never printed and is wiped after use.
 */
int	htpasswd_passwd_main(const char *file, const char *user);

#endif /* LANHTTPD_HTPASSWD_H */
