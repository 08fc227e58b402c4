/*
 * htpasswd.c - the accounts file; see htpasswd.h.
 *
 * A table is one allocation of entries plus one arena holding each user
 * name and hash NUL-terminated (crypt_rn() wants C strings).  Entries are
 * sorted by (length, bytes) so that lookups are a binary search and
 * duplicates sit next to each other after the sort.  Nothing in a table
 * changes after htpasswd_parse() returns, which is what makes sharing it
 * between threads safe without locks.
 *
 * Timing: the only secret-dependent work is crypt_rn() and the final
 * comparison.  A lookup's time depends on the user name, which the client
 * sent and so already knows; what must not show is whether the name
 * exists, hence the dummy hash for unknown users.
 */
#include "htpasswd.h"

#include <assert.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "span.h"

/* Bytes after the last '$' of each kind of hash. */
#define YESCRYPT_HASH_LEN	43
#define SHA512_HASH_LEN		86
/* A whole bcrypt hash: "$2y$NN$", 22 bytes of salt, 31 of hash. */
#define BCRYPT_LEN		60
/* Random bytes for a new yescrypt salt (libxcrypt's own default). */
#define SALT_BYTES		16

static_assert(HTPASSWD_PASS_MAX < CRYPT_MAX_PASSPHRASE_SIZE,
    "crypt_rn() refuses longer passwords");

/* The messages spell these numbers out. */
static_assert(HTPASSWD_LINE_MAX == 1024 && HTPASSWD_MAX_USERS == 10000 &&
    HTPASSWD_USER_MAX == 64 && HTPASSWD_PASS_MAX == 511,
    "update the messages");

/* read_file() flags. */
#define RF_NOFOLLOW		0x01	/* refuse a symbolic link */
#define RF_PRIVATE		0x02	/* refuse a world-writable file */

struct hp_entry {
	const char	*user;		/* NUL-terminated, in the arena */
	const char	*hash;		/* NUL-terminated, in the arena */
	size_t		 ulen;
	size_t		 hlen;
	size_t		 line;		/* where the file had it, from 1 */
};

struct htpasswd {
	struct hp_entry	*e;
	size_t		 n;
	char		*arena;
	size_t		 arena_cap;
};

/* A yescrypt setting of the default cost, for unknown users. */
static char dummy_setting[CRYPT_GENSALT_OUTPUT_SIZE];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

/* Set by the signal handler while the terminal does not echo. */
static volatile sig_atomic_t tty_signalled;

