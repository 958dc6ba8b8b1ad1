// SPDX-License-Identifier: GPL-2.0
/*
 * Description: select sets (GOCHAN_IOC_SELSET), a select registered once and
 * run many times.  select.c runs every select rule through a set made for
 * each call; these tests use one set for many selects, so that what the set
 * learns from the channels' wakeups between calls is what gets checked:
 * against a model of the channels under a random workload (nothing missed,
 * nothing made up, FIFO order and exactly-once kept); readiness made by a
 * blocked sender or receiver in another process; channels kept after their
 * fds close; poll and epoll on a set; threads sharing one set losing and
 * duplicating nothing, and NONBLOCK selects racing for elements never
 * failing while one is left for each; a process killed in a set's select;
 * 4096 cases with one ready; every bad request.
 */
#include "helpers.h"

#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#define SEND	GOCHAN_OP_SEND
#define RECV	GOCHAN_OP_RECV
#define NB	GOCHAN_SELECT_NONBLOCK
#define DL	GOCHAN_SELECT_DEADLINE

/* ksft_print_msg() and flush: a test process ends with _exit(). */
#define set_print(...) do {						\
	ksft_print_msg(__VA_ARGS__);					\
	fflush(stdout);							\
} while (0)

/* A select set over @n cases, made on @fd; its fd or -errno. */
static int set_make(int fd, const struct gochan_select_case *cs, uint32_t n,
		    uint32_t flags)
{
	struct gochan_selset arg = {
		.size = sizeof(arg),
		.flags = flags,
		.cases = (uintptr_t)cs,
		.ncases = n,
		.case_size = sizeof(*cs),
	};

	return gc_err(ioctl(fd, GOCHAN_IOC_SELSET, &arg));
}

/* A select on set @set; *index and *ok (may be NULL) as the call left them. */
static int set_sel(int set, uint32_t flags, int64_t deadline,
		   uint32_t *index, uint32_t *ok)
{
	struct gochan_select s = {
		.size = sizeof(s),
		.flags = flags,
		.deadline_ns = deadline,
		.index = 0xdeadbeef,
		.ok = 0xdeadbeef,
	};
	int ret = gc_err(ioctl(set, GOCHAN_IOC_SELECT, &s));

	if (index)
		*index = s.index;
	if (ok)
		*ok = s.ok;
	return ret;
}

static int64_t in_ms(int ms)
{
	return now_ns() + ms * 1000000LL;
}

GC_DEV_FIXTURE(selset);

/*
 * One set, a random workload on its channels through their own fds, and a
 * NONBLOCK select on the set after most steps, checked against a model:
 * EAGAIN exactly when the model has no case ready, else a case the model
 * has ready, moving the value the model says (FIFO, exactly once).  Then
 * close: a drained receive case is ready with ok = 0, a send case fails
 * with EPIPE.  Cases 0..7 receive from channels 0..7, cases 8..11 send to
 * channels 8..11; receives are likelier on the first, sends on the others,
 * so that nothing is ready often enough.
 */
#define MW_RECVS	8
#define MW_CASES	12
#define MW_STEPS	6000
#define MW_QMAX		4

struct mw_chan {
	int fd;
	uint32_t cap;
	uint64_t q[MW_QMAX];		/* the model: values, oldest first */
	uint32_t len;
	bool closed;
};

static void mw_push(struct mw_chan *c, uint64_t v)
{
	c->q[c->len++] = v;
}

static uint64_t mw_pop(struct mw_chan *c)
{
	uint64_t v = c->q[0];

	memmove(c->q, c->q + 1, --c->len * sizeof(c->q[0]));
	return v;
}

static bool mw_ready(const struct mw_chan *ch, uint32_t k)
{
	if (k < MW_RECVS)
		return ch[k].len || ch[k].closed;
	return ch[k].closed || ch[k].len < ch[k].cap;
}

