// SPDX-License-Identifier: GPL-2.0
/*
 * A Redis connection: the address (a Unix socket or TCP, TLS on request),
 * authentication, timeouts, backoff between attempts, and a pipeline of
 * binary-safe commands (hiredis's blocking API: append, then read replies).
 *
 * A connection that fails in any way is closed at once (rc->c = NULL) and
 * its error kept in rc->err: the caller reconnects after rconn_backoff().
 * Replies that say "try again" (LOADING while Redis reads its append-only
 * file after a restart, BUSY, MASTERDOWN, TRYAGAIN) count as a failed
 * connection too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bridge.h"

#define BACKOFF_MIN_MS	50
#define BACKOFF_MAX_MS	5000

/* cfg.redis, parsed once. */
static struct {
	bool	parsed;
	bool	unix_socket;
	char	path[256];	/* socket path, or host */
	int	port;
} addr;

static int parse_addr(struct rconn *rc)
{
	const char *s = cfg.redis, *colon;
	size_t n;

	if (addr.parsed)
		return 0;
	if (!strncmp(s, "unix:", 5) || s[0] == '/') {
		if (s[0] != '/')
			s += 5;
		if (strlen(s) >= sizeof(addr.path))
			goto bad;
		strcpy(addr.path, s);
		addr.unix_socket = true;
		addr.parsed = true;
		return 0;
	}
	if (!strncmp(s, "tcp://", 6))
		s += 6;
	addr.port = 6379;
	if (s[0] == '[') {			/* [v6 address]:port */
		const char *end = strchr(s, ']');

		if (!end || (size_t)(end - s - 1) >= sizeof(addr.path))
			goto bad;
		memcpy(addr.path, s + 1, end - s - 1);
		addr.path[end - s - 1] = '\0';
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			goto bad;
	} else {
		colon = strrchr(s, ':');
		n = colon ? (size_t)(colon - s) : strlen(s);
		if (n == 0 || n >= sizeof(addr.path))
			goto bad;
		memcpy(addr.path, s, n);
		addr.path[n] = '\0';
	}
	if (colon) {
		char *end;
		long p = strtol(colon + 1, &end, 10);

		if (*end || p <= 0 || p > 65535)
			goto bad;
		addr.port = p;
	}
	addr.parsed = true;
	return 0;
bad:
	snprintf(rc->err, sizeof(rc->err),
		 "redis address \"%s\": want unix:PATH, tcp://HOST:PORT or HOST[:PORT]",
		 cfg.redis);
	return -1;
}

static struct timeval tv_ms(unsigned ms)
{
	return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };
}

void rconn_close(struct rconn *rc)
{
	if (rc->c) {
		redisFree(rc->c);
		rc->c = NULL;
	}
	if (rc->tls) {
		tls_close(rc->tls);
		rc->tls = NULL;
	}
}

static void lost(struct rconn *rc, const char *why)
{
	snprintf(rc->err, sizeof(rc->err), "%s", why);
	rconn_close(rc);
}

/* The errors Redis gives when it will work again soon. */
static bool transient(const redisReply *r)
{
	return reply_is_error(r, "LOADING") || reply_is_error(r, "BUSY") ||
	       reply_is_error(r, "MASTERDOWN") || reply_is_error(r, "TRYAGAIN");
}

