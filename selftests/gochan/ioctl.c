// SPDX-License-Identifier: GPL-2.0
/*
 * Description: argument checking of the channel ioctls (GOCHAN_IOC_SEND,
 * _RECV, _STAT): the extensible-struct rules (size field, zero tail, E2BIG),
 * unknown flags and reserved fields, bad pointers; a rejected call changes
 * nothing.  Also the element-size-0 rule that buf is not touched.
 */
#include "helpers.h"

FIXTURE(ioctl) {
	int dev;
	int fd;		/* buffered, elem 8, capacity 4, holding one 0x1111 */
};

FIXTURE_SETUP(ioctl)
{
	GC_SETUP_DEV(self->dev);
	self->fd = gc_make(self->dev, 8, 4);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, gc_send_u64(self->fd, 0x1111, GOCHAN_XFER_NONBLOCK));
}

FIXTURE_TEARDOWN(ioctl)
{
	close(self->fd);
	close(self->dev);
}

static union {
	struct gochan_xfer x;
	struct gochan_stat st;
	unsigned char bytes[2 * GC_STRUCT_MAX];
} big;

static uint64_t val;

static struct gochan_xfer *big_xfer(uint32_t size, uint32_t flags)
{
	memset(&big, 0, sizeof(big));
	big.x.size = size;
	big.x.flags = flags;
	big.x.buf = (uintptr_t)&val;
	return &big.x;
}

/* The channel still holds exactly the one element the fixture sent. */
static bool untouched(int fd)
{
	struct gochan_stat st;

	return gc_stat(fd, &st) == 0 && st.len == 1 && st.sent == 1 &&
	       st.received == 0;
}

static int xfer(int fd, unsigned long cmd, struct gochan_xfer *x)
{
	return gc_err(ioctl(fd, cmd, x));
}

static const unsigned long xfer_cmds[] = { GOCHAN_IOC_SEND, GOCHAN_IOC_RECV };
static const char *const xfer_names[] = { "SEND", "RECV" };

TEST_F(ioctl, xfer_size_below_ver0_is_einval)
{
	static const uint32_t sizes[] = { 0, 4, 8, GOCHAN_XFER_SIZE_VER0 - 1 };

	for (int c = 0; c < 2; c++) {
		for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
			/* A size below the first version's: EINVAL. */
			EXPECT_EQ(-EINVAL, xfer(self->fd, xfer_cmds[c],
				big_xfer(sizes[i], GOCHAN_XFER_NONBLOCK)))
				TH_LOG("%s size %u", xfer_names[c], sizes[i]);
		}
	}
	/* Nothing was sent or taken. */
	EXPECT_TRUE(untouched(self->fd));
}

TEST_F(ioctl, xfer_size_above_4096_is_e2big)
{
	static const uint32_t sizes[] = {
		GC_STRUCT_MAX + 1, 2 * GC_STRUCT_MAX, 0xffffffff,
	};

	for (int c = 0; c < 2; c++) {
		for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
			/* A size above 4096: E2BIG (even with a zero
			 * tail). */
			EXPECT_EQ(-E2BIG, xfer(self->fd, xfer_cmds[c],
				big_xfer(sizes[i], GOCHAN_XFER_NONBLOCK)))
				TH_LOG("%s size %u", xfer_names[c], sizes[i]);
		}
	}
	EXPECT_TRUE(untouched(self->fd));
}

TEST_F(ioctl, xfer_larger_struct_with_zero_tail_works)
{
	struct gochan_xfer *x;

	/* A larger struct with a zero tail is a valid SEND... */
	val = 0x2222;
	x = big_xfer(GC_STRUCT_MAX, GOCHAN_XFER_NONBLOCK);
	EXPECT_EQ(0, xfer(self->fd, GOCHAN_IOC_SEND, x));
	/* ...and a valid RECV, which gets the oldest element and ok = 1,
	 * writing nothing past the kernel's struct. */
	x = big_xfer(GOCHAN_XFER_SIZE_VER0 + 8, GOCHAN_XFER_NONBLOCK);
	val = 0;
	EXPECT_EQ(0, xfer(self->fd, GOCHAN_IOC_RECV, x));
	EXPECT_EQ(1, x->ok);
	EXPECT_EQ(0x1111, val);
	EXPECT_EQ(-1, gc_first_not(big.bytes, GOCHAN_XFER_SIZE_VER0,
				   GOCHAN_XFER_SIZE_VER0 + 8, 0));
}

