// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a long multi-process stress with SIGKILLs, and an exact
 * account of every value.
 *
 *   gochan-stress [-t SECS] [-p PRODUCERS] [-r RECEIVERS] [-s SEED] [-k MS]
 *
 * selftests/gochan/stress.c runs well-behaved processes for a few seconds;
 * this one runs for minutes and kills them.  Five channels of 32-byte
 * values: unbuffered, buffered (4 and 64 slots), and two named ones
 * (unbuffered, 16 slots) that every process opens by name.  Producers send
 * with GOCHAN_IOC_SEND, write(2) batches, a select over several channels
 * (each case its own value) and io_uring WRITE; receivers take with
 * GOCHAN_IOC_RECV, read(2) batches, select, io_uring READ and epoll plus a
 * non-blocking receive.  Every blocking call is bounded (a deadline, an
 * interval timer without SA_RESTART, or an io_uring cancel).  Every
 * 0.1-0.5 s (-k) the parent SIGKILLs a child that sleeps in the kernel and
 * starts another under a new identity.  At the end the producers stop, the
 * parent closes the channels, the receivers drain them and exit.
 *
 * The acknowledgement protocol (shared memory):
 *  - a producer marks each value ATTEMPT before the call that may send it,
 *    then ACKED (the call says it was sent: a 0 return, the first n of a
 *    write or an io_uring WRITE's count, the chosen case of a select) or
 *    FAILED (the call says it was not);
 *  - a receiver notes how many values its current call may take (inflight)
 *    before the call, counts each value it got in a per-value counter, then
 *    clears inflight.  A receiver killed with inflight k may have taken up
 *    to k values that nobody will count: the allowance.
 * Checked at the end:
 *  - no value counted twice, or with a bad checksum;
 *  - no FAILED value counted (a send that said "not sent" sent nothing);
 *  - ACKED values not counted (lost) <= the allowance of killed receivers;
 *  - each receiver saw each producer's values on each channel in order;
 *  - every process still alive at the end exits once the channels close.
 * ATTEMPT values (their producer was killed in the call) may arrive or not.
 * The kernel log (KASAN, lockdep, kmemleak after rmmod) is the runner's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <liburing.h>
#include <linux/gochan.h>

#include "../common/clock.h"
#include "../common/itimer.h"
#include "../common/rand.h"

#define NCHAN		5
#define MAXID		2048		/* producer identities over a run */
#define MAXSEQ		4096		/* values per producer identity */
#define MAXCHILD	64
#define BATCH		4

enum { NONE, ATTEMPT, ACKED, FAILED };

struct val {
	uint32_t producer;
	uint32_t chan;
	uint64_t seq;
	uint64_t check;
	uint64_t pad;
};

static const uint32_t caps[NCHAN] = { 0, 4, 64, 0, 16 };
static const char *const names[NCHAN] = { NULL, NULL, NULL,
					   "gochan-stress-u", "gochan-stress-b" };

struct shm {
	int stop;			/* producers: stop sending */
	int closed;			/* channels closed: receivers drain */
	uint32_t next_id;		/* producer identities handed out */
	uint32_t nseq[MAXID];		/* values each identity made */
	uint8_t state[MAXID][MAXSEQ];
	uint8_t count[MAXID][MAXSEQ];	/* times received */
	uint32_t inflight[MAXCHILD];	/* per receiver slot */
	uint64_t order_errors, bad_values, dups;
	uint64_t received, ops[2][5];
	char why[256];
};

static struct shm *shm;
static int chfd[NCHAN];			/* the parent's (and inherited) fds */
static int dev;
static uint64_t rs;

static uint32_t rn(uint32_t n)
{
	return splitmix64_below(&rs, n);
}

static void note(const char *fmt, const char *a, long b)
{
	if (!shm->why[0])
		snprintf(shm->why, sizeof(shm->why), fmt, a, b);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* An interval timer interrupts a blocking read / write every 5-30 ms. */
static void timer_on(void)
{
	long us = 5000 + rn(25000);

	itimer_set(us, us);
}

static int64_t deadline(void)
{
	return now_ns() + 1000000 + rn(30000000);
}

/* Open the named channels in a child (by name, with only the access it
 * needs), keep the inherited fds of the others. */
static void child_fds(int *fds, bool send)
{
	for (int c = 0; c < NCHAN; c++) {
		struct gochan_open op = {
			.size = sizeof(op),
			.flags = (send ? GOCHAN_OPEN_SEND : GOCHAN_OPEN_RECV) |
				 GOCHAN_OPEN_CLOEXEC,
		};

		fds[c] = chfd[c];
		if (!names[c])
			continue;
		op.name = (uintptr_t)names[c];
		fds[c] = ioctl(dev, GOCHAN_IOC_OPEN, &op);
		if (fds[c] < 0) {
			note("open %s: %ld", names[c], errno);
			_exit(3);
		}
	}
}

static void make_val(struct val *v, uint32_t id, uint32_t c, uint32_t seq)
{
	*v = (struct val){ id, c, seq, mix64(((uint64_t)id << 32 | seq) ^ c), 0 };
}

/* ---- producers ------------------------------------------------------------ */

static struct io_uring ring;
static bool have_ring;

/* Wait for the one operation in flight; cancel it after ~30 ms.  Returns
 * its result, or -ETIME if it never completed (a bug: reported). */
static int uring_wait(void)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = { 0, 30000000 };
	int res = -ECANCELED, ret;

	ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
	if (ret == -ETIME) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		io_uring_prep_cancel64(sqe, 1, 0);
		sqe->user_data = 2;
		io_uring_submit(&ring);
		for (int i = 0; i < 2; ) {
			struct __kernel_timespec long_ts = { 20, 0 };

			ret = io_uring_wait_cqe_timeout(&ring, &cqe, &long_ts);
			if (ret == -EINTR)
				continue;
			if (ret) {
				note("io_uring: %s never completed after a cancel (%ld)",
				     "operation", ret);
				return -ETIME;
			}
			if (cqe->user_data == 1)
				res = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
			i++;
		}
		return res;
	}
	while (ret == -EINTR)
		ret = io_uring_wait_cqe(&ring, &cqe);
	if (ret)
		return ret;
	res = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	return res;
}

