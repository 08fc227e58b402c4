/*
 * queue.c - the queue of connections waiting for a worker; see queue.h.
 *
 * DESIGN: a ring of cap slots for new items and a growable ring for items
 * handed over between consumers, under one mutex, with a stack of idle
 * consumers.  A consumer registers itself as idle only under the lock and
 * only when nothing is waiting, and a producer takes an idle consumer off
 * the stack and writes to its eventfd under the same lock, one for each
 * item it adds: so an item never waits while a consumer sleeps (no lost
 * wake-up), a consumer that left the stack under the lock is never
 * written to again (it may close its eventfd), and a busy pool pays
 * nothing, since busy consumers are not on the stack.  When a push fails
 * the queue remembers that the producer wants to hear about space, and
 * the first pop afterwards calls on_space() once, outside the lock.  The
 * lock is held to move pointers and for the eventfd writes, which never
 * block.
 */
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* A ring of pointers. */
struct ring {
	void		**slot;
	size_t		 cap, head, len;
};

struct queue {
	pthread_mutex_t	 lock;
	struct ring	 fresh;		/* new items, bounded */
	struct ring	 handed;	/* between consumers, grows */
	atomic_size_t	 len_hint;
	atomic_size_t	 idle_hint;
	struct queue_waiter *idle;	/* sleeping consumers, a stack */
	bool		 closed;
	bool		 want_space;
	void		(*on_space)(void *);
	void		*arg;
};

static void
ring_put(struct ring *r, void *item)
{
	r->slot[(r->head + r->len) % r->cap] = item;
	r->len++;
}

static void *
ring_take(struct ring *r)
{
	void *item = r->slot[r->head];

	r->slot[r->head] = NULL;
	r->head = (r->head + 1) % r->cap;
	r->len--;
	return item;
}

/* Makes room for n more items in r; false when out of memory. */
static bool
ring_reserve(struct ring *r, size_t n)
{
	size_t ncap = r->cap ? r->cap : 64;
	void **ns;

	if (r->len + n <= r->cap)
		return true;
	while (ncap < r->len + n)
		ncap *= 2;
	if ((ns = malloc(ncap * sizeof(*ns))) == NULL)
		return false;
	for (size_t i = 0; i < r->len; i++)
		ns[i] = r->slot[(r->head + i) % r->cap];
	free(r->slot);
	r->slot = ns;
	r->cap = ncap;
	r->head = 0;
	return true;
}

struct queue *
queue_new(size_t cap, void (*on_space)(void *), void *arg)
{
	struct queue *q;

	if (cap == 0 || (q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->fresh.slot = calloc(cap, sizeof(*q->fresh.slot))) == NULL) {
		free(q);
		return NULL;
	}
	q->fresh.cap = cap;
	q->on_space = on_space;
	q->arg = arg;
	pthread_mutex_init(&q->lock, NULL);
	return q;
}

void
queue_free(struct queue *q)
{
	if (q == NULL)
		return;
	pthread_mutex_destroy(&q->lock);
	free(q->fresh.slot);
	free(q->handed.slot);
	free(q);
}

static void
wake(struct queue_waiter *w)
{
	uint64_t one = 1;

	while (write(w->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/*
 * Takes up to n idle consumers off the stack and wakes them (lock held),
 * one for each item that was added.
 */
static void
wake_idle(struct queue *q, size_t n)
{
	while (n-- > 0 && q->idle != NULL) {
		struct queue_waiter *w = q->idle;

		q->idle = w->next;
		w->next = NULL;
		atomic_store(&w->idle, false);
		atomic_fetch_sub_explicit(&q->idle_hint, 1,
		    memory_order_relaxed);
		wake(w);
	}
}

static void
update_hint(struct queue *q)
{
	atomic_store_explicit(&q->len_hint, q->fresh.len + q->handed.len,
	    memory_order_relaxed);
}

size_t
queue_push_many(struct queue *q, void *const *v, size_t n)
{
	size_t taken = 0;

	pthread_mutex_lock(&q->lock);
	if (!q->closed) {
		while (taken < n && q->fresh.len < q->fresh.cap)
			ring_put(&q->fresh, v[taken++]);
	}
	if (taken < n)
		q->want_space = true;
	update_hint(q);
	wake_idle(q, taken);
	pthread_mutex_unlock(&q->lock);
	return taken;
}

bool
queue_push(struct queue *q, void *item)
{
	return queue_push_many(q, &item, 1) == 1;
}

bool
queue_hand_over(struct queue *q, void *const *v, size_t n)
{
	pthread_mutex_lock(&q->lock);
	if (!ring_reserve(&q->handed, n)) {
		pthread_mutex_unlock(&q->lock);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		ring_put(&q->handed, v[i]);
	update_hint(q);
	wake_idle(q, n);
	pthread_mutex_unlock(&q->lock);
	return true;
}

void *
queue_try_pop(struct queue *q)
{
	void *item = NULL;
	bool notify = false;

	if (!queue_busy_hint(q))
		return NULL;	/* the common case, without the lock */
	pthread_mutex_lock(&q->lock);
	if (q->handed.len > 0) {
		item = ring_take(&q->handed);
	} else if (q->fresh.len > 0) {
		item = ring_take(&q->fresh);
		if (q->want_space) {
			q->want_space = false;
			notify = q->on_space != NULL;
		}
	}
	update_hint(q);
	pthread_mutex_unlock(&q->lock);
	if (notify)
		q->on_space(q->arg);
	return item;
}

bool
queue_idle_begin(struct queue *q, struct queue_waiter *w)
{
	bool sleep;

	pthread_mutex_lock(&q->lock);
	sleep = q->fresh.len + q->handed.len == 0 && !q->closed;
	if (sleep && !atomic_load(&w->idle)) {
		atomic_store(&w->idle, true);
		w->next = q->idle;
		q->idle = w;
		atomic_fetch_add_explicit(&q->idle_hint, 1,
		    memory_order_relaxed);
	}
	pthread_mutex_unlock(&q->lock);
	return sleep;
}

void
queue_idle_end(struct queue *q, struct queue_waiter *w)
{
	/* A push that took w off the stack cleared the flag: no lock. */
	if (!atomic_load(&w->idle))
		return;
	queue_forget(q, w);
}

void
queue_forget(struct queue *q, struct queue_waiter *w)
{
	pthread_mutex_lock(&q->lock);
	if (atomic_load(&w->idle)) {
		struct queue_waiter **pp = &q->idle;

		while (*pp != w)
			pp = &(*pp)->next;
		*pp = w->next;
		w->next = NULL;
		atomic_store(&w->idle, false);
		atomic_fetch_sub_explicit(&q->idle_hint, 1,
		    memory_order_relaxed);
	}
	pthread_mutex_unlock(&q->lock);
}

void
queue_wake_all(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	wake_idle(q, SIZE_MAX);
	pthread_mutex_unlock(&q->lock);
}

void
queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_mutex_unlock(&q->lock);
	queue_wake_all(q);
}

bool
queue_is_closed(struct queue *q)
{
	bool closed;

	pthread_mutex_lock(&q->lock);
	closed = q->closed;
	pthread_mutex_unlock(&q->lock);
	return closed;
}

size_t
queue_len(struct queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->fresh.len + q->handed.len;
	pthread_mutex_unlock(&q->lock);
	return n;
}

size_t
queue_idle_hint(const struct queue *q)
{
	return atomic_load_explicit(&q->idle_hint, memory_order_relaxed);
}

bool
queue_busy_hint(const struct queue *q)
{
	return atomic_load_explicit(&q->len_hint, memory_order_relaxed) != 0;
}
