/* SPDX-License-Identifier: MIT */
/*
 * heap.c - the page heap (Go's mheap): spans of pages from the arenas, large objects, span
 * structs, the scavenger.
 *
 * Counters (heap lock), kept equal to what galloc_check recounts from the arenas:
 *   free_pages  == sum over arenas of nfree
 *   scav_pages  == sum over arenas of nscav  (free pages released to the OS)
 *   inuse_pages == pages of in-use spans (huge objects included)
 *   stash_pages == pages of the spans on stash[] (state STASHED)
 * Scavenger (after Go's: retain about 1/8 over what the program recently needed):
 *   peak  = the largest inuse_pages seen; reset to inuse_pages when it is older than
 *           GA_SCAV_WINDOW_NS (so a program that allocates and frees in rounds keeps its
 *           pages, and one that freed for good gives them back a window later);
 *   keep  = max(GA_SCAV_MIN_PAGES, peak + peak / 8 - inuse_pages) free resident pages;
 * on every heap operation, when free resident pages (free_pages - scav_pages) exceed
 * keep + keep / 4, the highest-addressed ones are released (madvise) until keep remain.
 * Between heap operations, cache refills call ga_scavenge_tick(), which looks at the clock
 * only when pages are being kept for an old peak. galloc_scavenge() releases at once.
 * Released pages read as zero, so a span made only of released pages needs no zeroing.
 *
 * The stash: a small span freed to the heap keeps its pages, its struct and its page -> span
 * entries (state STASHED, in-use bit clear, alloc bits still set), on stash[npages], so that
 * the next small span of as many pages skips the page allocator: a thread that frees what it
 * allocated and allocates again would otherwise pay a bitmap update, a summary, a struct and
 * the page map twice per 8 KiB span. Stashed pages count in stash_pages, not in free_pages
 * (which stays what the bitmaps say) nor in inuse_pages; for the scavenger they are free
 * and dirty. Whenever pages are to be released (the scavenger, galloc_scavenge) or no arena
 * has room for a span, the stash is emptied into the bitmaps first (ga_stash_flush_locked),
 * so it never holds memory the heap needs or the scavenger's target would give back.
 */
#include "internal.h"

#include <errno.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <time.h>

#define GA_SCAV_MIN_PAGES 128 /* 1 MiB */
#define GA_SCAV_WINDOW_NS 1000000000ull

/* pages are kept for a peak older than this (CLOCK_MONOTONIC_COARSE ns); 0: none kept */
static _Atomic uint64_t ga_scav_deadline;

struct ga_heap ga_heap = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- metadata: span structs and tiny reference arrays, never returned to the OS ---------- */

void *ga_meta_alloc(size_t n)
{
	void *p;

	n = (n + GA_PAGE_SIZE - 1) & ~(GA_PAGE_SIZE - 1);
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	__atomic_fetch_add(&ga_heap.meta_bytes, n, __ATOMIC_RELAXED);
	return p;
}

/* A span struct as a new span starts it (in_unfull is 0 in a dead or stashed span: see the
 * notification invariant at xfree, internal.h). */
static void ga_span_struct_reset(struct ga_span *s)
{
	s->free = NULL;
	s->ucount = -1; /* used 0 */
	s->kept = 0;
	s->needzero = 0;
	atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
	atomic_store_explicit(&s->xfree, 0, memory_order_relaxed);
	s->towner = NULL;
	s->carved = 0;
	s->next = s->prev = NULL;
	/* (a collected span's bitmaps were given back before it came here: collected.c) */
	s->gcflags = 0;
	s->nfinal = 0;
	s->unfull_next = NULL;
	s->ptrbits = NULL;
	__atomic_store_n(&s->gcmarks, NULL, __ATOMIC_RELAXED);
}

static struct ga_span *ga_span_struct_new(void)
{
	struct ga_span *s = ga_heap.span_free;

	if (s) {
		ga_heap.span_free = s->next;
	} else {
		if (ga_heap.span_chunk + sizeof(*s) > ga_heap.span_chunk_end) {
			size_t n = 64 * 1024;
			ga_heap.span_chunk = ga_meta_alloc(n);
			if (!ga_heap.span_chunk)
				return NULL;
			ga_heap.span_chunk_end = ga_heap.span_chunk + n;
		}
		s = (struct ga_span *)ga_heap.span_chunk;
		ga_heap.span_chunk += sizeof(*s);
	}
	ga_span_struct_reset(s);
	return s;
}

static _Atomic uint8_t *ga_tinyref_free;

