// SPDX-License-Identifier: GPL-2.0
/*
 * Description: poll(2) and epoll(7) on channels, per the header:
 *   EPOLLIN|EPOLLRDNORM   an element buffered, a sender waiting, or closed;
 *   EPOLLOUT|EPOLLWRNORM  space in the ring, a receiver waiting, or closed;
 *   EPOLLHUP              closed.
 * Level-triggered epoll reports a state for as long as it holds; every
 * change that can set a bit wakes the wait queue, so edge-triggered epoll
 * sees each transition (one event per change, a new one per new element).
 */
#include "helpers.h"

#include <poll.h>
#include <sys/epoll.h>

#define IN_BITS		(POLLIN | POLLRDNORM)
#define OUT_BITS	(POLLOUT | POLLWRNORM)
#define ALL_BITS	(IN_BITS | OUT_BITS | POLLHUP | POLLERR | POLLPRI)

FIXTURE(poll) {
	int dev;
	int ep;
	struct gc_op *ops;
};

FIXTURE_SETUP(poll)
{
	GC_SETUP_DEV(self->dev);
	self->ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, self->ep);
	self->ops = gc_ops(4);
	ASSERT_NE(NULL, self->ops);
}

FIXTURE_TEARDOWN(poll)
{
	close(self->ep);
	close(self->dev);
}

/* poll(2) revents for fd right now (timeout 0). */
static int revents(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLRDNORM |
				   POLLWRNORM | POLLPRI };

	if (poll(&p, 1, 0) < 0)
		return -errno;
	return p.revents;
}

/* epoll_wait with a timeout in ms; returns the event mask, 0 if none. */
static int ep_events(int ep, int timeout_ms)
{
	struct epoll_event ev[2];
	int n = epoll_wait(ep, ev, 2, timeout_ms);

	if (n < 0)
		return -errno;
	if (n > 1)
		return -E2BIG;
	return n ? (int)ev[0].events : 0;
}

