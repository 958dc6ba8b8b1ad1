// SPDX-License-Identifier: GPL-2.0
/*
 * GOCHAN_IOC_SELECT: Go's selectgo over channel fds.
 *
 *   0. Read the cases, leave out the nil ones (fd GOCHAN_NIL_FD: Go's nil
 *      channel, never ready), take a reference on each other case's file, copy every
 *      send value into the kernel, and (before any lock) pin the receive
 *      buffers (pin.c): nothing under a channel lock faults, since a fault
 *      may take as long as the memory's owner likes (FUSE, userfaultfd) and
 *      would hold the lock, and everyone else, that long; and the value a
 *      receive case takes is written through its pin, which cannot fault,
 *      so it is never given back.  (The one user access under a lock, the
 *      call's outcome, is made with page faults off: see sel_out_try().)
 *   1. Lock every distinct channel in address order (lockorder), so two
 *      selects over the same channels can never deadlock.
 *   2. Pass 1: visit the cases in a random order (pollorder); the first
 *      ready one proceeds, so the choice is uniform among the ready cases.
 *   3. Pass 2: none ready: queue one waiter per case, all sharing one
 *      gochan_wait, unlock, and sleep.  A partner completing any waiter
 *      claims the whole wait by cmpxchg, so exactly one case proceeds.
 *   4. Pass 3: lock everything again and unlink the waiters nobody took.
 *
 * Receive cases share one kernel buffer: only the claimed case is written,
 * and only its value goes on to its user buffer.
 */
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/prandom.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "gochan_trace.h"
#include "select.h"

/*
 * A select holds many channel locks of one lock class.  lockdep is told
 * they are taken under this outer (lockdep-only) lock, so it counts them
 * as one held lock, as mm_take_all_locks() does; address order is what
 * actually prevents deadlock.
 */
#ifdef CONFIG_DEBUG_LOCK_ALLOC
static struct lock_class_key gochan_select_key;
#endif
static struct {
	struct lockdep_map dep_map;
} gochan_select_nest __maybe_unused = {
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	.dep_map = STATIC_LOCKDEP_MAP_INIT("gochan_select", &gochan_select_key),
#endif
};

/* Order channel pointers (in an array) by address: lockorder's order. */
int sel_chan_addr_cmp(const void *a, const void *b)
{
	unsigned long x = (unsigned long)*(struct gochan_chan * const *)a;
	unsigned long y = (unsigned long)*(struct gochan_chan * const *)b;

	return x < y ? -1 : x > y;
}

/*
 * lockdep counts the repeats of one lock class under a nest lock in an
 * 11-bit field (held_lock.references): past 2047 channel locks it would
 * overflow and switch itself off for the whole system (found by make
 * check-debug).  A select over more distinct channels than this takes them
 * with lockdep looking away; address order still rules out deadlock, and
 * every smaller select and every plain operation stays under its eye.
 */
#define SEL_LOCKDEP_MAX		2000

static void sel_lock_all(struct gochan_sel *s)
{
	u32 i;

	/* Not needed until now (see sel_pass1_single()); an asynchronous
	 * select has it from gochan_sel_new(), before anyone else may lock
	 * its channels. */
	if (!s->nlocks)
		sel_lockorder(s);
	if (s->nlocks > SEL_LOCKDEP_MAX)
		lockdep_off();
	lock_map_acquire(&gochan_select_nest.dep_map);
	for (i = 0; i < s->nlocks; i++)
		mutex_lock_nest_lock(&s->lockorder[i]->lock, &gochan_select_nest);
}

static void sel_unlock_all(struct gochan_sel *s)
{
	u32 i;

	for (i = s->nlocks; i-- > 0; )
		mutex_unlock(&s->lockorder[i]->lock);
	lock_map_release(&gochan_select_nest.dep_map);
	if (s->nlocks > SEL_LOCKDEP_MAX)
		lockdep_on();
}

