/* SPDX-License-Identifier: MIT */
/*
 * alloc.c - allocating collected objects (Go's mallocgc): from the P's cache, zeroed,
 * black while the collector marks, their pointer bits written when they are typed, and
 * counted for the pacer.
 *
 * Counting: heap_live grows by a whole span's free bytes when a cache takes the span (as
 * Go's mcache.refill does), not per object: the fast path counts nothing. A cache flushed
 * at mark termination gives back what it had not used. The trigger is looked at there too
 * (pp->want_cycle: the caller tells the controller).
 */
#include <string.h>

#include "internal.h"

/* The bit of word k of small span s's pointer bits. */
static inline void ptrbit_set(uint64_t *bits, size_t k, bool on)
{
	uint64_t *w = &bits[k / 64], v = load_relaxed(w);
	uint64_t m = 1ull << (k % 64);

	/* one writer, the span's cache: a plain read-modify-write, atomic for the readers */
	store_relaxed(w, on ? v | m : v & ~m);
}

/* Whether word j of an element of t holds a pointer. */
static inline bool type_ptr(const struct go_type *t, size_t j)
{
	return j < t->ptrdata / 8 && (!t->ptrmask || (t->ptrmask[j / 64] >> (j % 64) & 1));
}

/*
 * Object p of small span s (scan class) was just allocated: t NULL (conservative) or n
 * elements of t. A span gets pointer bits at its first typed object (all 1 first: its
 * other objects stay conservative); from then on every object allocated in it writes its
 * own. Bits are written before p is returned, so before anyone can scan p through a pointer
 * the program stores (x86 keeps stores in order; the compiler cannot move them past the
 * return to the caller, who stores p).
 */
static void ptrbits_write(struct ga_span *s, uintptr_t p, const struct go_type *t, size_t n)
{
	uint64_t *bits;
	size_t k0, nw;

	if (!(s->gcbits & GA_GCB_TYPED)) {
		if (!t)
			return;
		bits = ga_gc_bits_alloc(ga_gc_ptr_words(s));
		if (!bits)
			return; /* scanned conservatively then: still correct */
		memset(bits, 0xff, ga_gc_ptr_words(s) * 8);
		store_release(&s->ptrbits, bits);
		store_release(&s->gcbits, s->gcbits | GA_GCB_TYPED);
	}
	bits = s->ptrbits;
	k0 = (p - s->base) / 8;
	nw = s->elemsize / 8;
	for (size_t i = 0; i < nw; i++) {
		bool ptr = true;

		if (t) {
			size_t off = i * 8, e = off / t->size;

			ptr = e < n && type_ptr(t, (off % t->size) / 8);
		}
		ptrbit_set(bits, k0 + i, ptr);
	}
}

static inline void mark_black(struct gc_p *pp, struct ga_span *s, uintptr_t p)
{
	size_t idx = s->spc < 2 ? 0 : (size_t)(((uint64_t)(p - s->base) * s->divmul) >> 32);

	fetch_or(&s->gcmarks[idx / 64], 1ull << (idx % 64));
	pp->w.bytes_marked += s->spc < 2 ? (size_t)s->npages * GA_PAGE_SIZE : s->elemsize;
}

static __attribute__((noinline)) void *alloc_large(struct gc_p *pp, size_t size, bool noscan,
						   const struct go_type *t)
{
	struct ga_span *s = ga_gc_alloc_large(size, noscan, t);
	size_t bytes;

	if (!s)
		return NULL;
	bytes = (size_t)s->npages * GA_PAGE_SIZE;
	if ((uint64_t)(fetch_add_relaxed(&_go_gc.heap_live, (int64_t)bytes) + (int64_t)bytes) >=
	    load_relaxed(&_go_gc.heap_trigger))
		pp->want_cycle = true;
	fetch_add_relaxed(&_go_gc.total_alloc, bytes);
	fetch_add_relaxed(&_go_gc.total_objects, 1);
	if (load_relaxed(&_go_gc.phase) != GC_OFF)
		mark_black(pp, s, s->base);
	return (void *)s->base;
}

/* The current span of spc has no free slot: a new one, counted. */
static __attribute__((noinline)) struct ga_span *refill(struct gc_p *pp, unsigned spc)
{
	struct ga_span *s = ga_gc_cache_refill(pp->cache, spc);
	size_t nfree;
	int64_t live;

	if (!s)
		return NULL;
	nfree = (size_t)(s->nelems - ga_span_used(s));
	live = fetch_add_relaxed(&_go_gc.heap_live, (int64_t)(nfree * s->elemsize)) +
	       (int64_t)(nfree * s->elemsize);
	fetch_add_relaxed(&_go_gc.total_alloc, nfree * s->elemsize);
	fetch_add_relaxed(&_go_gc.total_objects, nfree);
	if ((uint64_t)live >= load_relaxed(&_go_gc.heap_trigger))
		pp->want_cycle = true;
	return s;
}

void *_go_gc_alloc(struct gc_p *pp, size_t size, unsigned flags, const struct go_type *t,
		   size_t n)
{
	bool noscan = t ? t->ptrdata == 0 : (flags & GO_NEW_NOSCAN);
	struct ga_span *s;
	unsigned cls, spc;
	void *p;

	if (gc_unlikely(size > GA_MAX_SMALL_SIZE))
		return alloc_large(pp, size, noscan, t);
	cls = ga_size_to_class(size);
	if (noscan && cls < GA_TINY_CLASS)
		cls = GA_TINY_CLASS; /* (no tiny objects: each has a mark bit of its own) */
	spc = ga_spc_gc(cls, noscan);
	s = pp->cache->alloc[spc];
	p = ga_gc_alloc_fast(s);
	if (gc_unlikely(!p)) {
		s = refill(pp, spc);
		if (!s)
			return NULL;
		p = ga_gc_alloc_fast(s);
	}
	if (s->gcbits & GA_GCB_NEEDZERO)
		memset(p, 0, s->elemsize);
	if (!noscan && gc_unlikely(t || (s->gcbits & GA_GCB_TYPED)))
		ptrbits_write(s, (uintptr_t)p, t, n);
	if (gc_unlikely(load_relaxed(&_go_gc.phase) != GC_OFF))
		mark_black(pp, s, (uintptr_t)p);
	return p;
}
