/* SPDX-License-Identifier: MIT */
/*
 * netpoll.c - the poller: goroutines wait on file descriptors through one io_uring.
 *
 * A goroutine that waits (go_poll, go_read, go_write) puts a struct pollop on its stack and
 * parks; go_park's unlock callback (on g0, once the goroutine is off its stack) submits the
 * SQE whose user_data is the pollop, so the completion cannot race the park. Completions are
 * reaped by whichever M polls: every M without work polls without blocking, and one M at a
 * time (_go_netpoll_blocked) blocks in io_uring_enter until a completion or the next timer.
 * A reaped pollop's goroutine is made runnable; it reads its result from the pollop.
 *
 * Locking: np.sq_lock serializes the submission queue (any M submits); np.cq_lock the
 * completion queue (the blocked M holds it while it sleeps; others only try it). liburing's
 * wait with a timeout does not touch the submission queue when the kernel has
 * IORING_FEAT_EXT_ARG (5.11), which init requires.
 *
 * user_data 0 marks CQEs nobody waits for (link timeouts), BREAK_DATA the break: a NOP that
 * wakes the M blocked in io_uring_enter when a timer comes due before it would wake. Only a
 * blocking poll consumes a break: a non-blocking one that reaps it while an M is (or is about
 * to be) blocked sends it again (Go's netpoll(0) leaves its break pending for this reason),
 * else the blocked M would sleep on with stale timers, or forever.
 *
 * Besides polls, reads and writes, the poller runs io_uring commands (IORING_OP_URING_CMD)
 * for lib/kchan: a kernel channel's send, receive or select queued inside the channel
 * (struct go_ucmd, lib/internal.h). The poller knows nothing of what they do; it keeps the
 * ones in flight on a list, np.cmds, because go_run's end must cancel them (the ring's
 * teardown does not end uring commands on 6.1). A detached command (_go_netpoll_ucmd_submit,
 * for a select over in-process and kernel channels) has no parked goroutine: its pollop is
 * on the heap, its submitter does not wait, and the reaper hands its result to a callback
 * and frees it.
 *
 * Without io_uring (disabled by sysctl or seccomp), timers still work (the blocked M sleeps
 * on a futex) and go_poll/go_read/go_write fall back to poll/read/write in a bracketed
 * system call, which costs a thread per waiting goroutine.
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define SQ_ENTRIES	1024
#define CQ_ENTRIES	65536
#define BREAK_DATA	1	/* the break NOP's user_data (pollops are aligned) */

enum pollop_kind { OP_POLL, OP_READ, OP_WRITE, OP_UCMD };

/*
 * struct pollop - one wait on the ring: on the waiting goroutine's stack (a detached
 * command's on the heap). Its submitter fills it before the SQE goes out; from then until
 * the reaper has written res and readied g (or called uc.done and freed it), only the
 * reaper writes it; go_run's end reads a command's uc through np.cmds, under np.cmd_lock.
 */
struct pollop {
	struct go_g *g;			/* the parked goroutine (not for a detached command:
					 * uc.done says whom to wake) */
	int res;			/* the CQE's res, written by the reaper */
	enum pollop_kind kind;
	int fd;
	short events;			/* OP_POLL */
	void *buf;			/* OP_READ, OP_WRITE */
	size_t len;
	int64_t deadline;		/* < 0: none; else a linked timeout (ts) ends the wait
					 * (OP_UCMD: the command has its own) */
	struct __kernel_timespec ts;
	struct go_ucmd uc;		/* OP_UCMD: the command (uc.done: detached) */
	struct pollop *cnext, *cprev;	/* np.cmds, under np.cmd_lock: commands in flight */
	uint32_t armed;			/* release-stored when submitted, acquired by the reaper:
					 * the CQE orders them, but not in ThreadSanitizer's eyes */
};

/* The poller. Locks: see the top; lib/internal.h gives their order. */
static struct {
	struct io_uring ring;	/* its SQ under sq_lock, its CQ under cq_lock */
	bool ok;		/* the ring works: set by _go_netpoll_init, then fixed */
	go_lock_t sq_lock;
	go_lock_t cq_lock;
	uint32_t waiters;	/* submitted pollops not yet reaped (atomic) */
	uint32_t break_pending;	/* a break NOP is in flight, not yet consumed (atomic) */
	uint32_t futex_word;	/* the fallback's sleep (atomic, a futex) */
	int64_t block_until;	/* when the blocked M wakes by itself (INT64_MAX: never);
				 * written by that M, read by timer starts (atomic) */
	go_lock_t cmd_lock;	/* guards cmds */
	struct pollop *cmds;	/* OP_UCMD pollops submitted and not yet reaped */
	pid_t owner;		/* the process that set the ring up (see _go_netpoll_init) */
} np;

