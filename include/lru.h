/*
 * lru.h - the least-recently-used order of a cache, as an intrusive list.
 *
 * The file cache and the listing cache keep their entries in the same
 * kind of list: most recent at the head, the next victim at the tail.
 * An entry embeds a struct lru_link and gets back to itself with
 * LRU_ENTRY().  The caller holds its cache's lock around every call.
 * The same list, where only membership matters, holds the pages of one
 * watched folder in the listing cache.
 */
#ifndef LANHTTPD_LRU_H
#define LANHTTPD_LRU_H

#include <assert.h>
#include <stddef.h>

struct lru_link {
	struct lru_link	*prev, *next;
};

struct lru {
	struct lru_link	*head;		/* most recently used */
	struct lru_link	*tail;		/* the next to go */
};

/* The entry of type T whose member M is the link l (l may be NULL). */
#define LRU_ENTRY(l, T, M) \
	((l) == NULL ? (T *)NULL : (T *)(void *)((char *)(l) - offsetof(T, M)))

/* Takes l out of the list; it must be in it. */
static inline void
lru_remove(struct lru *q, struct lru_link *l)
{
	assert(l->prev != NULL || q->head == l);
	assert(l->next != NULL || q->tail == l);
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		q->head = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	else
		q->tail = l->prev;
	l->prev = l->next = NULL;
}

/* Puts l, which is not in the list, at its head. */
static inline void
lru_push(struct lru *q, struct lru_link *l)
{
	l->prev = NULL;
	l->next = q->head;
	if (q->head != NULL)
		q->head->prev = l;
	q->head = l;
	if (q->tail == NULL)
		q->tail = l;
}

/* Moves l, which is in the list, to its head. */
static inline void
lru_touch(struct lru *q, struct lru_link *l)
{
	if (q->head == l)
		return;
	lru_remove(q, l);
	lru_push(q, l);
}

#endif
