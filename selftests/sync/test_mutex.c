/* SPDX-License-Identifier: MIT */
/*
 * Description: sync.Mutex (go_sync_mutex): mutual exclusion among goroutines and threads,
 * TryLock, and starvation mode's hand-off to a waiter that waited more than 1 ms.
 */
#include <pthread.h>
#include <string.h>

#include "tap.h"

static struct go_sync_mutex mu = GO_SYNC_MUTEX_INIT;
static struct go_waitgroup wg;
static long counter;		/* under mu, on purpose not atomic */
static int inside;		/* holders of mu now (atomic) */
static long iters;

static void critical(void)
{
	/* Nobody else is between lock and unlock. */
	CHECK(__atomic_fetch_add(&inside, 1, __ATOMIC_RELAXED) == 0, "two holders");
	counter++;
	if ((counter & 63) == 0)
		go_yield();	/* park others behind a holder that is switched out */
	__atomic_fetch_sub(&inside, 1, __ATOMIC_RELAXED);
}

/* Lock and unlock as called: inline (<gochan/sync.h>'s fast paths) or through the
 * library's exported functions, as a binding or a function pointer reaches them. */
struct lock_ops {
	void (*lock)(struct go_sync_mutex *);
	void (*unlock)(struct go_sync_mutex *);
};

static void locker(void *arg)
{
	const struct lock_ops *ops = arg;

	for (long i = 0; i < iters; i++) {
		if (ops)
			ops->lock(&mu);
		else
			go_sync_mutex_lock(&mu);
		critical();
		if (ops)
			ops->unlock(&mu);
		else
			go_sync_mutex_unlock(&mu);
	}
	go_wg_done(&wg);
}

