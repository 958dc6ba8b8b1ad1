// SPDX-License-Identifier: GPL-2.0
/*
 * Stall points of a GOCHAN_DEBUG build, for the selftests that force a race
 * (see debug.h).  Not built otherwise.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>

#include "debug.h"

static int stall_point;		/* armed point; the first passer clears it */
static unsigned int stall_ms = 1000;
static atomic_t stalled = ATOMIC_INIT(0);

module_param(stall_point, int, 0600);
MODULE_PARM_DESC(stall_point,
		 "Debug build: stall the next task passing this point (0 = none)");
module_param(stall_ms, uint, 0600);
MODULE_PARM_DESC(stall_ms, "Debug build: how long a stall lasts, in ms");

static int stalled_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&stalled));
}

static const struct kernel_param_ops stalled_ops = {
	.get	= stalled_get,
};
module_param_cb(stalled, &stalled_ops, NULL, 0400);
MODULE_PARM_DESC(stalled, "Debug build: tasks stalled since load");

void gochan_stall(enum gochan_stall_point point)
{
	/* One task per arming: the one whose cmpxchg disarms it. */
	if (likely(READ_ONCE(stall_point) != point) ||
	    cmpxchg(&stall_point, point, GOCHAN_STALL_NONE) != point)
		return;
	atomic_inc(&stalled);
	msleep(READ_ONCE(stall_ms));
}