TEST_F(selset, reused_set_follows_a_random_workload)
{
	struct mw_chan ch[MW_CASES];
	struct gochan_select_case cs[MW_CASES];
	uint64_t bufs[MW_CASES], seq = 1;
	unsigned int selects = 0, eagain = 0, ran[2] = { 0 };
	bool saw_epipe = false;
	uint32_t index, ok;
	int set;

	srandom(12345);
	for (int i = 0; i < MW_CASES; i++) {
		ch[i] = (struct mw_chan){ .cap = 1 + i % 3 };
		ch[i].fd = gc_make(self->dev, 8, ch[i].cap);
		ASSERT_LE(0, ch[i].fd);
		cs[i] = gc_case(ch[i].fd, i < MW_RECVS ? RECV : SEND, &bufs[i]);
	}
	set = set_make(self->dev, cs, MW_CASES, GOCHAN_SELSET_CLOEXEC);
	ASSERT_LE(0, set);

	for (int step = 0; step < MW_STEPS; step++) {
		int k = random() % MW_CASES;
		struct mw_chan *c = &ch[k];
		bool send = (random() % 4 == 0) == (k < MW_RECVS);
		bool any = false;
		uint64_t v;
		int ret;

		if (send) {	/* through the channel's own fd */
			ret = gc_send_u64(c->fd, seq, GOCHAN_XFER_NONBLOCK);
			if (c->len < c->cap) {
				ASSERT_EQ(0, ret);
				mw_push(c, seq++);
			} else {
				ASSERT_EQ(-EAGAIN, ret);
			}
		} else {
			ret = gc_recv_u64(c->fd, &v, GOCHAN_XFER_NONBLOCK);
			if (c->len) {
				ASSERT_EQ(0, ret);
				ASSERT_EQ(mw_pop(c), v);
			} else {
				ASSERT_EQ(-EAGAIN, ret);
			}
		}
		if (random() % 4 == 0)
			continue;
		for (k = 0; k < MW_CASES; k++)
			any |= mw_ready(ch, k);
		for (k = MW_RECVS; k < MW_CASES; k++)
			bufs[k] = seq + (k - MW_RECVS);	/* this call's values */
		selects++;
		index = MW_CASES;
		ret = set_sel(set, NB, 0, &index, &ok);
		if (!any) {
			ASSERT_EQ(-EAGAIN, ret) TH_LOG("step %d: case %u ran", step, index);
			eagain++;
			continue;
		}
		ASSERT_EQ(0, ret) TH_LOG("step %d: a case was ready", step);
		ASSERT_GT(MW_CASES, index);
		ASSERT_TRUE(mw_ready(ch, index)) TH_LOG("step %d: case %u not ready", step, index);
		if (index < MW_RECVS) {
			ASSERT_EQ(1, ok);
			ASSERT_EQ(mw_pop(&ch[index]), bufs[index]);
			ran[0]++;
		} else {
			ASSERT_EQ(0, ok);
			mw_push(&ch[index], bufs[index]);
			seq += MW_CASES - MW_RECVS;
			ran[1]++;
		}
	}
	set_print("%u selects: %u receive cases ran, %u send cases, %u EAGAIN\n",
		       selects, ran[0], ran[1], eagain);
	EXPECT_LT(MW_STEPS / 20, eagain);
	EXPECT_LT(MW_STEPS / 20, ran[0]);
	EXPECT_LT(MW_STEPS / 20, ran[1]);

	/* Nothing ready: the receive channels drained, the others full. */
	for (int i = 0; i < MW_CASES; i++) {
		uint64_t v;

		while (i < MW_RECVS && ch[i].len) {
			ASSERT_EQ(0, gc_recv_u64(ch[i].fd, &v, GOCHAN_XFER_NONBLOCK));
			ASSERT_EQ(mw_pop(&ch[i]), v);
		}
		while (i >= MW_RECVS && ch[i].len < ch[i].cap)
			ASSERT_EQ(0, gc_send_u64(ch[i].fd, seq++, GOCHAN_XFER_NONBLOCK));
	}
	ASSERT_EQ(-EAGAIN, set_sel(set, NB, 0, NULL, NULL));
	/* A closed, drained channel: its receive case is ready, ok = 0. */
	ASSERT_EQ(0, gc_close_chan(ch[5].fd));
	ASSERT_EQ(0, set_sel(set, NB, 0, &index, &ok));
	EXPECT_EQ(5, index);
	EXPECT_EQ(0, ok);
	/* A closed channel's send case is ready too, and fails with EPIPE;
	 * case 5 stays ready: one of the two runs each time. */
	ASSERT_EQ(0, gc_close_chan(ch[9].fd));
	for (int i = 0; i < 200 && !saw_epipe; i++) {
		int ret = set_sel(set, NB, 0, &index, &ok);

		if (ret == -EPIPE) {
			EXPECT_EQ(9, index);
			saw_epipe = true;
		} else {
			ASSERT_EQ(0, ret);
			ASSERT_EQ(5, index);
		}
	}
	EXPECT_TRUE(saw_epipe);
	for (int i = 0; i < MW_CASES; i++)
		close(ch[i].fd);
	close(set);
}

