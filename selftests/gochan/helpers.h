/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the gochan selftests: raw syscalls against the uapi
 * header only (no libgochan), so a library bug cannot hide a kernel one.
 *
 * Conventions:
 *  - gc_*() helpers return 0 / a value on success and -errno on failure, so a
 *    check reads ASSERT_EQ(-EAGAIN, gc_send(...)).
 *  - Helper processes are made with gc_fork(): they die with the test (a
 *    parent-death signal), so a failed ASSERT never leaves a process blocked
 *    on a channel holding a reference to the module.
 *  - Nothing waits by sleeping blindly: gc_wait_waiters() polls
 *    GOCHAN_IOC_STAT until the expected number of blocked senders/receivers
 *    shows up, gc_wait_in_syscall2() polls /proc/<pid>/syscall, each with a
 *    generous bound (GC_WAIT_MS), since guests run under emulation.
 */
#ifndef GOCHAN_HELPERS_H
#define GOCHAN_HELPERS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/gochan.h>
#include <linux/userfaultfd.h>

#include "kselftest_harness.h"

#include "../common/clock.h"
#include "../common/env.h"

/*
 * GC_SKIP_SETUP(fmt, ...) - skip the test from its FIXTURE_SETUP.
 * SKIP(return, ...) there does not skip the test's body in the 6.1 harness
 * (make check extracts the kselftest headers of Debian 12's linux-source,
 * 6.1), which counts a child's exit status 255 as a skip; newer harnesses
 * (they define XFAIL_ADD) count KSFT_SKIP.  Exiting with 4 under the 6.1
 * harness reads as "Test failed at step #4".
 */
#ifdef XFAIL_ADD
#define GC_SKIP_EXIT	KSFT_SKIP
#else
#define GC_SKIP_EXIT	255
#endif
#define GC_SKIP_SETUP(fmt, ...)	SKIP(_exit(GC_SKIP_EXIT), fmt, ##__VA_ARGS__)

/* Upper bound for any wait on a state change (ms).  Generous: TCG is slow. */
#define GC_WAIT_MS	15000

/* Largest ioctl struct size the ABI accepts (see "Extensible structs"). */
#define GC_STRUCT_MAX	4096

static inline int gc_err(long ret)
{
	return ret < 0 ? -errno : (int)ret;
}

static inline long gc_errl(long ret)
{
	return ret < 0 ? -errno : ret;
}

static inline void gc_sleep_ms(unsigned int ms)
{
	sleep_ns(ms * 1000000LL);
}

/* A select case: @op (GOCHAN_OP_*) on the channel @fd, its element at @buf. */
static inline struct gochan_select_case gc_case(int fd, uint32_t op, const void *buf)
{
	return (struct gochan_select_case){
		.fd = fd, .op = op, .buf = (uintptr_t)buf,
	};
}

/* How long a load test runs: $GOCHAN_STRESS_SECS, 3 s by default. */
static inline int gc_stress_secs(void)
{
	return (int)env_long("GOCHAN_STRESS_SECS", 3);
}

static inline bool gc_have_device(void)
{
	return access(GOCHAN_DEVICE_PATH, F_OK) == 0;
}

/* Open /dev/gochan; -errno on failure. */
static inline int gc_open_dev(void)
{
	return gc_err(open(GOCHAN_DEVICE_PATH, O_RDWR | O_CLOEXEC));
}

/*
 * GC_SETUP_DEV(fd): in a FIXTURE_SETUP, open the device or SKIP the test.
 * The 6.1 harness runs the test body even after a SKIP() in setup, so the
 * skip ends the test process itself (255 is the harness's "skipped" code).
 */
#define GC_SETUP_DEV(fd) do {						\
	if (!gc_have_device())						\
		SKIP(_exit(255), GOCHAN_DEVICE_PATH " absent (module not loaded)"); \
	(fd) = gc_open_dev();						\
	ASSERT_LE(0, (fd)) TH_LOG("open %s: %s", GOCHAN_DEVICE_PATH,	\
				  strerror(-(fd)));			\
} while (0)

