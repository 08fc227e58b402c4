/*
 * check_queue.c - unit tests for queue.h: FIFO order, the bounded ring
 * and its space callback, hand-overs taken first and never refused, the
 * idle consumers and the eventfd writes that wake them (one per item, all
 * of them on a wake_all or a close, never again after a forget), close
 * and drain, and multi-producer, multi-consumer stress runs in which
 * consumers sleep as workers do and no item or wake-up may be lost.
 */
#include "queue.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* Items are small integers, never 0 (a NULL pop means nothing waits). */
#define ITEM(n)		((void *)(uintptr_t)(n))
#define VAL(p)		((uintptr_t)(p))

/* No wait in these tests is unbounded; none should come near this. */
#define WAIT_MS		5000

static void
count_space(void *arg)
{
	atomic_fetch_add((atomic_uint *)arg, 1);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits up to WAIT_MS for exactly n consumers to be registered as idle. */
static void
wait_idle(struct queue *q, size_t n)
{
	for (int i = 0; i < WAIT_MS && queue_idle_hint(q) != n; i++)
		sleep_ms(1);
	ck_assert_msg(queue_idle_hint(q) == n,
	    "expected %zu idle consumers, got %zu", n, queue_idle_hint(q));
}

/* A waiter with a fresh non-blocking eventfd, not registered anywhere. */
static void
waiter_init(struct queue_waiter *w)
{
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_msg(w->efd >= 0, "eventfd: %s", strerror(errno));
	atomic_init(&w->idle, false);
	w->next = NULL;
}

static void
waiter_release(struct queue_waiter *w)
{
	close(w->efd);
	w->efd = -1;
}

/*
 * Reads and resets the eventfd's counter without blocking: the number of
 * writes since the last read, 0 when there was none.
 */
static uint64_t
efd_take(int efd)
{
	uint64_t n = 0;
	ssize_t r;

	while ((r = read(efd, &n, sizeof(n))) < 0 && errno == EINTR)
		;
	if (r < 0) {
		ck_assert_msg(errno == EAGAIN, "eventfd read: %s",
		    strerror(errno));
		return 0;
	}
	ck_assert_int_eq(r, sizeof(n));
	return n;
}

/*
 * How many of w[0..n) were woken; each must have been written to at most
 * once, and a woken waiter must be off the idle list.  Resets them all.
 */
static size_t
count_woken(struct queue_waiter *w, size_t n)
{
	size_t woken = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t c = efd_take(w[i].efd);

		ck_assert_msg(c <= 1, "waiter %zu was written to %llu times",
		    i, (unsigned long long)c);
		if (c == 1) {
			ck_assert_msg(!atomic_load(&w[i].idle),
			    "waiter %zu woken but still marked idle", i);
			woken++;
		}
	}
	return woken;
}

/* Waits up to timeout_ms for fd to become readable; true if it did. */
static bool
wait_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n;

	while ((n = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	return n == 1;
}

/*
 * Order and capacity.
 */

START_TEST(try_pop_returns_items_in_push_order)
{
	struct queue *q = queue_new(8, NULL, NULL);
	uintptr_t next = 1, want = 1;

	ck_assert_ptr_nonnull(q);
	for (int i = 0; i < 8; i++)
		ck_assert(queue_push(q, ITEM(next++)));
	for (int i = 0; i < 8; i++) {
		void *p = queue_try_pop(q);

		ck_assert_msg(VAL(p) == want, "pop %d: expected %lu, got %lu",
		    i, (unsigned long)want, (unsigned long)VAL(p));
		want++;
	}
	/* Uneven rounds make the ring wrap at every offset. */
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 5; i++)
			ck_assert(queue_push(q, ITEM(next++)));
		for (int i = 0; i < 5; i++) {
			void *p = queue_try_pop(q);

			ck_assert_msg(VAL(p) == want,
			    "round %d: expected %lu, got %lu", round,
			    (unsigned long)want, (unsigned long)VAL(p));
			want++;
		}
	}
	ck_assert_uint_eq(queue_len(q), 0);
	queue_free(q);
}
END_TEST

START_TEST(push_fails_when_full)
{
	struct queue *q = queue_new(4, NULL, NULL);

	ck_assert_ptr_nonnull(q);
	for (uintptr_t i = 1; i <= 4; i++)
		ck_assert(queue_push(q, ITEM(i)));
	ck_assert(!queue_push(q, ITEM(5)));
	ck_assert_uint_eq(queue_len(q), 4);
	/* The refused item did not overwrite anything. */
	for (uintptr_t i = 1; i <= 4; i++)
		ck_assert_uint_eq(VAL(queue_try_pop(q)), i);
	ck_assert_ptr_null(queue_try_pop(q));
	queue_free(q);
}
END_TEST

START_TEST(push_many_returns_number_taken)
{
	struct queue *q = queue_new(4, NULL, NULL);
	void *const v[5] = { ITEM(11), ITEM(12), ITEM(13), ITEM(14), ITEM(15) };

	ck_assert_ptr_nonnull(q);
	ck_assert(queue_push(q, ITEM(1)));
	ck_assert_uint_eq(queue_push_many(q, v, 5), 3);
	ck_assert_uint_eq(queue_len(q), 4);
	ck_assert_uint_eq(queue_push_many(q, v + 3, 2), 0);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 1);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 11);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 12);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 13);
	ck_assert_uint_eq(queue_push_many(q, v, 0), 0);
	ck_assert_uint_eq(queue_len(q), 0);
	queue_free(q);
}
END_TEST

START_TEST(try_pop_on_empty_returns_null)
{
	struct queue *q = queue_new(2, NULL, NULL);

	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_null(queue_try_pop(q));
	ck_assert(queue_push(q, ITEM(7)));
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 7);
	ck_assert_ptr_null(queue_try_pop(q));
	queue_free(q);
}
END_TEST

START_TEST(new_with_zero_capacity_fails)
{
	ck_assert_ptr_null(queue_new(0, NULL, NULL));
	queue_free(NULL);
}
END_TEST

/*
 * Hand-overs.
 */

START_TEST(try_pop_takes_handed_over_items_first)
{
	struct queue *q = queue_new(8, NULL, NULL);
	void *const a[2] = { ITEM(100), ITEM(101) };
	void *const b[1] = { ITEM(102) };
	const uintptr_t want[] = { 100, 101, 102, 1, 2, 3 };

	ck_assert_ptr_nonnull(q);
	ck_assert(queue_push(q, ITEM(1)));
	ck_assert(queue_push(q, ITEM(2)));
	ck_assert(queue_hand_over(q, a, 2));
	ck_assert(queue_push(q, ITEM(3)));
	ck_assert(queue_hand_over(q, b, 1));
	ck_assert_uint_eq(queue_len(q), 6);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		void *p = queue_try_pop(q);

		ck_assert_msg(VAL(p) == want[i],
		    "pop %zu: expected %lu, got %lu", i,
		    (unsigned long)want[i], (unsigned long)VAL(p));
	}
	ck_assert_ptr_null(queue_try_pop(q));
	/* A hand-over while ring items wait still goes first. */
	ck_assert(queue_push(q, ITEM(4)));
	ck_assert(queue_hand_over(q, b, 1));
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 102);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 4);
	queue_free(q);
}
END_TEST

