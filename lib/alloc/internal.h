/* SPDX-License-Identifier: MIT */
/*
 * lib/alloc internals, grouped by the file that defines them.
 *
 * Glossary (Go's names in brackets):
 *   page    8 KiB, the unit of the page heap.
 *   arena   64 MiB reserved with mmap, aligned to 64 MiB; its first GA_ARENA_META_PAGES pages
 *           hold struct ga_arena (bitmaps, summaries, the page -> span table). [heapArena]
 *   span    a run of pages: either small (objects of one span class) or large (one object).
 *           [mspan]
 *   spc     span class = size class << 1 | noscan; GA_SPC_TINY is the tiny allocator's;
 *           collected span classes (lib/gc's objects) follow: GA_SPC_GC0 + (class << 1 |
 *           noscan). malloc's classes keep their numbers, so its arrays stay as compact.
 *   cache   per-P / per-thread: the current span of each span class plus the spans it owns.
 *           [mcache]
 *   central per span class: spans nobody owns, with free objects (partial) or not (full).
 *           [mcentral]
 *   heap    the arenas, the page allocator, the scavenger, the span structs. [mheap]
 *
 *   collected span   a span of objects the garbage collector frees (lib/gc, go_new): no
 *           free list, no remote frees; allocation bits and mark bits instead (collected.c).
 *
 * Lock order: ga_caches_lock -> central[spc].lock (one at a time) -> ga_heap.lock;
 *             ga_gc_central[i].lock (one at a time) -> ga_gc_large.lock -> ga_heap.lock;
 *             ga_gc_bits.lock is a leaf.
 * The fast paths take no lock.
 */
#ifndef GA_INTERNAL_H
#define GA_INTERNAL_H

#include <gochan/alloc.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ga_likely(x) __builtin_expect(!!(x), 1)
#define ga_unlikely(x) __builtin_expect(!!(x), 0)
#define ga_noinline __attribute__((noinline))
#define ga_cold __attribute__((cold, noinline))
#ifndef GA_EXPORT
#define GA_EXPORT __attribute__((visibility("default")))
#endif

#define GA_PAGE_SHIFT 13
#define GA_PAGE_SIZE ((size_t)1 << GA_PAGE_SHIFT)
#define GA_ARENA_SHIFT 26
#define GA_ARENA_SIZE ((size_t)1 << GA_ARENA_SHIFT)
#define GA_ARENA_MASK (GA_ARENA_SIZE - 1)
#define GA_ARENA_PAGES (GA_ARENA_SIZE / GA_PAGE_SIZE) /* 8192 */
#define GA_ARENA_WORDS (GA_ARENA_PAGES / 64)          /* 128 bitmap words */
#define GA_ADDR_BITS 48
#define GA_ARENA_MAP_LEN ((size_t)1 << (GA_ADDR_BITS - GA_ARENA_SHIFT))
#define GA_MAX_ARENAS 16384 /* 1 TiB of heap */

#define GA_NUM_CLASSES 68
#define GA_SMALL_SIZE_MAX 1024
#define GA_MAX_SMALL_SIZE 32768
#define GA_NUM_SPC (GA_NUM_CLASSES * 2)
#define GA_SPC_TINY GA_NUM_SPC /* 16-byte noscan blocks shared by tiny objects */
#define GA_SPC_GC0 (GA_SPC_TINY + 1) /* the first collected span class (class 0: unused) */
#define GA_NUM_SPC_ALL (GA_SPC_GC0 + GA_NUM_SPC)
#define GA_TINY_SIZE 16
#define GA_TINY_CLASS 2 /* the 16-byte class */
#define GA_KEEP_PAGES 256 /* 2 MiB of empty spans kept per cache */
#define GA_RELEASE_BATCH 16 /* empty spans a cache gives back to the heap at once */
#define GA_STASH_MAX_PAGES 10 /* the longest small span (ga_class_npages) */

/* ---- sizeclass.c ------------------------------------------------------------------------ */
extern const uint16_t ga_class_size[GA_NUM_CLASSES];
extern const uint8_t ga_class_npages[GA_NUM_CLASSES];
extern const uint8_t ga_size_class8[GA_SMALL_SIZE_MAX / 8 + 1];
extern const uint8_t ga_size_class16[GA_SMALL_SIZE_MAX / 16 + 1];
extern const uint8_t ga_size_class128[(GA_MAX_SMALL_SIZE - GA_SMALL_SIZE_MAX) / 128 + 1];

/* n <= GA_MAX_SMALL_SIZE; n == 0 gives the 8-byte class. */
static inline unsigned ga_size_to_class(size_t n)
{
	if (ga_likely(n <= GA_SMALL_SIZE_MAX))
		return ga_size_class8[(n + 7) >> 3];
	return ga_size_class128[(n - GA_SMALL_SIZE_MAX + 127) >> 7];
}
/* malloc's class: the same, but its slots aligned to 16 = alignof(max_align_t) (glibc's
 * promise, which compilers rely on): never the 8- or 24-byte class. n == 0 gives 16 bytes. */
