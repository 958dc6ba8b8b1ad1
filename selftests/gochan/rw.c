// SPDX-License-Identifier: GPL-2.0
/*
 * Description: read(2)/write(2) on channels (whole elements, pipe-like
 * partial counts), faults on user buffers (EFAULT, nothing lost or
 * duplicated), non-blocking modes (O_NONBLOCK, RWF_NOWAIT, the ioctls'
 * GOCHAN_XFER_NONBLOCK) and GOCHAN_XFER_DEADLINE.
 */
#include "helpers.h"

#include <pthread.h>
#include <sys/uio.h>

GC_OPS_FIXTURE(rw, 4);

static uint32_t stat_len(int fd)
{
	struct gochan_stat st;

	return gc_stat(fd, &st) ? 0xffffffff : st.len;
}

TEST_F(rw, length_not_multiple_of_elem_size_is_einval)
{
	int fd = gc_make(self->dev, 8, 4);
	unsigned char buf[64] = { 0 };
	static const size_t lens[] = { 1, 7, 9, 12, 63 };

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_send_u64(fd, 1, 0));
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		/* Only whole elements move: any other length is EINVAL, for
		 * reads and writes alike... */
		EXPECT_EQ(-EINVAL, gc_read(fd, buf, lens[i])) TH_LOG("%zu", lens[i]);
		EXPECT_EQ(-EINVAL, gc_write(fd, buf, lens[i])) TH_LOG("%zu", lens[i]);
	}
	/* ...and nothing moved. */
	EXPECT_EQ(1, stat_len(fd));
	close(fd);

	/* With an odd element size, multiples work and others do not. */
	fd = gc_make(self->dev, 3, 4);
	ASSERT_LE(0, fd);
	EXPECT_EQ(6, gc_write(fd, "abcdef", 6));
	EXPECT_EQ(-EINVAL, gc_write(fd, "abcd", 4));
	EXPECT_EQ(-EINVAL, gc_read(fd, buf, 4));
	EXPECT_EQ(3, gc_read(fd, buf, 3));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	close(fd);
}

TEST_F(rw, zero_length_returns_zero_at_once)
{
	int fd = gc_make(self->dev, 8, 0);
	uint64_t v;

	ASSERT_LE(0, fd);
	/* A length of 0 returns 0 at once, even where a one-element call
	 * would block (unbuffered, no partner). */
	EXPECT_EQ(0, gc_read(fd, &v, 0));
	EXPECT_EQ(0, gc_write(fd, &v, 0));
	close(fd);
}

TEST_F(rw, zero_length_on_a_signal_channel_returns_zero)
{
	int fd = gc_make(self->dev, 0, 4);
	struct iovec iov = { NULL, 0 };
	struct gochan_stat st;
	uint64_t v = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_send(fd, NULL, 0));
	/* A length of 0 returns 0 on a signal channel too: no element size
	 * to divide by is no reason to refuse a call that moves nothing. */
	EXPECT_EQ(0, gc_read(fd, &v, 0));
	EXPECT_EQ(0, gc_write(fd, &v, 0));
	/* readv / writev of no bytes at all, likewise. */
	EXPECT_EQ(0, gc_errl(readv(fd, &iov, 1)));
	EXPECT_EQ(0, gc_errl(writev(fd, &iov, 1)));
	/* Nothing was touched: the signal sent by ioctl is still there. */
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(1, st.len);
	EXPECT_EQ(1, st.sent);
	EXPECT_EQ(0, st.received);
	close(fd);
}

TEST_F(rw, zero_length_returns_zero_whatever_the_state)
{
	int full = gc_make(self->dev, 8, 1);
	int closed = gc_make(self->dev, 16, 2);
	uint64_t v = 7;

	ASSERT_LE(0, full);
	ASSERT_LE(0, closed);
	/* Full ring: a write of 0 bytes does not block, even without
	 * O_NONBLOCK, and sends nothing. */
	ASSERT_EQ(0, gc_send_u64(full, 1, 0));
	EXPECT_EQ(0, gc_write(full, &v, 0));
	EXPECT_EQ(1, stat_len(full));
	/* Closed channel: 0, not EPIPE, for a write of 0 bytes (a pipe
	 * without readers does the same), and 0 for a read of 0 bytes
	 * while an element is still buffered, which stays. */
	ASSERT_EQ(16, gc_write(closed, "0123456789abcdef", 16));
	ASSERT_EQ(0, gc_close_chan(closed));
	EXPECT_EQ(0, gc_write(closed, &v, 0));
	EXPECT_EQ(0, gc_read(closed, &v, 0));
	EXPECT_EQ(1, stat_len(closed));
	close(full);
	close(closed);
}

TEST_F(rw, signal_channel_read_write_is_einval)
{
	int fd = gc_make(self->dev, 0, 4);
	uint64_t v = 0;
	struct gochan_stat st;

	ASSERT_LE(0, fd);
	/* Element size 0: read/write of any length but 0 cannot count
	 * elements, EINVAL. */
	EXPECT_EQ(-EINVAL, gc_write(fd, &v, 8));
	EXPECT_EQ(-EINVAL, gc_write(fd, &v, 1));
	ASSERT_EQ(0, gc_send(fd, NULL, 0));
	EXPECT_EQ(-EINVAL, gc_read(fd, &v, 8));
	EXPECT_EQ(-EINVAL, gc_read(fd, &v, 1));
	/* The signal sent by ioctl is still there. */
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(1, st.len);
	EXPECT_EQ(1, st.sent);
	close(fd);
}

