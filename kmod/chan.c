// SPDX-License-Identifier: GPL-2.0
/*
 * The channel core: Go's chansend, chanrecv and closechan over kernel
 * buffers.  See internal.h for the structures, their invariants and the lock.
 *
 * Every operation has the same shape:
 *   1. lock; move what can move now (the "fast" half of Go's chansend and
 *      chanrecv: a waiting partner first, then the ring);
 *   2. if the call must block, queue a waiter and unlock;
 *   3. sleep until a partner completes the waiter, a signal, or the deadline;
 *   4. on a signal or deadline, lock again and unlink the waiter, unless it
 *      was completed meanwhile (then the call succeeded: nothing is lost).
 * Tasks whose waits an operation completes are woken after the lock is
 * dropped (a few at a time: the rest at once), so they do not run straight
 * into the lock.  (wake_q would do this, but modules cannot use it.)
 */
#include <linux/atomic.h>
#include <linux/hrtimer.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "internal.h"
#include "gochan_trace.h"

static atomic64_t gochan_next_id = ATOMIC64_INIT(0);

void gochan_unlock_init(struct gochan_unlock *u)
{
	u->nwake = 0;
	u->poll = 0;
}

static void wake_task(struct task_struct *task)
{
	wake_up_process(task);
	put_task_struct(task);
}

/* Wake the tasks collected in @u (gochan_unlock_wake()). */
void __gochan_unlock_wake(struct gochan_unlock *u)
{
	unsigned int i;

	for (i = 0; i < u->nwake; i++)
		wake_task(u->wake[i]);
	u->nwake = 0;
}

/*
 * Tell the hooks and the poll waiters of @c that readiness @mask may have
 * appeared.  Called after the change, with no channel lock held (so in
 * process context).  The full barrier orders the change before the look
 * for waiters; it pairs with the one gochan_poll() puts between poll_wait()
 * and its look (wq_has_sleeper()'s argument), and with the one a hook's
 * owner puts between adding it (or clearing what it records) and looking
 * at the channel: either the look sees the change or the waiter or hook is
 * seen here.
 */
void gochan_poll_wake(struct gochan_chan *c, __poll_t mask)
{
	struct gochan_hook *h;

	if (!mask)
		return;
	smp_mb();
	if (READ_ONCE(c->hooks_mask) & mask) {
		spin_lock(&c->hooks_lock);
		list_for_each_entry(h, &c->hooks, node)
			if (h->mask & mask)
				h->fn(h, mask);
		spin_unlock(&c->hooks_lock);
	}
	/*
	 * A poller asks for what it wants before it queues (gochan_poll_want()),
	 * so one we see queued has its wishes in poll_wanted: the read barrier
	 * pairs with its write barrier.  A receive, which makes room, then
	 * wakes nobody unless someone ever polled for room.
	 */
	if (waitqueue_active(&c->poll_wq)) {
		smp_rmb();
		if (mask & READ_ONCE(c->poll_wanted))
			wake_up_poll(&c->poll_wq, mask);
	}
}

/*
 * Record what a poller of @c asks for (poll_requested_events()), before it
 * queues on poll_wq.  EPOLLHUP and EPOLLERR are always reported, so always
 * wanted.
 */
void gochan_poll_want(struct gochan_chan *c, __poll_t want)
{
	unsigned long flags;

	want |= EPOLLHUP | EPOLLERR;
	if ((READ_ONCE(c->poll_wanted) & want) != want) {
		spin_lock_irqsave(&c->poll_wq.lock, flags);
		WRITE_ONCE(c->poll_wanted, c->poll_wanted | want);
		spin_unlock_irqrestore(&c->poll_wq.lock, flags);
	}
	smp_wmb();	/* wishes before queueing: see gochan_poll_wake() */
}

static void hooks_mask_update(struct gochan_chan *c)
{
	struct gochan_hook *h;
	__poll_t mask = 0;

	lockdep_assert_held(&c->hooks_lock);
	list_for_each_entry(h, &c->hooks, node)
		mask |= h->mask;
	WRITE_ONCE(c->hooks_mask, mask);
}

/* Hook @hook to @c's wakeups (struct gochan_hook); the caller then puts a
 * full barrier before it looks at the channel. */
void gochan_hook_add(struct gochan_chan *c, struct gochan_hook *hook)
{
	spin_lock(&c->hooks_lock);
	list_add_tail(&hook->node, &c->hooks);
	hooks_mask_update(c);
	spin_unlock(&c->hooks_lock);
}

/* Unhook: once this returns, @hook->fn is not running and will not run. */
void gochan_hook_del(struct gochan_chan *c, struct gochan_hook *hook)
{
	spin_lock(&c->hooks_lock);
	list_del(&hook->node);
	hooks_mask_update(c);
	spin_unlock(&c->hooks_lock);
}

static __always_inline void gochan_lock(struct gochan_chan *c, struct gochan_unlock *u)
{
	gochan_unlock_init(u);
	mutex_lock(&c->lock);
}

static __always_inline void gochan_unlock(struct gochan_chan *c, struct gochan_unlock *u)
{
	mutex_unlock(&c->lock);
	gochan_unlock_wake(u);
	gochan_poll_wake(c, u->poll);
}

/* --- The ring, under c->lock: slot i holds element (head + i) % capacity. --- */

/* Forget the @n oldest elements (n <= len <= capacity: one wrap at most). */
static __always_inline void ring_drop(struct gochan_chan *c, u32 n)
{
	lockdep_assert_held(&c->lock);
	c->head += n;
	if (c->head >= c->capacity)
		c->head -= c->capacity;
	WRITE_ONCE(c->len, c->len - n);
}

static __always_inline void ring_push(struct gochan_chan *c, const void *src, u32 n)
{
	size_t es = c->elem_size;
	u32 tail = c->head + c->len;
	u32 first;

	lockdep_assert_held(&c->lock);
	if (tail >= c->capacity)	/* head < capacity, len <= capacity */
		tail -= c->capacity;
	first = min(n, c->capacity - tail);
	memcpy(c->ring + tail * es, src, first * es);
	if (n > first)			/* the rest wraps around */
		memcpy(c->ring, src + first * es, (n - first) * es);
	WRITE_ONCE(c->len, c->len + n);
}

