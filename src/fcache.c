/*
 * fcache.c - the cache of resolved files; see fcache.h.
 *
 * DESIGN: a chained hash table of entries plus one LRU list, and a second
 * hash table of the names entries depend on (struct fdep: a watched
 * folder and a name in it), all under fc->lock.  The table holds one
 * reference to each entry it links; a lookup adds one for the caller.  An
 * entry is built outside the lock (that is where the file is opened and
 * read), after fcache_begin() has watched the folders on its way, and
 * then put in, replacing any entry with the same key, which is unlinked
 * and loses the table's reference.  Entries never change after they are
 * built, except their checked_ms stamp, which is atomic.
 *
 * The registry (dirwatch.h) calls on_event() under its lock for every
 * event: the names it is about are looked up in the dependency table and
 * their entries unlinked at once, onto a list that on_flush() releases
 * once no lock is held (releasing an entry puts its watches back, which
 * takes the registry's lock).  fcache_put() checks, under fc->lock, that
 * no folder it watched saw an event since fcache_begin(); an event
 * delivered later finds the entry's names linked and drops it.  So no
 * entry is ever linked that an event delivered before a lookup should
 * have dropped.
 */
#include "fcache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dirwatch.h"

/* A name an entry depends on. */
struct fdep {
	struct fdep	*hnext;		/* in fc->deps */
	struct fentry	*e;
	struct dw_watch	*w;
	uint64_t	 hash;
	const char	*name;
	size_t		 len;
};

/* What an entry depends on: its watches (one reference each), its names. */
struct fdeps {
	struct dirwatch	*dw;
	struct dw_watch	*w[FCACHE_FILL_DIRS];
	size_t		 nw;
	size_t		 n;
	struct fdep	 dep[];		/* then the names */
};

struct fcache {
	pthread_mutex_t	 lock;
	struct fentry	**table;
	size_t		 nbuckets;	/* a power of two */
	struct fdep	**deps;
	size_t		 ndbuckets;	/* a power of two */
	struct lru	 lru;
	size_t		 n, mem;
	size_t		 n_missing;	/* entries that say 404 */
	size_t		 max_entries, max_bytes;
	unsigned	 valid_ms;
	struct path_root root;
	struct dirwatch	*dw;		/* NULL: check every entry on use */
	const char	*fs;		/* the root's file system, for the log */
	struct fentry	*graveyard;	/* unlinked by events, to release */
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

static uint64_t
hash_dep(const struct dw_watch *w, const char *name, size_t len)
{
	return hash_key(name, len) ^ ((uintptr_t)w * 0x9e3779b97f4a7c15u);
}

static void	on_event(void *, struct dw_watch *, uint32_t, const char *,
		    size_t);
static void	on_overflow(void *);
static void	on_flush(void *);

struct fcache *
fcache_new(size_t max_entries, size_t max_bytes, unsigned valid_ms,
    const struct path_root *root, struct dirwatch *dw)
{
	struct fcache *fc = calloc(1, sizeof(*fc));
	size_t nb = 64;

	if (fc == NULL)
		return NULL;
	while (nb < max_entries && nb < ((size_t)1 << 20))
		nb <<= 1;
	fc->table = calloc(nb, sizeof(*fc->table));
	fc->deps = calloc(nb * 4, sizeof(*fc->deps));
	if (fc->table == NULL || fc->deps == NULL) {
		free(fc->table);
		free(fc->deps);
		free(fc);
		return NULL;
	}
	fc->nbuckets = nb;
	fc->ndbuckets = nb * 4;
	fc->max_entries = max_entries;
	fc->max_bytes = max_bytes;
	fc->valid_ms = valid_ms;
	fc->root = *root;
	pthread_mutex_init(&fc->lock, NULL);
	/* A root on a network or FUSE file system: stat on every use. */
	if (dw != NULL && dirwatch_fs_notifies(root->fd, &fc->fs)) {
		struct dirwatch_sub sub = { .event = on_event,
		    .overflow = on_overflow, .flush = on_flush, .arg = fc };

		if (dirwatch_subscribe(dw, &sub) == 0)
			fc->dw = dw;
	}
	return fc;
}

const char *
fcache_mode(const struct fcache *fc, bool *watched)
{
	*watched = fc->dw != NULL;
	return fc->dw != NULL ? "inotify" : fc->fs != NULL ? fc->fs :
	    "no inotify";
}

struct fentry *
fentry_ref(struct fentry *e)
{
	if (e != NULL)
		atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	return e;
}

static void
deps_free(struct fdeps *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nw; i++)
		dirwatch_put(d->dw, d->w[i]);
	free(d);
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
	deps_free(e->deps);
	/* The strings and bodies live in the same allocation as e. */
	free(e);
}