/*
 * Unbuffered channels: a sender blocked in another process makes a receive
 * case ready, a blocked receiver a send case; the set sees both as soon as
 * GOCHAN_IOC_STAT shows them waiting (rule (a) of kmod/selset.c).
 */
TEST_F(selset, blocked_partners_in_other_processes_make_cases_ready)
{
	int u = gc_make(self->dev, 8, 0), w = gc_make(self->dev, 8, 0);
	int e = gc_make(self->dev, 8, 1);
	uint64_t rbuf = 0, sbuf = 0x5e17, ebuf;
	struct gochan_select_case cs[3] = {
		gc_case(e, RECV, &ebuf), gc_case(u, RECV, &rbuf),
		gc_case(w, SEND, &sbuf),
	};
	uint64_t *got = gc_shared(sizeof(*got));
	uint32_t index, ok;
	int set;
	pid_t pid;

	ASSERT_LE(0, u);
	ASSERT_LE(0, w);
	ASSERT_LE(0, e);
	ASSERT_NE(NULL, got);
	set = set_make(u, cs, 3, 0);
	ASSERT_LE(0, set);
	ASSERT_EQ(-EAGAIN, set_sel(set, NB, 0, NULL, NULL));

	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(gc_send_dl(u, &(uint64_t){ 0xabc }, DL, in_ms(GC_WAIT_MS)) ? 1 : 0);
	ASSERT_EQ(0, gc_wait_waiters(u, 1, 0));
	ASSERT_EQ(0, set_sel(set, NB, 0, &index, &ok));
	EXPECT_EQ(1, index);
	EXPECT_EQ(1, ok);
	EXPECT_EQ(0xabc, rbuf);
	EXPECT_EQ(0, gc_reap(pid));

	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t rok = 0;

		if (gc_recv_dl(w, got, &rok, DL, in_ms(GC_WAIT_MS)) || rok != 1)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(0, gc_wait_waiters(w, 0, 1));
	ASSERT_EQ(0, set_sel(set, NB, 0, &index, &ok));
	EXPECT_EQ(2, index);
	EXPECT_EQ(0, ok);
	EXPECT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0x5e17, *got);
	/* And nothing is ready again. */
	EXPECT_EQ(-EAGAIN, set_sel(set, NB, 0, NULL, NULL));
	close(set);
	close(u);
	close(w);
	close(e);
}

/* A blocked select on a set is woken by another process's send. */
TEST_F(selset, blocked_set_select_is_woken_by_a_send)
{
	int a = gc_make(self->dev, 8, 0), b = gc_make(self->dev, 8, 2);
	uint64_t bufs[2] = { 0, 0 };
	struct gochan_select_case cs[2] = {
		gc_case(a, RECV, &bufs[0]), gc_case(b, RECV, &bufs[1]),
	};
	uint32_t index, ok;
	int set = set_make(self->dev, cs, 2, 0);
	pid_t pid;

	ASSERT_LE(0, set);
	for (int round = 0; round < 4; round++) {
		int fd = round & 1 ? b : a;

		pid = gc_fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			/* Wait until the select waits in both channels. */
			if (gc_wait_waiters(a, 0, 1) || gc_wait_waiters(b, 0, 1))
				_exit(2);
			_exit(gc_send_dl(fd, &(uint64_t){ 100 + round }, DL,
					 in_ms(GC_WAIT_MS)) ? 1 : 0);
		}
		ASSERT_EQ(0, set_sel(set, DL, in_ms(GC_WAIT_MS), &index, &ok));
		EXPECT_EQ(round & 1, index);
		EXPECT_EQ(1, ok);
		EXPECT_EQ(100 + round, bufs[round & 1]);
		EXPECT_EQ(0, gc_reap(pid));
	}
	/* A deadline with nothing ready: ETIMEDOUT. */
	EXPECT_EQ(-ETIMEDOUT, set_sel(set, DL, in_ms(20), NULL, NULL));
	close(set);
	close(a);
	close(b);
}

