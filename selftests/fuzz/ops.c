// SPDX-License-Identifier: GPL-2.0
/*
 * The system-call operations, one op_*() each, which a worker picks at
 * random by weight (worker() in main.c): create, send and receive by ioctl
 * and by read / write, close, stat, select (on any fds, or on modelled
 * channels only; directly or through a select set), poll, epoll,
 * SCM_RIGHTS, dup(2), GOCHAN_IOC_DUP and close, named opens and unlinks,
 * random ioctl numbers, fdinfo and the name list, and children killed
 * while blocked.
 * Each checks its result against the errors the uapi header allows and, on
 * a modelled channel, against the model; a call that may block runs under
 * a timer that interrupts it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <linux/gochan.h>

#include "fuzz.h"
#include "../common/itimer.h"

/* ---- signals ----------------------------------------------------------- */

static volatile sig_atomic_t nsig;

void on_alarm(int sig)
{
	(void)sig;
	nsig++;
}

/* Around a call that may block: a timer interrupts it every 1-3 ms. */
static void timer_on(void)
{
	long every = 1000 + rn(2000);

	itimer_set(1000 + rn(2000), every);
}

/* ---- operations -------------------------------------------------------- */

void op_create(void)
{
	static const uint32_t es[] = { 0, 1, 8, 16, 33, 4096 };
	static const uint32_t caps[] = { 0, 1, 2, 8, 64 };
	struct gochan_create cr = { .size = sizeof(cr) };
	struct sbuf sb;
	void *arg;
	int fd, err;

	cr.elem_size = one_in(10) ? (uint32_t)rnd() : es[rn(ARRAY_SIZE(es))];
	cr.capacity = one_in(10) ? (uint32_t)rnd() >> rn(32) : caps[rn(ARRAY_SIZE(caps))];
	/* CLOEXEC, NONBLOCK, SEND, RECV, CLOSE_ON_LAST_SENDER: any mix. */
	cr.flags = one_in(10) ? (uint32_t)rnd() : rn(GOCHAN_CREATE_FLAGS + 1);
	if (one_in(16))
		cr.reserved[rn(3)] = rnd();
	arg = sbuf_make(&sb, &cr, sizeof(cr), GOCHAN_CREATE_SIZE_VER0);
	fd = ioctl(one_in(20) && npool ? pick()->fd : dev, GOCHAN_IOC_CREATE, arg);
	tick();
	err = err_of(fd);
	ALLOW("CREATE", err, EINVAL, E2BIG, ENOSPC, ENOMEM, EMFILE, ENFILE, EFAULT, ENOTTY);
	if (fd < 0)
		return;
	/* The direction: SEND or RECV alone limit it; neither or both, both. */
	uint32_t dir = cr.flags & (GOCHAN_CREATE_SEND | GOCHAN_CREATE_RECV);
	bool can_send = dir != GOCHAN_CREATE_RECV, can_recv = dir != GOCHAN_CREATE_SEND;
	bool autoclose = cr.flags & GOCHAN_CREATE_CLOSE_ON_LAST_SENDER;

	if (cr.flags & ~GOCHAN_CREATE_FLAGS)
		fail("CREATE with unknown flags %#x made fd %d", cr.flags, fd);
	if (autoclose && !can_send)
		fail("CREATE: CLOSE_ON_LAST_SENDER with RECV alone made fd %d", fd);
	{
		int fl = fcntl(fd, F_GETFL);

		tick();
		if (fl < 0 || (fl & O_ACCMODE) != (can_send && can_recv ? O_RDWR :
						   can_send ? O_WRONLY : O_RDONLY))
			fail("CREATE flags %#x: the fd's access mode is %#x", cr.flags,
			     fl < 0 ? fl : fl & O_ACCMODE);
	}
	if (cr.capacity > MODEL_CAP || cr.elem_size > 4096 || sb.ro || !sb.good) {
		/* Too large to model, or made by a struct we did not see
		 * written back: share-less but unmodelled. */
		struct ent e = { fd, K_CHAN, cr.elem_size, cr.capacity, can_send, can_recv,
				 NULL, 0 };
		struct gochan_stat st = { .size = sizeof(st) };

		if (ioctl(fd, GOCHAN_IOC_STAT, &st))
			fail("STAT of a new channel: %s", strerror(errno));
		tick();
		e.es = st.elem_size;
		e.cap = st.capacity;
		add_stat(e, &st);
		return;
	}
	struct model *m = calloc(1, sizeof(*m));

	m->es = cr.elem_size;
	m->cap = cr.capacity;
	m->autoclose = autoclose;
	m_note(m, "CREATE fd %d flags %#x", fd, cr.flags);
	/* the id written back must be the one STAT gives (add() checks) */
	add((struct ent){ fd, K_CHAN, cr.elem_size, cr.capacity, can_send, can_recv, m,
			  ((struct gochan_create *)arg)->id });
	m_check(&pool[npool - 1], "CREATE");
}

static uint32_t xfer_flags(__s64 *deadline)
{
	uint32_t r = rn(16);

	*deadline = 0;
	if (r < 10)
		return GOCHAN_XFER_NONBLOCK;
	if (r < 13) {
		*deadline = now_ns() + (one_in(3) ? -1000 : (int64_t)rn(2000000));
		return GOCHAN_XFER_DEADLINE;
	}
	if (r == 13)
		return (uint32_t)rnd();
	if (r == 14) {
		*deadline = rnd();
		return GOCHAN_XFER_DEADLINE | GOCHAN_XFER_NONBLOCK;
	}
	return 0;	/* blocking: the timer interrupts it */
}

