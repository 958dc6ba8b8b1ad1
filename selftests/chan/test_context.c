/* SPDX-License-Identifier: MIT */
/*
 * Description: contexts: the roots, WithCancel, WithDeadline/Timeout, WithValue, causes,
 * AfterFunc and its stop, WithoutCancel, Done in select, a cancelled child leaving its
 * parent, and cancellation storms over deep and wide trees from many goroutines
 * (after golang/go context/context_test.go and x_test.go).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/sched.h>

#include "tap.h"

/* Is Done closed? (a receive returns at once with ok = false) */
static bool done_closed(struct go_ctx *c)
{
	bool ok = true;
	struct go_chan *d = go_ctx_done(c);

	return d && go_chan_try_recv(d, NULL, &ok) == 0 && !ok;
}

static void roots_never_cancel(void)
{
	struct go_ctx *bg = go_ctx_background(), *todo = go_ctx_todo();
	int64_t d;

	/* Background and TODO: no Done channel, no error, no deadline, no values. */
	CHECK(go_ctx_done(bg) == NULL && go_ctx_done(todo) == NULL, "done not nil");
	CHECK(go_ctx_err(bg) == 0 && go_ctx_cause(bg) == 0, "err");
	CHECK(!go_ctx_deadline(bg, &d), "deadline");
	CHECK(go_ctx_value(bg, "k") == NULL, "value");
	CHECK(bg != todo, "distinct");
	/* They are not cancelable, and ref/release do nothing. */
	CHECK(go_ctx_cancel(bg) == -EINVAL, "cancel bg");
	go_ctx_release(go_ctx_ref(bg));
}

static void with_cancel(void)
{
	struct go_ctx *c;

	CHECK(go_ctx_with_cancel(&c, go_ctx_background()) == 0, "make");
	/* Not cancelled yet: Done open, Err 0. */
	CHECK(go_ctx_done(c) != NULL && !done_closed(c) && go_ctx_err(c) == 0, "fresh");
	/* Done is the same channel every time. */
	CHECK(go_ctx_done(c) == go_ctx_done(c), "done stable");
	go_ctx_cancel(c);
	/* Cancelled: Done closed, Err Canceled, Cause = Err. */
	CHECK(done_closed(c) && go_ctx_err(c) == -ECANCELED && go_ctx_cause(c) == -ECANCELED,
	      "err %d", go_ctx_err(c));
	/* Cancelling again changes nothing. */
	CHECK(go_ctx_cancel(c) == 0 && go_ctx_err(c) == -ECANCELED, "twice");
	go_ctx_release(c);
}

static void parent_cancel_cancels_subtree(void)
{
	struct go_ctx *p, *c1, *c2, *v, *gc;
	static int key;

	go_ctx_with_cancel(&p, go_ctx_background());
	go_ctx_with_cancel(&c1, p);
	go_ctx_with_value(&v, p, &key, "x");
	go_ctx_with_cancel(&c2, v);       /* through a value context */
	go_ctx_with_cancel(&gc, c2);
	go_ctx_done(gc);                  /* made before the cancel */
	go_ctx_cancel(p);
	/* Every descendant is cancelled with the parent's error. */
	CHECK(go_ctx_err(c1) == -ECANCELED && go_ctx_err(c2) == -ECANCELED &&
	      go_ctx_err(gc) == -ECANCELED && go_ctx_err(v) == -ECANCELED, "subtree");
	CHECK(done_closed(c1) && done_closed(gc) && done_closed(v), "done closed");
	/* A child of a cancelled parent is born cancelled. */
	struct go_ctx *late;

	go_ctx_with_cancel(&late, p);
	CHECK(go_ctx_err(late) == -ECANCELED && done_closed(late), "late child");
	go_ctx_release(late);
	go_ctx_release(gc);
	go_ctx_release(c2);
	go_ctx_release(v);
	go_ctx_release(c1);
	go_ctx_release(p);
}

