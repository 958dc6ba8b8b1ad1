/* SPDX-License-Identifier: MIT */
/*
 * collected.c - collected spans: the part of the heap whose objects the garbage collector
 * (lib/gc) frees. Go's mcentral and the span half of mgcsweep.go: allocation bits instead of
 * a free list, the lists of swept and unswept spans, sweeping one span, bitmaps.
 * The invariants are at "collected.c" in internal.h.
 *
 * Why bits and not a free list: a sweep then only swaps two bitmaps (a word per 64 slots)
 * and never touches the memory of the objects it frees, which stays cold until an
 * allocation zeroes it; a free list would be written through every dead slot first.
 */
#include "internal.h"

struct ga_gc_central ga_gc_central[GA_NUM_SPC] = {
	[0 ... GA_NUM_SPC - 1] = { .lock = PTHREAD_MUTEX_INITIALIZER },
};
struct ga_gc_large ga_gc_large = { .lock = PTHREAD_MUTEX_INITIALIZER };
uint32_t ga_gc_sweepgen = 2;
_Atomic uint64_t ga_gc_nspans, ga_gc_nunswept;
_Atomic uint64_t ga_gc_freed_objects, ga_gc_freed_bytes;
bool ga_gc_poison;
void (*ga_gc_finalizer_hook)(struct ga_span *s);

#define GA_GC_POISON 0xdb

/* ---- bitmaps: metadata memory, in power-of-two numbers of words ---------------------------- */

#define GA_GC_BITS_ORDERS 9 /* up to 256 words: the pointer bits of a 16-page span */
#define GA_GC_BITS_CHUNK (64 * 1024)

static struct {
	pthread_mutex_t lock;
	uint64_t *free[GA_GC_BITS_ORDERS]; /* linked through their first word */
	char *chunk, *end;
} ga_gc_bits = { .lock = PTHREAD_MUTEX_INITIALIZER };

static unsigned ga_gc_bits_order(size_t nwords)
{
	unsigned k = 0;

	while (((size_t)1 << k) < nwords)
		k++;
	return k;
}

uint64_t *ga_gc_bits_alloc(size_t nwords)
{
	unsigned k = ga_gc_bits_order(nwords);
	size_t bytes = (size_t)8 << k;
	uint64_t *b;

	if (k >= GA_GC_BITS_ORDERS)
		return NULL;
	pthread_mutex_lock(&ga_gc_bits.lock);
	b = ga_gc_bits.free[k];
	if (b) {
		ga_gc_bits.free[k] = *(uint64_t **)b;
	} else {
		if (ga_gc_bits.end - ga_gc_bits.chunk < (ptrdiff_t)bytes) {
			char *c = ga_meta_alloc(GA_GC_BITS_CHUNK);

			if (!c) {
				pthread_mutex_unlock(&ga_gc_bits.lock);
				return NULL;
			}
			ga_gc_bits.chunk = c; /* (the old chunk's tail is lost: under 2 KiB) */
			ga_gc_bits.end = c + GA_GC_BITS_CHUNK;
		}
		b = (uint64_t *)ga_gc_bits.chunk;
		ga_gc_bits.chunk += bytes;
	}
	pthread_mutex_unlock(&ga_gc_bits.lock);
	memset(b, 0, bytes);
	return b;
}

void ga_gc_bits_free(uint64_t *b, size_t nwords)
{
	unsigned k = ga_gc_bits_order(nwords);

	if (!b)
		return;
	pthread_mutex_lock(&ga_gc_bits.lock);
	*(uint64_t **)b = ga_gc_bits.free[k];
	ga_gc_bits.free[k] = b;
	pthread_mutex_unlock(&ga_gc_bits.lock);
}

/* The bits past the last slot of s's allocation bits: 1, never free. */
static void ga_gc_bits_tail(const struct ga_span *s, uint64_t *bits)
{
	unsigned n = s->nelems;

	if (n % 64)
		bits[n / 64] |= ~0ull << (n % 64);
}

/* ---- making and freeing collected spans ------------------------------------------------------ */

static struct ga_span *ga_gc_span_new(unsigned spc)
{
	struct ga_span *s = ga_heap_alloc_span(spc);
	uint64_t *ab, *gm;
	size_t nw;

	if (!s)
		return NULL;
	nw = ga_gc_mark_words(s);
	ab = ga_gc_bits_alloc(nw);
	gm = ga_gc_bits_alloc(nw);
	if (!ab || !gm) {
		ga_gc_bits_free(ab, nw);
		ga_gc_bits_free(gm, nw);
		ga_heap_free_span(s);
		return NULL;
	}
	ga_gc_bits_tail(s, ab);
	s->allocbits = ab;
	s->freeindex = 0;
	s->acache = 0;
	s->gcbits = s->needzero ? GA_GCB_NEEDZERO : 0;
	s->gcflags = GA_GCF_COLLECTED;
	s->sweepgen = __atomic_load_n(&ga_gc_sweepgen, __ATOMIC_RELAXED);
	atomic_fetch_add_explicit(&ga_gc_nspans, 1, memory_order_relaxed);
	/* last: from here on a lookup takes s for a collected span */
	__atomic_store_n(&s->gcmarks, gm, __ATOMIC_RELEASE);
	return s;
}

