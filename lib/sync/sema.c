/* SPDX-License-Identifier: MIT */
/*
 * sema.c - the runtime semaphore the sync types park on (Go's runtime/sema.go).
 *
 * A sema is a uint32_t inside the object; its waiters are kept outside it, in a table of
 * SEMTAB_SIZE roots hashed by the sema's address, so a Mutex is 8 bytes and zero-valued.
 * In a root, each address with waiters has one head waiter, linked with the other heads
 * (nexthead); its own waiters follow it (next), in queue order, and it knows the last
 * one (tail). Go keeps the heads in a treap; a list is enough for the few addresses that
 * wait in one root at once.
 *
 * The race between a waiter and a releaser is Dekker's: the waiter increments root->nwait
 * and then reads *addr; the releaser increments *addr and then reads root->nwait. Both
 * pairs are sequentially consistent, so at least one sees the other: either the waiter
 * takes the sema, or the releaser sees a waiter and takes the root's lock to wake it
 * (the waiter queued itself under that lock before it parked).
 *
 * Invariants, under root->lock:
 *   root->nwait == waiters queued in root + waiters between their increment and their
 *                  decrement or queueing (these hold root->lock: none while another holds it)
 *   a waiter is queued in at most one root, and only while its goroutine is parked or
 *   about to park (go_park's unlock callback drops the lock once it is off its stack)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

#define SEMTAB_SIZE 251		/* prime, as Go's semTabSize */

struct semawaiter {
	uint32_t *addr;
	struct go_g *g;
	struct semawaiter *next;	/* the next waiter on addr */
	struct semawaiter *tail;	/* a head's: the last waiter on addr */
	struct semawaiter *nexthead;	/* a head's: the head of the next address */
};

struct semaroot {
	go_lock_t lock;
	uint32_t nwait;			/* atomic (sequentially consistent; see the top) */
	struct semawaiter *heads;	/* under lock */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct semaroot) == 64, "one root a cache line");

static struct semaroot semtable[SEMTAB_SIZE];

struct sync_counters _go_sync_counters;

static inline struct semaroot *root_for(uint32_t *addr)
{
	return &semtable[((uintptr_t)addr >> 3) % SEMTAB_SIZE];
}

static inline bool cansemacquire(uint32_t *addr)
{
	uint32_t v = __atomic_load_n(addr, __ATOMIC_SEQ_CST);

	while (v != 0) {
		if (__atomic_compare_exchange_n(addr, &v, v - 1, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return true;
	}
	return false;
}

/* Queue w (w->addr set) in root, at the back of its address's waiters or, lifo, the front. */
static void queue(struct semaroot *root, struct semawaiter *w, bool lifo)
{
	struct semawaiter **pp, *h;

	w->next = w->tail = w->nexthead = NULL;
	for (pp = &root->heads; (h = *pp) != NULL; pp = &h->nexthead) {
		if (h->addr != w->addr)
			continue;
		go_assert(h->tail != NULL && h->tail->next == NULL);	/* a head */
		if (lifo) {		/* w takes h's place as the head */
			w->next = h;
			w->tail = h->tail;
			w->nexthead = h->nexthead;
			h->tail = h->nexthead = NULL;
			*pp = w;
		} else {
			h->tail->next = w;
			h->tail = w;
		}
		return;
	}
	w->tail = w;			/* the first waiter on addr: a new head */
	w->nexthead = root->heads;
	root->heads = w;
}

/* Take the first waiter on addr out of root, or NULL. */
static struct semawaiter *dequeue(struct semaroot *root, uint32_t *addr)
{
	struct semawaiter **pp, *h, *n;

	for (pp = &root->heads; (h = *pp) != NULL; pp = &h->nexthead) {
		if (h->addr != addr)
			continue;
		n = h->next;
		if (n) {		/* the next waiter becomes the head */
			n->tail = h->tail;
			n->nexthead = h->nexthead;
			*pp = n;
		} else {
			*pp = h->nexthead;
		}
		return h;
	}
	return NULL;
}

static bool root_unlock(struct go_g *g, void *arg)
{
	(void)g;
	_go_unlock(&((struct semaroot *)arg)->lock);
	return true;
}

void _go_semacquire(uint32_t *addr, bool lifo, const char *reason)
{
	struct semaroot *root;
	struct semawaiter w;

	if (cansemacquire(addr))
		return;
	root = root_for(addr);
	w.addr = addr;
	w.g = go_self();
	for (;;) {
		_go_lock(&root->lock);
		/* Count ourselves before the last look, so a release after it sees us. */
		__atomic_fetch_add(&root->nwait, 1, __ATOMIC_SEQ_CST);
		if (cansemacquire(addr)) {
			__atomic_fetch_sub(&root->nwait, 1, __ATOMIC_SEQ_CST);
			_go_unlock(&root->lock);
			return;
		}
		queue(root, &w, lifo);
		stat_inc(&_go_sync_counters.parks);
		/* go_ready's value: 1 when the releaser handed us the sema (a ticket). */
		if (go_park(root_unlock, root, reason) != 0 || cansemacquire(addr))
			return;
		/* Woken, but a newcomer took the sema first: wait again, at the front. */
		lifo = true;
	}
}

void _go_semrelease(uint32_t *addr, bool handoff)
{
	struct semaroot *root = root_for(addr);
	struct semawaiter *w;
	uintptr_t ticket = 0;

	__atomic_fetch_add(addr, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&root->nwait, __ATOMIC_SEQ_CST) == 0)
		return;			/* nobody waits (see the top) */
	_go_lock(&root->lock);
	if (__atomic_load_n(&root->nwait, __ATOMIC_SEQ_CST) == 0) {
		_go_unlock(&root->lock);
		return;
	}
	w = dequeue(root, addr);
	if (w) {
		uint32_t was = __atomic_fetch_sub(&root->nwait, 1, __ATOMIC_SEQ_CST);

		go_assert(was > 0 && w->addr == addr);	/* it was counted, and is addr's */
	}
	_go_unlock(&root->lock);
	if (!w)
		return;
	/* Take the sema back for w: no newcomer can have it between here and w's run. */
	if (handoff && cansemacquire(addr))
		ticket = 1;
	go_ready(w->g, ticket);		/* w is gone once its goroutine runs */
	/*
	 * Direct hand-off: w is in this P's runnext; yield so that it runs now, inheriting the
	 * time slice (Go's goyield after a starving semrelease). Without a ticket another
	 * waiter may take the sema while we yield: no point then.
	 */
	if (ticket && go_id() != 0)
		go_yield();
}

/* ---- Fatal errors and counters ----------------------------------------------------------- */

void _go_sync_fatal(const char *what)
{
	fprintf(stderr, "gochan: sync: %s\n", what);
	abort();
}

GOCHAN_API int go_sync_stats(struct go_sync_stats *st)
{
	if (!st || st->size != sizeof(*st))
		return -EINVAL;
	st->parks = load_relaxed(&_go_sync_counters.parks);
	st->mutex_starving = load_relaxed(&_go_sync_counters.mutex_starving);
	st->mutex_handoffs = load_relaxed(&_go_sync_counters.mutex_handoffs);
	return 0;
}