static void child_cancel_leaves_parent(void)
{
	struct go_ctx *p, *c[3];

	go_ctx_with_cancel(&p, go_ctx_background());
	for (int i = 0; i < 3; i++)
		go_ctx_with_cancel(&c[i], p);
	go_ctx_cancel(c[1]);
	/* The parent and the siblings are untouched. */
	CHECK(go_ctx_err(p) == 0 && go_ctx_err(c[0]) == 0 && go_ctx_err(c[2]) == 0, "siblings");
	/* The cancelled child left the parent: cancelling the parent no longer reaches it
	 * (its cause stays its own). */
	go_ctx_cancel_cause(p, -1234);
	CHECK(go_ctx_cause(c[1]) == -ECANCELED, "cause %d", go_ctx_cause(c[1]));
	CHECK(go_ctx_cause(c[0]) == -1234 && go_ctx_cause(c[2]) == -1234, "siblings' cause");
	for (int i = 0; i < 3; i++)
		go_ctx_release(c[i]);
	go_ctx_release(p);
}

/* The reference counts made checkable: a cancelled child leaves its parent's children at
 * once (Go's removeChild), a released one too, and every context made is freed once its
 * last reference (user or internal) is gone. */
static void counters_see_children_leave(void)
{
	long live0 = go_ctx_debug_live();
	struct go_ctx *p, *v, *c[4];
	static int key;

	go_ctx_with_cancel(&p, go_ctx_background());
	go_ctx_with_value(&v, p, &key, NULL);
	for (int i = 0; i < 3; i++)
		go_ctx_with_cancel(&c[i], p);
	/* Through a value context, a cancel context is its cancel parent's child. */
	go_ctx_with_timeout(&c[3], v, 3600 * 1000 * MS);
	CHECK(go_ctx_debug_children(p) == 4, "children %ld", go_ctx_debug_children(p));
	CHECK(go_ctx_debug_live() == live0 + 6, "live %ld", go_ctx_debug_live() - live0);
	/* Not cancelable: no children list. */
	CHECK(go_ctx_debug_children(v) == -EINVAL, "value ctx");
	CHECK(go_ctx_debug_children(go_ctx_background()) == -EINVAL, "background");
	/* A cancelled child has left when go_ctx_cancel returns; still alive (referenced). */
	go_ctx_cancel(c[1]);
	CHECK(go_ctx_debug_children(p) == 3, "after cancel: %ld", go_ctx_debug_children(p));
	CHECK(go_ctx_debug_live() == live0 + 6, "live after cancel");
	/* A released child has left too, and is freed. */
	go_ctx_release(c[0]);
	CHECK(go_ctx_debug_children(p) == 2, "after release: %ld", go_ctx_debug_children(p));
	CHECK(go_ctx_debug_live() == live0 + 5, "live after release");
	/* The parent's cancel empties its list. */
	go_ctx_cancel(p);
	CHECK(go_ctx_debug_children(p) == 0, "after parent cancel");
	CHECK(go_ctx_debug_children(c[3]) == 0, "leaf");
	go_ctx_release(c[1]);
	go_ctx_release(c[2]);
	go_ctx_release(c[3]);
	go_ctx_release(v);
	go_ctx_release(p);
	/* Every context made here is freed (the deadline's timer was stopped by the cancel). */
	CHECK(go_ctx_debug_live() == live0, "leaked %ld", go_ctx_debug_live() - live0);
}

static void deadlines(void)
{
	struct go_ctx *c, *late, *early;
	int64_t d, t0 = go_now();

	/* (the parent's 300 ms leave room for a slow sanitizer run before it fires) */
	CHECK(go_ctx_with_timeout(&c, go_ctx_background(), 300 * MS) == 0, "make");
	CHECK(go_ctx_deadline(c, &d) && d >= t0 + 300 * MS, "deadline");
	CHECK(go_ctx_err(c) == 0 || go_now() >= t0 + 300 * MS, "not yet");
	/* A child asking for a later deadline gets the parent's. */
	go_ctx_with_deadline(&late, c, t0 + 5000 * MS);
	CHECK(go_ctx_deadline(late, &d) && d < t0 + 1000 * MS, "inherits the sooner");
	/* An earlier one is its own. */
	go_ctx_with_deadline(&early, c, t0 + 10 * MS);
	CHECK(go_ctx_deadline(early, &d) && d == t0 + 10 * MS, "own sooner");
	/* Waiting on Done returns at the deadline, with DeadlineExceeded. */
	bool ok = true;

	go_chan_recv(go_ctx_done(early), NULL, &ok);
	CHECK(!ok && go_ctx_err(early) == -ETIMEDOUT && go_now() - t0 >= 10 * MS, "early fired");
	/* (checked only before the parent's own deadline: a slow run may be past it) */
	int perr = go_ctx_err(c);

	CHECK(perr == 0 || go_now() >= t0 + 300 * MS, "parent untouched by a child's deadline");
	go_chan_recv(go_ctx_done(c), NULL, &ok);
	CHECK(go_now() - t0 >= 300 * MS, "fired early");
	/* The child is cancelled with the parent's error (its Done closes right after the
	 * parent's: wait for it, as Go's children are cancelled after the parent's close). */
	go_chan_recv(go_ctx_done(late), NULL, &ok);
	CHECK(go_ctx_err(c) == -ETIMEDOUT && go_ctx_err(late) == -ETIMEDOUT, "err %d %d",
	      go_ctx_err(c), go_ctx_err(late));
	/* A deadline already past cancels at once. */
	struct go_ctx *past;

	go_ctx_with_deadline(&past, go_ctx_background(), go_now() - 1);
	CHECK(go_ctx_err(past) == -ETIMEDOUT && done_closed(past), "past deadline");
	/* Cancelling before the deadline: Canceled, and the timer is stopped. */
	struct go_ctx *x;

	go_ctx_with_timeout(&x, go_ctx_background(), 20 * MS);
	go_ctx_cancel(x);
	go_sleep(30 * MS);
	CHECK(go_ctx_err(x) == -ECANCELED, "cancel beats deadline: %d", go_ctx_err(x));
	go_ctx_release(x);
	go_ctx_release(past);
	go_ctx_release(early);
	go_ctx_release(late);
	go_ctx_release(c);
}

