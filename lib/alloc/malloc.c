/* SPDX-License-Identifier: MIT */
/*
 * malloc.c - the drop-in malloc (build/alloc/libgochan-malloc.so, for LD_PRELOAD or linking).
 *
 * Every object is "scan" (malloc cannot know better) and never tiny, and aligned to 16 =
 * alignof(max_align_t) as glibc's are (compilers rely on it: clang stores a new T of 17 to
 * 24 bytes with movaps): never from the 8- or 24-byte class (ga_size_to_class16), and
 * memalign and friends with an alignment up to 16 are plain mallocs. Semantics follow glibc:
 *   malloc(0) returns a unique pointer; realloc(p, 0) frees p and returns NULL;
 *   calloc and reallocarray fail with ENOMEM on overflow; posix_memalign returns EINVAL unless
 *   align is a power of two multiple of sizeof(void *); memalign rounds align up to a power
 *   of two (EINVAL past 2^63); failures set errno to ENOMEM.
 * Start-up: a constructor (cache.c ga_init_at_load) registers the fork handlers at load time;
 * the first allocation of a thread makes its cache; pthread_setspecific and pthread_atfork may
 * call malloc back meanwhile, which is fine because the cache (or the heap) is usable before
 * they are called. No dlsym: we never call the libc allocator. Fork: pthread_atfork takes
 * every allocator lock around fork(), and lets the forking thread's own allocations (other
 * atfork handlers') through meanwhile (internal.h ga_lock).
 * Compiled with -fno-builtin-malloc etc. so that the compiler cannot turn malloc + memset in
 * here into a call to calloc (ourselves).
 */
#include "internal.h"

#include <errno.h>
#include <unistd.h>

#define GA_MALLOC_EXPORT __attribute__((visibility("default")))

static ga_cold void *ga_malloc_large(size_t n)
{
	void *p = ga_alloc_large(n, GA_PAGE_SIZE, 0);

	if (!p)
		errno = ENOMEM;
	return p;
}

/* The refill, setting errno when out of memory: the fast path tail-calls it (no frame). */
static ga_noinline void *ga_malloc_refill(struct ga_cache *c, unsigned spc)
{
	void *p = ga_alloc_refill(c, spc);

	if (!p)
		errno = ENOMEM;
	return p;
}

static inline void *ga_malloc(size_t n)
{
	if (ga_likely(n <= GA_SMALL_SIZE_MAX))
		return ga_alloc_small_with(ga_tls_cache,
					   (size_t)ga_size_class16[(n + 15) >> 4] << 1,
					   ga_malloc_refill);
	if (n <= GA_MAX_SMALL_SIZE)
		return ga_alloc_small_with(ga_tls_cache, ga_size_to_class16(n) << 1,
					   ga_malloc_refill);
	return ga_malloc_large(n);
}

GA_MALLOC_EXPORT void *malloc(size_t n)
{
	return ga_malloc(n);
}

GA_MALLOC_EXPORT void free(void *p)
{
	if (ga_likely(p != NULL))
		ga_free(ga_tls_cache, p);
}

GA_MALLOC_EXPORT void *calloc(size_t n, size_t m)
{
	size_t t;
	void *p;

	if (__builtin_mul_overflow(n, m, &t)) {
		errno = ENOMEM;
		return NULL;
	}
	if (t > GA_MAX_SMALL_SIZE) {
		p = ga_alloc_large(t, GA_PAGE_SIZE, GALLOC_ZERO); /* fresh pages are not rewritten */
		if (!p)
			errno = ENOMEM;
		return p;
	}
	p = ga_malloc(t);
	if (p)
		memset(p, 0, t);
	return p;
}

GA_MALLOC_EXPORT void *realloc(void *p, size_t n)
{
	void *q;

	if (p && n == 0) {
		free(p);
		return NULL;
	}
	q = ga_realloc(p, n, GA_ALLOC_MALLOC);
	if (!q)
		errno = ENOMEM;
	return q;
}

GA_MALLOC_EXPORT void *reallocarray(void *p, size_t n, size_t m)
{
	size_t t;

	if (__builtin_mul_overflow(n, m, &t)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, t);
}

static void *ga_memalign(size_t align, size_t n)
{
	void *p;

	if (align <= 16) /* malloc's slots are */
		return ga_malloc(n);
	p = ga_alloc_aligned(n, align, 0);
	if (!p)
		errno = ENOMEM;
	return p;
}

GA_MALLOC_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = align <= 16 ? ga_malloc(n) : ga_alloc_aligned(n, align, 0);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

GA_MALLOC_EXPORT void *aligned_alloc(size_t align, size_t n)
{
	if (align == 0 || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return ga_memalign(align, n);
}

GA_MALLOC_EXPORT void *memalign(size_t align, size_t n)
{
	if (align > SIZE_MAX / 2 + 1) { /* no power of two to round it up to: glibc's EINVAL */
		errno = EINVAL;
		return NULL;
	}
	if (align & (align - 1)) /* glibc: round up to a power of two */
		align = (size_t)1 << (64 - __builtin_clzll(align));
	if (align == 0)
		align = 1;
	return ga_memalign(align, n);
}

GA_MALLOC_EXPORT void *valloc(size_t n)
{
	return ga_memalign((size_t)sysconf(_SC_PAGESIZE), n);
}

GA_MALLOC_EXPORT void *pvalloc(size_t n)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);

	if (n > SIZE_MAX - ps) {
		errno = ENOMEM;
		return NULL;
	}
	return ga_memalign(ps, (n + ps - 1) & ~(ps - 1));
}

GA_MALLOC_EXPORT size_t malloc_usable_size(void *p)
{
	return p ? ga_usable_size(p) : 0;
}

GA_MALLOC_EXPORT int malloc_trim(size_t pad)
{
	return galloc_scavenge(pad) > 0;
}

/* glibc's internal names, for programs that call them directly */
GA_MALLOC_EXPORT void *__libc_malloc(size_t n) __attribute__((alias("malloc")));
GA_MALLOC_EXPORT void __libc_free(void *p) __attribute__((alias("free")));
GA_MALLOC_EXPORT void *__libc_calloc(size_t n, size_t m) __attribute__((alias("calloc")));
GA_MALLOC_EXPORT void *__libc_realloc(void *p, size_t n) __attribute__((alias("realloc")));
GA_MALLOC_EXPORT void *__libc_memalign(size_t a, size_t n) __attribute__((alias("memalign")));
GA_MALLOC_EXPORT void *__libc_valloc(size_t n) __attribute__((alias("valloc")));
GA_MALLOC_EXPORT void *__libc_pvalloc(size_t n) __attribute__((alias("pvalloc")));
