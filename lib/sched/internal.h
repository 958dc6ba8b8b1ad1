/* SPDX-License-Identifier: MIT */
#ifndef GOCHAN_SCHED_INTERNAL_H
#define GOCHAN_SCHED_INTERNAL_H

/*
 * The scheduler's internals, grouped by the file that defines them.
 *
 * Glossary (runtime/proc.go's): G a goroutine, M a thread, P the right to run Gs (maxprocs of
 * them), g0 an M's own stack (the pthread's), on which schedule() runs. An M runs a G only while
 * it holds a P; an M in a system call (or running a hog) may have lost its P.
 *
 * Locks: lib/internal.h says what each is for and their order. A P's local run queue is
 * lock-free (one producer, its owner; many consumers via CAS on head).
 *
 * G status (go_g.status):
 *	IDLE -> RUNNABLE (spawn) -> RUNNING (execute) -> RUNNABLE (yield, hog preempted)
 *	RUNNING -> WAITING (park) -> RUNNABLE (go_ready) ; RUNNING -> SYSCALL -> RUNNING
 *	RUNNING -> DEAD (fn returned) -> IDLE (reused by spawn) -> RUNNABLE
 *	Gs_SCAN is or'ed into WAITING/RUNNABLE/SYSCALL/DEAD while another thread works on the
 *	stack (the shrinker, the garbage collector's stack scan): whoever moves the G on from
 *	there (go_ready, execute, go_syscall_exit, newproc) waits until it is cleared, so the
 *	stack is never resumed under it.
 * Who writes it: a transition out of WAITING, RUNNABLE, SYSCALL or DEAD is a CAS (it races
 * with Gs_SCAN); the others are store_release by the one thread that owns the G then (its M,
 * or the spawner). Run queues (local, runnext, global) hold only RUNNABLE Gs (Gs_SCAN
 * perhaps or'ed in). GO_DEBUG builds check these transitions (go_assert, lib/internal.h).
 *
 * P status (go_p.status): a state and, but for IDLE, its owner's tag (go_m.ptag):
 *	Ps_IDLE			in sched.pidle, no owner
 *	m->ptag | Ps_RUNNING	owned by m (p->m), which runs Gs on it
 *	m->ptag | Ps_SYSCALL	owned by m, whose G is in a system call or hogging the thread:
 *				sysmon may take it (CAS to IDLE); m takes it back with a CAS from
 *				this very word to m->ptag | Ps_RUNNING
 *	Ps_GCSTOP		stopped for a stop-the-world (stw.c); p->stw_prev is what it was
 *				and what it becomes again at the restart
 * The tag is what ties a P to its M (Go's p.m, checked by exitsyscall): if sysmon took m's P
 * and handed it to another M whose G is now in a system call too, the state is SYSCALL again
 * but the word is not m's, and m's CAS fails. Only the owning M touches a RUNNING P's fields
 * other than the run queue.
 */

#include <gochan/sched.h>

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define GO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GO_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define GO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GO_TSAN 1
#endif
#endif

/* ---- lock.c: one-shot notes, futexes (the locks: lib/internal.h) ------------------------------ */

/* A note is a one-shot event (Go's note): sleep until woken; clear before reuse. */
typedef struct { uint32_t key; } go_note_t;
void _go_note_clear(go_note_t *n);
void _go_note_wakeup(go_note_t *n);
void _go_note_sleep(go_note_t *n);
/* Returns false on timeout; ns < 0 sleeps until woken. */
bool _go_note_tsleep(go_note_t *n, int64_t ns);

int _go_futex_wait(uint32_t *addr, uint32_t val, int64_t ns);
void _go_futex_wake(uint32_t *addr, int n);

/* ---- switch_*.S, switch.c: the context switch ------------------------------------------------ */

