/* SPDX-License-Identifier: MIT */
/*
 * pacer.c - when cycles start and how much marking an allocation pays for (Go's
 * mgcpacer.go, reduced), and the two settings: GOGC and GOMEMLIMIT.
 *
 *   goal     = marked * (1 + GOGC/100), at least 4 MiB * GOGC/100 (Go's heapminimum);
 *              GOGC off: no goal of its own;
 *   limit    the soft memory limit bounds it: goal <= limit - what the heap maps besides
 *              the collected objects (metadata, malloc's spans, free pages kept), as Go's
 *              memoryLimitHeapGoal; never below marked + marked/16 + 1 MiB, so that a
 *              heap live above the limit still makes progress instead of collecting
 *              back to back (Go lets the limit be exceeded too, and caps GC CPU instead);
 *   trigger  = goal (a cycle starts when heap_live gets there; marking is short next to
 *              the room, and assists make allocation pay while it runs);
 *   assist   scan work expected (what the last cycle found live, Go's heapScan estimate)
 *              over the room left before the goal when marking begins.
 * Decision beside Go's: Go triggers before the goal (a trigger ratio fitted each cycle)
 * so that marking ends at the goal; starting at the goal overshoots it by what is
 * allocated while marking, which assists bound.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define GC_HEAP_MIN (4u << 20)

/* What the heap maps besides collected objects (bytes). */
static uint64_t heap_overhead(void)
{
	uint64_t mapped = ((uint64_t)load_relaxed(&ga_heap.inuse_pages) +
			   load_relaxed(&ga_heap.free_pages) -
			   load_relaxed(&ga_heap.scav_pages)) *
				  GA_PAGE_SIZE +
			  load_relaxed(&ga_heap.meta_bytes);
	uint64_t live = (uint64_t)load_relaxed(&_go_gc.heap_live);

	return mapped > live ? mapped - live : 0;
}

uint64_t _go_gc_heap_goal(uint64_t marked)
{
	int pct = load_relaxed(&_go_gc.percent);
	int64_t limit = load_relaxed(&_go_gc.memory_limit);
	uint64_t goal = UINT64_MAX, min;

	if (pct >= 0) {
		goal = marked + marked * (uint64_t)pct / 100;
		min = (uint64_t)GC_HEAP_MIN * (uint64_t)pct / 100;
		if (goal < min)
			goal = min;
	}
	if (limit != INT64_MAX) {
		uint64_t over = heap_overhead(), floor = marked + marked / 16 + (1u << 20);
		uint64_t lgoal = (uint64_t)limit > over ? (uint64_t)limit - over : 0;

		if (lgoal < floor)
			lgoal = floor;
		if (lgoal < goal)
			goal = lgoal;
	}
	return goal;
}

static void goal_update(uint64_t marked)
{
	_go_gc.heap_goal = _go_gc_heap_goal(marked);
	store_relaxed(&_go_gc.heap_trigger, _go_gc.heap_goal);
}

/* "512MiB", "1GiB", "1e9", "100000"; -1 if it is none of those. "off": INT64_MAX. */
static int64_t parse_bytes(const char *e)
{
	static const struct { const char *suf; int shift; } sufs[] = {
		{ "B", 0 }, { "KiB", 10 }, { "MiB", 20 }, { "GiB", 30 }, { "TiB", 40 },
	};
	char *end;
	double v;

	if (!strcmp(e, "off"))
		return INT64_MAX;
	v = strtod(e, &end);
	if (end == e || v < 0)
		return -1;
	if (*end) {
		size_t i;

		for (i = 0; i < sizeof(sufs) / sizeof(sufs[0]); i++)
			if (!strcmp(end, sufs[i].suf))
				break;
		if (i == sizeof(sufs) / sizeof(sufs[0]))
			return -1;
		v *= (double)(1ull << sufs[i].shift);
	}
	return v >= 9.2e18 ? INT64_MAX : (int64_t)v;
}

void _go_gc_pacer_init(void)
{
	const char *e = getenv("GOGC");
	int64_t limit;

	if (e && !strcmp(e, "off"))
		_go_gc.percent = -1;
	else if (e && *e && (isdigit((unsigned char)*e) || *e == '-'))
		_go_gc.percent = atoi(e) < 0 ? -1 : atoi(e);
	e = getenv("GOMEMLIMIT");
	if (e && *e && (limit = parse_bytes(e)) >= 0)
		store_relaxed(&_go_gc.memory_limit, limit);
	goal_update(0);
}

GOCHAN_API int go_gc_set_percent(int pct)
{
	int old;

	_go_gc_init();
	old = xchg(&_go_gc.percent, pct < 0 ? -1 : pct);
	goal_update(_go_gc.heap_marked);
	return old;
}

GOCHAN_API int64_t go_gc_set_memory_limit(int64_t bytes)
{
	int64_t old;

	_go_gc_init();
	if (bytes < 0)
		return load_relaxed(&_go_gc.memory_limit);
	old = xchg(&_go_gc.memory_limit, bytes);
	goal_update(_go_gc.heap_marked);
	return old;
}

void _go_gc_pacer_mark_begin(void)
{
	int64_t live = load_relaxed(&_go_gc.heap_live);
	uint64_t goal = _go_gc.heap_goal, expect = _go_gc.heap_marked;
	int64_t room = goal > (uint64_t)live ? (int64_t)(goal - (uint64_t)live) : 0;

	/* Go's minimum runway: a tenth of the live heap (never less than 64 KiB) */
	if (room < (int64_t)(expect / 10) + 65536)
		room = (int64_t)(expect / 10) + 65536;
	_go_gc.assist_work_per_byte = (double)expect / (double)room;
}

void _go_gc_pacer_mark_end(uint64_t marked)
{
	goal_update(marked);
}

int64_t _go_gc_pacer_assist_debt(int64_t bytes)
{
	return (int64_t)((double)bytes * _go_gc.assist_work_per_byte);
}
