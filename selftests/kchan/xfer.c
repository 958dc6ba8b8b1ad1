// SPDX-License-Identifier: GPL-2.0
/*
 * Description: gochan_send / gochan_recv and the non-blocking try forms:
 * round trips within a process and between two, FIFO order, rendezvous on
 * an unbuffered channel, EAGAIN from the try forms, signal channels
 * (element size 0, NULL buffers), for several channel shapes.
 */
#include <fcntl.h>
#include <stdlib.h>

#include "helpers.h"

#define ELEM_MAX 4096

/* Element @seq: every byte depends on seq and its offset, so a torn or
 * misplaced copy shows. */
static void fill(unsigned char *buf, size_t size, unsigned seq)
{
	for (size_t i = 0; i < size; i++)
		buf[i] = (unsigned char)(seq * 31 + i);
}

static bool holds(const unsigned char *buf, size_t size, unsigned seq)
{
	for (size_t i = 0; i < size; i++)
		if (buf[i] != (unsigned char)(seq * 31 + i))
			return false;
	return true;
}

/* The buffer for an element: NULL for a signal channel, to show that the
 * library and kernel never touch it there. */
static void *elem_buf(unsigned char *storage, size_t size)
{
	return size ? storage : NULL;
}

FIXTURE(shape) {
	int fd;
};

FIXTURE_VARIANT(shape) {
	size_t elem_size;
	unsigned capacity;
};

FIXTURE_VARIANT_ADD(shape, unbuffered) { .elem_size = 8, .capacity = 0 };
FIXTURE_VARIANT_ADD(shape, buffered) { .elem_size = 8, .capacity = 4 };
FIXTURE_VARIANT_ADD(shape, odd_size) { .elem_size = 13, .capacity = 3 };
FIXTURE_VARIANT_ADD(shape, large) { .elem_size = ELEM_MAX, .capacity = 2 };
FIXTURE_VARIANT_ADD(shape, signal_unbuffered) { .elem_size = 0, .capacity = 0 };
FIXTURE_VARIANT_ADD(shape, signal_buffered) { .elem_size = 0, .capacity = 5 };

FIXTURE_SETUP(shape)
{
	self->fd = -1;
	if (access(GOCHAN_DEVICE_PATH, F_OK) == 0)
		self->fd = gochan_make(variant->elem_size, variant->capacity,
				       GOCHAN_CREATE_CLOEXEC);
}

FIXTURE_TEARDOWN(shape)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* Start of every shape test: skip without the device, fail if the make
 * in FIXTURE_SETUP failed. */
#define SHAPE_READY() do {						\
	REQUIRE_GOCHAN();						\
	ASSERT_LE(0, self->fd) TH_LOG("gochan_make: %s", strerror(-self->fd)); \
} while (0)

TEST_F(shape, try_recv_on_empty_channel_gives_eagain)
{
	unsigned char buf[ELEM_MAX];
	bool ok = true;

	SHAPE_READY();
	memset(buf, 0xa5, sizeof(buf));
	errno = ERRNO_CANARY;
	/* Nothing buffered and no sender: the try form fails at once. */
	EXPECT_EQ(-EAGAIN, gochan_try_recv(self->fd, elem_buf(buf, variant->elem_size), &ok));
	/* On failure neither ok nor the buffer is written, nor errno. */
	EXPECT_TRUE(ok);
	EXPECT_EQ(0xa5, buf[0]);
	EXPECT_EQ(ERRNO_CANARY, errno);
}

TEST_F(shape, try_send_fills_capacity_then_gives_eagain)
{
	unsigned char buf[ELEM_MAX];
	struct gochan_stat st;

	SHAPE_READY();
	/* Each of the capacity slots takes an element without blocking. */
	for (unsigned i = 0; i < variant->capacity; i++) {
		fill(buf, variant->elem_size, i);
		ASSERT_EQ(0, gochan_try_send(self->fd, elem_buf(buf, variant->elem_size)));
	}
	errno = ERRNO_CANARY;
	/* The ring is full (unbuffered: no receiver waits): EAGAIN. */
	EXPECT_EQ(-EAGAIN, gochan_try_send(self->fd, elem_buf(buf, variant->elem_size)));
	EXPECT_EQ(ERRNO_CANARY, errno);
	/* The refused element was not queued: len is the capacity. */
	ASSERT_EQ(0, gochan_stat(self->fd, &st));
	EXPECT_EQ(variant->capacity, st.len);
	EXPECT_EQ(variant->capacity, st.sent);
}

