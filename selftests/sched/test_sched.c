/* SPDX-License-Identifier: MIT */
/*
 * Description: the M:N scheduler: run, spawn, yield, park/ready, wait groups, timers and
 * sleeps, work stealing, the syscall handoff, the hog handoff, deadlock detection, an idle
 * program's CPU, schedtrace, and errno across switches. Every test calls go_run afresh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gochan/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "child.h"
#include "clock.h"

static struct go_config cfg(unsigned procs)
{
	struct go_config c = { .size = sizeof(c), .maxprocs = procs };

	return c;
}

static int run_procs(unsigned procs, void (*fn)(void *), void *arg)
{
	struct go_config c = cfg(procs);

	return go_run_config(&c, fn, arg);
}

static int64_t cpu_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* ---- run -------------------------------------------------------------------------------- */

struct basic {
	uint64_t id;
	unsigned procs;
	int spawn_outside;
	int nested;
};

static void basic_main(void *arg)
{
	struct basic *b = arg;

	b->id = go_id();
	b->procs = go_maxprocs();
	b->nested = go_run(basic_main, arg);
}

static void run_returns_when_main_returns(void)
{
	struct basic b = { 0 };

	/* Outside a run there is nothing to spawn on. */
	CHECK(go_spawn(basic_main, &b) == -EPERM, "go_spawn outside go_run");
	CHECK(run_procs(3, basic_main, &b) == 0, "go_run");
	/* main is goroutine 1, sees its P count, and cannot nest go_run */
	CHECK(b.id == 1, "id %llu", (unsigned long long)b.id);
	CHECK(b.procs == 3, "procs %u", b.procs);
	CHECK(b.nested == -EBUSY, "nested go_run returned %d", b.nested);
	CHECK(go_id() == 0, "no goroutine outside");
	CHECK(go_maxprocs() == 0, "no scheduler outside");
}

static void bad_config_is_einval(void)
{
	struct go_config c = cfg(1);

	c.size = 4;
	CHECK(go_run_config(&c, basic_main, NULL) == -EINVAL, "short size");
	c = cfg(1);
	c.flags = 0x80;
	CHECK(go_run_config(&c, basic_main, NULL) == -EINVAL, "unknown flag");
	c = cfg(1);
	c.stack_max = 4096;
	CHECK(go_run_config(&c, basic_main, NULL) == -EINVAL, "stack too small");
	CHECK(go_run(NULL, NULL) == -EINVAL, "no main");
}

/* ---- spawn ------------------------------------------------------------------------------ */

/* ThreadSanitizer makes each goroutine a fiber, and counts fibers as threads (8128 at most) */
#ifdef __SANITIZE_THREAD__
#define NSPAWN 4000
#else
#define NSPAWN 20000
#endif

struct counter {
	struct go_waitgroup wg;
	long n;
};

static void bump(void *arg)
{
	struct counter *c = arg;

	__atomic_fetch_add(&c->n, 1, __ATOMIC_RELAXED);
	go_wg_done(&c->wg);
}

static void spawn_main(void *arg)
{
	struct counter *c = arg;
	int i, err = 0;

	for (i = 0; i < NSPAWN; i++) {
		go_wg_add(&c->wg, 1);
		err |= go_spawn(bump, c);
	}
	CHECK(err == 0, "go_spawn failed");
	go_wg_wait(&c->wg);
}

static void spawn_runs_every_goroutine(void)
{
	for (unsigned procs = 1; procs <= 4; procs *= 2) {
		struct counter c = { 0 };

		CHECK(run_procs(procs, spawn_main, &c) == 0, "go_run");
		/* every goroutine ran exactly once before Wait returned */
		CHECK(c.n == NSPAWN, "%u Ps: %ld of %d ran", procs, c.n, NSPAWN);
	}
}

static void wg_rejects_negative(void)
{
	struct go_waitgroup wg = { 0 };

	CHECK(go_wg_add(&wg, -1) == -EINVAL, "negative count");
	CHECK(go_wg_add(&wg, 2) == 0 && go_wg_done(&wg) == 0 && go_wg_done(&wg) == 0, "add/done");
	go_wg_wait(&wg);	/* zero: returns at once, also outside a goroutine */
}