TEST_F(rw, multi_element_write_and_read_keep_order)
{
	int fd = gc_make(self->dev, 8, 8);
	uint64_t out[8], in[8] = { 0 };

	ASSERT_LE(0, fd);
	for (int i = 0; i < 8; i++)
		out[i] = 1000 + i;
	/* One write of several elements fills the ring in order... */
	ASSERT_EQ(sizeof(out), gc_write(fd, out, sizeof(out)));
	EXPECT_EQ(8, stat_len(fd));
	/* ...and reads of several elements take them in order. */
	ASSERT_EQ(24, gc_read(fd, in, 24));
	ASSERT_EQ(40, gc_read(fd, in + 3, 40));
	EXPECT_EQ(0, memcmp(out, in, sizeof(out)));
	close(fd);
}

TEST_F(rw, read_returns_what_is_available)
{
	int fd = gc_make(self->dev, 8, 4);
	uint64_t in[4] = { 0 };

	ASSERT_LE(0, fd);
	ASSERT_EQ(16, gc_write(fd, (uint64_t[]){ 1, 2 }, 16));
	/* A read asking for more than is buffered does not block: it
	 * returns the elements there are. */
	ASSERT_EQ(16, gc_read(fd, in, sizeof(in)));
	EXPECT_EQ(1, in[0]);
	EXPECT_EQ(2, in[1]);
	close(fd);
}

TEST_F(rw, read_takes_ring_then_blocked_senders)
{
	int fd = gc_make(self->dev, 8, 1);
	struct gc_op *op = &self->ops[0];
	uint64_t in[4] = { 0 };
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_send_u64(fd, 1, 0));
	op->fd = fd;
	op->kind = GC_OP_SEND;
	op->val = 2;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	/* Available without blocking: the ring's element, then the blocked
	 * sender's; a larger read takes both and returns. */
	ASSERT_EQ(16, gc_read(fd, in, sizeof(in)));
	EXPECT_EQ(1, in[0]);
	EXPECT_EQ(2, in[1]);
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, op->ret);
	close(fd);
}

TEST_F(rw, read_blocks_until_one_element)
{
	int fd = gc_make(self->dev, 8, 4);
	struct gc_op *op = &self->ops[0];
	uint64_t v;
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_READ;
	op->len = 32;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	/* A read on an empty channel blocks... */
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	EXPECT_EQ(0, op->done);
	/* ...until at least one element arrives; it then returns what it
	 * has, not waiting to fill its buffer. */
	v = 77;
	ASSERT_EQ(8, gc_write(fd, &v, 8));
	ASSERT_EQ(0, gc_reap(pid));
	ASSERT_LE(8, op->ret);
	memcpy(&v, op->data, 8);
	EXPECT_EQ(77, v);
	EXPECT_EQ(8, op->ret);
	close(fd);
}

TEST_F(rw, write_blocks_until_all_elements_sent)
{
	int fd = gc_make(self->dev, 8, 2);
	struct gc_op *op = &self->ops[0];
	uint64_t in[4];
	struct gochan_stat st;
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_WRITE;
	op->len = 32;
	memcpy(op->data, (uint64_t[]){ 1, 2, 3, 4 }, 32);
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	/* A write larger than the free space sends what fits, then blocks
	 * for the rest rather than returning a short count. */
	ASSERT_EQ(0, gc_wait_waiters_st(fd, 1, 0, &st));
	EXPECT_EQ(2, st.len);
	EXPECT_EQ(0, op->done);
	ASSERT_EQ(16, gc_read(fd, in, 16));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(32, op->ret);
	ASSERT_EQ(16, gc_read(fd, in + 2, 16));
	for (int i = 0; i < 4; i++) {
		EXPECT_EQ(i + 1, in[i]);
	}
	close(fd);
}

TEST_F(rw, nonblocking_write_sends_what_fits)
{
	int fd = gc_make_id(self->dev, 8, 2, GOCHAN_CREATE_NONBLOCK, NULL);
	uint64_t v[3] = { 1, 2, 3 };

	ASSERT_LE(0, fd);
	/* O_NONBLOCK: a write sends what it can without blocking and returns
	 * that count... */
	EXPECT_EQ(16, gc_write(fd, v, sizeof(v)));
	/* ...and fails with EAGAIN when it can send nothing. */
	EXPECT_EQ(-EAGAIN, gc_write(fd, v, 8));
	EXPECT_EQ(2, stat_len(fd));
	close(fd);
}