START_TEST(hand_over_ignores_the_ring_bound)
{
	enum { CAP = 4, HANDED = 10 * CAP };
	struct queue *q = queue_new(CAP, NULL, NULL);
	void *v[HANDED];
	uintptr_t want;

	ck_assert_ptr_nonnull(q);
	for (size_t i = 0; i < HANDED; i++)
		v[i] = ITEM(1000 + i);
	/* A full ring does not stop a hand-over... */
	for (uintptr_t i = 1; i <= CAP; i++)
		ck_assert(queue_push(q, ITEM(i)));
	ck_assert(!queue_push(q, ITEM(CAP + 1)));
	ck_assert(queue_hand_over(q, v, HANDED / 2));
	/* ...and handed-over items take no room from the ring. */
	ck_assert(queue_hand_over(q, v + HANDED / 2, HANDED - HANDED / 2));
	ck_assert_uint_eq(queue_len(q), CAP + HANDED);
	ck_assert(queue_busy_hint(q));
	want = 1000;
	for (size_t i = 0; i < HANDED; i++, want++)
		ck_assert_uint_eq(VAL(queue_try_pop(q)), want);
	ck_assert_uint_eq(queue_len(q), CAP);
	for (uintptr_t i = 1; i <= CAP; i++)
		ck_assert_uint_eq(VAL(queue_try_pop(q)), i);
	ck_assert_ptr_null(queue_try_pop(q));
	ck_assert_uint_eq(queue_len(q), 0);
	ck_assert(!queue_busy_hint(q));
	/* The grown ring keeps its order when it wraps and grows again. */
	for (int round = 0; round < 5; round++) {
		ck_assert(queue_hand_over(q, v, HANDED));
		for (size_t i = 0; i < HANDED - 3; i++)
			ck_assert_uint_eq(VAL(queue_try_pop(q)), 1000 + i);
		ck_assert_uint_eq(queue_len(q), 3);
		while (queue_try_pop(q) != NULL)
			;
	}
	queue_free(q);
}
END_TEST

START_TEST(hand_over_grows_while_items_wrap)
{
	struct queue *q = queue_new(1, NULL, NULL);
	uintptr_t next = 1, want = 1;

	ck_assert_ptr_nonnull(q);
	/*
	 * Taking fewer than are added makes the handed-over ring wrap
	 * before each time it grows, so growing must copy in order.
	 */
	for (int round = 0; round < 200; round++) {
		void *v[7];

		for (size_t i = 0; i < 7; i++)
			v[i] = ITEM(next++);
		ck_assert(queue_hand_over(q, v, 7));
		for (int i = 0; i < 5; i++, want++)
			ck_assert_uint_eq(VAL(queue_try_pop(q)), want);
	}
	ck_assert_uint_eq(queue_len(q), next - want);
	while (want < next)
		ck_assert_uint_eq(VAL(queue_try_pop(q)), want++);
	ck_assert_ptr_null(queue_try_pop(q));
	queue_free(q);
}
END_TEST

START_TEST(hand_over_of_nothing_changes_nothing)
{
	struct queue *q = queue_new(2, NULL, NULL);
	struct queue_waiter w;

	ck_assert_ptr_nonnull(q);
	waiter_init(&w);
	ck_assert(queue_idle_begin(q, &w));
	ck_assert(queue_hand_over(q, NULL, 0));
	ck_assert_uint_eq(queue_len(q), 0);
	ck_assert(!queue_busy_hint(q));
	ck_assert_uint_eq(efd_take(w.efd), 0);
	ck_assert_uint_eq(queue_idle_hint(q), 1);
	queue_forget(q, &w);
	waiter_release(&w);
	queue_free(q);
}
END_TEST

START_TEST(hand_over_after_close_is_accepted)
{
	struct queue *q = queue_new(2, NULL, NULL);
	void *const v[2] = { ITEM(5), ITEM(6) };

	ck_assert_ptr_nonnull(q);
	queue_close(q);
	/* Never refused: a worker leaving at shutdown still hands over. */
	ck_assert(queue_hand_over(q, v, 2));
	ck_assert_uint_eq(queue_len(q), 2);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 5);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 6);
	ck_assert_ptr_null(queue_try_pop(q));
	queue_free(q);
}
END_TEST

/*
 * The space callback.
 */

START_TEST(space_callback_fires_once_after_failed_push)
{
	atomic_uint calls = 0;
	struct queue *q = queue_new(2, count_space, &calls);

	ck_assert_ptr_nonnull(q);
	ck_assert(queue_push(q, ITEM(1)));
	ck_assert(queue_push(q, ITEM(2)));
	ck_assert(!queue_push(q, ITEM(3)));
	ck_assert(!queue_push(q, ITEM(3)));	/* still one notice owed */
	ck_assert_uint_eq(atomic_load(&calls), 0);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 1);
	ck_assert_uint_eq(atomic_load(&calls), 1);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 2);
	ck_assert_uint_eq(atomic_load(&calls), 1);
	queue_free(q);
}
END_TEST

START_TEST(space_callback_silent_without_failed_push)
{
	atomic_uint calls = 0;
	struct queue *q = queue_new(2, count_space, &calls);
	void *const v[1] = { ITEM(9) };

	ck_assert_ptr_nonnull(q);
	for (int round = 0; round < 10; round++) {
		ck_assert(queue_push(q, ITEM(1)));
		ck_assert(queue_push(q, ITEM(2)));
		/* A hand-over beyond the bound is not a failed push. */
		ck_assert(queue_hand_over(q, v, 1));
		ck_assert_ptr_nonnull(queue_try_pop(q));
		ck_assert_ptr_nonnull(queue_try_pop(q));
		ck_assert_ptr_nonnull(queue_try_pop(q));
	}
	/* A push_many of nothing is not a failed push either. */
	ck_assert_uint_eq(queue_push_many(q, NULL, 0), 0);
	ck_assert(queue_push(q, ITEM(1)));
	ck_assert_ptr_nonnull(queue_try_pop(q));
	ck_assert_uint_eq(atomic_load(&calls), 0);
	queue_free(q);
}
END_TEST

START_TEST(space_callback_rearms_after_each_failure)
{
	atomic_uint calls = 0;
	struct queue *q = queue_new(1, count_space, &calls);
	void *const v[2] = { ITEM(5), ITEM(6) };

	ck_assert_ptr_nonnull(q);
	for (int round = 1; round <= 3; round++) {
		ck_assert(queue_push(q, ITEM(1)));
		ck_assert(!queue_push(q, ITEM(2)));
		ck_assert_uint_eq(VAL(queue_try_pop(q)), 1);
		ck_assert_uint_eq(atomic_load(&calls), (unsigned)round);
	}
	/* A partial push_many counts as a failed push. */
	ck_assert_uint_eq(queue_push_many(q, v, 2), 1);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 5);
	ck_assert_uint_eq(atomic_load(&calls), 4);
	queue_free(q);
}
END_TEST

START_TEST(space_callback_waits_for_a_pop_from_the_ring)
{
	atomic_uint calls = 0;
	struct queue *q = queue_new(1, count_space, &calls);
	void *const v[2] = { ITEM(50), ITEM(51) };

	ck_assert_ptr_nonnull(q);
	ck_assert(queue_push(q, ITEM(1)));
	ck_assert(!queue_push(q, ITEM(2)));
	ck_assert(queue_hand_over(q, v, 2));
	/* Taking a handed-over item makes no room in the ring. */
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 50);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 51);
	ck_assert_uint_eq(atomic_load(&calls), 0);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 1);
	ck_assert_uint_eq(atomic_load(&calls), 1);
	queue_free(q);
}
END_TEST

