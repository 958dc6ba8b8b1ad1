/* SPDX-License-Identifier: MIT */
/*
 * sweep.c - sweeping (Go's mgcsweep.go, the part above the spans: lib/alloc/collected.c
 * sweeps one span). Sweeping begins at mark termination (ga_gc_sweep_begin: every span
 * unswept at once) and goes on lazily (a cache sweeps the spans it takes) and in the
 * background; it must be over before the next cycle marks.
 */
#define _GNU_SOURCE
#include <sched.h>

#include "internal.h"

/* Sweep one span. A goroutine sweeps in the runtime, so that no stop-the-world catches it
 * holding a central list's lock or the finalizers' (the stopper takes both).
 * Not inlined: in _go_gc_sweep_finish's loop the compiler would compute _go_curg's address
 * once, before the loop, and the goroutine may be on another thread at the next turn
 * (entering the runtime may move it): TSan, told that stale address, reported a race with
 * the old thread's scheduler (gc/tsan/test_mutate, 3 runs in 8). */
static __attribute__((noinline)) bool sweep_one(void)
{
	struct go_g *g = _go_curg;
	struct go_m *m;
	bool more;

	if (!g)
		return ga_gc_sweep_one();
	m = g->m;
	_go_rt_enter(m);
	more = ga_gc_sweep_one();
	_go_rt_exit(_go_m);
	return more;
}

/* Sweep every span still unswept; returns once none is left, also those another sweeper
 * took (a cache sweeping the span it takes). */
void _go_gc_sweep_finish(void)
{
	while (sweep_one())
		;
	while (atomic_load_explicit(&ga_gc_nunswept, memory_order_acquire))
		sched_yield();
}