static inline unsigned ga_size_to_class16(size_t n)
{
	if (ga_likely(n <= GA_SMALL_SIZE_MAX))
		return ga_size_class16[(n + 15) >> 4];
	return ga_size_class128[(n - GA_SMALL_SIZE_MAX + 127) >> 7]; /* all multiples of 16 */
}
static inline bool ga_spc_collected(unsigned spc)
{
	return spc >= GA_SPC_GC0;
}
static inline unsigned ga_spc_class(unsigned spc)
{
	if (spc >= GA_SPC_GC0)
		return (spc - GA_SPC_GC0) >> 1;
	return spc == GA_SPC_TINY ? GA_TINY_CLASS : spc >> 1;
}
static inline bool ga_spc_noscan(unsigned spc)
{
	if (spc >= GA_SPC_GC0)
		return (spc - GA_SPC_GC0) & 1;
	return spc == GA_SPC_TINY || (spc & 1);
}

/* ---- span (heap.c creates and destroys them; cache.c / central.c / free.c move them) ----- */
struct go_type; /* <gochan/gc.h> */
struct ga_block {
	struct ga_block *next;
};

enum ga_span_state {
	GA_SPAN_DEAD = 0,   /* struct on the heap's free list */
	GA_SPAN_CACHE,      /* small, owned by a cache (current, in its partial or full list) */
	GA_SPAN_PARTIAL,    /* small, in central's partial list (has free objects) */
	GA_SPAN_FULL,       /* small, in central's full list */
	GA_SPAN_LARGE,      /* one large object */
	GA_SPAN_STASHED,    /* small, freed to the heap, pages and struct kept for reuse (heap.c) */
	GA_SPAN_UNSWEPT,    /* collected, small: on its class's unswept list (collected.c) */
	GA_SPAN_SWEEPING,   /* collected, small: taken off a list by its sweeper */
};

/*
 * xfree: the remote free list, the only field other threads write (lock-free push).
 * Layout: bits 0-47 the head block (8-byte aligned: bits 0 and 1 carry the notification
 * state below), bits 48-63 the number of blocks in the list.
 * Notification state, one of (never both bits):
 *   0                nobody needs telling: the holder looks at xfree by itself.
 *   GA_XF_NOTIFY     armed, while the list is empty, by whoever holds the span when it has no
 *                    free objects that anyone would otherwise look at: the owning cache when
 *                    the span goes full, central when the span enters its lists. The first
 *                    remote free consumes it in its CAS, setting GA_XF_NOTIFYING instead.
 *   GA_XF_NOTIFYING  that remote free is on its way to tell the holder (free.c
 *                    ga_free_notify), under central[spc].lock; it clears the bit there, once
 *                    the span is queued on the owning cache's unfull stack or dealt with in
 *                    central. Pushes and collections keep the bit; nobody arms NOTIFY over it.
 * The owning cache disarms lazily: a span that leaves its full list on a local free stays
 * armed until the next remote free (whose notification is then needless, and
 * ga_cache_drain_unfull disarms it) or until it is parked again (already armed).
 *
 * Notification invariant (mimalloc's "delayed freeing" state; where mimalloc's owner waits
 * for the notifier, ours defers):
 *   GA_XF_NOTIFYING or in_unfull  =>  the span is not given back to the heap
 * A cache whose emptied span is notifying keeps it in its partial list (ga_cache_span_emptied),
 * and one whose exhausted span is notifying parks it unarmed (ga_span_park_full): the notifier
 * queues the span on the cache's unfull stack, and the drain looks at it again (queuing it
 * once more if it finds it still notifying). Central, which holds the lock the notifier waits
 * for, leaves such a span in its lists for the notifier to finish. So a notifier always finds
 * its span alive, of its class, held by a cache (CACHE) or central (PARTIAL/FULL): no stale
 * notification reaches a span that went back to the heap or was reused, and a span in a
 * cache's release batch (on its way to the heap) is never queued.
 */
#define GA_XF_NOTIFY ((uintptr_t)1)
#define GA_XF_NOTIFYING ((uintptr_t)2)
#define GA_XF_FLAGS (GA_XF_NOTIFY | GA_XF_NOTIFYING)
#define GA_XF_CNT_SHIFT 48
#define GA_XF_PTR_MASK ((((uintptr_t)1 << GA_XF_CNT_SHIFT) - 1) & ~GA_XF_FLAGS)
#define ga_xf_ptr(w) ((struct ga_block *)((w) & GA_XF_PTR_MASK))
#define ga_xf_cnt(w) ((uint32_t)((w) >> GA_XF_CNT_SHIFT))

/*
 * Span invariant (small spans; owner-side fields read by the owner only), as mimalloc's:
 *     ga_span_used(s) + |free| == carved,   |xfree| <= ga_span_used(s),   carved <= nelems
 * used: the slots handed out and not freed locally (remote frees still count until
 * collected). Stored as ucount = used - 1, less GA_USED_FULL while the span is in its cache's
 * full list with NOTIFY armed (then used >= 1); read it with ga_span_used / ga_span_full. As a
 * signed number ucount is negative exactly when the span is empty (-1) or full (at most -2 after
 * a free, never wrapping: used < GA_USED_FULL), so the free fast path needs one sign test
 * after its decrement for both "empty now" and "freed into a full span" (ga_free). The alloc
 * fast path increments it; a current span is never full.
 * carved: slots ever threaded onto the free list (the rest, after base + carved * elemsize, are
 * untouched: lazy free-list building, fresh pages stay unfaulted).
 * used == 0 means every carved slot is free: no one can push to xfree.
 * Who may touch free/used/carved/kept/next/prev: the owning cache (state CACHE), or whoever
 * holds central[spc].lock (state PARTIAL/FULL). owner and state change only under that lock,
 * except when a cache takes a fresh span from the heap (no one else knows it yet).
 * Span structs are never unmapped (type-stable), so a late reader of a recycled struct reads
 * garbage but never faults; everything it acts on is rechecked under a lock.
 * Large spans: state LARGE, nelems 1, owner NULL; freed under the heap lock.
 */