/* s (small or large, off every list and ours) goes back to the heap. */
static void ga_gc_span_free(struct ga_span *s)
{
	uint64_t *gm = s->gcmarks;

	__atomic_store_n(&s->gcmarks, NULL, __ATOMIC_RELEASE);
	atomic_fetch_sub_explicit(&ga_gc_nspans, 1, memory_order_relaxed);
	if (s->state == GA_SPAN_LARGE) {
		ga_gc_bits_free(gm, 1);
		s->gctype = NULL;
	} else {
		ga_gc_bits_free(gm, ga_gc_mark_words(s));
		ga_gc_bits_free(s->allocbits, ga_gc_mark_words(s));
		s->allocbits = NULL; /* (the tiny allocator's tinyref: NULL for the heap) */
		if (s->gcbits & GA_GCB_TYPED)
			ga_gc_bits_free(s->ptrbits, ga_gc_ptr_words(s));
		s->ptrbits = NULL;
		s->acache = 0;
		s->freeindex = 0;
		s->gcbits = 0;
		s->ucount = (uint32_t)-1;
		s->state = GA_SPAN_CACHE; /* what the heap expects of a small span */
	}
	__atomic_store_n(&s->towner, NULL, __ATOMIC_RELAXED);
	s->gcflags = 0;
	s->specials = NULL;
	s->nfinal = 0;
	ga_heap_free_span(s);
}

/* ---- allocation ------------------------------------------------------------------------------ */

bool ga_gc_next_free(struct ga_span *s)
{
	uint32_t i = s->freeindex, n = s->nelems;

	while (i < n) {
		uint64_t w = ~s->allocbits[i / 64] >> (i % 64);

		if (w) {
			s->freeindex = (uint16_t)i;
			s->acache = w;
			return true;
		}
		i = (i / 64 + 1) * 64;
	}
	s->freeindex = (uint16_t)n;
	s->acache = 0;
	return false;
}

static void ga_gc_list_put_locked(struct ga_gc_central *ct, struct ga_span *s, uint32_t sg)
{
	bool full = ga_span_used(s) >= s->nelems;

	s->state = full ? GA_SPAN_FULL : GA_SPAN_PARTIAL;
	__atomic_store_n(&s->towner, NULL, __ATOMIC_RELAXED);
	ga_list_push(full ? &ct->full[GA_GC_SWEPT(sg)] : &ct->partial[GA_GC_SWEPT(sg)], s);
}

/*
 * Sweep small span s (SWEEPING, ours): its objects left unmarked are freed, the marked ones
 * are what is allocated now. Then it goes back to the heap if nothing in it is allocated;
 * else, when keep and it has a free slot, it stays the caller's (true); else to its list.
 */
static bool ga_gc_sweep_small(struct ga_span *s, bool keep)
{
	uint32_t n = s->nelems, live = 0, freed = 0, fi = s->freeindex;
	size_t nw = ga_gc_mark_words(s);
	uint64_t *ab = s->allocbits, *gm = s->gcmarks;
	uint32_t sg = __atomic_load_n(&ga_gc_sweepgen, __ATOMIC_RELAXED);

	if (s->nfinal && ga_gc_finalizer_hook)
		ga_gc_finalizer_hook(s);
	for (size_t w = 0; w < nw; w++) {
		/* allocated before: allocation bit, or taken since (below freeindex) */
		uint64_t below = fi >= (w + 1) * 64 ? ~0ull
				 : fi > w * 64	    ? (1ull << (fi - w * 64)) - 1
						    : 0;
		uint64_t was = ab[w] | below, dead = was & ~gm[w];

		if (w == nw - 1 && n % 64)
			dead &= ~(~0ull << (n % 64)); /* the tail bits were never slots */
		live += (uint32_t)__builtin_popcountll(gm[w]);
		freed += (uint32_t)__builtin_popcountll(dead);
		if (ga_unlikely(ga_gc_poison))
			for (uint64_t d = dead; d; d &= d - 1)
				memset((char *)s->base +
					       (w * 64 + (size_t)__builtin_ctzll(d)) * s->elemsize,
				       GA_GC_POISON, s->elemsize);
	}
	/* allocbits := gcmarks; the old allocation bits, cleared, are the next marks */
	memset(ab, 0, nw * 8);
	ga_gc_bits_tail(s, gm);
	s->allocbits = gm;
	__atomic_store_n(&s->gcmarks, ab, __ATOMIC_RELAXED);
	s->freeindex = 0;
	s->acache = 0;
	s->gcbits |= GA_GCB_NEEDZERO;
	s->ucount = live - 1;
	s->sweepgen = sg;
	atomic_fetch_add_explicit(&ga_gc_freed_objects, freed, memory_order_relaxed);
	atomic_fetch_add_explicit(&ga_gc_freed_bytes, (uint64_t)freed * s->elemsize,
				  memory_order_relaxed);
	atomic_fetch_sub_explicit(&ga_gc_nunswept, 1, memory_order_relaxed);
	if (live == 0) {
		ga_gc_span_free(s);
		return false;
	}
	if (keep && live < n)
		return true;
	struct ga_gc_central *ct = &ga_gc_central[s->spc - GA_SPC_GC0];

	pthread_mutex_lock(&ct->lock);
	ga_gc_list_put_locked(ct, s, sg);
	pthread_mutex_unlock(&ct->lock);
	return false;
}

