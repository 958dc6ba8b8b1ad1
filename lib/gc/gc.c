/* SPDX-License-Identifier: MIT */
/*
 * gc.c - the collector's state, its entry points, and its cycle (Go's mgc.go).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct gc_state _go_gc = { .percent = 100, .memory_limit = INT64_MAX };

/* Per P: its cache and its grey objects (internal.h, struct gc_p), by P id. */
#define GC_MAXPROCS 4096
static struct gc_p gc_pp[GC_MAXPROCS];
/* 1 + the highest P id whose cache was made: a run with fewer Ps than an earlier one leaves
 * the others' caches holding spans, which mark termination must flush all the same (atomic
 * reads, raised by _go_gc_p) */
static uint32_t gc_pp_hi;

void _go_gc_exclude_more(void *ranges, size_t *n)
{
	struct { uintptr_t lo, hi; } *x = ranges;

	x[*n].lo = (uintptr_t)gc_pp;
	x[(*n)++].hi = (uintptr_t)gc_pp + sizeof(gc_pp);
}

void _go_gc_fatal(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	/* one write, no stdio buffer */
	n = snprintf(msg, sizeof(msg), "gochan: fatal error: ");
	va_start(ap, fmt);
	n += vsnprintf(msg + n, sizeof(msg) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	msg[n++] = '\n';
	if (write(STDERR_FILENO, msg, (size_t)n) < 0)
		n = 0;
	abort();
}

/* p's first allocation: its cache, and gc_pp_hi raised over it */
static __attribute__((noinline, cold)) struct gc_p *gc_p_first(struct go_p *p)
{
	struct gc_p *pp = &gc_pp[p->id];
	uint32_t hi = load_relaxed(&gc_pp_hi);

	pp->cache = (struct ga_cache *)galloc_cache_new();
	if (!pp->cache)
		_go_gc_fatal("out of memory for P %d's allocation cache", p->id);
	while (hi < (uint32_t)p->id + 1 && !cas(&gc_pp_hi, hi, (uint32_t)p->id + 1))
		hi = load_relaxed(&gc_pp_hi);
	return pp;
}

/* (inlined into the allocation path below; _go_gc_p for the other files) */
static inline struct gc_p *gc_p_of(struct go_p *p)
{
	struct gc_p *pp = &gc_pp[p->id];

	return gc_likely(pp->cache) ? pp : gc_p_first(p);
}

struct gc_p *_go_gc_p(struct go_p *p)
{
	return gc_p_of(p);
}

struct gc_p *_go_gc_p_at(uint32_t i)
{
	return i < load_relaxed(&gc_pp_hi) && gc_pp[i].cache ? &gc_pp[i] : NULL;
}

uint32_t _go_gc_p_flush_gen(uint32_t i)
{
	return load_acquire(&gc_pp[i].flush_gen);
}

void _go_gc_heap_bounds(void)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;

	pthread_mutex_lock(&ga_heap.lock);
	for (size_t i = 0; i < ga_heap.narenas; i++) {
		struct ga_arena *a = ga_heap.arenas[i];
		uintptr_t end = a->base + a->nslots * GA_ARENA_SIZE;

		if (a->base < lo)
			lo = a->base;
		if (end > hi)
			hi = end;
	}
	pthread_mutex_unlock(&ga_heap.lock);
	if (lo > hi)
		lo = hi = 0;
	store_relaxed(&_go_gc.heap_lo, lo);
	store_relaxed(&_go_gc.heap_hi, hi);
}

/* ---- settings ------------------------------------------------------------------------------- */

static void run_end(void);
static void p_retire(struct go_p *p);

static void gc_init_once(void)
{
	_go_gc_safepoint_hook = _go_gc_safepoint;
	_go_gc_signal_hook = _go_gc_signal;
	_go_gc_run_end_hook = run_end;
	_go_gc_p_retire_hook = p_retire;
	_go_gc_finalizers_init();
	_go_gc_pacer_init();
}

static pthread_once_t gc_once = PTHREAD_ONCE_INIT;

void _go_gc_init(void)
{
	pthread_once(&gc_once, gc_init_once);
}

/* ---- allocation ----------------------------------------------------------------------------- */

static void cycle_maybe(void);

/*
 * Allocation from a goroutine: in the runtime (in_runtime, the P checked) so that no
 * stop-the-world and no hog signal comes between the P's cache and its use.
 */
