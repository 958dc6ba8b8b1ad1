// SPDX-License-Identifier: GPL-2.0
/*
 * in: stream -> local channel, through the consumer group.
 *
 * The shape of a round:
 *  1. Wait until the channel can take a value (poll(2) EPOLLOUT: ring
 *     space or a receiver waiting), so that entries go to the hosts whose
 *     receivers are ready rather than to one that would sit on them.  With
 *     prefetch=N, do not wait, and read N more than the channel takes.
 *  2. XACK what was sent last round, pipelined with XREADGROUP ... COUNT c
 *     BLOCK b ">" (c: what the channel takes without blocking, plus
 *     prefetch, at least 1, at most batch).  The entries are now held: in
 *     the PEL under our consumer.
 *  3. Send each into the channel.  A send that would block first flushes
 *     the XACKs of those already sent, then waits in slices; while it
 *     waits, the held entries' idle time is reset every claim_idle/3 (the
 *     heartbeat), so no other bridge claims them.
 * An XACK goes only after its value's gochan_send() returned: for an
 * unbuffered channel, once a receiver took it.
 *
 * Recovery:
 *  - After each (re)connect, XACK the values sent whose XACK was not
 *    confirmed, then read our own PEL from ID 0 (entries we held when the
 *    connection, or a previous run of this bridge, died) and send those
 *    before new ones.
 *  - Every claim_idle/2, XAUTOCLAIM entries idle for claim_idle in the
 *    group, whoever holds them: a bridge that died, or lost Redis for that
 *    long, gives its entries to the others.
 *  - The heartbeat is a script that resets the idle time of those held
 *    entries that are still ours, and returns them: one another bridge
 *    claimed meanwhile (we lost Redis too long) is dropped, not sent, so
 *    only a value sent before the claim can arrive twice.
 *
 * Every second: XINFO GROUPS for the stats line, and (unless "keep") XTRIM
 * the entries every group has consumed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

#define SLICE_MS	200	/* a blocked wait looks at the stop flag */
#define BLOCK_MS	RCONN_BLOCK_MAX_MS	/* XREADGROUP BLOCK */
#define OBSERVE_MS	1000

/*
 * KEYS[1] stream, ARGV[1] group, ARGV[2] consumer, ARGV[3..] ids: reset
 * the idle time of the ids still pending under the consumer; return them.
 */
static const char heartbeat_lua[] =
	"local mine = {}\n"
	"local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}\n"
	"for i = 3, #ARGV do\n"
	"  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)\n"
	"  if #p == 1 and p[1][2] == ARGV[2] then\n"
	"    mine[#mine + 1] = ARGV[i]\n"
	"    args[#args + 1] = ARGV[i]\n"
	"  end\n"
	"end\n"
	"if #mine > 0 then\n"
	"  args[#args + 1] = 'JUSTID'\n"
	"  redis.call(unpack(args))\n"
	"end\n"
	"return mine\n";

struct entry {
	char		id[BRIDGE_ID_MAX];
	const char	*val;		/* elem_size bytes, in held_reply */
};

struct in {
	struct mapping	*m;
	struct rconn	rc;
	struct cmd	*k;
	struct entry	*held;		/* [next, nheld): to send, in order */
	redisReply	*held_reply;	/* the reply their values are in */
	unsigned	next, nheld;
	struct entry	*unacked;	/* sent, XACK not confirmed */
	unsigned	nunacked;
	bool		recovering;	/* reading our own PEL */
	char		recover_from[BRIDGE_ID_MAX];
	char		claim_cursor[BRIDGE_ID_MAX];
	bool		closed;		/* the channel is closed: done */
	bool		failed;		/* ... or failed */
	bool		retrying;
	int64_t		next_claim, next_heartbeat, next_observe;
};

/* The stats line's held: entries read and not yet acknowledged. */
static void update_held(struct in *in)
{
	atomic_store(&in->m->ctr.held, (int64_t)(in->nheld - in->next) + in->nunacked);
}