/* ---- yield: round robin on one P, progress for all on two -------------------------------- */

#define NYIELDERS 8
#define ROUNDS 2000

struct rr {
	struct go_waitgroup wg;
	int order[NYIELDERS * ROUNDS];
	int pos;
	long count[NYIELDERS];
	int ids[NYIELDERS];
	uint64_t hog_handoffs;
};

static struct rr *rr_state;

static void yielder(void *arg)
{
	int id = *(int *)arg;

	for (int i = 0; i < ROUNDS; i++) {
		int pos = __atomic_fetch_add(&rr_state->pos, 1, __ATOMIC_RELAXED);

		rr_state->order[pos] = id;
		__atomic_fetch_add(&rr_state->count[id], 1, __ATOMIC_RELAXED);
		go_yield();
	}
	go_wg_done(&rr_state->wg);
}

static void rr_main(void *arg)
{
	(void)arg;
	go_wg_add(&rr_state->wg, NYIELDERS);
	for (int i = 0; i < NYIELDERS; i++) {
		rr_state->ids[i] = i;
		go_spawn(yielder, &rr_state->ids[i]);
	}
	go_wg_wait(&rr_state->wg);
	{
		struct go_sched_stats st = { .size = sizeof(st) };

		go_sched_stats(&st);
		rr_state->hog_handoffs = st.hog_handoffs;
	}
}

static void yield_is_round_robin_on_one_p(void)
{
	struct rr *s = calloc(1, sizeof(*s));
	int bad = 0;

	rr_state = s;
	CHECK(run_procs(1, rr_main, NULL) == 0, "go_run");
	/* After the first round, each window of NYIELDERS turns holds every goroutine once. */
	for (int w = NYIELDERS; w + NYIELDERS <= NYIELDERS * ROUNDS; w += NYIELDERS) {
		int seen = 0;

		for (int i = 0; i < NYIELDERS; i++)
			seen |= 1 << s->order[w + i];
		bad += seen != (1 << NYIELDERS) - 1;
	}
	/* (a thread the OS kept off a CPU for 10 ms looks like a hog, and its P moves: only
	 * that may reorder turns, on a loaded machine or under a sanitizer) */
	CHECK(bad == 0 || s->hog_handoffs > 0, "%d windows of %d turns missed a goroutine", bad,
	      NYIELDERS);
	free(s);
}

static void yield_lets_everyone_progress_on_two_ps(void)
{
	struct rr *s = calloc(1, sizeof(*s));

	rr_state = s;
	CHECK(run_procs(2, rr_main, NULL) == 0, "go_run");
	for (int i = 0; i < NYIELDERS; i++)
		CHECK(s->count[i] == ROUNDS, "goroutine %d ran %ld rounds", i, s->count[i]);
	free(s);
}

/* ---- stealing ----------------------------------------------------------------------------- */

struct steal {
	struct go_waitgroup wg;
	pid_t tids[64];
	int ntid;
	uint32_t lock;
	uint64_t steals;
};

static int64_t steal_deadline;

/* Busy for 1 ms at a time, noting the thread, until two threads were seen (the machine may
 * be loaded: the second M may take a while to get a CPU) or 10 s passed. */
static void busy_1ms(void *arg)
{
	struct steal *s = arg;

	for (;;) {
		int64_t end = go_now() + 1000000;
		pid_t tid = (pid_t)syscall(SYS_gettid);
		bool known = false;
		int ntid;

		while (go_now() < end)
			;
		while (__atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE))
			;
		for (int i = 0; i < s->ntid; i++)
			known |= s->tids[i] == tid;
		if (!known && s->ntid < 64)
			s->tids[s->ntid++] = tid;
		ntid = s->ntid;
		__atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
		if (ntid >= 2 || go_now() > steal_deadline)
			break;
		go_yield();	/* back to this P's queue, where the other P can steal it */
	}
	go_wg_done(&s->wg);
}