TEST_F(rw, nonblocking_read_and_write_fail_with_eagain)
{
	int fd = gc_make_id(self->dev, 8, 1, GOCHAN_CREATE_NONBLOCK, NULL);
	int ufd = gc_make_id(self->dev, 8, 0, GOCHAN_CREATE_NONBLOCK, NULL);
	uint64_t v = 5;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, ufd);
	/* Empty: O_NONBLOCK read fails with EAGAIN. */
	EXPECT_EQ(-EAGAIN, gc_read(fd, &v, 8));
	ASSERT_EQ(8, gc_write(fd, &v, 8));
	/* Full: O_NONBLOCK write fails with EAGAIN. */
	EXPECT_EQ(-EAGAIN, gc_write(fd, &v, 8));
	/* Unbuffered with no partner: both fail with EAGAIN. */
	EXPECT_EQ(-EAGAIN, gc_read(ufd, &v, 8));
	EXPECT_EQ(-EAGAIN, gc_write(ufd, &v, 8));
	/* O_NONBLOCK set later with fcntl counts too. */
	int bfd = gc_make(self->dev, 8, 1);

	ASSERT_LE(0, bfd);
	ASSERT_EQ(0, fcntl(bfd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-EAGAIN, gc_read(bfd, &v, 8));
	close(bfd);
	close(fd);
	close(ufd);
}

TEST_F(rw, nonblocking_write_hands_to_waiting_reader)
{
	int fd = gc_make_id(self->dev, 8, 0, GOCHAN_CREATE_NONBLOCK, NULL);
	struct gc_op *op = &self->ops[0];
	uint64_t v[2] = { 41, 42 };
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_RECV;	/* the ioctl blocks: O_NONBLOCK is not its */
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	/* Unbuffered, one receiver waiting: a non-blocking write of two
	 * elements gives it one and returns that count. */
	EXPECT_EQ(8, gc_write(fd, v, sizeof(v)));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, op->ret);
	EXPECT_EQ(41, op->val);
	close(fd);
}

TEST_F(rw, rwf_nowait_read_fails_with_eagain)
{
	int fd = gc_make(self->dev, 8, 1);
	uint64_t v = 0;
	struct iovec iov = { &v, 8 };

	ASSERT_LE(0, fd);
	/* IOCB_NOWAIT (preadv2 RWF_NOWAIT) on an empty channel fails with
	 * EAGAIN instead of blocking... */
	EXPECT_EQ(-EAGAIN, gc_errl(preadv2(fd, &iov, 1, -1, RWF_NOWAIT)));
	/* ...and reads what is there. */
	ASSERT_EQ(0, gc_send_u64(fd, 3, 0));
	EXPECT_EQ(8, gc_errl(preadv2(fd, &iov, 1, -1, RWF_NOWAIT)));
	EXPECT_EQ(3, v);
	close(fd);
}