/* The same from a blocked writer's pinned pages, from byte @off of them. */
static void ring_push_pinned(struct gochan_chan *c, struct gochan_pin *pin,
			     size_t off, u32 n)
{
	size_t es = c->elem_size;
	u32 tail = c->head + c->len;
	u32 first;

	lockdep_assert_held(&c->lock);
	if (tail >= c->capacity)
		tail -= c->capacity;
	first = min(n, c->capacity - tail);
	gochan_pin_read(pin, off, c->ring + tail * es, first * es);
	if (n > first)
		gochan_pin_read(pin, off + first * es, c->ring, (n - first) * es);
	WRITE_ONCE(c->len, c->len + n);
}

/* One element: no wrap to split the copy at. */
static __always_inline void ring_pop_one(struct gochan_chan *c, void *dst)
{
	lockdep_assert_held(&c->lock);
	memcpy(dst, c->ring + c->head * (size_t)c->elem_size, c->elem_size);
	if (++c->head == c->capacity)
		c->head = 0;
	WRITE_ONCE(c->len, c->len - 1);
}

static __always_inline void ring_push_one(struct gochan_chan *c, const void *src)
{
	lockdep_assert_held(&c->lock);
	u32 tail = c->head + c->len;

	if (tail >= c->capacity)
		tail -= c->capacity;
	memcpy(c->ring + tail * (size_t)c->elem_size, src, c->elem_size);
	WRITE_ONCE(c->len, c->len + 1);
}

/* --- Wait queues --- */

void gochan_waitq_add(struct gochan_chan *c, struct gochan_waiter *w, bool send)
{
	lockdep_assert_held(&c->lock);
	if (send) {
		list_add_tail(&w->node, &c->sendq);
		WRITE_ONCE(c->nsend, c->nsend + 1);
	} else {
		list_add_tail(&w->node, &c->recvq);
		WRITE_ONCE(c->nrecv, c->nrecv + 1);
	}
}

void gochan_waitq_del(struct gochan_chan *c, struct gochan_waiter *w, bool send)
{
	lockdep_assert_held(&c->lock);
	list_del_init(&w->node);
	if (send)
		WRITE_ONCE(c->nsend, c->nsend - 1);
	else
		WRITE_ONCE(c->nrecv, c->nrecv - 1);
}

/*
 * Whether the wait of @w can still be completed through @w.  A plain wait
 * can: its owner takes it off the queue under the lock before it gives up.
 * A select's or a queued command's cannot once it has left PENDING
 * (claimed through another of its channels, or cancelled by its deadline
 * or its ring's teardown, which hold no channel lock): such a dead waiter
 * stays queued until its owner's pass 3 or task work, or a partner, drops
 * it; and its owner may be slow to come (a stopped task runs no task work).
 * A dead waiter is nobody: no decision may count it.  The lock of the
 * channel @w is queued on must be held (its callers assert it).
 */
static inline bool waiter_live(const struct gochan_waiter *w)
{
	const struct gochan_wait *wait = w->wait;

	return !(wait->select || wait->async) ||
	       READ_ONCE(wait->state) == GOCHAN_WAIT_PENDING;
}

/*
 * Drop the dead waiters at the front of the senders' (@send) or receivers'
 * queue; true if a live one is left there.  c->lock must be held.
 */
static bool waitq_prune(struct gochan_chan *c, bool send)
{
	struct list_head *q = send ? &c->sendq : &c->recvq;
	struct gochan_waiter *w;

	lockdep_assert_held(&c->lock);
	while ((w = list_first_entry_or_null(q, struct gochan_waiter, node))) {
		if (waiter_live(w))
			return true;
		gochan_waitq_del(c, w, send);
	}
	return false;
}

/* The same for every waiter on the queue, so that its count is exact. */
static void waitq_prune_all(struct gochan_chan *c, bool send)
{
	struct list_head *q = send ? &c->sendq : &c->recvq;
	struct gochan_waiter *w, *tmp;

	lockdep_assert_held(&c->lock);
	list_for_each_entry_safe(w, tmp, q, node)
		if (!waiter_live(w))
			gochan_waitq_del(c, w, send);
}

/*
 * The oldest waiter on @q whose wait can still be completed, claimed for
 * the caller; dead waiters met on the way are dropped.  c->lock must be
 * held.  A plain wait needs no claim: its only waiter is here, and we hold
 * the lock its owner would need to give up.
 */
static struct gochan_waiter *__waitq_claim_first(struct gochan_chan *c,
						 struct list_head *q, bool send)
{
	struct gochan_waiter *w;

	lockdep_assert_held(&c->lock);
	while ((w = list_first_entry_or_null(q, struct gochan_waiter, node))) {
		struct gochan_wait *wait = w->wait;

		if (!(wait->select || wait->async) ||
		    cmpxchg(&wait->state, GOCHAN_WAIT_PENDING,
			    GOCHAN_WAIT_CLAIMED) == GOCHAN_WAIT_PENDING)
			return w;
		gochan_waitq_del(c, w, send);
	}
	return NULL;
}

/* Inline, since most sends and receives find nobody queued. */
static __always_inline struct gochan_waiter *
waitq_claim_first(struct gochan_chan *c, bool send)
{
	struct list_head *q = send ? &c->sendq : &c->recvq;

	return list_empty(q) ? NULL : __waitq_claim_first(c, q, send);
}

/*
 * Unlink the claimed waiter @w and complete its wait.  c->lock must be
 * held.  The release store of DONE is the last access to @w: the waiting
 * task may return as soon as it sees it, so its task is referenced first,
 * and a wakeup that comes after it returned is an ordinary spurious one.
 */
