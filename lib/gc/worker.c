/* SPDX-License-Identifier: MIT */
/*
 * worker.c - who marks while the world runs (Go's gcBgMarkWorker, gcAssistAlloc and the
 * safe-point half of mgcmark.go): the cycle's own goroutine as the background worker,
 * assists charged to allocating goroutines, and what a goroutine does at a safe point while
 * the collector marks (scan its own stack once; flush its P's grey objects when asked).
 *
 * Decisions where the design leaves room, and why:
 *   - One background worker: the goroutine that runs the cycle (gc.c) marks in slices of
 *     GC_WORKER_SLICE bytes of scan work and yields between them, so that with other
 *     goroutines runnable it takes about one P's share, as Go's dedicated worker at
 *     GOMAXPROCS 4 (Go's 25% target is a fractional worker below that; not done here).
 *   - Assists as Go's gcAssistAlloc: a goroutine that allocates while the collector marks
 *     owes scan work in proportion (the pacer's ratio), pays it by draining grey objects
 *     (with a floor of GC_ASSIST_MIN, Go's gcOverAssistWork, so that it does not come back
 *     at every allocation) and, when there is nothing to drain, yields once (Go parks it
 *     until the background worker's credit covers it): the rest of its debt is forgiven,
 *     but the yield gives the cycle's goroutine, runnable and waiting for the P, its turn
 *     (without it, goroutines that allocate and never switch would keep the cycle from
 *     ending while the heap grows black).
 */
#include "internal.h"

#define GC_WORKER_SLICE (256 * 1024) /* bytes of scan work between yields */
#define GC_ASSIST_MIN (64 * 1024)

/* The work of the P this M holds, in the runtime; NULL without one. */
static struct gc_work *p_work(struct go_m *m)
{
	struct go_p *p = m->p;

	if (p && load_acquire(&p->status) == (m->ptag | Ps_RUNNING) &&
	    m->gen == load_relaxed(&_go_sched.gen))
		return &_go_gc_p(p)->w;
	return NULL;
}

/* A goroutine at a safe point (in the runtime) while the collector marks. */
void _go_gc_safepoint(struct go_m *m, struct go_g *g)
{
	struct gc_work *w, local;
	uint32_t gen = load_acquire(&_go_stacks_scan_gen);
	bool scan, flush;

	if (load_acquire(&_go_gc.phase) != GC_MARK)
		return;
	w = p_work(m);
	scan = load_acquire(&g->gcscan_gen) != gen;
	flush = w && _go_gc_p(m->p)->flush_gen != load_acquire(&_go_gc.flush_gen);
	if (!scan && !flush)
		return;
	if (!w) {
		_go_gc_work_init(&local);
		w = &local;
	}
	if (scan && _go_g_scan_claim(g))
		fetch_add_relaxed(&_go_gc_stack_bytes_scanned, _go_gc_scan_self(w, g));
	if (w == &local) {
		_go_gc_work_dispose(&local);
	} else if (flush || scan) {
		/* the ragged barrier of mark termination (Go's gcMarkDone forEachP): grey
		 * objects of this P, its barrier's shades among them, where workers see them */
		uint32_t fgen = load_acquire(&_go_gc.flush_gen);

		_go_gc_work_flush(w);
		store_release(&_go_gc_p(m->p)->flush_gen, fgen);
		_go_gc_controller_wake();
	}
}

/*
 * g allocated while the collector marks and owes scan work (g->gcassist < 0, in bytes of
 * allocation): drain grey objects from pp's work and the global list to pay. In the
 * runtime; the phase is MARK.
 */
bool _go_gc_assist(struct go_g *g, struct gc_p *pp)
{
	int64_t debt = _go_gc_pacer_assist_debt(-g->gcassist), done;
	int64_t t0 = _go_nanotime();

	if (debt < GC_ASSIST_MIN)
		debt = GC_ASSIST_MIN;
	done = _go_gc_drain(&pp->w, debt);
	/* paid what it could; an unpaid rest is forgiven (above) */
	g->gcassist = 0;
	if (done > 0) {
		fetch_add_relaxed(&_go_gc.scan_work, (uint64_t)done);
		fetch_add_relaxed(&_go_gc.assist_ns, (uint64_t)(_go_nanotime() - t0));
	}
	return done >= debt;
}

/*
 * One slice of background marking by the cycle's goroutine self, in the runtime: a root
 * job or two, then grey objects, then the stacks not scanned yet. Returns whether it found
 * anything to do.
 */
