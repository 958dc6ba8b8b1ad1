/* SPDX-License-Identifier: MIT */
/*
 * Description: the allocator's soak (make soak-alloc): more threads than CPUs allocate and
 * free, half of the frees local and half handed to another thread, while the workers exit
 * and are replaced (their caches released with objects still alive) and, in one test, the
 * process forks under the load. Every object carries a stamp checked before it is freed, so
 * one block handed out to two live objects is caught; a watchdog reports a run that stops
 * making progress (a hang) instead of waiting for the outer timeout.
 *
 * Built two ways: plain malloc/free (run with LD_PRELOAD=libgochan-malloc.so, or against
 * glibc for comparison), and with -DSOAK_GALLOC against a sanitizer build of lib/alloc
 * (ASan and the replaced malloc cannot share a process).
 *
 *   soak [-s seconds] [-t threads] [TEST...]      (defaults: 10 s, 8 threads)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "tap.h"

#ifdef SOAK_GALLOC
#include <gochan/alloc.h>
#define soak_malloc(n) galloc((n), 0)
#define soak_free(p) gfree(p)
#else
#define soak_malloc(n) malloc(n)
#define soak_free(p) free(p)
#endif

enum { MAX_THREADS = 64, NSLOTS = 4096, MAILBOX = 2048, BALLAST = 300 };

struct obj {
	unsigned char *p;
	size_t n;
	uint64_t id;
};

struct mailbox {
	pthread_mutex_t lock;
	int n;
	struct obj o[MAILBOX];
};

/* one worker position: its objects and its mailbox outlive the threads that fill it */
struct post {
	struct obj slot[NSLOTS];
	struct mailbox mbox;
	pthread_t thread;
	unsigned seed;
	_Atomic bool done;
};

static struct post posts[MAX_THREADS];
static int nthreads = 8;
static double seconds = 10;
static size_t (*pick_size)(unsigned *seed);
static _Atomic bool stop;
static _Atomic uint64_t progress, nops, nremote, nforks, ngenerations;
static _Atomic int failures;

static double now(void)
{
	return (double)now_ns() / NSEC_PER_SEC;
}

/* The object's id in its first 8 bytes and a byte of it in its last (n >= 8). */
static void stamp(struct obj *o)
{
	memcpy(o->p, &o->id, 8);
	if (o->n > 8)
		o->p[o->n - 1] = (unsigned char)(o->id >> 3);
}

/* Free o, after checking that nobody else wrote over it while it was alive. */
static void release(struct obj *o)
{
	uint64_t id;

	if (!o->p)
		return;
	memcpy(&id, o->p, 8);
	if (id != o->id || (o->n > 8 && o->p[o->n - 1] != (unsigned char)(o->id >> 3))) {
		if (atomic_fetch_add(&failures, 1) < 5)
			printf("# object %p (%zu bytes, id %#lx) overwritten: id now %#lx, "
			       "handed out twice?\n",
			       (void *)o->p, o->n, (unsigned long)o->id, (unsigned long)id);
	}
	soak_free(o->p);
	o->p = NULL;
}

static size_t size_4k(unsigned *seed)
{
	return 4096;
}

static size_t size_mixed(unsigned *seed)
{
	unsigned r = (unsigned)rand_r(seed) % 100;

	if (r < 60)
		return 8 + (size_t)rand_r(seed) % 250;
	if (r < 95)
		return 256 + (size_t)rand_r(seed) % 3840;
	if (r < 99)
		return 4096 + (size_t)rand_r(seed) % 28672;
	return 32769 + (size_t)rand_r(seed) % (256 * 1024);
}

static void drain(struct post *me)
{
	struct obj tmp[MAILBOX];
	int n;

	pthread_mutex_lock(&me->mbox.lock);
	n = me->mbox.n;
	memcpy(tmp, me->mbox.o, sizeof(tmp[0]) * (size_t)n);
	me->mbox.n = 0;
	pthread_mutex_unlock(&me->mbox.lock);
	for (int i = 0; i < n; i++)
		release(&tmp[i]);
	atomic_fetch_add_explicit(&nremote, (uint64_t)n, memory_order_relaxed);
}

