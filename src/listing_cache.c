/*
 * listing_cache.c - rendered listings kept until their directory changes;
 * see listing_cache.h.
 *
 * DESIGN: one mutex guards a hash table of pages, their LRU list, and a
 * table of the directories they belong to (struct lc_watch, one per
 * watch of the shared registry, dirwatch.h, which counts this cache's
 * reference).  An event on a directory drops its pages; an overflow of
 * the event queue drops every page.  A fill records the watch's
 * generation and the registry's epoch before the directory is read and
 * stores its page only if both are unchanged after a sync, so a change
 * racing with the read costs a miss, never a stale page.
 *
 * The registry calls this cache under its own lock (registry, then this
 * cache's lock); so whatever is dropped meanwhile (pages, and watches no
 * page needs any more) goes to lists that are released after both locks
 * are dropped: in unlock(), or in the registry's flush callback.  This
 * cache never takes the registry's lock while holding its own.
 *
 * Pages are reference-counted: the table holds one reference and a
 * lookup takes one while it checks the entries a watch cannot see.
 */
#include "listing_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dirwatch.h"
#include "log.h"
#include "lru.h"

#define PAGE_ROUND(n)	(((n) + 4095) & ~(size_t)4095)

/* An entry of the listing that is checked again on each hit. */
struct lc_dep {
	size_t		 name_off;	/* into lc_entry.dep_names */
	struct listing_stat st;
};

struct lc_entry {
	struct lc_entry	*hnext;		/* hash chain */
	struct lru_link	 lru;		/* most recent first */
	struct lru_link	 wlink;		/* in its watch's pages */
	struct lc_watch	*w;
	atomic_uint	 refs;
	bool		 linked;	/* in the table (under the lock) */
	uint64_t	 hash;
	struct listing_key k;		/* k.rel points at rel */
	char		*rel;
	int		 fd;
	uint64_t	 len;
	size_t		 cost;
	char		 etag[LISTING_ETAG_MAX];
	size_t		 etag_len;
	struct lc_dep	*deps;
	size_t		 ndeps;
	char		*dep_names;
	struct lc_entry	*gnext;		/* the list to release */
};

/* A directory with pages (or a fill in progress), by its registry watch. */
struct lc_watch {
	struct lc_watch	*hnext;
	struct dw_watch	*w;		/* this cache's reference */
	unsigned	 pins;		/* fills in progress */
	struct lru	 pages;		/* its pages, newest first */
};

struct listing_cache {
	pthread_mutex_t	 lock;
	struct dirwatch	*dw;		/* NULL: cache nothing */
	size_t		 max_entries, max_bytes;
	size_t		 nentries, bytes, nwatches;
	struct lc_entry	**table;
	size_t		 nbuckets;	/* a power of two */
	struct lc_watch	**wtable;
	size_t		 nwbuckets;
	struct lru	 lru;
	/* Dropped under the lock, released once no lock is held. */
	struct lc_entry	*graveyard;
	struct lc_watch	*dead_watches;
};

static size_t
pow2_at_least(size_t n)
{
	size_t p = 16;

	while (p < n && p < ((size_t)1 << 20))
		p *= 2;
	return p;
}

static void	on_event(void *, struct dw_watch *, uint32_t, const char *,
		    size_t);
static void	on_overflow(void *);
static void	on_flush(void *);

struct listing_cache *
listing_cache_new(size_t max_entries, size_t max_bytes, struct dirwatch *dw)
{
	struct listing_cache *lc = calloc(1, sizeof(*lc));

	if (lc == NULL)
		return NULL;
	pthread_mutex_init(&lc->lock, NULL);
	lc->max_entries = max_bytes > 0 ? max_entries : 0;
	lc->max_bytes = max_bytes;
	lc->nbuckets = pow2_at_least(max_entries * 2);
	lc->nwbuckets = pow2_at_least(max_entries);
	lc->table = calloc(lc->nbuckets, sizeof(*lc->table));
	lc->wtable = calloc(lc->nwbuckets, sizeof(*lc->wtable));
	if (lc->table == NULL || lc->wtable == NULL) {
		free(lc->table);
		free(lc->wtable);
		pthread_mutex_destroy(&lc->lock);
		free(lc);
		return NULL;
	}
	if (lc->max_entries > 0 && dw != NULL) {
		struct dirwatch_sub sub = { .event = on_event,
		    .overflow = on_overflow, .flush = on_flush, .arg = lc };

		if (dirwatch_subscribe(dw, &sub) == 0)
			lc->dw = dw;
	}
	return lc;
}

