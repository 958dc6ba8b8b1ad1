// SPDX-License-Identifier: GPL-2.0
/*
 * Description: gochan_select (with and without a deadline) / gochan_try_select and
 * the GOCHAN_SEND / GOCHAN_RECV builders, through the library: a ready case
 * runs at once; the choice among ready cases is random (roughly: the
 * module's own selftests check uniformity); no ready case is -EAGAIN for
 * the non-blocking form and -ETIMEDOUT at a deadline; a closed channel's
 * receive case runs with ok = false; a send case on a closed channel is
 * -EPIPE with its index in the result; a blocked select is woken by
 * another process (a plain send, or another select); signals are retried
 * with the same deadline; errno is preserved; bad arguments fail before
 * anything moves.  Select sets (gochan_selset and the three selects on a
 * set): the same rules on a set used many times, its fd readable while a
 * case is ready, its channels kept after their fds close, and its errors.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>

#include "helpers.h"

#define LATE_NS	(5000 * MSEC)	/* how late a timed-out call may return */

/* A result no call writes: a select that wrote it shows. */
#define RES_CANARY ((struct gochan_select_result){ .index = 777, .ok = true })

static int make_chan(size_t elem_size, unsigned capacity)
{
	return gochan_make(elem_size, capacity, GOCHAN_CREATE_CLOEXEC);
}

static unsigned chan_len(int fd)
{
	struct gochan_stat st;

	return gochan_stat(fd, &st) ? ~0u : st.len;
}

TEST(ready_recv_case_runs_with_its_value)
{
	struct gochan_select_result res = RES_CANARY;
	uint64_t v = 0, in = 42;
	int a, b;

	REQUIRE_GOCHAN();
	a = make_chan(sizeof(v), 1);
	b = make_chan(sizeof(v), 1);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, gochan_send(b, &in, GOCHAN_NO_DEADLINE));
	{
		struct gochan_select_case cases[] = {
			GOCHAN_RECV(a, &v),
			GOCHAN_RECV(b, &v),
		};

		errno = ERRNO_CANARY;
		/* Only b holds a value: case 1 runs, whatever the blocking form. */
		EXPECT_EQ(1, gochan_select(cases, 2, &res, GOCHAN_NO_DEADLINE));
		EXPECT_EQ(1, res.index);
		EXPECT_TRUE(res.ok);
		EXPECT_EQ(42, v);
		/* The library did not leave anything in errno. */
		EXPECT_EQ(ERRNO_CANARY, errno);

		ASSERT_EQ(0, gochan_send(a, &in, GOCHAN_NO_DEADLINE));
		res = RES_CANARY;
		EXPECT_EQ(0, gochan_try_select(cases, 2, &res));
		EXPECT_EQ(0, res.index);
		EXPECT_TRUE(res.ok);

		ASSERT_EQ(0, gochan_send(b, &in, GOCHAN_NO_DEADLINE));
		/* A passed deadline does not stop a ready case; res may be NULL. */
		EXPECT_EQ(1, gochan_select(cases, 2, NULL,
						 gochan_now_ns() - 1000 * MSEC));
		EXPECT_EQ(ERRNO_CANARY, errno);
	}
	/* Both channels are empty again: each case took exactly one value. */
	EXPECT_EQ(0, chan_len(a));
	EXPECT_EQ(0, chan_len(b));
	close(a);
	close(b);
}

TEST(ready_send_case_runs_and_reports_ok_false)
{
	struct gochan_select_result res = RES_CANARY;
	uint64_t out = 7, got = 0, junk = 0;
	bool ok = false;
	int full, room;

	REQUIRE_GOCHAN();
	full = make_chan(sizeof(out), 1);
	room = make_chan(sizeof(out), 1);
	ASSERT_LE(0, full);
	ASSERT_LE(0, room);
	ASSERT_EQ(0, gochan_send(full, &junk, GOCHAN_NO_DEADLINE));
	{
		struct gochan_select_case cases[] = {
			GOCHAN_SEND(full, &out),
			GOCHAN_SEND(room, &out),
		};

		/* full has no room: the send on room runs; ok is false for a send. */
		EXPECT_EQ(1, gochan_try_select(cases, 2, &res));
		EXPECT_EQ(1, res.index);
		EXPECT_FALSE(res.ok);
	}
	ASSERT_EQ(0, gochan_try_recv(room, &got, &ok));
	EXPECT_TRUE(ok);
	EXPECT_EQ(7, got);
	/* The case that did not run sent nothing. */
	EXPECT_EQ(1, chan_len(full));
	close(full);
	close(room);
}