static void causes(void)
{
	struct go_ctx *c, *child, *t;

	go_ctx_with_cancel_cause(&c, go_ctx_background());
	go_ctx_with_cancel(&child, c);
	/* No cause before cancellation. */
	CHECK(go_ctx_cause(c) == 0, "early cause");
	go_ctx_cancel_cause(c, -EOWNERDEAD);
	/* Err is Canceled, Cause the given cause, for the child too. */
	CHECK(go_ctx_err(c) == -ECANCELED && go_ctx_cause(c) == -EOWNERDEAD, "cause");
	CHECK(go_ctx_cause(child) == -EOWNERDEAD, "child's cause %d", go_ctx_cause(child));
	/* The first cancellation's cause wins. */
	go_ctx_cancel_cause(c, -EIO);
	CHECK(go_ctx_cause(c) == -EOWNERDEAD, "second cause");
	/* WithTimeoutCause: Err DeadlineExceeded, Cause the given one. */
	go_ctx_with_timeout_cause(&t, go_ctx_background(), 5 * MS, -ENOLINK);
	go_chan_recv(go_ctx_done(t), NULL, NULL);
	CHECK(go_ctx_err(t) == -ETIMEDOUT && go_ctx_cause(t) == -ENOLINK, "timeout cause %d",
	      go_ctx_cause(t));
	go_ctx_release(t);
	go_ctx_release(child);
	go_ctx_release(c);
	/* WithDeadlineCause cancelled by hand: the hand's cause. */
	go_ctx_with_deadline_cause(&t, go_ctx_background(), go_now() + 5000 * MS, -ENOLINK);
	go_ctx_cancel(t);
	CHECK(go_ctx_err(t) == -ECANCELED && go_ctx_cause(t) == -ECANCELED, "hand cancel");
	go_ctx_release(t);
}

static void values(void)
{
	static int k1, k2, k3;
	struct go_ctx *a, *b, *c, *w;

	go_ctx_with_value(&a, go_ctx_background(), &k1, "one");
	go_ctx_with_value(&b, a, &k2, "two");
	go_ctx_with_value(&c, b, &k1, "shadow");
	/* The nearest binding wins; missing keys give NULL. */
	CHECK(!strcmp(go_ctx_value(c, &k1), "shadow") && !strcmp(go_ctx_value(c, &k2), "two"),
	      "lookup");
	CHECK(!strcmp(go_ctx_value(b, &k1), "one") && go_ctx_value(c, &k3) == NULL, "scope");
	/* Values pass through cancel and without-cancel contexts. */
	go_ctx_with_cancel(&w, c);
	CHECK(!strcmp(go_ctx_value(w, &k2), "two"), "through cancel");
	go_ctx_release(w);
	/* A value context over a root never cancels. */
	CHECK(go_ctx_done(c) == NULL && go_ctx_err(c) == 0, "value over bg");
	go_ctx_release(c);
	go_ctx_release(b);
	go_ctx_release(a);
}