/*
 * The fixtures the test files share (kselftest's FIXTURE macros, one set a name):
 *  GC_DEV_FIXTURE(name)        self->dev, the device, opened (skip without it) and closed;
 *  GC_OPS_FIXTURE(name, n)     the same, and self->ops, n gc_ops() for helper processes;
 *  GC_SELECT_FIXTURE(name)     the same as GC_DEV_FIXTURE, and where a test's selects are
 *                              issued, by variant: self->sfd the device (on_dev), a channel
 *                              fd none of the cases use (on_chan, self->ch), or a select set
 *                              made from the cases (on_set: sets via_set, which the file
 *                              defines);
 *  GC_URING_FIXTURE(name)      self->dev and self->ring, a 64-entry io_uring (skip where
 *                              io_uring is missing or forbidden); the file includes liburing.h.
 */
#define GC_DEV_FIXTURE(name)						\
FIXTURE(name) {								\
	int dev;							\
};									\
FIXTURE_SETUP(name)							\
{									\
	GC_SETUP_DEV(self->dev);					\
}									\
FIXTURE_TEARDOWN(name)							\
{									\
	close(self->dev);						\
}

#define GC_OPS_FIXTURE(name, n)						\
FIXTURE(name) {								\
	int dev;							\
	struct gc_op *ops;						\
};									\
FIXTURE_SETUP(name)							\
{									\
	GC_SETUP_DEV(self->dev);					\
	self->ops = gc_ops(n);						\
	ASSERT_NE(NULL, self->ops);					\
}									\
FIXTURE_TEARDOWN(name)							\
{									\
	close(self->dev);						\
}

#define GC_SELECT_FIXTURE(name)						\
FIXTURE(name) {								\
	int dev;							\
	int sfd;	/* where selects are issued */			\
	int ch;		/* the channel sfd may be (else -1) */		\
};									\
FIXTURE_VARIANT(name) {							\
	bool on_chan;							\
	bool on_set;							\
};									\
FIXTURE_VARIANT_ADD(name, on_dev) { .on_chan = false };		\
FIXTURE_VARIANT_ADD(name, on_chan) { .on_chan = true };		\
FIXTURE_VARIANT_ADD(name, on_set) { .on_set = true };			\
FIXTURE_SETUP(name)							\
{									\
	GC_SETUP_DEV(self->dev);					\
	via_set = variant->on_set;					\
	self->ch = -1;							\
	self->sfd = self->dev;						\
	if (variant->on_chan) {						\
		self->ch = gc_make(self->dev, 8, 1);			\
		ASSERT_LE(0, self->ch);					\
		self->sfd = self->ch;					\
	}								\
}									\
FIXTURE_TEARDOWN(name)							\
{									\
	if (self->ch >= 0)						\
		close(self->ch);					\
	close(self->dev);						\
}

#define GC_URING_FIXTURE(name)						\
FIXTURE(name) {								\
	int dev;							\
	struct io_uring ring;						\
};									\
FIXTURE_SETUP(name)							\
{									\
	int ret;							\
									\
	if (!gc_have_device())						\
		GC_SKIP_SETUP("/dev/gochan is absent");			\
	ret = io_uring_queue_init(64, &self->ring, 0);			\
	if (ret == -ENOSYS || ret == -EPERM)				\
		GC_SKIP_SETUP("no io_uring here (%d)", ret);		\
	ASSERT_EQ(0, ret);						\
	self->dev = gc_open_dev();					\
	ASSERT_LE(0, self->dev);					\
}									\
FIXTURE_TEARDOWN(name)							\
{									\
	io_uring_queue_exit(&self->ring);				\
	close(self->dev);						\
}

/* GOCHAN_IOC_CREATE with a given struct; returns the new fd or -errno. */
static inline int gc_create_raw(int dev, struct gochan_create *cr)
{
	return gc_err(ioctl(dev, GOCHAN_IOC_CREATE, cr));
}

/* Make a channel; returns its fd or -errno.  *id gets its id if id != NULL. */
static inline int gc_make_id(int dev, uint32_t elem_size, uint32_t capacity,
			     uint32_t flags, uint64_t *id)
{
	struct gochan_create cr = {
		.size = sizeof(cr),
		.flags = flags,
		.elem_size = elem_size,
		.capacity = capacity,
	};
	int fd = gc_create_raw(dev, &cr);

	if (fd >= 0 && id)
		*id = cr.id;
	return fd;
}

