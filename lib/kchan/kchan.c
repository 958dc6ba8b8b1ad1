/* SPDX-License-Identifier: MIT */
/*
 * kchan.c - the thin layer over kernel channels, one ioctl per call (named channels are
 * named.c's).
 *
 * Every function saves errno on entry and restores it before returning, so
 * the -errno result is the only way an error leaves the library.  The
 * blocking transfers retry on EINTR; that is safe because the kernel takes
 * and gives nothing in a call that fails with EINTR (uapi: "a signal
 * arrived first"), and the deadline is absolute, so a retry does not
 * extend it.  Selects follow the same pattern.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/io_uring.h>

#include <gochan/kchan.h>

#include "../internal.h"

GOCHAN_API int gochan_make_id(size_t elem_size, unsigned capacity,
			      unsigned flags, uint64_t *id)
{
	struct gochan_create c = {
		.size		= sizeof(c),
		.flags		= flags,
		.elem_size	= (__u32)elem_size,
		.capacity	= capacity,
	};
	int saved = errno;
	int dev, ret;

	/* The uapi field is 32 bits: do not let a huge size wrap to a small one. */
	if (elem_size > UINT32_MAX)
		return -EINVAL;

	dev = open(GOCHAN_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		ret = -errno;
		goto out;
	}
	ret = ioctl(dev, GOCHAN_IOC_CREATE, &c);
	if (ret < 0)
		ret = -errno;
	else if (id)
		*id = c.id;
	close(dev);
out:
	errno = saved;
	return ret;
}

GOCHAN_API int gochan_make(size_t elem_size, unsigned capacity, unsigned flags)
{
	return gochan_make_id(elem_size, capacity, flags, NULL);
}

GOCHAN_API int gochan_dup(int fd, unsigned flags)
{
	struct gochan_dup d = {
		.size	= sizeof(d),
		.flags	= flags,
	};
	int saved = errno;
	int ret;

	ret = ioctl(fd, GOCHAN_IOC_DUP, &d);
	if (ret < 0)
		ret = -errno;
	errno = saved;
	return ret;
}

/* GOCHAN_XFER_DEADLINE or GOCHAN_SELECT_DEADLINE for a deadline, none for
 * a negative one (GOCHAN_NO_DEADLINE). */
static unsigned deadline_flag(int64_t deadline_ns, unsigned flag)
{
	return deadline_ns >= 0 ? flag : 0;
}

/*
 * One GOCHAN_IOC_SEND or _RECV, reissued while a signal interrupts it.
 * @deadline_ns is read only with GOCHAN_XFER_DEADLINE in @flags.
 * @ok is written only on success and only if not NULL.
 */
static int kchan_xfer(int fd, unsigned long cmd, const void *buf,
		      unsigned flags, int64_t deadline_ns, bool *ok)
{
	struct gochan_xfer x = {
		.size		= sizeof(x),
		.flags		= flags,
		.buf		= (uintptr_t)buf,
		.deadline_ns	= flags & GOCHAN_XFER_DEADLINE ? deadline_ns : 0,
	};
	int saved = errno;
	int ret;

	do {
		ret = ioctl(fd, cmd, &x);
	} while (ret < 0 && errno == EINTR);

	if (ret < 0) {
		ret = -errno;
	} else {
		ret = 0;
		if (ok)
			*ok = x.ok != 0;
	}
	errno = saved;
	return ret;
}

GOCHAN_API int gochan_send_v0_6(int fd, const void *elem, int64_t deadline_ns)
{
	return kchan_xfer(fd, GOCHAN_IOC_SEND, elem,
			  deadline_flag(deadline_ns, GOCHAN_XFER_DEADLINE), deadline_ns, NULL);
}
GOCHAN_DEFAULT_VERSION(gochan_send_v0_6, gochan_send, LIBGOCHAN_0.6)

GOCHAN_API int gochan_recv_v0_6(int fd, void *elem, bool *ok, int64_t deadline_ns)
{
	return kchan_xfer(fd, GOCHAN_IOC_RECV, elem,
			  deadline_flag(deadline_ns, GOCHAN_XFER_DEADLINE), deadline_ns, ok);
}
GOCHAN_DEFAULT_VERSION(gochan_recv_v0_6, gochan_recv, LIBGOCHAN_0.6)

GOCHAN_API int gochan_try_send(int fd, const void *elem)
{
	return kchan_xfer(fd, GOCHAN_IOC_SEND, elem, GOCHAN_XFER_NONBLOCK, 0,
			  NULL);
}

GOCHAN_API int gochan_try_recv(int fd, void *elem, bool *ok)
{
	return kchan_xfer(fd, GOCHAN_IOC_RECV, elem, GOCHAN_XFER_NONBLOCK, 0,
			  ok);
}

/*
 * An IORING_OP_URING_CMD of @cmd_op on @fd whose command area points to
 * @x (the uapi's struct gochan_uring_cmd), with @user_data as its key too.
 */
