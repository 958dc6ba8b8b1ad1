/* SPDX-License-Identifier: MIT */
/*
 * lock.c - the runtime's locks and notes, on futexes (lib/internal.h says which lock is for
 * what, and their order).
 *
 * The runtime cannot use pthread mutexes under its own locks' callers (a G parked with a
 * pthread mutex held by its M would block other Gs on that M), and it needs locks whose
 * cost is one atomic when uncontended. Both locks are Drepper's three-state futex mutex
 * ("Futexes are tricky", mutex 2) and spin briefly first; they differ in how a waiter waits:
 *   go_lock_t   the thread sleeps on the futex (the holder is running: it never parks or
 *               switches while holding one);
 *   go_mutex_t  a goroutine yields its P to other goroutines until the lock is free; only a
 *               thread that is not running a goroutine sleeps on the futex.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

int _go_futex_wait(uint32_t *addr, uint32_t val, int64_t ns)
{
	struct timespec ts, *tsp = NULL;

	if (ns >= 0) {
		ts.tv_sec = ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
		tsp = &ts;
	}
	if (syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0) < 0)
		return -errno;
	return 0;
}

void _go_futex_wake(uint32_t *addr, int n)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

bool _go_trylock(go_lock_t *l)
{
	return cas(&l->v, 0u, 1u);
}

void _go_lock(go_lock_t *l)
{
	uint32_t c;
	int spins;

	if (likely(cas(&l->v, 0u, 1u)))
		return;
	for (spins = 0; spins < 64; spins++) {
		cpu_relax();
		if (load_relaxed(&l->v) == 0 && cas(&l->v, 0u, 1u))
			return;
	}
	c = xchg(&l->v, 2u);
	while (c != 0) {
		int saved = errno;

		_go_futex_wait(&l->v, 2, -1);
		errno = saved;
		c = xchg(&l->v, 2u);
	}
}

void _go_unlock(go_lock_t *l)
{
	uint32_t was = xchg(&l->v, 0u);

	go_assert(was != 0);	/* it was locked */
	if (was == 2)
		_go_futex_wake(&l->v, 1);
}

/* ---- go_mutex_t: the goroutine-aware lock of channels and contexts -------------------------- */

/* Spin up to n pauses for the lock; true if taken. */
static bool mutex_spin(go_mutex_t *m, int n)
{
	for (int i = 0; i < n; i++) {
		if (load_relaxed(&m->state) == 0 && cas(&m->state, 0u, 1))
			return true;
		cpu_relax();
	}
	return false;
}

void _go_mutex_lock_slow(go_mutex_t *m)
{
	uint32_t c;

	/* Spin a little: critical sections are a few hundred instructions and the holder is
	 * usually running on another thread. */
	if (mutex_spin(m, 100))
		return;
	/*
	 * In a goroutine, never put the thread to sleep: the holder may be a goroutine that the
	 * scheduler switched out while it held the lock (it parks with a lock held, by design,
	 * and one whose P was taken by sysmon is queued for a P at its next runtime call, before
	 * its park's unlock runs); a thread asleep here would keep its P from running it.
	 * go_yield runs whatever else is runnable, that goroutine included, then we retry.
	 * Threads (and the scheduler's stacks: timers) sleep on the futex as usual.
	 */
	if (go_id() != 0) {
		do
			go_yield();
		while (!mutex_spin(m, 100));
		return;
	}
	c = xchg(&m->state, 2);
	while (c != 0) {
		int saved = errno;

		_go_futex_wait(&m->state, 2, -1);
		errno = saved;
		c = xchg(&m->state, 2);
	}
}

void _go_mutex_unlock_slow(go_mutex_t *m)
{
	int saved = errno;

	/* state was 2: someone may sleep in FUTEX_WAIT; the exchange already freed it. */
	_go_futex_wake(&m->state, 1);
	errno = saved;
}

void _go_note_clear(go_note_t *n)
{
	store_relaxed(&n->key, 0u);
}

void _go_note_wakeup(go_note_t *n)
{
	if (xchg(&n->key, 1u) == 0)
		_go_futex_wake(&n->key, 1);
}

void _go_note_sleep(go_note_t *n)
{
	_go_note_tsleep(n, -1);
}

bool _go_note_tsleep(go_note_t *n, int64_t ns)
{
	int64_t deadline = ns >= 0 ? _go_nanotime() + ns : -1;
	int saved = errno;

	while (load_acquire(&n->key) == 0) {
		if (deadline >= 0) {
			ns = deadline - _go_nanotime();
			if (ns <= 0)
				break;
		}
		_go_futex_wait(&n->key, 0, ns);
	}
	errno = saved;
	return load_acquire(&n->key) != 0;
}

/*
 * errno across a call that may switch threads: glibc's __errno_location() is declared const,
 * so within one function the compiler may reuse errno's address from before the switch (the
 * old thread's). Reading and writing it through these out-of-line calls takes it afresh.
 */
__attribute__((noinline)) int _go_errno_get(void)
{
	return errno;
}

__attribute__((noinline)) void _go_errno_set(int v)
{
	errno = v;
}
