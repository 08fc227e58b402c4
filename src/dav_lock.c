/*
 * dav_lock.c - the WebDAV lock table; see dav_lock.h.
 *
 * DESIGN
 *
 * The table is an unordered array of pointers to heap entries, at most
 * DAV_LOCK_MAX of them, under one mutex.  Removing an entry moves the
 * last one into its slot.  Every call scans the whole array, which at a
 * few thousand entries costs microseconds; the scan is also where
 * expired entries are purged, so no timer is needed.
 *
 * An entry is built (allocated, token drawn from getrandom(2), fields
 * copied) before the mutex is taken, so nothing under the mutex can
 * block.  Under it: the scans, copying a lock's info out, and free()
 * of purged entries.
 *
 * hint mirrors n for the fast path: it is written under the mutex after
 * every change of n and read without it, so a call on a table with no
 * locks returns after one atomic load.  A request racing a LOCK may see
 * the table as it was just before that LOCK, which is an order the two
 * requests could have had anyway.
 */
#include "dav_lock.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct dav_lock_ent {
	struct dav_lock_info info;	/* remaining_s is set when copied out */
	size_t		 root_len;
	size_t		 token_len;
	uint64_t	 expires_ms;	/* live while now_ms < expires_ms */
};

struct dav_locks {
	pthread_mutex_t	 mu;
	size_t		 n;		/* entries in e, under mu */
	atomic_size_t	 hint;		/* n as of the last change */
	struct dav_lock_ent *e[DAV_LOCK_MAX];
};

/* Submitted-token marks for one dav_lock_may_write() call, by slot. */
struct marks {
	uint64_t	 bits[DAV_LOCK_MAX / 64];
};

struct dav_locks *
dav_locks_new(void)
{
	struct dav_locks *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if (pthread_mutex_init(&t->mu, NULL) != 0) {
		free(t);
		return NULL;
	}
	atomic_init(&t->hint, 0);
	return t;
}

void
dav_locks_free(struct dav_locks *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->e[i]);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* True when the table may hold a lock; false means none (fast path). */
static bool
maybe_locked(struct dav_locks *t)
{
	return atomic_load_explicit(&t->hint, memory_order_acquire) != 0;
}

/* Sets n and its mirror.  Under mu. */
static void
set_n(struct dav_locks *t, size_t n)
{
	t->n = n;
	atomic_store_explicit(&t->hint, n, memory_order_release);
}

/* Frees slot i, moving the last entry into it.  Under mu. */
static void
remove_at(struct dav_locks *t, size_t i)
{
	free(t->e[i]);
	t->e[i] = t->e[t->n - 1];
	t->e[t->n - 1] = NULL;
	set_n(t, t->n - 1);
}

/* Drops every lock that has expired at now_ms.  Under mu. */
static void
purge(struct dav_locks *t, uint64_t now_ms)
{
	size_t i = 0;

	while (i < t->n) {
		if (t->e[i]->expires_ms <= now_ms)
			remove_at(t, i);
		else
			i++;
	}
}

/* now_ms + timeout_s seconds, saturating. */
static uint64_t
expiry(uint64_t now_ms, unsigned timeout_s)
{
	uint64_t d = (uint64_t)timeout_s * 1000;

	return now_ms > UINT64_MAX - d ? UINT64_MAX : now_ms + d;
}

/* True when path[0..plen) lies strictly below root[0..rlen). */
static bool
is_below(const char *root, size_t rlen, const char *path, size_t plen)
{
	if (plen <= rlen || memcmp(root, path, rlen) != 0)
		return false;
	/* The root "" is above everything else; "a" is not above "ab". */
	return rlen == 0 || path[rlen] == '/';
}

/* True when e's root is exactly path[0..plen). */
static bool
root_is(const struct dav_lock_ent *e, const char *path, size_t plen)
{
	return e->root_len == plen && memcmp(e->info.root, path, plen) == 0;
}

/* True when e covers the resource at path: its root, or infinite above it. */
static bool
ent_covers(const struct dav_lock_ent *e, const char *path, size_t plen)
{
	return root_is(e, path, plen) || (e->info.infinite &&
	    is_below(e->info.root, e->root_len, path, plen));
}

/* True when e covers the members below path: infinite at or above it. */
static bool
ent_covers_members(const struct dav_lock_ent *e, const char *path,
    size_t plen)
{
	return e->info.infinite && (root_is(e, path, plen) ||
	    is_below(e->info.root, e->root_len, path, plen));
}

/* True when e's token is token. */
static bool
ent_token_is(const struct dav_lock_ent *e, struct span token)
{
	return span_eq(span_make(e->info.token, e->token_len), token);
}

/* Copies e's info to out with the seconds left at now_ms (rounded up). */
static void
ent_info(struct dav_lock_ent *e, uint64_t now_ms, struct dav_lock_info *out)
{
	uint64_t d = e->expires_ms > now_ms ? e->expires_ms - now_ms : 0;

	e->info.remaining_s = d / 1000 + (d % 1000 != 0);
	if (out != NULL)
		memcpy(out, &e->info, sizeof(*out));
}

