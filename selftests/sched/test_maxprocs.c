/* SPDX-License-Identifier: MIT */
/*
 * Description: go_set_maxprocs (Go's GOMAXPROCS): grow and shrink while goroutines run,
 * yield, park and hog their thread; the count read back; no running goroutine on a P that
 * does not exist after a change; no goroutine lost (all finish, the live count returns to
 * one); calls from a plain thread; calls racing with each other; the errors (after
 * golang/go runtime/proc_test.go: TestGOMAXPROCS, and the stop-the-world tests).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include <gochan/sched.h>

#include "sched/internal.h"
#include "tap.h"

#define MS 1000000LL

static int run_procs(unsigned procs, void (*fn)(void *), void *arg)
{
	struct go_config c = { .size = sizeof(c), .maxprocs = procs };

	return go_run_config(&c, fn, arg);
}

/* The P the calling goroutine runs on now (its M's). */
static int my_p(void)
{
	struct go_m *m = _go_curg->m;

	return m->p ? m->p->id : -1;
}

struct load {
	_Atomic uint32_t bound;		/* no running goroutine may be on a P >= this */
	_Atomic uint32_t seq;		/* odd while a resize is in progress */
	_Atomic int stop_hog;
	_Atomic long bad, pless, done, parked_done, yields, checked, straddled;
	struct go_waitgroup workers, gate, parked;
};

/*
 * Running on a P that exists in the world we are in; or, just after a shrink removed ours with
 * no other idle, on none until our next runtime call. The P and the count must be read in the
 * same world: a stop of the world parks a goroutine wherever its code is (in the hog signal's
 * handler, stw.c) and a shrink may then move it to another P or to none, so an id read before
 * the stop is checked against nothing (straddled), as a seqlock's reader retries.
 */
static void check_p(struct load *l)
{
	uint32_t seq = atomic_load(&l->seq);
	uint32_t bound = atomic_load(&l->bound);
	int id = my_p();

	if (id < 0)
		l->pless++;
	if ((seq & 1) || atomic_load(&l->seq) != seq) {
		l->straddled++;
		return;
	}
	l->checked++;
	if (id >= 0 && (uint32_t)id >= bound)
		l->bad++;
}

static void worker(void *arg)
{
	struct load *l = arg;

	for (int i = 0; i < 3000; i++) {
		/* twice: the second after any stop that parked us in the first, before our next
		 * runtime call would give us a P back */
		check_p(l);
		check_p(l);
		l->yields++;
		if (i % 7 == 0)
			go_sleep(10000);
		else
			go_yield();
	}
	l->done++;
	go_wg_done(&l->workers);
}

static void parked_one(void *arg)
{
	struct load *l = arg;

	go_wg_wait(&l->gate);		/* parked through every resize */
	l->parked_done++;
	go_wg_done(&l->parked);
}

static void hog(void *arg)
{
	struct load *l = arg;

	/* Never enters the runtime: a stop of the world must take its P (hog preemption). */
	while (!atomic_load_explicit(&l->stop_hog, memory_order_relaxed))
		;
	l->done++;
	go_wg_done(&l->workers);
}

static void resize_main(void *arg)
{
	static const unsigned sizes[] = { 4, 1, 3, 2, 1, 6, 2, 5, 1, 2 };
	struct load *l = arg;
	struct go_sched_stats st = { .size = sizeof(st) };
	unsigned cur = go_maxprocs();
	int64_t end;

	atomic_store(&l->bound, cur);
	go_wg_add(&l->gate, 1);
	for (int i = 0; i < 20; i++) {
		go_wg_add(&l->parked, 1);
		go_spawn(parked_one, l);
	}
	for (int i = 0; i < 16; i++) {
		go_wg_add(&l->workers, 1);
		go_spawn(worker, l);
	}
	go_wg_add(&l->workers, 1);
	go_spawn(hog, l);
	for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		unsigned n = sizes[k];
		int prev;

		atomic_fetch_add(&l->seq, 1);	/* odd: the workers check nothing meanwhile */
		prev = go_set_maxprocs(n);
		atomic_store(&l->bound, n);
		atomic_fetch_add(&l->seq, 1);
		/* It returns the previous count, and the new one reads back. */
		CHECK(prev == (int)cur, "set %u: previous %d, want %u", n, prev, cur);
		CHECK(go_maxprocs() == n, "go_maxprocs %u after set %u", go_maxprocs(), n);
		CHECK(go_set_maxprocs(0) == (int)n, "read %u", n);
		CHECK(go_sched_stats(&st) == 0 && st.maxprocs == n, "stats %u", st.maxprocs);
		/* The caller runs on a P that exists. */
		CHECK(my_p() >= 0 && (unsigned)my_p() < n, "caller on P %d of %u", my_p(), n);
		cur = n;
		go_sleep(2 * MS);
	}
	atomic_store(&l->stop_hog, 1);
	go_wg_wait(&l->workers);
	go_wg_done(&l->gate);
	go_wg_wait(&l->parked);
	/* Every goroutine ran to its end: none was lost with a removed P's run queue. */
	CHECK(l->done == 17 && l->parked_done == 20, "done %ld/17, parked %ld/20",
	      (long)l->done, (long)l->parked_done);
	/* ... and the live count (summed over the Ps) comes back to main alone. */
	end = go_now() + 10000 * MS;
	do {
		go_sleep(MS);
		go_sched_stats(&st);
	} while (st.goroutines != 1 && go_now() < end);
	CHECK(st.goroutines == 1, "goroutines %llu", (unsigned long long)st.goroutines);
	CHECK(l->bad == 0, "%ld runs on a P that did not exist", (long)l->bad);
	/* (not all across a resize: a resize that takes long lets the workers run meanwhile, up
	 * to 3 reads in 4 in the plain build, but it sleeps 2 ms after each) */
	CHECK(l->checked >= 1000, "%ld of %ld reads checked", (long)l->checked,
	      (long)(l->checked + l->straddled));
	printf("# %ld yields, %ld reads seen without a P, %ld reads across a resize\n",
	       (long)l->yields, (long)l->pless, (long)l->straddled);
}