TEST(choice_among_ready_cases_is_random)
{
	enum { RUNS = 200 };
	struct gochan_select_result res;
	unsigned count[2] = { 0, 0 };
	uint64_t v = 1;
	int a, b;

	REQUIRE_GOCHAN();
	a = make_chan(sizeof(v), RUNS);
	b = make_chan(sizeof(v), RUNS);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	{
		struct gochan_select_case cases[] = {
			GOCHAN_SEND(a, &v),
			GOCHAN_SEND(b, &v),
		};

		for (int i = 0; i < RUNS; i++) {
			int r = gochan_try_select(cases, 2, &res);

			ASSERT_TRUE(r == 0 || r == 1);
			count[r]++;
		}
	}
	/* Both always ready: each is chosen often, not always the first
	 * (below 30 of 200 at p = 1/2 has probability < 1e-24; the module's
	 * selftests do the chi-square). */
	EXPECT_LE(30, count[0]);
	EXPECT_LE(30, count[1]);
	/* Each select sent exactly one element, on the case it reported. */
	EXPECT_EQ(count[0], chan_len(a));
	EXPECT_EQ(count[1], chan_len(b));
	close(a);
	close(b);
}

TEST(duplicate_cases_on_one_channel)
{
	struct gochan_select_result res;
	uint64_t v = 5, w = 0;
	int c;

	REQUIRE_GOCHAN();
	c = make_chan(sizeof(v), 2);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, gochan_send(c, &v, GOCHAN_NO_DEADLINE));
	{
		struct gochan_select_case cases[] = {
			GOCHAN_RECV(c, &w),
			GOCHAN_RECV(c, &w),
		};
		int r = gochan_select(cases, 2, &res, GOCHAN_NO_DEADLINE);

		/* Go allows duplicate cases: one of them takes the value. */
		EXPECT_TRUE(r == 0 || r == 1);
		EXPECT_TRUE(res.ok);
		EXPECT_EQ(5, w);
		/* Nothing is left for a second try. */
		EXPECT_EQ(-EAGAIN, gochan_try_select(cases, 2, &res));
	}
	close(c);
}

TEST(try_select_with_nothing_ready_is_eagain)
{
	struct gochan_select_result res = RES_CANARY;
	struct gochan_stat st;
	uint64_t v = 3, w = 9, junk = 0;
	int empty, full;

	REQUIRE_GOCHAN();
	empty = make_chan(sizeof(v), 1);
	full = make_chan(sizeof(v), 1);
	ASSERT_LE(0, empty);
	ASSERT_LE(0, full);
	ASSERT_EQ(0, gochan_send(full, &junk, GOCHAN_NO_DEADLINE));
	{
		struct gochan_select_case cases[] = {
			GOCHAN_RECV(empty, &w),
			GOCHAN_SEND(full, &v),
		};

		errno = ERRNO_CANARY;
		/* Go's default: -EAGAIN at once ... */
		EXPECT_EQ(-EAGAIN, gochan_try_select(cases, 2, &res));
		EXPECT_EQ(ERRNO_CANARY, errno);
	}
	/* ... with nothing written: not the buffer, not the result. */
	EXPECT_EQ(9, w);
	EXPECT_EQ(777, res.index);
	/* No waiter left behind, nothing sent. */
	ASSERT_EQ(0, gochan_stat(empty, &st));
	EXPECT_EQ(0, st.recv_waiters);
	ASSERT_EQ(0, gochan_stat(full, &st));
	EXPECT_EQ(0, st.send_waiters);
	EXPECT_EQ(1, st.sent);
	close(empty);
	close(full);
}