/* The passes run with every lock of @s held (sel_lock_all()). */
static void sel_assert_locked(const struct gochan_sel *s)
{
#ifdef CONFIG_LOCKDEP
	u32 i;

	for (i = 0; i < s->nlocks; i++)
		lockdep_assert_held(&s->lockorder[i]->lock);
#endif
}

/*
 * Fisher-Yates: every order equally likely.  One call to the kernel's
 * random generator seeds a cheap one for the whole shuffle (Go's select
 * uses its cheap fastrand too): get_random_u32_below() per case was a
 * good part of a 64-case select's cost.  Bias of the multiply-shift: at
 * most ncases / 2^32 per choice.
 */
static void sel_shuffle(struct gochan_sel *s)
{
	struct rnd_state rnd;
	u32 i;

	for (i = 0; i < s->ncases; i++)
		s->pollorder[i] = i;
	if (s->ncases < 2)
		return;
	prandom_seed_state(&rnd, get_random_u64());
	for (i = s->ncases; i > 1; i--) {
		u32 j = (u32)(((u64)prandom_u32_state(&rnd) * i) >> 32);

		swap(s->pollorder[i - 1], s->pollorder[j]);
	}
}

void sel_free(struct gochan_sel *s)
{
	u32 i;

	for (i = 0; s->cases && i < s->ncases; i++) {
		gochan_pin_release(&s->cases[i].pin);
		if (s->cases[i].file)
			fput(s->cases[i].file);
	}
	kvfree(s->cases);
	kvfree(s->pollorder);
	if (!s->borrowed)
		kvfree(s->lockorder);
	if (s->send_bufs)
		gochan_poison(s->send_bufs, s->send_bytes);
	kvfree(s->send_bufs);
	if (s->recv_buf)
		gochan_poison(s->recv_buf, s->recv_bytes);
	kvfree(s->recv_buf);
}

/*
 * Step 0, first half: read and check @ncases cases at @ucases, each
 * @case_size bytes (checked by the caller against the struct rules), and
 * take a reference on each case's file.  A nil case is checked as any
 * other (op, reserved) and then left out: s->ncases counts the others,
 * each of which remembers its index in the caller's array.  On error,
 * sel_free() undoes what was done (until the end, s->ncases is @ncases,
 * and the slots not filled have no file).
 */
#define SEL_CHUNK	16

int sel_read_cases(struct gochan_sel *s, const void __user *ucases,
		   u32 ncases, u32 case_size)
{
	struct gochan_select_case chunk[SEL_CHUNK];
	size_t send_bytes = 0;
	u32 i, n = ncases, live = 0;
	int err;

	s->ncases = n;
	if (!n)
		return 0;
	s->cases = kvcalloc(n, sizeof(*s->cases), GFP_KERNEL_ACCOUNT);
	s->pollorder = kvmalloc_array(n, sizeof(*s->pollorder), GFP_KERNEL_ACCOUNT);
	s->lockorder = kvmalloc_array(n, sizeof(*s->lockorder), GFP_KERNEL_ACCOUNT);
	if (!s->cases || !s->pollorder || !s->lockorder)
		return -ENOMEM;

	for (i = 0; i < n; i++) {
		struct sel_case *sc = &s->cases[live];
		struct gochan_select_case uc;

		/* Cases of today's size come a chunk at a time: one user copy
		 * for up to SEL_CHUNK of them rather than one each. */
		if (case_size == sizeof(uc)) {
			u32 k = i % SEL_CHUNK;

			if (!k && copy_from_user(chunk, ucases + (size_t)i * sizeof(uc),
						 min_t(u32, n - i, SEL_CHUNK) * sizeof(uc)))
				return -EFAULT;
			uc = chunk[k];
		} else {
			err = copy_struct_from_user(&uc, sizeof(uc),
						    ucases + (size_t)i * case_size,
						    case_size);
			if (err)
				return err;
		}
		if (uc.reserved ||
		    (uc.op != GOCHAN_OP_SEND && uc.op != GOCHAN_OP_RECV))
			return -EINVAL;
		if (uc.fd == GOCHAN_NIL_FD)
			continue;	/* never chosen; its buf never touched */
		sc->file = fget(uc.fd);
		if (!sc->file)
			return -EBADF;
		sc->c = gochan_chan_from_file(sc->file);
		if (!sc->c)
			return -EINVAL;
		sc->send = uc.op == GOCHAN_OP_SEND;
		/* A file may be send- or receive-only (CREATE, OPEN, DUP):
		 * a case it cannot do fails the whole select. */
		if (!(sc->file->f_mode & (sc->send ? FMODE_WRITE : FMODE_READ)))
			return -EBADF;
		sc->ubuf = u64_to_user_ptr(uc.buf);
		sc->index = i;
		if (sc->send)
			send_bytes += sc->c->elem_size;
		live++;
	}
	if (send_bytes > GOCHAN_SELECT_SEND_BYTES_MAX)
		return -EMSGSIZE;
	s->ncases = live;
	return 0;
}