static void steal_main(void *arg)
{
	struct steal *s = arg;
	struct go_sched_stats st = { .size = sizeof(st) };

	steal_deadline = go_now() + 10000000000;
	go_wg_add(&s->wg, 200);
	for (int i = 0; i < 200; i++)
		go_spawn(busy_1ms, s);	/* all on this P's queue */
	go_wg_wait(&s->wg);
	go_sched_stats(&st);
	s->steals = st.steals;
}

static void idle_p_steals_work(void)
{
	struct steal s = { 0 };

	CHECK(run_procs(2, steal_main, &s) == 0, "go_run");
	/* the second P took goroutines from the first one's queue */
	CHECK(s.steals > 0, "no steals");
	CHECK(s.ntid >= 2, "work ran on %d thread(s)", s.ntid);
}

/* ---- park / ready ------------------------------------------------------------------------- */

#define HANDOFFS 20000

struct pingpong {
	struct go_g *waiter[2];
	uint32_t lock;
	long turn;
	long errors;
	struct go_waitgroup wg;
};

static bool pp_unlock(struct go_g *g, void *arg)
{
	(void)g;
	__atomic_store_n((uint32_t *)arg, 0, __ATOMIC_RELEASE);
	return true;
}

static void pp_lock(struct pingpong *pp)
{
	while (__atomic_exchange_n(&pp->lock, 1, __ATOMIC_ACQUIRE))
		go_yield();
}

/* Two goroutines alternate: each waits until turn has its parity, then passes it on. */
static void pp_side(struct pingpong *pp, int me)
{
	for (int i = 0; i < HANDOFFS; i++) {
		struct go_g *other;

		pp_lock(pp);
		if ((pp->turn & 1) != me) {
			pp->waiter[me] = go_self();
			go_park(pp_unlock, &pp->lock, "pingpong");
			pp_lock(pp);
		}
		if ((pp->turn & 1) != me)
			pp->errors++;
		pp->turn++;
		other = pp->waiter[!me];
		pp->waiter[!me] = NULL;
		__atomic_store_n(&pp->lock, 0, __ATOMIC_RELEASE);
		if (other)
			go_ready(other, 0);
	}
	go_wg_done(&pp->wg);
}

static void pp_one(void *arg)
{
	pp_side(arg, 1);
}

static void pp_main(void *arg)
{
	struct pingpong *pp = arg;

	go_wg_add(&pp->wg, 2);
	go_spawn(pp_one, pp);
	pp_side(pp, 0);
	go_wg_wait(&pp->wg);
}

static void park_ready_hands_off_in_order(void)
{
	for (unsigned procs = 1; procs <= 2; procs++) {
		struct pingpong pp = { 0 };

		CHECK(run_procs(procs, pp_main, &pp) == 0, "go_run");
		CHECK(pp.turn == 2 * HANDOFFS && pp.errors == 0, "%u Ps: turn %ld errors %ld",
		      procs, pp.turn, pp.errors);
	}
}

struct value {
	struct go_g *g;
	uintptr_t got;
	uint32_t parked;
};

static bool mark_parked(struct go_g *g, void *arg)
{
	struct value *v = arg;

	v->g = g;
	__atomic_store_n(&v->parked, 1, __ATOMIC_RELEASE);
	return true;
}

static void *foreign_readier(void *arg)
{
	struct value *v = arg;

	while (!__atomic_load_n(&v->parked, __ATOMIC_ACQUIRE))
		usleep(1000);
	usleep(10000);
	go_ready(v->g, 4242);
	return NULL;
}

static void foreign_main(void *arg)
{
	struct value *v = arg;
	pthread_t t;

	pthread_create(&t, NULL, foreign_readier, v);
	v->got = go_park(mark_parked, v, "foreign");
	pthread_join(t, NULL);
}

