/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * gochan: Go-style channels as file descriptors.
 *
 * This header is the whole contract between the kernel module (kmod/), the
 * library (lib/), the tools (tools/) and the selftests (selftests/).
 *
 * Objects
 * -------
 * A *channel* is an anonymous-inode file that owns one hchan: a fixed element
 * size (0..GOCHAN_ELEM_SIZE_MAX bytes; 0 makes a signal channel, Go's
 * "chan struct{}"), a capacity (0 = unbuffered), a ring buffer of capacity
 * elements, a queue of blocked senders and a queue of blocked receivers.
 * Opening GOCHAN_DEVICE_PATH and issuing GOCHAN_IOC_CREATE makes one and
 * returns a new fd for it.  fork(), dup() and SCM_RIGHTS share that fd's file.
 *
 * Semantics (Go's)
 * ----------------
 *  - Unbuffered: a send completes only once a receiver has taken the value;
 *    a receiver already waiting when a sender arrives is handed the value
 *    directly, and so is a sender already waiting when a receiver arrives.
 *  - Buffered: a ring of capacity elements.  Blocked senders and blocked
 *    receivers are each served in arrival order (FIFO).  A receiver that
 *    frees a slot moves the oldest blocked sender's element into it, so a
 *    newcomer never overtakes a blocked sender.
 *  - Close (GOCHAN_IOC_CLOSE, not close(2) of an fd): blocked and later
 *    senders fail with EPIPE; receivers first drain the ring, then see
 *    end-of-channel (read() returns 0, GOCHAN_IOC_RECV reports ok = 0); every
 *    blocked receiver is woken.  A second close fails with EPIPE.  EPIPE is
 *    the error wherever Go would panic.
 *
 * Direction (a pipe's two ends)
 * -----------------------------
 * A channel fd may send and receive, or be limited to one direction, as
 * Go's "chan<- T" and "<-chan T" are: a *send-only* fd (O_WRONLY in
 * fcntl(F_GETFL)) may send and close the channel, a *receive-only* fd
 * (O_RDONLY) may receive.  One comes from GOCHAN_IOC_CREATE's
 * GOCHAN_CREATE_SEND / _RECV, GOCHAN_IOC_OPEN's GOCHAN_OPEN_SEND / _RECV,
 * or GOCHAN_IOC_DUP on an fd of the channel, which narrows a direction
 * and never widens it.  The direction belongs to the open file, so fork(),
 * dup(2) and SCM_RIGHTS pass it on.  What the direction forbids fails with
 * EBADF, however it is asked for, as read(2) does on a pipe's write end:
 *  - on a receive-only fd: write(2), GOCHAN_IOC_SEND, GOCHAN_IOC_CLOSE, a
 *    send case of a select (or select set) naming it, an io_uring SEND,
 *    IORING_OP_WRITE;
 *  - on a send-only fd: read(2), GOCHAN_IOC_RECV, a receive case naming
 *    it, an io_uring RECV, IORING_OP_READ.
 * A select (ioctl, set or io_uring) with one such case fails as a whole
 * with EBADF before anything moves, as for a case whose fd is not open.
 * poll(2) shows each fd only its own direction's events (see below).
 * GOCHAN_IOC_STAT, GOCHAN_IOC_CANCEL, GOCHAN_IOC_SELECT on the fd itself
 * and GOCHAN_IOC_DUP work on any fd.
 *
 * A producer that dies.  A receiver waits forever for a sender that exited
 * without closing the channel, unless the channel was made with
 * GOCHAN_CREATE_CLOSE_ON_LAST_SENDER: then, as a pipe's reader sees end of
 * file once every write end is gone, the channel is closed (as by
 * GOCHAN_IOC_CLOSE) when the last open file that can send on it is
 * released, by close(2) of its last fd in every process, process exit
 * included.  Receivers drain what is buffered, then see end-of-channel
 * (read(2) returns 0, GOCHAN_IOC_RECV ok = 0), and every fd polls
 * EPOLLHUP.  Whatever holds such a file holds the channel open: an fd in
 * another process, an fd in flight in a unix socket, a select set with a
 * case naming the fd (whatever its op), an io_uring fixed file or a
 * pending io_uring request on it.  So give receivers receive-only fds
 * (GOCHAN_IOC_DUP with GOCHAN_DUP_RECV) and keep the send-capable ones in
 * the producers.  A channel closed by GOCHAN_IOC_CLOSE before that stays
 * as it is: the release does nothing more.
 *
 * read(2) / write(2)
 * ------------------
 * A length of 0 returns 0 at once, as it does on a pipe, and nothing else
 * happens: the channel is not looked at, so this holds on any channel (a
 * signal channel, a closed one, one where a call for one element would
 * block; but not on an fd of the other direction, which fails with EBADF
 * first, as on a pipe).  Any other length moves whole elements: it must
 * be a multiple of the element size, else EINVAL.  On a signal channel
 * (element size 0) every other length fails with EINVAL: use
 * GOCHAN_IOC_SEND / _RECV.
 * The partial-count rules are a pipe's:
 *  - read() blocks until at least one element can be taken, then takes as
 *    many as are available without blocking (from the ring, then from blocked
 *    senders), up to the length, and returns their byte count.  On a closed,
 *    drained channel it returns 0.  With O_NONBLOCK (or IOCB_NOWAIT) it
 *    fails with EAGAIN instead of blocking.
 *  - write() sends every element, blocking as needed, and returns the full
 *    length.  If a signal arrives, or the channel is closed, after some
 *    elements were taken, it returns the byte count of those; with none
 *    taken it fails with ERESTARTSYS (EINTR, or restarted by SA_RESTART) or
 *    EPIPE.  With O_NONBLOCK it sends what it can without blocking and fails
 *    with EAGAIN if that is nothing.  On an unbuffered channel an element
 *    counts as sent once a receiver holds it.
 *  - A bad user buffer fails the call with EFAULT (after some elements
 *    moved, the call returns their count instead): no element is lost or
 *    duplicated, and none is taken that did not reach the buffer.
 *    Buffered elements move straight between the ring and the buffer, up
 *    to the first fault: a buffer that is bad part way moves the whole
 *    elements before the bad part and returns their count, as a pipe
 *    does.  A read that waits, or takes from blocked senders, first pins
 *    the pages of its buffer for writing (as O_DIRECT does; a buffer that
 *    cannot be written fails then, with nothing taken) and writes what it
 *    takes into them.  So a read whose process makes the buffer read-only
 *    or inaccessible while the read waits still gets its elements and
 *    returns their count; if the process unmaps it, they go to the pages
 *    that were mapped there, and count as received all the same.
 *
 * poll(2) / epoll(7)
 * ------------------
 *  EPOLLIN | EPOLLRDNORM   a receive would not block: an element buffered, a
 *                          sender waiting, or the channel closed.  Never on
 *                          a send-only fd.
 *  EPOLLOUT | EPOLLWRNORM  a send would not block: space in the ring, or a
 *                          receiver waiting (unbuffered).  Also set once
 *                          closed, since a send then fails at once (EPIPE).
 *                          Never on a receive-only fd.
 *  EPOLLHUP                the channel is closed, on every fd.
 * Every change that can set one of these wakes the poll wait queue, so
 * edge-triggered epoll sees every transition.
 *
 * /proc/<pid>/fdinfo/<fd> shows struct gochan_stat's fields, one line each,
 * after the VFS's own lines:
 *   gochan-id:\t<id>               gochan-send-waiters:\t<send_waiters>
 *   gochan-elem-size:\t<elem_size> gochan-recv-waiters:\t<recv_waiters>
 *   gochan-capacity:\t<capacity>   gochan-sent:\t<sent>
 *   gochan-len:\t<len>             gochan-received:\t<received>
 *   gochan-closed:\t<0 or 1>       gochan-creator-pid:\t<creator_pid>
 *
 * Extensible structs
 * ------------------
 * Every ioctl struct starts with __u32 size, which the caller sets to
 * sizeof() of the struct it was compiled with.  The kernel accepts any size
 * from the first published version's (GOCHAN_*_SIZE_VER0, else EINVAL) up
 * to 4096 (else E2BIG): a shorter struct is zero-extended, and a longer one
 * must have only zeros past the part the kernel knows (else E2BIG).
 * Reserved fields and unknown flag bits must be zero (else EINVAL).  Fields
 * marked Out are ignored on input.  Output is written back up to the
 * smaller of the two sizes.
 */
#ifndef _UAPI_LINUX_GOCHAN_H
#define _UAPI_LINUX_GOCHAN_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define GOCHAN_DEVICE_PATH	"/dev/gochan"

/* Largest element size the ABI allows; the module parameter max_elem_size
 * may lower it on a given system. */
#define GOCHAN_ELEM_SIZE_MAX	65536u

/*
 * struct gochan_create - GOCHAN_IOC_CREATE on /dev/gochan: make a channel.
 *
 * Returns the new channel's fd (>= 0).  The ring (capacity * elem_size
 * bytes) is allocated at once and charged to the caller's memory cgroup.
 *
 * The new fd sends and receives, or with GOCHAN_CREATE_SEND alone only
 * sends, with GOCHAN_CREATE_RECV alone only receives (see "Direction").
 * GOCHAN_CREATE_CLOSE_ON_LAST_SENDER makes a channel that closes itself
 * when its last send-capable open file is released (see "A producer that
 * dies"): the files that count are every file of the channel that can
 * send, whether made by this call, by GOCHAN_IOC_DUP or passed on by fork()
 * and the like; once it closed so, no file that can send on it is left,
 * and none can be made again.  Named channels (GOCHAN_IOC_OPEN) have no
 * such flag: anyone allowed may open a name for sending at any time.
 *
 * Errors: EINVAL  bad size field, unknown flag, reserved field not zero,
 *                 CLOSE_ON_LAST_SENDER with RECV alone (no sender would
 *                 ever be the last), elem_size above max_elem_size, or a
 *                 ring larger than
 *                 max_chan_bytes (a signal channel's slots count one byte
 *                 each here, which bounds its capacity too);
 *         E2BIG   a larger struct with nonzero bytes past this version;
 *         ENOSPC  the module-wide max_total_bytes of rings would be
 *                 exceeded, or max_user_bytes of the rings of the caller's
 *                 user's channels (its real uid's, whatever its user
 *                 namespace; as RLIMIT_MSGQUEUE bounds message queues);
 *         ENOMEM  the allocation, or the memory cgroup charge, failed;
 *         EMFILE / ENFILE  no fd can be had;  EFAULT  bad pointer.
 */
struct gochan_create {
	__u32 size;		/* In: sizeof(struct gochan_create). */
	__u32 flags;		/* In: GOCHAN_CREATE_* below. */
	__u32 elem_size;	/* In: bytes per element, 0..max_elem_size. */
	__u32 capacity;		/* In: ring slots; 0 = unbuffered. */
	__u64 id;		/* Out: channel id, unique until reboot; the id
				 * of fdinfo, GOCHAN_IOC_STAT and tracepoints. */
	__u64 reserved[3];	/* Must be zero. */
};
#define GOCHAN_CREATE_SIZE_VER0	48

#define GOCHAN_CREATE_CLOEXEC	(1u << 0)	/* The new fd has FD_CLOEXEC. */
#define GOCHAN_CREATE_NONBLOCK	(1u << 1)	/* The new file has O_NONBLOCK. */
#define GOCHAN_CREATE_SEND	(1u << 2)	/* The fd sends (and closes). */
#define GOCHAN_CREATE_RECV	(1u << 3)	/* The fd receives.  Neither or
						 * both: the fd does both. */
#define GOCHAN_CREATE_CLOSE_ON_LAST_SENDER (1u << 4) /* Close the channel
						 * when the last file that
						 * can send on it goes. */
#define GOCHAN_CREATE_FLAGS	0x1fu

/*
 * struct gochan_xfer - GOCHAN_IOC_SEND / GOCHAN_IOC_RECV on a channel fd:
 * send or receive exactly one element, Go's "c <- v" and "v, ok := <-c".
 *
 * SEND copies elem_size bytes from buf; RECV copies elem_size bytes to buf
 * when ok is 1.  buf is not touched when elem_size is 0 (and may be 0).
 * Without GOCHAN_XFER_NONBLOCK the call blocks (the file's O_NONBLOCK is not
 * consulted: the flag says it per call).
 *
 * Returns 0.  Errors: EAGAIN  NONBLOCK and the operation would block;
 *                     ETIMEDOUT  the deadline passed first;
 *                     EPIPE   SEND on a closed channel;
 *                     EINTR   a signal arrived first (the call is restarted
 *                             when the handler has SA_RESTART: the deadline
 *                             is absolute, so a restart does not extend it);
 *                     EFAULT  bad buf or struct pointer (RECV: buf and
 *                             ok not writable): nothing taken.  A RECV
 *                             that waits pins buf's pages (and ok's) as
 *                             read(2) does, so the value it is handed is
 *                             written there and reported, never lost to
 *                             a late fault;
 *                     EBADF   SEND on a receive-only fd, RECV on a
 *                             send-only one (see "Direction");
 *                     EINVAL / E2BIG  as for every struct (see above).
 */
struct gochan_xfer {
	__u32 size;		/* In: sizeof(struct gochan_xfer). */
	__u32 flags;		/* In: GOCHAN_XFER_* below. */
	__u64 buf;		/* In: user address of elem_size bytes. */
	__s64 deadline_ns;	/* In, with GOCHAN_XFER_DEADLINE: absolute
				 * CLOCK_MONOTONIC time to give up at; must
				 * be 0 without that flag. */
	__u32 ok;		/* Out, RECV: 1 = a value was received, 0 = the
				 * channel is closed and drained.  SEND: left
				 * as it was.  Ignored on input. */
	__u32 reserved0;	/* Must be zero. */
	__u64 reserved[2];	/* Must be zero. */
};
#define GOCHAN_XFER_SIZE_VER0	48

#define GOCHAN_XFER_NONBLOCK	(1u << 0)	/* Fail with EAGAIN, never block. */
#define GOCHAN_XFER_DEADLINE	(1u << 1)	/* deadline_ns is valid. */
#define GOCHAN_XFER_FLAGS	(GOCHAN_XFER_NONBLOCK | GOCHAN_XFER_DEADLINE)

/*
 * struct gochan_stat - GOCHAN_IOC_STAT on a channel fd: a snapshot.
 *
 * Returns 0.  Errors: EINVAL / E2BIG / EFAULT as for every struct.
 */
struct gochan_stat {
	__u32 size;		/* In: sizeof(struct gochan_stat). */
	__u32 flags;		/* In: must be 0.  Out: GOCHAN_STAT_CLOSED. */
	__u64 id;		/* Out: channel id (as returned by CREATE). */
	__u32 elem_size;	/* Out: bytes per element. */
	__u32 capacity;		/* Out: ring slots, Go's cap(c). */
	__u32 len;		/* Out: elements buffered, Go's len(c): those in
				 * the ring, so never above capacity (no
				 * receive takes an element it cannot
				 * deliver, so none is ever given back). */
	__u32 send_waiters;	/* Out: blocked sends (each blocked call or
				 * pending asynchronous operation counts 1;
				 * not one already cancelled, or a select
				 * already done through another case, whose
				 * CQE is yet to come). */
	__u32 recv_waiters;	/* Out: blocked receives, likewise. */
	__u32 reserved0;	/* Out: 0. */
	__u64 sent;		/* Out: elements sent since creation. */
	__u64 received;		/* Out: elements received since creation. */
	__s32 creator_pid;	/* Out: tgid of the creator, in the caller's pid
				 * namespace (0 if not visible there). */
	__u32 reserved1;	/* Out: 0. */
	__u64 reserved[2];	/* Out: 0. */
};
#define GOCHAN_STAT_SIZE_VER0	80

#define GOCHAN_STAT_CLOSED	(1u << 0)	/* GOCHAN_IOC_CLOSE was done. */

/*
 * struct gochan_select_case - one case of a select.
 *
 * A nil case (fd = GOCHAN_NIL_FD) is Go's case on a nil channel: it is
 * never ready and never chosen, and the select treats it as if it were
 * not there, except that it keeps its place, so indexes (index, a CQE's
 * res) still count it.  Its op and reserved are checked as any case's
 * (EINVAL); its buf is neither read nor written, and may be anything.
 * This is how a case is turned off without rebuilding the array.  A select
 * whose cases are all nil waits as one with ncases = 0 does (for its
 * deadline or a signal; EAGAIN at once with NONBLOCK).  Any other
 * negative fd fails the select with EBADF, as a closed fd does.
 */
struct gochan_select_case {
	__s32 fd;		/* In: a channel fd, or GOCHAN_NIL_FD. */
	__u32 op;		/* In: GOCHAN_OP_SEND or GOCHAN_OP_RECV. */
	__u64 buf;		/* In: SEND: the elem_size bytes to send;
				 * RECV: room for elem_size bytes (written
				 * only if this case runs with ok = 1). */
	__u64 reserved;		/* Must be zero. */
};
#define GOCHAN_SELECT_CASE_SIZE_VER0	24

#define GOCHAN_NIL_FD		(-1)	/* fd of a nil case: never chosen */

#define GOCHAN_OP_SEND		1
#define GOCHAN_OP_RECV		2

/*
 * struct gochan_select - GOCHAN_IOC_SELECT, on /dev/gochan or on any
 * channel fd: Go's select statement.
 *
 * Exactly one case proceeds: if any are ready (a receive that would not
 * block, a send that would not block, or a send on a closed channel), one
 * chosen uniformly at random among them; else, without NONBLOCK (Go's
 * "default"), the first that becomes ready, the call waiting in every
 * case's channel at once, so two selects in two processes can rendezvous
 * on one unbuffered channel.  The same channel may appear in several cases
 * (Go allows duplicate cases).  Nil cases (GOCHAN_NIL_FD) are never ready
 * and never chosen.  With ncases = 0, or only nil cases, the call waits
 * for the deadline or a signal, as Go's empty "select {}" waits forever.
 *
 * Channels are locked in address order, as Go's sellock does, so selects
 * over the same channels in any order cannot deadlock.  All send values
 * are copied in before anything is locked; a bad buffer fails the call
 * with EFAULT before any element moves.  A case that ran is always
 * reported: index and ok are written back even if another thread unmaps
 * the struct or makes it read-only during the call (the struct must be
 * writable when the call starts, else EFAULT with nothing moved).  A
 * receive case's buf is pinned for writing before its case may run, as
 * read(2) pins its buffer: one that cannot be written fails the call with
 * EFAULT, nothing moved, when its case is chosen or the call would wait;
 * and the value of a receive case that ran is always written there, in
 * the pages mapped when the select pinned them, and reported.  After any
 * other error than EPIPE, index and ok mean nothing.
 *
 * Returns 0, with index (and ok for a receive) set.
 * Errors: EAGAIN     NONBLOCK and no case ready;
 *         ETIMEDOUT  the deadline passed first;
 *         EPIPE      the chosen case is a send on a closed channel (index
 *                    says which; written back as for success);
 *         EINTR      a signal arrived first (restarted under SA_RESTART;
 *                    the deadline is absolute);
 *         EBADF      a case's fd is not open (a negative fd other
 *                    than GOCHAN_NIL_FD included), or its direction
 *                    lacks its op (a send case on a receive-only fd, a
 *                    receive case on a send-only one);
 *         EINVAL     a case's fd is not a channel, bad op, nonzero
 *                    reserved field, unknown flag, ncases above
 *                    GOCHAN_SELECT_CASES_MAX, case_size below
 *                    GOCHAN_SELECT_CASE_SIZE_VER0;
 *         E2BIG      case_size above 4096, or a case with nonzero bytes
 *                    past the part this kernel knows;
 *         EMSGSIZE   the send cases' elements add up to more than
 *                    GOCHAN_SELECT_SEND_BYTES_MAX;
 *         EFAULT, ENOMEM, and E2BIG for the struct as for every struct.
 */
struct gochan_select {
	__u32 size;		/* In: sizeof(struct gochan_select). */
	__u32 flags;		/* In: GOCHAN_SELECT_* below. */
	__u64 cases;		/* In: user address of ncases cases. */
	__u32 ncases;		/* In: 0..GOCHAN_SELECT_CASES_MAX. */
	__u32 case_size;	/* In: sizeof(struct gochan_select_case); the
				 * cases are read with the same extensible-
				 * struct rules as the others. */
	__s64 deadline_ns;	/* In, with GOCHAN_SELECT_DEADLINE: absolute
				 * CLOCK_MONOTONIC time; else must be 0. */
	__u32 index;		/* Out: the case that proceeded. */
	__u32 ok;		/* Out: RECV case: 1 = value received, 0 =
				 * channel closed and drained.  SEND: 0. */
	__u64 reserved[2];	/* Must be zero. */
};
#define GOCHAN_SELECT_SIZE_VER0		56

#define GOCHAN_SELECT_NONBLOCK	(1u << 0)	/* Go's default: EAGAIN. */
#define GOCHAN_SELECT_DEADLINE	(1u << 1)	/* deadline_ns is valid. */
#define GOCHAN_SELECT_FLAGS	(GOCHAN_SELECT_NONBLOCK | GOCHAN_SELECT_DEADLINE)

#define GOCHAN_SELECT_CASES_MAX		65536u

/* The CQE res of a SELECT io_uring command (see "io_uring commands"). */
#define GOCHAN_SELECT_RES_INDEX		0x00ffffff	/* the case's index */
#define GOCHAN_SELECT_RES_OK		(1 << 24)	/* received a value */
#define GOCHAN_SELECT_RES_CLOSED	(1 << 25)	/* send: closed */
#define GOCHAN_SELECT_SEND_BYTES_MAX	(16u << 20)

/*
 * struct gochan_selset - GOCHAN_IOC_SELSET, on /dev/gochan or on any channel
 * fd: register a select's cases once and get a *select set* fd, on which
 * each GOCHAN_IOC_SELECT runs that select again without handing the cases
 * over (as epoll_ctl registers what epoll_wait then waits for).  Returns
 * the new fd.
 *
 * The cases are read and checked as GOCHAN_IOC_SELECT checks them (same
 * errors), except that ncases = 0 is allowed (the set's select then waits
 * for its deadline or a signal, Go's "select {}", as it does when every
 * case is nil).  Nil cases keep their places in the indexes the set's
 * selects report, and are otherwise not part of the set.  The set keeps its own
 * reference to every case's channel file: closing a case's fd afterwards
 * changes nothing, and the channels live at least as long as the set.  A
 * case's buf is kept as an address: each select on the set reads a send
 * case's value from it at that call, and writes a receive case's value to
 * it, as a GOCHAN_IOC_SELECT with the same cases would.  One difference: a
 * send value is read when its case is tried, not every one before any case
 * runs, so an unreadable send buf fails the call with EFAULT (nothing
 * moved) when its case is tried or the call waits, while a ready case
 * elsewhere may run instead.  The cases cannot be changed: make another
 * set.
 *
 * GOCHAN_IOC_SELECT on a select set takes a struct gochan_select with
 * cases = 0, ncases = 0 and case_size = 0 (else EINVAL) and otherwise the
 * meaning, flags, deadline, output and errors given above.  What it costs
 * differs: the set learns through each channel's poll wait queue which
 * cases became ready, so a select that finds a case ready costs O(cases
 * that became ready), not O(ncases); a select that has to wait visits
 * every case as GOCHAN_IOC_SELECT does, and a NONBLOCK one that finds none
 * ready looks at every case too (without locking any).  Any number of processes may select on one set at once (a
 * set fd passed by fork() or SCM_RIGHTS: each reads and writes the bufs at
 * its own addresses).  Threads of one process may too, but they share the
 * bufs, as goroutines would share the variables of one select statement:
 * give each thread a set of its own.
 *
 * poll(2) / epoll(7) on a select set: EPOLLIN | EPOLLRDNORM when one of its
 * cases looks ready, so a select with NONBLOCK would likely succeed (another
 * selector may take it first).  read(2) and write(2) fail with EINVAL.
 * /proc/<pid>/fdinfo shows "gochan-selset-cases:\t<n>", n the number of
 * cases that are not nil.
 *
 * Errors: those of GOCHAN_IOC_SELECT for the cases; EINVAL unknown flags,
 *         nonzero reserved fields; EMFILE / ENFILE, ENOMEM.
 */
struct gochan_selset {
	__u32 size;		/* In: sizeof(struct gochan_selset). */
	__u32 flags;		/* In: GOCHAN_SELSET_* below. */
	__u64 cases;		/* In: user address of ncases cases. */
	__u32 ncases;		/* In: 0..GOCHAN_SELECT_CASES_MAX. */
	__u32 case_size;	/* In: sizeof(struct gochan_select_case), as
				 * for GOCHAN_IOC_SELECT. */
	__u64 reserved[2];	/* Must be zero. */
};
#define GOCHAN_SELSET_SIZE_VER0		40

#define GOCHAN_SELSET_CLOEXEC	(1u << 0)	/* The new fd has FD_CLOEXEC. */
#define GOCHAN_SELSET_FLAGS	GOCHAN_SELSET_CLOEXEC

/*
 * Named channels.  A name is 1..GOCHAN_NAME_MAX-1 bytes of printable ASCII
 * other than space, and is scoped to the caller's IPC namespace: a name made
 * in one namespace is invisible from another.  A named channel lives until
 * its name is gone and its last fd closed; a name goes when it is unlinked,
 * when its IPC namespace dies (nobody could reach it any more: its ring
 * stops counting against max_total_bytes), or when the module is unloaded.
 * Unlinking a name leaves the open fds working.  Access is checked as System
 * V IPC checks it (ipcperms): the owner's, then the group's, then others'
 * bits of mode; receiving needs read (4), sending and closing need write
 * (2); CAP_IPC_OWNER in the namespace's user namespace overrides.
 *
 * read(2) on /dev/gochan lists the names of the reader's IPC namespace, one
 * line each after a header line starting with '#':
 *   NAME ID ELEM_SIZE CAPACITY LEN CLOSED MODE(octal) UID GID
 */
#define GOCHAN_NAME_MAX		64	/* bytes, with the terminating NUL */

/*
 * struct gochan_open - GOCHAN_IOC_OPEN on /dev/gochan: open a channel by
 * name, making it first with GOCHAN_OPEN_CREATE.  Returns the new fd.
 *
 * The fd may receive with GOCHAN_OPEN_RECV, send (and close the channel)
 * with GOCHAN_OPEN_SEND, both with both or neither; other operations fail
 * with EBADF (see "Direction").  RECV needs read permission, SEND write
 * permission, both (or neither flag) both.  With CREATE, an existing name is opened as it is, provided
 * elem_size and capacity match it (else EINVAL) — unless EXCL is set too.
 *
 * The type check.  A name says nothing of what its channel carries, so an
 * open may state what it expects: with GOCHAN_OPEN_EXPECT_ELEM_SIZE the
 * channel's element size must be elem_size, with
 * GOCHAN_OPEN_EXPECT_CAPACITY its capacity must be capacity, else the open
 * fails with EPROTOTYPE ("wrong type") and opens nothing.  Without the
 * flag, the field is not checked (and must be 0 unless CREATE is set: the
 * flag is what tells "expect 0", a signal channel or an unbuffered one,
 * from "don't check").  With CREATE too, a name that exists must match
 * elem_size and capacity as before, but a field whose EXPECT flag is set
 * fails with EPROTOTYPE instead of EINVAL; a name made by the call has the
 * type asked for, so nothing is checked.  The type is checked before the
 * access (the name list shows every name's type anyway).
 *
 * Errors: ENOENT no such name (without CREATE); EEXIST it exists (CREATE |
 *         EXCL); EPROTOTYPE an element size or capacity stated with an
 *         EXPECT flag is not the channel's; EACCES mode forbids the access
 *         asked for; ENAMETOOLONG;
 *         EINVAL bad name, mode with bits beyond 0777, size mismatch (with
 *         CREATE, no EXPECT flag for that field), elem_size or capacity
 *         not 0 without CREATE or its EXPECT flag, mode not 0 without
 *         CREATE, EXCL without CREATE, unknown flags, reserved fields; the
 *         errors of GOCHAN_IOC_CREATE when making it.
 */
struct gochan_open {
	__u32 size;		/* In: sizeof(struct gochan_open). */
	__u32 flags;		/* In: GOCHAN_OPEN_* below. */
	__u64 name;		/* In: user address of the NUL-terminated name. */
	__u32 mode;		/* In, with CREATE: permission bits, 0..0777. */
	__u32 elem_size;	/* In, with CREATE: as in gochan_create; with
				 * EXPECT_ELEM_SIZE: the element size the
				 * channel must have.  Else must be 0. */
	__u32 capacity;		/* In, with CREATE: as in gochan_create; with
				 * EXPECT_CAPACITY: the capacity the channel
				 * must have.  Else must be 0. */
	__u32 reserved0;	/* Must be zero. */
	__u64 id;		/* Out: the channel's id. */
	__u64 reserved[2];	/* Must be zero. */
};
#define GOCHAN_OPEN_SIZE_VER0	56

#define GOCHAN_OPEN_CREATE	(1u << 0)	/* Make it if it is not there. */
#define GOCHAN_OPEN_EXCL	(1u << 1)	/* With CREATE: fail if it is. */
#define GOCHAN_OPEN_SEND	(1u << 2)	/* The fd sends: write permission. */
#define GOCHAN_OPEN_RECV	(1u << 3)	/* The fd receives: read permission. */
#define GOCHAN_OPEN_CLOEXEC	(1u << 4)	/* The new fd has FD_CLOEXEC. */
#define GOCHAN_OPEN_NONBLOCK	(1u << 5)	/* The new file has O_NONBLOCK. */
#define GOCHAN_OPEN_EXPECT_ELEM_SIZE (1u << 6)	/* Check elem_size: EPROTOTYPE. */
#define GOCHAN_OPEN_EXPECT_CAPACITY (1u << 7)	/* Check capacity: EPROTOTYPE. */
#define GOCHAN_OPEN_FLAGS	0xffu

/*
 * struct gochan_unlink - GOCHAN_IOC_UNLINK on /dev/gochan: remove a name.
 * Allowed to the name's owner or creator, or with CAP_SYS_ADMIN in the
 * namespace's user namespace (System V's IPC_RMID rule).
 *
 * Errors: ENOENT no such name; EPERM not allowed; EINVAL / ENAMETOOLONG as
 *         for GOCHAN_IOC_OPEN.
 */
struct gochan_unlink {
	__u32 size;		/* In: sizeof(struct gochan_unlink). */
	__u32 flags;		/* In: must be 0. */
	__u64 name;		/* In: user address of the NUL-terminated name. */
	__u64 reserved[2];	/* Must be zero. */
};
#define GOCHAN_UNLINK_SIZE_VER0	32

/*
 * struct gochan_dup - GOCHAN_IOC_DUP on a channel fd: a new fd on a new open
 * file of the same channel, of the direction flags ask for: send-only with
 * GOCHAN_DUP_SEND, receive-only with GOCHAN_DUP_RECV, both with both.  At
 * least one must be given (EINVAL), and only what the fd the call is made
 * on may do (EBADF): a direction is narrowed, never widened, so a process
 * may hand a receive-only fd of its channel to a consumer it does not
 * trust to send.  Unlike dup(2), the new file is a file of its own: its
 * O_NONBLOCK is GOCHAN_DUP_NONBLOCK's, not the old file's, and close(2) of
 * it cancels only the io_uring commands submitted through it.  A new file
 * that can send counts for GOCHAN_CREATE_CLOSE_ON_LAST_SENDER as any
 * other (the channel then closes when it and every other are gone).
 * Works on a closed channel too.
 *
 * Returns the new fd.
 * Errors: EBADF   a direction the fd lacks;
 *         EINVAL  neither direction, unknown flags, reserved fields not
 *                 zero, bad size field;
 *         E2BIG, EFAULT as for every struct;  EMFILE / ENFILE, ENOMEM.
 */
struct gochan_dup {
	__u32 size;		/* In: sizeof(struct gochan_dup). */
	__u32 flags;		/* In: GOCHAN_DUP_* below. */
	__u64 reserved[2];	/* Must be zero. */
};
#define GOCHAN_DUP_SIZE_VER0	24

#define GOCHAN_DUP_SEND		(1u << 0)	/* The new fd sends (and closes). */
#define GOCHAN_DUP_RECV		(1u << 1)	/* The new fd receives. */
#define GOCHAN_DUP_CLOEXEC	(1u << 2)	/* The new fd has FD_CLOEXEC. */
#define GOCHAN_DUP_NONBLOCK	(1u << 3)	/* The new file has O_NONBLOCK. */
#define GOCHAN_DUP_FLAGS	0xfu

/*
 * io_uring commands (IORING_OP_URING_CMD on a channel fd)
 * --------------------------------------------------------
 * A send or receive that waits inside the channel, as a blocked thread
 * would, but with no thread blocked: the command is queued on the channel
 * and its CQE posted when a partner (a thread, a select, another ring's
 * command) completes it.  The SQE:
 *
 *   opcode   IORING_OP_URING_CMD       fd      a channel fd (or fixed file)
 *   cmd_op   GOCHAN_IOC_SEND, GOCHAN_IOC_RECV, GOCHAN_IOC_SELECT or
 *            GOCHAN_IOC_CANCEL
 *   cmd      struct gochan_uring_cmd below (the first 16 bytes of the
 *            command area; on an IORING_SETUP_SQE128 ring the other 64
 *            bytes must be zero, else EINVAL)
 *   user_data  as usual; nothing else of the SQE is read.
 *
 * SEND / RECV: arg points to a struct gochan_xfer, read once at submission
 * and validated exactly as GOCHAN_IOC_SEND / _RECV validate it (same
 * errors, as the CQE's res).  It need not stay valid after submission;
 * SEND copies its element in at submission too, so buf need not either.
 * RECV's buf must be writable at submission: a RECV that completes then
 * writes its element there at once; one that waits pins buf's pages (as
 * read(2) does) and the element is written into them before the CQE is
 * posted, whatever became of the mapping meanwhile; it is delivered even
 * if the submitter exits before the CQE.  xfer->ok is not written:
 * the CQE says it.  GOCHAN_XFER_NONBLOCK completes at once with -EAGAIN if
 * the operation would wait; GOCHAN_XFER_DEADLINE completes a waiting
 * command with -ETIMEDOUT at deadline_ns.  The CQE's res:
 *   SEND  0 sent (taken by a receiver, or in the ring); -EPIPE closed;
 *   RECV  1 received (the element is in buf); 0 closed and drained;
 *   both  -ECANCELED cancelled (see below), -EAGAIN, -ETIMEDOUT, -EFAULT
 *         (a bad buf, found at submission: nothing taken), -EBADF (SEND on
 *         a receive-only fd, RECV on a send-only one; a SELECT with such
 *         a case), -EINVAL / -E2BIG / -EFAULT for the
 *         struct, -ENOTTY for an unknown cmd_op, -ENOMEM.
 * SELECT: arg points to a struct gochan_select, read (with its cases and
 * every send case's value) at submission and validated as the ioctl
 * validates it, except that at least one case must not be nil (EINVAL: a
 * select with no case, or nil cases only, would wait in no channel).  Its
 * index and ok are not written: the CQE's res is the index of the case
 * that ran (nil cases count in it, as in the ioctl's index), ORed with
 * GOCHAN_SELECT_RES_OK for a receive case that got a value (into its buf,
 * pinned at submission as a RECV's; without the bit the channel is
 * closed and drained), or GOCHAN_SELECT_RES_CLOSED for a send case on a
 * closed channel (the ioctl's EPIPE); or -errno as the ioctl returns it,
 * or as for SEND / RECV above.  The command may be submitted on any
 * channel fd (not /dev/gochan); that channel is the one GOCHAN_IOC_CANCEL
 * and close(2) find it through.
 *
 * Commands queued on one channel are served in submission order, among
 * blocked calls and selects, as Go serves its waiting goroutines.  A
 * queued command counts in send_waiters / recv_waiters, and in poll's
 * readiness (a receiver waiting), until it is completed or cancelled: from
 * then on, even before its CQE is posted (a stopped submitter runs no task
 * work), it is nobody a send or receive could meet.
 *
 * Cancellation.  A queued command ends with -ECANCELED, unless a partner
 * completed it first (then it completes normally: an element is never both
 * moved and cancelled):
 *  - GOCHAN_IOC_CANCEL (an ioctl, or a uring_cmd whose arg points to the
 *    struct gochan_cancel) cancels the caller's process's commands on that
 *    channel submitted with the given key (or all of them).
 *  - close(2) of a channel fd (file_operations.flush) cancels the commands
 *    the closing process submitted through that open file; process exit
 *    closes every fd, so it cancels them all.
 *  - Tearing down the ring, and execve() by the submitting task, cancel
 *    them too: on kernels with cancelable uring_cmds (6.7+) io_uring asks
 *    the module at once; on older ones (6.1) the module looks for such
 *    commands every 100 ms, so they end within about that.  There,
 *    IORING_OP_ASYNC_CANCEL cannot reach a queued command (ENOENT): use
 *    GOCHAN_IOC_CANCEL.
 * GOCHAN_IOC_CLOSE completes queued SENDs with -EPIPE and queued RECVs
 * with 0 once nothing is buffered, as for blocked calls.
 */

/*
 * struct gochan_uring_cmd - the command area (sqe->cmd) of an
 * IORING_OP_URING_CMD on a channel fd.  16 bytes: it fits a 64-byte SQE.
 */
struct gochan_uring_cmd {
	__u64 arg;		/* In: user address of the command's struct:
				 * gochan_xfer (SEND, RECV) or gochan_cancel
				 * (CANCEL). */
	__u64 key;		/* In, SEND / RECV: the key GOCHAN_IOC_CANCEL
				 * finds the command by (any value; using the
				 * SQE's user_data is the convention).  Must be
				 * zero for CANCEL. */
};

/*
 * struct gochan_cancel - GOCHAN_IOC_CANCEL on a channel fd (ioctl or
 * uring_cmd): cancel queued io_uring commands of the caller's process on
 * this channel, whichever of its fds they were submitted through.
 *
 * Returns the number cancelled (>= 1; the uring_cmd's CQE res likewise);
 * each completes with -ECANCELED.
 * Errors: ENOENT  none matched (perhaps completed already, or still
 *                 being submitted by another thread);
 *         EINVAL / E2BIG / EFAULT as for every struct.
 */
struct gochan_cancel {
	__u32 size;		/* In: sizeof(struct gochan_cancel). */
	__u32 flags;		/* In: GOCHAN_CANCEL_* below. */
	__u64 key;		/* In: the commands' key; must be zero with
				 * GOCHAN_CANCEL_ALL. */
	__u64 reserved[2];	/* Must be zero. */
};
#define GOCHAN_CANCEL_SIZE_VER0	32

#define GOCHAN_CANCEL_ALL	(1u << 0)	/* Every key. */
#define GOCHAN_CANCEL_FLAGS	GOCHAN_CANCEL_ALL

#define GOCHAN_IOC_MAGIC	0xC7

/* On /dev/gochan: */
#define GOCHAN_IOC_CREATE	_IOWR(GOCHAN_IOC_MAGIC, 0x00, struct gochan_create)
#define GOCHAN_IOC_OPEN		_IOWR(GOCHAN_IOC_MAGIC, 0x01, struct gochan_open)
#define GOCHAN_IOC_UNLINK	_IOW(GOCHAN_IOC_MAGIC, 0x02, struct gochan_unlink)

/* On /dev/gochan and on channel fds (GOCHAN_IOC_SELECT on select sets too): */
#define GOCHAN_IOC_SELECT	_IOWR(GOCHAN_IOC_MAGIC, 0x08, struct gochan_select)
#define GOCHAN_IOC_SELSET	_IOW(GOCHAN_IOC_MAGIC, 0x09, struct gochan_selset)

/* On a channel fd: */
#define GOCHAN_IOC_SEND		_IOWR(GOCHAN_IOC_MAGIC, 0x10, struct gochan_xfer)
#define GOCHAN_IOC_RECV		_IOWR(GOCHAN_IOC_MAGIC, 0x11, struct gochan_xfer)
/* Close the channel (argument must be 0).  Errors: EPIPE already closed;
 * EINVAL nonzero argument; EBADF a receive-only fd. */
#define GOCHAN_IOC_CLOSE	_IO(GOCHAN_IOC_MAGIC, 0x12)
#define GOCHAN_IOC_STAT		_IOWR(GOCHAN_IOC_MAGIC, 0x13, struct gochan_stat)
#define GOCHAN_IOC_CANCEL	_IOW(GOCHAN_IOC_MAGIC, 0x14, struct gochan_cancel)
#define GOCHAN_IOC_DUP		_IOW(GOCHAN_IOC_MAGIC, 0x15, struct gochan_dup)

#endif /* _UAPI_LINUX_GOCHAN_H */
