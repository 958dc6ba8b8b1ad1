// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the runtime's calls on kernel channels at their edges, where make coverage
 * found no test: go_chan_from_fd on what is not a channel; a go_select over more kernel
 * channels than its on-stack arrays hold; a select's receive from a closed kernel channel;
 * receives that discard the value (a NULL buffer, for small and large elements);
 * go_kchan_send/recv called from a plain thread and past their deadline; and a goroutine's
 * select naming an fd that is no channel, which must not cost the process its queued waits.
 */
#include <fcntl.h>
#include <gochan/chan.h>
#include <gochan/sched.h>

#include "helpers.h"

TEST(wrapping_what_is_not_a_channel_fails)
{
	struct go_chan *c = NULL, *inproc = NULL;
	int p[2], fd;

	ASSERT_EQ(0, pipe(p));
	/* a pipe is no channel: as gochan_stat says */
	EXPECT_EQ(-ENOTTY, go_chan_from_fd(&c, p[0], 0));
	/* a closed fd */
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(-EBADF, go_chan_from_fd(&c, p[0], 0));
	EXPECT_EQ(NULL, c);
	/* an in-process channel has no fd to give */
	ASSERT_EQ(0, go_chan_make(&inproc, sizeof(long), 1));
	EXPECT_EQ(-EINVAL, go_chan_fd(inproc));
	EXPECT_EQ(-EINVAL, go_chan_fd(NULL));
	go_chan_free(inproc);

	REQUIRE_GOCHAN();
	fd = gochan_make(sizeof(long), 1, 0);
	ASSERT_LE(0, fd);
	/* an unknown flag is refused before anything is allocated */
	EXPECT_EQ(-EINVAL, go_chan_from_fd(&c, fd, 0x80));
	ASSERT_EQ(0, go_chan_from_fd(&c, fd, 0));
	/* the wrapped channel gives its fd back, and does not own it */
	EXPECT_EQ(fd, go_chan_fd(c));
	go_chan_free(c);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) < 0);
	close(fd);
}

#define MANY 40		/* kernel cases: more than a select keeps on its stack (16) */

struct many {
	int fd[MANY];
	struct go_chan *c[MANY];
	long got;
	int idle, ready, woken;
	pid_t child;
};

static void many_main(void *arg)
{
	struct many *m = arg;
	struct go_select_case cs[MANY];
	long v;

	for (int i = 0; i < MANY; i++)
		cs[i] = GO_RECV_CASE(m->c[i], &m->got);
	/* nothing sent yet */
	m->idle = go_try_select(cs, MANY);
	/* one value waits in channel 33 */
	v = 3300;
	gochan_try_send(m->fd[33], &v);
	m->ready = go_select(cs, MANY);
	/* the select parks on all forty until another process sends into channel 37 */
	m->child = fork();
	if (m->child == 0) {
		v = 3700;
		_exit(wait_for_waiters(m->fd[37], 0, 1) && !gochan_send(m->fd[37], &v, -1) ? 0 : 1);
	}
	m->woken = go_select_until(cs, MANY, go_now() + WAIT_NS);
}

TEST(select_over_more_kernel_channels_than_fit_its_stack_takes_the_ready_one)
{
	struct many m = { 0 };
	long got33;

	REQUIRE_GOCHAN();
	for (int i = 0; i < MANY; i++) {
		m.fd[i] = gochan_make(sizeof(long), i == 37 ? 0 : 1, 0);
		ASSERT_LE(0, m.fd[i]);
		ASSERT_EQ(0, go_chan_from_fd(&m.c[i], m.fd[i], GO_CHAN_FD_OWN));
	}
	ASSERT_EQ(0, run1(many_main, &m));
	/* none ready: Go's default */
	EXPECT_EQ(-EAGAIN, m.idle);
	/* the one ready case, whatever its place */
	EXPECT_EQ(33, m.ready);
	/* then the partner's channel, with its value */
	EXPECT_EQ(37, m.woken);
	EXPECT_EQ(3700, m.got);
	EXPECT_EQ(0, reap(m.child));
	/* nothing else was taken: channel 33 is empty again, 37 has no waiter left */
	EXPECT_EQ(-EAGAIN, gochan_try_recv(m.fd[33], &got33, NULL));
	EXPECT_TRUE(wait_for_waiters(m.fd[37], 0, 0));
	for (int i = 0; i < MANY; i++)
		go_chan_free(m.c[i]);
}

struct closed {
	struct go_chan *c;
	long elem;
	int idx;
	bool ok;
};

static void closed_main(void *arg)
{
	struct closed *x = arg;
	struct go_select_case cs[1] = { GO_RECV_CASE(x->c, &x->elem) };

	x->idx = go_select(cs, 1);
	x->ok = cs[0].ok;
}

TEST(select_receive_from_a_closed_kernel_channel_is_zero_and_not_ok)
{
	struct closed x = { .elem = 0x5a5a5a5a, .ok = true };
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make(sizeof(long), 2, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gochan_close(fd));
	ASSERT_EQ(0, go_chan_from_fd(&x.c, fd, GO_CHAN_FD_OWN));
	ASSERT_EQ(0, run1(closed_main, &x));
	/* the closed channel's case runs, as in Go: the zero value, ok false */
	EXPECT_EQ(0, x.idx);
	EXPECT_FALSE(x.ok);
	EXPECT_EQ(0, x.elem);
	go_chan_free(x.c);
}