static void thread_outside_scheduler_can_ready(void)
{
	struct value v = { 0 };

	struct go_config c = cfg(2);

	/* A plain pthread readies the main goroutine; go_park returns its value. The deadlock
	 * check cannot know about such wakers: it is turned off. */
	c.flags = GO_CONFIG_NO_DEADLOCK_CHECK;
	CHECK(go_run_config(&c, foreign_main, &v) == 0, "go_run");
	CHECK(v.got == 4242, "value %lu", (unsigned long)v.got);
}

static struct go_waitgroup thread_wg;
static int thread_waited;

static void *thread_waiter(void *arg)
{
	(void)arg;
	go_wg_wait(&thread_wg);	/* a thread's stand-in parks on its futex */
	__atomic_store_n(&thread_waited, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void release_after_sleep(void *arg)
{
	(void)arg;
	go_sleep(20000000);
	go_wg_done(&thread_wg);
}

static void thread_wait_main(void *arg)
{
	pthread_t t;

	(void)arg;
	go_wg_add(&thread_wg, 1);
	pthread_create(&t, NULL, thread_waiter, NULL);
	go_spawn(release_after_sleep, NULL);
	GO_SYSCALL(pthread_join(t, NULL));
}

static void thread_can_wait_on_goroutines(void)
{
	CHECK(run_procs(1, thread_wait_main, NULL) == 0, "go_run");
	CHECK(thread_waited == 1, "thread did not return from go_wg_wait");
}

/* ---- timers and sleep ------------------------------------------------------------------------- */

#define NSLEEPERS 200

struct sleeps {
	struct go_waitgroup wg;
	int64_t deadline[NSLEEPERS];
	int64_t woke[NSLEEPERS];
	int64_t started[NSLEEPERS];
	int order[NSLEEPERS];
	int pos;
	int idx[NSLEEPERS];
};

static struct sleeps *sl;

static void sleeper(void *arg)
{
	int i = *(int *)arg;

	sl->started[i] = go_now();
	go_sleep_until(sl->deadline[i]);
	sl->woke[i] = go_now();
	sl->order[__atomic_fetch_add(&sl->pos, 1, __ATOMIC_RELAXED)] = i;
	go_wg_done(&sl->wg);
}

static void sleep_main(void *arg)
{
	int64_t now = go_now();
	unsigned seed = 12345;

	(void)arg;
	go_wg_add(&sl->wg, NSLEEPERS);
	for (int i = 0; i < NSLEEPERS; i++) {
		sl->deadline[i] = now + 20000000 + (int64_t)(rand_r(&seed) % 100) * 1000000;
		sl->idx[i] = i;
		go_spawn(sleeper, &sl->idx[i]);
	}
	go_wg_wait(&sl->wg);
}

static void sleeps_wake_in_order_never_early(void)
{
	int64_t worst = 0;
	int early = 0, disorder = 0;

	sl = calloc(1, sizeof(*sl));
	CHECK(run_procs(1, sleep_main, NULL) == 0, "go_run");
	for (int i = 0; i < NSLEEPERS; i++) {
		early += sl->woke[i] < sl->deadline[i];
		if (sl->woke[i] - sl->deadline[i] > worst)
			worst = sl->woke[i] - sl->deadline[i];
	}
	for (int i = 1; i < NSLEEPERS; i++) {
		int a = sl->order[i - 1], b = sl->order[i];

		/* (one that began to sleep after its deadline only yielded: not counted) */
		if (sl->started[b] >= sl->deadline[b] || sl->started[a] >= sl->deadline[a])
			continue;
		if (sl->deadline[b] < sl->deadline[a] && !disorder++)
			printf("# %d (deadline +%.3f ms) woke at +%.3f ms, after %d (deadline +%.3f "
			       "ms, woke +%.3f ms)\n", b, (sl->deadline[b] - sl->deadline[0]) / 1e6,
			       (sl->woke[b] - sl->deadline[0]) / 1e6, a,
			       (sl->deadline[a] - sl->deadline[0]) / 1e6,
			       (sl->woke[a] - sl->deadline[0]) / 1e6);
	}
	/* never before the deadline; in deadline order on one P; late by a bounded amount */
	CHECK(early == 0, "%d woke early", early);
	CHECK(disorder == 0, "%d out of order", disorder);
	/* a sanity bound, on the plain build only: machines are shared, sanitizers slow (the
	 * figure is printed) */
#if !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
	CHECK(worst < 1000000000, "worst lateness %lld ns", (long long)worst);
#endif
	printf("# sleep: %d sleepers, worst lateness %.3f ms\n", NSLEEPERS, worst / 1e6);
	free(sl);
}

struct tstate {
	struct go_timer t;
	int fired;
};

static void tfire(struct go_timer *t, void *arg)
{
	(void)t;
	__atomic_fetch_add(&((struct tstate *)arg)->fired, 1, __ATOMIC_RELEASE);
}

static void timer_main(void *arg)
{
	struct tstate *a = arg, b = { 0 };

	/* a stopped timer never fires; a fired one cannot be stopped */
	CHECK(go_timer_start(&a->t, go_now() + 20000000, tfire, a) == 0, "start");
	CHECK(go_timer_start(&a->t, go_now() + 20000000, tfire, a) == -EBUSY, "start twice");
	CHECK(go_timer_stop(&a->t) == true, "stop pending");
	CHECK(go_timer_stop(&a->t) == false, "stop again");
	CHECK(go_timer_start(&b.t, go_now() + 1000000, tfire, &b) == 0, "start b");
	go_sleep(40000000);
	CHECK(a->fired == 0, "stopped timer fired");
	CHECK(__atomic_load_n(&b.fired, __ATOMIC_ACQUIRE) == 1, "b fired %d times", b.fired);
	CHECK(go_timer_stop(&b.t) == false, "stop fired");
}

static void timers_stop_and_fire(void)
{
	struct tstate a = { 0 };

	CHECK(run_procs(2, timer_main, &a) == 0, "go_run");
}

/* ---- system calls and hogs ---------------------------------------------------------------------- */

struct handoff {
	uint32_t in_syscall;
	long progress_during;
	uint32_t done;
	uint64_t handoffs;
};

static void counter_g(void *arg)
{
	struct handoff *h = arg;

	while (!__atomic_load_n(&h->done, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&h->in_syscall, __ATOMIC_ACQUIRE))
			h->progress_during++;
		go_yield();
	}
}

static void syscall_main(void *arg)
{
	struct handoff *h = arg;
	struct go_sched_stats st = { .size = sizeof(st) };

	go_spawn(counter_g, h);
	go_yield();
	__atomic_store_n(&h->in_syscall, 1, __ATOMIC_RELEASE);
	GO_SYSCALL(usleep(200000));
	__atomic_store_n(&h->in_syscall, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&h->done, 1, __ATOMIC_RELEASE);
	go_sched_stats(&st);
	h->handoffs = st.syscall_handoffs;
}

static void blocking_syscall_hands_off_its_p(void)
{
	struct handoff h = { 0 };

	/* one P: the other goroutine runs only if the P leaves the blocked thread */
	CHECK(run_procs(1, syscall_main, &h) == 0, "go_run");
	CHECK(h.progress_during > 0, "no progress during the system call");
	CHECK(h.handoffs >= 1, "handoffs %llu", (unsigned long long)h.handoffs);
}

struct hog {
	uint32_t stop;
	uint64_t handoffs;
};

static void spinner(void *arg)
{
	struct hog *h = arg;

	/* never calls the runtime until told to stop */
	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE))
		;
}

