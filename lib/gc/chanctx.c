/* SPDX-License-Identifier: MIT */
/*
 * chanctx.c - collected channels and contexts: the constructors that make lib/chan's
 * channels, lib/kchan's handles and lib/context's trees collected objects (<gochan/chan.h>
 * go_chan_new and go_chan_new_fd, <gochan/context.h> go_ctx_background_gc).
 *
 * They live here, not beside go_chan_make and the contexts, so that calling one brings the
 * collector into a static link: lib/chan and lib/context call lib/gc only through weak
 * references (they link without it: selftests/chan, its pthread shim), valid as soon as a
 * collected object of theirs can exist, that is once one of these was linked.
 *
 * A collected channel is one go_new() object: the hchan and its ring, noscan when the
 * elements hold no collected pointer (as Go allocates hchan and buf together then), else
 * scanned conservatively, ring included. Its barrier is lib/chan/chan.c's (_go_chan_copy).
 * What keeps it alive is what keeps any object alive: a goroutine blocked on it has its
 * sudog, with the channel's address, on its stack (lib/chan), which is a root; the channel's
 * wait queues point back at those stacks, which the collector skips (not the heap).
 * A collected kernel-channel handle is a noscan object with, when it owns its fd, a
 * finalizer that closes the fd (Go's os.File).
 * The collected contexts' root is lib/context's static _go_ctx_background_gc; the contexts
 * made under it, their Done channels and AfterFunc records are go_new() objects made there.
 */
#include <errno.h>
#include <unistd.h>

#include "../chan/internal.h"
#include "internal.h"

GOCHAN_API int go_chan_new(struct go_chan **chp, size_t elem_size, size_t cap, unsigned flags)
{
	struct go_chan *c;
	size_t bytes;
	bool scan;

	if ((flags & ~GO_CHAN_NOSCAN) || elem_size > GO_CHAN_ELEM_SIZE_MAX ||
	    __builtin_mul_overflow(elem_size, cap, &bytes) || bytes > SIZE_MAX / 2)
		return -EINVAL;
	/* an element narrower than a pointer cannot hold one */
	scan = !(flags & GO_CHAN_NOSCAN) && elem_size >= sizeof(void *);
	/* (an unbuffered one has nothing to scan, but its hand-offs still need the barrier) */
	c = go_new(sizeof(*c) + bytes, scan && bytes ? 0 : GO_NEW_NOSCAN);
	if (!c)
		return -ENOMEM;
	/* (a new object, on no one's stack but ours: its fields need no barrier) */
	c->kind = CHAN_LOCAL;
	c->gc = scan ? CHAN_GC_SCAN : CHAN_GC_NOSCAN;
	c->elem_size = elem_size;
	c->cap = cap;
	c->fd = -1;
	*chp = c;
	return 0;
}

/* Close a handle's fd once: the finalizer, or go_chan_free before it. */
static void chan_fd_close(struct go_chan *c)
{
	int fd = xchg(&c->fd, -1);

	if (fd >= 0 && c->own_fd) {
		int saved = errno;

		close(fd);
		errno = saved;
	}
}

/* The finalizer of an unreachable handle that owns its fd. */
static void chan_fd_finalize(void *obj, void *arg)
{
	(void)arg;
	chan_fd_close(obj);
}

int _go_gc_chan_fd_new(struct go_chan **chp, int fd, unsigned flags, size_t elem_size,
		       size_t cap)
{
	struct go_chan *c = go_new(sizeof(*c), GO_NEW_NOSCAN);
	int ret;

	if (!c)
		return -ENOMEM;
	c->kind = CHAN_KERNEL;
	c->gc = CHAN_GC_NOSCAN;
	c->elem_size = elem_size;
	c->cap = cap;
	c->fd = fd;
	c->own_fd = flags & GO_CHAN_FD_OWN;
	if (c->own_fd) {
		ret = go_gc_set_finalizer(c, chan_fd_finalize, NULL);
		if (ret < 0)
			return ret; /* (-ENOMEM; c is garbage, the fd still the caller's) */
	}
	*chp = c;
	return 0;
}

GOCHAN_API int go_chan_new_fd(struct go_chan **chp, int fd, unsigned flags)
{
	struct gochan_stat st;
	int ret;

	if (flags & ~GO_CHAN_FD_OWN)
		return -EINVAL;
	ret = gochan_stat(fd, &st);
	if (ret < 0)
		return ret;
	return _go_gc_chan_fd_new(chp, fd, flags, st.elem_size, st.capacity);
}

void _go_gc_chan_fd_close(struct go_chan *c)
{
	/* c is reachable (our caller holds it): its finalizer is not queued, and after this
	 * it never will be */
	if (c->own_fd)
		go_gc_set_finalizer(c, NULL, NULL);
	chan_fd_close(c);
}

/* lib/context/context.c's collected root (a static context, never cancelled). */
extern struct go_ctx _go_ctx_background_gc;

GOCHAN_API struct go_ctx *go_ctx_background_gc(void)
{
	return &_go_ctx_background_gc;
}