/* Held entries are done with (all sent, or dropped): free their reply. */
static void drop_held(struct in *in)
{
	in->next = in->nheld = 0;
	if (in->held_reply) {
		freeReplyObject(in->held_reply);
		in->held_reply = NULL;
	}
	update_held(in);
}

/* Queue an XACK of the unacked ids (none: nothing); false if none queued. */
static bool append_acks(struct in *in)
{
	if (!in->nunacked)
		return false;
	cmd_init(in->k);
	cmd_str(in->k, "XACK");
	cmd_str(in->k, in->m->stream);
	cmd_str(in->k, in->m->group);
	for (unsigned i = 0; i < in->nunacked; i++)
		cmd_str(in->k, in->unacked[i].id);
	return rconn_append(&in->rc, in->k);
}

/* The reply to append_acks()'s XACK; false if the connection failed. */
static bool acks_done(struct in *in, redisReply *r)
{
	if (!r)
		return false;
	if (r->type == REDIS_REPLY_INTEGER) {
		atomic_fetch_add(&in->m->ctr.acked, r->integer);
		if ((unsigned long long)r->integer < in->nunacked)
			debugmap(in->m, "XACK: %llu of %u were no longer pending (claimed and acknowledged elsewhere)",
				 (unsigned long long)(in->nunacked - r->integer), in->nunacked);
	} else if (r->type == REDIS_REPLY_ERROR) {
		logmap(in->m, "XACK: %s", r->str);
	}
	freeReplyObject(r);
	in->nunacked = 0;
	update_held(in);
	return true;
}

static bool flush_acks(struct in *in)
{
	if (!append_acks(in))
		return in->rc.c != NULL;
	return acks_done(in, rconn_reply(&in->rc));
}

/*
 * Take the entries of @list ([[id, [field, value ...]] ...]), part of
 * @reply, into held; held is empty.  Their values are sent from the reply
 * itself, which is kept (held_reply) until they are done with; it is freed
 * here if no entry was taken.  An entry without a value of the channel's
 * size is never sent: it is acknowledged (it stays in the stream until
 * trimmed) and counted as bad.  An entry whose body is nil was deleted
 * from the stream: acknowledged.
 */
static void take_entries(struct in *in, redisReply *reply, const redisReply *list,
			 const char *how)
{
	struct mapping *m = in->m;

	if (!list || list->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(reply);
		return;
	}
	for (size_t i = 0; i < list->elements; i++) {
		const redisReply *e = list->element[i], *id, *body, *v;

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
			continue;
		id = e->element[0];
		body = e->element[1];
		if (id->type != REDIS_REPLY_STRING || id->len >= BRIDGE_ID_MAX)
			continue;
		if (body->type != REDIS_REPLY_ARRAY) {
			debugmap(m, "entry %s was deleted from the stream before delivery", id->str);
			strcpy(in->unacked[in->nunacked++].id, id->str);
			continue;
		}
		v = reply_field(body, "v");
		if (!v || v->type != REDIS_REPLY_STRING || v->len != m->elem_size) {
			logmap(m, "entry %s holds %s%zd bytes, not %u: not delivered (acknowledged; XRANGE %s %s %s shows it)",
			       id->str, v ? "" : "no value, ", v ? (ssize_t)v->len : (ssize_t)0,
			       m->elem_size, m->stream, id->str, id->str);
			atomic_fetch_add(&m->ctr.bad, 1);
			strcpy(in->unacked[in->nunacked++].id, id->str);
			continue;
		}
		if (in->nheld >= m->batch)
			break;	/* cannot happen: COUNT <= batch */
		strcpy(in->held[in->nheld].id, id->str);
		in->held[in->nheld].val = v->str;
		in->nheld++;
		if (how)
			atomic_fetch_add(&m->ctr.claimed, 1);
	}
	if (in->nheld)
		in->held_reply = reply;
	else
		freeReplyObject(reply);
	update_held(in);
}

/* XREADGROUP's reply: nil (timed out) or [[stream, entries]]. */
static const redisReply *stream_entries(const redisReply *r)
{
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1)
		return NULL;
	r = r->element[0];
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		return NULL;
	return r->element[1];
}

