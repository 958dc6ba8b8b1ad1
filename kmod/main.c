// SPDX-License-Identifier: GPL-2.0
/*
 * gochan: Go-style channels as file descriptors.
 *
 * This file is the module: /dev/gochan, where channels are made, and the
 * limits every channel is held to (module parameters).  The channel core is
 * chan.c; the channel file, file.c.  The ABI is include/uapi/linux/gochan.h.
 */
#include <linux/atomic.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "gochan.h"
#include "select.h"

/* --- Limits --- */

static unsigned int max_elem_size = GOCHAN_ELEM_SIZE_MAX;
static unsigned long max_chan_bytes = 16ul << 20;
static unsigned long max_total_bytes = 1ul << 30;
static atomic_long_t total_bytes = ATOMIC_LONG_INIT(0);

static int param_set_elem_size(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int err = kstrtouint(val, 0, &v);

	if (err)
		return err;
	if (v > GOCHAN_ELEM_SIZE_MAX)
		return -EINVAL;
	WRITE_ONCE(max_elem_size, v);
	return 0;
}

static const struct kernel_param_ops elem_size_ops = {
	.set	= param_set_elem_size,
	.get	= param_get_uint,
};

module_param_cb(max_elem_size, &elem_size_ops, &max_elem_size, 0644);
MODULE_PARM_DESC(max_elem_size,
		 "Largest element size in bytes, at most 65536 (default 65536)");
module_param(max_chan_bytes, ulong, 0644);
MODULE_PARM_DESC(max_chan_bytes,
		 "Largest ring of one channel in bytes; a signal channel's slots count 1 byte (default 16 MiB)");
module_param(max_total_bytes, ulong, 0644);
MODULE_PARM_DESC(max_total_bytes,
		 "Largest sum of all channels' rings in bytes (default 1 GiB)");

/* --- Debugging --- */

DEFINE_STATIC_KEY_FALSE(gochan_poison_key);	/* see gochan_poison() */
static bool poison_freed;

static int param_set_poison(const char *val, const struct kernel_param *kp)
{
	bool on;
	int err = kstrtobool(val, &on);

	if (err)
		return err;
	if (on)
		static_branch_enable(&gochan_poison_key);
	else
		static_branch_disable(&gochan_poison_key);
	WRITE_ONCE(poison_freed, on);
	return 0;
}

static const struct kernel_param_ops poison_ops = {
	.set	= param_set_poison,
	.get	= param_get_bool,
};

module_param_cb(poison_freed, &poison_ops, &poison_freed, 0644);
MODULE_PARM_DESC(poison_freed,
		 "Debug: fill element buffers with 0xc7 bytes as they are freed, so a stale read shows (default 0)");

u32 gochan_max_elem_size(void)
{
	return READ_ONCE(max_elem_size);
}

size_t gochan_max_chan_bytes(void)
{
	return READ_ONCE(max_chan_bytes);
}

/* Reserve @bytes of ring against max_total_bytes: 0 or -ENOSPC. */
int gochan_charge_total(size_t bytes)
{
	long limit = min_t(unsigned long, READ_ONCE(max_total_bytes), LONG_MAX);

	if (atomic_long_add_return(bytes, &total_bytes) > limit) {
		atomic_long_sub(bytes, &total_bytes);
		return -ENOSPC;
	}
	return 0;
}

void gochan_uncharge_total(size_t bytes)
{
	atomic_long_sub(bytes, &total_bytes);
}

/* --- /dev/gochan --- */

static long gochan_ioctl_create(void __user *argp)
{
	struct gochan_create cr;
	struct gochan_chan *c;
	struct file *file;
	int fd, err;

	err = gochan_copy_struct_from_user(&cr, sizeof(cr),
					   GOCHAN_CREATE_SIZE_VER0, argp);
	if (err)
		return err;
	if (cr.flags & ~GOCHAN_CREATE_FLAGS ||
	    cr.reserved[0] || cr.reserved[1] || cr.reserved[2])
		return -EINVAL;

	c = gochan_chan_create(cr.elem_size, cr.capacity);
	/* Rings only names nobody can reach any more hold go first. */
	if (c == ERR_PTR(-ENOSPC) && gochan_names_reap())
		c = gochan_chan_create(cr.elem_size, cr.capacity);
	if (IS_ERR(c))
		return PTR_ERR(c);
	fd = gochan_chan_install_fd(c, cr.flags, O_RDWR, &file);
	gochan_chan_put(c);		/* the file has its own reference now */
	if (fd < 0)
		return fd;

	cr.id = c->id;
	err = gochan_copy_struct_to_user(argp, &cr, sizeof(cr));
	if (err) {
		put_unused_fd(fd);
		fput(file);
		return err;
	}
	fd_install(fd, file);
	return fd;
}

static long gochan_dev_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	switch (cmd) {
	case GOCHAN_IOC_CREATE:
		return gochan_ioctl_create((void __user *)arg);
	case GOCHAN_IOC_SELECT:
		return gochan_ioctl_select((void __user *)arg);
	case GOCHAN_IOC_SELSET:
		return gochan_ioctl_selset((void __user *)arg);
	case GOCHAN_IOC_OPEN:
		return gochan_ioctl_open((void __user *)arg);
	case GOCHAN_IOC_UNLINK:
		return gochan_ioctl_unlink((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

/* read(2) on /dev/gochan lists the names of the reader's IPC namespace. */
static int gochan_dev_open(struct inode *inode, struct file *file)
{
	/* misc_open() left the miscdevice here; seq_open() wants it empty. */
	file->private_data = NULL;
	return single_open(file, gochan_names_show, NULL);
}

static const struct file_operations gochan_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= gochan_dev_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.unlocked_ioctl	= gochan_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= single_release,
};

static struct miscdevice gochan_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "gochan",
	.fops	= &gochan_dev_fops,
	.mode	= 0666,
};

static int __init gochan_init(void)
{
	BUILD_BUG_ON(sizeof(struct gochan_create) != GOCHAN_CREATE_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct gochan_xfer) != GOCHAN_XFER_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct gochan_stat) != GOCHAN_STAT_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct gochan_select) != GOCHAN_SELECT_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct gochan_select_case) != GOCHAN_SELECT_CASE_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct gochan_selset) != GOCHAN_SELSET_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct gochan_open) != GOCHAN_OPEN_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct gochan_unlink) != GOCHAN_UNLINK_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct gochan_cancel) != GOCHAN_CANCEL_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct gochan_uring_cmd) != 16);

	return misc_register(&gochan_misc);
}

static void __exit gochan_exit(void)
{
	misc_deregister(&gochan_misc);
	gochan_names_exit();
	/* Every channel held a module reference through its file. */
	WARN_ON(atomic_long_read(&total_bytes));
}

module_init(gochan_init);
module_exit(gochan_exit);

MODULE_DESCRIPTION("Go-style channels as file descriptors");
MODULE_AUTHOR("The gochan authors");
MODULE_LICENSE("GPL");
