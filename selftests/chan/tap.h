/* SPDX-License-Identifier: MIT */
/*
 * tap.h - TAP for the channel, select and context tests: each TEST(fn) runs fn as the main
 * goroutine of its own go_run() and prints "ok - name" or "not ok - name"; run.sh numbers
 * the lines. CHECK() records a failure with its location and goes on. A comment above each
 * check says what must happen.
 */
#ifndef CHAN_TAP_H
#define CHAN_TAP_H

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gochan/sched.h>

static _Atomic int tap_failed;
static int tap_any_failed;

#define CHECK(cond, ...)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			printf("# %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			printf(__VA_ARGS__);                                              \
			printf("\n");                                                     \
			fflush(stdout);                                                   \
			tap_failed = 1;                                                   \
		}                                                                         \
	} while (0)

static void tap_trampoline(void *fn)
{
	((void (*)(void))fn)();
}

/* Scale for stress sizes: $CHAN_TEST_SCALE percent (sanitizer runs use less). */
static inline long tap_scale(long n)
{
	const char *s = getenv("CHAN_TEST_SCALE");
	long pct = s ? atol(s) : 100;
	long r = n * (pct > 0 ? pct : 100) / 100;

	return r > 0 ? r : 1;
}

static inline int tap_selected(int argc, char **argv, const char *name)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

#define TEST(fn)                                                                          \
	do {                                                                              \
		if (tap_selected(argc, argv, #fn)) {                                      \
			int rc_;                                                          \
			tap_failed = 0;                                                   \
			rc_ = go_run(tap_trampoline, (void *)(fn));                       \
			if (rc_ != 0) {                                                   \
				printf("# go_run returned %d\n", rc_);                    \
				tap_failed = 1;                                           \
			}                                                                 \
			printf("%sok - %s\n", tap_failed ? "not " : "", #fn);             \
			fflush(stdout);                                                   \
			tap_any_failed |= tap_failed;                                     \
		}                                                                         \
	} while (0)

#define MS 1000000LL

#endif