static struct fdep **
dep_bucket(struct fcache *fc, uint64_t hash)
{
	return &fc->deps[hash & (fc->ndbuckets - 1)];
}

/* Links e's names into the dependency table (lock held). */
static void
deps_link(struct fcache *fc, struct fentry *e)
{
	for (size_t i = 0; e->deps != NULL && i < e->deps->n; i++) {
		struct fdep *d = &e->deps->dep[i], **b = dep_bucket(fc, d->hash);

		d->hnext = *b;
		*b = d;
	}
}

static void
deps_unlink(struct fcache *fc, struct fentry *e)
{
	for (size_t i = 0; e->deps != NULL && i < e->deps->n; i++) {
		struct fdep *d = &e->deps->dep[i], **pp = dep_bucket(fc, d->hash);

		while (*pp != NULL && *pp != d)
			pp = &(*pp)->hnext;
		if (*pp == d)
			*pp = d->hnext;
		d->hnext = NULL;
	}
}

/* Unlinks e from the tables and the LRU list (lock held). */
static void
unlink_entry(struct fcache *fc, struct fentry *e)
{
	struct fentry **pp = &fc->table[e->hash & (fc->nbuckets - 1)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp == e)
		*pp = e->hnext;
	lru_remove(&fc->lru, &e->lru);
	deps_unlink(fc, e);
	e->hnext = NULL;
	e->linked = false;
	fc->n--;
	fc->mem -= e->mem;
	if (e->status != 0)
		fc->n_missing--;
}

/* Unlinks e onto the graveyard, released by on_flush() (lock held). */
static void
bury(struct fcache *fc, struct fentry *e)
{
	unlink_entry(fc, e);
	e->hnext = fc->graveyard;
	fc->graveyard = e;
}

/* The registry: an event about name[0..len) in w (its lock held). */
static void
on_event(void *arg, struct dw_watch *w, uint32_t mask, const char *name,
    size_t len)
{
	struct fcache *fc = arg;
	uint64_t h = hash_dep(w, name, len);
	struct fdep *d, *next;

	(void)mask;
	if (len == 0)
		return;	/* the folder itself: its parent says what matters */
	pthread_mutex_lock(&fc->lock);
	for (d = *dep_bucket(fc, h); d != NULL; d = next) {
		next = d->hnext;
		if (d->hash == h && d->w == w && d->len == len &&
		    memcmp(d->name, name, len) == 0) {
			bury(fc, d->e);
			/* The chain changed under us: look again. */
			next = *dep_bucket(fc, h);
		}
	}
	pthread_mutex_unlock(&fc->lock);
}

/* The registry: events were lost, so nothing can be trusted. */
static void
on_overflow(void *arg)
{
	struct fcache *fc = arg;

	pthread_mutex_lock(&fc->lock);
	while (fc->lru.head != NULL)
		bury(fc, LRU_ENTRY(fc->lru.head, struct fentry, lru));
	pthread_mutex_unlock(&fc->lock);
}

/* The registry, with no lock held: release what events unlinked. */
static void
on_flush(void *arg)
{
	struct fcache *fc = arg;
	struct fentry *g;

	pthread_mutex_lock(&fc->lock);
	g = fc->graveyard;
	fc->graveyard = NULL;
	pthread_mutex_unlock(&fc->lock);
	while (g != NULL) {
		struct fentry *next = g->hnext;

		g->hnext = NULL;
		fentry_unref(g);
		g = next;
	}
}