/*
 * struct go_regs - a goroutine's (or an M's g0's) registers while it is not running: the
 * callee-saved registers, mxcsr and the x87 control word are pushed on its own stack, and
 * sp is where they are. (Not a Go context: that is lib/context's struct go_ctx.)
 */
struct go_regs {
	void *sp;
};

/* The callee-saved registers (rbx, rbp, r12-r15) into regs[0..6) and the stack pointer into
 * *sp, inline: what the garbage collector scans of a goroutine stopped in the runtime, whose
 * callers may keep pointers in those registers (everything else is on its stack above sp). */
#define GO_SAVE_CALLEE_REGS(regs, sp)                                                        \
	__asm__ volatile("movq %%rbx, 0(%1)\n\tmovq %%rbp, 8(%1)\n\tmovq %%r12, 16(%1)\n\t"   \
			 "movq %%r13, 24(%1)\n\tmovq %%r14, 32(%1)\n\tmovq %%r15, 40(%1)\n\t"   \
			 "movq %%rsp, %0"                                                    \
			 : "=m"(*(sp))                                                       \
			 : "r"(regs)                                                         \
			 : "memory")

/* Save the running registers in from, resume to. */
void _go_switch(struct go_regs *from, struct go_regs *to);
/* Prepare r so that switching to it calls entry(arg) on the stack whose top is stack_top. */
void _go_regs_init(struct go_regs *r, void *stack_top, void (*entry)(void *), void *arg);

/* ---- the G ---------------------------------------------------------------------------------- */

enum {
	Gs_IDLE = 0,
	Gs_RUNNABLE,
	Gs_RUNNING,
	Gs_SYSCALL,
	Gs_WAITING,
	Gs_DEAD,
	Gs_SCAN = 0x100,
};

/* What the G asked its M to do once back on g0 (go_m.after). */
enum go_after {
	AFTER_NONE,
	AFTER_YIELD,	/* requeue at the tail of the local run queue */
	AFTER_PARK,	/* WAITING; then g->park_unlock */
	AFTER_EXIT,	/* fn returned */
	AFTER_LOSTP,	/* returning from a syscall/hog found no P: global queue, stop the M */
};

#define GO_CANARY_BYTES	256
#define GO_CANARY_WORD	0x9e3779b97f4a7c15ull

/*
 * struct go_g - a goroutine. It lives at the top of its own stack region (stack.c), under the
 * canary zone that guards it from the stack region above; the stack grows down from it.
 * A thread that is not an M has a stand-in (is_thread) in its TLS, parked on a futex.
 */
struct go_g {
	struct go_regs regs;		/* saved registers while not running */
	uint32_t status;		/* Gs_* (see the top): atomic */
	uint32_t sema;			/* is_thread: 1 when readied (futex word) */
	uint64_t id;
	void (*fn)(void *);
	void *arg;
	struct go_m *m;			/* while RUNNING or SYSCALL */
	struct go_g *schedlink;		/* global run queue, free lists, netpoll results */

	/* go_park: set by the G before switching, used by its M on g0 */
	bool (*park_unlock)(struct go_g *g, void *arg);
	void *park_arg;
	const char *waitreason;
	int64_t waitsince;		/* _go_coarse_now() at go_park */
	uintptr_t param;		/* go_ready's value */
	int saved_errno;
	uint32_t gen;			/* sched.gen when spawned */
	uintptr_t created_pc;		/* go_spawn's return address, or 0 (main) */
	uint64_t parent_id;		/* the spawning goroutine's id, 0 if none */
	bool is_thread;
	bool is_main;

	/* stack: [stack_lo, (char *)this) ; region [region_lo, region_lo + stack_max) */
	char *stack_lo;			/* lowest usable byte (above the guard page, if any) */
	char *region_lo;
	struct go_arena *arena;
	bool guarded;
	bool check_above;		/* the region above is unguarded: check the canary zone at
					 * the top of ours, which its overflow writes (atomic) */

	void *asan_fake_stack;
	void *tsan_fiber;