/* GOCHAN_IOC_SEND / RECV on a random fd. */
void op_xfer(bool send)
{
	struct ent *e = one_in(30) ? pick() : pick_chan(!one_in(3));
	struct gochan_xfer x = { .size = sizeof(x) };
	uint32_t es = e && e->kind == K_CHAN ? e->es : 8;
	enum ptr_kind pk;
	struct sbuf sb;
	unsigned char *buf;
	uint64_t tag = 0;
	void *arg;
	int ret, err;

	if (!e || (send && m_full(e->m, 1)))
		return;
	x.flags = xfer_flags(&x.deadline_ns);
	if (one_in(20))
		x.reserved0 = 1;
	if (one_in(20))
		x.reserved[rn(2)] = rnd();
	buf = ptr(es, &pk);
	if (send && es && pk == P_GOOD) {
		tag = new_tag();
		fill(buf, es, tag);
	}
	if (send && es && pk == P_RO) {
		/* Readable: a good source, if it fits the page. */
		tag = new_tag();
		mprotect(ro, PAGE, PROT_READ | PROT_WRITE);
		fill(ro, es < PAGE ? es : PAGE, tag);
		mprotect(ro, PAGE, PROT_READ);
		if (es > PAGE)
			pk = P_EDGE;
	}
	x.buf = (uintptr_t)buf;
	arg = sbuf_make(&sb, &x, sizeof(x), GOCHAN_XFER_SIZE_VER0);
	if (!(x.flags & GOCHAN_XFER_NONBLOCK) || x.flags & ~GOCHAN_XFER_FLAGS)
		timer_on();
	ret = ioctl(e->fd, send ? GOCHAN_IOC_SEND : GOCHAN_IOC_RECV, arg);
	err = err_of(ret);
	itimer_off();
	tick();
	ALLOW(send ? "SEND" : "RECV", err, EAGAIN, ETIMEDOUT, EPIPE, EINTR, EFAULT,
	      EBADF, EINVAL, E2BIG, ENOTTY);
	if (e->kind != K_CHAN)
		return;
	if (!e->m) {
		if (!send && !err && sb.good && ((struct gochan_xfer *)arg)->ok == 1 &&
		    pk == P_GOOD)
			got_shared(buf, es, "RECV");
		return;
	}
	struct model *m = e->m;
	bool well = (sb.good || sb.ro) && !(x.flags & ~GOCHAN_XFER_FLAGS) &&
		    !x.reserved0 && !x.reserved[0] && !x.reserved[1];
	bool buf_ok = !es || pk == P_GOOD || (send && pk == P_RO);

	fail_model = m;

	if (send ? !e->can_send : !e->can_recv) {
		/* The fd's direction is checked first, whatever the struct. */
		if (err != EBADF)
			fail("%s on a %s-only fd: %s", send ? "SEND" : "RECV",
			     send ? "receive" : "send", err ? strerror(err) : "succeeded");
	} else if (!well) {
		if (!err)
			fail("%s with a bad struct succeeded: size %u valid %d good %d ro %d "
			     "bad %d at %s%+td, flags %#x reserved0 %u reserved %#llx %#llx "
			     "deadline %lld",
			     send ? "SEND" : "RECV", sb.size, sb.valid, sb.good, sb.ro, sb.bad,
			     sb.p == sbuf_mem ? "sbuf" : sb.p == ro_struct ? "ro_struct" :
			     (sb.p >= edge && sb.p <= edge + 2 * PAGE) ? "edge" : "other",
			     sb.p == sbuf_mem || sb.p == ro_struct ? (ptrdiff_t)0 :
			     (sb.p >= edge && sb.p <= edge + 2 * PAGE) ?
			     (ptrdiff_t)(sb.p - (edge + PAGE)) : (ptrdiff_t)(uintptr_t)sb.p,
			     x.flags, x.reserved0, (unsigned long long)x.reserved[0],
			     (unsigned long long)x.reserved[1], (long long)x.deadline_ns);
	} else if (send) {
		if (!buf_ok) {
			if (err != EFAULT && !(m->closed && err == EPIPE))
				fail("SEND from a bad buffer: %s", strerror(err));
		} else if (m->closed) {
			if (err != EPIPE)
				fail("SEND on a closed channel: %s", strerror(err));
		} else if (m_room(m) == 1) {
			/* SEND writes nothing back: a read-only struct is
			 * fine. */
			if (err)
				fail("SEND with room in the ring: %s", strerror(err));
			m_push(m, tag);
		} else if (m_room(m) < 0) {
			if (!err)
				m_push(m, tag);
			else if (err != EAGAIN && err != ETIMEDOUT && err != EINTR)
				fail("SEND, maybe room: %s", strerror(err));
		} else if (err != EAGAIN && err != ETIMEDOUT && err != EINTR) {
			fail("SEND on a full channel: %s", err ? strerror(err) : "succeeded");
		}
	} else {
		struct gochan_xfer *xo = arg;

		if (m->len && buf_ok && sb.ro) {
			/* ok cannot be written back: EFAULT, and the header
			 * says a faulting RECV takes nothing (m_check()
			 * below sees whether it did). */
			if (err != EFAULT)
				fail("RECV with a read-only struct: %s",
				     err ? strerror(err) : "succeeded");
		} else if (m->len && buf_ok) {
			if (err)
				fail("RECV with %u buffered: %s", m->len, strerror(err));
			if (xo->ok != 1)
				fail("RECV with %u buffered: ok = %u", m->len, xo->ok);
			m_take(m, buf, 1, "RECV");
		} else if (m->len) {
			/* Nothing taken: m_check() sees that it is all there. */
			if (err != EFAULT)
				fail("RECV into a bad buffer: %s", err ? strerror(err) : "succeeded");
		} else if (m->closed) {
			if (err && !((sb.ro || !buf_ok) && err == EFAULT))
				fail("RECV on a closed, drained channel: %s", strerror(err));
			if (!err && xo->ok != 0)
				fail("RECV on a closed, drained channel: ok = %u", xo->ok);
		} else if (err != EAGAIN && err != ETIMEDOUT && err != EINTR &&
			   !(err == EFAULT && (!buf_ok || sb.ro))) {
			fail("RECV on an empty channel: %s", err ? strerror(err) : "succeeded");
		}
	}
	m_note(m, "%s flags %#x pk %d struct %s: err %d ok %u", send ? "SEND" : "RECV",
	       x.flags, pk, sb.good ? "good" : sb.ro ? "ro" : "bad", err,
	       err ? 0 : ((struct gochan_xfer *)arg)->ok);
	m_check(e, send ? "SEND" : "RECV");
}