/* Free o here or, half the time, in another worker (its mailbox, if there is room). */
static void release_here_or_there(struct post *me, struct obj *o)
{
	if (o->p && rand_r(&me->seed) % 2) {
		struct post *to = &posts[(unsigned)rand_r(&me->seed) % (unsigned)nthreads];

		pthread_mutex_lock(&to->mbox.lock);
		if (to->mbox.n < MAILBOX) {
			to->mbox.o[to->mbox.n++] = *o;
			o->p = NULL;
		}
		pthread_mutex_unlock(&to->mbox.lock);
	}
	release(o);
}

/*
 * One generation of worker k, for a random number of operations: either replace random
 * slots, or fill every slot and then empty them all (many spans empty at once, more than a
 * cache keeps); the old objects are freed here or in another worker. Then the thread exits,
 * leaving its objects to the next generation (which frees them from another cache).
 */
static void *worker(void *arg)
{
	struct post *me = arg;
	long ops = 2000 + rand_r(&me->seed) % 20000, i;
	unsigned mode = (unsigned)rand_r(&me->seed) % 3, span = NSLOTS;
	bool batch = mode != 0;
	uint64_t id = (uint64_t)rand_r(&me->seed) << 32 | (uint64_t)(me - posts) << 24;
	void *ballast[BALLAST];

	/* spans of another class freed at once: the cache keeps as many empty spans as it
	 * may, so that the spans emptied below go back to the heap */
	for (int b = 0; b < BALLAST; b++)
		ballast[b] = soak_malloc(8192);
	for (int b = 0; b < BALLAST; b++)
		soak_free(ballast[b]);
	for (i = 0; i < ops && !atomic_load_explicit(&stop, memory_order_relaxed); i++) {
		unsigned k;
		struct obj *o;

		if (mode == 2)
			span = 64;
		k = batch ? (unsigned)i % span : (unsigned)rand_r(&me->seed) % NSLOTS;
		o = &me->slot[k];
		if (batch && o->p && (i / span) % 2) {
			release_here_or_there(me, o); /* the emptying half of a batch round */
		} else {
			release_here_or_there(me, o);
			o->n = pick_size(&me->seed);
			o->id = ++id;
			o->p = soak_malloc(o->n);
			if (!o->p) {
				printf("# malloc(%zu) failed\n", o->n);
				atomic_fetch_add(&failures, 1);
				break;
			}
			stamp(o);
		}
		if ((i & 31) == 0) {
			drain(me);
			atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
		}
	}
	drain(me);
	atomic_fetch_add_explicit(&nops, (uint64_t)i, memory_order_relaxed);
	atomic_store(&me->done, true);
	return NULL;
}

/* fork() under the load: the child allocates, frees, starts a thread, exits 0. */
static void *child_thread(void *arg)
{
	for (int i = 0; i < 2000; i++)
		soak_free(soak_malloc((size_t)i * 7 % 5000 + 1));
	return arg;
}

static int child_main(void)
{
	void *p[200];
	pthread_t t;

	for (int r = 0; r < 10; r++) {
		for (int i = 0; i < 200; i++) {
			p[i] = soak_malloc((size_t)i * 61 + 1);
			if (!p[i])
				return 2;
			memset(p[i], i, (size_t)i * 61 + 1);
		}
		for (int i = 0; i < 200; i++) {
			if (((unsigned char *)p[i])[i * 61] != (unsigned char)i)
				return 3;
			soak_free(p[i]);
		}
	}
	/* no thread in the child under the sanitizers: TSan cannot start one after a threaded
	 * fork, and in ASan's a thread's exit waits for the quarantine's lock, which another
	 * thread of the parent may have held at the fork */
#if !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
	if (pthread_create(&t, NULL, child_thread, NULL) || pthread_join(t, NULL))
		return 4;
#else
	child_thread(&t);
#endif
	return 0;
}

static void *forker(void *arg)
{
	while (!atomic_load(&stop)) {
		pid_t pid = fork();
		int st = 0;

		if (pid == 0)
			_exit(child_main());
		if (pid < 0) {
			printf("# fork: %s\n", strerror(errno));
			atomic_fetch_add(&failures, 1);
			return arg;
		}
		/* a child stuck on a lock left held across fork would hang here: the watchdog
		 * sees no fork progress */
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("# fork child %d: status %#x\n", pid, st);
			atomic_fetch_add(&failures, 1);
		}
		atomic_fetch_add(&nforks, 1);
		atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
		usleep(2000);
	}
	return arg;
}

