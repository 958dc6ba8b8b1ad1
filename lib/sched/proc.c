/* SPDX-License-Identifier: MIT */
/*
 * proc.c - goroutines, threads and processors: Go's runtime/proc.go for C.
 *
 * The loop every M runs on its own stack (g0):
 *
 *	schedule: run due timers; every 61st tick take from the global queue first (so it is
 *	never starved by two goroutines handing off through runnext); else runnext, the local
 *	queue, then findrunnable: global queue, the poller (non-blocking), stealing half of
 *	another P's queue (only while fewer than half the busy Ps' Ms are already spinning);
 *	then give the P back and sleep: in the poller until the next timer if nobody else
 *	is blocked there, else on the M's note until startm hands it a P.
 *
 * A G switches to g0 to park, yield or exit (switch_to_g0 with m->after saying which); the
 * M does the rest on g0, after the G's stack is no longer in use: that is what lets go_park's
 * unlock callback release a lock a waker needs, with no window in which the G could be
 * resumed on another M while still running here (Go's mcall + park_m).
 *
 * Invariants:
 *   - An M holds at most one P (m->p); an M with a P and no G is either in schedule or
 *     spinning in findrunnable (counted in sched.nmspinning).
 *   - When a goroutine becomes runnable and some P is idle, some M is spinning or is woken
 *     to spin (wakep), unless one already spins: no runnable G is left with an idle P.
 *     A spinning M that finds nothing rechecks every run queue after leaving the spinning
 *     state (the recheck closes the race with a concurrent wakep that saw it spinning).
 *   - sched.lock protects the idle lists, the global queue and the global free Gs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifdef GO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef GO_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

struct go_sched _go_sched;
__thread struct go_m *_go_m __attribute__((tls_model("initial-exec")));
__thread struct go_g *_go_curg __attribute__((tls_model("initial-exec")));
static __thread struct go_g thread_g __attribute__((tls_model("initial-exec")));

#define sched _go_sched

static int mlive;		/* Ms of this generation not yet exited (atomic) */
/* Ms abandoned by an earlier go_run (an orphan) that have not returned yet: while one may
 * still run on a goroutine's stack, no later teardown may recycle Gs, stacks or the ring
 * (atomic) */
static uint32_t orphans_alive;
static int run_result;

