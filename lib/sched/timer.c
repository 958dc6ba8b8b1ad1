/* SPDX-License-Identifier: MIT */
/*
 * timer.c - one-shot timers in a binary min-heap ordered by when.
 *
 * One heap for the process, under timers.lock (Go keeps one per P; a global heap is simpler
 * and costs one uncontended lock per start/stop here). _go_timers_earliest is the root's when,
 * read without the lock by every schedule() to skip the lock when nothing is due.
 *
 * Who runs due timers: every M at each schedule(), and the M blocked in the poller, which
 * sleeps until the earliest one. A timer that becomes the earliest breaks that sleep.
 * A timer's function runs with no lock held and t already IDLE, so it may free t (the
 * sleeping goroutine's timer is on its stack and dies as soon as it is readied).
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

/*
 * The heap, all under timers.lock. Invariants: heap[0..n) are the PENDING timers, each t at
 * heap[t->heap_index]; heap[(i - 1) / 2]->when <= heap[i]->when for every i > 0; n <= cap.
 * An IDLE timer is in no heap: go_timer_stop, the run of a due timer and go_run's end take
 * it out in the critical section that makes it IDLE.
 */
static struct {
	go_lock_t lock;
	struct go_timer **heap;		/* cap entries, grown by doubling */
	uint32_t n, cap;
} timers;

/* heap[0]->when, or INT64_MAX; atomic (read by every schedule(), without the lock) */
int64_t _go_timers_earliest = INT64_MAX;

static void set_earliest_locked(void)
{
	store_release(&_go_timers_earliest, timers.n ? timers.heap[0]->when : INT64_MAX);
}

static void place(uint32_t i, struct go_timer *t)
{
	go_assert(i < timers.n);
	timers.heap[i] = t;
	t->heap_index = i;
}

static void sift_up(uint32_t i)
{
	struct go_timer *t = timers.heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (timers.heap[parent]->when <= t->when)
			break;
		place(i, timers.heap[parent]);
		i = parent;
	}
	place(i, t);
	/* the heap order, at the one place sift_up touched last */
	go_assert(i == 0 || timers.heap[(i - 1) / 2]->when <= t->when);
}

static void sift_down(uint32_t i)
{
	struct go_timer *t = timers.heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= timers.n)
			break;
		if (c + 1 < timers.n && timers.heap[c + 1]->when < timers.heap[c]->when)
			c++;
		if (t->when <= timers.heap[c]->when)
			break;
		place(i, timers.heap[c]);
		i = c;
	}
	place(i, t);
}

static void remove_at_locked(uint32_t i)
{
	struct go_timer *last = timers.heap[--timers.n];

	if (i < timers.n) {
		place(i, last);
		sift_down(i);
		sift_up(last->heap_index);
	}
}

int _go_timers_init(void)
{
	_go_lock(&timers.lock);
	timers.n = 0;
	set_earliest_locked();
	_go_unlock(&timers.lock);
	return 0;
}

/* go_run's end: pending timers are dropped (they will not fire). */
void _go_timers_fini(void)
{
	uint32_t i;

	_go_lock(&timers.lock);
	for (i = 0; i < timers.n; i++)
		store_relaxed(&timers.heap[i]->state, (uint32_t)Ts_IDLE);
	timers.n = 0;
	set_earliest_locked();
	_go_unlock(&timers.lock);
}

bool _go_timers_pending(void)
{
	return load_acquire(&_go_timers_earliest) != INT64_MAX;
}

int64_t _go_timers_next(void)
{
	int64_t e = load_acquire(&_go_timers_earliest);

	return e == INT64_MAX ? -1 : e;
}

int64_t _go_timers_run(int64_t now)
{
	while (load_acquire(&_go_timers_earliest) <= now) {
		void (*fn)(struct go_timer *, void *);
		struct go_timer *t;
		void *arg;

		_go_lock(&timers.lock);
		if (!timers.n || timers.heap[0]->when > now) {
			_go_unlock(&timers.lock);
			break;
		}
		t = timers.heap[0];
		remove_at_locked(0);
		set_earliest_locked();
		fn = t->fn;
		arg = t->arg;
		store_release(&t->state, (uint32_t)Ts_IDLE);
		_go_unlock(&timers.lock);
		stat_inc(&_go_sched.stats.timers_fired);
		fn(t, arg);
	}
	return _go_timers_next();
}

GOCHAN_API int go_timer_start(struct go_timer *t, int64_t when_ns,
			      void (*fn)(struct go_timer *t, void *arg), void *arg)
{
	bool first;

	if (!t || !fn)
		return -EINVAL;
	if (!load_acquire(&_go_sched.running))
		return -EPERM;
	_go_lock(&timers.lock);
	if (load_relaxed(&t->state) == Ts_PENDING) {
		_go_unlock(&timers.lock);
		return -EBUSY;
	}
	if (timers.n == timers.cap) {
		uint32_t cap = timers.cap ? timers.cap * 2 : 64;
		struct go_timer **h = realloc(timers.heap, cap * sizeof(*h));

		if (!h) {
			_go_unlock(&timers.lock);
			return -ENOMEM;
		}
		timers.heap = h;
		timers.cap = cap;
	}
	t->when = when_ns;
	t->fn = fn;
	t->arg = arg;
	store_relaxed(&t->state, (uint32_t)Ts_PENDING);
	place(timers.n++, t);
	sift_up(t->heap_index);
	first = timers.heap[0] == t;
	if (first)
		set_earliest_locked();
	_go_unlock(&timers.lock);
	if (first) {
		/* Someone must wake for it: the poller's sleeper, or an idle M. */
		if (load_acquire(&_go_netpoll_blocked))
			_go_netpoll_wake_for(when_ns);
		else
			_go_wakep();
	}
	return 0;
}

GOCHAN_API bool go_timer_stop(struct go_timer *t)
{
	bool was_pending = false;

	if (!t)
		return false;
	_go_lock(&timers.lock);
	if (load_relaxed(&t->state) == Ts_PENDING) {
		/* a pending timer is in the heap, where its heap_index says */
		go_assert(t->heap_index < timers.n && timers.heap[t->heap_index] == t);
		remove_at_locked(t->heap_index);
		set_earliest_locked();
		store_relaxed(&t->state, (uint32_t)Ts_IDLE);
		was_pending = true;
	}
	_go_unlock(&timers.lock);
	return was_pending;
}

/* ---- sleeping ------------------------------------------------------------------------------- */

struct sleeper {
	struct go_timer t;
	int64_t when;
};

static void sleep_fire(struct go_timer *t, void *arg)
{
	(void)t;
	go_ready(arg, 0);
}

/* go_park's unlock: the goroutine is off its stack, now the timer may fire. */
static bool sleep_arm(struct go_g *g, void *arg)
{
	struct sleeper *s = arg;

	return go_timer_start(&s->t, s->when, sleep_fire, g) == 0;
}

GOCHAN_API void go_sleep_until(int64_t deadline_ns)
{
	struct sleeper s = { .when = deadline_ns };

	if (!_go_curg) {
		struct timespec ts = { deadline_ns / 1000000000, deadline_ns % 1000000000 };
		int saved = errno;

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		errno = saved;
		return;
	}
	if (deadline_ns <= _go_nanotime()) {
		go_yield();
		return;
	}
	go_park(sleep_arm, &s, "sleep");
}

GOCHAN_API void go_sleep(int64_t ns)
{
	if (ns <= 0) {
		go_yield();
		return;
	}
	go_sleep_until(_go_nanotime() + ns);
}
