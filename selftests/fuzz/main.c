// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a guest-side fuzzer of the whole gochan uapi.
 *
 *   gochan-fuzz [-s SEED] [-n CALLS] [-w WORKERS] [-t SECS] [-v]
 *
 * WORKERS processes (default 8) share a pool of channels made before they
 * fork, and each adds channels (some of one direction, some closing with
 * their last sender: GOCHAN_CREATE_*), named channels, dups (dup(2), and
 * GOCHAN_IOC_DUP of any direction) and SCM_RIGHTS copies of its own.  Each picks operations at random from its seed (derived from the
 * master SEED and its index) and issues system calls on them: create, open,
 * unlink, send / receive by ioctl and by read / write (lengths right and
 * wrong), close, stat, select (random cases, duplicate fds, nil cases, fds
 * that are no channel or of the wrong direction, bad pointers, huge counts), poll and epoll, fork (children that
 * are SIGKILLed while blocked), SCM_RIGHTS, io_uring (READ, WRITE, POLL_ADD
 * on channel fds; URING_CMD: the module's SEND, RECV, SELECT and CANCEL
 * commands, queued and cancelled, and random ones; a quarter of them
 * issued from io-wq with IOSQE_ASYNC; rings torn down under queued
 * commands), random ioctl
 * numbers, fdinfo, the name list of /dev/gochan; with random struct sizes,
 * flags, reserved fields and pointers (NULL, kernel, non-canonical,
 * unmapped, read-only, straddling the end of a mapping), under a timer
 * signal that interrupts blocking calls.  The run stops after CALLS system
 * calls in all (default 200000) or SECS seconds.
 *
 * What it checks, besides the kernel log the runner scans:
 *  - every call's result is in the set the uapi header allows for it;
 *  - channels a worker made and has shared with nobody are *modelled*: the
 *    worker knows their exact content (a FIFO of tags), so it checks every
 *    value received, every EAGAIN / EPIPE / EBADF / end-of-channel, the
 *    poll mask and GOCHAN_IOC_STAT's len and closed flag after each call:
 *    nothing lost, duplicated, reordered or corrupted, even when a call
 *    faults half-way, no operation of the wrong direction let through, and
 *    a channel made with CLOSE_ON_LAST_SENDER closed exactly when the
 *    worker closes its last fd that can send on it;
 *  - values received from shared channels must be well formed (elements of
 *    16 bytes or more carry a tag and its hash), and no tag may be received
 *    twice (a bitmap in shared memory).
 *
 * On the first failure it prints the master seed, the worker, its call
 * number and a command line that replays that worker alone from the same
 * seed (-w1 -W<worker>; the other workers' interleaving is not replayed,
 * so a race may need the full command line), then exits 1.  Output is TAP
 * with one result, so guest-run-tests and selftests/common/tap-summary
 * count it; a line every million calls tells the rate.
 *
 * The program's parts, one concern a file, are listed at the top of fuzz.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <linux/gochan.h>

#include "fuzz.h"

/* ---- shared state ------------------------------------------------------ */

struct shm *shm;
static int nworkers = 8;
int me;					/* worker index */
static uint64_t ncall;			/* this worker's calls */
static bool verbose;
static const char *argv0;
static int only_worker = -1;
bool no_ro_out;				/* -x ro-out */

/* ---- random ------------------------------------------------------------ */

uint64_t rs;				/* the worker's stream, seeded by worker() */

/* ---- failure ----------------------------------------------------------- */

/* Line *n of @ring (of @cap lines), "call N: " and then @fmt; returns its
 * length. */
int note_vadd(note_line *ring, unsigned int cap, unsigned int *n,
	      const char *fmt, va_list ap)
{
	char *h = ring[(*n)++ % cap];
	int k = snprintf(h, sizeof(note_line), "call %" PRIu64 ": ", ncall);

	return k + vsnprintf(h + k, sizeof(note_line) - k, fmt, ap);
}