/* Sweep large span s (off its list, ours): free it, or keep it (marked) for another cycle. */
static void ga_gc_sweep_large(struct ga_span *s)
{
	uint32_t sg = __atomic_load_n(&ga_gc_sweepgen, __ATOMIC_RELAXED);
	size_t bytes = (size_t)s->npages * GA_PAGE_SIZE;

	if (s->nfinal && ga_gc_finalizer_hook)
		ga_gc_finalizer_hook(s);
	atomic_fetch_sub_explicit(&ga_gc_nunswept, 1, memory_order_relaxed);
	if (!(s->gcmarks[0] & 1)) {
		atomic_fetch_add_explicit(&ga_gc_freed_objects, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&ga_gc_freed_bytes, bytes, memory_order_relaxed);
		if (ga_unlikely(ga_gc_poison))
			memset((void *)s->base, GA_GC_POISON, bytes);
		ga_gc_span_free(s);
		return;
	}
	s->gcmarks[0] = 0;
	s->sweepgen = sg;
	pthread_mutex_lock(&ga_gc_large.lock);
	ga_list_push(&ga_gc_large.spans[GA_GC_SWEPT(sg)], s);
	pthread_mutex_unlock(&ga_gc_large.lock);
}

/* A swept span of class i with a free slot, from central (sweeping unswept ones on the
 * way, as Go's mcentral.cacheSpan: at most 100 of them), or NULL. Its state is then CACHE. */
static struct ga_span *ga_gc_central_take(unsigned i)
{
	struct ga_gc_central *ct = &ga_gc_central[i];
	uint32_t sg = __atomic_load_n(&ga_gc_sweepgen, __ATOMIC_RELAXED);
	struct ga_span *s;

	pthread_mutex_lock(&ct->lock);
	s = ga_list_pop(&ct->partial[GA_GC_SWEPT(sg)]);
	if (s)
		s->state = GA_SPAN_CACHE;
	pthread_mutex_unlock(&ct->lock);
	if (s)
		return s;
	for (int tries = 0; tries < 100; tries++) {
		pthread_mutex_lock(&ct->lock);
		s = ga_list_pop(&ct->partial[GA_GC_UNSWEPT(sg)]);
		if (!s)
			s = ga_list_pop(&ct->full[GA_GC_UNSWEPT(sg)]);
		if (s)
			s->state = GA_SPAN_SWEEPING;
		pthread_mutex_unlock(&ct->lock);
		if (!s)
			return NULL;
		if (ga_gc_sweep_small(s, true)) {
			s->state = GA_SPAN_CACHE;
			return s;
		}
	}
	return NULL;
}

struct ga_span *ga_gc_cache_refill(struct ga_cache *c, unsigned spc, size_t *taken)
{
	unsigned i = spc - GA_SPC_GC0;
	struct ga_span *s = c->alloc[spc];

	*taken = 0;
	if (s != &ga_span_empty) {
		struct ga_gc_central *ct = &ga_gc_central[i];

		if (ga_gc_next_free(s))
			return s; /* its next free slots: counted when it was taken */
		c->alloc[spc] = &ga_span_empty;
		c->gc_current[i / 64] &= ~(1ull << (i % 64));
		pthread_mutex_lock(&ct->lock);
		ga_gc_list_put_locked(ct, s, __atomic_load_n(&ga_gc_sweepgen, __ATOMIC_RELAXED));
		pthread_mutex_unlock(&ct->lock);
	}
	s = ga_gc_central_take(i);
	if (!s)
		s = ga_gc_span_new(spc);
	if (!s)
		return NULL;
	__atomic_store_n(&s->towner, c, __ATOMIC_RELAXED);
	ga_gc_next_free(s);
	*taken = (size_t)(s->nelems - ga_span_used(s));
	c->alloc[spc] = s;
	c->gc_current[i / 64] |= 1ull << (i % 64);
	return s;
}

