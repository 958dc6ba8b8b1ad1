// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a receive whose buffer cannot be written.  The header's
 * promise: a value is either delivered and reported, or not taken; and
 * GOCHAN_IOC_STAT's len is Go's len(c), never above cap(c).  Every way to
 * receive one element is tried (a fixture variant each): the RECV ioctl,
 * read(2) of one element of up to 64 bytes and of a larger one, a select, a
 * select set, and io_uring RECV and SELECT commands.
 *
 *  - A buffer that is read-only from the start takes nothing: a value
 *    waiting in a full ring stays there (a send still finds no room), a
 *    blocked sender stays blocked.
 *  - A buffer made read-only (by another thread's mprotect()) while the
 *    receive waits: the call was found writable and queued, a sender
 *    hands it a value; the value is delivered into the buffer and the call
 *    says so.  (Giving it back instead put it beside the ring, where a
 *    later send made len exceed cap.)
 */
#include <liburing.h>

#include "helpers.h"

enum how {
	HOW_IOCTL,		/* GOCHAN_IOC_RECV */
	HOW_READ,		/* read(2), elem_size bytes */
	HOW_SELECT,		/* GOCHAN_IOC_SELECT, two receive cases */
	HOW_SELSET,		/* a select set of the same two cases */
	HOW_URING_RECV,		/* IORING_OP_URING_CMD GOCHAN_IOC_RECV */
	HOW_URING_SELECT,	/* IORING_OP_URING_CMD GOCHAN_IOC_SELECT */
};

FIXTURE(recvbuf) {
	int dev;
	int idle;		/* the select's other case: never ready */
	char *ro;		/* a read-only page */
	char *rw;		/* a writable page */
};

FIXTURE_VARIANT(recvbuf) {
	enum how how;
	uint32_t elem_size;
};

FIXTURE_VARIANT_ADD(recvbuf, ioctl) { .how = HOW_IOCTL, .elem_size = 8 };
/* One element of up to 64 bytes: file.c's one-element path. */
FIXTURE_VARIANT_ADD(recvbuf, read_one) { .how = HOW_READ, .elem_size = 8 };
FIXTURE_VARIANT_ADD(recvbuf, read_one_odd) { .how = HOW_READ, .elem_size = 12 };
/* A larger one: read_iter, through a bounce buffer when it waits. */
FIXTURE_VARIANT_ADD(recvbuf, read_iter) { .how = HOW_READ, .elem_size = 72 };
FIXTURE_VARIANT_ADD(recvbuf, select) { .how = HOW_SELECT, .elem_size = 8 };
FIXTURE_VARIANT_ADD(recvbuf, selset) { .how = HOW_SELSET, .elem_size = 8 };
FIXTURE_VARIANT_ADD(recvbuf, uring_recv) { .how = HOW_URING_RECV, .elem_size = 8 };
FIXTURE_VARIANT_ADD(recvbuf, uring_recv_large) { .how = HOW_URING_RECV, .elem_size = 100 };
FIXTURE_VARIANT_ADD(recvbuf, uring_select) { .how = HOW_URING_SELECT, .elem_size = 8 };

FIXTURE_SETUP(recvbuf)
{
	long pg = sysconf(_SC_PAGESIZE);

	GC_SETUP_DEV(self->dev);
	self->idle = gc_make(self->dev, variant->elem_size, 0);
	ASSERT_LE(0, self->idle);
	self->ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ro);
	self->rw = mmap(NULL, pg, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->rw);
}

FIXTURE_TEARDOWN(recvbuf)
{
	long pg = sysconf(_SC_PAGESIZE);

	munmap(self->ro, pg);
	munmap(self->rw, pg);
	close(self->idle);
	close(self->dev);
}

/* An element of @es bytes that says @tag in every byte. */
static void fill(void *p, uint32_t es, unsigned char tag)
{
	memset(p, tag, es);
}