static inline int gc_make(int dev, uint32_t elem_size, uint32_t capacity)
{
	return gc_make_id(dev, elem_size, capacity, GOCHAN_CREATE_CLOEXEC, NULL);
}

/* GOCHAN_IOC_SEND of one element at buf; flags GOCHAN_XFER_*. */
static inline int gc_send_dl(int fd, const void *buf, uint32_t flags,
			     int64_t deadline_ns)
{
	struct gochan_xfer x = {
		.size = sizeof(x),
		.flags = flags,
		.buf = (uintptr_t)buf,
		.deadline_ns = deadline_ns,
	};

	return gc_err(ioctl(fd, GOCHAN_IOC_SEND, &x));
}

static inline int gc_send(int fd, const void *buf, uint32_t flags)
{
	return gc_send_dl(fd, buf, flags, 0);
}

/* GOCHAN_IOC_RECV of one element into buf; *ok gets the ok field. */
static inline int gc_recv_dl(int fd, void *buf, uint32_t *ok, uint32_t flags,
			     int64_t deadline_ns)
{
	struct gochan_xfer x = {
		.size = sizeof(x),
		.flags = flags,
		.buf = (uintptr_t)buf,
		.deadline_ns = deadline_ns,
		.ok = 0xdead,
	};
	int ret = gc_err(ioctl(fd, GOCHAN_IOC_RECV, &x));

	if (ok)
		*ok = x.ok;
	return ret;
}

static inline int gc_recv(int fd, void *buf, uint32_t *ok, uint32_t flags)
{
	return gc_recv_dl(fd, buf, ok, flags, 0);
}

/* gc_recv_u64()'s result when the channel is closed and drained (ok = 0). */
#define GC_CLOSED	1

/* Send / receive a uint64_t on an 8-byte channel with the ioctls. */
static inline int gc_send_u64(int fd, uint64_t v, uint32_t flags)
{
	return gc_send(fd, &v, flags);
}

static inline int gc_recv_u64(int fd, uint64_t *v, uint32_t flags)
{
	uint32_t ok = 0;
	int ret = gc_recv(fd, v, &ok, flags);

	if (ret == 0 && ok != 1)
		return ok == 0 ? GC_CLOSED : -EPROTO;
	return ret;
}

/* GOCHAN_IOC_DUP of @fd with @flags: a new open file of its channel; the fd or -errno. */
static inline int gc_dup(int fd, uint32_t flags)
{
	struct gochan_dup d = { .size = sizeof(d), .flags = flags };

	return gc_err(ioctl(fd, GOCHAN_IOC_DUP, &d));
}

static inline int gc_close_chan(int fd)
{
	return gc_err(ioctl(fd, GOCHAN_IOC_CLOSE, 0));
}

static inline int gc_stat(int fd, struct gochan_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return gc_err(ioctl(fd, GOCHAN_IOC_STAT, st));
}

/*
 * GOCHAN_IOC_SELECT on @fd over @n cases of today's size; *index and *ok
 * (each may be NULL) get those fields as the call left them (0xdeadbeef
 * if it wrote nothing).  0 or -errno.
 */
static inline int gc_select(int fd, const struct gochan_select_case *cs,
			    uint32_t n, uint32_t flags, int64_t deadline_ns,
			    uint32_t *index, uint32_t *ok)
{
	struct gochan_select s = {
		.size = sizeof(s),
		.flags = flags,
		.cases = (uintptr_t)cs,
		.ncases = n,
		.case_size = n ? sizeof(*cs) : 0,	/* 0 for a set */
		.deadline_ns = deadline_ns,
		.index = 0xdeadbeef,
		.ok = 0xdeadbeef,
	};
	int ret = gc_err(ioctl(fd, GOCHAN_IOC_SELECT, &s));

	if (index)
		*index = s.index;
	if (ok)
		*ok = s.ok;
	return ret;
}

/* GOCHAN_IOC_SELSET on @fd: a select set of @n cases; its fd or -errno. */
static inline int gc_selset(int fd, const struct gochan_select_case *cs,
			    uint32_t n)
{
	struct gochan_selset arg = {
		.size = sizeof(arg),
		.flags = GOCHAN_SELSET_CLOEXEC,
		.cases = (uintptr_t)cs,
		.ncases = n,
		.case_size = sizeof(*cs),
	};

	return gc_err(ioctl(fd, GOCHAN_IOC_SELSET, &arg));
}

