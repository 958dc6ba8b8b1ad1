/* SPDX-License-Identifier: MIT */
/*
 * Description: the scheduler's soak (make soak-sched, not make check): for $SOAK_SECONDS
 * (default 60), rounds of 5 s with 1 to 4 Ps (every other one with 1), each with hog goroutines that spin 10-25 ms without a
 * runtime call (the hog signal hands their P over), syscall-heavy workers (short bracketed
 * sleeps and getppid, unbracketed pipe reads and writes through the poller, sleeps, yields,
 * short-lived goroutines) and a timer storm. Throughout, no more goroutines hold a P than
 * there are Ps (each watches, in a stretch after a runtime call, how many are in theirs);
 * nobody wakes early; every worker gets on; every round ends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <gochan/sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "env.h"
#include "tap.h"
#include "rand.h"

#define MSEC 1000000LL
#define USEC 1000LL

enum { NHOGS = 2, NWORKERS = 6, NPAIRS = 2, NTIMERS = 64 };

struct round {
	unsigned procs;
	int64_t end;
	_Atomic uint32_t stop;
	_Atomic uint32_t holding;	/* goroutines in a stretch that needs a P */
	_Atomic long overlaps, stretches, early, progress[NWORKERS + NHOGS];
	_Atomic long short_lived, timers_fired, pipe_ops;
	int ping[NPAIRS][2], pong[NPAIRS][2];	/* a byte each way, through the poller */
	struct go_waitgroup wg, spawned;
	struct go_timer timers[NTIMERS];
	int64_t timer_when[NTIMERS];
	_Atomic int timer_pending[NTIMERS];
};

struct worker {
	struct round *r;
	int id;
	uint64_t rng;
};

static uint32_t rnd(struct worker *w)
{
	return (uint32_t)xorshift64(&w->rng);
}

/* Up to us of work that needs a P, watching how many others are in theirs. */
static void stretch(struct round *r, int64_t us)
{
	int64_t end = go_now() + us * USEC;
	bool over = atomic_fetch_add(&r->holding, 1) + 1 > r->procs;

	while (go_now() < end)
		over |= atomic_load(&r->holding) > r->procs;
	atomic_fetch_sub(&r->holding, 1);
	if (over)
		atomic_fetch_add(&r->overlaps, 1);
	atomic_fetch_add(&r->stretches, 1);
}

static bool stopped(struct round *r)
{
	return atomic_load(&r->stop) || go_now() > r->end;
}

static void hog(void *arg)
{
	struct worker *w = arg;
	struct round *r = w->r;

	while (!stopped(r)) {
		int64_t end = go_now() + (10 + rnd(w) % 16) * MSEC;

		while (go_now() < end)		/* no runtime call */
			;
		go_yield();
		stretch(r, 20);
		atomic_fetch_add(&r->progress[w->id], 1);
	}
	go_wg_done(&r->wg);
}

static void short_lived(void *arg)
{
	struct round *r = arg;

	atomic_fetch_add(&r->short_lived, 1);
	GO_SYSCALL(syscall(SYS_getppid));
	go_wg_done(&r->spawned);
}

static void worker(void *arg)
{
	struct worker *w = arg;
	struct round *r = w->r;
	int pair = w->id % NPAIRS;
	bool writer = w->id < NPAIRS;	/* one writer and one reader per pipe */
	char buf[1] = { 0 };

	while (!stopped(r)) {
		switch (rnd(w) % 10) {
		case 0:
		case 6:
		case 7:
			/* long enough for sysmon to hand the P over (> 20 us) */
			GO_SYSCALL(usleep(50 + rnd(w) % 200));
			break;
		case 1:
			GO_SYSCALL(syscall(SYS_getppid));
			break;
		case 2: {
			int64_t until = go_now() + (rnd(w) % 2000) * USEC;

			go_sleep_until(until);
			if (go_now() < until)
				atomic_fetch_add(&r->early, 1);
			break;
		}
		case 3:
			go_yield();
			break;
		case 4:
			go_wg_add(&r->spawned, 1);
			if (go_spawn(short_lived, r) < 0)
				go_wg_done(&r->spawned);
			break;
		default:
			if (w->id >= 2 * NPAIRS)
				break;
			/* a pipe pair per two workers: a byte there, then one back */
			if (writer) {
				if (go_write(r->ping[pair][1], buf, 1) == 1 &&
				    go_read(r->pong[pair][0], buf, 1) == 1)
					atomic_fetch_add(&r->pipe_ops, 1);
			} else {
				if (go_read(r->ping[pair][0], buf, 1) == 1 &&
				    go_write(r->pong[pair][1], buf, 1) == 1)
					atomic_fetch_add(&r->pipe_ops, 1);
			}
			break;
		}
		stretch(r, 20);
		atomic_fetch_add(&r->progress[w->id], 1);
	}
	go_wg_done(&r->wg);
}

