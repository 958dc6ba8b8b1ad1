/* SPDX-License-Identifier: MIT */
/*
 * sysmon.c - the monitor thread (Go's sysmon): takes Ps from goroutines stuck in system calls
 * or hogging their thread, prints schedtrace lines, shrinks stacks, prints the dump a SIGQUIT
 * asks for (dump.c). It is not an M and never holds a P.
 *
 * It wakes every 20 us while the program is busy, backing off to 10 ms after 50 quiet rounds,
 * and sleeps for good while every P is idle (an idle program uses no CPU); acquirep wakes it.
 *
 * Hogs: a P whose schedtick has not moved for 10 ms while other goroutines wait gets its M
 * sent SIGURG (hog_signalled set first: the garbage collector sends it too, for its own
 * reasons, stw.c). The handler runs on that M's thread: if the thread is in user code
 * (in_runtime == 0) and still owns the P (the signal may come late: the P may have changed
 * hands meanwhile) it moves the P from RUNNING to SYSCALL, exactly as if the goroutine had
 * called go_syscall_enter at that instruction, and returns. It never switches goroutines, so
 * no lock held by the interrupted code matters. The next round takes the P like any other in
 * a system call, and the goroutine gets a P back at its next runtime call (_go_rt_enter).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define sched _go_sched

#define HOG_NS		10000000	/* 10 ms without a switch */
#define SYSCALL_LONG_NS	10000000
#define SHRINK_EVERY_NS	5000000000ll	/* a cycle over every arena starts this often */
#define SHRINK_STEP_NS	1000000ll	/* and does a few arenas at a time, this often */
#define SHRINK_STEP_ARENAS 4

static uint32_t sysmon_stop_flag;
static bool sysmon_running;
static struct sigaction old_urg;
static bool hog_installed;

static void hog_handler(int sig, siginfo_t *si, void *uc)
{
	struct go_m *m = _go_m;
	int saved = errno;

	if (m && !m->in_runtime && load_relaxed(&m->curg)) {
		struct go_g *g = load_relaxed(&m->curg);

		/* The garbage collector's requests (it signals too): a scan of the interrupted
		 * goroutine's stack, a stop-the-world (stw.c). */
		if (unlikely(load_acquire(&_go_safepoint))) {
			if ((load_acquire(&_go_safepoint) & GO_SAFEPOINT_GC) && _go_gc_signal_hook)
				_go_gc_signal_hook(m, g, uc);
			if (load_acquire(&_go_safepoint) & GO_SAFEPOINT_STW)
				_go_stw_sigpark(m, uc);
		}
		/* A hog, when sysmon says so; only a P this M still owns: m->p may be one sysmon
		 * took while its G was in a system call, now another M's. */
		if (m->p && load_relaxed(&m->p->hog_signalled))
			cas(&m->p->status, m->ptag | Ps_RUNNING, m->ptag | Ps_SYSCALL);
	} else if (!m && (old_urg.sa_flags & SA_SIGINFO) && old_urg.sa_sigaction) {
		old_urg.sa_sigaction(sig, si, uc);
	} else if (!m && !(old_urg.sa_flags & SA_SIGINFO) && old_urg.sa_handler != SIG_DFL &&
		   old_urg.sa_handler != SIG_IGN) {
		old_urg.sa_handler(sig);
	}
	errno = saved;
}

int _go_hog_signal_install(void)
{
	struct sigaction sa;

	if (hog_installed)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = hog_handler;
	/* on the M's alternate stack (go_m.sigstack): the goroutine's may be nearly full */
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGURG, &sa, &old_urg) != 0)
		return -errno;
	hog_installed = true;
	return 0;
}

static bool others_waiting(struct go_p *p)
{
	return !_go_runq_empty(p) || load_relaxed(&sched.runqsize) ||
	       (_go_timers_next() >= 0 && _go_timers_next() <= _go_nanotime());
}

/* Take Ps from long system calls and hogs. Returns how many it took or signalled. */
static int retake(int64_t now)
{
	uint32_t i;
	int n = 0;

	for (i = 0; i < load_relaxed(&sched.nprocs); i++) {
		struct go_p *p = &sched.allp[i];
		uint32_t st = load_acquire(&p->status);

		if (p_state(st) == Ps_SYSCALL) {
			uint32_t t = load_relaxed(&p->syscalltick);

			if (p->sysmon_syscalltick != t || p->sysmon_when == 0) {
				p->sysmon_syscalltick = t;
				p->sysmon_when = now;
				continue;
			}
			/* As Go: leave it if nothing waits, someone can run it, and it is short. */
			if (_go_runq_empty(p) && !load_relaxed(&sched.runqsize) &&
			    load_relaxed(&sched.nmspinning) + load_relaxed(&sched.npidle) > 0 &&
			    now - p->sysmon_when < SYSCALL_LONG_NS)
				continue;
			/* from the word read: the P may have changed hands since */
			if (cas(&p->status, st, (uint32_t)Ps_IDLE)) {
				if (load_relaxed(&p->hog_signalled))
					stat_inc(&sched.stats.hog_handoffs);
				else
					stat_inc(&sched.stats.syscall_handoffs);
				store_relaxed(&p->hog_signalled, false);
				p->sysmon_when = 0;
				_go_handoffp(p);
				n++;
			}
		} else if (p_state(st) == Ps_RUNNING) {
			uint32_t t = load_relaxed(&p->schedtick);
			struct go_m *m;

			if (p->sysmon_schedtick != t || p->sysmon_when == 0) {
				p->sysmon_schedtick = t;
				p->sysmon_when = now;
				store_relaxed(&p->hog_signalled, false);
				continue;
			}
			/* (signalled already and still RUNNING: the signal came while its goroutine
			 * was in the runtime, where the handler leaves it alone; again 10 ms on) */
			if (now - p->sysmon_when < HOG_NS || !others_waiting(p))
				continue;
			m = load_relaxed(&p->m);
			if (m && load_relaxed(&m->curg)) {
				p->sysmon_when = now;
				store_relaxed(&p->hog_signalled, true);
				pthread_kill(m->thread, SIGURG);
				n++;
			}
		} else {
			p->sysmon_when = 0;
		}
	}
	return n;
}

