/* SPDX-License-Identifier: MIT */
/*
 * Description: the concurrent mark and its hybrid write barrier. With the verify mode on
 * (every cycle re-marks the heap with the world stopped and aborts on a reachable object
 * left white) and freed memory poisoned:
 *   - a pointer moved from an unscanned object to a goroutine's scanned (black) stack while
 *     the collector marks survives (the barrier's deletion half);
 *   - a pointer moved from an unscanned object into an object allocated black survives;
 *   - random object graphs mutated through the barrier by goroutines on several Ps, while
 *     cycles run back to back, keep every reachable object intact (a checksum in each,
 *     checked whenever a walk reaches it);
 *   - the same program built with the barrier disabled (GO_GC_BROKEN_BARRIER) is caught:
 *     this test can fail.
 * Nothing is timed: the stress runs a fixed number of operations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gochan/gc.h>
#include <gochan/sched.h>

#include "../../lib/gc/internal.h"
#include "helpers.h"
#include "child.h" /* selftests/common */
#include "rand.h"
#include "tap.h"

extern bool _go_gc_verify_force;

#if defined(__SANITIZE_THREAD__)
#define SANITIZE_THREAD 1
#else
#define SANITIZE_THREAD 0
#endif

#define NKIDS 4

struct node {
	uint64_t id;
	uint64_t sum;
	struct node *kid[NKIDS];
};
GO_TYPE_DEFINE(node_type, struct node, kid[0], kid[1], kid[2], kid[3]);

static uint64_t node_sum(const struct node *n)
{
	return ((uintptr_t)n * 0x9e3779b97f4a7c15ull) ^ n->id ^ 0x5bd1e995;
}

static struct node *node_new(uint64_t id)
{
	struct node *n = go_new_typed(&node_type, 1);

	n->id = id;
	n->sum = node_sum(n);
	return n;
}

static bool node_ok(const struct node *n)
{
	return n->sum == node_sum(n);
}

/* A pointer kept where the collector cannot see it (not a root): only a black stack would
 * hold it in a real program; here a scrambled global stands for that. */
#define HIDE 0xa5a5a5a5a5a5a5a5ull
static uintptr_t hidden;

/* ---- the deletion half ---------------------------------------------------------------------- */

static struct node *root_a;
static int deletion_result;

/* Marking has begun, the world runs, this goroutine's stack is black, no root scanned yet:
 * take x off root_a (unscanned) and keep it only "on the stack". */
static void deletion_hook(void)
{
	struct node *x = root_a->kid[0];

	GO_WB(root_a->kid[0], (struct node *)NULL); /* the deletion barrier shades x */
	hidden = (uintptr_t)x ^ HIDE;
	x = NULL;
	_go_gc_debug_mark_begun = NULL;
}

static void deletion_main(void *arg)
{
	struct node *x;

	(void)arg;
	GO_WB(root_a, node_new(1));
	GO_WB(root_a->kid[0], node_new(2));
	_go_gc_debug_mark_begun = deletion_hook;
	/* the hook runs in this cycle: x survives it only through the barrier (else its
	 * sweep, done when go_gc returns, poisons it) */
	go_gc();
	x = (struct node *)(hidden ^ HIDE);
	deletion_result = x->id == 2 && node_ok(x) ? 1 : -1;
	GO_WB(root_a->kid[1], x);
	go_gc();
	deletion_result = deletion_result == 1 && node_ok(root_a->kid[1]) ? 1 : -1;
	root_a = NULL;
}

static void deletion_barrier_keeps_an_object_moved_to_a_black_stack(void)
{
	ga_gc_poison = true;
	_go_gc_verify_force = true;
	deletion_result = 0;
	CHECK(run(2, deletion_main, NULL) == 0, "go_run");
	/* the object moved off the heap while marking ran, the verify mode found no white
	 * object reachable, and it is intact */
	CHECK(deletion_result == 1, "result %d", deletion_result);
}

/* ---- into an object allocated black ---------------------------------------------------------- */

static struct node *root_b, *root_black;
static int black_result;