int rconn_open(struct rconn *rc)
{
	struct timeval tv = tv_ms(cfg.timeout_ms);
	redisContext *c;
	redisReply *r;
	struct cmd *k;
	bool fatal = false;
	int ret = RCONN_RETRY;

	rconn_close(rc);
	if (parse_addr(rc))
		return RCONN_FATAL;
	if (addr.unix_socket) {
		c = redisConnectUnixWithTimeout(addr.path, tv);
	} else if (cfg.tls) {
		int fd = tls_connect(rc, addr.path, addr.port, &fatal);

		if (fd < 0)
			return fatal ? RCONN_FATAL : RCONN_RETRY;
		c = redisConnectFd(fd);
	} else {
		c = redisConnectWithTimeout(addr.path, addr.port, tv);
	}
	if (!c) {
		rconn_close(rc);
		snprintf(rc->err, sizeof(rc->err), "out of memory");
		return RCONN_RETRY;
	}
	if (c->err) {
		snprintf(rc->err, sizeof(rc->err), "%s: %s", cfg.redis, c->errstr);
		redisFree(c);
		if (rc->tls) {
			tls_close(rc->tls);
			rc->tls = NULL;
		}
		return RCONN_RETRY;
	}
	rc->c = c;
	if (!addr.unix_socket && !cfg.tls)	/* tls.c set it on its socket */
		redisEnableKeepAlive(c);
	redisSetTimeout(c, tv_ms(cfg.timeout_ms + RCONN_BLOCK_MAX_MS));

	k = malloc(sizeof(*k));
	if (!k) {
		lost(rc, "out of memory");
		return RCONN_RETRY;
	}
	cmd_init(k);
	if (cfg.password) {
		cmd_str(k, "AUTH");
		if (cfg.user)
			cmd_str(k, cfg.user);
		cmd_str(k, cfg.password);
	} else {
		cmd_str(k, "PING");
	}
	r = rconn_call(rc, k);
	if (!r)
		goto out;
	if (r->type == REDIS_REPLY_ERROR) {
		/* WRONGPASS, NOAUTH (a password is needed), NOPERM ... */
		snprintf(rc->err, sizeof(rc->err), "%s %s: %s",
			 cfg.password ? "authentication as" : "redis at", cfg.password ?
			 (cfg.user ? cfg.user : "default") : cfg.redis, r->str);
		freeReplyObject(r);
		rconn_close(rc);
		ret = RCONN_FATAL;
		goto out;
	}
	freeReplyObject(r);

	/* Named in CLIENT LIST, for whoever looks at the server. */
	cmd_init(k);
	cmd_str(k, "CLIENT");
	cmd_str(k, "SETNAME");
	cmd_str(k, BRIDGE_NAME);
	r = rconn_call(rc, k);
	if (!r)
		goto out;
	freeReplyObject(r);
	rc->failures = 0;
	ret = 0;
out:
	free(k);
	return ret;
}

bool rconn_backoff(struct rconn *rc)
{
	unsigned ms = BACKOFF_MIN_MS, jitter;

	for (unsigned i = 0; i < rc->failures && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	if (getrandom(&jitter, sizeof(jitter), 0) != sizeof(jitter))
		jitter = 0;
	ms = ms / 2 + jitter % (ms / 2 + 1);	/* 50..100 % */
	rc->failures++;
	return sleep_ms(ms);
}

void cmd_init(struct cmd *k)
{
	k->argc = 0;
	k->nnums = 0;
}

void cmd_arg(struct cmd *k, const void *p, size_t len)
{
	if (k->argc >= CMD_ARGS_MAX)
		abort();	/* a bug: commands are sized by BRIDGE_BATCH_MAX */
	k->argv[k->argc] = p;
	k->len[k->argc++] = len;
}

void cmd_str(struct cmd *k, const char *s)
{
	cmd_arg(k, s, strlen(s));
}

void cmd_u64(struct cmd *k, uint64_t v)
{
	char *num;

	if (k->nnums >= (int)(sizeof(k->nums) / sizeof(k->nums[0])))
		abort();
	num = k->nums[k->nnums++];
	snprintf(num, sizeof(k->nums[0]), "%llu", (unsigned long long)v);
	cmd_str(k, num);
}

bool rconn_append(struct rconn *rc, struct cmd *k)
{
	if (!rc->c)
		return false;
	if (redisAppendCommandArgv(rc->c, k->argc, k->argv, k->len) != REDIS_OK) {
		lost(rc, "out of memory");
		return false;
	}
	return true;
}

redisReply *rconn_reply(struct rconn *rc)
{
	void *reply = NULL;

	if (!rc->c)
		return NULL;
	if (redisGetReply(rc->c, &reply) != REDIS_OK || !reply) {
		char why[200];

		snprintf(why, sizeof(why), "%s",
			 rc->c->err == REDIS_ERR_EOF ? "connection closed by the server" :
			 rc->c->errstr[0] ? rc->c->errstr : "connection lost");
		lost(rc, why);
		return NULL;
	}
	if (transient(reply)) {
		char why[200];

		snprintf(why, sizeof(why), "%s", ((redisReply *)reply)->str);
		freeReplyObject(reply);
		lost(rc, why);
		return NULL;
	}
	return reply;
}

redisReply *rconn_call(struct rconn *rc, struct cmd *k)
{
	if (!rconn_append(rc, k))
		return NULL;
	return rconn_reply(rc);
}

bool reply_is_error(const redisReply *r, const char *code)
{
	size_t n = strlen(code);

	return r && r->type == REDIS_REPLY_ERROR && r->str &&
	       !strncmp(r->str, code, n) && (r->str[n] == ' ' || !r->str[n]);
}

const redisReply *reply_field(const redisReply *r, const char *key)
{
	if (!r || r->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i];

		if ((k->type == REDIS_REPLY_STRING || k->type == REDIS_REPLY_STATUS) &&
		    !strcmp(k->str, key))
			return r->element[i + 1];
	}
	return NULL;
}