static void waiter_complete(struct gochan_chan *c, struct gochan_waiter *w,
			    bool send, struct gochan_unlock *u)
{
	struct gochan_wait *wait = w->wait;
	struct task_struct *task = wait->task;

	lockdep_assert_held(&c->lock);
	gochan_waitq_del(c, w, send);
	wait->index = w->index;
	trace_gochan_wake(c->id, wait->select ? GOCHAN_TRACE_OP_SELECT :
			  send ? GOCHAN_TRACE_OP_SEND : GOCHAN_TRACE_OP_RECV, task);
	if (wait->async) {
		/* No task asleep: @done queues the completion, last. */
		smp_store_release(&wait->state, GOCHAN_WAIT_DONE);
		wait->done(wait);
		return;
	}
	get_task_struct(task);
	smp_store_release(&wait->state, GOCHAN_WAIT_DONE);
	if (u->nwake < GOCHAN_WAKE_BATCH)
		u->wake[u->nwake++] = task;
	else
		wake_task(task);
}

/*
 * Sleep until @wait is done, a signal is pending, or the deadline passes.
 * Returns 0 when done, -ERESTARTSYS or -ETIMEDOUT otherwise (the caller then
 * takes the lock(s) and looks again: the wait may have been done meanwhile).
 */
int gochan_wait_sleep(struct gochan_wait *wait, const struct gochan_block *blk)
{
	int ret = 0;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (smp_load_acquire(&wait->state) == GOCHAN_WAIT_DONE)
			break;
		if (signal_pending(current)) {
			ret = -ERESTARTSYS;
			break;
		}
		if (blk->has_deadline) {
			ktime_t expires = blk->deadline;

			if (!schedule_hrtimeout_range_clock(&expires, 0,
							    HRTIMER_MODE_ABS,
							    CLOCK_MONOTONIC)) {
				ret = -ETIMEDOUT;
				break;
			}
		} else {
			schedule();
		}
	}
	__set_current_state(TASK_RUNNING);
	return ret;
}

bool gochan_deadline_passed(const struct gochan_block *blk)
{
	return blk->has_deadline && ktime_compare(ktime_get(), blk->deadline) >= 0;
}

/* --- Moving elements, under c->lock --- */

/*
 * Move blocked senders' elements into the ring while it has room,
 * completing each sender whose last element went in.  Keeps
 * "sendq non-empty => ring full" after a receive made room.
 */
static void refill_from_senders(struct gochan_chan *c, struct gochan_unlock *u)
{
	size_t es = c->elem_size;
	struct gochan_waiter *s;

	lockdep_assert_held(&c->lock);
	while (c->len < c->capacity && (s = waitq_claim_first(c, true))) {
		u32 k = min(s->nelem - s->ndone, c->capacity - c->len);

		if (s->pin)
			ring_push_pinned(c, s->pin, s->ndone * es, k);
		else
			ring_push(c, s->buf + s->ndone * es, k);
		s->ndone += k;
		c->sent += k;
		if (s->ndone < s->nelem)
			break;		/* ring full again; s stays first */
		waiter_complete(c, s, true, u);
	}
}

static u32 ring_to_iter(struct gochan_chan *c, u32 k, struct iov_iter *to);

/*
 * gochan_recv_locked() past its common case, into @to, which cannot fault
 * (kernel memory, or a pinned buffer's pages: gochan_pin_dest()): from the
 * ring, refilled from blocked senders as it drains, or on an unbuffered
 * channel straight from blocked senders.
 */
static u32 recv_to_iter_locked(struct gochan_chan *c, struct iov_iter *to,
			       u32 n, struct gochan_unlock *u)
{
	size_t es = c->elem_size;
	u32 got = 0;

	lockdep_assert_held(&c->lock);
	while (got < n) {
		struct gochan_waiter *s;
		u32 k;

		if (c->len) {
			k = min(n - got, c->len);
			if (es)
				k = ring_to_iter(c, k, to);
			if (WARN_ON_ONCE(!k))
				break;	/* cannot happen: @to cannot fault */
			ring_drop(c, k);
			got += k;
			u->poll |= EPOLLOUT | EPOLLWRNORM;
			refill_from_senders(c, u);
			continue;
		}
		/* Empty ring with a sender queued: only when unbuffered. */
		s = waitq_claim_first(c, true);
		if (!s)
			break;
		k = min(n - got, s->nelem - s->ndone);
		if (es && WARN_ON_ONCE((s->pin ?
				gochan_pin_copy_to_iter(s->pin, s->ndone * es, k * es, to) :
				copy_to_iter(s->buf + s->ndone * es, k * es, to)) != k * es))
			break;	/* cannot happen: @to cannot fault */
		s->ndone += k;
		got += k;
		c->sent += k;
		if (s->ndone == s->nelem)
			waiter_complete(c, s, true, u);
	}
	c->received += got;
	return got;
}

/* The same into a kernel buffer. */
static noinline u32 recv_locked_slow(struct gochan_chan *c, void *buf, u32 n,
				     struct gochan_unlock *u)
{
	struct kvec kv = { .iov_base = buf, .iov_len = (size_t)n * c->elem_size };
	struct iov_iter to;

	iov_iter_kvec(&to, ITER_DEST, &kv, 1, kv.iov_len);
	return recv_to_iter_locked(c, &to, n, u);
}

/* gochan_send_locked() past its common case. */
static noinline u32 send_locked_slow(struct gochan_chan *c, const void *buf,
				     u32 n, struct gochan_unlock *u)
{
	size_t es = c->elem_size;
	struct gochan_waiter *r;
	u32 sent = 0;

	lockdep_assert_held(&c->lock);
	while (sent < n && (r = waitq_claim_first(c, false))) {
		u32 k = min(n - sent, r->nelem);

		if (r->pin)
			gochan_pin_write(r->pin, 0, buf + sent * es, k * es);
		else if (es)
			memcpy(r->buf, buf + sent * es, k * es);
		r->ndone = k;
		sent += k;
		c->received += k;
		waiter_complete(c, r, false, u);
	}
	/* Senders queue only behind live senders (none when there is room). */
	if (sent < n && c->capacity && !waitq_prune(c, true)) {
		u32 k = min(n - sent, c->capacity - c->len);

		if (k) {
			ring_push(c, buf + sent * es, k);
			sent += k;
			u->poll |= EPOLLIN | EPOLLRDNORM;
		}
	}
	c->sent += sent;
	return sent;
}

