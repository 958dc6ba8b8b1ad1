/* SPDX-License-Identifier: MIT */
/*
 * alloc.c - allocation entry points: galloc and friends, object lookup for the GC.
 * The fast path itself (ga_alloc_small) is in internal.h so that malloc.c inlines it too.
 */
#include "internal.h"

#include <errno.h>

void *ga_alloc_large(size_t n, size_t align, unsigned flags)
{
	struct ga_span *s = ga_heap_alloc_large(n, align, flags);

	return s ? (void *)s->base : NULL;
}

GA_EXPORT void *galloc(size_t n, unsigned flags)
{
	struct ga_cache *c = ga_tls_cache;
	void *p;

	if (ga_likely(n <= GA_MAX_SMALL_SIZE)) {
		unsigned cls, noscan = flags & GALLOC_NOSCAN;

		if (noscan && n - 1 < GA_TINY_SIZE - 1) {
			p = ga_alloc_tiny(c, n);
			if (p && (flags & GALLOC_ZERO))
				memset(p, 0, n);
			return p;
		}
		cls = ga_size_to_class(n);
		p = ga_alloc_small(c, cls << 1 | noscan);
		if (p && (flags & GALLOC_ZERO))
			memset(p, 0, ga_class_size[cls]);
		return p;
	}
	return ga_alloc_large(n, GA_PAGE_SIZE, flags);
}

/* Smallest class >= n whose size is a multiple of align (align <= page): slots are aligned. */
void *ga_alloc_aligned(size_t n, size_t align, unsigned flags)
{
	unsigned noscan = flags & GALLOC_NOSCAN;

	if (align == 0 || (align & (align - 1)))
		return NULL;
	if (align <= GA_PAGE_SIZE && n <= GA_MAX_SMALL_SIZE) {
		unsigned cls = ga_size_to_class(n);

		while (cls < GA_NUM_CLASSES && (ga_class_size[cls] & (align - 1)))
			cls++;
		if (cls < GA_NUM_CLASSES) {
			void *p = ga_alloc_small(ga_tls_cache, cls << 1 | noscan);
			if (p && (flags & GALLOC_ZERO))
				memset(p, 0, ga_class_size[cls]);
			return p;
		}
	}
	return ga_alloc_large(n ? n : 1, align < GA_PAGE_SIZE ? GA_PAGE_SIZE : align, flags);
}

GA_EXPORT void *galloc_aligned(size_t n, size_t align, unsigned flags)
{
	return ga_alloc_aligned(n, align, flags);
}

size_t ga_usable_size(const void *p)
{
	struct ga_span *s = ga_object_span(p, "malloc_usable_size");

	if (s->spc < 2)
		return (size_t)s->npages * GA_PAGE_SIZE - ((uintptr_t)p - s->base);
	if (s->spc == GA_SPC_TINY)
		return 0;
	return s->elemsize;
}

GA_EXPORT size_t gsize(const void *p)
{
	return p ? ga_usable_size(p) : 0;
}

void *ga_realloc(void *p, size_t n, unsigned flags)
{
	struct ga_span *s;
	size_t old, keep;
	void *q;

	if (!p && (flags & GA_ALLOC_MALLOC))
		return n <= GA_MAX_SMALL_SIZE ? ga_alloc_small(ga_tls_cache, ga_size_to_class16(n) << 1)
					      : ga_alloc_large(n, GA_PAGE_SIZE, 0);
	if (!p)
		return galloc(n, flags);
	s = ga_object_span(p, "realloc");
	ga_free_collected(p, s, "realloc");
	flags = (flags & ~GALLOC_NOSCAN) | (ga_spc_noscan(s->spc) ? GALLOC_NOSCAN : 0);
	if (s->spc == GA_SPC_TINY) {
		/* the old size is unknown: keep what fits, up to the end of the block */
		old = GA_TINY_SIZE - ((uintptr_t)p & (GA_TINY_SIZE - 1));
	} else if (s->spc < 2) {
		old = ga_usable_size(p);
		if (n > GA_MAX_SMALL_SIZE && (uintptr_t)p == s->base && ga_heap_resize_large(s, n)) {
			size_t now = ga_usable_size(p);
			if ((flags & GALLOC_ZERO) && now > old)
				memset((char *)p + old, 0, now - old);
			return p;
		}
	} else {
		old = s->elemsize;
		if (n <= old && n >= old / 2)
			return p;
	}
	if ((flags & GA_ALLOC_MALLOC) && n <= GA_MAX_SMALL_SIZE)
		q = ga_alloc_small(ga_tls_cache, ga_size_to_class16(n) << 1);
	else if ((flags & GALLOC_NOSCAN) && n <= GA_MAX_SMALL_SIZE)
		/* never a tiny object: it could share p's block, which we copy to its end */
		q = ga_alloc_small(ga_tls_cache, ga_size_to_class(n) << 1 | 1);
	else
		q = galloc(n, flags & ~(GALLOC_ZERO | GA_ALLOC_MALLOC));
	if (!q)
		return NULL;
	keep = old < n ? old : n;
	memcpy(q, p, keep);
	if (flags & GALLOC_ZERO) {
		size_t now = gsize(q) ? gsize(q) : n;
		if (now > keep)
			memset((char *)q + keep, 0, now - keep);
	}
	gfree(p);
	return q;
}

GA_EXPORT void *grealloc(void *p, size_t n, unsigned flags)
{
	return ga_realloc(p, n, flags);
}

GA_EXPORT int galloc_find(const void *addr, struct galloc_object *obj)
{
	struct ga_arena *a = ga_arena_of(addr);
	struct ga_span *s;
	uintptr_t off;
	size_t page;

	if (!a)
		return -ENOENT;
	if (a->huge_page) {
		s = a->huge_span;
		if (!s || (uintptr_t)addr < s->base ||
		    (uintptr_t)addr - s->base >= (size_t)s->npages * GA_PAGE_SIZE)
			return -ENOENT;
	} else {
		page = ((uintptr_t)addr - a->base) >> GA_PAGE_SHIFT;
		s = __atomic_load_n(&a->spans[page], __ATOMIC_ACQUIRE);
		if (!s || s->state == GA_SPAN_STASHED)
			return -ENOENT; /* a free page, or one of a span in the heap's stash */
	}
	off = (uintptr_t)addr - s->base;
	obj->span_base = (void *)s->base;
	obj->span_pages = s->npages;
	if (s->spc < 2) {
		obj->base = (void *)s->base;
		obj->size = (size_t)s->npages * GA_PAGE_SIZE;
		obj->sizeclass = 0;
		obj->noscan = s->spc & 1;
		obj->index = 0;
		return 0;
	}
	obj->index = (size_t)(((uint64_t)off * s->divmul) >> 32);
	if (obj->index >= s->nelems)
		return -ENOENT; /* the tail past the last slot */
	obj->size = s->elemsize;
	obj->base = (void *)(s->base + obj->index * s->elemsize);
	obj->sizeclass = ga_spc_class(s->spc);
	obj->noscan = ga_spc_noscan(s->spc);
	return 0;
}

GA_EXPORT void *galloc_base(const void *addr)
{
	struct galloc_object o;

	return galloc_find(addr, &o) ? NULL : o.base;
}
