/* SPDX-License-Identifier: MIT */
/*
 * Description: the errgroup (go_errgroup, x/sync's Group): Wait waits for every goroutine
 * and returns the first error, which cancels the group's context; SetLimit bounds the
 * goroutines running at once, TryGo refuses past it.
 */
#include <errno.h>

#include <gochan/chan.h>
#include <gochan/context.h>

#include "tap.h"

static int ran;			/* atomic */

static int count_fn(void *arg)
{
	(void)arg;
	__atomic_fetch_add(&ran, 1, __ATOMIC_RELAXED);
	go_yield();
	return 0;
}

static void errgroup_waits_for_all(void)
{
	struct go_errgroup g = GO_ERRGROUP_INIT;	/* zero value: no context, no limit */
	const int n = 100;

	ran = 0;
	for (int i = 0; i < n; i++)
		CHECK(go_errgroup_go(&g, count_fn, NULL) == 0, "go");
	/* Wait returns once all ran, with no error. */
	CHECK(go_errgroup_wait(&g) == 0, "an error");
	CHECK(ran == n, "ran %d of %d", ran, n);
}

static int fail_fn(void *arg)
{
	return (int)(intptr_t)arg;
}

/* Returns only once the group's context is cancelled, with its error. */
static int until_cancelled_fn(void *arg)
{
	struct go_ctx *ctx = arg;

	go_chan_recv(go_ctx_done(ctx), NULL, NULL);
	__atomic_fetch_add(&ran, 1, __ATOMIC_RELAXED);
	return go_ctx_err(ctx);
}

static void errgroup_first_error_cancels(void)
{
	struct go_errgroup g;
	struct go_ctx *ctx;
	const int n = 10;

	ran = 0;
	CHECK(go_errgroup_init(&g, go_ctx_background(), &ctx) == 0, "init");
	for (int i = 0; i < n; i++)
		go_errgroup_go(&g, until_cancelled_fn, ctx);
	go_errgroup_go(&g, fail_fn, (void *)(intptr_t)-EIO);
	/* The others end only because -EIO cancelled the context: the first error wins. */
	CHECK(go_errgroup_wait(&g) == -EIO, "wrong first error");
	CHECK(ran == n, "%d of %d saw the cancel", ran, n);
	/* The context carries the error as its cause. */
	CHECK(go_ctx_err(ctx) == -ECANCELED, "ctx err %d", go_ctx_err(ctx));
	CHECK(go_ctx_cause(ctx) == -EIO, "ctx cause %d", go_ctx_cause(ctx));
	go_errgroup_destroy(&g);
}

static void errgroup_wait_cancels_ctx(void)
{
	struct go_errgroup g;
	struct go_ctx *ctx;

	CHECK(go_errgroup_init(&g, go_ctx_background(), &ctx) == 0, "init");
	go_errgroup_go(&g, count_fn, NULL);
	CHECK(go_errgroup_wait(&g) == 0, "an error");
	/* No error, but Wait cancels the context all the same (x/sync). */
	CHECK(go_ctx_err(ctx) == -ECANCELED, "ctx err %d", go_ctx_err(ctx));
	go_errgroup_destroy(&g);
}

/* ---- the limit ---- */

static int running, max_running;	/* atomic */
static struct go_chan *gate;		/* a limited goroutine waits on it */

static int limited_fn(void *arg)
{
	int now = __atomic_add_fetch(&running, 1, __ATOMIC_RELAXED);
	int max = __atomic_load_n(&max_running, __ATOMIC_RELAXED);

	(void)arg;
	while (now > max &&
	       !__atomic_compare_exchange_n(&max_running, &max, now, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
	for (int i = 0; i < 5; i++)
		go_yield();
	__atomic_sub_fetch(&running, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&ran, 1, __ATOMIC_RELAXED);
	return 0;
}

static void errgroup_limit_respected(void)
{
	struct go_errgroup g = GO_ERRGROUP_INIT;
	const int n = 40;

	ran = running = max_running = 0;
	CHECK(go_errgroup_set_limit(&g, 3) == 0, "set_limit");
	for (int i = 0; i < n; i++)
		CHECK(go_errgroup_go(&g, limited_fn, NULL) == 0, "go");
	CHECK(go_errgroup_wait(&g) == 0, "an error");
	/* All ran, never more than 3 at once. */
	CHECK(ran == n, "ran %d of %d", ran, n);
	CHECK(max_running <= 3, "%d ran at once", max_running);
}

static int gated_fn(void *arg)
{
	(void)arg;
	go_chan_recv(gate, NULL, NULL);		/* until the gate closes */
	return 0;
}

static void errgroup_trygo_at_limit(void)
{
	struct go_errgroup g = GO_ERRGROUP_INIT;

	CHECK(go_chan_make(&gate, 0, 0) == 0, "chan");
	CHECK(go_errgroup_set_limit(&g, 2) == 0, "set_limit");
	CHECK(go_errgroup_try_go(&g, gated_fn, NULL) == 0, "first try_go");
	CHECK(go_errgroup_try_go(&g, gated_fn, NULL) == 0, "second try_go");
	/* Two are running: a third is refused, and the limit cannot change under them. */
	CHECK(go_errgroup_try_go(&g, gated_fn, NULL) == -EAGAIN, "try_go past the limit");
	CHECK(go_errgroup_set_limit(&g, 5) == -EBUSY, "limit changed while active");
	go_chan_close(gate);
	CHECK(go_errgroup_wait(&g) == 0, "an error");
	/* Once they are done, the limit may change (or go). */
	CHECK(go_errgroup_set_limit(&g, -1) == 0, "set_limit after wait");
	go_chan_free(gate);
}

int main(int argc, char **argv)
{
	TEST(errgroup_waits_for_all);
	TEST(errgroup_first_error_cancels);
	TEST(errgroup_wait_cancels_ctx);
	TEST(errgroup_limit_respected);
	TEST(errgroup_trygo_at_limit);
	return tap_any_failed;
}
