// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a struct the kernel writes back that sits in read-only
 * memory.  The header says a faulting GOCHAN_IOC_RECV takes nothing
 * ("EFAULT  bad buf or struct pointer (nothing taken)") and a faulting
 * select moves nothing; the struct is read fine from a read-only page, so
 * the fault comes only at the write-back of ok / index, after the value was
 * taken (or sent).  Found by selftests/fuzz (gochan-fuzz without -x ro-out).
 *
 * And the same promise when the struct becomes unwritable during the call
 * (another thread's mprotect() or munmap()): a value is either delivered
 * and reported, or not taken.  userfaultfd holds the call at a chosen
 * access while the test changes the mapping under it.
 */
#include "helpers.h"

FIXTURE(efault) {
	int dev;
	int fd;
	void *ro;		/* a read-only page holding the struct */
};

FIXTURE_SETUP(efault)
{
	uint64_t v = 42;

	GC_SETUP_DEV(self->dev);
	self->fd = gc_make(self->dev, 8, 4);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, gc_send(self->fd, &v, GOCHAN_XFER_NONBLOCK));
	self->ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ro);
}

FIXTURE_TEARDOWN(efault)
{
	close(self->fd);
	close(self->dev);
}

/* Copy st into the page and make it read-only. */
static void *readonly_copy(void *page, const void *st, size_t size)
{
	memcpy(page, st, size);
	if (mprotect(page, 4096, PROT_READ))
		return NULL;
	return page;
}

TEST_F(efault, recv_with_readonly_struct_takes_nothing)
{
	uint64_t v = 0;
	struct gochan_xfer x = {
		.size = sizeof(x),
		.flags = GOCHAN_XFER_NONBLOCK,
		.buf = (uintptr_t)&v,
	};
	struct gochan_stat st;
	void *arg = readonly_copy(self->ro, &x, sizeof(x));

	ASSERT_NE(NULL, arg);
	/* ok cannot be written back: EFAULT... */
	EXPECT_EQ(-EFAULT, gc_err(ioctl(self->fd, GOCHAN_IOC_RECV, arg)));
	/* ...and the value is still in the channel, as the header says. */
	ASSERT_EQ(0, gc_stat(self->fd, &st));
	EXPECT_EQ(1, st.len) TH_LOG("the value was taken (received %llu) "
				    "and the caller told EFAULT",
				    (unsigned long long)st.received);
}

TEST_F(efault, select_recv_with_readonly_struct_takes_nothing)
{
	uint64_t v = 0;
	struct gochan_select_case c = {
		.fd = self->fd, .op = GOCHAN_OP_RECV, .buf = (uintptr_t)&v,
	};
	struct gochan_select sel = {
		.size = sizeof(sel),
		.flags = GOCHAN_SELECT_NONBLOCK,
		.cases = (uintptr_t)&c,
		.ncases = 1,
		.case_size = sizeof(c),
	};
	struct gochan_stat st;
	void *arg = readonly_copy(self->ro, &sel, sizeof(sel));

	ASSERT_NE(NULL, arg);
	/* index cannot be written back: EFAULT... */
	EXPECT_EQ(-EFAULT, gc_err(ioctl(self->dev, GOCHAN_IOC_SELECT, arg)));
	/* ...and nothing moved. */
	ASSERT_EQ(0, gc_stat(self->fd, &st));
	EXPECT_EQ(1, st.len) TH_LOG("the value was taken and the caller told EFAULT");
}

TEST_F(efault, select_send_with_readonly_struct_sends_nothing)
{
	uint64_t v = 7;
	struct gochan_select_case c = {
		.fd = self->fd, .op = GOCHAN_OP_SEND, .buf = (uintptr_t)&v,
	};
	struct gochan_select sel = {
		.size = sizeof(sel),
		.flags = GOCHAN_SELECT_NONBLOCK,
		.cases = (uintptr_t)&c,
		.ncases = 1,
		.case_size = sizeof(c),
	};
	struct gochan_stat st;
	void *arg = readonly_copy(self->ro, &sel, sizeof(sel));

	ASSERT_NE(NULL, arg);
	/* index cannot be written back: EFAULT... */
	EXPECT_EQ(-EFAULT, gc_err(ioctl(self->dev, GOCHAN_IOC_SELECT, arg)));
	/* ...and nothing was sent. */
	ASSERT_EQ(0, gc_stat(self->fd, &st));
	EXPECT_EQ(1, st.len) TH_LOG("the value was sent and the caller told EFAULT");
}

/* A call run in a thread while the test thread changes memory under it. */
struct call {
	int fd, dev;
	void *arg;
	long ret;
};

