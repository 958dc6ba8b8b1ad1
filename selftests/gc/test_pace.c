/* SPDX-License-Identifier: MIT */
/*
 * Description: pacing and what the collector reports. GOGC (go_gc_set_percent) sets the
 * goal after each cycle; cycles start by themselves as the heap reaches it; GOGC=off stops
 * them, and a memory limit (go_gc_set_memory_limit, GOMEMLIMIT) brings them back; the
 * environment is parsed as Go's ("off", "512MiB"); GODEBUG=gctrace=1 prints one line of
 * Go's format per cycle. Counts of cycles and bytes, never times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <regex.h>
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

#define MiB (1u << 20)

static void **live;      /* a registered root: n_live blocks of 64 KiB */
static size_t n_live;

/* Keep `bytes` live, then allocate `churn` bytes of garbage in 1 KiB objects. */
static void churn_main(void *arg)
{
	size_t churn = (size_t)(uintptr_t)arg;

	for (size_t i = 0; i < n_live; i++)
		GO_WB(live[i], go_new(64 * 1024, GO_NEW_NOSCAN));
	for (size_t done = 0; done < churn; done += 1024) {
		go_new(1024, GO_NEW_NOSCAN);
		if ((done & (1024 * 1024 - 1)) == 0)
			go_yield();
	}
}

static uint64_t churn(size_t live_bytes, size_t churn_bytes)
{
	uint64_t c0 = stats().cycles;

	n_live = live_bytes / (64 * 1024);
	live = calloc(n_live, sizeof(void *));
	go_gc_root_add(live, n_live * sizeof(void *));
	CHECK(run(2, churn_main, (void *)(uintptr_t)churn_bytes) == 0, "go_run");
	go_gc_root_remove(live);
	free(live);
	return stats().cycles - c0;
}

static void gogc_sets_the_goal_and_cycles_follow_it(void)
{
	struct go_gc_stats st;
	uint64_t n, n400;

	/* the setting returns the previous one */
	CHECK(go_gc_set_percent(100) == 100, "default 100");
	n = churn(8 * MiB, 200 * MiB);
	st = stats();
	/* 200 MiB of garbage over 8 MiB live at GOGC=100: cycles start by themselves (far
	 * fewer than 25 when marking runs long: what is allocated meanwhile is black and
	 * raises the next goal; the count is not checked closer, it depends on the load) */
	CHECK(n >= 1 && n <= 60, "%lu cycles", (unsigned long)n);
	/* the goal is twice what the last cycle found live (or the 4 MiB minimum) */
	CHECK(st.heap_goal == (st.heap_marked * 2 > 4 * MiB ? st.heap_marked * 2 : 4 * MiB),
	      "goal %lu, marked %lu", (unsigned long)st.heap_goal, (unsigned long)st.heap_marked);
	CHECK(go_gc_set_percent(400) == 100, "set 400");
	n400 = churn(8 * MiB, 200 * MiB);
	/* four times the room: the goal is five times what was found live */
	CHECK(n400 <= 60, "%lu cycles at GOGC=400, %lu at 100", (unsigned long)n400,
	      (unsigned long)n);
	st = stats();
	CHECK(st.heap_goal == (st.heap_marked * 5 > 16 * MiB ? st.heap_marked * 5 : 16 * MiB),
	      "goal %lu, marked %lu at GOGC=400", (unsigned long)st.heap_goal,
	      (unsigned long)st.heap_marked);
	CHECK(stats().gc_percent == 400, "percent");
	go_gc_set_percent(100);
}

static void gogc_off_and_the_memory_limit(void)
{
	struct go_gc_stats st;
	uint64_t n;

	CHECK(go_gc_set_memory_limit(-1) == INT64_MAX, "no limit by default");
	CHECK(go_gc_set_percent(-1) == 100, "off");
	n = churn(4 * MiB, 64 * MiB);
	/* GOGC=off: no cycle at all */
	CHECK(n == 0, "%lu cycles with GOGC=off", (unsigned long)n);
	CHECK(go_gc_set_memory_limit(48 * MiB) == INT64_MAX, "set limit");
	CHECK(go_gc_set_memory_limit(-1) == 48 * MiB && stats().memory_limit == 48 * MiB,
	      "read limit");
	n = churn(4 * MiB, 200 * MiB);
	/* the limit brings cycles back even with GOGC off, and keeps the goal under it */
	CHECK(n >= 2, "%lu cycles under a 48 MiB limit", (unsigned long)n);
	st = stats();
	/* ... and the goal under it, unless what the last cycle found live (objects allocated
	 * while it marked count) is near it: then live + 1/16 + 1 MiB, never less */
	CHECK(st.heap_goal < 48 * MiB ||
		      st.heap_goal == st.heap_marked + st.heap_marked / 16 + MiB,
	      "goal %lu, marked %lu", (unsigned long)st.heap_goal, (unsigned long)st.heap_marked);
	go_gc_set_memory_limit(INT64_MAX);
	go_gc_set_percent(100);
}

static void child_main(void *arg)
{
	(void)arg;
	go_gc();
	go_gc();
	printf("percent %d limit %lld\n", stats().gc_percent,
	       (long long)go_gc_set_memory_limit(-1));
}

/* This program again, with env, running child_main; its output in buf. */
static int run_child(char *const env[], char *buf, size_t size)
{
	char *argv[] = { "test_pace", "--child", NULL };

	return exec_child("/proc/self/exe", argv, env, buf, size);
}

static void environment_and_gctrace(void)
{
	char *env1[] = { "GODEBUG=gctrace=1", "GOGC=off", "GOMEMLIMIT=512MiB", NULL };
	char *env2[] = { "GOCHAN_GCTRACE=1", "GOGC=50", "GOMEMLIMIT=1e9", NULL };
	char buf[8192];
	regex_t re;

	CHECK(regcomp(&re, "gc 2 @[0-9.]+s [0-9]+%: [0-9.]+\\+[0-9.]+\\+[0-9.]+ ms clock, "
			   "[0-9.]+\\+[0-9.]+/[0-9.]+/0\\+[0-9.]+ ms cpu, [0-9]+->[0-9]+->[0-9]+ MB, "
			   "[0-9]+ MB goal, [0-9]+ MB stacks, [0-9]+ MB globals, 2 P \\(forced\\)",
		      REG_EXTENDED) == 0, "regcomp");
	/* Go's gctrace line for each cycle, GOGC=off read as -1, 512MiB as bytes */
	CHECK(run_child(env1, buf, sizeof(buf)) == 0 && !regexec(&re, buf, 0, NULL, 0) &&
		      strstr(buf, "percent -1 limit 536870912"),
	      "%s", buf);
	/* the other spellings */
	CHECK(run_child(env2, buf, sizeof(buf)) == 0 && strstr(buf, "gc 1 @") &&
		      strstr(buf, "percent 50 limit 1000000000"),
	      "%s", buf);
	regfree(&re);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--child"))
		return run(2, child_main, NULL);
	TEST(gogc_sets_the_goal_and_cycles_follow_it);
	TEST(gogc_off_and_the_memory_limit);
	TEST(environment_and_gctrace);
	return tap_any_failed;
}
