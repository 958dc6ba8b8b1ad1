/* SPDX-License-Identifier: MIT */
/*
 * Description: the poller: a thousand goroutines wait on a thousand fds with a handful of
 * threads, readiness wakes exactly the goroutine concerned, deadlines, writes that wait for
 * room, reads of a regular file, the fallback outside a goroutine, and a forked child's
 * poller being its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gochan/sched.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "no_io_uring.h"
#include "tap.h"

#define MSEC 1000000LL

static int run_procs(unsigned procs, void (*fn)(void *), void *arg)
{
	struct go_config c = { .size = sizeof(c), .maxprocs = procs };

	return go_run_config(&c, fn, arg);
}

static int max_pipes(int want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)want * 2 + 64)
		return ((int)rl.rlim_cur - 64) / 2;
	return want;
}

struct fdwait {
	int n;
	int (*fds)[2];
	long *got;
	long done;
	struct go_waitgroup wg;
	uint64_t threads;
	int idx[1000];
};

static struct fdwait *fw;

static void fd_reader(void *arg)
{
	int i = *(int *)arg;
	long v = 0;
	ssize_t r = go_read(fw->fds[i][0], &v, sizeof(v));

	fw->got[i] = r == sizeof(v) ? v : -1;
	__atomic_fetch_add(&fw->done, 1, __ATOMIC_RELEASE);
	go_wg_done(&fw->wg);
}

static void fd_main(void *arg)
{
	struct go_sched_stats st = { .size = sizeof(st) };
	long single;

	(void)arg;
	go_wg_add(&fw->wg, fw->n);
	for (int i = 0; i < fw->n; i++) {
		fw->idx[i] = i;
		go_spawn(fd_reader, &fw->idx[i]);
	}
	go_sleep(20000000);
	/* one fd ready: exactly its goroutine wakes */
	{
		long v = 1000 + 7;

		CHECK(write(fw->fds[7][1], &v, sizeof(v)) == sizeof(v), "write");
	}
	for (int i = 0; i < 500 && !__atomic_load_n(&fw->done, __ATOMIC_ACQUIRE); i++)
		go_sleep(1000000);
	go_sleep(20000000);	/* time for a wrong wake-up to show */
	single = __atomic_load_n(&fw->done, __ATOMIC_ACQUIRE);
	CHECK(single == 1 && fw->got[7] == 1007, "after one write: %ld done, got %ld", single,
	      fw->got[7]);
	for (int i = fw->n - 1; i >= 0; i--) {
		long v = 1000 + i;

		if (i != 7)
			CHECK(write(fw->fds[i][1], &v, sizeof(v)) == sizeof(v), "write %d", i);
	}
	go_wg_wait(&fw->wg);
	go_sched_stats(&st);
	fw->threads = st.threads;
}

static void thousand_goroutines_wait_on_thousand_fds(void)
{
	int n = max_pipes(1000), bad = 0;

	fw = calloc(1, sizeof(*fw));
	fw->n = n;
	fw->fds = calloc((size_t)n, sizeof(*fw->fds));
	fw->got = calloc((size_t)n, sizeof(long));
	for (int i = 0; i < n; i++)
		CHECK(pipe(fw->fds[i]) == 0, "pipe %d", i);
	CHECK(run_procs(2, fd_main, NULL) == 0, "go_run");
	for (int i = 0; i < n; i++)
		bad += fw->got[i] != 1000 + i;
	/* every goroutine got its own value; threads stayed few (2 Ps + at most a few) */
	CHECK(bad == 0, "%d goroutines got a wrong value", bad);
	CHECK(fw->threads <= 6, "%llu threads for %d fd waits", (unsigned long long)fw->threads, n);
	printf("# %d goroutines waited on %d pipes with %llu threads\n", n, n,
	       (unsigned long long)fw->threads);
	for (int i = 0; i < n; i++) {
		close(fw->fds[i][0]);
		close(fw->fds[i][1]);
	}
	free(fw->fds);
	free(fw->got);
	free(fw);
}

struct misc {
	int fds[2];
	int r;
	int64_t waited;
};

static void timeout_main(void *arg)
{
	struct misc *m = arg;
	int64_t t0 = go_now();

	m->r = go_poll(m->fds[0], POLLIN, t0 + 30000000);
	m->waited = go_now() - t0;
}

