/* SPDX-License-Identifier: MIT */
/*
 * bench_sync - lib/sync's costs, printed as "<name> <procs> <ns per op>" lines that run.sh
 * sets beside Go's (go/bench_sync.go does the same work the same way).
 *
 *   uncontended     one goroutine locks and unlocks a Mutex (nobody else wants it)
 *   contend-N       N goroutines (2, 8, 64) lock one Mutex, add 1 to a counter and unlock,
 *                   OPS times in all; per lock/unlock pair
 *   rw-read-mostly  8 goroutines per P on one RWMutex: 99 read locks (a counter read) for
 *                   every write lock (a counter write); per lock/unlock pair
 *
 * usage: bench_sync [procs...]   (default: 1 2). Each figure is the best of 3 runs.
 */
#define _GNU_SOURCE
#include <gochan/sched.h>
#include <gochan/sync.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNCONTENDED_OPS 20000000L
#define OPS 10000000L

static double result;
static struct go_sync_mutex mu;
static struct go_sync_rwmutex rw;
static struct go_waitgroup wg;
static volatile long counter;
static long per_goroutine;

static void bench_uncontended(void *arg)
{
	int64_t t0 = go_now();

	(void)arg;
	for (long i = 0; i < UNCONTENDED_OPS; i++) {
		go_sync_mutex_lock(&mu);
		counter++;
		go_sync_mutex_unlock(&mu);
	}
	result = (double)(go_now() - t0) / UNCONTENDED_OPS;
}

static void contender(void *arg)
{
	(void)arg;
	for (long i = 0; i < per_goroutine; i++) {
		go_sync_mutex_lock(&mu);
		counter++;
		go_sync_mutex_unlock(&mu);
	}
	go_wg_done(&wg);
}

static void contend(int n)
{
	int64_t t0 = go_now();

	per_goroutine = OPS / n;
	go_wg_add(&wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(contender, NULL);
	go_wg_wait(&wg);
	result = (double)(go_now() - t0) / (per_goroutine * n);
}

static void bench_contend2(void *arg) { (void)arg; contend(2); }
static void bench_contend8(void *arg) { (void)arg; contend(8); }
static void bench_contend64(void *arg) { (void)arg; contend(64); }

static void rw_user(void *arg)
{
	long sink = 0;

	(void)arg;
	for (long i = 0; i < per_goroutine; i++) {
		if (i % 100 == 0) {
			go_sync_rwmutex_lock(&rw);
			counter++;
			go_sync_rwmutex_unlock(&rw);
		} else {
			go_sync_rwmutex_rlock(&rw);
			sink += counter;
			go_sync_rwmutex_runlock(&rw);
		}
	}
	(void)sink;
	go_wg_done(&wg);
}

static void bench_rw(void *arg)
{
	int n = 8 * (int)go_maxprocs();
	int64_t t0 = go_now();

	(void)arg;
	per_goroutine = OPS / n;
	go_wg_add(&wg, n);
	for (int i = 0; i < n; i++)
		go_spawn(rw_user, NULL);
	go_wg_wait(&wg);
	result = (double)(go_now() - t0) / (per_goroutine * n);
}

static const struct {
	const char *name;
	void (*fn)(void *);
} benches[] = {
	{ "uncontended", bench_uncontended },
	{ "contend-2", bench_contend2 },
	{ "contend-8", bench_contend8 },
	{ "contend-64", bench_contend64 },
	{ "rw-read-mostly", bench_rw },
};

int main(int argc, char **argv)
{
	unsigned procs[8] = { 1, 2 };
	int nprocs = 2;

	if (argc > 1) {
		nprocs = 0;
		for (int i = 1; i < argc && nprocs < 8; i++)
			procs[nprocs++] = (unsigned)atoi(argv[i]);
	}
	const char *only = getenv("BENCH_ONLY");	/* one benchmark by name */

	for (size_t b = 0; b < sizeof(benches) / sizeof(benches[0]); b++) {
		if (only && strcmp(only, benches[b].name))
			continue;
		for (int p = 0; p < nprocs; p++) {
			struct go_config c = { .size = sizeof(c), .maxprocs = procs[p] };
			double best = 0;

			for (int run = 0; run < 3; run++) {
				if (go_run_config(&c, benches[b].fn, NULL) != 0) {
					fprintf(stderr, "%s: go_run failed\n", benches[b].name);
					return 1;
				}
				if (run == 0 || result < best)
					best = result;
			}
			printf("%s %u %.1f\n", benches[b].name, procs[p], best);
			fflush(stdout);
		}
	}
	return 0;
}
