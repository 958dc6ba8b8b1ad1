/* SPDX-License-Identifier: MIT */
/*
 * allocbench: one benchmark per run, through plain malloc/free, so that the allocator under
 * test is whatever LD_PRELOAD (or nothing: glibc) provides.
 *   bench TEST   prints "ns_per_op peak_rss_kib rss_after_free_kib"
 * Tests:
 *   imm16 imm128 imm1k immrand   malloc then free at once (random: 1..1024 B)
 *   bat16 bat128 bat1k batrand   1000 mallocs, then the 1000 frees
 *   xthread                      producer mallocs 16..1024 B, consumer frees (SPSC ring)
 *   larson                       2 threads replace random slots of 1000 (8..1024 B) and swap
 *                                their slot arrays every 10000 operations (remote frees)
 *   rss                          100 MB of 8..1024 B objects, then everything freed: the
 *                                peak, and what stays resident once the program has idled
 *                                and gone on (rss_after_idle)
 *   rss-alloc rss-free           the same workload, timing only its malloc+memset phase, or
 *                                only its free phase, in rounds 2..5 (round 1 pays the page
 *                                faults): where the rss row's time goes, not targets
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static long peak_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* the compiler must not elide malloc/free pairs */
static void *volatile sink;
static void *(*volatile do_malloc)(size_t) = malloc;
static void (*volatile do_free)(void *) = free;

static uint32_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

static unsigned sizes[4096];

static void mksizes(unsigned lo, unsigned hi)
{
	uint64_t s = 42;
	for (int i = 0; i < 4096; i++)
		sizes[i] = lo + rnd(&s) % (hi - lo + 1);
}

static double imm(unsigned fixed, long n)
{
	double t = now();
	for (long i = 0; i < n; i++) {
		void *p = malloc(fixed ? fixed : sizes[i & 4095]);
		sink = p;
		free(p);
	}
	return (now() - t) / n * 1e9;
}

static double bat(unsigned fixed, long rounds)
{
	static void *p[1000];
	double t = now();
	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < 1000; i++)
			p[i] = malloc(fixed ? fixed : sizes[(r * 1000 + i) & 4095]);
		sink = p[999];
		for (int i = 0; i < 1000; i++)
			free(p[i]);
	}
	return (now() - t) / (rounds * 1000.0) * 1e9;
}

/* ---- producer / consumer through a single-producer single-consumer ring ------------------ */
enum { RING = 4096 };
static void *ring[RING];
static _Atomic unsigned long head, tail;
static long xn;

static void *consumer(void *arg)
{
	unsigned long t = 0;
	while ((long)t < xn) {
		unsigned long h = atomic_load_explicit(&head, memory_order_acquire);
		if (t == h)
			sched_yield(); /* on a loaded 2-CPU machine the producer may not be running */
		while (t < h) {
			free(ring[t % RING]);
			t++;
		}
		atomic_store_explicit(&tail, t, memory_order_release);
	}
	return arg;
}

static double xthread(long n)
{
	pthread_t c;
	xn = n;
	double t = now();
	pthread_create(&c, NULL, consumer, NULL);
	for (long i = 0; i < n; i++) {
		while (i - (long)atomic_load_explicit(&tail, memory_order_acquire) >= RING)
			sched_yield();
		ring[i % RING] = malloc(sizes[i & 4095]);
		atomic_store_explicit(&head, (unsigned long)i + 1, memory_order_release);
	}
	pthread_join(c, NULL);
	return (now() - t) / n * 1e9;
}

/* ---- larson-like: threads replace random slots and hand their slot arrays over ---------- */
enum { SLOTS = 1000, SWAP = 10000 };
static void *arrays[2][SLOTS];
static pthread_barrier_t bar;
static long lrounds;

struct lw {
	int id;
};

static void *larson_worker(void *arg)
{
	struct lw *w = arg;
	uint64_t s = 1000 + (uint64_t)w->id;
	for (long r = 0; r < lrounds; r++) {
		void **a = arrays[(w->id + r) & 1]; /* every round the other thread's array */
		for (int i = 0; i < SWAP; i++) {
			unsigned k = rnd(&s) % SLOTS;
			free(a[k]);
			a[k] = malloc(8 + rnd(&s) % 1017);
		}
		pthread_barrier_wait(&bar);
	}
	return NULL;
}

