/* SPDX-License-Identifier: MIT */
/*
 * park.c - the goroutine-aware calls on kernel channels: go_kchan_send, go_kchan_recv and
 * go_kchan_select queue the operation inside the kernel channel as an io_uring command (the
 * poller's struct go_ucmd) and park the goroutine until it completes, as a blocked thread
 * waits there, so it meets another process's send, receive or select, on an unbuffered
 * channel too; its thread runs other goroutines meanwhile. The thin layer (kchan.c) blocks
 * the thread instead. A send or receive first tries the kernel's non-blocking form: what
 * can complete at once costs one ioctl.
 *
 * Outside a goroutine these are the thin layer's calls. Without io_uring commands (no
 * io_uring, or a module without them: _go_kcmd_missing) a goroutine tries without blocking
 * and parks on the fd's readiness (go_poll) between tries, which cannot meet a partner that
 * only waits inside the channel; a select then blocks its thread in the kernel, bracketed
 * as a system call.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include <gochan/kchan.h>
#include <gochan/sched.h>

#include "../internal.h"

/* A module without io_uring commands: the kernel's uring_cmd says so at once. */
static uint32_t kcmd_unsupported;	/* atomic */

/*
 * io_uring refuses a command with -EOPNOTSUPP on any file without uring_cmd: a module
 * without commands, but also a pipe, or a case's fd closed and reused meanwhile.  Only the
 * first says anything of the module; the others must not turn the commands off for the
 * whole process (its later waits would no longer wait inside their channels, where another
 * process's non-blocking send or select finds them).  So the refusal is remembered only
 * when fd is a channel; either way the caller goes on without a command, and the plain
 * call reports what is wrong with fd.
 */
bool _go_kcmd_missing(int res, int fd)
{
	struct gochan_stat st;

	if (res != -ENOTTY && res != -EOPNOTSUPP)
		return false;
	if (gochan_stat(fd, &st) == 0)
		store_relaxed(&kcmd_unsupported, 1u);
	return true;
}

/* go_run's end: a command still queued in a channel is cancelled by its key. */
static void kcmd_cancel(int fd, uint64_t key)
{
	gochan_cancel(fd, key, false);
}

/* A command cmd_op on fd's channel with argument arg (a struct gochan_xfer or gochan_select,
 * which the kernel reads at submission), and key as its cancel key. */
static void kcmd_init(struct go_ucmd *uc, int fd, uint32_t cmd_op, const void *arg,
		      uint64_t key)
{
	struct gochan_uring_cmd cmd = { .arg = (uintptr_t)arg, .key = key };

	*uc = (struct go_ucmd){ .fd = fd, .cmd_op = cmd_op, .key = key, .cancel = kcmd_cancel };
	memcpy(uc->cmd, &cmd, sizeof(cmd));
}

/* Queue a send or receive in fd's channel and park until it ends: the CQE's res, or -ENOSYS
 * without io_uring. The xfer's address is the key: unique while it is queued. */
static int kxfer_wait(int fd, uint32_t cmd_op, const void *buf, int64_t deadline_ns,
		      const char *reason)
{
	struct gochan_xfer x = { .size = sizeof(x), .buf = (uintptr_t)buf };
	struct go_ucmd uc;

	if (deadline_ns >= 0) {
		x.flags = GOCHAN_XFER_DEADLINE;
		x.deadline_ns = deadline_ns;
	}
	kcmd_init(&uc, fd, cmd_op, &x, (uintptr_t)&x);
	return _go_netpoll_ucmd_wait(&uc, reason);
}

/* Without io_uring commands, after a try that would block: park on the fd's readiness, try
 * again without blocking. */
static int kchan_poll_loop(int fd, bool send, const void *selem, void *relem, bool *ok,
			   int64_t deadline_ns)
{
	for (;;) {
		int r = go_poll(fd, send ? POLLOUT : POLLIN, deadline_ns);

		if (r < 0)
			return r;
		r = send ? gochan_try_send(fd, selem) : gochan_try_recv(fd, relem, ok);
		if (r != -EAGAIN)
			return r;
	}
}

/* Past the deadline (none if negative), after a try that would block. */
static bool deadline_passed(int64_t deadline_ns)
{
	return deadline_ns >= 0 && gochan_now_ns() >= deadline_ns;
}

