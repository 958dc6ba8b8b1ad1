/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels gochan builds for (Debian 12's 6.1 and
 * 6.12), in one place.
 *
 * io_uring commands
 *   6.1:   <linux/io_uring.h>; the command area is ioucmd->cmd; no
 *          cancelable commands (IORING_OP_ASYNC_CANCEL and ring teardown
 *          cannot reach a queued command: uring.c watches for the
 *          teardown itself).  Debian's 6.1.192 has the four-argument
 *          io_uring_cmd_done() (backported).
 *   6.7+:  <linux/io_uring/cmd.h>; the area is io_uring_sqe_cmd(ioucmd->sqe);
 *          io_uring_cmd_mark_cancelable() lets ring teardown call
 *          ->uring_cmd with IO_URING_F_CANCEL.
 *
 * A command done at submission (gochan_cmd_done_now())
 *   6.1:   io_uring_cmd() completes only a 0 that ->uring_cmd returns as
 *          a CQE: another value fails the request (a positive one too,
 *          cancelling the requests linked after it), -EAGAIN sends it to
 *          io-wq; and issued from io-wq, a positive value is not completed
 *          at all (io_wq_submit_work() fails only a negative one), so the
 *          ring's teardown waits for it forever.  io_uring_cmd_done()
 *          posts the rest, one locked post per CQE.
 *   6.12:  any value but -EAGAIN and -EIOCBQUEUED is completed, batched
 *          with the submission's other completions, as 0 is on 6.1.
 *
 * iov_iter
 *   6.1:   an ITER_IOVEC's segments are iter->iov.
 *   6.4+:  they are iter_iov(iter) (iter->__iov).
 */
#ifndef _GOCHAN_COMPAT_H
#define _GOCHAN_COMPAT_H

#if __has_include(<linux/io_uring/cmd.h>)
#include <linux/io_uring/cmd.h>
#define GOCHAN_HAVE_CMD_CANCEL	1

static inline const void *gochan_cmd_area(const struct io_uring_cmd *cmd)
{
	return io_uring_sqe_cmd(cmd->sqe);
}

static inline void gochan_cmd_mark_cancelable(struct io_uring_cmd *cmd,
					      unsigned int issue_flags)
{
	io_uring_cmd_mark_cancelable(cmd, issue_flags);
}

static inline bool gochan_cmd_is_cancel(unsigned int issue_flags)
{
	return issue_flags & IO_URING_F_CANCEL;
}
#else
#include <linux/io_uring.h>
#define GOCHAN_HAVE_CMD_CANCEL	0

static inline const void *gochan_cmd_area(const struct io_uring_cmd *cmd)
{
	return cmd->cmd;
}

static inline void gochan_cmd_mark_cancelable(struct io_uring_cmd *cmd,
					      unsigned int issue_flags)
{
}

static inline bool gochan_cmd_is_cancel(unsigned int issue_flags)
{
	return false;
}
#endif

#include <linux/uio.h>
#include <linux/version.h>

/*
 * End a command at submission with CQE res @res: the value ->uring_cmd
 * returns.  Where io_uring would not post @res itself (see above), it is
 * posted here and the command counts as queued.
 */
static inline int gochan_cmd_done_now(struct io_uring_cmd *cmd, long res,
				      unsigned int issue_flags)
{
	bool direct = LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0) ?
		      res != -EAGAIN && res != -EIOCBQUEUED : res == 0;

	if (direct)
		return res;
	io_uring_cmd_done(cmd, res, 0, issue_flags);
	return -EIOCBQUEUED;
}

/* The current segment of an ITER_IOVEC. */
static inline const struct iovec *gochan_iter_iov(const struct iov_iter *i)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	return iter_iov(i);
#else
	return i->iov;
#endif
}

#endif /* _GOCHAN_COMPAT_H */