/* read(2) / write(2) of a random length. */
void op_rw(bool wr)
{
	struct ent *e = one_in(30) ? pick() : pick_chan(!one_in(3));
	uint32_t es, n;
	size_t len, room;
	enum ptr_kind pk;
	unsigned char *buf;
	uint64_t tags[MQ + 8];
	bool blocking;
	long ret;
	int err, fl;

	if (!e)
		return;
	es = e->kind == K_CHAN ? e->es : 8;
	n = rn(e->m ? 10 : 40);
	len = (size_t)n * es;
	if (es && (size_t)n * es > SCRATCH / 2)
		n = SCRATCH / 2 / es, len = (size_t)n * es;
	if (one_in(10) && es != 1)
		len += 1 + rn(es ? es - 1 : 7);		/* not whole elements */
	if (one_in(50) && !e->m && !wr)	/* a write sends only values we made */
		len = rnd() >> rn(64);
	if (wr && m_full(e->m, n + 1))
		return;
	buf = ptr(len, &pk);
	if (len > SCRATCH && pk == P_GOOD)
		len = (size_t)n * es;
	if (wr && pk == P_RO && es) {
		/* Readable: a good source for the elements in its page (a
		 * PROT_NONE page follows: a write stops there). */
		mprotect(ro, PAGE, PROT_READ | PROT_WRITE);
		for (uint32_t i = 0; i < n && i < ARRAY_SIZE(tags) &&
				     (size_t)(i + 1) * es <= PAGE; i++) {
			tags[i] = new_tag();
			fill(ro + (size_t)i * es, es, tags[i]);
		}
		mprotect(ro, PAGE, PROT_READ);
	}
	/* the bytes of buf that are there: at the edge or in the read-only
	 * page, fewer than len */
	room = pk == P_EDGE ? (size_t)(edge + PAGE - buf) :
	       pk == P_RO && len > PAGE ? PAGE : len;
	if (wr && (pk == P_GOOD || pk == P_EDGE) && es) {
		for (uint32_t i = 0; i < n && i < ARRAY_SIZE(tags); i++) {
			unsigned char tmp[GOCHAN_ELEM_SIZE_MAX];

			tags[i] = new_tag();
			fill(tmp, es, tags[i]);
			if ((size_t)i * es < room)
				memcpy(buf + (size_t)i * es, tmp,
				       room - (size_t)i * es < es ? room - (size_t)i * es : es);
		}
	}
	if (!wr && !e->m && (pk == P_GOOD || pk == P_EDGE))
		memset(buf, POISON_BYTE, room);
	fl = fcntl(e->fd, F_GETFL);
	tick();
	blocking = fl >= 0 && !(fl & O_NONBLOCK);
	if (blocking)
		timer_on();
	ret = wr ? write(e->fd, buf, len) : read(e->fd, buf, len);
	err = err_of(ret);
	itimer_off();
	tick();
	if (e->kind == K_CHAN)
		ALLOW(wr ? "write" : "read", err, EAGAIN, EINTR, EINVAL, EFAULT, EBADF, EPIPE);
	if (e->m && (wr ? !e->can_send : !e->can_recv)) {
		/* The VFS checks the file's mode before anything else. */
		fail_model = e->m;
		if (err != EBADF)
			fail("%s of %zu bytes on a %s-only fd: %s", wr ? "write" : "read", len,
			     wr ? "receive" : "send", err ? strerror(err) : "succeeded");
		m_note(e->m, "%s %zu bytes, wrong direction: err %d", wr ? "write" : "read",
		       len, err);
		m_check(e, wr ? "write" : "read");
		return;
	}
	if (e->kind != K_CHAN || ret <= 0 || !es || len > SCRATCH) {
		if (e->m && ret > 0 && !es)
			fail("%s on a signal channel returned %ld", wr ? "write" : "read", ret);
		goto check;
	}
	if (ret % es || (size_t)ret > len)
		fail("%s returned %ld for %zu bytes of %u-byte elements",
		     wr ? "write" : "read", ret, len, es);
	/* A buffer that runs into a PROT_NONE page moves at most the whole
	 * elements before it (the bulk path copies up to the fault, as a pipe
	 * does; the read-only page is a good source for a write); any other
	 * bad buffer moves nothing. */
	if (pk == P_EDGE || (wr && pk == P_RO) ? (size_t)ret > room / es * es :
	    pk != P_GOOD)
		fail("%s with a bad buffer (%d, %zu bytes there) returned %ld",
		     wr ? "write" : "read", pk, room, ret);
	if (!e->m) {
		if (!wr && (pk == P_GOOD || pk == P_EDGE))
			for (long i = 0; i < ret / es; i++) {
				if (es >= 16 && !well_formed(buf + i * es, es, &(uint64_t){ 0 }))
					w_note("read of %zu bytes into %s+%#lx returned %ld: "
					       "element %ld is malformed", len,
					       pk == P_GOOD ? "scratch" : "edge",
					       (long)(buf - (pk == P_GOOD ? scratch : edge)), ret, i);
				got_shared(buf + i * es, es, "read");
			}
		return;
	}
	if (wr) {
		for (long i = 0; i < ret / es; i++)
			m_push(e->m, tags[i]);
	} else {
		m_take(e->m, buf, ret / es, "read");
	}
check:
	if (e->m && e->kind == K_CHAN) {
		struct model *m = e->m;
		bool whole = es && len % es == 0;

		fail_model = m;

		/* A read into a bad buffer takes only what it returns (the
		 * model's len, checked below, says nothing more went). */
		/* What must have happened, given the model. */
		if (!len) {
			/* 0 at once; a signal channel refuses any length. */
			if (ret && !(!es && err == EINVAL) && !(pk != P_GOOD && err == EFAULT))
				fail("%s of 0 bytes returned %ld (%s), elem_size %u",
				     wr ? "write" : "read", ret, strerror(err), es);
		} else if (!es || !whole) {
			if (err != EINVAL && !(err == EFAULT && pk != P_GOOD))
				fail("%s of %zu bytes, %u-byte elements: %s", wr ? "write" : "read",
				     len, es, err ? strerror(err) : "no EINVAL");
		} else if (!wr && ret == 0 && len && !(m->closed && !m->len)) {
			fail("read returned 0 with %u buffered, closed %d", m->len, m->closed);
		} else if (!wr && err == EAGAIN && (m->len || m->closed)) {
			fail("read: EAGAIN with %u buffered, closed %d", m->len, m->closed);
		} else if (wr && err == EPIPE && !m->closed) {
			fail("write: EPIPE on an open channel");
		}
		m_note(m, "%s %zu bytes pk %d %s: ret %ld err %d", wr ? "write" : "read", len, pk,
		       blocking ? "blocking" : "nonblocking", ret, err);
		m_check(e, wr ? "write" : "read");
	}
}

void op_close_chan(void)
{
	struct ent *e = one_in(20) ? pick() : pick_chan(!one_in(2));
	unsigned long arg = one_in(10) ? rnd() : 0;
	int err;

	if (!e || one_in(3))	/* closing is final: less often */
		return;
	err = err_of(ioctl(e->fd, GOCHAN_IOC_CLOSE, arg));
	tick();
	ALLOW("CLOSE", err, EPIPE, EINVAL, EBADF, ENOTTY);
	if (e->m && e->kind == K_CHAN) {
		fail_model = e->m;
		if (arg && err != EINVAL)
			fail("CLOSE with argument %#lx: %s", arg, strerror(err));
		if (!arg && !e->can_send && err != EBADF)
			fail("CLOSE on a receive-only fd: %s", err ? strerror(err) : "succeeded");
		if (!arg && e->can_send &&
		    (err ? err != EPIPE || !e->m->closed : e->m->closed))
			fail("CLOSE (closed before: %d): %s", e->m->closed,
			     err ? strerror(err) : "succeeded");
		if (!arg && e->can_send)
			e->m->closed = true;
		m_note(e->m, "CLOSE arg %#lx: err %d", arg, err);
		m_check(e, "CLOSE");
	}
}

