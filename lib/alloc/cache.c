/* SPDX-License-Identifier: MIT */
/*
 * cache.c - per-P / per-thread caches (Go's mcache): refilling, thread caches, release.
 *
 * A thread starts with ga_tls_cache == &ga_cache_empty, whose every current span is
 * &ga_span_empty (no free slot): its first allocation falls into ga_alloc_refill, which gives
 * the thread a real cache. No test for "no cache yet" on the fast path.
 */
#include "internal.h"

#include <errno.h>

struct ga_span ga_span_empty = { .state = GA_SPAN_DEAD };
struct ga_cache ga_cache_empty = {
	.alloc = { [0 ... GA_NUM_SPC_ALL - 1] = &ga_span_empty },
};
__thread struct ga_cache *ga_tls_cache __attribute__((tls_model("initial-exec"))) =
	&ga_cache_empty;
static __thread struct ga_cache *ga_tls_own __attribute__((tls_model("initial-exec")));

pthread_mutex_t ga_caches_lock = PTHREAD_MUTEX_INITIALIZER;
struct ga_cache *ga_caches;         /* live caches, for stats and the checker */
static struct ga_cache *ga_cache_pool; /* released caches, reused */
static pthread_key_t ga_key;
_Atomic int ga_inited;

/* ---- init and fork ----------------------------------------------------------------------- */

static void ga_thread_exit(void *arg);

__thread bool ga_tls_all_locked __attribute__((tls_model("initial-exec")));

void ga_lock_all(void)
{
	pthread_mutex_lock(&ga_caches_lock);
	for (size_t i = 0; i < GA_SPC_GC0; i++)
		pthread_mutex_lock(&ga_central[i].lock);
	for (size_t i = 0; i < GA_NUM_SPC; i++)
		pthread_mutex_lock(&ga_gc_central[i].lock);
	pthread_mutex_lock(&ga_gc_large.lock);
	pthread_mutex_lock(&ga_heap.lock);
	ga_tls_all_locked = true;
}

void ga_unlock_all(void)
{
	ga_tls_all_locked = false;
	pthread_mutex_unlock(&ga_heap.lock);
	pthread_mutex_unlock(&ga_gc_large.lock);
	for (size_t i = GA_NUM_SPC; i-- > 0;)
		pthread_mutex_unlock(&ga_gc_central[i].lock);
	for (size_t i = GA_SPC_GC0; i-- > 0;)
		pthread_mutex_unlock(&ga_central[i].lock);
	pthread_mutex_unlock(&ga_caches_lock);
}

/*
 * At load time, before the program's constructors and main: the fork handlers are registered
 * before any the program registers, whose prepare handlers then run before ours takes the
 * locks (pthread_atfork runs them in reverse order). Those registered even earlier are let
 * through (ga_lock).
 */
__attribute__((constructor)) static void ga_init_at_load(void)
{
	ga_init();
}

void ga_init_slow(void)
{
	static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
	bool first = false;

	pthread_mutex_lock(&init_lock);
	if (!atomic_load_explicit(&ga_inited, memory_order_relaxed)) {
		pthread_key_create(&ga_key, ga_thread_exit);
		atomic_store_explicit(&ga_inited, 1, memory_order_release);
		/* may allocate: the heap works from here on */
		pthread_atfork(ga_lock_all, ga_unlock_all, ga_unlock_all);
		first = true;
	}
	pthread_mutex_unlock(&init_lock);
	if (first)
		ga_scavenger_start(); /* allocates (the thread's stack and TLS): no lock held */
}

/* ---- cache objects ----------------------------------------------------------------------- */

static struct ga_cache *ga_cache_create(void)
{
	struct ga_cache *c;

	ga_init();
	ga_lock(&ga_caches_lock);
	c = ga_cache_pool;
	if (c)
		ga_cache_pool = c->all_next;
	ga_unlock(&ga_caches_lock);
	if (!c) {
		c = ga_meta_alloc(sizeof(*c));
		if (!c)
			return NULL;
	}
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < GA_NUM_SPC_ALL; i++)
		c->alloc[i] = &ga_span_empty;
	c->live = true;
	ga_lock(&ga_caches_lock);
	c->all_next = ga_caches;
	if (ga_caches)
		ga_caches->all_prev = c;
	ga_caches = c;
	ga_unlock(&ga_caches_lock);
	return c;
}

