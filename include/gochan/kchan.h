/* SPDX-License-Identifier: MIT */
#ifndef GOCHAN_KCHAN_H
#define GOCHAN_KCHAN_H

/*
 * kchan: a C API over kernel channels (/dev/gochan).
 *
 * A kernel channel is a file descriptor that owns one Go-style channel: a
 * fixed element size (0 makes a signal channel, Go's "chan struct{}"), a
 * capacity (0 = unbuffered) and Go's semantics for send, receive and close.
 * The full contract (ordering, close, read/write/poll on the fd, limits) is
 * the uapi header <linux/gochan.h>, which this header includes; these calls
 * only wrap its ioctls.  The fd also works with read(2), write(2), poll(2),
 * epoll(7), fork(2) and SCM_RIGHTS as that header describes, and close(2)
 * releases it as any fd (that is not a close of the channel).
 *
 * Two layers
 * ----------
 *  - The thin layer, gochan_*: each call is one system call on a channel fd
 *    (or on the device), from any thread of any process, with or without the
 *    goroutine scheduler; a blocking call blocks its thread.
 *  - The goroutine-aware calls, go_kchan_* (at the end of this header; the
 *    runtime's, see <gochan/sched.h>): in a goroutine, a blocking operation
 *    waits inside the channel as an io_uring command and only the goroutine
 *    parks, not its thread.  <gochan/chan.h>'s go_chan_from_fd() gives a
 *    channel fd the API of in-process channels, on these calls.
 *
 * Conventions, for every thin call below
 * ---------------------------------------
 *  - Success returns 0 (gochan_make*, gochan_open*: the new fd); failure
 *    returns a negative errno value (gochan_list: see there).  errno
 *    itself is left as it was on entry, on success and on failure alike:
 *    errno belongs to a thread, and a goroutine of the runtime built on
 *    this layer may move between threads.
 *  - The library keeps no state: every function is thread-safe and
 *    async-signal-safe (it only calls open(2), ioctl(2), read(2),
 *    close(2) and clock_gettime(2)).
 *  - An element is elem_size bytes, the size the channel was made with.
 *    The caller's buffer must hold that many bytes; the kernel copies
 *    exactly that many.  With elem_size 0 the buffer is never touched and
 *    may be NULL.
 *  - The per-file O_NONBLOCK flag does not affect these calls (the uapi
 *    passes blocking per call); it only affects read(2) and write(2).
 *
 * Blocking, deadlines
 * -------------------
 * Sending, receiving and selecting each have one blocking call and one
 * that never blocks: gochan_send / gochan_try_send, gochan_recv /
 * gochan_try_recv, gochan_select / gochan_try_select, gochan_selset_select /
 * gochan_selset_try.  A blocking call takes @deadline_ns, an absolute
 * CLOCK_MONOTONIC time in nanoseconds (gochan_now_ns(), e.g.
 * gochan_now_ns() + 50000000 for 50 ms), at which it gives up with
 * -ETIMEDOUT, having moved nothing; GOCHAN_NO_DEADLINE (any negative value)
 * waits until the operation can complete.  An operation that can complete
 * at once does so even if its deadline has already passed.
 *
 * Signals
 * -------
 * The blocking calls never fail with EINTR.  When a signal interrupts the
 * wait, its handler runs and the library issues the call again, with the
 * same absolute deadline, so a signal neither ends nor extends the wait.
 * This is what a Go program sees: signals do not interrupt channel
 * operations.  The kernel guarantees that an interrupted call took and gave
 * nothing, so the retry cannot lose or duplicate an element.  To wait
 * interruptibly, poll(2) the fd for EPOLLIN/EPOLLOUT and then use the
 * gochan_try_* forms, or use a deadline.
 *
 * Errors common to every call on a channel fd
 * --------------------------------------------
 *  -EBADF   fd is not an open file descriptor.
 *  -ENOTTY  fd is open but is not a gochan channel (a pipe, a regular file,
 *           /dev/gochan itself ...).
 *  -EINVAL / -E2BIG  the kernel rejected the request structure; with this
 *           library and a kernel of the same or a later uapi version this
 *           does not happen.
 *
 * Example
 * -------
 *	int fd = gochan_make(sizeof(long), 4, GOCHAN_CREATE_CLOEXEC);
 *	long v = 42;
 *	bool ok;
 *
 *	if (fd < 0)
 *		return fd;
 *	gochan_send(fd, &v, GOCHAN_NO_DEADLINE);
 *	gochan_close(fd);
 *	while (gochan_recv(fd, &v, &ok, GOCHAN_NO_DEADLINE) == 0 && ok)
 *		printf("%ld\n", v);		// prints 42, then the loop ends
 *	close(fd);
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/gochan.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A blocking call's @deadline_ns for none: wait until the operation can
 * complete (any negative value means the same). */
