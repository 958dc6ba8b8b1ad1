/* SPDX-License-Identifier: MIT */
/*
 * Description: sync.RWMutex (go_sync_rwmutex): readers share, writers exclude everyone, a
 * writer is not starved by a stream of readers, TryLock and TryRLock.
 */
#include "tap.h"

static struct go_sync_rwmutex rw = GO_SYNC_RWMUTEX_INIT;
static struct go_waitgroup wg;
static long value;		/* written under the write lock, read under either */
static int writers_in, readers_in;	/* atomic */
static long iters;

static void writer(void *arg)
{
	(void)arg;
	for (long i = 0; i < iters; i++) {
		go_sync_rwmutex_lock(&rw);
		/* A writer is alone: no other writer, no reader. */
		CHECK(__atomic_fetch_add(&writers_in, 1, __ATOMIC_RELAXED) == 0, "two writers");
		CHECK(__atomic_load_n(&readers_in, __ATOMIC_RELAXED) == 0, "reader with writer");
		value++;
		if ((i & 15) == 0)
			go_yield();
		__atomic_fetch_sub(&writers_in, 1, __ATOMIC_RELAXED);
		go_sync_rwmutex_unlock(&rw);
	}
	go_wg_done(&wg);
}

static void reader(void *arg)
{
	(void)arg;
	for (long i = 0; i < iters; i++) {
		go_sync_rwmutex_rlock(&rw);
		__atomic_fetch_add(&readers_in, 1, __ATOMIC_RELAXED);
		/* No writer while we read. */
		CHECK(__atomic_load_n(&writers_in, __ATOMIC_RELAXED) == 0, "writer with reader");
		(void)*(volatile long *)&value;
		if ((i & 7) == 0)
			go_yield();
		__atomic_fetch_sub(&readers_in, 1, __ATOMIC_RELAXED);
		go_sync_rwmutex_runlock(&rw);
	}
	go_wg_done(&wg);
}

static void rwmutex_excludes(void)
{
	const int nw = 4, nr = 32;

	iters = tap_scale(2000);
	value = 0;
	go_wg_add(&wg, nw + nr);
	for (int i = 0; i < nr; i++) {
		go_spawn(reader, NULL);
		if (i < nw)
			go_spawn(writer, NULL);
	}
	go_wg_wait(&wg);
	/* Every write happened alone: none was lost. */
	CHECK(value == nw * iters, "value %ld, want %ld", value, nw * iters);
}

/* ---- a writer among readers that never stop ---- */

static int stop;		/* atomic: the writer got in */
static long reads_during_write;	/* atomic */
static int writing;		/* atomic */

static void stream_reader(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		go_sync_rwmutex_rlock(&rw);
		if (__atomic_load_n(&writing, __ATOMIC_RELAXED))
			__atomic_fetch_add(&reads_during_write, 1, __ATOMIC_RELAXED);
		go_yield();	/* hold the read lock across a switch: readers overlap */
		go_sync_rwmutex_runlock(&rw);
	}
	go_wg_done(&wg);
}

/*
 * Eight readers keep the read lock held by at least one of them at every moment; a writer
 * must still get in (Go's design: once it waits, new readers wait behind it). If writers
 * could be starved, the lock would never return and the test would time out.
 */
static void rwmutex_writer_not_starved(void)
{
	const int nr = 8;

	stop = 0;
	reads_during_write = 0;
	go_wg_add(&wg, nr);
	for (int i = 0; i < nr; i++)
		go_spawn(stream_reader, NULL);
	go_yield();
	go_sync_rwmutex_lock(&rw);
	__atomic_store_n(&writing, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 100; i++)
		go_yield();	/* give readers every chance to get in, wrongly */
	/* No reader got in while the writer held the lock. */
	CHECK(__atomic_load_n(&reads_during_write, __ATOMIC_RELAXED) == 0,
	      "%ld reads during the write", reads_during_write);
	__atomic_store_n(&writing, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	go_sync_rwmutex_unlock(&rw);
	go_wg_wait(&wg);
}

static void pending_writer(void *arg)
{
	(void)arg;
	go_sync_rwmutex_lock(&rw);
	go_sync_rwmutex_unlock(&rw);
	go_wg_done(&wg);
}

static void rwmutex_try(void)
{
	uint64_t parks0 = sync_parks();

	/* Free: a try of either kind succeeds. */
	CHECK(go_sync_rwmutex_tryrlock(&rw), "tryrlock on a free lock");
	/* Readers share ... */
	CHECK(go_sync_rwmutex_tryrlock(&rw), "second tryrlock");
	/* ... but exclude a writer. */
	CHECK(!go_sync_rwmutex_trylock(&rw), "trylock with readers in");
	go_sync_rwmutex_runlock(&rw);

	/* A writer waiting for our read lock keeps new readers out, tries included. */
	go_wg_add(&wg, 1);
	go_spawn(pending_writer, NULL);
	wait_parks(parks0 + 1);
	CHECK(!go_sync_rwmutex_tryrlock(&rw), "tryrlock with a writer pending");
	go_sync_rwmutex_runlock(&rw);		/* the last reader lets the writer in */
	go_wg_wait(&wg);

	CHECK(go_sync_rwmutex_trylock(&rw), "trylock on a free lock");
	/* A writer excludes both kinds of try. */
	CHECK(!go_sync_rwmutex_trylock(&rw), "second trylock");
	CHECK(!go_sync_rwmutex_tryrlock(&rw), "tryrlock with a writer in");
	go_sync_rwmutex_unlock(&rw);
}

static void runlock_unlocked(void)
{
	struct go_sync_rwmutex m = GO_SYNC_RWMUTEX_INIT;

	go_sync_rwmutex_runlock(&m);
}

static void unlock_unlocked(void)
{
	struct go_sync_rwmutex m = GO_SYNC_RWMUTEX_INIT;

	go_sync_rwmutex_unlock(&m);
}

/* Unlocks of either kind on an unlocked RWMutex are Go's fatal errors. */
static void rwmutex_unlock_of_unlocked_aborts(void)
{
	CHECK(dies_with(runlock_unlocked, "RUnlock of unlocked RWMutex"), "no abort on RUnlock");
	CHECK(dies_with(unlock_unlocked, "Unlock of unlocked RWMutex"), "no abort on Unlock");
}

int main(int argc, char **argv)
{
	TEST(rwmutex_excludes);
	TEST(rwmutex_writer_not_starved);
	TEST(rwmutex_try);
	TEST_NO_SCHED(rwmutex_unlock_of_unlocked_aborts);
	return tap_any_failed;
}