static int ep_add(int ep, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return gc_err(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
}

TEST_F(poll, buffered_mask_follows_len)
{
	int fd = gc_make(self->dev, 8, 2);
	uint64_t v;

	ASSERT_LE(0, fd);
	/* Empty: a send would not block, a receive would. */
	EXPECT_EQ(OUT_BITS, revents(fd));
	/* Partly full: both would not block. */
	ASSERT_EQ(0, gc_send_u64(fd, 1, 0));
	EXPECT_EQ(IN_BITS | OUT_BITS, revents(fd));
	/* Full: only a receive would not block. */
	ASSERT_EQ(0, gc_send_u64(fd, 2, 0));
	EXPECT_EQ(IN_BITS, revents(fd));
	/* Draining turns the bits back. */
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(IN_BITS | OUT_BITS, revents(fd));
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(OUT_BITS, revents(fd));
	close(fd);
}

TEST_F(poll, unbuffered_idle_is_neither_readable_nor_writable)
{
	int fd = gc_make(self->dev, 8, 0);

	ASSERT_LE(0, fd);
	/* No partner waiting: both a send and a receive would block. */
	EXPECT_EQ(0, revents(fd));
	close(fd);
}

TEST_F(poll, unbuffered_pollout_when_a_receiver_waits)
{
	int fd = gc_make(self->dev, 8, 0);
	struct gc_op *op = &self->ops[0];
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_RECV;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	/* A receiver waits: a send would not block, so EPOLLOUT. */
	EXPECT_EQ(OUT_BITS, revents(fd));
	/* And indeed a non-blocking send succeeds. */
	ASSERT_EQ(0, gc_send_u64(fd, 3, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(3, op->val);
	/* The receiver is gone: back to neither. */
	EXPECT_EQ(0, revents(fd));
	close(fd);
}

TEST_F(poll, unbuffered_pollin_when_a_sender_waits)
{
	int fd = gc_make(self->dev, 8, 0);
	struct gc_op *op = &self->ops[0];
	uint64_t v;
	pid_t pid;

	ASSERT_LE(0, fd);
	op->fd = fd;
	op->kind = GC_OP_SEND;
	op->val = 4;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	/* A sender waits: a receive would not block, so EPOLLIN. */
	EXPECT_EQ(IN_BITS, revents(fd));
	ASSERT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(4, v);
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(0, revents(fd));
	close(fd);
}

TEST_F(poll, full_ring_with_blocked_sender_is_readable_not_writable)
{
	int fd = gc_make(self->dev, 8, 1);
	struct gc_op *op = &self->ops[0];
	uint64_t v;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_send_u64(fd, 1, 0));
	op->fd = fd;
	op->kind = GC_OP_SEND;
	op->val = 2;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	/* Full with a sender queued: readable, and a new send would
	 * block. */
	EXPECT_EQ(IN_BITS, revents(fd));
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	ASSERT_EQ(0, gc_reap(pid));
	/* The sender's element moved into the ring: still full. */
	EXPECT_EQ(IN_BITS, revents(fd));
	close(fd);
}

TEST_F(poll, closed_is_in_out_hup)
{
	static const uint32_t caps[] = { 0, 2 };

	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		int fd = gc_make(self->dev, 8, caps[i]);
		struct pollfd p;
		uint64_t v;

		ASSERT_LE(0, fd);
		if (caps[i]) {
			ASSERT_EQ(0, gc_send_u64(fd, 1, 0));
		}
		ASSERT_EQ(0, gc_close_chan(fd));
		/* Closed: receives and sends both finish at once (drain or
		 * EOF, EPIPE), and EPOLLHUP says closed. */
		EXPECT_EQ(IN_BITS | OUT_BITS | POLLHUP, revents(fd))
			TH_LOG("capacity %u", caps[i]);
		if (caps[i]) {
			ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
			/* Drained: still the same. */
			EXPECT_EQ(IN_BITS | OUT_BITS | POLLHUP, revents(fd));
		}
		/* POLLHUP is reported even when not asked for. */
		p = (struct pollfd){ .fd = fd, .events = 0 };
		EXPECT_EQ(1, poll(&p, 1, 0));
		EXPECT_EQ(POLLHUP, p.revents);
		close(fd);
	}
}

TEST_F(poll, poll_wakes_when_an_element_arrives)
{
	int fd = gc_make(self->dev, 8, 2);
	struct gc_op *op = &self->ops[0];
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		op->ret = poll(&p, 1, GC_WAIT_MS);
		op->ok = p.revents;
		_exit(0);
	}
	/* Once the child sleeps in poll(2)... */
	ASSERT_EQ(0, gc_wait_in_poll(pid));
	/* ...a send wakes it with POLLIN. */
	ASSERT_EQ(0, gc_send_u64(fd, 1, 0));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(1, op->ret);
	EXPECT_EQ(POLLIN, op->ok);
	close(fd);
}

TEST_F(poll, poll_wakes_on_close)
{
	int fd = gc_make(self->dev, 8, 0);
	struct gc_op *op = &self->ops[0];
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		op->ret = poll(&p, 1, GC_WAIT_MS);
		op->ok = p.revents;
		_exit(0);
	}
	ASSERT_EQ(0, gc_wait_in_poll(pid));
	/* A close wakes a poller waiting for input: EOF is input. */
	ASSERT_EQ(0, gc_close_chan(fd));
	ASSERT_EQ(0, gc_reap(pid));
	EXPECT_EQ(1, op->ret);
	EXPECT_EQ(POLLIN | POLLHUP, op->ok);
	close(fd);
}

TEST_F(poll, epoll_level_triggered_repeats_while_state_holds)
{
	int fd = gc_make(self->dev, 8, 2);
	uint64_t v;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ep_add(self->ep, fd, EPOLLIN));
	/* Nothing buffered: no event. */
	EXPECT_EQ(0, ep_events(self->ep, 0));
	ASSERT_EQ(0, gc_send_u64(fd, 1, 0));
	/* Level-triggered: EPOLLIN on every wait while an element is
	 * there. */
	EXPECT_EQ(EPOLLIN, ep_events(self->ep, 0));
	EXPECT_EQ(EPOLLIN, ep_events(self->ep, 0));
	EXPECT_EQ(EPOLLIN, ep_events(self->ep, 0));
	/* Drained: no more events. */
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(0, ep_events(self->ep, 0));
	close(fd);
}