#define GOCHAN_NO_DEADLINE	((int64_t)-1)

/*
 * gochan_make - make a kernel channel, Go's make(chan T, capacity)
 * @elem_size: bytes per element, 0 (a signal channel) to the system's
 *             max_elem_size (at most GOCHAN_ELEM_SIZE_MAX)
 * @capacity:  ring slots; 0 makes an unbuffered channel
 * @flags:     0 or a bitwise OR of the uapi's
 *             GOCHAN_CREATE_CLOEXEC   the new fd has FD_CLOEXEC
 *             GOCHAN_CREATE_NONBLOCK  the file has O_NONBLOCK (for
 *                                     read(2)/write(2))
 *             GOCHAN_CREATE_SEND      the fd only sends (and closes),
 *                                     Go's chan<- T
 *             GOCHAN_CREATE_RECV      the fd only receives, Go's <-chan T
 *                                     (SEND | RECV, or neither: both)
 *             GOCHAN_CREATE_CLOSE_ON_LAST_SENDER  the channel closes by
 *                                     itself, as gochan_close() would, when
 *                                     the last open file that can send on
 *                                     it is released (its last fd closed in
 *                                     every process, process exit
 *                                     included): receivers then see
 *                                     end-of-channel, as a pipe's reader
 *                                     sees end of file, instead of waiting
 *                                     for a producer that died.  Give the
 *                                     receivers fds from gochan_dup(fd,
 *                                     GOCHAN_DUP_RECV), so that only the
 *                                     producers hold fds that can send.
 *             Passed to the kernel unchanged, so flags added by later
 *             kernels work too.
 *
 * An fd of one direction refuses the other with -EBADF: gochan_recv() and
 * gochan_select() receive cases on a send-only fd, gochan_send(),
 * gochan_close() and send cases on a receive-only one.
 *
 * Opens GOCHAN_DEVICE_PATH, issues GOCHAN_IOC_CREATE and closes the device
 * again; the channel lives as long as some fd refers to it.  The ring
 * (elem_size * capacity bytes) is allocated at once.
 *
 * Returns the new channel fd (>= 0).
 * Errors:
 *  -ENOENT  GOCHAN_DEVICE_PATH does not exist (module not loaded);
 *  -EACCES  the device may not be opened by this caller;
 *  -EINVAL  an unknown flag, CLOSE_ON_LAST_SENDER with RECV alone,
 *           elem_size above max_elem_size, or a ring larger than the
 *           module's max_chan_bytes (a signal channel's slots count one
 *           byte each here, which bounds its capacity too);
 *  -ENOSPC  the module-wide max_total_bytes of rings would be exceeded, or
 *           max_user_bytes of the rings of the caller's user's channels;
 *  -ENOMEM  out of memory, or the memory cgroup charge failed;
 *  -EMFILE / -ENFILE  no fd can be had (also for opening the device).
 */
int gochan_make(size_t elem_size, unsigned capacity, unsigned flags);

/*
 * gochan_make_id - gochan_make(), also returning the channel id
 * @id: set to the channel's id on success (unique until reboot; the id that
 *      struct gochan_stat, /proc/<pid>/fdinfo and the tracepoints show);
 *      may be NULL, and is not written on failure
 *
 * Returns and errors as gochan_make().
 */
int gochan_make_id(size_t elem_size, unsigned capacity, unsigned flags,
		   uint64_t *id);