/* read(2)/write(2) returning the byte count or -errno. */
static inline long gc_read(int fd, void *buf, size_t len)
{
	return gc_errl(read(fd, buf, len));
}

static inline long gc_write(int fd, const void *buf, size_t len)
{
	return gc_errl(write(fd, buf, len));
}

/*
 * Poll GOCHAN_IOC_STAT until send_waiters == nsend and recv_waiters == nrecv
 * (a value of -1 means "any").  Returns 0, or -ETIMEDOUT after GC_WAIT_MS,
 * or the stat error.  *last (may be NULL) gets the last snapshot.
 */
static inline int gc_wait_waiters_st(int fd, int nsend, int nrecv,
				     struct gochan_stat *last)
{
	struct gochan_stat st;
	int64_t end = now_ns() + GC_WAIT_MS * 1000000LL;
	int ret;

	for (;;) {
		ret = gc_stat(fd, &st);
		if (ret)
			break;
		if ((nsend < 0 || st.send_waiters == (uint32_t)nsend) &&
		    (nrecv < 0 || st.recv_waiters == (uint32_t)nrecv))
			break;
		if (now_ns() > end) {
			ret = -ETIMEDOUT;
			break;
		}
		usleep(1000);
	}
	if (last)
		*last = st;
	return ret;
}

static inline int gc_wait_waiters(int fd, int nsend, int nrecv)
{
	return gc_wait_waiters_st(fd, nsend, nrecv, NULL);
}

/* Poll until the channel's len == want; 0 or -ETIMEDOUT. */
static inline int gc_wait_len(int fd, uint32_t want)
{
	struct gochan_stat st;
	int64_t end = now_ns() + GC_WAIT_MS * 1000000LL;

	for (;;) {
		if (gc_stat(fd, &st))
			return -errno;
		if (st.len == want)
			return 0;
		if (now_ns() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
}

/*
 * Poll /proc/<pid>/syscall until the task sleeps in system call nr or alt
 * (libc may use either of a pair such as poll/ppoll), for waits the channel
 * statistics cannot see.  Returns 0, or -ETIMEDOUT.
 */
static inline int gc_wait_in_syscall2(pid_t pid, long nr, long alt)
{
	char path[64], buf[256];
	int64_t end = now_ns() + GC_WAIT_MS * 1000000LL;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	for (;;) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = -1;

		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
		}
		if (n > 0 && buf[0] >= '0' && buf[0] <= '9') {
			long cur;

			buf[n] = '\0';
			cur = strtol(buf, NULL, 10);
			if (cur == nr || cur == alt)
				return 0;
		}
		if (now_ns() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
}

#define gc_wait_in_poll(pid)	gc_wait_in_syscall2(pid, SYS_poll, SYS_ppoll)
#define gc_wait_in_epoll(pid)	\
	gc_wait_in_syscall2(pid, SYS_epoll_wait, SYS_epoll_pwait)

/* Anonymous shared memory for results from helper processes. */
static inline void *gc_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * A read/write-able buffer of len bytes ending exactly at an unmapped page,
 * so that touching one byte past it faults.  Leaked on purpose (tests are
 * short-lived processes).
 */
static inline void *gc_buf_before_hole(size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t maplen = ((len + pg - 1) / pg + 1) * pg;
	char *p = mmap(NULL, maplen, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p + maplen - pg, pg);
	return p + maplen - pg - len;
}

/* Index of the first byte in p[from, to) that is not c, or -1. */
static inline long gc_first_not(const void *p, size_t from, size_t to,
				unsigned char c)
{
	const unsigned char *b = p;

	for (size_t i = from; i < to; i++)
		if (b[i] != c)
			return (long)i;
	return -1;
}

/*
 * An address that faults: the first page is never mapped.  Laundered
 * through a volatile so the compiler does not warn about passing it.
 */
static inline void *gc_bad_ptr(void)
{
	static void *volatile bad = (void *)8;

	return bad;
}
#define GC_BAD_PTR	gc_bad_ptr()

/* Raise RLIMIT_NOFILE to at least @n: 0, or -errno if not allowed. */
static inline int gc_raise_nofile(rlim_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur >= n)
		return 0;
	rl.rlim_cur = n;
	if (rl.rlim_max < n)
		rl.rlim_max = n;
	return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}

/*
 * fork() a helper that dies with the test process.  Returns the child's pid
 * in the parent and 0 in the child, as fork() does.
 */
static inline pid_t gc_fork(void)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(99);
	}
	return pid;
}

