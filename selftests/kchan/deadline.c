// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the deadline of gochan_send / gochan_recv: ETIMEDOUT once an
 * absolute CLOCK_MONOTONIC deadline passes, never before it, within a sane
 * bound after it; an operation that can complete does so whatever the
 * deadline; a peer arriving in time completes the wait; GOCHAN_NO_DEADLINE
 * (any negative value) is none.
 */
#include "helpers.h"

/* How late a timed-out call may return: generous, the guest runs under
 * TCG on a shared machine.  The assertion is that it does return. */
#define LATE_NS (5000 * MSEC)

TEST(recv_times_out_on_an_empty_channel)
{
	int64_t deadline, now;
	uint64_t v = 7;
	bool ok = true;
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make(sizeof(v), 1, 0);
	ASSERT_LE(0, fd);
	deadline = gochan_now_ns() + 50 * MSEC;
	errno = ERRNO_CANARY;
	/* Nothing arrives: the receive fails with ETIMEDOUT ... */
	EXPECT_EQ(-ETIMEDOUT, gochan_recv(fd, &v, &ok, deadline));
	now = gochan_now_ns();
	/* ... not before the deadline, and not much after it. */
	EXPECT_GE(now, deadline);
	EXPECT_LT(now, deadline + LATE_NS);
	/* Nothing was written: not the buffer, not ok, not errno. */
	EXPECT_EQ(7, v);
	EXPECT_TRUE(ok);
	EXPECT_EQ(ERRNO_CANARY, errno);
	close(fd);
}

TEST(send_times_out_on_a_full_channel)
{
	struct gochan_stat st;
	int64_t deadline, now;
	uint64_t v = 1;
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make(sizeof(v), 1, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gochan_send(fd, &v, GOCHAN_NO_DEADLINE));
	deadline = gochan_now_ns() + 50 * MSEC;
	v = 2;
	/* The ring is full and nobody receives: ETIMEDOUT ... */
	EXPECT_EQ(-ETIMEDOUT, gochan_send(fd, &v, deadline));
	now = gochan_now_ns();
	/* ... not before the deadline, and not much after it. */
	EXPECT_GE(now, deadline);
	EXPECT_LT(now, deadline + LATE_NS);
	ASSERT_EQ(0, gochan_stat(fd, &st));
	/* The timed-out element was not sent and no waiter is left behind. */
	EXPECT_EQ(1, st.sent);
	EXPECT_EQ(1, st.len);
	EXPECT_EQ(0, st.send_waiters);
	close(fd);
}

TEST(unbuffered_send_times_out_without_a_receiver)
{
	int64_t deadline;
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make(0, 0, 0);
	ASSERT_LE(0, fd);
	deadline = gochan_now_ns() + 50 * MSEC;
	/* No receiver: a signal-channel send times out too. */
	EXPECT_EQ(-ETIMEDOUT, gochan_send(fd, NULL, deadline));
	EXPECT_GE(gochan_now_ns(), deadline);
	close(fd);
}

TEST(past_deadline_still_completes_a_ready_operation)
{
	int64_t past = 0;	/* boot: long passed (a negative one would be none) */
	uint64_t v = 99;
	bool ok = false;
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make(sizeof(v), 1, 0);
	ASSERT_LE(0, fd);
	/* There is room: the send completes though its deadline has passed. */
	EXPECT_EQ(0, gochan_send(fd, &v, past));
	v = 0;
	/* There is an element: the receive completes likewise. */
	EXPECT_EQ(0, gochan_recv(fd, &v, &ok, past));
	EXPECT_TRUE(ok);
	EXPECT_EQ(99, v);
	/* Now it would block: a passed deadline is ETIMEDOUT, not EAGAIN. */
	EXPECT_EQ(-ETIMEDOUT, gochan_recv(fd, &v, &ok, past));
	close(fd);
}

TEST(peer_arriving_before_the_deadline_completes_the_wait)
{
	int64_t deadline;
	uint64_t v = 0;
	bool ok = false;
	pid_t pid;
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make(sizeof(v), 0, 0);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t x = 4242;

		/* Child: sends once the parent waits. */
		if (!wait_for_waiters(fd, 0, 1))
			_exit(1);
		_exit(gochan_send(fd, &x, GOCHAN_NO_DEADLINE) ? 2 : 0);
	}
	deadline = gochan_now_ns() + WAIT_NS;
	/* The sender comes well before the deadline: the value, not a timeout. */
	EXPECT_EQ(0, gochan_recv(fd, &v, &ok, deadline));
	EXPECT_TRUE(ok);
	EXPECT_EQ(4242, v);
	EXPECT_LT(gochan_now_ns(), deadline);
	EXPECT_EQ(0, reap(pid));
	close(fd);
}

TEST(negative_deadline_is_none)
{
	uint64_t v = 0;
	bool ok = false;
	pid_t pid;
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make(sizeof(v), 0, 0);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t x = 77;

		/* Child: sends once the parent has waited a while. */
		if (!wait_for_waiters(fd, 0, 1))
			_exit(1);
		usleep(100 * 1000);
		_exit(gochan_send(fd, &x, GOCHAN_NO_DEADLINE) ? 2 : 0);
	}
	/* -5 is no deadline, not one long passed: the receive waits for the value. */
	EXPECT_EQ(0, gochan_recv(fd, &v, &ok, -5));
	EXPECT_TRUE(ok);
	EXPECT_EQ(77, v);
	EXPECT_EQ(0, reap(pid));
	close(fd);
}

TEST(now_ns_is_the_monotonic_clock)
{
	struct timespec ts;
	int64_t a, b, c;

	a = gochan_now_ns();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	b = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	c = gochan_now_ns();
	/* gochan_now_ns reads CLOCK_MONOTONIC: it brackets a direct read. */
	EXPECT_LE(a, b);
	EXPECT_LE(b, c);
}

TEST_HARNESS_MAIN