/*
 * gochan_dup - another fd on the same channel, of one direction or both
 * @fd:    a channel fd
 * @flags: a bitwise OR of the uapi's
 *         GOCHAN_DUP_SEND      the new fd sends (and closes)
 *         GOCHAN_DUP_RECV      the new fd receives (at least one of the
 *                              two; both: the new fd does both)
 *         GOCHAN_DUP_CLOEXEC   the new fd has FD_CLOEXEC
 *         GOCHAN_DUP_NONBLOCK  the new file has O_NONBLOCK (for
 *                              read(2)/write(2))
 *
 * Issues GOCHAN_IOC_DUP: the new fd refers to a new open file of the same
 * channel, so its O_NONBLOCK and FD_CLOEXEC are the flags' alone, not
 * @fd's.  The direction narrows, never widens: a receive-only @fd gives
 * receive-only fds only.  This is how a producer hands its consumers
 * fds that cannot send (Go's <-chan T), which a channel made with
 * GOCHAN_CREATE_CLOSE_ON_LAST_SENDER needs: a new fd that can send counts
 * as a sender like any other.
 *
 * Returns the new fd (>= 0).
 * Errors:
 *  -EBADF   @fd lacks a direction @flags ask for (or is not open);
 *  -EINVAL  neither GOCHAN_DUP_SEND nor GOCHAN_DUP_RECV, or an unknown
 *           flag;
 *  -EMFILE / -ENFILE / -ENOMEM  no fd or file can be had;
 *  and the common errors above.
 */
int gochan_dup(int fd, unsigned flags);

/*
 * gochan_send - send one element, Go's "c <- v"
 * @elem:        elem_size bytes to send (may be NULL if elem_size is 0)
 * @deadline_ns: when to give up, or GOCHAN_NO_DEADLINE (see "Blocking,
 *               deadlines")
 *
 * Blocks until the element is in the ring or, on an unbuffered channel,
 * until a receiver has taken it, or until the deadline.  Retries on signals
 * (see "Signals").
 *
 * Returns 0: the element was sent.
 * Errors:
 *  -ETIMEDOUT  the deadline passed first; nothing was sent;
 *  -EPIPE   the channel is closed, or was closed while this call waited;
 *           the element was not sent (Go would panic here);
 *  -EFAULT  elem is not readable for elem_size bytes (nothing was sent);
 *  and the common errors above.
 */
int gochan_send(int fd, const void *elem, int64_t deadline_ns);

/*
 * gochan_recv - receive one element, Go's "v, ok := <-c"
 * @elem:        elem_size bytes to receive into (may be NULL if elem_size
 *               is 0)
 * @ok:          set to true when an element was received into @elem, to
 *               false when the channel is closed and drained (then @elem is
 *               left untouched, where Go would yield the zero value); may be
 *               NULL if the caller does not need to tell the two apart
 * @deadline_ns: when to give up, or GOCHAN_NO_DEADLINE (see "Blocking,
 *               deadlines")
 *
 * Blocks until an element can be taken or the channel is closed and
 * drained (a receive that can complete at once, end-of-channel included,
 * does so), or until the deadline.  Buffered elements are still received
 * after a close.  Retries on signals (see "Signals").
 *
 * Returns 0, with *ok saying which case happened.
 * Errors:
 *  -ETIMEDOUT  the deadline passed first; nothing was taken;
 *  -EFAULT  elem is not writable for elem_size bytes (nothing was taken);
 *  and the common errors above.  *ok is not written on failure.
 */
int gochan_recv(int fd, void *elem, bool *ok, int64_t deadline_ns);

/*
 * gochan_try_send - send one element if that can be done without blocking,
 * Go's "select { case c <- v: default: }"
 *
 * As gochan_send(), but when the ring is full (or, unbuffered, no receiver
 * is waiting) it fails at once.  It has no deadline.
 *
 * Returns 0: the element was sent.
 * Errors:
 *  -EAGAIN  the send would block; nothing was sent;
 *  -EPIPE   the channel is closed;
 *  -EFAULT  as gochan_send(); and the common errors above.
 */
int gochan_try_send(int fd, const void *elem);

/*
 * gochan_try_recv - receive one element if that can be done without
 * blocking, Go's "select { case v, ok := <-c: default: }"
 *
 * As gochan_recv(), but when nothing is buffered and no sender is waiting
 * it fails at once.  A closed, drained channel does not block: that returns
 * 0 with *ok = false.
 *
 * Returns 0, with *ok as for gochan_recv().
 * Errors:
 *  -EAGAIN  the receive would block; nothing was taken;
 *  -EFAULT  as gochan_recv(); and the common errors above.
 */
int gochan_try_recv(int fd, void *elem, bool *ok);

/*
 * gochan_close - close the channel, Go's close(c)
 *
 * This closes the channel, not the fd: every fd of the channel, in every
 * process, sees it.  Blocked and later senders fail with -EPIPE; receivers
 * drain what is buffered, then see end-of-channel (ok = false); every
 * blocked receiver is woken.  Release the fd itself with close(2).
 *
 * Returns 0.
 * Errors:
 *  -EPIPE   the channel was already closed (Go would panic here);
 *  and the common errors above.
 */