void note_dump(const note_line *ring, unsigned int cap, unsigned int n)
{
	for (unsigned int i = n < cap ? 0 : n - cap; i != n; i++)
		fprintf(stderr, "#   %s\n", ring[i % cap]);
}

#define W_LOG 64
static note_line wlog[W_LOG];
static unsigned int nwlog;

void w_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	note_vadd(wlog, W_LOG, &nwlog, fmt, ap);
	va_end(ap);
}

const struct model *fail_model;	/* the channel the current check is about */

void fail(const char *fmt, ...)
{
	char msg[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the logs of the first worker to fail only */
	if (!__atomic_load_n(&shm->failed, __ATOMIC_SEQ_CST)) {
		if (fail_model)
			m_dump(fail_model);
		fprintf(stderr, "# worker %d: its last calls on fds:\n", me);
		note_dump(wlog, W_LOG, nwlog);
		pool_dump();
	}
	if (!__atomic_exchange_n(&shm->failed, 1, __ATOMIC_SEQ_CST))
		snprintf(shm->why, sizeof(shm->why),
			 "worker %d call %" PRIu64 ": %s\n"
			 "# reproduce: %s -s %" PRIu64 " -w %d -n %" PRIu64 "%s"
			 "   (this worker alone: add -W %d)",
			 me, ncall, msg, argv0, shm->seed, nworkers,
			 shm->target, no_ro_out ? " -x ro-out" : "", me);
	_exit(1);
}

/* Count one system call; false once the run is over. */
bool tick(void)
{
	uint64_t n = __atomic_add_fetch(&shm->calls, 1, __ATOMIC_RELAXED);

	ncall++;
	if (n % 1000000 == 0 && n <= shm->target) {
		double secs = (now_ns() - shm->start_ns) / 1e9;

		printf("# gochan-fuzz: %" PRIu64 " calls, %.0f s, %.0f calls/s\n",
		       n, secs, n / (secs > 0 ? secs : 1));
	}
	return n <= shm->target;
}

static bool done(void)
{
	return shm->failed || __atomic_load_n(&shm->calls, __ATOMIC_RELAXED) >= shm->target ||
	       now_ns() >= shm->end_ns;
}

/* ALLOW()'s check (fuzz.h). */
void allow(const char *what, int err, const int *ok)
{
	if (!err)
		return;
	for (; *ok != -1; ok++)
		if (*ok == err)
			return;
	fail("%s: unexpected errno %d (%s)", what, err, strerror(err));
}

/* ---- a worker ------------------------------------------------------------ */

/* The shared pool's channels, made by main() before the fork. */
static const uint32_t shared_es[NSHARED] = { 0, 1, 8, 16, 16, 24, 64, 4096, 16, 40, 16, 65536 };
static const uint32_t shared_cap[NSHARED] = { 0, 4, 0, 0, 1, 8, 64, 2, 256, 0, 3, 1 };

/*
 * What a worker does, by weight; -o NAME=WEIGHT changes a weight (0 leaves
 * the op out), to aim a run at a few ops when chasing a failure.
 */
static struct op {
	const char *name;
	void (*fn)(void);
	int weight;
} ops[] = {
	{ "create", op_create, 4 }, { "send", NULL, 14 }, { "recv", NULL, 14 },
	{ "write", NULL, 8 }, { "read", NULL, 8 }, { "close", op_close_chan, 2 },
	{ "stat", op_stat, 4 }, { "select", op_select, 8 },
	{ "select_model", op_select_model, 6 }, { "poll", op_poll, 4 },
	{ "epoll", op_epoll, 3 }, { "scm", op_scm, 2 }, { "dup", op_dup_or_drop, 5 },
	{ "named", op_named, 4 }, { "bad_ioctl", op_bad_ioctl, 3 }, { "proc", op_proc, 1 },
	{ "uring", op_uring, 6 }, { "fork", op_fork, 1 },
};

/* -o NAME=WEIGHT: false if there is no such op. */
static bool set_weight(const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (!eq)
		return false;
	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++) {
		if (strlen(ops[i].name) == (size_t)(eq - arg) &&
		    !strncmp(ops[i].name, arg, eq - arg)) {
			ops[i].weight = atoi(eq + 1);
			return ops[i].weight >= 0;
		}
	}
	return false;
}