static void
entry_free(struct lc_entry *e)
{
	if (e->fd >= 0)
		close(e->fd);
	free(e->rel);
	free(e->deps);
	free(e->dep_names);
	free(e);
}

static void
entry_unref(struct lc_entry *e)
{
	if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
		entry_free(e);
}

static uint64_t
key_hash(const struct listing_key *k)
{
	uint64_t nums[4] = { k->dev, k->ino,
	    (uint64_t)k->cfg_gen << 32 | k->variant, k->start };

	return listing_hash(k->rel, k->rel_len) ^
	    listing_hash((const char *)nums, sizeof(nums));
}

static bool
key_eq(const struct listing_key *a, const struct listing_key *b)
{
	return a->dev == b->dev && a->ino == b->ino &&
	    a->cfg_gen == b->cfg_gen && a->variant == b->variant &&
	    a->start == b->start && a->rel_len == b->rel_len &&
	    memcmp(a->rel, b->rel, a->rel_len) == 0;
}

static struct lc_entry *
entry_find(struct listing_cache *lc, const struct listing_key *k,
    uint64_t h)
{
	struct lc_entry *e = lc->table[h & (lc->nbuckets - 1)];

	for (; e != NULL; e = e->hnext)
		if (e->hash == h && key_eq(&e->k, k))
			return e;
	return NULL;
}

static struct lc_watch **
watch_bucket(struct listing_cache *lc, const struct dw_watch *w)
{
	uintptr_t h = (uintptr_t)w / sizeof(*w);

	return &lc->wtable[h & (lc->nwbuckets - 1)];
}

static struct lc_watch *
watch_find(struct listing_cache *lc, const struct dw_watch *w)
{
	struct lc_watch *lw = *watch_bucket(lc, w);

	while (lw != NULL && lw->w != w)
		lw = lw->hnext;
	return lw;
}

/*
 * A directory with no page and no fill goes; its registry reference is
 * put back once no lock is held.
 */
static void
watch_maybe_free(struct listing_cache *lc, struct lc_watch *lw)
{
	struct lc_watch **pp = watch_bucket(lc, lw->w);

	if (lw->pages.head != NULL || lw->pins > 0)
		return;
	while (*pp != lw)
		pp = &(*pp)->hnext;
	*pp = lw->hnext;
	lc->nwatches--;
	lw->hnext = lc->dead_watches;
	lc->dead_watches = lw;
}

/*
 * Takes e out of the table, the LRU list and its watch's list; its
 * table reference goes to the graveyard.  The watch may go too.
 */
static void
entry_remove(struct listing_cache *lc, struct lc_entry *e)
{
	struct lc_entry **pp = &lc->table[e->hash & (lc->nbuckets - 1)];
	struct lc_watch *w = e->w;

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_remove(&lc->lru, &e->lru);
	lru_remove(&w->pages, &e->wlink);
	e->linked = false;
	lc->nentries--;
	lc->bytes -= e->cost;
	e->gnext = lc->graveyard;
	lc->graveyard = e;
	watch_maybe_free(lc, w);
}

static void
entry_insert(struct listing_cache *lc, struct lc_entry *e)
{
	size_t b = e->hash & (lc->nbuckets - 1);
	struct lc_watch *w = e->w;

	e->hnext = lc->table[b];
	lc->table[b] = e;
	lru_push(&lc->lru, &e->lru);
	lru_push(&w->pages, &e->wlink);
	e->linked = true;
	lc->nentries++;
	lc->bytes += e->cost;
	while ((lc->nentries > lc->max_entries || lc->bytes > lc->max_bytes) &&
	    lc->lru.tail != &e->lru)
		entry_remove(lc, LRU_ENTRY(lc->lru.tail, struct lc_entry, lru));
}

