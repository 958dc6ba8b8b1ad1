/* SPDX-License-Identifier: MIT */
/*
 * Description: timers as channels (<gochan/time.h>): a timer fires once and not early,
 * timers fire in the order of their times, Stop and Reset leave no stale value (Go 1.23),
 * a ticker's period, After/Tick/AfterFunc, a timer case in a select with channel cases
 * (and kernel channel cases where the module is loaded), 10000 timers, and Stop/Reset
 * racing the firing on several Ps (after golang/go time/sleep_test.go, tick_test.go).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include <gochan/chan.h>
#include <gochan/kchan.h>
#include <gochan/sched.h>
#include <gochan/time.h>

#include "../chan/tap.h"

/* Wait until the timer's value is in its slot (fired, not received): go_chan_len says 1. */
static bool wait_fired(struct go_time_timer *t)
{
	int64_t end = go_now() + 10000 * MS;

	while (go_chan_len(go_time_chan(t)) == 0) {
		if (go_now() > end)
			return false;
		go_sleep(MS / 10);
	}
	return true;
}

static void timer_fires_once_not_early(void)
{
	struct go_time_timer *t;
	int64_t start = go_now(), v = 0;
	bool ok = false;

	CHECK(go_time_new_timer(&t, 5 * MS) == 0, "make");
	/* It sends the time once, not before its time. */
	CHECK(go_chan_recv(go_time_chan(t), &v, &ok) == 0 && ok, "recv");
	CHECK(v >= start + 5 * MS, "early by %lld ns", (long long)(start + 5 * MS - v));
	go_sleep(10 * MS);
	CHECK(go_chan_try_recv(go_time_chan(t), &v, &ok) == -EAGAIN, "a second value");
	/* Stop after it fired and was received: false. */
	CHECK(!go_time_stop(t), "stop after receive");
	go_time_free(t);
}

static void timers_fire_in_time_order(void)
{
	static const int64_t d[3] = { 60 * MS, 20 * MS, 40 * MS };
	struct go_time_timer *t[3];
	struct go_select_case cs[3];
	int64_t v[3];
	int order[3];

	for (int i = 0; i < 3; i++) {
		go_time_new_timer(&t[i], d[i]);
		cs[i] = (struct go_select_case)GO_RECV_CASE(go_time_chan(t[i]), &v[i]);
	}
	/* Received in the order of their times (20 ms apart: a generous bound). */
	for (int k = 0; k < 3; k++) {
		int r = go_select(cs, 3);

		CHECK(r >= 0 && cs[r].ok, "select %d", r);
		if (r < 0)
			return;
		order[k] = r;
		cs[r].chan = NULL;	/* the nil channel: never chosen again */
	}
	CHECK(order[0] == 1 && order[1] == 2 && order[2] == 0, "order %d %d %d",
	      order[0], order[1], order[2]);
	for (int i = 0; i < 3; i++)
		go_time_free(t[i]);
}

static void stop_leaves_no_stale_value(void)
{
	struct go_time_timer *t;
	int64_t v;
	bool ok;

	/* Stop before it fires: true; it never fires. */
	go_time_new_timer(&t, 20 * MS);
	CHECK(go_time_stop(t), "stop pending");
	CHECK(!go_time_stop(t), "stop twice");
	go_sleep(40 * MS);
	CHECK(go_chan_try_recv(go_time_chan(t), &v, &ok) == -EAGAIN, "fired after stop");
	go_time_free(t);

	/* Stop after it fired, value not received: Go 1.23 says true, and the value is gone. */
	go_time_new_timer(&t, 0);
	CHECK(wait_fired(t), "never fired");
	CHECK(go_time_stop(t), "stop with a value waiting");
	CHECK(go_chan_try_recv(go_time_chan(t), &v, &ok) == -EAGAIN, "stale value after stop");
	CHECK(go_chan_len(go_time_chan(t)) == 0, "len after stop");
	go_time_free(t);
}

