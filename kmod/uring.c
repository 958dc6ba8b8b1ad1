// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring commands on a channel fd: a send or receive queued inside the
 * channel with no task asleep, completed later by a partner (see "io_uring
 * commands" in the uapi header for the contract).
 *
 * A command that cannot complete at once becomes a struct gochan_async: a
 * heap-allocated wait with one waiter, queued on the channel like a blocked
 * call's (a select: one waiter per case, in a struct gochan_sel), and on
 * the asyncq of the channel it was submitted on, so cancellers find it.  Its wait is claimed
 * by cmpxchg, and whoever moves it out of PENDING completes it:
 *
 *   partner (send, recv, select, close; under c->lock)
 *       PENDING -> CLAIMED -> DONE, moves the element, queues the task work
 *   canceller (GOCHAN_IOC_CANCEL, flush: under c->lock;
 *              deadline timer, ring teardown and exec: no lock; 6.1 has
 *              no teardown call, a watch stands in for it, see below)
 *       PENDING -> CANCELLED, queues the task work with an error
 *
 * The task work (async_task_work(), in the submitting task, or in a
 * kworker when that task is exiting) unlinks the waiter if a lockless
 * canceller left it queued, takes it off c->asyncq, writes a received
 * element into the buffer the RECV pinned at submission (pin.c: no fault,
 * no mm needed, so a value taken is always delivered, never given back)
 * and posts the CQE.
 *
 * Lifetime: a gochan_async has two references, the submission path's and
 * the completion's; it holds a channel reference and the submitting task's
 * (for tracepoints).  The io_uring request holds the file, so the file is
 * not released while a command is queued: close(2) reaches us through
 * ->flush, which cancels the closing process's commands on that file.
 */
#include <linux/hrtimer.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "internal.h"
#include "compat.h"
#include "debug.h"
#include "gochan_trace.h"

struct gochan_async {
	struct gochan_wait	wait;		/* .async; .task = submitter */
	struct gochan_waiter	w;		/* on c->sendq or c->recvq */
	struct gochan_sel	*sel;		/* SELECT: the cases' waiters */
	struct list_head	node;		/* [L] on c->asyncq while queued */
	struct list_head	watch_node;	/* 6.1: on watched, while queued */
	refcount_t		ref;		/* submission + completion */
	struct gochan_chan	*c;		/* referenced; submitted on */
	struct io_uring_cmd	*cmd;
	struct file		*file;		/* flush: the file submitted on */
	fl_owner_t		owner;		/* flush, cancel: submitter's files */
	u64			key;		/* GOCHAN_IOC_CANCEL finds it by */
	struct gochan_pin	pin;		/* RECV: where the element goes */
	struct hrtimer		timer;		/* GOCHAN_XFER_DEADLINE */
	bool			has_timer;
	bool			send;
	int			err;		/* set by the canceller that won */
	u64			queued_ns;	/* for the trace's wait_ns */
	u8			buf[];		/* one element */
};

static struct gochan_async *cmd_to_async(struct io_uring_cmd *cmd)
{
	struct gochan_async *a;

	memcpy(&a, cmd->pdu, sizeof(a));
	return a;
}

static void async_put(struct gochan_async *a)
{
	if (!refcount_dec_and_test(&a->ref))
		return;
	WARN_ON_ONCE(!list_empty(&a->node));	/* still findable on c->asyncq */
	WARN_ON_ONCE(!list_empty(&a->watch_node));
	if (a->has_timer)
		hrtimer_cancel(&a->timer);
	if (a->sel)
		gochan_sel_free(a->sel);
	else
		gochan_poison(a->buf, a->c->elem_size);
	gochan_pin_release(&a->pin);
	put_task_struct(a->wait.task);
	gochan_chan_put(a->c);
	kfree(a);
}

/*
 * How long a queued command waited, for the tracepoints.  local_clock(),
 * not ktime_get_ns(): it is read twice per queued command, and where the
 * clocksource is slow to read (HPET, as in a TCG guest) ktime_get_ns()
 * tripled the cost of one.  It may differ a little between CPUs: a wait
 * that seems negative counts as 0.
 */
static u64 async_wait_ns(struct gochan_async *a)
{
	s64 d = a->queued_ns ? (s64)(local_clock() - a->queued_ns) : 0;

	return d > 0 ? d : 0;
}

/*
 * A SEND or RECV ends with @res (the uapi header's values), a queued one
 * or one done at submission: the tracepoint says how long it waited.
 * Returns @res, the CQE's.
 */
static long xfer_finish(struct gochan_chan *c, bool send, long res,
			u64 wait_ns)
{
	if (send)
		trace_gochan_send(c->id, c->elem_size, 1, res ? res : 1, wait_ns);
	else
		trace_gochan_recv(c->id, c->elem_size, 1, res, wait_ns);
	return res;
}

static void async_complete(struct gochan_async *a, long res,
			   unsigned int issue_flags)
{
	/* A received element, through the pin: cannot fail, needs no mm. */
	if (!a->send && res == 1)
		gochan_pin_write(&a->pin, 0, a->buf, a->c->elem_size);
	res = xfer_finish(a->c, a->send, res, async_wait_ns(a));
	io_uring_cmd_done(a->cmd, res, 0, issue_flags);
	async_put(a);
}

/*
 * Post the CQE of a SELECT: @ret is the index of the case that ran (in the
 * select's cases, with @ok for a receive) or -errno.  res is the case's
 * index in the submitter's array with GOCHAN_SELECT_RES_* bits, or -errno.
 */
static void async_sel_complete(struct gochan_async *a, long ret, u32 ok,
			       unsigned int issue_flags)
{
	struct gochan_sel_outcome o = {};
	long res = ret;

	if (ret >= 0) {
		gochan_sel_outcome(a->sel, ret, &o);
		res = o.index;
		if (o.send && o.closed) {
			res |= GOCHAN_SELECT_RES_CLOSED;
		} else if (!o.send && ok) {
			/* Through the case's pin: cannot fail, needs no mm. */
			gochan_pin_write(o.pin, 0, o.kbuf, o.c->elem_size);
			res |= GOCHAN_SELECT_RES_OK;
		}
	}
	trace_gochan_select(gochan_sel_ncases(a->sel), res < 0 ? res : o.index,
			    res >= 0 ? o.c->id : 0, async_wait_ns(a));
	io_uring_cmd_done(a->cmd, res, 0, issue_flags);
	async_put(a);
}

/*
 * Ring teardown and execve() on kernels without cancelable commands (6.1).
 *
 * 6.7+ calls ->uring_cmd with IO_URING_F_CANCEL for a queued command when
 * its ring is torn down or its submitter execs.  6.1 has no such call:
 * io_ring_exit_work() waits for the command forever (warning after five
 * minutes), holding the ring's registered files and through them the
 * channel and the module; an exec waits too.  ->flush reaches the
 * commands a process submitted through a file it still has an fd for, but
 * not one submitted through a registered file whose fd was closed, nor any
 * while the submitter execs.
 *
 * So on 6.1 a queued command is also on @watched, and while that list is
 * not empty a delayed work looks at it every WATCH_INTERVAL and cancels,
 * with -ECANCELED as 6.7+ does, the commands whose ring is being torn down
 * (its references killed: io_ring_ctx_wait_and_kill()'s first step) or
 * whose submitter is cancelling its requests (exec, exit: in_idle).
 *
 * A command is on the list from when it is queued until its task work
 * runs, which takes it off before posting its CQE: under watch_lock the
 * command, its request, ring and submitting task are alive.  watch_lock
 * nests inside c->lock.
 */
#if !GOCHAN_HAVE_CMD_CANCEL
#include <linux/io_uring_types.h>

#define WATCH_INTERVAL	(HZ / 10)

static bool async_cancel(struct gochan_async *a, int err);

static LIST_HEAD(watched);
static DEFINE_SPINLOCK(watch_lock);
static void watch_scan(struct work_struct *work);
static DECLARE_DELAYED_WORK(watch_work, watch_scan);

/* Whether io_uring is ending @cmd's ring, or its submitter's requests. */
static bool cmd_orphaned(struct io_uring_cmd *cmd)
{
	struct io_kiocb *req = cmd_to_io_kiocb(cmd);
	struct io_uring_task *tctx = req->task->io_uring;

	return percpu_ref_is_dying(&req->ctx->refs) ||
	       (tctx && atomic_read(&tctx->in_idle));
}

static void watch_scan(struct work_struct *work)
{
	struct gochan_async *a;

	spin_lock(&watch_lock);
	list_for_each_entry(a, &watched, watch_node)
		if (cmd_orphaned(a->cmd))
			async_cancel(a, -ECANCELED);	/* stays listed */
	if (!list_empty(&watched))
		schedule_delayed_work(&watch_work, WATCH_INTERVAL);
	spin_unlock(&watch_lock);
}

static void async_watch(struct gochan_async *a)
{
	spin_lock(&watch_lock);
	if (list_empty(&watched))
		schedule_delayed_work(&watch_work, WATCH_INTERVAL);
	list_add_tail(&a->watch_node, &watched);
	spin_unlock(&watch_lock);
}

static void async_unwatch(struct gochan_async *a)
{
	spin_lock(&watch_lock);
	list_del_init(&a->watch_node);
	spin_unlock(&watch_lock);
}

/* Module exit: no command is queued (each holds its file), the work may be. */
void gochan_uring_exit(void)
{
	cancel_delayed_work_sync(&watch_work);
}
#else
static void async_watch(struct gochan_async *a) { }
static void async_unwatch(struct gochan_async *a) { }
void gochan_uring_exit(void) { }
#endif

/* Task work: finish a command a partner completed or a canceller claimed. */
static void async_task_work(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct gochan_async *a = cmd_to_async(cmd);
	struct gochan_chan *c = a->c;
	bool done;
	long res;

	if (a->sel)	/* the cases nobody took, or all after a cancel */
		gochan_sel_unlink(a->sel);
	mutex_lock(&c->lock);
	if (!list_empty(&a->w.node))	/* a lockless canceller left it */
		gochan_waitq_del(c, &a->w, a->send);
	list_del_init(&a->node);
	async_unwatch(a);
	mutex_unlock(&c->lock);
	if (a->has_timer)
		hrtimer_cancel(&a->timer);

	done = smp_load_acquire(&a->wait.state) == GOCHAN_WAIT_DONE;
	if (a->sel) {
		struct gochan_sel_outcome o;

		if (!done) {
			async_sel_complete(a, a->err, 0, issue_flags);
			return;
		}
		gochan_sel_outcome(a->sel, a->wait.index, &o);
		async_sel_complete(a, a->wait.index, !o.send && !o.closed,
				   issue_flags);
		return;
	}
	if (done) {
		if (a->send)
			res = a->w.closed ? -EPIPE : 0;
		else
			res = a->w.closed ? 0 : 1;
	} else {
		res = a->err;
	}
	async_complete(a, res, issue_flags);
}

/* wait->done: a partner completed the command, under c->lock. */
static void async_done(struct gochan_wait *wait)
{
	struct gochan_async *a = container_of(wait, struct gochan_async, wait);

	/* A select's partner holds the lock of its case's channel. */
	if (!a->sel)
		lockdep_assert_held(&a->c->lock);
	io_uring_cmd_complete_in_task(a->cmd, async_task_work);
}

/*
 * Claim @a for a canceller; if it was still pending, it completes with
 * @err.  Without c->lock, @a must not be touched after a true return.
 */
static bool async_cancel(struct gochan_async *a, int err)
{
	if (cmpxchg(&a->wait.state, GOCHAN_WAIT_PENDING,
		    GOCHAN_WAIT_CANCELLED) != GOCHAN_WAIT_PENDING)
		return false;
	a->err = err;
	io_uring_cmd_complete_in_task(a->cmd, async_task_work);
	return true;
}

/* The same, under c->lock: the waiter leaves its queue at once. */
static bool async_cancel_locked(struct gochan_chan *c, struct gochan_async *a,
				int err)
{
	lockdep_assert_held(&c->lock);
	if (READ_ONCE(a->wait.state) != GOCHAN_WAIT_PENDING)
		return false;
	/* A select's other channels are not locked: its task work unlinks. */
	if (!a->sel && !list_empty(&a->w.node))
		gochan_waitq_del(c, &a->w, a->send);
	return async_cancel(a, err);
}

/*
 * The deadline.  A wait held CLAIMED for a moment (a partner or the
 * submission looking at it) is tried again shortly: it ends DONE, or
 * PENDING again, and the deadline must not be lost in between.
 */
static enum hrtimer_restart async_timer_fn(struct hrtimer *t)
{
	struct gochan_async *a = container_of(t, struct gochan_async, timer);

	if (READ_ONCE(a->wait.state) == GOCHAN_WAIT_CLAIMED) {
		hrtimer_forward_now(t, ns_to_ktime(NSEC_PER_MSEC));
		return HRTIMER_RESTART;
	}
	async_cancel(a, -ETIMEDOUT);
	return HRTIMER_NORESTART;
}

static void async_start_timer(struct gochan_async *a, ktime_t deadline)
{
	a->has_timer = true;
	hrtimer_init(&a->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
	a->timer.function = async_timer_fn;
	hrtimer_start(&a->timer, deadline, HRTIMER_MODE_ABS_SOFT);
}

/* Fill in what every command has; the caller sets the rest. */
static void async_init(struct gochan_async *a, struct gochan_chan *c,
		       struct io_uring_cmd *cmd,
		       const struct gochan_uring_cmd *uc)
{
	a->wait = (struct gochan_wait) {
		.task	= get_task_struct(current),
		.state	= GOCHAN_WAIT_PENDING,
		.async	= true,
		.done	= async_done,
	};
	a->w = (struct gochan_waiter) { .wait = &a->wait, .buf = a->buf, .nelem = 1 };
	INIT_LIST_HEAD(&a->w.node);
	INIT_LIST_HEAD(&a->node);
	INIT_LIST_HEAD(&a->watch_node);
	refcount_set(&a->ref, 2);
	gochan_chan_get(c);
	a->c = c;
	a->cmd = cmd;
	a->file = cmd->file;
	a->owner = current->files;
	a->key = uc->key;
	memcpy(cmd->pdu, &a, sizeof(a));
}

/*
 * A SEND with an element of at most this many bytes first tries to
 * complete at submission with the element on the stack, allocating no
 * struct gochan_async: a send that finds room or a waiting receiver is
 * the common case.  A RECV first tries straight into its buffer
 * (gochan_recv_user_now()), whatever the element's size.
 */
#define ASYNC_NOW_ELEM	64

/*
 * Try a send at once, under c->lock, as a partner would find it; @kbuf
 * holds the element.  Returns the CQE's res, or -EAGAIN if the send would
 * wait (then nothing moved).
 */
static long async_send_now(struct gochan_chan *c, void *kbuf)
{
	struct gochan_unlock u;
	long ret;

	gochan_unlock_init(&u);
	mutex_lock(&c->lock);
	ret = c->closed ? -EPIPE :
	      gochan_send_locked(c, kbuf, 1, &u) ? 0 : -EAGAIN;
	mutex_unlock(&c->lock);
	gochan_unlock_wake(&u);
	gochan_poll_wake(c, u.poll);
	return ret;
}

/*
 * Try a receive at once, straight into @ubuf.  Returns the CQE's res;
 * -EAGAIN if the receive would wait, GOCHAN_RECV_PIN if it must claim its
 * sender (a select, a queued command): then nothing moved, and the
 * command pins @ubuf and looks again under the lock.  One that may wait
 * and finds nothing to take by a racy look (internal.h's [L, R] fields)
 * most likely will wait: it goes that way at once, not locking twice.
 */
static long async_recv_now(struct gochan_chan *c, void __user *ubuf,
			   const struct gochan_block *blk)
{
	static const struct gochan_block now = { .nonblock = true };

	if (!blk->nonblock && !READ_ONCE(c->len) && !READ_ONCE(c->nsend) &&
	    !READ_ONCE(c->closed))
		return GOCHAN_RECV_PIN;
	return gochan_recv_user_now(c, ubuf, NULL, &now);
}

/*
 * Submit SEND or RECV.  Completes at once (gochan_cmd_done_now(), which
 * sees that -EAGAIN reaches the CQE instead of sending the request to
 * io-wq) or queues the command and returns -EIOCBQUEUED; or returns
 * -errno for a command rejected before anything was set up.
 */
static int async_submit(struct gochan_chan *c, struct io_uring_cmd *cmd,
			const struct gochan_uring_cmd *uc, bool send,
			unsigned int issue_flags)
{
	u8 now_buf[ASYNC_NOW_ELEM] __aligned(8);
	size_t es = c->elem_size;
	struct gochan_async *a;
	struct gochan_unlock u;
	struct gochan_block blk;
	struct gochan_xfer x;
	void __user *ubuf;
	bool tried = false;
	long ret;

	ret = gochan_xfer_read(&x, u64_to_user_ptr(uc->arg), &blk);
	if (ret)
		return ret;
	ubuf = u64_to_user_ptr(x.buf);
	if (!send || es <= ASYNC_NOW_ELEM) {
		/* A send's element is read now, a receive's goes straight in. */
		if (send && copy_from_user(now_buf, ubuf, es))
			return -EFAULT;
		ret = send ? async_send_now(c, now_buf) :
			     async_recv_now(c, ubuf, &blk);
		if (ret != GOCHAN_RECV_PIN &&
		    (ret != -EAGAIN || blk.nonblock || gochan_deadline_passed(&blk))) {
			if (ret == -EAGAIN && !blk.nonblock)
				ret = -ETIMEDOUT;
			ret = xfer_finish(c, send, ret, 0);
			if (send)
				gochan_poison(now_buf, es);
			return gochan_cmd_done_now(cmd, ret, issue_flags);
		}
		tried = true;
	}
	a = kzalloc(struct_size(a, buf, es), GFP_KERNEL_ACCOUNT);
	if (!a)
		return -ENOMEM;
	/*
	 * A send's element is read once.  A receive that may wait pins its
	 * buffer now, before it can take anything: what it takes is written
	 * there at completion, however the mapping changed meanwhile.
	 */
	if (send && tried) {
		memcpy(a->buf, now_buf, es);
		gochan_poison(now_buf, es);
	} else if (send && es && copy_from_user(a->buf, ubuf, es)) {
		kfree(a);
		return -EFAULT;
	} else if (!send) {
		ret = gochan_pin_user(&a->pin, ubuf, es);
		if (ret) {
			kfree(a);
			return ret;
		}
	}
	async_init(a, c, cmd, uc);
	a->send = send;
	/* Ring teardown may cancel it from here on: complete by cmd_done. */
	gochan_cmd_mark_cancelable(cmd, issue_flags);

	gochan_unlock_init(&u);
	mutex_lock(&c->lock);
	/* Hold the claim while looking, as a partner would. */
	if (cmpxchg(&a->wait.state, GOCHAN_WAIT_PENDING,
		    GOCHAN_WAIT_CLAIMED) != GOCHAN_WAIT_PENDING)
		goto out_unlock;	/* torn down already: its canceller ends it */
	if (send) {
		if (c->closed)
			ret = -EPIPE;
		else if (gochan_send_locked(c, a->buf, 1, &u))
			ret = 0;
		else
			ret = -EAGAIN;
	} else {
		if (gochan_recv_locked(c, a->buf, 1, &u))
			ret = 1;
		else if (c->closed)
			ret = 0;
		else
			ret = -EAGAIN;
	}
	if (ret == -EAGAIN && !blk.nonblock && !gochan_deadline_passed(&blk)) {
		/* Queue it, as chan_send()/chan_recv() queue a blocked call. */
		a->queued_ns = local_clock();
		WRITE_ONCE(a->wait.state, GOCHAN_WAIT_PENDING);
		gochan_waitq_add(c, &a->w, send);
		list_add_tail(&a->node, &c->asyncq);
		async_watch(a);
		u.poll |= send ? EPOLLIN | EPOLLRDNORM : EPOLLOUT | EPOLLWRNORM;
		if (blk.has_deadline)
			async_start_timer(a, blk.deadline);
		trace_gochan_block(c->id, send ? GOCHAN_TRACE_OP_SEND :
				   GOCHAN_TRACE_OP_RECV, current);
		goto out_unlock;
	}
	mutex_unlock(&c->lock);
	gochan_unlock_wake(&u);
	gochan_poll_wake(c, u.poll);
	if (ret == -EAGAIN && !blk.nonblock)
		ret = -ETIMEDOUT;
	async_complete(a, ret, issue_flags);	/* drops the completion's ref */
	async_put(a);
	return -EIOCBQUEUED;

out_unlock:
	mutex_unlock(&c->lock);
	gochan_unlock_wake(&u);
	gochan_poll_wake(c, u.poll);
	async_put(a);
	return -EIOCBQUEUED;
}

/*
 * Submit SELECT.  As async_submit(), the submission holds the claim on the
 * wait while it looks, so no canceller can end the command before the
 * select has either run or queued its waiters.  Before the command may be
 * cancelled at all (ring teardown, on 6.7+), it is on the asyncq of the
 * channel it was submitted on (@c), and its lock order is known
 * (gochan_sel_new()): the task work of a cancel takes it off that list and
 * locks its cases' channels.  A cancel's task work run before the command
 * was on the list would take nothing off it, and the command, freed, would
 * stay listed; one run while this task computed the lock order would
 * compute it too, over the same array.  The deadline timer starts before
 * the select may queue; while the claim is held it tries again shortly.
 */
static int async_submit_select(struct gochan_chan *c, struct io_uring_cmd *cmd,
			       const struct gochan_uring_cmd *uc,
			       unsigned int issue_flags)
{
	struct gochan_async *a;
	struct gochan_block blk;
	struct gochan_sel *s;
	u32 ok = 0;
	long ret;

	ret = gochan_sel_new(u64_to_user_ptr(uc->arg), &blk, &s);
	if (ret)
		return ret;
	a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a) {
		gochan_sel_free(s);
		return -ENOMEM;
	}
	async_init(a, c, cmd, uc);
	a->wait.select = true;
	a->wait.state = GOCHAN_WAIT_CLAIMED;	/* by the submission, until queued */
	a->sel = s;

	mutex_lock(&c->lock);
	list_add_tail(&a->node, &c->asyncq);
	async_watch(a);
	mutex_unlock(&c->lock);
	/* Ring teardown may cancel it from here on: complete by cmd_done. */
	gochan_cmd_mark_cancelable(cmd, issue_flags);
	gochan_stall(GOCHAN_STALL_SELECT_CANCELABLE);
	a->queued_ns = local_clock();
	if (blk.has_deadline && !blk.nonblock)
		async_start_timer(a, blk.deadline);

	ret = gochan_sel_begin(s, &a->wait, &ok);
	if (ret == -EIOCBQUEUED) {
		trace_gochan_block(0, GOCHAN_TRACE_OP_SELECT, current);
	} else {
		mutex_lock(&c->lock);
		list_del_init(&a->node);
		async_unwatch(a);
		mutex_unlock(&c->lock);
		WRITE_ONCE(a->wait.state, GOCHAN_WAIT_DONE);	/* for the timer */
		a->queued_ns = 0;
		async_sel_complete(a, ret, ok, issue_flags);
	}
	async_put(a);
	return -EIOCBQUEUED;
}

/* Read the command area: struct gochan_uring_cmd, then zeros (SQE128). */
static int cmd_read_area(struct io_uring_cmd *cmd, unsigned int issue_flags,
			 struct gochan_uring_cmd *uc)
{
	const struct gochan_uring_cmd *area = gochan_cmd_area(cmd);

	/* The area may be the SQ ring itself: read each field once. */
	uc->arg = READ_ONCE(area->arg);
	uc->key = READ_ONCE(area->key);
	if ((issue_flags & IO_URING_F_SQE128) &&
	    memchr_inv(area + 1, 0, 2 * sizeof(struct io_uring_sqe) -
		       offsetof(struct io_uring_sqe, cmd) - sizeof(*area)))
		return -EINVAL;
	return 0;
}

/**
 * gochan_uring_cmd - file_operations.uring_cmd of a channel file.
 * @cmd: the command; cmd->cmd_op is GOCHAN_IOC_SEND, _RECV, _SELECT or
 *       _CANCEL
 * @issue_flags: io_uring's IO_URING_F_*
 */
int gochan_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct file *file = cmd->file;
	struct gochan_uring_cmd uc;
	int ret;

	if (gochan_cmd_is_cancel(issue_flags)) {	/* ring teardown, 6.7+ */
		async_cancel(cmd_to_async(cmd), -ECANCELED);
		return 0;
	}
	if (cmd->flags & IORING_URING_CMD_FIXED)
		return -EINVAL;
	ret = cmd_read_area(cmd, issue_flags, &uc);
	if (ret)
		return ret;

	switch (cmd->cmd_op) {
	case GOCHAN_IOC_SEND:
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		return async_submit(file->private_data, cmd, &uc, true, issue_flags);
	case GOCHAN_IOC_RECV:
		if (!(file->f_mode & FMODE_READ))
			return -EBADF;
		return async_submit(file->private_data, cmd, &uc, false, issue_flags);
	case GOCHAN_IOC_SELECT:	/* each case's fd is checked for its op */
		return async_submit_select(file->private_data, cmd, &uc,
					   issue_flags);
	case GOCHAN_IOC_CANCEL:	/* res: the count, a success */
		if (uc.key)
			return -EINVAL;
		return gochan_cmd_done_now(cmd,
				gochan_ioctl_cancel(file, u64_to_user_ptr(uc.arg)),
				issue_flags);
	default:
		return -ENOTTY;
	}
}

