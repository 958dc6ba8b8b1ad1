/* SPDX-License-Identifier: MIT */
/*
 * gochan/alloc.h - the span allocator: the heap the runtime (and later the GC) allocates from.
 * In libgochan (pkg-config gochan); also, from the same sources, a drop-in malloc for
 * LD_PRELOAD (make -C lib/alloc: build/alloc/libgochan-malloc.so).
 *
 * Structure (Go's, see lib/alloc/internal.h for the invariants):
 *   size classes    68 classes (class 0 = large), objects up to 32 KiB, 8 KiB pages;
 *   span classes    size class x {scan, noscan}: the GC will skip noscan spans;
 *   tiny allocator  pointer-free objects under 16 bytes share 16-byte blocks;
 *   cache           one per thread, or per P (galloc_cache_bind): no lock on the fast path;
 *   central         per span class, spans with free objects / spans without;
 *   page heap       a bitmap with summaries per 64 MiB arena; large objects straight from it;
 *   scavenger       returns free pages to the OS (madvise) toward a target.
 *
 * Any thread may free any object (cross-thread frees are one atomic push).
 * Errors: functions returning int return 0 or -errno; allocation returns NULL when out of
 * memory and never sets errno (errno is per thread, goroutines move between threads).
 */
#ifndef GOCHAN_ALLOC_H
#define GOCHAN_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Flags for galloc() and friends. */
#define GALLOC_NOSCAN 0x1u /* the object holds no pointers: noscan span (tiny allocator if < 16 B) */
#define GALLOC_ZERO 0x2u   /* the memory is zeroed (otherwise its contents are undefined) */

#define GALLOC_PAGE_SIZE 8192u        /* the heap's page */
#define GALLOC_MAX_SMALL 32768u       /* larger objects come straight from the page heap */
#define GALLOC_NUM_CLASSES 68u        /* size classes, counting class 0 (large) */
#define GALLOC_ARENA_SIZE (64u << 20) /* memory is reserved from the OS in arenas this big */

/*
 * galloc - allocate n bytes.
 * The object is aligned to 16 bytes, except in the 8- and 24-byte classes (n <= 8 and
 * 16 < n <= 24: 8 bytes, enough for any type of that size) and tiny objects (NOSCAN, n < 16:
 * the largest power of two <= 8 dividing n, as Go's).
 * n == 0 returns a unique minimum-size object. Returns NULL when out of memory.
 */
void *galloc(size_t n, unsigned flags);

/*
 * galloc_aligned - allocate n bytes aligned to align (a power of two; from 64 MiB, an arena,
 * on, the object has a huge arena of its own). Never a tiny object. Returns NULL when out of
 * memory or align is not a power of two.
 */
void *galloc_aligned(size_t n, size_t align, unsigned flags);

/*
 * grealloc - resize p (from galloc, not galloc_aligned with align > 16) to n bytes, keeping the
 * first min(old, n) bytes. Stays in place when the object's usable size already fits n and is
 * less than twice n, or when a large object can shrink or grow into free pages behind it.
 * p == NULL allocates. n == 0 returns a minimum-size object (p is freed). On failure returns
 * NULL and p is untouched. GALLOC_ZERO zeroes the bytes past the old usable size.
 */
void *grealloc(void *p, size_t n, unsigned flags);

/*
 * gfree - free p (NULL is ignored). Any thread may free any object. A tiny object's 16-byte
 * block is returned once all the objects sharing it are freed.
 */
void gfree(void *p);

/*
 * gsize - the usable size of p: the bytes from p to the end of its object slot, >= the size
 * asked for. For tiny objects, which share a block with others, returns 0.
 */
size_t gsize(const void *p);

/*
 * Object lookup for the GC: constant time, for any address (interior pointers too).
 * galloc_find fills *obj and returns 0 when addr lies inside an in-use span of the heap,
 * -ENOENT otherwise (addr outside the heap, in a free page or in span metadata). The slot is
 * reported whether or not it is currently allocated (the GC keeps its own mark bits); for tiny
 * objects the object is the whole 16-byte block.
 */