/*
 * send_locked_slow() for a blocked write's pinned elements, from the
 * first: to blocked receivers, then into the ring's free slots.
 */
static u32 send_pinned_locked(struct gochan_chan *c, struct gochan_pin *pin,
			      u32 n, struct gochan_unlock *u)
{
	size_t es = c->elem_size;
	struct gochan_waiter *r;
	u32 sent = 0;

	lockdep_assert_held(&c->lock);
	while (sent < n && (r = waitq_claim_first(c, false))) {
		u32 k = min(n - sent, r->nelem);

		if (r->pin)
			gochan_pin_copy_pin(r->pin, 0, pin, sent * es, k * es);
		else if (es)
			gochan_pin_read(pin, sent * es, r->buf, k * es);
		r->ndone = k;
		sent += k;
		c->received += k;
		waiter_complete(c, r, false, u);
	}
	if (sent < n && c->capacity && !waitq_prune(c, true)) {
		u32 k = min(n - sent, c->capacity - c->len);

		if (k) {
			ring_push_pinned(c, pin, sent * es, k);
			sent += k;
			u->poll |= EPOLLIN | EPOLLRDNORM;
		}
	}
	c->sent += sent;
	return sent;
}

/*
 * The common cases, inlined into chan_send() and chan_recv() and kept
 * apart from the general loops so that they save no registers: one
 * element into a ring with room and nobody queued, or out of a ring with
 * no sender queued (then nothing else may go first).
 */
static __always_inline u32 recv_locked(struct gochan_chan *c, void *buf,
				       u32 n, struct gochan_unlock *u)
{
	lockdep_assert_held(&c->lock);
	if (n == 1 && c->len && !c->nsend) {
		ring_pop_one(c, buf);
		u->poll |= EPOLLOUT | EPOLLWRNORM;
		c->received++;
		return 1;
	}
	return recv_locked_slow(c, buf, n, u);
}

static __always_inline u32 send_locked(struct gochan_chan *c, const void *buf,
				       u32 n, struct gochan_unlock *u)
{
	lockdep_assert_held(&c->lock);
	if (n == 1 && !c->nrecv && !c->nsend && c->len < c->capacity) {
		ring_push_one(c, buf);
		u->poll |= EPOLLIN | EPOLLRDNORM;
		c->sent++;
		return 1;
	}
	return send_locked_slow(c, buf, n, u);
}

/*
 * Whether gochan_send_locked() (gochan_recv_locked()) would move an element
 * now: a live receiver (sender) waits, or the ring has room (an element).
 * For a select that must know before it commits (it reports the case
 * first: see select.c).  c->lock must be held; dead waiters met are
 * dropped.
 */
bool gochan_send_ready_locked(struct gochan_chan *c)
{
	lockdep_assert_held(&c->lock);
	return waitq_prune(c, false) ||
	       (c->len < c->capacity && !waitq_prune(c, true));
}

bool gochan_recv_ready_locked(struct gochan_chan *c)
{
	lockdep_assert_held(&c->lock);
	return c->len || waitq_prune(c, true);
}

/**
 * gochan_recv_locked - take elements without blocking.
 * @c: the channel, locked
 * @buf: room for @n elements
 * @n: most elements to take
 * @u: collects wakeups for after the unlock
 *
 * Takes from the ring (refilled from blocked senders as it drains), or, on
 * an unbuffered channel, straight from blocked senders.  Returns how many
 * were taken.
 */
u32 gochan_recv_locked(struct gochan_chan *c, void *buf, u32 n,
		       struct gochan_unlock *u)
{
	return recv_locked(c, buf, n, u);
}

/**
 * gochan_send_locked - give elements without blocking.
 * @c: the channel, locked and not closed
 * @buf: @n elements
 * @n: most elements to give
 * @u: collects wakeups for after the unlock
 *
 * Gives to blocked receivers in arrival order first (the ring is empty
 * when any is queued), then into the ring's free slots.  Returns how many
 * were given.
 */
u32 gochan_send_locked(struct gochan_chan *c, const void *buf, u32 n,
		       struct gochan_unlock *u)
{
	return send_locked(c, buf, n, u);
}

/* --- Entry points --- */

/*
 * Sleep on a waiter queued on @c until a partner completes it.  On a signal
 * or the deadline, take it back under the lock, unless a partner completed
 * it meanwhile: then the call succeeded after all.  Returns 0 if completed,
 * else -ERESTARTSYS or -ETIMEDOUT; *wait_ns gets the time slept.
 */
static int wait_on_chan(struct gochan_chan *c, struct gochan_wait *wait,
			struct gochan_waiter *w, bool send,
			const struct gochan_block *blk, u64 *wait_ns)
{
	struct gochan_unlock u;
	int ret;

	trace_gochan_block(c->id, send ? GOCHAN_TRACE_OP_SEND : GOCHAN_TRACE_OP_RECV,
			   current);
	*wait_ns = ktime_get_ns();
	ret = gochan_wait_sleep(wait, blk);
	*wait_ns = ktime_get_ns() - *wait_ns;
	if (!ret)
		return 0;
	gochan_lock(c, &u);
	if (wait->state == GOCHAN_WAIT_DONE)
		ret = 0;
	else
		gochan_waitq_del(c, w, send);
	gochan_unlock(c, &u);
	return ret;
}

/*
 * chan_send - send elements from a kernel buffer (gochan_chan_send()), or
 * from a write's pinned user buffer (gochan_chan_send_pinned()).
 * @c: the channel
 * @buf: @n elements; must stay valid until the call returns; NULL with @pin
 * @pin: NULL, or @n elements, pinned: receivers take them from its pages,
 *       also while the call waits, with no kernel buffer between
 * @n: number of elements, at least 1
 * @blk: whether and how long the call may block
 *
 * Blocks (unless @blk says not to) until every element has been taken by a
 * receiver or put in the ring.  Returns the number sent if at least one was
 * (fewer than @n only after a signal, the deadline or a close), else
 * -EAGAIN, -ETIMEDOUT, -ERESTARTSYS or -EPIPE.
 */
