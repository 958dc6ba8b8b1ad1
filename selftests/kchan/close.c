// SPDX-License-Identifier: GPL-2.0
/*
 * Description: gochan_close(): later and blocked sends fail with EPIPE,
 * receivers drain the ring and then see ok = false, blocked receivers are
 * woken, a second close is EPIPE, and every fd and process sees the close;
 * a channel made with GOCHAN_CREATE_CLOSE_ON_LAST_SENDER closes when its
 * last fd that can send is closed, and gochan_dup() gives receive-only fds.
 */
#include "helpers.h"

TEST(send_after_close_gives_epipe)
{
	uint32_t v = 1;
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make(sizeof(v), 2, 0);
	ASSERT_LE(0, fd);
	/* Closing an open channel succeeds. */
	ASSERT_EQ(0, gochan_close(fd));
	errno = ERRNO_CANARY;
	/* Every send form fails with EPIPE, even with room in the ring. */
	EXPECT_EQ(-EPIPE, gochan_send(fd, &v, GOCHAN_NO_DEADLINE));
	EXPECT_EQ(-EPIPE, gochan_try_send(fd, &v));
	EXPECT_EQ(-EPIPE, gochan_send(fd, &v, gochan_now_ns() + 1000 * MSEC));
	EXPECT_EQ(ERRNO_CANARY, errno);
	close(fd);
}

TEST(close_twice_gives_epipe)
{
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make(0, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gochan_close(fd));
	errno = ERRNO_CANARY;
	/* The second close is an error (Go panics), EPIPE. */
	EXPECT_EQ(-EPIPE, gochan_close(fd));
	EXPECT_EQ(ERRNO_CANARY, errno);
}

TEST(receivers_drain_then_see_not_ok)
{
	struct gochan_stat st;
	uint32_t v;
	bool ok;
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make(sizeof(v), 4, 0);
	ASSERT_LE(0, fd);
	for (v = 10; v < 13; v++)
		ASSERT_EQ(0, gochan_send(fd, &v, GOCHAN_NO_DEADLINE));
	ASSERT_EQ(0, gochan_close(fd));
	ASSERT_EQ(0, gochan_stat(fd, &st));
	/* stat shows the close and the three elements still buffered. */
	EXPECT_EQ(GOCHAN_STAT_CLOSED, st.flags & GOCHAN_STAT_CLOSED);
	EXPECT_EQ(3, st.len);
	/* What was buffered before the close is still received, in order,
	 * by each receive form. */
	ok = false;
	ASSERT_EQ(0, gochan_recv(fd, &v, &ok, GOCHAN_NO_DEADLINE));
	EXPECT_TRUE(ok);
	EXPECT_EQ(10, v);
	ok = false;
	ASSERT_EQ(0, gochan_try_recv(fd, &v, &ok));
	EXPECT_TRUE(ok);
	EXPECT_EQ(11, v);
	ok = false;
	ASSERT_EQ(0, gochan_recv(fd, &v, &ok, gochan_now_ns() + 1000 * MSEC));
	EXPECT_TRUE(ok);
	EXPECT_EQ(12, v);
	/* Drained: every receive form returns at once with ok = false and
	 * leaves the buffer alone, again and again. */
	for (int i = 0; i < 2; i++) {
		v = 0xdead;
		ok = true;
		EXPECT_EQ(0, gochan_recv(fd, &v, &ok, GOCHAN_NO_DEADLINE));
		EXPECT_FALSE(ok);
		ok = true;
		EXPECT_EQ(0, gochan_try_recv(fd, &v, &ok));
		EXPECT_FALSE(ok);
		ok = true;
		/* Even with a deadline already passed: end-of-channel is ready. */
		EXPECT_EQ(0, gochan_recv(fd, &v, &ok, 0));
		EXPECT_FALSE(ok);
		EXPECT_EQ(0xdead, v);
	}
	/* A NULL ok is allowed at end-of-channel too. */
	EXPECT_EQ(0, gochan_recv(fd, &v, NULL, GOCHAN_NO_DEADLINE));
	close(fd);
}