/* The set holds its channels: their fds may close. */
TEST_F(selset, set_keeps_its_channels_after_their_fds_close)
{
	int ch = gc_make(self->dev, 8, 4);
	uint64_t v = 0;
	struct gochan_select_case cs = gc_case(ch, RECV, &v);
	uint32_t index, ok;
	int set;

	ASSERT_LE(0, ch);
	set = set_make(ch, &cs, 1, 0);
	ASSERT_LE(0, set);
	ASSERT_EQ(0, gc_send_u64(ch, 11, 0));
	ASSERT_EQ(0, gc_send_u64(ch, 12, 0));
	close(ch);
	ASSERT_EQ(0, set_sel(set, NB, 0, &index, &ok));
	EXPECT_EQ(11, v);
	ASSERT_EQ(0, set_sel(set, NB, 0, &index, &ok));
	EXPECT_EQ(12, v);
	EXPECT_EQ(-EAGAIN, set_sel(set, NB, 0, NULL, NULL));
	close(set);
}

TEST_F(selset, bad_requests)
{
	int ch = gc_make(self->dev, 8, 1), pfd[2];
	uint64_t v;
	struct gochan_select_case cs = gc_case(ch, RECV, &v);
	struct gochan_selset arg;
	struct gochan_select s;
	char line[256], path[64];
	bool seen = false;
	FILE *f;
	int set, fdflags;

	ASSERT_LE(0, ch);
	ASSERT_EQ(0, pipe(pfd));
	set = set_make(self->dev, &cs, 1, GOCHAN_SELSET_CLOEXEC);
	ASSERT_LE(0, set);
	fdflags = fcntl(set, F_GETFD);
	EXPECT_TRUE(fdflags & FD_CLOEXEC);
	/* A select on a set brings no cases of its own. */
	s = (struct gochan_select){ .size = sizeof(s), .flags = NB,
				    .cases = (uintptr_t)&cs };
	EXPECT_EQ(-EINVAL, gc_err(ioctl(set, GOCHAN_IOC_SELECT, &s)));
	s.cases = 0;
	s.ncases = 1;
	EXPECT_EQ(-EINVAL, gc_err(ioctl(set, GOCHAN_IOC_SELECT, &s)));
	s.ncases = 0;
	s.case_size = sizeof(cs);
	EXPECT_EQ(-EINVAL, gc_err(ioctl(set, GOCHAN_IOC_SELECT, &s)));
	s.case_size = 0;
	s.flags = 1u << 7;
	EXPECT_EQ(-EINVAL, gc_err(ioctl(set, GOCHAN_IOC_SELECT, &s)));
	s.flags = NB;
	s.size = 8;
	EXPECT_EQ(-EINVAL, gc_err(ioctl(set, GOCHAN_IOC_SELECT, &s)));
	EXPECT_EQ(-EFAULT, gc_err(ioctl(set, GOCHAN_IOC_SELECT, NULL)));
	/* Nothing else is a set's: not channel ioctls, read or write. */
	EXPECT_EQ(-ENOTTY, gc_err(ioctl(set, GOCHAN_IOC_CLOSE, 0)));
	EXPECT_EQ(-ENOTTY, gc_err(ioctl(set, GOCHAN_IOC_SELSET, NULL)));
	EXPECT_EQ(-EINVAL, gc_err(read(set, &v, 8)));
	EXPECT_EQ(-EINVAL, gc_err(write(set, &v, 8)));
	/* A set is not a channel: no case may name it. */
	cs.fd = set;
	EXPECT_EQ(-EINVAL, set_make(self->dev, &cs, 1, 0));
	cs.fd = pfd[0];
	EXPECT_EQ(-EINVAL, set_make(self->dev, &cs, 1, 0));
	/* A negative fd other than GOCHAN_NIL_FD is not open. */
	cs.fd = -2;
	EXPECT_EQ(-EBADF, set_make(self->dev, &cs, 1, 0));
	cs.fd = ch;
	cs.op = 3;
	EXPECT_EQ(-EINVAL, set_make(self->dev, &cs, 1, 0));
	cs.op = RECV;
	cs.reserved = 1;
	EXPECT_EQ(-EINVAL, set_make(self->dev, &cs, 1, 0));
	cs.reserved = 0;
	/* The struct's own rules. */
	arg = (struct gochan_selset){ .size = sizeof(arg), .cases = (uintptr_t)&cs,
				      .ncases = 1, .case_size = sizeof(cs) };
	arg.flags = 1u << 5;
	EXPECT_EQ(-EINVAL, gc_err(ioctl(self->dev, GOCHAN_IOC_SELSET, &arg)));
	arg.flags = 0;
	arg.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, gc_err(ioctl(self->dev, GOCHAN_IOC_SELSET, &arg)));
	arg.reserved[1] = 0;
	arg.ncases = GOCHAN_SELECT_CASES_MAX + 1;
	EXPECT_EQ(-EINVAL, gc_err(ioctl(self->dev, GOCHAN_IOC_SELSET, &arg)));
	arg.ncases = 1;
	arg.case_size = GOCHAN_SELECT_CASE_SIZE_VER0 - 1;
	EXPECT_EQ(-EINVAL, gc_err(ioctl(self->dev, GOCHAN_IOC_SELSET, &arg)));
	arg.case_size = 4097;
	EXPECT_EQ(-E2BIG, gc_err(ioctl(self->dev, GOCHAN_IOC_SELSET, &arg)));
	arg.case_size = sizeof(cs);
	arg.cases = (uintptr_t)GC_BAD_PTR;
	EXPECT_EQ(-EFAULT, gc_err(ioctl(self->dev, GOCHAN_IOC_SELSET, &arg)));
	arg.cases = (uintptr_t)&cs;
	arg.size = GOCHAN_SELSET_SIZE_VER0 - 1;
	EXPECT_EQ(-EINVAL, gc_err(ioctl(self->dev, GOCHAN_IOC_SELSET, &arg)));
	EXPECT_EQ(-EFAULT, gc_err(ioctl(self->dev, GOCHAN_IOC_SELSET, NULL)));
	/* None of that took the element the set is over. */
	EXPECT_EQ(0, gc_send_u64(ch, 9, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0, set_sel(set, NB, 0, NULL, NULL));
	EXPECT_EQ(9, v);
	/* fdinfo says how many cases. */
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", set);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		seen |= strcmp(line, "gochan-selset-cases:\t1\n") == 0;
	fclose(f);
	EXPECT_TRUE(seen);
	close(set);
	close(ch);
	close(pfd[0]);
	close(pfd[1]);
}