static void without_cancel(void)
{
	static int key;
	struct go_ctx *p, *v, *w, *child;
	int64_t d;

	go_ctx_with_timeout(&p, go_ctx_background(), 5000 * MS);
	go_ctx_with_value(&v, p, &key, "v");
	go_ctx_without_cancel(&w, v);
	go_ctx_with_cancel(&child, w);
	/* Values pass; the deadline and the cancellation do not. */
	CHECK(!strcmp(go_ctx_value(w, &key), "v"), "value");
	CHECK(!go_ctx_deadline(w, &d) && go_ctx_done(w) == NULL, "no deadline, no done");
	go_ctx_cancel(p);
	CHECK(go_ctx_err(v) == -ECANCELED, "v");
	CHECK(go_ctx_err(w) == 0 && go_ctx_err(child) == 0 && go_ctx_cause(w) == 0, "w cancelled");
	go_ctx_release(child);
	go_ctx_release(w);
	go_ctx_release(v);
	go_ctx_release(p);
}

static _Atomic int af_runs;

static void af_fn(void *arg)
{
	af_runs++;
	if (arg)
		go_chan_close(arg);
}

static void after_func(void)
{
	struct go_ctx *c;
	struct go_ctx_stop *stop;
	struct go_chan *ran;

	/* Runs once, in its own goroutine, after the cancel. */
	af_runs = 0;
	go_chan_make(&ran, 0, 0);
	go_ctx_with_cancel(&c, go_ctx_background());
	go_ctx_after_func(c, af_fn, ran, &stop);
	go_sleep(5 * MS);
	CHECK(af_runs == 0, "ran before cancel");
	go_ctx_cancel(c);
	go_chan_recv(ran, NULL, NULL);
	go_ctx_cancel(c);
	go_sleep(5 * MS);
	CHECK(af_runs == 1, "runs %d", (int)af_runs);
	/* stop after it started: false. */
	CHECK(!go_ctx_stop(stop), "stop after run");
	go_chan_free(ran);

	/* stop before the cancel: true, and it never runs. */
	struct go_ctx *c2;

	af_runs = 0;
	go_ctx_with_cancel(&c2, go_ctx_background());
	go_ctx_after_func(c2, af_fn, NULL, &stop);
	CHECK(go_ctx_stop(stop), "stop before");
	go_ctx_cancel(c2);
	go_sleep(10 * MS);
	CHECK(af_runs == 0, "ran after stop");

	/* On an already cancelled context: runs at once. */
	go_chan_make(&ran, 0, 0);
	go_ctx_after_func(c2, af_fn, ran, NULL);
	go_chan_recv(ran, NULL, NULL);
	CHECK(af_runs == 1, "on cancelled");
	go_chan_free(ran);

	/* On a context that can never be cancelled: stop returns true. */
	go_ctx_after_func(go_ctx_background(), af_fn, NULL, &stop);
	CHECK(go_ctx_stop(stop), "bg stop");

	/* Through a value context, on a deadline. */
	struct go_ctx *t, *v;
	static int key;

	go_chan_make(&ran, 0, 0);
	go_ctx_with_timeout(&t, go_ctx_background(), 5 * MS);
	go_ctx_with_value(&v, t, &key, NULL);
	go_ctx_after_func(v, af_fn, ran, NULL);
	go_chan_recv(ran, NULL, NULL);
	CHECK(af_runs == 2, "deadline afterfunc");
	go_chan_free(ran);
	go_ctx_release(v);
	go_ctx_release(t);
	go_ctx_release(c2);
	go_ctx_release(c);
}

/*
 * Sharp edge: Go's stop may be called any number of times. A second go_ctx_stop() used to
 * free the handle again (ASan: heap-use-after-free / double free); a handle never given to
 * go_ctx_stop() used to leak (ASan's leak check).
 */
