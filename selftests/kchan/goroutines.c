// SPDX-License-Identifier: GPL-2.0
/*
 * Description: goroutines on kernel channels (go_kchan_send / go_kchan_recv): the operation
 * waits queued inside the channel as an io_uring command while the goroutine's thread runs
 * other goroutines; it rendezvouses with another process's blocking send and with another
 * process's select on an unbuffered channel; deadlines, close, a thousand waits on a thousand
 * channels with two Ps, and a command left queued when go_run ends is cancelled.
 */
#include <gochan/sched.h>
#include <poll.h>

#include "helpers.h"

#define N 100

struct xproc {
	int fd;
	long got[N];
	int n, bad;
	long spins;		/* another goroutine's progress while main waits */
	int spun_fd;		/* written to once, when the spinner first runs */
	uint32_t done;
	int err;
};

static void spinner(void *arg)
{
	struct xproc *x = arg;

	while (!__atomic_load_n(&x->done, __ATOMIC_ACQUIRE)) {
		if (x->spins++ == 0)
			(void)!write(x->spun_fd, "s", 1);
		go_yield();
	}
}

static void recv_main(void *arg)
{
	struct xproc *x = arg;
	bool ok = true;

	go_spawn(spinner, x);
	while (x->n < N + 1) {
		long v = -1;
		int r = go_kchan_recv(x->fd, &v, &ok, -1);

		if (r) {
			x->err = r;
			break;
		}
		if (!ok)
			break;
		x->got[x->n++] = v;
	}
	__atomic_store_n(&x->done, 1, __ATOMIC_RELEASE);
}

/*
 * One P: the spinner runs only because the receive does not block the thread.  The sender
 * starts once the spinner has run, so that the first receive surely waited (a sender
 * already blocked on every send would let every receive complete at once, and the spinner
 * need never run: the test failed so on a loaded machine); if the spinner does not run
 * within WAIT_NS, the sender closes the channel instead and exits with 3.
 */
TEST(goroutine_receives_from_another_process)
{
	struct xproc x = { 0 };
	int spun[2];
	pid_t pid;

	REQUIRE_GOCHAN();
	x.fd = gochan_make(sizeof(long), 0, 0);
	ASSERT_LE(0, x.fd);
	ASSERT_EQ(0, pipe(spun));
	x.spun_fd = spun[1];
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pollfd pfd = { .fd = spun[0], .events = POLLIN };

		if (poll(&pfd, 1, (int)(WAIT_NS / MSEC)) != 1)
			_exit(gochan_close(x.fd) ? 2 : 3);
		for (long i = 0; i < N; i++)
			if (gochan_send(x.fd, &i, GOCHAN_NO_DEADLINE))
				_exit(1);
		_exit(gochan_close(x.fd) ? 2 : 0);
	}
	ASSERT_EQ(0, run1(recv_main, &x));
	EXPECT_EQ(0, reap(pid)) TH_LOG("3: the spinner never ran while the receive waited");
	close(spun[0]);
	close(spun[1]);
	EXPECT_EQ(0, x.err);
	EXPECT_EQ(N, x.n);
	for (int i = 0; i < x.n; i++)
		x.bad += x.got[i] != i;
	/* in order, none lost, and then ok = false for the close */
	EXPECT_EQ(0, x.bad);
	EXPECT_LT(0, x.spins);
	close(x.fd);
}

static void recv_one(void *arg)
{
	struct xproc *x = arg;
	bool ok = false;
	long v = 0;

	x->err = go_kchan_recv(x->fd, &v, &ok, go_now() + WAIT_NS);
	x->got[0] = ok ? v : -1;
}

TEST(goroutine_rendezvous_with_select_in_another_process)
{
	struct xproc x = { 0 };
	pid_t pid;

	REQUIRE_GOCHAN();
	x.fd = gochan_make(sizeof(long), 0, 0);
	ASSERT_LE(0, x.fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long v = 77;
		struct gochan_select_case c = GOCHAN_SEND(x.fd, &v);

		/* blocking select with one send case: it can only meet a real receiver */
		_exit(gochan_select(&c, 1, NULL, GOCHAN_NO_DEADLINE) == 0 ? 0 : 1);
	}
	ASSERT_TRUE(wait_for_waiters(x.fd, 1, 0));
	ASSERT_EQ(0, run1(recv_one, &x));
	EXPECT_EQ(0, x.err);
	EXPECT_EQ(77, x.got[0]);
	EXPECT_EQ(0, reap(pid));
	close(x.fd);
}

struct timed {
	int fd;
	int r;
	int64_t waited;
};