/*
 * Writes "urn:uuid:" and a fresh RFC 4122 version-4 UUID, lower case,
 * NUL-terminated, to out.  0, or the negated errno of getrandom(2).
 */
static int
make_token(char out[DAV_LOCK_TOKEN_MAX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t got = 0, o;

	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	/* RFC 4122 §4.4: version 4, variant 10x. */
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	memcpy(out, "urn:uuid:", 9);
	o = 9;
	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
	return 0;
}

/*
 * Builds a lock entry outside the mutex: the token and a copy of the
 * arguments.  Returns 0 with *ep set, or a negative errno.
 */
static int
ent_new(const char *path, size_t plen, bool infinite,
    enum dav_lock_scope scope, const char *owner, size_t owner_len,
    unsigned timeout_s, uint64_t now_ms, struct dav_lock_ent **ep)
{
	struct dav_lock_ent *e = calloc(1, sizeof(*e));
	int rc;

	if (e == NULL)
		return -ENOMEM;
	if ((rc = make_token(e->info.token)) != 0) {
		free(e);
		return rc;
	}
	e->token_len = strlen(e->info.token);
	memcpy(e->info.root, path, plen + 1);
	e->root_len = plen;
	e->info.infinite = infinite;
	e->info.scope = scope;
	if (owner_len > 0)
		memcpy(e->info.owner, owner, owner_len);
	e->info.owner_len = owner_len;
	e->info.timeout_s = timeout_s;
	e->expires_ms = expiry(now_ms, timeout_s);
	*ep = e;
	return 0;
}

/*
 * True when the new lock n conflicts with a lock in the table (RFC 4918
 * §6.1, §7: shared locks go together, anything else does not, wherever
 * the coverage of one meets the other's root).  Under mu.
 */
static bool
conflicts(const struct dav_locks *t, const struct dav_lock_ent *n)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct dav_lock_ent *e = t->e[i];

		if (e->info.scope == DAV_LOCK_SHARED &&
		    n->info.scope == DAV_LOCK_SHARED)
			continue;
		if (ent_covers(e, n->info.root, n->root_len))
			return true;
		if (n->info.infinite && is_below(n->info.root, n->root_len,
		    e->info.root, e->root_len))
			return true;
	}
	return false;
}

int
dav_lock_create(struct dav_locks *t, const char *path, bool infinite,
    enum dav_lock_scope scope, const char *owner, size_t owner_len,
    unsigned timeout_s, uint64_t now_ms, struct dav_lock_info *out)
{
	struct dav_lock_ent *e = NULL;
	size_t plen;
	int rc;

	if (owner_len > sizeof(e->info.owner))
		return -E2BIG;
	plen = strnlen(path, PATH_MAX);
	if (plen >= PATH_MAX)
		return -ENAMETOOLONG;
	rc = ent_new(path, plen, infinite, scope, owner, owner_len, timeout_s,
	    now_ms, &e);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&t->mu);
	purge(t, now_ms);
	if (conflicts(t, e))
		rc = -EBUSY;
	else if (t->n >= DAV_LOCK_MAX)
		rc = -ENOSPC;
	else {
		t->e[t->n] = e;
		set_n(t, t->n + 1);
		ent_info(e, now_ms, out);
		e = NULL;
	}
	pthread_mutex_unlock(&t->mu);
	free(e);
	return rc;
}

/* The slot of the live lock token that covers path, or -1.  Under mu. */
static ptrdiff_t
find_covering(const struct dav_locks *t, const char *path, size_t plen,
    struct span token)
{
	for (size_t i = 0; i < t->n; i++)
		if (ent_token_is(t->e[i], token) &&
		    ent_covers(t->e[i], path, plen))
			return (ptrdiff_t)i;
	return -1;
}

int
dav_lock_refresh(struct dav_locks *t, const char *path, struct span token,
    unsigned timeout_s, uint64_t now_ms, struct dav_lock_info *out)
{
	ptrdiff_t i;

	if (!maybe_locked(t))
		return -ENOENT;
	pthread_mutex_lock(&t->mu);
	purge(t, now_ms);
	i = find_covering(t, path, strlen(path), token);
	if (i >= 0) {
		t->e[i]->info.timeout_s = timeout_s;
		t->e[i]->expires_ms = expiry(now_ms, timeout_s);
		ent_info(t->e[i], now_ms, out);
	}
	pthread_mutex_unlock(&t->mu);
	return i >= 0 ? 0 : -ENOENT;
}

int
dav_lock_remove(struct dav_locks *t, const char *path, struct span token,
    uint64_t now_ms)
{
	ptrdiff_t i;

	if (!maybe_locked(t))
		return -ENOENT;
	pthread_mutex_lock(&t->mu);
	purge(t, now_ms);
	i = find_covering(t, path, strlen(path), token);
	if (i >= 0)
		remove_at(t, (size_t)i);
	pthread_mutex_unlock(&t->mu);
	return i >= 0 ? 0 : -ENOENT;
}