	/* The garbage collector's (lib/gc), see stack.c "GC" and stw.c:
	 * gcscan_gen  the stack scan generation done or claimed for this G (CAS: who moves it
	 *             to stacks.scan_gen scans the stack, while the G cannot run)
	 * gcsp, gcregs while stopped in the runtime (stw.c), in a system call (go_syscall_enter)
	 *             or in the runtime's signal handler: the stack pointer from which its
	 *             stack holds all it uses, and registers it may keep pointers in (callee-
	 *             saved ones; all sixteen when stopped by the signal); gcsp NULL otherwise
	 * gcassist    assist credit in bytes of allocation (owned by the G itself)
	 * gcscan_wait 1 while the G waits in the runtime's signal handler for its stack to be
	 *             scanned (set by the handler, cleared by the scanner: lib/gc/roots.c) */
	uint32_t gcscan_gen;
	uint32_t gcscan_wait;
	int64_t gcassist;
	void *gcsp;
	uintptr_t gcregs[16];
};

/* ---- the M and the P ------------------------------------------------------------------------ */

struct go_p;

enum { M_RUNNING, M_EXITED, M_ABANDONED, M_NO_THREAD };

struct go_m {
	struct go_regs g0regs;		/* schedule()'s registers, on the pthread's stack */
	struct go_g *curg;		/* running G, or NULL on g0 */
	struct go_p *p;			/* attached P (may have been taken if in SYSCALL) */
	struct go_p *nextp;		/* handed over by startm */
	struct go_m *schedlink;		/* sched.midle */
	struct go_m *alllink;
	go_note_t park;			/* stopm sleeps here */
	pthread_t thread;
	int id;
	uint32_t gen;
	bool spinning;			/* looking for work, counted in sched.nmspinning */
	uint32_t ptag;			/* this M's owner tag in p->status: unique, low 2 bits 0 */
	uint32_t fate;			/* M_RUNNING -> M_EXITED (its thread) or M_ABANDONED
					 * (go_run's teardown): CAS, whoever comes first */
	volatile sig_atomic_t in_runtime; /* > 0: the hog handler leaves this M alone */
	uint32_t stw_stopped;		/* atomic: which stop-the-world it is parked for, 0:
					 * none (stw.c: read it with _go_stw_m_stopped) */
	int64_t stw_sigtime;		/* the stopper's: when it last signalled this M */
	uint32_t stw_nested;		/* atomic: parked inside a runtime call (in_runtime > 1,
					 * or a stopper waiting its turn), which may hold m->p in
					 * a local: a resize must not take or swap that P (stw.c) */
	enum go_after after;
	uint64_t fastrand;

	/* The alternate signal stack the hog signal's handler runs on (SA_ONSTACK): a
	 * goroutine's stack may have no room left for a signal frame. Mapped by this M, or NULL
	 * when its thread had one already (a sanitizer's, the program's), which it then uses. */
	void *sigstack;
	size_t sigstack_len;

	/* g0's stack, for sanitizers */
	void *g0_stack_lo;
	size_t g0_stack_size;
	void *g0_fake_stack;
	void *g0_tsan_fiber;
};

enum { Ps_IDLE = 0, Ps_RUNNING, Ps_SYSCALL, Ps_GCSTOP };
#define Ps_STATE_MASK	3u
#define p_state(status)	((status) & Ps_STATE_MASK)

#define GO_RUNQ_SIZE 256
#define GO_GFREE_LOCAL_MAX 64

/*
 * struct go_p - a P. Only its owner (the M whose tag is in status) writes its fields, but for
 * status (sysmon's CAS), the run queue's head and runnext (thieves' CAS), link (whoever puts
 * it on sched.pidle) and the sysmon_* fields and hog_signalled (sysmon's).
 */