static bool worker_slice(struct go_g *self)
{
	struct go_m *m = self->m;
	struct gc_work *w = p_work(m), local;
	int64_t t0 = _go_nanotime(), done = 0;
	bool any = false;

	if (!w) {
		_go_gc_work_init(&local);
		w = &local;
	}
	while (done < GC_WORKER_SLICE && _go_gc_root_job(w, self)) {
		any = true;
		done += _go_gc_drain(w, GC_WORKER_SLICE);
	}
	if (done < GC_WORKER_SLICE) {
		int64_t d = _go_gc_drain(w, GC_WORKER_SLICE - done);

		any |= d > 0;
		done += d;
	}
	if (done < GC_WORKER_SLICE && _go_gc_work_empty(w) &&
	    load_acquire(&_go_stacks_unscanned)) {
		_go_gc_stacks_stragglers(w, self);
		done += _go_gc_drain(w, GC_WORKER_SLICE);
	}
	if (w == &local)
		_go_gc_work_dispose(&local);
	else
		_go_gc_work_flush(w); /* (the cycle's goroutine may move to another P) */
	fetch_add_relaxed(&_go_gc.scan_work, (uint64_t)(done > 0 ? done : 0));
	fetch_add_relaxed(&_go_gc.mark_ns, (uint64_t)(_go_nanotime() - t0));
	return any || done > 0;
}

/* Nothing left to mark that the world running can see: every root job done, every stack
 * scanned, no grey object on the global list. (P-local grey objects: the ragged barrier.) */
bool _go_gc_mark_done(void)
{
	return _go_gc_roots_done() && !_go_gc_work_available();
}

#define GC_FLUSH_WAIT_NS (1000 * 1000) /* the ragged barrier's wait, at most */

/*
 * Whether every P other than self's that runs goroutines has flushed its grey objects since
 * gc.flush_gen became gen (at a safe point: _go_gc_safepoint). In the runtime, so that no
 * go_set_maxprocs moves nprocs meanwhile. Of another P it reads only its status and its
 * flush_gen, both atomically: a P idle or in a system call runs no program code that could
 * shade now, and mark termination takes what it still holds with the world stopped.
 */
static bool running_ps_flushed(uint32_t gen, struct go_p *self)
{
	uint32_t n = load_acquire(&_go_sched.nprocs);

	for (uint32_t i = 0; i < n; i++) {
		struct go_p *p = &_go_sched.allp[i];

		if (p != self && p_state(load_acquire(&p->status)) == Ps_RUNNING &&
		    _go_gc_p_flush_gen(i) != gen)
			return false;
	}
	return true;
}

/*
 * The concurrent mark, run by the cycle's goroutine self (not in the runtime): slices of
 * work, a yield after each, until nothing is left that the world running can see. Then the
 * ragged barrier: every P flushes its grey objects at its next safe point (GO_SAFEPOINT_GC
 * is set while marking); the cycle's goroutine yields until every running P has, for at most
 * GC_FLUSH_WAIT_NS (a P whose goroutine never enters the runtime is not waited for: sysmon
 * preempts it later), marks what they flushed, and goes on to mark termination when nothing
 * is left: mark termination takes what the Ps still hold with the world stopped, and
 * restarts marking if there is much. Without the wait, a P busy in program code when the
 * world stopped made most 2-P cycles restart once, a second pause.
 * (No sleep here: a goroutine that sleeps waits for its P's timers, which a P busy with
 * goroutines that never switch does not look at; a yield is seen by sysmon.)
 */
void _go_gc_mark_concurrent(struct go_g *self)
{
	for (;;) {
		bool any;

		_go_rt_enter(self->m);
		any = worker_slice(self);
		_go_rt_exit(self->m);
		if (!any && _go_gc_mark_done()) {
			uint32_t gen = fetch_add(&_go_gc.flush_gen, 1) + 1;
			int64_t end = _go_nanotime() + GC_FLUSH_WAIT_NS;
			bool flushed;

			do {
				go_yield();
				_go_rt_enter(self->m);
				flushed = running_ps_flushed(gen, self->m->p);
				_go_rt_exit(self->m);
			} while (!flushed && _go_nanotime() < end);
			if (_go_gc_mark_done())
				return;
			continue;
		}
		go_yield();
	}
}

void _go_gc_controller_wake(void)
{
	/* (the cycle's goroutine polls: nothing to wake) */
}
