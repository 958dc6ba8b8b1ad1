// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring: a ring per worker, made when first needed and sometimes torn
 * down under queued commands; IO_BUFS slots, each a buffer that an
 * operation in flight owns until its CQE: READ, WRITE and POLL_ADD on any
 * fd of the pool, and URING_CMD with the module's SEND, RECV, SELECT and
 * CANCEL commands or random ones, a quarter of them issued from io-wq
 * through a registered file.  Every CQE's result must be one the uapi
 * header allows, and a value a READ or a command received is checked like
 * any other from a shared channel.  Modelled channels never reach io_uring.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>

#include <liburing.h>
#include <linux/gochan.h>

#include "fuzz.h"

/* ---- io_uring ---------------------------------------------------------- */

static struct io_uring ring;
static bool have_ring;
#define IOBUF_SIZE	(64 * 1024 + 65536)	/* 64 KiB transfers, and commands */
static unsigned char *iobuf[IO_BUFS];
static bool iobusy[IO_BUFS];		/* iobuf[i] owned by an operation in flight */
static bool have_files;			/* the ring has IO_BUFS registered-file slots */
/*
 * An operation issued from io-wq: dups of the fds it names, kept until its
 * CQE.  [0] is its own fd's, so that a CANCEL reaches its command however
 * the pool's fd changed meanwhile; [1 + i] a SELECT command's case i's:
 * io-wq looks the cases' fds up when it issues the command, and they must
 * still name the channels they were picked for (-1: none).
 */
static int slot_dup[IO_BUFS][1 + 4] = { [0 ... IO_BUFS - 1] = { -1, -1, -1, -1, -1 } };

static void slot_dup_close(int slot)
{
	for (unsigned i = 0; i < ARRAY_SIZE(slot_dup[slot]); i++) {
		if (slot_dup[slot][i] >= 0) {
			close(slot_dup[slot][i]);
			tick();
		}
		slot_dup[slot][i] = -1;
	}
}

/* A dup of fd above the pool's numbers, kept for slot's operation. */
static int slot_dup_add(int slot, unsigned i, int fd)
{
	slot_dup[slot][i] = fcntl(fd, F_DUPFD_CLOEXEC, 256);
	tick();
	return slot_dup[slot][i];
}
static int inflight;

/*
 * A gochan io_uring command in flight (IORING_OP_URING_CMD with a real
 * cmd_op), for checking its CQE: a RECV's element, or a SELECT's receive
 * case's, lands in iobuf[slot] when the CQE is posted.
 */
#define CMD_CASES	4
_Static_assert(ARRAY_SIZE(slot_dup[0]) == 1 + CMD_CASES, "a dup per case");
#define CMD_BUF_OFF	4096			/* iobuf: cases, then elements, */
#define CMD_CASE_BUF	16384			/* room per select case */
#define CMD_ARG_OFF	(CMD_BUF_OFF + CMD_CASES * CMD_CASE_BUF)	/* then the struct */
struct iocmd {
	uint32_t cmd_op;			/* 0: a random command */
	int fd;					/* submitted on (for cancelling) */
	uint32_t es;				/* RECV: element size */
	bool rbuf_ours;				/* RECV: buf is in iobuf[slot] */
	uint32_t ncases;			/* SELECT */
	uint32_t case_es[CMD_CASES];
	bool case_recv[CMD_CASES];	/* a receive case (into iobuf) */
};
static struct iocmd iocmd[IO_BUFS];

static void cmd_cqe(int slot, int res);

