// SPDX-License-Identifier: GPL-2.0
/*
 * Description: io_uring commands against their ring's teardown, with the
 * interleaving forced.  A module built with GOCHAN_DEBUG=1 has stall points
 * (kmod/debug.h): the test arms one, the submitting task sleeps there, and
 * the test tears the ring down while it does.  Skipped with a module built
 * without them, and on kernels whose ring teardown cannot reach a queued
 * command (before 6.7: no IO_URING_F_CANCEL).
 */
#include <liburing.h>
#include <sys/utsname.h>

#include "helpers.h"

/* kmod/debug.h's enum gochan_stall_point */
#define STALL_SELECT_CANCELABLE	1

#define STALL_MS	1500

/* true on kernels whose ring teardown cancels uring_cmds (6.7+). */
static bool ring_exit_cancels(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 7);
}

FIXTURE(uring_race) {
	int dev;
	int kmsg;
};

FIXTURE_SETUP(uring_race)
{
	GC_SETUP_DEV(self->dev);
	if (!gc_have_stalls())
		GC_SKIP_SETUP("the module has no stall points (build it with GOCHAN_DEBUG=1)");
	if (!ring_exit_cancels())
		GC_SKIP_SETUP("ring teardown cannot cancel uring_cmds before 6.7");
	self->kmsg = gc_kmsg_open();
	ASSERT_LE(0, self->kmsg) TH_LOG("/dev/kmsg: %s", strerror(errno));
}

FIXTURE_TEARDOWN(uring_race)
{
	gc_param_write("stall_point", 0);
	close(self->kmsg);
	close(self->dev);
}

/*
 * A SELECT issued from io-wq (IOSQE_ASYNC: the worker holds no uring_lock)
 * is held just after it became cancelable, before it selects; the ring is
 * torn down meanwhile, so its cancel and the submitter's task work run
 * while the worker sleeps.  The select must end cancelled and leave nothing
 * behind on its channels: no waiter, no command on a channel's list of
 * queued commands, nothing freed that is still reachable.
 */
TEST_F(uring_race, select_cancelled_by_teardown_while_being_submitted)
{
	uint64_t got = 0, v = 5;
	struct gochan_select_case cases[2];
	struct gochan_select arg;
	struct io_uring_sqe *sqe;
	struct gochan_uring_cmd *uc;
	struct io_uring r;
	struct gochan_stat st;
	char line[512];
	long long before;
	int fds[2];

	for (int i = 0; i < 2; i++) {
		fds[i] = gc_make(self->dev, 8, 0);
		ASSERT_LE(0, fds[i]);
		cases[i] = (struct gochan_select_case) {
			.fd = fds[i], .op = GOCHAN_OP_RECV, .buf = (uintptr_t)&got,
		};
	}
	arg = (struct gochan_select) {
		.size = sizeof(arg),
		.cases = (uintptr_t)cases,
		.ncases = 2,
		.case_size = sizeof(cases[0]),
	};
	ASSERT_EQ(0, io_uring_queue_init(4, &r, 0));
	before = gc_stalled();
	ASSERT_LE(0, before);
	ASSERT_EQ(0, gc_stall_arm(STALL_SELECT_CANCELABLE, STALL_MS));

	ASSERT_NE(NULL, sqe = io_uring_get_sqe(&r));
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fds[0], NULL, 0, 0);
	sqe->cmd_op = GOCHAN_IOC_SELECT;
	uc = (struct gochan_uring_cmd *)sqe->cmd;
	uc->arg = (uintptr_t)&arg;
	uc->key = 1;
	sqe->user_data = 1;
	sqe->flags |= IOSQE_ASYNC;
	ASSERT_EQ(1, io_uring_submit(&r));
	/* The worker sleeps between becoming cancelable and selecting... */
	ASSERT_EQ(0, gc_wait_stalled(before));
	/* ...when the ring goes: its teardown cancels the command, and this
	 * task runs the command's task work (on its next return from a
	 * system call, in the sleep below) while the worker still sleeps. */
	io_uring_queue_exit(&r);
	gc_sleep_ms(STALL_MS + 500);

	/* The worker went on and found its select cancelled: nothing waits
	 * in either channel. */
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, gc_stat(fds[i], &st));
		EXPECT_EQ(0, st.recv_waiters);
	}
	/* No receiver is left on the unbuffered channel to take a send. */
	EXPECT_EQ(-EAGAIN, gc_send_u64(fds[1], v, GOCHAN_XFER_NONBLOCK));
	/* Closing walks the channels' lists of queued commands (flush) and
	 * frees them: a command freed while still listed shows up here as a
	 * use-after-free (list corruption, or the WARN of a channel freed
	 * with commands listed). */
	for (int i = 0; i < 2; i++)
		close(fds[i]);
	gc_sleep_ms(100);
	EXPECT_FALSE(gc_kmsg_bad(self->kmsg, line, sizeof(line)))
		TH_LOG("kernel: %s", line);
	EXPECT_EQ(0, got);
}

TEST_HARNESS_MAIN
