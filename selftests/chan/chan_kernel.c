// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the go_chan API over kernel channel fds, in the guest with the module:
 * goroutines sending and receiving on buffered (poller) and unbuffered (kernel-blocking)
 * kernel channels, with a plain process or another libgochan process on the other side;
 * close; selects of kernel cases only (the kernel's select) and mixed with in-process
 * channels (poller); a context whose Done is a kernel channel, cancelled from either side
 * of a fork.
 *
 * Each TEST runs its goroutines in go_run() and checks what they recorded afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/kchan.h>
#include <gochan/sched.h>

#include "kselftest_harness.h"

#include "../common/child.h"

#define MSEC 1000000LL

#define REQUIRE_GOCHAN() do {						\
	if (access(GOCHAN_DEVICE_PATH, F_OK) != 0)			\
		SKIP(return, "%s absent: gochan module not loaded",	\
		     GOCHAN_DEVICE_PATH);				\
} while (0)

/* ---- goroutines on one buffered kernel channel ------------------------------------------ */

struct pc {
	int fd;
	long n, sum, bad, sent;
	int send_ret, recv_ret;
	struct go_waitgroup wg;
};

static void pc_send(void *p)
{
	struct pc *s = p;
	struct go_chan *c;

	go_chan_from_fd(&c, s->fd, 0);
	for (long i = 0; i < s->n; i++) {
		s->send_ret = go_chan_send(c, &i);
		if (s->send_ret)
			break;
		s->sent++;
	}
	go_chan_close(c);
	go_chan_free(c);
	go_wg_done(&s->wg);
}

static void pc_recv(void *p)
{
	struct pc *s = p;
	struct go_chan *c;
	long v, want = 0;
	bool ok;

	go_chan_from_fd(&c, s->fd, 0);
	while ((s->recv_ret = go_chan_recv(c, &v, &ok)) == 0 && ok) {
		if (v != want++)
			s->bad++;
		s->sum += v;
	}
	go_chan_free(c);
	go_wg_done(&s->wg);
}

static void pc_main(void *p)
{
	struct pc *s = p;

	go_wg_add(&s->wg, 2);
	go_spawn(pc_recv, s);
	go_spawn(pc_send, s);
	go_wg_wait(&s->wg);
}

TEST(goroutines_share_a_buffered_kernel_channel)
{
	struct pc s = { .n = 5000 };

	REQUIRE_GOCHAN();
	s.fd = gochan_make(sizeof(long), 4, 0);
	ASSERT_LE(0, s.fd);
	ASSERT_EQ(0, go_run(pc_main, &s));
	/* Every value arrived once, in order, then the close ended the receiver. */
	EXPECT_EQ(0, s.send_ret);
	EXPECT_EQ(0, s.recv_ret);
	EXPECT_EQ(0, s.bad);
	EXPECT_EQ(s.n * (s.n - 1) / 2, s.sum);
	close(s.fd);
}

TEST(goroutines_share_an_unbuffered_kernel_channel)
{
	struct pc s = { .n = 300 };

	REQUIRE_GOCHAN();
	s.fd = gochan_make(sizeof(long), 0, 0);
	ASSERT_LE(0, s.fd);
	/* An unbuffered rendezvous: one side waits in the kernel (GO_SYSCALL). */
	ASSERT_EQ(0, go_run(pc_main, &s));
	EXPECT_EQ(0, s.bad);
	EXPECT_EQ(s.n * (s.n - 1) / 2, s.sum);
	close(s.fd);
}

/* ---- across processes ----------------------------------------------------------------- */

static void recv_main(void *p)
{
	pc_recv(p);
}

TEST(goroutine_receives_from_a_plain_process)
{
	size_t caps[] = { 0, 3 };

	REQUIRE_GOCHAN();
	for (int k = 0; k < 2; k++) {
		struct pc s = { .n = 200 };
		pid_t pid;

		s.fd = gochan_make(sizeof(long), (unsigned)caps[k], 0);
		ASSERT_LE(0, s.fd);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			/* a process using plain blocking calls, no scheduler */
			for (long i = 0; i < s.n; i++)
				if (gochan_send(s.fd, &i, GOCHAN_NO_DEADLINE))
					_exit(1);
			_exit(gochan_close(s.fd) ? 1 : 0);
		}
		go_wg_add(&s.wg, 1);
		ASSERT_EQ(0, go_run(recv_main, &s));
		EXPECT_EQ(0, reap(pid));
		EXPECT_EQ(0, s.bad);
		EXPECT_EQ(s.n * (s.n - 1) / 2, s.sum);
		close(s.fd);
	}
}

