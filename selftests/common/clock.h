/* SPDX-License-Identifier: MIT */
/*
 * clock.h - the clock of the test programs: clock_ns() reads a clock in nanoseconds,
 * now_ns() the monotonic one (what a gochan deadline is measured on), sleep_ns() sleeps
 * the whole time even when a signal interrupts it. Shared by the module's selftests and
 * the host tests; no libgochan.
 */
#ifndef SELFTESTS_CLOCK_H
#define SELFTESTS_CLOCK_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC	1000000000LL

static inline int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static inline int64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static inline void sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / NSEC_PER_SEC, .tv_nsec = ns % NSEC_PER_SEC };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

#endif
