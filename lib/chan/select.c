/* SPDX-License-Identifier: MIT */
/*
 * lib/chan/select.c - Go's select (runtime/select.go: selectgo) over in-process channels,
 * kernel channels, or both.
 *
 *   pollorder  a uniformly random permutation of the non-nil cases: pass 1 takes the first
 *              ready case in it, so every ready case is equally likely;
 *   lockorder  the distinct in-process channels sorted by address: every select locks in
 *              the same global order, so two selects cannot deadlock;
 *   pass 1     under all locks, look for a ready case in pollorder (kernel cases: try the
 *              non-blocking ioctl); take it and return;
 *   pass 2     enqueue a sudog (on our stack) on every in-process channel, queue the
 *              kernel cases as one kernel select (an io_uring command), park; go_park's
 *              unlock callback releases the locks once we are off our stack;
 *   pass 3     relock, dequeue the sudogs that did not fire; settle the kernel command.
 *
 * One select can be woken by several parties at once: a channel operation (holding that
 * channel's lock), the timer, the kernel command's completion (holding neither). (A thread
 * that is not a goroutine has no timer: it sleeps on its futex until the deadline, then
 * claims its own select as the timer would.) struct selwait's done flag decides the single
 * winner (CAS 0 -> 1), and its parked flag makes a winner that holds no lock wait for the
 * goroutine to be off its stack before go_ready() (if it is not yet, the park's unlock
 * callback sees that and go_park returns at once).
 *
 * The kernel command commits on its own (a partner in another process completes it inside
 * the kernel), so it cannot take part in that CAS before it moves a value. Instead a channel
 * waker cancels the command first and claims only if the cancel found it (see
 * _go_selkcmd_cancel in internal.h). So exactly one value moves: the kernel's, or the
 * waker's. The completion claims whatever its result, if nobody did: then -ECANCELED (a
 * cancel nobody claimed after: the close(2) of the fd, which may name another channel by
 * now, so that no waker's cancel can reach the command; or a waker's cancel whose claim
 * the completion beat) makes the select retry. So a waker may always skip a select whose
 * command it did not find, and the selwait lives with the command on the heap (struct
 * selkcmd), where a completion after the select's return can still touch it. The timer
 * moves nothing and claims without cancelling; the select cancels after it, and returns
 * the kernel's case instead of a timeout if the kernel had already committed.
 *
 * Without io_uring commands (no io_uring, or an old module) each kernel case gets a helper
 * goroutine parked in go_poll() instead, which wakes the select to try again: that can
 * miss a partner that only rendezvous (another process's select on an unbuffered channel).
 *
 * The kernel cases' half (a kernel-only select, the mixed select's command, the poll
 * helpers) is lib/kchan/select.c's; this file is the select over in-process channels.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gochan/gc.h>

#include "internal.h"

/* lib/gc's, weak as in chan.c: a collected channel comes only with the collector linked. */
#pragma weak go_gc_root_add
#pragma weak go_gc_root_remove

/* ---- Locks ----------------------------------------------------------------------------------- */

static void sellock(struct go_chan **lockorder, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		/* address order, the lock order every select keeps */
		go_assert(i == 0 || (uintptr_t)lockorder[i - 1] <= (uintptr_t)lockorder[i]);
		if (i == 0 || lockorder[i] != lockorder[i - 1])
			_go_mutex_lock(&lockorder[i]->lock);
	}
}

static void selunlock(struct go_chan **lockorder, unsigned n)
{
	/* Unlock in reverse so a lock is released once, after its duplicates are passed. */
	for (unsigned i = n; i-- > 0;)
		if (i == 0 || lockorder[i] != lockorder[i - 1])
			_go_mutex_unlock(&lockorder[i]->lock);
}

static int chan_addr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(struct go_chan *const *)a;
	uintptr_t y = (uintptr_t)*(struct go_chan *const *)b;

	return x < y ? -1 : x > y;
}

