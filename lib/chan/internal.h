/* SPDX-License-Identifier: MIT */
/*
 * lib/chan internals: hchan, sudog, the channel lock. Grouped by the file that defines them.
 *
 * Invariants (Go's runtime/chan.go):
 *   - At least one of c->sendq and c->recvq is empty, except for an unbuffered channel with
 *     a single goroutine blocked in select on both sending and receiving on it (then the
 *     sizes of both are bounded by that select's cases).
 *   - Buffered channels: qcount > 0 implies recvq is empty; qcount < cap implies sendq is
 *     empty.
 *   - A sudog is on at most one queue; sg->queued says so, under its channel's lock.
 *   - A select's sudogs share one struct selwait; the first waker to win sw->done (0 -> 1)
 *     owns the wakeup; a waker that loses skips that sudog.
 *
 * Lock order: channel locks in address order (select's lockorder), never two otherwise.
 * No call into the scheduler is made with a channel lock held, except go_self() and the
 * go_park() whose unlock callback releases it: a goroutine may be switched out at any
 * runtime call (when sysmon took its P), and Ms spinning on the lock it holds would then
 * wait for it forever.
 */
#ifndef GOCHAN_LIB_CHAN_INTERNAL_H
#define GOCHAN_LIB_CHAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <gochan/chan.h>
#include <gochan/kchan.h>
#include <gochan/sched.h>

#include "../internal.h"

/* ---- Waiters -------------------------------------------------------------------------------- */

/* What woke a select, besides a channel: */
#define SEL_FIRED_NONE    (-1)
#define SEL_FIRED_TIMEOUT (-2)
#define SEL_FIRED_POLL    (-3)
#define SEL_FIRED_KERNEL  (-4)	/* the select's kernel command completed (struct selkcmd) */

/*
 * struct selwait - one blocked select (or timed send/recv), on its goroutine's stack.
 * @done:   0 until a waker wins it (CAS 0 -> 1); then owned by that waker
 * @parked: handshake with wakers that hold no channel lock (timer, poll helpers):
 *          0 = not yet off-CPU, 1 = parked (go_park's unlock ran), 2 = woken before that
 * @fired:  the case index that won, or SEL_FIRED_*; written by the winner before waking
 * @timer_busy: set while the timer function may touch this struct
 * @kc:     the queued kernel command of a select over kernel and in-process channels
 */
struct selkcmd;

struct selwait {
	uint32_t done;
	uint32_t parked;
	int fired;
	uint32_t timer_busy;
	struct go_g *g;
	struct selkcmd *kc;	/* the kernel cases' queued command, or NULL: set before any
				 * sudog is visible, under all of the select's channel locks */
};

/*
 * struct selkcmd - the kernel select a mixed select queued, with the select's selwait: on the
 * heap, as the command's completion may come after the select returned (a waker cancelled
 * the command and claimed the select), and may claim the select whatever its result. One
 * reference for the select, one more for the command once submitted (dropped by
 * selkcmd_done).
 */
struct selkcmd {
	struct selwait sw;		/* the select's */
	uint32_t refs;
	uint32_t completed;		/* selkcmd_done ran without claiming the select */
	uint32_t parked;		/* the select waiting for that: 0, 1 parked, 2 done first */
	int res;			/* the command's result: written before selkcmd_done claims
					 * sw or sets completed, read only after either */
	int fd;				/* the channel carrying it (the first kernel case) */
};

/*
 * A select over in-process and kernel channels queues its kernel cases as one io_uring
 * command beside its sudogs (select.c). The kernel commits that command by itself, without
 * our locks, so a waker that moves a value (a channel partner, or close) claims such a
 * select only after cancelling the command: _go_selkcmd_cancel() true means it was still
 * queued and now nothing the kernel does can win; false (-ENOENT) means the kernel has
 * won, or someone cancelled first (another waker; the close(2) of the fd, whose number may
 * now name another channel): skip this select, whose command's completion claims it if
 * nobody has (select.c). The timer, which moves nothing,
 * claims without cancelling; the select then cancels, and takes the kernel's case if that
 * fails. Called with a channel lock held: an ioctl, never a scheduler call.
 */
bool _go_selkcmd_cancel(struct selkcmd *kc);

/* A waker's claim on sw: the kernel command cancelled first, then done 0 -> 1. */
static inline bool _go_selwait_try_claim(struct selwait *sw)
{
	if (sw->kc && !_go_selkcmd_cancel(sw->kc))
		return false;
	return cas(&sw->done, 0u, 1);
}

/*
 * struct sudog - a goroutine waiting on one channel (for one case), on its stack.
 * Protected by the channel's lock while queued.
 */
struct sudog {
	struct sudog *next, *prev;
	struct go_g *g;
	struct go_chan *c;
	void *elem;               /* where to copy from (send) or to (recv); may be NULL */
	struct selwait *sw;       /* NULL: a plain send/recv */
	int case_index;
	bool success;             /* set by the waker: true = a value moved, false = closed */
	bool queued;
};

struct waitq {
	struct sudog *first, *last;
};

