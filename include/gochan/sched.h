/* SPDX-License-Identifier: MIT */
/*
 * gochan/sched.h - goroutines for C: Go's M:N scheduler (G/M/P) and growable stacks.
 *
 * Glossary (Go's, runtime/proc.go):
 *   G  a goroutine: a C function with an argument, running on a stack of its own;
 *   M  an OS thread (pthread) that runs goroutines;
 *   P  a processor: the right to run goroutines, with a local run queue. There are
 *      go_maxprocs() of them; an M needs a P to run Go code, not to sit in a system call.
 *
 * A program calls go_run(main_fn, arg): the calling thread becomes the first M, main_fn runs
 * as the first goroutine, and go_run returns when main_fn returns (other goroutines still alive
 * then are abandoned, as when a Go program's main returns). go_run may be called again later,
 * never twice at once.
 *
 * Scheduling: per-P run queues of 256 plus a global queue, work stealing (half a victim's
 * queue), a "runnext" slot so a goroutine woken by the running one runs next, Ms parked on a
 * futex when idle (an idle program uses no CPU), timers, and a poller on io_uring that parks
 * goroutines waiting on file descriptors without parking a thread.
 *
 * Preemption: goroutines switch only inside the calls below (and in the channels, select and
 * contexts built on them). A goroutine that runs for more than 10 ms without one is not
 * interrupted (switching stacks inside a signal handler could leave a libc lock held by the
 * interrupted code); instead its P is handed to another thread, as for a blocking system call,
 * and the kernel time-shares the two threads. The spinning goroutine gets a P back at its next
 * call into the runtime. So others are never starved, at the cost of running more threads than
 * Ps while a goroutine hogs its thread.
 *
 * The hog signal and system calls: a goroutine blocked in a system call it did not bracket
 * (go_syscall_enter/exit, GO_SYSCALL) looks like a hog, and its thread gets the signal too
 * (SIGURG, see below), as Go's preemption signal reaches cgo and raw system calls. The handler
 * is installed with SA_RESTART, so the calls the kernel restarts go on unseen (read, write,
 * open, wait, ioctl, flock ... on pipes, sockets, terminals; see signal(7)); those it never
 * restarts fail with EINTR: nanosleep, clock_nanosleep, usleep, sleep, poll, ppoll, select,
 * pselect, epoll_wait, sigtimedwait, io_getevents, semop/semtimedop, and socket calls with a
 * timeout (SO_RCVTIMEO, SO_SNDTIMEO). Bracket such calls (the P then goes to another thread
 * and this one is never signalled), or retry on EINTR, as Go programs must.
 *
 * Thread-local state, for code running in a goroutine:
 *   - errno is saved and restored with the goroutine at every switch, so its value follows
 *     the goroutine. But glibc declares __errno_location() const, and the compiler may reuse
 *     errno's address from before a call in the same function: read errno right after the
 *     call that set it (as "if (read(...) < 0 && errno == EAGAIN)" does), never across a
 *     call below that may switch. The same holds for the address of any __thread variable.
 *     Functions of this library never set errno.
 *   - Other __thread variables belong to the M: after any call below that may block (yield,
 *     sleep, park, wait, read/write, channel operations), the goroutine may be on another
 *     thread and see that thread's values.
 *   - The signal mask is the M's. Ms start with the mask of the thread that called go_run;
 *     a goroutine must not change it (pthread_sigmask would change it for whichever goroutine
 *     runs next on that thread). The runtime uses SIGURG (as Go does) to detect hogs;
 *     its handler runs on an alternate signal stack (sigaltstack) each M gives its thread,
 *     or on the one the thread has already (go_run's thread: only while go_run runs).
 *   - A thread that is not an M (main before go_run, a pthread of the program) may call
 *     go_ready(), go_timer_*, and the park-based primitives built on go_park(): there they
 *     block the thread itself.
 *
 * Conventions: functions returning int return 0 (or a count) on success and a negative errno
 * value on failure; none of them sets errno.
 */
