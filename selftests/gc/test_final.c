/* SPDX-License-Identifier: MIT */
/*
 * Description: finalizers (go_gc_set_finalizer). A finalizer runs once its object is
 * unreachable, on a goroutine, after the cycle that found it so, with the object and what it
 * reaches intact; once only, even when it makes its object reachable again; a finalizer
 * removed does not run; the object is then collected by a later cycle and its memory comes
 * back (heap statistics). Errors: an address that is not the start of a collected object,
 * a second finalizer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gochan/gc.h>
#include <gochan/sched.h>

#include "../../lib/gc/internal.h"
#include "helpers.h"
#include "tap.h" /* selftests/common */

struct obj {
	uint64_t magic;
	struct obj *child;
	char pad[48];
};

/* Cycles until finalizers have run n times in all (at most 200 cycles). */
static uint64_t gc_until_run(uint64_t n)
{
	for (int i = 0; i < 200 && stats().finalizers_run < n; i++) {
		go_gc();
		go_sleep(1000000);
	}
	return stats().finalizers_run;
}

static __attribute__((noinline)) void scrub_stack(void)
{
	volatile char buf[4096];

	memset((char *)buf, 0, sizeof(buf));
}

static int calls, child_ok, arg_ok;
static struct obj *resurrected;
static int token;

static void fin_fn(void *p, void *arg)
{
	struct obj *o = p;

	calls++;
	/* the object and what it points to are intact when fn runs */
	child_ok = o->magic == 0xf1 && o->child && o->child->magic == 0xc1;
	arg_ok = arg == &token;
	/* made reachable again: it must not be finalized a second time */
	GO_WB(resurrected, o);
}

static __attribute__((noinline)) void make_finalized(void)
{
	struct obj *o = go_new(sizeof(*o), 0);

	o->magic = 0xf1;
	o->child = go_new(sizeof(*o), 0);
	o->child->magic = 0xc1;
	CHECK(go_gc_set_finalizer(o, fin_fn, &token) == 0, "set");
	/* one finalizer per object; the start of an object only */
	CHECK(go_gc_set_finalizer(o, fin_fn, NULL) == -EEXIST, "set twice");
	CHECK(go_gc_set_finalizer((char *)o + 8, fin_fn, NULL) == -EINVAL, "interior");
	CHECK(go_gc_set_finalizer(&calls, fin_fn, NULL) == -EINVAL, "not collected");
}

/* Made by a goroutine that exits: no stale copy of the pointer stays on a live stack or in
 * a register of one (the stacks are scanned conservatively). */
static struct go_waitgroup made;

static void make_finalized_g(void *arg)
{
	(void)arg;
	make_finalized();
	scrub_stack();
	go_wg_done(&made);
}

/* Check the resurrected object and drop it, from a goroutine that exits (no copy of the
 * pointer stays in this goroutine's frame). */
static void check_resurrected_g(void *arg)
{
	(void)arg;
	CHECK(resurrected && resurrected->magic == 0xf1 && resurrected->child->magic == 0xc1,
	      "resurrected object");
	GO_WB(resurrected, (struct obj *)NULL);
	scrub_stack();
	go_wg_done(&made);
}

static void once_main(void *arg)
{
	struct go_gc_stats st0, st1;

	(void)arg;
	go_gc();
	st0 = stats();
	go_wg_add(&made, 1);
	go_spawn(make_finalized_g, NULL);
	go_wg_wait(&made);
	/* the finalizer ran once, with its object, its child and its argument intact */
	CHECK(gc_until_run(st0.finalizers_run + 1) == st0.finalizers_run + 1, "not run");
	CHECK(calls == 1 && child_ok && arg_ok, "calls %d child %d arg %d", calls, child_ok,
	      arg_ok);
	/* resurrected: alive through more cycles, and never finalized again */
	for (int i = 0; i < 5; i++)
		go_gc();
	go_sleep(2000000);
	CHECK(calls == 1, "finalizer ran %d times", calls);
	go_wg_add(&made, 1);
	go_spawn(check_resurrected_g, NULL);
	go_wg_wait(&made);
	/* dropped again: collected, its memory back (heap_marked as before) */
	for (int i = 0; i < 3; i++)
		go_gc();
	st1 = stats();
	CHECK(calls == 1, "finalizer ran %d times", calls);
	CHECK(st1.heap_marked == st0.heap_marked, "marked %lu, before %lu",
	      (unsigned long)st1.heap_marked, (unsigned long)st0.heap_marked);
}

static void finalizer_runs_once_even_if_it_resurrects(void)
{
	ga_gc_poison = true;
	calls = 0;
	CHECK(run(2, once_main, NULL) == 0, "go_run");
}

static int removed_calls;

static void removed_fn(void *p, void *arg)
{
	(void)p, (void)arg;
	removed_calls++;
}

static __attribute__((noinline)) void make_removed(int n)
{
	for (int i = 0; i < n; i++) {
		void *o = go_new(64, 0);

		CHECK(go_gc_set_finalizer(o, removed_fn, NULL) == 0, "set");
		if (i % 2)
			CHECK(go_gc_set_finalizer(o, NULL, NULL) == 0, "remove");
	}
}

static void make_removed_g(void *arg)
{
	(void)arg;
	make_removed(100);
	scrub_stack();
	go_wg_done(&made);
}

static void removed_main(void *arg)
{
	struct go_gc_stats st0 = stats();

	(void)arg;
	go_wg_add(&made, 1);
	go_spawn(make_removed_g, NULL);
	go_wg_wait(&made);
	gc_until_run(st0.finalizers_run + 50);
	for (int i = 0; i < 3; i++)
		go_gc();
	go_sleep(2000000);
	/* the 50 kept ran, the 50 removed did not */
	CHECK(removed_calls == 50, "%d finalizers ran", removed_calls);
}

static void removed_finalizers_do_not_run(void)
{
	removed_calls = 0;
	CHECK(run(2, removed_main, NULL) == 0, "go_run");
}

int main(int argc, char **argv)
{
	TEST(finalizer_runs_once_even_if_it_resurrects);
	TEST(removed_finalizers_do_not_run);
	return tap_any_failed;
}