/* true while pid has not exited (it is not reaped). */
static inline bool gc_running(pid_t pid)
{
	siginfo_t si = { 0 };

	if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT))
		return false;
	return si.si_pid == 0;
}

/*
 * Reap pid within GC_WAIT_MS; returns its exit code (0..255), 128 + signal
 * if killed, or -ETIMEDOUT (it is then killed and reaped).
 */
static inline int gc_reap(pid_t pid)
{
	int64_t end = now_ns() + GC_WAIT_MS * 1000000LL;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0)
			return -errno;
		if (now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -ETIMEDOUT;
		}
		usleep(1000);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* Kill and reap a helper (cleanup after a failed check). */
static inline void gc_kill(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/*
 * A one-operation helper process: gc_spawn_op() forks a child that does one
 * send or receive on op->fd and records the outcome in op (which must be in
 * gc_shared() memory).
 */
enum gc_op_kind {
	GC_OP_SEND,	/* GOCHAN_IOC_SEND of op->val (elem_size <= 8) */
	GC_OP_RECV,	/* GOCHAN_IOC_RECV into op->val */
	GC_OP_WRITE,	/* write(2) of op->len bytes from op->data */
	GC_OP_READ,	/* read(2) of op->len bytes into op->data */
};

struct gc_op {
	/* In */
	int fd;
	enum gc_op_kind kind;
	uint32_t flags;		/* GOCHAN_XFER_* for SEND/RECV */
	size_t len;		/* READ/WRITE */
	void *ubuf;		/* if set, the user buffer to pass instead */
	/* Out */
	volatile int done;	/* set after the call returned */
	long ret;		/* 0 / byte count, or -errno */
	uint32_t ok;		/* RECV's ok */
	uint64_t val;		/* SEND: value sent; RECV: value received */
	unsigned char data[4096];
};

static inline void gc_run_op(struct gc_op *op)
{
	switch (op->kind) {
	case GC_OP_SEND:
		op->ret = gc_send(op->fd, op->ubuf ?: &op->val, op->flags);
		break;
	case GC_OP_RECV:
		op->ret = gc_recv(op->fd, op->ubuf ?: &op->val, &op->ok,
				  op->flags);
		break;
	case GC_OP_WRITE:
		op->ret = gc_write(op->fd, op->ubuf ?: op->data, op->len);
		break;
	case GC_OP_READ:
		op->ret = gc_read(op->fd, op->ubuf ?: op->data, op->len);
		break;
	}
	__atomic_store_n(&op->done, 1, __ATOMIC_RELEASE);
}

static inline pid_t gc_spawn_op(struct gc_op *op)
{
	pid_t pid = gc_fork();

	if (pid == 0) {
		gc_run_op(op);
		_exit(0);
	}
	return pid;
}

/* Allocate n zeroed ops in shared memory. */
static inline struct gc_op *gc_ops(size_t n)
{
	return gc_shared(n * sizeof(struct gc_op));
}

/* Read a module parameter from /sys/module/gochan/parameters/<name> (a
 * number, or a bool: Y is 1, N is 0). */
static inline int gc_param(const char *name, unsigned long long *val)
{
	char path[320], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/gochan/parameters/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*val = buf[0] == 'Y' ? 1 : buf[0] == 'N' ? 0 : strtoull(buf, NULL, 0);
	return 0;
}

/*
 * A poll racing the change that makes its fd readable: gc_poll_race() runs
 * rounds for @ms milliseconds in which one thread poll(2)s @pfd for POLLIN
 * while another, released at the same instant, sends one element on the
 * channel @sfd; then the element is taken back out through @rfd (and, with
 * @set_sel, the select set @pfd is selected on to take it).  Both sides
 * store, then load: the poller its wait queue entry, then the state; the
 * sender the state, then whether anyone is queued.  Without a full barrier
 * on each side between the two, both loads can miss the other's store and
 * the poll sleeps through the send.  poll(2) then wakes at its timeout
 * (GC_RACE_SLOW_MS + 1 s) and looks again, so a lost wakeup is a poll that
 * took GC_RACE_SLOW_MS or more; a poll merely slow to be scheduled (a guest
 * on a loaded host: one took over 1 s in 474 with the bound at 1 s) takes
 * less.  Returns the number of such polls (or -errno), *rounds the rounds
 * run.
 */
#define GC_RACE_SLOW_MS		5000

/* How long a race test runs: @dflt ms, or $GOCHAN_RACE_MS for a long run
 * (the tests allow up to 600 s). */
static inline int gc_race_ms(int dflt)
{
	const char *e = getenv("GOCHAN_RACE_MS");

	return e && atoi(e) > 0 ? atoi(e) : dflt;
}

struct gc_race {
	int pfd, sfd;
	volatile int go;		/* round number the sender may start */
	volatile int sent;		/* rounds the sender has done */
	volatile int stop;
	int err;
};

static inline void *gc_race_sender(void *p)
{
	struct gc_race *r = p;
	uint64_t v = 1;

	for (int round = 1; ; round++) {
		while (__atomic_load_n(&r->go, __ATOMIC_ACQUIRE) < round &&
		       !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
			;
		if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
			return NULL;
		if (gc_send_u64(r->sfd, v, GOCHAN_XFER_NONBLOCK))
			r->err = -errno ?: -EIO;
		__atomic_store_n(&r->sent, round, __ATOMIC_RELEASE);
	}
}

static inline long gc_poll_race(int pfd, int sfd, int rfd, bool set_sel,
				int ms, long *rounds)
{
	struct gc_race r = { .pfd = pfd, .sfd = sfd };
	int64_t end = now_ns() + ms * 1000000LL;
	pthread_t t;
	long slow = 0;
	int round;

	*rounds = 0;
	if (pthread_create(&t, NULL, gc_race_sender, &r))
		return -EAGAIN;
	for (round = 1; now_ns() < end && !r.err; round++) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int64_t t0;
		uint64_t v;

		__atomic_store_n(&r.go, round, __ATOMIC_RELEASE);
		t0 = now_ns();
		if (poll(&p, 1, GC_RACE_SLOW_MS + 1000) != 1) {
			r.err = -EPROTO;	/* not even after its timeout */
			break;
		}
		if (now_ns() - t0 >= GC_RACE_SLOW_MS * 1000000LL)
			slow++;
		while (__atomic_load_n(&r.sent, __ATOMIC_ACQUIRE) < round)
			;
		if (set_sel) {
			struct gochan_select s = {
				.size = sizeof(s), .flags = GOCHAN_SELECT_NONBLOCK,
			};

			if (ioctl(pfd, GOCHAN_IOC_SELECT, &s))
				r.err = -errno;
		} else if (gc_recv_u64(rfd, &v, GOCHAN_XFER_NONBLOCK)) {
			r.err = -EIO;
		}
		(*rounds)++;
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	return r.err ? r.err : slow;
}

/*
 * userfaultfd(2), to hold a task in a page fault for as long as a test
 * likes, as a FUSE file or a lazily restored process would:
 *  - gc_uffd_open() makes one (-errno if not allowed here);
 *  - gc_uffd_page() maps @npages anonymous pages and registers them with
 *    @mode (UFFDIO_REGISTER_MODE_MISSING: the first touch of a page stalls;
 *    UFFDIO_REGISTER_MODE_WP: a write to a page gc_uffd_wp() protected
 *    stalls);
 *  - gc_uffd_wait() waits up to @ms for a fault and gives its address;
 *  - gc_uffd_zero() resolves a missing fault with a zero page,
 *    gc_uffd_wp() protects or (waking the faulting task) unprotects.
 */
static inline int gc_uffd_open(void)
{
	struct uffdio_api api = {
		.api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP,
	};
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static inline void *gc_uffd_page(int uffd, size_t npages, uint64_t mode)
{
	size_t len = npages * sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = len }, .mode = mode,
	};

	if (p == MAP_FAILED)
		return NULL;
	if (mode & UFFDIO_REGISTER_MODE_WP)
		memset(p, 0, len);	/* present: only writes will stall */
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		munmap(p, len);
		return NULL;
	}
	return p;
}

