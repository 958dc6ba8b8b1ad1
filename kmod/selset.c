// SPDX-License-Identifier: GPL-2.0
/*
 * Select sets (GOCHAN_IOC_SELSET): a select's cases registered once, so
 * that running the select again costs O(cases that became ready), not
 * O(cases), when one is ready.
 *
 * A set hooks each distinct channel among its cases (struct gochan_hook,
 * the set's counterpart of the wait queue entry epoll hooks on its items'
 * poll wait queues).  Every change that can make a channel ready for a
 * receive or a send calls gochan_poll_wake() with the readiness it may have
 * created (the poll mask: chan.c keeps this promise for edge-triggered
 * epoll), and the hook marks the matching cases in the set's @hint bitmap.
 * A hook asks only for the wakeups its cases care about: a receive-only set
 * costs a receive, which makes room for senders, nothing.  A select on the set looks at the marked cases only,
 * in a random order, trying each under its own channel's lock (select.c's
 * sel_try_case()), and the first found ready runs.
 *
 * Hints.
 *  - A case that is ready has its hint set, except (a) between the change
 *    that made it ready (under the channel lock) and that change's wakeup
 *    (after the unlock), and (b) while a select on this set has cleared it
 *    to try the case and not yet set it again.
 *  - A hint is cleared before its case is looked at, with a full barrier in
 *    between, and gochan_poll_wake() puts a full barrier between a change
 *    and its hooks: either the look sees the change, or the
 *    hook sets the hint again after the clear.
 *  - A hint may be stale (another process took the element first); the
 *    select that finds its case not ready leaves it cleared.
 *  So a hinted case found ready is a correct choice, but no hint found
 *  ready proves nothing: a change another task already saw (a sender's
 *  GOCHAN_IOC_STAT shows it waiting) may not have woken the hook yet.  A
 *  NONBLOCK select then looks at every case without locks, as
 *  sel_case_looks_ready() does: a change that happened before the call is
 *  seen there, so none looking ready means none is (EAGAIN).  Otherwise,
 *  and always before it waits, a select runs select.c's full select over
 *  the set's cases: that one is the authority, hints only make it rarer.
 *
 * Uniform choice: each pick is uniform among the hints still set, and a pick
 * found not ready is dropped, so the marked cases are tried in a uniformly
 * random order; every ready case is marked, so each is equally likely to be
 * the first ready one in that order (Go's pollorder argument).
 *
 * Lifetime and locking: the set's cases never change after creation, so
 * selects read them without a lock.  The set holds a reference to every
 * case's channel file (in @reg), so the channels outlive the hooks.
 * Release unhooks first (gochan_hook_del() takes the channel's hooks_lock,
 * so no hook runs after it), then drops the files.  Hooks run under a
 * channel's hooks_lock: they only set bits and wake the set's own poll_wq.
 */
#include <linux/anon_inodes.h>
#include <linux/bitmap.h>
#include <linux/bsearch.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "gochan_trace.h"
#include "select.h"

/* A select set's hook on one channel: the cases on that channel. */
struct selset_hook {
	struct gochan_hook	hook;		/* on c->hooks */
	struct selset	*set;
	struct gochan_chan	*c;
	u32			first;		/* its cases are set->hook_cases */
	u32			n;		/*   [first, first + n) */
};

struct selset {
	struct gochan_sel	reg;		/* the cases (files referenced)
						 * and their lockorder */
	struct selset_hook	*hooks;		/* one per reg.lockorder entry */
	u32			nhooked;	/* hooks on a wait queue */
	u32			*hook_cases;	/* case indices, by hook */
	unsigned long		*hint;		/* a bit per case, see above:
						 * set_bit() by wakers,
						 * test_and_clear_bit() by
						 * selectors; a scan or count
						 * of it is a racy look
						 * (data_race()), acted on
						 * only through those two */
	u32			elem_max;	/* largest element of the cases */
	wait_queue_head_t	poll_wq;	/* poll/epoll on the set fd */
};

/* Receive elements up to this size go through the stack, not kmalloc. */
#define SELSET_STACK_BUF	128

/* The poll bits that may make case @sc ready. */
static __poll_t selset_case_mask(const struct sel_case *sc)
{
	return EPOLLHUP | (sc->send ? EPOLLOUT | EPOLLWRNORM :
				      EPOLLIN | EPOLLRDNORM);
}

/* Mark case @i as perhaps ready, and tell the set's pollers. */
static void selset_hint(struct selset *set, u32 i)
{
	if (!test_bit(i, set->hint))
		set_bit(i, set->hint);
	/* wq_has_sleeper()'s barrier pairs with the one after selset_poll()'s
	 * poll_wait(). */
	if (wq_has_sleeper(&set->poll_wq))
		wake_up_poll(&set->poll_wq, EPOLLIN | EPOLLRDNORM);
}