static void ga_cache_free(struct ga_cache *c)
{
	ga_lock(&ga_caches_lock);
	if (c->all_prev)
		c->all_prev->all_next = c->all_next;
	else
		ga_caches = c->all_next;
	if (c->all_next)
		c->all_next->all_prev = c->all_prev;
	atomic_fetch_add_explicit(&ga_dead_tiny_allocs,
				  atomic_load_explicit(&c->tiny_allocs, memory_order_relaxed),
				  memory_order_relaxed);
	c->live = false;
	c->all_next = ga_cache_pool;
	ga_cache_pool = c;
	ga_unlock(&ga_caches_lock);
}

struct ga_cache *ga_cache_thread(void)
{
	struct ga_cache *c;

	/* first: the first initialization may start the scavenger thread, which allocates, and
	 * so gives this thread its cache (a cache made before would be orphaned) */
	ga_init();
	c = ga_tls_own;
	if (!c) {
		c = ga_cache_create();
		if (!c)
			return NULL;
		c->is_thread = true;
		ga_tls_own = c;
		ga_tls_cache = c;
		/* may allocate (glibc's second-level key array): the cache is in place already */
		pthread_setspecific(ga_key, c);
	}
	ga_tls_cache = c;
	return c;
}

/* ---- moving spans ------------------------------------------------------------------------ */

/*
 * Spans of c that got a remote free while NOTIFY was armed: full ones to partial. A span that
 * was no longer full (NOTIFY is disarmed lazily, see ga_span_park_full) is disarmed now; either
 * may have emptied meanwhile, its last local free deferring to this (in_unfull). A span whose
 * notifier is not done yet (it found the span queued already) is queued again, for the next
 * drain: until then it may not leave c's lists (internal.h, xfree).
 */
void ga_cache_drain_unfull(struct ga_cache *c)
{
	struct ga_span *s, *next;

	if (!atomic_load_explicit(&c->unfull, memory_order_relaxed))
		return;
	s = atomic_exchange_explicit(&c->unfull, NULL, memory_order_acquire);
	for (; s; s = next) {
		next = s->unfull_next;
		atomic_store_explicit(&s->in_unfull, 0, memory_order_release);
		GA_DEBUG_ASSERT(ga_span_cache(s) == c && s->state == GA_SPAN_CACHE,
				"span on the unfull stack of a cache that does not own it");
		if (atomic_load_explicit(&s->xfree, memory_order_acquire) & GA_XF_NOTIFYING) {
			/* whichever of us and its notifier sets in_unfull again queues s */
			if (!atomic_exchange_explicit(&s->in_unfull, 1, memory_order_acq_rel))
				ga_unfull_link(c, s);
			continue;
		}
		if (ga_span_full(s)) {
			ga_span_set_full(s, false);
			ga_list_remove(&c->full[s->spc], s);
			ga_list_push_back(&c->partial[s->spc], s);
		}
		ga_span_collect(s, 0);
		ga_cache_span_emptied(c, s);
	}
}

/* Give s a free slot: from its remote frees, or by threading more untouched slots. */
static bool ga_span_refill(struct ga_span *s)
{
	if (s->free)
		return true;
	if (ga_xf_ptr(atomic_load_explicit(&s->xfree, memory_order_relaxed)) &&
	    ga_span_collect(s, 0))
		return true;
	if (s->carved < s->nelems) {
		/* thread up to 4 KiB worth (at least one) onto the free list, in address order */
		uint32_t n = s->nelems - s->carved, max = 4096 / s->elemsize;
		char *p = (char *)s->base + (size_t)s->carved * s->elemsize;

		if (max == 0)
			max = 1;
		if (n > max)
			n = max;
		for (uint32_t i = 0; i + 1 < n; i++)
			((struct ga_block *)(p + (size_t)i * s->elemsize))->next =
				(struct ga_block *)(p + (size_t)(i + 1) * s->elemsize);
		((struct ga_block *)(p + (size_t)(n - 1) * s->elemsize))->next = NULL;
		s->free = (struct ga_block *)p;
		s->carved += n;
		return true;
	}
	return false;
}

/*
 * s has no free slot: park it in c's full list with NOTIFY armed (false: it got frees).
 * NOTIFY is disarmed lazily: a local free that takes s out of the full list leaves it armed,
 * and it is still armed here if no remote free came since. (Armed on a span that is not
 * full, it costs one needless notification at most: ga_cache_drain_unfull disarms it.)
 * A span whose notification is on its way (NOTIFYING) is parked unarmed: its notifier
 * queues it on c's unfull stack, and the drain takes it out of the full list again.
 */