TEST_F(shape, buffered_elements_come_out_in_order)
{
	unsigned char buf[ELEM_MAX];
	struct gochan_stat st;
	bool ok;

	SHAPE_READY();
	if (!variant->capacity)
		SKIP(return, "unbuffered: nothing stays in the channel");
	for (unsigned i = 0; i < variant->capacity; i++) {
		fill(buf, variant->elem_size, i);
		/* A blocking send with room completes at once. */
		ASSERT_EQ(0, gochan_send(self->fd, elem_buf(buf, variant->elem_size),
					 GOCHAN_NO_DEADLINE));
	}
	ASSERT_EQ(0, gochan_stat(self->fd, &st));
	/* len counts what is buffered. */
	EXPECT_EQ(variant->capacity, st.len);
	for (unsigned i = 0; i < variant->capacity; i++) {
		memset(buf, 0, sizeof(buf));
		ok = false;
		errno = ERRNO_CANARY;
		ASSERT_EQ(0, gochan_recv(self->fd, elem_buf(buf, variant->elem_size), &ok,
					 GOCHAN_NO_DEADLINE));
		/* Each receive yields a value, the i-th one sent (FIFO), whole. */
		EXPECT_TRUE(ok);
		EXPECT_TRUE(holds(buf, variant->elem_size, i)) TH_LOG("element %u", i);
		/* Success leaves errno alone too. */
		EXPECT_EQ(ERRNO_CANARY, errno);
	}
	ASSERT_EQ(0, gochan_stat(self->fd, &st));
	/* All taken: empty again, and the counters saw every element. */
	EXPECT_EQ(0, st.len);
	EXPECT_EQ(variant->capacity, st.sent);
	EXPECT_EQ(variant->capacity, st.received);
}

TEST_F(shape, round_trip_between_two_processes)
{
	const unsigned n = variant->capacity + 20;
	unsigned char buf[ELEM_MAX];
	struct gochan_stat st;
	pid_t pid;

	SHAPE_READY();
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Child: receive n elements, blocking, and check each in order. */
		for (unsigned i = 0; i < n; i++) {
			bool ok = false;

			memset(buf, 0, sizeof(buf));
			if (gochan_recv(self->fd, elem_buf(buf, variant->elem_size), &ok,
					GOCHAN_NO_DEADLINE))
				_exit(1);
			if (!ok)
				_exit(2);
			if (!holds(buf, variant->elem_size, i))
				_exit(3);
		}
		_exit(0);
	}
	for (unsigned i = 0; i < n; i++) {
		fill(buf, variant->elem_size, i);
		/* Every blocking send is taken by the child in time. */
		ASSERT_EQ(0, gochan_send(self->fd, elem_buf(buf, variant->elem_size),
					 GOCHAN_NO_DEADLINE));
	}
	/* The child got all n elements, in order and intact. */
	EXPECT_EQ(0, reap(pid));
	ASSERT_EQ(0, gochan_stat(self->fd, &st));
	/* Nothing lost, nothing left, nothing counted twice. */
	EXPECT_EQ(0, st.len);
	EXPECT_EQ(n, st.sent);
	EXPECT_EQ(n, st.received);
}

TEST_F(shape, send_blocks_while_full_until_a_receive)
{
	unsigned char buf[ELEM_MAX];
	struct gochan_stat st;
	pid_t pid;

	SHAPE_READY();
	for (unsigned i = 0; i < variant->capacity; i++) {
		fill(buf, variant->elem_size, i);
		ASSERT_EQ(0, gochan_send(self->fd, elem_buf(buf, variant->elem_size),
					 GOCHAN_NO_DEADLINE));
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Child: wait until the parent is blocked in its send, then take
		 * one element to let it through. */
		if (!wait_for_waiters(self->fd, 1, 0))
			_exit(1);
		if (gochan_recv(self->fd, elem_buf(buf, variant->elem_size), NULL,
				GOCHAN_NO_DEADLINE))
			_exit(2);
		_exit(holds(buf, variant->elem_size, 0) ? 0 : 3);
	}
	fill(buf, variant->elem_size, variant->capacity);
	/* The channel is full (unbuffered: no receiver): this send blocks
	 * until the child receives, then succeeds. */
	EXPECT_EQ(0, gochan_send(self->fd, elem_buf(buf, variant->elem_size), GOCHAN_NO_DEADLINE));
	/* The child saw this process blocked and received the oldest element. */
	EXPECT_EQ(0, reap(pid));
	ASSERT_EQ(0, gochan_stat(self->fd, &st));
	/* On return the element is in the ring or, unbuffered, already taken:
	 * the receiver's count includes it. */
	EXPECT_EQ(variant->capacity + 1, st.sent);
	EXPECT_EQ(1, st.received);
	EXPECT_EQ(variant->capacity, st.len);
}

