/* SPDX-License-Identifier: MIT */
/*
 * lib/time/timer.c - Go's Timer, Ticker, After, Tick and AfterFunc (<gochan/time.h>) on the
 * scheduler's timer heap (lib/sched/timer.c) and an in-process channel of one slot.
 *
 * An "arming" is one go_timer_start of tm->t; it ends when the heap fires it (tm_fire runs)
 * or a stop takes it out (go_timer_stop true). Each firing decides under tm->lock whether
 * it still stands:
 *   - armed false: a Stop came after it was taken from the heap: drop it;
 *   - tm->t PENDING again: a Reset re-armed the timer after it was taken from the heap:
 *     the new arming fires on its own; drop this one;
 *   - else send the time (try: a ticker drops a tick nobody took) and, for a ticker, arm
 *     the next one.
 * Stop and Reset, under the same lock, take the arming out of the heap, clear armed (Stop)
 * and empty the channel's slot: no value from before them survives them (Go 1.23's
 * guarantee; Go does the same with t.seq and timerchandrain).
 *
 * Invariant: inflight == the armings not yet ended (a firing ends its arming at its last
 * touch of tm, after unlocking): so once tm is out of the heap and inflight == 0, nothing
 * will touch it, and go_time_free may free it.
 *
 * Lock order: tm->lock, then the channel's lock (the firing's send, Stop's drain), then
 * timers.lock (go_timer_start/stop). tm->lock is a go_mutex_t, as a channel's: taken by
 * goroutines and by the scheduler's threads running timers; besides the channel calls its
 * holder makes only go_timer_start/stop (the heap's lock, and waking an idle M or the
 * poller for a new earliest timer: never a switch) and go_spawn (AfterFunc).
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include <gochan/time.h>

#include "../sched/internal.h"

enum tm_kind { TM_TIMER, TM_TICKER, TM_FUNC };

struct go_time_timer {
	go_mutex_t lock;
	struct go_timer t;		/* the heap entry: armed, fired and stopped under lock */
	enum tm_kind kind;		/* fixed */
	struct go_chan *c;		/* fixed; NULL for TM_FUNC; one slot of int64_t */
	int64_t period;			/* TM_TICKER, under lock */
	void (*fn)(void *);		/* TM_FUNC, fixed */
	void *arg;			/* TM_FUNC, fixed */
	bool armed;			/* under lock: a firing of the current arming is wanted */
	uint32_t inflight;		/* atomic: armings not ended (see the top) */
};

struct af_call {
	void (*fn)(void *);
	void *arg;
};

static void af_run(void *p)
{
	struct af_call call = *(struct af_call *)p;

	free(p);
	call.fn(call.arg);
}

static void tm_fire(struct go_timer *gt, void *arg);

/* Start an arming at when; lock held. */
static int tm_arm(struct go_time_timer *tm, int64_t when)
{
	int ret;

	fetch_add(&tm->inflight, 1);
	ret = go_timer_start(&tm->t, when, tm_fire, tm);
	if (ret < 0) {
		fetch_add(&tm->inflight, -1);
		return ret;
	}
	tm->armed = true;
	return 0;
}

/* Take the current arming out of the heap and empty the slot; lock held. Returns true if
 * the arming was pending or its value was still unreceived (Go's "pending"). */
static bool tm_disarm(struct go_time_timer *tm)
{
	bool pending = false;

	if (go_timer_stop(&tm->t)) {
		fetch_add(&tm->inflight, -1);	/* ended here: it will not fire */
		pending = true;
	}
	tm->armed = false;
	if (tm->c) {
		int64_t stale;
		bool ok;

		if (go_chan_try_recv(tm->c, &stale, &ok) == 0 && ok)
			pending = true;
	}
	return pending;
}

static void tm_fire(struct go_timer *gt, void *arg)
{
	struct go_time_timer *tm = arg;

	_go_mutex_lock(&tm->lock);
	if (tm->armed && load_acquire(&gt->state) != Ts_PENDING) {
		int64_t now = go_now();

		switch (tm->kind) {
		case TM_TIMER:
			tm->armed = false;
			go_chan_try_send(tm->c, &now);	/* the slot is empty: Stop/Reset drain it */
			break;
		case TM_TICKER: {
			int64_t when = gt->when, p = tm->period;

			go_chan_try_send(tm->c, &now);	/* -EAGAIN: the last tick waits; drop */
			/* the next tick on the period's grid, after now (Go's t.when += ...) */
			when += p * (1 + (now > when ? (now - when) / p : 0));
			if (tm_arm(tm, when) < 0)
				tm->armed = false;	/* no memory for the heap: it stops */
			break;
		}
		case TM_FUNC: {
			struct af_call *call = malloc(sizeof(*call));

			tm->armed = false;
			if (call) {
				call->fn = tm->fn;
				call->arg = tm->arg;
				if (go_spawn(af_run, call) < 0)
					free(call);	/* no stack: as Go, nowhere to run it */
			}
			break;
		}
		}
	}
	_go_mutex_unlock(&tm->lock);
	/* The last touch of tm (its arming ends): go_time_free may free it now. */
	fetch_add(&tm->inflight, -1);
}

