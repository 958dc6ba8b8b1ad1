/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gochan-bridge internals: named kernel channels bridged to Redis Streams.
 *
 * Glossary
 * --------
 *  mapping   one line of the configuration: a local named channel, a Redis
 *            stream and a direction.  Each mapping has a thread of its own
 *            and a Redis connection of its own (worker.c).
 *  out       channel -> stream: receive from the local channel, XADD (out.c).
 *  in        stream -> channel: XREADGROUP in the mapping's consumer group,
 *            send into the local channel, XACK once the send returned (in.c).
 *  group     the Redis consumer group every host's in-mappings of a stream
 *            share: each entry goes to one consumer, as each value of a Go
 *            channel goes to one receiver.
 *  consumer  this bridge's name in the group: "<name>/<channel>" (name
 *            defaults to the host name), stable across restarts so that a
 *            restarted bridge takes up its own pending entries at once.
 *  PEL       a group's pending-entries list: entries delivered to a
 *            consumer and not yet XACKed.  An entry the bridge holds is in
 *            the PEL under its consumer; a bridge that dies leaves its
 *            entries there, and the others XAUTOCLAIM them once they have
 *            been idle for claim_idle.
 *  held      (in) entries read or claimed, not yet sent locally.
 *  unacked   (in) entries sent locally whose XACK has not been confirmed.
 *  meta key  "<stream>:gochan-meta", a hash beside the stream: elem_size,
 *            format, and each out-mapping's batch marker (below).
 *  marker    (out) "out:<consumer>" in the meta key = "<instance>:<seq>" of
 *            the last batch added.  A batch is added by a script that
 *            checks and moves the marker atomically, so a batch whose reply
 *            was lost can be sent again: it is added exactly once.
 *  spool     (out, optional) a file holding the batch between the local
 *            receive and Redis's reply, so that a bridge killed there loses
 *            nothing: the next start adds it (or finds it added).
 *
 * Entry format (format 1): one field "v" holding the element's elem_size
 * bytes (binary-safe; empty for a signal channel).
 *
 * Invariants, for an in-mapping, between two of its Redis round trips:
 *   every id in held[next..nheld) and in unacked[0..nunacked) is in the
 *   group's PEL under our consumer, unless another bridge claimed it after
 *   ours lost Redis for longer than claim_idle (then the heartbeat finds
 *   it gone and drops it, and only a value already sent can be a duplicate);
 *   held and unacked are disjoint: an id moves from held to unacked when
 *   gochan_send() returns 0, and leaves unacked when XACK's reply arrives;
 *   nothing is read from the stream while unacked is not empty after a
 *   failed XACK (it is retried first, on the next connection).
 *
 * For an out-mapping:
 *   values received from the channel and not yet confirmed by Redis are in
 *   vals[0..n) (and in the spool file when there is one), with marker
 *   "<inst>:<seq>"; the marker in Redis is that one (they were added) or
 *   the previous batch's (they were not).
 *
 * Threads: main (options, start-up checks, signals, the periodic stats
 * line) and one worker per mapping.  Workers share only their mapping's
 * counters (atomics, read by main) and the stop flag.
 */
#ifndef GOCHAN_BRIDGE_H
#define GOCHAN_BRIDGE_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/uio.h>

#include <hiredis/hiredis.h>

#include <gochan/kchan.h>

#define BRIDGE_NAME		"gochan-bridge"
#define BRIDGE_FORMAT		1		/* entry format, in the meta key */
#define BRIDGE_META_SUFFIX	":gochan-meta"
#define BRIDGE_ID_MAX		48		/* "<u64>-<u64>" and a NUL */
#define BRIDGE_BATCH_MAX	4096

/* Exit statuses. */
enum {
	EXIT_OK		= 0,
	EXIT_FAIL	= 1,	/* a start-up check failed, or a mapping */
	EXIT_USAGE	= 2,
};

enum dir { DIR_OUT, DIR_IN };

/*
 * struct counters - what a mapping did, for the stats line.  Written by the
 * mapping's worker only, read by main: relaxed atomics.
 */