static void reset_semantics(void)
{
	struct go_time_timer *t;
	int64_t v = 0, at;
	bool ok;

	go_time_new_timer(&t, 0);
	CHECK(wait_fired(t), "never fired");
	/* Reset with a value waiting: true, and that value is gone. */
	CHECK(go_time_reset(t, 3600 * 1000 * MS), "reset with a value waiting");
	CHECK(go_chan_try_recv(go_time_chan(t), &v, &ok) == -EAGAIN, "stale value after reset");
	/* Reset a pending timer: true; it fires once, at the new time. */
	at = go_now();
	CHECK(go_time_reset(t, 2 * MS), "reset pending");
	CHECK(go_chan_recv(go_time_chan(t), &v, &ok) == 0 && ok && v >= at + 2 * MS, "refire");
	/* Reset a fired and received timer: false; it fires again. */
	CHECK(!go_time_reset(t, MS), "reset expired");
	CHECK(go_chan_recv(go_time_chan(t), &v, &ok) == 0 && ok, "fires after reset");
	/* Reset of a stopped timer: false; it fires. */
	go_time_reset(t, 3600 * 1000 * MS);
	go_time_stop(t);
	CHECK(!go_time_reset(t, 0), "reset stopped");
	CHECK(go_chan_recv(go_time_chan(t), &v, &ok) == 0 && ok, "fires after stop + reset");
	go_time_free(t);
}

static void ticker_period(void)
{
	struct go_time_timer *t;
	int64_t start = go_now(), v = 0, prev = 0;
	bool ok;

	CHECK(go_time_new_ticker(&t, 0) == -EINVAL, "period 0");
	CHECK(go_time_new_ticker(&t, 2 * MS) == 0, "make");
	/* The n-th tick received comes no earlier than n periods after the start, and ticks
	 * come in increasing time. */
	for (int n = 1; n <= 5; n++) {
		CHECK(go_chan_recv(go_time_chan(t), &v, &ok) == 0 && ok, "tick %d", n);
		CHECK(v >= start + n * 2 * MS && v > prev, "tick %d early", n);
		prev = v;
	}
	/* A slow receiver finds at most one tick waiting (no backlog). */
	go_sleep(20 * MS);
	CHECK(go_chan_len(go_time_chan(t)) <= 1, "backlog %zu", go_chan_len(go_time_chan(t)));
	/* Reset changes the period; d <= 0 is refused. */
	CHECK(!go_time_reset(t, 0), "reset 0");
	start = go_now();
	CHECK(go_time_reset(t, 5 * MS), "reset active ticker");
	for (int n = 1; n <= 2; n++) {
		CHECK(go_chan_recv(go_time_chan(t), &v, &ok) == 0 && ok, "tick %d", n);
		CHECK(v >= start + n * 5 * MS, "tick %d early after reset", n);
	}
	/* Stop: true, and no tick afterwards. */
	CHECK(go_time_stop(t), "stop");
	go_sleep(15 * MS);
	CHECK(go_chan_try_recv(go_time_chan(t), &v, &ok) == -EAGAIN, "tick after stop");
	go_time_free(t);
}

static _Atomic int af_ran;

static void af_fn(void *arg)
{
	af_ran++;
	if (arg)
		go_chan_close(arg);
}

static void after_tick_after_func(void)
{
	struct go_time_timer *t;
	struct go_chan *c, *done;
	int64_t start = go_now(), v = 0;
	bool ok;

	/* After: the channel of a timer. */
	CHECK(go_time_after(&c, &t, 2 * MS) == 0, "after");
	CHECK(go_chan_recv(c, &v, &ok) == 0 && ok && v >= start + 2 * MS, "after's value");
	go_time_free(t);
	/* Tick: the channel of a ticker; d <= 0 refused. */
	CHECK(go_time_tick(&c, &t, 0) == -EINVAL, "tick 0");
	CHECK(go_time_tick(&c, &t, MS) == 0, "tick");
	for (int i = 0; i < 3; i++)
		CHECK(go_chan_recv(c, &v, &ok) == 0 && ok, "tick %d", i);
	go_time_free(t);

	/* AfterFunc: fn runs once, in its own goroutine; no channel. */
	af_ran = 0;
	go_chan_make(&done, 0, 0);
	CHECK(go_time_after_func(&t, MS, af_fn, done) == 0, "after_func");
	CHECK(go_time_chan(t) == NULL, "after_func has no channel");
	go_chan_recv(done, NULL, NULL);
	CHECK(af_ran == 1, "ran %d", (int)af_ran);
	/* Stop after it started: false. */
	CHECK(!go_time_stop(t), "stop after run");
	go_time_free(t);
	go_chan_free(done);
	/* Stopped before: true, and fn never runs. */
	go_time_after_func(&t, 10 * MS, af_fn, NULL);
	CHECK(go_time_stop(t), "stop before");
	go_sleep(20 * MS);
	CHECK(af_ran == 1, "ran after stop");
	go_time_free(t);
}

static void sender(void *p)
{
	long v = 7;

	go_sleep(5 * MS);
	go_chan_send(p, &v);
}

