/*
 * queue.c - bounded MPMC queue; see queue.h.
 *
 * DESIGN: a ring of cap slots under one mutex, with a condition variable
 * for consumers.  A consumer is signalled only when one is actually
 * waiting, so a busy pool pays no futex wake per item.  When a push fails
 * the queue remembers that the producer wants to hear about space, and the
 * first pop afterwards calls on_space() once, outside the lock (it may do
 * I/O, such as writing to an eventfd).  The lock is held only to move
 * pointers, never around I/O.
 */
#include "queue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct queue {
	pthread_mutex_t	 lock;
	pthread_cond_t	 nonempty;
	void		**slot;
	size_t		 cap;
	size_t		 head;		/* next pop */
	size_t		 len;
	atomic_size_t	 len_hint;	/* len, for queue_busy_hint() */
	size_t		 waiting;	/* consumers blocked in pop */
	bool		 closed;
	bool		 want_space;
	void		(*on_space)(void *);
	void		*arg;
};

struct queue *
queue_new(size_t cap, void (*on_space)(void *), void *arg)
{
	struct queue *q;

	if (cap == 0 || (q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->slot = calloc(cap, sizeof(*q->slot))) == NULL) {
		free(q);
		return NULL;
	}
	q->cap = cap;
	q->on_space = on_space;
	q->arg = arg;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->nonempty, NULL);
	return q;
}

void
queue_free(struct queue *q)
{
	if (q == NULL)
		return;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->nonempty);
	free(q->slot);
	free(q);
}

size_t
queue_push_many(struct queue *q, void *const *v, size_t n)
{
	size_t taken = 0, wake;

	pthread_mutex_lock(&q->lock);
	if (!q->closed) {
		while (taken < n && q->len < q->cap) {
			q->slot[(q->head + q->len) % q->cap] = v[taken++];
			q->len++;
		}
	}
	if (taken < n)
		q->want_space = true;
	atomic_store_explicit(&q->len_hint, q->len, memory_order_relaxed);
	wake = taken < q->waiting ? taken : q->waiting;
	if (wake == 1)
		pthread_cond_signal(&q->nonempty);
	else if (wake > 1)
		pthread_cond_broadcast(&q->nonempty);
	pthread_mutex_unlock(&q->lock);
	return taken;
}

bool
queue_push(struct queue *q, void *item)
{
	return queue_push_many(q, &item, 1) == 1;
}

static void *
pop_locked(struct queue *q, bool *notify)
{
	void *item = q->slot[q->head];

	q->slot[q->head] = NULL;
	q->head = (q->head + 1) % q->cap;
	q->len--;
	atomic_store_explicit(&q->len_hint, q->len, memory_order_relaxed);
	if (q->want_space) {
		q->want_space = false;
		*notify = q->on_space != NULL;
	}
	return item;
}

void *
queue_pop(struct queue *q, const atomic_bool *stop)
{
	void *item = NULL;
	bool notify = false;

	pthread_mutex_lock(&q->lock);
	/*
	 * The stop flag is looked at under the lock that queue_kick() takes
	 * to wake us: set before the kick, it is seen either here or after
	 * the wait, never lost in between.
	 */
	while (q->len == 0 && !q->closed &&
	    (stop == NULL || !atomic_load(stop))) {
		q->waiting++;
		pthread_cond_wait(&q->nonempty, &q->lock);
		q->waiting--;
	}
	if (q->len > 0)
		item = pop_locked(q, &notify);
	pthread_mutex_unlock(&q->lock);
	if (notify)
		q->on_space(q->arg);
	return item;
}

void *
queue_try_pop(struct queue *q)
{
	void *item = NULL;
	bool notify = false;

	pthread_mutex_lock(&q->lock);
	if (q->len > 0)
		item = pop_locked(q, &notify);
	pthread_mutex_unlock(&q->lock);
	if (notify)
		q->on_space(q->arg);
	return item;
}

void
queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->nonempty);
	pthread_mutex_unlock(&q->lock);
}

void
queue_kick(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	pthread_cond_broadcast(&q->nonempty);
	pthread_mutex_unlock(&q->lock);
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
	n = q->len;
	pthread_mutex_unlock(&q->lock);
	return n;
}

bool
queue_busy_hint(const struct queue *q)
{
	return atomic_load_explicit(&q->len_hint, memory_order_relaxed) != 0;
}

size_t
queue_idle(struct queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->waiting;
	pthread_mutex_unlock(&q->lock);
	return n;
}