/*
 * Step 0, second half: the kernel buffers of a select whose cases are
 * read, and every send case's value copied in.
 */
int sel_alloc_bufs(struct gochan_sel *s)
{
	size_t send_bytes = 0, recv_max = 0, off = 0;
	u32 i, n = s->ncases;

	for (i = 0; i < n; i++) {
		if (s->cases[i].send)
			send_bytes += s->cases[i].c->elem_size;
		else
			recv_max = max_t(size_t, recv_max, s->cases[i].c->elem_size);
	}
	if (send_bytes) {
		s->send_bufs = kvmalloc(send_bytes, GFP_KERNEL_ACCOUNT);
		if (!s->send_bufs)
			return -ENOMEM;
		s->send_bytes = send_bytes;
	}
	if (recv_max) {
		s->recv_buf = kvmalloc(recv_max, GFP_KERNEL_ACCOUNT);
		if (!s->recv_buf)
			return -ENOMEM;
		s->recv_bytes = recv_max;
	}
	for (i = 0; i < n; i++) {
		struct sel_case *sc = &s->cases[i];
		size_t es = sc->c->elem_size;

		if (!sc->send) {
			sc->kbuf = s->recv_buf;
			continue;
		}
		sc->kbuf = s->send_bufs + off;
		off += es;
		if (copy_from_user(sc->kbuf, sc->ubuf, es))
			return -EFAULT;
	}

	return 0;
}

/* lockorder: the distinct channels by address (duplicates are allowed). */
void sel_lockorder(struct gochan_sel *s)
{
	u32 i, n = s->ncases;

	for (i = 0; i < n; i++)
		s->lockorder[i] = s->cases[i].c;
	sort(s->lockorder, n, sizeof(*s->lockorder), sel_chan_addr_cmp, NULL);
	s->nlocks = 1;
	for (i = 1; i < n; i++)
		if (s->lockorder[i] != s->lockorder[s->nlocks - 1])
			s->lockorder[s->nlocks++] = s->lockorder[i];
}

/*
 * Pin the receive buffer of case @sc (once), before its channel is locked:
 * one that cannot be written is marked (sc->bad) for sel_try_case() to
 * refuse.  Returns -EFAULT (or -ENOMEM) if it is bad, else 0.
 */
int sel_case_pin(struct sel_case *sc)
{
	u32 es = sc->c->elem_size;

	if (sc->send || !es || sc->pin.nvec)
		return 0;
	sc->bad = gochan_pin_user(&sc->pin, sc->ubuf, es);
	return sc->bad;
}

/*
 * Pin every receive case's buffer, before any lock: 0, or -EFAULT if one
 * is bad (each bad case marked).
 */
static int sel_pin_all(struct gochan_sel *s)
{
	int ret = 0;
	u32 i;

	for (i = 0; i < s->ncases; i++)
		ret = sel_case_pin(&s->cases[i]) ?: ret;
	return ret;
}