int gochan_close(int fd);

/*
 * gochan_stat - a snapshot of the channel's state
 * @st: filled in; it must point to writable memory, which the library
 *      writes itself (the size and flags inputs; the caller's contents are
 *      ignored).  The fields are the uapi's
 *      struct gochan_stat: id, elem_size, capacity (Go's cap(c)), len (Go's
 *      len(c)), flags & GOCHAN_STAT_CLOSED, send_waiters, recv_waiters,
 *      sent, received, creator_pid.  Counts may change as soon as the call
 *      returns.
 *
 * Returns 0.
 * Errors: the common errors above.
 */
int gochan_stat(int fd, struct gochan_stat *st);

/*
 * Select: Go's select statement over kernel channels
 * --------------------------------------------------
 * A select is an array of cases, each a send or a receive on a channel fd;
 * exactly one case proceeds.  The cases are the uapi's own
 * struct gochan_select_case, handed to GOCHAN_IOC_SELECT as they are: no
 * copy, no allocation (select stays async-signal-safe whatever the number
 * of cases), and the array can be built once and reused.  Build each case
 * with GOCHAN_SEND() or GOCHAN_RECV(); the fields are fd, op
 * (GOCHAN_OP_SEND or GOCHAN_OP_RECV), buf (the element's address as a
 * __u64) and reserved (must be 0).  Example, Go's
 *
 *	select {
 *	case job, ok := <-jobs: ...
 *	case results <- res: ...
 *	case <-quit: ...
 *	}
 *
 * is
 *
 *	struct gochan_select_case cases[] = {
 *		GOCHAN_RECV(jobs, &job),
 *		GOCHAN_SEND(results, &res),
 *		GOCHAN_RECV(quit, NULL),		// a signal channel
 *	};
 *	struct gochan_select_result r;
 *
 *	switch (gochan_select(cases, 3, &r, GOCHAN_NO_DEADLINE)) {
 *	case 0:  if (!r.ok) ...jobs is closed...; else ...use job...; break;
 *	case 1:  ...res was sent...; break;
 *	case 2:  ...quit...; break;
 *	case -EPIPE: ...results (case r.index) is closed: Go would panic...
 *	default: ...another -errno...
 *	}
 *
 * Rules (the uapi header has the kernel's side):
 *  - If some cases are ready (a receive that would not block, including
 *    on a closed channel; a send that would not block; a send on a closed
 *    channel), one of them is chosen uniformly at random.  Else
 *    gochan_select waits for the first to become ready or for its deadline
 *    (Go's "case <-time.After(d):"), and gochan_try_select fails with
 *    -EAGAIN (Go's "default:").
 *  - Each case's buf holds that channel's elem_size bytes (NULL for a
 *    signal channel).  Send values are all read before anything moves.  A
 *    receive buffer is written only when its case runs with ok true, so
 *    several receive cases may share one buffer.
 *  - The same channel may appear in several cases; fds may be in any
 *    order (the kernel locks channels in address order: no deadlock).
 *  - A blocked select counts as a waiter on each of its channels
 *    (send_waiters or recv_waiters of gochan_stat) while it waits, and can
 *    rendezvous with a plain send or receive, or with another select, in
 *    any process.
 *  - The library issues GOCHAN_IOC_SELECT on cases[0].fd, so @cases must
 *    be readable when @n > 0; with @n == 0 (cases may be NULL) it opens
 *    GOCHAN_DEVICE_PATH for the call.
 */

/*
 * GOCHAN_SEND - a send case, Go's "case c <- v"
 * GOCHAN_RECV - a receive case, Go's "case v, ok := <-c"
 * @chan_fd: the channel fd
 * @elem:    the element's address (elem_size bytes; NULL for a signal
 *           channel)
 *
 * Compound literals of struct gochan_select_case: they initialize an array
 * of cases, or assign one (cases[i] = GOCHAN_RECV(fds[i], &v)).
 */
#define GOCHAN_SEND(chan_fd, elem)					\
	((struct gochan_select_case){ .fd = (chan_fd),			\
		.op = GOCHAN_OP_SEND,					\
		.buf = (__u64)(uintptr_t)(const void *)(elem) })
