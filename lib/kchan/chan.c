/* SPDX-License-Identifier: MIT */
/*
 * lib/kchan/chan.c - the channel API over kernel channel fds (<gochan/kchan.h>).
 *
 * A blocking operation is the goroutine layer's go_kchan_send / go_kchan_recv (park.c: the
 * kernel's non-blocking form first, then the operation queued inside the kernel channel as
 * an io_uring command while the goroutine parks); a non-blocking one is the thin layer's
 * gochan_try_send / gochan_try_recv. This file adds what go_chan promises beyond them: a
 * receive may discard the value (elem NULL), and end-of-channel yields the zero value.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../chan/internal.h"

GOCHAN_API int go_chan_from_fd(struct go_chan **chp, int fd, unsigned flags)
{
	struct gochan_stat st;
	struct go_chan *c;
	int ret;

	if (flags & ~GO_CHAN_FD_OWN)
		return -EINVAL;
	ret = gochan_stat(fd, &st);
	if (ret < 0)
		return ret;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->kind = CHAN_KERNEL;
	c->elem_size = st.elem_size;
	c->cap = st.capacity;
	c->fd = fd;
	c->own_fd = flags & GO_CHAN_FD_OWN;
	*chp = c;
	return 0;
}

GOCHAN_API int go_chan_fd(const struct go_chan *c)
{
	if (!c || c->kind != CHAN_KERNEL)
		return -EINVAL;
	return c->fd >= 0 ? c->fd : -EBADF;	/* (a collected handle closed by go_chan_free) */
}

/* The kernel wants a buffer for every receive of a non-empty element: give a scratch one to
 * callers that discard the value (elem NULL). */
struct scratch {
	void *p;
	unsigned char small[256];
};

static void *scratch_get(struct scratch *s, struct go_chan *c, void *elem)
{
	s->p = NULL;
	if (elem || c->elem_size == 0)
		return elem;
	if (c->elem_size <= sizeof(s->small))
		return s->small;
	s->p = malloc(c->elem_size);
	return s->p;
}

int _go_kchan_send(struct go_chan *c, const void *elem, bool block, int64_t deadline)
{
	int r = block ? go_kchan_send(c->fd, elem, deadline) : gochan_try_send(c->fd, elem);

	_go_chan_keep_alive(c);	/* a collected handle: its fd stays open until here */
	return r;
}

int _go_kchan_recv(struct go_chan *c, void *elem, bool *ok, bool block, int64_t deadline)
{
	struct scratch s;
	void *buf = scratch_get(&s, c, elem);
	bool got = false;
	int r;

	if (!buf && c->elem_size)
		return -ENOMEM;
	r = block ? go_kchan_recv(c->fd, buf, &got, deadline) : gochan_try_recv(c->fd, buf, &got);
	if (r == 0) {
		if (!got)
			_go_chan_zero(c, elem);
		if (ok)
			*ok = got;
	}
	free(s.p);
	_go_chan_keep_alive(c);
	return r;
}

int _go_kchan_try(struct go_select_case *cs)
{
	struct go_chan *c = cs->chan;
	int r;

	if (cs->dir == GO_SELECT_SEND) {
		r = gochan_try_send(c->fd, cs->elem);
		if (r == 0 || r == -EPIPE) {
			cs->ok = r == 0;
			r = 0;
		}
		return r;
	}
	return _go_kchan_recv(c, cs->elem, &cs->ok, false, -1);
}