static void reap(bool wait)
{
	struct io_uring_cqe *cqe;

	while (inflight) {
		struct __kernel_timespec ts = { 0, 20 * 1000000 };
		int ret = wait ? io_uring_wait_cqe_timeout(&ring, &cqe, &ts) :
				 io_uring_peek_cqe(&ring, &cqe);

		tick();
		if (ret)
			return;
		uint64_t ud = cqe->user_data;
		int res = cqe->res;

		io_uring_cqe_seen(&ring, cqe);
		if (ud >> 32 == 0xca11)
			continue;	/* a cancel's own completion */
		inflight--;
		int op = ud >> 16 & 0xff, slot = ud & 0xff;
		uint32_t es = ud >> 40;

		iobusy[slot] = false;
		slot_dup_close(slot);
		if (!(ud >> 39 & 1))
			continue;	/* not a channel: any result will do */
		switch (op) {
		case IORING_OP_READ:
			if (res < 0)
				ALLOW("uring READ", -res, EAGAIN, EINTR, EINVAL, EFAULT,
				      ECANCELED, EBADF);
			else if (es)
				for (int i = 0; i < res / (int)es; i++)
					got_shared(iobuf[slot] + (size_t)i * es, es, "uring READ");
			break;
		case IORING_OP_WRITE:
			if (res < 0)
				ALLOW("uring WRITE", -res, EAGAIN, EINTR, EINVAL, EFAULT,
				      ECANCELED, EPIPE, EBADF);
			break;
		case IORING_OP_POLL_ADD:
			if (res < 0)
				ALLOW("uring POLL_ADD", -res, ECANCELED, EINVAL, EBADF);
			break;
		case IORING_OP_URING_CMD:
			cmd_cqe(slot, res);
			break;
		}
	}
}

static void cmd_cancel_all(void);

/*
 * Whether the kernel cancels queued uring_cmds itself when their ring goes
 * (6.7+: cancelable commands, the module's IO_URING_F_CANCEL path).
 */
static bool kernel_cancels_cmds(void)
{
	static int v = -1;
	struct utsname u;
	int major = 0, minor = 0;

	if (v < 0) {
		v = !uname(&u) && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
		    (major > 6 || (major == 6 && minor >= 7));
	}
	return v;
}

/* Leave io_uring: requests still in flight are cancelled by the kernel, and
 * their buffers are left to them (a new ring gets new ones).  The module's
 * queued commands are cancelled first, unless @leave_cmds_to_kernel and the
 * kernel cancels them itself (6.7+): on 6.1 a ring being torn down waits
 * for them, and warns after five minutes. */
static void uring_teardown(bool leave_cmds_to_kernel)
{
	if (!leave_cmds_to_kernel || !kernel_cancels_cmds())
		cmd_cancel_all();
	io_uring_queue_exit(&ring);
	tick();
	have_ring = false;
	inflight = 0;
	memset(iobusy, 0, sizeof(iobusy));
	for (int i = 0; i < IO_BUFS; i++)
		slot_dup_close(i);
}

/*
 * Submit the one SQE just prepared.  It must not stay in the ring: the
 * kernel looks its fd up when it consumes it, and by then this worker may
 * have closed that fd and made a modelled channel on the same number, which
 * a stale WRITE would then feed behind the model's back: a model would see
 * a value it never sent (one failure of that shape, "SEND: STAT len 5 ...
 * model len 4" with every call on the channel right, is not yet explained).
 * A submission that leaves it there (io_uring_enter failed, e.g. -EAGAIN
 * when no request could be allocated) is retried after reaping; if the SQE
 * still stays, the ring goes, and the SQE with it.  Returns whether it was
 * submitted.
 */
static bool uring_submit_one(void)
{
	for (int tries = 0; tries < 3; tries++) {
		int ret = io_uring_submit(&ring);

		tick();
		if (ret < 0)
			ALLOW("io_uring_enter", -ret, EAGAIN, EBUSY, EINTR, EINVAL, EBADF);
		if (!io_uring_sq_ready(&ring))
			return ret > 0;
		reap(true);
	}
	uring_teardown(false);
	return false;
}

/* The CQE of a URING_CMD on a channel fd (see "io_uring commands" in the
 * uapi header for what each may end with). */
