/*
 * dirwatch.c - the inotify instance the caches share; see dirwatch.h.
 *
 * DESIGN: one mutex guards the table of watches (by watch descriptor),
 * the subscriber list and the read of the inotify descriptor, so events
 * are applied in queue order and a sync that returns has applied all
 * that was queued when it began.  A watch is reference-counted by the
 * caches' entries; the last reference removes the kernel's watch.  The
 * kernel gives one watch descriptor per inode, so two paths to one
 * directory share a watch.  IN_IGNORED (the kernel dropped the watch:
 * the directory is gone) marks it dead and takes it out of the table;
 * the struct lives until its last reference goes.  Watch descriptors
 * are allocated cyclically by the kernel, so the IN_IGNORED that
 * follows our own inotify_rm_watch() cannot meet a new watch with the
 * same number.
 *
 * Subscribers' flush callbacks run after the lock is dropped (they free
 * what their event callbacks unlinked, which may put watches back);
 * dirwatch_unsubscribe() waits for flushes in progress, so a subscriber
 * is never called after it returns.
 */
#include "dirwatch.h"

#include <errno.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "testhook.h"

/* Every change to a directory's entries, and to the directory itself. */
#define WATCH_MASK	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
			 IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | \
			 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define NBUCKETS	1024

struct dirwatch {
	pthread_mutex_t	 lock;
	pthread_cond_t	 flushed;
	int		 ifd;		/* -1: no inotify */
	struct dw_watch	*table[NBUCKETS];
	size_t		 nwatches;
	struct dirwatch_sub subs[DIRWATCH_MAX_SUBS];
	size_t		 nsubs;
	unsigned	 flushing;	/* syncs calling flush callbacks */
	_Atomic uint64_t epoch;
	atomic_bool	 warned;	/* the watch limit was reported */
};