void
fcache_free(struct fcache *fc)
{
	if (fc == NULL)
		return;
	if (fc->dw != NULL)
		dirwatch_unsubscribe(fc->dw, fc);
	on_flush(fc);
	while (fc->lru.head != NULL) {
		struct fentry *e = LRU_ENTRY(fc->lru.head, struct fentry, lru);

		unlink_entry(fc, e);
		fentry_unref(e);
	}
	free(fc->table);
	free(fc->deps);
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

/* fstatat() of the folder that holds rel (below the root open as root_fd). */
static bool
stat_folder_of(int root_fd, const char *rel, struct stat *st)
{
	const char *slash = strrchr(rel, '/');
	char dir[PATH_MAX];
	int n = slash == NULL ? snprintf(dir, sizeof(dir), ".") :
	    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - rel), rel);

	return n > 0 && (size_t)n < sizeof(dir) &&
	    fstatat(root_fd, dir, st, 0) == 0;
}

/* The folder e's file is in has the times it had when e was filled. */
static bool
folder_unchanged(const struct fentry *e, int root_fd)
{
	struct stat st;

	return stat_folder_of(root_fd, e->rel, &st) &&
	    same_file(&st, &e->folder);
}

/*
 * fstatat() of e's file (i == 0) or its sibling i: 0, -1 (errno), or -2
 * when the name does not fit.
 */
static int
stat_rep(const struct fentry *e, int root_fd, size_t i, struct stat *st)
{
	char path[PATH_MAX + 4];
	int n = snprintf(path, sizeof(path), "%s%s",
	    e->rel[0] != '\0' ? e->rel : ".", fcache_sibling_ext[i]);

	if (n < 0 || (size_t)n >= sizeof(path))
		return -2;
	return fstatat(root_fd, path, st, 0) == 0 ? 0 : -1;
}

/* Representation i of a found file is as e says. */
static bool
rep_fresh(const struct fentry *e, int root_fd, size_t i)
{
	struct stat st;
	int r;

	/* A sibling that was not there: the folder says if it came. */
	if (i > 0 && e->has_folder && e->rep[i] == NULL &&
	    e->refused[i] == NULL)
		return true;
	if ((r = stat_rep(e, root_fd, i, &st)) == -2)
		return false;
	if (e->rep[i] == NULL)
		/* A sibling appeared, or the one refused changed. */
		return !(r == 0 && S_ISREG(st.st_mode) &&
		    (e->refused[i] == NULL || !same_file(&st, e->refused[i])));
	return r == 0 && same_file(&st, &e->rep[i]->st);
}

/*
 * For an entry notification cannot vouch for: does the name still lead
 * to what the entry says?  One fstatat() of the file; with siblings, one
 * of its folder (whose times change when a sibling appears or goes) and
 * one of each sibling there was.  Only metadata is compared: when
 * anything differs the entry is dropped and the file is opened again
 * through path_open(), which applies every rule.
 */
static bool
still_fresh(const struct fentry *e, int root_fd)
{
	struct stat st;

	if (e->has_folder && !folder_unchanged(e, root_fd))
		return false;
	if (e->status != 0)		/* cached as missing */
		return stat_rep(e, root_fd, 0, &st) == -1 && errno == ENOENT;
	for (size_t i = 0; i < FCACHE_REPS; i++)
		if (!rep_fresh(e, root_fd, i))
			return false;
	return true;
}

struct fentry *
fcache_get(struct fcache *fc, const char *key, size_t klen, uint64_t now_ms)
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
	if (e == NULL || !e->revalidate)
		return e;
	if (fc->valid_ms > 0 && now_ms - atomic_load_explicit(&e->checked_ms,
	    memory_order_relaxed) < fc->valid_ms)
		return e;
	if (still_fresh(e, fc->root.fd)) {
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

/* Notes w (a new reference) in fill; false when it has no room left. */
static bool
fill_watch(struct fcache_fill *fill, struct dw_watch *w)
{
	if (fill->nw == FCACHE_FILL_DIRS)
		return false;
	fill->w[fill->nw] = w;
	fill->gen[fill->nw] = dirwatch_gen(w);
	fill->nw++;
	return true;
}

/* Notes that the entry depends on name[0..len)suffix in the last watch. */
static bool
fill_dep(struct fcache_fill *fill, const char *name, size_t len,
    const char *suffix)
{
	size_t slen = strlen(suffix);
	struct fill_dep *d;

	if (fill->ndeps == FCACHE_FILL_DEPS || fill->nw == 0 ||
	    fill->names_len + len + slen > sizeof(fill->names))
		return false;
	d = &fill->dep[fill->ndeps++];
	d->wi = (uint8_t)(fill->nw - 1);
	d->off = (uint16_t)fill->names_len;
	d->len = (uint16_t)(len + slen);
	memcpy(fill->names + fill->names_len, name, len);
	memcpy(fill->names + fill->names_len + len, suffix, slen);
	fill->names_len += len + slen;
	return true;
}

/*
 * The last name of the path, in the folder open as dfd: a link leads
 * elsewhere and a file with other links is written through other names,
 * and neither would be seen by this folder's watch.
 */
static bool
watchable_leaf(int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return true;	/* missing: its creation will be seen */
	return !S_ISLNK(st.st_mode) && !(S_ISREG(st.st_mode) &&
	    st.st_nlink > 1);
}

/* Opens the folder name[0..] in dfd, refusing links; -1 and errno. */
static int
open_folder(int dfd, const char *name)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		    RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, dfd, name, &how, sizeof(how));
}