TEST_F(ioctl, xfer_nonzero_tail_is_e2big)
{
	for (int c = 0; c < 2; c++) {
		struct gochan_xfer *x = big_xfer(GC_STRUCT_MAX,
						 GOCHAN_XFER_NONBLOCK);

		big.bytes[GC_STRUCT_MAX - 1] = 1;
		/* A nonzero byte past the known struct: E2BIG. */
		EXPECT_EQ(-E2BIG, xfer(self->fd, xfer_cmds[c], x))
			TH_LOG("%s", xfer_names[c]);
		x = big_xfer(GOCHAN_XFER_SIZE_VER0 + 1, GOCHAN_XFER_NONBLOCK);
		big.bytes[GOCHAN_XFER_SIZE_VER0] = 0x80;
		EXPECT_EQ(-E2BIG, xfer(self->fd, xfer_cmds[c], x))
			TH_LOG("%s", xfer_names[c]);
	}
	/* Nothing was sent or taken. */
	EXPECT_TRUE(untouched(self->fd));
}

TEST_F(ioctl, xfer_unknown_flags_are_einval)
{
	for (int c = 0; c < 2; c++) {
		for (int bit = 0; bit < 32; bit++) {
			uint32_t f = 1u << bit;

			if (f & GOCHAN_XFER_FLAGS)
				continue;
			/* Undefined flag bits: EINVAL (even with a
			 * defined one beside them). */
			EXPECT_EQ(-EINVAL, xfer(self->fd, xfer_cmds[c],
				big_xfer(sizeof(struct gochan_xfer),
					 f | GOCHAN_XFER_NONBLOCK)))
				TH_LOG("%s bit %d", xfer_names[c], bit);
		}
	}
	EXPECT_TRUE(untouched(self->fd));
}

TEST_F(ioctl, xfer_nonzero_reserved_is_einval)
{
	for (int c = 0; c < 2; c++) {
		for (int r = 0; r < 3; r++) {
			struct gochan_xfer *x = big_xfer(sizeof(*x),
						GOCHAN_XFER_NONBLOCK);

			if (r == 0)
				x->reserved0 = 0x80000000u;
			else
				x->reserved[r - 1] = 1;
			/* reserved0 and reserved[] must be zero: EINVAL. */
			EXPECT_EQ(-EINVAL, xfer(self->fd, xfer_cmds[c], x))
				TH_LOG("%s reserved %d", xfer_names[c], r);
		}
	}
	EXPECT_TRUE(untouched(self->fd));
}

TEST_F(ioctl, xfer_bad_struct_pointer_is_efault)
{
	for (int c = 0; c < 2; c++) {
		/* An unmapped struct pointer: EFAULT, nothing moved. */
		EXPECT_EQ(-EFAULT, gc_err(ioctl(self->fd, xfer_cmds[c], NULL)));
		EXPECT_EQ(-EFAULT, gc_err(ioctl(self->fd, xfer_cmds[c],
						GC_BAD_PTR)));
	}
	EXPECT_TRUE(untouched(self->fd));
}

