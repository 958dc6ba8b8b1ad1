// SPDX-License-Identifier: GPL-2.0
/*
 * The three transports.  Once open, all three are used the same way: the
 * writer write()s l->msg bytes to l->tx, the reader read()s them from
 * l->rx.  Only making them and hanging up differ:
 *
 *   gochan   gochan_make() (libgochan: GOCHAN_IOC_CREATE on /dev/gochan),
 *            elem_size = msg, so one write() of msg bytes is one element;
 *            capacity buf_bytes / msg (0: unbuffered).
 *            Hang up: gochan_close(), after which the reader's read()
 *            returns 0.  The measured path is plain read()/write(), the
 *            same syscalls as the peers'.
 *   eventfd  eventfd(0, 0): a 64-bit counter, so a message is always 8
 *            bytes, whatever size the gochan and pipe rows use.  Hang up: an
 *            eventfd has no end-of-file, so the writer adds HANGUP_VALUE
 *            instead of 1 and the reader treats any other value than 1 as
 *            the end.
 *   pipe     pipe(2), of buf_bytes (F_SETPIPE_SZ) unless 0 (the default,
 *            64 KiB).  Hang up: close the write end, the reader sees EOF
 *            (the partner closed its copy of it right after fork()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <gochan/kchan.h>

#include "bench.h"

#define HANGUP_VALUE	2

const char *kind_name(enum kind kind)
{
	switch (kind) {
	case GOCHAN:	return "gochan";
	case EVENTFD:	return "eventfd";
	case PIPE:	return "pipe";
	}
	return "?";
}

/*
 * @buf_bytes is what the link may hold, the same for a gochan and a pipe
 * so that a stream compares equal buffers; 0 is an unbuffered gochan and a
 * pipe of the default size.  eventfd ignores it.
 */
void link_open(struct link *l, enum kind kind, size_t msg, size_t buf_bytes)
{
	unsigned int cap = buf_bytes / msg;
	int p[2];

	l->kind = kind;
	l->msg = msg;
	switch (kind) {
	case GOCHAN:
		l->tx = l->rx = gochan_make(msg, cap, GOCHAN_CREATE_CLOEXEC);
		if (l->tx < 0)
			die("making a gochan (elem_size %zu, capacity %u): %s",
			    msg, cap, strerror(-l->tx));
		break;
	case EVENTFD:
		l->msg = sizeof(uint64_t);
		l->tx = l->rx = eventfd(0, EFD_CLOEXEC);
		if (l->tx < 0)
			die("eventfd: %s", strerror(errno));
		break;
	case PIPE:
		if (pipe2(p, O_CLOEXEC))
			die("pipe: %s", strerror(errno));
		l->rx = p[0];
		l->tx = p[1];
		if (buf_bytes && fcntl(l->tx, F_SETPIPE_SZ, (int)buf_bytes) != (int)buf_bytes)
			die("F_SETPIPE_SZ %zu: %s", buf_bytes, strerror(errno));
		break;
	}
}

/* Tell the reader that nothing more is coming. */
void link_hangup(struct link *l)
{
	uint64_t v = HANGUP_VALUE;
	int err;

	switch (l->kind) {
	case GOCHAN:
		err = gochan_close(l->tx);
		if (err)
			die("gochan_close: %s", strerror(-err));
		break;
	case EVENTFD:
		if (write(l->tx, &v, sizeof(v)) != sizeof(v))
			die("eventfd write: %s", strerror(errno));
		break;
	case PIPE:
		close(l->tx);
		l->tx = -1;
		break;
	}
}

/* For the reader: did the read() that returned @n into @buf see a hangup? */
bool link_is_hangup(const struct link *l, const void *buf, ssize_t n)
{
	uint64_t v;

	if (n == 0)
		return true;
	if (l->kind != EVENTFD)
		return false;
	memcpy(&v, buf, sizeof(v));
	return v != 1;
}

void link_close(struct link *l)
{
	if (l->tx >= 0)
		close(l->tx);
	if (l->rx >= 0 && l->rx != l->tx)
		close(l->rx);
	l->tx = l->rx = -1;
}
