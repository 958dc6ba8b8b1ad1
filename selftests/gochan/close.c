// SPDX-License-Identifier: GPL-2.0
/*
 * Description: GOCHAN_IOC_CLOSE, Go's close(c): blocked and later senders
 * fail with EPIPE; receivers drain the ring, then see end-of-channel (read
 * returns 0, GOCHAN_IOC_RECV ok = 0); every blocked receiver is woken; a
 * second close fails with EPIPE; the argument must be 0.  close(2) of an fd
 * is not a channel close.
 */
#include "helpers.h"

FIXTURE(close) {
	int dev;
	struct gc_op *ops;
};

FIXTURE_SETUP(close)
{
	GC_SETUP_DEV(self->dev);
	self->ops = gc_ops(8);
	ASSERT_NE(NULL, self->ops);
	/* write(2) to a closed channel fails with EPIPE; whether SIGPIPE is
	 * also raised is not part of the contract, so keep it out. */
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN(close)
{
	close(self->dev);
}

TEST_F(close, blocked_sender_woken_with_epipe)
{
	static const uint32_t caps[] = { 0, 1 };

	for (size_t c = 0; c < ARRAY_SIZE(caps); c++) {
		struct gc_op *op = &self->ops[c];
		int fd = gc_make(self->dev, 8, caps[c]);
		struct gochan_stat st;
		uint64_t v;
		pid_t pid;

		ASSERT_LE(0, fd);
		if (caps[c]) {
			ASSERT_EQ(0, gc_send_u64(fd, 1, 0));
		}
		op->fd = fd;
		op->kind = GC_OP_SEND;
		op->val = 2;
		pid = gc_spawn_op(op);
		ASSERT_LT(0, pid);
		ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
		/* Closing wakes the blocked sender with EPIPE... */
		ASSERT_EQ(0, gc_close_chan(fd));
		ASSERT_EQ(0, gc_reap(pid));
		EXPECT_EQ(-EPIPE, op->ret) TH_LOG("capacity %u", caps[c]);
		/* ...and its value was not sent: only what was buffered before
		 * the close can still be received. */
		ASSERT_EQ(0, gc_stat(fd, &st));
		EXPECT_EQ(caps[c], st.sent);
		EXPECT_EQ(0, st.send_waiters);
		if (caps[c]) {
			EXPECT_EQ(0, gc_recv_u64(fd, &v, 0));
			EXPECT_EQ(1, v);
		}
		EXPECT_EQ(GC_CLOSED, gc_recv_u64(fd, &v, 0));
		close(fd);
	}
}

TEST_F(close, blocked_writer_woken_with_epipe)
{
	struct gc_op *op = &self->ops[0];
	int fd = gc_make(self->dev, 8, 0);
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_WRITE;
	op->len = 16;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	/* A write(2) blocked with nothing taken fails with EPIPE on close. */
	ASSERT_EQ(0, gc_close_chan(fd));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(-EPIPE, op->ret);
	close(fd);
}

TEST_F(close, blocked_writer_returns_partial_count_on_close)
{
	struct gc_op *op = &self->ops[0];
	int fd = gc_make(self->dev, 8, 1);
	struct gochan_stat st;
	uint64_t v;
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_WRITE;
	op->len = 24;
	memcpy(op->data, (uint64_t[]){ 1, 2, 3 }, 24);
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	/* The first element fills the ring; the writer blocks on the
	 * second. */
	ASSERT_EQ(0, gc_wait_waiters_st(fd, 1, 0, &st));
	EXPECT_EQ(1, st.len);
	/* A close after some elements were taken returns their byte count. */
	ASSERT_EQ(0, gc_close_chan(fd));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(8, op->ret);
	/* Exactly those are receivable, then end-of-channel. */
	ASSERT_EQ(8, gc_read(fd, &v, 8));
	EXPECT_EQ(1, v);
	EXPECT_EQ(0, gc_read(fd, &v, 8));
	close(fd);
}

TEST_F(close, blocked_receiver_woken_with_eof)
{
	static const uint32_t caps[] = { 0, 4 };

	for (size_t c = 0; c < ARRAY_SIZE(caps); c++) {
		struct gc_op *rd = &self->ops[2 * c], *rv = &self->ops[2 * c + 1];
		int fd = gc_make(self->dev, 8, caps[c]);
		pid_t p1, p2;

		ASSERT_LE(0, fd);
		rd->fd = fd;
		rd->kind = GC_OP_READ;
		rd->len = 8;
		rv->fd = fd;
		rv->kind = GC_OP_RECV;
		rv->val = 0x5a5a5a5a;
		p1 = gc_spawn_op(rd);
		ASSERT_LT(0, p1);
		p2 = gc_spawn_op(rv);
		ASSERT_LT(0, p2);
		ASSERT_EQ(0, gc_wait_waiters(fd, 0, 2));
		/* Close wakes a blocked read(2), which returns 0... */
		ASSERT_EQ(0, gc_close_chan(fd));
		ASSERT_EQ(0, gc_reap(p1));
		ASSERT_EQ(0, gc_reap(p2));
		EXPECT_EQ(0, rd->ret) TH_LOG("capacity %u", caps[c]);
		/* ...and a blocked GOCHAN_IOC_RECV, which succeeds with
		 * ok = 0 and leaves buf alone. */
		EXPECT_EQ(0, rv->ret);
		EXPECT_EQ(0, rv->ok);
		EXPECT_EQ(0x5a5a5a5a, rv->val);
		close(fd);
	}
}

TEST_F(close, all_blocked_receivers_woken)
{
	const int n = 6;
	int fd = gc_make(self->dev, 8, 2);
	pid_t pids[6];

	ASSERT_LE(0, fd);
	for (int i = 0; i < n; i++) {
		self->ops[i].fd = fd;
		self->ops[i].kind = i % 2 ? GC_OP_READ : GC_OP_RECV;
		self->ops[i].len = 8;
		pids[i] = gc_spawn_op(&self->ops[i]);
		ASSERT_LT(0, pids[i]);
	}
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, n));
	/* One close wakes every blocked receiver, each seeing the end. */
	ASSERT_EQ(0, gc_close_chan(fd));
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, gc_reap(pids[i])) TH_LOG("receiver %d", i);
		EXPECT_EQ(0, self->ops[i].ret);
		if (self->ops[i].kind == GC_OP_RECV) {
			EXPECT_EQ(0, self->ops[i].ok);
		}
	}
	EXPECT_EQ(0, gc_wait_waiters(fd, 0, 0));
	close(fd);
}