/* Our own PEL, from recover_from on: entries held when we lost Redis. */
static void read_own(struct in *in)
{
	struct mapping *m = in->m;
	const redisReply *list;
	redisReply *r;

	if (!flush_acks(in))	/* unacked holds at most one round's */
		return;
	cmd_init(in->k);
	cmd_str(in->k, "XREADGROUP");
	cmd_str(in->k, "GROUP");
	cmd_str(in->k, m->group);
	cmd_str(in->k, m->consumer);
	cmd_str(in->k, "COUNT");
	cmd_u64(in->k, m->batch);
	cmd_str(in->k, "STREAMS");
	cmd_str(in->k, m->stream);
	cmd_str(in->k, in->recover_from);
	r = rconn_call(&in->rc, in->k);
	if (!r)
		return;
	list = stream_entries(r);
	if (r->type == REDIS_REPLY_ERROR)
		logmap(m, "XREADGROUP: %s", r->str);
	if (!list || list->type != REDIS_REPLY_ARRAY || !list->elements) {
		in->recovering = false;
		freeReplyObject(r);
	} else {
		const redisReply *last = list->element[list->elements - 1];

		snprintf(in->recover_from, sizeof(in->recover_from), "%s",
			 last->element[0]->str);
		debugmap(m, "taking up %zu entries of our own pending list", list->elements);
		take_entries(in, r, list, NULL);
	}
}

/* The group or the stream is gone (deleted, or Redis lost its data). */
static bool nogroup(struct in *in, const redisReply *r)
{
	if (!reply_is_error(r, "NOGROUP"))
		return false;
	logmap(in->m, "the group is gone (%s): making it again", r->str);
	if (stream_prepare(&in->rc, in->m) == PREP_FATAL)
		in->closed = in->failed = true;
	return true;
}

/* XACK what was sent, and read new entries: one round trip. */
static void read_new(struct in *in, unsigned count, unsigned block_ms)
{
	struct mapping *m = in->m;
	bool acking;
	redisReply *r;

	acking = append_acks(in);
	cmd_init(in->k);
	cmd_str(in->k, "XREADGROUP");
	cmd_str(in->k, "GROUP");
	cmd_str(in->k, m->group);
	cmd_str(in->k, m->consumer);
	cmd_str(in->k, "COUNT");
	cmd_u64(in->k, count);
	cmd_str(in->k, "BLOCK");
	cmd_u64(in->k, block_ms);
	cmd_str(in->k, "STREAMS");
	cmd_str(in->k, m->stream);
	cmd_str(in->k, ">");
	if (!rconn_append(&in->rc, in->k))
		return;
	if (acking && !acks_done(in, rconn_reply(&in->rc)))
		return;
	r = rconn_reply(&in->rc);
	if (!r)
		return;
	if (r->type == REDIS_REPLY_ERROR && !nogroup(in, r))
		logmap(m, "XREADGROUP: %s", r->str);
	take_entries(in, r, stream_entries(r), NULL);
	if (in->nheld)
		atomic_fetch_add(&m->ctr.batches, 1);
}

/* XAUTOCLAIM entries idle for claim_idle: [cursor, entries, deleted]. */
static void claim(struct in *in, unsigned count)
{
	struct mapping *m = in->m;
	redisReply *r;

	if (!flush_acks(in))
		return;
	cmd_init(in->k);
	cmd_str(in->k, "XAUTOCLAIM");
	cmd_str(in->k, m->stream);
	cmd_str(in->k, m->group);
	cmd_str(in->k, m->consumer);
	cmd_u64(in->k, cfg.claim_idle_ms);
	cmd_str(in->k, in->claim_cursor);
	cmd_str(in->k, "COUNT");
	cmd_u64(in->k, count);
	r = rconn_call(&in->rc, in->k);
	if (!r)
		return;
	if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING) {
		snprintf(in->claim_cursor, sizeof(in->claim_cursor), "%s",
			 r->element[0]->str);
		if (r->element[1]->type == REDIS_REPLY_ARRAY && r->element[1]->elements)
			logmap(m, "claimed %zu entries idle for %u ms (a bridge died or lost redis)",
			       r->element[1]->elements, cfg.claim_idle_ms);
		take_entries(in, r, r->element[1], "claimed");
	} else {
		if (r->type == REDIS_REPLY_ERROR && !nogroup(in, r))
			logmap(m, "XAUTOCLAIM: %s", r->str);
		freeReplyObject(r);
	}
	/* A full scan done: wait; else go on at once with the next part. */
	if (!strcmp(in->claim_cursor, "0-0"))
		in->next_claim = now_ms() + cfg.claim_idle_ms / 2;
}

