/* SPDX-License-Identifier: MIT */
#ifndef GOCHAN_LIB_INTERNAL_H
#define GOCHAN_LIB_INTERNAL_H

/*
 * lib/internal.h - what the directories of lib/ share: names, errno, atomics, locks, debug
 * checks; then internals grouped by the file that defines them. Nothing here is installed;
 * each directory has an internal.h of its own for what stays inside it.
 *
 * Names. A prefix says the layer (README.md, "The library's API"):
 *   gochan_*          public: kernel channels, one system call on a /dev/gochan fd, from
 *                     any thread, no scheduler needed (<gochan/kchan.h>)
 *   galloc, gfree, grealloc, gsize, galloc_*
 *                     public: the allocator, any thread, no scheduler; also the LD_PRELOAD
 *                     malloc (<gochan/alloc.h>)
 *   go_*              public: the goroutine runtime: scheduler, channels, select, contexts
 *                     (<gochan/sched.h>, chan.h, context.h, and kchan.h's go_kchan_*)
 *   _go_*             internal: functions and variables of the runtime shared between
 *                     files, static inline functions of an internal header included
 *   ga_*              internal: the allocator's (lib/alloc/internal.h), as mimalloc's _mi_
 *   no prefix         a file's statics
 * Internal types are named for what they are, with Go's name where Go has one (struct
 * go_g, go_m, go_p, sudog; go_lock_t): a type is never exported, but no internal type
 * takes the name of a public one.
 *
 * The library is built with -fvisibility=hidden: a function is exported only when its
 * definition carries GOCHAN_API *and* lib/libgochan.map lists it under a version node.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#define GOCHAN_API	__attribute__((visibility("default")))

/*
 * A call whose arguments change keeps its old version for the programs linked against it
 * (libbpf's way): the new one is defined as name_vX_Y, exported as name@@LIBGOCHAN_X.Y with
 * GOCHAN_DEFAULT_VERSION; the old one stays as name_vA_B, exported as name@LIBGOCHAN_A.B
 * with GOCHAN_COMPAT_VERSION, in the shared library only (GOCHAN_SHARED: lib/Makefile's
 * PIC build). The map lists name in both nodes. In a static build the new one is plainly
 * name, and the old ones are left out.
 */
