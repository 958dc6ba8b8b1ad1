// SPDX-License-Identifier: GPL-2.0
/*
 * Description: io_uring commands (IORING_OP_URING_CMD) on channel fds:
 * GOCHAN_IOC_SEND / _RECV complete inline when they can, else wait queued
 * inside the channel with no thread blocked, until a partner (a process,
 * the same ring, another ring) completes them, GOCHAN_IOC_CANCEL, a close
 * of the channel or of the fd, the deadline, or the process's exit ends
 * them.  No element is lost or duplicated on any of these paths.
 */
#include <liburing.h>
#include <poll.h>
#include <pthread.h>

#include "helpers.h"

/* Fill @sqe with a gochan command: cmd_op @op, arg @arg, cancel key @key. */
static void prep_cmd(struct io_uring_sqe *sqe, int fd, uint32_t op,
		     const void *arg, uint64_t key, uint64_t user_data)
{
	struct gochan_uring_cmd *uc;

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;
	uc = (struct gochan_uring_cmd *)sqe->cmd;
	uc->arg = (uintptr_t)arg;
	uc->key = key;
	sqe->user_data = user_data;
}

/* Submit one command; the key is the user_data, by convention. */
static int submit_cmd(struct io_uring *ring, int fd, uint32_t op,
		      const void *arg, uint64_t user_data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	prep_cmd(sqe, fd, op, arg, user_data, user_data);
	return io_uring_submit(ring);
}

static struct gochan_xfer xfer(void *buf, uint32_t flags)
{
	return (struct gochan_xfer) {
		.size = sizeof(struct gochan_xfer),
		.flags = flags,
		.buf = (uintptr_t)buf,
	};
}

/* Wait up to GC_WAIT_MS for a CQE; 0 with *ud and *res, or -errno. */
static int reap(struct io_uring *ring, uint64_t *ud, int *res)
{
	struct __kernel_timespec ts = { .tv_sec = GC_WAIT_MS / 1000 };
	struct io_uring_cqe *cqe;
	int ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);

	if (ret)
		return ret;
	*ud = cqe->user_data;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/* Reap a CQE that must be user_data @want; returns its res (or 1000+err). */
static int reap_res(struct io_uring *ring, uint64_t want)
{
	uint64_t ud = 0;
	int res = 0, ret = reap(ring, &ud, &res);

	if (ret)
		return 1000 + ret;
	if (ud != want)
		return 2000;
	return res;
}

/* true if no CQE is ready (after letting task work run). */
static bool no_cqe(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;

	io_uring_get_events(ring);
	return io_uring_peek_cqe(ring, &cqe) == -EAGAIN;
}

static int cancel_ioctl(int fd, uint64_t key, uint32_t flags)
{
	struct gochan_cancel cn = { .size = sizeof(cn), .flags = flags, .key = key };

	return gc_err(ioctl(fd, GOCHAN_IOC_CANCEL, &cn));
}

GC_URING_FIXTURE(uring_cmd);

TEST_F(uring_cmd, inline_completion)
{
	struct io_uring_cqe *cqe;
	uint64_t v = 7, got = 0;
	struct gochan_xfer xs = xfer(&v, 0), xr = xfer(&got, 0);
	struct gochan_xfer xnb = xfer(&got, GOCHAN_XFER_NONBLOCK);
	int fd = gc_make(self->dev, 8, 2);

	ASSERT_LE(0, fd);
	/* A send with room in the ring completes during the submit. */
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SEND, &xs, 1));
	ASSERT_EQ(0, io_uring_peek_cqe(&self->ring, &cqe));
	EXPECT_EQ(1, cqe->user_data);
	EXPECT_EQ(0, cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	/* A receive with an element buffered: res 1, the element in buf. */
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr, 2));
	ASSERT_EQ(0, io_uring_peek_cqe(&self->ring, &cqe));
	EXPECT_EQ(2, cqe->user_data);
	EXPECT_EQ(1, cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	EXPECT_EQ(7, got);
	/* NONBLOCK on an empty channel: -EAGAIN in the CQE, not an io-wq punt. */
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xnb, 3));
	EXPECT_EQ(-EAGAIN, reap_res(&self->ring, 3));
	/* A deadline already past on an empty channel: -ETIMEDOUT at once. */
	xr.flags = GOCHAN_XFER_DEADLINE;
	xr.deadline_ns = now_ns() - 1;
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr, 4));
	EXPECT_EQ(-ETIMEDOUT, reap_res(&self->ring, 4));
	/* Closed and drained: a receive says 0, a send -EPIPE. */
	ASSERT_EQ(0, gc_close_chan(fd));
	xr = xfer(&got, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr, 5));
	EXPECT_EQ(0, reap_res(&self->ring, 5));
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SEND, &xs, 6));
	EXPECT_EQ(-EPIPE, reap_res(&self->ring, 6));
	close(fd);
}

/*
 * Element sizes on both sides of the kernel's at-once path (elements of up
 * to 64 bytes complete without an allocation): a send and a receive that
 * complete during the submit, then a receive that waits and is completed
 * by an ioctl send, each element a different pattern, every byte checked.
 */
TEST_F(uring_cmd, element_sizes_inline_and_queued)
{
	static const uint32_t sizes[] = { 1, 8, 12, 24, 64, 72, 256, 1000 };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint32_t es = sizes[k];
		unsigned char out[1024], in[1024];
		struct gochan_xfer xs = xfer(out, 0), xr = xfer(in, 0);
		int fd = gc_make(self->dev, es, 1);

		ASSERT_LE(0, fd);
		for (int round = 0; round < 2; round++) {
			for (uint32_t b = 0; b < es; b++)
				out[b] = (unsigned char)(b * 7 + es + round);
			memset(in, 0xee, sizeof(in));
			if (round == 0) {	/* both at once */
				ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SEND, &xs, 1));
				EXPECT_EQ(0, reap_res(&self->ring, 1));
				ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr, 2));
				EXPECT_EQ(1, reap_res(&self->ring, 2));
			} else {		/* the receive waits */
				ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr, 3));
				ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
				ASSERT_EQ(0, gc_err(ioctl(fd, GOCHAN_IOC_SEND, &xs)));
				EXPECT_EQ(1, reap_res(&self->ring, 3));
			}
			EXPECT_EQ(0, memcmp(out, in, es)) TH_LOG("size %u round %d", es, round);
			EXPECT_EQ(0xee, in[es]) TH_LOG("size %u: a byte past the element", es);
		}
		close(fd);
	}
}

/*
 * A receive that finds an element but cannot copy it out: -EFAULT, and the
 * element is still the first in the channel, ahead of the one behind it.
 */
TEST_F(uring_cmd, ready_recv_into_bad_buffer_keeps_order)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct gochan_xfer xr;
	uint64_t v = 0;
	char *ro;
	int fd = gc_make(self->dev, 8, 4);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_send_u64(fd, 1, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_send_u64(fd, 2, GOCHAN_XFER_NONBLOCK));
	ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	xr = xfer(ro, 0);		/* mapped, but not writable */
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr, 1));
	EXPECT_EQ(-EFAULT, reap_res(&self->ring, 1));
	xr = xfer(GC_BAD_PTR, 0);	/* not mapped */
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr, 2));
	EXPECT_EQ(-EFAULT, reap_res(&self->ring, 2));
	EXPECT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(1, v);
	EXPECT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(2, v);
	EXPECT_EQ(-EAGAIN, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	munmap(ro, pg);
	close(fd);
}

TEST_F(uring_cmd, queued_recv_completed_by_another_process)
{
	uint64_t got = 0;
	struct gochan_xfer xr = xfer(&got, 0);
	int fd = gc_make(self->dev, 8, 0);
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr, 10));
	/* It waits in the channel, counted as a blocked receiver. */
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	EXPECT_TRUE(no_cqe(&self->ring));
	/* The xfer struct was read at submission: reusing it is fine. */
	memset(&xr, 0xff, sizeof(xr));

	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(gc_send_u64(fd, 0xabcdef, 0) ? 1 : 0);
	/* The sender's element lands in our buffer with the CQE. */
	EXPECT_EQ(1, reap_res(&self->ring, 10));
	EXPECT_EQ(0xabcdef, got);
	EXPECT_EQ(0, gc_reap(pid));
	close(fd);
}