TEST_F(rw, ioctl_nonblock_flag_fails_with_eagain)
{
	int fd = gc_make(self->dev, 8, 1);
	uint64_t v;

	ASSERT_LE(0, fd);
	/* GOCHAN_XFER_NONBLOCK: EAGAIN on an empty RECV, a full SEND. */
	EXPECT_EQ(-EAGAIN, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_send_u64(fd, 1, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(-EAGAIN, gc_send_u64(fd, 2, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(1, stat_len(fd));
	close(fd);
}

TEST_F(rw, ioctl_ignores_file_o_nonblock)
{
	int fd = gc_make_id(self->dev, 8, 0, GOCHAN_CREATE_NONBLOCK, NULL);
	struct gc_op *op = &self->ops[0];
	uint64_t v;
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_SEND;
	op->val = 66;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	/* The ioctls do not consult O_NONBLOCK: this SEND blocks. */
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	EXPECT_EQ(0, op->done);
	ASSERT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(66, v);
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, op->ret);
	close(fd);
}

TEST_F(rw, ioctl_deadline_expires_with_etimedout)
{
	int fd = gc_make(self->dev, 8, 0);
	struct gochan_stat st;
	uint64_t v = 1;
	uint32_t ok;
	int64_t deadline;

	ASSERT_LE(0, fd);
	/* RECV with nobody sending: ETIMEDOUT, and not before the
	 * deadline. */
	deadline = now_ns() + 100 * 1000000LL;
	EXPECT_EQ(-ETIMEDOUT, gc_recv_dl(fd, &v, &ok, GOCHAN_XFER_DEADLINE,
					 deadline));
	EXPECT_LE(deadline, now_ns());
	/* SEND with nobody receiving: likewise. */
	deadline = now_ns() + 100 * 1000000LL;
	EXPECT_EQ(-ETIMEDOUT, gc_send_dl(fd, &v, GOCHAN_XFER_DEADLINE,
					 deadline));
	EXPECT_LE(deadline, now_ns());
	/* A deadline already past does not block. */
	EXPECT_EQ(-ETIMEDOUT, gc_send_dl(fd, &v, GOCHAN_XFER_DEADLINE,
					 now_ns() - 1000000000LL));
	EXPECT_EQ(-ETIMEDOUT, gc_recv_dl(fd, &v, &ok, GOCHAN_XFER_DEADLINE, 0));
	/* A timed-out send left nothing behind. */
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(0, st.sent);
	EXPECT_EQ(0, st.send_waiters);
	EXPECT_EQ(0, st.recv_waiters);
	EXPECT_EQ(-EAGAIN, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	close(fd);
}

TEST_F(rw, ioctl_deadline_met_by_a_partner)
{
	int fd = gc_make(self->dev, 8, 0);
	struct gc_op *op = &self->ops[0];
	uint64_t v = 0;
	uint32_t ok = 0;
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_SEND;
	op->val = 12;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	/* A far deadline does not stop a ready partner: the value comes. */
	EXPECT_EQ(0, gc_recv_dl(fd, &v, &ok, GOCHAN_XFER_DEADLINE,
				now_ns() + 60 * 1000000000LL));
	EXPECT_EQ(1, ok);
	EXPECT_EQ(12, v);
	ASSERT_EQ(0, gc_reap(pid));
	close(fd);
}

TEST_F(rw, write_efault_sends_nothing)
{
	int fd = gc_make(self->dev, 8, 4);
	uint64_t *edge = gc_buf_before_hole(8);
	struct gochan_stat st;
	long ret;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, edge);
	/* A write from an unmapped buffer fails with EFAULT, sending
	 * nothing. */
	EXPECT_EQ(-EFAULT, gc_write(fd, GC_BAD_PTR, 8));
	EXPECT_EQ(0, stat_len(fd));
	/* A buffer whose second element runs into a hole: the first element
	 * is either sent and counted (8) or the call fails with nothing
	 * sent; never sent yet reported as failed. */
	*edge = 31;
	ret = gc_write(fd, edge, 16);
	ASSERT_EQ(0, gc_stat(fd, &st));
	if (ret == 8) {
		EXPECT_EQ(1, st.len);
	} else {
		EXPECT_EQ(-EFAULT, ret);
		EXPECT_EQ(0, st.len) TH_LOG("EFAULT but an element was sent");
	}
	EXPECT_EQ(st.len, st.sent);
	close(fd);
}

TEST_F(rw, read_efault_takes_nothing)
{
	int fd = gc_make(self->dev, 8, 4);
	uint64_t *edge = gc_buf_before_hole(8);
	uint64_t v = 0;
	long ret;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, edge);
	ASSERT_EQ(16, gc_write(fd, (uint64_t[]){ 1, 2 }, 16));
	/* A read into an unmapped buffer fails with EFAULT and the element
	 * stays for the next reader. */
	EXPECT_EQ(-EFAULT, gc_read(fd, GC_BAD_PTR, 8));
	EXPECT_EQ(2, stat_len(fd));
	/* A buffer with room for one element before a hole: either that
	 * element is read and counted (8), the other staying, or EFAULT
	 * with both staying; never taken yet reported as failed. */
	ret = gc_read(fd, edge, 16);
	if (ret == 8) {
		EXPECT_EQ(1, *edge);
		EXPECT_EQ(1, stat_len(fd));
		ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
		EXPECT_EQ(2, v);
	} else {
		EXPECT_EQ(-EFAULT, ret);
		EXPECT_EQ(2, stat_len(fd)) TH_LOG("EFAULT but an element left");
		ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
		EXPECT_EQ(1, v);
	}
	close(fd);
}

/* Write (@send) or read @es bytes at @buf: way 0 by write(2)/read(2),
 * 1 by writev/readv of one iovec, 2 of two iovecs halving it. */
static long move_one_way(int fd, void *buf, size_t es, int way, bool send)
{
	struct iovec iov[2] = {
		{ buf, way == 2 ? es / 2 : es },
		{ (char *)buf + es / 2, es - es / 2 },
	};

	if (way == 0)
		return gc_errl(send ? write(fd, buf, es) : read(fd, buf, es));
	return gc_errl(send ? writev(fd, iov, way) : readv(fd, iov, way));
}

/*
 * One element reaches the channel by read(2)/write(2), by readv/writev of
 * one iovec and of two: for elements of up to 64 bytes (8, 12 and 64: the
 * module's one-element path for the first two ways) and one larger (72
 * bytes: the general loop for all).  Every way sends and receives the
 * same values in order, fails a bad buffer with EFAULT taking nothing, and
 * reads end-of-channel as 0 once the channel is closed and drained.
 */
TEST_F(rw, every_entry_moves_one_element_alike)
{
	static const uint32_t sizes[] = { 8, 12, 64, 72 };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint32_t es = sizes[k];
		int fd = gc_make(self->dev, es, 8);
		unsigned char out[72], in[72];
		struct iovec iov1[1];

		ASSERT_LE(0, fd);
		for (int way = 0; way < 3; way++) {
			memset(out, 'a' + way + 3 * (int)k, es);
			memset(in, 0, sizeof(in));
			EXPECT_EQ(es, move_one_way(fd, out, es, way, true))
				TH_LOG("size %u, way %d", es, way);
			EXPECT_EQ(es, move_one_way(fd, in, es, way, false))
				TH_LOG("size %u, way %d", es, way);
			EXPECT_EQ(0, memcmp(out, in, es)) TH_LOG("size %u, way %d", es, way);
		}
		/* A bad buffer: EFAULT, and the element stays. */
		ASSERT_EQ(es, gc_errl(write(fd, out, es)));
		iov1[0] = (struct iovec){ GC_BAD_PTR, es };
		EXPECT_EQ(-EFAULT, gc_errl(read(fd, GC_BAD_PTR, es)));
		EXPECT_EQ(-EFAULT, gc_errl(readv(fd, iov1, 1)));
		EXPECT_EQ(-EFAULT, gc_errl(write(fd, GC_BAD_PTR, es)));
		EXPECT_EQ(-EFAULT, gc_errl(writev(fd, iov1, 1)));
		EXPECT_EQ(1, stat_len(fd)) TH_LOG("size %u", es);
		/* Closed: the element left, then end-of-channel. */
		ASSERT_EQ(0, gc_close_chan(fd));
		iov1[0] = (struct iovec){ in, es };
		EXPECT_EQ(es, gc_errl(readv(fd, iov1, 1)));
		EXPECT_EQ(0, memcmp(out, in, es));
		EXPECT_EQ(0, gc_errl(read(fd, in, es)));
		EXPECT_EQ(0, gc_errl(readv(fd, iov1, 1)));
		close(fd);
	}
}

TEST_F(rw, faulting_reader_then_send_loses_nothing)
{
	int fd = gc_make(self->dev, 8, 2);
	struct gc_op *op = &self->ops[0];
	uint64_t v = 0;
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_READ;
	op->len = 8;
	op->ubuf = GC_BAD_PTR;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	/* A reader with a bad buffer either fails at once or blocks; once it
	 * waits, a send may be handed to it... */
	for (int64_t end = now_ns() + GC_WAIT_MS * 1000000LL;
	     !op->done && now_ns() < end; usleep(1000)) {
		struct gochan_stat st;

		ASSERT_EQ(0, gc_stat(fd, &st));
		if (st.recv_waiters == 1)
			break;
	}
	ASSERT_EQ(0, gc_send_u64(fd, 0xbeef, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_reap(pid));
	/* ...but its copy-out fails with EFAULT, and then the element must
	 * still be in the channel: sent, not received, and receivable. */
	EXPECT_EQ(-EFAULT, op->ret);
	ASSERT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK))
		TH_LOG("the element handed to the faulting reader was lost");
	EXPECT_EQ(0xbeef, v);
	close(fd);
}