static void cmd_cqe(int slot, int res)
{
	const struct iocmd *ic = &iocmd[slot];
	unsigned char *b = iobuf[slot] + CMD_BUF_OFF;
	int err = res < 0 ? -res : 0;
	bool moved = false;

	switch (ic->cmd_op) {
	case GOCHAN_IOC_SEND:
		if (res > 0)
			fail("uring SEND command: res %d", res);
		ALLOW("uring SEND command", err, EPIPE, ECANCELED, EAGAIN, ETIMEDOUT,
		      EFAULT, EBADF, EINVAL, E2BIG, ENOMEM);
		moved = res == 0;
		break;
	case GOCHAN_IOC_RECV:
		if (res > 1)
			fail("uring RECV command: res %d", res);
		ALLOW("uring RECV command", err, ECANCELED, EAGAIN, ETIMEDOUT,
		      EFAULT, EBADF, EINVAL, E2BIG, ENOMEM);
		moved = res == 1;
		if (moved && ic->rbuf_ours)
			got_shared(b, ic->es, "uring RECV command");
		break;
	case GOCHAN_IOC_SELECT:
		if (res < 0) {
			ALLOW("uring SELECT command", err, ECANCELED, EAGAIN, ETIMEDOUT,
			      EFAULT, EBADF, EINVAL, E2BIG, EMSGSIZE, ENOMEM);
			break;
		}
		uint32_t i = res & GOCHAN_SELECT_RES_INDEX;

		if (i >= ic->ncases || (res & ~(GOCHAN_SELECT_RES_INDEX |
						GOCHAN_SELECT_RES_OK | GOCHAN_SELECT_RES_CLOSED)) ||
		    ((res & GOCHAN_SELECT_RES_OK) && (res & GOCHAN_SELECT_RES_CLOSED)))
			fail("uring SELECT command: res %#x of %u cases", res, ic->ncases);
		/* a receive that got a value, or a send not refused by close */
		moved = ic->case_recv[i] ? res & GOCHAN_SELECT_RES_OK :
					   !(res & GOCHAN_SELECT_RES_CLOSED);
		if ((res & GOCHAN_SELECT_RES_OK) && ic->case_recv[i])
			got_shared(b + i * CMD_CASE_BUF, ic->case_es[i], "uring SELECT command");
		break;
	case GOCHAN_IOC_CANCEL:
		/* ECANCELED: io_uring's own cancel reached it in io-wq first */
		ALLOW("uring CANCEL command", err, ENOENT, EINVAL, E2BIG,
		      EFAULT, EBADF, ECANCELED);
		return;
	default:
		/* A cmd_op the module does not know, or a random area: it must
		 * be refused, whatever the reason. */
		ALLOW("uring URING_CMD", err, EOPNOTSUPP, EINVAL, ENOTTY,
		      EFAULT, E2BIG, EBADF, EAGAIN, ECANCELED, EPIPE, ETIMEDOUT, ENOMEM);
		return;
	}
	if (moved)
		__atomic_add_fetch(&shm->cmd_moved, 1, __ATOMIC_RELAXED);
	else if (err == ECANCELED || err == ETIMEDOUT)
		__atomic_add_fetch(&shm->cmd_cancelled, 1, __ATOMIC_RELAXED);
}

/* Flags and a deadline for a command: most end by themselves (at once, or
 * within 20 ms); a few wait until cancelled. */
static uint32_t cmd_flags(__s64 *deadline, uint32_t nonblock, uint32_t dl_flag)
{
	uint32_t r = rn(20);

	*deadline = 0;
	if (r < 5)
		return nonblock;
	if (r < 17) {
		*deadline = now_ns() + (int64_t)rn(20000000);
		return dl_flag;
	}
	if (r == 17)
		return (uint32_t)rnd();
	return 0;
}

/*
 * A gochan command (SEND, RECV, SELECT, CANCEL) on channel e: its structs
 * in iobuf[slot] (or a bad pointer, or a bad struct), with key 0-3 so
 * that a CANCEL may find it.  The module reads the structs when io_uring
 * issues the command: within io_uring_enter(), or later from io-wq when
 * @async (IOSQE_ASYNC).  Received elements land later, in iobuf[slot].
 */