TEST_F(poll, epoll_level_triggered_out_and_hup)
{
	int fd = gc_make(self->dev, 8, 1);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ep_add(self->ep, fd, EPOLLIN | EPOLLOUT));
	/* Empty: EPOLLOUT only, repeatedly. */
	EXPECT_EQ(EPOLLOUT, ep_events(self->ep, 0));
	EXPECT_EQ(EPOLLOUT, ep_events(self->ep, 0));
	/* Full: EPOLLIN only. */
	ASSERT_EQ(0, gc_send_u64(fd, 1, 0));
	EXPECT_EQ(EPOLLIN, ep_events(self->ep, 0));
	/* Closed: EPOLLIN | EPOLLOUT | EPOLLHUP. */
	ASSERT_EQ(0, gc_close_chan(fd));
	EXPECT_EQ(EPOLLIN | EPOLLOUT | EPOLLHUP, ep_events(self->ep, 0));
	EXPECT_EQ(EPOLLIN | EPOLLOUT | EPOLLHUP, ep_events(self->ep, 0));
	close(fd);
}

TEST_F(poll, epoll_edge_triggered_one_event_per_transition)
{
	int fd = gc_make(self->dev, 8, 4);
	uint64_t v;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ep_add(self->ep, fd, EPOLLIN | EPOLLET));
	EXPECT_EQ(0, ep_events(self->ep, 0));
	/* Empty -> one element: one EPOLLIN event... */
	ASSERT_EQ(0, gc_send_u64(fd, 1, 0));
	EXPECT_EQ(EPOLLIN, ep_events(self->ep, 0));
	/* ...and only one: nothing changed since. */
	EXPECT_EQ(0, ep_events(self->ep, 0));
	/* A new element arriving is a new event even though the first was
	 * not drained. */
	ASSERT_EQ(0, gc_send_u64(fd, 2, 0));
	EXPECT_EQ(EPOLLIN, ep_events(self->ep, 0));
	EXPECT_EQ(0, ep_events(self->ep, 0));
	/* Drain, then a new element: a new event. */
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(0, ep_events(self->ep, 0));
	ASSERT_EQ(0, gc_send_u64(fd, 3, 0));
	EXPECT_EQ(EPOLLIN, ep_events(self->ep, 0));
	EXPECT_EQ(0, ep_events(self->ep, 0));
	/* Close is a transition too: EPOLLIN | EPOLLHUP, once. */
	ASSERT_EQ(0, gc_close_chan(fd));
	EXPECT_EQ(EPOLLIN | EPOLLHUP, ep_events(self->ep, 0));
	EXPECT_EQ(0, ep_events(self->ep, 0));
	close(fd);
}

TEST_F(poll, epoll_edge_triggered_out_when_a_slot_frees)
{
	int fd = gc_make(self->dev, 8, 2);
	uint64_t v;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_send_u64(fd, 1, 0));
	ASSERT_EQ(0, gc_send_u64(fd, 2, 0));
	ASSERT_EQ(0, ep_add(self->ep, fd, EPOLLOUT | EPOLLET));
	/* Full: no EPOLLOUT. */
	EXPECT_EQ(0, ep_events(self->ep, 0));
	/* A receive frees a slot: one EPOLLOUT event. */
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(EPOLLOUT, ep_events(self->ep, 0));
	EXPECT_EQ(0, ep_events(self->ep, 0));
	/* Another slot freed: another event. */
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(EPOLLOUT, ep_events(self->ep, 0));
	EXPECT_EQ(0, ep_events(self->ep, 0));
	close(fd);
}

