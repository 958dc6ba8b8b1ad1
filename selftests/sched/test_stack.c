/* SPDX-License-Identifier: MIT */
/*
 * Description: goroutine stacks: deep recursion within the limit, a large limit, pages
 * committed on touch and given back by go_stacks_shrink, and overflow detection with a guard
 * page (the fault) and without one (the canary, checked at the next switch).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <gochan/sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "tap.h"
#include "sched/internal.h"	/* the goroutine's stack bounds (white box) */

#define MSEC_1 1000000LL

static char **saved_argv;

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;

	if (f) {
		if (fscanf(f, "%ld %ld", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static int run_cfg(unsigned procs, uint64_t stack_max, void (*fn)(void *), void *arg)
{
	struct go_config c = { .size = sizeof(c), .maxprocs = procs, .stack_max = stack_max };

	return go_run_config(&c, fn, arg);
}

/* Recursion with a 1 KiB frame the compiler cannot drop. */
static __attribute__((noinline)) long recurse(int depth, int yield_at)
{
	volatile char frame[1024];
	long sum;

	for (size_t i = 0; i < sizeof(frame); i += 64)
		frame[i] = (char)depth;
	if (depth == yield_at)
		go_yield();
	sum = depth ? recurse(depth - 1, yield_at) : 0;
	return sum + frame[0] + frame[512];
}

static long expect_sum(int depth)
{
	long s = 0;

	for (int d = 1; d <= depth; d++)
		s += 2 * (long)(char)d;
	return s;
}

struct deep {
	int depth;
	long sum;
	struct go_waitgroup wg;
};

static void deep_g(void *arg)
{
	struct deep *d = arg;

	d->sum = recurse(d->depth, d->depth / 2);
	go_wg_done(&d->wg);
}

static void deep_main(void *arg)
{
	struct deep *d = arg;

	go_wg_add(&d->wg, 1);
	go_spawn(deep_g, d);
	go_wg_wait(&d->wg);
}

static void deep_recursion_within_the_limit(void)
{
	struct deep d = { .depth = 150 };

	/* 150 KiB of frames in a 256 KiB stack, switching half way down */
	CHECK(run_cfg(2, 256 << 10, deep_main, &d) == 0, "go_run");
	CHECK(d.sum == expect_sum(d.depth), "sum %ld", d.sum);
}

static void large_limit_grows_on_demand(void)
{
	struct deep d = { .depth = 32 * 1024 };
	long before = rss_kib();

	/* 32 MiB deep in a 64 MiB stack: committed as touched, not reserved up front */
	CHECK(run_cfg(1, 64 << 20, deep_main, &d) == 0, "go_run");
	CHECK(d.sum == expect_sum(d.depth), "sum %ld", d.sum);
	printf("# 32 MiB recursion: RSS %ld -> %ld KiB\n", before, rss_kib());
}

#define NSHRINK 200

struct shrink {
	struct go_waitgroup deep_done, release;
	long rss_parked, rss_shrunk, released;
};

static void deep_then_park(void *arg)
{
	struct shrink *s = arg;

	recurse(160, -1);		/* touches 160 KiB, then returns */
	go_wg_done(&s->deep_done);
	go_wg_wait(&s->release);	/* parked with a shallow stack */
}

static void shrink_main(void *arg)
{
	struct shrink *s = arg;

	go_wg_add(&s->deep_done, NSHRINK);
	go_wg_add(&s->release, 1);
	for (int i = 0; i < NSHRINK; i++)
		go_spawn(deep_then_park, s);
	go_wg_wait(&s->deep_done);
	go_sleep(1000000);
	s->rss_parked = rss_kib();
	s->released = go_stacks_shrink();
	s->rss_shrunk = rss_kib();
	go_wg_done(&s->release);
}

static void shrink_returns_unused_stack(void)
{
	struct shrink s = { 0 };

	CHECK(run_cfg(2, 256 << 10, shrink_main, &s) == 0, "go_run");
	/* each parked goroutine held ~160 KiB and uses < 1/4 of it: at least half goes back */
	CHECK(s.released >= (long)NSHRINK * (64 << 10), "released %ld bytes", s.released);
	CHECK(s.rss_parked - s.rss_shrunk >= NSHRINK * 64, "RSS %ld -> %ld KiB",
	      s.rss_parked, s.rss_shrunk);
	printf("# shrink: %d goroutines, RSS %ld -> %ld KiB, %ld KiB released\n", NSHRINK,
	       s.rss_parked, s.rss_shrunk, s.released >> 10);
}

/* ---- overflow, in a fresh process (its own guard budget) ---------------------------------- */

static void overflow_g(void *arg)
{
	(void)arg;
	/* 70 KiB in a 64 KiB stack, switching at the bottom */
	recurse(70, 0);
}

static void runaway_g(void *arg)
{
	(void)arg;
	recurse(1 << 30, -1);
}

static void overflow_main(void *arg)
{
	struct go_waitgroup wg = { 0 };

	go_wg_add(&wg, 1);
	go_spawn(arg, NULL);
	go_wg_wait(&wg);
}

/*
 * A hog's goroutine, 1 KiB above its stack's lowest byte, spinning until another goroutine
 * runs: that needs sysmon's hog signal, whose handler (and the kernel's signal frame, a few
 * KiB with the vector registers) must not land on this stack.
 */
struct nearlimit {
	_Atomic int stop;
	int guarded;
	struct go_waitgroup wg;
};

/* (not instrumented: a sanitizer's calls would need more than that KiB themselves) */
static __attribute__((noinline, no_sanitize_address, no_sanitize_thread))
void spin_near_limit(struct nearlimit *n)
{
	struct go_g *g = go_self();
	char *sp = __builtin_frame_address(0);
	size_t pad = (size_t)(sp - g->stack_lo) - 1024;
	volatile char *p = __builtin_alloca(pad);

	p[0] = 0;
	n->guarded = g->guarded;
	while (!atomic_load(&n->stop))	/* no runtime call: a hog */
		;
	p[0] = 1;
}

static void near_limit_g(void *arg)
{
	struct nearlimit *n = arg;

	spin_near_limit(n);
	go_wg_done(&n->wg);
}

static void near_limit_stopper(void *arg)
{
	struct nearlimit *n = arg;

	atomic_store(&n->stop, 1);
	go_wg_done(&n->wg);
}

static void near_limit_main(void *arg)
{
	struct nearlimit *n = arg;

	go_wg_add(&n->wg, 2);
	go_spawn(near_limit_stopper, n);	/* waits: only the hog signal lets it run */
	go_spawn(near_limit_g, n);		/* runs next */
	go_wg_wait(&n->wg);
}

/*
 * Unguarded neighbours: the goroutine above overflows into the canary zone at the top of the
 * region below, then goes on without switching (it spins, then exits the process). The
 * goroutine below must see it at its own next switch.
 */
struct neighbours {
	struct go_g *low, *high;
	_Atomic int low_ready, low_switched;
	struct go_waitgroup wg;
};

static void low_g(void *arg)
{
	struct neighbours *nb = arg;

	nb->low = go_self();
	atomic_store(&nb->low_ready, 1);
	while (atomic_load(&nb->low_ready) != 2)
		go_sleep(MSEC_1);
	go_sleep(MSEC_1);	/* a switch of the goroutine below */
	go_sleep(MSEC_1);
	atomic_store(&nb->low_switched, 1);
	go_wg_done(&nb->wg);
}

static __attribute__((no_sanitize_address)) void high_g(void *arg)
{
	struct neighbours *nb = arg;
	struct go_g *g = go_self();
	int64_t until = go_now() + 5000 * MSEC_1;

	nb->high = g;
	while (!atomic_load(&nb->low_ready))
		;
	if (nb->low->region_lo + nb->low->arena->stack_max != g->region_lo || g->guarded) {
		printf("neighbours: the goroutines' stacks are not unguarded neighbours\n");
		_exit(4);
	}
	/* 64 bytes written below this stack: the overflow of a frame */
	for (volatile char *p = g->stack_lo - 64; p < g->stack_lo; p++)
		*p = 0x5a;
	atomic_store(&nb->low_ready, 2);
	while (!atomic_load(&nb->low_switched) && go_now() < until)
		;
	printf("neighbours: the goroutine below switched %s\n",
	       atomic_load(&nb->low_switched) ? "unaware" : "never");
	fflush(stdout);
	_exit(0);	/* no switch of ours: only the one below can have seen it */
}

static void neighbours_main(void *arg)
{
	struct neighbours *nb = arg;

	go_wg_add(&nb->wg, 1);
	go_spawn(low_g, nb);
	go_spawn(high_g, nb);
	go_wg_wait(&nb->wg);
}

static int child_main(const char *what)
{
	if (!strcmp(what, "neighbours")) {
		struct neighbours nb = { 0 };

		return run_cfg(2, 64 << 10, neighbours_main, &nb) == 0 ? 0 : 1;
	}
	if (!strcmp(what, "near-limit")) {
		struct nearlimit n = { 0 };
		int r = run_cfg(1, 64 << 10, near_limit_main, &n);

		printf("near-limit: go_run %d, guarded %d\n", r, n.guarded);
		return r == 0 ? 0 : 1;
	}
	if (!strcmp(what, "overflow"))
		return run_cfg(1, 64 << 10, overflow_main, overflow_g);
	if (!strcmp(what, "runaway"))
		return run_cfg(1, 64 << 10, overflow_main, runaway_g);
	return 2;
}

struct child_args {
	const char *what, *guards;
};

/* In the child: this program again as "child:<what>" with GOCHAN_STACK_GUARDS=guards. */
static void exec_child_args(void *arg)
{
	const struct child_args *a = arg;
	char name[64];

	snprintf(name, sizeof(name), "child:%s", a->what);
	setenv("GOCHAN_STACK_GUARDS", a->guards, 1);
#ifdef __SANITIZE_THREAD__
	/* "neighbours" writes into another goroutine's stack on purpose, unsynchronized:
	 * ThreadSanitizer now and then reports that write (exit 66, about 1 run in 10)
	 * before the runtime's check aborts as the test expects */
	if (!strcmp(a->what, "neighbours")) {
		const char *o = getenv("TSAN_OPTIONS");
		char opts[512];

		snprintf(opts, sizeof(opts), "%s%sreport_bugs=0", o ? o : "", o ? ":" : "");
		setenv("TSAN_OPTIONS", opts, 1);
	}
#endif
	execl("/proc/self/exe", saved_argv[0], name, (char *)NULL);
	_exit(127);
}

/* That child, its stdout and stderr into buf, killed after 30 s; its wait status. */
static int spawn_child(const char *what, const char *guards, char *buf, size_t len)
{
	struct child_args a = { .what = what, .guards = guards };

	return in_child_arg(exec_child_args, &a, CHILD_STDOUT_TOO, buf, len, 30);
}

/* Killed by the fault, or (under a sanitizer, which handles SIGSEGV itself) stopped with
 * its "stack-overflow" report. */
static bool killed(int st, const char *out)
{
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGSEGV || WTERMSIG(st) == SIGABRT || WTERMSIG(st) == SIGBUS;
	return WIFEXITED(st) && WEXITSTATUS(st) != 0 && strstr(out, "stack-overflow");
}

static void overflow_of_guarded_stack_faults(void)
{
	char buf[8192];
	int st = spawn_child("runaway", "100", buf, sizeof(buf));

	/* the guard page below the stack stops it at the first touch */
	CHECK(killed(st, buf), "status 0x%x: %s", st, buf);
}

static void overflow_of_unguarded_stack_is_caught_at_switch(void)
{
	char buf[8192];
	int st = spawn_child("overflow", "0", buf, sizeof(buf));

	/* no guard: the canary zone of the stack below was written; the switch reports it
	 * (under AddressSanitizer, its own check may see the write first) */
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "status 0x%x: %s", st, buf);
	CHECK(strstr(buf, "stack overflow") != NULL ||
	      strstr(buf, "AddressSanitizer: stack-buffer-underflow") != NULL, "message: %s", buf);
}

static void runaway_unguarded_stack_still_stops(void)
{
	char buf[8192];
	int st = spawn_child("runaway", "0", buf, sizeof(buf));

	/* without a switch it runs down to the arena's PROT_NONE page: killed, not silent */
	CHECK(killed(st, buf), "status 0x%x: %s", st, buf);
}

static void overflow_from_above_is_caught_below(void)
{
	char buf[8192];
	int st = spawn_child("neighbours", "0", buf, sizeof(buf));

	/* the goroutine whose canary zone was written reports it at its next switch */
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "status 0x%x: %s", st, buf);
	CHECK(strstr(buf, "stack overflow") != NULL, "message: %s", buf);
}

static void hog_signal_near_stack_limit_is_survived(void)
{
	char buf[8192];
	int st;

#ifdef __SANITIZE_THREAD__
	SKIP_TEST("ThreadSanitizer defers signal handlers to its own safe points, on the "
		  "thread's stack");
#endif
	st = spawn_child("near-limit", "100", buf, sizeof(buf));
	/* the hog signal's handler ran elsewhere than on the goroutine's last KiB of stack */
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x (%s): %s", st,
	      WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exit", buf);
	CHECK(strstr(buf, "guarded 1") != NULL, "the goroutine's stack was not guarded: %s", buf);
}

int main(int argc, char **argv)
{
	saved_argv = argv;
	if (argc == 2 && !strncmp(argv[1], "child:", 6))
		return child_main(argv[1] + 6);
	setvbuf(stdout, NULL, _IOLBF, 0);
	TEST(deep_recursion_within_the_limit);
	TEST(large_limit_grows_on_demand);
	TEST(shrink_returns_unused_stack);
	TEST(overflow_of_guarded_stack_faults);
	TEST(overflow_of_unguarded_stack_is_caught_at_switch);
	TEST(runaway_unguarded_stack_still_stops);
	TEST(overflow_from_above_is_caught_below);
	TEST(hog_signal_near_stack_limit_is_survived);
	return tap_any_failed;
}
