/* SPDX-License-Identifier: MIT */
/*
 * bench_gc - the collector against Boehm GC, the same workloads for each (one source, built
 * twice: -DBOEHM for Boehm's GC_MALLOC, else libgochan's go_new_typed and GO_WB):
 *   trees DEPTH        binary-trees (the benchmarks game's): total time
 *   churn MB N         a live heap of MB megabytes of 64-byte pointer objects, N allocations
 *                      each replacing a random live object: ns per allocation, collections,
 *                      every stop-the-world pause (median, max), the mutator's stalls (the
 *                      time of each run of 64 allocations: p99.9, max) and the collector's
 *                      share of the CPU (Go's GCCPUFraction: marking, assists and pauses
 *                      times the Ps, over the run's time times the Ps; Boehm, which stops
 *                      the program to collect: its pauses over the run's time)
 * The pauses are read once, at the end (the last 128 cycles' at most, as Go's MemStats
 * keeps them): reading them meanwhile would wait for the cycle in progress
 * (go_gc_read_stats), a stall of the benchmark's own making.
 * One line of results per run on stdout, key=value, for run.sh to put side by side.
 * gochan: GOMAXPROCS from $GOMAXPROCS (default 1). Boehm: its parallel marker follows
 * $GC_MARKERS (1: off).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#ifdef BOEHM
#include <gc/gc.h>
#define NEW_NODE() ((struct node *)GC_MALLOC(sizeof(struct node)))
#define NEW_PTRS(n) ((struct node **)GC_MALLOC((n) * sizeof(void *)))
#define STORE(l, v) ((l) = (v))
#else
#include <gochan/gc.h>
#include <gochan/sched.h>
#define NEW_NODE() ((struct node *)go_new_typed(&node_type, 1))
#define NEW_PTRS(n) ((struct node **)go_new((n) * sizeof(void *), 0))
#define STORE(l, v) GO_WB(l, v)
#endif

struct node {
	struct node *left, *right;
};

/* 64-byte objects for the churn: two pointers and payload */
struct obj {
	struct obj *a, *b;
	uint64_t pad[6];
};

#ifndef BOEHM
GO_TYPE_DEFINE(node_type, struct node, left, right);
GO_TYPE_DEFINE(obj_type, struct obj, a, b);
#endif

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- pauses ------------------------------------------------------------------------------- */

/* every pause's length, and when it ended (CLOCK_MONOTONIC ns), for the timeline */
static double *pauses, *pause_ends;
static size_t npauses, cap_pauses;

static void pause_add(double ns, double end_ns)
{
	if (npauses == cap_pauses) {
		cap_pauses = cap_pauses ? cap_pauses * 2 : 1024;
		pauses = realloc(pauses, cap_pauses * sizeof(double));
		pause_ends = realloc(pause_ends, cap_pauses * sizeof(double));
	}
	pauses[npauses] = ns;
	pause_ends[npauses++] = end_ns;
}

/* $BENCH_GC_TIMELINE: "ms us" lines, each pause's end from the run's start and its length,
 * for run.sh's picture */
static void timeline_write(double t0_ns)
{
	const char *path = getenv("BENCH_GC_TIMELINE");
	FILE *f;

	if (!path || !(f = fopen(path, "w")))
		return;
	for (size_t i = 0; i < npauses; i++)
		fprintf(f, "%.3f %.1f\n", (pause_ends[i] - t0_ns) / 1e6, pauses[i] / 1e3);
	fclose(f);
}

#ifdef BOEHM
static double gc_start;

static void on_event(GC_EventType e)
{
	if (e == GC_EVENT_START)
		gc_start = now();
	else if (e == GC_EVENT_END)
		pause_add((now() - gc_start) * 1e9, (double)now_ns());
}

static uint64_t cycles(void)
{
	return GC_get_gc_no();
}
#else
static uint64_t last_end_seen;

static void pauses_poll(void)
{
	static struct go_gc_stats st;

	st.size = sizeof(st);
	go_gc_read_stats(&st);
	for (uint32_t i = 0; i < st.pause_count; i++) {
		uint32_t k = (st.pause_first + i) % 256;

		if (st.pause_end[k] > last_end_seen) {
			pause_add((double)st.pause_ns[k], (double)st.pause_end[k]);
			last_end_seen = st.pause_end[k];
		}
	}
}

static uint64_t cycles(void)
{
	struct go_gc_stats st = { .size = sizeof(st) };

	go_gc_read_stats(&st);
	return st.cycles;
}

static unsigned nprocs = 1;

/* Go's GCCPUFraction, as a percentage */
static double gc_cpu_pct(double t)
{
	struct go_gc_stats st = { .size = sizeof(st) };

	go_gc_read_stats(&st);
	return 100.0 * ((double)st.mark_cpu_ns + (double)st.assist_cpu_ns +
			(double)st.pause_total * nprocs) / (t * 1e9 * nprocs);
}
#endif

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---- binary-trees ------------------------------------------------------------------------- */

