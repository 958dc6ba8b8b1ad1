/* SPDX-License-Identifier: MIT */
#ifndef GOCHAN_LIB_SYNC_INTERNAL_H
#define GOCHAN_LIB_SYNC_INTERNAL_H

/*
 * lib/sync internals: Go's sync package and x/sync on the scheduler's go_park / go_ready,
 * grouped by the file that defines them.
 *
 * Glossary (Go's):
 *   sema         a uint32_t counter inside an object (a Mutex's sema, an RWMutex's
 *                writer_sem and reader_sem) that goroutines wait on until it is > 0 and
 *                they can take one from it: Go's runtime semaphore (runtime/sema.go)
 *   semaroot     one of SEMTAB_SIZE buckets of waiters, chosen by the sema's address;
 *                waiters live on their goroutines' stacks (Go's sudog)
 *   ticket       a sema handed to a waiter directly by its releaser (starvation mode):
 *                nobody else can take it in between
 *   notify list  a Cond's waiters, each with the ticket it took before unlocking the
 *                Mutex (Go's notifyList): a Signal wakes the oldest ticket not yet woken
 *
 * Lock order: semaroot.lock, a Cond's lock and a semaphore's lock are leaves (go_lock_t,
 * lib/internal.h): nothing is locked under them, and go_ready is called only after they
 * are dropped (as Go's semrelease does), so no waker holds one while it may be switched
 * out.
 */

#include <stdbool.h>
#include <stdint.h>

#include <gochan/sync.h>

#include "../internal.h"

/* ---- sema.c: the runtime semaphore ------------------------------------------------------- */

/*
 * _go_semacquire - wait until *addr > 0, then decrement it (Go's semacquire1). The caller
 * parks (a plain thread blocks) as "reason". @lifo: queue at the front of addr's waiters,
 * not the back (a Mutex waiter that was woken and lost the race).
 */
void _go_semacquire(uint32_t *addr, bool lifo, const char *reason);

/*
 * _go_semrelease - increment *addr and wake its first waiter, if any (Go's semrelease1).
 * @handoff: give the sema to that waiter directly (it cannot be taken in between) and, in
 * a goroutine, yield so that the waiter runs at once on this P in this one's time slice
 * (a Mutex in starvation mode).
 */
void _go_semrelease(uint32_t *addr, bool handoff);

/* The counters of go_sync_stats (relaxed atomics, slow paths only). */
struct sync_counters {
	uint64_t parks;
	uint64_t mutex_starving;
	uint64_t mutex_handoffs;
};
extern struct sync_counters _go_sync_counters;

/* Print "gochan: sync: <what>" and abort: Go's fatal errors of this package. */
__attribute__((noreturn, cold)) void _go_sync_fatal(const char *what);

#endif /* GOCHAN_LIB_SYNC_INTERNAL_H */