struct locked_probe {
	struct queue	*q;
	atomic_uint	 calls;
	size_t		 len_seen;
};

static void
probe_space(void *arg)
{
	struct locked_probe *p = arg;

	/* Deadlocks (and times out) if the callback ran under the lock. */
	p->len_seen = queue_len(p->q);
	atomic_fetch_add(&p->calls, 1);
}

START_TEST(space_callback_runs_outside_lock)
{
	struct locked_probe probe = { .len_seen = 99 };

	probe.q = queue_new(1, probe_space, &probe);
	ck_assert_ptr_nonnull(probe.q);
	ck_assert(queue_push(probe.q, ITEM(1)));
	ck_assert(!queue_push(probe.q, ITEM(2)));
	ck_assert_uint_eq(VAL(queue_try_pop(probe.q)), 1);
	ck_assert_uint_eq(atomic_load(&probe.calls), 1);
	ck_assert_uint_eq(probe.len_seen, 0);
	queue_free(probe.q);
}
END_TEST

START_TEST(null_space_callback_allowed)
{
	struct queue *q = queue_new(1, NULL, NULL);

	ck_assert_ptr_nonnull(q);
	ck_assert(queue_push(q, ITEM(1)));
	ck_assert(!queue_push(q, ITEM(2)));
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 1);
	queue_free(q);
}
END_TEST

/*
 * Registering as idle.
 */

START_TEST(idle_begin_registers_when_nothing_waits)
{
	struct queue *q = queue_new(4, NULL, NULL);
	struct queue_waiter w[2];

	ck_assert_ptr_nonnull(q);
	waiter_init(&w[0]);
	waiter_init(&w[1]);
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	ck_assert(queue_idle_begin(q, &w[0]));
	ck_assert(atomic_load(&w[0].idle));
	ck_assert_uint_eq(queue_idle_hint(q), 1);
	ck_assert(queue_idle_begin(q, &w[1]));
	ck_assert_uint_eq(queue_idle_hint(q), 2);
	/* Registering twice is harmless: one entry, one wake-up. */
	ck_assert(queue_idle_begin(q, &w[0]));
	ck_assert_uint_eq(queue_idle_hint(q), 2);
	ck_assert(queue_push(q, ITEM(1)));
	ck_assert(queue_push(q, ITEM(2)));
	ck_assert(queue_push(q, ITEM(3)));
	ck_assert_uint_eq(count_woken(w, 2), 2);
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	/* Registering does not touch the eventfd. */
	for (uintptr_t i = 1; i <= 3; i++)
		ck_assert_uint_eq(VAL(queue_try_pop(q)), i);
	ck_assert(queue_idle_begin(q, &w[0]));
	ck_assert_uint_eq(efd_take(w[0].efd), 0);
	queue_forget(q, &w[0]);
	waiter_release(&w[0]);
	waiter_release(&w[1]);
	queue_free(q);
}
END_TEST

START_TEST(idle_begin_refuses_when_an_item_waits)
{
	struct queue *q = queue_new(4, NULL, NULL);
	void *const v[1] = { ITEM(2) };
	struct queue_waiter w;

	ck_assert_ptr_nonnull(q);
	waiter_init(&w);
	ck_assert(queue_push(q, ITEM(1)));
	ck_assert(!queue_idle_begin(q, &w));
	ck_assert(!atomic_load(&w.idle));
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 1);
	/* A handed-over item counts as waiting too. */
	ck_assert(queue_hand_over(q, v, 1));
	ck_assert(!queue_idle_begin(q, &w));
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 2);
	ck_assert(queue_idle_begin(q, &w));
	ck_assert_uint_eq(queue_idle_hint(q), 1);
	ck_assert_uint_eq(efd_take(w.efd), 0);
	queue_idle_end(q, &w);
	waiter_release(&w);
	queue_free(q);
}
END_TEST

START_TEST(idle_begin_refuses_when_closed)
{
	struct queue *q = queue_new(4, NULL, NULL);
	struct queue_waiter w;

	ck_assert_ptr_nonnull(q);
	waiter_init(&w);
	ck_assert(queue_push(q, ITEM(1)));
	queue_close(q);
	ck_assert(!queue_idle_begin(q, &w));
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 1);
	/* Empty and closed: nothing will come, so no sleeping. */
	ck_assert(!queue_idle_begin(q, &w));
	ck_assert(!atomic_load(&w.idle));
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	waiter_release(&w);
	queue_free(q);
}
END_TEST

START_TEST(idle_end_unregisters)
{
	struct queue *q = queue_new(4, NULL, NULL);
	struct queue_waiter w[3];

	ck_assert_ptr_nonnull(q);
	for (int i = 0; i < 3; i++) {
		waiter_init(&w[i]);
		ck_assert(queue_idle_begin(q, &w[i]));
	}
	/* From the middle of the list: the others stay on it. */
	queue_idle_end(q, &w[1]);
	ck_assert(!atomic_load(&w[1].idle));
	ck_assert_uint_eq(queue_idle_hint(q), 2);
	for (uintptr_t i = 1; i <= 3; i++)
		ck_assert(queue_push(q, ITEM(i)));
	ck_assert_uint_eq(efd_take(w[1].efd), 0);
	ck_assert_uint_eq(count_woken(w, 3), 2);
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	/* Ending an idle spell that never began is harmless too. */
	queue_idle_end(q, &w[1]);
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	for (int i = 0; i < 3; i++)
		waiter_release(&w[i]);
	queue_free(q);
}
END_TEST

START_TEST(idle_end_after_a_push_took_the_waiter)
{
	struct queue *q = queue_new(4, NULL, NULL);
	struct queue_waiter w[2];

	ck_assert_ptr_nonnull(q);
	waiter_init(&w[0]);
	waiter_init(&w[1]);
	ck_assert(queue_idle_begin(q, &w[0]));
	ck_assert(queue_idle_begin(q, &w[1]));
	ck_assert(queue_push(q, ITEM(1)));
	/* The push took exactly one waiter off and wrote to it. */
	ck_assert_uint_eq(queue_idle_hint(q), 1);
	ck_assert(atomic_load(&w[0].idle) != atomic_load(&w[1].idle));
	for (int i = 0; i < 2; i++) {
		if (atomic_load(&w[i].idle))
			continue;
		/* Nothing left to undo: the other waiter stays idle. */
		queue_idle_end(q, &w[i]);
		ck_assert_uint_eq(queue_idle_hint(q), 1);
		ck_assert_uint_eq(efd_take(w[i].efd), 1);
		ck_assert_uint_eq(VAL(queue_try_pop(q)), 1);
		/* It may register again, and the next push finds both. */
		ck_assert(queue_idle_begin(q, &w[i]));
		ck_assert_uint_eq(queue_idle_hint(q), 2);
		break;
	}
	ck_assert(queue_push(q, ITEM(2)));
	ck_assert(queue_push(q, ITEM(3)));
	ck_assert_uint_eq(count_woken(w, 2), 2);
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	waiter_release(&w[0]);
	waiter_release(&w[1]);
	queue_free(q);
}
END_TEST

/*
 * Wake-ups: the queue writes to one idle waiter per item it takes, to all
 * of them on queue_wake_all() or queue_close().
 */

enum wake_op {
	OP_PUSH,		/* n single pushes */
	OP_PUSH_MANY,		/* one push_many of n */
	OP_HAND_OVER,		/* one hand_over of n */
	OP_WAKE_ALL,
	OP_CLOSE,
};