static void excludes_goroutines(const struct lock_ops *ops)
{
	const int n = 64;

	iters = tap_scale(2000);
	counter = 0;
	go_wg_add(&wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(locker, (void *)ops);
	go_wg_wait(&wg);
	/* Every increment happened under the lock: none was lost. */
	CHECK(counter == n * iters, "counter %ld, want %ld", counter, n * iters);
	/* It is free again. */
	CHECK(go_sync_mutex_trylock(&mu), "not free at the end");
	go_sync_mutex_unlock(&mu);
}

static void mutex_excludes_goroutines(void)
{
	excludes_goroutines(NULL);
}

/* The exported functions, not the inline halves: a call through a pointer. */
static void mutex_out_of_line_excludes_goroutines(void)
{
	static const struct lock_ops ops = { go_sync_mutex_lock, go_sync_mutex_unlock };
	const struct lock_ops *volatile p = &ops;

	excludes_goroutines(p);
}

static void *thread_locker(void *arg)
{
	(void)arg;
	for (long i = 0; i < iters; i++) {
		go_sync_mutex_lock(&mu);
		CHECK(__atomic_fetch_add(&inside, 1, __ATOMIC_RELAXED) == 0, "two holders");
		counter++;
		__atomic_fetch_sub(&inside, 1, __ATOMIC_RELAXED);
		go_sync_mutex_unlock(&mu);
	}
	return NULL;
}

/* Plain threads (not goroutines) and goroutines share one mutex: threads block on a futex. */
static void mutex_excludes_threads_and_goroutines(void)
{
	pthread_t t[2];
	const int n = 8;

	iters = tap_scale(2000);
	counter = 0;
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, thread_locker, NULL);
	go_wg_add(&wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(locker, NULL);
	go_wg_wait(&wg);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	/* Every increment of both kinds was exclusive. */
	CHECK(counter == (n + 2) * iters, "counter %ld, want %ld", counter, (n + 2) * iters);
}

/* No scheduler at all: the mutex works between plain threads. */
static void mutex_without_scheduler(void)
{
	pthread_t t[3];

	iters = tap_scale(20000);
	counter = 0;
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, thread_locker, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	/* Exclusive without a scheduler too. */
	CHECK(counter == 3 * iters, "counter %ld, want %ld", counter, 3 * iters);
}

static void mutex_trylock(void)
{
	struct go_sync_mutex m = GO_SYNC_MUTEX_INIT;

	/* A free mutex is taken ... */
	CHECK(go_sync_mutex_trylock(&m), "free mutex not taken");
	/* ... a held one is not, not even by its holder ... */
	CHECK(!go_sync_mutex_trylock(&m), "held mutex taken");
	go_sync_mutex_unlock(&m);
	/* ... and it is free again after the unlock. */
	CHECK(go_sync_mutex_trylock(&m), "unlocked mutex not taken");
	go_sync_mutex_unlock(&m);
}

static void unlock_unlocked(void)
{
	struct go_sync_mutex m = GO_SYNC_MUTEX_INIT;

	go_sync_mutex_unlock(&m);
}

/* Unlocking an unlocked mutex is Go's fatal error: a message, then abort. */
static void mutex_unlock_of_unlocked_aborts(void)
{
	CHECK(dies_with(unlock_unlocked, "unlock of unlocked mutex"), "no abort");
}

/* ---- starvation mode ---- */

static struct go_sync_mutex smu;
static char order[8];
static int norder;

static void starved_locker(void *arg)
{
	go_sync_mutex_lock(&smu);
	order[norder++] = *(const char *)arg;	/* under smu */
	go_sync_mutex_unlock(&smu);
	go_wg_done(&wg);
}

static void sync_counts(uint64_t *starving, uint64_t *handoffs)
{
	struct go_sync_stats st = { .size = sizeof(st) };

	go_sync_stats(&st);
	*starving = st.mutex_starving;
	*handoffs = st.mutex_handoffs;
}

/*
 * A waiter W that waited more than 1 ms and then lost the lock to a running goroutine
 * switches the mutex to starvation mode; from then on the lock is handed to W, and to the
 * waiter behind it, before a newly arriving locker. Timing only ever makes W's wait longer:
 * the outcome is exact. On 1 P, where the interleaving is fixed.
 */
static void mutex_starvation_handoff(void)
{
	uint64_t parks0 = sync_parks(), st0, ho0, st1, ho1;

	memset(&smu, 0, sizeof(smu));
	norder = 0;
	sync_counts(&st0, &ho0);
	go_wg_add(&wg, 2);

	go_sync_mutex_lock(&smu);
	go_spawn(starved_locker, "W");
	wait_parks(parks0 + 1);			/* W waits */
	go_sleep(2000000);			/* ... for more than 1 ms */
	go_sync_mutex_unlock(&smu);		/* normal mode: W is woken, and must compete */
	go_sync_mutex_lock(&smu);		/* we are running: we win */
	wait_parks(parks0 + 2);			/* W lost after waiting > 1 ms: it queues again */
	sync_counts(&st1, &ho1);
	/* W switched the mutex to starvation mode. */
	CHECK(st1 - st0 == 1, "starvation entries %llu, want 1", (unsigned long long)(st1 - st0));
	/* A starving mutex belongs to its queue: TryLock does not compete. */
	CHECK(!go_sync_mutex_trylock(&smu), "trylock took a starving mutex");

	go_spawn(starved_locker, "N");		/* a newcomer: queues behind W */
	wait_parks(parks0 + 3);
	go_sync_mutex_unlock(&smu);		/* hands the lock to W */
	go_sync_mutex_lock(&smu);		/* and we queue behind N */
	order[norder++] = 'M';
	go_sync_mutex_unlock(&smu);
	go_wg_wait(&wg);

	sync_counts(&st1, &ho1);
	/* W, then N (each handed the lock), then we who came last. */
	CHECK(norder == 3 && !memcmp(order, "WNM", 3), "order %.*s, want WNM", norder, order);
	/* Two hand-offs: ours to W, W's to N; N was the last waiter and left the mode. */
	CHECK(ho1 - ho0 == 2, "hand-offs %llu, want 2", (unsigned long long)(ho1 - ho0));
	CHECK(st1 - st0 == 1, "starvation entries %llu, want 1", (unsigned long long)(st1 - st0));
	/* Normal mode again: a free mutex is taken by TryLock. */
	CHECK(go_sync_mutex_trylock(&smu), "mutex not back in normal mode");
	go_sync_mutex_unlock(&smu);
}

/*
 * An unlock that wakes a waiter leaves the mutex "woken" until that waiter runs: on 1 P,
 * until the holder next switches. Meanwhile the holder locks and unlocks as it likes (the
 * inline halves take a free mutex whatever else is set, and an unlock that leaves only
 * "woken" wakes nobody); nobody parks again, and the woken waiter then gets the lock.
 */
static void mutex_woken_waiter_keeps_its_turn(void)
{
	uint64_t parks0 = sync_parks();

	memset(&smu, 0, sizeof(smu));
	norder = 0;
	go_wg_add(&wg, 1);
	go_sync_mutex_lock(&smu);
	go_spawn(starved_locker, "W");
	wait_parks(parks0 + 1);			/* W waits */
	go_sync_mutex_unlock(&smu);		/* W is woken: runnable, not running */
	for (int i = 0; i < 1000; i++) {
		go_sync_mutex_lock(&smu);
		CHECK(smu.state == (GO_SYNC_MUTEX_LOCKED_ | GO_SYNC_MUTEX_WOKEN_),
		      "state %#x with W woken and not yet run", (unsigned)smu.state);
		go_sync_mutex_unlock(&smu);
	}
	CHECK(norder == 0, "W ran before we switched");
	CHECK(sync_parks() == parks0 + 1, "parks %llu, want 1",
	      (unsigned long long)(sync_parks() - parks0));
	go_wg_wait(&wg);			/* W runs now and takes it */
	CHECK(norder == 1 && order[0] == 'W', "W did not get the lock");
	CHECK(smu.state == 0, "state %#x at the end, want 0", (unsigned)smu.state);
}

int main(int argc, char **argv)
{
	TEST(mutex_excludes_goroutines);
	TEST(mutex_out_of_line_excludes_goroutines);
	TEST_THREADS(mutex_excludes_threads_and_goroutines);
	TEST_NO_SCHED(mutex_without_scheduler);
	TEST(mutex_trylock);
	TEST_NO_SCHED(mutex_unlock_of_unlocked_aborts);
	TEST_PROCS(mutex_starvation_handoff, 1);
	TEST_PROCS(mutex_woken_waiter_keeps_its_turn, 1);
	return tap_any_failed;
}