TEST_F(uring_cmd, queued_send_completed_in_same_ring)
{
	uint64_t v = 99, got = 0;
	struct gochan_xfer xs = xfer(&v, 0), xr = xfer(&got, 0);
	int fd = gc_make(self->dev, 8, 0);
	uint64_t ud;
	int res;

	ASSERT_LE(0, fd);
	/* Unbuffered, no receiver: the send waits... */
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SEND, &xs, 1));
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	/* ...with its element copied at submission: buf may change now. */
	v = 0;
	/* A receive on the same ring takes it: both complete. */
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr, 2));
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, reap(&self->ring, &ud, &res));
		EXPECT_EQ(ud == 1 ? 0 : 1, res);
	}
	EXPECT_EQ(99, got);
	EXPECT_EQ(0, gc_wait_waiters(fd, 0, 0));
	close(fd);
}

/* Send in ring A, receive in ring B, both queued: nothing blocks a thread. */
TEST_F(uring_cmd, two_rings_rendezvous_unbuffered)
{
	uint64_t v[3] = { 11, 22, 33 }, got[3] = { 0 };
	struct gochan_xfer xs[3], xr[3];
	struct io_uring b;
	int fd = gc_make(self->dev, 8, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, io_uring_queue_init(8, &b, 0));
	/* Receives first this time, in ring B: they queue. */
	for (int i = 0; i < 3; i++) {
		xr[i] = xfer(&got[i], 0);
		ASSERT_EQ(1, submit_cmd(&b, fd, GOCHAN_IOC_RECV, &xr[i], 100 + i));
	}
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 3));
	/* Sends in ring A meet them in order (FIFO among queued receives). */
	for (int i = 0; i < 3; i++) {
		xs[i] = xfer(&v[i], 0);
		ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SEND, &xs[i], i));
		EXPECT_EQ(0, reap_res(&self->ring, i));
	}
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(1, reap_res(&b, 100 + i));
	EXPECT_EQ(11, got[0]);
	EXPECT_EQ(22, got[1]);
	EXPECT_EQ(33, got[2]);

	/* And the other way round: a queued send in A, a receive from B. */
	v[0] = 44;
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SEND, &xs[0], 7));
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	ASSERT_EQ(1, submit_cmd(&b, fd, GOCHAN_IOC_RECV, &xr[0], 8));
	EXPECT_EQ(1, reap_res(&b, 8));
	EXPECT_EQ(0, reap_res(&self->ring, 7));
	EXPECT_EQ(44, got[0]);
	io_uring_queue_exit(&b);
	close(fd);
}

/* 1000 receives queued over 100 channels, all completed by one sender. */
TEST_F(uring_cmd, many_queued_recvs_completed_by_one_sender)
{
	enum { NCHAN = 100, PER = 10, N = NCHAN * PER };
	static uint64_t got[N];
	static struct gochan_xfer xr[N];
	static int fds[NCHAN];
	static bool seen[N];
	struct io_uring big;
	pid_t pid;

	ASSERT_EQ(0, io_uring_queue_init(N, &big, 0));
	for (int k = 0; k < NCHAN; k++) {
		fds[k] = gc_make(self->dev, 8, k % 2 ? 3 : 0);
		ASSERT_LE(0, fds[k]);
	}
	/* Receive i waits on channel i % NCHAN. */
	for (int i = 0; i < N; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&big);

		ASSERT_NE(NULL, sqe);
		xr[i] = xfer(&got[i], 0);
		prep_cmd(sqe, fds[i % NCHAN], GOCHAN_IOC_RECV, &xr[i], i, i);
	}
	ASSERT_EQ(N, io_uring_submit(&big));
	ASSERT_EQ(0, gc_wait_waiters(fds[NCHAN - 1], 0, PER));
	EXPECT_TRUE(no_cqe(&big));

	/* The sender sends j * NCHAN + k on channel k, round after round. */
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (int j = 0; j < PER; j++)
			for (int k = 0; k < NCHAN; k++)
				if (gc_send_u64(fds[k], (uint64_t)j * NCHAN + k, 0))
					_exit(1);
		_exit(0);
	}
	/* Every receive completes once, with the value its place says:
	 * queued receives on a channel are served in submission order. */
	for (int n = 0; n < N; n++) {
		uint64_t ud;
		int res;

		ASSERT_EQ(0, reap(&big, &ud, &res));
		ASSERT_GT(N, ud);
		EXPECT_EQ(1, res);
		EXPECT_FALSE(seen[ud]);
		seen[ud] = true;
		EXPECT_EQ(ud, got[ud]);
	}
	EXPECT_EQ(0, gc_reap(pid));
	EXPECT_TRUE(no_cqe(&big));
	for (int k = 0; k < NCHAN; k++)
		close(fds[k]);
	io_uring_queue_exit(&big);
}

TEST_F(uring_cmd, cancel_by_key)
{
	uint64_t got[2] = { 0 }, v = 5, left = 0;
	struct gochan_xfer xr0 = xfer(&got[0], 0), xr1 = xfer(&got[1], 0);
	struct gochan_cancel all = {
		.size = sizeof(all), .flags = GOCHAN_CANCEL_ALL,
	};
	struct io_uring_sqe *sqe;
	int fd = gc_make(self->dev, 8, 1);

	ASSERT_LE(0, fd);
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr0, 42));
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr1, 43));
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 2));

	/* The ioctl cancels the one with key 42: it ends with -ECANCELED. */
	EXPECT_EQ(1, cancel_ioctl(fd, 42, 0));
	EXPECT_EQ(-ECANCELED, reap_res(&self->ring, 42));
	EXPECT_EQ(0, gc_wait_waiters(fd, 0, 1));
	/* Nothing left with that key. */
	EXPECT_EQ(-ENOENT, cancel_ioctl(fd, 42, 0));

	/* As a uring_cmd, CANCEL_ALL ends the other; res is the count. */
	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	prep_cmd(sqe, fd, GOCHAN_IOC_CANCEL, &all, 0, 99);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	{
		uint64_t ud;
		int res, seen = 0;

		for (int i = 0; i < 2; i++) {
			ASSERT_EQ(0, reap(&self->ring, &ud, &res));
			EXPECT_EQ(ud == 99 ? 1 : -ECANCELED, res);
			seen |= ud == 99 ? 1 : ud == 43 ? 2 : 4;
		}
		EXPECT_EQ(3, seen);
	}
	EXPECT_EQ(0, gc_wait_waiters(fd, 0, 0));
	/* The cancelled receives took nothing: a send stays buffered. */
	EXPECT_EQ(0, gc_send_u64(fd, v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0, gc_recv_u64(fd, &left, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(5, left);
	EXPECT_EQ(0, got[0]);
	EXPECT_EQ(0, got[1]);
	/* Another process cannot cancel ours. */
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr0, 44));
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	{
		pid_t pid = gc_fork();

		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(cancel_ioctl(fd, 0, GOCHAN_CANCEL_ALL) == -ENOENT ? 0 : 1);
		EXPECT_EQ(0, gc_reap(pid));
	}
	EXPECT_EQ(0, gc_wait_waiters(fd, 0, 1));
	EXPECT_EQ(1, cancel_ioctl(fd, 44, 0));
	EXPECT_EQ(-ECANCELED, reap_res(&self->ring, 44));
	close(fd);
}

TEST_F(uring_cmd, deadline_times_out)
{
	uint64_t got = 0;
	struct gochan_xfer xr = xfer(&got, GOCHAN_XFER_DEADLINE);
	int fd = gc_make(self->dev, 8, 0);
	int64_t t0 = now_ns();

	ASSERT_LE(0, fd);
	xr.deadline_ns = t0 + 200 * 1000000LL;
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr, 1));
	/* Queued until the deadline, then -ETIMEDOUT, not earlier. */
	EXPECT_EQ(-ETIMEDOUT, reap_res(&self->ring, 1));
	EXPECT_LE(t0 + 200 * 1000000LL, now_ns());
	EXPECT_EQ(0, gc_wait_waiters(fd, 0, 0));
	close(fd);
}

/*
 * The deadline of a stopped submitter's command: long enough that the
 * helper, however slow the guest, sees its command queued before it
 * passes (at 100 ms a slow debug guest saw it gone already, and the helper
 * exited instead of stopping); the tests then wait for it to pass.
 */
#define SUBMITTER_DEADLINE_MS	1000

/*
 * A helper process queues one command on @fd (SEND of 0x5e or RECV, by
 * @op) with a deadline @ms from now, or a two-case SELECT receiving from @fd
 * and @fd2 (@op GOCHAN_IOC_SELECT; then no deadline), then stops itself
 * (SIGSTOP) with the command queued.  A stopped task runs no task work, so
 * a command that a lockless canceller (its deadline timer) or a partner on
 * another channel ends stays queued where it was until the helper runs
 * again: dead, but on the channel's queue.  Returns the stopped helper's
 * pid; once continued it checks the CQE (-ETIMEDOUT, or the select's case 1
 * received) and exits 0; -1 if it exited instead (its setup failed).
 */
