// SPDX-License-Identifier: GPL-2.0
/*
 * Named channels: GOCHAN_IOC_OPEN / GOCHAN_IOC_UNLINK, and the listing that
 * read(2) on /dev/gochan gives.
 *
 * Every name of every IPC namespace is in one hash table, keyed by the name
 * and by the namespace's mqueue mount (ipc_ns->mq_mnt), of which each name
 * holds a reference.  A module cannot hold the namespace itself (put_ipc_ns()
 * is not exported), but the vfsmount it holds cannot be freed, so a
 * namespace made later never gets the same key: names never leak between
 * namespaces.  The cost is that names left in a namespace that has died stay
 * here until the module is unloaded.
 *
 * Locking: gochan_names_lock (a mutex) protects the table and every
 * gochan_name in it.  It nests outside the channel locks (the listing reads
 * each channel's stat under it); nothing takes it under a channel lock.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/hashtable.h>
#include <linux/ipc_namespace.h>
#include <linux/jhash.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "gochan.h"

struct gochan_name {
	struct hlist_node	node;		/* in gochan_names */
	struct vfsmount		*ns_mnt;	/* the namespace's; referenced */
	struct gochan_chan	*c;		/* referenced */
	kuid_t			uid, cuid;	/* owner, creator */
	kgid_t			gid, cgid;
	umode_t			mode;		/* 0..0777 */
	u32			hash;
	char			name[GOCHAN_NAME_MAX];
};

static DEFINE_MUTEX(gochan_names_lock);
static DEFINE_HASHTABLE(gochan_names, 8);

static struct ipc_namespace *current_ipc_ns(void)
{
	return current->nsproxy->ipc_ns;
}

/* Copy in and check a name: printable ASCII, no space, not empty. */
static int name_from_user(char *name, u64 uname)
{
	long len = strncpy_from_user(name, u64_to_user_ptr(uname),
				     GOCHAN_NAME_MAX);
	long i;

	if (len < 0)
		return len;
	if (len == GOCHAN_NAME_MAX)
		return -ENAMETOOLONG;
	if (!len)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return -EINVAL;
	return 0;
}

static u32 name_hash(const char *name, struct vfsmount *mnt)
{
	return jhash(name, strlen(name), (u32)(unsigned long)mnt);
}

static struct gochan_name *name_lookup(const char *name, struct vfsmount *mnt,
				       u32 hash)
{
	struct gochan_name *n;

	lockdep_assert_held(&gochan_names_lock);
	hash_for_each_possible(gochan_names, n, node, hash)
		if (n->ns_mnt == mnt && !strcmp(n->name, name))
			return n;
	return NULL;
}

/* System V's ipcperms(): @want is 4 (receive), 2 (send) or both. */
static int name_permission(const struct gochan_name *n, int want)
{
	kuid_t euid = current_euid();
	int granted = n->mode;

	if (uid_eq(euid, n->cuid) || uid_eq(euid, n->uid))
		granted >>= 6;
	else if (in_group_p(n->cgid) || in_group_p(n->gid))
		granted >>= 3;
	if ((want & ~granted & 0007) &&
	    !ns_capable(current_ipc_ns()->user_ns, CAP_IPC_OWNER))
		return -EACCES;
	return 0;
}

static void name_free(struct gochan_name *n)
{
	gochan_chan_put(n->c);
	mntput(n->ns_mnt);
	kfree(n);
}

/*
 * Find or make the name's channel.  Returns it referenced, with *created
 * saying whether this call made the name, or an ERR_PTR.
 */
static struct gochan_chan *name_open(const struct gochan_open *op,
				     const char *name, int want, bool *created)
{
	struct vfsmount *mnt = current_ipc_ns()->mq_mnt;
	u32 hash = name_hash(name, mnt);
	struct gochan_chan *c;
	struct gochan_name *n;
	int err;

	*created = false;
	mutex_lock(&gochan_names_lock);
	n = name_lookup(name, mnt, hash);
	if (n) {
		err = -EEXIST;
		if ((op->flags & GOCHAN_OPEN_CREATE) &&
		    (op->flags & GOCHAN_OPEN_EXCL))
			goto out_unlock;
		err = -EINVAL;
		if ((op->flags & GOCHAN_OPEN_CREATE) &&
		    (op->elem_size != n->c->elem_size ||
		     op->capacity != n->c->capacity))
			goto out_unlock;
		err = name_permission(n, want);
		if (err)
			goto out_unlock;
		gochan_chan_get(n->c);
		c = n->c;
		goto out_unlock_ok;
	}

	err = -ENOENT;
	if (!(op->flags & GOCHAN_OPEN_CREATE))
		goto out_unlock;
	n = kzalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	err = -ENOMEM;
	if (!n)
		goto out_unlock;
	c = gochan_chan_create(op->elem_size, op->capacity);
	if (IS_ERR(c)) {
		kfree(n);
		err = PTR_ERR(c);
		goto out_unlock;
	}
	n->c = c;
	n->ns_mnt = mntget(mnt);
	n->uid = n->cuid = current_euid();
	n->gid = n->cgid = current_egid();
	n->mode = op->mode;
	n->hash = hash;
	strscpy(n->name, name, sizeof(n->name));
	hash_add(gochan_names, &n->node, hash);
	gochan_chan_get(c);		/* the caller's; the name has its own */
	*created = true;
out_unlock_ok:
	mutex_unlock(&gochan_names_lock);
	return c;
out_unlock:
	mutex_unlock(&gochan_names_lock);
	return ERR_PTR(err);
}