/* Readiness @mask may have appeared on a channel: mark the cases it concerns. */
static void selset_hook_wake(struct gochan_hook *hook, __poll_t mask)
{
	struct selset_hook *h = container_of(hook, struct selset_hook, hook);
	struct selset *set = h->set;
	u32 i;

	for (i = 0; i < h->n; i++) {
		u32 k = set->hook_cases[h->first + i];

		if (mask & selset_case_mask(&set->reg.cases[k]))
			selset_hint(set, k);
	}
}

/* The @k-th (from 0) hint set, or ncases if the bits changed meanwhile. */
static u32 selset_nth_hint(const struct selset *set, u32 k)
{
	u32 w, nwords = BITS_TO_LONGS(set->reg.ncases);

	for (w = 0; w < nwords; w++) {
		unsigned long word = READ_ONCE(set->hint[w]);
		u32 bits = hweight_long(word);

		if (k < bits) {
			while (k--)
				word &= word - 1;
			return w * BITS_PER_LONG + __ffs(word);
		}
		k -= bits;
	}
	return set->reg.ncases;
}

/*
 * The fast path: try the hinted cases in random order, reporting to @out.
 * @sc gets a copy of the case tried last, with @kbuf as its kernel buffer
 * and its receive buffer pinned (the caller releases @sc->pin, which
 * holds nothing on entry).  Returns the index of the case that ran (a send on a closed channel too:
 * sc->w.closed says so), -ENOENT if no hinted case was ready, SEL_RETRY
 * (the Out fields must be faulted in) or -EFAULT (nothing moved).
 */
static long selset_try_hinted(struct selset *set, struct sel_case *sc,
			      void *kbuf, struct sel_out *out, u32 *ok)
{
	u32 n = set->reg.ncases, tries;
	long ret = -ENOENT;

	for (tries = 0; tries <= n; tries++) {
		/* Racy: a pick then claims its bit with test_and_clear_bit(). */
		u32 weight = data_race(bitmap_weight(set->hint, n)), i;
		struct gochan_unlock u;
		bool again;
		int r;

		if (!weight)
			break;
		i = selset_nth_hint(set, weight > 1 ?
				    get_random_u32_below(weight) : 0);
		/* Clear, then check (fully ordered when it was set). */
		if (i >= n || !test_and_clear_bit(i, set->hint))
			continue;
		gochan_pin_release(&sc->pin);	/* the last case tried */
		*sc = set->reg.cases[i];	/* reg's pin holds nothing */
		sc->kbuf = kbuf;
		if (sc->send &&
		    copy_from_user(kbuf, sc->ubuf, sc->c->elem_size)) {
			selset_hint(set, i);
			ret = -EFAULT;
			break;
		}
		sel_case_pin(sc);	/* a receive's buffer, before the lock */
		gochan_unlock_init(&u);
		mutex_lock(&sc->c->lock);
		r = sel_try_case(sc, out, ok, &u);
		again = r && sel_case_looks_ready(sc);
		mutex_unlock(&sc->c->lock);
		if (again)
			selset_hint(set, i);
		if (!r)
			continue;	/* a stale hint, left cleared */
		gochan_unlock_wake(&u);
		gochan_poll_wake(sc->c, u.poll);
		ret = r == 1 || r == -EPIPE ? (long)i : r;
		break;
	}
	return ret;
}

/* No case looks ready, without locks (see the rules above). */
static bool selset_none_looks_ready(const struct selset *set)
{
	u32 i;

	for (i = 0; i < set->reg.ncases; i++)
		if (sel_case_looks_ready(&set->reg.cases[i]))
			return false;
	return true;
}

/*
 * The slow path: select.c's select over the set's cases, in @s (freed by
 * the caller with sel_free()).  Returns what sel_run() returns.
 */
static long selset_select_full(struct selset *set,
			       const struct gochan_block *blk,
			       struct sel_out *out, struct gochan_sel *s,
			       u32 *ok)
{
	u32 i, n = set->reg.ncases;
	long ret;

	*s = (struct gochan_sel) {
		.ncases		= n,
		.lockorder	= set->reg.lockorder,
		.nlocks		= set->reg.nlocks,
		.borrowed	= true,
		.blk		= *blk,
		.out		= out,
	};
	s->cases = kvmalloc_array(n, sizeof(*s->cases), GFP_KERNEL_ACCOUNT);
	s->pollorder = kvmalloc_array(n, sizeof(*s->pollorder),
				      GFP_KERNEL_ACCOUNT);
	if (!s->cases || !s->pollorder)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		s->cases[i] = set->reg.cases[i];
		s->cases[i].file = NULL;	/* the set's reference */
	}
	ret = sel_alloc_bufs(s);
	if (ret)
		return ret;
	return sel_run(s, ok);
}