static inline int gc_uffd_wait(int uffd, uintptr_t *addr, int ms)
{
	struct pollfd p = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	if (read(uffd, &msg, sizeof(msg)) != sizeof(msg))
		return -errno;
	if (msg.event != UFFD_EVENT_PAGEFAULT)
		return -EPROTO;
	if (addr)
		*addr = msg.arg.pagefault.address;
	return 0;
}

static inline int gc_uffd_zero(int uffd, void *page)
{
	struct uffdio_zeropage z = {
		.range = { .start = (uintptr_t)page, .len = sysconf(_SC_PAGESIZE) },
	};

	return ioctl(uffd, UFFDIO_ZEROPAGE, &z) ? -errno : 0;
}

static inline int gc_uffd_wp(int uffd, void *page, bool protect)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)page, .len = sysconf(_SC_PAGESIZE) },
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) ? -errno : 0;
}

/*
 * Become uid/gid @id (no supplementary groups): in a single-threaded child
 * (the system calls themselves, which change the calling thread only: a
 * file may include this after <unistd.h> without _GNU_SOURCE).  0 or -1.
 */
static inline int gc_become(uid_t id)
{
	return setgroups(0, NULL) || syscall(SYS_setresgid, id, id, id) ||
	       syscall(SYS_setresuid, id, id, id) ? -1 : 0;
}

