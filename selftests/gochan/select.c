// SPDX-License-Identifier: GPL-2.0
/*
 * Description: GOCHAN_IOC_SELECT, Go's select statement over channel fds,
 * issued on /dev/gochan and on a channel fd (fixture variants).  Each rule
 * of the header: a ready receive or send case runs (ok = 1 / 0); NONBLOCK
 * with none ready is EAGAIN; a deadline gives ETIMEDOUT; a blocked select is
 * woken by a later send or receive in another process; a closed channel is
 * ready for receive (ok = 0, after the buffered values); a send case on a
 * closed channel chosen gives EPIPE with index written back; a signal
 * interrupts; ncases = 0; duplicate cases, and a send and a receive case on
 * one unbuffered channel never matching each other; every bad input, and a
 * rejected or faulting select moves nothing; up to 4096 and
 * GOCHAN_SELECT_CASES_MAX cases.
 *
 * The select_load fixture: the choice among ready cases is uniform
 * (chi-square, failure probability 1e-6); two selects in two processes
 * rendezvous on an unbuffered channel in either order of arrival; selects
 * over the same channels in opposite orders do not deadlock; many processes
 * selecting over a shared set of channels lose and duplicate nothing.
 *
 * Every test runs twice more through a select set (GOCHAN_IOC_SELSET, the
 * on_set and via_set variants): each select registers its cases in a new
 * set and runs GOCHAN_IOC_SELECT on the set, which must behave exactly as
 * the direct call (selset.c has the tests of a set used many times).
 *
 * GOCHAN_STRESS_SECS (default 3) sets how long the stress producers run.
 */
#include "helpers.h"

#include <pthread.h>
#include <sys/resource.h>

#define SEND	GOCHAN_OP_SEND
#define RECV	GOCHAN_OP_RECV
#define NB	GOCHAN_SELECT_NONBLOCK
#define DL	GOCHAN_SELECT_DEADLINE

/* ksft_print_msg() and flush: a test process ends with _exit(). */
#define sel_print(...) do {						\
	ksft_print_msg(__VA_ARGS__);					\
	fflush(stdout);							\
} while (0)

/* Written into index and ok before each call, to see what was written. */
#define UNSET	0xdeadbeefu

/*
 * How this test's selects are issued: GOCHAN_IOC_SELECT with the cases, or
 * through a select set made for the call from the same cases (set by the
 * fixture variant; inherited by the helper processes a test forks).
 */
static bool via_set;

/* Make a select set of the cases of @s on @fd: its fd or -errno. */
static int sel_make_set(int fd, const struct gochan_select *s)
{
	struct gochan_selset arg = {
		.size = sizeof(arg),
		.flags = GOCHAN_SELSET_CLOEXEC,
		.cases = s->cases,
		.ncases = s->ncases,
		.case_size = s->case_size,
	};

	return gc_err(ioctl(fd, GOCHAN_IOC_SELSET, &arg));
}

/* GOCHAN_IOC_SELECT on select set @set with @s's flags and deadline:
 * @s's cases are those the set was made with. */
static int sel_on_set(int set, struct gochan_select *s)
{
	struct gochan_select own = *s;
	int ret;

	s->cases = 0;
	s->ncases = 0;
	s->case_size = 0;
	ret = gc_err(ioctl(set, GOCHAN_IOC_SELECT, s));
	s->cases = own.cases;
	s->ncases = own.ncases;
	s->case_size = own.case_size;
	return ret;
}

/* A select with the given struct; 0 or -errno. */
static int sel_raw(int fd, struct gochan_select *s)
{
	int set, ret;

	if (!via_set)
		return gc_err(ioctl(fd, GOCHAN_IOC_SELECT, s));
	set = sel_make_set(fd, s);
	if (set < 0)
		return set;
	ret = sel_on_set(set, s);
	close(set);
	return ret;
}

static void sel_init(struct gochan_select *s, struct gochan_select_case *cs,
		     uint32_t n, uint32_t flags, int64_t deadline)
{
	*s = (struct gochan_select){
		.size = sizeof(*s),
		.flags = flags,
		.cases = (uintptr_t)cs,
		.ncases = n,
		.case_size = sizeof(*cs),
		.deadline_ns = deadline,
		.index = UNSET,
		.ok = UNSET,
	};
}

/* Select on fd over n cases; *index and *ok (may be NULL) get the fields as
 * the call left them (UNSET if it wrote nothing). */
static int sel(int fd, struct gochan_select_case *cs, uint32_t n,
	       uint32_t flags, int64_t deadline, uint32_t *index, uint32_t *ok)
{
	struct gochan_select s;
	int ret;

	sel_init(&s, cs, n, flags, deadline);
	ret = sel_raw(fd, &s);
	if (index)
		*index = s.index;
	if (ok)
		*ok = s.ok;
	return ret;
}

/*
 * A select run by a helper process: set up cases[] (buf pointing at bufs[]
 * of this shared struct), spawn_sel(), then read the outcome.
 */
#define SEL_MAX	8

struct sel_op {
	/* In */
	int fd;			/* the fd the select is issued on */
	uint32_t n, flags;
	int64_t deadline;
	int catch_sig;		/* 0: none, 1: SIGUSR1 handler, 2: SA_RESTART */
	struct gochan_select_case cases[SEL_MAX];
	/* In (send) / Out (receive) */
	uint64_t bufs[SEL_MAX];
	/* Out */
	volatile int done;
	volatile int hits;	/* SIGUSR1s handled */
	int ret;
	uint32_t index, ok;
};

static struct sel_op *sel_ops(size_t n)
{
	return gc_shared(n * sizeof(struct sel_op));
}

static void sel_op_case(struct sel_op *op, int fd, uint32_t op_kind,
			uint64_t val)
{
	op->bufs[op->n] = val;
	op->cases[op->n] = gc_case(fd, op_kind, &op->bufs[op->n]);
	op->n++;
}

static struct sel_op *cur_op;	/* in a helper: for the signal handler */

static void on_sigusr1(int sig)
{
	(void)sig;
	__atomic_add_fetch(&cur_op->hits, 1, __ATOMIC_SEQ_CST);
}

static pid_t spawn_sel(struct sel_op *op)
{
	pid_t pid = gc_fork();

	if (pid == 0) {
		if (op->catch_sig) {
			struct sigaction sa = { .sa_handler = on_sigusr1 };

			cur_op = op;
			sigemptyset(&sa.sa_mask);
			sa.sa_flags = op->catch_sig == 2 ? SA_RESTART : 0;
			sigaction(SIGUSR1, &sa, NULL);
		}
		op->ret = sel(op->fd, op->cases, op->n, op->flags,
			      op->deadline, &op->index, &op->ok);
		__atomic_store_n(&op->done, 1, __ATOMIC_RELEASE);
		_exit(0);
	}
	return pid;
}

static bool op_done(struct sel_op *op)
{
	return __atomic_load_n(&op->done, __ATOMIC_ACQUIRE);
}

