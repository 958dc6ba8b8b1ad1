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

/*
 * Write the low w (1..64) bits of v at bit k of a span's pointer bits. One writer, the
 * span's cache: plain read-modify-writes, atomic for the collector reading them.
 */
static inline void ptrbits_put(uint64_t *bits, size_t k, unsigned w, uint64_t v)
{
	uint64_t *p = &bits[k / 64];
	unsigned sh = k % 64;
	uint64_t m = w == 64 ? ~0ull : (1ull << w) - 1;

	v &= m;
	store_relaxed(p, (load_relaxed(p) & ~(m << sh)) | v << sh);
	if (sh + w > 64)
		store_relaxed(p + 1, (load_relaxed(p + 1) & ~(m >> (64 - sh))) | v >> (64 - sh));
}

/* Bits j..j+63 of the pointer bits of one element of t (0 past its pointer prefix). */
static inline uint64_t type_bits(const struct go_type *t, size_t j)
{
	size_t ptrw = t->ptrdata / 8;
	uint64_t v;

	if (j >= ptrw)
		return 0;
	v = t->ptrmask ? t->ptrmask[j / 64] : ~0ull;
	return ptrw - j < 64 ? v & ((1ull << (ptrw - j)) - 1) : v;
}

/*
 * Object p of small span s (scan class) was just allocated: t NULL (conservative) or n
 * elements of t. A span gets pointer bits at its first typed object (all 1 first: its
 * other objects stay conservative); from then on every object allocated in it writes its
 * own, a word of bits at a time: a slot of at most 64 words with one element (or none: a
 * conservative object) in one or two read-modify-writes; else the elements' bits (an
 * element of at most 32 words repeated across a word of bits), then the slot's tail.
 * Bits are written before p is returned, so before anyone can scan p through a pointer the
 * program stores (x86 keeps stores in order; the compiler cannot move them past the return
 * to the caller, who stores p).
 */
static void ptrbits_write(struct ga_span *s, uintptr_t p, const struct go_type *t, size_t n)
{
	size_t k, nw, elemw, done = 0;
	uint64_t *bits;

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
	k = (p - s->base) / 8;
	nw = s->elemsize / 8;
	if (gc_likely(nw <= 64 && (!t || n == 1))) {
		/* a slot of at most 64 words holding one element or a conservative object: its
		 * bits in one go, the tail's 0s with them */
		ptrbits_put(bits, k, (unsigned)nw, t ? type_bits(t, 0) : ~0ull);
		return;
	}
	if (!t) {
		n = 0; /* conservative: every word may be a pointer */
		elemw = 1;
	} else {
		elemw = t->size / 8; /* (a scan type's size is a multiple of 8) */
	}
	if (n && elemw <= 32) {
		unsigned per = 64 / (unsigned)elemw;
		uint64_t one = type_bits(t, 0), pat = one;

		for (unsigned r = 1; r < per && r < n; r++)
			pat |= one << (r * elemw);
		for (size_t e = 0; e < n; e += per) {
			size_t cnt = n - e < per ? n - e : per;

			ptrbits_put(bits, k + e * elemw, (unsigned)(cnt * elemw), pat);
		}
		done = n * elemw;
	} else if (n) {
		for (size_t e = 0; e < n; e++)
			for (size_t j = 0; j < elemw; j += 64) {
				unsigned w = elemw - j < 64 ? (unsigned)(elemw - j) : 64;

				ptrbits_put(bits, k + e * elemw + j, w, type_bits(t, j));
			}
		done = n * elemw;
	}
	/* the rest of the slot: 0 past the elements, 1 for a conservative object */
	for (; done < nw; done += 64) {
		unsigned w = nw - done < 64 ? (unsigned)(nw - done) : 64;

		ptrbits_put(bits, k + done, w, t ? 0 : ~0ull);
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

/* The current span of spc has no free slot: its next ones, or a new span, whose free slots
 * are counted now, once. */
static __attribute__((noinline)) struct ga_span *refill(struct gc_p *pp, unsigned spc)
{
	size_t nfree;
	struct ga_span *s = ga_gc_cache_refill(pp->cache, spc, &nfree);
	int64_t live;

	if (!s || !nfree)
		return s;
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