static _Atomic uint8_t *ga_tinyref_new(void)
{
	_Atomic uint8_t *r = ga_tinyref_free;
	size_t n = GA_PAGE_SIZE / GA_TINY_SIZE;

	if (r) {
		ga_tinyref_free = *(_Atomic uint8_t **)r;
	} else {
		static char *chunk, *end;
		if (chunk + n > end) {
			chunk = ga_meta_alloc(64 * 1024);
			if (!chunk)
				return NULL;
			end = chunk + 64 * 1024;
		}
		r = (_Atomic uint8_t *)chunk;
		chunk += n;
	}
	memset((void *)r, 0, n);
	return r;
}

static void ga_tinyref_release(struct ga_span *s)
{
	if (s->tinyref) {
		*(_Atomic uint8_t **)s->tinyref = ga_tinyref_free;
		ga_tinyref_free = s->tinyref;
		s->tinyref = NULL;
	}
}

static void ga_span_struct_free(struct ga_span *s)
{
	ga_tinyref_release(s);
	s->state = GA_SPAN_DEAD;
	s->next = ga_heap.span_free;
	ga_heap.span_free = s;
}

/* ---- pages ------------------------------------------------------------------------------- */

static uint64_t ga_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}


/* Make s cover pages [i, i+n) of a: the page -> span table, the in-use bit. */
static void ga_span_map(struct ga_arena *a, struct ga_span *s, size_t i, size_t n)
{
	s->base = a->base + i * GA_PAGE_SIZE;
	s->npages = (uint32_t)n;
	/* (release: the collector looks pages up without the heap lock, lib/gc) */
	for (size_t k = 0; k < n; k++)
		__atomic_store_n(&a->spans[i + k], s, __ATOMIC_RELEASE);
	a->inuse[i / 64] |= 1ull << (i % 64);
}

/* Take pages [i, i+n) of a; returns whether any was dirty (not released). */
static bool ga_pages_take(struct ga_arena *a, size_t i, size_t n)
{
	size_t scav = a->nscav ? ga_pages_count(a->scav, i, n) : 0;

	ga_pages_set(a, i, n, true);
	if (scav)
		ga_bits_set(a->scav, i, n, false);
	a->nscav -= (uint32_t)scav;
	ga_heap.scav_pages -= scav;
	ga_heap.free_pages -= n;
	ga_heap.inuse_pages += n;
	return scav != n;
}

static bool ga_stash_flush_locked(void);

static void ga_peak_update_locked(void)
{
	if (ga_heap.inuse_pages > ga_heap.peak_pages) {
		ga_heap.peak_pages = ga_heap.inuse_pages;
		ga_heap.peak_time = ga_now_ns();
	}
}

/* A span of npages pages starting on a multiple of align_pages. Heap lock held. */
static struct ga_span *ga_span_alloc_locked(size_t npages, size_t align_pages)
{
	size_t want = npages + align_pages - 1;
	struct ga_arena *a = NULL;
	long i = -1;
	struct ga_span *s;

retry:
	for (size_t k = 0; k < ga_heap.narenas; k++) {
		a = ga_heap.arenas[k];
		if (a->maxfree >= want && (i = ga_pages_find(a, want)) >= 0)
			break;
	}
	if (i < 0 && ga_stash_flush_locked())
		goto retry; /* the stash's pages first, then a new arena */
	if (i < 0) {
		a = ga_arena_new();
		if (!a || (i = ga_pages_find(a, want)) < 0)
			return NULL;
	}
	i = (long)(((size_t)i + align_pages - 1) / align_pages * align_pages);
	s = ga_span_struct_new();
	if (!s)
		return NULL;
	s->needzero = ga_pages_take(a, (size_t)i, npages);
	ga_span_map(a, s, (size_t)i, npages);
	ga_peak_update_locked();
	return s;
}

size_t ga_scavenge_locked(uint64_t keep)
{
	size_t released = 0;

	for (size_t k = ga_heap.narenas; k-- > 0;) {
		struct ga_arena *a = ga_heap.arenas[k];

		if (a->nfree == a->nscav)
			continue;
		for (size_t w = GA_ARENA_WORDS; w-- > 0;) {
			uint64_t cand = ~a->alloc[w] & ~a->scav[w];

			while (cand) {
				if (ga_heap.free_pages - ga_heap.scav_pages <= keep)
					return released;
				/* the highest run of candidate pages in this word */
				unsigned hi = 63 - (unsigned)__builtin_clzll(cand);
				uint64_t below = ~cand & ((hi == 63 ? ~0ull : (1ull << (hi + 1)) - 1));
				unsigned lo = below ? 64 - (unsigned)__builtin_clzll(below) : 0;
				size_t n = hi - lo + 1, i = w * 64 + lo;
				uint64_t m = (n == 64 ? ~0ull : ((1ull << n) - 1)) << lo;

				ga_os_decommit((void *)(a->base + i * GA_PAGE_SIZE), n * GA_PAGE_SIZE);
				a->scav[w] |= m;
				a->nscav += (uint32_t)n;
				ga_heap.scav_pages += n;
				ga_heap.scavenged_total += n * GA_PAGE_SIZE;
				released += n * GA_PAGE_SIZE;
				cand &= ~m;
			}
		}
	}
	return released;
}

