/* SPDX-License-Identifier: MIT */
/*
 * semaphore.c - a weighted semaphore (golang.org/x/sync/semaphore's Weighted).
 *
 * s->lock (a go_lock_t, a leaf) guards cur and the waiter queue. Waiters queue in arrival
 * order; a release grants tokens to waiters from the front while they fit, and stops at
 * the first that does not (x/sync's notifyWaiters: no small request overtakes a large one).
 *
 * A waiter with a context is on the heap, shared with the AfterFunc that cancels it (the
 * AfterFunc may run after the acquire returned); one without is on its goroutine's stack.
 * Its state, under s->lock:
 *	W_INIT -> W_QUEUED (in s's queue, parked) -> W_GRANTED (tokens taken for it: cur += n)
 *	W_INIT -> W_CTX_ONLY (n > size: parked for the context alone, not queued)
 *	W_QUEUED, W_CTX_ONLY -> W_CANCELLED (the AfterFunc took it out)
 *	W_INIT -> W_CANCELLED (the AfterFunc ran before it queued: it does not park)
 * Whoever moves a parked waiter (QUEUED, CTX_ONLY) out readies it, once, after dropping
 * s->lock; a waiter parks only with s->lock held up to its park (go_park's unlock callback
 * drops it), so it is parked by the time a waker can see it.
 *
 * Invariants, under s->lock: 0 <= cur <= size (while size >= 0); every queued waiter has
 * n <= size; the first queued waiter does not fit (size - cur < n), unless a release or a
 * cancel is granting it right now.
 */
#include <errno.h>
#include <stdlib.h>

#include <gochan/context.h>

#include "internal.h"

enum { W_INIT, W_QUEUED, W_CTX_ONLY, W_GRANTED, W_CANCELLED };

struct semwaiter {
	int64_t n;
	struct go_g *g;
	struct go_semaphore *s;
	struct semwaiter *next, *prev;	/* in s's queue, under s->lock */
	struct semwaiter *wake_next;	/* on a waker's list, after leaving the queue */
	uint32_t state;			/* W_*, under s->lock */
	uint32_t refs;			/* atomic, heap waiters: the acquirer's and the
					 * AfterFunc's */
};

_Static_assert(sizeof(((struct go_semaphore *)0)->lock) == sizeof(go_lock_t),
	       "go_semaphore.lock holds a go_lock_t");

static inline go_lock_t *sem_lock(struct go_semaphore *s)
{
	return (go_lock_t *)&s->lock;
}

GOCHAN_API int go_semaphore_init(struct go_semaphore *s, int64_t n)
{
	if (n < 0)
		return -EINVAL;
	*s = (struct go_semaphore)GO_SEMAPHORE_INIT(n);
	return 0;
}

static void unqueue(struct go_semaphore *s, struct semwaiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		s->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		s->tail = w->prev;
	w->next = w->prev = NULL;
}

/* Grant tokens to the waiters at the front while they fit; return them, to be readied
 * once s->lock is dropped (wake()). Called with s->lock held. */
static struct semwaiter *grant_waiters(struct go_semaphore *s)
{
	struct semwaiter *w, *wake = NULL, **tailp = &wake;

	while ((w = s->head) != NULL && s->size - s->cur >= w->n) {
		go_assert(w->state == W_QUEUED);
		s->cur += w->n;
		unqueue(s, w);
		w->state = W_GRANTED;
		w->wake_next = NULL;
		*tailp = w;
		tailp = &w->wake_next;
	}
	go_assert(0 <= s->cur && s->cur <= s->size);
	return wake;
}

static void wake(struct semwaiter *w)
{
	while (w) {
		struct semwaiter *next = w->wake_next;

		go_ready(w->g, 0);	/* a stack waiter is gone once its goroutine runs */
		w = next;
	}
}