/* Shared between the test and the helper of the next test. */
struct unmap_race {
	int fd;
	int mfd;		/* the memfd the reader's buffer maps */
	volatile int unmapped;	/* helper: the reader's buffer is gone */
	long ret;		/* the blocked read's result */
};

static void *blocked_read(void *arg)
{
	struct unmap_race *u = arg;
	void **buf = (void **)(u + 1);

	u->ret = gc_read(u->fd, *buf, 8);
	return NULL;
}

/*
 * A helper thread blocks in read(2) on a channel with a good buffer, a
 * page of memfd u->mfd, which is then unmapped under it; returns the
 * helper's pid, with u->unmapped set once the buffer is gone.
 */
static pid_t spawn_unmapped_reader(int fd, struct unmap_race *u)
{
	pid_t pid = gc_fork();

	if (pid == 0) {
		void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				  MAP_SHARED, u->mfd, 0);
		pthread_t t;

		*(void **)(u + 1) = page;
		if (page == MAP_FAILED ||
		    pthread_create(&t, NULL, blocked_read, u) ||
		    gc_wait_waiters(fd, 0, 1) || munmap(page, 4096))
			_exit(1);
		u->unmapped = 1;
		pthread_join(t, NULL);
		_exit(0);
	}
	if (pid > 0) {
		for (int64_t end = now_ns() + GC_WAIT_MS * 1000000LL;
		     !u->unmapped && now_ns() < end; usleep(1000))
			;
	}
	return pid;
}

/*
 * A reader waits with a good buffer, which its own process then unmaps;
 * a sender hands it a value.  The reader pinned its buffer before it
 * waited, so the value goes into the pages that were mapped there (as
 * O_DIRECT's would) and the read reports it: received once, not lost to a
 * failed call nor given back.  The pages are a memfd's, which the test
 * maps too, to see them.
 */