uint32_t _go_netpoll_blocked;
int64_t _go_netpoll_last;

int _go_netpoll_init(void)
{
	struct io_uring_params p;

	np.waiters = 0;
	np.break_pending = 0;
	np.block_until = INT64_MAX;	/* nobody blocked yet: any timer start must break */
	if (np.ok && np.owner != getpid()) {
		/*
		 * A ring kept by an earlier go_run (it left orphan Ms behind) and inherited
		 * through fork: its mappings and fd are the parent's ring, whose completions
		 * carry the parent's pointers and whose reaping would steal the parent's (and
		 * the parent ours). Let go of our copy (the parent's ring lives on) and of the
		 * parent's pending commands, which are not ours to cancel.
		 */
		io_uring_queue_exit(&np.ring);
		np.ok = false;
		np.cmds = NULL;
		/* an orphan M of the parent's may have held them when it forked */
		np.sq_lock = np.cq_lock = np.cmd_lock = (go_lock_t){ 0 };
	}
	if (np.ok)
		return 0;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = CQ_ENTRIES;
	if (io_uring_queue_init_params(SQ_ENTRIES, &np.ring, &p) == 0) {
		if (p.features & IORING_FEAT_EXT_ARG) {
			np.ok = true;
			np.owner = getpid();
		} else {
			io_uring_queue_exit(&np.ring);
		}
	}
	return 0;
}

/* go_run's end: pending operations are cancelled with the ring. */
void _go_netpoll_fini(void)
{
	struct pollop *op;

	/* A queued command would write into an abandoned goroutine's stack (reused by the next
	 * go_run) when a partner completes it: cancel each (the ring's teardown does not, on
	 * 6.1). */
	_go_lock(&np.cmd_lock);
	while ((op = np.cmds)) {
		np.cmds = op->cnext;
		op->uc.cancel(op->uc.fd, op->uc.key);
		if (op->uc.done) {
			/* its CQE will not be reaped: retire it here (a goroutine it would
			 * wake is abandoned with the others) */
			op->uc.done(op->uc.done_arg, -ECANCELED);
			free(op);
		}
	}
	_go_unlock(&np.cmd_lock);
	if (np.ok) {
		io_uring_queue_exit(&np.ring);
		np.ok = false;
	}
}

bool _go_netpoll_waiters(void)
{
	return load_relaxed(&np.waiters) != 0;
}

/* np.sq_lock held. */
static struct io_uring_sqe *get_sqe_locked(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&np.ring);

	if (!sqe) {
		io_uring_submit(&np.ring);
		sqe = io_uring_get_sqe(&np.ring);
	}
	return sqe;
}

/* Submit a break NOP (break_pending is set by the caller). */
static void break_submit(void)
{
	struct io_uring_sqe *sqe;

	_go_lock(&np.sq_lock);
	sqe = get_sqe_locked();
	if (sqe) {
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, BREAK_DATA);
		io_uring_submit(&np.ring);
	}
	_go_unlock(&np.sq_lock);
}

void _go_netpoll_break(void)
{
	if (!np.ok) {
		store_release(&np.futex_word, 1u);
		_go_futex_wake(&np.futex_word, 1);
		return;
	}
	if (!cas(&np.break_pending, 0u, 1u))
		return;
	break_submit();
}

void _go_netpoll_wake_for(int64_t when)
{
	if (load_acquire(&_go_netpoll_blocked) && when < load_relaxed(&np.block_until))
		_go_netpoll_break();
}

static void cmd_unlink(struct pollop *op)
{
	_go_lock(&np.cmd_lock);
	if (op->cprev)
		op->cprev->cnext = op->cnext;
	else if (np.cmds == op)
		np.cmds = op->cnext;
	if (op->cnext)
		op->cnext->cprev = op->cprev;
	_go_unlock(&np.cmd_lock);
}

static void cmd_link(struct pollop *op)
{
	_go_lock(&np.cmd_lock);
	op->cprev = NULL;
	op->cnext = np.cmds;
	if (np.cmds)
		np.cmds->cprev = op;
	np.cmds = op;
	_go_unlock(&np.cmd_lock);
}

struct go_g *_go_netpoll(int64_t delay)
{
	struct io_uring_cqe *cqe;
	struct go_g *list = NULL;
	unsigned head, seen = 0;
	bool rebreak = false;