static void send_main(void *p)
{
	pc_send(p);
}

TEST(two_libgochan_processes_meet_on_unbuffered)
{
	struct pc s = { .n = 200 };
	pid_t pid;

	REQUIRE_GOCHAN();
	s.fd = gochan_make(sizeof(long), 0, 0);
	ASSERT_LE(0, s.fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pc c = { .n = 200, .fd = s.fd };

		go_wg_add(&c.wg, 1);
		go_run(send_main, &c);
		_exit(c.send_ret || c.sent != c.n);
	}
	go_wg_add(&s.wg, 1);
	ASSERT_EQ(0, go_run(recv_main, &s));
	/* Both sides are goroutines; the kernel holds the rendezvous. */
	EXPECT_EQ(0, reap(pid));
	EXPECT_EQ(0, s.bad);
	EXPECT_EQ(s.n * (s.n - 1) / 2, s.sum);
	close(s.fd);
}

/* ---- close, try, len/cap --------------------------------------------------------------- */

struct cl {
	int fd;
	int recv_ret, send_ret, close_ret, close2_ret, try_ret;
	bool ok;
	size_t len, cap, esz;
};

static void blocked_recv(void *p)
{
	struct cl *s = p;
	struct go_chan *c;
	long v = 5;

	go_chan_from_fd(&c, s->fd, 0);
	s->ok = true;
	s->recv_ret = go_chan_recv(c, &v, &s->ok);
	go_chan_free(c);
}

static void close_main(void *p)
{
	struct cl *s = p;
	struct go_chan *c;
	long v = 1;

	go_chan_from_fd(&c, s->fd, 0);
	s->cap = go_chan_cap(c);
	s->esz = go_chan_elem_size(c);
	s->try_ret = go_chan_try_recv(c, &v, NULL);
	go_chan_try_send(c, &v);
	s->len = go_chan_len(c);
	go_chan_recv(c, &v, NULL);
	go_spawn(blocked_recv, s);
	go_sleep(50 * MSEC);
	s->close_ret = go_chan_close(c);
	s->close2_ret = go_chan_close(c);
	s->send_ret = go_chan_send(c, &v);
	go_sleep(50 * MSEC);
	go_chan_free(c);
}

TEST(kernel_close_try_len_cap)
{
	struct cl s = { 0 };

	REQUIRE_GOCHAN();
	s.fd = gochan_make(sizeof(long), 2, 0);
	ASSERT_LE(0, s.fd);
	ASSERT_EQ(0, go_run(close_main, &s));
	/* cap and elem size come from the kernel; len counts the buffered element. */
	EXPECT_EQ(2, s.cap);
	EXPECT_EQ(sizeof(long), s.esz);
	EXPECT_EQ(1, s.len);
	/* A non-blocking receive from the empty channel would block. */
	EXPECT_EQ(-EAGAIN, s.try_ret);
	/* Close wakes the parked receiver with ok = false; a second close and a send fail. */
	EXPECT_EQ(0, s.close_ret);
	EXPECT_EQ(0, s.recv_ret);
	EXPECT_FALSE(s.ok);
	EXPECT_EQ(-EPIPE, s.close2_ret);
	EXPECT_EQ(-EPIPE, s.send_ret);
	close(s.fd);
}

/* ---- select ------------------------------------------------------------------------------ */

struct sel {
	int kfd[2];
	int go_ahead;		/* pipe to the sending process: write when its send may come */
	int r_timeout, r_ready, r_mixed_kernel, r_mixed_local, r_nb;
	long got_ready, got_kernel, got_local;
	int64_t waited;
};

static void local_sender(void *p)
{
	struct go_chan *c = p;
	long v = 33;

	go_sleep(30 * MSEC);
	go_chan_send(c, &v);
}

