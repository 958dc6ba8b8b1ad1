/* SPDX-License-Identifier: MIT */
/*
 * dump.c - the goroutine dump (Go's traceback of all goroutines): go_dump(), the deadlock
 * report, and SIGQUIT.
 *
 * Per goroutine, in Go's layout (runtime/traceback.go: goroutineheader, printcreatedby):
 *
 *	goroutine 7 [chan receive, 3 minutes]:
 *	worker(0x5581a2c3e2a0)
 *		/usr/local/bin/prog +0x1a2f
 *	created by main_fn+0x4e in goroutine 1
 *		/usr/local/bin/prog +0x1b7e
 *
 * The state is the wait reason given to go_park ("chan receive", "select", "sleep",
 * "sync.Mutex.Lock" ...), or runnable / running / syscall; the time spent waiting is shown
 * from one minute on, in minutes, as Go does. The frames: the goroutine that calls go_dump
 * gets its own stack (backtrace()); any other gets its function and argument only. C has no
 * stack maps, and a parked goroutine's saved registers could be walked only by frame
 * pointers, which -O2 omits (Go walks every stack, having stopped the world). The file and
 * offset let addr2line -e FILE OFFSET find the line.
 *
 * Symbols: dladdr(), so only the dynamic symbol table is seen: a program must be linked
 * with -rdynamic for its own functions to have names (shared libraries' exported ones have
 * them anyway); static functions never do, and are shown as "?" with their file and offset.
 *
 * The dump reads each goroutine racily, without stopping any (a goroutine may change state
 * while it is printed; its line is then one or the other, never torn memory: every G lives
 * at the top of its stack region for good).
 *
 * SIGQUIT (Go's default): go_run installs a handler when the signal's disposition is the
 * default one (never over a program's own handler) unless GO_CONFIG_NO_SIGQUIT is given,
 * and restores it on return. The handler only sets a flag and wakes sysmon (both
 * async-signal-safe); sysmon prints "SIGQUIT: quit" and the dump to stderr and exits the
 * process with status 2, as Go does.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define sched _go_sched

int64_t _go_coarse_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* "name+0xoff" (or "?") for pc, and its object file and offset in it. */
static void symbolize(uintptr_t pc, char *name, size_t len, const char **file, uintptr_t *off)
{
	Dl_info di;

	*file = "?";
	*off = pc;
	snprintf(name, len, "?");
	if (!dladdr((void *)pc, &di))
		return;
	if (di.dli_fname)
		*file = di.dli_fname;
	*off = pc - (uintptr_t)di.dli_fbase;
	if (di.dli_sname && di.dli_saddr) {
		if (pc == (uintptr_t)di.dli_saddr)
			snprintf(name, len, "%s", di.dli_sname);
		else
			snprintf(name, len, "%s+0x%lx", di.dli_sname,
				 (unsigned long)(pc - (uintptr_t)di.dli_saddr));
	}
}

static void print_frame(FILE *f, uintptr_t pc, const char *args)
{
	char name[256];
	const char *file;
	uintptr_t off;

	symbolize(pc, name, sizeof(name), &file, &off);
	fprintf(f, "%s(%s)\n\t%s +0x%lx\n", name, args, file, (unsigned long)off);
}

static void print_g(struct go_g *g, FILE *f, int64_t now)
{
	uint32_t st = load_relaxed(&g->status) & ~Gs_SCAN;
	const char *what;
	int64_t since = load_relaxed(&g->waitsince);

	switch (st) {
	case Gs_RUNNABLE: what = "runnable"; break;
	case Gs_RUNNING: what = "running"; break;
	case Gs_SYSCALL: what = "syscall"; break;
	default: what = load_relaxed(&g->waitreason); if (!what) what = "waiting"; break;
	}
	fprintf(f, "goroutine %llu [%s", (unsigned long long)load_relaxed(&g->id), what);
	if (st == Gs_WAITING && since > 0 && (now - since) / 60000000000ll >= 1)
		fprintf(f, ", %lld minutes", (long long)((now - since) / 60000000000ll));
	fprintf(f, "]:\n");

	if (g == _go_curg) {
		void *pcs[64];
		int n = backtrace(pcs, 64);

		/* from our caller on (frame 0 is go_dump's own) */
		for (int i = 2; i < n; i++)
			print_frame(f, (uintptr_t)pcs[i] - 1, "...");
	} else {
		char arg[32];

		snprintf(arg, sizeof(arg), "%p", load_relaxed(&g->arg));
		print_frame(f, (uintptr_t)load_relaxed(&g->fn), arg);
	}
	if (load_relaxed(&g->created_pc)) {
		char name[256];
		const char *file;
		uintptr_t off;

		/* the call's return address: its last byte is inside the call */
		symbolize(load_relaxed(&g->created_pc) - 1, name, sizeof(name), &file, &off);
		fprintf(f, "created by %s in goroutine %llu\n\t%s +0x%lx\n", name,
			(unsigned long long)load_relaxed(&g->parent_id), file, (unsigned long)off);
	}
	fputc('\n', f);
}

struct dump_arg {
	FILE *f;
	int64_t now;
	bool current;		/* this pass prints the calling goroutine only */
};

static void dump_one(struct go_g *g, void *p)
{
	struct dump_arg *a = p;
	uint32_t st = load_relaxed(&g->status) & ~Gs_SCAN;

	if (load_relaxed(&g->gen) != load_relaxed(&sched.gen) || st == Gs_IDLE || st == Gs_DEAD)
		return;
	if ((g == _go_curg) != a->current)
		return;
	print_g(g, a->f, a->now);
}

void _go_print_goroutines(FILE *f)
{
	struct dump_arg a = { .f = f, .now = _go_coarse_now(), .current = true };

	/* The caller first, as Go prints the current goroutine first. */
	if (_go_curg)
		dump_one(_go_curg, &a);
	a.current = false;
	_go_stacks_for_each_g(dump_one, &a);
	fflush(f);
}

GOCHAN_API void go_dump(FILE *f)
{
	if (!f)
		f = stderr;
	if (!load_acquire(&sched.running))
		return;
	_go_print_goroutines(f);
}

/* ---- SIGQUIT ------------------------------------------------------------------------------- */

static struct sigaction old_quit;
static bool quit_installed;
static volatile sig_atomic_t quit_pending;

static void quit_handler(int sig)
{
	(void)sig;
	quit_pending = 1;
	_go_sysmon_wake();		/* a futex wake: async-signal-safe */
}

void _go_sigquit_install(void)
{
	struct sigaction sa, cur;

	if (quit_installed || (sched.flags & GO_CONFIG_NO_SIGQUIT))
		return;
	if (sigaction(SIGQUIT, NULL, &cur) != 0 || cur.sa_handler != SIG_DFL ||
	    (cur.sa_flags & SA_SIGINFO))
		return;			/* the program handles it (or ignores it): leave it */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = quit_handler;
	sa.sa_flags = SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGQUIT, &sa, &old_quit) == 0)
		quit_installed = true;
}

void _go_sigquit_restore(void)
{
	if (!quit_installed)
		return;
	sigaction(SIGQUIT, &old_quit, NULL);
	quit_installed = false;
}

/* sysmon, at each wakeup: a SIGQUIT came. Dump and exit 2, as Go does. */
void _go_sigquit_check(void)
{
	if (!quit_pending)
		return;
	fprintf(stderr, "SIGQUIT: quit\n\n");
	_go_print_goroutines(stderr);
	fflush(stderr);
	_exit(2);
}
