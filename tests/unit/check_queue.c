/*
 * check_queue.c - unit tests for queue.h: FIFO order, the full queue and
 * its space callback, close and drain, and a multi-producer,
 * multi-consumer stress run.
 */
#include "queue.h"

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* Items are small integers (never 0: a NULL pop means closed). */
#define ITEM(n)		((void *)(uintptr_t)(n))
#define VAL(p)		((uintptr_t)(p))

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

/* Waits up to 5 s for n threads to block in queue_pop(, NULL). */
static void
wait_idle(struct queue *q, size_t n)
{
	for (int i = 0; i < 5000 && queue_idle(q) != n; i++)
		sleep_ms(1);
	ck_assert_msg(queue_idle(q) == n, "expected %zu idle poppers, got %zu",
	    n, queue_idle(q));
}

/*
 * Order and capacity.
 */

START_TEST(pop_returns_items_in_push_order)
{
	struct queue *q = queue_new(8, NULL, NULL);
	uintptr_t next = 1, want = 1;

	ck_assert_ptr_nonnull(q);
	for (int i = 0; i < 8; i++)
		ck_assert(queue_push(q, ITEM(next++)));
	for (int i = 0; i < 8; i++) {
		void *p = queue_pop(q, NULL);

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
	ck_assert_uint_eq(VAL(queue_pop(q, NULL)), 1);
	ck_assert_uint_eq(VAL(queue_pop(q, NULL)), 11);
	ck_assert_uint_eq(VAL(queue_pop(q, NULL)), 12);
	ck_assert_uint_eq(VAL(queue_pop(q, NULL)), 13);
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
	ck_assert_uint_eq(VAL(queue_pop(q, NULL)), 1);
	ck_assert_uint_eq(atomic_load(&calls), 1);
	ck_assert_uint_eq(VAL(queue_pop(q, NULL)), 2);
	ck_assert_uint_eq(atomic_load(&calls), 1);
	queue_free(q);
}
END_TEST

START_TEST(space_callback_silent_without_failed_push)
{
	atomic_uint calls = 0;
	struct queue *q = queue_new(2, count_space, &calls);

	ck_assert_ptr_nonnull(q);
	for (int round = 0; round < 10; round++) {
		ck_assert(queue_push(q, ITEM(1)));
		ck_assert(queue_push(q, ITEM(2)));
		ck_assert_ptr_nonnull(queue_pop(q, NULL));
		ck_assert_ptr_nonnull(queue_try_pop(q));
	}
	/* A push_many of nothing is not a failed push either. */
	ck_assert_uint_eq(queue_push_many(q, NULL, 0), 0);
	ck_assert(queue_push(q, ITEM(1)));
	ck_assert_ptr_nonnull(queue_pop(q, NULL));
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
	ck_assert(queue_push(q, ITEM(1)));
	ck_assert(!queue_push(q, ITEM(2)));
	/* try_pop() notifies too. */
	ck_assert_ptr_nonnull(queue_try_pop(q));
	ck_assert_uint_eq(atomic_load(&calls), 1);
	/* A partial push_many counts as a failed push. */
	ck_assert_uint_eq(queue_push_many(q, v, 2), 1);
	ck_assert_uint_eq(VAL(queue_pop(q, NULL)), 5);
	ck_assert_uint_eq(atomic_load(&calls), 2);
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
	ck_assert_uint_eq(VAL(queue_pop(probe.q, NULL)), 1);
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
	ck_assert_uint_eq(VAL(queue_pop(q, NULL)), 1);
	queue_free(q);
}
END_TEST

/*
 * Blocking pops and close.
 */

struct popper {
	pthread_t	 th;
	struct queue	*q;
	void		*got;
	atomic_bool	*stop;
};

static void *
pop_once(void *arg)
{
	struct popper *p = arg;

	p->got = queue_pop(p->q, p->stop);
	return NULL;
}

START_TEST(close_wakes_blocked_poppers)
{
	struct queue *q = queue_new(4, NULL, NULL);
	struct popper p[4] = { 0 };

	ck_assert_ptr_nonnull(q);
	for (int i = 0; i < 4; i++) {
		p[i].q = q;
		p[i].got = ITEM(0xdead);
		ck_assert_int_eq(pthread_create(&p[i].th, NULL, pop_once,
		    &p[i]), 0);
	}
	wait_idle(q, 4);
	queue_close(q);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(p[i].th, NULL), 0);
		ck_assert_msg(p[i].got == NULL, "popper %d got %p after close",
		    i, p[i].got);
	}
	ck_assert_uint_eq(queue_idle(q), 0);
	queue_free(q);
}
END_TEST

START_TEST(blocked_popper_gets_pushed_item)
{
	struct queue *q = queue_new(4, NULL, NULL);
	struct popper p = { .got = NULL };

	ck_assert_ptr_nonnull(q);
	p.q = q;
	ck_assert_int_eq(pthread_create(&p.th, NULL, pop_once, &p), 0);
	wait_idle(q, 1);
	ck_assert(queue_push(q, ITEM(42)));
	ck_assert_int_eq(pthread_join(p.th, NULL), 0);
	ck_assert_uint_eq(VAL(p.got), 42);
	ck_assert_uint_eq(queue_idle(q), 0);
	queue_free(q);
}
END_TEST

