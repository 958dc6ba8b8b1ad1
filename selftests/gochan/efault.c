// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a struct the kernel writes back that sits in read-only
 * memory.  The header says a faulting GOCHAN_IOC_RECV takes nothing
 * ("EFAULT  bad buf or struct pointer (nothing taken)") and a faulting
 * select moves nothing; the struct is read fine from a read-only page, so
 * the fault comes only at the write-back of ok / index, after the value was
 * taken (or sent).  Found by selftests/fuzz (gochan-fuzz without -x ro-out).
 */
#include "gochan_test.h"

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

TEST_HARNESS_MAIN
