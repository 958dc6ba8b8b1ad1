/* SPDX-License-Identifier: MIT */
/*
 * Description: the weighted semaphore (go_semaphore, x/sync's Weighted): waiters are
 * served in arrival order and a large request is not overtaken by small ones; a context's
 * cancellation ends a wait with its error and gives nothing; the tokens in use never
 * exceed the size.
 */
#include <errno.h>
#include <string.h>

#include <gochan/context.h>

#include "tap.h"

static struct go_semaphore sem;
static struct go_waitgroup wg;
static char order[8];
static int norder;		/* under olock */
static struct go_sync_mutex olock;

struct req {
	char name;
	int64_t n;
	struct go_ctx *ctx;
	int ret;
};

static void acquirer(void *arg)
{
	struct req *r = arg;

	r->ret = go_semaphore_acquire(&sem, r->ctx, r->n);
	if (r->ret == 0) {
		go_sync_mutex_lock(&olock);
		order[norder++] = r->name;
		go_sync_mutex_unlock(&olock);
	}
	go_wg_done(&wg);
}

/* Start r and return once it waits. */
static void start_waiting(struct req *r)
{
	uint64_t parks0 = sync_parks();

	go_wg_add(&wg, 1);
	go_spawn(acquirer, r);
	wait_parks(parks0 + 1);
}

static int granted(void)
{
	int n;

	go_sync_mutex_lock(&olock);
	n = norder;
	go_sync_mutex_unlock(&olock);
	return n;
}

/*
 * A (5 tokens), B (1) and C (3) queue in that order behind a full semaphore of 10. A free
 * token that would fit B does not let B overtake A; A, then B, then C get in, in order.
 * (Each release below lets in one: the order of the grants is the order of the runs.)
 */
static void semaphore_fifo(void)
{
	struct req a = { 'A', 5, NULL, 1 }, b = { 'B', 1, NULL, 1 }, c = { 'C', 3, NULL, 1 };

	norder = 0;
	CHECK(go_semaphore_init(&sem, 10) == 0, "init");
	CHECK(go_semaphore_acquire(&sem, NULL, 10) == 0, "first acquire");
	start_waiting(&a);
	start_waiting(&b);
	start_waiting(&c);
	CHECK(go_semaphore_release(&sem, 1) == 0, "release 1");
	/* One token is free, but B is behind A: a try is refused too (someone waits). */
	CHECK(!go_semaphore_try_acquire(&sem, 1), "try overtook the queue");
	for (int i = 0; i < 20; i++)
		go_yield();
	CHECK(granted() == 0, "%d got in with 1 token free", granted());
	CHECK(go_semaphore_release(&sem, 4) == 0, "release 4");	/* 5 free: A */
	while (granted() < 1)
		go_yield();
	CHECK(go_semaphore_release(&sem, 1) == 0, "release 1");	/* 1 free: B */
	while (granted() < 2)
		go_yield();
	CHECK(go_semaphore_release(&sem, 3) == 0, "release 3");	/* 3 free: C */
	go_wg_wait(&wg);
	/* Served in arrival order. */
	CHECK(norder == 3 && !memcmp(order, "ABC", 3), "order %.*s, want ABC", norder, order);
	CHECK(a.ret == 0 && b.ret == 0 && c.ret == 0, "a failed acquire");
	/* 1 + 5 + 1 + 3 = 10 held: releasing all of it leaves the semaphore free. */
	CHECK(go_semaphore_release(&sem, 10) == 0, "release all");
	CHECK(go_semaphore_try_acquire(&sem, 10), "not free at the end");
}

/*
 * A waiter whose context is cancelled returns the context's error without tokens; the
 * waiter it held up (it was at the front) is let in by the cancel.
 */
static void semaphore_ctx_cancel(void)
{
	struct go_ctx *ctx;
	struct req a = { 'A', 2, NULL, 1 }, b = { 'B', 1, NULL, 1 };

	norder = 0;
	go_semaphore_init(&sem, 2);
	CHECK(go_semaphore_acquire(&sem, NULL, 2) == 0, "first acquire");
	CHECK(go_ctx_with_cancel(&ctx, go_ctx_background()) == 0, "ctx");
	a.ctx = ctx;
	start_waiting(&a);
	start_waiting(&b);
	CHECK(go_semaphore_release(&sem, 1) == 0, "release 1");	/* fits B, not A */
	for (int i = 0; i < 20; i++)
		go_yield();
	/* B stays behind A. */
	CHECK(granted() == 0, "B overtook A");
	go_ctx_cancel(ctx);
	go_wg_wait(&wg);
	/* A got the context's error, B got in once A left the front. */
	CHECK(a.ret == -ECANCELED, "A returned %d", a.ret);
	CHECK(b.ret == 0 && norder == 1 && order[0] == 'B', "B did not get in");
	/* A took nothing: 1 (ours) + 1 (B) are held. */
	CHECK(go_semaphore_release(&sem, 2) == 0, "release 2");
	CHECK(go_semaphore_release(&sem, 1) == -EINVAL, "released more than held");
	go_ctx_release(ctx);
}