/*
 * The outcome of a select call (index, then ok: all it writes back) must
 * reach its caller once a case has run: a send cannot be taken back, and
 * EFAULT would say that nothing moved.  So the Out fields are written
 * before the case runs: by sel_try_case(), under the case's channel lock,
 * with page faults disabled (a fault would hold the lock), once the case
 * is known ready and just before it commits.  If they cannot be written
 * so, nothing moves: the select lets go of its locks, faults them in
 * (sel_out_fault_in()) and starts again.  A select that waits cannot know
 * which case will run: it pins the page(s) holding them first
 * (sel_out_pin()) and writes through the pin once a partner has run a
 * case, whatever happened to the mapping meanwhile.
 */
static int sel_out_try(struct sel_out *o, u32 index, u32 ok)
{
	struct { u32 index, ok; } v = { index, ok };

	if (!o)
		return 0;
	if (copy_to_user_nofault(&o->u->index, &v, sizeof(v)))
		return SEL_RETRY;
	o->written = true;
	return 0;
}

/* Fault the Out fields in for writing, with no lock held: 0 or -EFAULT. */
int sel_out_fault_in(struct sel_out *o)
{
	return fault_in_writeable((char __user *)&o->u->index,
				  2 * sizeof(u32)) ? -EFAULT : 0;
}

/* Pin the Out fields' page(s) before waiting: 0 or -EFAULT. */
static int sel_out_pin(struct sel_out *o)
{
	unsigned long addr = (unsigned long)&o->u->index;
	unsigned long first = addr & PAGE_MASK;
	int n = ((addr + 2 * sizeof(u32) - 1) & PAGE_MASK) == first ? 1 : 2;
	int got;

	if (o->npages)
		return 0;
	got = pin_user_pages_fast(first, n, FOLL_WRITE, o->pages);
	if (got != n) {
		if (got > 0)
			unpin_user_pages(o->pages, got);
		return -EFAULT;
	}
	o->npages = n;
	o->offset = offset_in_page(addr);
	return 0;
}

static void sel_out_put_pinned(struct sel_out *o, u32 index, u32 ok)
{
	struct { u32 index, ok; } v = { index, ok };
	size_t first = min_t(size_t, sizeof(v), PAGE_SIZE - o->offset);

	memcpy_to_page(o->pages[0], o->offset, (const char *)&v, first);
	if (first < sizeof(v))
		memcpy_to_page(o->pages[1], 0, (const char *)&v + first,
			       sizeof(v) - first);
	o->written = true;
}

void sel_out_release(struct sel_out *o)
{
	if (o->npages)
		unpin_user_pages_dirty_lock(o->pages, o->npages, true);
	o->npages = 0;
}

/*
 * Pass 1, for case @index, with its channel locked (by sel_lock_all(), or
 * alone): proceed if ready, reporting to @out (NULL: an io_uring SELECT,
 * which reports in its CQE) first.  A receive case's buffer was pinned
 * before the lock (sel_case_pin()); nothing here faults.  Returns 1 if
 * the case ran (*ok set for a receive), 0 if not ready, SEL_RETRY if @out
 * could not be written without a fault (nothing moved), or -errno
 * (-EPIPE: a send on a closed channel was chosen, reported too; -EFAULT:
 * the receive buffer could not be pinned, nothing taken).  What @out gets is the
 * case's index in the caller's array.
 */
int sel_try_case(struct sel_case *sc, struct sel_out *out, u32 *ok,
		 struct gochan_unlock *u)
{
	struct gochan_chan *c = sc->c;
	u32 index = sc->index;
	bool got;
	int ret;

	lockdep_assert_held(&c->lock);
	if (sc->send) {
		if (c->closed) {
			ret = sel_out_try(out, index, 0);
			if (ret)
				return ret;
			sc->w.closed = true;	/* read back by the caller */
			return -EPIPE;
		}
		if (!gochan_send_ready_locked(c))
			return 0;
		ret = sel_out_try(out, index, 0);
		if (ret)
			return ret;
		return gochan_send_locked(c, sc->kbuf, 1, u);
	}
	got = gochan_recv_ready_locked(c);
	if (!got && !c->closed)
		return 0;
	/* Ready: a bad buffer fails before anything is taken. */
	if (sc->bad)
		return sc->bad;
	if (WARN_ON_ONCE(c->elem_size && !sc->pin.nvec))
		return -EFAULT;		/* no pin to deliver through */
	ret = sel_out_try(out, index, got);
	if (ret)
		return ret;
	if (got && gochan_recv_locked(c, sc->kbuf, 1, u)) {
		*ok = 1;
		return 1;
	}
	/*
	 * Closed and drained; or the one sender, a select, was claimed
	 * meanwhile through another of its channels (not ready after all: the
	 * Out fields are written again by whatever this call reports).
	 */
	if (!c->closed)
		return 0;
	if (got) {
		ret = sel_out_try(out, index, 0);
		if (ret)
			return ret;
	}
	*ok = 0;
	return 1;
}

