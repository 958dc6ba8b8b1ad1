/* SPDX-License-Identifier: MIT */
/*
 * shim_sched.c - a 1:1 stand-in for <gochan/sched.h>: every goroutine is a pthread.
 * Only for testing lib/chan and lib/context before the M:N scheduler exists, and as a
 * second implementation of the contract (the tests must pass on both).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include <gochan/sched.h>

#include "../common/clock.h"

struct go_g {
	pthread_mutex_t m;
	pthread_cond_t cv;
	bool ready;
	uintptr_t value;
	uint64_t id;
};

static __thread struct go_g *self;
static _Atomic uint64_t next_id = 1;
static _Atomic int running;
static pthread_key_t self_key;
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

static void self_free(void *p)
{
	struct go_g *g = p;

	pthread_mutex_destroy(&g->m);
	pthread_cond_destroy(&g->cv);
	free(g);
}

static void self_key_init(void) { pthread_key_create(&self_key, self_free); }

struct go_g *go_self(void)
{
	if (!self) {
		pthread_once(&self_once, self_key_init);
		self = calloc(1, sizeof(*self));
		pthread_setspecific(self_key, self);
		pthread_mutex_init(&self->m, NULL);
		pthread_cond_init(&self->cv, NULL);
		self->id = next_id++;
	}
	return self;
}

uint64_t go_id(void) { return go_self()->id; }
unsigned go_maxprocs(void) { return running ? 2 : 0; }

int64_t go_now(void)
{
	return now_ns();
}

void go_sleep(int64_t ns)
{
	if (ns <= 0) {
		sched_yield();
		return;
	}
	struct timespec ts = { ns / 1000000000, ns % 1000000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void go_sleep_until(int64_t d) { go_sleep(d - go_now()); }
void go_yield(void) { sched_yield(); }
void go_syscall_enter(void) {}
void go_syscall_exit(void) {}

uintptr_t go_park(bool (*unlock)(struct go_g *, void *), void *arg, const char *reason)
{
	struct go_g *g = go_self();
	uintptr_t v;

	(void)reason;
	if (unlock && !unlock(g, arg))
		return 0;
	pthread_mutex_lock(&g->m);
	while (!g->ready)
		pthread_cond_wait(&g->cv, &g->m);
	g->ready = false;
	v = g->value;
	pthread_mutex_unlock(&g->m);
	return v;
}

void go_ready(struct go_g *g, uintptr_t value)
{
	pthread_mutex_lock(&g->m);
	g->ready = true;
	g->value = value;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->m);
}

struct spawn { void (*fn)(void *); void *arg; };

static void *spawn_main(void *p)
{
	struct spawn s = *(struct spawn *)p;

	free(p);
	s.fn(s.arg);
	return NULL;
}

int go_spawn(void (*fn)(void *), void *arg)
{
	struct spawn *s = malloc(sizeof(*s));
	pthread_attr_t a;
	pthread_t t;
	int r;

	s->fn = fn;
	s->arg = arg;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 * 1024);
	r = pthread_create(&t, &a, spawn_main, s);
	pthread_attr_destroy(&a);
	if (r) {
		free(s);
		return -r;
	}
	return 0;
}

int go_run(void (*main_fn)(void *), void *arg)
{
	running = 1;
	main_fn(arg);
	running = 0;
	return 0;
}

int go_run_config(const struct go_config *c, void (*main_fn)(void *), void *arg)
{
	(void)c;
	return go_run(main_fn, arg);
}

int go_poll(int fd, short events, int64_t deadline_ns)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int ms = -1, r;

		if (deadline_ns >= 0) {
			int64_t left = deadline_ns - go_now();

			if (left <= 0)
				return -ETIMEDOUT;
			ms = (int)((left + 999999) / 1000000);
		}
		r = poll(&p, 1, ms);
		if (r > 0)
			return p.revents;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* Timers: one thread, a sorted list. */
static pthread_mutex_t tm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tcv = PTHREAD_COND_INITIALIZER;
static struct go_timer *tlist[65536];
static unsigned tn;
static int tthread;

static void *timer_main(void *p)
{
	(void)p;
	pthread_mutex_lock(&tm);
	for (;;) {
		if (!tn) {
			pthread_cond_wait(&tcv, &tm);
			continue;
		}
		unsigned best = 0;

		for (unsigned i = 1; i < tn; i++)
			if (tlist[i]->when < tlist[best]->when)
				best = i;
		struct go_timer *t = tlist[best];
		int64_t now = go_now();

		if (t->when > now) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			int64_t abs = ts.tv_sec * 1000000000LL + ts.tv_nsec + (t->when - now);

			ts.tv_sec = abs / 1000000000;
			ts.tv_nsec = abs % 1000000000;
			pthread_cond_timedwait(&tcv, &tm, &ts);
			continue;
		}
		tlist[best] = tlist[--tn];
		t->state = 2;
		pthread_mutex_unlock(&tm);
		t->fn(t, t->arg);
		pthread_mutex_lock(&tm);
	}
	return NULL;
}

int go_timer_start(struct go_timer *t, int64_t when, void (*fn)(struct go_timer *, void *),
		   void *arg)
{
	pthread_mutex_lock(&tm);
	if (!tthread) {
		pthread_condattr_t ca;
		pthread_t th;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_destroy(&tcv);
		pthread_cond_init(&tcv, &ca);
		pthread_create(&th, NULL, timer_main, NULL);
		pthread_detach(th);
		tthread = 1;
	}
	t->when = when;
	t->fn = fn;
	t->arg = arg;
	t->state = 1;
	t->heap_index = tn;
	tlist[tn++] = t;
	pthread_cond_signal(&tcv);
	pthread_mutex_unlock(&tm);
	return 0;
}

bool go_timer_stop(struct go_timer *t)
{
	bool r = false;

	pthread_mutex_lock(&tm);
	for (unsigned i = 0; i < tn; i++)
		if (tlist[i] == t) {
			tlist[i] = tlist[--tn];
			t->state = 0;
			r = true;
			break;
		}
	pthread_mutex_unlock(&tm);
	return r;
}

int go_wg_add(struct go_waitgroup *wg, int64_t d)
{
	int64_t old = __atomic_load_n(&wg->count, __ATOMIC_RELAXED);

	do {
		if (old + d < 0)
			return -EINVAL;
	} while (!__atomic_compare_exchange_n(&wg->count, &old, old + d, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	return 0;
}

void go_wg_wait(struct go_waitgroup *wg)
{
	while (__atomic_load_n(&wg->count, __ATOMIC_ACQUIRE) != 0)
		go_sleep(50000);
}

/* Kernel channels: a thread may simply block in the kernel. */
#include <gochan/kchan.h>

int go_kchan_send(int fd, const void *elem, int64_t deadline_ns)
{
	return gochan_send(fd, elem, deadline_ns);
}

int go_kchan_recv(int fd, void *elem, bool *ok, int64_t deadline_ns)
{
	return gochan_recv(fd, elem, ok, deadline_ns);
}