static void *recv_ioctl(void *p)
{
	struct call *c = p;

	c->ret = gc_err(ioctl(c->fd, GOCHAN_IOC_RECV, c->arg));
	return NULL;
}

static void *select_ioctl(void *p)
{
	struct call *c = p;

	c->ret = gc_err(ioctl(c->dev, GOCHAN_IOC_SELECT, c->arg));
	return NULL;
}

/*
 * GOCHAN_IOC_RECV's struct straddles two pages, the value's buffer is on a
 * third; the call is made to take the value, copy it out and write back ok,
 * and only then does the struct's first page become read-only (with
 * userfaultfd write-protection holding the call at the value's copy-out,
 * then at the struct's second page).  The value was delivered and ok
 * written: the call must say so, not fail with EFAULT after the fact (the
 * caller would take the value for lost, and nothing gave it back).
 */
TEST_F(efault, recv_struct_made_readonly_after_delivery_still_reports)
{
	long pg = sysconf(_SC_PAGESIZE);
	int uffd = gc_uffd_open();
	char *wp, *p1;
	uint64_t *val;
	struct gochan_xfer *x;
	struct gochan_stat st;
	struct call c = { .fd = self->fd };
	uintptr_t addr = 0;
	pthread_t t;

	if (uffd < 0)
		SKIP(return, "no userfaultfd here (%s)", strerror(-uffd));
	/* [p1: plain][wp[0]: the struct's tail][wp[1]: the value] */
	p1 = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p1);
	wp = mmap(p1 + pg, 2 * pg, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(p1 + pg, wp);
	memset(wp, 0, 2 * pg);
	{
		struct uffdio_register reg = {
			.range = { .start = (uintptr_t)wp, .len = 2 * pg },
			.mode = UFFDIO_REGISTER_MODE_WP,
		};

		if (ioctl(uffd, UFFDIO_REGISTER, &reg))
			SKIP(return, "no userfaultfd write-protection here (%s)",
			     strerror(errno));
	}
	val = (uint64_t *)(wp + pg);
	x = (struct gochan_xfer *)(wp - 24);	/* size..deadline | ok.. */
	*x = (struct gochan_xfer) {
		.size = sizeof(*x), .flags = GOCHAN_XFER_NONBLOCK,
		.buf = (uintptr_t)val,
	};
	c.arg = x;
	ASSERT_EQ(0, gc_uffd_wp(uffd, val, true));
	ASSERT_EQ(0, pthread_create(&t, NULL, recv_ioctl, &c));
	/* Held at the value's copy-out (faulting it in, unlocked: the value
	 * is taken only once the value and ok are both there). */
	ASSERT_EQ(0, gc_uffd_wait(uffd, &addr, GC_WAIT_MS));
	EXPECT_EQ((uintptr_t)val, addr & ~(uintptr_t)(pg - 1));
	ASSERT_EQ(0, gc_uffd_wp(uffd, wp, true));
	ASSERT_EQ(0, gc_uffd_wp(uffd, val, false));
	/* Held again in the write-back of ok, on the struct's second page,
	 * its first page written: make that one read-only, let it finish. */
	ASSERT_EQ(0, gc_uffd_wait(uffd, &addr, GC_WAIT_MS));
	EXPECT_EQ((uintptr_t)wp, addr & ~(uintptr_t)(pg - 1));
	ASSERT_EQ(0, mprotect(p1, pg, PROT_READ));
	ASSERT_EQ(0, gc_uffd_wp(uffd, wp, false));
	pthread_join(t, NULL);

	ASSERT_EQ(0, gc_stat(self->fd, &st));
	/* Delivered and reported... */
	EXPECT_EQ(0, c.ret) TH_LOG("%s with the value delivered (len %u, received %llu)",
				   strerror(-c.ret), st.len, (unsigned long long)st.received);
	EXPECT_EQ(1, x->ok);
	EXPECT_EQ(42, *val);
	/* ...or, if the call failed, not taken. */
	if (c.ret)
		EXPECT_EQ(1, st.len);
	close(uffd);
}

/*
 * A select sends: its send value is on a userfaultfd page, so the call is
 * held reading it, after the struct was found writable and before any
 * case ran; meanwhile the struct becomes read-only.  Either the case runs
 * (the value goes into the ring) and the call reports it, index and ok
 * written; or nothing is sent and the call fails with EFAULT.  Not both.
 */
