/* SPDX-License-Identifier: MIT */
/*
 * queued.h - how the channel and select tests know a peer is blocked: they count the
 * waiters queued on a channel, peeking under its lock (lib/chan/internal.h).
 */
#ifndef CHAN_QUEUED_H
#define CHAN_QUEUED_H

#include <stdbool.h>

#include "../../lib/chan/internal.h"

/* Waiters queued on c: its senders, or its receivers. */
static inline unsigned queued(struct go_chan *c, bool senders)
{
	unsigned n = 0;

	_go_mutex_lock(&c->lock);
	for (struct sudog *s = senders ? c->sendq.first : c->recvq.first; s; s = s->next)
		n++;
	_go_mutex_unlock(&c->lock);
	return n;
}

#endif