/* A set with no case: NONBLOCK is EAGAIN, a deadline ETIMEDOUT. */
TEST_F(selset, empty_set_waits_for_its_deadline)
{
	int set = set_make(self->dev, NULL, 0, 0);
	int64_t t0 = now_ns();

	ASSERT_LE(0, set);
	EXPECT_EQ(-EAGAIN, set_sel(set, NB, 0, NULL, NULL));
	EXPECT_EQ(-ETIMEDOUT, set_sel(set, DL, in_ms(30), NULL, NULL));
	EXPECT_LE(30000000LL, now_ns() - t0);
	close(set);
}

/*
 * A poll of a set that queues itself just as one of its cases becomes
 * ready must not sleep through it: the hook's hint and the set's wakeup
 * against the poller's look (as poll.c's test of a channel).
 */
TEST_F_TIMEOUT(selset, poll_never_sleeps_through_a_case_racing_its_queueing, 600)
{
	int fd = gc_make(self->dev, 8, 1);
	uint64_t v;
	struct gochan_select_case cs[1] = { gc_case(fd, RECV, &v) };
	int set = set_make(self->dev, cs, 1, 0);
	long rounds = 0, slow;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, set);
	slow = gc_poll_race(set, fd, fd, true, gc_race_ms(3000), &rounds);
	TH_LOG("%ld rounds, %ld lost wakeups", rounds, slow);
	EXPECT_EQ(0, slow);
	EXPECT_LT(0, rounds);
	close(set);
	close(fd);
}