static void stopper(void *arg)
{
	__atomic_store_n(&((struct hog *)arg)->stop, 1, __ATOMIC_RELEASE);
}

static void hog_main(void *arg)
{
	struct hog *h = arg;
	struct go_sched_stats st = { .size = sizeof(st) };

	go_spawn(stopper, h);		/* runnext: would run after the spinner yields */
	spinner(h);			/* main spins first */
	go_sched_stats(&st);
	h->handoffs = st.hog_handoffs;
}

static struct hog hog_result;

static void hog_child(void)
{
	int r = run_procs(1, hog_main, &hog_result);

	_exit(r == 0 && hog_result.handoffs >= 1 ? 0 : 1);
}

static void spinning_goroutine_does_not_starve_others(void)
{
	char buf[4096];
	int st = in_child(hog_child, buf, sizeof(buf), 20);

	/* on one P, the stopper runs while main spins: main's P went to another thread */
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x: %s", st, buf);
}

/*
 * The hog signal interrupts a goroutine blocked in a system call it did not bracket: a call
 * the kernel restarts (SA_RESTART: a read on a pipe here) goes on unseen; sleeps and polls
 * return EINTR, as sched.h says, and bracketed they are never signalled.
 */
struct restart {
	int fds[2];
	ssize_t r;
	int err;
	uint32_t done;
	struct timespec left;
	int sleep_r;
	uint64_t hog_handoffs;
};

