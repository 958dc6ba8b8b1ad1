/* SPDX-License-Identifier: MIT */
/*
 * env.h - knobs of the test programs from the environment: how long a soak or a stress
 * runs, how much a sanitizer run scales a test down.
 */
#ifndef SELFTESTS_ENV_H
#define SELFTESTS_ENV_H

#include <stdlib.h>

/* The positive number in the environment variable @name, else @dflt. */
static inline long env_long(const char *name, long dflt)
{
	const char *s = getenv(name);
	long v = s ? atol(s) : 0;

	return v > 0 ? v : dflt;
}

#endif