#define GOCHAN_RECV(chan_fd, elem)					\
	((struct gochan_select_case){ .fd = (chan_fd),			\
		.op = GOCHAN_OP_RECV,					\
		.buf = (__u64)(uintptr_t)(void *)(elem) })

/*
 * struct gochan_select_result - what a select did, beside its return value
 * @index: the case that ran: the same as the return value on success; on
 *         -EPIPE, the send case whose channel is closed
 * @ok:    receive case: true = a value was received into its buf, false =
 *         the channel is closed and drained (buf untouched); send case:
 *         false
 * Written on success and on -EPIPE only.
 */
struct gochan_select_result {
	unsigned	index;
	bool		ok;
};

/*
 * gochan_select - Go's select: exactly one of @n cases proceeds
 * @cases:       @n cases (see "Select" above); may be NULL if @n is 0
 * @n:           0..GOCHAN_SELECT_CASES_MAX; 0 waits for the deadline, or
 *               forever as Go's "select {}"
 * @res:         set as struct gochan_select_result says; may be NULL
 * @deadline_ns: when to give up, or GOCHAN_NO_DEADLINE (see "Blocking,
 *               deadlines")
 *
 * Proceeds with a ready case at once (chosen at random among the ready
 * ones), even if the deadline has passed; else blocks until one case can
 * proceed or the deadline passes.  Retries on signals (see "Signals").
 *
 * Returns the index of the case that ran (0..@n-1).
 * Errors:
 *  -ETIMEDOUT  the deadline passed first; nothing moved;
 *  -EPIPE   the chosen case is a send on a closed channel (res->index says
 *           which); nothing was sent (Go would panic here);
 *  -EFAULT  a send case's buf is not readable, or a receive case's buf is
 *           not writable, for its channel's elem_size (nothing moved);
 *  -EBADF   a case's fd is not an open file descriptor;
 *  -EINVAL  a case's fd is open but not a channel (whichever case it is:
 *           the library reports the -ENOTTY of its ioctl on cases[0].fd as
 *           -EINVAL, as the kernel does for the others), a bad op, a
 *           nonzero reserved field, or @n above GOCHAN_SELECT_CASES_MAX;
 *  -EMSGSIZE  the send cases' elements add up to more than
 *           GOCHAN_SELECT_SEND_BYTES_MAX;
 *  -ENOMEM  out of kernel memory;
 *  with @n == 0, gochan_make()'s errors for opening the device (-ENOENT:
 *  module not loaded ...).  res is not written on these errors.
 */
int gochan_select(const struct gochan_select_case *cases, unsigned n,
		  struct gochan_select_result *res, int64_t deadline_ns);

/*
 * gochan_try_select - gochan_select() that never blocks, Go's select with a
 * "default:" case
 *
 * As gochan_select(), but when no case is ready it fails at once.  With
 * @n == 0 it always fails with -EAGAIN (Go's "select { default: }").
 *
 * Returns the index of the case that ran.
 * Errors:
 *  -EAGAIN  no case is ready; nothing moved;
 *  and gochan_select()'s errors.
 */
int gochan_try_select(const struct gochan_select_case *cases, unsigned n,
		      struct gochan_select_result *res);

/*
 * Select sets: a select registered once, run many times
 * ------------------------------------------------------
 * A loop that runs the same select over and over (a server's "for { select
 * { ... } }" over many channels) can register its cases once with
 * gochan_selset() and run the select on the set's fd.  The kernel then
 * learns which cases became ready from the channels themselves, as epoll
 * does, so a select that finds one ready costs about as much with 4096 cases
 * as with one; gochan_select() reads and looks at every case each time.
 *
 *	struct gochan_select_case cases[64];	// GOCHAN_RECV(fds[i], &v) ...
 *	int set = gochan_selset(cases, 64, GOCHAN_SELSET_CLOEXEC);
 *
 *	for (;;) {
 *		int i = gochan_selset_select(set, &r, GOCHAN_NO_DEADLINE);
 *		...
 *	}
 *	close(set);
 *
 * The set keeps each case's fd's channel (closing the fds afterwards changes
 * nothing) and each case's buf address: set a send case's value there before
 * each call, find a receive case's value there after it.  The rules, the
 * results and the errors are gochan_select()'s.  The set's fd is readable
 * (poll, epoll) while one of its cases looks ready.
 */

