/* SPDX-License-Identifier: MIT */
/*
 * mark.c - grey objects and scanning (Go's mgcmark.go and mgcwork.go): shading, work
 * buffers, scanning an object (precisely through its pointer bits, or conservatively), and
 * draining.
 *
 * Shading a word p: a quick range test against the arenas, the arena map, the span at p's
 * page (collected: gcmarks set), the slot by the span's divmul (internal pointers land on
 * their object in O(1)), one atomic or on the mark bit; the marker that sets it owns the
 * object and pushes it unless it is noscan. Objects are pushed by their start, large objects
 * also by their oblets' starts (the object's start stands for its first oblet).
 *
 * The global list (gc.work) is locked by a spinlock, because a P's signal handler may move
 * the P's buffers there (sched's hog signal, when the interrupted goroutine was not in the
 * runtime: then its thread holds no lock of ours, and the handler cannot deadlock on one).
 * Everything that reads the program's memory is GC_NOSANITIZE (internal.h).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <string.h>

#include "internal.h"

/* ---- the global list ------------------------------------------------------------------------ */

void _go_gc_spin_lock(uint32_t *l)
{
	for (unsigned n = 0; xchg(l, 1); n++) {
		while (load_relaxed(l)) {
			__builtin_ia32_pause();
			if (++n > 1000) {
				sched_yield(); /* the holder may have lost its CPU */
				n = 0;
			}
		}
	}
}

void _go_gc_spin_unlock(uint32_t *l)
{
	store_release(l, 0);
}

#define GC_WBUF_CHUNK 16 /* buffers mapped at once */

static struct gc_wbuf *wbuf_empty(void)
{
	struct gc_workq *q = &_go_gc.work;
	struct gc_wbuf *b;

	_go_gc_spin_lock(&q->lock);
	b = q->empty;
	if (b)
		q->empty = b->next;
	_go_gc_spin_unlock(&q->lock);
	if (!b) {
		char *c = ga_meta_alloc(GC_WBUF_CHUNK * sizeof(struct gc_wbuf));

		if (!c)
			_go_gc_fatal("out of memory for the collector's work buffers");
		b = (struct gc_wbuf *)c;
		_go_gc_spin_lock(&q->lock);
		for (int i = 1; i < GC_WBUF_CHUNK; i++) {
			struct gc_wbuf *e = (struct gc_wbuf *)(c + i * sizeof(struct gc_wbuf));

			e->next = q->empty;
			q->empty = e;
		}
		_go_gc_spin_unlock(&q->lock);
	}
	b->next = NULL;
	b->n = 0;
	return b;
}

static void wbuf_put_empty(struct gc_wbuf *b)
{
	struct gc_workq *q = &_go_gc.work;

	_go_gc_spin_lock(&q->lock);
	b->next = q->empty;
	q->empty = b;
	_go_gc_spin_unlock(&q->lock);
}

static void wbuf_put_full(struct gc_wbuf *b)
{
	struct gc_workq *q = &_go_gc.work;

	_go_gc_spin_lock(&q->lock);
	b->next = q->full;
	q->full = b;
	store_relaxed(&q->nfull, q->nfull + 1);
	_go_gc_spin_unlock(&q->lock);
}

static struct gc_wbuf *wbuf_get_full(void)
{
	struct gc_workq *q = &_go_gc.work;
	struct gc_wbuf *b;

	if (!load_relaxed(&q->nfull))
		return NULL;
	_go_gc_spin_lock(&q->lock);
	b = q->full;
	if (b) {
		q->full = b->next;
		store_relaxed(&q->nfull, q->nfull - 1);
	}
	_go_gc_spin_unlock(&q->lock);
	return b;
}

bool _go_gc_work_available(void)
{
	return load_relaxed(&_go_gc.work.nfull) != 0;
}

/* ---- a marker's buffers ------------------------------------------------------------------------ */

void _go_gc_work_init(struct gc_work *w)
{
	memset(w, 0, sizeof(*w));
}

static __attribute__((noinline)) struct gc_wbuf *work_push_slow(struct gc_work *w)
{
	struct gc_wbuf *b = w->buf;

	if (!b)
		return w->buf = wbuf_empty();
	/* full: swap with the second; if that is full as well, it goes to the global list */
	w->buf = w->buf2;
	w->buf2 = b;
	if (w->buf && w->buf->n < GC_WBUF_OBJS)
		return w->buf;
	if (w->buf)
		wbuf_put_full(w->buf);
	return w->buf = wbuf_empty();
}

static inline void work_push(struct gc_work *w, uintptr_t obj)
{
	struct gc_wbuf *b = w->buf;

	if (gc_unlikely(!b || b->n == GC_WBUF_OBJS))
		b = work_push_slow(w);
	b->obj[b->n++] = obj;
}

