// SPDX-License-Identifier: GPL-2.0
/*
 * Description: gochan_stat(): every field of a fresh channel, the creator
 * as seen from another process, and the waiter counts while peers block.
 */
#include "helpers.h"

TEST(stat_of_a_fresh_channel)
{
	struct gochan_stat st;
	uint64_t id;
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make_id(16, 3, 0, &id);
	ASSERT_LE(0, fd);
	/* Garbage in the caller's struct does not matter: the library sets
	 * the inputs itself. */
	memset(&st, 0xff, sizeof(st));
	errno = ERRNO_CANARY;
	ASSERT_EQ(0, gochan_stat(fd, &st));
	/* Success leaves errno alone. */
	EXPECT_EQ(ERRNO_CANARY, errno);
	/* The fields of a channel nobody used yet. */
	EXPECT_EQ(sizeof(st), st.size);
	EXPECT_EQ(0, st.flags);
	EXPECT_EQ(id, st.id);
	EXPECT_EQ(16, st.elem_size);
	EXPECT_EQ(3, st.capacity);
	EXPECT_EQ(0, st.len);
	EXPECT_EQ(0, st.send_waiters);
	EXPECT_EQ(0, st.recv_waiters);
	EXPECT_EQ(0, st.sent);
	EXPECT_EQ(0, st.received);
	EXPECT_EQ(getpid(), st.creator_pid);
	/* Reserved output fields are zero. */
	EXPECT_EQ(0, st.reserved0);
	EXPECT_EQ(0, st.reserved1);
	EXPECT_EQ(0, st.reserved[0]);
	EXPECT_EQ(0, st.reserved[1]);
	close(fd);
}

TEST(stat_from_another_process_names_the_creator)
{
	pid_t pid, parent = getpid();
	uint64_t id;
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make_id(0, 0, 0, &id);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct gochan_stat st;

		if (gochan_stat(fd, &st))
			_exit(1);
		/* Same channel, created by the parent, not by this process. */
		_exit(st.id == id && st.creator_pid == parent ? 0 : 2);
	}
	/* The child saw the parent's channel and the parent as its creator. */
	EXPECT_EQ(0, reap(pid));
	close(fd);
}

TEST(stat_counts_blocked_senders_and_receivers)
{
	enum { N = 2 };
	struct gochan_stat st;
	pid_t pids[2 * N];
	int fd, sig;

	REQUIRE_GOCHAN();
	fd = gochan_make(0, 0, 0);
	ASSERT_LE(0, fd);
	sig = gochan_make(0, 0, 0);
	ASSERT_LE(0, sig);
	/* N receivers block on fd. */
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0)
			_exit(gochan_recv(fd, NULL, NULL, GOCHAN_NO_DEADLINE) ? 1 : 0);
	}
	ASSERT_TRUE(wait_for_waiters(fd, 0, N));
	ASSERT_EQ(0, gochan_stat(fd, &st));
	/* Exactly N blocked receives, no blocked send. */
	EXPECT_EQ(N, st.recv_waiters);
	EXPECT_EQ(0, st.send_waiters);
	/* N senders block on sig, another channel. */
	for (int i = N; i < 2 * N; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0)
			_exit(gochan_send(sig, NULL, GOCHAN_NO_DEADLINE) == -EPIPE ? 0 : 1);
	}
	ASSERT_TRUE(wait_for_waiters(sig, N, 0));
	ASSERT_EQ(0, gochan_stat(sig, &st));
	/* Exactly N blocked sends there, and no receive. */
	EXPECT_EQ(N, st.send_waiters);
	EXPECT_EQ(0, st.recv_waiters);
	/* Release everybody: close both; receivers get ok = false, senders
	 * EPIPE. */
	ASSERT_EQ(0, gochan_close(fd));
	ASSERT_EQ(0, gochan_close(sig));
	for (int i = 0; i < 2 * N; i++) {
		EXPECT_EQ(0, reap(pids[i])) TH_LOG("child %d", i);
	}
	ASSERT_EQ(0, gochan_stat(fd, &st));
	/* Once they are gone, no waiter is counted. */
	EXPECT_EQ(0, st.recv_waiters);
	ASSERT_EQ(0, gochan_stat(sig, &st));
	EXPECT_EQ(0, st.send_waiters);
	close(fd);
	close(sig);
}

TEST_HARNESS_MAIN