int64_t _go_nanotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint32_t _go_fastrand(void)
{
	struct go_m *m = _go_m;
	uint64_t x;

	if (!m)
		return (uint32_t)_go_nanotime();
	/* xorshift64* */
	x = m->fastrand;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	m->fastrand = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

static void fatal(const char *msg, unsigned long long id)
{
	fprintf(stderr, "gochan: fatal error: %s (goroutine %llu)\n", msg, id);
	abort();
}

/* ---- switching ---------------------------------------------------------------------------- */

/* g0 -> g. Returns (on g0) when g switches back. */
static void switch_to_g(struct go_m *m, struct go_g *g)
{
#ifdef GO_ASAN
	__sanitizer_start_switch_fiber(&m->g0_fake_stack, g->stack_lo,
				       (size_t)((char *)g - g->stack_lo));
#endif
#ifdef GO_TSAN
	__tsan_switch_to_fiber(g->tsan_fiber, 0);
#endif
	_go_switch(&m->g0regs, &g->regs);
#ifdef GO_ASAN
	__sanitizer_finish_switch_fiber(m->g0_fake_stack, NULL, NULL);
#endif
}

/* g's status without Gs_SCAN: a stack scan (the shrinker's, the collector's) may hold a
 * WAITING, RUNNABLE, SYSCALL or DEAD G; for go_assert, which must not see the bit. */
static inline uint32_t g_status_noscan(struct go_g *g)
{
	return load_relaxed(&g->status) & ~(uint32_t)Gs_SCAN;
}

/* g -> its M's g0, asking it to do "after". Returns when g is resumed, maybe on another M:
 * callers read g->m again, never a TLS value cached before the call. */
static __attribute__((noinline)) void switch_to_g0(struct go_g *g, enum go_after after)
{
	struct go_m *m = g->m;

	/* RUNNING, or SYSCALL when go_syscall_exit finds its P lost (AFTER_LOSTP) or go_run
	 * over (AFTER_NONE) */
	go_assert(load_relaxed(&g->status) == Gs_RUNNING ||
		  (g_status_noscan(g) == Gs_SYSCALL &&
		   (after == AFTER_LOSTP || after == AFTER_NONE)));
	m->after = after;
	g->saved_errno = _go_errno_get();
	_go_stack_check_fast(g);
#ifdef GO_ASAN
	__sanitizer_start_switch_fiber(after == AFTER_EXIT ? NULL : &g->asan_fake_stack,
				       m->g0_stack_lo, m->g0_stack_size);
#endif
#ifdef GO_TSAN
	__tsan_switch_to_fiber(m->g0_tsan_fiber, 0);
#endif
	_go_switch(&g->regs, &m->g0regs);
#ifdef GO_ASAN
	__sanitizer_finish_switch_fiber(g->asan_fake_stack, NULL, NULL);
#endif
	_go_errno_set(g->saved_errno);
}

/* ---- run queues (Go's runqput / runqget / runqgrab) ------------------------------------------ */

bool _go_runq_empty(struct go_p *p)
{
	for (;;) {
		uint32_t h = load_acquire(&p->runqhead);
		uint32_t t = load_acquire(&p->runqtail);
		struct go_g *next = load_acquire(&p->runnext);

		if (t == load_acquire(&p->runqtail))
			return h == t && next == NULL;
	}
}

uint32_t _go_runq_len(struct go_p *p)
{
	return load_acquire(&p->runqtail) - load_acquire(&p->runqhead);
}

static void globrunqput_locked(struct go_g *g)
{
	go_assert(g_status_noscan(g) == Gs_RUNNABLE);	/* run queues hold RUNNABLE Gs */
	g->schedlink = NULL;
	if (sched.runqtail)
		sched.runqtail->schedlink = g;
	else
		sched.runqhead = g;
	sched.runqtail = g;
	store_relaxed(&sched.runqsize, sched.runqsize + 1);
}

/* The same, taking sched.lock. */
static void globrunqput(struct go_g *g)
{
	_go_lock(&sched.lock);
	globrunqput_locked(g);
	_go_unlock(&sched.lock);
}

/* Move half of p's full queue plus g to the global queue (Go's runqputslow). */
static bool runqputslow(struct go_p *p, struct go_g *g, uint32_t h, uint32_t t)
{
	struct go_g *batch[GO_RUNQ_SIZE / 2 + 1];
	uint32_t n = (t - h) / 2, i;

	for (i = 0; i < n; i++)
		batch[i] = load_relaxed(&p->runq[(h + i) % GO_RUNQ_SIZE]);
	if (!cas(&p->runqhead, h, h + n))
		return false;
	batch[n] = g;
	_go_lock(&sched.lock);
	for (i = 0; i <= n; i++)
		globrunqput_locked(batch[i]);
	_go_unlock(&sched.lock);
	return true;
}

/* Only p's owner calls this. next: put g in runnext (kicking the old one to the tail). */
static void runqput(struct go_p *p, struct go_g *g, bool next)
{
	uint32_t h, t;

	if (next) {
		struct go_g *old = xchg(&p->runnext, g);

		if (!old)
			return;
		g = old;
	}
	go_assert(g_status_noscan(g) == Gs_RUNNABLE);
	for (;;) {
		h = load_acquire(&p->runqhead);
		t = p->runqtail;
		go_assert(t - h <= GO_RUNQ_SIZE);	/* the owner's tail, a thief's head */
		if (t - h < GO_RUNQ_SIZE) {
			store_relaxed(&p->runq[t % GO_RUNQ_SIZE], g);
			store_release(&p->runqtail, t + 1);
			return;
		}
		if (runqputslow(p, g, h, t))
			return;
	}
}

/* Only p's owner calls this. */
static struct go_g *runqget(struct go_p *p)
{
	struct go_g *next = load_relaxed(&p->runnext);
	uint32_t h, t;
	struct go_g *g;

	if (next && cas(&p->runnext, next, (struct go_g *)NULL))
		return next;
	for (;;) {
		h = load_acquire(&p->runqhead);
		t = p->runqtail;
		go_assert(t - h <= GO_RUNQ_SIZE);
		if (t == h)
			return NULL;
		g = load_relaxed(&p->runq[h % GO_RUNQ_SIZE]);
		if (cas(&p->runqhead, h, h + 1))
			return g;
	}
}

/* Take half of victim's queue into batch (at most GO_RUNQ_SIZE/2). */
static uint32_t runqgrab(struct go_p *victim, struct go_g **batch, bool steal_next)
{
	for (;;) {
		uint32_t h = load_acquire(&victim->runqhead);
		uint32_t t = load_acquire(&victim->runqtail);
		uint32_t n = t - h, i;

		n -= n / 2;
		if (n == 0) {
			struct go_g *next;

			if (!steal_next)
				return 0;
			next = load_acquire(&victim->runnext);
			if (!next)
				return 0;
			/* A running P is about to run its runnext: give it ~3 us first, or the
			 * two Ps would bounce a pair of communicating goroutines (Go does the same). */
			if (p_state(load_relaxed(&victim->status)) == Ps_RUNNING) {
				/* a few microseconds of pause, without reading the clock */
				for (int k = 0; k < 128 && load_relaxed(&victim->runnext) == next; k++)
					__builtin_ia32_pause();
				next = load_acquire(&victim->runnext);
			}
			if (next && cas(&victim->runnext, next, (struct go_g *)NULL)) {
				batch[0] = next;
				return 1;
			}
			return 0;
		}
		if (n > GO_RUNQ_SIZE / 2)
			continue;	/* read h and t inconsistently */
		for (i = 0; i < n; i++)
			batch[i] = load_relaxed(&victim->runq[(h + i) % GO_RUNQ_SIZE]);
		if (cas(&victim->runqhead, h, h + n))
			return n;
	}
}

static struct go_g *runqsteal(struct go_p *p, struct go_p *victim, bool steal_next)
{
	struct go_g *batch[GO_RUNQ_SIZE / 2];
	uint32_t n = runqgrab(victim, batch, steal_next), i;

	if (n == 0)
		return NULL;
	for (i = 1; i < n; i++)
		runqput(p, batch[i], false);
	stat_inc(&sched.stats.steals);
	return batch[0];
}

/* sched.lock held. Take a batch from the global queue; returns one, the rest go to p. */
static struct go_g *globrunqget_locked(struct go_p *p, uint32_t max)
{
	uint32_t n, i;
	struct go_g *g;

	if (sched.runqsize == 0)
		return NULL;
	n = sched.runqsize / load_relaxed(&sched.nprocs) + 1;
	if (n > sched.runqsize)
		n = sched.runqsize;
	if (max > 0 && n > max)
		n = max;
	if (n > GO_RUNQ_SIZE / 2)
		n = GO_RUNQ_SIZE / 2;
	go_assert(n >= 1 && n <= sched.runqsize);
	store_relaxed(&sched.runqsize, sched.runqsize - n);
	g = sched.runqhead;
	sched.runqhead = g->schedlink;
	for (i = 1; i < n; i++) {
		struct go_g *g2 = sched.runqhead;

		sched.runqhead = g2->schedlink;
		runqput(p, g2, false);
	}
	if (!sched.runqhead)
		sched.runqtail = NULL;
	return g;
}

/* ---- idle Ps and Ms ----------------------------------------------------------------------- */

static void pidleput_locked(struct go_p *p)
{
	store_relaxed(&p->m, (struct go_m *)NULL);
	if (unlikely(_go_stw_pending())) {
		/* a stop-the-world is pending (set under sched.lock): this P stops instead */
		_go_stw_stop_idle_p(p);
		return;
	}
	store_release(&p->status, Ps_IDLE);
	p->link = sched.pidle;
	sched.pidle = p;
	store_relaxed(&sched.npidle, sched.npidle + 1);
	go_assert(sched.npidle <= load_relaxed(&sched.nprocs));
}

static struct go_p *pidleget_locked(void)
{
	struct go_p *p = sched.pidle;

	if (p) {
		go_assert(load_relaxed(&p->status) == Ps_IDLE);
		sched.pidle = p->link;
		store_relaxed(&sched.npidle, sched.npidle - 1);
	}
	return p;
}

void _go_pidleput_locked(struct go_p *p)
{
	pidleput_locked(p);
}

struct go_p *_go_pidleget_locked(void)
{
	return pidleget_locked();
}

static void acquirep(struct go_m *m, struct go_p *p)
{
	/* An M holds at most one P; a P it gets is idle: from sched.pidle, or taken by sysmon */
	go_assert(m->p == NULL && load_relaxed(&p->status) == Ps_IDLE);
	m->p = p;
	store_relaxed(&p->m, m);
	store_release(&p->status, m->ptag | Ps_RUNNING);
	if (load_relaxed(&sched.sysmon_sleeping))
		_go_sysmon_wake();
}

static void mput_locked(struct go_m *m)
{
	m->schedlink = sched.midle;
	sched.midle = m;
	sched.nmidle++;
	store_relaxed(&sched.stats.idle_threads, (uint64_t)sched.nmidle);
}

static struct go_m *mget_locked(void)
{
	struct go_m *m = sched.midle;

	if (m) {
		sched.midle = m->schedlink;
		sched.nmidle--;
		store_relaxed(&sched.stats.idle_threads, (uint64_t)sched.nmidle);
	}
	return m;
}

static void *mstart_thread(void *arg);

/* A tag for a new M (go_m.ptag): unique, low bits free for the P's state. */
static uint32_t new_ptag(void)
{
	static uint32_t next;

	return (fetch_add(&next, 1u) % ((1u << 30) - 1) + 1) << 2;
}

/* Start a thread that will run p. */
static bool newm(struct go_p *p, bool spinning)
{
	struct go_m *m = calloc(1, sizeof(*m));
	pthread_attr_t attr;
	int err;

	if (!m)
		return false;
	m->nextp = p;
	m->spinning = spinning;
	m->gen = sched.gen;
	m->ptag = new_ptag();
	m->fastrand = (uint64_t)_go_nanotime() * 2654435761u | 1;
	_go_lock(&sched.lock);
	m->id = sched.mcount++;
	m->alllink = sched.allm;
	sched.allm = m;
	_go_unlock(&sched.lock);
	fetch_add(&mlive, 1);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10);
	err = pthread_create(&m->thread, &attr, mstart_thread, m);
	pthread_attr_destroy(&attr);
	if (err) {
		fetch_add(&mlive, -1);
		m->fate = M_NO_THREAD;
		return false;
	}
	stat_inc(&sched.stats.threads);
	return true;
}

/* Give p (or an idle P) to an idle or new M. spinning: the caller counted it in nmspinning. */
void _go_startm(struct go_p *p, bool spinning)
{
	struct go_m *m;

	_go_lock(&sched.lock);
	if (!p) {
		p = pidleget_locked();
		if (!p) {
			_go_unlock(&sched.lock);
			if (spinning)
				fetch_add(&sched.nmspinning, -1);
			return;
		}
	}
	m = mget_locked();
	_go_unlock(&sched.lock);
	if (!m) {
		if (!newm(p, spinning)) {
			_go_lock(&sched.lock);
			pidleput_locked(p);
			_go_unlock(&sched.lock);
			if (spinning)
				fetch_add(&sched.nmspinning, -1);
		}
		return;
	}
	m->spinning = spinning;
	m->nextp = p;
	_go_note_wakeup(&m->park);
}

/* Wake an M to look for work if a P is idle and nobody spins already (Go's wakep). */
void _go_wakep(void)
{
	if (load_relaxed(&sched.npidle) == 0)
		return;
	if (load_relaxed(&sched.nmspinning) != 0 || !cas(&sched.nmspinning, 0u, 1u))
		return;
	_go_startm(NULL, true);
}

/* p has no M (taken from a syscall or a hog): give it one if there is anything to do. */
void _go_handoffp(struct go_p *p)
{
	if (!_go_runq_empty(p) || load_relaxed(&sched.runqsize)) {
		_go_startm(p, false);
		return;
	}
	if (load_relaxed(&sched.nmspinning) + load_relaxed(&sched.npidle) == 0 &&
	    cas(&sched.nmspinning, 0u, 1u)) {
		_go_startm(p, true);
		return;
	}
	/* Timers and fds need someone to wait for them. */
	if ((_go_timers_pending() || _go_netpoll_waiters()) && !load_relaxed(&_go_netpoll_blocked)) {
		_go_startm(p, false);
		return;
	}
	_go_lock(&sched.lock);
	pidleput_locked(p);
	_go_unlock(&sched.lock);
}