/* poll(2) and epoll(7) on a set: readable while a case is ready. */
TEST_F(selset, poll_and_epoll_on_a_set)
{
	int a = gc_make(self->dev, 8, 1), b = gc_make(self->dev, 8, 1);
	uint64_t v;
	struct gochan_select_case cs[2] = {
		gc_case(a, RECV, &v), gc_case(b, RECV, &v),
	};
	struct epoll_event ev = { .events = EPOLLIN };
	int set = set_make(self->dev, cs, 2, 0), ep;
	struct pollfd pfd;
	pid_t pid;

	ASSERT_LE(0, set);
	pfd = (struct pollfd){ .fd = set, .events = POLLIN };
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, gc_send_u64(b, 1, 0));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLIN);
	/* Taken through the channel's own fd: the set is not readable. */
	ASSERT_EQ(0, gc_recv_u64(b, &v, 0));
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, set, &ev));
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		gc_sleep_ms(50);
		_exit(gc_send_u64(a, 2, 0) ? 1 : 0);
	}
	EXPECT_EQ(1, epoll_wait(ep, &ev, 1, GC_WAIT_MS));
	EXPECT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, set_sel(set, NB, 0, NULL, NULL));
	EXPECT_EQ(2, v);
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	close(ep);
	close(set);
	close(a);
	close(b);
}

/*
 * Processes sharing one set (the fd inherited through fork: each process
 * has its own memory at the cases' bufs): a producer sends numbered
 * messages round-robin over the set's channels (buffered and unbuffered)
 * for SH_SECS seconds or SH_MSGS messages, SH_PROCS processes take them
 * with NONBLOCK and blocking selects on the one set; every number sent
 * arrives exactly once, and nobody is left stuck.  (Time-bounded: a debug
 * kernel under emulation moves a few hundred messages a second.)
 */
#define SH_CH		6
#define SH_PROCS	3
#define SH_MSGS		6000
#define SH_SECS		3

struct sh_shared {
	int producing;			/* until the producer is done */
	unsigned int sent;		/* messages the producer sent */
	uint8_t seen[SH_MSGS];
	unsigned int taken, bad, nonblock_hits;
};

static int sh_consumer(struct sh_shared *t, int set, uint64_t *buf)
{
	unsigned int i = 0;

	for (;;) {
		uint32_t index, ok;
		bool nb = ++i & 1;
		int ret = set_sel(set, nb ? NB : DL, nb ? 0 : in_ms(50),
				  &index, &ok);

		if (ret == -EAGAIN || ret == -ETIMEDOUT) {
			if (!__atomic_load_n(&t->producing, __ATOMIC_ACQUIRE) &&
			    ret == -ETIMEDOUT)
				return 0;
			continue;
		}
		if (ret || ok != 1 || index >= SH_CH || *buf >= SH_MSGS) {
			__atomic_add_fetch(&t->bad, 1, __ATOMIC_SEQ_CST);
			return 1;
		}
		__atomic_add_fetch(&t->seen[*buf], 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&t->taken, 1, __ATOMIC_SEQ_CST);
		if (nb)
			__atomic_add_fetch(&t->nonblock_hits, 1, __ATOMIC_SEQ_CST);
	}
}