static bool is(const void *p, uint32_t es, unsigned char tag)
{
	const unsigned char *b = p;

	for (uint32_t i = 0; i < es; i++)
		if (b[i] != tag)
			return false;
	return true;
}

/* One io_uring command on @fd, waited for: its CQE's res, or
 * -ENOTRECOVERABLE if the ring failed. */
static int uring_one(int fd, uint32_t op, const void *arg)
{
	struct __kernel_timespec ts = { .tv_sec = GC_WAIT_MS / 1000 };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct gochan_uring_cmd *uc;
	struct io_uring r;
	int ret = io_uring_queue_init(4, &r, 0);

	if (ret)
		return -ENOTRECOVERABLE;
	sqe = io_uring_get_sqe(&r);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;
	uc = (struct gochan_uring_cmd *)sqe->cmd;
	uc->arg = (uintptr_t)arg;
	uc->key = 1;
	if (io_uring_submit(&r) != 1 ||
	    io_uring_wait_cqe_timeout(&r, &cqe, &ts)) {
		ret = -ENOTRECOVERABLE;
	} else {
		ret = cqe->res;
		io_uring_cqe_seen(&r, cqe);
	}
	io_uring_queue_exit(&r);
	return ret;
}

/*
 * Receive one element from @fd into @buf, the variant's way: 0 received,
 * 1 closed and drained, or -errno (a CQE's error too).
 */
static int recv_how(const FIXTURE_VARIANT(recvbuf) *v, int dev, int fd,
		    int idle, void *buf, bool nonblock)
{
	static char idle_buf[256];	/* the idle case's: never written */
	struct gochan_select_case cs[2] = {
		{ .fd = idle, .op = GOCHAN_OP_RECV, .buf = (uintptr_t)idle_buf },
		{ .fd = fd, .op = GOCHAN_OP_RECV, .buf = (uintptr_t)buf },
	};
	struct gochan_select sel = {
		.size = sizeof(sel), .flags = nonblock ? GOCHAN_SELECT_NONBLOCK : 0,
		.cases = (uintptr_t)cs, .ncases = 2, .case_size = sizeof(cs[0]),
	};
	struct gochan_xfer x = {
		.size = sizeof(x), .flags = nonblock ? GOCHAN_XFER_NONBLOCK : 0,
		.buf = (uintptr_t)buf,
	};
	uint32_t index = 0, ok = 0;
	int ret, set, fl;
	long n;

	switch (v->how) {
	case HOW_IOCTL:
		ret = gc_recv(fd, buf, &ok, x.flags);
		return ret ? ret : ok == 1 ? 0 : ok == 0 ? 1 : -EPROTO;
	case HOW_READ:
		fl = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, nonblock ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
		n = gc_read(fd, buf, v->elem_size);
		fcntl(fd, F_SETFL, fl);
		return n < 0 ? n : n == v->elem_size ? 0 : n == 0 ? 1 : -EPROTO;
	case HOW_SELECT:
		ret = gc_select(dev, cs, 2, sel.flags, 0, &index, &ok);
		break;
	case HOW_SELSET:
		set = gc_selset(dev, cs, 2);
		if (set < 0)
			return set;
		ret = gc_select(set, NULL, 0, sel.flags, 0, &index, &ok);
		close(set);
		break;
	case HOW_URING_RECV:
		ret = uring_one(fd, GOCHAN_IOC_RECV, &x);
		return ret == 1 ? 0 : ret == 0 ? 1 : ret < 0 ? ret : -EPROTO;
	case HOW_URING_SELECT:
		ret = uring_one(fd, GOCHAN_IOC_SELECT, &sel);
		if (ret < 0)
			return ret;
		index = ret & ~(GOCHAN_SELECT_RES_OK | GOCHAN_SELECT_RES_CLOSED);
		ok = !!(ret & GOCHAN_SELECT_RES_OK);
		ret = 0;
		break;
	default:
		return -EINVAL;
	}
	if (ret)
		return ret;
	if (index != 1)
		return -EPROTO;
	return ok ? 0 : 1;
}

