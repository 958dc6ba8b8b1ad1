/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gochan internals: the hchan, its wait queues and the entry points the
 * device (main.c) and the channel file (file.c) use.
 *
 * Glossary (after Go's runtime/chan.go):
 *   chan    struct gochan_chan, Go's hchan: ring buffer + send and receive
 *           wait queues.  One per channel, shared by every file that refers
 *           to it.
 *   wait    struct gochan_wait: one blocked call (Go's G parked in
 *           chansend/chanrecv).  Lives on the blocked task's stack.
 *   waiter  struct gochan_waiter: one wait queued on one channel, with the
 *           kernel buffer its elements move through (Go's sudog).
 *
 * Data never moves between user memory and a channel under the channel
 * lock: senders copy from user memory into a kernel buffer before locking,
 * receivers copy out of theirs after unlocking.  Under the lock, elements
 * move between kernel buffers and the ring with memcpy only, so a fault can
 * never strand an element half-way.
 */
#ifndef _GOCHAN_INTERNAL_H
#define _GOCHAN_INTERNAL_H

#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/wait.h>

#include <uapi/linux/gochan.h>

/*
 * struct gochan_chan - one channel.
 *
 * Locking: @lock (a mutex: select, in a later patch, holds several at once,
 * taken in address order as Go's sellock does) protects every field marked
 * [L].  Fields marked [L, R] are written under @lock with WRITE_ONCE() and
 * read without it by gochan_poll(); a stale read there is harmless because
 * every change that makes the channel readable or writable wakes @poll_wq
 * after the change.
 *
 * Invariants (under @lock), as in Go's hchan:
 *   0 <= len <= capacity
 *   sendq non-empty  =>  len == capacity     (senders queue only when full)
 *   recvq non-empty  =>  len == 0            (receivers queue only when empty)
 *   at least one of sendq and recvq is empty
 *   closed           =>  sendq empty         (close fails every sender)
 *   nsend == |sendq|, nrecv == |recvq|
 */
struct gochan_chan {
	refcount_t		ref;		/* one per file, one per user */
	u64			id;		/* unique until reboot */
	u32			elem_size;	/* bytes per element, fixed */
	u32			capacity;	/* ring slots, fixed; 0 = unbuffered */
	size_t			ring_bytes;	/* charged to max_total_bytes */
	struct pid		*creator;	/* creator's thread group */

	struct mutex		lock;
	void			*ring;		/* [L] capacity * elem_size bytes */
	u32			head;		/* [L] ring index of the oldest element */
	u32			len;		/* [L, R] elements in the ring */
	bool			closed;		/* [L, R] GOCHAN_IOC_CLOSE was done */
	struct list_head	sendq;		/* [L] blocked senders, oldest first */
	struct list_head	recvq;		/* [L] blocked receivers, oldest first */
	u32			nsend;		/* [L, R] |sendq| */
	u32			nrecv;		/* [L, R] |recvq| */
	u64			sent;		/* [L] elements accepted from senders */
	u64			received;	/* [L] elements handed to receivers */

	wait_queue_head_t	poll_wq;	/* poll/epoll waiters */
};

/*
 * struct gochan_wait - one blocked call.
 *
 * @state goes PENDING -> DONE exactly once, under the lock of the channel
 * whose waiter completed it, with a release store that comes after every
 * write to the waiter; the task reads it with an acquire load and may return
 * at once (Go's "gp.param"/mqueue's pipelined receive).  After the store the
 * completer must not touch the wait or its waiter again.  A task that stops
 * waiting (signal, deadline) takes the channel lock and either finds DONE or
 * unlinks its waiter itself.
 */
enum gochan_wait_state {
	GOCHAN_WAIT_PENDING,
	GOCHAN_WAIT_DONE,
};

struct gochan_wait {
	struct task_struct	*task;		/* the blocked task */
	int			state;		/* enum gochan_wait_state */
};

/*
 * struct gochan_waiter - a wait queued on one channel (Go's sudog).
 *
 * A sender's @buf holds @nelem elements still to send; receivers take them
 * from the front, advancing @ndone, and the last one completes it.  A
 * receiver's @buf has room for @nelem elements; the first sender to reach it
 * fills what it can and completes it, so a completed receiver has @ndone >= 1
 * unless the channel was closed (@closed).  All fields are protected by the
 * lock of the channel the waiter is queued on.
 */
struct gochan_waiter {
	struct list_head	node;		/* on chan->sendq or chan->recvq */
	struct gochan_wait	*wait;
	void			*buf;
	u32			nelem;
	u32			ndone;
	bool			closed;		/* completed by GOCHAN_IOC_CLOSE */
};

/* How a call may block: never, until a deadline, or until done. */
struct gochan_block {
	bool			nonblock;
	bool			has_deadline;
	ktime_t			deadline;	/* absolute, CLOCK_MONOTONIC */
};

/* main.c: limits (module parameters), read once per use. */
u32 gochan_max_elem_size(void);
size_t gochan_max_chan_bytes(void);
int gochan_charge_total(size_t bytes);
void gochan_uncharge_total(size_t bytes);

/* chan.c: the channel core; no user memory is touched here. */
struct gochan_chan *gochan_chan_create(u32 elem_size, u32 capacity);
void gochan_chan_get(struct gochan_chan *c);
void gochan_chan_put(struct gochan_chan *c);
long gochan_chan_send(struct gochan_chan *c, const void *buf, u32 n,
		      const struct gochan_block *blk);
long gochan_chan_recv(struct gochan_chan *c, void *buf, u32 n,
		      const struct gochan_block *blk);
int gochan_chan_close(struct gochan_chan *c);
void gochan_chan_stat(struct gochan_chan *c, struct gochan_stat *st);
__poll_t gochan_chan_poll_mask(struct gochan_chan *c);

/* file.c: the channel file. */
int gochan_chan_install_fd(struct gochan_chan *c, u32 create_flags,
			   struct file **filep);
int gochan_copy_struct_from_user(void *dst, size_t ksize, size_t ver0,
				 const void __user *src);
int gochan_copy_struct_to_user(void __user *dst, const void *src,
			       size_t ksize);

#endif /* _GOCHAN_INTERNAL_H */
