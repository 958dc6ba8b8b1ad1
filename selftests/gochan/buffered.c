// SPDX-License-Identifier: GPL-2.0
/*
 * Description: buffered channels: a FIFO ring of capacity elements; len and
 * cap as Go's; blocked senders and blocked receivers are each served in
 * arrival order; a receiver that frees a slot moves the oldest blocked
 * sender's element into it, so a newcomer never overtakes a blocked sender.
 */
#include "helpers.h"

GC_OPS_FIXTURE(buf, 8);

TEST_F(buf, ring_keeps_fifo_order_across_wraparound)
{
	int fd = gc_make(self->dev, 8, 3);
	uint64_t next_send = 0, next_recv = 0, v;

	ASSERT_LE(0, fd);
	/* Interleave sends and receives so head and tail wrap many times:
	 * every element comes out in the order it went in. */
	for (int round = 0; round < 50; round++) {
		int nsend = 1 + round % 3, nrecv = 1 + (round + 1) % 3;

		for (int i = 0; i < nsend; i++) {
			int ret = gc_send_u64(fd, next_send,
					      GOCHAN_XFER_NONBLOCK);

			if (ret == -EAGAIN)
				break;
			ASSERT_EQ(0, ret);
			next_send++;
		}
		for (int i = 0; i < nrecv && next_recv < next_send; i++) {
			ASSERT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
			ASSERT_EQ(next_recv, v);
			next_recv++;
		}
	}
	while (next_recv < next_send) {
		ASSERT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
		ASSERT_EQ(next_recv, v);
		next_recv++;
	}
	ASSERT_LT(60, next_recv);
	close(fd);
}

TEST_F(buf, len_and_cap_follow_sends_and_receives)
{
	int fd = gc_make(self->dev, 8, 4);
	struct gochan_stat st;
	uint64_t v;

	ASSERT_LE(0, fd);
	for (int i = 1; i <= 4; i++) {
		ASSERT_EQ(0, gc_send_u64(fd, i, GOCHAN_XFER_NONBLOCK));
		/* len counts buffered elements; cap stays the capacity. */
		ASSERT_EQ(0, gc_stat(fd, &st));
		EXPECT_EQ(i, st.len);
		EXPECT_EQ(4, st.capacity);
		EXPECT_EQ(i, st.sent);
		EXPECT_EQ(0, st.received);
	}
	/* A full ring refuses a non-blocking send, and len stays cap. */
	EXPECT_EQ(-EAGAIN, gc_send_u64(fd, 5, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(4, st.len);
	EXPECT_EQ(4, st.sent);
	for (int i = 1; i <= 4; i++) {
		ASSERT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
		EXPECT_EQ(i, v);
		ASSERT_EQ(0, gc_stat(fd, &st));
		EXPECT_EQ(4 - i, st.len);
		EXPECT_EQ(i, st.received);
	}
	/* An empty ring refuses a non-blocking receive. */
	EXPECT_EQ(-EAGAIN, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	close(fd);
}

TEST_F(buf, send_blocks_when_full_until_a_slot_frees)
{
	struct gc_op *op = &self->ops[0];
	int fd = gc_make(self->dev, 8, 2);
	struct gochan_stat st;
	uint64_t v;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_send_u64(fd, 1, 0));
	ASSERT_EQ(0, gc_send_u64(fd, 2, 0));
	op->fd = fd;
	op->kind = GC_OP_SEND;
	op->val = 3;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	/* A send into a full ring blocks. */
	ASSERT_EQ(0, gc_wait_waiters_st(fd, 1, 0, &st));
	EXPECT_EQ(0, op->done);
	EXPECT_EQ(2, st.len);
	/* A receive frees a slot; the blocked element moves into it and the
	 * sender returns. */
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(1, v);
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, op->ret);
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(2, st.len);
	EXPECT_EQ(0, st.send_waiters);
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(2, v);
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(3, v);
	close(fd);
}

TEST_F(buf, recv_blocks_when_empty_until_a_send)
{
	struct gc_op *op = &self->ops[0];
	int fd = gc_make(self->dev, 8, 2);
	struct gochan_stat st;
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_RECV;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	/* A receive from an empty ring blocks. */
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	EXPECT_EQ(0, op->done);
	ASSERT_EQ(0, gc_send_u64(fd, 42, 0));
	ASSERT_EQ(0, gc_reap(pid));
	/* The send's value goes to the waiting receiver, not into the ring. */
	EXPECT_EQ(0, op->ret);
	EXPECT_EQ(1, op->ok);
	EXPECT_EQ(42, op->val);
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(0, st.len);
	EXPECT_EQ(1, st.received);
	close(fd);
}

TEST_F(buf, blocked_senders_served_in_arrival_order)
{
	const int n = 4;
	int fd = gc_make(self->dev, 8, 1);
	pid_t pids[4];
	uint64_t v;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_send_u64(fd, 100, 0));
	/* Senders 0..n-1 block on the full ring one after the other (each
	 * is seen queued before the next starts). */
	for (int i = 0; i < n; i++) {
		self->ops[i].fd = fd;
		self->ops[i].kind = GC_OP_SEND;
		self->ops[i].val = 101 + i;
		pids[i] = gc_spawn_op(&self->ops[i]);
		ASSERT_LT(0, pids[i]);
		ASSERT_EQ(0, gc_wait_waiters(fd, i + 1, 0));
	}
	/* Receives get the buffered element, then the senders' values in
	 * the order the senders arrived. */
	for (int i = 0; i <= n; i++) {
		ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
		EXPECT_EQ(100 + i, v);
	}
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, gc_reap(pids[i]));
		EXPECT_EQ(0, self->ops[i].ret);
	}
	close(fd);
}

TEST_F(buf, newcomer_does_not_overtake_blocked_sender)
{
	int fd = gc_make(self->dev, 8, 1);
	struct gc_op *op = &self->ops[0];
	struct gochan_stat st;
	uint64_t v;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_send_u64(fd, 1, 0));
	op->fd = fd;
	op->kind = GC_OP_SEND;
	op->val = 2;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	/* Receiving the buffered element moves the blocked sender's element
	 * into the freed slot at once... */
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(1, v);
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(1, st.len);
	EXPECT_EQ(0, st.send_waiters);
	/* ...so a newcomer finds the ring full and cannot slip in ahead. */
	EXPECT_EQ(-EAGAIN, gc_send_u64(fd, 3, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(2, v);
	EXPECT_EQ(0, gc_reap(pid));
	close(fd);
}

TEST_F(buf, blocked_receivers_served_in_arrival_order)
{
	const int n = 4;
	int fd = gc_make(self->dev, 8, 2);
	pid_t pids[4];

	ASSERT_LE(0, fd);
	/* Receivers 0..n-1 block on the empty ring one after the other. */
	for (int i = 0; i < n; i++) {
		self->ops[i].fd = fd;
		self->ops[i].kind = GC_OP_RECV;
		pids[i] = gc_spawn_op(&self->ops[i]);
		ASSERT_LT(0, pids[i]);
		ASSERT_EQ(0, gc_wait_waiters(fd, 0, i + 1));
	}
	/* Each send goes to the oldest waiting receiver. */
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, gc_send_u64(fd, 200 + i, 0));
		ASSERT_EQ(0, gc_wait_waiters(fd, 0, n - 1 - i));
	}
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, gc_reap(pids[i]));
		EXPECT_EQ(0, self->ops[i].ret);
		EXPECT_EQ(1, self->ops[i].ok);
		EXPECT_EQ(200 + i, self->ops[i].val) TH_LOG("receiver %d", i);
	}
	close(fd);
}

TEST_HARNESS_MAIN
