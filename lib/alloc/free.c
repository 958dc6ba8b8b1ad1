/* SPDX-License-Identifier: MIT */
/*
 * free.c - freeing: the local fast path (internal.h ga_free), remote frees, notifications.
 *
 * A free is local when the freeing thread's cache owns the span (plain stores, like an
 * allocation); otherwise it is one CAS pushing the block on the span's xfree list
 * (mimalloc's thread_free). The owner collects xfree when its free list runs dry.
 * A span that nobody would look at (full in its cache, or in central) has GA_XF_NOTIFY armed:
 * the remote free that consumes it (setting GA_XF_NOTIFYING) also tells the holder, under
 * central[spc].lock, and then clears NOTIFYING:
 *   owned by a cache -> queued on the cache's unfull stack, the cache moves it to partial;
 *   in central       -> collected there: to partial, or back to the heap if all free.
 * While NOTIFYING is set the span stays out of the heap (internal.h, xfree), so the notifier
 * finds it where one of these two cases says.
 */
#include "internal.h"

_Atomic uint64_t ga_dead_tiny_allocs;

/* Push s on o's unfull stack; the caller set s->in_unfull (and found it clear). */
void ga_unfull_link(struct ga_cache *o, struct ga_span *s)
{
	struct ga_span *head = atomic_load_explicit(&o->unfull, memory_order_relaxed);

	do {
		s->unfull_next = head;
	} while (!atomic_compare_exchange_weak_explicit(&o->unfull, &head, s, memory_order_release,
							memory_order_relaxed));
}

#ifdef GA_DEBUG
void (*ga_debug_notify_hook)(struct ga_span *s);
#endif

/* The remote free that consumed NOTIFY on s (of span class spc) tells s's holder. */
static ga_noinline void ga_free_notify(struct ga_span *s, unsigned spc)
{
	struct ga_central *ct = &ga_central[spc];
	struct ga_cache *o;

#ifdef GA_DEBUG
	if (ga_debug_notify_hook)
		ga_debug_notify_hook(s);
#endif
	ga_lock(&ct->lock);
	/* NOTIFYING kept s out of the heap: it is a cache's or central's (internal.h, xfree) */
	GA_DEBUG_ASSERT(s->spc == spc && (atomic_load(&s->xfree) & GA_XF_NOTIFYING) &&
				(s->state == GA_SPAN_CACHE) == (ga_span_cache(s) != NULL) &&
				(s->state == GA_SPAN_CACHE || s->state == GA_SPAN_PARTIAL ||
				 s->state == GA_SPAN_FULL),
			"notification for a span no longer held");
	o = ga_span_cache(s);
	if (o) {
		/* queued before NOTIFYING clears: the owner, seeing it clear, sees in_unfull set
		 * (ga_cache_span_emptied); already queued, its drain will look at s after this */
		bool queue = !atomic_exchange_explicit(&s->in_unfull, 1, memory_order_acq_rel);

		atomic_fetch_and_explicit(&s->xfree, ~GA_XF_NOTIFYING, memory_order_release);
		if (queue)
			ga_unfull_link(o, s);
	} else {
		struct ga_spanlist *l = s->state == GA_SPAN_FULL ? &ct->full : &ct->partial;

		atomic_fetch_and_explicit(&s->xfree, ~GA_XF_NOTIFYING, memory_order_relaxed);
		ga_span_collect(s, GA_XF_NOTIFY);
		if (ga_span_used(s) == 0 && !atomic_load_explicit(&s->in_unfull, memory_order_acquire)) {
			ga_list_remove(l, s);
			atomic_store_explicit(&s->xfree, 0, memory_order_relaxed);
			ga_heap_free_span(s);
		} else if (s->state == GA_SPAN_FULL && s->free) {
			ga_list_remove(l, s);
			s->state = GA_SPAN_PARTIAL;
			ga_list_push(&ct->partial, s);
		}
		atomic_store_explicit(&ct->npartial, ct->partial.n, memory_order_relaxed);
	}
	ga_unlock(&ct->lock);
}

static void ga_free_remote(struct ga_span *s, struct ga_block *b)
{
	unsigned spc = s->spc; /* before the push: after it, s may be emptied and given away */
	uintptr_t old = atomic_load_explicit(&s->xfree, memory_order_relaxed), nw;

	do {
		b->next = ga_xf_ptr(old);
		/* NOTIFY (bit 0) becomes NOTIFYING (bit 1, ours to clear), NOTIFYING stays */
		nw = (uintptr_t)b | ((uintptr_t)(ga_xf_cnt(old) + 1) << GA_XF_CNT_SHIFT) |
		     ((old | old << 1) & GA_XF_NOTIFYING);
	} while (!atomic_compare_exchange_weak_explicit(&s->xfree, &old, nw, memory_order_release,
							memory_order_relaxed));
	if (ga_unlikely(old & GA_XF_NOTIFY))
		ga_free_notify(s, spc);
}