static void select_main(void *p)
{
	struct sel *s = p;
	struct go_chan *k0, *k1, *local;
	long v = 0;

	go_chan_from_fd(&k0, s->kfd[0], 0);
	go_chan_from_fd(&k1, s->kfd[1], 0);
	go_chan_make(&local, sizeof(long), 0);
	/* Kernel cases only: the kernel's select, with its deadline. */
	struct go_select_case kc[] = { GO_RECV_CASE(k0, &v), GO_RECV_CASE(k1, &v) };
	int64_t t0 = go_now();

	s->r_timeout = go_select_until(kc, 2, t0 + 30 * MSEC);
	s->waited = go_now() - t0;
	s->r_nb = go_try_select(kc, 2);
	v = 21;
	gochan_send(s->kfd[1], &v, GOCHAN_NO_DEADLINE);
	v = 0;
	s->r_ready = go_select(kc, 2);
	s->got_ready = v;
	/* Mixed: an in-process channel and a kernel one; the kernel one is fed by another
	 * process about 50 ms from now (the poller wakes the select). Not sooner: the kernel
	 * selects above would take its value. */
	struct go_select_case mc[] = { GO_RECV_CASE(local, &v), GO_RECV_CASE(k0, &v) };

	v = 0;
	if (write(s->go_ahead, "g", 1) != 1)
		s->r_mixed_kernel = -errno;	/* no sender: do not wait for it */
	else
		s->r_mixed_kernel = go_select(mc, 2);
	s->got_kernel = v;
	/* Mixed again, now woken by the in-process channel. */
	go_spawn(local_sender, local);
	v = 0;
	s->r_mixed_local = go_select(mc, 2);
	s->got_local = v;
	go_chan_free(k0);
	go_chan_free(k1);
	go_chan_free(local);
}

TEST(select_over_kernel_and_mixed_cases)
{
	struct sel s = { 0 };
	int go_ahead[2];
	pid_t pid;

	REQUIRE_GOCHAN();
	s.kfd[0] = gochan_make(sizeof(long), 1, 0);
	s.kfd[1] = gochan_make(sizeof(long), 1, 0);
	ASSERT_LE(0, s.kfd[0]);
	ASSERT_LE(0, s.kfd[1]);
	ASSERT_EQ(0, pipe(go_ahead));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct timespec ts = { 0, 50 * MSEC };
		long v = 77;
		char c;

		close(go_ahead[1]);
		if (read(go_ahead[0], &c, 1) != 1)
			_exit(2);
		nanosleep(&ts, NULL);
		_exit(gochan_send(s.kfd[0], &v, GOCHAN_NO_DEADLINE) ? 1 : 0);
	}
	close(go_ahead[0]);
	s.go_ahead = go_ahead[1];
	ASSERT_EQ(0, go_run(select_main, &s));
	close(go_ahead[1]);
	EXPECT_EQ(0, reap(pid));
	/* Nothing ready: -ETIMEDOUT, not before the deadline; a default: -EAGAIN. */
	EXPECT_EQ(-ETIMEDOUT, s.r_timeout);
	EXPECT_LE(30 * MSEC, s.waited);
	EXPECT_EQ(-EAGAIN, s.r_nb);
	/* The ready kernel case is taken. */
	EXPECT_EQ(1, s.r_ready);
	EXPECT_EQ(21, s.got_ready);
	/* The mixed select is woken by the other process's send... */
	EXPECT_EQ(1, s.r_mixed_kernel);
	EXPECT_EQ(77, s.got_kernel);
	/* ...and by a goroutine's. */
	EXPECT_EQ(0, s.r_mixed_local);
	EXPECT_EQ(33, s.got_local);
	close(s.kfd[0]);
	close(s.kfd[1]);
}

/*
 * Two processes, each in a select over an in-process channel that stays empty and one
 * unbuffered kernel channel: one selects to send on it, the other to receive. Neither
 * channel is ever ready by itself, so only two selects queued in the kernel at once can
 * meet (Go's select on both sides of an unbuffered channel).
 */
struct rdv {
	int fd;
	bool send;
	int r;
	long v;
	int idle_ms;		/* thread tests: the thread sleeps first */
	int send_ms;		/* late_sender: when it sends */
};

static void rdv_main(void *p)
{
	struct rdv *s = p;
	struct go_chan *k, *idle;
	long in = 0;

	go_chan_from_fd(&k, s->fd, 0);
	go_chan_make(&idle, sizeof(long), 0);
	struct go_select_case c[] = {
		GO_RECV_CASE(idle, &in),
		s->send ? GO_SEND_CASE(k, &s->v) : GO_RECV_CASE(k, &s->v),
	};

	s->r = go_select_until(c, 2, go_now() + 20000 * MSEC);
	go_chan_free(k);
	go_chan_free(idle);
}

/* The peer process of a rdv test: run peer(s), exit with what it returns. */
static pid_t fork_peer(struct rdv *s, int (*peer)(struct rdv *s))
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(peer(s));
	return pid;
}

