/* SPDX-License-Identifier: MIT */
/*
 * Description: stopping the world (lib/sched/stw.c). While the world is stopped no goroutine
 * but the stopper's runs: goroutines counting in program code (stopped by the signal) and
 * goroutines making runtime calls (stopped at their safe points) make no progress between two
 * reads a stop apart, stop after stop, the stops back to back (a restart followed at once by
 * the next stop is when a goroutine leaving its park could miss the second one).
 * Nothing is timed: the counts are exact.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>

#include <gochan/sched.h>

#include "sched/internal.h"
#include "tap.h"

#define WORKERS 3
#define STOPS 3000

static _Atomic long ticks;
static _Atomic int stop_workers;
static long moved_while_stopped, stops_done;
static struct go_waitgroup wg;

static void worker(void *arg)
{
	uintptr_t k = (uintptr_t)arg;

	for (unsigned long i = 0; !atomic_load_explicit(&stop_workers, memory_order_relaxed); i++) {
		atomic_fetch_add_explicit(&ticks, 1, memory_order_relaxed);
		/* half the workers call into the runtime now and then (safe points), the other
		 * half only when told to end (the signal stops them) */
		if (k % 2 == 0 && i % 64 == 0)
			go_yield();
	}
	go_wg_done(&wg);
}

static void stopper(void *arg)
{
	struct go_m *m;

	(void)arg;
	go_wg_add(&wg, WORKERS);
	for (uintptr_t k = 0; k < WORKERS; k++)
		go_spawn(worker, (void *)k);
	for (int i = 0; i < STOPS; i++) {
		long t1, t2;

		m = _go_curg->m;
		_go_rt_enter(m);
		if (_go_stw_stop() < 0) {
			_go_stw_start();
			_go_rt_exit(m);
			break;
		}
		t1 = atomic_load(&ticks);
		for (int j = 0; j < 200; j++)
			__builtin_ia32_pause();
		t2 = atomic_load(&ticks);
		if (t2 != t1)
			moved_while_stopped++;
		stops_done++;
		_go_stw_start();
		_go_rt_exit(_go_curg->m);
		if (i % 16 == 0)
			go_yield();
	}
	atomic_store(&stop_workers, 1);
	go_wg_wait(&wg);
}

static void nothing_runs_while_the_world_is_stopped(void)
{
	struct go_config c = { .size = sizeof(c), .maxprocs = 2 };

	CHECK(go_run_config(&c, stopper, NULL) == 0, "go_run");
	printf("# %ld stops, %ld ticks counted by the workers\n", stops_done, (long)ticks);
	CHECK(stops_done == STOPS, "%ld of %d stops", stops_done, STOPS);
	CHECK(moved_while_stopped == 0, "a goroutine ran during %ld of %ld stops",
	      moved_while_stopped, stops_done);
}

int main(int argc, char **argv)
{
	TEST(nothing_runs_while_the_world_is_stopped);
	return tap_any_failed;
}