static void	seterr(char *err, size_t cap, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
static void	warnmsg(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/* Formats a message into err[0..cap), cut short to fit. */
static void
seterr(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || cap == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

/* Writes "lanhttpd passwd: " and the message, with a newline, to stderr. */
static void
warnmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("lanhttpd passwd: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * User names
 */

/* What is wrong with user[0..len) as a user name, or NULL. */
static const char *
user_problem(const char *user, size_t len)
{
	if (len == 0)
		return "empty user name";
	if (len > HTPASSWD_USER_MAX)
		return "user name longer than 64 bytes";
	/* '@' is kept for groups; '#' would make the line a comment. */
	if (user[0] == '@' || user[0] == '#')
		return "user name starts with '@' or '#'";
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)user[i];
		size_t n;

		if (c <= 0x20 || c == 0x7f || c == ':')
			return "user name holds a control character, "
			    "space or ':'";
		n = utf8_seq_len(user + i, len - i);
		if (n == 0)
			return "user name is not UTF-8";
		/* C1 controls, U+0080 to U+009F, are C2 80 to C2 9F. */
		if (n == 2 && c == 0xc2 && (unsigned char)user[i + 1] < 0xa0)
			return "user name holds a control character, "
			    "space or ':'";
		i += n;
	}
	return NULL;
}

bool
htpasswd_user_valid(const char *user, size_t len)
{
	return user != NULL && user_problem(user, len) == NULL;
}

/*
 * Hashes
 */

/* True when c may appear in a crypt hash (itoa64, '$' and "rounds="). */
static bool
hash_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z') || c == '.' || c == '/' || c == '$' ||
	    c == '=';
}

/* The number of bytes c in s. */
static size_t
count_char(struct span s, char c)
{
	size_t n = 0;

	for (size_t i = 0; i < s.len; i++)
		n += s.p[i] == c;
	return n;
}

/* Bytes after the last '$' of s (s holds at least one). */
static size_t
tail_len(struct span s)
{
	size_t i = s.len;

	while (i > 0 && s.p[i - 1] != '$')
		i--;
	return s.len - i;
}

/* True when h begins with the string prefix (case matters to crypt). */
static bool
starts(struct span h, const char *prefix)
{
	size_t n = strlen(prefix);

	return h.len >= n && memcmp(h.p, prefix, n) == 0;
}

/* Why a hash with an unsupported prefix is refused. */
static const char *
refused_kind(struct span h)
{
	if (span_starts_nocase(h, SPAN_LIT("$apr1$")))
		return "MD5 ($apr1$) hash refused: set the password again "
		    "with 'lanhttpd passwd'";
	if (span_starts_nocase(h, SPAN_LIT("{SHA}")))
		return "SHA-1 ({SHA}) hash refused: set the password again "
		    "with 'lanhttpd passwd'";
	if (h.len > 0 && h.p[0] == '$')
		return "unsupported hash method (use yescrypt, bcrypt or "
		    "SHA-512-crypt)";
	return "not a crypt hash (DES crypt or plain text?): set the "
	    "password again with 'lanhttpd passwd'";
}

/* True when h is a well-formed bcrypt hash ("$2y$NN$" and 53 bytes). */
static bool
bcrypt_shape(struct span h)
{
	if (h.len != BCRYPT_LEN || h.p[6] != '$')
		return false;
	if (h.p[4] < '0' || h.p[4] > '3' || h.p[5] < '0' || h.p[5] > '9')
		return false;
	return count_char(h, '$') == 3;
}

/*
 * Whether h has the complete shape of a hash of a method we accept: 1
 * when it does, 0 when it is one of those methods but malformed (a bare
 * setting would let any password in, or none), -1 for any other method.
 */
static int
hash_shape(struct span h)
{
	bool shape;

	if (starts(h, "$y$"))
		shape = count_char(h, '$') == 4 &&
		    tail_len(h) == YESCRYPT_HASH_LEN && h.p[3] != '$';
	else if (starts(h, "$6$"))
		shape = (count_char(h, '$') == 3 || count_char(h, '$') == 4) &&
		    tail_len(h) == SHA512_HASH_LEN;
	else if (starts(h, "$2y$") || starts(h, "$2b$") || starts(h, "$2a$"))
		shape = bcrypt_shape(h);
	else
		return -1;
	for (size_t i = 0; shape && i < h.len; i++)
		shape = hash_char((unsigned char)h.p[i]);
	return shape ? 1 : 0;
}

/*
 * What is wrong with h as a stored hash, or NULL: it must have the shape
 * hash_shape() wants, and libxcrypt must agree the method is fine to use.
 */
static const char *
hash_problem(struct span h)
{
	char buf[HTPASSWD_LINE_MAX + 1];
	int shape = hash_shape(h);

	if (shape < 0)
		return refused_kind(h);
	if (shape == 0 || h.len >= sizeof(buf))
		return "malformed hash";
	memcpy(buf, h.p, h.len);
	buf[h.len] = '\0';
	switch (crypt_checksalt(buf)) {
	case CRYPT_SALT_OK:
		return NULL;
	case CRYPT_SALT_METHOD_LEGACY:
		/* Old bcrypt "$2a$" may be called legacy: still bcrypt. */
		return h.p[2] == 'a' ? NULL : "hash method disabled";
	case CRYPT_SALT_TOO_CHEAP:
		return "hash cost too low";
	default:
		return "hash method disabled in libxcrypt";
	}
}

/*
 * Parsing
 */

/* Orders entries by user name length, then bytes. */
static int
entry_cmp(const void *a, const void *b)
{
	const struct hp_entry *x = a, *y = b;

	if (x->ulen != y->ulen)
		return x->ulen < y->ulen ? -1 : 1;
	return memcmp(x->user, y->user, x->ulen);
}

/* Orders entries as entry_cmp() does, then by line. */
static int
entry_line_cmp(const void *a, const void *b)
{
	const struct hp_entry *x = a, *y = b;
	int c = entry_cmp(a, b);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Copies p[0..n) and a NUL into h's arena; returns the copy. */
static const char *
arena_put(struct htpasswd *h, size_t *used, const char *p, size_t n)
{
	char *dst = h->arena + *used;

	memcpy(dst, p, n);
	dst[n] = '\0';
	*used += n + 1;
	return dst;
}

/*
 * Parses one line, ln (no LF), numbered lineno, into h.  Returns 0, or -1
 * with err set.
 */
static int
parse_line(struct htpasswd *h, size_t *used, struct span ln, size_t lineno,
    char *err, size_t errcap)
{
	struct span t, user, hash;
	const char *why;
	ptrdiff_t colon;
	struct hp_entry *e;

	if (ln.len > 0 && ln.p[ln.len - 1] == '\r')
		ln.len--;
	if (ln.len > HTPASSWD_LINE_MAX)
		why = "line longer than 1024 bytes";
	else if ((t = span_trim(ln)).len == 0 || t.p[0] == '#')
		return 0;
	else if ((colon = span_find(ln, ':')) < 0)
		why = "no ':' between user and hash";
	else {
		user = span_make(ln.p, (size_t)colon);
		hash = span_trim(span_make(ln.p + colon + 1,
		    ln.len - (size_t)colon - 1));
		if ((why = user_problem(user.p, user.len)) == NULL &&
		    (why = hash_problem(hash)) == NULL &&
		    h->n == HTPASSWD_MAX_USERS)
			why = "more than 10000 users";
	}
	if (why != NULL) {
		seterr(err, errcap, "line %zu: %s", lineno, why);
		return -1;
	}
	/* The arena holds len + 1 bytes: user NUL hash NUL fits the line. */
	if (*used + user.len + hash.len + 2 > h->arena_cap) {
		seterr(err, errcap, "line %zu: internal error", lineno);
		return -1;
	}
	e = &h->e[h->n++];
	e->user = arena_put(h, used, user.p, user.len);
	e->ulen = user.len;
	e->hash = arena_put(h, used, hash.p, hash.len);
	e->hlen = hash.len;
	e->line = lineno;
	return 0;
}

/* The number of lines of text[0..len) (a last line without LF counts). */
static size_t
count_lines(const char *text, size_t len)
{
	size_t n = 0, off = 0;

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);

		n++;
		if (nl == NULL)
			break;
		off = (size_t)(nl - text) + 1;
	}
	return n;
}