struct wake_case {
	const char	*name;
	size_t		 cap;
	size_t		 nidle;		/* waiters registered first */
	size_t		 prefill;	/* ring items pushed before that */
	enum wake_op	 op;
	size_t		 n;
	size_t		 want_len;	/* queue_len() afterwards */
	size_t		 want_woken;
};

static const struct wake_case wake_cases[] = {
	{ "push 2 with 3 idle", 8, 3, 0, OP_PUSH, 2, 2, 2 },
	{ "push 3 with 3 idle", 8, 3, 0, OP_PUSH, 3, 3, 3 },
	{ "push 5 with 3 idle", 8, 3, 0, OP_PUSH, 5, 5, 3 },
	{ "push 1 with none idle", 8, 0, 0, OP_PUSH, 1, 1, 0 },
	{ "push_many 2 with 3 idle", 8, 3, 0, OP_PUSH_MANY, 2, 2, 2 },
	{ "push_many 4 with 3 idle", 8, 3, 0, OP_PUSH_MANY, 4, 4, 3 },
	{ "push_many 3, room for 2", 2, 3, 0, OP_PUSH_MANY, 3, 2, 2 },
	{ "push_many 0 with 3 idle", 8, 3, 0, OP_PUSH_MANY, 0, 0, 0 },
	{ "hand_over 1 with 3 idle", 8, 3, 0, OP_HAND_OVER, 1, 1, 1 },
	{ "hand_over 2 with 3 idle", 8, 3, 0, OP_HAND_OVER, 2, 2, 2 },
	{ "hand_over 5 with 3 idle", 8, 3, 0, OP_HAND_OVER, 5, 5, 3 },
	{ "hand_over 10x cap with 3 idle", 2, 3, 0, OP_HAND_OVER, 20, 20, 3 },
	{ "hand_over 0 with 3 idle", 8, 3, 0, OP_HAND_OVER, 0, 0, 0 },
	{ "wake_all with 3 idle", 8, 3, 0, OP_WAKE_ALL, 0, 0, 3 },
	{ "wake_all with none idle", 8, 0, 0, OP_WAKE_ALL, 0, 0, 0 },
	{ "close with 3 idle", 8, 3, 0, OP_CLOSE, 0, 0, 3 },
	{ "close with 1 idle", 8, 1, 0, OP_CLOSE, 0, 0, 1 },
};

START_TEST(wakes_one_idle_waiter_per_item_added)
{
	const struct wake_case *c = &wake_cases[_i];
	struct queue *q = queue_new(c->cap, NULL, NULL);
	struct queue_waiter w[3];
	void *v[32];
	size_t woken, taken = 0;

	ck_assert_ptr_nonnull(q);
	ck_assert(c->nidle <= 3 && c->n <= 32);
	for (size_t i = 0; i < c->n; i++)
		v[i] = ITEM(i + 1);
	for (size_t i = 0; i < 3; i++) {
		waiter_init(&w[i]);
		if (i < c->nidle)
			ck_assert(queue_idle_begin(q, &w[i]));
	}
	switch (c->op) {
	case OP_PUSH:
		for (size_t i = 0; i < c->n; i++)
			taken += queue_push(q, v[i]);
		break;
	case OP_PUSH_MANY:
		taken = queue_push_many(q, v, c->n);
		break;
	case OP_HAND_OVER:
		ck_assert(queue_hand_over(q, v, c->n));
		taken = c->n;
		break;
	case OP_WAKE_ALL:
		queue_wake_all(q);
		break;
	case OP_CLOSE:
		queue_close(q);
		break;
	}
	woken = count_woken(w, 3);
	ck_assert_msg(woken == c->want_woken,
	    "%s: expected %zu waiters woken, got %zu", c->name,
	    c->want_woken, woken);
	ck_assert_msg(queue_len(q) == c->want_len && taken == c->want_len,
	    "%s: expected %zu items taken, took %zu, len %zu", c->name,
	    c->want_len, taken, queue_len(q));
	ck_assert_msg(queue_idle_hint(q) == c->nidle - woken,
	    "%s: expected %zu still idle, hint says %zu", c->name,
	    c->nidle - woken, queue_idle_hint(q));
	/* Whoever is still idle was not written to; end their spell. */
	for (size_t i = 0; i < 3; i++) {
		queue_idle_end(q, &w[i]);
		ck_assert_uint_eq(efd_take(w[i].efd), 0);
		waiter_release(&w[i]);
	}
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	queue_free(q);
}
END_TEST

START_TEST(failed_push_wakes_nobody)
{
	struct queue *q = queue_new(1, NULL, NULL);
	void *const v[2] = { ITEM(2), ITEM(3) };
	struct queue_waiter w[3];

	ck_assert_ptr_nonnull(q);
	for (int i = 0; i < 3; i++) {
		waiter_init(&w[i]);
		ck_assert(queue_idle_begin(q, &w[i]));
	}
	ck_assert(queue_push(q, ITEM(1)));
	ck_assert_uint_eq(count_woken(w, 3), 1);
	ck_assert(!queue_push(q, ITEM(2)));
	ck_assert_uint_eq(queue_push_many(q, v, 2), 0);
	ck_assert_uint_eq(count_woken(w, 3), 0);
	ck_assert_uint_eq(queue_idle_hint(q), 2);
	queue_close(q);
	ck_assert_uint_eq(count_woken(w, 3), 2);
	/* A push after close wakes nobody either (nobody can be idle). */
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 1);
	ck_assert(!queue_push(q, ITEM(4)));
	ck_assert_uint_eq(count_woken(w, 3), 0);
	for (int i = 0; i < 3; i++)
		waiter_release(&w[i]);
	queue_free(q);
}
END_TEST

START_TEST(wake_all_leaves_items_and_waiters_usable)
{
	struct queue *q = queue_new(4, NULL, NULL);
	struct queue_waiter w[2];

	ck_assert_ptr_nonnull(q);
	waiter_init(&w[0]);
	waiter_init(&w[1]);
	ck_assert(queue_idle_begin(q, &w[0]));
	ck_assert(queue_idle_begin(q, &w[1]));
	queue_wake_all(q);
	ck_assert_uint_eq(count_woken(w, 2), 2);
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	/* The queue stays open and the waiters may sleep again. */
	ck_assert(!queue_is_closed(q));
	queue_idle_end(q, &w[0]);
	queue_idle_end(q, &w[1]);
	ck_assert(queue_idle_begin(q, &w[0]));
	ck_assert(queue_idle_begin(q, &w[1]));
	ck_assert(queue_push(q, ITEM(1)));
	ck_assert_uint_eq(count_woken(w, 2), 1);
	/* A second wake_all reaches only who is still idle. */
	queue_wake_all(q);
	ck_assert_uint_eq(count_woken(w, 2), 1);
	queue_wake_all(q);
	ck_assert_uint_eq(count_woken(w, 2), 0);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 1);
	waiter_release(&w[0]);
	waiter_release(&w[1]);
	queue_free(q);
}
END_TEST

