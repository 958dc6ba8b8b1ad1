/* SPDX-License-Identifier: MIT */
/*
 * lib/kchan/select.c - the kernel channels' cases of a go_select (lib/chan/select.c, whose
 * top comment has the whole protocol).
 *
 *   kernel only   a select whose cases are all kernel channels is the kernel's own select:
 *                 a non-blocking GOCHAN_IOC_SELECT, or go_kchan_select, which queues it as an
 *                 io_uring command and parks;
 *   mixed         a select over in-process and kernel channels queues its kernel cases as one
 *                 detached kernel select (struct selkcmd) beside its sudogs; a channel waker
 *                 cancels it before claiming the select, and its completion claims the select
 *                 if nobody has;
 *   polled        without io_uring commands, a helper goroutine per kernel case parks in
 *                 go_poll() on its fd and wakes the select to try again (struct pollhelp).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "../chan/internal.h"

/* ---- Kernel-only selects: the kernel's own select --------------------------------------- */

int _go_select_kernel(struct go_select_case *cases, unsigned n, unsigned nk, bool block,
		      int64_t deadline)
{
	struct gochan_select_case kstack[SELECT_STACK_CASES], *kc = kstack;
	unsigned *map, mapstack[SELECT_STACK_CASES];
	struct gochan_select_result res = { 0 };
	int ret;

	map = mapstack;
	if (nk > SELECT_STACK_CASES) {
		kc = malloc(nk * sizeof(*kc));
		map = malloc(nk * sizeof(*map));
		if (!kc || !map) {
			free(kc);
			free(map);
			return -ENOMEM;
		}
	}
	_go_kcases_build(cases, n, kc, map);
	if (!block)
		ret = gochan_try_select(kc, nk, &res);
	else	/* queued in the kernel: the goroutine parks, not its thread */
		ret = go_kchan_select(kc, nk, &res, deadline);
	if (ret >= 0 || ret == -EPIPE) {
		struct go_select_case *cs = &cases[map[res.index]];

		cs->ok = ret >= 0 && (cs->dir == GO_SELECT_SEND || res.ok);
		if (cs->dir == GO_SELECT_RECV && !cs->ok)
			_go_chan_zero(cs->chan, cs->elem);
		ret = (int)map[res.index];
	}
	if (kc != kstack) {
		free(kc);
		free(map);
	}
	return ret;
}

/* ---- The kernel cases as a select's index, and back --------------------------------------- */

unsigned _go_kcases_build(const struct go_select_case *cases, unsigned n,
			  struct gochan_select_case *kc, unsigned *map)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct go_select_case *cs = &cases[i];

		if (!cs->chan || cs->chan->kind != CHAN_KERNEL)
			continue;
		map[k] = i;
		kc[k++] = cs->dir == GO_SELECT_SEND ? GOCHAN_SEND(cs->chan->fd, cs->elem)
						    : GOCHAN_RECV(cs->chan->fd, cs->elem);
	}
	return k;
}

int _go_kcases_apply(struct go_select_case *cases, const unsigned *map, unsigned nk, int res)
{
	unsigned k = (unsigned)res & GOCHAN_SELECT_RES_INDEX;
	struct go_select_case *cs;

	if (k >= nk)
		return -EIO;	/* the kernel named a case we did not give it */
	cs = &cases[map[k]];
	if (cs->dir == GO_SELECT_SEND) {
		cs->ok = !(res & GOCHAN_SELECT_RES_CLOSED);
	} else {
		cs->ok = res & GOCHAN_SELECT_RES_OK;
		if (!cs->ok)
			_go_chan_zero(cs->chan, cs->elem);
	}
	return (int)map[k];
}

/* ---- The kernel cases of a mixed select: one queued kernel command ------------------------ */

struct selkcmd *_go_selkcmd_new(struct go_g *g, int fd)
{
	struct selkcmd *kc = malloc(sizeof(*kc));

	if (kc)
		*kc = (struct selkcmd){ .sw = { .fired = SEL_FIRED_NONE, .g = g }, .refs = 1,
					.fd = fd };
	return kc;
}

void _go_selkcmd_put(struct selkcmd *kc)
{
	if (fetch_add(&kc->refs, -1) == 1)
		free(kc);
}

bool _go_selkcmd_cancel(struct selkcmd *kc)
{
	/*
	 * -ENOENT: the kernel completed it, or someone cancelled it first: another waker, or
	 * the close(2) of its fd, whose number may name another channel by now. Its completion
	 * claims the select unless someone did: skip it. Any other error means the fd is no
	 * longer a channel's: its close(2) cancelled the command.
	 */
	return gochan_cancel(kc->fd, (uint64_t)(uintptr_t)kc, false) != -ENOENT;
}

/* The command's completion, from the poller (see _go_kcmd_done_fn): atomics only. */
static struct go_g *selkcmd_done(void *arg, int res)
{
	struct selkcmd *kc = arg;
	struct selwait *sw = &kc->sw;
	struct go_g *wake = NULL, *g = sw->g;