static void ga_scavenge_maybe_locked(void)
{
	uint64_t now = ga_now_ns(), keep, base, dirty;

	if (ga_heap.inuse_pages >= ga_heap.peak_pages ||
	    now - ga_heap.peak_time > GA_SCAV_WINDOW_NS) {
		ga_heap.peak_pages = ga_heap.inuse_pages;
		ga_heap.peak_time = now;
	}
	base = ga_heap.inuse_pages / 8 > GA_SCAV_MIN_PAGES ? ga_heap.inuse_pages / 8
							    : GA_SCAV_MIN_PAGES;
	keep = ga_heap.peak_pages + ga_heap.peak_pages / 8 - ga_heap.inuse_pages;
	if (keep < GA_SCAV_MIN_PAGES)
		keep = GA_SCAV_MIN_PAGES;
	if (ga_heap.free_pages + ga_heap.stash_pages - ga_heap.scav_pages > keep + keep / 4) {
		ga_stash_flush_locked();
		ga_scavenge_locked(keep);
	}
	dirty = ga_heap.free_pages + ga_heap.stash_pages - ga_heap.scav_pages;
	atomic_store_explicit(&ga_scav_deadline,
			      dirty > base + base / 4 ? ga_heap.peak_time + GA_SCAV_WINDOW_NS : 0,
			      memory_order_relaxed);
}

void ga_scavenge_tick(void)
{
	uint64_t d = atomic_load_explicit(&ga_scav_deadline, memory_order_relaxed);

	if (ga_likely(!d) || ga_now_ns() < d)
		return;
	ga_lock(&ga_heap.lock);
	ga_scavenge_maybe_locked();
	ga_unlock(&ga_heap.lock);
}

/* Give back pages [i, i+n) of a (no span covers them any more). */
static void ga_pages_release_locked(struct ga_arena *a, size_t i, size_t n)
{
	for (size_t k = 0; k < n; k++)
		a->spans[i + k] = NULL;
	ga_pages_set(a, i, n, false);
	ga_heap.free_pages += n;
	ga_heap.inuse_pages -= n;
}

/* Empty the stash into the bitmaps. Returns whether it held any span. */
static bool ga_stash_flush_locked(void)
{
	bool any = false;

	for (size_t n = 1; n <= GA_STASH_MAX_PAGES; n++) {
		struct ga_span *s;

		while ((s = ga_heap.stash[n])) {
			struct ga_arena *a = (struct ga_arena *)(s->base & ~GA_ARENA_MASK);

			ga_heap.stash[n] = s->next;
			ga_heap.stash_pages -= n;
			ga_heap.inuse_pages += n; /* ga_pages_release_locked takes them off */
			ga_pages_release_locked(a, (s->base - a->base) / GA_PAGE_SIZE, n);
			ga_span_struct_free(s);
			any = true;
		}
	}
	return any;
}

/* ---- spans ------------------------------------------------------------------------------- */

void ga_span_init_small(struct ga_span *s, unsigned spc)
{
	unsigned cls = ga_spc_class(spc);

	s->spc = (uint16_t)spc;
	s->elemsize = ga_class_size[cls];
	s->nelems = (uint16_t)(s->npages * GA_PAGE_SIZE / s->elemsize);
	/* ceil(2^32 / size): exact for every offset inside a span (checked by the tests) */
	s->divmul = (uint32_t)((((uint64_t)1 << 32) + s->elemsize - 1) / s->elemsize);
}

/* spans_by_class[spc] += d: written under the heap lock, read without it (galloc_stats), so
 * a plain load and store suffice (a locked add would wait for every store before it) */
static void ga_heap_count_span(unsigned spc, int d)
{
	uint64_t *v = &ga_heap.spans_by_class[spc];

	__atomic_store_n(v, __atomic_load_n(v, __ATOMIC_RELAXED) + (uint64_t)d, __ATOMIC_RELAXED);
}

