/* SPDX-License-Identifier: MIT */
/*
 * tap.h - TAP for the sync tests: common/tap-go.h, with each TEST(fn) running fn as the main
 * goroutine of its own go_run() on $GOCHAN_MAXPROCS Ps (run.sh runs every program on 1
 * and on 2), TEST_PROCS(fn, n) on exactly n, TEST_THREADS(fn) without the deadlock check
 * (fn's goroutines wait for plain threads, which the check cannot see), and
 * TEST_NO_SCHED(fn) on main's thread with no scheduler (what <gochan/sync.h> allows a
 * plain thread). A comment above each check says what must happen; no check is on time.
 */
#ifndef SYNC_TAP_H
#define SYNC_TAP_H

#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>

#include <gochan/sync.h>

#define TAP_SCALE_ENV "SYNC_TEST_SCALE"
#include "../common/tap-go.h"
#include "../common/child.h"

/*
 * Run fn in a child process; true if it aborted (SIGABRT) after writing exactly
 * "gochan: sync: <what>\n" to stderr: Go's fatal errors of the sync package.
 */
static inline bool dies_with(void (*fn)(void), const char *what)
{
	char want[128], got[128];
	int status;

	snprintf(want, sizeof(want), "gochan: sync: %s\n", what);
	status = in_child(fn, got, sizeof(got), 0);
	return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT &&
	       !strcmp(got, want);
}

/* The go_sync_stats counter of waits that parked. */
static inline uint64_t sync_parks(void)
{
	struct go_sync_stats st = { .size = sizeof(st) };

	go_sync_stats(&st);
	return st.parks;
}

/* Let other goroutines run until n waits in all have parked (counted: sync_parks()). */
static inline void wait_parks(uint64_t n)
{
	while (sync_parks() < n)
		go_yield();
}

#endif
