/* SPDX-License-Identifier: MIT */
/*
 * wg.c - wait groups (Go's sync.WaitGroup) on go_park / go_ready.
 *
 * wg->lock (a go_lock_t) guards count and the waiter list; waiters live on the waiting
 * goroutines' stacks and are readied after the list is detached, outside the lock.
 */
#include <errno.h>

#include "internal.h"

struct wg_waiter {
	struct go_g *g;
	struct wg_waiter *next;
};

_Static_assert(sizeof(((struct go_waitgroup *)0)->lock) == sizeof(go_lock_t),
	       "go_waitgroup.lock holds a go_lock_t");

static inline go_lock_t *wg_lock(struct go_waitgroup *wg)
{
	return (go_lock_t *)&wg->lock;
}

GOCHAN_API int go_wg_add(struct go_waitgroup *wg, int64_t delta)
{
	struct wg_waiter *w;
	int64_t n;

	_go_lock(wg_lock(wg));
	n = wg->count + delta;
	if (n < 0) {
		_go_unlock(wg_lock(wg));
		return -EINVAL;
	}
	wg->count = n;
	w = NULL;
	if (n == 0) {
		w = wg->waiters;
		wg->waiters = NULL;
	}
	_go_unlock(wg_lock(wg));
	while (w) {
		struct wg_waiter *next = w->next;

		go_ready(w->g, 0);	/* w is gone once its goroutine runs */
		w = next;
	}
	return 0;
}

static bool wg_unlock(struct go_g *g, void *arg)
{
	(void)g;
	_go_unlock(wg_lock(arg));
	return true;
}

GOCHAN_API void go_wg_wait(struct go_waitgroup *wg)
{
	struct wg_waiter w;

	_go_lock(wg_lock(wg));
	if (wg->count == 0) {
		_go_unlock(wg_lock(wg));
		return;
	}
	w.g = go_self();
	w.next = wg->waiters;
	wg->waiters = &w;
	go_park(wg_unlock, wg, "sync.WaitGroup.Wait");
}
