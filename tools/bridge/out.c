// SPDX-License-Identifier: GPL-2.0
/*
 * out: local channel -> stream.
 *
 * Each round: receive a batch from the channel (block for the first value,
 * then take what is there without blocking, up to the batch size and the
 * capacity left), then add it with one script (add_lua below), which runs
 * atomically in Redis:
 *
 *	if the marker out:<consumer> is the batch's own: do nothing (it was
 *	added before: its reply was lost);
 *	else if it is not the previous batch's: refuse (another bridge runs
 *	under our name);
 *	else XADD <stream> * v <value> for each value, in receive order, and
 *	set the marker to the batch's.
 *
 * The batch stays in memory (and in the spool file, if configured) until
 * the script's reply confirms it.  If the connection fails before that,
 * the same script is run again after reconnecting: the batch is added
 * exactly once, whether the first run happened, did not, or happens late
 * (a request still on its way from the dead connection finds the marker
 * moved on and adds nothing).  Meanwhile nothing is received, so the
 * channel fills and its senders block: back-pressure, not a growing buffer.
 *
 * capacity=N: no more than N entries of the stream may wait for the group
 * (its lag plus its pending entries, from XINFO GROUPS); the bridge stops
 * receiving while they do.  Several producing bridges may each add a batch
 * past it.  Entries are never dropped to keep a stream short (which is
 * what XADD MAXLEN would do): consumed entries are trimmed by in.c.
 *
 * Spool file: the batch is written and fdatasync()ed before the script
 * runs, so a bridge killed between the receive and the reply loses
 * nothing: the next start reads the spool and runs the script again.  The
 * channel's uapi has no receive-then-commit, so values received and not
 * yet in the spool (the receive loop itself: no waiting there) are lost
 * if the bridge is killed right then.  Without a spool such a kill loses
 * the batch in flight.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bridge.h"

#define RECV_SLICE_MS	200	/* a blocked receive looks at the stop flag */
#define OBSERVE_MS	1000	/* XINFO GROUPS for the stats line */
#define FULL_POLL_MS	50	/* capacity reached: look again after this */

/*
 * KEYS[1] stream, KEYS[2] meta key; ARGV[1] marker field, ARGV[2] the
 * previous batch's marker ("" for an instance's first: any), ARGV[3] this
 * batch's, ARGV[4..] the values.  Returns the number added (0: added
 * before), or an error "CONFLICT ..." when the marker is someone else's.
 */
static const char add_lua[] =
	"local cur = redis.call('HGET', KEYS[2], ARGV[1])\n"
	"if cur == ARGV[3] then return 0 end\n"
	"if ARGV[2] ~= '' and cur and cur ~= ARGV[2] then\n"
	"  return redis.error_reply('CONFLICT marker ' .. ARGV[1] .. ' is ' .. cur)\n"
	"end\n"
	"for i = 4, #ARGV do\n"
	"  redis.call('XADD', KEYS[1], '*', 'v', ARGV[i])\n"
	"end\n"
	"redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])\n"
	"return #ARGV - 3\n";

/* The spool file's header, followed by n * elem_size bytes. */
struct spool_hdr {
	char		magic[8];	/* SPOOL_MAGIC */
	uint32_t	elem_size;
	uint32_t	n;		/* values in the batch, 0 = none */
	uint64_t	inst;
	uint64_t	seq;
};
#define SPOOL_MAGIC	"GCBSPL1"

struct out {
	struct mapping	*m;
	struct rconn	rc;
	struct iob	iob;		/* the batch's command */
	char		*vals;		/* batch * elem_size bytes */
	unsigned	n;		/* values in vals, not yet confirmed */
	uint64_t	inst;		/* this bridge's marker prefix */
	uint64_t	seq;		/* the batch's marker (n > 0); from 1 */
	char		marker[48];	/* "<inst>:<seq>" */
	char		prev[48];	/* the previous batch's, "" if none */
	char		sha[48];	/* add_lua's SHA1, from SCRIPT LOAD */
	uint64_t	room;		/* capacity left (UINT64_MAX: no cap) */
	bool		closed;		/* the channel is closed and drained */
	bool		retrying;	/* a connect failed since the last success */
	int		spool;		/* spool fd, or -1 */
	int64_t		next_observe;
};

static void set_marker(struct out *o)
{
	snprintf(o->marker, sizeof(o->marker), "%016" PRIx64 ":%" PRIu64,
		 o->inst, o->seq);
	if (o->seq > 1)
		snprintf(o->prev, sizeof(o->prev), "%016" PRIx64 ":%" PRIu64,
			 o->inst, o->seq - 1);
	else
		o->prev[0] = '\0';
}

static int spool_write(struct out *o)
{
	struct spool_hdr h = { .magic = SPOOL_MAGIC, .elem_size = o->m->elem_size,
			       .n = o->n, .inst = o->inst, .seq = o->seq };
	struct iovec iov[2] = {
		{ &h, sizeof(h) },
		{ o->vals, (size_t)o->n * o->m->elem_size },
	};
	ssize_t want = iov[0].iov_len + iov[1].iov_len;

	if (o->spool < 0)
		return 0;
	if (pwritev(o->spool, iov, 2, 0) != want || fdatasync(o->spool)) {
		logmap(o->m, "spool %s: %s", o->m->spool, strerror(errno));
		return -1;
	}
	return 0;
}