/*
 * After a local free emptied s or freed into a full span (ga_span_full). c owns s.
 * Empty spans go back to the heap, except the current one (alloc/free pairs would thrash).
 */
void ga_free_local_slow(struct ga_cache *c, struct ga_span *s)
{
	unsigned spc = s->spc;

	GA_DEBUG_SPAN(s, "local free");
	if (ga_span_full(s)) {
		/* NOTIFY stays armed (see ga_span_park_full): disarming it would be an atomic
		 * exchange, which waits for the stores of the frees before it */
		ga_span_set_full(s, false);
		ga_list_remove(&c->full[spc], s);
		/* at the back: by the time the refill reaches it, more of it will be free
		 * (at the front, a span with one free slot would go full again at once) */
		ga_list_push_back(&c->partial[spc], s);
	}
	ga_cache_span_emptied(c, s);
}

/*
 * s, c's and in its partial list unless current, may have no object in use now: if so, and
 * no notification about it is on its way (in_unfull), keep it (first in line for the next
 * refill of its class) within GA_KEEP_PAGES, or give it back to the heap with the next batch
 * once no notification can reach it any more (not NOTIFYING; else the notifier queues it on
 * c's unfull stack and the drain calls this again).
 */
void ga_cache_span_emptied(struct ga_cache *c, struct ga_span *s)
{
	unsigned spc = s->spc;

	if (ga_span_used(s) != 0 || s == c->alloc[spc] || s->kept ||
	    atomic_load_explicit(&s->in_unfull, memory_order_acquire))
		return;
	if (spc != GA_SPC_TINY && c->kept_pages + s->npages <= GA_KEEP_PAGES) {
		/* keep it, first in line for the next refill of its class */
		ga_list_remove(&c->partial[spc], s);
		s->kept = 1;
		c->kept_pages += s->npages;
		ga_list_push(&c->partial[spc], s);
		return;
	}
	/* NOTIFYING read first: its notifier sets in_unfull before clearing it (ga_free_notify) */
	if ((atomic_load_explicit(&s->xfree, memory_order_acquire) & GA_XF_NOTIFYING) ||
	    atomic_load_explicit(&s->in_unfull, memory_order_relaxed))
		return;
	ga_list_remove(&c->partial[spc], s);
	atomic_store_explicit(&s->xfree, 0, memory_order_relaxed);
	c->release[c->nrelease++] = s;
	if (c->nrelease == GA_RELEASE_BATCH)
		ga_cache_release_flush(c);
}

/* Give the spans of c's release batch to the heap: one lock for all of them. */
void ga_cache_release_flush(struct ga_cache *c)
{
	for (uint32_t i = 0; i < c->nrelease; i++) {
		atomic_store_explicit(&c->release[i]->owner, NULL, memory_order_relaxed);
		__atomic_store_n(&c->release[i]->towner, NULL, __ATOMIC_RELAXED);
	}
	ga_heap_free_spans(c->release, c->nrelease);
	c->nrelease = 0;
}

/* Free block b of small span s (tiny blocks included) from cache c. */
void ga_free_block(struct ga_cache *c, struct ga_span *s, struct ga_block *b)
{
	if (ga_span_cache(s) == c) {
		b->next = s->free;
		s->free = b;
		if (--*(int32_t *)&s->ucount < 0)
			ga_free_local_slow(c, s);
		return;
	}
	ga_free_remote(s, b);
}

/* ---- what is no object ------------------------------------------------------------------ */

/*
 * p (op: "free", "realloc"...) is no object in use: say what it is, then abort. s is the span
 * at p's page, or NULL: a free page if p is in an arena, else no memory of the heap at all.
 */