static __always_inline long chan_send(struct gochan_chan *c, const void *buf,
				      struct gochan_pin *pin, u32 n,
				      const struct gochan_block *blk,
				      u64 *wait_ns)
{
	struct gochan_wait wait;	/* set up if we block */
	struct gochan_waiter w;
	struct gochan_unlock u;
	u32 sent;
	long ret;

	gochan_lock(c, &u);
	if (c->closed) {
		ret = -EPIPE;
		goto out_unlock;
	}
	/* (buf is constant in each caller: one branch is compiled) */
	sent = buf ? send_locked(c, buf, n, &u) : send_pinned_locked(c, pin, n, &u);
	if (sent == n) {
		ret = sent;
		goto out_unlock;
	}
	if (blk->nonblock || gochan_deadline_passed(blk)) {
		ret = sent ? (long)sent : (blk->nonblock ? -EAGAIN : -ETIMEDOUT);
		goto out_unlock;
	}

	wait = (struct gochan_wait) { .task = current, .state = GOCHAN_WAIT_PENDING };
	if (buf)	/* the rest of buf, from its start */
		w = (struct gochan_waiter) {
			.wait	= &wait,
			.buf	= (void *)buf + sent * (size_t)c->elem_size,
			.nelem	= n - sent,
		};
	else		/* the whole pin, sent elements done */
		w = (struct gochan_waiter) {
			.wait	= &wait,
			.pin	= pin,
			.nelem	= n,
			.ndone	= sent,
		};
	gochan_waitq_add(c, &w, true);
	u.poll |= EPOLLIN | EPOLLRDNORM;	/* a sender waits: recv won't block */
	gochan_unlock(c, &u);

	ret = wait_on_chan(c, &wait, &w, true, blk, wait_ns);
	/*
	 * Done: every element was taken, or close failed the rest.  Not done:
	 * a signal or the deadline; w.ndone elements went before it.
	 */
	sent = buf ? sent + w.ndone : w.ndone;
	if (sent)
		return sent;
	if (!ret)	/* done with nothing taken: only close does that */
		return -EPIPE;
	return ret;

out_unlock:
	gochan_unlock(c, &u);
	return ret;
}

/*
 * chan_recv - receive elements into a kernel buffer (gochan_chan_recv()),
 * or into a pinned user buffer (gochan_chan_recv_pinned()).
 * @c: the channel
 * @buf: room for @n elements; NULL with @pin
 * @pin: NULL, or room for @n elements, pinned: what is taken goes to its
 *       pages, by this call or by the sender that hands elements to it
 *       while it waits (send_locked_slow()), with no kernel buffer between
 * @n: most elements to take, at least 1
 * @blk: whether and how long the call may block
 *
 * Blocks (unless @blk says not to) until at least one element can be taken,
 * then takes all that can be taken at once, up to @n.  Returns the number
 * received, 0 if the channel is closed and drained, or -EAGAIN, -ETIMEDOUT,
 * -ERESTARTSYS.
 */
static __always_inline long chan_recv(struct gochan_chan *c, void *buf,
				      struct gochan_pin *pin, u32 n,
				      const struct gochan_block *blk,
				      u64 *wait_ns)
{
	struct gochan_wait wait;	/* set up if we block */
	struct gochan_waiter w;
	struct gochan_unlock u;
	struct iov_iter to;
	long ret;

	if (!buf)	/* (constant in each caller: one branch is compiled) */
		gochan_pin_dest(pin, &to);
	gochan_lock(c, &u);
	if (!buf) {
		ret = recv_to_iter_locked(c, &to, n, &u);
		pin->dirty |= ret != 0;
	} else {
		ret = recv_locked(c, buf, n, &u);
	}
	if (ret || c->closed)
		goto out_unlock;
	if (blk->nonblock || gochan_deadline_passed(blk)) {
		ret = blk->nonblock ? -EAGAIN : -ETIMEDOUT;
		goto out_unlock;
	}

	wait = (struct gochan_wait) { .task = current, .state = GOCHAN_WAIT_PENDING };
	w = (struct gochan_waiter) { .wait = &wait, .buf = buf, .pin = pin, .nelem = n };
	gochan_waitq_add(c, &w, false);
	u.poll |= EPOLLOUT | EPOLLWRNORM;	/* a receiver waits: send won't block */
	gochan_unlock(c, &u);

	ret = wait_on_chan(c, &wait, &w, false, blk, wait_ns);
	if (ret)
		return ret;
	/* Done: a sender filled w.ndone (>= 1) slots, or close left it empty. */
	return w.ndone;

out_unlock:
	gochan_unlock(c, &u);
	return ret;
}

long gochan_chan_send(struct gochan_chan *c, const void *buf, u32 n,
		      const struct gochan_block *blk)
{
	u64 wait_ns = 0;
	long ret = chan_send(c, buf, NULL, n, blk, &wait_ns);

	trace_gochan_send(c->id, c->elem_size, n, ret, wait_ns);
	return ret;
}

/**
 * gochan_chan_send_pinned - send from a pinned user buffer.
 * @c: the channel
 * @pin: @n elements, pinned for reading (gochan_pin_iter() of a source)
 * @n: number of elements, at least 1
 * @blk: whether and how long the call may block
 *
 * As gochan_chan_send(), but receivers take the elements straight from
 * @pin's pages, also while the call waits: a write(2) that waits needs no
 * kernel buffer.  Returns what gochan_chan_send() returns.
 */
long gochan_chan_send_pinned(struct gochan_chan *c, struct gochan_pin *pin,
			     u32 n, const struct gochan_block *blk)
{
	u64 wait_ns = 0;
	long ret = chan_send(c, NULL, pin, n, blk, &wait_ns);

	trace_gochan_send(c->id, c->elem_size, n, ret, wait_ns);
	return ret;
}

