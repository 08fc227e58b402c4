/*
 * check_syncer.c - unit tests for syncer.h: every job's work() and then
 * its done() run exactly once, syncer_free() waits for every job queued
 * before it, jobs run at once on separate threads up to the bound and
 * never beyond it, and jobs come from many threads at once.
 */
#include "syncer.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

/* No wait in these tests is unbounded; none should come near this. */
#define WAIT_MS		5000

struct job {
	struct sync_node node;	/* first: a node is its job */
	atomic_int	 worked, done;
	bool		 done_after_work;
};

struct state {
	atomic_int	 running, max_running, arrived, works, dones;
	int		 gate;		/* work() waits until this many run */
	atomic_bool	 gate_timed_out;
	long		 work_us;	/* or sleeps this long */
};

static void
sleep_us(long us)
{
	struct timespec ts = { us / 1000000, us % 1000000 * 1000 };

	nanosleep(&ts, NULL);
}

static void
work(struct sync_node *n, void *arg)
{
	struct job *j = (struct job *)n;
	struct state *st = arg;
	int now = atomic_fetch_add(&st->running, 1) + 1;
	int max = atomic_load(&st->max_running);

	atomic_fetch_add(&st->arrived, 1);
	while (now > max &&
	    !atomic_compare_exchange_weak(&st->max_running, &max, now))
		;
	if (st->gate > 0) {
		int waited = 0;

		/* arrived only grows: one that leaves cannot strand the rest. */
		while (atomic_load(&st->arrived) < st->gate &&
		    waited++ < WAIT_MS)
			sleep_us(1000);
		if (atomic_load(&st->arrived) < st->gate)
			atomic_store(&st->gate_timed_out, true);
	}
	if (st->work_us > 0)
		sleep_us(st->work_us);
	atomic_fetch_add(&j->worked, 1);
	atomic_fetch_add(&st->works, 1);
	atomic_fetch_sub(&st->running, 1);
}

static void
done(struct sync_node *n, void *arg)
{
	struct job *j = (struct job *)n;
	struct state *st = arg;

	j->done_after_work = atomic_load(&j->worked) == 1;
	atomic_fetch_add(&j->done, 1);
	atomic_fetch_add(&st->dones, 1);
}

/* Submits jobs[0..n) to a new syncer of max threads and frees it. */
static void
run_jobs(unsigned max, struct state *st, struct job *jobs, int n)
{
	struct syncer *s = syncer_new(max, work, done, st);

	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < n; i++)
		syncer_submit(s, &jobs[i].node);
	syncer_free(s);
}

START_TEST(free_waits_for_every_job_once)
{
	struct state st = { .work_us = 200 };
	struct job *jobs = calloc(200, sizeof(*jobs));

	ck_assert_ptr_nonnull(jobs);
	run_jobs(4, &st, jobs, 200);
	ck_assert_int_eq(atomic_load(&st.works), 200);
	ck_assert_int_eq(atomic_load(&st.dones), 200);
	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(atomic_load(&jobs[i].worked), 1);
		ck_assert_int_eq(atomic_load(&jobs[i].done), 1);
		ck_assert(jobs[i].done_after_work);
	}
	free(jobs);
}
END_TEST

START_TEST(jobs_run_at_once_up_to_the_bound)
{
	/* Each of 4 jobs waits until 4 run: only 4 threads can finish it. */
	struct state st = { .gate = 4 };
	struct job jobs[4] = { 0 };

	run_jobs(4, &st, jobs, 4);
	ck_assert(!atomic_load(&st.gate_timed_out));
	ck_assert_int_eq(atomic_load(&st.max_running), 4);
}
END_TEST

START_TEST(idle_threads_woken_once_are_not_counted_twice)
{
	/*
	 * Four threads finish a first round and sit idle; then eight jobs
	 * that each wait until eight have begun come at once.  Only a pool
	 * that starts new threads while the idle ones are still waking can
	 * run them.
	 */
	struct state st = { 0 };
	struct syncer *s = syncer_new(8, work, done, &st);
	struct job first[4] = { 0 }, second[8] = { 0 };
	int waited = 0;

	ck_assert_ptr_nonnull(s);
	st.gate = 4;
	for (int i = 0; i < 4; i++)
		syncer_submit(s, &first[i].node);
	while (atomic_load(&st.dones) < 4 && waited++ < WAIT_MS)
		sleep_us(1000);
	ck_assert_int_eq(atomic_load(&st.dones), 4);
	sleep_us(20000);	/* they are back on the condition variable */
	atomic_store(&st.arrived, 0);
	st.gate = 8;
	for (int i = 0; i < 8; i++)
		syncer_submit(s, &second[i].node);
	syncer_free(s);
	ck_assert(!atomic_load(&st.gate_timed_out));
	ck_assert_int_eq(atomic_load(&st.dones), 12);
}
END_TEST

START_TEST(never_more_threads_than_the_bound)
{
	struct state st = { .work_us = 1000 };
	struct job jobs[50] = { 0 };

	run_jobs(2, &st, jobs, 50);
	ck_assert_int_eq(atomic_load(&st.dones), 50);
	ck_assert_int_le(atomic_load(&st.max_running), 2);
}
END_TEST

struct producer {
	struct syncer	*s;
	struct job	*jobs;
	int		 n;
};

static void *
produce(void *arg)
{
	struct producer *p = arg;

	for (int i = 0; i < p->n; i++)
		syncer_submit(p->s, &p->jobs[i].node);
	return NULL;
}

START_TEST(many_threads_submit_at_once)
{
	enum { PRODUCERS = 4, EACH = 500 };
	struct state st = { 0 };
	struct syncer *s = syncer_new(3, work, done, &st);
	struct job *jobs = calloc(PRODUCERS * EACH, sizeof(*jobs));
	struct producer p[PRODUCERS];
	pthread_t t[PRODUCERS];

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(jobs);
	for (int i = 0; i < PRODUCERS; i++) {
		p[i] = (struct producer){ s, jobs + i * EACH, EACH };
		ck_assert_int_eq(pthread_create(&t[i], NULL, produce, &p[i]), 0);
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(t[i], NULL);
	syncer_free(s);
	ck_assert_int_eq(atomic_load(&st.dones), PRODUCERS * EACH);
	for (int i = 0; i < PRODUCERS * EACH; i++)
		ck_assert_int_eq(atomic_load(&jobs[i].done), 1);
	free(jobs);
}
END_TEST

START_TEST(a_syncer_without_jobs_frees_at_once)
{
	struct state st = { 0 };
	struct syncer *s = syncer_new(8, work, done, &st);

	ck_assert_ptr_nonnull(s);
	syncer_free(s);
	syncer_free(NULL);
	ck_assert_int_eq(atomic_load(&st.works), 0);
}
END_TEST

static Suite *
syncer_suite(void)
{
	Suite *s = suite_create("syncer");
	TCase *tc = tcase_create("jobs");

	tcase_add_test(tc, free_waits_for_every_job_once);
	tcase_add_test(tc, jobs_run_at_once_up_to_the_bound);
	tcase_add_test(tc, idle_threads_woken_once_are_not_counted_twice);
	tcase_add_test(tc, never_more_threads_than_the_bound);
	tcase_add_test(tc, many_threads_submit_at_once);
	tcase_add_test(tc, a_syncer_without_jobs_frees_at_once);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(syncer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