/* GOCHAN_IOC_CANCEL: the caller's process's commands on this channel. */
long gochan_ioctl_cancel(struct file *file, void __user *argp)
{
	struct gochan_chan *c = file->private_data;
	struct gochan_cancel arg;
	struct gochan_async *a;
	bool all;
	long n = 0;
	int err;

	err = gochan_copy_struct_from_user(&arg, sizeof(arg),
					   GOCHAN_CANCEL_SIZE_VER0, argp);
	if (err)
		return err;
	all = arg.flags & GOCHAN_CANCEL_ALL;
	if (arg.flags & ~GOCHAN_CANCEL_FLAGS || (all && arg.key) ||
	    arg.reserved[0] || arg.reserved[1])
		return -EINVAL;

	mutex_lock(&c->lock);
	list_for_each_entry(a, &c->asyncq, node)
		if (a->owner == current->files && (all || a->key == arg.key) &&
		    async_cancel_locked(c, a, -ECANCELED))
			n++;
	mutex_unlock(&c->lock);
	return n ? n : -ENOENT;
}

/*
 * file_operations.flush: close(2) of a channel fd, or process exit, ends
 * the commands the closing process submitted through this file.  (The
 * requests hold the file, so ->release cannot do it.)
 */
int gochan_flush(struct file *file, fl_owner_t id)
{
	struct gochan_chan *c = file->private_data;
	struct gochan_async *a;

	mutex_lock(&c->lock);
	list_for_each_entry(a, &c->asyncq, node)
		if (a->file == file && a->owner == id)
			async_cancel_locked(c, a, -ECANCELED);
	mutex_unlock(&c->lock);
	return 0;
}