struct ga_span {
	/* line 0: everything a local free touches (its check that p is a slot included), and
	 * everything the owner then reads when that free fills or empties the span (list
	 * links, kept, in_unfull), so that freeing into a span reads one line of it and the
	 * list moves that follow only write other spans' lines. owner, spc, elemsize, nelems,
	 * divmul, base, npages are set when the span is made, then read by every thread (the
	 * free path's owner test, lookups); state changes only under central's lock; free,
	 * ucount, carved, kept, next, prev are the holder's (owner cache, or central under its
	 * lock). A remote free only reads this line (owner, spc, the slot check); what it
	 * writes is in line 1, but for in_unfull, set once per notification.
	 * Collected spans (collected.c) read three of these fields their own way, named apart:
	 * acache for free, freeindex for carved, gcbits for kept; and their owner stays NULL
	 * (towner is their cache), so that no free takes the local fast path into them */
	_Atomic(struct ga_cache *) owner; /* the cache whose fast path frees here (NULL for tiny
					   * and collected spans) */
	union {
		struct ga_block *free;
		uint64_t acache; /* collected: free slots from freeindex on, bit 0 = freeindex
				  * (the complement of allocbits there; Go's allocCache) */
	};
	uint32_t ucount;  /* used - 1 [- GA_USED_FULL]: see above */
	union {
		uint16_t carved;
		uint16_t freeindex; /* collected: no free slot below it (Go's freeindex) */
	};
	uint16_t nelems;  /* <= 1024 (the 8-byte class) */
	uint16_t elemsize; /* <= 32768 (GA_MAX_SMALL_SIZE); 0 for large spans */
	uint16_t spc;     /* < GA_NUM_SPC_ALL (more than a byte holds, with collected classes) */
	uint32_t divmul;  /* slot index = ((addr - base) * divmul) >> 32, exact in the span */
	uint8_t state;
	union {
		uint8_t kept;   /* owner's: empty, kept in the partial list (in kept_pages) */
		uint8_t gcbits; /* collected: GA_GCB_* (the allocation path's flags) */
	};
	_Atomic uint8_t in_unfull; /* on a cache's unfull stack (set by the notifier, under
				    * central's lock; cleared by the cache's drain) */
	uint8_t pad0;
	uint32_t npages;
	uintptr_t base;
	struct ga_span *next; /* cache partial/full list, central list, heap free list */
	struct ga_span *prev;
	/* line 1: what other threads write (xfree, unfull_next), apart from line 0, which the
	 * holder writes on every allocation and local free; and fields read off the fast paths */
	_Alignas(64) _Atomic uintptr_t xfree;
	struct ga_cache *towner;          /* owner of a tiny or collected span (owner stays NULL) */
	union {
		_Atomic uint8_t *tinyref; /* tiny spans: objects alive in each block, +1 if current */
		uint64_t *allocbits;      /* collected, small: 1 = allocated when last swept */
	};
	union {
		struct ga_span *unfull_next;
		void *specials;           /* collected: its objects' finalizers (lib/gc) */
	};
	uint8_t needzero; /* pages were reused dirty (large: the object; small: carved slots) */
	uint8_t gcflags;  /* GA_GCF_*: set once, when the span is made collected */
	uint16_t gcpad;
	uint32_t nfinal;  /* collected: finalizers set on its objects (lib/gc, under its lock) */
	uint32_t sweepgen; /* collected: ga_gc_sweepgen when last swept (or made) */
	/* collected: one mark bit per slot (large: one), NULL for every other span; published
	 * last (release) when a span is made collected, cleared before it goes back to the heap:
	 * a span with gcmarks != NULL has fixed geometry while the collector marks */
	uint64_t *gcmarks;
	union {
		uint64_t *ptrbits;            /* collected, small, GA_GCB_TYPED: a bit per word of
					       * the span, 1 = a pointer (or unknown) */
		const struct go_type *gctype; /* collected, large, typed: its elements' type */
	};
};
/*
 * p, in small span s (in one of its pages): the start of slot i < n (n: s->carved, the slots
 * handed out at some time, for the owner; s->nelems for other threads, which must not read
 * the owner's fields). With off = i * elemsize + d (d < elemsize) and
 * divmul = (2^32 + r) / elemsize, off * divmul = i * 2^32 + (i * r + d * divmul), the second
 * term below 2^32 since the division is exact in the span (test_sizeclass); it is below
 * divmul exactly when d == 0 (i * r < span bytes < divmul). One multiplication, no division.
 */
static inline bool ga_span_slot(const struct ga_span *s, const void *p, uint32_t n)
{
	uint64_t x = ((uintptr_t)p - s->base) * s->divmul;

	return (uint32_t)x < s->divmul && (uint32_t)(x >> 32) < n;
}

