/* SPDX-License-Identifier: MIT */
/*
 * mutex.c - sync.Mutex (Go's sync/mutex.go), on the runtime semaphore (sema.c).
 *
 * m->state, one atomic word:
 *
 *	bit 0       MUTEX_LOCKED    held (in starvation mode, a hand-off in flight also
 *	                            counts as held through MUTEX_STARVING)
 *	bit 1       MUTEX_WOKEN     a locker is awake and competing (spinning, or woken from
 *	                            the sema): an unlock need not wake another
 *	bit 2       MUTEX_STARVING  starvation mode (see <gochan/sync.h>)
 *	bits 3..31  waiters         lockers parked on m->sema, or about to park
 *
 * Invariants: in starvation mode waiters > 0 (the mode ends when the last waiter takes the
 * lock); a hand-off leaves MUTEX_LOCKED clear and the waiter counted, and the woken
 * waiter sets the one and uncounts itself in a single add. m->sema counts wakeups not
 * yet taken: at most one is pending in normal mode (MUTEX_WOKEN guards it).
 */
#include <unistd.h>

#include "internal.h"

#define MUTEX_LOCKED		GO_SYNC_MUTEX_LOCKED_	/* <gochan/sync.h>'s inline halves */
#define MUTEX_WOKEN		GO_SYNC_MUTEX_WOKEN_
#define MUTEX_STARVING		GO_SYNC_MUTEX_STARVING_
#define MUTEX_WAITER_SHIFT	3
#define STARVATION_NS		1000000		/* 1 ms, Go's starvationThresholdNs */

#define ACTIVE_SPIN		4		/* Go's active_spin */
#define ACTIVE_SPIN_CNT		30		/* pauses per spin, Go's active_spin_cnt */

static int ncpu;

static bool can_spin(int iter)
{
	int n = load_relaxed(&ncpu);

	/* Go's sync_runtime_canSpin: few times, multicore only, and see _go_can_spin. */
	if (iter >= ACTIVE_SPIN)
		return false;
	if (n == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		n = c > 0 ? (int)c : 1;
		store_relaxed(&ncpu, n);
	}
	return n > 1 && _go_can_spin();
}

static inline void do_spin(void)
{
	for (int i = 0; i < ACTIVE_SPIN_CNT; i++)
		__builtin_ia32_pause();
}

static inline bool cas32(int32_t *p, int32_t old, int32_t new)
{
	return __atomic_compare_exchange_n(p, &old, new, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED);
}