static void black_hook(void)
{
	struct node *b = node_new(10); /* allocated black: never scanned this cycle */
	struct node *x = root_b->kid[0];

	GO_WB(b->kid[0], x);
	GO_WB(root_b->kid[0], (struct node *)NULL);
	GO_WB(root_black, b);
	_go_gc_debug_mark_begun = NULL;
}

static void black_main(void *arg)
{
	(void)arg;
	GO_WB(root_b, node_new(3));
	GO_WB(root_b->kid[0], node_new(4));
	_go_gc_debug_mark_begun = black_hook;
	go_gc();
	black_result = root_black && root_black->kid[0] && root_black->kid[0]->id == 4 &&
			       node_ok(root_black->kid[0]) ? 1 : -1;
	root_b = root_black = NULL;
}

static void barrier_keeps_an_object_stored_into_a_black_one(void)
{
	ga_gc_poison = true;
	_go_gc_verify_force = true;
	black_result = 0;
	CHECK(run(2, black_main, NULL) == 0, "go_run");
	/* reachable only through an object allocated while marking: intact */
	CHECK(black_result == 1, "result %d", black_result);
}

/* ---- random graphs, many goroutines, cycles back to back --------------------------------------- */

#define MUTATORS 4
#define SLOTS 32
#define OPS 20000   /* at least, each mutator; and until the collector's cycles are done */
#define CYCLES 20

/* The stress's knobs, from the environment for the soak (selftests/gc/soak.sh): Ps, cycles
 * and a seed mixed into each mutator's. */
static unsigned stress_procs = 2, stress_cycles = CYCLES;
static uint64_t stress_seed;

static void stress_knobs(void)
{
	const char *v;

	if ((v = getenv("GC_STRESS_PROCS")) && atoi(v) > 0)
		stress_procs = (unsigned)atoi(v);
	if ((v = getenv("GC_STRESS_CYCLES")) && atoi(v) > 0)
		stress_cycles = (unsigned)atoi(v);
	if ((v = getenv("GC_STRESS_SEED")))
		stress_seed = strtoull(v, NULL, 0);
}

static struct node *slots[MUTATORS][SLOTS];
static int stress_errors;
static uint32_t stress_stop;
static struct go_waitgroup stress_wg;


/* Walk up to depth levels from n, checking every node met. */
static int walk(struct node *n, int depth)
{
	int bad = 0;

	if (!n)
		return 0;
	if (!node_ok(n))
		return 1;
	if (depth == 0)
		return 0;
	for (int i = 0; i < NKIDS; i++)
		bad += walk(n->kid[i], depth - 1);
	return bad;
}

/* A random node reachable from slot row k, or NULL. */
static struct node *pick(struct node **row, uint64_t *s)
{
	struct node *n = row[xorshift64(s) % SLOTS];

	for (int d = (int)(xorshift64(s) % 4); n && d > 0; d--) {
		struct node *c = n->kid[xorshift64(s) % NKIDS];

		if (!c)
			break;
		n = c;
	}
	return n;
}

static void mutator(void *arg)
{
	uintptr_t k = (uintptr_t)arg;
	struct node **row = slots[k];
	uint64_t s = (0x9e3779b97f4a7c15ull * (k + 1)) ^ stress_seed;

	if (!s)
		s = 1; /* (xorshift's one fixed point) */

	for (int op = 0; op < OPS || !__atomic_load_n(&stress_stop, __ATOMIC_RELAXED); op++) {
		struct node *a = pick(row, &s), *b;
		uint64_t r = xorshift64(&s) % 100;

		if (r < 30 || !a) {
			/* a new node into a slot or a kid */
			b = node_new((uint64_t)op);
			if (a && r & 1)
				GO_WB(a->kid[xorshift64(&s) % NKIDS], b);
			else
				GO_WB(row[xorshift64(&s) % SLOTS], b);
		} else if (r < 60) {
			/* move: off the heap onto the stack, allocate (safe points: the stack may
			 * be scanned meanwhile), back into another node */
			int i = (int)(xorshift64(&s) % NKIDS);
			struct node *x = a->kid[i];

			GO_WB(a->kid[i], (struct node *)NULL);
			for (int j = 0; j < 4; j++)
				node_new(0); /* garbage */
			b = pick(row, &s);
			if (b)
				GO_WB(b->kid[xorshift64(&s) % NKIDS], x);
			else
				GO_WB(row[xorshift64(&s) % SLOTS], x);
		} else if (r < 70) {
			/* cut */
			GO_WB(a->kid[xorshift64(&s) % NKIDS], (struct node *)NULL);
		} else if (r < 80 && !SANITIZE_THREAD) {
			/* share across rows: another mutator's node into ours (racy reads of
			 * another goroutine's nodes: not under TSan) */
			b = pick(slots[(k + 1) % MUTATORS], &s);
			GO_WB(a->kid[xorshift64(&s) % NKIDS], b);
		} else {
			if (walk(a, 3))
				__atomic_fetch_add(&stress_errors, 1, __ATOMIC_RELAXED);
		}
		/* (the scheduler preempts a goroutine only in program code: one that mostly
		 * allocates is seldom caught there, and the collecting goroutine would wait) */
		if (op % 64 == 0)
			go_yield();
	}
	go_wg_done(&stress_wg);
}