void ga_free_bad(const void *p, const struct ga_span *s, const char *op)
{
	struct ga_arena *a = ga_arena_of(p);

	if (!s && a && a->huge_page) /* only the huge object's first page has its span */
		s = __atomic_load_n(&a->huge_span, __ATOMIC_RELAXED);
	if (!s && ga_arena_head(p))
		ga_fatal("%s(%p): in a free page of the heap (freed twice?)", op, p);
	if (!s)
		ga_fatal("%s(%p): not allocated by this heap", op, p);
	if (s->spc < 2)
		ga_fatal("%s(%p): inside the object at %#lx (%lu bytes)", op, p,
			 (unsigned long)s->base, (unsigned long)s->npages * GA_PAGE_SIZE);
	if (s->state == GA_SPAN_STASHED)
		ga_fatal("%s(%p): in a free span (freed twice?)", op, p);
	if (s->spc == GA_SPC_TINY)
		ga_fatal("%s(%p): in a tiny block not in use (freed twice?)", op, p);
	ga_fatal("%s(%p): not an object start of its %u-byte class (inside the one at %#lx?)", op,
		 p, s->elemsize,
		 (unsigned long)(s->base + (((uintptr_t)p - s->base) * s->divmul >> 32) * s->elemsize));
}

/*
 * s is the span at p's page (or NULL): p must be an object there (for tiny spans, in a block
 * in use). Any thread may ask, so only what does not change while an object of s lives is
 * read (not state, carved: the holder's): enough to catch what is plainly no object, never a
 * false alarm for one that is. (A small object freed twice after its span went back to the
 * heap is not caught.)
 */
static void ga_object_check(const struct ga_span *s, const void *p, const char *op)
{
	if (!s)
		ga_free_bad(p, s, op);
	if (s->spc < 2) {
		if (s->state != GA_SPAN_LARGE || (uintptr_t)p != s->base)
			ga_free_bad(p, s, op);
		return;
	}
	if (s->spc == GA_SPC_TINY) {
		size_t i = ((uintptr_t)p - s->base) / GA_TINY_SIZE;

		if (!s->tinyref || i >= s->nelems ||
		    !atomic_load_explicit(&s->tinyref[i], memory_order_relaxed))
			ga_free_bad(p, s, op);
		return;
	}
	if (!ga_span_slot(s, p, s->nelems))
		ga_free_bad(p, s, op);
}

/* p's 64 MiB slot begins no arena: a huge object aligned past its arena's first slot, or
 * no object of ours. */
static struct ga_span *ga_huge_object(const void *p, const char *op)
{
	struct ga_arena *a = ga_arena_of(p);
	struct ga_span *s = a && a->huge_page ? __atomic_load_n(&a->huge_span, __ATOMIC_RELAXED)
					      : NULL;

	if (!s || (uintptr_t)p != s->base)
		ga_free_bad(p, s, op);
	return s;
}

void ga_free_outside(void *p)
{
	struct ga_span *s = ga_huge_object(p, "free");

	ga_free_collected(p, s, "free");
	ga_heap_free_span(s);
}

struct ga_span *ga_object_span(const void *p, const char *op)
{
	struct ga_span *s;

	if (!ga_arena_head(p))
		return ga_huge_object(p, op);
	s = ga_span_of_fast(p);
	ga_object_check(s, p, op);
	return s;
}

/* ---- the slow path ------------------------------------------------------------------------ */

/* A collected object (go_new) is the collector's to free (or reallocate). */
void ga_free_collected(const void *p, const struct ga_span *s, const char *op)
{
	if (s && __atomic_load_n(&s->gcmarks, __ATOMIC_RELAXED))
		ga_fatal("%s(%p): a collected object (go_new): only the garbage collector frees it",
			 op, p);
}

/* Large objects, tiny objects, collected objects and what is no object. */
static ga_noinline void ga_free_other(struct ga_cache *c, struct ga_span *s, void *p)
{
	uintptr_t blk;
	size_t i;

	ga_free_collected(p, s, "free");
	ga_object_check(s, p, "free");
	if (s->spc < 2) { /* size class 0: a large object (spc never changes while s lives) */
		ga_heap_free_span(s);
		return;
	}
	blk = (uintptr_t)p & ~(uintptr_t)(GA_TINY_SIZE - 1);
	i = (blk - s->base) / GA_TINY_SIZE;
	if (atomic_fetch_sub_explicit(&s->tinyref[i], 1, memory_order_acq_rel) == 1)
		ga_free_block(c, s, (struct ga_block *)blk);
}

/* Everything the fast path does not do: remote frees here, the rest in ga_free_other. */
void ga_free_slow(struct ga_cache *c, struct ga_span *s, void *p)
{
	if (ga_likely(s && s->spc >= 2 && s->spc < GA_SPC_TINY)) {
		if (ga_unlikely(!ga_span_slot(s, p, s->nelems)))
			ga_free_bad(p, s, "free");
		ga_free_remote(s, p);
		return;
	}
	ga_free_other(c, s, p);
}

GA_EXPORT void gfree(void *p)
{
	if (p)
		ga_free(ga_tls_cache, p);
}
