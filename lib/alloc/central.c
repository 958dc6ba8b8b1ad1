/* SPDX-License-Identifier: MIT */
/*
 * central.c - per span class lists of spans no cache owns (Go's mcentral), and span lists.
 *
 * Invariants (central[spc].lock held):
 *   every span in partial has state PARTIAL, owner NULL, a free slot (free != NULL or
 *   carved < nelems) and used > 0 (but see below); every span in full has state FULL,
 *   owner NULL, no free slot; in both, NOTIFY is armed or a remote free has consumed it and
 *   is on its way to ga_free_notify (NOTIFYING: it waits for this lock).
 * A span whose slots are all free leaves central for the heap at once (ga_central_put_locked,
 * ga_free_notify), unless a notification about it is on its way: it sits on a cache's unfull
 * stack (in_unfull: the cache's release finishes the job) or is NOTIFYING (its notifier
 * does).
 */
#include "internal.h"

struct ga_central ga_central[GA_SPC_GC0] = {
	[0 ... GA_SPC_GC0 - 1] = { .lock = PTHREAD_MUTEX_INITIALIZER },
};

void ga_list_push(struct ga_spanlist *l, struct ga_span *s)
{
	s->prev = NULL;
	s->next = l->first;
	if (l->first)
		l->first->prev = s;
	else
		l->last = s;
	l->first = s;
	l->n++;
}

void ga_list_push_back(struct ga_spanlist *l, struct ga_span *s)
{
	s->next = NULL;
	s->prev = l->last;
	if (l->last)
		l->last->next = s;
	else
		l->first = s;
	l->last = s;
	l->n++;
}

void ga_list_remove(struct ga_spanlist *l, struct ga_span *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		l->first = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		l->last = s->prev;
	s->next = s->prev = NULL;
	l->n--;
}

struct ga_span *ga_list_pop(struct ga_spanlist *l)
{
	struct ga_span *s = l->first;

	if (s)
		ga_list_remove(l, s);
	return s;
}

/*
 * Move the remote frees of s onto its free list and set xfree to rearm (0 or GA_XF_NOTIFY),
 * or keep it GA_XF_NOTIFYING while a notification is on its way. The caller holds s (owner,
 * or central lock). Returns the number of blocks collected.
 * When xfree already is rearm (no remote frees), it is left alone: an atomic operation would
 * also wait for every store before it, and the frees that led here leave many in flight.
 */
uint32_t ga_span_collect(struct ga_span *s, uintptr_t rearm)
{
	uintptr_t w = atomic_load_explicit(&s->xfree, memory_order_relaxed), nw;
	struct ga_block *head, *tail;
	uint32_t n;

	if (w == rearm)
		return 0;
	do {
		nw = w & GA_XF_NOTIFYING ? GA_XF_NOTIFYING : rearm;
		if (w == nw)
			return 0; /* notifying, nothing to take */
	} while (!atomic_compare_exchange_weak_explicit(&s->xfree, &w, nw, memory_order_acquire,
							memory_order_relaxed));
	head = ga_xf_ptr(w);
	n = ga_xf_cnt(w);
	if (!head)
		return 0;
	if (s->free) {
		for (tail = head; tail->next; tail = tail->next)
			;
		tail->next = s->free;
	}
	s->free = head;
	s->ucount -= n; /* n <= used */
	return n;
}

/*
 * Give s (no owner any more, its owner-side fields ours) to central; ct->lock held. An empty
 * span goes to the heap, unless a notification about it is on its way (in_unfull, or
 * notifying: that notifier waits for ct->lock and will finish the job).
 */
void ga_central_put_locked(struct ga_central *ct, struct ga_span *s)
{
	ga_span_collect(s, GA_XF_NOTIFY);
	ga_span_set_full(s, false);
	if (ga_span_used(s) == 0 && !atomic_load_explicit(&s->in_unfull, memory_order_acquire) &&
	    !(atomic_load_explicit(&s->xfree, memory_order_relaxed) & GA_XF_NOTIFYING)) {
		atomic_store_explicit(&s->xfree, 0, memory_order_relaxed);
		ga_heap_free_span(s);
	} else if (s->free || s->carved < s->nelems) {
		s->state = GA_SPAN_PARTIAL;
		ga_list_push(&ct->partial, s);
	} else {
		s->state = GA_SPAN_FULL;
		ga_list_push(&ct->full, s);
	}
	atomic_store_explicit(&ct->npartial, ct->partial.n, memory_order_relaxed);
}

/* A span with a free slot for cache c, or NULL. */
struct ga_span *ga_central_take(unsigned spc, struct ga_cache *c)
{
	struct ga_central *ct = &ga_central[spc];
	struct ga_span *s;

	if (!atomic_load_explicit(&ct->npartial, memory_order_relaxed))
		return NULL; /* racy peek: a span arriving meanwhile waits for the next refill */
	ga_lock(&ct->lock);
	s = ga_list_pop(&ct->partial);
	atomic_store_explicit(&ct->npartial, ct->partial.n, memory_order_relaxed);
	if (s) {
		ga_span_collect(s, 0);
		s->state = GA_SPAN_CACHE;
		if (spc == GA_SPC_TINY)
			__atomic_store_n(&s->towner, c, __ATOMIC_RELAXED);
		else
			atomic_store_explicit(&s->owner, c, memory_order_relaxed);
	}
	ga_unlock(&ct->lock);
	return s;
}
