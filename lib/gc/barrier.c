/* SPDX-License-Identifier: MIT */
/*
 * barrier.c - the write barrier (Go's mbarrier.go and mwbbuf.go, without the buffer).
 *
 * go_wb (<gochan/gc.h>) tests go_wb_enabled_ and, while the collector marks, calls
 * go_wb_slow_ before its store: Go's hybrid barrier,
 *	shade(*slot); shade(ptr); *slot = ptr
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
		_go_gc_shade(w, __atomic_load_n(a, __ATOMIC_RELAXED));
}
#endif

/* Run fn(w, a, b, n) with the calling goroutine's grey objects. */
static void with_work(void (*fn)(struct gc_work *w, const void *a, const void *b, size_t n),
		      const void *a, const void *b, size_t n, const char *call)
{
	struct go_g *g = _go_curg;
	struct go_m *m;

	if (gc_unlikely(!g))
		_go_gc_fatal("%s from a thread that is not a goroutine while the collector marks",
			     call);
	m = g->m;
	/* entering may wait out a stop-the-world, mark termination's: shade only while the
	 * collector marks (a mark bit set after it would survive into the next cycle) */
	if (_go_rt_enter_noswitch(m)) {
		if (__atomic_load_n(&_go_gc.phase, __ATOMIC_RELAXED) == GC_MARK)
			fn(&_go_gc_p(m->p)->w, a, b, n);
	} else if (__atomic_load_n(&_go_gc.phase, __ATOMIC_RELAXED) == GC_MARK) {
		struct gc_work w;

		_go_gc_work_init(&w);
		fn(&w, a, b, n);
		_go_gc_work_dispose(&w);
	}
	_go_rt_exit(m);
}

#ifndef GO_GC_BROKEN_BARRIER
static void shade_pair(struct gc_work *w, const void *slot, const void *ptr, size_t n)
{
	(void)n;
	_go_gc_shade(w, __atomic_load_n((const uintptr_t *)slot, __ATOMIC_RELAXED));
	_go_gc_shade(w, (uintptr_t)ptr);
}

static void shade_move(struct gc_work *w, const void *dst, const void *src, size_t n)
{
	shade_words(w, dst, n);
	if (src)
		shade_words(w, src, n);
}
#else
static void shade_pair(struct gc_work *w, const void *slot, const void *ptr, size_t n)
{
	(void)w, (void)slot, (void)ptr, (void)n;
}

static void shade_move(struct gc_work *w, const void *dst, const void *src, size_t n)
{
	(void)w, (void)dst, (void)src, (void)n;
}
#endif

GOCHAN_API void go_wb_slow_(void **slot, void *ptr)
{
	if (__atomic_load_n(&_go_gc.phase, __ATOMIC_RELAXED) != GC_MARK)
		return; /* (the flag was read just before marking ended) */
	with_work(shade_pair, slot, ptr, 8, "go_wb");
}

GOCHAN_API void *go_wb_memmove(void *dst, const void *src, size_t n)
{
	if (gc_unlikely(__atomic_load_n(&go_wb_enabled_, __ATOMIC_RELAXED)) &&
	    __atomic_load_n(&_go_gc.phase, __ATOMIC_RELAXED) == GC_MARK)
		with_work(shade_move, dst, src, n, "go_wb_memmove");
	return memmove(dst, src, n);
}

GOCHAN_API void *go_wb_memclr(void *dst, size_t n)
{
	if (gc_unlikely(__atomic_load_n(&go_wb_enabled_, __ATOMIC_RELAXED)) &&
	    __atomic_load_n(&_go_gc.phase, __ATOMIC_RELAXED) == GC_MARK)
		with_work(shade_move, dst, NULL, n, "go_wb_memclr");
	return memset(dst, 0, n);
}