struct go_p {
	int id;				/* fixed: its index in sched.allp */
	uint32_t status;		/* owner's ptag | Ps_* (see the top); CAS while SYSCALL */
	struct go_m *m;			/* the owner, set by acquirep; atomic */
	struct go_p *link;		/* sched.pidle, under sched.lock */
	uint32_t schedtick;		/* incremented on every execute */
	uint32_t syscalltick;		/* incremented on every syscall enter */

	/* lock-free run queue: the owner puts at tail, anyone takes at head (CAS) */
	uint32_t runqhead;
	uint32_t runqtail;
	struct go_g *runq[GO_RUNQ_SIZE];
	struct go_g *runnext;		/* runs next; CAS to steal */

	struct go_g *gfree;		/* dead Gs (with stacks) for reuse: the owner's */
	int ngfree;

	/* Counters only the owner writes (relaxed), summed by readers: a global atomic
	 * bumped on every switch made two Ps fight over one cache line. */
	uint64_t nswitches;
	uint64_t nspawned;
	int64_t gdelta;			/* goroutines made here minus those ended here */
	uint64_t goid_next, goid_end;	/* a batch of goroutine ids (Go's goidcache) */

	/* sysmon's view, for retake: the ticks it last saw and when */
	uint32_t sysmon_schedtick;
	uint32_t sysmon_syscalltick;
	int64_t sysmon_when;
	bool hog_signalled;

	uint32_t stw_prev;		/* status before Ps_GCSTOP (stw.c) */
} __attribute__((aligned(64)));

/* Ps a scheduler may have (go_config.maxprocs, go_set_maxprocs): allp is allocated for this
 * many once, so that a P never moves (an M in a system call may still look at its P). */
#define GO_MAXPROCS_MAX 4096

/* ---- proc.c ------------------------------------------------------------------------------- */

int64_t _go_nanotime(void);	/* CLOCK_MONOTONIC ns */

struct go_sched {
	go_lock_t lock;
	uint32_t gen;			/* incremented by every go_run */
	bool running;
	uint32_t stopping;		/* main returned or deadlock: Ms leave schedule() */
	int result;			/* go_run's return */
	uint32_t flags;			/* GO_CONFIG_* */

	struct go_m *midle;		/* idle Ms, under lock */
	int nmidle;
	int mcount;
	struct go_m *allm;		/* under lock */
	struct go_m *m0;		/* go_run's own thread's M (not on allm) */
	struct go_p *pidle;		/* idle Ps, under lock */
	uint32_t npidle;		/* atomic reads */
	uint32_t nmspinning;		/* atomic */
	uint32_t nprocs;		/* allp[0..nprocs) are in use; changed only by a resize
					 * with the world stopped (proc.c, go_set_maxprocs) */
	uint32_t allp_init;		/* allp[0..allp_init) were set up in this go_run */
	struct go_p *allp;
	uint32_t allp_cap;

	struct go_g *runqhead, *runqtail; /* global run queue, under lock */
	uint32_t runqsize;		/* atomic reads */
	struct go_g *gfree;		/* global free Gs, under lock */
	int ngfree;

	int64_t ngoroutines;		/* atomic; Gs made or ended without a P (plus the
					 * Ps' gdelta: live Gs, see _go_ngoroutines()) */
	uint64_t goidgen;		/* atomic; ids are handed to Ps 16 at a time */
	int64_t start_ns;
	uint64_t stack_max;
	uint64_t stack_max_prev;	/* of the last go_run: its free Gs are reused if equal */

	/* sysmon */
	pthread_t sysmon;
	go_note_t sysmon_note;
	uint32_t sysmon_sleeping;	/* atomic: 1 while parked for lack of work */
	uint32_t schedtrace_ms;

	struct go_sched_stats stats;	/* counters, relaxed atomics (switches and spawned
					 * are summed from the Ps when read) */
	uint64_t spawned_nop;		/* go_spawn without a P (a foreign thread) */
};