static pid_t spawn_stopped_submitter(int fd, int fd2, uint32_t op, int ms)
{
	pid_t pid = gc_fork();
	int status;

	if (pid == 0) {
		static uint64_t buf = 0x5e, got;
		static struct gochan_select_case cases[2];
		static struct gochan_xfer x;
		static struct gochan_select sel;
		struct io_uring r;
		const void *arg = &x;
		int want = -ETIMEDOUT;

		x = xfer(op == GOCHAN_IOC_SEND ? &buf : &got, GOCHAN_XFER_DEADLINE);
		x.deadline_ns = now_ns() + ms * 1000000LL;
		if (op == GOCHAN_IOC_SELECT) {
			cases[0] = (struct gochan_select_case) {
				.fd = fd, .op = GOCHAN_OP_RECV, .buf = (uintptr_t)&got };
			cases[1] = (struct gochan_select_case) {
				.fd = fd2, .op = GOCHAN_OP_RECV, .buf = (uintptr_t)&got };
			sel = (struct gochan_select) {
				.size = sizeof(sel), .cases = (uintptr_t)cases,
				.ncases = 2, .case_size = sizeof(cases[0]) };
			arg = &sel;
			want = 1 | GOCHAN_SELECT_RES_OK;
		}
		if (io_uring_queue_init(4, &r, 0) ||
		    submit_cmd(&r, fd, op, arg, 1) != 1 ||
		    gc_wait_waiters(fd, op == GOCHAN_IOC_SEND, op != GOCHAN_IOC_SEND))
			_exit(2);
		raise(SIGSTOP);
		_exit(reap_res(&r, 1) == want ? 0 : 3);
	}
	/* A child that exited instead (its setup failed) is reaped here. */
	if (pid > 0 && (waitpid(pid, &status, WUNTRACED) != pid ||
			!WIFSTOPPED(status)))
		return -1;
	return pid;
}

/* poll(2)'s revents for @events on @fd, at once. */
static short poll_now(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

/*
 * A queued receive whose deadline passed is dead, even while its stopped
 * submitter has not yet run the task work that takes it off the channel:
 * on an unbuffered channel it can take no send, so it must not count.
 * poll must not say EPOLLOUT (a non-blocking send fails with EAGAIN), and
 * GOCHAN_IOC_STAT must not count it as a blocked receive.
 */
TEST_F(uring_cmd, timed_out_recv_of_stopped_submitter_is_no_receiver)
{
	struct gochan_stat st;
	int fd = gc_make(self->dev, 8, 0);
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = spawn_stopped_submitter(fd, -1, GOCHAN_IOC_RECV, SUBMITTER_DEADLINE_MS);
	ASSERT_LT(0, pid);
	/* The deadline passes: the timer cancels it, and it is gone at once. */
	EXPECT_EQ(0, gc_wait_waiters(fd, 0, 0))
		TH_LOG("a dead receiver counts as blocked");
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(0, st.recv_waiters) TH_LOG("a dead receiver counts as blocked");
	EXPECT_EQ(0, poll_now(fd, POLLOUT) & POLLOUT)
		TH_LOG("poll says a send would not block");
	EXPECT_EQ(-EAGAIN, gc_send_u64(fd, 1, GOCHAN_XFER_NONBLOCK));
	kill(pid, SIGCONT);
	EXPECT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, gc_wait_waiters(fd, 0, 0));
	close(fd);
}

/* The same for a dead sender: no EPOLLIN, no blocked send counted. */
TEST_F(uring_cmd, timed_out_send_of_stopped_submitter_is_no_sender)
{
	struct gochan_stat st;
	uint64_t v = 0;
	int fd = gc_make(self->dev, 8, 0);
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = spawn_stopped_submitter(fd, -1, GOCHAN_IOC_SEND, SUBMITTER_DEADLINE_MS);
	ASSERT_LT(0, pid);
	EXPECT_EQ(0, gc_wait_waiters(fd, 0, 0))
		TH_LOG("a dead sender counts as blocked");
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(0, st.send_waiters) TH_LOG("a dead sender counts as blocked");
	EXPECT_EQ(0, poll_now(fd, POLLIN) & POLLIN)
		TH_LOG("poll says a receive would not block");
	EXPECT_EQ(-EAGAIN, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	kill(pid, SIGCONT);
	EXPECT_EQ(0, gc_reap(pid));
	close(fd);
}

/*
 * A buffered channel, full, with a queued send that times out while its
 * submitter is stopped: once a receive makes room, a non-blocking send
 * goes into the ring (the dead sender is no one to queue behind), as poll's
 * EPOLLOUT says it would.
 */
TEST_F(uring_cmd, timed_out_send_does_not_hold_a_free_slot)
{
	uint64_t v = 0;
	int fd = gc_make(self->dev, 8, 2);
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_send_u64(fd, 1, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_send_u64(fd, 2, GOCHAN_XFER_NONBLOCK));
	pid = spawn_stopped_submitter(fd, -1, GOCHAN_IOC_SEND, SUBMITTER_DEADLINE_MS);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 0));	/* its deadline passed */
	ASSERT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(1, v);
	EXPECT_EQ(POLLOUT, poll_now(fd, POLLOUT) & POLLOUT);
	EXPECT_EQ(0, gc_send_u64(fd, 3, GOCHAN_XFER_NONBLOCK))
		TH_LOG("a free slot, and the send is refused");
	kill(pid, SIGCONT);
	EXPECT_EQ(0, gc_reap(pid));
	ASSERT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(2, v);
	ASSERT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(3, v);
	close(fd);
}

/*
 * A queued SELECT receiving from two unbuffered channels is completed
 * through the second while its submitter is stopped: its waiter on the
 * first is left behind until the submitter's task work unlinks it.  That
 * waiter can take nothing, so the first channel has no receiver.
 */
TEST_F(uring_cmd, select_completed_elsewhere_leaves_no_receiver)
{
	struct gochan_stat st;
	int fds[2];
	pid_t pid;

	for (int i = 0; i < 2; i++) {
		fds[i] = gc_make(self->dev, 8, 0);
		ASSERT_LE(0, fds[i]);
	}
	pid = spawn_stopped_submitter(fds[0], fds[1], GOCHAN_IOC_SELECT, 0);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fds[1], 0, 1));
	/* The select takes this send, through its second case. */
	ASSERT_EQ(0, gc_send_u64(fds[1], 9, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_stat(fds[0], &st));
	EXPECT_EQ(0, st.recv_waiters) TH_LOG("a done select counts as a receiver");
	EXPECT_EQ(0, poll_now(fds[0], POLLOUT) & POLLOUT)
		TH_LOG("poll says a send would not block");
	EXPECT_EQ(-EAGAIN, gc_send_u64(fds[0], 1, GOCHAN_XFER_NONBLOCK));
	kill(pid, SIGCONT);
	EXPECT_EQ(0, gc_reap(pid));
	for (int i = 0; i < 2; i++)
		close(fds[i]);
}

TEST_F(uring_cmd, close_completes_queued_commands)
{
	uint64_t v = 3, got = 0xff;
	struct gochan_xfer xs = xfer(&v, 0), xr = xfer(&got, 0);
	int rfd = gc_make(self->dev, 8, 0);
	int sfd = gc_make(self->dev, 8, 0);
	uint64_t ud;
	int res;

	ASSERT_LE(0, rfd);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(1, submit_cmd(&self->ring, rfd, GOCHAN_IOC_RECV, &xr, 1));
	ASSERT_EQ(1, submit_cmd(&self->ring, sfd, GOCHAN_IOC_SEND, &xs, 2));
	ASSERT_EQ(0, gc_wait_waiters(rfd, 0, 1));
	ASSERT_EQ(0, gc_wait_waiters(sfd, 1, 0));
	ASSERT_EQ(0, gc_close_chan(rfd));
	ASSERT_EQ(0, gc_close_chan(sfd));
	/* The receive says closed-and-drained (0), the send -EPIPE. */
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, reap(&self->ring, &ud, &res));
		EXPECT_EQ(ud == 1 ? 0 : -EPIPE, res);
	}
	EXPECT_EQ(0xff, got);
	close(rfd);
	close(sfd);
}