#ifdef GOCHAN_SHARED
#define GOCHAN_DEFAULT_VERSION(impl, name, node) \
	__asm__(".symver " #impl "," #name "@@" #node);
#define GOCHAN_COMPAT_VERSION(impl, name, node) \
	__asm__(".symver " #impl "," #name "@" #node);
#else
#define GOCHAN_DEFAULT_VERSION(impl, name, node) \
	extern __typeof__(impl) name __attribute__((alias(#impl)));
#define GOCHAN_COMPAT_VERSION(impl, name, node)
#endif

/*
 * Every public function leaves errno as it found it (see <gochan/kchan.h>):
 *
 *	int saved = errno;
 *	... ret = -errno after a failed system call ...
 *	errno = saved;
 */

/* ---- Atomics ------------------------------------------------------------------------------ */

/*
 * The compiler's __atomic builtins, which ThreadSanitizer sees, on plain (not _Atomic) fields:
 * every atomic access in lib/ goes through these, but lib/alloc's. The field's comment says
 * which accesses are atomic; the others happen under the lock it names.
 * lib/alloc keeps C11 atomics (_Atomic fields, atomic_*_explicit), as mimalloc, its model,
 * does: it is also built alone (lib/alloc/Makefile: the LD_PRELOAD malloc) and includes
 * nothing of this header.
 */
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)

#define load_relaxed(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define load_acquire(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define store_relaxed(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define xchg(p, v)		__atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
#define cas(p, old, new)	({ __typeof__(*(p)) o_ = (old); \
	__atomic_compare_exchange_n((p), &o_, (new), false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE); })
#define fetch_add(p, v)		__atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)
#define fetch_add_relaxed(p, v)	__atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define fetch_or(p, v)		__atomic_fetch_or((p), (v), __ATOMIC_ACQ_REL)
#define fetch_and(p, v)		__atomic_fetch_and((p), (v), __ATOMIC_ACQ_REL)
#define stat_inc(p)		__atomic_fetch_add((p), 1, __ATOMIC_RELAXED)

/* ---- lib/sched/lock.c: the locks ------------------------------------------------------------ */

/*
 * Two locks, both a futex word (0 free, 1 locked, 2 locked with waiters) that costs one atomic
 * when uncontended; no pthread mutex is used outside lib/alloc:
 *
 *   go_lock_t    the runtime's own lock (Go's runtime.mutex), for the scheduler's, timers',
 *                poller's, stacks' and wait groups' state and lib/sync's waiter queues.
 *                Held for a few instructions, by goroutines, by the scheduler on g0 and by
 *                threads that are not Ms; the holder never parks or switches goroutines
 *                while it holds one (but for go_park's unlock callback, which releases it
 *                on g0), so a waiter sleeps its thread.
 *   go_mutex_t   the goroutine-aware lock, for channels (hchan's lock) and contexts (mu).
 *                A goroutine that finds it held yields its P to other goroutines until it is
 *                free; a thread that is not running a goroutine sleeps on the futex.
 *
 * Lock order (never take an earlier one while holding a later one):
 *   go_ctx.mu                      a context's; never two at once (lib/context)
 *   go_chan.lock                   channels, several only in address order (a select)
 *   sched.lock                     idle M and P lists, global run queue, free Gs
 *   timers.lock                    the timer heap
 *   np.sq_lock, then np.cmd_lock   the poller's submission queue, then its list of io_uring
 *                                  commands in flight (np.cq_lock, the completion queue's,
 *                                  is taken before np.cmd_lock too, never with np.sq_lock)
 *   shrink.lock, then stacks.lock  the stack shrinker's cursor, then the arenas
 *   go_waitgroup.lock              a leaf
 *   semaroot.lock, go_sync_cond.lock, go_semaphore.lock
 *                                  lib/sync's, leaves (lib/sync/internal.h)
 *   reg.lock, fin.lock             lib/gc's registered roots and finalizers: leaves (lib/gc
 *                                  also has spinlocks of its own, lib/gc/internal.h)
 * With a go_mutex_t held, the only runtime calls are go_self(), the poller's submission of a
 * select's kernel command (np.sq_lock) and the go_park() whose unlock callback releases it.
 */
typedef struct { uint32_t v; } go_lock_t;
void _go_lock(go_lock_t *l);
void _go_unlock(go_lock_t *l);
bool _go_trylock(go_lock_t *l);

typedef struct { uint32_t state; } go_mutex_t;

void _go_mutex_lock_slow(go_mutex_t *m);
void _go_mutex_unlock_slow(go_mutex_t *m);

static inline void _go_mutex_lock(go_mutex_t *m)
{
	if (likely(cas(&m->state, 0u, 1)))
		return;
	_go_mutex_lock_slow(m);
}

static inline void _go_mutex_unlock(go_mutex_t *m)
{
	if (likely(xchg(&m->state, 0) == 1))
		return;
	_go_mutex_unlock_slow(m);
}

/* errno across a call that may switch threads (see lock.c) */
int _go_errno_get(void);
void _go_errno_set(int v);

/* ---- Debug checks ------------------------------------------------------------------------- */

/*
 * go_assert(cond) - an invariant that a comment states, checked in builds that define
 * GO_DEBUG (the ASan and UBSan builds of selftests/sched, selftests/chan and selftests/gc;
 * lib/alloc's GA_DEBUG is the allocator's): a false one prints where it failed and aborts. Without
 * GO_DEBUG it compiles to nothing: cond is type-checked, never evaluated, so it must have no
 * side effects.
 */
#ifdef GO_DEBUG
#include <stdio.h>
#include <stdlib.h>

static inline __attribute__((noreturn, cold)) void
_go_assert_fail(const char *cond, const char *file, int line, const char *func)
{
	fprintf(stderr, "gochan: %s:%d: %s: assertion failed: %s\n", file, line, func, cond);
	abort();
}

#define go_assert(cond)								\
	do {									\
		if (unlikely(!(cond)))						\
			_go_assert_fail(#cond, __FILE__, __LINE__, __func__);	\
	} while (0)
#else
#define go_assert(cond)		((void)sizeof(!(cond)))
#endif

/* ---- Debug hooks, for tests -------------------------------------------------------------- */

/*
 * GO_DEBUG_HOOK(name) - a point where a test may run code of its own (typically a delay) to
 * make a rare interleaving happen every time. Only in builds that define GOCHAN_DEBUG_HOOKS
 * (the host test builds of selftests/sched and selftests/chan); elsewhere it is nothing.
 * A test sets _go_debug_hook_<name> (it runs with whatever locks the point holds: see
 * each point) and clears it when done.
 *
 *   ctx_unlink          lib/context: a cancel, between cancelling a context and unlinking it
 *                       from its parent (no lock held)
 *   netpoll_nowait      lib/sched: a non-blocking poll, holding the completion queue's lock
 *   netpoll_block       lib/sched: an M about to block in the poller, after it set
 *                       _go_netpoll_blocked and read the next timer (no lock held)
 */
#ifdef GOCHAN_DEBUG_HOOKS
#define GO_DEBUG_HOOK_DECLARE(name) \
	__attribute__((weak)) void (*_go_debug_hook_##name)(void)
GO_DEBUG_HOOK_DECLARE(ctx_unlink);
GO_DEBUG_HOOK_DECLARE(netpoll_nowait);
GO_DEBUG_HOOK_DECLARE(netpoll_block);
#define GO_DEBUG_HOOK(name)                                                                  \
	do {                                                                                 \
		void (*fn_)(void) = load_acquire(&_go_debug_hook_##name);                    \
		if (fn_)                                                                     \
			fn_();                                                               \
	} while (0)
#else
#define GO_DEBUG_HOOK(name) do { } while (0)
#endif

/* ---- lib/sched/proc.c, for lib/chan ------------------------------------------------------- */

#include <stdbool.h>
#include <stdint.h>

struct go_g;

/*
 * _go_thread_park_until - go_park(unlock, arg, reason) for a thread that is not running a
 * goroutine (go_id() == 0: main before go_run, any thread of the program), giving up at
 * deadline_ns (CLOCK_MONOTONIC). Such a park blocks the thread on a futex: it needs no
 * scheduler, and no timer to end it.
 * Returns 0 once readied (or when unlock returned false); -ETIMEDOUT at the deadline, with
 * the park still open: the caller then wins its own wait (so that nobody will go_ready it),
 * or lets whoever won it first do so, and calls _go_thread_park_wait(), which returns once
 * the go_ready has come (at once if it has).
 */
int _go_thread_park_until(bool (*unlock)(struct go_g *g, void *arg), void *arg,
			  const char *reason, int64_t deadline_ns);
void _go_thread_park_wait(void);

/* ---- lib/sched/proc.c, for lib/sync ------------------------------------------------------- */

/*
 * _go_can_spin - whether a goroutine that found a sync.Mutex held may spin for it a while
 * (Go's sync_runtime_canSpin, less its iteration and CPU count checks, which lib/sync
 * makes): it runs on a P, another P is running (the holder may be there, about to unlock),
 * and nothing else is runnable on this P (spinning would delay it). False on a plain
 * thread. A racy snapshot: a hint, never a guarantee.
 */
bool _go_can_spin(void);

/* ---- lib/sched/netpoll.c, for lib/kchan: io_uring commands on the poller ----------------- */

struct go_g;

/*
 * struct go_ucmd - an IORING_OP_URING_CMD the poller submits and reaps for lib/kchan: a
 * kernel channel's send, receive or select, queued inside the channel until it completes.
 * @fd, @cmd_op, @cmd: the SQE's fd, cmd_op and 16-byte command area
 * @key:      what @cancel needs besides @fd to find the command (its cancel key)
 * @cancel:   called by go_run's end for each command still queued (the ring's teardown does
 *            not end uring commands on 6.1, and a command a partner completes later would
 *            write into an abandoned goroutine's stack); must end the command
 * @done, @done_arg: a detached command's completion (_go_netpoll_ucmd_submit)
 */
struct go_ucmd {
	int		fd;
	uint32_t	cmd_op;
	unsigned char	cmd[16];
	uint64_t	key;
	void		(*cancel)(int fd, uint64_t key);
	struct go_g	*(*done)(void *arg, int res);
	void		*done_arg;
};

/*
 * _go_netpoll_ucmd_wait - submit @uc (its done is ignored) and park the running goroutine
 * until the command's CQE comes; its thread runs other goroutines meanwhile. In a goroutine
 * only.
 * Returns the CQE's res; -ENOSYS without io_uring (nothing submitted); -EAGAIN if the
 * submission queue has no room.
 */
int _go_netpoll_ucmd_wait(const struct go_ucmd *uc, const char *reason);

/*
 * _go_netpoll_ucmd_submit - submit @uc detached: nobody parks; @uc->done(@uc->done_arg, res)
 * reports the CQE's res exactly once, by whichever thread reaps it (perhaps sysmon's, which
 * has no P: atomics only, no lock, no scheduler call), or -ECANCELED from go_run's end, and
 * returns a goroutine parked on that result to make runnable (as go_ready would), or NULL.
 * The kernel reads what the command area points to before this returns. From a thread that
 * is no goroutine, it starts an M to reap the completion if none waits in the poller.
 * Returns 0 (done will be called); -ENOSYS without io_uring; -ENOMEM; -EAGAIN (the
 * submission queue has no room).
 */
int _go_netpoll_ucmd_submit(const struct go_ucmd *uc);

/* ---- lib/kchan/park.c, for lib/chan: kernel-channel commands ------------------------------ */

struct gochan_select_case;

/* A command's result that says it was refused (-ENOTTY, -EOPNOTSUPP): go on without one.
 * When fd is a channel, the module has no io_uring commands: later calls poll instead of
 * trying again; when it is not (a pipe, a reused fd), nothing is remembered. */
bool _go_kcmd_missing(int res, int fd);

/* A detached kernel command's completion: see struct go_ucmd's done. */
typedef struct go_g *(*_go_kcmd_done_fn)(void *arg, int res);

/*
 * _go_kselect_submit - queue the kernel's select over cases[0..n) as an io_uring command,
 * without a deadline, and return without parking: done(arg, res) reports its end (res: the
 * CQE's, GOCHAN_SELECT_RES_* bits or -errno: -ECANCELED once cancelled by GOCHAN_IOC_CANCEL
 * or go_run's end; see _go_kcmd_missing). The command waits on cases[0].fd's channel, where
 * gochan_cancel(cases[0].fd, key, false) finds it. The kernel reads cases and the send
 * values before this returns.
 * Returns 0 (queued, or completed: done will be called); -EOPNOTSUPP without io_uring or
 * its commands (nothing submitted); -EINVAL (n == 0); -ENOMEM; -EAGAIN (the submission
 * queue is full).
 */
int _go_kselect_submit(const struct gochan_select_case *cases, unsigned n, uint64_t key,
		       _go_kcmd_done_fn done, void *arg);

#endif /* GOCHAN_LIB_INTERNAL_H */