/*
 * Pass 1, with every lock held: the first ready case in a random order
 * proceeds.  Returns true when done, with the locks dropped and *ret the
 * case's index in s->cases (a send on a closed channel too: its w.closed
 * says so),
 * SEL_RETRY or -errno; false when no case is ready, with the locks still
 * held.
 */
static bool sel_pass1(struct gochan_sel *s, u32 *ok, long *ret)
{
	struct gochan_unlock u;
	u32 i;

	sel_assert_locked(s);
	gochan_unlock_init(&u);
	for (i = 0; i < s->ncases; i++) {
		u32 index = s->pollorder[i];
		struct sel_case *sc = &s->cases[index];

		*ret = sel_try_case(sc, s->out, ok, &u);
		if (*ret) {
			sel_unlock_all(s);
			gochan_unlock_wake(&u);
			gochan_poll_wake(sc->c, u.poll);
			if (*ret == 1 || *ret == -EPIPE)
				*ret = index;
			return true;
		}
	}
	return false;
}

/*
 * A racy look at whether case @sc could proceed: only a hint for
 * sel_pass1_single(), which asks sel_try_case() under the lock.
 */
bool sel_case_looks_ready(const struct sel_case *sc)
{
	const struct gochan_chan *c = sc->c;

	if (READ_ONCE(c->closed))
		return true;
	if (sc->send)
		return READ_ONCE(c->len) < c->capacity || READ_ONCE(c->nrecv);
	return READ_ONCE(c->len) || READ_ONCE(c->nsend);
}

/*
 * Pass 1 the cheap way: in poll order, lock only a channel that looks ready
 * and try its case alone.  A select that finds a case ready (the common
 * case of a busy server) takes one lock instead of all of them, and needs
 * no lock order.  Returns true when a case ran, as sel_pass1() does; false
 * leaves everything to the full pass under every lock, which alone may
 * conclude that nothing is ready.
 */
static bool sel_pass1_single(struct gochan_sel *s, u32 *ok, long *ret)
{
	struct gochan_unlock u;
	u32 i;

	for (i = 0; i < s->ncases; i++) {
		u32 index = s->pollorder[i];
		struct sel_case *sc = &s->cases[index];

		if (!sel_case_looks_ready(sc))
			continue;
		sel_case_pin(sc);
		gochan_unlock_init(&u);
		mutex_lock(&sc->c->lock);
		*ret = sel_try_case(sc, s->out, ok, &u);
		mutex_unlock(&sc->c->lock);
		if (*ret) {
			gochan_unlock_wake(&u);
			gochan_poll_wake(sc->c, u.poll);
			if (*ret == 1 || *ret == -EPIPE)
				*ret = index;
			return true;
		}
	}
	return false;
}

/*
 * Pass 2, with every lock held: wait on every case's channel at once, with
 * @wait, then drop the locks.
 */
static void sel_pass2(struct gochan_sel *s, struct gochan_wait *wait)
{
	u32 i;

	sel_assert_locked(s);
	for (i = 0; i < s->ncases; i++) {
		struct sel_case *sc = &s->cases[i];

		sc->w = (struct gochan_waiter) {
			.wait	= wait,
			.buf	= sc->kbuf,
			.nelem	= 1,
			.index	= i,
		};
		gochan_waitq_add(sc->c, &sc->w, sc->send);
	}
	sel_unlock_all(s);
	for (i = 0; i < s->ncases; i++)
		gochan_poll_wake(s->cases[i].c, s->cases[i].send ?
				 EPOLLIN | EPOLLRDNORM : EPOLLOUT | EPOLLWRNORM);
}

