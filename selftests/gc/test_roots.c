/* SPDX-License-Identifier: MIT */
/*
 * Description: the collector with the scheduler: its roots and the thread rule. An object
 * reachable only from a parked goroutine's stack, only from a register of a goroutine
 * running program code, only from a global, only from a registered root, only through an
 * interior pointer, only from a goroutine in a system call: each survives many cycles with
 * allocation churning around it (freed memory poisoned, so a lost object would fail its
 * checksum). Unreachable cycles are collected, and the statistics after go_gc() count
 * exactly the live objects. Registered roots may change while the verify mode stops the
 * world; go_gc works at fewer Ps than an earlier run had. go_new from a thread that is not a goroutine aborts.
 * Garbage is made by goroutines that have exited, so that no stale copy of a pointer can
 * linger in a live stack: every count is exact.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
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
#include "tap.h"

#define CYCLES 20

struct obj {
	uint64_t magic;
	uint64_t sum;
	struct obj *next;
	char pad[40];
};

static uint64_t obj_sum(const struct obj *o)
{
	return ((uintptr_t)o * 0x9e3779b97f4a7c15ull) ^ o->magic;
}

static struct obj *obj_new(uint64_t magic)
{
	struct obj *o = go_new(sizeof(*o), 0);

	o->magic = magic;
	o->sum = obj_sum(o);
	return o;
}

static bool obj_ok(const struct obj *o, uint64_t magic)
{
	return o->magic == magic && o->sum == obj_sum(o);
}

/* Garbage between cycles: a goroutine allocates n objects and drops them. */
static struct go_waitgroup churn_wg;

static void churn_fn(void *arg)
{
	for (uintptr_t i = 0; i < (uintptr_t)arg; i++)
		obj_new(i);
	go_wg_done(&churn_wg);
}

static void churn(uintptr_t n)
{
	go_wg_add(&churn_wg, 1);
	go_spawn(churn_fn, (void *)n);
	go_wg_wait(&churn_wg);
}

/* Cycles with churn in between. */
static void cycles(int n)
{
	for (int i = 0; i < n; i++) {
		churn(2000);
		CHECK(go_gc() == 0, "go_gc");
	}
}

/* ---- a parked goroutine's stack ------------------------------------------------------------ */

static struct go_waitgroup hold_release, hold_done;
static int hold_result;

static __attribute__((noinline)) void holder(void *arg)
{
	struct obj *o = obj_new(0xabcdef);

	(void)arg;
	/* o lives only in this frame (or a register the switch pushes on this stack) */
	go_wg_wait(&hold_release);
	hold_result = obj_ok(o, 0xabcdef) ? 1 : -1;
	go_keep_alive(o);
	go_wg_done(&hold_done);
}

static void parked_stack_main(void *arg)
{
	(void)arg;
	go_wg_add(&hold_release, 1);
	go_wg_add(&hold_done, 1);
	go_spawn(holder, NULL);
	go_yield();
	cycles(CYCLES);
	go_wg_done(&hold_release);
	go_wg_wait(&hold_done);
}

static void object_on_parked_stack_survives(void)
{
	ga_gc_poison = true;
	hold_result = 0;
	CHECK(run(2, parked_stack_main, NULL) == 0, "go_run");
	/* the object only the parked goroutine's stack held is intact after 20 cycles */
	CHECK(hold_result == 1, "result %d", hold_result);
}

/* ---- a register of a goroutine running program code ------------------------------------------- */

static volatile int reg_stop;
static volatile int reg_spinning;
static int reg_result;
static struct go_waitgroup reg_done;

/* Keep o only in r12 while spinning in program code (no call, no safe point) until
 * reg_stop; the collector must stop this goroutine with its signal and scan its registers. */
static __attribute__((noinline)) void reg_spin(void *arg)
{
	uintptr_t key = 0x5a5a5a5a5a5a5a5aull, hidden;
	struct obj *o = obj_new(0x1234);
	uintptr_t out;

	(void)arg;
	hidden = (uintptr_t)o ^ key;
	o = NULL;
	__asm__ volatile("movq %[h], %%r12\n\t"
			 "xorq %[k], %%r12\n\t"   /* r12 = the object; nowhere else */
			 "movl $1, %[sp]\n\t"
			 "1: pause\n\t"
			 "cmpl $0, %[stop]\n\t"
			 "je 1b\n\t"
			 "movq %%r12, %[out]\n\t"
			 "xorq %%r12, %%r12"
			 : [out] "=r"(out), [sp] "=m"(reg_spinning)
			 : [h] "r"(hidden), [k] "r"(key), [stop] "m"(reg_stop)
			 : "r12", "memory");
	hidden = 0;
	reg_result = obj_ok((struct obj *)out, 0x1234) ? 1 : -1;
	go_wg_done(&reg_done);
}

