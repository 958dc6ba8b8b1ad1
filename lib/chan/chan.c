/* SPDX-License-Identifier: MIT */
/*
 * lib/chan/chan.c - in-process channels: make, send, receive, close (Go's runtime/chan.go).
 *
 * A blocked goroutine queues a sudog that lives on its own stack and parks with go_park(),
 * whose unlock callback releases the channel lock only once the goroutine is off its stack:
 * a waker that then takes the lock may copy into the sudog's element and go_ready() it at
 * once. Values move directly between the two goroutines' stacks when one is waiting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gochan/gc.h>

#include "internal.h"

/* lib/gc's calls, weak so that lib/chan links without the collector (selftests/chan, its
 * pthread shim): a collected channel comes only from go_chan_new or go_chan_new_fd (lib/gc),
 * which bring them. */
#pragma weak go_wb_memmove
#pragma weak go_wb_memclr
#pragma weak _go_gc_chan_fd_close

/* ---- Small helpers ---------------------------------------------------------------------- */

uint32_t _go_chan_fastrand(void)
{
	static __thread uint64_t s;

	if (unlikely(s == 0)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = ((uint64_t)(uintptr_t)&s * 0x9e3779b97f4a7c15ull) ^ (uint64_t)ts.tv_nsec ^
		    ((uint64_t)ts.tv_sec << 32);
		if (s == 0)
			s = 1;
	}
	/* xorshift64* */
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return (uint32_t)((s * 0x2545f4914f6cdd1dull) >> 32);
}

/*
 * The write barrier of a scanned collected channel (CHAN_GC_SCAN). C has no compiler to put
 * it in, so every copy of an element in or out of such a channel is go_wb_memmove or
 * go_wb_memclr, which, while the collector marks, shade every word overwritten and every
 * word written, as Go's typedmemmove (bulkBarrierPreWrite) does:
 *   - a send into the ring stores into a collected object: Dijkstra's half, so that a value
 *     held only by the sender's stack (maybe already scanned) does not hide in a channel
 *     already scanned;
 *   - a receive out of the ring then clears the slot (Go's typedmemclr): the ring no longer
 *     keeps the value alive, and Yuasa's half shades it as it leaves the heap for a stack
 *     that may have been scanned already;
 *   - a direct hand-off (_go_chan_send_direct, _go_chan_recv_direct) writes into another
 *     goroutine's stack, the one write to a stack that the hybrid barrier's rule (a stack is
 *     scanned once, while its own goroutine is stopped) does not foresee: the value moves
 *     from a stack maybe not yet scanned (the sender's, which may drop it at once) to one
 *     maybe scanned (the receiver's). The stack slot needs no barrier for itself; the value
 *     moving must be shaded, as Go's sendDirect and recvDirect do (typeBitsBulkBarrier);
 *   - a receive's destination may be a field of a collected object as well as a local:
 *     the barrier is right for both (a harmless shade for the local).
 * A receive's zero value on a closed channel (_go_chan_zero) clears with the barrier too.
 * These run with the channel lock held: the barrier enters the runtime but never switches
 * goroutines (it may wait at its safe point for a stop-the-world to end, as a goroutine
 * stopped by the signal with the lock held would). Noscan channels are never scanned, so
 * their copies are plain.
 */
void _go_chan_copy(struct go_chan *c, void *dst, const void *src)
{
	if (!dst || !src)
		return;
	if (unlikely(c->gc == CHAN_GC_SCAN)) {
		if (c->elem_size)
			go_wb_memmove(dst, src, c->elem_size);
		return;
	}
	/*
	 * Constant sizes compile to plain moves: most elements are a word or two. Not tuned to
	 * the emulator's instruction clock (issue 19): on the host (AMD EPYC, gcc 12 -O2,
	 * glibc 2.36) a copy of 4, 8 or 16 bytes takes 2-3.5 ns this way and 6-11 ns as a
	 * memcpy of a variable size, a call into glibc's dispatcher; from 24 bytes on, the
	 * two are the same.
	 */
	switch (c->elem_size) {
	case 0:
		return;
	case 4:
		memcpy(dst, src, 4);
		return;
	case 8:
		memcpy(dst, src, 8);
		return;
	case 16:
		memcpy(dst, src, 16);
		return;
	default:
		memcpy(dst, src, c->elem_size);
	}
}