TEST_F(uring_cmd, fd_close_cancels_queued_commands)
{
	uint64_t got = 0, v = 8, left = 0;
	struct gochan_xfer xr = xfer(&got, 0);
	int fd = gc_make(self->dev, 8, 1);
	int other = dup(fd);

	ASSERT_LE(0, fd);
	ASSERT_LE(0, other);
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr, 1));
	ASSERT_EQ(0, gc_wait_waiters(other, 0, 1));
	/* close(2) of the fd it was submitted on ends it. */
	close(fd);
	EXPECT_EQ(-ECANCELED, reap_res(&self->ring, 1));
	EXPECT_EQ(0, gc_wait_waiters(other, 0, 0));
	/* It took nothing. */
	EXPECT_EQ(0, gc_send_u64(other, v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0, gc_recv_u64(other, &left, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(8, left);
	close(other);
}

/*
 * A process exits with commands queued (its ring still set up, or torn
 * down first): they end, the channel is left as it was, nothing is taken.
 */
TEST_F(uring_cmd, process_exit_with_queued_commands)
{
	int rfd = gc_make(self->dev, 8, 1);
	int sfd = gc_make(self->dev, 8, 0);
	uint64_t v = 0;

	ASSERT_LE(0, rfd);
	ASSERT_LE(0, sfd);
	for (int variant = 0; variant < 2; variant++) {
		pid_t pid = gc_fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			static uint64_t buf[4], one = 1;
			struct gochan_xfer xr[2] = { xfer(&buf[0], 0), xfer(&buf[1], 0) };
			struct gochan_xfer xs = xfer(&one, 0);
			struct io_uring r;

			if (io_uring_queue_init(8, &r, 0))
				_exit(2);
			if (submit_cmd(&r, rfd, GOCHAN_IOC_RECV, &xr[0], 1) != 1 ||
			    submit_cmd(&r, rfd, GOCHAN_IOC_RECV, &xr[1], 2) != 1 ||
			    submit_cmd(&r, sfd, GOCHAN_IOC_SEND, &xs, 3) != 1)
				_exit(3);
			if (gc_wait_waiters(rfd, 0, 2) || gc_wait_waiters(sfd, 1, 0))
				_exit(4);
			if (variant)
				io_uring_queue_exit(&r);
			_exit(0);
		}
		EXPECT_EQ(0, gc_reap(pid));
		/* Their exit ended them: no waiter is left behind. */
		EXPECT_EQ(0, gc_wait_waiters(rfd, 0, 0));
		EXPECT_EQ(0, gc_wait_waiters(sfd, 0, 0));
		/* The send went nowhere: a receive finds nothing. */
		EXPECT_EQ(-EAGAIN, gc_recv_u64(sfd, &v, GOCHAN_XFER_NONBLOCK));
		/* The receives took nothing. */
		EXPECT_EQ(0, gc_send_u64(rfd, 77, GOCHAN_XFER_NONBLOCK));
		EXPECT_EQ(0, gc_recv_u64(rfd, &v, GOCHAN_XFER_NONBLOCK));
		EXPECT_EQ(77, v);
	}
	close(rfd);
	close(sfd);
}

/*
 * The ring is torn down with a command queued and the channel fd kept
 * open: the command ends (6.7+ cancels it from the teardown; 6.1, which
 * cannot, from the module's watch of its queued commands) and took
 * nothing.
 */
TEST_F(uring_cmd, ring_teardown_with_queued_command)
{
	uint64_t got = 0, v = 0;
	struct gochan_xfer xr = xfer(&got, 0);
	struct io_uring r;
	int fd = gc_make(self->dev, 8, 1);
	int other = dup(fd);

	ASSERT_LE(0, fd);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, io_uring_queue_init(4, &r, 0));
	ASSERT_EQ(1, submit_cmd(&r, fd, GOCHAN_IOC_RECV, &xr, 1));
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	io_uring_queue_exit(&r);
	EXPECT_EQ(0, gc_wait_waiters(other, 0, 0));
	EXPECT_EQ(0, gc_send_u64(other, 31, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0, gc_recv_u64(other, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(31, v);
	EXPECT_EQ(0, got);
	close(fd);
	close(other);
}

/*
 * A command submitted through a registered file whose fd was closed
 * first: no close(2) will ever reach it, only the ring's teardown.  On 6.1
 * (no cancelable commands) it stayed queued for good: a receiver no one
 * could end, which took the next value sent, held the channel and the
 * module, and kept the ring's exit work waiting.
 */
TEST_F(uring_cmd, ring_teardown_ends_command_on_a_registered_file)
{
	uint64_t got = 0, v = 0;
	struct gochan_xfer xr = xfer(&got, 0);
	struct io_uring_sqe *sqe;
	struct io_uring r;
	int fd = gc_make(self->dev, 8, 0);
	/* a file of its own: closing it cancels only what was submitted through it */
	int other = gc_dup(fd, GOCHAN_DUP_SEND | GOCHAN_DUP_RECV);

	ASSERT_LE(0, fd);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, io_uring_queue_init(4, &r, 0));
	ASSERT_EQ(0, io_uring_register_files(&r, &fd, 1));
	ASSERT_EQ(0, close(fd));
	for (int async = 0; async < 2; async++) {
		ASSERT_NE(NULL, sqe = io_uring_get_sqe(&r));
		prep_cmd(sqe, 0, GOCHAN_IOC_RECV, &xr, 1, 1);
		sqe->flags |= IOSQE_FIXED_FILE | (async ? IOSQE_ASYNC : 0);
		ASSERT_EQ(1, io_uring_submit(&r));
	}
	ASSERT_EQ(0, gc_wait_waiters(other, 0, 2));
	io_uring_queue_exit(&r);
	/* Both end; a value sent now finds no receiver. */
	EXPECT_EQ(0, gc_wait_waiters(other, 0, 0));
	EXPECT_EQ(-EAGAIN, gc_send_u64(other, 5, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(-EAGAIN, gc_recv_u64(other, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0, got);
	close(other);
}

/*
 * execve() with a command queued: it is cancelled (6.7+ from the exec,
 * 6.1 from the module's watch) and the exec goes on; it took nothing.
 */
TEST_F(uring_cmd, exec_with_queued_command)
{
	int fd = gc_make(self->dev, 8, 1);
	uint64_t v = 0;
	pid_t pid;

	ASSERT_LE(0, fd);
	if (access("/bin/sh", X_OK))
		GC_SKIP_SETUP("no /bin/sh to exec");
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static uint64_t buf;
		struct gochan_xfer xr = xfer(&buf, 0);
		struct io_uring r;

		if (io_uring_queue_init(4, &r, 0) ||
		    submit_cmd(&r, fd, GOCHAN_IOC_RECV, &xr, 1) != 1 ||
		    gc_wait_waiters(fd, 0, 1))
			_exit(2);
		execl("/bin/sh", "sh", "-c", "exit 0", (char *)NULL);
		_exit(3);
	}
	EXPECT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, gc_wait_waiters(fd, 0, 0));
	EXPECT_EQ(0, gc_send_u64(fd, 3, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(3, v);
	close(fd);
}

/* Commands issued from an io-wq worker (IOSQE_ASYNC) queue and complete
 * the same way, and cancel the same way. */
TEST_F(uring_cmd, issued_from_iowq)
{
	uint64_t got = 0, v = 0x77;
	struct gochan_xfer xr = xfer(&got, 0), xs = xfer(&v, 0);
	struct io_uring_sqe *sqe;
	int fd = gc_make(self->dev, 8, 0);

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, sqe = io_uring_get_sqe(&self->ring));
	prep_cmd(sqe, fd, GOCHAN_IOC_RECV, &xr, 1, 1);
	sqe->flags |= IOSQE_ASYNC;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	ASSERT_NE(NULL, sqe = io_uring_get_sqe(&self->ring));
	prep_cmd(sqe, fd, GOCHAN_IOC_SEND, &xs, 2, 2);
	sqe->flags |= IOSQE_ASYNC;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (int i = 0; i < 2; i++) {
		uint64_t ud;
		int res;

		ASSERT_EQ(0, reap(&self->ring, &ud, &res));
		EXPECT_EQ(ud == 1 ? 1 : 0, res);
	}
	EXPECT_EQ(0x77, got);
	ASSERT_NE(NULL, sqe = io_uring_get_sqe(&self->ring));
	prep_cmd(sqe, fd, GOCHAN_IOC_RECV, &xr, 3, 3);
	sqe->flags |= IOSQE_ASYNC;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	EXPECT_EQ(1, cancel_ioctl(fd, 3, 0));
	EXPECT_EQ(-ECANCELED, reap_res(&self->ring, 3));
	close(fd);
}

/*
 * A CANCEL's CQE carries its count, also issued from io-wq (IOSQE_ASYNC),
 * and a count is a success: a request linked after it runs.  On 6.1 a
 * positive value returned by ->uring_cmd was never completed from io-wq,
 * which fails only a negative one: the CQE never came, and the ring's
 * teardown waited for the request forever, holding the channel and the
 * module (the fuzzer left the module unloadable so).  Issued inline, the
 * count came as a failed request: the NOP linked after it was cancelled.
 */
TEST_F(uring_cmd, cancel_count_completes_also_from_iowq)
{
	struct gochan_cancel all = {
		.size = sizeof(all), .flags = GOCHAN_CANCEL_ALL,
	};
	uint64_t got = 0;
	struct gochan_xfer xr = xfer(&got, 0);
	int fd = gc_make(self->dev, 8, 0);

	ASSERT_LE(0, fd);
	for (int async = 0; async < 2; async++) {
		struct io_uring_sqe *sqe;
		int seen = 0;

		ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr, 1));
		ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
		ASSERT_NE(NULL, sqe = io_uring_get_sqe(&self->ring));
		prep_cmd(sqe, fd, GOCHAN_IOC_CANCEL, &all, 0, 99);
		sqe->flags |= IOSQE_IO_LINK | (async ? IOSQE_ASYNC : 0);
		ASSERT_NE(NULL, sqe = io_uring_get_sqe(&self->ring));
		io_uring_prep_nop(sqe);
		sqe->user_data = 100;
		ASSERT_EQ(2, io_uring_submit(&self->ring));
		for (int i = 0; i < 3; i++) {
			uint64_t ud;
			int res;

			ASSERT_EQ(0, reap(&self->ring, &ud, &res))
				TH_LOG("%s: CQE %d of 3 never came (seen %#x)",
				       async ? "from io-wq" : "inline", i + 1, seen);
			ASSERT_TRUE(ud == 1 || ud == 99 || ud == 100)
				TH_LOG("a CQE nobody asked for: %llu",
				       (unsigned long long)ud);
			/* The RECV, the CANCEL's count, the NOP linked after it. */
			EXPECT_EQ(ud == 1 ? -ECANCELED : ud == 99 ? 1 : 0, res)
				TH_LOG("%s: CQE of %llu", async ? "from io-wq" : "inline",
				       (unsigned long long)ud);
			seen |= ud == 1 ? 1 : ud == 99 ? 2 : 4;
		}
		EXPECT_EQ(7, seen);
		EXPECT_EQ(0, gc_wait_waiters(fd, 0, 0));
	}
	EXPECT_EQ(0, got);
	close(fd);
}

/*
 * The receive buffer becomes read-only while queued: the RECV pinned it at
 * submission, so the element arriving later is written there and the CQE
 * reports it (res 1), once; not an -EFAULT with the element given back
 * beside the ring.
 */
TEST_F(uring_cmd, recv_buffer_made_readonly_while_queued_still_receives)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct gochan_xfer xr;
	uint64_t v = 0;
	char *page;
	int fd = gc_make(self->dev, 8, 0);
	pid_t pid;

	ASSERT_LE(0, fd);
	page = mmap(NULL, pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	xr = xfer(page, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr, 1));
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	/* Read-only now: the copy-out at completion faults. */
	ASSERT_EQ(0, mprotect(page, pg, PROT_READ));

	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(gc_send_u64(fd, 1234, 0) ? 1 : 0);
	EXPECT_EQ(1, reap_res(&self->ring, 1));
	EXPECT_EQ(0, gc_reap(pid));
	/* Delivered into the buffer, and nothing left in the channel. */
	EXPECT_EQ(1234, *(volatile uint64_t *)page);
	EXPECT_EQ(-EAGAIN, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	/* An unmapped buffer is refused at submission, nothing queued. */
	ASSERT_EQ(0, munmap(page, pg));
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_RECV, &xr, 2));
	EXPECT_EQ(-EFAULT, reap_res(&self->ring, 2));
	EXPECT_EQ(0, gc_wait_waiters(fd, 0, 0));
	close(fd);
}