static struct go_waitgroup collector_wg;
static bool stress_resize;
static int resizes;
#define RESIZES 24

/* go_set_maxprocs during the cycles: Ps, with their caches and grey objects, come and go */
static int resize_errors;
static struct go_waitgroup resizer_wg;

static void resizer(void *arg)
{
	static const int sizes[] = { 1, 4, 2, 3, 1, 3, 4, 2 };

	(void)arg;
	for (int i = 0; !__atomic_load_n(&stress_stop, __ATOMIC_RELAXED); i++) {
		int n = sizes[i % 8], prev = go_set_maxprocs(n);

		if (prev < 1 || prev > 4 || go_maxprocs() != (unsigned)n)
			resize_errors++;
		__atomic_fetch_add(&resizes, 1, __ATOMIC_RELAXED);
		go_sleep(200000);
	}
	go_wg_done(&resizer_wg);
}

static void collector(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < stress_cycles; i++)
		go_gc();
	/* (with the resizer: cycles go on until it has made its changes) */
	while (stress_resize && __atomic_load_n(&resizes, __ATOMIC_RELAXED) < RESIZES)
		go_gc();
	__atomic_store_n(&stress_stop, 1, __ATOMIC_RELAXED);
	go_wg_done(&collector_wg);
}

static void stress_main(void *arg)
{
	(void)arg;
	go_wg_add(&stress_wg, MUTATORS);
	for (uintptr_t k = 0; k < MUTATORS; k++)
		go_spawn(mutator, (void *)k);
	go_wg_add(&collector_wg, 1);
	go_spawn(collector, NULL);
	if (stress_resize) {
		go_wg_add(&resizer_wg, 1);
		go_spawn(resizer, NULL);
	}
	go_wg_wait(&collector_wg);
	go_wg_wait(&stress_wg);
	if (stress_resize)
		go_wg_wait(&resizer_wg);
	for (int k = 0; k < MUTATORS; k++)
		for (int i = 0; i < SLOTS; i++)
			if (walk(slots[k][i], 6))
				__atomic_fetch_add(&stress_errors, 1, __ATOMIC_RELAXED);
	go_gc();
	for (int k = 0; k < MUTATORS; k++)
		for (int i = 0; i < SLOTS; i++)
			if (walk(slots[k][i], 6))
				__atomic_fetch_add(&stress_errors, 1, __ATOMIC_RELAXED);
}

static void random_graphs_mutated_during_back_to_back_cycles(void)
{
	struct go_gc_stats st0 = { .size = sizeof(st0) }, st1 = { .size = sizeof(st1) };

	ga_gc_poison = true;
	_go_gc_verify_force = true;
	stress_errors = 0;
	stress_stop = 0;
	go_gc_read_stats(&st0);
	stress_knobs();
	CHECK(run(stress_procs, stress_main, NULL) == 0, "go_run");
	go_gc_read_stats(&st1);
	/* every node a walk reached had its checksum (freed memory is poisoned), and the
	 * verify mode found no reachable object white after any cycle */
	CHECK(stress_errors == 0, "%d corrupted nodes met", stress_errors);
	CHECK(st1.cycles - st0.cycles >= stress_cycles, "only %lu cycles of %u",
	      (unsigned long)(st1.cycles - st0.cycles), stress_cycles);
	memset(slots, 0, sizeof(slots));
}