/* ---- stopping --------------------------------------------------------------------------------- */

/* sched.lock held. Wake every idle M and the poller so that all leave schedule(). */
static void stop_locked(int result)
{
	struct go_m *m;

	if (sched.stopping)
		return;
	run_result = result;
	store_release(&sched.stopping, 1u);
	while ((m = mget_locked()) != NULL)
		_go_note_wakeup(&m->park);
	_go_netpoll_break();
	_go_sysmon_wake();
}

/* sched.lock held; called when an M is about to sleep for lack of work (Go's checkdead). */
static void checkdead_locked(void)
{
	if (sched.flags & GO_CONFIG_NO_DEADLOCK_CHECK || sched.stopping)
		return;
	if (sched.mcount - sched.nmidle > 0)
		return;		/* some M runs, polls or is in a system call */
	if (_go_ngoroutines() <= 0 || sched.runqsize)
		return;
	if (_go_timers_pending() || _go_netpoll_waiters())
		return;
	fprintf(stderr, "gochan: all goroutines are asleep - deadlock!\n\n");
	_go_print_goroutines(stderr);
	fflush(stderr);
	stop_locked(-EDEADLK);
}

/* Sleep until startm hands this M a P. Returns false when the scheduler stops. */
static bool stopm(struct go_m *m)
{
	_go_lock(&sched.lock);
	if (sched.stopping) {
		_go_unlock(&sched.lock);
		return false;
	}
	mput_locked(m);
	checkdead_locked();
	_go_unlock(&sched.lock);
	_go_note_sleep(&m->park);
	_go_note_clear(&m->park);
	if (load_acquire(&sched.stopping) || !m->nextp)
		return false;
	acquirep(m, m->nextp);
	m->nextp = NULL;
	return true;
}

/* ---- finding work --------------------------------------------------------------------------- */

static void inject_list(struct go_m *m, struct go_g *list, struct go_g **first)
{
	while (list) {
		struct go_g *g = list;

		list = g->schedlink;
		if (first && !*first && m->p) {
			*first = g;
			continue;
		}
		if (m->p) {
			runqput(m->p, g, false);
		} else {
			globrunqput(g);
		}
		_go_wakep();
	}
}

/* sysmon: reap completions and queue their Gs in one hold of sched.lock (lock order:
 * sched.lock, then the netpoll locks). */
void _go_inject_global_polled(void)
{
	struct go_g *list;
	int n = 0;

	_go_lock(&sched.lock);
	list = _go_netpoll(0);
	while (list) {
		struct go_g *g = list;

		list = g->schedlink;
		globrunqput_locked(g);
		n++;
	}
	_go_unlock(&sched.lock);
	while (n-- > 0 && load_relaxed(&sched.npidle))
		_go_wakep();
}

static void drop_spinning(struct go_m *m)
{
	if (m->spinning) {
		uint32_t was = fetch_add(&sched.nmspinning, -1);

		go_assert(was > 0);	/* every spinning M is counted */
		m->spinning = false;
	}
}

/* Runnable G for m (which holds a P), or NULL when the scheduler stops. May sleep. */
static struct go_g *findrunnable(struct go_m *m)
{
	struct go_g *g, *list;
	struct go_p *p;
	uint32_t i, n, start;
	int round;

top:
	if (load_acquire(&sched.stopping))
		return NULL;
	if (unlikely(load_relaxed(&_go_safepoint) & GO_SAFEPOINT_STW)) {
		_go_stw_park(m);
		if (!m->p) {	/* a resize removed our P (go_set_maxprocs) */
			drop_spinning(m);
			if (!stopm(m))
				return NULL;
			goto top;
		}
	}
	p = m->p;
	_go_timers_check();
	if ((g = runqget(p)) != NULL)
		return g;
	if (load_relaxed(&sched.runqsize)) {
		_go_lock(&sched.lock);
		g = globrunqget_locked(p, 0);
		_go_unlock(&sched.lock);
		if (g)
			return g;
	}
	if (_go_netpoll_waiters() && !load_relaxed(&_go_netpoll_blocked)) {
		list = _go_netpoll(0);
		if (list) {
			g = NULL;
			inject_list(m, list, &g);
			if (g)
				return g;
		}
	}

	/* Steal, unless enough Ms are spinning already (half the busy Ps). */
	n = load_relaxed(&sched.nprocs);
	if (m->spinning || 2 * load_relaxed(&sched.nmspinning) < n - load_relaxed(&sched.npidle)) {
		if (!m->spinning) {
			m->spinning = true;
			fetch_add(&sched.nmspinning, 1);
		}
		for (round = 0; round < 4; round++) {
			start = _go_fastrand() % n;
			for (i = 0; i < n; i++) {
				struct go_p *v = &sched.allp[(start + i) % n];

				if (v == p)
					continue;
				if ((g = runqsteal(p, v, round == 3)) != NULL)
					return g;
			}
		}
	}

	/* Nothing: give the P back. */
	_go_lock(&sched.lock);
	if (sched.stopping) {
		_go_unlock(&sched.lock);
		return NULL;
	}
	if (sched.runqsize) {
		g = globrunqget_locked(p, 0);
		_go_unlock(&sched.lock);
		return g;
	}
	m->p = NULL;
	pidleput_locked(p);
	_go_unlock(&sched.lock);

	/* Leaving the spinning state, look again: a wakep that saw us spinning did not start
	 * anyone. The global queue first: a goroutine whose M lost its P (AFTER_LOSTP) is put
	 * there, and its wakep may have seen us spinning (as Go's findRunnable does). */
	if (m->spinning) {
		drop_spinning(m);
		if (load_relaxed(&sched.runqsize)) {
			_go_lock(&sched.lock);
			p = sched.runqsize && !sched.stopping ? pidleget_locked() : NULL;
			if (p) {
				g = globrunqget_locked(p, 0);
				_go_unlock(&sched.lock);
				acquirep(m, p);
				m->spinning = true;
				fetch_add(&sched.nmspinning, 1);
				if (g)
					return g;
				goto top;
			}
			_go_unlock(&sched.lock);
		}
		for (i = 0; i < n; i++) {
			if (!_go_runq_empty(&sched.allp[i])) {
				_go_lock(&sched.lock);
				p = pidleget_locked();
				_go_unlock(&sched.lock);
				if (p) {
					acquirep(m, p);
					m->spinning = true;
					fetch_add(&sched.nmspinning, 1);
					goto top;
				}
				break;
			}
		}
	}

	/* Wait in the poller for fds and the next timer, if nobody else does. */
	if ((_go_netpoll_waiters() || _go_timers_pending()) && cas(&_go_netpoll_blocked, 0u, 1u)) {
		int64_t next = _go_timers_next(), delay = -1;

		if (next >= 0) {
			delay = next - _go_nanotime();
			if (delay < 0)
				delay = 0;
		}
		if (load_acquire(&sched.stopping))
			delay = 0;
		GO_DEBUG_HOOK(netpoll_block);
		list = _go_netpoll(delay);
		store_release(&_go_netpoll_blocked, 0u);
		_go_lock(&sched.lock);
		p = pidleget_locked();
		_go_unlock(&sched.lock);
		if (p) {
			acquirep(m, p);
			g = NULL;
			inject_list(m, list, &g);
			if (g)
				return g;
			goto top;	/* runs due timers, with the P: in deadline order */
		}
		/* No P: whoever holds one runs the due timers at its next schedule() (sysmon
		 * makes sure someone does), so that they stay in deadline order. */
		inject_list(m, list, NULL);
	}
	if (!stopm(m))
		return NULL;
	goto top;
}

/* ---- the M's loop ----------------------------------------------------------------------------- */

static void gfput(struct go_p *p, struct go_g *g);