TEST_F(uring_cmd, bad_fields_rejected)
{
	char big[GC_STRUCT_MAX + 8] = { 0 };
	struct gochan_xfer *bx = (struct gochan_xfer *)big;
	struct gochan_cancel cn = { .size = sizeof(cn), .flags = GOCHAN_CANCEL_ALL };
	uint64_t v = 1;
	struct gochan_xfer x;
	struct io_uring_sqe *sqe;
	int fd = gc_make(self->dev, 8, 4);
	int i = 0;

	ASSERT_LE(0, fd);
#define CHECK_CMD(want, op, arg) do {					\
		ASSERT_EQ(1, submit_cmd(&self->ring, fd, op, arg, ++i)); \
		EXPECT_EQ(want, reap_res(&self->ring, i));		\
	} while (0)
	/* An unknown cmd_op: ENOTTY, as the ioctl says. */
	x = xfer(&v, 0);
	CHECK_CMD(-ENOTTY, _IOWR(GOCHAN_IOC_MAGIC, 0x7f, struct gochan_xfer), &x);
	CHECK_CMD(-ENOTTY, GOCHAN_IOC_STAT, &x);
	/* No struct, or a bad pointer to it: EFAULT. */
	CHECK_CMD(-EFAULT, GOCHAN_IOC_SEND, NULL);
	CHECK_CMD(-EFAULT, GOCHAN_IOC_RECV, GC_BAD_PTR);
	/* size below VER0: EINVAL; above 4096: E2BIG. */
	x.size = GOCHAN_XFER_SIZE_VER0 - 1;
	CHECK_CMD(-EINVAL, GOCHAN_IOC_SEND, &x);
	bx->size = GC_STRUCT_MAX + 1;
	bx->buf = (uintptr_t)&v;
	CHECK_CMD(-E2BIG, GOCHAN_IOC_SEND, bx);
	/* A larger struct with a nonzero byte past this version: E2BIG. */
	bx->size = sizeof(*bx) + 8;
	big[sizeof(*bx) + 3] = 1;
	CHECK_CMD(-E2BIG, GOCHAN_IOC_RECV, bx);
	/* Unknown flags, reserved fields, a deadline without the flag. */
	x = xfer(&v, 1u << 5);
	CHECK_CMD(-EINVAL, GOCHAN_IOC_SEND, &x);
	x = xfer(&v, 0);
	x.reserved0 = 1;
	CHECK_CMD(-EINVAL, GOCHAN_IOC_SEND, &x);
	x = xfer(&v, 0);
	x.reserved[1] = 1;
	CHECK_CMD(-EINVAL, GOCHAN_IOC_RECV, &x);
	x = xfer(&v, 0);
	x.deadline_ns = 1;
	CHECK_CMD(-EINVAL, GOCHAN_IOC_RECV, &x);
	/* A bad element buffer: EFAULT, nothing sent or queued. */
	x = xfer(GC_BAD_PTR, 0);
	CHECK_CMD(-EFAULT, GOCHAN_IOC_SEND, &x);
	CHECK_CMD(-EFAULT, GOCHAN_IOC_RECV, &x);
	EXPECT_EQ(0, gc_wait_waiters(fd, 0, 0));
	/* CANCEL: a key in the command area, a key with ALL, bad flags. */
	ASSERT_NE(NULL, sqe = io_uring_get_sqe(&self->ring));
	prep_cmd(sqe, fd, GOCHAN_IOC_CANCEL, &cn, 5, 500);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-EINVAL, reap_res(&self->ring, 500));
	EXPECT_EQ(-EINVAL, cancel_ioctl(fd, 5, GOCHAN_CANCEL_ALL));
	EXPECT_EQ(-EINVAL, cancel_ioctl(fd, 0, 1u << 7));
	cn.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, gc_err(ioctl(fd, GOCHAN_IOC_CANCEL, &cn)));
	/* Nothing moved through any of these. */
	EXPECT_EQ(-EAGAIN, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	/* /dev/gochan itself takes no commands. */
	x = xfer(&v, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, self->dev, GOCHAN_IOC_SEND, &x, 600));
	EXPECT_EQ(-EOPNOTSUPP, reap_res(&self->ring, 600));
#undef CHECK_CMD
	close(fd);
}