bool
dav_lock_covers(struct dav_locks *t, const char *path, struct span token,
    uint64_t now_ms)
{
	ptrdiff_t i;

	if (!maybe_locked(t))
		return false;
	pthread_mutex_lock(&t->mu);
	purge(t, now_ms);
	i = find_covering(t, path, strlen(path), token);
	pthread_mutex_unlock(&t->mu);
	return i >= 0;
}

/* Marks the slots whose token is among tokens[0..n).  Under mu. */
static void
mark_submitted(const struct dav_locks *t, const struct span *tokens,
    size_t n, struct marks *m)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < t->n; i++)
		for (size_t k = 0; k < n; k++)
			if (ent_token_is(t->e[i], tokens[k])) {
				m->bits[i / 64] |= UINT64_C(1) << (i % 64);
				break;
			}
}

/*
 * Whether the resource at path (or, when members, the members below it)
 * may be changed: NULL when no lock covers it or one of the locks that
 * do was submitted, else the first lock in the way.  Under mu.
 */
static const struct dav_lock_ent *
in_the_way(const struct dav_locks *t, const struct marks *m,
    const char *path, size_t plen, bool members)
{
	const struct dav_lock_ent *first = NULL;

	for (size_t i = 0; i < t->n; i++) {
		const struct dav_lock_ent *e = t->e[i];

		if (members ? !ent_covers_members(e, path, plen) :
		    !ent_covers(e, path, plen))
			continue;
		if (m->bits[i / 64] & UINT64_C(1) << (i % 64))
			return NULL;
		if (first == NULL)
			first = e;
	}
	return first;
}

/*
 * The lock in the way of changing path and everything below it, or
 * NULL.  Checking path, every lock root below it, and the members below
 * each of those is enough: a member that is no lock root is covered by
 * exactly the infinite locks that cover the members of the nearest of
 * those above it.  Under mu.
 */
static const struct dav_lock_ent *
tree_in_the_way(const struct dav_locks *t, const struct marks *m,
    const char *path, size_t plen)
{
	const struct dav_lock_ent *w = in_the_way(t, m, path, plen, true);

	for (size_t i = 0; w == NULL && i < t->n; i++) {
		const struct dav_lock_ent *e = t->e[i];

		if (!is_below(path, plen, e->info.root, e->root_len))
			continue;
		w = in_the_way(t, m, e->info.root, e->root_len, false);
		if (w == NULL)
			w = in_the_way(t, m, e->info.root, e->root_len, true);
	}
	return w;
}

bool
dav_lock_may_write(struct dav_locks *t, const char *path, bool tree,
    const struct span *tokens, size_t n, uint64_t now_ms, char *conflict)
{
	const struct dav_lock_ent *w;
	size_t plen;
	struct marks m;

	if (!maybe_locked(t))
		return true;
	plen = strlen(path);
	pthread_mutex_lock(&t->mu);
	purge(t, now_ms);
	mark_submitted(t, tokens, n, &m);
	w = in_the_way(t, &m, path, plen, false);
	if (w == NULL && tree)
		w = tree_in_the_way(t, &m, path, plen);
	if (w != NULL && conflict != NULL)
		memcpy(conflict, w->info.root, w->root_len + 1);
	pthread_mutex_unlock(&t->mu);
	return w == NULL;
}

size_t
dav_lock_discover(struct dav_locks *t, const char *path, uint64_t now_ms,
    void (*fn)(void *arg, const struct dav_lock_info *l), void *arg)
{
	size_t plen, found = 0;

	if (!maybe_locked(t))
		return 0;
	plen = strlen(path);
	pthread_mutex_lock(&t->mu);
	purge(t, now_ms);
	for (size_t i = 0; i < t->n; i++) {
		if (!ent_covers(t->e[i], path, plen))
			continue;
		ent_info(t->e[i], now_ms, NULL);
		fn(arg, &t->e[i]->info);
		found++;
	}
	pthread_mutex_unlock(&t->mu);
	return found;
}

void
dav_lock_drop_tree(struct dav_locks *t, const char *path)
{
	size_t plen, i = 0;

	if (!maybe_locked(t))
		return;
	plen = strlen(path);
	pthread_mutex_lock(&t->mu);
	while (i < t->n) {
		const struct dav_lock_ent *e = t->e[i];

		if (root_is(e, path, plen) ||
		    is_below(path, plen, e->info.root, e->root_len))
			remove_at(t, i);
		else
			i++;
	}
	pthread_mutex_unlock(&t->mu);
}

size_t
dav_lock_count(struct dav_locks *t, uint64_t now_ms)
{
	size_t n;

	if (!maybe_locked(t))
		return 0;
	pthread_mutex_lock(&t->mu);
	purge(t, now_ms);
	n = t->n;
	pthread_mutex_unlock(&t->mu);
	return n;
}