extern struct go_sched _go_sched;
extern __thread struct go_m *_go_m;
extern __thread struct go_g *_go_curg;	/* running G on this thread, NULL on g0 / non-M */

int64_t _go_ngoroutines(void);		/* live Gs (a racy sum while Ps run) */
void _go_g_make_runnable(struct go_g *g);	/* WAITING -> RUNNABLE (waits out Gs_SCAN) */
void _go_inject_global_polled(void);		/* sysmon: reap and queue, under sched.lock */
void _go_wakep(void);
void _go_startm(struct go_p *p, bool spinning);
void _go_handoffp(struct go_p *p);
bool _go_runq_empty(struct go_p *p);
uint32_t _go_runq_len(struct go_p *p);
uint32_t _go_fastrand(void);
void _go_lostp_check(void);	/* in a G: take back a P lost to sysmon (hog/syscall) */
void _go_syscall_enter_c(const uintptr_t *regs, void *sp);	/* go_syscall_enter's body */

/*
 * _go_safepoint - nonzero while goroutines must look in at their next safe point (every
 * _go_rt_enter and _go_rt_exit, and schedule()'s loop): GO_SAFEPOINT_STW, a stop-the-world
 * is pending (stw.c); GO_SAFEPOINT_GC, the garbage collector marks and wants each goroutine's
 * stack scanned and its P's grey objects flushed (_go_gc_safepoint_hook). One load and a
 * predictable branch on every runtime call otherwise.
 */
#define GO_SAFEPOINT_STW 0x1u
#define GO_SAFEPOINT_GC 0x2u
extern uint32_t _go_safepoint;
void _go_safepoint_slow(struct go_m *m);

/* Runtime entry from a G: the hog handler must not flip the P while this M is inside. */
static inline void _go_rt_enter(struct go_m *m)
{
	m->in_runtime++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	/* RUNNING and ours: while this M's goroutine was in a system call, sysmon may have
	 * given the P to another M, which runs it now. */
	if (unlikely(m->p == NULL || load_acquire(&m->p->status) != (m->ptag | Ps_RUNNING) ||
		     m->gen != load_relaxed(&_go_sched.gen))) {
		_go_lostp_check();
		m = _go_m;	/* (it may have resumed on another M) */
	}
	if (unlikely(load_relaxed(&_go_safepoint))) {
		_go_safepoint_slow(m);
		/* a resize (go_set_maxprocs) stopped the world there and removed our P */
		if (unlikely(m->p == NULL))
			_go_lostp_check();
	}
}

/*
 * As _go_rt_enter, but never deschedules the caller: go_park and go_ready are called with
 * the caller's locks held (Go's gopark and goready never reschedule there either). Returns
 * false when this M has no P now (sysmon took it and none is idle): m->p is then NULL and
 * the caller does without one (go_park still parks; go_ready uses the global queue).
 */
bool _go_lostp_reacquire(struct go_m *m);

static inline bool _go_rt_enter_noswitch(struct go_m *m)
{
	m->in_runtime++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (unlikely(m->p == NULL || load_acquire(&m->p->status) != (m->ptag | Ps_RUNNING) ||
		     m->gen != load_relaxed(&_go_sched.gen)))
		return _go_lostp_reacquire(m);
	if (unlikely(load_relaxed(&_go_safepoint))) {
		_go_safepoint_slow(m);	/* may wait for a restart: never switches */
		if (unlikely(m->p == NULL))	/* a resize removed our P meanwhile */
			return _go_lostp_reacquire(m);
	}
	return true;
}

