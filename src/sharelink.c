/*
 * sharelink.c - HMAC capability tokens; see sharelink.h for the format
 * and why it holds.
 */
#include "sharelink.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "sha256.h"

/* Domain separation for the MAC; bump with any change of the payload. */
#define SL_MAC_PREFIX		"lanhttpd-v1"
#define SL_PAYLOAD_MAX \
	(SHARELINK_FIXED_LEN + SHARELINK_USER_MAX + SHARELINK_SUBJECT_MAX)
#define SL_TAG_TEXT_LEN		SHARELINK_B64LEN(SHARELINK_MAC_LEN)
/* The shortest token: an empty user and subject. */
#define SL_TOKEN_MIN \
	(SHARELINK_B64LEN(SHARELINK_FIXED_LEN) + 1 + SL_TAG_TEXT_LEN)

static_assert(SHARELINK_USER_MAX <= UINT8_MAX, "user_len is one byte");
static_assert(SHARELINK_SUBJECT_MAX <= UINT16_MAX, "subject_len is two bytes");
static_assert(SHARELINK_MAC_LEN <= SHA256_LEN, "tag is a truncated HMAC");
static_assert(SHARELINK_TOKEN_LONGEST == 471, "documented longest token");

/*
 * Token codec
 */

static void
put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t
get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static bool
kind_known(uint64_t kind)
{
	return kind == SL_READ || kind == SL_DROP || kind == SL_SESSION ||
	    kind == SL_FILE;
}

/* True when sl can become a token (see sharelink_token_len()). */
static bool
sl_valid(const struct sharelink *sl)
{
	return kind_known((uint64_t)sl->kind) &&
	    sl->user_len <= SHARELINK_USER_MAX &&
	    sl->subject_len <= SHARELINK_SUBJECT_MAX &&
	    memchr(sl->user, '\0', sl->user_len) == NULL &&
	    memchr(sl->subject, '\0', sl->subject_len) == NULL;
}

/* Serialises a valid sl into p[0..SL_PAYLOAD_MAX); returns the length. */
static size_t
payload_pack(const struct sharelink *sl, uint8_t *p)
{
	size_t o = 0;

	put_be(p + o, (uint64_t)sl->kind, 1);
	o += 1;
	put_be(p + o, sl->expires, 8);
	o += 8;
	put_be(p + o, sl->serial, 4);
	o += 4;
	put_be(p + o, sl->user_len, 1);
	o += 1;
	memcpy(p + o, sl->user, sl->user_len);
	o += sl->user_len;
	put_be(p + o, sl->subject_len, 2);
	o += 2;
	memcpy(p + o, sl->subject, sl->subject_len);
	o += sl->subject_len;
	return o;
}

/*
 * Parses an authenticated payload p[0..len) into *sl.  The MAC already
 * vouches for it, but it is parsed as strictly as if it did not, so a
 * leaked key or a bug elsewhere cannot turn into an over-read here.
 * Returns 0 or -1.
 */
static int
payload_unpack(const uint8_t *p, size_t len, struct sharelink *sl)
{
	size_t o = 0, ulen, slen;

	if (len < SHARELINK_FIXED_LEN)
		return -1;
	if (!kind_known(get_be(p, 1)))
		return -1;
	sl->kind = (enum sharelink_kind)get_be(p, 1);
	sl->expires = get_be(p + 1, 8);
	sl->serial = (uint32_t)get_be(p + 9, 4);
	ulen = (size_t)get_be(p + 13, 1);
	o = 14;
	/* The fixed part guarantees the two bytes of subject_len after it. */
	if (ulen > SHARELINK_USER_MAX || len - SHARELINK_FIXED_LEN < ulen)
		return -1;
	memcpy(sl->user, p + o, ulen);
	sl->user[ulen] = '\0';
	sl->user_len = ulen;
	o += ulen;
	slen = (size_t)get_be(p + o, 2);
	o += 2;
	/* Exactly the subject must remain: nothing short, nothing over. */
	if (slen > SHARELINK_SUBJECT_MAX || len - o != slen)
		return -1;
	memcpy(sl->subject, p + o, slen);
	sl->subject[slen] = '\0';
	sl->subject_len = slen;
	if (memchr(sl->user, '\0', ulen) != NULL ||
	    memchr(sl->subject, '\0', slen) != NULL)
		return -1;
	return 0;
}

/* The truncated tag of payload p[0..len) under key. */
static void
tag_compute(const uint8_t key[SHARELINK_KEY_LEN], const uint8_t *p,
    size_t len, uint8_t tag[SHARELINK_MAC_LEN])
{
	struct hmac_sha256 h;
	uint8_t full[SHA256_LEN];

	hmac_sha256_init(&h, key, SHARELINK_KEY_LEN);
	hmac_sha256_update(&h, SL_MAC_PREFIX, sizeof(SL_MAC_PREFIX) - 1);
	hmac_sha256_update(&h, p, len);
	hmac_sha256_final(&h, full);
	memcpy(tag, full, SHARELINK_MAC_LEN);
	explicit_bzero(full, sizeof(full));
}

