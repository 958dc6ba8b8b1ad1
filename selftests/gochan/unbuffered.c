// SPDX-License-Identifier: GPL-2.0
/*
 * Description: unbuffered channels (capacity 0), Go's rendezvous: a send
 * completes only once a receiver has taken the value; a receiver already
 * waiting is handed the value directly, and so is a sender already waiting
 * when a receiver arrives.  Both the ioctls and read/write are exercised.
 */
#include "helpers.h"

FIXTURE(unbuf) {
	int dev;
	int fd;			/* elem 8, capacity 0 */
	struct gc_op *ops;	/* shared with helper processes */
};

FIXTURE_SETUP(unbuf)
{
	GC_SETUP_DEV(self->dev);
	self->fd = gc_make(self->dev, 8, 0);
	ASSERT_LE(0, self->fd);
	self->ops = gc_ops(4);
	ASSERT_NE(NULL, self->ops);
}

FIXTURE_TEARDOWN(unbuf)
{
	close(self->fd);
	close(self->dev);
}

TEST_F(unbuf, send_blocks_until_received)
{
	struct gc_op *op = &self->ops[0];
	struct gochan_stat st;
	uint64_t v = 0;
	pid_t pid;

	op->fd = self->fd;
	op->kind = GC_OP_SEND;
	op->val = 0xabcdef;
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		gc_run_op(op);
		_exit(0);
	}
	/* With no receiver, the sender blocks: it shows as a send waiter... */
	ASSERT_EQ(0, gc_wait_waiters_st(self->fd, 1, 0, &st));
	/* ...has not returned, and nothing counts as sent or buffered. */
	EXPECT_EQ(0, op->done);
	EXPECT_TRUE(gc_running(pid));
	EXPECT_EQ(0, st.sent);
	EXPECT_EQ(0, st.len);
	/* A receiver takes the value the sender was blocked with... */
	ASSERT_EQ(0, gc_recv_u64(self->fd, &v, 0));
	EXPECT_EQ(0xabcdef, v);
	/* ...which lets the send complete successfully. */
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(1, op->done);
	EXPECT_EQ(0, op->ret);
	ASSERT_EQ(0, gc_stat(self->fd, &st));
	EXPECT_EQ(1, st.sent);
	EXPECT_EQ(1, st.received);
	EXPECT_EQ(0, st.send_waiters);
}

TEST_F(unbuf, recv_blocks_until_sent)
{
	struct gc_op *op = &self->ops[0];
	struct gochan_stat st;
	pid_t pid;

	op->fd = self->fd;
	op->kind = GC_OP_RECV;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	/* With no sender, the receiver blocks as a receive waiter. */
	ASSERT_EQ(0, gc_wait_waiters_st(self->fd, 0, 1, &st));
	EXPECT_EQ(0, op->done);
	EXPECT_EQ(0, st.received);
	ASSERT_EQ(0, gc_send_u64(self->fd, 77, 0));
	/* The sender's value reaches the receiver with ok = 1. */
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, op->ret);
	EXPECT_EQ(1, op->ok);
	EXPECT_EQ(77, op->val);
}

TEST_F(unbuf, waiting_receiver_gets_value_handed_directly)
{
	struct gc_op *op = &self->ops[0];
	struct gochan_stat st;
	pid_t pid;

	op->fd = self->fd;
	op->kind = GC_OP_RECV;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(self->fd, 0, 1));
	/* A receiver is waiting, so a send needs no blocking at all: even a
	 * non-blocking send completes, handing the value over directly. */
	ASSERT_EQ(0, gc_send_u64(self->fd, 0x5151, GOCHAN_XFER_NONBLOCK));
	/* Nothing went through a ring (there is none). */
	ASSERT_EQ(0, gc_stat(self->fd, &st));
	EXPECT_EQ(0, st.len);
	EXPECT_EQ(1, st.sent);
	EXPECT_EQ(1, st.received);
	EXPECT_EQ(0, st.recv_waiters);
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, op->ret);
	EXPECT_EQ(1, op->ok);
	EXPECT_EQ(0x5151, op->val);
}