static void semaphore_ctx_errors(void)
{
	struct go_ctx *ctx;

	go_semaphore_init(&sem, 1);
	CHECK(go_ctx_with_cancel(&ctx, go_ctx_background()) == 0, "ctx");
	go_ctx_cancel(ctx);
	/* A context cancelled before the call fails it, even with the tokens free. */
	CHECK(go_semaphore_acquire(&sem, ctx, 1) == -ECANCELED, "acquired on a done ctx");
	go_ctx_release(ctx);

	/* A deadline ends the wait with -ETIMEDOUT. */
	CHECK(go_semaphore_acquire(&sem, NULL, 1) == 0, "acquire");
	CHECK(go_ctx_with_timeout(&ctx, go_ctx_background(), 2000000) == 0, "ctx");
	CHECK(go_semaphore_acquire(&sem, ctx, 1) == -ETIMEDOUT, "no timeout");
	go_ctx_release(ctx);

	/* More than the size: waits for the context only ... */
	CHECK(go_ctx_with_timeout(&ctx, go_ctx_background(), 2000000) == 0, "ctx");
	CHECK(go_semaphore_acquire(&sem, ctx, 2) == -ETIMEDOUT, "oversized acquire");
	go_ctx_release(ctx);
	/* ... and bad arguments are refused. */
	CHECK(go_semaphore_acquire(&sem, NULL, -1) == -EINVAL, "negative acquire");
	CHECK(!go_semaphore_try_acquire(&sem, -1), "negative try");
	CHECK(go_semaphore_release(&sem, -1) == -EINVAL, "negative release");
	CHECK(go_semaphore_init(&sem, -1) == -EINVAL, "negative size");
	CHECK(go_semaphore_release(&sem, 1) == 0, "release");
}

/* A request larger than the size does not hold up the others (x/sync). */
static void semaphore_oversized_waits_aside(void)
{
	struct go_ctx *ctx;
	struct req big = { 'X', 5, NULL, 1 };

	norder = 0;
	go_semaphore_init(&sem, 2);
	CHECK(go_ctx_with_cancel(&ctx, go_ctx_background()) == 0, "ctx");
	big.ctx = ctx;
	start_waiting(&big);
	/* The small ones get in while it waits. */
	CHECK(go_semaphore_try_acquire(&sem, 2), "held up by an oversized waiter");
	CHECK(go_semaphore_release(&sem, 2) == 0, "release");
	go_ctx_cancel(ctx);
	go_wg_wait(&wg);
	CHECK(big.ret == -ECANCELED, "oversized waiter returned %d", big.ret);
	go_ctx_release(ctx);
}

/* ---- many goroutines, random weights, some cancelled ---- */

static int64_t in_use;		/* atomic */
static long sem_iters;

static void weighted_user(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (long i = 0; i < sem_iters; i++) {
		int64_t n = 1 + rand_r(&seed) % 4;
		int64_t now;

		CHECK(go_semaphore_acquire(&sem, NULL, n) == 0, "acquire");
		now = __atomic_add_fetch(&in_use, n, __ATOMIC_RELAXED);
		/* Never more tokens out than the size. */
		CHECK(now <= 6, "%lld tokens in use", (long long)now);
		if (rand_r(&seed) % 4 == 0)
			go_yield();
		__atomic_sub_fetch(&in_use, n, __ATOMIC_RELAXED);
		CHECK(go_semaphore_release(&sem, n) == 0, "release");
	}
	go_wg_done(&wg);
}

static void semaphore_never_oversubscribed(void)
{
	const int n = 32;

	sem_iters = tap_scale(1000);
	go_semaphore_init(&sem, 6);
	go_wg_add(&wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(weighted_user, (void *)(uintptr_t)(i + 1));
	go_wg_wait(&wg);
	/* All given back. */
	CHECK(go_semaphore_try_acquire(&sem, 6), "tokens leaked");
}

int main(int argc, char **argv)
{
	TEST(semaphore_fifo);
	TEST(semaphore_ctx_cancel);
	TEST(semaphore_ctx_errors);
	TEST(semaphore_oversized_waits_aside);
	TEST(semaphore_never_oversubscribed);
	return tap_any_failed;
}
