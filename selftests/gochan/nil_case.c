// SPDX-License-Identifier: GPL-2.0
/*
 * Description: nil cases in a select (fd GOCHAN_NIL_FD), Go's case on a nil
 * channel, the usual way to turn a case off: never ready and never chosen,
 * its buffer never read or written, its place kept in the index reported
 * (also by a select that waited); a select of nil cases only waits as
 * "select {}" does; a nil case's op and reserved field are still checked,
 * and other negative fds are still EBADF.  Every test runs on /dev/gochan,
 * on a channel fd, and through a select set (fixture variants).  The
 * io_uring SELECT's nil cases are in uring_cmd.c.
 */
#include "helpers.h"

#define SEND	GOCHAN_OP_SEND
#define RECV	GOCHAN_OP_RECV
#define NB	GOCHAN_SELECT_NONBLOCK
#define DL	GOCHAN_SELECT_DEADLINE

/* Whether selects go through a select set made for each (the variant). */
static bool via_set;

/* A select on @fd, directly or through a set; as gc_select(). */
static int nsel(int fd, const struct gochan_select_case *cs, uint32_t n,
		uint32_t flags, int64_t deadline, uint32_t *index, uint32_t *ok)
{
	int set, ret;

	if (!via_set)
		return gc_select(fd, cs, n, flags, deadline, index, ok);
	set = gc_selset(fd, cs, n);
	if (set < 0)
		return set;
	ret = gc_select(set, NULL, 0, flags, deadline, index, ok);
	close(set);
	return ret;
}

GC_SELECT_FIXTURE(nil_case);

TEST_F(nil_case, nil_cases_are_never_chosen)
{
	int c = gc_make(self->dev, 8, 64);
	uint64_t nilbuf = 0, buf = 0;
	struct gochan_select_case cs[4];
	uint32_t index, ok;

	ASSERT_LE(0, c);
	for (uint64_t i = 0; i < 32; i++)
		ASSERT_EQ(0, gc_send_u64(c, 100 + i, GOCHAN_XFER_NONBLOCK));
	cs[0] = gc_case(GOCHAN_NIL_FD, RECV, &nilbuf);
	cs[1] = gc_case(c, RECV, &buf);
	cs[2] = gc_case(GOCHAN_NIL_FD, SEND, &nilbuf);
	cs[3] = gc_case(GOCHAN_NIL_FD, RECV, &nilbuf);
	for (uint64_t i = 0; i < 32; i++) {
		/* The one case with a channel is ready: it runs, every time,
		 * reported at its place among the nil cases (index 1). */
		ASSERT_EQ(0, nsel(self->sfd, cs, 4, NB, 0, &index, &ok))
			TH_LOG("select %llu", (unsigned long long)i);
		EXPECT_EQ(1, index);
		EXPECT_EQ(1, ok);
		EXPECT_EQ(100 + i, buf);
	}
	/* The channel drained, nothing is ready: a nil case is not ready
	 * either, so NONBLOCK gives EAGAIN. */
	EXPECT_EQ(-EAGAIN, nsel(self->sfd, cs, 4, NB, 0, NULL, NULL));
	/* No nil case's buffer was written. */
	EXPECT_EQ(0, nilbuf);
	close(c);
}

TEST_F(nil_case, only_nil_cases_wait_like_an_empty_select)
{
	uint64_t buf = 0;
	struct gochan_select_case cs[2] = {
		gc_case(GOCHAN_NIL_FD, RECV, &buf),
		gc_case(GOCHAN_NIL_FD, SEND, &buf),
	};
	int64_t dl;

	/* Go's "select { case <-nilc: default: }": EAGAIN at once. */
	EXPECT_EQ(-EAGAIN, nsel(self->sfd, cs, 2, NB, 0, NULL, NULL));
	/* Without default it waits, here for its deadline: ETIMEDOUT, not
	 * earlier. */
	dl = now_ns() + 20000000LL;
	EXPECT_EQ(-ETIMEDOUT, nsel(self->sfd, cs, 2, DL, dl, NULL, NULL));
	EXPECT_LE(dl, now_ns());
	EXPECT_EQ(0, buf);
}

TEST_F(nil_case, nil_case_buffers_are_never_touched)
{
	int c = gc_make(self->dev, 8, 1), e = gc_make(self->dev, 8, 0);
	uint64_t buf = 0;
	struct gochan_select_case cs[3];
	uint32_t index, ok;

	ASSERT_LE(0, c);
	ASSERT_LE(0, e);
	ASSERT_EQ(0, gc_send_u64(c, 5, GOCHAN_XFER_NONBLOCK));
	/* A nil send case's buf is not read and a nil receive case's not
	 * probed: a bad one is no EFAULT. */
	cs[0] = gc_case(GOCHAN_NIL_FD, SEND, GC_BAD_PTR);
	cs[1] = gc_case(GOCHAN_NIL_FD, RECV, GC_BAD_PTR);
	cs[2] = gc_case(c, RECV, &buf);
	ASSERT_EQ(0, nsel(self->sfd, cs, 3, NB, 0, &index, &ok));
	EXPECT_EQ(2, index);
	EXPECT_EQ(1, ok);
	EXPECT_EQ(5, buf);
	/* Nor when the select waits (a live receive case's bad buf would
	 * fail it with EFAULT before it waits). */
	cs[2] = gc_case(e, RECV, &buf);
	EXPECT_EQ(-ETIMEDOUT, nsel(self->sfd, cs, 3, DL,
				   now_ns() + 20000000LL, NULL, NULL));
	close(c);
	close(e);
}