START_TEST(close_wakes_idle_waiters_and_refuses_pushes)
{
	struct queue *q = queue_new(4, NULL, NULL);
	void *const v[2] = { ITEM(1), ITEM(2) };
	struct queue_waiter w[3];

	ck_assert_ptr_nonnull(q);
	for (int i = 0; i < 3; i++) {
		waiter_init(&w[i]);
		ck_assert(queue_idle_begin(q, &w[i]));
	}
	ck_assert(!queue_is_closed(q));
	queue_close(q);
	ck_assert(queue_is_closed(q));
	ck_assert_uint_eq(count_woken(w, 3), 3);
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	for (int i = 0; i < 3; i++) {
		queue_idle_end(q, &w[i]);
		ck_assert(!queue_idle_begin(q, &w[i]));
	}
	ck_assert(!queue_push(q, ITEM(1)));
	ck_assert_uint_eq(queue_push_many(q, v, 2), 0);
	ck_assert_uint_eq(queue_len(q), 0);
	ck_assert_uint_eq(count_woken(w, 3), 0);
	/* Closing twice is harmless. */
	queue_close(q);
	ck_assert(queue_is_closed(q));
	for (int i = 0; i < 3; i++)
		waiter_release(&w[i]);
	queue_free(q);
}
END_TEST

START_TEST(forget_stops_writes_to_the_waiter)
{
	struct queue *q = queue_new(8, NULL, NULL);
	void *const v[3] = { ITEM(10), ITEM(11), ITEM(12) };
	struct queue_waiter w[3];

	ck_assert_ptr_nonnull(q);
	for (int i = 0; i < 3; i++) {
		waiter_init(&w[i]);
		ck_assert(queue_idle_begin(q, &w[i]));
	}
	/* The middle of the list, then its top. */
	queue_forget(q, &w[1]);
	ck_assert(!atomic_load(&w[1].idle));
	ck_assert_uint_eq(queue_idle_hint(q), 2);
	queue_forget(q, &w[2]);
	ck_assert_uint_eq(queue_idle_hint(q), 1);
	for (uintptr_t i = 1; i <= 3; i++)
		ck_assert(queue_push(q, ITEM(i)));
	ck_assert(queue_hand_over(q, v, 3));
	queue_wake_all(q);
	ck_assert_uint_eq(efd_take(w[1].efd), 0);
	ck_assert_uint_eq(efd_take(w[2].efd), 0);
	ck_assert_uint_eq(efd_take(w[0].efd), 1);
	/* Forgetting a waiter that is not idle does nothing. */
	queue_forget(q, &w[0]);
	queue_forget(q, &w[1]);
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	/* A forgotten waiter may still come back. */
	while (queue_try_pop(q) != NULL)
		;
	ck_assert(queue_idle_begin(q, &w[1]));
	ck_assert(queue_push(q, ITEM(4)));
	ck_assert_uint_eq(efd_take(w[1].efd), 1);
	/* Forgotten before a close, never written to by it. */
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 4);
	ck_assert(queue_idle_begin(q, &w[2]));
	queue_forget(q, &w[2]);
	queue_close(q);
	ck_assert_uint_eq(efd_take(w[2].efd), 0);
	for (int i = 0; i < 3; i++)
		waiter_release(&w[i]);
	queue_free(q);
}
END_TEST

/*
 * Close and snapshots.
 */

START_TEST(close_drains_remaining_then_null)
{
	struct queue *q = queue_new(4, NULL, NULL);
	void *const v[1] = { ITEM(9) };

	ck_assert_ptr_nonnull(q);
	for (uintptr_t i = 1; i <= 3; i++)
		ck_assert(queue_push(q, ITEM(i)));
	ck_assert(queue_hand_over(q, v, 1));
	queue_close(q);
	ck_assert_uint_eq(queue_len(q), 4);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 9);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 1);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 2);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 3);
	ck_assert_ptr_null(queue_try_pop(q));
	ck_assert_ptr_null(queue_try_pop(q));
	ck_assert_uint_eq(queue_len(q), 0);
	queue_free(q);
}
END_TEST

START_TEST(push_after_close_fails)
{
	struct queue *q = queue_new(4, NULL, NULL);
	void *const v[2] = { ITEM(1), ITEM(2) };

	ck_assert_ptr_nonnull(q);
	queue_close(q);
	ck_assert(!queue_push(q, ITEM(1)));
	ck_assert_uint_eq(queue_push_many(q, v, 2), 0);
	ck_assert_uint_eq(queue_len(q), 0);
	ck_assert(!queue_busy_hint(q));
	ck_assert_ptr_null(queue_try_pop(q));
	queue_free(q);
}
END_TEST

START_TEST(len_and_hint_snapshots)
{
	struct queue *q = queue_new(8, NULL, NULL);
	void *const v[3] = { ITEM(20), ITEM(21), ITEM(22) };
	struct queue_waiter w[2];

	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(queue_len(q), 0);
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	ck_assert(!queue_busy_hint(q));
	for (uintptr_t i = 1; i <= 5; i++) {
		ck_assert(queue_push(q, ITEM(i)));
		ck_assert_uint_eq(queue_len(q), i);
		ck_assert(queue_busy_hint(q));
	}
	ck_assert(queue_hand_over(q, v, 3));
	ck_assert_uint_eq(queue_len(q), 8);
	ck_assert_ptr_nonnull(queue_try_pop(q));
	ck_assert_uint_eq(queue_len(q), 7);
	while (queue_try_pop(q) != NULL)
		;
	ck_assert_uint_eq(queue_len(q), 0);
	ck_assert(!queue_busy_hint(q));
	/* Only a handed-over item waits: still busy. */
	ck_assert(queue_hand_over(q, v, 1));
	ck_assert(queue_busy_hint(q));
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 20);
	ck_assert(!queue_busy_hint(q));
	for (int i = 0; i < 2; i++) {
		waiter_init(&w[i]);
		ck_assert(queue_idle_begin(q, &w[i]));
		ck_assert_uint_eq(queue_idle_hint(q), (size_t)i + 1);
	}
	ck_assert_uint_eq(queue_len(q), 0);
	ck_assert(queue_push(q, ITEM(9)));
	ck_assert_uint_eq(queue_idle_hint(q), 1);
	queue_close(q);
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	ck_assert_uint_eq(count_woken(w, 2), 2);
	ck_assert_uint_eq(queue_len(q), 1);
	for (int i = 0; i < 2; i++)
		waiter_release(&w[i]);
	queue_free(q);
}
END_TEST

/*
 * Consumers in threads, sleeping on their eventfds as workers do.
 */

struct sleeper {
	pthread_t		 th;
	struct queue		*q;
	struct queue_waiter	 w;
	bool			 registered;	/* idle_begin said sleep */
	bool			 woken;		/* by the eventfd, in time */
	bool			 may_sleep_after;	/* idle_begin, after */
	void			*got;		/* what try_pop gave after */
};

/*
 * One idle spell of a worker: register, sleep on the eventfd (bounded),
 * end the spell, drain the eventfd and look for an item.
 */
static void *
sleep_once(void *arg)
{
	struct sleeper *s = arg;

	s->registered = queue_idle_begin(s->q, &s->w);
	if (!s->registered)
		return NULL;
	s->woken = wait_readable(s->w.efd, WAIT_MS);
	queue_idle_end(s->q, &s->w);
	(void)efd_take(s->w.efd);
	s->got = queue_try_pop(s->q);
	s->may_sleep_after = queue_idle_begin(s->q, &s->w);
	queue_forget(s->q, &s->w);
	return NULL;
}

static void
sleepers_start(struct sleeper *s, size_t n, struct queue *q)
{
	for (size_t i = 0; i < n; i++) {
		s[i] = (struct sleeper){ .q = q };
		waiter_init(&s[i].w);
		ck_assert_int_eq(pthread_create(&s[i].th, NULL, sleep_once,
		    &s[i]), 0);
	}
	wait_idle(q, n);
}