/* A mixed select sending 4242; 0 if its send case ran. */
static int select_sender(struct rdv *s)
{
	struct rdv c = { .fd = s->fd, .send = true, .v = 4242 };

	if (go_run(rdv_main, &c) != 0)
		return 2;
	return c.r == 1 ? 0 : 1;
}

TEST(mixed_selects_in_two_processes_meet_on_unbuffered)
{
	struct rdv s = { 0 };
	pid_t pid;

	REQUIRE_GOCHAN();
	s.fd = gochan_make(sizeof(long), 0, 0);
	ASSERT_LE(0, s.fd);
	pid = fork_peer(&s, select_sender);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, go_run(rdv_main, &s));
	EXPECT_EQ(0, reap(pid));
	EXPECT_EQ(1, s.r);
	EXPECT_EQ(4242, s.v);
	close(s.fd);
}

/*
 * A plain thread (not a goroutine) in a mixed select while go_run runs elsewhere: its kernel
 * command is reaped by the scheduler's threads, which must wake it on its futex, not queue
 * it as a goroutine.  The thread first sleeps idle_ms.
 */
static void *thread_select(void *p)
{
	struct rdv *s = p;
	struct timespec ts = { s->idle_ms / 1000, s->idle_ms % 1000 * MSEC };

	nanosleep(&ts, NULL);
	rdv_main(s);
	return NULL;
}

static void thread_select_main(void *p)
{
	pthread_t t;

	if (pthread_create(&t, NULL, thread_select, p)) {
		((struct rdv *)p)->r = -EAGAIN;
		return;
	}
	go_syscall_enter();
	pthread_join(t, NULL);
	go_syscall_exit();
}

/* A blocking send of 99 at send_ms, once the select has had time to queue its command. */
static int late_sender(struct rdv *s)
{
	struct timespec ts = { s->send_ms / 1000, s->send_ms % 1000 * MSEC };
	long v = 99;

	nanosleep(&ts, NULL);
	return gochan_send(s->fd, &v, GOCHAN_NO_DEADLINE) ? 1 : 0;
}

/* The thread sleeps @idle_ms, then selects; the peer sends at @send_ms. */
static void plain_thread_select(struct __test_metadata *_metadata, int idle_ms, int send_ms)
{
	struct rdv s = { .idle_ms = idle_ms, .send_ms = send_ms };
	int64_t t0;
	pid_t pid;

	s.fd = gochan_make(sizeof(long), 0, 0);
	ASSERT_LE(0, s.fd);
	pid = fork_peer(&s, late_sender);
	ASSERT_LE(0, pid);
	t0 = go_now();
	ASSERT_EQ(0, go_run(thread_select_main, &s));
	EXPECT_EQ(0, reap(pid));
	EXPECT_EQ(1, s.r) TH_LOG("select returned %d after %lld ms (the send came at %d ms)",
				 s.r, (long long)((go_now() - t0) / MSEC), send_ms);
	EXPECT_EQ(99, s.v);
	close(s.fd);
}

TEST(plain_thread_in_a_mixed_select)
{
	REQUIRE_GOCHAN();
	plain_thread_select(_metadata, 0, 100);
}

/*
 * The same once the scheduler has gone idle: every P idle, no M blocked in the poller,
 * sysmon asleep. The thread's kernel command is the poller's only waiter; the scheduler
 * must still reap its completion and wake the thread. It did not (the 6.12 debug kernel,
 * slow enough to let the scheduler idle first, timed out make check-debug's run of the
 * test above), so the select slept to its deadline.
 */
TEST(plain_thread_in_a_mixed_select_while_the_scheduler_idles)
{
	REQUIRE_GOCHAN();
	plain_thread_select(_metadata, 300, 600);
}

/*
 * A mixed select whose kernel case's fd is closed and its number reused for another channel
 * (dup2) while the select waits: the close cancels the select's kernel command, and a
 * waker's cancel through that number now reaches the other channel. A send on the
 * in-process case must still reach the select.
 */
struct reuse {
	int kfd;
	struct go_chan *local;
	long got;
	int r, send_r;
	struct go_waitgroup wg;
};

static void reuse_selector(void *p)
{
	struct reuse *s = p;
	struct go_chan *k;
	long kv = 0;

	go_chan_from_fd(&k, s->kfd, 0);
	struct go_select_case c[] = { GO_RECV_CASE(s->local, &s->got), GO_RECV_CASE(k, &kv) };

	s->r = go_select_until(c, 2, go_now() + 5000 * MSEC);
	go_chan_free(k);
	go_wg_done(&s->wg);
}