TEST_F(efault, select_struct_made_readonly_mid_call_sends_only_if_reported)
{
	long pg = sysconf(_SC_PAGESIZE);
	int uffd = gc_uffd_open();
	char *page, *vpage;
	struct gochan_select_case *cs;
	struct gochan_select *sel;
	struct gochan_stat st;
	struct call c = { .dev = self->dev };
	uintptr_t addr = 0;
	pthread_t t;

	if (uffd < 0)
		SKIP(return, "no userfaultfd here (%s)", strerror(-uffd));
	page = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	vpage = gc_uffd_page(uffd, 1, UFFDIO_REGISTER_MODE_MISSING);
	ASSERT_NE(NULL, vpage);
	cs = (struct gochan_select_case *)(page + 512);
	*cs = (struct gochan_select_case) {
		.fd = self->fd, .op = GOCHAN_OP_SEND, .buf = (uintptr_t)vpage,
	};
	sel = (struct gochan_select *)page;
	*sel = (struct gochan_select) {
		.size = sizeof(*sel), .flags = GOCHAN_SELECT_NONBLOCK,
		.cases = (uintptr_t)cs, .ncases = 1, .case_size = sizeof(*cs),
		.index = 77, .ok = 77,
	};
	c.arg = sel;
	ASSERT_EQ(0, pthread_create(&t, NULL, select_ioctl, &c));
	/* Held reading the send value. */
	ASSERT_EQ(0, gc_uffd_wait(uffd, &addr, GC_WAIT_MS));
	ASSERT_EQ(0, mprotect(page, pg, PROT_READ));
	ASSERT_EQ(0, gc_uffd_zero(uffd, vpage));	/* the value: 0 */
	pthread_join(t, NULL);

	ASSERT_EQ(0, gc_stat(self->fd, &st));
	TH_LOG("select: %s, %u in the channel", strerror(-c.ret), st.len);
	if (c.ret == 0) {
		/* Sent (the fixture's 42 and the select's 0) and reported:
		 * case 0 ran, written back. */
		EXPECT_EQ(2, st.len);
		EXPECT_EQ(0, sel->index);
		EXPECT_EQ(0, sel->ok);
	} else {
		/* Or failed, with nothing sent. */
		EXPECT_EQ(-EFAULT, c.ret);
		EXPECT_EQ(1, st.len) TH_LOG("EFAULT after the value was sent");
	}
	close(uffd);
}

/*
 * A select waits to send (its channel is full); while it waits its struct
 * becomes read-only, then a receive makes room and the waiting send case
 * runs.  It ran: the call must report it, index and ok written, not fail
 * with EFAULT.
 */
TEST_F(efault, select_struct_made_readonly_while_waiting_still_reports)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *page = mmap(NULL, pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int full = gc_make(self->dev, 8, 1);
	struct gochan_select_case *cs;
	struct gochan_select *sel;
	struct gochan_stat st;
	struct call c = { .dev = self->dev };
	uint64_t v = 0;
	pthread_t t;

	ASSERT_NE(MAP_FAILED, page);
	ASSERT_LE(0, full);
	ASSERT_EQ(0, gc_send_u64(full, 1, GOCHAN_XFER_NONBLOCK));
	cs = (struct gochan_select_case *)(page + 512);
	*(uint64_t *)(page + 1024) = 2;
	cs[0] = (struct gochan_select_case) {
		.fd = self->fd, .op = GOCHAN_OP_RECV, .buf = (uintptr_t)(page + 2048),
	};
	cs[1] = (struct gochan_select_case) {
		.fd = full, .op = GOCHAN_OP_SEND, .buf = (uintptr_t)(page + 1024),
	};
	sel = (struct gochan_select *)page;
	*sel = (struct gochan_select) {
		.size = sizeof(*sel), .cases = (uintptr_t)cs, .ncases = 2,
		.case_size = sizeof(*cs), .index = 77, .ok = 77,
	};
	/* The fixture's channel must not be ready: drain its 42. */
	ASSERT_EQ(0, gc_recv_u64(self->fd, &v, GOCHAN_XFER_NONBLOCK));
	c.arg = sel;
	ASSERT_EQ(0, pthread_create(&t, NULL, select_ioctl, &c));
	ASSERT_EQ(0, gc_wait_waiters(full, 1, 0));
	ASSERT_EQ(0, mprotect(page, pg, PROT_READ));
	/* Room: the waiting send case runs. */
	ASSERT_EQ(0, gc_recv_u64(full, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(1, v);
	pthread_join(t, NULL);

	ASSERT_EQ(0, gc_stat(full, &st));
	EXPECT_EQ(1, st.len);
	EXPECT_EQ(0, c.ret) TH_LOG("%s after the value was sent", strerror(-c.ret));
	EXPECT_EQ(1, sel->index);
	EXPECT_EQ(0, sel->ok);
	close(full);
}

TEST_HARNESS_MAIN