static void timed_recv(void *arg)
{
	struct timed *t = arg;
	int64_t t0 = go_now();
	long v;

	t->r = go_kchan_recv(t->fd, &v, NULL, t0 + 50 * MSEC);
	t->waited = go_now() - t0;
}

TEST(deadline_times_out)
{
	struct timed t = { 0 };

	REQUIRE_GOCHAN();
	t.fd = gochan_make(sizeof(long), 0, 0);
	ASSERT_LE(0, t.fd);
	ASSERT_EQ(0, run1(timed_recv, &t));
	/* nobody sends: -ETIMEDOUT, not before the deadline */
	EXPECT_EQ(-ETIMEDOUT, t.r);
	EXPECT_LE(50 * MSEC, t.waited);
	close(t.fd);
}

static void send_closed(void *arg)
{
	struct timed *t = arg;
	long v = 1;

	gochan_close(t->fd);
	t->r = go_kchan_send(t->fd, &v, -1);
}

TEST(send_on_closed_is_epipe)
{
	struct timed t = { 0 };

	REQUIRE_GOCHAN();
	t.fd = gochan_make(sizeof(long), 4, 0);
	ASSERT_LE(0, t.fd);
	ASSERT_EQ(0, run1(send_closed, &t));
	EXPECT_EQ(-EPIPE, t.r);
	close(t.fd);
}

#define MANY 1000

struct many {
	int fds[MANY];
	long got[MANY];
	int err[MANY];		/* what go_kchan_recv returned */
	bool ok[MANY];
	int idx[MANY];
	struct go_waitgroup wg;
	uint64_t threads;
	int64_t t_spawned, t_sent, t_done;	/* ns since the start, for a failure's log */
};

static struct many *mm;

static void many_recv(void *arg)
{
	int i = *(int *)arg;
	long v = -1;
	bool ok = false;

	/*
	 * No deadline: arming a thousand commands takes 10 s in the debug
	 * guest (KASAN and lockdep under TCG), longer than any per-wait bound
	 * that is also short enough to catch a lost wake-up.  The harness's
	 * timeout does that instead.
	 */
	mm->err[i] = go_kchan_recv(mm->fds[i], &v, &ok, -1);
	mm->ok[i] = ok;
	mm->got[i] = v;
	go_wg_done(&mm->wg);
}

static void many_main(void *arg)
{
	struct go_sched_stats st = { .size = sizeof(st) };
	int64_t t0 = go_now();

	(void)arg;
	go_wg_add(&mm->wg, MANY);
	for (int i = 0; i < MANY; i++) {
		mm->idx[i] = i;
		go_spawn(many_recv, &mm->idx[i]);
	}
	mm->t_spawned = go_now() - t0;
	go_sleep(20 * MSEC);
	for (int i = MANY - 1; i >= 0; i--) {
		long v = 5000 + i;

		gochan_try_send(mm->fds[i], &v);	/* buffered: never blocks */
	}
	mm->t_sent = go_now() - t0;
	go_wg_wait(&mm->wg);
	mm->t_done = go_now() - t0;
	go_sched_stats(&st);
	mm->threads = st.threads;
}

FIXTURE(slow) {};
FIXTURE_SETUP(slow) {}
FIXTURE_TEARDOWN(slow) {}

TEST_F_TIMEOUT(slow, thousand_goroutines_on_thousand_kernel_channels, 180)
{
	struct go_config c = { .size = sizeof(c), .maxprocs = 2 };
	int bad = 0;

	REQUIRE_GOCHAN();
	mm = calloc(1, sizeof(*mm));
	for (int i = 0; i < MANY; i++) {
		mm->fds[i] = gochan_make(sizeof(long), 1, 0);
		ASSERT_LE(0, mm->fds[i]);
	}
	ASSERT_EQ(0, go_run_config(&c, many_main, NULL));
	for (int i = 0; i < MANY; i++) {
		if (mm->err[i] == 0 && mm->ok[i] && mm->got[i] == 5000 + i)
			continue;
		if (bad++ < 5) {
			long left = -1;
			int r = gochan_try_recv(mm->fds[i], &left, NULL);

			TH_LOG("goroutine %d: recv %d (%s), ok %d, value %ld; left in channel: %d %ld",
			       i, mm->err[i], strerror(-mm->err[i]), mm->ok[i], mm->got[i], r, left);
		}
	}
	TH_LOG("spawned by %lld ms, sent by %lld ms, done at %lld ms",
	       (long long)(mm->t_spawned / MSEC), (long long)(mm->t_sent / MSEC),
	       (long long)(mm->t_done / MSEC));
	/* each got its own value; a handful of threads did all the waiting */
	EXPECT_EQ(0, bad);
	EXPECT_GE(6, mm->threads);
	for (int i = 0; i < MANY; i++)
		close(mm->fds[i]);
	free(mm);
}