TEST(select_times_out_at_the_deadline)
{
	struct gochan_select_result res = RES_CANARY;
	struct gochan_stat st;
	int64_t deadline, now;
	uint64_t w = 9;
	int a, b;

	REQUIRE_GOCHAN();
	a = make_chan(sizeof(w), 0);
	b = make_chan(0, 0);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	{
		struct gochan_select_case cases[] = {
			GOCHAN_RECV(a, &w),
			GOCHAN_SEND(b, NULL),
		};

		deadline = gochan_now_ns() + 50 * MSEC;
		errno = ERRNO_CANARY;
		/* Nobody comes: -ETIMEDOUT ... */
		EXPECT_EQ(-ETIMEDOUT, gochan_select(cases, 2, &res, deadline));
		now = gochan_now_ns();
		/* ... not before the deadline and not long after it ... */
		EXPECT_GE(now, deadline);
		EXPECT_LT(now, deadline + LATE_NS);
		EXPECT_EQ(ERRNO_CANARY, errno);
		/* ... and a passed deadline with nothing ready is -ETIMEDOUT
		 * too, not -EAGAIN. */
		EXPECT_EQ(-ETIMEDOUT, gochan_select(cases, 2, &res,
							  now - 1000 * MSEC));
	}
	EXPECT_EQ(9, w);
	EXPECT_EQ(777, res.index);
	/* The waiters were unlinked from both channels. */
	ASSERT_EQ(0, gochan_stat(a, &st));
	EXPECT_EQ(0, st.recv_waiters);
	ASSERT_EQ(0, gochan_stat(b, &st));
	EXPECT_EQ(0, st.send_waiters);
	close(a);
	close(b);
}

TEST(zero_cases)
{
	int64_t deadline;

	REQUIRE_GOCHAN();
	/* Go's "select { default: }": nothing can run. */
	EXPECT_EQ(-EAGAIN, gochan_try_select(NULL, 0, NULL));
	/* "select {}" with a deadline: sleeps until it. */
	deadline = gochan_now_ns() + 30 * MSEC;
	EXPECT_EQ(-ETIMEDOUT, gochan_select(NULL, 0, NULL, deadline));
	EXPECT_GE(gochan_now_ns(), deadline);
}

TEST(closed_channel_recv_case_runs_with_ok_false)
{
	struct gochan_select_result res = RES_CANARY;
	uint64_t v = 11, w = 0;
	int open_fd, closed_fd;

	REQUIRE_GOCHAN();
	open_fd = make_chan(sizeof(v), 0);
	closed_fd = make_chan(sizeof(v), 1);
	ASSERT_LE(0, open_fd);
	ASSERT_LE(0, closed_fd);
	ASSERT_EQ(0, gochan_send(closed_fd, &v, GOCHAN_NO_DEADLINE));
	ASSERT_EQ(0, gochan_close(closed_fd));
	{
		struct gochan_select_case cases[] = {
			GOCHAN_RECV(open_fd, &w),
			GOCHAN_RECV(closed_fd, &w),
		};

		/* The buffered value still comes first, with ok = true ... */
		EXPECT_EQ(1, gochan_try_select(cases, 2, &res));
		EXPECT_TRUE(res.ok);
		EXPECT_EQ(11, w);
		/* ... then the drained, closed channel is ready with ok = false,
		 * its buffer untouched; a blocking select does not block. */
		w = 0;
		res = RES_CANARY;
		EXPECT_EQ(1, gochan_select(cases, 2, &res, GOCHAN_NO_DEADLINE));
		EXPECT_EQ(1, res.index);
		EXPECT_FALSE(res.ok);
		EXPECT_EQ(0, w);
	}
	close(open_fd);
	close(closed_fd);
}

TEST(send_case_on_closed_channel_is_epipe_with_its_index)
{
	struct gochan_select_result res = RES_CANARY;
	uint64_t v = 1, w = 0;
	int empty, closed_fd;

	REQUIRE_GOCHAN();
	empty = make_chan(sizeof(v), 0);
	closed_fd = make_chan(sizeof(v), 4);
	ASSERT_LE(0, empty);
	ASSERT_LE(0, closed_fd);
	ASSERT_EQ(0, gochan_close(closed_fd));
	{
		struct gochan_select_case cases[] = {
			GOCHAN_RECV(empty, &w),
			GOCHAN_RECV(empty, &w),
			GOCHAN_SEND(closed_fd, &v),
		};

		errno = ERRNO_CANARY;
		/* The closed channel's send case is the only ready one: the
		 * select fails as Go's panics, and says which case. */
		EXPECT_EQ(-EPIPE, gochan_select(cases, 3, &res, GOCHAN_NO_DEADLINE));
		EXPECT_EQ(2, res.index);
		EXPECT_FALSE(res.ok);
		EXPECT_EQ(ERRNO_CANARY, errno);
		/* Every form says the same. */
		res = RES_CANARY;
		EXPECT_EQ(-EPIPE, gochan_try_select(cases, 3, &res));
		EXPECT_EQ(2, res.index);
		res = RES_CANARY;
		EXPECT_EQ(-EPIPE, gochan_select(cases, 3, &res,
						      gochan_now_ns() + WAIT_NS));
		EXPECT_EQ(2, res.index);
	}
	/* Nothing was sent. */
	EXPECT_EQ(0, chan_len(closed_fd));
	close(empty);
	close(closed_fd);
}