/*
 * Sorts h's entries and refuses a user that appears twice, naming the
 * earliest line that repeats one.  Returns 0, or -1 with err set.
 */
static int
sort_unique(struct htpasswd *h, char *err, size_t errcap)
{
	size_t bad = 0, first = 0;

	/*
	 * With equal names in line order, the second line of each repeated
	 * name follows its first: the smallest such second line is the one
	 * a reader meets first.
	 */
	if (h->n > 1)
		qsort(h->e, h->n, sizeof(h->e[0]), entry_line_cmp);
	for (size_t i = 1; i < h->n; i++) {
		const struct hp_entry *a = &h->e[i - 1], *b = &h->e[i];

		if (entry_cmp(a, b) == 0 && (bad == 0 || b->line < bad)) {
			bad = b->line;
			first = a->line;
		}
	}
	if (bad == 0)
		return 0;
	seterr(err, errcap, "line %zu: user already on line %zu", bad, first);
	return -1;
}

struct htpasswd *
htpasswd_parse(const char *text, size_t len, char *err, size_t errcap)
{
	struct htpasswd *h;
	size_t lines, off = 0, used = 0, lineno = 0;

	if (len > HTPASSWD_FILE_MAX) {
		seterr(err, errcap, "file larger than %u bytes",
		    HTPASSWD_FILE_MAX);
		return NULL;
	}
	lines = count_lines(text, len);
	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto nomem;
	h->arena_cap = len + 1;
	h->arena = malloc(h->arena_cap);
	/* A table never holds more entries than lines or HTPASSWD_MAX_USERS. */
	h->e = calloc(lines < HTPASSWD_MAX_USERS ? lines + 1 :
	    HTPASSWD_MAX_USERS, sizeof(h->e[0]));
	if (h->arena == NULL || h->e == NULL)
		goto nomem;
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl != NULL ? (size_t)(nl - (text + off)) : len - off;

		if (parse_line(h, &used, span_make(text + off, n), ++lineno,
		    err, errcap) != 0)
			goto fail;
		off += n + (nl != NULL);
	}
	if (sort_unique(h, err, errcap) != 0)
		goto fail;
	return h;
