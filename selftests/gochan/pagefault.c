// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a page fault on a buffer of a call may take as long as the
 * memory's owner likes (a FUSE file, a userfaultfd, a lazily restored
 * process); it must never be taken while the call holds a channel lock,
 * or every other process on that channel (a 0666 named channel: anyone's)
 * hangs behind it, uninterruptibly.  Each test here stalls a call in a
 * fault on a userfaultfd page, then checks that another process can still
 * use the channels the call is about, then lets the fault finish and
 * checks that the call did what it should.
 */
#include <liburing.h>

#include "helpers.h"

/* How long another process's non-blocking call may take: far more than
 * it needs, far less than a stall. */
#define PROBE_MS	2000

struct stalled_call {
	int kind;			/* below */
	int dev, fd, fd2;		/* the channels it is about */
	void *buf;			/* its receive buffer, on a uffd page */
	long ret;			/* its result */
	uint32_t index, ok;
};

enum {
	CALL_SELECT,			/* a select receiving into buf */
	CALL_URING_SELECT,		/* the same, an io_uring command */
};

static void *stalled_call_run(void *p)
{
	struct stalled_call *sc = p;
	struct gochan_select_case cases[2] = {
		{ .fd = sc->fd, .op = GOCHAN_OP_RECV, .buf = (uintptr_t)sc->buf },
		{ .fd = sc->fd2, .op = GOCHAN_OP_RECV, .buf = (uintptr_t)sc->buf },
	};
	struct gochan_select sel = {
		.size = sizeof(sel), .cases = (uintptr_t)cases,
		.ncases = sc->fd2 >= 0 ? 2 : 1, .case_size = sizeof(cases[0]),
	};

	if (sc->kind == CALL_SELECT) {
		sc->ret = gc_err(ioctl(sc->dev, GOCHAN_IOC_SELECT, &sel));
		sc->index = sel.index;
		sc->ok = sel.ok;
	} else {
		struct io_uring_sqe *sqe;
		struct io_uring_cqe *cqe;
		struct gochan_uring_cmd *uc;
		struct io_uring r;

		sc->ret = io_uring_queue_init(4, &r, 0);
		if (sc->ret)
			return NULL;
		sqe = io_uring_get_sqe(&r);
		io_uring_prep_rw(IORING_OP_URING_CMD, sqe, sc->fd, NULL, 0, 0);
		sqe->cmd_op = GOCHAN_IOC_SELECT;
		uc = (struct gochan_uring_cmd *)sqe->cmd;
		uc->arg = (uintptr_t)&sel;
		uc->key = 1;
		if (io_uring_submit(&r) != 1) {
			sc->ret = -EIO;
		} else if (io_uring_wait_cqe(&r, &cqe)) {
			sc->ret = -EIO;
		} else {
			sc->ret = cqe->res;
			io_uring_cqe_seen(&r, cqe);
		}
		io_uring_queue_exit(&r);
	}
	return NULL;
}

/*
 * A helper process that does one non-blocking call on @fd (a STAT, which
 * takes the channel's lock) when released, and says when it is done.
 */
struct probe {
	volatile int go, done;
	int ret;
};

static pid_t spawn_probe(struct probe *pr, int fd)
{
	pid_t pid = gc_fork();

	if (pid == 0) {
		struct gochan_stat st;

		while (!__atomic_load_n(&pr->go, __ATOMIC_ACQUIRE))
			usleep(1000);
		pr->ret = gc_stat(fd, &st);
		__atomic_store_n(&pr->done, 1, __ATOMIC_RELEASE);
		_exit(0);
	}
	return pid;
}

/* Release @pr; true if its call returned within PROBE_MS. */
static bool probe_returns(struct probe *pr)
{
	int64_t end = now_ns() + PROBE_MS * 1000000LL;

	__atomic_store_n(&pr->go, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&pr->done, __ATOMIC_ACQUIRE) && now_ns() < end)
		usleep(1000);
	return __atomic_load_n(&pr->done, __ATOMIC_ACQUIRE);
}

FIXTURE(pagefault) {
	int dev;
	int uffd;
	void *page;		/* registered, not yet touched: a touch stalls */
	struct probe *pr;
	pid_t probe_pid;
	pthread_t thread;
	bool started;
	struct stalled_call call;
};

FIXTURE_SETUP(pagefault)
{
	GC_SETUP_DEV(self->dev);
	self->uffd = gc_uffd_open();
	if (self->uffd < 0)
		GC_SKIP_SETUP("no userfaultfd here (%s)", strerror(-self->uffd));
	self->page = gc_uffd_page(self->uffd, 1, UFFDIO_REGISTER_MODE_MISSING);
	ASSERT_NE(NULL, self->page);
	self->pr = gc_shared(sizeof(*self->pr));
	ASSERT_NE(NULL, self->pr);
}