TEST_F(unbuf, waiting_sender_hands_value_to_arriving_receiver)
{
	struct gc_op *op = &self->ops[0];
	uint64_t v = 0;
	pid_t pid;

	op->fd = self->fd;
	op->kind = GC_OP_SEND;
	op->val = 0x7777;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(self->fd, 1, 0));
	/* A sender is waiting, so even a non-blocking receive gets its
	 * value. */
	ASSERT_EQ(0, gc_recv_u64(self->fd, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0x7777, v);
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, op->ret);
}

TEST_F(unbuf, nothing_moves_without_a_partner)
{
	uint64_t v = 1;
	struct gochan_stat st;

	/* No receiver: a non-blocking send would block, EAGAIN (an
	 * unbuffered channel never stores a value)... */
	EXPECT_EQ(-EAGAIN, gc_send_u64(self->fd, 1, GOCHAN_XFER_NONBLOCK));
	/* ...and so no value is there for a receiver either. */
	EXPECT_EQ(-EAGAIN, gc_recv_u64(self->fd, &v, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_stat(self->fd, &st));
	EXPECT_EQ(0, st.sent);
	EXPECT_EQ(0, st.received);
	EXPECT_EQ(0, st.capacity);
}

TEST_F(unbuf, two_processes_rendezvous)
{
	const int rounds = 200;
	int back = gc_make(self->dev, 8, 0);
	pid_t pid;

	ASSERT_LE(0, back);
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Echo each value + 1 on the other channel. */
		for (int i = 0; i < rounds; i++) {
			uint64_t v;

			if (gc_recv_u64(self->fd, &v, 0))
				_exit(1);
			if (gc_send_u64(back, v + 1, 0))
				_exit(2);
		}
		_exit(0);
	}
	for (int i = 0; i < rounds; i++) {
		uint64_t v = 0;

		/* Each ping is taken by the other process and answered:
		 * every round trip carries its own value, in order. */
		ASSERT_EQ(0, gc_send_u64(self->fd, i * 2, 0));
		ASSERT_EQ(0, gc_recv_u64(back, &v, 0));
		ASSERT_EQ(i * 2 + 1, v);
	}
	ASSERT_EQ(0, gc_reap(pid));
	close(back);
}

TEST_F(unbuf, write_blocks_until_read)
{
	struct gc_op *op = &self->ops[0];
	uint64_t v = 0;
	pid_t pid;

	op->fd = self->fd;
	op->kind = GC_OP_WRITE;
	op->len = 8;
	memcpy(op->data, &(uint64_t){ 0x9999 }, 8);
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	/* write(2) with no reader blocks as a send waiter. */
	ASSERT_EQ(0, gc_wait_waiters(self->fd, 1, 0));
	EXPECT_EQ(0, op->done);
	/* read(2) takes the value; the write returns its full length. */
	ASSERT_EQ(8, gc_read(self->fd, &v, 8));
	EXPECT_EQ(0x9999, v);
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(8, op->ret);
}

TEST_F(unbuf, multi_element_write_delivered_to_successive_reads)
{
	struct gc_op *op = &self->ops[0];
	uint64_t vals[4] = { 11, 22, 33, 44 };
	struct gochan_stat st;
	pid_t pid;

	op->fd = self->fd;
	op->kind = GC_OP_WRITE;
	op->len = sizeof(vals);
	memcpy(op->data, vals, sizeof(vals));
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;

		/* The writer waits with its remaining elements... */
		ASSERT_EQ(0, gc_wait_waiters_st(self->fd, 1, 0, &st));
		/* ...each one counting as sent only once read. */
		EXPECT_EQ(i, st.sent);
		EXPECT_EQ(0, op->done) TH_LOG("write returned after %d reads", i);
		/* Successive one-element reads get the elements in order. */
		ASSERT_EQ(8, gc_read(self->fd, &v, 8));
		EXPECT_EQ(vals[i], v);
	}
	/* After the last one is taken, write returns the whole length. */
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(sizeof(vals), op->ret);
	ASSERT_EQ(0, gc_stat(self->fd, &st));
	EXPECT_EQ(4, st.sent);
	EXPECT_EQ(4, st.received);
}

