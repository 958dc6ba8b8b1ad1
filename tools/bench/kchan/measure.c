// SPDX-License-Identifier: GPL-2.0
/*
 * The two experiments, each between the parent and one forked partner:
 *
 *   round trip  the parent writes a message on link a ("ping") and waits for
 *               it to come back on link b ("pong"); the partner echoes.  A
 *               figure is the time of one whole round trip.
 *   stream      the parent writes N to a control pipe; the partner writes N
 *               messages on link a, the parent reads them all.  A figure is
 *               the time per message, from the control write to the last
 *               byte read.  Batched: STREAM_BATCH messages per write() and up
 *               to that many per read(); else one per call.
 *
 * How a figure is obtained: calibrate() finds a chunk of iterations that
 * takes about a tenth of cfg.rep_seconds; rep() runs chunks until
 * cfg.rep_seconds have passed and records the time per iteration.  So one
 * program suits a fast host and a guest under emulation, and a repetition
 * keeps its length even if the machine slows down after calibration (as an
 * emulated one does when its host gets busy).  The figure printed is the
 * median of cfg.opts_reps repetitions, and the caller runs the repetitions
 * of the experiments it compares interleaved, so a drift of the machine's
 * speed hits all of them alike.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct config cfg = { .opts_reps = 7, .rep_seconds = 0.25 };

#define CHUNKS_PER_REP	10

#define MAX_PARTNERS	32

static pid_t parent_pid;
static pid_t partners[MAX_PARTNERS];

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "gochan-bench: %s", getpid() == parent_pid ? "" : "partner: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (getpid() != parent_pid)
		_exit(1);
	for (int i = 0; i < MAX_PARTNERS; i++)
		if (partners[i] > 0)
			kill(partners[i], SIGKILL);
	exit(1);
}

static void on_alarm(int sig)
{
	static const char msg[] = "gochan-bench: timed out: a process is stuck\n";

	(void)sig;
	for (int i = 0; i < MAX_PARTNERS; i++)
		if (partners[i] > 0)
			kill(partners[i], SIGKILL);
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

/* End the run (and the partners) if it takes more than @seconds. */
void watchdog(unsigned int seconds)
{
	parent_pid = getpid();
	signal(SIGALRM, on_alarm);
	alarm(seconds);
}

void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("pinning to CPU %d: %s", cpu, strerror(errno));
}

/* In a partner: close every fd but stdin/out/err and @a and @b.  A pipe's
 * reader sees EOF only once every copy of its write end is closed,
 * including the copies fork() made in partners it is no business of. */
static void close_all_but(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		close_range(3, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0u, 0);
}

/* Write all of @len, as a blocking write of a pipe or a gochan does unless
 * interrupted. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			die("write: %s", n ? strerror(errno) : "returned 0");
		buf += n;
		len -= n;
	}
}

/* The partner of a round trip: echo every ping as a pong until hangup. */
static void echo(struct experiment *e)
{
	char buf[MSG_MAX];

	for (;;) {
		ssize_t n = read(e->a.rx, buf, e->a.msg);

		if (n < 0)
			die("echo read: %s", strerror(errno));
		if (link_is_hangup(&e->a, buf, n))
			return;
		if ((size_t)n != e->a.msg)
			die("echo read %zd bytes, not %zu", n, e->a.msg);
		write_all(e->b.tx, buf, n);
	}
}

/* The partner of a stream: send N messages each time N comes on ctl, until
 * the control pipe is closed. */
static void produce(struct experiment *e, int ctl)
{
	static char buf[STREAM_BATCH * MSG_MAX];
	size_t per_call = e->batched ? STREAM_BATCH : 1;
	uint64_t n;
	ssize_t got;

	memset(buf, 'x', sizeof(buf));
	while ((got = read(ctl, &n, sizeof(n))) == sizeof(n)) {
		while (n) {
			size_t k = n < per_call ? n : per_call;

			write_all(e->a.tx, buf, k * e->a.msg);
			n -= k;
		}
	}
	if (got != 0)
		die("control read: %s", got < 0 ? strerror(errno) : "short");
}