static void producer(uint32_t id)
{
	int fds[NCHAN];
	uint32_t seq = 0;

	child_fds(fds, true);
	have_ring = io_uring_queue_init(4, &ring, 0) == 0;
	while (!__atomic_load_n(&shm->stop, __ATOMIC_RELAXED) && seq + BATCH + NCHAN < MAXSEQ) {
		int how = rn(have_ring ? 4 : 3), c = rn(NCHAN), k = 1 + rn(BATCH);
		struct val v[BATCH > NCHAN ? BATCH : NCHAN];
		long ret;

		__atomic_add_fetch(&shm->ops[0][how], 1, __ATOMIC_RELAXED);
		switch (how) {
		case 0: {	/* GOCHAN_IOC_SEND, a deadline or a timer */
			struct gochan_xfer x = { .size = sizeof(x), .buf = (uintptr_t)v };

			make_val(&v[0], id, c, seq);
			if (rn(2)) {
				x.flags = GOCHAN_XFER_DEADLINE;
				x.deadline_ns = deadline();
			}
			shm->state[id][seq] = ATTEMPT;
			shm->nseq[id] = seq + 1;
			if (!x.flags)
				timer_on();
			ret = ioctl(fds[c], GOCHAN_IOC_SEND, &x);
			itimer_off();
			shm->state[id][seq++] = ret == 0 ? ACKED : FAILED;
			break;
		}
		case 1:		/* write(2) of k values */
			for (int i = 0; i < k; i++) {
				make_val(&v[i], id, c, seq + i);
				shm->state[id][seq + i] = ATTEMPT;
			}
			shm->nseq[id] = seq + k;
			timer_on();
			ret = write(fds[c], v, k * sizeof(v[0]));
			itimer_off();
			for (int i = 0; i < k; i++)
				shm->state[id][seq + i] =
					ret > 0 && i < ret / (long)sizeof(v[0]) ? ACKED : FAILED;
			seq += k;
			break;
		case 2: {	/* a select over k channels, each case its value */
			struct gochan_select_case cs[NCHAN];
			struct gochan_select sel = {
				.size = sizeof(sel), .flags = GOCHAN_SELECT_DEADLINE,
				.cases = (uintptr_t)cs, .ncases = 1 + rn(NCHAN),
				.case_size = sizeof(cs[0]), .deadline_ns = deadline(),
			};

			for (uint32_t i = 0; i < sel.ncases; i++) {
				uint32_t cc = rn(NCHAN);

				make_val(&v[i], id, cc, seq + i);
				cs[i] = (struct gochan_select_case){ fds[cc], GOCHAN_OP_SEND,
								    (uintptr_t)&v[i], 0 };
				shm->state[id][seq + i] = ATTEMPT;
			}
			shm->nseq[id] = seq + sel.ncases;
			ret = ioctl(dev, GOCHAN_IOC_SELECT, &sel);
			for (uint32_t i = 0; i < sel.ncases; i++)
				shm->state[id][seq + i] = ret == 0 && i == sel.index ? ACKED : FAILED;
			seq += sel.ncases;
			break;
		}
		default: {	/* io_uring WRITE of k values */
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			for (int i = 0; i < k; i++) {
				make_val(&v[i], id, c, seq + i);
				shm->state[id][seq + i] = ATTEMPT;
			}
			shm->nseq[id] = seq + k;
			io_uring_prep_write(sqe, fds[c], v, k * sizeof(v[0]), 0);
			sqe->user_data = 1;
			io_uring_submit(&ring);
			ret = uring_wait();
			if (ret == -ETIME)
				_exit(4);	/* the values stay ATTEMPT */
			for (int i = 0; i < k; i++)
				shm->state[id][seq + i] =
					ret > 0 && i < ret / (long)sizeof(v[0]) ? ACKED : FAILED;
			seq += k;
		}
		}
	}
	_exit(0);
}