TEST(plain_thread_blocking_calls_meet_another_process)
{
	long v = 0;
	bool ok = false;
	int fd;
	pid_t pid;

	REQUIRE_GOCHAN();
	fd = gochan_make(sizeof(long), 0, 0);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long w = 0;
		bool wok = false;

		if (gochan_send(fd, &(long){ 41 }, GOCHAN_NO_DEADLINE))
			_exit(1);
		if (gochan_recv(fd, &w, &wok, GOCHAN_NO_DEADLINE) || !wok || w != 42)
			_exit(2);
		_exit(0);
	}
	/* outside go_run, go_kchan_* are the blocking system calls, errno untouched */
	errno = ERRNO_CANARY;
	EXPECT_EQ(0, go_kchan_recv(fd, &v, &ok, gochan_now_ns() + WAIT_NS));
	EXPECT_TRUE(ok);
	EXPECT_EQ(41, v);
	EXPECT_EQ(0, go_kchan_send(fd, &(long){ 42 }, gochan_now_ns() + WAIT_NS));
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ(0, reap(pid));
	close(fd);
}

struct late {
	int full, empty;
	int send, recv;
	int64_t took;
};

static void late_main(void *arg)
{
	struct late *l = arg;
	int64_t start = go_now();
	long v = 0;

	l->send = go_kchan_send(l->full, &v, gochan_now_ns() - 1);
	l->recv = go_kchan_recv(l->empty, &v, NULL, gochan_now_ns() - 1);
	l->took = go_now() - start;
}

TEST(goroutine_calls_past_their_deadline_time_out_at_once)
{
	struct late l = { 0 };

	REQUIRE_GOCHAN();
	l.full = gochan_make(sizeof(long), 1, 0);
	l.empty = gochan_make(sizeof(long), 1, 0);
	ASSERT_LE(0, l.full);
	ASSERT_LE(0, l.empty);
	ASSERT_EQ(0, gochan_try_send(l.full, &(long){ 1 }));
	ASSERT_EQ(0, run1(late_main, &l));
	/* a deadline already gone: -ETIMEDOUT without waiting */
	EXPECT_EQ(-ETIMEDOUT, l.send);
	EXPECT_EQ(-ETIMEDOUT, l.recv);
	EXPECT_GT(WAIT_NS / 10, l.took);
	/* and nothing is left queued in either channel */
	EXPECT_TRUE(wait_for_waiters(l.full, 0, 0));
	EXPECT_TRUE(wait_for_waiters(l.empty, 0, 0));
	close(l.full);
	close(l.empty);
}

struct badsel {
	int pipefd, fd;
	int sel, recv;
	long got;
	bool ok;
};

static void badsel_main(void *arg)
{
	struct badsel *b = arg;
	long buf;
	struct gochan_select_case bad[1] = { GOCHAN_RECV(b->pipefd, &buf) };

	b->sel = go_kchan_select(bad, 1, NULL, go_now() + WAIT_NS);
	b->recv = go_kchan_recv(b->fd, &b->got, &b->ok, gochan_now_ns() + WAIT_NS);
}

TEST(goroutine_select_on_a_pipe_fails_and_later_waits_still_queue)
{
	struct badsel b = { 0 };
	int p[2];
	pid_t pid;

	REQUIRE_GOCHAN();
	ASSERT_EQ(0, pipe(p));
	b.pipefd = p[0];
	b.fd = gochan_make(sizeof(long), 0, 0);
	ASSERT_LE(0, b.fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* a non-blocking send succeeds only if the receive waits inside the channel */
		if (!wait_for_waiters(b.fd, 0, 1))
			_exit(1);
		_exit(gochan_try_send(b.fd, &(long){ 7 }) ? 2 : 0);
	}
	ASSERT_EQ(0, run1(badsel_main, &b));
	/* a pipe is not a channel: as gochan_select says */
	EXPECT_EQ(-EINVAL, b.sel);
	/* the next receive still waited in the channel, where the other process found it */
	EXPECT_EQ(0, reap(pid));
	EXPECT_EQ(0, b.recv);
	EXPECT_TRUE(b.ok);
	EXPECT_EQ(7, b.got);
	close(p[0]);
	close(p[1]);
	close(b.fd);
}

struct discard {
	struct go_chan *c[2];
	int r[2][3];
	bool ok[2];
	unsigned char last[2];
};

static void discard_main(void *arg)
{
	struct discard *d = arg;
	static unsigned char big[4096];

	for (int i = 0; i < 2; i++) {
		/* two receives that throw their values away, one that keeps the third */
		d->r[i][0] = go_chan_recv(d->c[i], NULL, NULL);
		d->r[i][1] = go_chan_try_recv(d->c[i], NULL, &d->ok[i]);
		d->r[i][2] = go_chan_recv(d->c[i], big, NULL);
		d->last[i] = big[0];
	}
}

TEST(receives_that_discard_the_value_take_one_element_each)
{
	static const size_t size[2] = { 8, 4096 };	/* 4096: more than the on-stack scratch */
	static unsigned char v[4096];
	struct discard d = { 0 };
	int fd[2];

	REQUIRE_GOCHAN();
	for (int i = 0; i < 2; i++) {
		fd[i] = gochan_make(size[i], 3, 0);
		ASSERT_LE(0, fd[i]);
		for (int k = 1; k <= 3; k++) {
			memset(v, k, sizeof(v));
			ASSERT_EQ(0, gochan_try_send(fd[i], v));
		}
		ASSERT_EQ(0, go_chan_from_fd(&d.c[i], fd[i], GO_CHAN_FD_OWN));
	}
	ASSERT_EQ(0, run1(discard_main, &d));
	for (int i = 0; i < 2; i++) {
		/* a NULL buffer drops the element, and only that one */
		EXPECT_EQ(0, d.r[i][0]);
		EXPECT_EQ(0, d.r[i][1]);
		EXPECT_TRUE(d.ok[i]);
		EXPECT_EQ(0, d.r[i][2]);
		EXPECT_EQ(3, d.last[i]);
		go_chan_free(d.c[i]);
	}
}

TEST_HARNESS_MAIN