static void poll_deadline_times_out(void)
{
	struct misc m = { 0 };

	CHECK(pipe(m.fds) == 0, "pipe");
	CHECK(run_procs(1, timeout_main, &m) == 0, "go_run");
	/* nothing written: -ETIMEDOUT, not before the deadline */
	CHECK(m.r == -ETIMEDOUT, "go_poll returned %d", m.r);
	CHECK(m.waited >= 30000000, "returned after %lld ns", (long long)m.waited);
	close(m.fds[0]);
	close(m.fds[1]);
}

static void drainer(void *arg)
{
	struct misc *m = arg;
	char buf[65536];
	ssize_t r, total = 0;

	go_sleep(20000000);
	while (total < 256 << 10 && (r = go_read(m->fds[0], buf, sizeof(buf))) > 0)
		total += r;
}

static void write_main(void *arg)
{
	struct misc *m = arg;
	static char big[256 << 10];
	size_t off = 0;
	ssize_t r;

	go_spawn(drainer, m);
	/* 256 KiB into a 64 KiB pipe: go_write waits for the reader, the thread does not */
	while (off < sizeof(big) && (r = go_write(m->fds[1], big + off, sizeof(big) - off)) > 0)
		off += (size_t)r;
	m->r = (int)(off >> 10);
}

static void write_waits_for_room(void)
{
	struct misc m = { 0 };

	CHECK(pipe(m.fds) == 0, "pipe");
	CHECK(run_procs(1, write_main, &m) == 0, "go_run");
	CHECK(m.r == 256, "wrote %d KiB", m.r);
	close(m.fds[0]);
	close(m.fds[1]);
}

static void file_main(void *arg)
{
	struct misc *m = arg;
	char buf[64] = { 0 };
	ssize_t r = go_read(m->fds[0], buf, 5), r2 = go_read(m->fds[0], buf + 5, 5);

	/* reads advance the file position */
	m->r = r == 5 && r2 == 5 && !memcmp(buf, "0123456789", 10);
}

static void read_of_regular_file(void)
{
	struct misc m = { 0 };
	char path[] = "/tmp/gochan-sched-XXXXXX";

	m.fds[0] = mkstemp(path);
	CHECK(m.fds[0] >= 0 && write(m.fds[0], "0123456789", 10) == 10, "file");
	lseek(m.fds[0], 0, SEEK_SET);
	unlink(path);
	CHECK(run_procs(1, file_main, &m) == 0, "go_run");
	CHECK(m.r == 1, "read back");
	close(m.fds[0]);
}

static void outside_a_goroutine_plain_calls(void)
{
	int fds[2];
	char c = 0;

	CHECK(pipe(fds) == 0, "pipe");
	CHECK(go_poll(fds[0], POLLIN, go_now() + 1000000) == -ETIMEDOUT, "timeout");
	CHECK(go_write(fds[1], "z", 1) == 1, "write");
	CHECK(go_poll(fds[0], POLLIN, -1) & POLLIN, "ready");
	CHECK(go_read(fds[0], &c, 1) == 1 && c == 'z', "read");
	CHECK(go_read(-1, &c, 1) == -EBADF, "bad fd");
	close(fds[0]);
	close(fds[1]);
}

static void bad_fd_main(void *arg)
{
	char c;

	*(int *)arg = (int)go_read(-1, &c, 1);
}

static void bad_fd_is_an_error(void)
{
	int r = 0;

	CHECK(run_procs(1, bad_fd_main, &r) == 0, "go_run");
	CHECK(r == -EBADF, "go_read(-1) = %d", r);
}

struct busy {
	int fds[2];
	uint32_t got;
	long spins;
};

static void busy_yielder(void *arg)
{
	struct busy *b = arg;

	while (!__atomic_load_n(&b->got, __ATOMIC_ACQUIRE) && b->spins < 100000000) {
		b->spins++;
		go_yield();
	}
}

static void *late_writer(void *arg)
{
	usleep(20000);
	return write(((struct busy *)arg)->fds[1], "x", 1) == 1 ? NULL : arg;
}