#ifndef GOCHAN_SCHED_H
#define GOCHAN_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Running the scheduler ---------------------------------------------------------------- */

/*
 * struct go_config - what go_run_config() takes. Zero means "the default" for every field.
 * @size:       sizeof(struct go_config), so the struct can grow.
 * @maxprocs:   number of Ps. Default: $GOCHAN_MAXPROCS, else the CPUs this thread may use.
 * @stack_max:  each goroutine's stack limit in bytes (rounded up to pages, at least 16 KiB,
 *              at most 1 GiB). Default: $GOCHAN_STACK_MAX, else 256 KiB. Only touched pages
 *              cost memory: a parked goroutine with a shallow stack costs one page.
 * @flags:      GO_CONFIG_* below.
 * @schedtrace_ms: print a scheduler line to stderr every this many ms (Go's
 *              GODEBUG=schedtrace=N). Default: $GOCHAN_SCHEDTRACE, else off.
 */
struct go_config {
	uint32_t size;
	uint32_t maxprocs;
	uint64_t stack_max;
	uint32_t flags;
	uint32_t schedtrace_ms;
};

/* Do not check for deadlock (see go_run()); for programs whose goroutines are woken by
 * threads that are not Ms. */
#define GO_CONFIG_NO_DEADLOCK_CHECK 0x1u
/* Leave SIGQUIT alone (see go_dump()): by default, as Go, a SIGQUIT while go_run runs dumps
 * every goroutine and exits with status 2. */
#define GO_CONFIG_NO_SIGQUIT 0x2u

/*
 * go_run - run main_fn(arg) as the first goroutine; return when it returns.
 * Returns 0; -EBUSY if the scheduler is already running (go_run from a goroutine, or from two
 * threads at once); -EINVAL for a bad config; -ENOMEM, -EAGAIN if threads or stacks cannot be
 * made; -EDEADLK when every goroutine is blocked and nothing can wake them: the runtime then
 * prints "gochan: all goroutines are asleep - deadlock!" and each goroutine's state to stderr
 * (what Go prints before exiting with status 2, in go_dump()'s format), abandons the
 * goroutines and returns.
 */
int go_run(void (*main_fn)(void *), void *arg);
int go_run_config(const struct go_config *config, void (*main_fn)(void *), void *arg);

/* go_maxprocs - the number of Ps of the running scheduler (0 when none is running). */
unsigned go_maxprocs(void);

/*
 * go_set_maxprocs - Go's runtime.GOMAXPROCS(n): give the running scheduler @n Ps, at once,
 * while goroutines run. @n <= 0 changes nothing and reads the number.
 * Returns the number before the call (n <= 0: the number now); -EPERM when no scheduler runs
 * (or go_run is ending); -EINVAL when @n > 4096 (the most a go_config may ask for too);
 * -ECANCELED when go_run ended before the change was made (nothing changed); -ENOMEM (from a
 * thread that is not a goroutine: a goroutine does the work for it, see below).
 * May be called from any goroutine, or from any thread while go_run runs; calls are
 * serialized with each other and with the garbage collector's stops.
 *
 * As Go's procresize, it stops the world first (as the collector does, a pause of tens of
 * microseconds to a few ms: every running goroutine is stopped at its next runtime call or
 * by a signal). Growing adds idle Ps. Shrinking removes the Ps with the highest ids: what
 * they had queued (runnable goroutines) goes to the global run queue, nothing is lost;
 * parked goroutines are not touched; a goroutine that was running on a removed P is given a
 * remaining idle P if there is one, else it goes on without a P until its next runtime call
 * (where it waits for a P like any runnable goroutine) - a goroutine that never calls into
 * the runtime keeps its thread, as a hog does (see Preemption). So for a moment more
 * goroutines may run than there are Ps; threads are not Ps. The caller itself returns on a
 * P that exists. The collector's per-P state of a removed P is handed over; a P that comes
 * back later starts empty. A later go_run starts from its own go_config again.
 */