/**
 * selset_select - GOCHAN_IOC_SELECT on a select set.
 * @file: the set's file
 * @argp: struct gochan_select, with no cases of its own
 */
static long selset_select(struct file *file, void __user *argp)
{
	struct selset *set = file->private_data;
	u64 stack_buf[SELSET_STACK_BUF / sizeof(u64)];
	struct gochan_sel full;	/* the slow path's */
	bool slow = false;
	struct gochan_select arg;
	struct gochan_block blk;
	struct sel_case sc, *ran = &sc;
	void *kbuf = stack_buf, *rbuf;
	struct sel_out out;
	u32 ok = 0;
	long ret;

	ret = sel_read_arg(argp, &arg, &blk);
	if (ret)
		return ret;
	if (arg.cases || arg.ncases || arg.case_size)
		return -EINVAL;
	/* Out fields first, as gochan_ioctl_select() does and for its reason. */
	if (sel_out_init(&out, argp, &arg))
		return -EFAULT;
	if (!set->reg.ncases) {		/* "select {}" */
		struct gochan_wait never = { .task = current };

		return blk.nonblock ? -EAGAIN : gochan_wait_sleep(&never, &blk);
	}

	if (set->elem_max > SELSET_STACK_BUF) {
		kbuf = kvmalloc(set->elem_max, GFP_KERNEL_ACCOUNT);
		if (!kbuf)
			return -ENOMEM;
	}
	rbuf = kbuf;
	sc.pin = (struct gochan_pin) { };
	while ((ret = selset_try_hinted(set, &sc, kbuf, &out, &ok)) == SEL_RETRY) {
		ret = sel_out_fault_in(&out);
		if (ret)
			break;
	}
	if (ret == -ENOENT && blk.nonblock && selset_none_looks_ready(set)) {
		ret = -EAGAIN;
	} else if (ret == -ENOENT) {
		slow = true;
		ret = selset_select_full(set, &blk, &out, &full, &ok);
		if (ret >= 0) {
			ran = &full.cases[ret];
			rbuf = full.recv_buf;
		}
	}
	ret = sel_write_outcome(&out, &arg, ret, ok, ran, rbuf);
	trace_gochan_select(set->reg.ncases, ret < 0 ? ret : arg.index,
			    ret >= 0 || ret == -EPIPE ? ran->c->id : 0,
			    slow ? full.wait_ns : 0);
	sel_out_release(&out);
	gochan_pin_release(&sc.pin);
	if (slow)
		sel_free(&full);
	gochan_poison(kbuf, set->elem_max);
	if (kbuf != stack_buf)
		kvfree(kbuf);
	return ret;
}

/*
 * poll(2) on the set: EPOLLIN while a hinted case looks ready.  Queued
 * first, then a full barrier, then the look at the hints: selset_hint() sets
 * a hint, then (wq_has_sleeper()) a full barrier, then looks for pollers;
 * either the look sees the hint or the hint's wakeup sees us queued.
 */
static __poll_t selset_poll(struct file *file, poll_table *wait)
{
	struct selset *set = file->private_data;
	u32 i, n = set->reg.ncases;

	if (!poll_does_not_wait(wait)) {
		poll_wait(file, &set->poll_wq, wait);
		smp_mb();	/* pairs with wq_has_sleeper()'s in selset_hint() */
	}
	/* A racy scan (wakers set bits meanwhile): a bit it misses was set
	 * after our poll_wait() and its wakeup finds us queued. */
	for (i = data_race(find_first_bit(set->hint, n)); i < n;
	     i = data_race(find_next_bit(set->hint, n, i + 1))) {
		if (sel_case_looks_ready(&set->reg.cases[i]))
			return EPOLLIN | EPOLLRDNORM;
		/* Stale: clear, then look again (the rules above). */
		if (!test_and_clear_bit(i, set->hint))
			continue;
		if (sel_case_looks_ready(&set->reg.cases[i])) {
			set_bit(i, set->hint);
			return EPOLLIN | EPOLLRDNORM;
		}
	}
	return 0;
}

static void selset_free(struct selset *set)
{
	u32 i;

	for (i = 0; i < set->nhooked; i++)
		gochan_hook_del(set->hooks[i].c, &set->hooks[i].hook);
	sel_free(&set->reg);
	kvfree(set->hooks);
	kvfree(set->hook_cases);
	bitmap_free(set->hint);
	kfree(set);
}

static int selset_release(struct inode *inode, struct file *file)
{
	selset_free(file->private_data);
	return 0;
}

static long selset_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	if (cmd == GOCHAN_IOC_SELECT)
		return selset_select(file, (void __user *)arg);
	return -ENOTTY;
}

static void selset_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct selset *set = file->private_data;

	seq_printf(m, "gochan-selset-cases:\t%u\n", set->reg.ncases);
}