static double larson(long ops)
{
	pthread_t t[2];
	struct lw w[2] = { { 0 }, { 1 } };
	lrounds = ops / SWAP / 2;
	pthread_barrier_init(&bar, NULL, 2);
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < SLOTS; i++)
			arrays[k][i] = malloc(8 + (unsigned)i % 1017);
	double t0 = now();
	for (int k = 0; k < 2; k++)
		pthread_create(&t[k], NULL, larson_worker, &w[k]);
	for (int k = 0; k < 2; k++)
		pthread_join(t[k], NULL);
	double el = now() - t0;
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < SLOTS; i++)
			free(arrays[k][i]);
	return el / (lrounds * SWAP * 2.0) * 1e9;
}

/* ---- resident memory ------------------------------------------------------------------- */
static long rss_after;

enum rss_part { RSS_ALL, RSS_ALLOC, RSS_FREE };

/*
 * What stays resident once a program has freed its peak and gone on: it idles 1.2 s (past
 * gochan's scavenger window of 1 s and mimalloc's purge delay; jemalloc's decay takes 10 s),
 * then does a little work, 1000 mallocs of the rounds' sizes and their frees, which is when
 * allocators that release lazily get to it. Only malloc and free: no allocator is asked to
 * trim. (Read at once instead, every allocator here still holds its peak.)
 */
static long rss_after_idle(uint64_t *s)
{
	enum { N = 1000 };
	static void *q[N];

	usleep(1200 * 1000);
	for (int i = 0; i < N; i++)
		q[i] = do_malloc(8 + rnd(s) % 1017);
	for (int i = 0; i < N; i++)
		do_free(q[i]);
	return rss_kib();
}

static double rss_test(enum rss_part part)
{
	enum { N = 200000, ROUNDS = 5 };
	static void *p[N];
	uint64_t s = 7;
	double t = now(), t_alloc = 0, t_free = 0;
	for (int round = 0; round < ROUNDS; round++) {
		double t0 = now(), t1, t2;
		for (int i = 0; i < N; i++) {
			size_t n = 8 + rnd(&s) % 1017;
			p[i] = malloc(n);
			memset(p[i], 1, n);
		}
		t1 = now();
		/* free in random order */
		for (int i = 0; i < N; i++) {
			int k = (int)(rnd(&s) % N);
			void *q = p[k];
			p[k] = p[i];
			p[i] = q;
		}
		t2 = now();
		for (int i = 0; i < N; i++)
			free(p[i]);
		if (round > 0) {
			t_alloc += t1 - t0;
			t_free += now() - t2;
		}
	}
	double el = now() - t;
	/* the parts have no memory row: they skip the idle second */
	rss_after = part == RSS_ALL ? rss_after_idle(&s) : rss_kib();
	if (part == RSS_ALLOC)
		return t_alloc / ((ROUNDS - 1.0) * N) * 1e9;
	if (part == RSS_FREE)
		return t_free / ((ROUNDS - 1.0) * N) * 1e9;
	return el / ((double)ROUNDS * N) * 1e9;
}

int main(int argc, char **argv)
{
	const char *t = argc > 1 ? argv[1] : "imm16";
	double ns;

	(void)do_malloc;
	(void)do_free;
	mksizes(1, 1024);
	if (!strcmp(t, "imm16"))
		ns = imm(16, 30000000);
	else if (!strcmp(t, "imm128"))
		ns = imm(128, 30000000);
	else if (!strcmp(t, "imm1k"))
		ns = imm(1024, 30000000);
	else if (!strcmp(t, "immrand"))
		ns = imm(0, 30000000);
	else if (!strcmp(t, "bat16"))
		ns = bat(16, 20000);
	else if (!strcmp(t, "bat128"))
		ns = bat(128, 20000);
	else if (!strcmp(t, "bat1k"))
		ns = bat(1024, 20000);
	else if (!strcmp(t, "batrand"))
		ns = bat(0, 20000);
	else if (!strcmp(t, "xthread")) {
		mksizes(16, 1024);
		ns = xthread(5000000);
	} else if (!strcmp(t, "larson"))
		ns = larson(10000000);
	else if (!strcmp(t, "rss"))
		ns = rss_test(RSS_ALL);
	else if (!strcmp(t, "rss-alloc"))
		ns = rss_test(RSS_ALLOC);
	else if (!strcmp(t, "rss-free"))
		ns = rss_test(RSS_FREE);
	else {
		fprintf(stderr, "unknown test %s\n", t);
		return 2;
	}
	if (strncmp(t, "rss", 3))
		rss_after = rss_kib();
	printf("%.2f %ld %ld\n", ns, peak_kib(), rss_after);
	return 0;
}