static void execute(struct go_m *m, struct go_g *g)
{
	struct go_p *p;

	for (;;) {
		p = m->p;
		/* Only the owning M runs Gs on a P, which is RUNNING and tagged with the M's tag */
		go_assert(p && load_relaxed(&p->m) == m &&
			  load_relaxed(&p->status) == (m->ptag | Ps_RUNNING));
		go_assert(g_status_noscan(g) == Gs_RUNNABLE);
		store_relaxed(&p->schedtick, p->schedtick + 1);
		store_relaxed(&p->nswitches, p->nswitches + 1);
		g->m = m;
		store_relaxed(&m->curg, g);
		_go_curg = g;
		/* RUNNABLE -> RUNNING, waiting out a stack scan (Gs_SCAN) */
		while (!cas(&g->status, (uint32_t)Gs_RUNNABLE, (uint32_t)Gs_RUNNING))
			__builtin_ia32_pause();
		switch_to_g(m, g);
		_go_curg = NULL;
		store_relaxed(&m->curg, (struct go_g *)NULL);

		switch (m->after) {
		case AFTER_YIELD:
			store_release(&g->status, (uint32_t)Gs_RUNNABLE);
			runqput(m->p, g, false);
			return;
		case AFTER_PARK:
			store_release(&g->status, (uint32_t)Gs_WAITING);
			if (g->park_unlock && !g->park_unlock(g, g->park_arg)) {
				/* not parked after all: run it again (after any stack scan) */
				_go_g_make_runnable(g);
				if (m->p)
					continue;
				globrunqput(g);	/* the P was lost: someone else runs it */
				_go_wakep();
			}
			return;
		case AFTER_EXIT:
			go_assert(load_relaxed(&g->status) == Gs_RUNNING);
			store_release(&g->status, (uint32_t)Gs_DEAD);
			store_relaxed(&m->p->gdelta, m->p->gdelta - 1);
			if (g->is_main) {
				_go_lock(&sched.lock);
				stop_locked(0);
				_go_unlock(&sched.lock);
			}
			gfput(m->p, g);
			return;
		case AFTER_LOSTP:
			store_release(&g->status, (uint32_t)Gs_RUNNABLE);
			globrunqput(g);
			/* The M that took our P may have given it back meanwhile and gone
			 * to sleep: someone must come for g (a P idle means wakep starts
			 * one; a P still held sees the global queue before idling). */
			_go_wakep();
			return;
		case AFTER_NONE:
			return;
		}
	}
}

static void schedule(struct go_m *m)
{
	struct go_g *g;
	struct go_p *p;

	for (;;) {
		if (load_acquire(&sched.stopping) || m->gen != load_relaxed(&sched.gen))
			return;
		if (!m->p) {
			if (!stopm(m))
				return;
		}
		if (unlikely(load_relaxed(&_go_safepoint) & GO_SAFEPOINT_STW)) {
			_go_stw_park(m);
			if (!m->p) {	/* a resize removed our P (go_set_maxprocs) */
				drop_spinning(m);
				continue;
			}
		}
		p = m->p;
		_go_timers_check();
		g = NULL;
		if (load_relaxed(&p->schedtick) % 61 == 0 && load_relaxed(&sched.runqsize)) {
			_go_lock(&sched.lock);
			g = globrunqget_locked(p, 1);
			_go_unlock(&sched.lock);
		}
		/* Busy Ps never reach findrunnable's poll: look every 61 ticks too (Go relies on
		 * sysmon alone; it does that as well, after 10 ms). */
		if (!g && load_relaxed(&p->schedtick) % 61 == 0 && _go_netpoll_waiters() &&
		    !load_relaxed(&_go_netpoll_blocked)) {
			struct go_g *list = _go_netpoll(0);

			if (list)
				inject_list(m, list, &g);
		}
		if (!g)
			g = runqget(p);
		if (!g)
			g = findrunnable(m);
		if (!g)
			return;
		if (m->spinning) {
			/* The last spinning M found work: another should look for more. */
			drop_spinning(m);
			_go_wakep();
		}
		execute(m, g);
	}
}

#define SIGSTACK_BYTES	(32 << 10)	/* Go's gsignal stack is 32 KiB too */

/* Give this M's thread an alternate signal stack, unless it has one (see go_m.sigstack). */
static void m_sigstack_init(struct go_m *m)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t guard = page > 0 ? (size_t)page : 4096;
	stack_t ss;
	char *p;

	if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE))
		return;
	p = mmap(NULL, guard + SIGSTACK_BYTES, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return;		/* the handler then runs where the signal lands, as before */
	mprotect(p, guard, PROT_NONE);	/* an overflow of the handler's faults */
	ss = (stack_t){ .ss_sp = p + guard, .ss_size = SIGSTACK_BYTES };
	if (sigaltstack(&ss, NULL) != 0) {
		munmap(p, guard + SIGSTACK_BYTES);
		return;
	}
	m->sigstack = p;
	m->sigstack_len = guard + SIGSTACK_BYTES;
}

/* The thread leaves the runtime (its M's end, or go_run's return): drop what init set up. */
static void m_sigstack_fini(struct go_m *m)
{
	stack_t ss = { .ss_flags = SS_DISABLE };

	if (!m->sigstack)
		return;
	sigaltstack(&ss, NULL);
	munmap(m->sigstack, m->sigstack_len);
	m->sigstack = NULL;
}

static void m_init_thread(struct go_m *m)
{
	pthread_attr_t attr;

	_go_m = m;
	m->in_runtime = 1;
	m_sigstack_init(m);
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &m->g0_stack_lo, &m->g0_stack_size);
		pthread_attr_destroy(&attr);
	}
#ifdef GO_TSAN
	m->g0_tsan_fiber = __tsan_get_current_fiber();
#endif
}

static void *mstart_thread(void *arg)
{
	struct go_m *m = arg;
	sigset_t none;

	sigemptyset(&none);
	m_init_thread(m);
	if (m->nextp) {
		acquirep(m, m->nextp);
		m->nextp = NULL;
	}
	schedule(m);
	m_sigstack_fini(m);
	if (m->gen != load_relaxed(&sched.gen)) {
		/* abandoned by an earlier go_run (fate M_ABANDONED, set before the gen moved):
		 * touch nothing shared but the count */
		fetch_add(&orphans_alive, -1u);
		return NULL;
	}
	if (m->p) {
		_go_lock(&sched.lock);
		pidleput_locked(m->p);
		_go_unlock(&sched.lock);
		m->p = NULL;
	}
	if (m->spinning)
		drop_spinning(m);
	_go_m = NULL;
	if (!cas(&m->fate, (uint32_t)M_RUNNING, (uint32_t)M_EXITED)) {
		fetch_add(&orphans_alive, -1u);	/* teardown gave up on us first */
		return NULL;
	}
	if (fetch_add(&mlive, -1) == 1)
		_go_futex_wake((uint32_t *)&mlive, 1);
	return NULL;
}

/* ---- free Gs ---------------------------------------------------------------------------------- */

static void gfput(struct go_p *p, struct go_g *g)
{
	g->schedlink = p->gfree;
	p->gfree = g;
	if (++p->ngfree >= GO_GFREE_LOCAL_MAX) {
		_go_lock(&sched.lock);
		while (p->ngfree > GO_GFREE_LOCAL_MAX / 2) {
			struct go_g *x = p->gfree;

			p->gfree = x->schedlink;
			p->ngfree--;
			x->schedlink = sched.gfree;
			sched.gfree = x;
			store_relaxed(&sched.ngfree, sched.ngfree + 1);
		}
		_go_unlock(&sched.lock);
	}
}

static struct go_g *gfget(struct go_p *p)
{
	struct go_g *g;

	if (!p->gfree && load_relaxed(&sched.ngfree)) {
		_go_lock(&sched.lock);
		while (p->ngfree < GO_GFREE_LOCAL_MAX / 2 && sched.gfree) {
			g = sched.gfree;
			sched.gfree = g->schedlink;
			store_relaxed(&sched.ngfree, sched.ngfree - 1);
			g->schedlink = p->gfree;
			p->gfree = g;
			p->ngfree++;
		}
		_go_unlock(&sched.lock);
	}
	g = p->gfree;
	if (g) {
		p->gfree = g->schedlink;
		p->ngfree--;
	}
	return g;
}

static struct go_g *gfget_global(void)
{
	struct go_g *g;