START_TEST(stop_flag_set_before_the_pop_returns_at_once)
{
	struct queue *q = queue_new(4, NULL, NULL);
	atomic_bool stop = true;

	ck_assert_ptr_nonnull(q);
	/* Set before the pop sleeps: the old kick counter missed this. */
	ck_assert_ptr_null(queue_pop(q, &stop));
	/* An item waiting is still handed out. */
	ck_assert(queue_push(q, ITEM(7)));
	ck_assert_uint_eq(VAL(queue_pop(q, &stop)), 7);
	queue_free(q);
}
END_TEST

START_TEST(kick_wakes_only_the_popper_asked_to_stop)
{
	struct queue *q = queue_new(4, NULL, NULL);
	atomic_bool stop_a = false, stop_b = false;
	struct popper a = { .q = q, .stop = &stop_a };
	struct popper b = { .q = q, .stop = &stop_b };

	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(pthread_create(&a.th, NULL, pop_once, &a), 0);
	ck_assert_int_eq(pthread_create(&b.th, NULL, pop_once, &b), 0);
	wait_idle(q, 2);
	atomic_store(&stop_a, true);
	queue_kick(q);
	ck_assert_int_eq(pthread_join(a.th, NULL), 0);
	ck_assert_ptr_null(a.got);
	/* b looked at its own flag and went back to sleep. */
	wait_idle(q, 1);
	ck_assert(queue_push(q, ITEM(9)));
	ck_assert_int_eq(pthread_join(b.th, NULL), 0);
	ck_assert_uint_eq(VAL(b.got), 9);
	queue_free(q);
}
END_TEST

START_TEST(close_drains_remaining_then_null)
{
	struct queue *q = queue_new(4, NULL, NULL);

	ck_assert_ptr_nonnull(q);
	for (uintptr_t i = 1; i <= 3; i++)
		ck_assert(queue_push(q, ITEM(i)));
	queue_close(q);
	ck_assert_uint_eq(queue_len(q), 3);
	ck_assert_uint_eq(VAL(queue_pop(q, NULL)), 1);
	ck_assert_uint_eq(VAL(queue_try_pop(q)), 2);
	ck_assert_uint_eq(VAL(queue_pop(q, NULL)), 3);
	/* Empty and closed: no waiting. */
	ck_assert_ptr_null(queue_pop(q, NULL));
	ck_assert_ptr_null(queue_pop(q, NULL));
	ck_assert_ptr_null(queue_try_pop(q));
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
	ck_assert_ptr_null(queue_pop(q, NULL));
	queue_free(q);
}
END_TEST

START_TEST(len_and_idle_snapshots)
{
	struct queue *q = queue_new(8, NULL, NULL);
	struct popper p[2] = { 0 };

	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(queue_len(q), 0);
	ck_assert_uint_eq(queue_idle(q), 0);
	for (uintptr_t i = 1; i <= 5; i++) {
		ck_assert(queue_push(q, ITEM(i)));
		ck_assert_uint_eq(queue_len(q), i);
	}
	/* Items waiting: a pop returns at once, nobody idles. */
	ck_assert_ptr_nonnull(queue_pop(q, NULL));
	ck_assert_uint_eq(queue_len(q), 4);
	ck_assert_uint_eq(queue_idle(q), 0);
	while (queue_try_pop(q) != NULL)
		;
	ck_assert_uint_eq(queue_len(q), 0);
	for (int i = 0; i < 2; i++) {
		p[i].q = q;
		ck_assert_int_eq(pthread_create(&p[i].th, NULL, pop_once,
		    &p[i]), 0);
	}
	wait_idle(q, 2);
	ck_assert_uint_eq(queue_len(q), 0);
	ck_assert(queue_push(q, ITEM(9)));
	queue_close(q);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(p[i].th, NULL), 0);
	/* One popper got the item, the other the close. */
	ck_assert_uint_eq(VAL(p[0].got) + VAL(p[1].got), 9);
	ck_assert_uint_eq(queue_idle(q), 0);
	ck_assert_uint_eq(queue_len(q), 0);
	queue_free(q);
}
END_TEST

/*
 * Stress: NPROD producers, NCONS consumers, a small queue.
 */

#define NPROD		4
#define NCONS		4
#define PER_PROD	50000
#define STRESS_CAP	64
#define BATCH		8

static atomic_uint	 seen[NPROD * PER_PROD];

struct producer {
	pthread_t	 th;
	struct queue	*q;
	unsigned	 id;
	unsigned long	 failures;	/* pushes that took less than asked */
};

struct consumer {
	pthread_t	 th;
	struct queue	*q;
	size_t		 got;
	bool		 in_order;	/* per producer, items came in order */
};