static void cmd_prep(struct io_uring_sqe *sqe, struct ent *e, int slot, bool async)
{
	static const uint32_t ops[] = { GOCHAN_IOC_SEND, GOCHAN_IOC_RECV, GOCHAN_IOC_SELECT,
					GOCHAN_IOC_CANCEL };
	struct iocmd *ic = &iocmd[slot];
	unsigned char *b = iobuf[slot] + CMD_BUF_OFF;
	struct gochan_uring_cmd uc = { .key = rn(4) };

	_Static_assert(CMD_ARG_OFF + sizeof(sbuf_mem) <= IOBUF_SIZE, "iobuf too small");
	struct sbuf sb;
	void *arg = NULL;

	memset(ic, 0, sizeof(*ic));
	ic->cmd_op = ops[rn(ARRAY_SIZE(ops))];
	ic->fd = e->fd;
	if (ic->cmd_op == GOCHAN_IOC_SEND || ic->cmd_op == GOCHAN_IOC_RECV) {
		struct gochan_xfer x = { .size = sizeof(x) };

		x.flags = cmd_flags(&x.deadline_ns, GOCHAN_XFER_NONBLOCK, GOCHAN_XFER_DEADLINE);
		x.buf = (uintptr_t)b;
		if (one_in(16)) {
			enum ptr_kind pk;

			x.buf = (uintptr_t)ptr(e->es, &pk);
			if (pk == P_GOOD || pk == P_RO || pk == P_EDGE)
				x.buf = (uintptr_t)hole;	/* scratch changes before the CQE */
		}
		ic->es = e->es;
		ic->rbuf_ours = x.buf == (uintptr_t)b;
		if (ic->cmd_op == GOCHAN_IOC_SEND && e->es)
			fill(b, e->es, new_tag());
		else if (e->es)
			memset(b, POISON_BYTE, e->es);	/* a CQE's value never written shows */
		if (one_in(30))
			x.reserved[rn(2)] = rnd();
		arg = sbuf_make(&sb, &x, sizeof(x), GOCHAN_XFER_SIZE_VER0);
	} else if (ic->cmd_op == GOCHAN_IOC_SELECT) {
		struct gochan_select_case *cs = (void *)iobuf[slot];
		struct gochan_select sel = { .size = sizeof(sel) };
		uint64_t tag = new_tag();
		uint32_t n = rn(CMD_CASES + 1);	/* 0: EINVAL for a command */

		memset(cs, 0, CMD_CASES * sizeof(*cs));
		for (uint32_t i = 0; i < n; i++) {
			struct ent *c = pick_chan(false);

			if (!c || c->es > CMD_CASE_BUF) {
				n = i;
				break;
			}
			cs[i].fd = c->fd;
			if (async) {
				if (slot_dup_add(slot, 1 + i, c->fd) < 0) {
					n = i;
					break;
				}
				cs[i].fd = slot_dup[slot][1 + i];
			}
			cs[i].op = one_in(40) ? rn(4) : 1 + rn(2);
			cs[i].buf = (uintptr_t)(b + i * CMD_CASE_BUF);
			ic->case_es[i] = c->es;
			if (cs[i].op == GOCHAN_OP_SEND)
				fill(b + i * CMD_CASE_BUF, c->es, tag);
			else
				memset(b + i * CMD_CASE_BUF, POISON_BYTE, c->es);
			ic->case_recv[i] = cs[i].op == GOCHAN_OP_RECV;
		}
		ic->ncases = n;
		sel.flags = cmd_flags(&sel.deadline_ns, GOCHAN_SELECT_NONBLOCK,
				      GOCHAN_SELECT_DEADLINE);
		sel.cases = (uintptr_t)cs;
		sel.ncases = n;
		sel.case_size = sizeof(*cs);
		if (one_in(30))
			sel.cases = (uintptr_t)hole;
		arg = sbuf_make(&sb, &sel, sizeof(sel), GOCHAN_SELECT_SIZE_VER0);
	} else {
		struct gochan_cancel cn = { .size = sizeof(cn) };

		if (one_in(2))
			cn.flags = GOCHAN_CANCEL_ALL;
		else
			cn.key = rn(4);
		if (one_in(20))
			cn.flags = rnd();
		arg = sbuf_make(&sb, &cn, sizeof(cn), GOCHAN_CANCEL_SIZE_VER0);
		if (!one_in(4))
			uc.key = 0;	/* a CANCEL's own key must be 0 */
	}
	if (async && arg == sbuf_mem) {
		/* Issued from io-wq after this call has returned, when
		 * sbuf_mem holds another call's struct: the copy in the slot
		 * stays the command's until its CQE. */
		memcpy(iobuf[slot] + CMD_ARG_OFF, sbuf_mem, sizeof(sbuf_mem));
		arg = iobuf[slot] + CMD_ARG_OFF;
	} else if (async && (arg == ro_struct ||
			     ((unsigned char *)arg >= edge && (unsigned char *)arg <= edge + PAGE))) {
		/* So are ro_struct and the edge page, by the next call that
		 * picks them. */
		arg = hole;
	}
	uc.arg = (uintptr_t)arg;
	if (one_in(30))
		uc.arg = rnd();
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = e->fd;
	sqe->off = ic->cmd_op;			/* cmd_op */
	memcpy(sqe->cmd, &uc, sizeof(uc));
}