static void busy_main(void *arg)
{
	struct busy *b = arg;
	pthread_t t;
	char c;

	go_spawn(busy_yielder, b);
	pthread_create(&t, NULL, late_writer, b);
	if (go_read(b->fds[0], &c, 1) == 1)
		__atomic_store_n(&b->got, 1, __ATOMIC_RELEASE);
	GO_SYSCALL(pthread_join(t, NULL));
}

static void busy_p_still_reaps_completions(void)
{
	struct busy b = { 0 };

	/* one P never idle (a goroutine always yields to another): the read's completion is
	 * still reaped (every 61 ticks, and by sysmon after 10 ms), not only by an idle M */
	CHECK(pipe(b.fds) == 0, "pipe");
	CHECK(run_procs(1, busy_main, &b) == 0, "go_run");
	CHECK(b.got == 1, "the read never completed (%ld spins)", b.spins);
	close(b.fds[0]);
	close(b.fds[1]);
}

/* ---- the poller's wake-up ----------------------------------------------------------------- */

/*
 * go_timer_start wakes the M blocked in the poller (a break) when the new timer is due before
 * that M would wake. Here a non-blocking poll holds the completion queue (the netpoll_nowait
 * hook) while another M decides to block (netpoll_block) and a thread starts a 1 ms timer:
 * the non-blocking poll must leave the break to the M it was meant for, or that M sleeps
 * on (forever: nothing else is due) and the timer does not fire.
 */
enum { WS_IDLE, WS_ARMED, WS_NOWAIT_HELD, WS_BLOCKING, WS_TIMER_STARTED };

static struct wakesteal {
	_Atomic int stage;
	_Atomic int started;		/* spinners running */
	_Atomic int64_t fired;		/* when the timer fired */
	int64_t start;
	struct go_timer t;
	int fds[2];
	struct go_waitgroup done, reader;
} ws;

static void ws_hook_nowait(void)
{
	int armed = WS_ARMED;
	int64_t until;

	if (!atomic_compare_exchange_strong(&ws.stage, &armed, WS_NOWAIT_HELD))
		return;
	/* hold the completion queue until the timer's break has been sent */
	until = go_now() + 2000 * MSEC;
	while (atomic_load(&ws.stage) < WS_TIMER_STARTED && go_now() < until)
		sched_yield();
}

static void ws_hook_block(void)
{
	int held = WS_NOWAIT_HELD;

	atomic_compare_exchange_strong(&ws.stage, &held, WS_BLOCKING);
}

static void ws_fire(struct go_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	atomic_store(&ws.fired, go_now());
}

static void ws_reader(void *arg)
{
	char c;

	(void)arg;
	go_read(ws.fds[0], &c, 1);	/* a pending completion: Ms poll without blocking */
	go_wg_done(&ws.reader);
}

/*
 * Two spinners, one per P, so that no M waits in the poller (nothing to wait for yet). The
 * first to see both running starts the reader (it runs next on this P), arms the hooks and
 * returns: its M runs the reader, then polls without blocking. The other returns once that
 * poll holds the queue: its M blocks in the poller.
 */
static void ws_spinner(void *arg)
{
	int64_t until = go_now() + 2000 * MSEC;
	int idle = WS_IDLE;

	(void)arg;
	atomic_fetch_add(&ws.started, 1);
	while (atomic_load(&ws.started) < 2 && go_now() < until)
		;
	if (atomic_load(&ws.stage) == WS_IDLE) {
		go_spawn(ws_reader, NULL);
		if (atomic_compare_exchange_strong(&ws.stage, &idle, WS_ARMED))
			return;
	}
	while (atomic_load(&ws.stage) < WS_NOWAIT_HELD && go_now() < until)
		;
}

static void *ws_thread(void *arg)
{
	int64_t until = go_now() + 5000 * MSEC;

	(void)arg;
	while (atomic_load(&ws.stage) < WS_BLOCKING && go_now() < until)
		usleep(100);
	if (atomic_load(&ws.stage) == WS_BLOCKING) {
		ws.start = go_now();
		go_timer_start(&ws.t, ws.start + MSEC, ws_fire, NULL);
		atomic_store(&ws.stage, WS_TIMER_STARTED);
		until = go_now() + 3000 * MSEC;
		while (!atomic_load(&ws.fired) && go_now() < until)
			usleep(1000);
	}
	go_wg_done(&ws.done);
	return NULL;
}