FIXTURE_TEARDOWN(pagefault)
{
	if (self->started) {
		gc_uffd_zero(self->uffd, self->page);
		pthread_join(self->thread, NULL);
	}
	gc_kill(self->probe_pid);
	close(self->uffd);
	close(self->dev);
}

/*
 * Start the call in a thread, wait until it stalls in the fault on the
 * receive buffer, and run the probe on @probe_fd: it must not wait for
 * the fault.  Then let the fault finish.
 */
static void stall_and_probe(struct __test_metadata *_metadata,
			    FIXTURE_DATA(pagefault) *self, int probe_fd)
{
	uintptr_t addr = 0;
	bool returned;

	self->probe_pid = spawn_probe(self->pr, probe_fd);
	ASSERT_LT(0, self->probe_pid);
	self->call.dev = self->dev;
	self->call.buf = self->page;
	ASSERT_EQ(0, pthread_create(&self->thread, NULL, stalled_call_run, &self->call));
	self->started = true;
	/* The call touches its receive buffer: it stalls there. */
	ASSERT_EQ(0, gc_uffd_wait(self->uffd, &addr, GC_WAIT_MS));
	EXPECT_EQ((uintptr_t)self->page, addr & ~(uintptr_t)4095);
	/* Meanwhile the channel is free for anyone else. */
	returned = probe_returns(self->pr);
	EXPECT_TRUE(returned) TH_LOG("a STAT waited for another task's page fault: "
				     "the faulting call holds the channel lock");
	/* The fault ends; everything goes on. */
	ASSERT_EQ(0, gc_uffd_zero(self->uffd, self->page));
	EXPECT_EQ(0, gc_reap(self->probe_pid));
	self->probe_pid = 0;
	EXPECT_EQ(0, self->pr->ret);
}

/* A select whose receive case is ready probes its buffer before taking the
 * element: not with the channel locked (select.c's single-lock pass). */
TEST_F(pagefault, select_ready_case_faults_outside_the_lock)
{
	int fd = gc_make(self->dev, 8, 1);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_send_u64(fd, 0x1234, GOCHAN_XFER_NONBLOCK));
	self->call = (struct stalled_call) { .kind = CALL_SELECT, .fd = fd, .fd2 = -1 };
	stall_and_probe(_metadata, self, fd);
	pthread_join(self->thread, NULL);
	self->started = false;
	EXPECT_EQ(0, self->call.ret);
	EXPECT_EQ(0, self->call.index);
	EXPECT_EQ(1, self->call.ok);
	EXPECT_EQ(0x1234, *(uint64_t *)self->page);
	close(fd);
}

/* A select that will wait probes every receive buffer first: not with all
 * its channels locked (select.c's pass 2). */
TEST_F(pagefault, waiting_select_faults_outside_the_locks)
{
	int fd = gc_make(self->dev, 8, 0), fd2 = gc_make(self->dev, 8, 0);

	ASSERT_LE(0, fd);
	ASSERT_LE(0, fd2);
	self->call = (struct stalled_call) { .kind = CALL_SELECT, .fd = fd, .fd2 = fd2 };
	stall_and_probe(_metadata, self, fd2);
	/* Now it waits in both channels; a send to the second ends it. */
	ASSERT_EQ(0, gc_wait_waiters(fd2, 0, 1));
	ASSERT_EQ(0, gc_send_u64(fd2, 0x5678, GOCHAN_XFER_NONBLOCK));
	pthread_join(self->thread, NULL);
	self->started = false;
	EXPECT_EQ(0, self->call.ret);
	EXPECT_EQ(1, self->call.index);
	EXPECT_EQ(1, self->call.ok);
	EXPECT_EQ(0x5678, *(uint64_t *)self->page);
	close(fd);
	close(fd2);
}

/* The same for a SELECT submitted through io_uring (gochan_sel_begin()). */
TEST_F(pagefault, uring_select_faults_outside_the_locks)
{
	int fd = gc_make(self->dev, 8, 0), fd2 = gc_make(self->dev, 8, 0);

	ASSERT_LE(0, fd);
	ASSERT_LE(0, fd2);
	self->call = (struct stalled_call) {
		.kind = CALL_URING_SELECT, .fd = fd, .fd2 = fd2,
	};
	stall_and_probe(_metadata, self, fd2);
	ASSERT_EQ(0, gc_wait_waiters(fd2, 0, 1));
	ASSERT_EQ(0, gc_send_u64(fd2, 0x9abc, GOCHAN_XFER_NONBLOCK));
	pthread_join(self->thread, NULL);
	self->started = false;
	EXPECT_EQ(1 | GOCHAN_SELECT_RES_OK, self->call.ret);
	EXPECT_EQ(0x9abc, *(uint64_t *)self->page);
	close(fd);
	close(fd2);
}

TEST_HARNESS_MAIN