/* Write a module parameter (a decimal value); 0 or -errno. */
static inline int gc_param_write(const char *name, unsigned long long val)
{
	char path[320], buf[32];
	int fd, len, ret;

	snprintf(path, sizeof(path), "/sys/module/gochan/parameters/%s", name);
	len = snprintf(buf, sizeof(buf), "%llu", val);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write(fd, buf, len) == len ? 0 : -errno;
	close(fd);
	return ret;
}

/*
 * The stall points of a module built with GOCHAN_DEBUG=1 (kmod/debug.h):
 * gc_have_stalls() says whether the loaded module has them;
 * gc_stall_arm() makes the next task passing @point sleep @ms; and
 * gc_wait_stalled() waits until the count of stalled tasks passes @before
 * (read it with gc_stalled() before arming): one is held now.
 */
static inline bool gc_have_stalls(void)
{
	return access("/sys/module/gochan/parameters/stall_point", F_OK) == 0;
}

static inline int gc_stall_arm(int point, unsigned int ms)
{
	return gc_param_write("stall_ms", ms) ?: gc_param_write("stall_point", point);
}

static inline long long gc_stalled(void)
{
	unsigned long long v = 0;

	return gc_param("stalled", &v) ? -1 : (long long)v;
}

static inline int gc_wait_stalled(long long before)
{
	int64_t end = now_ns() + GC_WAIT_MS * 1000000LL;

	while (gc_stalled() <= before) {
		if (now_ns() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

/*
 * The kernel log from now on, for a test whose failure on a broken module is
 * a kernel report rather than a wrong result (a use-after-free that a list
 * check or a WARN_ON of the module catches): gc_kmsg_open() opens /dev/kmsg
 * at its end; gc_kmsg_bad() reads what was logged since and copies the first
 * record that reports a bug (the runner's patterns: BUG:, WARNING:, an oops,
 * list corruption) into @line, returning true, or returns false.
 */
static inline int gc_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline bool gc_kmsg_bad(int fd, char *line, size_t len)
{
	static const char *const bad[] = {
		"BUG:", "WARNING:", "Oops", "general protection",
		"list_add corruption", "list_del corruption", "kernel BUG at",
	};
	char rec[1024];
	ssize_t n;

	/* One record per read; EPIPE: some were overwritten, read on. */
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		const char *msg;

		if (n <= 0)
			continue;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (strstr(msg, bad[i])) {
				snprintf(line, len, "%.*s", (int)strcspn(msg, "\n"), msg);
				return true;
			}
		}
	}
	return false;
}

#endif /* GOCHAN_HELPERS_H */