static void timer_fire(struct go_timer *t, void *arg)
{
	struct round *r = arg;
	int i = (int)(t - r->timers);

	if (go_now() < r->timer_when[i])
		atomic_fetch_add(&r->early, 1);
	atomic_fetch_add(&r->timers_fired, 1);
	atomic_store(&r->timer_pending[i], 0);
}

static void round_main(void *arg)
{
	struct round *r = arg;
	struct worker ws[NWORKERS + NHOGS];
	uint64_t seed = (uint64_t)go_now() | 1;
	struct worker me = { .r = r, .rng = seed };

	go_wg_add(&r->wg, NWORKERS + NHOGS);
	for (int i = 0; i < NWORKERS + NHOGS; i++) {
		ws[i] = (struct worker){ .r = r, .id = i, .rng = seed * (2 * i + 1) | 1 };
		go_spawn(i < NWORKERS ? worker : hog, &ws[i]);
	}
	/* a timer storm, restarted as they fire */
	while (!stopped(r)) {
		for (int i = 0; i < NTIMERS; i++) {
			if (atomic_load(&r->timer_pending[i]))
				continue;
			r->timer_when[i] = go_now() + (int64_t)(rnd(&me) % 3000) * USEC;
			atomic_store(&r->timer_pending[i], 1);
			if (go_timer_start(&r->timers[i], r->timer_when[i], timer_fire, r) < 0)
				atomic_store(&r->timer_pending[i], 0);
		}
		go_sleep(MSEC);
	}
	atomic_store(&r->stop, 1);
	/* a byte for whoever waits on a pipe: it sees the stop then */
	for (int p = 0; p < NPAIRS; p++)
		if (write(r->ping[p][1], "x", 1) != 1 || write(r->pong[p][1], "x", 1) != 1)
			CHECK(0, "write");
	go_wg_wait(&r->wg);
	go_wg_wait(&r->spawned);
	/* the timers: stopped, or fired (their function may still run: wait for it) */
	for (int i = 0; i < NTIMERS; i++)
		if (go_timer_stop(&r->timers[i]))
			atomic_store(&r->timer_pending[i], 0);
	for (int i = 0; i < NTIMERS; i++)
		while (atomic_load(&r->timer_pending[i]))
			go_sleep(MSEC);
}

static void hogs_and_syscalls_keep_one_goroutine_per_p(void)
{
	int64_t until = go_now() + env_long("SOAK_SECONDS", 60) * 1000 * MSEC;
	int n = 0;

	while (go_now() < until) {
		struct round *r = calloc(1, sizeof(*r));
		struct go_config c = { .size = sizeof(c) };
		long least = -1;
		int ret;

		r->procs = n % 2 ? 1 + (n / 2) % 4 : 1;	/* 1, 1, 1, 2, 1, 3, 1, 4 ... */
		r->end = go_now() + 5000 * MSEC;
		if (r->end > until)
			r->end = until;
		for (int p = 0; p < NPAIRS; p++)
			if (pipe(r->ping[p]) != 0 || pipe(r->pong[p]) != 0)
				CHECK(0, "pipe");
		c.maxprocs = r->procs;
		ret = go_run_config(&c, round_main, r);
		for (int i = 0; i < NWORKERS + NHOGS; i++)
			if (least < 0 || r->progress[i] < least)
				least = r->progress[i];
		printf("# round %d, %u Ps: %ld stretches, %ld overlaps, %ld early, least progress "
		       "%ld, %ld spawned, %ld timers, %ld pipe round trips\n", n, r->procs,
		       (long)r->stretches, (long)r->overlaps, (long)r->early, least,
		       (long)r->short_lived, (long)r->timers_fired, (long)r->pipe_ops);
		/* the round ended, no more goroutines held a P than there are Ps, nobody woke
		 * early, every worker and hog got on */
		CHECK(ret == 0, "round %d: go_run %d", n, ret);
		CHECK(r->overlaps == 0, "round %d: %ld stretches saw more than %u goroutines holding a P", n,
		      (long)r->overlaps, r->procs);
		CHECK(r->early == 0, "round %d: %ld woke early", n, (long)r->early);
		CHECK(least > 0, "round %d: a goroutine made no progress", n);
		for (int p = 0; p < NPAIRS; p++) {
			close(r->ping[p][0]);
			close(r->ping[p][1]);
			close(r->pong[p][0]);
			close(r->pong[p][1]);
		}
		free(r);
		n++;
	}
	printf("# %d rounds\n", n);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	TEST(hogs_and_syscalls_keep_one_goroutine_per_p);
	return tap_any_failed;
}