	_go_lock(&sched.lock);
	g = sched.gfree;
	if (g) {
		sched.gfree = g->schedlink;
		store_relaxed(&sched.ngfree, sched.ngfree - 1);
	}
	_go_unlock(&sched.lock);
	return g;
}

/* ---- goroutines ------------------------------------------------------------------------------- */

static void g_entry(void *arg)
{
	struct go_g *g = arg;

#ifdef GO_ASAN
	__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
	_go_errno_set(0);
	_go_rt_exit(g->m);
	g->fn(g->arg);
	/* goexit */
	_go_rt_enter(g->m);
	switch_to_g0(g, AFTER_EXIT);
	fatal("a dead goroutine was resumed", g->id);
}

static struct go_g *newproc(void (*fn)(void *), void *arg, struct go_p *p)
{
	struct go_g *g = p ? gfget(p) : gfget_global();
	uint32_t st;

	if (g) {
		/* The stack shrinker may be looking at it. */
		while ((st = load_acquire(&g->status)) != Gs_DEAD || !cas(&g->status, st,
									 (uint32_t)Gs_IDLE))
			sched_yield();
	} else {
		g = _go_stack_alloc();
		if (!g)
			return NULL;
	}
#ifdef GO_ASAN
	__asan_unpoison_memory_region(g->stack_lo, (size_t)((char *)g - g->stack_lo));
#endif
#ifdef GO_TSAN
	if (g->tsan_fiber)
		__tsan_destroy_fiber(g->tsan_fiber);
	g->tsan_fiber = __tsan_create_fiber(0);
#endif
	g->asan_fake_stack = NULL;
	/* (fn, arg, id, gen, waitreason and the creator are read racily by go_dump) */
	store_relaxed(&g->fn, fn);
	store_relaxed(&g->arg, arg);
	if (p) {
		if (p->goid_next == p->goid_end) {
			p->goid_next = fetch_add(&sched.goidgen, 16) + 1;
			p->goid_end = p->goid_next + 16;
		}
		store_relaxed(&g->id, p->goid_next++);
	} else {
		store_relaxed(&g->id, fetch_add(&sched.goidgen, 1) + 1);
	}
	store_relaxed(&g->gen, sched.gen);
	g->is_main = false;
	g->m = NULL;
	store_relaxed(&g->waitreason, (const char *)NULL);
	store_relaxed(&g->created_pc, (uintptr_t)0);
	store_relaxed(&g->parent_id, (uint64_t)0);
	g->param = 0;
	go_assert(load_relaxed(&g->status) == Gs_IDLE);	/* IDLE -> RUNNABLE (spawn) */
	g->gcassist = 0;
	g->gcsp = NULL;
	_go_g_scan_claim(g);	/* a new goroutine's stack is born scanned (stack.c, GC) */
	_go_regs_init(&g->regs, g, g_entry, g);
	if (p) {
		store_relaxed(&p->gdelta, p->gdelta + 1);
		store_relaxed(&p->nspawned, p->nspawned + 1);
	} else {
		fetch_add(&sched.ngoroutines, 1);
		stat_inc(&sched.spawned_nop);
	}
	store_release(&g->status, (uint32_t)Gs_RUNNABLE);
	return g;
}

/* The G is not running yet: nobody else reads these before it is queued. */
static void set_creator(struct go_g *g, struct go_g *cur, void *pc)
{
	store_relaxed(&g->created_pc, (uintptr_t)pc);
	store_relaxed(&g->parent_id, cur ? cur->id : 0);
}

GOCHAN_API int go_spawn(void (*fn)(void *), void *arg)
{
	struct go_g *cur = _go_curg, *g;
	struct go_m *m;
	void *pc = __builtin_return_address(0);

	if (!fn)
		return -EINVAL;
	if (!load_acquire(&sched.running) || load_acquire(&sched.stopping))
		return -EPERM;
	if (cur) {
		m = cur->m;
		if (_go_rt_enter_noswitch(m)) {	/* a timer or lock holder may spawn too */
			g = newproc(fn, arg, m->p);
			if (g) {
				set_creator(g, cur, pc);
				runqput(m->p, g, true);
			}
		} else {
			g = newproc(fn, arg, NULL);
			if (g) {
				set_creator(g, cur, pc);
				globrunqput(g);
			}
		}
		_go_rt_exit(m);
	} else if (_go_m && _go_m->p) {	/* g0: a timer function */
		g = newproc(fn, arg, _go_m->p);
		if (g) {
			set_creator(g, NULL, pc);
			runqput(_go_m->p, g, true);
		}
	} else {
		g = newproc(fn, arg, NULL);
		if (g) {
			set_creator(g, NULL, pc);
			globrunqput(g);
		}
	}
	if (!g)
		return -ENOMEM;
	_go_wakep();
	return 0;
}

GOCHAN_API void go_yield(void)
{
	struct go_g *g = _go_curg;
	struct go_m *m;
	struct go_p *p;

	if (!g) {
		sched_yield();
		return;
	}
	m = g->m;
	_go_rt_enter(m);
	m = g->m;
	p = m->p;
	/* Nobody else to run here: keep going (cheaper than a round trip through g0). */
	if (_go_runq_empty(p) && !load_relaxed(&sched.runqsize) &&
	    !_go_timers_pending()) {
		_go_rt_exit(m);
		return;
	}
	switch_to_g0(g, AFTER_YIELD);
	_go_rt_exit(g->m);
}

GOCHAN_API struct go_g *go_self(void)
{
	struct go_g *g = _go_curg;

	if (g)
		return g;
	g = &thread_g;
	g->is_thread = true;
	return g;
}

GOCHAN_API uint64_t go_id(void)
{
	struct go_g *g = _go_curg;

	return g ? g->id : 0;
}

GOCHAN_API int64_t go_now(void)
{
	return _go_nanotime();
}

GOCHAN_API unsigned go_maxprocs(void)
{
	return load_acquire(&sched.running) ? load_relaxed(&sched.nprocs) : 0;
}

/* ---- procresize: changing the number of Ps (Go's GOMAXPROCS) ------------------------------- */

/*
 * With the world stopped (stw.c), every P of allp[0..nprocs) but the caller's is Ps_GCSTOP,
 * p->stw_prev saying what it was: IDLE (no M), owner | SYSCALL (its M in a system call, or
 * running a hog), owner | RUNNING (its M parked at a safe point or in schedule(), holding it).
 * A resize (Go's procresize) then:
 *   - grows: the new Ps are GCSTOP with stw_prev IDLE, so the restart makes them idle;
 *   - shrinks: a removed P's runnable goroutines go to the global run queue, its free Gs to
 *     the global list, its counters (the live-goroutine count among them) to P 0, its grey
 *     objects to the collector (_go_gc_p_retire_hook); it becomes Ps_IDLE in no list, so that
 *     nobody acquires it. Its owner, if any: one in SYSCALL finds its P lost on its way out
 *     (as when sysmon takes it); one parked with it RUNNING is given a kept idle P in its
 *     place, or none (m->p = NULL): it then gets a P back, or queues its goroutine, at its
 *     next runtime entry (_go_lostp_check), as after a system call.
 * An M parked inside a nested runtime call may hold its P in a local (_go_stw_m_movable):
 * its P is not taken; the resize restarts the world, lets it run on, and tries again.
 */

/* Move what removed P p holds to where the remaining Ps find it (the world stopped). */
static void proc_retire(struct go_p *p)
{
	struct go_p *dst = &sched.allp[0];
	struct go_g *g;

	if (_go_gc_p_retire_hook)
		_go_gc_p_retire_hook(p);
	_go_lock(&sched.lock);
	while ((g = runqget(p)) != NULL)
		globrunqput_locked(g);
	while ((g = p->gfree) != NULL) {
		p->gfree = g->schedlink;
		g->schedlink = sched.gfree;
		sched.gfree = g;
		store_relaxed(&sched.ngfree, sched.ngfree + 1);
	}
	p->ngfree = 0;
	_go_unlock(&sched.lock);
	store_relaxed(&dst->gdelta, load_relaxed(&dst->gdelta) + load_relaxed(&p->gdelta));
	store_relaxed(&dst->nswitches, load_relaxed(&dst->nswitches) + load_relaxed(&p->nswitches));
	store_relaxed(&dst->nspawned, load_relaxed(&dst->nspawned) + load_relaxed(&p->nspawned));
	store_relaxed(&p->gdelta, (int64_t)0);
	store_relaxed(&p->nswitches, (uint64_t)0);
	store_relaxed(&p->nspawned, (uint64_t)0);
	p->goid_next = p->goid_end = 0;
	store_relaxed(&p->hog_signalled, false);
	store_relaxed(&p->m, (struct go_m *)NULL);
	store_release(&p->status, (uint32_t)Ps_IDLE);	/* in no list: nobody acquires it */
}