static void sort_chans(struct go_chan **v, unsigned n)
{
	if (n > 16) {
		qsort(v, n, sizeof(*v), chan_addr_cmp);
		return;
	}
	for (unsigned i = 1; i < n; i++) {
		struct go_chan *x = v[i];
		unsigned j = i;

		for (; j > 0 && (uintptr_t)v[j - 1] > (uintptr_t)x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* ---- Waking a select without a channel lock --------------------------------------------- */

/* Claim the select for fired; if it was ours to wake, wake it. Returns true if claimed. */
bool _go_selwait_claim(struct selwait *sw, int fired)
{
	struct go_g *g;

	if (!cas(&sw->done, 0u, 1))
		return false;
	store_relaxed(&sw->fired, fired);
	g = sw->g;
	if (xchg(&sw->parked, 2) == 1)
		go_ready(g, 1);
	return true;
}

static void sel_timer_fn(struct go_timer *t, void *arg)
{
	struct selwait *sw = arg;
	struct go_g *g;
	bool wake = false;

	(void)t;
	if (cas(&sw->done, 0u, 1)) {
		store_relaxed(&sw->fired, SEL_FIRED_TIMEOUT);
		g = sw->g;
		wake = xchg(&sw->parked, 2) == 1;
	}
	/* Last touch of *sw: after this the select may return and its stack be reused. */
	store_release(&sw->timer_busy, 0);
	if (wake)
		go_ready(g, 1);
}

/* Stop the timer (waiting out a running timer function) and release the poll helpers;
 * no lock held. */
static void sel_disarm(struct selwait *sw, struct go_timer *timer, bool timed,
		       struct pollhelp **helpers, unsigned nhelp)
{
	if (timed && !go_timer_stop(timer))
		while (load_acquire(&sw->timer_busy))
			go_yield();
	for (unsigned h = 0; h < nhelp; h++)
		_go_pollhelp_finish(helpers[h]);
}

/* ---- The select ---------------------------------------------------------------------------- */

struct selpark {
	struct go_chan **lockorder;
	unsigned nlock;
	struct selwait *sw;
};

/* go_park's unlock callback: release every lock, then say we are parked. If a lock-free
 * waker came first (parked == 2), do not sleep. Touches nothing of ours after the CAS. */
static bool sel_park_unlock(struct go_g *g, void *arg)
{
	struct selpark *sp = arg;
	struct selwait *sw = sp->sw;

	(void)g;
	selunlock(sp->lockorder, sp->nlock);
	return cas(&sw->parked, 0u, 1);
}

static void block_forever(void)
{
	for (;;)
		go_park(NULL, NULL, "select (no cases)");
}

/* Where the next array of a select's malloc'd scratch starts: *off, advanced past size
 * bytes, aligned for any of them. */
static size_t scratch_carve(size_t *off, size_t size)
{
	size_t at = *off;

	*off += (size + 15) & ~(size_t)15;
	return at;
}

static int selectgo(struct go_select_case *cases, unsigned n, bool block, int64_t deadline)
{
	unsigned nlocal = 0, nkern = 0, ncollected = 0;

	for (unsigned i = 0; i < n; i++) {
		struct go_chan *c = cases[i].chan;

		if (cases[i].dir != GO_SELECT_SEND && cases[i].dir != GO_SELECT_RECV)
			return -EINVAL;
		if (cases[i].dir == GO_SELECT_SEND && _go_chan_send_elem_bad(c, cases[i].elem))
			return -EINVAL;
		if (!c)
			continue;
		if (c->kind == CHAN_KERNEL)
			nkern++;
		else
			nlocal++;
		if (c->gc != CHAN_GC_NONE)
			ncollected++;
	}
	if (nlocal + nkern == 0) {
		if (!block)
			return -EAGAIN;
		if (deadline < 0)
			block_forever();
		go_sleep_until(deadline);
		return -ETIMEDOUT;
	}
	if (nlocal == 0)
		return _go_select_kernel(cases, n, nkern, block, deadline);

	/* Scratch: pollorder, lockorder, sudogs; on the stack for common sizes. */
	unsigned pstack[SELECT_STACK_CASES];
	struct go_chan *lstack[SELECT_STACK_CASES];
	struct sudog sstack[SELECT_STACK_CASES];
	struct pollhelp *hstack[SELECT_STACK_CASES];
	struct gochan_select_case kstack[SELECT_STACK_CASES];
	unsigned mstack[SELECT_STACK_CASES];
	unsigned *pollorder = pstack;
	struct go_chan **lockorder = lstack;
	struct sudog *sgs = sstack;
	struct pollhelp **helpers = hstack;
	struct gochan_select_case *kcases = kstack;	/* the kernel cases, for the command */
	unsigned *kmap = mstack;			/* kcases[k] is cases[kmap[k]] */
	bool poll_kernel = false;	/* no kernel command: poll helpers wake us to retry */
	/* timed, and not in a goroutine: the caller's thread waits on its futex (below) */
	bool thread = block && deadline >= 0 && go_id() == 0;
	struct selkcmd *kc = NULL;	/* this round's kernel command (and selwait) */
	char *scratch = NULL;		/* more cases: the arrays above, malloc'd (below) */
	bool scratch_root = false;	/* scratch is a root of the collector */
	int ret;

	/*
	 * More cases: one malloc'd block. Its sudogs and lockorder hold the channels (and the
	 * receive targets) while we wait, as Go's sudogs do from the G: with a collected
	 * channel among the cases the block is a root of the collector until we return, so
	 * the channels live however the caller keeps its case array. (The hchan's queues point
	 * into the block; the collector never follows them.)
	 */
	if (n > SELECT_STACK_CASES) {
		size_t size = 0;
		size_t o_sgs = scratch_carve(&size, n * sizeof(*sgs));
		size_t o_lock = scratch_carve(&size, n * sizeof(*lockorder));
		size_t roots = size;	/* [0, roots): sgs and lockorder */
		size_t o_help = scratch_carve(&size, n * sizeof(*helpers));
		size_t o_kc = scratch_carve(&size, n * sizeof(*kcases));
		size_t o_poll = scratch_carve(&size, n * sizeof(*pollorder));
		size_t o_kmap = scratch_carve(&size, n * sizeof(*kmap));

		scratch = malloc(size);
		if (!scratch)
			return -ENOMEM;
		sgs = (struct sudog *)(scratch + o_sgs);
		lockorder = (struct go_chan **)(scratch + o_lock);
		helpers = (struct pollhelp **)(scratch + o_help);
		kcases = (struct gochan_select_case *)(scratch + o_kc);
		pollorder = (unsigned *)(scratch + o_poll);
		kmap = (unsigned *)(scratch + o_kmap);
		if (ncollected && go_gc_root_add) {
			ret = go_gc_root_add(scratch, roots);
			if (ret < 0) {
				free(scratch);
				return ret;
			}
			scratch_root = true;
		}
	}
	if (nkern)
		_go_kcases_build(cases, n, kcases, kmap);

retry:;
	/* pollorder: Go's inside-out Fisher-Yates over the non-nil cases. */
	unsigned norder = 0, nlock = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!cases[i].chan)
			continue;
		/* Go's cheaprandn: a multiply, not a divide */
		unsigned j = (unsigned)(((uint64_t)_go_chan_fastrand() * (norder + 1)) >> 32);

		pollorder[norder] = pollorder[j];
		pollorder[j] = i;
		norder++;
	}

	/*
	 * Fast path, in-process cases only: the first case in pollorder that can proceed on its
	 * own, under its own lock (a non-blocking send/receive, whose lock-free check skips the
	 * cases that are obviously not ready). Taking it is what pass 1 would do had it found
	 * that case first; only if none proceeds do we lock them all.
	 */
	if (!nkern) {
		for (unsigned k = 0; k < norder; k++) {
			struct go_select_case *cs = &cases[pollorder[k]];

			if (cs->dir == GO_SELECT_SEND) {
				ret = _go_chan_send(cs->chan, cs->elem, false);
				if (ret == -EAGAIN)
					continue;
				cs->ok = ret == 0;
			} else if (_go_chan_recv(cs->chan, cs->elem, &cs->ok, false) == -EAGAIN) {
				continue;
			}
			ret = (int)pollorder[k];
			goto out;
		}
	}

	/*
	 * A select that may block arms its deadline timer (and, without kernel commands, its
	 * kernel-fd polls) now, before taking any lock: no call into the scheduler is made
	 * with a channel lock held (a goroutine whose P was taken by sysmon may be switched
	 * out at any runtime call, and must not hold a lock others spin on). One that fires
	 * during pass 1 or 2 only claims sw; pass 2's park then returns at once (parked == 2)
	 * and pass 3 undoes the queueing. Pass 2's kernel command is submitted under the
	 * locks, but that never switches: it takes only the poller's submission lock, a leaf
	 * lock whose holders take no channel lock.
	 */
	struct selwait sw_stack = { .fired = SEL_FIRED_NONE, .g = go_self() }, *sw = &sw_stack;
	struct go_timer timer = { 0 };
	bool timed = false;
	unsigned nhelp = 0;

	/* Kernel cases to queue as a command: the selwait lives with it (struct selkcmd). */
	if (block && nkern && !poll_kernel) {
		kc = _go_selkcmd_new(sw_stack.g, kcases[0].fd);
		if (kc)
			sw = &kc->sw;
		else
			poll_kernel = true;	/* no memory for one: poll instead */
	}

	/* A thread that is not a goroutine sleeps on a futex until its deadline (below): it
	 * needs no scheduler, whose timers may not be running. */
	if (block && deadline >= 0 && !thread) {
		store_relaxed(&sw->timer_busy, 1);
		ret = go_timer_start(&timer, deadline, sel_timer_fn, sw);
		if (ret < 0) {		/* -ENOMEM: no deadline then; fail rather than hang */
			store_relaxed(&sw->timer_busy, 0);
			goto out;
		}
		timed = true;
	}
	for (unsigned i = 0; block && poll_kernel && i < n; i++) {
		struct pollhelp *ph;

		if (!cases[i].chan || cases[i].chan->kind != CHAN_KERNEL)
			continue;
		ph = _go_pollhelp_start(sw, &cases[i], deadline);
		if (ph)			/* else that case is only seen by a retry */
			helpers[nhelp++] = ph;
	}

	for (unsigned i = 0; i < n; i++)
		if (cases[i].chan && cases[i].chan->kind == CHAN_LOCAL)
			lockorder[nlock++] = cases[i].chan;
	sort_chans(lockorder, nlock);
	sellock(lockorder, nlock);

	/* Pass 1: the first ready case in pollorder. */
	struct sudog *wake = NULL;

	ret = -EAGAIN;
	for (unsigned k = 0; k < norder && ret == -EAGAIN; k++) {
		unsigned i = pollorder[k];
		struct go_select_case *cs = &cases[i];
		struct go_chan *c = cs->chan;
		struct sudog *sg;

		if (c->kind == CHAN_KERNEL) {
			ret = _go_kchan_try(cs);      /* a non-blocking ioctl: no scheduler call */
			if (ret == 0)
				ret = (int)i;
			continue;
		}
		if (cs->dir == GO_SELECT_SEND) {
			if (load_relaxed(&c->closed)) {
				cs->ok = false;
				ret = (int)i;
			} else if ((sg = _go_waitq_dequeue(&c->recvq))) {
				_go_chan_send_direct(c, sg, cs->elem);
				wake = sg;
				cs->ok = true;
				ret = (int)i;
			} else if (load_relaxed(&c->qcount) < c->cap) {
				_go_chan_buf_put(c, cs->elem);
				cs->ok = true;
				ret = (int)i;
			}
		} else {
			if ((sg = _go_waitq_dequeue(&c->sendq))) {
				_go_chan_recv_direct(c, sg, cs->elem);
				wake = sg;
				cs->ok = true;
				ret = (int)i;
			} else if (load_relaxed(&c->qcount) > 0) {
				_go_chan_buf_take(c, cs->elem);
				cs->ok = true;
				ret = (int)i;
			} else if (load_relaxed(&c->closed)) {
				_go_chan_zero(c, cs->elem);
				cs->ok = false;
				ret = (int)i;
			}
		}
	}
	if (ret != -EAGAIN || !block || (deadline >= 0 && go_now() >= deadline)) {
		selunlock(lockorder, nlock);
		if (wake)
			_go_chan_wake(wake);
		sel_disarm(sw, &timer, timed, helpers, nhelp);
		if (ret == -EAGAIN && block)
			ret = -ETIMEDOUT;
		goto out;
	}

	/* Pass 2: queue on every in-process channel, in pollorder so that duplicate cases on
	 * one channel queue in random order; then park. */
	for (unsigned k = 0; k < norder; k++) {
		unsigned i = pollorder[k];
		struct go_chan *c = cases[i].chan;

		if (c->kind != CHAN_LOCAL)
			continue;
		sgs[i] = (struct sudog){
			.g = sw->g, .c = c, .elem = cases[i].elem, .sw = sw, .case_index = (int)i,
		};
		_go_waitq_enqueue(cases[i].dir == GO_SELECT_SEND ? &c->sendq : &c->recvq, &sgs[i]);
	}

	/* The kernel cases: one kernel select, queued in the kernel before any channel
	 * partner can see our sudogs (sw->kc is set first). */
	if (kc && _go_selkcmd_submit(kc, kcases, nkern) < 0) {
		/* no commands: undo the queueing, poll instead */
		for (unsigned i = 0; i < n; i++)
			if (cases[i].chan && cases[i].chan->kind == CHAN_LOCAL)
				_go_waitq_remove(cases[i].dir == GO_SELECT_SEND ?
					     &cases[i].chan->sendq : &cases[i].chan->recvq,
					     &sgs[i]);
		selunlock(lockorder, nlock);
		sel_disarm(sw, &timer, timed, helpers, nhelp);
		_go_selkcmd_put(kc);
		kc = NULL;
		poll_kernel = true;
		goto retry;
	}

	struct selpark sp = { .lockorder = lockorder, .nlock = nlock, .sw = sw };

	if (thread) {
		if (_go_thread_park_until(sel_park_unlock, &sp, "select", deadline) == -ETIMEDOUT) {
			/* Claim it as the timer would (readying ourselves), or take the go_ready
			 * of whoever claimed it first. */
			_go_selwait_claim(sw, SEL_FIRED_TIMEOUT);
			_go_thread_park_wait();
		}
	} else {
		go_park(sel_park_unlock, &sp, "select");
	}

	/* Woken: by a channel (sw->fired = case), the timer, the kernel command, or a poll. */
	sel_disarm(sw, &timer, timed, helpers, nhelp);

	/* Pass 3: dequeue from the channels that did not fire. */
	sellock(lockorder, nlock);
	for (unsigned i = 0; i < n; i++) {
		struct go_chan *c = cases[i].chan;

		if (!c || c->kind != CHAN_LOCAL)
			continue;
		_go_waitq_remove(cases[i].dir == GO_SELECT_SEND ? &c->sendq : &c->recvq, &sgs[i]);
	}
	selunlock(lockorder, nlock);

	int fired = load_acquire(&sw->fired);

	if (kc) {
		fired = _go_selkcmd_settle(kc, fired);
		if (fired == SEL_FIRED_KERNEL) {
			/* the command's result, ours to read now (never before: a completion
			 * after a waker's claim may still be writing it) */
			int kres = kc->res;

			_go_selkcmd_put(kc);
			kc = NULL;
			if (kres == -EOPNOTSUPP) {	/* the module has no commands after all */
				poll_kernel = true;
				goto retry;
			}
			if (kres == -ECANCELED)		/* cancelled under us (its fd closed) */
				goto retry;
			ret = kres < 0 ? kres : _go_kcases_apply(cases, kmap, nkern, kres);
			goto out;
		}
		_go_selkcmd_put(kc);
		kc = NULL;
	}
	if (fired == SEL_FIRED_POLL)
		goto retry;
	if (fired == SEL_FIRED_TIMEOUT) {
		ret = -ETIMEDOUT;
		goto out;
	}
	cases[fired].ok = sgs[fired].success;
	if (cases[fired].dir == GO_SELECT_RECV && !sgs[fired].success)
		_go_chan_zero(cases[fired].chan, cases[fired].elem);
	ret = fired;
out:
	if (kc)
		_go_selkcmd_put(kc);
	if (scratch_root)
		go_gc_root_remove(scratch);
	free(scratch);
	return ret;
}

/*
 * The one rule for a send on a closed channel (Go panics, for a send statement and for a
 * select's send case alike): -EPIPE, nothing sent, whether the send was plain or a case;
 * the case's ok says false, so a caller can tell which case it was.
 */
int _go_select(struct go_select_case *cases, unsigned n, bool block, int64_t deadline)
{
	int ret = selectgo(cases, n, block, deadline);

	if (ret >= 0 && cases[ret].dir == GO_SELECT_SEND && !cases[ret].ok)
		return -EPIPE;
	return ret;
}

/* ---- Public entry points ---------------------------------------------------------------------- */

GOCHAN_API int go_select(struct go_select_case *cases, unsigned n)
{
	return _go_select(cases, n, true, -1);
}

GOCHAN_API int go_try_select(struct go_select_case *cases, unsigned n)
{
	return _go_select(cases, n, false, -1);
}

GOCHAN_API int go_select_until(struct go_select_case *cases, unsigned n, int64_t deadline_ns)
{
	return _go_select(cases, n, true, deadline_ns < 0 ? -1 : deadline_ns);
}

/* ---- The builder behind GO_SELECT ------------------------------------------------------------ */

GOCHAN_API bool go_select_builder_case_(struct go_select_builder *b, struct go_chan *c,
					enum go_select_dir dir, void *elem, bool *ok)
{
	if (b->phase == 1) {
		if ((int)b->at++ != b->chosen)
			return false;
		if (ok)
			*ok = b->chosen_ok;
		return true;
	}
	if (b->n == b->cap) {
		unsigned ncap = b->cap ? b->cap * 2 : 8;
		struct go_select_case *nc;

		if (!b->cases) {
			nc = b->inline_cases;
			ncap = 8;
		} else {
			nc = malloc(ncap * sizeof(*nc));
			if (!nc) {
				fprintf(stderr, "gochan: GO_SELECT: out of memory for %u cases\n", ncap);
				abort();
			}
			memcpy(nc, b->cases, b->n * sizeof(*nc));
			if (b->cases != b->inline_cases)
				free(b->cases);
		}
		b->cases = nc;
		b->cap = ncap;
	}
	b->cases[b->n++] = (struct go_select_case){ .chan = c, .dir = dir, .elem = elem };
	return false;
}

GOCHAN_API int go_select_builder_step_(struct go_select_builder *b)
{
	if (b->phase != 0)
		return 2;
	if (b->has_default)
		b->chosen = _go_select(b->cases, b->n, false, -1);
	else
		b->chosen = _go_select(b->cases, b->n, true,
				       b->has_deadline && b->deadline >= 0 ? b->deadline : -1);
	if (b->chosen >= 0)
		b->chosen_ok = b->cases[b->chosen].ok;
	if (b->cases && b->cases != b->inline_cases)
		free(b->cases);
	b->cases = NULL;
	if (b->chosen < 0 && b->chosen != -EAGAIN && b->chosen != -ETIMEDOUT && !b->has_error) {
		fprintf(stderr, "gochan: GO_SELECT failed: %s (and has no GO_SELECT_ERROR)\n",
			strerror(-b->chosen));
		abort();
	}
	b->at = 0;
	return 1;
}