/* A receive-only fd (opened by name) cannot send, and the reverse. */
TEST_F(uring_cmd, access_mode_of_named_fd)
{
	struct gochan_open op = {
		.size = sizeof(op),
		.flags = GOCHAN_OPEN_CREATE | GOCHAN_OPEN_EXCL | GOCHAN_OPEN_RECV,
		.mode = 0600, .elem_size = 8, .capacity = 1,
	};
	char name[64];
	uint64_t v = 1;
	struct gochan_xfer x = xfer(&v, 0);
	int rfd, sfd;

	snprintf(name, sizeof(name), "uring_cmd.%d", getpid());
	op.name = (uintptr_t)name;
	rfd = gc_err(ioctl(self->dev, GOCHAN_IOC_OPEN, &op));
	ASSERT_LE(0, rfd);
	op = (struct gochan_open) {
		.size = sizeof(op), .flags = GOCHAN_OPEN_SEND,
		.name = (uintptr_t)name,
	};
	sfd = gc_err(ioctl(self->dev, GOCHAN_IOC_OPEN, &op));
	ASSERT_LE(0, sfd);
	ASSERT_EQ(1, submit_cmd(&self->ring, rfd, GOCHAN_IOC_SEND, &x, 1));
	EXPECT_EQ(-EBADF, reap_res(&self->ring, 1));
	ASSERT_EQ(1, submit_cmd(&self->ring, sfd, GOCHAN_IOC_RECV, &x, 2));
	EXPECT_EQ(-EBADF, reap_res(&self->ring, 2));
	ASSERT_EQ(1, submit_cmd(&self->ring, sfd, GOCHAN_IOC_SEND, &x, 3));
	EXPECT_EQ(0, reap_res(&self->ring, 3));
	ASSERT_EQ(1, submit_cmd(&self->ring, rfd, GOCHAN_IOC_RECV, &x, 4));
	EXPECT_EQ(1, reap_res(&self->ring, 4));
	{
		struct gochan_unlink ul = { .size = sizeof(ul), .name = (uintptr_t)name };

		EXPECT_EQ(0, gc_err(ioctl(self->dev, GOCHAN_IOC_UNLINK, &ul)));
	}
	close(rfd);
	close(sfd);
}

/* On a 128-byte-SQE ring the other 64 bytes of the area must be zero. */
TEST_F(uring_cmd, sqe128_ring)
{
	uint64_t v = 6, got = 0;
	struct gochan_xfer xs = xfer(&v, 0), xr = xfer(&got, 0);
	struct io_uring_sqe *sqe;
	struct io_uring r;
	int fd = gc_make(self->dev, 8, 0);
	int ret;

	ASSERT_LE(0, fd);
	ret = io_uring_queue_init(8, &r, IORING_SETUP_SQE128);
	if (ret == -EINVAL)
		GC_SKIP_SETUP("no IORING_SETUP_SQE128");
	ASSERT_EQ(0, ret);
	/* A queued receive and a send meet, as on a 64-byte ring. */
	ASSERT_NE(NULL, sqe = io_uring_get_sqe(&r));
	memset(sqe, 0, 128);
	prep_cmd(sqe, fd, GOCHAN_IOC_RECV, &xr, 1, 1);
	ASSERT_EQ(1, io_uring_submit(&r));
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	ASSERT_NE(NULL, sqe = io_uring_get_sqe(&r));
	memset(sqe, 0, 128);
	prep_cmd(sqe, fd, GOCHAN_IOC_SEND, &xs, 2, 2);
	ASSERT_EQ(1, io_uring_submit(&r));
	for (int i = 0; i < 2; i++) {
		uint64_t ud;
		int res;

		ASSERT_EQ(0, reap(&r, &ud, &res));
		EXPECT_EQ(ud == 1 ? 1 : 0, res);
	}
	EXPECT_EQ(6, got);
	/* A nonzero byte in the extended area: EINVAL. */
	ASSERT_NE(NULL, sqe = io_uring_get_sqe(&r));
	memset(sqe, 0, 128);
	prep_cmd(sqe, fd, GOCHAN_IOC_SEND, &xs, 3, 3);
	((uint8_t *)sqe)[127] = 1;
	ASSERT_EQ(1, io_uring_submit(&r));
	EXPECT_EQ(-EINVAL, reap_res(&r, 3));
	io_uring_queue_exit(&r);
	close(fd);
}

struct race_arg {
	int fd;
	int n;
	int done;
};

static void *race_sender(void *p)
{
	struct race_arg *ra = p;
	void *ret = NULL;

	for (int i = 0; i < ra->n; i++)
		if (gc_send_u64(ra->fd, i, 0)) {
			ret = (void *)1;
			break;
		}
	__atomic_store_n(&ra->done, 1, __ATOMIC_RELEASE);
	return ret;
}

/*
 * Cancel races completion: a thread sends 0..N-1 while the main thread
 * keeps queueing a receive and cancelling it.  Each value ends up received
 * through a CQE or still in the channel, exactly once.
 */
TEST_F(uring_cmd, cancel_racing_completion_loses_nothing)
{
	enum { N = 300 };
	static int count[N];
	struct race_arg ra = { .n = N };
	uint64_t got, v;
	struct gochan_xfer xr = xfer(&got, 0);
	pthread_t th;
	void *thret;
	int won = 0, cancelled = 0;

	ra.fd = gc_make(self->dev, 8, 1);
	ASSERT_LE(0, ra.fd);
	ASSERT_EQ(0, pthread_create(&th, NULL, race_sender, &ra));
	for (int i = 0; !__atomic_load_n(&ra.done, __ATOMIC_ACQUIRE); i++) {
		int res;

		got = UINT64_MAX;
		ASSERT_EQ(1, submit_cmd(&self->ring, ra.fd, GOCHAN_IOC_RECV, &xr, i));
		if (i % 3)
			sched_yield();
		cancel_ioctl(ra.fd, i, 0);	/* may find it done: ENOENT */
		res = reap_res(&self->ring, i);
		if (res == 1) {
			ASSERT_GT(N, got);
			count[got]++;
			won++;
		} else {
			ASSERT_EQ(-ECANCELED, res);
			cancelled++;
		}
	}
	ASSERT_EQ(0, pthread_join(th, &thret));
	ASSERT_EQ(NULL, thret);
	while (!gc_recv_u64(ra.fd, &v, GOCHAN_XFER_NONBLOCK)) {
		ASSERT_GT(N, v);
		count[v]++;
	}
	for (int i = 0; i < N; i++) {
		EXPECT_EQ(1, count[i]) TH_LOG("value %d seen %d times", i, count[i]);
	}
	TH_LOG("%d received, %d cancelled", won, cancelled);
	close(ra.fd);
}

/* --- SELECT --- */

static struct gochan_select sel_arg(struct gochan_select_case *cases,
				    uint32_t n, uint32_t flags)
{
	return (struct gochan_select) {
		.size = sizeof(struct gochan_select),
		.flags = flags,
		.cases = (uintptr_t)cases,
		.ncases = n,
		.case_size = sizeof(struct gochan_select_case),
	};
}

static struct gochan_select_case sel_case(int fd, uint32_t op, void *buf)
{
	return (struct gochan_select_case) { .fd = fd, .op = op, .buf = (uintptr_t)buf };
}

TEST_F(uring_cmd, select_inline_and_queued)
{
	uint64_t got = 0, v = 21;
	struct gochan_select_case cases[3];
	struct gochan_select arg;
	int fds[3];
	pid_t pid;

	for (int i = 0; i < 3; i++) {
		fds[i] = gc_make(self->dev, 8, i == 2 ? 1 : 0);
		ASSERT_LE(0, fds[i]);
		cases[i] = sel_case(fds[i], GOCHAN_OP_RECV, &got);
	}
	/* A ready case runs at once: res = its index | RES_OK. */
	ASSERT_EQ(0, gc_send_u64(fds[2], 5, GOCHAN_XFER_NONBLOCK));
	arg = sel_arg(cases, 3, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, fds[0], GOCHAN_IOC_SELECT, &arg, 1));
	EXPECT_EQ(2 | GOCHAN_SELECT_RES_OK, reap_res(&self->ring, 1));
	EXPECT_EQ(5, got);
	/* None ready with NONBLOCK: -EAGAIN. */
	arg = sel_arg(cases, 3, GOCHAN_SELECT_NONBLOCK);
	ASSERT_EQ(1, submit_cmd(&self->ring, fds[0], GOCHAN_IOC_SELECT, &arg, 2));
	EXPECT_EQ(-EAGAIN, reap_res(&self->ring, 2));

	/* None ready: it waits in all three channels at once... */
	arg = sel_arg(cases, 3, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, fds[2], GOCHAN_IOC_SELECT, &arg, 3));
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, gc_wait_waiters(fds[i], 0, 1));
	EXPECT_TRUE(no_cqe(&self->ring));
	/* ...and a sender in another process on the second completes it. */
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(gc_send_u64(fds[1], v, 0) ? 1 : 0);
	EXPECT_EQ(1 | GOCHAN_SELECT_RES_OK, reap_res(&self->ring, 3));
	EXPECT_EQ(21, got);
	EXPECT_EQ(0, gc_reap(pid));
	/* The other cases' waiters are gone. */
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(0, gc_wait_waiters(fds[i], 0, 0));
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