extern void (*_go_debug_hook_netpoll_nowait)(void);
extern void (*_go_debug_hook_netpoll_block)(void);

static void ws_main(void *arg)
{
	pthread_t t;

	(void)arg;
	go_wg_add(&ws.done, 1);
	go_wg_add(&ws.reader, 1);
	go_spawn(ws_spinner, NULL);
	go_spawn(ws_spinner, NULL);
	pthread_create(&t, NULL, ws_thread, NULL);
	go_wg_wait(&ws.done);
	__atomic_store_n(&_go_debug_hook_netpoll_nowait, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&_go_debug_hook_netpoll_block, NULL, __ATOMIC_RELEASE);
	if (write(ws.fds[1], "x", 1) != 1)
		CHECK(0, "write");
	go_wg_wait(&ws.reader);
	GO_SYSCALL(pthread_join(t, NULL));
}

static void timer_wakes_poller_past_nonblocking_poll(void)
{
	struct go_config c = { .size = sizeof(c), .maxprocs = 2,
			       .flags = GO_CONFIG_NO_DEADLOCK_CHECK };
	int64_t fired;

	memset(&ws, 0, sizeof(ws));
	CHECK(pipe(ws.fds) == 0, "pipe");
	__atomic_store_n(&_go_debug_hook_netpoll_nowait, ws_hook_nowait, __ATOMIC_RELEASE);
	__atomic_store_n(&_go_debug_hook_netpoll_block, ws_hook_block, __ATOMIC_RELEASE);
	CHECK(go_run_config(&c, ws_main, NULL) == 0, "go_run");
	fired = atomic_load(&ws.fired);
	/* the interleaving happened: a poll held the queue while another M blocked */
	CHECK(atomic_load(&ws.stage) == WS_TIMER_STARTED, "stage %d", atomic_load(&ws.stage));
	/* the 1 ms timer fired, and not after the 3 s the thread waited (a bound only) */
	CHECK(fired && fired - ws.start < 3000 * MSEC,
	      "the 1 ms timer had not fired after 3 s (%s)", fired ? "late" : "never");
	if (fired)
		printf("# timer fired %.3f ms after its start\n", (fired - ws.start) / 1e6);
	close(ws.fds[0]);
	close(ws.fds[1]);
}

/* ---- signals: a poll(2) they cut short is not the caller's error ---------------------- */

/*
 * Without io_uring (a seccomp profile that refuses it, or outside a goroutine) go_poll is
 * poll(2), which a signal ends with EINTR whatever SA_RESTART says.  The runtime's own
 * SIGURG can reach a goroutine's thread just after it entered the call (a stop or a stack
 * scan that saw it running a moment before); go_poll must go on waiting, for the time
 * left, as Go's netpoll does.
 */
struct sigflood {
	pthread_t target;
	int fds[2];
	int64_t flood_ns;	/* signal the target every 500 us for this long, then ... */
	bool write;		/* ... write a byte, if asked */
};

static void sigflood_nop(int sig)
{
	(void)sig;
}

static void *sigflood_run(void *arg)
{
	struct sigflood *f = arg;
	int64_t until = go_now() + f->flood_ns;
	struct timespec ts = { 0, 500000 };

	while (go_now() < until) {
		pthread_kill(f->target, SIGUSR1);
		nanosleep(&ts, NULL);
	}
	if (f->write && write(f->fds[1], "s", 1) != 1)
		return (void *)1;
	return NULL;
}

struct sigpoll {
	int r_ready, r_timeout;
	int64_t waited;
};

/* Two go_polls on the calling thread under a flood of signals: one the flood's byte ends,
 * one only its deadline may end. */
