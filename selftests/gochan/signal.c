// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a signal during a blocked channel call, as for a pipe: with
 * no SA_RESTART the call fails with EINTR and moves nothing (the value a
 * sender was blocked with is not delivered, a receiver takes nothing); with
 * SA_RESTART it is restarted and completes once.  A write that already sent
 * some elements returns their count.  A restarted deadline stays absolute.
 * Variants cover GOCHAN_IOC_SEND, GOCHAN_IOC_RECV, write(2) and read(2).
 */
#include "helpers.h"

static volatile int *hits;	/* shared: signals handled by the helper */

static void on_sigusr1(int sig)
{
	(void)sig;
	__atomic_add_fetch(hits, 1, __ATOMIC_SEQ_CST);
}

/* In a helper: install the SIGUSR1 handler, with or without SA_RESTART. */
static void catch_sigusr1(bool restart)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGUSR1, &sa, NULL);
}

/* Wait until the helper has handled n signals. */
static int wait_hits(int n)
{
	int64_t end = now_ns() + GC_WAIT_MS * 1000000LL;

	while (__atomic_load_n(hits, __ATOMIC_SEQ_CST) < n) {
		if (now_ns() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

/* Fork a helper that catches SIGUSR1 and runs op. */
static pid_t spawn_catching(struct gc_op *op, bool restart)
{
	pid_t pid = gc_fork();

	if (pid == 0) {
		catch_sigusr1(restart);
		gc_run_op(op);
		_exit(0);
	}
	return pid;
}

FIXTURE(sig) {
	int dev;
	int fd;		/* unbuffered, elem 8 */
	struct gc_op *op;
	bool sends;	/* the variant's call is a send */
};

FIXTURE_VARIANT(sig) {
	enum gc_op_kind kind;
};

FIXTURE_VARIANT_ADD(sig, ioctl_send) { .kind = GC_OP_SEND };
FIXTURE_VARIANT_ADD(sig, ioctl_recv) { .kind = GC_OP_RECV };
FIXTURE_VARIANT_ADD(sig, write) { .kind = GC_OP_WRITE };
FIXTURE_VARIANT_ADD(sig, read) { .kind = GC_OP_READ };

FIXTURE_SETUP(sig)
{
	GC_SETUP_DEV(self->dev);
	self->fd = gc_make(self->dev, 8, 0);
	ASSERT_LE(0, self->fd);
	self->op = gc_ops(1);
	hits = gc_shared(sizeof(*hits));
	ASSERT_NE(NULL, self->op);
	ASSERT_NE(NULL, hits);
	self->op->fd = self->fd;
	self->op->kind = variant->kind;
	self->op->len = 8;
	self->op->val = 0x51;
	memcpy(self->op->data, &(uint64_t){ 0x51 }, 8);
	self->sends = variant->kind == GC_OP_SEND ||
		      variant->kind == GC_OP_WRITE;
}

FIXTURE_TEARDOWN(sig)
{
	close(self->fd);
	close(self->dev);
}

TEST_F(sig, without_sa_restart_fails_eintr_and_moves_nothing)
{
	struct gochan_stat st;
	uint64_t v;
	pid_t pid;

	pid = spawn_catching(self->op, false);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(self->fd, self->sends, !self->sends));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, gc_reap(pid));
	/* The handler ran and the blocked call failed with EINTR. */
	EXPECT_EQ(1, *hits);
	EXPECT_EQ(-EINTR, self->op->ret);
	/* It left the queue and moved nothing. */
	ASSERT_EQ(0, gc_stat(self->fd, &st));
	EXPECT_EQ(0, st.send_waiters);
	EXPECT_EQ(0, st.recv_waiters);
	EXPECT_EQ(0, st.sent);
	EXPECT_EQ(0, st.received);
	/* A partner arriving now finds nobody: the interrupted sender's value
	 * is not delivered, the interrupted receiver takes nothing. */
	if (self->sends) {
		EXPECT_EQ(-EAGAIN, gc_recv_u64(self->fd, &v,
					       GOCHAN_XFER_NONBLOCK));
	} else {
		EXPECT_EQ(-EAGAIN, gc_send_u64(self->fd, 9,
					       GOCHAN_XFER_NONBLOCK));
	}
}

TEST_F(sig, with_sa_restart_restarts_and_completes)
{
	struct gochan_stat st;
	uint64_t v = 0, got;
	pid_t pid;

	pid = spawn_catching(self->op, true);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(self->fd, self->sends, !self->sends));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	/* The handler runs, then the call is restarted: it waits again
	 * rather than returning. */
	ASSERT_EQ(0, wait_hits(1));
	ASSERT_EQ(0, gc_wait_waiters(self->fd, self->sends, !self->sends));
	EXPECT_EQ(0, self->op->done);
	/* The partner completes it once. */
	if (self->sends) {
		ASSERT_EQ(0, gc_recv_u64(self->fd, &v, 0));
		EXPECT_EQ(0x51, v);
	} else {
		ASSERT_EQ(0, gc_send_u64(self->fd, 0x52, 0));
	}
	ASSERT_EQ(0, gc_reap(pid));
	switch (variant->kind) {
	case GC_OP_SEND:
		EXPECT_EQ(0, self->op->ret);
		break;
	case GC_OP_RECV:
		EXPECT_EQ(0, self->op->ret);
		EXPECT_EQ(1, self->op->ok);
		EXPECT_EQ(0x52, self->op->val);
		break;
	case GC_OP_WRITE:
		EXPECT_EQ(8, self->op->ret);
		break;
	case GC_OP_READ:
		EXPECT_EQ(8, self->op->ret);
		memcpy(&got, self->op->data, 8);
		EXPECT_EQ(0x52, got);
		break;
	}
	/* Exactly one element moved: no duplicate from the restart. */
	ASSERT_EQ(0, gc_stat(self->fd, &st));
	EXPECT_EQ(1, st.sent);
	EXPECT_EQ(1, st.received);
	EXPECT_EQ(0, st.send_waiters);
	EXPECT_EQ(0, st.recv_waiters);
}