long gochan_chan_recv(struct gochan_chan *c, void *buf, u32 n,
		      const struct gochan_block *blk)
{
	u64 wait_ns = 0;
	long ret = chan_recv(c, buf, NULL, n, blk, &wait_ns);

	trace_gochan_recv(c->id, c->elem_size, n, ret, wait_ns);
	return ret;
}

/**
 * gochan_chan_recv_pinned - receive into a pinned user buffer.
 * @c: the channel
 * @pin: room for @n elements, pinned for writing (gochan_pin_iter())
 * @n: most elements to take, at least 1
 * @blk: whether and how long the call may block
 *
 * As gochan_chan_recv(), but the elements go straight to @pin's pages,
 * also those a sender hands over while the call waits: a read(2) that
 * waits needs no kernel buffer.  Returns what gochan_chan_recv() returns.
 */
long gochan_chan_recv_pinned(struct gochan_chan *c, struct gochan_pin *pin,
			     u32 n, const struct gochan_block *blk)
{
	u64 wait_ns = 0;
	long ret = chan_recv(c, NULL, pin, n, blk, &wait_ns);

	trace_gochan_recv(c->id, c->elem_size, n, ret, wait_ns);
	return ret;
}

/*
 * --- Bulk reads and writes: between the ring and user memory directly ---
 *
 * A read or write of several elements on a buffered channel copies them
 * between the ring and the caller's iov_iter under the channel's lock, in
 * at most two copies (the ring's wrap), instead of through a kernel bounce
 * buffer.  The copies run with page faults disabled: a fault under the lock
 * could take as long as the memory's owner likes (userfaultfd, FUSE) and
 * would hold everyone else.  What they copy is what moves: a receive takes
 * exactly the elements that reached the caller (nothing is taken and then
 * given back), a send gives exactly those that came in.  A fault before the
 * first element makes the call return -EFAULT with nothing moved: the
 * caller faults the memory in, without the lock, and comes again.
 */

/* Copy the @k oldest elements to @to; returns how many whole ones went. */
static u32 ring_to_iter(struct gochan_chan *c, u32 k, struct iov_iter *to)
{
	size_t es = c->elem_size, bytes;
	u32 first = min(k, c->capacity - c->head);

	lockdep_assert_held(&c->lock);
	pagefault_disable();
	bytes = copy_to_iter(c->ring + c->head * es, first * es, to);
	if (bytes == first * es && k > first)	/* the rest wraps around */
		bytes += copy_to_iter(c->ring, (k - first) * es, to);
	pagefault_enable();
	iov_iter_revert(to, bytes % es);	/* a part of one is no element */
	return bytes / es;
}

/* Append up to @k elements from @from (k <= free slots); returns how many. */
static u32 iter_to_ring(struct gochan_chan *c, u32 k, struct iov_iter *from)
{
	size_t es = c->elem_size, bytes;
	u32 tail = c->head + c->len, first;

	lockdep_assert_held(&c->lock);
	if (tail >= c->capacity)
		tail -= c->capacity;
	first = min(k, c->capacity - tail);
	pagefault_disable();
	bytes = copy_from_iter(c->ring + tail * es, first * es, from);
	if (bytes == first * es && k > first)
		bytes += copy_from_iter(c->ring, (k - first) * es, from);
	pagefault_enable();
	iov_iter_revert(from, bytes % es);
	WRITE_ONCE(c->len, c->len + bytes / es);
	return bytes / es;
}

/**
 * gochan_chan_recv_iter - take buffered elements straight into @to.
 * @c: the channel
 * @to: user memory with room for @n elements
 * @n: most elements to take
 *
 * Never blocks.  Takes from the ring, oldest first, when it holds
 * elements; blocked senders then refill the slots it freed.  Returns the
 * number taken; 0 when the general path must be taken (an empty ring, an
 * unbuffered channel); -EFAULT when the first element met a fault.
 */
long gochan_chan_recv_iter(struct gochan_chan *c, struct iov_iter *to, u32 n)
{
	struct gochan_unlock u;
	long ret = 0;
	u32 got;

	if (!c->elem_size)
		return 0;
	gochan_lock(c, &u);
	if (!c->len)
		goto out_unlock;
	got = ring_to_iter(c, min(n, c->len), to);
	if (!got) {
		ret = -EFAULT;
		goto out_unlock;
	}
	ring_drop(c, got);
	c->received += got;
	u.poll |= EPOLLOUT | EPOLLWRNORM;
	refill_from_senders(c, &u);
	ret = got;
out_unlock:
	gochan_unlock(c, &u);
	if (ret > 0)
		trace_gochan_recv(c->id, c->elem_size, n, ret, 0);
	return ret;
}

/*
 * Hand up to @n elements from @from to @r, the first receiver queued, which
 * waits in a read(2) on pinned pages (a plain wait: nothing to claim): one
 * copy, from the sender's memory to the receiver's, with page faults
 * disabled.  Returns how many whole elements went (0: @from faulted at
 * once; @r stays queued).
 */
static u32 to_pinned_receiver(struct gochan_chan *c, struct gochan_waiter *r,
			      u32 n, struct iov_iter *from,
			      struct gochan_unlock *u)
{
	size_t es = c->elem_size, bytes;
	u32 k = min(n, r->nelem);

	lockdep_assert_held(&c->lock);
	bytes = gochan_pin_copy_from_iter(r->pin, (size_t)k * es, from);
	iov_iter_revert(from, bytes % es);	/* a part of one is no element */
	k = bytes / es;
	if (!k)
		return 0;
	r->ndone = k;
	c->sent += k;
	c->received += k;
	waiter_complete(c, r, false, u);
	return k;
}

/**
 * gochan_chan_send_iter - give elements from @from straight to where they go.
 * @c: the channel
 * @from: user memory holding @n elements
 * @n: most elements to give
 *
 * Never blocks.  Hands them to the first receiver queued when it waits in
 * a read(2) on pinned pages (to_pinned_receiver()), else fills free slots
 * of the ring when no receiver waits for a handoff (nor any sender, which
 * has a full ring first).  Returns the number given; 0 when the general
 * path must be taken (no free slot, an unbuffered channel without such a
 * receiver, another waiter queued, a closed channel); -EFAULT when the
 * first element met a fault.
 */