TEST_F(poll, epoll_edge_triggered_unbuffered_partner_arrival)
{
	int fd = gc_make(self->dev, 8, 0);
	struct gc_op *rx = &self->ops[0], *tx = &self->ops[1];
	uint64_t v;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ep_add(self->ep, fd, EPOLLIN | EPOLLOUT | EPOLLET));
	EXPECT_EQ(0, ep_events(self->ep, 0));
	/* A receiver arriving makes a send possible: EPOLLOUT event. */
	rx->fd = fd;
	rx->kind = GC_OP_RECV;
	pid = gc_spawn_op(rx);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	/*
	 * STAT counts the receiver as soon as it is queued, under the lock;
	 * its wakeup, which queues the edge-triggered event, comes after its
	 * unlock (and a loaded guest can hold it off for a while): wait for
	 * the event, then see that there is only one.
	 */
	EXPECT_EQ(EPOLLOUT, ep_events(self->ep, 5000));
	EXPECT_EQ(0, ep_events(self->ep, 0));
	ASSERT_EQ(0, gc_send_u64(fd, 1, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_reap(pid));
	/* A sender arriving makes a receive possible: EPOLLIN event. */
	tx->fd = fd;
	tx->kind = GC_OP_SEND;
	tx->val = 2;
	pid = gc_spawn_op(tx);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	EXPECT_EQ(EPOLLIN, ep_events(self->ep, 5000));	/* as above */
	EXPECT_EQ(0, ep_events(self->ep, 0));
	ASSERT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(2, v);
	ASSERT_EQ(0, gc_reap(pid));
	close(fd);
}

TEST_F(poll, epoll_wait_wakes_when_a_receiver_arrives)
{
	int fd = gc_make(self->dev, 8, 0);
	struct gc_op *res = &self->ops[0], *rx = &self->ops[1];
	pid_t waiter, receiver;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ep_add(self->ep, fd, EPOLLOUT | EPOLLET));
	waiter = gc_fork();
	ASSERT_LE(0, waiter);
	if (waiter == 0) {
		res->ret = ep_events(self->ep, GC_WAIT_MS);
		_exit(0);
	}
	/* Once a process sleeps in epoll_wait on an unbuffered channel... */
	ASSERT_EQ(0, gc_wait_in_epoll(waiter));
	rx->fd = fd;
	rx->kind = GC_OP_RECV;
	receiver = gc_spawn_op(rx);
	ASSERT_LT(0, receiver);
	/* ...a receiver arriving wakes it with EPOLLOUT. */
	ASSERT_EQ(0, gc_reap(waiter));
	EXPECT_EQ(EPOLLOUT, res->ret);
	ASSERT_EQ(0, gc_send_u64(fd, 5, 0));
	ASSERT_EQ(0, gc_reap(receiver));
	EXPECT_EQ(5, rx->val);
	close(fd);
}

TEST_F(poll, epoll_wait_wakes_on_close)
{
	int fd = gc_make(self->dev, 8, 2);
	struct gc_op *res = &self->ops[0];
	pid_t waiter;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ep_add(self->ep, fd, EPOLLIN | EPOLLET));
	waiter = gc_fork();
	ASSERT_LE(0, waiter);
	if (waiter == 0) {
		res->ret = ep_events(self->ep, GC_WAIT_MS);
		_exit(0);
	}
	ASSERT_EQ(0, gc_wait_in_epoll(waiter));
	/* A close wakes an edge-triggered EPOLLIN waiter with EPOLLHUP. */
	ASSERT_EQ(0, gc_close_chan(fd));
	ASSERT_EQ(0, gc_reap(waiter));
	EXPECT_EQ(EPOLLIN | EPOLLHUP, res->ret);
	close(fd);
}

/*
 * A poll that queues itself on a channel just as an element arrives must
 * not sleep through it (gc_poll_race(): the store-buffering pattern of
 * poll_wait() against a waker that skips the wakeup when nobody is
 * queued).  The window is a few instructions wide, so this can only try,
 * for a few seconds of rounds; under TCG's one host thread (make check's
 * guests) the vCPUs never reorder, so it guards the barriers on hardware.
 */
TEST_F_TIMEOUT(poll, poll_never_sleeps_through_an_element_racing_its_queueing, 600)
{
	int fd = gc_make(self->dev, 8, 1);
	long rounds = 0, slow;

	ASSERT_LE(0, fd);
	slow = gc_poll_race(fd, fd, fd, false, gc_race_ms(3000), &rounds);
	TH_LOG("%ld rounds, %ld lost wakeups", rounds, slow);
	EXPECT_EQ(0, slow);
	EXPECT_LT(0, rounds);
	close(fd);
}

TEST_HARNESS_MAIN
