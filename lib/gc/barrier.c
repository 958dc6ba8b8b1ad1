/* SPDX-License-Identifier: MIT */
/*
 * barrier.c - the write barrier (Go's mbarrier.go and mwbbuf.go, without the buffer).
 *
 * go_wb (<gochan/gc.h>) reads the old value, stores, tests go_wb_enabled_ and, while the
 * collector marks, calls go_wb_slow_(old, ptr): Go's hybrid barrier,
 *	shade(*slot); shade(ptr); *slot = ptr
 * with the shades after the store (gc.h says why).
 * Yuasa's deletion half (the old value) keeps an object the store unlinks from being lost
 * while a stack that still reaches it is unscanned or was scanned already; Dijkstra's
 * insertion half (the new value) keeps a scanned (black) object from pointing at a white
 * one that only an unscanned stack held. With both, a stack needs scanning only once.
 *
 * Shades go to the P's grey objects (its struct gc_work), in the runtime (in_runtime), as
 * allocation does; a goroutine without a P (a hog whose P was taken) shades into a work of
 * its own, flushed at once. A thread that is not a goroutine must not store collected
 * pointers while the collector marks (gc.h): it aborts here.
 *
 * GO_GC_BROKEN_BARRIER: a test build whose barrier does nothing but the store, which the
 * verify mode must catch (selftests/gc).
 */
#include <string.h>

#include "internal.h"

GOCHAN_API uint32_t go_wb_enabled_;

#ifndef GO_GC_BROKEN_BARRIER
/* Shade the words of [p, p + n) into w (their aligned words; pointers or not). */
static void shade_words(struct gc_work *w, const void *p, size_t n)
{
	const uintptr_t *a = (const uintptr_t *)(((uintptr_t)p + 7) & ~(uintptr_t)7);
	const uintptr_t *end = (const uintptr_t *)(((uintptr_t)p + n) & ~(uintptr_t)7);

	for (; a < end; a++)
		_go_gc_shade(w, load_relaxed(a));
}
#endif

/*
 * Run fn(w, a, b, n) with the calling goroutine's grey objects, in the runtime without a safe
 * point on the way in (in_runtime > 0: the hog signal leaves the M alone, and a stop-the-world
 * waits for the safe point on the way out): the phase cannot change from the check to the
 * shade, so a mark bit is never set after mark termination (it would be taken for the next
 * cycle's), and no value handed here is dropped by a pause in between. Its P's work when the
 * P is still this M's; else a work of its own, flushed to the global list at once.
 */
static void with_work(void (*fn)(struct gc_work *w, const void *a, const void *b, size_t n),
		      const void *a, const void *b, size_t n, const char *call)
{
	struct go_g *g = _go_curg;
	struct go_m *m;
	struct go_p *p;

	if (gc_unlikely(!g))
		_go_gc_fatal("%s from a thread that is not a goroutine while the collector marks",
			     call);
	m = g->m;
	m->in_runtime++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	p = m->p;
	if (load_relaxed(&_go_gc.phase) == GC_MARK) {
		if (p && load_acquire(&p->status) == (m->ptag | Ps_RUNNING) &&
		    m->gen == load_relaxed(&_go_sched.gen)) {
			fn(&_go_gc_p(p)->w, a, b, n);
		} else {
			struct gc_work w;

			_go_gc_work_init(&w);
			fn(&w, a, b, n);
			_go_gc_work_dispose(&w);
		}
	}
	_go_rt_exit(m);
}

#ifndef GO_GC_BROKEN_BARRIER
static void shade_pair(struct gc_work *w, const void *old, const void *ptr, size_t n)
{
	(void)n;
	_go_gc_shade(w, (uintptr_t)old);
	_go_gc_shade(w, (uintptr_t)ptr);
}

static void shade_move(struct gc_work *w, const void *dst, const void *src, size_t n)
{
	shade_words(w, dst, n);
	if (src)
		shade_words(w, src, n);
}
#else
static void shade_pair(struct gc_work *w, const void *old, const void *ptr, size_t n)
{
	(void)w, (void)old, (void)ptr, (void)n;
}

static void shade_move(struct gc_work *w, const void *dst, const void *src, size_t n)
{
	(void)w, (void)dst, (void)src, (void)n;
}
#endif

GOCHAN_API void go_wb_slow_(void *old, void *ptr)
{
	with_work(shade_pair, old, ptr, 8, "go_wb");
}

/* Bulk copies: the flag read, the shades and the copy all in the runtime, so that a pause
 * cannot come between them (with_work's reasoning). */
static void move_words(struct gc_work *w, const void *dst, const void *src, size_t n)
{
	shade_move(w, dst, src, n);
}

GOCHAN_API void *go_wb_memmove(void *dst, const void *src, size_t n)
{
	struct go_g *g = _go_curg;

	if (!g) {
		if (gc_unlikely(load_relaxed(&go_wb_enabled_)))
			_go_gc_fatal("go_wb_memmove from a thread that is not a goroutine while "
				     "the collector marks");
		return memmove(dst, src, n);
	}
	g->m->in_runtime++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (gc_unlikely(load_relaxed(&go_wb_enabled_)))
		with_work(move_words, dst, src, n, "go_wb_memmove");
	memmove(dst, src, n);
	_go_rt_exit(g->m);
	return dst;
}

GOCHAN_API void *go_wb_memclr(void *dst, size_t n)
{
	struct go_g *g = _go_curg;

	if (!g) {
		if (gc_unlikely(load_relaxed(&go_wb_enabled_)))
			_go_gc_fatal("go_wb_memclr from a thread that is not a goroutine while "
				     "the collector marks");
		return memset(dst, 0, n);
	}
	g->m->in_runtime++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (gc_unlikely(load_relaxed(&go_wb_enabled_)))
		with_work(move_words, dst, NULL, n, "go_wb_memclr");
	memset(dst, 0, n);
	_go_rt_exit(g->m);
	return dst;
}
