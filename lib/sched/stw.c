/* SPDX-License-Identifier: MIT */
/*
 * stw.c - stopping the world, for the garbage collector and go_set_maxprocs (Go's
 * stopTheWorldWithSema and startTheWorldWithSema), and the safe points goroutines stop at.
 * One stopper at a time: a second waits stopped, as any goroutine, for the first's restart.
 *
 * The stopper (a goroutine in the runtime, holding its P) sets GO_SAFEPOINT_STW, then
 *   - takes every idle P and every P in SYSCALL (its M is in a system call, or runs a hog
 *     whose P the hog signal flipped): Ps_GCSTOP, p->stw_prev keeping what it was;
 *   - waits for the Ms running goroutines on their Ps to stop at their next safe point
 *     (_go_rt_enter, _go_rt_exit: every runtime call, allocation included; and the top of
 *     schedule()): each parks with its P (GCSTOP) until the restart (_go_stw_park);
 *   - signals (SIGURG, the hog signal) every M whose goroutine runs program code
 *     (in_runtime == 0, status RUNNING), with a P or without one (a hog whose P was taken):
 *     its handler parks the thread in the handler (_go_stw_sigpark), the interrupted
 *     registers and stack pointer saved in its G for the collector.
 * The world is stopped when stopwait is 0 (every other P GCSTOP) and, for every M but the
 * stopper's: m->curg == NULL, or its G is not RUNNING (SYSCALL: in a bracketed system call,
 * where it may not touch collected objects: <gochan/gc.h>), or it is parked for this stop
 * (_go_stw_m_stopped: m->stw_stopped names the stop). No goroutine
 * can start running meanwhile (every P is the stopper's or stopped), so each of these only
 * becomes true, never false again, until the restart.
 * Start: every GCSTOP P becomes what it was (idle: back to the idle list; RUNNING or SYSCALL:
 * its M's, which still holds it), stw.seq is incremented and the parked Ms are woken.
 *
 * Nobody spins: the stopper sleeps on its note (woken by the last P to stop, and every 50 us
 * to look at the Ms without one), a stopped M sleeps on stw.seq until the restart, as Go's
 * stopTheWorldWithSema and stopm do. A spinning thread holds a CPU the thread it waits for
 * may need: with 2 Ps on a loaded host, spinning 200 us made the median pause of
 * binary-trees 380-430 us; sleeping made it 40-150 us (bench_gc trees 16, same minutes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "internal.h"

#define sched _go_sched

#define STW_RESIGNAL_NS 100000	/* an M signalled this long ago, still running: again */

uint32_t _go_safepoint;
void (*_go_gc_safepoint_hook)(struct go_m *m, struct go_g *g);
void (*_go_gc_signal_hook)(struct go_m *m, struct go_g *g, void *uc);
void (*_go_gc_run_end_hook)(void);
void (*_go_gc_p_retire_hook)(struct go_p *p);

static struct {
	uint32_t pending;	/* a stop requested or in force (under sched.lock; atomic reads) */
	uint32_t seq;		/* futex word: incremented by every restart (under sched.lock) */
	int32_t stopwait;	/* Ps still to stop (atomic) */
	go_note_t note;		/* the stopper sleeps here; the last P to stop wakes it */
	struct go_m *stopper;
} stw;

bool _go_stw_pending(void)
{
	return load_acquire(&stw.pending) != 0;
}

/* One more P stopped. */
static void stopwait_dec(void)
{
	if (fetch_add(&stw.stopwait, -1) == 1)
		_go_note_wakeup(&stw.note);
}

/*
 * What m->stw_stopped holds while its M is parked for the stop whose restart moves stw.seq
 * on from seq: never 0 (not parked), and not the value of an earlier stop, so that an M
 * still asleep from the last stop, or just woken from it, does not count as stopped for
 * this one (the stopper would let it run on, and the collector read its goroutine's saved
 * registers while it restores them).
 */
static inline uint32_t stop_id(uint32_t seq)
{
	return seq * 2 + 1;
}

bool _go_stw_m_stopped(struct go_m *m)
{
	return load_acquire(&m->stw_stopped) == stop_id(load_relaxed(&stw.seq));
}

/* Wait for the restart that follows seq. */
static void stw_wait(uint32_t seq)
{
	while (load_acquire(&stw.seq) == seq)
		_go_futex_wait(&stw.seq, seq, -1);
}

