// SPDX-License-Identifier: GPL-2.0
/*
 * What both directions do with a stream: check it holds this channel's
 * elements (the meta key beside it), make the consumer group, observe the
 * group's backlog, trim what every group has consumed, and report the
 * state for --stats.
 *
 * The group is made at ID 0, by the first bridge of either direction to
 * start: values added before any in-bridge ran are delivered, not skipped.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

/* A stream entry ID, "MS-SEQ". */
struct sid {
	uint64_t ms, seq;
};

static bool sid_parse(const char *s, struct sid *id)
{
	char *end;

	id->ms = strtoull(s, &end, 10);
	if (*end != '-')
		return false;
	id->seq = strtoull(end + 1, &end, 10);
	return !*end;
}

static int sid_cmp(struct sid a, struct sid b)
{
	if (a.ms != b.ms)
		return a.ms < b.ms ? -1 : 1;
	return a.seq < b.seq ? -1 : a.seq > b.seq;
}

int stream_prepare(struct rconn *rc, struct mapping *m)
{
	struct cmd k;
	redisReply *r[5] = { NULL };
	const redisReply *size, *format;
	char want[16];
	int ret = PREP_RETRY, i;

	snprintf(want, sizeof(want), "%u", m->elem_size);
	cmd_init(&k);
	cmd_str(&k, "TYPE");
	cmd_str(&k, m->stream);
	rconn_append(rc, &k);
	cmd_init(&k);
	cmd_str(&k, "HSETNX");
	cmd_str(&k, m->meta_key);
	cmd_str(&k, "elem_size");
	cmd_str(&k, want);
	rconn_append(rc, &k);
	cmd_init(&k);
	cmd_str(&k, "HSETNX");
	cmd_str(&k, m->meta_key);
	cmd_str(&k, "format");
	cmd_u64(&k, BRIDGE_FORMAT);
	rconn_append(rc, &k);
	cmd_init(&k);
	cmd_str(&k, "HMGET");
	cmd_str(&k, m->meta_key);
	cmd_str(&k, "elem_size");
	cmd_str(&k, "format");
	rconn_append(rc, &k);
	cmd_init(&k);
	cmd_str(&k, "XGROUP");
	cmd_str(&k, "CREATE");
	cmd_str(&k, m->stream);
	cmd_str(&k, m->group);
	cmd_str(&k, "0");
	cmd_str(&k, "MKSTREAM");
	rconn_append(rc, &k);
	for (i = 0; i < 5; i++)
		if (!(r[i] = rconn_reply(rc)))
			goto out;

	ret = PREP_FATAL;
	for (i = 0; i < 5; i++) {
		if (r[i]->type == REDIS_REPLY_ERROR && !reply_is_error(r[i], "BUSYGROUP")) {
			logmap(m, "redis refused to set up the stream: %s", r[i]->str);
			goto out;
		}
	}
	if (r[0]->type == REDIS_REPLY_STATUS && strcmp(r[0]->str, "none") &&
	    strcmp(r[0]->str, "stream")) {
		logmap(m, "key %s holds a %s, not a stream", m->stream, r[0]->str);
		goto out;
	}
	if (r[3]->type != REDIS_REPLY_ARRAY || r[3]->elements != 2) {
		logmap(m, "unexpected reply to HMGET %s", m->meta_key);
		goto out;
	}
	size = r[3]->element[0];
	format = r[3]->element[1];
	if (size->type != REDIS_REPLY_STRING || strcmp(size->str, want)) {
		logmap(m, "element size mismatch: stream %s holds %s-byte values (%s elem_size), channel %s has %u-byte elements",
		       m->stream, size->type == REDIS_REPLY_STRING ? size->str : "?",
		       m->meta_key, m->chan, m->elem_size);
		goto out;
	}
	if (reply_int(format, -1) != BRIDGE_FORMAT) {
		logmap(m, "stream %s has entry format %s (%s), this bridge writes format %d",
		       m->stream, format->type == REDIS_REPLY_STRING ? format->str : "?",
		       m->meta_key, BRIDGE_FORMAT);
		goto out;
	}
	ret = 0;
out:
	for (i = 0; i < 5; i++)
		if (r[i])
			freeReplyObject(r[i]);
	return ret;
}