static bool ga_span_park_full(struct ga_cache *c, struct ga_span *s)
{
	uintptr_t expect = atomic_load_explicit(&s->xfree, memory_order_relaxed);

	if (expect != GA_XF_NOTIFY && expect != GA_XF_NOTIFYING &&
	    (expect != 0 ||
	     !atomic_compare_exchange_strong_explicit(&s->xfree, &expect, GA_XF_NOTIFY,
						      memory_order_acq_rel, memory_order_relaxed))) {
		ga_span_collect(s, 0);
		return false;
	}
	ga_span_set_full(s, true);
	ga_list_push(&c->full[s->spc], s);
	return true;
}

/* The current span of spc has no free slot: find one, then allocate from it. */
ga_noinline void *ga_alloc_refill(struct ga_cache *c, unsigned spc)
{
	struct ga_span *s;

	if (c == &ga_cache_empty) {
		c = ga_cache_thread();
		if (!c)
			return NULL;
		return ga_alloc_small(c, spc);
	}
	s = c->alloc[spc];
	if (s != &ga_span_empty) {
		if (ga_span_refill(s))
			goto pop;
		/*
		 * Exhausted: to the back of partial, not parked. Local frees into it stay on the
		 * fast path, remote ones wait in xfree, and by the time the refill comes back to
		 * it more of it is free; only a span still exhausted then is parked full.
		 */
		ga_list_push_back(&c->partial[spc], s);
		c->alloc[spc] = &ga_span_empty;
	}
	ga_cache_drain_unfull(c);
	ga_scavenge_tick();
	while ((s = ga_list_pop(&c->partial[spc]))) {
		if (s->kept) {
			s->kept = 0;
			c->kept_pages -= s->npages;
		}
		if (ga_span_refill(s) || !ga_span_park_full(c, s))
			goto found;
	}
	s = ga_central_take(spc, c);
	if (!s) {
		s = ga_heap_alloc_span(spc);
		if (!s)
			return NULL;
		if (spc == GA_SPC_TINY)
			__atomic_store_n(&s->towner, c, __ATOMIC_RELAXED);
		else
			atomic_store_explicit(&s->owner, c, memory_order_relaxed);
	}
	ga_span_refill(s);
found:
	c->alloc[spc] = s;
pop:
	GA_DEBUG_SPAN(c->alloc[spc], "refill");
	return ga_alloc_small(c, spc);
}

/* ---- releasing --------------------------------------------------------------------------- */

static void ga_tiny_drop(struct ga_cache *c);

static void ga_release_span(struct ga_span *s)
{
	struct ga_central *ct = &ga_central[s->spc];

	ga_lock(&ct->lock);
	atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
	__atomic_store_n(&s->towner, NULL, __ATOMIC_RELAXED);
	ga_central_put_locked(ct, s);
	ga_unlock(&ct->lock);
}

/*
 * Spans that were pushed on c's unfull stack while c released them: pass the notification on
 * to whoever holds the span now, another cache (in_unfull stays set: the span moves to that
 * cache's stack) or central (in_unfull cleared, and the span put again: it may be all free).
 */
static void ga_unfull_replay(struct ga_cache *c)
{
	struct ga_span *s = atomic_exchange_explicit(&c->unfull, NULL, memory_order_acquire), *next;

	for (; s; s = next) {
		struct ga_central *ct = &ga_central[s->spc];
		struct ga_cache *o;

		next = s->unfull_next;
		ga_lock(&ct->lock);
		o = ga_span_cache(s);
		if (o) {
			GA_DEBUG_ASSERT(o != c && s->state == GA_SPAN_CACHE,
					"queued span still owned by the released cache");
			ga_unfull_link(o, s);
		} else {
			struct ga_spanlist *l = s->state == GA_SPAN_FULL ? &ct->full : &ct->partial;

			GA_DEBUG_ASSERT(s->state == GA_SPAN_PARTIAL || s->state == GA_SPAN_FULL,
					"queued span neither a cache's nor central's");
			atomic_store_explicit(&s->in_unfull, 0, memory_order_release);
			ga_list_remove(l, s);
			ga_central_put_locked(ct, s);
		}
		ga_unlock(&ct->lock);
	}
}