static int wait_hits(struct sel_op *op, int n)
{
	int64_t end = now_ns() + GC_WAIT_MS * 1000000LL;

	while (__atomic_load_n(&op->hits, __ATOMIC_SEQ_CST) < n) {
		if (now_ns() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

/* Blocking send / receive bounded by GC_WAIT_MS, so a kernel bug fails the
 * check instead of hanging the test. */
static int send_bounded(int fd, uint64_t v)
{
	return gc_send_dl(fd, &v, GOCHAN_XFER_DEADLINE,
			  now_ns() + GC_WAIT_MS * 1000000LL);
}

static int recv_bounded(int fd, uint64_t *v)
{
	uint32_t ok = UNSET;
	int ret = gc_recv_dl(fd, v, &ok, GOCHAN_XFER_DEADLINE,
			     now_ns() + GC_WAIT_MS * 1000000LL);

	if (ret == 0 && ok != 1)
		return ok == 0 ? GC_CLOSED : -EPROTO;
	return ret;
}

/* The channel's counters and waiters are as given. */
static bool chan_is(int fd, uint32_t len, uint64_t sent, uint64_t received)
{
	struct gochan_stat st;

	return gc_stat(fd, &st) == 0 && st.len == len && st.sent == sent &&
	       st.received == received && st.send_waiters == 0 &&
	       st.recv_waiters == 0;
}

/* ------------------------------------------------------------------ */

/* Selects issued on /dev/gochan, on a channel fd that is none of the cases', and on a
 * select set made from the cases on /dev/gochan. */
GC_SELECT_FIXTURE(select);

TEST_F(select, ready_recv_case_runs_with_value_and_ok)
{
	int a = gc_make(self->dev, 8, 2);	/* empty */
	int b = gc_make(self->dev, 8, 2);	/* holds 0x42 */
	int c = gc_make(self->dev, 8, 0);	/* unbuffered, nobody */
	uint64_t buf[3] = { 1, 2, 3 };
	struct gochan_select_case cs[3] = {
		gc_case(a, RECV, &buf[0]), gc_case(b, RECV, &buf[1]),
		gc_case(c, RECV, &buf[2]),
	};
	uint32_t index, ok;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	for (uint32_t flags = 0; flags <= NB; flags += NB) {
		ASSERT_EQ(0, gc_send_u64(b, 0x42 + flags, GOCHAN_XFER_NONBLOCK));
		buf[0] = 1, buf[1] = 2, buf[2] = 3;
		/* The only ready case runs (blocking or not): index 1,
		 * ok = 1, its buffer gets the value... */
		ASSERT_EQ(0, sel(self->sfd, cs, 3, flags, 0, &index, &ok));
		EXPECT_EQ(1, index);
		EXPECT_EQ(1, ok);
		EXPECT_EQ(0x42 + flags, buf[1]);
		/* ...and the other cases' buffers are not written. */
		EXPECT_EQ(1, buf[0]);
		EXPECT_EQ(3, buf[2]);
	}
	/* The element was taken from b, and nothing else moved. */
	EXPECT_TRUE(chan_is(b, 0, 2, 2));
	EXPECT_TRUE(chan_is(a, 0, 0, 0));
	EXPECT_TRUE(chan_is(c, 0, 0, 0));
	close(a);
	close(b);
	close(c);
}

TEST_F(select, ready_send_case_runs_with_ok_zero)
{
	int full = gc_make(self->dev, 8, 1);
	int space = gc_make(self->dev, 8, 1);
	int unbuf = gc_make(self->dev, 8, 0);
	uint64_t buf[3] = { 0x10, 0x20, 0x30 }, v = 0;
	struct gochan_select_case cs[3] = {
		gc_case(full, SEND, &buf[0]), gc_case(space, SEND, &buf[1]),
		gc_case(unbuf, SEND, &buf[2]),
	};
	struct gc_op *rop = gc_ops(1);
	uint32_t index, ok;
	pid_t pid;

	ASSERT_LE(0, full);
	ASSERT_LE(0, space);
	ASSERT_LE(0, unbuf);
	ASSERT_NE(NULL, rop);
	ASSERT_EQ(0, gc_send_u64(full, 0x99, GOCHAN_XFER_NONBLOCK));
	/* The send case with room runs; ok is 0 for a send. */
	ASSERT_EQ(0, sel(self->sfd, cs, 3, 0, 0, &index, &ok));
	EXPECT_EQ(1, index);
	EXPECT_EQ(0, ok);
	/* The value went into that channel, nowhere else. */
	EXPECT_EQ(0, gc_recv_u64(space, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0x20, v);
	EXPECT_TRUE(chan_is(full, 1, 1, 0));
	EXPECT_TRUE(chan_is(unbuf, 0, 0, 0));

	/* A receiver waiting on the unbuffered channel makes its send case
	 * ready: the select hands it the value. */
	ASSERT_EQ(0, gc_send_u64(space, 0x98, GOCHAN_XFER_NONBLOCK));
	rop->fd = unbuf;
	rop->kind = GC_OP_RECV;
	pid = gc_spawn_op(rop);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(unbuf, 0, 1));
	ASSERT_EQ(0, sel(self->sfd, cs, 3, NB, 0, &index, &ok));
	EXPECT_EQ(2, index);
	EXPECT_EQ(0, ok);
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, rop->ret);
	EXPECT_EQ(1, rop->ok);
	EXPECT_EQ(0x30, rop->val);
	close(full);
	close(space);
	close(unbuf);
}

TEST_F(select, nonblock_with_none_ready_is_eagain)
{
	int empty = gc_make(self->dev, 8, 2);
	int full = gc_make(self->dev, 8, 1);
	int unbuf = gc_make(self->dev, 8, 0);
	uint64_t buf[4] = { 1, 2, 3, 4 };
	struct gochan_select_case cs[4] = {
		gc_case(empty, RECV, &buf[0]), gc_case(full, SEND, &buf[1]),
		gc_case(unbuf, SEND, &buf[2]), gc_case(unbuf, RECV, &buf[3]),
	};

	ASSERT_LE(0, empty);
	ASSERT_LE(0, full);
	ASSERT_LE(0, unbuf);
	ASSERT_EQ(0, gc_send_u64(full, 7, GOCHAN_XFER_NONBLOCK));
	/* No case can proceed: Go's default, EAGAIN... */
	EXPECT_EQ(-EAGAIN, sel(self->sfd, cs, 4, NB, 0, NULL, NULL));
	/* ...also with a deadline still ahead. */
	EXPECT_EQ(-EAGAIN, sel(self->sfd, cs, 4, NB | DL,
			       now_ns() + 1000000000LL, NULL, NULL));
	/* Nothing moved, no receive buffer was written, nobody is left
	 * queued. */
	EXPECT_TRUE(chan_is(empty, 0, 0, 0));
	EXPECT_TRUE(chan_is(full, 1, 1, 0));
	EXPECT_TRUE(chan_is(unbuf, 0, 0, 0));
	EXPECT_EQ(1, buf[0]);
	EXPECT_EQ(4, buf[3]);
	close(empty);
	close(full);
	close(unbuf);
}

TEST_F(select, deadline_with_none_ready_is_etimedout)
{
	int empty = gc_make(self->dev, 8, 2);
	int unbuf = gc_make(self->dev, 8, 0);
	uint64_t buf[2] = { 1, 2 };
	struct gochan_select_case cs[2] = {
		gc_case(empty, RECV, &buf[0]), gc_case(unbuf, SEND, &buf[1]),
	};
	int64_t dl;

	ASSERT_LE(0, empty);
	ASSERT_LE(0, unbuf);
	/* A deadline already past: ETIMEDOUT at once. */
	EXPECT_EQ(-ETIMEDOUT, sel(self->sfd, cs, 2, DL, now_ns() - 1000000000LL,
				  NULL, NULL));
	/* A deadline ahead: the select waits, then fails ETIMEDOUT, not
	 * before the deadline (CLOCK_MONOTONIC, absolute). */
	dl = now_ns() + 50000000LL;
	EXPECT_EQ(-ETIMEDOUT, sel(self->sfd, cs, 2, DL, dl, NULL, NULL));
	EXPECT_LE(dl, now_ns());
	/* It left every queue and moved nothing. */
	EXPECT_TRUE(chan_is(empty, 0, 0, 0));
	EXPECT_TRUE(chan_is(unbuf, 0, 0, 0));
	EXPECT_EQ(1, buf[0]);
	close(empty);
	close(unbuf);
}

TEST_F(select, blocked_select_is_woken_by_send_in_other_process)
{
	struct sel_op *op = sel_ops(1);
	int ch[3];
	uint64_t v;
	pid_t pid;

	ASSERT_NE(NULL, op);
	ch[0] = gc_make(self->dev, 8, 2);
	ch[1] = gc_make(self->dev, 8, 0);
	ch[2] = gc_make(self->dev, 8, 1);
	for (int i = 0; i < 3; i++) {
		ASSERT_LE(0, ch[i]);
		sel_op_case(op, ch[i], RECV, 0x100 + i);
	}
	op->fd = self->sfd;
	pid = spawn_sel(op);
	ASSERT_LT(0, pid);
	/* The select waits in all three channels at once. */
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, gc_wait_waiters(ch[i], 0, 1)) TH_LOG("chan %d", i);
	}
	EXPECT_FALSE(op_done(op));
	/* A send on the unbuffered one completes: the select took it. */
	ASSERT_EQ(0, send_bounded(ch[1], 0x77));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, op->ret);
	EXPECT_EQ(1, op->index);
	EXPECT_EQ(1, op->ok);
	EXPECT_EQ(0x77, op->bufs[1]);
	/* It left the other queues: a send there now stays buffered. */
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(0, gc_wait_waiters(ch[i], 0, 0)) TH_LOG("chan %d", i);
	}
	ASSERT_EQ(0, gc_send_u64(ch[2], 5, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0, gc_recv_u64(ch[2], &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(5, v);
	EXPECT_TRUE(chan_is(ch[0], 0, 0, 0));
	for (int i = 0; i < 3; i++)
		close(ch[i]);
}

TEST_F(select, blocked_select_is_woken_by_recv_in_other_process)
{
	struct sel_op *op = sel_ops(1);
	int ch[3];
	uint64_t v = 0;
	pid_t pid;

	ASSERT_NE(NULL, op);
	ch[0] = gc_make(self->dev, 8, 1);	/* full */
	ch[1] = gc_make(self->dev, 8, 0);	/* unbuffered */
	ch[2] = gc_make(self->dev, 8, 1);	/* full */
	for (int i = 0; i < 3; i++) {
		ASSERT_LE(0, ch[i]);
		if (i != 1) {
			ASSERT_EQ(0, gc_send_u64(ch[i], 0xa0 + i,
						 GOCHAN_XFER_NONBLOCK));
		}
		sel_op_case(op, ch[i], SEND, 0x10 + i);
	}
	op->fd = self->sfd;
	pid = spawn_sel(op);
	ASSERT_LT(0, pid);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, gc_wait_waiters(ch[i], 1, 0)) TH_LOG("chan %d", i);
	}
	EXPECT_FALSE(op_done(op));
	/* A receive frees a slot in ch[2]: the blocked send case moves its
	 * value in and the select returns. */
	ASSERT_EQ(0, gc_recv_u64(ch[2], &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0xa2, v);
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, op->ret);
	EXPECT_EQ(2, op->index);
	EXPECT_EQ(0, op->ok);
	/* ch[2] holds the select's value; the other cases sent nothing. */
	EXPECT_EQ(0, gc_recv_u64(ch[2], &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0x12, v);
	EXPECT_TRUE(chan_is(ch[0], 1, 1, 0));
	EXPECT_TRUE(chan_is(ch[1], 0, 0, 0));
	EXPECT_EQ(-EAGAIN, gc_recv_u64(ch[1], &v, GOCHAN_XFER_NONBLOCK));
	for (int i = 0; i < 3; i++)
		close(ch[i]);
}

TEST_F(select, closed_channel_is_ready_for_recv_after_draining)
{
	int open_ch = gc_make(self->dev, 8, 2);
	int cl = gc_make(self->dev, 8, 4);
	uint64_t buf[2];
	struct gochan_select_case cs[2] = {
		gc_case(open_ch, RECV, &buf[0]), gc_case(cl, RECV, &buf[1]),
	};
	uint32_t index, ok;

	ASSERT_LE(0, open_ch);
	ASSERT_LE(0, cl);
	ASSERT_EQ(0, gc_send_u64(cl, 0x61, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_send_u64(cl, 0x62, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_close_chan(cl));
	/* The buffered values come first, in order, with ok = 1... */
	for (int i = 0; i < 2; i++) {
		buf[0] = buf[1] = 0;
		ASSERT_EQ(0, sel(self->sfd, cs, 2, 0, 0, &index, &ok));
		EXPECT_EQ(1, index);
		EXPECT_EQ(1, ok);
		EXPECT_EQ(0x61 + i, buf[1]);
	}
	/* ...then the drained closed channel is ready: ok = 0 and the
	 * buffer is not written, blocking or not, every time. */
	for (uint32_t flags = 0; flags <= NB; flags += NB) {
		buf[0] = buf[1] = 0x5555;
		ASSERT_EQ(0, sel(self->sfd, cs, 2, flags, 0, &index, &ok));
		EXPECT_EQ(1, index);
		EXPECT_EQ(0, ok);
		EXPECT_EQ(0x5555, buf[1]);
		EXPECT_EQ(0x5555, buf[0]);
	}
	EXPECT_TRUE(chan_is(open_ch, 0, 0, 0));
	close(open_ch);
	close(cl);
}

TEST_F(select, close_wakes_blocked_select_with_ok_zero)
{
	struct sel_op *op = sel_ops(1);
	int a = gc_make(self->dev, 8, 1);
	int b = gc_make(self->dev, 8, 0);
	pid_t pid;

	ASSERT_NE(NULL, op);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	sel_op_case(op, a, RECV, 0x5555);
	sel_op_case(op, b, RECV, 0x6666);
	op->fd = self->sfd;
	pid = spawn_sel(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(a, 0, 1));
	ASSERT_EQ(0, gc_wait_waiters(b, 0, 1));
	/* Closing one channel wakes the select: that case, ok = 0, its
	 * buffer not written. */
	ASSERT_EQ(0, gc_close_chan(b));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, op->ret);
	EXPECT_EQ(1, op->index);
	EXPECT_EQ(0, op->ok);
	EXPECT_EQ(0x6666, op->bufs[1]);
	EXPECT_EQ(0x5555, op->bufs[0]);
	EXPECT_TRUE(chan_is(a, 0, 0, 0));
	close(a);
	close(b);
}

TEST_F(select, send_case_on_closed_channel_is_epipe_with_index)
{
	int e1 = gc_make(self->dev, 8, 1);
	int e2 = gc_make(self->dev, 8, 0);
	int cl = gc_make(self->dev, 8, 2);
	uint64_t buf[3] = { 1, 2, 3 };
	struct gochan_select_case cs[3] = {
		gc_case(e1, RECV, &buf[0]), gc_case(e2, RECV, &buf[1]),
		gc_case(cl, SEND, &buf[2]),
	};
	uint32_t index, ok;

	ASSERT_LE(0, e1);
	ASSERT_LE(0, e2);
	ASSERT_LE(0, cl);
	ASSERT_EQ(0, gc_close_chan(cl));
	for (uint32_t flags = 0; flags <= NB; flags += NB) {
		/* The send on the closed channel is the ready case: the
		 * select fails with EPIPE (Go panics)... */
		EXPECT_EQ(-EPIPE, sel(self->sfd, cs, 3, flags, 0, &index, &ok))
			TH_LOG("flags %u", flags);
		/* ...and index says which case, written back as for
		 * success. */
		EXPECT_EQ(2, index) TH_LOG("flags %u", flags);
	}
	/* Nothing went into the closed channel; the others are untouched. */
	EXPECT_TRUE(chan_is(cl, 0, 0, 0));
	EXPECT_TRUE(chan_is(e1, 0, 0, 0));
	EXPECT_EQ(1, buf[0]);
	close(e1);
	close(e2);
	close(cl);
}

TEST_F(select, close_fails_blocked_send_case_with_epipe_and_index)
{
	struct sel_op *op = sel_ops(1);
	int a = gc_make(self->dev, 8, 1);
	int u = gc_make(self->dev, 8, 0);
	pid_t pid;

	ASSERT_NE(NULL, op);
	ASSERT_LE(0, a);
	ASSERT_LE(0, u);
	sel_op_case(op, a, RECV, 0);
	sel_op_case(op, u, SEND, 0x31);
	op->fd = self->sfd;
	pid = spawn_sel(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(u, 1, 0));
	ASSERT_EQ(0, gc_wait_waiters(a, 0, 1));
	/* Closing the channel of the blocked send case fails the select
	 * with EPIPE, index 1. */
	ASSERT_EQ(0, gc_close_chan(u));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(-EPIPE, op->ret);
	EXPECT_EQ(1, op->index);
	EXPECT_TRUE(chan_is(a, 0, 0, 0));
	EXPECT_TRUE(chan_is(u, 0, 0, 0));
	close(a);
	close(u);
}

TEST_F(select, signal_interrupts_with_eintr_and_moves_nothing)
{
	struct sel_op *op = sel_ops(1);
	int a = gc_make(self->dev, 8, 1);
	int u = gc_make(self->dev, 8, 0);
	uint64_t v;
	pid_t pid;

	ASSERT_NE(NULL, op);
	ASSERT_LE(0, a);
	ASSERT_LE(0, u);
	sel_op_case(op, a, RECV, 0);
	sel_op_case(op, u, SEND, 0x31);
	op->fd = self->sfd;
	op->catch_sig = 1;
	pid = spawn_sel(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(u, 1, 0));
	ASSERT_EQ(0, gc_wait_waiters(a, 0, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, gc_reap(pid));
	/* Without SA_RESTART the handler runs and the select fails EINTR. */
	EXPECT_EQ(1, op->hits);
	EXPECT_EQ(-EINTR, op->ret);
	/* It left both queues; its send value was not delivered. */
	EXPECT_TRUE(chan_is(a, 0, 0, 0));
	EXPECT_TRUE(chan_is(u, 0, 0, 0));
	EXPECT_EQ(-EAGAIN, gc_recv_u64(u, &v, GOCHAN_XFER_NONBLOCK));
	close(a);
	close(u);
}

TEST_F(select, signal_with_sa_restart_restarts_the_select)
{
	struct sel_op *op = sel_ops(1);
	int a = gc_make(self->dev, 8, 1);
	int u = gc_make(self->dev, 8, 0);
	pid_t pid;

	ASSERT_NE(NULL, op);
	ASSERT_LE(0, a);
	ASSERT_LE(0, u);
	sel_op_case(op, a, RECV, 0);
	sel_op_case(op, u, SEND, 0x31);
	op->fd = self->sfd;
	op->catch_sig = 2;
	pid = spawn_sel(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(u, 1, 0));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, wait_hits(op, 1));
	/* After the handler the select waits again (restarted), in both
	 * channels... */
	ASSERT_EQ(0, gc_wait_waiters(u, 1, 0));
	ASSERT_EQ(0, gc_wait_waiters(a, 0, 1));
	EXPECT_FALSE(op_done(op));
	/* ...and completes once a case becomes ready. */
	ASSERT_EQ(0, gc_send_u64(a, 0x44, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, op->ret);
	EXPECT_EQ(0, op->index);
	EXPECT_EQ(1, op->ok);
	EXPECT_EQ(0x44, op->bufs[0]);
	EXPECT_TRUE(chan_is(u, 0, 0, 0));
	close(a);
	close(u);
}

TEST_F(select, zero_cases)
{
	struct gochan_select_case c0 = { 0 };
	struct sel_op *op = sel_ops(1);
	int64_t dl;
	pid_t pid;

	ASSERT_NE(NULL, op);
	/* select { default: }: EAGAIN. */
	EXPECT_EQ(-EAGAIN, sel(self->sfd, &c0, 0, NB, 0, NULL, NULL));
	/* select {} with a deadline: waits for it, then ETIMEDOUT. */
	dl = now_ns() + 20000000LL;
	EXPECT_EQ(-ETIMEDOUT, sel(self->sfd, &c0, 0, DL, dl, NULL, NULL));
	EXPECT_LE(dl, now_ns());
	/* select {} without one waits until a signal: EINTR. */
	op->fd = self->sfd;
	op->catch_sig = 1;
	pid = spawn_sel(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_in_syscall2(pid, SYS_ioctl, SYS_ioctl));
	EXPECT_FALSE(op_done(op));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(1, op->hits);
	EXPECT_EQ(-EINTR, op->ret);
}

TEST_F(select, duplicate_cases_are_separate_cases)
{
	int b = gc_make(self->dev, 8, 1);
	int bdup;
	uint64_t buf[3];
	struct gochan_select_case cs[3];
	uint32_t index, ok;
	int hits[3] = { 0 };

	ASSERT_LE(0, b);
	bdup = dup(b);
	ASSERT_LE(0, bdup);
	cs[0] = gc_case(b, RECV, &buf[0]);
	cs[1] = gc_case(bdup, RECV, &buf[1]);
	cs[2] = gc_case(b, RECV, &buf[2]);
	for (int i = 0; i < 150; i++) {
		ASSERT_EQ(0, gc_send_u64(b, i, GOCHAN_XFER_NONBLOCK));
		memset(buf, 0xff, sizeof(buf));
		/* The same channel in three cases (one through a dup()ed fd):
		 * one case takes the one element... */
		ASSERT_EQ(0, sel(self->sfd, cs, 3, NB, 0, &index, &ok));
		ASSERT_GT(3, index);
		EXPECT_EQ(1, ok);
		EXPECT_EQ(i, buf[index]);
		hits[index]++;
		/* ...and then none is ready. */
		ASSERT_EQ(-EAGAIN, sel(self->sfd, cs, 3, NB, 0, NULL, NULL));
	}
	/* Each duplicate is a case of its own, chosen at random (each missed
	 * in 150 runs with probability (2/3)^150 < 1e-26). */
	for (int i = 0; i < 3; i++) {
		EXPECT_LT(0, hits[i]) TH_LOG("case %d never chosen", i);
	}
	TH_LOG("duplicate cases chosen %d %d %d times", hits[0], hits[1],
	       hits[2]);

	/* Two send cases on one channel with room for one: one runs. */
	cs[0] = gc_case(b, SEND, &buf[0]);
	cs[1] = gc_case(bdup, SEND, &buf[1]);
	buf[0] = 0xa, buf[1] = 0xb;
	ASSERT_EQ(0, sel(self->sfd, cs, 2, NB, 0, &index, &ok));
	ASSERT_GT(2, index);
	EXPECT_EQ(-EAGAIN, sel(self->sfd, cs, 2, NB, 0, NULL, NULL));
	EXPECT_EQ(0, gc_recv_u64(b, &buf[2], GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0xa + index, buf[2]);
	close(bdup);
	close(b);
}

TEST_F(select, send_and_recv_on_one_unbuffered_channel_do_not_match)
{
	struct sel_op *op = sel_ops(1);
	int u = gc_make(self->dev, 8, 0);
	uint64_t buf[2] = { 0x71, 0 }, v = 0;
	struct gochan_select_case cs[2] = {
		gc_case(u, SEND, &buf[0]), gc_case(u, RECV, &buf[1]),
	};
	pid_t pid;

	ASSERT_NE(NULL, op);
	ASSERT_LE(0, u);
	/* A select's own send case is not a partner for its own receive
	 * case: non-blocking, nothing is ready. */
	EXPECT_EQ(-EAGAIN, sel(self->sfd, cs, 2, NB, 0, NULL, NULL));
	EXPECT_TRUE(chan_is(u, 0, 0, 0));

	for (int round = 0; round < 2; round++) {
		memset(op, 0, sizeof(*op));
		sel_op_case(op, u, SEND, 0x71 + round);
		sel_op_case(op, u, RECV, 0x5555);
		op->fd = self->sfd;
		pid = spawn_sel(op);
		ASSERT_LT(0, pid);
		/* Blocking, it waits as a sender and as a receiver on the
		 * same channel, and stays blocked... */
		ASSERT_EQ(0, gc_wait_waiters(u, 1, 1));
		EXPECT_FALSE(op_done(op));
		EXPECT_TRUE(gc_running(pid));
		/* ...until a partner arrives: a receiver takes the send
		 * case's value, or a sender fills the receive case. */
		if (round == 0) {
			ASSERT_EQ(0, recv_bounded(u, &v));
			EXPECT_EQ(0x71, v);
		} else {
			ASSERT_EQ(0, send_bounded(u, 0x99));
		}
		ASSERT_EQ(0, gc_reap(pid));
		EXPECT_EQ(0, op->ret);
		EXPECT_EQ(round, op->index);
		if (round == 1) {
			EXPECT_EQ(1, op->ok);
			EXPECT_EQ(0x99, op->bufs[1]);
		} else {
			EXPECT_EQ(0x5555, op->bufs[1]);
		}
		EXPECT_EQ(0, gc_wait_waiters(u, 0, 0));
	}
	EXPECT_TRUE(chan_is(u, 0, 2, 2));
	close(u);
}

/* ---- bad input: each fails the select and moves nothing ---- */

/* ready: a channel holding one element 0x1234; the check helpers make
 * select cases beside a receive case on it, so a select that wrongly went
 * ahead would take the element. */
#define READY_VAL	0x1234

static int make_ready(int dev)
{
	int fd = gc_make(dev, 8, 2);

	if (fd >= 0 && gc_send_u64(fd, READY_VAL, GOCHAN_XFER_NONBLOCK))
		return -1;
	return fd;
}

/* The ready channel still holds its one element, untaken. */
static bool ready_untouched(int fd)
{
	return chan_is(fd, 1, 1, 0);
}

TEST_F(select, bad_fd_is_ebadf)
{
	int r = make_ready(self->dev);
	uint64_t buf[2];
	struct gochan_select_case cs[2];
	int closed_fd = gc_make(self->dev, 8, 0);
	const int bad[] = { -2, closed_fd, 0x7fffffff };

	ASSERT_LE(0, r);
	ASSERT_LE(0, closed_fd);
	close(closed_fd);
	cs[0] = gc_case(r, RECV, &buf[0]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cs[1] = gc_case(bad[i], RECV, &buf[1]);
		/* A case's fd not open: EBADF, even beside a ready case
		 * (-1 is a nil case, never chosen: nil_case.c). */
		EXPECT_EQ(-EBADF, sel(self->sfd, cs, 2, NB, 0, NULL, NULL))
			TH_LOG("fd %d", bad[i]);
		cs[1].op = SEND;
		EXPECT_EQ(-EBADF, sel(self->sfd, cs, 2, 0, 0, NULL, NULL))
			TH_LOG("fd %d", bad[i]);
	}
	EXPECT_TRUE(ready_untouched(r));
	close(r);
}

TEST_F(select, non_channel_fd_is_einval)
{
	int r = make_ready(self->dev);
	int pfd[2], null = open("/dev/null", O_RDWR | O_CLOEXEC);
	uint64_t buf[2];
	struct gochan_select_case cs[2];

	ASSERT_LE(0, r);
	ASSERT_LE(0, null);
	ASSERT_EQ(0, pipe(pfd));
	const int bad[] = { self->dev, pfd[0], pfd[1], null };

	cs[0] = gc_case(r, RECV, &buf[0]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		/* /dev/gochan itself, a pipe, /dev/null: not channels,
		 * EINVAL. */
		cs[1] = gc_case(bad[i], RECV, &buf[1]);
		EXPECT_EQ(-EINVAL, sel(self->sfd, cs, 2, NB, 0, NULL, NULL))
			TH_LOG("case %zu", i);
		cs[1].op = SEND;
		EXPECT_EQ(-EINVAL, sel(self->sfd, cs, 2, NB, 0, NULL, NULL))
			TH_LOG("case %zu", i);
	}
	EXPECT_TRUE(ready_untouched(r));
	close(pfd[0]);
	close(pfd[1]);
	close(null);
	close(r);
}

TEST_F(select, bad_op_is_einval)
{
	int r = make_ready(self->dev);
	int e = gc_make(self->dev, 8, 2);
	uint64_t buf[2] = { 0 };
	struct gochan_select_case cs[2];
	static const uint32_t ops[] = { 0, 3, 4, 0x80000001u, 0xffffffffu };

	ASSERT_LE(0, r);
	ASSERT_LE(0, e);
	cs[0] = gc_case(r, RECV, &buf[0]);
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		cs[1] = gc_case(e, ops[i], &buf[1]);
		/* An op other than SEND or RECV: EINVAL. */
		EXPECT_EQ(-EINVAL, sel(self->sfd, cs, 2, NB, 0, NULL, NULL))
			TH_LOG("op %u", ops[i]);
	}
	EXPECT_TRUE(ready_untouched(r));
	EXPECT_TRUE(chan_is(e, 0, 0, 0));
	close(r);
	close(e);
}

TEST_F(select, nonzero_reserved_is_einval)
{
	int r = make_ready(self->dev);
	uint64_t buf[2];
	struct gochan_select_case cs[2];
	struct gochan_select s;

	ASSERT_LE(0, r);
	cs[0] = gc_case(r, RECV, &buf[0]);
	cs[1] = gc_case(r, RECV, &buf[1]);
	/* A case's reserved field must be zero: EINVAL. */
	cs[1].reserved = 1;
	EXPECT_EQ(-EINVAL, sel(self->sfd, cs, 2, NB, 0, NULL, NULL));
	cs[1].reserved = 1ull << 63;
	EXPECT_EQ(-EINVAL, sel(self->sfd, cs, 2, NB, 0, NULL, NULL));
	cs[1].reserved = 0;
	for (int i = 0; i < 2; i++) {
		/* So must the select's reserved[]. */
		sel_init(&s, cs, 2, NB, 0);
		s.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, sel_raw(self->sfd, &s)) TH_LOG("reserved[%d]", i);
	}
	EXPECT_TRUE(ready_untouched(r));
	close(r);
}

TEST_F(select, unknown_flags_are_einval)
{
	int r = make_ready(self->dev);
	uint64_t buf;
	struct gochan_select_case cs = gc_case(r, RECV, &buf);

	ASSERT_LE(0, r);
	for (int bit = 0; bit < 32; bit++) {
		uint32_t f = 1u << bit;

		if (f & GOCHAN_SELECT_FLAGS)
			continue;
		/* Undefined flag bits: EINVAL, even with NONBLOCK beside. */
		EXPECT_EQ(-EINVAL, sel(self->sfd, &cs, 1, f | NB, 0, NULL, NULL))
			TH_LOG("bit %d", bit);
	}
	EXPECT_TRUE(ready_untouched(r));
	close(r);
}

TEST_F(select, deadline_without_deadline_flag_is_einval)
{
	int r = make_ready(self->dev);
	uint64_t buf;
	struct gochan_select_case cs = gc_case(r, RECV, &buf);
	static const int64_t dls[] = { 1, -1, INT64_MAX };

	ASSERT_LE(0, r);
	for (size_t i = 0; i < ARRAY_SIZE(dls); i++) {
		/* deadline_ns must be 0 without GOCHAN_SELECT_DEADLINE. */
		EXPECT_EQ(-EINVAL, sel(self->sfd, &cs, 1, NB, dls[i], NULL, NULL))
			TH_LOG("deadline %lld", (long long)dls[i]);
		EXPECT_EQ(-EINVAL, sel(self->sfd, &cs, 0, NB, dls[i], NULL, NULL))
			TH_LOG("ncases 0, deadline %lld", (long long)dls[i]);
	}
	EXPECT_TRUE(ready_untouched(r));
	close(r);
}

TEST_F(select, ncases_above_max_is_einval)
{
	int r = make_ready(self->dev);
	uint64_t buf;
	struct gochan_select_case cs[4];
	static const uint32_t ns[] = {
		GOCHAN_SELECT_CASES_MAX + 1, 0x80000000u, 0xffffffffu,
	};

	ASSERT_LE(0, r);
	for (int i = 0; i < 4; i++)
		cs[i] = gc_case(r, RECV, &buf);
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		/* More than GOCHAN_SELECT_CASES_MAX cases: EINVAL, before
		 * the (short) array is read. */
		EXPECT_EQ(-EINVAL, sel(self->sfd, cs, ns[i], NB, 0, NULL, NULL))
			TH_LOG("ncases %u", ns[i]);
	}
	EXPECT_TRUE(ready_untouched(r));
	close(r);
}

TEST_F(select, case_size_rules)
{
	int r = make_ready(self->dev);
	static const uint32_t small[] = {
		0, 1, 8, GOCHAN_SELECT_CASE_SIZE_VER0 - 1,
	};
	static unsigned char raw[2 * GC_STRUCT_MAX + 64];
	struct gochan_select_case *c0 = (void *)raw;
	struct gochan_select s;
	uint64_t v = 0;

	ASSERT_LE(0, r);
	memset(raw, 0, sizeof(raw));
	*c0 = gc_case(r, RECV, &v);
	for (size_t i = 0; i < ARRAY_SIZE(small); i++) {
		/* A case_size below the first version's: EINVAL. */
		sel_init(&s, c0, 1, NB, 0);
		s.case_size = small[i];
		EXPECT_EQ(-EINVAL, sel_raw(self->sfd, &s))
			TH_LOG("case_size %u", small[i]);
	}
	/* Above 4096 the call fails (the header lists "case_size out of
	 * range" as EINVAL and the extensible-struct rules say E2BIG). */
	sel_init(&s, c0, 1, NB, 0);
	s.case_size = GC_STRUCT_MAX + 8;
	{
		int ret = sel_raw(self->sfd, &s);

		EXPECT_TRUE(ret == -EINVAL || ret == -E2BIG)
			TH_LOG("case_size %u: %d", s.case_size, ret);
	}
	/* A larger case with a nonzero byte past the known part: E2BIG. */
	sel_init(&s, c0, 1, NB, 0);
	s.case_size = GOCHAN_SELECT_CASE_SIZE_VER0 + 8;
	raw[GOCHAN_SELECT_CASE_SIZE_VER0 + 7] = 1;
	EXPECT_EQ(-E2BIG, sel_raw(self->sfd, &s));
	raw[GOCHAN_SELECT_CASE_SIZE_VER0 + 7] = 0;
	EXPECT_TRUE(ready_untouched(r));

	/* Larger cases with zero tails work: the cases are read at
	 * case_size strides (the second case is the ready one). */
	for (uint32_t cs = GOCHAN_SELECT_CASE_SIZE_VER0 + 8; cs <= GC_STRUCT_MAX;
	     cs *= 2) {
		int e = gc_make(self->dev, 8, 1);
		struct gochan_select_case *c1 = (void *)(raw + cs);

		ASSERT_LE(0, e);
		memset(raw, 0, sizeof(raw));
		*c0 = gc_case(e, RECV, &v);
		*c1 = gc_case(r, RECV, &v);
		sel_init(&s, c0, 2, NB, 0);
		s.case_size = cs;
		v = 0;
		EXPECT_EQ(0, sel_raw(self->sfd, &s)) TH_LOG("case_size %u", cs);
		EXPECT_EQ(1, s.index);
		EXPECT_EQ(1, s.ok);
		EXPECT_EQ(READY_VAL, v);
		ASSERT_EQ(0, gc_send_u64(r, READY_VAL, GOCHAN_XFER_NONBLOCK));
		close(e);
	}
	close(r);
}

TEST_F(select, struct_size_rules)
{
	int r = make_ready(self->dev);
	static union {
		struct gochan_select s;
		unsigned char bytes[2 * GC_STRUCT_MAX];
	} big;
	static const uint32_t small[] = { 0, 8, GOCHAN_SELECT_SIZE_VER0 - 1 };
	static const uint32_t huge[] = { GC_STRUCT_MAX + 1, 0xffffffffu };
	uint64_t v = 0;
	struct gochan_select_case cs;

	ASSERT_LE(0, r);
	cs = gc_case(r, RECV, &v);
	for (size_t i = 0; i < ARRAY_SIZE(small); i++) {
		memset(&big, 0, sizeof(big));
		sel_init(&big.s, &cs, 1, NB, 0);
		big.s.size = small[i];
		/* A size below the first version's: EINVAL. */
		EXPECT_EQ(-EINVAL, sel_raw(self->sfd, &big.s))
			TH_LOG("size %u", small[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(huge); i++) {
		memset(&big, 0, sizeof(big));
		sel_init(&big.s, &cs, 1, NB, 0);
		big.s.size = huge[i];
		/* Above 4096: E2BIG. */
		EXPECT_EQ(-E2BIG, sel_raw(self->sfd, &big.s))
			TH_LOG("size %u", huge[i]);
	}
	/* A nonzero byte past the known struct: E2BIG. */
	memset(&big, 0, sizeof(big));
	sel_init(&big.s, &cs, 1, NB, 0);
	big.s.size = GC_STRUCT_MAX;
	big.bytes[GC_STRUCT_MAX - 1] = 1;
	EXPECT_EQ(-E2BIG, sel_raw(self->sfd, &big.s));
	EXPECT_TRUE(ready_untouched(r));

	/* A larger struct with a zero tail works; output stops at the
	 * kernel's struct, so the tail stays zero. */
	memset(&big, 0, sizeof(big));
	sel_init(&big.s, &cs, 1, NB, 0);
	big.s.size = GC_STRUCT_MAX;
	EXPECT_EQ(0, sel_raw(self->sfd, &big.s));
	EXPECT_EQ(0, big.s.index);
	EXPECT_EQ(1, big.s.ok);
	EXPECT_EQ(READY_VAL, v);
	EXPECT_EQ(-1, gc_first_not(big.bytes, GOCHAN_SELECT_SIZE_VER0,
				   sizeof(big.bytes), 0));
	close(r);
}

TEST_F(select, bad_pointers_are_efault)
{
	int r = make_ready(self->dev);
	struct gochan_select s;
	struct gochan_select_case *hole;
	uint64_t v;

	ASSERT_LE(0, r);
	/* An unmapped struct pointer: EFAULT. */
	EXPECT_EQ(-EFAULT, gc_err(ioctl(self->sfd, GOCHAN_IOC_SELECT, NULL)));
	EXPECT_EQ(-EFAULT, gc_err(ioctl(self->sfd, GOCHAN_IOC_SELECT,
					GC_BAD_PTR)));
	/* An unmapped cases pointer: EFAULT. */
	sel_init(&s, GC_BAD_PTR, 1, NB, 0);
	EXPECT_EQ(-EFAULT, sel_raw(self->sfd, &s));
	sel_init(&s, NULL, 2, 0, 0);
	EXPECT_EQ(-EFAULT, sel_raw(self->sfd, &s));
	/* A cases array whose second case runs into a hole: EFAULT, and
	 * the ready first case did not run. */
	hole = gc_buf_before_hole(sizeof(*hole) + 8);
	ASSERT_NE(NULL, hole);
	hole[0] = gc_case(r, RECV, &v);
	sel_init(&s, hole, 2, NB, 0);
	EXPECT_EQ(-EFAULT, sel_raw(self->sfd, &s));
	EXPECT_TRUE(ready_untouched(r));
	close(r);
}

TEST_F(select, bad_send_buffer_is_efault_and_sends_nothing)
{
	int r = make_ready(self->dev);
	int sp = gc_make(self->dev, 8, 4);
	uint64_t v = 0;
	void *bufs[] = { GC_BAD_PTR, gc_buf_before_hole(4) };
	struct gochan_select_case cs[2];

	ASSERT_LE(0, r);
	ASSERT_LE(0, sp);
	ASSERT_NE(NULL, bufs[1]);
	for (size_t i = 0; i < ARRAY_SIZE(bufs); i++) {
		/* A send case whose value cannot be read: EFAULT... */
		cs[0] = gc_case(sp, SEND, bufs[i]);
		EXPECT_EQ(-EFAULT, sel(self->sfd, cs, 1, NB, 0, NULL, NULL))
			TH_LOG("buf %zu", i);
		EXPECT_EQ(-EFAULT, sel(self->sfd, cs, 1, 0, 0, NULL, NULL))
			TH_LOG("buf %zu", i);
		/* ...even beside a ready receive case: every send value is
		 * copied in before any case runs.  (A select set reads a
		 * send value when it tries that case: there the ready
		 * receive may run instead, or the bad send case be tried
		 * first and fail.) */
		if (!via_set) {
			cs[1] = gc_case(r, RECV, &v);
			EXPECT_EQ(-EFAULT, sel(self->sfd, cs, 2, NB, 0, NULL, NULL))
				TH_LOG("buf %zu", i);
		} else {
			int r2 = make_ready(self->dev);
			uint32_t index = UNSET;
			int ret;

			ASSERT_LE(0, r2);
			cs[1] = gc_case(r2, RECV, &v);
			ret = sel(self->sfd, cs, 2, NB, 0, &index, NULL);
			if (ret == -EFAULT) {
				EXPECT_TRUE(ready_untouched(r2)) TH_LOG("buf %zu", i);
			} else {
				EXPECT_TRUE(ret == 0 && index == 1 && v == READY_VAL)
					TH_LOG("buf %zu: %d, case %u", i, ret, index);
			}
			close(r2);
		}
	}
	/* Nothing was sent, nothing taken. */
	EXPECT_TRUE(chan_is(sp, 0, 0, 0));
	EXPECT_TRUE(ready_untouched(r));
	close(r);
	close(sp);
}

TEST_F(select, bad_recv_buffer_is_efault_and_takes_nothing)
{
	int r = make_ready(self->dev);
	uint64_t v = 0;
	void *bufs[] = { GC_BAD_PTR, gc_buf_before_hole(4) };
	struct gochan_select_case cs;

	ASSERT_LE(0, r);
	ASSERT_NE(NULL, bufs[1]);
	for (size_t i = 0; i < ARRAY_SIZE(bufs); i++) {
		cs = gc_case(r, RECV, bufs[i]);
		/* The ready receive case's buffer is bad (wholly or in
		 * part): EFAULT... */
		EXPECT_EQ(-EFAULT, sel(self->sfd, &cs, 1, NB, 0, NULL, NULL))
			TH_LOG("buf %zu", i);
		EXPECT_EQ(-EFAULT, sel(self->sfd, &cs, 1, 0, 0, NULL, NULL))
			TH_LOG("buf %zu", i);
		/* ...and the element was not taken. */
		EXPECT_TRUE(ready_untouched(r)) TH_LOG("buf %zu", i);
	}
	/* It is still there for the next receiver. */
	EXPECT_EQ(0, gc_recv_u64(r, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(READY_VAL, v);
	close(r);
}

struct unmap_arg {
	int sfd;
	struct gochan_select_case cs;
	volatile int ret;
	volatile int done;
};

static void *select_thread(void *p)
{
	struct unmap_arg *a = p;

	a->ret = sel(a->sfd, &a->cs, 1, 0, 0, NULL, NULL);
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * A receive case's buffer is pinned before the select waits, and the value
 * is written through the pin: a buffer unmapped while the select waits
 * still gets it, in the pages that were mapped there (as O_DIRECT writes
 * them), and the select reports it.  The page here is a memfd's, mapped
 * twice: the second view shows what went into the first.
 */
TEST_F(select, recv_buffer_unmapped_while_waiting_still_receives)
{
	int ch = gc_make(self->dev, 8, 1);
	int mfd = memfd_create("recvbuf", MFD_CLOEXEC);
	long pg = sysconf(_SC_PAGESIZE);
	struct unmap_arg a = { .sfd = self->sfd };
	struct gochan_stat st;
	uint64_t v = 0;
	pthread_t th;
	void *page, *view;

	ASSERT_LE(0, ch);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, pg));
	page = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, page);
	view = mmap(NULL, pg, PROT_READ, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, view);
	a.cs = gc_case(ch, RECV, page);
	ASSERT_EQ(0, pthread_create(&th, NULL, select_thread, &a));
	ASSERT_EQ(0, gc_wait_waiters(ch, 0, 1));
	/* The buffer goes away while the select waits; a value then
	 * arrives for it. */
	ASSERT_EQ(0, munmap(page, pg));
	ASSERT_EQ(0, gc_send_u64(ch, 0xabc, GOCHAN_XFER_NONBLOCK));
	pthread_join(th, NULL);
	/* Received and reported, not an EFAULT after the value moved... */
	EXPECT_EQ(0, a.ret);
	/* ...into the pages that were the buffer... */
	EXPECT_EQ(0xabc, *(volatile uint64_t *)view);
	/* ...once: nothing is left in the channel, nothing beside its ring. */
	EXPECT_EQ(-EAGAIN, gc_recv_u64(ch, &v, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_stat(ch, &st));
	EXPECT_EQ(0, st.len);
	EXPECT_EQ(1, st.received);
	munmap(view, pg);
	close(mfd);
	close(ch);
}

TEST_F(select, send_bytes_over_max_is_emsgsize)
{
	unsigned long long max_elem = GOCHAN_ELEM_SIZE_MAX;
	uint32_t es, n;
	struct gochan_select_case *cs;
	void *buf;
	int u;

	if (gc_param("max_elem_size", &max_elem) == 0 &&
	    max_elem > GOCHAN_ELEM_SIZE_MAX)
		max_elem = GOCHAN_ELEM_SIZE_MAX;
	es = max_elem ? (uint32_t)max_elem : 1;
	/* The fewest send cases of elem_size es that exceed the limit. */
	n = GOCHAN_SELECT_SEND_BYTES_MAX / es + 1;
	if (n > GOCHAN_SELECT_CASES_MAX)
		SKIP(return, "max_elem_size %u too small to reach %u bytes", es,
		     GOCHAN_SELECT_SEND_BYTES_MAX);
	/* Unbuffered: no ring, so max_chan_bytes / max_total_bytes do not
	 * matter. */
	u = gc_make(self->dev, es, 0);
	ASSERT_LE(0, u) TH_LOG("elem_size %u: %s", es, strerror(-u));
	cs = calloc(n, sizeof(*cs));
	buf = calloc(1, es);
	ASSERT_NE(NULL, cs);
	ASSERT_NE(NULL, buf);
	for (uint32_t i = 0; i < n; i++)
		cs[i] = gc_case(u, SEND, buf);
	sel_print("select: %u send cases of %u bytes\n", n, es);
	/* The send values add up to more than
	 * GOCHAN_SELECT_SEND_BYTES_MAX: EMSGSIZE... */
	EXPECT_EQ(-EMSGSIZE, sel(self->sfd, cs, n, NB, 0, NULL, NULL));
	EXPECT_EQ(-EMSGSIZE, sel(self->sfd, cs, n, 0, 0, NULL, NULL));
	/* ...while one case fewer (at most the limit) is accepted, and with
	 * nobody receiving, non-blocking, is EAGAIN. */
	EXPECT_EQ(-EAGAIN, sel(self->sfd, cs, n - 1, NB, 0, NULL, NULL));
	EXPECT_TRUE(chan_is(u, 0, 0, 0));
	free(cs);
	free(buf);
	close(u);
}

TEST_F(select, cases_4096_distinct_channels)
{
	enum { N = 4096 };
	struct sel_op *op = NULL;
	struct gochan_select_case *cs;
	uint64_t *bufs;
	uint32_t index, ok;
	int *fds;
	pid_t pid;

	/* 4096 channels need 4096 fds beside the usual ones. */
	if (gc_raise_nofile(N + 64))
		SKIP(return, "cannot raise RLIMIT_NOFILE to %d", N + 64);
	fds = calloc(N, sizeof(*fds));
	cs = calloc(N, sizeof(*cs));
	bufs = gc_shared(N * sizeof(*bufs));
	ASSERT_NE(NULL, fds);
	ASSERT_NE(NULL, cs);
	ASSERT_NE(NULL, bufs);
	for (int i = 0; i < N; i++) {
		fds[i] = gc_make(self->dev, 8, 1);
		ASSERT_LE(0, fds[i]) TH_LOG("channel %d: %s", i, strerror(-fds[i]));
		cs[i] = gc_case(fds[i], RECV, &bufs[i]);
	}
	/* Over 4096 cases the one ready case runs... */
	ASSERT_EQ(0, gc_send_u64(fds[4000], 0x4000, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, sel(self->sfd, cs, N, 0, 0, &index, &ok));
	EXPECT_EQ(4000, index);
	EXPECT_EQ(1, ok);
	EXPECT_EQ(0x4000, bufs[4000]);
	/* ...with none ready, NONBLOCK is EAGAIN... */
	EXPECT_EQ(-EAGAIN, sel(self->sfd, cs, N, NB, 0, NULL, NULL));
	/* ...and a blocked select waits in all of them and is woken by a
	 * send on any one. */
	op = sel_ops(1);
	ASSERT_NE(NULL, op);
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		op->ret = sel(self->sfd, cs, N, 0, 0, &op->index, &op->ok);
		_exit(0);
	}
	ASSERT_EQ(0, gc_wait_waiters(fds[0], 0, 1));
	ASSERT_EQ(0, gc_wait_waiters(fds[N - 1], 0, 1));
	ASSERT_EQ(0, gc_send_u64(fds[123], 0x123, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, op->ret);
	EXPECT_EQ(123, op->index);
	EXPECT_EQ(1, op->ok);
	EXPECT_EQ(0x123, bufs[123]);
	/* Afterwards no channel has a waiter left. */
	for (int i = 0; i < N; i++) {
		struct gochan_stat st;

		ASSERT_EQ(0, gc_stat(fds[i], &st));
		EXPECT_EQ(0, st.recv_waiters) TH_LOG("channel %d", i);
		EXPECT_EQ(0, st.len) TH_LOG("channel %d", i);
		close(fds[i]);
	}
	free(fds);
	free(cs);
}

TEST_F(select, cases_max_on_duplicated_channels)
{
	enum { NCH = 64 };
	const uint32_t n = GOCHAN_SELECT_CASES_MAX;
	struct gochan_select_case *cs = calloc(n, sizeof(*cs));
	uint64_t buf = 0;
	uint32_t index, ok;
	int fds[NCH];

	ASSERT_NE(NULL, cs);
	for (int i = 0; i < NCH; i++) {
		fds[i] = gc_make(self->dev, 8, 1);
		ASSERT_LE(0, fds[i]);
	}
	for (uint32_t i = 0; i < n; i++)
		cs[i] = gc_case(fds[i % NCH], RECV, &buf);
	/* GOCHAN_SELECT_CASES_MAX cases over 64 channels: with none ready,
	 * EAGAIN... */
	EXPECT_EQ(-EAGAIN, sel(self->sfd, cs, n, NB, 0, NULL, NULL));
	/* ...with channel 37 ready, one of its cases runs (4096 cases: also
	 * the brief's "N = 4096"). */
	for (uint32_t k = 4096; k <= n; k *= 16) {
		ASSERT_EQ(0, gc_send_u64(fds[37], k, GOCHAN_XFER_NONBLOCK));
		ASSERT_EQ(0, sel(self->sfd, cs, k, 0, 0, &index, &ok))
			TH_LOG("ncases %u", k);
		EXPECT_GT(k, index);
		EXPECT_EQ(37, index % NCH);
		EXPECT_EQ(1, ok);
		EXPECT_EQ(k, buf);
	}
	for (int i = 0; i < NCH; i++) {
		EXPECT_TRUE(chan_is(fds[i], 0, i == 37 ? 2 : 0, i == 37 ? 2 : 0));
		close(fds[i]);
	}
	free(cs);
}

/* ------------------------------------------------------------------ */

FIXTURE(select_load) {
	int dev;
};

FIXTURE_VARIANT(select_load) {
	bool via_set;
};

FIXTURE_VARIANT_ADD(select_load, direct) { .via_set = false };
/* Each select through a set of its own; the uniform-choice tests make one
 * set and select on it every run. */
FIXTURE_VARIANT_ADD(select_load, via_set) { .via_set = true };

FIXTURE_SETUP(select_load)
{
	GC_SETUP_DEV(self->dev);
	via_set = variant->via_set;
}

FIXTURE_TEARDOWN(select_load)
{
	close(self->dev);
}

/*
 * Uniform choice: 4 always-ready cases (kinds[i]: RECV on a buffered
 * channel kept holding one element, SEND on one kept with room) among 4
 * never-ready ones, RUNS selects.  Pearson's statistic with 3 degrees of
 * freedom exceeds 30.66 with probability 1e-6 when the choice is uniform.
 */
#define UNIFORM_RUNS	4000
#define CHI2_3DOF_1E6	30.664

static void check_uniform(struct __test_metadata *_metadata, int dev,
			  const uint32_t kinds[4], const char *what)
{
	int ready[4], never[4];
	uint64_t bufs[8];
	struct gochan_select_case cs[8];
	unsigned int counts[4] = { 0 }, wrong = 0;
	double chi2 = 0, expect = UNIFORM_RUNS / 4.0;
	struct gochan_select s;
	int set = -1;

	for (int i = 0; i < 4; i++) {
		ready[i] = gc_make(dev, 8, 1);
		never[i] = gc_make(dev, 8, i & 1);	/* empty or full */
		ASSERT_LE(0, ready[i]);
		ASSERT_LE(0, never[i]);
		if (kinds[i] == RECV) {
			ASSERT_EQ(0, gc_send_u64(ready[i], i,
						 GOCHAN_XFER_NONBLOCK));
		}
		if (i & 1) {
			ASSERT_EQ(0, gc_send_u64(never[i], 0,
						 GOCHAN_XFER_NONBLOCK));
		}
		/* Interleaved: never-ready cases at even indices. */
		cs[2 * i] = gc_case(never[i], (i & 1) ? SEND : RECV,
				   &bufs[2 * i]);
		cs[2 * i + 1] = gc_case(ready[i], kinds[i], &bufs[2 * i + 1]);
	}
	sel_init(&s, cs, 8, NB, 0);
	if (via_set) {
		/* One set for every run: the readiness the set learns from
		 * each channel's wakeups is what gets tested. */
		set = sel_make_set(dev, &s);
		ASSERT_LE(0, set);
	}
	for (int run = 0; run < UNIFORM_RUNS; run++) {
		uint64_t v;
		int k;

		ASSERT_EQ(0, via_set ? sel_on_set(set, &s) : sel_raw(dev, &s));
		if (!(s.index & 1) || s.index >= 8) {
			wrong++;
			continue;
		}
		k = s.index / 2;
		counts[k]++;
		/* Make the chosen case ready again. */
		if (kinds[k] == RECV) {
			ASSERT_EQ(0, gc_send_u64(ready[k], k,
						 GOCHAN_XFER_NONBLOCK));
		} else {
			ASSERT_EQ(0, gc_recv_u64(ready[k], &v,
						 GOCHAN_XFER_NONBLOCK));
		}
	}
	for (int i = 0; i < 4; i++) {
		double d = counts[i] - expect;

		chi2 += d * d / expect;
	}
	sel_print("%s: %d runs, ready cases chosen %u %u %u %u times, chi2 %.2f (limit %.2f)\n",
		       what, UNIFORM_RUNS, counts[0], counts[1], counts[2],
		       counts[3], chi2, CHI2_3DOF_1E6);
	/* Never a case that is not ready. */
	EXPECT_EQ(0, wrong);
	/* Uniform among the ready ones: chi-square below the 1e-6 critical
	 * value for 3 degrees of freedom. */
	EXPECT_GT(CHI2_3DOF_1E6, chi2);
	for (int i = 0; i < 4; i++) {
		close(ready[i]);
		close(never[i]);
	}
	if (set >= 0)
		close(set);
}

TEST_F_TIMEOUT(select_load, uniform_choice_among_ready_recv_cases, 120)
{
	static const uint32_t k[4] = { RECV, RECV, RECV, RECV };

	check_uniform(_metadata, self->dev, k, "recv cases");
}

TEST_F_TIMEOUT(select_load, uniform_choice_among_ready_send_cases, 120)
{
	static const uint32_t k[4] = { SEND, SEND, SEND, SEND };

	check_uniform(_metadata, self->dev, k, "send cases");
}

TEST_F_TIMEOUT(select_load, uniform_choice_among_mixed_ready_cases, 120)
{
	static const uint32_t k[4] = { SEND, RECV, RECV, SEND };

	check_uniform(_metadata, self->dev, k, "mixed cases");
}

/*
 * Two selects, each with never-ready cases beside the shared unbuffered
 * channel, meet on it: sender first or receiver first.
 */
static void rendezvous(struct __test_metadata *_metadata, int dev,
		       bool sender_first)
{
	struct sel_op *ops = sel_ops(2);
	struct sel_op *snd = &ops[0], *rcv = &ops[1];
	int u = gc_make(dev, 8, 0);
	int e1 = gc_make(dev, 8, 1), e2 = gc_make(dev, 8, 0);
	int full = gc_make(dev, 8, 1);
	struct sel_op *first, *second;
	pid_t p1, p2;

	ASSERT_NE(NULL, ops);
	ASSERT_LE(0, u);
	ASSERT_LE(0, e1);
	ASSERT_LE(0, e2);
	ASSERT_LE(0, full);
	ASSERT_EQ(0, gc_send_u64(full, 1, GOCHAN_XFER_NONBLOCK));
	/* Sender: { e1 recv, full send, u send 0xfeed }. */
	sel_op_case(snd, e1, RECV, 0);
	sel_op_case(snd, full, SEND, 2);
	sel_op_case(snd, u, SEND, 0xfeed);
	snd->fd = dev;
	/* Receiver: { u recv, e2 recv, e1 recv }, issued on u itself. */
	sel_op_case(rcv, u, RECV, 0);
	sel_op_case(rcv, e2, RECV, 0);
	sel_op_case(rcv, e1, RECV, 0);
	rcv->fd = u;
	first = sender_first ? snd : rcv;
	second = sender_first ? rcv : snd;
	p1 = spawn_sel(first);
	ASSERT_LT(0, p1);
	/* The first select waits in its channels, u included. */
	ASSERT_EQ(0, gc_wait_waiters(u, sender_first, !sender_first));
	EXPECT_FALSE(op_done(first));
	p2 = spawn_sel(second);
	ASSERT_LT(0, p2);
	/* The second finds it there: both complete on u. */
	EXPECT_EQ(0, gc_reap(p2));
	EXPECT_EQ(0, gc_reap(p1));
	EXPECT_EQ(0, snd->ret);
	EXPECT_EQ(2, snd->index);
	EXPECT_EQ(0, snd->ok);
	EXPECT_EQ(0, rcv->ret);
	EXPECT_EQ(0, rcv->index);
	EXPECT_EQ(1, rcv->ok);
	EXPECT_EQ(0xfeed, rcv->bufs[0]);
	/* Exactly one element moved and nobody is left waiting. */
	EXPECT_TRUE(chan_is(u, 0, 1, 1));
	EXPECT_TRUE(chan_is(e1, 0, 0, 0));
	EXPECT_TRUE(chan_is(e2, 0, 0, 0));
	EXPECT_TRUE(chan_is(full, 1, 1, 0));
	close(u);
	close(e1);
	close(e2);
	close(full);
}

TEST_F(select_load, select_vs_select_rendezvous_sender_first)
{
	rendezvous(_metadata, self->dev, true);
}

TEST_F(select_load, select_vs_select_rendezvous_receiver_first)
{
	rendezvous(_metadata, self->dev, false);
}

/*
 * Lock order: two processes select over the same four unbuffered channels,
 * listed in opposite orders with complementary ops, so each select's only
 * partner is the other's: every round both lock all four channels at
 * once.  With address-order locking nobody deadlocks.
 */
#define LO_ROUNDS	1500
#define LO_NCH		4

struct lo_shared {
	volatile int rounds[2];		/* completed by each process */
	uint64_t got[LO_NCH];		/* values received, per channel */
	uint64_t sum_sent, sum_got;
	int err[2];
};

static int lo_proc(struct lo_shared *sh, const int *ch, int me, int sfd)
{
	for (int r = 0; r < LO_ROUNDS; r++) {
		struct gochan_select_case cs[LO_NCH];
		uint64_t bufs[LO_NCH];
		uint32_t index, ok;
		int ret;

		for (int i = 0; i < LO_NCH; i++) {
			/* Process 0 lists ch[0..3], process 1 ch[3..0];
			 * process 0 sends on even channels, receives on odd
			 * ones; process 1 the other way. */
			int c = me ? LO_NCH - 1 - i : i;
			uint32_t op = ((c & 1) == me) ? SEND : RECV;

			bufs[i] = op == SEND ? ((uint64_t)me << 32 | r) : 0;
			cs[i] = gc_case(ch[c], op, &bufs[i]);
		}
		ret = sel(sfd, cs, LO_NCH, DL,
			  now_ns() + GC_WAIT_MS * 1000000LL, &index, &ok);
		if (ret) {
			sh->err[me] = ret;
			return 1;
		}
		if (index >= LO_NCH)
			return 2;
		if (cs[index].op == SEND) {
			__atomic_add_fetch(&sh->sum_sent, bufs[index],
					   __ATOMIC_RELAXED);
		} else {
			int c = me ? LO_NCH - 1 - index : index;

			if (!ok)
				return 3;
			__atomic_add_fetch(&sh->got[c], 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&sh->sum_got, bufs[index],
					   __ATOMIC_RELAXED);
		}
		sh->rounds[me] = r + 1;
	}
	return 0;
}

TEST_F_TIMEOUT(select_load, opposite_case_orders_do_not_deadlock, 180)
{
	struct lo_shared *sh = gc_shared(sizeof(*sh));
	int ch[LO_NCH];
	pid_t pid[2];
	int dev = self->dev;

	ASSERT_NE(NULL, sh);
	for (int i = 0; i < LO_NCH; i++) {
		ch[i] = gc_make(dev, 8, 0);
		ASSERT_LE(0, ch[i]);
	}
	for (int me = 0; me < 2; me++) {
		pid[me] = gc_fork();
		ASSERT_LE(0, pid[me]);
		if (pid[me] == 0) {
			/* Process 0 issues on the device, 1 on ch[0]. */
			_exit(lo_proc(sh, ch, me, me ? ch[0] : dev));
		}
	}
	/* Both finish every round: no deadlock, no select stuck (a stuck
	 * one would time out with its deadline and exit nonzero). */
	for (int me = 0; me < 2; me++) {
		int64_t end = now_ns() + 120 * 1000000000LL;
		int rc = -1, status;

		while (now_ns() < end) {
			pid_t r = waitpid(pid[me], &status, WNOHANG);

			if (r == pid[me]) {
				rc = WIFEXITED(status) ? WEXITSTATUS(status) :
					128 + WTERMSIG(status);
				break;
			}
			usleep(10000);
		}
		if (rc == -1)
			gc_kill(pid[me]);
		EXPECT_EQ(0, rc) TH_LOG("process %d: rounds %d/%d, err %d",
					me, sh->rounds[me], LO_ROUNDS,
					sh->err[me]);
	}
	sel_print("lock order: %d + %d rounds over %d channels in opposite orders\n",
		       sh->rounds[0], sh->rounds[1], LO_NCH);
	/* Every value sent was received exactly once. */
	EXPECT_EQ(sh->sum_sent, sh->sum_got);
	/* Each round is one match between the two: LO_ROUNDS values. */
	EXPECT_EQ(LO_ROUNDS, sh->got[0] + sh->got[1] + sh->got[2] +
			     sh->got[3]);
	for (int i = 0; i < LO_NCH; i++) {
		struct gochan_stat st;

		ASSERT_EQ(0, gc_stat(ch[i], &st));
		EXPECT_EQ(sh->got[i], st.sent);
		EXPECT_EQ(st.sent, st.received);
		EXPECT_EQ(0, st.send_waiters + st.recv_waiters);
		close(ch[i]);
	}
}

/*
 * Stress: SPROD producers select over send cases, SCONS consumers over
 * receive cases, SMIX processes over both (sending their own numbered
 * messages and receiving anyone's), all on the same channels (buffered and
 * unbuffered, listed in a different order by each process).  After the
 * producing time the channels are closed; consumers drain them and drop
 * each case once it reports ok = 0.  Every message must arrive once.
 */
#define SPROD	3
#define SCONS	3
#define SMIX	2
#define SSEND	(SPROD + SMIX)		/* processes that send */
#define SPROCS	(SPROD + SCONS + SMIX)
#define SMAX_SEQ (1u << 17)

static const uint32_t scaps[] = { 0, 1, 4, 0, 16 };
#define SNCH	ARRAY_SIZE(scaps)

struct smsg {
	uint32_t sender;
	uint32_t seq;
};

struct stally {
	uint32_t sent[SSEND];
	uint32_t recvd[SPROCS];
	uint32_t dup, bad;
	volatile int producing;		/* senders still in their send loop */
	uint8_t seen[SSEND][SMAX_SEQ];
	char why[SPROCS][96];
};

static void stress_record(struct stally *t, const struct smsg *m, int me)
{
	if (m->sender >= SSEND || m->seq >= SMAX_SEQ) {
		__atomic_add_fetch(&t->bad, 1, __ATOMIC_RELAXED);
		return;
	}
	if (__atomic_fetch_add(&t->seen[m->sender][m->seq], 1,
			       __ATOMIC_RELAXED))
		__atomic_add_fetch(&t->dup, 1, __ATOMIC_RELAXED);
	t->recvd[me]++;
}

/* Process me: role by index (senders first: producers, then mixers). */
static int stress_proc(struct stally *t, const int *ch, int me, int64_t end)
{
	bool sender = me < SSEND, receiver = me >= SPROD;
	int sid = me;			/* sender id, for senders */
	struct gochan_select_case cs[2 * SNCH];
	struct smsg bufs[2 * SNCH];
	bool live[SNCH];		/* receive case still open */
	uint32_t seq = 0;
	int nlive = SNCH;

	for (int i = 0; i < (int)SNCH; i++)
		live[i] = true;
	while (sender || (receiver && nlive)) {
		uint32_t n = 0, index, ok;
		int map[2 * SNCH];
		int ret;

		if (sender && (now_ns() >= end || seq >= SMAX_SEQ)) {
			sender = false;
			t->sent[sid] = seq;
			__atomic_sub_fetch(&t->producing, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		for (int k = 0; k < (int)SNCH; k++) {
			/* Each process lists the channels rotated by its
			 * index, reversed for odd ones. */
			int c = (me & 1) ? (int)SNCH - 1 - (k + me) % (int)SNCH :
					   (k + me) % (int)SNCH;

			if (sender) {
				bufs[n] = (struct smsg){ sid, seq };
				map[n] = c;
				cs[n] = gc_case(ch[c], SEND, &bufs[n]);
				n++;
			}
			if (receiver && live[c]) {
				memset(&bufs[n], 0xff, sizeof(bufs[n]));
				map[n] = c;
				cs[n] = gc_case(ch[c], RECV, &bufs[n]);
				n++;
			}
		}
		/* A bounded wait: anyone stuck fails instead of hanging. */
		ret = sel(ch[0], cs, n, DL,
			  now_ns() + 4 * GC_WAIT_MS * 1000000LL, &index, &ok);
		if (ret) {
			snprintf(t->why[me], sizeof(t->why[me]),
				 "select: %s (seq %u, nlive %d)", strerror(-ret),
				 seq, nlive);
			if (sender) {
				t->sent[sid] = seq;
				__atomic_sub_fetch(&t->producing, 1,
						   __ATOMIC_SEQ_CST);
			}
			return 1;
		}
		if (index >= n) {
			snprintf(t->why[me], sizeof(t->why[me]),
				 "index %u of %u", index, n);
			return 1;
		}
		if (cs[index].op == SEND) {
			seq++;
		} else if (ok) {
			stress_record(t, &bufs[index], me);
		} else {
			live[map[index]] = false;
			nlive--;
		}
	}
	return 0;
}

TEST_F_TIMEOUT(select_load, many_processes_lose_and_duplicate_nothing, 240)
{
	struct stally *t = gc_shared(sizeof(*t));
	int ch[SNCH];
	pid_t pid[SPROCS];
	int secs = gc_stress_secs();
	int64_t end;
	uint64_t total_sent = 0, total_recvd = 0;
	unsigned int lost = 0;

	ASSERT_NE(NULL, t);
	for (size_t c = 0; c < SNCH; c++) {
		ch[c] = gc_make(self->dev, sizeof(struct smsg), scaps[c]);
		ASSERT_LE(0, ch[c]);
	}
	sel_print("select stress: %d producers, %d consumers, %d mixed, %zu channels (capacities %u %u %u %u %u), %d s\n",
		       SPROD, SCONS, SMIX, SNCH, scaps[0], scaps[1], scaps[2],
		       scaps[3], scaps[4], secs);
	t->producing = SSEND;
	end = now_ns() + secs * 1000000000LL;
	for (int p = 0; p < SPROCS; p++) {
		pid[p] = gc_fork();
		ASSERT_LE(0, pid[p]);
		if (pid[p] == 0)
			_exit(stress_proc(t, ch, p, end));
	}
	/* Once every sender is done, close the channels: the receivers
	 * drain them and exit. */
	{
		int64_t limit = end + 4 * GC_WAIT_MS * 1000000LL;

		while (__atomic_load_n(&t->producing, __ATOMIC_SEQ_CST) > 0 &&
		       now_ns() < limit)
			usleep(10000);
	}
	EXPECT_EQ(0, t->producing) TH_LOG("senders stuck");
	for (size_t c = 0; c < SNCH; c++) {
		EXPECT_EQ(0, gc_close_chan(ch[c]));
	}
	for (int p = 0; p < SPROCS; p++) {
		int rc = gc_reap(pid[p]);

		/* Everyone exits, having met no error. */
		EXPECT_EQ(0, rc) TH_LOG("process %d: %s", p, t->why[p]);
	}
	/* Every message sent arrived exactly once; nothing else arrived. */
	for (int s = 0; s < SSEND; s++) {
		unsigned int miss = 0, extra = 0;

		total_sent += t->sent[s];
		for (uint32_t q = 0; q < SMAX_SEQ; q++) {
			if (q < t->sent[s] && t->seen[s][q] != 1)
				miss++;
			if (q >= t->sent[s] && t->seen[s][q])
				extra++;
		}
		EXPECT_EQ(0, miss) TH_LOG("sender %d: %u of %u not received once",
					  s, miss, t->sent[s]);
		EXPECT_EQ(0, extra) TH_LOG("sender %d: %u never sent arrived",
					   s, extra);
		lost += miss;
	}
	for (int p = 0; p < SPROCS; p++)
		total_recvd += t->recvd[p];
	EXPECT_EQ(0, t->dup);
	EXPECT_EQ(0, t->bad);
	EXPECT_EQ(total_sent, total_recvd);
	/* The channels' counters agree, and everything was drained. */
	for (size_t c = 0; c < SNCH; c++) {
		struct gochan_stat st;

		ASSERT_EQ(0, gc_stat(ch[c], &st));
		EXPECT_EQ(st.sent, st.received) TH_LOG("chan %zu", c);
		EXPECT_EQ(0, st.len) TH_LOG("chan %zu", c);
		EXPECT_EQ(0, st.send_waiters + st.recv_waiters);
		close(ch[c]);
	}
	sel_print("select stress: %llu messages sent, %llu received, %u duplicated, %u lost (sent per sender: %u %u %u %u %u)\n",
		       (unsigned long long)total_sent,
		       (unsigned long long)total_recvd, t->dup, lost,
		       t->sent[0], t->sent[1], t->sent[2], t->sent[3],
		       t->sent[4]);
	EXPECT_LT(0, total_sent);
}

TEST_HARNESS_MAIN