/* Something in lw's directory changed: its pages are stale. */
static void
watch_fire(struct listing_cache *lc, struct lc_watch *lw)
{
	lw->pins++;	/* keep lw while its pages go */
	while (lw->pages.head != NULL)
		entry_remove(lc, LRU_ENTRY(lw->pages.head, struct lc_entry,
		    wlink));
	lw->pins--;
	watch_maybe_free(lc, lw);
}

static void
drop_all(struct listing_cache *lc)
{
	while (lc->lru.head != NULL)
		entry_remove(lc, LRU_ENTRY(lc->lru.head, struct lc_entry, lru));
}

static void
lock(struct listing_cache *lc)
{
	pthread_mutex_lock(&lc->lock);
}

/*
 * Unlocks, then releases what was dropped meanwhile.  Not from the
 * registry's callbacks: putting a watch back takes the registry's lock.
 */
static void
unlock(struct listing_cache *lc)
{
	struct lc_entry *g = lc->graveyard;
	struct lc_watch *dead = lc->dead_watches;

	lc->graveyard = NULL;
	lc->dead_watches = NULL;
	pthread_mutex_unlock(&lc->lock);
	while (g != NULL) {
		struct lc_entry *next = g->gnext;

		entry_unref(g);
		g = next;
	}
	while (dead != NULL) {
		struct lc_watch *next = dead->hnext;

		dirwatch_put(lc->dw, dead->w);
		free(dead);
		dead = next;
	}
}

/* The registry: an event about a directory (its lock held). */
static void
on_event(void *arg, struct dw_watch *w, uint32_t mask, const char *name,
    size_t len)
{
	struct listing_cache *lc = arg;
	struct lc_watch *lw;

	(void)mask;
	(void)name;
	(void)len;
	pthread_mutex_lock(&lc->lock);
	if ((lw = watch_find(lc, w)) != NULL)
		watch_fire(lc, lw);
	pthread_mutex_unlock(&lc->lock);
}

/* The registry: events were lost (its lock held). */
static void
on_overflow(void *arg)
{
	struct listing_cache *lc = arg;

	pthread_mutex_lock(&lc->lock);
	drop_all(lc);
	pthread_mutex_unlock(&lc->lock);
}

/* The registry, with no lock held: release what the events dropped. */
static void
on_flush(void *arg)
{
	struct listing_cache *lc = arg;

	lock(lc);
	unlock(lc);
}

void
listing_cache_flush(struct listing_cache *lc)
{
	if (lc == NULL || lc->dw == NULL)
		return;
	lock(lc);
	drop_all(lc);
	unlock(lc);
}

void
listing_cache_free(struct listing_cache *lc)
{
	if (lc == NULL)
		return;
	if (lc->dw != NULL)
		dirwatch_unsubscribe(lc->dw, lc);
	/* Every page goes, and with the last one each directory's watch. */
	listing_cache_flush(lc);
	free(lc->table);
	free(lc->wtable);
	pthread_mutex_destroy(&lc->lock);
	free(lc);
}

void
listing_cache_usage(struct listing_cache *lc, size_t *entries,
    size_t *bytes, size_t *watches)
{
	*entries = *bytes = *watches = 0;
	if (lc == NULL || lc->dw == NULL)
		return;
	dirwatch_sync(lc->dw);
	lock(lc);
	*entries = lc->nentries;
	*bytes = lc->bytes;
	*watches = lc->nwatches;
	unlock(lc);
}

/* True when every entry a watch cannot see still shows as it did. */
static bool
deps_current(const struct lc_entry *e, int dfd, const struct listing_src *src)
{
	for (size_t i = 0; i < e->ndeps; i++) {
		const struct lc_dep *d = &e->deps[i];
		struct listing_stat st;

		if (!listing_entry_stat(dfd, e->dep_names + d->name_off, src,
		    &st) || st.is_dir != d->st.is_dir ||
		    st.size != d->st.size || st.mtime != d->st.mtime)
			return false;
	}
	return true;
}