void _go_chan_zero(struct go_chan *c, void *dst)
{
	if (!c->elem_size || !dst)
		return;
	if (unlikely(c->gc == CHAN_GC_SCAN))
		go_wb_memclr(dst, c->elem_size);
	else
		memset(dst, 0, c->elem_size);
}

/* ---- Waking -------------------------------------------------------------------------------- */

void _go_chan_wake(struct sudog *sg)
{
	struct selwait *sw = sg->sw;

	if (!sw) {
		go_ready(sg->g, 1);
		return;
	}
	/* A select: it may not be off its stack yet if we are a lock-free waker; channel
	 * wakers always find parked == 1 (the select releases our lock only after setting it),
	 * but going through the same exchange keeps one rule for all. */
	struct go_g *g = sw->g;

	if (xchg(&sw->parked, 2) == 1)
		go_ready(g, 1);
}

/* The go_park unlock callback of plain sends and receives. */
static bool chan_park_unlock(struct go_g *g, void *arg)
{
	(void)g;
	_go_mutex_unlock(&((struct go_chan *)arg)->lock);
	return true;
}

/* ---- Make and free ----------------------------------------------------------------------- */

GOCHAN_API int go_chan_make(struct go_chan **chp, size_t elem_size, size_t cap)
{
	struct go_chan *c;
	size_t bytes;

	if (elem_size > GO_CHAN_ELEM_SIZE_MAX || __builtin_mul_overflow(elem_size, cap, &bytes) ||
	    bytes > SIZE_MAX / 2)
		return -EINVAL;
	c = calloc(1, sizeof(*c) + bytes);
	if (!c)
		return -ENOMEM;
	c->kind = CHAN_LOCAL;
	c->elem_size = elem_size;
	c->cap = cap;
	c->fd = -1;
	*chp = c;
	return 0;
}

GOCHAN_API void go_chan_free(struct go_chan *c)
{
	if (!c)
		return;
	if (c->gc != CHAN_GC_NONE) {
		/* collected: the collector frees it (gfree of a collected object would abort);
		 * a handle's owned fd is closed now (lib/gc/chanctx.c) */
		if (c->kind == CHAN_KERNEL)
			_go_gc_chan_fd_close(c);
		return;
	}
	/* Forbidden, and fatal later (a waiter's wake, or its select's timeout, would touch
	 * freed memory): say so now. Racy reads, as the caller owns c by now. */
	if (load_relaxed(&c->recvq.first) || load_relaxed(&c->sendq.first)) {
		fprintf(stderr, "gochan: fatal: go_chan_free(%p): goroutines are blocked %s it\n",
			(void *)c, c->recvq.first ? "receiving from" : "sending on");
		abort();
	}
	if (c->kind == CHAN_KERNEL && c->own_fd) {
		int saved = errno;

		close(c->fd);
		errno = saved;
	}
	free(c);
}

GOCHAN_API size_t go_chan_len(const struct go_chan *c)
{
	if (!c)
		return 0;
	if (c->kind == CHAN_KERNEL) {
		struct gochan_stat st;

		return gochan_stat(c->fd, &st) == 0 ? st.len : 0;
	}
	return load_relaxed(&c->qcount);
}

GOCHAN_API size_t go_chan_cap(const struct go_chan *c)
{
	return c ? c->cap : 0;
}

GOCHAN_API size_t go_chan_elem_size(const struct go_chan *c)
{
	return c ? c->elem_size : 0;
}

/* ---- Moving values --------------------------------------------------------------------------- */

void _go_chan_buf_put(struct go_chan *c, const void *elem)
{
	/* room in the ring, and (qcount < cap) nobody waiting to send */
	go_assert(c->qcount < c->cap && !c->sendq.first);
	_go_chan_copy(c, _go_chanbuf(c, c->sendx), elem);
	if (++c->sendx == c->cap)
		c->sendx = 0;
	store_relaxed(&c->qcount, load_relaxed(&c->qcount) + 1);
}