	if (!np.ok) {
		if (delay != 0) {
			_go_futex_wait(&np.futex_word, 0, delay);
			store_relaxed(&np.futex_word, 0u);
		}
		return NULL;
	}
	if (delay == 0) {
		if (!_go_trylock(&np.cq_lock))
			return NULL;
		GO_DEBUG_HOOK(netpoll_nowait);
	} else {
		_go_lock(&np.cq_lock);
	}
	if (delay != 0 && !io_uring_cq_ready(&np.ring)) {
		struct __kernel_timespec ts = { delay / 1000000000, delay % 1000000000 };

		store_relaxed(&np.block_until, delay < 0 ? INT64_MAX : _go_nanotime() + delay);
		io_uring_wait_cqe_timeout(&np.ring, &cqe, delay < 0 ? NULL : &ts);
		store_relaxed(&np.block_until, INT64_MAX);
	}
	io_uring_for_each_cqe(&np.ring, head, cqe) {
		uint64_t data = io_uring_cqe_get_data64(cqe);
		struct pollop *op = (struct pollop *)(uintptr_t)data;

		seen++;
		if (data == BREAK_DATA) {
			/* Ours if we were to block; else an M that is (or saw nobody blocked an
			 * instant ago and is about to be) waits for it: send it again. */
			if (delay == 0 && load_acquire(&_go_netpoll_blocked))
				rebreak = true;
			else
				store_release(&np.break_pending, 0u);
			continue;
		}
		if (!op)
			continue;	/* a link timeout */
		(void)load_acquire(&op->armed);
		op->res = cqe->res;
		fetch_add(&np.waiters, -1);
		if (op->kind == OP_UCMD)
			cmd_unlink(op);
		struct go_g *g = op->g;

		if (op->uc.done) {
			g = op->uc.done(op->uc.done_arg, op->res);
			free(op);
			if (!g)
				continue;
			if (g->is_thread) {	/* a plain thread's select: it sleeps on a futex */
				go_ready(g, 0);
				continue;
			}
		}
		_go_g_make_runnable(g);
		g->schedlink = list;
		list = g;
	}
	io_uring_cq_advance(&np.ring, seen);
	store_relaxed(&_go_netpoll_last, _go_nanotime());
	_go_unlock(&np.cq_lock);
	if (rebreak)
		break_submit();		/* break_pending stays set: it is this one */
	return list;
}

/* Submit op's SQE (and its link timeout): false if the ring has no room (op->res -EAGAIN). */
static bool pollop_submit(struct pollop *op)
{
	struct io_uring_sqe *sqe;

	_go_lock(&np.sq_lock);
	if (io_uring_sq_space_left(&np.ring) < 2)
		io_uring_submit(&np.ring);
	sqe = get_sqe_locked();
	if (!sqe) {
		_go_unlock(&np.sq_lock);
		op->res = -EAGAIN;
		return false;
	}
	switch (op->kind) {
	case OP_POLL:
		io_uring_prep_poll_add(sqe, op->fd, (unsigned)(unsigned short)op->events);
		break;
	case OP_READ:
		io_uring_prep_read(sqe, op->fd, op->buf, (unsigned)op->len, (uint64_t)-1);
		break;
	case OP_WRITE:
		io_uring_prep_write(sqe, op->fd, op->buf, (unsigned)op->len, (uint64_t)-1);
		break;
	case OP_UCMD:
		/* a deadline, if any, is the command's own: no link timeout */
		io_uring_prep_rw(IORING_OP_URING_CMD, sqe, op->uc.fd, NULL, 0, 0);
		sqe->cmd_op = op->uc.cmd_op;
		memcpy(sqe->cmd, op->uc.cmd, sizeof(op->uc.cmd));
		cmd_link(op);
		break;
	}
	io_uring_sqe_set_data(sqe, op);
	if (op->deadline >= 0 && op->kind != OP_UCMD) {
		sqe->flags |= IOSQE_IO_LINK;
		op->ts.tv_sec = op->deadline / 1000000000;
		op->ts.tv_nsec = op->deadline % 1000000000;
		sqe = get_sqe_locked();
		io_uring_prep_link_timeout(sqe, &op->ts, IORING_TIMEOUT_ABS);
		io_uring_sqe_set_data64(sqe, 0);
	}
	fetch_add(&np.waiters, 1);
	store_release(&op->armed, 1u);
	io_uring_submit(&np.ring);
	_go_unlock(&np.sq_lock);
	stat_inc(&_go_sched.stats.polls);
	return true;
}

/* go_park's unlock: the goroutine is off its stack; submit its operation. */
static bool pollop_arm(struct go_g *g, void *arg)
{
	struct pollop *op = arg;

	op->g = g;
	return pollop_submit(op);
}

