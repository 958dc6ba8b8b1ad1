// SPDX-License-Identifier: GPL-2.0
/*
 * gochan-bench: what a gochan costs next to the kernel's own primitives.
 *
 *   round trip   two processes ping-pong over two unbuffered gochans, one
 *                element each way, next to an eventfd pair (its message is
 *                always its 8-byte counter) and a pipe pair; 1-byte and
 *                64-byte messages.
 *   stream       one process streams elements to another over one gochan,
 *                next to a pipe holding the same bytes: a gochan of capacity
 *                buffer / element size beside a pipe sized to the buffer
 *                with F_SETPIPE_SZ; buffers of 4 KiB and 64 KiB, 8-byte and
 *                64-byte elements, batched (64 per read/write call) and one
 *                per call.
 *
 * Both with the two processes pinned to one CPU, then to two different
 * CPUs, reported separately: on one CPU every hand-off is a context switch,
 * on two it is a cross-CPU wake-up, and the two cost very different things
 * (../../../../shared/PEERS.md has the host's figures).  Then, in one
 * process:
 *
 *   bulk         write(2) of 64 elements of 64 bytes into an empty gochan of
 *                capacity 64, then read(2) of them, next to the same 4 KiB
 *                through a pipe of 4 KiB; each call timed on its own (the
 *                clock's own cost taken off), per element.
 *
 * make bench also runs this program in a one-CPU guest under gochan-vm
 * --icount, where the clock counts instructions: there the one-CPU and bulk
 * figures are instruction counts, the same on every run, and judge a change
 * to the data path exactly; the real-time figures keep what the instruction
 * clock does not weigh (wake-ups across CPUs, a syscall's real entry cost).
 * -l NAME -n N runs one experiment N times untimed, for gochan-vm-iprof
 * (tools/bench/kchan/iprof-rows compares gochan and the pipe with it).
 *
 * Targets (issue 23), printed as PASS or MISS and never turned into an exit
 * status: round trip at most 1.1x eventfd's and at most 1.0x the pipe's, on
 * one CPU and two; stream at least 1.0x the pipe's rate at equal buffer
 * bytes, every row; bulk write(2) and read(2) at most 1.5x the pipe's
 * instructions per element (judged under the instruction clock only).  The
 * exit status is 1 only when the benchmark could not run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/gochan.h>

#include "bench.h"

static bool peers_only;
static bool icount;		/* the clock counts instructions */

#define RTT_EVENTFD_TARGET	1.1	/* round trip <= 1.1x eventfd */
#define RTT_PIPE_TARGET		1.0	/* round trip <= 1.0x pipe */
#define STREAM_TARGET		1.0	/* stream >= 1.0x the pipe's rate */
#define BULK_TARGET		1.5	/* bulk <= 1.5x the pipe's instructions */

#define BULK_ELEMS	64
#define BULK_ELEM	64
#define BULK_BYTES	(BULK_ELEMS * BULK_ELEM)

/* The stream rows: equal buffer bytes for the gochan and the pipe. */
static const struct stream_row {
	size_t buf;		/* bytes either may hold */
	size_t elem;		/* bytes per element (message) */
	bool batched;		/* STREAM_BATCH per call, else one */
} stream_rows[] = {
	{ 4096, 8, false }, { 4096, 8, true }, { 4096, 64, false }, { 4096, 64, true },
	{ 65536, 8, false }, { 65536, 8, true }, { 65536, 64, false }, { 65536, 64, true },
};
#define NSTREAM	(sizeof(stream_rows) / sizeof(stream_rows[0]))

/* The bulk experiment: one process, one link, write then read. */
enum bulk_part { BULK_WRITE, BULK_READ, BULK_UNTIMED };

struct bulk {
	struct link l;
	enum bulk_part timed;
	char buf[BULK_BYTES];
};

/* What one now_ns() costs, as a timed interval sees it: taken off each
 * timed call of the bulk experiment. */
static int64_t clock_cost;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gochan-bench [-p] [-r REPS] [-t SECONDS] [-v]\n"
		"       gochan-bench -l NAME -n ITERS | -L\n"
		"  -p          peers only (eventfd, pipe): no %s needed\n"
		"  -r REPS     repetitions per figure, the median is printed (default %d)\n"
		"  -t SECONDS  length of one repetition (default %.2f)\n"
		"  -v          print every repetition\n"
		"  -l NAME     run experiment NAME ITERS times, untimed, on one CPU\n"
		"              (for gochan-vm-iprof: ITERS 0 does all but the work)\n"
		"  -L          list the experiments' names\n",
		GOCHAN_DEVICE_PATH, cfg.opts_reps, cfg.rep_seconds);
}