void _go_chan_buf_take(struct go_chan *c, void *elem)
{
	void *slot = _go_chanbuf(c, c->recvx);

	/* a value in the ring, and (qcount > 0) nobody waiting to receive */
	go_assert(c->qcount > 0 && !c->recvq.first);
	_go_chan_copy(c, elem, slot);
	if (c->gc == CHAN_GC_SCAN)
		go_wb_memclr(slot, c->elem_size);	/* (see _go_chan_copy) */
	if (++c->recvx == c->cap)
		c->recvx = 0;
	store_relaxed(&c->qcount, load_relaxed(&c->qcount) - 1);
}

/* A receiver sg was waiting (so the buffer is empty): hand it elem. */
void _go_chan_send_direct(struct go_chan *c, struct sudog *sg, const void *elem)
{
	go_assert(c->qcount == 0 && !sg->queued);
	_go_chan_copy(c, sg->elem, elem);
	sg->success = true;
}

/*
 * A sender sg was waiting. Unbuffered: take its value. Buffered (so the ring is full):
 * take the head of the ring and put the sender's value at its tail, the same slot since
 * the ring is full, so FIFO order holds.
 */
void _go_chan_recv_direct(struct go_chan *c, struct sudog *sg, void *elem)
{
	go_assert(c->qcount == c->cap && !sg->queued);
	if (c->cap == 0) {
		_go_chan_copy(c, elem, sg->elem);
	} else {
		void *slot = _go_chanbuf(c, c->recvx);

		_go_chan_copy(c, elem, slot);
		_go_chan_copy(c, slot, sg->elem);
		if (++c->recvx == c->cap)
			c->recvx = 0;
		c->sendx = c->recvx;
	}
	sg->success = true;
}

/* ---- Send and receive ------------------------------------------------------------------------- */

static void block_forever(const char *reason)
{
	for (;;)
		go_park(NULL, NULL, reason);
}

int _go_chan_send(struct go_chan *c, const void *elem, bool block)
{
	struct sudog *sg;

	/* Go's fast path: a non-blocking send on an open, full channel fails without the
	 * lock. (closed is read after "full": if it was open then, it was open while full.) */
	if (!block && !load_relaxed(&c->closed) &&
	    ((c->cap == 0 && !load_relaxed(&c->recvq.first)) ||
	     (c->cap > 0 && load_relaxed(&c->qcount) == c->cap)))
		return -EAGAIN;

	_go_mutex_lock(&c->lock);
	if (load_relaxed(&c->closed)) {
		_go_mutex_unlock(&c->lock);
		return -EPIPE;
	}
	sg = _go_waitq_dequeue(&c->recvq);
	if (sg) {
		_go_chan_send_direct(c, sg, elem);
		_go_mutex_unlock(&c->lock);
		_go_chan_wake(sg);
		return 0;
	}
	if (load_relaxed(&c->qcount) < c->cap) {
		_go_chan_buf_put(c, elem);
		_go_mutex_unlock(&c->lock);
		return 0;
	}
	if (!block) {
		_go_mutex_unlock(&c->lock);
		return -EAGAIN;
	}

	struct sudog me = {
		.g = go_self(), .c = c, .elem = (void *)elem, .case_index = 0,
	};

	_go_waitq_enqueue(&c->sendq, &me);
	go_park(chan_park_unlock, c, "chan send");
	return me.success ? 0 : -EPIPE;
}

int _go_chan_recv(struct go_chan *c, void *elem, bool *ok, bool block)
{
	struct sudog *sg;
	bool got;

	/* Go's fast path: non-blocking and empty and not closed: fail without the lock.
	 * emptiness first, then closed; if it is closed, empty must be checked again. */
	if (!block) {
		bool empty = c->cap == 0 ? !load_relaxed(&c->sendq.first)
					 : load_relaxed(&c->qcount) == 0;

		if (empty && !load_acquire(&c->closed))
			return -EAGAIN;
	}

	_go_mutex_lock(&c->lock);
	if (load_relaxed(&c->closed) && load_relaxed(&c->qcount) == 0) {
		_go_mutex_unlock(&c->lock);
		_go_chan_zero(c, elem);
		got = false;
		goto out;
	}
	sg = _go_waitq_dequeue(&c->sendq);
	if (sg) {
		_go_chan_recv_direct(c, sg, elem);
		_go_mutex_unlock(&c->lock);
		_go_chan_wake(sg);
		got = true;
		goto out;
	}
	if (load_relaxed(&c->qcount) > 0) {
		_go_chan_buf_take(c, elem);
		_go_mutex_unlock(&c->lock);
		got = true;
		goto out;
	}
	if (!block) {
		_go_mutex_unlock(&c->lock);
		return -EAGAIN;
	}

	struct sudog me = {
		.g = go_self(), .c = c, .elem = elem, .case_index = 0,
	};

	_go_waitq_enqueue(&c->recvq, &me);
	go_park(chan_park_unlock, c, "chan receive");
	got = me.success;
	if (!got)
		_go_chan_zero(c, elem);
out:
	if (ok)
		*ok = got;
	return 0;
}