static void register_main(void *arg)
{
	(void)arg;
	go_wg_add(&reg_done, 1);
	go_spawn(reg_spin, NULL);
	while (!reg_spinning)
		go_yield();
	cycles(CYCLES);
	reg_stop = 1;
	go_wg_wait(&reg_done);
}

static void object_in_a_register_survives(void)
{
#if defined(__SANITIZE_THREAD__)
	/* TSan delivers signals only when the thread calls into it: a loop in program code
	 * never gets one, and the collector cannot stop it */
	SKIP_TEST("TSan defers signals to its interceptors");
#endif
	ga_gc_poison = true;
	reg_stop = reg_spinning = 0;
	reg_result = 0;
	CHECK(run(2, register_main, NULL) == 0, "go_run");
	/* the object only r12 of a goroutine spinning in program code held survived */
	CHECK(reg_result == 1, "result %d", reg_result);
}

/* ---- a global, a registered root, an interior pointer ---------------------------------------- */

static struct obj *global_obj;
static char *global_interior;
static void **registered;

static void globals_fn(void *arg)
{
	(void)arg;
	GO_WB(global_obj, obj_new(0x777));
	GO_WB(global_interior, (char *)obj_new(0x888) + 37);
	registered[3] = obj_new(0x999);
	go_wg_done(&churn_wg);
}

static void globals_main(void *arg)
{
	(void)arg;
	go_wg_add(&churn_wg, 1);
	go_spawn(globals_fn, NULL);
	go_wg_wait(&churn_wg);
	cycles(CYCLES);
}

static void objects_in_globals_and_registered_roots_survive(void)
{
	struct obj *interior_obj;

	ga_gc_poison = true;
	registered = calloc(8, sizeof(void *));
	CHECK(go_gc_root_add(registered, 8 * sizeof(void *)) == 0, "root_add");
	/* a second registration of the same start: -EEXIST; an empty one: -EINVAL */
	CHECK(go_gc_root_add(registered, 8) == -EEXIST && go_gc_root_add(registered, 0) == -EINVAL,
	      "root_add errors");
	CHECK(run(2, globals_main, NULL) == 0, "go_run");
	interior_obj = (struct obj *)(global_interior - 37);
	/* each survived 20 cycles: from a global, an interior pointer, a registered root */
	CHECK(global_obj && obj_ok(global_obj, 0x777), "global");
	CHECK(obj_ok(interior_obj, 0x888), "interior");
	CHECK(registered[3] && obj_ok(registered[3], 0x999), "registered");
	CHECK(go_gc_root_remove(registered) == 0 && go_gc_root_remove(registered) == -ENOENT,
	      "root_remove");
	global_obj = NULL;
	global_interior = NULL;
	free(registered);
}

/* ---- a goroutine in a system call ------------------------------------------------------------- */

static int sys_pipe[2];
static int sys_result;

static __attribute__((noinline)) void in_syscall(void *arg)
{
	struct obj *o = obj_new(0x4242);
	char c;

	(void)arg;
	/* blocked in read, bracketed: its P goes on without it */
	GO_SYSCALL(read(sys_pipe[0], &c, 1));
	sys_result = obj_ok(o, 0x4242) ? 1 : -1;
	go_keep_alive(o);
	go_wg_done(&churn_wg);
}

static void syscall_main(void *arg)
{
	(void)arg;
	go_wg_add(&churn_wg, 1);
	go_spawn(in_syscall, NULL);
	go_sleep(20000000); /* it is in read(), its P handed over */
	for (int i = 0; i < CYCLES; i++)
		CHECK(go_gc() == 0, "go_gc");
	CHECK(write(sys_pipe[1], "x", 1) == 1, "write");
	go_wg_wait(&churn_wg);
}

static void object_of_a_goroutine_in_a_syscall_survives(void)
{
	ga_gc_poison = true;
	sys_result = 0;
	CHECK(pipe(sys_pipe) == 0, "pipe");
	CHECK(run(2, syscall_main, NULL) == 0, "go_run");
	/* the object only the stack of a goroutine blocked in read() held survived */
	CHECK(sys_result == 1, "result %d", sys_result);
	close(sys_pipe[0]);
	close(sys_pipe[1]);
}

/* ---- what is unreachable goes, exactly ---------------------------------------------------------- */

static struct obj *kept_list;

static __attribute__((noinline)) void build_ring(int n)
{
	struct obj *first = obj_new(0), *o = first;

	for (int i = 1; i < n; i++) {
		o->next = obj_new((uint64_t)i);
		o = o->next;
	}
	o->next = first; /* a cycle */
}

/* Overwrite the stack below the caller's frame: build_ring's dead frame held pointers into
 * the ring, and go_wg_done wakes the collecting goroutine before this one has exited (its
 * stack, still scanned, would keep the ring conservatively). */