static void abandon_main(void *arg)
{
	struct timed *t = arg;

	go_spawn(recv_one, &(struct xproc){ .fd = t->fd });	/* waits for ever */
	go_sleep(20 * MSEC);
}

TEST(command_left_queued_is_cancelled_when_go_run_ends)
{
	struct timed t = { 0 };
	long v = 9;

	REQUIRE_GOCHAN();
	t.fd = gochan_make(sizeof(long), 0, 0);
	ASSERT_LE(0, t.fd);
	ASSERT_EQ(0, run1(abandon_main, &t));
	/* the abandoned receive no longer waits: an unbuffered send finds no receiver */
	EXPECT_EQ(-EAGAIN, gochan_try_send(t.fd, &v));
	close(t.fd);
}

struct ksel {
	int fds[2];
	int r;
	unsigned index;
	bool ok;
	long got;
	long spins;
	int spun_fd;		/* 0, or written to once, when the spinner first runs */
	uint32_t done;
	int64_t deadline;
};

static void ksel_spinner(void *arg)
{
	struct ksel *k = arg;

	while (!__atomic_load_n(&k->done, __ATOMIC_ACQUIRE)) {
		if (k->spins++ == 0 && k->spun_fd > 0)
			(void)!write(k->spun_fd, "s", 1);
		go_yield();
	}
}

static void ksel_main(void *arg)
{
	struct ksel *k = arg;
	long v = -1, out = 5;
	struct gochan_select_case cases[2] = {
		GOCHAN_RECV(k->fds[0], &v),
		GOCHAN_SEND(k->fds[1], &out),
	};
	struct gochan_select_result res = { 0 };

	go_spawn(ksel_spinner, k);
	k->r = go_kchan_select(cases, 2, &res, k->deadline);
	k->index = res.index;
	k->ok = res.ok;
	k->got = v;
	__atomic_store_n(&k->done, 1, __ATOMIC_RELEASE);
}

/*
 * One P: the spinner runs while the select waits queued in the kernel.  The receiver starts
 * once the spinner has run, so that the select surely waited (one already blocked lets the
 * select complete at once, and the spinner need never run); if the spinner does not run
 * within WAIT_NS, the receiver closes the select's other channel and exits with 3.
 */
TEST(goroutine_select_meets_a_receiver_in_another_process)
{
	struct ksel k = { .deadline = -1 };
	int spun[2];
	pid_t pid;

	REQUIRE_GOCHAN();
	k.fds[0] = gochan_make(sizeof(long), 0, 0);
	k.fds[1] = gochan_make(sizeof(long), 0, 0);
	ASSERT_LE(0, k.fds[0]);
	ASSERT_LE(0, k.fds[1]);
	ASSERT_EQ(0, pipe(spun));
	k.spun_fd = spun[1];
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pollfd pfd = { .fd = spun[0], .events = POLLIN };
		long v = 0;
		bool ok = false;

		if (poll(&pfd, 1, (int)(WAIT_NS / MSEC)) != 1)
			_exit(gochan_close(k.fds[0]) ? 2 : 3);
		/* a plain blocking receive on the second (unbuffered) channel */
		_exit(gochan_recv(k.fds[1], &v, &ok, GOCHAN_NO_DEADLINE) == 0 && ok &&
		      v == 5 ? 0 : 1);
	}
	ASSERT_EQ(0, run1(ksel_main, &k));
	EXPECT_EQ(1, k.r);
	EXPECT_EQ(1, k.index);
	EXPECT_LT(0, k.spins);
	EXPECT_EQ(0, reap(pid)) TH_LOG("3: the spinner never ran while the select waited");
	close(spun[0]);
	close(spun[1]);
	close(k.fds[0]);
	close(k.fds[1]);
}

TEST(goroutine_select_times_out)
{
	struct ksel k = { 0 };
	int64_t t0;

	REQUIRE_GOCHAN();
	k.fds[0] = gochan_make(sizeof(long), 0, 0);
	k.fds[1] = gochan_make(sizeof(long), 0, 0);
	t0 = gochan_now_ns();
	k.deadline = t0 + 50 * MSEC;
	ASSERT_EQ(0, run1(ksel_main, &k));
	/* no partner on either channel: -ETIMEDOUT at the deadline, not before */
	EXPECT_EQ(-ETIMEDOUT, k.r);
	EXPECT_LE(t0 + 50 * MSEC, gochan_now_ns());
	close(k.fds[0]);
	close(k.fds[1]);
}

TEST_HARNESS_MAIN
