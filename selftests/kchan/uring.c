// SPDX-License-Identifier: GPL-2.0
/*
 * Description: gochan_prep_send / gochan_prep_recv fill SQEs that liburing
 * submits as queued channel commands, and gochan_cancel ends them: a
 * receive waits queued until another process sends, a send queued on an
 * unbuffered channel completes when a receiver comes, a cancelled one ends
 * with -ECANCELED and took nothing, and errno is left alone.
 */
#include <liburing.h>

#include "helpers.h"

static int reap_one(struct io_uring *ring, uint64_t *ud)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_NS / 1000000000 };
	struct io_uring_cqe *cqe;
	int res;

	if (io_uring_wait_cqe_timeout(ring, &cqe, &ts))
		return 9999;
	res = cqe->res;
	*ud = cqe->user_data;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

FIXTURE(ring) {
	struct io_uring ring;
};

FIXTURE_SETUP(ring)
{
	REQUIRE_GOCHAN();
	ASSERT_EQ(0, io_uring_queue_init(8, &self->ring, 0));
}

FIXTURE_TEARDOWN(ring)
{
	io_uring_queue_exit(&self->ring);
}

TEST_F(ring, queued_recv_then_send_from_another_process)
{
	int fd = gochan_make(sizeof(long), 0, GOCHAN_CREATE_CLOEXEC);
	struct gochan_xfer x;
	long v = 0, w = 1234;
	uint64_t ud = 0;
	pid_t pid;

	ASSERT_LE(0, fd);
	gochan_prep_recv(io_uring_get_sqe(&self->ring), fd, &x, &v, 7);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	/* It waits in the channel as a receiver. */
	ASSERT_TRUE(wait_for_waiters(fd, 0, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(gochan_send(fd, &w, GOCHAN_NO_DEADLINE) ? 1 : 0);
	/* res 1: received, into v. */
	EXPECT_EQ(1, reap_one(&self->ring, &ud));
	EXPECT_EQ(7, ud);
	EXPECT_EQ(1234, v);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	close(fd);
}

TEST_F(ring, queued_send_meets_a_receiver)
{
	int fd = gochan_make(sizeof(long), 0, GOCHAN_CREATE_CLOEXEC);
	struct gochan_xfer x;
	long v = 55, got = 0;
	uint64_t ud = 0;
	bool ok = false;

	ASSERT_LE(0, fd);
	gochan_prep_send(io_uring_get_sqe(&self->ring), fd, &x, &v, 8);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_TRUE(wait_for_waiters(fd, 1, 0));
	/* The element was taken at submission. */
	v = 0;
	EXPECT_EQ(0, gochan_try_recv(fd, &got, &ok));
	EXPECT_TRUE(ok);
	EXPECT_EQ(55, got);
	EXPECT_EQ(0, reap_one(&self->ring, &ud));
	EXPECT_EQ(8, ud);
	close(fd);
}

TEST_F(ring, cancel_by_key_and_all)
{
	int fd = gochan_make(sizeof(long), 1, GOCHAN_CREATE_CLOEXEC);
	struct gochan_xfer x[2];	/* one each: both live until submitted */
	long v[2] = { 0 }, got = 0;
	uint64_t ud = 0;
	bool ok = false;

	ASSERT_LE(0, fd);
	gochan_prep_recv(io_uring_get_sqe(&self->ring), fd, &x[0], &v[0], 1);
	gochan_prep_recv(io_uring_get_sqe(&self->ring), fd, &x[1], &v[1], 2);
	ASSERT_EQ(2, io_uring_submit(&self->ring));
	ASSERT_TRUE(wait_for_waiters(fd, 0, 2));

	errno = ERRNO_CANARY;
	/* By key: only that one ends, with -ECANCELED. */
	EXPECT_EQ(1, gochan_cancel(fd, 2, false));
	EXPECT_EQ(-ECANCELED, reap_one(&self->ring, &ud));
	EXPECT_EQ(2, ud);
	EXPECT_EQ(-ENOENT, gochan_cancel(fd, 2, false));
	/* All: the other. */
	EXPECT_EQ(1, gochan_cancel(fd, 0, true));
	EXPECT_EQ(-ECANCELED, reap_one(&self->ring, &ud));
	EXPECT_EQ(1, ud);
	EXPECT_EQ(-ENOENT, gochan_cancel(fd, 0, true));
	/* Not a channel. */
	EXPECT_EQ(-EBADF, gochan_cancel(-1, 0, true));
	EXPECT_EQ(ERRNO_CANARY, errno);
	/* They took nothing. */
	got = 9;
	EXPECT_EQ(0, gochan_try_send(fd, &got));
	got = 0;
	EXPECT_EQ(0, gochan_try_recv(fd, &got, &ok));
	EXPECT_EQ(9, got);
	EXPECT_EQ(0, v[0]);
	EXPECT_EQ(0, v[1]);
	close(fd);
}

TEST_F(ring, closed_channel)
{
	int fd = gochan_make(0, 0, GOCHAN_CREATE_CLOEXEC);
	struct gochan_xfer x;
	uint64_t ud = 0;

	ASSERT_LE(0, fd);
	/* A signal channel: NULL elements.  A queued receive sees the close. */
	gochan_prep_recv(io_uring_get_sqe(&self->ring), fd, &x, NULL, 3);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_TRUE(wait_for_waiters(fd, 0, 1));
	ASSERT_EQ(0, gochan_close(fd));
	EXPECT_EQ(0, reap_one(&self->ring, &ud));
	EXPECT_EQ(3, ud);
	/* A send on it: -EPIPE. */
	gochan_prep_send(io_uring_get_sqe(&self->ring), fd, &x, NULL, 4);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-EPIPE, reap_one(&self->ring, &ud));
	EXPECT_EQ(4, ud);
	close(fd);
}

TEST_HARNESS_MAIN