/* Pass 3, with every lock held: unlink the waiters nobody took. */
static void sel_unlink_locked(struct gochan_sel *s)
{
	u32 i;

	sel_assert_locked(s);
	for (i = 0; i < s->ncases; i++) {
		struct sel_case *sc = &s->cases[i];

		if (!list_empty(&sc->w.node))
			gochan_waitq_del(sc->c, &sc->w, sc->send);
	}
}

/*
 * Steps 1-4, reporting to s->out.  Returns the index in s->cases of the
 * case that ran, or -errno.
 */
long sel_run(struct gochan_sel *s, u32 *ok)
{
	struct gochan_wait wait = {
		.task	= current,
		.state	= GOCHAN_WAIT_PENDING,
		.select	= true,
	};
	bool may_wait = !s->blk.nonblock && !gochan_deadline_passed(&s->blk);
	long ret = 0;
	int bad;

again:
	sel_shuffle(s);
	if (sel_pass1_single(s, ok, &ret))
		goto out;
	/* Every receive buffer, for pass 1 and before waiting on them; and
	 * the Out fields, pinned before the select may wait. */
	bad = sel_pin_all(s);
	if (may_wait && sel_out_pin(s->out))
		return -EFAULT;
	sel_lock_all(s);
	if (sel_pass1(s, ok, &ret))
		goto out;
	if (s->blk.nonblock || gochan_deadline_passed(&s->blk)) {
		sel_unlock_all(s);
		return s->blk.nonblock ? -EAGAIN : -ETIMEDOUT;
	}
	if (bad) {
		sel_unlock_all(s);
		return bad;
	}
	sel_pass2(s, &wait);

	trace_gochan_block(0, GOCHAN_TRACE_OP_SELECT, current);
	s->wait_ns = ktime_get_ns();
	ret = gochan_wait_sleep(&wait, &s->blk);
	s->wait_ns = ktime_get_ns() - s->wait_ns;

	/* Pass 3: with every lock held, no partner is mid-claim. */
	sel_lock_all(s);
	if (wait.state != GOCHAN_WAIT_DONE)
		WRITE_ONCE(wait.state, GOCHAN_WAIT_CANCELLED);
	sel_unlink_locked(s);
	sel_unlock_all(s);

	if (wait.state != GOCHAN_WAIT_DONE)
		return ret;		/* signal or deadline, nothing moved */
	/* A receive that was not ended by close got a value. */
	*ok = !s->cases[wait.index].send && !s->cases[wait.index].w.closed;
	sel_out_put_pinned(s->out, s->cases[wait.index].index, *ok);
	return wait.index;

out:
	/* The Out fields faulted under a lock: nothing moved.  In, again. */
	if (ret == SEL_RETRY) {
		if (sel_out_fault_in(s->out))
			return -EFAULT;
		goto again;
	}
	return ret;
}

/* Read and check struct gochan_select, as every select call does. */
int sel_read_arg(void __user *argp, struct gochan_select *arg,
			struct gochan_block *blk)
{
	int ret = gochan_copy_struct_from_user(arg, sizeof(*arg),
					       GOCHAN_SELECT_SIZE_VER0, argp);

	if (ret)
		return ret;
	if (arg->flags & ~GOCHAN_SELECT_FLAGS ||
	    arg->reserved[0] || arg->reserved[1] ||
	    arg->ncases > GOCHAN_SELECT_CASES_MAX ||
	    (arg->ncases && arg->case_size < GOCHAN_SELECT_CASE_SIZE_VER0) ||
	    (!(arg->flags & GOCHAN_SELECT_DEADLINE) && arg->deadline_ns))
		return -EINVAL;
	if (arg->ncases && arg->case_size > PAGE_SIZE)
		return -E2BIG;
	*blk = (struct gochan_block) {
		.nonblock	= arg->flags & GOCHAN_SELECT_NONBLOCK,
		.has_deadline	= arg->flags & GOCHAN_SELECT_DEADLINE,
		.deadline	= ns_to_ktime(arg->deadline_ns),
	};
	return 0;
}