/*
 * gochan_selset - register a select's cases
 * @cases: @n cases, as for gochan_select() (copied; may be freed after)
 * @n:     0..GOCHAN_SELECT_CASES_MAX
 * @flags: 0 or GOCHAN_SELSET_CLOEXEC
 *
 * Returns the set's fd; close(2) it when done.
 * Errors: gochan_select()'s for the cases (-EBADF, -EINVAL, -EMSGSIZE,
 *  -EFAULT for an unreadable @cases, -ENOMEM); -EINVAL an unknown flag;
 *  -EMFILE / -ENFILE; with @n == 0, gochan_make()'s errors for opening the
 *  device.
 */
int gochan_selset(const struct gochan_select_case *cases, unsigned n,
		  unsigned flags);

/*
 * gochan_selset_select - gochan_select() over the cases of set @set
 * gochan_selset_try    - gochan_try_select() likewise
 *
 * Returns the index of the case that ran; errors as the calls they mirror,
 * and -EINVAL (-ENOTTY from the kernel) if @set is not a select set nor a
 * channel.  (On a channel's fd or /dev/gochan, the kernel runs a select
 * with no case: Go's "select {}", which waits forever.)
 */
int gochan_selset_select(int set, struct gochan_select_result *res,
			 int64_t deadline_ns);
int gochan_selset_try(int set, struct gochan_select_result *res);

/*
 * Named channels
 * --------------
 * A channel can also be made under a name, which unrelated processes open
 * (the uapi header's "Named channels" has the kernel's side).  A name is
 * 1..GOCHAN_NAME_MAX-1 bytes of printable ASCII other than space, and lives
 * in the caller's IPC namespace.  A named channel lasts until its name is
 * unlinked and its last fd closed; unlinking leaves open fds working.
 * Access is checked as System V IPC checks it: owner, group, then other
 * bits of the mode; receiving needs read (4), sending and gochan_close()
 * need write (2).  An fd opened by name may do only what it was opened
 * for: the other calls on it fail with -EBADF.  Named channels have no
 * GOCHAN_CREATE_CLOSE_ON_LAST_SENDER: anyone allowed may open a name for
 * sending at any time.
 */

/*
 * gochan_open - open a channel by name, making it first if asked
 * @name:      the channel's name (see "Named channels")
 * @flags:     a bitwise OR of the uapi's
 *             GOCHAN_OPEN_CREATE   make the channel if the name is not
 *                                  there; if it is, open it as it is, if
 *                                  @elem_size and @capacity match it
 *             GOCHAN_OPEN_EXCL     with CREATE: fail if the name is there
 *             GOCHAN_OPEN_SEND     the fd sends and closes the channel
 *                                  (needs write permission)
 *             GOCHAN_OPEN_RECV     the fd receives (needs read permission)
 *             GOCHAN_OPEN_CLOEXEC  the new fd has FD_CLOEXEC
 *             GOCHAN_OPEN_NONBLOCK the file has O_NONBLOCK (for read(2)
 *                                  and write(2) only, as for gochan_make)
 *             SEND | RECV, or neither of them, gives an fd that does both,
 *             which needs read and write permission.  Passed to the kernel
 *             unchanged, so flags added by later kernels work too.
 * @mode:      with CREATE, the new channel's permission bits, 0..0777
 *             (the umask does not apply; the fd of the call that makes the
 *             channel is granted whatever the mode); not checked against
 *             an existing channel's.  Must be 0 without CREATE.
 * @elem_size: with CREATE, as for gochan_make(), and for an existing name
 *             the channel's own; must be 0 without CREATE
 * @capacity:  as @elem_size
 *
 * The channel's owner and creator are the caller's effective uid and gid.
 * A call that fails leaves no name behind that it made itself.
 *
 * Returns the new channel fd (>= 0).
 * Errors:
 *  -ENOENT  no such name (without CREATE), or GOCHAN_DEVICE_PATH does not
 *           exist (module not loaded: a gochan_make() that fails with
 *           -ENOENT tells the two apart);
 *  -EEXIST  the name exists (CREATE | EXCL);
 *  -EACCES  the channel's mode forbids the access asked for;
 *  -ENAMETOOLONG  @name is GOCHAN_NAME_MAX bytes or longer;
 *  -EINVAL  a bad name (empty, a space or a non-printable byte), @mode
 *           beyond 0777, an unknown flag, EXCL without CREATE, a nonzero
 *           @mode, @elem_size or @capacity without CREATE, or (CREATE on
 *           an existing name) @elem_size or @capacity differ from the
 *           channel's;
 *  -EFAULT  @name is not readable;
 *  and, when making the channel, gochan_make()'s errors.
 */