TEST_F_TIMEOUT(selset, processes_sharing_a_set_lose_and_duplicate_nothing, 240)
{
	struct sh_shared *t = gc_shared(sizeof(*t));
	struct gochan_select_case cs[SH_CH];
	int ch[SH_CH], set;
	pid_t cons[SH_PROCS], prod;
	uint64_t buf = 0;	/* every receive case's, in each process */
	unsigned int dups = 0, lost = 0;

	ASSERT_NE(NULL, t);
	for (int i = 0; i < SH_CH; i++) {
		ch[i] = gc_make(self->dev, 8, (i % 3) * 2);	/* 0, 2, 4 */
		ASSERT_LE(0, ch[i]);
		cs[i] = gc_case(ch[i], RECV, &buf);
	}
	set = set_make(self->dev, cs, SH_CH, 0);
	ASSERT_LE(0, set);
	t->producing = 1;
	for (int p = 0; p < SH_PROCS; p++) {
		cons[p] = gc_fork();
		ASSERT_LE(0, cons[p]);
		if (cons[p] == 0)
			_exit(sh_consumer(t, set, &buf));
	}
	prod = gc_fork();
	ASSERT_LE(0, prod);
	if (prod == 0) {
		int64_t end = in_ms(SH_SECS * 1000);

		for (uint64_t m = 0; m < SH_MSGS && now_ns() < end; m++) {
			if (gc_send_dl(ch[m % SH_CH], &m, DL, in_ms(GC_WAIT_MS)))
				_exit(1);
			__atomic_store_n(&t->sent, m + 1, __ATOMIC_RELEASE);
		}
		_exit(0);
	}
	EXPECT_EQ(0, gc_reap(prod));
	__atomic_store_n(&t->producing, 0, __ATOMIC_RELEASE);
	for (int p = 0; p < SH_PROCS; p++)
		EXPECT_EQ(0, gc_reap(cons[p]));
	for (unsigned int m = 0; m < SH_MSGS; m++) {
		dups += t->seen[m] > 1;
		lost += m < t->sent && t->seen[m] == 0;
		EXPECT_TRUE(m < t->sent || !t->seen[m]) TH_LOG("message %u never sent", m);
	}
	set_print("%d processes on one set: %u of %u messages sent taken (%u by NONBLOCK selects), %u lost, %u duplicated\n",
		  SH_PROCS, t->taken, t->sent, t->nonblock_hits, lost, dups);
	EXPECT_EQ(0, t->bad);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, dups);
	EXPECT_EQ(t->sent, t->taken);
	EXPECT_LT(SH_CH * 10, t->sent);
	for (int i = 0; i < SH_CH; i++)
		close(ch[i]);
	close(set);
}

/*
 * NONBLOCK selects racing on one set: two processes, a channel holding two
 * elements, both select at once: there is one for each, so neither may
 * fail with EAGAIN, though one of them may find the set's only hint taken
 * by the other mid-way (rule (b) of kmod/selset.c).
 */
#define RACE_ROUNDS	1500

struct race_shared {
	int go[2];			/* round number to start */
	int ret[2];
	int done[2];
};

static int race_proc(struct race_shared *r, int set, int me)
{
	for (int round = 1; round <= RACE_ROUNDS; round++) {
		int64_t end = in_ms(GC_WAIT_MS);

		while (__atomic_load_n(&r->go[me], __ATOMIC_ACQUIRE) != round)
			if (now_ns() > end)
				return 2;
		r->ret[me] = set_sel(set, NB, 0, NULL, NULL);
		__atomic_store_n(&r->done[me], round, __ATOMIC_RELEASE);
	}
	return 0;
}