struct ga_span *ga_heap_alloc_span(unsigned spc)
{
	unsigned cls = ga_spc_class(spc);
	struct ga_span *s;
	_Atomic uint8_t *ref = NULL;

	ga_init();
	ga_lock(&ga_heap.lock);
	if (spc == GA_SPC_TINY && !(ref = ga_tinyref_new())) {
		ga_unlock(&ga_heap.lock);
		return NULL;
	}
	s = ga_heap.stash[ga_class_npages[cls]];
	if (s) {
		struct ga_arena *a = (struct ga_arena *)(s->base & ~GA_ARENA_MASK);
		size_t i = (s->base - a->base) / GA_PAGE_SIZE;

		ga_heap.stash[s->npages] = s->next;
		if (s->next) {
			/* the stash is a LIFO of structs gone cold since their spans emptied: fetch
			 * the next one now, while this span is being filled, not at its pop */
			__builtin_prefetch(s->next, 1);
			__builtin_prefetch((char *)s->next + 64, 1);
		}
		ga_heap.stash_pages -= s->npages;
		ga_heap.inuse_pages += s->npages;
		ga_span_struct_reset(s);
		s->needzero = 1;
		a->inuse[i / 64] |= 1ull << (i % 64);
		ga_peak_update_locked();
	} else {
		s = ga_span_alloc_locked(ga_class_npages[cls], 1);
	}
	if (s) {
		ga_span_init_small(s, spc);
		s->tinyref = ref;
		s->state = GA_SPAN_CACHE;
		ga_heap_count_span(spc, 1);
	} else if (ref) {
		*(_Atomic uint8_t **)ref = ga_tinyref_free;
		ga_tinyref_free = ref;
	}
	ga_unlock(&ga_heap.lock);
	return s;
}

struct ga_span *ga_heap_alloc_large(size_t n, size_t align, unsigned flags)
{
	size_t npages, apages;
	struct ga_span *s = NULL;

	ga_init();
	if (n > SIZE_MAX - GA_ARENA_SIZE)
		return NULL;
	npages = (n + GA_PAGE_SIZE - 1) / GA_PAGE_SIZE;
	if (npages == 0)
		npages = 1;
	apages = align > GA_PAGE_SIZE ? align / GA_PAGE_SIZE : 1;
	ga_lock(&ga_heap.lock);
	if (npages + apages - 1 <= GA_ARENA_USABLE_PAGES) {
		s = ga_span_alloc_locked(npages, apages);
	} else {
		struct ga_arena *a = ga_arena_new_huge(npages, align);
		if (a && (npages != (uint32_t)npages || !(s = ga_span_struct_new()))) {
			ga_arena_free_huge(a); /* more than 32 TiB: refused rather than truncated */
		} else if (a) {
			if (a->huge_page < GA_ARENA_PAGES) {
				ga_span_map(a, s, a->huge_page, 1);
			} else { /* beyond the first slot: found through the map */
				s->base = a->base + (uintptr_t)a->huge_page * GA_PAGE_SIZE;
			}
			s->npages = (uint32_t)npages;
			a->huge_span = s;
			ga_heap.inuse_pages += npages;
			ga_heap.huge_pages += npages;
		}
	}
	if (s) {
		s->state = GA_SPAN_LARGE;
		s->spc = (uint16_t)(flags & GALLOC_NOSCAN);
		s->nelems = 1;
		s->ucount = 0; /* used 1 */
		s->elemsize = 0; /* see npages */
		ga_heap.large_bytes += (size_t)s->npages * GA_PAGE_SIZE;
		ga_heap.large_objects++;
		ga_heap.large_nalloc++;
	}
	ga_unlock(&ga_heap.lock);
	if (s && (flags & GALLOC_ZERO) && s->needzero)
		memset((void *)s->base, 0, (size_t)s->npages * GA_PAGE_SIZE);
	return s;
}

