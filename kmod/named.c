// SPDX-License-Identifier: GPL-2.0
/*
 * Named channels: GOCHAN_IOC_OPEN / GOCHAN_IOC_UNLINK, and the listing that
 * read(2) on /dev/gochan gives.
 *
 * Every name of every IPC namespace is in one hash table, keyed by the name
 * and by the namespace's mqueue mount (ipc_ns->mq_mnt).  A module cannot
 * hold the namespace itself (put_ipc_ns() is not exported on 6.1, and a
 * reference would keep it alive), so each namespace with names has a
 * struct gochan_ipcns holding a reference to that vfsmount instead: it
 * cannot be freed, so a namespace made later never gets the same key, and
 * names never leak between namespaces.
 *
 * A namespace that dies leaves its names unreachable: nobody can open or
 * unlink them any more, yet they would hold their channels, and their rings'
 * share of max_total_bytes, until the module is unloaded; an unprivileged
 * unshare(CLONE_NEWUSER | CLONE_NEWIPC) would do for a lasting ENOSPC.  So
 * they are freed once their namespace has died (names_reap()): before any
 * OPEN does its work, for the listing, and when a CREATE finds the budget
 * spent.  A namespace is dead once put_ipc_ns() has cleared
 * mq_mnt->mnt_sb->s_fs_info (mq_clear_sbinfo(), under mq_lock, when its
 * last reference goes; 6.1 and 6.12 alike): the superblock lives on for
 * our mount reference, and its s_fs_info never becomes non-NULL again.
 *
 * Locking: gochan_names_lock (a mutex) protects the table, the list of
 * namespaces and every gochan_name and gochan_ipcns.  It nests outside the
 * channel locks (the listing reads each channel's stat under it); nothing
 * takes it under a channel lock.
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

#include "internal.h"

/* An IPC namespace that has names. */
struct gochan_ipcns {
	struct list_head	node;		/* in gochan_ipcnses */
	struct vfsmount		*mnt;		/* its mq_mnt; referenced */
	struct list_head	names;		/* gochan_name.ns_node */
};

struct gochan_name {
	struct hlist_node	node;		/* in gochan_names */
	struct gochan_ipcns	*ns;		/* its namespace */
	struct list_head	ns_node;	/* in ns->names */
	struct gochan_chan	*c;		/* referenced */
	kuid_t			uid, cuid;	/* owner, creator */
	kgid_t			gid, cgid;
	umode_t			mode;		/* 0..0777 */
	u32			hash;
	char			name[GOCHAN_NAME_MAX];
};

static DEFINE_MUTEX(gochan_names_lock);
static DEFINE_HASHTABLE(gochan_names, 8);
static LIST_HEAD(gochan_ipcnses);

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
		if (n->ns->mnt == mnt && !strcmp(n->name, name))
			return n;
	return NULL;
}

/* The record of the namespace of @mnt, made if needed (NULL: no memory). */
static struct gochan_ipcns *ipcns_get(struct vfsmount *mnt)
{
	struct gochan_ipcns *ns;

	lockdep_assert_held(&gochan_names_lock);
	list_for_each_entry(ns, &gochan_ipcnses, node)
		if (ns->mnt == mnt)
			return ns;
	ns = kzalloc(sizeof(*ns), GFP_KERNEL_ACCOUNT);
	if (!ns)
		return NULL;
	ns->mnt = mntget(mnt);
	INIT_LIST_HEAD(&ns->names);
	list_add(&ns->node, &gochan_ipcnses);
	return ns;
}

/* Forget @ns once it has no names. */
static void ipcns_put_if_empty(struct gochan_ipcns *ns)
{
	lockdep_assert_held(&gochan_names_lock);
	if (!list_empty(&ns->names))
		return;
	list_del(&ns->node);
	mntput(ns->mnt);
	kfree(ns);
}