TEST_F(close, receivers_drain_ring_then_see_eof)
{
	int fd = gc_make(self->dev, 8, 4);
	uint64_t v, buf[4];
	struct gochan_stat st;
	uint32_t ok;

	ASSERT_LE(0, fd);
	for (uint64_t i = 1; i <= 3; i++) {
		ASSERT_EQ(0, gc_send_u64(fd, i, 0));
	}
	ASSERT_EQ(0, gc_close_chan(fd));
	/* A closed channel still hands out what it buffered, in order,
	 * through both interfaces... */
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(1, v);
	ASSERT_EQ(16, gc_read(fd, buf, sizeof(buf)));
	EXPECT_EQ(2, buf[0]);
	EXPECT_EQ(3, buf[1]);
	/* ...then read(2) returns 0, without blocking, every time... */
	EXPECT_EQ(0, gc_read(fd, buf, 8));
	EXPECT_EQ(0, gc_read(fd, buf, 8));
	/* ...and RECV says ok = 0 (blocking or not), buf untouched. */
	v = 0xfeed;
	ok = 9;
	EXPECT_EQ(0, gc_recv(fd, &v, &ok, 0));
	EXPECT_EQ(0, ok);
	EXPECT_EQ(0xfeed, v);
	ok = 9;
	EXPECT_EQ(0, gc_recv(fd, &v, &ok, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0, ok);
	/* STAT reports it closed and drained. */
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(GOCHAN_STAT_CLOSED, st.flags & GOCHAN_STAT_CLOSED);
	EXPECT_EQ(0, st.len);
	EXPECT_EQ(3, st.received);
	close(fd);
}

TEST_F(close, closed_unbuffered_recv_returns_eof_at_once)
{
	int fd = gc_make(self->dev, 8, 0);
	uint64_t v;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_close_chan(fd));
	/* Nothing to drain: a blocking read returns 0 at once. */
	EXPECT_EQ(0, gc_read(fd, &v, 8));
	EXPECT_EQ(GC_CLOSED, gc_recv_u64(fd, &v, 0));
	close(fd);
}