/*
 * The file's own name (and its siblings') in the folder open as dfd: the
 * entry depends on each, and each must be one the folder's watch sees.
 */
static bool
fill_leaf(struct fcache_fill *fill, int dfd, const char *name, size_t len,
    bool siblings)
{
	int reps = siblings ? FCACHE_REPS : 1;

	for (int c = 1; c < reps; c++)
		if (!fill_dep(fill, name, len, fcache_sibling_ext[c]))
			return false;
	for (int c = 0; c < reps; c++) {
		char sib[NAME_MAX + 4];

		snprintf(sib, sizeof(sib), "%s%s", name,
		    fcache_sibling_ext[c]);
		if (!watchable_leaf(dfd, sib))
			return false;
	}
	return true;
}

/*
 * Watches each folder on the way to rel and notes the names the entry
 * will depend on; returns false when something on the way cannot be
 * watched (then the entry is checked on each use).  A missing part ends
 * the walk: the entry depends on the name that does not exist.
 */
static bool
fill_walk(struct fcache *fc, const char *rel, bool siblings,
    struct fcache_fill *fill)
{
	char name[NAME_MAX + 1];
	const char *p = rel;
	struct dw_watch *w;
	int dfd = fc->root.fd, err;
	bool ok = true;

	if ((w = dirwatch_get(fc->dw, dfd, &err)) == NULL)
		return false;
	fill_watch(fill, w);
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		int nfd;

		if (len == 0 || len > NAME_MAX || !fill_dep(fill, p, len, "")) {
			ok = len == 0 && slash == NULL;	/* "" is the root */
			break;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		if (slash == NULL) {
			ok = fill_leaf(fill, dfd, name, len, siblings);
			break;
		}
		if ((nfd = open_folder(dfd, name)) < 0) {
			/* Missing or no folder: its name is all it needs. */
			ok = errno == ENOENT || errno == ENOTDIR;
			break;
		}
		if (dfd != fc->root.fd)
			close(dfd);
		dfd = nfd;
		if ((w = dirwatch_get(fc->dw, dfd, &err)) == NULL) {
			ok = false;
			break;
		}
		if (!fill_watch(fill, w)) {
			dirwatch_put(fc->dw, w);
			ok = false;
			break;
		}
		p = slash + 1;
	}
	if (dfd != fc->root.fd)
		close(dfd);
	return ok;
}

/*
 * An entry to be checked on each use, with siblings, notes its folder's
 * state before the file and its siblings are opened.
 */
static void
fill_folder(struct fcache *fc, const char *rel, struct fcache_fill *fill)
{
	fill->has_folder = stat_folder_of(fc->root.fd, rel, &fill->folder);
}

void
fcache_begin(struct fcache *fc, const char *rel, bool siblings,
    struct fcache_fill *fill)
{
	fill->nw = fill->ndeps = fill->names_len = 0;
	fill->revalidate = true;
	fill->has_folder = false;
	if (fc == NULL)
		return;
	if (fc->dw != NULL) {
		fill->epoch = dirwatch_epoch(fc->dw);
		fill->revalidate = !fill_walk(fc, rel, siblings, fill);
	}
	if (fill->revalidate && siblings)
		fill_folder(fc, rel, fill);
}

