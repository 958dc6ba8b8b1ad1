/* SPDX-License-Identifier: MIT */
/*
 * stats.c - galloc_stats. The fast paths count nothing; the figures come from the spans:
 *   inuse(span) = used - |xfree|      (remote frees stay in used until collected)
 *   inuse(tiny) = sum of the blocks' references - one per cache holding a current block
 *   inuse(collected span) = used: allocated and not yet found dead by a sweep
 * walked through the arenas' in-use bitmaps under the heap lock (spans cannot come or go).
 */
#include "internal.h"

GA_EXPORT int galloc_stats(struct galloc_stats *st)
{
	uint64_t tiny_refs = 0, tiny_holds = 0;

	memset(st, 0, sizeof(*st));
	ga_init();
	ga_lock(&ga_caches_lock);
	st->tiny_allocs = atomic_load_explicit(&ga_dead_tiny_allocs, memory_order_relaxed);
	for (struct ga_cache *c = ga_caches; c; c = c->all_next) {
		st->tiny_allocs += atomic_load_explicit(&c->tiny_allocs, memory_order_relaxed);
		tiny_holds += __atomic_load_n(&c->tiny, __ATOMIC_RELAXED) != 0;
		st->caches++;
	}

	ga_lock(&ga_heap.lock);
	for (size_t k = 0; k < ga_heap.narenas; k++) {
		struct ga_arena *a = ga_heap.arenas[k];

		for (size_t w = 0; w < GA_ARENA_WORDS; w++) {
			for (uint64_t m = a->inuse[w]; m; m &= m - 1) {
				struct ga_span *s = a->spans[w * 64 + (size_t)__builtin_ctzll(m)];
				uint32_t used = (__atomic_load_n(&s->ucount, __ATOMIC_RELAXED) + 1) &
						(GA_USED_FULL - 1);
				uintptr_t xf = atomic_load_explicit(&s->xfree, memory_order_relaxed);

				if (s->spc < 2)
					continue; /* large: from the heap's counters */
				if (s->spc == GA_SPC_TINY) {
					for (uint32_t i = 0; i < s->nelems; i++)
						tiny_refs += atomic_load_explicit(&s->tinyref[i],
										  memory_order_relaxed);
					continue;
				}
				st->cls[ga_spc_class(s->spc)].inuse += used - ga_xf_cnt(xf);
			}
		}
	}
	ga_unlock(&ga_caches_lock);
	st->tiny_inuse = tiny_refs - tiny_holds;
	st->heap_sys = ga_heap.sys_bytes;
	st->heap_inuse = ga_heap.inuse_pages * GA_PAGE_SIZE;
	st->heap_free = (ga_heap.free_pages + ga_heap.stash_pages) * GA_PAGE_SIZE;
	st->heap_released = ga_heap.scav_pages * GA_PAGE_SIZE;
	st->heap_meta = __atomic_load_n(&ga_heap.meta_bytes, __ATOMIC_RELAXED);
	st->large_inuse = ga_heap.large_bytes;
	st->large_objects = ga_heap.large_objects;
	st->scavenged = ga_heap.scavenged_total;
	st->arenas = ga_heap.narenas;
	st->cls[0].spans = st->cls[0].objects = st->cls[0].inuse = ga_heap.large_objects;
	for (unsigned c = 1; c < GA_NUM_CLASSES; c++) {
		struct galloc_class_stats *cs = &st->cls[c];
		uint64_t nelems = ga_class_npages[c] * GA_PAGE_SIZE / ga_class_size[c];

		cs->spans = __atomic_load_n(&ga_heap.spans_by_class[2 * c], __ATOMIC_RELAXED) +
			    __atomic_load_n(&ga_heap.spans_by_class[2 * c + 1], __ATOMIC_RELAXED) +
			    __atomic_load_n(&ga_heap.spans_by_class[ga_spc_gc(c, 0)],
					    __ATOMIC_RELAXED) +
			    __atomic_load_n(&ga_heap.spans_by_class[ga_spc_gc(c, 1)],
					    __ATOMIC_RELAXED);
		cs->objects = cs->spans * nelems;
		cs->free = cs->objects - cs->inuse;
	}
	st->tiny_spans = __atomic_load_n(&ga_heap.spans_by_class[GA_SPC_TINY], __ATOMIC_RELAXED);
	ga_unlock(&ga_heap.lock);

	for (unsigned c = 0; c < GA_NUM_CLASSES; c++) {
		st->cls[c].size = ga_class_size[c];
		st->cls[c].pages = ga_class_npages[c];
	}
	return 0;
}