static void restart_waiter(void *arg)
{
	struct restart *s = arg;

	while (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE))	/* runnable all along */
		go_yield();
}

static void *restart_writer(void *arg)
{
	struct restart *s = arg;

	usleep(300000);
	if (write(s->fds[1], "x", 1) != 1)
		s->err = -1;
	return NULL;
}

static void restart_main(void *arg)
{
	struct restart *s = arg;
	struct timespec ts = { 0, 100000000 };
	struct go_sched_stats st = { .size = sizeof(st) };
	pthread_t t;
	char c;

	pthread_create(&t, NULL, restart_writer, s);
	go_spawn(restart_waiter, s);
	/* Unbracketed, the P stays with this thread while the waiter waits: sysmon signals.
	 * A sleep may end early with EINTR (documented; printed, not checked). */
	{
		int64_t t0 = go_now();
		int r = nanosleep(&ts, &s->left);

		printf("# unbracketed nanosleep(100 ms): %d%s after %.1f ms\n", r,
		       r < 0 && errno == EINTR ? " EINTR" : "", (go_now() - t0) / 1e6);
	}
	go_yield();	/* a P again */
	s->r = read(s->fds[0], &c, 1);
	s->err = s->r < 0 ? errno : 0;
	/* bracketed: the P goes to another thread, nobody signals this one */
	s->sleep_r = GO_SYSCALL(nanosleep(&ts, &s->left));
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	go_sched_stats(&st);
	s->hog_handoffs = st.hog_handoffs;
	GO_SYSCALL(pthread_join(t, NULL));
}

static void hog_signal_restarts_slow_calls(void)
{
	struct restart s = { 0 };

	CHECK(pipe(s.fds) == 0, "pipe");
	CHECK(run_procs(1, restart_main, &s) == 0, "go_run");
	/* the read was restarted after the hog signal, and returned the byte */
	CHECK(s.r == 1, "read returned %zd (errno %d)", s.r, s.err);
	CHECK(s.sleep_r == 0, "bracketed nanosleep returned %d", s.sleep_r);
	printf("# %llu hog handoffs\n", (unsigned long long)s.hog_handoffs);
	close(s.fds[0]);
	close(s.fds[1]);
}

/*
 * One P is one running goroutine. Workers make short bracketed system calls (sysmon hands
 * their P to another thread while they sleep) and a hog spins 15 ms at a time (the hog
 * signal flips its P); between its system calls, or after a runtime call returns, a
 * goroutine holds the only P, so no two may be in that stretch at once.
 */
#define ONEP_WORKERS 4

struct onep {
	uint32_t stop;
	uint32_t holding;	/* goroutines in a stretch that needs the P */
	long overlaps;		/* times one saw another in its stretch */
	long stretches;
	struct go_waitgroup wg;
	uint64_t syscall_handoffs, hog_handoffs;
};

/* About us of work that needs the P, watching for anyone else holding it meanwhile. */
static void onep_stretch(struct onep *s, int64_t us)
{
	int64_t end = go_now() + us * 1000;
	bool overlap = __atomic_add_fetch(&s->holding, 1, __ATOMIC_ACQ_REL) > 1;

	while (go_now() < end)
		overlap |= __atomic_load_n(&s->holding, __ATOMIC_ACQUIRE) > 1;
	__atomic_sub_fetch(&s->holding, 1, __ATOMIC_ACQ_REL);
	if (overlap)
		__atomic_add_fetch(&s->overlaps, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->stretches, 1, __ATOMIC_RELAXED);
}