/* Compares a[0..n) and b[0..n) in time that depends only on n. */
static bool
equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= a[i] ^ b[i];
	return acc == 0;
}

size_t
sharelink_token_len(const struct sharelink *sl)
{
	if (!sl_valid(sl))
		return 0;
	return SHARELINK_B64LEN(SHARELINK_FIXED_LEN + sl->user_len +
	    sl->subject_len) + 1 + SL_TAG_TEXT_LEN;
}

int
sharelink_make(const uint8_t key[SHARELINK_KEY_LEN],
    const struct sharelink *sl, char *out, size_t cap)
{
	uint8_t payload[SL_PAYLOAD_MAX], tag[SHARELINK_MAC_LEN];
	size_t need = sharelink_token_len(sl), plen;
	int n, m, rc = -1;

	if (cap > 0)
		out[0] = '\0';
	if (need == 0 || cap <= need)
		return -1;
	plen = payload_pack(sl, payload);
	tag_compute(key, payload, plen, tag);
	n = base64url_encode(payload, plen, out, cap);
	if (n < 0 || (size_t)n != SHARELINK_B64LEN(plen))
		goto out;
	out[n] = '.';
	m = base64url_encode(tag, sizeof(tag), out + n + 1,
	    cap - (size_t)n - 1);
	if (m != SL_TAG_TEXT_LEN)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		out[0] = '\0';
	explicit_bzero(payload, sizeof(payload));
	explicit_bzero(tag, sizeof(tag));
	return rc;
}

/*
 * Decodes the unpadded base64url text t[0..tlen) into out[0..cap) and
 * insists that it be the canonical text of what it decodes to, so that
 * no other text (stray low bits in the last character) decodes the same.
 * base64url_decode() promises that already; encoding back costs little
 * and keeps "one token per payload" true here whatever the decoder does.
 * Returns the byte count or -1.
 */
static ssize_t
b64_strict(const char *t, size_t tlen, uint8_t *out, size_t cap)
{
	char again[SHARELINK_TOKEN_LONGEST];
	ssize_t n;
	int m;

	if (tlen >= sizeof(again))
		return -1;
	n = base64url_decode(t, tlen, out, cap);
	if (n < 0 || (size_t)n > cap)
		return -1;
	m = base64url_encode(out, (size_t)n, again, sizeof(again));
	if (m < 0 || (size_t)m != tlen || memcmp(again, t, tlen) != 0)
		return -1;
	return n;
}

int
sharelink_verify(const uint8_t key[SHARELINK_KEY_LEN], const char *token,
    size_t len, struct sharelink *sl)
{
	uint8_t payload[SL_PAYLOAD_MAX], tag[SHARELINK_MAC_LEN];
	uint8_t want[SHARELINK_MAC_LEN];
	size_t dot;
	ssize_t plen;
	int rc = -1;

	memset(sl, 0, sizeof(*sl));
	if (len < SL_TOKEN_MIN || len > SHARELINK_TOKEN_LONGEST - 1)
		return -1;
	/* The tag has a fixed length, so the dot has a fixed place. */
	dot = len - SL_TAG_TEXT_LEN - 1;
	if (token[dot] != '.')
		return -1;
	if (b64_strict(token + dot + 1, SL_TAG_TEXT_LEN, tag,
	    sizeof(tag)) != SHARELINK_MAC_LEN)
		return -1;
	plen = b64_strict(token, dot, payload, sizeof(payload));
	if (plen < SHARELINK_FIXED_LEN)
		goto out;
	tag_compute(key, payload, (size_t)plen, want);
	if (!equal_ct(tag, want, sizeof(tag)))
		goto out;
	rc = payload_unpack(payload, (size_t)plen, sl);
out:
	if (rc != 0)
		memset(sl, 0, sizeof(*sl));
	explicit_bzero(payload, sizeof(payload));
	explicit_bzero(want, sizeof(want));
	return rc;
}

/*
 * Key file
 */

