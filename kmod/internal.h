/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's internal header: the hchan, its wait queues, and every
 * function one file of kmod/ calls in another, each under the name of the
 * file that defines it.  (select.c and selset.c share more in select.h.)
 *
 * Glossary (after Go's runtime/chan.go):
 *   chan    struct gochan_chan, Go's hchan: ring buffer + send and receive
 *           wait queues.  One per channel, shared by every file that refers
 *           to it.
 *   wait    struct gochan_wait: one blocked call (Go's G parked in
 *           chansend/chanrecv).  Lives on the blocked task's stack, or
 *           in a struct gochan_async for a queued io_uring command.
 *   waiter  struct gochan_waiter: one wait queued on one channel, with the
 *           kernel buffer its elements move through (Go's sudog).
 *
 * Data moves between user memory and a channel under the channel lock
 * only with page faults disabled (chan.c's bulk path and one-element
 * receive: an element moves only once it has reached the other side), or
 * into user pages pinned before the lock (pin.c).  Otherwise senders copy
 * from user memory into a kernel buffer before locking, and a receiver
 * that waited writes what it was handed through its pinned buffer after
 * unlocking.  Under the lock, elements move between kernel buffers and the
 * ring with memcpy only.  So a fault can never strand an element half-way,
 * and a receive never has to give back what it took.
 *
 * Locks, each with what it protects (lockdep checks the order, and the
 * helpers below that need one held assert it):
 *   gochan_names_lock  named.c, mutex: the name tables; never taken under
 *                      a channel lock (OPEN creates a channel under it)
 *   c->lock            mutex: the channel's [L] fields (struct gochan_chan)
 *                      and every gochan_waiter queued on it.  One at a time,
 *                      except in a select, which takes its channels' locks
 *                      in address order (select.c: sel_lock_all())
 *   watch_lock         uring.c, spinlock (6.1): its watched commands; under
 *                      c->lock
 *   c->hooks_lock      spinlock: the [H] fields; taken, and the hooks run,
 *                      with no channel lock held (gochan_poll_wake())
 *   c->poll_wq.lock    the poll wait queue's, and poll_wanted's writes
 *   gochan_users_lock  main.c, spinlock: the per-user charges; innermost
 */
#ifndef _GOCHAN_INTERNAL_H
#define _GOCHAN_INTERNAL_H

#include <linux/bvec.h>
#include <linux/compiler.h>
#include <linux/fs.h>
#include <linux/jump_label.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/refcount.h>
#include <linux/seq_file.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <uapi/linux/gochan.h>

struct io_uring_cmd;
struct gochan_user;

/*
 * struct gochan_chan - one channel.
 *
 * Locking: @lock (a mutex: a select holds several at once, taken in
 * address order as Go's sellock does) protects every field marked [L].
 * Fields marked [L, R] are written under @lock with WRITE_ONCE() and
 * read without it by gochan_poll(); a stale read there is harmless because
 * every change that makes the channel readable or writable wakes @poll_wq
 * after the change.  (nsend and nrecv include dead waiters, so where its
 * answer hangs on them alone gochan_poll() asks the queue under @lock.)
 *
 * Invariants (under @lock), as in Go's hchan, counting only live waiters.
 * A dead waiter belongs to a select completed through another channel, or
 * to a queued command claimed or cancelled elsewhere; it stays queued until
 * its owner or a partner drops it, and no decision counts it: a look at a
 * queue drops the dead at its front first (waitq_prune() in chan.c), and
 * GOCHAN_IOC_STAT drops them all before it counts.
 *   0 <= len <= capacity
 *   sendq non-empty  =>  len == capacity     (senders queue only when full)
 *   recvq non-empty  =>  len == 0            (receivers queue only when empty)
 *   at least one of sendq and recvq is empty, except on an unbuffered
 *     channel where one select waits to both send and receive (as in Go)
 *   closed           =>  sendq empty         (close fails every sender)
 *   nsend == |sendq|, nrecv == |recvq|       (dead waiters included)
 */
struct gochan_chan {
	refcount_t		ref;		/* one per file, one per user */
	u64			id;		/* unique until reboot */
	u32			elem_size;	/* bytes per element, fixed */
	u32			capacity;	/* ring slots, fixed; 0 = unbuffered */
	size_t			ring_bytes;	/* charged to max_total_bytes */
	struct gochan_user	*user;		/* and to its creator's share
						 * (NULL without a ring) */
	struct pid		*creator;	/* creator's thread group */
	bool			close_on_last_sender; /* fixed at creation:
						 * GOCHAN_CREATE_CLOSE_ON_LAST_SENDER */
	/*
	 * Open files of the channel that can send (FMODE_WRITE), atomic, no
	 * lock: +1 as gochan_chan_prepare_fd() makes one, -1 as its release
	 * runs.  With close_on_last_sender the drop to 0 closes the channel,
	 * and it never rises from 0 again: such a channel has no name (OPEN
	 * cannot make it a file), so a file that can send on it is made only
	 * by CREATE, with the channel, or by GOCHAN_IOC_DUP through a file
	 * that can send, which is open (counted) throughout.
	 */
	atomic_t		senders;

	struct mutex		lock;
	void			*ring;		/* [L] capacity * elem_size bytes */
	u32			head;		/* [L] ring index of the oldest element */
	u32			len;		/* [L, R] elements in the ring */
	bool			closed;		/* [L, R] GOCHAN_IOC_CLOSE was done */
	struct list_head	sendq;		/* [L] blocked senders, oldest first */
	struct list_head	recvq;		/* [L] blocked receivers, oldest first */
	u32			nsend;		/* [L, R] |sendq| */
	u32			nrecv;		/* [L, R] |recvq| */
	struct list_head	asyncq;		/* [L] gochan_async: queued
						 * io_uring commands, for cancel */
	u64			sent;		/* [L] elements accepted from senders */
	u64			received;	/* [L] elements handed to receivers */

	wait_queue_head_t	poll_wq;	/* poll/epoll waiters */
	__poll_t		poll_wanted;	/* [W, R] events any poller of
						 * poll_wq asked for; only grows
						 * (W: under poll_wq.lock) */
	spinlock_t		hooks_lock;	/* [H] below */
	struct list_head	hooks;		/* [H] gochan_hook */
	__poll_t		hooks_mask;	/* [H, R] union of their masks */

	/* A ring of up to GOCHAN_INLINE_RING bytes lives here, on the
	 * channel's own cache lines, and @ring points at it. */
	u8			inline_ring[] __aligned(8);
};

#define GOCHAN_INLINE_RING	256

/*
 * struct gochan_hook - a function run by every readiness wakeup of a
 * channel that concerns it (select sets: selset.c).
 *
 * gochan_poll_wake() calls @fn(@hook, mask) under the channel's hooks_lock
 * (a spinlock: @fn must not sleep) for each hook whose @mask shares a bit
 * with the wakeup's, after the change and a full barrier, as a poll wait
 * queue entry would be woken; a wakeup no hook wants costs a load.  Unlike
 * a wait queue entry, a hook sees only the wakeups it asked for.
 */
struct gochan_hook {
	struct list_head	node;		/* on chan->hooks */
	__poll_t		mask;		/* the wakeups it wants */
	void			(*fn)(struct gochan_hook *hook, __poll_t mask);
};

/*
 * struct gochan_wait - one blocked call: a send, a receive or a select.
 *
 * @state goes PENDING -> DONE once.  A partner completes a waiter under the
 * lock of the waiter's channel: it claims the wait, moves the data, sets
 * @index, then stores DONE with release semantics, after which it touches
 * neither the wait nor its waiters.  The task reads @state with an acquire
 * load and may return at once (mqueue's pipelined receive).
 *
 * A plain send or receive has one waiter, so holding its channel lock is
 * claim enough.  A select has a waiter on every case's channel, so partners
 * holding different locks may race: they claim with cmpxchg(PENDING ->
 * CLAIMED) (Go's selectDone), and the losers drop the now stale waiter.
 *
 * A task that stops waiting (signal, deadline) takes the lock of every
 * channel it waits on, so no partner is mid-claim, and either finds DONE
 * or sets CANCELLED and unlinks its waiters itself.
 *
 * A queued io_uring command (@async, uring.c) has no task asleep: it is
 * claimed by cmpxchg too, since its cancellers (a timer, the ring's
 * teardown) may hold no channel lock.  Whoever moves it out of PENDING
 * owns its completion: a partner sets DONE and calls @done, under the
 * channel lock, as its last access; a canceller sets CANCELLED and
 * completes it with an error.
 */
enum gochan_wait_state {
	GOCHAN_WAIT_PENDING,
	GOCHAN_WAIT_CLAIMED,
	GOCHAN_WAIT_DONE,
	GOCHAN_WAIT_CANCELLED,
};

struct gochan_wait {
	struct task_struct	*task;		/* the blocked task */
	int			state;		/* enum gochan_wait_state */
	bool			select;		/* waiters claimed by cmpxchg */
	bool			async;		/* io_uring command: likewise,
						 * and @done instead of a wakeup */
	u32			index;		/* select: case that completed */
	void			(*done)(struct gochan_wait *wait); /* async */
};

/*
 * struct gochan_waiter - a wait queued on one channel (Go's sudog).
 *
 * A sender's elements [@ndone, @nelem) of @buf, or of @pin's pages when
 * @pin is set (a blocked write(2): @buf is unused), are still to send;
 * receivers take them from the front, advancing @ndone, and the last one
 * completes it.  A receiver's @buf (or @pin) has room for @nelem elements;
 * the first sender to reach it fills what it can and completes it, so a
 * completed receiver has @ndone >= 1 unless the channel was closed
 * (@closed).  All fields are protected by the lock of the channel the
 * waiter is queued on.
 */
struct gochan_waiter {
	struct list_head	node;		/* on chan->sendq or chan->recvq;
						 * empty once unlinked */
	struct gochan_wait	*wait;
	void			*buf;
	struct gochan_pin	*pin;		/* or NULL: a receiver's elements
						 * go to these pinned pages, a
						 * sender's come from them,
						 * not through buf */
	u32			nelem;		/* select waiters: 1 */
	u32			ndone;
	u32			index;		/* select: this waiter's case */
	bool			closed;		/* completed by GOCHAN_IOC_CLOSE */
};

/*
 * A read or write of one element of up to GOCHAN_ELEM_STACK bytes (the
 * common sizes) goes straight between the user buffer and the channel, a
 * send's element through the stack (file.c); a larger one takes the
 * general path.
 */
#define GOCHAN_ELEM_STACK	64

/*
 * struct gochan_pin - a receive's user buffer, its pages pinned for writing
 * (pin.c), so that a value taken can be written there without a fault; or
 * a blocked write's, pinned for reading, so that its receivers can take
 * its elements under the channel lock.
 * All zero: nothing pinned.  Not to be copied while it holds pins.
 */
struct gochan_pin {
	size_t			len;		/* bytes pinned, from the start */
	u32			nvec;		/* pages pinned */
	u32			cap;		/* room in the vector */
	bool			dirty;		/* written: dirty the pages */
	struct bio_vec		*ext;		/* the vector, if cap > 2 */
	struct bio_vec		inline_vec[2];	/* else (an element of up to a
						 * page spans two at most) */
};

/* How a call may block: never, until a deadline, or until done. */
struct gochan_block {
	bool			nonblock;
	bool			has_deadline;
	ktime_t			deadline;	/* absolute, CLOCK_MONOTONIC */
};

/*
 * What an operation does once it has dropped its channel lock(s): wake the
 * tasks whose waits it completed (a few at a time; more are woken at once)
 * and wake poll waiters for readiness that may have appeared.
 */
#define GOCHAN_WAKE_BATCH	8

struct gochan_unlock {
	struct task_struct	*wake[GOCHAN_WAKE_BATCH]; /* referenced */
	unsigned int		nwake;
	__poll_t		poll;
};

/*
 * poison_freed (main.c, off by default): element buffers are filled with
 * GOCHAN_POISON bytes as they are freed or go out of scope (bounce buffers,
 * select send and receive buffers, a queued command's element, rings), so
 * that a stale read of one shows up as that pattern in what a receiver
 * gets, not as plausible data.  A static key:
 * nothing is done, and next to nothing spent, while it is off.
 */
#define GOCHAN_POISON	0xc7

DECLARE_STATIC_KEY_FALSE(gochan_poison_key);

static __always_inline void gochan_poison(void *buf, size_t bytes)
{
	if (static_branch_unlikely(&gochan_poison_key)) {
		memset(buf, GOCHAN_POISON, bytes);
		barrier_data(buf);	/* not a dead store: see above */
	}
}

/* Wake the tasks collected in @u (chan.c); call with no channel lock held. */
void __gochan_unlock_wake(struct gochan_unlock *u);

static inline void gochan_unlock_wake(struct gochan_unlock *u)
{
	if (u->nwake)
		__gochan_unlock_wake(u);
}

/*
 * Declarations by the file that defines them.  A name ending in _locked
 * wants c->lock held, and lockdep_assert_held() checks it; any other
 * takes the locks it needs.
 */

/* main.c: the device, limits (module parameters, read once per use) and
 * the accounting of ring bytes. */
u32 gochan_max_elem_size(void);
size_t gochan_max_chan_bytes(void);
int gochan_charge(size_t bytes, struct gochan_user **userp);
void gochan_uncharge(struct gochan_user *user, size_t bytes);

/* chan.c: the channel core.  User memory only through the bulk path's
 * iov_iters and the one-element receive's buffer, with page faults
 * disabled. */
struct gochan_chan *gochan_chan_create(u32 elem_size, u32 capacity);
void gochan_chan_get(struct gochan_chan *c);
void gochan_chan_put(struct gochan_chan *c);
long gochan_chan_send(struct gochan_chan *c, const void *buf, u32 n,
		      const struct gochan_block *blk);
long gochan_chan_recv(struct gochan_chan *c, void *buf, u32 n,
		      const struct gochan_block *blk);
long gochan_chan_recv_iter(struct gochan_chan *c, struct iov_iter *to, u32 n);
long gochan_chan_recv_pinned(struct gochan_chan *c, struct gochan_pin *pin,
			     u32 n, const struct gochan_block *blk);
#define GOCHAN_RECV_PIN		2	/* gochan_chan_recv_user(): wait pinned */
long gochan_chan_recv_user(struct gochan_chan *c, void __user *ubuf,
			   u32 __user *ok, const struct gochan_block *blk);
long gochan_chan_send_iter(struct gochan_chan *c, struct iov_iter *from, u32 n);
long gochan_chan_send_pinned(struct gochan_chan *c, struct gochan_pin *pin,
			     u32 n, const struct gochan_block *blk);
int gochan_chan_close(struct gochan_chan *c);
void gochan_chan_stat(struct gochan_chan *c, struct gochan_stat *st);
__poll_t gochan_chan_poll_mask(struct gochan_chan *c, fmode_t mode);
__poll_t gochan_poll_events(fmode_t mode);

/* chan.c: the pieces select.c, selset.c and uring.c build on. */
void gochan_unlock_init(struct gochan_unlock *u);
void gochan_poll_wake(struct gochan_chan *c, __poll_t mask);
void gochan_poll_want(struct gochan_chan *c, __poll_t want);
void gochan_hook_add(struct gochan_chan *c, struct gochan_hook *hook);
void gochan_hook_del(struct gochan_chan *c, struct gochan_hook *hook);
u32 gochan_send_locked(struct gochan_chan *c, const void *buf, u32 n,
		       struct gochan_unlock *u);
u32 gochan_recv_locked(struct gochan_chan *c, void *buf, u32 n,
		       struct gochan_unlock *u);
bool gochan_send_ready_locked(struct gochan_chan *c);
bool gochan_recv_ready_locked(struct gochan_chan *c);
void gochan_waitq_add(struct gochan_chan *c, struct gochan_waiter *w, bool send);
void gochan_waitq_del(struct gochan_chan *c, struct gochan_waiter *w, bool send);
int gochan_wait_sleep(struct gochan_wait *wait, const struct gochan_block *blk);
bool gochan_deadline_passed(const struct gochan_block *blk);

/* file.c: the channel file, and the reading of uapi structs. */
struct gochan_chan *gochan_chan_from_file(struct file *file);
int gochan_chan_prepare_fd(struct gochan_chan *c, u32 create_flags,
			   int accmode, struct file **filep);
int gochan_copy_struct_from_user(void *dst, size_t ksize, size_t ver0,
				 const void __user *src);
int gochan_copy_struct_to_user(void __user *dst, const void *src,
			       size_t ksize);
int gochan_xfer_read(struct gochan_xfer *x, void __user *argp,
		     struct gochan_block *blk);
long gochan_recv_user_now(struct gochan_chan *c, void __user *ubuf,
			  u32 __user *ok, const struct gochan_block *blk);

/* pin.c: user pages pinned for a receive or a blocked write (struct gochan_pin). */
ssize_t gochan_pin_iter(struct gochan_pin *p, const struct iov_iter *iter,
			size_t len);
int gochan_pin_user(struct gochan_pin *p, void __user *buf, size_t len);
void gochan_pin_dest(struct gochan_pin *p, struct iov_iter *to);
size_t gochan_pin_copy_from_iter(struct gochan_pin *p, size_t len,
				 struct iov_iter *from);
void gochan_pin_write(struct gochan_pin *p, size_t off, const void *src,
		      size_t len);
void gochan_pin_read(struct gochan_pin *p, size_t off, void *dst, size_t len);
size_t gochan_pin_copy_to_iter(struct gochan_pin *p, size_t off, size_t len,
			       struct iov_iter *to);
void gochan_pin_copy_pin(struct gochan_pin *dst, size_t doff,
			 struct gochan_pin *src, size_t soff, size_t len);
void gochan_pin_release(struct gochan_pin *p);

/* select.c: GOCHAN_IOC_SELECT, and asynchronous selects for uring.c. */
long gochan_ioctl_select(void __user *argp);

struct gochan_sel;
struct gochan_sel_outcome {
	u32			index;		/* in the caller's array */
	struct gochan_chan	*c;
	void			*kbuf;
	struct gochan_pin	*pin;		/* a receive's buffer, pinned */
	bool			send;
	bool			closed;		/* send: on a closed channel;
						 * recv: closed and drained */
};
int gochan_sel_new(void __user *argp, struct gochan_block *blk,
		   struct gochan_sel **sp);
void gochan_sel_free(struct gochan_sel *s);
u32 gochan_sel_ncases(const struct gochan_sel *s);
long gochan_sel_begin(struct gochan_sel *s, struct gochan_wait *wait, u32 *ok);
void gochan_sel_unlink(struct gochan_sel *s);
void gochan_sel_outcome(struct gochan_sel *s, u32 index,
			struct gochan_sel_outcome *o);

/* named.c: named channels (GOCHAN_IOC_OPEN, GOCHAN_IOC_UNLINK). */
long gochan_ioctl_open(void __user *argp);
long gochan_ioctl_unlink(void __user *argp);
int gochan_names_show(struct seq_file *m, void *v);
bool gochan_names_reap(void);
void gochan_names_exit(void);

/* uring.c: io_uring commands. */
int gochan_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags);
long gochan_ioctl_cancel(struct file *file, void __user *argp);
int gochan_flush(struct file *file, fl_owner_t id);
void gochan_uring_exit(void);

#endif /* _GOCHAN_INTERNAL_H */