	kc->res = _go_kcmd_missing(res, kc->fd) ? -EOPNOTSUPP : res;
	/*
	 * Any result claims the select if nobody has: a value the kernel moved; -ECANCELED
	 * from a cancel nobody claimed after (the fd's close(2): the select retries), or from
	 * a waker's cancel whose claim we beat (that waker skips the select, which retries
	 * and finds it). Claimed already (by a waker after its cancel, or by the timer): tell
	 * a select waiting in selkcmd_settle that the result is in.
	 */
	if (cas(&sw->done, 0u, 1)) {
		store_relaxed(&sw->fired, SEL_FIRED_KERNEL);
		if (xchg(&sw->parked, 2) == 1)
			wake = g;
	} else {
		store_release(&kc->completed, 1);
		if (xchg(&kc->parked, 2) == 1)
			wake = g;
	}
	_go_selkcmd_put(kc);
	return wake;
}

static bool selkcmd_park_unlock(struct go_g *g, void *arg)
{
	struct selkcmd *kc = arg;

	(void)g;
	return cas(&kc->parked, 0u, 1);
}

int _go_selkcmd_submit(struct selkcmd *kc, const struct gochan_select_case *kcases,
		       unsigned nk)
{
	int ret;

	kc->sw.kc = kc;
	fetch_add_relaxed(&kc->refs, 1);	/* the command's */
	ret = _go_kselect_submit(kcases, nk, (uint64_t)(uintptr_t)kc, selkcmd_done, kc);
	if (ret < 0) {
		kc->sw.kc = NULL;
		fetch_add_relaxed(&kc->refs, -1);
	}
	return ret;
}

int _go_selkcmd_settle(struct selkcmd *kc, int fired)
{
	if (fired == SEL_FIRED_TIMEOUT && !_go_selkcmd_cancel(kc)) {
		/* the kernel completed it: wait for its completion to be reaped */
		if (!load_acquire(&kc->completed))
			go_park(selkcmd_park_unlock, kc, "select (kernel command)");
		(void)load_acquire(&kc->completed);
		if (kc->res != -ECANCELED)
			fired = SEL_FIRED_KERNEL;
	}
	return fired;
}

/* ---- Kernel-fd polls for a mixed select ---------------------------------------------------- */

/*
 * A goroutine per kernel case parks in go_poll() on its fd and claims the select when the fd
 * becomes ready. It cannot be cancelled (the scheduler has no poll cancel), so it owns a
 * reference to this heap block and polls in slices of POLL_SLICE_NS, checking whether the
 * select has finished; the select marks it finished under the lock, after which the helper
 * never touches the select again.
 */
#define POLL_SLICE_NS (20 * 1000 * 1000LL)

enum { PH_ARMED, PH_CLAIMING, PH_DONE };

struct pollhelp {
	int refs;
	int state;                /* PH_ARMED -> PH_CLAIMING (helper) -> PH_DONE, or -> PH_DONE
				   * (the select finishing first) */
	struct selwait *sw;       /* touched only between ARMED and CLAIMING -> DONE */
	int fd;
	short events;
	int64_t deadline;
};

static void pollhelp_put(struct pollhelp *ph)
{
	if (fetch_add(&ph->refs, -1) == 1)
		free(ph);
}

static void pollhelp_run(void *arg)
{
	struct pollhelp *ph = arg;

	for (;;) {
		int64_t until = go_now() + POLL_SLICE_NS;
		int r;

		if (ph->deadline >= 0 && ph->deadline < until)
			until = ph->deadline;
		r = go_poll(ph->fd, ph->events, until);
		if (load_acquire(&ph->state) != PH_ARMED)
			break;
		if (r != -ETIMEDOUT) {
			/* Ready (or an error the retry will report): let the select retry. No lock
			 * is held here: go_ready may switch us out. */
			if (cas(&ph->state, PH_ARMED, PH_CLAIMING)) {
				_go_selwait_claim(ph->sw, SEL_FIRED_POLL);
				store_release(&ph->state, PH_DONE);
			}
			break;
		}
		if (ph->deadline >= 0 && go_now() >= ph->deadline)
			break;
	}
	pollhelp_put(ph);
}

struct pollhelp *_go_pollhelp_start(struct selwait *sw, const struct go_select_case *cs,
				    int64_t deadline)
{
	struct pollhelp *ph = calloc(1, sizeof(*ph));

	if (!ph)
		return NULL;
	ph->refs = 2;
	ph->sw = sw;
	ph->fd = cs->chan->fd;
	ph->events = cs->dir == GO_SELECT_SEND ? POLLOUT : POLLIN;
	ph->deadline = deadline;
	if (go_spawn(pollhelp_run, ph) < 0) {
		free(ph);
		return NULL;
	}
	return ph;
}

void _go_pollhelp_finish(struct pollhelp *ph)
{
	if (!cas(&ph->state, PH_ARMED, PH_DONE))
		while (load_acquire(&ph->state) != PH_DONE)
			go_yield();	/* the helper is inside _go_selwait_claim: briefly */
	pollhelp_put(ph);
}