TEST(close_wakes_every_blocked_receiver)
{
	enum { N = 3 };
	pid_t pids[N];
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make(8, 0, 0);
	ASSERT_LE(0, fd);
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			uint64_t v = 0x5555;
			bool ok = true;

			/* Child: blocks until the close, then ok = false. */
			if (gochan_recv(fd, &v, &ok, GOCHAN_NO_DEADLINE))
				_exit(1);
			_exit(!ok && v == 0x5555 ? 0 : 2);
		}
	}
	/* All N receivers are blocked in the kernel. */
	ASSERT_TRUE(wait_for_waiters(fd, 0, N));
	ASSERT_EQ(0, gochan_close(fd));
	/* Each of them woke with ok = false and an untouched buffer. */
	for (int i = 0; i < N; i++) {
		EXPECT_EQ(0, reap(pids[i])) TH_LOG("receiver %d", i);
	}
	close(fd);
}

TEST(close_fails_a_blocked_sender_with_epipe)
{
	struct gochan_stat st;
	pid_t pid;
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make(8, 0, 0);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t v = 1;

		/* Child: no receiver ever comes; the close ends the send with
		 * EPIPE. */
		_exit(gochan_send(fd, &v, GOCHAN_NO_DEADLINE) == -EPIPE ? 0 : 1);
	}
	ASSERT_TRUE(wait_for_waiters(fd, 1, 0));
	ASSERT_EQ(0, gochan_close(fd));
	/* The blocked sender failed with EPIPE. */
	EXPECT_EQ(0, reap(pid));
	ASSERT_EQ(0, gochan_stat(fd, &st));
	/* Its element was not sent. */
	EXPECT_EQ(0, st.sent);
	EXPECT_EQ(0, st.send_waiters);
	close(fd);
}

TEST(close_is_seen_through_every_fd_and_process)
{
	int fd, dupfd;
	pid_t pid;

	REQUIRE_GOCHAN();
	fd = gochan_make(0, 1, 0);
	ASSERT_LE(0, fd);
	dupfd = dup(fd);
	ASSERT_LE(0, dupfd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		/* Child: closes the channel through its inherited fd. */
		_exit(gochan_close(fd) ? 1 : 0);
	ASSERT_EQ(0, reap(pid));
	/* The parent sees the child's close, through another fd. */
	EXPECT_EQ(-EPIPE, gochan_try_send(dupfd, NULL));
	EXPECT_EQ(-EPIPE, gochan_close(dupfd));
	/* close(2) of one fd does not affect the channel held by another. */
	close(fd);
	bool ok = true;
	EXPECT_EQ(0, gochan_try_recv(dupfd, NULL, &ok));
	EXPECT_FALSE(ok);
	close(dupfd);
}

TEST(last_sender_gone_closes_the_channel)
{
	uint32_t v = 7;
	bool ok = false;
	int fd, r;

	REQUIRE_GOCHAN();
	fd = gochan_make(sizeof(v), 2, GOCHAN_CREATE_CLOEXEC |
			 GOCHAN_CREATE_CLOSE_ON_LAST_SENDER);
	ASSERT_LE(0, fd);
	errno = ERRNO_CANARY;
	/* A receive-only fd for the consumer... */
	r = gochan_dup(fd, GOCHAN_DUP_RECV | GOCHAN_DUP_CLOEXEC);
	ASSERT_LE(0, r);
	/* ...which can neither send, nor close, nor widen itself. */
	EXPECT_EQ(-EBADF, gochan_send(r, &v, GOCHAN_NO_DEADLINE));
	EXPECT_EQ(-EBADF, gochan_close(r));
	EXPECT_EQ(-EBADF, gochan_dup(r, GOCHAN_DUP_SEND));
	/* A dup needs a direction. */
	EXPECT_EQ(-EINVAL, gochan_dup(fd, GOCHAN_DUP_CLOEXEC));
	EXPECT_EQ(ERRNO_CANARY, errno);
	ASSERT_EQ(0, gochan_send(fd, &v, GOCHAN_NO_DEADLINE));
	/* The producer's close(2), not gochan_close(): the channel closes. */
	close(fd);
	v = 0;
	EXPECT_EQ(0, gochan_recv(r, &v, &ok, GOCHAN_NO_DEADLINE));
	EXPECT_TRUE(ok);
	EXPECT_EQ(7, v);
	/* Drained: end-of-channel, without blocking. */
	EXPECT_EQ(0, gochan_recv(r, &v, &ok, GOCHAN_NO_DEADLINE));
	EXPECT_FALSE(ok);
	close(r);
}

TEST_HARNESS_MAIN