void stream_lost(struct rconn *rc, struct mapping *m, bool *retrying)
{
	if (!atomic_exchange(&m->ctr.up, false))
		return;
	logmap(m, "redis: %s; reconnecting", rc->err);
	atomic_fetch_add(&m->ctr.reconnects, 1);
	*retrying = true;
}

int stream_connect(struct rconn *rc, struct mapping *m, bool *retrying)
{
	int r = rconn_open(rc);

	if (r == RCONN_FATAL) {
		logmap(m, "redis: %s", rc->err);
		return -1;
	}
	if (r == 0) {
		r = stream_prepare(rc, m);
		if (r == PREP_FATAL)
			return -1;
	}
	if (r == 0) {
		if (*retrying)
			logmap(m, "redis: connected");
		*retrying = false;
		atomic_store(&m->ctr.up, true);
		return 0;
	}
	if (!*retrying || cfg.verbose)
		logmap(m, "redis: %s; retrying", rc->err);
	*retrying = true;
	rconn_close(rc);
	return 1;
}

/* XINFO GROUPS and XLEN of m's stream; *groups is the XINFO reply. */
static bool observe(struct rconn *rc, struct mapping *m, redisReply **groups)
{
	struct cmd k;
	redisReply *g, *len;

	*groups = NULL;
	cmd_init(&k);
	cmd_str(&k, "XINFO");
	cmd_str(&k, "GROUPS");
	cmd_str(&k, m->stream);
	rconn_append(rc, &k);
	cmd_init(&k);
	cmd_str(&k, "XLEN");
	cmd_str(&k, m->stream);
	rconn_append(rc, &k);
	g = rconn_reply(rc);
	len = rconn_reply(rc);
	if (!g || !len) {
		if (g)
			freeReplyObject(g);
		return false;
	}
	atomic_store(&m->ctr.length, reply_int(len, -1));
	freeReplyObject(len);
	atomic_store(&m->ctr.pending, -1);
	atomic_store(&m->ctr.lag, -1);
	if (g->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(g);
		return true;
	}
	for (size_t i = 0; i < g->elements; i++) {
		const redisReply *name = reply_field(g->element[i], "name");

		if (!name || name->type != REDIS_REPLY_STRING || strcmp(name->str, m->group))
			continue;
		atomic_store(&m->ctr.pending, reply_int(reply_field(g->element[i], "pending"), -1));
		atomic_store(&m->ctr.lag, reply_int(reply_field(g->element[i], "lag"), -1));
	}
	*groups = g;
	return true;
}

bool stream_observe(struct rconn *rc, struct mapping *m)
{
	redisReply *g;

	if (!observe(rc, m, &g))
		return false;
	if (g)
		freeReplyObject(g);
	return true;
}

/*
 * Trim the entries every group has consumed: those below each group's
 * last-delivered ID and oldest pending entry.  Those can only grow while
 * this runs (XREADGROUP delivers newer entries, XACK removes pending ones),
 * so the minimum computed here stays a safe bound when XTRIM runs.
 */
bool stream_trim(struct rconn *rc, struct mapping *m)
{
	redisReply *g, *r;
	struct sid min = { UINT64_MAX, UINT64_MAX }, id;
	struct cmd k;
	char minid[BRIDGE_ID_MAX];
	size_t n;
	bool ok = false;

	if (!observe(rc, m, &g))
		return false;
	if (!g)
		return true;
	n = g->elements;
	for (size_t i = 0; i < n; i++) {
		const redisReply *name = reply_field(g->element[i], "name");
		const redisReply *last = reply_field(g->element[i], "last-delivered-id");

		if (!name || name->type != REDIS_REPLY_STRING || !last ||
		    last->type != REDIS_REPLY_STRING || !sid_parse(last->str, &id))
			goto done;
		if (sid_cmp(id, min) < 0)
			min = id;
	}
	for (size_t i = 0; i < n; i++) {
		const redisReply *name = reply_field(g->element[i], "name");

		cmd_init(&k);
		cmd_str(&k, "XPENDING");
		cmd_str(&k, m->stream);
		cmd_arg(&k, name->str, name->len);
		rconn_append(rc, &k);
	}
	for (size_t i = 0; i < n; i++) {
		r = rconn_reply(rc);
		if (!r)
			goto done_lost;
		/* [count, smallest id, greatest id, consumers] */
		if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
		    r->element[1]->type == REDIS_REPLY_STRING &&
		    sid_parse(r->element[1]->str, &id) && sid_cmp(id, min) < 0)
			min = id;
		freeReplyObject(r);
	}
	if (n == 0 || (min.ms == 0 && min.seq == 0))
		goto done;
	snprintf(minid, sizeof(minid), "%" PRIu64 "-%" PRIu64, min.ms, min.seq);
	cmd_init(&k);
	cmd_str(&k, "XTRIM");
	cmd_str(&k, m->stream);
	cmd_str(&k, "MINID");
	cmd_str(&k, "~");
	cmd_str(&k, minid);
	r = rconn_call(rc, &k);
	if (!r)
		goto done_lost;
	if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		debugmap(m, "trimmed %lld consumed entries (below %s)", r->integer, minid);
	freeReplyObject(r);