/* Joins them all before any check can end the test. */
static void
sleepers_join(struct sleeper *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(pthread_join(s[i].th, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(s[i].registered, "sleeper %zu never slept", i);
		ck_assert_msg(s[i].woken, "sleeper %zu was not woken", i);
		waiter_release(&s[i].w);
	}
}

START_TEST(sleeping_consumer_gets_pushed_item)
{
	struct queue *q = queue_new(4, NULL, NULL);
	struct sleeper s;

	ck_assert_ptr_nonnull(q);
	sleepers_start(&s, 1, q);
	ck_assert(queue_push(q, ITEM(42)));
	sleepers_join(&s, 1);
	ck_assert_uint_eq(VAL(s.got), 42);
	ck_assert(s.may_sleep_after);
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	queue_free(q);
}
END_TEST

START_TEST(sleeping_consumers_get_handed_over_items)
{
	struct queue *q = queue_new(1, NULL, NULL);
	void *const v[3] = { ITEM(1), ITEM(2), ITEM(3) };
	struct sleeper s[3];
	uintptr_t sum = 0;

	ck_assert_ptr_nonnull(q);
	sleepers_start(s, 3, q);
	ck_assert(queue_hand_over(q, v, 3));
	sleepers_join(s, 3);
	/* Each woke and took one, whichever it was. */
	for (int i = 0; i < 3; i++) {
		ck_assert_ptr_nonnull(s[i].got);
		sum += VAL(s[i].got);
	}
	ck_assert_uint_eq(sum, 6);
	ck_assert_uint_eq(queue_len(q), 0);
	queue_free(q);
}
END_TEST

START_TEST(wake_all_wakes_sleeping_consumers)
{
	struct queue *q = queue_new(4, NULL, NULL);
	struct sleeper s[4];

	ck_assert_ptr_nonnull(q);
	sleepers_start(s, 4, q);
	queue_wake_all(q);
	sleepers_join(s, 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_ptr_null(s[i].got);
		ck_assert(s[i].may_sleep_after);
	}
	ck_assert(!queue_is_closed(q));
	queue_free(q);
}
END_TEST

START_TEST(close_wakes_sleeping_consumers)
{
	struct queue *q = queue_new(4, NULL, NULL);
	struct sleeper s[4];

	ck_assert_ptr_nonnull(q);
	sleepers_start(s, 4, q);
	queue_close(q);
	sleepers_join(s, 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_ptr_null(s[i].got);
		ck_assert_msg(!s[i].may_sleep_after,
		    "sleeper %d may sleep after close", i);
	}
	ck_assert_uint_eq(queue_idle_hint(q), 0);
	queue_free(q);
}
END_TEST

struct churner {
	pthread_t	 th;
	struct queue	*q;
	atomic_bool	 stop;
	atomic_ulong	 rounds;
};

/* Pushes and takes back one item, again and again. */
static void *
churn(void *arg)
{
	struct churner *c = arg;

	while (!atomic_load(&c->stop)) {
		(void)queue_push(c->q, ITEM(1));
		(void)queue_try_pop(c->q);
		atomic_fetch_add(&c->rounds, 1);
	}
	return NULL;
}

START_TEST(forget_is_final_while_pushes_race)
{
	struct churner c = { .q = queue_new(4, NULL, NULL) };
	struct queue_waiter w;
	double end = now_s() + 1.0;
	unsigned forgotten = 0, late = 0;

	ck_assert_ptr_nonnull(c.q);
	atomic_init(&c.stop, false);
	atomic_init(&c.rounds, 0);
	waiter_init(&w);
	ck_assert_int_eq(pthread_create(&c.th, NULL, churn, &c), 0);
	while (forgotten < 2000 && now_s() < end) {
		unsigned long r;

		if (!queue_idle_begin(c.q, &w)) {
			sched_yield();
			continue;
		}
		queue_forget(c.q, &w);
		/* Whatever was written came before the forget returned. */
		(void)efd_take(w.efd);
		r = atomic_load(&c.rounds);
		while (atomic_load(&c.rounds) < r + 3 && now_s() < end)
			sched_yield();
		if (efd_take(w.efd) != 0)
			late++;
		forgotten++;
	}
	atomic_store(&c.stop, true);
	ck_assert_int_eq(pthread_join(c.th, NULL), 0);
	ck_assert_msg(late == 0, "written to %u times after a forget "
	    "(of %u)", late, forgotten);
	ck_assert_msg(forgotten > 0, "never found the queue empty");
	ck_assert_uint_eq(queue_idle_hint(c.q), 0);
	waiter_release(&w);
	queue_free(c.q);
}
END_TEST

/*
 * Stress: producers push, push_many and hand over; consumers take items
 * and, when there is none, sleep in their own epoll set on their eventfd
 * as workers do.  Every item must arrive exactly once, and no consumer
 * may sleep through its whole bounded wait while items are to come and
 * nobody takes any: that is a lost wake-up, and it ends the run with a
 * failure after that one wait instead of hanging.  A consumer low on the
 * idle stack may legitimately sleep out its wait while the others keep
 * up, so a timeout alone is no failure.
 */

#define STRESS_WAIT_MS	2000	/* one sleep; expiring means a stall */
#define STRESS_LIMIT_S	10.0	/* the whole run */
#define STRESS_MAXPROD	4
#define STRESS_MAXCONS	8
#define STRESS_BATCH	8

struct stress_case {
	const char	*name;
	unsigned	 nprod, ncons;
	unsigned	 per_prod;	/* items each producer adds */
	size_t		 cap;
	unsigned	 push_pct;	/* share of single pushes */
	unsigned	 many_pct;	/* of push_many; the rest hand over */
	unsigned	 pause_every;	/* items between short pauses, or 0 */
};

/*
 * The pauses let every consumer run dry and sleep where producers would
 * otherwise outpace them, so that wake-ups are tested, not just pops.
 */
static const struct stress_case stress_cases[] = {
	{ "4 producers pushing, 4 consumers", 4, 4, 50000, 64, 50, 50, 0 },
	{ "2 producers mixing hand-overs, 4 consumers", 2, 4, 50000, 16,
	    40, 40, 0 },
	{ "2 producers mixing hand-overs, 1 consumer", 2, 1, 25000, 4,
	    40, 40, 0 },
	{ "2 producers handing over only, 8 consumers", 2, 8, 25000, 4,
	    0, 0, 32 },
};

struct stress {
	const struct stress_case *c;
	struct queue	*q;
	size_t		 total;
	atomic_uchar	*seen;		/* per item, times received */
	atomic_size_t	 received;
	atomic_bool	 abort;		/* a failure, or out of time */
	double		 end;		/* now_s() by which to give up */
	atomic_uint	 space_calls;
};

struct producer {
	pthread_t	 th;
	struct stress	*st;
	unsigned	 id;
	uint32_t	 rnd;
	unsigned	 next_pause;
	unsigned long	 failures;	/* pushes that took less than asked */
	bool		 gave_up;
};

struct consumer {
	pthread_t	 th;
	struct stress	*st;
	unsigned	 id;
	size_t		 got;
	bool		 in_order;	/* per producer and path */
	bool		 bad_item;
	unsigned long	 sleeps, wakeups, timeouts, stalls;
	unsigned long	 writes;	/* counted on its eventfd */
	size_t		 stall_received, stall_len;
	const char	*error;
};

/*
 * An item carries its producer's index and whether it was handed over:
 * (index << 1 | handed), index counting from 1 over all producers.
 */
static void *
stress_item(const struct stress *st, unsigned prod, unsigned i, bool handed)
{
	uintptr_t idx = (uintptr_t)prod * st->c->per_prod + i + 1;

	return ITEM(idx << 1 | (handed ? 1 : 0));
}

static bool
stress_stopping(struct stress *st)
{
	if (atomic_load(&st->abort))
		return true;
	if (now_s() > st->end) {
		atomic_store(&st->abort, true);
		return true;
	}
	return false;
}

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void *
stress_produce(void *arg)
{
	struct producer *p = arg;
	struct stress *st = p->st;
	unsigned per = st->c->per_prod;

	for (unsigned i = 0; i < per; ) {
		unsigned op = xorshift(&p->rnd) % 100;
		unsigned n = 1 + xorshift(&p->rnd) % STRESS_BATCH;
		void *v[STRESS_BATCH];

		if (n > per - i)
			n = per - i;
		if (st->c->pause_every != 0 && i >= p->next_pause) {
			struct timespec nap = { 0, 20000 };

			p->next_pause = i + st->c->pause_every;
			nanosleep(&nap, NULL);
		}
		if (op < st->c->push_pct) {
			if (queue_push(st->q, stress_item(st, p->id, i,
			    false))) {
				i++;
				continue;
			}
		} else if (op < st->c->push_pct + st->c->many_pct) {
			size_t taken;

			for (unsigned k = 0; k < n; k++)
				v[k] = stress_item(st, p->id, i + k, false);
			taken = queue_push_many(st->q, v, n);
			i += (unsigned)taken;
			if (taken == n)
				continue;
		} else {
			for (unsigned k = 0; k < n; k++)
				v[k] = stress_item(st, p->id, i + k, true);
			if (!queue_hand_over(st->q, v, n)) {
				p->gave_up = true;
				atomic_store(&st->abort, true);
				return NULL;
			}
			i += n;
			continue;
		}
		/* The ring was full: let the consumers run. */
		p->failures++;
		if (stress_stopping(st)) {
			p->gave_up = true;
			return NULL;
		}
		sched_yield();
	}
	return NULL;
}

static void
stress_take(struct consumer *c, void *item, long *last)
{
	struct stress *st = c->st;
	uintptr_t v = VAL(item);
	uintptr_t idx = (v >> 1) - 1;
	unsigned prod;
	long *lp;

	if (v < 2 || idx >= st->total) {
		c->bad_item = true;
		return;
	}
	prod = (unsigned)(idx / st->c->per_prod);
	lp = &last[prod * 2 + (v & 1)];
	if ((long)idx <= *lp)
		c->in_order = false;
	*lp = (long)idx;
	atomic_fetch_add(&st->seen[idx], 1);
	atomic_fetch_add(&st->received, 1);
	c->got++;
}

/*
 * A consumer that found nothing waits in its epoll set for its eventfd;
 * two seconds with nothing taken by anyone while items are due is a lost
 * wake-up, which stops the run instead of hanging it.
 */
static void
stress_sleep(struct consumer *c, struct queue_waiter *w, int ep)
{
	struct stress *st = c->st;
	struct epoll_event ev;
	size_t before = atomic_load(&st->received);
	int n;

	c->sleeps++;
	while ((n = epoll_wait(ep, &ev, 1, STRESS_WAIT_MS)) < 0 &&
	    errno == EINTR)
		;
	queue_idle_end(st->q, w);
	if (n > 0) {
		c->wakeups++;
	} else if (n == 0) {
		c->timeouts++;
		if (atomic_load(&st->received) == before &&
		    before < st->total) {
			/* Nobody took anything in 2 s: lost. */
			if (c->stalls++ == 0) {
				c->stall_received = before;
				c->stall_len = queue_len(st->q);
			}
			atomic_store(&st->abort, true);
		}
	} else {
		c->error = "epoll_wait failed";
		atomic_store(&st->abort, true);
	}
}

static void *
stress_consume(void *arg)
{
	struct consumer *c = arg;
	struct stress *st = c->st;
	struct queue_waiter w;
	struct epoll_event ev = { .events = EPOLLIN };
	long last[STRESS_MAXPROD * 2];
	int ep = -1;

	for (size_t i = 0; i < STRESS_MAXPROD * 2; i++)
		last[i] = -1;
	c->in_order = true;
	w.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	atomic_init(&w.idle, false);
	w.next = NULL;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0 || w.efd < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, w.efd, &ev) < 0) {
		c->error = "cannot set up the eventfd and epoll set";
		atomic_store(&st->abort, true);
		goto out;
	}
	for (;;) {
		void *item;

		if ((item = queue_try_pop(st->q)) != NULL) {
			stress_take(c, item, last);
			continue;
		}
		if (stress_stopping(st))
			break;
		if (!queue_idle_begin(st->q, &w)) {
			/* An item waits, or the queue closed. */
			if (queue_is_closed(st->q) && queue_len(st->q) == 0)
				break;
			continue;
		}
		stress_sleep(c, &w, ep);
		c->writes += efd_take(w.efd);
	}