GOCHAN_API void go_sync_mutex_lock_slow_(struct go_sync_mutex *m)
{
	int64_t wait_start = 0;
	bool starving = false, awoke = false;
	int iter = 0;
	int32_t old = load_relaxed(&m->state);

	for (;;) {
		int32_t new;

		/* Spin while it is held in normal mode (starvation mode hands it off: a spinner
		 * could not take it), where spinning can help. */
		if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) == MUTEX_LOCKED && can_spin(iter)) {
			/* Say we are awake, so that the unlock wakes nobody else. */
			if (!awoke && !(old & MUTEX_WOKEN) && (old >> MUTEX_WAITER_SHIFT) != 0 &&
			    cas32(&m->state, old, old | MUTEX_WOKEN))
				awoke = true;
			do_spin();
			iter++;
			old = load_relaxed(&m->state);
			continue;
		}
		new = old;
		/* A starving mutex belongs to its queue: newcomers wait in it. */
		if (!(old & MUTEX_STARVING))
			new |= MUTEX_LOCKED;
		if (old & (MUTEX_LOCKED | MUTEX_STARVING))
			new += 1 << MUTEX_WAITER_SHIFT;
		/* Switch to starvation mode, but not while unlocked: the unlock expects a
		 * starving mutex to have waiters, which we then would not be. */
		if (starving && (old & MUTEX_LOCKED))
			new |= MUTEX_STARVING;
		if (awoke) {
			if (!(new & MUTEX_WOKEN))
				_go_sync_fatal("inconsistent mutex state");
			new &= ~MUTEX_WOKEN;
		}
		if (!cas32(&m->state, old, new)) {
			old = load_relaxed(&m->state);
			continue;
		}
		if (!(old & (MUTEX_LOCKED | MUTEX_STARVING)))
			break;				/* locked it with the CAS */
		if ((new & MUTEX_STARVING) && !(old & MUTEX_STARVING))
			stat_inc(&_go_sync_counters.mutex_starving);
		/* A waiter woken before goes back to the front of the queue. */
		bool lifo = wait_start != 0;

		if (!wait_start)
			wait_start = go_now();
		_go_semacquire(&m->sema, lifo, "sync.Mutex.Lock");
		starving = starving || go_now() - wait_start > STARVATION_NS;
		old = load_relaxed(&m->state);
		if (old & MUTEX_STARVING) {
			/* Handed to us: MUTEX_LOCKED is clear and we are still counted. */
			int32_t delta = MUTEX_LOCKED - (1 << MUTEX_WAITER_SHIFT);

			if ((old & (MUTEX_LOCKED | MUTEX_WOKEN)) ||
			    (old >> MUTEX_WAITER_SHIFT) == 0)
				_go_sync_fatal("inconsistent mutex state");
			/* Leave starvation mode if we did not wait long or are the last waiter:
			 * it is so slow that two goroutines could stay in it in lock-step. */
			if (!starving || (old >> MUTEX_WAITER_SHIFT) == 1)
				delta -= MUTEX_STARVING;
			__atomic_fetch_add(&m->state, delta, __ATOMIC_ACQ_REL);
			break;
		}
		awoke = true;
		iter = 0;
	}
}

/* <gochan/sync.h>'s fast paths, exported for callers that do not inline them. */
GOCHAN_API void go_sync_mutex_lock(struct go_sync_mutex *m)
{
	GO_SYNC_MUTEX_LOCK_FAST_(m);
}

GOCHAN_API bool go_sync_mutex_trylock(struct go_sync_mutex *m)
{
	int32_t old = load_relaxed(&m->state);

	/* Held, or starving (it belongs to the queue): a try does not compete. */
	if (old & (MUTEX_LOCKED | MUTEX_STARVING))
		return false;
	return cas32(&m->state, old, old | MUTEX_LOCKED);
}

GOCHAN_API void go_sync_mutex_unlock_slow_(struct go_sync_mutex *m, int32_t new)
{
	if (!((new + MUTEX_LOCKED) & MUTEX_LOCKED))
		_go_sync_fatal("unlock of unlocked mutex");
	if (new & MUTEX_STARVING) {
		/* Hand it to the first waiter and let that one run now. MUTEX_LOCKED stays
		 * clear (the waiter sets it), but MUTEX_STARVING keeps newcomers out. */
		stat_inc(&_go_sync_counters.mutex_handoffs);
		_go_semrelease(&m->sema, true);
		return;
	}
	for (int32_t old = new;;) {
		/* Nobody to wake, or a locker is already awake or has the lock, or it became
		 * starving after our unlock (the hand-off chain is not ours then). */
		if ((old >> MUTEX_WAITER_SHIFT) == 0 ||
		    (old & (MUTEX_LOCKED | MUTEX_WOKEN | MUTEX_STARVING)))
			return;
		/* Take the right to wake one. */
		new = (old - (1 << MUTEX_WAITER_SHIFT)) | MUTEX_WOKEN;
		if (cas32(&m->state, old, new)) {
			_go_semrelease(&m->sema, false);
			return;
		}
		old = load_relaxed(&m->state);
	}
}

GOCHAN_API void go_sync_mutex_unlock(struct go_sync_mutex *m)
{
	GO_SYNC_MUTEX_UNLOCK_FAST_(m);
}