void start(struct experiment *e, int partner_cpu)
{
	int ctl[2] = { -1, -1 }, slot;

	if (e->solo) {
		e->samples = calloc(cfg.opts_reps, sizeof(double));
		if (!e->samples)
			die("out of memory");
		e->nsamples = 0;
		return;
	}
	for (slot = 0; slot < MAX_PARTNERS && partners[slot]; slot++)
		;
	if (slot == MAX_PARTNERS)
		die("too many partners");
	if (e->stream && pipe2(ctl, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	fflush(stdout);
	e->partner = fork();
	if (e->partner < 0)
		die("fork: %s", strerror(errno));
	if (e->partner == 0) {
		pin_to(partner_cpu);
		if (e->stream) {
			close_all_but(e->a.tx, ctl[0]);
			produce(e, ctl[0]);
		} else {
			close_all_but(e->a.rx, e->b.tx);
			echo(e);
		}
		_exit(0);
	}
	partners[slot] = e->partner;
	if (e->stream) {
		close(ctl[0]);
		e->ctl = ctl[1];
	}
	e->samples = calloc(cfg.opts_reps, sizeof(double));
	if (!e->samples)
		die("out of memory");
	e->nsamples = 0;
}

/* One timed run of @iters iterations; returns the elapsed nanoseconds. */
int64_t run(struct experiment *e, uint64_t iters)
{
	static char buf[STREAM_BATCH * MSG_MAX];
	int64_t t0;

	if (e->solo)
		return e->solo(e, iters);
	t0 = now_ns();

	if (!e->stream) {
		/* eventfd adds what is written: a message is the value 1. */
		uint64_t one = 1;

		memcpy(buf, &one, sizeof(one));
		for (uint64_t i = 0; i < iters; i++) {
			ssize_t n;

			write_all(e->a.tx, buf, e->a.msg);
			n = read(e->b.rx, buf, e->b.msg);
			if (n != (ssize_t)e->b.msg)
				die("%s: pong read returned %zd: %s", e->label, n,
				    n < 0 ? strerror(errno) : "short");
		}
	} else {
		size_t per_call = (e->batched ? STREAM_BATCH : 1) * e->a.msg;
		uint64_t left = iters * e->a.msg;

		write_all(e->ctl, (const char *)&iters, sizeof(iters));
		while (left) {
			ssize_t n = read(e->a.rx, buf, left < per_call ? left : per_call);

			if (n <= 0)
				die("%s: read returned %zd: %s", e->label, n,
				    n < 0 ? strerror(errno) : "end of stream");
			left -= n;
		}
	}
	return now_ns() - t0;
}

/*
 * For gochan-vm-iprof: @iters iterations of @e, untimed, between a start
 * and a stop, so that a run with 0 iterations does all the rest.
 */
void exercise(struct experiment *e, uint64_t iters, int partner_cpu)
{
	start(e, partner_cpu);
	run(e, iters);
	stop(e);
}

/* Whether gochan-vm booted this guest under -icount (its --icount): the
 * clock then advances 1 ns per instruction executed. */
bool clock_counts_instructions(void)
{
	char line[4096] = "";
	FILE *f = fopen("/proc/cmdline", "re");

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	return strstr(line, "gochan_vm.icount=1") != NULL;
}

void calibrate(struct experiment *e)
{
	int64_t want = cfg.rep_seconds * 1e9 / CHUNKS_PER_REP, t;
	uint64_t n = 1;

	/* Also the warm-up: the partner has run, the pages are touched. */
	while ((t = run(e, n)) < want)
		n *= t < want / 10 ? 8 : 2;
	e->chunk = (double)n * want / t;
	if (e->chunk < 1)
		e->chunk = 1;
}

/*
 * With -v each repetition is printed with the measuring process's context
 * switches per iteration: voluntary ones (it blocked) and involuntary ones
 * (it was preempted, e.g. by the partner it just woke on the same CPU).
 * They tell why a figure is what it is.
 */
void rep(struct experiment *e)
{
	int64_t want = cfg.rep_seconds * 1e9, t = 0;
	struct rusage r0, r1;
	uint64_t iters = 0;
	double ns;

	getrusage(RUSAGE_SELF, &r0);
	do {
		t += run(e, e->chunk);
		iters += e->chunk;
	} while (t < want);
	getrusage(RUSAGE_SELF, &r1);
	ns = (double)t / iters;
	e->samples[e->nsamples++] = ns;
	if (cfg.verbose)
		printf("      %-28s %9llu iterations %10.1f ns each, switches %.2f + %.2f\n",
		       e->label, (unsigned long long)iters, ns,
		       (double)(r1.ru_nvcsw - r0.ru_nvcsw) / iters,
		       (double)(r1.ru_nivcsw - r0.ru_nivcsw) / iters);
}

void stop(struct experiment *e)
{
	int status;

	if (e->solo)
		return;
	if (e->stream)
		close(e->ctl);
	else
		link_hangup(&e->a);
	if (waitpid(e->partner, &status, 0) < 0)
		die("waitpid: %s", strerror(errno));
	for (int i = 0; i < MAX_PARTNERS; i++)
		if (partners[i] == e->partner)
			partners[i] = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("%s: the partner process failed", e->label);
	link_close(&e->a);
	if (!e->stream)
		link_close(&e->b);
}

/* Run @n experiments side by side: start all, calibrate each, then the
 * repetitions round-robin so that all see the same machine. */
void measure(struct experiment *e, int n, int partner_cpu)
{
	for (int i = 0; i < n; i++)
		start(&e[i], partner_cpu);
	for (int i = 0; i < n; i++)
		calibrate(&e[i]);
	for (int r = 0; r < cfg.opts_reps; r++)
		for (int i = 0; i < n; i++)
			rep(&e[i]);
	for (int i = 0; i < n; i++)
		stop(&e[i]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double median(const struct experiment *e)
{
	double s[e->nsamples];
	int n = e->nsamples;

	memcpy(s, e->samples, sizeof(s));
	qsort(s, n, sizeof(s[0]), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