_Static_assert(GA_NUM_SPC_ALL <= 65536 && GA_MAX_SMALL_SIZE <= 65535, "spc, elemsize: 16 bits");
_Static_assert(offsetof(struct ga_span, prev) + sizeof(struct ga_span *) <= 64 &&
		       sizeof(struct ga_span) == 128,
	       "a free, and the list moves after it, read one line of the span; a span's "
	       "metadata is two lines");

#define GA_USED_FULL ((uint32_t)1 << 30)
static inline uint32_t ga_span_used(const struct ga_span *s)
{
	return (s->ucount + 1) & (GA_USED_FULL - 1);
}
static inline bool ga_span_full(const struct ga_span *s)
{
	return (s->ucount + 1) & GA_USED_FULL;
}
static inline void ga_span_set_full(struct ga_span *s, bool full)
{
	if (full != ga_span_full(s))
		s->ucount += full ? -GA_USED_FULL : GA_USED_FULL;
}

/* The cache a span belongs to (NULL when in central or large). */
static inline struct ga_cache *ga_span_cache(struct ga_span *s)
{
	if (s->spc >= GA_SPC_TINY) /* tiny and collected spans */
		return __atomic_load_n(&s->towner, __ATOMIC_RELAXED);
	return atomic_load_explicit(&s->owner, memory_order_relaxed);
}

struct ga_spanlist {
	struct ga_span *first, *last;
	size_t n;
};
void ga_list_push(struct ga_spanlist *l, struct ga_span *s);
void ga_list_push_back(struct ga_spanlist *l, struct ga_span *s);
void ga_list_remove(struct ga_spanlist *l, struct ga_span *s);
struct ga_span *ga_list_pop(struct ga_spanlist *l);

/* ---- arena.c ---------------------------------------------------------------------------- */
/*
 * struct ga_arena sits at the arena's base. Page i (0 <= i < GA_ARENA_PAGES) is at
 * base + i * GA_PAGE_SIZE; pages [0, GA_ARENA_META_PAGES) hold this struct and are marked
 * allocated forever.
 * Invariants (pagealloc.c keeps them, galloc_check verifies):
 *   alloc bit i == 1  <=> page i is metadata or belongs to an in-use or stashed span
 *   scav bit i == 1   => alloc bit i == 0 (released pages are free; they read as zero)
 *   spans[i] == s     <=> page i belongs to in-use or stashed span s (NULL for free and
 *                         metadata pages)
 *   inuse bit i == 1  <=> page i is the first page of an in-use span (Go's pageInUse)
 *   sum[w] = summary of alloc[w] (runs of free pages: at the start, longest, at the end)
 *   maxfree = longest run of free pages in the arena
 * Huge arenas (one object bigger than an arena can hold, or aligned to more than half an
 * arena) have no page allocator: their single span (huge_span) starts at page huge_page,
 * the first page after the header aligned as asked, in the first slot (spans[] and inuse
 * then record it as for any span) unless the alignment is 64 MiB or more: then in the
 * second slot, on the alignment's boundary, found through ga_arena_map only.
 */
struct ga_arena {
	uintptr_t magic;
	uintptr_t base;
	size_t nslots;                 /* 64 MiB slots covered: 1, or more for a huge arena */
	uint32_t maxfree;
	uint32_t searchw;              /* no free page in words below this */
	uint32_t nfree;                /* free pages */
	uint32_t nscav;                /* free pages released to the OS */
	uint32_t huge_page;            /* huge arena: the first page of its object */
	struct ga_span *huge_span;     /* huge arena: its object's span */
	uint64_t alloc[GA_ARENA_WORDS];
	uint64_t scav[GA_ARENA_WORDS];
	uint64_t inuse[GA_ARENA_WORDS];
	uint32_t sum[GA_ARENA_WORDS];
	struct ga_span *spans[GA_ARENA_PAGES];
};
#define GA_ARENA_MAGIC 0x67616c6c6f634152ull
#define GA_ARENA_META_PAGES ((sizeof(struct ga_arena) + GA_PAGE_SIZE - 1) / GA_PAGE_SIZE)
#define GA_ARENA_USABLE_PAGES (GA_ARENA_PAGES - GA_ARENA_META_PAGES)

extern struct ga_arena **ga_arena_map; /* [addr >> GA_ARENA_SHIFT], NULL before the first arena */
/*
 * A bit per 64 MiB slot of the address space, set for the first slot of every arena (where
 * its header is): the free fast path tests it before reading p's arena header at
 * p & ~GA_ARENA_MASK, so a pointer that is no object of the heap is caught, not followed.
 * Static (512 KiB of .bss, untouched but for the arenas' bits), so it needs no init.
 */
extern uint64_t ga_arena_heads[GA_ARENA_MAP_LEN / 64];
static inline bool ga_arena_head(const void *p)
{
	/* masked, not bounded: a pointer past 2^48 (user space ends at 2^47 unless asked
	 * otherwise) aliases a slot below, and is caught there or faults */
	uintptr_t i = ((uintptr_t)p >> GA_ARENA_SHIFT) & (GA_ARENA_MAP_LEN - 1);

	return __atomic_load_n(&ga_arena_heads[i / 64], __ATOMIC_RELAXED) >> (i % 64) & 1;
}

