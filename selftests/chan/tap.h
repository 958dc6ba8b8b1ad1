/* SPDX-License-Identifier: MIT */
/*
 * tap.h - TAP for the channel, select and context tests: common/tap.h, with each TEST(fn)
 * running fn as the main goroutine of its own go_run(). A comment above each check says
 * what must happen.
 */
#ifndef CHAN_TAP_H
#define CHAN_TAP_H

#include <gochan/sched.h>

static void tap_trampoline(void *fn)
{
	((void (*)(void))fn)();
}

/* Set by TEST_NO_SCHED: run the test on the calling thread, no scheduler running. */
static int tap_no_sched;

#define TAP_RUN(fn)                                                                        \
	do {                                                                               \
		if (tap_no_sched) {                                                        \
			fn();                                                              \
			break;                                                             \
		}                                                                          \
		int rc_ = go_run(tap_trampoline, (void *)(fn));                            \
		if (rc_ != 0) {                                                            \
			printf("# go_run returned %d\n", rc_);                             \
			tap_failed = 1;                                                    \
		}                                                                          \
	} while (0)

#include "../common/tap.h"

/* TEST_NO_SCHED(fn): as TEST, with fn on main's thread and no go_run around it (as main
 * before go_run, or any thread of a program: what <gochan/sched.h> allows there). */
#define TEST_NO_SCHED(fn)                                                                  \
	do {                                                                               \
		tap_no_sched = 1;                                                          \
		TEST(fn);                                                                  \
		tap_no_sched = 0;                                                          \
	} while (0)

/* Scale for stress sizes: $CHAN_TEST_SCALE percent (sanitizer runs use less). */
static inline long tap_scale(long n)
{
	const char *s = getenv("CHAN_TEST_SCALE");
	long pct = s ? atol(s) : 100;
	long r = n * (pct > 0 ? pct : 100) / 100;

	return r > 0 ? r : 1;
}

#define MS 1000000LL

#endif