void op_stat(void)
{
	struct ent *e = pick();
	struct gochan_stat st = { .size = sizeof(st) };
	struct sbuf sb;
	void *arg;
	int err;

	if (!e)
		return;
	if (one_in(10))
		st.flags = rnd();
	arg = sbuf_make(&sb, &st, sizeof(st), GOCHAN_STAT_SIZE_VER0);
	err = err_of(ioctl(e->fd, GOCHAN_IOC_STAT, arg));
	tick();
	ALLOW("STAT", err, EINVAL, E2BIG, EFAULT, ENOTTY);
	if (!err && e->kind == K_CHAN && sb.good) {
		struct gochan_stat *o = arg;

		if (o->id != e->id)
			fail("STAT: fd %d reaches channel %" PRIu64 ", not channel %" PRIu64
			     " it was made on", e->fd, (uint64_t)o->id, e->id);
		if (o->elem_size != e->es || o->capacity != e->cap || o->reserved0 ||
		    o->reserved1 || (sb.size >= sizeof(st) && (o->reserved[0] || o->reserved[1])))
			fail("STAT: elem_size %u capacity %u (want %u %u), reserved not 0",
			     o->elem_size, o->capacity, e->es, e->cap);
	}
}

/*
 * A select set (GOCHAN_IOC_SELSET) made on @fd from @n cases of @case_size
 * bytes at @cases (@wild: sometimes with bad flags or reserved fields): its
 * fd, or -errno (the errors of the cases, as GOCHAN_IOC_SELECT has them,
 * and running out of fds).
 */
static int make_selset(int fd, const void *cases, uint32_t n, uint32_t case_size,
		       bool wild)
{
	struct gochan_selset ss = {
		.size = sizeof(ss), .flags = GOCHAN_SELSET_CLOEXEC,
		.cases = (uintptr_t)cases, .ncases = n, .case_size = case_size,
	};
	int set;

	if (wild && one_in(40))
		ss.flags = rnd();
	if (wild && one_in(40))
		ss.reserved[rn(2)] = 1;
	set = ioctl(fd, GOCHAN_IOC_SELSET, &ss);
	tick();
	if (set < 0) {
		int err = err_of(set);

		ALLOW("SELSET", err, EBADF, EINVAL, E2BIG, EMSGSIZE, EFAULT, ENOMEM,
		      EMFILE, ENFILE, ENOTTY);
		return -err;
	}
	return set;
}

/* op_select()'s call in the worker's log: its cases' fds and ops. */
static void sel_wnote(const char *what, const struct gochan_select_case *cs, uint32_t n,
		      int err, uint32_t index)
{
	char fds[64] = "";
	size_t k = 0;

	for (uint32_t i = 0; i < n && i < 8 && k < sizeof(fds); i++)
		k += snprintf(fds + k, sizeof(fds) - k, " %d%c", cs[i].fd,
			      cs[i].op == GOCHAN_OP_SEND ? 's' :
			      cs[i].op == GOCHAN_OP_RECV ? 'r' : '?');
	w_note("%s, cases%s: err %d index %u", what, n ? fds : " (not ours)", err, index);
}