static void kchan_prep_cmd(struct io_uring_sqe *sqe, int fd, uint32_t cmd_op,
			   struct gochan_xfer *x, const void *elem,
			   uint64_t user_data)
{
	struct gochan_uring_cmd uc = {
		.arg	= (uintptr_t)x,
		.key	= user_data,
	};

	*x = (struct gochan_xfer) {
		.size	= sizeof(*x),
		.buf	= (uintptr_t)elem,
	};
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = cmd_op;
	sqe->user_data = user_data;
	memcpy(sqe->cmd, &uc, sizeof(uc));
}

GOCHAN_API void gochan_prep_send(struct io_uring_sqe *sqe, int fd,
				 struct gochan_xfer *x, const void *elem,
				 uint64_t user_data)
{
	kchan_prep_cmd(sqe, fd, GOCHAN_IOC_SEND, x, elem, user_data);
}

GOCHAN_API void gochan_prep_recv(struct io_uring_sqe *sqe, int fd,
				 struct gochan_xfer *x, void *elem,
				 uint64_t user_data)
{
	kchan_prep_cmd(sqe, fd, GOCHAN_IOC_RECV, x, elem, user_data);
}

GOCHAN_API int gochan_cancel(int fd, uint64_t key, bool all)
{
	struct gochan_cancel c = {
		.size	= sizeof(c),
		.flags	= all ? GOCHAN_CANCEL_ALL : 0,
		.key	= all ? 0 : key,
	};
	int saved = errno;
	int ret = ioctl(fd, GOCHAN_IOC_CANCEL, &c);

	if (ret < 0)
		ret = -errno;
	errno = saved;
	return ret;
}

/*
 * *@fd: the fd a select (or a select set's creation) over @cases is issued
 * on: the first case's (even a bad one: the kernel says EBADF), which saves
 * opening the device; with no case, GOCHAN_DEVICE_PATH, opened here
 * (*@opened says so: close it after).  Returns 0, or -errno from open().
 */
