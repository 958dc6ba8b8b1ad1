/* SPDX-License-Identifier: MIT */
/*
 * arena.c - 64 MiB arenas: reservation, the arena map, huge arenas.
 *
 * ga_arena_map[addr >> 26] is the arena covering addr (for a huge arena, every slot it covers
 * points to its header), so any address maps to its arena in O(1) (galloc_find). The free
 * fast path does not need the map: an object start lies in the first slot of its arena, so
 * the header is at addr & ~GA_ARENA_MASK, once ga_arena_heads says an arena begins there.
 */
#include "internal.h"

struct ga_arena **ga_arena_map;
uint64_t ga_arena_heads[GA_ARENA_MAP_LEN / 64];

static void ga_arena_head_set(struct ga_arena *a, bool set)
{
	uintptr_t i = a->base >> GA_ARENA_SHIFT;

	if (set)
		__atomic_fetch_or(&ga_arena_heads[i / 64], 1ull << (i % 64), __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&ga_arena_heads[i / 64], ~(1ull << (i % 64)), __ATOMIC_RELAXED);
}

static bool ga_map_init(void)
{
	if (ga_arena_map)
		return true;
	ga_arena_map = ga_os_reserve(GA_ARENA_MAP_LEN * sizeof(*ga_arena_map), GA_PAGE_SIZE);
	return ga_arena_map != NULL;
}

struct ga_arena *ga_arena_of(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	struct ga_arena **map = __atomic_load_n(&ga_arena_map, __ATOMIC_ACQUIRE);

	if (!map || (a >> GA_ADDR_BITS))
		return NULL;
	return __atomic_load_n(&map[a >> GA_ARENA_SHIFT], __ATOMIC_ACQUIRE);
}

static void ga_map_set(struct ga_arena *a, struct ga_arena *v)
{
	for (size_t i = 0; i < a->nslots; i++)
		__atomic_store_n(&ga_arena_map[(a->base >> GA_ARENA_SHIFT) + i], v,
				 __ATOMIC_RELEASE);
}

static void ga_arena_header(struct ga_arena *a, size_t nslots)
{
	a->magic = GA_ARENA_MAGIC;
	a->base = (uintptr_t)a;
	a->nslots = nslots;
	/* metadata pages: allocated forever */
	for (size_t i = 0; i < GA_ARENA_META_PAGES; i++)
		a->alloc[i / 64] |= 1ull << (i % 64);
}

/* A fresh arena: every usable page free and released (zero, not resident). Heap lock held. */
struct ga_arena *ga_arena_new(void)
{
	struct ga_arena *a;

	if (ga_heap.narenas == GA_MAX_ARENAS || !ga_map_init())
		return NULL;
	a = ga_os_reserve(GA_ARENA_SIZE, GA_ARENA_SIZE);
	if (!a)
		return NULL;
	if ((uintptr_t)a >> GA_ADDR_BITS) {
		ga_os_release(a, GA_ARENA_SIZE);
		return NULL;
	}
	ga_arena_header(a, 1);
	for (size_t w = 0; w < GA_ARENA_WORDS; w++) {
		a->scav[w] = ~a->alloc[w];
		a->sum[w] = ga_word_summary(a->alloc[w]);
	}
	a->nfree = a->nscav = GA_ARENA_USABLE_PAGES;
	ga_arena_summarize(a);

	/*
	 * ga_heap.arenas is in creation order: first fit fills the oldest arena first and the
	 * scavenger releases from the newest. (Not address order: mmap hands out arenas
	 * downwards, and a search by address would start in the newest, least used arena.)
	 */
	ga_heap.arenas[ga_heap.narenas++] = a;
	ga_heap.free_pages += GA_ARENA_USABLE_PAGES;
	ga_heap.scav_pages += GA_ARENA_USABLE_PAGES;
	ga_heap.sys_bytes += GA_ARENA_SIZE;
	__atomic_fetch_add(&ga_heap.meta_bytes, GA_ARENA_META_PAGES * GA_PAGE_SIZE, __ATOMIC_RELAXED);
	ga_map_set(a, a);
	ga_arena_head_set(a, true);
	return a;
}

/*
 * A huge arena for one object of npages pages whose start is aligned to align: the object
 * begins at page GA_ARENA_META_PAGES, or at the first aligned page after it, in the first
 * slot; aligned to a slot or more, at the start of the second slot, which is put on such a
 * boundary. The caller makes the span. Heap lock held.
 */
struct ga_arena *ga_arena_new_huge(size_t npages, size_t align)
{
	size_t first = GA_ARENA_META_PAGES * GA_PAGE_SIZE, bytes, nslots;
	struct ga_arena *a;

	if (!ga_map_init())
		return NULL;
	if (align > GA_ARENA_SIZE / 2) /* the header's slot, then the object's, aligned */
		first = GA_ARENA_SIZE;
	else /* the base is 64 MiB aligned and align <= 32 MiB: so is the object */
		first = (first + align - 1) & ~(align - 1);
	if (npages > (SIZE_MAX - first - GA_ARENA_SIZE) / GA_PAGE_SIZE)
		return NULL;
	bytes = first + npages * GA_PAGE_SIZE;
	nslots = (bytes + GA_ARENA_MASK) >> GA_ARENA_SHIFT;
	if (align > GA_ARENA_SIZE / 2)
		a = ga_os_reserve_at(nslots << GA_ARENA_SHIFT, align, GA_ARENA_SIZE);
	else
		a = ga_os_reserve(nslots << GA_ARENA_SHIFT, GA_ARENA_SIZE);
	if (!a)
		return NULL;
	if (((uintptr_t)a + (nslots << GA_ARENA_SHIFT)) >> GA_ADDR_BITS) {
		ga_os_release(a, nslots << GA_ARENA_SHIFT);
		return NULL;
	}
	ga_arena_header(a, nslots);
	a->huge_page = (uint32_t)(first / GA_PAGE_SIZE);
	ga_heap.sys_bytes += nslots << GA_ARENA_SHIFT;
	__atomic_fetch_add(&ga_heap.meta_bytes, GA_ARENA_META_PAGES * GA_PAGE_SIZE, __ATOMIC_RELAXED);
	ga_map_set(a, a);
	ga_arena_head_set(a, true);
	return a;
}

/* Heap lock held. The span struct was already freed by the caller. */
void ga_arena_free_huge(struct ga_arena *a)
{
	size_t bytes = a->nslots << GA_ARENA_SHIFT;

	ga_arena_head_set(a, false);
	ga_map_set(a, NULL);
	ga_heap.sys_bytes -= bytes;
	__atomic_fetch_sub(&ga_heap.meta_bytes, GA_ARENA_META_PAGES * GA_PAGE_SIZE, __ATOMIC_RELAXED);
	ga_os_release(a, bytes);
}