void op_select(void)
{
	static struct gochan_select_case cs[64];
	static struct ent *ce[64];
	struct gochan_select sel = { .size = sizeof(sel) };
	uint32_t n = rn(9), case_size = sizeof(cs[0]);
	struct sbuf sb;
	bool bad = false;
	int64_t dl = 0;
	void *arg, *cases = cs;
	int ret, err;

	if (one_in(30))
		n = rn(ARRAY_SIZE(cs));
	/* Exactly one case proceeds, so every send case can carry the same
	 * value (one tag, at the start of scratch's second half) and every
	 * receive case the same buffer (scratch's first half).  Modelled
	 * channels are left to op_select_model(): a model cannot follow a
	 * select that may pick one of them among bad cases. */
	uint64_t tag = new_tag();
	unsigned char *sendbuf = scratch + SCRATCH / 2, *recvbuf = scratch;

	uint32_t maxes = 0;

	memset(cs, 0, sizeof(cs));
	memset(ce, 0, sizeof(ce));
	for (uint32_t i = 0; i < n; i++) {
		struct ent *e = one_in(12) ? pick() : pick_chan(false);
		enum ptr_kind pk;

		if (e && e->m)
			e = NULL;
		ce[i] = e;
		cs[i].fd = e ? e->fd : -1;
		if (one_in(40))
			cs[i].fd = one_in(2) ? -1 : 1000 + (int)rn(10);
		cs[i].op = one_in(30) ? rn(5) : 1 + rn(2);
		if (e && e->kind == K_CHAN && e->es) {
			void *b = ptr(e->es, &pk);

			if (pk == P_GOOD)
				b = cs[i].op == GOCHAN_OP_SEND ? sendbuf : recvbuf;
			if (e->es > maxes)
				maxes = e->es;
			cs[i].buf = (uintptr_t)b;
		}
		if (one_in(60))
			cs[i].reserved = 1;
	}
	fill(sendbuf, maxes, tag);
	/* A read-only send buffer is a good source too: it must hold the
	 * same value (or fault, past its page). */
	mprotect(ro, PAGE, PROT_READ | PROT_WRITE);
	fill(ro, maxes < PAGE ? maxes : PAGE, tag);
	mprotect(ro, PAGE, PROT_READ);
	sel.flags = rn(3) ? GOCHAN_SELECT_NONBLOCK : GOCHAN_SELECT_DEADLINE;
	if (sel.flags & GOCHAN_SELECT_DEADLINE)
		dl = now_ns() + (int64_t)rn(3000000);
	if (one_in(20))
		sel.flags = rnd(), dl = rnd();
	sel.deadline_ns = dl;
	if (one_in(20)) {
		switch (rn(6)) {
		case 0: n = GOCHAN_SELECT_CASES_MAX + 1 + rn(1000); break;
		case 1: n = 0xffffffffu; break;
		case 2: case_size = rn(GOCHAN_SELECT_CASE_SIZE_VER0); break;
		case 3: case_size = 4097 + rn(100); break;
		case 4:
			/* Cases that run into the PROT_NONE page: the bytes
			 * before it are read as cases, so they must be ours
			 * (left as they were, another struct's bytes there
			 * read as a send case on a modelled channel's fd: an
			 * es-0 channel got a value its model never saw). */
			cases = edge + PAGE - 8 * (1 + rn(8));
			memcpy(cases, cs, edge + PAGE - (unsigned char *)cases);
			break;
		default: cases = hole; break;
		}
		bad = true;
	}
	if (one_in(30)) {
		/* Bigger cases: zero tails, sometimes not. */
		static unsigned char big[64 * 40];

		memset(big, 0, sizeof(big));
		case_size = 40;
		for (uint32_t i = 0; i < n && i < 64; i++)
			memcpy(big + i * 40, &cs[i], sizeof(cs[i]));
		if (n && one_in(3))
			big[rn(n < 64 ? n : 64) * 40 + 24 + rn(16)] = 1;
		if (n > 64)
			n = 64;
		cases = big;
	}
	sel.cases = (uintptr_t)cases;
	sel.ncases = n;
	sel.case_size = case_size;
	if (one_in(30))
		sel.reserved[rn(2)] = 1;
	(void)bad;
	arg = sbuf_make(&sb, &sel, sizeof(sel), GOCHAN_SELECT_SIZE_VER0);
	/* One in three through a select set made from the same cases: the
	 * set's select takes the struct without cases. */
	if (sb.good && one_in(3)) {
		int set = make_selset(one_in(3) ? dev : (npool ? pick()->fd : dev),
				      cases, n, case_size, true);
		struct gochan_select *so = arg;

		if (set < 0)
			return;
		so->cases = 0;
		so->ncases = 0;
		so->case_size = 0;
		if (!(sel.flags & GOCHAN_SELECT_NONBLOCK))
			timer_on();
		ret = ioctl(set, GOCHAN_IOC_SELECT, arg);
		err = err_of(ret);
		itimer_off();
		close(set);
		tick();
		sel_wnote("SELECT on a set", cs, cases == cs ? n : 0, err, so->index);
		ALLOW("SELECT on a set", err, EAGAIN, ETIMEDOUT, EPIPE, EINTR, EINVAL,
		      EFAULT, ENOMEM);
		if ((!err || err == EPIPE) && cases == cs) {
			if (so->index >= n)
				fail("SELECT on a set: index %u of %u cases", so->index, n);
			if (cs[so->index].fd == GOCHAN_NIL_FD)
				fail("SELECT on a set chose nil case %u", so->index);
			struct ent *e = ce[so->index];

			if (!err && e && e->kind == K_CHAN &&
			    cs[so->index].op == GOCHAN_OP_RECV && so->ok == 1 &&
			    cs[so->index].buf == (uintptr_t)recvbuf)
				got_shared(recvbuf, e->es, "SELECT on a set");
		}
		return;
	}
	if (!(sel.flags & GOCHAN_SELECT_NONBLOCK))
		timer_on();
	ret = ioctl(one_in(3) ? dev : (npool ? pick()->fd : dev), GOCHAN_IOC_SELECT, arg);
	err = err_of(ret);
	itimer_off();
	tick();
	sel_wnote("SELECT", cs, cases == cs && sb.good ? n : 0, err,
		  sb.good ? ((struct gochan_select *)arg)->index : 0);
	ALLOW("SELECT", err, EAGAIN, ETIMEDOUT, EPIPE, EINTR, EBADF, EINVAL, E2BIG,
	      EMSGSIZE, EFAULT, ENOMEM, ENOTTY);
	if ((!err || err == EPIPE) && sb.good && cases == cs) {
		struct gochan_select *so = arg;

		if (so->index >= n)
			fail("SELECT: index %u of %u cases", so->index, n);
		if (cs[so->index].fd == GOCHAN_NIL_FD)
			fail("SELECT chose nil case %u", so->index);
		struct ent *e = ce[so->index];

		if (!err && e && e->kind == K_CHAN && cs[so->index].op == GOCHAN_OP_RECV &&
		    so->ok == 1 && cs[so->index].buf == (uintptr_t)recvbuf)
			got_shared(recvbuf, e->es, "SELECT");
	}
}

/* op_select_model()'s call, in the history of every channel it named. */
static void sel_note(struct ent **ce, const struct gochan_select_case *cs, uint32_t n,
		     const struct gochan_select *sel, int err)
{
	for (uint32_t i = 0; i < n; i++)
		if (ce[i])
			m_note(ce[i]->m, "model SELECT, case %u of %u (%s): err %d index %u ok %u",
			       i, n, cs[i].op == GOCHAN_OP_SEND ? "send" : "recv", err,
			       sel->index, sel->ok);
}

/*
 * A select whose outcome the model can follow: cases over modelled
 * channels only, well formed, good buffers, non-blocking.  Some cases are
 * nil (GOCHAN_NIL_FD: never chosen, their buf never touched), and one
 * select in four may name an fd in the direction it cannot do, which
 * fails the whole select with EBADF, nothing moved.
 */