static inline void *gc_new(size_t size, unsigned flags, const struct go_type *t, size_t n,
			   const char *call)
{
	struct go_g *g = _go_curg;
	bool yield = false;
	struct gc_p *pp;
	struct go_m *m;
	void *p;

	if (gc_unlikely(!g))
		_go_gc_fatal("%s from a thread that is not a goroutine", call);
	m = g->m;
	_go_rt_enter(m);
	m = g->m; /* (entering may move the goroutine to another M) */
	pp = gc_p_of(m->p);
	p = _go_gc_alloc(pp, size, flags, t, n);
	if (gc_unlikely(load_relaxed(&_go_gc.phase) == GC_MARK)) {
		/* allocating while the collector marks: pay for it (worker.c) */
		g->gcassist -= (int64_t)size;
		if (g->gcassist < -(int64_t)(64 * 1024))
			yield = !_go_gc_assist(g, pp);
	}
	_go_rt_exit(m);
	if (gc_unlikely(yield))
		go_yield();
	if (gc_unlikely((uint64_t)load_relaxed(&_go_gc.heap_live) >=
			load_relaxed(&_go_gc.heap_trigger)))
		cycle_maybe();
	return p;
}

GOCHAN_API void *go_new(size_t size, unsigned flags)
{
	return gc_new(size, flags, NULL, 1, "go_new");
}

GOCHAN_API void *go_new_typed(const struct go_type *t, size_t n)
{
	size_t size;

	if (!t || t->ptrdata > t->size || t->ptrdata % 8 || (t->ptrdata && t->size % 8))
		_go_gc_fatal("go_new_typed: an invalid type %s (size %zu, ptrdata %zu)",
			     t && t->name ? t->name : "(null)", t ? t->size : 0,
			     t ? t->ptrdata : 0);
	if (__builtin_mul_overflow(t->size, n, &size))
		return NULL;
	return gc_new(size, 0, t, n, "go_new_typed");
}