long long reply_int(const redisReply *r, long long dflt)
{
	if (!r)
		return dflt;
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING) {
		char *end;
		long long v = strtoll(r->str, &end, 10);

		return *end || end == r->str ? dflt : v;
	}
	return dflt;
}

int iob_init(struct iob *b, int args)
{
	/* An argument: its text ("$len\r\n", "\r\n") and its bytes. */
	b->cap = 2 * args + 1;
	b->size = 32 * (size_t)args + 4096;
	b->iov = calloc(b->cap, sizeof(*b->iov));
	b->text = malloc(b->size);
	iob_reset(b);
	return b->iov && b->text ? 0 : -1;
}

void iob_free(struct iob *b)
{
	free(b->iov);
	free(b->text);
	b->iov = NULL;
	b->text = NULL;
}

void iob_reset(struct iob *b)
{
	b->n = 0;
	b->used = 0;
	b->overflow = false;
}

static void iob_add(struct iob *b, const void *p, size_t len)
{
	if (b->n >= b->cap) {
		b->overflow = true;
		return;
	}
	b->iov[b->n].iov_base = (void *)p;
	b->iov[b->n++].iov_len = len;
}

/* Text, joined to the previous iovec when that is the text just before. */
static void iob_text(struct iob *b, const char *fmt, ...)
{
	char *at = b->text + b->used;
	size_t room = b->size - b->used;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(at, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		b->overflow = true;
		return;
	}
	b->used += n;
	if (b->n && (char *)b->iov[b->n - 1].iov_base + b->iov[b->n - 1].iov_len == at)
		b->iov[b->n - 1].iov_len += n;
	else
		iob_add(b, at, n);
}

void iob_array(struct iob *b, unsigned argc)
{
	iob_text(b, "*%u\r\n", argc);
}

void iob_bulk(struct iob *b, const void *p, size_t len)
{
	iob_text(b, "$%zu\r\n", len);
	if (len)
		iob_add(b, p, len);
	iob_text(b, "\r\n");
}

void iob_str(struct iob *b, const char *s)
{
	size_t len = strlen(s);

	iob_text(b, "$%zu\r\n%s\r\n", len, s);
}

bool rconn_writev(struct rconn *rc, struct iob *b)
{
	struct iovec *iov = b->iov;
	int left = b->n;

	if (!rc->c)
		return false;
	if (b->overflow || rc->c->obuf[0]) {
		/* A bug: a command too large for iob, or a pipeline not empty. */
		lost(rc, "internal error: rconn_writev");
		return false;
	}
	while (left > 0) {
		ssize_t n = writev(rc->c->fd, iov, left < IOV_MAX ? left : IOV_MAX);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			char why[160];

			snprintf(why, sizeof(why), "%s", errno == EAGAIN ?
				 "write timed out" : strerror(errno));
			lost(rc, why);
			return false;
		}
		while (left > 0 && (size_t)n >= iov->iov_len) {
			n -= iov->iov_len;
			iov++;
			left--;
		}
		if (left > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= n;
		}
	}
	return true;
}