int gochan_open(const char *name, unsigned flags, mode_t mode,
		size_t elem_size, unsigned capacity);

/*
 * gochan_open_id - gochan_open(), also returning the channel id
 * @id: set to the channel's id on success (as gochan_make_id()'s, and the
 *      listing's ID); may be NULL, and is not written on failure
 *
 * Returns and errors as gochan_open().
 */
int gochan_open_id(const char *name, unsigned flags, mode_t mode,
		   size_t elem_size, unsigned capacity, uint64_t *id);

/*
 * gochan_unlink - remove a name, as unlink(2) removes a file's
 *
 * The channel itself lives on while fds refer to it (they keep working),
 * and goes when the last is closed; the name can be made again at once,
 * for a new channel.  Allowed to the channel's owner or creator, or with
 * CAP_SYS_ADMIN (System V's IPC_RMID rule).
 *
 * Returns 0.
 * Errors:
 *  -ENOENT  no such name (or the module is not loaded, as gochan_open());
 *  -EPERM   the caller may not remove it;
 *  -EINVAL / -ENAMETOOLONG / -EFAULT  as for gochan_open().
 */
int gochan_unlink(const char *name);

/*
 * struct gochan_name_info - one named channel, one line of the listing
 * that read(2) on GOCHAN_DEVICE_PATH gives
 * @name:      the name, NUL-terminated
 * @id:        the channel's id
 * @elem_size, @capacity: as the channel was made
 * @len:       elements buffered (Go's len(c)) when listed
 * @closed:    the channel was closed when listed
 * @mode:      the permission bits, 0..0777
 * @uid, @gid: the owner, as seen from the caller's user namespace
 */
struct gochan_name_info {
	char		name[GOCHAN_NAME_MAX];
	uint64_t	id;
	uint32_t	elem_size;
	uint32_t	capacity;
	uint32_t	len;
	bool		closed;
	mode_t		mode;
	uid_t		uid;
	gid_t		gid;
};

/*
 * gochan_list - call @fn for each name of the caller's IPC namespace
 * @fn:  called with each name's info (valid only during the call) and @arg;
 *       returns 0 to go on, anything else to stop the listing there
 * @arg: passed to @fn
 *
 * Reads and parses the listing of GOCHAN_DEVICE_PATH, with a buffer on
 * the stack (no allocation: it stays async-signal-safe if @fn is).  Names
 * come in no particular order.  The listing is read in several read(2)
 * calls, so names made or unlinked meanwhile may be missed or seen; each
 * line is consistent in itself.  errno is as it was on entry whenever
 * @fn is called and when gochan_list returns.
 *
 * Returns 0 when every name was passed to @fn, or @fn's nonzero return
 * value when it stopped the listing.
 * Errors (as negative values, so @fn should return positive values to
 * tell them apart):
 *  -ENOENT  GOCHAN_DEVICE_PATH does not exist (module not loaded);
 *  -EACCES  the device may not be opened for reading;
 *  -EBADMSG a listing line could not be parsed (a kernel whose listing
 *           has a format this library does not know);
 *  -EMFILE / -ENFILE / -EIO ...  opening or reading the device failed.
 */
int gochan_list(int (*fn)(const struct gochan_name_info *info, void *arg),
		void *arg);

/*
 * io_uring: queued send and receive
 * ---------------------------------
 * A send or receive submitted through io_uring waits inside the channel,
 * as a blocked call would, with no thread blocked (the uapi header's "io_uring
 * commands" has the kernel's side).  These fill an SQE the caller got from
 * its ring (liburing's io_uring_get_sqe(); struct io_uring_sqe is the
 * kernel's, from <linux/io_uring.h>) as an IORING_OP_URING_CMD with the
 * SQE's user_data set to @user_data, which is also the command's cancel
 * key.  The caller submits it.  Example:
 *
 *	struct gochan_xfer x;
 *	long v;
 *
 *	gochan_prep_recv(io_uring_get_sqe(&ring), fd, &x, &v, 7);
 *	io_uring_submit(&ring);		// x may be reused from here on
 *	...
 *	io_uring_wait_cqe(&ring, &cqe);	// cqe->user_data == 7
 *	cqe->res: 1 = v received, 0 = fd's channel closed and drained,
 *	          -ECANCELED, -EFAULT ...
 *
 *  - @x is storage for the command's struct: the kernel reads it when the
 *    SQE is submitted, so it must live until then, not longer (one per
 *    SQE prepared for the same io_uring_submit()).
 *  - A send's element is copied when the SQE is submitted; a receive's
 *    @elem must stay writable until its CQE.
 *  - The CQE's res: for a send 0 (sent) or -EPIPE (closed); for a receive
 *    1 (received) or 0 (closed and drained); or another -errno.
 *  - gochan_cancel() ends a queued command of this process with
 *    -ECANCELED; closing the fd, or exiting, ends them too.
 *  - These clear the first 64 bytes of the SQE; on an IORING_SETUP_SQE128
 *    ring the caller clears the other 64.
 */
