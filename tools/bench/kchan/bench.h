/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gochan-bench: shared declarations.
 *
 *   links.c   the three transports (gochan, eventfd, pipe) behind one
 *             struct link: open, hang up, close
 *   measure.c the two experiments (round trip, one-way stream), each run in
 *             a forked partner process, pinned, calibrated, repeated
 *   gochan-bench.c  options, the order of the runs, the tables
 *   gochan-bench-select.c  a second program: select, epoll and io_uring,
 *             in-process experiments (struct experiment's solo())
 *
 * A failure to run (a syscall error, a partner that dies) ends the program
 * with status 1; a figure that misses its target never does.
 */
#ifndef GOCHAN_BENCH_H
#define GOCHAN_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum kind { GOCHAN, EVENTFD, PIPE };

/*
 * One direction of a conversation: the writer writes to @tx, the reader
 * reads from @rx.  A gochan or an eventfd is one fd for both ends; a pipe
 * has two.
 */
struct link {
	enum kind kind;
	size_t msg;		/* bytes per message (eventfd: always 8) */
	int tx, rx;
};

/* links.c */
const char *kind_name(enum kind kind);
void link_open(struct link *l, enum kind kind, size_t msg, size_t buf_bytes);
void link_hangup(struct link *l);
void link_close(struct link *l);
bool link_is_hangup(const struct link *l, const void *buf, ssize_t n);

/* measure.c */
struct config {
	int opts_reps;		/* repetitions; the median is reported */
	double rep_seconds;	/* wanted length of one repetition */
	bool verbose;		/* print every repetition */
};
extern struct config cfg;

/*
 * An experiment with a partner process, as the measuring code sees it:
 * start() forks the partner, calibrate() sizes a chunk of iterations, rep()
 * measures once (as many chunks as fit in cfg.rep_seconds), stop() ends the
 * partner.  Results are nanoseconds per
 * iteration (a round trip, or one message).
 */
struct experiment {
	const char *label;	/* for -v output */
	bool stream;		/* one-way stream, else round trip */
	bool batched;		/* stream: many messages per read/write */
	struct link a, b;	/* round trip: a = ping, b = pong; stream: a */
	int ctl;		/* stream: where the parent says "send N" */
	pid_t partner;
	uint64_t chunk;		/* iterations per timed run, from calibrate() */
	double *samples;	/* ns per iteration, one per repetition */
	int nsamples;
	/* In-process experiments (no partner): solo() runs @iters
	 * iterations and returns the nanoseconds they took; @ctx is its. */
	int64_t (*solo)(struct experiment *e, uint64_t iters);
	void *ctx;
};

#define STREAM_BATCH	64	/* messages per read()/write() when batched */
#define MSG_MAX		64	/* largest message, bytes */

void watchdog(unsigned int seconds);
void pin_to(int cpu);
void start(struct experiment *e, int partner_cpu);
void calibrate(struct experiment *e);
void rep(struct experiment *e);
void stop(struct experiment *e);
void measure(struct experiment *e, int n, int partner_cpu);
int64_t run(struct experiment *e, uint64_t iters);
void exercise(struct experiment *e, uint64_t iters, int partner_cpu);
bool clock_counts_instructions(void);
int64_t now_ns(void);
double median(const struct experiment *e);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif /* GOCHAN_BENCH_H */