static inline void _go_rt_exit(struct go_m *m)
{
	if (unlikely(load_relaxed(&_go_safepoint))) {
		_go_safepoint_slow(m);
		/* a resize removed our P: an idle one if there is one; else the goroutine runs on
		 * without one until its next runtime call, as a hog whose P sysmon took */
		if (unlikely(m->p == NULL))
			_go_lostp_reacquire(m);
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	m->in_runtime--;
}

/* ---- stw.c: stopping the world, for the garbage collector and go_set_maxprocs ------------- */

/* Stop every P but the caller's, and every goroutine running program code; the caller is a
 * goroutine with a P, in the runtime (in_runtime > 0). One stopper at a time: a second one
 * is stopped by the first, keeping its P, and goes on after the first one's restart.
 * Returns the nanoseconds it took to stop, or -1 when go_run is ending (the world is not
 * stopped then: the caller calls _go_stw_start and gives up). _go_stw_start restarts. */
int64_t _go_stw_stop(void);
void _go_stw_start(void);
bool _go_stw_pending(void);
/* An M at a safe point while a stop is pending: park (with its P, if any) until the restart. */
void _go_stw_park(struct go_m *m);
/* m is parked for the stop-the-world in force (the caller is its stopper). */
bool _go_stw_m_stopped(struct go_m *m);
/* The same from the hog signal's handler (the goroutine interrupted in program code). */
void _go_stw_sigpark(struct go_m *m, void *uc);
/* For each M of the run (the stopper's world is stopped, or the caller holds sched.lock). */
void _go_for_each_m(void (*fn)(struct go_m *m, void *arg), void *arg);
/* Put p in the idle list, or stop it if a stop-the-world is pending (sched.lock held). */
void _go_pidleput_locked(struct go_p *p);
struct go_p *_go_pidleget_locked(void);
void _go_stw_stop_idle_p(struct go_p *p);	/* sched.lock held: p (no M) is stopped */
/* The world stopped by the caller: can m, parked by the stop, give up or change its P?
 * (stw_nested: see go_m) */
bool _go_stw_m_movable(struct go_m *m);

/*
 * Hooks of the garbage collector (lib/gc sets them when it starts; NULL before):
 * _go_gc_safepoint_hook  a goroutine (m->curg) at a safe point while GO_SAFEPOINT_GC is set,
 *                        in the runtime (in_runtime > 0), its P this M's or none
 * _go_gc_signal_hook     the same from the hog signal's handler, with the interrupted
 *                        context (ucontext_t *): the goroutine was in program code
 * _go_gc_run_end_hook    go_run is ending, every M gone: finish a cycle in progress
 */
extern void (*_go_gc_safepoint_hook)(struct go_m *m, struct go_g *g);
extern void (*_go_gc_signal_hook)(struct go_m *m, struct go_g *g, void *uc);
extern void (*_go_gc_run_end_hook)(void);
/* _go_gc_p_retire_hook   the world stopped, P p is being removed by go_set_maxprocs: hand
 *                        its grey objects to the others (its cache stays, by P id) */
extern void (*_go_gc_p_retire_hook)(struct go_p *p);

/* ---- dump.c: go_dump, the deadlock report, SIGQUIT ---------------------------------------- */

int64_t _go_coarse_now(void);		/* CLOCK_MONOTONIC_COARSE ns: cheap, a few ms coarse */
void _go_print_goroutines(FILE *f);	/* every goroutine of this run, the caller first */
void _go_sigquit_install(void);		/* go_run's start: SIGQUIT dumps, unless ... */
void _go_sigquit_restore(void);		/* go_run's end */
void _go_sigquit_check(void);		/* sysmon: dump and _exit(2) if a SIGQUIT came */

/* ---- stack.c -------------------------------------------------------------------------------- */

/*
 * struct go_arena - one mapping holding up to nregions stack regions of sched.stack_max bytes,
 * above a PROT_NONE page. Regions are handed out in order (nused); region i's G lives at its
 * top. Arenas are never unmapped (their pages are released at go_run's end).
 */
struct go_arena {
	char *base;			/* the guard page; regions start at base + page */
	uint64_t stack_max;
	uint32_t nregions;
	uint32_t nused;			/* under stacks.lock */
	struct go_arena *next;
};

int _go_stacks_init(uint64_t stack_max);
/* A new G (status IDLE) with a fresh stack, or NULL (ENOMEM). */
struct go_g *_go_stack_alloc(void);
/* Check the canary zones of g's region: the one below its stack (unguarded stacks: its own
 * overflow) and the one at its top (below an unguarded region: the overflow of the goroutine
 * above); aborts on overflow. _go_stack_check_fast (below) calls it when g has one. */
void _go_stack_check_slow(struct go_g *g);
/* Release every stack's pages but its G's (go_run's end). */
void _go_stacks_release_all(void);
/* Call fn for every G ever made. */
void _go_stacks_for_each_g(void (*fn)(struct go_g *g, void *arg), void *arg);
long _go_stacks_shrink(void);
bool _go_stacks_shrink_step(unsigned max_arenas);	/* true: the cycle is complete */

/*
 * GC: stack scan generations. _go_stacks_scan_begin(gen) (the world stopped) makes every G
 * made so far "unscanned" (g->gcscan_gen != gen) and counts them in _go_stacks_unscanned;
 * Gs made afterwards are born scanned (a new goroutine's stack holds only what its creator
 * passed it, from a scanned stack or a marked object: Go's rule). _go_g_scan_claim(g)
 * moves g to gen (CAS) and returns whether this caller did: then it must scan g's stack, with
 * g unable to run. _go_stacks_next_g walks every G (lock-free, as the shrinker does) from a
 * zeroed iterator; NULL at the end.
 */
extern uint32_t _go_stacks_scan_gen;
extern int64_t _go_stacks_unscanned;
void _go_stacks_scan_begin(uint32_t gen);
bool _go_g_scan_claim(struct go_g *g);
struct go_stacks_iter {
	struct go_arena *a;	/* NULL: not started */
	uint32_t i;
	bool done;
};
struct go_g *_go_stacks_next_g(struct go_stacks_iter *it);

static inline void _go_stack_check_fast(struct go_g *g)
{
	if (!g->guarded || load_relaxed(&g->check_above))
		_go_stack_check_slow(g);
}

/* ---- timer.c ------------------------------------------------------------------------------ */

enum { Ts_IDLE = 0, Ts_PENDING };

int _go_timers_init(void);
void _go_timers_fini(void);
/* Run the timers due at now; returns the next timer's time or -1. */
int64_t _go_timers_run(int64_t now);
int64_t _go_timers_next(void);	/* earliest pending time, or -1 */
/* Run due timers; reads the clock only when a timer is pending. */
static inline void _go_timers_check(void)
{
	extern int64_t _go_timers_earliest;

	if (load_acquire(&_go_timers_earliest) != INT64_MAX)
		_go_timers_run(_go_nanotime());
}
bool _go_timers_pending(void);	/* a timer is pending */

/* ---- netpoll.c: io_uring ------------------------------------------------------------------- */

int _go_netpoll_init(void);
void _go_netpoll_fini(void);
/* Gs whose waits completed, made RUNNABLE, linked by schedlink; blocks up to delay_ns
 * (< 0 forever, 0 not at all). */
struct go_g *_go_netpoll(int64_t delay_ns);
void _go_netpoll_break(void);
/* Wake the M blocked in netpoll if it sleeps past when (a timer was added). */
void _go_netpoll_wake_for(int64_t when);
bool _go_netpoll_waiters(void);
extern uint32_t _go_netpoll_blocked;	/* atomic: an M is blocked in _go_netpoll */
extern int64_t _go_netpoll_last;	/* atomic: when completions were last reaped */

/* ---- sysmon.c ------------------------------------------------------------------------------- */

int _go_sysmon_start(void);
void _go_sysmon_stop(void);
void _go_sysmon_wake(void);
int _go_hog_signal_install(void);


#endif /* GOCHAN_SCHED_INTERNAL_H */