FIXTURE(sigmisc) {
	int dev;
	struct gc_op *op;
};

FIXTURE_SETUP(sigmisc)
{
	GC_SETUP_DEV(self->dev);
	self->op = gc_ops(1);
	hits = gc_shared(sizeof(*hits));
	ASSERT_NE(NULL, self->op);
	ASSERT_NE(NULL, hits);
}

FIXTURE_TEARDOWN(sigmisc)
{
	close(self->dev);
}

static void partial_write_on_signal(struct __test_metadata *_metadata,
				    int dev, struct gc_op *op, bool restart)
{
	int fd = gc_make(dev, 8, 2);
	struct gochan_stat st;
	uint64_t in[4] = { 0 };
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_WRITE;
	op->len = 32;
	memcpy(op->data, (uint64_t[]){ 1, 2, 3, 4 }, 32);
	pid = spawn_catching(op, restart);
	ASSERT_LT(0, pid);
	/* Two elements fill the ring; the writer blocks on the third. */
	ASSERT_EQ(0, gc_wait_waiters_st(fd, 1, 0, &st));
	EXPECT_EQ(2, st.len);
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, gc_reap(pid));
	/* Some elements were taken, so the write returns their byte count
	 * (with or without SA_RESTART, as a pipe's)... */
	EXPECT_EQ(1, *hits);
	EXPECT_EQ(16, op->ret);
	/* ...and exactly those are in the channel: the third element was
	 * not sent. */
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(2, st.len);
	EXPECT_EQ(2, st.sent);
	EXPECT_EQ(0, st.send_waiters);
	ASSERT_EQ(16, gc_read(fd, in, sizeof(in)));
	EXPECT_EQ(1, in[0]);
	EXPECT_EQ(2, in[1]);
	EXPECT_EQ(-EAGAIN, gc_recv_u64(fd, in, GOCHAN_XFER_NONBLOCK));
	close(fd);
}