/* The span of an object start (or any address inside the first 64 MiB of a huge object). */
static inline struct ga_span *ga_span_of_fast(const void *p)
{
	struct ga_arena *a = (struct ga_arena *)((uintptr_t)p & ~GA_ARENA_MASK);
	return a->spans[((uintptr_t)p >> GA_PAGE_SHIFT) & (GA_ARENA_PAGES - 1)];
}
struct ga_arena *ga_arena_of(const void *p); /* checked: NULL if p is not in the heap */
struct ga_arena *ga_arena_new(void);          /* heap lock held */
struct ga_arena *ga_arena_new_huge(size_t npages, size_t align);
void ga_arena_free_huge(struct ga_arena *a);

/* ---- pagealloc.c (heap lock held) -------------------------------------------------------- */
long ga_pages_find(struct ga_arena *a, size_t npages);
void ga_pages_set(struct ga_arena *a, size_t i, size_t n, bool alloc);
size_t ga_pages_count(const uint64_t *bits, size_t i, size_t n);
void ga_bits_set(uint64_t *bits, size_t i, size_t n, bool set);
uint32_t ga_word_summary(uint64_t w);
void ga_arena_summarize(struct ga_arena *a);
uint32_t ga_sum_start(uint32_t s);
uint32_t ga_sum_max(uint32_t s);
uint32_t ga_sum_end(uint32_t s);

/* ---- heap.c ----------------------------------------------------------------------------- */
struct ga_heap {
	pthread_mutex_t lock;
	struct ga_arena *arenas[GA_MAX_ARENAS]; /* in creation order */
	size_t narenas;
	uint64_t free_pages;       /* in all arenas */
	uint64_t scav_pages;       /* free pages released to the OS */
	uint64_t inuse_pages;      /* pages in in-use spans (small and large, huge included) */
	uint64_t sys_bytes;        /* reserved from the OS for the heap */
	uint64_t meta_bytes;
	uint64_t large_bytes, large_objects;
	uint64_t scavenged_total;  /* bytes released since start */
	uint64_t huge_pages;
	/* the stash (heap.c): freed small spans by page count, linked through next */
	struct ga_span *stash[GA_STASH_MAX_PAGES + 1];
	uint64_t stash_pages;      /* pages of stashed spans: neither free nor in use */
	struct ga_span *span_free; /* dead span structs */
	char *span_chunk, *span_chunk_end;
	uint64_t spans_by_class[GA_NUM_SPC_ALL];
	uint64_t large_nalloc, large_nfree;
	uint64_t peak_pages, peak_time; /* scavenger: recent peak of inuse_pages, when */
};
extern struct ga_heap ga_heap;
extern _Atomic int ga_inited;

void ga_init_slow(void);
static inline void ga_init(void)
{
	if (ga_unlikely(!atomic_load_explicit(&ga_inited, memory_order_acquire)))
		ga_init_slow();
}
struct ga_span *ga_heap_alloc_span(unsigned spc);            /* small span, no lock held */
struct ga_span *ga_heap_alloc_large(size_t n, size_t align, unsigned flags);
void ga_heap_free_span(struct ga_span *s);                   /* no lock held */
void ga_heap_free_spans(struct ga_span **v, size_t n);       /* small ones; no lock held */
bool ga_heap_resize_large(struct ga_span *s, size_t n);      /* in place; no lock held */
void *ga_meta_alloc(size_t n);                               /* zeroed, from the OS */
size_t ga_scavenge_locked(uint64_t keep_pages);
void ga_scavenge_tick(void);                                 /* no lock held */
void ga_scavenger_start(void);
void ga_span_init_small(struct ga_span *s, unsigned spc);

/* ---- central.c -------------------------------------------------------------------------- */
struct ga_central {
	pthread_mutex_t lock;
	struct ga_spanlist partial; /* state PARTIAL: free objects, NOTIFY armed */
	struct ga_spanlist full;    /* state FULL: no free object, NOTIFY armed */
	_Atomic size_t npartial;    /* partial.n, readable without the lock */
	char pad[64];
};
extern struct ga_central ga_central[GA_SPC_GC0]; /* malloc's and tiny classes (not collected) */
struct ga_span *ga_central_take(unsigned spc, struct ga_cache *c);
void ga_central_put_locked(struct ga_central *ct, struct ga_span *s); /* span not owned */
uint32_t ga_span_collect(struct ga_span *s, uintptr_t rearm);

/* ---- cache.c ---------------------------------------------------------------------------- */
/*
 * A cache is used by one thread at a time (its thread, or the thread running the P that owns
 * it); only unfull is written by others. For each span class:
 *   alloc[spc]   the current span (&ga_span_empty when none: its free list is empty, so the
 *                fast path falls to the refill without testing for NULL);
 *   partial[spc] other owned spans, not armed: ones with free objects, and former current
 *                spans that ran out (queued at the back, so that frees into them stay on
 *                the fast path until the refill comes back to them);
 *   full[spc]    owned spans with no free object, NOTIFY armed: only a span the refill finds
 *                still exhausted when it pops it from partial is parked here.
 * Empty spans (used == 0) stay at the front of partial[spc] ("kept", counted in kept_pages,
 * at most GA_KEEP_PAGES) instead of going back to the heap: a batch that frees everything
 * and allocates again reuses them without the heap lock (mimalloc keeps its empty pages
 * thread-local in the same spirit). Beyond the budget, or for tiny spans, they go back.
 * Empty spans past that budget wait in release[] (owner still c, state CACHE, in no list) and
 * go back to the heap GA_RELEASE_BATCH at a time, under one heap lock (ga_cache_release_flush;
 * also when the cache is released and at galloc_scavenge): a lock is a full barrier, which
 * costs a memory round trip when frees have stores in flight, as they usually do.
 * Every span with owner == c is exactly one of: alloc[spc], in partial[spc], in full[spc], in
 * release[]; one in release[] is neither notifying nor on an unfull stack (see xfree), and
 * galloc_check tags every span with the one list it is on.
 * The fast paths count nothing: galloc_stats adds up the spans' own counts (used, xfree).
 */