static void	why_set(char *why, size_t cap, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/* Formats the reason for a failure into why[0..cap), if there is room. */
static void
why_set(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || cap == 0)
		return;
	va_start(ap, fmt);
	/* A truncated reason is still better than none. */
	(void)vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

/*
 * Reads exactly SHARELINK_KEY_LEN bytes from fd into key and makes sure
 * nothing follows (the size may have changed since fstat()).  Returns 0,
 * or -1 with errno set (0 when the length was wrong).
 */
static int
key_read_exact(int fd, uint8_t key[SHARELINK_KEY_LEN])
{
	size_t got = 0;
	uint8_t extra;
	ssize_t n;

	while (got < SHARELINK_KEY_LEN) {
		n = read(fd, key + got, SHARELINK_KEY_LEN - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			errno = 0;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	do {
		n = read(fd, &extra, 1);
	} while (n == -1 && errno == EINTR);
	if (n == 1)
		errno = 0;
	return n == 0 ? 0 : -1;
}

/*
 * Checks that fd, opened from path, is a safe key file and reads the key
 * from it.  Returns 0 or -1 with why set.
 */
static int
key_read(int fd, const char *path, uint8_t key[SHARELINK_KEY_LEN],
    char *why, size_t whycap)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		why_set(why, whycap, "cannot stat '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		why_set(why, whycap, "'%s' is not a regular file", path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		why_set(why, whycap, "'%s' is owned by uid %lu, not %lu", path,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		why_set(why, whycap, "'%s' has mode %04o: group and others "
		    "must have no access (chmod 600)", path,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (st.st_size != SHARELINK_KEY_LEN) {
		why_set(why, whycap, "'%s' holds %lld bytes, not %d", path,
		    (long long)st.st_size, SHARELINK_KEY_LEN);
		return -1;
	}
	if (key_read_exact(fd, key) == -1) {
		why_set(why, whycap, "cannot read '%s': %s", path, errno != 0 ?
		    strerror(errno) : "size changed while reading");
		return -1;
	}
	return 0;
}

/* Fills key from getrandom(2).  Returns 0 or -1 with errno set. */
static int
key_random(uint8_t key[SHARELINK_KEY_LEN])
{
	size_t got = 0;

	while (got < SHARELINK_KEY_LEN) {
		ssize_t n = getrandom(key + got, SHARELINK_KEY_LEN - got, 0);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* Writes key to fd, retrying short writes.  Returns 0 or -1 with errno. */
static int
key_write(int fd, const uint8_t key[SHARELINK_KEY_LEN])
{
	size_t put = 0;

	while (put < SHARELINK_KEY_LEN) {
		ssize_t n = write(fd, key + put, SHARELINK_KEY_LEN - put);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		put += (size_t)n;
	}
	return 0;
}

/*
 * fsyncs the directory holding path, so that the new name survives a
 * crash.  Returns 0 or -1 with errno set.
 */
static int
dir_sync(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc, e;

	if (slash == NULL)
		memcpy(dir, ".", 2);
	else if (slash == path)
		memcpy(dir, "/", 2);
	else if ((size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	} else {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	e = errno;
	(void)close(fd);
	errno = e;
	return rc;
}

/*
 * Creates path as a new key file.  Returns 0 with key filled in, 1 when
 * path appeared in the meantime (load it instead), or -1 with why set;
 * a file this call created is removed again on failure.
 */
static int
key_create(const char *path, uint8_t key[SHARELINK_KEY_LEN], char *why,
    size_t whycap)
{
	const char *step = "chmod";
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 && errno == EEXIST)
		return 1;
	if (fd == -1) {
		why_set(why, whycap, "cannot create '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	/* The umask may have taken bits off 0600: the owner needs both. */
	if (fchmod(fd, 0600) == -1)
		goto fail;
	step = "get random bytes for";
	if (key_random(key) == -1)
		goto fail;
	step = "write";
	if (key_write(fd, key) == -1)
		goto fail;
	step = "fsync";
	if (fsync(fd) == -1)
		goto fail;
	step = "close";
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	step = "fsync the directory of";
	if (dir_sync(path) == -1)
		goto fail;
	return 0;
fail:
	why_set(why, whycap, "cannot %s '%s': %s", step, path,
	    strerror(errno));
	/* Leave no half-made key behind to be loaded next time. */
	if (fd != -1)
		(void)close(fd);
	(void)unlink(path);
	return -1;
}

int
sharelink_key_load(const char *path, uint8_t key[SHARELINK_KEY_LEN],
    char *why, size_t whycap)
{
	int fd, rc = -1;

	/* Two rounds: the file may appear between open() and O_EXCL. */
	for (int round = 0; round < 2; round++) {
		/* O_NONBLOCK: a FIFO planted there must not hang start-up. */
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
		    O_NONBLOCK);
		if (fd == -1 && errno == ENOENT) {
			rc = key_create(path, key, why, whycap);
			if (rc == 1)
				continue;
			break;
		}
		if (fd == -1) {
			int e = errno;

			/* O_NOFOLLOW answers a symlink with ELOOP. */
			why_set(why, whycap, "cannot open '%s': %s%s", path,
			    strerror(e), e == ELOOP ? " (a symlink?)" : "");
			rc = -1;
			break;
		}
		rc = key_read(fd, path, key, why, whycap);
		(void)close(fd);
		break;
	}
	if (rc == 1)
		why_set(why, whycap, "cannot create '%s': it keeps appearing "
		    "and vanishing", path);
	if (rc != 0) {
		explicit_bzero(key, SHARELINK_KEY_LEN);
		return -1;
	}
	return 0;
}
