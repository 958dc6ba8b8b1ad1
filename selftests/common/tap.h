/* SPDX-License-Identifier: MIT */
/*
 * tap.h - the TAP helper of the host-side test programs (selftests/alloc, chan, sched):
 * each TEST(fn) prints "ok - name", "not ok - name" or, when fn called SKIP_TEST(),
 * "ok - name # SKIP reason"; run.sh (common/tap.sh) numbers the lines. CHECK() records a
 * failure with its location and goes on; it may be used from any thread or goroutine.
 *
 * A program's main(argc, argv) runs its tests with TEST(); naming tests on the command line
 * runs only those. A suite whose tests need a harness around them (chan: a scheduler)
 * defines TAP_RUN(fn) before including this.
 */
#ifndef SELFTESTS_TAP_H
#define SELFTESTS_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_failed, tap_skipped, tap_any_failed;

#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			printf("# %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			printf(__VA_ARGS__);                                               \
			printf("\n");                                                      \
			fflush(stdout);                                                    \
			__atomic_store_n(&tap_failed, 1, __ATOMIC_RELAXED);                \
		}                                                                          \
	} while (0)

/* Called from the test function itself: the test counts as skipped, with the reason. */
#define SKIP_TEST(...)                                                                     \
	do {                                                                               \
		printf("ok - %s # SKIP ", __func__);                                       \
		printf(__VA_ARGS__);                                                       \
		printf("\n");                                                              \
		tap_skipped = 1;                                                           \
		return;                                                                    \
	} while (0)

static inline int tap_selected(int argc, char **argv, const char *name)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

#ifndef TAP_RUN
#define TAP_RUN(fn) fn()
#endif

/* Runs fn when argv selects it (no argument: all). */
#define TEST(fn)                                                                           \
	do {                                                                               \
		if (tap_selected(argc, argv, #fn)) {                                       \
			tap_failed = 0;                                                    \
			tap_skipped = 0;                                                   \
			TAP_RUN(fn);                                                       \
			if (!tap_skipped)                                                  \
				printf("%sok - %s\n", tap_failed ? "not " : "", #fn);      \
			fflush(stdout);                                                    \
			tap_any_failed |= tap_failed;                                      \
		}                                                                          \
	} while (0)

#endif