GOCHAN_API void go_schedtrace(void)
{
	char line[4096];
	int len;
	uint32_t i;

	if (!load_acquire(&sched.running))
		return;
	len = snprintf(line, sizeof(line),
		       "SCHED %lldms: gomaxprocs=%u idleprocs=%u threads=%d spinningthreads=%u "
		       "idlethreads=%d runqueue=%u goroutines=%lld [",
		       (long long)((_go_nanotime() - sched.start_ns) / 1000000),
		       load_relaxed(&sched.nprocs),
		       load_relaxed(&sched.npidle), sched.mcount, load_relaxed(&sched.nmspinning),
		       (int)load_relaxed(&sched.stats.idle_threads), load_relaxed(&sched.runqsize),
		       (long long)_go_ngoroutines());
	for (i = 0; i < load_relaxed(&sched.nprocs) && len < (int)sizeof(line) - 16; i++)
		len += snprintf(line + len, sizeof(line) - (size_t)len, "%s%u", i ? " " : "",
				_go_runq_len(&sched.allp[i]));
	if (len < (int)sizeof(line) - 2)
		len += snprintf(line + len, sizeof(line) - (size_t)len, "]\n");
	fputs(line, stderr);
}

static void *sysmon_main(void *arg)
{
	int64_t delay = 20000, last_trace, last_shrink, last_step = 0, now;
	bool shrinking = false;
	int idle = 0;

	(void)arg;
	last_trace = last_shrink = _go_nanotime();
	while (!load_acquire(&sysmon_stop_flag)) {
		_go_note_tsleep(&sched.sysmon_note, delay);
		_go_note_clear(&sched.sysmon_note);
		_go_sigquit_check();
		if (load_acquire(&sysmon_stop_flag))
			break;
		now = _go_nanotime();

		if (load_relaxed(&sched.npidle) == load_relaxed(&sched.nprocs) &&
		    !sched.schedtrace_ms) {
			/* Nothing runs: sleep until a P is taken (acquirep wakes us). */
			store_release(&sched.sysmon_sleeping, 1u);
			if (load_relaxed(&sched.npidle) == load_relaxed(&sched.nprocs) &&
			    !load_acquire(&sysmon_stop_flag))
				_go_note_sleep(&sched.sysmon_note);
			_go_note_clear(&sched.sysmon_note);
			_go_sigquit_check();
			store_release(&sched.sysmon_sleeping, 0u);
			delay = 20000;
			idle = 0;
			continue;
		}
		if (retake(now))
			idle = 0;
		else
			idle++;
		delay = idle < 50 ? 20000 : delay * 2 > 10000000 ? 10000000 : delay * 2;

		/* Completions nobody reaped for 10 ms: every P busy (Go's sysmon does this). */
		if (_go_netpoll_waiters() && !load_relaxed(&_go_netpoll_blocked) &&
		    now - load_relaxed(&_go_netpoll_last) > 10000000) {
			/* Under sched.lock: sysmon is not an M, so between reaping and
			 * queueing, checkdead would see no waiter and no runnable G. */
			_go_inject_global_polled();
		}
		/* A timer overdue by 1 ms: nobody waits for it (all Ms busy or asleep), or the
		 * M blocked in the poller sleeps past it (its break was lost): wake one. */
		if (_go_timers_next() >= 0 && _go_timers_next() < now - 1000000) {
			if (load_acquire(&_go_netpoll_blocked))
				_go_netpoll_wake_for(_go_timers_next());
			else
				_go_wakep();
		}
		if (sched.schedtrace_ms && now - last_trace >= (int64_t)sched.schedtrace_ms * 1000000) {
			last_trace = now;
			go_schedtrace();
		}
		/* Stack shrinking, spread out: a million goroutines are 4096 arenas. */
		if (shrinking || now - last_shrink >= SHRINK_EVERY_NS) {
			if (!shrinking) {
				shrinking = true;
				last_shrink = now;
			}
			if (now - last_step >= SHRINK_STEP_NS) {
				last_step = now;
				shrinking = !_go_stacks_shrink_step(SHRINK_STEP_ARENAS);
			}
		}
	}
	return NULL;
}

int _go_sysmon_start(void)
{
	int err;

	store_relaxed(&sysmon_stop_flag, 0u);
	_go_note_clear(&sched.sysmon_note);
	err = pthread_create(&sched.sysmon, NULL, sysmon_main, NULL);
	if (err)
		return -err;
	sysmon_running = true;
	return 0;
}

void _go_sysmon_wake(void)
{
	_go_note_wakeup(&sched.sysmon_note);
}

void _go_sysmon_stop(void)
{
	if (!sysmon_running)
		return;
	store_release(&sysmon_stop_flag, 1u);
	_go_sysmon_wake();
	pthread_join(sched.sysmon, NULL);
	sysmon_running = false;
}