static bool
page_from(const struct lc_entry *e, struct listing_page *page)
{
	if ((page->fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return false;
	page->len = e->len;
	memcpy(page->etag, e->etag, e->etag_len);
	page->etag_len = e->etag_len;
	return true;
}

bool
listing_cache_get(struct listing_cache *lc, const struct listing_key *k,
    int dfd, const struct listing_src *src, struct listing_page *page)
{
	uint64_t h;
	struct lc_entry *e;
	bool ok;

	if (lc == NULL || lc->dw == NULL)
		return false;
	h = key_hash(k);
	lock(lc);
	if ((e = entry_find(lc, k, h)) != NULL) {
		lru_touch(&lc->lru, &e->lru);
		atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	}
	unlock(lc);
	if (e == NULL)
		return false;
	if (!deps_current(e, dfd, src)) {
		lock(lc);
		if (e->linked)
			entry_remove(lc, e);
		unlock(lc);
		ok = false;
	} else {
		/*
		 * Out of descriptors (EMFILE) this request goes without the
		 * cache, but the page is still good: keep it for the next.
		 */
		ok = page_from(e, page);
	}
	entry_unref(e);
	return ok;
}

int
listing_cache_begin(struct listing_cache *lc, int dfd,
    struct listing_fill *fill)
{
	struct lc_watch *lw;
	struct dw_watch *w;
	int err = 0;

	fill->w = NULL;
	if (lc == NULL || lc->dw == NULL)
		return -ENOSYS;
	if ((w = dirwatch_get(lc->dw, dfd, &err)) == NULL)
		return err;
	lock(lc);
	if ((lw = watch_find(lc, w)) == NULL &&
	    (lw = calloc(1, sizeof(*lw))) != NULL) {
		struct lc_watch **b = watch_bucket(lc, w);

		lw->w = w;
		lw->hnext = *b;
		*b = lw;
		lc->nwatches++;
		w = NULL;	/* lw keeps the reference */
	}
	if (lw != NULL) {
		lw->pins++;
		fill->w = lw;
		fill->gen = dirwatch_gen(lw->w);
		fill->epoch = dirwatch_epoch(lc->dw);
	}
	unlock(lc);
	/* The directory already had one: this reference is not needed. */
	dirwatch_put(lc->dw, w);
	return lw != NULL ? 0 : -ENOMEM;
}

void
listing_cache_end(struct listing_cache *lc, struct listing_fill *fill)
{
	if (lc == NULL || fill->w == NULL)
		return;
	lock(lc);
	fill->w->pins--;
	watch_maybe_free(lc, fill->w);
	unlock(lc);
	fill->w = NULL;
}

/*
 * The entries of l to check on each hit, with their names.  However many
 * there are, checking them costs less than reading the folder again (it
 * is one fstatat() each, and a read is one for every entry), and a cached
 * page is shared by every response that sends it, where a page built per
 * request is one copy per client.
 */
static int
deps_copy(struct lc_entry *e, const struct listing *l)
{
	size_t n = 0, names = 0, o = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (l->ents[i].recheck) {
			n++;
			names += l->ents[i].name_len + 1;
		}
	}
	if (n == 0)
		return 0;
	e->deps = malloc(n * sizeof(*e->deps));
	e->dep_names = malloc(names);
	if (e->deps == NULL || e->dep_names == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		const struct listing_entry *le = &l->ents[i];
		struct lc_dep *d = &e->deps[e->ndeps];

		if (!le->recheck)
			continue;
		memcpy(e->dep_names + o, l->names + le->name_off,
		    le->name_len + 1);
		d->name_off = o;
		d->st = (struct listing_stat){ .is_dir = le->is_dir,
		    .recheck = true, .size = le->size, .mtime = le->mtime };
		o += le->name_len + 1;
		e->ndeps++;
	}
	e->cost += n * sizeof(*e->deps) + names;
	return 0;
}

/* Seals fd: nothing can change the body from now on.  0 or -1. */
static int
seal(int fd)
{
	return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL);
}