static void after_func_stop_twice_and_never(void)
{
	struct go_ctx *c;
	struct go_ctx_stop *stop, *never;
	struct go_chan *ran;

	/* Stopped before the cancel: true, then false (already stopped), and fn never runs. */
	af_runs = 0;
	go_ctx_with_cancel(&c, go_ctx_background());
	go_ctx_after_func(c, af_fn, NULL, &stop);
	CHECK(go_ctx_stop(stop), "first stop");
	CHECK(!go_ctx_stop(stop), "second stop");
	CHECK(!go_ctx_stop(stop), "third stop");
	/* A handle never stopped is freed with its context. */
	go_ctx_after_func(c, af_fn, NULL, &never);
	go_ctx_release(c);
	CHECK(af_runs == 0, "ran %d", (int)af_runs);

	/* After fn started: false every time. */
	go_chan_make(&ran, 0, 0);
	go_ctx_with_cancel(&c, go_ctx_background());
	go_ctx_after_func(c, af_fn, ran, &stop);
	go_ctx_after_func(c, af_fn, NULL, &never);
	go_ctx_cancel(c);
	go_chan_recv(ran, NULL, NULL);
	CHECK(!go_ctx_stop(stop) && !go_ctx_stop(stop), "stop after run");
	go_ctx_release(c);
	go_chan_free(ran);

	/* On a context that is already cancelled, and on one that can never be. */
	go_chan_make(&ran, 0, 0);
	go_ctx_with_cancel(&c, go_ctx_background());
	go_ctx_cancel(c);
	go_ctx_after_func(c, af_fn, ran, &stop);
	go_chan_recv(ran, NULL, NULL);
	CHECK(!go_ctx_stop(stop) && !go_ctx_stop(stop), "stop on cancelled");
	go_ctx_release(c);
	go_chan_free(ran);
	go_ctx_after_func(go_ctx_background(), af_fn, NULL, &stop);
	go_ctx_after_func(go_ctx_background(), af_fn, NULL, &never);
	CHECK(go_ctx_stop(stop) && go_ctx_stop(stop), "background: fn never runs");
	go_sleep(5 * MS);	/* let the started fns finish before the leak check */
}

struct waiter { struct go_ctx *ctx; struct go_chan *work; struct go_waitgroup *wg; int why; };

static void done_waiter(void *p)
{
	struct waiter *w = p;
	long job;

	GO_SELECT {
	GO_CASE_RECV(w->work, &job, NULL)
		w->why = 1;
	GO_CASE_RECV(go_ctx_done(w->ctx), NULL, NULL)
		w->why = 2;
	}
	go_ctx_release(w->ctx);
	go_wg_done(w->wg);
}

static void done_in_select_wakes_all(void)
{
	enum { N = 100 };
	struct go_waitgroup wg = { 0 };
	struct waiter w[N];
	struct go_ctx *c;
	struct go_chan *work;

	go_chan_make(&work, sizeof(long), 0);
	go_ctx_with_cancel(&c, go_ctx_background());
	for (int i = 0; i < N; i++) {
		w[i] = (struct waiter){ .ctx = go_ctx_ref(c), .work = work, .wg = &wg };
		go_wg_add(&wg, 1);
		go_spawn(done_waiter, &w[i]);
	}
	go_sleep(10 * MS);
	go_ctx_cancel(c);
	go_wg_wait(&wg);
	/* Every goroutine blocked in select on Done woke through the Done case. */
	for (int i = 0; i < N; i++)
		CHECK(w[i].why == 2, "waiter %d: %d", i, w[i].why);
	go_ctx_release(c);
	go_chan_free(work);
}

/* Storms: a deep chain and a wide fan, built and cancelled concurrently. */
struct storm { struct go_ctx *root; int depth, width; struct go_waitgroup *wg; _Atomic int *bad; };

static void storm_builder(void *p)
{
	struct storm *s = p;
	struct go_ctx **kids = calloc((size_t)s->width, sizeof(*kids));
	struct go_ctx *cur = go_ctx_ref(s->root), *next;

	/* a chain below the root, then a fan below the chain's end */
	for (int i = 0; i < s->depth; i++) {
		if (i % 3 == 0)
			go_ctx_with_cancel(&next, cur);
		else if (i % 3 == 1)
			go_ctx_with_value(&next, cur, s, NULL);
		else
			go_ctx_with_timeout(&next, cur, 3600 * 1000 * MS);
		go_ctx_release(cur);
		cur = next;
	}
	for (int i = 0; i < s->width; i++) {
		go_ctx_with_cancel(&kids[i], cur);
		if (i % 7 == 0)
			go_ctx_cancel(kids[i]);      /* some leave early */
	}
	/* Wait for the root's cancel to reach every leaf. */
	for (int i = 0; i < s->width; i++) {
		bool ok = true;

		go_chan_recv(go_ctx_done(kids[i]), NULL, &ok);
		if (ok || !go_ctx_err(kids[i]))
			(*s->bad)++;
		go_ctx_release(kids[i]);
	}
	go_chan_recv(go_ctx_done(cur), NULL, NULL);
	if (go_ctx_err(cur) != -ECANCELED)
		(*s->bad)++;
	go_ctx_release(cur);
	free(kids);
	go_wg_done(s->wg);
}

