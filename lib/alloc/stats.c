/* SPDX-License-Identifier: MIT */
/*
 * stats.c - galloc_stats: per class counts from the caches (allocations and frees, counted on
 * the fast paths by their single writer) and span counts from the heap.
 *   inuse(class) = nalloc - nfree, summed over live caches and the caches already released
 *   objects(class) = spans * slots per span
 */
#include "internal.h"

GA_EXPORT int galloc_stats(struct galloc_stats *st)
{
	uint64_t na[GA_NUM_SPC_ALL], nf[GA_NUM_SPC_ALL];

	memset(st, 0, sizeof(*st));
	ga_init();
	pthread_mutex_lock(&ga_caches_lock);
	for (size_t i = 0; i < GA_NUM_SPC_ALL; i++) {
		na[i] = atomic_load_explicit(&ga_dead_nalloc[i], memory_order_relaxed);
		nf[i] = atomic_load_explicit(&ga_dead_nfree[i], memory_order_relaxed);
	}
	for (struct ga_cache *c = ga_caches; c; c = c->all_next) {
		for (size_t i = 0; i < GA_NUM_SPC_ALL; i++) {
			na[i] += atomic_load_explicit(&c->nalloc[i], memory_order_relaxed);
			nf[i] += atomic_load_explicit(&c->nfree[i], memory_order_relaxed);
		}
		st->caches++;
	}
	pthread_mutex_unlock(&ga_caches_lock);

	pthread_mutex_lock(&ga_heap.lock);
	st->heap_sys = ga_heap.sys_bytes;
	st->heap_inuse = ga_heap.inuse_pages * GA_PAGE_SIZE;
	st->heap_free = ga_heap.free_pages * GA_PAGE_SIZE;
	st->heap_released = ga_heap.scav_pages * GA_PAGE_SIZE;
	st->heap_meta = __atomic_load_n(&ga_heap.meta_bytes, __ATOMIC_RELAXED);
	st->large_inuse = ga_heap.large_bytes;
	st->large_objects = ga_heap.large_objects;
	st->scavenged = ga_heap.scavenged_total;
	st->arenas = ga_heap.narenas;
	st->cls[0].nalloc = ga_heap.large_nalloc;
	st->cls[0].nfree = ga_heap.large_nfree;
	st->cls[0].spans = st->cls[0].objects = st->cls[0].inuse = ga_heap.large_objects;
	for (unsigned c = 1; c < GA_NUM_CLASSES; c++) {
		struct galloc_class_stats *cs = &st->cls[c];
		uint64_t nelems = ga_class_npages[c] * GA_PAGE_SIZE / ga_class_size[c];

		cs->spans = __atomic_load_n(&ga_heap.spans_by_class[2 * c], __ATOMIC_RELAXED) +
			    __atomic_load_n(&ga_heap.spans_by_class[2 * c + 1], __ATOMIC_RELAXED);
		cs->objects = cs->spans * nelems;
	}
	st->tiny_spans = __atomic_load_n(&ga_heap.spans_by_class[GA_SPC_TINY], __ATOMIC_RELAXED);
	pthread_mutex_unlock(&ga_heap.lock);

	for (unsigned c = 0; c < GA_NUM_CLASSES; c++) {
		struct galloc_class_stats *cs = &st->cls[c];

		cs->size = ga_class_size[c];
		cs->pages = ga_class_npages[c];
		if (c == 0)
			continue;
		cs->nalloc = na[2 * c] + na[2 * c + 1];
		cs->nfree = nf[2 * c] + nf[2 * c + 1];
		cs->inuse = cs->nalloc - cs->nfree;
	}
	st->tiny_allocs = na[GA_SPC_TINY];
	st->tiny_inuse = na[GA_SPC_TINY] - nf[GA_SPC_TINY];
	return 0;
}