void op_select_model(void)
{
	struct gochan_select_case cs[6];
	struct ent *ce[6];
	uint64_t tags[6];
	struct gochan_select sel = { .size = sizeof(sel), .flags = GOCHAN_SELECT_NONBLOCK };
	uint32_t n = 1 + rn(6);
	bool ready = false, maybe = false, wrong_dir = false, allow_wrong = one_in(4);
	int err;

	memset(cs, 0, sizeof(cs));
	for (uint32_t i = 0; i < n; i++) {
		struct ent *e;
		bool send;

		if (one_in(6)) {
			ce[i] = NULL;
			cs[i].fd = GOCHAN_NIL_FD;
			cs[i].op = 1 + rn(2);
			cs[i].buf = one_in(2) ? (uintptr_t)hole : rnd();
			continue;
		}
		e = pick_chan(true);
		if (!e)
			return;
		ce[i] = e;
		cs[i].fd = e->fd;
		cs[i].op = 1 + rn(2);
		send = cs[i].op == GOCHAN_OP_SEND;
		if (!(send ? e->can_send : e->can_recv)) {
			if (allow_wrong) {
				wrong_dir = true;
			} else {
				/* The other op: every fd can do one. */
				send = !send;
				cs[i].op = send ? GOCHAN_OP_SEND : GOCHAN_OP_RECV;
			}
		}
		cs[i].buf = (uintptr_t)(scratch + i * 66000);
		if (send) {
			if (m_full(e->m, 1))
				return;
			tags[i] = new_tag();
			fill(scratch + i * 66000, e->es, tags[i]);
			ready |= m_room(e->m) == 1;
			maybe |= m_room(e->m) != 0;
		} else {
			ready |= e->m->len || e->m->closed;
		}
	}
	sel.cases = (uintptr_t)cs;
	sel.ncases = n;
	sel.case_size = sizeof(cs[0]);
	if (one_in(2)) {
		/* The same select through a select set made for it: the model
		 * holds it to the same outcome. */
		int set = make_selset(dev, cs, n, sizeof(cs[0]), false);

		if (set < 0) {
			if (set == -EMFILE || set == -ENFILE || set == -ENOMEM)
				return;
			if (!wrong_dir || set != -EBADF)
				fail("model SELSET%s: %s", wrong_dir ? ", a case of the wrong "
				     "direction" : "", strerror(-set));
			err = EBADF;
		} else {
			sel.cases = 0;
			sel.ncases = 0;
			sel.case_size = 0;
			err = err_of(ioctl(set, GOCHAN_IOC_SELECT, &sel));
			close(set);
		}
	} else {
		err = err_of(ioctl(dev, GOCHAN_IOC_SELECT, &sel));
	}
	tick();
	if (wrong_dir) {
		sel_note(ce, cs, n, &sel, err);
		if (err != EBADF)
			fail("model SELECT, a case of the wrong direction: %s",
			     err ? strerror(err) : "succeeded");
		for (uint32_t i = 0; i < n; i++)
			if (ce[i])
				m_check(ce[i], "SELECT of the wrong direction");
		return;
	}
	if (!ready && (!maybe || err == EAGAIN)) {
		sel_note(ce, cs, n, &sel, err);
		if (err != EAGAIN)
			fail("model SELECT, no case ready: %s", err ? strerror(err) : "succeeded");
		return;
	}
	if (err && err != EPIPE)
		fail("model SELECT, a case ready: %s", strerror(err));
	if (sel.index >= n)
		fail("model SELECT: index %u of %u", sel.index, n);
	if (!ce[sel.index])
		fail("model SELECT chose nil case %u", sel.index);
	struct model *m = ce[sel.index]->m;

	fail_model = m;
	if (cs[sel.index].op == GOCHAN_OP_SEND) {
		if (m->closed != (err == EPIPE))
			fail("model SELECT: send case, closed %d: %s", m->closed, strerror(err));
		if (!m->closed) {
			if (!m_room(m))
				fail("model SELECT chose a send on a full channel");
			m_push(m, tags[sel.index]);
		}
	} else {
		if (err)
			fail("model SELECT: recv case: %s", strerror(err));
		if (m->len) {
			if (sel.ok != 1)
				fail("model SELECT: recv with %u buffered: ok %u", m->len, sel.ok);
			m_take(m, scratch + sel.index * 66000, 1, "SELECT");
		} else if (!m->closed || sel.ok != 0) {
			fail("model SELECT: recv on an empty channel (closed %d, ok %u)",
			     m->closed, sel.ok);
		}
	}
	sel_note(ce, cs, n, &sel, err);
	m_check(ce[sel.index], "SELECT");
}

void op_poll(void)
{
	struct pollfd p[8];
	int n = 1 + rn(8), ret;

	for (int i = 0; i < n; i++) {
		struct ent *e = pick();

		p[i] = (struct pollfd){ e ? e->fd : -1, POLLIN | POLLOUT | POLLPRI, 0 };
	}
	ret = poll(p, n, 0);
	tick();
	if (ret < 0)
		ALLOW("poll", errno, EINTR, ENOMEM);
	for (int i = 0; i < n && ret >= 0; i++) {
		struct ent *e = NULL;

		for (int j = 0; j < npool; j++)
			if (pool[j].fd == p[i].fd)
				e = &pool[j];
		if (!e || !e->m)
			continue;
		struct model *m = e->m;
		/* An fd shows only its own direction's events. */
		short in = e->can_recv && (m->len || m->closed) ? POLLIN : 0;
		short out = e->can_send && m_room(m) == 1 ? POLLOUT : 0;
		short hup = m->closed ? POLLHUP : 0;
		short mask = POLLIN | POLLHUP | (e->can_send && m_room(m) < 0 ? 0 : POLLOUT);

		if ((p[i].revents & mask) != ((in | out | hup) & mask))
			fail("poll: revents %#x, model len %u cap %u closed %d, fd%s%s",
			     p[i].revents, m->len, m->cap, m->closed,
			     e->can_send ? " sends" : "", e->can_recv ? " receives" : "");
	}
}

static int ep = -1;

void op_epoll(void)
{
	struct epoll_event ev[8];
	struct ent *e = pick();
	int err;

	if (ep < 0) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		tick();
	}
	if (e && !one_in(3)) {
		struct epoll_event one = { .events = rnd() & (EPOLLIN | EPOLLOUT | EPOLLET |
							     EPOLLONESHOT | EPOLLHUP) };

		err = err_of(epoll_ctl(ep, 1 + rn(3), e->fd, &one));
		tick();
		ALLOW("epoll_ctl", err, EEXIST, ENOENT, EPERM, EINVAL, ENOMEM);
	}
	err = err_of(epoll_wait(ep, ev, 8, one_in(10)));
	tick();
	ALLOW("epoll_wait", err, EINTR);
}

/* SCM_RIGHTS: pass an fd through a socketpair to ourselves. */
static int sp[2] = { -1, -1 };

void op_scm(void)
{
	struct ent *e = pick();
	char cbuf[CMSG_SPACE(sizeof(int))];
	char b = 'x';
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd;

	if (!e || npool >= POOL_MAX)
		return;
	if (sp[0] < 0) {
		socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp);
		tick();
	}
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &e->fd, sizeof(int));
	if (sendmsg(sp[0], &mh, MSG_DONTWAIT) != 1)
		fail("sendmsg SCM_RIGHTS: %s", strerror(errno));
	tick();
	mh.msg_controllen = sizeof(cbuf);
	if (recvmsg(sp[1], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1)
		fail("recvmsg SCM_RIGHTS: %s", strerror(errno));
	tick();
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		fail("recvmsg: no SCM_RIGHTS");
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	struct ent n = *e;

	n.fd = fd;
	add(n);
}

/*
 * GOCHAN_IOC_DUP of e: a new file of a direction picked at random (or
 * random flags, fields and pointers).  It must give exactly the direction
 * asked for when e has it, and EBADF when it asks for more than e has.
 */