static void onep_worker(void *arg)
{
	struct onep *s = arg;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		GO_SYSCALL(usleep(100));
		onep_stretch(s, 20);
	}
	go_wg_done(&s->wg);
}

static void onep_hog(void *arg)
{
	struct onep *s = arg;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		int64_t end = go_now() + 15000000;

		while (go_now() < end)	/* no runtime call: the hog signal takes the P */
			;
		go_yield();		/* back with a P (or queued until one is free) */
		onep_stretch(s, 20);
	}
	go_wg_done(&s->wg);
}

static void onep_main(void *arg)
{
	struct onep *s = arg;
	struct go_sched_stats st = { .size = sizeof(st) };

	go_wg_add(&s->wg, ONEP_WORKERS + 1);
	go_spawn(onep_hog, s);
	for (int i = 0; i < ONEP_WORKERS; i++)
		go_spawn(onep_worker, s);
	GO_SYSCALL(usleep(1500000));
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	go_wg_wait(&s->wg);
	go_sched_stats(&st);
	s->syscall_handoffs = st.syscall_handoffs;
	s->hog_handoffs = st.hog_handoffs;
}

static void one_p_runs_one_goroutine(void)
{
	struct onep s = { 0 };

	CHECK(run_procs(1, onep_main, &s) == 0, "go_run");
	/* the P went to other threads (else this proves nothing), and never to two at once */
	printf("# one P: %ld stretches, %llu syscall and %llu hog handoffs, %ld overlaps\n",
	       s.stretches, (unsigned long long)s.syscall_handoffs,
	       (unsigned long long)s.hog_handoffs, s.overlaps);
	CHECK(s.overlaps == 0, "%ld of %ld stretches ran beside another goroutine on one P",
	      s.overlaps, s.stretches);
}

/* ---- deadlock ---------------------------------------------------------------------------------- */

static struct go_waitgroup never;

static void stuck(void *arg)
{
	(void)arg;
	go_wg_wait(&never);
}

static void deadlock_main(void *arg)
{
	(void)arg;
	go_wg_add(&never, 1);
	go_spawn(stuck, NULL);
	go_wg_wait(&never);
}

static void deadlock_child(void)
{
	int r = run_procs(2, deadlock_main, NULL);

	_exit(r == -EDEADLK ? 0 : 1);
}

static void deadlock_is_reported(void)
{
	char buf[8192];
	int st = in_child(deadlock_child, buf, sizeof(buf), 20);

	/* go_run returns -EDEADLK after printing Go's message and every goroutine's state */
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	CHECK(strstr(buf, "all goroutines are asleep - deadlock!") != NULL, "message: %s", buf);
	CHECK(strstr(buf, "goroutine 1 [sync.WaitGroup.Wait]:\n") != NULL, "main: %s", buf);
	CHECK(strstr(buf, "goroutine 2 [sync.WaitGroup.Wait]:") != NULL, "other: %s", buf);
}

/* ---- idle CPU, schedtrace, errno --------------------------------------------------------------- */

struct idle {
	int64_t cpu;
	int fds[2];
	char c;
};

static void reader_forever(void *arg)
{
	struct idle *s = arg;

	go_read(s->fds[0], &s->c, 1);
}

static void idle_main(void *arg)
{
	struct idle *s = arg;
	int64_t c0;

	for (int i = 0; i < 4; i++)
		go_spawn(reader_forever, s);
	go_sleep(50000000);		/* let everything settle */
	c0 = cpu_ns();
	go_sleep(500000000);
	s->cpu = cpu_ns() - c0;
	for (int i = 0; i < 4; i++)
		CHECK(write(s->fds[1], "x", 1) == 1, "write");
	go_sleep(10000000);
}

