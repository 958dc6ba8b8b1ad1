/* SPDX-License-Identifier: MIT */
/*
 * itimer.h - an interval timer around calls that may block, so that SIGALRM interrupts
 * them (the fuzzer, the stress: a blocked read, write or ioctl must give EINTR or restart
 * cleanly). The program installs its own SIGALRM handler, without SA_RESTART where it
 * wants EINTR.
 */
#ifndef SELFTESTS_ITIMER_H
#define SELFTESTS_ITIMER_H

#include <sys/time.h>

/* SIGALRM after first_us, then every every_us (0: once); itimer_set(0, 0) stops it. */
static inline void itimer_set(long first_us, long every_us)
{
	struct itimerval it = {
		.it_interval = { every_us / 1000000, every_us % 1000000 },
		.it_value = { first_us / 1000000, first_us % 1000000 },
	};

	setitimer(ITIMER_REAL, &it, NULL);
}

static inline void itimer_off(void)
{
	itimer_set(0, 0);
}

#endif