struct galloc_object {
	void *base;          /* start of the object slot containing addr */
	size_t size;         /* slot size (the class size, or the span size for large objects) */
	void *span_base;     /* first byte of the span */
	size_t span_pages;   /* its length in pages */
	unsigned sizeclass;  /* 0 for large objects */
	unsigned noscan;     /* 1 when the span holds pointer-free objects */
	size_t index;        /* slot number in the span */
};
int galloc_find(const void *addr, struct galloc_object *obj);
void *galloc_base(const void *addr); /* obj.base, or NULL */

/*
 * Caches. Every thread gets one on its first allocation, released when the thread exits.
 * A scheduler can give each P its own (lib/sched does not yet): galloc_cache_bind() makes c
 * the calling thread's cache (NULL: back to the thread's own) and returns the previous
 * binding. A cache must be bound to at most one thread at a time; a P carries its cache
 * from M to M. galloc_cache_destroy() hands c's spans back to the central lists; c must not
 * be bound anywhere.
 */
struct galloc_cache;
struct galloc_cache *galloc_cache_new(void);
struct galloc_cache *galloc_cache_bind(struct galloc_cache *c);
void galloc_cache_destroy(struct galloc_cache *c);
/* Hand every span of the calling thread's cache back to central (e.g. before idling). */
void galloc_cache_flush(void);

/*
 * Statistics: a snapshot, exact when no other thread allocates or frees meanwhile. The fast
 * paths count nothing: the per class figures add up the spans' own bookkeeping (a walk of
 * the in-use bitmaps, O(spans)).
 */
struct galloc_class_stats {
	uint32_t size;         /* object size */
	uint32_t pages;        /* pages per span */
	uint64_t spans;        /* spans of this class (scan + noscan, collected ones too) */
	uint64_t objects;      /* slots in those spans */
	uint64_t inuse;        /* objects allocated and not freed */
	uint64_t free;         /* objects - inuse */
};
struct galloc_stats {
	uint64_t heap_sys;        /* bytes of arenas reserved from the OS (incl. huge objects) */
	uint64_t heap_inuse;      /* bytes in in-use spans (small and large) */
	uint64_t heap_free;       /* bytes in free pages, resident or not */
	uint64_t heap_released;   /* bytes of free pages returned to the OS (part of heap_free) */
	uint64_t heap_meta;       /* bytes of metadata pages (arena headers, span structs, caches) */
	uint64_t large_inuse;     /* bytes in large (> 32 KiB) objects */
	uint64_t large_objects;   /* number of large objects */
	uint64_t tiny_allocs;     /* tiny objects allocated since start */
	uint64_t tiny_inuse;      /* tiny objects allocated and not freed */
	uint64_t tiny_spans;      /* spans of 16-byte blocks serving tiny objects */
	uint64_t scavenged;       /* bytes given back to the OS since start */
	uint64_t arenas;          /* arenas reserved */
	uint64_t caches;          /* live caches */
	struct galloc_class_stats cls[GALLOC_NUM_CLASSES]; /* [0] = large objects; tiny apart */
};
int galloc_stats(struct galloc_stats *st);

/*
 * galloc_scavenge - return free pages to the OS until at most keep bytes of free, resident
 * pages remain; returns the bytes released.
 * The heap also does this by itself, as Go's scavenger: free resident pages beyond 1/8 over
 * the in-use peak of the last second (at least 1 MiB) go back at once; those kept for that
 * peak go back a second later, at the next heap operation or cache refill, or at the next
 * galloc_tick(). So a program that frees what it allocated and keeps running sees its
 * resident memory fall within about a second; one that frees and reallocates in rounds does
 * not refault its heap every round.
 */
size_t galloc_scavenge(size_t keep);

/*
 * galloc_tick - housekeeping for an idle heap: releases pages kept for an expired peak.
 * Cheap when there is nothing to do (one atomic load, a coarse clock read). For a
 * scheduler's monitor thread to call (lib/sched's sysmon does not yet); setting
 * GOCHAN_ALLOC_SCAVENGER=thread in the environment makes the heap start its own thread that
 * calls it every 100 ms (not in a child after fork()).
 */
void galloc_tick(void);

/*
 * galloc_check - walk the whole heap and verify every invariant (arena bitmaps and summaries,
 * page -> span tables, every span's free lists and counts, central and cache lists, counters).
 * Call it when no other thread is allocating or freeing. Returns 0, or -EUCLEAN with a
 * description of the first violation in msg (when msg != NULL).
 */
int galloc_check(char *msg, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* GOCHAN_ALLOC_H */