/* A thread that sends one element (blocking). */
struct sender {
	int fd;
	uint32_t es;
	unsigned char tag;
	int ret;
};

static void *send_thread(void *p)
{
	struct sender *s = p;
	unsigned char buf[256];

	fill(buf, s->es, s->tag);
	s->ret = gc_send(s->fd, buf, 0);
	return NULL;
}

/* A thread that receives one element, the variant's way (blocking). */
struct receiver {
	const FIXTURE_VARIANT(recvbuf) *v;
	int dev, fd, idle;
	void *buf;
	int ret;
};

static void *recv_thread(void *p)
{
	struct receiver *r = p;

	r->ret = recv_how(r->v, r->dev, r->fd, r->idle, r->buf, false);
	return NULL;
}

/*
 * A full ring (capacity 1), a receive into a read-only buffer: EFAULT,
 * and the value is still the channel's, in the ring: a send finds no
 * room, STAT shows len 1, and the next receive gets that value first.
 */
TEST_F(recvbuf, readonly_buffer_leaves_full_ring_full)
{
	uint32_t es = variant->elem_size;
	unsigned char v[256];
	struct gochan_stat st;
	int fd = gc_make(self->dev, es, 1);

	ASSERT_LE(0, fd);
	fill(v, es, 0xa1);
	ASSERT_EQ(0, gc_send(fd, v, GOCHAN_XFER_NONBLOCK));

	/* The buffer is readable but not writable: nothing is taken. */
	EXPECT_EQ(-EFAULT, recv_how(variant, self->dev, fd, self->idle,
				    self->ro, true));
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(0, st.received) TH_LOG("a faulting receive took the value");
	/* The ring is still full: a send must wait... */
	fill(v, es, 0xa2);
	EXPECT_EQ(-EAGAIN, gc_send(fd, v, GOCHAN_XFER_NONBLOCK));
	/* ...and len never exceeds cap. */
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_LE(st.len, st.capacity) TH_LOG("len %u > cap %u", st.len, st.capacity);
	EXPECT_EQ(1, st.len);
	/* The value comes out once, first. */
	memset(self->rw, 0, es);
	EXPECT_EQ(0, recv_how(variant, self->dev, fd, self->idle, self->rw, true));
	EXPECT_TRUE(is(self->rw, es, 0xa1));
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(1, st.received);
	EXPECT_EQ(st.sent, st.received + st.len);
	close(fd);
}

/*
 * An unbuffered channel with a sender blocked in it; a receive into a
 * read-only buffer fails with EFAULT and leaves the sender blocked, its
 * value untaken: STAT shows len 0 (cap 0) and the sender still waiting.
 */
TEST_F(recvbuf, readonly_buffer_leaves_blocked_sender_blocked)
{
	uint32_t es = variant->elem_size;
	struct gochan_stat st;
	struct sender s = { .es = es, .tag = 0xb1 };
	int fd = gc_make(self->dev, es, 0);
	pthread_t t;

	ASSERT_LE(0, fd);
	s.fd = fd;
	ASSERT_EQ(0, pthread_create(&t, NULL, send_thread, &s));
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));

	EXPECT_EQ(-EFAULT, recv_how(variant, self->dev, fd, self->idle,
				    self->ro, true));
	ASSERT_EQ(0, gc_stat(fd, &st));
	/* Nothing taken: the sender still waits, nothing is buffered. */
	EXPECT_EQ(0, st.len) TH_LOG("len %u on an unbuffered channel", st.len);
	EXPECT_EQ(1, st.send_waiters) TH_LOG("the sender was completed");
	EXPECT_EQ(0, st.received);
	/* A good receive takes the sender's value, once. */
	memset(self->rw, 0, es);
	EXPECT_EQ(0, recv_how(variant, self->dev, fd, self->idle, self->rw, true));
	EXPECT_TRUE(is(self->rw, es, 0xb1));
	pthread_join(t, NULL);
	EXPECT_EQ(0, s.ret);
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(0, st.len);
	EXPECT_EQ(1, st.received);
	close(fd);
}

