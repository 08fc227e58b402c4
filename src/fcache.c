/*
 * fcache.c - the cache of resolved files; see fcache.h.
 *
 * DESIGN: a chained hash table of entries plus one LRU list, both under
 * fc->lock.  The table holds one reference to each entry it links; a
 * lookup adds one for the caller.  An entry is built outside the lock
 * (that is where the file is opened and read) and then put in, replacing
 * any entry with the same key, which is unlinked and loses the table's
 * reference.  Entries never change after they are built, except their
 * checked_ms stamp, which is atomic.
 */
#include "fcache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


struct fcache {
	pthread_mutex_t	 lock;
	struct fentry	**table;
	size_t		 nbuckets;	/* a power of two */
	struct lru	 lru;
	size_t		 n, mem;
	size_t		 n_missing;	/* entries that say 404 */
	size_t		 max_entries, max_bytes;
	unsigned	 valid_ms;
};

const char *const fcache_sibling_ext[FCACHE_REPS] = {
	[CODING_IDENTITY] = "", [CODING_GZIP] = ".gz", [CODING_BR] = ".br",
};

static uint64_t
hash_key(const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;	/* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3u;
	}
	return h;
}

struct fcache *
fcache_new(size_t max_entries, size_t max_bytes, unsigned valid_ms)
{
	struct fcache *fc = calloc(1, sizeof(*fc));
	size_t nb = 64;

	if (fc == NULL)
		return NULL;
	while (nb < max_entries && nb < ((size_t)1 << 20))
		nb <<= 1;
	if ((fc->table = calloc(nb, sizeof(*fc->table))) == NULL) {
		free(fc);
		return NULL;
	}
	fc->nbuckets = nb;
	fc->max_entries = max_entries;
	fc->max_bytes = max_bytes;
	fc->valid_ms = valid_ms;
	pthread_mutex_init(&fc->lock, NULL);
	return fc;
}

struct fentry *
fentry_ref(struct fentry *e)
{
	if (e != NULL)
		atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	return e;
}

void
fentry_unref(struct fentry *e)
{
	if (e == NULL ||
	    atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < FCACHE_REPS; i++)
		if (e->rep[i] != NULL && e->rep[i]->fd >= 0)
			close(e->rep[i]->fd);
	/* The strings and bodies live in the same allocation as e. */
	free(e);
}

/* Unlinks e from the table and the LRU list (lock held). */
static void
unlink_entry(struct fcache *fc, struct fentry *e)
{
	struct fentry **pp = &fc->table[e->hash & (fc->nbuckets - 1)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp == e)
		*pp = e->hnext;
	lru_remove(&fc->lru, &e->lru);
	e->hnext = NULL;
	e->linked = false;
	fc->n--;
	fc->mem -= e->mem;
	if (e->status != 0)
		fc->n_missing--;
}