/* A kept P (below n) the restart would make idle, to give to an M whose P goes; NULL if none. */
static struct go_p *kept_idle(struct go_m *me, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct go_p *p = &sched.allp[i];

		if (p != me->p && p_state(load_relaxed(&p->status)) == Ps_GCSTOP &&
		    p->stw_prev == Ps_IDLE)
			return p;
	}
	return NULL;
}

/* m, parked with a removed P RUNNING, moves to kept idle P q (or to none). */
static void move_owner(struct go_m *m, struct go_p *q)
{
	if (q) {
		q->stw_prev = m->ptag | Ps_RUNNING;	/* the restart makes it m's */
		store_relaxed(&q->m, m);
	}
	m->p = q;	/* m reads it when the restart wakes it */
}

/*
 * The world stopped by me (a goroutine in the runtime): make n Ps of old. Returns false,
 * changing nothing, when the M of a P to remove is parked inside a nested runtime call.
 */
static bool resize_stopped(struct go_m *me, uint32_t old, uint32_t n)
{
	uint32_t i;

	for (i = n; i < old; i++) {
		struct go_p *p = &sched.allp[i];
		struct go_m *owner = load_relaxed(&p->m);

		if (p != me->p && p->stw_prev != Ps_IDLE &&
		    p_state(p->stw_prev) == Ps_RUNNING && owner && !_go_stw_m_movable(owner))
			return false;
	}
	for (i = old; i < n; i++) {			/* grow: new Ps, idle at the restart */
		struct go_p *p = &sched.allp[i];

		if (i >= sched.allp_init) {
			memset(p, 0, sizeof(*p));
			p->id = (int)i;
			sched.allp_init = i + 1;
		}
		p->stw_prev = Ps_IDLE;
		store_release(&p->status, (uint32_t)Ps_GCSTOP);
	}
	if ((uint32_t)me->p->id >= n) {			/* our own P goes */
		struct go_p *own = me->p, *q = kept_idle(me, n);

		if (q) {
			store_relaxed(&q->m, me);
			store_release(&q->status, me->ptag | Ps_RUNNING);
		}
		me->p = q;
		proc_retire(own);
	}
	for (i = n; i < old; i++) {			/* shrink: retire the rest */
		struct go_p *p = &sched.allp[i];

		if (p_state(load_relaxed(&p->status)) != Ps_GCSTOP)
			continue;			/* (ours, retired above) */
		if (p_state(p->stw_prev) == Ps_RUNNING)
			move_owner(load_relaxed(&p->m), kept_idle(me, n));
		proc_retire(p);
	}
	store_release(&sched.nprocs, n);
	store_relaxed(&sched.stats.maxprocs, (uint32_t)n);
	return true;
}

/* go_set_maxprocs's body, in a goroutine. */
static int set_maxprocs_g(struct go_g *g, uint32_t n)
{
	struct go_m *m;
	uint32_t old;
	bool done = false;

	while (!done) {
		_go_rt_enter(g->m);	/* with a P, ours: _go_stw_stop's caller */
		m = g->m;
		old = load_relaxed(&sched.nprocs);
		if (n == old) {
			_go_rt_exit(m);
			return (int)old;
		}
		if (_go_stw_stop() < 0) {
			_go_stw_start();	/* go_run is ending: leave it as it is */
			_go_rt_exit(m);
			return -ECANCELED;
		}
		old = load_relaxed(&sched.nprocs);	/* (another resize may have come first) */
		done = n == old || resize_stopped(m, old, n);
		_go_stw_start();
		/* Ms for the removed Ps' goroutines, now in the global queue */
		for (uint32_t k = load_relaxed(&sched.runqsize);
		     k > 0 && load_relaxed(&sched.npidle); k--)
			_go_startm(NULL, false);
		_go_rt_exit(m);
		if (!done)
			go_sleep(20000);	/* an M in a nested runtime call: let it out */
	}
	/* our own P went and no kept one was idle: wait for one here, not in the caller's code */
	if (!g->m->p) {
		_go_rt_enter(g->m);
		_go_rt_exit(g->m);
	}
	return (int)old;
}

struct set_maxprocs_req {
	uint32_t n;
	int result;
	uint32_t done;		/* futex word */
	uint32_t refs;		/* the caller's and the goroutine's: the last frees it */
};

static void set_maxprocs_fn(void *arg)
{
	struct set_maxprocs_req *r = arg;

	r->result = set_maxprocs_g(_go_curg, r->n);
	store_release(&r->done, 1u);
	_go_futex_wake(&r->done, 1);
	if (fetch_add(&r->refs, -1) == 1)
		free(r);
}

GOCHAN_API int go_set_maxprocs(int n)
{
	struct go_g *g = _go_curg;
	struct set_maxprocs_req *r;
	int ret;

	if (!load_acquire(&sched.running) || load_acquire(&sched.stopping))
		return -EPERM;
	if (n > GO_MAXPROCS_MAX)
		return -EINVAL;
	if (n <= 0)
		return (int)load_relaxed(&sched.nprocs);
	if (g && !g->is_thread)
		return set_maxprocs_g(g, (uint32_t)n);
	/* A thread that is not an M: a goroutine stops the world for it. */
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->n = (uint32_t)n;
	r->refs = 2;
	ret = go_spawn(set_maxprocs_fn, r);
	if (ret < 0) {
		free(r);
		return ret;
	}
	while (!load_acquire(&r->done)) {
		if (load_acquire(&sched.stopping) || !load_acquire(&sched.running)) {
			ret = -ECANCELED;	/* go_run ended first: it may never run */
			break;
		}
		_go_futex_wait(&r->done, 0, 10 * 1000000);
	}
	if (load_acquire(&r->done))
		ret = r->result;
	if (fetch_add(&r->refs, -1) == 1)
		free(r);
	return ret;
}

/* Sleep until the futex word is set (deadline < 0: for good); -ETIMEDOUT at the deadline. */
static int thread_park_sleep(struct go_g *g, int64_t deadline)
{
	while (load_acquire(&g->sema) == 0) {
		int64_t left = deadline < 0 ? -1 : deadline - _go_nanotime();

		if (deadline >= 0 && left <= 0)
			return -ETIMEDOUT;
		_go_futex_wait(&g->sema, 0, left);
	}
	return 0;
}

/* go_park of a thread's stand-in: sleep on its futex word (go_ready sets it). */
static int thread_park(bool (*unlock)(struct go_g *g, void *arg), void *arg, const char *reason,
		       int64_t deadline)
{
	struct go_g *g = go_self();
	int saved = errno, r = 0;

	store_relaxed(&g->sema, 0u);
	g->waitreason = reason;
	if (!unlock || unlock(g, arg))
		r = thread_park_sleep(g, deadline);
	errno = saved;
	return r;
}

int _go_thread_park_until(bool (*unlock)(struct go_g *g, void *arg), void *arg,
			  const char *reason, int64_t deadline_ns)
{
	return thread_park(unlock, arg, reason, deadline_ns < 0 ? 0 : deadline_ns);
}

void _go_thread_park_wait(void)
{
	int saved = errno;

	thread_park_sleep(go_self(), -1);
	errno = saved;
}

GOCHAN_API uintptr_t go_park(bool (*unlock)(struct go_g *g, void *arg), void *arg,
			     const char *reason)
{
	struct go_g *g = _go_curg;
	struct go_m *m;

	if (!g) {
		thread_park(unlock, arg, reason, -1);
		return load_relaxed(&go_self()->param);
	}
	m = g->m;
	_go_rt_enter_noswitch(m);	/* with or without a P, the park goes on */
	g->park_unlock = unlock;
	g->park_arg = arg;
	store_relaxed(&g->waitreason, reason);
	store_relaxed(&g->waitsince, _go_coarse_now());
	g->param = 0;
	switch_to_g0(g, AFTER_PARK);
	_go_rt_exit(g->m);
	return load_relaxed(&g->param);
}