static int pollop_wait(struct pollop *op, const char *reason)
{
	op->res = 0;
	go_park(pollop_arm, op, reason);
	return op->res;
}

GOCHAN_API int go_poll(int fd, short events, int64_t deadline_ns)
{
	struct pollop op = { .kind = OP_POLL, .fd = fd, .events = events,
			     .deadline = deadline_ns };
	struct pollfd pfd = { .fd = fd, .events = events };
	int r, timeout = -1;

	if (_go_curg && np.ok && (deadline_ns < 0 || deadline_ns > _go_nanotime())) {
		/* The switch saves and restores the goroutine's errno; io_uring_submit runs on
		 * the scheduler's stack. */
		r = pollop_wait(&op, "IO wait");
		return r == -ECANCELED ? -ETIMEDOUT : r;
	}
	/*
	 * Outside a goroutine, without io_uring, or past the deadline: poll(2), bracketed.
	 * errno only through _go_errno_*: the bracket may move us to another thread.
	 *
	 * A signal ends poll(2) with EINTR whatever SA_RESTART says, and the runtime's own
	 * SIGURG can land here: a stop or a stack scan that saw this goroutine running signals
	 * its thread just as it enters the call. Like Go's netpoll, wait on for the time left.
	 */
	int saved = _go_errno_get();
	bool bracketed = false;

	for (;;) {
		if (deadline_ns >= 0) {
			int64_t left = deadline_ns - _go_nanotime();

			timeout = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
		}
		if (timeout != 0 && !bracketed) {
			go_syscall_enter();
			bracketed = true;
		}
		r = poll(&pfd, 1, timeout);
		if (r >= 0 || _go_errno_get() != EINTR)
			break;
	}
	r = r < 0 ? -_go_errno_get() : r == 0 ? -ETIMEDOUT : pfd.revents;
	if (bracketed)
		go_syscall_exit();
	_go_errno_set(saved);
	return r;
}

static ssize_t pollop_rw(enum pollop_kind kind, int fd, void *buf, size_t len)
{
	struct pollop op = { .kind = kind, .fd = fd, .buf = buf, .deadline = -1 };
	ssize_t r;

	if (len > 0x7ffff000)
		len = 0x7ffff000;	/* what read(2) does too */
	op.len = len;
	if (_go_curg && np.ok)
		return pollop_wait(&op, kind == OP_READ ? "IO wait (read)" : "IO wait (write)");

	int saved = _go_errno_get();

	go_syscall_enter();
	r = kind == OP_READ ? read(fd, buf, len) : write(fd, buf, len);
	r = r < 0 ? -_go_errno_get() : r;
	go_syscall_exit();
	_go_errno_set(saved);
	return r;
}

GOCHAN_API ssize_t go_read(int fd, void *buf, size_t len)
{
	return pollop_rw(OP_READ, fd, buf, len);
}

GOCHAN_API ssize_t go_write(int fd, const void *buf, size_t len)
{
	return pollop_rw(OP_WRITE, fd, (void *)buf, len);
}

/* ---- io_uring commands (lib/kchan) --------------------------------------------------------- */

int _go_netpoll_ucmd_wait(const struct go_ucmd *uc, const char *reason)
{
	struct pollop op = { .kind = OP_UCMD, .uc = *uc };

	if (!np.ok)
		return -ENOSYS;
	op.uc.done = NULL;
	return pollop_wait(&op, reason);
}

int _go_netpoll_ucmd_submit(const struct go_ucmd *uc)
{
	struct pollop *op;

	if (!np.ok)
		return -ENOSYS;
	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	op->kind = OP_UCMD;
	op->uc = *uc;
	/* The kernel reads the command's argument while we submit: on return it may go; the
	 * command is queued, or completed and its CQE posted. */
	if (!pollop_submit(op)) {
		free(op);
		return -EAGAIN;
	}
	/*
	 * A goroutine's M goes looking for work once it parks, and blocks in the poller if
	 * nothing else is to be done: its completion is reaped. A thread that is no goroutine
	 * parks on its futex instead; with every P idle no M is in the poller and sysmon
	 * sleeps, so nobody would reap this completion. Start an M then, which blocks in the
	 * poller (findrunnable: a waiter and nothing to run). The look is a read-modify-write,
	 * which reads the flag's latest value: an M that read our waiter's count as 0 has not
	 * set it, and one that set it reads the count after (no fence: TSan has none).
	 */
	if (!_go_curg && !__atomic_fetch_or(&_go_netpoll_blocked, 0u, __ATOMIC_SEQ_CST))
		_go_wakep();
	return 0;
}