/* A select in ring A sends, a select in ring B receives: they meet. */
TEST_F(uring_cmd, select_meets_select_in_another_ring)
{
	uint64_t v = 77, got = 0;
	struct gochan_select_case ca[2], cb[2];
	struct gochan_select aa, ab;
	struct io_uring b;
	int x = gc_make(self->dev, 8, 0), y = gc_make(self->dev, 8, 0);

	ASSERT_LE(0, x);
	ASSERT_LE(0, y);
	ASSERT_EQ(0, io_uring_queue_init(4, &b, 0));
	ca[0] = sel_case(y, GOCHAN_OP_RECV, &got);
	ca[1] = sel_case(x, GOCHAN_OP_SEND, &v);
	aa = sel_arg(ca, 2, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, x, GOCHAN_IOC_SELECT, &aa, 1));
	ASSERT_EQ(0, gc_wait_waiters(x, 1, 0));
	v = 0;	/* copied at submission */
	cb[0] = sel_case(x, GOCHAN_OP_RECV, &got);
	cb[1] = sel_case(y, GOCHAN_OP_RECV, &got);
	ab = sel_arg(cb, 2, 0);
	ASSERT_EQ(1, submit_cmd(&b, y, GOCHAN_IOC_SELECT, &ab, 2));
	/* B's receive on x takes A's send on x. */
	EXPECT_EQ(0 | GOCHAN_SELECT_RES_OK, reap_res(&b, 2));
	EXPECT_EQ(1, reap_res(&self->ring, 1));
	EXPECT_EQ(77, got);
	EXPECT_EQ(0, gc_wait_waiters(x, 0, 0));
	EXPECT_EQ(0, gc_wait_waiters(y, 0, 0));
	io_uring_queue_exit(&b);
	close(x);
	close(y);
}

TEST_F(uring_cmd, select_nil_cases_are_never_chosen_and_counted_in_res)
{
	uint64_t got = 0, v = 9;
	struct gochan_select_case cases[4];
	struct gochan_select arg;
	int a = gc_make(self->dev, 8, 1), b = gc_make(self->dev, 8, 0);
	pid_t pid;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	/* Nil cases (GOCHAN_NIL_FD) around a ready one: that one runs, its
	 * res the index in the submitted array, nil cases counted. */
	ASSERT_EQ(0, gc_send_u64(a, 5, GOCHAN_XFER_NONBLOCK));
	cases[0] = sel_case(GOCHAN_NIL_FD, GOCHAN_OP_RECV, GC_BAD_PTR);
	cases[1] = sel_case(GOCHAN_NIL_FD, GOCHAN_OP_SEND, GC_BAD_PTR);
	cases[2] = sel_case(a, GOCHAN_OP_RECV, &got);
	cases[3] = sel_case(GOCHAN_NIL_FD, GOCHAN_OP_RECV, GC_BAD_PTR);
	arg = sel_arg(cases, 4, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, a, GOCHAN_IOC_SELECT, &arg, 1));
	EXPECT_EQ(2 | GOCHAN_SELECT_RES_OK, reap_res(&self->ring, 1));
	EXPECT_EQ(5, got);

	/* Queued, then completed by a partner: the same index. */
	cases[2] = sel_case(b, GOCHAN_OP_RECV, &got);
	ASSERT_EQ(1, submit_cmd(&self->ring, a, GOCHAN_IOC_SELECT, &arg, 2));
	ASSERT_EQ(0, gc_wait_waiters(b, 0, 1));
	EXPECT_TRUE(no_cqe(&self->ring));
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(gc_send_u64(b, v, 0) ? 1 : 0);
	EXPECT_EQ(2 | GOCHAN_SELECT_RES_OK, reap_res(&self->ring, 2));
	EXPECT_EQ(9, got);
	EXPECT_EQ(0, gc_reap(pid));

	/* Nil cases only: no channel to wait in, refused as ncases = 0 is. */
	arg = sel_arg(cases, 2, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, a, GOCHAN_IOC_SELECT, &arg, 3));
	EXPECT_EQ(-EINVAL, reap_res(&self->ring, 3));
	/* Another negative fd is no nil case: EBADF. */
	cases[0].fd = -2;
	cases[2] = sel_case(a, GOCHAN_OP_SEND, &v);
	arg = sel_arg(cases, 3, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, a, GOCHAN_IOC_SELECT, &arg, 4));
	EXPECT_EQ(-EBADF, reap_res(&self->ring, 4));
	close(a);
	close(b);
}

TEST_F(uring_cmd, select_ended_by_close_cancel_deadline)
{
	uint64_t v = 1, got = 0xaa;
	struct gochan_select_case cases[2];
	struct gochan_select arg;
	int r = gc_make(self->dev, 8, 0), s = gc_make(self->dev, 8, 0);
	int64_t t0;

	ASSERT_LE(0, r);
	ASSERT_LE(0, s);
	cases[0] = sel_case(r, GOCHAN_OP_RECV, &got);
	cases[1] = sel_case(s, GOCHAN_OP_SEND, &v);

	/* Closing the receive case's channel: res = 0, no RES_OK. */
	arg = sel_arg(cases, 2, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, s, GOCHAN_IOC_SELECT, &arg, 1));
	ASSERT_EQ(0, gc_wait_waiters(r, 0, 1));
	ASSERT_EQ(0, gc_close_chan(r));
	EXPECT_EQ(0, reap_res(&self->ring, 1));
	EXPECT_EQ(0xaa, got);
	EXPECT_EQ(0, gc_wait_waiters(s, 0, 0));
	close(r);

	/* Closing the send case's channel: res = 1 | RES_CLOSED. */
	r = gc_make(self->dev, 8, 0);
	ASSERT_LE(0, r);
	cases[0] = sel_case(r, GOCHAN_OP_RECV, &got);
	ASSERT_EQ(1, submit_cmd(&self->ring, r, GOCHAN_IOC_SELECT, &arg, 2));
	ASSERT_EQ(0, gc_wait_waiters(s, 1, 0));
	ASSERT_EQ(0, gc_close_chan(s));
	EXPECT_EQ(1 | GOCHAN_SELECT_RES_CLOSED, reap_res(&self->ring, 2));
	EXPECT_EQ(0, gc_wait_waiters(r, 0, 0));
	close(s);

	/* Cancelled by its key, through the channel it was submitted on. */
	s = gc_make(self->dev, 8, 0);
	ASSERT_LE(0, s);
	cases[1] = sel_case(s, GOCHAN_OP_SEND, &v);
	ASSERT_EQ(1, submit_cmd(&self->ring, s, GOCHAN_IOC_SELECT, &arg, 3));
	ASSERT_EQ(0, gc_wait_waiters(r, 0, 1));
	EXPECT_EQ(-ENOENT, cancel_ioctl(r, 3, 0));	/* not submitted on r */
	EXPECT_EQ(1, cancel_ioctl(s, 3, 0));
	EXPECT_EQ(-ECANCELED, reap_res(&self->ring, 3));
	EXPECT_EQ(0, gc_wait_waiters(r, 0, 0));
	EXPECT_EQ(0, gc_wait_waiters(s, 0, 0));
	/* It sent nothing. */
	EXPECT_EQ(-EAGAIN, gc_recv_u64(s, &got, GOCHAN_XFER_NONBLOCK));

	/* The deadline: -ETIMEDOUT, not before it. */
	arg = sel_arg(cases, 2, GOCHAN_SELECT_DEADLINE);
	t0 = now_ns();
	arg.deadline_ns = t0 + 150 * 1000000LL;
	ASSERT_EQ(1, submit_cmd(&self->ring, r, GOCHAN_IOC_SELECT, &arg, 4));
	EXPECT_EQ(-ETIMEDOUT, reap_res(&self->ring, 4));
	EXPECT_LE(t0 + 150 * 1000000LL, now_ns());
	EXPECT_EQ(0, gc_wait_waiters(r, 0, 0));
	EXPECT_EQ(0, gc_wait_waiters(s, 0, 0));

	/* close(2) of the fd it was submitted on ends it. */
	{
		int sub = dup(r);

		ASSERT_LE(0, sub);
		arg = sel_arg(cases, 2, 0);
		ASSERT_EQ(1, submit_cmd(&self->ring, sub, GOCHAN_IOC_SELECT, &arg, 5));
		ASSERT_EQ(0, gc_wait_waiters(s, 1, 0));
		close(sub);
		EXPECT_EQ(-ECANCELED, reap_res(&self->ring, 5));
		EXPECT_EQ(0, gc_wait_waiters(s, 0, 0));
	}
	close(r);
	close(s);
}

