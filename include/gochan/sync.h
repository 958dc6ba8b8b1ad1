/* SPDX-License-Identifier: MIT */
/*
 * gochan/sync.h - Go's sync package (Mutex, RWMutex, Once, OnceValues, Cond) and
 * golang.org/x/sync's semaphore.Weighted and errgroup.Group, for goroutines
 * (<gochan/sched.h>). sync.WaitGroup is <gochan/sched.h>'s go_waitgroup.
 *
 * Names: go_sync_* for the sync package's types, go_semaphore_* and go_errgroup_* for
 * x/sync's. (A plain "go_mutex" would take the name of the runtime's internal lock,
 * lib/internal.h's go_mutex_t, which is another type.)
 *
 * Waiting: a goroutine that must wait parks (go_park): its thread runs other goroutines.
 * Called from a plain thread (not a goroutine: main before go_run, any pthread of the
 * program, with or without a scheduler running), every call here works too and a wait
 * blocks that thread on a futex, as sched.h's go_park does there; goroutines and threads
 * may share one lock. A program whose goroutines may wait for such threads (a lock one
 * holds, a Signal only one sends) needs GO_CONFIG_NO_DEADLOCK_CHECK (sched.h): the deadlock
 * check cannot see threads. go_errgroup_go needs a running scheduler (it starts
 * goroutines).
 *
 * Fairness, as Go's sync.Mutex (sync/mutex.go):
 *   normal mode      waiters queue in FIFO order, but a woken waiter competes with newly
 *                    arriving lockers, which have the advantage (they are already
 *                    running); a waiter that loses goes back to the front of the queue.
 *                    Lockers spin briefly before parking, but only when it can help: more
 *                    than one CPU, another P running, and nothing else runnable on this
 *                    P (a plain thread does not spin).
 *   starvation mode  a waiter that waited more than 1 ms switches the mutex to it: an
 *                    unlock hands ownership straight to the waiter at the front of the
 *                    queue and lets it run at once; newcomers neither take the lock nor
 *                    spin, they queue at the tail. The mode ends when the waiter that gets
 *                    the lock is the last one, or waited less than 1 ms.
 * go_sync_stats() counts the entries into starvation mode and the hand-offs.
 *
 * Copying and moving: none of these objects may be copied or moved once used (waiters are
 * found by the object's address; Go's vet says the same with noCopy).
 *
 * Misuse Go makes a fatal error (unlocking an unlocked Mutex or RWMutex, RUnlock without
 * RLock) prints "gochan: sync: <what>" to stderr and aborts: the state is corrupt by then.
 * Misuse Go makes a panic is an error here (the call changes nothing).
 *
 * Memory order: as Go's memory model says for these types. The n-th unlock of a Mutex
 * happens before the (n+1)-th lock returns; a Once's f returns before any go_sync_once_do
 * returns; a Signal or Broadcast happens before the Wait it wakes returns; a Release
 * happens before the Acquire it lets through returns; every goroutine of an errgroup ends
 * before go_errgroup_wait returns.
 *
 * Conventions: functions returning int return 0 or a negative errno value; errno is never
 * set.
 */
#ifndef GOCHAN_SYNC_H
#define GOCHAN_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include <gochan/sched.h>

