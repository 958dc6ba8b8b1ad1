/* SPDX-License-Identifier: MIT */
/*
 * tap.h - TAP for the sync tests: common/tap.h, with each TEST(fn) running fn as the main
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
#include <sys/wait.h>
#include <unistd.h>

#include <gochan/sched.h>
#include <gochan/sync.h>

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
					.flags = tap_flags };                      \
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

#include "../common/tap.h"

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

/* Scale for loop counts: $SYNC_TEST_SCALE percent (sanitizer runs use less). */
static inline long tap_scale(long n)
{
	const char *s = getenv("SYNC_TEST_SCALE");
	long pct = s ? atol(s) : 100;
	long r = n * (pct > 0 ? pct : 100) / 100;

	return r > 0 ? r : 1;
}

/*
 * Run fn in a child process; true if it aborted (SIGABRT) after writing exactly
 * "gochan: sync: <what>\n" to stderr: Go's fatal errors of the sync package.
 */
static inline bool dies_with(void (*fn)(void), const char *what)
{
	char want[128], got[128];
	int fds[2], status;
	ssize_t n = 0, r;
	pid_t pid;

	snprintf(want, sizeof(want), "gochan: sync: %s\n", what);
	if (pipe(fds) < 0 || (pid = fork()) < 0)
		return false;
	if (pid == 0) {
		dup2(fds[1], 2);
		fn();
		_exit(0);
	}
	close(fds[1]);
	while (n < (ssize_t)sizeof(got) - 1 && (r = read(fds[0], got + n, sizeof(got) - 1 - n)) > 0)
		n += r;
	got[n] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && !strcmp(got, want);
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