int64_t _go_ngoroutines(void)
{
	int64_t n = load_relaxed(&sched.ngoroutines);

	for (uint32_t i = 0; i < load_relaxed(&sched.nprocs); i++)
		n += load_relaxed(&sched.allp[i].gdelta);
	return n;
}

/* WAITING -> RUNNABLE, waiting out a stack scan. */
void _go_g_make_runnable(struct go_g *g)
{
	uint32_t st;

	for (;;) {
		st = load_acquire(&g->status);
		if (st == Gs_WAITING && cas(&g->status, st, (uint32_t)Gs_RUNNABLE))
			return;
		if (st & Gs_SCAN) {
			sched_yield();
			continue;
		}
		if (st != Gs_WAITING)
			fatal("go_ready of a goroutine that is not parked", g->id);
	}
}

GOCHAN_API void go_ready(struct go_g *g, uintptr_t value)
{
	struct go_g *cur;
	struct go_m *m;

	if (g->is_thread) {
		store_relaxed(&g->param, value);
		store_release(&g->sema, 1u);
		_go_futex_wake(&g->sema, 1);
		return;
	}
	store_relaxed(&g->param, value);
	_go_g_make_runnable(g);
	cur = _go_curg;
	if (cur) {
		m = cur->m;
		if (_go_rt_enter_noswitch(m)) {
			runqput(m->p, g, true);
		} else {
			globrunqput(g);
		}
		_go_rt_exit(m);
	} else if ((m = _go_m) != NULL && m->p && m->gen == load_relaxed(&sched.gen)) {
		/* g0 with a P: a timer in schedule(). To the tail, so that timers due together
		 * run their goroutines in deadline order. */
		runqput(m->p, g, false);
	} else {
		globrunqput(g);
	}
	_go_wakep();
}

bool _go_can_spin(void)
{
	struct go_g *g = _go_curg;
	struct go_p *p;

	if (!g || !(p = g->m->p))
		return false;
	/* Spin only while some P other than ours runs Go code: the holder may be on it. */
	if (load_relaxed(&sched.nprocs) <=
	    load_relaxed(&sched.npidle) + load_relaxed(&sched.nmspinning) + 1)
		return false;
	return _go_runq_empty(p);
}

/* ---- system calls and lost Ps ----------------------------------------------------------------- */

/*
 * From _go_rt_enter, in a G whose M's P is no longer RUNNING as this M's: it is in SYSCALL
 * (a bracketed system call, or flipped by the hog handler) and may have been taken by sysmon,
 * maybe handed to another M; or the scheduler that started this M has stopped.
 */
bool _go_lostp_reacquire(struct go_m *m)
{
	struct go_p *p = m->p;

	if (m->gen != load_relaxed(&sched.gen)) {
		m->p = NULL;	/* abandoned by an earlier go_run */
		return false;
	}
	/* Stopped for a stop-the-world (if it was ours in SYSCALL, ours again at the restart) */
	while (p && p_state(load_acquire(&p->status)) == Ps_GCSTOP && _go_stw_pending()) {
		_go_stw_park(m);
		p = m->p;	/* (a resize may have removed it) */
	}
	/* Only from our own SYSCALL word: another M's (the P was handed over) is not ours. */
	if (p && cas(&p->status, m->ptag | Ps_SYSCALL, m->ptag | Ps_RUNNING))
		return true;
	if (p && load_acquire(&p->status) == (m->ptag | Ps_RUNNING))
		return true;
	m->p = NULL;
	_go_lock(&sched.lock);
	p = sched.stopping ? NULL : pidleget_locked();
	_go_unlock(&sched.lock);
	if (p) {
		acquirep(m, p);
		return true;
	}
	return false;
}

void _go_lostp_check(void)
{
	struct go_g *g = _go_curg;
	struct go_m *m = g->m;

	if (m->gen != load_relaxed(&sched.gen) || load_acquire(&sched.stopping)) {
		/* go_run is over (or ending): this goroutine is abandoned. Its M goes back to
		 * schedule(), which sees that and ends the thread. */
		switch_to_g0(g, AFTER_NONE);
		fatal("an abandoned goroutine was resumed", g->id);
	}
	if (_go_lostp_reacquire(m))
		return;
	switch_to_g0(g, AFTER_LOSTP);
	/* resumed on an M with a P, in_runtime 1 as at every resume point */
}

/* go_syscall_enter (switch_x86_64.S) with its caller's callee-saved registers in regs and
 * its caller's stack pointer in sp. */
void _go_syscall_enter_c(const uintptr_t *regs, void *sp)
{
	struct go_g *g = _go_curg;
	struct go_m *m;

	if (!g)
		return;
	m = g->m;
	_go_rt_enter(m);
	m = g->m;
	/* RUNNING -> SYSCALL, on a P that is this M's and RUNNING (_go_rt_enter saw to it) */
	go_assert(load_relaxed(&g->status) == Gs_RUNNING &&
		  load_relaxed(&m->p->status) == (m->ptag | Ps_RUNNING));
	store_relaxed(&m->p->syscalltick, m->p->syscalltick + 1);
	/* what the collector scans of it while it is in the call (stack.c, GC) */
	memcpy(g->gcregs, regs, 6 * sizeof(uintptr_t));
	g->gcsp = sp;
	store_release(&g->status, (uint32_t)Gs_SYSCALL);
	store_release(&m->p->status, m->ptag | Ps_SYSCALL);
	_go_rt_exit(m);
}

GOCHAN_API void go_syscall_exit(void)
{
	struct go_g *g = _go_curg;
	struct go_m *m;

	if (!g)
		return;
	go_assert(g_status_noscan(g) == Gs_SYSCALL);	/* go_syscall_enter came first */
	m = g->m;
	_go_rt_enter(m);
	/* SYSCALL -> RUNNING, waiting out a stack scan (Gs_SCAN) */
	while (!cas(&g->status, (uint32_t)Gs_SYSCALL, (uint32_t)Gs_RUNNING)) {
		if (load_acquire(&g->status) == Gs_RUNNING)
			break;	/* not in a system call (an exit without its enter) */
		__builtin_ia32_pause();
	}
	g->gcsp = NULL;
	_go_rt_exit(g->m);
}

/* ---- go_run --------------------------------------------------------------------------------- */

static unsigned default_procs(void)
{
	const char *s = getenv("GOCHAN_MAXPROCS");
	cpu_set_t set;
	long n;

	if (s && (n = strtol(s, NULL, 10)) > 0 && n <= 4096)
		return (unsigned)n;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return def;
	v = strtoull(s, &end, 10);
	if (*end == 'k' || *end == 'K')
		v <<= 10;
	else if (*end == 'm' || *end == 'M')
		v <<= 20;
	return v ? v : def;
}