static void select_with_timer_and_channels(void)
{
	struct go_time_timer *t;
	struct go_chan *c, *quiet;
	int64_t tv = 0;
	long v = 0;
	int r;

	go_chan_make(&c, sizeof(long), 1);
	go_chan_make(&quiet, sizeof(long), 0);
	/* Nothing else ready: the timer case is chosen. */
	go_time_new_timer(&t, 2 * MS);
	struct go_select_case cs[] = {
		GO_RECV_CASE(quiet, &v), GO_RECV_CASE(go_time_chan(t), &tv), GO_RECV_CASE(c, &v),
	};
	r = go_select(cs, 3);
	CHECK(r == 1 && cs[1].ok && tv > 0, "timer case: %d", r);
	/* A channel ready first wins over a far timer, which Stop then cancels. */
	go_time_reset(t, 3600 * 1000 * MS);
	go_spawn(sender, c);
	r = go_select(cs, 3);
	CHECK(r == 2 && v == 7, "channel case: %d", r);
	CHECK(go_time_stop(t), "stop the far timer");
	go_time_free(t);

	/* With a kernel channel case too (where the module is loaded). */
	int fd = gochan_make(sizeof(long), 0, GOCHAN_CREATE_CLOEXEC);
	struct go_chan *k;

	if (fd < 0) {
		printf("# no kernel channels (%d): mixed select part skipped\n", fd);
	} else {
		go_chan_from_fd(&k, fd, GO_CHAN_FD_OWN);
		go_time_new_timer(&t, 2 * MS);
		struct go_select_case ks[] = {
			GO_RECV_CASE(k, &v), GO_RECV_CASE(go_time_chan(t), &tv),
			GO_RECV_CASE(quiet, &v),
		};
		r = go_select(ks, 3);
		CHECK(r == 1 && ks[1].ok, "timer beside a kernel case: %d", r);
		go_time_free(t);
		go_chan_free(k);
	}
	go_chan_free(c);
	go_chan_free(quiet);
}

/* 10000 timers, times spread over 20 ms: every one fires, none early. */
static void many_timers_fire(void)
{
	enum { N = 10000 };
	struct go_time_timer **t = calloc(N, sizeof(*t));
	int64_t start = go_now(), bad = 0;

	for (int i = 0; i < N; i++)
		CHECK(go_time_new_timer(&t[i], (i % 200) * (MS / 10)) == 0, "make %d", i);
	for (int i = 0; i < N; i++) {
		int64_t v = 0;
		bool ok = false;

		go_chan_recv(go_time_chan(t[i]), &v, &ok);
		bad += !ok || v < start + (i % 200) * (MS / 10);
	}
	CHECK(bad == 0, "%lld timers early or missing", (long long)bad);
	for (int i = 0; i < N; i++)
		go_time_free(t[i]);
	free(t);
}

/* Stop and Reset race the firing (on another P when there are two): whatever the timing,
 * once Stop returns nothing is left to receive, and a timer freed right after it was armed
 * (its firing possibly running) is freed safely (ASan). */
static void stop_races_firing(void)
{
	long n = tap_scale(3000), stale = 0;
	struct go_time_timer *t;

	go_time_new_timer(&t, 0);
	for (long i = 0; i < n; i++) {
		int64_t v;
		bool ok;

		go_time_reset(t, (i % 3) * 1000);	/* 0, 1 or 2 us */
		if (i % 2)
			go_yield();
		go_time_stop(t);
		stale += go_chan_try_recv(go_time_chan(t), &v, &ok) != -EAGAIN;
	}
	CHECK(stale == 0, "%ld stale values after stop", stale);
	go_time_free(t);
	for (long i = 0; i < n / 10; i++) {
		struct go_time_timer *u;

		go_time_new_ticker(&u, 1000);
		if (i % 2)
			go_yield();
		go_time_free(u);
	}
}

static void outside_the_scheduler(void)
{
	struct go_time_timer *t;

	/* Timers need the scheduler's heap. */
	CHECK(go_time_new_timer(&t, MS) == -EPERM, "no scheduler");
}

int main(int argc, char **argv)
{
	TEST(timer_fires_once_not_early);
	TEST(timers_fire_in_time_order);
	TEST(stop_leaves_no_stale_value);
	TEST(reset_semantics);
	TEST(ticker_period);
	TEST(after_tick_after_func);
	TEST(select_with_timer_and_channels);
	TEST(many_timers_fire);
	TEST(stop_races_firing);
	TEST_NO_SCHED(outside_the_scheduler);
	return tap_any_failed;
}
