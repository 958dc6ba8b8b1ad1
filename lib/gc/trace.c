/* SPDX-License-Identifier: MIT */
/*
 * trace.c - GODEBUG=gctrace=1 (or GOCHAN_GCTRACE=1): one line per cycle on stderr, in the
 * format of Go's runtime (its package documentation, "gctrace"):
 *   gc # @#s #%: #+#+# ms clock, #+#/#/#+# ms cpu, #->#-># MB, # MB goal, # MB stacks,
 *   # MB globals, # P [(forced)]
 * the cycle's number; seconds since the first cycle began; the share of CPU the collector
 * took since then; wall time of sweep termination (stopped), concurrent mark, mark
 * termination (stopped); CPU time of sweep termination, assists / background workers /
 * idle workers (always 0 here), mark termination (pauses count every P: the world is
 * stopped on all of them); heap at the cycle's start, at the end of marking, and found
 * live; the goal; stack and global bytes scanned; the number of Ps.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int trace_env = -1;

bool _go_gc_trace_enabled(void)
{
	if (trace_env < 0) {
		const char *d = getenv("GODEBUG"), *t = getenv("GOCHAN_GCTRACE");

		trace_env = (d && strstr(d, "gctrace=1")) || (t && !strcmp(t, "1"));
	}
	return trace_env;
}

static uint64_t last_mark_ns, last_assist_ns;

void _go_gc_trace_cycle(void)
{
	const struct gc_cycle_times *c = &_go_gc.last;
	double ms = 1e-6, mb = 1.0 / (1 << 20);
	double stw1 = (double)_go_gc.last_pause[0] * ms, stw2 = (double)_go_gc.last_pause[1] * ms;
	double mark = (double)(c->markterm_start - c->mark_start) * ms;
	uint64_t mark_ns = _go_gc.mark_ns - last_mark_ns, assist_ns = _go_gc.assist_ns -
								     last_assist_ns;
	double elapsed, pct;
	char line[512];
	int n;

	last_mark_ns = _go_gc.mark_ns;
	last_assist_ns = _go_gc.assist_ns;
	if (!_go_gc.start_ns)
		_go_gc.start_ns = c->start;
	_go_gc.cpu_total_ns += (uint64_t)((double)(_go_gc.last_pause[0] + _go_gc.last_pause[1]) *
					  c->nprocs) +
			       mark_ns + assist_ns;
	elapsed = (double)(c->end - _go_gc.start_ns);
	pct = elapsed > 0 ? 100.0 * (double)_go_gc.cpu_total_ns / (elapsed * c->nprocs) : 0;
	n = snprintf(line, sizeof(line),
		     "gc %u @%.3fs %.0f%%: %.3f+%.3f+%.3f ms clock, %.3f+%.3f/%.3f/0+%.3f ms cpu, "
		     "%.0f->%.0f->%.0f MB, %.0f MB goal, %.0f MB stacks, %.0f MB globals, %u P%s\n",
		     _go_gc.cycle, (double)(c->start - _go_gc.start_ns) * 1e-9, pct, stw1, mark,
		     stw2, stw1 * c->nprocs, (double)assist_ns * ms, (double)mark_ns * ms,
		     stw2 * c->nprocs, (double)c->heap_start * mb, (double)c->heap_end * mb,
		     (double)c->marked * mb, (double)c->goal * mb, (double)_go_gc.stacks_bytes * mb,
		     (double)_go_gc.globals_bytes * mb, c->nprocs, c->forced ? " (forced)" : "");
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		n = 0;
}