/* ---- The channel ---------------------------------------------------------------------------- */

enum { CHAN_LOCAL = 0, CHAN_KERNEL = 1 };

/*
 * What the collector knows of a channel (go_chan.gc, fixed at make):
 *   CHAN_GC_NONE    malloc'd (go_chan_make, go_chan_from_fd): go_chan_free frees it;
 *   CHAN_GC_NOSCAN  a collected object never scanned (go_chan_new with GO_CHAN_NOSCAN,
 *                   go_chan_new_fd): values are plain bytes;
 *   CHAN_GC_SCAN    a collected object scanned conservatively, ring included: every copy of
 *                   an element goes through the write barrier (chan.c, at _go_chan_copy).
 * The hchan's own pointers need no scanning: its wait queues point at sudogs on goroutine
 * stacks (or in a select's malloc'd scratch), and a sudog reaches its channel from its
 * goroutine's stack, which the collector scans.
 */
enum { CHAN_GC_NONE = 0, CHAN_GC_NOSCAN = 1, CHAN_GC_SCAN = 2 };

/*
 * struct go_chan - Go's hchan. Everything below lock is protected by it; qcount and closed
 * are also read racily (atomics) by len/cap and by the fast paths that, as Go's, may fail
 * early without the lock.
 */
struct go_chan {
	go_mutex_t lock;
	uint32_t kind;            /* CHAN_LOCAL or CHAN_KERNEL: fixed at make */
	size_t elem_size;         /* fixed */
	size_t cap;               /* fixed: Go's dataqsiz */
	size_t qcount;            /* elements in buf */
	size_t sendx, recvx;      /* ring indices */
	uint32_t closed;          /* set once, by close */
	struct waitq recvq, sendq;
	int fd;                   /* CHAN_KERNEL: the channel fd (-1 once a collected handle's
				   * go_chan_free closed it) */
	bool own_fd;
	uint8_t gc;               /* CHAN_GC_*: fixed */
	/* cap * elem_size bytes, the ring: an array, not a pointer to it, so that a collected
	 * channel does not point at itself (a finalizer on it would never run) */
	_Alignas(8) unsigned char buf[];
};

static inline void _go_waitq_enqueue(struct waitq *q, struct sudog *sg)
{
	go_assert(!sg->queued);		/* on at most one queue */
	sg->next = NULL;
	sg->prev = q->last;
	if (q->last)
		q->last->next = sg;
	else
		store_relaxed(&q->first, sg);
	q->last = sg;
	sg->queued = true;
}

static inline void _go_waitq_remove(struct waitq *q, struct sudog *sg)
{
	if (!sg->queued)
		return;
	if (sg->prev)
		sg->prev->next = sg->next;
	else
		store_relaxed(&q->first, sg->next);
	if (sg->next)
		sg->next->prev = sg->prev;
	else
		q->last = sg->prev;
	sg->next = sg->prev = NULL;
	sg->queued = false;
}

/*
 * _go_waitq_dequeue - the first waiter that may be woken: plain waiters always; select
 * waiters only if we win their select (sw->done 0 -> 1). Losers are dropped from the
 * queue (their select is finishing and would remove them anyway). Channel lock held.
 */
static inline struct sudog *_go_waitq_dequeue(struct waitq *q)
{
	struct sudog *sg;

	while ((sg = q->first)) {
		_go_waitq_remove(q, sg);
		if (sg->sw) {
			if (!_go_selwait_try_claim(sg->sw))
				continue;
			store_relaxed(&sg->sw->fired, sg->case_index);
		}
		return sg;
	}
	return NULL;
}

static inline void *_go_chanbuf(struct go_chan *c, size_t i)
{
	return c->buf + i * c->elem_size;
}

/* ---- chan.c ---------------------------------------------------------------------------- */

/* A send's element pointer is NULL on a channel whose elements have bytes: -EINVAL (every
 * send form, and a select's send cases, refuse it before touching the channel). */
static inline bool _go_chan_send_elem_bad(const struct go_chan *c, const void *elem)
{
	return c && !elem && c->elem_size;
}

/* Go's chansend / chanrecv on an in-process channel (non-blocking: -EAGAIN). */
int _go_chan_send(struct go_chan *c, const void *elem, bool block);
int _go_chan_recv(struct go_chan *c, void *elem, bool *ok, bool block);
/* Wake sg's goroutine after the waker has finished with sg (and may have unlocked). */
void _go_chan_wake(struct sudog *sg);
/* Send / receive with a waiter already dequeued; c locked, and left locked: the caller
 * unlocks (one channel, or every channel of a select), then calls _go_chan_wake(sg). */
void _go_chan_send_direct(struct go_chan *c, struct sudog *sg, const void *elem);
void _go_chan_recv_direct(struct go_chan *c, struct sudog *sg, void *elem);
/* Buffered fast paths; c locked; do not unlock. */
void _go_chan_buf_put(struct go_chan *c, const void *elem);
void _go_chan_buf_take(struct go_chan *c, void *elem);
/* Copy helpers that accept NULL and elem_size 0; through the write barrier on a
 * CHAN_GC_SCAN channel. */