TEST_F_TIMEOUT(selset, nonblock_selects_racing_for_two_elements_both_succeed, 240)
{
	struct race_shared *r = gc_shared(sizeof(*r));
	int ch = gc_make(self->dev, 8, 2), set;
	uint64_t v;
	struct gochan_select_case cs = gc_case(ch, RECV, &v);
	unsigned int failed = 0;
	pid_t pid[2];

	ASSERT_NE(NULL, r);
	ASSERT_LE(0, ch);
	set = set_make(ch, &cs, 1, 0);
	ASSERT_LE(0, set);
	for (int me = 0; me < 2; me++) {
		pid[me] = gc_fork();
		ASSERT_LE(0, pid[me]);
		if (pid[me] == 0)
			_exit(race_proc(r, set, me));
	}
	for (int round = 1; round <= RACE_ROUNDS; round++) {
		int64_t end = in_ms(GC_WAIT_MS);

		ASSERT_EQ(0, gc_send_u64(ch, 1, GOCHAN_XFER_NONBLOCK));
		ASSERT_EQ(0, gc_send_u64(ch, 2, GOCHAN_XFER_NONBLOCK));
		__atomic_store_n(&r->go[0], round, __ATOMIC_RELEASE);
		__atomic_store_n(&r->go[1], round, __ATOMIC_RELEASE);
		while (__atomic_load_n(&r->done[0], __ATOMIC_ACQUIRE) != round ||
		       __atomic_load_n(&r->done[1], __ATOMIC_ACQUIRE) != round)
			ASSERT_GT(end, now_ns());
		failed += (r->ret[0] != 0) + (r->ret[1] != 0);
		/* Both took one: the channel is empty. */
		ASSERT_EQ(-EAGAIN, gc_recv_u64(ch, &v, GOCHAN_XFER_NONBLOCK))
			TH_LOG("round %d: %d %d", round, r->ret[0], r->ret[1]);
	}
	EXPECT_EQ(0, gc_reap(pid[0]));
	EXPECT_EQ(0, gc_reap(pid[1]));
	EXPECT_EQ(0, failed);
	close(set);
	close(ch);
}

/* A process killed while its select on a set waits leaves no waiter. */
TEST_F(selset, process_killed_in_a_set_select_leaves_nothing_behind)
{
	int ch = gc_make(self->dev, 8, 0), set;
	uint64_t v = 0;
	struct gochan_select_case cs = gc_case(ch, RECV, &v);
	struct gochan_stat st;
	pid_t pid;

	ASSERT_LE(0, ch);
	set = set_make(ch, &cs, 1, 0);
	ASSERT_LE(0, set);
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(set_sel(set, 0, 0, NULL, NULL) ? 1 : 0);
	ASSERT_EQ(0, gc_wait_waiters(ch, 0, 1));
	gc_kill(pid);
	ASSERT_EQ(0, gc_wait_waiters(ch, 0, 0));
	/* The next select on the set works as before. */
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(gc_send_dl(ch, &(uint64_t){ 5 }, DL, in_ms(GC_WAIT_MS)) ? 1 : 0);
	EXPECT_EQ(0, set_sel(set, DL, in_ms(GC_WAIT_MS), NULL, NULL));
	EXPECT_EQ(5, v);
	EXPECT_EQ(0, gc_reap(pid));
	ASSERT_EQ(0, gc_stat(ch, &st));
	EXPECT_EQ(1, st.received);
	close(set);
	close(ch);
}

/* 4096 cases, one ready at a time, wherever it is. */
TEST_F(selset, cases_4096_one_ready)
{
	enum { N = 4096 };
	struct gochan_select_case *cs = calloc(N, sizeof(*cs));
	int *fds = calloc(N, sizeof(*fds));
	uint64_t v = 0;
	int set;

	ASSERT_NE(NULL, cs);
	ASSERT_NE(NULL, fds);
	if (gc_raise_nofile(N + 64))
		SKIP(return, "cannot raise RLIMIT_NOFILE to %d", N + 64);
	for (int i = 0; i < N; i++) {
		fds[i] = gc_make(self->dev, 8, 1);
		ASSERT_LE(0, fds[i]);
		cs[i] = gc_case(fds[i], RECV, &v);
	}
	set = set_make(self->dev, cs, N, 0);
	ASSERT_LE(0, set);
	/* The set holds the channels: their fds may go. */
	for (int i = 0; i < N; i++)
		if (i % 97)
			close(fds[i]);
	for (int round = 0; round < 200; round++) {
		int k = (round % (N / 97 + 1)) * 97;	/* fds still open */
		uint32_t index, ok;

		ASSERT_EQ(0, gc_send_u64(fds[k], k, GOCHAN_XFER_NONBLOCK));
		ASSERT_EQ(0, set_sel(set, NB, 0, &index, &ok));
		EXPECT_EQ(k, index);
		EXPECT_EQ(k, v);
		EXPECT_EQ(-EAGAIN, set_sel(set, NB, 0, NULL, NULL));
	}
	for (int i = 0; i < N; i += 97)
		close(fds[i]);
	close(set);
	free(cs);
	free(fds);
}

TEST_HARNESS_MAIN
