// SPDX-License-Identifier: GPL-2.0
/*
 * Description: signals during blocking calls.  The library's documented
 * choice: a handler without SA_RESTART interrupts the kernel wait (EINTR),
 * the handler runs, and the library retries with the same absolute
 * deadline, so blocking calls never return -EINTR, a signal neither ends
 * nor extends a deadline, and no element is lost or duplicated.
 */
#include <signal.h>

#include "helpers.h"

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

/* SIGUSR1 without SA_RESTART: the kernel reports EINTR to the library. */
static int install_handler(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR1, &sa, NULL);
}

/*
 * Child: wait until the parent blocks (@senders/@receivers waiters) and, if
 * later, until CLOCK_MONOTONIC time @signal_at; signal it; wait until it is
 * blocked again (the library retried); then @then.
 */
enum then { THEN_SEND, THEN_RECV, THEN_NOTHING };

static void signal_blocked_parent(int fd, unsigned senders, unsigned receivers,
				  int64_t signal_at, enum then then)
{
	uint64_t v = 31337;
	int64_t now;

	if (!wait_for_waiters(fd, senders, receivers))
		_exit(1);
	now = gochan_now_ns();
	if (signal_at > now)
		sleep_ns(signal_at - now);
	if (kill(getppid(), SIGUSR1))
		_exit(2);
	/* The parent leaves the wait queue for its handler and comes back. */
	sleep_ns(100 * MSEC);
	if (!wait_for_waiters(fd, senders, receivers))
		_exit(3);
	switch (then) {
	case THEN_SEND:
		_exit(gochan_send(fd, &v, GOCHAN_NO_DEADLINE) ? 4 : 0);
	case THEN_RECV:
		_exit(gochan_recv(fd, &v, NULL, GOCHAN_NO_DEADLINE) || v != 31337 ? 5 : 0);
	case THEN_NOTHING:
		_exit(0);
	}
}

TEST(recv_continues_after_a_signal)
{
	uint64_t v = 0;
	bool ok = false;
	pid_t pid;
	int fd;

	REQUIRE_GOCHAN();
	ASSERT_EQ(0, install_handler());
	fd = gochan_make(sizeof(v), 0, 0);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		signal_blocked_parent(fd, 0, 1, 0, THEN_SEND);
	errno = ERRNO_CANARY;
	/* The signal does not end the receive: it returns the child's value
	 * sent after the signal, not -EINTR. */
	EXPECT_EQ(0, gochan_recv(fd, &v, &ok, GOCHAN_NO_DEADLINE));
	EXPECT_TRUE(ok);
	EXPECT_EQ(31337, v);
	/* The handler ran while this process waited. */
	EXPECT_LE(1, handled);
	/* The EINTR the library saw did not leak into errno. */
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ(0, reap(pid));
	close(fd);
}

TEST(send_continues_after_a_signal_and_sends_once)
{
	struct gochan_stat st;
	uint64_t v = 31337;
	pid_t pid;
	int fd;

	REQUIRE_GOCHAN();
	ASSERT_EQ(0, install_handler());
	fd = gochan_make(sizeof(v), 0, 0);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		signal_blocked_parent(fd, 1, 0, 0, THEN_RECV);
	/* The interrupted send is retried and completes when the child
	 * receives. */
	EXPECT_EQ(0, gochan_send(fd, &v, GOCHAN_NO_DEADLINE));
	EXPECT_LE(1, handled);
	/* The child received the value. */
	EXPECT_EQ(0, reap(pid));
	ASSERT_EQ(0, gochan_stat(fd, &st));
	/* Exactly one element went through: the retry did not send twice. */
	EXPECT_EQ(1, st.sent);
	EXPECT_EQ(1, st.received);
	EXPECT_EQ(-EAGAIN, gochan_try_recv(fd, &v, NULL));
	close(fd);
}

TEST(signal_neither_ends_nor_extends_a_deadline)
{
	int64_t deadline, now;
	uint64_t v;
	pid_t pid;
	int fd;

	REQUIRE_GOCHAN();
	ASSERT_EQ(0, install_handler());
	fd = gochan_make(sizeof(v), 0, 0);
	ASSERT_LE(0, fd);
	/* The child signals 1 s before the deadline, 1.5 s into the wait. */
	deadline = gochan_now_ns() + 2500 * MSEC;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		signal_blocked_parent(fd, 0, 1, deadline - 1000 * MSEC,
				      THEN_NOTHING);
	/* Nobody sends: the wait ends at the deadline with ETIMEDOUT, not
	 * EINTR at the signal ... */
	EXPECT_EQ(-ETIMEDOUT, gochan_recv(fd, &v, NULL, deadline));
	now = gochan_now_ns();
	EXPECT_LE(1, handled);
	/* ... not before the deadline, and well before the 1.5 s later a
	 * relative timeout restarted at the signal would end. */
	EXPECT_GE(now, deadline);
	EXPECT_LT(now, deadline + 1000 * MSEC);
	EXPECT_EQ(0, reap(pid));
	close(fd);
}

TEST_HARNESS_MAIN