TEST_F(unbuf, multi_element_read_takes_from_blocked_writer)
{
	struct gc_op *op = &self->ops[0];
	uint64_t vals[3] = { 5, 6, 7 }, got[3] = { 0 };
	size_t have = 0;
	pid_t pid;

	op->fd = self->fd;
	op->kind = GC_OP_WRITE;
	op->len = sizeof(vals);
	memcpy(op->data, vals, sizeof(vals));
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(self->fd, 1, 0));
	while (have < 3) {
		/* A blocked writer's elements are available: a large read
		 * returns at least one whole element, in order. */
		long n = gc_read(self->fd, got + have, (3 - have) * 8);

		ASSERT_LT(0, n);
		ASSERT_EQ(0, n % 8);
		have += n / 8;
	}
	EXPECT_EQ(0, memcmp(vals, got, sizeof(vals)));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(sizeof(vals), op->ret);
}

TEST_F(unbuf, signal_channel_rendezvous)
{
	struct gc_op *op = &self->ops[0];
	int sig = gc_make(self->dev, 0, 0);
	uint32_t ok = 0;
	pid_t pid;

	ASSERT_LE(0, sig);
	op->fd = sig;
	op->kind = GC_OP_SEND;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	/* A chan struct{} send blocks until received, like any other. */
	ASSERT_EQ(0, gc_wait_waiters(sig, 1, 0));
	EXPECT_EQ(0, op->done);
	ASSERT_EQ(0, gc_recv(sig, NULL, &ok, 0));
	EXPECT_EQ(1, ok);
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, op->ret);
	close(sig);
}

TEST_F(unbuf, large_elements_arrive_intact)
{
	unsigned long long max_elem = 65536;
	uint32_t size;
	unsigned char *out, *in;
	int fd;
	pid_t pid;

	gc_param("max_elem_size", &max_elem);
	size = max_elem < 65536 ? max_elem : 65536;
	if (size < 2)
		SKIP(return, "max_elem_size %llu", max_elem);
	fd = gc_make(self->dev, size, 0);
	ASSERT_LE(0, fd);
	out = gc_shared(size);
	in = malloc(size);
	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	for (uint32_t i = 0; i < size; i++)
		out[i] = (unsigned char)(i ^ (i >> 8));
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(gc_write(fd, out, size) == size ? 0 : 1);
	/* A max-size element read by another process arrives byte for
	 * byte. */
	ASSERT_EQ(size, gc_read(fd, in, size));
	EXPECT_EQ(0, memcmp(in, out, size));
	ASSERT_EQ(0, gc_reap(pid));
	close(fd);
}

TEST_F(unbuf, blocked_readers_served_in_arrival_order)
{
	const int n = 3;
	int fd = self->fd;
	pid_t pids[3];

	for (int i = 0; i < n; i++) {
		self->ops[i].fd = fd;
		self->ops[i].kind = GC_OP_READ;
		self->ops[i].len = 8;
		pids[i] = gc_spawn_op(&self->ops[i]);
		ASSERT_LT(0, pids[i]);
		ASSERT_EQ(0, gc_wait_waiters(fd, 0, i + 1));
	}
	/* One write of n elements feeds the waiting readers oldest first:
	 * each gets one element, the first reader the first element. */
	ASSERT_EQ(8 * n, gc_write(fd, (uint64_t[]){ 300, 301, 302 }, 8 * n));
	for (int i = 0; i < n; i++) {
		uint64_t v;

		ASSERT_EQ(0, gc_reap(pids[i]));
		EXPECT_EQ(8, self->ops[i].ret);
		memcpy(&v, self->ops[i].data, 8);
		EXPECT_EQ(300 + i, v) TH_LOG("reader %d", i);
	}
}

TEST_HARNESS_MAIN