static void unmapped_reader_receives(struct __test_metadata *_metadata,
				     int dev, uint32_t cap)
{
	int fd = gc_make(dev, 8, cap);
	struct unmap_race *u = gc_shared(4096);
	struct gochan_stat st;
	uint64_t v = 0;
	void *view;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, u);
	u->fd = fd;
	u->mfd = memfd_create("reader", MFD_CLOEXEC);
	ASSERT_LE(0, u->mfd);
	ASSERT_EQ(0, ftruncate(u->mfd, 4096));
	view = mmap(NULL, 4096, PROT_READ, MAP_SHARED, u->mfd, 0);
	ASSERT_NE(MAP_FAILED, view);
	pid = spawn_unmapped_reader(fd, u);
	ASSERT_LT(0, pid);
	ASSERT_EQ(1, u->unmapped);
	/* A reader waits, so this send is handed to it... */
	ASSERT_EQ(0, gc_send_u64(fd, 0xd00d, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_reap(pid));
	/* ...and it is delivered and reported, */
	EXPECT_EQ(8, u->ret) TH_LOG("%s after the value was handed over",
				    strerror(-u->ret));
	EXPECT_EQ(0xd00d, *(volatile uint64_t *)view);
	/* received once: nothing else in the channel, len within cap. */
	EXPECT_EQ(-EAGAIN, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(1, st.received);
	EXPECT_EQ(0, st.len);
	munmap(view, 4096);
	close(u->mfd);
	close(fd);
}

TEST_F(rw, buffer_unmapped_while_blocked_still_receives)
{
	unmapped_reader_receives(_metadata, self->dev, 2);
}

TEST_F(rw, buffer_unmapped_while_blocked_unbuffered_still_receives)
{
	unmapped_reader_receives(_metadata, self->dev, 0);
}

TEST_F(rw, faulting_unbuffered_receiver_gets_nothing_sent)
{
	int fd = gc_make(self->dev, 8, 0);
	struct gc_op *op = &self->ops[0];
	struct gochan_stat st;
	int ret;
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_RECV;
	op->ubuf = GC_BAD_PTR;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	for (int64_t end = now_ns() + GC_WAIT_MS * 1000000LL;
	     !op->done && now_ns() < end; usleep(1000)) {
		ASSERT_EQ(0, gc_stat(fd, &st));
		if (st.recv_waiters == 1)
			break;
	}
	/* An unbuffered send counts as sent only once a receiver holds the
	 * value; a receiver whose buffer faults never holds it, so this send
	 * must not report success: with nobody else receiving it times
	 * out. */
	ret = gc_send_dl(fd, &(uint64_t){ 0xcafe }, GOCHAN_XFER_DEADLINE,
			 now_ns() + 500 * 1000000LL);
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(-EFAULT, op->ret);
	EXPECT_EQ(-ETIMEDOUT, ret) TH_LOG("send to a faulting receiver "
					  "reported success: value lost");
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(0, st.received);
	EXPECT_EQ(st.received, st.sent);
	close(fd);
}

/* A call in a thread: read (or write, @send) @len bytes at @buf on @fd. */
struct rw_call {
	int fd;
	void *buf;
	size_t len;
	bool send;
	long ret;
};

static void *rw_call_run(void *p)
{
	struct rw_call *c = p;

	c->ret = c->send ? gc_write(c->fd, c->buf, c->len) : gc_read(c->fd, c->buf, c->len);
	return NULL;
}

/*
 * A read of four elements from a full channel whose blocked writer has four
 * more, into a buffer whose last two elements sit on a page that stops
 * being writable during the call (userfaultfd holds the call at that page
 * while the test makes it read-only).  The read returns the two elements
 * it could deliver; the channel then holds the other two and the writer's
 * first two: never more than its capacity, nothing lost, nothing doubled,
 * in order.  The old read took four, let the writer refill the ring, and
 * gave the two it could not copy back in front of a full ring: STAT said
 * len 6 with capacity 4 (issue 20's "len > cap").
 */
TEST_F(rw, read_faulting_midway_delivers_a_part_within_capacity)
{
	long pg = sysconf(_SC_PAGESIZE);
	int uffd = gc_uffd_open();
	int fd = gc_make(self->dev, 8, 4);
	uint64_t more[4] = { 5, 6, 7, 8 }, v, *dst;
	struct rw_call rd, wr;
	struct gochan_stat st;
	pthread_t trd, twr;
	uintptr_t addr = 0;
	char *p;

	ASSERT_LE(0, fd);
	if (uffd < 0)
		SKIP(return, "no userfaultfd here (%s)", strerror(-uffd));
	p = gc_uffd_page(uffd, 2, UFFDIO_REGISTER_MODE_WP);
	ASSERT_NE(NULL, p);
	dst = (uint64_t *)(p + pg - 16);	/* two on the first page, two on the second */
	ASSERT_EQ(32, gc_write(fd, (uint64_t[]){ 1, 2, 3, 4 }, 32));
	wr = (struct rw_call){ .fd = fd, .buf = more, .len = 32, .send = true };
	ASSERT_EQ(0, pthread_create(&twr, NULL, rw_call_run, &wr));
	for (int i = 0; i < 1000 && (gc_stat(fd, &st) || !st.send_waiters); i++)
		usleep(1000);
	ASSERT_EQ(1, st.send_waiters) TH_LOG("the writer did not block");

	ASSERT_EQ(0, gc_uffd_wp(uffd, p + pg, true));
	rd = (struct rw_call){ .fd = fd, .buf = dst, .len = 32 };
	ASSERT_EQ(0, pthread_create(&trd, NULL, rw_call_run, &rd));
	ASSERT_EQ(0, gc_uffd_wait(uffd, &addr, GC_WAIT_MS));
	EXPECT_EQ((uintptr_t)(p + pg), addr & ~(uintptr_t)(pg - 1));
	/* Held at the second page; it stops being writable. */
	ASSERT_EQ(0, mprotect(p + pg, pg, PROT_READ));
	ASSERT_EQ(0, gc_uffd_wp(uffd, p + pg, false));
	pthread_join(trd, NULL);

	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_GE(st.capacity, st.len) TH_LOG("len %u > capacity %u after the read returned %ld",
					      st.len, st.capacity, rd.ret);
	EXPECT_EQ(16, rd.ret);
	EXPECT_EQ(1, dst[0]);
	EXPECT_EQ(2, dst[1]);
	/* The rest, in order: 3 and 4, then the writer's four. */
	for (uint64_t want = 3; want <= 8; want++) {
		ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
		EXPECT_EQ(want, v);
	}
	pthread_join(twr, NULL);
	EXPECT_EQ(32, wr.ret);
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(0, st.len);
	EXPECT_EQ(8, st.sent);
	EXPECT_EQ(8, st.received);
	close(uffd);
	close(fd);
}

/*
 * A write whose buffer is bad part way, to a reader waiting in read(2):
 * the whole elements before the bad part go to the reader and the write
 * returns their count, as the uapi's rule says (a pipe's write does the
 * same).  The old module copied the write into a kernel buffer first,
 * whole, and failed it with EFAULT, nothing moved; now a waiting reader's
 * elements go straight from the writer's memory to its pinned pages.
 */
TEST_F(rw, write_bad_part_way_gives_a_waiting_reader_what_came_before)
{
	int fd = gc_make(self->dev, 8, 4);
	uint64_t *edge = gc_buf_before_hole(16), got[4] = { 0 };
	struct gochan_stat st;
	struct rw_call rd;
	pthread_t t;
	long ret;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, edge);
	edge[0] = 41;
	edge[1] = 42;
	rd = (struct rw_call){ .fd = fd, .buf = got, .len = sizeof(got) };
	ASSERT_EQ(0, pthread_create(&t, NULL, rw_call_run, &rd));
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	/* Four elements, the third in the hole. */
	ret = gc_write(fd, edge, 32);
	EXPECT_EQ(16, ret);
	if (ret != 16)
		gc_close_chan(fd);	/* end the read all the same */
	pthread_join(t, NULL);
	EXPECT_EQ(16, rd.ret);
	EXPECT_EQ(41, got[0]);
	EXPECT_EQ(42, got[1]);
	EXPECT_EQ(0, got[2]);
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(0, st.len);
	EXPECT_EQ(2, st.sent);
	EXPECT_EQ(2, st.received);
	close(fd);
}