long gochan_chan_send_iter(struct gochan_chan *c, struct iov_iter *from, u32 n)
{
	struct gochan_waiter *r;
	struct gochan_unlock u;
	long ret = 0;
	u32 got;

	if (!c->elem_size)
		return 0;
	gochan_lock(c, &u);
	if (c->closed)
		goto out_unlock;
	r = list_first_entry_or_null(&c->recvq, struct gochan_waiter, node);
	if (r && r->pin) {
		got = to_pinned_receiver(c, r, n, from, &u);
		ret = got ? (long)got : -EFAULT;
		goto out_unlock;
	}
	if (c->nrecv || c->nsend || c->len == c->capacity)
		goto out_unlock;
	got = iter_to_ring(c, min(n, c->capacity - c->len), from);
	if (!got) {
		ret = -EFAULT;
		goto out_unlock;
	}
	c->sent += got;
	u.poll |= EPOLLIN | EPOLLRDNORM;
	ret = got;
out_unlock:
	gochan_unlock(c, &u);
	if (ret > 0)
		trace_gochan_send(c->id, c->elem_size, n, ret, 0);
	return ret;
}

/*
 * --- One element straight into user memory ---
 *
 * GOCHAN_IOC_RECV, read(2) and io_uring's RECV of one element take it
 * from where it is, the ring's oldest slot or a blocked sender's buffer,
 * straight into the caller's buffer (and write ok, for the ioctl), under
 * the lock with page faults disabled as the bulk path does, and take it
 * only once it is there: a fault takes nothing, and the caller faults the
 * buffer in, without the lock, and comes again.  So a value is either
 * delivered and reported, or not taken.  What cannot be done so is left
 * to the caller, with its buffer pinned (pin.c): a receive that must wait
 * (a sender will hand it the value through a kernel buffer), or one whose
 * sender is a select or a queued command (it must be claimed first, and a
 * claim cannot be undone if the copy then faults), or a blocked write
 * whose elements are in its pinned pages (copied from there to pinned
 * pages, which cannot fault).
 */

/* The element at @src to @ubuf, then 1 to *@ok (if any): 0 or -EFAULT. */
static __always_inline int elem_to_user_nofault(void __user *ubuf,
						u32 __user *ok,
						const void *src, u32 es)
{
	int err;

	pagefault_disable();
	err = copy_to_user(ubuf, src, es) ? -EFAULT : 0;
	if (!err && ok && put_user(1, ok))
		err = -EFAULT;
	pagefault_enable();
	return err;
}

/**
 * gochan_chan_recv_user - take one element straight into user memory.
 * @c: the channel
 * @ubuf: room for one element
 * @ok: NULL, or where 1 goes with the element (GOCHAN_IOC_RECV's ok)
 * @blk: whether the call may block (it never does here)
 *
 * Returns 1 (taken: in @ubuf, and 1 in *@ok), 0 (closed and drained:
 * nothing written), -EFAULT (a fault: nothing taken), -EAGAIN or
 * -ETIMEDOUT (nothing to take, and @blk says not to wait), or
 * GOCHAN_RECV_PIN: nothing taken, the call must pin @ubuf and take the
 * general path (gochan_chan_recv()).
 */
long gochan_chan_recv_user(struct gochan_chan *c, void __user *ubuf,
			   u32 __user *ok, const struct gochan_block *blk)
{
	struct gochan_unlock u;
	struct gochan_waiter *s;
	u32 es = c->elem_size;
	long ret;

	gochan_lock(c, &u);
	if (c->len) {
		if (elem_to_user_nofault(ubuf, ok, c->ring + c->head * (size_t)es, es)) {
			ret = -EFAULT;
			goto out_unlock;
		}
		ring_drop(c, 1);
		c->received++;
		u.poll |= EPOLLOUT | EPOLLWRNORM;
		if (unlikely(c->nsend))
			refill_from_senders(c, &u);
		ret = 1;
	} else if (c->nsend && waitq_prune(c, true)) {
		/* Unbuffered (an empty ring has no sender queued otherwise). */
		s = list_first_entry(&c->sendq, struct gochan_waiter, node);
		if (s->wait->select || s->wait->async || s->pin) {
			ret = GOCHAN_RECV_PIN;
			goto out_unlock;
		}
		if (elem_to_user_nofault(ubuf, ok, s->buf + s->ndone * (size_t)es, es)) {
			ret = -EFAULT;
			goto out_unlock;
		}
		s->ndone++;
		c->sent++;
		c->received++;
		if (s->ndone == s->nelem)
			waiter_complete(c, s, true, &u);
		ret = 1;
	} else if (c->closed) {
		ret = 0;
	} else if (blk->nonblock || gochan_deadline_passed(blk)) {
		ret = blk->nonblock ? -EAGAIN : -ETIMEDOUT;
	} else {
		ret = GOCHAN_RECV_PIN;
	}
out_unlock:
	gochan_unlock(c, &u);
	return ret;
}

/**
 * gochan_chan_close - Go's close(c).
 * @c: the channel
 *
 * Fails every blocked sender (-EPIPE, or its partial count) and completes
 * every blocked receiver with nothing (end-of-channel); buffered elements
 * stay for receivers to drain.  Returns 0, or -EPIPE if already closed.
 */
int gochan_chan_close(struct gochan_chan *c)
{
	struct gochan_waiter *w;
	struct gochan_unlock u;

	gochan_lock(c, &u);
	if (c->closed) {
		gochan_unlock(c, &u);
		trace_gochan_close(c->id, -EPIPE);
		return -EPIPE;
	}
	WRITE_ONCE(c->closed, true);
	while ((w = waitq_claim_first(c, false))) {
		w->closed = true;
		waiter_complete(c, w, false, &u);
	}
	while ((w = waitq_claim_first(c, true))) {
		w->closed = true;
		waiter_complete(c, w, true, &u);
	}
	u.poll = EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
	gochan_unlock(c, &u);
	trace_gochan_close(c->id, 0);
	return 0;
}