static void round_trip_link(struct experiment *e, enum kind kind, size_t msg,
			    const char *label)
{
	memset(e, 0, sizeof(*e));
	e->label = label;
	link_open(&e->a, kind, msg, 0);
	link_open(&e->b, kind, msg, 0);
}

static void stream_link(struct experiment *e, enum kind kind,
			const struct stream_row *row, const char *label)
{
	memset(e, 0, sizeof(*e));
	e->label = label;
	e->stream = true;
	e->batched = row->batched;
	link_open(&e->a, kind, row->elem, row->buf);
}

static int64_t run_bulk(struct experiment *e, uint64_t iters)
{
	struct bulk *b = e->ctx;
	int64_t t = 0;

	for (uint64_t i = 0; i < iters; i++) {
		int64_t t0 = 0, t1 = 0, t2 = 0;
		ssize_t n;

		if (b->timed != BULK_UNTIMED)
			t0 = now_ns();
		n = write(b->l.tx, b->buf, BULK_BYTES);
		if (n != BULK_BYTES)
			die("%s: write returned %zd: %s", e->label, n,
			    n < 0 ? strerror(errno) : "short");
		if (b->timed != BULK_UNTIMED)
			t1 = now_ns();
		n = read(b->l.rx, b->buf, BULK_BYTES);
		if (n != BULK_BYTES)
			die("%s: read returned %zd: %s", e->label, n,
			    n < 0 ? strerror(errno) : "short");
		if (b->timed != BULK_UNTIMED)
			t2 = now_ns();
		t += b->timed == BULK_WRITE ? t1 - t0 - clock_cost :
		     b->timed == BULK_READ ? t2 - t1 - clock_cost : 0;
	}
	return t;
}

static void bulk_open(struct experiment *e, struct bulk *b, enum kind kind,
		      enum bulk_part timed, const char *label)
{
	memset(e, 0, sizeof(*e));
	memset(b, 0, sizeof(*b));
	e->label = label;
	e->solo = run_bulk;
	e->ctx = b;
	b->timed = timed;
	memset(b->buf, 'x', sizeof(b->buf));
	link_open(&b->l, kind, BULK_ELEM, BULK_BYTES);
}

/* The least a timed interval with nothing in it measures. */
static int64_t measure_clock_cost(void)
{
	int64_t least = INT64_MAX;

	for (int i = 0; i < 1000; i++) {
		int64_t t0 = now_ns(), t1 = now_ns();

		if (t1 - t0 < least)
			least = t1 - t0;
	}
	return least;
}

/*
 * A ratio cell, "1.06 <=1.1 PASS": gochan's @ratio to its peer against
 * @target, in a field of 17 characters unless it is the @last of the line.
 */
static void print_ratio(double ratio, const char *op, double target, bool pass,
			bool last)
{
	char cell[32];

	if (peers_only)
		snprintf(cell, sizeof(cell), "n/a");
	else
		snprintf(cell, sizeof(cell), "%5.2f %s%.1f %s", ratio, op, target,
			 pass ? "PASS" : "MISS");
	printf(last ? "%s\n" : "%-17s", cell);
}

static void print_value(double v, const char *fmt)
{
	if (v < 0)
		printf("%9s", "n/a");
	else
		printf(fmt, v);
}

static const char *unit(void)
{
	return icount ? "instructions" : "ns";
}

