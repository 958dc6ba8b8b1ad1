// SPDX-License-Identifier: GPL-2.0
/*
 * Description: goroutines on kernel channels where io_uring is refused, as in a container
 * whose seccomp profile blocks io_uring_setup (Docker's default does): the runtime cannot
 * queue its waits inside the channels and polls them instead.  A mixed select, a receive
 * and a kernel-only select must still get another process's values, and a deadline must
 * still end a select that nothing wakes.  Each test installs the filter in its own process
 * (the harness forks one per test).
 */
#include <sys/syscall.h>

#include <gochan/chan.h>
#include <gochan/sched.h>

#include "helpers.h"
#include "../common/no_io_uring.h"

/* A child that sends @n values (1, 2, ...) into @fd, @gap_ns apart, the first after @gap_ns. */
static pid_t slow_sender(int fd, int n, int64_t gap_ns)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (long v = 1; v <= n; v++) {
			sleep_ns(gap_ns);
			if (gochan_send(fd, &v, GOCHAN_NO_DEADLINE))
				_exit(1);
		}
		_exit(0);
	}
	return pid;
}

struct polled {
	int fd;
	struct go_chan *kc, *local;
	int mixed, kernel_only, recv, timed_out;
	long got[3];
	bool ok[3];
};

static void polled_main(void *arg)
{
	struct polled *p = arg;
	long never;
	struct go_select_case mixed[2] = {
		GO_RECV_CASE(p->local, &never),
		GO_RECV_CASE(p->kc, &p->got[0]),
	};
	struct gochan_select_case kcase[1] = { GOCHAN_RECV(p->fd, &p->got[2]) };
	struct gochan_select_result res = { 0 };

	/* value 1: a select over an in-process channel and the kernel channel */
	p->mixed = go_select(mixed, 2);
	p->ok[0] = mixed[1].ok;
	/* value 2: a receive */
	p->recv = go_kchan_recv(p->fd, &p->got[1], &p->ok[1], go_now() + WAIT_NS);
	/* value 3: the kernel's own select */
	p->kernel_only = go_kchan_select(kcase, 1, &res, go_now() + WAIT_NS);
	p->ok[2] = res.ok;
	/* nothing more comes: the deadline ends the mixed select */
	p->timed_out = go_select_until(mixed, 2, go_now() + 200 * MSEC);
}

TEST(without_io_uring_selects_and_receives_still_get_another_process_values)
{
	struct polled p = { 0 };
	struct go_config c = { .size = sizeof(c), .maxprocs = 2 };
	pid_t pid;

	REQUIRE_GOCHAN();
	ASSERT_EQ(0, refuse_io_uring());
	/* the filter works: no ring for anyone in this process */
	ASSERT_EQ(-1, syscall(__NR_io_uring_setup, 4, &(char[120]){ 0 }));
	ASSERT_EQ(EPERM, errno);

	p.fd = gochan_make(sizeof(long), 4, 0);
	ASSERT_LE(0, p.fd);
	ASSERT_EQ(0, go_chan_from_fd(&p.kc, p.fd, 0));
	ASSERT_EQ(0, go_chan_make(&p.local, sizeof(long), 0));
	pid = slow_sender(p.fd, 3, 300 * MSEC);
	ASSERT_LE(0, pid);

	ASSERT_EQ(0, go_run_config(&c, polled_main, &p));
	EXPECT_EQ(0, reap(pid));
	/* each call got its value, in order, and none was lost to the polling */
	EXPECT_EQ(1, p.mixed);
	EXPECT_TRUE(p.ok[0]);
	EXPECT_EQ(1, p.got[0]);
	EXPECT_EQ(0, p.recv);
	EXPECT_TRUE(p.ok[1]);
	EXPECT_EQ(2, p.got[1]);
	EXPECT_EQ(0, p.kernel_only);
	EXPECT_TRUE(p.ok[2]);
	EXPECT_EQ(3, p.got[2]);
	EXPECT_EQ(-ETIMEDOUT, p.timed_out);
	go_chan_free(p.kc);
	go_chan_free(p.local);
	close(p.fd);
}

struct closing {
	int fd;
	struct go_chan *kc, *local;
	int idx;
	bool ok;
	long got;
};

static void closing_main(void *arg)
{
	struct closing *x = arg;
	long never;
	struct go_select_case cs[2] = {
		GO_RECV_CASE(x->local, &never),
		GO_RECV_CASE(x->kc, &x->got),
	};

	x->idx = go_select(cs, 2);
	x->ok = cs[1].ok;
}

TEST(without_io_uring_a_select_sees_another_process_close)
{
	struct closing x = { .got = -1 };
	pid_t pid;

	REQUIRE_GOCHAN();
	ASSERT_EQ(0, refuse_io_uring());
	x.fd = gochan_make(sizeof(long), 1, 0);
	ASSERT_LE(0, x.fd);
	ASSERT_EQ(0, go_chan_from_fd(&x.kc, x.fd, 0));
	ASSERT_EQ(0, go_chan_make(&x.local, sizeof(long), 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		sleep_ns(300 * MSEC);
		_exit(gochan_close(x.fd) ? 1 : 0);
	}
	ASSERT_EQ(0, go_run(closing_main, &x));
	EXPECT_EQ(0, reap(pid));
	/* the close ends the select on the kernel case: zero value, ok false */
	EXPECT_EQ(1, x.idx);
	EXPECT_FALSE(x.ok);
	EXPECT_EQ(0, x.got);
	go_chan_free(x.kc);
	go_chan_free(x.local);
	close(x.fd);
}

TEST_HARNESS_MAIN
