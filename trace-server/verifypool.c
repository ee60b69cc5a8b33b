/*
 * verifypool.c - the pool behind verify_pool_run (verifypool.h).
 *
 * A job is (fn, arg, count) with an atomic cursor: every participant
 * (the caller and any pool thread) takes the next index until none is
 * left, so a slow item never holds back the others and no split has to
 * be guessed.  Jobs wait in a short list under one mutex; the caller
 * works on its own job too, so a request never waits for the pool to
 * notice it, and with the pool busy elsewhere it still finishes alone.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "verifypool.h"

struct job {
	void (*fn)(void *arg, size_t i);
	void *arg;
	size_t count;
	atomic_size_t next;             /* the next index to take */
	size_t done;                    /* under pool_lock */
	int helpers;                    /* pool threads on it, under pool_lock */
	pthread_cond_t finished;
	struct job *link;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_work = PTHREAD_COND_INITIALIZER;
static struct job *jobs;                /* with indexes left to take */
static pthread_t *threads;
static int thread_count;
static bool stopping;

int
verify_pool_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

/* Take and run indexes of j until none is left; returns how many ran. */
static size_t
work_on(struct job *j)
{
	size_t ran = 0, i;

	while ((i = atomic_fetch_add(&j->next, 1)) < j->count) {
		j->fn(j->arg, i);
		ran++;
	}
	return ran;
}

/* Under pool_lock: a helper counts the items of j it ran and leaves it;
 * the last one out wakes the caller. */
static void
finish(struct job *j, size_t ran)
{
	j->done += ran;
	if (--j->helpers == 0 && j->done == j->count)
		pthread_cond_signal(&j->finished);
}

/* Under pool_lock: take j out of the list (nothing is left to take). */
static void
unlink_job(struct job *j)
{
	for (struct job **p = &jobs; *p != NULL; p = &(*p)->link)
		if (*p == j) {
			*p = j->link;
			return;
		}
}

static void *
pool_thread(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&pool_lock);
	for (;;) {
		struct job *j;
		size_t ran;

		while (jobs == NULL && !stopping)
			pthread_cond_wait(&pool_work, &pool_lock);
		if (stopping)
			break;
		j = jobs;
		/* Its caller waits for every helper: j stays valid. */
		j->helpers++;
		pthread_mutex_unlock(&pool_lock);
		ran = work_on(j);
		pthread_mutex_lock(&pool_lock);
		unlink_job(j);
		finish(j, ran);
	}
	pthread_mutex_unlock(&pool_lock);
	return NULL;
}

void
verify_pool_run(void (*fn)(void *arg, size_t i), void *arg, size_t count)
{
	struct job j = { .fn = fn, .arg = arg, .count = count };
	size_t ran;

	if (count == 0)
		return;
	atomic_init(&j.next, 0);
	if (thread_count == 0 || count == 1) {
		work_on(&j);
		return;
	}
	pthread_cond_init(&j.finished, NULL);
	pthread_mutex_lock(&pool_lock);
	j.link = jobs;
	jobs = &j;
	pthread_mutex_unlock(&pool_lock);
	pthread_cond_broadcast(&pool_work);
	ran = work_on(&j);
	pthread_mutex_lock(&pool_lock);
	unlink_job(&j);
	j.done += ran;
	while (j.done < j.count || j.helpers > 0)
		pthread_cond_wait(&j.finished, &pool_lock);
	pthread_mutex_unlock(&pool_lock);
	pthread_cond_destroy(&j.finished);
}

int
verify_pool_start(int count)
{
	if (count <= 0)
		return 0;
	if ((threads = calloc((size_t)count, sizeof(*threads))) == NULL)
		return -1;
	for (thread_count = 0; thread_count < count; thread_count++)
		if (pthread_create(&threads[thread_count], NULL, pool_thread,
		    NULL) != 0)
			break;
	return thread_count == count ? 0 : -1;
}

void
verify_pool_stop(void)
{
	pthread_mutex_lock(&pool_lock);
	stopping = true;
	pthread_mutex_unlock(&pool_lock);
	pthread_cond_broadcast(&pool_work);
	for (int i = 0; i < thread_count; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	threads = NULL;
	thread_count = 0;
}