TEST_F(uring_cmd, select_bad_fields_rejected)
{
	uint64_t v = 0;
	struct gochan_select_case cases[2];
	struct gochan_select arg;
	int fd = gc_make(self->dev, 8, 0);

	ASSERT_LE(0, fd);
	cases[0] = sel_case(fd, GOCHAN_OP_RECV, &v);
	cases[1] = sel_case(fd, GOCHAN_OP_SEND, &v);
	/* No cases: nothing to wait in. */
	arg = sel_arg(cases, 0, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SELECT, &arg, 1));
	EXPECT_EQ(-EINVAL, reap_res(&self->ring, 1));
	/* A case whose fd is not open: EBADF; not a channel: EINVAL. */
	cases[1].fd = 1000;
	arg = sel_arg(cases, 2, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SELECT, &arg, 2));
	EXPECT_EQ(-EBADF, reap_res(&self->ring, 2));
	cases[1].fd = self->dev;
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SELECT, &arg, 3));
	EXPECT_EQ(-EINVAL, reap_res(&self->ring, 3));
	/* A bad op, a reserved field, unknown flags, a small case_size. */
	cases[1] = sel_case(fd, 7, &v);
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SELECT, &arg, 4));
	EXPECT_EQ(-EINVAL, reap_res(&self->ring, 4));
	cases[1] = sel_case(fd, GOCHAN_OP_SEND, &v);
	cases[1].reserved = 1;
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SELECT, &arg, 5));
	EXPECT_EQ(-EINVAL, reap_res(&self->ring, 5));
	cases[1].reserved = 0;
	arg = sel_arg(cases, 2, 1u << 9);
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SELECT, &arg, 6));
	EXPECT_EQ(-EINVAL, reap_res(&self->ring, 6));
	arg = sel_arg(cases, 2, 0);
	arg.case_size = GOCHAN_SELECT_CASE_SIZE_VER0 - 1;
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SELECT, &arg, 7));
	EXPECT_EQ(-EINVAL, reap_res(&self->ring, 7));
	/* A bad send value, a bad cases pointer: EFAULT. */
	cases[1].buf = (uintptr_t)GC_BAD_PTR;
	arg = sel_arg(cases, 2, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SELECT, &arg, 8));
	EXPECT_EQ(-EFAULT, reap_res(&self->ring, 8));
	arg = sel_arg(GC_BAD_PTR, 2, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, fd, GOCHAN_IOC_SELECT, &arg, 9));
	EXPECT_EQ(-EFAULT, reap_res(&self->ring, 9));
	EXPECT_EQ(0, gc_wait_waiters(fd, 0, 0));
	close(fd);
}

/*
 * Selects racing cancel: a thread sends 0..N-1 on one of two channels
 * while the main thread queues a select over both and cancels it.  Every
 * value is received by a select or left in its channel, exactly once.
 */
TEST_F(uring_cmd, select_cancel_racing_completion_loses_nothing)
{
	enum { N = 200 };
	static int count[N];
	struct race_arg ra = { .n = N };
	struct gochan_select_case cases[2];
	struct gochan_select arg;
	int other = gc_make(self->dev, 8, 1);
	uint64_t got, v;
	pthread_t th;
	void *thret;

	ra.fd = gc_make(self->dev, 8, 1);
	ASSERT_LE(0, ra.fd);
	ASSERT_LE(0, other);
	cases[0] = sel_case(other, GOCHAN_OP_RECV, &got);
	cases[1] = sel_case(ra.fd, GOCHAN_OP_RECV, &got);
	arg = sel_arg(cases, 2, 0);
	ASSERT_EQ(0, pthread_create(&th, NULL, race_sender, &ra));
	for (int i = 0; !__atomic_load_n(&ra.done, __ATOMIC_ACQUIRE); i++) {
		int res;

		got = UINT64_MAX;
		ASSERT_EQ(1, submit_cmd(&self->ring, other, GOCHAN_IOC_SELECT, &arg, i));
		if (i % 3)
			sched_yield();
		cancel_ioctl(other, i, 0);
		res = reap_res(&self->ring, i);
		if (res == -ECANCELED)
			continue;
		ASSERT_EQ(1 | GOCHAN_SELECT_RES_OK, res);
		ASSERT_GT(N, got);
		count[got]++;
	}
	ASSERT_EQ(0, pthread_join(th, &thret));
	ASSERT_EQ(NULL, thret);
	while (!gc_recv_u64(ra.fd, &v, GOCHAN_XFER_NONBLOCK)) {
		ASSERT_GT(N, v);
		count[v]++;
	}
	for (int i = 0; i < N; i++) {
		EXPECT_EQ(1, count[i]) TH_LOG("value %d seen %d times", i, count[i]);
	}
	EXPECT_EQ(0, gc_wait_waiters(other, 0, 0));
	close(ra.fd);
	close(other);
}

/*
 * Fds of one direction from CREATE's flags and from GOCHAN_IOC_DUP: a
 * command or a SELECT case the direction forbids fails with EBADF, and
 * leaves the channel as it was.
 */
TEST_F(uring_cmd, access_mode_of_created_and_dup_fds)
{
	uint64_t v = 3, got = 0;
	struct gochan_xfer xs = xfer(&v, 0), xr = xfer(&got, 0);
	struct gochan_dup d = { .size = sizeof(d), .flags = GOCHAN_DUP_RECV };
	struct gochan_select_case cases[2];
	struct gochan_select arg;
	struct gochan_stat st;
	int w, r;

	w = gc_make_id(self->dev, 8, 1, GOCHAN_CREATE_SEND, NULL);
	ASSERT_LE(0, w);
	/* A send-only fd cannot give a receive-only one... */
	EXPECT_EQ(-EBADF, gc_err(ioctl(w, GOCHAN_IOC_DUP, &d)));
	/* ...so take a two-way channel and narrow it both ways. */
	close(w);
	r = gc_make(self->dev, 8, 1);
	ASSERT_LE(0, r);
	d.flags = GOCHAN_DUP_SEND;
	w = gc_err(ioctl(r, GOCHAN_IOC_DUP, &d));
	ASSERT_LE(0, w);
	d.flags = GOCHAN_DUP_RECV;
	{
		int r2 = gc_err(ioctl(r, GOCHAN_IOC_DUP, &d));

		ASSERT_LE(0, r2);
		close(r);
		r = r2;
	}
	/* RECV on the send-only fd, SEND on the receive-only one: EBADF. */
	ASSERT_EQ(1, submit_cmd(&self->ring, w, GOCHAN_IOC_RECV, &xr, 1));
	EXPECT_EQ(-EBADF, reap_res(&self->ring, 1));
	ASSERT_EQ(1, submit_cmd(&self->ring, r, GOCHAN_IOC_SEND, &xs, 2));
	EXPECT_EQ(-EBADF, reap_res(&self->ring, 2));
	/* A SELECT with one such case fails whole, beside a good case. */
	cases[0] = sel_case(w, GOCHAN_OP_SEND, &v);
	cases[1] = sel_case(w, GOCHAN_OP_RECV, &got);
	arg = sel_arg(cases, 2, 0);
	ASSERT_EQ(1, submit_cmd(&self->ring, w, GOCHAN_IOC_SELECT, &arg, 3));
	EXPECT_EQ(-EBADF, reap_res(&self->ring, 3));
	ASSERT_EQ(0, gc_stat(r, &st));
	EXPECT_EQ(0, st.len);
	/* What each may do, it does. */
	ASSERT_EQ(1, submit_cmd(&self->ring, w, GOCHAN_IOC_SEND, &xs, 4));
	EXPECT_EQ(0, reap_res(&self->ring, 4));
	ASSERT_EQ(1, submit_cmd(&self->ring, r, GOCHAN_IOC_RECV, &xr, 5));
	EXPECT_EQ(1, reap_res(&self->ring, 5));
	EXPECT_EQ(3, got);
	close(w);
	close(r);
}

TEST_HARNESS_MAIN