static void worker(int idx, const int *shared)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	int total = 0;

	me = idx;
	rs = mix64(shm->seed ^ mix64(0x5eed0000ull + idx));
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: blocking calls end */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);

	ptr_init();

	dev = open(GOCHAN_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		fail("open %s: %s", GOCHAN_DEVICE_PATH, strerror(errno));
	add((struct ent){ dev, K_DEV, 0, 0, false, false, NULL, 0 });
	for (int i = 0; i < NSHARED; i++)
		add((struct ent){ shared[i], K_CHAN, shared_es[i], shared_cap[i], true, true, NULL, 0 });
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), pfd[2];

	if (efd >= 0)
		add((struct ent){ efd, K_OTHER, 0, 0, false, false, NULL, 0 });
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) == 0) {
		add((struct ent){ pfd[0], K_OTHER, 0, 0, false, false, NULL, 0 });
		add((struct ent){ pfd[1], K_OTHER, 0, 0, false, false, NULL, 0 });
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++)
		total += ops[i].weight;
	while (!done()) {
		int r = rn(total), i = 0;

		while (r >= ops[i].weight)
			r -= ops[i++].weight;
		fail_model = NULL;
		switch (i) {
		case 1: op_xfer(true); break;
		case 2: op_xfer(false); break;
		case 3: op_rw(true); break;
		case 4: op_rw(false); break;
		default: ops[i].fn(); break;
		}
		if ((ncall & 255) == 0)
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
	}
	uring_end();
	while (npool)
		drop(&pool[0]);
	while (wait(NULL) > 0)
		;
	_exit(0);
}

/* ---- main ------------------------------------------------------------------ */