static struct node *tree(int d)
{
	struct node *n = NEW_NODE();

	if (d > 0) {
		struct node *l = tree(d - 1), *r = tree(d - 1);

		STORE(n->left, l);
		STORE(n->right, r);
	}
	return n;
}

static long check(const struct node *n)
{
	return n->left ? 1 + check(n->left) + check(n->right) : 1;
}

static int depth;
static long trees_result;

static void trees(void)
{
	int max = depth < 6 ? 6 : depth;
	struct node *longlived;
	long sum = 0;

	sum += check(tree(max + 1));
	longlived = tree(max);
	for (int d = 4; d <= max; d += 2) {
		long iters = 1L << (max - d + 4);

		for (long i = 0; i < iters; i++)
			sum += check(tree(d));
	}
	sum += check(longlived);
	trees_result = sum;
}

/* ---- churn -------------------------------------------------------------------------------- */

static long churn_mb, churn_n;
static struct obj **live;

/* the mutator's stalls: the time of each run of STALL_EVERY allocations, in ns */
#define STALL_EVERY 64
static double *stalls;
static size_t nstalls;

static struct obj *obj_new(void)
{
#ifdef BOEHM
	return GC_MALLOC(sizeof(struct obj));
#else
	return go_new_typed(&obj_type, 1);
#endif
}

static void churn(void)
{
	size_t n = (size_t)churn_mb * (1 << 20) / sizeof(struct obj);
	uint64_t s = 88172645463325252ull;

	int64_t t;

	stalls = malloc(((size_t)churn_n / STALL_EVERY + 1) * sizeof(*stalls));
	live = (struct obj **)NEW_PTRS(n);
	for (size_t i = 0; i < n; i++)
		STORE(live[i], obj_new());
	t = now_ns();
	for (long i = 0; i < churn_n; i++) {
		struct obj *o = obj_new();
		size_t k;

		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		k = s % n;
		STORE(o->a, live[(k + 1) % n]);
		STORE(live[k], o);
		if (i % STALL_EVERY == STALL_EVERY - 1) {
			int64_t t1 = now_ns();

			stalls[nstalls++] = (double)(t1 - t);
			t = t1;
		}
	}
}

/* ---- main --------------------------------------------------------------------------------- */

static const char *mode;
static double t_total, t0_ns;

static void body(void *arg)
{
	double t0;

	(void)arg;
	t0_ns = (double)now_ns();
	t0 = now();
	if (!strcmp(mode, "trees"))
		trees();
	else
		churn();
	t_total = now() - t0;
#ifndef BOEHM
	pauses_poll();
#endif
}

int main(int argc, char **argv)
{
	uint64_t c0;
	double med = 0, max = 0, gc_pct = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_gc trees DEPTH | churn MB N\n");
		return 2;
	}
	mode = argv[1];
	if (!strcmp(mode, "trees")) {
		depth = atoi(argv[2]);
	} else {
		churn_mb = atol(argv[2]);
		churn_n = argc > 3 ? atol(argv[3]) : 10000000;
	}
#ifdef BOEHM
	GC_INIT();
	GC_set_on_collection_event(on_event);
	c0 = cycles();
	body(NULL);
#else
	{
		const char *e = getenv("GOMAXPROCS");
		struct go_config c = { .size = sizeof(c), .maxprocs = e ? (unsigned)atoi(e) : 1 };

		nprocs = c.maxprocs ? c.maxprocs : 1;
		c0 = 0;
		if (go_run_config(&c, body, NULL))
			return 1;
		c0 = 0;
	}
#endif
#ifdef BOEHM
	for (size_t i = 0; i < npauses; i++)
		gc_pct += pauses[i];
	gc_pct = 100.0 * gc_pct / (t_total * 1e9);
#else
	gc_pct = gc_cpu_pct(t_total);
#endif
	timeline_write(t0_ns);
	if (npauses) {
		qsort(pauses, npauses, sizeof(double), cmp_double);
		med = pauses[npauses / 2];
		max = pauses[npauses - 1];
	}
	printf("time_s=%.3f", t_total);
	if (!strcmp(mode, "churn")) {
		double p999 = 0, smax = 0;

		if (nstalls) {
			qsort(stalls, nstalls, sizeof(double), cmp_double);
			p999 = stalls[(size_t)((double)nstalls * 0.999)];
			smax = stalls[nstalls - 1];
		}
		printf(" ns_per_alloc=%.1f stall_p999_us=%.1f stall_max_us=%.1f",
		       t_total * 1e9 / (double)churn_n, p999 / 1e3, smax / 1e3);
	}
	printf(" gc_cpu_pct=%.1f", gc_pct);
	printf(" cycles=%lu pauses=%zu pause_med_us=%.1f pause_max_us=%.1f rss_mb=%.1f check=%ld\n",
	       (unsigned long)(cycles() - c0), npauses, med / 1e3, max / 1e3,
	       (double)peak_rss_kb() / 1024, trees_result);
	return 0;
}