/* --- Asynchronous selects (io_uring commands, uring.c) --- */

/**
 * gochan_sel_new - read a struct gochan_select and its cases (step 0).
 * @argp: the user's struct
 * @blk: set from its flags and deadline
 * @sp: the new select, freed by gochan_sel_free()
 *
 * An empty select, or one of nil cases only, is refused (EINVAL): it
 * would wait in no channel.  The
 * lock order is computed here, once: the submission and the command's
 * task work (gochan_sel_unlink()) both lock every case's channel, and
 * must not both be computing it.
 */
int gochan_sel_new(void __user *argp, struct gochan_block *blk,
		   struct gochan_sel **sp)
{
	struct gochan_select arg;
	struct gochan_sel *s;
	int ret;
	u32 i;

	ret = sel_read_arg(argp, &arg, blk);
	if (ret)
		return ret;
	if (!arg.ncases)
		return -EINVAL;
	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return -ENOMEM;
	s->blk = *blk;
	ret = sel_read_cases(s, u64_to_user_ptr(arg.cases), arg.ncases,
			     arg.case_size);
	if (!ret && !s->ncases)
		ret = -EINVAL;
	if (!ret)
		ret = sel_alloc_bufs(s);
	if (ret) {
		gochan_sel_free(s);
		return ret;
	}
	for (i = 0; i < s->ncases; i++)
		INIT_LIST_HEAD(&s->cases[i].w.node);
	sel_lockorder(s);
	*sp = s;
	return 0;
}

void gochan_sel_free(struct gochan_sel *s)
{
	sel_free(s);
	kfree(s);
}

u32 gochan_sel_ncases(const struct gochan_sel *s)
{
	return s->ncases;
}

/**
 * gochan_sel_begin - steps 1-2 of an asynchronous select.
 * @s: from gochan_sel_new()
 * @wait: its wait (async, select), CLAIMED by the caller: held as a
 *        partner holds it, so no canceller can end the command meanwhile
 * @ok: set for a receive case that ran at once
 *
 * The receive buffers are pinned first, before any lock, and stay pinned
 * until gochan_sel_free(): the completion writes the value through them.  Then under
 * every lock, a ready case runs at once (its index, as sel_run() returns
 * it, or -errno), or the select cannot wait (-EAGAIN, -ETIMEDOUT,
 * -EFAULT), both with @wait still CLAIMED; or @wait goes back to PENDING
 * with a waiter on every case's channel (-EIOCBQUEUED).
 */
long gochan_sel_begin(struct gochan_sel *s, struct gochan_wait *wait, u32 *ok)
{
	long ret = 0;
	int bad;

	sel_shuffle(s);
	bad = sel_pin_all(s);
	sel_lock_all(s);
	WARN_ON_ONCE(READ_ONCE(wait->state) != GOCHAN_WAIT_CLAIMED || s->out);
	if (sel_pass1(s, ok, &ret))
		return ret;
	if (s->blk.nonblock || gochan_deadline_passed(&s->blk)) {
		sel_unlock_all(s);
		return s->blk.nonblock ? -EAGAIN : -ETIMEDOUT;
	}
	if (bad) {
		sel_unlock_all(s);
		return bad;
	}
	WRITE_ONCE(wait->state, GOCHAN_WAIT_PENDING);
	sel_pass2(s, wait);
	return -EIOCBQUEUED;
}

/* Step 3 of an asynchronous select: unlink whatever is still queued. */
void gochan_sel_unlink(struct gochan_sel *s)
{
	sel_lock_all(s);
	sel_unlink_locked(s);
	sel_unlock_all(s);
}

/*
 * What case @index (in s->cases, as gochan_sel_begin() returns it and the
 * wait records it) of a completed select did, for its completion.
 */
void gochan_sel_outcome(struct gochan_sel *s, u32 index,
			struct gochan_sel_outcome *o)
{
	struct sel_case *sc = &s->cases[index];