static void poll_under_signals(struct sigpoll *out)
{
	struct sigflood f = { .target = pthread_self(), .flood_ns = 60 * MSEC, .write = true };
	struct sigaction sa = { .sa_handler = sigflood_nop, .sa_flags = SA_RESTART };
	pthread_t t;
	int64_t t0;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) || pipe(f.fds)) {
		out->r_ready = out->r_timeout = -1000;
		return;
	}
	if (pthread_create(&t, NULL, sigflood_run, &f) == 0) {
		char c;

		out->r_ready = go_poll(f.fds[0], POLLIN, -1);
		pthread_join(t, NULL);
		if (read(f.fds[0], &c, 1) != 1)	/* the pipe empty again for the deadline's poll */
			out->r_ready = -1001;
	}
	f.write = false;
	if (pthread_create(&t, NULL, sigflood_run, &f) == 0) {
		t0 = go_now();
		out->r_timeout = go_poll(f.fds[0], POLLIN, t0 + 40 * MSEC);
		out->waited = go_now() - t0;
		pthread_join(t, NULL);
	}
	close(f.fds[0]);
	close(f.fds[1]);
}

static void check_sigpoll(const struct sigpoll *s)
{
	CHECK(s->r_ready == POLLIN, "go_poll of the written pipe returned %d", s->r_ready);
	CHECK(s->r_timeout == -ETIMEDOUT, "go_poll to a deadline returned %d", s->r_timeout);
	CHECK(s->waited >= 40 * MSEC, "returned after %lld ns, before its deadline",
	      (long long)s->waited);
}

static void outside_a_goroutine_signals_do_not_end_a_poll(void)
{
	struct sigpoll s = { 0 };

	poll_under_signals(&s);
	check_sigpoll(&s);
}

static void sigpoll_main(void *arg)
{
	poll_under_signals(arg);
}

/* In a child of its own (the filter stays with the process): a goroutine's go_poll where
 * io_uring is refused, as in a container whose seccomp profile blocks it. */
static void without_io_uring_signals_do_not_end_a_goroutines_poll(void)
{
	int status = -1;
	pid_t pid;

#ifdef __SANITIZE_THREAD__
	SKIP_TEST("ThreadSanitizer cannot start threads in a child forked while threads run");
#endif
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct sigpoll s = { 0 };

		if (refuse_io_uring())
			_exit(2);
		if (run_procs(2, sigpoll_main, &s) != 0)
			_exit(3);
		check_sigpoll(&s);
		_exit(tap_failed ? 1 : 0);
	}
	CHECK(pid > 0, "fork");
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
}

/* ---- fork: the child's poller is its own --------------------------------------------- */

static uint32_t hog_started;
static uint32_t hog_round, hog_stop_round;	/* a hog of round r runs until stop >= r */

/* Stays in C code past go_run's 2 s wait for its M: that M is orphaned, and go_run keeps
 * the ring for the orphan's sake.  It runs until its round is over (or 30 s), not for a
 * fixed time: on a loaded machine go_run's wait may begin late and outlast a fixed hog
 * (the round then saw "0 rings open, not 1"). */
static void hog_past_teardown(void *arg)
{
	uint32_t round = __atomic_load_n(&hog_round, __ATOMIC_ACQUIRE);
	int64_t until = go_now() + 30000 * MSEC;
	struct timespec ts = { 0, 10 * MSEC };

	(void)arg;
	__atomic_store_n(&hog_started, 1, __ATOMIC_RELEASE);
	/* (the hog signal may cut a sleep short: sched.h) */
	while (__atomic_load_n(&hog_stop_round, __ATOMIC_ACQUIRE) < round && go_now() < until)
		clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}

/* Holds on to its thread (go_run's) until another M has taken the hog, then returns. */
static void leave_an_orphan(void *arg)
{
	int64_t until = go_now() + 2000 * MSEC;

	(void)arg;
	go_spawn(hog_past_teardown, NULL);
	while (!__atomic_load_n(&hog_started, __ATOMIC_ACQUIRE) && go_now() < until)
		;
}

struct forkpoll {
	int to_child[2], idle[2];
	int r;
	uint32_t read_done;
};

/* Holds the child's only P in C code, so that no M of the child's waits in its poller when
 * the read's completion comes (sysmon reaps it within a few ms). */
static void spin_a_while(void *arg)
{
	struct forkpoll *f = arg;
	int64_t until = go_now() + 1000 * MSEC;

	while (!__atomic_load_n(&f->read_done, __ATOMIC_ACQUIRE) && go_now() < until)
		;
}