static void resize_under_load(void)
{
	struct load l = { 0 };

	CHECK(run_procs(2, resize_main, &l) == 0, "go_run");
}

static void *thread_resize(void *arg)
{
	int *ret = arg;

	ret[0] = go_set_maxprocs(3);
	ret[1] = (int)go_maxprocs();
	ret[2] = go_set_maxprocs(1);
	return NULL;
}

static void spin_yield(void *arg)
{
	struct load *l = arg;

	while (!atomic_load(&l->stop_hog))
		go_yield();
	go_wg_done(&l->workers);
}

static void thread_main(void *arg)
{
	struct load *l = arg;
	int ret[3] = { 0 };
	pthread_t t;

	for (int i = 0; i < 4; i++) {
		go_wg_add(&l->workers, 1);
		go_spawn(spin_yield, l);
	}
	pthread_create(&t, NULL, thread_resize, ret);
	GO_SYSCALL(pthread_join(t, NULL));
	/* A thread that is not an M may resize too: 2 -> 3 -> 1. */
	CHECK(ret[0] == 2 && ret[1] == 3 && ret[2] == 3, "from a thread: %d %d %d",
	      ret[0], ret[1], ret[2]);
	CHECK(go_maxprocs() == 1, "now %u", go_maxprocs());
	atomic_store(&l->stop_hog, 1);
	go_wg_wait(&l->workers);
}

static void resize_from_a_thread(void)
{
	struct load l = { 0 };

	CHECK(run_procs(2, thread_main, &l) == 0, "go_run");
}

struct race {
	_Atomic int bad, stop;
	struct go_waitgroup resizers, workers;
};

static void racing_resizer(void *arg)
{
	struct race *r = arg;
	uint32_t x = (uint32_t)go_id() * 2654435761u;

	for (int i = 0; i < 30; i++) {
		int prev;

		x = x * 1103515245u + 12345u;
		prev = go_set_maxprocs((int)(1 + (x >> 16) % 4));
		/* whatever came first, the previous count was one of ours (or the first 2) */
		if (prev < 1 || prev > 4)
			r->bad++;
		if (i % 3 == 0)
			go_yield();
	}
	go_wg_done(&r->resizers);
}

static void racing_worker(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->stop))	/* load: Ps to stop and to take */
		go_yield();
	go_wg_done(&r->workers);
}

static void race_main(void *arg)
{
	struct race *r = arg;
	unsigned now;

	for (int i = 0; i < 8; i++) {
		go_wg_add(&r->workers, 1);
		go_spawn(racing_worker, r);
	}
	for (int i = 0; i < 3; i++) {
		go_wg_add(&r->resizers, 1);
		go_spawn(racing_resizer, r);
	}
	go_wg_wait(&r->resizers);
	now = go_maxprocs();
	/* Calls racing each other are serialized: each saw a count one of them set. */
	CHECK(r->bad == 0, "%d bad counts", r->bad);
	CHECK(now >= 1 && now <= 4, "now %u", now);
	/* The world goes on with what the last one set: the caller is on one of its Ps. */
	CHECK(my_p() >= 0 && (unsigned)my_p() < now, "caller on P %d of %u", my_p(), now);
	atomic_store(&r->stop, 1);
	go_wg_wait(&r->workers);
}

static void resizes_race_each_other(void)
{
	struct race r = { 0 };

	CHECK(run_procs(2, race_main, &r) == 0, "go_run");
}

static void errors_main(void *arg)
{
	(void)arg;
	/* More than the most Ps: -EINVAL, nothing changed. */
	CHECK(go_set_maxprocs(GO_MAXPROCS_MAX + 1) == -EINVAL, "too many");
	CHECK(go_maxprocs() == 2, "changed");
	/* n <= 0 reads. */
	CHECK(go_set_maxprocs(0) == 2 && go_set_maxprocs(-1) == 2, "read");
	CHECK(go_maxprocs() == 2, "changed by a read");
	/* The same count: returned, nothing stopped. */
	CHECK(go_set_maxprocs(2) == 2, "same");
	/* The most there can be. */
	CHECK(go_set_maxprocs(GO_MAXPROCS_MAX) == 2 && go_maxprocs() == GO_MAXPROCS_MAX, "max");
	CHECK(go_set_maxprocs(1) == GO_MAXPROCS_MAX, "back to 1");
}

static void errors_and_limits(void)
{
	/* No scheduler: -EPERM. */
	CHECK(go_set_maxprocs(2) == -EPERM, "no scheduler");
	CHECK(run_procs(2, errors_main, NULL) == 0, "go_run");
	/* A later go_run starts from its own config again. */
	CHECK(run_procs(2, errors_main, NULL) == 0, "go_run again");
}

int main(int argc, char **argv)
{
	TEST(resize_under_load);
	TEST(resize_from_a_thread);
	TEST(resizes_race_each_other);
	TEST(errors_and_limits);
	return tap_any_failed;
}