static void reuse_main(void *p)
{
	struct reuse *s = p;
	long v = 5;
	int other;

	go_wg_add(&s->wg, 1);
	go_spawn(reuse_selector, s);
	go_sleep(100 * MSEC);		/* the select has queued its kernel command */
	other = gochan_make(sizeof(long), 0, 0);
	if (other < 0 || dup2(other, s->kfd) != s->kfd) {
		s->send_r = -EBADF;
	} else {
		close(other);
		go_sleep(20 * MSEC);
		s->send_r = go_chan_send_until(s->local, &v, go_now() + 3000 * MSEC);
	}
	go_wg_wait(&s->wg);
}

TEST(mixed_select_survives_fd_reuse)
{
	struct reuse s = { 0 };

	REQUIRE_GOCHAN();
	s.kfd = gochan_make(sizeof(long), 0, 0);
	ASSERT_LE(0, s.kfd);
	ASSERT_EQ(0, go_chan_make(&s.local, sizeof(long), 0));
	ASSERT_EQ(0, go_run(reuse_main, &s));
	/* The in-process send reached the select: no hang, the value moved once. */
	EXPECT_EQ(0, s.send_r);
	EXPECT_EQ(0, s.r);
	EXPECT_EQ(5, s.got);
	go_chan_free(s.local);
	close(s.kfd);
}

/*
 * Every value moves once: a select loop over an in-process channel fed by a goroutine, a
 * kernel channel fed by another process and a kernel channel drained by a third, all
 * unbuffered, with a short deadline so that timeouts race the kernel's commits. Each
 * source checks its own sequence; a value both moved by the kernel and taken by a channel
 * partner or a timeout would show as a gap or a duplicate.
 */
#define ONCE_N 400

struct once {
	int kin, kout;
	struct go_chan *local;
	long local_next, kin_next, sent_out;
	long bad, timeouts, local_ret;
	int r;
};

/* The other processes pause now and then, up to 3 ms, so that the select's 2 ms
 * deadline often expires around the moment they arrive. */
static void once_pace(long i)
{
	struct timespec ts = { 0, (i * 7919 % 3000) * 1000 };

	if (i % 3 == 0)
		nanosleep(&ts, NULL);
}

static void once_local_sender(void *p)
{
	struct once *s = p;

	for (long i = 0; i < ONCE_N; i++)
		if ((s->local_ret = go_chan_send(s->local, &i)) != 0)
			break;
}

static void once_main(void *p)
{
	struct once *s = p;
	struct go_chan *kin, *kout;
	int64_t stall = go_now() + 20000 * MSEC;

	go_chan_from_fd(&kin, s->kin, 0);
	go_chan_from_fd(&kout, s->kout, 0);
	go_spawn(once_local_sender, s);
	while (s->local_next < ONCE_N || s->kin_next < ONCE_N || s->sent_out < ONCE_N) {
		long lv = -1, kv = -1, out = s->sent_out;
		struct go_select_case c[3] = {
			s->local_next < ONCE_N ? GO_RECV_CASE(s->local, &lv) : GO_RECV_CASE(NULL, NULL),
			s->kin_next < ONCE_N ? GO_RECV_CASE(kin, &kv) : GO_RECV_CASE(NULL, NULL),
			s->sent_out < ONCE_N ? GO_SEND_CASE(kout, &out) : GO_RECV_CASE(NULL, NULL),
		};
		int r = go_select_until(c, 3, go_now() + 2 * MSEC);

		if (r == -ETIMEDOUT) {
			s->timeouts++;
			if (go_now() > stall) {
				s->r = -ETIMEDOUT;
				break;
			}
			continue;
		}
		stall = go_now() + 20000 * MSEC;
		if (r == 0)
			s->bad += lv != s->local_next++;
		else if (r == 1)
			s->bad += kv != s->kin_next++;
		else if (r == 2)
			s->sent_out++;
		else {
			s->r = r;
			break;
		}
	}
	go_chan_free(kin);
	go_chan_free(kout);
}