/* Free a span: small (no owner any more, every slot free) or large. Heap lock held. */
static void ga_heap_free_span_locked(struct ga_span *s)
{
	struct ga_arena *a = ga_arena_of((void *)s->base); /* (a huge object may be past slot 0) */
	size_t i = (s->base - a->base) / GA_PAGE_SIZE, n = s->npages;

	GA_DEBUG_ASSERT(s->state == GA_SPAN_LARGE ||
				(!atomic_load(&s->in_unfull) && !atomic_load(&s->xfree)),
			"small span back to the heap while a notification is on its way");
	if (s->state == GA_SPAN_LARGE) {
		ga_heap.large_bytes -= n * GA_PAGE_SIZE;
		ga_heap.large_objects--;
		ga_heap.large_nfree++;
	} else {
		ga_heap_count_span(s->spc, -1);
	}
	if (a->huge_page) {
		if (i < GA_ARENA_PAGES) {
			a->inuse[i / 64] &= ~(1ull << (i % 64));
			a->spans[i] = NULL;
		}
		a->huge_span = NULL;
		ga_heap.inuse_pages -= n;
		ga_heap.huge_pages -= n;
		ga_span_struct_free(s);
		ga_arena_free_huge(a);
	} else if (s->state != GA_SPAN_LARGE && n <= GA_STASH_MAX_PAGES) {
		/* small: to the stash (n <= GA_STASH_MAX_PAGES), pages and page map as they are */
		a->inuse[i / 64] &= ~(1ull << (i % 64));
		ga_tinyref_release(s);
		s->state = GA_SPAN_STASHED;
		s->next = ga_heap.stash[n];
		ga_heap.stash[n] = s;
		ga_heap.stash_pages += n;
		ga_heap.inuse_pages -= n;
	} else {
		a->inuse[i / 64] &= ~(1ull << (i % 64));
		ga_pages_release_locked(a, i, n);
		ga_span_struct_free(s);
	}
}

void ga_heap_free_span(struct ga_span *s)
{
	ga_lock(&ga_heap.lock);
	ga_heap_free_span_locked(s);
	ga_scavenge_maybe_locked();
	ga_unlock(&ga_heap.lock);
}

void ga_heap_free_spans(struct ga_span **v, size_t n)
{
	if (!n)
		return;
	ga_lock(&ga_heap.lock);
	for (size_t i = 0; i < n; i++)
		ga_heap_free_span_locked(v[i]);
	ga_scavenge_maybe_locked();
	ga_unlock(&ga_heap.lock);
}

/* Resize large span s in place to hold n bytes: shrink, or grow into the free pages after it. */
bool ga_heap_resize_large(struct ga_span *s, size_t n)
{
	struct ga_arena *a = ga_arena_of((void *)s->base); /* (a huge object may be past slot 0) */
	size_t i = (s->base - a->base) / GA_PAGE_SIZE, old = s->npages, want;
	bool ok = false;

	if (n > (size_t)GA_ARENA_USABLE_PAGES * GA_PAGE_SIZE || a->huge_page)
		return false;
	want = (n + GA_PAGE_SIZE - 1) / GA_PAGE_SIZE;
	if (want == 0)
		want = 1;
	ga_lock(&ga_heap.lock);
	if (want == old) {
		ok = true;
	} else if (want < old) {
		ga_pages_release_locked(a, i + want, old - want);
		s->npages = (uint32_t)want;
		ga_heap.large_bytes -= (old - want) * GA_PAGE_SIZE;
		ga_scavenge_maybe_locked();
		ok = true;
	} else if (i + want <= GA_ARENA_PAGES &&
		   ga_pages_count(a->alloc, i + old, want - old) == 0) {
		ga_pages_take(a, i + old, want - old);
		for (size_t k = old; k < want; k++)
			a->spans[i + k] = s;
		s->npages = (uint32_t)want;
		ga_heap.large_bytes += (want - old) * GA_PAGE_SIZE;
		ok = true;
	}
	ga_unlock(&ga_heap.lock);
	return ok;
}

GA_EXPORT void galloc_tick(void)
{
	ga_scavenge_tick();
}

static void *ga_scavenger_main(void *arg)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	for (;;) {
		nanosleep(&ts, NULL);
		ga_scavenge_tick();
	}
	return arg;
}

/* GOCHAN_ALLOC_SCAVENGER=thread: a background scavenger (called once, after init). */
void ga_scavenger_start(void)
{
	const char *e = getenv("GOCHAN_ALLOC_SCAVENGER");
	pthread_attr_t at;
	pthread_t t;

	if (!e || strcmp(e, "thread"))
		return;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_create(&t, &at, ga_scavenger_main, NULL);
	pthread_attr_destroy(&at);
}

GA_EXPORT size_t galloc_scavenge(size_t keep)
{
	struct ga_cache *c = ga_tls_cache;
	size_t r;

	if (c != &ga_cache_empty)
		ga_cache_release_flush(c); /* what this thread freed counts */

	ga_lock(&ga_heap.lock);
	ga_stash_flush_locked();
	r = ga_scavenge_locked(keep / GA_PAGE_SIZE);
	ga_unlock(&ga_heap.lock);
	return r;
}