GOCHAN_API int go_chan_send(struct go_chan *c, const void *elem)
{
	if (_go_chan_send_elem_bad(c, elem))
		return -EINVAL;
	if (!c)
		block_forever("chan send (nil chan)");
	if (c->kind == CHAN_KERNEL)
		return _go_kchan_send(c, elem, true, -1);
	return _go_chan_send(c, elem, true);
}

GOCHAN_API int go_chan_recv(struct go_chan *c, void *elem, bool *ok)
{
	if (!c)
		block_forever("chan receive (nil chan)");
	if (c->kind == CHAN_KERNEL)
		return _go_kchan_recv(c, elem, ok, true, -1);
	return _go_chan_recv(c, elem, ok, true);
}

GOCHAN_API int go_chan_try_send(struct go_chan *c, const void *elem)
{
	if (_go_chan_send_elem_bad(c, elem))
		return -EINVAL;
	if (!c)
		return -EAGAIN;
	if (c->kind == CHAN_KERNEL)
		return _go_kchan_send(c, elem, false, -1);
	return _go_chan_send(c, elem, false);
}

GOCHAN_API int go_chan_try_recv(struct go_chan *c, void *elem, bool *ok)
{
	if (!c)
		return -EAGAIN;
	if (c->kind == CHAN_KERNEL)
		return _go_kchan_recv(c, elem, ok, false, -1);
	return _go_chan_recv(c, elem, ok, false);
}

GOCHAN_API int go_chan_send_until(struct go_chan *c, const void *elem, int64_t deadline_ns)
{
	struct go_select_case cs = GO_SEND_CASE(c, elem);
	int ret;

	if (_go_chan_send_elem_bad(c, elem))
		return -EINVAL;
	if (c && c->kind == CHAN_KERNEL)
		return _go_kchan_send(c, elem, true, deadline_ns);
	ret = _go_select(&cs, 1, true, deadline_ns);
	if (ret < 0)
		return ret;
	return cs.ok ? 0 : -EPIPE;
}

GOCHAN_API int go_chan_recv_until(struct go_chan *c, void *elem, bool *ok, int64_t deadline_ns)
{
	struct go_select_case cs = GO_RECV_CASE(c, elem);
	int ret;

	if (c && c->kind == CHAN_KERNEL)
		return _go_kchan_recv(c, elem, ok, true, deadline_ns);
	ret = _go_select(&cs, 1, true, deadline_ns);
	if (ret < 0)
		return ret;
	if (ok)
		*ok = cs.ok;
	return 0;
}

/* ---- Close -------------------------------------------------------------------------------- */

GOCHAN_API int go_chan_close(struct go_chan *c)
{
	struct sudog *list = NULL, *sg;

	if (!c)
		return -EINVAL;
	if (c->kind == CHAN_KERNEL)
		return gochan_close(c->fd);

	_go_mutex_lock(&c->lock);
	if (load_relaxed(&c->closed)) {
		_go_mutex_unlock(&c->lock);
		return -EPIPE;
	}
	store_release(&c->closed, 1);
	/* Collect every waiter, then wake them all after unlocking (Go's glist). */
	while ((sg = _go_waitq_dequeue(&c->recvq))) {
		_go_chan_zero(c, sg->elem);
		sg->success = false;
		sg->next = list;
		list = sg;
	}
	while ((sg = _go_waitq_dequeue(&c->sendq))) {
		sg->success = false;
		sg->next = list;
		list = sg;
	}
	_go_mutex_unlock(&c->lock);
	while ((sg = list)) {
		list = sg->next;          /* before the wake: sg may vanish after it */
		_go_chan_wake(sg);
	}
	return 0;
}
