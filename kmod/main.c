// SPDX-License-Identifier: GPL-2.0
/*
 * gochan: Go-style channels as file descriptors.
 *
 * This file is the module: /dev/gochan, where channels are made, and the
 * limits every channel is held to (module parameters).  The channel core is
 * chan.c; the channel file, file.c.  The ABI is include/uapi/linux/gochan.h.
 */
#include <linux/atomic.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "select.h"

/* --- Limits --- */

static unsigned int max_elem_size = GOCHAN_ELEM_SIZE_MAX;
static unsigned long max_chan_bytes = 16ul << 20;
static unsigned long max_total_bytes = 1ul << 30;
static unsigned long max_user_bytes = 256ul << 20;
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
module_param(max_user_bytes, ulong, 0644);
MODULE_PARM_DESC(max_user_bytes,
		 "Largest sum of the rings of one user's channels in bytes (default 256 MiB)");

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

/*
 * struct gochan_user - the rings of one user's channels, charged against
 * max_user_bytes as POSIX message queues are charged to their creator's
 * RLIMIT_MSGQUEUE: one user (/dev/gochan is 0666: any user) cannot take all
 * of max_total_bytes from the others.  A user is a real uid as the initial
 * user namespace sees it: making a user namespace makes no new user here.
 * Each channel with a ring holds a reference to its creator's.
 *
 * Locking: gochan_users_lock (a spinlock) protects the table and the drop
 * of a user's last reference; @bytes is atomic.
 */
struct gochan_user {
	struct hlist_node	node;		/* in gochan_users */
	kuid_t			uid;
	refcount_t		ref;		/* one per channel charged */
	atomic_long_t		bytes;		/* its channels' ring bytes */
};

static DEFINE_SPINLOCK(gochan_users_lock);
static DEFINE_HASHTABLE(gochan_users, 6);

static struct gochan_user *user_lookup(kuid_t uid)
{
	struct gochan_user *u;

	lockdep_assert_held(&gochan_users_lock);
	hash_for_each_possible(gochan_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid) && refcount_inc_not_zero(&u->ref))
			return u;
	return NULL;
}

/* The caller's user, referenced; NULL if out of memory. */
static struct gochan_user *user_get(void)
{
	kuid_t uid = current_uid();
	struct gochan_user *u, *new;

	spin_lock(&gochan_users_lock);
	u = user_lookup(uid);
	spin_unlock(&gochan_users_lock);
	if (u)
		return u;
	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return NULL;
	new->uid = uid;
	refcount_set(&new->ref, 1);
	spin_lock(&gochan_users_lock);
	u = user_lookup(uid);		/* made meanwhile by another task? */
	if (!u)
		hash_add(gochan_users, &new->node, __kuid_val(uid));
	spin_unlock(&gochan_users_lock);
	if (u)
		kfree(new);
	return u ?: new;
}

static void user_put(struct gochan_user *u)
{
	if (!refcount_dec_and_lock(&u->ref, &gochan_users_lock))
		return;
	hash_del(&u->node);
	spin_unlock(&gochan_users_lock);
	WARN_ON_ONCE(atomic_long_read(&u->bytes));
	kfree(u);
}

/* Add @bytes to @counter unless that passes @limit: 0 or -ENOSPC. */
static int charge_one(atomic_long_t *counter, size_t bytes, unsigned long limit)
{
	if (atomic_long_add_return(bytes, counter) > min(limit, (unsigned long)LONG_MAX)) {
		atomic_long_sub(bytes, counter);
		return -ENOSPC;
	}
	return 0;
}

/**
 * gochan_charge - reserve a ring's bytes for the calling user's new channel.
 * @bytes: the ring's size
 * @userp: gets the user charged, for gochan_uncharge() (NULL if @bytes is 0)
 *
 * Against max_user_bytes for the caller's user, and max_total_bytes for
 * all.  Returns 0, -ENOSPC or -ENOMEM.
 */
int gochan_charge(size_t bytes, struct gochan_user **userp)
{
	struct gochan_user *u;
	int err;

	*userp = NULL;
	if (!bytes)
		return 0;
	u = user_get();
	if (!u)
		return -ENOMEM;
	err = charge_one(&u->bytes, bytes, READ_ONCE(max_user_bytes));
	if (err)
		goto err_put;
	err = charge_one(&total_bytes, bytes, READ_ONCE(max_total_bytes));
	if (err)
		goto err_uncharge_user;
	*userp = u;
	return 0;

err_uncharge_user:
	atomic_long_sub(bytes, &u->bytes);
err_put:
	user_put(u);
	return err;
}

/* Give back what gochan_charge() reserved. */
void gochan_uncharge(struct gochan_user *user, size_t bytes)
{
	if (!user)
		return;
	atomic_long_sub(bytes, &total_bytes);
	atomic_long_sub(bytes, &user->bytes);
	user_put(user);
}

/* --- /dev/gochan --- */

static long gochan_ioctl_create(void __user *argp)
{
	struct gochan_create cr;
	struct gochan_chan *c;
	struct file *file;
	int accmode, fd, err;

	err = gochan_copy_struct_from_user(&cr, sizeof(cr),
					   GOCHAN_CREATE_SIZE_VER0, argp);
	if (err)
		return err;
	if (cr.flags & ~GOCHAN_CREATE_FLAGS ||
	    cr.reserved[0] || cr.reserved[1] || cr.reserved[2])
		return -EINVAL;
	switch (cr.flags & (GOCHAN_CREATE_SEND | GOCHAN_CREATE_RECV)) {
	case GOCHAN_CREATE_SEND:
		accmode = O_WRONLY;
		break;
	case GOCHAN_CREATE_RECV:
		/* No sender, so none would ever be the last to go. */
		if (cr.flags & GOCHAN_CREATE_CLOSE_ON_LAST_SENDER)
			return -EINVAL;
		accmode = O_RDONLY;
		break;
	default:			/* both, or neither: both */
		accmode = O_RDWR;
		break;
	}

	c = gochan_chan_create(cr.elem_size, cr.capacity);
	/* Rings only names nobody can reach any more hold go first. */
	if (c == ERR_PTR(-ENOSPC) && gochan_names_reap())
		c = gochan_chan_create(cr.elem_size, cr.capacity);
	if (IS_ERR(c))
		return PTR_ERR(c);
	/* Before the channel has a file: nobody else can see it yet. */
	c->close_on_last_sender = cr.flags & GOCHAN_CREATE_CLOSE_ON_LAST_SENDER;
	fd = gochan_chan_prepare_fd(c, cr.flags, accmode, &file);
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
	BUILD_BUG_ON(sizeof(struct gochan_dup) != GOCHAN_DUP_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct gochan_uring_cmd) != 16);

	return misc_register(&gochan_misc);
}

static void __exit gochan_exit(void)
{
	misc_deregister(&gochan_misc);
	gochan_uring_exit();
	gochan_names_exit();
	/* Every channel held a module reference through its file. */
	WARN_ON(atomic_long_read(&total_bytes));
	WARN_ON(!hash_empty(gochan_users));
}

module_init(gochan_init);
module_exit(gochan_exit);

MODULE_DESCRIPTION("Go-style channels as file descriptors");
MODULE_AUTHOR("The gochan authors");
MODULE_LICENSE("GPL");
