/* SPDX-License-Identifier: MIT */
/*
 * pacer.c - how much marking an allocation pays for (Go's mgcpacer.go, reduced): the assist
 * ratio of a cycle is the scan work expected (what the last cycle found live, as Go's
 * heapScan estimate) over the allocation room left before the goal, so that marking ends
 * near the goal if the program allocates at full speed.
 */
#include "internal.h"

void _go_gc_pacer_mark_begin(void)
{
	int64_t live = __atomic_load_n(&_go_gc.heap_live, __ATOMIC_RELAXED);
	uint64_t goal = _go_gc.heap_goal, expect = _go_gc.heap_marked;
	int64_t room = goal > (uint64_t)live ? (int64_t)(goal - (uint64_t)live) : 0;

	/* Go's minimum runway: a tenth of the live heap (never less than 64 KiB) */
	if (room < (int64_t)(expect / 10) + 65536)
		room = (int64_t)(expect / 10) + 65536;
	_go_gc.assist_work_per_byte = (double)expect / (double)room;
}

int64_t _go_gc_pacer_assist_debt(int64_t bytes)
{
	return (int64_t)((double)bytes * _go_gc.assist_work_per_byte);
}
