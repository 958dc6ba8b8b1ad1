/* SPDX-License-Identifier: MIT */
/*
 * tap.h - the smallest TAP helper: each TEST() prints "ok - name" or "not ok - name";
 * run.sh numbers the lines. CHECK() records a failure with its location and goes on.
 */
#ifndef GA_TAP_H
#define GA_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_failed, tap_any_failed;

#define CHECK(cond, ...)                                                           \
	do {                                                                       \
		if (!(cond)) {                                                     \
			printf("# %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			printf(__VA_ARGS__);                                       \
			printf("\n");                                              \
			tap_failed = 1;                                            \
		}                                                                  \
	} while (0)

/* Runs fn when argv selects it (no argument: all). */
#define TEST(fn)                                                                   \
	do {                                                                       \
		if (tap_selected(argc, argv, #fn)) {                               \
			tap_failed = 0;                                            \
			fn();                                                      \
			printf("%sok - %s\n", tap_failed ? "not " : "", #fn);      \
			fflush(stdout);                                            \
			tap_any_failed |= tap_failed;                              \
		}                                                                  \
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