/*
 * A receive waits on an empty channel (capacity 1) into a writable buffer;
 * while it waits, another thread makes the buffer read-only; then a value
 * is sent, straight to the waiting receiver.  The receive had its buffer
 * checked and waited: the value is delivered there and the call reports
 * it.  Then the channel holds what was sent after, no more: len <= cap.
 */
TEST_F(recvbuf, buffer_made_readonly_while_waiting_gets_the_value)
{
	uint32_t es = variant->elem_size;
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char v[256];
	struct gochan_stat st;
	struct receiver r = {
		.v = variant, .dev = self->dev, .idle = self->idle, .buf = self->rw,
	};
	int fd = gc_make(self->dev, es, 1);
	pthread_t t;

	ASSERT_LE(0, fd);
	r.fd = fd;
	memset(self->rw, 0, es);
	ASSERT_EQ(0, pthread_create(&t, NULL, recv_thread, &r));
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	ASSERT_EQ(0, mprotect(self->rw, pg, PROT_READ));

	/* To the waiting receiver. */
	fill(v, es, 0xc1);
	ASSERT_EQ(0, gc_send(fd, v, GOCHAN_XFER_NONBLOCK));
	pthread_join(t, NULL);
	/* Delivered into the buffer, and reported. */
	EXPECT_EQ(0, r.ret) TH_LOG("the waiting receive failed: %s", strerror(-r.ret));
	EXPECT_TRUE(is(self->rw, es, 0xc1));
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(1, st.received);
	/* One more send fills the ring, and len stays within cap. */
	fill(v, es, 0xc2);
	EXPECT_EQ(0, gc_send(fd, v, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_LE(st.len, st.capacity) TH_LOG("len %u > cap %u", st.len, st.capacity);
	/* What the channel holds is the second value, once. */
	ASSERT_EQ(0, mprotect(self->rw, pg, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, recv_how(variant, self->dev, fd, self->idle, self->rw, true));
	EXPECT_TRUE(is(self->rw, es, 0xc2));
	EXPECT_EQ(-EAGAIN, recv_how(variant, self->dev, fd, self->idle, self->rw, true));
	close(fd);
}

/*
 * The same, with the buffer made inaccessible (PROT_NONE) while the
 * receive waits: the pages stay the caller's, and the value is there once
 * they are readable again.
 */
TEST_F(recvbuf, buffer_made_inaccessible_while_waiting_gets_the_value)
{
	uint32_t es = variant->elem_size;
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char v[256];
	struct gochan_stat st;
	struct receiver r = {
		.v = variant, .dev = self->dev, .idle = self->idle, .buf = self->rw,
	};
	int fd = gc_make(self->dev, es, 0);
	pthread_t t;

	ASSERT_LE(0, fd);
	r.fd = fd;
	memset(self->rw, 0, es);
	ASSERT_EQ(0, pthread_create(&t, NULL, recv_thread, &r));
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	ASSERT_EQ(0, mprotect(self->rw, pg, PROT_NONE));
	fill(v, es, 0xd1);
	ASSERT_EQ(0, gc_send(fd, v, GOCHAN_XFER_NONBLOCK));
	pthread_join(t, NULL);
	ASSERT_EQ(0, mprotect(self->rw, pg, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, r.ret) TH_LOG("the waiting receive failed: %s", strerror(-r.ret));
	EXPECT_TRUE(is(self->rw, es, 0xd1));
	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(0, st.len) TH_LOG("len %u on an unbuffered channel", st.len);
	EXPECT_EQ(1, st.received);
	close(fd);
}

TEST_HARNESS_MAIN
