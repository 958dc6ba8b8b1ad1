// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring: IORING_OP_READ and IORING_OP_WRITE on channel fds complete with
 * the channel's semantics, and a pending one waits by poll, not in an io-wq
 * worker thread (the channel file is FMODE_NOWAIT and pollable).
 */
#include <dirent.h>
#include <liburing.h>

#include "helpers.h"

/* io-wq workers are threads of this process named "iou-wrk-<tid>". */
static int count_iowq_workers(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[320], comm[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "iou-wrk-", 8))
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

GC_URING_FIXTURE(uring);

/* Submit one read or write of @len bytes at @buf, tagged @tag. */
static int submit_rw(struct io_uring *ring, bool write, int fd, void *buf,
		     unsigned int len, uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	if (write)
		io_uring_prep_write(sqe, fd, buf, len, 0);
	else
		io_uring_prep_read(sqe, fd, buf, len, 0);
	sqe->user_data = tag;
	return io_uring_submit(ring);
}

/*
 * One pending read on each of N channels.  (Several reads pending on one
 * channel are all woken by one element; on 6.1 io_uring punts a request to
 * an io-wq worker when its second non-blocking try fails, so the losers of
 * such a wakeup move to workers, as they do on a pipe.  Queued asynchronous
 * receives inside the channel are the way to have many waiters on one.)
 */
TEST_F(uring, pending_reads_wait_without_iowq_threads)
{
	enum { N = 16 };
	uint64_t out[N];
	int fds[N];

	for (int i = 0; i < N; i++) {
		fds[i] = gc_make(self->dev, 8, i % 2 ? 4 : 0);
		ASSERT_LE(0, fds[i]);
		out[i] = 0;
		ASSERT_EQ(1, submit_rw(&self->ring, false, fds[i], &out[i], 8, i));
	}
	/* They all wait in their channels' poll queues: no worker each. */
	gc_sleep_ms(100);
	EXPECT_EQ(0, count_iowq_workers());
	/* Nothing completed: a read of an empty channel does not finish. */
	{
		struct io_uring_cqe *cqe;

		EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
	}
	/*
	 * An element on channel i completes read i, with that element.  The
	 * writer is another process, as it would be: a task blocked in an
	 * unbuffered write is itself interrupted (TIF_NOTIFY_SIGNAL) to run
	 * its own ring's completions, as in any blocking syscall.
	 */
	pid_t pid = gc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (int i = N - 1; i >= 0; i--) {
			uint64_t v = 1000 + i;

			if (gc_write(fds[i], &v, 8) != 8)
				_exit(1);
		}
		_exit(0);
	}
	for (int i = 0; i < N; i++) {
		struct io_uring_cqe *cqe;
		uint64_t tag;

		ASSERT_EQ(0, io_uring_wait_cqe(&self->ring, &cqe));
		tag = cqe->user_data;
		ASSERT_GT(N, tag);
		EXPECT_EQ(8, cqe->res);
		/* Read i got channel i's element (completions come in any order). */
		EXPECT_EQ(1000 + tag, out[tag]);
		io_uring_cqe_seen(&self->ring, cqe);
	}
	ASSERT_EQ(0, gc_reap(pid));
	/* No read ever needed a worker thread. */
	EXPECT_EQ(0, count_iowq_workers());
	for (int i = 0; i < N; i++)
		close(fds[i]);
}

TEST_F(uring, pending_write_completes_when_received)
{
	uint64_t v = 42, got = 0;
	struct io_uring_cqe *cqe;
	int fd = gc_make(self->dev, 8, 0);

	ASSERT_LE(0, fd);
	/* An unbuffered write has no receiver: it waits, in no worker. */
	ASSERT_EQ(1, submit_rw(&self->ring, true, fd, &v, 8, 1));
	gc_sleep_ms(100);
	EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
	EXPECT_EQ(0, count_iowq_workers());
	/* A receiver arrives: the write completes with its full length. */
	ASSERT_EQ(8, gc_read(fd, &got, 8));
	EXPECT_EQ(42, got);
	ASSERT_EQ(0, io_uring_wait_cqe(&self->ring, &cqe));
	EXPECT_EQ(8, cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	close(fd);
}

TEST_F(uring, close_completes_pending_read_with_eof)
{
	uint64_t v;
	struct io_uring_cqe *cqe;
	int fd = gc_make(self->dev, 8, 4);

	ASSERT_LE(0, fd);
	ASSERT_EQ(1, submit_rw(&self->ring, false, fd, &v, 8, 7));
	gc_sleep_ms(50);
	/* Closing the channel ends the pending read: 0, end-of-channel. */
	ASSERT_EQ(0, gc_close_chan(fd));
	ASSERT_EQ(0, io_uring_wait_cqe(&self->ring, &cqe));
	EXPECT_EQ(7, cqe->user_data);
	EXPECT_EQ(0, cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	close(fd);
}

TEST_F(uring, ready_read_and_write_complete_inline)
{
	uint64_t in[4] = { 1, 2, 3, 4 }, out[4] = {};
	struct io_uring_cqe *cqe;
	int fd = gc_make(self->dev, 8, 4);

	ASSERT_LE(0, fd);
	/* A write with room completes at once with the whole length... */
	ASSERT_EQ(1, submit_rw(&self->ring, true, fd, in, sizeof(in), 1));
	ASSERT_EQ(0, io_uring_wait_cqe(&self->ring, &cqe));
	EXPECT_EQ(sizeof(in), cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	/* ...and a read takes all four, in order, as read(2) would. */
	ASSERT_EQ(1, submit_rw(&self->ring, false, fd, out, sizeof(out), 2));
	ASSERT_EQ(0, io_uring_wait_cqe(&self->ring, &cqe));
	EXPECT_EQ(sizeof(out), cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	/* A length that is not a whole number of elements: -EINVAL. */
	ASSERT_EQ(1, submit_rw(&self->ring, false, fd, out, 5, 3));
	ASSERT_EQ(0, io_uring_wait_cqe(&self->ring, &cqe));
	EXPECT_EQ(-EINVAL, cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	EXPECT_EQ(0, count_iowq_workers());
	close(fd);
}

TEST_HARNESS_MAIN