int go_set_maxprocs(int n);

/* ---- Goroutines ------------------------------------------------------------------------- */

/*
 * go_spawn - start a goroutine running fn(arg); it ends when fn returns. The new goroutine
 * runs next on this P (Go puts it in runnext), the spawner goes on first.
 * Returns 0; -ENOMEM if no stack can be mapped; -EPERM if the scheduler is not running.
 * May be called from any thread while the scheduler runs.
 */
int go_spawn(void (*fn)(void *), void *arg);

/* go_yield - let other goroutines run (Go's runtime.Gosched); returns at once if none wait. */
void go_yield(void);

/* go_sleep - sleep at least ns nanoseconds (<= 0 yields). go_sleep_until: until the
 * CLOCK_MONOTONIC time deadline_ns (go_now() gives it). Outside a goroutine, nanosleep. */
void go_sleep(int64_t ns);
void go_sleep_until(int64_t deadline_ns);

/* go_now - CLOCK_MONOTONIC in nanoseconds. */
int64_t go_now(void);

/* go_id - the running goroutine's id (1 for main_fn, then increasing), 0 outside one. */
uint64_t go_id(void);

/* ---- Blocking system calls -------------------------------------------------------------- */

/*
 * go_syscall_enter / go_syscall_exit - bracket a call that may block in the kernel (read on a
 * pipe, waitpid, a mutex ...). Between the two the goroutine keeps its thread but not its P:
 * if the call lasts more than about 20 us, the P is handed to another thread and the other
 * goroutines go on (Go's entersyscall/exitsyscall). go_syscall_exit may wait for a P.
 * Between the two, no other call of this header may be made. Outside a goroutine: no-ops.
 * GO_SYSCALL(expr) evaluates expr so bracketed and yields its value.
 */
void go_syscall_enter(void);
void go_syscall_exit(void);
#define GO_SYSCALL(expr)                                                                   \
	({                                                                                 \
		go_syscall_enter();                                                        \
		__typeof__(expr) go_syscall_ret_ = (expr);                                 \
		go_syscall_exit();                                                         \
		go_syscall_ret_;                                                           \
	})

/* ---- File descriptors, through the poller (io_uring) -------------------------------------- */

/*
 * go_poll - park the goroutine until fd has one of events (POLLIN, POLLOUT, ...) or the
 * CLOCK_MONOTONIC deadline_ns passes (-1: no deadline). The thread runs other goroutines.
 * Returns the events that happened (> 0, may include POLLERR/POLLHUP/POLLNVAL); -ETIMEDOUT;
 * -ENOMEM; -errno from io_uring. Outside a goroutine (or where io_uring is refused): poll(2),
 * restarted for the time left when a signal interrupts it, so never -EINTR (as in Go).
 */
int go_poll(int fd, short events, int64_t deadline_ns);

/*
 * go_read / go_write - read(2) / write(2) that park the goroutine, not the thread, while the
 * fd is not ready (IORING_OP_READ / IORING_OP_WRITE, at the file's current position).
 * Return the byte count or -errno. Outside a goroutine: read(2) / write(2).
 */
ssize_t go_read(int fd, void *buf, size_t len);
ssize_t go_write(int fd, const void *buf, size_t len);

/* ---- Building synchronization primitives ---------------------------------------------------- */

/* An opaque goroutine (or, outside the scheduler, a blocked thread's stand-in). */
struct go_g;

/* go_self - the running goroutine; outside one, the calling thread's stand-in. Never NULL. */
struct go_g *go_self(void);

/*
 * go_park - block the running goroutine until go_ready(go_self()) is called.
 * unlock(g, arg), when not NULL, is called after the goroutine has stopped running on its
 * stack, typically to release the lock under which it queued itself, so that a waker that
 * takes that lock can ready it at once without racing the switch (Go's gopark unlockf).
 * If unlock returns false, the goroutine resumes at once (it was not parked). unlock runs on
 * the scheduler's stack: it must not block or call anything in this header except go_ready.
 * reason says why, for the deadlock report and traces (a string literal: "chan receive").
 * Returns the value passed to go_ready (0 if unlock returned false).
 * Outside a goroutine, blocks the thread.
 */