static void usage(void)
{
	fprintf(stderr, "usage: %s [-s SEED] [-n CALLS] [-w WORKERS] [-W ONLY] [-t SECS] "
		"[-x ro-out] [-o OP=WEIGHT]...\n"
		"  -W ONLY    run worker ONLY of WORKERS alone (a replay)\n"
		"  -x ro-out  never put a struct the kernel writes back (RECV's, SELECT's)\n"
		"             in read-only memory (the module takes a value then fails\n"
		"             with EFAULT: see selftests/gochan/efault.c)\n"
		"  -o OP=WEIGHT  how often a worker does OP against the others (0: never),\n"
		"             to aim a run at a few ops; a replay needs the same -o.  OP, weight:\n"
		"            ", argv0);
	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++)
		fprintf(stderr, " %s=%d", ops[i].name, ops[i].weight);
	fprintf(stderr, "\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = 0, calls = 200000;
	int secs = 0, opt, shared[NSHARED], rc = 0;
	bool have_seed = false;
	pid_t pids[NW_MAX];
	int64_t start;

	argv0 = argv[0];
	while ((opt = getopt(argc, argv, "s:n:w:W:t:x:o:vh")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); have_seed = true; break;
		case 'n': calls = strtoull(optarg, NULL, 0); break;
		case 'w': nworkers = atoi(optarg); break;
		case 'W': only_worker = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		case 'v': verbose = true; break;
		case 'x':
			if (strcmp(optarg, "ro-out"))
				usage();
			no_ro_out = true;
			break;
		case 'o':
			if (!set_weight(optarg))
				usage();
			break;
		default: usage();
		}
	}
	if (nworkers < 1 || nworkers > NW_MAX || only_worker >= nworkers)
		usage();
	{
		int total = 0;

		for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++)
			total += ops[i].weight;
		if (!total)
			usage();
	}
	if (!have_seed)
		seed = mix64((uint64_t)now_ns() ^ ((uint64_t)getpid() << 32));
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..1\n# gochan-fuzz: seed %" PRIu64 ", %d workers, %" PRIu64 " calls%s\n",
	       seed, only_worker >= 0 ? 1 : nworkers, calls,
	       only_worker >= 0 ? " (one worker replayed)" : "");
	if (access(GOCHAN_DEVICE_PATH, F_OK)) {
		printf("ok 1 gochan-fuzz # SKIP %s absent (module not loaded)\n",
		       GOCHAN_DEVICE_PATH);
		return 0;
	}
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		printf("not ok 1 gochan-fuzz # mmap: %s\n", strerror(errno));
		return 1;
	}
	shm->seed = seed;
	shm->target = calls;
	shm->end_ns = secs > 0 ? now_ns() + (int64_t)secs * 1000000000LL : INT64_MAX;

	/* The shared pool: made here, inherited by every worker. */
	dev = open(GOCHAN_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	for (int i = 0; i < NSHARED; i++) {
		struct gochan_create cr = { .size = sizeof(cr), .elem_size = shared_es[i],
					    .capacity = shared_cap[i],
					    .flags = i % 3 == 1 ? GOCHAN_CREATE_NONBLOCK : 0 };

		shared[i] = dev < 0 ? -1 : ioctl(dev, GOCHAN_IOC_CREATE, &cr);
		if (shared[i] < 0) {
			printf("not ok 1 gochan-fuzz # making the shared channels: %s\n",
			       strerror(errno));
			return 1;
		}
	}
	close(dev);
	start = now_ns();
	shm->start_ns = start;
	for (int w = 0; w < nworkers; w++) {
		if (only_worker >= 0 && w != only_worker) {
			pids[w] = -1;
			continue;
		}
		pids[w] = fork();
		if (pids[w] == 0)
			worker(w, shared);
	}
	for (int i = 0; i < NSHARED; i++)
		close(shared[i]);
	for (int w = 0; w < nworkers; w++) {
		int status;

		if (pids[w] <= 0)
			continue;
		/* A worker stuck in the kernel is a failure too: wait at
		 * most until everyone else is long done. */
		while (waitpid(pids[w], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			rc = 1;
			if (!shm->failed)
				snprintf(shm->why, sizeof(shm->why),
					 "worker %d died (status %#x)\n# reproduce: %s -s %"
					 PRIu64 " -w %d -n %" PRIu64, w, status, argv0, seed,
					 nworkers, calls);
		}
	}
	/* The workers' names go, and their rings with them: a later test
	 * may count on max_total_bytes to the byte. */
	dev = open(GOCHAN_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	unlink_names(dev);
	double secs_run = (now_ns() - start) / 1e9;
	uint64_t done_calls = shm->calls < calls ? shm->calls : calls;

	printf("# gochan-fuzz: %" PRIu64 " calls in %.1f s: %.0f calls/s; %" PRIu64
	       " values checked against models, %" PRIu64 " tagged values from shared "
	       "channels, %" PRIu64 " forks, %" PRIu64 " SIGKILLs, io_uring commands: %"
	       PRIu64 " moved a value, %" PRIu64 " cancelled or timed out; %" PRIu64
	       " fds made by GOCHAN_IOC_DUP, %" PRIu64 " modelled channels closed by "
	       "their last sender's close(2)\n",
	       done_calls, secs_run, done_calls / (secs_run > 0 ? secs_run : 1),
	       shm->model_rx, shm->shared_rx, shm->forks, shm->kills, shm->cmd_moved,
	       shm->cmd_cancelled, shm->dups, shm->autoclosed);
	if (rc || shm->failed) {
		printf("# gochan-fuzz: FAILED: %s\n", shm->why);
		printf("not ok 1 gochan-fuzz seed %" PRIu64 "\n", seed);
		return 1;
	}
	printf("ok 1 gochan-fuzz seed %" PRIu64 "\n", seed);
	return 0;
}