/*
 * A read or write of many elements moves them in order across the ring's
 * wrap, and a write that fills the ring and a read that empties it take one
 * call each (the bulk path: straight between the ring and the caller).
 */
TEST_F(rw, bulk_read_and_write_keep_order_across_the_wrap)
{
	int fd = gc_make(self->dev, 8, 64);
	uint64_t in[64], out[64];
	uint64_t next_in = 0, next_out = 0;

	ASSERT_LE(0, fd);
	for (int round = 0; round < 40; round++) {
		size_t k = 1 + (round * 7) % 64, got;

		for (size_t i = 0; i < k; i++)
			in[i] = next_in++;
		ASSERT_EQ((long)(k * 8), gc_write(fd, in, k * 8)) TH_LOG("round %d", round);
		got = gc_read(fd, out, sizeof(out));
		ASSERT_EQ(k * 8, got) TH_LOG("round %d", round);
		for (size_t j = 0; j < got / 8; j++) {
			uint64_t want = next_out++;

			ASSERT_EQ(want, out[j]) TH_LOG("round %d", round);
		}
	}
	close(fd);
}

/* ---- A write(2) that waits: its elements taken from its own pages ---- */

#define PW_ELEM	24	/* three words: an element straddles pages */
#define PW_N	8

/* Element @i of the writer's stream. */
static void pw_fill(uint64_t *e, uint64_t i)
{
	e[0] = i + 1;
	e[1] = (i + 1) * 0x9e3779b97f4a7c15ULL;
	e[2] = ~(i + 1);
}

static bool pw_is(const void *p, uint64_t i)
{
	uint64_t want[3];

	pw_fill(want, i);
	return !memcmp(p, want, sizeof(want));
}

/*
 * PW_N elements laid so that elements straddle a page boundary, in a
 * mapping of their own (the writer's pages are pinned while it waits).
 */
static char *pw_buf(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *buf;

	if (map == MAP_FAILED)
		return NULL;
	buf = map + pg - PW_ELEM - PW_ELEM / 3;	/* element 1 spans the boundary */
	for (int i = 0; i < PW_N; i++)
		pw_fill((uint64_t *)(buf + i * PW_ELEM), i);
	return buf;
}

struct pw_select {
	int dev, fd;
	char elem[PW_ELEM];
	uint32_t index, ok;
	int ret;
};

static void *pw_select_run(void *p)
{
	struct pw_select *x = p;
	struct gochan_select_case cs = gc_case(x->fd, GOCHAN_OP_RECV, x->elem);

	x->ret = gc_select(x->dev, &cs, 1, 0, 0, &x->index, &x->ok);
	return NULL;
}

/*
 * A write(2) of several elements that must wait keeps them in its own
 * pages, pinned, and every kind of receive takes them from there, in
 * order, whole, on an unbuffered channel (straight from the pages) and a
 * buffered one (the ring refilled from them): a read(2) of several, a
 * read(2) of one, GOCHAN_IOC_RECV, a select, a readv(2).
 */