static __attribute__((noinline)) bool work_pop_slow(struct gc_work *w, uintptr_t *obj)
{
	struct gc_wbuf *b = w->buf2, *f;

	if (b && b->n) {
		w->buf2 = w->buf;
		w->buf = b;
	} else {
		f = wbuf_get_full();
		if (!f)
			return false;
		if (w->buf)
			wbuf_put_empty(w->buf);
		w->buf = b = f;
	}
	*obj = b->obj[--b->n];
	return true;
}

static inline bool work_pop(struct gc_work *w, uintptr_t *obj)
{
	struct gc_wbuf *b = w->buf;

	if (gc_likely(b && b->n)) {
		*obj = b->obj[--b->n];
		return true;
	}
	return work_pop_slow(w, obj);
}

bool _go_gc_work_empty(const struct gc_work *w)
{
	return (!w->buf || !w->buf->n) && (!w->buf2 || !w->buf2->n);
}

/* Another P's: racy on purpose (a hint; mark termination looks again, the world stopped). */
__attribute__((no_sanitize_thread)) bool _go_gc_work_peek_empty(const struct gc_work *w)
{
	struct gc_wbuf *b = w->buf, *b2 = w->buf2;

	return (!b || !b->n) && (!b2 || !b2->n);
}

/* Count what w marked into the cycle's total. */
static void work_account(struct gc_work *w)
{
	if (w->bytes_marked) {
		fetch_add_relaxed(&_go_gc.bytes_marked, w->bytes_marked);
		w->bytes_marked = 0;
	}
}

void _go_gc_work_flush(struct gc_work *w)
{
	struct gc_wbuf *b[2] = { w->buf, w->buf2 };

	for (int i = 0; i < 2; i++) {
		if (b[i] && b[i]->n) {
			wbuf_put_full(b[i]);
			if (i == 0)
				w->buf = NULL;
			else
				w->buf2 = NULL;
		}
	}
	work_account(w);
}

void _go_gc_work_dispose(struct gc_work *w)
{
	_go_gc_work_flush(w);
	if (w->buf)
		wbuf_put_empty(w->buf);
	if (w->buf2)
		wbuf_put_empty(w->buf2);
	w->buf = w->buf2 = NULL;
}

/* Every full buffer on the global list back to the empty ones, their grey objects dropped
 * (a cycle abandoned at go_run's end). */
void _go_gc_work_discard_all(void)
{
	struct gc_wbuf *b;

	while ((b = wbuf_get_full()) != NULL)
		wbuf_put_empty(b);
}

/* ---- shading -------------------------------------------------------------------------------- */

/* p lies in collected span s: mark its object; push it if it was white and holds pointers. */
static inline void grey_in_span(struct gc_work *w, struct ga_span *s, uintptr_t p)
{
	uint64_t *m = s->gcmarks, bit, *word;
	uintptr_t obj;
	size_t idx, size;
	bool noscan;

	if (s->spc < 2) { /* large (its spc never changes) */
		idx = 0;
		obj = s->base;
		size = (size_t)s->npages * GA_PAGE_SIZE;
		noscan = s->spc & 1;
	} else {
		idx = (size_t)(((uint64_t)(p - s->base) * s->divmul) >> 32);
		if (idx >= s->nelems)
			return; /* the tail past the last slot */
		size = s->elemsize;
		obj = s->base + idx * size;
		noscan = ga_spc_noscan(s->spc);
	}
	if (gc_unlikely(w->verify)) {
		/* the verify mode marks its own check bits (verify.c), and reports a reachable
		 * object the mark bits left white; a free slot a conservative word hit is
		 * nothing to follow */
		if (!_go_gc_verify_reached(w, s, obj, idx))
			return;
	} else {
		bit = 1ull << (idx % 64);
		word = &m[idx / 64];
		if (load_relaxed(word) & bit)
			return;
		if (fetch_or(word, bit) & bit)
			return;
		w->bytes_marked += size;
	}
	if (!noscan)
		work_push(w, obj);
}

static inline void shade(struct gc_work *w, uintptr_t p)
{
	struct ga_span *s;

	if (p - _go_gc.heap_lo >= _go_gc.heap_hi - _go_gc.heap_lo)
		return;
	s = ga_gc_span_of(p);
	if (s)
		grey_in_span(w, s, p);
}

void _go_gc_shade(struct gc_work *w, uintptr_t p)
{
	shade(w, p);
}

GC_NOSANITIZE void _go_gc_scan_range(struct gc_work *w, const void *lo, const void *hi)
{
	const uintptr_t *p = (const uintptr_t *)(((uintptr_t)lo + 7) & ~(uintptr_t)7);
	const uintptr_t *end = (const uintptr_t *)((uintptr_t)hi & ~(uintptr_t)7);

	for (; p < end; p++)
		shade(w, *(const volatile uintptr_t *)p);
	w->scan_work += (uint64_t)((const char *)hi - (const char *)lo);
}

/* ---- scanning an object --------------------------------------------------------------------- */

GC_NOSANITIZE static void scan_words(struct gc_work *w, uintptr_t b, size_t n)
{
	const volatile uintptr_t *p = (const volatile uintptr_t *)b;

	for (size_t i = 0; i < n / 8; i++)
		shade(w, p[i]);
}