void
fcache_free(struct fcache *fc)
{
	if (fc == NULL)
		return;
	while (fc->lru.head != NULL) {
		struct fentry *e = LRU_ENTRY(fc->lru.head, struct fentry, lru);

		unlink_entry(fc, e);
		fentry_unref(e);
	}
	free(fc->table);
	pthread_mutex_destroy(&fc->lock);
	free(fc);
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * Does the name still lead to what the entry says?  Only metadata is
 * compared: when anything differs the entry is dropped and the file is
 * opened again through path_open(), which applies every rule.
 */
static bool
still_fresh(const struct fentry *e, int root_fd)
{
	char path[PATH_MAX + 4];
	struct stat st;

	for (size_t i = 0; i < FCACHE_REPS; i++) {
		int n, r;

		if (e->status != 0 && i > 0)
			break;
		n = snprintf(path, sizeof(path), "%s%s",
		    e->rel[0] != '\0' ? e->rel : ".", fcache_sibling_ext[i]);
		if (n < 0 || (size_t)n >= sizeof(path))
			return false;
		r = fstatat(root_fd, path, &st, 0);
		if (e->status != 0)		/* cached as missing */
			return r != 0 && errno == ENOENT;
		if (e->rep[i] == NULL) {
			/* A sibling appeared, or the one refused changed. */
			if (r == 0 && S_ISREG(st.st_mode) &&
			    (e->refused[i] == NULL ||
			    !same_file(&st, e->refused[i])))
				return false;
			continue;
		}
		if (r != 0 || !same_file(&st, &e->rep[i]->st))
			return false;
	}
	return true;
}

struct fentry *
fcache_get(struct fcache *fc, const char *key, size_t klen, int root_fd,
    uint64_t now_ms)
{
	uint64_t h = hash_key(key, klen);
	struct fentry *e;

	pthread_mutex_lock(&fc->lock);
	for (e = fc->table[h & (fc->nbuckets - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && memcmp(e->key, key, klen) == 0 &&
		    e->key[klen] == '\0')
			break;
	if (e != NULL) {
		lru_touch(&fc->lru, &e->lru);
		fentry_ref(e);
	}
	pthread_mutex_unlock(&fc->lock);
	if (e == NULL)
		return NULL;
	if (now_ms - atomic_load_explicit(&e->checked_ms, memory_order_relaxed)
	    < fc->valid_ms)
		return e;
	if (still_fresh(e, root_fd)) {
		atomic_store_explicit(&e->checked_ms, now_ms,
		    memory_order_relaxed);
		return e;
	}
	pthread_mutex_lock(&fc->lock);
	if (e->linked) {
		unlink_entry(fc, e);
		pthread_mutex_unlock(&fc->lock);
		fentry_unref(e);	/* the table's reference */
	} else {
		pthread_mutex_unlock(&fc->lock);
	}
	fentry_unref(e);		/* ours */
	return NULL;
}

void
fcache_put(struct fcache *fc, struct fentry *e)
{
	struct fentry *old, *victims = NULL;

	if (e->mem > fc->max_bytes || fc->max_entries == 0)
		return;
	pthread_mutex_lock(&fc->lock);
	/*
	 * A scanner asking for thousands of names that do not exist must not
	 * push real files out: missing names get a quarter of the entries.
	 */
	if (e->status != 0 && fc->n_missing >= fc->max_entries / 4 + 1) {
		pthread_mutex_unlock(&fc->lock);
		return;
	}
	for (old = fc->table[e->hash & (fc->nbuckets - 1)]; old != NULL;
	    old = old->hnext)
		if (old->hash == e->hash && strcmp(old->key, e->key) == 0)
			break;
	if (old != NULL) {
		unlink_entry(fc, old);
		old->hnext = victims;
		victims = old;
	}
	while (fc->lru.tail != NULL && (fc->n >= fc->max_entries ||
	    fc->mem + e->mem > fc->max_bytes)) {
		struct fentry *v = LRU_ENTRY(fc->lru.tail, struct fentry, lru);

		unlink_entry(fc, v);
		v->hnext = victims;
		victims = v;
	}
	fentry_ref(e);
	e->hnext = fc->table[e->hash & (fc->nbuckets - 1)];
	fc->table[e->hash & (fc->nbuckets - 1)] = e;
	e->linked = true;
	lru_push(&fc->lru, &e->lru);
	fc->n++;
	fc->mem += e->mem;
	if (e->status != 0)
		fc->n_missing++;
	pthread_mutex_unlock(&fc->lock);
	/* Closing files happens outside the lock. */
	while (victims != NULL) {
		struct fentry *v = victims;

		victims = v->hnext;
		v->hnext = NULL;
		fentry_unref(v);
	}
}

char *
fentry_append(struct fentry *e, const void *src, size_t len, bool nul)
{
	char *dst = (char *)e + e->used;

	memcpy(dst, src, len);
	if (nul)
		dst[len] = '\0';
	e->used += len + (nul ? 1 : 0);
	return dst;
}

struct frep *
fentry_add_rep(struct fentry *e)
{
	size_t at = (e->used + _Alignof(struct frep) - 1) &
	    ~(_Alignof(struct frep) - 1);
	struct frep *r = (struct frep *)(void *)((char *)e + at);

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	e->used = at + sizeof(*r);
	return r;
}

const struct stat *
fentry_add_stat(struct fentry *e, const struct stat *st)
{
	size_t at = (e->used + _Alignof(struct stat) - 1) &
	    ~(_Alignof(struct stat) - 1);
	struct stat *copy = (struct stat *)(void *)((char *)e + at);

	*copy = *st;
	e->used = at + sizeof(*copy);
	return copy;
}

struct fentry *
fentry_alloc(const char *key, size_t klen, const char *rel, size_t extra,
    uint64_t now_ms)
{
	size_t rlen = strlen(rel);
	size_t size = sizeof(struct fentry) + klen + 1 + rlen + 1 + extra;
	struct fentry *e = calloc(1, size);

	if (e == NULL)
		return NULL;
	atomic_init(&e->refs, 1);
	atomic_init(&e->checked_ms, now_ms);
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	e->hash = hash_key(key, klen);
	e->used = sizeof(struct fentry) + klen + 1;
	e->mem = size;
	e->rel = fentry_append(e, rel, rlen, true);
	return e;
}