/* Open the spool; a batch left in it by a bridge that died is taken up. */
static int spool_open(struct out *o)
{
	struct mapping *m = o->m;
	struct spool_hdr h;
	ssize_t got;

	o->spool = open(m->spool, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (o->spool < 0) {
		logmap(m, "spool %s: %s", m->spool, strerror(errno));
		return -1;
	}
	got = pread(o->spool, &h, sizeof(h), 0);
	if (got == 0)
		return 0;
	if (got != sizeof(h) || memcmp(h.magic, SPOOL_MAGIC, sizeof(h.magic))) {
		logmap(m, "spool %s: not a gochan-bridge spool file", m->spool);
		return -1;
	}
	if (h.n == 0) {
		o->inst = h.inst;
		o->seq = h.seq;
		return 0;
	}
	if (h.elem_size != m->elem_size || h.n > m->batch) {
		logmap(m, "spool %s holds %u values of %u bytes; channel %s has %u-byte elements and batch=%u",
		       m->spool, h.n, h.elem_size, m->chan, m->elem_size, m->batch);
		return -1;
	}
	got = pread(o->spool, o->vals, (size_t)h.n * h.elem_size, sizeof(h));
	if (got != (ssize_t)((size_t)h.n * h.elem_size)) {
		logmap(m, "spool %s: truncated", m->spool);
		return -1;
	}
	o->n = h.n;
	o->inst = h.inst;
	o->seq = h.seq;
	set_marker(o);
	logmap(m, "spool %s: taking up %u values a previous run had received", m->spool, o->n);
	return 0;
}

/*
 * Block (in slices) for one value, then take what is there: with one
 * read(2) that does not wait (RWF_NOWAIT), which moves up to the batch
 * with at most two copies out of the channel's ring, not a call per value.
 * A signal channel (element size 0) has no read(2): a call per value.
 */
static void gather(struct out *o)
{
	struct mapping *m = o->m;
	unsigned limit = m->batch;
	size_t es = m->elem_size;
	bool ok;
	int r;

	if (o->room < limit)
		limit = o->room;
	r = gochan_recv(m->fd, o->vals, &ok, gochan_now_ns() +
			RECV_SLICE_MS * 1000000LL);
	if (r == -ETIMEDOUT)
		return;
	if (r < 0) {
		logmap(m, "receive from channel %s: %s", m->chan, strerror(-r));
		o->closed = true;
		return;
	}
	if (!ok) {
		o->closed = true;
		return;
	}
	o->n = 1;
	if (es && o->n < limit) {
		struct iovec iov = { o->vals + es, (size_t)(limit - 1) * es };
		ssize_t got = preadv2(m->fd, &iov, 1, -1, RWF_NOWAIT);

		if (got > 0)
			o->n += (unsigned)((size_t)got / es);
		else if (got == 0)
			o->closed = true;	/* closed and drained */
		else if (errno != EAGAIN) {
			logmap(m, "read from channel %s: %s", m->chan, strerror(errno));
			o->closed = true;
		}
		return;
	}
	while (o->n < limit) {
		r = gochan_try_recv(m->fd, o->vals + o->n * es, &ok);
		if (r == -EAGAIN)
			break;
		if (r < 0 || !ok) {
			o->closed = true;
			break;
		}
		o->n++;
	}
}

/* SCRIPT LOAD add_lua; false if the connection failed. */
static bool load_script(struct out *o)
{
	struct cmd k;
	redisReply *r;

	cmd_init(&k);
	cmd_str(&k, "SCRIPT");
	cmd_str(&k, "LOAD");
	cmd_str(&k, add_lua);
	r = rconn_call(&o->rc, &k);
	if (!r)
		return false;
	if (r->type == REDIS_REPLY_STRING && r->len < sizeof(o->sha))
		memcpy(o->sha, r->str, r->len + 1);
	else
		logmap(o->m, "SCRIPT LOAD: %s", r->type == REDIS_REPLY_ERROR ? r->str : "?");
	freeReplyObject(r);
	return true;
}

/*
 * Add the batch.  Returns 1 when Redis confirmed it, 0 when it has to be
 * added again (the connection failed, or the script had to be loaded
 * again), -1 when Redis refused it for good.
 */
static int add_batch(struct out *o)
{
	struct mapping *m = o->m;
	size_t es = m->elem_size;
	redisReply *r;
	int ret;

	iob_reset(&o->iob);
	iob_array(&o->iob, 8 + o->n);
	iob_str(&o->iob, "EVALSHA");
	iob_str(&o->iob, o->sha);
	iob_str(&o->iob, "2");
	iob_str(&o->iob, m->stream);
	iob_str(&o->iob, m->meta_key);
	iob_str(&o->iob, m->marker_field);
	iob_str(&o->iob, o->prev);
	iob_str(&o->iob, o->marker);
	for (unsigned i = 0; i < o->n; i++)
		iob_bulk(&o->iob, o->vals + i * es, es);
	if (!rconn_writev(&o->rc, &o->iob))
		return 0;
	r = rconn_reply(&o->rc);
	if (!r)
		return 0;
	if (r->type == REDIS_REPLY_INTEGER) {
		if (r->integer == 0)
			debugmap(m, "batch %s had been added before its reply was lost", o->marker);
		ret = 1;
	} else if (reply_is_error(r, "NOSCRIPT")) {
		/* SCRIPT FLUSH, or a server that lost its cache: load it again. */
		load_script(o);
		ret = 0;
	} else {
		logmap(m, "redis refused the batch: %s%s",
		       r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply",
		       reply_is_error(r, "CONFLICT") ?
		       " (does another bridge run under this name for this channel?)" : "");
		ret = -1;
	}
	freeReplyObject(r);
	return ret;
}

/* capacity=N: how many more entries may be added now. */
static void update_room(struct out *o)
{
	struct mapping *m = o->m;
	int64_t pending = atomic_load(&m->ctr.pending);
	int64_t lag = atomic_load(&m->ctr.lag);
	int64_t waiting = atomic_load(&m->ctr.length);

	if (!m->capacity) {
		o->room = UINT64_MAX;
		return;
	}
	if (pending >= 0 && lag >= 0)
		waiting = pending + lag;
	if (waiting < 0)
		waiting = 0;
	o->room = (uint64_t)waiting >= m->capacity ? 0 : m->capacity - waiting;
}

static void confirmed(struct out *o)
{
	struct mapping *m = o->m;

	atomic_fetch_add(&m->ctr.values, o->n);
	atomic_fetch_add(&m->ctr.batches, 1);
	o->n = 0;
	atomic_store(&m->ctr.held, 0);
}

/* Connect, check the stream, load the script. */
static int reconnect(struct out *o)
{
	struct mapping *m = o->m;
	int r = stream_connect(&o->rc, m, &o->retrying);

	if (r)
		return r;
	if (!load_script(o))
		return 0;
	if (o->n) {
		debugmap(m, "adding again the batch of %u values held across the loss", o->n);
		atomic_fetch_add(&m->ctr.resent, 1);
	}
	stream_observe(&o->rc, m);
	o->next_observe = now_ms() + OBSERVE_MS;
	return 0;
}

int out_run(struct mapping *m)
{
	struct out o = { .m = m, .spool = -1, .room = UINT64_MAX };
	int ret = EXIT_FAIL, r;

	o.vals = malloc((size_t)m->batch * (m->elem_size ? m->elem_size : 1));
	if (!o.vals || iob_init(&o.iob, m->batch + 8)) {
		logmap(m, "out of memory");
		goto out;
	}
	if (getrandom(&o.inst, sizeof(o.inst), 0) != sizeof(o.inst))
		o.inst = (uint64_t)gochan_now_ns() ^ (uint64_t)getpid() << 32;
	if (m->spool && spool_open(&o))
		goto out;

	for (;;) {
		if (!o.rc.c) {
			stream_lost(&o.rc, m, &o.retrying);
			/* Stopping: a batch in the spool waits there for the next start. */
			if (atomic_load(&stopping) && (!o.n || o.spool >= 0))
				break;
			r = reconnect(&o);
			if (r < 0)
				goto out;
			if (r > 0) {
				rconn_backoff(&o.rc);
				continue;
			}
			if (!o.rc.c)
				continue;
		}
		if (!o.n) {
			if (o.closed || atomic_load(&stopping))
				break;
			update_room(&o);
			if (!o.room) {
				sleep_ms(FULL_POLL_MS);
				stream_observe(&o.rc, m);
				continue;
			}
			gather(&o);
			if (o.n) {
				o.seq++;
				set_marker(&o);
				atomic_store(&m->ctr.held, o.n);
				spool_write(&o);	/* a failure is logged: go on */
			}
		}
		if (o.n) {
			r = add_batch(&o);
			if (r < 0)
				goto out;
			if (r == 0)
				continue;
			confirmed(&o);
		}
		if (m->capacity || now_ms() >= o.next_observe) {
			o.next_observe = now_ms() + OBSERVE_MS;
			stream_observe(&o.rc, m);
		}
	}
	if (o.closed && !o.n)
		logmap(m, "channel %s is closed and drained: this mapping is done", m->chan);
	ret = EXIT_OK;
	if (o.n) {
		logmap(m, "stopped with %u values received and not added to the stream%s",
		       o.n, o.spool >= 0 ? " (kept in the spool for the next start)" :
		       " (lost: configure spool= to keep them)");
		ret = o.spool >= 0 ? EXIT_OK : EXIT_FAIL;
	} else if (o.spool >= 0) {
		o.n = 0;
		spool_write(&o);
	}
out:
	rconn_close(&o.rc);
	atomic_store(&m->ctr.up, false);
	if (o.spool >= 0)
		close(o.spool);
	iob_free(&o.iob);
	free(o.vals);
	return ret;
}