static void dup_ioctl(struct ent *e)
{
	struct gochan_dup d = { .size = sizeof(d) };
	uint32_t dir = rn(4);		/* 0: none, EINVAL */
	struct sbuf sb;
	void *arg;
	int fd, err;

	d.flags = one_in(16) ? (uint32_t)rnd() : dir | (rn(4) << 2);
	if (one_in(16))
		d.reserved[rn(2)] = rnd();
	arg = sbuf_make(&sb, &d, sizeof(d), GOCHAN_DUP_SIZE_VER0);
	fd = ioctl(e->fd, GOCHAN_IOC_DUP, arg);
	err = err_of(fd);
	tick();
	w_note("DUP of fd %d flags %#x: fd %d err %d", e->fd, d.flags, fd, err);
	ALLOW("DUP", err, EBADF, EINVAL, E2BIG, EFAULT, ENOTTY, EMFILE, ENFILE, ENOMEM);
	if (e->kind != K_CHAN) {
		if (fd >= 0)
			fail("DUP of fd %d, no channel, made fd %d", e->fd, fd);
		return;
	}
	bool send = d.flags & GOCHAN_DUP_SEND, recv = d.flags & GOCHAN_DUP_RECV;
	bool well = (sb.good || sb.ro) && !(d.flags & ~GOCHAN_DUP_FLAGS) &&
		    !d.reserved[0] && !d.reserved[1] && (send || recv);

	if (e->m)
		fail_model = e->m;
	if (well && ((send && !e->can_send) || (recv && !e->can_recv))) {
		if (err != EBADF)
			fail("DUP for more than fd %d can do (%s%s, asked %#x): %s", e->fd,
			     e->can_send ? "s" : "", e->can_recv ? "r" : "", d.flags,
			     err ? strerror(err) : "succeeded");
		return;
	}
	if (well && err && err != EMFILE && err != ENFILE && err != ENOMEM)
		fail("DUP of fd %d, flags %#x: %s", e->fd, d.flags, strerror(err));
	if (!well && !err)
		fail("DUP with a bad struct (size %u, flags %#x, reserved %#llx %#llx) "
		     "made fd %d", sb.size, d.flags, (unsigned long long)d.reserved[0],
		     (unsigned long long)d.reserved[1], fd);
	if (fd < 0)
		return;
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);

	tick();
	tick();
	if ((fl & O_ACCMODE) != (send && recv ? O_RDWR : send ? O_WRONLY : O_RDONLY) ||
	    !!(fl & O_NONBLOCK) != !!(d.flags & GOCHAN_DUP_NONBLOCK) ||
	    !!(fdfl & FD_CLOEXEC) != !!(d.flags & GOCHAN_DUP_CLOEXEC))
		fail("DUP flags %#x: F_GETFL %#x, F_GETFD %#x", d.flags, fl, fdfl);
	__atomic_add_fetch(&shm->dups, 1, __ATOMIC_RELAXED);
	struct ent n = *e;

	n.fd = fd;
	n.can_send = send;
	n.can_recv = recv;
	if (n.m)
		m_note(n.m, "DUP of fd %d: fd %d%s%s", e->fd, fd, send ? " sends" : "",
		       recv ? " receives" : "");
	add(n);
}

void op_dup_or_drop(void)
{
	struct ent *e = pick();

	if (!e)
		return;
	if (npool > 12 && (one_in(2) || npool >= POOL_MAX - 2)) {
		if (e->kind != K_DEV || e->fd != dev)
			drop(e);
		return;
	}
	if (one_in(2)) {
		dup_ioctl(e);
		return;
	}
	struct ent n = *e;

	n.fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 3);
	tick();
	if (n.fd >= 0)
		add(n);
}

static const char *const odd_names[] = { "", "a b", "\x01", "very-long-name-that-goes-on-"
	"and-on-and-on-past-sixty-four-bytes-of-name", "\xff\xfe", "/", "." };

static const char *name_of(char *buf)
{
	const char *const *odd = odd_names;

	if (one_in(10))
		return odd[rn(ARRAY_SIZE(odd_names))];
	sprintf(buf, "fz-%u", rn(8));
	return buf;
}

/* After the run: unlink every name op_named() may have made, through fd
 * (an open /dev/gochan; -1: none). */
void unlink_names(int fd)
{
	for (unsigned int i = 0; i < 8 + ARRAY_SIZE(odd_names) && fd >= 0; i++) {
		char name[16];
		struct gochan_unlink ul = { .size = sizeof(ul), .name = (uintptr_t)name };

		if (i < 8)
			snprintf(name, sizeof(name), "fz-%u", i);
		else
			ul.name = (uintptr_t)odd_names[i - 8];
		ioctl(fd, GOCHAN_IOC_UNLINK, &ul);
	}
}

void op_named(void)
{
	char nb[32];
	const char *name = name_of(nb);
	enum ptr_kind pk = P_GOOD;
	void *np = one_in(12) ? ptr(8, &pk) : (void *)name;
	struct sbuf sb;
	void *arg;
	int ret, err;

	/* Whatever the pointer, the kernel finds one of our names there or
	 * faults: a stray name would outlive the run and hold its ring
	 * against max_total_bytes. */
	if (np != name) {
		if (pk == P_GOOD) {
			strcpy(np, name);
		} else if (pk == P_RO) {
			mprotect(ro, PAGE, PROT_READ | PROT_WRITE);
			strcpy(np, name);
			mprotect(ro, PAGE, PROT_READ);
		} else if (pk == P_EDGE) {
			memset(np, 'x', edge + PAGE - (unsigned char *)np);
		}
	}

	if (one_in(4)) {
		struct gochan_unlink ul = { .size = sizeof(ul), .name = (uintptr_t)np };

		if (one_in(20))
			ul.flags = 1;
		arg = sbuf_make(&sb, &ul, sizeof(ul), GOCHAN_UNLINK_SIZE_VER0);
		err = err_of(ioctl(dev, GOCHAN_IOC_UNLINK, arg));
		tick();
		ALLOW("UNLINK", err, ENOENT, EPERM, EINVAL, ENAMETOOLONG, E2BIG, EFAULT);
		return;
	}
	struct gochan_open op = {
		.size = sizeof(op),
		.flags = one_in(10) ? (uint32_t)rnd() : rn(GOCHAN_OPEN_FLAGS + 1),
		.name = (uintptr_t)np,
		.mode = one_in(10) ? (uint32_t)rnd() : 0600,
		.elem_size = one_in(4) ? 24 : 16,
		.capacity = rn(3) * 4,
	};

	if (one_in(20))
		op.reserved0 = 1;
	arg = sbuf_make(&sb, &op, sizeof(op), GOCHAN_OPEN_SIZE_VER0);
	ret = ioctl(dev, GOCHAN_IOC_OPEN, arg);
	err = err_of(ret);
	tick();
	ALLOW("OPEN", err, ENOENT, EEXIST, EACCES, ENAMETOOLONG, EINVAL, E2BIG, EFAULT,
	      ENOSPC, ENOMEM, EMFILE, ENFILE, EPROTOTYPE);
	if (ret >= 0) {
		struct gochan_stat st = { .size = sizeof(st) };
		/* SEND or RECV alone limit the fd; neither or both, both. */
		uint32_t dir = op.flags & (GOCHAN_OPEN_SEND | GOCHAN_OPEN_RECV);

		if (ioctl(ret, GOCHAN_IOC_STAT, &st))
			fail("STAT of a named channel: %s", strerror(errno));
		tick();
		add_stat((struct ent){ ret, K_CHAN, st.elem_size, st.capacity,
				       dir != GOCHAN_OPEN_RECV, dir != GOCHAN_OPEN_SEND, NULL,
				       sb.good ? ((struct gochan_open *)arg)->id : 0 }, &st);
	}
}