/* ---- receivers ------------------------------------------------------------ */

static int64_t last[MAXID][NCHAN];

static void got(const struct val *v, uint32_t c)
{
	if (v->producer >= MAXID || v->seq >= MAXSEQ || v->chan != c ||
	    v->check != mix64(((uint64_t)v->producer << 32 | v->seq) ^ v->chan)) {
		__atomic_add_fetch(&shm->bad_values, 1, __ATOMIC_RELAXED);
		note("bad value on channel %s%ld", "", c);
		return;
	}
	if ((int64_t)v->seq <= last[v->producer][c]) {
		__atomic_add_fetch(&shm->order_errors, 1, __ATOMIC_RELAXED);
		note("out of order on channel %s%ld", "", c);
	}
	last[v->producer][c] = v->seq;
	if (__atomic_add_fetch(&shm->count[v->producer][v->seq], 1, __ATOMIC_SEQ_CST) > 1)
		__atomic_add_fetch(&shm->dups, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&shm->received, 1, __ATOMIC_RELAXED);
}

static void receiver(int slot)
{
	bool done[NCHAN] = { 0 };
	int fds[NCHAN], ndone = 0, ep;
	uint32_t *inflight = &shm->inflight[slot];

	for (int i = 0; i < MAXID; i++)
		for (int c = 0; c < NCHAN; c++)
			last[i][c] = -1;
	child_fds(fds, false);
	have_ring = io_uring_queue_init(4, &ring, 0) == 0;
	ep = epoll_create1(EPOLL_CLOEXEC);
	while (ndone < NCHAN) {
		int how = rn(have_ring ? 5 : 4), c = rn(NCHAN), k = 1 + rn(BATCH);
		struct val v[BATCH];
		long ret;

		if (done[c])
			continue;
		__atomic_add_fetch(&shm->ops[1][how], 1, __ATOMIC_RELAXED);
		switch (how) {
		case 0: {	/* GOCHAN_IOC_RECV */
			struct gochan_xfer x = { .size = sizeof(x), .buf = (uintptr_t)v };

			if (rn(2)) {
				x.flags = GOCHAN_XFER_DEADLINE;
				x.deadline_ns = deadline();
			}
			*inflight = 1;
			if (!x.flags)
				timer_on();
			ret = ioctl(fds[c], GOCHAN_IOC_RECV, &x);
			itimer_off();
			if (ret == 0 && x.ok)
				got(&v[0], c);
			else if (ret == 0)
				done[c] = true, ndone++;
			break;
		}
		case 1:		/* read(2) */
			*inflight = k;
			timer_on();
			ret = read(fds[c], v, k * sizeof(v[0]));
			itimer_off();
			for (long i = 0; ret > 0 && i < ret / (long)sizeof(v[0]); i++)
				got(&v[i], c);
			if (ret == 0)
				done[c] = true, ndone++;
			break;
		case 2: {	/* select over the channels still open */
			struct gochan_select_case cs[NCHAN];
			int cc[NCHAN];
			struct gochan_select sel = {
				.size = sizeof(sel), .flags = GOCHAN_SELECT_DEADLINE,
				.cases = (uintptr_t)cs, .case_size = sizeof(cs[0]),
				.deadline_ns = deadline(),
			};

			for (int i = 0; i < NCHAN; i++) {
				if (done[i] || rn(3) == 0)
					continue;
				cc[sel.ncases] = i;
				cs[sel.ncases++] = (struct gochan_select_case){
					fds[i], GOCHAN_OP_RECV, (uintptr_t)v, 0 };
			}
			if (!sel.ncases)
				break;
			*inflight = 1;
			ret = ioctl(dev, GOCHAN_IOC_SELECT, &sel);
			if (ret == 0 && sel.ok)
				got(&v[0], cc[sel.index]);
			else if (ret == 0 && !done[cc[sel.index]])
				done[cc[sel.index]] = true, ndone++;
			break;
		}
		case 3: {	/* epoll, then a non-blocking receive */
			struct epoll_event ev = { .events = EPOLLIN };
			struct gochan_xfer x = { .size = sizeof(x), .buf = (uintptr_t)v,
						 .flags = GOCHAN_XFER_NONBLOCK };

			epoll_ctl(ep, EPOLL_CTL_ADD, fds[c], &ev);
			epoll_wait(ep, &ev, 1, 1 + rn(30));
			epoll_ctl(ep, EPOLL_CTL_DEL, fds[c], NULL);
			*inflight = 1;
			ret = ioctl(fds[c], GOCHAN_IOC_RECV, &x);
			if (ret == 0 && x.ok)
				got(&v[0], c);
			else if (ret == 0)
				done[c] = true, ndone++;
			break;
		}
		default: {	/* io_uring READ */
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			*inflight = k;
			io_uring_prep_read(sqe, fds[c], v, k * sizeof(v[0]), 0);
			sqe->user_data = 1;
			io_uring_submit(&ring);
			ret = uring_wait();
			if (ret == -ETIME)
				_exit(4);
			for (long i = 0; ret > 0 && i < ret / (long)sizeof(v[0]); i++)
				got(&v[i], c);
			if (ret == 0)
				done[c] = true, ndone++;
		}
		}
		*inflight = 0;
	}
	_exit(0);
}