/* Hand every span of c back to central (or the heap). c stays usable (empty). */
void ga_cache_release(struct ga_cache *c)
{
	struct ga_span *s;

	ga_cache_drain_unfull(c);
	ga_tiny_drop(c);
	ga_gc_cache_flush(c, NULL);
	for (unsigned spc = 0; spc < GA_SPC_GC0; spc++) {
		s = c->alloc[spc];
		c->alloc[spc] = &ga_span_empty;
		if (s != &ga_span_empty)
			ga_release_span(s);
		while ((s = ga_list_pop(&c->partial[spc]))) {
			s->kept = 0;
			ga_release_span(s);
		}
		while ((s = ga_list_pop(&c->full[spc])))
			ga_release_span(s);
	}
	c->kept_pages = 0;
	ga_cache_release_flush(c);
	ga_unfull_replay(c);
}

static void ga_thread_exit(void *arg)
{
	struct ga_cache *c = arg;

	if (ga_tls_cache == c)
		ga_tls_cache = &ga_cache_empty;
	ga_tls_own = NULL;
	ga_cache_release(c);
	ga_cache_free(c);
}

/* ---- tiny blocks -------------------------------------------------------------------------- */

/* Drop the cache's hold on its current tiny block. */
static void ga_tiny_drop(struct ga_cache *c)
{
	uintptr_t blk = c->tiny;
	struct ga_span *s;
	size_t i;

	if (!blk)
		return;
	c->tiny = 0;
	s = ga_span_of_fast((void *)blk);
	i = (blk - s->base) / GA_TINY_SIZE;
	if (atomic_fetch_sub_explicit(&s->tinyref[i], 1, memory_order_acq_rel) == 1)
		ga_free_block(c, s, (struct ga_block *)blk);
}

/*
 * A tiny object (0 < n < 16, pointer-free): carved from the cache's current 16-byte block,
 * aligned as Go does. Each block counts its live objects plus one while it is current.
 */
void *ga_alloc_tiny(struct ga_cache *c, size_t n)
{
	uintptr_t off;
	struct ga_block *b;
	struct ga_span *s;

	if (c == &ga_cache_empty && !(c = ga_cache_thread()))
		return NULL;
	off = c->tinyoff;
	if ((n & 7) == 0)
		off = (off + 7) & ~(uintptr_t)7;
	else if ((n & 3) == 0)
		off = (off + 3) & ~(uintptr_t)3;
	else if ((n & 1) == 0)
		off = (off + 1) & ~(uintptr_t)1;
	if (c->tiny && off + n <= GA_TINY_SIZE) {
		void *p = (void *)(c->tiny + off);
		s = ga_span_of_fast(p);
		atomic_fetch_add_explicit(&s->tinyref[(c->tiny - s->base) / GA_TINY_SIZE], 1,
					  memory_order_relaxed);
		c->tinyoff = off + n;
		ga_stat_inc(&c->tiny_allocs);
		return p;
	}
	b = ga_alloc_small(c, GA_SPC_TINY);
	if (!b)
		return NULL;
	s = ga_span_of_fast(b);
	atomic_store_explicit(&s->tinyref[((uintptr_t)b - s->base) / GA_TINY_SIZE], 2,
			      memory_order_relaxed);
	ga_tiny_drop(c);
	c->tiny = (uintptr_t)b;
	c->tinyoff = n;
	ga_stat_inc(&c->tiny_allocs);
	return b;
}

/* ---- public ------------------------------------------------------------------------------- */

GA_EXPORT struct galloc_cache *galloc_cache_new(void)
{
	return (struct galloc_cache *)ga_cache_create();
}

GA_EXPORT struct galloc_cache *galloc_cache_bind(struct galloc_cache *gc)
{
	struct ga_cache *prev = ga_tls_cache, *c = (struct ga_cache *)gc;

	if (!c)
		c = ga_tls_own ? ga_tls_own : &ga_cache_empty;
	ga_tls_cache = c;
	if (prev == &ga_cache_empty || prev == ga_tls_own)
		return NULL;
	return (struct galloc_cache *)prev;
}

GA_EXPORT void galloc_cache_destroy(struct galloc_cache *gc)
{
	struct ga_cache *c = (struct ga_cache *)gc;

	if (!c)
		return;
	ga_cache_release(c);
	ga_cache_free(c);
}

GA_EXPORT void galloc_cache_flush(void)
{
	struct ga_cache *c = ga_tls_cache;

	if (c != &ga_cache_empty)
		ga_cache_release(c);
}