struct dirwatch *
dirwatch_new(void)
{
	struct dirwatch *dw = calloc(1, sizeof(*dw));

	if (dw == NULL)
		return NULL;
	pthread_mutex_init(&dw->lock, NULL);
	pthread_cond_init(&dw->flushed, NULL);
	if ((dw->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		log_errno(LOG_LVL_WARN, errno, "inotify: the caches check "
		    "files with a stat on every request instead");
	return dw;
}

void
dirwatch_free(struct dirwatch *dw)
{
	if (dw == NULL)
		return;
	/* Every watch was put back; dead ones are freed by their last put. */
	for (size_t i = 0; i < NBUCKETS; i++) {
		while (dw->table[i] != NULL) {
			struct dw_watch *w = dw->table[i];

			dw->table[i] = w->hnext;
			free(w);
		}
	}
	if (dw->ifd >= 0)
		close(dw->ifd);
	pthread_cond_destroy(&dw->flushed);
	pthread_mutex_destroy(&dw->lock);
	free(dw);
}

int
dirwatch_subscribe(struct dirwatch *dw, const struct dirwatch_sub *sub)
{
	int r = 0;

	pthread_mutex_lock(&dw->lock);
	if (dw->nsubs == DIRWATCH_MAX_SUBS)
		r = -ENOSPC;
	else
		dw->subs[dw->nsubs++] = *sub;
	pthread_mutex_unlock(&dw->lock);
	return r;
}

void
dirwatch_unsubscribe(struct dirwatch *dw, void *arg)
{
	pthread_mutex_lock(&dw->lock);
	for (size_t i = 0; i < dw->nsubs; i++) {
		if (dw->subs[i].arg == arg) {
			dw->subs[i] = dw->subs[--dw->nsubs];
			break;
		}
	}
	/* A flush that copied the list before may still be calling it. */
	while (dw->flushing > 0)
		pthread_cond_wait(&dw->flushed, &dw->lock);
	pthread_mutex_unlock(&dw->lock);
}

static struct dw_watch **
bucket(struct dirwatch *dw, int wd)
{
	return &dw->table[(unsigned)wd % NBUCKETS];
}

static struct dw_watch *
find(struct dirwatch *dw, int wd)
{
	struct dw_watch *w = *bucket(dw, wd);

	while (w != NULL && w->wd != wd)
		w = w->hnext;
	return w;
}

/* Takes w out of the table (it stays allocated while referenced). */
static void
unhash(struct dirwatch *dw, struct dw_watch *w)
{
	struct dw_watch **pp = bucket(dw, w->wd);

	while (*pp != NULL && *pp != w)
		pp = &(*pp)->hnext;
	if (*pp == w) {
		*pp = w->hnext;
		dw->nwatches--;
	}
	w->hnext = NULL;
}

/* Applies one read's worth of events (lock held); true if any. */
static bool
deliver(struct dirwatch *dw, const char *buf, size_t n)
{
	bool any = false;

	for (const char *p = buf; p < buf + n;) {
		const struct inotify_event *ev = (const void *)p;
		size_t len = ev->len > 0 ? strnlen(ev->name, ev->len) : 0;
		struct dw_watch *w;

		p += sizeof(*ev) + ev->len;
		if (ev->mask & IN_Q_OVERFLOW) {
			atomic_fetch_add(&dw->epoch, 1);
			for (size_t i = 0; i < dw->nsubs; i++)
				dw->subs[i].overflow(dw->subs[i].arg);
			any = true;
			continue;
		}
		if ((w = find(dw, ev->wd)) == NULL || w->dead)
			continue;
		atomic_fetch_add_explicit(&w->gen, 1, memory_order_relaxed);
		for (size_t i = 0; i < dw->nsubs; i++)
			dw->subs[i].event(dw->subs[i].arg, w, ev->mask, ev->name,
			    len);
		if (ev->mask & IN_IGNORED) {
			/* Gone in the kernel: never remove it there again. */
			w->dead = true;
			unhash(dw, w);
		}
		any = true;
	}
	return any;
}

void
dirwatch_sync(struct dirwatch *dw)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	struct dirwatch_sub subs[DIRWATCH_MAX_SUBS];
	size_t nsubs = 0;
	bool any = false;

	if (dw == NULL || dw->ifd < 0)
		return;
	pthread_mutex_lock(&dw->lock);
	for (;;) {
		ssize_t n = read(dw->ifd, buf, sizeof(buf));

		if (n > 0) {
			any |= deliver(dw, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			/* Cannot tell what happened: trust nothing. */
			atomic_fetch_add(&dw->epoch, 1);
			for (size_t i = 0; i < dw->nsubs; i++)
				dw->subs[i].overflow(dw->subs[i].arg);
			any = true;
		}
		break;
	}
	if (any) {
		nsubs = dw->nsubs;
		memcpy(subs, dw->subs, nsubs * sizeof(subs[0]));
		dw->flushing++;
	}
	pthread_mutex_unlock(&dw->lock);
	if (!any)
		return;
	for (size_t i = 0; i < nsubs; i++)
		if (subs[i].flush != NULL)
			subs[i].flush(subs[i].arg);
	pthread_mutex_lock(&dw->lock);
	if (--dw->flushing == 0)
		pthread_cond_broadcast(&dw->flushed);
	pthread_mutex_unlock(&dw->lock);
}

bool
dirwatch_fs_notifies(int fd, const char **name)
{
	static const struct {
		unsigned long	 magic;
		const char	*name;
	} remote[] = {
		{ NFS_SUPER_MAGIC, "nfs" }, { SMB_SUPER_MAGIC, "smb" },
		{ 0xff534d42, "cifs" }, { 0xfe534d42, "smb2" },
		{ 0x65735546, "fuse" }, { 0x00c36400, "ceph" },
		{ V9FS_MAGIC, "9p" }, { AFS_SUPER_MAGIC, "afs" },
		{ 0x5346414f, "afs" }, { CODA_SUPER_MAGIC, "coda" },
		{ 0x01161970, "gfs2" }, { 0x7461636f, "ocfs2" },
		{ 0x47504653, "gpfs" }, { 0x013111a8, "ibrix" },
	};
	struct statfs sf;

	*name = "unknown";
	if (fstatfs(fd, &sf) != 0)
		return false;
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
		if ((unsigned long)sf.f_type == remote[i].magic) {
			*name = remote[i].name;
			return false;
		}
	}
	*name = "local";
	return true;
}

struct dw_watch *
dirwatch_get(struct dirwatch *dw, int dfd, int *err)
{
	struct dw_watch *w;
	const char *fs;
	char path[64];
	int wd;

	if (dw == NULL || dw->ifd < 0 || testhook_fail("dirwatch_get")) {
		*err = -ENOSYS;
		return NULL;
	}
	if (!dirwatch_fs_notifies(dfd, &fs)) {
		*err = -EXDEV;
		return NULL;
	}
	/* The directory itself, whatever became of its path meanwhile. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dfd);
	pthread_mutex_lock(&dw->lock);
	if ((wd = inotify_add_watch(dw->ifd, path, WATCH_MASK)) < 0) {
		*err = -errno;
		pthread_mutex_unlock(&dw->lock);
		if (*err == -ENOSPC && !atomic_exchange(&dw->warned, true))
			log_warn("the inotify watch limit is reached "
			    "(fs.inotify.max_user_watches): further folders are "
			    "checked with a stat on every request");
		return NULL;
	}
	if ((w = find(dw, wd)) == NULL) {
		if ((w = calloc(1, sizeof(*w))) == NULL) {
			inotify_rm_watch(dw->ifd, wd);
			pthread_mutex_unlock(&dw->lock);
			*err = -ENOMEM;
			return NULL;
		}
		w->wd = wd;
		w->hnext = *bucket(dw, wd);
		*bucket(dw, wd) = w;
		dw->nwatches++;
	}
	w->refs++;
	pthread_mutex_unlock(&dw->lock);
	return w;
}

void
dirwatch_put(struct dirwatch *dw, struct dw_watch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&dw->lock);
	if (--w->refs == 0) {
		if (!w->dead) {
			inotify_rm_watch(dw->ifd, w->wd);
			unhash(dw, w);
		}
		free(w);
	}
	pthread_mutex_unlock(&dw->lock);
}

uint64_t
dirwatch_gen(const struct dw_watch *w)
{
	return atomic_load_explicit(&w->gen, memory_order_relaxed);
}

uint64_t
dirwatch_epoch(struct dirwatch *dw)
{
	return dw == NULL ? 0 : atomic_load(&dw->epoch);
}

size_t
dirwatch_count(struct dirwatch *dw)
{
	size_t n;

	pthread_mutex_lock(&dw->lock);
	n = dw->nwatches;
	pthread_mutex_unlock(&dw->lock);
	return n;
}