/* p, owned by m and RUNNING, becomes GCSTOP; the starter gives it back. */
static void stop_own_p(struct go_m *m)
{
	struct go_p *p = m->p;
	uint32_t st = m->ptag | Ps_RUNNING;

	if (p && cas(&p->status, st, (uint32_t)Ps_GCSTOP)) {
		p->stw_prev = st;
		stopwait_dec();
	}
	/* (a P in SYSCALL, or another M's by now: the stopper takes it) */
}

/*
 * Stop m's P for the stop-the-world in force, if there is one (and m is not its stopper);
 * *seq: the stw.seq that stop's restart moves on from. Under sched.lock, as the stopper
 * sets stw.pending and the starter restarts the Ps and moves stw.seq: read without it, a
 * stop that restarted between the check of pending and stop_own_p left the P stopped with
 * nobody to restart it, and a seq read before a restart let the M run on through the next
 * stop, its P counted as stopped (Go's gcstopm takes sched.lock likewise). From a signal
 * handler too: the interrupted code was program code (in_runtime 0), not holding it.
 */
static bool stop_for_stw(struct go_m *m, uint32_t *seq)
{
	bool stop;

	_go_lock(&sched.lock);
	stop = stw.pending && m != stw.stopper;
	if (stop) {
		*seq = load_relaxed(&stw.seq);
		stop_own_p(m);
	}
	_go_unlock(&sched.lock);
	return stop;
}

void _go_stw_stop_idle_p(struct go_p *p)
{
	p->stw_prev = Ps_IDLE;
	store_release(&p->status, (uint32_t)Ps_GCSTOP);
	stopwait_dec();
}

void _go_stw_park(struct go_m *m)
{
	struct go_g *g = m->curg;
	uintptr_t saved[16];
	void *saved_sp = NULL;
	uint32_t seq;
	bool stopped;

	if (!load_acquire(&stw.pending) || m == load_relaxed(&stw.stopper))
		return;
	/* (a goroutine on its way out of a system call keeps the sp and registers saved on its
	 * way in: the collector may scan it from there until it is RUNNING again) */
	if (g) {
		memcpy(saved, g->gcregs, sizeof(saved));
		saved_sp = g->gcsp;
		GO_SAVE_CALLEE_REGS(g->gcregs, &g->gcsp);
	}
	stopped = stop_for_stw(m, &seq);
	if (stopped) {
		store_release(&m->stw_stopped, stop_id(seq));
		stw_wait(seq);
		store_release(&m->stw_stopped, 0u);
	}
	if (g) {
		g->gcsp = saved_sp;
		memcpy(g->gcregs, saved, sizeof(saved));
	}
}

void _go_stw_sigpark(struct go_m *m, void *ucv)
{
	ucontext_t *uc = ucv;
	struct go_g *g = m->curg;
	uintptr_t saved[16];
	void *saved_sp;
	uint32_t seq;

	if (!load_acquire(&stw.pending) || !g || m == load_relaxed(&stw.stopper))
		return;
	memcpy(saved, g->gcregs, sizeof(saved));
	saved_sp = g->gcsp;
	for (int i = 0; i < 16; i++) /* the general registers: gregs[REG_R8 .. REG_RSP] */
		g->gcregs[i] = (uintptr_t)uc->uc_mcontext.gregs[REG_R8 + i];
	/* below the interrupted stack pointer: the 128-byte red zone of a leaf function */
	g->gcsp = (char *)uc->uc_mcontext.gregs[REG_RSP] - 128;
	if (stop_for_stw(m, &seq)) {
		store_release(&m->stw_stopped, stop_id(seq));
		stw_wait(seq);
		store_release(&m->stw_stopped, 0u);
	}
	g->gcsp = saved_sp;
	memcpy(g->gcregs, saved, sizeof(saved));
}

void _go_safepoint_slow(struct go_m *m)
{
	uint32_t sp = load_acquire(&_go_safepoint);
	struct go_g *g = m->curg;

	if (sp & GO_SAFEPOINT_STW) {
		/* inside a runtime call that may hold m->p in a local: a resize leaves our P */
		store_relaxed(&m->stw_nested, m->in_runtime > 1 ? 1u : 0u);
		_go_stw_park(m);
		store_relaxed(&m->stw_nested, 0u);
	}
	if ((load_acquire(&_go_safepoint) & GO_SAFEPOINT_GC) && g && _go_gc_safepoint_hook)
		_go_gc_safepoint_hook(m, g);
}

void _go_for_each_m(void (*fn)(struct go_m *m, void *arg), void *arg)
{
	struct go_m *m;

	/* Ms are only ever pushed at the head, under sched.lock, and freed at go_run's end */
	_go_lock(&sched.lock);
	m = sched.allm;
	_go_unlock(&sched.lock);
	if (load_acquire(&sched.m0))
		fn(sched.m0, arg);
	for (; m; m = m->alllink)
		fn(m, arg);
}