uintptr_t go_park(bool (*unlock)(struct go_g *g, void *arg), void *arg, const char *reason);

/*
 * go_ready - make g, parked by go_park, runnable; go_park returns value in it. Exactly one
 * go_ready per go_park. Any thread may call it, Ms or not; it never blocks and never
 * switches the calling goroutine out (it may be called with locks held). go_spawn and go_park
 * (before its unlock callback) never switch the caller out either.
 */
void go_ready(struct go_g *g, uintptr_t value);

/*
 * struct go_timer - a one-shot timer whose function runs on the scheduler at (or after) its
 * time. Zero-initialize it before first use; do not move it while it is pending.
 * fn runs on a scheduler stack with no P lock held: it must not block; it may call go_ready,
 * go_spawn, go_timer_start/stop on other timers, and push to lock-free structures.
 */
struct go_timer {
	int64_t when;                      /* CLOCK_MONOTONIC ns; private while pending */
	void (*fn)(struct go_timer *t, void *arg);
	void *arg;
	uint32_t heap_index;               /* private */
	uint32_t state;                    /* private */
};

/*
 * go_timer_start - arm t to call fn(t, arg) at when_ns (CLOCK_MONOTONIC). t must not be
 * pending. Returns 0, or -EPERM when the scheduler is not running.
 * go_timer_stop - disarm t. Returns true if t was pending and will not fire; false if it had
 * already fired or was never started. When it returns false, fn may still be running on
 * another thread (as with Go's Timer.Stop): callers that free t must know fn has finished.
 */
int go_timer_start(struct go_timer *t, int64_t when_ns,
		   void (*fn)(struct go_timer *t, void *arg), void *arg);
bool go_timer_stop(struct go_timer *t);

/* ---- Wait groups (Go's sync.WaitGroup) ------------------------------------------------------ */

/* Zero-initialize. Any number of goroutines (and threads) may wait. */
struct go_waitgroup {
	int64_t count;       /* private */
	void *waiters;       /* private */
	uint32_t lock;       /* private */
};

/* go_wg_add - add delta (may be negative). Returns 0, or -EINVAL (and changes nothing) if the
 * count would go negative. When it reaches zero, every waiter wakes. */
int go_wg_add(struct go_waitgroup *wg, int64_t delta);
static inline int go_wg_done(struct go_waitgroup *wg) { return go_wg_add(wg, -1); }
/* go_wg_wait - block until the count is zero (returns at once if it is). */
void go_wg_wait(struct go_waitgroup *wg);

/* ---- Stacks ------------------------------------------------------------------------------- */

/*
 * Each goroutine's stack is a reserved, not committed, range of stack_max bytes: pages are
 * committed by the kernel as the stack first touches them, and returned by go_stacks_shrink()
 * (also run by the scheduler's monitor every few seconds), which gives back the lower half of
 * the pages a parked goroutine has touched when it uses under a quarter of them (the seed's
 * rule; Go shrinks at GC). The goroutine's descriptor lives at the top of its stack, so a
 * parked goroutine with a shallow stack costs exactly one page.
 *
 * Overflow detection:
 *   - guarded stacks: a PROT_NONE page below the stack; any overflow faults (SIGSEGV) at the
 *     first touch. Each guard costs two memory mappings, so only the first stacks get one:
 *     as many as fit in a quarter of vm.max_map_count's headroom at start (about 8000 with
 *     the default 65530; $GOCHAN_STACK_GUARDS, read once per process, lowers that number);
 *     the count is in go_sched_stats().
 *   - beyond that: a 256-byte canary zone at the top of the stack below, checked at every
 *     switch of either goroutine; an overflow is reported ("stack overflow") and the process
 *     aborts. It misses an overflow that writes past the zone without touching it (a frame
 *     bigger than 256 bytes that skips it) until the corrupted neighbour runs, and one that
 *     crashes before the next switch. Build with -fstack-clash-protection for frames larger
 *     than a page to be caught by a guard page, which both kinds have at their arena's bottom.
 */