done:
	ok = true;
done_lost:
	freeReplyObject(g);
	return ok;
}

static void print_str(const char *key, const redisReply *r)
{
	if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
		printf(" %s=%s", key, r->str);
	else if (r && r->type == REDIS_REPLY_INTEGER)
		printf(" %s=%lld", key, r->integer);
	else
		printf(" %s=-", key);
}

int stream_report(struct rconn *rc, struct mapping *m)
{
	redisReply *s = NULL, *g = NULL, *meta = NULL, *c;
	struct cmd k;
	int ret = -1;

	cmd_init(&k);
	cmd_str(&k, "XINFO");
	cmd_str(&k, "STREAM");
	cmd_str(&k, m->stream);
	rconn_append(rc, &k);
	cmd_init(&k);
	cmd_str(&k, "XINFO");
	cmd_str(&k, "GROUPS");
	cmd_str(&k, m->stream);
	rconn_append(rc, &k);
	cmd_init(&k);
	cmd_str(&k, "HMGET");
	cmd_str(&k, m->meta_key);
	cmd_str(&k, "elem_size");
	cmd_str(&k, "format");
	rconn_append(rc, &k);
	if (!(s = rconn_reply(rc)) || !(g = rconn_reply(rc)) || !(meta = rconn_reply(rc)))
		goto out;

	printf("stream %s", m->stream);
	if (s->type == REDIS_REPLY_ERROR) {
		printf(" missing=yes\n");	/* no such key: nothing bridged yet */
		ret = 0;
		goto out;
	}
	print_str("length", reply_field(s, "length"));
	if (meta->type == REDIS_REPLY_ARRAY && meta->elements == 2) {
		print_str("elem_size", meta->element[0]);
		print_str("format", meta->element[1]);
	}
	print_str("entries_added", reply_field(s, "entries-added"));
	print_str("last_id", reply_field(s, "last-generated-id"));
	print_str("groups", reply_field(s, "groups"));
	printf("\n");
	for (size_t i = 0; g->type == REDIS_REPLY_ARRAY && i < g->elements; i++) {
		const redisReply *gr = g->element[i], *name = reply_field(gr, "name");

		if (!name || name->type != REDIS_REPLY_STRING)
			continue;
		printf("group %s %s", m->stream, name->str);
		print_str("consumers", reply_field(gr, "consumers"));
		print_str("pending", reply_field(gr, "pending"));
		print_str("lag", reply_field(gr, "lag"));
		print_str("entries_read", reply_field(gr, "entries-read"));
		print_str("last_delivered", reply_field(gr, "last-delivered-id"));
		printf("\n");

		cmd_init(&k);
		cmd_str(&k, "XINFO");
		cmd_str(&k, "CONSUMERS");
		cmd_str(&k, m->stream);
		cmd_arg(&k, name->str, name->len);
		if (!(c = rconn_call(rc, &k)))
			goto out;
		for (size_t j = 0; c->type == REDIS_REPLY_ARRAY && j < c->elements; j++) {
			const redisReply *cn = reply_field(c->element[j], "name");

			printf("consumer %s %s %s", m->stream, name->str,
			       cn && cn->type == REDIS_REPLY_STRING ? cn->str : "?");
			print_str("pending", reply_field(c->element[j], "pending"));
			print_str("idle_ms", reply_field(c->element[j], "idle"));
			printf("\n");
		}
		freeReplyObject(c);
	}
	ret = 0;
out:
	if (s)
		freeReplyObject(s);
	if (g)
		freeReplyObject(g);
	if (meta)
		freeReplyObject(meta);
	fflush(stdout);
	return ret;
}
