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

/* Sweep every span still unswept; returns once none is left, also those another sweeper
 * took (a cache sweeping the span it takes). */
void _go_gc_sweep_finish(void)
{
	while (ga_gc_sweep_one())
		;
	while (atomic_load_explicit(&ga_gc_nunswept, memory_order_acquire))
		sched_yield();
}
