/* SPDX-License-Identifier: MIT */
/*
 * gochan/time.h - Go's time.Timer, time.Ticker, After, Tick and AfterFunc for goroutines:
 * timers whose channel is a plain struct go_chan, a case like any other in go_select (with
 * in-process and kernel channels alike, <gochan/chan.h>).
 *
 * Semantics: Go 1.23's (time/sleep.go, time/tick.go, runtime/time.go):
 *   - A timer sends the CLOCK_MONOTONIC time (go_now(), int64_t ns; Go sends time.Now())
 *     on its channel once, at or after its time; a ticker every period, dropping ticks
 *     for a slow receiver (at most one tick is ever pending).
 *   - The channel behaves as an unbuffered one for Stop and Reset: once go_time_stop()
 *     or go_time_reset() returns, no value from before the call can be received (Go 1.23:
 *     "no stale values"). The value fired waits for a receiver in a one-slot buffer that
 *     Stop and Reset empty under the timer's lock, so C differs from Go in one visible way:
 *     go_chan_len() may say 1 and go_chan_cap() says 1 (Go reports 0 for both).
 *   - A stopped timer, or a fired one, is in no heap: it costs its memory, nothing else
 *     (no heap entry, no wakeup). An unreferenced one costs nothing in Go, where the
 *     collector frees it; here the caller frees it with go_time_free() (C has no
 *     collector: After and Tick hand back the timer, not just its channel).
 *   - Each timer is one entry in the scheduler's timer heap (<gochan/sched.h>'s go_timer)
 *     while it is pending: thousands are fine.
 *
 * The channel: elem_size sizeof(int64_t), owned by the timer (valid until go_time_free;
 * never go_chan_close or go_chan_free it yourself). Never send on it.
 * Timers fire only while the scheduler runs (go_run): making one outside fails with -EPERM.
 *
 * Thread safety: every call may be made from any goroutine or thread, concurrently, but for
 * go_time_free, which must be the last call on the timer (as Go's programs drop their last
 * reference). Conventions: 0 or a negative errno value; errno is never set. Durations are
 * nanoseconds.
 */
#ifndef GOCHAN_TIME_H
#define GOCHAN_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include <gochan/chan.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A Timer, a Ticker or an AfterFunc timer (Go has three types; here one handle). */
struct go_time_timer;

/*
 * go_time_new_timer - Go's time.NewTimer(d): a timer that sends the time on its channel once,
 * after @d ns (d <= 0: at once, as Go).
 * Returns 0 with *tp set; -ENOMEM; -EPERM (the scheduler is not running).
 */
int go_time_new_timer(struct go_time_timer **tp, int64_t d);

/*
 * go_time_new_ticker - Go's time.NewTicker(d): sends the time every @d ns; a tick the receiver
 * has not taken by the next one is dropped (the next is not sent), so a slow receiver
 * sees fewer ticks, never a backlog. Returns 0; -EINVAL for d <= 0 (Go panics); -ENOMEM;
 * -EPERM.
 */
int go_time_new_ticker(struct go_time_timer **tp, int64_t d);

/*
 * go_time_after_func - Go's time.AfterFunc(d, f): after @d ns, run fn(arg) in its own goroutine
 * (go_spawn). Its channel is NULL. go_time_stop / go_time_reset apply; Stop does not
 * wait for a fn that has started. Returns 0; -ENOMEM; -EPERM.
 */
int go_time_after_func(struct go_time_timer **tp, int64_t d, void (*fn)(void *arg), void *arg);

/*
 * go_time_after / go_time_tick - Go's time.After(d) and time.Tick(d): the channel of a new timer or
 * ticker. C has no collector: the timer comes back in *tp, to go_time_free() once the
 * channel is no longer used (Go frees it when unreferenced). Go's Tick returns nil for
 * d <= 0; go_time_tick returns -EINVAL. Return 0 with *cp and *tp set, or go_time_new_timer's /
 * go_time_new_ticker's errors.
 */
int go_time_after(struct go_chan **cp, struct go_time_timer **tp, int64_t d);
int go_time_tick(struct go_chan **cp, struct go_time_timer **tp, int64_t d);

/* go_time_chan - Timer.C / Ticker.C: the timer's channel (NULL for go_time_after_func). */
struct go_chan *go_time_chan(struct go_time_timer *t);

/*
 * go_time_stop - Go's Timer.Stop / Ticker.Stop: the timer will not fire (again). Returns
 * true if it was pending (a timer that had not fired, an active ticker); false if it had
 * fired (a timer), was stopped already, or was an AfterFunc whose fn has started. Once it
 * returns, no value sent before it can be received from the channel (the pending one is
 * removed), as in Go 1.23; an AfterFunc's fn that has started runs on.
 */
bool go_time_stop(struct go_time_timer *t);

/*
 * go_time_reset - Go's Timer.Reset(d): make the timer fire after @d ns (once), whatever
 * its state; returns true if it was pending. No value from before the reset can be
 * received afterwards. On a ticker, Go's Ticker.Reset(d): the period becomes @d, the next
 * tick @d from now; it returns true if the ticker was active, and d <= 0 is refused
 * (false, nothing changed: Go panics).
 */
bool go_time_reset(struct go_time_timer *t, int64_t d);

/*
 * go_time_free - stop the timer and free it with its channel (NULL: nothing). Waits for a
 * firing in progress on another thread to finish with it; an AfterFunc's fn that has
 * started is not waited for (it does not use the timer). No goroutine may be blocked on
 * the channel, nor use the timer afterwards (go_chan_free's rule).
 */
void go_time_free(struct go_time_timer *t);

#ifdef __cplusplus
}
#endif

#endif /* GOCHAN_TIME_H */