TEST_F(close, second_close_fails_with_epipe)
{
	int fd = gc_make(self->dev, 8, 1);
	struct gochan_stat st;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_stat(fd, &st));
	/* An open channel reports no CLOSED flag. */
	EXPECT_EQ(0, st.flags);
	EXPECT_EQ(0, gc_close_chan(fd));
	/* Closing a closed channel is Go's panic: EPIPE. */
	EXPECT_EQ(-EPIPE, gc_close_chan(fd));
	EXPECT_EQ(-EPIPE, gc_close_chan(fd));
	close(fd);
}

TEST_F(close, send_after_close_fails_with_epipe)
{
	int fd = gc_make(self->dev, 8, 4);
	struct gochan_stat st;
	uint64_t v = 1;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_close_chan(fd));
	/* Every send to a closed channel fails with EPIPE, even with room in
	 * the ring, blocking or not, by ioctl or write(2)... */
	EXPECT_EQ(-EPIPE, gc_send_u64(fd, 1, 0));
	EXPECT_EQ(-EPIPE, gc_send_u64(fd, 1, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(-EPIPE, gc_write(fd, &v, 8));
	/* ...and nothing is buffered. */
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(0, st.len);
	EXPECT_EQ(0, st.sent);

	/* A signal channel too. */
	int sig = gc_make(self->dev, 0, 0);

	ASSERT_LE(0, sig);
	ASSERT_EQ(0, gc_close_chan(sig));
	EXPECT_EQ(-EPIPE, gc_send(sig, NULL, 0));
	close(sig);
	close(fd);
}

TEST_F(close, nonzero_argument_is_einval)
{
	int fd = gc_make(self->dev, 8, 1);
	struct gochan_stat st;

	ASSERT_LE(0, fd);
	/* The argument must be 0: anything else is EINVAL... */
	EXPECT_EQ(-EINVAL, gc_err(ioctl(fd, GOCHAN_IOC_CLOSE, 1)));
	EXPECT_EQ(-EINVAL, gc_err(ioctl(fd, GOCHAN_IOC_CLOSE, &st)));
	/* ...and does not close the channel. */
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(0, st.flags);
	EXPECT_EQ(0, gc_send_u64(fd, 1, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0, gc_close_chan(fd));
	close(fd);
}

TEST_F(close, close_by_another_process_is_seen_by_all)
{
	int fd = gc_make(self->dev, 8, 0);
	struct gc_op *op = &self->ops[0];
	pid_t pid, closer;
	uint64_t v;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_RECV;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	closer = gc_fork();
	ASSERT_LE(0, closer);
	if (closer == 0)
		_exit(gc_close_chan(fd) ? 1 : 0);
	/* A close through another process's fd wakes our receiver too... */
	ASSERT_EQ(0, gc_reap(closer));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, op->ret);
	EXPECT_EQ(0, op->ok);
	/* ...and is visible through ours. */
	EXPECT_EQ(GC_CLOSED, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(-EPIPE, gc_close_chan(fd));
	close(fd);
}

TEST_F(close, closing_an_fd_does_not_close_the_channel)
{
	int fd = gc_make(self->dev, 8, 2);
	int dup_fd;
	struct gochan_stat st;
	uint64_t v;

	ASSERT_LE(0, fd);
	dup_fd = dup(fd);
	ASSERT_LE(0, dup_fd);
	ASSERT_EQ(0, gc_send_u64(fd, 9, 0));
	/* close(2) of one fd is not GOCHAN_IOC_CLOSE: the channel stays open
	 * and keeps its elements for the other fd. */
	close(fd);
	ASSERT_EQ(0, gc_stat(dup_fd, &st));
	EXPECT_EQ(0, st.flags);
	EXPECT_EQ(1, st.len);
	EXPECT_EQ(0, gc_send_u64(dup_fd, 10, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0, gc_recv_u64(dup_fd, &v, 0));
	EXPECT_EQ(9, v);
	close(dup_fd);
}

TEST_HARNESS_MAIN