/* ---- the parent ------------------------------------------------------------ */

struct child {
	pid_t pid;
	bool recv;
	int slot;	/* receivers: inflight slot */
};

static struct child kids[MAXCHILD];
static int nkids;

static void spawn(bool recv, int slot)
{
	uint32_t id = 0;
	pid_t pid;

	if (!recv) {
		id = __atomic_fetch_add(&shm->next_id, 1, __ATOMIC_SEQ_CST);
		if (id >= MAXID)
			return;		/* out of identities: one producer fewer */
	}
	rn(1);
	pid = fork();
	if (pid == 0) {
		rs = mix64(rs ^ (uint64_t)getpid() << 20);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (recv)
			receiver(slot);
		producer(id);
	}
	if (pid > 0)
		kids[nkids++] = (struct child){ pid, recv, slot };
}

static char proc_state(pid_t pid)
{
	char path[64], buf[256], *p;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : '?';
}

static void print_stack(pid_t pid)
{
	char path[64], buf[2048];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stack", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		printf("# stack of %d:\n%s", pid, buf);
	}
}

int main(int argc, char **argv)
{
	int secs = 25, nprod = 4, nrecv = 4, kill_ms = 300, opt, fails = 0, t = 0;
	uint64_t seed = 0, allowance = 0, pkills = 0, rkills = 0, lost = 0;
	uint64_t failed_delivered = 0, acked = 0, doubt = 0, doubt_arrived = 0;
	struct sigaction sa = { .sa_handler = on_alarm };
	int64_t start, end;

	while ((opt = getopt(argc, argv, "t:p:r:s:k:h")) != -1) {
		switch (opt) {
		case 't': secs = atoi(optarg); break;
		case 'p': nprod = atoi(optarg); break;
		case 'r': nrecv = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'k': kill_ms = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-t SECS] [-p PRODUCERS] [-r RECEIVERS] "
				"[-s SEED] [-k KILL_MS]\n", argv[0]);
			return 2;
		}
	}
	if (nprod < 1 || nrecv < 1 || nprod + nrecv > MAXCHILD || kill_ms < 10)
		return 2;
	if (!seed)
		seed = mix64(now_ns() ^ getpid());
	rs = seed;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..6\n# gochan-stress: %d s, %d producers, %d receivers, a kill every "
	       "%d-%d ms, seed %" PRIu64 "\n", secs, nprod, nrecv, kill_ms / 3, kill_ms * 5 / 3, seed);
	if (access(GOCHAN_DEVICE_PATH, F_OK)) {
		for (int i = 1; i <= 6; i++)
			printf("ok %d gochan-stress # SKIP no %s\n", i, GOCHAN_DEVICE_PATH);
		return 0;
	}
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART, inherited */
	signal(SIGPIPE, SIG_IGN);
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	dev = open(GOCHAN_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (shm == MAP_FAILED || dev < 0) {
		printf("Bail out! setup: %s\n", strerror(errno));
		return 1;
	}
	for (int c = 0; c < NCHAN; c++) {
		if (names[c]) {
			struct gochan_unlink ul = { .size = sizeof(ul), .name = (uintptr_t)names[c] };
			struct gochan_open op = {
				.size = sizeof(op), .name = (uintptr_t)names[c], .mode = 0600,
				.flags = GOCHAN_OPEN_CREATE | GOCHAN_OPEN_EXCL | GOCHAN_OPEN_SEND |
					 GOCHAN_OPEN_RECV | GOCHAN_OPEN_CLOEXEC,
				.elem_size = sizeof(struct val), .capacity = caps[c],
			};

			ioctl(dev, GOCHAN_IOC_UNLINK, &ul);	/* a previous run's */
			chfd[c] = ioctl(dev, GOCHAN_IOC_OPEN, &op);
		} else {
			struct gochan_create cr = { .size = sizeof(cr),
						    .elem_size = sizeof(struct val),
						    .capacity = caps[c] };

			chfd[c] = ioctl(dev, GOCHAN_IOC_CREATE, &cr);
		}
		if (chfd[c] < 0) {
			printf("Bail out! channel %d: %s\n", c, strerror(errno));
			return 1;
		}
	}
	for (int i = 0; i < nrecv; i++)
		spawn(true, i);
	for (int i = 0; i < nprod; i++)
		spawn(false, 0);

	start = now_ns();
	end = start + (int64_t)secs * 1000000000LL;
	while (now_ns() < end) {
		struct timespec ts = { 0, (kill_ms / 3 + rn(kill_ms * 4 / 3)) * 1000000L };
		int status;
		pid_t pid;

		nanosleep(&ts, NULL);
		/* A child that ended by itself (a producer out of sequence
		 * numbers) is replaced; one that failed is a failure. */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (int i = 0; i < nkids; i++) {
				if (kids[i].pid != pid)
					continue;
				if (!WIFEXITED(status) || WEXITSTATUS(status)) {
					printf("# child %d (%s) ended with status %#x\n", pid,
					       kids[i].recv ? "receiver" : "producer", status);
					fails++;
				}
				struct child k = kids[i];

				kids[i] = kids[--nkids];
				spawn(k.recv, k.slot);
				break;
			}
		}
		/* Kill one that sleeps in the kernel, as it most likely
		 * sleeps in a channel operation. */
		for (int tries = 0; tries < 8 && nkids; tries++) {
			int i = rn(nkids);
			struct child k = kids[i];

			if (proc_state(k.pid) != 'S')
				continue;
			kill(k.pid, SIGKILL);
			waitpid(k.pid, NULL, 0);
			if (k.recv) {
				allowance += shm->inflight[k.slot];
				shm->inflight[k.slot] = 0;
				rkills++;
			} else {
				pkills++;
			}
			kids[i] = kids[--nkids];
			spawn(k.recv, k.slot);
			break;
		}
	}
	/* The end: producers stop, then the channels close and the receivers
	 * drain them.  Every survivor must exit within a minute. */
	__atomic_store_n(&shm->stop, 1, __ATOMIC_SEQ_CST);
	int64_t limit = now_ns() + 60 * 1000000000LL;
	bool closed = false;

	while (nkids && now_ns() < limit) {
		bool producers = false;
		int status;
		pid_t pid;

		for (int i = 0; i < nkids; i++)
			producers |= !kids[i].recv;
		if (!producers && !closed) {
			for (int c = 0; c < NCHAN; c++)
				if (ioctl(chfd[c], GOCHAN_IOC_CLOSE, 0))
					printf("# close channel %d: %s\n", c, strerror(errno)), fails++;
			closed = true;
		}
		pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0) {
			struct timespec ts = { 0, 20000000 };

			nanosleep(&ts, NULL);
			continue;
		}
		for (int i = 0; i < nkids; i++) {
			if (kids[i].pid != pid)
				continue;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				printf("# child %d (%s) ended with status %#x\n", pid,
				       kids[i].recv ? "receiver" : "producer", status);
				fails++;
			}
			kids[i] = kids[--nkids];
			break;
		}
	}
	bool all_done = !nkids;

	for (int i = 0; i < nkids; i++) {
		printf("# %s %d did not finish (state %c)\n", kids[i].recv ? "receiver" : "producer",
		       kids[i].pid, proc_state(kids[i].pid));
		print_stack(kids[i].pid);
		kill(kids[i].pid, SIGKILL);
		waitpid(kids[i].pid, NULL, 0);
	}

	/* The account. */
	uint32_t ids = shm->next_id < MAXID ? shm->next_id : MAXID;

	for (uint32_t id = 0; id < ids; id++) {
		for (uint32_t s = 0; s < shm->nseq[id]; s++) {
			uint8_t st = shm->state[id][s], n = shm->count[id][s];

			t++;
			if (st == ACKED) {
				acked++;
				lost += !n;
			} else if (st == FAILED) {
				failed_delivered += !!n;
			} else if (st == ATTEMPT) {
				doubt++;
				doubt_arrived += !!n;
			}
		}
	}
	printf("# %.0f s; values: %d made, %" PRIu64 " acknowledged, %" PRIu64
	       " received, %" PRIu64 " in doubt (%" PRIu64 " of them arrived); %u producer "
	       "identities; kills: %" PRIu64 " producers, %" PRIu64 " receivers\n",
	       (now_ns() - start) / 1e9, t, acked, shm->received, doubt, doubt_arrived,
	       ids, pkills, rkills);
	printf("# producer ops send/write/select/uring %" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%"
	       PRIu64 "; receiver ops recv/read/select/epoll/uring %" PRIu64 "/%" PRIu64 "/%"
	       PRIu64 "/%" PRIu64 "/%" PRIu64 "\n",
	       shm->ops[0][0], shm->ops[0][1], shm->ops[0][2], shm->ops[0][3],
	       shm->ops[1][0], shm->ops[1][1], shm->ops[1][2], shm->ops[1][3], shm->ops[1][4]);
	if (shm->why[0])
		printf("# first problem: %s\n", shm->why);

	printf("%s 1 no value received twice (%" PRIu64 " duplicates)\n",
	       shm->dups ? "not ok" : "ok", shm->dups);
	printf("%s 2 every value well formed (%" PRIu64 " bad)\n",
	       shm->bad_values ? "not ok" : "ok", shm->bad_values);
	printf("%s 3 no failed send delivered (%" PRIu64 ")\n",
	       failed_delivered ? "not ok" : "ok", failed_delivered);
	printf("%s 4 acknowledged values lost %" PRIu64 " <= %" PRIu64
	       " taken by killed receivers\n", lost > allowance ? "not ok" : "ok", lost, allowance);
	printf("%s 5 in order per producer and channel (%" PRIu64 " out of order)\n",
	       shm->order_errors ? "not ok" : "ok", shm->order_errors);
	printf("%s 6 every survivor finished after the close%s\n",
	       all_done && !fails ? "ok" : "not ok", fails ? " (and exited 0)" : "");
	for (int c = 0; c < NCHAN; c++) {
		if (names[c]) {
			struct gochan_unlink ul = { .size = sizeof(ul), .name = (uintptr_t)names[c] };

			ioctl(dev, GOCHAN_IOC_UNLINK, &ul);
		}
		close(chfd[c]);
	}
	return shm->dups || shm->bad_values || failed_delivered || lost > allowance ||
	       shm->order_errors || !all_done || fails;
}