long go_stacks_shrink(void);       /* bytes returned to the OS */

/* ---- Observability ------------------------------------------------------------------------ */

/* Counters since go_run started. All fields are read racily (a consistent enough snapshot). */
struct go_sched_stats {
	uint32_t size;              /* in: sizeof(struct go_sched_stats) */
	uint32_t maxprocs;
	uint64_t goroutines;        /* alive now, including main */
	uint64_t spawned;           /* go_spawn calls that succeeded */
	uint64_t switches;          /* goroutines resumed */
	uint64_t steals;            /* successful work steals */
	uint64_t threads;           /* Ms created */
	uint64_t idle_threads;      /* Ms parked now */
	uint64_t syscall_handoffs;  /* Ps taken from goroutines in a system call */
	uint64_t hog_handoffs;      /* Ps taken from goroutines that did not yield for 10 ms */
	uint64_t timers_fired;
	uint64_t polls;             /* go_poll/go_read/go_write waits that parked */
	uint64_t stacks_mapped;     /* stacks ever mapped (live + cached) */
	uint64_t stacks_guarded;    /* of which have a guard page */
	uint64_t stack_bytes_released; /* by go_stacks_shrink */
	uint64_t global_runq;       /* goroutines in the global run queue now */
};

/* go_sched_stats - fill *st (st->size set by the caller). Returns 0; -EINVAL for a bad size;
 * -EPERM when the scheduler is not running. */
int go_sched_stats(struct go_sched_stats *st);

/*
 * go_dump - print every goroutine of the running scheduler to @f (NULL: stderr), the caller
 * first, in Go's traceback layout:
 *
 *	goroutine 7 [chan receive, 3 minutes]:
 *	worker(0x5581a2c3e2a0)
 *		/usr/local/bin/prog +0x1a2f
 *	created by main_fn+0x4e in goroutine 1
 *		/usr/local/bin/prog +0x1b7e
 *
 * the state in brackets: what a parked goroutine waits for ("chan receive", "chan send",
 * "select", "sleep", "sync.Mutex.Lock", "sync.WaitGroup.Wait", "IO wait" ...; the reason
 * given to go_park), or runnable, running, syscall; then, from one minute of waiting on,
 * how many minutes (Go's rule). The frames, where C differs from Go: the calling goroutine
 * gets its stack (backtrace()), any other its function and argument only, as a parked
 * goroutine's stack cannot be walked without frame pointers or stack maps; "created by"
 * names the code that called go_spawn (no line for the main goroutine). Names come from
 * dladdr(), i.e. the dynamic symbol table: link the program with -rdynamic for its own
 * functions to be named; static functions print as "?". Each frame has its object file and
 * offset, for addr2line -e FILE OFFSET. The snapshot is racy: goroutines are not stopped.
 * Nothing happens when no scheduler runs.
 *
 * SIGQUIT: while go_run runs, unless GO_CONFIG_NO_SIGQUIT is given or the program has its
 * own disposition for SIGQUIT (a handler, or SIG_IGN), a SIGQUIT prints "SIGQUIT: quit" and
 * this dump to stderr and exits the process with status 2, as a Go program does (C's
 * default, a core dump, is lost: set GO_CONFIG_NO_SIGQUIT to keep it). The dump is made by
 * the scheduler's monitor thread, not in the signal handler.
 */
void go_dump(FILE *f);

/* go_schedtrace - print one Go-style "SCHED" line to stderr now, e.g.
 * "SCHED 1004ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=2
 *  runqueue=0 [1 0]". */
void go_schedtrace(void);

#ifdef __cplusplus
}
#endif

#endif /* GOCHAN_SCHED_H */
