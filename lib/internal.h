/* SPDX-License-Identifier: MIT */
#ifndef GOCHAN_LIB_INTERNAL_H
#define GOCHAN_LIB_INTERNAL_H

/*
 * Internals shared by the library's sources, grouped by the file that
 * defines them.  Nothing here is installed.
 *
 * The library is built with -fvisibility=hidden: a function is exported
 * only when its definition carries GOCHAN_API *and* lib/libgochan.map
 * lists it under a version node.  Internal functions are named _gochan_*.
 */

#include <errno.h>

#define GOCHAN_API	__attribute__((visibility("default")))

/*
 * Every public function leaves errno as it found it (see <gochan/kchan.h>):
 *
 *	int saved = errno;
 *	... ret = -errno after a failed system call ...
 *	errno = saved;
 */

/* ---- lib/sched/netpoll.c, for lib/chan ---------------------------------------------------- */

#include <stdint.h>

struct go_g;
struct gochan_select_case;

/*
 * _go_kcmd_done_fn - a detached kernel command's completion.
 * @res: the CQE's res: GOCHAN_SELECT_RES_* bits, or -errno: -ECANCELED once
 *       cancelled (GOCHAN_IOC_CANCEL, or go_run ending), -EOPNOTSUPP if the
 *       module has no io_uring commands.
 * Called exactly once, by whichever thread reaps the completion (perhaps
 * sysmon's, which has no P): atomics only, no lock, no scheduler call.
 * Returns a parked goroutine to make runnable (as go_ready would), or NULL.
 */
typedef struct go_g *(*_go_kcmd_done_fn)(void *arg, int res);

/*
 * _go_kselect_submit - queue the kernel's select over cases[0..n) as an
 * io_uring command, without a deadline, and return without parking: done(arg,
 * res) reports its end.  The command waits on cases[0].fd's channel, where
 * gochan_cancel(cases[0].fd, key, false) finds it.  The kernel reads cases and
 * the send values before this returns.
 * Returns 0 (queued, or completed: done will be called); -EOPNOTSUPP without
 * io_uring or its commands (nothing submitted); -EINVAL (n == 0); -ENOMEM;
 * -EAGAIN (the submission queue is full).
 */
int _go_kselect_submit(const struct gochan_select_case *cases, unsigned n, uint64_t key,
		       _go_kcmd_done_fn done, void *arg);

#endif /* GOCHAN_LIB_INTERNAL_H */