struct ga_cache {
	struct ga_span *alloc[GA_NUM_SPC_ALL];
	uintptr_t tiny;      /* current tiny block, 0 if none */
	uintptr_t tinyoff;
	_Atomic uint64_t tiny_allocs; /* single writer, relaxed: galloc_stats reads it */
	struct ga_spanlist partial[GA_SPC_GC0]; /* (collected spans are in no cache list) */
	struct ga_spanlist full[GA_SPC_GC0];
	_Atomic(struct ga_span *) unfull; /* Treiber stack of spans whose remote frees notified c
					   * (in_unfull set; pushed under central's lock) */
	uint32_t kept_pages;              /* pages of kept empty spans, <= GA_KEEP_PAGES */
	uint32_t nrelease;                /* < GA_RELEASE_BATCH between calls */
	struct ga_span *release[GA_RELEASE_BATCH]; /* empty spans on their way to the heap */
	struct ga_cache *all_next, *all_prev; /* ga_caches, under ga_caches_lock */
	bool is_thread;                        /* created for a thread, released at its exit */
	bool live;
	uint64_t gc_current[(GA_NUM_SPC + 63) / 64]; /* collected spc - GA_SPC_GC0 whose
						      * alloc[] is a real span (collected.c) */
};
extern struct ga_span ga_span_empty;
extern struct ga_cache ga_cache_empty;
extern __thread struct ga_cache *ga_tls_cache __attribute__((tls_model("initial-exec")));
extern pthread_mutex_t ga_caches_lock;
extern struct ga_cache *ga_caches;
extern _Atomic uint64_t ga_dead_tiny_allocs;