TEST_F(shape, recv_blocks_until_a_send)
{
	unsigned char buf[ELEM_MAX];
	bool ok = false;
	pid_t pid;

	SHAPE_READY();
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Child: send once the parent is blocked in its receive. */
		if (!wait_for_waiters(self->fd, 0, 1))
			_exit(1);
		fill(buf, variant->elem_size, 77);
		_exit(gochan_send(self->fd, elem_buf(buf, variant->elem_size),
				  GOCHAN_NO_DEADLINE) ? 2 : 0);
	}
	memset(buf, 0, sizeof(buf));
	/* Nothing is buffered: the receive blocks until the child sends, then
	 * yields that element. */
	EXPECT_EQ(0, gochan_recv(self->fd, elem_buf(buf, variant->elem_size), &ok,
				 GOCHAN_NO_DEADLINE));
	EXPECT_TRUE(ok);
	EXPECT_TRUE(holds(buf, variant->elem_size, 77));
	/* The child saw this process blocked and its send succeeded. */
	EXPECT_EQ(0, reap(pid));
}

TEST_F(shape, try_forms_meet_a_blocked_peer)
{
	unsigned char buf[ELEM_MAX];
	struct gochan_stat st;
	bool ok = false;
	pid_t pid;

	SHAPE_READY();
	/* Fill the ring, so a further send blocks in every shape. */
	for (unsigned i = 0; i < variant->capacity; i++) {
		fill(buf, variant->elem_size, i);
		ASSERT_EQ(0, gochan_send(self->fd, elem_buf(buf, variant->elem_size),
					 GOCHAN_NO_DEADLINE));
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		fill(buf, variant->elem_size, variant->capacity);
		_exit(gochan_send(self->fd, elem_buf(buf, variant->elem_size),
				  GOCHAN_NO_DEADLINE) ? 1 : 0);
	}
	ASSERT_TRUE(wait_for_waiters(self->fd, 1, 0));
	/* With a sender blocked, every element is takeable without blocking,
	 * in order, the blocked sender's last. */
	for (unsigned i = 0; i <= variant->capacity; i++) {
		memset(buf, 0, sizeof(buf));
		ASSERT_EQ(0, gochan_try_recv(self->fd, elem_buf(buf, variant->elem_size), &ok));
		EXPECT_TRUE(ok);
		EXPECT_TRUE(holds(buf, variant->elem_size, i)) TH_LOG("element %u", i);
	}
	/* The blocked sender completed. */
	EXPECT_EQ(0, reap(pid));
	/* And then nothing more is there. */
	EXPECT_EQ(-EAGAIN, gochan_try_recv(self->fd, elem_buf(buf, variant->elem_size), &ok));
	ASSERT_EQ(0, gochan_stat(self->fd, &st));
	EXPECT_EQ(0, st.len);
}

TEST(blocking_calls_ignore_the_file_nonblock_flag)
{
	struct gochan_stat st;
	uint64_t v = 0;
	bool ok = false;
	pid_t pid;
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make(sizeof(v), 0, GOCHAN_CREATE_NONBLOCK);
	ASSERT_LE(0, fd);
	/* read(2) honours O_NONBLOCK: nothing to take, so EAGAIN. */
	EXPECT_EQ(-1, read(fd, &v, sizeof(v)));
	EXPECT_EQ(EAGAIN, errno);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t x = 0x0123456789abcdefull;

		if (!wait_for_waiters(fd, 0, 1))
			_exit(1);
		_exit(gochan_send(fd, &x, GOCHAN_NO_DEADLINE) ? 2 : 0);
	}
	/* gochan_recv blocks regardless of O_NONBLOCK (the uapi passes
	 * blocking per call) and gets the child's value. */
	EXPECT_EQ(0, gochan_recv(fd, &v, &ok, GOCHAN_NO_DEADLINE));
	EXPECT_TRUE(ok);
	EXPECT_EQ(0x0123456789abcdefull, v);
	EXPECT_EQ(0, reap(pid));
	ASSERT_EQ(0, gochan_stat(fd, &st));
	EXPECT_EQ(1, st.received);
	close(fd);
}

TEST_HARNESS_MAIN