/* A sealed memfd holding body[0..len); -1 on failure. */
static int
body_memfd(const char *body, size_t len)
{
	int fd = listing_cache_memfd();

	if (fd < 0)
		return -1;
	for (size_t o = 0; o < len;) {
		ssize_t n = write(fd, body + o, len - o);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		o += (size_t)n;
	}
	if (seal(fd) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
listing_cache_memfd(void)
{
	return memfd_create("lanhttpd-listing", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING);
}

/*
 * A page for k whose body is the sealed fd of len bytes (taken on
 * success), not in the table yet; NULL and *err.
 */
static struct lc_entry *
entry_new(const struct listing_key *k, int fd, size_t len,
    const char *etag, size_t etag_len, const struct listing *l, int *err)
{
	struct lc_entry *e = calloc(1, sizeof(*e));

	if (e == NULL || etag_len > sizeof(e->etag)) {
		free(e);
		*err = -ENOMEM;
		return NULL;
	}
	atomic_init(&e->refs, 1);
	e->fd = -1;
	e->cost = PAGE_ROUND(len) + sizeof(*e) + k->rel_len + 1;
	if ((*err = deps_copy(e, l)) != 0 ||
	    (e->rel = malloc(k->rel_len + 1)) == NULL) {
		if (*err == 0)
			*err = -ENOMEM;
		entry_free(e);
		return NULL;
	}
	e->fd = fd;
	memcpy(e->rel, k->rel, k->rel_len);
	e->rel[k->rel_len] = '\0';
	e->k = *k;
	e->k.rel = e->rel;
	e->hash = key_hash(k);
	e->len = len;
	memcpy(e->etag, etag, etag_len);
	e->etag_len = etag_len;
	return e;
}

int
listing_cache_put(struct listing_cache *lc, const struct listing_fill *fill,
    const struct listing_key *k, const char *body, size_t len,
    const char *etag, size_t etag_len, const struct listing *l,
    struct listing_page *page)
{
	int fd, r;

	if (lc == NULL || fill->w == NULL)
		return -ENOSYS;
	if (PAGE_ROUND(len) > lc->max_bytes / 4)
		return -EFBIG;
	if ((fd = body_memfd(body, len)) < 0)
		return -ENOMEM;
	if ((r = listing_cache_put_fd(lc, fill, k, fd, len, etag, etag_len, l,
	    page)) != 0)
		close(fd);
	return r;
}

int
listing_cache_put_fd(struct listing_cache *lc,
    const struct listing_fill *fill, const struct listing_key *k, int fd,
    size_t len, const char *etag, size_t etag_len, const struct listing *l,
    struct listing_page *page)
{
	struct lc_entry *e, *old;
	int err;

	if (lc == NULL || fill->w == NULL)
		return -ENOSYS;
	if (PAGE_ROUND(len) > lc->max_bytes / 4)
		return -EFBIG;
	if (seal(fd) != 0 && errno != EPERM)
		return -errno;
	if ((e = entry_new(k, fd, len, etag, etag_len, l, &err)) == NULL)
		return err;
	if (!page_from(e, page)) {
		e->fd = -1;	/* still the caller's */
		entry_free(e);
		return -EMFILE;
	}
	dirwatch_sync(lc->dw);
	lock(lc);
	/* A change since the read began: answer with it, keep nothing. */
	if (dirwatch_gen(fill->w->w) != fill->gen ||
	    dirwatch_epoch(lc->dw) != fill->epoch) {
		e->gnext = lc->graveyard;
		lc->graveyard = e;
	} else {
		if ((old = entry_find(lc, k, e->hash)) != NULL)
			entry_remove(lc, old);
		e->w = fill->w;
		entry_insert(lc, e);
	}
	unlock(lc);
	return 0;
}
