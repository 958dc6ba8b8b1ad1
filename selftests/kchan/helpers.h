/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the library's selftests (kselftest harness).
 *
 * Every TEST that needs a channel starts with REQUIRE_GOCHAN(): the 6.1
 * harness runs a test body even when its FIXTURE_SETUP called SKIP(), so
 * the check sits in the body.  Waits on another process are bounded by
 * WAIT_NS (generous: the guest runs under TCG), never by a tight timing.
 */
#ifndef KCHAN_HELPERS_H
#define KCHAN_HELPERS_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gochan/kchan.h>

#include "kselftest_harness.h"

#include "../common/child.h"
#include "../common/clock.h"

#define MSEC	1000000LL		/* ns */
#define WAIT_NS	(10000 * MSEC)		/* upper bound on any wait for a peer */

#define REQUIRE_GOCHAN() do {						\
	if (access(GOCHAN_DEVICE_PATH, F_OK) != 0)			\
		SKIP(return, "%s absent: gochan module not loaded",	\
		     GOCHAN_DEVICE_PATH);				\
} while (0)

/* errno value no system call sets: a call that touched errno shows. */
#define ERRNO_CANARY	4242

/*
 * Poll the channel's stat until it shows at least @senders blocked senders
 * and @receivers blocked receivers, or WAIT_NS passes.  Returns true when
 * seen.  This is how a test knows a peer is really blocked in the kernel.
 */
static inline bool wait_for_waiters(int fd, unsigned senders, unsigned receivers)
{
	int64_t end = gochan_now_ns() + WAIT_NS;
	struct gochan_stat st;

	do {
		if (gochan_stat(fd, &st) == 0 && st.send_waiters >= senders &&
		    st.recv_waiters >= receivers)
			return true;
		sleep_ns(MSEC);
	} while (gochan_now_ns() < end);
	return false;
}

/* The fd number the next open would get. */
static inline int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* The goroutine tests' programs: fn(arg) as the main goroutine of a run with one P (the
 * programs that use it link the runtime and include <gochan/sched.h> first). */
#ifdef GOCHAN_SCHED_H
static inline int run1(void (*fn)(void *), void *arg)
{
	struct go_config c = { .size = sizeof(c), .maxprocs = 1 };

	return go_run_config(&c, fn, arg);
}
#endif

#endif /* KCHAN_HELPERS_H */