/*
 * Reset the idle time of held[next..nheld) and drop those that are no
 * longer ours.  Keeps the order of the others.
 */
static void heartbeat(struct in *in)
{
	struct mapping *m = in->m;
	redisReply *r;
	unsigned kept = in->next;

	in->next_heartbeat = now_ms() + cfg.claim_idle_ms / 3;
	if (in->next == in->nheld)
		return;
	cmd_init(in->k);
	cmd_str(in->k, "EVAL");
	cmd_str(in->k, heartbeat_lua);
	cmd_str(in->k, "1");
	cmd_str(in->k, m->stream);
	cmd_str(in->k, m->group);
	cmd_str(in->k, m->consumer);
	for (unsigned i = in->next; i < in->nheld; i++)
		cmd_str(in->k, in->held[i].id);
	r = rconn_call(&in->rc, in->k);
	if (!r)
		return;
	if (r->type != REDIS_REPLY_ARRAY) {
		if (r->type == REDIS_REPLY_ERROR)
			logmap(m, "heartbeat: %s", r->str);
		freeReplyObject(r);
		return;
	}
	/* Both lists are in stream order: a merge. */
	for (unsigned i = in->next, j = 0; i < in->nheld; i++) {
		if (j < r->elements && !strcmp(r->element[j]->str, in->held[i].id)) {
			j++;
			in->held[kept++] = in->held[i];
		} else {
			logmap(m, "entry %s was claimed by another bridge while this one waited: not sent here",
			       in->held[i].id);
		}
	}
	in->nheld = kept;
	freeReplyObject(r);
	update_held(in);
}

/*
 * Send held[next..nheld) into the channel.  Returns when all are sent, or
 * the connection failed, or the bridge stops, or the channel is closed.
 */
static void deliver(struct in *in)
{
	struct mapping *m = in->m;
	int r;

	while (in->next < in->nheld) {
		const char *val = in->held[in->next].val;

		r = gochan_try_send(m->fd, val);
		if (r == -EAGAIN) {
			int64_t deadline;

			if (atomic_load(&stopping))
				return;
			/* Before blocking: acknowledge what the channel took. */
			if (!flush_acks(in))
				return;
			if (now_ms() >= in->next_heartbeat) {
				heartbeat(in);
				if (!in->rc.c)
					return;
				continue;
			}
			deadline = now_ms() + SLICE_MS;
			if (deadline > in->next_heartbeat)
				deadline = in->next_heartbeat;
			r = gochan_send(m->fd, val, deadline * 1000000LL);
			if (r == -ETIMEDOUT)
				continue;
		}
		if (r == -EPIPE) {
			logmap(m, "channel %s was closed: this mapping is done (the entries held stay pending for other bridges)",
			       m->chan);
			in->closed = true;
			return;
		}
		if (r < 0) {
			logmap(m, "send to channel %s: %s", m->chan, strerror(-r));
			in->closed = in->failed = true;
			return;
		}
		in->unacked[in->nunacked++] = in->held[in->next++];
		atomic_fetch_add(&m->ctr.values, 1);
		update_held(in);
	}
	drop_held(in);
}

