/*
 * listing_cache.c - rendered listings kept until their directory changes;
 * see listing_cache.h.
 *
 * DESIGN: one mutex guards a hash table of pages, their LRU list, and a
 * table of inotify watches by watch descriptor.  Every page belongs to
 * the watch of its directory (the kernel gives one descriptor per inode,
 * so two paths to one directory share it).  An event on a watch bumps
 * its generation and drops its pages; IN_IGNORED (the kernel dropped the
 * watch: the directory is gone) marks it dead; IN_Q_OVERFLOW drops every
 * page and bumps the cache's epoch.  A fill records the generation and
 * epoch before the directory is read and stores its page only if both
 * are unchanged once the queue is drained again, so a change racing with
 * the read costs a miss, never a stale page.
 *
 * Pages are reference-counted: the table holds one reference and a
 * lookup takes one while it checks the entries a watch cannot see.  A
 * page dropped under the lock goes to a list that is released after
 * unlocking, so closing and freeing happen outside the lock.  The lock
 * covers a non-blocking read() of the inotify descriptor (one syscall
 * returning EAGAIN when nothing changed), the table updates, and on a
 * miss inotify_add_watch(); never file I/O that could wait on a disk.
 */
#include "listing_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "lru.h"

/* Every change to a directory's entries, and to the directory itself. */
#define WATCH_MASK	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
			 IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | \
			 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
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

struct lc_watch {
	struct lc_watch	*hnext;
	int		 wd;
	uint64_t	 gen;
	unsigned	 pins;		/* fills in progress */
	bool		 dead;		/* the kernel dropped the watch */
	bool		 hashed;
	struct lru	 pages;		/* its pages, newest first */
};

struct listing_cache {
	pthread_mutex_t	 lock;
	int		 ifd;		/* inotify, or -1: cache nothing */
	size_t		 max_entries, max_bytes;
	size_t		 nentries, bytes, nwatches;
	uint64_t	 epoch;
	struct lc_entry	**table;
	size_t		 nbuckets;	/* a power of two */
	struct lc_watch	**wtable;
	size_t		 nwbuckets;
	struct lru	 lru;
	struct lc_entry	*graveyard;	/* dropped, released after unlock */
	atomic_bool	 warned;	/* the watch limit was reported */
};

static size_t
pow2_at_least(size_t n)
{
	size_t p = 16;

	while (p < n && p < ((size_t)1 << 20))
		p *= 2;
	return p;
}

struct listing_cache *
listing_cache_new(size_t max_entries, size_t max_bytes)
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
	lc->ifd = -1;
	if (lc->max_entries > 0 &&
	    (lc->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		log_errno(LOG_LVL_WARN, errno, "listing cache: inotify; "
		    "listings are not cached");
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

static struct lc_watch *
watch_find(struct listing_cache *lc, int wd)
{
	struct lc_watch *w = lc->wtable[(size_t)wd & (lc->nwbuckets - 1)];

	while (w != NULL && w->wd != wd)
		w = w->hnext;
	return w;
}

static void
watch_unhash(struct listing_cache *lc, struct lc_watch *w)
{
	struct lc_watch **pp = &lc->wtable[(size_t)w->wd & (lc->nwbuckets - 1)];

	if (!w->hashed)
		return;
	while (*pp != w)
		pp = &(*pp)->hnext;
	*pp = w->hnext;
	w->hashed = false;
}

/* A watch with no page and no fill goes, and so does its kernel watch. */
static void
watch_maybe_free(struct listing_cache *lc, struct lc_watch *w)
{
	if (w->pages.head != NULL || w->pins > 0)
		return;
	if (!w->dead && lc->ifd >= 0)
		inotify_rm_watch(lc->ifd, w->wd);
	watch_unhash(lc, w);
	lc->nwatches--;
	free(w);
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

/*
 * Something about w's directory changed: its pages are stale.  The watch
 * goes too unless a fill holds it (the next miss adds it again).
 */
static void
watch_fire(struct listing_cache *lc, struct lc_watch *w, uint32_t mask)
{
	w->gen++;
	if (mask & IN_IGNORED) {
		/* Gone in the kernel: never remove it there again. */
		w->dead = true;
		watch_unhash(lc, w);
	}
	w->pins++;	/* keep w while its pages go */
	while (w->pages.head != NULL)
		entry_remove(lc, LRU_ENTRY(w->pages.head, struct lc_entry,
		    wlink));
	w->pins--;
	watch_maybe_free(lc, w);
}

static void
drop_all(struct listing_cache *lc)
{
	lc->epoch++;
	while (lc->lru.head != NULL)
		entry_remove(lc, LRU_ENTRY(lc->lru.head, struct lc_entry, lru));
}

/*
 * Reads every queued event without blocking and applies it.  Called with
 * the lock held before any lookup or store, so no page outlives an event
 * that was queued before the request looked.
 */
static void
drain(struct listing_cache *lc)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(lc->ifd, buf, sizeof(buf));

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno != EAGAIN)
				drop_all(lc);	/* cannot tell: trust nothing */
			return;
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;
			struct lc_watch *w;

			if (ev->mask & IN_Q_OVERFLOW)
				drop_all(lc);
			else if ((w = watch_find(lc, ev->wd)) != NULL)
				watch_fire(lc, w, ev->mask);
			p += sizeof(*ev) + ev->len;
		}
	}
}