out:
	if (w.efd >= 0) {
		queue_forget(st->q, &w);
		close(w.efd);
	}
	if (ep >= 0)
		close(ep);
	return NULL;
}

/*
 * Waits for the last items, but not longer than the run may last, and
 * stops early once every consumer has slept for 50 ms in a row with
 * nothing waiting: then nothing more can arrive.
 */
static void
wait_for_the_last_items(struct stress *st)
{
	int quiet = 0;

	while (atomic_load(&st->received) < st->total && !stress_stopping(st)) {
		if (queue_idle_hint(st->q) == st->c->ncons &&
		    queue_len(st->q) == 0) {
			if (++quiet == 50)
				break;
		} else {
			quiet = 0;
		}
		sleep_ms(1);
	}
}

struct stress_sums {
	size_t		 total;
	unsigned long	 sleeps, wakeups, writes;
};

/* Each consumer's verdict, and their counts added up. */
static struct stress_sums
check_consumers(const struct stress *st, const struct consumer *cons)
{
	const struct stress_case *sc = st->c;
	struct stress_sums sums = { 0 };

	for (unsigned i = 0; i < sc->ncons; i++) {
		const struct consumer *c = &cons[i];

		ck_assert_msg(c->error == NULL, "%s: consumer %u: %s",
		    sc->name, i, c->error);
		ck_assert_msg(c->stalls == 0, "%s: consumer %u slept %d ms "
		    "with no item taken by anyone, %zu of %zu received, "
		    "%zu waiting: a lost wake-up", sc->name, i,
		    STRESS_WAIT_MS, c->stall_received, st->total,
		    c->stall_len);
		ck_assert_msg(!c->bad_item, "%s: consumer %u took an item "
		    "that was never pushed", sc->name, i);
		ck_assert_msg(c->in_order, "%s: consumer %u saw a producer's "
		    "items out of order", sc->name, i);
		sums.total += c->got;
		sums.sleeps += c->sleeps;
		sums.wakeups += c->wakeups;
		sums.writes += c->writes;
	}
	return sums;
}