static void waiter_put(struct semwaiter *w)
{
	if (__atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(w);
}

static bool sem_unlock(struct go_g *g, void *arg)
{
	(void)g;
	_go_unlock(sem_lock(arg));
	return true;
}

/* The context's AfterFunc: take the waiter out (unless it was granted) and ready it. */
static void waiter_cancel(void *arg)
{
	struct semwaiter *w = arg, *wake_list = NULL;
	struct go_semaphore *s = w->s;
	bool ready = false;

	_go_lock(sem_lock(s));
	switch (w->state) {
	case W_QUEUED: {
		bool front = s->head == w;

		unqueue(s, w);
		/* It held up those behind it: let in the ones that fit now. */
		if (front && s->size > s->cur)
			wake_list = grant_waiters(s);
		ready = true;
		break;
	}
	case W_CTX_ONLY:
		ready = true;
		break;
	case W_INIT:
		break;		/* it will see W_CANCELLED before it parks */
	default:
		break;		/* granted: the acquirer gives the tokens back if it must */
	}
	if (w->state != W_GRANTED)
		w->state = W_CANCELLED;
	_go_unlock(sem_lock(s));
	if (ready)
		go_ready(w->g, 0);
	wake(wake_list);
	waiter_put(w);
}

/* With s->lock held: take the tokens if they are free and nobody waits. */
static inline bool try_take(struct go_semaphore *s, int64_t n)
{
	if (s->size - s->cur >= n && s->head == NULL) {
		s->cur += n;
		return true;
	}
	return false;
}

/* With s->lock held and w's tokens not free: queue w (or, n > size, wait for the context
 * alone) and park; s->lock is dropped. Returns with w->state GRANTED or CANCELLED. */
static void queue_and_park(struct go_semaphore *s, struct semwaiter *w)
{
	w->g = go_self();
	if (w->n > s->size) {
		/* Never satisfiable: do not hold up the others; only the context ends it. */
		w->state = W_CTX_ONLY;
	} else {
		w->state = W_QUEUED;
		w->next = NULL;
		w->prev = s->tail;
		if (s->tail)
			((struct semwaiter *)s->tail)->next = w;
		else
			s->head = w;
		s->tail = w;
	}
	stat_inc(&_go_sync_counters.parks);
	go_park(sem_unlock, s, "semaphore.Acquire");
}

GOCHAN_API int go_semaphore_acquire(struct go_semaphore *s, struct go_ctx *ctx, int64_t n)
{
	struct go_ctx_stop *stop;
	struct semwaiter *w;
	int err;

	if (n < 0)
		return -EINVAL;
	/* A context already done fails, even with the tokens free (x/sync). */
	if (ctx && (err = go_ctx_err(ctx)) != 0)
		return err;
	_go_lock(sem_lock(s));
	if (try_take(s, n)) {
		_go_unlock(sem_lock(s));
		return 0;
	}
	if (!ctx) {
		/* No context: the waiter lives on our stack; nobody cancels it. */
		struct semwaiter sw = { .n = n, .s = s };

		queue_and_park(s, &sw);
		return 0;	/* granted (n > size: never woken) */
	}
	_go_unlock(sem_lock(s));

	/* With a context: on the heap, shared with its AfterFunc, registered before we
	 * queue (it may run at once, here: it then only marks w cancelled). */
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->n = n;
	w->s = s;
	w->refs = 2;
	w->state = W_INIT;
	err = go_ctx_after_func(ctx, waiter_cancel, w, &stop);
	if (err) {
		free(w);
		return err;
	}
	_go_lock(sem_lock(s));
	if (w->state == W_CANCELLED) {
		_go_unlock(sem_lock(s));
	} else if (try_take(s, n)) {
		w->state = W_GRANTED;
		_go_unlock(sem_lock(s));
	} else {
		queue_and_park(s, w);
	}
	/* GRANTED or CANCELLED now, for good (the AfterFunc leaves GRANTED alone). */
	if (go_ctx_stop(stop))
		waiter_put(w);		/* it will never run: drop its reference too */
	if (w->state == W_GRANTED) {
		/* Granted, but the context may have been cancelled meanwhile: x/sync then gives
		 * the tokens back and fails. */
		err = go_ctx_err(ctx);
		if (err)
			go_semaphore_release(s, n);
	} else {
		err = go_ctx_err(ctx);
	}
	waiter_put(w);
	return err;
}

GOCHAN_API bool go_semaphore_try_acquire(struct go_semaphore *s, int64_t n)
{
	bool ok;

	if (n < 0)
		return false;
	_go_lock(sem_lock(s));
	ok = try_take(s, n);
	_go_unlock(sem_lock(s));
	return ok;
}

GOCHAN_API int go_semaphore_release(struct go_semaphore *s, int64_t n)
{
	struct semwaiter *wake_list;

	_go_lock(sem_lock(s));
	if (n < 0 || n > s->cur) {
		_go_unlock(sem_lock(s));
		return -EINVAL;
	}
	s->cur -= n;
	wake_list = grant_waiters(s);
	_go_unlock(sem_lock(s));
	wake(wake_list);
	return 0;
}