static __attribute__((noinline)) void scrub_stack(void)
{
	volatile char buf[4096];

	memset((char *)buf, 0, sizeof(buf));
}

static void make_ring(void *arg)
{
	build_ring((int)(uintptr_t)arg);
	scrub_stack();
	go_wg_done(&churn_wg);
}

static void make_kept(void *arg)
{
	for (int i = 0; i < (int)(uintptr_t)arg; i++) {
		struct obj *o = obj_new((uint64_t)i);

		o->next = kept_list;
		GO_WB(kept_list, o);
	}
	go_wg_done(&churn_wg);
}

static void exact_main(void *arg)
{
	struct go_gc_stats st0, st1;

	(void)arg;
	kept_list = NULL;
	go_gc();
	st0 = stats();
	go_wg_add(&churn_wg, 2);
	go_spawn(make_ring, (void *)(uintptr_t)500);
	go_spawn(make_kept, (void *)(uintptr_t)300);
	go_wg_wait(&churn_wg);
	go_gc();
	st1 = stats();
	/* the ring of 500 (a cycle, unreachable) was freed, the 300 kept ones were not */
	CHECK(st1.total_freed_objects - st0.total_freed_objects == 500, "freed %lu",
	      (unsigned long)(st1.total_freed_objects - st0.total_freed_objects));
	/* after go_gc, heap_live is what the cycle marked: the 300 objects, 64 bytes each
	 * (plus whatever was live before) */
	CHECK(st1.heap_live == st1.heap_marked && st1.heap_marked == st0.heap_marked + 300 * 64,
	      "live %lu marked %lu, before %lu", (unsigned long)st1.heap_live,
	      (unsigned long)st1.heap_marked, (unsigned long)st0.heap_marked);
	CHECK(st1.cycles == st0.cycles + 1 && st1.forced_cycles >= 1, "cycles %lu -> %lu",
	      (unsigned long)st0.cycles, (unsigned long)st1.cycles);
	kept_list = NULL;
	go_gc();
	st1 = stats();
	CHECK(st1.heap_marked == st0.heap_marked, "marked %lu, before %lu",
	      (unsigned long)st1.heap_marked, (unsigned long)st0.heap_marked);
}

static void unreachable_cycles_and_exact_statistics(void)
{
	CHECK(run(2, exact_main, NULL) == 0, "go_run");
}

/* ---- many goroutines, many Ps ----------------------------------------------------------------- */

#define LISTS 8

static struct obj *lists[LISTS];
static int list_errors;

static void list_worker(void *arg)
{
	uintptr_t k = (uintptr_t)arg;

	for (int round = 0; round < 200; round++) {
		struct obj *head = NULL;
		int n = 0;

		for (int i = 0; i < 100; i++) {
			struct obj *o = obj_new(k << 32 | (uint64_t)i);

			o->next = head;
			head = o;
		}
		GO_WB(lists[k], head);
		for (struct obj *o = lists[k]; o; o = o->next, n++)
			if (!obj_ok(o, k << 32 | (uint64_t)(99 - n)))
				__atomic_fetch_add(&list_errors, 1, __ATOMIC_RELAXED);
		if (round % 20 == 0)
			go_gc();
	}
	go_wg_done(&churn_wg);
}

static void many_main(void *arg)
{
	(void)arg;
	go_wg_add(&churn_wg, LISTS);
	for (uintptr_t k = 0; k < LISTS; k++)
		go_spawn(list_worker, (void *)k);
	go_wg_wait(&churn_wg);
}

static void goroutines_on_many_ps_allocate_through_cycles(void)
{
	struct go_gc_stats st;

	ga_gc_poison = true;
	list_errors = 0;
	CHECK(run(4, many_main, NULL) == 0, "go_run");
	st = stats();
	/* every list a goroutine built and checked was intact, cycles ran in between */
	CHECK(list_errors == 0, "%d objects corrupted", list_errors);
	CHECK(st.cycles >= LISTS * 10, "only %lu cycles", (unsigned long)st.cycles);
	for (int k = 0; k < LISTS; k++)
		lists[k] = NULL;
}

/* ---- registered roots changing while the world is stopped ---------------------------------- */

extern bool _go_gc_verify_force; /* lib/gc/verify.c */

#define ROOT_CHURNERS 2
#define ROOT_SLOTS 4

static uint32_t roots_stop;
static void *root_slots[ROOT_CHURNERS][ROOT_SLOTS];
static struct go_waitgroup roots_wg;

/* Under TSan, whose interceptors hold the scheduler's signal back, a goroutine that never
 * yields keeps its P from the one calling go_gc: the churners yield now and then there, and
 * the (slower) cycles are fewer. */