TEST(close_while_waiting_ends_a_send_case_with_epipe)
{
	struct gochan_select_result res = RES_CANARY;
	uint64_t v = 1, w = 0;
	int a, b;
	pid_t pid;

	REQUIRE_GOCHAN();
	a = make_chan(sizeof(v), 0);
	b = make_chan(sizeof(v), 0);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Child: once the parent waits to send on b, close b. */
		if (!wait_for_waiters(b, 1, 0))
			_exit(1);
		_exit(gochan_close(b) ? 2 : 0);
	}
	{
		struct gochan_select_case cases[] = {
			GOCHAN_RECV(a, &w),
			GOCHAN_SEND(b, &v),
		};

		/* The close wakes the waiting send case: -EPIPE, index 1. */
		EXPECT_EQ(-EPIPE, gochan_select(cases, 2, &res, GOCHAN_NO_DEADLINE));
		EXPECT_EQ(1, res.index);
		EXPECT_FALSE(res.ok);
	}
	EXPECT_EQ(0, reap(pid));
	close(a);
	close(b);
}

TEST(blocking_select_is_woken_by_another_process)
{
	struct gochan_select_result res = RES_CANARY;
	uint64_t va = 0, vb = 0;
	int a, b;
	pid_t pid;

	REQUIRE_GOCHAN();
	a = make_chan(sizeof(va), 0);
	b = make_chan(sizeof(vb), 0);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t x = 8080;

		/* Child: once the select waits on both, a plain send on b. */
		if (!wait_for_waiters(a, 0, 1) || !wait_for_waiters(b, 0, 1))
			_exit(1);
		_exit(gochan_send(b, &x, GOCHAN_NO_DEADLINE) ? 2 : 0);
	}
	{
		struct gochan_select_case cases[] = {
			GOCHAN_RECV(a, &va),
			GOCHAN_RECV(b, &vb),
		};

		/* The unbuffered send hands its value to the waiting case 1. */
		EXPECT_EQ(1, gochan_select(cases, 2, &res, GOCHAN_NO_DEADLINE));
		EXPECT_TRUE(res.ok);
		EXPECT_EQ(8080, vb);
		/* The other case's buffer was not written. */
		EXPECT_EQ(0, va);
	}
	EXPECT_EQ(0, reap(pid));
	/* The select's waiter on a is gone. */
	EXPECT_TRUE(wait_for_waiters(a, 0, 0));
	close(a);
	close(b);
}

TEST(select_meets_select_across_processes)
{
	struct gochan_select_result res = RES_CANARY;
	uint64_t v = 0;
	int c, never, nobody;
	pid_t pid;

	REQUIRE_GOCHAN();
	c = make_chan(sizeof(v), 0);
	/* Each side's other case is on a channel nobody else uses. */
	never = make_chan(sizeof(v), 0);
	nobody = make_chan(sizeof(v), 0);
	ASSERT_LE(0, c);
	ASSERT_LE(0, never);
	ASSERT_LE(0, nobody);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t x = 99, y = 0;
		struct gochan_select_case cases[] = {
			GOCHAN_RECV(never, &y),
			GOCHAN_SEND(c, &x),
		};
		struct gochan_select_result r;

		/* Child: a select that sends on c once the parent waits. */
		if (!wait_for_waiters(c, 0, 1))
			_exit(1);
		_exit(gochan_select(cases, 2, &r,
					  gochan_now_ns() + WAIT_NS) == 1 ? 0 : 2);
	}
	{
		struct gochan_select_case cases[] = {
			GOCHAN_SEND(nobody, &v),
			GOCHAN_RECV(c, &v),
		};

		/* Two selects rendezvous on the unbuffered channel. */
		EXPECT_EQ(1, gochan_select(cases, 2, &res,
						 gochan_now_ns() + WAIT_NS));
		EXPECT_TRUE(res.ok);
		EXPECT_EQ(99, v);
	}
	EXPECT_EQ(0, reap(pid));
	close(c);
	close(never);
	close(nobody);
}

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

