/* SPDX-License-Identifier: MIT */
/*
 * helpers.h - what the collector's test programs share: running a test's main goroutine on
 * a number of Ps, and reading the collector's counters.
 */
#ifndef GC_HELPERS_H
#define GC_HELPERS_H

#include <gochan/gc.h>
#include <gochan/sched.h>

/* go_run_config with @procs Ps (0: $GOCHAN_MAXPROCS). */
static inline int run(unsigned procs, void (*fn)(void *), void *arg)
{
	struct go_config c = { .size = sizeof(c), .maxprocs = procs };

	return go_run_config(&c, fn, arg);
}

static inline struct go_gc_stats stats(void)
{
	struct go_gc_stats st = { .size = sizeof(st) };

	go_gc_read_stats(&st);
	return st;
}

#endif
