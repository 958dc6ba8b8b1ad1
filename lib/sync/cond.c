/* SPDX-License-Identifier: MIT */
/*
 * cond.c - sync.Cond over a go_sync_mutex, on a notify list (Go's sync/cond.go and
 * runtime/sema.go's notifyList).
 *
 * A waiter takes a ticket (c->wait++) while it still holds c->l, unlocks, and then waits
 * for its ticket to be notified. c->notify is the next ticket to notify: tickets below it
 * are notified (their holders return at once, queued or not), so a Signal between the
 * unlock and the queueing is not lost. Signal notifies ticket c->notify, Broadcast every
 * ticket up to c->wait. Tickets compare modulo 2^32 (fewer than 2^31 waiters at once).
 *
 * Invariants, under c->lock: the queue holds waiters whose tickets are in [notify, wait),
 * in the order they queued, which need not be ticket order (Signal searches for its
 * ticket); c->notify only grows, up to c->wait.
 * c->wait is atomic (taken without c->lock); c->notify is written under c->lock and read
 * without it (atomic) for the fast path "nobody to notify".
 */
#include "internal.h"

struct notifywaiter {
	uint32_t ticket;
	struct go_g *g;
	struct notifywaiter *next;
};

static inline bool ticket_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline go_lock_t *cond_lock(struct go_sync_cond *c)
{
	return (go_lock_t *)&c->lock;
}

_Static_assert(sizeof(((struct go_sync_cond *)0)->lock) == sizeof(go_lock_t),
	       "go_sync_cond.lock holds a go_lock_t");

GOCHAN_API void go_sync_cond_init(struct go_sync_cond *c, struct go_sync_mutex *l)
{
	*c = (struct go_sync_cond)GO_SYNC_COND_INIT(l);
}

static bool cond_unlock(struct go_g *g, void *arg)
{
	(void)g;
	_go_unlock(cond_lock(arg));
	return true;
}

GOCHAN_API void go_sync_cond_wait(struct go_sync_cond *c)
{
	uint32_t t = __atomic_fetch_add(&c->wait, 1, __ATOMIC_ACQ_REL);
	struct notifywaiter w = { .ticket = t, .g = go_self() };

	go_sync_mutex_unlock(c->l);
	_go_lock(cond_lock(c));
	if (ticket_before(t, c->notify)) {
		/* Notified since we took it. */
		_go_unlock(cond_lock(c));
	} else {
		if (c->tail)
			((struct notifywaiter *)c->tail)->next = &w;
		else
			c->head = &w;
		c->tail = &w;
		stat_inc(&_go_sync_counters.parks);
		go_park(cond_unlock, c, "sync.Cond.Wait");
	}
	go_sync_mutex_lock(c->l);
}

GOCHAN_API void go_sync_cond_signal(struct go_sync_cond *c)
{
	struct notifywaiter *w, *prev = NULL;
	uint32_t t;

	/* Nobody took a ticket since the last notify: nothing to do, no lock. */
	if (load_acquire(&c->wait) == load_relaxed(&c->notify))
		return;
	_go_lock(cond_lock(c));
	t = c->notify;
	if (t == load_acquire(&c->wait)) {
		_go_unlock(cond_lock(c));
		return;
	}
	go_assert(ticket_before(t, load_relaxed(&c->wait)));	/* notify only grows, to wait */
	store_release(&c->notify, t + 1);
	/* Its holder may not have queued yet: then it will see it is notified. */
	for (w = c->head; w; prev = w, w = w->next) {
		if (w->ticket != t)
			continue;
		if (prev)
			prev->next = w->next;
		else
			c->head = w->next;
		if (c->tail == w)
			c->tail = prev;
		_go_unlock(cond_lock(c));
		go_ready(w->g, 0);	/* w is gone once its goroutine runs */
		return;
	}
	_go_unlock(cond_lock(c));
}

GOCHAN_API void go_sync_cond_broadcast(struct go_sync_cond *c)
{
	struct notifywaiter *w;

	if (load_acquire(&c->wait) == load_relaxed(&c->notify))
		return;
	_go_lock(cond_lock(c));
	w = c->head;
	c->head = c->tail = NULL;
	store_release(&c->notify, load_acquire(&c->wait));
	_go_unlock(cond_lock(c));
	while (w) {
		struct notifywaiter *next = w->next;

		go_ready(w->g, 0);
		w = next;
	}
}