/* How many values the channel takes now without blocking, 0..batch. */
static unsigned room(struct in *in)
{
	struct gochan_stat st;
	uint64_t free;

	if (gochan_stat(in->m->fd, &st))
		return 1;
	free = st.recv_waiters;
	if (st.capacity > st.len)
		free += st.capacity - st.len;
	return free > in->m->batch ? in->m->batch : free;
}

/* Wait up to SLICE_MS for the channel to take a value; false if not yet. */
static bool wait_room(struct in *in)
{
	struct pollfd p = { .fd = in->m->fd, .events = POLLOUT };

	if (poll(&p, 1, SLICE_MS) <= 0)
		return false;
	if (p.revents & (POLLHUP | POLLERR)) {
		logmap(in->m, "channel %s was closed: this mapping is done", in->m->chan);
		in->closed = true;
		return false;
	}
	return p.revents & POLLOUT;
}

/* What to read or claim now: what the channel takes, plus prefetch. */
static unsigned want(struct in *in)
{
	unsigned n = room(in) + in->m->prefetch;

	return n > in->m->batch ? in->m->batch : n;
}

/*
 * Claims, observation, trimming.  Entries are claimed only when the channel
 * can take them: a host without receivers leaves them to one with.
 */
static void maintain(struct in *in)
{
	int64_t now = now_ms();
	unsigned n;

	if (now >= in->next_claim && in->nheld == 0 && (n = want(in))) {
		in->next_claim = now;
		claim(in, n);
	}
	if (in->rc.c && now >= in->next_observe) {
		in->next_observe = now + OBSERVE_MS;
		if (cfg.keep)
			stream_observe(&in->rc, in->m);
		else
			stream_trim(&in->rc, in->m);
	}
}

static int reconnect(struct in *in)
{
	int r;

	/* Held values not yet sent stay in our PEL: read again below. */
	drop_held(in);
	r = stream_connect(&in->rc, in->m, &in->retrying);
	if (r)
		return r;
	if (!flush_acks(in))
		return 0;
	in->recovering = true;
	strcpy(in->recover_from, "0");
	strcpy(in->claim_cursor, "0-0");
	in->next_claim = now_ms() + cfg.claim_idle_ms / 2;
	in->next_observe = 0;
	return 0;
}

int in_run(struct mapping *m)
{
	struct in in = { .m = m };
	int ret = EXIT_FAIL, r;
	unsigned count;

	in.k = malloc(sizeof(*in.k));
	in.held = calloc(m->batch, sizeof(*in.held));
	in.unacked = calloc(2 * m->batch, sizeof(*in.unacked));
	if (!in.k || !in.held || !in.unacked) {
		logmap(m, "out of memory");
		goto out;
	}

	for (;;) {
		if (!in.rc.c) {
			stream_lost(&in.rc, m, &in.retrying);
			if (atomic_load(&stopping) && !in.nunacked)
				break;
			r = reconnect(&in);
			if (r < 0)
				goto out;
			if (r > 0)
				rconn_backoff(&in.rc);
			continue;
		}
		if (in.closed || atomic_load(&stopping)) {
			/*
			 * Acknowledge what was sent; held values stay pending,
			 * for our next start or other bridges.
			 */
			if (flush_acks(&in))
				break;
			continue;
		}
		if (in.next < in.nheld) {
			deliver(&in);
			continue;
		}
		maintain(&in);
		if (!in.rc.c || in.next < in.nheld)
			continue;
		if (in.recovering) {
			read_own(&in);
			continue;
		}
		if (!m->prefetch && !wait_room(&in)) {
			if (in.nunacked)
				flush_acks(&in);
			continue;
		}
		count = want(&in);
		read_new(&in, count ? count : 1, BLOCK_MS);
	}
	ret = in.failed ? EXIT_FAIL : EXIT_OK;
	if (in.nunacked)
		logmap(m, "stopped with %u values sent whose XACK was not confirmed: they may be delivered again",
		       in.nunacked);
out:
	rconn_close(&in.rc);
	atomic_store(&m->ctr.up, false);
	drop_held(&in);
	free(in.unacked);
	free(in.held);
	free(in.k);
	return ret;
}