static void round_trips(int cpu, int partner_cpu)
{
	/* Experiment order: gochan 1 B, gochan 64 B, eventfd, pipe 1 B,
	 * pipe 64 B.  With -p the first two are left out. */
	struct experiment e[5];
	int first = peers_only ? 2 : 0;
	double us[5];

	if (!peers_only) {
		round_trip_link(&e[0], GOCHAN, 1, "round trip, gochan 1 B");
		round_trip_link(&e[1], GOCHAN, 64, "round trip, gochan 64 B");
	}
	round_trip_link(&e[2], EVENTFD, 8, "round trip, eventfd 8 B");
	round_trip_link(&e[3], PIPE, 1, "round trip, pipe 1 B");
	round_trip_link(&e[4], PIPE, 64, "round trip, pipe 64 B");
	pin_to(cpu);
	measure(&e[first], 5 - first, partner_cpu);
	for (int i = 0; i < 5; i++)
		us[i] = i < first ? -1 : median(&e[i]) / 1000;

	printf("  Round trip, %s (ping on one channel, pong on another):\n",
	       icount ? "thousands of instructions" : "microseconds");
	printf("    %-6s %9s %9s %9s   %-17s  %s\n", "msg", "gochan",
	       "eventfd", "pipe", "gochan/eventfd", "gochan/pipe");
	for (int s = 0; s < 2; s++) {
		double g = us[s], p = us[3 + s], ev = us[2];

		printf("    %-6s ", s ? "64 B" : "1 B");
		print_value(g, "%9.2f");
		print_value(ev, " %9.2f");
		print_value(p, " %9.2f");
		printf("   ");
		print_ratio(g / ev, "<=", RTT_EVENTFD_TARGET, g <= RTT_EVENTFD_TARGET * ev,
			    false);
		printf("  ");
		print_ratio(g / p, "<=", RTT_PIPE_TARGET, g <= RTT_PIPE_TARGET * p, true);
	}
	printf("    (eventfd's message is its 8-byte counter in both rows)\n");
}

static const char *kib(size_t bytes)
{
	return bytes == 4096 ? "4 KiB" : bytes == 65536 ? "64 KiB" : "?";
}

static void streams(int cpu, int partner_cpu)
{
	/* Row r: gochan at 2r, pipe at 2r + 1. */
	struct experiment e[2 * NSTREAM];
	char labels[2 * NSTREAM][64];
	double ns[2 * NSTREAM];
	int n = 0;

	for (size_t r = 0; r < NSTREAM; r++) {
		const struct stream_row *row = &stream_rows[r];

		for (int k = peers_only; k < 2; k++) {
			snprintf(labels[2 * r + k], sizeof(labels[0]),
				 "stream, %s %s, %zu B, %d per call",
				 k ? "pipe" : "gochan", kib(row->buf), row->elem,
				 row->batched ? STREAM_BATCH : 1);
			stream_link(&e[n++], k ? PIPE : GOCHAN, row, labels[2 * r + k]);
		}
	}
	pin_to(cpu);
	measure(e, n, partner_cpu);
	n = 0;
	for (size_t i = 0; i < 2 * NSTREAM; i++)
		ns[i] = peers_only && i % 2 == 0 ? -1 : median(&e[n++]);

	printf("  One-way stream, %s per element (M elements %s); the gochan's\n"
	       "  capacity is buffer / element, the pipe is sized to the buffer\n"
	       "  (F_SETPIPE_SZ):\n",
	       unit(), icount ? "per 10^9 instructions" : "per second");
	printf("    %-6s %4s %4s %9s %10s %6s %9s %10s   %s\n", "buffer", "elem",
	       "call", "gochan", "", "cap", "pipe", "", "gochan/pipe, rate");
	for (size_t r = 0; r < NSTREAM; r++) {
		const struct stream_row *row = &stream_rows[r];
		double g = ns[2 * r], p = ns[2 * r + 1];

		printf("    %-6s %2zu B %4d ", kib(row->buf), row->elem,
		       row->batched ? STREAM_BATCH : 1);
		if (g < 0)
			printf("%9s %10s ", "n/a", "");
		else
			printf("%9.0f (%6.2f M) ", g, 1e3 / g);
		printf("%6zu %9.0f (%6.2f M)   ", row->buf / row->elem, p, 1e3 / p);
		print_ratio(p / g, ">=", STREAM_TARGET, g <= p / STREAM_TARGET, true);
	}
}