TEST_F(sigmisc, write_partial_on_signal_returns_count)
{
	partial_write_on_signal(_metadata, self->dev, self->op, false);
}

TEST_F(sigmisc, write_partial_on_signal_with_sa_restart_returns_count)
{
	partial_write_on_signal(_metadata, self->dev, self->op, true);
}

TEST_F(sigmisc, unbuffered_write_partial_on_signal)
{
	int fd = gc_make(self->dev, 8, 0);
	struct gc_op *op = self->op;
	struct gochan_stat st;
	uint64_t v = 0;
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_WRITE;
	op->len = 24;
	memcpy(op->data, (uint64_t[]){ 7, 8, 9 }, 24);
	pid = spawn_catching(op, false);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	ASSERT_EQ(8, gc_read(fd, &v, 8));
	EXPECT_EQ(7, v);
	/* The writer is blocked on its second element. */
	ASSERT_EQ(0, gc_wait_waiters_st(fd, 1, 0, &st));
	EXPECT_EQ(1, st.sent);
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, gc_reap(pid));
	/* One element was received: the write returns 8, and the second
	 * element is not delivered to anybody. */
	EXPECT_EQ(8, op->ret);
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(1, st.sent);
	EXPECT_EQ(0, st.send_waiters);
	EXPECT_EQ(-EAGAIN, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	close(fd);
}

TEST_F(sigmisc, restart_keeps_absolute_deadline)
{
	int fd = gc_make(self->dev, 8, 0);
	struct gc_op *op = self->op;
	int64_t deadline, end;
	pid_t pid;
	int sent = 0;

	ASSERT_LE(0, fd);
	deadline = now_ns() + 400 * 1000000LL;
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		catch_sigusr1(true);
		op->ret = gc_recv_dl(fd, &op->val, &op->ok,
				     GOCHAN_XFER_DEADLINE, deadline);
		__atomic_store_n(&op->done, 1, __ATOMIC_RELEASE);
		_exit(0);
	}
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	/* Interrupt the wait over and over with a restarting handler.  Were
	 * each restart to start a fresh relative timeout, the call would
	 * never end while signals keep coming. */
	end = now_ns() + GC_WAIT_MS * 1000000LL;
	while (!__atomic_load_n(&op->done, __ATOMIC_ACQUIRE) &&
	       now_ns() < end) {
		kill(pid, SIGUSR1);
		sent++;
		gc_sleep_ms(20);
	}
	/* The call ended, with ETIMEDOUT, while signals were still coming,
	 * and not before its deadline. */
	EXPECT_EQ(1, op->done) TH_LOG("still waiting after %d signals", sent);
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(-ETIMEDOUT, op->ret);
	EXPECT_LE(deadline, now_ns());
	EXPECT_LE(1, *hits);
	close(fd);
}

TEST_F(sigmisc, killed_blocked_sender_delivers_nothing)
{
	int fd = gc_make(self->dev, 8, 0);
	struct gc_op *op = self->op;
	struct gochan_stat st;
	uint64_t v;
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_SEND;
	op->val = 13;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	/* A sender killed while blocked leaves the queue... */
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, gc_reap(pid));
	ASSERT_EQ(0, gc_wait_waiters_st(fd, 0, 0, &st));
	/* ...and its value was never sent. */
	EXPECT_EQ(0, st.sent);
	EXPECT_EQ(-EAGAIN, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	close(fd);
}

TEST_F(sigmisc, killed_blocked_receiver_takes_nothing)
{
	int fd = gc_make(self->dev, 8, 2);
	struct gc_op *op = self->op;
	struct gochan_stat st;
	uint64_t v = 0;
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_RECV;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, gc_reap(pid));
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 0));
	/* A later send is not handed to the dead receiver: it waits in the
	 * ring for the next one. */
	ASSERT_EQ(0, gc_send_u64(fd, 14, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(1, st.len);
	EXPECT_EQ(0, st.received);
	ASSERT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(14, v);
	close(fd);
}

TEST_HARNESS_MAIN
