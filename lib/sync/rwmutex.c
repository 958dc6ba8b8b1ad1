/* SPDX-License-Identifier: MIT */
/*
 * rwmutex.c - sync.RWMutex (Go's sync/rwmutex.go): readers count themselves in
 * reader_count; a writer first wins rw->w against other writers, then subtracts
 * RWMUTEX_MAX_READERS from reader_count (so new readers see it negative and wait on
 * reader_sem) and waits on writer_sem for the readers that were in (reader_wait of them)
 * to leave.
 *
 * Invariants:
 *   no writer:  reader_count == readers holding the lock, >= 0; reader_wait == 0
 *   a writer pending or holding (w held):
 *               reader_count == readers that were in or came since - RWMUTEX_MAX_READERS,
 *               < 0; reader_wait == readers that were in and have not left yet (it may
 *               dip below 0 for a moment, between a leaving reader's decrement and the
 *               writer's add)
 *   the writer holds the lock when reader_wait has reached 0 after its add (or the add
 *   found none in)
 */
#include "internal.h"

#define RWMUTEX_MAX_READERS	(1 << 30)

GOCHAN_API void go_sync_rwmutex_rlock(struct go_sync_rwmutex *rw)
{
	/* A writer is pending or in: wait for its unlock to let us in. */
	if (__atomic_add_fetch(&rw->reader_count, 1, __ATOMIC_ACQ_REL) < 0)
		_go_semacquire(&rw->reader_sem, false, "sync.RWMutex.RLock");
}

GOCHAN_API bool go_sync_rwmutex_tryrlock(struct go_sync_rwmutex *rw)
{
	int32_t c = load_relaxed(&rw->reader_count);

	while (c >= 0) {
		if (__atomic_compare_exchange_n(&rw->reader_count, &c, c + 1, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

GOCHAN_API void go_sync_rwmutex_runlock(struct go_sync_rwmutex *rw)
{
	int32_t r = __atomic_sub_fetch(&rw->reader_count, 1, __ATOMIC_ACQ_REL);

	if (likely(r >= 0))
		return;
	if (r + 1 == 0 || r + 1 == -RWMUTEX_MAX_READERS)
		_go_sync_fatal("RUnlock of unlocked RWMutex");
	/* A writer is pending: the last reader it waits for lets it in. */
	if (__atomic_sub_fetch(&rw->reader_wait, 1, __ATOMIC_ACQ_REL) == 0)
		_go_semrelease(&rw->writer_sem, false);
}

GOCHAN_API void go_sync_rwmutex_lock(struct go_sync_rwmutex *rw)
{
	int32_t r;

	/* First, win against the other writers. */
	go_sync_mutex_lock(&rw->w);
	/* Then tell readers a writer is pending, and learn how many are in. */
	r = __atomic_fetch_add(&rw->reader_count, -RWMUTEX_MAX_READERS, __ATOMIC_ACQ_REL);
	/* Wait for those to leave. */
	if (r != 0 && __atomic_add_fetch(&rw->reader_wait, r, __ATOMIC_ACQ_REL) != 0)
		_go_semacquire(&rw->writer_sem, false, "sync.RWMutex.Lock");
}

GOCHAN_API bool go_sync_rwmutex_trylock(struct go_sync_rwmutex *rw)
{
	int32_t zero = 0;

	if (!go_sync_mutex_trylock(&rw->w))
		return false;
	if (!__atomic_compare_exchange_n(&rw->reader_count, &zero, -RWMUTEX_MAX_READERS, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
		go_sync_mutex_unlock(&rw->w);
		return false;
	}
	return true;
}

GOCHAN_API void go_sync_rwmutex_unlock(struct go_sync_rwmutex *rw)
{
	/* Tell readers there is no writer any more; r readers came meanwhile and wait. */
	int32_t r = __atomic_add_fetch(&rw->reader_count, RWMUTEX_MAX_READERS, __ATOMIC_ACQ_REL);

	if (r >= RWMUTEX_MAX_READERS)
		_go_sync_fatal("Unlock of unlocked RWMutex");
	for (int32_t i = 0; i < r; i++)
		_go_semrelease(&rw->reader_sem, false);
	/* Let the next writer in. */
	go_sync_mutex_unlock(&rw->w);
}