TEST(mixed_select_moves_each_value_once)
{
	struct once s = { 0 };
	pid_t feeder, drainer;

	REQUIRE_GOCHAN();
	s.kin = gochan_make(sizeof(long), 0, 0);
	s.kout = gochan_make(sizeof(long), 0, 0);
	ASSERT_LE(0, s.kin);
	ASSERT_LE(0, s.kout);
	feeder = fork();
	ASSERT_LE(0, feeder);
	if (feeder == 0) {
		for (long i = 0; i < ONCE_N; i++) {
			once_pace(i);
			if (gochan_send(s.kin, &i, GOCHAN_NO_DEADLINE))
				_exit(1);
		}
		_exit(0);
	}
	drainer = fork();
	ASSERT_LE(0, drainer);
	if (drainer == 0) {
		for (long i = 0; i < ONCE_N; i++) {
			long v = -1;
			bool ok;

			once_pace(i + 1);
			if (gochan_recv(s.kout, &v, &ok, GOCHAN_NO_DEADLINE) || !ok || v != i)
				_exit(1);
		}
		_exit(0);
	}
	ASSERT_EQ(0, go_chan_make(&s.local, sizeof(long), 0));
	ASSERT_EQ(0, go_run(once_main, &s));
	EXPECT_EQ(0, s.r);
	EXPECT_EQ(0, s.bad);
	EXPECT_EQ(0, s.local_ret);
	EXPECT_EQ(ONCE_N, s.local_next);
	EXPECT_EQ(ONCE_N, s.kin_next);
	EXPECT_EQ(ONCE_N, s.sent_out);
	EXPECT_EQ(0, reap(feeder));
	EXPECT_EQ(0, reap(drainer));
	TH_LOG("%d values each way, %ld timeouts raced them", ONCE_N, s.timeouts);
	go_chan_free(s.local);
	close(s.kin);
	close(s.kout);
}

/* ---- contexts across processes ----------------------------------------------------------- */

struct xc {
	int fd;
	bool cancel_here;
	int err, child_err;
	int64_t waited;
};

static void ctx_side(void *p)
{
	struct xc *s = p;
	struct go_ctx *ctx;
	bool ok = true;

	if (go_ctx_with_kchan(&ctx, go_ctx_background(), s->fd) < 0) {
		s->err = 1;
		return;
	}
	if (s->cancel_here) {
		go_sleep(50 * MSEC);
		go_ctx_cancel(ctx);
	} else {
		int64_t t0 = go_now();

		/* Done is a kernel channel here: a kernel-only receive. */
		go_chan_recv(go_ctx_done(ctx), NULL, &ok);
		s->waited = go_now() - t0;
	}
	s->err = go_ctx_err(ctx);
	go_ctx_release(ctx);
}

static void ctx_waiter_main(void *p)
{
	struct xc *s = p;
	struct go_ctx *ctx, *child;
	struct go_chan *never;
	long v;

	/* Wait on a child's (in-process) Done in a mixed select: the parent context's watcher
	 * sees the other process close its channel and cancels the tree. */
	go_ctx_with_kchan(&ctx, go_ctx_background(), s->fd);
	go_ctx_with_cancel(&child, ctx);
	go_chan_make(&never, sizeof(long), 0);
	struct go_select_case cs[] = { GO_RECV_CASE(never, &v), GO_RECV_CASE(go_ctx_done(child), NULL) };

	s->err = go_select(cs, 2) == 1 ? go_ctx_err(ctx) : -1;
	s->child_err = go_ctx_err(child);
	go_ctx_release(child);
	go_ctx_release(ctx);
	go_chan_free(never);
}

TEST(context_cancel_crosses_processes)
{
	REQUIRE_GOCHAN();
	for (int dir = 0; dir < 2; dir++) {
		struct xc s = { 0 };
		pid_t pid;

		s.fd = gochan_make(0, 0, 0);
		ASSERT_LE(0, s.fd);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct xc c = { .fd = s.fd, .cancel_here = dir == 0 };

			if (dir == 0)
				go_run(ctx_side, &c);
			else
				go_run(ctx_waiter_main, &c);
			_exit(c.err == -ECANCELED ? 0 : 10 + (c.err < 0 ? -c.err : c.err));
		}
		s.cancel_here = dir == 1;
		ASSERT_EQ(0, go_run(ctx_side, &s));
		/* Both sides end cancelled: the one that cancelled, and the one woken through the
		 * kernel channel in the other process. */
		EXPECT_EQ(-ECANCELED, s.err);
		EXPECT_EQ(0, reap(pid));
		close(s.fd);
	}
}

TEST_HARNESS_MAIN