struct counters {
	atomic_uint_fast64_t	values;		/* out: added; in: sent locally */
	atomic_uint_fast64_t	batches;	/* round trips that moved values */
	atomic_uint_fast64_t	acked;		/* in: XACKed */
	atomic_uint_fast64_t	claimed;	/* in: taken over by XAUTOCLAIM */
	atomic_uint_fast64_t	resent;		/* out: batches re-added after a reconnect */
	atomic_uint_fast64_t	bad;		/* in: entries of another size, skipped */
	atomic_uint_fast64_t	reconnects;
	atomic_int_fast64_t	held;		/* in: held + unacked; out: in batch */
	atomic_int_fast64_t	pending;	/* the group's PEL size, -1 unknown */
	atomic_int_fast64_t	lag;		/* entries not yet read by the group */
	atomic_int_fast64_t	length;		/* XLEN, -1 unknown */
	atomic_bool		up;		/* connected to Redis */
};

/*
 * struct mapping - one configuration line.  The fields above "derived" are
 * set by the parser and constant afterwards; fd and elem_size by
 * mapping_open() before the worker starts.
 */
struct mapping {
	enum dir	dir;
	char		chan[GOCHAN_NAME_MAX];
	char		*stream;
	char		*group;
	unsigned	batch;		/* values per round trip at most */
	unsigned	prefetch;	/* in: entries read beyond what the channel takes */
	uint64_t	capacity;	/* out: undelivered entries at most, 0 = no cap */
	char		*spool;		/* out: spool file, or NULL */
	char		*where;		/* "file:line" or "--map", for messages */
	/* derived */
	char		*meta_key;	/* stream + BRIDGE_META_SUFFIX */
	char		*consumer;	/* "<name>/<chan>" */
	char		*marker_field;	/* out: "out:<consumer>" */
	int		fd;		/* the local channel, -1 until opened */
	uint32_t	elem_size;
	struct counters	ctr;
	int		status;		/* the worker's result: 0 or EXIT_FAIL */
	pthread_t	thread;
};

/*
 * struct config - the options (file lines and flags, see config.c).  Set
 * before any worker starts, read-only afterwards.
 */
struct config {
	char		*redis;		/* unix:PATH, tcp://HOST:PORT, HOST[:PORT] */
	char		*user;		/* ACL user, or NULL for "default" */
	char		*password_file;
	char		*password;	/* the file's first line */
	bool		tls;
	char		*tls_ca;	/* CA bundle file */
	char		*tls_ca_dir;
	char		*tls_cert;	/* client certificate (mutual TLS) */
	char		*tls_key;
	char		*tls_server_name; /* SNI and the name checked (default: host) */
	char		*name;		/* this bridge; default the host name */
	char		*group;		/* default group of mappings */
	unsigned	batch;		/* default batch of mappings */
	unsigned	claim_idle_ms;	/* XAUTOCLAIM entries idle this long */
	unsigned	timeout_ms;	/* Redis connect and reply timeout */
	unsigned	stats_interval;	/* seconds between stats lines, 0 = none */
	bool		keep;		/* do not trim consumed entries */
	bool		verbose;
	struct mapping	*maps;
	unsigned	nmaps;
};

/* main.c */
extern struct config cfg;
extern atomic_bool stopping;	/* SIGTERM / SIGINT: finish and exit */