/*
 * Run the workers for `seconds`, replacing each one as it exits. Returns false (having
 * printed why) if the run stalled: no operation finished for 10 s.
 */
static bool run(bool with_fork)
{
	double end = now() + seconds, last = now();
	uint64_t seen = 0;
	pthread_t ft;

	atomic_store(&stop, false);
	atomic_store(&failures, 0);
	nops = nremote = nforks = ngenerations = 0;
	for (int k = 0; k < nthreads; k++) {
		pthread_mutex_init(&posts[k].mbox.lock, NULL);
		posts[k].seed = (unsigned)k * 7919u + (unsigned)time(NULL);
		posts[k].done = false;
	}
	for (int k = 0; k < nthreads; k++)
		pthread_create(&posts[k].thread, NULL, worker, &posts[k]);
	if (with_fork)
		pthread_create(&ft, NULL, forker, NULL);
	while (now() < end) {
		usleep(1000);
		for (int k = 0; k < nthreads; k++) {
			if (!atomic_load(&posts[k].done))
				continue;
			pthread_join(posts[k].thread, NULL);
			posts[k].done = false;
			atomic_fetch_add(&ngenerations, 1);
			pthread_create(&posts[k].thread, NULL, worker, &posts[k]);
		}
		if (atomic_load(&progress) != seen) {
			seen = atomic_load(&progress);
			last = now();
		} else if (now() - last > 10) {
			printf("# no progress for 10 s after %lu operations, %lu thread "
			       "generations: hung\n",
			       (unsigned long)nops, (unsigned long)ngenerations);
			fflush(stdout);
			return false;
		}
	}
	atomic_store(&stop, true);
	for (int k = 0; k < nthreads; k++)
		pthread_join(posts[k].thread, NULL);
	if (with_fork)
		pthread_join(ft, NULL);
	for (int k = 0; k < nthreads; k++) {
		drain(&posts[k]);
		for (int i = 0; i < NSLOTS; i++)
			release(&posts[k].slot[i]);
	}
	printf("# %.0f s, %d threads: %lu operations, %lu remote frees, %lu thread generations, "
	       "%lu forks\n",
	       seconds, nthreads, (unsigned long)nops, (unsigned long)nremote,
	       (unsigned long)ngenerations, (unsigned long)nforks);
#ifdef SOAK_GALLOC
	{
		static char msg[512];

		/* every thread joined: a quiescent point */
		if (galloc_check(msg, sizeof(msg))) {
			printf("# galloc_check: %s\n", msg);
			atomic_fetch_add(&failures, 1);
		}
	}
#endif
	return true;
}

/*
 * The run that hung every time before the notification protocol was fixed (issue 26): 4 KiB
 * objects (two per span), half freed on other threads, workers exiting and replaced.
 */
static void churn_4k_half_remote(void)
{
	pick_size = size_4k;
	if (!run(false)) {
		CHECK(0, "the run stalled");
		fflush(stdout);
		_exit(1); /* threads spin in the allocator: no clean way out */
	}
	/* no block was handed out to two live objects */
	CHECK(failures == 0, "%d failures, as above", failures);
}

/* Sizes from 8 B to 288 KiB, small and large, with the same churn. */
static void churn_mixed_sizes(void)
{
	pick_size = size_mixed;
	if (!run(false)) {
		CHECK(0, "the run stalled");
		fflush(stdout);
		_exit(1);
	}
	CHECK(failures == 0, "%d failures, as above", failures);
}

/* The same churn while another thread forks again and again: every child must work. */
static void fork_under_load(void)
{
	pick_size = size_mixed;
	if (!run(true)) {
		CHECK(0, "the run stalled");
		fflush(stdout);
		_exit(1);
	}
	CHECK(failures == 0, "%d failures, as above", failures);
}

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "s:t:")) != -1) {
		switch (opt) {
		case 's':
			seconds = atof(optarg);
			break;
		case 't':
			nthreads = atoi(optarg);
			if (nthreads < 2 || nthreads > MAX_THREADS)
				nthreads = 8;
			break;
		default:
			fprintf(stderr, "usage: %s [-s seconds] [-t threads] [TEST...]\n", argv[0]);
			return 2;
		}
	}
	argv[optind - 1] = argv[0];
	argc -= optind - 1;
	argv += optind - 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	TEST(churn_4k_half_remote);
	TEST(churn_mixed_sizes);
	TEST(fork_under_load);
	return tap_any_failed;
}