static void child_reads(void *arg)
{
	struct forkpoll *f = arg;
	char c;

	go_spawn(spin_a_while, f);
	f->r = go_poll(f->to_child[0], POLLIN, go_now() + 5000 * MSEC) > 0 &&
	       read(f->to_child[0], &c, 1) == 1;
	__atomic_store_n(&f->read_done, 1, __ATOMIC_RELEASE);
}

static void *poke_child_later(void *arg)
{
	struct forkpoll *f = arg;

	usleep(100000);
	f->r = write(f->to_child[1], "x", 1) == 1;
	return NULL;
}

/* Waits in its poller while another thread wakes the child: were the ring shared with the
 * child, this poller would be woken by the child's completion and reap it. */
static void parent_pokes(void *arg)
{
	struct forkpoll *f = arg;
	pthread_t t;

	if (pthread_create(&t, NULL, poke_child_later, f))
		return;
	go_poll(f->idle[0], POLLIN, go_now() + 500 * MSEC);
	GO_SYSCALL(pthread_join(t, NULL));
}

/* io_uring instances this process has open (its fds that are rings). */
static int rings_open(void)
{
	char path[64], target[64];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, target, sizeof(target) - 1);
		if (len > 0) {
			target[len] = 0;
			n += strstr(target, "io_uring") != NULL;
		}
	}
	return n;
}

/* The scenario, in a process of its own (it leaves an orphan M behind, and a shared ring
 * could crash it): exits 0 if every round's child was woken. */
static int fork_rounds(void)
{
	struct forkpoll f;
	int failed = 0;

	for (int round = 0; round < 3; round++) {
		int status = -1, waited = 0;
		pid_t pid;

		/* Each round forks after an orphan run (the parent's own run below, with no
		 * orphan, closes the ring); a shared ring is caught about 4 times in 5. */
		__atomic_store_n(&hog_started, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&hog_round, round + 1, __ATOMIC_RELEASE);
		if (run_procs(2, leave_an_orphan, NULL) != 0 || !hog_started)
			return 10;
		if (rings_open() != 1) {
			/* the case under test: go_run kept its ring for the orphan */
			printf("# the orphan run left %d rings open, not 1\n", rings_open());
			return 14;
		}

		if (pipe(f.to_child) || pipe(f.idle))
			return 11;
		pid = fork();
		if (pid == 0) {
			f.r = 0;
			_exit(run_procs(1, child_reads, &f) == 0 && f.r ? 0 : 1);
		}
		if (pid < 0)
			return 12;
		f.r = 0;
		if (run_procs(1, parent_pokes, &f) != 0 || !f.r)
			return 13;
		while (waitpid(pid, &status, WNOHANG) == 0 && ++waited <= 100)
			usleep(100000);
		if (waited > 100) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			printf("# round %d: the child's poll was not woken (status %#x%s)\n", round,
			       status, waited > 100 ? ", killed after 10 s" : "");
			failed = 1;
		}
		close(f.to_child[0]);
		close(f.to_child[1]);
		close(f.idle[0]);
		close(f.idle[1]);
		__atomic_store_n(&hog_stop_round, round + 1, __ATOMIC_RELEASE);	/* the orphan goes */
	}
	return failed;
}

static void forked_child_polls_on_its_own_ring(void)
{
	int status = -1;
	pid_t pid;

#ifdef __SANITIZE_THREAD__
	SKIP_TEST("ThreadSanitizer cannot start threads in a child forked while threads run");
#endif
	pid = fork();

	if (pid == 0) {
		fflush(stdout);
		_exit(fork_rounds());
	}
	CHECK(pid > 0, "fork");
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	TEST(thousand_goroutines_wait_on_thousand_fds);
	TEST(poll_deadline_times_out);
	TEST(write_waits_for_room);
	TEST(read_of_regular_file);
	TEST(outside_a_goroutine_plain_calls);
	TEST(outside_a_goroutine_signals_do_not_end_a_poll);
	TEST(without_io_uring_signals_do_not_end_a_goroutines_poll);
	TEST(bad_fd_is_an_error);
	TEST(busy_p_still_reaps_completions);
	TEST(timer_wakes_poller_past_nonblocking_poll);
	TEST(forked_child_polls_on_its_own_ring);
	return tap_any_failed;
}