nomem:
	seterr(err, errcap, "out of memory");
fail:
	htpasswd_free(h);
	return NULL;
}

void
htpasswd_free(struct htpasswd *h)
{
	if (h == NULL)
		return;
	if (h->arena != NULL) {
		explicit_bzero(h->arena, h->arena_cap);
		free(h->arena);
	}
	free(h->e);
	free(h);
}

size_t
htpasswd_count(const struct htpasswd *h)
{
	return h != NULL ? h->n : 0;
}

/* The entry of user[0..len) in h, or NULL. */
static const struct hp_entry *
find(const struct htpasswd *h, const char *user, size_t len)
{
	struct hp_entry key = { .user = user, .ulen = len };

	if (h == NULL || h->n == 0 || (user == NULL && len > 0))
		return NULL;
	return bsearch(&key, h->e, h->n, sizeof(h->e[0]), entry_cmp);
}

bool
htpasswd_has(const struct htpasswd *h, const char *user, size_t len)
{
	return find(h, user, len) != NULL;
}

/*
 * Verifying and hashing
 */

/* Makes dummy_setting once per process. */
static void
dummy_init(void)
{
	/*
	 * The salt need not be secret or random: the dummy only has to cost
	 * what a real check costs, and never matches since its output is
	 * thrown away.
	 */
	static const char rnd[SALT_BYTES] = "lanhttpd-dummy!";

	if (crypt_gensalt_rn("$y$", 0, rnd, sizeof(rnd), dummy_setting,
	    sizeof(dummy_setting)) == NULL || dummy_setting[0] != '$')
		(void)snprintf(dummy_setting, sizeof(dummy_setting), "%s",
		    "$y$j9T$ASbl0qpiSkg.xtWt/hREh/");
}

/* True when a[0..n) and b[0..n) are equal, in time that depends on n only. */
static bool
ct_equal(const char *a, const char *b, size_t n)
{
	volatile unsigned char acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= (unsigned char)(a[i] ^ b[i]);
	return acc == 0;
}

/*
 * Hashes pass[0..plen) (no NUL inside, plen <= HTPASSWD_PASS_MAX) with
 * setting and, when want is not NULL, compares the result with
 * want[0..wlen).  Returns true on a match.
 */