TEST(signal_is_retried_and_the_deadline_kept)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct gochan_select_result res = RES_CANARY;
	uint64_t v = 0;
	int64_t deadline, now;
	int a, b;
	pid_t pid;

	REQUIRE_GOCHAN();
	/* Without SA_RESTART: the kernel reports EINTR to the library. */
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	a = make_chan(sizeof(v), 0);
	b = make_chan(sizeof(v), 0);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);

	/* 1. Blocking form: signalled, retried, then a value arrives. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t x = 31337;

		if (!wait_for_waiters(b, 0, 1) || kill(getppid(), SIGUSR1))
			_exit(1);
		/* The parent leaves the wait for its handler and comes back. */
		sleep_ns(100 * MSEC);
		if (!wait_for_waiters(b, 0, 1))
			_exit(2);
		_exit(gochan_send(b, &x, GOCHAN_NO_DEADLINE) ? 3 : 0);
	}
	{
		struct gochan_select_case cases[] = {
			GOCHAN_RECV(a, &v),
			GOCHAN_RECV(b, &v),
		};

		errno = ERRNO_CANARY;
		/* The select returns the value sent after the signal, not -EINTR. */
		EXPECT_EQ(1, gochan_select(cases, 2, &res, GOCHAN_NO_DEADLINE));
		EXPECT_EQ(31337, v);
		EXPECT_LE(1, handled);
		EXPECT_EQ(ERRNO_CANARY, errno);
		EXPECT_EQ(0, reap(pid));

		/* 2. Deadline form: a signal 1 s before a 2.5 s deadline. */
		handled = 0;
		deadline = gochan_now_ns() + 2500 * MSEC;
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			int64_t at = deadline - 1000 * MSEC;

			if (!wait_for_waiters(b, 0, 1))
				_exit(1);
			if (at > gochan_now_ns())
				sleep_ns(at - gochan_now_ns());
			_exit(kill(getppid(), SIGUSR1) ? 2 : 0);
		}
		/* Neither ended at the signal nor extended past the deadline. */
		EXPECT_EQ(-ETIMEDOUT, gochan_select(cases, 2, &res, deadline));
		now = gochan_now_ns();
		EXPECT_LE(1, handled);
		EXPECT_GE(now, deadline);
		EXPECT_LT(now, deadline + 1000 * MSEC);
		EXPECT_EQ(0, reap(pid));
	}
	close(a);
	close(b);
}

