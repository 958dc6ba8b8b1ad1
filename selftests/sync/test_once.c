/* SPDX-License-Identifier: MIT */
/*
 * Description: sync.Once and OnceValues (go_sync_once_do, go_sync_once_value): the function
 * runs once under racing callers, goroutines and threads, every caller returns after it
 * did, a recursive call fails with -EDEADLK, and a value and an error reach every caller.
 */
#include <errno.h>
#include <pthread.h>

#include "tap.h"

static struct go_sync_once once;
static struct go_waitgroup wg;
static int calls;		/* atomic */
static int initialized;		/* written by the once function, plain */

static void init_fn(void *arg)
{
	__atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
	/* Take long, with switches: the racers must wait, not run it again. */
	for (int i = 0; i < 10; i++)
		go_yield();
	initialized = *(int *)arg;
}

static void racer(void *arg)
{
	static int v = 42;

	(void)arg;
	/* Every caller returns 0, after the function has returned. */
	CHECK(go_sync_once_do(&once, init_fn, &v) == 0, "once_do failed");
	CHECK(initialized == 42, "returned before the function did");
	go_wg_done(&wg);
}

static void *thread_racer(void *arg)
{
	racer(arg);
	return NULL;
}

static void once_runs_once_racing(void)
{
	const int n = 64;
	pthread_t t[2];

	once = (struct go_sync_once)GO_SYNC_ONCE_INIT;
	calls = 0;
	initialized = 0;
	go_wg_add(&wg, n + 2);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, thread_racer, NULL);
	for (int i = 0; i < n; i++)
		go_spawn(racer, NULL);
	go_wg_wait(&wg);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	/* 66 racing callers, one call. */
	CHECK(calls == 1, "the function ran %d times", calls);
	/* Later calls do nothing either. */
	CHECK(go_sync_once_do(&once, init_fn, &(int){ 7 }) == 0 && calls == 1 &&
	      initialized == 42, "ran again");
}

static int inner_ret = 1;

static void recursive_fn(void *arg)
{
	(void)arg;
	calls++;
	/* From inside the function, on the same Once: an error, not a deadlock. */
	inner_ret = go_sync_once_do(&once, recursive_fn, NULL);
}

static void once_recursive_call_fails(void)
{
	once = (struct go_sync_once)GO_SYNC_ONCE_INIT;
	calls = 0;
	/* The outer call runs the function and succeeds ... */
	CHECK(go_sync_once_do(&once, recursive_fn, NULL) == 0, "outer call failed");
	/* ... the inner one gets -EDEADLK and runs nothing. */
	CHECK(inner_ret == -EDEADLK, "inner call returned %d", inner_ret);
	CHECK(calls == 1, "the function ran %d times", calls);
}

/* ---- OnceValues ---- */

static struct go_sync_once_value ov;
static int v_calls;		/* atomic */

static int value_fn(void *arg, void **value)
{
	__atomic_fetch_add(&v_calls, 1, __ATOMIC_RELAXED);
	go_yield();
	*value = arg;
	return -EIO;
}

static void value_racer(void *arg)
{
	void *v = NULL;

	/* Every caller gets the one call's value and error. */
	CHECK(go_sync_once_value(&ov, value_fn, arg, &v) == -EIO, "wrong error");
	CHECK(v == (void *)&ov, "wrong value %p", v);
	go_wg_done(&wg);
}

static void once_value_reaches_every_caller(void)
{
	const int n = 32;

	ov = (struct go_sync_once_value)GO_SYNC_ONCE_VALUE_INIT;
	v_calls = 0;
	go_wg_add(&wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(value_racer, &ov);
	go_wg_wait(&wg);
	CHECK(v_calls == 1, "the function ran %d times", v_calls);
	/* A caller that wants no value still gets the error. */
	CHECK(go_sync_once_value(&ov, value_fn, NULL, NULL) == -EIO, "wrong error");
}

/* No scheduler: a plain thread's Once. */
static void once_without_scheduler(void)
{
	static int v = 42;

	once = (struct go_sync_once)GO_SYNC_ONCE_INIT;
	calls = 0;
	initialized = 0;
	CHECK(go_sync_once_do(&once, init_fn, &v) == 0 && calls == 1 && initialized == 42,
	      "first call");
	CHECK(go_sync_once_do(&once, init_fn, &v) == 0 && calls == 1, "second call");
}

int main(int argc, char **argv)
{
	TEST_THREADS(once_runs_once_racing);
	TEST(once_recursive_call_fails);
	TEST(once_value_reaches_every_caller);
	TEST_NO_SCHED(once_without_scheduler);
	return tap_any_failed;
}