static bool
crypt_check(const char *pass, size_t plen, const char *setting,
    const char *want, size_t wlen)
{
	char pw[HTPASSWD_PASS_MAX + 1];
	struct crypt_data *cd;
	const char *out;
	bool ok = false;

	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return false;
	memcpy(pw, pass, plen);
	pw[plen] = '\0';
	out = crypt_rn(pw, setting, cd, sizeof(*cd));
	if (want != NULL && out != NULL && out[0] == '$' &&
	    strlen(out) == wlen)
		ok = ct_equal(out, want, wlen);
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

bool
htpasswd_verify(const struct htpasswd *h, const char *user, size_t ulen,
    const char *pass, size_t plen)
{
	const struct hp_entry *e;

	if (h == NULL || (pass == NULL && plen > 0) ||
	    plen > HTPASSWD_PASS_MAX || (plen > 0 && memchr(pass, '\0', plen)))
		return false;
	if (pass == NULL)
		pass = "";
	if ((e = find(h, user, ulen)) != NULL)
		return crypt_check(pass, plen, e->hash, e->hash, e->hlen);
	if (pthread_once(&dummy_once, dummy_init) != 0)
		return false;
	(void)crypt_check(pass, plen, dummy_setting, NULL, 0);
	return false;
}

/* Fills buf[0..len) from getrandom(2).  Returns 0 or -1. */
static int
fill_random(void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom((char *)buf + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

int
htpasswd_hash(const char *pass, size_t plen, char *out, size_t cap)
{
	char rnd[SALT_BYTES], setting[CRYPT_GENSALT_OUTPUT_SIZE];
	char pw[HTPASSWD_PASS_MAX + 1];
	struct crypt_data *cd = NULL;
	const char *h;
	size_t n;
	int rc = -1;

	if (cap > 0)
		out[0] = '\0';
	if (pass == NULL || plen == 0 || plen > HTPASSWD_PASS_MAX ||
	    memchr(pass, '\0', plen) != NULL)
		return -1;
	if (fill_random(rnd, sizeof(rnd)) != 0 ||
	    crypt_gensalt_rn("$y$", 0, rnd, sizeof(rnd), setting,
	    sizeof(setting)) == NULL || (cd = calloc(1, sizeof(*cd))) == NULL)
		goto out;
	memcpy(pw, pass, plen);
	pw[plen] = '\0';
	h = crypt_rn(pw, setting, cd, sizeof(*cd));
	if (h != NULL && h[0] == '$' && (n = strlen(h)) < cap) {
		memcpy(out, h, n + 1);
		rc = 0;
	}
	explicit_bzero(pw, sizeof(pw));
out:
	explicit_bzero(rnd, sizeof(rnd));
	if (cd != NULL) {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
	return rc;
}

/*
 * Files
 */

/*
 * Reads all of the file fd (opened from path) into a new buffer, *buf and
 * *len, which the caller wipes and frees.  Returns 0, or a negative errno
 * with err set.
 */
static int
read_fd(int fd, const char *path, const struct stat *st, char **buf,
    size_t *len, char *err, size_t errcap)
{
	size_t cap = (size_t)st->st_size + 1, used = 0;
	char *b = malloc(cap), *nb;

	while (b != NULL) {
		ssize_t n;

		if (used == cap) {
			/* It grew while we read: take it up to the limit. */
			if (cap > HTPASSWD_FILE_MAX)
				goto big;
			cap = cap * 2 > HTPASSWD_FILE_MAX + 1 ?
			    HTPASSWD_FILE_MAX + 1 : cap * 2;
			if ((nb = realloc(b, cap)) == NULL)
				break;
			b = nb;
		}
		if ((n = read(fd, b + used, cap - used)) < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			seterr(err, errcap, "cannot read '%s': %s", path,
			    strerror(e));
			free(b);
			return -e;
		}
		if (n == 0) {
			*buf = b;
			*len = used;
			return 0;
		}
		used += (size_t)n;
	}
	seterr(err, errcap, "cannot read '%s': out of memory", path);
	free(b);
	return -ENOMEM;
big:
	seterr(err, errcap, "'%s' is larger than %u bytes", path,
	    HTPASSWD_FILE_MAX);
	explicit_bzero(b, cap);
	free(b);
	return -EFBIG;
}

/*
 * Opens and reads the file at path (see RF_*), with its status in *st.
 * Returns 0 with a new buffer in *buf and *len, or a negative errno with
 * err set (-ENOENT when it does not exist).
 */
static int
read_file(const char *path, int flags, struct stat *st, char **buf,
    size_t *len, char *err, size_t errcap)
{
	int fd, rc, e;

	/* O_NONBLOCK: opening a FIFO must not hang before fstat refuses it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	    ((flags & RF_NOFOLLOW) ? O_NOFOLLOW : 0));
	if (fd == -1) {
		e = errno;
		if (e == ELOOP && (flags & RF_NOFOLLOW))
			seterr(err, errcap, "'%s' is a symbolic link", path);
		else
			seterr(err, errcap, "cannot open '%s': %s", path,
			    strerror(e));
		return -e;
	}
	if (fstat(fd, st) == -1) {
		e = errno;
		seterr(err, errcap, "cannot stat '%s': %s", path, strerror(e));
		rc = -e;
	} else if (!S_ISREG(st->st_mode)) {
		seterr(err, errcap, "'%s' is not a regular file", path);
		rc = -EINVAL;
	} else if ((flags & RF_PRIVATE) && (st->st_mode & S_IWOTH)) {
		seterr(err, errcap, "'%s' is world-writable: chmod o-w it",
		    path);
		rc = -EPERM;
	} else if (st->st_size > (off_t)HTPASSWD_FILE_MAX) {
		seterr(err, errcap, "'%s' is larger than %u bytes", path,
		    HTPASSWD_FILE_MAX);
		rc = -EFBIG;
	} else
		rc = read_fd(fd, path, st, buf, len, err, errcap);
	(void)close(fd);
	return rc;
}

struct htpasswd *
htpasswd_load(const char *path, char *err, size_t errcap)
{
	struct htpasswd *h;
	struct stat st;
	char *buf = NULL, perr[256];
	size_t len = 0;

	if (read_file(path, RF_PRIVATE, &st, &buf, &len, err, errcap) != 0)
		return NULL;
	if ((h = htpasswd_parse(buf, len, perr, sizeof(perr))) == NULL)
		seterr(err, errcap, "'%s': %s", path, perr);
	explicit_bzero(buf, len);
	free(buf);
	return h;
}

/*
 * Writing
 */

/* True when the line p[0..n) gives user[0..ulen) a hash. */
static bool
line_is_user(const char *p, size_t n, const char *user, size_t ulen)
{
	return n > ulen && memcmp(p, user, ulen) == 0 && p[ulen] == ':';
}

/* Appends "user:hash" and the line end eol to out at *o. */
static void
put_entry(char *out, size_t *o, const char *user, const char *hash,
    const char *eol)
{
	int n = sprintf(out + *o, "%s:%s%s", user, hash, eol);

	*o += (size_t)n;
}

/*
 * Writes old[0..len) into out (len + strlen(user) + strlen(hash) + 4 bytes)
 * with user's line replaced, or appended when missing.  Returns the bytes
 * written.
 */
static size_t
rewrite(const char *old, size_t len, const char *user, const char *hash,
    char *out)
{
	size_t o = 0, off = 0, ulen = strlen(user);
	bool done = false;

	while (off < len) {
		const char *p = old + off, *nl = memchr(p, '\n', len - off);
		size_t n = nl != NULL ? (size_t)(nl - p) + 1 : len - off;

		if (!line_is_user(p, n, user, ulen)) {
			memcpy(out + o, p, n);
			o += n;
		} else if (!done) {
			/* Keep the line's own ending: CRLF, LF or none. */
			put_entry(out, &o, user, hash, nl == NULL ? "" :
			    (n >= 2 && p[n - 2] == '\r') ? "\r\n" : "\n");
			done = true;
		}
		off += n;
	}
	if (!done) {
		if (o > 0 && out[o - 1] != '\n')
			out[o++] = '\n';
		put_entry(out, &o, user, hash, "\n");
	}
	return o;
}

/* Writes buf[0..len) to fd.  Returns 0 or -1 with errno set. */
static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Fsyncs the directory dir ("." when empty).  Returns 0 or -1. */
static int
sync_dir(const char *dir)
{
	int fd = open(dir[0] != '\0' ? dir : ".",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	(void)close(fd);
	return rc;
}

/*
 * Puts file's directory into dir and a mkostemp() template for a hidden
 * temporary file beside it into tmp (both PATH_MAX bytes).  Returns 0, or
 * -1 when a path does not fit.
 */
static int
tmp_path(const char *file, char *dir, char *tmp)
{
	const char *slash = strrchr(file, '/');
	const char *base = slash != NULL ? slash + 1 : file;
	/* "/x" lives in "/", not in "". */
	int dlen = slash == NULL ? 0 : (int)(slash - file) + (slash == file);
	int n;

	if (dlen >= PATH_MAX)
		return -1;
	memcpy(dir, file, (size_t)dlen);
	dir[dlen] = '\0';
	n = snprintf(tmp, PATH_MAX, "%s%s.%s.XXXXXX", dir,
	    dlen > 0 && dir[dlen - 1] != '/' ? "/" : "", base);
	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

/*
 * Gives the new file fd the owner and group of the old one, st, when they
 * differ; only root may give a file away, so failing is just a warning.
 */
static void
keep_owner(int fd, const char *file, const struct stat *st)
{
	if ((st->st_uid != geteuid() || st->st_gid != getegid()) &&
	    fchown(fd, st->st_uid, st->st_gid) == -1)
		warnmsg("warning: cannot keep the owner of '%s': %s", file,
		    strerror(errno));
}

/*
 * Writes buf[0..len) to a temporary file in file's directory with the mode
 * and owner of st (mode 0600 when st is NULL), then renames it over file.
 * Returns 0 or -1 with a message on stderr.
 */
static int
replace_file(const char *file, const struct stat *st, const char *buf,
    size_t len)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	int fd = -1, n;

	if (tmp_path(file, dir, tmp) != 0) {
		warnmsg("'%s': path too long", file);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		warnmsg("cannot create a file in '%s': %s", dir[0] != '\0' ?
		    dir : ".", strerror(errno));
		return -1;
	}
	if (st != NULL)
		keep_owner(fd, file, st);
	if (fchmod(fd, st != NULL ? st->st_mode & 07777 : 0600) == -1 ||
	    write_all(fd, buf, len) == -1 || fsync(fd) == -1)
		goto fail;
	n = close(fd);
	fd = -1;
	if (n == -1 || rename(tmp, file) == -1)
		goto fail;
	if (sync_dir(dir) == -1)
		warnmsg("warning: cannot sync the directory of '%s': %s", file,
		    strerror(errno));
	return 0;
fail:
	warnmsg("cannot write '%s': %s", file, strerror(errno));
	if (fd != -1)
		(void)close(fd);
	(void)unlink(tmp);
	return -1;
}

/*
 * Warns when buf[0..len), the new content of file, is something lanhttpd
 * would refuse to load.
 */
static void
check_result(const char *file, const char *buf, size_t len)
{
	char perr[256];
	struct htpasswd *h = htpasswd_parse(buf, len, perr, sizeof(perr));

	if (h == NULL)
		warnmsg("warning: lanhttpd will refuse '%s' until this is "
		    "fixed: %s", file, perr);
	htpasswd_free(h);
}

/* What is wrong with pass[0..plen) as a new password, or NULL. */
static const char *
pass_problem(const char *pass, size_t plen)
{
	if (pass == NULL || plen == 0)
		return "empty password refused";
	if (plen > HTPASSWD_PASS_MAX)
		return "password longer than 511 bytes";
	if (memchr(pass, '\0', plen) != NULL)
		return "password holds a NUL byte";
	return NULL;
}

int
htpasswd_set_user(const char *file, const char *user, const char *pass,
    size_t plen)
{
	char hash[HTPASSWD_HASH_CAP], rerr[PATH_MAX + 64];
	char *old = NULL, *out = NULL;
	size_t len = 0, cap, n;
	struct stat st;
	const char *why;
	int rc = -1, r;

	if ((why = user_problem(user, strlen(user))) != NULL) {
		warnmsg("%s", why);
		return -1;
	}
	if ((why = pass_problem(pass, plen)) != NULL) {
		warnmsg("%s", why);
		return -1;
	}
	if (htpasswd_hash(pass, plen, hash, sizeof(hash)) != 0) {
		warnmsg("cannot hash the password");
		return -1;
	}
	r = read_file(file, RF_NOFOLLOW, &st, &old, &len, rerr, sizeof(rerr));
	if (r != 0 && r != -ENOENT) {
		warnmsg("%s", rerr);
		goto out;
	}
	if (r == 0 && (st.st_mode & S_IWOTH))
		warnmsg("warning: lanhttpd will refuse '%s' until it is not "
		    "world-writable", file);
	cap = len + strlen(user) + strlen(hash) + 4;
	if ((out = malloc(cap)) == NULL) {
		warnmsg("out of memory");
		goto out;
	}
	n = rewrite(old != NULL ? old : "", len, user, hash, out);
	check_result(file, out, n);
	rc = replace_file(file, r == 0 ? &st : NULL, out, n);
out:
	explicit_bzero(hash, sizeof(hash));
	if (old != NULL) {
		explicit_bzero(old, len);
		free(old);
	}
	if (out != NULL) {
		explicit_bzero(out, cap);
		free(out);
	}
	return rc;
}

/*
 * Reading the password
 */

/* Notes the signal, so that read_line() gives up and the echo comes back. */
static void
on_signal(int sig)
{
	tty_signalled = sig;
}

/*
 * Reads one line from fd into buf (HTPASSWD_PASS_MAX + 1 bytes), without
 * its LF or the CR before that.  Returns 0 with *len set, or -1 with a
 * message on stderr.
 */
static int
read_line(int fd, char *buf, size_t *len)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR && !tty_signalled)
			continue;
		if (r < 0) {
			warnmsg("cannot read the password: %s", tty_signalled ?
			    "interrupted" : strerror(errno));
			return -1;
		}
		if (r == 0 || c == '\n')
			break;
		if (n == HTPASSWD_PASS_MAX) {
			warnmsg("password longer than 511 bytes");
			return -1;
		}
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	*len = n;
	return 0;
}

/*
 * Asks for the password twice on the terminal on fd, without echo, into
 * buf (HTPASSWD_PASS_MAX + 1 bytes).  Returns 0 with *len set, or -1 with
 * a message on stderr.  A signal (^C) while asking ends the reading with
 * the terminal restored.
 */
static int
read_tty(int fd, char *buf, size_t *len)
{
	static const int sigs[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = on_signal }, old[4];
	struct termios t0, t1;
	char again[HTPASSWD_PASS_MAX + 1];
	size_t n2 = 0;
	int rc = -1;

	if (tcgetattr(fd, &t0) == -1) {
		warnmsg("cannot read the terminal: %s", strerror(errno));
		return -1;
	}
	t1 = t0;
	t1.c_lflag &= ~(tcflag_t)ECHO;
	t1.c_lflag |= ECHONL;
	/* No SA_RESTART: the signal must interrupt read(). */
	(void)sigemptyset(&sa.sa_mask);
	tty_signalled = 0;
	for (size_t i = 0; i < 4; i++)
		(void)sigaction(sigs[i], &sa, &old[i]);
	if (tcsetattr(fd, TCSAFLUSH, &t1) == -1)
		warnmsg("cannot read the terminal: %s", strerror(errno));
	else {
		fputs("New password: ", stderr);
		if (read_line(fd, buf, len) == 0) {
			fputs("Retype new password: ", stderr);
			if (read_line(fd, again, &n2) == 0)
				rc = 0;
		}
		(void)tcsetattr(fd, TCSAFLUSH, &t0);
	}
	for (size_t i = 0; i < 4; i++)
		(void)sigaction(sigs[i], &old[i], NULL);
	if (rc == 0 && (n2 != *len || memcmp(buf, again, n2) != 0)) {
		warnmsg("the passwords do not match");
		rc = -1;
	}
	explicit_bzero(again, sizeof(again));
	return rc;
}

int
htpasswd_passwd_main(const char *file, const char *user)
{
	char pw[HTPASSWD_PASS_MAX + 1];
	size_t n = 0;
	const char *why;
	int rc = 1;

	if ((why = user_problem(user, strlen(user))) != NULL) {
		warnmsg("%s", why);
		return 1;
	}
	if ((isatty(STDIN_FILENO) ? read_tty(STDIN_FILENO, pw, &n) :
	    read_line(STDIN_FILENO, pw, &n)) != 0)
		goto out;
	if (htpasswd_set_user(file, user, pw, n) == 0)
		rc = 0;
out:
	explicit_bzero(pw, sizeof(pw));
	return rc;
}