static void bulk(int cpu)
{
	/* gochan write, gochan read, pipe write, pipe read */
	static struct bulk b[4];
	struct experiment e[4];
	double per[4];

	if (peers_only)
		return;
	bulk_open(&e[0], &b[0], GOCHAN, BULK_WRITE, "bulk, gochan write(2)");
	bulk_open(&e[1], &b[1], GOCHAN, BULK_READ, "bulk, gochan read(2)");
	bulk_open(&e[2], &b[2], PIPE, BULK_WRITE, "bulk, pipe write(2)");
	bulk_open(&e[3], &b[3], PIPE, BULK_READ, "bulk, pipe read(2)");
	pin_to(cpu);
	clock_cost = measure_clock_cost();
	measure(e, 4, cpu);
	for (int i = 0; i < 4; i++) {
		per[i] = median(&e[i]) / BULK_ELEMS;
		link_close(&b[i].l);
	}

	printf("\n== One process on CPU %d: %d elements of %d B in one call ==\n", cpu,
	       BULK_ELEMS, BULK_ELEM);
	printf("  %s per element, a gochan of capacity %d next to a pipe of %d B,\n"
	       "  the clock's own cost (%lld) taken off each call:\n",
	       unit(), BULK_ELEMS, BULK_BYTES, (long long)clock_cost);
	printf("    %-10s %9s %9s   %s\n", "call", "gochan", "pipe", "gochan/pipe");
	for (int i = 0; i < 2; i++) {
		double g = per[i], p = per[2 + i];

		printf("    %-10s %9.1f %9.1f   ", i ? "read(2)" : "write(2)", g, p);
		if (icount)
			print_ratio(g / p, "<=", BULK_TARGET, g <= BULK_TARGET * p, true);
		else
			printf("%5.2f (the target is judged under the instruction clock)\n",
			       g / p);
	}
}

/*
 * -l NAME: the experiments by name, for gochan-vm-iprof.  An iteration is
 * a round trip, a streamed element, or a bulk write(2) and read(2) of
 * BULK_ELEMS elements.
 */
static void list_experiments(FILE *f)
{
	fprintf(f, "rt-gochan-1\nrt-gochan-64\nrt-eventfd\nrt-pipe-1\nrt-pipe-64\n");
	for (size_t r = 0; r < NSTREAM; r++)
		for (int k = 0; k < 2; k++)
			fprintf(f, "stream-%s-%zuk-%zu-%d\n", k ? "pipe" : "gochan",
				stream_rows[r].buf / 1024, stream_rows[r].elem,
				stream_rows[r].batched ? STREAM_BATCH : 1);
	fprintf(f, "bulk-gochan\nbulk-pipe\n");
}

static int exercise_named(const char *name, uint64_t iters, int cpu)
{
	static struct bulk b;
	struct experiment e;
	char buf[64];

	pin_to(cpu);
	if (!strncmp(name, "rt-", 3)) {
		enum kind kind = !strncmp(name, "rt-gochan-", 10) ? GOCHAN :
				 !strncmp(name, "rt-pipe-", 8) ? PIPE : EVENTFD;
		size_t msg = kind == EVENTFD ? 8 : strtoul(strrchr(name, '-') + 1, NULL, 10);

		round_trip_link(&e, kind, msg, name);
		exercise(&e, iters, cpu);
		return 0;
	}
	for (size_t r = 0; r < NSTREAM; r++) {
		for (int k = 0; k < 2; k++) {
			snprintf(buf, sizeof(buf), "stream-%s-%zuk-%zu-%d",
				 k ? "pipe" : "gochan", stream_rows[r].buf / 1024,
				 stream_rows[r].elem,
				 stream_rows[r].batched ? STREAM_BATCH : 1);
			if (strcmp(name, buf))
				continue;
			stream_link(&e, k ? PIPE : GOCHAN, &stream_rows[r], name);
			exercise(&e, iters, cpu);
			return 0;
		}
	}
	if (!strcmp(name, "bulk-gochan") || !strcmp(name, "bulk-pipe")) {
		bulk_open(&e, &b, name[5] == 'g' ? GOCHAN : PIPE, BULK_UNTIMED, name);
		exercise(&e, iters, cpu);
		link_close(&b.l);
		return 0;
	}
	fprintf(stderr, "gochan-bench: no experiment '%s'; -L lists them\n", name);
	return 2;
}

/* The first two CPUs this process may run on. */
static int allowed_cpus(cpu_set_t *all, int cpus[2])
{
	int n = 0;

	if (sched_getaffinity(0, sizeof(*all), all))
		die("sched_getaffinity: %s", strerror(errno));
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, all))
			cpus[n++] = c;
	return n;
}