void
fcache_end(struct fcache *fc, struct fcache_fill *fill)
{
	for (size_t i = 0; i < fill->nw; i++)
		dirwatch_put(fc->dw, fill->w[i]);
	fill->nw = 0;
}

/*
 * The watches and names of fill as a struct fdeps for e; the watches'
 * references are fill's until the caller sets fill->nw to 0.  NULL when
 * out of memory.
 */
static struct fdeps *
deps_from(struct fcache *fc, struct fentry *e, struct fcache_fill *fill)
{
	struct fdeps *d = malloc(sizeof(*d) + fill->ndeps *
	    sizeof(struct fdep) + fill->names_len);
	char *names;

	if (d == NULL)
		return NULL;
	names = (char *)&d->dep[fill->ndeps];
	memcpy(names, fill->names, fill->names_len);
	d->dw = fc->dw;
	d->n = fill->ndeps;
	for (size_t i = 0; i < fill->ndeps; i++) {
		const struct fill_dep *fd = &fill->dep[i];
		struct fdep *x = &d->dep[i];

		x->hnext = NULL;
		x->e = e;
		x->w = fill->w[fd->wi];
		x->name = names + fd->off;
		x->len = fd->len;
		x->hash = hash_dep(x->w, x->name, x->len);
	}
	memcpy(d->w, fill->w, fill->nw * sizeof(d->w[0]));
	d->nw = fill->nw;
	return d;
}

/* Did any folder fill watched see an event since (lock held)? */
static bool
fill_changed(struct fcache *fc, const struct fcache_fill *fill)
{
	if (dirwatch_epoch(fc->dw) != fill->epoch)
		return true;
	for (size_t i = 0; i < fill->nw; i++)
		if (dirwatch_gen(fill->w[i]) != fill->gen[i])
			return true;
	return false;
}

/*
 * Unlinks the entry e replaces and as many of the least recently used as
 * e needs room for (lock held); returns them, chained by hnext, for the
 * caller to release outside the lock.
 */
static struct fentry *
make_room(struct fcache *fc, const struct fentry *e)
{
	struct fentry *old, *victims = NULL;

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
	return victims;
}

/* Puts e in the table, the LRU list and the counts (lock held). */
static void
link_entry(struct fcache *fc, struct fentry *e)
{
	fentry_ref(e);
	e->hnext = fc->table[e->hash & (fc->nbuckets - 1)];
	fc->table[e->hash & (fc->nbuckets - 1)] = e;
	e->linked = true;
	lru_push(&fc->lru, &e->lru);
	deps_link(fc, e);
	fc->n++;
	fc->mem += e->mem;
	if (e->status != 0)
		fc->n_missing++;
}

void
fcache_put(struct fcache *fc, struct fentry *e, struct fcache_fill *fill)
{
	struct fentry *victims;
	struct fdeps *deps = NULL;

	if (fc == NULL || e->mem > fc->max_bytes || fc->max_entries == 0 ||
	    e->linked || e->deps != NULL)
		return;
	if (fill->revalidate) {
		e->revalidate = true;
		if ((e->has_folder = fill->has_folder))
			e->folder = fill->folder;
	} else {
		/* Deliver what happened while the entry was built. */
		dirwatch_sync(fc->dw);
		if ((deps = deps_from(fc, e, fill)) == NULL)
			return;
	}
	pthread_mutex_lock(&fc->lock);
	/*
	 * A scanner asking for thousands of names that do not exist must not
	 * push real files out: missing names get a quarter of the entries.
	 * And an entry whose folders changed while it was built is used for
	 * this response only.
	 */
	if ((e->status != 0 && fc->n_missing >= fc->max_entries / 4 + 1) ||
	    (deps != NULL && fill_changed(fc, fill))) {
		pthread_mutex_unlock(&fc->lock);
		free(deps);	/* the watches are still fill's */
		return;
	}
	if ((e->deps = deps) != NULL)
		fill->nw = 0;	/* its watches are the entry's now */
	victims = make_room(fc, e);
	link_entry(fc, e);
	pthread_mutex_unlock(&fc->lock);
	/* Closing files and putting watches back happen outside the lock. */
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