static void idle_program_uses_no_cpu(void)
{
	struct idle s = { 0 };

	CHECK(pipe(s.fds) == 0, "pipe");
	CHECK(run_procs(2, idle_main, &s) == 0, "go_run");
	/* half a second with every goroutine parked (sleep, fd waits) costs next to nothing */
	CHECK(s.cpu < 20000000, "%.1f ms of CPU while idle", s.cpu / 1e6);
	printf("# idle: %.3f ms of CPU in 500 ms\n", s.cpu / 1e6);
	close(s.fds[0]);
	close(s.fds[1]);
}

static void trace_main(void *arg)
{
	(void)arg;
	go_sleep(120000000);
}

static void trace_child(void)
{
	struct go_config c = cfg(2);

	c.schedtrace_ms = 20;
	_exit(go_run_config(&c, trace_main, NULL) == 0 ? 0 : 1);
}

static void schedtrace_prints_lines(void)
{
	char buf[16384];
	int st = in_child(trace_child, buf, sizeof(buf), 20);

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	CHECK(strstr(buf, "SCHED ") && strstr(buf, "gomaxprocs=2 idleprocs="), "trace: %s", buf);
}

/* errno through calls of their own, as code reading it right after a call does (the
 * compiler may not reuse errno's address across a switch within one function). */
static __attribute__((noinline)) void set_errno(int v)
{
	errno = v;
}

static __attribute__((noinline)) int get_errno(void)
{
	return errno;
}

static void errno_g(void *arg)
{
	int mine = (int)(intptr_t)arg;

	for (int i = 0; i < 1000; i++) {
		set_errno(mine);
		go_yield();
		go_sleep(i % 50 == 0 ? 100000 : 0);
		if (get_errno() != mine)
			__atomic_fetch_add(&tap_failed, 1, __ATOMIC_RELAXED);
	}
}

static struct go_waitgroup *errno_wgp;

static void errno_wg(void *arg)
{
	errno_g(arg);
	go_wg_done(errno_wgp);
}

static void errno_main(void *arg)
{
	struct go_waitgroup *wg = arg;

	for (int i = 1; i <= 8; i++) {
		go_wg_add(wg, 1);
		go_spawn(errno_wg, (void *)(intptr_t)(100 + i));
	}
	go_wg_wait(wg);
}

static void errno_follows_the_goroutine(void)
{
	struct go_waitgroup wg = { 0 };

	/* eight goroutines on two Ps, each with its own errno, moved between threads */
	errno_wgp = &wg;
	CHECK(run_procs(2, errno_main, &wg) == 0, "go_run");
}

static void leave_main(void *arg)
{
	for (int i = 0; i < 10; i++)
		go_spawn(stuck, arg);
	go_yield();
}

static void goroutines_left_behind_are_abandoned(void)
{
	go_wg_add(&never, 0);
	CHECK(run_procs(2, leave_main, NULL) == 0, "go_run");
	CHECK(run_procs(2, leave_main, NULL) == 0, "go_run again");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	TEST(run_returns_when_main_returns);
	TEST(bad_config_is_einval);
	TEST(spawn_runs_every_goroutine);
	TEST(wg_rejects_negative);
	TEST(yield_is_round_robin_on_one_p);
	TEST(yield_lets_everyone_progress_on_two_ps);
	TEST(idle_p_steals_work);
	TEST(park_ready_hands_off_in_order);
	TEST(thread_outside_scheduler_can_ready);
	TEST(thread_can_wait_on_goroutines);
	TEST(sleeps_wake_in_order_never_early);
	TEST(timers_stop_and_fire);
	TEST(blocking_syscall_hands_off_its_p);
	TEST(spinning_goroutine_does_not_starve_others);
	TEST(one_p_runs_one_goroutine);
	TEST(hog_signal_restarts_slow_calls);
	TEST(deadlock_is_reported);
	TEST(idle_program_uses_no_cpu);
	TEST(schedtrace_prints_lines);
	TEST(errno_follows_the_goroutine);
	TEST(goroutines_left_behind_are_abandoned);
	return tap_any_failed;
}