static void
lock(struct listing_cache *lc)
{
	pthread_mutex_lock(&lc->lock);
	drain(lc);
}

/* Unlocks, then releases what was dropped meanwhile. */
static void
unlock(struct listing_cache *lc)
{
	struct lc_entry *g = lc->graveyard;

	lc->graveyard = NULL;
	pthread_mutex_unlock(&lc->lock);
	while (g != NULL) {
		struct lc_entry *next = g->gnext;

		entry_unref(g);
		g = next;
	}
}

void
listing_cache_flush(struct listing_cache *lc)
{
	if (lc == NULL || lc->ifd < 0)
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
	listing_cache_flush(lc);
	for (size_t i = 0; i < lc->nwbuckets; i++) {
		while (lc->wtable[i] != NULL) {
			struct lc_watch *w = lc->wtable[i];

			lc->wtable[i] = w->hnext;
			free(w);
		}
	}
	if (lc->ifd >= 0)
		close(lc->ifd);
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
	if (lc == NULL || lc->ifd < 0)
		return;
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

	if (lc == NULL || lc->ifd < 0)
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

/*
 * Network and FUSE file systems change without telling inotify; their
 * folders are never cached.
 */
static bool
fs_is_local(int dfd)
{
	static const long remote[] = {
		NFS_SUPER_MAGIC, SMB_SUPER_MAGIC, 0xff534d42 /* cifs */,
		0xfe534d42 /* smb2 */, 0x65735546 /* fuse */,
		0x00c36400 /* ceph */, V9FS_MAGIC, AFS_SUPER_MAGIC,
		0x5346414f /* afs */, CODA_SUPER_MAGIC, 0x01161970 /* gfs2 */,
		0x7461636f /* ocfs2 */, 0x47504653 /* gpfs */,
	};
	struct statfs sf;

	if (fstatfs(dfd, &sf) != 0)
		return false;
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++)
		if ((unsigned long)sf.f_type == (unsigned long)remote[i])
			return false;
	return true;
}

/* The watch of the directory at path, added or found; NULL and *err. */
static struct lc_watch *
watch_get(struct listing_cache *lc, const char *path, int *err)
{
	int wd = inotify_add_watch(lc->ifd, path, WATCH_MASK);
	struct lc_watch *w;

	if (wd < 0) {
		*err = -errno;
		return NULL;
	}
	if ((w = watch_find(lc, wd)) != NULL && !w->dead)
		return w;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		*err = -ENOMEM;
		inotify_rm_watch(lc->ifd, wd);
		return NULL;
	}
	w->wd = wd;
	w->hashed = true;
	lc->nwatches++;
	w->hnext = lc->wtable[(size_t)wd & (lc->nwbuckets - 1)];
	lc->wtable[(size_t)wd & (lc->nwbuckets - 1)] = w;
	return w;
}

int
listing_cache_begin(struct listing_cache *lc, int dfd,
    struct listing_fill *fill)
{
	char path[64];
	struct lc_watch *w;
	int err = 0;

	fill->w = NULL;
	if (lc == NULL || lc->ifd < 0)
		return -ENOSYS;
	if (!fs_is_local(dfd))
		return -EXDEV;
	/* The directory itself, whatever became of its path meanwhile. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dfd);
	lock(lc);
	if ((w = watch_get(lc, path, &err)) != NULL) {
		w->pins++;
		fill->w = w;
		fill->gen = w->gen;
		fill->epoch = lc->epoch;
	}
	unlock(lc);
	if (err == -ENOSPC &&
	    !atomic_exchange_explicit(&lc->warned, true, memory_order_relaxed))
		log_warn("listing cache: the inotify watch limit is reached "
		    "(fs.inotify.max_user_watches); further folders are listed "
		    "without the cache");
	return err;
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

/* A sealed memfd holding body[0..len); -1 on failure. */
static int
body_memfd(const char *body, size_t len)
{
	int fd = memfd_create("lanhttpd-listing", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING);

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
	/* Nothing can change the body from now on. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A page for k with body, not in the table yet; NULL and *err. */
static struct lc_entry *
entry_new(const struct listing_key *k, const char *body, size_t len,
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
	    (e->rel = malloc(k->rel_len + 1)) == NULL ||
	    (e->fd = body_memfd(body, len)) < 0) {
		if (*err == 0)
			*err = -ENOMEM;
		entry_free(e);
		return NULL;
	}
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
	struct lc_entry *e, *old;
	int err;

	if (lc == NULL || fill->w == NULL)
		return -ENOSYS;
	if (PAGE_ROUND(len) > lc->max_bytes / 4)
		return -EFBIG;
	if ((e = entry_new(k, body, len, etag, etag_len, l, &err)) == NULL)
		return err;
	if (!page_from(e, page)) {
		entry_free(e);
		return -EMFILE;
	}
	lock(lc);
	/* A change since the read began: answer with it, keep nothing. */
	if (fill->w->dead || fill->w->gen != fill->gen ||
	    fill->epoch != lc->epoch) {
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