size_t ga_gc_cache_flush(struct ga_cache *c, size_t *objects)
{
	uint32_t sg = __atomic_load_n(&ga_gc_sweepgen, __ATOMIC_RELAXED);
	size_t bytes = 0, n = 0;

	for (unsigned w = 0; w < sizeof(c->gc_current) / 8; w++) {
		for (uint64_t m = c->gc_current[w]; m; m &= m - 1) {
			unsigned i = w * 64 + (unsigned)__builtin_ctzll(m);
			struct ga_gc_central *ct = &ga_gc_central[i];
			struct ga_span *s = c->alloc[GA_SPC_GC0 + i];

			n += (size_t)(s->nelems - ga_span_used(s));
			bytes += (size_t)(s->nelems - ga_span_used(s)) * s->elemsize;
			c->alloc[GA_SPC_GC0 + i] = &ga_span_empty;
			s->acache = 0; /* (recomputed from freeindex by its next holder) */
			pthread_mutex_lock(&ct->lock);
			ga_gc_list_put_locked(ct, s, sg);
			pthread_mutex_unlock(&ct->lock);
		}
		c->gc_current[w] = 0;
	}
	if (objects)
		*objects = n;
	return bytes;
}

struct ga_span *ga_gc_alloc_large(size_t n, bool noscan, const struct go_type *t)
{
	struct ga_span *s = ga_heap_alloc_large(n, GA_PAGE_SIZE,
						 GALLOC_ZERO | (noscan ? GALLOC_NOSCAN : 0));
	uint32_t sg = __atomic_load_n(&ga_gc_sweepgen, __ATOMIC_RELAXED);
	uint64_t *gm;

	if (!s)
		return NULL;
	gm = ga_gc_bits_alloc(1);
	if (!gm) {
		ga_heap_free_span(s);
		return NULL;
	}
	s->gctype = noscan ? NULL : t;
	s->gcflags = GA_GCF_COLLECTED;
	s->sweepgen = sg;
	pthread_mutex_lock(&ga_gc_large.lock);
	ga_list_push(&ga_gc_large.spans[GA_GC_SWEPT(sg)], s);
	pthread_mutex_unlock(&ga_gc_large.lock);
	atomic_fetch_add_explicit(&ga_gc_nspans, 1, memory_order_relaxed);
	__atomic_store_n(&s->gcmarks, gm, __ATOMIC_RELEASE);
	return s;
}

/* ---- sweeping ------------------------------------------------------------------------------ */

/* Next class (GA_NUM_SPC: the large objects) whose unswept sets may not be empty yet. They
 * only shrink until the next ga_gc_sweep_begin, so the cursor only moves on. */
static _Atomic unsigned ga_gc_sweep_cursor;

void ga_gc_sweep_begin(void)
{
	uint32_t sg = __atomic_load_n(&ga_gc_sweepgen, __ATOMIC_RELAXED) + 2;

	atomic_store_explicit(&ga_gc_nunswept,
			      atomic_load_explicit(&ga_gc_nspans, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&ga_gc_sweep_cursor, 0, memory_order_relaxed);
	__atomic_store_n(&ga_gc_sweepgen, sg, __ATOMIC_RELEASE);
}

bool ga_gc_sweep_one(void)
{
	uint32_t sg = __atomic_load_n(&ga_gc_sweepgen, __ATOMIC_ACQUIRE);
	unsigned i = atomic_load_explicit(&ga_gc_sweep_cursor, memory_order_relaxed);
	struct ga_span *s = NULL;

	for (; i < GA_NUM_SPC; i++) {
		struct ga_gc_central *ct = &ga_gc_central[i];

		pthread_mutex_lock(&ct->lock);
		s = ga_list_pop(&ct->partial[GA_GC_UNSWEPT(sg)]);
		if (!s)
			s = ga_list_pop(&ct->full[GA_GC_UNSWEPT(sg)]);
		if (s)
			s->state = GA_SPAN_SWEEPING;
		pthread_mutex_unlock(&ct->lock);
		if (s) {
			ga_gc_sweep_small(s, false);
			return true;
		}
		/* empty for good: move the cursor past it (unless another sweeper did) */
		unsigned cur = i;
		atomic_compare_exchange_strong_explicit(&ga_gc_sweep_cursor, &cur, i + 1,
							memory_order_relaxed, memory_order_relaxed);
	}
	pthread_mutex_lock(&ga_gc_large.lock);
	s = ga_list_pop(&ga_gc_large.spans[GA_GC_UNSWEPT(sg)]);
	pthread_mutex_unlock(&ga_gc_large.lock);
	if (s) {
		ga_gc_sweep_large(s);
		return true;
	}
	return false;
}