static int kchan_cases_fd(const struct gochan_select_case *cases, unsigned n,
			  int *fd, bool *opened)
{
	*opened = false;
	if (n) {
		*fd = cases[0].fd;
		return 0;
	}
	*fd = open(GOCHAN_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	*opened = true;
	return 0;
}

/*
 * One GOCHAN_IOC_SELECT, reissued while a signal interrupts it (the kernel
 * moved nothing then, and the deadline is absolute), on kchan_cases_fd().
 * @res is written on success and on EPIPE, where the kernel writes index and
 * ok back too.  With @set >= 0 the select is that select set's (@cases
 * NULL, @n 0).  @deadline_ns is read only with GOCHAN_SELECT_DEADLINE.
 */
static int kchan_select(int set, const struct gochan_select_case *cases,
			unsigned n, struct gochan_select_result *res,
			unsigned flags, int64_t deadline_ns)
{
	struct gochan_select s = {
		.size		= sizeof(s),
		.flags		= flags,
		.cases		= (uintptr_t)cases,
		.ncases		= n,
		.case_size	= set >= 0 ? 0 : sizeof(*cases),
		.deadline_ns	= flags & GOCHAN_SELECT_DEADLINE ? deadline_ns : 0,
	};
	int saved = errno;
	bool opened = false;
	int fd, ret;

	fd = set;
	if (set < 0) {
		ret = kchan_cases_fd(cases, n, &fd, &opened);
		if (ret)
			goto out;
	}
	do {
		ret = ioctl(fd, GOCHAN_IOC_SELECT, &s);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		ret = -errno;
	if (opened)
		close(fd);

	/* Not a channel: the kernel says EINVAL for any case but the first,
	 * whose fd got the ioctl; say it the same way for all. */
	if (ret == -ENOTTY)
		ret = -EINVAL;
	if (ret == 0 || ret == -EPIPE) {
		if (res) {
			res->index = s.index;
			res->ok = s.ok != 0;
		}
		if (ret == 0)
			ret = (int)s.index;
	}
out:
	errno = saved;
	return ret;
}

GOCHAN_API int gochan_select_v0_6(const struct gochan_select_case *cases, unsigned n,
				  struct gochan_select_result *res, int64_t deadline_ns)
{
	return kchan_select(-1, cases, n, res,
			    deadline_flag(deadline_ns, GOCHAN_SELECT_DEADLINE), deadline_ns);
}
GOCHAN_DEFAULT_VERSION(gochan_select_v0_6, gochan_select, LIBGOCHAN_0.6)

GOCHAN_API int gochan_try_select(const struct gochan_select_case *cases,
				 unsigned n, struct gochan_select_result *res)
{
	return kchan_select(-1, cases, n, res, GOCHAN_SELECT_NONBLOCK, 0);
}

GOCHAN_API int gochan_selset(const struct gochan_select_case *cases,
			     unsigned n, unsigned flags)
{
	struct gochan_selset arg = {
		.size		= sizeof(arg),
		.flags		= flags,
		.cases		= (uintptr_t)cases,
		.ncases		= n,
		.case_size	= sizeof(*cases),
	};
	int saved = errno;
	bool opened;
	int fd, ret;

	ret = kchan_cases_fd(cases, n, &fd, &opened);
	if (ret)
		goto out;
	ret = ioctl(fd, GOCHAN_IOC_SELSET, &arg);
	if (ret < 0)
		ret = -errno;
	if (opened)
		close(fd);
	if (ret == -ENOTTY)	/* cases[0].fd is not a channel */
		ret = -EINVAL;
out:
	errno = saved;
	return ret;
}

GOCHAN_API int gochan_selset_select_v0_6(int set, struct gochan_select_result *res,
					 int64_t deadline_ns)
{
	if (set < 0)
		return -EBADF;
	return kchan_select(set, NULL, 0, res,
			    deadline_flag(deadline_ns, GOCHAN_SELECT_DEADLINE), deadline_ns);
}
GOCHAN_DEFAULT_VERSION(gochan_selset_select_v0_6, gochan_selset_select, LIBGOCHAN_0.6)

GOCHAN_API int gochan_selset_try(int set, struct gochan_select_result *res)
{
	if (set < 0)
		return -EBADF;
	return kchan_select(set, NULL, 0, res, GOCHAN_SELECT_NONBLOCK, 0);
}

GOCHAN_API int gochan_close(int fd)
{
	int saved = errno;
	int ret;

	ret = ioctl(fd, GOCHAN_IOC_CLOSE, 0);
	ret = ret < 0 ? -errno : 0;
	errno = saved;
	return ret;
}

GOCHAN_API int gochan_stat(int fd, struct gochan_stat *st)
{
	int saved = errno;
	int ret;

	*st = (struct gochan_stat){ .size = sizeof(*st) };
	ret = ioctl(fd, GOCHAN_IOC_STAT, st);
	ret = ret < 0 ? -errno : 0;
	errno = saved;
	return ret;
}

GOCHAN_API int64_t gochan_now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC with a valid pointer cannot fail. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The blocking calls as LIBGOCHAN_0.1 to 0.5 had them, for programs linked against those
 * versions of libgochan.so: without a deadline, and with one in an _until form of their
 * own, where a negative deadline has passed (in 0.6, it is none). Not in the static
 * library, nor declared in a header.
 */
#ifdef GOCHAN_SHARED
GOCHAN_API int gochan_send_v0_1(int fd, const void *elem)
{
	return kchan_xfer(fd, GOCHAN_IOC_SEND, elem, 0, 0, NULL);
}
GOCHAN_COMPAT_VERSION(gochan_send_v0_1, gochan_send, LIBGOCHAN_0.1)

GOCHAN_API int gochan_recv_v0_1(int fd, void *elem, bool *ok)
{
	return kchan_xfer(fd, GOCHAN_IOC_RECV, elem, 0, 0, ok);
}
GOCHAN_COMPAT_VERSION(gochan_recv_v0_1, gochan_recv, LIBGOCHAN_0.1)

GOCHAN_API int gochan_send_until_v0_1(int fd, const void *elem, int64_t deadline_ns)
{
	return kchan_xfer(fd, GOCHAN_IOC_SEND, elem, GOCHAN_XFER_DEADLINE, deadline_ns, NULL);
}
GOCHAN_COMPAT_VERSION(gochan_send_until_v0_1, gochan_send_until, LIBGOCHAN_0.1)

GOCHAN_API int gochan_recv_until_v0_1(int fd, void *elem, bool *ok, int64_t deadline_ns)
{
	return kchan_xfer(fd, GOCHAN_IOC_RECV, elem, GOCHAN_XFER_DEADLINE, deadline_ns, ok);
}
GOCHAN_COMPAT_VERSION(gochan_recv_until_v0_1, gochan_recv_until, LIBGOCHAN_0.1)

GOCHAN_API int gochan_select_v0_2(const struct gochan_select_case *cases, unsigned n,
				  struct gochan_select_result *res)
{
	return kchan_select(-1, cases, n, res, 0, 0);
}
GOCHAN_COMPAT_VERSION(gochan_select_v0_2, gochan_select, LIBGOCHAN_0.2)

GOCHAN_API int gochan_select_until_v0_2(const struct gochan_select_case *cases, unsigned n,
					struct gochan_select_result *res, int64_t deadline_ns)
{
	return kchan_select(-1, cases, n, res, GOCHAN_SELECT_DEADLINE, deadline_ns);
}
GOCHAN_COMPAT_VERSION(gochan_select_until_v0_2, gochan_select_until, LIBGOCHAN_0.2)

GOCHAN_API int gochan_selset_select_v0_5(int set, struct gochan_select_result *res)
{
	if (set < 0)
		return -EBADF;
	return kchan_select(set, NULL, 0, res, 0, 0);
}
GOCHAN_COMPAT_VERSION(gochan_selset_select_v0_5, gochan_selset_select, LIBGOCHAN_0.5)

GOCHAN_API int gochan_selset_until_v0_5(int set, struct gochan_select_result *res,
					int64_t deadline_ns)
{
	if (set < 0)
		return -EBADF;
	return kchan_select(set, NULL, 0, res, GOCHAN_SELECT_DEADLINE, deadline_ns);
}
GOCHAN_COMPAT_VERSION(gochan_selset_until_v0_5, gochan_selset_until, LIBGOCHAN_0.5)
#endif /* GOCHAN_SHARED */
