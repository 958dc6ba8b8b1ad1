/* SPDX-License-Identifier: MIT */
/*
 * tap.h - TAP for the scheduler's tests: each TEST(fn) prints "ok - name" or "not ok - name"
 * (run.sh numbers the lines). CHECK() records a failure with its location and goes on; it
 * may be used from any goroutine or thread.
 */
#ifndef SCHED_TAP_H
#define SCHED_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_failed, tap_any_failed;

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

#define SKIP_TEST(...)                                                                     \
	do {                                                                               \
		printf("ok - %s # SKIP ", __func__);                                       \
		printf(__VA_ARGS__);                                                       \
		printf("\n");                                                              \
		tap_skipped = 1;                                                           \
		return;                                                                    \
	} while (0)

static int tap_skipped;

/* Runs fn when argv selects it (no argument: all). */
#define TEST(fn)                                                                           \
	do {                                                                               \
		if (tap_selected(argc, argv, #fn)) {                                       \
			tap_failed = 0;                                                    \
			tap_skipped = 0;                                                   \
			fn();                                                              \
			if (!tap_skipped)                                                  \
				printf("%sok - %s\n", tap_failed ? "not " : "", #fn);      \
			fflush(stdout);                                                    \
			tap_any_failed |= tap_failed;                                      \
		}                                                                          \
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

#endif