static void *
produce(void *arg)
{
	struct producer *p = arg;
	uintptr_t base = (uintptr_t)p->id * PER_PROD + 1;

	if (p->id % 2 == 0) {
		for (uintptr_t i = 0; i < PER_PROD; i++) {
			while (!queue_push(p->q, ITEM(base + i))) {
				p->failures++;
				sched_yield();
			}
		}
		return NULL;
	}
	/* Odd producers push batches, retrying what was not taken. */
	for (uintptr_t i = 0; i < PER_PROD; ) {
		void *v[BATCH];
		size_t n = PER_PROD - i < BATCH ? PER_PROD - i : BATCH, taken;

		for (size_t k = 0; k < n; k++)
			v[k] = ITEM(base + i + k);
		taken = queue_push_many(p->q, v, n);
		i += taken;
		if (taken < n) {
			p->failures++;
			sched_yield();
		}
	}
	return NULL;
}

static void *
consume(void *arg)
{
	struct consumer *c = arg;
	long last[NPROD];
	void *item;

	for (int i = 0; i < NPROD; i++)
		last[i] = -1;
	c->in_order = true;
	while ((item = queue_pop(c->q, NULL)) != NULL) {
		uintptr_t v = VAL(item) - 1;
		size_t prod = v / PER_PROD;
		long idx = (long)(v % PER_PROD);

		if (prod >= NPROD) {
			c->in_order = false;
			continue;
		}
		if (idx <= last[prod])
			c->in_order = false;
		last[prod] = idx;
		atomic_fetch_add(&seen[v], 1);
		c->got++;
	}
	return NULL;
}

START_TEST(mpmc_every_item_delivered_once)
{
	atomic_uint calls = 0;
	struct queue *q = queue_new(STRESS_CAP, count_space, &calls);
	struct producer prod[NPROD];
	struct consumer cons[NCONS];
	struct timespec t0, t1;
	unsigned long failures = 0;
	size_t total = 0, bad = 0, first_bad = 0;
	double secs;

	ck_assert_ptr_nonnull(q);
	for (size_t i = 0; i < NPROD * PER_PROD; i++)
		atomic_init(&seen[i], 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < NCONS; i++) {
		cons[i] = (struct consumer){ .q = q };
		ck_assert_int_eq(pthread_create(&cons[i].th, NULL, consume,
		    &cons[i]), 0);
	}
	for (int i = 0; i < NPROD; i++) {
		prod[i] = (struct producer){ .q = q, .id = (unsigned)i };
		ck_assert_int_eq(pthread_create(&prod[i].th, NULL, produce,
		    &prod[i]), 0);
	}
	for (int i = 0; i < NPROD; i++) {
		ck_assert_int_eq(pthread_join(prod[i].th, NULL), 0);
		failures += prod[i].failures;
	}
	queue_close(q);
	for (int i = 0; i < NCONS; i++) {
		ck_assert_int_eq(pthread_join(cons[i].th, NULL), 0);
		ck_assert_msg(cons[i].in_order, "consumer %d saw a producer's "
		    "items out of order", i);
		total += cons[i].got;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	for (size_t i = 0; i < NPROD * PER_PROD; i++) {
		if (atomic_load(&seen[i]) != 1 && bad++ == 0)
			first_bad = i;
	}
	ck_assert_msg(bad == 0, "%zu items not received exactly once; the "
	    "first, item %zu, %u times", bad, first_bad + 1,
	    atomic_load(&seen[first_bad]));
	ck_assert_msg(total == (size_t)NPROD * PER_PROD,
	    "expected %d items in total, got %zu", NPROD * PER_PROD, total);
	ck_assert_uint_eq(queue_len(q), 0);
	ck_assert_uint_eq(queue_idle(q), 0);
	/* Each notice answers at least one failed push. */
	ck_assert_msg(atomic_load(&calls) <= failures,
	    "%u space notices for %lu failed pushes", atomic_load(&calls),
	    failures);
	ck_assert_msg(secs < 10.0, "stress run took %.2f s", secs);
	queue_free(q);
}
END_TEST

static Suite *
queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc;

	tc = tcase_create("basic");
	tcase_add_test(tc, pop_returns_items_in_push_order);
	tcase_add_test(tc, push_fails_when_full);
	tcase_add_test(tc, push_many_returns_number_taken);
	tcase_add_test(tc, try_pop_on_empty_returns_null);
	tcase_add_test(tc, new_with_zero_capacity_fails);
	tcase_add_test(tc, space_callback_fires_once_after_failed_push);
	tcase_add_test(tc, space_callback_silent_without_failed_push);
	tcase_add_test(tc, space_callback_rearms_after_each_failure);
	tcase_add_test(tc, space_callback_runs_outside_lock);
	tcase_add_test(tc, null_space_callback_allowed);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, close_wakes_blocked_poppers);
	tcase_add_test(tc, blocked_popper_gets_pushed_item);
	tcase_add_test(tc, stop_flag_set_before_the_pop_returns_at_once);
	tcase_add_test(tc, kick_wakes_only_the_popper_asked_to_stop);
	tcase_add_test(tc, close_drains_remaining_then_null);
	tcase_add_test(tc, push_after_close_fails);
	tcase_add_test(tc, len_and_idle_snapshots);
	tcase_add_test(tc, mpmc_every_item_delivered_once);
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