static int setup(const struct go_config *cfg)
{
	struct go_config c = { 0 };
	uint32_t i;
	int err;

	if (cfg) {
		if (cfg->size < offsetof(struct go_config, schedtrace_ms) + sizeof(uint32_t) ||
		    cfg->size > 4096)
			return -EINVAL;
		memcpy(&c, cfg, sizeof(c));
		if (c.flags & ~(GO_CONFIG_NO_DEADLOCK_CHECK | GO_CONFIG_NO_SIGQUIT))
			return -EINVAL;
	}
	if (!c.maxprocs)
		c.maxprocs = default_procs();
	if (c.maxprocs > GO_MAXPROCS_MAX)
		return -EINVAL;
	if (!c.stack_max)
		c.stack_max = env_u64("GOCHAN_STACK_MAX", 256 << 10);
	if (c.stack_max < (16 << 10) || c.stack_max > (1ull << 30))
		return -EINVAL;
	if (!c.schedtrace_ms)
		c.schedtrace_ms = (uint32_t)env_u64("GOCHAN_SCHEDTRACE", 0);

	memset(&sched.stats, 0, sizeof(sched.stats));
	sched.stats.size = sizeof(sched.stats);
	sched.flags = c.flags;
	sched.nprocs = c.maxprocs;
	sched.stack_max = c.stack_max;
	sched.schedtrace_ms = c.schedtrace_ms;
	store_relaxed(&sched.stats.maxprocs, c.maxprocs);
	/* Ps are never freed: an M abandoned in a system call may still look at its P. Room
	 * for the most there can be, once, so that go_set_maxprocs never moves one (only the
	 * pages of the Ps in use are touched). */
	if (sched.allp_cap < GO_MAXPROCS_MAX) {
		struct go_p *ps = aligned_alloc(64, sizeof(struct go_p) * GO_MAXPROCS_MAX);

		if (!ps)
			return -ENOMEM;
		sched.allp = ps;
		sched.allp_cap = GO_MAXPROCS_MAX;
	}
	memset(sched.allp, 0, sizeof(struct go_p) * c.maxprocs);
	sched.allp_init = c.maxprocs;
	sched.pidle = NULL;
	sched.npidle = 0;
	for (i = c.maxprocs; i-- > 0;) {
		sched.allp[i].id = (int)i;
		pidleput_locked(&sched.allp[i]);
	}
	sched.midle = NULL;
	sched.nmidle = 0;
	sched.mcount = 0;
	sched.allm = NULL;
	sched.nmspinning = 0;
	sched.runqhead = sched.runqtail = NULL;
	sched.runqsize = 0;
	/* Stacks of an earlier run stay warm for this one, if they are the same size. */
	if (sched.stack_max_prev && sched.stack_max_prev != c.stack_max &&
	    !load_acquire(&orphans_alive)) {
		_go_stacks_release_all();
		sched.gfree = NULL;
		sched.ngfree = 0;
	}
	sched.stack_max_prev = c.stack_max;
	sched.ngoroutines = 0;
	sched.goidgen = 0;
	sched.spawned_nop = 0;
	store_release(&sched.stopping, 0u);	/* an orphan M of an earlier run may read it */
	sched.start_ns = _go_nanotime();
	run_result = 0;
	mlive = 0;

	if ((err = _go_stacks_init(c.stack_max)) < 0)
		return err;
	if ((err = _go_timers_init()) < 0)
		return err;
	if ((err = _go_netpoll_init()) < 0)
		return err;
	if ((err = _go_hog_signal_install()) < 0)
		return err;
	_go_sigquit_install();
	return 0;
}

static void collect_dead(struct go_g *g, void *arg)
{
	(void)arg;
	if (g->arena->stack_max != sched.stack_max)
		return;
	store_relaxed(&g->status, (uint32_t)Gs_DEAD);
	g->schedlink = sched.gfree;
	sched.gfree = g;
	sched.ngfree++;
}

static void teardown(struct go_m *m0)
{
	struct go_m *m, *next;
	bool orphans = false;
	int64_t deadline = _go_nanotime() + 2000000000;
	int n;

	/* Ms come back to schedule() at their G's next switch; one blocked in a system call
	 * or spinning in C code may not: after 2 s it is abandoned (it parks for good when it
	 * returns to the runtime). */
	while ((n = load_acquire(&mlive)) > 0) {
		int64_t left = deadline - _go_nanotime();

		if (left <= 0)
			break;
		_go_lock(&sched.lock);
		while ((m = mget_locked()) != NULL)
			_go_note_wakeup(&m->park);
		_go_unlock(&sched.lock);
		_go_netpoll_break();
		_go_futex_wait((uint32_t *)&mlive, (uint32_t)n, left < 10000000 ? left : 10000000);
	}
	_go_sysmon_stop();
	if (_go_gc_run_end_hook)
		_go_gc_run_end_hook();	/* every M gone but orphans (see gc.h) */
	_go_sigquit_restore();
	for (m = sched.allm; m; m = next) {
		next = m->alllink;
		fetch_add(&orphans_alive, 1u);
		if (cas(&m->fate, (uint32_t)M_RUNNING, (uint32_t)M_ABANDONED)) {
			pthread_detach(m->thread);	/* its struct stays: the orphan uses it */
			orphans = true;
			continue;
		}
		fetch_add(&orphans_alive, -1u);
		if (m->fate == M_EXITED)
			pthread_join(m->thread, NULL);
		free(m);
	}
	sched.allm = NULL;
	store_release(&sched.gen, sched.gen + 1);	/* orphans see this and return */
	_go_timers_fini();
	/* An orphan of this run or an earlier one may still be on a goroutine's stack */
	if (!orphans && !load_acquire(&orphans_alive)) {
		_go_netpoll_fini();
		/* Every G is dead now (the abandoned ones too): all go on the free list, stacks
		 * warm for the next go_run, as Go keeps its heap. go_stacks_shrink() and sysmon
		 * give back all but each one's top page. */
		sched.gfree = NULL;
		sched.ngfree = 0;
		_go_stacks_for_each_g(collect_dead, NULL);
	} else {
		sched.gfree = NULL;	/* an orphan may still run on one of them */
		sched.ngfree = 0;
	}
	_go_m = NULL;
	_go_curg = NULL;
	store_release(&sched.m0, (struct go_m *)NULL);
	free(m0);
}

GOCHAN_API int go_run_config(const struct go_config *config, void (*main_fn)(void *), void *arg)
{
	struct go_m *m0;
	struct go_g *g;
	int err, saved = errno;

	if (!main_fn)
		return -EINVAL;
	if (_go_curg || !cas(&sched.running, false, true))
		return -EBUSY;
	m0 = calloc(1, sizeof(*m0));
	if (!m0) {
		store_release(&sched.running, false);
		return -ENOMEM;
	}
	err = setup(config);
	if (err < 0) {
		free(m0);
		store_release(&sched.running, false);
		errno = saved;
		return err;
	}
	m0->gen = sched.gen;
	m0->ptag = new_ptag();
	m0->thread = pthread_self();
	m0->fastrand = (uint64_t)_go_nanotime() | 1;
	m0->id = sched.mcount++;
	store_release(&sched.m0, m0);
	m_init_thread(m0);
	_go_lock(&sched.lock);
	acquirep(m0, pidleget_locked());
	_go_unlock(&sched.lock);

	g = newproc(main_fn, arg, m0->p);
	if (!g || _go_sysmon_start() < 0) {
		err = g ? -EAGAIN : -ENOMEM;
		if (g)
			store_relaxed(&m0->p->gdelta, m0->p->gdelta - 1);
		run_result = err;
		store_release(&sched.stopping, 1u);
	} else {
		g->is_main = true;
		runqput(m0->p, g, false);
	}
	schedule(m0);
	m_sigstack_fini(m0);
	m0->p = NULL;
	err = run_result;
	teardown(m0);
	store_release(&sched.running, false);
	errno = saved;
	return err;
}

GOCHAN_API int go_run(void (*main_fn)(void *), void *arg)
{
	return go_run_config(NULL, main_fn, arg);
}

GOCHAN_API int go_sched_stats(struct go_sched_stats *st)
{
	uint32_t size;

	if (!st || st->size < sizeof(uint32_t) * 2 || st->size > 4096)
		return -EINVAL;
	if (!load_acquire(&sched.running))
		return -EPERM;
	size = st->size < sizeof(*st) ? st->size : (uint32_t)sizeof(*st);
	store_relaxed(&sched.stats.global_runq, (uint64_t)load_relaxed(&sched.runqsize));
	store_relaxed(&sched.stats.goroutines, (uint64_t)_go_ngoroutines());
	{
		uint64_t sw = 0, sp = 0;

		for (uint32_t i = 0; i < load_relaxed(&sched.nprocs); i++) {
			sw += load_relaxed(&sched.allp[i].nswitches);
			sp += load_relaxed(&sched.allp[i].nspawned);
		}
		store_relaxed(&sched.stats.switches, sw);
		store_relaxed(&sched.stats.spawned, sp + load_relaxed(&sched.spawned_nop));
	}
	if (size >= offsetof(struct go_sched_stats, goroutines))
		st->maxprocs = load_relaxed(&sched.stats.maxprocs);
	/* the counters, one relaxed load each (they move while we read) */
	for (size_t off = offsetof(struct go_sched_stats, goroutines); off + 8 <= size; off += 8)
		*(uint64_t *)((char *)st + off) =
			load_relaxed((uint64_t *)((char *)&sched.stats + off));
	return 0;
}