#ifdef __cplusplus
extern "C" {
#endif

struct go_ctx;

/* ---- Mutex (sync.Mutex) ------------------------------------------------------------------ */

/*
 * struct go_sync_mutex - a mutual exclusion lock. The zero value (or GO_SYNC_MUTEX_INIT) is
 * unlocked. It is not tied to a goroutine: one may lock it and another unlock it.
 * Not recursive: locking it again from its holder waits forever (the deadlock detector
 * reports it when nothing else can run).
 */
struct go_sync_mutex {
	int32_t state;		/* private: locked, woken, starving bits, waiter count */
	uint32_t sema;		/* private: the runtime semaphore its waiters park on */
};
#define GO_SYNC_MUTEX_INIT { 0, 0 }

/* go_sync_mutex_lock - lock @m, waiting (parked) while another holds it. */
void go_sync_mutex_lock(struct go_sync_mutex *m);

/*
 * go_sync_mutex_trylock - lock @m if that needs no wait: true if it did. False when it is
 * held, and in starvation mode (the lock belongs to the queue then). As Go says of TryLock,
 * correct uses are rare.
 */
bool go_sync_mutex_trylock(struct go_sync_mutex *m);

/* go_sync_mutex_unlock - unlock @m, waking a waiter if any (starvation mode: handing @m
 * to it). Aborts if @m is not locked (Go: "fatal error: sync: unlock of unlocked mutex"). */
void go_sync_mutex_unlock(struct go_sync_mutex *m);

/*
 * Lock and unlock are inline where the compiler inlines (as Go's compiler inlines Lock and
 * Unlock): one atomic instruction each when there is nothing to wait for and nobody to wake,
 * the rest out of line. The library exports both as functions too, for what cannot use an
 * inline definition (other languages' bindings, function pointers, builds without
 * optimisation): the same code either way.
 *
 * The inline halves rely on what m->state's bits 0-2 mean (lib/sync/mutex.c): locked,
 * woken (a waiter was woken and has not run yet), starving. A free mutex (neither
 * locked nor starving) is taken whatever else is set, as the slow path would take it for
 * a newcomer; so the holder does not pay the slow path for a woken waiter still waiting
 * for its turn on a P (which, on one P, is until the holder's next switch). An unlock that
 * leaves 0, or only "woken", has nobody to wake.
 */
#define GO_SYNC_MUTEX_LOCKED_	1	/* private */
#define GO_SYNC_MUTEX_WOKEN_	2	/* private */
#define GO_SYNC_MUTEX_STARVING_	4	/* private */
void go_sync_mutex_lock_slow_(struct go_sync_mutex *m);			/* private */
void go_sync_mutex_unlock_slow_(struct go_sync_mutex *m, int32_t state);	/* private */

#if defined(__GNUC__)
/* The fast paths themselves, one copy: the inline functions below and lib/sync/mutex.c's
 * exported ones are both these (macros: an extern inline function may not call a static
 * one). */
#define GO_SYNC_MUTEX_LOCK_FAST_(m) /* private */					\
	do {										\
		int32_t go_old_ = 0;							\
											\
		if (__builtin_expect(__atomic_compare_exchange_n(&(m)->state, &go_old_,	\
				GO_SYNC_MUTEX_LOCKED_, 0, __ATOMIC_ACQUIRE,		\
				__ATOMIC_RELAXED), 1))					\
			break;								\
		if (!(go_old_ & (GO_SYNC_MUTEX_LOCKED_ | GO_SYNC_MUTEX_STARVING_)) &&	\
		    __atomic_compare_exchange_n(&(m)->state, &go_old_,			\
				go_old_ | GO_SYNC_MUTEX_LOCKED_, 0, __ATOMIC_ACQUIRE,	\
				__ATOMIC_RELAXED))					\
			break;								\
		go_sync_mutex_lock_slow_(m);						\
	} while (0)

#define GO_SYNC_MUTEX_UNLOCK_FAST_(m) /* private */					\
	do {										\
		int32_t go_state_ = __atomic_sub_fetch(&(m)->state,			\
				GO_SYNC_MUTEX_LOCKED_, __ATOMIC_RELEASE);		\
											\
		if (__builtin_expect(go_state_ != 0 &&					\
				     go_state_ != GO_SYNC_MUTEX_WOKEN_, 0))		\
			go_sync_mutex_unlock_slow_((m), go_state_);			\
	} while (0)

#if defined(__OPTIMIZE__) && !defined(GOCHAN_SYNC_NO_INLINE)
extern __inline__ __attribute__((__gnu_inline__)) void
go_sync_mutex_lock(struct go_sync_mutex *m)
{
	GO_SYNC_MUTEX_LOCK_FAST_(m);
}

extern __inline__ __attribute__((__gnu_inline__)) void
go_sync_mutex_unlock(struct go_sync_mutex *m)
{
	GO_SYNC_MUTEX_UNLOCK_FAST_(m);
}
#endif
#endif

/* ---- RWMutex (sync.RWMutex) -------------------------------------------------------------- */

/*
 * struct go_sync_rwmutex - a reader/writer lock: many readers or one writer. The zero value
 * (or GO_SYNC_RWMUTEX_INIT) is unlocked.
 * Writers are not starved: once a writer calls go_sync_rwmutex_lock, new readers wait until
 * it has had the lock (Go's readerCount / readerWait design), and the readers that held
 * the lock then let it in as they leave. So a reader must not take the read lock again
 * while it holds it (recursive read locking deadlocks once a writer waits, as in Go).
 */
struct go_sync_rwmutex {
	struct go_sync_mutex w;	/* private: held while writers are pending */
	uint32_t writer_sem;	/* private: a writer waits here for the readers to leave */
	uint32_t reader_sem;	/* private: readers wait here for the writer to leave */
	int32_t reader_count;	/* private: readers in or waiting; -2^30 while a writer is */
	int32_t reader_wait;	/* private: readers the pending writer still waits for */
};
#define GO_SYNC_RWMUTEX_INIT { GO_SYNC_MUTEX_INIT, 0, 0, 0, 0 }

/* go_sync_rwmutex_lock - lock for writing: wait until no writer and no reader holds it. */
void go_sync_rwmutex_lock(struct go_sync_rwmutex *rw);
/* go_sync_rwmutex_trylock - lock for writing if that needs no wait: true if it did. */
bool go_sync_rwmutex_trylock(struct go_sync_rwmutex *rw);
/* go_sync_rwmutex_unlock - unlock for writing, letting in every reader that waited.
 * Aborts if @rw is not locked for writing. */
void go_sync_rwmutex_unlock(struct go_sync_rwmutex *rw);

/* go_sync_rwmutex_rlock - lock for reading: wait while a writer holds or waits for it. */
void go_sync_rwmutex_rlock(struct go_sync_rwmutex *rw);
/* go_sync_rwmutex_tryrlock - lock for reading if that needs no wait: true if it did. */
bool go_sync_rwmutex_tryrlock(struct go_sync_rwmutex *rw);
/* go_sync_rwmutex_runlock - undo one rlock; the last reader to leave lets a pending writer
 * in. Aborts if @rw is not locked for reading. */
void go_sync_rwmutex_runlock(struct go_sync_rwmutex *rw);

/* ---- Once (sync.Once, sync.OnceValues) --------------------------------------------------- */

/*
 * struct go_sync_once - runs a function once. The zero value (or GO_SYNC_ONCE_INIT) has not
 * run it.
 */
struct go_sync_once {
	uint32_t done;			/* private: 1 once fn has returned */
	struct go_sync_mutex m;		/* private: held while fn runs */
	struct go_g *running;		/* private: go_self() of the caller running fn, or
					 * NULL */
};
#define GO_SYNC_ONCE_INIT { 0, GO_SYNC_MUTEX_INIT, NULL }

/*
 * go_sync_once_do - call fn(arg) if and only if no call of go_sync_once_do on @once has
 * called fn before; the first caller runs it, racing callers wait until it has returned,
 * later callers return at once. fn is the first caller's; the others' are not called.
 * Returns 0 once fn has returned (in this call or an earlier one);
 * -EDEADLK when called on @once from inside fn, by the goroutine (or thread) running fn:
 *   nothing is called (Go deadlocks there).
 * fn must return: C has no panic to unwind it. If fn leaves by longjmp, or its goroutine
 * or thread ends inside it, @once never completes: later callers wait forever (the
 * deadlock detector reports goroutines parked in "sync.Once.Do"), and fn is not called
 * again (Go instead counts a panicking f as returned).
 */
int go_sync_once_do(struct go_sync_once *once, void (*fn)(void *arg), void *arg);

/*
 * struct go_sync_once_value - go_sync_once_do with a result: Go's OnceValue and OnceValues
 * (a value and an error). The zero value (or GO_SYNC_ONCE_VALUE_INIT) has not run.
 */
struct go_sync_once_value {
	struct go_sync_once once;	/* private */
	int err;			/* private: fn's return */
	void *value;			/* private: what fn stored in *value */
};
#define GO_SYNC_ONCE_VALUE_INIT { GO_SYNC_ONCE_INIT, 0, NULL }

/*
 * go_sync_once_value - call fn(arg, &v) once, as go_sync_once_do, and give every caller
 * what that call gave: fn's return and v (v starts NULL).
 * @value: set to v (may be NULL: not wanted).
 * Returns fn's return (0, or whatever error of its own fn returned); -EDEADLK (with
 * *value left alone) when called from inside fn, as go_sync_once_do.
 */
int go_sync_once_value(struct go_sync_once_value *ov, int (*fn)(void *arg, void **value),
		       void *arg, void **value);

/* ---- Cond (sync.Cond) -------------------------------------------------------------------- */

/*
 * struct go_sync_cond - a condition variable over a go_sync_mutex (Go's Cond with a *Mutex
 * as its Locker). Not usable zeroed: make it with GO_SYNC_COND_INIT(&mu) or
 * go_sync_cond_init() (Go's NewCond). Wakeups are never lost: a Signal wakes a goroutine
 * that was waiting when it was called, if any (the oldest), a Broadcast every one; a
 * goroutine not yet waiting is not woken by it. As in Go, no wait is spurious, but another
 * goroutine may change the condition between the wakeup and the return of the wait:
 * wait in a loop.
 */
struct go_sync_cond {
	struct go_sync_mutex *l;	/* the lock Wait releases and takes back; may be
					 * changed only while no goroutine waits */
	uint32_t wait;			/* private: ticket of the next waiter */
	uint32_t notify;		/* private: ticket of the next to wake */
	uint32_t lock;			/* private: guards head, tail, notify */
	void *head, *tail;		/* private: the waiters, in ticket order */
};
#define GO_SYNC_COND_INIT(mu) { (mu), 0, 0, 0, NULL, NULL }

/* go_sync_cond_init - make @c over @l, unused (as GO_SYNC_COND_INIT(l)). */
void go_sync_cond_init(struct go_sync_cond *c, struct go_sync_mutex *l);

/*
 * go_sync_cond_wait - atomically unlock c->l and wait until a Signal or Broadcast wakes
 * this caller, then lock c->l again before returning. The caller must hold c->l (Go's
 * rule; as in Go, not checked: an unheld lock aborts in its unlock).
 */
void go_sync_cond_wait(struct go_sync_cond *c);

/* go_sync_cond_signal - wake the longest waiting waiter, if any. go_sync_cond_broadcast -
 * wake every waiter. Holding c->l is allowed, not required. */
void go_sync_cond_signal(struct go_sync_cond *c);
void go_sync_cond_broadcast(struct go_sync_cond *c);

/* ---- Weighted semaphore (golang.org/x/sync/semaphore) ------------------------------------ */

/*
 * struct go_semaphore - a weighted semaphore of size tokens (x/sync's Weighted). Not usable
 * zeroed (its size would be 0): make it with GO_SEMAPHORE_INIT(n) or go_semaphore_init().
 * Fairness, as x/sync: acquirers are served in arrival order; one that cannot have its n
 * tokens blocks every later one, even a smaller request that would fit (so large requests
 * are not starved by small ones).
 */
struct go_semaphore {
	int64_t size;			/* private: set by init (an errgroup's: by set_limit) */
	int64_t cur;			/* private: tokens held, under lock */
	uint32_t lock;			/* private: a go_lock_t */
	uint32_t _pad;
	void *head, *tail;		/* private: the waiters, in arrival order */
};
#define GO_SEMAPHORE_INIT(n) { (n), 0, 0, 0, NULL, NULL }

/* go_semaphore_init - make @s with @n tokens, none held. Returns 0; -EINVAL if n < 0. */
int go_semaphore_init(struct go_semaphore *s, int64_t n);

/*
 * go_semaphore_acquire - take @n tokens, waiting until they are free (in arrival order) or
 * @ctx is cancelled. @ctx may be NULL: go_ctx_background(), never cancelled.
 * Returns 0 with the tokens held; go_ctx_err(ctx) (-ECANCELED or -ETIMEDOUT) without them
 * when @ctx is cancelled first (a context already cancelled fails even if the tokens are
 * free, as x/sync); -EINVAL if n < 0. A request larger than the size never succeeds: it
 * waits for @ctx alone, without holding up the others (with no cancellable @ctx, for
 * good).
 * -ENOMEM: the wait for a cancellable @ctx could not be set up.
 */
int go_semaphore_acquire(struct go_semaphore *s, struct go_ctx *ctx, int64_t n);

/* go_semaphore_try_acquire - take @n tokens if they are free and nobody waits: true if it
 * did (never waits). False for n < 0. */
bool go_semaphore_try_acquire(struct go_semaphore *s, int64_t n);

/* go_semaphore_release - give back @n tokens, and let in the waiters they now satisfy, in
 * order. Returns 0; -EINVAL (nothing changed) if n < 0 or more than held would be
 * released (x/sync panics). */
int go_semaphore_release(struct go_semaphore *s, int64_t n);

/* ---- errgroup (golang.org/x/sync/errgroup) ----------------------------------------------- */

/*
 * struct go_errgroup - goroutines working on parts of one task: go_errgroup_wait waits for
 * all of them and returns the first error one returned; with a context
 * (go_errgroup_init), the first error cancels it, so the others can stop early.
 * The zero value (or GO_ERRGROUP_INIT) is a group with no context and no limit.
 * A group may be reused after go_errgroup_wait, as in Go (its context stays cancelled).
 */
struct go_errgroup {
	struct go_ctx *ctx;		/* private: the derived context, or NULL */
	struct go_waitgroup wg;		/* private: goroutines started, not ended */
	struct go_semaphore sem;	/* private: the limit's tokens (size: the limit) */
	int err;			/* private: the first error, set once (CAS) */
	uint32_t limited;		/* private: 1 while a limit is set */
};
#define GO_ERRGROUP_INIT { NULL, { 0, NULL, 0 }, GO_SEMAPHORE_INIT(0), 0, 0 }

/*
 * go_errgroup_init - Go's errgroup.WithContext: make @g (as GO_ERRGROUP_INIT) with a new
 * context derived from @parent (go_ctx_with_cancel_cause), cancelled, with the error as
 * its cause, by the first goroutine of @g that returns an error, or when go_errgroup_wait
 * returns, whichever comes first. *@ctx is set to it: the group's reference, valid until
 * go_errgroup_destroy (go_ctx_ref it to keep it longer).
 * Returns 0; -ENOMEM.
 */
int go_errgroup_init(struct go_errgroup *g, struct go_ctx *parent, struct go_ctx **ctx);

/* go_errgroup_destroy - release what go_errgroup_init took (the context). Call it after
 * go_errgroup_wait, with no goroutine of @g left. Nothing to do for a group without one. */
void go_errgroup_destroy(struct go_errgroup *g);

/*
 * go_errgroup_go - run fn(arg) in a new goroutine of @g. With a limit set, first wait until
 * fewer than the limit of @g's goroutines are running (in arrival order). A nonzero return
 * of fn is an error: the first one is kept for go_errgroup_wait and cancels the context.
 * Returns 0; -ENOMEM; -EPERM (the scheduler is not running). On failure fn is not run.
 */
int go_errgroup_go(struct go_errgroup *g, int (*fn)(void *arg), void *arg);

/* go_errgroup_try_go - go_errgroup_go if the limit lets a goroutine start now, without
 * waiting. Returns 0 (started); -EAGAIN (at the limit: not started); -ENOMEM; -EPERM. */
int go_errgroup_try_go(struct go_errgroup *g, int (*fn)(void *arg), void *arg);

/*
 * go_errgroup_set_limit - at most @n of @g's goroutines at once (n < 0: no limit, the
 * default). n = 0 lets none start (go_errgroup_go then waits for good, as in Go).
 * Returns 0; -EBUSY (nothing changed) while goroutines of @g started under a limit are
 * running (Go panics).
 */
int go_errgroup_set_limit(struct go_errgroup *g, int n);

/* go_errgroup_wait - wait until every goroutine started in @g has returned, then cancel
 * the context (if any). Returns the first error, or 0 if none. */
int go_errgroup_wait(struct go_errgroup *g);

/* ---- Observability ----------------------------------------------------------------------- */

/* Counters since the process started, for all the objects above (relaxed; for tests and
 * tuning, not for synchronization). */
struct go_sync_stats {
	uint32_t size;			/* in: sizeof(struct go_sync_stats) */
	uint32_t _pad;
	uint64_t parks;			/* waits that parked a goroutine or blocked a thread */
	uint64_t mutex_starving;	/* a Mutex switched to starvation mode */
	uint64_t mutex_handoffs;	/* starvation mode: a Mutex handed to its first waiter */
};

/* go_sync_stats - fill *st (st->size set by the caller). Returns 0; -EINVAL for a bad
 * size. */
int go_sync_stats(struct go_sync_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* GOCHAN_SYNC_H */