/* Whether the namespace of @ns has died (see the top of this file). */
static bool ipcns_dead(const struct gochan_ipcns *ns)
{
	return !READ_ONCE(ns->mnt->mnt_sb->s_fs_info);
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

/* Take @n out of the table; name_free() it once the lock is dropped. */
static void name_del(struct gochan_name *n)
{
	lockdep_assert_held(&gochan_names_lock);
	hash_del(&n->node);
	list_del(&n->ns_node);
	ipcns_put_if_empty(n->ns);
	n->ns = NULL;
}

static void name_free(struct gochan_name *n)
{
	gochan_chan_put(n->c);
	kfree(n);
}

/*
 * Take the names of every dead namespace out of the table, onto @dead (to
 * be freed with names_free() once the lock is dropped: freeing a channel
 * may take its lock).
 */
static void names_reap(struct list_head *dead)
{
	struct gochan_ipcns *ns, *ns_tmp;
	struct gochan_name *n;

	lockdep_assert_held(&gochan_names_lock);
	list_for_each_entry_safe(ns, ns_tmp, &gochan_ipcnses, node) {
		if (!ipcns_dead(ns))
			continue;
		/*
		 * Not name_del() one by one: the last one would free @ns
		 * while this walk still reads its list head.
		 */
		list_for_each_entry(n, &ns->names, ns_node) {
			hash_del(&n->node);
			n->ns = NULL;
		}
		list_splice_tail_init(&ns->names, dead);
		ipcns_put_if_empty(ns);
	}
}

static void names_free(struct list_head *dead)
{
	struct gochan_name *n, *tmp;

	list_for_each_entry_safe(n, tmp, dead, ns_node)
		name_free(n);
}

/**
 * gochan_names_reap - free the names of IPC namespaces that have died.
 *
 * Before an OPEN, and for a CREATE that found max_total_bytes (or its
 * user's share) spent: returns true if a name was freed, so that the
 * create may try again.
 */
bool gochan_names_reap(void)
{
	LIST_HEAD(dead);

	mutex_lock(&gochan_names_lock);
	names_reap(&dead);
	mutex_unlock(&gochan_names_lock);
	if (list_empty(&dead))
		return false;
	names_free(&dead);
	return true;
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
		bool es_differs = op->elem_size != n->c->elem_size;
		bool cap_differs = op->capacity != n->c->capacity;

		err = -EEXIST;
		if ((op->flags & GOCHAN_OPEN_CREATE) &&
		    (op->flags & GOCHAN_OPEN_EXCL))
			goto out_unlock;
		/* The type the caller expects (the check asked for by a flag
		 * fails with its own errno, CREATE's older one with EINVAL). */
		err = -EPROTOTYPE;
		if (((op->flags & GOCHAN_OPEN_EXPECT_ELEM_SIZE) && es_differs) ||
		    ((op->flags & GOCHAN_OPEN_EXPECT_CAPACITY) && cap_differs))
			goto out_unlock;
		err = -EINVAL;
		if ((op->flags & GOCHAN_OPEN_CREATE) && (es_differs || cap_differs))
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
	n->ns = ipcns_get(mnt);
	if (!n->ns) {
		kfree(n);
		goto out_unlock;
	}
	c = gochan_chan_create(op->elem_size, op->capacity);
	if (IS_ERR(c)) {
		ipcns_put_if_empty(n->ns);
		kfree(n);
		err = PTR_ERR(c);
		goto out_unlock;
	}
	n->c = c;
	n->uid = n->cuid = current_euid();
	n->gid = n->cgid = current_egid();
	n->mode = op->mode;
	n->hash = hash;
	strscpy(n->name, name, sizeof(n->name));
	hash_add(gochan_names, &n->node, hash);
	list_add_tail(&n->ns_node, &n->ns->names);
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
		name_del(n);
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
	/* Without CREATE, a field is read only if a flag says it states
	 * the type expected: else it must be 0. */
	if (!(op.flags & GOCHAN_OPEN_CREATE) &&
	    (op.mode ||
	     (op.elem_size && !(op.flags & GOCHAN_OPEN_EXPECT_ELEM_SIZE)) ||
	     (op.capacity && !(op.flags & GOCHAN_OPEN_EXPECT_CAPACITY))))
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

	/* Dead namespaces' rings go before this one may need the room. */
	gochan_names_reap();
	c = name_open(&op, name, want, &created);
	if (IS_ERR(c))
		return PTR_ERR(c);
	fd = gochan_chan_prepare_fd(c, create_flags,
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
	name_del(n);
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
	LIST_HEAD(dead);

	seq_puts(m, "# NAME ID ELEM_SIZE CAPACITY LEN CLOSED MODE UID GID\n");
	mutex_lock(&gochan_names_lock);
	names_reap(&dead);
	hash_for_each(gochan_names, bkt, n, node) {
		struct gochan_stat st = {};

		if (n->ns->mnt != mnt)
			continue;
		gochan_chan_stat(n->c, &st);
		seq_printf(m, "%s %llu %u %u %u %u %03o %u %u\n", n->name,
			   st.id, st.elem_size, st.capacity, st.len,
			   !!(st.flags & GOCHAN_STAT_CLOSED), n->mode,
			   from_kuid_munged(uns, n->uid),
			   from_kgid_munged(uns, n->gid));
	}
	mutex_unlock(&gochan_names_lock);
	names_free(&dead);
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
		name_del(n);
		name_free(n);
	}
	mutex_unlock(&gochan_names_lock);
}