	*o = (struct gochan_sel_outcome) {
		.index	= sc->index,
		.c	= sc->c,
		.kbuf	= sc->kbuf,
		.pin	= &sc->pin,
		.send	= sc->send,
		.closed	= sc->w.closed,
	};
}

/**
 * sel_out_init - start a select call's Out fields.
 * @o: to set up for @argp, released with sel_out_release()
 * @argp: the user's struct gochan_select
 * @arg: its kernel copy
 *
 * The struct is read from memory that may not be writable (a read-only
 * page): its Out fields are written now (index and ok 0), before anything
 * moves, so that EFAULT keeps its promise that nothing did.  Returns 0 or
 * -EFAULT.
 */
int sel_out_init(struct sel_out *o, void __user *argp,
		 struct gochan_select *arg)
{
	struct gochan_select __user *u = argp;
	struct { u32 index, ok; } v = { 0, 0 };

	BUILD_BUG_ON(offsetof(struct gochan_select, ok) !=
		     offsetof(struct gochan_select, index) + sizeof(u32));
	*o = (struct sel_out) { .u = u };
	arg->index = 0;
	arg->ok = 0;
	return copy_to_user(&u->index, &v, sizeof(v)) ? -EFAULT : 0;
}

/**
 * sel_write_outcome - finish what a select call reports.
 * @out: its Out fields, written already if a case ran
 * @arg: the kernel copy of the user's struct, its Out fields set here
 * @ret: the index of the case that ran (in the select's cases), or -errno
 * @ok: for a receive case, 1 if it got a value
 * @sc: the case that ran (when @ret >= 0): its index in the caller's array
 *      is what @arg reports
 * @recv_buf: where a receive case's value is
 *
 * The case that ran was reported before it ran (sel_try_case()), or
 * through the pinned Out fields once it had (sel_run()).  A received
 * value is written here, through its case's pinned buffer: that cannot
 * fail, so a value taken is always delivered.  Returns 0, -EPIPE (a send
 * case on a closed channel ran) or -errno.
 */
long sel_write_outcome(struct sel_out *out, struct gochan_select *arg,
		       long ret, u32 ok, struct sel_case *sc,
		       const void *recv_buf)
{
	if (ret < 0)
		return ret;
	WARN_ON_ONCE(!out->written);
	arg->index = sc->index;
	arg->ok = ok;
	if (sc->send)
		return sc->w.closed ? -EPIPE : 0;
	if (ok)
		gochan_pin_write(&sc->pin, 0, recv_buf, sc->c->elem_size);
	return 0;
}

long gochan_ioctl_select(void __user *argp)
{
	struct gochan_select arg;
	struct gochan_sel s = {};
	struct sel_case *ran = NULL;
	struct sel_out out;
	u32 ok = 0;
	long ret;

	ret = sel_read_arg(argp, &arg, &s.blk);
	if (ret)
		return ret;
	if (sel_out_init(&out, argp, &arg))
		return -EFAULT;
	s.out = &out;

	ret = sel_read_cases(&s, u64_to_user_ptr(arg.cases), arg.ncases,
			     arg.case_size);
	if (!ret)
		ret = sel_alloc_bufs(&s);
	if (ret)
		goto out_free;
	/* Go's "select {}" (or "select { default: }"), nil cases or none */
	if (!s.ncases) {
		struct gochan_wait never = { .task = current };

		ret = s.blk.nonblock ? -EAGAIN : gochan_wait_sleep(&never, &s.blk);
		goto out_free;
	}

	ret = sel_run(&s, &ok);
	if (ret >= 0)
		ran = &s.cases[ret];
	ret = sel_write_outcome(&out, &arg, ret, ok, ran, s.recv_buf);
out_free:
	trace_gochan_select(arg.ncases, ret < 0 ? ret : arg.index,
			    ran && (ret >= 0 || ret == -EPIPE) ? ran->c->id : 0,
			    s.wait_ns);
	sel_out_release(&out);
	sel_free(&s);
	return ret;
}