/* Small span s with pointer bits: the words of [b, b + n) they flag. */
GC_NOSANITIZE static void scan_ptrbits(struct gc_work *w, struct ga_span *s, uintptr_t b, size_t n)
{
	const uint64_t *bits = load_acquire(&s->ptrbits);
	const volatile uintptr_t *p = (const volatile uintptr_t *)b;
	size_t first = (b - s->base) / 8, nw = n / 8;

	for (size_t i = 0; i < nw;) {
		size_t k = first + i;
		uint64_t m = load_relaxed(&bits[k / 64]) >> (k % 64);
		size_t run = 64 - k % 64;

		if (run > nw - i)
			run = nw - i;
		if (run < 64)
			m &= (1ull << run) - 1;
		for (; m; m &= m - 1)
			shade(w, p[i + (size_t)__builtin_ctzll(m)]);
		i += run;
	}
}

/* An oblet [b, b + n) of a large object of type t starting at base. */
GC_NOSANITIZE static void scan_typed(struct gc_work *w, uintptr_t base, uintptr_t b, size_t n,
				     const struct go_type *t)
{
	size_t pw = t->ptrdata / 8;

	for (uintptr_t a = b; a + 8 <= b + n; a += 8) {
		size_t j = (size_t)((a - base) % t->size) / 8;

		if (j < pw && (!t->ptrmask || (t->ptrmask[j / 64] >> (j % 64) & 1)))
			shade(w, *(const volatile uintptr_t *)a);
	}
}

GC_NOSANITIZE static void scan_object(struct gc_work *w, uintptr_t b)
{
	struct ga_span *s = ga_gc_span_of(b);
	size_t n;

	w->scanning = b;
	if (gc_unlikely(!s))
		_go_gc_fatal("a grey object at %#lx is in no collected span", (unsigned long)b);
	if (gc_unlikely(w->verify))
		w->verify_lax = !_go_gc_verify_marked(s, b);
	if (s->spc < 2) {
		uintptr_t end = s->base + (size_t)s->npages * GA_PAGE_SIZE;
		const struct go_type *t = s->gctype;

		if (b == s->base)
			for (uintptr_t o = b + GC_OBLET_BYTES; o < end; o += GC_OBLET_BYTES)
				work_push(w, o);
		n = end - b < GC_OBLET_BYTES ? end - b : GC_OBLET_BYTES;
		if (t)
			scan_typed(w, s->base, b, n, t);
		else
			scan_words(w, b, n);
	} else {
		n = s->elemsize;
		if (load_acquire(&s->gcbits) & GA_GCB_TYPED)
			scan_ptrbits(w, s, b, n);
		else
			scan_words(w, b, n);
	}
	w->scan_work += n;
}

void _go_gc_scan_object_contents(struct gc_work *w, uintptr_t obj)
{
	struct ga_span *s = ga_gc_span_of(obj);

	if (s && !ga_spc_noscan(s->spc) && !(s->spc < 2 && (s->spc & 1)))
		scan_object(w, obj);
}

/*
 * A popped grey object waits in a small FIFO, prefetched, before it is scanned: grey objects
 * lie anywhere in the heap, in the order of the graph, and reading each is a cache miss that
 * was most of a drain's time (churn of a 16 MB heap of 64-byte objects: half the samples on
 * the load of the object's first word). Boehm's mark loop does the same, as do Jikes RVM's
 * ("Effective prefetch for mark-sweep garbage collection", Garner, Blackburn and Frampton,
 * ISMM 2007). The objects in the FIFO are marked, not yet scanned: they go back to w before
 * the drain returns, and a drain runs in the runtime, so no stop-the-world comes between.
 */
#define GC_PREFETCH_DEPTH 8

int64_t _go_gc_drain(struct gc_work *w, int64_t budget)
{
	uint64_t start = w->scan_work;
	uintptr_t fifo[GC_PREFETCH_DEPTH], b;
	unsigned head = 0, n = 0, k = 0;

	for (;;) {
		while (n < GC_PREFETCH_DEPTH && work_pop(w, &b)) {
			__builtin_prefetch((const void *)b);
			fifo[(head + n++) % GC_PREFETCH_DEPTH] = b;
		}
		if (!n)
			break;
		b = fifo[head];
		head = (head + 1) % GC_PREFETCH_DEPTH;
		n--;
		scan_object(w, b);
		if (budget < 0)
			continue;
		if ((int64_t)(w->scan_work - start) >= budget)
			break;
		/* every 32 objects: a stop-the-world waits for this M's next safe point */
		if ((++k & 31) == 0 && (load_relaxed(&_go_safepoint) & GO_SAFEPOINT_STW))
			break;
	}
	/* the rest back, newest first, so that the next pop takes the oldest as we would have */
	while (n)
		work_push(w, fifo[(head + --n) % GC_PREFETCH_DEPTH]);
	return (int64_t)(w->scan_work - start);
}