TEST_F(nil_case, a_select_that_waited_reports_the_index_counting_nil_cases)
{
	struct { int ret; uint32_t index, ok; uint64_t v; } *r = gc_shared(sizeof(*r));
	int c = gc_make(self->dev, 8, 0);
	pid_t pid;

	ASSERT_NE(NULL, r);
	ASSERT_LE(0, c);
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct gochan_select_case cs[3] = {
			gc_case(GOCHAN_NIL_FD, SEND, GC_BAD_PTR),
			gc_case(GOCHAN_NIL_FD, RECV, GC_BAD_PTR),
			gc_case(c, RECV, &r->v),
		};

		r->ret = nsel(self->sfd, cs, 3, DL,
			      now_ns() + GC_WAIT_MS * 1000000LL,
			      &r->index, &r->ok);
		_exit(0);
	}
	/* The select waits in the one channel it has... */
	ASSERT_EQ(0, gc_wait_waiters(c, 0, 1));
	/* ...and a send there completes it: index 2, the nil cases counted. */
	ASSERT_EQ(0, gc_send_u64(c, 77, 0));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, r->ret);
	EXPECT_EQ(2, r->index);
	EXPECT_EQ(1, r->ok);
	EXPECT_EQ(77, r->v);
	close(c);
}

TEST_F(nil_case, nil_case_op_and_reserved_are_still_checked)
{
	int c = gc_make(self->dev, 8, 1);
	uint64_t buf = 0;
	struct gochan_select_case cs[2];

	ASSERT_LE(0, c);
	ASSERT_EQ(0, gc_send_u64(c, 1, GOCHAN_XFER_NONBLOCK));
	cs[1] = gc_case(c, RECV, &buf);
	/* A nil case is a case: a bad op is EINVAL, beside a ready case... */
	cs[0] = gc_case(GOCHAN_NIL_FD, 3, &buf);
	EXPECT_EQ(-EINVAL, nsel(self->sfd, cs, 2, NB, 0, NULL, NULL));
	/* ...and so is a reserved field that is not zero. */
	cs[0] = gc_case(GOCHAN_NIL_FD, RECV, &buf);
	cs[0].reserved = 1;
	EXPECT_EQ(-EINVAL, nsel(self->sfd, cs, 2, NB, 0, NULL, NULL));
	/* The rejected selects took nothing. */
	EXPECT_EQ(0, buf);
	ASSERT_EQ(0, gc_recv_u64(c, &buf, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(1, buf);
	close(c);
}

TEST_F(nil_case, other_negative_fds_are_ebadf)
{
	int c = gc_make(self->dev, 8, 1);
	const int bad[] = { -2, -100, INT32_MIN };
	uint64_t buf = 0;
	struct gochan_select_case cs[2];

	ASSERT_LE(0, c);
	ASSERT_EQ(0, gc_send_u64(c, 1, GOCHAN_XFER_NONBLOCK));
	cs[0] = gc_case(c, RECV, &buf);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Only -1 is nil: any other negative fd is not open, EBADF,
		 * even beside a ready case. */
		cs[1] = gc_case(bad[i], RECV, &buf);
		EXPECT_EQ(-EBADF, nsel(self->sfd, cs, 2, NB, 0, NULL, NULL))
			TH_LOG("fd %d", bad[i]);
	}
	EXPECT_EQ(0, buf);
	close(c);
}

TEST_F(nil_case, a_select_set_counts_only_cases_with_a_channel)
{
	int c = gc_make(self->dev, 8, 1), set, fd;
	uint64_t buf = 0;
	struct gochan_select_case cs[3];
	char path[64], info[1024];
	ssize_t n;

	ASSERT_LE(0, c);
	cs[0] = gc_case(GOCHAN_NIL_FD, RECV, &buf);
	cs[1] = gc_case(c, SEND, &buf);
	cs[2] = gc_case(GOCHAN_NIL_FD, SEND, &buf);
	set = gc_selset(self->sfd, cs, 3);
	ASSERT_LE(0, set);
	/* fdinfo counts the set's cases that have a channel: one. */
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", set);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = read(fd, info, sizeof(info) - 1);
	ASSERT_LT(0, n);
	info[n] = '\0';
	EXPECT_NE(NULL, strstr(info, "gochan-selset-cases:\t1\n")) TH_LOG("%s", info);
	close(fd);
	close(set);
	/* A set of nil cases only is allowed, and waits as "select {}". */
	set = gc_selset(self->sfd, &cs[2], 1);
	ASSERT_LE(0, set);
	EXPECT_EQ(-EAGAIN, gc_select(set, NULL, 0, NB, 0, NULL, NULL));
	close(set);
	close(c);
}

TEST_HARNESS_MAIN
