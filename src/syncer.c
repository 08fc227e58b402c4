/*
 * syncer.c - threads for slow file-system work; see syncer.h.
 *
 * DESIGN: one mutex, a FIFO of jobs and a condition variable that idle
 * threads sleep on.  A submit that finds fewer idle threads than waiting
 * jobs starts one more, up to max_threads, so the pool grows to the
 * number of fsyncs that are in flight at once and no further.  syncer_free() sets quit and wakes
 * everyone; a thread leaves only when the FIFO is empty, so every job
 * queued before it is done.
 */
#include "syncer.h"

#include <pthread.h>
#include <stdlib.h>

#include "log.h"

struct syncer {
	pthread_mutex_t	 lock;
	pthread_cond_t	 more;		/* a job came, or quit */
	struct sync_node *head, *tail;	/* the FIFO */
	unsigned	 queued;	/* jobs in it */
	unsigned	 idle;		/* threads waiting on more */
	unsigned	 nthreads, max_threads;
	pthread_t	*threads;
	bool		 quit;
	sync_fn		 work, done;
	void		*arg;
};

struct syncer *
syncer_new(unsigned max_threads, sync_fn work, sync_fn done, void *arg)
{
	struct syncer *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if ((s->threads = calloc(max_threads, sizeof(*s->threads))) == NULL) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->more, NULL);
	s->max_threads = max_threads;
	s->work = work;
	s->done = done;
	s->arg = arg;
	return s;
}

static void *
syncer_main(void *arg)
{
	struct syncer *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct sync_node *n = s->head;

		if (n == NULL) {
			if (s->quit)
				break;
			s->idle++;
			pthread_cond_wait(&s->more, &s->lock);
			s->idle--;
			continue;
		}
		if ((s->head = n->next) == NULL)
			s->tail = NULL;
		s->queued--;
		pthread_mutex_unlock(&s->lock);
		s->work(n, s->arg);
		s->done(n, s->arg);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/*
 * Under the lock, before one more job is queued: one more thread when the
 * idle ones are fewer than the jobs then waiting (an idle thread already
 * woken for an earlier job does not count twice).  False if none runs.
 */
static bool
enough_threads(struct syncer *s)
{
	int r;

	if (s->queued + 1 <= s->idle || s->nthreads == s->max_threads)
		return s->nthreads > 0;
	r = pthread_create(&s->threads[s->nthreads], NULL, syncer_main, s);
	if (r == 0)
		s->nthreads++;
	else
		log_errno(LOG_LVL_WARN, r, "cannot start a sync thread");
	return s->nthreads > 0;
}

void
syncer_submit(struct syncer *s, struct sync_node *n)
{
	n->next = NULL;
	pthread_mutex_lock(&s->lock);
	if (!enough_threads(s)) {
		pthread_mutex_unlock(&s->lock);
		s->work(n, s->arg);
		s->done(n, s->arg);
		return;
	}
	if (s->tail != NULL)
		s->tail->next = n;
	else
		s->head = n;
	s->tail = n;
	s->queued++;
	pthread_cond_signal(&s->more);
	pthread_mutex_unlock(&s->lock);
}

void
syncer_free(struct syncer *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->quit = true;
	pthread_cond_broadcast(&s->more);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < s->nthreads; i++)
		pthread_join(s->threads[i], NULL);
	pthread_cond_destroy(&s->more);
	pthread_mutex_destroy(&s->lock);
	free(s->threads);
	free(s);
}
