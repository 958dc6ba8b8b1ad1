/* SPDX-License-Identifier: MIT */
/*
 * Description: sync.Cond (go_sync_cond): Signal wakes one waiter, Broadcast all, and no
 * wakeup is lost between a waiter's unlock and its sleep, for goroutines and threads.
 */
#include <pthread.h>

#include "tap.h"

static struct go_sync_mutex mu;
static struct go_sync_cond cond = GO_SYNC_COND_INIT(&mu);
static struct go_waitgroup wg;
static int generation;		/* under mu */
static int woken;		/* atomic */

static void gen_waiter(void *arg)
{
	int my;

	(void)arg;
	go_sync_mutex_lock(&mu);
	my = generation;
	while (generation == my)
		go_sync_cond_wait(&cond);
	go_sync_mutex_unlock(&mu);
	__atomic_fetch_add(&woken, 1, __ATOMIC_RELAXED);
	go_wg_done(&wg);
}

/*
 * Eight goroutines wait; each Signal (with the condition changed) lets exactly one more
 * through. A Signal that found nobody, or woke two, would show in the count.
 */
static void cond_signal_wakes_one(void)
{
	const int n = 8;
	uint64_t parks0 = sync_parks();

	woken = 0;
	go_wg_add(&wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(gen_waiter, NULL);
	wait_parks(parks0 + n);			/* all of them wait */
	for (int i = 1; i <= n; i++) {
		go_sync_mutex_lock(&mu);
		generation++;
		go_sync_cond_signal(&cond);
		go_sync_mutex_unlock(&mu);
		while (__atomic_load_n(&woken, __ATOMIC_RELAXED) < i)
			go_yield();
		for (int k = 0; k < 20; k++)
			go_yield();
		/* One Signal, one more goroutine through: not two. */
		CHECK(__atomic_load_n(&woken, __ATOMIC_RELAXED) == i, "woken %d after %d signals",
		      woken, i);
	}
	go_wg_wait(&wg);
}

static void cond_broadcast_wakes_all(void)
{
	const int n = 16;
	uint64_t parks0 = sync_parks();

	woken = 0;
	go_wg_add(&wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(gen_waiter, NULL);
	wait_parks(parks0 + n);
	go_sync_mutex_lock(&mu);
	generation++;
	go_sync_cond_broadcast(&cond);
	go_sync_mutex_unlock(&mu);
	go_wg_wait(&wg);
	/* One Broadcast woke all sixteen. */
	CHECK(woken == n, "woken %d of %d", woken, n);
}

/* ---- a queue: producers signal, consumers wait; no wakeup may be lost ---- */

static long items, consumed;	/* under mu */
static long total;
static int done_producing;	/* under mu */

static void consumer(void *arg)
{
	(void)arg;
	go_sync_mutex_lock(&mu);
	for (;;) {
		while (items == 0 && !done_producing)
			go_sync_cond_wait(&cond);
		if (items == 0)
			break;
		items--;
		consumed++;
		if ((consumed & 31) == 0) {
			go_sync_mutex_unlock(&mu);
			go_yield();
			go_sync_mutex_lock(&mu);
		}
	}
	go_sync_mutex_unlock(&mu);
	go_wg_done(&wg);
}

static void producer(void *arg)
{
	long n = (long)arg;

	for (long i = 0; i < n; i++) {
		go_sync_mutex_lock(&mu);
		items++;
		go_sync_cond_signal(&cond);	/* one item, one consumer */
		go_sync_mutex_unlock(&mu);
		if ((i & 7) == 0)
			go_yield();
	}
	go_wg_done(&wg);
}

static void *thread_consumer(void *arg)
{
	consumer(arg);
	return NULL;
}

/*
 * Items are signalled one at a time: a lost wakeup would leave an item with every consumer
 * asleep, and the wait below for the full count would never end (the test times out). The
 * closing Broadcast comes only once every item was consumed on Signals alone.
 */
static void cond_no_lost_wakeups(void)
{
	const int nc = 6, np = 3;
	long per = tap_scale(3000);
	pthread_t t;

	items = consumed = 0;
	done_producing = 0;
	total = np * per;
	go_wg_add(&wg, nc + 1 + np);
	pthread_create(&t, NULL, thread_consumer, NULL);	/* a plain thread consumes too */
	for (int i = 0; i < nc; i++)
		go_spawn(consumer, NULL);
	for (int i = 0; i < np; i++)
		go_spawn(producer, (void *)per);
	for (;;) {
		long c;

		go_sync_mutex_lock(&mu);
		c = consumed;
		go_sync_mutex_unlock(&mu);
		if (c == total)
			break;
		go_yield();
	}
	go_sync_mutex_lock(&mu);
	done_producing = 1;
	go_sync_cond_broadcast(&cond);
	go_sync_mutex_unlock(&mu);
	go_wg_wait(&wg);
	pthread_join(t, NULL);
	/* All produced items were consumed exactly once. */
	CHECK(consumed == total && items == 0, "consumed %ld of %ld, %ld left", consumed,
	      total, items);
}

int main(int argc, char **argv)
{
	TEST(cond_signal_wakes_one);
	TEST(cond_broadcast_wakes_all);
	TEST_THREADS(cond_no_lost_wakeups);
	return tap_any_failed;
}
