/* SPDX-License-Identifier: MIT */
/*
 * kchan: the thin layer over kernel channels, one ioctl per call.
 *
 * Every function saves errno on entry and restores it before returning, so
 * the -errno result is the only way an error leaves the library.  The
 * blocking transfers retry on EINTR; that is safe because the kernel takes
 * and gives nothing in a call that fails with EINTR (uapi: "a signal
 * arrived first"), and the deadline is absolute, so a retry does not
 * extend it.  Selects follow the same pattern.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <gochan/kchan.h>

#include "internal.h"

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

/*
 * One GOCHAN_IOC_SEND or _RECV, reissued while a signal interrupts it.
 * @ok is written only on success and only if not NULL.
 */
static int kchan_xfer(int fd, unsigned long cmd, const void *buf,
		      unsigned flags, int64_t deadline_ns, bool *ok)
{
	struct gochan_xfer x = {
		.size		= sizeof(x),
		.flags		= flags,
		.buf		= (uintptr_t)buf,
		.deadline_ns	= deadline_ns,
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

GOCHAN_API int gochan_send(int fd, const void *elem)
{
	return kchan_xfer(fd, GOCHAN_IOC_SEND, elem, 0, 0, NULL);
}

GOCHAN_API int gochan_recv(int fd, void *elem, bool *ok)
{
	return kchan_xfer(fd, GOCHAN_IOC_RECV, elem, 0, 0, ok);
}

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

GOCHAN_API int gochan_send_until(int fd, const void *elem, int64_t deadline_ns)
{
	return kchan_xfer(fd, GOCHAN_IOC_SEND, elem, GOCHAN_XFER_DEADLINE,
			  deadline_ns, NULL);
}

GOCHAN_API int gochan_recv_until(int fd, void *elem, bool *ok,
				 int64_t deadline_ns)
{
	return kchan_xfer(fd, GOCHAN_IOC_RECV, elem, GOCHAN_XFER_DEADLINE,
			  deadline_ns, ok);
}

/*
 * One GOCHAN_IOC_SELECT, reissued while a signal interrupts it (the kernel
 * moved nothing then, and the deadline is absolute).  It goes to the first
 * case's channel fd, which saves opening the device; only a select with no
 * case needs GOCHAN_DEVICE_PATH.  @res is written on success and on EPIPE,
 * where the kernel writes index and ok back too.
 */
static int kchan_select(const struct gochan_select_case *cases, unsigned n,
			struct gochan_select_result *res, unsigned flags,
			int64_t deadline_ns)
{
	struct gochan_select s = {
		.size		= sizeof(s),
		.flags		= flags,
		.cases		= (uintptr_t)cases,
		.ncases		= n,
		.case_size	= sizeof(*cases),
		.deadline_ns	= deadline_ns,
	};
	int saved = errno;
	int fd, ret;

	if (n) {
		fd = cases[0].fd;
	} else {
		fd = open(GOCHAN_DEVICE_PATH, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			goto out;
		}
	}
	do {
		ret = ioctl(fd, GOCHAN_IOC_SELECT, &s);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		ret = -errno;
	if (!n)
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

GOCHAN_API int gochan_select(const struct gochan_select_case *cases,
			     unsigned n, struct gochan_select_result *res)
{
	return kchan_select(cases, n, res, 0, 0);
}

GOCHAN_API int gochan_try_select(const struct gochan_select_case *cases,
				 unsigned n, struct gochan_select_result *res)
{
	return kchan_select(cases, n, res, GOCHAN_SELECT_NONBLOCK, 0);
}

GOCHAN_API int gochan_select_until(const struct gochan_select_case *cases,
				   unsigned n, struct gochan_select_result *res,
				   int64_t deadline_ns)
{
	return kchan_select(cases, n, res, GOCHAN_SELECT_DEADLINE, deadline_ns);
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