void _go_chan_copy(struct go_chan *c, void *dst, const void *src);
void _go_chan_zero(struct go_chan *c, void *dst);

/* ---- select.c ----------------------------------------------------------------------------- */

/* Cases a select handles without allocating (its scratch arrays are on the stack). */
#define SELECT_STACK_CASES 16

/* A select with block / deadline (-1: none); the engine behind every public select and
 * the timed sends and receives. */
int _go_select(struct go_select_case *cases, unsigned n, bool block, int64_t deadline);
/* A waker that holds no channel lock (the timer, a poll helper, the thread's own deadline)
 * claims sw for fired, and wakes the select if it is parked. Returns true if it claimed. */
bool _go_selwait_claim(struct selwait *sw, int fired);

/* ---- lib/kchan/chan.c: the kernel channels' kind ----------------------------------------- */

/* The kernel kind's _go_chan_send / _go_chan_recv: go_kchan_send / go_kchan_recv (block,
 * deadline: -1 none) or gochan_try_send / gochan_try_recv on c->fd, with go_chan's rules
 * for a receive (elem may be NULL; the zero value at end-of-channel). */
int _go_kchan_send(struct go_chan *c, const void *elem, bool block, int64_t deadline);
int _go_kchan_recv(struct go_chan *c, void *elem, bool *ok, bool block, int64_t deadline);
/* A select's pass 1 on a kernel case: 0 done (cs->ok set), -EAGAIN, -errno. */
int _go_kchan_try(struct go_select_case *cs);

/* ---- lib/kchan/select.c: the kernel channels' cases of a select --------------------------- */

/* A select of nk kernel cases and no in-process one: the kernel's own (block: queued as an
 * io_uring command, go_kchan_select). Returns the case's index or -errno, as _go_select. */
int _go_select_kernel(struct go_select_case *cases, unsigned n, unsigned nk, bool block,
		      int64_t deadline);
/* The kernel select's cases (kc[0..k)) from cases[0..n)'s kernel ones; map[k] is kc[k]'s
 * index in cases. Returns k. */
unsigned _go_kcases_build(const struct go_select_case *cases, unsigned n,
			  struct gochan_select_case *kc, unsigned *map);
/* A kernel select's result (the CQE's res >= 0) applied to the case it names (ok, and a
 * receive's zero value): returns that case's index in cases, or -EIO. */
int _go_kcases_apply(struct go_select_case *cases, const unsigned *map, unsigned nk, int res);

/* A mixed select's kernel command (struct selkcmd), with one reference, for go_g g; its
 * command will wait on fd's channel. NULL: no memory. */
struct selkcmd *_go_selkcmd_new(struct go_g *g, int fd);
void _go_selkcmd_put(struct selkcmd *kc);
/* Queue the kernel cases (kcases[0..nk)) as one kernel select; channel locks held. Returns
 * 0, or why the caller must poll instead. */
int _go_selkcmd_submit(struct selkcmd *kc, const struct gochan_select_case *kcases,
		       unsigned nk);
/* After the select woke, sudogs dequeued: settle the command. Returns what woke the select
 * (fired, or SEL_FIRED_KERNEL if the kernel committed before the timer's claim could stop
 * it); the command is then retired or cancelled, and its result in kc->res. */
int _go_selkcmd_settle(struct selkcmd *kc, int fired);

/* Without io_uring commands: a helper goroutine polls cs's fd (until deadline, -1: none)
 * and claims sw with SEL_FIRED_POLL when it is ready. NULL: none could be started. */
struct pollhelp;
struct pollhelp *_go_pollhelp_start(struct selwait *sw, const struct go_select_case *cs,
				    int64_t deadline);
/* The select is done with ph: after this the helper never touches the select. No lock held. */
void _go_pollhelp_finish(struct pollhelp *ph);

/* ---- lib/gc/chanctx.c: collected channels ------------------------------------------------- */

/* go_chan_free of a collected kernel-channel handle (go_chan_new_fd): its owned fd closed
 * now, its finalizer dropped; the memory stays the collector's. */
void _go_gc_chan_fd_close(struct go_chan *c);
/* go_chan_new_fd past its checks: a collected handle of fd, whose finalizer closes it when
 * flags has GO_CHAN_FD_OWN (selftests/gc calls it with fds that are not channels). */
int _go_gc_chan_fd_new(struct go_chan **chp, int fd, unsigned flags, size_t elem_size,
		       size_t cap);

/* A handle c stays reachable until here (after a blocking call that used only its fd):
 * the collector must not finalize it, closing the fd, meanwhile (Go's runtime.KeepAlive). */
static inline void _go_chan_keep_alive(const struct go_chan *c)
{
	__asm__ volatile("" : : "r"(c) : "memory");
}

/* ---- misc ------------------------------------------------------------------------------------ */

/* A per-thread xorshift generator (Go's fastrand); good enough for pollorder. */
uint32_t _go_chan_fastrand(void);

#endif /* GOCHAN_LIB_CHAN_INTERNAL_H */