/* Whether a live sender (@send) or receiver waits, under the lock. */
static bool partner_waits(struct gochan_chan *c, bool send)
{
	bool live;

	mutex_lock(&c->lock);
	live = waitq_prune(c, send);
	mutex_unlock(&c->lock);
	return live;
}

/* The poll events a file of direction @mode may report (and wait for). */
__poll_t gochan_poll_events(fmode_t mode)
{
	return EPOLLHUP |
	       (mode & FMODE_READ ? EPOLLIN | EPOLLRDNORM : 0) |
	       (mode & FMODE_WRITE ? EPOLLOUT | EPOLLWRNORM : 0);
}

/*
 * Readiness as gochan_poll() reports it to a file of direction @mode (a
 * receive-only file never shows EPOLLOUT, a send-only one never EPOLLIN),
 * from a lockless snapshot (see the [L, R] fields in internal.h for why that
 * is enough), except where the answer hangs on a waiting partner alone:
 * nsend and nrecv count dead waiters too, so then the queue is asked under
 * the lock.
 */
__poll_t gochan_chan_poll_mask(struct gochan_chan *c, fmode_t mode)
{
	bool closed = READ_ONCE(c->closed);
	u32 len = READ_ONCE(c->len);
	__poll_t mask = 0;

	if (closed)
		return gochan_poll_events(mode);
	if ((mode & FMODE_READ) &&
	    (len ||
	     (READ_ONCE(c->nsend) && partner_waits(c, true))))
		mask |= EPOLLIN | EPOLLRDNORM;
	if ((mode & FMODE_WRITE) &&
	    (len < c->capacity ||
	     (READ_ONCE(c->nrecv) && partner_waits(c, false))))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

void gochan_chan_stat(struct gochan_chan *c, struct gochan_stat *st)
{
	mutex_lock(&c->lock);
	/* Blocked calls and pending commands: the dead are neither. */
	waitq_prune_all(c, true);
	waitq_prune_all(c, false);
	st->flags = c->closed ? GOCHAN_STAT_CLOSED : 0;
	st->len = c->len;
	st->send_waiters = c->nsend;
	st->recv_waiters = c->nrecv;
	st->sent = c->sent;
	st->received = c->received;
	mutex_unlock(&c->lock);
	st->id = c->id;
	st->elem_size = c->elem_size;
	st->capacity = c->capacity;
	st->creator_pid = pid_vnr(c->creator);
}

/**
 * gochan_chan_create - a new channel with one reference.
 * @elem_size: bytes per element, 0 for a signal channel
 * @capacity: ring slots, 0 for unbuffered
 *
 * The ring and the channel are charged to the caller's memory cgroup, the
 * ring's bytes to max_total_bytes and to the caller's user's share of it.
 * Returns the channel or ERR_PTR(-EINVAL / -ENOSPC / -ENOMEM).
 */
struct gochan_chan *gochan_chan_create(u32 elem_size, u32 capacity)
{
	/* A signal channel's slots count one byte each against the bounds. */
	size_t bound_bytes = (size_t)capacity * max(elem_size, 1u);
	size_t ring_bytes = (size_t)capacity * elem_size;
	struct gochan_chan *c;
	int err;

	if (elem_size > gochan_max_elem_size() ||
	    bound_bytes > gochan_max_chan_bytes())
		return ERR_PTR(-EINVAL);

	c = kzalloc(ring_bytes <= GOCHAN_INLINE_RING ?
		    struct_size(c, inline_ring, ring_bytes) : sizeof(*c),
		    GFP_KERNEL_ACCOUNT);
	if (!c)
		return ERR_PTR(-ENOMEM);
	err = gochan_charge(ring_bytes, &c->user);
	if (err)
		goto err_free;
	if (ring_bytes && ring_bytes <= GOCHAN_INLINE_RING) {
		c->ring = c->inline_ring;
	} else if (ring_bytes) {
		/* Over the creator's memcg limit this is ENOMEM for the
		 * caller, not the memcg's OOM killer (RETRY_MAYFAIL). */
		c->ring = kvzalloc(ring_bytes, GFP_KERNEL_ACCOUNT |
				   __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
		if (!c->ring) {
			err = -ENOMEM;
			goto err_uncharge;
		}
	}
	refcount_set(&c->ref, 1);
	c->id = atomic64_inc_return(&gochan_next_id);
	c->elem_size = elem_size;
	c->capacity = capacity;
	c->ring_bytes = ring_bytes;
	c->creator = get_pid(task_tgid(current));
	mutex_init(&c->lock);
	INIT_LIST_HEAD(&c->sendq);
	INIT_LIST_HEAD(&c->recvq);
	INIT_LIST_HEAD(&c->asyncq);
	init_waitqueue_head(&c->poll_wq);
	spin_lock_init(&c->hooks_lock);
	INIT_LIST_HEAD(&c->hooks);
	trace_gochan_make(c->id, elem_size, capacity);
	return c;

err_uncharge:
	gochan_uncharge(c->user, ring_bytes);
err_free:
	kfree(c);
	return ERR_PTR(err);
}

void gochan_chan_get(struct gochan_chan *c)
{
	refcount_inc(&c->ref);
}

void gochan_chan_put(struct gochan_chan *c)
{
	if (!refcount_dec_and_test(&c->ref))
		return;
	/* The last reference: no file, so no task can be queued. */
	WARN_ON_ONCE(!list_empty(&c->sendq) || !list_empty(&c->recvq) ||
		     !list_empty(&c->asyncq));
	if (c->ring_bytes)
		gochan_poison(c->ring, c->ring_bytes);
	if (c->ring != c->inline_ring)
		kvfree(c->ring);
	gochan_uncharge(c->user, c->ring_bytes);
	put_pid(c->creator);
	mutex_destroy(&c->lock);
	kfree(c);
}