/*
 * The same while another goroutine changes the number of Ps (go_set_maxprocs) through 1 to 4
 * every 200 us, RESIZES times at least: a P removed while the collector marks takes its grey
 * objects and its allocation cache out of the world; none may be lost (the verify mode would
 * find a reachable object white, and the walks a freed node). Without the collector's
 * handover of a removed P (_go_gc_p_retire_hook, mark termination over every P ever used)
 * this fails about one run in three.
 */
static void random_graphs_survive_cycles_while_ps_come_and_go(void)
{
	struct go_gc_stats st0 = { .size = sizeof(st0) }, st1 = { .size = sizeof(st1) };

	ga_gc_poison = true;
	_go_gc_verify_force = true;
	stress_errors = 0;
	stress_stop = 0;
	stress_resize = true;
	resizes = resize_errors = 0;
	go_gc_read_stats(&st0);
	CHECK(run(2, stress_main, NULL) == 0, "go_run");
	go_gc_read_stats(&st1);
	stress_resize = false;
	CHECK(stress_errors == 0, "%d corrupted nodes met", stress_errors);
	CHECK(st1.cycles - st0.cycles >= CYCLES, "only %lu cycles",
	      (unsigned long)(st1.cycles - st0.cycles));
	/* each resize returned the count before it and made the new one */
	CHECK(resize_errors == 0, "%d resizes went wrong", resize_errors);
	printf("# %d resizes during %lu cycles\n", resizes,
	       (unsigned long)(st1.cycles - st0.cycles));
	memset(slots, 0, sizeof(slots));
}

/* ---- the test can fail ------------------------------------------------------------------------- */

/* Run this program's test `name` as built with the barrier disabled; its output in buf. */
static int run_broken(const char *name, char *buf, size_t size)
{
	char self[PATH_MAX], broken[PATH_MAX + 32];
	char *argv[] = { broken, (char *)name, NULL };
	char *slash;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = 0;
	slash = strrchr(self, '/');
	*slash = 0;
	snprintf(broken, sizeof(broken), "%s/../brokenwb/test_mutate", self);
	if (access(broken, X_OK))
		return -1;
	return exec_child(broken, argv, NULL, buf, size);
}

/* This program built with the barrier disabled (GO_GC_BROKEN_BARRIER) must fail both barrier
 * tests: by the verify mode's abort naming a white object, or by finding the object
 * poisoned (freed). */
static void barrier_disabled_is_caught(void)
{
	static const char *const names[] = {
		"deletion_barrier_keeps_an_object_moved_to_a_black_stack",
		"barrier_keeps_an_object_stored_into_a_black_one",
	};
	char buf[4096];

	for (int i = 0; i < 2; i++) {
		char want[128];
		int status = run_broken(names[i], buf, sizeof(buf));

		if (status == -1)
			SKIP_TEST("no brokenwb build of this test");
		snprintf(want, sizeof(want), "not ok - %s", names[i]);
		/* the lost object was caught */
		CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT &&
		       strstr(buf, "marking left it white")) ||
			      (WIFEXITED(status) && WEXITSTATUS(status) && strstr(buf, want)),
		      "%s: status %#x: %s", names[i], status, buf);
		/* (what caught it, on one line: the child's own TAP lines are not ours) */
		char *why = strstr(buf, "gochan: fatal");

		if (!why)
			why = strstr(buf, "check failed");
		if (why) {
			why[strcspn(why, "\n")] = 0;
			printf("# brokenwb %s: %s\n", names[i], why);
		}
	}
}

int main(int argc, char **argv)
{
	TEST(deletion_barrier_keeps_an_object_moved_to_a_black_stack);
	TEST(barrier_keeps_an_object_stored_into_a_black_one);
	TEST(random_graphs_mutated_during_back_to_back_cycles);
	TEST(random_graphs_survive_cycles_while_ps_come_and_go);
	TEST(barrier_disabled_is_caught);
	return tap_any_failed;
}
