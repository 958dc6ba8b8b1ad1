/* SPDX-License-Identifier: MIT */
/*
 * tap-go.h - common/tap.h for tests of goroutines (selftests/chan, sync, time): each
 * TEST(fn) runs fn as the main goroutine of its own go_run_config(), on $GOCHAN_MAXPROCS
 * Ps; TEST_PROCS(fn, n) on exactly n; TEST_THREADS(fn) without the deadlock check (fn's
 * goroutines wait for plain threads, which the check cannot see); TEST_NO_SCHED(fn) on
 * main's thread with no scheduler (as main before go_run, or any thread of a program).
 *
 * tap_scale(n) scales a loop count or a stress size by the percent in the environment
 * variable TAP_SCALE_ENV names (the suite's header defines it; run.sh gives sanitizer
 * runs less).
 */
#ifndef SELFTESTS_TAP_GO_H
#define SELFTESTS_TAP_GO_H

#include <stdlib.h>

#include "env.h"

#include <gochan/sched.h>

static unsigned tap_procs;	/* 0: the default ($GOCHAN_MAXPROCS) */
static unsigned tap_flags;	/* GO_CONFIG_* */
static int tap_no_sched;

static void tap_trampoline(void *fn)
{
	((void (*)(void))fn)();
}

#define TAP_RUN(fn)                                                                        \
	do {                                                                               \
		struct go_config c_ = { .size = sizeof(c_), .maxprocs = tap_procs,         \
					.flags = tap_flags };                              \
		if (tap_no_sched) {                                                        \
			fn();                                                              \
			break;                                                             \
		}                                                                          \
		int rc_ = go_run_config(&c_, tap_trampoline, (void *)(fn));                \
		if (rc_ != 0) {                                                            \
			printf("# go_run returned %d\n", rc_);                             \
			tap_failed = 1;                                                    \
		}                                                                          \
	} while (0)

#include "tap.h"

#define TEST_PROCS(fn, n)                                                                  \
	do {                                                                               \
		tap_procs = (n);                                                           \
		TEST(fn);                                                                  \
		tap_procs = 0;                                                             \
	} while (0)

#define TEST_THREADS(fn)                                                                   \
	do {                                                                               \
		tap_flags = GO_CONFIG_NO_DEADLOCK_CHECK;                                   \
		TEST(fn);                                                                  \
		tap_flags = 0;                                                             \
	} while (0)

#define TEST_NO_SCHED(fn)                                                                  \
	do {                                                                               \
		tap_no_sched = 1;                                                          \
		TEST(fn);                                                                  \
		tap_no_sched = 0;                                                          \
	} while (0)

static inline long tap_scale(long n)
{
	long r = n * env_long(TAP_SCALE_ENV, 100) / 100;

	return r > 0 ? r : 1;
}

#endif