static void
check_each_item_once(const struct stress *st)
{
	size_t bad = 0, first_bad = 0;

	for (size_t i = 0; i < st->total; i++) {
		if (atomic_load(&st->seen[i]) != 1 && bad++ == 0)
			first_bad = i;
	}
	ck_assert_msg(bad == 0, "%s: %zu items not received exactly once; "
	    "the first, item %zu, %u times", st->c->name, bad, first_bad,
	    (unsigned)atomic_load(&st->seen[first_bad]));
}

START_TEST(stress_every_item_arrives_once_without_lost_wakeups)
{
	const struct stress_case *sc = &stress_cases[_i];
	struct stress st = { .c = sc };
	struct producer prod[STRESS_MAXPROD];
	struct consumer cons[STRESS_MAXCONS];
	struct stress_sums sums;
	unsigned long failures = 0;
	bool gave_up = false;
	double t0;

	ck_assert(sc->nprod <= STRESS_MAXPROD && sc->ncons <= STRESS_MAXCONS);
	st.total = (size_t)sc->nprod * sc->per_prod;
	st.q = queue_new(sc->cap, count_space, &st.space_calls);
	st.seen = calloc(st.total, sizeof(*st.seen));
	ck_assert_ptr_nonnull(st.q);
	ck_assert_ptr_nonnull(st.seen);
	atomic_init(&st.received, 0);
	atomic_init(&st.abort, false);
	atomic_init(&st.space_calls, 0);
	t0 = now_s();
	st.end = t0 + STRESS_LIMIT_S;

	/* Every consumer starts asleep, so the first items must wake them. */
	for (unsigned i = 0; i < sc->ncons; i++) {
		cons[i] = (struct consumer){ .st = &st, .id = i };
		ck_assert_int_eq(pthread_create(&cons[i].th, NULL,
		    stress_consume, &cons[i]), 0);
	}
	wait_idle(st.q, sc->ncons);
	for (unsigned i = 0; i < sc->nprod; i++) {
		prod[i] = (struct producer){ .st = &st, .id = i,
		    .rnd = 2463534242u + i * 7919u };
		ck_assert_int_eq(pthread_create(&prod[i].th, NULL,
		    stress_produce, &prod[i]), 0);
	}
	for (unsigned i = 0; i < sc->nprod; i++) {
		ck_assert_int_eq(pthread_join(prod[i].th, NULL), 0);
		failures += prod[i].failures;
		gave_up |= prod[i].gave_up;
	}
	wait_for_the_last_items(&st);
	queue_close(st.q);
	for (unsigned i = 0; i < sc->ncons; i++)
		ck_assert_int_eq(pthread_join(cons[i].th, NULL), 0);
	sums = check_consumers(&st, cons);
	ck_assert_msg(!gave_up, "%s: a producer gave up after %.1f s with "
	    "%zu of %zu received", sc->name, now_s() - t0,
	    atomic_load(&st.received), st.total);
	check_each_item_once(&st);
	ck_assert_msg(sums.total == st.total, "%s: expected %zu items, got "
	    "%zu", sc->name, st.total, sums.total);
	ck_assert_msg(!atomic_load(&st.abort), "%s: ran out of time "
	    "(%.1f s)", sc->name, now_s() - t0);
	ck_assert_msg(now_s() - t0 < STRESS_LIMIT_S, "%s: took %.2f s",
	    sc->name, now_s() - t0);
	/* Every consumer slept once at the start and was woken. */
	ck_assert_msg(sums.sleeps >= sc->ncons && sums.wakeups >= sc->ncons,
	    "%s: %lu sleeps, %lu wake-ups", sc->name, sums.sleeps,
	    sums.wakeups);
	/* At most one write per item, and one each from the close. */
	ck_assert_msg(sums.writes <= st.total + sc->ncons,
	    "%s: %lu eventfd writes for %zu items", sc->name, sums.writes,
	    st.total);
	ck_assert_uint_eq(queue_len(st.q), 0);
	ck_assert_uint_eq(queue_idle_hint(st.q), 0);
	/* Each notice answers at least one failed push. */
	ck_assert_msg(atomic_load(&st.space_calls) <= failures,
	    "%s: %u space notices for %lu failed pushes", sc->name,
	    atomic_load(&st.space_calls), failures);
	queue_free(st.q);
	free(st.seen);
}
END_TEST

static Suite *
queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc;

	tc = tcase_create("ring");
	tcase_add_test(tc, try_pop_returns_items_in_push_order);
	tcase_add_test(tc, push_fails_when_full);
	tcase_add_test(tc, push_many_returns_number_taken);
	tcase_add_test(tc, try_pop_on_empty_returns_null);
	tcase_add_test(tc, new_with_zero_capacity_fails);
	tcase_add_test(tc, close_drains_remaining_then_null);
	tcase_add_test(tc, push_after_close_fails);
	tcase_add_test(tc, len_and_hint_snapshots);
	suite_add_tcase(s, tc);

	tc = tcase_create("hand_over");
	tcase_add_test(tc, try_pop_takes_handed_over_items_first);
	tcase_add_test(tc, hand_over_ignores_the_ring_bound);
	tcase_add_test(tc, hand_over_grows_while_items_wrap);
	tcase_add_test(tc, hand_over_of_nothing_changes_nothing);
	tcase_add_test(tc, hand_over_after_close_is_accepted);
	suite_add_tcase(s, tc);

	tc = tcase_create("space");
	tcase_add_test(tc, space_callback_fires_once_after_failed_push);
	tcase_add_test(tc, space_callback_silent_without_failed_push);
	tcase_add_test(tc, space_callback_rearms_after_each_failure);
	tcase_add_test(tc, space_callback_waits_for_a_pop_from_the_ring);
	tcase_add_test(tc, space_callback_runs_outside_lock);
	tcase_add_test(tc, null_space_callback_allowed);
	suite_add_tcase(s, tc);

	tc = tcase_create("idle");
	tcase_add_test(tc, idle_begin_registers_when_nothing_waits);
	tcase_add_test(tc, idle_begin_refuses_when_an_item_waits);
	tcase_add_test(tc, idle_begin_refuses_when_closed);
	tcase_add_test(tc, idle_end_unregisters);
	tcase_add_test(tc, idle_end_after_a_push_took_the_waiter);
	tcase_add_loop_test(tc, wakes_one_idle_waiter_per_item_added, 0,
	    sizeof(wake_cases) / sizeof(wake_cases[0]));
	tcase_add_test(tc, failed_push_wakes_nobody);
	tcase_add_test(tc, wake_all_leaves_items_and_waiters_usable);
	tcase_add_test(tc, close_wakes_idle_waiters_and_refuses_pushes);
	tcase_add_test(tc, forget_stops_writes_to_the_waiter);
	suite_add_tcase(s, tc);

	/* The waits here are bounded by WAIT_MS; none should come near. */
	tc = tcase_create("threads");
	tcase_set_timeout(tc, 15);
	tcase_add_test(tc, sleeping_consumer_gets_pushed_item);
	tcase_add_test(tc, sleeping_consumers_get_handed_over_items);
	tcase_add_test(tc, wake_all_wakes_sleeping_consumers);
	tcase_add_test(tc, close_wakes_sleeping_consumers);
	tcase_add_test(tc, forget_is_final_while_pushes_race);
	suite_add_tcase(s, tc);

	/*
	 * Each run stops itself after STRESS_LIMIT_S (10 s) plus one
	 * consumer wait; Check's timeout is only the last resort.
	 */
	tc = tcase_create("stress");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc,
	    stress_every_item_arrives_once_without_lost_wakeups, 0,
	    sizeof(stress_cases) / sizeof(stress_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(queue_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