static inline void ga_stat_inc(_Atomic uint64_t *v)
{
	atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/*
 * fork: the forking thread takes every lock in its prepare handler (ga_lock_all, registered at
 * load time so that it runs after the handlers registered later) and holds them until its
 * parent or child handler. Handlers registered before ours run in between and may allocate:
 * while ga_tls_all_locked is set, ga_lock and ga_unlock let that one thread through (it holds
 * every lock, so it has everything to itself).
 */
extern __thread bool ga_tls_all_locked __attribute__((tls_model("initial-exec")));
static inline void ga_lock(pthread_mutex_t *m)
{
	if (!ga_tls_all_locked)
		pthread_mutex_lock(m);
}
static inline void ga_unlock(pthread_mutex_t *m)
{
	if (!ga_tls_all_locked)
		pthread_mutex_unlock(m);
}

void *ga_alloc_refill(struct ga_cache *c, unsigned spc);
struct ga_cache *ga_cache_thread(void); /* the calling thread's real cache, created if needed */
void ga_cache_drain_unfull(struct ga_cache *c);
void ga_cache_release(struct ga_cache *c);

/* ---- free.c ----------------------------------------------------------------------------- */
void ga_free_slow(struct ga_cache *c, struct ga_span *s, void *p); /* s may be NULL */
__attribute__((noreturn, cold)) void ga_free_bad(const void *p, const struct ga_span *s,
						  const char *op);
void ga_free_outside(void *p); /* p's 64 MiB slot begins no arena: a huge object, or bad */
struct ga_span *ga_object_span(const void *p, const char *op); /* checked: aborts if no object */
void ga_free_collected(const void *p, const struct ga_span *s, const char *op); /* aborts if
											 * collected */
void ga_free_local_slow(struct ga_cache *c, struct ga_span *s);
void ga_cache_span_emptied(struct ga_cache *c, struct ga_span *s);
void ga_cache_release_flush(struct ga_cache *c);
void ga_free_block(struct ga_cache *c, struct ga_span *s, struct ga_block *b);
void ga_unfull_link(struct ga_cache *o, struct ga_span *s); /* s->in_unfull just set by us */
#ifdef GA_DEBUG
/* Tests only: called by a remote free that must notify s's holder, before it takes central's
 * lock (so a test can hold a notification in flight while the holder goes on). */
extern void (*ga_debug_notify_hook)(struct ga_span *s);
#endif

/* ---- alloc.c ---------------------------------------------------------------------------- */
/* Pop from the current span of spc: the fast path. refill is called (as a tail call) when
 * the span has no free slot. */
static inline __attribute__((always_inline)) void *
ga_alloc_small_with(struct ga_cache *c, size_t spc, void *(*refill)(struct ga_cache *, unsigned))
{
	struct ga_span *s = c->alloc[spc];
	struct ga_block *b = s->free;
	if (ga_unlikely(b == NULL))
		return refill(c, (unsigned)spc);
	s->free = b->next;
	/* the next pop reads s->free->next: start fetching it now (as tcmalloc does); it may
	 * have been written by another thread's remote free */
	__builtin_prefetch(s->free);
	s->ucount++;
	return b;
}

static inline void *ga_alloc_small(struct ga_cache *c, unsigned spc)
{
	return ga_alloc_small_with(c, spc, ga_alloc_refill);
}

/*
 * Free p (an object start) from cache c's thread: the fast path. Anything else is caught
 * cheaply and reported (ga_free_bad): the arena's head bit before its header is read, a span
 * at p's page, p a slot start (local frees here, the rest in ga_free_slow).
 */
static inline void ga_free(struct ga_cache *c, void *p)
{
	struct ga_span *s;

	if (ga_unlikely(!ga_arena_head(p))) {
		ga_free_outside(p);
		return;
	}
	s = ga_span_of_fast(p);
	if (ga_likely(s && atomic_load_explicit(&s->owner, memory_order_relaxed) == c)) {
		struct ga_block *b = p;

		if (ga_unlikely(!ga_span_slot(s, p, s->carved)))
			ga_free_bad(p, s, "free");
		b->next = s->free;
		s->free = b;
		/* empty now, or full: the sign of the decrement's result (ucount, signed) */
		if (ga_unlikely(--*(int32_t *)&s->ucount < 0))
			ga_free_local_slow(c, s);
		return;
	}
	ga_free_slow(c, s, p);
}

void *ga_alloc_tiny(struct ga_cache *c, size_t n);
void *ga_alloc_large(size_t n, size_t align, unsigned flags);
void *ga_alloc_aligned(size_t n, size_t align, unsigned flags);
#define GA_ALLOC_MALLOC 0x100u /* ga_realloc: malloc's classes (ga_size_to_class16), scan */
void *ga_realloc(void *p, size_t n, unsigned flags);
size_t ga_usable_size(const void *p);

/* ---- collected.c: collected spans, the garbage collector's part of the heap --------------- */
/*
 * Go's names: allocbits (allocBits), gcmarks (gcmarkBits), freeindex, acache (allocCache).
 * A small collected span s of n = s->nelems slots has no free list: its slot i is
 *     free  <=>  i >= freeindex && allocbits[i] == 0
 * allocbits is what the last sweep found marked (or all 0 for a fresh span); allocation
 * moves freeindex past the slot it takes and never writes allocbits, so
 *     ga_span_used(s) == popcount(allocbits) + |{ i < freeindex : allocbits[i] == 0 }|
 *     acache == 0  or  acache == ~allocbits[freeindex / 64] >> (freeindex % 64)
 * and bits of allocbits past n are 1 (never free). gcmarks: 1 for a slot the collector
 * marked this cycle (objects allocated while it marks are marked at once: allocated black).
 * Sweeping (ga_gc_sweep_span) makes allocbits := gcmarks, gcmarks := 0, freeindex := 0.
 * Large collected objects: a span of their own (state LARGE), one mark bit in gcmarks[0].
 *
 * Where a collected span is (ga_gc_central[spc - GA_SPC_GC0] or ga_gc_large, under their
 * locks): state CACHE, a cache's current span (alloc[spc], towner set; swept); PARTIAL or
 * FULL, on a list of partial (a free slot) or full spans; SWEEPING, off every list, its
 * sweeper's. Each list has two sets, indexed by sweep generation, as Go's mcentral:
 *     [GA_GC_SWEPT(ga_gc_sweepgen)]    spans swept this generation (s->sweepgen == sg)
 *     [GA_GC_UNSWEPT(ga_gc_sweepgen)]  spans not swept yet (s->sweepgen == sg - 2)
 * ga_gc_sweep_begin() (mark termination: the world stopped, every cache flushed) adds 2 to
 * ga_gc_sweepgen, and every swept set becomes unswept at once (the unswept ones are empty
 * then: sweeping ended before the cycle began). A cache takes only swept spans, sweeping
 * unswept ones on its way (lazy sweeping: ga_gc_cache_refill). Nothing is swept while the
 * collector marks (lib/gc sees to it): a span with gcmarks set keeps its geometry then.
 *
 * Counters (atomic): ga_gc_nspans == collected spans (small and large) in the heap;
 * ga_gc_nunswept == those on unswept sets or being swept (0: sweeping is done).
 */
#define GA_GCB_NEEDZERO 0x1u /* gcbits: free slots may hold old objects: zero on allocation */
#define GA_GCB_TYPED 0x2u    /* gcbits: ptrbits is there (a typed object was allocated) */
#define GA_GCF_COLLECTED 0x1u /* gcflags */

#define GA_GC_SWEPT(sg) (((sg) >> 1) & 1)
#define GA_GC_UNSWEPT(sg) (GA_GC_SWEPT(sg) ^ 1)
struct ga_gc_central {
	pthread_mutex_t lock;
	struct ga_spanlist partial[2];
	struct ga_spanlist full[2];
	char pad[64];
};
extern struct ga_gc_central ga_gc_central[GA_NUM_SPC];
struct ga_gc_large {
	pthread_mutex_t lock;
	struct ga_spanlist spans[2]; /* by sweep generation, as ga_gc_central's */
};
extern struct ga_gc_large ga_gc_large;
extern uint32_t ga_gc_sweepgen; /* changes only with the world stopped (atomic reads) */
extern _Atomic uint64_t ga_gc_nspans;
extern _Atomic uint64_t ga_gc_nunswept;
extern _Atomic uint64_t ga_gc_freed_objects, ga_gc_freed_bytes;
extern bool ga_gc_poison; /* fill freed slots with 0xdb at sweep (a test's setting) */
/* Called by a sweeper for a span with finalizers (s->nfinal > 0), before the sweep reads its
 * mark bits: it queues the finalizers of unmarked objects and marks them (lib/gc). */
extern void (*ga_gc_finalizer_hook)(struct ga_span *s);

static inline unsigned ga_spc_gc(unsigned cls, unsigned noscan)
{
	return GA_SPC_GC0 + (cls << 1 | noscan);
}

/* The collected span s, when p lies in it; NULL for any other address (not in the heap, a
 * malloc span, a free or stashed page). For the collector's conservative lookups. */
static inline struct ga_span *ga_gc_span_of(uintptr_t p)
{
	struct ga_arena **map = __atomic_load_n(&ga_arena_map, __ATOMIC_RELAXED);
	struct ga_arena *a;
	struct ga_span *s;

	if (ga_unlikely(!map) || (p >> GA_ADDR_BITS))
		return NULL;
	a = __atomic_load_n(&map[p >> GA_ARENA_SHIFT], __ATOMIC_ACQUIRE);
	if (!a)
		return NULL;
	if (ga_unlikely(a->huge_page)) {
		s = __atomic_load_n(&a->huge_span, __ATOMIC_ACQUIRE);
		if (!s || p < s->base || p - s->base >= (uintptr_t)s->npages * GA_PAGE_SIZE)
			return NULL;
	} else {
		s = __atomic_load_n(&a->spans[(p - a->base) >> GA_PAGE_SHIFT], __ATOMIC_ACQUIRE);
		if (!s)
			return NULL;
	}
	if (!__atomic_load_n(&s->gcmarks, __ATOMIC_ACQUIRE))
		return NULL;
	/* (a free page keeps the last span it had, whose struct may serve another span now) */
	if (p - __atomic_load_n(&s->base, __ATOMIC_RELAXED) >=
	    (uintptr_t)__atomic_load_n(&s->npages, __ATOMIC_RELAXED) * GA_PAGE_SIZE)
		return NULL;
	return s;
}

/* Allocate from collected span s without a lock (Go's nextFreeFast); NULL: refill acache. */
static inline void *ga_gc_alloc_fast(struct ga_span *s)
{
	uint64_t ac = s->acache;
	unsigned b;
	uint32_t i;

	if (ga_unlikely(ac == 0))
		return NULL;
	b = (unsigned)__builtin_ctzll(ac);
	i = s->freeindex + b;
	s->acache = ac >> b >> 1;
	s->freeindex = (uint16_t)(i + 1);
	s->ucount++;
	return (void *)(s->base + (uintptr_t)i * s->elemsize);
}

bool ga_gc_next_free(struct ga_span *s);                 /* refill acache; false: s is full */
/* A current span of spc with a free slot: the same span's next ones, or a new span (*taken:
 * its free slots, handed to the cache now; 0 for the same span); NULL when out of memory. */
struct ga_span *ga_gc_cache_refill(struct ga_cache *c, unsigned spc, size_t *taken);
/* Current spans back; returns the free bytes in them (*objects, if not NULL: their slots). */
size_t ga_gc_cache_flush(struct ga_cache *c, size_t *objects);
struct ga_span *ga_gc_alloc_large(size_t n, bool noscan, const struct go_type *t);
void ga_gc_sweep_begin(void);      /* world stopped, caches flushed: everything unswept */
bool ga_gc_sweep_one(void);        /* sweep one span of any class; false: none left */
uint64_t *ga_gc_bits_alloc(size_t nwords);  /* zeroed */
void ga_gc_bits_free(uint64_t *b, size_t nwords);
static inline size_t ga_gc_mark_words(const struct ga_span *s)
{
	return ((size_t)s->nelems + 63) / 64;
}
static inline size_t ga_gc_ptr_words(const struct ga_span *s)
{
	return (size_t)s->npages * (GA_PAGE_SIZE / 8 / 64);
}

/* ---- check.c / stats.c / os.c ------------------------------------------------------------ */
int ga_span_check(struct ga_span *s, char *msg, size_t len);
void ga_span_assert(struct ga_span *s, const char *where); /* abort()s with the violation */
/* "gochan alloc: <message>" on stderr, then abort() */
__attribute__((noreturn, cold, format(printf, 1, 2))) void ga_fatal(const char *fmt, ...);
#ifdef GA_DEBUG
#define GA_DEBUG_SPAN(s, where) ga_span_assert((s), (where))
#define GA_DEBUG_ASSERT(cond, what) \
	((cond) ? (void)0 : ga_fatal("%s:%d: %s (%s)", __FILE__, __LINE__, (what), #cond))
#else
#define GA_DEBUG_SPAN(s, where) ((void)0)
#define GA_DEBUG_ASSERT(cond, what) ((void)0)
#endif
void *ga_os_reserve(size_t size, size_t align);
void *ga_os_reserve_at(size_t size, size_t align, size_t off); /* p + off aligned */
void ga_os_release(void *p, size_t size);
void ga_os_decommit(void *p, size_t size);
void ga_lock_all(void);   /* fork, galloc_check: every lock in order (see ga_lock) */
void ga_unlock_all(void);

#endif /* GA_INTERNAL_H */