GOCHAN_API int go_kchan_send(int fd, const void *elem, int64_t deadline_ns)
{
	int r;

	if (go_id() == 0) {
		int saved = _go_errno_get();

		r = gochan_send(fd, elem, deadline_ns);
		_go_errno_set(saved);
		return r;
	}
	/* What can be done at once costs one ioctl, not a queued command and a park. */
	r = gochan_try_send(fd, elem);
	if (r != -EAGAIN)
		return r;
	if (deadline_passed(deadline_ns))
		return -ETIMEDOUT;
	if (!load_relaxed(&kcmd_unsupported)) {
		r = kxfer_wait(fd, GOCHAN_IOC_SEND, elem, deadline_ns, "chan send (kernel)");
		if (r != -ENOSYS && !_go_kcmd_missing(r, fd))
			return r;
	}
	return kchan_poll_loop(fd, true, elem, NULL, NULL, deadline_ns);
}

GOCHAN_API int go_kchan_recv(int fd, void *elem, bool *ok, int64_t deadline_ns)
{
	bool dummy;
	int r;

	if (!ok)
		ok = &dummy;
	if (go_id() == 0) {
		int saved = _go_errno_get();

		r = gochan_recv(fd, elem, ok, deadline_ns);
		_go_errno_set(saved);
		return r;
	}
	r = gochan_try_recv(fd, elem, ok);
	if (r != -EAGAIN)
		return r;
	if (deadline_passed(deadline_ns))
		return -ETIMEDOUT;
	if (!load_relaxed(&kcmd_unsupported)) {
		r = kxfer_wait(fd, GOCHAN_IOC_RECV, elem, deadline_ns, "chan receive (kernel)");
		if (r != -ENOSYS && !_go_kcmd_missing(r, fd)) {
			if (r >= 0) {
				*ok = r == 1;
				r = 0;
			}
			return r;
		}
	}
	return kchan_poll_loop(fd, false, NULL, elem, ok, deadline_ns);
}

GOCHAN_API int go_kchan_select(const struct gochan_select_case *cases, unsigned n,
			       struct gochan_select_result *res, int64_t deadline_ns)
{
	struct gochan_select_result dummy;
	int r;

	if (!res)
		res = &dummy;
	if (go_id() != 0 && n > 0 && !load_relaxed(&kcmd_unsupported)) {
		/* the select's first channel carries it (its CANCEL and close find it) */
		struct gochan_select sel = {
			.size		= sizeof(sel),
			.flags		= deadline_ns >= 0 ? GOCHAN_SELECT_DEADLINE : 0,
			.cases		= (uintptr_t)cases,
			.ncases		= n,
			.case_size	= sizeof(*cases),
			.deadline_ns	= deadline_ns >= 0 ? deadline_ns : 0,
		};
		struct go_ucmd uc;

		kcmd_init(&uc, cases[0].fd, GOCHAN_IOC_SELECT, &sel, (uintptr_t)&sel);
		r = _go_netpoll_ucmd_wait(&uc, "select (kernel)");
		if (r >= 0) {
			res->index = (unsigned)r & GOCHAN_SELECT_RES_INDEX;
			res->ok = r & GOCHAN_SELECT_RES_OK;
			return r & GOCHAN_SELECT_RES_CLOSED ? -EPIPE : (int)res->index;
		}
		if (r == -ENOTTY)
			r = -EINVAL;	/* a case's fd is not a channel: as gochan_select says */
		if (r != -ENOSYS && !_go_kcmd_missing(r, cases[0].fd))
			return r;
	}
	/* Outside a goroutine, without io_uring or the commands, or "select {}": the kernel's
	 * blocking select, as a system call. */
	int saved = _go_errno_get();

	go_syscall_enter();
	r = gochan_select(cases, n, res, deadline_ns);
	go_syscall_exit();
	_go_errno_set(saved);
	return r;
}

int _go_kselect_submit(const struct gochan_select_case *cases, unsigned n, uint64_t key,
		       _go_kcmd_done_fn done, void *arg)
{
	struct gochan_select sel = {
		.size		= sizeof(sel),
		.cases		= (uintptr_t)cases,
		.ncases		= n,
		.case_size	= sizeof(*cases),
	};
	struct go_ucmd uc;
	int r;

	if (load_relaxed(&kcmd_unsupported))
		return -EOPNOTSUPP;
	if (n == 0)
		return -EINVAL;
	kcmd_init(&uc, cases[0].fd, GOCHAN_IOC_SELECT, &sel, key);
	uc.done = done;
	uc.done_arg = arg;
	r = _go_netpoll_ucmd_submit(&uc);
	return r == -ENOSYS ? -EOPNOTSUPP : r;
}