static int tm_new(struct go_time_timer **tp, enum tm_kind kind, int64_t d, int64_t period,
		  void (*fn)(void *), void *arg)
{
	struct go_time_timer *tm;
	int ret;

	if (!load_acquire(&_go_sched.running))
		return -EPERM;
	tm = calloc(1, sizeof(*tm));
	if (!tm)
		return -ENOMEM;
	tm->kind = kind;
	tm->period = period;
	tm->fn = fn;
	tm->arg = arg;
	if (kind != TM_FUNC) {
		ret = go_chan_make(&tm->c, sizeof(int64_t), 1);
		if (ret < 0)
			goto out_free;
	}
	_go_mutex_lock(&tm->lock);
	ret = tm_arm(tm, go_now() + (d > 0 ? d : 0));
	_go_mutex_unlock(&tm->lock);
	if (ret < 0)
		goto out_chan;
	*tp = tm;
	return 0;

out_chan:
	go_chan_free(tm->c);
out_free:
	free(tm);
	return ret;
}

GOCHAN_API int go_time_new_timer(struct go_time_timer **tp, int64_t d)
{
	return tm_new(tp, TM_TIMER, d, 0, NULL, NULL);
}

GOCHAN_API int go_time_new_ticker(struct go_time_timer **tp, int64_t d)
{
	if (d <= 0)
		return -EINVAL;
	return tm_new(tp, TM_TICKER, d, d, NULL, NULL);
}

GOCHAN_API int go_time_after_func(struct go_time_timer **tp, int64_t d, void (*fn)(void *),
				  void *arg)
{
	if (!fn)
		return -EINVAL;
	return tm_new(tp, TM_FUNC, d, 0, fn, arg);
}

GOCHAN_API int go_time_after(struct go_chan **cp, struct go_time_timer **tp, int64_t d)
{
	int ret = go_time_new_timer(tp, d);

	if (ret == 0)
		*cp = (*tp)->c;
	return ret;
}

GOCHAN_API int go_time_tick(struct go_chan **cp, struct go_time_timer **tp, int64_t d)
{
	int ret = go_time_new_ticker(tp, d);

	if (ret == 0)
		*cp = (*tp)->c;
	return ret;
}

GOCHAN_API struct go_chan *go_time_chan(struct go_time_timer *tm)
{
	return tm ? tm->c : NULL;
}

GOCHAN_API bool go_time_stop(struct go_time_timer *tm)
{
	bool pending;

	if (!tm)
		return false;
	_go_mutex_lock(&tm->lock);
	pending = tm_disarm(tm);
	_go_mutex_unlock(&tm->lock);
	return pending;
}

GOCHAN_API bool go_time_reset(struct go_time_timer *tm, int64_t d)
{
	bool pending;

	if (!tm || (tm->kind == TM_TICKER && d <= 0))
		return false;
	_go_mutex_lock(&tm->lock);
	pending = tm_disarm(tm);
	if (tm->kind == TM_TICKER)
		tm->period = d;
	/* -EPERM after go_run's end, -ENOMEM: it stays stopped (Go cannot fail here) */
	tm_arm(tm, go_now() + (d > 0 ? d : 0));
	_go_mutex_unlock(&tm->lock);
	return pending;
}

GOCHAN_API void go_time_free(struct go_time_timer *tm)
{
	if (!tm)
		return;
	_go_mutex_lock(&tm->lock);
	tm_disarm(tm);
	_go_mutex_unlock(&tm->lock);
	/* A firing taken from the heap before our stop may still be running elsewhere. (After
	 * go_run's end the heap was dropped, firings and all: nothing runs any more.) */
	while (load_acquire(&tm->inflight) && load_acquire(&_go_sched.running)) {
		if (go_id())
			go_yield();
		else
			sched_yield();
	}
	go_chan_free(tm->c);
	free(tm);
}
