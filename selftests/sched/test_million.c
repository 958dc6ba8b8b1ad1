/* SPDX-License-Identifier: MIT */
/*
 * Description: a million goroutines alive at once, each parked, within the default
 * vm.max_map_count; prints the resident memory per parked goroutine (Go needs about
 * 2.5-3 KiB) and the page tables behind it. The bound checked is a sanity bound, 8 KiB; the
 * target (4 KiB) is reported by the benchmarks, not asserted here.
 */
#define _GNU_SOURCE
#include <gochan/sched.h>
#include <stdint.h>
#include <unistd.h>

#include "tap.h"

#ifndef N
#define N 1000000
#endif

static long status_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(key);

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static long count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

struct million {
	struct go_waitgroup parked, release, done;
	long ran;
	long rss0, rss1, pte0, pte1, maps;
	uint64_t guarded;
	double spawn_s;
};

static void parked_g(void *arg)
{
	struct million *m = arg;

	go_wg_done(&m->parked);
	go_wg_wait(&m->release);
	__atomic_fetch_add(&m->ran, 1, __ATOMIC_RELAXED);
	go_wg_done(&m->done);
}

static void million_main(void *arg)
{
	struct million *m = arg;
	struct go_sched_stats st = { .size = sizeof(st) };
	int64_t t0;
	int err = 0;

	go_wg_add(&m->release, 1);
	go_wg_add(&m->parked, N);
	go_wg_add(&m->done, N);
	m->rss0 = status_kib("VmRSS");
	m->pte0 = status_kib("VmPTE");
	t0 = go_now();
	for (int i = 0; i < N && !err; i++)
		err = go_spawn(parked_g, m);
	CHECK(err == 0, "go_spawn: %d", err);
	go_wg_wait(&m->parked);
	m->spawn_s = (go_now() - t0) / 1e9;
	m->rss1 = status_kib("VmRSS");
	m->pte1 = status_kib("VmPTE");
	m->maps = count_maps();
	go_sched_stats(&st);
	m->guarded = st.stacks_guarded;
	CHECK(st.goroutines == N + 1, "%llu goroutines alive", (unsigned long long)st.goroutines);
	go_wg_done(&m->release);
	go_wg_wait(&m->done);
}

static void million_goroutines_parked_at_once(void)
{
	struct million *m = calloc(1, sizeof(*m));
	double per;

	CHECK(go_run(million_main, m) == 0, "go_run");
	per = (double)(m->rss1 - m->rss0) * 1024 / N;
	/* all of them ran to the end after being released */
	CHECK(m->ran == N, "%ld of %d finished", m->ran, N);
	CHECK(per < 8192, "%.0f bytes of RSS per goroutine", per);
	CHECK(m->maps < 65530, "%ld mappings", m->maps);
	printf("# %d goroutines parked in %.2f s: RSS %.2f KiB per goroutine, page tables %.2f "
	       "KiB per goroutine, %ld mappings, %llu stacks guarded\n",
	       N, m->spawn_s, per / 1024, (double)(m->pte1 - m->pte0) / N * 1024 / 1024,
	       m->maps, (unsigned long long)m->guarded);
	free(m);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	TEST(million_goroutines_parked_at_once);
	return tap_any_failed;
}