TEST(bad_arguments_fail_before_anything_moves)
{
	struct gochan_select_result res = RES_CANARY;
	uint64_t v = 1, w = 0;
	int c, room, pipefd[2], nofd;
	void *ro;

	REQUIRE_GOCHAN();
	c = make_chan(sizeof(v), 1);
	room = make_chan(sizeof(v), 1);
	ASSERT_LE(0, c);
	ASSERT_LE(0, room);
	ASSERT_EQ(0, pipe(pipefd));
	nofd = lowest_free_fd();
	ASSERT_LE(0, nofd);
	ASSERT_EQ(0, gochan_send(c, &v, GOCHAN_NO_DEADLINE));
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	errno = ERRNO_CANARY;

	{
		/* A closed fd, first or later: -EBADF. */
		struct gochan_select_case first[] = {
			GOCHAN_RECV(nofd, &w), GOCHAN_RECV(c, &w),
		};
		struct gochan_select_case later[] = {
			GOCHAN_RECV(c, &w), GOCHAN_RECV(nofd, &w),
		};

		EXPECT_EQ(-EBADF, gochan_try_select(first, 2, &res));
		EXPECT_EQ(-EBADF, gochan_try_select(later, 2, &res));
	}
	{
		/* An fd that is not a channel: -EINVAL wherever it is. */
		struct gochan_select_case first[] = {
			GOCHAN_RECV(pipefd[0], &w), GOCHAN_RECV(c, &w),
		};
		struct gochan_select_case later[] = {
			GOCHAN_RECV(c, &w), GOCHAN_RECV(pipefd[0], &w),
		};

		EXPECT_EQ(-EINVAL, gochan_try_select(first, 2, &res));
		EXPECT_EQ(-EINVAL, gochan_try_select(later, 2, &res));
	}
	{
		/* A bad op, a nonzero reserved field: -EINVAL. */
		struct gochan_select_case cases[] = {
			GOCHAN_RECV(c, &w), GOCHAN_RECV(c, &w),
		};

		cases[1].op = 3;
		EXPECT_EQ(-EINVAL, gochan_try_select(cases, 2, &res));
		cases[1] = GOCHAN_RECV(c, &w);
		cases[1].reserved = 1;
		EXPECT_EQ(-EINVAL, gochan_try_select(cases, 2, &res));
		/* Too many cases: -EINVAL before any is read. */
		EXPECT_EQ(-EINVAL, gochan_try_select(cases,
						     GOCHAN_SELECT_CASES_MAX + 1, &res));
	}
	{
		/* A send value that cannot be read: -EFAULT, nothing sent,
		 * though another case was ready. */
		struct gochan_select_case cases[] = {
			GOCHAN_SEND(room, &v), GOCHAN_SEND(room, (void *)8),
		};

		EXPECT_EQ(-EFAULT, gochan_try_select(cases, 2, &res));
		EXPECT_EQ(0, chan_len(room));
	}
	{
		/* A receive buffer that cannot be written: -EFAULT, and the
		 * value stays in the channel. */
		struct gochan_select_case cases[] = { GOCHAN_RECV(c, ro) };

		EXPECT_EQ(-EFAULT, gochan_select(cases, 1, &res, GOCHAN_NO_DEADLINE));
		EXPECT_EQ(1, chan_len(c));
	}
	/* No failure wrote the result, or errno. */
	EXPECT_EQ(777, res.index);
	EXPECT_EQ(ERRNO_CANARY, errno);
	/* The value the faulting receive gave back is still there. */
	{
		bool ok = false;

		EXPECT_EQ(0, gochan_try_recv(c, &w, &ok));
		EXPECT_TRUE(ok);
		EXPECT_EQ(1, w);
	}
	munmap(ro, 4096);
	close(pipefd[0]);
	close(pipefd[1]);
	close(c);
	close(room);
}

TEST(signal_channel_cases_take_null_buffers)
{
	struct gochan_select_result res;
	int sig;

	REQUIRE_GOCHAN();
	sig = make_chan(0, 1);
	ASSERT_LE(0, sig);
	{
		struct gochan_select_case send[] = { GOCHAN_SEND(sig, NULL) };
		struct gochan_select_case recv[] = { GOCHAN_RECV(sig, NULL) };

		/* chan struct{}: no buffer at all, either way. */
		EXPECT_EQ(0, gochan_try_select(send, 1, &res));
		EXPECT_EQ(0, gochan_try_select(recv, 1, &res));
		EXPECT_TRUE(res.ok);
		EXPECT_EQ(-EAGAIN, gochan_try_select(recv, 1, &res));
	}
	close(sig);
}

