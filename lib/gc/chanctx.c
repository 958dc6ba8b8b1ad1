/* SPDX-License-Identifier: MIT */
/*
 * chanctx.c - collected channels and contexts: the constructors that make lib/chan's
 * channels collected objects (<gochan/chan.h> go_chan_new).
 *
 * They live here, not beside go_chan_make and the contexts, so that calling one brings the
 * collector into a static link: lib/chan calls lib/gc only through weak references (it
 * links without it: selftests/chan, its pthread shim), valid as soon as a collected object
 * of its can exist, that is once one of these was linked.
 *
 * A collected channel is one go_new() object: the hchan and its ring, noscan when the
 * elements hold no collected pointer (as Go allocates hchan and buf together then), else
 * scanned conservatively, ring included. Its barrier is lib/chan/chan.c's (_go_chan_copy).
 * What keeps it alive is what keeps any object alive: a goroutine blocked on it has its
 * sudog, with the channel's address, on its stack (lib/chan), which is a root; the channel's
 * wait queues point back at those stacks, which the collector skips (not the heap).
 */
#include <errno.h>

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