/* log.c: "gochan-bridge: ..." lines on stderr. */
void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void logmap(const struct mapping *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void debugmap(const struct mapping *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int64_t now_ms(void);
/* Sleep @ms, in slices, returning early (true) once stopping is set. */
bool sleep_ms(unsigned ms);

/* config.c */
void config_defaults(struct config *c);
/* Apply "KEY VALUE" (a file line or a flag); returns 0 or -1 after a message. */
int config_set(struct config *c, const char *key, const char *value,
	       const char *where);
int config_file(struct config *c, const char *path);
/* Check the whole configuration, derive the mappings' fields. */
int config_finish(struct config *c);
const char *dir_name(enum dir d);

/*
 * redis.c: a connection with its address, authentication, TLS and backoff.
 */
struct rconn {
	redisContext	*c;		/* NULL while disconnected */
	unsigned	failures;	/* consecutive failed connects */
	struct tls_link	*tls;		/* the TLS relay, or NULL */
	char		err[256];	/* the last error, for messages */
};

/* rconn_open's results besides 0: */
#define RCONN_RETRY	(-1)	/* transient (refused, timeout, reset): retry */
#define RCONN_FATAL	(-2)	/* authentication, TLS verification, address */

int rconn_open(struct rconn *rc);
void rconn_close(struct rconn *rc);
/* Wait before the next connect: 50 ms doubling to 5 s, with jitter. */
bool rconn_backoff(struct rconn *rc);
/*
 * The longest BLOCK of a command: the reply timeout is cfg.timeout_ms more
 * than this, so a blocked XREADGROUP never times out, a dead server does.
 */
#define RCONN_BLOCK_MAX_MS	1000

/*
 * struct cmd - a command's arguments, built without formatting: binary-safe
 * values are passed by pointer and length.  Numbers are formatted into
 * nums[].
 */
#define CMD_ARGS_MAX	(16 + BRIDGE_BATCH_MAX)
struct cmd {
	int		argc;
	const char	*argv[CMD_ARGS_MAX];
	size_t		len[CMD_ARGS_MAX];
	char		nums[8][24];
	int		nnums;
};

void cmd_init(struct cmd *k);
void cmd_arg(struct cmd *k, const void *p, size_t len);
void cmd_str(struct cmd *k, const char *s);
void cmd_u64(struct cmd *k, uint64_t v);

/*
 * struct iob - a command in RESP, as iovecs, for values too large to copy:
 * the values stay where they are, the text around them is formatted into
 * text[].  rconn_writev() sends it with writev(2), without hiredis's copy
 * (hiredis formats every argument into its output buffer, then writes).
 */
struct iob {
	struct iovec	*iov;
	int		n, cap;
	char		*text;
	size_t		used, size;
	bool		overflow;
};

/* For commands of up to @args arguments. */
int iob_init(struct iob *b, int args);
void iob_free(struct iob *b);
void iob_reset(struct iob *b);
/* "*argc\r\n": a command's header. */
void iob_array(struct iob *b, unsigned argc);
/* One argument, "$len\r\n<bytes>\r\n"; @p is referenced, not copied. */
void iob_bulk(struct iob *b, const void *p, size_t len);
void iob_str(struct iob *b, const char *s);
/*
 * Send @b.  The pipeline must be empty (nothing appended with rconn_append
 * and not yet sent); read the replies with rconn_reply().  False (and the
 * connection closed) on error.
 */
bool rconn_writev(struct rconn *rc, struct iob *b);

/* Append to the pipeline; false (and the connection closed) on error. */
bool rconn_append(struct rconn *rc, struct cmd *k);
/* The next reply of the pipeline, or NULL (connection lost, now closed). */
redisReply *rconn_reply(struct rconn *rc);
/* rconn_append + rconn_reply. */
redisReply *rconn_call(struct rconn *rc, struct cmd *k);
/* A reply that is an error starting with @code ("BUSYGROUP", "NOAUTH" ...). */
bool reply_is_error(const redisReply *r, const char *code);
/* The value of field @key in a flat [key, value, ...] array, or NULL. */
const redisReply *reply_field(const redisReply *r, const char *key);
long long reply_int(const redisReply *r, long long dflt);

/*
 * stream.c: what both directions do with a stream.
 */
/* stream_prepare's results besides 0: */
#define PREP_RETRY	(-1)	/* the connection failed: reconnect, retry */
#define PREP_FATAL	(-2)	/* a mismatch or a refusal: the mapping ends */
int stream_prepare(struct rconn *rc, struct mapping *m);
/*
 * Connect and prepare the stream, with the messages: 0 connected, 1 retry
 * after rconn_backoff(), -1 the mapping cannot go on (told why).
 * @retrying says whether a message about the loss was given already.
 */
int stream_connect(struct rconn *rc, struct mapping *m, bool *retrying);
/* The connection was lost: say so once, count it. */
void stream_lost(struct rconn *rc, struct mapping *m, bool *retrying);
/* XINFO GROUPS and XLEN into m->ctr; false if the connection failed. */
bool stream_observe(struct rconn *rc, struct mapping *m);
/* XTRIM MINID up to what every group consumed; false if the connection failed. */
bool stream_trim(struct rconn *rc, struct mapping *m);
/* --stats: print the stream's, groups' and consumers' state. */
int stream_report(struct rconn *rc, struct mapping *m);

/* main.c */
int mapping_open(struct mapping *m);

/* out.c, in.c: a worker's loop; returns 0 or EXIT_FAIL. */
int out_run(struct mapping *m);
int in_run(struct mapping *m);

/* tls.c */
struct tls_link;
/* Connect TLS to host:port, returning a socket hiredis can use; -1 with rc->err. */
int tls_connect(struct rconn *rc, const char *host, int port, bool *fatal);
void tls_close(struct tls_link *t);

#endif /* GOCHAN_BRIDGE_H */