static const struct file_operations gochan_selset_fops = {
	.owner		= THIS_MODULE,
	.poll		= selset_poll,
	.unlocked_ioctl	= selset_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= selset_show_fdinfo,
	.release	= selset_release,
	.llseek		= noop_llseek,
};

/*
 * Group the cases by channel (one hook per distinct channel, in lockorder)
 * and hook every channel, then mark the cases already ready: a change
 * after a look runs the hook, which is in place by then.
 */
static int selset_hook_all(struct selset *set)
{
	struct gochan_sel *reg = &set->reg;
	u32 i, n = reg->ncases, pos = 0;

	sel_lockorder(reg);
	set->hooks = kvcalloc(reg->nlocks, sizeof(*set->hooks),
			      GFP_KERNEL_ACCOUNT);
	set->hook_cases = kvmalloc_array(n, sizeof(*set->hook_cases),
					 GFP_KERNEL_ACCOUNT);
	if (!set->hooks || !set->hook_cases)
		return -ENOMEM;
	/* Count each channel's cases, then place them (a counting sort). */
	for (i = 0; i < n; i++) {
		struct gochan_chan **at = bsearch(&reg->cases[i].c, reg->lockorder,
						  reg->nlocks, sizeof(*at),
						  sel_chan_addr_cmp);

		/* Stash the hook's index in the waiter's index field (unused
		 * in a set's registered cases) for the second pass. */
		reg->cases[i].w.index = at - reg->lockorder;
		set->hooks[at - reg->lockorder].n++;
	}
	for (i = 0; i < reg->nlocks; i++) {
		struct selset_hook *h = &set->hooks[i];

		h->set = set;
		h->c = reg->lockorder[i];
		h->first = pos;
		pos += h->n;
		h->n = 0;
	}
	for (i = 0; i < n; i++) {
		struct selset_hook *h = &set->hooks[reg->cases[i].w.index];

		set->hook_cases[h->first + h->n++] = i;
		h->hook.mask |= selset_case_mask(&reg->cases[i]);
		reg->cases[i].w.index = 0;
	}
	for (i = 0; i < reg->nlocks; i++) {
		struct selset_hook *h = &set->hooks[i];

		h->hook.fn = selset_hook_wake;
		gochan_hook_add(h->c, &h->hook);
		set->nhooked++;
	}
	smp_mb();	/* hooked before we look (see gochan_poll_wake()) */
	for (i = 0; i < n; i++)
		if (sel_case_looks_ready(&reg->cases[i]))
			set_bit(i, set->hint);
	return 0;
}

/**
 * gochan_ioctl_selset - GOCHAN_IOC_SELSET: make a select set.
 * @argp: struct selset
 *
 * Returns the new fd or -errno (see the uapi header).
 */
long gochan_ioctl_selset(void __user *argp)
{
	struct gochan_selset arg;
	struct selset *set;
	struct file *file;
	int ret, fd;
	u32 i;

	ret = gochan_copy_struct_from_user(&arg, sizeof(arg),
					   GOCHAN_SELSET_SIZE_VER0, argp);
	if (ret)
		return ret;
	if (arg.flags & ~GOCHAN_SELSET_FLAGS ||
	    arg.reserved[0] || arg.reserved[1] ||
	    arg.ncases > GOCHAN_SELECT_CASES_MAX ||
	    (arg.ncases && arg.case_size < GOCHAN_SELECT_CASE_SIZE_VER0))
		return -EINVAL;
	if (arg.ncases && arg.case_size > PAGE_SIZE)
		return -E2BIG;

	set = kzalloc(sizeof(*set), GFP_KERNEL_ACCOUNT);
	if (!set)
		return -ENOMEM;
	init_waitqueue_head(&set->poll_wq);
	ret = sel_read_cases(&set->reg, u64_to_user_ptr(arg.cases),
			     arg.ncases, arg.case_size);
	if (ret)
		goto err_free;
	set->hint = bitmap_zalloc(max(arg.ncases, 1u), GFP_KERNEL_ACCOUNT);
	if (!set->hint) {
		ret = -ENOMEM;
		goto err_free;
	}
	/* reg.ncases: the cases that are not nil (none of them may be). */
	for (i = 0; i < set->reg.ncases; i++)
		set->elem_max = max(set->elem_max, set->reg.cases[i].c->elem_size);
	if (set->reg.ncases) {
		ret = selset_hook_all(set);
		if (ret)
			goto err_free;
	}

	fd = get_unused_fd_flags(arg.flags & GOCHAN_SELSET_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0) {
		ret = fd;
		goto err_free;
	}
	file = anon_inode_getfile("[gochan-selset]", &gochan_selset_fops, set,
				  O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		ret = PTR_ERR(file);
		goto err_free;
	}
	fd_install(fd, file);
	return fd;

err_free:
	selset_free(set);
	return ret;
}