static void cancel_storm(void)
{
	enum { G = 8 };
	struct go_waitgroup wg = { 0 };
	struct storm s[G];
	_Atomic int bad = 0;
	struct go_ctx *root;

	for (int round = 0; round < 3; round++) {
		go_ctx_with_cancel(&root, go_ctx_background());
		for (int g = 0; g < G; g++) {
			s[g] = (struct storm){ .root = root, .depth = (int)tap_scale(2000),
					       .width = (int)tap_scale(500), .wg = &wg, .bad = &bad };
			go_wg_add(&wg, 1);
			go_spawn(storm_builder, &s[g]);
		}
		go_sleep((round + 1) * 2 * MS);  /* cancel while trees are being built */
		go_ctx_cancel(root);
		go_wg_wait(&wg);
		go_ctx_release(root);
	}
	/* Every leaf and chain end saw the cancel. */
	CHECK(bad == 0, "%d contexts missed the cancel", (int)bad);
}

static void release_without_cancel_detaches(void)
{
	struct go_ctx *p, *c;

	go_ctx_with_cancel(&p, go_ctx_background());
	/* Many children made and released without a cancel: none stays attached (ASan's leak
	 * check sees it if they did). */
	for (int i = 0; i < 10000; i++) {
		go_ctx_with_timeout(&c, p, 3600 * 1000 * MS);
		go_ctx_release(c);
	}
	go_ctx_cancel(p);
	go_ctx_release(p);
	(void)0;
}

/*
 * A deadline's cancel holds only a memory reference on its context. Here the user releases
 * the whole chain (deadline -> value -> cancel) while that cancel is between cancelling the
 * context and unlinking it from its parent (a debug hook holds it there): the parent is
 * freed, and the unlink must not touch it.
 */
static struct {
	_Atomic uint32_t armed, in_cancel, released;
} unlink_race;

static void unlink_hook(void)
{
	uint32_t one = 1;
	int64_t until;

	if (!atomic_compare_exchange_strong(&unlink_race.armed, &one, 0))
		return;
	atomic_store(&unlink_race.in_cancel, 1);
	until = go_now() + 2000 * MS;
	while (!atomic_load(&unlink_race.released) && go_now() < until)
		go_sleep(MS);
}

extern void (*_go_debug_hook_ctx_unlink)(void);

static void release_during_deadline_cancel(void)
{
	struct go_ctx *p, *v, *d;
	static int key;
	int64_t until;

	go_ctx_with_cancel(&p, go_ctx_background());
	go_ctx_with_value(&v, p, &key, "x");
	CHECK(go_ctx_with_timeout(&d, v, 50 * MS) == 0, "deadline context");
	atomic_store(&unlink_race.armed, 1);
	atomic_store(&unlink_race.in_cancel, 0);
	atomic_store(&unlink_race.released, 0);
	__atomic_store_n(&_go_debug_hook_ctx_unlink, unlink_hook, __ATOMIC_RELEASE);
	until = go_now() + 5000 * MS;
	while (!atomic_load(&unlink_race.in_cancel) && go_now() < until)
		go_sleep(MS);
	/* The deadline fired and its cancel is held before the unlink. */
	CHECK(atomic_load(&unlink_race.in_cancel), "the deadline's cancel did not run in 5 s");
	go_ctx_release(d);
	go_ctx_release(v);
	go_ctx_release(p);
	atomic_store(&unlink_race.released, 1);
	/* The cancel finishes without touching the freed parent (ASan: no use after free). */
	go_sleep(50 * MS);
	__atomic_store_n(&_go_debug_hook_ctx_unlink, NULL, __ATOMIC_RELEASE);
}

int main(int argc, char **argv)
{
	TEST(roots_never_cancel);
	TEST(with_cancel);
	TEST(parent_cancel_cancels_subtree);
	TEST(child_cancel_leaves_parent);
	TEST(counters_see_children_leave);
	TEST(deadlines);
	TEST(causes);
	TEST(values);
	TEST(without_cancel);
	TEST(after_func);
	TEST(after_func_stop_twice_and_never);
	TEST(done_in_select_wakes_all);
	TEST(cancel_storm);
	TEST(release_without_cancel_detaches);
	TEST(release_during_deadline_cancel);
	return tap_any_failed;
}