/* Random ioctl numbers: every one the module does not know is ENOTTY or
 * EINVAL, never a crash. */
void op_bad_ioctl(void)
{
	struct ent *e = one_in(3) ? NULL : pick();
	static const unsigned long known[] = { GOCHAN_IOC_CREATE, GOCHAN_IOC_OPEN,
		GOCHAN_IOC_UNLINK, GOCHAN_IOC_SELECT, GOCHAN_IOC_SELSET, GOCHAN_IOC_SEND,
		GOCHAN_IOC_RECV, GOCHAN_IOC_CLOSE, GOCHAN_IOC_STAT, GOCHAN_IOC_CANCEL,
		GOCHAN_IOC_DUP };
	unsigned long cmd;
	enum ptr_kind pk;
	int err;

	switch (rn(3)) {
	case 0: cmd = _IOC(rn(4), GOCHAN_IOC_MAGIC, rn(32), rn(1 << 14)); break;
	case 1: cmd = known[rn(ARRAY_SIZE(known))] ^ (1ul << rn(32)); break;
	default: cmd = (uint32_t)rnd(); break;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(known); i++)
		if (cmd == known[i])
			return;
	if (e && e->kind == K_OTHER)
		return;
	err = err_of(ioctl(e ? e->fd : dev, cmd, ptr(64, &pk)));
	tick();
	w_note("bad ioctl %#lx on fd %d: err %d", cmd, e ? e->fd : dev, err);
	/* The module's own magic: a number it does not know is refused
	 * whole (not matched by _IOC_NR alone).  Other numbers may be the
	 * VFS's (FIOCLEX, FIONBIO ...): anything but a crash. */
	if (_IOC_TYPE(cmd) == GOCHAN_IOC_MAGIC) {
		if (!err)
			fail("unknown ioctl %#lx succeeded", cmd);
		ALLOW("unknown ioctl", err, ENOTTY, EINVAL);
	}
}

void op_proc(void)
{
	char path[64], b[4096];
	struct ent *e = pick();
	int fd;

	if (one_in(3)) {
		enum ptr_kind pk;
		size_t len = rn(3) ? sizeof(b) : rn(64);
		void *p = one_in(4) ? ptr(len, &pk) : b;
		long ret;

		fd = open(GOCHAN_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
		tick();
		if (fd < 0)
			fail("open %s: %s", GOCHAN_DEVICE_PATH, strerror(errno));
		while ((ret = read(fd, p, len)) > 0)
			tick();
		tick();
		if (ret < 0)
			ALLOW("read /dev/gochan", errno, EFAULT, EINVAL);
		close(fd);
		tick();
		return;
	}
	if (!e)
		return;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", e->fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	tick();
	if (fd < 0)
		return;
	while (read(fd, b, sizeof(b)) > 0)
		tick();
	close(fd);
	tick();
}

/* ---- fork and kill ------------------------------------------------------- */

/* A child that blocks on a shared channel, to be SIGKILLed there (or to
 * finish first). */
void op_fork(void)
{
	struct ent *e = pick_chan(false);
	pid_t pid;

	int hs[2];
	char c;

	if (!e || !e->es || e->es > 4096)
		return;
	/* The child holds only e's fd, and the parent goes on once the
	 * child closed the others: a modelled channel's files must stay the
	 * pool's alone (a CLOSE_ON_LAST_SENDER one closes with its last). */
	if (pipe2(hs, O_CLOEXEC))
		return;
	tick();
	w_note("fork: a child on fd %d", e->fd);
	pid = fork();
	tick();
	if (pid < 0) {
		close(hs[0]);
		close(hs[1]);
		return;
	}
	if (pid == 0) {
		unsigned char b[4096 * 2];
		struct gochan_xfer x = { .size = sizeof(x), .buf = (uintptr_t)b };
		int keep = e->fd;

		/* Every other fd, hs[1] too: the parent's go. */
		syscall(__NR_close_range, 3, keep - 1, 0);
		syscall(__NR_close_range, keep + 1, ~0u, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(2);	/* never outlive the run by much */
		if (one_in(2)) {
			fill(b, e->es, new_tag());
			if (ioctl(e->fd, GOCHAN_IOC_SEND, &x) == 0)
				_exit(0);
		} else {
			if (ioctl(e->fd, GOCHAN_IOC_RECV, &x) == 0 && x.ok)
				got_shared(b, e->es, "RECV in a child");
		}
		_exit(0);
	}
	close(hs[1]);
	while (read(hs[0], &c, 1) < 0 && errno == EINTR)
		;	/* EOF: the child closed everything but e's fd */
	close(hs[0]);
	tick();
	__atomic_add_fetch(&shm->forks, 1, __ATOMIC_RELAXED);
	if (one_in(4)) {
		/* Let it block first, sometimes. */
		struct timespec ts = { 0, 200000 };

		nanosleep(&ts, NULL);
	}
	if (!one_in(4)) {
		kill(pid, SIGKILL);
		__atomic_add_fetch(&shm->kills, 1, __ATOMIC_RELAXED);
	}
	tick();
	if (one_in(4)) {
		/* Reap later, in bulk: a killed child exits while we work. */
		return;
	}
	waitpid(pid, NULL, 0);
	tick();
}