/* Undo a name this call made, if it still is the one it made. */
static void name_unmake(const char *name, struct gochan_chan *c)
{
	struct vfsmount *mnt = current_ipc_ns()->mq_mnt;
	struct gochan_name *n;

	mutex_lock(&gochan_names_lock);
	n = name_lookup(name, mnt, name_hash(name, mnt));
	if (n && n->c == c)
		hash_del(&n->node);
	else
		n = NULL;
	mutex_unlock(&gochan_names_lock);
	if (n)
		name_free(n);
}

long gochan_ioctl_open(void __user *argp)
{
	char name[GOCHAN_NAME_MAX];
	struct gochan_open op;
	struct gochan_chan *c;
	struct file *file;
	bool created;
	int want = 0, fd, err;
	u32 create_flags = 0;

	err = gochan_copy_struct_from_user(&op, sizeof(op),
					   GOCHAN_OPEN_SIZE_VER0, argp);
	if (err)
		return err;
	if (op.flags & ~GOCHAN_OPEN_FLAGS || op.reserved0 ||
	    op.reserved[0] || op.reserved[1] || op.mode & ~0777u ||
	    ((op.flags & GOCHAN_OPEN_EXCL) && !(op.flags & GOCHAN_OPEN_CREATE)))
		return -EINVAL;
	if (!(op.flags & GOCHAN_OPEN_CREATE) &&
	    (op.mode || op.elem_size || op.capacity))
		return -EINVAL;
	err = name_from_user(name, op.name);
	if (err)
		return err;

	if (op.flags & GOCHAN_OPEN_RECV)
		want |= 4;
	if (op.flags & GOCHAN_OPEN_SEND)
		want |= 2;
	if (!want)
		want = 6;
	if (op.flags & GOCHAN_OPEN_CLOEXEC)
		create_flags |= GOCHAN_CREATE_CLOEXEC;
	if (op.flags & GOCHAN_OPEN_NONBLOCK)
		create_flags |= GOCHAN_CREATE_NONBLOCK;

	c = name_open(&op, name, want, &created);
	if (IS_ERR(c))
		return PTR_ERR(c);
	fd = gochan_chan_install_fd(c, create_flags,
				    want == 6 ? O_RDWR : want == 4 ? O_RDONLY : O_WRONLY,
				    &file);
	gochan_chan_put(c);		/* the file has its own reference now */
	if (fd < 0) {
		err = fd;
		goto err_unmake;
	}
	op.id = c->id;
	err = gochan_copy_struct_to_user(argp, &op, sizeof(op));
	if (err) {
		put_unused_fd(fd);
		fput(file);
		goto err_unmake;
	}
	fd_install(fd, file);
	return fd;

err_unmake:
	/* A failed call leaves no name behind that it made itself. */
	if (created)
		name_unmake(name, c);
	return err;
}

long gochan_ioctl_unlink(void __user *argp)
{
	struct vfsmount *mnt = current_ipc_ns()->mq_mnt;
	char name[GOCHAN_NAME_MAX];
	struct gochan_unlink ul;
	struct gochan_name *n;
	kuid_t euid = current_euid();
	int err;

	err = gochan_copy_struct_from_user(&ul, sizeof(ul),
					   GOCHAN_UNLINK_SIZE_VER0, argp);
	if (err)
		return err;
	if (ul.flags || ul.reserved[0] || ul.reserved[1])
		return -EINVAL;
	err = name_from_user(name, ul.name);
	if (err)
		return err;

	mutex_lock(&gochan_names_lock);
	n = name_lookup(name, mnt, name_hash(name, mnt));
	err = -ENOENT;
	if (!n)
		goto out_unlock;
	err = -EPERM;
	if (!uid_eq(euid, n->cuid) && !uid_eq(euid, n->uid) &&
	    !ns_capable(current_ipc_ns()->user_ns, CAP_SYS_ADMIN))
		goto out_unlock;
	hash_del(&n->node);
	err = 0;
out_unlock:
	mutex_unlock(&gochan_names_lock);
	if (!err)
		name_free(n);
	return err;
}

/* read(2) on /dev/gochan: the names of the reader's IPC namespace. */
int gochan_names_show(struct seq_file *m, void *v)
{
	struct vfsmount *mnt = current_ipc_ns()->mq_mnt;
	struct user_namespace *uns = current_user_ns();
	struct gochan_name *n;
	unsigned int bkt;

	seq_puts(m, "# NAME ID ELEM_SIZE CAPACITY LEN CLOSED MODE UID GID\n");
	mutex_lock(&gochan_names_lock);
	hash_for_each(gochan_names, bkt, n, node) {
		struct gochan_stat st = {};

		if (n->ns_mnt != mnt)
			continue;
		gochan_chan_stat(n->c, &st);
		seq_printf(m, "%s %llu %u %u %u %u %03o %u %u\n", n->name,
			   st.id, st.elem_size, st.capacity, st.len,
			   !!(st.flags & GOCHAN_STAT_CLOSED), n->mode,
			   from_kuid_munged(uns, n->uid),
			   from_kgid_munged(uns, n->gid));
	}
	mutex_unlock(&gochan_names_lock);
	return 0;
}

/* Module exit: every name goes (no channel file is open by then). */
void gochan_names_exit(void)
{
	struct gochan_name *n;
	struct hlist_node *tmp;
	unsigned int bkt;

	mutex_lock(&gochan_names_lock);
	hash_for_each_safe(gochan_names, bkt, tmp, n, node) {
		hash_del(&n->node);
		name_free(n);
	}
	mutex_unlock(&gochan_names_lock);
}