struct io_uring_sqe;

/*
 * gochan_prep_send - fill @sqe to send *@elem on @fd's channel
 * gochan_prep_recv - fill @sqe to receive into *@elem from @fd's channel
 * @sqe:       the SQE to fill
 * @fd:        a channel fd (or, with IOSQE_FIXED_FILE set by the caller
 *             afterwards, its index among the ring's registered files)
 * @x:         storage for the command's struct (see above)
 * @elem:      the element (elem_size bytes; NULL for a signal channel)
 * @user_data: the SQE's user_data and the command's cancel key
 *
 * Cannot fail: errors come in the CQE.
 */
void gochan_prep_send(struct io_uring_sqe *sqe, int fd, struct gochan_xfer *x,
		      const void *elem, uint64_t user_data);
void gochan_prep_recv(struct io_uring_sqe *sqe, int fd, struct gochan_xfer *x,
		      void *elem, uint64_t user_data);

/*
 * gochan_cancel - end this process's queued io_uring commands on @fd's
 * channel that have cancel key @key (with @all, every one of them)
 *
 * Each ends with a CQE whose res is -ECANCELED, unless it completed first.
 *
 * Returns the number cancelled (>= 1).
 * Errors:
 *  -ENOENT  none matched (perhaps completed already);
 *  and the common errors above.
 */
int gochan_cancel(int fd, uint64_t key, bool all);

/*
 * Goroutine-aware calls
 * ---------------------
 * The calls below are the runtime's (<gochan/sched.h>): in a goroutine the
 * operation is queued inside the kernel channel as an io_uring command
 * (IORING_OP_URING_CMD), as a blocked thread would wait there, and the
 * goroutine parks; its thread runs other goroutines.  So a goroutine's
 * receive can rendezvous with a send in another process, or with another
 * process's select, on an unbuffered channel.  Outside a goroutine they are
 * the thin calls above.  As there, sending, receiving and selecting have one
 * blocking call each, with a deadline; the forms that never block are the
 * thin layer's gochan_try_* (they never park either).
 */

/*
 * go_kchan_send / go_kchan_recv - gochan_send() / gochan_recv() for
 * goroutines
 * @deadline_ns: as theirs (GOCHAN_NO_DEADLINE: none)
 *
 * Returns what the thin calls return: 0 (recv: *ok true for a value, false
 * once the channel is closed and drained); -EPIPE (send on a closed
 * channel); -ETIMEDOUT; -EBADF, -EFAULT, -EINVAL ...  If go_run ends while
 * the goroutine waits, the command is cancelled.  With a module without
 * io_uring commands, non-blocking tries and go_poll() between them.
 */
int go_kchan_send(int fd, const void *elem, int64_t deadline_ns);
int go_kchan_recv(int fd, void *elem, bool *ok, int64_t deadline_ns);

/*
 * go_kchan_select - gochan_select() for goroutines: the kernel's select,
 * queued as an io_uring command (cancelled if go_run ends first)
 *
 * Returns as gochan_select() does (the index; -EPIPE with res->index for
 * a send on a closed channel; -ETIMEDOUT ...).  With n == 0 (Go's
 * "select {}") or a module without io_uring commands, the thread blocks in
 * the kernel's select, bracketed as a system call (go_syscall_enter).
 */
int go_kchan_select(const struct gochan_select_case *cases, unsigned n,
		    struct gochan_select_result *res, int64_t deadline_ns);

/*
 * gochan_now_ns - the current CLOCK_MONOTONIC time in nanoseconds, the
 * clock of the deadlines.  Cannot fail.
 */
int64_t gochan_now_ns(void);

#ifdef __cplusplus
}
#endif

#endif /* GOCHAN_KCHAN_H */