static void blocked_write_is_taken_by_every_receive(struct __test_metadata *_metadata,
						    int dev, uint32_t cap)
{
	int fd = gc_make(dev, PW_ELEM, cap);
	char *buf = pw_buf(), out[PW_N][PW_ELEM];
	struct rw_call wr;
	struct gochan_select_case cs;
	struct iovec iov[2];
	uint32_t ok = 0, index = 99;
	pthread_t t;
	int got = 0;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	memset(out, 0, sizeof(out));
	wr = (struct rw_call){ .fd = fd, .buf = buf, .len = PW_N * PW_ELEM, .send = true };
	ASSERT_EQ(0, pthread_create(&t, NULL, rw_call_run, &wr));
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	ASSERT_EQ(0, gc_wait_len(fd, cap));

	/* two by read(2) */
	ASSERT_EQ(2 * PW_ELEM, gc_read(fd, out[got], 2 * PW_ELEM));
	got += 2;
	/* one by a read(2) of one */
	ASSERT_EQ(PW_ELEM, gc_read(fd, out[got], PW_ELEM));
	got++;
	/* one by GOCHAN_IOC_RECV */
	ASSERT_EQ(0, gc_recv(fd, out[got], &ok, 0));
	EXPECT_EQ(1, ok);
	got++;
	/* one by a select */
	cs = gc_case(fd, GOCHAN_OP_RECV, out[got]);
	ASSERT_EQ(0, gc_select(dev, &cs, 1, 0, 0, &index, &ok));
	EXPECT_EQ(0, index);
	EXPECT_EQ(1, ok);
	got++;
	/* the rest by a readv(2) of two iovecs, the first one element */
	iov[0] = (struct iovec){ out[got], PW_ELEM };
	iov[1] = (struct iovec){ out[got + 1], (PW_N - got - 1) * PW_ELEM };
	ASSERT_EQ((PW_N - got) * PW_ELEM, readv(fd, iov, 2));
	got = PW_N;

	pthread_join(t, NULL);
	EXPECT_EQ(PW_N * PW_ELEM, wr.ret);
	for (int i = 0; i < PW_N; i++) {
		EXPECT_TRUE(pw_is(out[i], i)) TH_LOG("element %d (capacity %u)", i, cap);
	}
	close(fd);
}

TEST_F(rw, blocked_write_is_taken_by_every_receive_unbuffered)
{
	blocked_write_is_taken_by_every_receive(_metadata, self->dev, 0);
}

TEST_F(rw, blocked_write_is_taken_by_every_receive_buffered)
{
	blocked_write_is_taken_by_every_receive(_metadata, self->dev, 2);
}

/*
 * A write(2) of three elements meets a select and then a read(2) of two
 * waiting on an unbuffered channel: the select gets the first, the read
 * the next two, and the write returns at once, all of them sent.
 */
TEST_F(rw, write_hands_to_a_waiting_select_then_a_waiting_read)
{
	int fd = gc_make(self->dev, PW_ELEM, 0);
	char *buf = pw_buf(), rbuf[2][PW_ELEM];
	struct pw_select sel = { .dev = self->dev, .fd = fd };
	struct rw_call rd;
	struct gochan_stat st;
	pthread_t ts, tr;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pthread_create(&ts, NULL, pw_select_run, &sel));
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	rd = (struct rw_call){ .fd = fd, .buf = rbuf, .len = sizeof(rbuf) };
	ASSERT_EQ(0, pthread_create(&tr, NULL, rw_call_run, &rd));
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 2));

	EXPECT_EQ(3 * PW_ELEM, gc_write(fd, buf, 3 * PW_ELEM));
	pthread_join(ts, NULL);
	pthread_join(tr, NULL);
	EXPECT_EQ(0, sel.ret);
	EXPECT_EQ(0, sel.index);
	EXPECT_EQ(1, sel.ok);
	EXPECT_TRUE(pw_is(sel.elem, 0));
	EXPECT_EQ(2 * PW_ELEM, rd.ret);
	EXPECT_TRUE(pw_is(rbuf[0], 1));
	EXPECT_TRUE(pw_is(rbuf[1], 2));
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(3, st.sent);
	EXPECT_EQ(3, st.received);
	close(fd);
}

/*
 * A signal ends a write(2) that waits with part of its elements taken: it
 * returns their bytes, and the rest were never sent (the pinned pages are
 * not read again).
 */
static void pw_nop(int sig)
{
	(void)sig;
}

TEST_F(rw, signal_ends_a_blocked_write_with_what_was_taken)
{
	int fd = gc_make(self->dev, PW_ELEM, 0);
	char *buf = pw_buf(), out[2][PW_ELEM];
	struct sigaction sa = { .sa_handler = pw_nop };	/* no SA_RESTART */
	struct gochan_stat st;
	struct rw_call wr;
	pthread_t t;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	wr = (struct rw_call){ .fd = fd, .buf = buf, .len = PW_N * PW_ELEM, .send = true };
	ASSERT_EQ(0, pthread_create(&t, NULL, rw_call_run, &wr));
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	ASSERT_EQ(2 * PW_ELEM, gc_read(fd, out, sizeof(out)));
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	EXPECT_EQ(2 * PW_ELEM, wr.ret);
	EXPECT_TRUE(pw_is(out[0], 0));
	EXPECT_TRUE(pw_is(out[1], 1));
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(0, st.send_waiters);
	EXPECT_EQ(2, st.sent);
	EXPECT_EQ(-EAGAIN, gc_recv(fd, out[0], NULL, GOCHAN_XFER_NONBLOCK));
	close(fd);
}

TEST_HARNESS_MAIN