/* A set used many times: sends, receives, closes and a blocked wait. */
TEST(select_set_runs_the_same_select_many_times)
{
	struct gochan_select_result res = RES_CANARY;
	uint64_t in = 0, out = 7;
	int a, b, set;
	pid_t pid;

	REQUIRE_GOCHAN();
	a = make_chan(sizeof(in), 2);
	b = make_chan(sizeof(out), 1);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	/* b full: case 1 not ready */
	ASSERT_EQ(0, gochan_send(b, &out, GOCHAN_NO_DEADLINE));
	{
		struct gochan_select_case cases[] = {
			GOCHAN_RECV(a, &in),
			GOCHAN_SEND(b, &out),
		};

		set = gochan_selset(cases, 2, GOCHAN_SELSET_CLOEXEC);
	}
	ASSERT_LE(0, set);
	EXPECT_TRUE(fcntl(set, F_GETFD) & FD_CLOEXEC);
	errno = ERRNO_CANARY;
	EXPECT_EQ(-EAGAIN, gochan_selset_try(set, &res));
	EXPECT_EQ(ERRNO_CANARY, errno);
	for (uint64_t i = 1; i <= 50; i++) {
		uint64_t got;

		/* Alternately: a value to receive, then room to send one. */
		ASSERT_EQ(0, gochan_send(a, &i, GOCHAN_NO_DEADLINE));
		ASSERT_EQ(0, gochan_selset_try(set, &res));
		ASSERT_TRUE(res.ok);
		ASSERT_EQ(i, in);
		ASSERT_EQ(0, gochan_recv(b, &got, NULL, GOCHAN_NO_DEADLINE));
		out = 1000 + i;		/* the set sends what buf holds now */
		ASSERT_EQ(1, gochan_selset_select(set, &res, GOCHAN_NO_DEADLINE));
		ASSERT_FALSE(res.ok);
		ASSERT_EQ(0, gochan_recv(b, &got, NULL, GOCHAN_NO_DEADLINE));
		ASSERT_EQ(1000 + i, got);
		ASSERT_EQ(0, gochan_send(b, &out, GOCHAN_NO_DEADLINE));
	}
	/* A deadline with nothing ready. */
	EXPECT_EQ(-ETIMEDOUT, gochan_selset_select(set, &res, gochan_now_ns() + 20 * MSEC));
	/* Blocked on the set, woken by another process. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t x = 99;

		if (!wait_for_waiters(a, 0, 1))
			_exit(1);
		_exit(gochan_send(a, &x, GOCHAN_NO_DEADLINE) ? 2 : 0);
	}
	EXPECT_EQ(0, gochan_selset_select(set, &res, GOCHAN_NO_DEADLINE));
	EXPECT_EQ(99, in);
	EXPECT_EQ(0, reap(pid));
	/* Closing a send case's channel: -EPIPE with its index. */
	ASSERT_EQ(0, gochan_close(b));
	res = RES_CANARY;
	EXPECT_EQ(-EPIPE, gochan_selset_try(set, &res));
	EXPECT_EQ(1, res.index);
	close(set);
	close(a);
	close(b);
}

TEST(select_set_keeps_its_channels_and_polls_readable)
{
	struct gochan_select_result res;
	struct pollfd pfd;
	uint64_t v = 5, got = 0;
	int a, set;

	REQUIRE_GOCHAN();
	a = make_chan(sizeof(v), 1);
	ASSERT_LE(0, a);
	{
		struct gochan_select_case c = GOCHAN_RECV(a, &got);

		set = gochan_selset(&c, 1, 0);
	}
	ASSERT_LE(0, set);
	pfd = (struct pollfd){ .fd = set, .events = POLLIN };
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, gochan_send(a, &v, GOCHAN_NO_DEADLINE));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	close(a);			/* the set keeps the channel */
	EXPECT_EQ(0, gochan_selset_try(set, &res));
	EXPECT_EQ(5, got);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	close(set);
}

TEST(select_set_errors)
{
	struct gochan_select_result res = RES_CANARY;
	uint64_t v;
	int a, p[2], set;

	REQUIRE_GOCHAN();
	a = make_chan(sizeof(v), 1);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, pipe(p));
	{
		struct gochan_select_case bad_fd = GOCHAN_RECV(-1, &v);
		struct gochan_select_case not_chan = GOCHAN_RECV(p[0], &v);
		struct gochan_select_case bad_op = { .fd = a, .op = 9 };
		struct gochan_select_case ok = GOCHAN_RECV(a, &v);

		errno = ERRNO_CANARY;
		EXPECT_EQ(-EBADF, gochan_selset(&bad_fd, 1, 0));
		EXPECT_EQ(-EINVAL, gochan_selset(&not_chan, 1, 0));
		EXPECT_EQ(-EINVAL, gochan_selset(&bad_op, 1, 0));
		EXPECT_EQ(-EINVAL, gochan_selset(&ok, 1, 0x80));
		EXPECT_EQ(ERRNO_CANARY, errno);
		/* A set with no case: "select {}" (here with a deadline). */
		set = gochan_selset(NULL, 0, GOCHAN_SELSET_CLOEXEC);
		ASSERT_LE(0, set);
		EXPECT_EQ(-EAGAIN, gochan_selset_try(set, &res));
		EXPECT_EQ(-ETIMEDOUT, gochan_selset_select(set, &res, gochan_now_ns() + 10 * MSEC));
		close(set);
	}
	/* Not a set (nor a channel). */
	EXPECT_EQ(-EINVAL, gochan_selset_try(p[0], &res));
	EXPECT_EQ(-EBADF, gochan_selset_try(-1, &res));
	EXPECT_EQ(777, res.index);	/* untouched */
	close(p[0]);
	close(p[1]);
	close(a);
}

TEST_HARNESS_MAIN