/* Ask the module to end this worker's commands on every channel it has
 * some in flight on, so that a full set of slots drains (on 6.1,
 * IORING_OP_ASYNC_CANCEL cannot reach them). */
static void cmd_cancel_all(void)
{
	for (int i = 0; i < IO_BUFS; i++) {
		struct gochan_cancel cn = { .size = sizeof(cn), .flags = GOCHAN_CANCEL_ALL };
		int err;

		if (!iobusy[i] || !iocmd[i].cmd_op)
			continue;
		/* The fd may be closed or another file by now: any error
		 * but a crash (closing it cancelled the command already). */
		err = err_of(ioctl(iocmd[i].fd, GOCHAN_IOC_CANCEL, &cn));
		tick();
		w_note("CANCEL ALL on fd %d (slot %d): err %d", iocmd[i].fd, i, err);
		ALLOW("CANCEL", err, ENOENT, ENOTTY, EBADF, EINVAL);
	}
}

void op_uring(void)
{
	struct io_uring_sqe *sqe;
	struct ent *e = one_in(20) ? pick() : pick_chan(false);
	uint32_t es = e && e->kind == K_CHAN ? e->es : 8;
	int slot, op, ret;

	/* Modelled channels are never given to io_uring: an operation that
	 * completes later would move values behind the model's back. */
	if (!e || e->m)
		return;
	if (have_ring && inflight && one_in(100)) {
		/* A ring torn down under its queued commands: on 6.7+ the
		 * kernel cancels them through the module (IO_URING_F_CANCEL). */
		w_note("ring torn down with %d operations in flight", inflight);
		uring_teardown(true);
		return;
	}
	if (!have_ring) {
		struct io_uring_params p = { 0 };

		if (one_in(2))
			p.flags |= IORING_SETUP_SQE128;
		ret = io_uring_queue_init_params(16, &ring, &p);
		tick();
		if (ret == -EINVAL && (p.flags & IORING_SETUP_SQE128)) {
			memset(&p, 0, sizeof(p));
			ret = io_uring_queue_init_params(16, &ring, &p);
			tick();
		}
		if (ret)
			return;	/* io_uring off in this kernel */
		have_ring = true;
		/* A slot of registered files per iobuf, for the operations
		 * issued from io-wq (see below). */
		have_files = io_uring_register_files_sparse(&ring, IO_BUFS) == 0;
		tick();
		for (int i = 0; i < IO_BUFS; i++)
			iobuf[i] = malloc(IOBUF_SIZE);
	}
	if (inflight >= IO_BUFS - 1 || one_in(8)) {
		/* Cancel everything still parked and collect it. */
		cmd_cancel_all();
		sqe = io_uring_get_sqe(&ring);
		if (sqe) {
			io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
			sqe->user_data = 0xca11ull << 32;
			if (!uring_submit_one() && !have_ring)
				return;
		}
		reap(true);
		if (inflight >= IO_BUFS - 1)
			return;
	}
	for (slot = 0; slot < IO_BUFS && iobusy[slot]; slot++)
		;
	if (slot == IO_BUFS)
		return;
	sqe = io_uring_get_sqe(&ring);
	if (!sqe)
		return;
	/* Half are commands: the module's own asynchronous path. */
	op = (int[]){ IORING_OP_READ, IORING_OP_WRITE, IORING_OP_POLL_ADD,
		      IORING_OP_URING_CMD, IORING_OP_URING_CMD,
		      IORING_OP_URING_CMD }[rn(6)];
	uint32_t n = 1 + rn(4);
	size_t len = (size_t)n * es;
	/* A quarter go straight to io-wq: issued from a worker thread, without
	 * the ring's uring_lock, where a ring teardown can cancel a command
	 * while its submission is still under way.  io-wq looks a plain fd
	 * up when it issues the request, after this call has returned and
	 * perhaps closed that fd and made a modelled channel on its number
	 * (one run failed so: "read: received an element the model does not
	 * have"), and also after a ring teardown: these go through the slot's
	 * registered file, which holds the file they were meant for. */
	bool sqe_async = have_files && one_in(4);

	if (sqe_async) {
		if (slot_dup_add(slot, 0, e->fd) < 0 ||
		    io_uring_register_files_update(&ring, slot, &e->fd, 1) != 1) {
			slot_dup_close(slot);
			sqe_async = false;
		}
		tick();
	}

	if (len > 64 * 1024)
		len = es, n = 1;
	if (one_in(10))
		len += 1;
	iocmd[slot].cmd_op = 0;
	switch (op) {
	case IORING_OP_READ:
		io_uring_prep_read(sqe, e->fd, iobuf[slot], len, 0);
		break;
	case IORING_OP_WRITE:
		for (uint32_t i = 0; i < n && es; i++)
			fill(iobuf[slot] + (size_t)i * es, es, new_tag());
		io_uring_prep_write(sqe, e->fd, iobuf[slot], len, 0);
		break;
	case IORING_OP_POLL_ADD:
		io_uring_prep_poll_add(sqe, e->fd, POLLIN | POLLOUT);
		break;
	default:
		if (e->kind == K_CHAN && !one_in(4)) {
			cmd_prep(sqe, e, slot, sqe_async);
			if (sqe_async)
				iocmd[slot].fd = slot_dup[slot][0];	/* for CANCEL */
			break;
		}
		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = IORING_OP_URING_CMD;
		sqe->fd = e->fd;
		sqe->off = rn(4) ? rn(64) : (uint32_t)rnd();	/* cmd_op */
		for (int i = 0; i < 16; i++)
			((unsigned char *)sqe->cmd)[i] = one_in(2) ? 0 : rnd();
		if (one_in(4))
			sqe->addr = rnd();
		break;
	}
	sqe->user_data = (uint64_t)es << 40 | (uint64_t)(e->kind == K_CHAN) << 39 |
			 (uint64_t)op << 16 | slot;
	if (sqe_async) {
		sqe->fd = slot;
		sqe->flags |= IOSQE_ASYNC | IOSQE_FIXED_FILE;
	}
	if (uring_submit_one()) {
		inflight++;
		iobusy[slot] = true;
		w_note("uring op %d (cmd_op %#x%s) on fd %d, %zu bytes, slot %d", op,
		       iocmd[slot].cmd_op, sqe_async ? ", async" : "", e->fd, len, slot);
	} else {
		slot_dup_close(slot);
		w_note("uring op %d on fd %d: not submitted (ring %s)", op, e->fd,
		       have_ring ? "kept" : "torn down");
	}
	if (have_ring)
		reap(false);
}

/* At the end of a worker: cancel what is in flight, collect it, and leave
 * io_uring. */
void uring_end(void)
{
	struct io_uring_sqe *sqe;

	if (!have_ring)
		return;
	cmd_cancel_all();
	sqe = io_uring_get_sqe(&ring);

	if (sqe) {
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
		sqe->user_data = 0xca11ull << 32;
		io_uring_submit(&ring);
	}
	reap(true);
	io_uring_queue_exit(&ring);
}