TEST_F(ioctl, send_bad_buf_is_efault_and_sends_nothing)
{
	uint64_t v = 0;

	/* SEND from an unmapped buffer: EFAULT before the element is
	 * given... */
	EXPECT_EQ(-EFAULT, gc_send(self->fd, GC_BAD_PTR, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(-EFAULT, gc_send(self->fd, gc_buf_before_hole(4),
				   GOCHAN_XFER_NONBLOCK));
	/* ...so the channel still holds only the fixture's element. */
	EXPECT_TRUE(untouched(self->fd));
	EXPECT_EQ(0, gc_recv_u64(self->fd, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0x1111, v);
	EXPECT_EQ(-EAGAIN, gc_recv_u64(self->fd, &v, GOCHAN_XFER_NONBLOCK));
}

TEST_F(ioctl, recv_bad_buf_is_efault_and_takes_nothing)
{
	uint64_t v = 0;
	uint32_t ok;

	/* RECV into an unmapped buffer: EFAULT before the element is
	 * taken... */
	EXPECT_EQ(-EFAULT, gc_recv(self->fd, GC_BAD_PTR, &ok,
				   GOCHAN_XFER_NONBLOCK));
	/* ...also when only part of the element would fit. */
	EXPECT_EQ(-EFAULT, gc_recv(self->fd, gc_buf_before_hole(4), &ok,
				   GOCHAN_XFER_NONBLOCK));
	/* The element is still there for the next receiver. */
	EXPECT_TRUE(untouched(self->fd));
	EXPECT_EQ(0, gc_recv_u64(self->fd, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0x1111, v);
}

TEST_F(ioctl, signal_channel_does_not_touch_buf)
{
	int fd = gc_make(self->dev, 0, 2);
	uint32_t ok = 7;

	ASSERT_LE(0, fd);
	/* With elem_size 0, buf is not touched and may be 0 or garbage. */
	EXPECT_EQ(0, gc_send(fd, NULL, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0, gc_send(fd, GC_BAD_PTR, GOCHAN_XFER_NONBLOCK));
	/* The ring counts the two signals. */
	EXPECT_EQ(-EAGAIN, gc_send(fd, NULL, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0, gc_recv(fd, NULL, &ok, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(1, ok);
	ok = 7;
	EXPECT_EQ(0, gc_recv(fd, GC_BAD_PTR, &ok, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(1, ok);
	EXPECT_EQ(-EAGAIN, gc_recv(fd, NULL, &ok, GOCHAN_XFER_NONBLOCK));
	close(fd);
}

TEST_F(ioctl, failed_recv_leaves_buf_untouched)
{
	int fd = gc_make(self->dev, 8, 1);
	uint64_t v = 0x1122334455667788ull;
	uint32_t ok;

	ASSERT_LE(0, fd);
	/* RECV writes buf only when it returns a value (ok = 1): a RECV that
	 * fails leaves the caller's buffer as it was. */
	EXPECT_EQ(-EAGAIN, gc_recv(fd, &v, &ok, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(0x1122334455667788ull, v);
	EXPECT_EQ(-ETIMEDOUT, gc_recv_dl(fd, &v, &ok, GOCHAN_XFER_DEADLINE,
					 now_ns() + 1000000));
	EXPECT_EQ(0x1122334455667788ull, v);
	close(fd);
}

TEST_F(ioctl, xfer_deadline_without_deadline_flag_is_einval)
{
	static const int64_t deadlines[] = { 1, 12345, -1, INT64_MAX };

	for (int c = 0; c < 2; c++) {
		for (size_t i = 0; i < ARRAY_SIZE(deadlines); i++) {
			struct gochan_xfer *x = big_xfer(sizeof(*x),
							 GOCHAN_XFER_NONBLOCK);

			val = 0x3333;
			x->deadline_ns = deadlines[i];
			/* deadline_ns must be 0 without GOCHAN_XFER_DEADLINE:
			 * any other value is EINVAL. */
			EXPECT_EQ(-EINVAL, xfer(self->fd, xfer_cmds[c], x))
				TH_LOG("%s deadline %lld", xfer_names[c],
				       (long long)deadlines[i]);
		}
	}
	/* Nothing was sent or taken. */
	EXPECT_TRUE(untouched(self->fd));
	/* deadline_ns = 0 without the flag is the ordinary call. */
	val = 0;
	EXPECT_EQ(0, xfer(self->fd, GOCHAN_IOC_RECV,
			  big_xfer(sizeof(struct gochan_xfer),
				   GOCHAN_XFER_NONBLOCK)));
	EXPECT_EQ(0x1111, val);
}

TEST_F(ioctl, send_leaves_ok_as_it_was)
{
	static const uint32_t oks[] = { 0, 1, 5, 0xffffffff };

	for (size_t i = 0; i < ARRAY_SIZE(oks); i++) {
		struct gochan_xfer *x = big_xfer(sizeof(*x),
						 GOCHAN_XFER_NONBLOCK);

		/* ok is ignored on input: any value is accepted... */
		x->ok = oks[i];
		val = 0x100 + i;
		EXPECT_EQ(0, xfer(self->fd, GOCHAN_IOC_SEND, x))
			TH_LOG("ok %u", oks[i]);
		/* ...and SEND leaves it as it was. */
		EXPECT_EQ(oks[i], x->ok);
		if (i == 2) {
			/* The ring (capacity 4) is full now: drain two. */
			for (int k = 0; k < 2; k++) {
				uint64_t v;

				ASSERT_EQ(0, gc_recv_u64(self->fd, &v,
						GOCHAN_XFER_NONBLOCK));
			}
		}
	}
	/* A failed SEND leaves it as well. */
	{
		struct gochan_xfer *x = big_xfer(sizeof(*x),
						 GOCHAN_XFER_NONBLOCK);

		ASSERT_EQ(0, gc_send_u64(self->fd, 0x200, GOCHAN_XFER_NONBLOCK));
		x->ok = 9;
		EXPECT_EQ(-EAGAIN, xfer(self->fd, GOCHAN_IOC_SEND, x));
		EXPECT_EQ(9, x->ok);
	}
}

TEST_F(ioctl, recv_ignores_ok_on_input)
{
	static const uint32_t oks[] = { 0, 1, 0xffffffff };

	for (size_t i = 0; i < ARRAY_SIZE(oks); i++) {
		struct gochan_xfer *x = big_xfer(sizeof(*x),
						 GOCHAN_XFER_NONBLOCK);

		ASSERT_EQ(0, gc_send_u64(self->fd, 0x10 + i,
					 GOCHAN_XFER_NONBLOCK));
		val = 0;
		x->ok = oks[i];
		/* Whatever ok holds on input, RECV works and sets it. */
		EXPECT_EQ(0, xfer(self->fd, GOCHAN_IOC_RECV, x))
			TH_LOG("ok %u", oks[i]);
		EXPECT_EQ(1, x->ok);
		EXPECT_EQ(i ? 0x10 + i - 1 : 0x1111, val);
	}
}

TEST_F(ioctl, stat_size_below_ver0_einval_above_4096_e2big)
{
	struct gochan_stat *st;

	/* A size below the first version's is EINVAL... */
	memset(&big, 0, sizeof(big));
	big.st.size = GOCHAN_STAT_SIZE_VER0 - 1;
	EXPECT_EQ(-EINVAL, gc_err(ioctl(self->fd, GOCHAN_IOC_STAT, &big)));
	big.st.size = 0;
	EXPECT_EQ(-EINVAL, gc_err(ioctl(self->fd, GOCHAN_IOC_STAT, &big)));
	/* ...one above 4096 is E2BIG, even with a zero tail. */
	big.st.size = GC_STRUCT_MAX + 1;
	EXPECT_EQ(-E2BIG, gc_err(ioctl(self->fd, GOCHAN_IOC_STAT, &big)));
	big.st.size = 0xffffffff;
	EXPECT_EQ(-E2BIG, gc_err(ioctl(self->fd, GOCHAN_IOC_STAT, &big)));

	/* A larger struct with a zero tail works, and the output stops at
	 * the kernel's struct: the tail stays zero. */
	memset(&big, 0, sizeof(big));
	big.st.size = GC_STRUCT_MAX;
	EXPECT_EQ(0, gc_err(ioctl(self->fd, GOCHAN_IOC_STAT, &big)));
	EXPECT_EQ(1, big.st.len);
	EXPECT_EQ(4, big.st.capacity);
	EXPECT_EQ(-1, gc_first_not(big.bytes, GOCHAN_STAT_SIZE_VER0,
				   GC_STRUCT_MAX, 0));

	/* A nonzero tail is E2BIG. */
	memset(&big, 0, sizeof(big));
	big.st.size = GC_STRUCT_MAX;
	big.bytes[GC_STRUCT_MAX - 1] = 1;
	EXPECT_EQ(-E2BIG, gc_err(ioctl(self->fd, GOCHAN_IOC_STAT, &big)));

	/* The exact size writes nothing past it. */
	memset(&big, 0x5a, sizeof(big));
	st = &big.st;
	st->size = sizeof(*st);
	st->flags = 0;
	EXPECT_EQ(0, gc_err(ioctl(self->fd, GOCHAN_IOC_STAT, st)));
	EXPECT_EQ(1, st->len);
	EXPECT_EQ(-1, gc_first_not(big.bytes, sizeof(*st),
				   sizeof(big.bytes), 0x5a));
}

TEST_F(ioctl, stat_nonzero_input_flags_are_einval)
{
	for (int bit = 0; bit < 32; bit++) {
		struct gochan_stat st = { .size = sizeof(st),
					  .flags = 1u << bit };

		/* flags is In: must be 0 (even the CLOSED bit). */
		EXPECT_EQ(-EINVAL, gc_err(ioctl(self->fd, GOCHAN_IOC_STAT,
						&st)))
			TH_LOG("bit %d", bit);
	}
}

TEST_F(ioctl, stat_bad_pointer_is_efault)
{
	/* An unmapped struct pointer: EFAULT. */
	EXPECT_EQ(-EFAULT, gc_err(ioctl(self->fd, GOCHAN_IOC_STAT, NULL)));
	EXPECT_EQ(-EFAULT, gc_err(ioctl(self->fd, GOCHAN_IOC_STAT,
					GC_BAD_PTR)));
	/* A struct whose output would run into a hole: EFAULT. */
	struct gochan_stat *st = gc_buf_before_hole(16);

	ASSERT_NE(NULL, st);
	st->size = sizeof(*st);
	st->flags = 0;
	EXPECT_EQ(-EFAULT, gc_err(ioctl(self->fd, GOCHAN_IOC_STAT, st)));
}

TEST_HARNESS_MAIN
