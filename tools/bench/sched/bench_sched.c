/* SPDX-License-Identifier: MIT */
/*
 * bench_sched - the scheduler's costs, printed as "<name> <procs> <ns per op>" lines that
 * run.sh sets beside Go's (go/bench_sched.go does the same work the same way).
 *
 *   yield       a goroutine switch: 2 goroutines per P call go_yield in a loop
 *   spawn-wg    go + WaitGroup, batched: spawn N empty goroutines, then Wait
 *   spawn-each  spawn one goroutine and wait for it, N times
 *   skynet      a tree of 1,111,111 goroutines (10 children each, 6 levels), summed;
 *               per goroutine
 *   sleep-1ms   10,000 goroutines sleep 1 ms at once; per batch, in ns
 *   rss-parked  resident bytes per parked goroutine (100,000 parked), not a time
 *
 * usage: bench_sched [procs...]   (default: 1 2). Each figure is the best of 3 runs.
 */
#define _GNU_SOURCE
#include <gochan/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;

	if (f) {
		if (fscanf(f, "%ld %ld", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * 4096;
}

static double result;

/* ---- yield ---- */
#define YIELDS 200000
static struct go_waitgroup ywg;

static void yielder(void *arg)
{
	(void)arg;
	for (int i = 0; i < YIELDS; i++)
		go_yield();
	go_wg_done(&ywg);
}

static void bench_yield(void *arg)
{
	int n = 2 * (int)go_maxprocs();
	int64_t t0 = go_now();

	(void)arg;
	go_wg_add(&ywg, n);
	for (int i = 0; i < n; i++)
		go_spawn(yielder, NULL);
	go_wg_wait(&ywg);
	result = (double)(go_now() - t0) / ((double)YIELDS * n) * go_maxprocs();
}

/* ---- spawn ---- */
#define SPAWNS 200000
static struct go_waitgroup swg;

static void empty(void *arg)
{
	(void)arg;
	go_wg_done(&swg);
}

static void bench_spawn_wg(void *arg)
{
	int64_t t0 = go_now();

	(void)arg;
	go_wg_add(&swg, SPAWNS);
	for (int i = 0; i < SPAWNS; i++)
		go_spawn(empty, NULL);
	go_wg_wait(&swg);
	result = (double)(go_now() - t0) / SPAWNS;
}

static void bench_spawn_each(void *arg)
{
	int64_t t0 = go_now();

	(void)arg;
	for (int i = 0; i < SPAWNS; i++) {
		go_wg_add(&swg, 1);
		go_spawn(empty, NULL);
		go_wg_wait(&swg);
	}
	result = (double)(go_now() - t0) / SPAWNS;
}

/* ---- skynet ---- */
struct node {
	long num, size;
	long sum;
	struct go_waitgroup *parent_wg;
};

static void skynet(void *arg)
{
	struct node *n = arg;

	if (n->size == 1) {
		n->sum = n->num;
	} else {
		struct node kids[10];
		struct go_waitgroup wg = { 0 };
		long sub = n->size / 10;

		go_wg_add(&wg, 10);
		for (int i = 0; i < 10; i++) {
			kids[i] = (struct node){ .num = n->num + i * sub, .size = sub,
						 .parent_wg = &wg };
			go_spawn(skynet, &kids[i]);
		}
		go_wg_wait(&wg);
		n->sum = 0;
		for (int i = 0; i < 10; i++)
			n->sum += kids[i].sum;
	}
	if (n->parent_wg)
		go_wg_done(n->parent_wg);
}

static void bench_skynet(void *arg)
{
	struct node root = { .num = 0, .size = 1000000 };
	int64_t t0 = go_now();

	(void)arg;
	skynet(&root);
	if (root.sum != 499999500000L)
		fprintf(stderr, "skynet: wrong sum %ld\n", root.sum);
	result = (double)(go_now() - t0) / 1111111;
}

/* ---- sleep ---- */
#define SLEEPERS 10000
static struct go_waitgroup slwg;

static void sleeper(void *arg)
{
	(void)arg;
	go_sleep(1000000);
	go_wg_done(&slwg);
}

static void bench_sleep(void *arg)
{
	int64_t t0 = go_now();

	(void)arg;
	go_wg_add(&slwg, SLEEPERS);
	for (int i = 0; i < SLEEPERS; i++)
		go_spawn(sleeper, NULL);
	go_wg_wait(&slwg);
	result = (double)(go_now() - t0);
}

/* ---- resident memory per parked goroutine ---- */
#define PARKED 100000
static struct go_waitgroup pwg, release;

static void parked(void *arg)
{
	(void)arg;
	go_wg_done(&pwg);
	go_wg_wait(&release);
}

static void bench_rss(void *arg)
{
	long r0 = rss_bytes();

	(void)arg;
	go_wg_add(&release, 1);
	go_wg_add(&pwg, PARKED);
	for (int i = 0; i < PARKED; i++)
		go_spawn(parked, NULL);
	go_wg_wait(&pwg);
	result = (double)(rss_bytes() - r0) / PARKED;
	go_wg_done(&release);
}

static const struct {
	const char *name;
	void (*fn)(void *);
} benches[] = {
	{ "rss-parked", bench_rss },	/* first: nothing cached yet, in either runtime */
	{ "yield", bench_yield },
	{ "spawn-wg", bench_spawn_wg },
	{ "spawn-each", bench_spawn_each },
	{ "skynet", bench_skynet },
	{ "sleep-1ms", bench_sleep },
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

			/* resident memory: the first run, before anything is cached */
			int runs = benches[b].fn == bench_rss ? 1 : 3;

			for (int run = 0; run < runs; run++) {
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