static void print_machine(void)
{
	char line[256], model[256] = "unknown CPU";
	struct utsname u;
	FILE *f = fopen("/proc/cpuinfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	uname(&u);
	printf("gochan-bench: kernel %s, %ld CPUs online (%s)\n", u.release,
	       sysconf(_SC_NPROCESSORS_ONLN), model);
	printf("  each figure: the median of %d repetitions of about %.2f s, iterations\n"
	       "  calibrated to the machine's speed; compare figures within one run only.\n",
	       cfg.opts_reps, cfg.rep_seconds);
	/* Seen in such guests: a peer's round trip across the two vCPUs
	 * takes 4-7 ms, twenty times the same-CPU one. */
	if (icount)
		printf("  The clock counts instructions: this QEMU TCG guest runs under -icount\n"
		       "  shift=0 (gochan-vm --icount), 1 ns per instruction executed, so every\n"
		       "  figure is an instruction count (both processes' and the kernel's), the\n"
		       "  same on every run.  Every instruction weighs the same, a syscall entry\n"
		       "  as a move, and a wake-up costs what it executes, not how long the\n"
		       "  other CPU takes to notice: the real-time figures show that.\n");
	else if (strstr(model, "TCG"))
		printf("  This is a QEMU TCG guest: every instruction is emulated, and waking a\n"
		       "  halted vCPU can take milliseconds, so the two-CPU figures say more\n"
		       "  about the emulator than about the kernel.\n");
}

int main(int argc, char **argv)
{
	const char *name = NULL;
	long long iters = -1;
	cpu_set_t all;
	int cpus[2], ncpus, opt;
	struct stat st;

	while ((opt = getopt(argc, argv, "pr:t:vl:n:Lh")) != -1) {
		switch (opt) {
		case 'l':
			name = optarg;
			break;
		case 'n':
			iters = atoll(optarg);
			break;
		case 'L':
			list_experiments(stdout);
			return 0;
		case 'p':
			peers_only = true;
			break;
		case 'r':
			cfg.opts_reps = atoi(optarg);
			break;
		case 't':
			cfg.rep_seconds = atof(optarg);
			break;
		case 'v':
			cfg.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || cfg.opts_reps < 1 || cfg.opts_reps > 1000 ||
	    !(cfg.rep_seconds > 0 && cfg.rep_seconds <= 60) ||
	    !name != (iters < 0)) {
		usage(stderr);
		return 2;
	}
	/* -l of a peer's experiment needs no module either. */
	if (!peers_only && !(name && !strstr(name, "gochan")) &&
	    stat(GOCHAN_DEVICE_PATH, &st)) {
		fprintf(stderr, "gochan-bench: %s: %s: load the module (insmod gochan.ko),\n"
			"or pass -p to measure only the peers (eventfd, pipe)\n",
			GOCHAN_DEVICE_PATH, strerror(errno));
		return 1;
	}
	ncpus = allowed_cpus(&all, cpus);
	if (name) {
		/* gochan-vm-iprof bounds the whole guest run. */
		watchdog(0);
		return exercise_named(name, iters, cpus[0]);
	}
	/* A partner stuck in a read would hang the run: bound it, at ten
	 * times what 46 figures (2 x (5 + 2 x 8), and 4 in one process) of
	 * (opts_reps + calibration) repetitions should take. */
	watchdog(120 + 10 * 46 * (cfg.opts_reps + 1) * cfg.rep_seconds);
	icount = clock_counts_instructions();

	print_machine();
	if (peers_only)
		printf("  -p: peers only, no gochan figures.\n");

	printf("\n== One CPU: both processes on CPU %d ==\n", cpus[0]);
	round_trips(cpus[0], cpus[0]);
	streams(cpus[0], cpus[0]);
	bulk(cpus[0]);
	if (ncpus < 2) {
		printf("\n== Two CPUs: skipped, this process may use only one CPU ==\n");
	} else {
		printf("\n== Two CPUs: CPU %d and CPU %d ==\n", cpus[0], cpus[1]);
		round_trips(cpus[0], cpus[1]);
		streams(cpus[0], cpus[1]);
	}
	sched_setaffinity(0, sizeof(all), &all);
	printf("\nTargets (issue 23): round trip <= %.1fx eventfd and <= %.1fx pipe, on one\n"
	       "CPU and two; stream >= %.1fx the pipe's rate at equal buffer bytes, every\n"
	       "row; write(2)/read(2) of %d elements of %d B <= %.1fx the pipe's\n"
	       "instructions per element (under the instruction clock).  A MISS is\n"
	       "reported, not an error: the exit status says only whether the benchmark\n"
	       "ran.\n", RTT_EVENTFD_TARGET, RTT_PIPE_TARGET, STREAM_TARGET, BULK_ELEMS,
	       BULK_ELEM, BULK_TARGET);
	return 0;
}