GOCHAN_API void go_keep_alive(const void *p)
{
	/* the compiler must think p is used here: it stays on the stack or in a register */
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* ---- the cycle ------------------------------------------------------------------------------ */

static uint32_t cycle_lock; /* one cycle at a time */

#ifdef GOCHAN_DEBUG_HOOKS
void (*_go_gc_debug_mark_begun)(void);
#endif

static void pause_record(uint64_t ns, int kind)
{
	uint32_t i = (_go_gc.pause_first + _go_gc.pause_count) % 256;

	_go_gc.pause_ns[i] = ns;
	_go_gc.pause_end[i] = (uint64_t)_go_nanotime();
	_go_gc.pause_kind[i] = (uint8_t)kind;
	if (_go_gc.pause_count < 256)
		_go_gc.pause_count++;
	else
		_go_gc.pause_first = (_go_gc.pause_first + 1) % 256;
	_go_gc.pause_total += ns;
	if (ns > _go_gc.pause_max)
		_go_gc.pause_max = ns;
	_go_gc.last_pause[kind] = ns;
}

/* What p's work marked (allocations black included), into the cycle's total. */
static void work_account_p(struct gc_p *pp)
{
	if (pp->w.bytes_marked) {
		fetch_add_relaxed(&_go_gc.bytes_marked, pp->w.bytes_marked);
		pp->w.bytes_marked = 0;
	}
}

/*
 * P p is removed by go_set_maxprocs, the world stopped: its grey objects go where the workers
 * find them (the global list) and what it marked into the cycle's total, as at mark
 * termination; nobody marks on it from now on. Its cache stays, by P id, for the P's return:
 * flush_caches hands back its spans at every mark termination, as for every P ever used.
 */
static void p_retire(struct go_p *p)
{
	struct gc_p *pp = _go_gc_p_at((uint32_t)p->id);

	if (!pp)
		return;
	_go_gc_work_flush(&pp->w);
	work_account_p(pp);
}

/* Every P's cache hands back its current spans (the world stopped): what they had left
 * counts no more. Every cache ever made, not only this run's Ps': sweeping counts every
 * span, and one a cache of an earlier run's P still held would never be swept. */
static void cache_flush(struct ga_cache *c)
{
	size_t objects, bytes = ga_gc_cache_flush(c, &objects);

	fetch_add_relaxed(&_go_gc.total_alloc, -(uint64_t)bytes);
	fetch_add_relaxed(&_go_gc.total_objects, -(uint64_t)objects);
	fetch_add_relaxed(&_go_gc.heap_live, -(int64_t)bytes);
}

static void flush_caches(void)
{
	for (uint32_t i = 0; i < load_relaxed(&gc_pp_hi); i++)
		if (gc_pp[i].cache)
			cache_flush(gc_pp[i].cache);
}

/*
 * Mark termination's check, the world stopped: the grey objects every P still holds (its
 * barrier's shades since the ragged barrier) and those of the goroutines stopped in program
 * code go to w. Returns whether any was found.
 */
static bool markterm_collect(struct gc_work *w)
{
	bool found = false;

	/* every P ever used: one go_set_maxprocs removed may hold shades from before */
	for (uint32_t i = 0; i < load_relaxed(&gc_pp_hi); i++) {
		struct gc_p *pp = &gc_pp[i];

		if (!pp->cache || &pp->w == w)
			continue;
		if (!_go_gc_work_empty(&pp->w))
			found = true;
		_go_gc_work_flush(&pp->w);
	}
	_go_gc_scan_sigstopped(w);
	return found || !_go_gc_work_empty(w) || _go_gc_work_available();
}

#define GC_MARKTERM_RESTARTS 3 /* then the rest is marked with the world stopped */

/*
 * A cycle (internal.h, "The cycle"), in two calls: cycle_begin, phase 1, then cycle_finish,
 * phases 2 to 4, on one goroutine (go_gc) or two (the trigger's: the allocating goroutine
 * begins, as Go's gcStart runs on it, and a goroutine of the cycle's own finishes). The
 * caller is a goroutine holding cycle_lock, not in the runtime. Inside the runtime it never
 * switches (a switch there would leave its in_runtime count on the M it left): the
 * concurrent mark runs outside it.
 */

/* Phase 1, sweep termination. False: go_run is ending, the cycle was given up. */
static bool cycle_begin(bool forced)
{
	struct go_g *self = _go_curg;
	uint64_t t0, pause;

	_go_gc_data_roots_collect();
	_go_gc_sweep_finish();

	/* 1. sweep termination */
	_go_rt_enter(self->m);
	t0 = (uint64_t)_go_nanotime();
	if (_go_stw_stop() < 0) {
		/* go_run is ending and its Ms will not stop: give up this cycle */
		_go_stw_start();
		_go_rt_exit(self->m);
		return false;
	}
	_go_gc.last.start = (int64_t)t0;
	_go_gc.last.heap_start = (uint64_t)load_relaxed(&_go_gc.heap_live);
	_go_gc.last.forced = forced;
	_go_gc.last.nprocs = load_relaxed(&_go_sched.nprocs);
	_go_gc.cycle++;
	_go_stacks_scan_begin(_go_gc.cycle);
	_go_gc_heap_bounds();
	_go_gc_roots_begin();
	_go_gc_pacer_mark_begin();
	store_release(&_go_gc.phase, GC_MARK);
	store_release(&go_wb_enabled_, 1);
	fetch_or(&_go_safepoint, GO_SAFEPOINT_GC);
#ifdef GOCHAN_DEBUG_HOOKS
	bool hook = _go_gc_debug_mark_begun != NULL;
#endif
	pause = (uint64_t)_go_nanotime() - t0;
	pause_record(pause, 0);
	_go_stw_start();
	_go_rt_exit(self->m);
	_go_gc.last.mark_start = _go_nanotime();
#ifdef GOCHAN_DEBUG_HOOKS
	if (hook) {
		/* its own stack scanned first (black), as the hook's contract says */
		_go_rt_enter(self->m);
		if (_go_g_scan_claim(self))
			_go_gc_scan_self(&_go_gc_p(self->m->p)->w, self);
		_go_rt_exit(self->m);
		_go_gc_debug_mark_begun();
	}
#endif
	return true;
}

/* Phases 2 to 4: the concurrent mark, mark termination, sweep begun. */
static void cycle_finish(void)
{
	struct go_g *self = _go_curg;
	struct gc_work *w;
	uint64_t t0, pause, marked;
	unsigned restarts = 0;

	/* 2. concurrent mark */
	for (;;) {
		_go_gc_mark_concurrent(self);

		/* 3. mark termination */
		_go_rt_enter(self->m);
		t0 = (uint64_t)_go_nanotime();
		if (_go_stw_stop() < 0)
			goto out_abandon; /* (run_end drops the cycle: gc.c) */
		w = &_go_gc_p(self->m->p)->w;
		if (!markterm_collect(w) || restarts >= GC_MARKTERM_RESTARTS)
			break;
		/* work was left: back to marking with the world running (Go's gcMarkDone
		 * restarts too), so that the pause stays short */
		_go_gc_work_flush(w);
		restarts++;
		pause = (uint64_t)_go_nanotime() - t0;
		pause_record(pause, 1);
		_go_stw_start();
		_go_rt_exit(self->m);
	}
	_go_gc.last.markterm_start = (int64_t)t0;
	_go_gc.last.restarts = restarts;
	store_release(&_go_gc.phase, GC_MARKTERM);
	_go_gc_drain(w, -1);
	_go_gc_work_dispose(w);
	if (gc_unlikely(_go_gc_verify_enabled()))
		_go_gc_verify(self);
	store_release(&go_wb_enabled_, 0);
	fetch_and(&_go_safepoint, ~GO_SAFEPOINT_GC);
	store_release(&_go_gc.phase, GC_OFF);
	flush_caches();
	for (uint32_t i = 0; i < load_relaxed(&gc_pp_hi); i++)
		work_account_p(&gc_pp[i]);
	_go_gc.stacks_bytes = load_relaxed(&_go_gc_stack_bytes_scanned);
	_go_gc.globals_bytes = load_relaxed(&_go_gc_global_bytes_scanned);
	marked = xchg(&_go_gc.bytes_marked, 0);
	_go_gc.last.heap_end = (uint64_t)load_relaxed(&_go_gc.heap_live);
	_go_gc.last.marked = marked;
	_go_gc.heap_marked = marked;
	store_relaxed(&_go_gc.heap_live, (int64_t)marked);
	_go_gc_pacer_mark_end(marked);
	_go_gc.last.goal = _go_gc.heap_goal;
	ga_gc_sweep_begin();
	pause = (uint64_t)_go_nanotime() - t0;
	pause_record(pause, 1);
	_go_gc.last_cycle_ns = (uint64_t)_go_nanotime() - (uint64_t)_go_gc.last.start;
	_go_gc.last_end = (uint64_t)_go_nanotime();
	_go_gc.last.end = (int64_t)_go_gc.last_end;
	_go_gc.forced += _go_gc.last.forced;
	store_release(&_go_gc.cycles_done, _go_gc.cycles_done + 1);
	_go_stw_start();
	_go_rt_exit(self->m);
	if (gc_unlikely(_go_gc_trace_enabled()))
		_go_gc_trace_cycle();
	/* finalizers the last sweep queued (this cycle's come as its spans are swept) */
	_go_gc_finalizers_start();
	return;
out_abandon:
	/* go_run is ending and its Ms will not stop: give up this cycle */
	_go_stw_start();
	_go_rt_exit(self->m);
}

static void cycle(bool forced)
{
	if (cycle_begin(forced))
		cycle_finish();
}

static bool cycle_trylock(void)
{
	return !xchg(&cycle_lock, 1);
}

static void cycle_unlock(void)
{
	store_release(&cycle_lock, 0);
}

/* The rest of a cycle the trigger began, on a goroutine of its own (Go's gcStart hands
 * the marking to background workers: the allocating goroutine goes on). */
static void cycle_bg(void *arg)
{
	(void)arg;
	cycle_finish();
	cycle_unlock();
}

/*
 * The heap reached its trigger: a cycle, unless one runs already. Its sweep termination
 * runs here, on the allocating goroutine, as Go's gcStart does: a goroutine started to do
 * it would first have to be scheduled, and its stop-the-world would then wait for the
 * other Ps' Ms while they were being woken to run this one (on 2 Ps that made the first
 * pause 130-160 us against 25-35 us for the second).
 */
static void cycle_maybe(void)
{
	_go_gc_init();
	if (!cycle_trylock())
		return;
	if (!cycle_begin(false)) {
		cycle_unlock();
		return;
	}
	if (go_spawn(cycle_bg, NULL) < 0) {
		/* no memory for a goroutine: the cycle is begun, mark here */
		cycle_finish();
		cycle_unlock();
		return;
	}
	/* let it start now: a goroutine that allocates and never switches would otherwise
	 * keep it waiting (Go schedules its mark workers ahead of other goroutines) */
	go_yield();
}

/* go_run is ending (every M gone): a cycle its goroutine left half done is dropped. Its
 * mark bits stay: objects they mark live one more cycle, no longer (they are a superset). */
static void run_end(void)
{
	if (load_acquire(&_go_gc.phase) != GC_OFF) {
		store_release(&go_wb_enabled_, 0);
		fetch_and(&_go_safepoint, ~GO_SAFEPOINT_GC);
		store_release(&_go_gc.phase, GC_OFF);
		for (uint32_t i = 0; i < GC_MAXPROCS; i++)
			if (gc_pp[i].cache)
				_go_gc_work_dispose(&gc_pp[i].w);
		_go_gc_work_discard_all();
		store_relaxed(&_go_gc.bytes_marked, 0);
	}
	_go_gc_finalizers_run_end();
	cycle_unlock();
}

GOCHAN_API int go_gc(void)
{
	if (!_go_curg)
		return -EPERM;
	_go_gc_init();
	while (!cycle_trylock())
		go_yield(); /* (at a safe point: the cycle running can stop us) */
	cycle(true);
	cycle_unlock();
	_go_gc_sweep_finish();
	_go_gc_finalizers_start();
	return 0;
}

/* ---- tests of the heap alone ------------------------------------------------------------------ */

void _go_gc_collect_begin(struct gc_p *pp, const uintptr_t *roots, size_t n)
{
	cache_flush(pp->cache);
	_go_gc_sweep_finish();
	_go_gc_heap_bounds();
	_go_gc.cycle++;
	store_relaxed(&_go_gc.phase, GC_MARK);
	for (size_t i = 0; i < n; i++)
		_go_gc_shade(&pp->w, roots[i]);
}

void _go_gc_collect_end(struct gc_p *pp)
{
	_go_gc_drain(&pp->w, -1);
	_go_gc_work_dispose(&pp->w);
	store_relaxed(&_go_gc.phase, GC_OFF);
	_go_gc.heap_marked = xchg(&_go_gc.bytes_marked, 0);
	store_relaxed(&_go_gc.heap_live, (int64_t)_go_gc.heap_marked);
	ga_gc_sweep_begin();
	_go_gc_sweep_finish();
	_go_gc.cycles_done++;
}

void _go_gc_collect_roots(struct gc_p *pp, const uintptr_t *roots, size_t n)
{
	_go_gc_collect_begin(pp, roots, n);
	_go_gc_collect_end(pp);
}

/* ---- statistics ------------------------------------------------------------------------------- */

GOCHAN_API int go_gc_read_stats(struct go_gc_stats *st)
{
	struct go_gc_stats s;
	uint32_t size;

	if (!st || st->size < offsetof(struct go_gc_stats, pause_first))
		return -EINVAL;
	size = st->size < sizeof(s) ? st->size : (uint32_t)sizeof(s);
	memset(&s, 0, sizeof(s));
	s.size = size;
	/* A cycle's figures are written by the cycle, under cycle_lock: read them between
	 * cycles (a goroutine waits at a safe point, as go_gc does; another thread yields).
	 * (_go_curg read once: after a go_yield we may be on another thread.) */
	bool in_g = _go_curg != NULL;

	while (!cycle_trylock()) {
		if (in_g)
			go_yield();
		else
			sched_yield();
	}
	s.gc_percent = load_relaxed(&_go_gc.percent);
	s.cycles = load_acquire(&_go_gc.cycles_done);
	s.forced_cycles = _go_gc.forced;
	s.heap_live = (uint64_t)load_relaxed(&_go_gc.heap_live);
	s.heap_marked = _go_gc.heap_marked;
	s.heap_goal = _go_gc.heap_goal;
	s.heap_trigger = _go_gc.heap_trigger;
	s.memory_limit = (uint64_t)load_relaxed(&_go_gc.memory_limit);
	s.total_alloc = load_relaxed(&_go_gc.total_alloc);
	s.total_objects = load_relaxed(&_go_gc.total_objects);
	s.total_freed = atomic_load_explicit(&ga_gc_freed_bytes, memory_order_relaxed);
	s.total_freed_objects = atomic_load_explicit(&ga_gc_freed_objects, memory_order_relaxed);
	s.heap_objects = s.total_objects - s.total_freed_objects;
	s.stacks_bytes = _go_gc.stacks_bytes;
	s.globals_bytes = _go_gc.globals_bytes;
	s.pause_total = _go_gc.pause_total;
	s.pause_max = _go_gc.pause_max;
	s.last_sweep_term_pause = _go_gc.last_pause[0];
	s.last_mark_term_pause = _go_gc.last_pause[1];
	s.last_cycle_ns = _go_gc.last_cycle_ns;
	s.last_end = _go_gc.last_end;
	s.mark_cpu_ns = _go_gc.mark_ns;
	_go_gc_finalizers_stats(&s.finalizers_run, &s.finalizers_queued);
	s.assist_cpu_ns = _go_gc.assist_ns;
	s.pause_first = _go_gc.pause_first;
	s.pause_count = _go_gc.pause_count;
	memcpy(s.pause_ns, _go_gc.pause_ns, sizeof(s.pause_ns));
	memcpy(s.pause_end, _go_gc.pause_end, sizeof(s.pause_end));
	memcpy(s.pause_kind, _go_gc.pause_kind, sizeof(s.pause_kind));
	cycle_unlock();
	memcpy(st, &s, size);
	return 0;
}