/* m's in_runtime, read from another thread: a hint (whether a signal would do anything), so
 * racy on purpose: its M writes it with plain stores, as the signal handler it serves reads
 * it. */
__attribute__((no_sanitize_thread)) static int peek_in_runtime(const struct go_m *m)
{
	return m->in_runtime;
}

/* Does m (not the stopper's) still run a goroutine's program code? Signal it if it may. */
static bool m_running(struct go_m *m, int64_t now)
{
	struct go_g *g = load_relaxed(&m->curg);

	if (!g || _go_stw_m_stopped(m) ||
	    (load_acquire(&g->status) & ~(uint32_t)Gs_SCAN) != Gs_RUNNING)
		return false;
	if (!peek_in_runtime(m) && now - m->stw_sigtime >= STW_RESIGNAL_NS) {
		m->stw_sigtime = now;
		pthread_kill(m->thread, SIGURG);
	}
	return true;
}

int64_t _go_stw_stop(void)
{
	struct go_m *me = _go_curg->m, *m, *allm, *m0;
	int64_t t0 = _go_nanotime();
	struct go_p *p;

	_go_lock(&sched.lock);
	/* One stopper at a time (the collector, go_set_maxprocs): a second one stops for the
	 * first as a goroutine at a safe point would, keeping its P (nested), then tries again. */
	while (stw.pending) {
		_go_unlock(&sched.lock);
		store_relaxed(&me->stw_nested, 1u);
		_go_stw_park(me);
		store_relaxed(&me->stw_nested, 0u);
		_go_lock(&sched.lock);
	}
	store_relaxed(&stw.stopper, me);
	store_relaxed(&stw.stopwait, (int32_t)load_relaxed(&sched.nprocs) - 1);
	_go_note_clear(&stw.note);
	store_release(&stw.pending, 1u);
	fetch_or(&_go_safepoint, GO_SAFEPOINT_STW);
	while ((p = _go_pidleget_locked()) != NULL)
		_go_stw_stop_idle_p(p);
	allm = sched.allm;
	_go_unlock(&sched.lock);
	m0 = load_acquire(&sched.m0);
	for (m = allm; m; m = m->alllink)
		m->stw_sigtime = INT64_MIN / 2;
	if (m0)
		m0->stw_sigtime = INT64_MIN / 2;

	for (;;) {
		bool running = false;
		int64_t now = _go_nanotime();

		for (uint32_t i = 0; i < load_relaxed(&sched.nprocs); i++) {
			uint32_t st;

			p = &sched.allp[i];
			st = load_acquire(&p->status);
			if (p != me->p && p_state(st) == Ps_SYSCALL &&
			    cas(&p->status, st, (uint32_t)Ps_GCSTOP)) {
				p->stw_prev = st;
				stopwait_dec();
			}
		}
		for (m = allm; m; m = m->alllink)
			if (m != me && m_running(m, now))
				running = true;
		if (m0 && m0 != me && m_running(m0, now))
			running = true;
		if (!running && load_acquire(&stw.stopwait) == 0)
			break;
		/* go_run is ending: its Ms will not stop; the caller restarts and gives up */
		if (load_acquire(&sched.stopping))
			return -1;
		/* the last P to stop wakes us; Ms without one are polled */
		_go_note_tsleep(&stw.note, 50000);
		_go_note_clear(&stw.note);
	}
	return _go_nanotime() - t0;
}

bool _go_stw_m_movable(struct go_m *m)
{
	return !load_relaxed(&m->stw_nested);
}

void _go_stw_start(void)
{
	struct go_m *me = load_relaxed(&stw.stopper);

	_go_lock(&sched.lock);
	store_release(&stw.pending, 0u);
	fetch_and(&_go_safepoint, ~GO_SAFEPOINT_STW);
	for (uint32_t i = 0; i < load_relaxed(&sched.nprocs); i++) {
		struct go_p *p = &sched.allp[i];

		if (p == me->p || p_state(load_relaxed(&p->status)) != Ps_GCSTOP)
			continue;
		if (p->stw_prev == Ps_IDLE)
			_go_pidleput_locked(p);
		else
			store_release(&p->status, p->stw_prev);
	}
	store_relaxed(&stw.stopper, (struct go_m *)NULL);
	fetch_add(&stw.seq, 1); /* (under the lock: stop_for_stw) */
	_go_unlock(&sched.lock);
	_go_futex_wake(&stw.seq, INT32_MAX);
	/* idle Ps and queued goroutines: someone should look */
	_go_wakep();
}
