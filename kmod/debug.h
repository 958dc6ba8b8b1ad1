/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stall points: places where a selftest can hold the task passing by for a
 * while, to force an interleaving that is otherwise a matter of luck (a
 * ring's teardown landing between two lines of a submission).
 *
 * They exist only in a GOCHAN_DEBUG build (make module GOCHAN_DEBUG=1,
 * which make check uses for the tests that need them); in any other build
 * gochan_stall() is an empty inline and the module parameters below do not
 * exist, so a test finds out which build it runs on by looking for them.
 *
 * A test arms one point at a time through /sys/module/gochan/parameters/:
 *   stall_ms     how long to hold the task (write it first);
 *   stall_point  the point to arm (enum gochan_stall_point); the first task
 *                to pass it disarms it (back to 0) and sleeps stall_ms,
 *                uninterruptibly, then goes on;
 *   stalled      read-only: how many tasks have stalled since load, so the
 *                test knows when one is held.
 */
#ifndef _GOCHAN_DEBUG_H
#define _GOCHAN_DEBUG_H

enum gochan_stall_point {
	GOCHAN_STALL_NONE,
	/* uring.c: a SELECT, just marked cancelable, not yet selecting */
	GOCHAN_STALL_SELECT_CANCELABLE,
};

#ifdef GOCHAN_DEBUG
void gochan_stall(enum gochan_stall_point point);
#else
static inline void gochan_stall(enum gochan_stall_point point)
{
}
#endif

#endif /* _GOCHAN_DEBUG_H */