#ifdef __SANITIZE_THREAD__
#define ROOT_YIELD 1
#define ROOT_CYCLES 30
#else
#define ROOT_YIELD 0
#define ROOT_CYCLES 100
#endif

/* Registers and removes its ranges, round and round: most of the time inside the registry. */
static void root_churn(void *arg)
{
	void **slots = arg;

	for (unsigned n = 1; !__atomic_load_n(&roots_stop, __ATOMIC_RELAXED); n++) {
		for (int i = 0; i < ROOT_SLOTS; i++)
			CHECK(go_gc_root_add(&slots[i], sizeof(slots[i])) == 0, "add");
		for (int i = 0; i < ROOT_SLOTS; i++)
			CHECK(go_gc_root_remove(&slots[i]) == 0, "remove");
		if (ROOT_YIELD && n % 64 == 0)
			go_yield();
	}
	go_wg_done(&roots_wg);
}

static void roots_churn_main(void *arg)
{
	(void)arg;
	_go_gc_verify_force = true;
	go_wg_add(&roots_wg, ROOT_CHURNERS);
	for (int i = 0; i < ROOT_CHURNERS; i++)
		go_spawn(root_churn, root_slots[i]);
	for (int i = 0; i < ROOT_CYCLES; i++)
		go_gc();
	__atomic_store_n(&roots_stop, 1, __ATOMIC_RELAXED);
	go_wg_wait(&roots_wg);
	_go_gc_verify_force = false;
}

/*
 * The verify mode scans the registered roots with the world stopped; a goroutine stopped
 * by the signal inside go_gc_root_add or go_gc_root_remove must not be holding the registry
 * then (it would never let go: the program hangs). In a child, with an alarm.
 */
static void registered_roots_change_while_the_world_stops(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		alarm(150);
		_exit(run(2, roots_churn_main, NULL) == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	/* verified cycles while the ranges change: no hang (SIGALRM), no failure */
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "status %#x%s", status, WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ?
	      " (hung: SIGALRM)" : "");
}

/* ---- a run with fewer Ps than the one before -------------------------------------------------- */

static void alloc_g(void *arg)
{
	for (int i = 0; i < 2000; i++)
		go_new(64, 0);
	go_wg_done(arg);
}

/* Goroutines allocating on every P: each P's cache holds spans when the run ends. */
static void alloc_everywhere_main(void *arg)
{
	struct go_waitgroup wg = { 0 };

	(void)arg;
	go_wg_add(&wg, 16);
	for (int i = 0; i < 16; i++)
		go_spawn(alloc_g, &wg);
	go_wg_wait(&wg);
}

static void gc_twice_main(void *arg)
{
	(void)arg;
	go_gc();
	go_gc();
}

/*
 * Spans held by the caches of Ps that the next run does not have must still be handed back
 * at mark termination: sweeping counts every span, and go_gc waits for all of them. In a
 * child, with an alarm.
 */
static void go_gc_after_a_run_with_more_ps(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		alarm(60);
		if (run(4, alloc_everywhere_main, NULL) || run(1, gc_twice_main, NULL))
			_exit(1);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	/* go_gc returned at one P after a run at four */
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "status %#x%s", status, WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ?
	      " (hung: SIGALRM)" : "");
}

/* ---- the thread rule ------------------------------------------------------------------------- */

static void *thread_alloc(void *arg)
{
	(void)arg;
	go_new(16, 0);
	return NULL;
}

static void thread_main(void *arg)
{
	pthread_t t;

	(void)arg;
	pthread_create(&t, NULL, thread_alloc, NULL);
	pthread_join(t, NULL);
}

static void run_thread_main(void)
{
	run(1, thread_main, NULL);
}

static void go_new_from_a_thread_aborts(void)
{
	char buf[512] = "";
	int status;

	/* go_gc outside a goroutine: -EPERM */
	CHECK(go_gc() == -EPERM, "go_gc outside");
	status = in_child(run_thread_main, buf, sizeof(buf), 0);
	/* a pthread of the program calling go_new: aborted, the message names the call */
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT &&
		      strstr(buf, "go_new from a thread that is not a goroutine"),
	      "status %#x: %s", status, buf);
}

int main(int argc, char **argv)
{
	TEST(object_on_parked_stack_survives);
	TEST(object_in_a_register_survives);
	TEST(objects_in_globals_and_registered_roots_survive);
	TEST(object_of_a_goroutine_in_a_syscall_survives);
	TEST(unreachable_cycles_and_exact_statistics);
	TEST(goroutines_on_many_ps_allocate_through_cycles);
	TEST(registered_roots_change_while_the_world_stops);
	TEST(go_gc_after_a_run_with_more_ps);
	TEST(go_new_from_a_thread_aborts);
	return tap_any_failed;
}
